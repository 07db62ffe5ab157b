"""Answers written as learners write them are named by the codes of their ideas, and correct ones pass.

The corpus is tests/learner_answers.py: for each graded function, wrong answers in loops,
vectorised numpy and unusual tricks (einsum, sliding windows, im2col, functools.reduce),
each with the codes its idea should earn, and correct answers written in unusual ways.
Here, for every answer:

* the visible check (seed 0) gives exactly its codes, and a correct answer passes it;
* the hidden check (seed 7) gives the same codes: grading takes points for no other reason;
* a correct answer also passes the independent check, on the grader's cases;

and the corpus holds, for every code a check can give, an answer that earns it.
benchmarks/misconceptions.py counts the same outcomes exercise by exercise.
"""

import pytest

from conv_lib.diagnose import EXERCISES
from conv_lib.diagnose.raised_where import where_raised
from learner_answers import ANSWERS, STYLES, learner_function
from misconception_tools import codes_of, failure
from integrity_tools import SEED_TEXTS, independent_problem

BY_NAME = {exercise.name: exercise for exercise in EXERCISES}
CORRECT = [row for row in ANSWERS if row.expected is None]

#: Codes that reading a check's source finds but that no answer can earn, and why.
NOT_EARNED = {
    ("conv_output_size", "wrong-values"): "its check calls every size no formula explains [output-size]",
    ("conv_layer_params", "output-size"): "a count has no size: a count no mistake explains is [wrong-values]",
    ("conv2d_multi_out", "no-channel-sum"): "a map per channel for every filter is C_out * C_in maps: "
                                            "[per-filter-per-channel]",
    ("conv2d", "no-channel-sum"): "a map per channel for every filter is C_out * C_in maps: [per-filter-per-channel]",
    ("stack_shapes", "not-an-array"): "the answer is read as a list of shapes, never as an array",
    ("vgg16_table", "not-an-array"): "the answer is read as rows, never as an array",
    ("vgg16_table", "not-a-shape-list"): "a row whose shape has the wrong length is [not-a-table]",
    ("vgg16_table", "relu-changes-shape"): "only conv, pool and fully connected rows are compared",
    ("vgg_block", "reference-call"): "conv_lib's conv2d, relu and max_pool2d are the block's parts: allowed",
    ("receptive_field", "reference-call"): "no library computes a receptive field",
    ("conv2d_grouped", "no-channel-sum"): "one map per channel is a depthwise layer's right answer, or, filter by "
                                          "filter, C_out * C_in/groups maps",
    ("separable_params", "output-size"): "a count has no size: a count no mistake explains is [wrong-values]",
    ("separable_macs", "output-size"): "a count has no size: a count no mistake explains is [wrong-values]",
    ("to_conv_lib_layout", "output-size"): "a layout has no output size: a wrong shape no idea explains is [wrong-values]",
    ("to_channels_first", "output-size"): "a layout has no output size: a wrong shape no idea explains is [wrong-values]",
    ("to_conv_lib_layout", "reference-call"): "moving axes calls no convolution: nothing is refused",
    ("to_channels_first", "reference-call"): "moving axes calls no convolution: nothing is refused",
}


def row_id(row):
    return f"{row.exercise}-{row.label}"


def codes_checks_can_give():
    """{(function name, code)} for every code each exercise's check can raise, read from the checks' source."""
    return {(name, code) for code, places in where_raised().items() for _, name in places}


@pytest.mark.parametrize("row", ANSWERS, ids=row_id)
def test_the_visible_check_names_the_idea_of_the_answer(row):
    check = BY_NAME[row.exercise].check
    assert codes_of(check, learner_function(row), seed=0) == row.expected


@pytest.mark.parametrize("row", ANSWERS, ids=row_id)
def test_the_hidden_check_names_the_same_idea(row):
    check = BY_NAME[row.exercise].check
    assert codes_of(check, learner_function(row), seed=7, hidden=True) == row.expected


@pytest.mark.parametrize("row", CORRECT, ids=row_id)
def test_a_correct_answer_passes_the_independent_check(row, tmp_path):
    function = learner_function(row)
    for seed_text in SEED_TEXTS:
        assert independent_problem(BY_NAME[row.exercise], function, seed_text, tmp_path) == ""


def test_padding_counted_once_is_told_as_such_not_as_a_missing_plus_one():
    (row,) = [row for row in ANSWERS if row.label == "padding_counted_once"]
    for options in ({"seed": 0}, {"seed": 7, "hidden": True}):
        message = str(failure(BY_NAME[row.exercise].check, learner_function(row), **options))
        assert "padding is counted once" in message and "+1 is missing" not in message, message


def test_every_code_a_check_can_give_is_earned_by_a_learners_answer():
    earned = {(row.exercise, code) for row in ANSWERS for code in row.expected or ()}
    assert sorted(codes_checks_can_give() - set(NOT_EARNED) - earned) == []


def test_every_exercise_has_correct_and_wrong_answers_in_the_known_styles():
    assert {row.style for row in ANSWERS} <= set(STYLES)
    assert {row.exercise for row in ANSWERS if row.expected} == set(BY_NAME)
    labels = [row_id(row) for row in ANSWERS]
    assert len(labels) == len(set(labels)), "each answer has its own label"
    for name in ("corr2d", "conv2d_multi_in", "conv2d_multi_out", "conv2d", "max_pool2d", "conv2d_backward",
                 "conv2d_grouped", "to_conv_lib_layout"):
        assert any(row.exercise == name and row.style == "unusual" for row in CORRECT), name


def test_the_codes_no_answer_earns_are_still_ones_a_check_can_give():
    assert set(NOT_EARNED) <= codes_checks_can_give(), "a code no check gives any more needs no reason here"
