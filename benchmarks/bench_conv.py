"""Benchmark conv_lib against PyTorch on VGG16: each convolution, and the whole network (run with `make bench`).

For every distinct convolution shape of VGG16 at 224x224 (batch 1), and for the
full VGG16 forward pass (conv_lib.models.forward on vgg16(): 13 convolutions
with their ReLUs, 5 max pools, flatten and the 3 fully connected layers), in
float32 and float64, with 1 and 2 BLAS threads, it prints:

- the median time of conv_lib.conv2d (fast) and of torch.nn.functional.conv2d
  (for the whole network: models.forward and the same layers, with the same
  weights, in torch.nn.functional under torch.no_grad()), run side by side in
  the same process (each warmed up, then timed in its own block, same thread
  count), and their ratio, after checking that both compute the same numbers;
- the achieved GFLOP/s (FLOPs = 2*C_out*C_in*kH*kW*Ho*Wo; for the network,
  twice its multiply-accumulates, models.summary) and its share of the
  matrix-multiply peak measured in the same run (a large np.matmul);
- the extra memory the fast conv2d allocates, measured with tracemalloc (numpy
  reports every array allocation to it): the peak of traced allocations during
  one call, which includes the output, divided by the output's size;
- the readable conv2d_reference on the small layers only (its loops take
  minutes on the large ones);
- grouped convolutions (conv2d's groups=, k=3, padding 1): MobileNet's depthwise
  layers (32x112x112, 128x56x56, and 64x112x112 with stride 2) and two grouped
  ones (64->128 at 56x56 with groups=4, and ResNeXt's 128->128 with groups=32),
  at batch 1 and 8 (--batches), beside torch.nn.functional.conv2d(..., groups=),
  each checked to compute the same numbers first (--grouped-only: these alone).

PyTorch is a yardstick, not a dependency: without it the torch columns say "-".
"""

import argparse
import os
import platform
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import conv_lib
from conv_lib.models import forward, init_params, summary, vgg16, vgg16_conv_layers
from timing import median_seconds

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the yardstick is optional
    torch = None

REFERENCE_MAX_OUTPUTS = 2 * 10**5  # run conv2d_reference only where C_out*Ho*Wo is at most this
SETTLE_SECONDS = 0.3  # pause between the two libraries' timing blocks


def side_by_side(ours, theirs, repeats):
    """Median seconds of two functions timed one after the other in the same run.

    Each is warmed up and timed in its own block, after a pause: OpenBLAS's and
    PyTorch's worker threads keep spinning for a while after a call, and a
    library timed while the other's threads spin loses one of the two cores.
    """
    time.sleep(SETTLE_SECONDS)
    ours_seconds = median_seconds(ours, repeats)
    theirs_seconds = None
    if theirs:
        time.sleep(SETTLE_SECONDS)
        theirs_seconds = median_seconds(theirs, repeats)
    return ours_seconds, theirs_seconds


def matmul_peak(dtype, size=3072, repeats=5):
    a = np.random.default_rng(0).standard_normal((size, size)).astype(dtype)
    seconds = median_seconds(lambda: a @ a, repeats)
    return 2 * size**3 / seconds / 1e9


def peak_extra_memory(function, output_nbytes):
    """Peak bytes allocated during ``function()`` (the output included), as a multiple of the output."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return peak / output_nbytes


def require_agreement(ours, theirs, tolerance, what):
    """Refuse to time two functions that do not compute the same thing (relative max difference)."""
    expected = theirs().numpy()
    difference = np.abs(ours() - expected).max() / np.abs(expected).max()
    assert difference < tolerance, f"{what}: conv_lib and PyTorch differ by {difference:.2e} (relative)"


def torch_threads(threads):
    if torch is not None:
        torch.set_num_threads(threads)


def layer_rows(dtype, repeats, rng, names=None):
    seen, rows = set(), []
    for layer in vgg16_conv_layers():
        if names and layer["name"] not in names:
            continue
        shape = (layer["C_in"], layer["C_out"], layer["H"], layer["W"])
        if shape in seen:
            continue
        seen.add(shape)
        C_in, C_out, H, W = shape
        x = rng.standard_normal((1, C_in, H, W)).astype(dtype)
        w = (rng.standard_normal((C_out, C_in, 3, 3)) * np.sqrt(2 / (9 * C_in))).astype(dtype)
        b = np.zeros(C_out, dtype)
        ours = lambda: conv_lib.conv2d(x, w, b, padding=1)
        theirs = None
        if torch is not None:
            xt, wt, bt = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)
            theirs = lambda: F.conv2d(xt, wt, bt, padding=1)
            require_agreement(ours, theirs, 1e-4 if dtype == np.float32 else 1e-10, layer["name"])
        fast, yardstick = side_by_side(ours, theirs, repeats)
        flops = 2 * C_out * C_in * 9 * H * W
        reference = None
        if C_out * H * W <= REFERENCE_MAX_OUTPUTS:
            reference = median_seconds(lambda: conv_lib.conv2d_reference(x, w, b, padding=1), 1, warmup=0)
        memory = peak_extra_memory(ours, C_out * H * W * x.itemsize)
        rows.append(dict(layer=f"{layer['name']} {C_in}->{C_out} {H}x{W}", flops=flops, fast=fast,
                         torch=yardstick, reference=reference, memory=memory))
    return rows


def network_rows(dtype, repeats, rng):
    """The full VGG16 forward pass on one 224x224 image, and its fully connected part alone
    (fc6, ReLU, fc7, ReLU, fc8 on a random flattened input), each against the same in PyTorch."""
    layers = vgg16()
    params = init_params(layers, (3, 224, 224), rng, dtype=dtype)
    image = rng.standard_normal((1, 3, 224, 224)).astype(dtype)
    classifier = layers[layers.index(("flatten",)) + 1 :]
    classifier_params = params[sum(layer[0] == "conv" for layer in layers) :]
    features = rng.standard_normal((1, classifier_params[0][0].shape[1])).astype(dtype)  # fc6's 25,088 inputs
    rows = []
    for name, specs, weights, x in (
        ("VGG16 forward (13 conv + ReLU, 5 pools, 3 fc)", layers, params, image),
        ("VGG16 fc6-fc8 alone (+ ReLU)", classifier, classifier_params, features),
    ):
        ours = lambda: forward(specs, weights, x)
        theirs = None
        if torch is not None:
            torch_weights = [(torch.from_numpy(w), torch.from_numpy(b)) for w, b in weights]
            torch_x = torch.from_numpy(x)
            theirs = lambda: torch_forward(specs, torch_weights, torch_x)
            require_agreement(ours, theirs, 1e-4 if dtype == np.float32 else 1e-10, name)
        fast, yardstick = side_by_side(ours, theirs, repeats)
        flops = 2 * summary(specs, x.shape[1:]).macs
        rows.append(dict(layer=name, flops=flops, fast=fast, torch=yardstick, reference=None, memory=None))
    return rows


def torch_forward(layers, parameters, x):
    """The same network as conv_lib.models.forward, in torch.nn.functional, without autograd.

    layers: conv_lib layer specs; parameters: (w, b) torch tensors, one per conv or linear layer.
    """
    parameters = iter(parameters)
    with torch.no_grad():
        for layer in layers:
            kind = layer[0]
            if kind == "conv":
                w, b = next(parameters)
                x = F.conv2d(x, w, b, stride=layer[3], padding=layer[4])
            elif kind == "pool":
                x = F.max_pool2d(x, layer[1], layer[2])
            elif kind == "relu":
                x = F.relu(x)
            elif kind == "flatten":
                x = torch.flatten(x, 1)
            else:
                w, b = next(parameters)
                x = F.linear(x, w, b)
    return x


#: (name, C_in, C_out, H = W, stride, groups), all 3x3 with padding 1.
GROUPED_CASES = (
    ("depthwise 32x112x112", 32, 32, 112, 1, 32),
    ("depthwise 128x56x56", 128, 128, 56, 1, 128),
    ("depthwise 64x112x112 stride 2", 64, 64, 112, 2, 64),
    ("grouped 64->128 56x56 groups=4", 64, 128, 56, 1, 4),
    ("grouped 128->128 56x56 groups=32", 128, 128, 56, 1, 32),
)


def grouped_rows(dtype, repeats, rng, batches):
    """conv_lib.conv2d(..., groups=) beside PyTorch on GROUPED_CASES, for each batch size."""
    rows = []
    for name, C_in, C_out, H, stride, groups in GROUPED_CASES:
        for N in batches:
            x = rng.standard_normal((N, C_in, H, H)).astype(dtype)
            w = (rng.standard_normal((C_out, C_in // groups, 3, 3)) * np.sqrt(2 / (9 * C_in // groups))).astype(dtype)
            b = np.zeros(C_out, dtype)
            ours = lambda: conv_lib.conv2d(x, w, b, stride=stride, padding=1, groups=groups)
            theirs = None
            if torch is not None:
                xt, wt, bt = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)
                theirs = lambda: F.conv2d(xt, wt, bt, stride=stride, padding=1, groups=groups)
                require_agreement(ours, theirs, 1e-4 if dtype == np.float32 else 1e-10, name)
            fast, yardstick = side_by_side(ours, theirs, repeats)
            Ho = (H - 1) // stride + 1
            rows.append(dict(layer=name, batch=N, flops=2 * N * C_out * (C_in // groups) * 9 * Ho * Ho,
                             fast=fast, torch=yardstick))
    return rows


def format_grouped_table(rows_by_threads):
    lines = ["| convolution | batch | threads | conv_lib ms | torch ms | conv_lib/torch | conv_lib GFLOP/s |",
             "|" + "---|" * 7]
    for threads, rows in rows_by_threads:
        for row in rows:
            lines.append(f"| {row['layer']} | {row['batch']} | {threads} | {row['fast'] * 1e3:.2f} | "
                         + (f"{row['torch'] * 1e3:.2f} | {row['fast'] / row['torch']:.2f}x" if row["torch"] else "- | -")
                         + f" | {row['flops'] / row['fast'] / 1e9:.1f} |")
    return "\n".join(lines)


def pool_lines(dtype, repeats, rng):
    """max_pool2d (np.maximum over strided views) beside the block-reshape idiom and PyTorch."""
    lines = ["| pool input | max_pool2d ms | reshape().max() ms | torch ms |", "|---|---|---|---|"]
    for C, H in ((64, 224), (128, 112), (256, 56), (512, 28), (512, 14)):
        x = rng.standard_normal((1, C, H, H)).astype(dtype)
        ours = median_seconds(lambda: conv_lib.max_pool2d(x), repeats)
        reshaped = median_seconds(lambda: x.reshape(1, C, H // 2, 2, H // 2, 2).max(axis=(3, 5)), repeats)
        theirs = median_seconds(lambda: F.max_pool2d(torch.from_numpy(x), 2, 2), repeats) if torch else None
        lines.append(f"| {C}x{H}x{H} | {ours * 1e3:.2f} | {reshaped * 1e3:.2f} | "
                     + (f"{theirs * 1e3:.2f}" if theirs else "-") + " |")
    return "\n".join(lines)


def format_table(rows_by_threads, peaks):
    header = ("| layer | threads | fast ms | torch ms | fast/torch | fast GFLOP/s | % of matmul peak "
              "| reference ms | peak memory / output |")
    lines = [header, "|" + "---|" * 9]
    for threads, rows in rows_by_threads:
        for row in rows:
            gflops = row["flops"] / row["fast"] / 1e9
            lines.append(
                f"| {row['layer']} | {threads} | {row['fast'] * 1e3:.1f} | "
                + (f"{row['torch'] * 1e3:.1f} | {row['fast'] / row['torch']:.2f}x" if row["torch"] else "- | -")
                + f" | {gflops:.0f} | {100 * gflops / peaks[threads]:.0f}% | "
                + (f"{row['reference'] * 1e3:.0f}" if row["reference"] else "-")
                + " | "
                + (f"{row['memory']:.2f}" if row["memory"] else "-")
                + " |"
            )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per layer (median reported)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="BLAS/torch thread counts to try")
    parser.add_argument("--dtype", choices=["float32", "float64"], nargs="+", default=["float32", "float64"])
    parser.add_argument("--layers", nargs="+", metavar="NAME", help="only these VGG16 layers, e.g. conv5_1")
    parser.add_argument("--no-stack", action="store_true", help="skip the whole-network rows (full VGG16 forward, fc6-fc8)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8], help="batch sizes of the grouped convolutions")
    parser.add_argument("--grouped-only", action="store_true", help="only the grouped and depthwise convolutions")
    parser.add_argument("--no-grouped", action="store_true", help="skip the grouped and depthwise convolutions")
    arguments = parser.parse_args()

    blas = [f"{i['internal_api']} {i['version']} ({i.get('architecture', '?')}, {i['num_threads']} threads)"
            for i in threadpool_info() if i["user_api"] == "blas"]
    print(f"machine: {platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} cores; "
          f"python {platform.python_version()}, numpy {np.__version__}, BLAS: {', '.join(blas)}")
    pinned = {name: os.environ[name] for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if name in os.environ}
    print("OpenBLAS kernel: " + (f"pinned by the environment ({pinned}); `make bench` lifts the pin" if pinned
                                 else "chosen by OpenBLAS for this processor (no OPENBLAS_CORETYPE pin)"))
    print(f"yardstick: {'torch ' + torch.__version__ if torch else 'PyTorch not installed'}; "
          f"repeats per measurement: {arguments.repeats}, medians reported\n")
    rng = np.random.default_rng(0)
    for dtype_name in arguments.dtype:
        dtype = np.dtype(dtype_name).type
        if not arguments.no_grouped:
            grouped_by_threads = []
            for threads in arguments.threads:
                with threadpool_limits(limits=threads, user_api="blas"):
                    torch_threads(threads)
                    grouped_by_threads.append((threads, grouped_rows(dtype, arguments.repeats, rng, arguments.batches)))
            print(f"## grouped and depthwise convolutions, 3x3, padding 1, {dtype_name}")
            print(format_grouped_table(grouped_by_threads))
            print()
        if arguments.grouped_only:
            continue
        rows_by_threads, peaks = [], {}
        for threads in arguments.threads:
            with threadpool_limits(limits=threads, user_api="blas"):
                torch_threads(threads)
                peaks[threads] = matmul_peak(dtype)
                rows = layer_rows(dtype, arguments.repeats, rng, arguments.layers)
                if not arguments.no_stack:
                    rows += network_rows(dtype, arguments.repeats, rng)
            rows_by_threads.append((threads, rows))
        print(f"## {dtype_name}; matmul peak (3072x3072 np.matmul): "
              + ", ".join(f"{peaks[t]:.0f} GFLOP/s on {t} thread{'s' if t > 1 else ''}" for t in arguments.threads))
        print(format_table(rows_by_threads, peaks))
        print()
        with threadpool_limits(limits=max(arguments.threads), user_api="blas"):
            torch_threads(max(arguments.threads))
            print(f"max pooling 2x2 stride 2, {dtype_name}, {max(arguments.threads)} threads:")
            print(pool_lines(dtype, arguments.repeats, rng))
        print()


if __name__ == "__main__":
    main()
