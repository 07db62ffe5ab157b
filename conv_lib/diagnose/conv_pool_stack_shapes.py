"""Notebook 04, stacks of layers: the checks of stack_shapes and receptive_field.

    check_stack_shapes      stack_shapes(input_shape, layers) -> [(C, H, W) after each layer]
    check_receptive_field   receptive_field(layers) -> int, input pixels along one side

Layers are specs as in conv_lib.models: ("conv", c_out, k, stride, padding),
("pool", size, stride), ("relu",). A wrong shape names its layer and the idea
behind it (a conv that keeps its input's channel count, a pool that mixes
channels, a ReLU that changes the shape, the wrong output-size formula: see
layer_mistakes, which notebook 05's table check reuses); a wrong receptive
field the rule it breaks (strides ignored, kernels multiplied, padding
counted, off by one). STACK_SHAPES and RECEPTIVE_FIELD, at the end, describe
each exercise once for both checks.
"""

import random

import numpy as np

import conv_lib.models

from .codes import Misconception, listed
from .exercise import Case, Exercise
from .plain import output_size
from .runner import Runner, is_number, is_whole, whole_or_number
from .single_channel import POOL_TILES, WRONG_OUTPUT_SIZE_FORMULAS, wrong_size_reason
from .verdict import close, hidden_words, refuse, short_traceback

# Layer specs, as in conv_lib.models: ("conv", c_out, k, stride, padding), ("pool", size, stride), ("relu",).


def _layer_shape(layer, shape):
    """The (C, H, W) after one layer spec, in plain Python."""
    if layer[0] == "conv":
        _, c_out, k, stride, padding = layer
        return (c_out, output_size(shape[1], k, padding, stride), output_size(shape[2], k, padding, stride))
    if layer[0] == "pool":
        _, size, stride = layer
        return (shape[0], output_size(shape[1], size, 0, stride), output_size(shape[2], size, 0, stride))
    return tuple(shape)


def _stack_shapes(input_shape, layers, size=None, kinds=("conv", "pool")):
    """The shape after each layer; size(n, k, padding, stride), if given, replaces the output-size rule for kinds."""
    shapes, shape = [], tuple(input_shape)
    for layer in layers:
        right = _layer_shape(layer, shape)
        if size is not None and layer[0] in kinds:
            right = (right[0],) + tuple(size(*axis) for axis in _window_sizes(layer, shape))
        shape = right
        shapes.append(shape)
    return shapes


def _stack_size_reason(input_shape, layers, shapes):
    """The wrong output-size formula that gives the heights and widths of the learner's whole list, or None.

    One layer alone can leave two formulas possible (with stride 2, ignoring a padding of 1
    and forgetting the +1 give the same size); the whole list tells them apart.
    """
    for formula, reason in WRONG_OUTPUT_SIZE_FORMULAS + [POOL_TILES]:
        for kinds in (("conv", "pool"), ("conv",), ("pool",)):
            try:
                replayed = _stack_shapes(input_shape, layers, formula, kinds)
            except (ArithmeticError, IndexError):
                continue
            if all(_same_shape(given[1:], shape[1:]) for given, shape in zip(shapes, replayed)):
                return reason
    return None


def _window_sizes(layer, shape):
    """(n, k, padding, stride) for the rows and the columns of a conv or pool layer on ``shape``."""
    if layer[0] == "conv":
        _, _, k, stride, padding = layer
    else:
        _, k, stride = layer
        padding = 0
    return [(shape[1], k, padding, stride), (shape[2], k, padding, stride)]


def _layer_words(layer):
    if layer[0] == "conv":
        _, c_out, k, stride, padding = layer
        return f"conv, {c_out} filters of {k}x{k}, stride {stride}, padding {padding}"
    if layer[0] == "pool":
        return f"pool, {layer[1]}x{layer[1]}, stride {layer[2]}"
    return layer[0]


def layer_mistakes(layer, shape_in, given):
    """(codes, reasons) for a wrong shape ``given`` after one layer whose input (shape_in) is right."""
    kind, right = layer[0], _layer_shape(layer, shape_in)
    if kind == "relu":
        return ["relu-changes-shape"], ["a ReLU works number by number, max(x, 0): its output has the shape of its input"]
    if len(given) != 3:
        return ["not-a-shape-list"], ["a shape here is three numbers, (C, H, W)"]
    codes, reasons = [], []
    if given[0] != right[0]:
        if kind == "pool":
            codes.append("pool-mixes-channels")
            reasons.append("pooling works on each channel on its own, so it keeps the channel count")
        elif given[0] == shape_in[0]:
            codes.append("conv-keeps-channels")
            reasons.append("a conv layer outputs one map per filter: as many channels as filters, not as its input has")
        elif shape_in[0] > 1 and given[0] == shape_in[0] * right[0]:
            codes.append("per-filter-per-channel")
            reasons.append("each filter sums its channel responses into ONE map: as many channels as filters, "
                           "not filters times input channels")
        else:
            codes.append("wrong-values")
            reasons.append("a conv layer outputs one map per filter: as many channels as filters")
    if tuple(given[1:]) != right[1:]:
        codes.append("output-size")
        reason = wrong_size_reason(_window_sizes(layer, shape_in), tuple(given[1:]), pooling=kind == "pool")
        if reason is None and kind == "pool" and tuple(given[1:]) == tuple(shape_in[1:]):
            reason = "the pool keeps the height and the width: its windows, stride apart, fit floor((n - size) / stride) + 1 times"
        reasons.append(reason or "height and width are each floor((n + 2*padding - k) / stride) + 1")
    return codes, reasons


_CHANNEL_COUNT = "a conv layer outputs one map per filter: as many channels as filters; a pool or ReLU keeps them"

#: The channel count each idea gives after one layer of its kind, from the channels the learner's
#: own previous shape has: (kind of layer, count(layer, channels in)).
_CHANNEL_RULES = {
    "conv-keeps-channels": ("conv", lambda layer, channels: channels),
    "per-filter-per-channel": ("conv", lambda layer, channels: channels * layer[1]),
    "pool-mixes-channels": ("pool", lambda layer, channels: 1),  # the maximum through the depth: one map
}


def _channel_idea_fits(code, answered):
    """Does a channel idea give the learner's channel count at every layer of its kind, in every stack?

    answered: (input_shape, layers, the learner's shapes) per case. A layer's input channels are
    the learner's own previous count, or the right one (a learner may track the channels right
    and write them wrong, or carry the wrong count on): the idea must give the learner's count
    from one of them.
    """
    kind, count = _CHANNEL_RULES[code]
    for input_shape, layers, shapes in answered:
        learners, right = input_shape[0], tuple(input_shape)
        for layer, given in zip(layers, shapes):
            if len(given) != 3:
                return False
            if layer[0] == kind and given[0] not in (count(layer, learners), count(layer, right[0])):
                return False
            learners, right = given[0], _layer_shape(layer, right)
    return True


def channel_ideas_that_fit(codes, reasons, answered):
    """codes and reasons of layer_mistakes, a channel idea that does not fit every layer of its kind
    (_channel_idea_fits) turned into [wrong-values] with the rule."""
    codes, reasons = list(codes), list(reasons)
    for position, code in enumerate(codes):
        if code in _CHANNEL_RULES and not _channel_idea_fits(code, answered):
            codes[position], reasons[position] = "wrong-values", _CHANNEL_COUNT
    return codes, reasons


def _stack_shapes_cases(seed, hidden):
    """(input_shape, layers) cases.

    Every kind of layer a hidden stack may hold has a visible sibling: 1x1, 3x3 and 5x5
    convolutions, padded or not, with stride 1 or 2; pools of 2x2 and 3x3 with strides 1, 2
    and 3; a stack that starts with a pool or a ReLU; inputs of 1 to 4 channels, not square.
    """
    if not hidden:
        vgg_blocks = [("conv", 64, 3, 1, 1), ("relu",), ("conv", 64, 3, 1, 1), ("relu",), ("pool", 2, 2),
                      ("conv", 128, 3, 1, 1), ("relu",), ("conv", 128, 3, 1, 1), ("relu",), ("pool", 2, 2)]
        return [
            ((3, 32, 32), [("conv", 8, 3, 1, 1), ("relu",), ("pool", 2, 2), ("conv", 16, 3, 1, 1), ("relu",), ("pool", 2, 2)]),
            ((1, 28, 28), [("conv", 6, 5, 1, 0), ("relu",), ("pool", 2, 2), ("conv", 16, 5, 1, 0), ("relu",), ("pool", 2, 2)]),
            ((3, 224, 224), vgg_blocks),
            ((3, 227, 227), [("conv", 96, 11, 4, 0), ("relu",), ("pool", 3, 2), ("conv", 256, 5, 1, 2), ("relu",), ("pool", 3, 2)]),
            ((2, 7, 9), [("conv", 4, 3, 2, 1), ("pool", 2, 2)]),
            # pools that do not halve: 2x2 with stride 1, 3x3 with stride 3; a 1x1 and a strided 5x5 conv
            ((4, 20, 30), [("pool", 2, 1), ("conv", 12, 1, 1, 0), ("relu",), ("conv", 5, 5, 2, 2), ("pool", 3, 3),
                           ("conv", 6, 3, 2, 0)]),
            # a ReLU first; a strided conv without padding; a 3x3 pool with stride 1; a strided 5x5 conv without padding
            ((2, 17, 23), [("relu",), ("conv", 3, 3, 2, 0), ("pool", 3, 1), ("conv", 8, 5, 2, 0), ("relu",)]),
        ]
    generator = random.Random(seed)
    return [_random_stack(generator) for _ in range(4)]


def _random_stack(generator):
    """A random (input_shape, layers) with a padded conv, a strided conv, a pool and a relu."""
    while True:
        shape = (generator.randint(1, 4), generator.randint(16, 40), generator.randint(16, 40))
        input_shape, layers = shape, []
        for _ in range(generator.randint(5, 8)):
            kind = generator.choice(["conv", "conv", "pool", "relu"])
            if kind == "conv":
                c_out = generator.choice([c for c in (2, 3, 5, 6, 8, 12, 16, 32) if c != shape[0]])
                k, padding = generator.choice([(1, 0), (3, 0), (3, 1), (5, 0), (5, 2)])
                layer = ("conv", c_out, k, generator.choice([1, 2]), padding)
            elif kind == "pool":
                size = generator.choice([2, 3])
                layer = ("pool", size, generator.choice([s for s in (1, 2, 3) if s <= size]))
            else:
                layer = ("relu",)
            if kind != "relu" and any(n + 2 * p < k for n, k, p, _ in _window_sizes(layer, shape)):
                continue  # the window would not fit
            layers.append(layer)
            shape = _layer_shape(layer, shape)

        def has(test):
            return any(test(layer) for layer in layers)

        if (has(lambda layer: layer[0] == "conv" and layer[4] > 0) and has(lambda layer: layer[0] == "conv" and layer[3] > 1)
                and has(lambda layer: layer[0] == "pool" and layer[1] != layer[2]) and has(lambda layer: layer[0] == "relu")):
            return input_shape, layers


def _shape_list(runner, answer):
    """The learner's answer as a list of tuples of numbers; a Misconception when it is not such a list."""
    if answer is None:
        raise Misconception(["no-return"], f"{runner.name} returned None: did you forget `return`?")
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if not isinstance(answer, (list, tuple)):
        refuse(runner, ["not-a-shape-list"],
                f"{runner.name} must return a list with one (C, H, W) tuple per layer, got {type(answer).__name__}")
    if len(answer) == 3 and all(is_number(value) for value in answer):
        refuse(runner, ["one-per-layer"],
                f"{runner.name} returned one shape, {tuple(answer)}: return a list with the shape after "
                "each layer, one (C, H, W) per layer",
                f"{runner.name} returned one shape: return a list with the shape after each layer, one per layer")
    shapes = []
    for index, entry in enumerate(answer):
        if isinstance(entry, np.ndarray):
            entry = entry.tolist()
        if not isinstance(entry, (list, tuple)) or not all(is_number(value) for value in entry):
            refuse(runner, ["not-a-shape-list"],
                    f"entry {index} of {runner.name}'s list is {entry!r}: each entry is a shape, a tuple of "
                    "numbers (C, H, W)",
                    f"an entry of {runner.name}'s list is not a shape: each entry is a tuple of numbers (C, H, W)")
        shapes.append(tuple(entry))
    return shapes


def _same_shape(given, expected):
    return len(given) == len(expected) and all(close(g, e) for g, e in zip(given, expected))


def shown(shape):
    """A shape as the learner wrote it, with numpy's numbers as plain ones."""
    return tuple(value.item() if isinstance(value, np.generic) else value for value in shape)


def _refuse_entry_count(runner, shapes, input_shape, layers):
    """The list does not have one entry per layer: say what it seems to hold instead."""
    if len(shapes) == len(layers) + 1 and _same_shape(shapes[0], input_shape):
        reason = "it starts with the input shape; leave that out: one entry per layer, the shape after that layer"
    elif len(shapes) == sum(layer[0] != "relu" for layer in layers):
        reason = "it skips the ReLU layers; every layer gets an entry, a ReLU too (its shape is its input's)"
    else:
        reason = "the list needs one entry per layer, the shape after that layer"
    refuse(runner, ["one-per-layer"],
            f"{runner.name} returned {len(shapes)} shape{'' if len(shapes) == 1 else 's'} for {len(layers)} layers: {reason}.",
            f"on a hidden stack {runner.name} returned the wrong number of shapes: {reason}.")


@short_traceback
def check_stack_shapes(stack_shapes, seed=0, hidden=False):
    """Check a learner's ``stack_shapes(input_shape, layers)``: the (C, H, W) after each layer.

    input_shape: (C, H, W); layers: specs ("conv", c_out, k, stride, padding),
    ("pool", size, stride), ("relu",). The answer is a list with one shape per layer
    (lists or tuples of ints, numpy's too). A visible failure names the first wrong
    layer, what it gave and what it should give.
    """
    runner = Runner(stack_shapes, "stack_shapes", hidden, {"layer_output_shape", "summary"},
                     ready_made="shape calculation (conv_lib.models)", numbers_hidden=True)
    answered, crash = [], None
    for input_shape, layers in _stack_shapes_cases(seed, hidden):
        try:
            shapes = _shape_list(runner, runner.call(tuple(input_shape), [tuple(layer) for layer in layers]))
        except Misconception as error:
            if error.codes[-1:] != ("raises",):
                raise
            crash = crash or error  # a wrong idea can make a later stack crash: name the idea first
            continue
        if len(shapes) != len(layers):
            _refuse_entry_count(runner, shapes, input_shape, layers)
        answered.append((input_shape, layers, shapes))
    problem = _first_wrong_layer(answered) or _first_fraction(answered)
    if problem is None and crash is not None:
        raise crash
    if problem is not None:
        codes, explanation, hidden_explanation = problem
        if runner.hidden:
            explanation = hidden_words(codes, hidden_explanation)
        raise listed([Misconception(codes, explanation)] + ([crash] if crash is not None else []))


def _first_wrong_layer(answered):
    """(codes, explanation, hidden explanation) for the first layer whose shape is wrong, or None.

    A channel idea is named only when it gives the learner's channel count at every layer of
    its kind (_channel_idea_fits); the output-size reason is the formula that gives the whole list."""
    for input_shape, layers, shapes in answered:
        expected = _stack_shapes(input_shape, layers)
        for index, (layer, given, right) in enumerate(zip(layers, shapes, expected)):
            if _same_shape(given, right):
                continue
            shape_in = expected[index - 1] if index else tuple(input_shape)
            codes, reasons = channel_ideas_that_fit(*layer_mistakes(layer, shape_in, given), answered)
            if "output-size" in codes:
                reasons[-1] = _stack_size_reason(input_shape, layers, shapes) or reasons[-1]
            return (codes,
                    f"stack_shapes says layer {index + 1} ({_layer_words(layer)}) turns {shape_in} into "
                    f"{shown(given)}; {'; '.join(reasons)}: it gives {right}.",
                    f"on a hidden stack a {layer[0]} layer gives the wrong shape: {'; '.join(reasons)}.")
    return None


def _first_fraction(answered):
    """The [output-size] problem of a shape with sizes that are not whole numbers, or None."""
    for _, _, shapes in answered:
        for index, given in enumerate(shapes):
            if not all(is_whole(value) for value in given):
                return (["output-size"],
                        f"stack_shapes gives layer {index + 1}'s shape as {shown(given)}: sizes are whole "
                        "numbers; use // (floor division) so they stay ints",
                        "stack_shapes gives a shape with numbers that are not ints: use // (floor division)")
    return None


def _receptive_field(layers, start=1, widen=lambda k, p: k - 1, strides=True, early=False, pools=True):
    """Receptive field of one output after the stack, along one side, in input pixels.

    The rule (the defaults): r = 1, jump j = 1; each conv or pool adds (k - 1) * j, then j *= stride.
    The other arguments give the misconceptions: start (r's first value), widen (what a
    window of k with padding p adds), strides (False: ignored), early (the stride
    applied before the layer's own window), pools (False: pooling layers left out).
    """
    r, jump = start, 1
    for layer in layers:
        if layer[0] == "conv":
            _, _, k, stride, padding = layer
        elif layer[0] == "pool" and pools:
            _, k, stride = layer
            padding = 0
        else:
            continue
        stride = stride if strides else 1
        if early:
            jump *= stride
        r += widen(k, padding) * jump
        if not early:
            jump *= stride
    return r


def _kernels_multiplied(layers):
    product = 1
    for layer in layers:
        if layer[0] in ("conv", "pool"):
            product *= layer[2] if layer[0] == "conv" else layer[1]
    return product


#: (codes, the misconception's receptive field, why it is wrong), most telling first.
_RECEPTIVE_FIELD_MISTAKES = [
    (["stride-ignored"], lambda layers: _receptive_field(layers, strides=False),
     "each layer adds k - 1 no matter the strides before it. After a layer with stride s, neighbouring "
     "outputs are s input pixels apart, so a later window of k adds (k - 1) x jump, where the jump is "
     "the product of the strides of the layers before it"),
    (["kernels-multiplied"], _kernels_multiplied,
     "the kernel sizes are multiplied. Stacked windows overlap: each layer widens the field by "
     "(k - 1) x jump, added to what the layers before it see"),
    (["padding-counted"], lambda layers: _receptive_field(layers, widen=lambda k, p: k - 1 + 2 * p),
     "the padding is counted. Padding adds zeros around a layer's input, it does not widen what one "
     "output sees: leave it out"),
    (["stride-too-early"], lambda layers: _receptive_field(layers, early=True),
     "a layer's stride multiplies the jump before its own window is added. The stride spaces out this "
     "layer's outputs, so it only matters for the layers after it: add (k - 1) x jump, then multiply "
     "the jump by the stride"),
    (["pool-ignored"], lambda layers: _receptive_field(layers, pools=False),
     "the pooling layers are left out. A pool's window widens the field like a conv's (k - 1) x jump, "
     "and its stride multiplies the jump"),
    (["off-by-one"], lambda layers: _receptive_field(layers, start=0),
     "off by one: before any layer an output sees one pixel, so r starts at one, not zero"),
    (["off-by-one"], lambda layers: _receptive_field(layers, start=2),
     "off by one: before any layer an output sees one pixel, so r starts at one"),
    (["off-by-one"], lambda layers: _receptive_field(layers, widen=lambda k, p: k),
     "one too many per layer: a window of k pixels slid over a field of r pixels sees r + k - 1 of them, "
     "so each layer adds (k - 1) x jump, not k x jump"),
    (["off-by-one", "padding-counted"], lambda layers: _receptive_field(layers, widen=lambda k, p: k - 1 + p),
     "the padding is counted (once per layer). Padding adds zeros around a layer's input, it does not "
     "widen what one output sees: leave it out"),
]


def _receptive_field_cases(seed, hidden):
    """(words for the stack, layers) cases; every kind of layer a hidden stack may hold has a visible sibling."""
    conv3, pool2 = ("conv", 64, 3, 1, 1), ("pool", 2, 2)
    if not hidden:
        vgg16 = []
        for convs in (2, 2, 3, 3, 3):
            vgg16 += [conv3, ("relu",)] * convs + [pool2]
        return [
            ("one 3x3 conv", [conv3]),
            ("two 3x3 convs", [conv3, ("relu",), conv3]),
            ("three 3x3 convs (which see as far as one 7x7)", [conv3, ("relu",), conv3, ("relu",), conv3]),
            ("conv 3x3, conv 3x3, 2x2 pool", [conv3, ("relu",), conv3, ("relu",), pool2]),
            ("VGG16's convolutional part (13 convs of 3x3, 5 pools of 2x2)", vgg16),
            ("conv 3x3 stride 2, conv 3x3 stride 2, conv 3x3",
             [("conv", 8, 3, 2, 1), ("relu",), ("conv", 16, 3, 2, 1), ("relu",), ("conv", 16, 3, 1, 1)]),
            ("conv 11x11 stride 4, pool 3x3 stride 2, conv 5x5 padding 2, pool 3x3 stride 2 (AlexNet)",
             [("conv", 96, 11, 4, 0), ("relu",), ("pool", 3, 2), ("conv", 256, 5, 1, 2), ("relu",), ("pool", 3, 2)]),
            # the kinds of layer a hidden stack may hold besides: pools with strides 1 and 3, 1x1, 2x2 and 7x7
            # convs, a conv with stride 3, a pool first
            ("conv 7x7 stride 2 padding 3, pool 3x3 stride 3, conv 1x1, conv 2x2 stride 3, pool 2x2 stride 1",
             [("conv", 8, 7, 2, 3), ("relu",), ("pool", 3, 3), ("conv", 8, 1, 1, 0), ("conv", 8, 2, 3, 0), ("relu",),
              ("pool", 2, 1)]),
            ("pool 2x2 stride 1, conv 3x3 stride 3, pool 3x3 stride 1, conv 3x3",
             [("pool", 2, 1), ("conv", 8, 3, 3, 1), ("relu",), ("pool", 3, 1), ("conv", 8, 3, 1, 0)]),
        ]
    generator = random.Random(seed)
    cases = []
    while len(cases) < 6:
        layers = []
        for _ in range(generator.randint(3, 8)):
            kind = generator.choice(["conv", "conv", "pool", "relu"])
            if kind == "conv":
                k, padding = generator.choice([(1, 0), (3, 0), (3, 1), (5, 2), (7, 3), (2, 0)])
                layers.append(("conv", 8, k, generator.choice([1, 1, 2, 3]), padding))
            elif kind == "pool":
                layers.append(("pool", generator.choice([2, 3]), generator.choice([1, 2, 3])))
            else:
                layers.append(("relu",))
        if sum(layer[0] in ("conv", "pool") for layer in layers) >= 2:
            cases.append(("a hidden stack", layers))
    return cases


@short_traceback
def check_receptive_field(receptive_field, seed=0, hidden=False):
    """Check a learner's ``receptive_field(layers)`` -> int, in input pixels along one side.

    layers: specs as in check_stack_shapes. The rule: r = 1, jump = 1; each conv or pool
    with kernel k and stride s does r += (k - 1) * jump, then jump *= s; ReLU and padding
    change nothing. The mistake named is one that explains every case the learner got wrong.
    """
    runner = Runner(receptive_field, "receptive_field", hidden, set(), numbers_hidden=True)
    cases = _receptive_field_cases(seed, hidden)
    answers = []
    for words, layers in cases:
        given = whole_or_number(runner, runner.call([tuple(layer) for layer in layers]), "int")
        answers.append((words, layers, given, _receptive_field(layers)))
    wrong = [(words, layers, given, expected) for words, layers, given, expected in answers if given != expected]
    if not wrong:
        for words, layers, given, expected in answers:
            if not is_whole(given):
                refuse(runner, ["not-an-array"],
                        f"receptive_field for {words} gives {given!r}: return an int (a number of pixels)",
                        "receptive_field must return an int (a number of pixels)")
        return
    # Only a mistake that gives the learner's answer on every case (the right ones too) is named.
    consistent = [(codes, reason) for codes, rule, reason in _RECEPTIVE_FIELD_MISTAKES
                  if all(given == rule(layers) for _, layers, given, _ in answers)]
    words, layers, given, expected = wrong[0]
    codes, reason = (consistent or [(["wrong-values"],
                     "start with r = 1 and jump = 1; per conv or pool, r += (k - 1) * jump, then jump *= stride")])[0]
    refuse(runner, codes,
            f"receptive_field for {words} should be {expected}, you gave {given}: {reason}.",
            f"receptive_field gives a wrong answer on a hidden stack: {reason}.")


# --------------------------------------------------------------------------
# The independent check's cases: inputs chosen by the grader, expected answers
# made with conv_lib in the grader's own process (autograder/integrity.py),
# never in the learner's kernel. Never stricter than the checks above.
# --------------------------------------------------------------------------


def random_layers(rng, input_shape, count):
    """`count` layer specs (conv, pool, relu) that fit an input of input_shape (C, H, W)."""
    layers, shape = [], tuple(input_shape)
    while len(layers) < count:
        kind = rng.choice(["conv", "conv", "pool", "relu"])
        if kind == "conv":
            k = int(rng.choice([1, 3, 5]))
            layer = ("conv", int(rng.integers(1, 65)), k, int(rng.integers(1, 3)), int(rng.integers(0, k // 2 + 1)))
        elif kind == "pool":
            layer = ("pool", int(rng.integers(2, 4)), int(rng.integers(1, 3)))
        else:
            layer = ("relu",)
        try:
            shape = conv_lib.models.layer_output_shape(layer, shape)
        except ValueError:  # the window no longer fits
            continue
        layers.append(layer)
    return layers


def expected_stack_shapes(input_shape, layers):
    """int64 (len(layers), 3): the (C, H, W) after each layer, by conv_lib.models.layer_output_shape."""
    shapes, shape = [], tuple(input_shape)
    for position, layer in enumerate(layers):
        shape = conv_lib.models.layer_output_shape(layer, shape, position)
        shapes.append(shape)
    return np.array(shapes, dtype=np.int64).reshape(len(layers), 3)


def stack_shapes_independent_cases(rng):
    """(input_shape, layers): a VGG block, strided and unpadded layers on a non-square
    input, AlexNet's first layers, odd sizes that pooling floors, and a random stack."""
    c1, c2 = int(rng.integers(4, 65)), int(rng.integers(4, 65))
    side = 2 * int(rng.integers(4, 17))
    stacks = [
        ((3, side, side), [("conv", c1, 3, 1, 1), ("relu",), ("conv", c1, 3, 1, 1), ("relu",), ("pool", 2, 2)]),
        ((1, 28, 20), [("conv", c1, 5, 1, 0), ("relu",), ("pool", 2, 2), ("conv", c2, 3, 2, 1), ("pool", 3, 2)]),
        ((3, 227, 227), [("conv", 96, 11, 4, 0), ("relu",), ("pool", 3, 2), ("conv", 256, 5, 1, 2), ("relu",),
                         ("pool", 3, 2)]),
        ((2, 15, 9), [("pool", 2, 2), ("conv", c2, 3, 1, 0), ("pool", 2, 1)]),
    ]
    random_input = (int(rng.integers(1, 5)), int(rng.integers(16, 40)), int(rng.integers(16, 40)))
    stacks.append((random_input, random_layers(rng, random_input, int(rng.integers(3, 7)))))
    return [Case("stack_shapes", "stack_shapes", (shape, layers), {}, expected_stack_shapes(shape, layers),
                 result="shapes") for shape, layers in stacks]


def expected_receptive_field(layers):
    """How many input pixels along one axis one output pixel of the stack depends on.

    r, the field, starts at 1 and j, the jump (input pixels between two
    neighbouring outputs of the layer so far), at 1. A conv ("conv", c_out, k,
    stride, padding) or a pool ("pool", k, stride) widens the field by k - 1 of
    its inputs, that is (k - 1) * j input pixels, then multiplies the jump by
    its stride; any other layer (relu) changes neither. Padding moves the field, not its size.

    layers: layer specs. Returns an int (VGG16's 13 convolutions and 5 pools: 212).
    """
    field, jump = 1, 1
    for layer in layers:
        if layer[0] == "conv":
            _, _, k, stride, _ = layer
        elif layer[0] == "pool":
            _, k, stride = layer
        else:
            continue
        field += (k - 1) * jump
        jump *= stride
    return field


def vgg16_convolutional_part():
    """VGG16's layer specs up to (without) flatten: 13 conv + ReLU, 5 pools."""
    layers = conv_lib.models.vgg16()
    return layers[: layers.index(("flatten",))]


def receptive_field_independent_cases(rng):
    """(layers,): one, two and three 3x3 convolutions, two and a pool, AlexNet's
    first layers, VGG16's convolutional part, and a random stack."""
    conv3 = [("conv", 8, 3, 1, 1), ("relu",)]
    stacks = [
        conv3,
        conv3 * 2,
        conv3 * 3,
        conv3 * 2 + [("pool", 2, 2)],
        [("conv", 96, 11, 4, 0), ("relu",), ("pool", 3, 2), ("conv", 256, 5, 1, 2), ("relu",), ("pool", 3, 2)],
        vgg16_convolutional_part(),
        random_layers(rng, (3, 64, 64), int(rng.integers(4, 9))),
    ]
    return [Case("receptive_field", "receptive_field", (layers,), {}, expected_receptive_field(layers)) for layers in stacks]


# --------------------------------------------------------------------------
# The exercises of notebook 04 (stack_shapes and receptive_field), each described once for both checks
# --------------------------------------------------------------------------

STACK_SHAPES = Exercise(
    "04_conv_pool_stack", "stack_shapes",
    "stack_shapes(input_shape, layers): input_shape (C, H, W), layers specs -> [(C, H, W), ...] one per layer",
    check_stack_shapes, stack_shapes_independent_cases,
)

RECEPTIVE_FIELD = Exercise(
    "04_conv_pool_stack", "receptive_field",
    "receptive_field(layers) -> int",
    check_receptive_field, receptive_field_independent_cases,
)
