"""autograder.submissions: which student and assignment each file in SUBMISSIONS is, and whether it is a notebook.

Every test builds a SUBMISSIONS folder in tmp_path, runs `collect` on it and
checks the rows and warnings. Student files are untrusted, so several tests
feed it broken, huge or hostile files and expect a clear problem, never an
exception.
"""

import json
import os
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder import submissions
from autograder.submissions import ACCEPTED_PATTERNS, STUDENT_ID_CHARS, Submission, collect

ASSIGNMENTS = ("01_single_channel", "02_multi_channel", "03_many_filters")
UNKNOWN = "this course has 01_single_channel, 02_multi_channel, 03_many_filters"
T0 = 1_700_000_000  # a fixed modification time; later files get T0 + n


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def notebook_text(source: str = "x = 1") -> str:
    return nbformat.writes(new_notebook(cells=[new_code_cell(source)]))


def put(path: Path, content: str | bytes | None = None, mtime: float = T0) -> Path:
    """Write `content` (a valid notebook by default) at `path`, with modification time `mtime`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = notebook_text() if content is None else content
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return path


def put_zip(path: Path, members: dict[str, str | bytes | None], mtime: float = T0, compression=zipfile.ZIP_DEFLATED) -> Path:
    """A zip at `path` whose members hold the given contents (a valid notebook for None)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, notebook_text() if content is None else content)
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def sub(tmp_path):
    """The SUBMISSIONS folder."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    return folder


def run(sub: Path, **kwargs) -> tuple[dict[tuple[str, str], Submission], list[str]]:
    """collect() on `sub`, its rows by (student, assignment)."""
    rows, warnings = collect(sub, sub.parent / "staging", ASSIGNMENTS, **kwargs)
    assert [(r.student_id, r.assignment) for r in rows] == sorted((r.student_id, r.assignment) for r in rows)
    for row in rows:  # every row is either staged or has a problem, never both
        assert (row.notebook is None) == (row.problem is not None)
    return {(r.student_id, r.assignment): r for r in rows}, warnings


def only_row(sub: Path, **kwargs) -> Submission:
    rows, _ = run(sub, **kwargs)
    assert len(rows) == 1, rows
    return next(iter(rows.values()))


# --------------------------------------------------------------------------
# nbgrader's layout: SUBMISSIONS/<student>/<assignment>/<assignment>.ipynb
# --------------------------------------------------------------------------


def test_nbgrader_layout_is_staged_as_a_valid_nbformat_4_notebook(sub, tmp_path):
    put(sub / "alice" / "01_single_channel" / "01_single_channel.ipynb", notebook_text("y = 2"))
    put(sub / "alice" / "01_single_channel" / "timestamp.txt", "2026-01-01")
    row = only_row(sub)
    assert row == Submission(
        "alice",
        "01_single_channel",
        tmp_path / "staging" / "alice" / "01_single_channel" / "01_single_channel.ipynb",
        None,
        "alice/01_single_channel/01_single_channel.ipynb",
        submitted_at=T0,
    )
    staged = nbformat.read(row.notebook, as_version=4)
    nbformat.validate(staged)
    assert staged.cells[0].source == "y = 2"


def test_nbgrader_folder_with_one_notebook_of_another_name_accepts_it(sub):
    put(sub / "bob" / "02_multi_channel" / "my work.ipynb")
    row = only_row(sub)
    assert (row.student_id, row.assignment, row.problem) == ("bob", "02_multi_channel", None)
    assert row.origin == "bob/02_multi_channel/my work.ipynb"


def test_nbgrader_folder_with_several_notebooks_takes_the_one_named_like_the_assignment_and_warns(sub):
    folder = sub / "bob" / "02_multi_channel"
    for name in ("02_multi_channel.ipynb", "scratch.ipynb", "old.ipynb"):
        put(folder / name)
    rows, warnings = run(sub)
    assert rows["bob", "02_multi_channel"].origin == "bob/02_multi_channel/02_multi_channel.ipynb"
    assert warnings == ["bob/02_multi_channel: graded 02_multi_channel.ipynb, ignored old.ipynb, scratch.ipynb"]


def test_nbgrader_folder_with_several_unrelated_notebooks_is_invalid(sub):
    put(sub / "bob" / "02_multi_channel" / "a.ipynb")
    put(sub / "bob" / "02_multi_channel" / "b.ipynb")
    row = only_row(sub)
    assert row.problem == "the folder holds several notebooks (a.ipynb, b.ipynb) and none is named 02_multi_channel.ipynb"
    assert row.origin == "bob/02_multi_channel"


def test_nbgrader_folder_without_a_notebook_is_invalid(sub):
    put(sub / "bob" / "03_many_filters" / "03_many_filters.py", "print(1)")
    row = only_row(sub)
    assert row.problem == "the folder holds no .ipynb notebook; submit 03_many_filters.ipynb"


def test_checkpoints_in_an_nbgrader_folder_are_ignored(sub):
    folder = sub / "alice" / "01_single_channel"
    put(folder / "01_single_channel.ipynb")
    put(folder / ".ipynb_checkpoints" / "01_single_channel-checkpoint.ipynb")
    rows, warnings = run(sub)
    assert list(rows) == [("alice", "01_single_channel")]
    assert warnings == []


def test_unknown_assignment_folder_is_reported_with_the_course_assignments(sub):
    put(sub / "alice" / "04_pooling" / "04_pooling.ipynb")
    row = only_row(sub)
    assert (row.student_id, row.assignment, row.notebook) == ("alice", "04_pooling", None)
    assert row.problem == f"unknown assignment '04_pooling': {UNKNOWN}"


# --------------------------------------------------------------------------
# Flat folders as downloaded from a learning-management system
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, student, assignment",
    [
        ("alice_01_single_channel.ipynb", "alice", "01_single_channel"),
        ("alice-02_multi_channel.ipynb", "alice", "02_multi_channel"),
        ("03_many_filters_s1234567.ipynb", "s1234567", "03_many_filters"),
        ("01_single_channel-12345.ipynb", "12345", "01_single_channel"),
        ("Bob.Smith 01_Single_Channel.ipynb", "Bob.Smith", "01_single_channel"),
        ("jo@uni.edu_02_multi_channel.ipynb", "jo@uni.edu", "02_multi_channel"),
    ],
)
def test_flat_names_give_the_student_beside_the_assignment(sub, name, student, assignment):
    put(sub / name)
    row = only_row(sub)
    assert (row.student_id, row.assignment, row.problem, row.origin) == (student, assignment, None, name)


def test_the_longest_assignment_name_is_matched_first(sub, tmp_path):
    put(sub / "alice_hw10.ipynb")
    rows, _ = collect(sub, tmp_path / "staging", ["hw1", "hw10"])
    assert [(r.student_id, r.assignment) for r in rows] == [("alice", "hw10")]


@pytest.mark.parametrize(
    "name, assignment",
    [
        ("smithjane_12345_678901_01_single_channel.ipynb", "01_single_channel"),
        ("smithjane_LATE_12345_678901_02_multi_channel.ipynb", "02_multi_channel"),
        ("smithjane_12345_678901_01_single_channel-1.ipynb", "01_single_channel"),
        ("smithjane_LATE_12345_678902_03_many_filters-2.ipynb", "03_many_filters"),
    ],
)
def test_canvas_names_give_the_student_number(sub, name, assignment):
    put(sub / name)
    row = only_row(sub)
    assert (row.student_id, row.assignment, row.problem) == ("12345", assignment, None)


def test_the_submission_keeps_canvas_late_marker_and_its_file_time(sub):
    put(sub / "smithjane_LATE_12345_678901_01_single_channel.ipynb", mtime=T0 + 7)
    put(sub / "doejohn_67890_678902_01_single_channel.ipynb")
    put(sub / "alice_01_single_channel.ipynb")
    put_zip(sub / "bob.zip", {"01_single_channel.ipynb": None}, mtime=T0 + 9)
    rows, _ = collect(sub, sub.parent / "staging", ASSIGNMENTS)
    got = {row.student_id: (row.marked_late, row.submitted_at) for row in rows}
    assert got == {"12345": (True, T0 + 7), "67890": (False, T0), "alice": (None, T0), "bob": (None, T0 + 9)}


def test_canvas_re_uploads_are_two_submissions_of_the_same_student(sub):
    put(sub / "smithjane_12345_678901_01_single_channel.ipynb", mtime=T0)
    put(sub / "smithjane_12345_678999_01_single_channel-1.ipynb", mtime=T0 + 60)
    row = only_row(sub)
    assert row.origin == "smithjane_12345_678999_01_single_channel-1.ipynb"
    assert row.superseded == ("smithjane_12345_678901_01_single_channel.ipynb",)


def test_a_student_id_with_digits_is_not_mistaken_for_a_canvas_name(sub):
    put(sub / "alice_2024_01_single_channel.ipynb")
    row = only_row(sub)
    assert (row.student_id, row.assignment) == ("alice_2024", "01_single_channel")


def test_canvas_name_without_an_assignment_is_an_unknown_assignment(sub):
    put(sub / "smithjane_12345_678901_Untitled.ipynb")
    row = only_row(sub)
    assert (row.student_id, row.assignment) == ("12345", "Untitled")
    assert row.problem == f"unknown assignment 'Untitled': {UNKNOWN}"


def test_moodle_file_names_give_the_student_number(sub):
    put(sub / "Jane Smith_4711_assignsubmission_file_02_multi_channel.ipynb")
    row = only_row(sub)
    assert (row.student_id, row.assignment, row.problem) == ("4711", "02_multi_channel", None)


def test_moodle_folders_give_the_student_number(sub):
    put(sub / "Jane Smith_4711_assignsubmission_file_" / "03_many_filters.ipynb")
    row = only_row(sub)
    assert (row.student_id, row.assignment, row.problem) == ("4711", "03_many_filters", None)
    assert row.origin == "Jane Smith_4711_assignsubmission_file_/03_many_filters.ipynb"


SPOOF = "Eve_4242_assignsubmission_file_x_9999_assignsubmission_file_02_multi_channel.ipynb"


def test_a_moodle_name_holding_another_students_number_never_replaces_that_students_file(sub):
    # Eve (9999) made her full name look like a Moodle name of student 4242, and submitted later.
    put(sub / "Bob Brown_4242_assignsubmission_file_02_multi_channel.ipynb", notebook_text("bob = 1"), mtime=T0)
    put(sub / SPOOF, notebook_text("eve = 1"), mtime=T0 + 60)
    rows, warnings = run(sub)
    bob, eve = rows["4242", "02_multi_channel"], rows["9999", "02_multi_channel"]
    assert (bob.origin, bob.problem) == ("Bob Brown_4242_assignsubmission_file_02_multi_channel.ipynb", None)
    assert nbformat.read(bob.notebook, 4).cells[0].source == "bob = 1"
    assert eve.problem.startswith("the file name holds the Moodle student numbers 4242 and 9999, so whose file "
                                  "it is cannot be told")
    assert warnings == ["4242/02_multi_channel: graded Bob Brown_4242_assignsubmission_file_02_multi_channel.ipynb "
                        f"(the newest that counts), ignored {SPOOF} (ambiguous name)"]


def test_an_ambiguous_moodle_name_alone_is_invalid_for_each_number_it_holds(sub):
    put(sub / SPOOF)
    rows, _ = run(sub)
    assert sorted(rows) == [("4242", "02_multi_channel"), ("9999", "02_multi_channel")]
    assert all(row.problem.startswith("the file name holds the Moodle student numbers") for row in rows.values())


def test_an_ambiguous_moodle_folder_is_skipped_with_the_reason(sub):
    put(sub / "Eve_4242_assignsubmission_file_x_9999_assignsubmission_file_" / "02_multi_channel.ipynb")
    rows, warnings = run(sub)
    assert rows == {}
    assert warnings == ["skipped Eve_4242_assignsubmission_file_x_9999_assignsubmission_file_: the file name holds "
                        "the Moodle student numbers 4242 and 9999, so whose file it is cannot be told (a full name "
                        "or a file name may itself look like a Moodle name); rename it <student>_<assignment>.ipynb"]


def test_a_moodle_file_uploaded_again_under_its_moodle_name_is_its_students(sub):
    put(sub / "Jane Smith_4711_assignsubmission_file_Jane Smith_4711_assignsubmission_file_02_multi_channel.ipynb")
    row = only_row(sub)
    assert (row.student_id, row.assignment, row.problem) == ("4711", "02_multi_channel", None)


def test_a_folder_named_after_an_assignment_gives_the_assignment_to_its_files(sub):
    folder = sub / "02_multi_channel"
    put(folder / "alice.ipynb")
    put(folder / "smithjane_12345_678901_Untitled.ipynb")
    put(folder / "Jane Smith_4711_assignsubmission_file_" / "work.ipynb")
    put(folder / "bob_03_many_filters.ipynb")  # a name that says otherwise wins
    rows, warnings = run(sub)
    assert sorted(rows) == [
        ("12345", "02_multi_channel"),
        ("4711", "02_multi_channel"),
        ("alice", "02_multi_channel"),
        ("bob", "03_many_filters"),
    ]
    assert all(r.problem is None for r in rows.values())
    assert warnings == []


def test_both_layouts_may_be_mixed(sub):
    put(sub / "alice" / "01_single_channel" / "01_single_channel.ipynb")
    put(sub / "bob_01_single_channel.ipynb")
    put_zip(sub / "carol.zip", {"02_multi_channel.ipynb": None})
    rows, warnings = run(sub)
    assert sorted(rows) == [("alice", "01_single_channel"), ("bob", "01_single_channel"), ("carol", "02_multi_channel")]
    assert warnings == []


def test_flat_notebook_with_an_unknown_assignment_is_reported(sub):
    put(sub / "alice_homework5.ipynb")
    row = only_row(sub)
    assert (row.student_id, row.assignment, row.notebook) == ("alice", "homework5", None)
    assert row.problem == f"unknown assignment 'homework5': {UNKNOWN}"


def test_system_and_unrelated_files_are_skipped_with_a_warning(sub):
    put(sub / ".DS_Store", b"\x00\x00\x00\x01Bud1")
    put(sub / "README.txt", "grades are due Friday")
    put(sub / "Untitled.ipynb")
    put(sub / "notes_for_me.txt", "todo")
    put(sub / "__MACOSX" / "._alice_01_single_channel.ipynb", b"\x00")
    rows, warnings = run(sub)
    assert rows == {}
    assert warnings == [
        "skipped .DS_Store: a system file, not a submission",
        "skipped README.txt: the name carries no assignment of this course",
        "skipped Untitled.ipynb: the name carries no assignment of this course",
        "skipped __MACOSX: a system file, not a submission",
        "skipped notes_for_me.txt: the name carries no assignment of this course",
    ]


def test_a_notebook_named_only_after_the_assignment_has_no_student_and_is_skipped(sub):
    put(sub / "01_single_channel.ipynb")
    rows, warnings = run(sub)
    assert rows == {}
    assert warnings == ["skipped 01_single_channel.ipynb: the name carries no student id"]


@pytest.mark.parametrize("suffix", [".py", ".pdf", ".txt"])
def test_non_notebook_file_named_for_a_student_and_an_assignment_is_invalid(sub, suffix):
    put(sub / f"carol_01_single_channel{suffix}", "print('hello')")
    row = only_row(sub)
    assert (row.student_id, row.assignment, row.notebook) == ("carol", "01_single_channel", None)
    assert row.problem == f"not a notebook: carol_01_single_channel{suffix} is a {suffix} file; submit the .ipynb file"


def test_non_notebook_file_counts_only_when_there_is_no_notebook(sub):
    put(sub / "carol_01_single_channel.ipynb", mtime=T0)
    put(sub / "carol_01_single_channel.pdf", b"%PDF-1.7", mtime=T0 + 100)
    rows, warnings = run(sub)
    row = rows["carol", "01_single_channel"]
    assert (row.origin, row.problem) == ("carol_01_single_channel.ipynb", None)
    assert row.superseded == ("carol_01_single_channel.pdf",)
    assert warnings == [
        "carol/01_single_channel: graded carol_01_single_channel.ipynb (the newest that counts), "
        "ignored carol_01_single_channel.pdf (not a notebook)"
    ]


# --------------------------------------------------------------------------
# Student ids
# --------------------------------------------------------------------------


def test_student_ids_keep_letters_of_any_script_and_replace_what_is_unsafe_in_a_folder_name(sub):
    put(sub / "José Ñúñez_01_single_channel.ipynb")
    put(sub / "d'Arcy" / "02_multi_channel" / "02_multi_channel.ipynb")
    put(sub / "王芳_03_many_filters.ipynb")
    put(sub / "a\u202egnp.exe_03_many_filters.ipynb")  # a right-to-left override, to disguise a name
    rows, _ = run(sub)
    assert sorted(rows) == [("José_Ñúñez", "01_single_channel"), ("a_gnp.exe", "03_many_filters"),
                            ("d_Arcy", "02_multi_channel"), ("王芳", "03_many_filters")]
    assert rows["d_Arcy", "02_multi_channel"].notebook.parent.parent.name == "d_Arcy"
    assert "letters and digits of any script, . _ @ + -" in STUDENT_ID_CHARS


def test_two_students_whose_names_differ_only_in_letters_outside_ascii_stay_two_students(sub):
    put(sub / "ålice_01_single_channel.ipynb", notebook_text("who = 'ålice'"))
    put(sub / "ølice_01_single_channel.ipynb", notebook_text("who = 'ølice'"))
    rows, warnings = run(sub)
    assert sorted(rows) == [("ålice", "01_single_channel"), ("ølice", "01_single_channel")]
    assert nbformat.read(rows["ølice", "01_single_channel"].notebook, 4).cells[0].source == "who = 'ølice'"
    assert warnings == []


def test_one_name_typed_on_two_systems_is_one_student(sub):
    # macOS writes å as a + a combining ring (NFD); Windows and Linux as one character (NFC).
    put(sub / "a\u030alice_01_single_channel.ipynb", mtime=T0)
    put(sub / "\u00e5lice" / "01_single_channel" / "01_single_channel.ipynb", mtime=T0 + 60)
    row = only_row(sub)
    assert row.student_id == "\u00e5lice" and row.superseded == ("a\u030alice_01_single_channel.ipynb",)


def test_names_that_give_the_same_id_are_graded_as_different_students_and_the_run_says_so(sub, caplog):
    put(sub / "d'Arcy_01_single_channel.ipynb")
    put(sub / "d Arcy_01_single_channel.ipynb")
    put(sub / "d_Arcy_01_single_channel.ipynb")
    rows, warnings = run(sub)
    ids = sorted(student for student, _ in rows)
    assert len(ids) == 3 and ids[0] == "d_Arcy" and all(i.startswith("d_Arcy_") and len(i) == 13 for i in ids[1:])
    assert warnings == [caplog.records[0].getMessage()]  # in the summary, and logged (stderr)
    assert warnings[0].startswith("student id collision: the names 'd Arcy' (d Arcy_01_single_channel.ipynb) "
                                  "and \"d'Arcy\" (d'Arcy_01_single_channel.ipynb) and 'd_Arcy' ")
    assert f"'d Arcy' as {submissions.student_ids.distinct('d Arcy')}" in warnings[0]
    assert "'d_Arcy' as d_Arcy" in warnings[0]


def test_a_student_id_longer_than_a_folder_name_allows_is_skipped_with_a_warning(sub):
    put(sub / ("é" * 57 + "_01_single_channel.ipynb"))
    put(sub / ("é" * 56 + "_02_multi_channel.ipynb"))
    rows, warnings = run(sub)
    assert sorted(rows) == [("é" * 56, "02_multi_channel")]
    assert warnings == [f"skipped {'é' * 57}_01_single_channel.ipynb: '{'é' * 57}' is too long for a student id "
                        "(57 characters; at most 56)"]


def test_student_ids_are_case_sensitive(sub):
    put(sub / "Alice_01_single_channel.ipynb")
    put(sub / "alice_01_single_channel.ipynb")
    rows, _ = run(sub)
    assert sorted(rows) == [("Alice", "01_single_channel"), ("alice", "01_single_channel")]


def test_unusable_student_id_is_skipped_with_a_warning(sub):
    # A zip's name is the student: '..' must not become a staging folder.
    put_zip(sub / "...zip", {"01_single_channel.ipynb": None})
    rows, warnings = run(sub)
    assert rows == {}
    assert warnings == ["skipped ...zip: a system file, not a submission"]
    finder = submissions._Finder(ASSIGNMENTS, sub / "staging", warnings := [])
    assert finder.student_id("..", "x") is None and finder.student_id("", "y") is None
    assert warnings == ["skipped x: '..' is not a usable student id", "skipped y: '' is not a usable student id"]


# --------------------------------------------------------------------------
# Zip files
# --------------------------------------------------------------------------


def test_zip_named_by_student_gives_each_assignment_inside(sub):
    put_zip(
        sub / "alice.zip",
        {
            "01_single_channel.ipynb": None,
            "work/02_multi_channel.ipynb": None,
            "__MACOSX/work/._02_multi_channel.ipynb": b"\x00\x05",
            "work/.ipynb_checkpoints/02_multi_channel-checkpoint.ipynb": None,
            "work/data.npy": b"\x93NUMPY",
        },
    )
    rows, warnings = run(sub)
    assert {key: row.origin for key, row in rows.items()} == {
        ("alice", "01_single_channel"): "alice.zip:01_single_channel.ipynb",
        ("alice", "02_multi_channel"): "alice.zip:work/02_multi_channel.ipynb",
    }
    assert all(row.problem is None for row in rows.values())
    assert warnings == []


def test_zip_named_for_an_assignment_may_hold_one_notebook_of_any_name(sub):
    put_zip(sub / "alice_01_single_channel.zip", {"submission/my notebook.ipynb": None})
    row = only_row(sub)
    assert (row.student_id, row.assignment, row.problem) == ("alice", "01_single_channel", None)
    assert row.origin == "alice_01_single_channel.zip:submission/my notebook.ipynb"


def test_zip_named_for_an_assignment_with_several_other_notebooks_is_invalid(sub):
    put_zip(sub / "alice_01_single_channel.zip", {"a.ipynb": None, "b.ipynb": None})
    row = only_row(sub)
    assert row.problem == "the zip file holds several notebooks (a.ipynb, b.ipynb) and none is named 01_single_channel.ipynb"


def test_zip_notebooks_without_an_assignment_in_their_name_are_skipped_with_a_warning(sub):
    put_zip(sub / "alice.zip", {"01_single_channel.ipynb": None, "notes.ipynb": None})
    rows, warnings = run(sub)
    assert list(rows) == [("alice", "01_single_channel")]
    assert warnings == ["skipped alice.zip:notes.ipynb: the name carries no assignment of this course"]


@pytest.mark.parametrize(
    "name", ["smithjane_12345_678901_submission.zip", "Jane Smith_12345_assignsubmission_file_work.zip"]
)
def test_canvas_and_moodle_named_zips_give_the_student_number(sub, name):
    put_zip(sub / name, {"03_many_filters.ipynb": None})
    row = only_row(sub)
    assert (row.student_id, row.assignment, row.problem) == ("12345", "03_many_filters", None)


def test_zip_with_path_traversal_member_is_read_not_extracted(sub, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a student's zip must never be extracted")

    monkeypatch.setattr(zipfile.ZipFile, "extract", refuse)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", refuse)
    put_zip(sub / "mallory.zip", {"../../escaped/01_single_channel.ipynb": None, "/etc/02_multi_channel.ipynb": None})
    rows, _ = run(sub)
    assert {key: row.origin for key, row in rows.items()} == {
        ("mallory", "01_single_channel"): "mallory.zip:../../escaped/01_single_channel.ipynb",
        ("mallory", "02_multi_channel"): "mallory.zip:/etc/02_multi_channel.ipynb",
    }
    assert not (tmp_path.parent / "escaped").exists() and not (tmp_path / "escaped").exists()
    staged = sorted(p.relative_to(tmp_path / "staging") for p in (tmp_path / "staging").rglob("*.ipynb"))
    assert staged == [
        Path("mallory/01_single_channel/01_single_channel.ipynb"),
        Path("mallory/02_multi_channel/02_multi_channel.ipynb"),
    ]


def test_zip_with_too_many_members_is_refused(sub, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_ZIP_MEMBERS", 3)
    put_zip(sub / "alice_01_single_channel.zip", {f"f{i}.txt": "x" for i in range(4)})
    row = only_row(sub)
    assert row.problem == "the zip file holds 4 files; the limit is 3"


def test_zip_that_unpacks_too_big_is_refused(sub, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_ZIP_TOTAL_BYTES", 10_000)
    put_zip(sub / "alice.zip", {"01_single_channel.ipynb": None, "big.bin": b"\0" * 50_000})
    row = only_row(sub)  # the zip itself is small: zeros compress well, as in a zip bomb
    assert (sub / "alice.zip").stat().st_size < 10_000
    assert (row.student_id, row.assignment, row.notebook) == ("alice", "01_single_channel", None)
    assert row.problem.startswith("the zip file unpacks to 5") and row.problem.endswith("kB; the limit is 10 kB")


def test_corrupted_zip_is_invalid(sub):
    put(sub / "alice_02_multi_channel.zip", b"PK\x03\x04 this is not really a zip")
    put(sub / "bob.zip", b"\x00" * 100)
    rows, warnings = run(sub)
    row = rows["alice", "02_multi_channel"]
    assert row.problem == "not a readable zip file: File is not a zip file"
    assert warnings == ["skipped bob.zip: not a readable zip file: File is not a zip file"]


def test_zip_member_with_damaged_data_is_invalid(sub):
    path = put_zip(sub / "alice.zip", {"01_single_channel.ipynb": None}, compression=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    at = data.index(b'"cells"')
    data[at + 1 : at + 6] = b"CELLS"  # same length: the zip still opens, the CRC no longer matches
    put(path, bytes(data))
    row = only_row(sub)
    assert row.problem == "not a readable zip file: 01_single_channel.ipynb: Bad CRC-32 for file '01_single_channel.ipynb'"


def test_zip_member_over_the_size_limit_is_refused(sub, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_NOTEBOOK_BYTES", 100)
    put_zip(sub / "alice.zip", {"01_single_channel.ipynb": "x" * 150})
    assert only_row(sub).problem == "the file is 150 bytes; the limit is 100 bytes"


def test_password_protected_zip_member_is_invalid(sub):
    path = put_zip(sub / "alice.zip", {"01_single_channel.ipynb": None})
    data = bytearray(path.read_bytes())
    data[data.index(b"PK\x03\x04") + 6] |= 1  # the "encrypted" flag, in the local and the central header
    data[data.index(b"PK\x01\x02") + 8] |= 1
    put(path, bytes(data))
    assert only_row(sub).problem == "not a readable zip file: 01_single_channel.ipynb is password-protected"


def test_a_whole_canvas_download_zip_is_skipped_with_a_warning(sub):
    put_zip(sub / "submissions.zip", {"smithjane_12345_678901_01_single_channel.ipynb": None})
    rows, warnings = run(sub)
    assert rows == {}
    assert warnings == [
        "skipped submissions.zip: it looks like a whole Canvas or Moodle download; unzip it into the submissions folder"
    ]


# --------------------------------------------------------------------------
# Checking each notebook file
# --------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"  \n\n "])
def test_empty_file_is_invalid(sub, content):
    put(sub / "alice_01_single_channel.ipynb", content)
    row = only_row(sub)
    assert (row.problem, row.notebook) == ("the file is empty", None)


def test_truncated_json_is_invalid_with_a_clear_message(sub):
    text = notebook_text()
    put(sub / "alice_01_single_channel.ipynb", text[: len(text) // 2])
    problem = only_row(sub).problem
    lines = text[: len(text) // 2].count("\n") + 1
    assert problem.startswith(f"not valid JSON (line {lines}, column ")
    assert problem.endswith("): the notebook file is damaged or truncated; re-download it from Jupyter")


def test_binary_garbage_is_invalid_as_not_utf8(sub):
    put(sub / "alice_01_single_channel.ipynb", bytes(range(256)) * 40)
    problem = only_row(sub).problem
    assert problem.startswith("not UTF-8 text (byte 0x80 at position 128): ")


def test_a_byte_order_mark_is_tolerated(sub):
    put(sub / "alice_01_single_channel.ipynb", b"\xef\xbb\xbf" + notebook_text().encode())
    assert only_row(sub).problem is None


@pytest.mark.parametrize(
    "text, problem",
    [
        ("[1, 2]", "not a Jupyter notebook: the file holds a list, not a notebook's JSON object"),
        ('"hello"', "not a Jupyter notebook: the file holds a string, not a notebook's JSON object"),
        ('{"name": "alice"}', "not a Jupyter notebook: the JSON has no 'nbformat' field"),
        ('{"nbformat": 9, "cells": []}', "not a Jupyter notebook: its nbformat version is 9; notebooks have 3 or 4"),
        ('{"nbformat": "4"}', "not a Jupyter notebook: its nbformat version is '4'; notebooks have 3 or 4"),
        ('{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": 7}', "not a valid Jupyter notebook: cells: 7 is not of type 'array'"),
    ],
)
def test_json_that_is_not_a_notebook_is_invalid(sub, text, problem):
    put(sub / "alice_01_single_channel.ipynb", text)
    assert only_row(sub).problem == problem


def test_notebook_failing_validation_says_where_in_one_line(sub):
    notebook = json.loads(notebook_text())
    notebook["cells"][0]["source"] = 5
    put(sub / "alice_01_single_channel.ipynb", json.dumps(notebook))
    problem = only_row(sub).problem
    assert problem == "not a valid Jupyter notebook: cells[0].source: 5 is not valid under any of the given schemas"


def test_long_validator_messages_are_cut_short(sub):
    notebook = json.loads(notebook_text())
    notebook["cells"][0]["cell_type"] = "x" * 1000
    put(sub / "alice_01_single_channel.ipynb", json.dumps(notebook))
    problem = only_row(sub).problem
    assert problem.startswith("not a valid Jupyter notebook: cells[0]: ")
    assert "\n" not in problem and len(problem) < 260 and problem.endswith("…")


def test_nbformat_3_notebook_is_upgraded_to_4(sub):
    v3 = nbformat.v3.new_notebook(worksheets=[nbformat.v3.new_worksheet(cells=[nbformat.v3.new_code_cell("z = 3")])])
    put(sub / "alice_01_single_channel.ipynb", json.dumps(v3))
    row = only_row(sub)
    assert row.problem is None
    staged = nbformat.read(row.notebook, as_version=nbformat.NO_CONVERT)
    assert staged.nbformat == 4 and staged.cells[0].source == "z = 3"


def test_missing_cell_ids_are_repaired_in_the_staged_copy(sub):
    notebook = json.loads(notebook_text())
    del notebook["cells"][0]["id"]
    put(sub / "alice_01_single_channel.ipynb", json.dumps(notebook))
    row = only_row(sub)
    assert row.problem is None
    nbformat.validate(nbformat.read(row.notebook, as_version=4))


def test_notebook_over_the_size_limit_is_refused_unread(sub, monkeypatch):
    path = sub / "alice_01_single_channel.ipynb"
    with open(path, "wb") as sparse:  # 31.4 MB on paper, nothing written
        sparse.truncate(31_400_000)

    def no_reading(*args, **kwargs):
        raise AssertionError("a file over the limit must not be read")

    monkeypatch.setattr(submissions, "_read_notebook", no_reading)
    assert only_row(sub).problem == "the file is 31.4 MB; the limit is 20 MB"


def test_symlinked_notebook_is_not_followed(sub, tmp_path):
    secret = put(tmp_path / "instructor_key.ipynb")
    (sub / "mallory_01_single_channel.ipynb").symlink_to(secret)
    (sub / "mallory").symlink_to(tmp_path)
    rows, warnings = run(sub)
    assert rows["mallory", "01_single_channel"].problem == (
        "the file is a symbolic link, which is not followed; submit the file itself"
    )
    assert warnings == ["skipped mallory: a symbolic link to a folder, not followed"]


def test_a_pipe_named_like_a_notebook_is_skipped_not_opened(sub):
    os.mkfifo(sub / "mallory_01_single_channel.ipynb")  # opening it for reading would wait forever
    rows, warnings = run(sub)
    assert rows == {}
    assert warnings == ["skipped mallory_01_single_channel.ipynb: not a regular file"]


def test_json_nested_too_deeply_is_invalid(sub):
    put(sub / "mallory_01_single_channel.ipynb", "[" * 100_000 + "]" * 100_000)
    assert only_row(sub).problem.startswith("not valid JSON: maximum recursion depth exceeded")


def test_control_characters_in_names_are_escaped_in_origins(sub):
    put(sub / "alice\n_01_single_channel.ipynb")
    row = only_row(sub)
    assert row.student_id == "alice_" and row.origin == "alice\\n_01_single_channel.ipynb"


# --------------------------------------------------------------------------
# Two submissions of one assignment
# --------------------------------------------------------------------------


def test_newest_of_two_submissions_wins(sub):
    put(sub / "alice" / "01_single_channel" / "01_single_channel.ipynb", mtime=T0 + 50)
    put(sub / "alice_01_single_channel.ipynb", notebook_text("newest = True"), mtime=T0 + 100)
    put_zip(sub / "alice.zip", {"01_single_channel.ipynb": None}, mtime=T0)
    rows, warnings = run(sub)
    row = rows["alice", "01_single_channel"]
    assert row.origin == "alice_01_single_channel.ipynb"
    assert row.superseded == ("alice/01_single_channel/01_single_channel.ipynb", "alice.zip:01_single_channel.ipynb")
    assert nbformat.read(row.notebook, as_version=4).cells[0].source == "newest = True"
    assert warnings == [
        "alice/01_single_channel: graded alice_01_single_channel.ipynb (newest), "
        "ignored alice/01_single_channel/01_single_channel.ipynb, alice.zip:01_single_channel.ipynb"
    ]


def test_equal_times_go_to_the_origin_that_sorts_last(sub):
    put(sub / "alice_01_single_channel.ipynb")
    put(sub / "01_single_channel-alice.ipynb")
    row = only_row(sub)
    assert (row.origin, row.superseded) == ("alice_01_single_channel.ipynb", ("01_single_channel-alice.ipynb",))


def test_a_newer_broken_notebook_beats_an_older_good_one(sub):
    put(sub / "alice_01_single_channel.ipynb", mtime=T0)
    put(sub / "alice-01_single_channel.ipynb", "{", mtime=T0 + 1)
    row = only_row(sub)
    assert row.origin == "alice-01_single_channel.ipynb" and row.problem.startswith("not valid JSON")


def test_zip_members_have_the_zip_files_time(sub):
    put_zip(sub / "alice.zip", {"02_multi_channel.ipynb": None}, mtime=T0 + 10)
    put(sub / "alice_02_multi_channel.ipynb", mtime=T0 + 5)
    row = only_row(sub)
    assert row.origin == "alice.zip:02_multi_channel.ipynb"


# --------------------------------------------------------------------------
# The whole run: order, `only`, the staging folder, the one fatal error
# --------------------------------------------------------------------------


def test_results_are_sorted_by_student_then_assignment(sub, tmp_path):
    for name in ("zoe_01_single_channel", "bob_03_many_filters", "bob_01_single_channel", "Carl_02_multi_channel"):
        put(sub / f"{name}.ipynb")
    rows, _ = collect(sub, tmp_path / "staging", ASSIGNMENTS)
    assert [(r.student_id, r.assignment) for r in rows] == [
        ("Carl", "02_multi_channel"),
        ("bob", "01_single_channel"),
        ("bob", "03_many_filters"),
        ("zoe", "01_single_channel"),
    ]


def test_only_restricts_to_the_named_assignments_and_drops_unknown_ones(sub, tmp_path):
    put(sub / "alice_01_single_channel.ipynb")
    put(sub / "alice_02_multi_channel.ipynb")
    put(sub / "bob" / "04_pooling" / "04_pooling.ipynb")
    rows, warnings = run(sub, only=["02_multi_channel", "07_bogus"])
    assert list(rows) == [("alice", "02_multi_channel")]
    assert not (tmp_path / "staging" / "alice" / "01_single_channel").exists()
    assert warnings == [f"'07_bogus' is not an assignment of this course ({UNKNOWN.removeprefix('this course has ')})"]
    rows, _ = run(sub)
    assert sorted(rows) == [("alice", "01_single_channel"), ("alice", "02_multi_channel"), ("bob", "04_pooling")]


def test_a_staging_folder_inside_submissions_is_not_read(sub):
    put(sub / "alice_01_single_channel.ipynb")
    rows, warnings = collect(sub, sub / "out" / "staging", ASSIGNMENTS)
    rows, warnings = collect(sub, sub / "out" / "staging", ASSIGNMENTS)
    assert [(r.student_id, r.assignment) for r in rows] == [("alice", "01_single_channel")]
    assert warnings == ["skipped out: it holds the staging folder"]


def test_missing_submissions_folder_raises_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="the submissions folder .*nowhere does not exist"):
        collect(tmp_path / "nowhere", tmp_path / "staging", ASSIGNMENTS)
    put(tmp_path / "a_file.zip", b"")
    with pytest.raises(NotADirectoryError, match="a_file.zip is not a folder"):
        collect(tmp_path / "a_file.zip", tmp_path / "staging", ASSIGNMENTS)


def test_accepted_patterns_describe_every_layout():
    for pattern in (
        "<student>/<assignment>/<assignment>.ipynb",
        "<student>_<assignment>.ipynb",
        "<assignment>-<student>.ipynb",
        "LATE_",
        "assignsubmission_file",
        "<student>.zip",
        "20 MB",
        "1000 files",
        "100 MB",
        STUDENT_ID_CHARS,
    ):
        assert pattern in ACCEPTED_PATTERNS
    assert max(len(line) for line in ACCEPTED_PATTERNS.splitlines()) <= 80
