"""The pictures of notebook 01 (single channel): one kernel channel sliding over one input channel.

    draw_sliding_window     one channel: the window slides, multiplies, adds, and
                            fills the output one cell at a time
    draw_padding_and_stride one axis: how padding and stride decide how many
                            windows fit, i.e. the output-size formula

Notebook 01 also shows maps side by side (maps.show_maps) and the sample photo
(common.sample_photo).
"""

import numpy as np
from matplotlib import colormaps
from matplotlib.patches import FancyBboxPatch, Rectangle

from ..checks import as_real_array, require_axes, whole_number
from ..ops import corr2d, pad2d
from ..shapes import output_size
from .common import (
    CAPTION_FONTSIZE,
    MAX_FIGURE_WIDTH,
    _grid,
    _mix,
    _new_figure,
    _outline,
    _plural,
    format_factor,
    format_number,
    symmetric_limit,
)

#: draw_sliding_window shrinks its cells to stay about this tall (inches).
MAX_SLIDING_HEIGHT = 12.0


def _products_caption(window, k, value, max_terms=9):
    """The arithmetic of one output value, e.g. "0*0 + 1*1 + 3*2 + 4*3 = 19".

    window, k: (kH, kW); value: the output value (from corr2d). With more than
    ``max_terms`` products, the middle ones are written as "...".
    """
    terms = [f"{format_factor(a)}*{format_factor(b)}" for a, b in zip(window.flat, k.flat)]
    if len(terms) > max_terms:
        terms = terms[:3] + ["..."] + terms[-1:]
    return " + ".join(terms) + f" = {format_number(value)}"


def _window_positions(positions, Ho, Wo):
    """Output positions to show: the given (row, column) pairs, checked, or by default
    the first three in reading order and the last one."""
    if positions is None:
        flat = sorted({index for index in (0, 1, 2, Ho * Wo - 1) if index < Ho * Wo})
        return [divmod(index, Wo) for index in flat]
    checked = []
    for position in positions:
        if len(position) != 2:
            raise ValueError(f"each position must be a pair (row, column), got {position!r}")
        row, column = (whole_number(p, "a position's row and column", 0) for p in position)
        if row >= Ho or column >= Wo:
            raise ValueError(
                f"position {(row, column)} is outside the output, which has {Ho} rows and {Wo} columns "
                f"(rows 0..{Ho - 1}, columns 0..{Wo - 1})"
            )
        checked.append((row, column))
    if not checked:
        raise ValueError("positions must name at least one (row, column) of the output")
    return checked


def draw_sliding_window(x, k, positions=None, padding=0, stride=1):
    """Show the window sliding over one channel: multiply elementwise, add up, one output cell at a time.

    x: (H, W) one input channel; k: (kH, kW) one kernel channel.
    positions: output positions (row, column) to show, one row of panels each;
               default: the first three in reading order and the last one.
    padding, stride: as in conv2d (ints); padding zeros are drawn greyed out.
    Draws, per position: the padded input with the window outlined, the kernel,
    the elementwise products, and the output filled in up to that position with
    the current cell outlined; under each row, the arithmetic, e.g.
    "0*0 + 1*1 + 3*2 + 4*3 = 19" (middle terms written "..." past 9 terms).
    Numbers are written in while the padded input is at most 12 cells a side
    (kernel and products: at most 25 cells).
    Returns the Figure.
    """
    x, k = as_real_array(x, "x"), as_real_array(k, "k")
    require_axes(x, 2, "x", "(H, W)", "draw_sliding_window shows one channel; pick one with x[c].")
    require_axes(k, 2, "k", "(kH, kW)", "draw_sliding_window shows one kernel channel; pick one with k[c].")
    padding = whole_number(padding, "padding", 0)
    stride = whole_number(stride, "stride", 1)
    padded = pad2d(x, padding)
    out = corr2d(padded, k, stride=stride)  # (Ho, Wo)
    Ho, Wo = out.shape
    kH, kW = k.shape
    shown = _window_positions(positions, Ho, Wo)

    is_padding = np.ones(padded.shape, dtype=bool)
    is_padding[padding : padding + x.shape[0], padding : padding + x.shape[1]] = False
    span = float(x.max() - x.min()) or 1.0
    input_limits = (float(x.min()), float(x.max()) + 0.6 * span)  # pale greys: the numbers stay readable
    kernel_limit = symmetric_limit(k)
    product_limit = symmetric_limit(padded) * kernel_limit
    output_limit = symmetric_limit(out)

    windows = {(i, j): padded[i * stride : i * stride + kH, j * stride : j * stride + kW] for i, j in shown}
    captions = {(i, j): f"output[{i}, {j}]:  " + _products_caption(windows[i, j], k, out[i, j]) for i, j in shown}

    tallest = max(padded.shape[0], 3)
    unit = min(0.55, (MAX_SLIDING_HEIGHT / len(shown) - 1.1) / tallest)  # inches per input cell
    # Small panels get room for their titles; their cells may then be larger than the input's.
    widths = [padded.shape[1], max(kW, 1.3 / unit), max(kW, 1.3 / unit), max(Wo, 1.0 / unit)]
    unit = min(unit, (MAX_FIGURE_WIDTH - 1.5) / sum(widths))
    row_height = max(1.6, unit * tallest + 1.1)  # inches: the cells, a title and the caption
    caption_width = max(len(c) for c in captions.values()) * CAPTION_FONTSIZE * 0.62 / 72 + 0.5  # monospace
    fig = _new_figure(max(unit * sum(widths) + 1.5, caption_width), row_height * len(shown))
    annotate_input = max(padded.shape) <= 12
    annotate_output = max(out.shape) <= 12
    rows = np.atleast_1d(fig.subfigures(len(shown), 1))
    for subfig, (i, j) in zip(rows, shown):
        top, left = i * stride, j * stride
        axes = subfig.subplots(1, 4, width_ratios=widths)
        padded_title = f"input (padding {padding})" if padding else "input"
        _grid(axes[0], padded, padded_title, "Greys", annotate_input, *input_limits, muted=is_padding)
        _outline(axes[0], top, left, kH, kW)
        _grid(axes[1], k, "kernel", "RdBu_r", k.size <= 25, -kernel_limit, kernel_limit)
        _grid(axes[2], windows[i, j] * k, "window × kernel", "RdBu_r", k.size <= 25, -product_limit, product_limit)
        filled = np.full(out.shape, np.nan)
        done = i * Wo + j + 1
        filled.flat[:done] = out.flat[:done]
        _grid(axes[3], filled, "output", "RdBu_r", annotate_output, -output_limit, output_limit)
        _outline(axes[3], i, j)
        for ax, label in zip(axes, ("input", "kernel", "products", "output")):
            ax.set_label(label)
        subfig.supxlabel(captions[i, j], fontsize=CAPTION_FONTSIZE, family="monospace")
    return fig


def draw_padding_and_stride(n=5, k=3, padding=1, stride=2):
    """Show, along one axis, how many window positions fit: the output-size rule.

    n: input cells; k: kernel size; padding: zero cells added on each side; stride: step.
    Draws the n input cells between the padding zeros (greyed), and under them each
    window position as a bar covering its k cells, one bar per output value.
    The title writes the formula with the numbers, e.g.
    "output = floor((5 + 2*1 - 3) / 2) + 1 = 3" (the result from output_size).
    Returns the Figure.
    """
    Ho = output_size(n, k, padding, stride)  # also checks the arguments
    cells = n + 2 * padding
    unit = min(0.6, (MAX_FIGURE_WIDTH - 1.0) / (cells + 1.5))  # inches per cell
    bar_step = 0.8
    data_height = 1.55 + bar_step * Ho
    fig = _new_figure(max(unit * (cells + 1.5) + 1.0, 5.5), unit * data_height + 1.5)
    ax = fig.add_subplot()
    for cell in range(cells):
        is_padding = cell < padding or cell >= padding + n
        ax.add_patch(Rectangle((cell, 0), 1, 1, facecolor="0.88" if is_padding else "white", edgecolor="0.3"))
        label = "0" if is_padding else f"x[{cell - padding}]"
        ax.text(cell + 0.5, 0.5, label, ha="center", va="center", fontsize=9, color="0.5" if is_padding else "black")
    colours = colormaps["tab10"]
    lowest = -0.35 - bar_step * Ho
    for boundary in range(cells + 1):  # dotted guides: which cells each window covers
        ax.plot([boundary, boundary], [lowest, 0], color="0.8", linewidth=0.8, linestyle=":", zorder=0)
    for position in range(Ho):
        start, y = position * stride, -0.35 - bar_step * (position + 1)
        colour = colours(position % 10)
        ax.add_patch(
            FancyBboxPatch(
                (start + 0.08, y), k - 0.16, 0.5, boxstyle="round,pad=0,rounding_size=0.15",
                facecolor=_mix(colour, 0.7), edgecolor=colour, linewidth=1.5,
            )
        )
        ax.text(start + k / 2, y + 0.25, f"output[{position}]", ha="center", va="center", fontsize=9)
    ax.text(cells + 0.2, 0.5, "input", va="center", fontsize=9)
    ax.set_xlim(-0.2, cells + 1.3)
    ax.set_ylim(lowest - 0.1, 1.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"output = floor(({n} + 2*{padding} - {k}) / {stride}) + 1 = {Ho}", fontsize=12)
    ax.set_label("axis")
    padding_words = f"{_plural(padding, 'padding zero')} on each side" if padding else "no padding"
    fig.supxlabel(
        f"{_plural(n, 'input')}, {padding_words}, kernel {k}, stride {stride}:\n"
        f"{_plural(Ho, 'window position')}, so {_plural(Ho, 'output')}",
        fontsize=10,
    )
    return fig
