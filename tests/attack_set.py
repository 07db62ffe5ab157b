"""The standing attack suite: hostile and careless submissions, one per class.

Each attack is an `Attack`: the student id it is submitted under, the class of
attack it belongs to (`defect`), how its file(s) are written into the
submissions folder, and what grading must give it (status, autograded points,
a phrase its messages must hold), plus optional further assertions on the
whole run (`verify`: the feedback page is inert, a CSV cell is not a formula,
nothing escaped, ...).

The attacks live in modules named for what they attack:

    attacks_that_hold.py        classes the grader already withstood (sandbox
                                escape, metadata edits, zips, patched numpy,
                                fork and setsid, signals and threads, huge and
                                deep notebooks): they must keep holding
    attacks_pages.py            script in the formgrader and the feedback pages,
                                hidden tests reaching the page, slow pages
    attacks_reference_calls.py  ready-made convolutions that dodge the rule
    attacks_resources.py        disk, memory, output floods, the deadline
    attacks_records.py          CSV formulas, ids that collide or are spoofed,
                                copied cells

tests/test_attack_suite.py grades every attack of every module in ONE run of
`conv-course grade`, beside two honest students (`honest`, `honest_too`) who
must get full marks in that same run, and asserts each attack's row.
`grade_attacks(folder, attacks)` grades a few of them the same way (a module's
own attacks while it is being written).
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat
import psutil
from autograder import confinement
from notebook_tools import REPO
from submission_set import MULTI, MULTI_POINTS, WAITS, _write, correct, nbgrader_path, notebook_text

RUN_OPTIONS = ("--timeout", "10", "--jobs", "2", "--quiet")
"""How the suite grades: short cells (an endless cell costs 10 s; an honest cell takes well under a second, with room for a loaded machine), two workers
(so that an attack shares the machine with an honest student)."""

HONEST = ("honest", "honest_too")


@dataclass
class GradedRun:
    """One `conv-course grade` run of the suite, for the assertions.

    root: the test's folder; submissions, out, course: the run's folders;
    grades: {(student, assignment): grades.csv row}; tests: {(student,
    assignment): [tests.csv rows]}; process: the CompletedProcess (stdout,
    stderr, returncode); owners: (pid, start time) of every process the run
    was made of (the grader and its workers, seen while it ran), as the names
    of its scratch spaces and memory groups carry them (confinement.owner_of)."""

    root: Path
    submissions: Path
    out: Path
    course: Path
    grades: dict
    tests: dict
    process: subprocess.CompletedProcess
    owners: frozenset = frozenset()

    def owns(self, name):
        """Whether a confinement name (TAG-<pid>-<start>[-n]) belongs to a process of this run, not to
        another test's run on the same machine (under pytest-xdist a test may kill a grader in the middle,
        leaving its mounts for the next run to sweep)."""
        return confinement.owner_of(name) in self.owners

    def row(self, student, assignment=MULTI):
        return self.grades[(student, assignment)]

    def messages(self, student, assignment=MULTI):
        """Every message of the submission's tests.csv rows, joined."""
        return " | ".join(row["message"] for row in self.tests.get((student, assignment), []))

    def feedback_page(self, student, assignment=MULTI):
        return self.out / "feedback" / student / f"{assignment}.html"


@dataclass
class Attack:
    """One hostile or careless submission and what grading must give it.

    student: the id it is graded under (its row's student_id);
    defect: the class of attack (the issue's words, e.g. "disk-filling");
    write: write(submissions_folder) puts its file(s) there;
    status, auto_score: its grades.csv row's status and auto_score;
    message: a phrase (case-insensitive) that its tests.csv messages or the
        run's summary must hold about it ("" for none);
    verify: verify(run: GradedRun, attack) makes further assertions;
    assignment: the assignment its row is for."""

    student: str
    defect: str
    write: Callable[[Path], None]
    status: str
    auto_score: float
    message: str = ""
    verify: Callable[[GradedRun, "Attack"], None] | None = None
    assignment: str = MULTI


def notebook_attack(student, defect, notebook, status, auto_score, message="", verify=None, assignment=MULTI):
    """An attack that is one notebook at nbgrader's place for student."""

    def write(folder):
        _write(nbgrader_path(folder, student, assignment), notebook_text(notebook))

    return Attack(student, defect, write, status, auto_score, message, verify, assignment)


def honest_students():
    """Two correct submissions, graded beside the attacks: full marks for both."""
    return [notebook_attack(student, "honest", correct(), WAITS, MULTI_POINTS) for student in HONEST]


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def process_tree(root_pid):
    """{(pid, start time)} of root_pid and every process descending from it that runs now."""
    try:
        pids = [root_pid, *(child.pid for child in psutil.Process(root_pid).children(recursive=True))]
    except psutil.Error:  # it has just ended
        return set()
    owners = {(pid, confinement._start_time(pid)) for pid in pids}
    return {(pid, start) for pid, start in owners if start}


def run_watching_its_processes(argv, timeout):
    """Run argv from the repository, looking at its process tree every 0.1 s while it runs.
    Returns (the CompletedProcess, frozenset of (pid, start time) of every process seen)."""
    seen = set()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(argv, stdout=stdout, stderr=stderr, text=True, cwd=REPO)
        deadline = time.monotonic() + timeout
        while process.poll() is None:
            seen |= process_tree(process.pid)
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise subprocess.TimeoutExpired(argv, timeout)
            time.sleep(0.1)
        stdout.seek(0)
        stderr.seek(0)
        return subprocess.CompletedProcess(argv, process.returncode, stdout.read(), stderr.read()), frozenset(seen)


def grade_attacks(root, attacks, options=RUN_OPTIONS, timeout=1500):
    """Write the attacks and the honest students into root/submissions, grade
    them in one run, and return the GradedRun."""
    root = Path(root)
    submissions, out, course = root / "submissions", root / "out", root / "course"
    students = [attack.student for attack in attacks]
    assert len(set(students)) == len(students), f"two attacks share a student id: {students}"
    for attack in [*honest_students(), *attacks]:
        attack.write(submissions)
    process, owners = run_watching_its_processes(
        [sys.executable, "-m", "autograder.cli", "grade", str(submissions), "--out", str(out),
         "--course", str(course), *options], timeout=timeout)
    grades, tests = {}, {}
    if (out / "grades.csv").exists():
        grades = {(row["student_id"], row["assignment"]): row for row in read_csv(out / "grades.csv")}
    if (out / "tests.csv").exists():
        for row in read_csv(out / "tests.csv"):
            tests.setdefault((row["student_id"], row["assignment"]), []).append(row)
    return GradedRun(root, submissions, out, course, grades, tests, process, owners)


def assert_attack(run, attack):
    """The attack's row is what it must be, and its own assertions hold."""
    key = (attack.student, attack.assignment)
    assert key in run.grades, f"{attack.defect}: no row for {key}; stderr: {run.process.stderr[-2000:]}"
    row = run.grades[key]
    assert (row["status"], float(row["auto_score"])) == (attack.status, attack.auto_score), (
        f"{attack.defect} ({attack.student}): status {row['status']}, auto_score {row['auto_score']}; "
        f"expected {attack.status}, {attack.auto_score:g}. tests.csv: {run.messages(*key)}"
    )
    if attack.message:
        said = (run.messages(*key) + "\n" + run.process.stdout).lower()
        assert attack.message.lower() in said, (
            f"{attack.defect} ({attack.student}): expected {attack.message!r} in its messages; "
            f"tests.csv: {run.messages(*key)}"
        )
    if attack.verify is not None:
        attack.verify(run, attack)


def assert_honest(run):
    """The honest students got full marks in the attacked run."""
    for student in HONEST:
        row = run.grades.get((student, MULTI))
        assert row is not None, f"no row for the honest student {student}: {run.process.stderr[-2000:]}"
        assert (row["status"], float(row["auto_score"])) == (WAITS, MULTI_POINTS), (
            f"the honest student {student} got {row['status']} {row['auto_score']}: {run.messages(student)}"
        )


def code_cell(source, cell_id):
    """A code cell as nbformat.v4.new_code_cell makes it, without its validation of each cell (the
    notebook is validated once when written; 5,000 cells checked one by one took seconds at collection)."""
    return nbformat.from_dict({"cell_type": "code", "id": cell_id, "metadata": {}, "execution_count": None,
                               "source": source, "outputs": []})


def markdown_cell(source, cell_id):
    cell = nbformat.v4.new_markdown_cell(source)
    cell.id = cell_id
    return cell
