"""Late work (issue 20): --deadline, Canvas's LATE marker, --late-penalty, and what a grade run keeps of them.

The rules, each with numbers worked out by hand:

  * a deadline to the minute is on time up to the end of that minute;
    a naive time is this machine's local time, `Z` and offsets are instants;
  * each started day (hour) late deducts the percentage of the assignment's
    points possible (max_score), as Canvas's late policy does, at most max=;
  * Canvas's LATE_ marker alone makes a submission late by one period;
  * score is lowered, auto_score and manual_score stay as graded;
  * OUT/run.json keeps the run's options, a resumed run keeps `late`,
    and --no-similarity writes no similarity.csv.

The grade runs here replace the sandboxed workers by a stand-in that scores
every test cell in full (grading itself is tested in test_conv_course_grade.py):
what is tested is what grade.py does around them.
"""

import json
import os
import shutil
from datetime import datetime, timezone

import pytest

from autograder import grade, journal, late_work, report, results, similarity, submission_names
from autograder.course import Course, Graded, graded_assignments
from autograder.late_work import LateWorkError, Lateness
from notebook_tools import SOLUTIONS

DAY, HOUR = 86400, 3600
#: 2026-12-01T23:59Z is on time up to 23:59:59.999, so lateness counts from midnight.
MIDNIGHT = datetime(2026, 12, 2, tzinfo=timezone.utc).timestamp()
TEN_A_DAY = late_work.parse_penalty("10%/day,max=50%")


# --- the deadline ------------------------------------------------------------

def test_a_deadline_to_the_minute_is_on_time_to_the_end_of_that_minute():
    deadline = late_work.parse_deadline("2026-12-01T23:59Z")
    assert deadline.late_from == datetime(2026, 12, 2, 0, 0, tzinfo=timezone.utc)
    assert late_work.how_late(MIDNIGHT - 0.5, deadline, None) is None  # 23:59:59.5
    assert late_work.how_late(MIDNIGHT, deadline, None) == Lateness(0.0)


def test_seconds_and_a_date_alone_name_their_whole_second_and_day():
    assert late_work.parse_deadline("2026-12-01T23:59:30Z").late_from == datetime(2026, 12, 1, 23, 59, 31,
                                                                                    tzinfo=timezone.utc)
    assert late_work.parse_deadline("2026-12-01Z").late_from == datetime(2026, 12, 2, tzinfo=timezone.utc)


def test_an_offset_is_an_instant_and_a_naive_time_is_this_machines_local_time():
    plus_one = late_work.parse_deadline("2026-12-01T23:59+01:00")
    assert plus_one.timestamp() == MIDNIGHT - HOUR  # midnight at +01:00 is 23:00 UTC
    naive = late_work.parse_deadline("2026-12-01 23:59")
    assert naive.late_from == datetime(2026, 12, 2, 0, 0).astimezone()


@pytest.mark.parametrize("text", ["tomorrow", "1.12.2026 23:59", "2026-12-01T23h59", ""])
def test_a_deadline_in_another_form_is_refused_with_the_form_expected(text):
    with pytest.raises(LateWorkError, match=r"--deadline must look like 2026-12-01T23:59 .*; got"):
        late_work.parse_deadline(text)


def test_a_deadline_that_is_no_real_time_says_so():
    with pytest.raises(LateWorkError, match=r"--deadline '2026-02-30T12:00' is no real time"):
        late_work.parse_deadline("2026-02-30T12:00")


# --- the penalty -------------------------------------------------------------

def test_a_penalty_reads_its_percentage_period_and_cap():
    assert (TEN_A_DAY.percent, TEN_A_DAY.period, TEN_A_DAY.cap) == (10.0, "day", 50.0)
    hourly = late_work.parse_penalty("5%/hour")
    assert (hourly.percent, hourly.seconds, hourly.cap) == (5.0, HOUR, 100.0)


@pytest.mark.parametrize("text", ["10 per day", "10%", "10%/week", "10%/day,max=50", "%/day"])
def test_a_penalty_in_another_form_is_refused_with_the_form_expected(text):
    with pytest.raises(LateWorkError, match=r"--late-penalty must look like 10%/day,max=50% or 5%/hour; got"):
        late_work.parse_penalty(text)


def test_a_penalty_over_100_percent_says_what_is_allowed():
    with pytest.raises(LateWorkError, match=r"more than 0% and at most 100%; got 150% in '150%/day'"):
        late_work.parse_penalty("150%/day")
    with pytest.raises(LateWorkError, match=r"max= must be more than 0% and at most 100%; got 0%"):
        late_work.parse_penalty("10%/day,max=0%")


def test_25_hours_late_starts_two_days_and_loses_20_percent_of_the_points_possible():
    # max_score 8: 2 started days x 10% = 20% of 8 = 1.6 points, whatever was earned.
    late = Lateness(25 * HOUR)
    assert late_work.periods_started(late, TEN_A_DAY) == 2
    assert late_work.deduction(8, late, TEN_A_DAY) == 1.6
    assert late_work.penalised_score(6, 8, late, TEN_A_DAY) == 4.4
    assert late_work.penalised_score(1, 8, late, TEN_A_DAY) == 0.0  # never below 0


def test_one_second_late_has_started_its_first_day():
    assert late_work.deduction(8, Lateness(1), TEN_A_DAY) == 0.8


def test_the_cap_stops_the_deduction():
    # 9 days late: 10 started days x 10% = 100%, capped at 50% of 12 = 6 points.
    assert late_work.deduction(12, Lateness(9 * DAY + 5), TEN_A_DAY) == 6.0
    assert late_work.penalised_score(10, 12, Lateness(9 * DAY + 5), TEN_A_DAY) == 4.0


def test_per_hour_and_rounding_to_the_hundredth_half_up():
    # 2 h 10 min late at 5%/hour: 3 started hours, 15% of 7 = 1.05 points.
    hourly = late_work.parse_penalty("5%/hour")
    assert late_work.deduction(7, Lateness(2 * HOUR + 600), hourly) == 1.05
    # 1% of 0.5 = 0.005 points rounds half up to 0.01.
    assert late_work.deduction(0.5, Lateness(10), late_work.parse_penalty("1%/day")) == 0.01


def test_on_time_or_without_a_penalty_nothing_is_deducted():
    assert late_work.penalised_score(6, 8, None, TEN_A_DAY) == 6
    assert late_work.penalised_score(6, 8, Lateness(3 * DAY), None) == 6


# --- Canvas's marker and the words ---------------------------------------------

def test_canvas_names_carry_their_late_marker():
    known = ["01_single_channel"]
    late = submission_names.parse("smithjane_LATE_12345_678901_01_single_channel", known, None, False)
    on_time = submission_names.parse("smithjane_12345_678901_01_single_channel", known, None, False)
    flat = submission_names.parse("alice_01_single_channel", known, None, False)
    assert (late.student, late.marked_late) == ("12345", True)
    assert (on_time.marked_late, flat.marked_late) == (False, None)


def test_canvas_marker_alone_makes_a_submission_late_by_one_period():
    lateness = late_work.how_late(None, None, True)
    assert lateness == Lateness(None)
    assert late_work.late_words(lateness) == "late (Canvas marked it)"
    assert late_work.deduction(8, lateness, TEN_A_DAY) == 0.8


def test_canvas_verdict_beats_the_file_time_of_its_zip():
    deadline = late_work.parse_deadline("2026-12-01T23:59Z")
    assert late_work.how_late(MIDNIGHT + 5 * DAY, deadline, False) is None


def test_how_late_in_words():
    assert late_work.late_words(Lateness(DAY + 2 * HOUR + 59)) == "1 day 2 h late"
    assert late_work.late_words(Lateness(3 * DAY + 5 * 60)) == "3 days 5 min late"
    assert late_work.late_words(Lateness(40)) == "40 s late"
    assert late_work.late_words(Lateness(0.3)) == "under a second late"
    assert late_work.late_column(Lateness(25 * HOUR), 1.6) == "1 day 1 h late; -1.6 points"


def test_file_times_all_within_two_minutes_are_flagged_as_those_of_an_unpacked_zip():
    assert "within 30 s of each other" in late_work.times_look_copied([MIDNIGHT, MIDNIGHT + 10, MIDNIGHT + 30])
    assert late_work.times_look_copied([MIDNIGHT, MIDNIGHT + 10, MIDNIGHT + DAY]) is None
    assert late_work.times_look_copied([MIDNIGHT, MIDNIGHT + 10]) is None


# --- a grade run ---------------------------------------------------------------

ASSIGNMENT = "01_single_channel"
KINDS = graded_assignments()[ASSIGNMENT]  # tests 2 + 4 points, a written answer of 2: max_score 8


def full_marks(student, assignment):
    """A worker's result: every test passed (6 points), the written answer waiting for a person."""
    cells = [{"grade_id": grade_id, "kind": kind, "points": points if kind == "test" else 0.0,
              "max_points": points, "message": "", "needs_manual_grade": kind != "test"}
             for grade_id, (kind, points) in KINDS.items()]
    return Graded(student, assignment, "ok", "", cells).to_dict()


@pytest.fixture
def stand_in(monkeypatch):
    """grade.py with a stand-in for the sandboxed workers; returns the list of submissions each run graded."""
    graded = []

    def run(where, settings, course_db, submissions, feedback, on_result, on_crash, bar, task=None, on_seconds=None):
        graded.append([s.student_id for s in submissions])
        for index, s in enumerate(submissions):
            on_result(index, full_marks(s.student_id, s.assignment))

    monkeypatch.setattr(grade.sandbox, "check_available", lambda: None)
    monkeypatch.setattr(grade.local_pool, "run", run)
    return graded


def submissions_folder(root):
    """alice 25 h after the deadline, bob on time, Canvas's carol marked LATE (her file time on time)."""
    folder = root / "submissions"
    folder.mkdir()
    source = SOLUTIONS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    for name, when in [(f"alice_{ASSIGNMENT}.ipynb", MIDNIGHT + 25 * HOUR),
                       (f"bob_{ASSIGNMENT}.ipynb", MIDNIGHT - HOUR),
                       (f"carolx_LATE_777_888_{ASSIGNMENT}.ipynb", MIDNIGHT - HOUR)]:
        shutil.copy(source, folder / name)
        os.utime(folder / name, (when, when))
    return folder


def grade_once(root, **knobs):
    options = grade.Options(assignments=(ASSIGNMENT,), progress=False, feedback=False, report=False,
                            deadline="2026-12-01T23:59Z", late_penalty="10%/day,max=50%", **knobs)
    rows, text = grade.grade(root / "submissions", root / "out", options, Course.in_folder(root / "course"))
    lines = {line["student_id"]: line for line in results.read_table(root / "out" / "grades.csv")}
    return lines, text


def test_a_grade_run_marks_late_work_and_lowers_only_score(tmp_path, stand_in):
    submissions_folder(tmp_path)
    lines, text = grade_once(tmp_path)
    cells = {student: (line["score"], line["auto_score"], line["manual_score"], line["late"])
             for student, line in lines.items()}
    assert cells == {
        "alice": ("4.4", "6", "0", "1 day 1 h late; -1.6 points"),  # 2 started days: 20% of 8
        "bob": ("6", "6", "0", ""),
        "777": ("5.2", "6", "0", "late (Canvas marked it); -0.8 points"),  # one day: 10% of 8
    }
    assert "late: 2 submission(s)" in text
    assert f"  alice/{ASSIGNMENT}: 1 day 1 h late; -1.6 points" in text.splitlines()


def test_without_a_penalty_late_work_is_marked_but_keeps_its_score(tmp_path, stand_in, monkeypatch):
    submissions_folder(tmp_path)
    options = grade.Options(assignments=(ASSIGNMENT,), progress=False, feedback=False, report=False,
                            deadline="2026-12-01T23:59Z")
    grade.grade(tmp_path / "submissions", tmp_path / "out", options, Course.in_folder(tmp_path / "course"))
    alice = next(line for line in results.read_table(tmp_path / "out" / "grades.csv") if line["student_id"] == "alice")
    assert (alice["score"], alice["late"]) == ("6", "1 day 1 h late")


def test_run_json_keeps_the_options_and_a_resumed_run_keeps_late(tmp_path, stand_in):
    submissions_folder(tmp_path)
    first, _ = grade_once(tmp_path)
    run = journal.read_run(tmp_path / "out")
    assert {key: run[key] for key in ("version", "deadline", "late_from", "late_penalty", "similarity", "cluster",
                                      "assignments")} == {
        "version": 1, "deadline": "2026-12-01T23:59Z", "late_from": "2026-12-02T00:00:00+00:00",
        "late_penalty": "10%/day,max=50%", "similarity": True, "cluster": "", "assignments": [ASSIGNMENT]}
    assert run["jobs"] >= 1 and run["seconds"] >= 0 and datetime.fromisoformat(run["started"]).tzinfo
    entry = journal.Journal(tmp_path / "out").entries["alice", ASSIGNMENT]
    assert (entry["submitted_at"], entry["marked_late"]) == (MIDNIGHT + 25 * HOUR, None)

    again, text = grade_once(tmp_path)
    assert stand_in == [["777", "alice", "bob"]]  # the second run graded nothing again
    assert "were kept" in text
    assert again == first


class NoWorkers:
    """Stands in for local_pool.WorkerPool: the stand-in results have no notebook, so no page needs a worker."""

    def __init__(self, settings, jobs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def run(self, calls, label="", progress=False):
        assert calls == []


def test_feedback_after_manual_grading_applies_the_same_penalty(tmp_path, stand_in, monkeypatch):
    monkeypatch.setattr(grade.local_pool, "WorkerPool", NoWorkers)
    submissions_folder(tmp_path)
    grade_once(tmp_path)
    course = Course.in_folder(tmp_path / "course")
    with course.gradebook() as gradebook:
        gradebook.find_grade("explain_padding", ASSIGNMENT, ASSIGNMENT, "alice").manual_score = 2.0
        gradebook.db.commit()
    rows, _ = grade.regenerate_feedback(tmp_path / "out", grade.Options(progress=False), course)
    alice = {row.student_id: row for row in rows}["alice"]
    # 6 + 2 = 8 points, less 20% of 8 for two started days: 6.4.
    assert (alice.score, alice.auto_score, alice.manual_score, alice.late) == (6.4, 6.0, 2.0,
                                                                               "1 day 1 h late; -1.6 points")
    line = next(line for line in results.read_table(tmp_path / "out" / "grades.csv") if line["student_id"] == "777")
    assert (line["score"], line["late"]) == ("5.2", "late (Canvas marked it); -0.8 points")


def test_no_similarity_writes_no_similarity_csv(tmp_path, stand_in):
    submissions_folder(tmp_path)
    grade_once(tmp_path, similarity=False)
    assert not (tmp_path / "out" / "similarity.csv").exists()
    assert json.loads((tmp_path / "out" / "run.json").read_text())["similarity"] is False
    grade_once(tmp_path)
    assert (tmp_path / "out" / "similarity.csv").is_file()


def test_a_failing_similarity_is_a_note_not_a_failed_run(tmp_path, stand_in, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("a notebook too odd")

    monkeypatch.setattr(similarity, "write_similarity", broken)
    submissions_folder(tmp_path)
    lines, text = grade_once(tmp_path)
    assert len(lines) == 3
    assert "note: similarity.csv could not be written (ValueError: a notebook too odd)" in text


def test_the_report_hook_gets_the_run(tmp_path, stand_in, monkeypatch):
    seen = []
    monkeypatch.setattr(report, "write_report", lambda out, run: seen.append((out, run)))
    submissions_folder(tmp_path)
    options = grade.Options(assignments=(ASSIGNMENT,), progress=False, feedback=False)
    grade.grade(tmp_path / "submissions", tmp_path / "out", options, Course.in_folder(tmp_path / "course"))
    written = journal.read_run(tmp_path / "out")
    assert seen == [(tmp_path / "out", {key: value for key, value in written.items() if key != "version"})]
    assert (written["deadline"], written["late_penalty"]) == (None, None)


def test_no_report_skips_the_hook(tmp_path, stand_in, monkeypatch):
    monkeypatch.setattr(report, "write_report", lambda out, run: pytest.fail("the report was asked for"))
    submissions_folder(tmp_path)
    grade_once(tmp_path)  # report=False


def test_a_bad_deadline_stops_the_run_before_any_grading(tmp_path, stand_in):
    with pytest.raises(grade.GradingError, match="--deadline must look like"):
        grade.grade(tmp_path, tmp_path / "out", grade.Options(deadline="next friday"))
    assert stand_in == []
