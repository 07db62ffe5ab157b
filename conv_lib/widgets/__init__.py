"""The interactive tools: sliders and live pictures (ipywidgets) around conv_lib's operations.

    from conv_lib.widgets import conv_explorer
    conv_explorer()          # the lecture demo, in a notebook or served alone by Voila (make demo)

explorer.py    the lecture demo: how one filter meets every input channel, window by
               window, with the arithmetic of each output number (ConvExplorer)
your_answer.py explore(function): the learner's own corr2d, conv2d_multi_in, conv2d_multi_out
               or conv2d beside the rule, on the check's first wrong case (AnswerExplorer;
               its picture in your_answer_picture.py). A visible check's message for a wrong
               map ends with the line to run: import conv_lib.widgets; conv_lib.widgets.explore(f)

This package imports ipywidgets and matplotlib; ``import conv_lib`` does not import it.
"""

from .explorer import (
    ANNOTATE_MAX_SIDE,
    CHANNEL_NAMES,
    DIMMED,
    MAX_CHANNELS,
    MAX_FILTERS,
    MAX_KERNEL,
    PRESETS,
    ConvExplorer,
    ExplorerPicture,
    conv_explorer,
    edge_kernel,
    explorer_input,
    preset_filters,
    require_groups,
)
from .your_answer import AnswerExplorer, explore

__all__ = [
    "ANNOTATE_MAX_SIDE",
    "AnswerExplorer",
    "CHANNEL_NAMES",
    "DIMMED",
    "MAX_CHANNELS",
    "MAX_FILTERS",
    "MAX_KERNEL",
    "PRESETS",
    "ConvExplorer",
    "ExplorerPicture",
    "conv_explorer",
    "edge_kernel",
    "explore",
    "explorer_input",
    "preset_filters",
    "require_groups",
]
