"""The lecture demo, driven in-process: every control changes what the rule says it should."""

import base64
import copy
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.signal  # noqa: E402
from PIL import Image  # noqa: E402
from traitlets import TraitError  # noqa: E402

from conv_lib import conv2d_reference, output_size  # noqa: E402
from conv_lib.widgets import DIMMED, ExplorerPicture, conv_explorer, explorer_input, preset_filters  # noqa: E402


def pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)))


def full_draw(explorer):
    """The explorer's state drawn in one full pass, on a new picture (the explorer's own is shared and blitted)."""
    picture = ExplorerPicture(explorer.state.x.shape[0], projector=explorer.drawing.projector)
    return pixels(picture.render(explorer.state))


def expected_outputs(explorer):
    """The same settings through the library's loop reference (not the explorer's code path).

    Grouped by hand: group g's filters, an ordinary convolution of group g's channels.
    """
    settings = explorer.settings()
    x, _ = explorer_input(settings["kind"], settings["channels"])
    groups = settings["groups"]
    w, b = preset_filters(settings["preset"], settings["filters"], settings["channels"], settings["kernel_size"], groups)
    C_group, F_group = settings["channels"] // groups, settings["filters"] // groups
    maps = [
        conv2d_reference(x[None, g * C_group : (g + 1) * C_group], w[g * F_group : (g + 1) * F_group],
                         b[g * F_group : (g + 1) * F_group], stride=settings["stride"], padding=settings["padding"],
                         dilation=settings["dilation"])[0]
        for g in range(groups)
    ]
    return np.concatenate(maps)


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
    np.testing.assert_array_equal(pixels(explorer.picture.value), full_draw(explorer))


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


# --------------------------------------------------------------------------
# groups (notebook 07): grouped and depthwise convolution
# --------------------------------------------------------------------------


def test_the_groups_choices_are_the_divisors_of_both_channels_and_filters():
    explorer = conv_explorer(kind="small grid", channels=4, filters=4)
    groups = explorer.controls["groups"]
    assert groups.options == (1, 2, 4)
    for channels, filters, allowed in [(4, 6, (1, 2)), (4, 8, (1, 2, 4)), (3, 8, (1,)), (2, 8, (1, 2)), (3, 6, (1, 3))]:
        explorer.controls["channels"].value, explorer.controls["filters"].value = channels, filters
        assert groups.options == allowed, (channels, filters)


def test_a_groups_choice_that_no_longer_divides_falls_back_to_the_largest_that_does():
    explorer = conv_explorer(kind="small grid", channels=4, filters=4, groups=4)
    explorer.controls["filters"].value = 6  # gcd(4, 6) = 2
    assert explorer.controls["groups"].value == explorer.state.groups == 2
    explorer.controls["filters"].value = 8  # 2 still divides both: kept, not reset to 1
    assert explorer.controls["groups"].value == 2
    explorer.controls["channels"].value = 3  # gcd(3, 8) = 1
    assert explorer.controls["groups"].value == explorer.state.groups == 1
    np.testing.assert_allclose(explorer.state.outputs, expected_outputs(explorer), atol=1e-12)


def test_groups_that_do_not_divide_channels_and_filters_cannot_be_chosen():
    explorer = conv_explorer(kind="small grid", channels=4, filters=4)
    with pytest.raises(TraitError):
        explorer.controls["groups"].value = 3
    assert explorer.state.groups == 1
    with pytest.raises(ValueError, match=r"groups=2 must divide both the input channels \(3\) and the filters \(4\)"):
        conv_explorer(channels=3, filters=4, groups=2)
    with pytest.raises(ValueError, match="groups can be 1, 2, 4"):
        preset_filters("random", 8, 4, 3, groups=3)


# (channels, filters, groups, highlighted filter): the channels it reads
GROUPED_CASES = {
    "one group": (4, 4, 1, 3, [0, 1, 2, 3]),
    "two groups": (4, 4, 2, 3, [2, 3]),
    "two groups, first": (4, 6, 2, 2, [0, 1]),
    "depthwise": (4, 4, 4, 2, [2]),
    "depthwise, multiplier 2": (2, 4, 2, 1, [0]),
}


@pytest.mark.parametrize("case", list(GROUPED_CASES))
def test_the_highlighted_filter_sums_only_its_groups_channels_plus_its_bias(case):
    C, F, groups, h, read = GROUPED_CASES[case]
    explorer = conv_explorer(kind="small grid", channels=C, filters=F, groups=groups, highlight=h, kernel_size=3,
                             padding=1, preset="random", row=2, column=3)
    state = explorer.state
    assert list(state.read) == read
    x, (w, b) = state.x, preset_filters("random", F, C, 3, groups)
    # Each read channel's response at this window, by scipy: w[h, j] meets input channel read[j].
    per_channel = [scipy.signal.correlate2d(np.pad(x[c], 1), w[h, j], mode="valid")[2, 3] for j, c in enumerate(read)]
    np.testing.assert_allclose(state.channel_sums, per_channel)
    value = sum(per_channel) + b[h]
    assert state.outputs[h, 2, 3] == pytest.approx(value)
    np.testing.assert_allclose(state.outputs, expected_outputs(explorer), atol=1e-12)
    line = explorer.arithmetic.value
    assert line.count("(channel ") == len(read) and f"(bias b[{h}])" in line
    assert all(f"(channel {c})" in line for c in read)  # the real input channel numbers
    assert line.endswith(f"<b>{value:g}</b>")


def test_the_picture_dims_the_channels_the_highlighted_filter_does_not_read():
    explorer = conv_explorer(kind="small grid", channels=4, filters=4, groups=2, highlight=3)
    picture = explorer.drawing
    for c in (0, 1):  # group 0's channels: filter 3 (group 1) never reads them
        assert picture.inputs[c].image.get_alpha() == DIMMED
        assert not picture.windows[c].get_visible()
        assert picture.unread[c].get_visible()
        assert " ".join(picture.unread[c].get_text().split()) == "not read by filter 3 (group 1 reads channels 2-3)"
        assert not picture.kernels[c].image.get_visible() and not picture.products[c].image.get_visible()
    for j, c in enumerate((2, 3)):
        assert picture.inputs[c].image.get_alpha() == 1.0
        assert picture.windows[c].get_visible() and not picture.unread[c].get_visible()
        np.testing.assert_array_equal(picture.kernels[c].image.get_array(), explorer.state.w[3, j])
        assert picture.kernels[c].ax.get_title() == f"w[3, {j}] meets x[{c}]"
    explorer.controls["highlight"].value = 0  # group 0: the dimmed channels swap
    assert [picture.inputs[c].image.get_alpha() for c in range(4)] == [1.0, 1.0, DIMMED, DIMMED]


def test_after_groups_go_back_to_one_every_channel_is_drawn_again():
    explorer = conv_explorer(kind="small grid", channels=4, filters=4, groups=4, highlight=1)
    explorer.controls["groups"].value = 1
    picture = explorer.drawing
    assert all(picture.inputs[c].image.get_alpha() == 1.0 and picture.windows[c].get_visible() for c in range(4))
    assert not any(text.get_visible() for text in picture.unread)
    np.testing.assert_array_equal(pixels(explorer.picture.value), full_draw(explorer))


def test_with_groups_the_fast_redraw_after_a_move_matches_a_full_one():
    explorer = conv_explorer(kind="small grid", channels=4, filters=4, groups=2, highlight=3)
    for column in (1, 4):
        explorer.controls["column"].value = column
    explorer.controls["row"].value = 3
    np.testing.assert_array_equal(pixels(explorer.picture.value), full_draw(explorer))


@pytest.mark.parametrize("preset", ["random", "edge", "colour-opponent edge", "blur", "identity"])
def test_each_filter_has_one_channel_per_channel_of_its_group(preset):
    for C, F, groups in [(4, 8, 2), (4, 4, 4), (3, 6, 3), (4, 2, 1)]:
        w, b = preset_filters(preset, F, C, 3, groups)
        assert w.shape == (F, C // groups, 3, 3) and b.shape == (F,)


def test_the_identity_preset_copies_a_channel_of_the_filters_own_group():
    w, _ = preset_filters("identity", 4, 4, 3, groups=2)
    x = np.random.default_rng(0).standard_normal((4, 5, 5))
    for f in range(4):
        group = f // 2
        channel = 2 * group + f % 2
        assert np.count_nonzero(w[f]) == 1  # one tap, in the channel it copies
        np.testing.assert_allclose(scipy.signal.correlate2d(np.pad(x[channel], 1), w[f, f % 2], mode="valid"), x[channel])


def test_the_shapes_line_shows_the_grouped_weights_and_parameters():
    explorer = conv_explorer(kind="small grid", channels=4, filters=4, groups=2, kernel_size=3)
    text = explorer.shapes.value
    assert "(C_out, C_in/groups, kH, kW) = (4, 2, 3, 3)" in text and "groups = 2" in text
    assert "parameters = 4 × (4/2·3·3 + 1) = 76" in text
    assert "filters 0-1 read channels 0-1, filters 2-3 read channels 2-3" in text
    explorer.controls["groups"].value = 4
    text = explorer.shapes.value
    assert "(C_out, C_in/groups, kH, kW) = (4, 1, 3, 3)" in text and "= 40" in text
    assert "depthwise: one map per input channel, no sum across channels" in text
    explorer.controls["filters"].value = 8
    assert "depthwise with channel multiplier 2" in explorer.shapes.value


# --------------------------------------------------------------------------
# The lecture: projector look, the bias in the picture, narrower pictures,
# readable dilated taps, and what a static copy of the notebook shows
# --------------------------------------------------------------------------

#: The projector look must fit a 1920 x 1080 screen with the controls' column beside it
#: and the three text lines above it (about 40 CSS pixels each at 21 px type).
SCREEN, CONTROLS_PX, TEXT_LINES_PX = (1920, 1080), 370, 3 * 40


def font_pixels(text):
    """A text artist's type size in pixels of its figure's PNG."""
    return text.get_fontsize() * text.figure.dpi / 72


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_the_projector_picture_has_larger_type_at_a_higher_dpi_and_fits_a_1920_by_1080_screen(channels):
    normal, projector = ExplorerPicture(channels), ExplorerPicture(channels, projector=True)
    assert projector.figure.dpi > normal.figure.dpi
    for part in (lambda p: p.inputs[0].ax.title, lambda p: p.products[0].ax.yaxis.label, lambda p: p.bias_term):
        assert font_pixels(part(projector)) >= 1.5 * font_pixels(part(normal))
    assert projector.inputs[0].number_size * projector.figure.dpi > 1.5 * normal.inputs[0].number_size * 80
    width, height = projector.figure.get_size_inches() * projector.figure.dpi
    assert width > 1.4 * normal.width_px
    assert width + CONTROLS_PX <= SCREEN[0] and height + TEXT_LINES_PX <= SCREEN[1], (width, height)


def test_the_projector_toggle_swaps_pictures_made_once_and_enlarges_the_text_lines():
    from conv_lib.widgets.explorer import _PICTURES

    explorer = conv_explorer(channels=3)
    toggle = explorer.controls["projector"]
    assert "conv-projector" in toggle._dom_classes and not toggle.value
    normal_width = pixels(explorer.picture.value).shape[1]
    toggle.value = True
    projector = explorer.drawing
    assert projector.projector and pixels(explorer.picture.value).shape[1] > 1.4 * normal_width
    assert explorer.picture.layout.object_fit == "contain"  # as large as the screen allows, never distorted
    assert "conv-projector-on" in explorer._dom_classes
    assert explorer.arithmetic.style.font_size == explorer.shapes.style.font_size == "21px"
    made = len(_PICTURES)
    for _ in range(2):  # switching back and forth reuses the two pictures
        toggle.value = False
        toggle.value = True
    assert len(_PICTURES) == made and explorer.drawing is projector
    explorer.controls["column"].value = 5  # the window still moves by blitting, and gives a full draw's pixels
    np.testing.assert_array_equal(pixels(explorer.picture.value), full_draw(explorer))
    toggle.value = False
    assert not explorer.drawing.projector and explorer.arithmetic.style.font_size is None


def equation_terms(picture, state):
    """The picture's equation line as numbers: the read channels' sums, the bias, the result."""
    sums = [float(picture.terms[c].get_text().strip("()")) for c in state.read]
    bias = float(picture.bias_term.get_text().removeprefix("+ ").strip("()"))
    result = float(picture.result.get_text().removeprefix("= "))
    return sums, bias, result


def test_the_picture_draws_the_channels_sums_plus_the_bias_equal_to_the_output_value():
    explorer = conv_explorer(kind="small grid", channels=3, kernel_size=3, padding=1, filters=2, highlight=1,
                             preset="random", row=2, column=3)
    picture, state = explorer.drawing, explorer.state
    x, (w, b) = state.x, preset_filters("random", 2, 3, 3)
    per_channel = [scipy.signal.correlate2d(np.pad(x[c], 1), w[1, c], mode="valid")[2, 3] for c in range(3)]
    sums, bias, result = equation_terms(picture, state)
    assert sums == pytest.approx(per_channel) and bias == b[1]
    assert result == pytest.approx(sum(per_channel) + b[1]) == state.outputs[1, 2, 3]
    assert picture.bias_name.get_text() == "bias b[1]" and picture.result_name.get_text() == "out[1, 2, 3]"
    assert [name.get_text() for name in picture.term_names] == ["channel 0", "channel 1", "channel 2"]
    assert all(plus.get_visible() for plus in picture.pluses) and len(picture.pluses) == 2
    explorer.controls["column"].value = 1  # the equation moves with the window
    sums, bias, result = equation_terms(picture, explorer.state)
    assert result == explorer.state.outputs[1, 2, 1] == pytest.approx(sum(sums) + bias)
    assert picture.result_name.get_text() == "out[1, 2, 1]"
    moving = picture._moving_artists(explorer.state)
    assert {picture.bias_term, picture.result, picture.result_name, picture.terms[0]} <= set(moving)


def test_with_groups_the_drawn_equation_adds_only_the_groups_channels():
    explorer = conv_explorer(kind="small grid", channels=4, filters=4, groups=2, highlight=3, row=2, column=3)
    picture, state = explorer.drawing, explorer.state
    assert [term.get_visible() for term in picture.terms] == [False, False, True, True]
    assert [plus.get_visible() for plus in picture.pluses] == [False, False, True]  # only between channels 2 and 3
    sums, bias, result = equation_terms(picture, state)
    assert len(sums) == 2 and result == pytest.approx(sum(sums) + bias) == state.outputs[3, 2, 3]
    assert picture.bias_name.get_text() == "bias b[3]" and not picture.term_names[0].get_visible()


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_the_picture_has_one_column_per_input_channel_and_no_empty_ones(channels):
    explorer = conv_explorer(kind="small grid", channels=channels, filters=4)
    picture = explorer.drawing
    assert picture.channels == channels
    assert len(picture.inputs) == len(picture.kernels) == len(picture.products) == channels
    columns = [panel.ax for panel in (*picture.inputs, *picture.kernels, *picture.products)]
    assert all(ax.get_visible() for ax in columns)  # no hidden channel axes keep room
    visible = [ax for ax in picture.figure.axes if ax.get_visible() and ax.axison]
    left = min(ax.get_position().x0 for ax in visible)
    right = max(ax.get_position().x1 for ax in visible)
    assert left < 0.25 and right > 0.95, (left, right)  # the panels span the figure, row labels aside
    # Between the last channel column and the output, no room for a missing column.
    column_width = picture.inputs[0].ax.get_position().width
    gap = picture.output.ax.get_position().x0 - picture.inputs[-1].ax.get_position().x1
    assert gap < column_width
    if channels > 1:
        assert picture.width_px > ExplorerPicture(channels - 1).width_px  # the width follows the channels


def test_changing_the_channels_switches_between_pictures_made_once():
    from conv_lib.widgets.explorer import _PICTURES

    explorer = conv_explorer(channels=3)
    for channels in (1, 2, 4, 3):
        explorer.controls["channels"].value = channels
        assert explorer.drawing.channels == channels
        assert explorer.drawing is _PICTURES[(channels, False)]
    np.testing.assert_array_equal(pixels(explorer.picture.value), full_draw(explorer))


def test_dilated_taps_box_each_tapped_cell_without_crossing_any_number():
    explorer = conv_explorer(kind="small grid", channels=2, kernel_size=3, padding=1, dilation=2, row=1, column=1)
    picture = explorer.drawing
    renderer = picture.canvas.get_renderer()
    for c in range(2):
        taps, numbers = picture.taps[c], picture.inputs[c].texts
        assert taps.get_visible() and numbers.shape == (8, 8)
        assert taps.zorder < numbers[0, 0].zorder  # under the numbers, were they to meet
        xs, ys = taps.get_data()
        squares = picture.inputs[c].ax.transData.transform(np.column_stack([xs, ys])).reshape(-1, 6, 2)[:, :5]
        assert len(squares) == 9  # 3 x 3 taps, 2 cells apart
        for square in squares:
            x0, y0 = square.min(axis=0)
            x1, y1 = square.max(axis=0)
            for text in numbers.flat:
                box = text.get_window_extent(renderer)
                inside = x0 < box.x0 and box.x1 < x1 and y0 < box.y0 and box.y1 < y1
                outside = box.x1 < x0 or x1 < box.x0 or box.y1 < y0 or y1 < box.y0
                assert inside or outside, (text.get_text(), square, box)
    np.testing.assert_array_equal(pixels(explorer.picture.value), full_draw(explorer))


def test_the_widgets_repr_gives_the_picture_and_a_sentence_besides_the_live_view():
    from conv_lib.widgets.explorer import RUN_ME

    explorer = conv_explorer()
    bundle = explorer._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.model_id
    assert bundle["text/plain"] == RUN_ME and "ConvExplorer(" not in bundle["text/plain"]
    png = base64.b64decode(bundle["image/png"])
    assert png == explorer.picture.value
    assert bundle["text/html"].count("<img ") == 1 and "Run this notebook in Jupyter" in bundle["text/html"]


@pytest.fixture(scope="module")
def executed_demo():
    """The demo notebook run by nbclient, the widgets' state saved in its metadata (as nbclient does)."""
    import nbformat
    from nbclient import NotebookClient

    notebook_path = Path(__file__).resolve().parent.parent / "notebooks" / "demo" / "conv_explorer.ipynb"
    notebook = nbformat.read(notebook_path, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    return notebook


def html_of(notebook):
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(notebook)
    return body


def test_a_static_copy_of_the_demo_shows_the_picture_and_says_to_run_it(executed_demo):
    notebook = copy.deepcopy(executed_demo)
    notebook.metadata.pop("widgets", None)  # saved without the widgets' state: JupyterLab's default
    body = html_of(notebook)
    assert "ConvExplorer(children" not in body
    assert "Run this notebook in Jupyter (or `make demo`) to move the sliders" in body
    assert body.count("<img ") == 1 and body.count('src="data:image/png;base64,') == 1


def test_a_copy_saved_with_the_widgets_state_shows_the_widget_view_not_the_repr(executed_demo):
    assert "application/vnd.jupyter.widget-state+json" in executed_demo.metadata["widgets"]
    body = html_of(executed_demo)
    assert "ConvExplorer(children" not in body
    assert 'type="application/vnd.jupyter.widget-view+json"' in body  # drawn by the widgets' HTML manager
    assert 'type="application/vnd.jupyter.widget-state+json"' in body  # with the Image's PNG in the state
