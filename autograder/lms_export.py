"""`conv-course export OUT --to canvas|moodle`: OUT/grades.csv as the CSV file an LMS gradebook imports.

Read: OUT/grades.csv, OUT/students.csv (lms_students.py: who each Canvas or
Moodle number is) and, with --roster, the LMS's own export of its learners.
Written: OUT/canvas-grades.csv or OUT/moodle-grades.csv (--output FILE
elsewhere), one line per learner, one column per assignment graded in OUT.

Canvas (Grades > Import), the rules of Canvas's importer
(canvas-lms app/models/gradebook_importer.rb) and of Instructure's guide "How
do I import grades in the Gradebook?":
  - the header is `Student, ID, SIS User ID, SIS Login ID, Section`, then the
    assignments; the importer requires `Student` first, `ID` second and
    `Section` last of the learner columns;
  - a learner is found by `ID` (Canvas's user number, the number of the
    downloaded file names), else by SIS User ID, SIS Login ID, then name;
  - an assignment column `Name (12345)` updates the assignment 12345, a column
    named exactly as an assignment updates it, any other creates a new one: so
    `--assignment-name 02_multi_channel="Notebook 2 (12345)"`;
  - a line whose first cell holds `Points Possible` is no learner: its cells
    give a new assignment its points. It is written second, as Canvas's own
    export does (the points of grades.csv, or 100 with --as percent).
Moodle (Grades > Import > CSV file), the rules of Moodle's gradeimport_csv
(grade/import/grade_import_form.php, grade/import/csv/classes/load_data.php):
  - "Identify user by": a column mapped to one of Moodle's userid, username,
    useridnumber or useremail. The number of a Moodle file name is none of
    these: it is the assignment's participant number (mod/assign's
    get_uniqueid_for_user, one per learner and assignment). So Moodle needs
    --roster (its grades export: Grades > Export > Plain text file) and a
    graded learner is found there by the full name of the file name (Moodle
    writes `First Last`); the file copies `First name, Last name, ID number,
    Email address` from it, then the assignments. On import choose Map from
    `Email address`, Map to `Email address` (or ID number to useridnumber),
    and map each assignment column to its grade item.
Both: scores are points (--as percent: 100 x score / max_score, 2 decimals).
A cell is left empty for work not handed in (status `missing`, or a roster
learner with no line in grades.csv) and for work still waiting for a person
(`needs_manual_grade`); an empty cell sets no grade. --missing-as-zero writes
0 for work not handed in. Every text cell, names included, is written with
results.spreadsheet_text (no formula runs); a line that cannot be placed is a
warning, never the end of the export.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from . import lms_students, results

LMSES = ("canvas", "moodle")
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["First name", "Last name", "ID number", "Email address"]
POINTS_POSSIBLE = "Points Possible"
MAX_ROSTER_BYTES = 50_000_000
_DIGITS = re.compile(r"[0-9]+")


class ExportError(ValueError):
    """The export cannot be made; the message says what was expected and what was given."""


@dataclass
class Learner:
    """One line of the exported file: who (the LMS's columns) and their cell per assignment."""

    who: dict[str, str]
    cells: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Options:
    """How to export: which LMS, points or percent, zeros for missing work, the assignment column names."""

    lms: str
    percent: bool = False
    missing_as_zero: bool = False
    names: dict[str, str] = field(default_factory=dict)


def default_output(out, lms: str) -> Path:
    """Where the file goes without --output: OUT/canvas-grades.csv or OUT/moodle-grades.csv."""
    return Path(out) / f"{lms}-grades.csv"


def parse_names(pairs) -> dict[str, str]:
    """{assignment: LMS column} from ['02_multi_channel=Notebook 2 (12345)', ...]."""
    names = {}
    for pair in pairs:
        assignment, sep, name = pair.partition("=")
        if not sep or not assignment.strip() or not name.strip():
            raise ExportError(f"--assignment-name takes ASSIGNMENT=COLUMN (e.g. 02_multi_channel=\"Notebook 2 "
                              f"(12345)\"), got {pair!r}")
        names[assignment.strip()] = name.strip()
    return names


# --------------------------------------------------------------------------
# What OUT holds
# --------------------------------------------------------------------------


def read_grades(out) -> list[dict[str, str]]:
    """The lines of OUT/grades.csv; ExportError when there is none."""
    path = Path(out) / "grades.csv"
    if not path.is_file():
        raise ExportError(f"expected {path}, written by `conv-course grade SUBMISSIONS --out {out}`; there is none")
    return results.read_table(path)


def graded_assignments(grades) -> list[str]:
    """The assignments with points to give in grades.csv (an unknown assignment a student named has none)."""
    return sorted({line["assignment"] for line in grades if _number(line.get("max_score")) not in (None, 0.0)})


def _number(text):
    """The float a grades.csv cell holds, or None."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def cell(line, percent: bool, missing_as_zero: bool):
    """The grade cell of one grades.csv line: points, a percentage, or '' (nothing handed in, or not yet graded)."""
    status, score, maximum = line.get("status", ""), _number(line.get("score")), _number(line.get("max_score"))
    if status == "missing":
        return 0 if missing_as_zero else ""
    if status == "needs_manual_grade" or score is None or maximum is None:
        return ""
    if percent:
        return round(100 * score / maximum, 2) if maximum else ""
    return score


# --------------------------------------------------------------------------
# The roster: the LMS's own export of its learners
# --------------------------------------------------------------------------


def read_roster(path, columns) -> list[dict[str, str]]:
    """The learners of an LMS export: its lines as {column: text}, without Canvas's Points Possible and
    posting lines. ExportError when a needed column is missing."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"expected the roster, a CSV file exported by the LMS; {path} is no file")
    if path.stat().st_size > MAX_ROSTER_BYTES:
        raise ExportError(f"the roster {path} is over {MAX_ROSTER_BYTES} bytes; expected an LMS's export of learners")
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        lacking = [name for name in columns if name not in header]
        if lacking:
            raise ExportError(f"the roster {path} needs the columns {', '.join(columns)}; it lacks "
                              f"{', '.join(lacking)} (its header: {', '.join(header) or 'none'})")
        reader.fieldnames = header
        lines = [{key: (value or "").strip() for key, value in line.items() if isinstance(key, str)}
                 for line in reader]
    return [line for line in lines if POINTS_POSSIBLE not in line.get(columns[0], "") and any(line.values())]


# --------------------------------------------------------------------------
# Canvas
# --------------------------------------------------------------------------


def canvas_learners(grades, students, roster, options) -> tuple[list[Learner], list[str]]:
    """The learners of a Canvas import, keyed by Canvas user number, with warnings."""
    names = {s["student_id"]: s["name_from_file"] for s in students if s["lms"] == "canvas"}
    numbers = {s["student_id"]: s["lms_id"] for s in students if s["lms"] == "canvas"}
    learners, warnings = {}, []
    for line in roster or []:
        if _DIGITS.fullmatch(line["ID"]):
            learners[line["ID"]] = Learner({column: line[column] for column in CANVAS_COLUMNS})
    for line in grades:
        student = line["student_id"]
        number = numbers.get(student) or (student if _DIGITS.fullmatch(student) else None)
        if number is None:
            warnings.append(f"{student}/{line['assignment']}: not exported: the id is no Canvas user number "
                            "(the file name was not a Canvas download's)")
            continue
        if number not in learners:
            if roster is not None:
                warnings.append(f"{student}: Canvas user {number} is not in the roster; exported by number")
            learners[number] = Learner({"Student": names.get(student, ""), "ID": number, "SIS User ID": "",
                                        "SIS Login ID": "", "Section": ""})
        learners[number].cells[line["assignment"]] = cell(line, options.percent, options.missing_as_zero)
    return list(learners.values()), _dedupe(warnings)


# --------------------------------------------------------------------------
# Moodle
# --------------------------------------------------------------------------


def name_key(text: str) -> str:
    """A full name as compared across a Moodle file name and its roster: letters and digits, one space apart,
    any case ('Ana_María  O\u2019Neil' and 'ana maría o neil' agree)."""
    return " ".join(re.sub(r"[\W_]+", " ", unicodedata.normalize("NFC", text)).split()).casefold()


def moodle_learners(grades, students, roster, options) -> tuple[list[Learner], list[str]]:
    """The learners of a Moodle import, one per roster line; a graded participant is found by full name."""
    if roster is None:
        raise ExportError("Moodle's grade import identifies a learner by email address, ID number, username or "
                          "user id, and a Moodle file name carries only the full name and a participant number: "
                          "expected --roster FILE (Moodle: Grades > Export > Plain text file), got none")
    by_name = {}
    learners = []
    for line in roster:
        learner = Learner({column: line[column] for column in MOODLE_COLUMNS})
        learners.append(learner)
        by_name.setdefault(name_key(f"{line['First name']} {line['Last name']}"), []).append(learner)
    full_names = {s["student_id"]: s["name_from_file"] for s in students if s["lms"] == "moodle"}
    warnings = []
    for line in grades:
        student, assignment = line["student_id"], line["assignment"]
        full_name = full_names.get(student)
        found = by_name.get(name_key(full_name)) if full_name else None
        if full_name is None:
            warnings.append(f"{student}/{assignment}: not exported: no Moodle name recorded for it in "
                            f"{lms_students.FILE_NAME} (grade it again with this version)")
        elif not found:
            warnings.append(f"{student}/{assignment}: not exported: no learner named {full_name!r} in the roster")
        elif len(found) > 1:
            warnings.append(f"{student}/{assignment}: not exported: {len(found)} learners of the roster are named "
                            f"{full_name!r}; enter this grade by hand")
        else:
            found[0].cells[assignment] = cell(line, options.percent, options.missing_as_zero)
    return learners, _dedupe(warnings)


def _dedupe(warnings):
    """The warnings, each once, in order."""
    return list(dict.fromkeys(warnings))


# --------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------


def table(learners, assignments, options, points) -> tuple[list[str], list[list]]:
    """(header, lines) of the file: the learner columns, one column per assignment; for Canvas, the Points
    Possible line second (points: {assignment: its points}). A learner without a cell for an assignment
    gets '' (0 with missing_as_zero)."""
    canvas = options.lms == "canvas"
    who = CANVAS_COLUMNS if canvas else MOODLE_COLUMNS
    header = who + [options.names.get(a, a) for a in assignments]
    lines = [[learner.who.get(column, "") for column in who]
             + [learner.cells.get(a, 0 if options.missing_as_zero else "") for a in assignments]
             for learner in learners]
    if canvas:
        lines.insert(0, [POINTS_POSSIBLE] + [""] * (len(who) - 1) + [points.get(a, "") for a in assignments])
    return header, lines


def export(out, options: Options, roster=None, output=None) -> tuple[Path, list[str]]:
    """Write the import file of `options.lms` for OUT; returns its path and the warnings."""
    if options.lms not in LMSES:
        raise ExportError(f"expected --to canvas or --to moodle, got {options.lms!r}")
    grades = read_grades(out)
    assignments = graded_assignments(grades)
    unknown = sorted(set(options.names) - set(assignments))
    if unknown:
        raise ExportError(f"--assignment-name names {', '.join(unknown)}, not graded in {out}; "
                          f"expected one of {', '.join(assignments) or '(none)'}")
    students = lms_students.read(out)
    columns = CANVAS_COLUMNS if options.lms == "canvas" else MOODLE_COLUMNS
    people = read_roster(roster, columns) if roster else None
    build = canvas_learners if options.lms == "canvas" else moodle_learners
    learners, warnings = build(grades, students, people, options)
    waiting = sum(line.get("status") == "needs_manual_grade" for line in grades)
    if waiting:
        warnings.append(f"{waiting} submission(s) wait for a person's grading: their cells are empty; grade them "
                        f"in the formgrader, run `conv-course feedback --out {out}`, then export again")
    points = dict.fromkeys(assignments, 100) if options.percent else points_possible(grades)
    header, lines = table(learners, assignments, options, points)
    path = Path(output) if output else default_output(out, options.lms)
    path.parent.mkdir(parents=True, exist_ok=True)
    results.write_table(path, [results.spreadsheet_text(name) for name in header], lines)
    return path, warnings


def points_possible(grades) -> dict[str, float]:
    """{assignment: its max_score} from grades.csv (the largest, should lines differ)."""
    points = {}
    for line in grades:
        maximum = _number(line.get("max_score"))
        if maximum:
            points[line["assignment"]] = max(points.get(line["assignment"], 0.0), maximum)
    return points
