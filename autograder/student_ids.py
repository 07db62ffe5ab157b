"""Student ids from the names of submitted files: safe as folder names, distinct for distinct students.

A student id becomes a folder name (staging/<id>/, the feedback pages), an
nbgrader student and the first column of grades.csv, so it keeps only
characters that are safe there: letters and digits of any script (`ålice`,
`Łukasz`, `王芳`), and `. _ @ + -`; every other character (spaces, quotes,
slashes, control and invisible formatting characters) becomes `_`. The text
is first put in Unicode's NFC form, so a name typed on one system and saved by
another (macOS writes `å` as `a` plus a combining ring) is one student.

Two different names can still give one id (`d'Arcy` and `d Arcy` both give
`d_Arcy`). They are told apart, never merged: each name that had characters
replaced gets its id followed by `_` and a short digest of the name
(`d_Arcy_3f09c1`); a name that is the id as it stands keeps it. `collisions`
says which names collided and the ids they were given, for the run's notes.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

MAX_CHARS = 56
"""A longer id is refused: with a digest (`distinct`), 63 characters, at most 252 bytes of UTF-8 (a file
name may have 255)."""

ALLOWED_CHARS = "letters and digits of any script, . _ @ + - (others become _)"
_ALLOWED_PUNCTUATION = set("._@+-")
_UNUSABLE = {"", ".", ".."}


def _is_allowed(character: str) -> bool:
    """Whether a character may stay in an id: a letter, a combining mark, a digit, or one of . _ @ + -."""
    return character in _ALLOWED_PUNCTUATION or unicodedata.category(character)[0] in "LMN"


def clean(raw: str) -> str:
    """`raw` in NFC form with every character that may not stay in an id replaced by '_'."""
    text = unicodedata.normalize("NFC", raw)
    return "".join(c if _is_allowed(c) else "_" for c in text)


def problem(raw: str) -> str | None:
    """Why `raw` gives no usable id, to follow the quoted name ("'..' is not a usable student id"), or None."""
    student = clean(raw)
    if student in _UNUSABLE:
        return "is not a usable student id"
    if len(student) > MAX_CHARS:
        return f"is too long for a student id ({len(student)} characters; at most {MAX_CHARS})"
    return None


def distinct(raw: str) -> str:
    """The id of `raw` when another name gives the same clean id: the clean id with a digest of `raw`."""
    digest = hashlib.sha256(unicodedata.normalize("NFC", raw).encode("utf-8")).hexdigest()[:6]
    return f"{clean(raw)}_{digest}"


def assign(raws: Iterable[str]) -> dict[str, str]:
    """{raw name: its student id}: the clean id, except where two names share one (see `distinct`)."""
    by_id = defaultdict(set)
    for raw in raws:
        by_id[clean(raw)].add(unicodedata.normalize("NFC", raw))
    ids = {}
    for student, names in by_id.items():
        for raw in names:
            ids[raw] = student if len(names) == 1 or raw == student else distinct(raw)
    return {raw: ids[unicodedata.normalize("NFC", raw)] for raw in raws}


def collisions(files: dict[str, list[str]]) -> list[str]:
    """One note per id that two or more different names would share, naming their files and saying how
    they were told apart. files: {raw name: the files that name came from}. E.g.

    "student id collision: the names 'd'Arcy' (d'Arcy_01.ipynb) and 'd Arcy' (d Arcy_01.ipynb) all read as
    the student id 'd_Arcy' (...); they are graded as different students: 'd'Arcy' as d_Arcy_3f09c1, ..."."""
    ids = assign(files)
    by_id = defaultdict(list)
    for raw in sorted(files):
        by_id[clean(raw)].append(raw)
    notes = []
    for student, names in sorted(by_id.items()):
        if len(names) > 1:
            quoted = " and ".join(f"{name!r} ({', '.join(files[name])})" for name in names)
            given = ", ".join(f"{name!r} as {ids[name]}" for name in names)
            notes.append(f"student id collision: the names {quoted} all read as the student id '{student}' "
                         f"(an id keeps {ALLOWED_CHARS}); they are graded as different students: {given}")
    return notes
