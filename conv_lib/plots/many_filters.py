"""The pictures of notebook 03 (many filters): the weights, a layer as boxes, and why C_out filters make C_out maps.

    draw_weight_tensor      the weights (C_out, C_in, kH, kW): C_out filters,
                            each a stack of C_in slices; C_out filters make C_out maps
    draw_layer              a layer as boxes: (C_in, H, W) -> (C_out, Ho, Wo) (also in notebook 05)
    draw_filters_to_maps    why 128 filters on 64 channels make 128 maps, not 8192: the input's
                            slices, each filter's C_in/groups slices wired to the channels they
                            meet and summed into ONE map, and the kernels as a grid of
                            C_in x C_out cells summed column by column (also in notebooks 05, 07)
    animate_filters_to_maps the same picture built up one filter at a time
    kernel_mask             (no picture) which kernels a layer has, as a (C_in, C_out) array of 0 and 1

Indices count from 0, as the weights do: filter 0 is w[0], channel 0 is x[0].
"""

import math

import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import ListedColormap, to_rgb
from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle

from ..checks import pair, whole_number
from ..ops import require_one_channel_per_input_channel
from ..shapes import channels_of_filter, output_size
from .common import HIGHLIGHT, MAX_FIGURE_WIDTH, _cuboid, _mix, _new_figure, _plural, plt

def _shown_indices(count, extra=None, head=3):
    """Which of ``count`` items to draw: all when few, else the first ``head``, ``extra``,
    and the last, with None wherever some are skipped (drawn as "...")."""
    if count <= head + 2:
        return list(range(count))
    keep = sorted({*range(head), count - 1} | ({extra} if extra is not None else set()))
    shown = []
    for index in keep:
        if shown and index != shown[-1] + 1:
            shown.append(None)
        shown.append(index)
    return shown


def draw_weight_tensor(C_out, C_in, kH, kW, highlight=None, ax=None):
    """Draw a layer's weights (C_out, C_in, kH, kW): C_out filters, each a stack of C_in kernel channels.

    C_out, C_in, kH, kW: the weight tensor's shape (ints).
    highlight: index f of one filter (w[f], counted from 0) drawn in colour, or None.
    ax: an Axes to draw into (default: a new figure).
    Draws each filter as a deck of C_in cards of kH x kW cells, labelled from 0
    as the weights count them: "filter 0" (w[0]) to "filter C_out-1". With many
    filters only the first few, "..." and the last (and the highlighted one) are
    drawn, with many channels only a few cards, but every label gives the true
    numbers. The caption reads
    "weights: (C_out, C_in, kH, kW) = (...)" and "C_out filters → C_out feature maps".
    Returns the Figure.
    """
    C_out, C_in = whole_number(C_out, "C_out", 1), whole_number(C_in, "C_in", 1)
    kH, kW = whole_number(kH, "kH", 1), whole_number(kW, "kW", 1)
    if highlight is not None:
        highlight = whole_number(highlight, "highlight", 0)
        if highlight >= C_out:
            raise ValueError(
                f"highlight must be a filter index 0..{C_out - 1} (there are {C_out} filters), got {highlight}"
            )
    shown = _shown_indices(C_out, highlight)
    side = max(kH, kW)
    card_width, card_height = kW / side, kH / side
    cards = min(C_in, 6)
    depth = 0.0 if cards == 1 else min(0.09 * (cards - 1), 0.5)  # how far the back card sits up and right
    step = depth / (cards - 1) if cards > 1 else 0.0
    slot, dots_slot = card_width + depth + 0.75, 0.6

    if ax is None:
        data_width = sum(dots_slot if f is None else slot for f in shown) - 0.35
        data_height = card_height + depth + 1.1
        width = min(1.3 * data_width + 0.4, MAX_FIGURE_WIDTH)
        fig = _new_figure(width, (width - 0.4) / data_width * data_height + 1.1)
        ax = fig.add_subplot()
    left = 0.0
    for f in shown:
        if f is None:
            ax.text(left + dots_slot / 2 - 0.2, card_height / 2, "...", ha="center", va="center", fontsize=18)
            left += dots_slot
            continue
        colour = HIGHLIGHT if f == highlight else "0.55"
        for card in reversed(range(cards)):  # the back card first, so the front one covers it
            face = _mix(colour, 0.75 - 0.35 * card / max(cards - 1, 1))
            edge = _mix(colour, 0.0 if f == highlight else 0.3)
            corner = (left + card * step, card * step)
            ax.add_patch(Rectangle(corner, card_width, card_height, facecolor=face, edgecolor=edge, linewidth=0.9))
        if side <= 11:  # the front card's cells
            for r in range(1, kH):
                ax.plot([left, left + card_width], [r * card_height / kH] * 2, color="0.35", linewidth=0.6)
            for c in range(1, kW):
                ax.plot([left + c * card_width / kW] * 2, [0, card_height], color="0.35", linewidth=0.6)
        centre = left + (card_width + depth) / 2
        channels_label = _plural(C_in, "channel")
        ax.text(centre, card_height + depth + 0.08, channels_label, ha="center", va="bottom", fontsize=8, color="0.3")
        ax.text(
            centre, -0.1, f"filter {f}\nw[{f}]: ({C_in}, {kH}, {kW})", ha="center", va="top", fontsize=9,
            color="black", fontweight="bold" if f == highlight else "normal",
        )
        left += slot
    ax.set_xlim(-0.15, left - 0.5)
    ax.set_ylim(-0.75, card_height + depth + 0.35)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"weights: (C_out, C_in, kH, kW) = ({C_out}, {C_in}, {kH}, {kW})", fontsize=12)
    ax.text(
        0.5, -0.02, f"{_plural(C_out, 'filter')} → {_plural(C_out, 'feature map')} (one map per filter)",
        ha="center", va="top", fontsize=11, transform=ax.transAxes,
    )
    ax.set_label("weights")
    return ax.get_figure(root=True)


def draw_layer(x_shape, w_shape, padding=None, stride=1):
    """Draw one convolutional layer as boxes: input (C_in, H, W) -> output (C_out, Ho, Wo).

    x_shape: (C_in, H, W), one image's shape.
    w_shape: (C_out, C_in, kH, kW), the weights' shape.
    padding: int or (rows, columns); None (default) pads by (kH - 1) // 2 and
             (kW - 1) // 2, which keeps H and W for odd kernels ("same" size).
    stride:  int or (rows, columns).
    Each box's thickness grows with the log of its channel count; the labels give
    the exact shapes, with Ho and Wo from output_size. The arrow between the
    boxes reads "C_out filters, each (C_in, kH, kW)".
    Raises the course's ValueError when the filters' depth C_in differs from the input's.
    Returns the Figure.
    """
    x_shape, w_shape = tuple(x_shape), tuple(w_shape)
    if len(x_shape) != 3:
        raise ValueError(f"x_shape must be (C_in, H, W), got {x_shape}")
    if len(w_shape) != 4:
        raise ValueError(f"w_shape must be (C_out, C_in, kH, kW), got {w_shape}")
    C_in, H, W = (whole_number(n, "x_shape's entries", 1) for n in x_shape)
    C_out, filter_depth, kH, kW = (whole_number(n, "w_shape's entries", 1) for n in w_shape)
    require_one_channel_per_input_channel(filter_depth, C_in, last_axis=W)
    padding = ((kH - 1) // 2, (kW - 1) // 2) if padding is None else pair(padding, "padding", 0)
    stride = pair(stride, "stride", 1)
    Ho, Wo = output_size(H, kH, padding[0], stride[0]), output_size(W, kW, padding[1], stride[1])

    fig = _new_figure(10.0, 3.6)
    ax = fig.add_subplot()
    tallest, widest = max(H, Ho), max(W, Wo)

    def box(left, channels, rows, columns, colour):
        thickness = 0.35 * (1 + math.log2(channels))
        height = 2.6 * math.sqrt(rows / tallest)
        dx, dy = _cuboid(ax, left, -height / 2, thickness, height, 1.6 * math.sqrt(columns / widest), colour)
        bottom = -height / 2
        ax.text(
            left + thickness / 2 + dx / 2, height / 2 + dy + 0.1, _plural(channels, "channel"),
            ha="center", va="bottom", fontsize=10,
        )
        ax.text(left - 0.08, 0, f"H = {rows}", rotation=90, ha="right", va="center", fontsize=8, color="0.35")
        slant = math.degrees(math.atan2(dy, dx))
        ax.text(
            left + thickness + dx / 2 + 0.12, bottom + dy / 2 - 0.12, f"W = {columns}", rotation=slant,
            rotation_mode="anchor", ha="center", va="top", fontsize=8, color="0.35",
        )
        return left + thickness + dx, height

    input_right, input_height = box(0.0, C_in, H, W, "tab:blue")
    arrow_left, arrow_right = input_right + 0.5, input_right + 5.0
    output_right, output_height = box(arrow_right + 0.5, C_out, Ho, Wo, "tab:orange")
    arrow = FancyArrowPatch((arrow_left, 0), (arrow_right, 0), arrowstyle="-|>", mutation_scale=22, color="0.25")
    arrow.set_linewidth(2)
    ax.add_patch(arrow)
    middle = (arrow_left + arrow_right) / 2
    ax.text(middle, 0.2, f"{_plural(C_out, 'filter')}, each ({C_in}, {kH}, {kW})", ha="center", va="bottom", fontsize=10)
    padding_words = padding[0] if padding[0] == padding[1] else padding  # one number when rows and columns agree
    stride_words = stride[0] if stride[0] == stride[1] else stride
    setting = f"padding {padding_words}, stride {stride_words}"
    ax.text(middle, -0.2, setting, ha="center", va="top", fontsize=9, color="0.3")
    lowest = -max(input_height, output_height) / 2
    output_centre = (arrow_right + 0.5 + output_right) / 2
    ax.text(input_right / 2, lowest - 0.55, f"input\n({C_in}, {H}, {W})", ha="center", va="top", fontsize=10)
    ax.text(output_centre, lowest - 0.55, f"output\n({C_out}, {Ho}, {Wo})", ha="center", va="top", fontsize=10)
    ax.set_xlim(-0.6, output_right + 0.6)
    ax.set_ylim(lowest - 1.5, max(input_height, output_height) / 2 + 1.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        f"weights ({C_out}, {C_in}, {kH}, {kW}): {_plural(C_in, 'channel')} in, {_plural(C_out, 'feature map')} out",
        fontsize=11,
    )
    ax.set_label("layer")
    return fig


# --------------------------------------------------------------------------
# Why C_out maps and not C_out x C_in: the filters, their wiring and their kernels
# --------------------------------------------------------------------------

#: draw_filters_to_maps draws every input channel as a slice and every kernel as a cell: at most this many of each.
MAX_DRAWN_CHANNELS = 1024

#: draw_filters_to_maps draws at most this many leading filters (then "..." and the last one).
MAX_SHOWN_FILTERS = 6

# Colours: the input's slices (two tints, one per neighbouring group), the kernels, and one per drawn filter.
_INPUT_TINTS = ("#7f93ad", "#b89b7a")
_KERNEL_COLOUR = "#c9d3e0"
_FILTER_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
                   "tab:cyan", "tab:red")

# Sizes in the wiring panel's data units: each slice is a card seen from above and in front,
# width x receding (dx, dy); its x position; the room between the filters and the maps.
_INPUT_CARD, _FILTER_CARD, _MAP_CARD = (1.1, 0.55, 0.4), (0.8, 0.4, 0.3), (0.9, 0.45, 0.33)
_INPUT_LEFT, _FILTER_LEFT, _MAP_LEFT = 0.0, 4.2, 7.0
_TOP, _BOTTOM = 8.3, 1.1  # the stacks and the drawn filters fill the height between these


def _check_filters_to_maps(C_in, C_out, kernel_size, groups, shown):
    """The arguments of draw_filters_to_maps as ints, after checking each."""
    C_in, C_out = whole_number(C_in, "C_in", 1), whole_number(C_out, "C_out", 1)
    kernel_size, groups = whole_number(kernel_size, "kernel_size", 1), whole_number(groups, "groups", 1)
    shown = whole_number(shown, "shown", 1)
    for count, name, what in ((C_in, "C_in", "input channel"), (C_out, "C_out", "filter")):
        if count > MAX_DRAWN_CHANNELS:
            raise ValueError(
                f"the picture draws every {what}: {name} must be at most {MAX_DRAWN_CHANNELS}, got {name} = {count}"
            )
    for count, name, what in ((C_in, "C_in", "input channels"), (C_out, "C_out", "filters")):
        if count % groups:
            raise ValueError(
                f"groups must divide both C_in and C_out: {name} = {count} {what} cannot be cut into "
                f"{groups} equal groups"
            )
    if shown > MAX_SHOWN_FILTERS:
        raise ValueError(f"shown (how many leading filters to draw) must be 1..{MAX_SHOWN_FILTERS}, got {shown}")
    return C_in, C_out, kernel_size, groups, shown


def _darker(colour, black):
    """``colour`` mixed with a fraction ``black`` of black, as an RGB tuple."""
    return tuple(np.array(to_rgb(colour)) * (1 - black))


def _corners(left, front, size):
    """The corners of one slice seen from above and in front: a parallelogram with its front edge at ``front``."""
    width, dx, dy = size
    return [(left, front), (left + width, front), (left + width + dx, front + dy), (left + dx, front + dy)]


def _card(ax, left, front, size, colour, gid):
    """One slice on its own (a map), as a Polygon with that gid."""
    card = Polygon(_corners(left, front, size), closed=True, facecolor=_mix(colour, 0.35), edgecolor=colour,
                   linewidth=0.5, zorder=3)
    card.set_gid(gid)
    ax.add_patch(card)
    return card


def _stack(ax, left, fronts, size, colours, gid, zorder):
    """A stack of slices, the first on top: slice i's front edge at fronts[i], and its colour colours[i].

    Returns one PolyCollection with that gid; its paths are the slices from the last (the bottom one)
    to the first, painted in that order so that each slice lies on the ones below it.
    """
    pitch = abs(fronts[0] - fronts[1]) if len(fronts) > 1 else size[2]
    shades = [0.15 if i % 2 == 0 else 0.4 for i in range(len(fronts))]  # neighbours alternate, so each one shows
    order = list(reversed(range(len(fronts))))
    stack = PolyCollection(
        [_corners(left, fronts[i], size) for i in order],
        facecolors=[_mix(colours[i], shades[i]) for i in order],
        edgecolors=[_mix(colours[i], 0.0 if shades[i] < 0.3 else 0.25) for i in order],
        linewidths=min(0.5, 4 * pitch),  # thin slices: hairlines, so the faces still show
        zorder=zorder,
    )
    stack.set_gid(gid)
    ax.add_collection(stack, autolim=False)
    return stack


def _fronts(count, pitch, centre):
    """The front-edge heights of ``count`` slices ``pitch`` apart, centred on ``centre``, the first on top."""
    top = centre + (count - 1) * pitch / 2
    return [top - i * pitch for i in range(count)]


def _port(left, front, size, side):
    """Where a wire meets a slice: the middle of its left or right edge."""
    width, dx, dy = size
    return (left + (width if side == "right" else 0.0) + dx / 2, front + dy / 2)


def _slot_centres(drawn):
    """The heights of the drawn filters (None: the "..." between), spread from _TOP to _BOTTOM, and the
    height of one filter's slot."""
    weights = [0.6 if f is None else 1.0 for f in drawn]
    unit = (_TOP - _BOTTOM) / sum(weights)
    centres, top = [], _TOP
    for weight in weights:
        centres.append(top - weight * unit / 2)
        top -= weight * unit
    return centres, unit


def _draw_wiring(ax, C_in, C_out, k, groups, drawn, colours):
    """The left panel: input slices, each drawn filter's slices wired to its channels, its sum, its map.

    Returns {f: the artists of filter f} and the artists of the "..." (empty without one).
    """
    depth = C_in // groups
    in_pitch = min(0.55, (_TOP - _BOTTOM) / C_in)
    in_fronts = _fronts(C_in, in_pitch, (_TOP + _BOTTOM) / 2 - _INPUT_CARD[2] / 2)
    per_group = C_in // groups
    tints = [_INPUT_TINTS[(c // per_group) % 2] if groups > 1 else _INPUT_TINTS[0] for c in range(C_in)]
    _stack(ax, _INPUT_LEFT, in_fronts, _INPUT_CARD, tints, "input", zorder=2)
    middle = _INPUT_LEFT + (_INPUT_CARD[0] + _INPUT_CARD[1]) / 2
    ax.text(middle, _TOP + 0.75, f"input\n{_plural(C_in, 'channel')}", ha="center", va="bottom", fontsize=10)
    left_of = _INPUT_LEFT - 0.1
    if groups == 1 or groups > 8 or per_group == 1:
        ends = range(C_in) if C_in <= 8 else [0, C_in - 1]
        for c in ends:
            ax.text(left_of, in_fronts[c] + _INPUT_CARD[2] / 2, f"channel {c}", ha="right", va="center",
                    fontsize=8, color="0.3")
    else:
        for g in range(groups):
            first, last = g * per_group, (g + 1) * per_group - 1
            span = f"channel {first}" if first == last else f"channels {first}-{last}"
            ax.text(left_of, (in_fronts[first] + in_fronts[last]) / 2 + _INPUT_CARD[2] / 2, f"group {g}\n{span}",
                    ha="right", va="center", fontsize=8, color=_darker(_INPUT_TINTS[g % 2], 0.35))

    centres, slot = _slot_centres(drawn)
    full_depth = min(0.85, max(0.1, slot - 0.75))  # a filter as deep as the input; its label and top face need 0.75
    filter_pitch = min(0.3, full_depth / C_in)  # a grouped filter is thinner, to the same scale
    filter_middle = _FILTER_LEFT + (_FILTER_CARD[0] + _FILTER_CARD[1]) / 2
    map_middle = _MAP_LEFT + (_MAP_CARD[0] + _MAP_CARD[1]) / 2
    ax.text(filter_middle, _TOP + 0.75, f"{_plural(C_out, 'filter')},\neach ({depth}, {k}, {k})", ha="center",
            va="bottom", fontsize=10)
    ax.text(map_middle, _TOP + 0.75, f"output\n{_plural(C_out, 'map')}", ha="center", va="bottom", fontsize=10)

    wire_width, wire_alpha = (1.0, 0.75) if depth <= 8 else (0.6, 0.35)  # many wires: thin and light
    sum_words = "Σ + b[{}]" if depth > 1 else "+ b[{}]"  # one kernel: nothing to add up but the bias
    parts, elision = {}, []
    for f, centre in zip(drawn, centres):
        if f is None:
            hidden = C_out - (len(drawn) - 1)
            for x in (filter_middle, map_middle):
                elision.append(ax.text(x, centre + 0.05, "⋮", ha="center", va="center", fontsize=16))
            elision.append(ax.text((filter_middle + map_middle) / 2 + 0.2, centre, f"{hidden} more filters,\n"
                                   f"{hidden} more maps", ha="center", va="center", fontsize=8, color="0.3"))
            continue
        colour = colours[f]
        artists = []
        fronts = _fronts(depth, filter_pitch, centre - _FILTER_CARD[2] / 2)
        artists.append(_stack(ax, _FILTER_LEFT, fronts, _FILTER_CARD, [colour] * depth, f"filter {f}", zorder=4))
        ends = [(_port(_INPUT_LEFT, in_fronts[c], _INPUT_CARD, "right"), _port(_FILTER_LEFT, fronts[s], _FILTER_CARD,
                 "left")) for s, c in enumerate(channels_of_filter(f, C_in, C_out, groups))]
        wires = LineCollection(ends, colors=[colour], linewidths=wire_width, alpha=wire_alpha, zorder=1)
        wires.set_gid(f"wires {f}")
        ax.add_collection(wires, autolim=False)
        artists.append(wires)
        artists.append(ax.text(filter_middle, fronts[0] + _FILTER_CARD[2] + 0.08, f"filter {f} = w[{f}]",
                               ha="center", va="bottom", fontsize=8.5, color=_darker(colour, 0.25), zorder=5,
                               bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.5}))
        arrow_left, arrow_right = _FILTER_LEFT + _FILTER_CARD[0] + _FILTER_CARD[1] + 0.15, _MAP_LEFT - 0.1
        arrow = FancyArrowPatch((arrow_left, centre), (arrow_right, centre), arrowstyle="-|>", mutation_scale=12,
                                color="0.25", linewidth=1.2, zorder=3)
        arrow.set_gid(f"sum {f}")
        ax.add_patch(arrow)
        artists.append(arrow)
        artists.append(ax.text((arrow_left + arrow_right) / 2, centre + 0.08, sum_words.format(f), ha="center",
                               va="bottom", fontsize=9))
        artists.append(_card(ax, _MAP_LEFT, centre - _MAP_CARD[2] / 2 - 0.1, _MAP_CARD, colour, f"map {f}"))
        artists.append(ax.text(_MAP_LEFT + _MAP_CARD[0] + _MAP_CARD[1] + 0.12, centre, f"map {f}", ha="left",
                               va="center", fontsize=8.5))
        parts[f] = artists
    ax.set_xlim(_INPUT_LEFT - 1.9, _MAP_LEFT + _MAP_CARD[0] + _MAP_CARD[1] + 1.0)
    ax.set_ylim(_BOTTOM - 0.5, _TOP + 1.9)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_label("wiring")
    return parts, elision


def kernel_mask(C_in, C_out, groups=1):
    """Which kernels a layer has: a (C_in, C_out) array of 0 and 1, column f for filter f.

    Entry [c, f] is 1 when filter f has a kernel w[f, ...] that meets input channel c:
    every entry with groups = 1 (C_in x C_out kernels), and with groups = g only
    the channels of filter f's group, a block-diagonal pattern of C_in/g x C_out/g
    blocks (C_in/g x C_out kernels in all).

    >>> kernel_mask(4, 2, groups=2)
    array([[1, 0],
           [1, 0],
           [0, 1],
           [0, 1]])
    """
    C_in, C_out, _, groups, _ = _check_filters_to_maps(C_in, C_out, 1, groups, 1)
    mask = np.zeros((C_in, C_out), dtype=int)
    for f in range(C_out):
        mask[list(channels_of_filter(f, C_in, C_out, groups)), f] = 1
    return mask


def _draw_kernel_grid(ax, C_in, C_out, k, groups, drawn, colours):
    """The right panel: one cell per kernel (rows: input channels, columns: filters), each column summed to a map.

    Returns {f: the artists of filter f's column}.
    """
    depth = C_in // groups
    mask = kernel_mask(C_in, C_out, groups)
    grid = ax.imshow(mask, cmap=ListedColormap(["white", _KERNEL_COLOUR]), vmin=0, vmax=1, extent=(0, C_out, C_in, 0),
                     interpolation="nearest", zorder=1)
    grid.set_gid("kernel grid")
    if max(C_in, C_out) <= 128:  # each kernel's own square
        ax.hlines(range(1, C_in), 0, C_out, color="white", linewidth=0.4, zorder=2)
        ax.vlines(range(1, C_out), 0, C_in, color="white", linewidth=0.4, zorder=2)
    ax.add_patch(Rectangle((0, 0), C_out, C_in, fill=False, edgecolor="0.4", linewidth=0.8, zorder=3))
    unit = max(C_in, C_out / 2) / 14  # the gap, the row of maps and the texts scale with the grid
    maps_top, maps_height = C_in + 2.0 * unit, unit
    maps = ax.imshow(np.ones((1, C_out)), cmap=ListedColormap(["0.85"]), extent=(0, C_out, maps_top + maps_height,
                     maps_top), interpolation="nearest", zorder=1)
    maps.set_gid("maps row")
    ax.add_patch(Rectangle((0, maps_top), C_out, maps_height, fill=False, edgecolor="0.4", linewidth=0.8, zorder=3))

    parts = {}
    for f in drawn:
        if f is None:
            continue
        colour = colours[f]
        first = channels_of_filter(f, C_in, C_out, groups).start
        column = Rectangle((f, first), 1, depth, facecolor=colour, edgecolor=colour, linewidth=1.2, zorder=1.5)
        column.set_gid(f"kernel column {f}")
        cell = Rectangle((f, maps_top), 1, maps_height, facecolor=colour, edgecolor=colour, linewidth=1.2,
                         zorder=1.5)  # over the grid's image, under the lines between its squares
        cell.set_gid(f"map cell {f}")
        arrow = FancyArrowPatch((f + 0.5, C_in + 0.15 * unit), (f + 0.5, maps_top - 0.1 * unit), arrowstyle="-|>",
                                mutation_scale=7, color=colour, linewidth=1, zorder=4)
        for artist in (column, cell, arrow):
            ax.add_patch(artist)
        parts[f] = [column, cell, arrow]

    kernels = C_out * depth
    if groups == 1:
        column_words = f"column f: filter f's {depth}, one per channel"
    elif depth == 1:
        column_words = "column f: filter f's only kernel, on its group's channel"
    else:
        column_words = f"column f: filter f's {depth}, on its group's {depth} channels"
    title = f"{C_out} × {depth} = {kernels:,} kernels{' w[f, c]' if groups == 1 else ''} of {k}×{k}\n{column_words}"
    ax.text(C_out / 2, -0.5 * unit, title, ha="center", va="bottom", fontsize=10)
    ax.text(-0.3 * unit, C_in / 2, f"input channel c\n(0 to {C_in - 1})", ha="right", va="center", fontsize=8.5,
            color="0.3")
    ax.text(-0.3 * unit, maps_top + maps_height / 2, "maps", ha="right", va="center", fontsize=8.5, color="0.3")
    step = "Σ each column" if depth > 1 else "nothing to sum"
    ax.text(-0.3 * unit, C_in + 1.0 * unit, step, ha="right", va="center", fontsize=8.5, color="0.3")
    if depth > 1:
        maps_words = f"{C_out} sums → {C_out} maps (filter f makes map f), not {kernels:,}"
    else:
        maps_words = f"{C_out} kernels → {C_out} maps (filter f makes map f)"
    ax.text(C_out / 2, maps_top + maps_height + 0.4 * unit, maps_words, ha="center", va="top", fontsize=10)
    ax.set_xlim(-0.2 * unit, C_out + 0.2 * unit)
    ax.set_ylim(maps_top + maps_height + 2.2 * unit, -2.4 * unit)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_label("kernels")
    return parts


def _filters_to_maps_figure(C_in, C_out, kernel_size, groups, shown):
    """The figure of draw_filters_to_maps, with {f: filter f's artists} and the "..."'s artists."""
    C_in, C_out, k, groups, shown = _check_filters_to_maps(C_in, C_out, kernel_size, groups, shown)
    drawn = _shown_indices(C_out, head=shown)
    colours = {f: _FILTER_COLOURS[i % len(_FILTER_COLOURS)] for i, f in enumerate(f for f in drawn if f is not None)}
    fig = _new_figure(MAX_FIGURE_WIDTH, 5.8)
    wiring_ax, grid_ax = fig.subplots(1, 2, width_ratios=[1.1, 0.9])
    parts, elision = _draw_wiring(wiring_ax, C_in, C_out, k, groups, drawn, colours)
    for f, artists in _draw_kernel_grid(grid_ax, C_in, C_out, k, groups, drawn, colours).items():
        parts[f] += artists
    depth = C_in // groups
    if groups == 1:
        heading = f"{C_out} filters on {C_in} channels: each filter is {depth} channels deep and makes ONE map"
    elif depth == 1:
        heading = f"groups = {groups} = C_in (depthwise): each filter is 1 channel deep, meets ONE channel, "
    else:
        heading = f"groups = {groups}: each filter is {depth} channels deep, meets only its group's channels, "
    if groups > 1:
        heading += "makes ONE map"
    fig.suptitle(heading, fontsize=12)
    return fig, parts, elision


def draw_filters_to_maps(C_in=64, C_out=128, kernel_size=3, groups=1, shown=3):
    """Draw why a layer of C_out filters on C_in channels makes C_out maps, not C_out x C_in.

    C_in:        the input's channels (at most 1024); each is drawn as a thin slice.
    C_out:       the layer's filters (at most 1024).
    kernel_size: k, for the kernels' size k x k and the filters' shape (C_in/groups, k, k).
    groups:      divides C_in and C_out; filter f then meets only the C_in/groups
                 channels of its group (conv_lib.shapes.channels_of_filter).
    shown:       how many leading filters to draw (1 to 6); the last filter is
                 drawn too, with "..." and the number of filters skipped between.
    Left panel (axes labelled "wiring"): the input as a stack of C_in slices; each
    drawn filter as a stack of C_in/groups slices, one line from each slice to the
    input channel it meets; an arrow "Σ + b[f]" to its ONE map. Right panel (axes
    labelled "kernels"): one square per kernel, rows the input channels, columns
    the filters; each column is summed into one map of the row below, with the
    counts written out: "128 × 64 = 8,192 kernels", "128 sums", "128 maps".
    What a test can read, by gid:
        "input"               a PolyCollection of C_in paths, one slice per input channel:
                              channel 0 on top, then down to channel C_in-1 at the bottom
        "filter f"            a PolyCollection of drawn filter f's C_in/groups slices
        "wires f"             a LineCollection: one line per slice of filter f, from the
                              middle of the right edge of the input slice it meets
        "sum f", "map f"      filter f's arrow to its map, and the map
        "kernel grid"         an image whose array is kernel_mask(C_in, C_out, groups),
                              shape (C_in, C_out): 1 where filter f has a kernel for channel c
        "kernel column f"     drawn filter f's kernels in the grid, in its colour
        "maps row", "map cell f"   the row of C_out maps under the grid, and filter f's map in it
    Returns the Figure (12 inches wide, the notebook's width).
    """
    fig, _, _ = _filters_to_maps_figure(C_in, C_out, kernel_size, groups, shown)
    return fig


def animate_filters_to_maps(C_in=64, C_out=128, kernel_size=3, groups=1, shown=3, interval=1200):
    """Step through draw_filters_to_maps one filter at a time: filter 0, then 1, 2, ..., then the last.

    The arguments are draw_filters_to_maps's; interval: milliseconds per frame.
    Frame i shows the first i + 1 drawn filters (their slices, wires, sum, map and
    kernel column); the last frame adds the last filter and the "..." for the ones
    skipped, and is draw_filters_to_maps's picture. There is one frame per drawn
    filter: shown + 1 when some are skipped, else C_out. Each frame only shows
    more of the same artists, so the figure is drawn once. The figure is closed,
    so a notebook shows the animation only, e.g. as
    ``HTML(animation.to_jshtml())`` (from IPython.display).
    animation.show_frame(i) puts frame i on the figure, what each frame does, so
    a test can check it without rendering.
    Returns a matplotlib.animation.FuncAnimation.
    """
    fig, parts, elision = _filters_to_maps_figure(C_in, C_out, kernel_size, groups, shown)
    fig.set_dpi(72)  # each frame is a PNG in the page: kept light
    order = list(parts)  # drawn filters, in order
    counter = fig.text(0.5, 0.005, "", ha="center", va="bottom", fontsize=11, fontweight="bold")

    def show_frame(i):
        on = set(order[: i + 1])
        for f, artists in parts.items():
            for artist in artists:
                artist.set_visible(f in on)
        last = i == len(order) - 1
        for artist in elision:
            artist.set_visible(last)
        if last and len(order) < C_out:
            counter.set_text(f"... and so on, up to filter {order[-1]}: {_plural(C_out, 'filter')} → "
                             f"{_plural(C_out, 'map')}")
        else:
            counter.set_text(f"{_plural(i + 1, 'filter')} → {_plural(i + 1, 'map')}")
        return []

    fig.draw_without_rendering()  # lays the figure out once, everything shown (no pixels), for every frame
    fig.set_layout_engine("none")
    show_frame(0)
    animation = FuncAnimation(fig, show_frame, frames=len(order), interval=interval, repeat=False)
    animation.show_frame = show_frame
    plt.close(fig)
    return animation
