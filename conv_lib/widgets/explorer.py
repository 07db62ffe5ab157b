"""The lecture demo: sliders that show how one filter meets every input channel.

    from conv_lib.widgets import conv_explorer
    conv_explorer()                 # in a notebook, or served alone by Voila (make demo)
    conv_explorer(projector=True)   # large type, controls beside the picture

The picture (explorer_picture.py), redrawn on every change: each input channel
with the current window outlined, the highlighted filter's channel under it,
their product under that, and the sum drawn as an equation, each channel's sum
+ bias b[h] = out[h, i, j]; on the right the highlighted filter's output map with
the current cell marked, and every filter's map (C_out filters make C_out maps).
Above it, the same arithmetic as a line of text, the shapes, the output-size
formula and the parameter count.

The groups control (notebook 07) splits the channels and the filters into
``groups`` equal groups: filter f belongs to group g = f // (C_out/groups) and
reads only that group's C_in/groups input channels, so w is (C_out, C_in/groups,
kH, kW). Its choices are the divisors of gcd(channels, filters), kept valid as
those two change (an invalid value falls back to the largest valid one below
it). The picture follows the highlighted filter: the channels its group reads
are drawn as usual; the others are dimmed, without the window, and say which
channels the group reads; rows 2 and 3 and the equation stay blank under them.
groups = channels is depthwise convolution: no sum across channels.

The projector toggle (CSS class "conv-projector") swaps in a larger picture
and puts the controls in a column beside it, with larger text lines; served by
Voila, the page then shows the demo alone, so that it fits a 1920 x 1080 screen.

Speed: one ExplorerPicture per (channel count, look), made on first use and
kept for the kernel's life (picture_for); a change only updates its artists
(set_data, set_text, ...) and renders it to a PNG shown by an ipywidgets Image.
No figure is made per change (`make bench` times a redraw).

A static copy of the notebook (nbconvert's HTML, GitHub's viewer) shows the
picture and a sentence saying to run the notebook, not the widget's repr:
see ConvExplorer._repr_mimebundle_.
"""

import base64
import html
import re
from contextlib import contextmanager

import ipywidgets as widgets
import numpy as np

from ..ops import conv2d, pad2d
from ..plots import format_factor, format_number, sample_photo
from ..shapes import channels_of_filter, effective_kernel_size, group_counts, group_of_filter, output_size
from .explorer_picture import (  # noqa: F401  (the package's names, re-exported in __init__.py)
    ANNOTATE_MAX_SIDE,
    DIMMED,
    HIGHLIGHT,
    MAX_CHANNELS,
    MAX_FILTERS,
    MAX_KERNEL,
    ExplorerPicture,
    _Panel,
    _symmetric,
)

PHOTO_SIZE = 40
GRID_SIZE = 6
PRESETS = ("random", "edge", "colour-opponent edge", "blur", "identity")
CHANNEL_NAMES = ("red", "green", "blue", "extra")
#: What a static copy of the notebook says in place of the sliders.
RUN_ME = "Run this notebook in Jupyter (or `make demo`) to move the sliders: this is a still picture of the demo."


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


_PICTURES = {}  # (channels, projector) -> ExplorerPicture


def picture_for(channels, projector=False):
    """The ExplorerPicture for this many input channels and this look, made the first time it is asked for.

    Kept for the kernel's life and shared by every explorer in it: render() draws all
    of a state, so a picture serves any explorer (the kernel runs one at a time).
    """
    key = (channels, bool(projector))
    if key not in _PICTURES:
        _PICTURES[key] = ExplorerPicture(channels, projector=bool(projector))
    return _PICTURES[key]


def _slider(description, minimum, maximum, value):
    return widgets.IntSlider(value=value, min=minimum, max=maximum, description=description,
                             continuous_update=True, style={"description_width": "initial"})


#: Font sizes of the text lines (shapes, arithmetic, message) in the projector look.
PROJECTOR_TEXT_SIZE = "21px"
#: The width of the controls' column in the projector look.
PROJECTOR_CONTROLS_WIDTH = "370px"
#: On a projector the picture may be shown up to this many times its PNG's width,
#: to fill the screen beside the controls, but no taller than the screen leaves
#: under the three text lines.
PROJECTOR_ZOOM = 1.35
PROJECTOR_MAX_HEIGHT = "calc(100vh - 160px)"
#: Served by Voila, the projector look shows the demo alone: the page's other
#: cells (the notebook's text) are hidden while an explorer is in it, so that
#: nothing but the demo takes the screen's height.
PROJECTOR_CSS = """<style>
body[data-voila]:has(.conv-projector-on) .jp-Cell:not(:has(.conv-projector-on)) { display: none; }
body[data-voila]:has(.conv-projector-on) .jp-Cell:has(.conv-projector-on) { padding: 0; }
.conv-projector-on .conv-controls .widget-slider .widget-readout,
.conv-projector-on .conv-controls .widget-label,
.conv-projector-on .conv-controls .widget-label-basic,
.conv-projector-on .conv-controls label { font-size: 16px; }
</style>"""


class RedrawnOnChange:
    """What both explorers' controls share: a change of a control calls ``self.refresh()``,
    except inside ``with self._holding():``, where several controls change with one redraw after."""

    _quiet = False

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


class ConvExplorer(RedrawnOnChange, widgets.VBox):
    """Sliders, dropdowns and a play button around the live picture (see the module docstring).

    controls: dict name -> widget: input, channels, kernel_size, stride, padding, dilation,
              filters, groups, highlight, preset, row, column, play, projector. Each widget
              carries the CSS class "conv-<name>" (underscores as hyphens), so a browser test
              can find it.
    state:    the _ExplorerState shown (None while the settings are invalid).
    drawing:  the ExplorerPicture behind the Image (picture_for(channels, projector)).
    """

    def __init__(self, kind="photo", channels=3, kernel_size=3, stride=1, padding=1, dilation=1,
                 filters=4, highlight=0, preset="random", row=0, column=0, groups=1, projector=False):
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
            "projector": widgets.ToggleButton(value=projector, description="projector", icon="desktop",
                                              tooltip="large type and picture, for a lecture hall's screen"),
        }
        for name, control in self.controls.items():
            control.add_class("conv-" + name.replace("_", "-"))
        self.picture = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        self.picture.add_class("conv-picture")
        self.arithmetic = widgets.HTML().add_class("conv-arithmetic")
        self.shapes = widgets.HTML().add_class("conv-shapes")
        self.message = widgets.HTML(layout=widgets.Layout(display="none")).add_class("conv-message")
        self._css = widgets.HTML(PROJECTOR_CSS, layout=widgets.Layout(display="none"))
        self.drawing = None  # the ExplorerPicture behind self.picture
        self.state = None
        self._quiet = False
        super().__init__()
        self.add_class("conv-explorer")
        self._arrange(projector)
        for name, control in self.controls.items():
            handler = {"play": self._on_play, "projector": self._on_projector}.get(name, self._on_change)
            control.observe(handler, names="value")
        with self._holding():
            self.controls["row"].max, self.controls["column"].max = 10**6, 10**6  # the real limits come with the first refresh
            self.controls["row"].value, self.controls["column"].value = row, column
        self.refresh()

    def _arrange(self, projector):
        """Place the controls: in three columns above the picture, or (projector) in one column beside it."""
        c = self.controls
        play = widgets.HBox([c["play"], widgets.Label("slide the window")])
        layer = [c["input"], c["channels"], c["preset"], c["filters"], c["groups"], c["highlight"]]
        window = [c["kernel_size"], c["stride"], c["padding"], c["dilation"]]
        moves = [c["row"], c["column"], play, c["projector"]]
        texts = [self.shapes, self.arithmetic, self.message, self.picture]
        if projector:
            controls = widgets.VBox(layer + window + moves, layout=widgets.Layout(width=PROJECTOR_CONTROLS_WIDTH,
                                                                                 flex="0 0 auto"))
            self.children = [self._css, widgets.HBox([controls, widgets.VBox(texts, layout=widgets.Layout(
                flex="1 1 auto", min_width="0"))])]
            self.add_class("conv-projector-on")
        else:
            controls = widgets.HBox([widgets.VBox(layer), widgets.VBox(window), widgets.VBox(moves)])
            self.children = [self._css, controls, *texts]
            self.remove_class("conv-projector-on")
        controls.add_class("conv-controls")
        for line in (self.shapes, self.arithmetic, self.message):
            line.style.font_size = PROJECTOR_TEXT_SIZE if projector else None

    def _size_picture(self, drawing):
        """Show the PNG at its own size; on a projector, as large as the screen allows, up to PROJECTOR_ZOOM times."""
        layout = self.picture.layout
        if drawing.projector:
            layout.width, layout.max_width = "100%", f"{round(PROJECTOR_ZOOM * drawing.width_px)}px"
            layout.max_height, layout.object_fit, layout.object_position = PROJECTOR_MAX_HEIGHT, "contain", "left top"
        else:
            layout.width, layout.max_width = f"{drawing.width_px}px", "100%"
            layout.max_height = layout.object_fit = layout.object_position = None

    def _repr_mimebundle_(self, **kwargs):
        """The widget's view, plus what a static copy of the notebook shows: the picture and RUN_ME.

        Jupyter and Voila draw the widget view; nbconvert's HTML, without the widgets'
        saved state, falls back to text/html (the sentence and the picture as a PNG).
        """
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = RUN_ME
        sentence = f"<p><em>{html.escape(RUN_ME)}</em></p>"
        if self.state is not None and self.picture.value:
            png = base64.b64encode(self.picture.value).decode("ascii")
            bundle["image/png"] = png
            alt = html.escape("the demo's picture: " + re.sub(r"<[^>]+>", "", self.state.arithmetic()), quote=True)
            bundle["text/html"] = sentence + f'<img src="data:image/png;base64,{png}" alt="{alt}">'
        else:
            bundle["text/html"] = sentence
        return bundle

    def _on_play(self, change):
        if self._quiet or self.state is None:
            return
        Wo = self.state.output_shape[2]
        with self._holding():
            self.controls["row"].value, self.controls["column"].value = divmod(change["new"], Wo)
        self.refresh()

    def _on_projector(self, change):
        self._arrange(change["new"])
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
        self._draw()

    def _draw(self):
        """Render the state on the picture for its channel count and the chosen look."""
        drawing = picture_for(self.state.x.shape[0], self.controls["projector"].value)
        if drawing is not self.drawing:
            self.drawing = drawing
            self._size_picture(drawing)
        self.picture.value = drawing.render(self.state)


def conv_explorer(**settings):
    """The demo, ready to display: ``conv_explorer()`` as the last line of a notebook cell.

    settings: starting values, e.g. kind="small grid", channels=2, kernel_size=3, filters=2,
    projector=True (see ConvExplorer). Returns the ConvExplorer widget.
    """
    return ConvExplorer(**settings)
