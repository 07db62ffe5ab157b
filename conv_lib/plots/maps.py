"""show_maps: several maps side by side on one colour scale, the picture notebooks 01-06 use.

    show_maps               several maps side by side on one shared colour scale:
                            a photo and its filtered copies (01), a layer's feature
                            maps (03, 04, 05), digits and learned filters (06)
"""

import numpy as np

from ..checks import as_real_array, require_axes, whole_number
from .common import ANNOTATE_MAX_CELLS, _grid, _new_figure, _shared_range


def _as_maps(maps):
    """maps (M, H, W) or a list of 2-D arrays -> list of float (H, W) arrays."""
    if isinstance(maps, (list, tuple)):
        arrays = [as_real_array(m, f"maps[{index}]") for index, m in enumerate(maps)]
    else:
        stack = as_real_array(maps, "maps")
        require_axes(stack, 3, "maps", "(M, H, W)", "A single map (H, W) is maps[None].")
        arrays = list(stack)
    for index, m in enumerate(arrays):
        require_axes(m, 2, f"maps[{index}]", "(H, W)")
    if not arrays:
        raise ValueError("maps must hold at least one map, got none")
    return arrays


def show_maps(maps, titles=None, suptitle=None, cmap="RdBu_r", ncols=None, symmetric=True, colorbar=None):
    """Show several maps side by side, e.g. the C_out feature maps of a layer, all on one colour scale.

    maps:   (M, H, W), or a list of M arrays (H, W) (their sizes may differ).
    titles: M panel titles (default "map 0", "map 1", ...); suptitle: figure title.
    ncols:  panels per row (default: all in one row, at most 6 per row).
    cmap:   the colormap, e.g. "RdBu_r" (the default, for values around 0) or "viridis".
    symmetric: all panels on one colour scale, vmin..vmax: True: centred on 0,
            from -m to m (m the largest absolute value of all the maps); False:
            from the smallest to the largest value of all the maps (e.g. after a
            ReLU, where nothing is negative). Either way a colour means the same
            number in every panel, so a faint map is a weak one.
    colorbar: True: one colour bar for the shared scale, labelled "value (one
            scale for all M maps)"; False: none; None (the default): one when
            symmetric is True.
    Numbers are written in when each map has at most 36 cells.
    Returns the Figure; the panels' axes are labelled "map 0", "map 1", ...
    """
    arrays = _as_maps(maps)
    M = len(arrays)
    titles = [f"map {index}" for index in range(M)] if titles is None else list(titles)
    if len(titles) != M:
        raise ValueError(f"titles must name each of the {M} maps, got {len(titles)} titles")
    ncols = min(M, 6) if ncols is None else whole_number(ncols, "ncols", 1)
    if colorbar is None:
        colorbar = bool(symmetric)
    elif not isinstance(colorbar, bool):
        raise ValueError(f"colorbar must be True, False or None (one when symmetric), got {colorbar!r}")
    nrows = -(-M // ncols)
    fig = _new_figure(2.1 * ncols + (0.8 if colorbar else 0.2), 2.2 * nrows + (0.4 if suptitle else 0.1))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    scale = _shared_range(*arrays, symmetric=symmetric)
    image = None
    for index, (ax, m, title) in enumerate(zip(axes, arrays, titles)):
        image = _grid(ax, m, title, cmap, m.size <= ANNOTATE_MAX_CELLS, *scale)
        ax.set_label(f"map {index}")
    for ax in axes[M:]:
        ax.axis("off")
    if colorbar:
        colour_bar = fig.colorbar(image, ax=axes[:M].tolist(), shrink=0.8)
        colour_bar.set_label(f"value (one scale for all {M} maps)" if M > 1 else "value", fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    return fig
