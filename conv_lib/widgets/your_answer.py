"""Your function at work: the explorer opened on the case where a learner's function goes wrong.

    import conv_lib.widgets; conv_lib.widgets.explore(conv2d_multi_in)

A visible check's message for a wrong map of corr2d, conv2d_multi_in,
conv2d_multi_out or conv2d ends with that line (conv_lib.diagnose's
explore_line). explore(function) finds the exercise by the function's name,
runs its visible check again (seed 0, no picture) on a wrapper that records
each call, and takes the check's first wrong case: the call whose answer is the
one the check's message is about (error.given); without one, the first call
whose answer differs from the rule; when the check passes, its first case.
conv_lib.diagnose's EXPLORABLE table turns that call into one batch
convolution x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,), stride,
padding, and the learner's answer gets leading axes up to (N, C_out, Ho, Wo).
The rule's values come from conv_lib.ops.conv2d_reference, the products from
the window itself.

The widget (AnswerExplorer) starts with the window on the first wrong value,
in C order over (image, filter, row, column): sliders for the image (N > 1),
the filter (C_out > 1), the window's row and column, a button "next wrong
value", and the picture (AnswerPicture, in your_answer_picture.py): each input
channel with the window, the filter's channels, the products with their sums,
the rule's map beside the learner's (every wrong cell marked) and their
difference. Its lines write the rule's sum out channel by channel with the
learner's value beside it, and count the wrong values. When the shapes differ,
both are said and the maps are compared where both have a position.

Never inside grading: with NBGRADER_EXECUTION set (nbgrader validating or
grading), explore prints one line and returns None without calling the
function. It shows small cases only (the visible checks' always are).
"""

import functools
import html
import inspect
import os

import ipywidgets as widgets
import numpy as np

from .. import diagnose
from ..diagnose.verdict import EXPLORABLE, explore_line
from ..ops import conv2d_reference, pad2d
from ..plots import format_factor, format_number
from .explorer import RedrawnOnChange
from .your_answer_picture import AnswerPicture

#: The largest case explore shows: images, channels, filters, a padded side, a kernel side, answer values.
MAX_IMAGES, MAX_CHANNELS, MAX_FILTERS, MAX_SIDE, MAX_KERNEL, MAX_ANSWER = 4, 6, 8, 24, 7, 4096
#: What explore says, and returns None after, while nbgrader runs the notebook.
NOT_WHILE_GRADING = "explore opens only in an interactive notebook: nbgrader is running this one, so it is skipped."
#: Answers within this of the rule's are the same (as the checks' verdict.close).
TOLERANCE = 1e-6


# --------------------------------------------------------------------------
# The case: one call of the learner's function beside the rule
# --------------------------------------------------------------------------


def as_four_axes(answer):
    """The learner's answer as (N, C_out, Ho, Wo): missing leading axes of length one added, extra ones folded."""
    answer = np.array(answer, dtype=float)
    if answer.ndim > 4:
        answer = answer.reshape((-1,) + answer.shape[-3:])
    return answer.reshape((1,) * (4 - answer.ndim) + answer.shape)


class AnswerCase:
    """One call of the learner's function as a batch convolution, the rule's answer beside the learner's.

    name: the function's name; arguments: its call's arguments by name (the adapter's parameters);
    x, w, b, stride, padding: the batch convolution (EXPLORABLE); answer: the learner's answer as
    returned (its own shape); given, expected: the learner's and the rule's (N, C_out, Ho, Wo);
    wrong: (k, 4) the positions, in C order, where both have a value and they differ;
    compared: how many positions both have; verdict: the check's message (None: it passed).
    """

    def __init__(self, name, args, kwargs, answer, verdict=None):
        self.name, self.verdict = name, verdict
        self.explorable = EXPLORABLE[name]
        bound = inspect.signature(self.explorable.as_batch).bind(*args, **kwargs)
        self.arguments = dict(bound.arguments)
        x, w, b, stride, padding = self.explorable.as_batch(*args, **kwargs)
        self.x, self.w = np.array(x, dtype=float), np.array(w, dtype=float)
        self.b, self.stride, self.padding = np.array(b, dtype=float).reshape(-1), int(stride), int(padding)
        self.x_names = ("x", "x[c]", "x[n, c]")[min(max(np.ndim(args[0]) - 2, 0), 2)]
        self.w_names = ("k", "w[c]", "w[f, c]")[min(max(np.ndim(args[1]) - 2, 0), 2)]
        self.answer = np.array(answer, dtype=float)
        self.given = as_four_axes(self.answer)
        self.expected = conv2d_reference(self.x, self.w, self.b, stride=self.stride, padding=self.padding)
        self.x_padded = pad2d(self.x, self.padding)
        overlap = tuple(min(a, b) for a, b in zip(self.given.shape, self.expected.shape))
        corner = tuple(slice(0, length) for length in overlap)
        same = np.isclose(self.given[corner], self.expected[corner], rtol=TOLERANCE, atol=TOLERANCE)
        self.compared = int(np.prod(overlap))
        self.wrong = np.argwhere(~same)  # argwhere goes in C order

    # The shapes, in the function's own axes

    @property
    def own_axes(self):
        return len(self.explorable.axes)

    @property
    def rule_shape(self):
        return self.expected.shape[-self.own_axes:]

    @property
    def same_shape(self):
        return self.answer.shape == self.rule_shape

    def out(self, position):
        """'out[1, 2]': a position (n, f, i, j) in the function's own indices."""
        return "out[" + ", ".join(str(index) for index in position[-self.own_axes:]) + "]"

    def call_words(self):
        """The call as the check made it: arrays by their shape, other values as written."""
        parts = [f"{name} of shape {np.shape(value)}" if isinstance(value, np.ndarray) else f"{name}={value!r}"
                 for name, value in self.arguments.items()]
        return f"{self.name}(" + ", ".join(parts) + ")"

    # One window

    def window(self, position):
        """(C_in, kH, kW): the padded input under the window of output cell (row, column) of image n."""
        n, _, i, j = position
        kH, kW = self.w.shape[2:]
        top, left = i * self.stride, j * self.stride
        return self.x_padded[n, :, top : top + kH, left : left + kW]

    def products(self, position):
        """(C_in, kH, kW): the window times filter f's channels, channel by channel."""
        return self.window(position) * self.w[position[1]]

    def rule_value(self, position):
        return float(self.expected[tuple(position)])

    def given_value(self, position):
        """The learner's value at the position, or None when their answer has no such position."""
        if any(index >= length for index, length in zip(position, self.given.shape)):
            return None
        return float(self.given[tuple(position)])

    def is_wrong(self, position):
        return bool(len(self.wrong)) and bool((self.wrong == np.array(position)).all(axis=1).any())

    def next_wrong(self, position):
        """The first wrong position after `position` in C order, from the start again after the last; None if none."""
        later = [tuple(int(v) for v in p) for p in self.wrong if tuple(p) > tuple(position)]
        if later:
            return later[0]
        return tuple(int(v) for v in self.wrong[0]) if len(self.wrong) else None

    def first_position(self):
        return tuple(int(v) for v in self.wrong[0]) if len(self.wrong) else (0, 0, 0, 0)

    # The words

    def arithmetic(self, position):
        """'rule: out[1, 2] = 3 (channel 0) + (-2) (channel 1) + 1 (bias b) = 2 · your f gave 5: differs by 3'."""
        n, f, _, _ = position
        sums = self.products(position).sum(axis=(1, 2))
        if self.explorable.bias:
            terms = [f"{format_factor(total)} <small>(channel {c})</small>" for c, total in enumerate(sums)]
            bias_name = "b" if len(self.explorable.axes) == 2 else f"b[{f}]"
            terms.append(f"{format_factor(self.b[f])} <small>(bias {bias_name})</small>")
        else:
            terms = [f"{format_factor(sums[0])} <small>(sum of window × k)</small>"]
        value = self.rule_value(position)
        rule = f"rule: <b>{self.out(position)}</b> = " + " + ".join(terms) + f" = <b>{format_number(value)}</b>"
        given = self.given_value(position)
        if given is None:
            yours = f"your {self.name}'s answer has no {self.out(position)}: its shape is {self.answer.shape}"
        elif np.isclose(given, value, rtol=TOLERANCE, atol=TOLERANCE):
            yours = f"your {self.name} gave <b>{format_number(given)}</b>: same"
        else:
            yours = (f"your {self.name} gave <b>{format_number(given)}</b>: "
                     f"<span style='color:#c00'>differs by {format_number(given - value)}</span>")
        return rule + " · " + yours

    def summary(self):
        """Where the first wrong value is and how many values are wrong; or that the answer is right here."""
        shapes = ""
        if not self.same_shape:
            shapes = (f"Shapes differ: the rule's answer is {self.rule_shape}, your {self.name}'s is "
                      f"{self.answer.shape}; the maps are compared where both have a position. ")
        if len(self.wrong):
            first = self.wrong[0]
            where = ", ".join(f"{axis} {int(index)}" for axis, index in zip(self.explorable.axes, first[-self.own_axes:]))
            return shapes + (f"First wrong value: <b>{self.out(first)}</b> ({where}) · <b>{len(self.wrong)} of "
                             f"{self.compared}</b> values {'is' if len(self.wrong) == 1 else 'are'} wrong.")
        if self.verdict is None:
            return shapes + f"{self.name} passes the checks: here it is at work on the check's first case."
        if not self.same_shape:
            return shapes + f"Where both have a position, all {self.compared} values are the rule's."
        return shapes + (f"All {self.compared} values are the rule's on this case; the check's message says "
                         "what else is wrong.")

    def heading(self):
        """The check's message (without its explore line) and the call shown."""
        if self.verdict is None:
            said = f"<b>{self.name} passes the checks.</b>"
        else:
            lines = [line for line in self.verdict.splitlines() if line != explore_line(self.name)]
            said = "<b>The check says:</b> " + "<br>".join(html.escape(line) for line in lines)
        return said + f"<br><b>The case:</b> <code>{html.escape(self.call_words())}</code>"


def _too_large(case):
    """Why the case is too large to show, or None."""
    N, C, H, W = case.x_padded.shape
    limits = [(N, MAX_IMAGES, "images"), (C, MAX_CHANNELS, "input channels"), (len(case.w), MAX_FILTERS, "filters"),
              (max(H, W), MAX_SIDE, "pixels a side (padded)"), (max(case.w.shape[2:]), MAX_KERNEL, "kernel pixels a side"),
              (case.answer.size, MAX_ANSWER, "values in the answer")]
    over = [f"{value} {what} (at most {limit})" for value, limit, what in limits if value > limit]
    return ", ".join(over) or None


def _recording(function, calls):
    """The function, recording each call's arguments (copies) and answer in `calls`; same __name__."""

    @functools.wraps(function)
    def recording(*args, **kwargs):
        kept = ([a.copy() if isinstance(a, np.ndarray) else a for a in args],
                {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in kwargs.items()})
        answer = function(*args, **kwargs)
        calls.append((*kept, answer))
        return answer

    return recording


def _answer_array(answer):
    try:
        return np.array(answer, dtype=float)
    except (TypeError, ValueError):
        return None


def failing_case(function):
    """Run the function's visible check on a recording of it; return the AnswerCase to show.

    The case is the call whose answer the check's message is about (error.given), else the first
    whose answer differs from the rule, else (the check passed, or failed for another reason) the
    first call the rule can answer. Raises ValueError when no call can be shown.
    """
    name = function.__name__
    calls = []
    check = getattr(diagnose, "check_" + name)
    try:
        check(_recording(function, calls))
        error = None
    except diagnose.Misconception as failure:
        error = failure
    cases = []
    for args, kwargs, answer in calls:
        if answer is None or _answer_array(answer) is None:
            continue
        try:
            cases.append(AnswerCase(name, args, kwargs, answer, None if error is None else str(error)))
        except (TypeError, ValueError):  # the depth-mismatch call: the rule refuses it
            continue
    given = None if error is None else error.given
    named = [case for case in cases if isinstance(given, np.ndarray) and case.answer.shape == given.shape
             and np.array_equal(case.answer, given, equal_nan=True)]
    wrong = [case for case in cases if len(case.wrong) or not case.same_shape]
    chosen = (named or wrong or cases or [None])[0]
    if chosen is None:
        said = f" The check says: {error}" if error is not None else ""
        raise ValueError(f"explore found no answer of {name} to show: it returned no array of numbers.{said}")
    too_large = _too_large(chosen)
    if too_large:
        raise ValueError(f"explore shows small cases only, and {chosen.call_words()} has {too_large}.")
    return chosen


# --------------------------------------------------------------------------
# The widget
# --------------------------------------------------------------------------


def _slider(description, maximum, value):
    return widgets.IntSlider(value=value, min=0, max=maximum, description=description, continuous_update=True,
                             style={"description_width": "initial"})


class AnswerExplorer(RedrawnOnChange, widgets.VBox):
    """The learner's answer beside the rule, window by window (see the module docstring).

    controls: dict name -> widget: image, filter, row, column (sliders), next (the button
    "next wrong value"); each carries the CSS class "conv-answer-<name>", as do the picture
    and the lines: heading (the check's words and the case), arithmetic, summary.
    """

    def __init__(self, case):
        self.case = case
        N, F, Ho, Wo = case.expected.shape
        n, f, i, j = case.first_position()
        self.controls = {
            "image": _slider("image n", N - 1, n),
            "filter": _slider("filter f", F - 1, f),
            "row": _slider("window row", Ho - 1, i),
            "column": _slider("window column", Wo - 1, j),
            "next": widgets.Button(description="next wrong value", icon="step-forward",
                                   disabled=not len(case.wrong), layout=widgets.Layout(width="auto")),
        }
        self.picture = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="1000px"))
        self.heading = widgets.HTML(case.heading())
        self.arithmetic = widgets.HTML()
        self.summary = widgets.HTML(case.summary())
        parts = {**self.controls, "picture": self.picture, "heading": self.heading, "arithmetic": self.arithmetic,
                 "summary": self.summary}
        for name, part in parts.items():
            part.add_class("conv-answer-" + name)
        self.drawing = AnswerPicture(case)  # the matplotlib figure behind self.picture, made once
        shown = [self.controls[name] for name, size in (("image", N), ("filter", F)) if size > 1]
        sliders = widgets.HBox([widgets.VBox(shown + [self.controls["row"], self.controls["column"]]),
                                self.controls["next"]])
        super().__init__([self.heading, sliders, self.summary, self.arithmetic, self.picture])
        self._quiet = False
        for name in ("image", "filter", "row", "column"):
            self.controls[name].observe(self._on_change, names="value")
        self.controls["next"].on_click(self._on_next)
        self.refresh()

    @property
    def position(self):
        """(n, f, row, column) from the sliders."""
        return tuple(self.controls[name].value for name in ("image", "filter", "row", "column"))

    def _on_next(self, button=None):
        """Move the window to the next wrong value (C order over image, filter, row, column)."""
        position = self.case.next_wrong(self.position)
        if position is None:
            return
        with self._holding():
            for name, value in zip(("image", "filter", "row", "column"), position):
                self.controls[name].value = value
        self.refresh()

    def refresh(self):
        position = self.position
        self.arithmetic.value = self.case.arithmetic(position)
        self.picture.value = self.drawing.render(position)


def explore(function):
    """Open the explorer on the first case where ``function`` departs from the rule (see the module docstring).

    function: the learner's corr2d, conv2d_multi_in, conv2d_multi_out or conv2d (found by its
    __name__). Returns the AnswerExplorer widget, or None while nbgrader runs the notebook.
    """
    if os.environ.get("NBGRADER_EXECUTION"):
        print(NOT_WHILE_GRADING)
        return None
    name = getattr(function, "__name__", None)
    if name not in EXPLORABLE:
        raise ValueError(f"explore shows one of {', '.join(EXPLORABLE)}; got a function named {name!r}. "
                         "Pass your function itself, e.g. explore(conv2d_multi_in).")
    return AnswerExplorer(failing_case(function))
