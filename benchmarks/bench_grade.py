"""Benchmark grading: `conv-course grade` against plain nbgrader (run with `make bench`).

The same generated submissions of one assignment (a mix of correct answers and
every misconception of tests/test_nbgrader_end_to_end.py) are graded three
ways in one run, one after the other:

  nbgrader      plain `nbgrader autograde ASSIGNMENT --student ID`, one process
                per student in turn, as nbgrader's docs show; no sandbox, no
                independent check, no feedback
  --jobs 1      `conv-course grade`: one long-lived worker; every kernel in the
                sandbox, every submission checked again in a second sandboxed
                process, and the feedback pages made
  --jobs 2      the same with two workers
  --no-feedback --jobs 2 without the feedback pages: the same work as plain
                nbgrader's autograde, plus the sandbox and the independent check
  --cluster local:2
                the --jobs 2 work on Dask's distributed scheduler (a LocalCluster
                of 2 worker processes started by the run): the submissions and
                the results, feedback pages included, travel through Dask;
                it alternates with --jobs 2, twice each, and the faster run of
                each is shown

Then, for the scaling estimate of a large course, Dask's own cost per task on a
LocalCluster of 2 workers: tasks that carry a submission-sized payload (the
median staged notebook of the run) and bring back a result of the size of a
graded one, done one at a time (latency) and many at once (throughput).

With --before REF (a git commit, tag or branch), the --jobs 2 run is also made
with the code of REF, from a clone of it set up with its own .venv (`make
setup` there: the old code grades with its own conv_lib, as it did then), on
the same submissions just before the others: the code before a change and
after it, side by side in one run.

Printed: wall seconds for the whole run, seconds per submission, seconds per
submission per core (wall x jobs / submissions), and the speed-up over plain
nbgrader. Each conv-course run starts from an empty course folder, so it pays
for registering the assignment and starting its workers. Then where the time
of one submission goes, stage by stage (stage_times.STAGES, from each run's
OUT/run.json): the median seconds of each stage with one worker (--jobs 1,
one process at a time) and with two (--jobs 2, the faster run).
"""

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from autograder.release import SOLUTIONS, release, run_nbgrader  # noqa: E402
from autograder.stage_times import stage_order  # noqa: E402
from submission_set import generated_submissions  # noqa: E402


def course_flags(root):
    """nbgrader flags that keep the plain run's whole course in root."""
    return [
        f"--CourseDirectory.root={root}",
        "--CourseDirectory.source_directory=source",
        "--CourseDirectory.submitted_directory=submitted",
        "--CourseDirectory.autograded_directory=autograded",
        "--CourseDirectory.feedback_directory=feedback",
        f"--CourseDirectory.db_url=sqlite:///{root / 'gradebook.db'}",
    ]


def plain_nbgrader(submissions, assignment, root):
    """Seconds for plain nbgrader, one `autograde --student` process per student."""
    root.mkdir()
    (root / "source").symlink_to(SOLUTIONS)
    release(SOLUTIONS, root / "release", [assignment], gradebook=root / "gradebook.db")
    shutil.copytree(submissions, root / "submitted")
    students = sorted(p.name for p in (root / "submitted").iterdir())
    start = time.perf_counter()
    for student in students:
        run_nbgrader("autograde", assignment, "--student", student, *course_flags(root), cwd=root)
    return time.perf_counter() - start


def conv_course(submissions, root, *flags, code=REPO):
    """Seconds for `conv-course grade FLAGS` with the course code of the folder `code` (a checkout set up
    with its own .venv), and its grades.csv rows."""
    python = sys.executable if code == REPO else str(code / ".venv" / "bin" / "python")
    start = time.perf_counter()
    subprocess.run(
        [python, "-m", "autograder.cli", "grade", str(submissions), "--out", str(root / "out"),
         "--course", str(root / "course"), "--quiet", *flags],
        check=True, cwd=code, stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    with open(root / "out" / "grades.csv", newline="") as handle:
        return seconds, list(csv.DictReader(handle))


def stage_medians(out):
    """{stage: median seconds per submission} of the run that wrote OUT/run.json ({} for code without stages)."""
    try:
        stages = json.loads((out / "run.json").read_text(encoding="utf-8")).get("stages") or {}
    except (OSError, ValueError):
        return {}
    return {stage: entry["median"] for stage, entry in stages.items()}


def breakdown_table(columns):
    """Lines of a table: one row per stage, one column per run ({name: stage_medians(...)})."""
    stages = sorted({stage for medians in columns.values() for stage in medians}, key=stage_order)
    lines = [f"{'median s per submission':28}" + "".join(f"{name:>16}" for name in columns)]
    for stage in stages:
        lines.append(f"  {stage:26}" + "".join(
            f"{medians[stage]:16.3f}" if stage in medians else f"{'-':>16}" for medians in columns.values()))
    lines.append(f"  {'sum':26}" + "".join(f"{sum(medians.values()):16.3f}" for medians in columns.values()))
    return lines


def checkout_of(ref, folder):
    """A clone of the repository at the commit ref names, in folder, set up with its own .venv. (A git
    worktree sharing this .venv does not do: the sandbox imports conv_lib through the editable install
    of this checkout, and the old code then grades every submission 0.)"""
    commit = subprocess.run(["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout.strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(REPO), str(folder)], check=True)
    subprocess.run(["git", "checkout", "--quiet", "--detach", commit], cwd=folder, check=True)
    print(f"setting up the code of {ref} ({commit[:12]}) in its own .venv ...", flush=True)
    done = subprocess.run(["make", "setup"], cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"`make setup` failed for the code of {ref}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return folder


def class_report_seconds(out):
    """Seconds for `conv-course report OUT` (the class report an instructor asks for again), in a process of its own."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder.cli", "report", str(out)], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def dask_task_overhead(payload_bytes, result_bytes, count=200):
    """(seconds per task one at a time, seconds per task 2 workers busy) of Dask alone."""
    from distributed import Client, LocalCluster

    payload = os.urandom(payload_bytes)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster, Client(cluster) as client:
        client.submit(bytes, result_bytes, pure=False).result()  # warm up
        start = time.perf_counter()
        for _ in range(count // 4):
            client.submit(echo_size, payload, result_bytes, pure=False).result()
        latency = (time.perf_counter() - start) / (count // 4)
        start = time.perf_counter()
        client.gather([client.submit(echo_size, payload, result_bytes, pure=False) for _ in range(count)])
        throughput = (time.perf_counter() - start) / count
    return latency, throughput


def echo_size(payload, result_bytes):
    """A task that receives a submission and returns a result of a graded one's size."""
    return bytes(result_bytes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="03_many_filters")
    parser.add_argument("--count", type=int, default=40, help="submissions (default 40)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="runs each of --jobs 2 and --cluster local:2, alternated (default 2)")
    parser.add_argument("--dask-tasks", type=int, default=200, help="tasks timed for Dask's own cost (default 200)")
    parser.add_argument("--before", metavar="REF", default="",
                        help="also grade --jobs 2 with the code of this git commit (its own clone and .venv), side by side")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-grade-") as folder:
        folder = Path(folder)
        os.chmod(folder, 0o755)
        generated_submissions(folder / "submissions", arguments.count, arguments.assignment)
        print(f"Grading {arguments.count} submissions of {arguments.assignment} on {platform.node()} "
              f"({os.cpu_count()} cores, Python {platform.python_version()})")
        before = None
        if arguments.before:
            code = checkout_of(arguments.before, folder / "before-code")
            before, rows_before = conv_course(folder / "submissions", folder / "before", "--jobs", "2", code=code)
        plain = plain_nbgrader(folder / "submissions", arguments.assignment, folder / "plain")
        one, rows_one = conv_course(folder / "submissions", folder / "jobs1", "--jobs", "1")
        bare, rows_bare = conv_course(folder / "submissions", folder / "bare", "--jobs", "2", "--no-feedback")
        # --jobs 2 and --cluster local:2 alternate, twice each: this shared machine's
        # speed drifts by several percent over minutes, more than the difference sought.
        twos, spreads = [], []
        for round_ in range(1, arguments.rounds + 1):
            seconds, rows_two = conv_course(folder / "submissions", folder / f"jobs2-{round_}", "--jobs", "2")
            twos.append(seconds)
            seconds, rows_spread = conv_course(folder / "submissions", folder / f"cluster-{round_}",
                                               "--cluster", "local:2")
            spreads.append(seconds)
        two, spread = min(twos), min(spreads)
        fastest_two = folder / f"jobs2-{twos.index(two) + 1}" / "out"
        breakdown = {"--jobs 1": stage_medians(folder / "jobs1" / "out"), "--jobs 2": stage_medians(fastest_two)}
        if before is not None:
            breakdown = {"before --jobs 2": stage_medians(folder / "before" / "out"), **breakdown}
        staged = sorted(len(p.read_bytes()) for p in (folder / "submissions").rglob("*.ipynb"))
        graded = sorted(len(p.read_bytes()) for p in (folder / "jobs2-1" / "course" / "autograded").rglob("*.ipynb"))
        pages = sorted(len(p.read_bytes()) for p in (folder / "jobs2-1" / "out" / "feedback").rglob("*.html"))
        report = class_report_seconds(folder / "jobs2-1" / "out")
    if not rows_one == rows_two == rows_bare == rows_spread:
        raise SystemExit("the conv-course runs gave different grades.csv")

    if before is not None and rows_before != rows_two:
        differ = sum(a != b for a, b in zip(rows_before, rows_two)) + abs(len(rows_before) - len(rows_two))
        print(f"the code of {arguments.before} graded {differ} row(s) of grades.csv differently: its time is left "
              "out, as it did not do the same work (check that code in its own checkout)")
        before = None

    count = arguments.count
    runs = [("plain nbgrader (sequential)", plain, 1), ("conv-course --jobs 1", one, 1),
            ("conv-course --jobs 2", two, 2), ("  --jobs 2 --no-feedback", bare, 2),
            ("conv-course --cluster local:2", spread, 2)]
    if before is not None:
        runs.insert(1, (f"before: {arguments.before[:12]} --jobs 2", before, 2))
    print(f"\n{'':28}{'wall s':>9}{'s/submission':>14}{'s/submission/core':>19}{'speed-up':>10}")
    for name, seconds, jobs in runs:
        print(f"{name:28}{seconds:9.1f}{seconds / count:14.2f}{seconds * jobs / count:19.2f}{plain / seconds:9.2f}x")
    print(f"Goals: --jobs 2 under 1.5 s per submission per core ({two * 2 / count:.2f} here) and at least 5x plain "
          f"nbgrader ({plain / two:.2f}x here); --cluster local:2 within 5% of --jobs 2 ({spread / two:.3f}x here).")
    print()
    print("\n".join(breakdown_table(breakdown)))
    if before is not None and not breakdown["before --jobs 2"]:
        print(f"(the code of {arguments.before} does not record stage times)")
    print("\nconv-course includes the sandbox and the independent check (and the feedback pages, "
          "unless --no-feedback); plain nbgrader has none of them.")
    pairs = ", ".join(f"--jobs 2 {a:.1f} s, --cluster {b:.1f} s ({b / a:.2f}x)" for a, b in zip(twos, spreads))
    print(f"--jobs 2 and --cluster local:2 alternated, the faster of {len(twos)} run(s) each above: {pairs}; "
          f"the cluster takes {spread / two:.3f}x the wall time of --jobs 2 ({(spread - two) / count:+.2f} s per submission)")

    print(f"The class report (report.html, part of each run above): {report:.2f} s for `conv-course report` in a "
          f"process of its own, imports included: {100 * report / two:.1f}% of the --jobs 2 run (goal: under 5%)")

    payload, result = staged[len(staged) // 2], graded[len(graded) // 2] + pages[len(pages) // 2]
    latency, throughput = dask_task_overhead(payload, result, arguments.dask_tasks)
    print(f"Dask alone, a task carrying {payload / 1e3:.0f} kB and bringing back {result / 1e3:.0f} kB "
          f"(the median submission; its graded notebook and feedback page): {latency * 1e3:.1f} ms one at a time, "
          f"{throughput * 1e3:.2f} ms per task with 2 workers busy")


if __name__ == "__main__":
    main()
