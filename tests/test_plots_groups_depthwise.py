"""Notebook 07's pictures: each filter of a grouped layer is drawn meeting exactly its group's channels.

The figures are read back from their artists (the gids draw_groups gives its
squares and wires, the colours they carry, the text they write), not by eye.
"""

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display needed

import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from conv_lib import plots  # noqa: E402
from test_plots import all_text as texts_of  # noqa: E402
from test_plots import close_figures  # noqa: E402, F401 (autouse: every figure is closed after each test)


def all_text(fig):
    return " ".join(texts_of(fig))


def panel(fig, groups):
    """The axes that draws one value of groups."""
    matches = [ax for ax in fig.axes if ax.get_label() == f"groups={groups}"]
    assert len(matches) == 1, f"expected one panel for groups={groups}, found {[ax.get_label() for ax in fig.axes]}"
    return matches[0]


def by_gid(ax, prefix):
    """{gid: artist} for the patches and lines of ax whose gid starts with prefix."""
    artists = list(ax.patches) + list(ax.lines)
    return {a.get_gid(): a for a in artists if (a.get_gid() or "").startswith(prefix)}


def input_colours(ax, c_in):
    squares = by_gid(ax, "input ")
    assert sorted(squares) == sorted(f"input {c}" for c in range(c_in))
    return [to_rgba(squares[f"input {c}"].get_facecolor()) for c in range(c_in)]


def slice_colours(ax, f):
    """The face colours of filter f's slices, in order."""
    slices = by_gid(ax, f"filter {f} slice ")
    return [to_rgba(slices[f"filter {f} slice {s}"].get_facecolor()) for s in range(len(slices))]


def wires(ax):
    """The (channel, filter) pairs joined by a line."""
    pairs = set()
    for gid in by_gid(ax, "wire "):
        channel, _, f = gid.removeprefix("wire ").partition(" -> ")
        pairs.add((int(channel), int(f)))
    return pairs


# --- which channels each filter meets (no picture) --------------------------------------


@pytest.mark.parametrize("c_in, c_out, groups, expected", [
    (4, 4, 1, [[0, 1, 2, 3]] * 4),
    (4, 4, 2, [[0, 1], [0, 1], [2, 3], [2, 3]]),
    (4, 4, 4, [[0], [1], [2], [3]]),
    (4, 8, 4, [[0], [0], [1], [1], [2], [2], [3], [3]]),   # depthwise with two filters per channel
    (6, 2, 2, [[0, 1, 2], [3, 4, 5]]),
])
def test_groups_wiring_cuts_channels_and_filters_into_consecutive_groups(c_in, c_out, groups, expected):
    assert plots.groups_wiring(c_in, c_out, groups) == expected


@pytest.mark.parametrize("c_in, c_out, groups, named", [(4, 4, 3, "C_in = 4"), (4, 6, 4, "C_out = 6")])
def test_groups_must_divide_both_channel_counts(c_in, c_out, groups, named):
    with pytest.raises(ValueError, match=f"groups must divide both C_in and C_out: {named}"):
        plots.groups_wiring(c_in, c_out, groups)
    with pytest.raises(ValueError, match="groups must divide"):
        plots.draw_groups(c_in, c_out, groups_list=(groups,))


# --- draw_groups -------------------------------------------------------------------------


def test_default_panels_are_standard_two_groups_and_depthwise():
    fig = plots.draw_groups(4, 4)
    assert [ax.get_label() for ax in fig.axes] == ["groups=1", "groups=2", "groups=4"]
    text = all_text(fig)
    assert "groups = 1\n(standard)" in text and "groups = 4 = C_in\n(depthwise)" in text
    assert "2 groups of 2 channels" in text


def test_default_panels_skip_values_that_do_not_divide_and_repeat_none():
    assert [ax.get_label() for ax in plots.draw_groups(2, 4).axes] == ["groups=1", "groups=2"]
    assert [ax.get_label() for ax in plots.draw_groups(3, 6).axes] == ["groups=1", "groups=3"]


def test_each_input_channel_has_its_own_colour():
    fig = plots.draw_groups(4, 4)
    for groups in (1, 2, 4):
        colours = input_colours(panel(fig, groups), 4)
        assert len(set(colours)) == 4
        assert colours == [to_rgba(c) for c in plots.channel_colours(4)]


def test_with_two_groups_each_filter_carries_exactly_its_groups_two_colours():
    ax = panel(plots.draw_groups(4, 4, groups_list=(2,)), 2)
    colours = input_colours(ax, 4)
    for f in range(4):
        group = f // 2                               # filters 0, 1 -> channels 0, 1; filters 2, 3 -> channels 2, 3
        assert slice_colours(ax, f) == [colours[2 * group], colours[2 * group + 1]]
    assert wires(ax) == {(c, f) for f in range(4) for c in range(4) if c // 2 == f // 2}


def test_standard_filters_carry_every_channels_colour_and_are_wired_to_every_channel():
    ax = panel(plots.draw_groups(4, 4), 1)
    colours = input_colours(ax, 4)
    for f in range(4):
        assert slice_colours(ax, f) == colours
    assert wires(ax) == {(c, f) for c in range(4) for f in range(4)}


def test_depthwise_filters_have_one_slice_in_their_own_channels_colour():
    ax = panel(plots.draw_groups(4, 8, groups_list=(4,)), 4)
    colours = input_colours(ax, 4)
    for f in range(8):
        assert slice_colours(ax, f) == [colours[f // 2]]
    assert wires(ax) == {(f // 2, f) for f in range(8)}
    assert sorted(by_gid(ax, "map ")) == sorted(f"map {f}" for f in range(8))   # one map per filter


def test_every_panel_gives_the_weights_shape_and_count():
    text = all_text(plots.draw_groups(4, 8, k=3))
    assert "w: (8, 4, 3, 3)" in text and "288 weights" in text
    assert "w: (8, 2, 3, 3)" in text and "144 weights" in text
    assert "w: (8, 1, 3, 3)" in text and "72 weights" in text


def test_one_shaded_band_per_group():
    fig = plots.draw_groups(6, 6, groups_list=(1, 3, 6))
    for groups in (1, 3, 6):
        assert sorted(by_gid(panel(fig, groups), "group ")) == sorted(f"group {g}" for g in range(groups))


def test_draw_groups_refuses_what_it_cannot_draw_whole():
    with pytest.raises(ValueError, match="every channel: at most 20, got C_in = 21"):
        plots.draw_groups(21, 3)
    with pytest.raises(ValueError, match="at most 20 channels"):
        plots.channel_colours(21)
    with pytest.raises(ValueError, match="at most 20, got C_out = 24"):
        plots.draw_groups(4, 24)
    with pytest.raises(ValueError, match="at least one value"):
        plots.draw_groups(4, 4, groups_list=())


# --- draw_separable ----------------------------------------------------------------------


def test_separable_counts_each_step_and_compares_with_a_standard_layer():
    text = all_text(plots.draw_separable(32, 64, 3))
    assert "32 filters of (1, 3, 3)" in text and "64 filters of (32, 1, 1)" in text
    assert "32·(3·3 + 1) = 320 parameters" in text
    assert "64·(32 + 1) = 2,112 parameters" in text
    assert "320 + 2,112 = 2,432 parameters" in text
    assert "64·(32·3·3 + 1) = 18,496" in text and "(7.6x more)" in text
    assert "multiply-adds" not in text


def test_separable_with_a_map_size_counts_the_multiply_adds_too():
    text = all_text(plots.draw_separable(512, 512, 3, size=14))
    depthwise, pointwise, standard = 14 * 14 * 512 * 9, 14 * 14 * 512 * 512, 14 * 14 * 512 * 9 * 512
    assert f"{depthwise:,} multiply-adds" in text and f"{pointwise:,} multiply-adds" in text
    assert f"separable {depthwise + pointwise:,}" in text and f"standard {standard:,}" in text
    assert "(8.8x more)" in text
    assert "(512, 14, 14)" in text


@pytest.mark.parametrize("draw", [
    lambda: plots.draw_groups(4, 4),
    lambda: plots.draw_groups(2, 6, groups_list=(1, 2)),
    lambda: plots.draw_groups(16, 16, groups_list=(1, 4, 16), k=5),
    lambda: plots.draw_separable(32, 64, 3, size=(112, 112)),
    lambda: plots.draw_separable(3, 1, 1),
], ids=["groups_4", "groups_2_6", "groups_16", "separable_size", "separable_tiny"])
def test_every_picture_is_a_figure_that_renders(draw):
    fig = draw()
    assert isinstance(fig, Figure)
    fig.canvas.draw()
