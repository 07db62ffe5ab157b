"""The pictures of notebooks 01-03: what each step of a convolution looks like.

Each function draws one idea and returns the matplotlib Figure, so a notebook
shows it and a test can inspect it. What each picture teaches:

    sample_photo            a real RGB photo, channels first (3, H, W), to convolve
    draw_grid               (helper) a small array as a grid of numbered cells
    draw_sliding_window     one channel: the window slides, multiplies, adds, and
                            fills the output one cell at a time
    draw_padding_and_stride one axis: how padding and stride decide how many
                            windows fit, i.e. the output-size formula
    show_maps               several maps side by side on one shared colour scale
    show_channels           an image is a stack of channels, e.g. red, green, blue
    draw_channel_sum        THE rule: each kernel channel meets its own input
                            channel; the responses, plus one bias, add up to ONE map
    draw_weight_tensor      the weights (C_out, C_in, kH, kW): C_out filters,
                            each a stack of C_in slices; C_out filters make C_out maps
    draw_layer              a layer as boxes: (C_in, H, W) -> (C_out, Ho, Wo)
    show_mismatch           where a learner's output differs from the expected one
    first_wrong_position    (no picture) the first index where two arrays differ

Layouts: one image is (C, H, W), channels first; one filter is (C_in, kH, kW);
the weights of a layer are (C_out, C_in, kH, kW). Everything shown is computed
with conv_lib itself (corr2d, conv2d_multi_in, pad2d, output_size).

The figures are made with pyplot, so a notebook's inline backend shows each one
when its cell ends. A call that is the last line of a cell also returns the
figure, which the notebook would show a second time: end such a line with ";"
or assign the figure (``fig = draw_layer(...)``).

This module imports matplotlib; ``import conv_lib`` does not import it, so the
core library needs numpy only.
"""

import functools
import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cbook, colormaps
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle
from PIL import Image

from .checks import as_real_array, pair, require_axes, whole_number
from .ops import conv2d_multi_in, corr2d, pad2d, require_one_channel_per_input_channel
from .shapes import output_size

#: Figures are at most this wide (inches), so they fit a notebook column.
MAX_FIGURE_WIDTH = 12.0

#: Maps with at most this many cells get their numbers written in.
ANNOTATE_MAX_CELLS = 36

#: draw_sliding_window shrinks its cells to stay about this tall (inches).
MAX_SLIDING_HEIGHT = 12.0

#: Font size of draw_sliding_window's arithmetic captions (points).
CAPTION_FONTSIZE = 10

#: Colour of outlines that point at "this cell" or "this window".
HIGHLIGHT = "tab:orange"

#: Each colour channel of a photo is drawn from black (none of that colour) to the colour itself.
CHANNEL_TINTS = {"red": "#ff2020", "green": "#20e020", "blue": "#3070ff"}


# --------------------------------------------------------------------------
# Small helpers: numbers, colour scales, figures
# --------------------------------------------------------------------------


def format_number(value):
    """Write a number as a learner would: integers without ".0", others with up to 2 decimals.

    >>> [format_number(v) for v in (19.0, -3, 0.5, 1 / 3, -0.0001)]
    ['19', '-3', '0.5', '0.33', '0']
    """
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == round(value):
        return str(int(round(value)))
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_factor(value):
    """A number as a factor of a product or a term of a sum: negatives in parentheses, e.g. "(-1)"."""
    text = format_number(value)
    return f"({text})" if text.startswith("-") else text


def symmetric_limit(*arrays):
    """The largest absolute finite value over the arrays (1 when all are zero): vmax of a scale centred on 0."""
    limits = [np.max(np.abs(a[np.isfinite(a)])) for a in map(np.asarray, arrays) if np.isfinite(a).any()]
    limit = float(max(limits, default=0.0))
    return limit if limit > 0 else 1.0


def _new_figure(width, height):
    """A constrained-layout figure, never wider than MAX_FIGURE_WIDTH inches."""
    return plt.figure(figsize=(min(width, MAX_FIGURE_WIDTH), height), layout="constrained")


def channel_colormap(name):
    """A colormap from black to the colour ``name`` ("red", "green" or "blue"), or None."""
    colour = CHANNEL_TINTS.get(str(name).lower())
    if colour is None:
        return None
    return LinearSegmentedColormap.from_list(f"black_to_{name}", ["black", colour])


def _channel_names(names, x):
    """The names of the channels of x (C, H, W): as given, or red/green/blue for 3, else "channel c"."""
    C = x.shape[0]
    if names is None:
        names = ("red", "green", "blue") if C == 3 else [f"channel {c}" for c in range(C)]
    names = list(names)
    if len(names) != C:
        raise ValueError(f"names must name each of the {C} channels of x {x.shape}, got {len(names)} names")
    return names


def _as_image(x, name="x"):
    """Check that x is one image (C, H, W) and return it as a float array."""
    x = as_real_array(x, name)
    require_axes(x, 3, name, "(C, H, W)", "A single channel (H, W) is x[None]; a batch (N, C, H, W) is one image x[n].")
    return x


# --------------------------------------------------------------------------
# The sample photo
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _grace_hopper_pixels():
    """matplotlib's bundled sample photo as uint8 (H, W, 3), loaded once and read-only."""
    with cbook.get_sample_data("grace_hopper.jpg") as file:
        pixels = np.asarray(Image.open(file).convert("RGB"))
    pixels.flags.writeable = False
    return pixels


def sample_photo(size=None):
    """A colour photo to convolve: Grace Hopper, matplotlib's bundled sample image (no download).

    size: None for the full photo (600 rows, 512 columns), or an int: the photo is
          shrunk (each new pixel the average of the pixels it covers) so that its
          longer side is ``size`` pixels, keeping its proportions.
    Returns x: (3, H, W), float64 in [0, 1], channels first (red, green, blue).
    Each call returns a fresh array, so changing it changes nothing else.
    """
    pixels = _grace_hopper_pixels()
    if size is not None:
        size = whole_number(size, "size (pixels on the longer side)", 1)
        height, width = pixels.shape[:2]
        scale = size / max(height, width)
        new_size = (max(1, round(width * scale)), max(1, round(height * scale)))  # PIL wants (width, height)
        pixels = np.asarray(Image.fromarray(pixels).resize(new_size, Image.Resampling.BOX))
    return pixels.transpose(2, 0, 1).astype(np.float64) / 255.0


# --------------------------------------------------------------------------
# A grid of numbered cells
# --------------------------------------------------------------------------


def _axes_size_points(ax):
    """About how large (width, height), in points, ``ax`` will be once the layout is done.

    Before a constrained-layout figure is drawn, axes positions still follow the
    default subplot spacing, far too wide between many columns; so the size is
    estimated from the axes' share of its grid instead.
    """
    spec = ax.get_subplotspec()
    dpi = ax.get_figure(root=True).dpi
    if spec is None:
        bbox = ax.get_window_extent()
        return bbox.width * 72 / dpi, bbox.height * 72 / dpi
    grid = spec.get_gridspec()
    nrows, ncols = grid.get_geometry()
    width_ratios = grid.get_width_ratios() or [1] * ncols
    height_ratios = grid.get_height_ratios() or [1] * nrows
    width_share = sum(width_ratios[c] for c in spec.colspan) / sum(width_ratios)
    height_share = sum(height_ratios[r] for r in spec.rowspan) / sum(height_ratios)
    area = ax.figure.bbox  # the (sub)figure holding the grid, in pixels
    return area.width * width_share * 72 / dpi, area.height * height_share * 72 / dpi


def _cell_fontsize(ax, shape, labels):
    """A font size (points) that fits the longest label into one cell of ``ax``."""
    width, height = _axes_size_points(ax)
    cell = 0.75 * min(width / shape[1], height / shape[0])  # layout margins take a share
    longest = max((len(label) for label in labels), default=1)
    return float(np.clip(min(0.42 * cell, 1.5 * cell / max(longest, 1)), 5, 13))


def _grid(ax, a, title=None, cmap="Greys", annotate=True, vmin=None, vmax=None, muted=None):
    """draw_grid, plus ``muted``: a boolean (H, W) mask of cells drawn greyed out (e.g. padding zeros)."""
    a = as_real_array(a, "a")
    require_axes(a, 2, "a", "(H, W)", "draw_grid draws one channel; pick one with a[c].")
    H, W = a.shape
    cmap = (colormaps[cmap] if isinstance(cmap, str) else cmap).with_extremes(bad="white")
    image = ax.imshow(a, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    if muted is not None and np.any(muted):
        overlay = np.zeros((H, W, 4))
        overlay[muted] = (0.90, 0.90, 0.90, 1.0)
        ax.imshow(overlay, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if max(H, W) <= 50:  # thin borders between cells; on photos they would hide the picture
        ax.hlines(np.arange(-0.5, H), -0.5, W - 0.5, color="0.55", linewidth=0.6)
        ax.vlines(np.arange(-0.5, W), -0.5, H - 0.5, color="0.55", linewidth=0.6)
    for spine in ax.spines.values():
        spine.set_color("0.4")
    if title is not None:
        ax.set_title(title, fontsize=10)
    if annotate:
        labels = [format_number(v) for v in a.flat if np.isfinite(v)]
        fontsize = _cell_fontsize(ax, a.shape, labels)
        for (i, j), value in np.ndenumerate(a):
            if not np.isfinite(value):
                continue
            if muted is not None and muted[i, j]:
                colour = "0.5"
            else:
                red, green, blue, _ = image.cmap(image.norm(value))
                colour = "white" if 0.299 * red + 0.587 * green + 0.114 * blue < 0.5 else "black"
            ax.text(j, i, format_number(value), ha="center", va="center", fontsize=fontsize, color=colour)
    return image


def draw_grid(ax, a, title=None, cmap="Greys", annotate=True, vmin=None, vmax=None):
    """Draw a 2-D array as a grid of cells with its numbers written in.

    ax:    the matplotlib Axes to draw into.
    a:     (H, W) one channel, kernel or map.
    title: text above the grid.
    cmap, vmin, vmax: the colour scale (as in imshow); the text in each cell is
           black or white, whichever reads better on that cell's colour.
    annotate: write each cell's number (integers without ".0", others with up
           to 2 decimals). Cell borders are drawn for grids up to 50 cells a side.
    Returns the AxesImage (its array is ``a``).
    """
    return _grid(ax, a, title=title, cmap=cmap, annotate=annotate, vmin=vmin, vmax=vmax)


def _outline(ax, row, column, height=1, width=1, colour=HIGHLIGHT, linewidth=3):
    """Outline the cells rows row..row+height-1, columns column..column+width-1 of a grid."""
    patch = Rectangle(
        (column - 0.5, row - 0.5), width, height, fill=False, edgecolor=colour, linewidth=linewidth, zorder=5, clip_on=False
    )
    ax.add_patch(patch)
    return patch


# --------------------------------------------------------------------------
# One channel: the sliding window, padding and stride
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Maps and channels
# --------------------------------------------------------------------------


def _as_maps(maps):
    """maps (M, H, W) or a list of 2-D arrays -> list of float (H, W) arrays."""
    if isinstance(maps, (list, tuple)):
        arrays = [as_real_array(m, f"maps[{index}]") for index, m in enumerate(maps)]
    else:
        stack = as_real_array(maps, "maps")
        require_axes(stack, 3, "maps", "(M, H, W)", "A single map (H, W) is maps[None].")
        arrays = list(stack)
    for index, m in enumerate(arrays):
        require_axes(m, 2, f"maps[{index}]", "(H, W)")
    if not arrays:
        raise ValueError("maps must hold at least one map, got none")
    return arrays


def show_maps(maps, titles=None, suptitle=None, cmap="RdBu_r", ncols=None, symmetric=True):
    """Show several maps side by side, e.g. the C_out feature maps of a layer.

    maps:   (M, H, W), or a list of M arrays (H, W).
    titles: M panel titles (default "map 0", "map 1", ...); suptitle: figure title.
    ncols:  panels per row (default: all in one row, at most 6 per row).
    symmetric: True: one colour scale for all maps, centred on 0 (from -m to m,
            m the largest absolute value), with a colour bar; False: each map on
            its own scale from its minimum to its maximum.
    Numbers are written in when each map has at most 36 cells.
    Returns the Figure.
    """
    arrays = _as_maps(maps)
    M = len(arrays)
    titles = [f"map {index}" for index in range(M)] if titles is None else list(titles)
    if len(titles) != M:
        raise ValueError(f"titles must name each of the {M} maps, got {len(titles)} titles")
    ncols = min(M, 6) if ncols is None else whole_number(ncols, "ncols", 1)
    nrows = -(-M // ncols)
    fig = _new_figure(2.1 * ncols + (0.8 if symmetric else 0.2), 2.2 * nrows + (0.4 if suptitle else 0.1))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    limit = symmetric_limit(*arrays)
    image = None
    for index, (ax, m, title) in enumerate(zip(axes, arrays, titles)):
        annotate = m.size <= ANNOTATE_MAX_CELLS
        scale = (-limit, limit) if symmetric else (None, None)
        image = _grid(ax, m, title, cmap, annotate, *scale)
        ax.set_label(f"map {index}")
    for ax in axes[M:]:
        ax.axis("off")
    if symmetric and image is not None:
        fig.colorbar(image, ax=axes[:M].tolist(), shrink=0.8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def show_channels(x, names=None):
    """Show an image as the stack of channels it is: one panel per channel.

    x:     (C, H, W), channels first.
    names: C channel names; default ("red", "green", "blue") when C == 3, else
           "channel 0", "channel 1", ... . A channel named red, green or blue is
           drawn from black (none of that colour) to its colour; others in grey.
    When C == 3 and all values are in [0, 1], a first panel shows the colour image itself.
    All channels share one scale, so their brightness can be compared.
    Numbers are written in when a channel has at most 36 cells.
    Returns the Figure.
    """
    x = _as_image(x)
    C = x.shape[0]
    names = _channel_names(names, x)
    in_unit_range = bool(np.all((x >= 0) & (x <= 1)))
    show_colour = C == 3 and in_unit_range
    vmin, vmax = (0.0, 1.0) if in_unit_range else (float(x.min()), float(x.max()))
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
    w[c]; under that, the response corr2d(x[c], w[c]) (all responses on one
    colour scale centred on 0), with "+" between them, then "+ bias" and "=" the
    summed map conv2d_multi_in(x, w) + b: one feature map (its axes are labelled
    "sum"). Numbers are written in when a map has at most 36 cells (kernels: 25).
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
    feature_map = conv2d_multi_in(x, w) + b
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

    in_unit_range = bool(np.all((x >= 0) & (x <= 1)))
    input_scale = (0.0, 1.0) if in_unit_range else (float(x.min()), float(x.max()))
    kernel_limit = symmetric_limit(w)
    response_limit = symmetric_limit(*responses)
    annotate_maps = responses[0].size <= ANNOTATE_MAX_CELLS
    annotate_input = x.shape[1] * x.shape[2] <= ANNOTATE_MAX_CELLS
    annotate_kernel = w.shape[1] * w.shape[2] <= 25
    first_channel_column = True
    for column, (kind, value, _) in enumerate(columns):
        if kind == "channel":
            c = value
            top, middle, bottom = (fig.add_subplot(grid[row, column]) for row in range(3))
            _grid(top, x[c], f"x[{c}]: {names[c]}", channel_colormap(names[c]) or "gray", annotate_input, *input_scale)
            _grid(middle, w[c], f"w[{c}]", "RdBu_r", annotate_kernel, -kernel_limit, kernel_limit)
            _grid(bottom, responses[c], f"corr2d(x[{c}], w[{c}])", "RdBu_r", annotate_maps, -response_limit, response_limit)
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
            sum_limit = symmetric_limit(feature_map)
            image = _grid(ax, feature_map, "one feature map", "RdBu_r", annotate_maps, -sum_limit, sum_limit)
            ax.set_label("sum")
            if not annotate_maps:
                fig.colorbar(image, ax=ax, shrink=0.8)
    if C <= 5:
        title = " + ".join(names) + " + bias = one feature map"
    else:
        title = f"{C} channel responses + bias = one feature map"
    fig.suptitle(title, fontsize=13)
    return fig


# --------------------------------------------------------------------------
# Many filters: the weight tensor and a layer
# --------------------------------------------------------------------------


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


def _mix(colour, white):
    """``colour`` mixed with a fraction ``white`` of white, as an RGB tuple."""
    rgb = np.array(to_rgb(colour))
    return tuple(rgb * (1 - white) + white)


def _plural(count, word):
    return f"{count} {word}{'s' if count != 1 else ''}"


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


def _cuboid(ax, left, bottom, thickness, height, depth, colour):
    """A box: front face thickness x height at (left, bottom), receding by ``depth`` up and right.

    Returns the (dx, dy) of the receding edge.
    """
    dx, dy = 0.6 * depth, 0.45 * depth
    right, top_edge = left + thickness, bottom + height
    front = [(left, bottom), (right, bottom), (right, top_edge), (left, top_edge)]
    top = [(left, top_edge), (right, top_edge), (right + dx, top_edge + dy), (left + dx, top_edge + dy)]
    side = [(right, bottom), (right + dx, bottom + dy), (right + dx, top_edge + dy), (right, top_edge)]
    for corners, white in ((side, 0.35), (top, 0.55), (front, 0.2)):
        ax.add_patch(Polygon(corners, closed=True, facecolor=_mix(colour, white), edgecolor="0.25", linewidth=0.9))
    return dx, dy


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
# Checking a learner's answer
# --------------------------------------------------------------------------


def first_wrong_position(expected, given, rtol=1e-6):
    """The first index, in C order (row by row), where ``given`` differs from ``expected``; None if none does.

    expected, given: arrays of the same shape, e.g. (H, W) or (C, H, W).
    A value counts as wrong when |given - expected| > rtol * (1 + |expected|), or
    when it is NaN or infinite where the expected value is not the same.
    Returns a tuple of ints (one per axis), or None when every value is right.
    Raises ValueError when the shapes differ (then no position compares): the
    message names both shapes.

    >>> first_wrong_position([[1, 2], [3, 4]], [[1, 2], [3, 4]]) is None
    True
    >>> first_wrong_position([[1, 2], [3, 4]], [[1, 2], [5, 4]])
    (1, 0)
    """
    expected, given = as_real_array(expected, "expected"), as_real_array(given, "given")
    if expected.shape != given.shape:
        raise ValueError(
            f"expected and given must have the same shape to compare them value by value: "
            f"expected has shape {expected.shape}, given has shape {given.shape}"
        )
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(given - expected) <= rtol * (1 + np.abs(expected))
    same_special = (expected == given) | (np.isnan(expected) & np.isnan(given))  # inf == inf, nan where nan expected
    wrong = np.flatnonzero(~(close | same_special))
    if wrong.size == 0:
        return None
    return tuple(int(i) for i in np.unravel_index(wrong[0], expected.shape))


def _position_words(index):
    """(1, 2) -> "row 1, column 2"; (0, 1, 2) -> "channel 0, row 1, column 2"."""
    names = ("row", "column") if len(index) == 2 else ("channel", "row", "column")
    return ", ".join(f"{name} {value}" for name, value in zip(names, index))


def show_mismatch(expected, given, title=None):
    """Show where a learner's output differs from the expected one.

    expected, given: (H, W) or (C, H, W) arrays.
    Same shape: one row of three panels per channel (at most 4 channels):
    "expected", "your output" and "difference (yours − expected)", with numbers
    written in when a map has at most 49 cells; the first wrong value (see
    first_wrong_position) is outlined in red on all three panels of its channel
    and named in the title, e.g. "first wrong value at (row 1, column 2): expected 7, got 5".
    Different shapes: the two arrays side by side (the first channel of each
    when they have 3 axes), with a title naming both shapes.
    title: an extra first line for the figure title.
    Returns the Figure.
    """
    expected, given = as_real_array(expected, "expected"), as_real_array(given, "given")
    for array, name in ((expected, "expected"), (given, "given")):
        if array.ndim not in (2, 3):
            raise ValueError(f"{name} must be a map (H, W) or maps (C, H, W), but it has shape {array.shape}")
    if expected.shape != given.shape:
        return _show_shape_mismatch(expected, given, title)

    wrong = first_wrong_position(expected, given)
    three_axes = expected.ndim == 3
    expected3, given3 = (expected, given) if three_axes else (expected[None], given[None])
    C = expected3.shape[0]
    channels = list(range(min(C, 4)))
    if wrong is not None and three_axes and wrong[0] not in channels:
        channels = channels[:3] + [wrong[0]]
    difference = given3 - expected3
    value_limit = symmetric_limit(expected3[channels], given3[channels])
    difference_limit = symmetric_limit(difference[channels])
    annotate = expected3.shape[1] * expected3.shape[2] <= 49
    aspect = expected3.shape[1] / expected3.shape[2]
    fig = _new_figure(9.5, min(2.8 * aspect, 4.0) * len(channels) + 0.9)
    axes = fig.subplots(len(channels), 3, squeeze=False)
    for row, c in enumerate(channels):
        prefix = f"channel {c}: " if three_axes else ""
        panels = (
            (expected3[c], "expected", value_limit, "expected"),
            (given3[c], "your output", value_limit, "given"),
            (difference[c], "difference (yours − expected)", difference_limit, "difference"),
        )
        for ax, (array, name, limit, label) in zip(axes[row], panels):
            _grid(ax, array, prefix + name, "RdBu_r", annotate, -limit, limit)
            ax.set_label(f"{label} {c}" if three_axes else label)
            if wrong is not None and (not three_axes or wrong[0] == c):
                _outline(ax, wrong[-2], wrong[-1], colour="red")
    if wrong is None:
        verdict = "all values match"
    else:
        verdict = (
            f"first wrong value at ({_position_words(wrong)}): "
            f"expected {format_number(expected[wrong])}, got {format_number(given[wrong])}"
        )
    fig.suptitle(verdict if title is None else f"{title}\n{verdict}", fontsize=12)
    return fig


def _show_shape_mismatch(expected, given, title):
    """show_mismatch for arrays of different shapes: both side by side, cells of one size, their shapes in the title."""
    firsts = [array[0] if array.ndim == 3 else array for array in (expected, given)]
    rows, columns = max(f.shape[0] for f in firsts), max(f.shape[1] for f in firsts)
    fig = _new_figure(8.0, min(3.6 * rows / columns, 5.0) + 0.9)
    axes = fig.subplots(1, 2)
    limit = symmetric_limit(*firsts)
    for ax, array, first, name in zip(axes, (expected, given), firsts, ("expected", "your output")):
        part = " (channel 0)" if array.ndim == 3 else ""
        _grid(ax, first, f"{name}{part}\nshape {array.shape}", "RdBu_r", first.size <= 49, -limit, limit)
        ax.set_xlim(-0.5, columns - 0.5)  # the same cell size in both panels: the smaller array looks smaller
        ax.set_ylim(rows - 0.5, -0.5)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_label("expected" if name == "expected" else "given")
    verdict = f"shapes differ: expected {expected.shape}, got {given.shape}"
    fig.suptitle(verdict if title is None else f"{title}\n{verdict}", fontsize=12)
    return fig
