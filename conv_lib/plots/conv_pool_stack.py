"""The pictures of notebook 04 (conv-pool stack): a stack's tensors, max pooling, receptive fields.

    draw_stack              a conv-ReLU-pool stack as the tensors it makes, with their shapes
    draw_max_pool           max pooling, channel by channel: C channels in, C channels out
    receptive_field_boxes   (no picture) the input pixels one unit after each layer sees
    draw_receptive_field    those fields drawn on the input, growing layer by layer

It also holds what draw_network (vgg16.py, notebook 05) shares with draw_stack:
the checked layer specs (_checked_summary, SPATIAL_KINDS), the tensors' colours
(TENSOR_COLOURS), their shapes in words and the labelled boxes (_named_cuboid).
"""

import math
from typing import NamedTuple

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.patches import FancyArrowPatch, Rectangle

from ..checks import as_real_array, pair, whole_number
from ..models import summary
from ..ops import max_pool2d
from .common import (
    CAPTION_FONTSIZE,
    MAX_FIGURE_WIDTH,
    _as_image,
    _axes_size_points,
    _channel_names,
    _cuboid,
    _grid,
    _mix,
    _new_figure,
    _outline,
    _plural,
    _shared_range,
    _text_width,
)

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
    The cells are white (their numbers, not their shades, carry the values), and
    all panels, input and pooled, share one colour scale, vmin..vmax = the
    smallest..the largest value of x.
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
    vmin, vmax = _shared_range(x)  # pooled values are values of x: one scale holds both
    for c in range(C):
        ax_in, ax_arrow, ax_out = axes[c]
        _grid(ax_in, x[c], f"x[{c}]: {names[c]}", blank, True, vmin, vmax, muted=~covered)
        _grid(ax_out, pooled[c], f"pooled[{c}]: {names[c]}", blank, True, vmin, vmax)
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
