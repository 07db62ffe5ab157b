"""Network configurations, written once: VGG16's convolutional part, and whole
networks as lists of layer specs (vgg16, vgg11, tiny_vgg), with summary,
init_params and forward.

numpy only. A configuration is a list whose numbers are 3x3 convolutions
(padding 1, stride 1, that many filters, each followed by a ReLU) and whose
"M" entries are 2x2 max pools with stride 2 (Simonyan & Zisserman, 2015, configuration D).
"""

import numpy as np

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


def _check_spec(layer, position):
    """The spec's kind, after checking that it is one of LAYER_KINDS."""
    if not isinstance(layer, (tuple, list)) or not layer or layer[0] not in LAYER_KINDS:
        raise ValueError(
            f"layer {position} must be a tuple starting with one of {', '.join(LAYER_KINDS)}, "
            f"such as ('conv', 64, 3, 1, 1); got {layer!r}"
        )
    form, entries = LAYER_FORMS[layer[0]]
    if len(layer) != entries:
        raise ValueError(f"layer {position} must be {form} ({entries} {'entry' if entries == 1 else 'entries'}); got {layer!r}")
    return layer[0]


def layer_output_shape(layer, shape, position=0):
    """The shape one layer gives for an input of `shape` (per image).

    shape: (C, H, W) before flatten, (n,) after. Returns a tuple.
    """
    kind = _check_spec(layer, position)
    if kind in ("conv", "pool") and len(shape) != 3:
        raise ValueError(f"layer {position} ({kind}) needs an input of shape (C, H, W), got {tuple(shape)}")
    if kind == "conv":
        _, c_out, k, stride, padding = layer
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
    """Learnable numbers of one layer on an input of `shape`: weights plus one bias per output."""
    if layer[0] == "conv":
        _, c_out, k, _, _ = layer
        return c_out * (shape[0] * k * k + 1)
    if layer[0] == "linear":
        return layer[1] * (shape[0] + 1)
    return 0


def layer_macs(layer, shape, out_shape):
    """Multiply-accumulates of one layer: each output number of a conv or a
    linear layer is a sum of (inputs it sees) products; relu, pooling and
    flatten do none."""
    if layer[0] == "conv":
        k = layer[2]
        return int(np.prod(out_shape)) * shape[0] * k * k
    if layer[0] == "linear":
        return layer[1] * shape[0]
    return 0


def layer_names(layers):
    """VGG-style names: conv<block>_<i> up to each pool<block>, then fc<n> for
    the fully connected layers, counting on from the blocks (VGG16: fc6, fc7,
    fc8); a ReLU takes the number of the layer before it (relu1_1, relu6)."""
    names, block, index, number = [], 1, 0, ""
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            index += 1
            number = f"{block}_{index}"
            names.append(f"conv{number}")
        elif kind == "linear":
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


class LayerRow:
    """One line of a summary: name, kind, output_shape (per image), params, macs."""

    __slots__ = ("name", "kind", "output_shape", "params", "macs")

    def __init__(self, name, kind, output_shape, params, macs):
        self.name, self.kind, self.output_shape, self.params, self.macs = name, kind, output_shape, params, macs

    def __repr__(self):
        return f"LayerRow({self.name!r}, {self.kind!r}, {self.output_shape}, params={self.params}, macs={self.macs})"


class Summary(list):
    """The rows of summary(), a list of LayerRow; shown (repr, print) as a table with totals."""

    def __init__(self, rows, input_shape):
        super().__init__(rows)
        self.input_shape = tuple(input_shape)

    @property
    def params(self):
        return sum(row.params for row in self)

    @property
    def macs(self):
        return sum(row.macs for row in self)

    def __str__(self):
        lines = [f"{'layer':10} {'output shape':>16} {'parameters':>14} {'multiply-adds':>16}",
                 f"{'input':10} {str(self.input_shape):>16} {'':>14} {'':>16}"]
        for row in self:
            lines.append(f"{row.name:10} {str(row.output_shape):>16} {row.params:>14,} {row.macs:>16,}")
        lines.append(f"{'total':10} {'':>16} {self.params:>14,} {self.macs:>16,}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        """The same table for Jupyter: numbers right-aligned with thousands separators, totals in bold."""
        right = 'style="text-align:right"'
        head = "".join(f"<th {right}>{title}</th>" for title in ("output shape", "parameters", "multiply-adds"))
        lines = [f"<table><thead><tr><th>layer</th>{head}</tr></thead><tbody>",
                 f"<tr><td>input</td><td {right}>{self.input_shape}</td><td></td><td></td></tr>"]
        for row in self:
            lines.append(f"<tr><td>{row.name}</td><td {right}>{row.output_shape}</td>"
                         f"<td {right}>{row.params:,}</td><td {right}>{row.macs:,}</td></tr>")
        lines.append(f"<tr><td><b>total</b></td><td></td><td {right}><b>{self.params:,}</b></td>"
                     f"<td {right}><b>{self.macs:,}</b></td></tr></tbody></table>")
        return "\n".join(lines)


def summary(layers, input_shape=(3, 224, 224)):
    """One row per layer with its output shape, parameters and multiply-accumulates.

    layers: layer specs (see above); input_shape: (C, H, W) of one image.
    Returns a Summary (a list of LayerRow), shown as a table with totals;
    .params and .macs are the totals. Example: summary(vgg16()).params == 138_357_544.
    """
    rows, shape = [], tuple(input_shape)
    for position, (layer, name) in enumerate(zip(layers, layer_names(layers))):
        out_shape = layer_output_shape(layer, shape, position)
        rows.append(LayerRow(name, layer[0], out_shape, layer_params(layer, shape), layer_macs(layer, shape, out_shape)))
        shape = out_shape
    return Summary(rows, input_shape)


def init_params(layers, input_shape, rng, dtype=np.float32):
    """He-initialised parameters for the conv and linear layers of a stack.

    Each weight is drawn from a normal distribution with standard deviation
    sqrt(2 / fan_in) (fan_in = C_in * k * k for a conv, n_in for a linear
    layer); biases start at 0. rng: a numpy Generator.
    Returns a list of (w, b), one per conv or linear layer, in order:
    w: (C_out, C_in, k, k) and b: (C_out,) for a conv; w: (n_out, n_in) and b: (n_out,) for a linear layer.
    """
    params, shape = [], tuple(input_shape)
    for position, layer in enumerate(layers):
        out_shape = layer_output_shape(layer, shape, position)
        if layer[0] == "conv":
            _, c_out, k, _, _ = layer
            w_shape = (c_out, shape[0], k, k)
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
            _, _, _, stride, padding = layer
            w, b = next(parameters)
            x = conv2d(x, w, b, stride=stride, padding=padding)
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
