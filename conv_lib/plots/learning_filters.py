"""The picture of notebook 06 (learning filters): activations through a deep stack.

    draw_activation_std     activations exploding, vanishing or kept steady through a
                            deep stack, one line per way of initialising the weights

Notebook 06 shows the digits and the learned filters with maps.show_maps, and
its live training plot is conv_lib.training_view.
"""

import numpy as np

from .common import CAPTION_FONTSIZE, _new_figure

def draw_activation_std(stds_by_start, title=None):
    """How the activations' spread changes layer by layer, for several initialisations.

    stds_by_start: {label: standard deviations (L,)}: for each way of drawing the
                   weights, the standard deviation of the activations after layers
                   1..L (all the same length L).
    A log scale shows exploding (growing by a factor per layer) and vanishing
    (shrinking by one) alike as straight lines. Returns the Figure.
    """
    if not stds_by_start:
        raise ValueError("stds_by_start must map at least one label to its standard deviations per layer")
    series = {label: np.asarray(stds, dtype=float) for label, stds in stds_by_start.items()}
    lengths = {len(stds) for stds in series.values()}
    if len(lengths) != 1 or any(stds.ndim != 1 for stds in series.values()):
        raise ValueError(f"each label needs one standard deviation per layer, all the same length; "
                         f"got lengths {[len(np.atleast_1d(stds)) for stds in series.values()]}")
    if any(np.any(stds <= 0) or not np.all(np.isfinite(stds)) for stds in series.values()):
        raise ValueError("standard deviations must be positive, finite numbers (log scale): "
                         "a 0 or inf means the activations died out or overflowed; clip them before drawing")
    fig = _new_figure(8, 4)
    ax = fig.subplots()
    layers = np.arange(1, lengths.pop() + 1)
    for label, stds in series.items():
        ax.plot(layers, stds, "o-", label=label)
    ax.set_yscale("log")
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel="layer", ylabel="standard deviation of the activations", xticks=layers)
    ax.set_title(title or "activations layer by layer (log scale)", fontsize=CAPTION_FONTSIZE + 1)
    ax.legend()
    return fig
