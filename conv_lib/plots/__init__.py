"""The pictures of notebooks 01-07: what each step of a convolution, and of a network, looks like.

Each function draws one idea and returns the matplotlib Figure, so a notebook
shows it and a test can inspect it. Each notebook's pictures have a module of
their own, named after the notebook; every public name is also here, so a
notebook writes ``plots.draw_stack(...)`` whichever module holds it. What each
picture teaches, module by module:

common.py: what all the pictures share
    sample_photo            a real RGB photo, channels first (3, H, W), to convolve
    draw_grid               (helper) a small array as a grid of numbered cells
    format_number, format_factor, symmetric_limit, channel_colormap
                            (no picture) numbers as a learner writes them, colour scales
maps.py: every notebook
    show_maps               several maps side by side on one shared colour scale
mismatch.py: every notebook's checks
    show_mismatch           where a learner's output differs from the expected one
    first_wrong_position    (no picture) the first index where two arrays differ
single_channel.py: notebook 01
    draw_sliding_window     one channel: the window slides, multiplies, adds, and
                            fills the output one cell at a time
    draw_padding_and_stride one axis: how padding and stride decide how many
                            windows fit, i.e. the output-size formula
multi_channel.py: notebook 02
    show_channels           an image is a stack of channels, e.g. red, green, blue
    draw_channel_sum        THE rule: each kernel channel meets its own input
                            channel; the responses, plus one bias, add up to ONE map
many_filters.py: notebook 03 (draw_layer and draw_filters_to_maps again in 05, 07)
    draw_weight_tensor      the weights (C_out, C_in, kH, kW): C_out filters,
                            each a stack of C_in slices; C_out filters make C_out maps
    draw_layer              a layer as boxes: (C_in, H, W) -> (C_out, Ho, Wo)
    draw_filters_to_maps    why 128 maps and not 8192: each filter a C_in-deep stack wired
                            to every input channel (to its group's, with groups) and summed
                            into ONE map; the C_out x C_in kernels as a grid, one column per filter
    animate_filters_to_maps the same picture, one filter at a time (a FuncAnimation)
    kernel_mask             (no picture) which kernels a layer has: (C_in, C_out) of 0 and 1
conv_pool_stack.py: notebook 04
    draw_stack              a conv-ReLU-pool stack as the tensors it makes, with their shapes
    draw_max_pool           max pooling, channel by channel: C channels in, C channels out
    receptive_field_boxes   (no picture) the input pixels one unit after each layer sees
    draw_receptive_field    those fields drawn on the input, growing layer by layer
vgg16.py: notebook 05
    draw_network            a whole network (VGG16, VGG11, tiny_vgg), box by box, then
                            its fully connected layers
learning_filters.py: notebook 06
    draw_activation_std     activations exploding, vanishing or kept steady through a
                            deep stack, one line per way of initialising the weights
groups_depthwise.py: notebook 07
    draw_groups             the weights (C_out, C_in/groups, kH, kW) for groups = 1, 2, C_in
                            side by side: each filter's slices in the colours of the input
                            channels they meet, wired to those channels only
    draw_separable          depthwise k x k then pointwise 1 x 1, as boxes, with their
                            parameters (and multiply-adds) against a standard layer's
    groups_wiring, channel_colours
                            (no picture) the channels each filter meets; one colour per channel

The modules import downwards only: every module builds on common.py, and
vgg16.py on conv_pool_stack.py (draw_network shares draw_stack's layer-spec
checks, colours and boxes); no module imports a later one.

Layouts: one image is (C, H, W), channels first; one filter is (C_in, kH, kW);
the weights of a layer are (C_out, C_in, kH, kW); networks are lists of layer
specs (conv_lib.models). Everything shown is computed with conv_lib itself
(corr2d, conv2d_multi_in, pad2d, output_size, max_pool2d, models.summary).

The figures are made with pyplot, so a notebook's inline backend shows each one
when its cell ends. A call that is the last line of a cell also returns the
figure, which the notebook would show a second time: end such a line with ";"
or assign the figure (``fig = draw_layer(...)``).

This package imports matplotlib; ``import conv_lib`` does not import it, so the
core library needs numpy only.
"""

from .common import (
    ANNOTATE_MAX_CELLS,
    CAPTION_FONTSIZE,
    CHANNEL_TINTS,
    HIGHLIGHT,
    MAX_FIGURE_WIDTH,
    channel_colormap,
    draw_grid,
    format_factor,
    format_number,
    plt,  # plots.plt: pyplot, e.g. plots.plt.close("all")
    sample_photo,
    symmetric_limit,
)
from .conv_pool_stack import (
    SPATIAL_KINDS,
    SPEC_FORMS,
    TENSOR_COLOURS,
    FieldBox,
    draw_max_pool,
    draw_receptive_field,
    draw_stack,
    receptive_field_boxes,
)
from .groups_depthwise import MAX_GROUP_CHANNELS, channel_colours, draw_groups, draw_separable, groups_wiring
from .learning_filters import draw_activation_std
from .many_filters import (
    MAX_DRAWN_CHANNELS,
    MAX_SHOWN_FILTERS,
    animate_filters_to_maps,
    draw_filters_to_maps,
    draw_layer,
    draw_weight_tensor,
    kernel_mask,
)
from .maps import show_maps
from .mismatch import first_wrong_position, show_mismatch
from .multi_channel import draw_channel_sum, show_channels
from .single_channel import MAX_SLIDING_HEIGHT, draw_padding_and_stride, draw_sliding_window
from .vgg16 import draw_network

__all__ = [
    # common.py
    "ANNOTATE_MAX_CELLS",
    "CAPTION_FONTSIZE",
    "CHANNEL_TINTS",
    "HIGHLIGHT",
    "MAX_FIGURE_WIDTH",
    "channel_colormap",
    "draw_grid",
    "format_factor",
    "format_number",
    "plt",
    "sample_photo",
    "symmetric_limit",
    # maps.py
    "show_maps",
    # mismatch.py
    "first_wrong_position",
    "show_mismatch",
    # single_channel.py: notebook 01
    "MAX_SLIDING_HEIGHT",
    "draw_padding_and_stride",
    "draw_sliding_window",
    # multi_channel.py: notebook 02
    "draw_channel_sum",
    "show_channels",
    # many_filters.py: notebook 03
    "MAX_DRAWN_CHANNELS",
    "MAX_SHOWN_FILTERS",
    "animate_filters_to_maps",
    "draw_filters_to_maps",
    "draw_layer",
    "draw_weight_tensor",
    "kernel_mask",
    # conv_pool_stack.py: notebook 04
    "SPATIAL_KINDS",
    "SPEC_FORMS",
    "TENSOR_COLOURS",
    "FieldBox",
    "draw_max_pool",
    "draw_receptive_field",
    "draw_stack",
    "receptive_field_boxes",
    # vgg16.py: notebook 05
    "draw_network",
    # learning_filters.py: notebook 06
    "draw_activation_std",
    # groups_depthwise.py: notebook 07
    "MAX_GROUP_CHANNELS",
    "channel_colours",
    "draw_groups",
    "draw_separable",
    "groups_wiring",
]
