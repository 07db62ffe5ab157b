"""Notebook 05, VGG16: the checks of vgg16_table and vgg_block.

    check_vgg16_table   vgg16_table(input_shape=(3, 224, 224)) -> rows with name, output_shape,
                        params and macs, one per conv, pool and fully connected layer
    check_vgg_block     vgg_block(x, weights, biases): x (N, C, H, W), weights a list of
                        (C_out_i, C_in_i, 3, 3), biases a list of (C_out_i,) -> (N, C_out_n, H // 2, W // 2)

VGG16's configuration is written out here, in plain Python, so that no
notebook can change the expected table. A wrong row names its layer and the
idea behind it (fc6's input size, parameters for a pool, the multiply-adds,
the input_shape ignored); a wrong block the missing ReLU, pool or padding, the
ReLU before the bias, or a block cut short. VGG16_TABLE and VGG_BLOCK, at the
end, describe each exercise once for both checks.
"""

import math
import random

import numpy as np

import conv_lib
import conv_lib.models

from .codes import Misconception
from .conv_pool_stack import batch_candidates
from .conv_pool_stack_shapes import channel_ideas_that_fit, layer_mistakes, shown
from .exercise import Case, Exercise, grid
from .many_filters import conv_params_mistakes
from .plain import add, average, corr, output_size, plus, pooled, random_batch, rectified, shape_of
from .runner import Runner, is_number, is_whole
from .verdict import fail, idea_of, refuse, same, short_traceback, unexplained

#: VGG16, configuration D of Simonyan & Zisserman (2015): each number a 3x3 conv with
#: that many filters (stride 1, padding 1), each "M" a 2x2 max pool with stride 2;
#: then three fully connected layers. Written out here so that no notebook can change it.
_VGG16_D = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
_VGG16_FC = (4096, 4096, 1000)
_TABLE_KEYS = ("name", "output_shape", "params", "macs")


def _vgg16_rows(input_shape):
    """The expected table, one dict per conv, pool and fully connected layer, in plain Python.

    Keys: name, kind ("conv", "pool", "linear"), shape_in, output_shape, params, macs.
    """
    C, H, W = input_shape
    rows, block, index = [], 1, 0
    for entry in _VGG16_D:
        shape_in = (C, H, W)
        if entry == "M":
            H, W = output_size(H, 2, 0, 2), output_size(W, 2, 0, 2)
            rows.append(dict(name=f"pool{block}", kind="pool", shape_in=shape_in, output_shape=(C, H, W), params=0, macs=0))
            block, index = block + 1, 0
            continue
        index += 1
        H, W = output_size(H, 3, 1, 1), output_size(W, 3, 1, 1)
        rows.append(dict(name=f"conv{block}_{index}", kind="conv", shape_in=shape_in, output_shape=(entry, H, W),
                         params=entry * (C * 3 * 3 + 1), macs=H * W * entry * C * 3 * 3))
        C = entry
    n_in = C * H * W  # flatten
    for number, n_out in enumerate(_VGG16_FC, start=block):
        rows.append(dict(name=f"fc{number}", kind="linear", shape_in=(n_in,), output_shape=(n_out,),
                         params=n_out * (n_in + 1), macs=n_in * n_out))
        n_in = n_out
    return rows


def _table_rows(runner, answer):
    """The learner's rows as dicts with name, output_shape, params and macs; a Misconception if no table."""
    if answer is None:
        raise Misconception(["no-return"], f"{runner.name} returned None: did you forget `return`?")
    if not isinstance(answer, (list, tuple)):
        refuse(runner, ["not-a-table"],
                f"{runner.name} must return a list of rows, one per layer, got {type(answer).__name__}")
    keys = "each row is a dict with the keys 'name', 'output_shape', 'params' and 'macs'"
    rows = []
    for index, row in enumerate(answer):
        missing = [key for key in _TABLE_KEYS if (key not in row if isinstance(row, dict) else not hasattr(row, key))]
        if missing:
            refuse(runner, ["not-a-table"],
                    f"row {index} of the table ({type(row).__name__} {row!r:.60}) has no {' and no '.join(map(repr, missing))}: {keys}",
                    f"a row of the table has no {' and no '.join(map(repr, missing))}: {keys}")
        values = {key: row[key] if isinstance(row, dict) else getattr(row, key) for key in _TABLE_KEYS}
        name, shape = values["name"], values["output_shape"]
        if not isinstance(name, str):
            refuse(runner, ["not-a-table"], f"row {index} has the name {name!r}: a name is a string, such as 'conv1_1'",
                    "a row's name is not a string: names are strings such as 'conv1_1'")
        shape = shape.tolist() if isinstance(shape, np.ndarray) else shape
        if not isinstance(shape, (tuple, list)) or not shape or not all(is_number(value) for value in shape):
            refuse(runner, ["not-a-table"],
                    f"the output_shape of {name} is {shape!r}: a tuple of ints, such as (64, 224, 224), or (4096,) "
                    "for a fully connected layer",
                    f"the output_shape of {name} is not a tuple of ints, such as (C, H, W), or (n,) for a fully connected layer")
        if not all(is_whole(value) for value in shape):
            refuse(runner, ["output-size"], f"the output_shape of {name} is {shown(shape)}: sizes are whole numbers; "
                    "use // (floor division) so they stay ints",
                    f"the output_shape of {name} holds numbers that are not ints: use // (floor division)")
        for key in ("params", "macs"):
            if not is_whole(values[key]):
                refuse(runner, ["not-a-table"], f"{key} of {name} is {values[key]!r}: a count, an int",
                        f"{key} of {name} is not an int: it is a count")
        rows.append(dict(name=name.strip().lower(), output_shape=tuple(int(v) for v in shape),
                         params=int(values["params"]), macs=int(values["macs"])))
    return rows


def _known_rows(runner, rows, expected):
    """The learner's rows for VGG16's conv, pool and fc layers, in order; extra rows must count nothing."""
    names = [row["name"] for row in expected]
    for row in rows:
        if row["name"] in names or (row["params"] == 0 and row["macs"] == 0):
            continue
        if row["name"].startswith(("relu", "flatten", "drop")):
            refuse(runner, ["wrong-values"],
                    f"row {row['name']} has {row['params']:,} params and {row['macs']:,} macs: a ReLU, flatten or "
                    "dropout has no weights and does no multiply-accumulates, so both are zero",
                    f"row {row['name']} counts params or macs: a ReLU, flatten or dropout has no weights and does "
                    "no multiply-accumulates, so both are zero")
        refuse(runner, ["not-a-table"],
                f"row {row['name']!r} is no layer of VGG16: the rows are named conv1_1, conv1_2, pool1, conv2_1, "
                "..., pool5, fc6, fc7, fc8",
                "a row of the table is named after no layer of VGG16: the rows are named conv1_1, conv1_2, "
                "pool1, conv2_1, ..., pool5, fc6, fc7, fc8")
    known = [row for row in rows if row["name"] in names]
    found = [row["name"] for row in known]
    if found != names:
        missing = [name for name in names if name not in found]
        twice = [name for name in names if found.count(name) > 1]
        problem = (f"it has no row {missing[0]}" if missing else f"{twice[0]} comes twice" if twice
                   else "its rows are in another order")
        refuse(runner, ["not-a-table"],
                "the table needs one row per conv, pool and fully connected layer, named conv1_1, conv1_2, pool1, "
                f"conv2_1, ..., pool5, fc6, fc7, fc8, in this order (ReLU and flatten rows may be added): {problem}")
    return known


def _fc_input_mistakes(row, expected, input_shape):
    """(wrong n_in, why) for fc6: what else a learner may think flatten hands over."""
    if row["name"] != "fc6":
        return []
    C, H, W = next(other for other in expected if other["name"] == "pool5")["output_shape"]
    flat = C * H * W
    wrong = [
        (C, f"fc6's input is counted as the {C} channels of pool5: flatten hands over all of pool5's "
            f"C*H*W = {C}*{H}*{W} = {flat:,} numbers"),
        (H * W, f"fc6's input is counted as one channel's {H}*{W}: flatten hands over all "
                f"C*H*W = {C}*{H}*{W} = {flat:,} numbers"),
        (math.prod(input_shape), f"fc6's input is counted as the image's {'*'.join(map(str, input_shape))} numbers: "
                                 f"fc6 sees pool5's output, flattened, C*H*W = {flat:,}"),
        (512 * 7 * 7, "fc6's input is taken as 512*7*7 = 25,088, pool5's size for a 224 x 224 image: "
                      f"flatten pool5's output for this input, C*H*W = {flat:,}"),
    ]
    unique = []
    for value, why in wrong:
        if value != flat and value not in [seen for seen, _ in unique]:
            unique.append((value, why))
    return unique


def _params_mistakes(row, expected, input_shape):
    """(wrong params, codes, reason) for one row of the table."""
    if row["kind"] == "conv":
        return conv_params_mistakes(row["shape_in"][0], row["output_shape"][0], 3)
    n_in, n_out = row["shape_in"][0], row["output_shape"][0]
    mistakes = [
        (n_out * n_in, ["missing-bias"], "the biases are missing: each output number has one"),
        (n_out * n_in + 1, ["missing-bias"], "one bias for the whole layer: each output number has its own"),
    ]
    for wrong_n_in, why in _fc_input_mistakes(row, expected, input_shape):
        mistakes.append((n_out * (wrong_n_in + 1), ["fc-input-size"], why))
        mistakes.append((n_out * wrong_n_in, ["fc-input-size", "missing-bias"], why + "; and each output has a bias"))
    return mistakes


def _macs_mistakes(row, expected, input_shape):
    """(wrong macs, codes, reason) for one row of the table."""
    flops = (["macs-wrong"], "that counts FLOPs: a multiply-accumulate is one multiply and one add; FLOPs would be "
                             "twice. Count each multiply-add once")
    if row["kind"] == "conv":
        c_in, (c_out, Ho, Wo) = row["shape_in"][0], row["output_shape"]
        right = Ho * Wo * c_out * c_in * 9
        return [
            (2 * right, *flops),
            (c_out * c_in * 9, ["macs-wrong"], "counted once per output map instead of once per output number: each of "
                                               "the Ho*Wo*C_out output numbers takes C_in*k*k multiply-accumulates"),
            (Ho * Wo * c_in * 9, ["macs-wrong"], "that is one filter's count: each of the C_out filters makes its own map"),
            (Ho * Wo * c_out * 9, ["filter-depth"], "each output number sums over all C_in input channels: "
                                                     "C_in*k*k multiply-accumulates, not k*k"),
            (Ho * Wo * c_out * (c_in * 9 + 1), ["macs-wrong"], "the bias is counted: adding it is no multiply-accumulate; "
                                                                "count C_in*k*k per output number"),
        ]
    n_in, n_out = row["shape_in"][0], row["output_shape"][0]
    mistakes = [
        (2 * n_in * n_out, *flops),
        (n_out * (n_in + 1), ["macs-wrong"], "the bias is counted: adding it is no multiply-accumulate; count n_in per output"),
    ]
    for wrong_n_in, why in _fc_input_mistakes(row, expected, input_shape):
        mistakes.append((n_out * wrong_n_in, ["fc-input-size"], why))
    return mistakes


def _rule_words(row, column):
    """How the right count of one row is made, with its numbers."""
    if row["kind"] == "pool":
        return "0"
    if row["kind"] == "conv":
        c_in, (c_out, Ho, Wo) = row["shape_in"][0], row["output_shape"]
        if column == "params":
            return f"{c_out} filters x ({c_in}*3*3 weights + 1 bias) = {row['params']:,}"
        return f"{Ho}*{Wo} positions x {c_out} filters x {c_in}*3*3 multiply-accumulates = {row['macs']:,}"
    n_in, n_out = row["shape_in"][0], row["output_shape"][0]
    if column == "params":
        return f"{n_out} outputs x ({n_in:,} weights + 1 bias) = {row['params']:,}"
    return f"{n_in:,} inputs x {n_out} outputs = {row['macs']:,}"


def _row_mistakes(column, got, row, usual, expected, standard, input_shape):
    """(wrong count, codes, reason) for one row's params (or macs)."""
    mistakes = (_params_mistakes if column == "params" else _macs_mistakes)(row, expected, input_shape)
    if row["kind"] == "pool":
        mistakes = [(got[column], ["pool-has-params"],
                     "a max pool only compares numbers: it has no weights and does no multiply-accumulates")]
    if standard is not expected:
        mistakes.append((usual[column], ["input-shape-ignored"], "the count is the one for the default input: use input_shape"))
    return mistakes


def _check_table_column(runner, column, rows, known, expected, standard, input_shape):
    """The first row whose params (or macs) are wrong, named with the misconception behind it: one
    that gives the learner's count on every row of its kind where it applies, the right ones too."""
    table = list(zip(known, expected, standard))

    def fits(idea, kind):
        for got, row, usual in table:
            if row["kind"] != kind:
                continue
            answers = [value for value, codes, reason in _row_mistakes(column, got, row, usual, expected, standard,
                                                                       input_shape) if idea_of(codes, reason) == idea]
            if answers and got[column] not in answers:
                return False
        return True

    for got, row, usual in table:
        if got[column] == row[column]:
            continue
        mistakes = _row_mistakes(column, got, row, usual, expected, standard, input_shape)
        codes, reason = next(((codes, reason) for value, codes, reason in mistakes
                              if value == got[column] and fits(idea_of(codes, reason), row["kind"])),
                             (["wrong-values"], "count again: " + ("weights plus one bias per output" if column == "params"
                                                                  else "one multiply-accumulate per weight per output position")))
        total, right_total = sum(r[column] for r in rows), sum(r[column] for r in expected)
        if "fc-input-size" in codes:
            hidden_reason = ("fc6's input is pool5's output flattened, C*H*W numbers, and those depend on the input size"
                             + ("; and each output has a bias" if "missing-bias" in codes else ""))
        else:
            hidden_reason = reason
        refuse(runner, codes,
                f"vgg16_table's row {row['name']} has {got[column]:,} {column}, but it should be "
                f"{_rule_words(row, column)}: {reason}. (Your table's total is {total:,} {column}; it should be {right_total:,}.)",
                f"on a hidden input size, row {row['name']} has the wrong {column}: {hidden_reason}.")


def _layer_of(row):
    """A conv or pool row of VGG16's table as a layer spec of notebook 04."""
    return ("conv", row["output_shape"][0], 3, 1, 1) if row["kind"] == "conv" else ("pool", 2, 2)


def _as_stack(known, expected):
    """The learner's table's conv and pool rows as notebook 04's (input shape, layers, shapes)."""
    rows = [(got, row) for got, row in zip(known, expected) if row["kind"] in ("conv", "pool")]
    return (expected[0]["shape_in"], [_layer_of(row) for _, row in rows], [tuple(got["output_shape"]) for got, _ in rows])


def _check_table_shapes(runner, known, expected, standard):
    """The first row whose output_shape is wrong, named with the misconception behind it."""
    for got, row, usual in zip(known, expected, standard):
        given = got["output_shape"]
        if given == row["output_shape"]:
            continue
        if len(given) != len(row["output_shape"]):
            refuse(runner, ["not-a-table"],
                    f"the output_shape of {row['name']} is {given}: a conv or pool layer gives (C, H, W), a fully "
                    "connected layer (n,)")
        if standard is not expected and given == usual["output_shape"]:
            codes, reasons = ["input-shape-ignored"], ["the shapes are the ones for the default input: start from input_shape"]
        elif row["kind"] == "linear":
            codes, reasons = ["output-size"], ["a fully connected layer with n outputs gives n numbers, shape (n,)"]
        else:
            codes, reasons = layer_mistakes(_layer_of(row), row["shape_in"], given)
            codes, reasons = channel_ideas_that_fit(codes, reasons, [_as_stack(known, expected)])
        refuse(runner, codes,
                f"vgg16_table's row {row['name']} has output_shape {given}, but on an input of {row['shape_in']} "
                f"it gives {row['output_shape']}: {'; '.join(reasons)}.",
                f"on a hidden input size, row {row['name']} has the wrong output_shape: {'; '.join(reasons)}.")


def _vgg16_table_inputs(seed, hidden):
    """The input_shape of each call, None for the call without one (the default (3, 224, 224)).

    The visible check's other input is the sibling of every kind of hidden one: one
    channel, not square, and sizes that a pool halves to an odd number, so that a later
    pool rounds down (40 -> 20 -> 10 -> 5 -> 2 -> 1, 56 -> 28 -> 14 -> 7 -> 3 -> 1).
    """
    if not hidden:
        return [None, (1, 40, 56)]
    return [None, (3, 32, 32), random.Random(seed).choice([(3, 64, 64), (1, 64, 96), (3, 96, 96), (3, 100, 120), (1, 48, 48)])]


@short_traceback
def check_vgg16_table(vgg16_table, seed=0, hidden=False):
    """Check a learner's ``vgg16_table(input_shape=(3, 224, 224))``: one row per layer of VGG16.

    Each row is a dict (or an object with these attributes, like conv_lib.models.LayerRow)
    with name ("conv1_1", ..., "pool5", "fc6", "fc7", "fc8"), output_shape (a tuple),
    params and macs (ints). ReLU and flatten rows may be added with 0 params and 0 macs.
    Both checks call vgg16_table() and then vgg16_table(input_shape) with other input
    sizes (see _vgg16_table_inputs).
    """
    runner = Runner(vgg16_table, "vgg16_table", hidden, {"summary", "layer_params", "layer_macs", "layer_output_shape"},
                     ready_made="table (conv_lib.models)", numbers_hidden=True)
    standard = _vgg16_rows((3, 224, 224))
    for input_shape in _vgg16_table_inputs(seed, hidden):
        rows = _table_rows(runner, runner.call() if input_shape is None else runner.call(input_shape))
        input_shape = input_shape or (3, 224, 224)
        expected = _vgg16_rows(input_shape)
        known = _known_rows(runner, rows, expected)
        usual = standard if input_shape != (3, 224, 224) else expected
        _check_table_shapes(runner, known, expected, usual)
        for column in ("params", "macs"):
            _check_table_column(runner, column, rows, known, expected, usual, input_shape)


def _vgg_block(x, weights, biases, relu="each", bias=True, padding=1, convs=None, pool=max):
    """A VGG block on the batch x, in plain Python: each image through n x [3x3 conv, ReLU], then a pool.

    The defaults are the rule. The other values give the misconceptions: relu "none", "end"
    (after the last conv only) or "before-bias" (ReLU, then the bias); bias False; padding 0;
    convs 1 (only the first conv); pool None (no pool) or average (average pooling).
    """
    layers = list(zip(weights, biases))[:convs]
    out = []
    for image in x:
        maps = image
        for index, (w, b) in enumerate(layers):
            sums = [add(*[corr(maps[c], w[f][c], padding) for c in range(len(maps))]) for f in range(len(w))]
            if relu == "before-bias":
                maps = [plus(rectified(total), b[f] if bias else 0) for f, total in enumerate(sums)]
                continue
            maps = [plus(total, b[f] if bias else 0) for f, total in enumerate(sums)]
            if relu == "each" or (relu == "end" and index == len(layers) - 1):
                maps = [rectified(m) for m in maps]
        out.append([pooled(m, 2, 2, pool) for m in maps] if pool else maps)
    return out


def _vgg_block_cases(seed, hidden):
    """(x, weights, biases) cases; weights[i]: C_out_i filters of C_in_i kernels of 3x3."""
    generator = random.Random(seed)
    shapes = [(1, 1, 4, 4, [2]), (2, 2, 6, 6, [3, 2]), (1, 3, 8, 6, [2, 3, 2]), (2, 2, 7, 8, [2, 2])]
    if hidden:
        shapes = [(2, 3, 6, 8, [2, 3]), (1, 2, 8, 8, [3, 2, 2]), (2, 1, 4, 6, [3]), (1, 2, 5, 7, [2, 2])]
    cases = []
    for N, C, rows, columns, filters in shapes:
        x = random_batch(generator, N, C, rows, columns)
        weights, biases, channels = [], [], C
        for count in filters:
            weights.append(random_batch(generator, count, channels, 3, 3, -2, 2))
            biases.append([generator.randint(-4, 2) + 0.5 for _ in range(count)])
            channels = count
        cases.append((x, weights, biases))
    return cases


def _vgg_block_candidates(x, weights, biases, expected):
    """What a learner holding each misconception would return for vgg_block."""
    n, rows, columns = len(weights), len(x[0][0]), len(x[0][0][0])

    def block(**options):
        return _vgg_block(x, weights, biases, **options)

    yield from batch_candidates("vgg_block", expected)
    yield (["pool-missing"], block(pool=None),
           "vgg_block leaves out the max pool: after the convolutions a 2x2 max pool with stride 2 halves the height and the width")
    yield ["relu-missing"], block(relu="none"), "vgg_block has no ReLU: each convolution is followed by a ReLU, max(x, 0)"
    if n > 1:
        yield (["relu-missing"], block(relu="end"),
               "vgg_block applies the ReLU only at the end: each convolution is followed by its own ReLU, "
               "before the next convolution sees its output")
    yield (["relu-before-bias"], block(relu="before-bias"),
           "vgg_block applies the ReLU before adding the bias: the bias belongs to the convolution, relu(conv + b)")
    yield ["missing-bias"], block(bias=False), "vgg_block leaves out the biases: convolution i adds biases[i][f] to its map f"
    if n > 1:
        yield (["block-incomplete"], block(convs=1),
               "vgg_block applies only the first convolution: the block runs all of them in turn, each on "
               "the output of the one before")
    if min(rows, columns) >= 2 * n + 2:
        yield (["padding-missing"], block(padding=0),
               "vgg_block does not pad: each 3x3 convolution uses padding 1, which keeps the height and the width")
    yield ["avg-not-max"], block(pool=average), "vgg_block averages each window: the block ends with a max pool"


def _vgg_block_size_mistake(given, x, weights, expected):
    """(codes, explanation) when only the height and width of the answer are wrong in a known way, else None."""
    n, rows, columns = len(weights), len(x[0][0]), len(x[0][0][0])
    shape = shape_of(expected)
    if given.ndim != 4 or given.shape[:2] != shape[:2]:
        return None
    if given.shape[2:] == (rows, columns):
        return ["pool-missing"], ("vgg_block keeps the height and the width: the block ends with a 2x2 max pool "
                                  "with stride 2, which halves them")
    if given.shape[2:] == ((rows - 2 * n) // 2, (columns - 2 * n) // 2):
        return ["padding-missing"], ("vgg_block's convolutions shrink the maps: each 3x3 convolution uses padding 1, "
                                     "which keeps the height and the width")
    return None


def _fits(mistake, entry):
    """Does the mistake (codes, explanation) give the learner's answer in this case, where it applies?"""
    x, weights, biases, given, expected = entry
    answers = [answer for codes, answer, explanation in _vgg_block_candidates(x, weights, biases, expected)
               if (codes, explanation) == mistake]
    return not answers or any(same(given, answer) for answer in answers)


@short_traceback
def check_vgg_block(vgg_block, seed=0, hidden=False, picture=None):
    """Check a learner's ``vgg_block(x, weights, biases)``; raise Misconception if wrong.

    vgg_block: x (N, C, H, W); weights a list of n arrays (C_out_i, C_in_i, 3, 3); biases a
    list of n arrays (C_out_i,) -> n x [3x3 conv with padding 1, ReLU], then a 2x2 max pool
    with stride 2: (N, C_out_n, H // 2, W // 2). Calling conv_lib's conv2d, relu and
    max_pool2d is allowed. Arguments as in check_conv2d.
    """
    runner = Runner(
        vgg_block, "vgg_block", hidden, None, numbers_hidden=True,
        hint=". weights[i] has shape (C_out, C_in, 3, 3) and biases[i] shape (C_out,); each convolution uses "
             "padding 1 and is followed by a ReLU; then a 2x2 max pool with stride 2.",
    )
    answered = []  # (x, weights, biases, given, expected) for each case
    for x, weights, biases in _vgg_block_cases(seed, hidden):
        try:
            given = runner.array(np.array(x, dtype=float), [np.array(w, dtype=float) for w in weights],
                                 [np.array(b, dtype=float) for b in biases])
        except Misconception:
            if any(not same(entry[3], entry[4]) for entry in answered):
                break  # explain the wrong answer already given
            raise
        answered.append((x, weights, biases, given, _vgg_block(x, weights, biases)))
    wrong = [entry for entry in answered if not same(entry[3], entry[4])]
    if not wrong:
        return
    x, weights, biases, given, expected = wrong[0]
    matches = [(codes, explanation) for codes, answer, explanation in _vgg_block_candidates(x, weights, biases, expected)
               if same(given, answer)]
    if matches:
        # One case can fit two mistakes (when every window holds a positive number, a ReLU
        # before the bias looks like no ReLU at all): name the one that fits every case.
        codes, explanation = next((match for match in matches if all(_fits(match, entry) for entry in answered)), matches[0])
        fail(runner, codes, explanation, expected, given, picture)
    mistake = _vgg_block_size_mistake(given, x, weights, expected)
    if mistake is not None:
        fail(runner, mistake[0], mistake[1], expected, given, picture)
    case = f"x of shape {shape_of(x)} and {len(weights)} convolution(s) with weights of shapes {[shape_of(w) for w in weights]}"
    unexplained(runner, case, given, expected, picture)


# --------------------------------------------------------------------------
# The independent check's cases: inputs chosen by the grader, expected answers
# made with conv_lib in the grader's own process (autograder/integrity.py),
# never in the learner's kernel. Never stricter than the checks above.
# --------------------------------------------------------------------------


TABLE_KINDS = ("conv", "pool", "linear")


def table_row(output_shape, params, macs):
    """[params, macs, C, H, W] of one layer; a flat output shape (n,) is written [params, macs, n, 1, 1]."""
    return [params, macs, *output_shape, *[1] * (3 - len(output_shape))]


def vgg16_table_case(args, input_shape):
    """The case vgg16_table(*args) on input_shape: a table_row per conv, pool and fully
    connected layer of conv_lib.models.summary(vgg16(), input_shape), int64 (21, 5)
    since params and macs exceed int32; its row_names are those layers' names."""
    rows = [row for row in conv_lib.models.summary(conv_lib.models.vgg16(), input_shape) if row.kind in TABLE_KINDS]
    expected = np.array([table_row(row.output_shape, row.params, row.macs) for row in rows], dtype=np.int64)
    return Case("vgg16_table", "vgg16_table", args, {}, expected, result="table",
                row_names=tuple(row.name for row in rows))


def vgg16_table_independent_cases(rng):
    """(): the default input (3, 224, 224); (input_shape,): another image size among
    those of check_vgg16_table's hidden check (passed by position, as there)."""
    other = [(3, 32, 32), (3, 64, 64), (1, 64, 96), (3, 96, 96), (3, 100, 120)][int(rng.integers(5))]
    return [vgg16_table_case((), (3, 224, 224)), vgg16_table_case((other,), other)]


def expected_vgg_block(x, weights, biases):
    """(N, C_last, H // 2, W // 2): [3x3 conv with padding 1, ReLU] per (w, b), then a 2x2 max pool with stride 2."""
    for w, b in zip(weights, biases):
        x = conv_lib.relu(conv_lib.conv2d_reference(x, w, b, padding=1))
    return conv_lib.max_pool2d_reference(x, 2, 2)


def vgg_block_independent_cases(rng):
    """(x, weights, biases): x (N, C, H, W); weights a list of (C_out_i, C_in_i, 3, 3),
    biases a list of (C_out_i,); one, two and three convolutions, odd sizes too."""
    cases = []
    for N, channels, H, W in [
        (1, (1, 2), 4, 4),
        (2, (3, 2, 3), 6, 5),
        (1, (2, 3, 1, 2), 8, 7),
        (2, (3, 3), 5, 8),
    ]:
        x = grid(rng, N, channels[0], H, W)
        weights = [grid(rng, c_out, c_in, 3, 3) for c_in, c_out in zip(channels, channels[1:])]
        biases = [rng.integers(-3, 3, size=c_out) + 0.5 for c_out in channels[1:]]
        cases.append(Case("vgg_block", "vgg_block", (x, weights, biases), {}, expected_vgg_block(x, weights, biases)))
    return cases


# --------------------------------------------------------------------------
# The exercises of notebook 05, each described once for both checks
# --------------------------------------------------------------------------

VGG16_TABLE = Exercise(
    "05_vgg16", "vgg16_table",
    "vgg16_table(input_shape=(3, 224, 224)) -> [row, ...]: name, output_shape, params, macs",
    check_vgg16_table, vgg16_table_independent_cases,
)

VGG_BLOCK = Exercise(
    "05_vgg16", "vgg_block",
    "vgg_block(x, weights, biases): x (N, C, H, W) -> (N, C_out, H // 2, W // 2)",
    check_vgg_block, vgg_block_independent_cases,
)
