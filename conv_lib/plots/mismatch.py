"""The picture every notebook's checks draw when an answer is wrong: the expected output versus yours.

    show_mismatch           where a learner's output differs from the expected one
    first_wrong_position    (no picture) the first index where two arrays differ
"""

import numpy as np

from ..checks import as_real_array
from .common import _grid, _new_figure, _outline, _wrapped_title, format_number, symmetric_limit

#: The width (inches) of show_mismatch's figures, and its headline's font size (points).
MISMATCH_WIDTH, SHAPE_MISMATCH_WIDTH, HEADLINE_FONTSIZE = 9.5, 8.0, 12


def first_wrong_position(expected, given, rtol=1e-6):
    """The first index, in C order (row by row), where ``given`` differs from ``expected``; None if none does.

    expected, given: arrays of the same shape, e.g. (H, W) or (C, H, W).
    A value counts as wrong when |given - expected| > rtol * (1 + |expected|), or
    when it is NaN or infinite where the expected value is not the same.
    Returns a tuple of ints (one per axis), or None when every value is right.
    Raises ValueError when the shapes differ (then no position compares): the
    message names both shapes.

    >>> first_wrong_position([[1, 2], [3, 4]], [[1, 2], [3, 4]]) is None
    True
    >>> first_wrong_position([[1, 2], [3, 4]], [[1, 2], [5, 4]])
    (1, 0)
    """
    expected, given = as_real_array(expected, "expected"), as_real_array(given, "given")
    if expected.shape != given.shape:
        raise ValueError(
            f"expected and given must have the same shape to compare them value by value: "
            f"expected has shape {expected.shape}, given has shape {given.shape}"
        )
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(given - expected) <= rtol * (1 + np.abs(expected))
    same_special = (expected == given) | (np.isnan(expected) & np.isnan(given))  # inf == inf, nan where nan expected
    wrong = np.flatnonzero(~(close | same_special))
    if wrong.size == 0:
        return None
    return tuple(int(i) for i in np.unravel_index(wrong[0], expected.shape))


def _position_words(index):
    """(1, 2) -> "row 1, column 2"; (0, 1, 2) -> "channel 0, row 1, column 2"."""
    names = ("row", "column") if len(index) == 2 else ("channel", "row", "column")
    return ", ".join(f"{name} {value}" for name, value in zip(names, index))


def show_mismatch(expected, given, title=None):
    """Show where a learner's output differs from the expected one.

    expected, given: (H, W) or (C, H, W) arrays.
    Same shape: one row of three panels per channel (at most 4 channels):
    "expected", "your output" and "difference (yours − expected)", with numbers
    written in when a map has at most 49 cells; the first wrong value (see
    first_wrong_position) is outlined in red on all three panels of its channel
    and named in the title, e.g. "first wrong value at (row 1, column 2): expected 7, got 5".
    Different shapes: the two arrays side by side (the first channel of each
    when they have 3 axes), with a title naming both shapes.
    Colour scales: "expected" and "your output" panels, all channels, on one
    scale centred on 0, -m..m (m the largest absolute value among them); the
    differences on one scale of their own, -d..d.
    title: an extra first line for the figure title, e.g. a check's headline.
    The whole title is wrapped at spaces to the figure's width (9.5 inches; 8
    for different shapes), so a long headline takes several lines and the
    figure keeps its width.
    Returns the Figure.
    """
    expected, given = as_real_array(expected, "expected"), as_real_array(given, "given")
    for array, name in ((expected, "expected"), (given, "given")):
        if array.ndim not in (2, 3):
            raise ValueError(f"{name} must be a map (H, W) or maps (C, H, W), but it has shape {array.shape}")
    if expected.shape != given.shape:
        return _show_shape_mismatch(expected, given, title)

    wrong = first_wrong_position(expected, given)
    three_axes = expected.ndim == 3
    expected3, given3 = (expected, given) if three_axes else (expected[None], given[None])
    C = expected3.shape[0]
    channels = list(range(min(C, 4)))
    if wrong is not None and three_axes and wrong[0] not in channels:
        channels = channels[:3] + [wrong[0]]
    difference = given3 - expected3
    value_limit = symmetric_limit(expected3[channels], given3[channels])
    difference_limit = symmetric_limit(difference[channels])
    annotate = expected3.shape[1] * expected3.shape[2] <= 49
    aspect = expected3.shape[1] / expected3.shape[2]
    fig = _new_figure(MISMATCH_WIDTH, min(2.8 * aspect, 4.0) * len(channels) + 0.9)
    axes = fig.subplots(len(channels), 3, squeeze=False)
    for row, c in enumerate(channels):
        prefix = f"channel {c}: " if three_axes else ""
        panels = (
            (expected3[c], "expected", value_limit, "expected"),
            (given3[c], "your output", value_limit, "given"),
            (difference[c], "difference (yours − expected)", difference_limit, "difference"),
        )
        for ax, (array, name, limit, label) in zip(axes[row], panels):
            _grid(ax, array, prefix + name, "RdBu_r", annotate, -limit, limit)
            ax.set_label(f"{label} {c}" if three_axes else label)
            if wrong is not None and (not three_axes or wrong[0] == c):
                _outline(ax, wrong[-2], wrong[-1], colour="red")
    if wrong is None:
        verdict = "all values match"
    else:
        verdict = (
            f"first wrong value at ({_position_words(wrong)}): "
            f"expected {format_number(expected[wrong])}, got {format_number(given[wrong])}"
        )
    _headline(fig, verdict, title)
    return fig


def _headline(fig, verdict, title):
    """The figure's title: ``title`` (if any) over ``verdict``, wrapped to the figure's width; the figure
    grows taller (never wider) by one line's height for each line past the two its height allows for."""
    text = _wrapped_title(verdict if title is None else f"{title}\n{verdict}", fig.get_figwidth() - 0.4,
                          HEADLINE_FONTSIZE)
    fig.suptitle(text, fontsize=HEADLINE_FONTSIZE)
    extra_lines = max(text.count("\n") - 1, 0)
    fig.set_figheight(fig.get_figheight() + extra_lines * 1.25 * HEADLINE_FONTSIZE / 72)


def _show_shape_mismatch(expected, given, title):
    """show_mismatch for arrays of different shapes: both side by side, cells of one size, their shapes in the title."""
    firsts = [array[0] if array.ndim == 3 else array for array in (expected, given)]
    rows, columns = max(f.shape[0] for f in firsts), max(f.shape[1] for f in firsts)
    fig = _new_figure(SHAPE_MISMATCH_WIDTH, min(3.6 * rows / columns, 5.0) + 0.9)
    axes = fig.subplots(1, 2)
    limit = symmetric_limit(*firsts)
    for ax, array, first, name in zip(axes, (expected, given), firsts, ("expected", "your output")):
        part = " (channel 0)" if array.ndim == 3 else ""
        _grid(ax, first, f"{name}{part}\nshape {array.shape}", "RdBu_r", first.size <= 49, -limit, limit)
        ax.set_xlim(-0.5, columns - 0.5)  # the same cell size in both panels: the smaller array looks smaller
        ax.set_ylim(rows - 0.5, -0.5)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_label("expected" if name == "expected" else "given")
    verdict = f"shapes differ: expected {expected.shape}, got {given.shape}"
    _headline(fig, verdict, title)
    return fig
