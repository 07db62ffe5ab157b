"""The catalogue of the misconception codes: each code's sentence, its notebooks, and an example.

For every code of CODES the catalogue shows its sentence (from codes.py), the
notebooks and graded functions whose check can raise it (derived from the
checks' source by raised_where, never listed by hand), and EXAMPLES[code]:
three lines of Python a learner might write that make the mistake, in the
notebooks' own names (x, w, b, C_in, corr2d, dout, rng, ...).

    catalogue_text()       the catalogue as plain text (python -m conv_lib.diagnose)
    catalogue_markdown()   the Markdown page conv_lib/diagnose/catalogue.md (--markdown)
    print_catalogue()      prints one of them

`make catalogue` regenerates catalogue.md; tests/test_catalogue.py fails when it is out of date.
"""

from .codes import CODES
from .raised_where import where_raised

#: Where the Markdown page lives, and the command that regenerates it.
PAGE = "conv_lib/diagnose/catalogue.md"
REGENERATE = "make catalogue"

#: code -> three lines a learner might write that show the mistake (each line plain Python;
#: the three together parse, though they are a piece of a function, not a whole one).
EXAMPLES = {
    "no-channel-sum": (
        "C_in = x.shape[0]",
        "maps = [corr2d(x[c], w[c]) for c in range(C_in)]",
        "return np.array(maps) + b   # C_in maps, never added into one",
    ),
    "mean-not-sum": (
        "maps = [corr2d(x[c], w[c]) for c in range(C_in)]",
        "out = np.mean(maps, axis=0)   # the average of the channels, not their sum",
        "return out + b",
    ),
    "channel-pairing": (
        "for c in range(C_in):",
        "    for d in range(C_in):",
        "        out += corr2d(x[d], w[c])   # kernel channel c meets every input channel",
    ),
    "one-channel-only": (
        "for c in range(C_in):",
        "    out = corr2d(x[c], w[c])   # = instead of +=: only the last channel is left",
        "return out + b",
    ),
    "missing-bias": (
        "for c in range(C_in):",
        "    out += corr2d(x[c], w[c])",
        "return out   # b is never added",
    ),
    "bias-per-channel": (
        "out = np.zeros((Ho, Wo))",
        "for c in range(C_in):",
        "    out += corr2d(x[c], w[c]) + b   # b added C_in times",
    ),
    "flipped-kernel": (
        "k = k[::-1, ::-1]   # turned around, as in the textbook's convolution",
        "for i, j in np.ndindex(Ho, Wo):",
        "    out[i, j] = np.sum(x[i:i + kH, j:j + kW] * k)",
    ),
    "output-size": (
        "Ho = (H + 2 * padding - kH) // stride   # the + 1 is missing",
        "Wo = (W + 2 * padding - kW) // stride",
        "out = np.zeros((Ho, Wo))",
    ),
    "per-filter-per-channel": (
        "out = np.zeros((C_out, C_in, Ho, Wo))",
        "for f, c in np.ndindex(C_out, C_in):",
        "    out[f, c] = corr2d(x[c], w[f, c])   # one map per filter AND channel",
    ),
    "filters-summed": (
        "out = np.zeros((C_in, Ho, Wo))",
        "for c in range(C_in):",
        "    out[c] = sum(corr2d(x[c], w[f, c]) for f in range(C_out))   # adds up the filters",
    ),
    "filter-depth": (
        "def conv_layer_params(c_in, c_out, k):",
        "    weights = k * k   # one k x k slice: the filter has c_in of them",
        "    return c_out * (weights + 1)",
    ),
    "filter-count": (
        "def conv_layer_params(c_in, c_out, k):",
        "    weights = c_in * k * k",
        "    return weights + 1   # one filter; the layer has c_out",
    ),
    "depth-check": (
        "def conv2d_multi_in(x, w, b=0.0):",
        "    # zip stops at the shorter one: a filter of the wrong depth goes through",
        "    return sum(corr2d(x_c, w_c) for x_c, w_c in zip(x, w)) + b",
    ),
    "reference-call": (
        "from scipy.signal import correlate2d",
        "def corr2d(x, k, padding=0, stride=1):",
        "    return correlate2d(np.pad(x, padding), k, mode='valid')[::stride, ::stride]",
    ),
    "no-return": (
        "for i, j in np.ndindex(Ho, Wo):",
        "    out[i, j] = np.sum(x[i:i + kH, j:j + kW] * k)",
        "print(out)   # printed, not returned: the function gives None",
    ),
    "not-an-array": (
        "def conv_layer_params(c_in, c_out, k):",
        "    params = c_out * (c_in * k * k + 1)",
        "    return f'{params} parameters'   # text, not a number",
    ),
    "raises": (
        "for i in range(H):   # every row of x, not every row of the output",
        "    for j in range(W):",
        "        out[i, j] = np.sum(x[i:i + kH, j:j + kW] * k)   # IndexError past Ho",
    ),
    "wrong-values": (
        "for i, j in np.ndindex(Ho, Wo):",
        "    window = x[i:i + kH, j:j + kW]",
        "    out[i, j] = np.sum(window) * np.sum(k)   # sum times sum, not the sum of products",
    ),
    "bias-per-product": (
        "for i, j in np.ndindex(Ho, Wo):",
        "    window = x[:, i:i + kH, j:j + kW]",
        "    out[i, j] = np.sum(window * w + b)   # b joins every product",
    ),
    "filter-reads-one-channel": (
        "out = np.zeros((C_out, Ho, Wo))",
        "for f in range(C_out):",
        "    out[f] = corr2d(x[f % C_in], w[f, f % C_in]) + b[f]   # filter f sees one channel",
    ),
    "kernel-shared": (
        "k = w[0]   # one (kH, kW) kernel",
        "for c in range(C_in):",
        "    out += corr2d(x[c], k)   # the same kernel on every channel",
    ),
    "reshape-not-transpose": (
        "w = w.reshape(C_in, C_out, kH, kW)   # meant to swap the first two axes",
        "for f in range(C_out):",
        "    out[f] = sum(corr2d(x[c], w[c, f]) for c in range(C_in)) + b[f]",
    ),
    "axis-dropped": (
        "C_out = w.shape[0]",
        "out = np.array([conv2d_multi_in(x, w[f], b[f]) for f in range(C_out)])",
        "return out.squeeze()   # one filter: (1, Ho, Wo) becomes (Ho, Wo)",
    ),
    "start-not-strided": (
        "for i in range(Ho):",
        "    for j in range(Wo):",
        "        out[i, j] = np.sum(x[i:i + kH, j:j + kW] * k)   # starts at i, not i * stride",
    ),
    "index-steps-by-stride": (
        "for i in range(0, H - kH + 1, stride):",
        "    for j in range(0, W - kW + 1, stride):",
        "        out[i, j] = np.sum(x[i:i + kH, j:j + kW] * k)   # stored at i, not i // stride",
    ),
    "one-sided-padding": (
        "xp = np.zeros((H + 2 * padding, W + 2 * padding))",
        "xp[:H, :W] = x   # x in the top left corner: zeros below and right only",
        "out = corr2d(xp, k, stride=stride)",
    ),
    "batch-mixed": (
        "out = np.zeros((C_out, Ho, Wo))",
        "for n in range(N):",
        "    out += conv2d_multi_out(x[n], w, b)   # the images of the batch added together",
    ),
    "pool-mixes-channels": (
        "for i, j in np.ndindex(Ho, Wo):",
        "    window = x[n, :, i * stride:i * stride + size, j * stride:j * stride + size]",
        "    out[n, :, i, j] = window.max()   # the maximum over every channel at once",
    ),
    "avg-not-max": (
        "for i, j in np.ndindex(Ho, Wo):",
        "    window = x[n, c, i * stride:i * stride + size, j * stride:j * stride + size]",
        "    out[n, c, i, j] = window.mean()   # average pooling",
    ),
    "conv-keeps-channels": (
        "if layer[0] == 'conv':",
        "    _, c_out, k, stride, padding = layer",
        "    H, W = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1   # C stays, not c_out",
    ),
    "relu-changes-shape": (
        "if layer[0] in ('pool', 'relu'):   # the ReLU handled like a pool",
        "    H, W = H // 2, W // 2",
        "shapes.append((C, H, W))",
    ),
    "one-per-layer": (
        "shapes = [input_shape]   # the input counted as a layer",
        "for layer in layers:",
        "    shapes.append(layer_shape(layer, shapes[-1]))",
    ),
    "not-a-shape-list": (
        "for layer in layers:",
        "    C, H, W = layer_shape(layer, (C, H, W))",
        "    shapes.append(f'{C}x{H}x{W}')   # text, not a (C, H, W) tuple",
    ),
    "stride-ignored": (
        "r = 1",
        "for k in kernel_sizes:",
        "    r += k - 1   # no jump: the strides of the layers before are forgotten",
    ),
    "kernels-multiplied": (
        "r = 1",
        "for k in kernel_sizes:",
        "    r *= k   # three 3x3 convs give 27, not 7",
    ),
    "padding-counted": (
        "r, jump = 1, 1",
        "for k, stride, padding in windows:",
        "    r, jump = r + (k - 1 + 2 * padding) * jump, jump * stride   # padding widens nothing",
    ),
    "stride-too-early": (
        "for k, stride in windows:",
        "    jump *= stride   # too early: this layer's own window moves by the old jump",
        "    r += (k - 1) * jump",
    ),
    "pool-ignored": (
        "for layer in layers:",
        "    if layer[0] == 'conv':   # the pools are skipped",
        "        r, jump = r + (layer[2] - 1) * jump, jump * layer[3]",
    ),
    "off-by-one": (
        "r, jump = 0, 1   # before any layer an output sees one pixel: start at 1",
        "for k, stride in windows:",
        "    r, jump = r + (k - 1) * jump, jump * stride",
    ),
    "fc-input-size": (
        "C, H, W = shape   # pool5's output",
        "n_in = C   # flatten hands over C * H * W numbers, not C",
        "rows.append({'name': 'fc6', 'output_shape': (4096,), 'params': 4096 * (n_in + 1), 'macs': 4096 * n_in})",
    ),
    "pool-has-params": (
        "if kind == 'pool':",
        "    params = C * size * size   # a max pool has no weights",
        "    macs = H * W * C * size * size",
    ),
    "macs-wrong": (
        "Ho, Wo = H, W   # padding 1 keeps the size",
        "params = c_out * (c_in * 3 * 3 + 1)",
        "macs = c_out * c_in * 3 * 3   # once per map, not once per output number",
    ),
    "input-shape-ignored": (
        "def vgg16_table(input_shape=(3, 224, 224)):",
        "    C, H, W = 3, 224, 224   # the argument is never read",
        "    rows = []",
    ),
    "not-a-table": (
        "rows = []",
        "for name, shape, params, macs in layers_info:",
        "    rows.append((name, shape, params, macs))   # a tuple: no 'name' or 'output_shape' key",
    ),
    "relu-missing": (
        "for w, b in zip(weights, biases):",
        "    x = conv2d(x, w, b, padding=1)   # no ReLU after the convolution",
        "return max_pool2d(x)",
    ),
    "pool-missing": (
        "for w, b in zip(weights, biases):",
        "    x = relu(conv2d(x, w, b, padding=1))",
        "return x   # the 2x2 max pool at the end is missing",
    ),
    "padding-missing": (
        "for w, b in zip(weights, biases):",
        "    x = relu(conv2d(x, w, b))   # padding 0: every conv shrinks the maps by 2",
        "return max_pool2d(x)",
    ),
    "relu-before-bias": (
        "for w, b in zip(weights, biases):",
        "    x = relu(conv2d(x, w, np.zeros_like(b), padding=1)) + b[:, None, None]   # bias after the ReLU",
        "return max_pool2d(x)",
    ),
    "block-incomplete": (
        "for w, b in zip(weights, biases):",
        "    x = relu(conv2d(x, w, b, padding=1))",
        "    return max_pool2d(x)   # return inside the loop: only the first conv runs",
    ),
    "not-a-tuple": (
        "dx, dw = np.zeros_like(x), np.zeros_like(w)",
        "db = dout.sum(axis=(0, 2, 3))",
        "return dw, dx, db   # the order is (dx, dw, db)",
    ),
    "db-not-summed": (
        "dx, dw = np.zeros_like(x), np.zeros_like(w)",
        "db = dout.mean(axis=(0, 2, 3))   # a mean: the bias's gradient adds up",
        "return dx, dw, db",
    ),
    "dw-channel-mixup": (
        "dw = np.zeros_like(w)",
        "for n, f, c in np.ndindex(N, C_out, C_in):",
        "    dw[f, c] += corr2d(xpad[n, f], dout[n, c])   # channel f with map c: the other way round",
    ),
    "dw-batch-not-summed": (
        "dw = np.zeros_like(w)",
        "for f, c in np.ndindex(C_out, C_in):",
        "    dw[f, c] = corr2d(xpad[0, c], dout[0, f])   # the first image only",
    ),
    "dx-not-flipped": (
        "dxpad = np.zeros((N, C_in, H + 2 * padding, W + 2 * padding))",
        "for n, f, c in np.ndindex(N, C_out, C_in):",
        "    dxpad[n, c] += corr2d(np.pad(dout[n, f], kH - 1), w[f, c])   # w not turned around",
    ),
    "dx-channel-sum": (
        "dxpad = np.zeros((N, C_in, H + 2 * padding, W + 2 * padding))",
        "for n, f, c in np.ndindex(N, C_out, C_in):",
        "    dxpad[n, c] = corr2d(np.pad(dout[n, f], kH - 1), w[f, c, ::-1, ::-1])   # = keeps the last filter's part",
    ),
    "wrong-shape": (
        "fan_in = c_in * k * k",
        "std = np.sqrt(2 / fan_in)",
        "return rng.normal(0, std, size=(c_in, c_out, k, k))   # the axes swapped",
    ),
    "rng-ignored": (
        "fan_in = c_in * k * k",
        "std = np.sqrt(2 / fan_in)",
        "return np.random.randn(c_out, c_in, k, k) * std   # numpy's global generator, not rng",
    ),
    "fan-in-wrong": (
        "fan_in = c_in   # the k * k positions of the window are left out",
        "std = np.sqrt(2 / fan_in)",
        "return rng.normal(0, std, size=(c_out, c_in, k, k))",
    ),
    "variance-not-std": (
        "fan_in = c_in * k * k",
        "std = 2 / fan_in   # that is the variance: take its square root",
        "return rng.normal(0, std, size=(c_out, c_in, k, k))",
    ),
    "xavier-not-he": (
        "fan_in = c_in * k * k",
        "std = np.sqrt(1 / fan_in)   # LeCun's and Xavier's scale: He's has 2 / fan_in",
        "return rng.normal(0, std, size=(c_out, c_in, k, k))",
    ),
    "uniform-not-normal": (
        "fan_in = c_in * k * k",
        "limit = np.sqrt(6 / fan_in)",
        "return rng.uniform(-limit, limit, size=(c_out, c_in, k, k))   # uniform, not normal",
    ),
    "groups-ignored": (
        "full = np.tile(w, (1, groups, 1, 1))   # w made as deep as the input, as if groups were 1",
        "for f in range(C_out):",
        "    out[n, f] = conv2d_multi_in(xp[n], full[f], b[f])   # every filter reads every channel",
    ),
    "wrong-group": (
        "for f in range(C_out):",
        "    g = f % groups   # dealt out in turn: group g holds filters g*C_out/groups ... in a block",
        "    out[n, f] = conv2d_multi_in(xp[n, g * C_in // groups:(g + 1) * C_in // groups], w[f], b[f])",
    ),
    "depthwise-summed": (
        "if groups == C_in:   # depthwise: every channel keeps its own map",
        "    for f in range(C_out):",
        "        out[n, f] = sum(corr2d(xp[n, c], w[f, 0]) for c in range(C_in)) + b[f]   # summed anyway",
    ),
    "group-size-from-c-out": (
        "size = C_out // groups   # the filters' group size, used for the input too",
        "for f in range(C_out):",
        "    out[n, f] = conv2d_multi_in(xp[n, (f // size) * size:(f // size + 1) * size], w[f], b[f])",
    ),
    "groups-check": (
        "if w.shape[1] != C_in // groups:   # 5 channels in 2 groups pass: 5 // 2 == 2",
        "    raise ValueError('each filter needs C_in/groups channels')",
        "per_out = C_out // groups   # C_out % groups is never checked either",
    ),
    "separable-no-pointwise": (
        "def separable_params(c_in, c_out, k):",
        "    depthwise = c_in * (k * k + 1)",
        "    return depthwise   # the pointwise step's c_out * (c_in + 1) is missing",
    ),
    "separable-no-depthwise": (
        "def separable_macs(c_in, c_out, k, h, w):",
        "    pointwise = h * w * c_in * c_out",
        "    return pointwise   # the depthwise step's h * w * c_in * k * k is missing",
    ),
    "separable-no-bias": (
        "def separable_params(c_in, c_out, k):",
        "    depthwise, pointwise = c_in * k * k, c_out * c_in   # no bias in either step",
        "    return depthwise + pointwise",
    ),
    "separable-counted-standard": (
        "def separable_params(c_in, c_out, k):",
        "    # a standard layer's count: the separable layer has a depthwise and a pointwise step",
        "    return c_out * (c_in * k * k + 1)",
    ),
    "depthwise-as-full": (
        "def separable_params(c_in, c_out, k):",
        "    depthwise = c_in * (c_in * k * k + 1)   # a depthwise filter reads one channel, not c_in",
        "    return depthwise + c_out * (c_in + 1)",
    ),
    "kernel-reshaped": (
        "if source == 'keras':",
        "    kH, kW, C_in, C_out = kernel.shape",
        "    return kernel.reshape(C_out, C_in, kH, kW)   # the numbers keep their order: use transpose",
    ),
    "wrong-axis-order": (
        "if source == 'keras':",
        "    return kernel.T   # (C_out, C_in, kW, kH): kH and kW swapped",
        "return kernel",
    ),
    "source-mixed-up": (
        "def to_conv_lib_layout(kernel, source):",
        "    # PyTorch's weights are already (C_out, C_in/groups, kH, kW): only Keras's need moving",
        "    return kernel.transpose(3, 2, 0, 1)",
    ),
    "source-check": (
        "if source == 'keras':",
        "    return kernel.transpose(3, 2, 0, 1)",
        "return kernel   # 'caffe', 'Keras', a typo: all accepted as PyTorch's",
    ),
}


def entries():
    """One (code, sentence, [(assignment, function), ...], example lines) per code of CODES, in CODES's order.

    Raises ValueError naming the codes that have no example, or examples that name no code.
    """
    missing, unknown = sorted(set(CODES) - set(EXAMPLES)), sorted(set(EXAMPLES) - set(CODES))
    if missing or unknown:
        raise ValueError(f"expected one example per code of CODES; without an example: {missing or 'none'}; "
                         f"examples of no code: {unknown or 'none'}")
    places = where_raised()
    return [(code, sentence, places[code], EXAMPLES[code]) for code, sentence in CODES.items()]


def _notebooks(places):
    """Where a code appears, as "02_multi_channel (conv2d_multi_in), 03_many_filters (conv2d_multi_out)"."""
    if not places:
        return "none: no check raises it yet"
    functions = {}
    for assignment, function in places:
        functions.setdefault(assignment, []).append(function)
    return ", ".join(f"{assignment} ({', '.join(names)})" for assignment, names in functions.items())


def catalogue_text():
    """The catalogue as plain text: per code, its sentence, its notebooks and its example."""
    found = entries()
    lines = [f"The misconception codes of Conv Channels ({len(found)}): the sentence, where each can",
             "appear (notebook and graded function), and three lines that make the mistake.", ""]
    for code, sentence, places, example in found:
        lines += [f"[{code}] {sentence}", f"  notebooks: {_notebooks(places)}", "  example:"]
        lines += [f"    {line}" for line in example]
        lines.append("")
    return "\n".join(lines[:-1]) + "\n"


def _cell(text):
    """Text for a Markdown table cell: its pipes escaped."""
    return text.replace("|", "\\|")


def catalogue_markdown():
    """The Markdown page conv_lib/diagnose/catalogue.md: a table of the codes, then one section per code."""
    found = entries()
    lines = [
        "# The misconception codes",
        "",
        f"<!-- Generated by `python -m conv_lib.diagnose --markdown`; do not edit: run `{REGENERATE}`. -->",
        "",
        "A notebook's check names the misconception behind a wrong answer with a code in square brackets,",
        "`[no-channel-sum] conv2d_multi_in returned 3 maps, ...`; the grader's `tests.csv` and summary count them.",
        f"Here are all {len(found)} codes: the sentence each stands for (`conv_lib/diagnose/codes.py`), the",
        "notebooks and graded functions whose check can raise it (read from the checks' source), and three",
        "lines a learner might write that make the mistake.",
        "",
        "| code | what it means | notebooks |",
        "| --- | --- | --- |",
    ]
    for code, sentence, places, _ in found:
        notebooks = ", ".join(sorted({assignment[:2] for assignment, _ in places})) or "none"
        lines.append(f"| [`{code}`](#{code}) | {_cell(sentence)} | {notebooks} |")
    for code, sentence, places, example in found:
        lines += ["", f"## {code}", "", f"Means: {sentence}.", "",
                  f"Notebooks: {_notebooks(places)}.", "", "```python", *example, "```"]
    return "\n".join(lines) + "\n"


def print_catalogue(markdown=False):
    """Print the catalogue of the misconception codes: plain text, or with markdown=True the Markdown page."""
    print(catalogue_markdown() if markdown else catalogue_text(), end="")
