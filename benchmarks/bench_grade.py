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

Printed: wall seconds for the whole run, seconds per submission, seconds per
submission per core (wall x jobs / submissions), and the speed-up over plain
nbgrader. Each conv-course run starts from an empty course folder, so it pays
for registering the assignment and starting its workers.
"""

import argparse
import csv
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


def conv_course(submissions, jobs, root, *flags):
    """Seconds for `conv-course grade --jobs N [FLAGS]`, and its grades.csv rows."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "autograder.cli", "grade", str(submissions), "--out", str(root / "out"),
         "--course", str(root / "course"), "--jobs", str(jobs), "--quiet", *flags],
        check=True, cwd=REPO, stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    with open(root / "out" / "grades.csv", newline="") as handle:
        return seconds, list(csv.DictReader(handle))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="03_many_filters")
    parser.add_argument("--count", type=int, default=40, help="submissions (default 40)")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-grade-") as folder:
        folder = Path(folder)
        os.chmod(folder, 0o755)
        generated_submissions(folder / "submissions", arguments.count, arguments.assignment)
        print(f"Grading {arguments.count} submissions of {arguments.assignment} on {platform.node()} "
              f"({os.cpu_count()} cores, Python {platform.python_version()})")
        plain = plain_nbgrader(folder / "submissions", arguments.assignment, folder / "plain")
        one, rows_one = conv_course(folder / "submissions", 1, folder / "jobs1")
        two, rows_two = conv_course(folder / "submissions", 2, folder / "jobs2")
        bare, rows_bare = conv_course(folder / "submissions", 2, folder / "bare", "--no-feedback")
    if not rows_one == rows_two == rows_bare:
        raise SystemExit("the conv-course runs gave different grades.csv")

    count = arguments.count
    print(f"\n{'':28}{'wall s':>9}{'s/submission':>14}{'s/submission/core':>19}{'speed-up':>10}")
    for name, seconds, jobs in (("plain nbgrader (sequential)", plain, 1),
                                ("conv-course --jobs 1", one, 1), ("conv-course --jobs 2", two, 2),
                                ("  --jobs 2 --no-feedback", bare, 2)):
        print(f"{name:28}{seconds:9.1f}{seconds / count:14.2f}{seconds * jobs / count:19.2f}{plain / seconds:9.2f}x")
    print("\nconv-course includes the sandbox and the independent check (and the feedback pages, "
          "unless --no-feedback); plain nbgrader has none of them.")


if __name__ == "__main__":
    main()
