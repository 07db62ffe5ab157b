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
    assert "filter 128" in texts and "filter 4" not in texts
    assert "64 channels" in texts


def test_weight_tensor_highlight_is_drawn_even_when_it_would_be_skipped():
    fig = plots.draw_weight_tensor(128, 64, 3, 3, highlight=50)
    assert "filter 51" in " ".join(all_text(fig))


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
