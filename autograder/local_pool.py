"""Grading on this machine: a pool of long-lived worker processes (worker.py).

One of the two ways to run the grading (the other is cluster.py, on Dask);
grade.py calls either's `run` the same way. Here each worker process has its
own number (hence its own sandbox user and gradebook) and grades one
submission at a time from this machine's disk. A worker process that dies is
replaced, and the submission it was grading is tried once more, alone.

The feedback page of a submission that ran is made by a worker too, as a
follow-up task queued among the remaining submissions: nbgrader's
generate_feedback reads the course gradebook, so the page is made only after
the client has recorded the result there.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from . import worker
from .course import progress_bar

CRASHED_TWICE = "grading this submission crashed the grading process twice"


def run(where, settings, course_db, submissions, feedback, on_result, on_crash, bar, task=worker.grade_task,
        on_seconds=None):
    """Grade submissions ([submissions.Submission]) on `where` worker processes of this machine.

    settings: course.Settings; course_db: the course gradebook, which each
    worker copies as its own. on_result(index, outcome) is called here as each
    result comes, and returns the results.Row it recorded; on_crash(index,
    message) gives the outcome of a submission that could not be graded
    (message says why). bar: a tqdm progress
    bar, updated as results come. feedback: course.FeedbackPages, or None for
    no pages. task: the function each worker task runs (worker.grade_task).
    on_seconds({stage: seconds}), if given, gets the seconds of the work a
    worker did apart from a result: each feedback page's (its result's own
    stages come in the result, outcome["seconds"]).
    """
    calls = [(task, (s.student_id, s.assignment, str(s.notebook))) for s in submissions]

    def then(index, outcome):
        # Recorded in the course gradebook first; then its feedback page is made by a worker, from there.
        row = on_result(index, outcome)
        if feedback:
            return feedback_call(feedback, row, bool(outcome.get("notebook")))
        return None

    def follow_up_done(result):
        if on_seconds is not None and isinstance(result, dict):
            on_seconds(result.get("seconds"))

    with WorkerPool(replace(settings, course_db=str(course_db)), where) as pool:
        pool.run(calls, on_crash=on_crash, then=then, bar=bar, follow_up_done=follow_up_done)


def feedback_call(feedback, row, ran):
    """The worker call that makes row's page (course.FeedbackPages) with
    nbgrader's generate_feedback when its notebook ran (within
    worker.FEEDBACK_SECONDS; a short page says what went wrong if nbgrader
    cannot make it, so a slow page fails alone); otherwise that page is
    written here and None returned."""
    if not ran:
        feedback.write(row)
        return None
    target = feedback.page(row.student_id, row.assignment)
    return (worker.feedback_task, (feedback.course.nbgrader_paths(), row, str(target)))


class WorkerPool:
    """Long-lived grading workers (worker.Worker), each with its own number
    (hence its own sandbox user and gradebook). A worker process that dies
    is replaced; the task it was running is tried once more."""

    def __init__(self, settings, jobs, initializer=worker.start_worker):
        self.settings, self.jobs = settings, max(1, jobs)
        self.initializer = initializer
        self.context = multiprocessing.get_context("spawn")
        self.executor = None

    def __enter__(self):
        self._start()
        return self

    def __exit__(self, *exc):
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def _start(self):
        numbers = self.context.Queue()
        for number in range(self.jobs):
            numbers.put(number)
        self.executor = ProcessPoolExecutor(self.jobs, mp_context=self.context,
                                            initializer=self.initializer, initargs=(self.settings, numbers))

    def run(self, calls, label="", progress=False, on_crash=None, then=None, bar=None, follow_up_done=None):
        """Run [(function, args)] on the workers; returns the results in order.

        At most one task per worker is in flight, so when a worker process
        dies the suspects are the few tasks then running. Each suspect is then
        run again alone: one that kills its worker a second time gets
        on_crash(index, CRASHED_TWICE) as its result (without on_crash, the
        error is raised); the others finish normally. A task that raises gets
        on_crash(index, "the grader failed on this submission: <error>").

        then(index, result), if given, is called here as each result comes
        and may return a follow-up call (function, args) for the workers,
        which runs among the remaining tasks; a follow-up's result is not
        returned but given to follow_up_done(result), if given, and a
        follow-up that fails is dropped (it must leave its own trace, as the
        feedback pages do).

        The progress bar counts the calls (not the follow-ups): bar, if
        given (its owner closes it), else one of its own, labelled label,
        shown when progress is true.
        """
        calls = list(calls)
        count = len(calls)
        done = {}
        queue, suspects = deque(range(count)), deque()
        own_bar = bar is None
        if own_bar:
            bar = progress_bar(count, label, progress)

        def finish(index, result):
            done[index] = result
            if index >= count:
                if follow_up_done is not None and result is not None:
                    follow_up_done(result)
                return
            bar.update(1)
            follow_up = then(index, result) if then is not None else None
            if follow_up is not None:
                calls.append(follow_up)
                queue.append(len(calls) - 1)

        def failed(index, result):
            finish(index, None if index >= count or on_crash is None else result())

        while queue or suspects:
            alone = bool(suspects)
            batch = deque([suspects.popleft()]) if alone else queue
            in_flight = {}
            try:
                while batch or in_flight:
                    while batch and len(in_flight) < self.jobs:
                        index = batch.popleft()
                        try:
                            future = self.executor.submit(calls[index][0], *calls[index][1])
                        except BrokenProcessPool:  # a worker died since the last result: not this task's doing
                            batch.appendleft(index)
                            raise
                        in_flight[future] = index
                    finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in finished:
                        index = in_flight.pop(future)
                        try:
                            result = future.result()
                        except BrokenProcessPool:
                            in_flight[future] = index
                            raise
                        except Exception as error:  # a bug of the grader on this task
                            if on_crash is None and index < count:
                                raise
                            failed(index, lambda i=index, e=error: on_crash(
                                i, f"the grader failed on this submission: {e!r}"[:300]))
                            continue
                        finish(index, result)
            except BrokenProcessPool:
                if alone:
                    suspects.extendleft(batch)  # not submitted yet: it waits for its turn again
                self.executor.shutdown(wait=False, cancel_futures=True)
                self._start()
                for index in in_flight.values():
                    if not alone:
                        suspects.append(index)  # it was running when a worker died
                    elif on_crash is None and index < count:
                        raise
                    else:  # alone, it killed its worker again: it is the culprit
                        failed(index, lambda i=index: on_crash(i, CRASHED_TWICE))
        if own_bar:
            bar.close()
        return [done[i] for i in range(count)]
