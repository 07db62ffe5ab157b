"""`conv-course grade` gives every submission a grade and a clear status,
however broken or hostile it is, and no submission can raise its own score.

The whole set of tests/submission_set.py (correct, each misconception,
endless loops, broken files, exits, bombs, attacks on the grader, LMS file
names, duplicates, an unknown assignment) is graded in ONE run, as an
instructor would, and every line of grades.csv and tests.csv is asserted.
Then a smaller folder is graded with --jobs 1 and again with --jobs 2 into the
same course: the CSVs must be byte for byte the same (parallel grading and
re-runs change nothing), and a manual score given in between survives.
"""

import csv
import json
import os
import select
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conv_lib.diagnose.codes import CODES
from notebook_tools import REPO, SOLUTIONS, html_text, read_notebook, secret_lines, text_lines
from test_nbgrader_end_to_end import WRONG_SUBMISSIONS
from submission_set import (
    MEAN_NOT_SUM,
    MULTI,
    FORGE_PASSES,
    answered,
    correct,
    nbgrader_path,
    notebook_text,
    with_cell_after,
    write_submission_set,
)


TIMEOUT = 8  # seconds per cell: the endless loop costs 8 s, the stubborn one 32 s (the notebook's deadline)


pytestmark = pytest.mark.usefixtures("needs_bubblewrap")


def conv_course(*args, timeout=900):
    """Run `conv-course ARGS` (this Python's); returns the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "autograder.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The submission set graded in one run: (expected, grades, tests, run, paths)."""
    root = tmp_path_factory.mktemp("grade")
    listener = socket.create_server(("127.0.0.1", 0))
    markers = [REPO / "ESCAPED_FROM_THE_SANDBOX", root / "ESCAPED_FROM_THE_SANDBOX"]
    secrets = [SOLUTIONS / MULTI / f"{MULTI}.ipynb", REPO / "autograder" / "gradebook.db",
               root / "course" / "gradebook.db", root / "submissions" / "correct" / MULTI / f"{MULTI}.ipynb"]
    expected = write_submission_set(root / "submissions", markers, listener.getsockname()[1], secrets)
    run = conv_course("grade", root / "submissions", "--out", root / "out", "--course", root / "course",
                      "--timeout", TIMEOUT, "--jobs", 2, "--quiet")
    connected, _, _ = select.select([listener], [], [], 0)
    listener.close()
    assert run.returncode == 0, run.stdout + run.stderr
    paths = {"root": root, "markers": markers, "connected": connected}
    return expected, read_csv(root / "out" / "grades.csv"), read_csv(root / "out" / "tests.csv"), run, paths


def test_every_submission_gets_the_status_and_points_it_deserves(graded):
    expected, grades, _, _, _ = graded
    got = {(row["student_id"], row["assignment"]): (row["status"], float(row["auto_score"])) for row in grades}
    want = {key: (case.status, case.auto_score) for key, case in expected.items()}
    assert {key: got.get(key) for key in want} == want


def test_each_failing_test_names_its_misconception_or_error(graded):
    expected, _, tests, _, _ = graded
    messages = {}
    for row in tests:
        if row["message"]:
            messages.setdefault((row["student_id"], row["assignment"]), []).append(row["message"])
    for key, case in expected.items():
        if case.code:
            assert any(message.startswith(case.code) for message in messages.get(key, [])), (key, messages.get(key))
    assert all(not row["message"] for row in tests if row["student_id"] == "correct")


def test_a_student_without_a_submission_of_an_assignment_is_missing(graded):
    expected, grades, _, _, _ = graded
    rows = {(row["student_id"], row["assignment"]): row for row in grades}
    assert rows[("correct", "01_single_channel")]["status"] == "missing"
    assert rows[("flipped_kernel", MULTI)]["status"] == "missing"
    assert rows[("correct", "01_single_channel")]["score"] == "0"
    assert len(rows) == len(grades)  # one row per student and assignment


def test_scores_add_up_and_written_answers_wait_for_a_person(graded):
    _, grades, tests, _, _ = graded
    for row in grades:
        points = sum(float(t["points"]) for t in tests
                     if (t["student_id"], t["assignment"]) == (row["student_id"], row["assignment"]))
        assert float(row["auto_score"]) == points
        assert float(row["score"]) == float(row["auto_score"]) + float(row["manual_score"])
    correct_row = next(r for r in grades if (r["student_id"], r["assignment"]) == ("correct", MULTI))
    assert (correct_row["score"], correct_row["max_score"], correct_row["status"]) == ("5", "8", "needs_manual_grade")


def test_nothing_escaped_the_sandbox(graded):
    _, _, _, _, paths = graded
    assert not any(marker.exists() for marker in paths["markers"])
    assert paths["connected"] == []
    snooped = read_notebook(paths["root"] / "course" / "autograded" / "snoops_for_secrets" / MULTI / f"{MULTI}.ipynb")
    printed = "".join(output.get("text", "") for cell in snooped.cells for output in cell.get("outputs", []))
    assert "secrets found: 0" in printed


def test_the_gradebook_holds_the_same_scores(graded):
    from nbgrader.api import Gradebook

    _, grades, _, _, paths = graded
    with Gradebook(f"sqlite:///{paths['root'] / 'course' / 'gradebook.db'}", "conv-channels") as gradebook:
        for row in grades:
            if row["status"] in ("missing", "invalid") or row["assignment"] not in ("01_single_channel", MULTI, "03_many_filters"):
                continue
            submission = gradebook.find_submission(row["assignment"], row["student_id"])
            assert submission.score == float(row["score"]), row


def test_feedback_pages_never_show_hidden_tests(graded):
    expected, _, _, _, paths = graded
    pages = sorted((paths["root"] / "out" / "feedback").glob("*/*.html"))
    assert {(page.parent.name, page.stem) for page in pages} >= set(expected)
    hidden = set()
    for assignment in ("01_single_channel", MULTI, "03_many_filters"):
        hidden |= secret_lines(read_notebook(SOLUTIONS / assignment / f"{assignment}.ipynb"), solutions=False)
    for page in pages:
        shown = text_lines(html_text(page.read_text(encoding="utf-8")))
        assert not hidden & shown, (page, hidden & shown)
    forged = html_text((paths["root"] / "out" / "feedback" / "forges_passes" / f"{MULTI}.html").read_text())
    assert "[tampered]" in forged
    empty = html_text((paths["root"] / "out" / "feedback" / "empty_file" / f"{MULTI}.html").read_text())
    assert "invalid" in empty and "the file is empty" in empty


def test_the_summary_counts_statuses_and_misconceptions(graded):
    expected, _, _, run, _ = graded
    assert f"graded {len(expected)} submission(s) of {len({student for student, _ in expected})} student(s)" in run.stdout
    assert "status: needs_manual_grade" in run.stdout
    assert "tampered 1" in run.stdout and "invalid 6" in run.stdout
    lines = run.stdout.splitlines()
    assert "most common misconceptions:" in lines
    common = lines[lines.index("most common misconceptions:") + 1:]
    assert any(line.startswith("  [mean-not-sum] ") and line.endswith(": " + CODES["mean-not-sum"]) for line in common)
    assert "erin/02_multi_channel: graded" in run.stdout  # which of two submissions counted


def test_a_local_dask_cluster_grades_the_whole_set_exactly_as_local_workers_do(graded, tmp_path):
    _, _, _, _, paths = graded
    local, cluster = paths["root"] / "out", tmp_path / "out"
    run = conv_course("grade", paths["root"] / "submissions", "--out", cluster, "--course", tmp_path / "course",
                      "--timeout", TIMEOUT, "--cluster", "local:2", "--quiet")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "on the cluster local:2" in run.stdout
    for name in ("grades.csv", "tests.csv"):
        assert (cluster / name).read_text(encoding="utf-8") == (local / name).read_text(encoding="utf-8"), name
    pages = lambda out: sorted(p.relative_to(out) for p in (out / "feedback").rglob("*.html"))  # noqa: E731
    assert pages(cluster) == pages(local)
    assert not any(marker.exists() for marker in paths["markers"])


# --- --jobs 1 and --jobs 2, re-runs, manual grades -------------------------------------


def write_small_set(folder):
    for student, notebook in {
        "ann": correct(),
        "ben": answered({"conv2d_multi_in": MEAN_NOT_SUM}),
        "cat": with_cell_after(answered({"conv2d_multi_in": MEAN_NOT_SUM}), "conv2d_multi_in", FORGE_PASSES),
        "dan": answered({"conv2d_multi_in": "def conv2d_multi_in(x, w, b=0.0)\n    return x\n"}),
        "eve": correct("03_many_filters"),
    }.items():
        assignment = "03_many_filters" if student == "eve" else MULTI
        path = nbgrader_path(folder, student, assignment)
        path.parent.mkdir(parents=True)
        path.write_text(notebook_text(notebook), encoding="utf-8")
    (folder / f"fay_{MULTI}.ipynb").write_text('{"cells": [', encoding="utf-8")


def test_two_jobs_grade_exactly_as_one_and_a_rerun_keeps_manual_scores(tmp_path):
    from nbgrader.api import Gradebook

    write_small_set(tmp_path / "submissions")
    course = tmp_path / "course"
    outs = {}
    for jobs in (1, 2):
        outs[jobs] = tmp_path / f"out{jobs}"
        run = conv_course("grade", tmp_path / "submissions", "--out", outs[jobs], "--course", course,
                          "--jobs", jobs, "--timeout", 30, "--quiet")
        assert run.returncode == 0, run.stderr
    for name in ("grades.csv", "tests.csv"):
        assert (outs[1] / name).read_bytes() == (outs[2] / name).read_bytes(), name
    assert sorted(p.relative_to(outs[1]) for p in outs[1].rglob("*.html")) == \
        sorted(p.relative_to(outs[2]) for p in outs[2].rglob("*.html"))

    # A person grades ann's written answer in the formgrader...
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "conv-channels") as gradebook:
        grade = gradebook.find_grade("explain_channel_sum", MULTI, MULTI, "ann")
        grade.manual_score = 3
        grade.needs_manual_grade = False
        gradebook.db.commit()
    # ...the feedback is made again with it...
    run = conv_course("feedback", "--out", outs[2], "--course", course, "--quiet")
    assert run.returncode == 0, run.stderr
    ann = lambda out: next(r for r in read_csv(out / "grades.csv") if r["student_id"] == "ann")  # noqa: E731
    assert (ann(outs[2])["score"], ann(outs[2])["manual_score"], ann(outs[2])["status"]) == ("8", "3", "ok")
    # ...and grading again keeps it: the unchanged submissions are kept from the first run.
    again = ("grade", tmp_path / "submissions", "--out", outs[2], "--course", course, "--timeout", 30, "--quiet")
    run = conv_course(*again)
    assert run.returncode == 0, run.stderr
    assert "5 submission(s) graded by an earlier run" in run.stdout
    assert (ann(outs[2])["score"], ann(outs[2])["manual_score"], ann(outs[2])["status"]) == ("8", "3", "ok")
    progress = outs[2] / "progress.jsonl"
    lines = progress.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5  # one per submission that ran (fay's file is broken: invalid, not graded)
    before = by_key(read_csv(outs[2] / "grades.csv"))

    # --force grades again what was kept (here only eve's assignment, to be quick).
    run = conv_course(*again, "--force", "--assignment", "03_many_filters")
    assert run.returncode == 0, run.stderr
    assert "graded by an earlier run" not in run.stdout and "graded 1 submission(s)" in run.stdout

    # A run stopped before ann's result and in the middle of writing a line, then
    # ben sends a corrected notebook: the resumed run keeps what it can, and
    # grades the rest, ann (her manual score kept) and ben's new notebook among them.
    others = [line for line in lines if json.loads(line)["student_id"] != "ann"]
    progress.write_text("\n".join(others[:2]) + "\n" + others[2][:20], encoding="utf-8")
    nbgrader_path(tmp_path / "submissions", "ben", MULTI).write_text(notebook_text(correct()), encoding="utf-8")
    kept = {json.loads(line)["student_id"] for line in others[:2]} - {"ben"}
    run = conv_course(*again)
    assert run.returncode == 0, run.stderr
    assert f"{len(kept)} submission(s) graded by an earlier run" in run.stdout
    after = by_key(read_csv(outs[2] / "grades.csv"))
    assert (ann(outs[2])["score"], ann(outs[2])["manual_score"], ann(outs[2])["status"]) == ("8", "3", "ok")
    assert (before["ben", MULTI]["auto_score"], after["ben", MULTI]["auto_score"]) == ("0", "5")
    assert {key: row for key, row in before.items() if key != ("ben", MULTI)} == \
        {key: row for key, row in after.items() if key != ("ben", MULTI)}
    entries = [json.loads(line) for line in progress.read_text(encoding="utf-8").splitlines()
               if line.startswith("{") and line.endswith("}")]
    assert len(entries) == 2 + 5 - len(kept)  # the kept lines, then one per submission graded again
    assert len(list((outs[2] / "feedback").rglob("*.html"))) == len(after)  # a page for every row


def by_key(rows):
    return {(row["student_id"], row["assignment"]): row for row in rows}


# --- when the grader itself cannot run -------------------------------------------------


def test_a_missing_submissions_folder_is_an_error_that_says_so(tmp_path):
    run = conv_course("grade", tmp_path / "nowhere", "--out", tmp_path / "out", "--course", tmp_path / "course")
    assert run.returncode == 1
    assert "nowhere" in run.stderr


def test_an_unknown_assignment_option_is_an_error_that_lists_the_course(tmp_path):
    (tmp_path / "submissions").mkdir()
    run = conv_course("grade", tmp_path / "submissions", "--out", tmp_path / "out", "--assignment", "99_nothing",
                      "--course", tmp_path / "course")
    assert run.returncode == 1
    assert "99_nothing" in run.stderr and "02_multi_channel" in run.stderr


def test_without_a_sandbox_the_grader_refuses_to_run_student_code(tmp_path):
    (tmp_path / "submissions").mkdir()
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", str(tmp_path / "submissions"),
                          "--out", str(tmp_path / "out"), "--course", str(tmp_path / "course")],
                         capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert run.returncode == 1
    assert "bwrap" in run.stderr and "bubblewrap" in run.stderr


def test_the_console_script_is_installed():
    script = Path(sys.executable).parent / "conv-course"
    run = subprocess.run([str(script), "grade", "--help"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0
    assert "<student>/<assignment>/<assignment>.ipynb" in run.stdout


def test_release_of_an_unknown_assignment_says_which_exist():
    run = conv_course("release", "99_nothing", timeout=120)
    assert run.returncode == 1
    assert "99_nothing" in run.stderr and "01_single_channel" in run.stderr


# --- notebooks 04, 05 and 07 in the sandbox --------------------------------------------------


def test_the_stack_vgg16_and_groups_notebooks_grade_in_the_sandbox(tmp_path):
    """Notebook 05 builds all of VGG16 (138 million weights) when it runs outside nbgrader:
    graded, that part skips itself, so it fits the sandbox's memory and time. Notebook 07's
    wrong answers lose their cells' points, and tests.csv names their misconceptions."""
    wrong_table = WRONG_SUBMISSIONS["05_vgg16"]["fc6_sees_512_inputs"]
    no_padding = WRONG_SUBMISSIONS["04_conv_pool_stack"]["conv_without_padding"]
    groups = "07_groups_depthwise"
    submissions = {
        ("ann", "04_conv_pool_stack"): correct("04_conv_pool_stack"),
        ("ann", "05_vgg16"): correct("05_vgg16"),
        ("ann", groups): correct(groups),
        ("ben", "04_conv_pool_stack"): answered(no_padding, "04_conv_pool_stack"),
        ("ben", "05_vgg16"): answered(wrong_table, "05_vgg16"),
        ("ben", groups): answered({**WRONG_SUBMISSIONS[groups]["dealt_in_turn"],
                                   **WRONG_SUBMISSIONS[groups]["keras_reshaped"]}, groups),
        ("cy", groups): answered({**WRONG_SUBMISSIONS[groups]["groups_ignored"],
                                  **WRONG_SUBMISSIONS[groups]["no_pointwise"]}, groups),
    }
    for (student, assignment), notebook in submissions.items():
        path = nbgrader_path(tmp_path / "submissions", student, assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(notebook_text(notebook), encoding="utf-8")
    run = conv_course("grade", tmp_path / "submissions", "--out", tmp_path / "out", "--course", tmp_path / "course",
                      "--jobs", 2, "--timeout", 60, "--quiet")
    assert run.returncode == 0, run.stderr
    grades = {(row["student_id"], row["assignment"]): (row["status"], row["auto_score"], row["max_score"])
              for row in read_csv(tmp_path / "out" / "grades.csv")}
    assert grades == {
        # 04: 15 autograded points and 05: 9, each with a written answer (3 points) that waits for a person.
        ("ann", "04_conv_pool_stack"): ("needs_manual_grade", "15", "18"),
        ("ann", "05_vgg16"): ("needs_manual_grade", "9", "12"),
        ("ben", "04_conv_pool_stack"): ("needs_manual_grade", "10", "18"),   # conv2d_tests (5 points) lost
        ("ben", "05_vgg16"): ("needs_manual_grade", "4", "12"),               # vgg16_table_tests (5 points) lost
        # 07: 14 autograded points, and a written answer (3 points) that waits for a person.
        ("ann", groups): ("needs_manual_grade", "14", "17"),
        ("ben", groups): ("needs_manual_grade", "6", "17"),   # conv2d_grouped (5) and to_conv_lib_layout (3) lost
        ("cy", groups): ("needs_manual_grade", "7", "17"),    # conv2d_grouped (5) and separable_params (2) lost
        ("cy", "04_conv_pool_stack"): ("missing", "0", "18"),  # cy sent 07 only
        ("cy", "05_vgg16"): ("missing", "0", "12"),
    }
    failed = {(row["student_id"], row["grade_id"]): row["message"].split()[0]
              for row in read_csv(tmp_path / "out" / "tests.csv") if row["message"]}
    assert failed == {
        ("ben", "conv2d_tests"): "[output-size]", ("ben", "vgg16_table_tests"): "[fc-input-size]",
        ("ben", "conv2d_grouped_tests"): "[wrong-group]", ("ben", "to_conv_lib_layout_tests"): "[kernel-reshaped]",
        ("cy", "conv2d_grouped_tests"): "[groups-ignored]", ("cy", "separable_params_tests"): "[separable-no-pointwise]",
    }
