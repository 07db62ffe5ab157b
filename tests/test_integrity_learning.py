"""The independent check of notebook 06's graded functions: conv2d_backward, whose
result is a tuple of three arrays, and he_init, whose result is random.

The harness runs in the real sandbox (autograder.sandbox, as the grader runs it)
on small synthetic notebooks: a right answer passes, each wrong one fails
exactly its own function, and garbage results fail without crashing the
judge. The expected gradients are checked against numerical gradients of
conv_lib.conv2d_reference, not against the module that computes them.
"""

import contextlib
import json
import math
import os
import subprocess
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

import conv_lib
from autograder import integrity, integrity_harness, sandbox
from conv_lib import diagnose
from conv_lib.diagnose.exercise import Case, DiffersFrom, Draws, Rng, SameAs
from integrity_tools import assert_no_values
from sandbox_users import sandbox_user

ASSIGNMENT = "06_learning_filters"
SEED = "student-42/06_learning_filters"
USER = sandbox_user()


def cases_of(function, seed_text=SEED):
    return [case for case in integrity.cases_for(ASSIGNMENT, seed_text) if case.function == function]


# --------------------------------------------------------------------------
# The cases: right by numerical gradients, and as the notebook's checks call
# --------------------------------------------------------------------------


def numerical_gradients(dout, x, w, b, stride, padding):
    """(dx, dw, db) of the loss sum(dout * conv2d_reference(x, w, b)) by central differences.

    The loss is linear in each of x, w and b, so a step of one gives the exact gradient."""

    def loss(x_, w_, b_):
        return float(np.sum(dout * conv_lib.conv2d_reference(x_, w_, b_, stride=stride, padding=padding)))

    def gradient(position):
        arrays = [x, w, b]
        grad = np.zeros(arrays[position].shape)
        for index in np.ndindex(grad.shape):
            step = np.zeros(grad.shape)
            step[index] = 1.0
            plus, minus = list(arrays), list(arrays)
            plus[position], minus[position] = arrays[position] + step, arrays[position] - step
            grad[index] = (loss(*plus) - loss(*minus)) / 2
        return grad

    return gradient(0), gradient(1), gradient(2)


@pytest.mark.parametrize("seed_text", [SEED, "bob"])
def test_the_expected_gradients_are_numerical_gradients_of_conv2d_reference(seed_text):
    for case in cases_of("conv2d_backward", seed_text):
        expected = numerical_gradients(*case.args, case.kwargs["stride"], case.kwargs["padding"])
        assert case.result == "arrays" and case.part_names == ("dx", "dw", "db") and len(case.expected) == 3
        for name, part, numerical in zip(case.part_names, case.expected, expected):
            np.testing.assert_allclose(part, numerical, atol=1e-9, err_msg=name)


def test_the_gradient_cases_cover_batches_strides_padding_and_unreached_rows():
    cases = cases_of("conv2d_backward")
    assert all(set(case.kwargs) == {"stride", "padding"} and len(case.args) == 4 for case in cases)  # as the check calls
    shapes = [(case.args[1].shape, case.args[2].shape, case.kwargs["stride"], case.kwargs["padding"]) for case in cases]
    assert {x[0] for x, _, _, _ in shapes} == {1, 2}
    assert {stride for _, _, stride, _ in shapes} == {1, 2} and {padding for *_, padding in shapes} == {0, 1}
    assert any(x[1] == w[0] > 1 for x, w, _, _ in shapes) and any(x[1] != w[0] for x, w, _, _ in shapes)
    assert any(w[2] != w[3] for _, w, _, _ in shapes)
    unreached = [(x[2] + 2 * p - w[2]) % s for x, w, s, p in shapes]
    assert any(unreached), "some case must leave rows of x that no window reaches"
    for case in cases:
        x, w, b = case.args[1:]
        assert all(np.array_equal(array, np.round(array)) for array in (case.args[0], x, w))  # whole numbers
        assert b.shape == (w.shape[0],)


def test_the_gradients_match_the_notebooks_own_check(monkeypatch):
    """What the expected values say is right, diagnose.check_conv2d_backward passes too (never stricter).
    Only the numbers are compared here: the check's watch for ready-made calls is switched off."""
    monkeypatch.setattr(diagnose.runner, "_watch_for_ready_made_calls", lambda forbidden: contextlib.nullcontext([]))

    def from_the_cases(dout, x, w, b, stride=1, padding=0):
        from conv_lib.backward import conv2d_backward_reference

        return conv2d_backward_reference(dout, x, w, stride=stride, padding=padding)

    diagnose.check_conv2d_backward(from_the_cases)


def test_he_init_cases_relate_by_their_labels_and_seeds():
    first, same, other, one_by_one, large = cases_of("he_init")
    assert first.label == "first" and first.expected == Draws(first.args[:2] + (first.args[2],) * 2)
    assert same.args == first.args and same.expected == SameAs("first")
    assert other.args[:3] == first.args[:3] and other.args[3] != first.args[3]
    assert other.expected == DiffersFrom("first")
    assert one_by_one.args[2] == 1 and one_by_one.expected.std is None
    c_out, c_in, k, rng = large.args
    assert (c_out, c_in, k) in diagnose.HE_LARGE_SIZES and c_out * c_in * k * k >= 30_000
    assert large.expected == Draws((c_out, c_in, k, k), std=math.sqrt(2 / (c_in * k * k)))
    assert all(isinstance(case.args[3], Rng) for case in cases_of("he_init"))
    assert len({case.args[3].seed for case in (first, other, one_by_one, large)}) == 4


def test_the_random_judge_uses_the_notebook_checks_tolerances():
    assert (integrity.HE_STD_TOLERANCE, integrity.HE_MEAN_STANDARD_ERRORS, integrity.HE_FLAT_KURTOSIS) == (
        diagnose.HE_STD_TOLERANCE, diagnose.HE_MEAN_STANDARD_ERRORS, diagnose.HE_FLAT_KURTOSIS)


def plain(value):
    if isinstance(value, (tuple, list)):
        return [plain(item) for item in value]
    return np.asarray(value).tolist() if isinstance(value, (np.ndarray, np.generic)) else value


def test_cases_are_the_same_for_the_same_seed_text_and_differ_for_another():
    def fingerprint(cases):
        return [(c.function, plain(c.args), plain(c.kwargs), plain(c.expected), c.result, c.label) for c in cases]

    alice = integrity.cases_for(ASSIGNMENT, "alice")
    assert fingerprint(alice) == fingerprint(integrity.cases_for(ASSIGNMENT, "alice"))
    assert fingerprint(alice) != fingerprint(integrity.cases_for(ASSIGNMENT, "bob"))
    assert {integrity.TEST_CELL[case.grade_id] for case in alice} == {"conv2d_backward_tests", "he_init_tests"}
    arrays = [value for case in alice for value in case.args if isinstance(value, np.ndarray)]
    assert arrays and all(array.size <= 3 * 12 * 12 for array in arrays)


# --------------------------------------------------------------------------
# Arguments and results: generators in, tuples of arrays out
# --------------------------------------------------------------------------


def test_an_rng_argument_becomes_a_fresh_generator_for_each_call():
    (encoded,), arrays = integrity.encode_cases([cases_of("he_init")[0]], {})
    encoded = json.loads(json.dumps(encoded, allow_nan=False))
    spec = encoded["args"][3]
    assert spec == {"rng": cases_of("he_init")[0].args[3].seed}
    one, two = (integrity_harness.argument(spec, arrays) for _ in range(2))
    assert isinstance(one, np.random.Generator) and one is not two
    assert np.array_equal(one.standard_normal(5), two.standard_normal(5))
    assert np.array_equal(integrity_harness.argument({"rng": 7}, {}).standard_normal(3),
                          np.random.default_rng(7).standard_normal(3))


@pytest.mark.parametrize("seed", [-1, 2**63, True, 1.5, "7"], ids=repr)
def test_an_rng_seed_is_a_plain_non_negative_int(seed):
    with pytest.raises(TypeError, match="seed"):
        integrity.encode_argument(Rng(seed), {})


def test_an_arrays_case_tells_the_harness_how_many_parts():
    (encoded,), _ = integrity.encode_cases(cases_of("conv2d_backward")[:1], {})
    assert encoded["result"] == "arrays" and encoded["parts"] == 3


@pytest.mark.parametrize("parts", [None, 0, 9, "3", 3.0])
def test_the_harness_refuses_an_arrays_case_without_a_sensible_count(parts, tmp_path):
    (tmp_path / "cells.json").write_text("[]")
    case = {"index": 0, "function": "f", "args": [], "kwargs": {}, "result": "arrays"}
    case |= {} if parts is None else {"parts": parts}
    (tmp_path / "cases.json").write_text(json.dumps([case]))
    np.savez(tmp_path / "inputs.npz")
    with pytest.raises(ValueError, match="parts"):
        integrity_harness.read_inputs(tmp_path)


def test_a_tuple_or_list_of_arrays_becomes_a_tuple_of_arrays():
    parts = integrity_harness.array_parts((np.zeros((1, 2)), [[1, 2]], np.float32(3)), 3)
    assert isinstance(parts, tuple) and [part.shape for part in parts] == [(1, 2), (1, 2), ()]
    assert len(integrity_harness.array_parts([np.ones(2)] * 3, 3)) == 3


def _endless():
    while True:
        yield np.zeros(2)


@pytest.mark.parametrize("garbage", [
    np.zeros((3, 2)), (np.zeros(2), np.zeros(2)), [np.zeros(2)] * 4, {"dx": 1, "dw": 2, "db": 3}, "dx dw db",
    (np.zeros(2), None, np.zeros(2)), (np.zeros(2), [None, "a"], np.zeros(2)),
    _endless(), None, [np.zeros(1)] * 10**6,
], ids=["one-array", "two-arrays", "four-arrays", "dict", "text", "None-inside", "list-inside", "endless-generator",
        "None", "a-million-arrays"])  # ids by hand: repr of the last one (a million arrays) took a minute each collection
def test_anything_else_is_no_tuple_of_arrays(garbage):
    """(A part of text, such as "dw", is saved as text, without pickle, and the judge refuses it.)"""
    with pytest.raises(TypeError):
        integrity_harness.array_parts(garbage, 3)


def test_both_sides_know_the_same_kinds_of_result():
    assert set(integrity.RESULT_KINDS) == set(integrity_harness.RESULT_KINDS)


# --------------------------------------------------------------------------
# Judging what lands in out/, without the harness
# --------------------------------------------------------------------------


def judge_all(workdir, cases, write):
    """{index: message} after write(out_dir) wrote the files."""
    out = workdir / "out"
    out.mkdir(parents=True, exist_ok=True)
    write(out)
    with integrity.open_out_dir(workdir) as fd:
        return {index: integrity.judge_case(fd, index, case, cases) for index, case in enumerate(cases)}


def save_parts(out, index, parts):
    for part, array in enumerate(parts):
        np.save(out / f"{index}.part{part}.npy", array)


def test_gradients_are_judged_part_by_part(tmp_path):
    case = cases_of("conv2d_backward")[1]
    dx, dw, db = case.expected

    def message(parts, name):
        return judge_all(tmp_path / name, [case], lambda out: save_parts(out, 0, parts))[0]

    assert message((dx, dw, db), "right") == ""
    assert message((dx.astype(np.float32), dw.tolist(), db.astype(int)), "lenient") == ""
    assert message((dx, dw / 2, db), "half") == (
        f"conv2d_backward: case 0 returned wrong values in dw (its shape {tuple(dw.shape)} is right)")
    padded = np.pad(dx, ((0, 0), (0, 0), (1, 1), (1, 1)))
    assert message((padded, dw, db), "padded") == (
        f"conv2d_backward: case 0 returned dx of shape {padded.shape}, expected {dx.shape}")
    assert message((dx, dw, np.array(["1", "2", "3"])), "text") == (
        "conv2d_backward: case 0 returned something that is not a tuple of arrays of numbers, (dx, dw, db)")


def test_gradient_garbage_never_crashes_or_passes_the_judge(tmp_path):
    case = cases_of("conv2d_backward")[0]
    dx, dw, db = case.expected
    writers = {
        "nothing": lambda out: None,
        "two of three parts": lambda out: save_parts(out, 0, (dx, dw)),
        "parts and an error": lambda out: (save_parts(out, 0, case.expected),
                                           (out / "0.json").write_text('{"error": "ValueError"}')),
        "one array for all": lambda out: np.save(out / "0.npy", dx),
        "a pickled part": lambda out: (save_parts(out, 0, (dx, dw)),
                                       np.save(out / "0.part2.npy", np.array([None, 1.5], dtype=object), allow_pickle=True)),
        "a symlinked part": lambda out: (save_parts(out, 0, (dx, dw)), os.symlink("/dev/zero", out / "0.part2.npy")),
        "a fifo part": lambda out: (save_parts(out, 0, (dx, dw)), os.mkfifo(out / "0.part2.npy")),
        "a huge part": lambda out: (save_parts(out, 0, (dx, dw)), open(out / "0.part2.npy", "wb").truncate(65 * 2**20)),
        "a forged error": lambda out: (out / "0.json").write_text(json.dumps(
            {"error": "SECRET [1.5]", "kinds": [1], "message": "SECRET 1.5"})),
        "not an array": lambda out: (out / "0.json").write_text(json.dumps(
            {"error": "NotAnArray", "kinds": ["NotAnArray"], "message": "SECRET"})),
    }
    for name, write in writers.items():
        message = judge_all(tmp_path / name.replace(" ", "_"), [case], write)[0]
        assert message.startswith("conv2d_backward: case 0 "), (name, message)
        assert_no_values(message)


def test_random_results_are_judged_by_their_statistics(tmp_path):
    size = (24, 72, 5)
    std = math.sqrt(2 / (72 * 25))
    case = Case("he_init", "he_init", (), {}, Draws((*size[:2], 5, 5), std=std))
    rng = np.random.default_rng(3)
    shape = case.expected.shape
    answers = {
        "": rng.standard_normal(shape) * std,
        "returned weights that are not normally distributed (flat, as uniform ones)":
            rng.uniform(-math.sqrt(3) * std, math.sqrt(3) * std, shape),
        "returned weights whose mean is not 0": rng.standard_normal(shape) * std + std / 10,
        "returned weights with the wrong standard deviation": rng.standard_normal(shape) * std * 1.05,
        "returned shape (24, 72, 25), expected (24, 72, 5, 5)": rng.standard_normal((24, 72, 25)) * std,
        "returned the same number for every weight": np.full(shape, std),
        "returned inf or nan": np.full(shape, np.nan),
    }
    for number, (problem, answer) in enumerate(answers.items()):
        message = judge_all(tmp_path / str(number), [case], lambda out: np.save(out / "0.npy", answer))[0]
        assert message == (f"he_init: case 0 {problem}" if problem else ""), problem
    small = Case("he_init", "he_init", (), {}, Draws((2, 3, 1, 1)))
    uniform = np.random.default_rng(4).uniform(size=(2, 3, 1, 1))
    assert judge_all(tmp_path / "small", [small], lambda out: np.save(out / "0.npy", uniform))[0] == ""


def test_random_results_are_compared_with_the_case_they_name(tmp_path):
    first = Case("he_init", "he_init", (), {}, Draws((2, 3, 3, 3)), label="first")
    same = Case("he_init", "he_init", (), {}, SameAs("first"))
    other = Case("he_init", "he_init", (), {}, DiffersFrom("first"))
    cases = [first, same, other]
    a, b = np.random.default_rng(1).standard_normal((2, 2, 3, 3, 3))

    def outcome(*arrays):
        return lambda out: [np.save(out / f"{index}.npy", array) for index, array in enumerate(arrays)]

    assert judge_all(tmp_path / "right", cases, outcome(a, a.copy(), b)) == {0: "", 1: "", 2: ""}
    assert judge_all(tmp_path / "global", cases, outcome(a, b, b)) == {
        0: "", 1: "he_init: case 1 returned other numbers than case 0 from a generator with the same seed (not drawn "
                  "from rng alone?)", 2: ""}
    assert judge_all(tmp_path / "fixed", cases, outcome(a, a, a))[2] == (
        "he_init: case 2 returned the same numbers as case 0 from a generator with another seed (rng ignored?)")
    broken = judge_all(tmp_path / "broken", cases, lambda out: (outcome(a, a, b)(out), os.remove(out / "0.npy"),
                                                                 (out / "0.json").write_text('{"error": "TypeError"}')))
    assert broken[1] == "he_init: case 1 could not be compared with case 0, which left no usable result"
    alone = judge_all(tmp_path / "alone", [same], outcome(a))
    assert alone[0] == "he_init: case 0 refers to a case labelled 'first' that is not judged"


def test_judge_puts_every_case_of_a_function_under_its_test_cell(tmp_path):
    cases = integrity.cases_for(ASSIGNMENT, SEED)
    (tmp_path / "out").mkdir()
    results = integrity.judge(tmp_path, cases)
    assert results == {
        "conv2d_backward_tests": integrity.CheckResult(False, "conv2d_backward: case 0 gave no result (the process "
                                                              "stopped early) (and 5 more failing cases)"),
        "he_init_tests": integrity.CheckResult(False, "he_init: case 6 gave no result (the process stopped early) "
                                                      "(and 4 more failing cases)"),
    }


# --------------------------------------------------------------------------
# Through the real harness, in the sandbox, on synthetic notebooks
# --------------------------------------------------------------------------

RIGHT_BACKWARD = '''
def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, kH, kW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp, dw = np.zeros(xp.shape), np.zeros(w.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, columns = slice(i * stride, i * stride + kH), slice(j * stride, j * stride + kW)
            dw += np.einsum("nf,nchw->fchw", dout[:, :, i, j], xp[:, :, rows, columns])
            dxp[:, :, rows, columns] += np.einsum("nf,fchw->nchw", dout[:, :, i, j], w)
    return dxp[:, :, padding:padding + H, padding:padding + W], dw, dout.sum(axis=(0, 2, 3))
'''

RIGHT_HE = '''
def he_init(c_out, c_in, k, rng):
    return rng.normal(0.0, np.sqrt(2.0 / (c_in * k * k)), size=(c_out, c_in, k, k))
'''

SETUP = "import numpy as np\nimport conv_lib\n"


def checks_cell(name):
    return textwrap.dedent(f'''\
        import sys
        for _module in [name for name in sys.modules if name.split(".")[0] == "conv_lib"]:
            del sys.modules[_module]
        from conv_lib import diagnose
        diagnose.check_{name}({name})
        print("{name} passes the checks.")
        ''')


def cell(source, grade_id=None, answer=False, test=False):
    """A code cell; with grade_id, an nbgrader answer cell (answer) or autograder test cell (test)."""
    made = nbformat.v4.new_code_cell(source)
    if grade_id:
        made.metadata["nbgrader"] = {"grade": test, "grade_id": grade_id, "locked": not answer, "schema_version": 3,
                                     "solution": answer, "task": False} | ({"points": 3} if test else {})
    return made


def notebook(conv2d_backward=RIGHT_BACKWARD, he_init=RIGHT_HE, before_tests=""):
    """A synthetic notebook 06: setup, each answer and its test cell; before_tests: a student cell before the tests."""
    made = nbformat.v4.new_notebook()
    made.cells = [
        cell(SETUP, "setup"),
        cell(conv2d_backward, "conv2d_backward", answer=True),
        *([cell(before_tests)] if before_tests else []),
        cell(checks_cell("conv2d_backward"), "conv2d_backward_tests", test=True),
        cell(he_init, "he_init", answer=True),
        cell(checks_cell("he_init"), "he_init_tests", test=True),
    ]
    return made


@pytest.fixture
def sandboxed(tmp_path, needs_bubblewrap):
    """check(notebook) -> verdicts, with the harness run in the sandbox as the grader runs it."""
    scratch = sandbox.make_scratch(tmp_path / "scratch", USER)
    os.chmod(tmp_path, 0o755)
    exits = []

    def run(argv, workdir):
        sandbox.give_to_sandbox(workdir, USER)
        code, stderr = sandbox.run(argv, scratch=Path(workdir), sandbox_user=USER, timeout=120)
        exits.append((code, stderr))
        if code is None:
            raise subprocess.TimeoutExpired(argv, 120)

    def check(made, **options):
        verdicts = integrity.check(made, ASSIGNMENT, SEED, scratch, run, **options)
        assert all(code == 0 for code, _ in exits), exits  # the harness itself never fails
        return verdicts

    check.workdir = scratch
    yield check
    sandbox.remove_scratch(scratch)


def test_right_answers_pass_in_the_sandbox(sandboxed):
    assert sandboxed(notebook()) == {"conv2d_backward_tests": integrity.CheckResult(True, ""),
                                     "he_init_tests": integrity.CheckResult(True, "")}


def test_the_instructor_solution_passes_in_the_sandbox(sandboxed):
    path = Path(__file__).parents[1] / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    if not path.exists():
        pytest.skip("the notebook is not written yet")
    verdicts = sandboxed(nbformat.read(path, as_version=4))
    assert set(verdicts) == {"conv2d_backward_tests", "he_init_tests"}
    assert all(result.passed for result in verdicts.values()), verdicts


#: (function, its wrong source, the start of the message of its test cell). Each is also
#: refused by the notebook's visible check (test_the_notebooks_checks_refuse_them_too).
WRONG_ANSWERS = {
    "dx_not_flipped": ("conv2d_backward", RIGHT_BACKWARD.replace('dout[:, :, i, j], w)', 'dout[:, :, i, j], w[:, :, ::-1, ::-1])'),
                       "conv2d_backward: case 0 returned wrong values in dx (its shape (1, 1, 4, 5) is right)"),
    "db_mean": ("conv2d_backward", RIGHT_BACKWARD.replace("dout.sum(axis=(0, 2, 3))", "dout.mean(axis=(0, 2, 3))"),
                "conv2d_backward: case 0 returned wrong values in db (its shape (2,) is right)"),
    "dw_first_image": ("conv2d_backward", RIGHT_BACKWARD.replace("dout[:, :, i, j], xp[:, :, rows, columns]",
                                                                 "dout[:1, :, i, j], xp[:1, :, rows, columns]"),
                       "conv2d_backward: case 1 returned wrong values in dw (its shape (3, 2, 3, 3) is right)"),
    "uncropped": ("conv2d_backward", RIGHT_BACKWARD.replace("dxp[:, :, padding:padding + H, padding:padding + W]", "dxp"),
                  "conv2d_backward: case 1 returned dx of shape (2, 2, 7, 6), expected (2, 2, 5, 4)"),
    "two_arrays": ("conv2d_backward", RIGHT_BACKWARD.replace(", dout.sum(axis=(0, 2, 3))", ""),
                   "conv2d_backward: case 0 returned something that is not a tuple of arrays of numbers, (dx, dw, db)"),
    "global_random": ("he_init", RIGHT_HE.replace("rng.normal(", "np.random.normal("),
                      "he_init: case 7 returned other numbers than case 6 from a generator with the same seed"),
    "fixed_seed": ("he_init", RIGHT_HE.replace("rng.normal(", "np.random.default_rng(0).normal("),
                   "he_init: case 8 returned the same numbers as case 6 from a generator with another seed"),
    "fan_out": ("he_init", RIGHT_HE.replace("c_in * k * k", "c_out * k * k"),
                "he_init: case 10 returned weights with the wrong standard deviation"),
    "uniform": ("he_init", RIGHT_HE.replace("rng.normal(0.0, np.sqrt(2.0 / (c_in * k * k)),",
                                            "rng.uniform(-np.sqrt(6.0 / (c_in * k * k)), np.sqrt(6.0 / (c_in * k * k)),"),
                "he_init: case 10 returned weights that are not normally distributed (flat, as uniform ones)"),
    "filters_second": ("he_init", RIGHT_HE.replace("size=(c_out, c_in, k, k)", "size=(c_in, c_out, k, k)"),
                       "he_init: case 6 returned shape ("),
}


@pytest.mark.parametrize("wrong", WRONG_ANSWERS)
def test_a_wrong_answer_fails_exactly_its_own_function_in_the_sandbox(wrong, sandboxed):
    function, source, message = WRONG_ANSWERS[wrong]
    verdicts = sandboxed(notebook(**{function: source}))
    assert {cell for cell, result in verdicts.items() if not result.passed} == {f"{function}_tests"}, verdicts
    assert verdicts[f"{function}_tests"].message.startswith(message), verdicts
    assert_no_values(verdicts[f"{function}_tests"].message)


def defined(source, name):
    namespace = {"np": np, "conv_lib": conv_lib}
    exec(source, namespace)
    return namespace[name]


@pytest.mark.parametrize("wrong", WRONG_ANSWERS)
def test_the_notebooks_checks_refuse_them_too(wrong):
    """Never stricter than nbgrader's visible check: an honest wrong answer is never called tampered."""
    function, source, _ = WRONG_ANSWERS[wrong]
    with pytest.raises(diagnose.Misconception):
        getattr(diagnose, f"check_{function}")(defined(source, function))


@pytest.mark.parametrize("function, source", [("conv2d_backward", RIGHT_BACKWARD), ("he_init", RIGHT_HE)])
def test_the_notebooks_checks_pass_the_right_answers_too(function, source):
    getattr(diagnose, f"check_{function}")(defined(source, function))
    getattr(diagnose, f"check_{function}")(defined(source, function), seed=61, hidden=True)


def test_a_forged_pass_does_not_fool_the_sandboxed_check(sandboxed):
    """he_init draws from np.random's global generator, and a cell replaces np.random.default_rng so
    that every generator the notebook's check makes reseeds it: the check in the kernel passes. The
    harness made its generators with the default_rng it bound before any student cell ran."""
    forge = textwrap.dedent('''\
        _real_default_rng = np.random.default_rng
        def _reseeding(seed=None):
            np.random.seed(None if seed is None else seed % 2**32)
            return _real_default_rng(seed)
        np.random.default_rng = _reseeding
        ''')
    global_random = RIGHT_HE.replace("rng.normal(", "np.random.normal(")
    namespace = {"np": np}
    exec(forge + global_random, namespace)
    try:
        diagnose.check_he_init(namespace["he_init"])  # the forged pass, in the student's own process
    finally:
        np.random.default_rng = namespace["_real_default_rng"]
    verdicts = sandboxed(notebook(he_init=global_random, before_tests=forge))
    assert verdicts["conv2d_backward_tests"].passed
    assert verdicts["he_init_tests"].message.startswith(
        "he_init: case 7 returned other numbers than case 6 from a generator with the same seed")


GARBAGE_BACKWARD = '''
class Hangs(list):
    def __len__(self):
        while True:
            pass

_answers = iter([
    np.zeros((3, 4)),                                    # one array
    ("dx", "dw", "db"),                                  # strings
    (np.zeros(2), None, np.zeros(2)),                    # a part missing
    {"dx": 0, "dw": 0, "db": 0},                         # a dict
    (np.zeros(2), np.zeros((3000, 3000)), np.zeros(2)),  # a part over the 64 MB a file may have
    Hangs([1, 2, 3]),                                    # never says how long it is
])

def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    return next(_answers)
'''

GARBAGE_HE = '''
_answers = iter(["weights", None, np.zeros(10**6), [[1, "a"]], np.full((2, 2, 2, 2), np.inf)])

def he_init(c_out, c_in, k, rng):
    return next(_answers)
'''


def test_garbage_results_fail_without_crashing_the_judge(sandboxed):
    verdicts = sandboxed(notebook(conv2d_backward=GARBAGE_BACKWARD, he_init=GARBAGE_HE), cell_seconds=2)
    not_tuples = "returned something that is not a tuple of arrays of numbers, (dx, dw, db)"
    assert verdicts["conv2d_backward_tests"] == integrity.CheckResult(
        False, f"conv2d_backward: case 0 {not_tuples} (and 5 more failing cases)")
    assert not verdicts["he_init_tests"].passed
    cases = integrity.cases_for(ASSIGNMENT, SEED)
    with integrity.open_out_dir(sandboxed.workdir) as out:
        messages = [integrity.judge_case(out, index, case, cases) for index, case in enumerate(cases)]
    assert messages[:6] == [f"conv2d_backward: case {index} {not_tuples}" for index in range(6)], messages
    assert all(message.startswith(f"he_init: case {index} ") for index, message in enumerate(messages) if index >= 6)
    for message in messages:
        assert_no_values(message)
    left = sorted(path.name for path in (sandboxed.workdir / "out").iterdir())
    assert "4.json" in left and not any(name.startswith("4.part") for name in left), left  # no part left behind
