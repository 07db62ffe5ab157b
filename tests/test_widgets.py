"""The lecture demo, driven in-process: every control changes what the rule says it should."""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.signal  # noqa: E402
from PIL import Image  # noqa: E402

from conv_lib import conv2d_reference, output_size  # noqa: E402
from conv_lib.widgets import conv_explorer, explorer_input, preset_filters  # noqa: E402


def pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)))


def expected_outputs(explorer):
    """The same settings through the library's loop reference (not the explorer's code path)."""
    settings = explorer.settings()
    x, _ = explorer_input(settings["kind"], settings["channels"])
    w, b = preset_filters(settings["preset"], settings["filters"], settings["channels"], settings["kernel_size"])
    return conv2d_reference(
        x[None], w, b, stride=settings["stride"], padding=settings["padding"], dilation=settings["dilation"]
    )[0]


NEW_VALUES = {
    "input": "small grid",
    "channels": 2,
    "kernel_size": 2,
    "stride": 2,
    "padding": 0,
    "dilation": 2,
    "filters": 6,
    "highlight": 2,
    "preset": "colour-opponent edge",
    "row": 3,
    "column": 4,
}


@pytest.mark.parametrize("name", list(NEW_VALUES))
def test_each_control_recomputes_the_layer_with_the_library(name):
    explorer = conv_explorer()
    explorer.controls[name].value = NEW_VALUES[name]
    state = explorer.state
    assert explorer.settings()[{"input": "kind"}.get(name, name)] == NEW_VALUES[name]
    np.testing.assert_allclose(state.outputs, expected_outputs(explorer), atol=1e-12)
    C, H, W = state.x.shape
    k, p, s, d = state.kernel_size, state.padding, state.stride, state.dilation
    F = explorer.controls["filters"].value
    assert state.outputs.shape == (F, output_size(H, k, p, s, d), output_size(W, k, p, s, d))
    text = explorer.shapes.value
    assert f"(C_in, H, W) = {(C, H, W)}" in text
    assert f"(C_out, C_in, kH, kW) = {(F, C, k, k)}" in text
    assert f"(C_out, Ho, Wo) = {state.outputs.shape}" in text
    assert f"= {F * (C * k * k + 1):,}" in text  # the parameter count


def test_the_arithmetic_line_sums_the_channels_and_one_bias_into_the_output_value():
    explorer = conv_explorer(kind="small grid", channels=3, kernel_size=3, padding=1, filters=2, highlight=1,
                             preset="random", row=2, column=3)
    state = explorer.state
    x, (w, b) = state.x, preset_filters("random", 2, 3, 3)
    # Each channel's response at this window, by scipy, independently of conv_lib.
    per_channel = [scipy.signal.correlate2d(np.pad(x[c], 1), w[1, c], mode="valid")[2, 3] for c in range(3)]
    np.testing.assert_allclose(state.channel_sums, per_channel)
    value = sum(per_channel) + b[1]
    assert state.outputs[1, 2, 3] == pytest.approx(value)
    line = explorer.arithmetic.value
    assert line.startswith("<b>out[1, 2, 3]</b> = ")
    assert line.count("(channel ") == 3 and "(bias b[1])" in line
    assert line.endswith(f"<b>{value:g}</b>")


def test_moving_the_window_changes_the_picture_and_the_fast_redraw_matches_a_full_one():
    explorer = conv_explorer()
    before = explorer.picture.value
    for column in (1, 5, 9):
        explorer.controls["column"].value = column
    explorer.controls["row"].value = 4
    assert explorer.picture.value != before
    fresh = conv_explorer(row=4, column=9)  # drawn in one full pass
    np.testing.assert_array_equal(pixels(explorer.picture.value), pixels(fresh.picture.value))


def test_the_play_button_walks_the_window_in_reading_order():
    explorer = conv_explorer(kind="small grid", padding=0, kernel_size=3)  # 6x6 input: 4x4 positions
    play = explorer.controls["play"]
    assert play.max == 4 * 4 - 1
    play.value = 6
    assert (explorer.state.row, explorer.state.column) == (1, 2)
    assert (explorer.controls["row"].value, explorer.controls["column"].value) == (1, 2)


def test_the_sliders_limits_follow_the_layer():
    explorer = conv_explorer(kind="small grid", padding=0, kernel_size=3, filters=4, highlight=3, column=3)
    explorer.controls["filters"].value = 2
    assert explorer.controls["highlight"].max == 1 and explorer.state.highlight == 1
    explorer.controls["kernel_size"].value = 5  # 6x6 input, no padding: 2x2 positions
    assert explorer.controls["column"].max == 1 and explorer.state.column == 1


def test_a_kernel_larger_than_the_padded_input_shows_a_message_and_recovers():
    explorer = conv_explorer(kind="small grid", padding=0, kernel_size=3)
    explorer.controls["kernel_size"].value = 7
    assert explorer.state is None
    assert explorer.picture.layout.display == "none" and explorer.message.layout.display is None
    assert "the kernel spans 7 pixels but the padded input is only 6 pixels" in explorer.message.value
    assert explorer.shapes.value == explorer.arithmetic.value == ""
    explorer.controls["padding"].value = 1  # 6 + 2*1 = 8 >= 7: fits again
    assert explorer.state is not None and explorer.state.outputs.shape == (4, 2, 2)
    assert explorer.message.layout.display == "none" and explorer.picture.layout.display is None


def test_presets_are_the_filters_they_are_named_after():
    w, b = preset_filters("identity", 4, 3, 3)
    x = np.random.default_rng(0).standard_normal((1, 3, 5, 5))
    out = conv2d_reference(x, w, b, padding=1)[0]
    for f in range(4):
        np.testing.assert_allclose(out[f], x[0, f % 3])  # filter f copies channel f mod 3
    w, _ = preset_filters("blur", 1, 3, 3)
    assert w.sum() == pytest.approx(1.0)  # the mean over the whole window
    w, _ = preset_filters("colour-opponent edge", 1, 3, 3)
    np.testing.assert_array_equal(w[0, 0], -w[0, 1])  # red falls where green rises
    np.testing.assert_array_equal(w[0, 2], 0)
    with pytest.raises(ValueError, match="preset must be one of random, edge"):
        preset_filters("sharpen", 1, 3, 3)


def test_every_control_carries_a_css_class_a_browser_can_find():
    explorer = conv_explorer()
    for name, control in explorer.controls.items():
        assert "conv-" + name.replace("_", "-") in control._dom_classes
    for part, css in [(explorer.picture, "conv-picture"), (explorer.shapes, "conv-shapes"),
                      (explorer.arithmetic, "conv-arithmetic"), (explorer.message, "conv-message")]:
        assert css in part._dom_classes
