"""A small layer API, enough to train a TinyVGG: readable in one sitting.

Each layer has

    forward(x)      computes the output and keeps what backward will need (the input);
    backward(dout)  gets the gradient of the loss with respect to the output, returns the
                    one with respect to the input, and stores its parameters' gradients;
    parameters()    a list of (value, gradient) array pairs, [] for layers without weights.

Gradients are OVERWRITTEN by each backward (never added up), so there is
nothing to reset between training steps; SGD.zero_grad() exists for symmetry
with PyTorch and sets them to zero. The arrays themselves never change
identity: an optimizer can hold on to them, and ``value -= ...`` updates the
layer's weights in place.

    model = Sequential.from_specs(models.tiny_vgg(), (1, 16, 16), rng)
    scores = model.forward(x)                       # x: (N, 1, 16, 16) -> scores: (N, 10)
    loss, dscores = softmax_cross_entropy(scores, labels)
    model.backward(dscores)                         # every parameter's gradient, from the top down
    optimizer.step()                                # optimizer = SGD(model.parameters(), lr=0.03)

numpy only, on top of conv_lib.ops (forward) and conv_lib.backward (backward).
"""

import numpy as np

from . import models
from .backward import conv2d_backward, linear_backward, max_pool2d_backward, relu_backward
from .checks import as_real_array, require_axes, whole_number
from .ops import conv2d, max_pool2d, relu


def he_init(c_out, c_in, k, rng, dtype=np.float32):
    """He-initialised conv filters: normal numbers with standard deviation sqrt(2 / (c_in*k*k)).

    With this spread, a ReLU network's activations keep about the same size from layer to
    layer at the start of training (He et al., 2015). The same numbers as models.init_params
    draws for a ("conv", c_out, k, ...) layer from the same rng.

    rng: a numpy Generator. Returns w: (c_out, c_in, k, k) of dtype.
    """
    w = rng.standard_normal((c_out, c_in, k, k), dtype=dtype)
    w *= np.sqrt(2.0 / (c_in * k * k))
    return w


class Conv2d:
    """A convolution layer: C_out filters of shape (C_in/groups, k, k), one bias each.

    w: (C_out, C_in/groups, kH, kW); b: (C_out,); stride, padding: int or (rows, columns) pair;
    groups: as in ops.conv2d (1: every filter sees every input channel).
    forward: x (N, C_in, H, W) -> (N, C_out, Ho, Wo), with ops.conv2d.
    backward: dout (N, C_out, Ho, Wo) -> dx (N, C_in, H, W), with backward.conv2d_backward
    (once per group when groups > 1: a group's filters see only its channels);
    stores dw (C_out, C_in/groups, kH, kW) and db (C_out,).
    """

    def __init__(self, w, b, stride=1, padding=0, groups=1):
        self.w, self.b = as_real_array(w, "w"), as_real_array(b, "b")
        require_axes(self.w, 4, "w", "(C_out, C_in/groups, kH, kW)")
        if self.b.shape != self.w.shape[:1]:
            raise ValueError(f"b must hold one bias per filter: expected shape ({self.w.shape[0]},), got {self.b.shape}")
        self.groups = whole_number(groups, "groups", 1)
        if self.w.shape[0] % self.groups:
            raise ValueError(f"with groups={self.groups} the {self.w.shape[0]} filters must split into "
                             f"{self.groups} equal groups, but {self.w.shape[0]} is not a multiple of {self.groups}")
        self.stride, self.padding = stride, padding
        self.dw, self.db = np.zeros_like(self.w), np.zeros_like(self.b)
        self.x = None

    def forward(self, x):
        self.x = x
        return conv2d(x, self.w, self.b, stride=self.stride, padding=self.padding, groups=self.groups)

    def backward(self, dout):
        if self.groups == 1:
            dx, self.dw[...], self.db[...] = conv2d_backward(dout, self.x, self.w, self.stride, self.padding)
            return dx
        x, dout = as_real_array(self.x, "x"), as_real_array(dout, "dout")
        channels, filters = x.shape[1] // self.groups, self.w.shape[0] // self.groups
        dx = []
        for g in range(self.groups):  # each group is an ordinary convolution of its channels by its filters
            seen, mine = slice(g * channels, (g + 1) * channels), slice(g * filters, (g + 1) * filters)
            dx_group, self.dw[mine], self.db[mine] = conv2d_backward(
                dout[:, mine], x[:, seen], self.w[mine], self.stride, self.padding)
            dx.append(dx_group)
        return np.concatenate(dx, axis=1)

    def parameters(self):
        return [(self.w, self.dw), (self.b, self.db)]

    def __repr__(self):
        C_out, depth, kH, kW = self.w.shape
        grouped = f", groups={self.groups}" if self.groups != 1 else ""
        return (f"Conv2d({depth * self.groups} -> {C_out} filters of {kH}x{kW}, stride={self.stride}, "
                f"padding={self.padding}{grouped})")


class ReLU:
    """max(x, 0), elementwise. forward: any shape -> same shape; backward: dout -> dout where x > 0."""

    def forward(self, x):
        self.x = x
        return relu(x)

    def backward(self, dout):
        return relu_backward(dout, self.x)

    def parameters(self):
        return []

    def __repr__(self):
        return "ReLU()"


class MaxPool2d:
    """Max pooling per channel. forward: (N, C, H, W) -> (N, C, Ho, Wo);
    backward: each window's gradient goes to its maximum (ties: the first in reading order)."""

    def __init__(self, size=2, stride=2):
        self.size, self.stride = size, stride

    def forward(self, x):
        self.x = x
        return max_pool2d(x, self.size, self.stride)

    def backward(self, dout):
        return max_pool2d_backward(dout, self.x, self.size, self.stride)

    def parameters(self):
        return []

    def __repr__(self):
        return f"MaxPool2d(size={self.size}, stride={self.stride})"


class Flatten:
    """(N, C, H, W) -> (N, C*H*W): each image's maps laid out in one row; backward reshapes back."""

    def forward(self, x):
        self.input_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.input_shape)

    def parameters(self):
        return []

    def __repr__(self):
        return "Flatten()"


class Linear:
    """A fully connected layer, y = x @ w.T + b.

    w: (n_out, n_in); b: (n_out,).
    forward: x (N, n_in) -> (N, n_out); backward: dout (N, n_out) -> dx (N, n_in),
    stores dw (n_out, n_in) and db (n_out,).
    """

    def __init__(self, w, b):
        self.w, self.b = as_real_array(w, "w"), as_real_array(b, "b")
        require_axes(self.w, 2, "w", "(n_out, n_in)")
        if self.b.shape != self.w.shape[:1]:
            raise ValueError(f"b must hold one bias per output: expected shape ({self.w.shape[0]},), got {self.b.shape}")
        self.dw, self.db = np.zeros_like(self.w), np.zeros_like(self.b)
        self.x = None

    def forward(self, x):
        x = as_real_array(x, "x")
        require_axes(x, 2, "x", "(N, n_in)", "Put a Flatten() before the Linear layer.")
        if x.shape[1] != self.w.shape[1]:
            raise ValueError(
                f"this Linear layer takes {self.w.shape[1]} numbers per image (w has shape {self.w.shape}), "
                f"but x has {x.shape[1]} (shape {x.shape})"
            )
        self.x = x
        return x @ self.w.T + self.b

    def backward(self, dout):
        dx, self.dw[...], self.db[...] = linear_backward(dout, self.x, self.w)
        return dx

    def parameters(self):
        return [(self.w, self.dw), (self.b, self.db)]

    def __repr__(self):
        return f"Linear({self.w.shape[1]} -> {self.w.shape[0]})"


class Sequential:
    """Layers run one after the other: forward from the first, backward from the last.

    layers: a list of layer objects (Conv2d, ReLU, MaxPool2d, Flatten, Linear).
    """

    def __init__(self, layers):
        self.layers = list(layers)

    @classmethod
    def from_specs(cls, specs, input_shape, rng, dtype=np.float32):
        """Build a network from conv_lib.models layer specs, He-initialised with models.init_params.

        specs: e.g. models.tiny_vgg(); input_shape: (C, H, W) of one image;
        rng: a numpy Generator (the same seed gives the same weights).
        """
        parameters = iter(models.init_params(specs, input_shape, rng, dtype))
        layers = []
        for spec in specs:
            kind = spec[0]
            if kind == "conv":
                _, _, stride, padding, groups = models.conv_spec(spec)
                layers.append(Conv2d(*next(parameters), stride=stride, padding=padding, groups=groups))
            elif kind == "relu":
                layers.append(ReLU())
            elif kind == "pool":
                layers.append(MaxPool2d(spec[1], spec[2]))
            elif kind == "flatten":
                layers.append(Flatten())
            else:  # "linear": init_params has checked every spec
                layers.append(Linear(*next(parameters)))
        return cls(layers)

    def forward(self, x):
        """x: (N, C, H, W) -> the last layer's output, (N, classes) for a classifier."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        """dout: the gradient with respect to forward's output -> the one with respect to its input."""
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def parameters(self):
        return [pair for layer in self.layers for pair in layer.parameters()]

    def __repr__(self):
        return "Sequential(\n" + "".join(f"  {layer!r},\n" for layer in self.layers) + ")"


def softmax_cross_entropy(scores, labels):
    """The classification loss: the mean over images of -log(probability of the right class).

    probabilities = softmax(scores) = exp(scores) / sum(exp(scores)) per image, computed
    after subtracting each image's largest score (the same probabilities; exp never overflows).

    scores: (N, classes) the network's outputs; labels: (N,) whole numbers in 0..classes-1.
    Returns (loss, dscores): loss a Python float, dscores (N, classes) its gradient,
    (probabilities - one_hot(labels)) / N, in the dtype of scores.
    """
    scores = as_real_array(scores, "scores")
    require_axes(scores, 2, "scores", "(N, classes)")
    labels = np.asarray(labels)
    if labels.shape != scores.shape[:1]:
        raise ValueError(f"labels must hold one class per image: expected shape ({scores.shape[0]},), got {labels.shape}")
    if labels.size and (labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= scores.shape[1]):
        raise ValueError(f"labels must be whole numbers from 0 to {scores.shape[1] - 1} (one per class), got {labels!r}")
    N = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)  # largest score 0: exp() stays <= 1
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probabilities[np.arange(N), labels].mean()
    dscores = np.exp(log_probabilities)
    dscores[np.arange(N), labels] -= 1
    dscores /= N
    return float(loss), dscores


class SGD:
    """Stochastic gradient descent with momentum (the PyTorch form) and optional weight decay.

    For each (value, gradient) pair, step() does
        g = gradient + weight_decay * value
        velocity = momentum * velocity + g        (velocity starts at 0)
        value -= lr * velocity
    in place, on every parameter (biases too). With momentum 0 it is plain gradient descent.

    parameters: a list of (value, gradient) pairs, e.g. model.parameters().
    """

    def __init__(self, parameters, lr, momentum=0.9, weight_decay=0.0):
        self.parameters = list(parameters)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.velocities = [np.zeros_like(value) for value, _ in self.parameters]

    def step(self):
        """Move every parameter a step against its (momentum-smoothed) gradient."""
        for (value, gradient), velocity in zip(self.parameters, self.velocities):
            g = gradient + self.weight_decay * value if self.weight_decay else gradient
            velocity *= self.momentum
            velocity += g
            value -= self.lr * velocity

    def zero_grad(self):
        """Set every gradient to zero (not needed between steps: each backward overwrites them)."""
        for _, gradient in self.parameters:
            gradient[...] = 0
