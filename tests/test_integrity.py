"""The independent check of the graded functions (autograder/integrity.py and
autograder/integrity_harness.py).

The harness runs here in a plain subprocess (the real grader runs it in a
sandbox), on notebooks made from the real solution notebooks: the solutions
pass, wrong or forged answers fail, and whatever the student's code leaves in
out/ never makes the judge crash or pass. Expected values are checked against
scipy and hand-computed numbers, not against the module itself.

This file: the machinery and notebooks 01-03. Notebooks 04 and 05's functions
are in test_integrity_stack_vgg16.py, notebook 06's in test_integrity_learning.py;
the helpers all three share in integrity_tools.py.
"""

import json
import os
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from scipy.signal import correlate2d

from autograder import integrity
from autograder.feedback import is_autograder_test_cell
from conv_lib.diagnose.exercise import Case
from integrity_tools import (
    ASSIGNMENTS,
    SEED,
    assert_no_values,
    check,
    graded_cells_only,
    judge_one,
    messages,
    run,
    solution,
    with_answer,
    with_cell_before,
)

def single_channel(**answers):
    """Notebook 01, graded cells only, with some answers replaced (grade_id=source)."""
    notebook = graded_cells_only(solution("01_single_channel"))
    for grade_id, source in answers.items():
        with_answer(notebook, grade_id, source)
    return notebook


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
    assert results["corr2d_tests"] == integrity.CheckResult(
        False, "[limit] corr2d: case 9 did not return within the time limit", "limit")


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


def test_a_harness_stopped_by_the_sandbox_leaves_no_pass_and_names_the_limit(tmp_path):
    def times_out(argv, cwd):
        raise subprocess.TimeoutExpired(argv, 1)

    results = integrity.check(solution("02_multi_channel"), "02_multi_channel", SEED, tmp_path, times_out)
    assert results["conv2d_multi_in_tests"] == integrity.CheckResult(
        False, "[limit] conv2d_multi_in: case 0 gave no result: the check was stopped by the time limit of the "
               "whole check (and 5 more failing cases)", "limit")


def test_a_harness_that_stopped_by_itself_without_results_is_a_disagreement_not_a_limit(tmp_path):
    results = integrity.check(solution("02_multi_channel"), "02_multi_channel", SEED, tmp_path,
                              lambda argv, cwd: (0, ""))
    assert results["conv2d_multi_in_tests"].kind == ""
    assert "gave no result (the process stopped early)" in results["conv2d_multi_in_tests"].message


# --------------------------------------------------------------------------
# Judging rules
# --------------------------------------------------------------------------


def test_numbers_compare_numerically_but_a_bool_is_no_number(tmp_path):
    case = Case("conv_output_size", "conv_output_size", (5, 3), {}, 3)
    for passing in (3, 3.0, np.int32(3), np.uint8(3)):
        assert judge_one(tmp_path, case, lambda out: np.save(out / "0.npy", np.asarray(passing))) == ""
    for failing, problem in [(True, "returned a bool"), (4, "returned a wrong number"), ([3], "returned an array of shape (1,)"),
                             (float("nan"), "returned a wrong number")]:
        assert problem in judge_one(tmp_path, case, lambda out: np.save(out / "0.npy", np.asarray(failing)))


def test_arrays_compare_by_shape_then_closeness(tmp_path):
    expected = np.arange(6.0).reshape(2, 3) * 1e3
    case = Case("corr2d", "corr2d", (), {}, expected)
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
    case = Case("conv2d_multi_in", "conv2d_multi_in", (), {}, "ValueError")
    record = {"error": kinds[0], "kinds": kinds, "message": ""}
    message = judge_one(tmp_path, case, lambda out: (out / "0.json").write_text(json.dumps(record)))
    assert (message == "") == passes, message


def test_a_result_where_a_value_error_is_expected_fails(tmp_path):
    case = Case("conv2d_multi_in", "conv2d_multi_in", (), {}, "ValueError")
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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.json", "cells.json", "inputs.npz", "integrity_harness.py",
                                                          "integrity_tripwires.py", "out", "ready_made.json"]
    assert json.loads((tmp_path / "ready_made.json").read_text())["numpy"] == ["convolve", "correlate"]
    assert [case["forbidden"] for case in json.loads((tmp_path / "cases.json").read_text())][:1] == [
        ["conv2d", "conv2d_fast", "conv2d_multi_in", "conv2d_reference"]]
    assert list((tmp_path / "out").iterdir()) == []
    tripwires = (tmp_path / "integrity_tripwires.py").read_text()
    assert "import autograder" not in tripwires and "from autograder" not in tripwires
    harness = (tmp_path / "integrity_harness.py").read_text()
    assert "import autograder" not in harness and harness.count("from autograder") == 1  # only when run in-process
    assert "except ImportError:  # this module imported from the autograder package" in harness


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


# --------------------------------------------------------------------------
# Ready-made calls and limits: what the check says, and what the grader does with it
# --------------------------------------------------------------------------

def multi_channel(answer=None, after=None):
    """Notebook 02, graded cells only; answer: conv2d_multi_in's source; after: a cell added after it."""
    notebook = graded_cells_only(solution("02_multi_channel"))
    if answer is not None:
        with_answer(notebook, "conv2d_multi_in", answer)
    if after is not None:
        tests = next(i for i, cell in enumerate(notebook.cells) if is_autograder_test_cell(cell))
        notebook.cells.insert(tests, nbformat.v4.new_code_cell(after))
    return notebook


def run_with_stderr(argv, cwd):
    """A runner that returns (returncode, stderr) as sandbox.run does."""
    done = subprocess.run(argv, cwd=cwd, timeout=120, capture_output=True, text=True)
    return done.returncode, done.stderr


UNSEEN_LIBRARY_CALL = '''
def conv2d_multi_in(x, w, b=0.0):
    import sys
    sys.setprofile(None)
    try:
        return conv_lib.conv2d_multi_in(x, w, b)
    except BaseException:          # swallows the tripwire's exception too: the call is recorded anyway
        return sum(corr2d(x[c], w[c]) for c in range(x.shape[0])) + b
'''

#: At exit, out/ is rewritten with right answers made by conv_lib (no tripwire is armed then).
REWRITE_OUT_AT_EXIT = '''
import atexit, conv_lib

def rewrite_out():
    import json, os
    inputs = np.load("inputs.npz")
    value = lambda spec: inputs[spec["array"]] if "array" in spec else spec["value"]
    for case in json.load(open("cases.json")):
        index = case["index"]
        for name in os.listdir("out"):
            if name.split(".")[0] == str(index):
                os.remove(os.path.join("out", name))
        try:
            np.save(f"out/{index}.npy", conv_lib.conv2d_multi_in(*[value(spec) for spec in case["args"]]))
        except ValueError:
            json.dump({"error": "ValueError", "kinds": ["ValueError"]}, open(f"out/{index}.json", "w"))

atexit.register(rewrite_out)
'''


def test_a_ready_made_call_the_notebook_cannot_see_fails_with_reference_call(tmp_path):
    results = check(multi_channel(UNSEEN_LIBRARY_CALL), tmp_path, "02_multi_channel")
    verdict = results["conv2d_multi_in_tests"]
    assert verdict.kind == "reference-call"
    assert verdict.message.startswith("[reference-call] conv2d_multi_in: case 0 calls conv_lib.ops.conv2d_multi_in: "
                                      "a ready-made call"), verdict
    assert_no_values(verdict.message.removeprefix("[reference-call] "))


def test_the_report_on_the_harness_stderr_outweighs_a_rewritten_out_folder(tmp_path):
    notebook = multi_channel(UNSEEN_LIBRARY_CALL, after=REWRITE_OUT_AT_EXIT)
    without_the_report = check(notebook, tmp_path / "files only", "02_multi_channel")
    assert without_the_report["conv2d_multi_in_tests"].passed, "out/ alone can be rewritten by the student"
    results = integrity.check(notebook, "02_multi_channel", SEED, tmp_path / "with stderr", run_with_stderr)
    assert results["conv2d_multi_in_tests"].kind == "reference-call", results


def test_conv_lib_used_outside_the_graded_function_is_allowed(tmp_path):
    outside = "preview = conv_lib.conv2d(np.ones((1, 2, 4, 4)), np.ones((1, 2, 3, 3)), np.zeros(1))\n"
    results = check(multi_channel(after=outside), tmp_path, "02_multi_channel")
    assert results == {"conv2d_multi_in_tests": integrity.CheckResult(True, "")}


def test_the_ending_says_which_limit_stopped_the_run_and_what_the_tripwires_reported():
    report = "noise\nreference-call 3 conv_lib.layers.Conv2d.forward conv_lib.ops.conv2d\nreference-call 3 a b\n"
    assert integrity.ending_of((0, report)) == integrity.Ending(
        "", {3: ("conv_lib.layers.Conv2d.forward", "conv_lib.ops.conv2d")})
    assert integrity.ending_of(None) == integrity.Ending()
    assert integrity.ending_of("timeout").limit == integrity.ending_of((None, "")).limit == (
        "the time limit of the whole check")
    assert integrity.ending_of((137, "")).limit == "a kill (the memory or CPU-time limit)"
    assert "more than 256 MB" in integrity.ending_of((137, "[sandbox stopped] wrote more than 256 MB")).limit
    assert integrity.ending_of((1, "Traceback ...")).limit == ""


@pytest.mark.parametrize("record, message", [
    ({"error": "ReferenceCall", "message": "conv_lib.layers.Conv2d.forward conv_lib.ops.conv2d"},
     "[reference-call] conv2d_multi_in: case 0 calls conv_lib.layers.Conv2d.forward (which runs conv_lib.ops.conv2d)"),
    ({"error": "ReferenceCall", "message": "SECRET [1.5, 2.5]"},
     "[reference-call] conv2d_multi_in: case 0 calls a ready-made convolution: "),
    ({"error": "SoftTimeout"}, "[limit] conv2d_multi_in: case 0 did not return within the time limit"),
    ({"error": "MemoryError"}, "[limit] conv2d_multi_in: case 0 ran out of memory"),
    ({"error": "OSError", "message": "[Errno 27] File too large"}, "[limit] conv2d_multi_in: case 0 hit the file-size"),
    ({"error": "OSError", "message": "[Errno 2] No such file"}, "conv2d_multi_in: case 0 raised OSError"),
])
def test_a_ready_made_call_or_a_limit_is_told_apart_from_wrong_values(record, message, tmp_path):
    case = Case("conv2d_multi_in", "conv2d_multi_in", (), {}, np.zeros((2, 2)))
    said = judge_one(tmp_path, case, lambda out: (out / "0.json").write_text(json.dumps(record)))
    assert said.startswith(message), said
    assert_no_values(said.split("] ", 1)[-1] if said.startswith("[") else said)


def test_a_reported_call_fails_even_a_right_result_and_comes_before_other_failures(tmp_path):
    cases = [Case("conv2d_multi_in", "conv2d_multi_in", (), {}, np.zeros((2, 2))) for _ in range(3)]
    (tmp_path / "out").mkdir()
    np.save(tmp_path / "out" / "0.npy", np.ones((2, 2)))                  # wrong values
    (tmp_path / "out" / "1.json").write_text('{"error": "SoftTimeout"}')   # a limit
    np.save(tmp_path / "out" / "2.npy", np.zeros((2, 2)))                 # right, but reported
    ending = integrity.Ending("", {2: ("numpy.convolve", "numpy.convolve")})
    verdict = integrity.judge(tmp_path, cases, ending)["conv2d_multi_in_tests"]
    assert verdict.kind == "reference-call" and verdict.message.startswith(
        "[reference-call] conv2d_multi_in: case 2 calls numpy.convolve:"), verdict
    assert integrity.judge(tmp_path, cases)["conv2d_multi_in_tests"].kind == "", "wrong values before a limit"
    assert integrity.verdict(["[limit] f: case 1 did not return within the time limit"]).kind == "limit"


def test_the_grader_calls_a_forged_pass_or_a_ready_made_call_tampered_and_a_limit_alone_a_case_for_a_person():
    from autograder.worker import mark_forged, overruled_message, overruled_status

    assert overruled_status("ok", {"corr2d_tests": "reference-call"})[0] == "tampered"
    assert overruled_status("ok", {"corr2d_tests": ""})[0] == "tampered"
    assert overruled_status("ok", {"corr2d_tests": "limit", "conv_output_size_tests": ""})[0] == "tampered"
    status, message = overruled_status("ok", {"corr2d_tests": "limit"})
    assert status == "needs_manual_grade" and "stopped at a limit for: corr2d_tests" in message
    assert overruled_status("timeout", {"corr2d_tests": "limit"})[0] == "timeout"
    limit = integrity.CheckResult(False, "[limit] corr2d: case 9 did not return within the time limit", "limit")
    assert overruled_message(limit).startswith("[limit] corr2d: case 9") and "person" in overruled_message(limit)
    call = integrity.CheckResult(False, "[reference-call] corr2d: case 0 calls numpy.convolve: ...", "reference-call")
    assert overruled_message(call).startswith("[reference-call] corr2d: case 0 calls numpy.convolve")
    assert overruled_message(integrity.CheckResult(False, "corr2d: case 0 raised KeyError")).startswith("[tampered]")
    page = json.loads(mark_forged(solution("01_single_channel"), {"corr2d_tests": "reference-call"}))
    shown = [output["evalue"] for cell in page["cells"] for output in cell.get("outputs", [])
             if output.get("ename") == "IntegrityCheck"]
    assert len(shown) == 1 and shown[0].startswith("[reference-call]")
