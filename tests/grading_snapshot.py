"""Grade every submission set of the test suite and keep the CSVs, to compare two versions of the grader.

    python tests/grading_snapshot.py OUT             grade the sets; OUT/<set>/grades.csv and tests.csv
    python tests/grading_snapshot.py OUT --compare BEFORE
                                                     ... then say, row by row, where OUT differs from BEFORE

A change of shape (moving code between modules) must leave every grade and
every test message as it was. Run this script on a checkout of the version
before the change and on the version after, then compare: it exits 1 and
lists the rows that differ, or 0 when every row of every set is the same.

The sets, each graded by `conv-course grade` in its own course folder:

    hostile     tests/submission_set.py: the broken, endless, forging and
                escaping submissions of test_conv_course_grade.py (02_multi_channel)
    small       test_conv_course_grade.write_small_set (02 and 03, a damaged file)
    stack_vgg   notebooks 04 and 05, right and wrong (as in the sandbox test)
    wrong       every wrong submission of test_nbgrader_end_to_end.py, with a
                correct and a blank one, for every graded assignment
    generated   submission_set.generated_submissions (the benchmark's mix)

Needs bubblewrap, as grading does.
"""

from __future__ import annotations

import argparse
import csv
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from notebook_tools import REPO, SOLUTIONS, graded_assignments, with_sources  # noqa: E402
from submission_set import (  # noqa: E402
    correct,
    generated_submissions,
    nbgrader_path,
    notebook_text,
    write_submission_set,
)
from test_nbgrader_end_to_end import WRONG_SUBMISSIONS  # noqa: E402

#: Seconds per cell: the hostile set as test_conv_course_grade.py grades it (its endless loops stop
#: soon); the others with the default, so that a busy machine cannot turn a slow cell into a timeout.
TIMEOUT = {"hostile": 8}
DEFAULT_TIMEOUT = 60
CSV_FILES = ("grades.csv", "tests.csv")


def write_hostile(folder, scratch):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    write_submission_set(folder, [scratch / "ESCAPED_FROM_THE_SANDBOX"], port,
                         [SOLUTIONS / "02_multi_channel" / "02_multi_channel.ipynb"])


def write_small(folder, scratch):
    from test_conv_course_grade import write_small_set

    write_small_set(folder)


def write_stack_and_vgg(folder, scratch):
    for student, assignment, wrong in [
        ("ann", "04_conv_pool_stack", None),
        ("ann", "05_vgg16", None),
        ("ben", "04_conv_pool_stack", "conv_without_padding"),
        ("ben", "05_vgg16", "fc6_sees_512_inputs"),
    ]:
        notebook = correct(assignment)
        if wrong:
            notebook = with_sources(notebook, WRONG_SUBMISSIONS[assignment][wrong])
        write(nbgrader_path(folder, student, assignment), notebook)


def write_wrong(folder, scratch):
    import nbformat

    for assignment in graded_assignments(SOLUTIONS):
        released = nbformat.read(REPO / "notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
        write(nbgrader_path(folder, "blank", assignment), released)
        write(nbgrader_path(folder, "correct", assignment), correct(assignment))
        for student, sources in WRONG_SUBMISSIONS.get(assignment, {}).items():
            write(nbgrader_path(folder, student, assignment), with_sources(correct(assignment), sources))


def write_generated(folder, scratch):
    generated_submissions(folder, 12, "03_many_filters")


SETS = {"hostile": write_hostile, "small": write_small, "stack_vgg": write_stack_and_vgg, "wrong": write_wrong,
        "generated": write_generated}


def write(path, notebook):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_text(notebook), encoding="utf-8")


def grade_sets(out, names):
    out = Path(out).resolve()
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"snapshot-{name}-") as scratch:
            scratch = Path(scratch)
            SETS[name](scratch / "submissions", scratch)
            print(f"grading the {name} set ...", flush=True)
            run = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", scratch / "submissions",
                                  "--out", out / name, "--course", scratch / "course", "--timeout", str(TIMEOUT.get(name, DEFAULT_TIMEOUT)),
                                  "--jobs", "2", "--quiet"], cwd=REPO, capture_output=True, text=True)
            if run.returncode != 0:
                raise SystemExit(f"grading the {name} set failed:\n{run.stdout}\n{run.stderr}")


def rows_of(path, columns=None):
    """The lines of a CSV file; with `columns`, only those columns (a version may have added some: `late`)."""
    with open(path, newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    if columns is None or not lines:
        return lines
    keep = [lines[0].index(column) for column in columns]
    return [[line[i] for i in keep] for line in lines]


def shared_columns(now, then):
    """The columns both files have, in the order of `now`."""
    before = set(rows_of(then)[0]) if rows_of(then) else set()
    return [column for column in (rows_of(now) or [[]])[0] if column in before]


def differences(out, before, names):
    found = []
    for name in names:
        for file_name in CSV_FILES:
            columns = shared_columns(Path(out) / name / file_name, Path(before) / name / file_name)
            now = rows_of(Path(out) / name / file_name, columns)
            then = rows_of(Path(before) / name / file_name, columns)
            if now == then:
                continue
            for row in sorted(set(map(tuple, then)) - set(map(tuple, now))):
                found.append(f"{name}/{file_name} before: {list(row)}")
            for row in sorted(set(map(tuple, now)) - set(map(tuple, then))):
                found.append(f"{name}/{file_name} after:  {list(row)}")
            if not found:
                found.append(f"{name}/{file_name}: the same rows in another order")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="where each set's grades.csv and tests.csv go")
    parser.add_argument("--compare", metavar="BEFORE", help="an earlier OUT to compare with, row by row")
    parser.add_argument("--sets", nargs="*", choices=sorted(SETS), default=list(SETS), help="only these sets")
    arguments = parser.parse_args(argv)
    grade_sets(arguments.out, arguments.sets)
    if arguments.compare:
        found = differences(arguments.out, arguments.compare, arguments.sets)
        rows = sum(len(rows_of(Path(arguments.out) / name / f)) - 1 for name in arguments.sets for f in CSV_FILES)
        if found:
            print("\n".join(found))
            return 1
        print(f"the same {rows} rows in every set ({', '.join(arguments.sets)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
