"""The misconception codes, and the error that carries them.

CODES maps each code to the sentence it stands for; the notebooks' messages
start with codes in square brackets ("[no-channel-sum] ..."), and the grader's
CSVs, feedback and summaries count them. Misconception is the AssertionError a
check raises for a wrong answer.
"""

CODES = {
    "no-channel-sum": "one map per input channel instead of their sum",
    "mean-not-sum": "the channel responses are averaged instead of summed",
    "channel-pairing": "filter channels meet the wrong input channels",
    "one-channel-only": "only one input channel is used",
    "missing-bias": "the bias is left out",
    "bias-per-channel": "the bias is added once per input channel instead of once per map",
    "flipped-kernel": "the kernel is flipped (true convolution) instead of cross-correlation",
    "output-size": "the output size (padding, stride or the +1) is wrong",
    "per-filter-per-channel": "C_out * C_in maps instead of C_out",
    "filters-summed": "the maps of different filters are summed or averaged together, the channels kept apart",
    "filter-depth": "a filter is counted as one k x k slice instead of C_in of them",
    "filter-count": "the parameters of one filter instead of all C_out filters",
    "depth-check": "a filter whose depth differs from the input's channel count is not refused",
    "reference-call": "a ready-made convolution is called instead of implementing the rule",
    "no-return": "the function returns None",
    "not-an-array": "the answer is not an array of numbers",
    "raises": "the function raises an error",
    "wrong-values": "wrong numbers that match no known misconception",
    # The mistakes learners' public questions about multi-channel convolution show
    "bias-per-product": "the bias is added to every product in the window instead of once to the sum",
    "filter-reads-one-channel": "each filter reads one input channel instead of all of them (filters dealt out to the channels)",
    "kernel-shared": "one 2-D kernel is used for every input channel: a filter has one kernel channel per input channel",
    "reshape-not-transpose": "reshape is used to reorder axes (weights as (C_in, C_out, kH, kW), images channels-last): it keeps the numbers in order and scrambles them; use transpose",
    "axis-dropped": "an axis of length one is dropped (squeeze): the answer keeps every axis, (C_out, Ho, Wo) even for one filter",
    "start-not-strided": "window i starts at i instead of i * stride: the stride moves the window",
    "index-steps-by-stride": "the loop counter steps by the stride and is used as the output index: store window i at out[i], start it at i * stride",
    "one-sided-padding": "zeros are added on one side only (bottom and right) instead of padding zeros on every side",
    # Notebook 04: conv2d on a batch, max_pool2d, stack_shapes, receptive_field
    "batch-mixed": "the images of a batch are mixed, dropped or summed instead of each getting its own result",
    "pool-mixes-channels": "pooling mixes the channels instead of working on each channel on its own",
    "avg-not-max": "each window is averaged instead of keeping its maximum",
    "conv-keeps-channels": "a conv layer keeps its input's channel count instead of giving one map per filter",
    "relu-changes-shape": "a ReLU changes the shape, though it works number by number",
    "one-per-layer": "not exactly one shape per layer (the input not included)",
    "not-a-shape-list": "the answer is not a list of (C, H, W) shapes",
    "stride-ignored": "the strides of earlier layers are ignored: each layer adds (k - 1) times the jump",
    "kernels-multiplied": "the kernel sizes are multiplied instead of each layer adding (k - 1) times the jump",
    "padding-counted": "padding is counted in the receptive field",
    "stride-too-early": "a layer's own stride multiplies the jump before its own window is added",
    "pool-ignored": "pooling layers are left out of the receptive field",
    "off-by-one": "the receptive field is off by one: it starts at one pixel and a window of k adds k - 1",
    # Notebook 05: vgg16_table and vgg_block
    "fc-input-size": "the first fully connected layer's input is not the flattened C*H*W of the last pool",
    "pool-has-params": "a pooling layer is given parameters or multiply-accumulates",
    "macs-wrong": "multiply-accumulates are not one per weight per output number",
    "input-shape-ignored": "the input_shape argument is ignored",
    "not-a-table": "the answer is not a list of rows with name, output_shape, params and macs",
    "relu-missing": "a ReLU is missing after a convolution",
    "pool-missing": "the max pool at the end of the block is missing",
    "padding-missing": "the convolutions are not padded (padding one keeps the height and the width)",
    "relu-before-bias": "the ReLU is applied before the bias is added",
    "block-incomplete": "only the first convolution of the block is applied",
    # Notebook 06: conv2d_backward and he_init
    "not-a-tuple": "the answer is not the three gradients (dx, dw, db), in this order",
    "db-not-summed": "db is not the sum of dout over the whole batch and every position",
    "dw-channel-mixup": "dw[f, c] pairs the wrong map of dout with the wrong channel of x",
    "dw-batch-not-summed": "dw does not add the parts of all the images of the batch",
    "dx-not-flipped": "dx uses the kernel the wrong way round: each dout value spreads w itself over its window, a full convolution, not a correlation with w",
    "dx-channel-sum": "dx[n, c] does not add the parts of all the filters",
    "wrong-shape": "the weights do not have the shape (c_out, c_in, k, k)",
    "rng-ignored": "the draws do not come from the generator rng that is passed in",
    "fan-in-wrong": "the fan-in is not c_in * k * k, the number of inputs one output number sums over",
    "variance-not-std": "2 / fan_in is used as the standard deviation: it is the variance, take its square root",
    "xavier-not-he": "Xavier's (or LeCun's) scale instead of He's sqrt(2 / fan_in)",
    "uniform-not-normal": "the weights are drawn from a uniform distribution instead of a normal one",
    # Notebook 07: conv2d_grouped, separable_params, separable_macs, to_conv_lib_layout, to_channels_first
    "groups-ignored": "every filter reads the same input channels whatever its group, as if there were one group: "
                      "a filter of group g reads only that group's C_in/groups channels",
    "wrong-group": "a filter reads another group's input channels: filter f belongs to group f // (C_out/groups)",
    "depthwise-summed": "a depthwise layer sums its input channels: there each filter reads one channel, and one map "
                        "per input channel without a sum is right",
    "group-size-from-c-out": "the input channels are split into groups of C_out/groups instead of C_in/groups",
    "groups-check": "channels that do not split into equal groups (C_in or C_out not divisible by groups) are not refused",
    "separable-no-pointwise": "the pointwise step (c_out filters that mix the c_in channels pixel by pixel) of the depthwise-separable layer is left out",
    "separable-no-depthwise": "the depthwise step (c_in filters of k x k, one channel each) of the depthwise-separable layer is left out",
    "separable-no-bias": "the biases of the depthwise-separable layer (one per depthwise and one per pointwise filter) are left out",
    "separable-counted-standard": "a standard convolution's count (c_out filters of c_in x k x k) instead of the depthwise "
                                  "step's plus the pointwise step's",
    "depthwise-as-full": "the depthwise step is counted as a full convolution: each of its c_in filters reads one channel, not all c_in",
    "kernel-reshaped": "a Keras kernel (kH, kW, C_in, C_out) is converted with reshape: the numbers keep their order and "
                       "land in the wrong places; move axes with transpose",
    "wrong-axis-order": "transpose moves the axes in the wrong order: two axes end up swapped (height and width, "
                        "or filters and channels)",
    "source-mixed-up": "weights are handled as if they came from the other framework: Keras's kernels are "
                       "(kH, kW, C_in, C_out), PyTorch's weights already (C_out, C_in/groups, kH, kW)",
    "source-check": "a source other than \"keras\" or \"pytorch\" is not refused",
}


class Misconception(AssertionError):
    """A wrong answer, with the codes of the misconceptions that explain it.

    codes:       tuple of codes from CODES, most important first.
    explanation: the plain sentences after the first line's codes.
    expected:    the expected answer (array or number), or None in hidden checks.
    given:       the learner's answer, or None in hidden checks.
    first_codes: the codes that head the message, when it lists several problems
                 (each further line starts with its own codes); all codes by default.
    str(error) starts with codes in square brackets, then plain sentences; listed() makes
    one Misconception of several problems, a line (or more) each.
    """

    def __init__(self, codes, explanation, expected=None, given=None, first_codes=None):
        self.codes = tuple(codes)
        self.explanation = explanation
        self.expected, self.given = expected, given
        self.first_codes = self.codes if first_codes is None else tuple(first_codes)
        super().__init__(" ".join(f"[{code}]" for code in self.first_codes) + " " + explanation)


def listed(errors):
    """One Misconception for several problems, in order: each keeps its own lines and codes.

    errors: Misconceptions, the most fundamental first. The result has all their codes
    (each once), the first one's expected and given (the picture of the first wrong
    answer), and the first learner's crash among them as its cause.
    """
    first = errors[0]
    codes = list(dict.fromkeys(code for error in errors for code in error.codes))
    explanation = "\n".join([first.explanation] + [str(error) for error in errors[1:]])
    joined = Misconception(codes, explanation, expected=first.expected, given=first.given, first_codes=first.first_codes)
    joined.__cause__ = next((error.__cause__ for error in errors if error.__cause__ is not None), None)
    return joined
