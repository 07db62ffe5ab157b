"""conv_lib: the small numpy library behind the Conv Channels course.

The channel-summing rule, in one sentence: a filter has one channel per input
channel; each is cross-correlated with its own input channel; the responses are
summed, plus one bias, into one feature map; C_out filters make C_out maps.

Modules:
    shapes    the output-size rule (output_size)
    signatures describe(function): how to call a library function and its arrays' shapes,
              printed in the notebooks where an exercise reuses the function
    ops       pad2d, corr2d, conv2d_multi_in, conv2d (reference and fast; groups= for grouped
              and depthwise convolution), relu, pooling
    models    networks as plain data: VGG16's convolutional part, and layer specs
              (vgg16, vgg11, tiny_vgg) with summary, init_params and forward; MobileNet's
              depthwise_separable_block beside standard_block, and compare_blocks
    checks    argument checks whose errors name what was expected and what was given
    backward  backward passes: conv2d (reference and fast), max pooling, ReLU, linear
    gradcheck numerical gradients and the relative error that says whether a backward pass is right
    layers    a small layer API (Conv2d, ReLU, MaxPool2d, Flatten, Linear, Sequential), the
              softmax cross-entropy loss and SGD with momentum
    data      the 1,797 8x8 handwritten digits that ship with scikit-learn, split into train and test
    train     training a TinyVGG on the digits: train, accuracy, predict, and the course's RECIPE
    plots     the pictures of notebooks 01-06, one module per notebook (imports matplotlib;
              import it as conv_lib.plots)
    diagnose  the notebooks' checks, one module per notebook: name the misconception behind a
              wrong answer; and each graded function's Exercise, which the grader's independent check reads
    widgets   the lecture demo, conv_explorer() (imports ipywidgets and matplotlib)
    training_view  notebook 06's live loss and accuracy plot with a progress bar (matplotlib, tqdm)
"""

from .backward import (
    conv2d_backward,
    conv2d_backward_reference,
    linear_backward,
    max_pool2d_backward,
    max_pool2d_backward_reference,
    relu_backward,
)
from .data import load_digits
from .gradcheck import gradcheck, numerical_gradient
from .ops import (
    avg_pool2d,
    avg_pool2d_reference,
    conv2d,
    conv2d_fast,
    conv2d_multi_in,
    conv2d_reference,
    corr2d,
    max_pool2d,
    max_pool2d_reference,
    pad2d,
    relu,
)
from .shapes import effective_kernel_size, output_size
from .signatures import describe

__version__ = "0.1.0"

__all__ = [
    "avg_pool2d",
    "avg_pool2d_reference",
    "conv2d",
    "conv2d_backward",
    "conv2d_backward_reference",
    "conv2d_fast",
    "conv2d_multi_in",
    "conv2d_reference",
    "corr2d",
    "describe",
    "effective_kernel_size",
    "gradcheck",
    "linear_backward",
    "load_digits",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_backward_reference",
    "max_pool2d_reference",
    "numerical_gradient",
    "output_size",
    "pad2d",
    "relu",
    "relu_backward",
]
