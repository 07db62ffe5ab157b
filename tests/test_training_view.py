"""The live training picture records what it is told and draws it, inside and outside a notebook."""

import numpy as np
import pytest

from conv_lib.training_view import TrainingMonitor, smoothed


def test_smoothed_is_the_running_mean_of_the_last_window_values():
    # by hand: window 2 over 1, 3, 5, 7 -> 1, (1+3)/2, (3+5)/2, (5+7)/2
    np.testing.assert_allclose(smoothed([1, 3, 5, 7], 2), [1, 2, 4, 6])
    np.testing.assert_allclose(smoothed([4, 8], 10), [4, 6])


def test_a_window_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1; got 0"):
        smoothed([1, 2], 0)


def test_the_monitor_records_batches_and_epochs_and_draws_them():
    monitor = TrainingMonitor(steps=6, target=0.97, redraw_every=2, show=False)
    for loss in [2.3, 2.0, 1.5, 1.1, 0.7, 0.4]:
        monitor.batch(loss)
    monitor.epoch(0.8, 0.75)
    monitor.epoch(0.95, 0.93)
    monitor.close()
    assert monitor.losses == [2.3, 2.0, 1.5, 1.1, 0.7, 0.4]
    assert (monitor.train_accuracy, monitor.test_accuracy) == ([0.8, 0.95], [0.75, 0.93])
    assert monitor.png().startswith(b"\x89PNG")
    lines = monitor._lines
    np.testing.assert_allclose(lines["mean"].get_ydata(), smoothed(monitor.losses, 2))
    np.testing.assert_allclose(lines["test"].get_ydata(), [0.75, 0.93])


def test_a_monitor_needs_a_positive_whole_number_of_steps():
    with pytest.raises(ValueError, match="number of batches"):
        TrainingMonitor(steps=0, show=False)
