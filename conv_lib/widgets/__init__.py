"""The interactive tools: sliders and live pictures (ipywidgets) around conv_lib's operations.

    from conv_lib.widgets import conv_explorer
    conv_explorer()          # the lecture demo, in a notebook or served alone by Voila (make demo)

explorer.py    the lecture demo: how one filter meets every input channel, window by
               window, with the arithmetic of each output number (ConvExplorer)

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

__all__ = [
    "ANNOTATE_MAX_SIDE",
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
    "explorer_input",
    "preset_filters",
    "require_groups",
]
