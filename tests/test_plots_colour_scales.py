"""Pictures that put channels side by side draw them on ONE colour scale, and say what they show.

A learner compares panels by their colours: the same colour must mean the same
number in every channel panel. Each test reads the scales back from the figure's
AxesImage artists (get_clim) and compares them with numbers worked out by hand.
Also here: the channel colours are equally light, show_maps' colour bar, the
mismatch picture's headline wrapped to the figure's width, and the numbers that
notebooks 02 and 04 quote about their pictures.
"""

import io

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display needed

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from PIL import Image  # noqa: E402

from conv_lib import plots  # noqa: E402
from test_plots import axes_labelled  # noqa: E402
from test_plots import close_figures  # noqa: E402, F401 (autouse: every figure is closed after each test)

#: Notebook 02's 2-channel example (Dive into Deep Learning's): responses 19..43 and 37..77, sum 56..120.
X_D2L = np.array([[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]])
W_D2L = np.array([[[0, 1], [2, 3]], [[1, 2], [3, 4]]])

#: Notebook 04's small stack, and its pooling example (values 0..9).
SMALL_STACK = [("conv", 8, 3, 1, 1), ("relu",), ("pool", 2, 2), ("conv", 16, 3, 1, 1), ("relu",), ("pool", 2, 2)]
X_POOL = np.array([
    [[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [6, 2, 3, 1]],
    [[0, 9, 1, 1], [2, 1, 0, 3], [4, 4, 2, 2], [1, 8, 6, 0]],
])


def clim_of(fig, label):
    """The (vmin, vmax) of the one value image in the axes labelled ``label``."""
    images = [image for image in axes_labelled(fig, label).images if image.get_array().ndim == 2]
    assert len(images) == 1, f"expected one value image in {label!r}, found {len(images)}"
    return tuple(float(v) for v in images[0].get_clim())


def colour_bars(fig):
    """The colour bar axes of the figure (matplotlib labels them "<colorbar>")."""
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


# --- one scale across the channel panels ------------------------------------------------------


def test_show_channels_draws_every_channel_of_a_photo_on_0_to_1():
    fig = plots.show_channels(plots.sample_photo(32))
    assert [clim_of(fig, f"channel {c}") for c in range(3)] == [(0.0, 1.0)] * 3


def test_show_channels_draws_other_values_from_the_smallest_to_the_largest_of_all_channels():
    x = np.array([[[0, 1], [2, 3]], [[10, 11], [12, 13]], [[-5, 0], [0, 5]]])  # smallest -5, largest 13
    fig = plots.show_channels(x, names=["a", "b", "c"])
    assert [clim_of(fig, f"channel {c}") for c in range(3)] == [(-5.0, 13.0)] * 3


def test_channel_sum_puts_each_row_on_one_scale_and_the_sum_on_the_responses_scale():
    fig = plots.draw_channel_sum(X_D2L, W_D2L, names=["channel 0", "channel 1"])
    assert [clim_of(fig, f"input {c}") for c in range(2)] == [(0.0, 9.0)] * 2        # inputs 0..9
    assert [clim_of(fig, f"kernel {c}") for c in range(2)] == [(-4.0, 4.0)] * 2      # largest |w| is 4
    # responses [[19, 25], [37, 43]] and [[37, 47], [67, 77]]; their sum [[56, 72], [104, 120]]
    scales = [clim_of(fig, f"response {c}") for c in range(2)] + [clim_of(fig, "sum")]
    assert scales == [(-120.0, 120.0)] * 3


def test_channel_sum_on_a_photo_gives_the_shared_scale_of_responses_and_sum_a_colour_bar():
    photo = plots.sample_photo(48)
    fig = plots.draw_channel_sum(photo, np.ones((3, 3, 3)) / 27)
    assert len({clim_of(fig, f"response {c}") for c in range(3)} | {clim_of(fig, "sum")}) == 1
    (bar,) = colour_bars(fig)
    assert tuple(bar.get_ylim()) == pytest.approx(clim_of(fig, "sum"))
    assert bar.get_ylabel() == "responses and sum: one scale"


def test_show_maps_centred_on_0_spans_minus_to_plus_the_largest_absolute_value():
    maps = np.array([[[1, -2], [0, 3]], [[-7, 0], [2, 1]]])  # largest |value|: 7
    fig = plots.show_maps(maps)
    assert [clim_of(fig, f"map {m}") for m in range(2)] == [(-7.0, 7.0)] * 2


def test_show_maps_not_centred_spans_the_smallest_to_the_largest_value_of_all_maps():
    maps = [np.array([[0.5, 1.0], [2.0, 4.0]]), np.array([[0.0, 0.25], [0.25, 0.5]]), np.full((3, 3), 1.0)]
    fig = plots.show_maps(maps, symmetric=False)
    assert [clim_of(fig, f"map {m}") for m in range(3)] == [(0.0, 4.0)] * 3  # not each map its own min..max


def test_max_pool_draws_inputs_and_pooled_maps_on_the_inputs_range():
    fig = plots.draw_max_pool(X_POOL, names=["channel 0", "channel 1"])
    labels = [f"{kind} {c}" for kind in ("input", "pooled") for c in range(2)]
    assert [clim_of(fig, label) for label in labels] == [(0.0, 9.0)] * 4


def test_mismatch_draws_expected_and_yours_on_one_scale_across_channels_and_the_differences_on_theirs():
    expected = np.zeros((2, 2, 2))
    given = expected.copy()
    given[1, 0, 0] = 6  # a difference of 6; the largest value of both arrays is 6 too
    given[0, 1, 1] = -2
    fig = plots.show_mismatch(expected, given)
    values = [clim_of(fig, f"{kind} {c}") for kind in ("expected", "given") for c in range(2)]
    differences = [clim_of(fig, f"difference {c}") for c in range(2)]
    assert values == [(-6.0, 6.0)] * 4
    assert differences == [(-6.0, 6.0)] * 2


def test_the_pictures_without_values_draw_no_colour_scale_to_disagree():
    """draw_groups and draw_separable colour channels by name (categorical colours), not by value."""
    for fig in (plots.draw_groups(4, 4), plots.draw_separable(32, 64, 3, size=112)):
        assert fig.findobj(AxesImage) == []


def test_the_receptive_field_picture_is_one_image_panel():
    fig = plots.draw_receptive_field(SMALL_STACK, image=plots.sample_photo(32, square=True))
    assert len(fig.findobj(AxesImage)) == 1


# --- the channel colours are equally light ------------------------------------------------------


def cie_lightness(rgb):
    """CIE L* of sRGB colours (..., 3) in 0..1: linearise, weigh into luminance Y, then 116 Y^(1/3) - 16."""
    rgb = np.asarray(rgb, dtype=float)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    y = linear @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(y > (6 / 29) ** 3, 116 * np.cbrt(y) - 16, y * (29 / 3) ** 3)


def test_red_green_and_blue_are_equally_bright_at_every_value_and_grow_evenly():
    values = np.linspace(0, 1, 11)
    lightness = {name: cie_lightness(plots.channel_colormap(name)(values)[:, :3]) for name in ("red", "green", "blue")}
    for name in ("green", "blue"):
        np.testing.assert_allclose(lightness[name], lightness["red"], atol=1.0)  # within 1 of 100 L* units
    steps = np.diff(lightness["red"])
    assert lightness["red"][0] == pytest.approx(0, abs=0.5)        # black
    np.testing.assert_allclose(steps, steps.mean(), atol=0.6)      # even steps: lightness follows the value


def test_a_channels_full_value_is_its_colour():
    for name in ("red", "green", "blue"):
        top = plots.channel_colormap(name)(1.0)[:3]
        np.testing.assert_allclose(top, matplotlib.colors.to_rgb(plots.CHANNEL_TINTS[name]), atol=0.01)
    assert plots.channel_colormap("channel 0") is None


# --- show_maps' colour bar ------------------------------------------------------------------------


def test_show_maps_colour_bar_gives_the_shared_scale_and_says_so():
    maps = np.array([[[0.0, 2.0], [1.0, 3.0]], [[0.5, 0.0], [5.0, 1.0]]])  # after a ReLU: 0..5
    fig = plots.show_maps(maps, cmap="viridis", symmetric=False, colorbar=True)
    (bar,) = colour_bars(fig)
    assert tuple(bar.get_ylim()) == (0.0, 5.0) == clim_of(fig, "map 0") == clim_of(fig, "map 1")
    assert bar.get_ylabel() == "value (one scale for all 2 maps)"


def test_show_maps_has_a_colour_bar_by_default_only_when_centred_on_0():
    maps = np.arange(8.0).reshape(2, 2, 2)
    assert len(colour_bars(plots.show_maps(maps))) == 1
    assert colour_bars(plots.show_maps(maps, symmetric=False)) == []
    assert colour_bars(plots.show_maps(maps, colorbar=False)) == []


def test_show_maps_colorbar_must_be_true_false_or_none():
    with pytest.raises(ValueError, match=r"colorbar must be True, False or None .* got 'yes'"):
        plots.show_maps(np.zeros((2, 3, 3)), colorbar="yes")


# --- a long headline wraps instead of widening the picture -------------------------------------------

LONG_HEADLINE = ("[mean-not-sum] [bias-per-channel] Your conv2d_multi_in averaged the channel responses instead "
                 "of adding them, so every value is the sum divided by the number of channels, and the bias was "
                 "added once per channel instead of once per map")


def saved_width_in_pixels(fig):
    """The width of the PNG the notebook shows: the inline backend saves at fig.dpi with bbox_inches="tight"."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")
    buffer.seek(0)
    return Image.open(buffer).size[0]


@pytest.mark.parametrize("expected, given, width", [
    (np.arange(9.0).reshape(3, 3), np.arange(9.0).reshape(3, 3) / 2, 9.5),   # same shapes
    (np.zeros((4, 4)), np.zeros((3, 3)), 8.0),                               # shapes differ
], ids=["values", "shapes"])
def test_a_long_headline_wraps_onto_lines_and_the_picture_keeps_its_width(expected, given, width):
    fig = plots.show_mismatch(expected, given, title=LONG_HEADLINE)
    assert fig.get_size_inches()[0] == width
    assert saved_width_in_pixels(fig) <= (width + 0.2) * fig.dpi  # bbox "tight" pads 0.1 inch on each side
    lines = fig.get_suptitle().split("\n")
    assert len(lines) >= 3  # the headline on two lines or more, then the verdict
    assert " ".join(lines[:-1]) == LONG_HEADLINE  # wrapped at spaces, nothing lost


def test_a_short_headline_stays_on_one_line():
    fig = plots.show_mismatch(np.eye(2), np.eye(2), title="conv2d_multi_in")
    assert fig.get_suptitle() == "conv2d_multi_in\nall values match"


# --- the numbers the notebooks quote about their pictures --------------------------------------------


def test_notebook_02s_photo_regions_have_the_channel_means_its_text_quotes():
    photo = plots.sample_photo(size=128)
    wall, stripe, uniform = photo[:, 5:60, 95:], photo[:, 68:76, 12:28], photo[:, 90:105, 8:30]
    # "brightest in the blue channel (0.75), about half as bright in the green one (0.49), dimmer still in red (0.34)"
    np.testing.assert_allclose(wall.mean(axis=(1, 2)), [0.34, 0.49, 0.75], atol=0.005)
    # "bright in the red channel only (0.51, against 0.08 and 0.09)"; the uniform "about 0.1" in all three
    np.testing.assert_allclose(stripe.mean(axis=(1, 2)), [0.51, 0.08, 0.09], atol=0.005)
    np.testing.assert_allclose(uniform.mean(axis=(1, 2)), [0.1, 0.1, 0.1], atol=0.02)


def test_notebook_04s_receptive_fields_are_drawn_on_the_stacks_32x32_input():
    image = plots.sample_photo(size=32, square=True)
    assert image.shape == (3, 32, 32)  # small_stack's input shape in 4.4
    fig = plots.draw_receptive_field(SMALL_STACK, image=image)
    assert fig.get_suptitle() == "receptive fields on the 32x32 input: units over pixel (16, 16)"
    # r <- r + (k - 1) j, j <- j s: conv 3 (r 3), pool 2/2 (r 4, j 2), conv 3 (r 4 + 2*2 = 8), pool 2/2 (r 8 + 2 = 10)
    labels = [patch.get_label() for patch in axes_labelled(fig, "input").patches if patch.get_label().startswith("after")]
    assert sorted(labels) == ["after conv1_1: 3x3", "after conv2_1: 8x8", "after pool1: 4x4", "after pool2: 10x10"]
