"""Notebook 03's central picture: C_out filters on C_in channels make C_out maps, not C_out x C_in.

draw_filters_to_maps and its animation are read back from their artists (the
gids they give the input's slices, each filter's slices and wires, the maps and
the grid of kernels) and from the words they write, and checked against counts
worked out by hand: 128 x 64 = 8192 kernels, 64 wires per filter, 16 with groups = 4.
"""

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display needed

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.animation import FuncAnimation  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from conv_lib import plots  # noqa: E402
from conv_lib.shapes import channels_of_filter  # noqa: E402
from test_plots import all_text as texts_of  # noqa: E402
from test_plots import close_figures  # noqa: E402, F401 (autouse: every figure is closed after each test)
from test_plots_groups_depthwise import by_gid  # noqa: E402


def all_text(fig):
    return " ".join(texts_of(fig))


def panel(fig, label):
    """The axes labelled ``label``: "wiring" (input, filters, maps) or "kernels" (the grid)."""
    matches = [ax for ax in fig.axes if ax.get_label() == label]
    assert len(matches) == 1, f"expected one axes labelled {label!r}, found {[ax.get_label() for ax in fig.axes]}"
    return matches[0]


def collection(ax, gid):
    matches = [c for c in ax.collections if c.get_gid() == gid]
    assert len(matches) == 1, f"expected one collection {gid!r}, found {len(matches)}"
    return matches[0]


def kernel_grid(fig):
    """The grid's data: one entry per (input channel, filter), 1 where that kernel exists."""
    images = [image for image in panel(fig, "kernels").images if image.get_gid() == "kernel grid"]
    assert len(images) == 1
    return np.asarray(images[0].get_array())


def drawn_filters(ax):
    """The filters drawn in the wiring panel, from their stacks' gids, in order."""
    return sorted(int(c.get_gid().split()[1]) for c in ax.collections if (c.get_gid() or "").startswith("filter "))


def slices(ax, gid):
    """How many slices the stack ``gid`` ("input" or "filter f") has."""
    return len(collection(ax, gid).get_paths())


def input_ports(ax):
    """Where a wire leaves each input channel's slice (the middle of its right edge), channel 0 the top slice."""
    corners = [path.vertices[:4] for path in collection(ax, "input").get_paths()]
    ports = [(a[1] + a[2]) / 2 for a in corners]   # corners: front left, front right, back right, back left
    return sorted(ports, key=lambda point: -point[1])


def channels_wired_to(ax, f):
    """The input channels that filter f's wires start from."""
    ports = input_ports(ax)
    channels = set()
    for start, _ in collection(ax, f"wires {f}").get_segments():
        matches = [c for c, port in enumerate(ports) if np.allclose(start, port)]
        assert len(matches) == 1, f"a wire of filter {f} starts at {start}, on no input slice"
        channels.add(matches[0])
    return channels


def wire_count(ax, f):
    return len(collection(ax, f"wires {f}").get_segments())


def visible_filters(fig):
    """The filters whose stacks of slices are shown."""
    ax = panel(fig, "wiring")
    return [f for f in drawn_filters(ax) if collection(ax, f"filter {f}").get_visible()]


# --- the standard layer: VGG's 64 channels -> 128 maps ----------------------------------------


@pytest.fixture
def vgg_layer():
    return plots.draw_filters_to_maps(C_in=64, C_out=128, kernel_size=3)


def test_the_grid_has_one_kernel_per_filter_and_input_channel(vgg_layer):
    grid = kernel_grid(vgg_layer)
    assert grid.shape == (64, 128)          # rows: input channels; columns: filters
    assert grid.sum() == 8192               # 128 x 64, every filter meets every channel
    assert "128 × 64 = 8,192 kernels" in all_text(vgg_layer)


def test_the_words_count_kernels_sums_and_maps(vgg_layer):
    words = all_text(vgg_layer)
    assert "128 sums → 128 maps" in words
    assert "not 8,192" in words
    assert "128 filters,\neach (64, 3, 3)" in words
    assert "output\n128 maps" in words


def test_every_input_channel_is_a_slice(vgg_layer):
    assert slices(panel(vgg_layer, "wiring"), "input") == 64


def test_the_first_filters_and_the_last_are_drawn_and_the_rest_counted(vgg_layer):
    ax = panel(vgg_layer, "wiring")
    assert drawn_filters(ax) == [0, 1, 2, 127]
    assert "124 more filters,\n124 more maps" in all_text(vgg_layer)     # 4 drawn + 124 = 128


def test_each_drawn_filter_is_64_slices_deep_and_wired_to_all_64_channels(vgg_layer):
    ax = panel(vgg_layer, "wiring")
    for f in (0, 1, 2, 127):
        assert slices(ax, f"filter {f}") == 64
        assert wire_count(ax, f) == 64
        assert channels_wired_to(ax, f) == set(range(64))


def test_each_drawn_filter_makes_one_map_with_one_sum(vgg_layer):
    ax = panel(vgg_layer, "wiring")
    assert sorted(by_gid(ax, "map ")) == ["map 0", "map 1", "map 127", "map 2"]
    assert sorted(by_gid(ax, "sum ")) == ["sum 0", "sum 1", "sum 127", "sum 2"]
    words = all_text(vgg_layer)
    assert all(f"Σ + b[{f}]" in words for f in (0, 1, 2, 127))


def test_each_drawn_filter_has_its_column_of_64_kernels_and_its_map_in_the_grid(vgg_layer):
    grid_panel = panel(vgg_layer, "kernels")
    for f in (0, 1, 2, 127):
        column = by_gid(grid_panel, f"kernel column {f}")[f"kernel column {f}"]
        assert (column.get_x(), column.get_y(), column.get_width(), column.get_height()) == (f, 0, 1, 64)
        assert f"map cell {f}" in by_gid(grid_panel, "map cell ")
    maps = [image for image in grid_panel.images if image.get_gid() == "maps row"]
    assert np.asarray(maps[0].get_array()).shape == (1, 128)


def test_a_colour_image_layer_has_three_deep_filters():
    fig = plots.draw_filters_to_maps(C_in=3, C_out=64)
    ax = panel(fig, "wiring")
    assert kernel_grid(fig).shape == (3, 64) and kernel_grid(fig).sum() == 192
    assert all(slices(ax, f"filter {f}") == 3 and channels_wired_to(ax, f) == {0, 1, 2} for f in drawn_filters(ax))
    assert "64 × 3 = 192 kernels" in all_text(fig)


def test_few_filters_are_all_drawn_without_dots():
    fig = plots.draw_filters_to_maps(C_in=2, C_out=4, shown=3)
    assert drawn_filters(panel(fig, "wiring")) == [0, 1, 2, 3]
    assert "more filters" not in all_text(fig)


# --- groups -------------------------------------------------------------------------------------


def test_with_four_groups_each_filter_is_wired_to_its_groups_16_channels_only():
    fig = plots.draw_filters_to_maps(C_in=64, C_out=128, groups=4)
    ax = panel(fig, "wiring")
    expected = {0: range(0, 16), 1: range(0, 16), 2: range(0, 16), 127: range(48, 64)}   # 32 filters per group
    for f, channels in expected.items():
        assert slices(ax, f"filter {f}") == 16 and wire_count(ax, f) == 16
        assert channels_wired_to(ax, f) == set(channels) == set(channels_of_filter(f, 64, 128, 4))


def test_with_four_groups_the_grid_is_block_diagonal():
    grid = kernel_grid(plots.draw_filters_to_maps(C_in=64, C_out=128, groups=4))
    assert grid.sum() == 128 * 16
    for g in range(4):   # block g: channels 16g..16g+15, filters 32g..32g+31
        assert grid[16 * g : 16 * (g + 1), 32 * g : 32 * (g + 1)].all()
    assert grid.sum(axis=0).tolist() == [16] * 128          # each column: 16 kernels
    assert grid.sum(axis=1).tolist() == [32] * 64           # each channel: the 32 filters of its group


def test_with_four_groups_the_words_count_16_deep_filters():
    words = all_text(plots.draw_filters_to_maps(C_in=64, C_out=128, groups=4))
    assert "128 × 16 = 2,048 kernels" in words
    assert "each (16, 3, 3)" in words
    assert "128 sums → 128 maps" in words


@pytest.mark.parametrize("channels", [8, 32])
def test_depthwise_wires_each_filter_to_its_own_channel(channels):
    fig = plots.draw_filters_to_maps(C_in=channels, C_out=channels, groups=channels)
    ax = panel(fig, "wiring")
    for f in drawn_filters(ax):
        assert slices(ax, f"filter {f}") == 1 and wire_count(ax, f) == 1
        assert channels_wired_to(ax, f) == {f}
    np.testing.assert_array_equal(kernel_grid(fig), np.eye(channels))
    assert "nothing to sum" in all_text(fig)


def test_kernel_mask_with_two_groups():
    np.testing.assert_array_equal(plots.kernel_mask(4, 6, groups=2), [[1, 1, 1, 0, 0, 0]] * 2 + [[0, 0, 0, 1, 1, 1]] * 2)


# --- arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    ({"C_in": 64, "C_out": 128, "groups": 3}, "groups must divide both C_in and C_out: C_in = 64 input channels "
                                              "cannot be cut into 3 equal groups"),
    ({"C_in": 8, "C_out": 6, "groups": 4}, "groups must divide both C_in and C_out: C_out = 6 filters cannot be cut"),
    ({"C_in": 0}, r"C_in must be a positive integer \(1 or more\), got 0"),
    ({"C_out": -2}, r"C_out must be a positive integer \(1 or more\), got -2"),
    ({"kernel_size": 2.5}, r"kernel_size must be a whole number, got 2.5"),
    ({"groups": 0}, r"groups must be a positive integer \(1 or more\), got 0"),
    ({"shown": 7}, "shown .* must be 1..6, got 7"),
    ({"C_in": 4096}, "C_in must be at most 1024, got C_in = 4096"),
])
def test_bad_arguments_are_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plots.draw_filters_to_maps(**kwargs)
    with pytest.raises(ValueError, match=message):
        plots.animate_filters_to_maps(**kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"C_in": 3, "C_out": 64}, {"groups": 4}, {"C_in": 8, "C_out": 8, "groups": 8}])
def test_the_picture_is_a_figure_that_renders(kwargs):
    fig = plots.draw_filters_to_maps(**kwargs)
    assert isinstance(fig, Figure)
    fig.canvas.draw()


# --- the animation -------------------------------------------------------------------------------

# These tests step through frames by hand, so matplotlib's "deleted without rendering anything" is expected.
quiet_animation = pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")


@quiet_animation
def test_the_animation_adds_one_filter_per_frame_then_jumps_to_the_last():
    animation = plots.animate_filters_to_maps(C_in=64, C_out=128, shown=3)
    assert isinstance(animation, FuncAnimation)
    fig = animation._fig
    assert len(list(animation.new_frame_seq())) == 4        # filters 0, 1, 2, then 127
    seen = []
    for frame in range(4):
        animation.show_frame(frame)
        seen.append(visible_filters(fig))
    assert seen == [[0], [0, 1], [0, 1, 2], [0, 1, 2, 127]]
    assert "128 filters → 128 maps" in all_text(fig)       # the last frame's words


@quiet_animation
def test_the_animation_shows_the_dots_only_with_the_last_filter():
    animation = plots.animate_filters_to_maps(C_in=64, C_out=128, shown=3)
    fig = animation._fig
    dots = [t for t in panel(fig, "wiring").texts if "more filters" in t.get_text()]
    animation.show_frame(0)
    assert not dots[0].get_visible()
    assert "1 filter → 1 map" in [t.get_text() for t in fig.texts]
    animation.show_frame(3)
    assert dots[0].get_visible()


@quiet_animation
def test_the_animation_of_a_small_layer_has_one_frame_per_filter():
    animation = plots.animate_filters_to_maps(C_in=4, C_out=4, groups=2)
    assert len(list(animation.new_frame_seq())) == 4
    animation.show_frame(1)
    assert visible_filters(animation._fig) == [0, 1]


@quiet_animation
def test_the_animation_renders_without_a_second_figure_open():
    animation = plots.animate_filters_to_maps(C_in=8, C_out=8, shown=2)
    assert not plots.plt.fignum_exists(animation._fig.number)   # closed: the notebook shows no static copy
    assert "<script" in animation.to_jshtml()


# --- draw_weight_tensor counts from 0, as w[0] does -----------------------------------------------


def test_weight_tensor_labels_count_from_0_as_the_weights_do():
    words = all_text(plots.draw_weight_tensor(4, 3, 3, 3, highlight=1))
    for f in range(4):
        assert f"filter {f}\nw[{f}]: (3, 3, 3)" in words
    assert "filter 4" not in words
