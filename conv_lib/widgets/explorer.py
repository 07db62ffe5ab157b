"""The lecture demo: sliders that show how one filter meets every input channel.

    from conv_lib.widgets import conv_explorer
    conv_explorer()          # in a notebook, or served alone by Voila (make demo)

The picture, redrawn on every change:

    row 1  each input channel, zero-padded, with the current window outlined
    row 2  the highlighted filter's channels w[f, c], one per input channel
    row 3  the products window * w[f, c], each titled with its sum
    row 4  the highlighted filter's output map with the current cell marked,
           and every filter's map (C_out filters make C_out maps)

Under it, the arithmetic "sum over channels + bias = value" with the real
numbers, and the shapes, the output-size formula and the parameter count.

The groups control (notebook 07) splits the channels and the filters into
``groups`` equal groups: filter f belongs to group g = f // (C_out/groups) and
reads only that group's C_in/groups input channels, so w is (C_out, C_in/groups,
kH, kW). Its choices are the divisors of gcd(channels, filters), kept valid as
those two change (an invalid value falls back to the largest valid one below
it). The picture follows the highlighted filter: the channels its group reads
are drawn as usual; the others are dimmed, without the window, and say which
channels the group reads; rows 2 and 3 stay blank under them, and the
arithmetic sums only the group's channels. groups = channels is depthwise
convolution: no sum across channels.

Speed: the matplotlib figure and all its artists are made once; a change only
updates their data (set_data, set_text, ...) and renders the figure to a PNG
shown by an ipywidgets Image. No figure is made per change (`make bench` times
a redraw).
"""

import io
from contextlib import contextmanager

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from PIL import Image

from ..ops import conv2d, pad2d
from ..plots import channel_colormap, format_factor, format_number, sample_photo, symmetric_limit
from ..shapes import channels_of_filter, effective_kernel_size, group_counts, group_of_filter, output_size

MAX_CHANNELS = 4
MAX_FILTERS = 8
MAX_KERNEL = 7
#: Numbers are written in a panel's cells only up to this many cells a side.
ANNOTATE_MAX_SIDE = 10
PHOTO_SIZE = 40
GRID_SIZE = 6
PRESETS = ("random", "edge", "colour-opponent edge", "blur", "identity")
CHANNEL_NAMES = ("red", "green", "blue", "extra")
HIGHLIGHT = "tab:orange"
#: How opaque the input channels the highlighted filter does not read are drawn.
DIMMED = 0.25


# --------------------------------------------------------------------------
# The numbers: input, filters, outputs
# --------------------------------------------------------------------------


def explorer_input(kind, channels):
    """The input image of the demo.

    kind:     "photo" (matplotlib's sample photo, PHOTO_SIZE pixels on its longer side)
              or "small grid" (random integers 0-3, GRID_SIZE x GRID_SIZE, readable).
    channels: 1 to 4. The photo gives grey (1), red and green (2), RGB (3), or RGB
              plus a synthetic fourth channel, a left-to-right ramp (4).
    Returns x: (channels, H, W) float64, and the channels' names.
    """
    if kind == "small grid":
        grid = np.random.default_rng(7).integers(0, 4, size=(MAX_CHANNELS, GRID_SIZE, GRID_SIZE))
        return grid[:channels].astype(float), [f"channel {c}" for c in range(channels)]
    photo = sample_photo(PHOTO_SIZE)
    if channels == 1:
        return photo.mean(axis=0, keepdims=True), ["grey"]
    ramp = np.broadcast_to(np.linspace(0, 1, photo.shape[2]), photo.shape[1:])
    x = np.concatenate([photo, ramp[None]])[:channels]
    return x, list(CHANNEL_NAMES[:channels])


def edge_kernel(k):
    """A k x k vertical-edge kernel: columns rising from -1 (left) to +1 (right)."""
    return np.tile(np.linspace(-1, 1, k), (k, 1)) if k > 1 else np.zeros((1, 1))


def require_groups(groups, channels, filters):
    """Raise a ValueError that lists the allowed choices when ``groups`` does not divide both."""
    allowed = group_counts(channels, filters)
    if groups not in allowed:
        raise ValueError(
            f"groups={groups} must divide both the input channels ({channels}) and the filters "
            f"({filters}), so that every group has as many channels and filters as the others; "
            f"with these, groups can be {', '.join(map(str, allowed))}"
        )


def preset_filters(preset, C_out, C_in, k, groups=1):
    """Hand-made or random filters for the demo.

    preset: "random" (integers -2..2, with biases), "edge" (filter f looks for an edge
            turned f quarter turns, the same in every channel), "colour-opponent edge"
            (channel f rises where channel f+1 falls), "blur" (the mean of the window
            over all channels), "identity" (filter f copies channel f mod C_in/groups
            of its group). "Every channel" means the C_in/groups channels a filter reads.
    Returns w: (C_out, C_in/groups, k, k) and b: (C_out,).
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}; got {preset!r}")
    require_groups(groups, C_in, C_out)
    depth = C_in // groups  # the channels each filter reads
    w, b = np.zeros((C_out, depth, k, k)), np.zeros(C_out)
    edge = edge_kernel(k)
    for f in range(C_out):
        turned = np.rot90(edge, -f)
        if preset == "random":
            rng = np.random.default_rng(100 + f)
            w[f] = rng.integers(-2, 3, size=(depth, k, k))
            b[f] = rng.choice([-1.0, -0.5, 0.5, 1.0])
        elif preset == "edge":
            w[f] = turned / depth
        elif preset == "colour-opponent edge":
            if depth == 1:
                w[f, 0] = turned
            else:
                w[f, f % depth], w[f, (f + 1) % depth] = -edge, edge
        elif preset == "blur":
            w[f] = 1 / (depth * k * k)
        else:
            w[f, f % depth, k // 2, k // 2] = 1.0
    return w, b


# --------------------------------------------------------------------------
# The picture: one figure, artists made once, data updated
# --------------------------------------------------------------------------


class _Panel:
    """One axes showing a 2-D array, with its numbers written in when it is small.

    moving: True for panels that change whenever the window moves; their artists are
    "animated", so a full draw skips them and ExplorerPicture draws them on top.
    """

    def __init__(self, ax, cmap, max_side, moving=False):
        self.ax, self.max_side, self.moving = ax, max_side, moving
        self.image = ax.imshow(np.zeros((1, 1)), cmap=cmap, interpolation="nearest")
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title("title", fontsize=9)  # a stand-in, so that the layout leaves room for titles
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
        self.ax.set_title(title, fontsize=9)
        self._keep_texts((H, W) if annotate and max(H, W) <= self.max_side else (0, 0))
        for (i, j), text in np.ndenumerate(self.texts):
            text.set_text(format_number(array[i, j]))
            text.set_color(self._readable_on(array[i, j]))
            text.set_alpha(alpha)

    def blank(self):
        """An empty frame: no picture, no numbers, no title (nothing meets this input channel)."""
        self.ax.set_visible(True)
        self.image.set_visible(False)
        self.ax.set_title("", fontsize=9)
        self._keep_texts((0, 0))

    def _keep_texts(self, shape):
        """One text artist per cell of ``shape`` (hidden texts still cost drawing time)."""
        if self.texts.shape == shape:
            return
        for text in self.texts.flat:
            text.remove()
        self.texts = np.empty(shape, dtype=object)
        for (i, j), _ in np.ndenumerate(self.texts):
            self.texts[i, j] = self.ax.text(j, i, "", ha="center", va="center", fontsize=7, animated=self.moving)

    def _readable_on(self, value):
        """Black or white, whichever reads better on the cell colour of ``value``."""
        red, green, blue, _ = self.image.cmap(self.image.norm(value))
        return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"

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
    """The demo's figure, made once. ``render(state)`` updates the artists and returns a PNG.

    Two speeds. When only the window moved, the figure without its moving parts (kept
    from the last full draw) is restored and just the moving artists are drawn on top:
    the window outlines, the products, the output's marked cell and their titles
    (matplotlib's blitting). Any other change redraws everything.
    """

    def __init__(self, width=11.0, height=8.6, dpi=80):
        self.figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        grid = self.figure.add_gridspec(4, 2 * MAX_CHANNELS)
        row_of_channels = [grid[row, 2 * c : 2 * c + 2] for row in range(3) for c in range(MAX_CHANNELS)]
        axes = [self.figure.add_subplot(cell) for cell in row_of_channels]
        self.inputs = [_Panel(ax, "gray", ANNOTATE_MAX_SIDE) for ax in axes[:MAX_CHANNELS]]
        self.kernels = [_Panel(ax, "RdBu_r", MAX_KERNEL) for ax in axes[MAX_CHANNELS : 2 * MAX_CHANNELS]]
        self.products = [_Panel(ax, "RdBu_r", MAX_KERNEL, moving=True) for ax in axes[2 * MAX_CHANNELS :]]
        self.output = _Panel(self.figure.add_subplot(grid[3, 0:2]), "RdBu_r", ANNOTATE_MAX_SIDE)
        maps_grid = grid[3, 2:].subgridspec(2, MAX_FILTERS // 2)
        self.maps = [_Panel(self.figure.add_subplot(maps_grid[f // 4, f % 4]), "RdBu_r", 0) for f in range(MAX_FILTERS)]
        self.windows = [self._outline(panel.ax, HIGHLIGHT, 2.5) for panel in self.inputs]
        self.image_borders = [self._outline(panel.ax, "white", 1.0, linestyle="--") for panel in self.inputs]
        self.taps = [
            panel.ax.add_line(Line2D([], [], linestyle="", marker="o", markersize=3, color=HIGHLIGHT))
            for panel in self.inputs
        ]
        # On a channel the highlighted filter does not read: which channels its group reads.
        self.unread = [
            panel.ax.text(0.5, 0.5, "", transform=panel.ax.transAxes, ha="center", va="center", fontsize=9,
                          bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "grey"}, visible=False)
            for panel in self.inputs
        ]
        self.cell = self._outline(self.output.ax, HIGHLIGHT, 2.5)
        for panel in (self.inputs[0], self.kernels[0], self.products[0], self.output):
            panel.ax.set_ylabel("two lines\nof label", fontsize=9)  # stand-ins for the row labels
        # Lay the figure out once, with every title in place; then freeze the layout
        # (no solver run per change) and mark what moves with the window as animated:
        # a full draw skips those, and render() draws them on top.
        self.canvas.draw()
        self.figure.set_layout_engine("none")
        moving = [self.output.ax.title, self.cell, *self.windows, *self.taps]
        for panel in self.products:
            moving += [panel.image, panel.ax.title]
        for artist in moving:
            artist.set_animated(True)
        self._background, self._drawn = None, None

    @staticmethod
    def _outline(ax, colour, width, linestyle="-", animated=False):
        return ax.add_patch(
            Rectangle((0, 0), 1, 1, fill=False, edgecolor=colour, linewidth=width, linestyle=linestyle, animated=animated)
        )

    def render(self, state):
        """Show ``state`` and return the figure as PNG bytes."""
        if self._drawn != state.layout:
            self._show_still_parts(state)
            self.canvas.draw()  # everything but the animated (moving) artists
            self._background, self._drawn = self.canvas.copy_from_bbox(self.figure.bbox), state.layout
        else:
            self.canvas.restore_region(self._background)
        self._show_moving_parts(state)
        for artist in self._moving_artists(state):
            self.figure.draw_artist(artist)
        buffer = io.BytesIO()
        # RGB (the figure is opaque) at level 1 compresses fastest; the PNG is sent, not stored.
        rgb = np.ascontiguousarray(np.asarray(self.canvas.buffer_rgba())[..., :3])
        Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()

    def _show_still_parts(self, state):
        """Panels that stay put while the window moves: inputs, filter channels, maps."""
        C, F, h = state.x.shape[0], state.w.shape[0], state.highlight
        H, W = state.x.shape[1:]
        input_range = (float(state.x_padded.min()), float(state.x_padded.max()) or 1.0)
        for c in range(MAX_CHANNELS):
            if c >= C:
                for panel in (self.inputs[c], self.kernels[c], self.products[c]):
                    panel.hide()
                self.unread[c].set_visible(False)
                continue
            read = c in state.read
            cmap = channel_colormap(state.names[c]) or "gray"
            self.inputs[c].show(state.x_padded[c], f"x[{c}]: {state.names[c]}", *input_range, cmap=cmap,
                                annotate=state.kind == "small grid", alpha=1.0 if read else DIMMED)
            self.image_borders[c].set_bounds(state.padding - 0.5, state.padding - 0.5, W, H)
            self.image_borders[c].set_visible(state.padding > 0)
            self.unread[c].set_text(state.unread_label())
            self.unread[c].set_visible(not read)
            self.windows[c].set_visible(read)
            if read:
                self._show_filter_channel(state, c)
            else:
                self.kernels[c].blank()
                self.products[c].blank()
        self.output.show(state.outputs[h], "", *_symmetric(state.outputs[h]))
        self._label_rows(state)
        for f, panel in enumerate(self.maps):
            if f >= F:
                panel.hide()
                continue
            title = f"map {f}" if state.groups == 1 else f"map {f}, group {group_of_filter(f, F, state.groups)}"
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

    def _label_rows(self, state):
        """Row labels, on the first column: short titles above, the words here (fewer glyphs to draw)."""
        h = state.highlight
        self.inputs[0].ax.set_ylabel("input channels\n(window outlined)", fontsize=9)
        if state.groups == 1:
            self.kernels[0].ax.set_ylabel(f"filter {h}: one channel\nper input channel", fontsize=9)
        else:
            self.kernels[0].ax.set_ylabel(f"filter {h}: one channel per\nchannel of group {state.group}", fontsize=9)
        self.products[0].ax.set_ylabel("window × filter\nchannel by channel", fontsize=9)
        self.output.ax.set_ylabel(f"map {h}", fontsize=9)

    def _show_moving_parts(self, state):
        """What the window position decides: outlines, products, the marked output cell."""
        k, dilation, h = state.kernel_size, state.dilation, state.highlight
        span = effective_kernel_size(k, dilation)
        top, left = state.row * state.stride, state.column * state.stride
        taps = np.arange(k) * dilation
        columns, rows = np.meshgrid(left + taps, top + taps)
        product_range = _symmetric(state.products)
        for j, c in enumerate(state.read):
            self.windows[c].set_bounds(left - 0.5, top - 0.5, span, span)
            self.taps[c].set_data(columns.ravel(), rows.ravel())
            self.taps[c].set_visible(dilation > 1)
            self.products[c].show(state.products[j], f"sum {format_number(state.channel_sums[j])}",
                                  *product_range, annotate=k <= 5)
        value = state.outputs[h, state.row, state.column]
        self.output.ax.set_title(f"out[{h}, {state.row}, {state.column}] = {format_number(value)}", fontsize=9)
        self.cell.set_bounds(state.column - 0.5, state.row - 0.5, 1, 1)

    def _moving_artists(self, state):
        artists = [self.output.ax.title, self.cell]
        for c in state.read:
            artists += [self.windows[c], self.taps[c], *self.products[c].moving_artists()]
        return artists


class _ExplorerState:
    """Everything the picture and the text lines show, computed from the controls' values.

    Raises the library's ValueError (e.g. "the kernel spans 7 pixels but the padded
    input is only 6 pixels ...") when the settings do not fit. ``move_to`` changes
    only the window, reusing the input, the filters and the outputs.

    With groups: ``group`` is the highlighted filter's group and ``read`` the range of
    input channels it reads; ``products`` (C_in/groups, k, k) and ``channel_sums``
    (C_in/groups,) are for those channels only (index j is input channel read[j]).
    """

    #: The settings that change more than the window's position.
    LAYOUT = ("kind", "channels", "kernel_size", "stride", "padding", "dilation", "filters", "groups", "highlight",
              "preset")

    def __init__(self, kind, channels, kernel_size, stride, padding, dilation, filters, highlight, preset, row, column,
                 groups=1):
        self.layout = self.layout_of(locals())
        self.kind, self.kernel_size, self.stride = kind, kernel_size, stride
        self.padding, self.dilation, self.highlight = padding, dilation, highlight
        require_groups(groups, channels, filters)
        self.groups = groups
        self.group = group_of_filter(highlight, filters, groups)
        self.read = channels_of_filter(highlight, channels, filters, groups)  # the input channels filter h reads
        self.x, self.names = explorer_input(kind, channels)
        H, W = self.x.shape[1:]
        self.output_shape = (
            filters,
            output_size(H, kernel_size, padding, stride, dilation),
            output_size(W, kernel_size, padding, stride, dilation),
        )
        self.w, self.b = preset_filters(preset, filters, channels, kernel_size, groups)  # w: (F, C/groups, k, k)
        self.outputs = conv2d(self.x[None], self.w, self.b, stride=stride, padding=padding, dilation=dilation,
                              groups=groups)[0]
        self.x_padded = pad2d(self.x, padding)
        self.move_to(row, column)

    @classmethod
    def layout_of(cls, settings):
        return tuple(settings[name] for name in cls.LAYOUT)

    def move_to(self, row, column):
        """Put the window on output cell (row, column), clamped to the output."""
        self.row = min(row, self.output_shape[1] - 1)
        self.column = min(column, self.output_shape[2] - 1)
        top, left = self.row * self.stride, self.column * self.stride
        span = effective_kernel_size(self.kernel_size, self.dilation)
        read = slice(self.read.start, self.read.stop)
        window = self.x_padded[read, top : top + span : self.dilation, left : left + span : self.dilation]
        # (C_in/groups, k, k): each filter channel times its own input channel, in the filter's group
        self.products = window * self.w[self.highlight]
        self.channel_sums = self.products.sum(axis=(1, 2))  # (C_in/groups,), channel self.read[j] at j

    def arithmetic(self):
        """'sum over the channels filter h reads + bias = value', with this window's numbers."""
        h = self.highlight
        terms = [f"{format_factor(total)} <small>(channel {c})</small>" for c, total in zip(self.read, self.channel_sums)]
        terms.append(f"{format_factor(self.b[h])} <small>(bias b[{h}])</small>")
        value = self.outputs[h, self.row, self.column]
        return f"<b>out[{h}, {self.row}, {self.column}]</b> = " + " + ".join(terms) + f" = <b>{format_number(value)}</b>"

    def unread_label(self):
        """What a channel filter h does not read says, e.g. 'not read by filter 3 (group 1 reads channels 2-3)'."""
        return (f"not read by filter {self.highlight}\n(group {self.group} reads\n"
                f"{_named_span('channel', self.read)})")

    def shapes(self):
        """Input, weights and output shapes, the output-size formula and the parameter count.

        With groups > 1: the weights are (C_out, C_in/groups, kH, kW), and a third line
        says what the groups make of the layer (depthwise, or which filters read which channels).
        """
        C, H, W = self.x.shape
        F, Ho, Wo = self.output_shape
        g, depth = self.groups, self.w.shape[1]
        k, p, s, d = self.kernel_size, self.padding, self.stride, self.dilation
        formula = f"Ho = floor(({H} + 2·{p} − {d}·({k} − 1) − 1) / {s}) + 1 = {Ho}"
        if W != H:
            formula += f", Wo = floor(({W} + 2·{p} − {d}·({k} − 1) − 1) / {s}) + 1 = {Wo}"
        weights = "(C_out, C_in, kH, kW)" if g == 1 else "(C_out, C_in/groups, kH, kW)"
        per_filter = f"{C}·{k}·{k}" if g == 1 else f"{C}/{g}·{k}·{k}"
        text = (
            f"input <b>(C_in, H, W) = {(C, H, W)}</b> · weights <b>{weights} = {(F, depth, k, k)}</b> "
            f"· groups = {g} · output <b>(C_out, Ho, Wo) = {(F, Ho, Wo)}</b><br>"
            f"{formula} · parameters = {F} × ({per_filter} + 1) = {F * (depth * k * k + 1):,}"
        )
        return text if g == 1 else text + "<br>" + self.groups_meaning()

    def groups_meaning(self):
        """In words: depthwise (groups = C_in), or which filters read which channels."""
        C, F, g = self.x.shape[0], self.output_shape[0], self.groups
        if g == C == F:
            return "depthwise: one map per input channel, no sum across channels"
        if g == C:
            return f"depthwise with channel multiplier {F // C}: {F // C} maps per input channel, no sum across channels"
        per_group = F // g
        return f"{g} groups: " + ", ".join(
            f"{_named_span('filter', range(group * per_group, (group + 1) * per_group))} read "
            f"{_named_span('channel', channels_of_filter(group * per_group, C, F, g))}"
            for group in range(g)
        )


def _named_span(word, indices):
    """A range of indices as a learner writes it: 'channel 2' or 'channels 2-3'."""
    if len(indices) == 1:
        return f"{word} {indices.start}"
    return f"{word}s {indices.start}-{indices.stop - 1}"


# --------------------------------------------------------------------------
# The controls
# --------------------------------------------------------------------------


def _slider(description, minimum, maximum, value):
    return widgets.IntSlider(value=value, min=minimum, max=maximum, description=description,
                             continuous_update=True, style={"description_width": "initial"})


class ConvExplorer(widgets.VBox):
    """Sliders, dropdowns and a play button around the live picture (see the module docstring).

    controls: dict name -> widget: input, channels, kernel_size, stride, padding, dilation,
              filters, groups, highlight, preset, row, column, play. Each widget carries the CSS
              class "conv-<name>" (underscores as hyphens), so a browser test can find it.
    state:    the _ExplorerState shown (None while the settings are invalid).
    """

    def __init__(self, kind="photo", channels=3, kernel_size=3, stride=1, padding=1, dilation=1,
                 filters=4, highlight=0, preset="random", row=0, column=0, groups=1):
        require_groups(groups, channels, filters)
        self.controls = {
            "input": widgets.Dropdown(options=["photo", "small grid"], value=kind, description="input"),
            "channels": _slider("input channels", 1, MAX_CHANNELS, channels),
            "kernel_size": _slider("kernel size", 1, MAX_KERNEL, kernel_size),
            "stride": _slider("stride", 1, 3, stride),
            "padding": _slider("padding", 0, 3, padding),
            "dilation": _slider("dilation", 1, 3, dilation),
            "filters": _slider("filters", 1, MAX_FILTERS, filters),
            "groups": widgets.Dropdown(options=group_counts(channels, filters), value=groups, description="groups",
                                       layout=widgets.Layout(width="auto")),
            "highlight": _slider("highlighted filter", 0, filters - 1, highlight),
            "preset": widgets.Dropdown(options=PRESETS, value=preset, description="filters are"),
            "row": _slider("window row", 0, 0, 0),
            "column": _slider("window column", 0, 0, 0),
            "play": widgets.Play(value=0, min=0, max=0, interval=350, description="slide the window"),
        }
        for name, control in self.controls.items():
            control.add_class("conv-" + name.replace("_", "-"))
        self.picture = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="900px"))
        self.picture.add_class("conv-picture")
        self.arithmetic = widgets.HTML().add_class("conv-arithmetic")
        self.shapes = widgets.HTML().add_class("conv-shapes")
        self.message = widgets.HTML(layout=widgets.Layout(display="none")).add_class("conv-message")
        self.drawing = ExplorerPicture()  # the matplotlib figure behind self.picture
        self.state = None
        self._quiet = False
        c = self.controls
        panel = widgets.HBox([
            widgets.VBox([c["input"], c["channels"], c["preset"], c["filters"], c["groups"], c["highlight"]]),
            widgets.VBox([c["kernel_size"], c["stride"], c["padding"], c["dilation"]]),
            widgets.VBox([c["row"], c["column"], widgets.HBox([c["play"], widgets.Label("slide the window")])]),
        ])
        super().__init__([panel, self.shapes, self.arithmetic, self.message, self.picture])
        for name, control in c.items():
            control.observe(self._on_play if name == "play" else self._on_change, names="value")
        with self._holding():
            c["row"].max, c["column"].max = 10**6, 10**6  # the real limits come with the first refresh
            c["row"].value, c["column"].value = row, column
        self.refresh()

    @contextmanager
    def _holding(self):
        """Change several controls without a redraw after each."""
        quiet, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = quiet

    def _on_change(self, change):
        if not self._quiet:
            self.refresh()

    def _on_play(self, change):
        if self._quiet or self.state is None:
            return
        Wo = self.state.output_shape[2]
        with self._holding():
            self.controls["row"].value, self.controls["column"].value = divmod(change["new"], Wo)
        self.refresh()

    def settings(self):
        """The controls' values, as keyword arguments of _ExplorerState."""
        names = ("channels", "kernel_size", "stride", "padding", "dilation", "filters", "groups", "highlight", "preset",
                 "row", "column")
        return dict(kind=self.controls["input"].value, **{name: self.controls[name].value for name in names})

    def _offer_groups(self, channels, filters):
        """Offer the groups these channels and filters allow; keep the choice, or the largest allowed below it.

        Returns the groups value now chosen. Call while holding (no redraw per control).
        """
        control, allowed = self.controls["groups"], group_counts(channels, filters)
        value = max(g for g in allowed if g <= control.value)
        if tuple(control.options) != allowed:
            control.options = allowed  # ipywidgets resets the value to the first option here
        control.value = value
        return value

    def refresh(self):
        """Recompute from the controls and redraw; an invalid setting shows its message instead."""
        c = self.controls
        settings = self.settings()
        with self._holding():
            settings["groups"] = self._offer_groups(settings["channels"], settings["filters"])
            c["highlight"].max = settings["filters"] - 1
            settings["highlight"] = c["highlight"].value
            try:
                if self.state is not None and self.state.layout == _ExplorerState.layout_of(settings):
                    self.state.move_to(settings["row"], settings["column"])
                else:
                    self.state = _ExplorerState(**settings)
            except ValueError as error:
                self.state = None
                self.message.value = f"<b>These settings do not fit:</b> {error}"
                self.message.layout.display = None
                self.picture.layout.display = "none"
                self.arithmetic.value = self.shapes.value = ""
                return
            _, Ho, Wo = self.state.output_shape
            c["row"].max, c["column"].max = Ho - 1, Wo - 1
            c["play"].max = Ho * Wo - 1
            c["play"].value = self.state.row * Wo + self.state.column
        self.message.value, self.message.layout.display = "", "none"
        self.picture.layout.display = None
        self.shapes.value = self.state.shapes()
        self.arithmetic.value = self.state.arithmetic()
        self.picture.value = self.drawing.render(self.state)


def conv_explorer(**settings):
    """The demo, ready to display: ``conv_explorer()`` as the last line of a notebook cell.

    settings: starting values, e.g. kind="small grid", channels=2, kernel_size=3, filters=2
    (see ConvExplorer). Returns the ConvExplorer widget.
    """
    return ConvExplorer(**settings)
