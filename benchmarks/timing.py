"""Timing shared by the benchmarks: the median of repeated calls after warm-up calls."""

import statistics
import time


def median_seconds(function, repeats, warmup=2):
    """Call function() warmup times untimed, then repeats times; return the median seconds of one call."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
