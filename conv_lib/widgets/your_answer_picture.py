"""The picture of the answer explorer (your_answer.py): the rule and the learner's map, window by window.

One matplotlib figure per explored case, its artists made once and updated
(set_data, set_text, set_bounds), rendered to PNG for an ipywidgets Image,
as the lecture demo's ExplorerPicture does, and with its panels (_Panel):

    row 1  each input channel of image n, padded, the window outlined
    row 2  filter f's channels (corr2d: the kernel k)
    row 3  the products window × w[f, c], each titled with its sum
    row 4  the rule's map out[n, f] and the learner's, side by side, the current
           cell outlined on both and every wrong cell of the learner's map marked
           in red (a dashed box: the part compared, when the shapes differ); then
           the difference, the learner's minus the rule's, where both have a position
"""


import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from ..plots import format_number
from .explorer_picture import HIGHLIGHT, _Panel, _symmetric, png_bytes, tap_squares

#: Cells a side up to which a panel's numbers are written in.
ANNOTATED_SIDE = 12
#: The colour of a wrong cell's mark and of a wrong value's title.
WRONG = "tab:red"
#: Half the side of the square marking a wrong cell (cells are 1 wide).
WRONG_HALF_SIDE = 0.4


class AnswerPicture:
    """The figure of one AnswerCase, made once. ``render(position)`` updates it and returns a PNG.

    position: (n, f, row, column), the image, the filter and the window's output cell.
    """

    def __init__(self, case, dpi=80):
        self.case = case
        C = case.x.shape[1]
        columns = max(C, 3)
        self.figure = Figure(figsize=(min(2.7 * columns + 0.9, 13.0), 10.5), dpi=dpi, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        grid = self.figure.add_gridspec(4, columns, height_ratios=(1.3, 0.85, 0.85, 1.4))
        self.inputs = [_Panel(self.figure.add_subplot(grid[0, c]), "gray", ANNOTATED_SIDE) for c in range(C)]
        self.kernels = [_Panel(self.figure.add_subplot(grid[1, c]), "RdBu_r", ANNOTATED_SIDE) for c in range(C)]
        self.products = [_Panel(self.figure.add_subplot(grid[2, c]), "RdBu_r", ANNOTATED_SIDE) for c in range(C)]
        maps = grid[3, :].subgridspec(1, 3)
        self.rule, self.yours, self.difference = (
            _Panel(self.figure.add_subplot(maps[0, k]), "RdBu_r", ANNOTATED_SIDE) for k in range(3))
        self.windows = [self._outline(panel.ax, HIGHLIGHT, 3.0) for panel in self.inputs]
        self.borders = [self._outline(panel.ax, "tab:cyan", 1.2, linestyle="--") for panel in self.inputs]
        self.cells = [self._outline(panel.ax, HIGHLIGHT, 3.0) for panel in (self.rule, self.yours, self.difference)]
        # On the learner's map, when the shapes differ: the part compared with the rule's.
        self.compared = self._outline(self.yours.ax, "black", 1.5, linestyle="--")
        self.marks = [panel.ax.add_line(Line2D([], [], color=WRONG, linewidth=2.0))
                      for panel in (self.yours, self.difference)]
        self.missing = self.yours.ax.text(0.5, 0.5, "", transform=self.yours.ax.transAxes, ha="center", va="center",
                                          fontsize=10, wrap=True)
        # Lay the figure out once, with the case's own arrays and labels in place (their shapes never
        # change), then keep that layout: no solver run per change.
        self._show_window(case.first_position())
        self._show_maps(case.first_position())
        self.canvas.draw()
        self.figure.set_layout_engine("none")

    @staticmethod
    def _outline(ax, colour, width, linestyle="-"):
        return ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=colour, linewidth=width, linestyle=linestyle))

    def render(self, position):
        """Show the window at position (n, f, row, column); return the figure as PNG bytes."""
        self._show_window(position)
        self._show_maps(position)
        self.canvas.draw()
        return png_bytes(np.asarray(self.canvas.buffer_rgba()))

    def _show_window(self, position):
        """Rows 1-3: image n's channels with the window, filter f's channels, their products."""
        case, (n, f, i, j) = self.case, position
        kH, kW = case.w.shape[2:]
        H, W = case.x.shape[2:]
        p = case.padding
        low, high = float(case.x_padded.min()), float(case.x_padded.max())
        products = case.products(position)
        product_range = _symmetric(products)
        kernel_range = _symmetric(case.w[f])
        for c, (image, kernel, product) in enumerate(zip(self.inputs, self.kernels, self.products)):
            image.show(case.x_padded[n, c], self._indexed(case.x_names, n, c), low, high if high > low else low + 1)
            self.windows[c].set_bounds(j * case.stride - 0.5, i * case.stride - 0.5, kW, kH)
            self.borders[c].set_bounds(p - 0.5, p - 0.5, W, H)
            self.borders[c].set_visible(p > 0)
            kernel.show(case.w[f, c], self._indexed(case.w_names, f, c), *kernel_range)
            product.show(products[c], f"sum {format_number(products[c].sum())}", *product_range)
        self.inputs[0].ax.set_ylabel("input channels, padded\n(window outlined)" if p else
                                     "input channels\n(window outlined)", fontsize=10)
        self.kernels[0].ax.set_ylabel("the kernel k" if case.w_names == "k" else f"filter {f}: one channel\n"
                                      "per input channel", fontsize=10)
        self.products[0].ax.set_ylabel("window × kernel" if case.w_names == "k" else "window × filter,\n"
                                       "channel by channel", fontsize=10)

    @staticmethod
    def _indexed(names, first, channel):
        """'x[0, 2]', 'w[2]' or 'k': a panel's title in the function's own names."""
        return names.replace("n", str(first)).replace("f", str(first)).replace("c", str(channel))

    def _show_maps(self, position):
        """Row 4: the rule's map, the learner's (wrong cells marked) and their difference."""
        case, (n, f, i, j) = self.case, position
        rule = case.expected[n, f]
        has_map = n < case.given.shape[0] and f < case.given.shape[1]
        yours = case.given[n, f] if has_map else np.zeros((0, 0))
        scale = _symmetric(np.concatenate([rule.ravel(), yours[np.isfinite(yours)].ravel()]))
        which = {2: "the output map", 3: f"map {f}", 4: f"image {n}, map {f}"}[case.own_axes]
        value = case.rule_value(position)
        rule_shape = "" if case.same_shape else f"\nshape {case.rule_shape}"
        self.rule.show(rule, f"the rule: {case.out(position)} = {format_number(value)}{rule_shape}", *scale)
        self.rule.ax.set_ylabel(which, fontsize=10)
        given = case.given_value(position)
        self.missing.set_visible(not has_map)
        if has_map:
            shape = "" if case.same_shape else f"\nshape {case.answer.shape}"
            said = "no such position" if given is None else format_number(given)
            self.yours.show(yours, f"your {case.name}: {said}{shape}", *scale)
            wrong = given is None or case.is_wrong(position)
            self.yours.ax.title.set_color(WRONG if wrong else "black")
            h, w = min(rule.shape[0], yours.shape[0]), min(rule.shape[1], yours.shape[1])
            difference = yours[:h, :w] - rule[:h, :w]
            self.difference.show(difference, "yours − rule", *_symmetric(difference))
            self.compared.set_bounds(-0.5, -0.5, w, h)
            self.compared.set_visible(yours.shape != rule.shape)
        else:
            self.yours.blank()
            self.difference.blank()
            self.compared.set_visible(False)
            self.missing.set_text(f"your answer has shape {case.answer.shape}:\nnothing for {which}")
        here = case.wrong[(case.wrong[:, 0] == n) & (case.wrong[:, 1] == f)][:, 2:] if len(case.wrong) else []
        for mark in self.marks:
            cells = np.asarray(here).reshape(-1, 2)
            mark.set_data(*tap_squares(cells[:, 0], cells[:, 1], half_side=WRONG_HALF_SIDE))
            mark.set_visible(has_map)
        for cell, panel in zip(self.cells, (self.rule, self.yours, self.difference)):
            cell.set_bounds(j - 0.5, i - 0.5, 1, 1)
            cell.set_visible(panel is self.rule or has_map)
