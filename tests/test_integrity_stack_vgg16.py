"""The independent check of notebooks 04 and 05's graded functions: conv2d, max_pool2d,
stack_shapes, receptive_field, vgg16_table and vgg_block.

As in tests/test_integrity.py, the harness runs in a plain subprocess on notebooks
cut from the real solutions: other right solutions pass, each wrong answer fails
exactly its own function, a table nbgrader's check accepts passes here too, and
garbage results (shape lists and tables that are none) fail without crashing the
judge. The expected values are checked against scipy and hand-counted numbers.
"""

import json

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import correlate

from autograder import integrity, integrity_harness
from conv_lib import diagnose, models
from conv_lib.diagnose.conv_pool_stack_shapes import expected_receptive_field, vgg16_convolutional_part
from conv_lib.diagnose.exercise import Case
from integrity_tools import SEED, assert_no_values, check, graded_cells_only, judge_one, run, solution, with_answer

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
    "conv_keeps_channels": ("04_conv_pool_stack", "stack_shapes", OTHER_SOLUTIONS["04_conv_pool_stack"]["stack_shapes"]
                            .replace("_, C, k, stride, padding = layer",
                                     "_, _, k, stride, padding = layer   # the channel count never changes: wrong for a conv"),
                            "stack_shapes: case 13 returned a wrong shape for the layer at index 0 (its C is wrong; one "
                            "shape per layer, as expected) (and 4 more failing cases)"),
    "stride_ignored": ("04_conv_pool_stack", "receptive_field", '''
def receptive_field(layers):
    r = 1
    for layer in layers:
        if layer[0] in ("conv", "pool"):
            r += (layer[2] if layer[0] == "conv" else layer[1]) - 1     # as if every stride were 1
    return r
''', "receptive_field: case 22 returned a wrong number (and 1 more failing case)"),
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
    "objects": OTHER_SOLUTIONS["05_vgg16"]["vgg16_table"] + '''
from conv_lib.models import LayerRow

_vgg16_table = vgg16_table

def vgg16_table(input_shape=(3, 224, 224)):  # LayerRow objects, not dicts
    return [LayerRow(row["name"], "layer", row["output_shape"], row["params"], row["macs"]) for row in _vgg16_table(input_shape)]
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
    case = Case("vgg_block", "vgg_block", ((3, 32, 32), layers, weights, [np.zeros(2), None, "x", 1.5, True]),
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


# The ids are the arguments as written, never an address (a bare object's repr): under pytest-xdist
# every worker must collect the same test names.
@pytest.mark.parametrize("argument", [{"a": 1}, object(), {1, 2}, b"bytes", [("conv", {"k": 3})]],
                         ids=lambda argument: "object()" if type(argument) is object else repr(argument))
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
    case = Case("stack_shapes", "stack_shapes", (), {}, np.array([[8, 32, 32], [8, 16, 16]]), result="shapes")
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
    assert expected_receptive_field([conv3]) == 3
    assert expected_receptive_field([conv3, ("relu",), conv3]) == 5
    assert expected_receptive_field([conv3, conv3, conv3]) == 7
    assert expected_receptive_field([conv3, conv3, pool2]) == 6          # 1 + 2 + 2, then + 1 * 1 (jump 1)
    assert expected_receptive_field([pool2, conv3]) == 6                 # 1 + 1, then + 2 * 2 (jump 2)
    assert expected_receptive_field([("conv", 96, 11, 4, 0), ("pool", 3, 2)]) == 19   # 1 + 10, + 2 * 4
    assert expected_receptive_field([]) == 1
    assert expected_receptive_field(vgg16_convolutional_part()) == 212
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
    (depth_mismatch,) = [case for case in conv if isinstance(case.expected, str)]
    layers = [case for case in conv if case is not depth_mismatch]
    assert {case.args[0].shape[0] for case in layers} == {1, 2, 3}
    assert {case.kwargs["stride"] for case in layers} == {1, 2, 3}
    assert {case.kwargs["padding"] for case in layers} == {0, 1, 2}
    assert any(case.args[1].shape[0] == case.args[1].shape[1] > 1 for case in layers)  # a square layer
    for case in layers:
        padding, stride = case.kwargs["padding"], case.kwargs["stride"]
        np.testing.assert_allclose(case.expected, scipy_conv2d(*case.args, padding, stride))
    x, w, _ = depth_mismatch.args
    assert depth_mismatch.expected == "ValueError" and x.shape[1] > w.shape[1]
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
