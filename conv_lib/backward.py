"""Backward passes: how the loss's gradient flows back through each layer.

A layer's forward pass turns an input into an output. Its backward pass gets
``dout``, the gradient of the loss with respect to that output (same shape as
the output), and returns the gradient with respect to the input (``dx``, same
shape as the input) and, for layers with weights, with respect to the weights
(``dw``, ``db``, same shapes as ``w`` and ``b``). A training step moves the
weights a little against ``dw`` and ``db``; ``dx`` becomes the ``dout`` of the
layer before.

The channel-summing rule, backwards. In the forward pass filter ``f``'s channel
``c`` meets only input channel ``c``, and the C_in responses are summed into map
``f``. So, backwards:

- ``dw[f, c]`` is the cross-correlation of input channel ``c`` with map ``f``'s
  gradient ``dout[:, f]`` (summed over the batch): it depends on nothing else;
- ``db[f]`` is ``dout[:, f].sum()``: the bias was added at every position of map f;
- ``dx[n, c]`` collects filter channel ``w[f, c]`` from *every* filter ``f``,
  each spread out by map f's gradient: an input channel fed all C_out maps.

Layouts (as in ``conv_lib.ops``):

    x:    (N, C_in, H, W)          the layer's input
    w:    (C_out, C_in, kH, kW)    the filters
    dout: (N, C_out, Ho, Wo)       the gradient of the loss with respect to the output
    dx:   (N, C_in, H, W), dw: (C_out, C_in, kH, kW), db: (C_out,)

As in ``ops``, each operation comes twice where it matters: a readable
reference version whose loops say the rule out loud, and a fast version of
matrix products; the tests prove that both agree with each other, with
scipy, and with numerical gradients (``conv_lib.gradcheck``). Results are
float32 when every input is float32, float64 otherwise.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .checks import as_real_array, common_float_dtype, require_axes
from .ops import _conv2d_arguments, _pool_arguments, _window_slices, pad2d


# --------------------------------------------------------------------------
# Checking dout: it must have the shape the forward pass gave
# --------------------------------------------------------------------------


def _check_dout(dout, expected_shape, layer, layout):
    """dout as a float array, after checking it has the shape of the layer's output.

    expected_shape: the forward output's shape for this input, e.g. (N, C_out, Ho, Wo).
    layer:          the layer's name in the message, e.g. "conv2d".
    layout:         the output's layout in words, e.g. "(N, C_out, Ho, Wo)".
    """
    dout = as_real_array(dout, "dout")
    if dout.shape != tuple(expected_shape):
        raise ValueError(
            f"dout must have the shape of {layer}'s output {layout}: expected {tuple(expected_shape)} "
            f"for this input, got {dout.shape}. dout is the gradient of the loss with respect to "
            f"the layer's output, so it has one number per output number."
        )
    return dout


def _conv2d_backward_arguments(dout, x, w, stride, padding):
    """Check a conv2d backward call once for both versions.

    Returns dout, x, w in one float dtype, the (rows, columns) pairs stride and
    padding, and the forward output's (Ho, Wo).
    """
    x, w, _, stride, padding, _, (Ho, Wo) = _conv2d_arguments(x, w, None, stride, padding, 1)
    dout = _check_dout(dout, (x.shape[0], w.shape[0], Ho, Wo), "conv2d", "(N, C_out, Ho, Wo)")
    dtype = common_float_dtype(dout, x, w)
    dout, x, w = (array.astype(dtype, copy=False) for array in (dout, x, w))
    return dout, x, w, stride, padding, (Ho, Wo)


def _unpad(x_padded, padding):
    """The inside of a padded array: drop ``padding`` rows and columns on each side.

    x_padded: (..., H + 2*pad_rows, W + 2*pad_columns) -> (..., H, W).
    """
    rows, columns = x_padded.shape[-2:]
    return x_padded[..., padding[0] : rows - padding[0], padding[1] : columns - padding[1]]


# --------------------------------------------------------------------------
# conv2d: reference and fast
# --------------------------------------------------------------------------


def conv2d_backward_reference(dout, x, w, stride=1, padding=0):
    """Readable conv2d backward: loops that undo the channel-summing rule.

    In the forward pass, output number ``y[n, f, i, j]`` is the sum over
    channels ``c`` and taps ``(u, v)`` of ``window[c, u, v] * w[f, c, u, v]``,
    plus ``b[f]``. So each output number's gradient ``g = dout[n, f, i, j]``
    flows back, channel by channel:

    - to filter channel ``w[f, c]``: ``g`` times input channel c's window;
    - to input channel c's window: ``g`` times filter channel ``w[f, c]``
      (summed over every filter f: each filter read the input);
    - to the bias ``b[f]``: ``g`` itself.

    dout: (N, C_out, Ho, Wo)  the gradient of the loss with respect to conv2d(x, w, b, stride, padding).
    x:    (N, C_in, H, W)     the forward pass's input.
    w:    (C_out, C_in, kH, kW).
    stride, padding: int or (rows, columns) pair, as in the forward pass.
    Returns (dx, dw, db): dx (N, C_in, H, W), dw (C_out, C_in, kH, kW), db (C_out,).
    Slow: for small arrays and for checking conv2d_backward. (No dilation: the course's layers use none.)
    """
    dout, x, w, stride, padding, (Ho, Wo) = _conv2d_backward_arguments(dout, x, w, stride, padding)
    N, C_in = x.shape[:2]
    C_out, _, kH, kW = w.shape
    x_padded = pad2d(x, padding)
    dx_padded = np.zeros_like(x_padded)  # the gradient reaches the padding too; it is cut off at the end
    dw = np.zeros_like(w)
    db = np.zeros(C_out, dtype=w.dtype)
    for n in range(N):
        for f in range(C_out):
            for i in range(Ho):
                for j in range(Wo):
                    g = dout[n, f, i, j]  # how much the loss changes per unit of this output number
                    top, left = i * stride[0], j * stride[1]
                    rows, columns = slice(top, top + kH), slice(left, left + kW)
                    for c in range(C_in):  # filter channel c met input channel c, and only it
                        dw[f, c] += g * x_padded[n, c, rows, columns]
                        dx_padded[n, c, rows, columns] += g * w[f, c]
                    db[f] += g  # the bias was added once per output position
    return _unpad(dx_padded, padding), dw, db


def conv2d_backward(dout, x, w, stride=1, padding=0):
    """Fast conv2d backward: the same numbers as conv2d_backward_reference, as two matrix products.

    As in the fast forward pass (im2col), the input windows of every output
    position are copied into a matrix ``columns: (C_in*kH*kW, N*Ho*Wo)``, one
    column per output position; the gradients become
    ``dout_matrix: (C_out, N*Ho*Wo)``, one row per filter. Then

        dw = dout_matrix @ columns.T                  (C_out, C_in*kH*kW)
        d_columns = w_matrix.T @ dout_matrix          (C_in*kH*kW, N*Ho*Wo)

    and d_columns goes back into the image's shape (col2im): for each of the
    kH*kW taps (u, v), its rows are added to the input positions that tap
    touched, ``dx_padded[:, :, u::stride, v::stride] += d_columns[tap (u, v)]``;
    overlapping windows add up.

    dout: (N, C_out, Ho, Wo); x: (N, C_in, H, W); w: (C_out, C_in, kH, kW).
    stride, padding: int or (rows, columns) pair, as in the forward pass.
    Returns (dx, dw, db): dx (N, C_in, H, W), dw (C_out, C_in, kH, kW), db (C_out,).
    Extra memory: ``columns`` and ``d_columns``, each C_in*kH*kW times the output of one filter map per image.
    No dilation, as in conv2d_backward_reference.
    """
    dout, x, w, stride, padding, (Ho, Wo) = _conv2d_backward_arguments(dout, x, w, stride, padding)
    N, C_in = x.shape[:2]
    C_out, _, kH, kW = w.shape
    taps = C_in * kH * kW
    x_padded = pad2d(x, padding)

    dout_matrix = dout.transpose(1, 0, 2, 3).reshape(C_out, N * Ho * Wo)  # one row per filter
    db = dout_matrix.sum(axis=1)

    windows = sliding_window_view(x_padded, (kH, kW), axis=(2, 3))  # (N, C_in, rows, columns, kH, kW)
    windows = windows[:, :, :: stride[0], :: stride[1]][:, :, :Ho, :Wo]  # (N, C_in, Ho, Wo, kH, kW)
    columns = windows.transpose(1, 4, 5, 0, 2, 3).reshape(taps, N * Ho * Wo)  # the im2col copy
    dw = (dout_matrix @ columns.T).reshape(w.shape)

    w_matrix = w.reshape(C_out, taps)  # one row per filter
    d_columns = (w_matrix.T @ dout_matrix).reshape(C_in, kH, kW, N, Ho, Wo)
    dx_padded = np.zeros((C_in, N) + x_padded.shape[2:], dtype=x.dtype)  # laid out as d_columns: (C_in, N, ...)
    for u in range(kH):
        for v in range(kW):  # tap (u, v) touched rows u, u + stride, ... and columns v, v + stride, ...
            tap_rows = slice(u, u + stride[0] * (Ho - 1) + 1, stride[0])
            tap_columns = slice(v, v + stride[1] * (Wo - 1) + 1, stride[1])
            dx_padded[:, :, tap_rows, tap_columns] += d_columns[:, u, v]
    dx = np.ascontiguousarray(_unpad(dx_padded, padding).transpose(1, 0, 2, 3))
    return dx, dw, db


# --------------------------------------------------------------------------
# Max pooling: reference and fast
# --------------------------------------------------------------------------
#
# Only the window's maximum reached the output, so only it gets the gradient;
# the other numbers in the window did not matter (a small change to them
# changes nothing). When several numbers tie for the maximum, the FIRST one in
# reading order (row by row, left to right within the window) gets all of it,
# as np.argmax picks. Where windows overlap (stride < size), an input number
# that is the maximum of several windows collects the gradient of each.


def _max_pool2d_backward_arguments(dout, x, size, stride):
    x, size, stride, (Ho, Wo) = _pool_arguments(x, size, stride)
    dout = _check_dout(dout, x.shape[:2] + (Ho, Wo), "max_pool2d", "(N, C, Ho, Wo)")
    dtype = common_float_dtype(dout, x)
    return dout.astype(dtype, copy=False), x.astype(dtype, copy=False), size, stride, (Ho, Wo)


def max_pool2d_backward_reference(dout, x, size=2, stride=2):
    """Readable max-pool backward: each window's gradient goes to the window's maximum.

    Ties: the first maximum in reading order (np.argmax) gets the gradient.
    Overlapping windows add their gradients up.

    dout: (N, C, Ho, Wo) the gradient with respect to max_pool2d(x, size, stride).
    x:    (N, C, H, W)   the forward pass's input.
    size, stride: int or (rows, columns) pair, as in the forward pass.
    Returns dx: (N, C, H, W), zero except at the windows' maxima.
    """
    dout, x, size, stride, (Ho, Wo) = _max_pool2d_backward_arguments(dout, x, size, stride)
    N, C = x.shape[:2]
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):  # pooling never mixes channels, backwards either
            for i in range(Ho):
                for j in range(Wo):
                    top, left = i * stride[0], j * stride[1]
                    window = x[n, c, top : top + size[0], left : left + size[1]]
                    u, v = np.unravel_index(np.argmax(window), window.shape)  # the first maximum
                    dx[n, c, top + u, left + v] += dout[n, c, i, j]
    return dx


def max_pool2d_backward(dout, x, size=2, stride=2):
    """Fast max-pool backward: the same numbers as max_pool2d_backward_reference.

    Goes over the size*size offsets (u, v) inside the window in reading order;
    the strided view ``x[:, :, u::stride, v::stride]`` holds, for every window
    at once, the number at that offset. Where it equals the window's maximum
    and no earlier offset was the maximum (ties: the first in reading order
    wins), the window's gradient is added at that place.

    dout: (N, C, Ho, Wo); x: (N, C, H, W); size, stride: int or (rows, columns) pair.
    Returns dx: (N, C, H, W).
    """
    dout, x, size, stride, out_shape = _max_pool2d_backward_arguments(dout, x, size, stride)
    maxima = None
    for view in _window_slices(x, size, stride, out_shape):
        maxima = view.copy() if maxima is None else np.maximum(maxima, view)
    dx = np.zeros_like(x)
    not_yet_routed = np.ones(dout.shape, dtype=bool)  # windows whose maximum was not found yet
    for view, dx_view in zip(_window_slices(x, size, stride, out_shape), _window_slices(dx, size, stride, out_shape)):
        here = (view == maxima) & not_yet_routed
        dx_view += np.where(here, dout, 0)  # one window per element of the view: no two collide
        not_yet_routed &= ~here
    return dx


# --------------------------------------------------------------------------
# ReLU and fully connected layers
# --------------------------------------------------------------------------


def relu_backward(dout, x):
    """ReLU backward: the gradient passes where the input was positive, and stops elsewhere.

    relu(x) = max(x, 0) has slope 1 where x > 0 and slope 0 where x <= 0
    (at exactly 0 the slope is taken as 0).

    dout: the gradient with respect to relu(x), the same shape as x.
    x:    the forward pass's input, any shape.
    Returns dx, the same shape as x: dout where x > 0, else 0.
    """
    x = as_real_array(x, "x")
    dout = _check_dout(dout, x.shape, "relu", "(the input's shape)")
    dtype = common_float_dtype(dout, x)
    return np.where(x > 0, dout, 0).astype(dtype, copy=False)


def linear_backward(dout, x, w):
    """Fully connected layer backward, for y = x @ w.T + b.

    y[n, o] = sum over i of x[n, i] * w[o, i], plus b[o], so
    dx = dout @ w, dw = dout.T @ x (summed over the batch), db = dout summed over the batch.

    dout: (N, n_out) the gradient with respect to y.
    x:    (N, n_in)  the forward pass's input (flattened images).
    w:    (n_out, n_in).
    Returns (dx, dw, db): dx (N, n_in), dw (n_out, n_in), db (n_out,).
    """
    x, w = as_real_array(x, "x"), as_real_array(w, "w")
    require_axes(x, 2, "x", "(N, n_in)", "Flatten the images first: x.reshape(len(x), -1).")
    require_axes(w, 2, "w", "(n_out, n_in)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(
            f"w must have one column per input number: x has {x.shape[1]} numbers per image "
            f"(shape {x.shape}), so w must have shape (n_out, {x.shape[1]}); got {w.shape}"
        )
    dout = _check_dout(dout, (x.shape[0], w.shape[0]), "the linear layer", "(N, n_out)")
    dtype = common_float_dtype(dout, x, w)
    dout, x, w = (array.astype(dtype, copy=False) for array in (dout, x, w))
    return dout @ w, dout.T @ x, dout.sum(axis=0)
