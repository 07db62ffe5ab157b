"""`conv-course grade --cluster ADDRESS`: the same grading on Dask's distributed scheduler.

    --cluster local:N              a LocalCluster of N worker processes on this machine
    --cluster tcp://HOST:8786      a running scheduler (`dask scheduler`, dask-jobqueue,
                                   dask-kubernetes, ...) and whatever workers it has

One Dask task grades one submission with the local grader's own code
(worker.Worker: nbgrader's autograde in a sandboxed kernel, then the
independent check) and also makes its feedback page. The submission's bytes
travel with the task and the result (grades, test messages, the autograded
notebook and the feedback page) travels back, so the workers need no shared
disk: only the same installation of this course (checked before the run) and
bubblewrap. The client alone writes the course gradebook and OUT, as in
local grading: grade.py calls this module's `run` as it calls local_pool.py's,
and `run` writes each page that comes back (or, for a submission that did
not run or whose page nbgrader could not make, the page saying why).

Each worker process gets, once, a copy of the course gradebook (a Dask worker
plugin, re-sent to a worker that restarts) and grades one submission at a time.
At most WINDOW_PER_WORKER tasks per worker wait at the scheduler, so the
client reads submissions from disk only as fast as they are graded.

When a worker dies in the middle of a task (killed, out of memory, its
machine gone), the scheduler runs the task again on another worker; a task
that was running on ALLOWED_FAILURES dying workers (for a remote scheduler: its
`distributed.scheduler.allowed-failures`, 3 by default) is reported as `error`.
A task whose grader raises is tried RETRIES more time(s), then is `error`.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

from . import confinement, sandbox, worker
from .course import CONFIG_FILE, SOLUTIONS, quiet_warnings

LOCAL_PREFIX = "local:"
RETRIES = 1
ALLOWED_FAILURES = 2
WINDOW_PER_WORKER = 4
CONNECT_TIMEOUT = "10s"
#: How long a worker's plugin, removed at the end of a run, waits for its set-up to end before tidying up.
STARTING_SECONDS = 30
#: Sandbox users of cluster workers: UID_BASE + SLOT_FIRST ... (local pools use sandbox.LOCAL_SLOTS before them).
SLOT_FIRST = sandbox.LOCAL_SLOTS.stop
SLOT_COUNT = 448


class ClusterError(RuntimeError):
    """The cluster cannot grade (no scheduler, no workers, a different course on a worker)."""


def missing_dask_message():
    return ("grading on a cluster needs Dask: pip install 'conv-channels[cluster]' "
            "(or pip install 'dask[distributed]') on this machine and on every worker")


#: Dask settings of --cluster local:N that make its own watching rarer. Idle, a LocalCluster of 2 workers
#: used 1.9 s of CPU in 20 s (5% of this 2-core machine) with the defaults, 0.6 s with these: the event
#: loops' tick, which only measures how late each loop runs, every 100 ms instead of 20; the system monitor
#: (for a dashboard there is not) every 2 s instead of 0.5; each worker's memory check every 1 s instead of
#: 0.1 (the sandbox's own cap holds a notebook's memory); the statistical profiler, which samples each
#: task's stack every 10 ms, off.
IDLE_WATCHING = {
    "distributed.admin.tick.interval": "100ms",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.worker.profile.enabled": False,
}


def connect(address):
    """(client, cluster) for --cluster ADDRESS; cluster is the LocalCluster made here, or None."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise ClusterError(missing_dask_message()) from error
    if address.startswith(LOCAL_PREFIX):
        count = address[len(LOCAL_PREFIX):]
        if not count.isdigit() or int(count) < 1:
            raise ClusterError(f"--cluster local:N needs a number of workers of at least 1, got {address!r}")
        # worker-saturation 1.0: the scheduler sends a worker its next submission only
        # when it is free, so a worker that dies takes only the submission it was
        # grading down with it (a submission waiting there would count as a suspect too).
        # Dask's own watching, which costs the cores the sandboxes grade on, is made rarer (IDLE_WATCHING).
        # No dashboard; the scheduler's small HTTP server (health, metrics) still starts, on a free port
        # of 127.0.0.1 rather than Dask's 8787, so two runs at once do not warn that the port is taken.
        with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                              "distributed.scheduler.worker-saturation": 1.0, **IDLE_WATCHING}):
            cluster = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True,
                                   dashboard_address=None, host="127.0.0.1",
                                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
        return Client(cluster), cluster
    try:
        return Client(address, timeout=CONNECT_TIMEOUT), None
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterError(f"no Dask scheduler answered at {address} ({error}); start one with "
                           f"`dask scheduler` and workers with `dask worker {address} --nthreads 1`, "
                           "or grade on this machine with --cluster local:N") from error


def course_fingerprints(assignments):
    """{assignment: sha256 of its nbgrader source notebook} in this installation."""
    return {name: hashlib.sha256((SOLUTIONS / name / f"{name}.ipynb").read_bytes()).hexdigest()
            for name in assignments}


def check_worker(expected):
    """Run on each worker before grading: '' when it can grade this course, else why not."""
    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as error:
        return str(error)
    try:
        found = course_fingerprints(expected)
    except OSError as error:
        return f"this course is not installed the same way here ({error})"
    differ = sorted(name for name in expected if found.get(name) != expected[name])
    if differ:
        return (f"its copy of the course differs from the client's ({', '.join(differ)}: "
                f"a different version of the notebooks in {SOLUTIONS})")
    return ""


def claim_slot():
    """A sandbox slot (a number for worker.Worker) no other grading process on
    this machine holds (sandbox.claim_slot). Returns (number, open lock file)."""
    number, handle = sandbox.claim_slot(range(SLOT_FIRST, SLOT_FIRST + SLOT_COUNT))
    if number is None:
        raise ClusterError(f"more than {SLOT_COUNT} grading workers on this machine")
    return number, handle


try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # without Dask, this module still imports (for the error message)
    WorkerPlugin = object


class GradingPlugin(WorkerPlugin):
    """What each Dask worker needs to grade: the settings and the course
    gradebook's bytes. The grading worker (worker.Worker: nbgrader takes
    seconds to start) is made as soon as the plugin reaches the worker, while
    the client is still sending tasks, and then serves every task, one at a time."""

    def __init__(self, settings, gradebook_bytes, expected):
        self.settings, self.gradebook_bytes, self.expected = settings, gradebook_bytes, expected

    def setup(self, worker=None):
        self.lock = threading.Lock()
        self.grader, self.folder, self.slot = None, None, None
        self.started = threading.Event()
        threading.Thread(target=self._start_early, name="conv-course-start", daemon=True).start()

    def _start_early(self):
        try:
            with self.lock:  # the first task waits for it
                try:
                    self.grading_worker()
                except Exception:  # noqa: BLE001 - the first task tries again and reports it
                    pass
        finally:
            self.started.set()

    def teardown(self, worker=None):
        # A run can end before this worker has finished setting up (a short run, a worker that joined
        # late): its folder, made meanwhile, and the scratch folder of its sandbox check would be left
        # behind in /tmp. So the set-up ends first, then everything it made is removed.
        self.started.wait(timeout=STARTING_SECONDS)
        if self.folder is not None:
            sandbox.remove_scratch(self.folder)
        if self.slot is not None:
            self.slot.close()

    def grading_worker(self):
        if self.grader is None:
            problem = check_worker(self.expected)  # a worker that joined after the run's first check
            if problem:
                raise ClusterError(f"this worker cannot grade this course: {problem}")
            number, self.slot = claim_slot()
            sandbox.precompile_course_code()  # this machine's copy of conv_lib
            self.folder = confinement.temporary_folder("cluster")
            os.chmod(self.folder, 0o755)
            gradebook = self.folder / "gradebook.db"
            gradebook.write_bytes(self.gradebook_bytes)
            # This machine's own installation of the course (check_worker made
            # sure its notebooks are the client's).
            settings = replace(self.settings, course_db=str(gradebook), solutions=str(SOLUTIONS),
                               config_file=str(CONFIG_FILE), work_root=str(self.folder))
            quiet_warnings()
            self.grader = worker.Worker(settings, number)
        return self.grader


def grade_on_worker(plugin_name, student_id, assignment, notebook_bytes, feedback):
    """The Dask task: grade one submission on this worker; returns Graded.to_dict(),
    with "feedback_page" and "feedback_problem" when feedback is asked for."""
    from distributed import get_worker

    plugin = get_worker().plugins[plugin_name]
    with plugin.lock:  # a worker started with several threads still grades one at a time
        grader = plugin.grading_worker()
        incoming = grader.root / "incoming" / f"{uuid.uuid4().hex}.ipynb"
        incoming.parent.mkdir(exist_ok=True)
        incoming.write_bytes(notebook_bytes)
        try:
            outcome = grader.grade(student_id, assignment, incoming).to_dict()
        finally:
            incoming.unlink(missing_ok=True)
        if feedback and outcome.get("notebook"):
            started = time.perf_counter()
            outcome["feedback_page"], outcome["feedback_problem"] = grader.feedback_from_own_gradebook(outcome)
            outcome["seconds"]["feedback page"] = round(time.perf_counter() - started, 4)
        return outcome


def run(where, settings, course_db, submissions, feedback, on_result, on_crash, bar, task=grade_on_worker,
        on_seconds=None):
    """Grade submissions ([submissions.Submission]) on the cluster at `where` (--cluster ADDRESS).

    settings: course.Settings; course_db: the course gradebook, whose bytes
    each worker gets once as its own. on_result(index, outcome) is called
    here as each result comes, and returns the results.Row it recorded;
    on_crash(index, message) gives the outcome of a submission that could
    not be graded (message says why). bar: a tqdm progress bar, updated as
    results come. feedback: course.FeedbackPages, or None (or False) for no
    pages. task: the function each Dask task runs (grade_on_worker; tests
    pass others). on_seconds: as local_pool.run's, never called here: a
    feedback page's seconds come in its result's "seconds".
    """
    client, cluster = connect(where)
    name = f"conv-course-{uuid.uuid4().hex[:12]}"
    try:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        if not client.scheduler_info().get("workers"):
            try:
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            except TimeoutError as error:
                raise ClusterError(f"the Dask scheduler at {where} has no workers: start some with "
                                   f"`dask worker {where} --nthreads 1`") from error
        expected = course_fingerprints(sorted({s.assignment for s in submissions}))
        problems = {at: why for at, why in client.run(check_worker, expected).items() if why}
        if problems:
            raise ClusterError("a worker cannot grade this course: "
                               + "; ".join(f"{at}: {why}" for at, why in sorted(problems.items())))
        client.register_plugin(GradingPlugin(settings, Path(course_db).read_bytes(), expected), name=name)

        pending = iter(enumerate(submissions))
        futures = {}
        window = WINDOW_PER_WORKER * max(len(client.scheduler_info().get("workers", {})), 1)

        def submit_next(queue):
            for index, submission in pending:
                future = client.submit(task, name, submission.student_id, submission.assignment,
                                       Path(submission.notebook).read_bytes(), bool(feedback),
                                       key=f"{name}-{index}", pure=False, retries=RETRIES)
                futures[future] = index
                queue.add(future)
                return

        queue = as_completed()
        for _ in range(window):
            submit_next(queue)
        for future in queue:
            index = futures.pop(future)
            try:
                outcome = future.result()
            except KilledWorker as error:
                outcome = on_crash(index, f"grading this submission stopped every grading worker it ran on ({error})"[:300])
            except Exception as error:  # a bug of the grader on this submission, after its retries
                outcome = on_crash(index, f"the grader failed on this submission: {error!r}"[:300])
            future.release()
            row = on_result(index, outcome)
            if feedback:  # the page came with the result; or it did not run, or nbgrader could not make its page
                feedback.write(row, outcome.get("feedback_page") or None, outcome.get("feedback_problem") or "")
            bar.update(1)
            submit_next(queue)
    finally:
        try:
            client.unregister_worker_plugin(name)
        except Exception:  # the plugin never got registered, or the scheduler is gone
            pass
        client.close()
        if cluster is not None:
            cluster.close()
