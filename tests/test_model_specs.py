"""Networks as plain data (conv_lib.models: vgg16, vgg11, tiny_vgg, summary,
init_params, forward) give the published numbers and the right outputs.

The parameter counts are torchvision's (VGG16 138,357,544, of which the 13
convolutions hold 14,714,688; VGG11 132,863,336), and the forward pass is
checked against scipy's correlate and plain numpy, layer by layer.
"""

import numpy as np
import pytest
from scipy.signal import correlate

from conv_lib.models import forward, init_params, layer_output_shape, summary, tiny_vgg, vgg11, vgg16


def test_vgg16_has_torchvisions_138_357_544_parameters_14_714_688_in_its_convolutions():
    rows = summary(vgg16())
    assert rows.params == 138_357_544
    assert sum(row.params for row in rows if row.kind == "conv") == 14_714_688
    assert summary(vgg11()).params == 132_863_336


def test_the_two_layers_that_confuse_newcomers():
    rows = {row.name: row for row in summary(vgg16())}
    # 64 filters of 3x3x3 (+1 bias each) on the 3-channel image: 64 maps
    assert (rows["conv1_1"].params, rows["conv1_1"].output_shape) == (64 * (3 * 3 * 3 + 1), (64, 224, 224))
    assert rows["conv1_1"].params == 1_792
    # after pooling, 128 filters of 3x3x64: 128 maps, not 64 x 128 = 8192
    assert (rows["conv2_1"].params, rows["conv2_1"].output_shape) == (73_856, (128, 112, 112))
    assert rows["pool1"].output_shape == (64, 112, 112)


def test_vgg16_needs_about_15_5_billion_multiply_adds():
    rows = summary(vgg16())
    assert rows.macs == 15_470_264_320
    assert {row.name: row.macs for row in rows}["conv1_1"] == 224 * 224 * 64 * 27
    assert {row.name: row.macs for row in rows}["fc6"] == 25_088 * 4_096


def test_the_fully_connected_layers_hold_most_parameters_and_the_convolutions_most_work():
    rows = summary(vgg16())
    fc = [row for row in rows if row.kind == "linear"]
    assert [row.name for row in fc] == ["fc6", "fc7", "fc8"]
    assert sum(row.params for row in fc) == 138_357_544 - 14_714_688
    assert sum(row.macs for row in rows if row.kind == "conv") > 0.99 * rows.macs


def test_the_summary_prints_a_table_with_totals():
    text = str(summary(tiny_vgg(), (1, 16, 16)))
    assert text.splitlines()[0].split() == ["layer", "output", "shape", "parameters", "multiply-adds", "activations", "MB"]
    # activations: 8x16x16 twice, 8x8x8, 16x8x8 twice, 16x4x4 and 10 outputs = 6,922 values x 4 bytes = 0.028 MB
    assert text.splitlines()[-1].split() == ["total", "6,722", "389,632", "0.028"]


# --- activation memory: each output's values x 4 bytes (float32), per image ----------------------------


def test_conv1_1s_output_takes_12_8_mb_per_image_in_float32():
    rows = {row.name: row for row in summary(vgg16())}
    assert rows["conv1_1"].activation_bytes == 64 * 224 * 224 * 4 == 12_845_056
    assert rows["conv1_1"].activation_mb == pytest.approx(12.845056)
    assert rows["pool1"].activation_bytes == 64 * 112 * 112 * 4
    assert rows["conv5_3"].activation_bytes == 512 * 14 * 14 * 4
    assert rows["fc8"].activation_bytes == 1000 * 4


def test_a_relu_or_a_flatten_takes_no_memory_of_its_own():
    rows = {row.name: row for row in summary(vgg16())}
    assert rows["relu1_1"].activation_bytes == 0  # it overwrites conv1_1's output in place
    assert rows["flatten"].activation_bytes == 0  # the same numbers read as one vector


def test_vgg16s_activations_take_60_mb_per_image_most_of_them_in_block_1():
    rows = summary(vgg16())
    values = (2 * 64 * 224 * 224 + 64 * 112 * 112          # block 1: conv1_1, conv1_2, pool1
              + 2 * 128 * 112 * 112 + 128 * 56 * 56        # block 2
              + 3 * 256 * 56 * 56 + 256 * 28 * 28          # block 3
              + 3 * 512 * 28 * 28 + 512 * 14 * 14          # block 4
              + 3 * 512 * 14 * 14 + 512 * 7 * 7            # block 5
              + 4096 + 4096 + 1000)                        # fc6, fc7, fc8
    assert values == 15_087_080
    assert rows.activation_bytes == 4 * values == 60_348_320
    block_1 = sum(row.activation_bytes for row in rows[:5])  # conv1_1, relu1_1, conv1_2, relu1_2, pool1
    assert block_1 == 4 * (2 * 64 * 224 * 224 + 64 * 112 * 112) and block_1 > 0.45 * rows.activation_bytes
    fc = sum(row.activation_bytes for row in rows if row.kind == "linear")
    assert fc < 0.001 * rows.activation_bytes  # where most parameters are, hardly any activations


def test_the_summary_table_shows_each_layers_activation_megabytes():
    lines = {line.split()[0]: line.split() for line in str(summary(vgg16())).splitlines()}
    assert lines["conv1_1"][-1] == "12.8" and lines["relu1_1"][-1] == "0" and lines["pool5"][-1] == "0.100"
    assert lines["total"][-1] == "60.3"
    html = summary(vgg16())._repr_html_()
    assert "<th style=\"text-align:right\">activations (MB, float32)</th>" in html
    assert "<td style=\"text-align:right\">12.8</td>" in html and "<b>60.3</b>" in html


def test_shapes_flow_through_conv_pool_flatten_and_linear():
    assert layer_output_shape(("conv", 8, 3, 2, 1), (3, 9, 9)) == (8, 5, 5)
    assert layer_output_shape(("pool", 2, 2), (8, 5, 5)) == (8, 2, 2)
    assert layer_output_shape(("flatten",), (8, 2, 2)) == (32,)
    assert layer_output_shape(("linear", 10), (32,)) == (10,)


def test_a_linear_layer_on_maps_asks_for_flatten_first():
    with pytest.raises(ValueError, match="flatten"):
        summary([("linear", 10)], (3, 8, 8))


def test_an_unknown_layer_kind_names_the_known_ones():
    with pytest.raises(ValueError, match="conv, pool, relu, flatten, linear"):
        summary([("dense", 10)], (3, 8, 8))


def test_he_initialisation_has_standard_deviation_sqrt_2_over_fan_in():
    params = init_params(vgg16()[:3], (3, 32, 32), np.random.default_rng(0), dtype=np.float64)
    (w1, b1), (w2, b2) = params
    assert w1.shape == (64, 3, 3, 3) and w2.shape == (64, 64, 3, 3)
    assert not b1.any() and not b2.any()
    assert w2.std() == pytest.approx(np.sqrt(2 / (64 * 9)), rel=0.02)
    assert init_params(vgg16()[:1], (3, 8, 8), np.random.default_rng(0))[0][0].dtype == np.float32


def test_forward_matches_scipy_and_numpy_layer_by_layer(rng):
    layers = [("conv", 4, 3, 1, 1), ("relu",), ("pool", 2, 2), ("conv", 5, 3, 2, 0), ("flatten",), ("linear", 3)]
    params = init_params(layers, (2, 8, 8), rng, dtype=np.float64)
    x = rng.standard_normal((2, 2, 8, 8))

    def conv(images, w, b, stride, padding):
        padded = np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        out = np.stack([[correlate(image, w[f], mode="valid")[0] + b[f] for f in range(len(w))] for image in padded])
        return out[:, :, ::stride, ::stride]

    (w1, b1), (w2, b2), (w3, b3) = params
    expected = np.maximum(conv(x, w1, b1, 1, 1), 0)
    expected = expected.reshape(2, 4, 4, 2, 4, 2).max(axis=(3, 5))
    expected = conv(expected, w2, b2, 2, 0).reshape(2, -1) @ w3.T + b3
    np.testing.assert_allclose(forward(layers, params, x), expected, rtol=1e-10, atol=1e-12)


def test_tiny_vgg_runs_on_a_batch_of_digits_sized_images(rng):
    layers = tiny_vgg()
    out = forward(layers, init_params(layers, (1, 16, 16), rng), rng.standard_normal((5, 1, 16, 16)).astype(np.float32))
    assert out.shape == (5, 10) and out.dtype == np.float32


@pytest.mark.parametrize("bad, form", [
    (("conv", 8, 3), "('conv', c_out, k, stride, padding) (5 entries)"),
    (("pool", 2), "('pool', size, stride) (3 entries)"),
    (("relu", 1), "('relu',) (1 entry)"),
    (("linear",), "('linear', n_out) (2 entries)"),
])
def test_a_spec_with_the_wrong_number_of_entries_is_refused_with_its_form(bad, form):
    with pytest.raises(ValueError) as error:
        summary([bad], (3, 8, 8))
    assert form in str(error.value) and repr(bad) in str(error.value)


def test_a_conv_spec_with_a_sixth_entry_is_grouped_and_the_message_names_both_forms():
    assert summary([("conv", 8, 3, 1, 1, 4)], (4, 8, 8)).params == 8 * (1 * 9 + 1)
    with pytest.raises(ValueError) as error:
        summary([("conv", 8, 3, 1, 1, 4, 2)], (4, 8, 8))
    assert "('conv', c_out, k, stride, padding) (5 entries)" in str(error.value)
    assert "('conv', c_out, k, stride, padding, groups) (6 entries)" in str(error.value)
