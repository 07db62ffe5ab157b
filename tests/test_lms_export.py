"""`conv-course export`: grades.csv becomes the CSV file Canvas's or Moodle's gradebook imports.

Each worked example is a tiny OUT folder written here (grades.csv and
students.csv) and the expected file written out by hand from the LMS's rules
(autograder/lms_export.py lists them): Canvas's header Student, ID, SIS User
ID, SIS Login ID, Section and its Points Possible line; Moodle's learner
columns copied from its roster, a learner found by the full name of the file.
"""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import lms_export, lms_students
from autograder.lms_export import ExportError, Options

REPO = Path(__file__).resolve().parent.parent

GRADES = """\
student_id,assignment,score,max_score,auto_score,manual_score,status
12345,01_single_channel,8,10,8,0,ok
12345,02_multi_channel,7.5,12,7.5,0,ok
67890,01_single_channel,0,10,0,0,missing
67890,02_multi_channel,12,12,12,0,ok
"""
STUDENTS = """\
student_id,assignment,lms,lms_id,name_from_file
12345,01_single_channel,canvas,12345,smithjohn
12345,02_multi_channel,canvas,12345,smithjohn
67890,02_multi_channel,canvas,67890,doejane
"""
CANVAS_ROSTER = """\
Student,ID,SIS User ID,SIS Login ID,Section,Notebook 1 (111)
    Points Possible,,,,,10
"Smith, John",12345,S-1,jsmith,Lab A,
"Doe, Jane",67890,S-2,jdoe,Lab B,
"Roe, Rick",24680,S-3,rroe,Lab A,
"""


def out_folder(tmp_path, grades=GRADES, students=STUDENTS):
    """An OUT folder with the given grades.csv and students.csv."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "grades.csv").write_text(grades, encoding="utf-8")
    (out / lms_students.FILE_NAME).write_text(students, encoding="utf-8")
    return out


def written(path):
    """The bytes of a written file as text, CRLF kept."""
    return Path(path).read_bytes().decode("utf-8")


def test_canvas_worked_example(tmp_path):
    out = out_folder(tmp_path)
    path, warnings = lms_export.export(out, Options("canvas"))
    assert path == out / "canvas-grades.csv"
    assert written(path) == (
        "Student,ID,SIS User ID,SIS Login ID,Section,01_single_channel,02_multi_channel\r\n"
        "Points Possible,,,,,10,12\r\n"
        "smithjohn,12345,,,,8,7.5\r\n"
        "doejane,67890,,,,,12\r\n"
    )
    assert warnings == []


def test_canvas_roster_fills_names_and_adds_who_sent_nothing(tmp_path):
    out = out_folder(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text(CANVAS_ROSTER, encoding="utf-8")
    path, _ = lms_export.export(out, Options("canvas"), roster=roster)
    assert written(path) == (
        "Student,ID,SIS User ID,SIS Login ID,Section,01_single_channel,02_multi_channel\r\n"
        "Points Possible,,,,,10,12\r\n"
        '"Smith, John",12345,S-1,jsmith,Lab A,8,7.5\r\n'
        '"Doe, Jane",67890,S-2,jdoe,Lab B,,12\r\n'
        '"Roe, Rick",24680,S-3,rroe,Lab A,,\r\n'
    )


def test_missing_work_is_zero_only_when_asked(tmp_path):
    out = out_folder(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text(CANVAS_ROSTER, encoding="utf-8")
    path, _ = lms_export.export(out, Options("canvas", missing_as_zero=True), roster=roster)
    lines = written(path).splitlines()
    assert lines[3] == '"Doe, Jane",67890,S-2,jdoe,Lab B,0,12'
    assert lines[4] == '"Roe, Rick",24680,S-3,rroe,Lab A,0,0'


def test_percent_is_a_hundred_times_score_over_points(tmp_path):
    out = out_folder(tmp_path)
    path, _ = lms_export.export(out, Options("canvas", percent=True))
    assert written(path).splitlines()[1:] == [
        "Points Possible,,,,,100,100",
        "smithjohn,12345,,,,80,62.5",  # 8 of 10, 7.5 of 12
        "doejane,67890,,,,,100",
    ]


def test_a_formula_in_a_name_is_written_as_text(tmp_path):
    students = STUDENTS.replace("doejane", "=2+3")
    out = out_folder(tmp_path, students=students)
    path, _ = lms_export.export(out, Options("canvas"))
    assert "'=2+3,67890,,,,,12\r\n" in written(path)


def test_canvas_reads_the_file_as_its_importer_does(tmp_path):
    out = out_folder(tmp_path)
    path, _ = lms_export.export(out, Options("canvas", names={"02_multi_channel": "Notebook 2 (12345)"}))
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, points, learners = rows[0], rows[1], rows[2:]
    # The importer: "Student" first, "ID" second, SIS User ID and SIS Login ID, then "Section" ends the learner columns.
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert header[5:] == ["01_single_channel", "Notebook 2 (12345)"]
    assert "Points Possible" in points[0] and [float(p) for p in points[5:]] == [10.0, 12.0]
    for learner in learners:
        assert learner[1].isdigit()
        assert all(grade == "" or float(grade) >= 0 for grade in learner[5:])


MOODLE_GRADES = """\
student_id,assignment,score,max_score,auto_score,manual_score,status
501,01_single_channel,8,10,8,0,ok
502,01_single_channel,10,10,10,0,ok
611,02_multi_channel,11,12,11,0,ok
612,02_multi_channel,3,12,3,0,needs_manual_grade
"""
MOODLE_STUDENTS = """\
student_id,assignment,lms,lms_id,name_from_file
501,01_single_channel,moodle,501,Alice Smith
502,01_single_channel,moodle,502,Bob Jones
611,02_multi_channel,moodle,611,Alice  Smith
612,02_multi_channel,moodle,612,Bob Jones
"""
MOODLE_ROSTER = """\
First name,Last name,ID number,Institution,Department,Email address,Course total (Real)
Alice,Smith,S001,,,alice@example.edu,-
Bob,Jones,S002,,,bob@example.edu,-
Carol,@SUM(1+1),S003,,,carol@example.edu,-
"""


def test_moodle_worked_example(tmp_path):
    out = out_folder(tmp_path, MOODLE_GRADES, MOODLE_STUDENTS)
    roster = tmp_path / "moodle.csv"
    roster.write_text("\ufeff" + MOODLE_ROSTER, encoding="utf-8")  # Moodle may open with a byte order mark
    path, warnings = lms_export.export(out, Options("moodle"), roster=roster)
    assert path == out / "moodle-grades.csv"
    # Alice's two participant numbers (501, 611) are one learner; Bob's 02 waits for a person; Carol sent nothing.
    assert written(path) == (
        "First name,Last name,ID number,Email address,01_single_channel,02_multi_channel\r\n"
        "Alice,Smith,S001,alice@example.edu,8,11\r\n"
        "Bob,Jones,S002,bob@example.edu,10,\r\n"
        "Carol,'@SUM(1+1),S003,carol@example.edu,,\r\n"
    )
    assert any("wait for a person" in warning for warning in warnings)


def test_moodle_reads_the_file_by_its_identifier_column(tmp_path):
    out = out_folder(tmp_path, MOODLE_GRADES, MOODLE_STUDENTS)
    roster = tmp_path / "moodle.csv"
    roster.write_text(MOODLE_ROSTER, encoding="utf-8")
    path, _ = lms_export.export(out, Options("moodle", percent=True), roster=roster)
    with open(path, newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    by_email = {line["Email address"]: line for line in lines}
    assert by_email["alice@example.edu"]["01_single_channel"] == "80"
    assert float(by_email["alice@example.edu"]["02_multi_channel"]) == pytest.approx(100 * 11 / 12, abs=0.005)


def test_moodle_needs_a_roster_and_says_why(tmp_path):
    out = out_folder(tmp_path, MOODLE_GRADES, MOODLE_STUDENTS)
    with pytest.raises(ExportError, match="expected --roster FILE"):
        lms_export.export(out, Options("moodle"))


def test_a_moodle_name_not_in_the_roster_is_a_warning_not_the_end(tmp_path):
    out = out_folder(tmp_path, MOODLE_GRADES, MOODLE_STUDENTS.replace("Bob Jones", "Zed Zed"))
    roster = tmp_path / "moodle.csv"
    roster.write_text(MOODLE_ROSTER, encoding="utf-8")
    path, warnings = lms_export.export(out, Options("moodle"), roster=roster)
    assert any("no learner named 'Zed Zed'" in warning for warning in warnings)
    assert "Alice,Smith,S001,alice@example.edu,8,11\r\n" in written(path)


def test_a_roster_without_its_columns_is_refused_naming_them(tmp_path):
    out = out_folder(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text("Name,Email\nA,a@x\n", encoding="utf-8")
    with pytest.raises(ExportError, match="lacks Student, ID, SIS User ID, SIS Login ID, Section"):
        lms_export.export(out, Options("canvas"), roster=roster)


def test_assignment_names_take_assignment_equals_column():
    assert lms_export.parse_names(["02_multi_channel=Notebook 2 (12345)"]) == {"02_multi_channel": "Notebook 2 (12345)"}
    with pytest.raises(ExportError, match="ASSIGNMENT=COLUMN"):
        lms_export.parse_names(["Notebook 2"])


def test_output_puts_the_file_elsewhere(tmp_path):
    out = out_folder(tmp_path)
    path, _ = lms_export.export(out, Options("canvas"), output=tmp_path / "up" / "for-canvas.csv")
    assert path == tmp_path / "up" / "for-canvas.csv" and path.is_file()
    assert not (out / "canvas-grades.csv").exists()


def test_the_lms_number_and_name_come_from_the_file_name():
    assert lms_students.lms_of("smithjohn_LATE_12345_678_01_single_channel.ipynb", "12345") == (
        "canvas", "12345", "smithjohn")
    assert lms_students.lms_of("Alice Smith_501_assignsubmission_file_/work.ipynb", "501") == (
        "moodle", "501", "Alice Smith")
    assert lms_students.lms_of("alice_01_single_channel.ipynb", "alice") is None
    # A Moodle name holding two numbers tells no one.
    assert lms_students.lms_of("Eve_4242_assignsubmission_file_x_501_assignsubmission_file_.ipynb", "501") is None


def test_the_cli_exports_end_to_end(tmp_path):
    out = out_folder(tmp_path)
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "export", str(out), "--to", "canvas",
                          "--as", "percent", "--output", str(tmp_path / "c.csv")],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert f"wrote {tmp_path / 'c.csv'}" in run.stdout
    assert written(tmp_path / "c.csv").splitlines()[2] == "smithjohn,12345,,,,80,62.5"
    failed = subprocess.run([sys.executable, "-m", "autograder.cli", "export", str(tmp_path), "--to", "canvas"],
                            capture_output=True, text=True, timeout=120, cwd=REPO)
    assert failed.returncode == 1 and "expected" in failed.stderr and "grades.csv" in failed.stderr
