"""Watching a network learn: a live loss and accuracy plot with a progress bar.

    monitor = TrainingMonitor(steps=total_batches, target=0.97)
    ... call monitor.batch(loss) after every batch, monitor.epoch(train_acc, test_acc) after every epoch
    monitor.close()

The figure is drawn once with matplotlib's object-oriented API (no pyplot
window) and shown as a PNG in the notebook's output; every `redraw_every`
batches and at every epoch its lines get the new data and the same output is
replaced in place (IPython's display handles), so the plot grows while the
network trains. The progress bar is tqdm's (tqdm.auto: a widget in
JupyterLab, text elsewhere). Outside IPython nothing is displayed, and the
recorded numbers stay available (`losses`, `train_accuracy`, `test_accuracy`).
"""

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from tqdm.auto import tqdm


def smoothed(values, window):
    """The running mean of the last `window` values at each step.

    values: (T,) numbers. Returns (T,) floats; the first ones average what there is so far.
    """
    values = np.asarray(values, dtype=float)
    if window < 1:
        raise ValueError(f"window must be a whole number of steps, at least 1; got {window}")
    totals = np.cumsum(np.concatenate([[0.0], values]))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (totals[ends] - totals[starts]) / (ends - starts)


class TrainingMonitor:
    """A live plot of the training loss (per batch) and the accuracies (per epoch), with a progress bar.

    steps:        how many batches the whole training runs (the progress bar's length).
    target:       an accuracy to draw as a dashed line (e.g. 0.97), or None.
    redraw_every: batches between two redraws of the loss curve (each redraw costs ~30 ms).
    show:         False to record only (tests, scripts): no figure is displayed, no bar is drawn.
    """

    def __init__(self, steps, target=None, redraw_every=25, show=True):
        if int(steps) != steps or steps < 1:
            raise ValueError(f"steps must be the number of batches to train, at least 1; got {steps!r}")
        self.steps, self.target, self.redraw_every, self.show = int(steps), target, int(redraw_every), show
        self.losses, self.train_accuracy, self.test_accuracy = [], [], []
        self._bar = tqdm(total=self.steps, desc="training", unit="batch", disable=not show)
        self._figure, self._lines = self._make_figure()
        self._handle = None
        if show:
            self._handle = _display(self.png(), display_id=True)

    def _make_figure(self):
        figure = Figure(figsize=(10, 3.4), layout="constrained")
        FigureCanvasAgg(figure)
        loss_axes, accuracy_axes = figure.subplots(1, 2)
        loss_axes.set(title="training loss", xlabel="batch", ylabel="cross-entropy", xlim=(0, self.steps))
        raw, = loss_axes.plot([], [], color="tab:blue", alpha=0.3, linewidth=1, label="each batch")
        mean, = loss_axes.plot([], [], color="tab:blue", linewidth=2, label="running mean")
        loss_axes.legend(loc="upper right")
        accuracy_axes.set(title="accuracy", xlabel="epoch", ylabel="fraction correct", ylim=(0, 1.02))
        train, = accuracy_axes.plot([], [], "o-", color="tab:green", label="training set")
        test, = accuracy_axes.plot([], [], "s-", color="tab:red", label="test set")
        if self.target is not None:
            accuracy_axes.axhline(self.target, color="grey", linestyle="--", linewidth=1,
                                  label=f"goal {self.target:.0%}")
        accuracy_axes.legend(loc="lower right")
        return figure, {"raw": raw, "mean": mean, "train": train, "test": test,
                        "loss_axes": loss_axes, "accuracy_axes": accuracy_axes}

    def batch(self, loss):
        """Record one batch's loss; advance the bar; redraw every `redraw_every` batches."""
        self.losses.append(float(loss))
        self._bar.update(1)
        if len(self.losses) % self.redraw_every == 0:
            self._bar.set_postfix(loss=f"{smoothed(self.losses, self.redraw_every)[-1]:.3f}")
            self.redraw()

    def epoch(self, train_accuracy, test_accuracy):
        """Record one epoch's accuracies (fractions in [0, 1]) and redraw."""
        self.train_accuracy.append(float(train_accuracy))
        self.test_accuracy.append(float(test_accuracy))
        self._bar.set_postfix(test_accuracy=f"{test_accuracy:.1%}")
        self.redraw()

    def redraw(self):
        """Give the lines their data and replace the shown picture."""
        lines = self._lines
        steps = np.arange(1, len(self.losses) + 1)
        lines["raw"].set_data(steps, self.losses)
        lines["mean"].set_data(steps, smoothed(self.losses, self.redraw_every) if self.losses else [])
        if self.losses:
            lines["loss_axes"].set_ylim(0, max(self.losses[: self.redraw_every * 2]) * 1.05 or 1)
        epochs = np.arange(1, len(self.test_accuracy) + 1)
        lines["train"].set_data(epochs, self.train_accuracy)
        lines["test"].set_data(epochs, self.test_accuracy)
        lines["accuracy_axes"].set_xlim(0.5, max(len(epochs), 1) + 0.5)
        if self._handle is not None:
            self._handle.update(_image(self.png()))

    def png(self):
        """The figure as PNG bytes."""
        buffer = io.BytesIO()
        self._figure.savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()

    def close(self):
        """Draw the final picture and close the progress bar."""
        self.redraw()
        self._bar.close()


def _image(png):
    from IPython.display import Image

    return Image(data=png, format="png")


def _display(png, display_id):
    """Show the PNG in the notebook and return the handle that replaces it; None outside IPython."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    if get_ipython() is None:
        return None
    return display(_image(png), display_id=display_id)
