"""The parent's side of grading: the course gradebook, the CSVs, the summary.

Only the parent process writes the course gradebook (nbgrader's sqlite file):
the workers send their results here. The scores in grades.csv and tests.csv
are then read back from that gradebook with nbgrader's `Gradebook` API, so
they include what a person graded by hand in the formgrader, and a re-run
never overwrites those manual scores.
"""

from __future__ import annotations

import csv
import html
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from conv_lib.diagnose.codes import CODES

from .inert import POLICY_META

COURSE_ID = "conv-channels"

#: score: what the submission earns after any late penalty (late_work.py); auto_score and manual_score as
#: graded; late: empty when on time, else how late in words and the points deducted.
GRADE_COLUMNS = ["student_id", "assignment", "score", "max_score", "auto_score", "manual_score", "status", "late"]
TEST_COLUMNS = ["student_id", "assignment", "grade_id", "points", "max_points", "message"]
STATUSES = ["ok", "needs_manual_grade", "tampered", "timeout", "error", "invalid", "missing"]


@dataclass
class Row:
    """One line of grades.csv, with the tests.csv lines of that submission."""

    student_id: str
    assignment: str
    score: float
    max_score: float
    auto_score: float
    manual_score: float
    status: str
    message: str = ""
    tests: list = None  # [(grade_id, points, max_points, message)]
    late: str = ""  # the `late` column: '' on time, else late_work.late_column


def record(gradebook, graded, kinds):
    """Write one worker result into the course gradebook.

    graded: the worker's dict (student_id, assignment, status, cells);
    kinds: {grade_id: (kind, points)}. Autograded cells get the worker's
    points (0 when the notebook did not run). Written answers get what
    nbgrader's autograde decided (an answer left blank scores 0 at once; any
    other waits for a person) but keep any manual score a person already
    gave: a re-run never undoes manual grading.
    """
    student, assignment = graded["student_id"], graded["assignment"]
    gradebook.update_or_create_student(student)
    submission = gradebook.update_or_create_submission(assignment, student)
    cells = {cell["grade_id"]: cell for cell in graded["cells"]}
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            kind = kinds.get(grade.name, ("test", 0))[0]
            cell = cells.get(grade.name, {"points": 0.0, "needs_manual_grade": False})
            if kind == "test":
                grade.auto_score = float(cell["points"])
                grade.needs_manual_grade = False
            else:
                grade.auto_score = None if cell["needs_manual_grade"] else float(cell["points"])
                grade.needs_manual_grade = cell["needs_manual_grade"] and grade.manual_score is None
    gradebook.db.commit()


def record_failure(gradebook, student, assignment, kinds):
    """A submission that could not be graded scores 0 on its autograded cells
    (manual scores of written answers stay)."""
    record(gradebook, {"student_id": student, "assignment": assignment, "cells": [], "status": "invalid"}, kinds)


def read_row(gradebook, student, assignment, status, message, kinds, messages):
    """The grades.csv row of one submission, from the course gradebook.

    kinds: {grade_id: (kind, points)}; messages: {grade_id: first failing line}.
    """
    submission = gradebook.find_submission(assignment, student)
    grades = {grade.name: grade for notebook in submission.notebooks for grade in notebook.grades}
    auto = manual = maximum = 0.0
    waiting = False
    tests = []
    for grade_id, (kind, max_points) in kinds.items():
        grade = grades.get(grade_id)
        score = float(grade.score or 0.0) if grade is not None else 0.0
        maximum += max_points
        if kind == "test":
            auto += score
            tests.append((grade_id, score, max_points, messages.get(grade_id, "")))
        else:
            manual += score
            waiting = waiting or (grade is not None and grade.needs_manual_grade)
    if status == "ok" and waiting:
        status = "needs_manual_grade"
    return Row(student, assignment, auto + manual, maximum, auto, manual, status, message, tests)


def empty_row(student, assignment, status, message, kinds):
    """A row for a submission with nothing in the gradebook (unknown assignment)."""
    maximum = sum(points for _, points in kinds.values())
    tests = [(grade_id, 0.0, points, "") for grade_id, (kind, points) in kinds.items() if kind == "test"]
    return Row(student, assignment, 0.0, maximum, 0.0, 0.0, status, message, tests)


def number(value):
    """Points as the CSVs print them: 4, 2.5."""
    return f"{value:g}"


#: A CSV text cell starting with one of these is run as a formula by spreadsheets (=, +, -, @, or a tab or
#: carriage return before them); a quote is added so that reading back can remove exactly the quote added.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def spreadsheet_text(text):
    """`text` as a CSV cell that a spreadsheet shows as text and never runs: a cell starting with one of
    FORMULA_STARTS gets a single quote in front ("=HYPERLINK(...)" -> "'=HYPERLINK(...)"), as OWASP
    advises against CSV injection. text_from_spreadsheet undoes it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def text_from_spreadsheet(cell):
    """The text that spreadsheet_text wrote as `cell`: "'-x" -> "-x", "''a" -> "'a", "ok" -> "ok"."""
    return cell.removeprefix("'")


def write_table(path, columns, lines):
    """Write a CSV file of the course: a header of `columns`, then one line per item of `lines`.

    Every CSV the course writes goes through here. In each line, numbers (int,
    float) are written as the course writes points (`number`) and stay numbers
    for a spreadsheet; every other value is text, written with spreadsheet_text
    (it may come from a student: an id, an exception's message). read_table
    reads the file back. Lines end in CRLF (RFC 4180): the csv module then
    quotes any cell holding a carriage return, which would otherwise end the
    line for a spreadsheet and start a line of the student's making."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(columns)
        for line in lines:
            writer.writerow([number(value) if isinstance(value, (int, float)) and not isinstance(value, bool)
                             else spreadsheet_text(str(value)) for value in line])


def read_table(path):
    """The lines of a CSV file written by write_table, as {column: text} with each text as it was given."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [{column: text_from_spreadsheet(cell or "") for column, cell in line.items()}
                for line in csv.DictReader(handle)]


def write_csvs(rows, out):
    """OUT/grades.csv and OUT/tests.csv (write_table), sorted by student and assignment."""
    rows = sorted(rows, key=lambda row: (row.student_id, row.assignment))
    write_table(Path(out) / "grades.csv", GRADE_COLUMNS,
                ([row.student_id, row.assignment, row.score, row.max_score, row.auto_score, row.manual_score,
                  row.status, row.late] for row in rows))
    write_table(Path(out) / "tests.csv", TEST_COLUMNS,
                ([row.student_id, row.assignment, grade_id, points, max_points, message]
                 for row in rows for grade_id, points, max_points, message in row.tests or []))


def read_statuses(out):
    """{(student, assignment): status} from an earlier grades.csv."""
    path = Path(out) / "grades.csv"
    if not path.exists():
        return {}
    return {(line["student_id"], line["assignment"]): line["status"] for line in read_table(path)}


def read_late(out):
    """{(student, assignment): the `late` cell} from an earlier grades.csv ('' for a file from before the column)."""
    path = Path(out) / "grades.csv"
    if not path.exists():
        return {}
    return {(line["student_id"], line["assignment"]): line.get("late", "") for line in read_table(path)}


def read_test_messages(out):
    """{(student, assignment): {grade_id: message}} from an earlier tests.csv."""
    path = Path(out) / "tests.csv"
    messages = {}
    if path.exists():
        for line in read_table(path):
            messages.setdefault((line["student_id"], line["assignment"]), {})[line["grade_id"]] = line["message"]
    return messages


CODE = re.compile(r"^\[([a-z0-9-]+)\]")
#: In tests.csv, joins the problems a check lists one per line (worker.failure_messages).
PROBLEM_SEPARATOR = " | "
#: How many misconceptions the summary lists.
TOP_MISCONCEPTIONS = 5


def misconception_lines(rows, top=TOP_MISCONCEPTIONS):
    """The summary's lines on the misconceptions behind failed tests: the `top` most common,
    one per line, "  [no-channel-sum] 12: one map per input channel instead of their sum".

    A failing test's message comes from the student's kernel, so only the leading code of
    each problem it lists is read, and only a code of CODES is shown, with CODES's own sentence; messages that start
    with any other code are counted on one line that does not repeat them. [] when none.
    """
    found = [match.group(1) for row in rows for _, _, _, message in row.tests or []
             for problem in (message or "").split(PROBLEM_SEPARATOR) for match in [CODE.match(problem)] if match]
    known = Counter(code for code in found if code in CODES)
    unknown = len(found) - sum(known.values())
    if not found:
        return []
    lines = ["most common misconceptions:"]
    lines += [f"  [{code}] {n}: {CODES[code]}" for code, n in known.most_common(top)]
    if unknown:
        lines.append(f"  {unknown} failed test(s) began with a code the course does not define")
    return lines


def summary(rows, notes=()):
    """The text printed at the end of a run."""
    submitted = [row for row in rows if row.status != "missing"]
    lines = [f"graded {len(submitted)} submission(s) of {len({row.student_id for row in submitted})} student(s)"]
    scored = [row for row in submitted if row.max_score > 0]
    if scored:
        mean = sum(row.score / row.max_score for row in scored) / len(scored)
        lines.append(f"mean score: {100 * mean:.1f}% of the points (submissions only)")
    counts = Counter(row.status for row in rows)
    lines.append("status: " + ", ".join(f"{status} {counts[status]}" for status in STATUSES if counts[status]))
    lines += misconception_lines(rows)
    problems = [row for row in rows if row.status not in ("ok", "needs_manual_grade", "missing")]
    for row in problems:
        lines.append(f"  {row.student_id}/{row.assignment}: {row.status}: {row.message}")
    late = [row for row in rows if row.late]
    if late:
        lines.append(f"late: {len(late)} submission(s)")
        lines += [f"  {row.student_id}/{row.assignment}: {row.late}" for row in late]
    lines += [f"  note: {line}" for line in notes]
    return "\n".join(lines)


def problem_page(row, why=""):
    """The short feedback page of a submission nbgrader made no page for: its status, score and
    message, and `why` the full page is missing (when it is known). No script, and a
    Content-Security-Policy that forbids any (inert.POLICY_META)."""
    title = html.escape(f"{row.assignment}: {row.student_id}")
    said = f"<p>{html.escape(row.message)}</p>\n" if row.message else ""
    if why:
        said += f"<p>The full feedback page could not be made: {html.escape(why)}</p>\n"
    return (
        f"<!DOCTYPE html>\n<html><head>{POLICY_META}<meta charset='utf-8'><title>{title}</title></head><body>\n"
        f"<h1>{title}</h1>\n<p>Status: <b>{html.escape(row.status)}</b>. Score: {number(row.score)} / "
        f"{number(row.max_score)}.</p>\n{said or '<p>No notebook was graded.</p>' + chr(10)}"
        "</body></html>\n"
    )
