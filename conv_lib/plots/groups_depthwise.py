"""The pictures of notebook 07 (groups and depthwise): which input channels each filter sees.

    draw_groups             the weights (C_out, C_in/groups, kH, kW) for several values of
                            groups side by side: each filter's slices drawn in the colours of
                            the input channels they meet, with a line to each of those channels
    draw_separable          a depthwise-separable layer, depthwise k x k then pointwise 1 x 1,
                            as boxes, with its parameters (and multiply-adds) beside a standard layer's
    groups_wiring           (no picture) which input channels each filter of a grouped layer meets
    channel_colours         (no picture) one distinct colour per input channel, as draw_groups uses them

The rule behind both: with ``groups`` groups, the C_in input channels are cut
into groups of C_in/groups consecutive channels, and the C_out filters into
groups of C_out/groups consecutive filters; filter f belongs to group
g = f // (C_out/groups), and its slice s meets input channel g * (C_in/groups) + s.
groups = 1 is the whole course so far; groups = C_in is depthwise convolution.
"""

import math

from matplotlib import colormaps
from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle

from ..checks import pair, whole_number
from ..shapes import channels_of_filter
from .common import MAX_FIGURE_WIDTH, _cuboid, _new_figure, _plural, _text_width

#: draw_groups draws every channel and every filter: at most this many of each.
MAX_GROUP_CHANNELS = 20


def _check_groups(c_in, c_out, groups):
    """groups as an int, after checking that it divides both c_in and c_out."""
    groups = whole_number(groups, "groups", 1)
    for count, name in ((c_in, "C_in"), (c_out, "C_out")):
        if count % groups:
            raise ValueError(
                f"groups must divide both C_in and C_out: {name} = {count} channels cannot be cut into "
                f"{groups} equal groups"
            )
    return groups


def groups_wiring(c_in, c_out, groups):
    """Which input channels each filter of a grouped layer meets, slice by slice.

    c_in, c_out: the layer's input channels and filters; groups: divides both.
    Returns a list of C_out lists: entry f lists, for each of filter f's
    C_in/groups slices in order, the input channel it meets.

    >>> groups_wiring(4, 4, 2)
    [[0, 1], [0, 1], [2, 3], [2, 3]]
    """
    c_in, c_out = whole_number(c_in, "C_in", 1), whole_number(c_out, "C_out", 1)
    groups = _check_groups(c_in, c_out, groups)
    return [list(channels_of_filter(f, c_in, c_out, groups)) for f in range(c_out)]


def channel_colours(c_in):
    """One distinct colour (RGBA) per input channel: tab10 up to 10 channels, tab20 up to 20."""
    c_in = whole_number(c_in, "C_in", 1)
    if c_in > MAX_GROUP_CHANNELS:
        raise ValueError(f"can colour at most {MAX_GROUP_CHANNELS} channels apart, got {c_in}")
    palette = colormaps["tab10" if c_in <= 10 else "tab20"]
    return [palette(c) for c in range(c_in)]


def _default_groups(c_in, c_out):
    """(1, 2, c_in), keeping those that divide both counts, each once."""
    chosen = []
    for groups in (1, 2, c_in):
        if c_in % groups == 0 and c_out % groups == 0 and groups not in chosen:
            chosen.append(groups)
    return tuple(chosen)


# Sizes in data units: a channel's square, the gap between a filter's slices,
# the room for the lines between the inputs and the filters, and before the maps.
_SQUARE, _SLICE_GAP, _WIRE_ROOM, _MAP_ROOM = 0.7, 0.12, 2.4, 1.1


def _panel_width(c_in, groups):
    depth = c_in // groups
    return _SQUARE + _WIRE_ROOM + depth * (_SQUARE + _SLICE_GAP) - _SLICE_GAP + _MAP_ROOM + _SQUARE + 0.6  # + margins


def _draw_groups_panel(ax, c_in, c_out, groups, k, colours):
    """One value of groups: input channels, filters (slice by slice) and maps, wired up."""
    wiring = groups_wiring(c_in, c_out, groups)
    depth = c_in // groups
    rows = max(c_in, c_out)
    input_y = [-(c + 0.5) * rows / c_in for c in range(c_in)]      # centres, top to bottom
    filter_y = [-(f + 0.5) * rows / c_out for f in range(c_out)]
    half = _SQUARE / 2
    filter_left = _SQUARE + _WIRE_ROOM
    filter_right = filter_left + depth * (_SQUARE + _SLICE_GAP) - _SLICE_GAP
    map_left = filter_right + _MAP_ROOM

    # Each group as a shaded band from its input channels to its filters.
    per_group_in, per_group_out = c_in // groups, c_out // groups
    for g in range(groups):
        top_in, bottom_in = input_y[g * per_group_in] + half + 0.1, input_y[(g + 1) * per_group_in - 1] - half - 0.1
        top_f, bottom_f = filter_y[g * per_group_out] + half + 0.1, filter_y[(g + 1) * per_group_out - 1] - half - 0.1
        band = Polygon(
            [(-0.12, top_in), (_SQUARE + 0.12, top_in), (filter_left - 0.12, top_f), (map_left + _SQUARE + 0.12, top_f),
             (map_left + _SQUARE + 0.12, bottom_f), (filter_left - 0.12, bottom_f), (_SQUARE + 0.12, bottom_in),
             (-0.12, bottom_in)],
            closed=True, facecolor="0.93" if g % 2 == 0 else "0.86", edgecolor="none", zorder=0,
        )
        band.set_gid(f"group {g}")
        ax.add_patch(band)

    for c, y in enumerate(input_y):
        square = Rectangle((0, y - half), _SQUARE, _SQUARE, facecolor=colours[c], edgecolor="0.2", linewidth=0.8,
                           zorder=3)
        square.set_gid(f"input {c}")
        ax.add_patch(square)
        ax.text(_SQUARE / 2, y, str(c), ha="center", va="center", fontsize=8, color="white", zorder=4)

    for f, (channels, y) in enumerate(zip(wiring, filter_y)):
        for s, c in enumerate(channels):
            left = filter_left + s * (_SQUARE + _SLICE_GAP)
            piece = Rectangle((left, y - half), _SQUARE, _SQUARE, facecolor=colours[c], edgecolor="0.2",
                              linewidth=0.8, zorder=3)
            piece.set_gid(f"filter {f} slice {s}")
            ax.add_patch(piece)
            (line,) = ax.plot([_SQUARE, filter_left], [input_y[c], y], color=colours[c], linewidth=1.1, alpha=0.85,
                              zorder=2)
            line.set_gid(f"wire {c} -> {f}")
        arrow = FancyArrowPatch((filter_right + 0.1, y), (map_left - 0.1, y), arrowstyle="-|>", mutation_scale=9,
                                color="0.3", linewidth=1, zorder=2)
        ax.add_patch(arrow)
        output = Rectangle((map_left, y - half), _SQUARE, _SQUARE, facecolor="0.8", edgecolor="0.2", linewidth=0.8,
                           zorder=3)
        output.set_gid(f"map {f}")
        ax.add_patch(output)
        ax.text(map_left + _SQUARE / 2, y, str(f), ha="center", va="center", fontsize=8, zorder=4)

    header = -0.05
    ax.text(_SQUARE / 2, header, "input\nchannels", ha="center", va="bottom", fontsize=8, color="0.3")
    ax.text((filter_left + filter_right) / 2, header, f"filters\n{_plural(depth, 'slice')} each", ha="center",
            va="bottom", fontsize=8, color="0.3")
    ax.text(map_left + _SQUARE / 2, header, "maps", ha="center", va="bottom", fontsize=8, color="0.3")

    if groups == 1:
        title = "groups = 1\n(standard)"
    elif groups == c_in:
        title = f"groups = {groups} = C_in\n(depthwise)"
    else:
        title = f"groups = {groups}\n({groups} groups of {_plural(depth, 'channel')})"
    ax.set_title(title, fontsize=11)
    weights = c_out * depth * k * k
    ax.text(
        (map_left + _SQUARE) / 2, -rows - 0.25,
        f"w: ({c_out}, {depth}, {k}, {k})\n{c_out}·{depth}·{k}·{k} = {weights:,} weights",
        ha="center", va="top", fontsize=9,
    )
    ax.set_xlim(-0.3, map_left + _SQUARE + 0.3)
    ax.set_ylim(-rows - 1.6, 1.0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_label(f"groups={groups}")


def draw_groups(c_in, c_out, groups_list=None, k=3):
    """Draw which input channels each filter sees, for several values of ``groups`` side by side.

    c_in, c_out: the layer's input channels and filters (at most 20 of each, so all are drawn).
    groups_list: the values of groups to draw, each dividing both c_in and c_out;
                 default (1, 2, c_in), keeping those that divide both, each once.
    k:           the kernels' size, for the weights' shape (C_out, C_in/groups, k, k).
    Each panel shows the input channels as a column of coloured squares, each
    filter as its C_in/groups slices (one square each, in the colour of the input
    channel that slice meets) with a line from each of those channels, and each
    filter's one map. A shaded band joins each group's channels to its filters.
    Under each panel: the weights' shape and count. groups = 1 is the standard
    layer (every filter meets every channel); groups = C_in is depthwise (one
    channel per filter). Returns the Figure; each panel's axes is labelled
    "groups=<g>", and its squares carry gids "input c", "filter f slice s", "map f".
    """
    c_in, c_out = whole_number(c_in, "C_in", 1), whole_number(c_out, "C_out", 1)
    k = whole_number(k, "k", 1)
    for count, name, what in ((c_in, "C_in", "channel"), (c_out, "C_out", "filter")):
        if count > MAX_GROUP_CHANNELS:
            raise ValueError(f"draw_groups draws every {what}: at most {MAX_GROUP_CHANNELS}, got {name} = {count}")
    colours = channel_colours(c_in)
    if groups_list is None:
        groups_list = _default_groups(c_in, c_out)
    groups_list = [_check_groups(c_in, c_out, g) for g in groups_list]
    if not groups_list:
        raise ValueError("groups_list must hold at least one value of groups")

    widths = [_panel_width(c_in, g) for g in groups_list]
    rows = max(c_in, c_out)
    scale = min(0.42, (MAX_FIGURE_WIDTH - 0.5) / (sum(widths) + 0.8 * len(widths)))  # inches per data unit
    fig = _new_figure(scale * (sum(widths) + 0.8 * len(widths)) + 0.5, scale * (rows + 2.6) + 1.2)
    axes = fig.subplots(1, len(groups_list), width_ratios=widths, squeeze=False)[0]
    for ax, groups in zip(axes, groups_list):
        _draw_groups_panel(ax, c_in, c_out, groups, k, colours)
    heading = f"{c_in} input channels, {_plural(c_out, 'filter')}: each filter meets only its own group's channels"
    if _text_width(heading, 11) > fig.get_figwidth() - 0.3:
        heading = heading.replace(": ", ":\n", 1)
    fig.suptitle(heading, fontsize=11)
    fig.get_layout_engine().set(h_pad=0.12)  # room between the heading and the panels' titles
    return fig


def _separable_counts(c_in, c_out, k, size):
    """(depthwise, pointwise, standard) parameters, and multiply-adds (or None without a size)."""
    counts = {
        "depthwise": c_in * (k * k + 1),
        "pointwise": c_out * (c_in + 1),
        "standard": c_out * (c_in * k * k + 1),
    }
    macs = None
    if size is not None:
        pixels = size[0] * size[1]
        macs = {"depthwise": pixels * c_in * k * k, "pointwise": pixels * c_in * c_out,
                "standard": pixels * c_in * k * k * c_out}
    return counts, macs


def draw_separable(c_in, c_out, k, size=None):
    """Draw a depthwise-separable layer: depthwise k x k, then pointwise 1 x 1, with its costs.

    c_in, c_out: input channels and output maps; k: the depthwise kernels' size.
    size: None, or (H, W) (or one int) of the maps, all the same size (stride 1,
          padding that keeps the size): then the multiply-adds are counted too.
    Draws three boxes, input (C_in) -> depthwise (C_in maps) -> pointwise (C_out
    maps), each step labelled with its filters, e.g. "32 filters of (1, 3, 3)"
    and "64 filters of (32, 1, 1)", and its parameters, biases included:
    C_in·(k·k + 1) and C_out·(C_in + 1). The caption compares the total with a
    standard k x k layer, C_out·(C_in·k·k + 1), and gives the factor saved.
    Returns the Figure.
    """
    c_in, c_out, k = whole_number(c_in, "C_in", 1), whole_number(c_out, "C_out", 1), whole_number(k, "k", 1)
    if size is not None:
        size = pair(size, "size", 1)
    counts, macs = _separable_counts(c_in, c_out, k, size)

    fig = _new_figure(11.0, 4.2)
    ax = fig.add_subplot()
    height, depth = 2.4, 1.4

    def box(left, channels, colour, label):
        thickness = 0.3 * (1 + math.log2(channels))
        dx, dy = _cuboid(ax, left, -height / 2, thickness, height, depth, colour)
        ax.text(left + thickness / 2 + dx / 2, height / 2 + dy + 0.1, _plural(channels, "channel"), ha="center",
                va="bottom", fontsize=10)
        ax.text(left + (thickness + dx) / 2, -height / 2 - 0.25, label, ha="center", va="top", fontsize=9)
        return left + thickness + dx

    def step(left, right, lines):
        arrow = FancyArrowPatch((left, 0), (right, 0), arrowstyle="-|>", mutation_scale=20, color="0.25", linewidth=2)
        ax.add_patch(arrow)
        ax.text((left + right) / 2, 0.2, lines[0], ha="center", va="bottom", fontsize=10, fontweight="bold")
        ax.text((left + right) / 2, -0.2, "\n".join(lines[1:]), ha="center", va="top", fontsize=9, color="0.2")

    def shape(channels):
        return "" if size is None else f" ({channels}, {size[0]}, {size[1]})"

    right = box(0.0, c_in, "0.55", f"input{shape(c_in)}")
    arrow_length = 4.6
    middle_left = right + 0.4 + arrow_length + 0.4
    depthwise_lines = [
        f"depthwise {k}x{k}",
        f"{_plural(c_in, 'filter')} of (1, {k}, {k}),",
        "one per channel, no sum",
        f"{c_in}·({k}·{k} + 1) = {counts['depthwise']:,} parameters",
    ]
    pointwise_lines = [
        "pointwise 1x1",
        f"{_plural(c_out, 'filter')} of ({c_in}, 1, 1):",
        "the channel sum is back",
        f"{c_out}·({c_in} + 1) = {counts['pointwise']:,} parameters",
    ]
    if macs is not None:
        depthwise_lines.append(f"{macs['depthwise']:,} multiply-adds")
        pointwise_lines.append(f"{macs['pointwise']:,} multiply-adds")
    step(right + 0.4, right + 0.4 + arrow_length, depthwise_lines)
    right = box(middle_left, c_in, "tab:green", f"{c_in} maps{shape(c_in)}\n(channels kept apart)")
    step(right + 0.4, right + 0.4 + arrow_length, pointwise_lines)
    right = box(right + 0.4 + arrow_length + 0.4, c_out, "tab:blue", f"{c_out} maps{shape(c_out)}")

    total = counts["depthwise"] + counts["pointwise"]
    caption = (
        f"separable: {counts['depthwise']:,} + {counts['pointwise']:,} = {total:,} parameters;  "
        f"a standard {k}x{k} layer: {c_out}·({c_in}·{k}·{k} + 1) = {counts['standard']:,}  "
        f"({counts['standard'] / total:.1f}x more)"
    )
    if macs is not None:
        separable_macs = macs["depthwise"] + macs["pointwise"]
        caption += (
            f"\nmultiply-adds: separable {separable_macs:,};  standard {macs['standard']:,}  "
            f"({macs['standard'] / separable_macs:.1f}x more)"
        )
    ax.text(0.5, 0.0, caption, ha="center", va="top", fontsize=10, transform=ax.transAxes)
    ax.set_xlim(-0.4, right + 0.4)
    ax.set_ylim(-height / 2 - 1.2, height / 2 + depth * 0.45 + 0.55)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"depthwise-separable: {c_in} channels -> {c_out} maps in two steps", fontsize=12)
    ax.set_label("separable")
    return fig
