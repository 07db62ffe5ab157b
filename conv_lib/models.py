"""Network configurations, written once: VGG16's convolutional part, and whole
networks as lists of layer specs (vgg16, vgg11, tiny_vgg), with summary (each
layer's output shape, parameters, multiply-adds and activation memory),
init_params and forward; and MobileNet's depthwise separable block beside the
standard 3x3 convolution it replaces (notebook 07, "where the rule bends").

numpy only. A configuration is a list whose numbers are 3x3 convolutions
(padding 1, stride 1, that many filters, each followed by a ReLU) and whose
"M" entries are 2x2 max pools with stride 2 (Simonyan & Zisserman, 2015, configuration D).

Grouped convolutions: a conv spec may carry a sixth entry, groups
(``("conv", c_out, k, stride, padding, groups)``, ``conv_lib.ops.conv2d``'s
meaning): each filter then sees only its group's c_in/groups channels, so the
layer has c_out * (c_in/groups * k*k + 1) parameters and c_in/groups * k*k
multiply-adds per output number. groups=c_in is a depthwise convolution.
MobileNet (Howard et al., 2017) replaces a standard 3x3 convolution by a
depthwise 3x3 one and a 1x1 ("pointwise") one that mixes the channels; the
summary names them dw and pw, and shows the saving:

    print(summary(standard_block(32, 64), (32, 112, 112)))               # 18,496 parameters
    print(summary(depthwise_separable_block(32, 64), (32, 112, 112)))    # 2,432 parameters
    print(compare_blocks(32, 64, (32, 112, 112)))                        # both, and the ratios: 7.6x, 7.9x

The saving in multiply-adds is 1 / (1/c_out + 1/9): about 8x for 64 or more
filters, never more than 9x (the pointwise layer's c_in*c_out per pixel remains).
"""

import numpy as np

from .checks import whole_number
from .ops import conv2d, max_pool2d, relu
from .shapes import output_size

VGG16_CONV_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def vgg16_conv_layers(input_shape=(3, 224, 224), config=VGG16_CONV_CONFIG):
    """The convolution layers of VGG16 with the shapes they see.

    input_shape: (C, H, W) of one image.
    Returns a list of dicts, one per convolution, in order:
        name ("conv1_1", ...), C_in, C_out, H, W (the input's height and width;
        the output has the same height and width since padding is 1).
    """
    channels, height, width = input_shape
    block, index, layers = 1, 1, []
    for entry in config:
        if entry == "M":
            height, width = output_size(height, 2, 0, 2), output_size(width, 2, 0, 2)
            block, index = block + 1, 1
            continue
        layers.append(dict(name=f"conv{block}_{index}", C_in=channels, C_out=entry, H=height, W=width))
        channels, index = entry, index + 1
    return layers


# --------------------------------------------------------------------------
# Whole networks as plain data: layer specs
# --------------------------------------------------------------------------
#
# A network is a list of layer specs, tuples whose first item names the kind:
#
#   ("conv", c_out, k, stride, padding)   c_out filters of k x k, then (usually) ("relu",)
#   ("conv", c_out, k, stride, padding, groups)
#                                         the same, grouped: each filter sees c_in/groups channels
#   ("pool", size, stride)                max pooling, per channel
#   ("relu",)                             max(x, 0), elementwise
#   ("flatten",)                          (C, H, W) -> (C*H*W,)
#   ("linear", n_out)                     fully connected: n_out outputs, each with one bias
#
# Shapes are per image, channels first: (C, H, W) before flatten, (n,) after.

VGG11_CONV_CONFIG = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
VGG_CLASSIFIER = (4096, 4096, 1000)
LAYER_KINDS = ("conv", "pool", "relu", "flatten", "linear")
#: Each kind's spec as a learner writes it, and how many entries that tuple has.
LAYER_FORMS = {
    "conv": ("('conv', c_out, k, stride, padding)", 5),
    "pool": ("('pool', size, stride)", 3),
    "relu": ("('relu',)", 1),
    "flatten": ("('flatten',)", 1),
    "linear": ("('linear', n_out)", 2),
}
#: The grouped conv spec: the one other length a spec may have.
GROUPED_CONV_FORM = ("('conv', c_out, k, stride, padding, groups)", 6)


def vgg_layers(config, classifier=VGG_CLASSIFIER):
    """The layer specs of a VGG network: each number of config a 3x3
    convolution (stride 1, padding 1) and a ReLU, each "M" a 2x2 max pool
    (stride 2); then flatten and the fully connected layers of classifier,
    with a ReLU between them (the dropouts of training change no shape and
    have no parameters, so they are left out)."""
    layers = []
    for entry in config:
        layers += [("pool", 2, 2)] if entry == "M" else [("conv", entry, 3, 1, 1), ("relu",)]
    layers.append(("flatten",))
    for index, n_out in enumerate(classifier):
        layers.append(("linear", n_out))
        if index < len(classifier) - 1:
            layers.append(("relu",))
    return layers


def vgg16():
    """VGG16, configuration "D" of Simonyan & Zisserman: 13 convolutions, 3 fully connected layers."""
    return vgg_layers(VGG16_CONV_CONFIG)


def vgg11():
    """VGG11, configuration "A": 8 convolutions, 3 fully connected layers."""
    return vgg_layers(VGG11_CONV_CONFIG)


def tiny_vgg(classes=10, channels=(8, 16)):
    """Two VGG blocks ([3x3 conv, ReLU] x 2, then a 2x2 max pool each) and one
    fully connected layer with `classes` outputs: small enough to run at once."""
    return vgg_layers(tuple(value for c in channels for value in (c, c, "M")), classifier=(classes,))



def standard_block(c_in, c_out, stride=1):
    """A standard 3x3 convolution (padding 1) and its ReLU, the layer MobileNet's block replaces.

    c_in: the input's channels (each filter is c_in deep; the spec itself needs only c_out);
    c_out: filters. Returns [("conv", c_out, 3, stride, 1), ("relu",)]: c_out * (c_in*9 + 1) parameters.
    """
    whole_number(c_in, "c_in", 1)
    return [("conv", c_out, 3, stride, 1), ("relu",)]


def depthwise_separable_block(c_in, c_out, stride=1):
    """MobileNet's depthwise separable block: the same input and output shapes as standard_block.

    A depthwise 3x3 convolution (groups=c_in: one filter per input channel, one
    channel deep, no sum across channels) filters each channel on its own, then a
    1x1 pointwise convolution mixes the channels: c_out filters, c_in deep, one tap each.
    Returns [("conv", c_in, 3, stride, 1, c_in), ("relu",), ("conv", c_out, 1, 1, 0), ("relu",)]:
    c_in * (9 + 1) + c_out * (c_in + 1) parameters.
    """
    return [("conv", c_in, 3, stride, 1, c_in), ("relu",), ("conv", c_out, 1, 1, 0), ("relu",)]


class BlockComparison:
    """compare_blocks' answer: .standard and .separable (two Summary), .params_ratio and .macs_ratio
    (standard / separable); printed as a table of both blocks' totals and the ratios."""

    def __init__(self, standard, separable):
        self.standard, self.separable = standard, separable
        self.params_ratio = standard.params / separable.params
        self.macs_ratio = standard.macs / separable.macs

    def __str__(self):
        lines = [f"{'block':28} {'parameters':>12} {'multiply-adds':>16}"]
        for name, block in (("standard 3x3 conv", self.standard), ("depthwise separable (dw+pw)", self.separable)):
            lines.append(f"{name:28} {block.params:>12,} {block.macs:>16,}")
        lines.append(f"{'standard / separable':28} {self.params_ratio:>11.1f}x {self.macs_ratio:>15.1f}x")
        return "\n".join(lines)

    __repr__ = __str__


def compare_blocks(c_in, c_out, input_shape, stride=1):
    """The saving of a depthwise separable block over a standard 3x3 convolution, on one input.

    input_shape: (C, H, W) of one image, with C == c_in. Returns a BlockComparison:
    print it for the two blocks' parameters and multiply-adds and their ratios;
    the multiply-adds' ratio is 1 / (1/c_out + 1/9) (about 7.9 for c_out = 64).
    """
    if tuple(input_shape)[0] != c_in:
        raise ValueError(f"the input must have c_in = {c_in} channels, got input_shape {tuple(input_shape)}")
    return BlockComparison(summary(standard_block(c_in, c_out, stride), input_shape),
                           summary(depthwise_separable_block(c_in, c_out, stride), input_shape))

def _check_spec(layer, position):
    """The spec's kind, after checking that it is one of LAYER_KINDS."""
    if not isinstance(layer, (tuple, list)) or not layer or layer[0] not in LAYER_KINDS:
        raise ValueError(
            f"layer {position} must be a tuple starting with one of {', '.join(LAYER_KINDS)}, "
            f"such as ('conv', 64, 3, 1, 1); got {layer!r}"
        )
    form, entries = LAYER_FORMS[layer[0]]
    if layer[0] == "conv" and len(layer) == GROUPED_CONV_FORM[1]:
        return layer[0]
    if len(layer) != entries:
        grouped = f", or {GROUPED_CONV_FORM[0]} ({GROUPED_CONV_FORM[1]} entries)" if layer[0] == "conv" else ""
        raise ValueError(f"layer {position} must be {form} ({entries} {'entry' if entries == 1 else 'entries'})"
                         f"{grouped}; got {layer!r}")
    return layer[0]


def conv_spec(layer):
    """A conv spec's numbers: (c_out, k, stride, padding, groups), groups 1 for a 5-entry spec."""
    _, c_out, k, stride, padding, *rest = layer
    return c_out, k, stride, padding, (rest[0] if rest else 1)


def _check_conv_groups(layer, c_in, position):
    """The conv spec's groups, after checking that it splits the input's channels and the filters evenly."""
    c_out, _, _, _, groups = conv_spec(layer)
    groups = whole_number(groups, f"layer {position}'s groups", 1)
    for count, what in ((c_in, "its input's channels"), (c_out, "its filters")):
        if count % groups:
            raise ValueError(f"layer {position} {layer!r} has groups={groups}: {what} ({count}) must split into "
                             f"{groups} equal groups, but {count} is not a multiple of {groups}")
    return groups


def layer_output_shape(layer, shape, position=0):
    """The shape one layer gives for an input of `shape` (per image).

    shape: (C, H, W) before flatten, (n,) after. Returns a tuple.
    """
    kind = _check_spec(layer, position)
    if kind in ("conv", "pool") and len(shape) != 3:
        raise ValueError(f"layer {position} ({kind}) needs an input of shape (C, H, W), got {tuple(shape)}")
    if kind == "conv":
        c_out, k, stride, padding, _ = conv_spec(layer)
        _check_conv_groups(layer, shape[0], position)
        return (c_out, output_size(shape[1], k, padding, stride), output_size(shape[2], k, padding, stride))
    if kind == "pool":
        _, size, stride = layer
        return (shape[0], output_size(shape[1], size, 0, stride), output_size(shape[2], size, 0, stride))
    if kind == "flatten":
        return (int(np.prod(shape)),)
    if kind == "linear":
        if len(shape) != 1:
            raise ValueError(f"layer {position} (linear) needs a flat input of shape (n,): put ('flatten',) "
                             f"before it; got {tuple(shape)}")
        return (layer[1],)
    return tuple(shape)  # relu


def layer_params(layer, shape):
    """Learnable numbers of one layer on an input of `shape`: weights plus one bias per output.

    A conv: c_out filters of (c_in/groups, k, k) and c_out biases (groups=1 unless the spec has a 6th entry).
    """
    if layer[0] == "conv":
        c_out, k, _, _, groups = conv_spec(layer)
        return c_out * (shape[0] // groups * k * k + 1)
    if layer[0] == "linear":
        return layer[1] * (shape[0] + 1)
    return 0


def layer_macs(layer, shape, out_shape):
    """Multiply-accumulates of one layer: each output number of a conv or a
    linear layer is a sum of (inputs it sees) products (a conv's filter sees
    c_in/groups channels of k x k); relu, pooling and flatten do none."""
    if layer[0] == "conv":
        _, k, _, _, groups = conv_spec(layer)
        return int(np.prod(out_shape)) * (shape[0] // groups) * k * k
    if layer[0] == "linear":
        return layer[1] * shape[0]
    return 0


def layer_names(layers, input_channels=None):
    """VGG-style names: conv<block>_<i> up to each pool<block>, then fc<n> for
    the fully connected layers, counting on from the blocks (VGG16: fc6, fc7,
    fc8); a ReLU takes the number of the layer before it (relu1_1, relu6).

    Grouped convolutions say what they are: dw<block>_<i> for a depthwise one
    (groups equal to its input's channels; input_channels, the network's input
    channel count, tells them apart from other grouped ones; without it, groups
    equal to c_out counts as depthwise), gconv<block>_<i> for any other grouped
    one, and pw<block>_<i> for a 1x1 convolution right after a grouped one (the
    pointwise half of a depthwise separable block). Networks without groups keep their names.
    """
    names, block, index, number = [], 1, 0, ""
    channels, after_grouped = input_channels, False
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            index += 1
            number = f"{block}_{index}"
            c_out, k, _, _, groups = conv_spec(layer)
            if groups != 1:
                depthwise = groups == (channels if channels is not None else c_out)
                names.append(f"{'dw' if depthwise else 'gconv'}{number}")
            else:
                names.append(f"{'pw' if after_grouped and k == 1 else 'conv'}{number}")
            channels, after_grouped = c_out, groups != 1
            continue
        if kind in ("linear", "flatten"):
            channels = None  # no channels to track after flatten
        if kind == "linear":
            number = f"{block}"
            names.append(f"fc{number}")
            block += 1
        elif kind == "pool":
            names.append(f"pool{block}")
            block, index = block + 1, 0
        elif kind == "relu":
            names.append(f"relu{number}")
        else:
            names.append(kind)
    return names


#: Bytes per number of a float32 array: what one activation takes in memory.
FLOAT32_BYTES = 4

#: Layers whose output needs no memory of its own: a ReLU can overwrite its input in
#: place (torchvision's VGG does) and flatten only reads the same numbers as one vector.
IN_PLACE_KINDS = ("relu", "flatten")


def layer_activation_bytes(kind, out_shape, bytes_per_value=FLOAT32_BYTES):
    """The memory one layer's output takes for one image: its number of values x bytes_per_value.

    kind: the layer's kind ("conv", "pool", "relu", ...); out_shape: its output shape
    per image, e.g. (64, 224, 224). Returns an int: 0 for the in-place kinds
    (IN_PLACE_KINDS); e.g. conv1_1 of VGG16, (64, 224, 224) in float32, takes
    64 * 224 * 224 * 4 = 12,845,056 bytes (12.8 MB).
    """
    if kind in IN_PLACE_KINDS:
        return 0
    return int(np.prod(out_shape)) * bytes_per_value


def _megabytes(count):
    """Bytes as a table shows them, in MB (1,000,000 bytes): "1,606", "12.8", "0.401", "<0.001", "0"."""
    megabytes = count / 1e6
    if count == 0:
        return "0"
    if megabytes >= 100:
        return f"{megabytes:,.0f}"
    if megabytes >= 1:
        return f"{megabytes:.1f}"
    return f"{megabytes:.3f}" if megabytes >= 0.001 else "<0.001"


class LayerRow:
    """One line of a summary: name, kind, output_shape (per image), params, macs, and
    activation_bytes (a property: the output's memory for one image in float32,
    layer_activation_bytes) with activation_mb, the same in MB (1,000,000 bytes)."""

    __slots__ = ("name", "kind", "output_shape", "params", "macs")

    def __init__(self, name, kind, output_shape, params, macs):
        self.name, self.kind, self.output_shape, self.params, self.macs = name, kind, output_shape, params, macs

    @property
    def activation_bytes(self):
        return layer_activation_bytes(self.kind, self.output_shape)

    @property
    def activation_mb(self):
        return self.activation_bytes / 1e6

    def __repr__(self):
        return f"LayerRow({self.name!r}, {self.kind!r}, {self.output_shape}, params={self.params}, macs={self.macs})"


class Summary(list):
    """The rows of summary(), a list of LayerRow; shown (repr, print) as a table with totals.

    .params, .macs and .activation_bytes (with .activation_mb, in MB) are the
    totals for one image; activation memory grows with the batch: N images take N times as much.
    """

    def __init__(self, rows, input_shape):
        super().__init__(rows)
        self.input_shape = tuple(input_shape)

    @property
    def params(self):
        return sum(row.params for row in self)

    @property
    def macs(self):
        return sum(row.macs for row in self)

    @property
    def activation_bytes(self):
        return sum(row.activation_bytes for row in self)

    @property
    def activation_mb(self):
        return self.activation_bytes / 1e6

    def __str__(self):
        lines = [f"{'layer':10} {'output shape':>16} {'parameters':>14} {'multiply-adds':>16} {'activations MB':>15}",
                 f"{'input':10} {str(self.input_shape):>16} {'':>14} {'':>16} {'':>15}"]
        for row in self:
            lines.append(f"{row.name:10} {str(row.output_shape):>16} {row.params:>14,} {row.macs:>16,} "
                         f"{_megabytes(row.activation_bytes):>15}")
        lines.append(f"{'total':10} {'':>16} {self.params:>14,} {self.macs:>16,} "
                     f"{_megabytes(self.activation_bytes):>15}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        """The same table for Jupyter: numbers right-aligned with thousands separators, totals in bold."""
        right = 'style="text-align:right"'
        titles = ("output shape", "parameters", "multiply-adds", "activations (MB, float32)")
        head = "".join(f"<th {right}>{title}</th>" for title in titles)
        lines = [f"<table><thead><tr><th>layer</th>{head}</tr></thead><tbody>",
                 f"<tr><td>input</td><td {right}>{self.input_shape}</td><td></td><td></td><td></td></tr>"]
        for row in self:
            lines.append(f"<tr><td>{row.name}</td><td {right}>{row.output_shape}</td>"
                         f"<td {right}>{row.params:,}</td><td {right}>{row.macs:,}</td>"
                         f"<td {right}>{_megabytes(row.activation_bytes)}</td></tr>")
        lines.append(f"<tr><td><b>total</b></td><td></td><td {right}><b>{self.params:,}</b></td>"
                     f"<td {right}><b>{self.macs:,}</b></td>"
                     f"<td {right}><b>{_megabytes(self.activation_bytes)}</b></td></tr></tbody></table>")
        return "\n".join(lines)


def summary(layers, input_shape=(3, 224, 224)):
    """One row per layer with its output shape, parameters, multiply-accumulates and activation memory.

    layers: layer specs (see above); input_shape: (C, H, W) of one image.
    Returns a Summary (a list of LayerRow), shown as a table with totals;
    .params, .macs and .activation_bytes are the totals. A row's activation
    memory is its output's values x 4 bytes (float32) for one image, 0 for a
    ReLU or a flatten (they need no new array; see layer_activation_bytes).
    Example: summary(vgg16()).params == 138_357_544; its conv1_1 row's
    activation_bytes == 64 * 224 * 224 * 4 (12.8 MB).
    """
    rows, shape = [], tuple(input_shape)
    for position, layer in enumerate(layers):
        _check_spec(layer, position)  # before naming them: the names read each conv's entries
    for position, (layer, name) in enumerate(zip(layers, layer_names(layers, input_shape[0]))):
        out_shape = layer_output_shape(layer, shape, position)
        rows.append(LayerRow(name, layer[0], out_shape, layer_params(layer, shape), layer_macs(layer, shape, out_shape)))
        shape = out_shape
    return Summary(rows, input_shape)


def init_params(layers, input_shape, rng, dtype=np.float32):
    """He-initialised parameters for the conv and linear layers of a stack.

    Each weight is drawn from a normal distribution with standard deviation
    sqrt(2 / fan_in) (fan_in = C_in/groups * k * k for a conv, n_in for a linear
    layer); biases start at 0. rng: a numpy Generator.
    Returns a list of (w, b), one per conv or linear layer, in order:
    w: (C_out, C_in/groups, k, k) and b: (C_out,) for a conv; w: (n_out, n_in) and b: (n_out,) for a linear layer.
    """
    params, shape = [], tuple(input_shape)
    for position, layer in enumerate(layers):
        out_shape = layer_output_shape(layer, shape, position)
        if layer[0] == "conv":
            c_out, k, _, _, groups = conv_spec(layer)
            w_shape = (c_out, shape[0] // groups, k, k)
        elif layer[0] == "linear":
            w_shape = (layer[1], shape[0])
        else:
            shape = out_shape
            continue
        fan_in = int(np.prod(w_shape[1:]))
        w = _standard_normal(rng, w_shape, dtype)
        w *= np.sqrt(2.0 / fan_in)
        params.append((w, np.zeros(w_shape[0], dtype=dtype)))
        shape = out_shape
    return params


def _standard_normal(rng, shape, dtype):
    """Normal numbers of the given shape, drawn straight in dtype when numpy can (float32, float64):
    VGG16's 138 million weights then take 553 MB in float32, never twice that in float64."""
    if np.dtype(dtype) in (np.float32, np.float64):
        return rng.standard_normal(shape, dtype=dtype)
    return rng.standard_normal(shape).astype(dtype)


def forward(layers, params, x):
    """Run a stack of layers on a batch with conv_lib's operations.

    layers: layer specs; params: init_params' list of (w, b), one per conv or linear layer;
    x: (N, C, H, W). Returns (N, ...) : the last layer's output for each image.
    """
    parameters = iter(params)
    for position, layer in enumerate(layers):
        kind = _check_spec(layer, position)
        if kind == "conv":
            _, _, stride, padding, groups = conv_spec(layer)
            w, b = next(parameters)
            x = conv2d(x, w, b, stride=stride, padding=padding, groups=groups)
        elif kind == "pool":
            x = max_pool2d(x, layer[1], layer[2])
        elif kind == "relu":
            x = relu(x)
        elif kind == "flatten":
            x = x.reshape(x.shape[0], -1)
        else:
            w, b = next(parameters)
            x = x @ w.T + b
    return x
