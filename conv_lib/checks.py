"""Input checks that explain themselves.

Every public operation in ``conv_lib`` validates its arguments here, so that a
learner who passes the wrong thing reads what was expected and what they gave,
in the words of the course (channels, filters, kernel, padding), instead of a
numpy broadcasting error deep inside the computation.
"""

import numbers

import numpy as np


def as_real_array(value, name):
    """Return ``value`` as a floating numpy array, or explain why it cannot be one.

    float32 arrays stay float32 and float64 stays float64; integers, booleans
    and nested lists become float64, so small hand-written examples just work.

    value: anything ``np.asarray`` accepts, e.g. a nested list of numbers.
    name:  how the argument is called in the error message, e.g. ``"x"``.
    Returns an ndarray of dtype float32 or float64 (same shape as ``value``).
    """
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{name} must be an array of numbers; could not turn it into one ({error})"
        ) from None
    if array.dtype == object and array.ndim >= 1:
        raise ValueError(
            f"{name} must be a rectangular array of numbers, but its rows have different "
            f"lengths or hold non-numbers (numpy could only make an object array of shape {array.shape})"
        )
    if array.dtype.kind == "c":
        raise ValueError(f"{name} must hold real numbers, got complex numbers (dtype {array.dtype})")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers, got dtype {array.dtype} (e.g. strings or objects)")
    if array.dtype in (np.float32, np.float64):
        return array
    return array.astype(np.float64)


def common_float_dtype(*arrays):
    """float32 when every given array is float32, otherwise float64.

    arrays: ndarrays (``None`` entries are skipped).
    """
    present = [a for a in arrays if a is not None]
    if present and all(a.dtype == np.float32 for a in present):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def require_axes(array, axes, name, layout, hint=""):
    """Raise unless ``array`` has exactly ``axes`` axes.

    layout: the expected layout in words, e.g. ``"(N, C_in, H, W)"``.
    hint:   an extra sentence, e.g. how to add a missing batch axis.
    """
    if array.ndim != axes:
        message = (
            f"{name} must have {axes} axes {layout}, "
            f"but it has {array.ndim} (shape {array.shape})."
        )
        raise ValueError(f"{message} {hint}".rstrip())


def whole_number(value, name, minimum):
    """Return ``value`` as an int, checking it is a whole number >= minimum.

    minimum: 1 for sizes, strides and dilations; 0 for padding.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a whole number, got {value!r} ({type(value).__name__})")
    if value < minimum:
        kind = "a positive integer (1 or more)" if minimum == 1 else "zero or more"
        raise ValueError(f"{name} must be {kind}, got {value}")
    return int(value)


def pair(value, name, minimum):
    """Turn an int or a pair of ints into a pair ``(rows, columns)``, checking each is >= minimum.

    value:   an int, or a tuple/list of two ints (one for rows, one for columns).
    minimum: 1 for stride, dilation, kernel and pool sizes; 0 for padding.
    Returns a tuple ``(int, int)``.
    """
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be one int or a pair (rows, columns), got {len(value)} values: {tuple(value)}"
            )
        rows, columns = value
    else:
        rows = columns = value
    return whole_number(rows, name, minimum), whole_number(columns, name, minimum)
