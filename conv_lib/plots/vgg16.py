"""The picture of notebook 05 (VGG16): a whole network, box by box, then its fully connected layers.

    draw_network            a whole network (VGG16, VGG11, tiny_vgg), box by box, then
                            its fully connected layers

Notebook 05 also draws single layers with many_filters.draw_layer. draw_network
shares its layer-spec checks, colours and boxes with draw_stack (conv_pool_stack.py).
"""

import math

from matplotlib.patches import FancyArrowPatch, Rectangle

from .common import MAX_FIGURE_WIDTH, _mix, _new_figure, _plural, _text_width
from .conv_pool_stack import SPATIAL_KINDS, TENSOR_COLOURS, _checked_summary, _named_cuboid, _shape_words

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
