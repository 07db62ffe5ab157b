"""Learner answers: every graded function as learners write it, each with the codes its idea should earn.

The corpus, one module per notebook (learner_answers_single_channel.py ... learner_answers_groups_depthwise.py,
as conv_lib.diagnose has one per notebook), gathered here in ANSWERS. Each row is an Answer
(answer_rows.py): exercise, label, style, the source as typed into the notebook's cell, and the
codes its idea should earn, the same in the visible and the hidden check (None: a correct answer).

Styles:

    loops       Python loops over positions, channels, filters or layers
    vectorised  whole-array numpy: slicing, broadcasting, np.sum, np.stack, a library call
    unusual     tricks: np.einsum, np.tensordot, sliding_window_view, im2col, shift-and-add,
                functools.reduce, a table kept column by column

The answers are written the way learners write them, never by calling the checks' candidates,
so that a check that recognises an idea only in its own formula shows. tests/test_learner_answers.py
holds the checks to the rows; benchmarks/misconceptions.py counts how many each check names exactly.
A source runs in the namespace of its solution notebook's setup and solution cells (learner_function),
as it would in the learner's notebook.
"""

from answer_rows import STYLES, Answer  # noqa: F401 (the corpus's record and styles, for its readers)
from conv_lib.diagnose import EXERCISES
from learner_answers_conv_pool_stack import CONV2D, MAX_POOL2D
from learner_answers_conv_pool_stack_shapes import RECEPTIVE_FIELD, STACK_SHAPES
from learner_answers_groups_depthwise import (CONV2D_GROUPED, SEPARABLE_MACS, SEPARABLE_PARAMS, TO_CHANNELS_FIRST,
                                              TO_CONV_LIB_LAYOUT)
from learner_answers_learning_filters import CONV2D_BACKWARD, HE_INIT
from learner_answers_many_filters import CONV2D_MULTI_OUT, CONV_LAYER_PARAMS
from learner_answers_multi_channel import CONV2D_MULTI_IN
from learner_answers_single_channel import CONV_OUTPUT_SIZE, CORR2D
from learner_answers_vgg16 import VGG16_TABLE, VGG_BLOCK
from notebook_tools import defined

ASSIGNMENT = {exercise.name: exercise.assignment for exercise in EXERCISES}

ANSWERS = (CONV_OUTPUT_SIZE + CORR2D + CONV2D_MULTI_IN + CONV2D_MULTI_OUT + CONV_LAYER_PARAMS + CONV2D + MAX_POOL2D
           + STACK_SHAPES + RECEPTIVE_FIELD + VGG16_TABLE + VGG_BLOCK + CONV2D_BACKWARD + HE_INIT
           + CONV2D_GROUPED + SEPARABLE_PARAMS + SEPARABLE_MACS + TO_CONV_LIB_LAYOUT + TO_CHANNELS_FIRST)


def learner_function(row):
    """The function the row's source defines, in its solution notebook's namespace."""
    return defined(ASSIGNMENT[row.exercise], row.exercise, row.source)
