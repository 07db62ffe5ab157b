"""The pictures of notebook 02 (multi channel): an image is a stack of channels, and THE channel-summing rule.

    show_channels           an image is a stack of channels, e.g. red, green, blue
    draw_channel_sum        THE rule: each kernel channel meets its own input
                            channel; the responses, plus one bias, add up to ONE map
"""

import numpy as np

from ..checks import as_real_array, require_axes
from ..ops import conv2d_multi_in, corr2d, require_one_channel_per_input_channel
from .common import (
    ANNOTATE_MAX_CELLS,
    MAX_FIGURE_WIDTH,
    _as_image,
    _channel_names,
    _grid,
    _new_figure,
    _shared_range,
    channel_colormap,
    format_number,
)


def _in_unit_range(x):
    """Whether every value of x is in [0, 1], as a photo's are."""
    return bool(np.all((x >= 0) & (x <= 1)))


def _input_scale(x):
    """The one colour scale of an image's channels: 0..1 for values in [0, 1] (a photo), else x's min..max."""
    return (0.0, 1.0) if _in_unit_range(x) else _shared_range(x)


def show_channels(x, names=None):
    """Show an image as the stack of channels it is: one panel per channel.

    x:     (C, H, W), channels first.
    names: C channel names; default ("red", "green", "blue") when C == 3, else
           "channel 0", "channel 1", ... . A channel named red, green or blue is
           drawn from black (none of that colour) to its colour, the three colours
           equally light (channel_colormap); others in grey.
    When C == 3 and all values are in [0, 1], a first panel shows the colour image itself.
    All channel panels on one colour scale, vmin..vmax: 0..1 when every value is
    in [0, 1] (a photo), else the smallest..the largest value of x; so a value
    looks equally bright in every channel and the panels can be compared.
    Numbers are written in when a channel has at most 36 cells.
    Returns the Figure; the channel panels' axes are labelled "channel 0", "channel 1", ...
    """
    x = _as_image(x)
    C = x.shape[0]
    names = _channel_names(names, x)
    vmin, vmax = _input_scale(x)
    show_colour = C == 3 and _in_unit_range(x)
    panels = C + show_colour
    ncols = min(panels, 6)
    nrows = -(-panels // ncols)
    aspect = x.shape[1] / x.shape[2]
    fig = _new_figure(2.2 * ncols, 2.2 * aspect * nrows + 0.3)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    if show_colour:
        axes[0].imshow(x.transpose(1, 2, 0), interpolation="nearest")
        axes[0].set_title("colour image", fontsize=10)
        axes[0].set_xticks([])
        axes[0].set_yticks([])
        axes[0].set_label("colour")
    annotate = x.shape[1] * x.shape[2] <= ANNOTATE_MAX_CELLS
    for c, (ax, name) in enumerate(zip(axes[show_colour:], names)):
        _grid(ax, x[c], f"x[{c}]: {name}", channel_colormap(name) or "gray", annotate, vmin, vmax)
        ax.set_label(f"channel {c}")
    for ax in axes[panels:]:
        ax.axis("off")
    fig.suptitle(f"one image, {C} channel{'s' if C != 1 else ''}: x has shape {x.shape}", fontsize=11)
    return fig


# --------------------------------------------------------------------------
# The channel-summing rule
# --------------------------------------------------------------------------


def _operator(ax, sign):
    """An axes that shows nothing but a big operator sign, e.g. "+" or "="."""
    ax.axis("off")
    ax.text(0.5, 0.5, sign, ha="center", va="center", fontsize=26, fontweight="bold", transform=ax.transAxes)
    ax.set_label(f"operator {sign}")


def draw_channel_sum(x, w, b=0.0, names=None):
    """THE picture of the course: one filter on a multi-channel image makes ONE feature map.

    x: (C_in, H, W) one image; w: (C_in, kH, kW) one filter, one channel per input
    channel; b: the filter's one bias (a number).
    names: C_in channel names (default red, green, blue for 3 channels, else "channel c").
    Draws three rows: the input channels x[c]; under each, its own kernel channel
    w[c]; under that, the response corr2d(x[c], w[c]), with "+" between them,
    then "+ bias" and "=" the summed map conv2d_multi_in(x, w, b): one feature
    map (its axes are labelled "sum"). Each row is on one colour scale: the
    input channels on vmin..vmax (0..1 for a photo, else x's min..max), the
    kernel channels on -m..m (m the largest |w|), and the responses and the
    summed map together on -r..r (r the largest absolute value among them), so
    the sum's colours are the responses' colours added. Numbers are written in
    when a map has at most 36 cells (kernels: 25); when they are not, a colour
    bar beside the sum gives the scale of the responses and the sum.
    With more than 5 channels, the middle ones are drawn as "...".
    Raises the course's ValueError when w does not have one channel per channel of x.
    Returns the Figure.
    """
    x = _as_image(x)
    w = as_real_array(w, "w")
    require_axes(w, 3, "w", "(C_in, kH, kW)", "For weights (C_out, C_in, kH, kW), pick one filter with w[f].")
    require_one_channel_per_input_channel(w.shape[0], x.shape[0], last_axis=x.shape[-1])
    if np.ndim(b) != 0:
        raise ValueError(f"b must be one number (the filter's one bias), got an array of shape {np.shape(b)}")
    b = float(b)
    C = x.shape[0]
    names = _channel_names(names, x)

    responses = [corr2d(x[c], w[c]) for c in range(C)]
    feature_map = conv2d_multi_in(x, w, b)
    shown = list(range(C)) if C <= 5 else [0, 1, 2, None, C - 1]  # None: the "..." column

    columns = []  # (kind, value, width)
    for index, c in enumerate(shown):
        if index:
            columns.append(("operator", "+", 0.28))
        columns.append(("dots", None, 0.5) if c is None else ("channel", c, 1.0))
    columns += [("operator", "+", 0.28), ("bias", None, 0.6), ("operator", "=", 0.28), ("sum", None, 1.0)]
    widths = [width for _, _, width in columns]

    aspect = x.shape[1] / x.shape[2]
    panel = min(2.3, (MAX_FIGURE_WIDTH - 1.2) / sum(widths))
    fig = _new_figure(panel * sum(widths) + 1.2, panel * aspect * 2.0 + panel * 0.6 + 1.3)
    grid = fig.add_gridspec(3, len(columns), width_ratios=widths, height_ratios=[aspect, 0.6, aspect])

    input_scale = _input_scale(x)
    kernel_scale = _shared_range(w, symmetric=True)
    response_scale = _shared_range(*responses, feature_map, symmetric=True)  # the sum on the responses' scale
    annotate_maps = responses[0].size <= ANNOTATE_MAX_CELLS
    annotate_input = x.shape[1] * x.shape[2] <= ANNOTATE_MAX_CELLS
    annotate_kernel = w.shape[1] * w.shape[2] <= 25
    first_channel_column = True
    for column, (kind, value, _) in enumerate(columns):
        if kind == "channel":
            c = value
            top, middle, bottom = (fig.add_subplot(grid[row, column]) for row in range(3))
            _grid(top, x[c], f"x[{c}]: {names[c]}", channel_colormap(names[c]) or "gray", annotate_input, *input_scale)
            _grid(middle, w[c], f"w[{c}]", "RdBu_r", annotate_kernel, *kernel_scale)
            _grid(bottom, responses[c], f"corr2d(x[{c}], w[{c}])", "RdBu_r", annotate_maps, *response_scale)
            for ax, label in zip((top, middle, bottom), ("input", "kernel", "response")):
                ax.set_label(f"{label} {c}")
            if first_channel_column:
                top.set_ylabel("input channel", fontsize=10)
                middle.set_ylabel("kernel\nchannel", fontsize=10)
                bottom.set_ylabel("response", fontsize=10)
                first_channel_column = False
        elif kind == "dots":
            for row in range(3):
                ax = fig.add_subplot(grid[row, column])
                ax.axis("off")
                ax.text(0.5, 0.5, "...", ha="center", va="center", fontsize=18, transform=ax.transAxes)
        elif kind == "operator":
            _operator(fig.add_subplot(grid[2, column]), value)
        elif kind == "bias":
            ax = fig.add_subplot(grid[2, column])
            ax.axis("off")
            ax.text(
                0.5, 0.5, f"bias\nb = {format_number(b)}", ha="center", va="center", fontsize=11,
                transform=ax.transAxes, bbox={"boxstyle": "round", "facecolor": "0.95", "edgecolor": "0.5"},
            )
            ax.set_label("bias")
        else:  # the summed map: one feature map
            ax = fig.add_subplot(grid[2, column])
            image = _grid(ax, feature_map, "one feature map", "RdBu_r", annotate_maps, *response_scale)
            ax.set_label("sum")
            if not annotate_maps:
                colour_bar = fig.colorbar(image, ax=ax, shrink=0.8)
                colour_bar.set_label("responses and sum: one scale", fontsize=9)
    if C <= 5:
        title = " + ".join(names) + " + bias = one feature map"
    else:
        title = f"{C} channel responses + bias = one feature map"
    fig.suptitle(title, fontsize=13)
    return fig
