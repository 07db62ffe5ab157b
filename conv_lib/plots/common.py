"""What the pictures of all the notebooks share: sizes, colours, numbers, the sample photo, grids of cells, boxes.

Every other module of conv_lib.plots builds on this one, and this one imports
none of them. Its public names:

    sample_photo            a real RGB photo, channels first (3, H, W), to convolve
    draw_grid               (helper) a small array as a grid of numbered cells
    format_number           a number as a learner writes it: "19", "0.33"
    format_factor           the same as a factor or a term: "(-1)"
    symmetric_limit         the vmax of a colour scale centred on 0
    channel_colormap        black to red, green or blue: one colour channel of a photo,
                            equally bright for equal values in all three

and, for the pictures: the figure size limit and the one way to start a figure
(_new_figure), the grid of numbered cells (_grid) and its outlines (_outline),
one colour scale for several panels (_shared_range), an image's checks and
channel names, colours mixed with white (_mix), boxes seen in perspective (_cuboid), plurals (_plural), text widths (_text_width) and
titles wrapped to a figure's width (_wrapped_title).

Pictures that put channels (or maps) side by side draw them all on one colour
scale (_shared_range), so that the same colour means the same number in every panel.
"""

import functools
import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cbook, colormaps
from matplotlib.colors import ListedColormap, to_rgb
from matplotlib.patches import Polygon, Rectangle
from PIL import Image

from ..checks import as_real_array, require_axes, whole_number

#: Figures are at most this wide (inches), so they fit a notebook column.
MAX_FIGURE_WIDTH = 12.0

#: Maps with at most this many cells get their numbers written in.
ANNOTATE_MAX_CELLS = 36

#: Font size of draw_sliding_window's arithmetic captions (points).
CAPTION_FONTSIZE = 10

#: Colour of outlines that point at "this cell" or "this window".
HIGHLIGHT = "tab:orange"

#: Each colour channel of a photo is drawn from black (none of that colour) to its colour (all
#: of it); the three colours are equally light (CIE L* 54), so equal numbers look equally bright.
CHANNEL_TINTS = {"red": "#ff2020", "green": "#209620", "blue": "#3c7cff"}


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


def _shared_range(*arrays, symmetric=False):
    """One colour scale for several panels: (vmin, vmax) over the finite values of all the arrays.

    arrays:    any shapes, e.g. the channels (H, W) of an image or a stack (C, H, W).
    symmetric: False: from the smallest to the largest value of them all; True:
               centred on 0, from -m to m, m the largest absolute value (symmetric_limit).
    Returns (vmin, vmax), floats with vmin < vmax: all equal values v give (v - 0.5, v + 0.5),
    and no finite value at all gives (0, 1).
    """
    if symmetric:
        limit = symmetric_limit(*arrays)
        return -limit, limit
    finite = [a[np.isfinite(a)] for a in map(np.asarray, arrays)]
    finite = [a for a in finite if a.size]
    if not finite:
        return 0.0, 1.0
    low, high = float(min(a.min() for a in finite)), float(max(a.max() for a in finite))
    return (low - 0.5, high + 0.5) if low == high else (low, high)


def _to_linear(srgb):
    """sRGB components (0..1) as linear light (0..1): what luminance adds up."""
    srgb = np.asarray(srgb, dtype=float)
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _to_srgb(linear):
    """Linear-light components (0..1) back to sRGB, as colours are written."""
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def _luminance(linear_rgb):
    """The relative luminance Y (0 black .. 1 white) of linear-light RGB colours (..., 3)."""
    return np.asarray(linear_rgb) @ np.array([0.2126, 0.7152, 0.0722])


def _luminance_of_lightness(lightness):
    """CIE L* (0 .. 100) -> relative luminance Y (0 .. 1), the inverse of L* = 116 Y^(1/3) - 16."""
    lightness = np.asarray(lightness, dtype=float)
    return np.where(lightness > 8, ((lightness + 16) / 116) ** 3, lightness * 27 / 24389)


def _lightness(linear_rgb):
    """CIE L* (0 black .. 100 white) of linear-light RGB colours (..., 3)."""
    luminance = _luminance(linear_rgb)
    return np.where(luminance > 216 / 24389, 116 * np.cbrt(luminance) - 16, luminance * 24389 / 27)


def channel_colormap(name):
    """A colormap for one colour channel ("red", "green" or "blue"), or None for any other name.

    It runs from black (0: none of that colour) to the channel's colour
    (CHANNEL_TINTS; 1: all of it), its lightness (CIE L*) growing evenly with the
    value. The three colours are equally light (L* about 54), so the same number
    looks equally bright in the red, the green and the blue panel: panels on one
    colour scale can be compared by eye.
    """
    colour = CHANNEL_TINTS.get(str(name).lower())
    if colour is None:
        return None
    tint = _to_linear(to_rgb(colour))
    tint_lightness = float(_lightness(tint))
    luminance = _luminance_of_lightness(np.linspace(0.0, tint_lightness, 256))
    linear = luminance[:, None] / _luminance(tint) * tint  # the tint dimmed: the same hue, less light
    return ListedColormap(_to_srgb(linear), name=f"black_to_{name}")


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
# Boxes and words: colours mixed with white, boxes in perspective, plurals, text widths
# --------------------------------------------------------------------------


def _mix(colour, white):
    """``colour`` mixed with a fraction ``white`` of white, as an RGB tuple."""
    rgb = np.array(to_rgb(colour))
    return tuple(rgb * (1 - white) + white)


def _plural(count, word):
    return f"{count} {word}{'s' if count != 1 else ''}"


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


def _text_width(text, fontsize):
    """About how wide (inches) one line of ``text`` is at ``fontsize`` points (digits and letters ~0.6 em)."""
    return max((len(line) for line in str(text).split("\n")), default=0) * 0.62 * fontsize / 72


def _wrapped_title(text, width, fontsize):
    """``text`` with each of its lines wrapped (textwrap, at spaces) to fit ``width`` inches at ``fontsize`` points."""
    characters = max(int(width / (0.62 * fontsize / 72)), 20)
    return "\n".join(textwrap.fill(line, characters, break_long_words=False, break_on_hyphens=False) or line
                     for line in str(text).split("\n"))
