"""Gradient checking: is a backward pass right? Compare it with finite differences.

A gradient says how much a scalar (the loss) changes when one input number
moves a little. That can be measured without any calculus: nudge the number
by +eps and by -eps, evaluate twice, and take the slope

    numerical[i] = (f(x + eps*e_i) - f(x - eps*e_i)) / (2*eps)      (central differences)

It is slow (two evaluations per input number) but hard to get wrong, so it is
the referee for every backward pass in the course.

How close is close enough? Both sides are compared with the relative error

    error[i] = |analytic[i] - numerical[i]| / max(|analytic[i]| + |numerical[i]|, tiny)

and gradcheck returns the largest error[i]. In float64 with eps = 1e-6:

    < 1e-7     the backward pass is right;
    1e-7..1e-3 look closer (relative_errors shows which elements). Usually still right:
               where a gradient is nearly 0 (say 1e-5), float64 round-off in f, about
               1e-10 in absolute terms, is a large share of it; and near a kink (ReLU at
               0, a tie in a max pool) the two slopes disagree. A whole network has both:
               a right TinyVGG gives up to a few 1e-5;
    > 1e-3     a bug.

One trap: a freshly initialised network has zero biases, so a convolution
whose window sees only zeros (padding, or ReLUs before it that output 0) gives
exactly its bias, 0: the next ReLU's kink itself. There the numerical slope is
1/2 and the backward pass's 0 looks wrong. Check networks with random biases.

Always check in float64: float32 has only about 7 significant digits, and
(f(x + eps) - f(x - eps)) then loses most of them.

numpy only.
"""

import numpy as np

from .checks import as_real_array

#: The smallest denominator of the relative error: a place where both the
#: analytic and the numerical gradient are (nearly) zero compares their
#: difference in absolute terms instead of dividing by almost nothing.
TINY = 1e-10


def numerical_gradient(f, x, eps=1e-6):
    """The gradient of a scalar function, measured by central differences.

    numerical[i] = (f(x + eps*e_i) - f(x - eps*e_i)) / (2*eps), one input number at a time.

    f:   a function of one array returning a scalar (a Python or numpy number).
    x:   any shape; it is copied to float64 and nudged there, x itself is not changed.
    eps: the nudge (1e-6 suits float64).
    Returns the gradient, float64, the same shape as x. Costs 2 * x.size calls of f.
    """
    x = as_real_array(x, "x").astype(np.float64)  # always a fresh float64 copy
    gradient = np.zeros_like(x)
    flat_x, flat_gradient = x.reshape(-1), gradient.reshape(-1)  # views: nudging flat_x nudges x
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        above = _scalar(f(x))
        flat_x[i] = original - eps
        below = _scalar(f(x))
        flat_x[i] = original
        flat_gradient[i] = (above - below) / (2 * eps)
    return gradient


def _scalar(value):
    """A function's value as a Python float, or a clear error if it is not one number."""
    array = np.asarray(value)
    if array.size != 1:
        raise ValueError(
            f"the function must return one number (a scalar such as the loss), got an array of shape {array.shape}"
        )
    return float(array.reshape(()))


def relative_errors(analytic, numerical, tiny=TINY):
    """|analytic - numerical| / max(|analytic| + |numerical|, tiny), elementwise.

    analytic, numerical: arrays of the same shape. Returns float64 of that shape, each in [0, 1].
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numerical = np.asarray(numerical, dtype=np.float64)
    return np.abs(analytic - numerical) / np.maximum(np.abs(analytic) + np.abs(numerical), tiny)


def gradcheck(f, x, eps=1e-6, tiny=TINY):
    """The largest relative error between a function's own gradient and the numerical one.

    f:   a function of one array returning (value, gradient): value a scalar, gradient
         an array shaped like x, e.g. the loss of a layer and its backward pass's result.
    x:   any shape; checked in float64 (see the module's doc), x itself is not changed.
    eps: the nudge of the central differences.
    tiny: the smallest denominator (see relative_errors).
    Returns max over i of |a_i - n_i| / max(|a_i| + |n_i|, tiny), with a = f(x)[1], n = the
    numerical gradient: a float in [0, 1]. Below 1e-7 the gradient is right; above 1e-3, a bug.

    >>> import numpy as np
    >>> square = lambda x: (np.sum(x ** 2), 2 * x)          # right: d(x^2)/dx = 2x
    >>> gradcheck(square, np.array([1.0, -2.0, 3.0])) < 1e-7
    True
    >>> wrong = lambda x: (np.sum(x ** 2), x)               # the 2 forgotten
    >>> round(gradcheck(wrong, np.array([1.0, -2.0, 3.0])), 3)
    0.333
    """
    x = as_real_array(x, "x").astype(np.float64)
    value, analytic = f(x.copy())
    _scalar(value)
    analytic = np.asarray(analytic)
    if analytic.shape != x.shape:
        raise ValueError(
            f"the function must return (value, gradient) with the gradient shaped like x: "
            f"expected {x.shape}, got {analytic.shape}"
        )
    numerical = numerical_gradient(lambda z: f(z)[0], x, eps)
    return float(relative_errors(analytic, numerical, tiny).max(initial=0.0))
