"""A misconception is named only when it fits, and the cases can tell every two ideas apart.

A check names an idea only if the answers it would give equal the learner's on every
case where both were computed (conv_lib.diagnose.verdict.Verdict). That is only as good
as the cases: two ideas that give the same answer on every case cannot be told apart,
and the first one tried would win. So, for every check that weighs ideas, in its visible
and its hidden form, every two ideas computed on a common case must give different
answers on at least one case.

Also here: an answer with several problems is told all of them, one line each, a
ready-made call first; an answer that fits one idea on one case and another idea on
another is not given either name.
"""

import itertools

import numpy as np
import pytest
import scipy.signal

import conv_lib
from conv_lib import diagnose
from conv_lib.diagnose import EXERCISES, verdict
from learner_answers import ANSWERS
from misconception_tools import failure
from notebook_tools import SOLUTIONS, solution_namespace


def right_answer(exercise):
    """The solution notebook's function; while an assignment's solution notebook is still being
    written, the first correct answer of the corpus (its sources need only np and conv_lib)."""
    if (SOLUTIONS / exercise.assignment / f"{exercise.assignment}.ipynb").exists():
        return solution_namespace(exercise.assignment)[exercise.name]
    row = next(row for row in ANSWERS if row.exercise == exercise.name and row.expected is None)
    namespace = {"np": np, "conv_lib": conv_lib}
    exec(compile(row.source, f"<{row.label}>", "exec"), namespace)
    return namespace[exercise.name]


RIGHT = {exercise.name: (exercise, right_answer(exercise)) for exercise in EXERCISES}


def recorded_verdicts(check, function, **options):
    """The Verdicts a check judged while it ran (none for a check that weighs no ideas)."""
    verdict.RECORDED = []
    try:
        check(function, **options)
        return verdict.RECORDED
    finally:
        verdict.RECORDED = None


def answers_by_idea(probe):
    """{idea: [answers]} of one case."""
    ideas = {}
    for codes, answer, explanation in probe.candidates():
        ideas.setdefault(verdict.idea_of(codes, explanation), []).append(answer)
    return ideas


def agree(judged, one, other):
    """Do two candidate answers agree, as the verdict compares a learner's answer with one?"""
    if judged.equal is verdict.same:
        try:
            return verdict.same(np.array(one, dtype=float), other)
        except ValueError:  # ragged lists: no learner's array looks like both
            return False
    return judged.equal(one, other)


def untold_pairs(judged):
    """The pairs of ideas, computed together on some case, that no case of the verdict tells apart.

    A case tells two ideas apart when both were computed on it and no answer of one is an answer
    of the other, or when only one of them was computed on it (the verdict prefers the idea that
    explains more of the wrong cases)."""
    per_case = [answers_by_idea(probe) for probe in judged.probes]
    every_idea = sorted({idea for ideas in per_case for idea in ideas})
    together, apart = set(), set()
    for ideas in per_case:
        for a, b in itertools.combinations(every_idea, 2):
            if a in ideas and b in ideas:
                together.add((a, b))
                if not any(agree(judged, one, other) for one in ideas[a] for other in ideas[b]):
                    apart.add((a, b))
            elif a in ideas or b in ideas:
                apart.add((a, b))
    return sorted(together - apart)


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
@pytest.mark.parametrize("name", sorted(RIGHT))
def test_every_two_ideas_of_a_check_are_told_apart_by_some_case(name, hidden):
    exercise, right = RIGHT[name]
    for judged in recorded_verdicts(exercise.check, right, seed=7 if hidden else 0, hidden=hidden):
        untold = untold_pairs(judged)
        assert not untold, "\n".join(f"{a}\n  and {b}" for a, b in untold)


def test_the_checks_that_weigh_ideas_are_the_ones_of_the_arrays_and_the_counts():
    weighing = {name for name, (exercise, right) in RIGHT.items() if recorded_verdicts(exercise.check, right)}
    assert {"conv_output_size", "corr2d", "conv2d_multi_in", "conv2d_multi_out", "conv_layer_params", "conv2d",
            "max_pool2d", "conv2d_backward", "conv2d_grouped", "separable_params", "separable_macs",
            "to_conv_lib_layout", "to_channels_first"} <= weighing


def conv_output_size_padding_once(n, k, padding=0, stride=1):
    return (n + padding - k) // stride + 1


def test_padding_counted_once_is_not_called_a_missing_plus_one():
    """On (5, 3, padding=1) both ideas give 4; the case (5, 3, padding=0), where padding counted once is
    right and a missing +1 is not, tells them apart."""
    error = failure(diagnose.check_conv_output_size, conv_output_size_padding_once)
    assert error.codes == ("output-size",)
    assert "the padding is counted once" in str(error) and "+1 is missing" not in str(error)


def multi_in_mean_on_two_channels_only(x, w, b=0.0):
    """The mean on two-channel inputs, the first channel alone elsewhere: no one idea fits every case."""
    if w.shape[0] != x.shape[0]:
        raise ValueError(f"each filter must have one channel per input channel: w has {w.shape[0]}, x has {x.shape[0]}")
    maps = [scipy.signal.correlate2d(x[c], w[c], mode="valid") for c in range(x.shape[0])]
    return (np.mean(maps, axis=0) if x.shape[0] == 2 else maps[0]) + b


def test_an_idea_that_fits_one_case_but_not_another_is_not_named():
    error = failure(diagnose.check_conv2d_multi_in, multi_in_mean_on_two_channels_only)
    assert "mean-not-sum" not in error.codes and "one-channel-only" not in error.codes
    assert error.codes[-1] == "wrong-values" or error.codes[0] == "reference-call"


def multi_in_scipy_without_the_depth_check(x, w, b=0.0):
    return sum(scipy.signal.correlate2d(x[c], w[c], mode="valid") for c in range(min(len(x), len(w)))) + b


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_every_problem_is_listed_one_line_each_the_ready_made_call_first(hidden):
    error = failure(diagnose.check_conv2d_multi_in, multi_in_scipy_without_the_depth_check, seed=7 if hidden else 0,
                    hidden=hidden)
    assert error.codes == ("reference-call", "depth-check")
    first, second = str(error).splitlines()
    assert first.startswith("[reference-call] conv2d_multi_in calls scipy.signal.")
    assert second.startswith("[depth-check] conv2d_multi_in accepted an input with 3 channels and filters with 2")


def not_written_yet(x, w, b=0.0):
    raise NotImplementedError()


def test_a_function_not_written_yet_gets_one_friendly_line():
    with pytest.raises(NotImplementedError, match="^write conv2d_multi_in first: it still raises NotImplementedError$") as caught:
        diagnose.check_conv2d_multi_in(not_written_yet)
    assert len(caught.traceback) == 2, "the traceback holds the calling line and the check, nothing inside"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def conv2d_backward_library_with_db_of_one_image(dout, x, w, b, stride=1, padding=0):
    dx, dw, _ = conv_lib.backward.conv2d_backward(dout, x, w, stride, padding)
    return dx, dw, dout[0].sum(axis=(1, 2))


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_a_ready_made_call_heads_the_problems_of_every_check(hidden):
    """The ready-made call is listed first, and the check still tells what else is wrong."""
    error = failure(diagnose.check_conv2d_backward, conv2d_backward_library_with_db_of_one_image,
                    seed=7 if hidden else 0, hidden=hidden)
    assert error.codes == ("reference-call", "db-not-summed")
    assert str(error).startswith("[reference-call] conv2d_backward calls conv_lib.backward.conv2d_backward")


def conv2d_backward_two_wrong_gradients(dout, x, w, b, stride=1, padding=0):
    """db from the first image only, dw averaged over the batch: two ideas, two lines."""
    dx, dw, db = RIGHT["conv2d_backward"][1](dout, x, w, b, stride=stride, padding=padding)
    return dx, dw / len(x), dout[0].sum(axis=(1, 2))


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_each_wrong_gradient_is_a_problem_of_its_own(hidden):
    error = failure(diagnose.check_conv2d_backward, conv2d_backward_two_wrong_gradients, seed=7 if hidden else 0,
                    hidden=hidden)
    assert error.codes == ("db-not-summed", "dw-batch-not-summed")
    first, second = str(error).splitlines()
    assert first.startswith("[db-not-summed] ") and second.startswith("[dw-batch-not-summed] ")
