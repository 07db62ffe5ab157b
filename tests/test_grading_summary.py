"""The grading run's summary names the most common misconceptions with the course's own sentences.

The codes come from the failing tests' messages, which the students' kernels
produce: only a code of CODES is shown, with its sentence from
conv_lib/diagnose/codes.py, and any other code is counted without being repeated.
"""

from autograder.results import Row, misconception_lines, summary
from conv_lib.diagnose.codes import CODES


def row(student, *messages, status="ok"):
    """A graded submission whose test cells failed with these messages ("" for a passed test)."""
    tests = [(f"test_{index}", 0.0 if message else 1.0, 1.0, message) for index, message in enumerate(messages)]
    return Row(student, "02_multi_channel", 1.0, 2.0, 1.0, 0.0, status, "", tests)


def test_each_common_misconception_gets_a_line_with_its_count_and_sentence():
    rows = [row("ana", "[no-channel-sum] conv2d_multi_in returned 3 maps", ""),
            row("ben", "[no-channel-sum] conv2d_multi_in returned 2 maps", "[mean-not-sum] averages"),
            row("cem", "[flipped-kernel] [output-size] corr2d flips the kernel", "")]
    assert misconception_lines(rows) == [
        "most common misconceptions:",
        f"  [no-channel-sum] 2: {CODES['no-channel-sum']}",
        f"  [mean-not-sum] 1: {CODES['mean-not-sum']}",
        f"  [flipped-kernel] 1: {CODES['flipped-kernel']}",
    ]


def test_only_the_five_most_common_are_listed():
    codes = list(CODES)[:7]
    rows = [row(f"student{count}", *[f"[{code}] wrong" for code in codes[:count]]) for count in range(1, 8)]
    lines = misconception_lines(rows)
    assert lines[1:] == [f"  [{code}] {7 - index}: {CODES[code]}" for index, code in enumerate(codes[:5])]


def test_a_code_the_course_does_not_define_is_counted_but_never_repeated():
    rows = [row("eve", "[made-up-code] print('hi')", "[no-return] corr2d returned None", "[zz-top] again")]
    lines = misconception_lines(rows)
    assert lines == ["most common misconceptions:", f"  [no-return] 1: {CODES['no-return']}",
                     "  2 failed test(s) began with a code the course does not define"]
    assert not any("made-up-code" in line or "zz-top" in line for line in summary(rows).splitlines())


def test_no_failed_test_with_a_code_means_no_misconception_lines():
    assert misconception_lines([row("ana", "", "AssertionError: plain"), row("ben", status="missing")]) == []
    assert "misconceptions" not in summary([row("ana", "")])


def test_the_summary_holds_the_misconception_lines_after_the_statuses():
    rows = [row("ana", "[mean-not-sum] averages"), row("ben", "[mean-not-sum] averages")]
    lines = summary(rows).splitlines()
    assert lines[lines.index("status: ok 2") + 1:] == ["most common misconceptions:",
                                                       f"  [mean-not-sum] 2: {CODES['mean-not-sum']}"]


def test_every_problem_a_check_lists_is_counted():
    rows = [row("dan", "[reference-call] conv2d_multi_in calls scipy.signal.correlate2d | [depth-check] accepted 3 and 2")]
    assert misconception_lines(rows) == [
        "most common misconceptions:",
        f"  [reference-call] 1: {CODES['reference-call']}",
        f"  [depth-check] 1: {CODES['depth-check']}",
    ]


def test_tests_csv_holds_each_problem_of_a_failed_test_and_the_feedback_shows_them():
    """A check lists an answer's problems one per line; the grader keeps the lines that start with
    codes (tests.csv joins them with " | "), and the feedback page shows them, nothing else."""
    import nbformat

    from autograder.feedback import HideTestTracebacks
    from autograder.worker import failure_messages

    evalue = ("[reference-call] conv2d_multi_in calls scipy.signal.correlate2d, a ready-made convolution.\n"
              "a line that is not a problem\n[depth-check] conv2d_multi_in accepted an input with 3 channels")
    cell = nbformat.v4.new_code_cell("check()", metadata={"nbgrader": {"grade": True, "grade_id": "conv2d_multi_in_tests",
                                                                         "points": 1, "solution": False}})
    cell.outputs = [nbformat.v4.new_output("error", ename="Misconception", evalue=evalue, traceback=["secret source"])]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    assert failure_messages(notebook) == {"conv2d_multi_in_tests": (
        "[reference-call] conv2d_multi_in calls scipy.signal.correlate2d, a ready-made convolution. | "
        "[depth-check] conv2d_multi_in accepted an input with 3 channels")}
    shown, _ = HideTestTracebacks().preprocess_cell(cell, {}, 0)
    assert shown.outputs[0]["traceback"] == [
        "\x1b[0;31mMisconception\x1b[0m: [reference-call] conv2d_multi_in calls scipy.signal.correlate2d, a ready-made "
        "convolution.\n[depth-check] conv2d_multi_in accepted an input with 3 channels"]


FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "'=already quoted",
            "a line\r=1+1 and a line of its own\n=2+2"]


def test_no_csv_text_cell_is_a_formula_and_every_text_reads_back_as_it_was(tmp_path):
    import csv

    from autograder.results import read_statuses, read_test_messages, write_csvs

    rows = [Row(student, "02_multi_channel", 1.0, 8.0, 1.0, 0.0, "error", "",
                [("conv2d_multi_in_tests", 0.0, 5, message)])
            for student, message in zip(["-x", "+1", "@me", "alice", "=1+1", "'x", "bob", "carol"], FORMULAS)]
    write_csvs(rows, tmp_path)
    for name in ("grades.csv", "tests.csv"):
        with open(tmp_path / name, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle))[1:]
        assert len(lines) == len(rows)  # a carriage return in a message starts no line of its own
        cells = [cell for line in lines for cell in line]
        texts = [cell for cell in cells if not cell.replace(".", "").isdigit()]
        assert texts and all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in texts), texts
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as handle:
        written = {line["student_id"]: line for line in csv.DictReader(handle)}
    assert sorted(written) == sorted(["'-x", "'+1", "'@me", "alice", "'=1+1", "''x", "bob", "carol"])
    assert (written["'-x"]["score"], written["'-x"]["max_score"]) == ("1", "8")  # points stay numbers
    assert read_statuses(tmp_path) == {(row.student_id, row.assignment): "error" for row in rows}
    assert read_test_messages(tmp_path) == {(row.student_id, row.assignment): {"conv2d_multi_in_tests": row.tests[0][3]}
                                            for row in rows}
