"""OUT/students.csv: which Canvas or Moodle learner each graded student id stands for.

A grading run keeps only a safe student id (student_ids.py); for a Canvas or
Moodle download that id is the number in the file name, and the rest of the
name is lost. `conv-course export` needs it back: the Canvas user number, and
for Moodle the learner's full name (Moodle's number is a participant number of
one assignment, which its gradebook import cannot read, so a learner is found
in the roster by name). So `conv-course grade` records, for every submission
whose file name was an LMS name carrying that very student id:

    student_id, assignment, lms (canvas | moodle), lms_id, name_from_file

`name_from_file` is `<name>` of a Canvas name (`smithjohn`) or `<Full Name>` of
a Moodle name (`Alice Smith`). Every cell is text a student may have chosen,
so the file is written and read with results.write_table / read_table. A
later run into the same OUT replaces the lines of the submissions it saw and
keeps the others.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path, PurePosixPath

from . import results
from . import submission_names as naming

FILE_NAME = "students.csv"
COLUMNS = ["student_id", "assignment", "lms", "lms_id", "name_from_file"]

_CANVAS = re.compile(r"^(?P<name>[^_]+)_(?i:LATE_)?(?P<id>[0-9]+)_[0-9]+_")
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>[0-9]+)_assignsubmission_")


def lms_of(origin: str, student_id: str) -> tuple[str, str, str] | None:
    """(lms, lms_id, name_from_file) of the first part of a submission's origin ('a/b.zip:c.ipynb') that is a
    Canvas or Moodle name carrying `student_id` as its number; None when no part is."""
    for part in re.split(r"[/:\\]", origin):
        stem = PurePosixPath(part).stem if part.lower().endswith((".ipynb", ".zip")) else part
        found = _moodle(stem) or _canvas(stem)
        if found and unicodedata.normalize("NFC", found[1]) == student_id:
            return found
    return None


def _moodle(stem: str) -> tuple[str, str, str] | None:
    """('moodle', number, full name) of a Moodle name holding one participant number, else None."""
    match = _MOODLE.match(stem)
    if not match or len(naming.moodle_numbers(stem)) != 1:
        return None
    return "moodle", match["id"], match["name"]


def _canvas(stem: str) -> tuple[str, str, str] | None:
    """('canvas', user number, name) of a Canvas name, else None."""
    match = _CANVAS.match(stem)
    return ("canvas", match["id"], match["name"]) if match else None


def lines(found) -> list[list[str]]:
    """The students.csv lines of the submissions `found` (submissions.Submission) that came with an LMS name."""
    kept = []
    for submission in found:
        lms = lms_of(submission.origin, submission.student_id)
        if lms:
            kept.append([submission.student_id, submission.assignment, *lms])
    return kept


def record(found, out) -> None:
    """Write OUT/students.csv: the lines of `found`, and the earlier lines of the submissions not seen now."""
    path = Path(out) / FILE_NAME
    seen = {(s.student_id, s.assignment) for s in found}
    earlier = [[line[c] for c in COLUMNS] for line in read(out) if (line["student_id"], line["assignment"]) not in seen]
    results.write_table(path, COLUMNS, sorted(earlier + lines(found)))


def read(out) -> list[dict[str, str]]:
    """The lines of OUT/students.csv as {column: text}; [] when there is none."""
    path = Path(out) / FILE_NAME
    return results.read_table(path) if path.exists() else []
