"""Attacks the grader already withstands, kept so that it keeps withstanding them.

One attack per class: leaving the sandbox (files, network, other students'
notebooks), editing nbgrader's metadata to raise a score, hostile zips,
patching what the checks rely on (numpy, builtins, the checking module
itself), processes that outlive their notebook (fork, setsid), signals and
threads that ignore the end of a cell, and notebooks that are huge or deep.
See tests/attack_set.py for how an attack is written and graded.
"""

from __future__ import annotations

import os
import re
import subprocess
import zipfile

import nbformat
from attack_set import Attack, code_cell, notebook_attack
from notebook_tools import REPO, grade_id
from submission_set import (
    MEAN_NOT_SUM,
    MULTI,
    MULTI_POINTS,
    PATCH_NUMPY,
    WAITS,
    _write,
    answered,
    correct,
    escape_attempts,
    notebook_text,
    with_cell_after,
)

ESCAPE_MARK = "ESCAPED_FROM_THE_ATTACK_SUITE"


def wrong():
    """A notebook whose conv2d_multi_in averages the channels: it must keep scoring 0."""
    return answered({"conv2d_multi_in": MEAN_NOT_SUM})


# --- leaving the sandbox ------------------------------------------------------

def escape():
    """Writes outside its folder, reads the course's secrets, phones home."""
    def write(folder):
        marks = [REPO / ESCAPE_MARK, folder.parent / ESCAPE_MARK, folder / ESCAPE_MARK]
        cell = escape_attempts(marks, 9) + SNOOP
        _write(folder / "sandbox_escape" / MULTI / f"{MULTI}.ipynb",
               notebook_text(with_cell_after(correct(), "conv2d_multi_in", cell)))

    def verify(run, attack):
        for mark in (REPO / ESCAPE_MARK, run.root / ESCAPE_MARK, run.submissions / ESCAPE_MARK):
            assert not mark.exists(), f"a sandboxed notebook wrote {mark}"
        page = run.feedback_page(attack.student).read_text(encoding="utf-8")
        assert "secrets found: 0" in page, "the snooping cell found a secret (or its output is missing)"

    return Attack("sandbox_escape", "sandbox-escape", write, WAITS, MULTI_POINTS, verify=verify)


SNOOP = '''
import glob, os
found = [path for pattern in ("/work/**/*.ipynb", "/root/**/*.db", "/tmp/**/*.ipynb", "/proc/1/environ")
         for path in glob.glob(pattern, recursive=True)
         if os.access(path, os.R_OK) and ("solutions" in path or path.endswith(".db"))]
print("secrets found:", len(found))
'''


# --- metadata edits -----------------------------------------------------------

def metadata_points():
    """The test cell claims 100 points and a new cell claims 50 more: the
    source notebook's points count, never the submission's."""
    notebook = correct()
    for cell in notebook.cells:
        if grade_id(cell) == "conv2d_multi_in_tests":
            cell.metadata["nbgrader"]["points"] = 100
    bonus = code_cell("print('bonus')\n", "bonus-cell")
    bonus.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "locked": False, "points": 50,
                                  "schema_version": 3, "solution": False, "task": False}
    notebook.cells.append(bonus)
    return notebook_attack("metadata_points", "metadata-edit", notebook, WAITS, MULTI_POINTS, verify=no_bonus)


def no_bonus(run, attack):
    """The claimed points count nowhere: the row's maximum is the course's."""
    assert run.row(attack.student)["max_score"] == "8", run.row(attack.student)
    assert {row["grade_id"] for row in run.tests[(attack.student, MULTI)]} == {"conv2d_multi_in_tests"}


def metadata_test_disarmed():
    """A wrong answer whose test cell is made an ungraded answer cell that
    only prints: nbgrader sees the locked cell's checksum broken and refuses
    the notebook, which says so and scores nothing."""
    notebook = wrong()
    for cell in notebook.cells:
        if grade_id(cell) == "conv2d_multi_in_tests":
            cell.metadata["nbgrader"].update({"grade": False, "solution": True, "locked": False})
            cell.source = 'print("conv2d_multi_in passes the checks.")\n'
    return notebook_attack("metadata_disarmed", "metadata-edit", notebook, "error", 0.0,
                           "Inconsistent checksums for cell conv2d_multi_in_tests")


# --- zips ---------------------------------------------------------------------

def zip_slip():
    """A zip whose member climbs out of the folder: read, never extracted."""
    def write(folder):
        with zipfile.ZipFile(folder / "zip_slip.zip", "w") as archive:
            archive.writestr(f"../../{ESCAPE_MARK}/{MULTI}.ipynb", notebook_text(correct()))

    def verify(run, attack):
        assert not any(run.root.parent.glob(f"**/{ESCAPE_MARK}")), "a zip member was written outside"

    return Attack("zip_slip", "zip", write, WAITS, MULTI_POINTS, verify=verify)


def zip_bomb():
    """A zip that unpacks to more than the grader reads: refused, invalid."""
    def write(folder):
        with zipfile.ZipFile(folder / "zip_bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{MULTI}.ipynb", notebook_text(correct()))
            archive.writestr("zeros.bin", b"\0" * 101_000_000)

    return Attack("zip_bomb", "zip", write, "invalid", 0.0, "limit")


# --- patching what the checks rely on ----------------------------------------

PATCH_BUILTINS = '''
# Every comparison the checks make comes out "all good".
import builtins
builtins.all = lambda *args, **kwargs: True
builtins.any = lambda *args, **kwargs: False
builtins.abs = lambda value: 0 * value
'''

FAKE_DIAGNOSE = '''
# The test cell re-imports conv_lib.diagnose: a finder placed first on
# sys.meta_path hands it a module whose checks pass everything.
import importlib.abc, importlib.machinery, sys, types

class PassEverything(types.ModuleType):
    def __getattr__(self, name):
        return lambda *args, **kwargs: None

class FakeDiagnose(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name == "conv_lib.diagnose":
            return importlib.machinery.ModuleSpec(name, self)
        return None
    def create_module(self, spec):
        return PassEverything(spec.name)
    def exec_module(self, module):
        pass

sys.meta_path.insert(0, FakeDiagnose())
'''


def patched(student, cell, status, message):
    return notebook_attack(student, "patched-checks", with_cell_after(wrong(), "conv2d_multi_in", cell),
                           status, 0.0, message)


# --- processes that outlive the notebook --------------------------------------

DAEMON = '''
# A grandchild in its own session, detached from the kernel, that lives on
# after the notebook and tries to spoil the next student's folder.
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for _ in range(600):
            for root, folders, files in os.walk("/"):
                for name in files:
                    if name.endswith(".ipynb"):
                        try:
                            open(os.path.join(root, name), "w").write("spoiled")
                        except OSError:
                            pass
            time.sleep(0.5)
    os._exit(0)
'''

SIGNALS_AND_THREADS = '''
# Ignores every signal it may, and leaves a thread that never ends.
import signal, threading, time
for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1):
    signal.signal(number, signal.SIG_IGN)
threading.Thread(target=lambda: [time.sleep(1) for _ in iter(int, 1)], daemon=False).start()
'''


RUNS_PYTEST = re.compile(r"(?:^|\s)(?:-m\s+|\S*/)?pytest(?:\s|$)")
"""A command line that runs pytest (`python -m pytest ...`, `.venv/bin/pytest ...`), not one that only
names a folder of pytest's (/tmp/pytest-of-root/...)."""


def no_sandbox_process_left(run, attack):
    """No process of a sandbox user (the grader's workers run them as
    autograder.sandbox.UID_BASE + worker) is left once the run is over.

    Other tests may be sandboxing at this very moment: another pytest-xdist
    worker of this session (a grading run, test_sandbox.py), or another test
    session on this machine. Their sandboxes still descend from their live
    pytest process, so they are not this run's. What the run left behind has
    lost the grader that started it: it descends from no other pytest process."""
    from autograder import sandbox

    uid, parent, command = {}, {}, {}
    listing = subprocess.run(["ps", "-eo", "uid=,pid=,ppid=,args="], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        fields = line.split(None, 3)
        if len(fields) >= 3:
            pid = int(fields[1])
            uid[pid], parent[pid], command[pid] = int(fields[0]), int(fields[2]), fields[3] if len(fields) > 3 else ""

    def under_another_test(pid):
        while pid in parent and pid > 1:
            if pid == os.getpid():
                return False  # under this very test: the run's, and the run is over
            if RUNS_PYTEST.search(command[pid]):
                return True
            pid = parent[pid]
        return False

    left = [f"{pid} {command[pid]}" for pid in uid
            if sandbox.UID_BASE <= uid[pid] < sandbox.UID_BASE + 100 and not under_another_test(pid)]
    assert not left, f"processes of the sandbox outlived the run: {left}"


# --- huge and deep notebooks -------------------------------------------------

def huge():
    """A notebook of about 19 MB (a long output kept in it): graded."""
    notebook = correct()
    filler = code_cell("print('long output')\n", "huge-output")
    filler.outputs = [nbformat.v4.new_output("stream", name="stdout", text=("x" * 99 + "\n") * 170_000)]
    notebook.cells.append(filler)
    return notebook_attack("huge_notebook", "huge-notebook", notebook, WAITS, MULTI_POINTS)


def deep():
    """Metadata nested far deeper than any notebook: refused, invalid."""
    def write(folder):
        text = notebook_text(correct())
        nested = "[" * 100_000 + "]" * 100_000
        _write(folder / f"deep_notebook_{MULTI}.ipynb", text.replace('"metadata": {', f'"metadata": {{"deep": {nested}, ', 1))

    return Attack("deep_notebook", "deep-notebook", write, "invalid", 0.0, "recursion")


def many_cells():
    """Five thousand empty cells after a correct answer: graded."""
    notebook = correct()
    notebook.cells += [code_cell("", f"empty-{i}") for i in range(5000)]
    return notebook_attack("many_cells", "huge-notebook", notebook, WAITS, MULTI_POINTS)


def attacks():
    """This module's attacks (attack_set.Attack)."""
    daemon = notebook_attack("setsid_daemon", "fork-and-setsid",
                             with_cell_after(correct(), "conv2d_multi_in", DAEMON), WAITS, MULTI_POINTS,
                             verify=no_sandbox_process_left)
    signals = notebook_attack("ignores_signals", "signals-and-threads",
                              with_cell_after(correct(), "conv2d_multi_in", SIGNALS_AND_THREADS), WAITS, MULTI_POINTS,
                              verify=no_sandbox_process_left)
    return [
        escape(),
        metadata_points(),
        metadata_test_disarmed(),
        zip_slip(),
        zip_bomb(),
        patched("patches_numpy", PATCH_NUMPY, WAITS, "[mean-not-sum]"),
        patched("patches_builtins", PATCH_BUILTINS, "tampered", "[tampered]"),
        patched("fake_diagnose", FAKE_DIAGNOSE, "tampered", "[tampered]"),
        daemon,
        signals,
        huge(),
        deep(),
        many_cells(),
    ]
