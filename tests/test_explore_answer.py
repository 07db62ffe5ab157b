"""explore(function): a learner's wrong function at work beside the rule, and the check's line that opens it.

For each of corr2d, conv2d_multi_in, conv2d_multi_out and conv2d, a wrong function
earns a visible message that ends with the line to run (never a hidden one, a
crash, a missing return, a ready-made call alone or a stub); explore(function)
opens on the first wrong value (the one the message names, when it names one),
its sum written out channel by channel against an independent oracle (scipy's
correlate2d per channel, on the check's own case), and "next wrong value" steps
on in C order. A right function opens and says it passes; an unknown name, a
large case and nbgrader's run are refused.
"""

import io
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.signal  # noqa: E402
from PIL import Image  # noqa: E402

from conv_lib import diagnose  # noqa: E402
from conv_lib.diagnose import Misconception  # noqa: E402
from conv_lib.diagnose.conv_pool_stack import _conv2d_cases  # noqa: E402
from conv_lib.diagnose.many_filters import _multi_out_cases  # noqa: E402
from conv_lib.diagnose.multi_channel import _multi_in_cases  # noqa: E402
from conv_lib.diagnose.single_channel import _corr2d_cases  # noqa: E402
from conv_lib.diagnose.verdict import EXPLORABLE, explore_line  # noqa: E402
from conv_lib.widgets import AnswerExplorer, explore, your_answer  # noqa: E402

# --------------------------------------------------------------------------
# Learners' functions: loops over scipy-free windows (a ready-made call would be reported)
# --------------------------------------------------------------------------


def correlate(x, k, padding=0, stride=1):
    x = np.pad(np.asarray(x, dtype=float), padding)
    kH, kW = k.shape
    out = np.zeros(((x.shape[0] - kH) // stride + 1, (x.shape[1] - kW) // stride + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (x[i * stride : i * stride + kH, j * stride : j * stride + kW] * k).sum()
    return out


def refuse_depth(x_channels, w_channels):
    if x_channels != w_channels:
        raise ValueError(f"{x_channels} input channels, filters of {w_channels}")


def corr2d(x, k, padding=0, stride=1):  # right
    return correlate(x, k, padding, stride)


def corr2d_flipped(x, k, padding=0, stride=1):
    return correlate(x, k[::-1, ::-1], padding, stride)


def conv2d_multi_in(x, w, b=0.0):  # right
    refuse_depth(len(x), len(w))
    return sum(correlate(x[c], w[c]) for c in range(len(x))) + b


def conv2d_multi_in_no_bias(x, w, b=0.0):
    refuse_depth(len(x), len(w))
    return sum(correlate(x[c], w[c]) for c in range(len(x)))


def conv2d_multi_in_two_slips(x, w, b=0.0):
    """Right, except one more at (1, 2) and (2, 0) of a map that has them: no idea explains it."""
    out = conv2d_multi_in(x, w, b)
    for i, j in [(1, 2), (2, 0)]:
        if out.shape[0] > i and out.shape[1] > j:
            out[i, j] += 1
    return out


def conv2d_multi_in_per_channel(x, w, b=0.0):
    refuse_depth(len(x), len(w))
    return np.stack([correlate(x[c], w[c]) + b for c in range(len(x))])


def conv2d_multi_out_first_filter(x, w, b):
    refuse_depth(len(x), w.shape[1])
    return np.stack([sum(correlate(x[c], w[0][c]) for c in range(len(x))) + b[f] for f in range(len(w))])


def conv2d_no_stride(x, w, b, stride=1, padding=0):
    refuse_depth(x.shape[1], w.shape[1])
    return np.stack([np.stack([sum(correlate(image[c], w[f][c], padding) for c in range(len(image))) + b[f]
                               for f in range(len(w))]) for image in x])


WRONG = {
    "corr2d": corr2d_flipped,
    "conv2d_multi_in": conv2d_multi_in_no_bias,
    "conv2d_multi_out": conv2d_multi_out_first_filter,
    "conv2d": conv2d_no_stride,
}


def named(function, name):
    function.__name__ = name
    return function


def message(name, function, **options):
    try:
        getattr(diagnose, "check_" + name)(named(function, name), **options)
    except (Misconception, NotImplementedError) as error:
        return str(error)
    return None


def words(html):
    """An HTML line as the learner reads it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def numbers(text):
    """The numbers of the sum written out: [(value, what)], the rule's value and the learner's."""
    rule, yours = words(text).split(" · ")
    terms = re.findall(r"\(?(-?[\d.]+)\)? \(([^)]*)\)", rule.split(" = ", 1)[1])
    value = float(rule.rsplit(" = ", 1)[1])
    gave = re.search(r"gave (-?[\d.]+)", yours)
    return [(float(number), what) for number, what in terms], value, None if gave is None else float(gave.group(1))


def pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)))


def channel_sums(x, w, stride, padding, i, j):
    """The oracle: scipy's correlate2d of each padded channel with its kernel channel, at window (i, j)."""
    return [scipy.signal.correlate2d(np.pad(np.array(channel, dtype=float), padding), np.array(kernel, dtype=float),
                                     mode="valid")[i * stride, j * stride] for channel, kernel in zip(x, w)]


# --------------------------------------------------------------------------
# The line in the check's message
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(WRONG))
def test_a_wrong_map_ends_the_visible_message_with_the_line_and_never_the_hidden_one(name):
    visible = message(name, WRONG[name])
    assert visible.splitlines()[-1] == explore_line(name) == (
        f"See your function at work: import conv_lib.widgets; conv_lib.widgets.explore({name})")
    hidden = message(name, WRONG[name], seed=21, hidden=True)
    assert hidden is not None and "explore" not in hidden


def test_the_explorable_functions_are_the_four_convolutions():
    assert list(EXPLORABLE) == ["corr2d", "conv2d_multi_in", "conv2d_multi_out", "conv2d"]


def crashes(x, w, b=0.0):
    raise TypeError("cannot add")


def forgets_return(x, w, b=0.0):
    sum(correlate(x[c], w[c]) for c in range(len(x)))


def ready_made(x, w, b=0.0):
    refuse_depth(len(x), len(w))
    return sum(scipy.signal.correlate2d(x[c], w[c], mode="valid") for c in range(len(x))) + b


def stub(x, w, b=0.0):
    raise NotImplementedError


@pytest.mark.parametrize("function, start", [(crashes, "[raises]"), (forgets_return, "[no-return]"),
                                             (ready_made, "[reference-call]"), (stub, "write conv2d_multi_in first")])
def test_no_line_for_a_crash_a_missing_return_a_ready_made_call_alone_or_a_stub(function, start):
    text = message("conv2d_multi_in", function)
    assert text.startswith(start) and "explore" not in text, text


def test_a_ready_made_call_beside_a_wrong_map_keeps_the_line_last():
    def ready_made_no_bias(x, w, b=0.0):
        return ready_made(x, w, 0.0)

    text = message("conv2d_multi_in", ready_made_no_bias)
    assert text.startswith("[reference-call]") and "[missing-bias]" in text
    assert text.splitlines()[-1] == explore_line("conv2d_multi_in")


# --------------------------------------------------------------------------
# explore opens on the first wrong value
# --------------------------------------------------------------------------


def test_corr2d_flipped_opens_on_the_first_case_at_its_first_value():
    box = explore(named(corr2d_flipped, "corr2d"))
    x, k, padding, stride = _corr2d_cases(0, False)[0]
    assert isinstance(box, AnswerExplorer) and box.position == (0, 0, 0, 0)
    assert "[flipped-kernel]" in box.heading.value and "corr2d(x of shape (3, 3), k of shape (2, 2)" in box.heading.value
    terms, value, gave = numbers(box.arithmetic.value)
    want = scipy.signal.correlate2d(np.array(x, float), np.array(k, float), mode="valid")[0, 0]
    assert [number for number, _ in terms] == [want] and value == want == 19
    assert gave == scipy.signal.convolve2d(np.array(x, float), np.array(k, float), mode="valid")[0, 0] == 5
    assert "differs by -14" in words(box.arithmetic.value)
    assert "4 of 4 values are wrong" in words(box.summary.value)


def test_conv2d_multi_in_without_bias_opens_on_the_first_case_with_a_bias():
    box = explore(named(conv2d_multi_in_no_bias, "conv2d_multi_in"))
    x, w, b = _multi_in_cases(0, False)[1]  # case 0 uses the default b=0, where leaving it out is right
    assert box.case.x.shape == (1,) + np.shape(x) and "b=2" in box.heading.value
    assert box.position == (0, 0, 0, 0)
    assert box.children[1].children[0].children == (box.controls["row"], box.controls["column"])  # N = C_out = 1
    terms, value, gave = numbers(box.arithmetic.value)
    sums = channel_sums(x, w, 1, 0, 0, 0)
    assert terms == [(s, f"channel {c}") for c, s in enumerate(sums)] + [(b, "bias b")]
    assert value == sum(sums) + b and gave == sum(sums)
    assert "differs by -2" in words(box.arithmetic.value)


def test_a_wrong_value_opens_where_the_message_says_and_next_steps_to_the_next_one():
    function = named(conv2d_multi_in_two_slips, "conv2d_multi_in")
    text = message("conv2d_multi_in", function)
    assert "[wrong-values]" in text and "first wrong value at (row 1, column 2)" in text, text
    expected, got = re.search(r"expected (-?[\d.]+), got (-?[\d.]+)", text).groups()
    box = explore(function)
    assert box.position == (0, 0, 1, 2)
    assert (box.controls["row"].value, box.controls["column"].value) == (1, 2)
    x, w, b = _multi_in_cases(0, False)[1]  # case 0's 2 x 2 map has neither position
    terms, value, gave = numbers(box.arithmetic.value)
    assert value == float(expected) == sum(channel_sums(x, w, 1, 0, 1, 2)) + b and gave == float(got) == value + 1
    assert "First wrong value: out[1, 2] (row 1, column 2)" in words(box.summary.value)
    first_picture = box.picture.value
    box.controls["next"].click()
    assert box.position == (0, 0, 2, 0) and "2 of 12 values are wrong" in words(box.summary.value)
    assert box.picture.value != first_picture
    box.controls["next"].click()
    assert box.position == (0, 0, 1, 2)  # after the last wrong value, the first again


def test_conv2d_multi_out_that_uses_the_first_filter_opens_on_filter_1():
    function = named(conv2d_multi_out_first_filter, "conv2d_multi_out")
    text = message("conv2d_multi_out", function)
    box = explore(function)
    assert "first wrong value at (channel 1, row 0, column 0)" in text, text
    assert box.position == (0, 1, 0, 0) and box.controls["filter"].value == 1
    x, w, b = _multi_out_cases(0, False)[0]
    terms, value, gave = numbers(box.arithmetic.value)
    assert [number for number, _ in terms] == channel_sums(x, w[1], 1, 0, 0, 0) + [b[1]]
    assert gave == sum(channel_sums(x, w[0], 1, 0, 0, 0)) + b[1]
    assert "out[1, 0, 0]" in words(box.arithmetic.value)
    box.controls["next"].click()
    assert box.position == (0, 1, 0, 1)
    box.controls["filter"].value = 0
    assert words(box.arithmetic.value).endswith(": same")


def test_conv2d_that_ignores_the_stride_opens_with_both_shapes():
    box = explore(named(conv2d_no_stride, "conv2d"))
    x, w, b, padding, stride = _conv2d_cases(0, False)[3]  # the first case with a stride
    assert stride == 2 and box.case.stride == 2
    N, C_out = len(x), len(w)
    summary = words(box.summary.value)
    assert f"the rule's answer is {(N, C_out, 4, 3)}, your conv2d's is {(N, C_out, 7, 6)}" in summary, summary
    assert "compared where both have a position" in summary
    n, f, i, j = box.position
    terms, value, gave = numbers(box.arithmetic.value)
    assert [number for number, _ in terms] == channel_sums(x[n], w[f], stride, padding, i, j) + [b[f]]
    assert gave == sum(channel_sums(x[n], w[f], 1, padding, i, j)) + b[f] != value
    assert len(box.children[1].children[0].children) == 4  # image, filter, row and column: N > 1, C_out > 1


def test_an_answer_of_another_shape_opens_and_says_both_shapes():
    box = explore(named(conv2d_multi_in_per_channel, "conv2d_multi_in"))
    summary = words(box.summary.value)
    assert "Shapes differ" in summary and str(box.case.rule_shape) in summary and str(box.case.answer.shape) in summary
    assert box.case.answer.ndim == 3 and box.case.rule_shape == box.case.answer.shape[1:]
    assert pixels(box.picture.value).shape[2] == 3


@pytest.mark.parametrize("name", list(WRONG))
def test_each_step_redraws_and_stays_on_wrong_values(name):
    box = explore(named(WRONG[name], name))
    seen = {box.position}
    for _step in range(3):
        box.controls["next"].click()
        assert box.case.is_wrong(box.position) or box.case.given_value(box.position) is None
        seen.add(box.position)
    assert len(seen) == min(4, len(box.case.wrong))
    image = pixels(box.picture.value)
    assert image.ndim == 3 and image.shape[0] > 500 and image.std() > 10


def test_a_right_function_opens_on_the_first_case_and_says_it_passes():
    box = explore(named(corr2d, "corr2d"))
    assert "passes the checks" in words(box.summary.value) and "passes the checks" in words(box.heading.value)
    assert box.position == (0, 0, 0, 0) and box.controls["next"].disabled
    assert words(box.arithmetic.value).endswith(": same")


# --------------------------------------------------------------------------
# What explore refuses
# --------------------------------------------------------------------------


def test_an_unknown_name_is_refused_with_the_four_names():
    def conv2d_multi(x, w):
        return x

    with pytest.raises(ValueError, match="corr2d, conv2d_multi_in, conv2d_multi_out, conv2d.*'conv2d_multi'"):
        explore(conv2d_multi)


def test_while_nbgrader_runs_explore_never_calls_the_function(monkeypatch, capsys):
    calls = []

    def conv2d_multi_in(x, w, b=0.0):
        calls.append(x)
        return conv2d_multi_in_no_bias(x, w, b)

    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert explore(conv2d_multi_in) is None
    assert calls == [] and "only in an interactive notebook" in capsys.readouterr().out


def test_a_large_case_is_refused(monkeypatch):
    monkeypatch.setattr(your_answer, "MAX_SIDE", 4)
    with pytest.raises(ValueError, match=r"small cases only.*pixels a side \(padded\) \(at most 4\)"):
        explore(named(conv2d_multi_in_no_bias, "conv2d_multi_in"))


def test_a_stub_says_to_write_the_function_first():
    def conv2d(x, w, b, stride=1, padding=0):
        raise NotImplementedError

    with pytest.raises(NotImplementedError, match="write conv2d first"):
        explore(conv2d)


def test_a_function_that_crashes_at_once_is_refused_with_the_checks_words():
    with pytest.raises(ValueError, match=r"no answer of conv2d_multi_in to show.*\[raises\].*cannot add"):
        explore(named(crashes, "conv2d_multi_in"))
