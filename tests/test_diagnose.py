"""Each wrong idea a learner may hold is named by exactly its code; right answers pass.

The wrong implementations below are written the way a learner with that
misconception would write them. Each must be diagnosed with exactly the codes
listed, in the visible check and in the hidden one; a correct implementation
must pass both, for several seeds.
"""

import numpy as np
import pytest
import scipy.signal

import conv_lib
from conv_lib import diagnose
from conv_lib.diagnose import Misconception
from misconception_tools import (assert_named_exactly, assert_right_passes, codes_earned, codes_of, listed_codes,
                                 with_the_depth_check)

# --------------------------------------------------------------------------
# Notebook 01: corr2d(x, k, padding=0, stride=1) and conv_output_size
# --------------------------------------------------------------------------


def corr2d_right(x, k, padding=0, stride=1):
    x = np.pad(x, padding)
    kH, kW = k.shape
    Ho, Wo = (x.shape[0] - kH) // stride + 1, (x.shape[1] - kW) // stride + 1
    out = np.zeros((Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[i, j] = np.sum(x[i * stride : i * stride + kH, j * stride : j * stride + kW] * k)
    return out


def corr2d_flipped(x, k, padding=0, stride=1):
    return corr2d_right(x, k[::-1, ::-1], padding, stride)


def corr2d_ignores_padding(x, k, padding=0, stride=1):
    return corr2d_right(x, k, 0, stride)


def corr2d_ignores_stride(x, k, padding=0, stride=1):
    return corr2d_right(x, k, padding, 1)


def corr2d_forgets_plus_one(x, k, padding=0, stride=1):
    return corr2d_right(x, k, padding, stride)[:-1, :-1]


def corr2d_no_return(x, k, padding=0, stride=1):
    corr2d_right(x, k, padding, stride)


def corr2d_returns_text(x, k, padding=0, stride=1):
    return str(corr2d_right(x, k, padding, stride))


def corr2d_with_scipy(x, k, padding=0, stride=1):
    return scipy.signal.correlate2d(np.pad(x, padding), k, mode="valid")[::stride, ::stride]


def corr2d_with_the_library(x, k, padding=0, stride=1):
    return conv_lib.corr2d(conv_lib.pad2d(x, padding), k, stride=stride)


def conv_output_size_right(n, k, padding=0, stride=1):
    return (n + 2 * padding - k) // stride + 1


def conv_output_size_no_plus_one(n, k, padding=0, stride=1):
    return (n + 2 * padding - k) // stride


def conv_output_size_true_division(n, k, padding=0, stride=1):
    return (n + 2 * padding - k) / stride + 1


def conv_output_size_padding_once(n, k, padding=0, stride=1):
    return (n + padding - k) // stride + 1


def conv_output_size_from_the_library(n, k, padding=0, stride=1):
    return conv_lib.output_size(n, k, padding, stride)


# --------------------------------------------------------------------------
# Notebook 02: conv2d_multi_in(x, w, b=0.0)
# --------------------------------------------------------------------------


def single(x, k):
    return conv_lib.corr2d(x, k)


def multi_in_right(x, w, b=0.0):
    if w.shape[0] != x.shape[0]:
        raise ValueError(f"each filter must have one channel per input channel: w has {w.shape[0]}, x has {x.shape[0]}")
    return sum(single(x[c], w[c]) for c in range(x.shape[0])) + b


@with_the_depth_check
def multi_in_no_sum(x, w, b=0.0):
    return np.stack([single(x[c], w[c]) + b for c in range(x.shape[0])])


@with_the_depth_check
def multi_in_mean(x, w, b=0.0):
    return np.mean([single(x[c], w[c]) for c in range(x.shape[0])], axis=0) + b


@with_the_depth_check
def multi_in_reversed_pairing(x, w, b=0.0):
    C = x.shape[0]
    return sum(single(x[C - 1 - c], w[c]) for c in range(C)) + b


@with_the_depth_check
def multi_in_every_pair(x, w, b=0.0):
    return sum(single(x[d], w[c]) for c in range(x.shape[0]) for d in range(x.shape[0])) + b


@with_the_depth_check
def multi_in_first_channel(x, w, b=0.0):
    return single(x[0], w[0]) + b


@with_the_depth_check
def multi_in_no_bias(x, w, b=0.0):
    return sum(single(x[c], w[c]) for c in range(x.shape[0]))


@with_the_depth_check
def multi_in_bias_per_channel(x, w, b=0.0):
    return sum(single(x[c], w[c]) + b for c in range(x.shape[0]))


@with_the_depth_check
def multi_in_flipped(x, w, b=0.0):
    return sum(single(x[c], w[c, ::-1, ::-1]) for c in range(x.shape[0])) + b


def multi_in_mean_no_depth_check(x, w, b=0.0):
    return np.mean([single(x[c], w[c]) for c in range(x.shape[0])], axis=0) + b


def multi_in_no_depth_check(x, w, b=0.0):
    return sum(single(x[c], w[c]) for c in range(min(x.shape[0], w.shape[0]))) + b


def multi_in_with_the_library(x, w, b=0.0):
    return conv_lib.conv2d(x[None], w[None], np.array([b]))[0, 0]


# --------------------------------------------------------------------------
# Notebook 03: conv2d_multi_out(x, w, b) and conv_layer_params
# --------------------------------------------------------------------------


def multi_out_right(x, w, b):
    return np.stack([multi_in_right(x, w[f], b[f]) for f in range(w.shape[0])])


@with_the_depth_check
def multi_out_every_channel_its_own_map(x, w, b):
    return np.stack([single(x[c], w[f, c]) + b[f] for f in range(w.shape[0]) for c in range(x.shape[0])])


@with_the_depth_check
def multi_out_sums_filters(x, w, b):
    return np.stack([sum(single(x[c], w[f, c]) for f in range(w.shape[0])) for c in range(x.shape[0])])


def multi_out_mean(x, w, b):
    return np.stack([multi_in_mean(x, w[f], b[f]) for f in range(w.shape[0])])


def multi_out_swapped_axes(x, w, b):
    return np.stack([multi_in_right(x, w[:, f], b[f]) for f in range(w.shape[0])])


def multi_out_swapped_axes_square_only(x, w, b):
    if x.shape[0] != w.shape[0]:
        return multi_out_right(x, w, b)
    return multi_out_swapped_axes(x, w, b)


@with_the_depth_check
def multi_out_first_bias(x, w, b):
    return np.stack([multi_in_right(x, w[f], b[0]) for f in range(w.shape[0])])


def multi_out_with_the_library(x, w, b):
    return conv_lib.conv2d(x[None], w, b)[0]


def params_right(c_in, c_out, k):
    return c_out * (c_in * k * k + 1)


def params_no_bias(c_in, c_out, k):
    return c_out * c_in * k * k


def params_bias_per_channel(c_in, c_out, k):
    return c_out * c_in * (k * k + 1)


def params_flat_filters(c_in, c_out, k):
    return c_out * (k * k + 1)


def params_one_filter(c_in, c_out, k):
    return c_in * k * k + 1


CHECKS = {
    "corr2d": diagnose.check_corr2d,
    "conv_output_size": diagnose.check_conv_output_size,
    "conv2d_multi_in": diagnose.check_conv2d_multi_in,
    "conv2d_multi_out": diagnose.check_conv2d_multi_out,
    "conv_layer_params": diagnose.check_conv_layer_params,
}

RIGHT = {
    "corr2d": corr2d_right,
    "conv_output_size": conv_output_size_right,
    "conv2d_multi_in": multi_in_right,
    "conv2d_multi_out": multi_out_right,
    "conv_layer_params": params_right,
}

# (function graded, wrong implementation, codes in the visible check, codes in the hidden check)
WRONG = [
    ("corr2d", corr2d_flipped, ("flipped-kernel",), ("flipped-kernel",)),
    ("corr2d", corr2d_ignores_padding, ("output-size",), ("output-size",)),
    ("corr2d", corr2d_ignores_stride, ("output-size",), ("output-size",)),
    ("corr2d", corr2d_forgets_plus_one, ("output-size",), ("output-size",)),
    ("corr2d", corr2d_no_return, ("no-return",), ("no-return",)),
    ("corr2d", corr2d_returns_text, ("not-an-array",), ("not-an-array",)),
    ("corr2d", corr2d_with_scipy, ("reference-call",), ("reference-call",)),
    ("corr2d", corr2d_with_the_library, ("reference-call",), ("reference-call",)),
    ("conv_output_size", conv_output_size_no_plus_one, ("output-size",), ("output-size",)),
    ("conv_output_size", conv_output_size_true_division, ("output-size",), ("output-size",)),
    ("conv_output_size", conv_output_size_padding_once, ("output-size",), ("output-size",)),
    ("conv_output_size", conv_output_size_from_the_library, ("reference-call",), ("reference-call",)),
    ("conv2d_multi_in", multi_in_no_sum, ("no-channel-sum",), ("no-channel-sum",)),
    ("conv2d_multi_in", multi_in_mean, ("mean-not-sum",), ("mean-not-sum",)),
    ("conv2d_multi_in", multi_in_reversed_pairing, ("channel-pairing",), ("channel-pairing",)),
    ("conv2d_multi_in", multi_in_every_pair, ("channel-pairing",), ("channel-pairing",)),
    ("conv2d_multi_in", multi_in_first_channel, ("one-channel-only",), ("one-channel-only",)),
    ("conv2d_multi_in", multi_in_no_bias, ("missing-bias",), ("missing-bias",)),
    ("conv2d_multi_in", multi_in_bias_per_channel, ("bias-per-channel",), ("bias-per-channel",)),
    ("conv2d_multi_in", multi_in_flipped, ("flipped-kernel",), ("flipped-kernel",)),
    ("conv2d_multi_in", multi_in_no_depth_check, ("depth-check",), ("depth-check",)),
    # Every problem is listed, one line each: the idea behind the numbers, then the missing depth check.
    ("conv2d_multi_in", multi_in_mean_no_depth_check, ("mean-not-sum", "depth-check"), ("mean-not-sum", "depth-check")),
    ("conv2d_multi_in", multi_in_with_the_library, ("reference-call",), ("reference-call",)),
    ("conv2d_multi_out", multi_out_every_channel_its_own_map, ("per-filter-per-channel",), ("per-filter-per-channel",)),
    ("conv2d_multi_out", multi_out_sums_filters, ("filters-summed",), ("filters-summed",)),
    ("conv2d_multi_out", multi_out_mean, ("mean-not-sum",), ("mean-not-sum",)),
    # Swapped axes crash when C_in != C_out, and are named when they do not.
    ("conv2d_multi_out", multi_out_swapped_axes, ("raises",), ("raises",)),
    ("conv2d_multi_out", multi_out_swapped_axes_square_only, ("channel-pairing",), ("channel-pairing",)),
    ("conv2d_multi_out", multi_out_first_bias, ("missing-bias",), ("missing-bias",)),
    ("conv2d_multi_out", multi_out_with_the_library, ("reference-call",), ("reference-call",)),
    ("conv_layer_params", params_no_bias, ("missing-bias",), ("missing-bias",)),
    ("conv_layer_params", params_bias_per_channel, ("bias-per-channel",), ("bias-per-channel",)),
    ("conv_layer_params", params_flat_filters, ("filter-depth",), ("filter-depth",)),
    ("conv_layer_params", params_one_filter, ("filter-count",), ("filter-count",)),
]


@pytest.mark.parametrize("name", sorted(RIGHT))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_right_implementation_passes_visible_and_hidden_checks(name, seed):
    assert_right_passes(CHECKS[name], RIGHT[name], seed)


@pytest.mark.parametrize(
    "name, wrong, visible_codes, hidden_codes", WRONG, ids=[wrong.__name__ for _, wrong, _, _ in WRONG]
)
def test_each_misconception_is_named_by_exactly_its_code(name, wrong, visible_codes, hidden_codes):
    assert_named_exactly(CHECKS[name], wrong, visible_codes, hidden_codes)


def test_the_wrong_implementations_here_earn_known_codes():
    assert codes_earned(WRONG) <= set(diagnose.CODES)


def test_every_code_has_a_wrong_implementation_that_earns_it():
    # Across the course: notebooks 01-03 here, 04 in test_diagnose_stack.py, 05 in
    # test_diagnose_vgg16.py, 06 in test_diagnose_learning.py, and the learners' answers of
    # every notebook in learner_answers.py. "raises" and "wrong-values" have their own tests.
    from learner_answers import ANSWERS
    from test_diagnose_learning import WRONG as WRONG_06
    from test_diagnose_stack import WRONG as WRONG_04
    from test_diagnose_vgg16 import WRONG as WRONG_05

    learners = {code for row in ANSWERS for code in row.expected or ()}
    assert codes_earned(WRONG + WRONG_04 + WRONG_05 + WRONG_06) | learners | {"raises", "wrong-values"} == set(diagnose.CODES)


def test_the_package_docstring_lists_every_code():
    assert listed_codes() == set(diagnose.CODES)


def test_a_still_empty_exercise_fails_with_not_implemented_error():
    def corr2d(x, k, padding=0, stride=1):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        diagnose.check_corr2d(corr2d)


def test_a_crash_is_reported_with_its_error_and_the_input_shapes():
    def conv2d_multi_in(x, w, b=0.0):
        return x[5]

    with pytest.raises(Misconception, match=r"^\[raises\] conv2d_multi_in\(array of shape \(2, 3, 3\).*IndexError"):
        diagnose.check_conv2d_multi_in(conv2d_multi_in)


def test_hard_coding_the_visible_answers_fails_the_hidden_check():
    answers = {}

    def record(x, w, b=0.0):
        answers[(x.tobytes(), w.tobytes(), b)] = multi_in_right(x, w, b)
        return answers[(x.tobytes(), w.tobytes(), b)]

    diagnose.check_conv2d_multi_in(record)

    def hard_coded(x, w, b=0.0):
        if w.shape[0] != x.shape[0]:
            raise ValueError("depth")
        return answers.get((x.tobytes(), w.tobytes(), b), np.zeros((x.shape[1] - w.shape[1] + 1, x.shape[2] - w.shape[2] + 1)))

    assert codes_of(diagnose.check_conv2d_multi_in, hard_coded) is None
    assert codes_of(diagnose.check_conv2d_multi_in, hard_coded, seed=7, hidden=True) == ("wrong-values",)


def test_visible_failures_carry_both_maps_and_draw_them_on_request():
    drawn = []
    with pytest.raises(Misconception) as caught:
        diagnose.check_conv2d_multi_in(multi_in_mean, picture=lambda e, g, title: drawn.append((e, g, title)))
    # d2l's example: the sum is [[56, 72], [104, 120]], the mean half of it.
    np.testing.assert_array_equal(caught.value.expected, [[56, 72], [104, 120]])
    np.testing.assert_array_equal(caught.value.given, [[28, 36], [52, 60]])
    assert len(drawn) == 1 and drawn[0][2].startswith("[mean-not-sum] conv2d_multi_in averages")


def test_hidden_failures_reveal_no_inputs_or_expected_values():
    for check, wrong in [(diagnose.check_corr2d, corr2d_ignores_stride), (diagnose.check_conv_output_size, conv_output_size_no_plus_one)]:
        with pytest.raises(Misconception) as caught:
            check(wrong, seed=3, hidden=True, **({"picture": pytest.fail} if check is diagnose.check_corr2d else {}))
        assert caught.value.expected is None and caught.value.given is None
        assert not any(character.isdigit() for character in str(caught.value).replace("+1", "")), str(caught.value)


def test_the_output_size_message_spells_out_the_formula_with_the_numbers():
    with pytest.raises(Misconception) as caught:
        diagnose.check_conv_output_size(conv_output_size_no_plus_one)
    assert str(caught.value) == (
        "[output-size] conv_output_size(5, 3, padding=0, stride=1) should be "
        "floor((5 + 2*0 - 3) / 1) + 1 = 3, you gave 2: the +1 is missing "
        "(a window that fits exactly once still makes one position)."
    )


def test_the_8192_idea_is_answered_with_the_right_count():
    with pytest.raises(Misconception) as caught:
        diagnose.check_conv2d_multi_out(multi_out_every_channel_its_own_map)
    message = str(caught.value)
    assert "returned 6 maps" in message and "3 filters give 3 maps" in message


def test_checks_do_not_trust_the_library_the_notebook_may_have_replaced(monkeypatch):
    # A notebook that "fixes" the library cannot change what the checks expect:
    # the expected answers come from plain Python.
    monkeypatch.setattr(conv_lib, "corr2d", lambda x, k, stride=1, dilation=1: np.zeros((1, 1)))
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    assert codes_of(diagnose.check_corr2d, corr2d_flipped) == ("flipped-kernel",)


def test_pytorch_convolution_is_a_reference_call_too():
    torch = pytest.importorskip("torch")  # only where `make bench` installed it

    def corr2d(x, k, padding=0, stride=1):
        out = torch.nn.functional.conv2d(torch.tensor(x)[None, None], torch.tensor(k)[None, None], padding=padding, stride=stride)
        return out[0, 0].numpy()

    assert codes_of(diagnose.check_corr2d, corr2d) == ("reference-call",)
    assert codes_of(diagnose.check_corr2d, corr2d, seed=7, hidden=True) == ("reference-call",)
