"""Benchmark training a TinyVGG on the digits with the course's recipe (run with `make bench`).

Trains conv_lib.train.RECIPE (the recipe notebook 06 uses) from scratch
several times, for each BLAS thread count asked for, and prints:

- the seconds until the test accuracy first reaches 97% (checked after each
  epoch, so this is the end of that epoch), the total seconds, and the final
  test accuracy: medians over the runs, and each run's figures. The runs use
  the same seed, so they compute the same numbers and differ only in time;
  loading the digits is timed once, apart;
- the conv2d backward pass, fast (matrix products) beside the readable
  reference (loops), on one of TinyVGG's convolutions: their agreement and speedup.
"""

import argparse
import os
import platform
import statistics
import time
from dataclasses import replace

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from conv_lib.backward import conv2d_backward, conv2d_backward_reference
from conv_lib.data import load_digits
from conv_lib.train import RECIPE, run_recipe
from timing import median_seconds

TARGET = 0.97
SETTLE_SECONDS = 0.3  # pause between timing blocks: OpenBLAS's threads keep spinning for a while after a call


def machine_line():
    """The machine as bench_conv.py names it: processor, cores, Python, numpy and the BLAS in use."""
    blas = [f"{i['internal_api']} {i['version']} ({i.get('architecture', '?')}, {i['num_threads']} threads)"
            for i in threadpool_info() if i["user_api"] == "blas"]
    return (f"machine: {platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} cores; "
            f"python {platform.python_version()}, numpy {np.__version__}, BLAS: {', '.join(blas)}")


def training_runs(recipe, data, repeats):
    """Train the recipe `repeats` times; one dict per run: to_target, total (seconds), accuracy."""
    runs = []
    for _ in range(repeats):
        time.sleep(SETTLE_SECONDS)
        start = time.perf_counter()
        _, history = run_recipe(recipe, data)
        runs.append(dict(to_target=history.seconds_to_reach(TARGET), total=time.perf_counter() - start,
                         accuracy=history.test_accuracy[-1], epoch=_first_epoch(history)))
    return runs


def _first_epoch(history):
    """The 1-based epoch at which the test accuracy first reached TARGET, or None."""
    return next((epoch + 1 for epoch, accuracy in enumerate(history.test_accuracy) if accuracy >= TARGET), None)


def _seconds(value):
    return "not reached" if value is None else f"{value:.1f}"


def training_table(rows):
    lines = [f"| BLAS threads | runs | median s to {TARGET:.0%} test accuracy (epoch) | median total s "
             "| final test accuracy | each run: s to target / total s |",
             "|---|---|---|---|---|---|"]
    for threads, runs in rows:
        reached = [run["to_target"] for run in runs if run["to_target"] is not None]
        to_target = statistics.median(reached) if len(reached) == len(runs) else None
        epochs = sorted({run["epoch"] for run in runs}, key=lambda e: (e is None, e))
        accuracies = sorted({f"{run['accuracy']:.1%}" for run in runs})
        each = ", ".join(f"{_seconds(run['to_target'])} / {run['total']:.1f}" for run in runs)
        lines.append(f"| {threads} | {len(runs)} | {_seconds(to_target)} ({', '.join(map(str, epochs))}) | "
                     f"{statistics.median(run['total'] for run in runs):.1f} | {', '.join(accuracies)} | {each} |")
    return "\n".join(lines)


def backward_speedup(repeats):
    """conv2d_backward against conv2d_backward_reference on TinyVGG's second convolution, batch of 4."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8, 16, 16)).astype(np.float32)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    dout = rng.standard_normal((4, 8, 16, 16)).astype(np.float32)
    difference = max(float(np.abs(fast - reference).max() / np.abs(reference).max())
                     for fast, reference in zip(conv2d_backward(dout, x, w, padding=1),
                                                conv2d_backward_reference(dout, x, w, padding=1)))
    assert difference < 1e-5, f"fast and reference conv2d backward differ by {difference:.1e} (relative)"
    fast = median_seconds(lambda: conv2d_backward(dout, x, w, padding=1), max(repeats, 20), warmup=3)
    reference = median_seconds(lambda: conv2d_backward_reference(dout, x, w, padding=1), repeats, warmup=0)
    return (f"conv2d backward, x (4, 8, 16, 16), w (8, 8, 3, 3), padding 1, float32 (TinyVGG's conv1_2, "
            f"batch of 4): fast {fast * 1e3:.2f} ms, reference {reference * 1e3:.0f} ms, "
            f"speedup {reference / fast:.0f}x; largest relative difference {difference:.1e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="training runs per thread count (medians reported)")
    parser.add_argument("--epochs", type=int, default=RECIPE.epochs,
                        help=f"epochs per run (the recipe's {RECIPE.epochs}; fewer for a smoke run)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="BLAS thread counts to try")
    arguments = parser.parse_args()

    recipe = replace(RECIPE, epochs=arguments.epochs)
    print(machine_line())
    start = time.perf_counter()
    data = load_digits(size=recipe.size)
    print(f"digits loaded in {time.perf_counter() - start:.2f} s (scikit-learn's import included): "
          f"{len(data.x_train)} training and {len(data.x_test)} test images of {recipe.size}x{recipe.size}")
    print(f"recipe: {recipe}\n")
    rows = []
    for threads in arguments.threads:
        with threadpool_limits(limits=threads, user_api="blas"):
            rows.append((threads, training_runs(recipe, data, arguments.repeats)))
    print(training_table(rows))
    print()
    print(backward_speedup(repeats=3))


if __name__ == "__main__":
    main()
