"""The lecture demo's picture: one matplotlib figure per layout, its artists made once.

``ExplorerPicture(channels, projector)`` lays out, for C input channels, C columns
and a block on the right:

    row 1          input channel c, zero-padded, the window outlined; with dilation > 1,
                   each tapped cell boxed by a thin square that leaves its number readable
    row 2          the highlighted filter's channel that meets input channel c
    row 3          their product, cell by cell
    right block    the highlighted filter's output map (current cell marked), over every
                   filter's map
    equation line  the sum drawn as an equation: each channel's sum under its product,
                   "+" between them, then "+ bias b[h]" and "= out[h, i, j]" under the output

The width follows C, so 1, 2 or 3 channels make a narrower figure, not one with
empty columns. Two looks share the layout: NORMAL, for a screen at arm's length,
and PROJECTOR: larger type at a higher dpi, the figure about 1400 x 800 pixels so
that it and the controls beside it fill a 1920 x 1080 screen.

Speed: ``render(state)`` only updates artists (set_data, set_text, ...). When only
the window moved, the figure without its moving parts is restored from the last
full draw and just the moving artists are drawn on top (matplotlib's blitting).
The PNG is written by ``png_bytes``: rows unfiltered, zlib level 1 (about half
Pillow's time on these flat, mostly white pictures).
"""

import struct
import zlib
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from ..plots import channel_colormap, format_factor, format_number, symmetric_limit
from ..shapes import effective_kernel_size, group_of_filter

MAX_CHANNELS = 4
MAX_FILTERS = 8
MAX_KERNEL = 7
#: Numbers are written in a panel's cells only up to this many cells a side.
ANNOTATE_MAX_SIDE = 10
HIGHLIGHT = "tab:orange"
#: How opaque the input channels the highlighted filter does not read are drawn.
DIMMED = 0.25
#: Half the side of the square drawn around a tapped cell, in cells: the cell's
#: number (under 0.35 cell from its centre) stays inside, clear of the line.
TAP_HALF_SIDE = 0.42
#: The right block (output map over the maps) is this many channel columns wide.
RIGHT_BLOCK_COLUMNS = 2.2


@dataclass(frozen=True)
class PictureStyle:
    """The sizes of one look of the picture: inches for the layout, points for type and lines."""

    column: float  # width of one channel column
    row: float  # height of one row of panels, title included
    labels: float  # room on the left for the row labels
    equation: float  # height of the equation line
    dpi: float
    title: float  # panel titles
    number: float  # numbers written in cells
    label: float  # row labels
    term: float  # the equation's terms
    window: float  # width of the window's outline
    tap: float  # width of a tapped cell's square

    def figure_size(self, channels):
        """(width, height) in inches of the picture for ``channels`` input channels."""
        return (self.labels + (channels + RIGHT_BLOCK_COLUMNS) * self.column, 3 * self.row + self.equation)


NORMAL = PictureStyle(column=1.55, row=1.85, labels=1.2, equation=0.65, dpi=80, title=9, number=7, label=9,
                      term=10, window=2.5, tap=1.0)
PROJECTOR = PictureStyle(column=1.6, row=1.9, labels=1.45, equation=0.8, dpi=112, title=12, number=9, label=12,
                         term=13.5, window=3.0, tap=1.3)


def png_bytes(rgba):
    """A PNG of ``rgba`` (H, W, 4) uint8, alpha dropped (the figure is opaque).

    Each row goes unfiltered (filter byte 0) and the whole is deflated at level 1.
    """
    H, W = rgba.shape[:2]
    rows = np.zeros((H, 1 + 3 * W), dtype=np.uint8)
    rows[:, 1:].reshape(H, W, 3)[...] = rgba[..., :3]
    header = struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0)  # 8 bits, truecolour, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + _png_chunk(b"IEND", b""))


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tap_squares(rows, columns, half_side=TAP_HALF_SIDE):
    """Closed squares around the tapped cells, as one line with NaN breaks between squares.

    rows, columns: (n,) the cells' centres. Returns xs, ys: (6 n,) for Line2D.set_data.
    """
    corner_x = np.array([-1, 1, 1, -1, -1, np.nan]) * half_side
    corner_y = np.array([-1, -1, 1, 1, -1, np.nan]) * half_side
    xs = (np.ravel(columns)[:, None] + corner_x).ravel()
    ys = (np.ravel(rows)[:, None] + corner_y).ravel()
    return xs, ys


class _Panel:
    """One axes showing a 2-D array, with its numbers written in when it is small.

    moving: True for panels that change whenever the window moves; their artists are
    "animated", so a full draw skips them and ExplorerPicture draws them on top.
    title_size, number_size: points, for the title and for the numbers in the cells.
    """

    def __init__(self, ax, cmap, max_side, moving=False, title_size=9, number_size=7):
        self.ax, self.max_side, self.moving = ax, max_side, moving
        self.title_size, self.number_size = title_size, number_size
        self.image = ax.imshow(np.zeros((1, 1)), cmap=cmap, interpolation="nearest")
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title("title", fontsize=title_size)  # a stand-in, so that the layout leaves room for titles
        self.texts = np.empty((0, 0), dtype=object)  # one text artist per cell, made when the shape changes

    def show(self, array, title, vmin, vmax, cmap=None, annotate=True, alpha=1.0):
        """Show ``array`` (H, W) on the colour scale vmin..vmax, numbers written in if it is small.

        alpha: below 1 to dim the panel (a channel the highlighted filter does not read).
        """
        H, W = array.shape
        self.ax.set_visible(True)
        self.image.set_visible(True)
        self.image.set_alpha(alpha)
        self.image.set_data(array)
        self.image.set_extent((-0.5, W - 0.5, H - 0.5, -0.5))
        self.image.set_clim(vmin, vmax)
        if cmap is not None:
            self.image.set_cmap(cmap)
        self.ax.set_xlim(-0.5, W - 0.5)
        self.ax.set_ylim(H - 0.5, -0.5)
        self.ax.set_title(title, fontsize=self.title_size)
        self._keep_texts((H, W) if annotate and max(H, W) <= self.max_side else (0, 0))
        if self.texts.size:
            colours = self._readable_on(array)
            for (i, j), text in np.ndenumerate(self.texts):
                text.set_text(format_number(array[i, j]))
                text.set_color(colours[i, j])
                text.set_alpha(alpha)

    def blank(self):
        """An empty frame: no picture, no numbers, no title (nothing meets this input channel)."""
        self.ax.set_visible(True)
        self.image.set_visible(False)
        self.ax.set_title("", fontsize=self.title_size)
        self._keep_texts((0, 0))

    def _keep_texts(self, shape):
        """One text artist per cell of ``shape`` (hidden texts still cost drawing time)."""
        if self.texts.shape == shape:
            return
        for text in self.texts.flat:
            text.remove()
        self.texts = np.empty(shape, dtype=object)
        for (i, j), _ in np.ndenumerate(self.texts):
            self.texts[i, j] = self.ax.text(j, i, "", ha="center", va="center", fontsize=self.number_size,
                                            animated=self.moving, zorder=4)

    def _readable_on(self, values):
        """Black or white, whichever reads better on the cell colour of each of ``values`` (H, W): (H, W) names."""
        rgba = self.image.cmap(self.image.norm(values))  # (H, W, 4)
        luminance = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
        return np.where(luminance > 0.5, "black", "white")

    def hide(self):
        self.ax.set_visible(False)

    def moving_artists(self):
        """The artists ExplorerPicture redraws after each move (none when hidden)."""
        if not (self.moving and self.ax.get_visible()):
            return []
        return [self.image, self.ax.title, *self.texts.flat]


def _symmetric(array):
    """A colour scale centred on 0 that holds every value of ``array``."""
    limit = symmetric_limit(array)
    return -limit, limit


class ExplorerPicture:
    """The demo's figure for ``channels`` input channels, made once (see the module docstring).

    ``render(state)`` updates the artists and returns a PNG. ``projector`` picks the
    PROJECTOR look (larger type, higher dpi). ``width_px`` is the PNG's width.
    """

    def __init__(self, channels=MAX_CHANNELS, projector=False):
        if not 1 <= channels <= MAX_CHANNELS:
            raise ValueError(f"the picture has room for 1 to {MAX_CHANNELS} input channels; got channels={channels}")
        self.channels, self.projector = channels, projector
        self.style = style = PROJECTOR if projector else NORMAL
        self.figure = Figure(figsize=style.figure_size(channels), dpi=style.dpi, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        self._make_panels()
        self._make_marks()
        # Lay the figure out once, with every title in place; then freeze the layout
        # (no solver run per change), place the equation under the laid-out panels,
        # and mark what moves with the window as animated: a full draw skips those,
        # and render() draws them on top.
        self.canvas.draw()
        self.figure.set_layout_engine("none")
        self._make_equation()
        moving = [self.cell, *self.windows, *self.taps, *(panel.image for panel in self.products)]
        for artist in moving:
            artist.set_animated(True)
        self._background, self._drawn = None, None

    @property
    def width_px(self):
        return round(self.figure.get_figwidth() * self.figure.dpi)

    def _make_panels(self):
        """The panels: C columns of input, filter channel and product; the output and the maps on the right."""
        C, style = self.channels, self.style
        grid = self.figure.add_gridspec(4, C + 1, width_ratios=[1] * C + [RIGHT_BLOCK_COLUMNS],
                                        height_ratios=[style.row] * 3 + [style.equation])

        def panel(cell, cmap, max_side, moving=False):
            return _Panel(self.figure.add_subplot(cell), cmap, max_side, moving, style.title, style.number)

        self.inputs = [panel(grid[0, c], "gray", ANNOTATE_MAX_SIDE) for c in range(C)]
        self.kernels = [panel(grid[1, c], "RdBu_r", MAX_KERNEL) for c in range(C)]
        self.products = [panel(grid[2, c], "RdBu_r", MAX_KERNEL, moving=True) for c in range(C)]
        self.output = panel(grid[0:2, C], "RdBu_r", ANNOTATE_MAX_SIDE)
        maps_grid = grid[2, C].subgridspec(2, MAX_FILTERS // 2)
        self.maps = [panel(maps_grid[f // 4, f % 4], "RdBu_r", 0) for f in range(MAX_FILTERS)]
        self._equation_room = self.figure.add_subplot(grid[3, :])  # holds the equation's row in the layout
        self._equation_room.axis("off")
        for row in (self.inputs[0], self.kernels[0], self.products[0]):
            row.ax.set_ylabel("two lines\nof label", fontsize=style.label)  # stand-ins for the row labels

    def _make_marks(self):
        """What is drawn over the panels: window outlines, tapped cells, the marked output cell, notes."""
        style = self.style
        self.windows = [self._outline(panel.ax, HIGHLIGHT, style.window) for panel in self.inputs]
        self.image_borders = [self._outline(panel.ax, "white", 1.0, linestyle="--") for panel in self.inputs]
        # Thin squares inside the tapped cells, under the numbers (zorder 4) of the cells.
        self.taps = [panel.ax.add_line(Line2D([], [], color=HIGHLIGHT, linewidth=style.tap, zorder=3))
                     for panel in self.inputs]
        # On a channel the highlighted filter does not read: which channels its group reads.
        self.unread = [
            panel.ax.text(0.5, 0.5, "", transform=panel.ax.transAxes, ha="center", va="center", fontsize=style.title,
                          bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "grey"}, visible=False,
                          zorder=5)
            for panel in self.inputs
        ]
        self.cell = self._outline(self.output.ax, HIGHLIGHT, style.window)

    def _make_equation(self):
        """The equation line, under the laid-out panels: a term per channel, "+"s, the bias, the result.

        Each term is a value (it moves with the window) over its name, e.g. "(-2)" over
        "channel 1"; the names stay put, but for the result's "out[h, i, j]".
        """
        style, figure = self.style, self.figure
        room = self._equation_room.get_position()
        y = room.y1 - 0.1 * room.height
        y_name = y - 1.25 * style.term / 72 / figure.get_figheight()  # a line of the terms' type lower

        def text(x, words="", below=False, **options):
            return figure.text(x, y_name if below else y, words, ha="center", va="top", fontsize=style.term, **options)

        centres = [panel.ax.get_position().x0 + panel.ax.get_position().width / 2 for panel in self.products]
        self.terms = [text(x, animated=True) for x in centres]
        self.term_names = [text(x, f"channel {c}", below=True) for c, x in enumerate(centres)]
        self.pluses = [text((left + right) / 2, "+") for left, right in zip(centres, centres[1:])]
        out = self.output.ax.get_position()
        self.bias_term = text(out.x0 + 0.2 * out.width, animated=True)
        self.bias_name = text(out.x0 + 0.2 * out.width, below=True)
        self.result = text(out.x0 + 0.7 * out.width, animated=True)
        self.result_name = text(out.x0 + 0.7 * out.width, below=True, animated=True)
        label = self.products[0].ax.yaxis.label.get_window_extent()  # the row labels' column, in pixels
        x = figure.transFigure.inverted().transform(((label.x0 + label.x1) / 2, 0))[0]
        self.equation_label = figure.text(x, y, "sum\n+ bias", ha="center", va="top", fontsize=style.label)

    @staticmethod
    def _outline(ax, colour, width, linestyle="-", animated=False):
        return ax.add_patch(
            Rectangle((0, 0), 1, 1, fill=False, edgecolor=colour, linewidth=width, linestyle=linestyle, animated=animated)
        )

    def render(self, state):
        """Show ``state`` (its input must have ``self.channels`` channels) and return the figure as PNG bytes."""
        if state.x.shape[0] != self.channels:
            raise ValueError(f"this picture is laid out for {self.channels} input channels; "
                             f"the state has {state.x.shape[0]}")
        if self._drawn != state.layout:
            self._show_still_parts(state)
            self.canvas.draw()  # everything but the animated (moving) artists
            self._background, self._drawn = self.canvas.copy_from_bbox(self.figure.bbox), state.layout
        else:
            self.canvas.restore_region(self._background)
        self._show_moving_parts(state)
        for artist in self._moving_artists(state):
            self.figure.draw_artist(artist)
        return png_bytes(np.asarray(self.canvas.buffer_rgba()))

    def _show_still_parts(self, state):
        """Panels that stay put while the window moves: inputs, filter channels, maps, the "+" signs."""
        h = state.highlight
        H, W = state.x.shape[1:]
        input_range = (float(state.x_padded.min()), float(state.x_padded.max()) or 1.0)
        for c in range(self.channels):
            read = c in state.read
            cmap = channel_colormap(state.names[c]) or "gray"
            self.inputs[c].show(state.x_padded[c], f"x[{c}]: {state.names[c]}", *input_range, cmap=cmap,
                                annotate=state.kind == "small grid", alpha=1.0 if read else DIMMED)
            self.image_borders[c].set_bounds(state.padding - 0.5, state.padding - 0.5, W, H)
            self.image_borders[c].set_visible(state.padding > 0)
            self.unread[c].set_text(state.unread_label())
            self.unread[c].set_visible(not read)
            self.windows[c].set_visible(read)
            self.terms[c].set_visible(read)
            self.term_names[c].set_visible(read)
            if read:
                self._show_filter_channel(state, c)
            else:
                self.kernels[c].blank()
                self.products[c].blank()
        for c, plus in enumerate(self.pluses, start=1):
            plus.set_visible(c - 1 in state.read and c in state.read)
        self.output.show(state.outputs[h], f"out[{h}]: the map of filter {h}", *_symmetric(state.outputs[h]))
        self.bias_name.set_text(f"bias b[{h}]")
        self._label_rows(state)
        self._show_maps(state)

    def _show_maps(self, state):
        """Every filter's map, the highlighted one framed; with groups, each titled with its group."""
        F, h = state.w.shape[0], state.highlight
        for f, panel in enumerate(self.maps):
            if f >= F:
                panel.hide()
                continue
            title = f"map {f}" if state.groups == 1 else f"map {f}, g{group_of_filter(f, F, state.groups)}"
            panel.show(state.outputs[f], title, *_symmetric(state.outputs[f]), annotate=False)
            for spine in panel.ax.spines.values():
                spine.set_edgecolor(HIGHLIGHT if f == h else "black")
                spine.set_linewidth(2.5 if f == h else 0.8)

    def _show_filter_channel(self, state, c):
        """Under input channel c: the channel w[h, j] of the highlighted filter that meets it."""
        h, j = state.highlight, c - state.read.start
        title = f"w[{h}, {j}]" if state.groups == 1 else f"w[{h}, {j}] meets x[{c}]"
        self.kernels[c].show(state.w[h, j], title, *_symmetric(state.w[h]), annotate=state.kernel_size <= 5)
        self.products[c].ax.set_visible(True)
        self.products[c].ax.set_title(f"x[{c}] × w[{h}, {j}]", fontsize=self.style.title)

    def _label_rows(self, state):
        """Row labels, on the first column: short titles above, the words here (fewer glyphs to draw)."""
        h, size = state.highlight, self.style.label
        self.inputs[0].ax.set_ylabel("input channels\n(window outlined)", fontsize=size)
        if state.groups == 1:
            self.kernels[0].ax.set_ylabel(f"filter {h}: one channel\nper input channel", fontsize=size)
        else:
            self.kernels[0].ax.set_ylabel(f"filter {h}: one channel per\nchannel of group {state.group}", fontsize=size)
        self.products[0].ax.set_ylabel("window × filter\nchannel by channel", fontsize=size)

    def _show_moving_parts(self, state):
        """What the window position decides: outlines, tapped cells, products, the equation, the marked cell."""
        k, dilation = state.kernel_size, state.dilation
        span = effective_kernel_size(k, dilation)
        top, left = state.row * state.stride, state.column * state.stride
        taps = np.arange(k) * dilation
        columns, rows = np.meshgrid(left + taps, top + taps)
        product_range = _symmetric(state.products)
        for j, c in enumerate(state.read):
            self.windows[c].set_bounds(left - 0.5, top - 0.5, span, span)
            self.taps[c].set_data(*tap_squares(rows, columns))
            self.taps[c].set_visible(dilation > 1)
            title = self.products[c].ax.get_title()  # set with the still parts
            self.products[c].show(state.products[j], title, *product_range, annotate=k <= 5)
        self._show_equation(state)
        self.cell.set_bounds(state.column - 0.5, state.row - 0.5, 1, 1)

    def _show_equation(self, state):
        """The equation line: the read channels' sums, "+ bias b[h]", "= out[h, i, j]", with this window's numbers."""
        h = state.highlight
        for j, c in enumerate(state.read):
            self.terms[c].set_text(format_factor(state.channel_sums[j]))
        self.bias_term.set_text(f"+ {format_factor(state.b[h])}")
        self.result.set_text(f"= {format_number(state.outputs[h, state.row, state.column])}")
        self.result_name.set_text(f"out[{h}, {state.row}, {state.column}]")

    def _moving_artists(self, state):
        """What render() draws over the restored background, in this order."""
        artists = [self.cell, self.bias_term, self.result, self.result_name]
        for c in state.read:
            product = self.products[c]
            artists += [self.windows[c], self.taps[c], self.terms[c], product.image, *product.texts.flat]
        return artists
