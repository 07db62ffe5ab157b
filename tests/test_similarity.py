"""OUT/similarity.csv lists pairs worth a look for copying, and only those (autograder/similarity.py).

The notebooks are built with nbformat in the layout a grade run stages them,
staging/<student_id>/<assignment>/<assignment>.ipynb, each answer in a code
cell with nbgrader's solution metadata; the course's own solution of
02_multi_channel is the reference material, as in a real run.
"""

import csv
import json
import time

import nbformat
import pytest

from autograder import results, similarity

ASSIGNMENT = "02_multi_channel"
HEADER = '''def conv2d_multi_in(x, w, b=0.0):
    """One multi-channel filter on one image: the channel-summing rule.

    x: (C_in, H, W) image; w: (C_in, kH, kW) filter, one channel per input channel;
    b: the filter's one bias (a number).
    Returns (Ho, Wo): one feature map.
    """
'''

#: Ten learners' correct answers, each written its own way.
INDEPENDENT = {
    "ada": """
    C, H, W = x.shape
    _, kh, kw = w.shape
    out = np.zeros((H - kh + 1, W - kw + 1))
    for c in range(C):
        out += corr2d(x[c], w[c])
    out += b
    return out
""",
    "ben": """
    if x.shape[0] != w.shape[0]:
        raise ValueError("channel mismatch")
    return sum(corr2d(x[i], w[i]) for i in range(len(x))) + b
""",
    "cai": """
    if len(x) != len(w):
        raise ValueError(f"x has {len(x)} channels but w has {len(w)}")
    maps = [corr2d(xc, wc) for xc, wc in zip(x, w)]
    return np.sum(maps, axis=0) + b
""",
    "dee": """
    c_in, h, wid = x.shape
    if w.shape[0] != c_in:
        raise ValueError("the filter must be as deep as the image")
    k1, k2 = w.shape[1], w.shape[2]
    result = np.empty((h - k1 + 1, wid - k2 + 1))
    for i in range(result.shape[0]):
        for j in range(result.shape[1]):
            result[i, j] = np.sum(x[:, i:i + k1, j:j + k2] * w) + b
    return result
""",
    "eli": """
    def check_depth(a, f):
        if a.shape[0] != f.shape[0]:
            raise ValueError("depths differ")

    check_depth(x, w)
    total = None
    for channel, kernel in zip(x, w):
        m = corr2d(channel, kernel)
        total = m if total is None else total + m
    return total + b
""",
    "fay": """
    n = x.shape[0]
    if n != w.shape[0]:
        raise ValueError("w must have as many channels as x")
    acc = corr2d(x[0], w[0])
    c = 1
    while c < n:
        acc = acc + corr2d(x[c], w[c])
        c += 1
    return acc + b
""",
    "gus": """
    from functools import reduce
    import operator
    if w.shape[0] != x.shape[0]:
        raise ValueError("one filter channel per input channel, please")
    per_channel = map(corr2d, x, w)
    return reduce(operator.add, per_channel) + b
""",
    "hal": """
    if x.ndim != 3 or w.shape[0] != x.shape[0]:
        raise ValueError("bad shapes")
    stacked = np.stack([corr2d(x[k], w[k]) for k in range(x.shape[0])])
    return stacked.sum(axis=0) + b
""",
    "ivy": """
    C = x.shape[0]
    if w.shape[0] != C:
        raise ValueError("channels")
    kh, kw = w.shape[1:]
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    y = np.zeros((oh, ow))
    for c in range(C):
        for i in range(oh):
            for j in range(ow):
                for a in range(kh):
                    for d in range(kw):
                        y[i, j] += x[c, i + a, j + d] * w[c, a, d]
    return y + b
""",
    "jon": """
    channels = x.shape[0]
    if channels != w.shape[0]:
        raise ValueError(f"depth {w.shape[0]} != {channels}")
    feature_map = 0
    for index, plane in enumerate(x):
        feature_map = feature_map + corr2d(plane, w[index])
    return feature_map + float(b)
""",
}

#: ivy's answer, copied: every name changed, comments added, spacing and the error's words changed.
COPY_OF_IVY = """
    # number of input channels
    depth = x.shape[0]
    if w.shape[0] != depth:   raise ValueError("filter depth must match the image")


    kernel_h, kernel_w = w.shape[1:]
    out_h, out_w = (x.shape[1] - kernel_h + 1,
                    x.shape[2] - kernel_w + 1)   # valid correlation
    feature = np.zeros((out_h, out_w))
    for ch in range(depth):  # every channel adds its part
        for row in range(out_h):
            for col in range(out_w):
                for p in range(kernel_h):
                    for q in range(kernel_w):
                        feature[row, col] += x[ch, row + p, col + q] * w[ch, p, q]
    return feature + b  # add the bias once
"""


def stage(root, answers, assignment=ASSIGNMENT, grade_id="conv2d_multi_in"):
    """Write staging/<student>/<assignment>/<assignment>.ipynb for each {student: solution source}."""
    for student, source in answers.items():
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [
            nbformat.v4.new_markdown_cell("Write the channel-summing rule."),
            nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
                "solution": True, "grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3}}),
            nbformat.v4.new_code_cell("x = 1  # a learner's own cell, not graded"),
        ]
        folder = root / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, folder / f"{assignment}.ipynb")
    return root


def answers(**extra):
    return {**{student: HEADER + body for student, body in INDEPENDENT.items()}, **extra}


def listed_pairs(path, signal=similarity.CODE_SIGNAL):
    return {(line["student_a"], line["student_b"]) for line in results.read_table(path) if line["signal"] == signal}


def test_a_copy_with_other_names_comments_and_spacing_is_worth_a_look(tmp_path):
    staging = stage(tmp_path / "staging", answers(kim=HEADER + COPY_OF_IVY))
    path = similarity.write_similarity(staging, tmp_path)
    assert listed_pairs(path) == {("ivy", "kim")}
    line = results.read_table(path)[0]
    assert float(line["score"]) >= similarity.THRESHOLD
    assert line["threshold"] == f"{similarity.THRESHOLD:g}"
    assert "conv2d_multi_in" in line["worth_a_look_because"] and "tokens" in line["worth_a_look_because"]


def test_ten_correct_answers_written_independently_are_not_listed(tmp_path):
    staging = stage(tmp_path / "staging", answers())
    path = similarity.write_similarity(staging, tmp_path)
    assert results.read_table(path) == []
    assert path.read_text(encoding="utf-8").startswith(",".join(similarity.COLUMNS))


def test_a_short_function_everyone_writes_alike_is_not_listed(tmp_path):
    short = "def conv_output_size(n, k, padding=0, stride=1):\n    return (n + 2 * padding - k) // stride + 1\n"
    staging = stage(tmp_path / "staging", {f"s{i}": short for i in range(6)}, "01_single_channel", "conv_output_size")
    assert results.read_table(similarity.write_similarity(staging, tmp_path)) == []


def test_the_column_names_and_reasons_say_worth_a_look_never_a_verdict(tmp_path):
    staging = stage(tmp_path / "staging", answers(kim=HEADER + COPY_OF_IVY))
    text = similarity.write_similarity(staging, tmp_path).read_text(encoding="utf-8").lower()
    assert "worth_a_look" in text.splitlines()[0]
    for verdict in ("cheat", "plagiar", "guilty", "copied"):
        assert verdict not in text


def write_tests_csv(out, failures, passing):
    """OUT/tests.csv: {student: message} fail conv2d_multi_in_tests, the `passing` students pass it."""
    lines = [[student, ASSIGNMENT, "conv2d_multi_in_tests", 0.0, 5.0, message] for student, message in failures.items()]
    lines += [[student, ASSIGNMENT, "conv2d_multi_in_tests", 5.0, 5.0, ""] for student in passing]
    results.write_table(out / "tests.csv", results.TEST_COLUMNS, lines)


RARE = "[bias-per-channel] conv2d_multi_in adds the bias once per input channel on a hidden case"
COMMON = "[no-channel-sum] conv2d_multi_in returns one map per input channel on a hidden case"
STUB = "NotImplementedError"


def test_the_same_rare_wrong_answer_is_worth_a_look_as_a_weaker_signal(tmp_path):
    failures = {"ada": RARE, "ben": RARE, "cai": COMMON, "dee": COMMON, "eli": COMMON, "fay": STUB, "gus": STUB}
    write_tests_csv(tmp_path, failures, passing=[f"p{i}" for i in range(13)])
    path = similarity.write_similarity(stage(tmp_path / "staging", {}), tmp_path)
    assert listed_pairs(path, similarity.ANSWER_SIGNAL) == {("ada", "ben")}
    (line,) = results.read_table(path)
    assert "weaker" in line["signal"] and "weaker" in line["worth_a_look_because"]
    assert "[bias-per-channel]" in line["worth_a_look_because"]


def test_wrong_answers_are_not_compared_in_a_class_too_small_to_tell_rare_from_common(tmp_path):
    write_tests_csv(tmp_path, {"ada": RARE, "ben": RARE}, passing=["cai"])
    assert results.read_table(similarity.write_similarity(stage(tmp_path / "staging", {}), tmp_path)) == []


def test_a_cell_that_does_not_parse_is_read_as_tokens_and_stops_nothing(tmp_path):
    broken = HEADER + COPY_OF_IVY.replace("return", "return (((") + "\0 ]]] def"
    staging = stage(tmp_path / "staging", answers(kim=HEADER + COPY_OF_IVY, lea=broken, max=broken))
    (staging / "nia" / ASSIGNMENT).mkdir(parents=True)
    (staging / "nia" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_bytes(b"\0{not json")
    notes = []
    pairs = listed_pairs(similarity.write_similarity(staging, tmp_path, notes=notes))
    assert ("ivy", "kim") in pairs and ("lea", "max") in pairs
    assert any("nia" in note and "not JSON" in note for note in notes)


def test_a_huge_cell_is_skipped_with_a_note_and_a_long_one_is_cut(tmp_path):
    huge = HEADER + "    y = 1\n" * 200_000
    long = HEADER + "    y = [" + "1, " * 15_000 + "]\n"
    staging = stage(tmp_path / "staging", answers(kim=huge, lea=long))
    notes = []
    started = time.perf_counter()
    similarity.write_similarity(staging, tmp_path, notes=notes)
    assert time.perf_counter() - started < 5
    assert any("kim" in note and "not compared" in note for note in notes)
    cell = similarity.cell_tokens("conv2d_multi_in", long)
    assert len(cell.tokens) == similarity.MAX_TOKENS


@pytest.mark.parametrize("source", ["(" * 5000 + "1" + ")" * 5000, "x = " + "-" * 40_000 + "1",
                                    "x = 1" + " + 1" * 12_000, "def f(:\n\0\0\0"])
def test_deep_or_strange_code_gives_bounded_tokens_without_error(source):
    cell = similarity.cell_tokens("f", source)
    assert isinstance(cell, str) or len(cell.tokens) <= similarity.MAX_TOKENS


def test_names_comments_and_docstrings_leave_no_trace_in_the_tokens():
    one = similarity.cell_tokens("f", 'def f(a, b):\n    """Adds."""\n    total = a + b  # sum\n    return total\n')
    two = similarity.cell_tokens("f", "def g(p,q):\n\n    s=p+q\n    return s")
    assert one.tokens == two.tokens
    assert similarity.cell_tokens("f", "y = np.sum(x)").tokens != similarity.cell_tokens("f", "y = np.max(x)").tokens


def test_student_text_in_the_csv_cannot_start_a_formula(tmp_path):
    staging = stage(tmp_path / "staging", answers(**{"=cmd": HEADER + INDEPENDENT["ivy"],
                                                     "+sum": HEADER + COPY_OF_IVY}))
    message = "=HYPERLINK(\"http://x\")\r\n[bias-per-channel] adds the bias per channel"
    write_tests_csv(tmp_path, {"=cmd": message, "+sum": message}, passing=[f"p{i}" for i in range(20)])
    path = similarity.write_similarity(staging, tmp_path)
    with open(path, newline="", encoding="utf-8") as handle:
        cells = [cell for line in list(csv.reader(handle))[1:] for cell in line]
    assert cells and not any(cell.startswith(results.FORMULA_STARTS[:-1]) for cell in cells)
    assert not any("\r" in cell or "\n" in cell for cell in cells)


def test_forty_submissions_take_well_under_a_second_or_two(tmp_path):
    bodies = list(INDEPENDENT.values())
    class_ = {f"s{i:02d}": HEADER + bodies[i % 10].replace("out", f"out{i}").replace("acc", f"acc{i}")
              for i in range(40)}
    staging = stage(tmp_path / "staging", class_)
    started = time.perf_counter()
    similarity.write_similarity(staging, tmp_path)
    assert time.perf_counter() - started < 2.5


def test_a_notebook_of_strange_structure_is_passed_over(tmp_path):
    folder = tmp_path / "staging" / "zed" / ASSIGNMENT
    folder.mkdir(parents=True)
    strange = {"cells": [7, None, {"metadata": [], "source": 3},
                         {"cell_type": "code", "metadata": {"nbgrader": {"solution": True, "grade_id": ["x"]}}},
                         {"cell_type": "code", "source": [1, 2], "metadata": {"nbgrader": {"solution": True,
                                                                                          "grade_id": "g"}}}]}
    (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(strange))
    (tmp_path / "staging" / "deep" / ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "staging" / "deep" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text("[" * 100_000)
    notes = []
    similarity.write_similarity(tmp_path / "staging", tmp_path, notes=notes)
    assert any("deep" in note for note in notes)


def test_submissions_never_graded_do_not_make_a_wrong_answer_look_rare(tmp_path):
    absent = [f"p{i}" for i in range(20)]
    write_tests_csv(tmp_path, {"ada": RARE, "ben": RARE}, passing=["dee", "eli"] + absent)
    results.write_table(tmp_path / "grades.csv", results.GRADE_COLUMNS,
                        [[student, ASSIGNMENT, 0.0, 5.0, 0.0, 0.0, "missing"] for student in absent])
    assert results.read_table(similarity.write_similarity(stage(tmp_path / "staging", {}), tmp_path)) == []
