"""The pictures of notebook 03 (many filters): the weight tensor, and a layer as boxes (also in notebook 05).

    draw_weight_tensor      the weights (C_out, C_in, kH, kW): C_out filters,
                            each a stack of C_in slices; C_out filters make C_out maps
    draw_layer              a layer as boxes: (C_in, H, W) -> (C_out, Ho, Wo)
"""

import math

from matplotlib.patches import FancyArrowPatch, Rectangle

from ..checks import pair, whole_number
from ..ops import require_one_channel_per_input_channel
from ..shapes import output_size
from .common import HIGHLIGHT, MAX_FIGURE_WIDTH, _cuboid, _mix, _new_figure, _plural

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
    Draws each filter as a deck of C_in cards of kH x kW cells, labelled
    "filter 1" .. "filter C_out"; with many filters only the first few, "..." and
    the last (and the highlighted one) are drawn, with many channels only a few
    cards, but every label gives the true numbers. The caption reads
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
            centre, -0.1, f"filter {f + 1}\nw[{f}]: ({C_in}, {kH}, {kW})", ha="center", va="top", fontsize=9,
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
