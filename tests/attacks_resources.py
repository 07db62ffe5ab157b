"""Attacks on the machine: filling the disk, memory across processes, output floods, notebooks that run past the deadline.

Each sandbox has caps of its own (autograder/confinement.py): its scratch
folder (--disk, and a number of files that comes with it), the memory of all
its processes together (--memory), the output the grader keeps of a cell and
of a notebook, and the time of a whole notebook (--notebook-timeout). Each attack passes one of them and
must get the status and message that say so, while the honest students graded
beside it keep full marks.

See tests/attack_set.py for how an attack is written and graded.
"""

from __future__ import annotations

import json
import re

from attack_set import RUN_OPTIONS, notebook_attack
from submission_set import MULTI_POINTS, WAITS, at_the_end, correct, with_cell_after

from autograder import confinement
from autograder.course import default_notebook_timeout

DISK_MB = 256  # the default of --disk: the suite does not change it
MEMORY_MB = 2048  # the default of --memory
CELL_SECONDS = int(RUN_OPTIONS[RUN_OPTIONS.index("--timeout") + 1])
NOTEBOOK_SECONDS = default_notebook_timeout(CELL_SECONDS)  # the suite keeps the default of --notebook-timeout

MANY_SMALL_FILES = '''
# Fills the disk with small files, as many as it can, and keeps trying.
number = 0
while True:
    try:
        with open(f"small-{number}.txt", "w") as handle:
            handle.write("x" * 100)
        number += 1
    except OSError:
        pass
'''

BIG_FILES = '''
# Fills the disk with big files, each under the per-file limit.
import os
chunk = b"x" * 2**20
for number in range(40):
    try:
        with open(f"big-{number}.bin", "wb") as handle:
            for _ in range(32):
                handle.write(chunk)
    except OSError:
        pass
'''

CHILDREN_HOLDING_MEMORY = '''
# Four children that each hold 700 MB: each is under --memory, together over it.
import os, time
for _ in range(4):
    if os.fork() == 0:
        hold = b"x" * (700 * 2**20)
        time.sleep(60)
        os._exit(0)
time.sleep(60)
'''

FLOOD = '''
# Prints 1 MB a write, flushed, 300 times: 300 MB of output.
import sys
line = "y" * (2**20 - 1)
for _ in range(300):
    print(line, flush=True)
'''

ENDLESS_FLOOD = '''
# Prints 1 MB a write, flushed, for ever.
line = "z" * (2**20 - 1)
while True:
    print(line, flush=True)
'''

SLOW_CELL = "import time\ntime.sleep({seconds})\n"


def no_scratch_space_left(run, attack):
    """Every scratch space of the run was unmounted and its memory group removed, and nothing it wrote
    was left. Only the run's own are looked at (run.owns): a test running beside this one may have
    killed a grader of its own on purpose, whose leftovers the next run sweeps."""
    left = [point for point, source in confinement.scratch_mounts() if run.owns(source)]
    assert not left, f"scratch spaces left mounted after the run: {left}"
    if confinement.mechanisms().memory == "cgroup v1":
        groups = [group for group in confinement._cgroup_v1_base().glob(f"{confinement.TAG}-*")
                  if run.owns(group.name)]
        assert not groups, f"memory groups left after the run: {groups}"
    assert not list(run.root.rglob("small-*.txt")) and not list(run.root.rglob("big-*.bin"))


def journal_message(run, student):
    """The message the run recorded for student's submission (OUT/progress.jsonl)."""
    entries = [json.loads(line) for line in (run.out / "progress.jsonl").read_text().splitlines() if line.strip()]
    return next(entry["message"] for entry in entries if entry["student_id"] == student)


def output_kept_small(run, attack):
    """The row says the notebook printed too much and how much was kept, and
    what was kept (the feedback page) is a few MB, not the hundreds printed."""
    message = journal_message(run, attack.student)
    assert re.search(r"the notebook printed too much: \d+\.\d MB of output, of which the grader kept \d\.\d MB",
                     message), message
    page = run.feedback_page(attack.student)
    assert page.stat().st_size < 8 * 2**20, f"the feedback page holds {page.stat().st_size} bytes"
    assert "[output cut]" in page.read_text(encoding="utf-8")


def attacks():
    """This module's attacks (attack_set.Attack)."""
    files = confinement.files_allowed(DISK_MB)
    slow_cells = correct()
    for number in range(NOTEBOOK_SECONDS // (CELL_SECONDS - 2) + 2):
        slow_cells = at_the_end(slow_cells, SLOW_CELL.format(seconds=CELL_SECONDS - 2))
        slow_cells.cells[-1].id = f"slow-{number}"
    return [
        notebook_attack("fills_disk_small_files", "disk-filling", at_the_end(correct(), MANY_SMALL_FILES),
                        "error", 0.0, f"made more than {files} files and folders in its folder",
                        verify=no_scratch_space_left),
        notebook_attack("fills_disk_big_files", "disk-filling", at_the_end(correct(), BIG_FILES),
                        "error", 0.0, f"wrote more than {DISK_MB} MB into its folder (--disk {DISK_MB})",
                        verify=no_scratch_space_left),
        notebook_attack("children_hold_memory", "memory-across-processes",
                        with_cell_after(correct(), "conv2d_multi_in", CHILDREN_HOLDING_MEMORY),
                        "error", 0.0, f"the notebook's processes used more than {MEMORY_MB} MB together",
                        verify=no_scratch_space_left),
        notebook_attack("output_flood", "output-flood", with_cell_after(correct(), "conv2d_multi_in", FLOOD),
                        WAITS, MULTI_POINTS, verify=output_kept_small),
        notebook_attack("endless_output_flood", "output-flood",
                        with_cell_after(correct(), "conv2d_multi_in", ENDLESS_FLOOD),
                        "timeout", MULTI_POINTS, "the notebook printed too much"),
        notebook_attack("slow_cells_past_the_deadline", "notebook-deadline", slow_cells, "timeout", 0.0,
                        f"the whole notebook ran longer than the {NOTEBOOK_SECONDS} s allowed for a notebook "
                        "(--notebook-timeout)"),
    ]
