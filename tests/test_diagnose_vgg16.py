"""Notebook 05: each wrong idea about VGG16's table and a VGG block is named by exactly its code.

As in tests/test_diagnose_stack.py (notebook 04, whose right conv2d and pooling in
plain numpy loops the blocks here are built from): each wrong implementation earns
exactly the codes listed, in the visible and the hidden check; the right ones
pass both for several seeds. The hand-computed numbers of VGG16 (torchvision's
totals) are checked on their own.
"""

import numpy as np
import pytest

import conv_lib
from conv_lib import diagnose
from conv_lib.diagnose import Misconception
from conv_lib.models import LayerRow
from misconception_tools import assert_crash_reported, codes_of, failure, table_tests
from test_diagnose_stack import VGG16_BLOCKS, conv2d_right, pool_loops

# --------------------------------------------------------------------------
# Notebook 05: vgg16_table(input_shape=(3, 224, 224))
# --------------------------------------------------------------------------

def vgg16_table_with(conv_params=lambda c_in, c_out: c_out * (c_in * 9 + 1),
                     conv_macs=lambda h, w, c_in, c_out: h * w * c_out * c_in * 9,
                     fc_params=lambda n_in, n_out: n_out * (n_in + 1),
                     fc_macs=lambda n_in, n_out: n_in * n_out,
                     fc6_input=lambda c, h, w, image: c * h * w,
                     pool=lambda c, h, w: (c, h // 2, w // 2),
                     pool_params=lambda c: 0,
                     padding=1,
                     ignore_input=False,
                     row=lambda name, shape, params, macs: {"name": name, "output_shape": shape, "params": params, "macs": macs},
                     relu_rows=False):
    """A vgg16_table written with plain loops; each argument can hold one misconception."""

    def vgg16_table(input_shape=(3, 224, 224)):
        image = (3, 224, 224) if ignore_input else tuple(input_shape)
        c, h, w = image
        rows = []
        for block, (filters, convs) in enumerate(VGG16_BLOCKS, start=1):
            for index in range(1, convs + 1):
                h, w = h + 2 * padding - 2, w + 2 * padding - 2
                rows.append(row(f"conv{block}_{index}", (filters, h, w), conv_params(c, filters), conv_macs(h, w, c, filters)))
                if relu_rows:
                    rows.append(row(f"relu{block}_{index}", (filters, h, w), 0, 0))
                c = filters
            c, h, w = pool(c, h, w)
            rows.append(row(f"pool{block}", (c, h, w), pool_params(c), 0))
        n_in = fc6_input(c, h, w, image)
        if relu_rows:
            rows.append(row("flatten", (c * h * w,), 0, 0))
        for number, n_out in zip((6, 7, 8), (4096, 4096, 1000)):
            rows.append(row(f"fc{number}", (n_out,), fc_params(n_in, n_out), fc_macs(n_in, n_out)))
            n_in = n_out
        return rows

    return vgg16_table


vgg16_table_right = vgg16_table_with()
vgg16_table_layer_rows = vgg16_table_with(
    row=lambda name, shape, params, macs: LayerRow(name, name.rstrip("_0123456789"), shape, params, macs), relu_rows=True)
vgg16_table_no_bias = vgg16_table_with(conv_params=lambda c_in, c_out: c_out * c_in * 9)
vgg16_table_bias_per_channel = vgg16_table_with(conv_params=lambda c_in, c_out: c_out * c_in * 10)
vgg16_table_flat_filters = vgg16_table_with(conv_params=lambda c_in, c_out: c_out * 10)
vgg16_table_fc6_sees_channels = vgg16_table_with(fc6_input=lambda c, h, w, image: c)
vgg16_table_fc6_sees_the_image = vgg16_table_with(fc6_input=lambda c, h, w, image: int(np.prod(image)))
vgg16_table_fc6_hard_coded = vgg16_table_with(fc6_input=lambda c, h, w, image: 25088)
vgg16_table_pool_params = vgg16_table_with(pool_params=lambda c: c * 4)
vgg16_table_pools_keep_size = vgg16_table_with(pool=lambda c, h, w: (c, h, w), fc6_input=lambda c, h, w, image: 25088)
vgg16_table_no_padding = vgg16_table_with(padding=0)
vgg16_table_macs_per_map = vgg16_table_with(conv_macs=lambda h, w, c_in, c_out: c_out * c_in * 9)
vgg16_table_flops = vgg16_table_with(conv_macs=lambda h, w, c_in, c_out: 2 * h * w * c_out * c_in * 9,
                                     fc_macs=lambda n_in, n_out: 2 * n_in * n_out)
vgg16_table_ignores_input = vgg16_table_with(ignore_input=True)
vgg16_table_of_tuples = vgg16_table_with(row=lambda name, shape, params, macs: (name, shape, params, macs))


def vgg16_table_relu_with_params(input_shape=(3, 224, 224)):
    rows = vgg16_table_right(input_shape)
    return rows[:1] + [{"name": "relu1_1", "output_shape": rows[0]["output_shape"], "params": 64, "macs": 0}] + rows[1:]


def vgg16_table_without_pool3(input_shape=(3, 224, 224)):
    return [row for row in vgg16_table_right(input_shape) if row["name"] != "pool3"]


def vgg16_table_as_dict(input_shape=(3, 224, 224)):
    return {row["name"]: row for row in vgg16_table_right(input_shape)}


def vgg16_table_from_the_library(input_shape=(3, 224, 224)):
    from conv_lib.models import summary, vgg16

    return list(summary(vgg16(), input_shape))


# --------------------------------------------------------------------------
# Notebook 05: vgg_block(x, weights, biases)
# --------------------------------------------------------------------------


def block_with(relu="each", bias=True, padding=1, convs=None, pool=np.max):
    """A vgg_block written with plain loops; each argument can hold one misconception."""

    def vgg_block(x, weights, biases):
        layers = list(zip(weights, biases))[:convs]
        for index, (w, b) in enumerate(layers):
            b = b if bias else np.zeros_like(b)
            if relu == "before-bias":
                x = np.maximum(conv2d_right(x, w, np.zeros_like(b), padding=padding), 0) + b[None, :, None, None]
                continue
            x = conv2d_right(x, w, b, padding=padding)
            if relu == "each" or (relu == "end" and index == len(layers) - 1):
                x = np.maximum(x, 0)
        return pool_loops(x, 2, 2, pool) if pool is not None else x

    return vgg_block


vgg_block_right = block_with()


def vgg_block_with_the_library(x, weights, biases):
    for w, b in zip(weights, biases):
        x = conv_lib.relu(conv_lib.conv2d(x, w, b, padding=1))
    return conv_lib.max_pool2d(x, 2, 2)


vgg_block_no_relu = block_with(relu="none")
vgg_block_relu_at_the_end = block_with(relu="end")
vgg_block_relu_before_bias = block_with(relu="before-bias")
vgg_block_no_bias = block_with(bias=False)
vgg_block_no_padding = block_with(padding=0)
vgg_block_first_conv_only = block_with(convs=1)
vgg_block_no_pool = block_with(pool=None)
vgg_block_average_pool = block_with(pool=np.mean)


# --------------------------------------------------------------------------
# The table of checks, right answers and misconceptions
# --------------------------------------------------------------------------

CHECKS = {
    "vgg16_table": diagnose.check_vgg16_table,
    "vgg_block": diagnose.check_vgg_block,
}

RIGHT = [
    ("vgg16_table", vgg16_table_right),
    ("vgg16_table", vgg16_table_layer_rows),
    ("vgg_block", vgg_block_right),
    ("vgg_block", vgg_block_with_the_library),
]

# (function graded, wrong implementation, codes in the visible check (None: it passes), codes in the hidden check)
WRONG = [
    ("vgg16_table", vgg16_table_no_bias, ("missing-bias",), ("missing-bias",)),
    ("vgg16_table", vgg16_table_bias_per_channel, ("bias-per-channel",), ("bias-per-channel",)),
    ("vgg16_table", vgg16_table_flat_filters, ("filter-depth",), ("filter-depth",)),
    ("vgg16_table", vgg16_table_fc6_sees_channels, ("fc-input-size",), ("fc-input-size",)),
    ("vgg16_table", vgg16_table_fc6_sees_the_image, ("fc-input-size",), ("fc-input-size",)),
    ("vgg16_table", vgg16_table_fc6_hard_coded, ("fc-input-size",), ("fc-input-size",)),
    ("vgg16_table", vgg16_table_pool_params, ("pool-has-params",), ("pool-has-params",)),
    ("vgg16_table", vgg16_table_pools_keep_size, ("output-size",), ("output-size",)),
    ("vgg16_table", vgg16_table_no_padding, ("output-size",), ("output-size",)),
    ("vgg16_table", vgg16_table_macs_per_map, ("macs-wrong",), ("macs-wrong",)),
    ("vgg16_table", vgg16_table_flops, ("macs-wrong",), ("macs-wrong",)),
    ("vgg16_table", vgg16_table_ignores_input, ("input-shape-ignored",), ("input-shape-ignored",)),
    ("vgg16_table", vgg16_table_of_tuples, ("not-a-table",), ("not-a-table",)),
    ("vgg16_table", vgg16_table_without_pool3, ("not-a-table",), ("not-a-table",)),
    ("vgg16_table", vgg16_table_as_dict, ("not-a-table",), ("not-a-table",)),
    ("vgg16_table", vgg16_table_relu_with_params, ("wrong-values",), ("wrong-values",)),
    ("vgg16_table", vgg16_table_from_the_library, ("reference-call",), ("reference-call",)),
    ("vgg_block", vgg_block_no_relu, ("relu-missing",), ("relu-missing",)),
    ("vgg_block", vgg_block_relu_at_the_end, ("relu-missing",), ("relu-missing",)),
    ("vgg_block", vgg_block_relu_before_bias, ("relu-before-bias",), ("relu-before-bias",)),
    ("vgg_block", vgg_block_no_bias, ("missing-bias",), ("missing-bias",)),
    ("vgg_block", vgg_block_no_padding, ("padding-missing",), ("padding-missing",)),
    ("vgg_block", vgg_block_first_conv_only, ("block-incomplete",), ("block-incomplete",)),
    ("vgg_block", vgg_block_no_pool, ("pool-missing",), ("pool-missing",)),
    ("vgg_block", vgg_block_average_pool, ("avg-not-max",), ("avg-not-max",)),
]

HIDDEN_SEEDS = [7, 41, 123]


# Right answers pass; each misconception earns exactly its codes, in the visible and the hidden
# check; a hidden failure shows no inputs; an empty exercise raises NotImplementedError; every
# check is fast enough for a notebook (misconception_tools.table_tests).
(test_a_right_implementation_passes_visible_and_hidden_checks, test_each_misconception_is_named_by_exactly_its_code,
 test_hidden_failures_reveal_no_inputs_or_expected_values, test_a_still_empty_exercise_fails_with_not_implemented_error,
 test_every_check_takes_well_under_a_second) = table_tests(CHECKS, RIGHT, WRONG, hidden_seeds=HIDDEN_SEEDS)


# --------------------------------------------------------------------------
# Crashes and pictures
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name, crashing, shown", [
    ("vgg16_table", lambda input_shape=(3, 224, 224): input_shape[99], r"vgg16_table\(\)"),
    ("vgg_block", lambda x, weights, biases: weights[99],
     r"vgg_block\(array of shape \(1, 1, 4, 4\), \[array of shape \(2, 1, 3, 3\)\], \[array"),
])
def test_a_crash_is_reported_with_the_learners_error(name, crashing, shown):
    assert_crash_reported(CHECKS[name], crashing, shown)


def test_the_course_picture_can_draw_a_visible_failure_of_a_block():
    plots = pytest.importorskip("conv_lib.plots")
    with pytest.raises(Misconception):
        diagnose.check_vgg_block(vgg_block_no_pool, picture=plots.show_mismatch)
    plots.plt.close("all")


def test_hidden_checks_draw_nothing():
    with pytest.raises(Misconception):
        diagnose.check_vgg_block(vgg_block_no_relu, seed=5, hidden=True, picture=pytest.fail)


# --------------------------------------------------------------------------
# What the messages say
# --------------------------------------------------------------------------


def message(check, function, **options):
    return str(failure(check, function, **options))


def test_flops_are_told_apart_from_multiply_accumulates():
    text = message(diagnose.check_vgg16_table, vgg16_table_flops)
    assert text.startswith("[macs-wrong] vgg16_table's row conv1_1 has 173,408,256 macs, but it should be "
                           "224*224 positions x 64 filters x 3*3*3 multiply-accumulates = 86,704,128")
    assert "a multiply-accumulate is one multiply and one add; FLOPs would be twice" in text
    assert text.endswith("(Your table's total is 30,940,528,640 macs; it should be 15,470,264,320.)")


def test_fc6_counted_as_512_inputs_is_told_the_flattened_size():
    text = message(diagnose.check_vgg16_table, vgg16_table_fc6_sees_channels)
    assert text.startswith("[fc-input-size] vgg16_table's row fc6 has 2,101,248 params, but it should be "
                           "4096 outputs x (25,088 weights + 1 bias) = 102,764,544")
    assert "C*H*W = 512*7*7 = 25,088" in text


def test_a_table_missing_a_row_says_which():
    assert message(diagnose.check_vgg16_table, vgg16_table_without_pool3).endswith(": it has no row pool3")


def test_a_table_of_tuples_says_what_a_row_is():
    assert "each row is a dict with the keys 'name', 'output_shape', 'params' and 'macs'" in message(
        diagnose.check_vgg16_table, vgg16_table_of_tuples)


def test_a_vgg_block_without_relu_says_where_the_relu_goes():
    assert message(diagnose.check_vgg_block, vgg_block_no_relu) == (
        "[relu-missing] vgg_block has no ReLU: each convolution is followed by a ReLU, max(x, 0)")


def test_checks_do_not_trust_the_library_the_notebook_may_have_replaced(monkeypatch):
    import conv_lib.models

    monkeypatch.setattr(conv_lib, "conv2d", lambda *args, **kwargs: np.zeros((1, 1, 1, 1)))
    monkeypatch.setattr(conv_lib, "max_pool2d", lambda *args, **kwargs: np.zeros((1, 1, 1, 1)))
    monkeypatch.setattr(conv_lib.models, "VGG16_CONV_CONFIG", (64, "M"), raising=False)
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    assert codes_of(diagnose.check_vgg16_table, vgg16_table_right) is None


# --------------------------------------------------------------------------
# Hand-computed numbers, independent of conv_lib.diagnose
# --------------------------------------------------------------------------


def test_the_vgg16_table_has_torchvisions_totals_and_rows():
    rows = {row["name"]: row for row in vgg16_table_right()}
    assert sum(row["params"] for row in rows.values()) == 138_357_544
    assert sum(row["params"] for name, row in rows.items() if name.startswith("conv")) == 14_714_688
    assert sum(row["macs"] for row in rows.values()) == 15_470_264_320
    assert (rows["conv1_1"]["output_shape"], rows["conv1_1"]["params"], rows["conv1_1"]["macs"]) == ((64, 224, 224), 1_792, 86_704_128)
    assert (rows["conv2_1"]["output_shape"], rows["conv2_1"]["params"]) == ((128, 112, 112), 73_856)
    assert rows["pool5"]["output_shape"] == (512, 7, 7)
    assert (rows["fc6"]["output_shape"], rows["fc6"]["params"]) == ((4096,), 102_764_544)
    assert (rows["fc8"]["output_shape"], rows["fc8"]["params"]) == ((1000,), 4_097_000)
    small = {row["name"]: row for row in vgg16_table_right((3, 32, 32))}
    assert small["pool5"]["output_shape"] == (512, 1, 1) and small["fc6"]["params"] == 4096 * (512 + 1)


def test_a_table_off_by_one_anywhere_fails():
    def fc8_one_short(input_shape=(3, 224, 224)):
        rows = vgg16_table_right(input_shape)
        rows[-1]["params"] -= 1
        return rows

    assert codes_of(diagnose.check_vgg16_table, fc8_one_short) == ("wrong-values",)
