"""Find the notebooks to grade in an instructor's folder of student submissions.

`conv-course grade SUBMISSIONS --out OUT` grades whatever the instructor
downloaded: nbgrader's `<student>/<assignment>/<assignment>.ipynb` folders, or
a learning-management system's flat folder of renamed `.ipynb` and `.zip`
files (Canvas, Moodle, or plain `<student>_<assignment>.ipynb`), or both.
`collect` works out from each path which student and which assignment it is,
checks every notebook file, and writes the good ones, normalised to nbformat 4,
to a staging folder:

    staging/<student_id>/<assignment>/<assignment>.ipynb

What a file's name says is read by submission_names.py (a Moodle name holding
two student numbers is refused: it never replaces either student's file);
the student ids, safe folder names that never merge two students, come from
student_ids.py; a pasted copy of an nbgrader cell is mended by copied_cells.py
before nbgrader sees the notebook.

Every file in SUBMISSIONS comes from a student, so any of them may be broken,
huge or hostile. A problem with one file becomes that submission's `problem`
(one sentence for the instructor and the student) or, when the file cannot be
tied to a student and an assignment, a warning; it never stops the run.
Files are opened without following symbolic links and read up to a size
limit; zip members are read with `ZipFile.open`, never extracted, so a member
named `../../x` is only a name.

When a student sent two submissions of one assignment, the newest file is
graded (a zip member has the zip file's time; on a tie, the origin that sorts
last); a file that is not a notebook, or a folder or zip without the notebook,
counts only when the student sent nothing better for that assignment.

Each Submission keeps that time (`submitted_at`, for late work: late_work.py)
and Canvas's `LATE_` marker (`marked_late`). A file's time is the LMS's
submission time only if the download kept it. Canvas's does not: its
"Download Submissions" zip is written by canvas-lms's ContentZipper
(lib/content_zipper.rb), which adds each file with rubyzip's
`get_output_stream(name)` and no time, so every member gets rubyzip's default,
the moment the zip was made (read in the canvas-lms and rubyzip sources, not
on a live Canvas). Unzipped, those files carry that moment (or, with a tool
that keeps no times, the moment of unzipping). So for a Canvas name the
marker, not the time, says whether a submission is late; nbgrader's layout
and files copied with their times keep real times.
"""

import functools
import json
import logging
import os
import re
import stat
import unicodedata
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

import nbformat
from nbformat import reader as nbformat_reader
from nbformat.validator import normalize

from . import copied_cells, student_ids
from . import submission_names as naming

MAX_NOTEBOOK_BYTES = 20_000_000
"""A notebook file larger than this (in bytes) is refused unread."""
MAX_ZIP_TOTAL_BYTES = 100_000_000
"""A zip file, or the sum of its members' sizes, larger than this is refused (zip bomb)."""
MAX_ZIP_MEMBERS = 1000
"""A zip with more members than this is refused (zip bomb)."""

STUDENT_ID_CHARS = student_ids.ALLOWED_CHARS

_NOT_ID_CHAR = re.compile(r"[^A-Za-z0-9._@+-]")
_log = logging.getLogger(__name__)
_SYSTEM_NAMES = {"__MACOSX", "__pycache__", "Thumbs.db", "desktop.ini"}
_MB = 1_000_000


def _size(n: int) -> str:
    """A byte count for people: '31.4 MB', '20 MB', '1.5 kB', '12 bytes'."""
    for unit, scale in (("MB", _MB), ("kB", 1000)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


ACCEPTED_PATTERNS = f"""\
SUBMISSIONS may hold any mix of:
  <student>/<assignment>/<assignment>.ipynb
        nbgrader's submitted layout; a lone notebook of another name counts too
  <student>_<assignment>.ipynb   <student>-<assignment>.ipynb
  <assignment>_<student>.ipynb   <assignment>-<student>.ipynb
  <name>_[LATE_]<number>_<submission>_<file>
        Canvas: the student is <number>; a -1, -2 after <file> is ignored
  <Full Name>_<number>_assignsubmission_file_<file>
        Moodle, a file or a folder holding <file>: the student is <number>
  <student>.zip, or any of the names above ending in .zip
        each notebook inside named after an assignment; a zip named after an
        assignment may hold one notebook of any name
  <assignment>/<any of the names above>
        a folder per assignment: a name without the assignment is the student
The assignment may appear anywhere in a name, in any case; the student id is
the text before it (or after it, if nothing is before it), trimmed of _ - . and
spaces. A student id keeps, case and all,
  {STUDENT_ID_CHARS};
two names that would give one id are graded apart (d_Arcy, d_Arcy_3f09c1).
A Moodle name holding two student numbers is refused: whose file is unclear.
Other files are skipped with a warning, except <student>_<other>.ipynb (an
unknown assignment) and a file of another type named for a student and an
assignment (not a notebook).
Two submissions of one assignment by one student: the newest file is graded
(zip members have the zip's time); a file that is not a notebook counts only if
there is no notebook.
Limits: {_size(MAX_NOTEBOOK_BYTES)} per notebook; a zip may hold {MAX_ZIP_MEMBERS} files, {_size(MAX_ZIP_TOTAL_BYTES)} in all."""


@dataclass(frozen=True)
class Submission:
    """One student's submission of one assignment, ready to grade or reported as invalid."""

    student_id: str
    assignment: str
    notebook: Path | None
    """The staged copy, staging/<student_id>/<assignment>/<assignment>.ipynb; None when `problem` is set."""
    problem: str | None
    """None when the file reads as a Jupyter notebook; else one sentence saying what is wrong."""
    origin: str
    """Where it came from, relative to SUBMISSIONS: 'alice/01_x/01_x.ipynb', 'bob.zip:work/01_x.ipynb'."""
    superseded: tuple[str, ...] = ()
    """Origins of older submissions of the same student and assignment that this one replaced."""
    submitted_at: float = 0.0
    """The time of the file graded, as the grader sees it: its modification time (seconds since the
    epoch; a zip member has its zip file's time); 0 when unknown. Only the LMS's time if the download kept it."""
    marked_late: bool | None = None
    """The LMS's verdict in the file name: True for Canvas's `LATE_`, False for a Canvas name without it,
    None when the name carries no verdict (submission_names.Name.marked_late)."""


def collect(
    submissions: Path,
    staging: Path,
    assignments: Sequence[str],
    only: Sequence[str] | None = None,
) -> tuple[list[Submission], list[str]]:
    """Find, check and stage every submission in the folder `submissions`.

    Returns the submissions sorted by (student_id, assignment), and warnings
    about files that were skipped or replaced. `assignments` are the course's
    assignment names; `only` restricts the result to some of them (unknown
    assignments are then left out too). Raises FileNotFoundError or
    NotADirectoryError only when `submissions` itself is missing or not a folder.
    """
    root = _submissions_folder(Path(submissions))
    staging = Path(staging)
    known = tuple(assignments)
    messages = _check_only(only, known)
    finder = _Finder(known, staging, messages)
    candidates = [c for c in finder.folder(root, "", _Context()) if _is_wanted(c, known, only)]
    candidates, collisions = _with_student_ids(candidates)
    messages += collisions
    result = []
    for _, group in sorted(_group(candidates).items()):
        winner, losers = _newest(group)
        messages += winner.notes
        if losers:
            messages.append(_replaced_message(winner, losers))
        submission, copies = _stage(winner, tuple(c.origin for c in losers), staging)
        messages += copies
        result.append(submission)
    return result, messages


# --------------------------------------------------------------------------
# Candidates: what a path says it is, before its file is read
# --------------------------------------------------------------------------


class _Invalid(Exception):
    """A student's file is not a usable notebook; the message says why, in one sentence."""


@dataclass(frozen=True)
class _Candidate:
    """A possible submission: who, which assignment, where from, and how to read it."""

    student_id: str
    assignment: str
    origin: str
    mtime: float
    load: Callable[[], bytes] | None = None
    """Reads the notebook file's bytes (raising _Invalid); None when `problem` is known already."""
    problem: str | None = None
    fallback: str | None = None
    """Set on a candidate that is no notebook at all, saying so ('not a notebook'): it stands only alone."""
    notes: tuple[str, ...] = ()
    """Warnings to give if this candidate is graded."""
    marked_late: bool | None = None
    """The LMS's verdict on its time, from the file name (Submission.marked_late)."""


@dataclass(frozen=True)
class _Context:
    """What the folders around a path say: the student (a student's or Moodle folder), the assignment."""

    student: str | None = None
    assignment: str | None = None


class _Finder:
    """Walks SUBMISSIONS and turns each path into candidates, or into a warning."""

    def __init__(self, known: tuple[str, ...], staging: Path, messages: list[str]):
        self.known = known
        self.staging = staging.resolve()
        self.messages = messages

    def skip(self, origin: str, reason: str) -> list[_Candidate]:
        """Record that a path was skipped, and why; no candidates."""
        self.messages.append(f"skipped {origin}: {reason}")
        return []

    def folder(self, folder: Path, rel: str, context: _Context) -> list[_Candidate]:
        """Every entry of a folder: SUBMISSIONS, a student's, a Moodle or an assignment folder."""
        try:
            entries = sorted(folder.iterdir(), key=lambda p: p.name)
        except OSError as error:
            return self.skip(rel or str(folder), f"the folder could not be listed ({error.strerror})")
        candidates = []
        for entry in entries:
            candidates += self.entry(entry, _join(rel, entry.name), context)
        return candidates

    def entry(self, path: Path, origin: str, context: _Context) -> list[_Candidate]:
        """One path in a folder, by kind: folder, zip or other file."""
        if path.name.startswith(".") or path.name in _SYSTEM_NAMES:
            return self.skip(origin, "a system file, not a submission")
        try:
            mode = path.lstat().st_mode
        except OSError as error:
            return self.skip(origin, f"it could not be read ({error.strerror})")
        if stat.S_ISDIR(mode):
            return self.subfolder(path, origin, context)
        if stat.S_ISLNK(mode) and path.is_dir():
            return self.skip(origin, "a symbolic link to a folder, not followed")
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            return self.skip(origin, "not a regular file")
        if path.suffix.lower() == ".zip":
            return self.zip_file(path, origin, context)
        return self.file(path, origin, context)

    def subfolder(self, path: Path, origin: str, context: _Context) -> list[_Candidate]:
        """A folder: nbgrader's <student>/<assignment>/, a Moodle or assignment folder, or a student's."""
        if self.staging.is_relative_to(path.resolve()):
            return self.skip(origin, "it holds the staging folder")
        if context.student is not None:
            return self.assignment_folder(path, origin, context.student)
        moodle = naming.moodle(path.name)
        if moodle and moodle.ambiguous:
            return self.skip(origin, naming.ambiguity(moodle.ambiguous))
        if moodle:
            student = self.student_id(moodle.student, origin)
            return self.folder(path, origin, _Context(student, context.assignment)) if student else []
        assignment = self.known_name(path.name)
        if assignment and context.assignment is None:
            return self.folder(path, origin, _Context(None, assignment))
        student = self.student_id(path.name, origin)
        return self.folder(path, origin, _Context(student, context.assignment)) if student else []

    def assignment_folder(self, path: Path, origin: str, student: str) -> list[_Candidate]:
        """nbgrader's <student>/<assignment>/ folder: its <assignment>.ipynb, or its only notebook."""
        mtime = _mtime(path)
        assignment = self.known_name(path.name)
        if assignment is None:
            return [self.unknown(student, path.name, origin, mtime)]
        try:
            names = sorted(p.name for p in path.iterdir() if _is_notebook_name(p.name) and not p.is_dir())
            names = [n for n in names if not n.startswith(".")]
        except OSError as error:
            problem = f"the folder could not be listed ({error.strerror})"
            return [_Candidate(student, assignment, origin, mtime, problem=problem)]
        chosen, ignored, problem = _choose_notebook(names, assignment)
        if problem:
            problem = f"the folder {problem}"
            return [_Candidate(student, assignment, origin, mtime, problem=problem, fallback="no notebook")]
        candidate = self.notebook_file(student, assignment, path / chosen, _join(origin, chosen))
        if ignored:
            note = f"{origin}: graded {_printable(chosen)}, ignored {_listing(ignored)}"
            candidate = replace(candidate, notes=(note,))
        return [candidate]

    def file(self, path: Path, origin: str, context: _Context) -> list[_Candidate]:
        """A loose file: a notebook, or something else, named for a student and an assignment."""
        stem, suffix = path.stem, path.suffix.lower()
        if context.student is not None:
            name = naming.Name(context.student, self.assignment_in(stem) or context.assignment)
        else:
            name = naming.parse(stem, self.known, context.assignment, stem_is_student=False)
        if name.ambiguous:
            return self.ambiguous(name, origin, _mtime(path))
        if name.student is None:
            missing = "student id" if name.assignment else "assignment of this course"
            return self.skip(origin, f"the name carries no {missing}")
        if name.assignment is None and (suffix != ".ipynb" or name.other is None):
            return self.skip(origin, "the name carries no assignment of this course")
        student = self.student_id(name.student, origin)
        if student is None:
            return []
        if name.assignment is None:
            return [self.unknown(student, name.other, origin, _mtime(path))]
        if suffix != ".ipynb":
            kind = f"is a {suffix} file" if suffix else "has no file extension"
            problem = f"not a notebook: {_printable(path.name)} {kind}; submit the .ipynb file"
            mtime = _mtime(path)
            return [_Candidate(student, name.assignment, origin, mtime, problem=problem, fallback="not a notebook",
                               marked_late=name.marked_late)]
        return [replace(self.notebook_file(student, name.assignment, path, origin), marked_late=name.marked_late)]

    def zip_file(self, path: Path, origin: str, context: _Context) -> list[_Candidate]:
        """A zip named for a student (and maybe an assignment): the notebooks inside."""
        if context.student is not None:
            name = naming.Name(context.student, self.assignment_in(path.stem) or context.assignment)
        else:
            name = naming.parse(path.stem, self.known, context.assignment, stem_is_student=True)
        if name.ambiguous:
            return self.ambiguous(name, origin, _mtime(path))
        if name.student is None:
            return self.skip(origin, "the name carries no student id")
        student = self.student_id(name.student, origin)
        if student is None:
            return []
        candidates = self.zip_members(path, origin, student, name.assignment)
        return [replace(c, marked_late=name.marked_late) for c in candidates]

    def zip_members(self, path: Path, origin: str, student: str, hint: str | None) -> list[_Candidate]:
        """Each notebook in a student's zip named after an assignment; `hint` is the zip name's assignment.
        Each has the zip file's time: a member's own date_time is whatever the student's zip tool wrote."""
        mtime = _mtime(path)
        try:
            members = _list_zip(path)
        except _Invalid as problem:
            return self.zip_problem(origin, student, [hint] if hint else [], str(problem), mtime)
        named = {n: self.assignment_in(_member_stem(n)) for n in _notebook_members(members)}
        limits = _zip_limits_problem(members)
        if limits:
            assignments = [hint] if hint else sorted({a for a in named.values() if a})
            return self.zip_problem(origin, student, assignments, limits, mtime)
        if any(naming.is_lms_name(_member_stem(n), self.known) for n in named):
            reason = "it looks like a whole Canvas or Moodle download; unzip it into the submissions folder"
            return self.skip(origin, reason)
        candidates = []
        unnamed = [n for n, a in named.items() if a is None]
        if hint and hint not in named.values() and (unnamed or not named):
            chosen, _, problem = _choose_notebook(unnamed, hint)
            if problem:
                problem = f"the zip file {problem}"
                candidates.append(_Candidate(student, hint, origin, mtime, problem=problem, fallback="no notebook"))
            else:
                named[chosen] = hint
            unnamed = []
        for member in unnamed:
            self.skip(f"{origin}:{_printable(member)}", "the name carries no assignment of this course")
        if not named and not hint:
            self.skip(origin, "the zip file holds no .ipynb notebook")
        for member, assignment in named.items():
            if assignment:
                load = functools.partial(_read_zip_member, path, member)
                candidates.append(_Candidate(student, assignment, f"{origin}:{_printable(member)}", mtime, load=load))
        return candidates

    def zip_problem(
        self, origin: str, student: str, assignments: list[str], problem: str, mtime: float
    ) -> list[_Candidate]:
        """An unusable zip: a problem row for each assignment it was meant for, or a warning if none is known."""
        if not assignments:
            return self.skip(origin, problem)
        return [_Candidate(student, a, origin, mtime, problem=problem) for a in assignments]

    def notebook_file(self, student: str, assignment: str, path: Path, origin: str) -> _Candidate:
        """A .ipynb file on disk, to be read if it is the one graded."""
        return _Candidate(student, assignment, origin, _mtime(path), load=functools.partial(_read_notebook_file, path))

    def unknown(self, student: str, name: str, origin: str, mtime: float) -> _Candidate:
        """A submission for an assignment this course does not have."""
        assignment = _clean_id(name.strip(naming.SEPARATORS)) or "?"
        problem = f"unknown assignment '{assignment}': this course has {', '.join(self.known)}"
        return _Candidate(student, assignment, origin, mtime, problem=problem)

    def ambiguous(self, name: naming.Name, origin: str, mtime: float) -> list[_Candidate]:
        """A file whose name holds several Moodle student numbers: for each, a problem that counts only
        when that student sent nothing else (it never replaces a real submission), or a warning."""
        problem = naming.ambiguity(name.ambiguous)
        if name.assignment is None:
            return self.skip(origin, problem)
        students = [self.student_id(number, origin) for number in name.ambiguous]
        return [_Candidate(student, name.assignment, origin, mtime, problem=problem, fallback="ambiguous name")
                for student in students if student]

    def student_id(self, raw: str, origin: str) -> str | None:
        """The name `raw` stands for as a student (NFC; its id is given by `collect`), or None with a warning."""
        problem = student_ids.problem(raw)
        if problem:
            self.skip(origin, f"'{_printable(raw)}' {problem}")
            return None
        return unicodedata.normalize("NFC", raw)

    def known_name(self, name: str) -> str | None:
        """The course assignment that `name` is, ignoring case, or None."""
        return next((a for a in self.known if a.lower() == name.lower()), None)

    def assignment_in(self, stem: str) -> str | None:
        """The course assignment named anywhere in `stem`, or None."""
        found = naming.find_assignment(stem, self.known)
        return found[0] if found else None


def _clean_id(raw: str) -> str:
    """`raw` with every character outside [A-Za-z0-9._@+-] replaced by '_'."""
    return _NOT_ID_CHAR.sub("_", raw)


def _is_notebook_name(name: str) -> bool:
    """Whether a file or member name ends in .ipynb (any case)."""
    return name.lower().endswith(".ipynb")


def _notebook_members(members: list[zipfile.ZipInfo]) -> list[str]:
    """The names of a zip's .ipynb members, without macOS resource forks and Jupyter checkpoints."""
    names = (m.filename for m in members if not m.filename.endswith("/"))
    return [n for n in names if _is_notebook_name(n) and not _is_junk_member(n)]


def _member_stem(member: str) -> str:
    """A zip member's file name without folders or extension (zips from Windows may use backslashes)."""
    return PurePosixPath(member.replace("\\", "/")).stem


def _is_junk_member(member: str) -> bool:
    """macOS resource forks and Jupyter checkpoints, which are copies, not submissions."""
    parts = PurePosixPath(member.replace("\\", "/")).parts
    return "__MACOSX" in parts or ".ipynb_checkpoints" in parts or parts[-1].startswith("._")


def _choose_notebook(names: list[str], assignment: str) -> tuple[str | None, list[str], str | None]:
    """Which of a folder's notebooks is the assignment's: (chosen, ignored others, problem).

    The one named <assignment>.ipynb (any case), else the only one; else a
    problem starting with 'holds', for 'the folder ...' or 'the zip file ...'.
    """
    expected = f"{assignment}.ipynb"
    exact = [n for n in names if PurePosixPath(n).name.lower() == expected.lower()]
    if exact:
        return exact[0], [n for n in names if n != exact[0]], None
    if len(names) == 1:
        return names[0], [], None
    if not names:
        return None, [], f"holds no .ipynb notebook; submit {expected}"
    return None, [], f"holds several notebooks ({_listing(names)}) and none is named {expected}"


# --------------------------------------------------------------------------
# Reading files without trusting them
# --------------------------------------------------------------------------


def _open_regular(path: Path):
    """`path` opened for binary reading, refusing symbolic links, pipes and devices."""
    try:
        if stat.S_ISLNK(path.lstat().st_mode):
            raise _Invalid("the file is a symbolic link, which is not followed; submit the file itself")
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        stream = os.fdopen(os.open(path, flags), "rb")
    except OSError as error:
        raise _Invalid(f"the file could not be read ({error.strerror})") from None
    if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
        stream.close()
        raise _Invalid("not a regular file")
    return stream


def _check_size(size: int, limit: int) -> None:
    """Refuse a file larger than `limit` bytes."""
    if size > limit:
        raise _Invalid(f"the file is {_size(size)}; the limit is {_size(limit)}")


def _read_notebook_file(path: Path) -> bytes:
    """The bytes of a notebook file, at most MAX_NOTEBOOK_BYTES of them."""
    with _open_regular(path) as stream:
        _check_size(os.fstat(stream.fileno()).st_size, MAX_NOTEBOOK_BYTES)
        data = stream.read(MAX_NOTEBOOK_BYTES + 1)
    _check_size(len(data), MAX_NOTEBOOK_BYTES)
    return data


def _list_zip(path: Path) -> list[zipfile.ZipInfo]:
    """The members of a zip file, without reading them; _Invalid if it is too big or unreadable."""
    with _open_regular(path) as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > MAX_ZIP_TOTAL_BYTES:
            raise _Invalid(f"the zip file is {_size(size)}; the limit is {_size(MAX_ZIP_TOTAL_BYTES)}")
        try:
            with zipfile.ZipFile(stream) as archive:
                return archive.infolist()
        except Exception as error:  # zipfile raises many kinds of errors on damaged or hostile files
            raise _Invalid(f"not a readable zip file: {_one_line(error)}") from None


def _zip_limits_problem(members: list[zipfile.ZipInfo]) -> str | None:
    """Why a zip is too big to open (a zip bomb, perhaps), or None."""
    if len(members) > MAX_ZIP_MEMBERS:
        return f"the zip file holds {len(members)} files; the limit is {MAX_ZIP_MEMBERS}"
    total = sum(m.file_size for m in members)
    if total > MAX_ZIP_TOTAL_BYTES:
        return f"the zip file unpacks to {_size(total)}; the limit is {_size(MAX_ZIP_TOTAL_BYTES)}"
    return None


def _read_zip_member(path: Path, member: str) -> bytes:
    """The bytes of one zip member, read with ZipFile.open (never extracted), at most MAX_NOTEBOOK_BYTES."""
    with _open_regular(path) as stream:
        try:
            with zipfile.ZipFile(stream) as archive:
                info = archive.getinfo(member)
                _check_size(info.file_size, MAX_NOTEBOOK_BYTES)
                if info.flag_bits & 0x1:
                    raise _Invalid(f"not a readable zip file: {_printable(member)} is password-protected")
                with archive.open(info) as member_stream:
                    data = member_stream.read(MAX_NOTEBOOK_BYTES + 1)
        except _Invalid:
            raise
        except Exception as error:  # bad CRC, encryption, unknown compression, truncation...
            raise _Invalid(f"not a readable zip file: {_printable(member)}: {_one_line(error)}") from None
    _check_size(len(data), MAX_NOTEBOOK_BYTES)
    return data


def _read_notebook(data: bytes) -> nbformat.NotebookNode:
    """The notebook in a file's bytes, as valid nbformat 4, or _Invalid saying what is wrong."""
    if not data.strip():
        raise _Invalid("the file is empty")
    text = _decode(data)
    content = _parse_json(text)
    _check_is_notebook(content)
    return _validated(text, content)


def _decode(data: bytes) -> str:
    """The file's text: notebooks are UTF-8 (a byte-order mark is tolerated)."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Invalid(
            f"not UTF-8 text (byte 0x{data[error.start]:02x} at position {error.start}): "
            "a notebook is a UTF-8 JSON file; submit the .ipynb file saved by Jupyter"
        ) from None


def _parse_json(text: str) -> object:
    """The JSON value in `text`, or _Invalid naming the line and column where it breaks."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _Invalid(
            f"not valid JSON (line {error.lineno}, column {error.colno}): "
            "the notebook file is damaged or truncated; re-download it from Jupyter"
        ) from None
    except (ValueError, RecursionError) as error:  # e.g. a 5000-digit number, nesting too deep
        raise _Invalid(f"not valid JSON: {_one_line(error)}") from None


def _check_is_notebook(content: object) -> None:
    """Refuse JSON that is plainly not a notebook: not an object, without 'nbformat' 3 or 4."""
    if not isinstance(content, dict):
        kinds = {list: "a list", str: "a string", bool: "true or false", type(None): "null"}
        kind = kinds.get(type(content), "a number")
        raise _Invalid(f"not a Jupyter notebook: the file holds {kind}, not a notebook's JSON object")
    if "nbformat" not in content:
        raise _Invalid("not a Jupyter notebook: the JSON has no 'nbformat' field")
    version = content["nbformat"]
    if type(version) is not int or version not in (3, 4):
        raise _Invalid(_one_line(f"not a Jupyter notebook: its nbformat version is {version!r}; notebooks have 3 or 4"))


def _validated(text: str, content: dict) -> nbformat.NotebookNode:
    """The notebook in `text` (parsed: `content`) converted to nbformat 4, normalised and validated.

    This is `nbformat.reads(text, as_version=4)` (which upgrades nbformat 3)
    followed by `nbformat.validate`, done in steps so that nbformat logs
    nothing: its complaints become the _Invalid message. Missing or duplicate
    cell ids are repaired, as nbformat does, without a warning.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            notebook = nbformat.convert(nbformat_reader.reads(text), 4)
        except Exception as error:  # nbformat raises many kinds of errors on JSON that is not a notebook
            raise _Invalid(_schema_problem(content) or f"not a Jupyter notebook: {_one_line(error)}") from None
        try:
            _, notebook = normalize(notebook)
        except Exception:  # the validator says better what is wrong
            pass
        problem = _schema_problem(notebook)
    if problem:
        raise _Invalid(problem)
    return notebook


def _schema_problem(notebook: dict) -> str | None:
    """What `nbformat.validate` finds wrong with `notebook`, in one line, or None."""
    try:
        nbformat.validate(notebook)
    except nbformat.ValidationError as error:
        return f"not a valid Jupyter notebook: {_validation_message(error)}"
    except Exception as error:  # the validator too can trip over odd shapes
        return f"not a valid Jupyter notebook: {_one_line(error)}"
    return None


def _validation_message(error: nbformat.ValidationError) -> str:
    """The validator's complaint in one line, prefixed by where it is: 'cells[3].source: ...'."""
    path = getattr(error, "absolute_path", ())
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    message = getattr(error, "message", None) or str(error)
    return _one_line(f"{where}: {message}" if where else message)


# --------------------------------------------------------------------------
# Choosing, staging, reporting
# --------------------------------------------------------------------------


def _submissions_folder(path: Path) -> Path:
    """SUBMISSIONS, if it is a folder; else the error that stops the grader."""
    if not path.exists():
        raise FileNotFoundError(f"the submissions folder {path} does not exist")
    if not path.is_dir():
        raise NotADirectoryError(f"{path} is not a folder: give the folder that holds the students' submissions")
    return path


def _check_only(only: Sequence[str] | None, known: tuple[str, ...]) -> list[str]:
    """Warnings about names in `only` that are no assignment of this course."""
    return [
        f"'{name}' is not an assignment of this course ({', '.join(known)})"
        for name in (only or ())
        if name not in known
    ]


def _is_wanted(candidate: _Candidate, known: tuple[str, ...], only: Sequence[str] | None) -> bool:
    """Everything without `only`; with it, only its known assignments."""
    return only is None or (candidate.assignment in only and candidate.assignment in known)


def _with_student_ids(candidates: list[_Candidate]) -> tuple[list[_Candidate], list[str]]:
    """The candidates with their student ids (student_ids.assign), and a warning for each id that two
    different names would share, naming the files and how they were told apart; also logged (stderr)."""
    files = defaultdict(list)
    for candidate in candidates:
        files[candidate.student_id].append(candidate.origin)
    ids = student_ids.assign(files)
    notes = student_ids.collisions(files)
    for note in notes:
        _log.warning(note)
    return [replace(c, student_id=ids[c.student_id]) for c in candidates], notes


def _group(candidates: list[_Candidate]) -> dict[tuple[str, str], list[_Candidate]]:
    """Candidates by (student_id, assignment)."""
    groups = defaultdict(list)
    for candidate in candidates:
        groups[candidate.student_id, candidate.assignment].append(candidate)
    return groups


def _newest(group: list[_Candidate]) -> tuple[_Candidate, list[_Candidate]]:
    """The candidate to grade and the others, newest first.

    The newest by modification time wins (a tie goes to the origin that sorts
    last); candidates that are no notebook at all ('fallback') win only alone.
    """
    contenders = [c for c in group if not c.fallback] or group
    winner = max(contenders, key=_recency)
    losers = sorted((c for c in group if c is not winner), key=_recency, reverse=True)
    return winner, losers


def _recency(candidate: _Candidate) -> tuple[float, str]:
    """What orders two submissions: modification time, then origin."""
    return candidate.mtime, candidate.origin


def _replaced_message(winner: _Candidate, losers: list[_Candidate]) -> str:
    """'alice/01_x: graded <origin> (newest), ignored <origins>'; '(the newest that counts)' when a
    newer file was no notebook or had an ambiguous name."""
    ignored = ", ".join(
        f"{c.origin} ({c.fallback})" if c.fallback and not winner.fallback else c.origin for c in losers
    )
    newest = "newest" if all(_recency(winner) >= _recency(c) for c in losers) else "the newest that counts"
    return f"{winner.student_id}/{winner.assignment}: graded {winner.origin} ({newest}), ignored {ignored}"


def _stage(candidate: _Candidate, superseded: tuple[str, ...], staging: Path) -> tuple[Submission, list[str]]:
    """The Submission for a chosen candidate: its notebook read, checked, mended (copied_cells) and
    staged, or its problem; and a warning for each copied nbgrader cell that was mended."""
    problem, staged, notes = candidate.problem, None, []
    if problem is None:
        try:
            notebook = _read_notebook(candidate.load())
            notes = copied_cells.keep_one_copy(notebook)
            folder = staging / candidate.student_id / candidate.assignment
            staged = _write_staged(notebook, folder, candidate.assignment)
        except _Invalid as invalid:
            problem = str(invalid)
        except OSError as error:
            problem = f"the file could not be read ({error.strerror or error})"
    mended = [f"{candidate.student_id}/{candidate.assignment}: {note}" for note in notes if staged]
    submission = Submission(candidate.student_id, candidate.assignment, staged, problem, candidate.origin, superseded,
                            candidate.mtime, candidate.marked_late)
    return submission, mended


def _write_staged(notebook: nbformat.NotebookNode, folder: Path, assignment: str) -> Path:
    """Write `notebook` as folder/<assignment>.ipynb with nbformat; _Invalid if that fails."""
    path = folder / f"{assignment}.ipynb"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, path)
    except (OSError, ValueError) as error:
        raise _Invalid(f"the notebook could not be copied for grading ({_one_line(error)})") from None
    return path


# --------------------------------------------------------------------------
# Small text helpers
# --------------------------------------------------------------------------


def _mtime(path: Path) -> float:
    """The modification time of `path` itself (a symbolic link is not followed); 0 if unknown."""
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def _join(rel: str, name: str) -> str:
    """An origin: the file `name` under the relative folder `rel`, printable."""
    return f"{rel}/{_printable(name)}" if rel else _printable(name)


def _printable(text: str) -> str:
    """`text` safe to print on one line: control characters and undecodable bytes escaped."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _one_line(message: object, limit: int = 200) -> str:
    """`message` on one line, cut to about `limit` characters."""
    text = " ".join(_printable(line) for line in str(message).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _listing(names: Sequence[str], shown: int = 5) -> str:
    """'a, b, c' or 'a, b, c, d, e and 7 more'."""
    names = [_printable(n) for n in names]
    rest = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {rest} more" if rest > 0 else "")
