"""The course's pictures show what conv_lib computes, and say it in words a learner can check."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from scipy.signal import correlate2d  # noqa: E402

from conv_lib import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def all_text(fig):
    """Every piece of text drawn in the figure (titles, labels, cell numbers, captions)."""
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def axes_labelled(fig, label):
    """The one axes of the figure whose label is ``label``."""
    matches = [ax for ax in fig.findobj(matplotlib.axes.Axes) if ax.get_label() == label]
    assert len(matches) == 1, f"expected one axes labelled {label!r}, found {len(matches)}"
    return matches[0]


def red_outlines(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_edgecolor()[:3] == (1.0, 0.0, 0.0)]


# --- the sample photo ------------------------------------------------------------


def test_sample_photo_is_rgb_channels_first_in_unit_range():
    photo = plots.sample_photo()
    assert photo.shape == (3, 600, 512)
    assert photo.dtype == np.float64
    assert 0 <= photo.min() and photo.max() <= 1


@pytest.mark.parametrize("size", [64, 128])
def test_sample_photo_size_sets_the_longer_side(size):
    photo = plots.sample_photo(size)
    assert photo.shape[0] == 3
    assert max(photo.shape[1:]) == size
    assert photo.shape[2] == round(512 * size / 600)  # proportions kept
    assert 0 <= photo.min() and photo.max() <= 1


def test_a_square_sample_photo_is_the_central_square_at_vgg16s_input_size():
    square = plots.sample_photo(224, square=True)
    assert square.shape == (3, 224, 224)
    full = plots.sample_photo()                                  # (3, 600, 512): 44 rows cut above and below
    assert plots.sample_photo(square=True).shape == (3, 512, 512)
    np.testing.assert_array_equal(plots.sample_photo(square=True), full[:, 44:556, :])


def test_sample_photo_returns_a_fresh_copy_each_time():
    photo = plots.sample_photo(32)
    photo[:] = 0
    assert plots.sample_photo(32).max() > 0


def test_sample_photo_size_must_be_a_positive_whole_number():
    with pytest.raises(ValueError, match="size"):
        plots.sample_photo(0)


# --- numbers as a learner writes them ----------------------------------------------


@pytest.mark.parametrize(
    "value, text", [(19.0, "19"), (-3, "-3"), (0.5, "0.5"), (1 / 3, "0.33"), (-2.25, "-2.25"), (-1e-9, "0")]
)
def test_integers_have_no_decimal_point_and_others_at_most_two_decimals(value, text):
    assert plots.format_number(value) == text


def test_draw_grid_writes_every_number_into_its_cell():
    fig, ax = plt.subplots()
    image = plots.draw_grid(ax, [[1, 2.5], [-3, 4]], title="a")
    np.testing.assert_array_equal(image.get_array(), [[1, 2.5], [-3, 4]])
    assert sorted(t.get_text() for t in ax.texts) == sorted(["1", "2.5", "-3", "4"])
    assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0


# --- one channel: the sliding window ------------------------------------------------

X3 = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
K2 = [[0, 1], [2, 3]]


def test_sliding_window_caption_writes_out_the_multiply_and_add():
    fig = plots.draw_sliding_window(X3, K2, positions=[(0, 0)])
    assert "0*0 + 1*1 + 3*2 + 4*3 = 19" in " ".join(all_text(fig))


def test_sliding_window_default_shows_first_three_positions_and_the_last():
    fig = plots.draw_sliding_window(X3, K2)  # output 2x2: 19 25 / 37 43
    captions = [s.get_supxlabel() for s in fig.subfigs]
    assert [c.rsplit("= ", 1)[1] for c in captions] == ["19", "25", "37", "43"]


def test_sliding_window_output_panel_is_filled_up_to_the_current_position():
    fig = plots.draw_sliding_window(X3, K2, positions=[(0, 1)])
    filled = axes_labelled(fig, "output").images[0].get_array().filled(np.nan)
    np.testing.assert_array_equal(filled[0], [19, 25])
    assert np.isnan(filled[1]).all()


def test_sliding_window_long_sums_are_shortened():
    fig = plots.draw_sliding_window(np.ones((6, 6)), np.ones((4, 4)), positions=[(0, 0)])
    caption = fig.subfigs[0].get_supxlabel()
    assert "1*1 + 1*1 + 1*1 + ... + 1*1 = 16" in caption


def test_sliding_window_with_padding_and_stride_uses_the_padded_input():
    x = np.arange(25).reshape(5, 5) % 7
    fig = plots.draw_sliding_window(x, np.ones((3, 3)), padding=1, stride=2, positions=[(0, 0)])
    assert axes_labelled(fig, "input").images[0].get_array().shape == (7, 7)
    assert axes_labelled(fig, "output").images[0].get_array().shape == (3, 3)
    assert fig.subfigs[0].get_supxlabel().endswith("= 12")  # 0+1+5+6 in the padded corner


def test_sliding_window_position_outside_the_output_is_explained():
    with pytest.raises(ValueError, match=r"position \(2, 0\) is outside the output, which has 2 rows and 2 columns"):
        plots.draw_sliding_window(X3, K2, positions=[(2, 0)])


# --- one axis: padding and stride ----------------------------------------------------


@pytest.mark.parametrize(
    "n, k, padding, stride, formula",
    [(5, 3, 1, 2, "output = floor((5 + 2*1 - 3) / 2) + 1 = 3"), (7, 3, 0, 1, "output = floor((7 + 2*0 - 3) / 1) + 1 = 5")],
)
def test_padding_and_stride_title_works_the_formula_out(n, k, padding, stride, formula):
    fig = plots.draw_padding_and_stride(n, k, padding, stride)
    ax = axes_labelled(fig, "axis")
    assert ax.get_title() == formula
    windows = [t for t in ax.texts if t.get_text().startswith("output[")]
    assert len(windows) == int(formula.rsplit("= ", 1)[1])  # one bar per output value


def test_padding_and_stride_without_room_for_a_window_says_so():
    with pytest.raises(ValueError, match="no window fits"):
        plots.draw_padding_and_stride(2, 5, 0, 1)


# --- the channel-summing rule --------------------------------------------------------

X_SMALL = np.array(
    [
        [[1, 0, 2, 1], [0, 1, 1, 0], [2, 2, 0, 1], [1, 0, 0, 2]],
        [[0, 2, 1, 0], [1, 0, 0, 2], [0, 1, 2, 1], [2, 1, 0, 0]],
    ]
)  # (C_in=2, H=4, W=4)
W_SMALL = np.array([[[1, -1], [0, 2]], [[0, 1], [-1, 1]]])  # (C_in=2, kH=2, kW=2)


def test_channel_sum_panel_is_the_sum_of_per_channel_correlations_plus_the_bias():
    fig = plots.draw_channel_sum(X_SMALL, W_SMALL, b=0.5)
    expected = sum(correlate2d(X_SMALL[c], W_SMALL[c], mode="valid") for c in range(2)) + 0.5
    shown = axes_labelled(fig, "sum").images[0].get_array()
    np.testing.assert_allclose(shown, expected)


def test_channel_sum_shows_each_channels_own_response():
    fig = plots.draw_channel_sum(X_SMALL, W_SMALL)
    for c in range(2):
        shown = axes_labelled(fig, f"response {c}").images[0].get_array()
        np.testing.assert_allclose(shown, correlate2d(X_SMALL[c], W_SMALL[c], mode="valid"))


def test_channel_sum_draws_plus_and_equals_signs_and_names_one_feature_map():
    fig = plots.draw_channel_sum(X_SMALL, W_SMALL, b=0.5)
    texts = all_text(fig)
    assert texts.count("+") == 2  # between the two responses, and before the bias
    assert texts.count("=") == 1
    assert "bias\nb = 0.5" in texts
    assert fig.get_suptitle() == "channel 0 + channel 1 + bias = one feature map"


def test_channel_sum_on_an_rgb_photo_names_the_colours_and_writes_no_numbers():
    photo = plots.sample_photo(48)
    fig = plots.draw_channel_sum(photo, np.ones((3, 3, 3)) / 27)
    assert fig.get_suptitle() == "red + green + blue + bias = one feature map"
    assert len(axes_labelled(fig, "response 0").texts) == 0
    assert len(axes_labelled(fig, "kernel 0").texts) == 9  # a 3x3 kernel is small enough to annotate


def test_channel_sum_refuses_a_filter_without_one_channel_per_input_channel():
    with pytest.raises(ValueError, match="the filters have 3 channels, the input has 2"):
        plots.draw_channel_sum(X_SMALL, np.ones((3, 2, 2)))


def test_channel_sum_wants_one_filter_not_a_whole_layer():
    with pytest.raises(ValueError, match=r"w must have 3 axes \(C_in, kH, kW\)"):
        plots.draw_channel_sum(X_SMALL, np.ones((4, 2, 2, 2)))


# --- many filters -------------------------------------------------------------------


def test_weight_tensor_caption_gives_the_true_shape_even_when_few_filters_are_drawn():
    fig = plots.draw_weight_tensor(128, 64, 3, 3)
    texts = " ".join(all_text(fig))
    assert "(128, 64, 3, 3)" in texts
    assert "128 filters → 128 feature maps" in texts
    assert "filter 127" in texts and "filter 3\n" not in texts   # counted from 0, as w[0] .. w[127]
    assert "64 channels" in texts


def test_weight_tensor_highlight_is_drawn_even_when_it_would_be_skipped():
    fig = plots.draw_weight_tensor(128, 64, 3, 3, highlight=50)
    assert "filter 50\nw[50]" in " ".join(all_text(fig))


def test_weight_tensor_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    assert plots.draw_weight_tensor(2, 3, 3, 3, ax=ax) is fig


def test_weight_tensor_highlight_must_name_a_filter():
    with pytest.raises(ValueError, match=r"highlight must be a filter index 0..3"):
        plots.draw_weight_tensor(4, 3, 3, 3, highlight=4)


def test_layer_diagram_makes_one_map_per_filter_not_one_per_filter_and_channel():
    fig = plots.draw_layer((64, 112, 112), (128, 64, 3, 3))
    texts = " ".join(all_text(fig))
    assert "output\n(128, 112, 112)" in texts
    assert "128 filters, each (64, 3, 3)" in texts
    assert "8192" not in texts and "8,192" not in texts


def test_layer_diagram_uses_the_output_size_rule_with_stride():
    fig = plots.draw_layer((3, 224, 224), (64, 3, 3, 3), padding=0, stride=2)
    assert "output\n(64, 111, 111)" in all_text(fig)


def test_layer_diagram_refuses_filters_of_the_wrong_depth():
    with pytest.raises(ValueError, match="the filters have 3 channels, the input has 64"):
        plots.draw_layer((64, 112, 112), (128, 3, 3, 3))


# --- checking a learner's answer ------------------------------------------------------


def test_first_wrong_position_is_none_when_everything_matches():
    expected = np.arange(12.0).reshape(3, 4)
    assert plots.first_wrong_position(expected, expected.copy()) is None
    assert plots.first_wrong_position(expected, expected * (1 + 1e-9)) is None  # rounding is not wrong


def test_first_wrong_position_is_the_first_in_reading_order():
    expected = np.zeros((2, 3, 3))
    given = expected.copy()
    given[1, 0, 2] = 1
    given[1, 2, 0] = 1
    assert plots.first_wrong_position(expected, given) == (1, 0, 2)


def test_first_wrong_position_counts_nan_as_wrong():
    assert plots.first_wrong_position([1.0, 2.0], [1.0, np.nan]) == (1,)


def test_first_wrong_position_refuses_arrays_of_different_shapes():
    with pytest.raises(ValueError, match=r"expected has shape \(2, 2\), given has shape \(3, 3\)"):
        plots.first_wrong_position(np.zeros((2, 2)), np.zeros((3, 3)))


def test_mismatch_outlines_the_first_wrong_cell_on_all_three_panels_and_names_it():
    expected = np.arange(16).reshape(4, 4)
    given = expected.copy()
    given[1, 2] = 5  # expected 6
    given[3, 3] = 0  # a later mistake is not the first
    fig = plots.show_mismatch(expected, given)
    assert fig.get_suptitle() == "first wrong value at (row 1, column 2): expected 6, got 5"
    for label in ("expected", "given", "difference"):
        outlines = red_outlines(axes_labelled(fig, label))
        assert [o.get_xy() for o in outlines] == [(2 - 0.5, 1 - 0.5)]  # column 2, row 1


def test_mismatch_on_channels_marks_only_the_wrong_channel():
    expected = np.zeros((2, 3, 3))
    given = expected.copy()
    given[1, 2, 0] = 7
    fig = plots.show_mismatch(expected, given, title="conv2d_multi_in")
    assert fig.get_suptitle() == "conv2d_multi_in\nfirst wrong value at (channel 1, row 2, column 0): expected 0, got 7"
    assert red_outlines(axes_labelled(fig, "given 0")) == []
    assert [o.get_xy() for o in red_outlines(axes_labelled(fig, "given 1"))] == [(-0.5, 1.5)]


def test_mismatch_difference_panel_is_yours_minus_expected():
    fig = plots.show_mismatch([[1, 2], [3, 4]], [[1, 2], [3, 9]])
    np.testing.assert_array_equal(axes_labelled(fig, "difference").images[0].get_array(), [[0, 0], [0, 5]])


def test_mismatch_with_nothing_wrong_says_so():
    fig = plots.show_mismatch(np.eye(3), np.eye(3))
    assert fig.get_suptitle() == "all values match"
    assert red_outlines(axes_labelled(fig, "expected")) == []


def test_mismatch_of_shapes_names_both_shapes():
    fig = plots.show_mismatch(np.zeros((4, 4)), np.zeros((3, 3)))
    assert fig.get_suptitle() == "shapes differ: expected (4, 4), got (3, 3)"


# --- every picture draws ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "draw",
    [
        lambda: plots.draw_sliding_window(np.arange(25).reshape(5, 5), np.eye(3)),
        lambda: plots.draw_padding_and_stride(),
        lambda: plots.show_maps(np.random.default_rng(0).normal(size=(5, 4, 4)), ncols=3, suptitle="maps"),
        lambda: plots.show_maps([np.ones((3, 3)), np.zeros((2, 2))], titles=["a", "b"], symmetric=False),
        lambda: plots.show_channels(plots.sample_photo(32)),
        lambda: plots.show_channels(np.arange(32).reshape(2, 4, 4)),
        lambda: plots.draw_channel_sum(X_SMALL, W_SMALL, b=1),
        lambda: plots.draw_channel_sum(plots.sample_photo(128)[:, :128, :128], np.ones((3, 3, 3))),
        lambda: plots.draw_channel_sum(np.ones((8, 4, 4)), np.ones((8, 2, 2))),
        lambda: plots.draw_weight_tensor(4, 3, 3, 3, highlight=1),
        lambda: plots.draw_layer((3, 224, 224), (64, 3, 3, 3)),
        lambda: plots.show_mismatch(np.ones((5, 3, 3)), np.zeros((5, 3, 3))),
    ],
    ids=[
        "sliding_window", "padding_and_stride", "maps", "maps_list", "channels_photo", "channels_small",
        "channel_sum_small", "channel_sum_photo", "channel_sum_many", "weight_tensor", "layer", "mismatch",
    ],
)
def test_every_picture_is_a_figure_that_renders(draw):
    fig = draw()
    assert isinstance(fig, Figure)
    fig.canvas.draw()  # lays out and renders with Agg


def test_show_maps_wants_maps_of_two_axes():
    with pytest.raises(ValueError, match=r"maps must have 3 axes \(M, H, W\)"):
        plots.show_maps(np.zeros((2, 3, 4, 4)))


def test_show_channels_needs_one_name_per_channel():
    with pytest.raises(ValueError, match="names must name each of the 2 channels"):
        plots.show_channels(np.zeros((2, 4, 4)), names=["only one"])


def test_importing_conv_lib_does_not_import_matplotlib():
    code = "import sys, conv_lib; assert 'matplotlib' not in sys.modules, 'conv_lib imported matplotlib'"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- stacks of layers (notebook 04) ---------------------------------------------------------

from conv_lib.models import forward, init_params, tiny_vgg, vgg11, vgg16  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

SMALL_STACK = [("conv", 8, 3, 1, 1), ("relu",), ("pool", 2, 2), ("conv", 16, 3, 1, 1), ("relu",), ("pool", 2, 2)]


def box_names(fig):
    """The names of the boxes (and bars) drawn: the labels of their front faces, the labelled Polygons."""
    return [p.get_label() for p in fig.findobj(Polygon) if p.get_label() and not p.get_label().startswith("_")]


def test_stack_draws_the_input_and_each_conv_and_pool_output_but_no_box_for_relu():
    fig = plots.draw_stack(SMALL_STACK, (3, 32, 32))
    assert sorted(box_names(fig)) == sorted(["input", "conv1_1", "pool1", "conv2_1", "pool2"])
    texts = all_text(fig)
    for shape in ("3 x 32 x 32", "8 x 32 x 32", "8 x 16 x 16", "16 x 16 x 16", "16 x 8 x 8"):
        assert shape in texts
    assert texts.count("conv 3x3, 8") == 1 and texts.count("conv 3x3, 16") == 1
    assert texts.count("max pool 2x2") == 2
    assert texts.count("+ReLU") == 2  # on the arrows of the convs, not as boxes
    assert axes_labelled(fig, "stack").get_title() == "input (3, 32, 32) → output (16, 8, 8)"


def test_stack_box_thickness_grows_with_the_channels_and_height_with_the_rows():
    fig = plots.draw_stack(SMALL_STACK, (3, 32, 32))
    faces = {p.get_label(): p.get_xy() for p in fig.findobj(Polygon) if p.get_label() in ("conv1_1", "pool1", "conv2_1")}
    width = {name: np.ptp(xy[:, 0]) for name, xy in faces.items()}
    height = {name: np.ptp(xy[:, 1]) for name, xy in faces.items()}
    assert width["conv2_1"] == pytest.approx(2 * width["conv1_1"])  # 16 channels vs 8
    assert height["conv1_1"] == pytest.approx(2 * height["pool1"])  # 32 rows vs 16
    assert height["pool1"] == pytest.approx(height["conv2_1"])  # padding 1 keeps the size


def test_stack_names_stride_and_padding_when_they_are_not_the_usual():
    fig = plots.draw_stack([("conv", 4, 5, 2, 2), ("pool", 3, 2)], (1, 28, 28))
    texts = all_text(fig)
    assert "conv 5x5, 4" in texts and "stride 2, pad 2" in texts
    assert "max pool 3x3" in texts and "stride 2" in texts
    assert "4 x 14 x 14" in texts and "4 x 6 x 6" in texts
    assert "+ReLU" not in texts


def test_a_long_stack_wraps_and_stays_within_the_figure_width():
    fig = plots.draw_stack(vgg16()[:-6], (3, 224, 224))  # the 13 convs and 5 pools, without flatten and fc
    assert len(box_names(fig)) == 19
    assert fig.get_size_inches()[0] <= plots.MAX_FIGURE_WIDTH
    assert "512 x 7 x 7" in all_text(fig)


def test_stack_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    assert plots.draw_stack(SMALL_STACK, (3, 32, 32), ax=ax, title="two blocks") is fig
    assert ax.get_title() == "two blocks"


def test_stack_refuses_fully_connected_layers():
    with pytest.raises(ValueError, match=r"draw_stack draws conv, relu and pool layers; layer flatten is \('flatten',\)"):
        plots.draw_stack(tiny_vgg(), (3, 32, 32))


@pytest.mark.parametrize(
    "layers, input_shape, message",
    [
        ([("relu",)], (3, 8, 8), "at least one conv or pool layer"),
        ([], (3, 8, 8), "layers must be a non-empty list of layer specs"),
        (SMALL_STACK, (32, 32), r"input_shape must be \(C, H, W\), one image's shape, got \(32, 32\)"),
        ([("conv", 8, 3)], (3, 8, 8), r"layer 0 must be \('conv', c_out, k, stride, padding\), got \('conv', 8, 3\)"),
    ],
)
def test_stack_explains_bad_layers_and_shapes(layers, input_shape, message):
    with pytest.raises(ValueError, match=message):
        plots.draw_stack(layers, input_shape)


def test_stack_passes_on_the_output_size_rule_when_a_window_does_not_fit():
    with pytest.raises(ValueError, match="no window fits"):
        plots.draw_stack([("pool", 2, 2)] * 4, (3, 8, 8))  # 8 -> 4 -> 2 -> 1 -> no room for a 2x2 window


# --- whole networks (notebook 05) ---------------------------------------------------------


def test_network_draws_vgg16_box_by_box_with_its_shapes():
    fig = plots.draw_network(vgg16())
    names = box_names(fig)
    assert len(names) == 1 + 13 + 5 + 3  # input, conv outputs, pool outputs, fully connected bars
    assert sum(name.startswith("conv") for name in names) == 13
    assert sum(name.startswith("pool") for name in names) == 5
    assert {"fc6", "fc7", "fc8"} <= set(names)
    texts = all_text(fig)
    assert texts.count("128 x 112 x 112") == 1  # block 2: one label for its run of two convs
    for shape in ("64 x 224 x 224", "64 x 112 x 112", "256 x 56 x 56", "512 x 28 x 28", "512 x 14 x 14", "512 x 7 x 7"):
        assert shape in texts
    assert "input\n3 x 224 x 224" in texts
    assert "flatten\n25,088" in texts  # 512 * 7 * 7
    assert texts.count("4,096") == 2 and "1,000" in texts
    assert fig.get_suptitle() == "13 conv layers, 5 max pools, 3 fully connected layers: 138,357,544 parameters"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["input", "conv + ReLU", "max pool", "fully connected"]
    assert fig.get_size_inches()[0] <= plots.MAX_FIGURE_WIDTH


@pytest.mark.parametrize(
    "layers, input_shape, boxes, shape",
    [
        (vgg11(), (3, 224, 224), 1 + 8 + 5 + 3, "128 x 112 x 112"),
        (tiny_vgg(), (3, 32, 32), 1 + 4 + 2 + 1, "16 x 8 x 8"),
        (tiny_vgg(), (1, 16, 16), 1 + 4 + 2 + 1, "16 x 4 x 4"),
    ],
    ids=["vgg11", "tiny_vgg_32", "tiny_vgg_16"],
)
def test_network_draws_other_vggs_within_the_figure_width(layers, input_shape, boxes, shape):
    fig = plots.draw_network(layers, input_shape, title="a VGG")
    assert len(box_names(fig)) == boxes
    assert shape in all_text(fig)
    assert fig.get_suptitle() == "a VGG"
    assert fig.get_size_inches()[0] <= plots.MAX_FIGURE_WIDTH


def test_network_boxes_keep_small_maps_and_many_channels_visible():
    fig = plots.draw_network(vgg16())
    faces = {p.get_label(): p.get_xy() for p in fig.findobj(Polygon) if p.get_label() in ("input", "conv1_1", "pool5")}
    heights = {name: np.ptp(xy[:, 1]) for name, xy in faces.items()}
    widths = {name: np.ptp(xy[:, 0]) for name, xy in faces.items()}
    assert heights["pool5"] == pytest.approx(heights["conv1_1"] * np.sqrt(7 / 224))  # square root, not 7/224
    assert widths["pool5"] / widths["input"] == pytest.approx((1 + 9) / (1 + np.log2(3)))  # log of the channels


def test_network_explains_an_input_that_is_not_one_image():
    with pytest.raises(ValueError, match=r"input_shape must be \(C, H, W\), one image's shape, got \(1, 3, 224, 224\)"):
        plots.draw_network(vgg16(), (1, 3, 224, 224))


def test_network_says_when_the_layers_do_not_fit_side_by_side():
    with pytest.raises(ValueError, match="the 60 of these layers do not fit into 12.0 inches"):
        plots.draw_network([("pool", 1, 1)] * 60, (3, 8, 8))


def test_network_explains_a_layer_that_is_not_a_spec():
    with pytest.raises(ValueError, match=r"layer 1 must be a tuple starting with one of conv, pool"):
        plots.draw_network([("conv", 8, 3, 1, 1), "maxpool"], (3, 32, 32))


# --- max pooling, channel by channel ------------------------------------------------------

X_POOL = np.array(
    [
        [[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 3, 2], [2, 6, 1, 1]],
        [[7, 0, 1, 2], [1, 2, 8, 0], [3, 1, 0, 4], [0, 2, 5, 1]],
    ]
)  # (C=2, H=4, W=4); 2x2 windows, stride 2: channel 0 -> [[4, 5], [6, 3]], channel 1 -> [[7, 8], [3, 5]]


def numbers_in_reading_order(ax):
    return [t.get_text() for t in sorted(ax.texts, key=lambda t: (t.get_position()[1], t.get_position()[0]))]


def test_max_pool_writes_the_maximum_of_each_window_channel_by_channel():
    fig = plots.draw_max_pool(X_POOL)
    assert numbers_in_reading_order(axes_labelled(fig, "pooled 0")) == ["4", "5", "6", "3"]
    assert numbers_in_reading_order(axes_labelled(fig, "pooled 1")) == ["7", "8", "3", "5"]


def test_max_pool_marks_the_winning_cell_of_each_window_in_the_input():
    fig = plots.draw_max_pool(X_POOL)
    bold = [t for t in axes_labelled(fig, "input 0").texts if t.get_fontweight() == "bold"]
    assert sorted((round(t.get_position()[1]), round(t.get_position()[0])) for t in bold) == [(1, 0), (1, 3), (2, 2), (3, 1)]
    assert sorted(t.get_text() for t in bold) == ["3", "4", "5", "6"]


def test_max_pool_caption_says_channels_are_pooled_on_their_own():
    fig = plots.draw_max_pool(X_POOL, names=["red", "green"])
    caption = fig.get_supxlabel()
    assert "Each channel is pooled on its own: pooling never mixes channels." in caption
    assert "2 channels in, 2 channels out" in caption
    assert fig.get_suptitle() == "max pooling 2x2: x (2, 4, 4) → (2, 2, 2)"
    assert axes_labelled(fig, "pooled 1").get_title() == "pooled[1]: green"


def test_max_pool_with_overlapping_windows_and_uncovered_cells():
    x = np.arange(50).reshape(2, 5, 5) % 7
    fig = plots.draw_max_pool(x, size=3, stride=2)
    expected = [max(x[1, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].ravel()) for i in range(2) for j in range(2)]
    assert numbers_in_reading_order(axes_labelled(fig, "pooled 1")) == [str(v) for v in expected]
    assert fig.get_suptitle() == "max pooling 3x3, stride 2: x (2, 5, 5) → (2, 2, 2)"
    uncovered = plots.draw_max_pool(np.ones((1, 5, 5)))  # 2x2 windows, stride 2: the last row and column are left over
    assert "Grey cells: no window covers them." in uncovered.get_supxlabel()


@pytest.mark.parametrize(
    "x, size, message",
    [
        (np.zeros((5, 4, 4)), 2, r"at most 4 channels, got 5 \(shape \(5, 4, 4\)\)"),
        (np.zeros((2, 16, 16)), 2, r"at most 12 x 12 cells per channel, got 16 x 16"),
        (np.zeros((4, 4)), 2, r"x must have 3 axes \(C, H, W\)"),
        (np.zeros((1, 4, 4)), 5, "no window fits"),
        (np.zeros((1, 4, 4)), 1.5, "size must be a whole number"),
    ],
)
def test_max_pool_explains_what_it_needs(x, size, message):
    with pytest.raises(ValueError, match=message):
        plots.draw_max_pool(x, size=size)


# --- receptive fields ------------------------------------------------------------------------

CONV3 = ("conv", 4, 3, 1, 1)


@pytest.mark.parametrize(
    "layers, input_size, expected",
    [
        ([CONV3], 8, [("conv1_1", (4, 4), 3, 3, 3)]),
        ([CONV3, ("relu",), CONV3], 8, [("conv1_1", (4, 4), 3, 3, 3), ("conv1_2", (4, 4), 2, 2, 5)]),
        # pool unit i sees conv outputs 2i, 2i+1, which see pixels 2i-2 .. 2i+3: centred at 2i + 0.5, nearest 4 is i = 2
        ([CONV3, CONV3, ("pool", 2, 2)], 8, [("conv1_1", (4, 4), 3, 3, 3), ("conv1_2", (4, 4), 2, 2, 5),
                                            ("pool1", (2, 2), 2, 2, 6)]),
        # no padding, stride 2: unit i sees pixels 2i .. 2i+2 (centre 2i + 1); pixel 4 -> i = 2 (tie: the first)
        ([("conv", 1, 3, 2, 0)], 9, [("conv1_1", (2, 2), 4, 4, 3)]),
    ],
)
def test_receptive_field_boxes_match_hand_computed_fields(layers, input_size, expected):
    boxes = plots.receptive_field_boxes(layers, input_size)
    assert [(b.name, b.unit, b.row_start, b.col_start, b.size) for b in boxes] == expected


def test_receptive_field_of_vgg16_is_212_pixels():
    boxes = plots.receptive_field_boxes(vgg16(), 224)  # flatten and the fc layers are left out
    assert len(boxes) == 18
    assert [b.size for b in boxes if b.name.startswith("pool")] == [6, 16, 44, 100, 212]
    last = boxes[-1]
    # start: -(1+1) -2*2 -4*3 -8*3 -16*3 = -90 for unit 0; 32 pixels per unit; unit 3 of 7 centres on 15.5 + 96
    assert (last.name, last.unit, last.row_start, last.size) == ("pool5", (3, 3), 6, 212)


def test_receptive_field_boxes_follow_the_position_and_rows_and_columns_separately():
    boxes = plots.receptive_field_boxes([CONV3, CONV3], (6, 10), position=(0, 9))
    assert [(b.unit, b.row_start, b.col_start) for b in boxes] == [((0, 9), -1, 8), ((0, 9), -2, 7)]  # into the padding


@pytest.mark.parametrize(
    "layers, size",
    [
        ([CONV3, ("relu",), ("pool", 2, 2), ("conv", 3, 3, 2, 1), ("relu",), ("pool", 3, 2), ("conv", 2, 5, 1, 2)], 23),
        ([("conv", 2, 4, 2, 1), ("pool", 2, 1), ("conv", 2, 3, 1, 0)], 14),
    ],
)
def test_receptive_field_boxes_are_exactly_the_pixels_that_reach_the_unit(layers, size, rng):
    """An impulse at pixel p reaches the unit (positive weights, zero biases: ReLU and max pooling pass it on)
    exactly when p is in the unit's field. A field that crosses the image border counts padding at every layer,
    so there the pixels that reach the unit are only some of those in the (clipped) box."""
    params = [(np.abs(w) + 0.1, b) for w, b in init_params(layers, (1, size, size), rng, dtype=np.float64)]
    impulses = np.eye(size * size).reshape(size * size, 1, size, size)
    checked_inside = 0
    for position in [(size // 2, size // 2), (size // 3, size // 2), (1, size - 2)]:
        for depth in range(1, len(layers) + 1):
            stack = layers[:depth]
            if stack[-1][0] == "relu":
                continue
            box = plots.receptive_field_boxes(stack, size, position)[-1]
            used = sum(layer[0] == "conv" for layer in stack)
            reaches = forward(stack, params[:used], impulses)[:, 0, box.unit[0], box.unit[1]].reshape(size, size) > 0
            in_box = np.zeros((size, size), dtype=bool)
            in_box[max(box.row_start, 0) : box.row_start + box.size, max(box.col_start, 0) : box.col_start + box.size] = True
            inside = min(box.row_start, box.col_start) >= 0 and max(box.row_start, box.col_start) + box.size <= size
            if inside:
                np.testing.assert_array_equal(reaches, in_box, err_msg=f"after {box.name} at {position}")
                checked_inside += 1
            else:
                assert reaches.any() and not (reaches & ~in_box).any(), f"after {box.name} at {position}"
    assert checked_inside >= 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(layers=[CONV3], input_size=8, position=(8, 0)), r"position \(8, 0\) is outside the input, which has 8 rows"),
        (dict(layers=[CONV3], input_size=8, position=4), r"position must be a pair \(row, column\)"),
        (dict(layers=[("flatten",), ("linear", 3)], input_size=8), "at least one conv or pool layer before any flatten"),
        (dict(layers=[CONV3], input_size=0), "input_size must be a positive integer"),
    ],
)
def test_receptive_field_boxes_explain_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plots.receptive_field_boxes(**kwargs)


def legend_texts(fig):
    return [t.get_text() for t in fig.legends[0].get_texts()]


def test_receptive_field_picture_labels_each_layers_field():
    fig = plots.draw_receptive_field(SMALL_STACK, input_size=16)
    assert legend_texts(fig) == [
        "after conv1_1: 3x3", "after pool1: 4x4", "after conv2_1: 8x8", "after pool2: 10x10", "pixel (8, 8)",
    ]
    outlines = [p for p in axes_labelled(fig, "input").patches if p.get_label().startswith("after")]
    assert sorted(p.get_width() for p in outlines) == [3, 4, 8, 10]
    assert fig.get_size_inches()[0] <= plots.MAX_FIGURE_WIDTH


def test_receptive_field_picture_clips_at_the_border_and_says_when_the_field_is_larger_than_the_image():
    photo = plots.sample_photo(64)  # (3, 64, 55)
    fig = plots.draw_receptive_field(vgg16(), image=photo)
    texts = legend_texts(fig)
    assert "after pool3: 44x44" in texts
    assert "after pool5: 212x212, larger than the image" in texts
    outline = next(p for p in axes_labelled(fig, "input").patches if p.get_label().startswith("after pool5"))
    assert (outline.get_width(), outline.get_height()) == (55, 64)  # clipped to the image
    corner = plots.draw_receptive_field([CONV3], image=np.zeros((8, 8)), position=(0, 0))
    assert legend_texts(corner)[0] == "after conv1_1: 3x3, partly padding"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(), "give either image .* or input_size .*, got neither"),
        (dict(image=np.zeros((8, 8)), input_size=8), "got both"),
        (dict(image=np.zeros((2, 8, 8))), r"colour image \(3, H, W\) or a grey one \(H, W\), got shape \(2, 8, 8\)"),
    ],
)
def test_receptive_field_picture_explains_what_to_draw_on(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plots.draw_receptive_field([CONV3], **kwargs)


@pytest.mark.parametrize(
    "draw",
    [
        lambda: plots.draw_stack(SMALL_STACK, (3, 32, 32)),
        lambda: plots.draw_network(vgg16()),
        lambda: plots.draw_max_pool(np.arange(108).reshape(3, 6, 6) % 10),
        lambda: plots.draw_receptive_field(SMALL_STACK, image=plots.sample_photo(32)),
    ],
    ids=["stack", "network", "max_pool", "receptive_field"],
)
def test_every_network_picture_is_a_figure_that_renders(draw):
    fig = draw()
    assert isinstance(fig, Figure)
    fig.canvas.draw()


# --- notebook 06 ---------------------------------------------------------------------


def test_activation_std_draws_one_line_per_initialisation_on_a_log_scale():
    figure = plots.draw_activation_std({"too small": [0.5, 0.25, 0.125], "He": [1.0, 1.1, 0.9]})
    ax = figure.axes[0]
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")] == ["too small", "He"]
    plt.close(figure)


@pytest.mark.parametrize("stds, message", [
    ({}, "at least one label"),
    ({"a": [1, 2], "b": [1, 2, 3]}, "all the same length"),
    ({"a": [1.0, 0.0]}, "positive, finite"),
])
def test_activation_std_refuses_what_it_cannot_draw(stds, message):
    with pytest.raises(ValueError, match=message):
        plots.draw_activation_std(stds)
