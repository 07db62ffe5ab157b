"""The independent check of the graded functions (autograder/integrity.py and
autograder/integrity_harness.py).

The harness runs here in a plain subprocess (the real grader runs it in a
sandbox), on notebooks made from the real solution notebooks: the solutions
pass, wrong or forged answers fail, and whatever the student's code leaves in
out/ never makes the judge crash or pass. Expected values are checked against
scipy and hand-computed numbers, not against the module itself.
"""

import json
import os
import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import correlate, correlate2d

from autograder import integrity, integrity_harness
from autograder.feedback import is_autograder_test_cell
from conv_lib import diagnose, models
from notebook_tools import SOLUTIONS

ASSIGNMENTS = ["01_single_channel", "02_multi_channel", "03_many_filters", "04_conv_pool_stack", "05_vgg16",
               "06_learning_filters"]
SEED = "student-42/01_single_channel"


def run(argv, cwd):
    subprocess.run(argv, cwd=cwd, timeout=60, check=True)


def solution(assignment):
    return nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4)


def graded_cells_only(notebook):
    """The notebook cut to its setup, answer and test cells: the same functions, quicker to run."""
    keep = {"setup"} | {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells
                        if cell.metadata.get("nbgrader", {}).get("solution")}
    notebook.cells = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") in keep
                      or is_autograder_test_cell(cell)]
    return notebook


def with_answer(notebook, grade_id, source):
    """The notebook with the answer cell `grade_id` replaced by `source`."""
    (cell,) = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    cell.source = source
    return notebook


def with_cell_before(notebook, grade_id, source):
    """The notebook with a new code cell inserted before the cell `grade_id`."""
    index = next(i for i, cell in enumerate(notebook.cells) if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    notebook.cells.insert(index, nbformat.v4.new_code_cell(source))
    return notebook


def single_channel(**answers):
    """Notebook 01, graded cells only, with some answers replaced (grade_id=source)."""
    notebook = graded_cells_only(solution("01_single_channel"))
    for grade_id, source in answers.items():
        with_answer(notebook, grade_id, source)
    return notebook


def check(notebook, workdir, assignment="01_single_channel", **options):
    return integrity.check(notebook, assignment, SEED, workdir, run, **options)


def messages(results):
    return [result.message for result in results.values() if not result.passed]


def assert_no_values(message):
    """A message names the function, the case and shapes only: no decimals, no array printout."""
    assert not re.search(r"\d\.\d|\[|SECRET", message), message


FLIPPED_CORR2D = '''
def corr2d(x, k, padding=0, stride=1):
    x = np.pad(x, padding)
    k = k[::-1, ::-1]                                   # true convolution: the kernel is flipped
    kH, kW = k.shape
    Ho, Wo = conv_output_size(x.shape[0], kH, 0, stride), conv_output_size(x.shape[1], kW, 0, stride)
    return np.array([[np.sum(x[i*stride:i*stride+kH, j*stride:j*stride+kW] * k) for j in range(Wo)] for i in range(Ho)])
'''

# --------------------------------------------------------------------------
# The solutions pass; wrong answers fail
# --------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_instructor_solution_passes_every_test_cell(assignment, tmp_path):
    notebook = solution(assignment)
    results = integrity.check(notebook, assignment, SEED, tmp_path, run)
    test_cells = {cell.metadata.nbgrader.grade_id for cell in notebook.cells if is_autograder_test_cell(cell)}
    assert set(results) == test_cells
    assert all(result == integrity.CheckResult(True, "") for result in results.values()), results


def test_a_flipped_kernel_fails_only_corr2d(tmp_path):
    results = check(single_channel(corr2d=FLIPPED_CORR2D), tmp_path)
    assert results["conv_output_size_tests"].passed
    assert not results["corr2d_tests"].passed
    assert results["corr2d_tests"].message.startswith("corr2d: case 9 returned wrong values (the shape (")
    assert_no_values(results["corr2d_tests"].message)


def test_a_forged_pass_does_not_fool_the_independent_check(tmp_path):
    """Errors swallowed by set_custom_exc and numpy.allclose always True fool nbgrader's
    test cells in the student's kernel, not the comparison in the grader's process."""
    forge = '''
import numpy
get_ipython().set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
numpy.allclose = lambda *args, **kwargs: True
numpy.array_equal = lambda *args, **kwargs: True
'''
    notebook = with_cell_before(single_channel(corr2d=FLIPPED_CORR2D), "corr2d_tests", forge)
    results = check(notebook, tmp_path)
    assert not results["corr2d_tests"].passed
    assert results["conv_output_size_tests"].passed


NOT_NUMBERS = """
answers = iter([[None, 'a'], ['a', 'b'], None, {'map': 1}, object()])

def corr2d(x, k, padding=0, stride=1):
    return next(answers)   # one kind of non-array per case
"""


def test_results_that_are_not_arrays_of_numbers_fail_without_a_crash(tmp_path):
    results = check(single_channel(corr2d=NOT_NUMBERS), tmp_path)
    assert results["conv_output_size_tests"].passed
    assert results["corr2d_tests"].message == (
        "corr2d: case 9 returned something that is not an array of numbers (and 4 more failing cases)"
    )
    out = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert out == sorted([f"{i}.npy" for i in range(9)] + ["9.json", "10.npy", "11.json", "12.json", "13.json"])


def test_a_renamed_function_fails_with_a_message_naming_it(tmp_path):
    renamed = solution("01_single_channel")
    answer = next(cell for cell in renamed.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == "corr2d")
    answer.source = answer.source.replace("def corr2d(", "def cross_correlate(")
    results = check(graded_cells_only(renamed), tmp_path)
    assert results["conv_output_size_tests"].passed
    assert "corr2d is not defined in the notebook" in results["corr2d_tests"].message


def test_each_function_is_called_where_its_test_cell_stands(tmp_path):
    """A later cell that rebinds the name (conv_lib's corr2d has no padding argument)
    does not change what nbgrader's test cell saw, so it changes nothing here either."""
    notebook = single_channel()
    notebook.cells.append(nbformat.v4.new_code_cell("from conv_lib import corr2d\nconv_output_size = None"))
    results = check(notebook, tmp_path)
    assert all(result.passed for result in results.values()), results
    cases = json.loads((tmp_path / "cases.json").read_text())
    cells = json.loads((tmp_path / "cells.json").read_text())
    (after,) = {case["after_cell"] for case in cases if case["function"] == "corr2d"}
    assert any(source.startswith("def corr2d(") for source in cells[:after])
    assert not any(source.startswith("from conv_lib import corr2d") for source in cells[:after])


def test_cells_after_the_last_test_cell_do_not_run(tmp_path):
    """They cannot change a result already written (notebook 05's last cells run all of VGG16)."""
    notebook = single_channel()
    notebook.cells.append(nbformat.v4.new_code_cell("open('ran.txt', 'w').close()\nwhile True:\n    pass\n"))
    results = check(notebook, tmp_path)
    assert all(result.passed for result in results.values()), results
    assert not (tmp_path / "ran.txt").exists()
    status = json.loads((tmp_path / "cell_status.json").read_text())
    assert len(status) == len(integrity.harness_cells(notebook)) - 1


def test_an_error_message_with_values_is_not_repeated(tmp_path):
    raises = "def corr2d(x, k, padding=0, stride=1):\n    raise RuntimeError(f'SECRET {x.tolist()}')\n"
    results = check(single_channel(corr2d=raises), tmp_path)
    assert results["corr2d_tests"].message == "corr2d: case 9 raised RuntimeError (and 4 more failing cases)"


def test_an_endless_cell_is_stopped_and_later_functions_are_still_checked(tmp_path):
    notebook = with_cell_before(single_channel(), "conv_output_size", "while True:\n    pass\n")
    results = check(notebook, tmp_path, cell_seconds=1.5)
    assert all(result.passed for result in results.values()), results
    status = (tmp_path / "cell_status.json").read_text()
    assert "stopped by the soft time limit" in status


def test_a_call_that_never_returns_is_stopped_and_the_next_case_runs(tmp_path):
    hangs_once = """
_solution, _calls = corr2d, []

def corr2d(*args, **kwargs):
    _calls.append(1)
    while len(_calls) == 1:
        pass
    return _solution(*args, **kwargs)
"""
    notebook = with_cell_before(single_channel(), "corr2d_tests", hangs_once)
    results = check(notebook, tmp_path, cell_seconds=1.5)
    assert results["corr2d_tests"].message == "corr2d: case 9 did not return within the time limit"


# --------------------------------------------------------------------------
# Whatever lands in out/, the judge neither crashes nor passes
# --------------------------------------------------------------------------

#: Writes every kind of garbage into an out/ folder. Run in the test process
#: (by judge tests) and, at exit, by a student cell (end to end).
GARBAGE = r'''
import json, os
import numpy

def forge(out):
    for name in os.listdir(out):
        os.remove(os.path.join(out, name))
    def path(name):
        return os.path.join(out, name)
    numpy.save(path("0.npy"), numpy.array([None, 1.5], dtype=object), allow_pickle=True)   # pickled objects
    with open(path("1.npy"), "wb") as file:
        file.write(b"\x93NUMPY garbage")                                                   # a broken header
    os.symlink("/dev/zero", path("2.npy"))                                                 # endless device
    os.mkfifo(path("3.npy"))                                                               # blocks a reader
    with open(path("4.npy"), "wb") as file:                                                # header claims 8 GB
        numpy.lib.format.write_array_header_1_0(file, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
        file.write(b"\0" * 8)
    with open(path("5.json"), "w") as file:                                                # a forged error
        json.dump({"error": "ValueError", "kinds": ["ValueError"], "message": "SECRET 1.5"}, file)
    with open(path("6.json"), "w") as file:                                                # nested too deep
        file.write("[" * 60000)
    numpy.save(path("7.npy"), numpy.int64(3))                                              # both a result
    with open(path("7.json"), "w") as file:                                                # and an error
        json.dump({"error": "ValueError"}, file)
    numpy.save(path("8.npy"), numpy.array(True))                                           # a bool is no number
    with open(path("9.npy"), "wb") as file:                                                # a zip, not an .npy
        numpy.savez(file, a=numpy.zeros(3))
    with open(path("10.npy"), "wb") as file:                                               # over 64 MB (sparse)
        file.truncate(65 * 2**20)
    numpy.save(path("11.npy"), numpy.zeros(2, dtype=[("SECRET 1.5", "<f8")]))               # structured dtype
    numpy.save(path("12.npy"), numpy.array(["1.5", "2.5"]))                                 # strings
    with open(path("13.json"), "w") as file:                                               # a name that is no name
        json.dump({"error": "SECRET [1.5, 2.5]", "kinds": [1, None], "message": 7}, file)
'''


def forge_in(out_dir):
    namespace = {}
    exec(GARBAGE, namespace)
    namespace["forge"](str(out_dir))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_garbage_in_out_never_crashes_or_passes_the_judge(assignment, tmp_path):
    cases = integrity.cases_for(assignment, SEED)
    (tmp_path / "out").mkdir()
    forge_in(tmp_path / "out")
    results = integrity.judge(tmp_path, cases)
    assert set(results) == {integrity.TEST_CELL[case.grade_id] for case in cases}
    assert not any(result.passed for result in results.values())
    for index in range(len(cases)):
        with integrity.open_out_dir(tmp_path) as out:
            message = integrity.judge_case(out, index, cases[index])
        # out/5.json is a forged ValueError record: where a case expects one (a depth mismatch)
        # it is indistinguishable from an honest raise, which the student's code could do anyway.
        assert message or (index == 5 and integrity.expects_error(cases[index])), index
        assert_no_values(message)


def test_a_student_cell_writing_garbage_at_exit_fails(tmp_path):
    at_exit = GARBAGE + "\nimport atexit\natexit.register(forge, 'out')\n"
    results = check(with_cell_before(single_channel(), "corr2d", at_exit), tmp_path)
    assert results.keys() == {"conv_output_size_tests", "corr2d_tests"}
    assert not any(result.passed for result in results.values()), results
    for message in messages(results):
        assert_no_values(message)


def test_an_out_folder_that_is_a_symlink_is_not_read(tmp_path):
    """Correct answers, but behind a symlinked out/: nothing is read through it."""
    cases = integrity.cases_for("03_many_filters", SEED)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for index, case in enumerate(cases):
        if isinstance(case.expected, str):
            (elsewhere / f"{index}.json").write_text('{"error": "ValueError"}')
        else:
            np.save(elsewhere / f"{index}.npy", np.asarray(case.expected))
    workdir = tmp_path / "work"
    workdir.mkdir()
    os.symlink(elsewhere, workdir / "out")
    results = integrity.judge(workdir, cases)
    assert not any(result.passed for result in results.values())
    os.remove(workdir / "out")
    os.rename(elsewhere, workdir / "out")
    assert all(result.passed for result in integrity.judge(workdir, cases).values())


def test_a_harness_stopped_by_the_sandbox_leaves_no_pass(tmp_path):
    def times_out(argv, cwd):
        raise subprocess.TimeoutExpired(argv, 1)

    results = integrity.check(solution("02_multi_channel"), "02_multi_channel", SEED, tmp_path, times_out)
    assert results["conv2d_multi_in_tests"] == integrity.CheckResult(
        False, "conv2d_multi_in: case 0 gave no result (the process stopped early) (and 5 more failing cases)"
    )


# --------------------------------------------------------------------------
# Judging rules
# --------------------------------------------------------------------------


def judge_one(tmp_path, case, write):
    """judge_case on a single case whose out/0 file `write(out_dir)` writes."""
    out = tmp_path / "out"
    out.mkdir(parents=True, exist_ok=True)
    write(out)
    with integrity.open_out_dir(tmp_path) as fd:
        return integrity.judge_case(fd, 0, case)


def test_numbers_compare_numerically_but_a_bool_is_no_number(tmp_path):
    case = integrity.Case("conv_output_size", "conv_output_size", (5, 3), {}, 3)
    for passing in (3, 3.0, np.int32(3), np.uint8(3)):
        assert judge_one(tmp_path, case, lambda out: np.save(out / "0.npy", np.asarray(passing))) == ""
    for failing, problem in [(True, "returned a bool"), (4, "returned a wrong number"), ([3], "returned an array of shape (1,)"),
                             (float("nan"), "returned a wrong number")]:
        assert problem in judge_one(tmp_path, case, lambda out: np.save(out / "0.npy", np.asarray(failing)))


def test_arrays_compare_by_shape_then_closeness(tmp_path):
    expected = np.arange(6.0).reshape(2, 3) * 1e3
    case = integrity.Case("corr2d", "corr2d", (), {}, expected)
    save = lambda value: lambda out: np.save(out / "0.npy", value)  # noqa: E731
    assert judge_one(tmp_path, case, save(expected * (1 + 1e-8))) == ""
    assert judge_one(tmp_path, case, save(expected.astype(np.float32))) == ""
    assert judge_one(tmp_path, case, save(expected.astype(int).tolist())) == ""
    assert judge_one(tmp_path, case, save(expected.T)) == "corr2d: case 0 returned shape (3, 2), expected (2, 3)"
    assert judge_one(tmp_path, case, save(expected + 0.01)) == "corr2d: case 0 returned wrong values (the shape (2, 3) is right)"


@pytest.mark.parametrize("kinds, passes", [
    (["ValueError", "Exception"], True),
    (["DepthError", "ValueError", "Exception"], True),     # a subclass of ValueError, as diagnose's isinstance accepts
    (["TypeError", "Exception"], False),
    (["NotAnArray"], False),
])
def test_an_expected_value_error_accepts_its_subclasses_only(kinds, passes, tmp_path):
    case = integrity.Case("conv2d_multi_in", "conv2d_multi_in", (), {}, "ValueError")
    record = {"error": kinds[0], "kinds": kinds, "message": ""}
    message = judge_one(tmp_path, case, lambda out: (out / "0.json").write_text(json.dumps(record)))
    assert (message == "") == passes, message


def test_a_result_where_a_value_error_is_expected_fails(tmp_path):
    case = integrity.Case("conv2d_multi_in", "conv2d_multi_in", (), {}, "ValueError")
    message = judge_one(tmp_path, case, lambda out: np.save(out / "0.npy", np.zeros((2, 2))))
    assert message.startswith("conv2d_multi_in: case 0 returned a result, expected ValueError")


# --------------------------------------------------------------------------
# The cases: deterministic, and right by independent numbers
# --------------------------------------------------------------------------


def plain(value):
    """A case's argument or expected value as nested lists and numbers (arrays listed)."""
    if isinstance(value, (tuple, list)):
        return [plain(item) for item in value]
    return np.asarray(value).tolist() if isinstance(value, (np.ndarray, np.generic)) else value


def arrays_in(value):
    """Every array inside a (possibly nested) case argument."""
    if isinstance(value, (tuple, list)):
        return [array for item in value for array in arrays_in(item)]
    return [value] if isinstance(value, np.ndarray) else []


def test_cases_are_the_same_for_the_same_seed_text_and_differ_for_another():
    def fingerprint(cases):
        return [(c.function, plain(c.args), plain(c.kwargs), plain(c.expected), c.result) for c in cases]

    for assignment in ASSIGNMENTS:
        first, again = integrity.cases_for(assignment, "alice"), integrity.cases_for(assignment, "alice")
        assert fingerprint(first) == fingerprint(again)
        assert fingerprint(first) != fingerprint(integrity.cases_for(assignment, "bob"))
    assert integrity.cases_for("demo", "alice") == []


def test_output_sizes_and_parameter_counts_match_hand_counts():
    for case in integrity.cases_for("01_single_channel", SEED):
        if case.function == "conv_output_size":
            (n, k), padding, stride = case.args, case.kwargs["padding"], case.kwargs["stride"]
            assert case.expected == len(range(0, n + 2 * padding - k + 1, stride))  # window positions, counted
    sizes = {(c.args, c.kwargs["stride"]): c.expected for c in integrity.cases_for("01_single_channel", SEED)
             if c.function == "conv_output_size"}
    assert sizes[(224, 3), 1] == 224 and sizes[(227, 11), 4] == 55
    counts = {c.args: c.expected for c in integrity.cases_for("03_many_filters", SEED) if c.function == "conv_layer_params"}
    assert counts[3, 64, 3] == 1_792 and counts[64, 128, 3] == 73_856 and counts[512, 512, 3] == 2_359_808
    assert counts[64, 32, 1] == 2_080


def test_convolution_answers_match_scipy():
    corr2d_cases = integrity.cases_for("01_single_channel", SEED)[9:]
    assert [case.function for case in corr2d_cases] == ["corr2d"] * 5
    assert any(case.args[0].shape[0] != case.args[0].shape[1] for case in corr2d_cases)
    assert any(case.args[1].shape[0] != case.args[1].shape[1] for case in corr2d_cases)
    for case in corr2d_cases:
        (x, k), padding, stride = case.args, case.kwargs["padding"], case.kwargs["stride"]
        np.testing.assert_allclose(case.expected, correlate2d(np.pad(x, padding), k, mode="valid")[::stride, ::stride])
    for case in integrity.cases_for("02_multi_channel", SEED):
        x, w, b = (*case.args, 0.0)[:3]
        if isinstance(case.expected, str):
            assert x.shape[0] != w.shape[0]
            continue
        np.testing.assert_allclose(case.expected, sum(correlate2d(x[c], w[c], mode="valid") for c in range(len(x))) + b)
    for case in integrity.cases_for("03_many_filters", SEED):
        if case.function != "conv2d_multi_out":
            continue
        x, w, b = case.args
        if isinstance(case.expected, str):
            assert x.shape[0] != w.shape[1]
            continue
        by_scipy = [sum(correlate2d(x[c], w[f, c], mode="valid") for c in range(len(x))) + b[f] for f in range(len(w))]
        np.testing.assert_allclose(case.expected, by_scipy)


def test_the_arrays_stay_small():
    for assignment in ASSIGNMENTS:
        for case in integrity.cases_for(assignment, SEED):
            assert all(array.size <= 3 * 12 * 12 for array in arrays_in(case.args))


# --------------------------------------------------------------------------
# Preparing the work folder
# --------------------------------------------------------------------------


def test_harness_cells_leave_out_the_test_cells_only():
    notebook = solution("01_single_channel")
    cells = integrity.harness_cells(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(cells) == len(code) - 2
    assert not any("diagnose.check_" in source for source in cells)
    assert any(source.startswith("def corr2d(") for source in cells)


def test_prepare_writes_what_the_harness_reads_and_an_argv_relative_to_the_workdir(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "0.npy").write_bytes(b"stale")
    cases = integrity.cases_for("02_multi_channel", SEED)
    argv = integrity.prepare(tmp_path, solution("02_multi_channel"), cases, cell_seconds=7)
    assert argv == [sys.executable, "integrity_harness.py", ".", "7"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.json", "cells.json", "inputs.npz", "integrity_harness.py", "out"]
    assert list((tmp_path / "out").iterdir()) == []
    harness = (tmp_path / "integrity_harness.py").read_text()
    assert "import autograder" not in harness and "from autograder" not in harness


# --- the quick pass -------------------------------------------------------------------


def test_the_quick_pass_skips_unchanged_teaching_cells_and_pictures(tmp_path):
    """With the source notebook as reference, a teaching cell left as the course
    wrote it does not run, and drawing modules are stand-ins: a solved notebook
    passes without either."""
    reference = solution("02_multi_channel")
    notebook = solution("02_multi_channel")
    skipped = [source for source in integrity.harness_cells(notebook, reference) if source == ""]
    assert len(skipped) == len(integrity.teaching_cells(reference))
    results = check(notebook, tmp_path, "02_multi_channel", reference=reference)
    assert all(result.passed for result in results.values())
    argv = integrity.prepare(tmp_path / "again", notebook, integrity.cases_for("02_multi_channel", SEED),
                             reference=reference)
    assert argv[-1] == "quick"


def test_a_function_that_needs_a_teaching_cell_passes_through_the_full_pass(tmp_path):
    """The quick pass leaves out teaching cells; a function that needs one (here a
    global the course's cell defines) fails there, and the full pass, which
    runs every cell, decides: it passes. An honest notebook is never called tampered."""
    reference = graded_cells_only(solution("02_multi_channel"))
    teaching = nbformat.v4.new_code_cell("CHANNEL_AXIS = 0  # a teaching cell of the course")
    teaching.id = "teaching-cell"
    index = next(i for i, cell in enumerate(reference.cells)
                 if cell.metadata.get("nbgrader", {}).get("grade_id") == "conv2d_multi_in")
    reference.cells.insert(index, teaching)
    notebook = nbformat.from_dict(json.loads(nbformat.writes(reference)))
    with_answer(notebook, "conv2d_multi_in", '''def conv2d_multi_in(x, w, b=0.0):
    if w.shape[CHANNEL_AXIS] != x.shape[CHANNEL_AXIS]:
        raise ValueError("each filter must have one channel per input channel")
    return sum(corr2d(x[c], w[c]) for c in range(x.shape[CHANNEL_AXIS])) + b
''')
    assert "" in integrity.harness_cells(notebook, reference)  # the teaching cell is left out at first
    results = check(notebook, tmp_path, "02_multi_channel", reference=reference)
    assert results["conv2d_multi_in_tests"].passed


# ==========================================================================
# 04_conv_pool_stack and 05_vgg16: layers, stacks, VGG16's table and block
# ==========================================================================

#: A second solution of each function, written here independently of the
#: notebooks' and of conv_lib's: the cases must not depend on one way of writing it.
OTHER_SOLUTIONS = {
    "04_conv_pool_stack": {
        "conv2d": '''
def conv2d(x, w, b, stride=1, padding=0):
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"the filters have {w.shape[1]} channels, the input {x.shape[1]}")
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    C_out, _, kH, kW = w.shape
    Ho, Wo = (x.shape[2] - kH) // stride + 1, (x.shape[3] - kW) // stride + 1
    out = np.zeros((x.shape[0], C_out, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, :, i * stride:i * stride + kH, j * stride:j * stride + kW]      # (N, C_in, kH, kW)
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out
''',
        "max_pool2d": '''
def max_pool2d(x, size=2, stride=2):
    Ho, Wo = (x.shape[2] - size) // stride + 1, (x.shape[3] - size) // stride + 1
    out = np.zeros((*x.shape[:2], Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size].max(axis=(2, 3))
    return out
''',
        "stack_shapes": '''
def stack_shapes(input_shape, layers):
    C, H, W = input_shape
    shapes = []
    for layer in layers:
        if layer[0] == "conv":
            _, C, k, stride, padding = layer
            H, W = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
        elif layer[0] == "pool":
            _, size, stride = layer
            H, W = (H - size) // stride + 1, (W - size) // stride + 1
        shapes.append((C, H, W))
    return shapes
''',
        "receptive_field": '''
def receptive_field(layers):
    r, j = 1, 1
    for layer in layers:
        if layer[0] in ("conv", "pool"):
            k, stride = (layer[2], layer[3]) if layer[0] == "conv" else (layer[1], layer[2])
            r, j = r + (k - 1) * j, j * stride
    return r
''',
    },
    "05_vgg16": {
        "vgg16_table": '''
def vgg16_table(input_shape=(3, 224, 224)):
    C, H, W = input_shape
    rows, block, index = [], 1, 0
    for entry in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if entry == "M":
            H, W = H // 2, W // 2
            rows.append({"name": f"pool{block}", "output_shape": (C, H, W), "params": 0, "macs": 0})
            block, index = block + 1, 0
            continue
        index += 1
        rows.append({"name": f"conv{block}_{index}", "output_shape": (entry, H, W),
                     "params": entry * (C * 9 + 1), "macs": entry * H * W * C * 9})
        rows.append({"name": f"relu{block}_{index}", "output_shape": (entry, H, W), "params": 0, "macs": 0})
        C = entry
    n = C * H * W
    rows.append({"name": "flatten", "output_shape": (n,), "params": 0, "macs": 0})
    for number, n_out in zip((6, 7, 8), (4096, 4096, 1000)):
        rows.append({"name": f"fc{number}", "output_shape": (n_out,), "params": n_out * (n + 1), "macs": n_out * n})
        n = n_out
    return rows
''',
        "vgg_block": '''
def vgg_block(x, weights, biases):
    for w, b in zip(weights, biases):
        x = np.maximum(conv_lib.conv2d(x, w, b, padding=1), 0)
    return conv_lib.max_pool2d(x, 2, 2)
''',
    },
}


def graded_cells_with(assignment, **answers):
    """The assignment's solution, graded cells only, with some answers replaced (grade_id=source)."""
    notebook = graded_cells_only(solution(assignment))
    for grade_id, source in answers.items():
        with_answer(notebook, grade_id, source)
    return notebook


@pytest.mark.parametrize("assignment", OTHER_SOLUTIONS)
def test_other_correct_solutions_pass_every_test_cell(assignment, tmp_path):
    results = check(graded_cells_with(assignment, **OTHER_SOLUTIONS[assignment]), tmp_path, assignment)
    assert set(results) == {f"{name}_tests" for name in OTHER_SOLUTIONS[assignment]}
    assert all(result == integrity.CheckResult(True, "") for result in results.values()), results


WRONG_ANSWERS = {
    "conv_keeps_channels": ("04_conv_pool_stack", "stack_shapes", '''
def stack_shapes(input_shape, layers):
    C, H, W = input_shape            # the channel count never changes: wrong for a conv
    shapes = []
    for layer in layers:
        if layer[0] == "conv":
            _, _, k, stride, padding = layer
            H, W = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
        elif layer[0] == "pool":
            _, size, stride = layer
            H, W = (H - size) // stride + 1, (W - size) // stride + 1
        shapes.append((C, H, W))
    return shapes
''', "stack_shapes: case 12 returned a wrong shape for the layer at index 0 (its C is wrong; one shape per layer, as "
        "expected) (and 4 more failing cases)"),
    "stride_ignored": ("04_conv_pool_stack", "receptive_field", '''
def receptive_field(layers):
    r = 1
    for layer in layers:
        if layer[0] in ("conv", "pool"):
            r += (layer[2] if layer[0] == "conv" else layer[1]) - 1     # as if every stride were 1
    return r
''', "receptive_field: case 21 returned a wrong number (and 1 more failing case)"),
    "missing_bias": ("05_vgg16", "vgg16_table", OTHER_SOLUTIONS["05_vgg16"]["vgg16_table"]
                     .replace("entry * (C * 9 + 1)", "entry * C * 9").replace("n_out * (n + 1)", "n_out * n"),
                     "vgg16_table: case 0 returned wrong params in the row for conv1_1 (the rows are as many as "
                     "expected) (and 1 more failing case)"),
    "no_relu": ("05_vgg16", "vgg_block", '''
def vgg_block(x, weights, biases):
    for w, b in zip(weights, biases):
        x = conv_lib.conv2d(x, w, b, padding=1)                       # no ReLU
    return conv_lib.max_pool2d(x, 2, 2)
''', "vgg_block: case 3 returned wrong values (the shape (2, 3, 3, 2) is right) (and 2 more failing cases)"),
}


@pytest.mark.parametrize("wrong", WRONG_ANSWERS)
def test_a_wrong_answer_fails_exactly_its_own_function(wrong, tmp_path):
    assignment, function, source, message = WRONG_ANSWERS[wrong]
    results = check(graded_cells_with(assignment, **{function: source}), tmp_path, assignment)
    failed = {cell for cell, result in results.items() if not result.passed}
    assert failed == {f"{function}_tests"}, results
    assert results[f"{function}_tests"].message == message
    assert_no_values(results[f"{function}_tests"].message)


def test_a_conv2d_without_the_depth_check_fails_only_its_depth_case(tmp_path):
    source = OTHER_SOLUTIONS["04_conv_pool_stack"]["conv2d"].replace("raise ValueError", "print")
    source = source.replace("np.tensordot(window, w,", "np.tensordot(window[:, :w.shape[1]], w,")
    results = check(graded_cells_with("04_conv_pool_stack", conv2d=source), tmp_path, "04_conv_pool_stack")
    assert results["conv2d_tests"].message == (
        "conv2d: case 6 returned a result, expected ValueError (the filters' depth differs from the input's channels)")
    assert sum(not result.passed for result in results.values()) == 1


LENIENT_TABLES = {
    "objects": '''
from conv_lib import models

def vgg16_table(input_shape=(3, 224, 224)):
    return models.summary(models.vgg16(), input_shape)      # LayerRow objects, with ReLU and flatten rows
''',
    "extra_rows_and_capitals": OTHER_SOLUTIONS["05_vgg16"]["vgg16_table"] + '''
_vgg16_table = vgg16_table

def vgg16_table(input_shape=(3, 224, 224)):
    rows = [dict(row, name=row["name"].upper()) for row in _vgg16_table(input_shape)]
    zero = {"output_shape": (1,), "params": 0, "macs": 0}
    return [{"name": "input", **zero}] + rows[:-1] + [{"name": "dropout7", **zero}, rows[-1], {"name": "softmax", **zero}]
''',
}


@pytest.mark.parametrize("table", LENIENT_TABLES)
def test_a_table_that_nbgraders_check_accepts_passes_here_too(table, tmp_path):
    """Never stricter than the notebook's check: it takes objects as rows, names in any
    case, and ignores any extra row that counts nothing."""
    namespace = {}
    exec(LENIENT_TABLES[table], namespace)
    diagnose.check_vgg16_table(namespace["vgg16_table"])
    if table != "objects":  # the hidden check refuses a call of conv_lib.models.summary
        diagnose.check_vgg16_table(namespace["vgg16_table"], hidden=True)
    results = check(graded_cells_with("05_vgg16", vgg16_table=LENIENT_TABLES[table]), tmp_path, "05_vgg16")
    assert all(result.passed for result in results.values()), results


def defined(source, name):
    """The function `name` that a notebook answer's source defines (numpy and conv_lib at hand, as in the notebooks)."""
    import conv_lib
    namespace = {"np": np, "conv_lib": conv_lib}
    exec(source, namespace)
    return namespace[name]


@pytest.mark.parametrize("function", [name for answers in OTHER_SOLUTIONS.values() for name in answers])
def test_the_notebooks_checks_pass_the_other_solutions_too(function):
    """The other solutions pass here (test_other_correct_solutions_pass_every_test_cell) and in nbgrader."""
    source = next(answers[function] for answers in OTHER_SOLUTIONS.values() if function in answers)
    check_function = getattr(diagnose, f"check_{function}")
    check_function(defined(source, function))
    check_function(defined(source, function), hidden=True)


@pytest.mark.parametrize("wrong", WRONG_ANSWERS)
def test_the_notebooks_checks_fail_the_wrong_answers_too(wrong):
    """What fails here fails nbgrader's visible check too: an honest wrong answer is never called tampered."""
    _, function, source, _ = WRONG_ANSWERS[wrong]
    with pytest.raises(diagnose.Misconception):
        getattr(diagnose, f"check_{function}")(defined(source, function))


# --- a table that is no table ----------------------------------------------------------

TABLE_GARBAGE = '''
class Hangs:
    name, output_shape, macs = "conv1_1", (64, 224, 224), 0
    @property
    def params(self):
        while True:
            pass

def _row(**change):
    return {"name": "conv1_1", "output_shape": (64, 224, 224), "params": 1792, "macs": 86704128} | change

def _endless():
    while True:
        yield _row()

_answers = iter([
    "conv1_1 (64, 224, 224) 1792",                         # a string
    None,
    {"conv1_1": _row()},                                   # a dict of dicts
    [_row()] * 10**6,                                      # a huge list
    _endless(),                                            # an endless iterator
    [_row(output_shape="big")],
    [_row(output_shape=(64, 224))],                        # neither (C, H, W) nor (n,)
    [_row(params=2**70)],                                  # beyond int64
    [_row(params=1792.5)],
    [_row(params=True)],
    [_row(params="1792")],
    [{"name": "conv1_1", "params": 1792, "macs": 86704128}],  # no output_shape
    [object()],
    [Hangs()],
])

def vgg16_table(input_shape=(3, 224, 224)):
    return next(_answers)
'''


def test_a_vgg16_table_of_garbage_fails_every_case_without_crashing_the_judge(tmp_path):
    default_case = integrity.cases_for("05_vgg16", SEED)[0]
    count = 14  # the answers in TABLE_GARBAGE, one per call
    cases = [default_case] * count
    notebook = graded_cells_with("05_vgg16", vgg16_table=TABLE_GARBAGE)
    run(integrity.prepare(tmp_path, notebook, cases, cell_seconds=1.5), tmp_path)
    with integrity.open_out_dir(tmp_path) as out:
        messages = [integrity.judge_case(out, index, case) for index, case in enumerate(cases)]
    assert messages == [f"vgg16_table: case {index} {integrity.RESULT_KINDS['table']}" for index in range(count)]


# --- the harness turns shapes and tables into whole-number arrays ---------------------------


def test_shape_lists_become_whole_number_arrays():
    shapes = [(1, 2, 3), [np.int64(4), 5.0, np.float32(6)], np.array([7, 8, 9]), (np.uint8(1), 2, 3)]
    array = integrity_harness.shape_rows(shapes)
    assert array.dtype == np.int64 and array.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 2, 3]]
    assert integrity_harness.shape_rows(np.arange(6).reshape(2, 3)).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert integrity_harness.shape_rows([]).shape == (0, 3)


@pytest.mark.parametrize("garbage", [
    "(3, 32, 32)", None, 7, {"conv": (8, 32, 32)}, {(8, 32, 32)}, [(8, 32)], [(8, 32, 32, 1)], [(True, 32, 32)],
    [(8.5, 32, 32)], [(float("nan"), 32, 32)], [(2**70, 32, 32)], [("8", 32, 32)], [None], [[1, 2, 3]] * 1001,
    [(8, 32, 32)] * 10**6, [(8, (32,), 32)],
], ids=repr)
def test_anything_else_is_no_list_of_shapes(garbage):
    with pytest.raises(TypeError):
        integrity_harness.shape_rows(garbage)


def test_tables_become_whole_number_arrays_of_their_named_and_counting_rows():
    rows = [
        {"name": "input", "output_shape": None, "params": 0, "macs": 0},            # counts nothing: left out
        {"name": " Conv1_1", "output_shape": (64, 32, 32), "params": 1792, "macs": np.int64(1769472)},
        {"name": "relu1_1", "output_shape": (64, 32, 32), "params": 0, "macs": 0},
        models.LayerRow("pool1", "pool", [64, 16, 16], 0, 0.0),                      # named: kept
        {"name": "flatten", "output_shape": (16384,), "params": 0, "macs": 0},
        {"name": "fc6", "output_shape": np.array([4096]), "params": 4096 * 16385, "macs": 4096 * 16384},
        {"name": "dropout6", "output_shape": (4096,), "params": 0, "macs": 0},
        {"name": "relu6", "output_shape": (4096,), "params": 5, "macs": 0},          # counts something: kept
    ]
    table = integrity_harness.table_rows(rows, {"conv1_1", "pool1", "fc6"})
    assert table.dtype == np.int64
    assert table.tolist() == [[1792, 1769472, 64, 32, 32], [0, 0, 64, 16, 16], [4096 * 16385, 4096 * 16384, 4096, 1, 1],
                              [5, 0, 4096, 1, 1]]
    assert integrity_harness.table_rows([], {"conv1_1"}).shape == (0, 5)


@pytest.mark.parametrize("garbage", [
    "conv1_1", None, {"conv1_1": {"output_shape": (64, 224, 224), "params": 1792, "macs": 0}}, [None], ["conv1_1"],
    [{"name": "conv1_1", "output_shape": (64, 224, 224), "params": 1792}],
    [{"name": "conv1_1", "output_shape": "(64, 224, 224)", "params": 1792, "macs": 0}],
    [{"name": "conv1_1", "output_shape": 4096, "params": 1792, "macs": 0}],
    [{"name": "conv1_1", "output_shape": (64, 224), "params": 1792, "macs": 0}],
    [{"name": "conv1_1", "output_shape": (64, 224, 224), "params": 2**64, "macs": 0}],
    [{"name": "conv1_1", "output_shape": (64, 224, 224), "params": [1792], "macs": 0}],
    [{"name": "relu1_1", "output_shape": (64, 224, 224), "params": None, "macs": 0}],
    [{"name": "fc6", "output_shape": (4096,), "params": 1, "macs": 1}] * 1001,
], ids=lambda value: repr(value)[:60])
def test_anything_else_is_no_table(garbage):
    with pytest.raises((TypeError, KeyError, AttributeError)):
        integrity_harness.table_rows(garbage, {"conv1_1", "relu1_1", "fc6"})


def test_both_sides_know_the_same_kinds_of_result():
    assert set(integrity.RESULT_KINDS) == set(integrity_harness.RESULT_KINDS)


def test_the_harness_refuses_a_result_kind_it_does_not_know(tmp_path):
    (tmp_path / "cells.json").write_text("[]")
    (tmp_path / "cases.json").write_text(json.dumps([{"index": 0, "function": "f", "args": [], "kwargs": {},
                                                      "result": "pickle"}]))
    np.savez(tmp_path / "inputs.npz")
    with pytest.raises(ValueError, match="unknown kinds"):
        integrity_harness.read_inputs(tmp_path)


# --- arguments: nested specs and lists of arrays ------------------------------------------


def test_nested_arguments_round_trip_through_json_and_the_harness():
    weights = [np.arange(18.0).reshape(2, 1, 3, 3), np.ones((3, 2, 3, 3))]
    layers = [("conv", 8, 3, 1, 1), ("relu",), ("pool", 2, 2)]
    case = integrity.Case("vgg_block", "vgg_block", ((3, 32, 32), layers, weights, [np.zeros(2), None, "x", 1.5, True]),
                          {"biases": [np.zeros(2), np.ones(3)], "shape": (1, (2, [3]))}, 0)
    (encoded,), arrays = integrity.encode_cases([case], {})
    encoded = json.loads(json.dumps(encoded, allow_nan=False))       # plain JSON only
    inputs = {name: np.load(_npy_bytes(array)) for name, array in arrays.items()}
    args = [integrity_harness.argument(spec, inputs) for spec in encoded["args"]]
    kwargs = {key: integrity_harness.argument(spec, inputs) for key, spec in encoded["kwargs"].items()}
    assert args[0] == (3, 32, 32) and args[1] == layers and type(args[1]) is list and type(args[1][0]) is tuple
    assert type(args[2]) is list and all(np.array_equal(a, b) for a, b in zip(args[2], weights))
    assert args[3][1:] == [None, "x", 1.5, True]
    assert kwargs["shape"] == (1, (2, [3])) and np.array_equal(kwargs["biases"][1], np.ones(3))
    again = integrity_harness.argument(encoded["args"][2], inputs)
    again[0][0, 0, 0, 0] = 99.0                                      # every call gets fresh copies
    assert integrity_harness.argument(encoded["args"][2], inputs)[0][0, 0, 0, 0] == 0.0


def _npy_bytes(array):
    import io
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("argument", [{"a": 1}, object(), {1, 2}, b"bytes", [("conv", {"k": 3})]], ids=repr)
def test_only_plain_data_is_encoded(argument):
    with pytest.raises(TypeError, match="a case argument must be"):
        integrity.encode_argument(argument, {})


# --- judging whole-number arrays ------------------------------------------------------------


def test_a_table_is_compared_exactly_and_a_message_names_the_row_and_column(tmp_path):
    case = integrity.cases_for("05_vgg16", SEED)[0]
    expected = case.expected
    save = lambda value: lambda out: np.save(out / "0.npy", value)  # noqa: E731
    assert judge_one(tmp_path, case, save(expected)) == ""
    assert judge_one(tmp_path, case, save(expected.astype(np.uint64))) == ""
    off_by_one = expected.copy()
    off_by_one[1, 1] += 1                                                     # conv1_2's 1,849,688,064 macs, + 1
    assert judge_one(tmp_path, case, save(off_by_one)) == (
        "vgg16_table: case 0 returned wrong macs in the row for conv1_2 (the rows are as many as expected)")
    assert judge_one(tmp_path, case, save(expected[:-1])) == (
        "vgg16_table: case 0 returned 20 rows named after a layer or counting params or macs (ReLU and flatten "
        "rows left out), expected 21")
    assert judge_one(tmp_path, case, save(expected.astype(np.float64))) == (
        f"vgg16_table: case 0 {integrity.RESULT_KINDS['table']}")                # the harness sends int64 only
    wrapped = expected.astype(np.uint64)
    wrapped[0, 0] = 2**64 - 1
    assert "returned something that is not" in judge_one(tmp_path, case, save(wrapped))
    assert judge_one(tmp_path, case, save(expected.T)) == "vgg16_table: case 0 returned shape (5, 21), expected (21, 5)"


def test_a_shape_list_names_the_first_wrong_layer(tmp_path):
    case = integrity.Case("stack_shapes", "stack_shapes", (), {}, np.array([[8, 32, 32], [8, 16, 16]]), result="shapes")
    save = lambda value: lambda out: np.save(out / "0.npy", np.array(value, dtype=np.int64))  # noqa: E731
    assert judge_one(tmp_path, case, save([[8, 32, 32], [8, 16, 16]])) == ""
    assert judge_one(tmp_path, case, save([[8, 32, 32], [8, 16, 15]])) == (
        "stack_shapes: case 0 returned a wrong shape for the layer at index 1 (its W is wrong; "
        "one shape per layer, as expected)")
    assert judge_one(tmp_path, case, save([[8, 32, 32]])) == (
        "stack_shapes: case 0 returned 1 shapes (one per layer), expected 2")
    record = {"error": "NotAnArray", "kinds": ["NotAnArray"], "message": "SECRET"}
    assert judge_one(tmp_path / "error", case, lambda out: (out / "0.json").write_text(json.dumps(record))) == (
        f"stack_shapes: case 0 {integrity.RESULT_KINDS['shapes']}")


# --- the new cases: right by hand-counted numbers and scipy ---------------------------------


def cases_of(assignment, function):
    return [case for case in integrity.cases_for(assignment, SEED) if case.function == function]


def test_receptive_fields_match_hand_counts():
    conv3, pool2 = ("conv", 8, 3, 1, 1), ("pool", 2, 2)
    assert integrity.receptive_field([conv3]) == 3
    assert integrity.receptive_field([conv3, ("relu",), conv3]) == 5
    assert integrity.receptive_field([conv3, conv3, conv3]) == 7
    assert integrity.receptive_field([conv3, conv3, pool2]) == 6          # 1 + 2 + 2, then + 1 * 1 (jump 1)
    assert integrity.receptive_field([pool2, conv3]) == 6                 # 1 + 1, then + 2 * 2 (jump 2)
    assert integrity.receptive_field([("conv", 96, 11, 4, 0), ("pool", 3, 2)]) == 19   # 1 + 10, + 2 * 4
    assert integrity.receptive_field([]) == 1
    assert integrity.receptive_field(integrity.vgg16_convolutional_part()) == 212
    expected = [case.expected for case in cases_of("04_conv_pool_stack", "receptive_field")]
    assert expected[:6] == [3, 5, 7, 6, 67, 212]


def test_stack_shapes_match_hand_counts():
    cases = cases_of("04_conv_pool_stack", "stack_shapes")
    assert all(case.expected.dtype == np.int64 and case.result == "shapes" for case in cases)
    alexnet = next(case for case in cases if case.args[0] == (3, 227, 227))
    assert alexnet.expected.tolist() == [[96, 55, 55], [96, 55, 55], [96, 27, 27], [256, 27, 27], [256, 27, 27],
                                         [256, 13, 13]]
    odd = next(case for case in cases if case.args[0] == (2, 15, 9))
    c_out = odd.args[1][1][1]
    assert odd.expected.tolist() == [[2, 7, 4], [c_out, 5, 2], [c_out, 4, 1]]   # floors: 15 -> 7, 9 -> 4; 5 - 2 + 1 = 4
    unpadded = next(case for case in cases if case.args[0] == (1, 28, 20))
    assert unpadded.expected[-2:, 1:].tolist() == [[6, 4], [2, 1]]   # (12 + 2 - 3) // 2 + 1 = 6; (6 - 3) // 2 + 1 = 2
    for case in cases:                                               # every layer of every stack is counted
        assert len(case.expected) == len(case.args[1])


def test_vgg16_tables_match_hand_counts():
    default, other = cases_of("05_vgg16", "vgg16_table")
    assert default.args == () and default.result == "table" and default.expected.dtype == np.int64
    table = default.expected
    assert table.shape == (21, 5)                                     # 13 conv, 5 pool, 3 fully connected
    assert table[0].tolist() == [1_792, 86_704_128, 64, 224, 224]     # 64 * (3*3*3 + 1); 224*224*64 * 27
    assert table[5].tolist() == [0, 0, 128, 56, 56]                   # pool2 (after conv1_1, conv1_2, pool1, conv2_*)
    assert table[-3].tolist() == [102_764_544, 102_760_448, 4096, 1, 1]   # fc6: 4096 * (512*7*7 + 1)
    assert table[:, 0].sum() == 138_357_544
    assert table[:, 1].sum() == 15_470_264_320 > 2**31
    (shape,) = other.args
    assert shape[0] == 3 and shape[1] == shape[2] < 224
    assert other.expected[17].tolist() == [0, 0, 512, shape[1] // 32, shape[1] // 32]   # pool5: five halvings
    assert other.expected[-3, 0] == 4096 * (512 * (shape[1] // 32) ** 2 + 1)


def scipy_conv2d(x, w, b, padding=0, stride=1):
    """(N, C_out, Ho, Wo) by scipy: each filter's 3-D correlation over all channels ("valid"), then the stride."""
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.array([[correlate(image, w[f], mode="valid")[0, ::stride, ::stride] + b[f] for f in range(len(w))]
                     for image in padded])


def numpy_max_pool(x, size, stride):
    """(N, C, Ho, Wo): the maximum of each size x size window, by numpy's sliding windows."""
    return sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride].max(axis=(4, 5))


def test_conv2d_and_max_pool2d_answers_match_scipy_and_numpy():
    conv = cases_of("04_conv_pool_stack", "conv2d")
    assert {case.args[0].shape[0] for case in conv[:-1]} == {1, 2, 3}
    assert {case.kwargs["stride"] for case in conv[:-1]} == {1, 2, 3}
    assert {case.kwargs["padding"] for case in conv[:-1]} == {0, 1, 2}
    for case in conv[:-1]:
        padding, stride = case.kwargs["padding"], case.kwargs["stride"]
        np.testing.assert_allclose(case.expected, scipy_conv2d(*case.args, padding, stride))
    x, w, _ = conv[-1].args
    assert conv[-1].expected == "ValueError" and x.shape[1] > w.shape[1]
    pool = cases_of("04_conv_pool_stack", "max_pool2d")
    assert pool[0].kwargs == {} and any((case.args[0] < 0).all() for case in pool)
    for case in pool:
        size, stride = case.kwargs.get("size", 2), case.kwargs.get("stride", 2)
        np.testing.assert_array_equal(case.expected, numpy_max_pool(case.args[0], size, stride))


def test_vgg_block_answers_match_scipy():
    cases = cases_of("05_vgg16", "vgg_block")
    assert {len(case.args[1]) for case in cases} == {1, 2, 3}
    for case in cases:
        x, weights, biases = case.args
        for w, b in zip(weights, biases):
            x = np.maximum(scipy_conv2d(x, w, b, padding=1), 0)
        N, C, H, W = x.shape
        pooled = x[:, :, : H // 2 * 2, : W // 2 * 2].reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))
        np.testing.assert_allclose(case.expected, pooled)
        assert case.expected.shape == (N, len(biases[-1]), case.args[0].shape[2] // 2, case.args[0].shape[3] // 2)
