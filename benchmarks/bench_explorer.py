"""Benchmark the lecture demo's redraw: slider change to finished picture (run with `make bench`).

The explorer starts on the photo with 3 input channels and 4 filters. For each
control, its value is changed many times, cycling through a few values; the
time from setting `.value` (what a slider drag sends to the kernel) to the
end of the redraw (the PNG in the Image widget and the text lines updated) is
measured in the kernel, as the observer runs synchronously. Printed: median
and 95th percentile per control, and over all changes together.

Moving the window (the row and column sliders and the play button) redraws
only what the window decides, on top of a saved background; any other control
redraws the whole figure.
"""

import argparse
import platform
import statistics
import time

import numpy as np

from conv_lib.widgets import PRESETS, conv_explorer

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
}


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def time_changes(explorer, name, values):
    times = []
    for value in values:
        start = time.perf_counter()
        explorer.controls[name].value = value
        times.append(time.perf_counter() - start)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="times each control's list of changes is played")
    parser.add_argument("--controls", nargs="+", choices=list(CHANGES), default=list(CHANGES), help="only these controls")
    arguments = parser.parse_args()

    print(f"Machine: {platform.machine()}, {platform.processor() or 'unknown CPU'}, Python {platform.python_version()}")
    start = time.perf_counter()
    explorer = conv_explorer(kind="photo", channels=3, filters=4)
    print(f"Building the explorer (first full draw included): {1000 * (time.perf_counter() - start):.0f} ms")
    print("Redraw after one change of a control, photo input, 3 channels, 4 filters (in the kernel):\n")
    print("| control | changes | median ms | 95th percentile ms | redraw |")
    print("| --- | --- | --- | --- | --- |")
    everything, window = [], []
    for name in arguments.controls:
        values = CHANGES[name]
        times = [t for _ in range(arguments.rounds) for t in time_changes(explorer, name, values)]
        kind = "window only" if name in ("row", "column", "play") else "whole figure"
        (window if kind == "window only" else everything).extend(times)
        print(f"| {name} | {len(times)} | {1000 * statistics.median(times):.1f} | {1000 * percentile(times, 0.95):.1f} | {kind} |")
    print()
    for label, times in [("window moves", window), ("other controls", everything), ("all changes", window + everything)]:
        if not times:
            continue
        print(f"{label}: median {1000 * statistics.median(times):.1f} ms, "
              f"95th percentile {1000 * percentile(times, 0.95):.1f} ms over {len(times)} changes")
    print("Goal: median under 50 ms, 95th percentile under 100 ms.")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
