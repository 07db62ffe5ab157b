"""The pictures of notebooks 01-06: what each step of a convolution, and of a network, looks like.

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
    draw_stack              a conv-ReLU-pool stack as the tensors it makes, with their shapes
    draw_network            a whole network (VGG16, VGG11, tiny_vgg), box by box, then
                            its fully connected layers
    draw_max_pool           max pooling, channel by channel: C channels in, C channels out
    receptive_field_boxes   (no picture) the input pixels one unit after each layer sees
    draw_receptive_field    those fields drawn on the input, growing layer by layer
    draw_activation_std     activations exploding, vanishing or kept steady through a
                            deep stack, one line per way of initialising the weights

Layouts: one image is (C, H, W), channels first; one filter is (C_in, kH, kW);
the weights of a layer are (C_out, C_in, kH, kW); networks are lists of layer
specs (conv_lib.models). Everything shown is computed with conv_lib itself
(corr2d, conv2d_multi_in, pad2d, output_size, max_pool2d, models.summary).

The figures are made with pyplot, so a notebook's inline backend shows each one
when its cell ends. A call that is the last line of a cell also returns the
figure, which the notebook would show a second time: end such a line with ";"
or assign the figure (``fig = draw_layer(...)``).

This module imports matplotlib; ``import conv_lib`` does not import it, so the
core library needs numpy only.
"""

import functools
import math
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cbook, colormaps
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle
from PIL import Image

from .checks import as_real_array, pair, require_axes, whole_number
from .models import summary
from .ops import conv2d_multi_in, corr2d, max_pool2d, pad2d, require_one_channel_per_input_channel
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


def sample_photo(size=None, square=False):
    """A colour photo to convolve: Grace Hopper, matplotlib's bundled sample image (no download).

    size:   None for the full photo (600 rows, 512 columns), or an int: the photo is
            shrunk (each new pixel the average of the pixels it covers) so that its
            longer side is ``size`` pixels, keeping its proportions.
    square: True to keep only the photo's central square first (512 x 512), as
            image classifiers crop their inputs: sample_photo(224, square=True) is
            (3, 224, 224), VGG16's input size.
    Returns x: (3, H, W), float64 in [0, 1], channels first (red, green, blue).
    Each call returns a fresh array, so changing it changes nothing else.
    """
    pixels = _grace_hopper_pixels()
    if square:
        height, width = pixels.shape[:2]
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        pixels = pixels[top : top + side, left : left + side]
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


# --------------------------------------------------------------------------
# Stacks of layers (notebooks 04 and 05): shapes, pooling, receptive fields
# --------------------------------------------------------------------------

#: Colours of the tensors in draw_stack and draw_network, by the layer that made them.
TENSOR_COLOURS = {"input": "0.55", "conv": "tab:blue", "pool": "tab:red", "linear": "tab:purple"}

#: Spatial layer kinds: the ones that have a kernel (or window) sliding over H and W.
SPATIAL_KINDS = ("conv", "pool")

#: How each kind of layer spec is written (see conv_lib.models).
SPEC_FORMS = {
    "conv": "('conv', c_out, k, stride, padding)",
    "pool": "('pool', size, stride)",
    "relu": "('relu',)",
    "flatten": "('flatten',)",
    "linear": "('linear', n_out)",
}


def _text_width(text, fontsize):
    """About how wide (inches) one line of ``text`` is at ``fontsize`` points (digits and letters ~0.6 em)."""
    return max((len(line) for line in str(text).split("\n")), default=0) * 0.62 * fontsize / 72


def _shape_words(shape):
    """(64, 224, 224) -> "64 x 224 x 224"; (4096,) -> "4096"."""
    return " x ".join(str(n) for n in shape)


def _layer_words(layer):
    """What a spatial layer does, in a few words: "conv 3x3, 64" or "max pool 2x2" (stride/padding when not the usual)."""
    if layer[0] == "conv":
        _, c_out, k, stride, padding = layer
        extras = [f"stride {stride}"] * (stride != 1) + [f"pad {padding}"] * (padding != 0)
        return f"conv {k}x{k}, {c_out}", ", ".join(extras)
    _, size, stride = layer
    return f"max pool {size}x{size}", f"stride {stride}" if stride != size else ""


def _checked_summary(layers, input_shape):
    """conv_lib.models.summary(layers, input_shape), after checking that layers is a non-empty list of
    specs, each with as many entries as its kind needs (SPEC_FORMS), and input_shape is (C, H, W)."""
    if isinstance(layers, (str, bytes)) or not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError(f"layers must be a non-empty list of layer specs such as ('conv', 8, 3, 1, 1), got {layers!r}")
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), one image's shape, got {input_shape!r}")
    input_shape = tuple(input_shape)
    for n in input_shape:
        whole_number(n, "input_shape's entries", 1)
    for position, layer in enumerate(layers):
        form = SPEC_FORMS.get(layer[0]) if isinstance(layer, (tuple, list)) and layer else None
        if form is not None and len(layer) != len([entry for entry in form.strip("()").split(",") if entry.strip()]):
            raise ValueError(f"layer {position} must be {form}, got {layer!r}")
    return summary(layers, input_shape)


def _spatial_part(layers):
    """The layers up to (not including) the first flatten or linear layer: the part with H and W."""
    layers = list(layers)
    for index, layer in enumerate(layers):
        if isinstance(layer, (tuple, list)) and layer and layer[0] in ("flatten", "linear"):
            return layers[:index]
    return layers


def _named_cuboid(ax, name, left, bottom, thickness, height, depth, colour):
    """_cuboid, with its front face (a Polygon) labelled ``name`` so that a test can find it. Returns (dx, dy)."""
    dx, dy = _cuboid(ax, left, bottom, thickness, height, depth, colour)
    ax.patches[-1].set_label(name)  # _cuboid draws the front face last
    return dx, dy


def draw_stack(layers, input_shape, ax=None, title=None):
    """Draw a stack of conv, ReLU and pool layers as the tensors it makes, left to right.

    layers: layer specs (see conv_lib.models): ("conv", c_out, k, stride, padding),
            ("relu",) and ("pool", size, stride); no flatten or linear layers
            (draw_network draws whole networks).
    input_shape: (C, H, W) of one image, e.g. (3, 32, 32).
    ax:     an Axes to draw into (default: a new figure sized for the stack); the
            stack wraps onto as many rows as the axes' width needs.
    title:  text above the stack (default: "input (3, 32, 32) → output (16, 8, 8)").
    Draws the input and the output of each conv and pool layer as a box (C, H, W):
    its thickness proportional to the channel count C (at least a thin slab, so 3
    channels show), its height and depth proportional to H and W. Each box is
    labelled "C x H x W" (e.g. "8 x 32 x 32"), the arrow between two boxes with
    the layer ("conv 3x3, 8" / "max pool 2x2", with stride and padding under it
    when they are not 1 and 0), and "+ReLU" under the arrow when a ReLU follows
    (a ReLU keeps the shape, so it makes no new box). Shapes come from
    conv_lib.models.summary. Stacks wider than MAX_FIGURE_WIDTH wrap onto more rows.
    The boxes' front faces are Polygons labelled "input" and the layer names
    ("conv1_1", "pool1", ...).
    Returns the Figure.
    """
    rows = _checked_summary(layers, input_shape)
    for layer, row in zip(layers, rows):
        if row.kind not in (*SPATIAL_KINDS, "relu"):
            raise ValueError(
                f"draw_stack draws conv, relu and pool layers; layer {row.name} is {layer!r} "
                f"(draw a whole network with its flatten and linear layers with draw_network)"
            )
    tensors = [dict(name="input", kind="input", shape=tuple(input_shape), relu=False, layer=None)]
    for layer, row in zip(layers, rows):
        if row.kind == "relu":
            tensors[-1]["relu"] = True
        else:
            tensors.append(dict(name=row.name, kind=row.kind, shape=row.output_shape, relu=False, layer=layer))
    if len(tensors) == 1:
        raise ValueError(f"layers must hold at least one conv or pool layer to draw, got {list(layers)!r}")

    label_size, layer_size = 9, 9
    tallest = max(tensor["shape"][1] for tensor in tensors)
    most_channels = max(tensor["shape"][0] for tensor in tensors)
    unit = 2.0 / tallest  # inches per pixel of height (and of width, receding)
    for tensor in tensors:
        C, H, W = tensor["shape"]
        tensor["thickness"] = max(0.9 * C / most_channels, 0.1)
        tensor["height"] = max(H * unit, 0.18)
        tensor["depth"] = max(0.6 * W * unit, 0.12)
        tensor["label"] = _shape_words(tensor["shape"])
        dx = 0.6 * tensor["depth"]
        tensor["slot"] = max(tensor["thickness"] + dx, _text_width(tensor["label"], label_size)) + 0.1
    arrows = []  # the arrow into tensors[i] for i >= 1: the layer above it, "+ReLU" under it
    for tensor in tensors[1:]:
        words, settings = _layer_words(tensor["layer"])
        width = max(_text_width(words, layer_size), _text_width(settings, layer_size - 1))
        arrows.append(dict(words=words, settings=settings, relu=tensor["relu"], length=max(width + 0.3, 0.7)))
    if tensors[0]["relu"]:
        tensors[0]["label"] += "\n(after ReLU)"

    # Lay the slots out in rows no wider than the figure (or the given axes): input box, then (arrow, box) pairs.
    usable = MAX_FIGURE_WIDTH - 1.0 if ax is None else _axes_size_points(ax)[0] / 72 - 0.2
    box_rows, box_row, width = [], [0], tensors[0]["slot"]
    for index in range(1, len(tensors)):
        step = arrows[index - 1]["length"] + tensors[index]["slot"]
        if width + step > usable and box_row:
            box_rows.append(box_row)
            box_row, width = [], 0.0
        box_row.append(index)
        width += step
    box_rows.append(box_row)

    if ax is None:
        fig = _new_figure(1.0, 1.0)  # resized below, once the drawing's extent is known
        ax = fig.add_subplot()
    else:
        fig = None
    top, widest = 0.0, 0.0
    for box_row in box_rows:
        row_top = max(tensors[i]["height"] / 2 + 0.45 * tensors[i]["depth"] for i in box_row)
        row_bottom = max(tensors[i]["height"] / 2 for i in box_row)
        label_lines = max(tensors[i]["label"].count("\n") + 1 for i in box_row)
        centre = top - max(row_top, 0.45) - 0.1
        left = 0.0
        for index in box_row:
            tensor = tensors[index]
            if index > 0:
                arrow = arrows[index - 1]
                start, end = left + 0.1, left + arrow["length"] - 0.1
                patch = FancyArrowPatch((start, centre), (end, centre), arrowstyle="-|>", mutation_scale=16, color="0.3")
                patch.set_linewidth(1.5)
                ax.add_patch(patch)
                middle = (start + end) / 2
                words_bottom = centre + 0.08
                if arrow["settings"]:
                    ax.text(middle, words_bottom, arrow["settings"], ha="center", va="bottom", fontsize=layer_size - 1,
                            color="0.4")
                    words_bottom += 0.17
                ax.text(middle, words_bottom, arrow["words"], ha="center", va="bottom", fontsize=layer_size)
                if arrow["relu"]:
                    ax.text(middle, centre - 0.08, "+ReLU", ha="center", va="top", fontsize=layer_size,
                            color="tab:green")
                left += arrow["length"]
            box_width = tensor["thickness"] + 0.6 * tensor["depth"]
            box_left = left + (tensor["slot"] - box_width) / 2
            _named_cuboid(ax, tensor["name"], box_left, centre - tensor["height"] / 2, tensor["thickness"],
                          tensor["height"], tensor["depth"], TENSOR_COLOURS[tensor["kind"]])
            ax.text(left + tensor["slot"] / 2, centre - row_bottom - 0.1, tensor["label"], ha="center", va="top",
                    fontsize=label_size)
            left += tensor["slot"]
        widest = max(widest, left)
        top = centre - row_bottom - 0.1 - label_lines * 0.17 - 0.3
    ax.set_xlim(-0.05, widest + 0.05)
    ax.set_ylim(top + 0.1, 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    if title is None:
        title = f"input {tuple(input_shape)} → output {tensors[-1]['shape']}"
    ax.set_title(title, fontsize=11)
    ax.set_label("stack")
    ax.text(0.5, 0.0, "each box is one tensor, C x H x W (channels x height x width); a ReLU keeps the shape",
            ha="center", va="top", fontsize=8.5, color="0.35", transform=ax.transAxes)
    if fig is None:
        return ax.get_figure(root=True)
    fig.set_size_inches(min(widest + 0.4, MAX_FIGURE_WIDTH), 0.1 - top + 0.9)
    return fig


def _stagger(labels, gap=0.08):
    """Give each label (a dict with x and width, inches, in left-to-right order) a "level": 0 unless it
    would overlap a label already on that level, then the lowest free level above."""
    ends = []  # per level, where its last label ends
    for label in labels:
        left = label["x"] - label["width"] / 2
        level = next((n for n, end in enumerate(ends) if left >= end + gap), len(ends))
        if level == len(ends):
            ends.append(-math.inf)
        ends[level] = label["x"] + label["width"] / 2
        label["level"] = level


def _shape_labels(boxes):
    """draw_network's shape labels: one above each run of conv outputs of one shape, one under the
    input and each pool output. boxes: dicts with kind, shape, left, right, top and height (inches).
    Returns (above, below): lists of dicts with text, x (centre), width and y (the box edge they name)."""
    above, below = [], []
    for index, box in enumerate(boxes):
        if box["kind"] == "conv":
            previous = boxes[index - 1]
            if index and previous["kind"] == "conv" and previous["shape"] == box["shape"]:
                continue  # labelled with its run
            run = [box]
            for following in boxes[index + 1 :]:
                if following["kind"] != "conv" or following["shape"] != box["shape"]:
                    break
                run.append(following)
            text = _shape_words(box["shape"])
            x = (run[0]["left"] + run[-1]["right"]) / 2
            above.append(dict(text=text, x=x, width=_text_width(text, 8.5), y=max(q["top"] for q in run)))
        else:
            text = ("input\n" if box["kind"] == "input" else "") + _shape_words(box["shape"])
            x = (box["left"] + box["right"]) / 2
            below.append(dict(text=text, x=x, width=_text_width(text, 8.5), y=-box["height"] / 2))
    return above, below


def draw_network(layers, input_shape=(3, 224, 224), title=None):
    """Draw a whole network, VGG style: one box per conv or pool output, then the fully connected layers.

    layers: layer specs (see conv_lib.models), e.g. vgg16(), vgg11() or tiny_vgg().
    input_shape: (C, H, W) of one image, e.g. (3, 224, 224) (tiny_vgg: (3, 32, 32) or (1, 16, 16)).
    title:  text above the network (default: how many conv, pool and fully
            connected layers it has, and its parameter count).
    Draws the input and the output of each conv layer (blue) and each max pool
    (red) as a box, left to right: its height and depth grow with the square
    root of H and W, its thickness with the log of C, so both 512 channels of 7x7
    and 64 channels of 224x224 stay visible. The conv boxes of one block touch;
    each run of conv outputs of one shape is labelled once above it, e.g.
    "128 x 112 x 112" (C x H x W), and each pool output under it. The fully
    connected layers are thin tall bars (purple) labelled with their sizes, after
    an arrow "flatten" with the flat length. A legend names the colours.
    Shapes come from conv_lib.models.summary. The boxes' front faces (and the
    bars) are Polygons labelled "input" and the layer names ("conv1_1", "pool1", "fc6", ...).
    Returns the Figure (at most MAX_FIGURE_WIDTH inches wide).
    """
    rows = _checked_summary(layers, input_shape)
    input_shape = tuple(input_shape)
    parts = [dict(name="input", kind="input", shape=input_shape)]
    parts += [dict(name=row.name, kind=row.kind, shape=row.output_shape)
              for row in rows if row.kind in (*SPATIAL_KINDS, "linear")]
    boxes = [part for part in parts if part["kind"] != "linear"]  # the tensors (C, H, W)
    bars = [part for part in parts if part["kind"] == "linear"]  # the vectors (n,) of the fully connected layers
    flat = next((row.output_shape[0] for row in rows if row.kind == "flatten"), None)

    tallest = max(part["shape"][1] for part in boxes)
    widest = max(part["shape"][2] for part in boxes)
    biggest = 2.3  # inches: the height of the tallest box
    for part in boxes:
        C, H, W = part["shape"]
        part["height"] = biggest * math.sqrt(H / tallest)
        part["depth"] = 0.5 * biggest * math.sqrt(W / widest)
        part["log_channels"] = 1 + math.log2(C)
    touching, block_gap, bar_step = 0.04, 0.3, 0.5
    flatten_length = max(_text_width(f"{flat:,}" if flat else "", 8.5), 0.55) + 0.25 if bars else 0.0
    gaps = sum(block_gap if previous["kind"] in ("pool", "input") else touching for previous in boxes[:-1])
    last_dx = 0.6 * boxes[-1]["depth"]
    fixed = gaps + last_dx + (flatten_length + bar_step * len(bars) if bars else 0.0) + 0.3
    scale = min(0.05, (MAX_FIGURE_WIDTH - 0.6 - fixed) / sum(part["log_channels"] for part in boxes))
    if scale <= 0.005:  # a 512-channel box would be thinner than 0.05 inch
        raise ValueError(
            f"draw_network draws one box per conv and pool output side by side: the {len(boxes) - 1} of these "
            f"layers do not fit into {MAX_FIGURE_WIDTH} inches (VGG16 has 18); draw part of the network with draw_stack"
        )

    fig = _new_figure(MAX_FIGURE_WIDTH, 4.0)  # the height is set below, once the labels are placed
    ax = fig.add_subplot()
    left = 0.0
    for index, part in enumerate(boxes):
        if index:
            left += block_gap if boxes[index - 1]["kind"] in ("pool", "input") else touching
        thickness = scale * part["log_channels"]
        _, dy = _named_cuboid(ax, part["name"], left, -part["height"] / 2, thickness, part["height"], part["depth"],
                              TENSOR_COLOURS[part["kind"]])
        part["left"], part["right"], part["top"] = left, left + thickness, part["height"] / 2 + dy
        left += thickness
    above, below = _shape_labels(boxes)

    right = left + 0.6 * boxes[-1]["depth"]
    if bars:
        most = max(part["shape"][0] for part in bars)
        start, end = right + 0.1, right + flatten_length - 0.1
        arrow = FancyArrowPatch((start, 0), (end, 0), arrowstyle="-|>", mutation_scale=14, color="0.3")
        ax.add_patch(arrow)
        if flat is not None:
            ax.text((start + end) / 2, 0.07, f"flatten\n{flat:,}", ha="center", va="bottom", fontsize=8.5)
        left = right + flatten_length
        for part in bars:
            height = max(biggest * 0.85 * math.log(part["shape"][0] + 1) / math.log(most + 1), 0.25)
            _, dy = _named_cuboid(ax, part["name"], left, -height / 2, 0.1, height, 0.15, TENSOR_COLOURS["linear"])
            ax.text(left + 0.1, height / 2 + dy + 0.06, part["name"], ha="center", va="bottom", fontsize=8.5)
            size_words = f"{part['shape'][0]:,}"
            below.append(dict(text=size_words, x=left + 0.1, width=_text_width(size_words, 8.5), y=-height / 2))
            left += bar_step
        right = left - bar_step + 0.3

    solids = [(part["left"], part["right"] + 0.6 * part["depth"], -part["height"] / 2, part["top"]) for part in boxes]

    def clear_of_boxes(label, side):
        """The height just above (side +1) or below (side -1) every box under the label's x range."""
        low, high = label["x"] - label["width"] / 2, label["x"] + label["width"] / 2
        reached = [top if side > 0 else bottom for start, end, bottom, top in solids if start < high and end > low]
        return max(reached + [label["y"]]) if side > 0 else min(reached + [label["y"]])

    level_height = 0.3  # inches per level of staggered labels
    top, bottom = max(part["top"] for part in boxes), -max(part["height"] for part in boxes) / 2
    for labels, side in ((above, 1), (below, -1)):
        _stagger(labels)
        for label in labels:
            text_lines = 1 + label["text"].count("\n")
            y = clear_of_boxes(label, side) + side * (0.06 + level_height * label["level"] * text_lines)
            ax.text(label["x"], y, label["text"], ha="center", va="bottom" if side > 0 else "top", fontsize=8.5)
            if abs(y - label["y"]) > 0.3:  # a leader line down (or up) to the box it names
                ax.plot([label["x"]] * 2, [label["y"] + side * 0.02, y - side * 0.03], color="0.6", linewidth=0.7)
            top, bottom = max(top, y + 0.2 * text_lines), min(bottom, y - 0.2 * text_lines)

    leftmost = min([-0.1] + [label["x"] - label["width"] / 2 - 0.05 for label in above + below])
    right = max([right] + [label["x"] + label["width"] / 2 + 0.05 for label in above + below])
    ax.set_xlim(leftmost, right)
    ax.set_ylim(bottom - 0.05, top + 0.05)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_label("network")
    counts = {kind: sum(row.kind == kind for row in rows) for kind in ("conv", "pool", "linear")}
    if title is None:
        title = (f"{_plural(counts['conv'], 'conv layer')}, {_plural(counts['pool'], 'max pool')}, "
                 f"{_plural(counts['linear'], 'fully connected layer')}: {rows.params:,} parameters")
    fig.suptitle(title, fontsize=11)
    conv_words = "conv + ReLU" if any(a[0] == "conv" and b[0] == "relu" for a, b in zip(layers, layers[1:])) else "conv"
    handles = [Rectangle((0, 0), 1, 1, facecolor=_mix(TENSOR_COLOURS[kind], 0.2), edgecolor="0.25", label=words)
               for kind, words in (("input", "input"), ("conv", conv_words), ("pool", "max pool"),
                                   ("linear", "fully connected"))
               if kind == "input" or counts[kind]]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=9, frameon=False)
    data_width = right - leftmost
    shrink = min(1.0, (MAX_FIGURE_WIDTH - 0.3) / data_width)
    legend_width = sum(_text_width(handle.get_label(), 9) + 0.6 for handle in handles)
    width = max(data_width + 0.3, _text_width(title, 11) + 0.4, legend_width)
    fig.set_size_inches(min(width, MAX_FIGURE_WIDTH), (top - bottom) * shrink + 0.9)
    return fig


def _arrow_panel(ax, words):
    """An axes that shows nothing but an arrow pointing right, with ``words`` above it."""
    ax.axis("off")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    arrow = FancyArrowPatch((0.1, 0.5), (0.9, 0.5), arrowstyle="-|>", mutation_scale=18, color="0.3")
    arrow.set_linewidth(1.8)
    ax.add_patch(arrow)
    ax.text(0.5, 0.56, words, ha="center", va="bottom", fontsize=9)


def draw_max_pool(x, size=2, stride=2, names=None):
    """Show max pooling channel by channel: each window's largest value, and no mixing of channels.

    x:     (C, H, W) one small image, 1 to 4 channels of at most 12 x 12 cells,
           e.g. (2, 4, 4) or (3, 6, 6).
    size:  the pooling window's side (int); stride: its step (int).
    names: C channel names (default red, green, blue for 3 channels, else "channel c").
    Draws one row per channel: x[c] with each pooling window outlined and tinted
    in its own colour and its largest value (the first one, on ties) in a deeper
    tint and bold (a cell that wins several overlapping windows is split between
    their tints); an arrow; and the pooled map, each cell in the deeper tint of the
    window it comes from. Cells that no window covers are greyed out. The pooled
    values are conv_lib.ops.max_pool2d(x[None], size, stride)[0]. The caption says
    that each channel is pooled on its own: C channels in, C channels out.
    Axes labels: "input c", "arrow c", "pooled c".
    Returns the Figure.
    """
    x = _as_image(x)
    C, H, W = x.shape
    if C > 4:
        raise ValueError(f"draw_max_pool draws one row per channel: give x at most 4 channels, got {C} (shape {x.shape})")
    if max(H, W) > 12:
        raise ValueError(
            f"draw_max_pool writes every number in: give x at most 12 x 12 cells per channel, got {H} x {W} "
            f"(shape {x.shape}); a corner such as x[:, :6, :6] will do"
        )
    size, stride = whole_number(size, "size", 1), whole_number(stride, "stride", 1)
    names = _channel_names(names, x)
    pooled = max_pool2d(x[None], size, stride)[0]  # the library's values (it also checks that a window fits)
    Ho, Wo = pooled.shape[1:]
    colours = colormaps["tab10"]
    overlapping = stride < size
    covered = np.zeros((H, W), dtype=bool)
    for i in range(Ho):
        for j in range(Wo):
            covered[i * stride : i * stride + size, j * stride : j * stride + size] = True

    unit = min(0.42, (7.5 - 1.0 - 0.55 * C) / (C * H), (MAX_FIGURE_WIDTH - 1.0) / (W + Wo + 6.5))  # inches per cell
    arrow_cells, pooled_cells = 3.0, Wo + 2.0
    widths = [W, arrow_cells, pooled_cells]
    fig = _new_figure(unit * sum(widths) + 1.0, C * (unit * H + 0.55) + 1.0)
    fig.get_layout_engine().set(h_pad=0.1)  # room between a row's outlines and the next row's titles
    axes = fig.subplots(C, 3, squeeze=False, width_ratios=widths)
    blank = LinearSegmentedColormap.from_list("white", ["white", "white"])
    for c in range(C):
        ax_in, ax_arrow, ax_out = axes[c]
        _grid(ax_in, x[c], f"x[{c}]: {names[c]}", blank, True, muted=~covered)
        _grid(ax_out, pooled[c], f"pooled[{c}]: {names[c]}", blank, True)
        ax_out.set_xlim(-1.5, Wo + 0.5)  # cells as large as the input's, centred
        ax_out.set_ylim(Ho - 0.5 + (H - Ho) / 2, -0.5 - (H - Ho) / 2)
        for spine in ax_out.spines.values():
            spine.set_visible(False)
        ax_out.add_patch(Rectangle((-0.5, -0.5), Wo, Ho, fill=False, edgecolor="0.4", linewidth=0.8))
        in_texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax_in.texts}
        winners = {}  # (row, column) -> the colours of the windows whose maximum it is
        for i in range(Ho):
            for j in range(Wo):
                colour = colours((i * Wo + j) % 10)
                top, left = i * stride, j * stride
                window = x[c, top : top + size, left : left + size]
                winner_row, winner_column = np.unravel_index(np.argmax(window), window.shape)
                if overlapping:  # outlines only, each a little inside the last, so that all of them show
                    inset = 0.06 + 0.08 * ((i + j) % 2)
                    ax_in.add_patch(Rectangle((left - 0.5 + inset, top - 0.5 + inset), size - 2 * inset,
                                              size - 2 * inset, fill=False, edgecolor=colour, linewidth=2, zorder=4))
                else:
                    ax_in.add_patch(Rectangle((left - 0.5, top - 0.5), size, size, facecolor=_mix(colour, 0.75),
                                              edgecolor="none", zorder=1))
                    _outline(ax_in, top, left, size, size, colour=colour, linewidth=2.5)
                winners.setdefault((top + winner_row, left + winner_column), []).append(colour)
                ax_out.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=_mix(colour, 0.4), edgecolor="none",
                                           zorder=1))
        for (row, column), winner_colours in winners.items():  # a cell that wins k windows: k slices, one per colour
            share = 1 / len(winner_colours)
            for n, colour in enumerate(winner_colours):
                ax_in.add_patch(Rectangle((column - 0.5 + n * share, row - 0.5), share, 1, facecolor=_mix(colour, 0.4),
                                          edgecolor="none", zorder=1.5))
            in_texts[row, column].set_fontweight("bold")
        for text in ax_out.texts:  # as large as the input's numbers: the cells are the same size
            text.set_fontweight("bold")
            text.set_fontsize(ax_in.texts[0].get_fontsize())
        _arrow_panel(ax_arrow, f"max of each\n{size}x{size} window" + (f"\nstride {stride}" if stride != size else ""))
        for ax, label in zip((ax_in, ax_arrow, ax_out), ("input", "arrow", "pooled")):
            ax.set_label(f"{label} {c}")
    stride_words = "" if stride == size else f", stride {stride}"
    fig.suptitle(f"max pooling {size}x{size}{stride_words}: x {x.shape} → {pooled.shape}", fontsize=12)
    fig.supxlabel(
        f"Each channel is pooled on its own: pooling never mixes channels.\n"
        f"{_plural(C, 'channel')} in, {_plural(C, 'channel')} out; only H and W shrink ({H} x {W} → {Ho} x {Wo})."
        + ("\nGrey cells: no window covers them." if not covered.all() else ""),
        fontsize=CAPTION_FONTSIZE,
    )
    return fig


class FieldBox(NamedTuple):
    """The input pixels one unit sees: rows row_start .. row_start + size - 1, and the same for columns.

    name: the layer ("conv1_1", "pool1", ...); unit: the unit's (row, column) in that layer's output.
    row_start, col_start may be negative (and the box may end past the image): those pixels are padding.
    """

    name: str
    unit: tuple
    row_start: int
    col_start: int
    size: int


def receptive_field_boxes(layers, input_size, position=None):
    """Which input pixels one unit after each conv or pool layer sees: its receptive field.

    layers:     layer specs (see conv_lib.models); relu layers change nothing and
                everything from the first flatten or linear layer on is left out.
    input_size: the input's height and width: an int or a pair (H, W).
    position:   (row, column) of an input pixel; after each layer, the unit whose
                field is centred nearest to it is chosen (on a tie, the one above or
                to the left). Default: the centre pixel (H // 2, W // 2).
    Returns a list of FieldBox (name, unit, row_start, col_start, size), one per conv or pool layer.

    The field grows by the standard recursion, per layer with kernel (or
    window) k, stride s and padding p, starting from size 1, jump 1 and start 0:
        start -= p * jump        (the first pixel unit 0 sees; negative: padding)
        size  += (k - 1) * jump  (how many input pixels one unit sees)
        jump  *= s               (how far apart, in input pixels, neighbouring units are)
    and unit u sees input pixels start + u * jump .. start + u * jump + size - 1.
    Padding counts as pixels at every layer: a field that crosses the image
    border (a negative start, or an end past H or W) holds pixels outside the
    image, and near the border some of the pixels inside it may reach the unit
    only through another layer's padding zeros. A field inside the image is exact.
    Sizes: one 3x3 conv 3, two 5, conv3-conv3-pool2 6, VGG16's 13 convs and 5 pools 212.

    >>> [box.size for box in receptive_field_boxes([("conv", 8, 3, 1, 1), ("conv", 8, 3, 1, 1), ("pool", 2, 2)], 8)]
    [3, 5, 6]
    """
    height, width = pair(input_size, "input_size", 1)
    spatial = _spatial_part(layers)
    rows = _checked_summary(spatial, (1, height, width)) if spatial else []
    if position is None:
        position = (height // 2, width // 2)
    if not isinstance(position, (tuple, list)) or len(position) != 2:
        raise ValueError(f"position must be a pair (row, column) of an input pixel, got {position!r}")
    position = tuple(whole_number(p, "position's row and column", 0) for p in position)
    if position[0] >= height or position[1] >= width:
        raise ValueError(
            f"position {position} is outside the input, which has {height} rows and {width} columns "
            f"(rows 0..{height - 1}, columns 0..{width - 1})"
        )
    size, jump, start, boxes = 1, 1, 0, []
    for layer, row in zip(spatial, rows):
        if row.kind not in SPATIAL_KINDS:
            continue
        k, stride, padding = (layer[2], layer[3], layer[4]) if row.kind == "conv" else (layer[1], layer[2], 0)
        start -= padding * jump
        size += (k - 1) * jump
        jump *= stride
        unit = tuple(
            min(max(math.floor((pixel - start - (size - 1) / 2) / jump + 0.5), 0), units - 1)
            for pixel, units in zip(position, row.output_shape[1:])
        )
        boxes.append(FieldBox(row.name, unit, start + unit[0] * jump, start + unit[1] * jump, size))
    if not boxes:
        raise ValueError(f"layers must hold at least one conv or pool layer before any flatten, got {list(layers)!r}")
    return boxes


def draw_receptive_field(layers, image=None, position=None, input_size=None):
    """Show the receptive field growing: what one unit after each layer sees of the input.

    layers:     layer specs (see conv_lib.models), e.g. a conv-ReLU-pool stack or vgg16();
                from the first flatten or linear layer on, layers are left out.
    image:      the input to draw on: (3, H, W) colour or (H, W) grey, e.g.
                sample_photo(size=64); values outside [0, 1] are scaled to it.
    position:   (row, column) of the input pixel the units sit over (default: the
                centre pixel); see receptive_field_boxes.
    input_size: without an image, the size of a blank grid to draw: an int or (H, W).
    Give image or input_size (not both).
    Draws the input with the chosen pixel marked and, for each conv or pool layer,
    the square of input pixels one unit after it sees, in its own colour, clipped
    at the image border. The legend names each, e.g. "after conv1_1: 3x3"; a
    field larger than the image says so ("212x212, larger than the 64x64 image"),
    one that reaches past the border says "partly padding".
    Returns the Figure.
    """
    if (image is None) == (input_size is None):
        raise ValueError(
            "give either image (an array (3, H, W) or (H, W)) or input_size (an int or (H, W)) to draw on, "
            f"got {'both' if image is not None else 'neither'}"
        )
    if image is not None:
        image = as_real_array(image, "image")
        if image.ndim == 3 and image.shape[0] == 1:
            image = image[0]
        if not (image.ndim == 2 or (image.ndim == 3 and image.shape[0] == 3)):
            raise ValueError(f"image must be a colour image (3, H, W) or a grey one (H, W), got shape {image.shape}")
        height, width = image.shape[-2:]
    else:
        height, width = pair(input_size, "input_size", 1)
    boxes = receptive_field_boxes(layers, (height, width), position)
    if position is None:
        position = (height // 2, width // 2)

    labels = []
    for box in boxes:
        if box.size > height or box.size > width:
            note = ", larger than the image"
        elif box.row_start < 0 or box.col_start < 0 or box.row_start + box.size > height \
                or box.col_start + box.size > width:
            note = ", partly padding"
        else:
            note = ""
        labels.append(f"after {box.name}: {box.size}x{box.size}{note}")
    legend_width = max(_text_width(label, 9) for label in labels) + 0.9
    side = min(5.0, MAX_FIGURE_WIDTH - legend_width - 0.4)  # inches: the longer side of the image
    image_width, image_height = side * min(width / height, 1.0), side * min(height / width, 1.0)
    fig = _new_figure(image_width + legend_width + 0.4, max(image_height, 0.22 * (len(boxes) + 2)) + 0.9)
    ax = fig.add_subplot()
    if image is None:
        _grid(ax, np.zeros((height, width)), None, "Greys", False, 0, 1)
    else:
        low, high = float(image.min()), float(image.max())
        if low < 0 or high > 1:
            image = (image - low) / ((high - low) or 1.0)
        if image.ndim == 3:
            ax.imshow(image.transpose(1, 2, 0), interpolation="nearest")
        else:
            ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
    if len(boxes) <= 10:
        colours = [colormaps["tab10"](index) for index in range(len(boxes))]
    else:  # many layers: an ordered scale, dark and small to bright and large (no pale yellow)
        colours = colormaps["plasma"](np.linspace(0.0, 0.85, len(boxes)))
    handles = []
    for index, box in reversed(list(enumerate(boxes))):  # the largest first, so the smaller ones show on top
        top, left = max(box.row_start, 0), max(box.col_start, 0)
        bottom, right = min(box.row_start + box.size, height), min(box.col_start + box.size, width)
        widest_line = 1.5 + 4.0 * index / max(len(boxes) - 1, 1)  # where two fields share an edge, both colours show
        patch = Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False, edgecolor=colours[index],
                          linewidth=widest_line, zorder=3 + (len(boxes) - index) / 100, label=labels[index])
        ax.add_patch(patch)
        handles.append(patch)
    row, column = position
    ax.add_patch(Rectangle((column - 0.5, row - 0.5), 1, 1, facecolor="white", edgecolor="black", linewidth=1.0,
                           zorder=4, label=f"pixel ({row}, {column})"))
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    ax.set_label("input")
    legend_handles = handles[::-1] + [ax.patches[-1]]
    fig.legend(handles=legend_handles, loc="outside right center", fontsize=9, frameon=False,
               title="what one unit sees", title_fontsize=10)
    fig.suptitle(f"receptive fields on the {height}x{width} input: units over pixel ({row}, {column})", fontsize=11)
    return fig


# --------------------------------------------------------------------------
# Notebook 06: activations through a deep stack, filters as pictures
# --------------------------------------------------------------------------


def draw_activation_std(stds_by_start, title=None):
    """How the activations' spread changes layer by layer, for several initialisations.

    stds_by_start: {label: standard deviations (L,)}: for each way of drawing the
                   weights, the standard deviation of the activations after layers
                   1..L (all the same length L).
    A log scale shows exploding (growing by a factor per layer) and vanishing
    (shrinking by one) alike as straight lines. Returns the Figure.
    """
    if not stds_by_start:
        raise ValueError("stds_by_start must map at least one label to its standard deviations per layer")
    series = {label: np.asarray(stds, dtype=float) for label, stds in stds_by_start.items()}
    lengths = {len(stds) for stds in series.values()}
    if len(lengths) != 1 or any(stds.ndim != 1 for stds in series.values()):
        raise ValueError(f"each label needs one standard deviation per layer, all the same length; "
                         f"got lengths {[len(np.atleast_1d(stds)) for stds in series.values()]}")
    if any(np.any(stds <= 0) or not np.all(np.isfinite(stds)) for stds in series.values()):
        raise ValueError("standard deviations must be positive, finite numbers (log scale): "
                         "a 0 or inf means the activations died out or overflowed; clip them before drawing")
    fig = _new_figure(8, 4)
    ax = fig.subplots()
    layers = np.arange(1, lengths.pop() + 1)
    for label, stds in series.items():
        ax.plot(layers, stds, "o-", label=label)
    ax.set_yscale("log")
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel="layer", ylabel="standard deviation of the activations", xticks=layers)
    ax.set_title(title or "activations layer by layer (log scale)", fontsize=CAPTION_FONTSIZE + 1)
    ax.legend()
    return fig
