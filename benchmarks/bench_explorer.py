"""Benchmark the lecture demo's redraw: slider change to finished picture (run with `make bench`).

Each setting of SETTINGS is timed in turn: the photo with 3 input channels and
4 filters (groups=1, the usual layer), then with 4 channels and 4 filters in
4 groups (depthwise, notebook 07: dimmed channels, blank panels), then the
narrower pictures of 2 channels and of 1 (the small grid), then the projector
look (larger type at a higher dpi, about 2.3 times the pixels). For each
control, a fresh explorer in that setting has its value changed many times,
cycling through a few values; the time from setting `.value` (what a slider
drag sends to the kernel) to the end of the redraw (the PNG in the Image widget
and the text lines updated) is measured in the kernel, as the observer runs
synchronously. A value equal to the current one is skipped (no redraw), and so
is a value beyond a slider's limits (the small grid's 6x6 output has no column
20), and so is a control whose values the setting does not offer (groups with 3
channels and 4 filters). Printed: median and 95th percentile per control, and over all
changes together, per setting.

Moving the window (the row and column sliders and the play button) redraws
only what the window decides, on top of a saved background; any other control
redraws the whole figure.

The explorer keeps one picture per (channel count, look), made on its first use
(then shared by every explorer of the process). Those first uses are timed apart,
before the tables: "Making each picture". In the tables every picture exists, so
a change of the channels control times the switch to an existing picture.
"""

import argparse
import platform
import statistics
import time

import numpy as np

from conv_lib.widgets import MAX_CHANNELS, PRESETS, conv_explorer
from conv_lib.widgets.explorer import picture_for

# Each control cycles through these values; together they are one lecture's worth of moves.
CHANGES = {
    "column": list(range(1, 30)) + list(range(28, 0, -1)),
    "row": list(range(1, 30)),
    "play": list(range(40, 400, 7)),
    "highlight": [1, 2, 3, 0] * 5,
    "filters": [5, 6, 3, 4] * 3,
    "kernel_size": [5, 3, 1, 3] * 3,
    "stride": [2, 1] * 5,
    "padding": [0, 2, 1] * 4,
    "dilation": [2, 1] * 5,
    "preset": list(PRESETS[1:] + PRESETS[:1]) * 3,
    "channels": [4, 2, 1, 3] * 3,
    "input": ["small grid", "photo"] * 5,
    "groups": [2, 1, 2, 4] * 3,
}

# The explorer's starting values, one table each.
SETTINGS = {
    "photo input, 3 channels, 4 filters": {"kind": "photo", "channels": 3, "filters": 4},
    "photo input, 4 channels, 4 filters, depthwise (groups=4)": {"kind": "photo", "channels": 4, "filters": 4, "groups": 4},
    "photo input, 2 channels, 4 filters": {"kind": "photo", "channels": 2, "filters": 4},
    "small grid, 1 channel, 2 filters": {"kind": "small grid", "channels": 1, "filters": 2},
    "projector: photo input, 3 channels, 4 filters": {"kind": "photo", "channels": 3, "filters": 4, "projector": True},
}


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def offered(explorer, name, values):
    """False when a dropdown of the explorer does not offer every value (e.g. groups=2 with 3 channels)."""
    options = getattr(explorer.controls[name], "options", None)
    return options is None or all(value in options for value in values)


def within_limits(control, value):
    """False when a slider cannot take ``value`` (it would clamp it, with no redraw: e.g. column 20 on a 6x6 output)."""
    return not isinstance(value, int) or getattr(control, "min", value) <= value <= getattr(control, "max", value)


def time_changes(explorer, name, values):
    """Seconds from setting each value to the end of its redraw.

    Values equal to the current one are skipped, and so are values beyond the slider's limits.
    """
    times = []
    for value in values:
        control = explorer.controls[name]
        if control.value == value or not within_limits(control, value):
            continue
        start = time.perf_counter()
        explorer.controls[name].value = value
        times.append(time.perf_counter() - start)
    return times


def time_setting(settings, controls, rounds):
    """Print one table for an explorer starting at ``settings``; returns (window-move times, other times)."""
    everything, window = [], []
    print("| control | changes | median ms | 95th percentile ms | redraw |")
    print("| --- | --- | --- | --- | --- |")
    for name in controls:
        explorer = conv_explorer(**settings)  # each control starts from the setting itself
        values = CHANGES[name]
        if not offered(explorer, name, values):
            print(f"| {name} | 0 | - | - | not offered here |")
            continue
        times = [t for _ in range(rounds) for t in time_changes(explorer, name, values)]
        if not times:
            print(f"| {name} | 0 | - | - | every value beyond its limits here |")
            continue
        kind = "window only" if name in ("row", "column", "play") else "whole figure"
        (window if kind == "window only" else everything).extend(times)
        print(f"| {name} | {len(times)} | {1000 * statistics.median(times):.1f} | {1000 * percentile(times, 0.95):.1f} | {kind} |")
    print()
    return window, everything


def time_making_pictures():
    """Make every picture the explorer can ask for (once per process), printing how long each took."""
    made = []
    for projector in (False, True):
        for channels in range(1, MAX_CHANNELS + 1):
            start = time.perf_counter()
            picture_for(channels, projector)
            made.append(f"{channels} channel{'s' * (channels > 1)}{', projector' * projector}: "
                        f"{1000 * (time.perf_counter() - start):.0f} ms")
    print("Making each picture (first use only; 0 ms: made already):", "; ".join(made))


def summarise(window, everything):
    for label, times in [("window moves", window), ("other controls", everything), ("all changes", window + everything)]:
        if times:
            print(f"{label}: median {1000 * statistics.median(times):.1f} ms, "
                  f"95th percentile {1000 * percentile(times, 0.95):.1f} ms over {len(times)} changes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="times each control's list of changes is played")
    parser.add_argument("--controls", nargs="+", choices=list(CHANGES), default=list(CHANGES), help="only these controls")
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS),
                        help="only these starting settings")
    arguments = parser.parse_args()

    print(f"Machine: {platform.machine()}, {platform.processor() or 'unknown CPU'}, Python {platform.python_version()}")
    start = time.perf_counter()
    conv_explorer(**SETTINGS[arguments.settings[0]])
    print(f"Building the explorer (first full draw included): {1000 * (time.perf_counter() - start):.0f} ms")
    time_making_pictures()
    all_window, all_everything = [], []
    for label in arguments.settings:
        print(f"\nRedraw after one change of a control, {label} (in the kernel):\n")
        window, everything = time_setting(SETTINGS[label], arguments.controls, arguments.rounds)
        summarise(window, everything)
        all_window += window
        all_everything += everything
    if len(arguments.settings) > 1:
        print("\nEvery setting together:")
        summarise(all_window, all_everything)
    print("Goal: median under 50 ms, 95th percentile under 100 ms.")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
