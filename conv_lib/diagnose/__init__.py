"""Name the wrong idea behind a wrong answer: the notebooks' checks, one module per notebook.

The graded notebooks call ``check_<function>(student_function)``. A check runs
the learner's function on small crafted inputs, compares each answer with the
expected one, and when they differ it works out *which* misconception produces
exactly the learner's numbers: it recomputes the answer the way a learner who
believes "channels are averaged" or "each filter channel makes its own map"
would, and sees which of those matches. An idea is named only when it fits:
its answers equal the learner's on every case where both were computed, the
right ones included (verdict.Verdict); an answer no idea fits is described
([wrong-values], [output-size]) with its first difference. The failure is a
``Misconception`` (an ``AssertionError``) whose message lists each problem on
a line of its own, starting with stable codes in square brackets, a ready-made
call first, for example::

    [reference-call] conv2d_multi_in calls scipy.signal.correlate2d, a ready-made convolution ...
    [depth-check] conv2d_multi_in accepted an input with 3 channels and filters with 2 channels ...

The package, the course's order:

    codes          CODES (the sentence of each code) and Misconception
    plain          the expected answers' arithmetic in plain Python (lists and loops)
    runner         calling the learner's function; watching for ready-made calls
    verdict        comparing answers, naming the misconception, the messages
    exercise       Exercise: a graded function described once, for the notebook's
                   check and the independent check (autograder/integrity.py)
    single_channel          notebook 01: conv_output_size, corr2d
    multi_channel           notebook 02: conv2d_multi_in
    many_filters            notebook 03: conv2d_multi_out, conv_layer_params
    conv_pool_stack         notebook 04: conv2d, max_pool2d
    conv_pool_stack_shapes  notebook 04: stack_shapes, receptive_field
    vgg16                   notebook 05: vgg16_table, vgg_block
    learning_filters        notebook 06: conv2d_backward, he_init
    groups_depthwise        notebook 07: conv2d_grouped
    groups_depthwise_layouts notebook 07: separable_params, separable_macs, to_conv_lib_layout,
                            to_channels_first
    raised_where, catalogue every code's sentence, notebooks (read from the checks'
                            source) and example: print_catalogue(), python -m conv_lib.diagnose

Each notebook's module holds its checks, the independent check's cases, and
at its end the Exercise records; EXERCISES lists them all.

Codes (see ``CODES`` for the sentence each one stands for):

    no-channel-sum, mean-not-sum, channel-pairing, one-channel-only,
    missing-bias, bias-per-channel, flipped-kernel, output-size,
    per-filter-per-channel, filters-summed, filter-depth, filter-count,
    depth-check, reference-call, no-return, not-an-array, raises, wrong-values,
    batch-mixed, pool-mixes-channels, avg-not-max, conv-keeps-channels,
    relu-changes-shape, one-per-layer, not-a-shape-list, stride-ignored,
    kernels-multiplied, padding-counted, stride-too-early, pool-ignored,
    off-by-one, fc-input-size, pool-has-params, macs-wrong, input-shape-ignored,
    not-a-table, relu-missing, pool-missing, padding-missing, relu-before-bias,
    block-incomplete, not-a-tuple, db-not-summed, dw-channel-mixup,
    dw-batch-not-summed, dx-not-flipped, dx-channel-sum, wrong-shape,
    rng-ignored, fan-in-wrong, variance-not-std, xavier-not-he,
    uniform-not-normal, bias-per-product, filter-reads-one-channel,
    kernel-shared, reshape-not-transpose, axis-dropped, start-not-strided,
    index-steps-by-stride, one-sided-padding, groups-ignored, wrong-group,
    depthwise-summed, group-size-from-c-out, groups-check, separable-no-pointwise,
    separable-no-depthwise, separable-no-bias, separable-counted-standard,
    depthwise-as-full, kernel-reshaped, wrong-axis-order, source-mixed-up, source-check

Trust: the expected answers are computed here in plain Python (lists and
loops, module plain), never with numpy's or the library's convolution, so a
learner's notebook cannot change them by replacing a library function. Numpy is
used only to turn the learner's answer into numbers (and, for check_he_init, to
make the numpy Generators passed to the learner's function; the statistics of
its draws are computed in plain Python). Visible and hidden checks alike watch
for calls to a ready-made convolution (``[reference-call]``), so nothing passes
in the notebook that grading then refuses for a reason the notebook could know;
hidden checks (``hidden=True``) use other random inputs of the same kinds (each
kind of hidden case has a visible sibling) and keep inputs and expected values
out of the message.
The independent check's cases (``*_independent_cases``) are the one place that
uses conv_lib for expected answers: they run in the grader's process, where no
notebook code runs.
"""

from .catalogue import print_catalogue
from .codes import CODES, Misconception
from .conv_pool_stack import CONV2D, MAX_POOL2D, check_conv2d, check_max_pool2d
from .conv_pool_stack_shapes import RECEPTIVE_FIELD, STACK_SHAPES, check_receptive_field, check_stack_shapes
from .exercise import Exercise
from .groups_depthwise import CONV2D_GROUPED, check_conv2d_grouped
from .groups_depthwise_layouts import (
    SEPARABLE_MACS,
    SEPARABLE_PARAMS,
    TO_CHANNELS_FIRST,
    TO_CONV_LIB_LAYOUT,
    check_separable_macs,
    check_separable_params,
    check_to_channels_first,
    check_to_conv_lib_layout,
)
from .learning_filters import (
    CONV2D_BACKWARD,
    HE_FLAT_KURTOSIS,
    HE_INIT,
    HE_LARGE_SIZES,
    HE_MEAN_STANDARD_ERRORS,
    HE_STD_TOLERANCE,
    check_conv2d_backward,
    check_he_init,
)
from .many_filters import CONV2D_MULTI_OUT, CONV_LAYER_PARAMS, check_conv2d_multi_out, check_conv_layer_params
from .multi_channel import CONV2D_MULTI_IN, check_conv2d_multi_in
from .single_channel import CONV_OUTPUT_SIZE, CORR2D, check_conv_output_size, check_corr2d
from .vgg16 import VGG16_TABLE, VGG_BLOCK, check_vgg16_table, check_vgg_block

#: Every graded function of the course, in the order of the notebooks and, within a
#: notebook, in the order the independent check calls them (its case numbers follow it).
EXERCISES = (
    CONV_OUTPUT_SIZE, CORR2D,
    CONV2D_MULTI_IN,
    CONV2D_MULTI_OUT, CONV_LAYER_PARAMS,
    CONV2D, MAX_POOL2D, STACK_SHAPES, RECEPTIVE_FIELD,
    VGG16_TABLE, VGG_BLOCK,
    CONV2D_BACKWARD, HE_INIT,
    CONV2D_GROUPED, SEPARABLE_PARAMS, SEPARABLE_MACS, TO_CONV_LIB_LAYOUT, TO_CHANNELS_FIRST,
)


def exercises_of(assignment):
    """The Exercises of one assignment ("04_conv_pool_stack"), in order; () for one without any."""
    return tuple(exercise for exercise in EXERCISES if exercise.assignment == assignment)


__all__ = [
    "CODES", "EXERCISES", "Exercise", "Misconception", "exercises_of", "print_catalogue",
    "HE_FLAT_KURTOSIS", "HE_LARGE_SIZES", "HE_MEAN_STANDARD_ERRORS", "HE_STD_TOLERANCE",
    "check_conv_output_size", "check_corr2d", "check_conv2d_multi_in", "check_conv2d_multi_out",
    "check_conv_layer_params", "check_conv2d", "check_max_pool2d", "check_stack_shapes", "check_receptive_field",
    "check_vgg16_table", "check_vgg_block", "check_conv2d_backward", "check_he_init",
    "check_conv2d_grouped", "check_separable_params", "check_separable_macs", "check_to_conv_lib_layout",
    "check_to_channels_first",
    "CONV_OUTPUT_SIZE", "CORR2D", "CONV2D_MULTI_IN", "CONV2D_MULTI_OUT", "CONV_LAYER_PARAMS", "CONV2D", "MAX_POOL2D",
    "STACK_SHAPES", "RECEPTIVE_FIELD", "VGG16_TABLE", "VGG_BLOCK", "CONV2D_BACKWARD", "HE_INIT",
    "CONV2D_GROUPED", "SEPARABLE_PARAMS", "SEPARABLE_MACS", "TO_CONV_LIB_LAYOUT", "TO_CHANNELS_FIRST",
]
