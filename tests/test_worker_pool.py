"""A grading worker that dies takes nothing else with it.

autograder.local_pool.WorkerPool runs the grading tasks in long-lived worker
processes. Here the tasks are tiny stand-ins: one of them kills its worker
process (as a crash of nbgrader or of the machine's memory would). The pool
starts new workers, every other task still gets its result, and the task
that killed its worker twice gets the `on_crash` result instead of stopping
the run.
"""

import os

from autograder.local_pool import WorkerPool

_number = None


def remember_number(settings, numbers):
    """Initializer: each worker takes its own number, as the real workers do."""
    global _number
    _number = numbers.get()


def square_or_die(value):
    if value == "die":
        os._exit(3)
    return value * value


def worker_number(_):
    return _number


def test_a_task_that_kills_its_worker_is_reported_and_the_others_finish():
    with WorkerPool(settings=None, jobs=2, initializer=remember_number) as pool:
        calls = [(square_or_die, (value,)) for value in (1, 2, "die", 3, 4, 5)]
        results = pool.run(calls, "test", progress=False,
                           on_crash=lambda index, message: {"crashed": calls[index][1][0]})
    assert results == [1, 4, {"crashed": "die"}, 9, 16, 25]


def test_each_worker_has_its_own_number():
    with WorkerPool(settings=None, jobs=2, initializer=remember_number) as pool:
        numbers = pool.run([(worker_number, (i,)) for i in range(20)], "test", progress=False)
    assert set(numbers) <= {0, 1}


def write_marker(path):
    open(path, "w").write("done")


def test_a_result_can_queue_a_follow_up_call_among_the_remaining_tasks(tmp_path):
    seen = []

    def then(index, result):
        seen.append((index, result))
        return (write_marker, (str(tmp_path / f"after-{index}"),)) if result % 2 else None

    with WorkerPool(settings=None, jobs=2, initializer=remember_number) as pool:
        results = pool.run([(square_or_die, (value,)) for value in range(5)], "test", progress=False, then=then)
    assert results == [0, 1, 4, 9, 16]
    assert sorted(seen) == [(0, 0), (1, 1), (2, 4), (3, 9), (4, 16)]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["after-1", "after-3"]


class PoolThatBreaksOnceAtSubmit(WorkerPool):
    """As a pool whose worker died between one result and the next task: its third submit finds the
    pool broken (concurrent.futures raises BrokenProcessPool there, not in a result)."""

    submits = 0

    def _start(self):
        super()._start()
        executor, pool = self.executor, self
        submit = executor.submit

        def submit_or_break(*args, **kwargs):
            pool.submits += 1
            if pool.submits == 3:
                from concurrent.futures.process import BrokenProcessPool

                raise BrokenProcessPool("a child process terminated abruptly")
            return submit(*args, **kwargs)

        executor.submit = submit_or_break


def test_a_pool_found_broken_when_a_task_is_handed_out_loses_no_task():
    with PoolThatBreaksOnceAtSubmit(settings=None, jobs=2, initializer=remember_number) as pool:
        results = pool.run([(square_or_die, (value,)) for value in range(6)], "test", progress=False,
                           on_crash=lambda index, message: {"crashed": index})
    assert results == [0, 1, 4, 9, 16, 25]
