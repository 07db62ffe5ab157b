"""Notebook 06, how filters are learned: the checks of conv2d_backward and he_init.

    check_conv2d_backward   conv2d_backward(dout, x, w, b, stride=1, padding=0) -> (dx, dw, db):
                            dout (N, C_out, Ho, Wo), x (N, C_in, H, W), w (C_out, C_in, kH, kW),
                            b (C_out,); dx, dw and db have the shapes of x, w and b
    check_he_init           he_init(c_out, c_in, k, rng) -> (c_out, c_in, k, k), normal draws
                            from rng with mean 0 and standard deviation sqrt(2 / (c_in * k * k))

The gradients are computed in plain Python (_db, _dw, _dx), and each wrong one
is named: db not summed over the batch and positions, dw pairing the wrong map
and channel, dx not flipped or not summed over the filters. He's draws are
judged by their statistics, within HE_STD_TOLERANCE, HE_MEAN_STANDARD_ERRORS and
HE_FLAT_KURTOSIS, which the independent check uses too. CONV2D_BACKWARD and
HE_INIT, at the end, describe each exercise once for both checks.
"""

import math
import random

import numpy as np

import conv_lib

from .codes import Misconception, listed
from .exercise import Case, DiffersFrom, Draws, Exercise, Rng, SameAs, grid
from .plain import add, flatten, flip, output_size, pad, random_batch, scaled, shape_of
from .runner import Runner
from .verdict import Verdict, first_difference, hidden_words, refuse, same, short_traceback, shown_number

_GRADIENTS = ("dx", "dw", "db")
#: The names of each gradient's axes, for "dw is wrong for filter 1, channel 0, at (row 0, column 2)".
_GRADIENT_AXES = {"dx": ("image", "channel", "row", "column"), "dw": ("filter", "channel", "row", "column"),
                  "db": ("filter",)}
#: Each gradient has the shape of what it is the gradient of.
_GRADIENT_SHAPES = {"dx": "the shape of x, (N, C_in, H, W)", "dw": "the shape of w, (C_out, C_in, kH, kW)",
                    "db": "the shape of b, (C_out,): one number per filter"}
#: Each gradient's rule, for a wrong answer that no known misconception explains.
_GRADIENT_RULES = {
    "db": "db[f] is the sum of dout[n, f, i, j] over every image n and every position (i, j)",
    "dw": "dw[f, c, u, v] adds, over every image n and every position (i, j), dout[n, f, i, j] times the "
          "padded x[n, c] at row i*stride + u, column j*stride + v",
    "dx": "each dout[n, f, i, j] sends dout[n, f, i, j] * w[f, c] back onto the window of the padded x[n, c] "
          "it came from (top left corner at row i*stride, column j*stride); dx[n, c] adds these over every "
          "filter f and position (i, j), and then the padding is cropped off",
}


def _weight_part(x_map, dout_map, kH, kW, stride):
    """One image's share of dw[f][c], (kH, kW) lists.

    x_map: the padded channel c of the image (Hp x Wp lists); dout_map: map f of dout (Ho x Wo).
    [u][v] = sum over positions (i, j) of dout_map[i][j] * x_map[i*stride + u][j*stride + v].
    """
    positions = [(i, j, g) for i, row in enumerate(dout_map) for j, g in enumerate(row)]
    return [[sum(g * x_map[i * stride + u][j * stride + v] for i, j, g in positions) for v in range(kW)]
            for u in range(kH)]


def _spread(dout_map, kernel, rows, columns, stride):
    """One filter's share of a padded channel of dx, (rows, columns) lists.

    Each dout_map[i][j] (Ho x Wo) times kernel (kH x kW) is added onto the window whose
    top left corner is (i*stride, j*stride): the window it came from.
    """
    out = [[0] * columns for _ in range(rows)]
    for i, row in enumerate(dout_map):
        for j, g in enumerate(row):
            for u, kernel_row in enumerate(kernel):
                for v, value in enumerate(kernel_row):
                    out[i * stride + u][j * stride + v] += g * value
    return out


def _crop(grid, padding):
    """A padded map (lists) without its `padding` outer rows and columns."""
    if padding == 0:
        return grid
    return [row[padding:-padding] for row in grid[padding:-padding]]


def _db(dout, images=None, scale=1):
    """db (C_out,): db[f] = scale * the sum over images n (all, or those listed) and positions of dout[n][f].

    dout: N images of C_out maps (Ho x Wo lists). The defaults are the rule.
    """
    images = range(len(dout)) if images is None else images
    return [scale * sum(sum(sum(row) for row in dout[n][f]) for n in images) for f in range(len(dout[0]))]


def _dw(dout, xpad, shape, stride, pairs=None, images=None, scale=1):
    """dw (C_out, C_in, kH, kW) lists.

    dout: (N, C_out, Ho, Wo) lists; xpad: the padded x, (N, C_in, Hp, Wp) lists; shape: w's shape.
    dw[f][c] = scale * the sum over images n and over (map m, channel d) in pairs(f, c) of
    _weight_part(xpad[n][d], dout[n][m]). The defaults are the rule: pairs(f, c) = [(f, c)],
    every image, scale 1; the other values give the misconceptions.
    """
    C_out, C_in, kH, kW = shape
    pairs = pairs or (lambda f, c: [(f, c)])
    images = range(len(dout)) if images is None else images
    return [[scaled(add(*[_weight_part(xpad[n][d], dout[n][m], kH, kW, stride) for n in images for m, d in pairs(f, c)]),
                    scale) for c in range(C_in)] for f in range(C_out)]


def _dx(dout, w, padded_size, stride, padding, filters=None, kernel=None, scale=1):
    """dx (N, C_in, H, W) lists; with padding 0 where the rule pads, the padded dx (N, C_in, Hp, Wp).

    dout: (N, C_out, Ho, Wo) lists; w: (C_out, C_in, kH, kW) lists; padded_size: (Hp, Wp).
    dx[n][c] = the padding cropped off scale * the sum over filters f in filters(c) of
    _spread(dout[n][f], kernel(w[f][c])). The defaults are the rule: every filter, w as it
    is, scale 1; the other values give the misconceptions.
    """
    C_out, C_in = len(w), len(w[0])
    filters = filters or (lambda c: range(C_out))
    kernel = kernel or (lambda k: k)
    rows, columns = padded_size
    return [[_crop(scaled(add(*[_spread(image[f], kernel(w[f][c]), rows, columns, stride) for f in filters(c)]), scale),
                   padding) for c in range(C_in)] for image in dout]


def _backward_cases(seed, hidden):
    """(dout, x, w, b, stride, padding) cases as nested lists; dout has the shape of the layer's output.

    Whole numbers everywhere, as in the forward checks; b's values play no part in the gradients.
    """
    generator = random.Random(seed)
    shapes = [  # N, C_in, C_out, H, W, kH, kW, stride, padding
        (1, 1, 1, 4, 4, 2, 2, 1, 0),
        (2, 2, 3, 5, 4, 3, 3, 1, 0),
        (2, 3, 3, 5, 5, 3, 3, 1, 1),
        (1, 2, 2, 6, 5, 3, 2, 2, 1),  # the last row and column of the padded x are in no window
        (2, 3, 2, 4, 6, 1, 1, 2, 0),
        (2, 2, 2, 6, 6, 2, 2, 2, 1),
        # the siblings of the hidden cases' kinds: one input channel and three filters, padding 1 with a
        # 2x2 kernel; a wide kernel with stride 2 and no padding, whose last row and column of x are in no window;
        # a 1 x k kernel; one filter as large as its input, padded; a 3x3 kernel with stride 2 and padding 1
        (1, 1, 3, 5, 4, 2, 2, 1, 1),
        (1, 2, 2, 5, 6, 2, 3, 2, 0),
        (2, 2, 2, 5, 4, 1, 3, 1, 0),
        (1, 3, 1, 3, 3, 3, 3, 1, 1),
        (1, 2, 3, 6, 5, 3, 3, 2, 1),
    ]
    if hidden:
        shapes = [
            (2, 3, 2, 5, 6, 3, 3, 1, 1),
            (1, 2, 3, 6, 6, 2, 3, 2, 0),
            (2, 2, 2, 5, 5, 3, 3, 2, 1),
            (2, 1, 3, 4, 5, 2, 2, 1, 1),
            (1, 3, 3, 6, 4, 1, 2, 1, 0),
            (2, 2, 1, 3, 3, 3, 3, 1, 1),
        ]
    cases = []
    for N, C_in, C_out, rows, columns, kH, kW, stride, padding in shapes:
        Ho, Wo = output_size(rows, kH, padding, stride), output_size(columns, kW, padding, stride)
        x = random_batch(generator, N, C_in, rows, columns)
        w = random_batch(generator, C_out, C_in, kH, kW, -2, 2)
        b = [generator.randint(-3, 3) + 0.5 for _ in range(C_out)]
        dout = random_batch(generator, N, C_out, Ho, Wo)
        cases.append((dout, x, w, b, stride, padding))
    return cases


def _db_candidates(dout):
    """What a learner holding each misconception would return for db."""
    N, C_out = len(dout), len(dout[0])
    Ho, Wo = len(dout[0][0]), len(dout[0][0][0])
    rule = "db[f] is the SUM of dout[n, f, i, j] over every image n of the batch and every position (i, j)"
    if N > 1:
        yield ["db-not-summed"], _db(dout, images=[0]), f"db adds up the first image of the batch only: {rule}"
        yield (["db-not-summed"], _db(dout, scale=1 / N),
               f"db averages over the batch: the bias is added for every image, so its gradient adds up: {rule}")
    yield (["db-not-summed"], _db(dout, scale=1 / (N * Ho * Wo)),
           f"db is the mean of dout: the bias is added at every position of every image, so its gradient adds up: {rule}")
    if N > 1 and Ho * Wo > 1:
        yield ["db-not-summed"], _db(dout, scale=1 / (Ho * Wo)), f"db averages over the positions: {rule}"
    yield (["db-not-summed"], [_db([image]) for image in dout],
           f"db keeps one row per image: sum over the batch too, so that db has one number per filter: {rule}")
    yield (["db-not-summed"], [add(*[image[f] for image in dout]) for f in range(C_out)],
           f"db keeps one number per position: sum over the positions too, so that db has one number per filter: {rule}")
    yield ["db-not-summed"], dout, f"db is dout itself: {rule}"
    everything = sum(_db(dout))
    for shaped in ([everything, [everything] * C_out] if C_out > 1 else [everything]):
        yield ["db-not-summed"], shaped, f"db adds up every map of dout: {rule}; map f only"
    yield (["db-not-summed"], [sum(_db([image])) for image in dout],
           f"db adds up every map of dout, image by image: {rule}; map f only")


def _dw_candidates(dout, xpad, shape, stride):
    """What a learner holding each misconception would return for dw."""
    C_out, C_in = shape[:2]
    N = len(dout)

    def dw(**options):
        return _dw(dout, xpad, shape, **({"stride": stride} | options))

    if C_in == C_out and C_in > 1:
        yield (["dw-channel-mixup"], dw(pairs=lambda f, c: [(c, f)]),
               "dw[f, c] is computed from channel f of x and map c of dout: it is the other way round. Map f of "
               "dout is filter f's output, and filter f's channel c saw channel c of x")
    if C_in > 1:
        yield (["dw-channel-mixup"], dw(pairs=lambda f, c: [(f, d) for d in range(C_in)]),
               "every channel of a filter gets the same gradient, made from all the channels of x together: "
               "dw[f, c] comes from channel c of x only, the channel that w[f, c] saw")
    if C_out > 1:
        yield (["dw-channel-mixup"], dw(pairs=lambda f, c: [(m, c) for m in range(C_out)]),
               "every filter gets the same gradient, made from all the maps of dout together: dw[f, c] comes "
               "from map f of dout only, the output of filter f")
    if N > 1:
        for image, which in [(0, "first"), (N - 1, "last")]:
            yield (["dw-batch-not-summed"], dw(images=[image]),
                   f"dw keeps the {which} image's part only (set to zero, or `=` where `+=` belongs, inside the "
                   "loop over the images?): every image adds its own part, so dw[f, c] sums over the images n")
        yield (["dw-batch-not-summed"], dw(scale=1 / N),
               "dw averages over the batch: the loss adds up the images, so their parts of dw add up too; "
               "do not divide by N")
    if stride > 1:
        yield (["output-size"], dw(stride=1),
               "dw ignores the stride: dout[n, f, i, j] saw the window of x whose top left corner is at "
               "row i*stride, column j*stride")


def _dx_candidates(dout, w, padded_size, stride, padding):
    """What a learner holding each misconception would return for dx."""
    C_out, C_in = len(w), len(w[0])

    def dx(**options):
        return _dx(dout, w, padded_size, **({"stride": stride, "padding": padding} | options))

    flipped = ("dx has the kernel the wrong way round: going back, each dout[n, f, i, j] spreads w[f] itself, "
               "unturned, over the window it came from. In a loop: dx[n, c, i*stride + u, j*stride + v] += "
               "w[f, c, u, v] * dout[n, f, i, j], w as it is. Vectorised, that is the FULL convolution of dout "
               "with w, a correlation with w turned upside down and left to right, not a correlation with w")
    yield ["dx-not-flipped"], dx(kernel=flip), flipped
    if padding:
        crop = "dx is the gradient of the padded input: crop the padding off, dx has the shape of x"
        yield ["output-size"], dx(padding=0), crop
        yield ["dx-not-flipped", "output-size"], dx(padding=0, kernel=flip), f"{flipped}; and {crop}"
    if C_out > 1:
        every = "every filter f has a channel c that saw x[n, c], so dx[n, c] adds the parts of all the filters"
        if C_out >= C_in > 1:
            yield ["dx-channel-sum"], dx(filters=lambda c: [c]), f"dx[n, c] uses filter c only: {every}"
        yield (["dx-channel-sum"], dx(filters=lambda c: [C_out - 1]),
               f"dx[n, c] keeps the part of the last filter only (`=` where `+=` belongs?): {every}")
        yield ["dx-channel-sum"], dx(filters=lambda c: [0]), f"dx[n, c] uses the first filter only: {every}"
        yield ["dx-channel-sum"], dx(scale=1 / C_out), f"dx averages over the filters: {every}"
    if stride > 1:
        yield (["output-size"], dx(stride=1),
               "dx ignores the stride: dout[n, f, i, j] goes back to the window of x whose top left corner is "
               "at row i*stride, column j*stride")


def _gradient_size_mistake(name, given_shape, case_shapes):
    """(codes, explanation) when the shape of a gradient is wrong in a known way, else None.

    case_shapes: dict with N, C_in, C_out, H, W, kH, kW, Ho, Wo, stride, padding.
    """
    s = case_shapes
    N, C_in, C_out, p = s["N"], s["C_in"], s["C_out"], s["padding"]
    if name == "db":
        return ["db-not-summed"], ("db has one number per filter, the shape of b: add up dout over the batch and "
                                   "over the positions, db[f] = the sum of dout[:, f]")
    if name == "dw" and C_in != C_out and given_shape == (C_in, C_out, s["kH"], s["kW"]):
        return ["dw-channel-mixup"], ("dw has its axes in the order (C_in, C_out, kH, kW): dw has the shape of w, "
                                      "(C_out, C_in, kH, kW), and dw[f, c] belongs to w[f, c]")
    if name != "dx":
        return None
    if len(given_shape) == 5 and sorted(given_shape[1:3]) == sorted((C_in, C_out)) and given_shape[3:] == (s["H"], s["W"]):
        return ["dx-channel-sum"], ("dx keeps one map per filter and channel: every filter f has a channel c that saw "
                                    "x[n, c], so dx[n, c] adds the parts of all the filters")
    if len(given_shape) != 4 or given_shape[:2] != (N, C_in):
        return None
    reached = ((s["Ho"] - 1) * s["stride"] + s["kH"], (s["Wo"] - 1) * s["stride"] + s["kW"])
    if p and given_shape[2:] == (s["H"] + 2 * p, s["W"] + 2 * p):
        return ["output-size"], "dx is the gradient of the padded input: crop the padding off, dx has the shape of x"
    if given_shape[2:] in (reached, (reached[0] - 2 * p, reached[1] - 2 * p)):
        return ["output-size"], ("dx leaves out the last rows or columns of x that no window reached: they get a "
                                 "gradient of zero, and dx has the shape of x")
    return None


def _gradient_position(name, index):
    """"filter 1, channel 0, at (row 0, column 2)" for an index into a gradient."""
    named = [f"{axis} {value}" for axis, value in zip(_GRADIENT_AXES[name], index)]
    if len(named) == 4:
        return f"{named[0]}, {named[1]}, at ({named[2]}, {named[3]})"
    return ", ".join(named)


def _gradient_picture(name, expected, given):
    """(expected, given, words) of the first image (dx) or filter (dw) that differs, or None (db, odd shapes)."""
    if name == "db" or given.ndim != 4:
        return None
    expected = np.array(expected, dtype=float)
    first = 0
    if given.shape == expected.shape:
        first = next((i for i in range(len(expected)) if not same(given[i], expected[i].tolist())), 0)
    if given.shape[0] <= first or 0 in given.shape:
        return None
    return expected[first], given[first], f" ({name} of {'image' if name == 'dx' else 'filter'} {first})"


def _fail_gradient(runner, name, codes, explanation, expected, given, case, picture):
    """Raise the Misconception for a wrong gradient; a visible check names where and draws it first."""
    if runner.hidden:
        raise Misconception(codes, hidden_words(codes, f"on a hidden case {name} is wrong: {explanation}."))
    shape = shape_of(expected)
    if given.shape == shape:
        index, want, got = first_difference(given, expected)
        where = f"{name} is wrong for {_gradient_position(name, index)}: expected {want}, got {got}"
    else:
        where = f"{name} has shape {given.shape}, but it should have {_GRADIENT_SHAPES[name].split(', (')[0]}, {shape}"
    shown = _gradient_picture(name, expected, given) if picture is not None else None
    if shown is not None:
        picture(shown[0], shown[1], title=" ".join(f"[{code}]" for code in codes) + f" {where}" + shown[2])
    raise Misconception(codes, f"for {case}: {where}. {explanation}.",
                        expected=np.array(expected, dtype=float), given=given)


def _check_gradient(runner, name, verdict, probe, case_shapes, picture):
    """Explain the first wrong case of one gradient by a misconception that reproduces it on every
    case (verdict.fitting), else by its shape or rule. probe: that case, its .case the words for it."""
    given, expected, case = probe.given, probe.expected, probe.case
    named = verdict.fitting(probe)
    if named is not None:
        codes, _, explanation = named
        _fail_gradient(runner, name, codes, explanation, expected, given, case, picture)
    if given.shape != shape_of(expected):
        mistake = _gradient_size_mistake(name, given.shape, case_shapes)
        codes, explanation = mistake or (["output-size"], f"{name} has {_GRADIENT_SHAPES[name]}")
        _fail_gradient(runner, name, codes, explanation, expected, given, case, picture)
    _fail_gradient(runner, name, ["wrong-values"], f"{_GRADIENT_RULES[name]}. Recompute that value by hand",
                   expected, given, case, picture)


def _three_gradients(runner, answer, shapes):
    """The learner's answer as {"dx": array, "dw": array, "db": array}; a Misconception when it is not three arrays.

    A tuple or a list of three is accepted. shapes: the expected shape of each gradient.
    """
    if answer is None:
        raise Misconception(["no-return"], f"{runner.name} returned None: did you forget `return dx, dw, db`?")
    order = "conv2d_backward must return the three gradients as a tuple, (dx, dw, db), in this order"
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        what = (f"an array of shape {answer.shape}" if isinstance(answer, np.ndarray)
                else f"a {type(answer).__name__} of {len(answer)} items" if isinstance(answer, (tuple, list))
                else f"a {type(answer).__name__}")
        refuse(runner, ["not-a-tuple"], f"{order}; yours returned {what}", f"{order}: `return dx, dw, db`")
    arrays = {}
    for name, value in zip(_GRADIENTS, answer):
        if value is None:
            refuse(runner, ["not-an-array"], f"{runner.name} returned None as {name}: compute {name} and return it")
        try:
            arrays[name] = np.array(value, dtype=float)
        except (TypeError, ValueError):
            refuse(runner, ["not-an-array"],
                    f"{runner.name} must return arrays of numbers, but its {name} is a {type(value).__name__}")
    given = [arrays[name].shape for name in _GRADIENTS]
    wanted = [shapes[name] for name in _GRADIENTS]
    if given != wanted and sorted(given) == sorted(wanted) and len(set(wanted)) == 3:
        refuse(runner, ["not-a-tuple"],
                f"{order}: yours returned arrays of shapes {given}, which are the shapes of the three gradients "
                f"in another order ({', '.join(f'{name} {shape}' for name, shape in zip(_GRADIENTS, wanted))})",
                f"{order}: yours returns them in another order")
    return arrays


@short_traceback
def check_conv2d_backward(conv2d_backward, seed=0, hidden=False, picture=None):
    """Check a learner's ``conv2d_backward(dout, x, w, b, stride=1, padding=0)``; raise Misconception if wrong.

    The gradients of out = conv2d(x, w, b, stride, padding) (cross-correlation): dout
    (N, C_out, Ho, Wo), x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,) (its values
    play no part) -> (dx, dw, db) with the shapes of x, w and b, as a tuple (a list passes too).
    Called as conv2d_backward(dout, x, w, b, stride=stride, padding=padding). Each case
    checks db, then dw, then dx, and names the gradient that is wrong. seed, hidden,
    picture: as in check_conv2d (a picture shows the first image of dx, or filter of dw,
    that differs). The hidden check reports calls to conv_lib's conv2d_backward,
    conv2d_backward_reference and layers' backward methods, and to scipy's, numpy's or
    torch's convolutions (conv_lib's forward conv2d, corr2d and pad2d are allowed).
    """
    runner = Runner(
        conv2d_backward, "conv2d_backward", hidden, {"conv2d_backward", "conv2d_backward_reference", "backward"},
        ready_made="convolution or backward pass", numbers_hidden=True,
        hint=". dout has shape (N, C_out, Ho, Wo), x (N, C_in, H, W), w (C_out, C_in, kH, kW) and b (C_out,); "
             "return (dx, dw, db) with the shapes of x, w and b.",
    )
    verdicts = {name: Verdict(runner) for name in _GRADIENTS}  # one per gradient: which ideas fit every case
    shapes_of_case = []
    for dout, x, w, b, stride, padding in _backward_cases(seed, hidden):
        answer = runner.call(*(np.array(value, dtype=float) for value in (dout, x, w, b)), stride=stride, padding=padding)
        (N, C_out, Ho, Wo), (_, C_in, H, W), (_, _, kH, kW) = shape_of(dout), shape_of(x), shape_of(w)
        xpad = [[pad(channel, padding) for channel in image] for image in x]
        padded_size = (H + 2 * padding, W + 2 * padding)
        expected = {"dx": _dx(dout, w, padded_size, stride, padding), "dw": _dw(dout, xpad, shape_of(w), stride),
                    "db": _db(dout)}
        given = _three_gradients(runner, answer, {name: shape_of(value) for name, value in expected.items()})
        case_shapes = dict(N=N, C_in=C_in, C_out=C_out, H=H, W=W, kH=kH, kW=kW, Ho=Ho, Wo=Wo, stride=stride, padding=padding)
        case = (f"dout of shape {shape_of(dout)}, x of shape {shape_of(x)}, w of shape {shape_of(w)}, "
                f"stride={stride}, padding={padding}")
        candidates = {
            "db": lambda dout=dout: _db_candidates(dout),
            "dw": lambda dout=dout, xpad=xpad, w=w, stride=stride: _dw_candidates(dout, xpad, shape_of(w), stride),
            "dx": lambda dout=dout, w=w, size=padded_size, stride=stride, padding=padding:
                _dx_candidates(dout, w, size, stride, padding),
        }
        for name in _GRADIENTS:
            verdicts[name].case(case, given[name], expected[name], candidates[name])
        shapes_of_case.append(case_shapes)
    # Every wrong gradient is a problem of its own, one line each: db, then dw, then dx.
    for name in ("db", "dw", "dx"):
        verdicts[name].record()
    problems = []
    for name in ("db", "dw", "dx"):
        wrong = [(probe, shapes) for probe, shapes in zip(verdicts[name].probes, shapes_of_case) if not probe.right]
        if wrong:
            try:
                _check_gradient(runner, name, verdicts[name], *wrong[0], picture if not problems else None)
            except Misconception as error:
                problems.append(error)
    if problems:
        raise listed(problems)


#: check_he_init's tolerances on its large draw (autograder/integrity.py judges with the same ones):
#: the standard deviation within 3% of sqrt(2 / fan_in) (one standard error of the sample's is
#: 1 / sqrt(2 n), 0.4% for 30,000 numbers), the mean within 6 standard errors (the measured
#: standard deviation / sqrt(n)) of 0, and a kurtosis above 2.4 (a normal distribution's is 3,
#: a uniform one's 1.8).
HE_STD_TOLERANCE = 0.03
HE_MEAN_STANDARD_ERRORS = 6
HE_FLAT_KURTOSIS = 2.4

#: Layer sizes (c_out, c_in, k) of the large draws of hidden checks: over 30,000 weights each,
#: and sizes where every wrong scale of _he_std_mistakes is at least 12% from the others and
#: from the right one, so the standard deviation tells them apart.
HE_LARGE_SIZES = ((40, 120, 3), (16, 48, 7), (64, 84, 3), (80, 60, 3), (48, 36, 5), (32, 24, 7), (56, 72, 3))


def _he_init_cases(seed, hidden):
    """(small layer sizes (c_out, c_in, k) for the shape, the large one for the statistics, generator seeds)."""
    generator = random.Random(seed)
    small = [(4, 3, 3), (8, 1, 5), (2, 6, 1), (1, 5, 2)]  # (1, 5, 2): one filter, an even kernel, as hidden ones have
    large = (24, 72, 5)  # fan_in 1,800: the standard deviation is sqrt(2 / 1800) = 1/30
    if hidden:
        small = [(5, 2, 3), (3, 7, 1), (6, 4, 5), (1, 3, 2)]
        large = generator.choice(HE_LARGE_SIZES)
    seeds = generator.sample(range(1, 2**31), len(small) + 3)
    return small, large, seeds


def _say(runner, codes, visible, hidden):
    """Raise a Misconception with the visible or the hidden explanation (the hidden one shows rules, no inputs)."""
    raise Misconception(codes, hidden if runner.hidden else visible)


def _he_shape_reason(given, c_out, c_in, k):
    """Why the shape ``given`` of he_init's weights is wrong, in words without the layer's numbers."""
    if given == (c_in, c_out, k, k):
        return "the first axis picks the filter: the weights have shape (c_out, c_in, k, k), c_out filters of c_in channels"
    if given == (k, k, c_in, c_out):
        return "that is the (k, k, c_in, c_out) order of some libraries: here the filters come first, (c_out, c_in, k, k)"
    if len(given) == 2 and math.prod(given) == c_out * c_in * k * k:
        return "the weights are flattened: keep them as (c_out, c_in, k, k), c_out filters of c_in channels of k x k"
    return "a conv layer's weights have shape (c_out, c_in, k, k): c_out filters, each with c_in channels of k x k"


def _he_draw(runner, c_out, c_in, k, rng_seed):
    """he_init(c_out, c_in, k, rng) with a fresh Generator seeded rng_seed, its shape checked; its numbers as a list."""
    given = runner.array(c_out, c_in, k, np.random.default_rng(rng_seed))
    call = f"he_init({c_out}, {c_in}, {k}, rng)"
    if given.shape != (c_out, c_in, k, k):
        reason = _he_shape_reason(given.shape, c_out, c_in, k)
        _say(runner, ["wrong-shape"], f"{call} returned shape {given.shape}, expected {(c_out, c_in, k, k)}: {reason}.",
             f"on a hidden layer size he_init returned the wrong shape: {reason}.")
    values = flatten(given.tolist())
    if not all(math.isfinite(value) for value in values):
        _say(runner, ["wrong-values"], f"{call} returned inf or nan: the weights are numbers drawn from rng.",
             "on a hidden layer size he_init returned inf or nan: the weights are numbers drawn from rng.")
    if len(values) > 1 and len(set(values)) == 1:
        _say(runner, ["wrong-values"],
             f"{call} returned {shown_number(values[0])} for every weight: the weights are random draws, "
             "rng.standard_normal((c_out, c_in, k, k)) * sqrt(2 / fan_in).",
             "on a hidden layer size he_init returned the same number for every weight: the weights are random "
             "draws, rng.standard_normal((c_out, c_in, k, k)) * sqrt(2 / fan_in).")
    return values


def _check_he_generator(runner, size, seeds):
    """The same seed must give the same weights, another seed other weights: the draws come from rng."""
    first, again, other = (_he_draw(runner, *size, rng_seed) for rng_seed in (seeds[0], seeds[0], seeds[1]))
    if first != again:
        why = ("two generators made with the same seed gave different weights: draw from the rng passed in "
               "(rng.standard_normal or rng.normal), not from np.random's own functions or a generator of your own")
        _say(runner, ["rng-ignored"], f"he_init({size[0]}, {size[1]}, {size[2]}, rng): {why}.", f"{why}.")
    if first == other:
        why = ("generators made with different seeds gave the same weights: do not seed anything inside he_init, "
               "draw from the rng passed in (rng.standard_normal or rng.normal)")
        _say(runner, ["rng-ignored"], f"he_init({size[0]}, {size[1]}, {size[2]}, rng): {why}.", f"{why}.")


def _moments(values):
    """(mean, standard deviation, kurtosis) of a list of numbers, in plain Python; kurtosis nan if all are equal."""
    n = len(values)
    mean = math.fsum(values) / n
    deviations = [value - mean for value in values]
    variance = math.fsum(d * d for d in deviations) / n
    kurtosis = math.fsum(d ** 4 for d in deviations) / n / variance**2 if variance > 0 else math.nan
    return mean, math.sqrt(variance), kurtosis


def _he_std_mistakes(c_out, c_in, k, flat):
    """(codes, the standard deviation that mistake gives, why) for the usual wrong scales.

    flat: the draws look uniform; then the bounds of a uniform distribution taken for
    He's standard deviation are candidates too (codes [] : nothing wrong but the distribution).
    """
    fan_in, fan_out = c_in * k * k, c_out * k * k
    fan = "fan_in is the number of inputs one output number sums over, c_in * k * k"
    mistakes = [
        (["fan-in-wrong"], math.sqrt(2 / fan_out), f"the fan-in is taken as c_out * k * k (the fan-out): {fan}"),
        (["fan-in-wrong"], math.sqrt(2 / c_in),
         f"the fan-in is taken as c_in, without the k * k taps of each channel: {fan}"),
        (["fan-in-wrong"], math.sqrt(2 / c_out), f"the fan-in is taken as c_out: {fan}"),
        (["fan-in-wrong"], math.sqrt(2 / (k * k)),
         f"the fan-in is taken as k * k, one channel's taps: a filter sums over all its channels, so {fan}"),
        (["fan-in-wrong"], math.sqrt(2 / (c_in * k)),
         f"the fan-in is taken as c_in * k: each channel has k * k taps, so {fan}"),
        (["fan-in-wrong"], math.sqrt(2 / (c_out * fan_in)),
         f"the fan-in is taken as all the weights of the layer, c_out * c_in * k * k: {fan}"),
        (["variance-not-std"], 2 / fan_in,
         "the standard deviation is 2 / fan_in, which is the variance: the standard deviation is its square root, "
         "sqrt(2 / fan_in)"),
        (["xavier-not-he"], math.sqrt(1 / fan_in),
         "the standard deviation is sqrt(1 / fan_in), LeCun's scale: He's is sqrt(2 / fan_in), twice the variance, "
         "because a ReLU sets about half of its inputs to zero"),
        (["xavier-not-he"], math.sqrt(2 / (fan_in + fan_out)),
         "the standard deviation is Xavier's (Glorot's) sqrt(2 / (fan_in + fan_out)): He's is sqrt(2 / fan_in), "
         "made for ReLU layers"),
        (["xavier-not-he"], math.sqrt(6 / (fan_in + fan_out)),
         "the standard deviation is sqrt(6 / (fan_in + fan_out)), the bound of Xavier's uniform distribution: "
         "He's is sqrt(2 / fan_in)"),
        (["xavier-not-he", "variance-not-std"], 1 / fan_in,
         "the standard deviation is 1 / fan_in: that is LeCun's variance; He's standard deviation is sqrt(2 / fan_in)"),
    ]
    if flat:
        mistakes += [
            ([], math.sqrt(2 / fan_in), "the standard deviation is right"),
            ([], math.sqrt(2 / fan_in / 3),
             "sqrt(2 / fan_in) is used as the bound b of a uniform distribution on [-b, b], whose standard "
             "deviation is b / sqrt(3)"),
        ]
    return mistakes


def _closest_mistake(std, mistakes):
    """The mistake whose standard deviation is within HE_STD_TOLERANCE of std and closest to it, or None."""
    fitting = [m for m in mistakes if abs(std / m[1] - 1) <= HE_STD_TOLERANCE]
    return min(fitting, key=lambda m: abs(math.log(std / m[1])), default=None)


def _check_he_statistics(runner, size, rng_seed):
    """On a large draw: normal (kurtosis), mean 0, standard deviation sqrt(2 / fan_in), within the tolerances."""
    c_out, c_in, k = size
    values = _he_draw(runner, c_out, c_in, k, rng_seed)
    mean, std, kurtosis = _moments(values)
    right = math.sqrt(2 / (c_in * k * k))
    call = f"he_init({c_out}, {c_in}, {k}, rng) (fan_in = {c_in}*{k}*{k} = {c_in * k * k})"
    shown_mean = f"{mean:.4f}".replace("-0.0000", "0.0000")
    measured = f"its {len(values):,} weights have mean {shown_mean} and standard deviation {std:.4f}"
    rule = f"He's weights have mean 0 and standard deviation sqrt(2 / fan_in) = {right:.4f}"
    flat = kurtosis < HE_FLAT_KURTOSIS
    mean_right = abs(mean) <= HE_MEAN_STANDARD_ERRORS * std / math.sqrt(len(values))
    std_right = abs(std / right - 1) <= HE_STD_TOLERANCE
    if flat:
        uniform = ("the weights are spread evenly, as a uniform distribution's (rng.uniform, rng.random): He's are "
                   "normal, rng.standard_normal((c_out, c_in, k, k)) * sqrt(2 / fan_in)")
        mistake = _closest_mistake(std, _he_std_mistakes(c_out, c_in, k, flat)) if mean_right else None
        codes, why = ["uniform-not-normal"], uniform
        if not mean_right:
            why += "; and their mean is not 0 (rng.random gives numbers in [0, 1))"
        elif mistake is not None and mistake[0]:
            codes, why = codes + mistake[0], f"{why}; and {mistake[2]}"
        _say(runner, codes, f"{call}: {measured}, and they look uniform: {why}.",
             f"on a hidden layer size the weights look uniform: {why}.")
    if not std_right and abs(mean - right) <= HE_MEAN_STANDARD_ERRORS * std / math.sqrt(len(values)):
        why = ("rng.normal's first argument is the mean (loc), its second the standard deviation (scale): "
               "rng.normal(0, sqrt(2 / fan_in), size=(c_out, c_in, k, k))")
        _say(runner, ["wrong-values"], f"{call}: {measured}; {rule}: {why}.",
             f"on a hidden layer size the weights have the standard deviation for their mean: {why}.")
    if not mean_right:
        why = "draw around 0: rng.standard_normal((c_out, c_in, k, k)) * sqrt(2 / fan_in)"
        _say(runner, ["wrong-values"], f"{call}: {measured}; {rule}: {why}.",
             f"on a hidden layer size the weights do not have mean 0: {why}.")
    if not std_right:
        mistake = _closest_mistake(std, _he_std_mistakes(c_out, c_in, k, flat=False))
        codes, why = mistake[0::2] if mistake else (["wrong-values"], "scale standard normal draws by sqrt(2 / fan_in)")
        _say(runner, codes, f"{call}: {measured}; {rule}: {why}.",
             f"on a hidden layer size the weights have the wrong standard deviation: {why}.")


@short_traceback
def check_he_init(he_init, seed=0, hidden=False):
    """Check a learner's ``he_init(c_out, c_in, k, rng)``; raise Misconception if wrong.

    he_init: ints c_out, c_in, k and a numpy Generator rng -> weights (c_out, c_in, k, k) drawn
    from a normal distribution with mean 0 and standard deviation sqrt(2 / (c_in * k * k)).
    Called by position, each time with a fresh np.random.default_rng(seed). Checks the
    shape on small layers; that the draws come from rng (the same seed twice gives the same
    weights, another seed others); and on a large layer (over 30,000 weights) the mean, the
    standard deviation and the kurtosis within HE_MEAN_STANDARD_ERRORS, HE_STD_TOLERANCE and
    HE_FLAT_KURTOSIS. The hidden check uses other sizes and seeds and reports calls to
    conv_lib's initialisers (conv_lib.models.init_params) and torch's.
    """
    runner = Runner(he_init, "he_init", hidden, {"he_init", "init_params"},
                     ready_made="initialisation", numbers_hidden=True,
                     instead="Draw the weights from rng yourself: the point of this exercise is the scale.",
                     hint=". he_init(c_out, c_in, k, rng) returns an array of shape (c_out, c_in, k, k); rng is a "
                          "numpy Generator: draw with rng.standard_normal(shape) or rng.normal(0, std, size=shape).")
    small, large, seeds = _he_init_cases(seed, hidden)
    for size, rng_seed in zip(small, seeds):
        _he_draw(runner, *size, rng_seed)
    _check_he_generator(runner, small[0], seeds[len(small):])
    _check_he_statistics(runner, large, seeds[-1])


# --------------------------------------------------------------------------
# The independent check's cases: inputs chosen by the grader, expected answers
# made with conv_lib in the grader's own process (autograder/integrity.py),
# never in the learner's kernel. Never stricter than the checks above.
# --------------------------------------------------------------------------


GRADIENTS = ("dx", "dw", "db")


def conv2d_backward_independent_cases(rng):
    """(dout, x, w, b) with stride and padding by keyword, as check_conv2d_backward calls it:
    dout (N, C_out, Ho, Wo), x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,); batches of one
    and two, square and non-square channel counts and kernels, stride 1 and 2 (rows and columns
    that no window reaches too), padding 0 and 1. Expected: (dx, dw, db) by conv_lib's
    conv2d_backward_reference."""
    from conv_lib.backward import conv2d_backward_reference

    cases = []
    for N, C_in, C_out, H, W, kH, kW, stride, padding in [
        (1, 1, 2, 4, 5, 2, 2, 1, 0),
        (2, 2, 3, 5, 4, 3, 3, 1, 1),
        (2, 3, 3, 6, 5, 3, 2, 2, 1),
        (1, 3, 2, 6, 6, 1, 1, 2, 0),
        (2, 2, 2, 5, 6, 2, 3, 2, 1),
        (2, 3, 1, 3, 4, 3, 3, 1, 1),
    ]:
        x, w = grid(rng, N, C_in, H, W), grid(rng, C_out, C_in, kH, kW)
        b = rng.integers(-3, 3, size=C_out) + 0.5
        Ho, Wo = conv_lib.output_size(H, kH, padding, stride), conv_lib.output_size(W, kW, padding, stride)
        dout = grid(rng, N, C_out, Ho, Wo)
        expected = tuple(conv2d_backward_reference(dout, x, w, stride=stride, padding=padding))
        cases.append(Case("conv2d_backward", "conv2d_backward", (dout, x, w, b), {"stride": stride, "padding": padding},
                          expected, result="arrays", part_names=GRADIENTS))
    return cases


def he_init_independent_cases(rng):
    """he_init(c_out, c_in, k, Rng(seed)): the shape on two small layers (one with k = 1); the same
    seed again must give the same weights and another seed other ones; and one of check_he_init's large
    layers (over 30,000 weights) must have He's statistics."""
    seeds = [int(seed) for seed in rng.choice(2**62, size=4, replace=False)]
    small = (int(rng.integers(2, 9)), int(rng.integers(1, 7)), int(rng.choice([2, 3, 5])))
    one_by_one = (int(rng.integers(2, 9)), int(rng.integers(2, 9)), 1)
    c_out, c_in, k = HE_LARGE_SIZES[int(rng.integers(len(HE_LARGE_SIZES)))]

    def case(size, seed, expected, label=""):
        return Case("he_init", "he_init", (*size, Rng(seed)), {}, expected, label=label)

    return [
        case(small, seeds[0], Draws((small[0], small[1], small[2], small[2])), label="first"),
        case(small, seeds[0], SameAs("first")),
        case(small, seeds[1], DiffersFrom("first")),
        case(one_by_one, seeds[2], Draws((*one_by_one[:2], 1, 1))),
        case((c_out, c_in, k), seeds[3], Draws((c_out, c_in, k, k), std=math.sqrt(2 / (c_in * k * k)))),
    ]


# --------------------------------------------------------------------------
# The exercises of notebook 06, each described once for both checks
# --------------------------------------------------------------------------

CONV2D_BACKWARD = Exercise(
    "06_learning_filters", "conv2d_backward",
    "conv2d_backward(dout, x, w, b, stride=1, padding=0) -> (dx, dw, db) with the shapes of x, w and b",
    check_conv2d_backward, conv2d_backward_independent_cases,
)

HE_INIT = Exercise(
    "06_learning_filters", "he_init",
    "he_init(c_out, c_in, k, rng) -> (c_out, c_in, k, k)",
    check_he_init, he_init_independent_cases,
)
