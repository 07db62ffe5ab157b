"""What a submitted file's name says: which student, which assignment, in each naming a course meets.

Flat names (`alice_02_multi_channel.ipynb`, `02_multi_channel-alice.ipynb`)
and the names learning-management systems give downloaded files:

    Canvas   <name>_[LATE_]<number>_<submission>_<file>   the student is <number>;
             <name> holds no `_`, so the first numbers after it are Canvas's;
             `LATE_` is there when Canvas found the submission late (`Name.marked_late`)
    Moodle   <Full Name>_<number>_assignsubmission_<plugin>_<file>
             the student is <number>

A Moodle name is written from two texts people choose, the full name before
and the original file name after, and either may itself hold
`_<number>_assignsubmission_file_`: a full name `Eve_4242_assignsubmission_file_x`
would make Eve's file pass for student 4242's. So a name with two different
Moodle numbers in it is ambiguous: `parse` gives no student but the numbers
(`Name.ambiguous`), and the caller refuses the file, saying why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

SEPARATORS = "_-. "
"""What is trimmed off a student id read from beside an assignment name."""

_CANVAS = re.compile(r"^(?P<name>[^_]+)_(?P<late>(?i:LATE_))?(?P<id>\d+)_(?P<number>\d+)_(?P<original>.+)$")
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?(?P<original>.*)$")
_MOODLE_NUMBER = re.compile(r"(?<=.)_(?P<id>\d+)_assignsubmission_[a-z]+")
_CANVAS_REUPLOAD = re.compile(r"-\d+$")
_PAIR = re.compile(r"^(?P<student>[^_\-. ]+)[_-](?P<other>.+)$")


@dataclass(frozen=True)
class Name:
    """What a file name says: the raw student id, a known assignment, or else the rest of the name.

    ambiguous: the different student numbers of a Moodle name that holds more
    than one (then `student` is None).
    marked_late: Canvas's verdict on the submission's time, which its name carries
    (`LATE_` or nothing); None for a name that carries no verdict (Moodle, flat names)."""

    student: str | None = None
    assignment: str | None = None
    other: str | None = None
    ambiguous: tuple[str, ...] = ()
    marked_late: bool | None = None


def moodle_numbers(name: str) -> tuple[str, ...]:
    """The different student numbers in a Moodle name, in order: ('4711',), or two or more when ambiguous."""
    return tuple(dict.fromkeys(match["id"] for match in _MOODLE_NUMBER.finditer(name)))


def moodle(name: str) -> Name | None:
    """A Moodle file or folder name's student (no assignment yet), None if it is no Moodle name."""
    match = _MOODLE.match(name)
    if not match:
        return None
    numbers = moodle_numbers(name)
    if len(numbers) > 1:
        return Name(None, None, match["original"] or None, ambiguous=numbers)
    return Name(match["id"], None, match["original"] or None)


def ambiguity(numbers: Sequence[str]) -> str:
    """The problem of a Moodle name that holds several student numbers, in one sentence."""
    listed = ", ".join(numbers[:-1]) + f" and {numbers[-1]}"
    return (f"the file name holds the Moodle student numbers {listed}, so whose file it is cannot be told "
            "(a full name or a file name may itself look like a Moodle name); rename it <student>_<assignment>.ipynb")


def find_assignment(stem: str, known: Sequence[str]) -> tuple[str, str, str] | None:
    """The known assignment in `stem` (longest first, any case), with the text before and after it."""
    for assignment in sorted(known, key=len, reverse=True):
        match = re.search(re.escape(assignment), stem, re.IGNORECASE)
        if match:
            return assignment, stem[: match.start()], stem[match.end() :]
    return None


def parse(stem: str, known: Sequence[str], default: str | None, stem_is_student: bool) -> Name:
    """Who and which assignment a flat file's name (without extension) stands for.

    Tried in order: Moodle, Canvas (when its original name holds an
    assignment), an assignment in the name with the student beside it, Canvas
    with another original name, the whole name as the student (in a folder or
    zip named after an assignment, or for a zip), `<student>_<other>`.
    `default` is the assignment of the enclosing folder, if any.
    """
    from_moodle = moodle(stem)
    if from_moodle:
        original = from_moodle.other or ""
        return Name(from_moodle.student, assignment_or(original, known, default), from_moodle.other,
                    from_moodle.ambiguous)
    canvas = _CANVAS.match(stem)
    original = _CANVAS_REUPLOAD.sub("", canvas["original"]) if canvas else ""
    in_original = find_assignment(original, known) if canvas else None
    if in_original:
        return Name(canvas["id"], in_original[0], marked_late=bool(canvas["late"]))
    found = find_assignment(stem, known)
    if found:
        assignment, before, after = found
        student = before.strip(SEPARATORS) or after.strip(SEPARATORS)
        return Name(student or None, assignment)
    if canvas:
        return Name(canvas["id"], default, original, marked_late=bool(canvas["late"]))
    if default or stem_is_student:
        return Name(stem, default)
    pair = _PAIR.match(stem)
    if pair:
        return Name(pair["student"], None, pair["other"])
    return Name(None, None)


def is_lms_name(stem: str, known: Sequence[str]) -> bool:
    """Whether a name is one a Canvas or Moodle download gives a student's file."""
    canvas = _CANVAS.match(stem)
    return bool(_MOODLE.match(stem) or (canvas and find_assignment(canvas["original"], known)))


def assignment_or(stem: str, known: Sequence[str], default: str | None) -> str | None:
    """The assignment named in `stem`, else `default`."""
    found = find_assignment(stem, known)
    return found[0] if found else default
