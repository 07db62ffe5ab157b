"""Learner answers to notebook 07: conv2d_grouped(x, w, b, groups, stride=1, padding=0), separable_params(c_in,
c_out, k), separable_macs(c_in, c_out, k, h, w), to_conv_lib_layout(kernel, source) and to_channels_first(x).

Rows of the corpus in learner_answers.py. The sources use only np and conv_lib (conv_lib.corr2d,
conv_lib.conv2d_multi_in and conv_lib.pad2d are the library calls conv2d_grouped may make), so they run
beside the solution notebook's setup and on their own (tests/test_diagnose_groups_depthwise.py).
"""

from answer_rows import answer, variant

# --------------------------------------------------------------------------
# conv2d_grouped: a loop version and a vectorised one, each changed in one idea
# --------------------------------------------------------------------------

GROUPED_LOOPS = """
    def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
        N, C_in, H, W = x.shape
        C_out, depth, kH, kW = w.shape
        if C_in % groups or C_out % groups:
            raise ValueError(f"{C_in} channels and {C_out} filters do not split into {groups} groups")
        if depth * groups != C_in:
            raise ValueError(f"each filter needs C_in/groups = {C_in // groups} channels, w has {depth}")
        in_per_group, out_per_group = C_in // groups, C_out // groups
        xp = conv_lib.pad2d(x, padding)
        Ho = (H + 2 * padding - kH) // stride + 1
        Wo = (W + 2 * padding - kW) // stride + 1
        out = np.zeros((N, C_out, Ho, Wo))
        for n in range(N):
            for f in range(C_out):
                g = f // out_per_group
                for c in range(in_per_group):
                    channel = xp[n, g * in_per_group + c]
                    for i in range(Ho):
                        for j in range(Wo):
                            window = channel[i * stride:i * stride + kH, j * stride:j * stride + kW]
                            out[n, f, i, j] += np.sum(window * w[f, c])
                out[n, f] += b[f]
        return out
"""

GROUPED_EINSUM = """
    def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
        N, C_in = x.shape[:2]
        C_out = w.shape[0]
        if C_in % groups or C_out % groups or w.shape[1] != C_in // groups:
            raise ValueError("C_in and C_out must split into groups, and w must have C_in/groups channels")
        cin, cout = C_in // groups, C_out // groups
        xp = conv_lib.pad2d(x, padding)
        outs = []
        for g in range(groups):
            xg = xp[:, g * cin:(g + 1) * cin]
            wg = w[g * cout:(g + 1) * cout]
            windows = np.lib.stride_tricks.sliding_window_view(xg, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
            outs.append(np.einsum("nchwuv,fcuv->nfhw", windows, wg) + b[g * cout:(g + 1) * cout, None, None])
        return np.concatenate(outs, axis=1)
"""

GROUPED_MULTI_IN = """
    def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
        C_in, C_out = x.shape[1], w.shape[0]
        if C_in % groups != 0 or C_out % groups != 0:
            raise ValueError("C_in and C_out must both be divisible by groups")
        if w.shape[1] != C_in // groups:
            raise ValueError(f"w should have C_in/groups = {C_in // groups} channels per filter, not {w.shape[1]}")
        per_in, per_out = C_in // groups, C_out // groups
        xp = conv_lib.pad2d(x, padding)
        images = []
        for image in xp:
            maps = []
            for f in range(C_out):
                g = f // per_out
                maps.append(conv_lib.conv2d_multi_in(image[g * per_in:(g + 1) * per_in], w[f], b[f], stride=stride))
            images.append(np.stack(maps))
        return np.stack(images)
"""

CONV2D_GROUPED = [
    answer("conv2d_grouped", "loops_over_groups_filters_and_positions", "loops", GROUPED_LOOPS),
    answer("conv2d_grouped", "einsum_group_by_group", "vectorised", GROUPED_EINSUM),
    answer("conv2d_grouped", "conv2d_multi_in_for_each_filter", "vectorised", GROUPED_MULTI_IN),
    answer("conv2d_grouped", "one_einsum_on_grouped_axes", "unusual", """
        def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, depth, kH, kW = w.shape
            if C_in % groups or C_out % groups or depth * groups != C_in:
                raise ValueError("the channels and filters must split into groups of C_in/groups and C_out/groups")
            xp = conv_lib.pad2d(x, padding)
            windows = np.lib.stride_tricks.sliding_window_view(xp, (kH, kW), axis=(2, 3))[:, :, ::stride, ::stride]
            Ho, Wo = windows.shape[2:4]
            windows = windows.reshape(N, groups, depth, Ho, Wo, kH, kW)
            wg = w.reshape(groups, C_out // groups, depth, kH, kW)
            out = np.einsum("ngchwuv,gfcuv->ngfhw", windows, wg).reshape(N, C_out, Ho, Wo)
            return out + b[None, :, None, None]
        """),
    # The groups' own ideas
    answer("conv2d_grouped", "filters_dealt_out_to_the_groups_in_turn", "loops",
           variant(GROUPED_LOOPS, "g = f // out_per_group", "g = f % groups"), ("wrong-group",)),
    answer("conv2d_grouped", "group_blocks_shifted_by_one", "loops",
           variant(GROUPED_LOOPS, "channel = xp[n, g * in_per_group + c]",
                   "channel = xp[n, ((g + 1) % groups) * in_per_group + c]"), ("wrong-group",)),
    answer("conv2d_grouped", "multiplier_filters_read_channels_in_turn", "vectorised",
           variant(GROUPED_MULTI_IN, "g = f // per_out", "g = f % groups"), ("wrong-group",)),
    answer("conv2d_grouped", "input_groups_sized_by_the_filters", "loops",
           variant(GROUPED_LOOPS, "channel = xp[n, g * in_per_group + c]", "channel = xp[n, g * out_per_group + c]"),
           ("group-size-from-c-out",)),
    answer("conv2d_grouped", "one_group_size_for_both_sides", "vectorised",
           variant(GROUPED_EINSUM, "xg = xp[:, g * cin:(g + 1) * cin]", "xg = xp[:, g * cout:(g + 1) * cout]"),
           ("group-size-from-c-out",)),
    answer("conv2d_grouped", "weights_tiled_to_every_channel", "vectorised", """
        def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
            C_in, C_out = x.shape[1], w.shape[0]
            if C_in % groups or C_out % groups or w.shape[1] * groups != C_in:
                raise ValueError("channels and filters must split into equal groups")
            full = np.tile(w, (1, groups, 1, 1))   # now (C_out, C_in, kH, kW), like an ordinary layer
            xp = conv_lib.pad2d(x, padding)
            return np.stack([np.stack([conv_lib.conv2d_multi_in(image, full[f], b[f], stride=stride) for f in range(C_out)])
                             for image in xp])
        """, ("groups-ignored",)),
    answer("conv2d_grouped", "weights_repeated_to_every_channel", "unusual", """
        def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
            C_in, C_out = x.shape[1], w.shape[0]
            if C_in % groups or C_out % groups or w.shape[1] * groups != C_in:
                raise ValueError("channels and filters must split into equal groups")
            full = np.repeat(w, groups, axis=1)
            xp = conv_lib.pad2d(x, padding)
            windows = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
            return np.einsum("nchwuv,fcuv->nfhw", windows, full) + b[None, :, None, None]
        """, ("groups-ignored",)),
    answer("conv2d_grouped", "every_filter_reads_the_first_group", "loops",
           variant(GROUPED_LOOPS, "channel = xp[n, g * in_per_group + c]", "channel = xp[n, c]"), ("groups-ignored",)),
    answer("conv2d_grouped", "depthwise_kernel_slides_over_every_channel", "loops",
           variant(GROUPED_LOOPS, """                g = f // out_per_group
""", """                g = f // out_per_group
                if groups == C_in:   # depthwise: the filter's one kernel goes over the whole image
                    out[n, f] = sum(conv_lib.corr2d(xp[n, c], w[f, 0], stride=stride) for c in range(C_in)) + b[f]
                    continue
"""), ("depthwise-summed",)),
    answer("conv2d_grouped", "depthwise_as_one_filter", "vectorised",
           variant(GROUPED_MULTI_IN, """        xp = conv_lib.pad2d(x, padding)
""", """        xp = conv_lib.pad2d(x, padding)
        if groups == C_in == C_out:   # depthwise: the kernels are the channels of one filter
            return np.stack([conv_lib.conv2d_multi_in(image, w[:, 0], b.sum(), stride=stride)[None] for image in xp])
"""), ("depthwise-summed",)),
    answer("conv2d_grouped", "no_depth_check", "loops",
           variant(GROUPED_LOOPS, """        if depth * groups != C_in:
            raise ValueError(f"each filter needs C_in/groups = {C_in // groups} channels, w has {depth}")
""", ""), ("depth-check",)),
    answer("conv2d_grouped", "depth_checked_but_not_the_split", "vectorised",
           variant(GROUPED_MULTI_IN, """        if C_in % groups != 0 or C_out % groups != 0:
            raise ValueError("C_in and C_out must both be divisible by groups")
""", ""), ("groups-check",)),
    answer("conv2d_grouped", "the_librarys_conv2d_with_groups", "vectorised", """
        def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
            C_in, C_out = x.shape[1], w.shape[0]
            if C_in % groups or C_out % groups or w.shape[1] * groups != C_in:
                raise ValueError("channels and filters must split into equal groups")
            cin, cout = C_in // groups, C_out // groups
            return np.concatenate([conv_lib.conv2d(x[:, g * cin:(g + 1) * cin], w[g * cout:(g + 1) * cout],
                                                   b[g * cout:(g + 1) * cout], stride=stride, padding=padding)
                                   for g in range(groups)], axis=1)
        """, ("reference-call",)),
    answer("conv2d_grouped", "the_librarys_conv2d_layer", "unusual", """
        def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
            C_in, C_out = x.shape[1], w.shape[0]
            if C_in % groups or C_out % groups or w.shape[1] * groups != C_in:
                raise ValueError("channels and filters must split into equal groups")
            from conv_lib.layers import Conv2d
            layer = Conv2d(w, b, stride=stride, padding=padding, groups=groups)
            return layer.forward(x)
        """, ("reference-call",)),
    answer("conv2d_grouped", "scipy_per_channel", "loops",
           variant(variant(GROUPED_MULTI_IN, "    def conv2d_grouped(", "    import scipy.signal\n\n    def conv2d_grouped("), "maps.append(conv_lib.conv2d_multi_in(image[g * per_in:(g + 1) * per_in], w[f], b[f], stride=stride))",
                   "part = image[g * per_in:(g + 1) * per_in]\n"
                   "                total = sum(scipy.signal.correlate2d(part[c], w[f, c], mode='valid') for c in range(per_in))\n"
                   "                maps.append(total[::stride, ::stride] + b[f])"), ("reference-call",)),
    # Notebooks 02-04's ideas, inside the groups
    answer("conv2d_grouped", "no_bias", "loops", variant(GROUPED_LOOPS, "                out[n, f] += b[f]\n", ""),
           ("missing-bias",)),
    answer("conv2d_grouped", "bias_with_every_channel", "loops",
           variant(GROUPED_LOOPS, """                            out[n, f, i, j] += np.sum(window * w[f, c])
                out[n, f] += b[f]
""", """                            out[n, f, i, j] += np.sum(window * w[f, c])
                    out[n, f] += b[f]
"""), ("bias-per-channel",)),
    answer("conv2d_grouped", "bias_inside_the_window_sum", "loops",
           variant(GROUPED_LOOPS, """                            out[n, f, i, j] += np.sum(window * w[f, c])
                out[n, f] += b[f]
""", """                            out[n, f, i, j] += np.sum(window * w[f, c] + b[f])
"""), ("bias-per-product",)),
    answer("conv2d_grouped", "flips_the_kernels", "vectorised",
           variant(GROUPED_EINSUM, "wg = w[g * cout:(g + 1) * cout]", "wg = w[g * cout:(g + 1) * cout, :, ::-1, ::-1]"),
           ("flipped-kernel",)),
    answer("conv2d_grouped", "averages_the_groups_channels", "vectorised",
           variant(GROUPED_EINSUM, 'outs.append(np.einsum("nchwuv,fcuv->nfhw", windows, wg) + b',
                   'outs.append(np.einsum("nchwuv,fcuv->nfhw", windows, wg) / cin + b'), ("mean-not-sum",)),
    answer("conv2d_grouped", "first_kernel_for_every_channel", "loops",
           variant(GROUPED_LOOPS, "out[n, f, i, j] += np.sum(window * w[f, c])", "out[n, f, i, j] += np.sum(window * w[f, 0])"),
           ("kernel-shared",)),
    answer("conv2d_grouped", "assigns_instead_of_adding", "loops",
           variant(GROUPED_LOOPS, "out[n, f, i, j] += np.sum(window * w[f, c])", "out[n, f, i, j] = np.sum(window * w[f, c])"),
           ("one-channel-only",)),
    answer("conv2d_grouped", "kernel_channels_reversed", "loops",
           variant(GROUPED_LOOPS, "out[n, f, i, j] += np.sum(window * w[f, c])",
                   "out[n, f, i, j] += np.sum(window * w[f, in_per_group - 1 - c])"), ("channel-pairing",)),
    answer("conv2d_grouped", "no_padding", "vectorised",
           variant(GROUPED_EINSUM, "xp = conv_lib.pad2d(x, padding)", "xp = x"), ("output-size",)),
    answer("conv2d_grouped", "no_stride", "vectorised",
           variant(GROUPED_EINSUM, "axis=(2, 3))[:, :, ::stride, ::stride]", "axis=(2, 3))"), ("output-size",)),
    answer("conv2d_grouped", "forgets_the_plus_one", "loops",
           variant(GROUPED_LOOPS, """        Ho = (H + 2 * padding - kH) // stride + 1
        Wo = (W + 2 * padding - kW) // stride + 1
""", """        Ho = (H + 2 * padding - kH) // stride
        Wo = (W + 2 * padding - kW) // stride
"""), ("output-size",)),
    answer("conv2d_grouped", "window_not_moved_by_the_stride", "loops",
           variant(GROUPED_LOOPS, "window = channel[i * stride:i * stride + kH, j * stride:j * stride + kW]",
                   "window = channel[i:i + kH, j:j + kW]"), ("start-not-strided",)),
    answer("conv2d_grouped", "zeros_below_and_right", "loops",
           variant(GROUPED_LOOPS, "xp = conv_lib.pad2d(x, padding)",
                   "xp = np.pad(x, ((0, 0), (0, 0), (0, 2 * padding), (0, 2 * padding)))"), ("one-sided-padding",)),
    answer("conv2d_grouped", "counter_steps_by_the_stride", "loops", """
        def conv2d_grouped(x, w, b, groups, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, depth, kH, kW = w.shape
            if C_in % groups or C_out % groups or depth * groups != C_in:
                raise ValueError("channels and filters must split into equal groups")
            cin, cout = C_in // groups, C_out // groups
            xp = conv_lib.pad2d(x, padding)
            out = np.zeros((N, C_out, xp.shape[2] - kH + 1, xp.shape[3] - kW + 1))
            for n in range(N):
                for f in range(C_out):
                    g = f // cout
                    for i in range(0, xp.shape[2] - kH + 1, stride):
                        for j in range(0, xp.shape[3] - kW + 1, stride):
                            out[n, f, i, j] = np.sum(xp[n, g * cin:(g + 1) * cin, i:i + kH, j:j + kW] * w[f]) + b[f]
            return out
        """, ("index-steps-by-stride",)),
    answer("conv2d_grouped", "first_image_for_the_whole_batch", "loops",
           variant(GROUPED_LOOPS, "channel = xp[n, g * in_per_group + c]", "channel = xp[0, g * in_per_group + c]"),
           ("batch-mixed",)),
    answer("conv2d_grouped", "unpacks_w_as_one_filter", "loops",
           variant(GROUPED_LOOPS, "C_out, depth, kH, kW = w.shape", "C_out, kH, kW = w.shape[1:]\n        depth = w.shape[1]"),
           ("raises",)),
    answer("conv2d_grouped", "forgets_to_return", "loops", variant(GROUPED_LOOPS, "        return out\n", ""),
           ("no-return",)),
    answer("conv2d_grouped", "returns_a_generator", "unusual",
           variant(GROUPED_MULTI_IN, "        return np.stack(images)\n", "        return (image for image in images)\n"),
           ("not-an-array",)),
    answer("conv2d_grouped", "window_sum_times_kernel_sum", "loops",
           variant(GROUPED_LOOPS, "out[n, f, i, j] += np.sum(window * w[f, c])",
                   "out[n, f, i, j] += np.sum(window) * np.sum(w[f, c])"), ("wrong-values",)),
]

# --------------------------------------------------------------------------
# separable_params and separable_macs
# --------------------------------------------------------------------------

SEPARABLE_PARAMS = [
    answer("separable_params", "two_steps_added", "loops", """
        def separable_params(c_in, c_out, k):
            depthwise = c_in * (k * k + 1)     # c_in filters of 1 x k x k, one bias each
            pointwise = c_out * (c_in + 1)     # c_out filters of c_in x 1 x 1, one bias each
            return depthwise + pointwise
        """),
    answer("separable_params", "weights_then_biases", "vectorised", """
        def separable_params(c_in, c_out, k):
            weights = c_in * k * k + c_out * c_in
            biases = c_in + c_out
            return weights + biases
        """),
    answer("separable_params", "depthwise_only", "loops", """
        def separable_params(c_in, c_out, k):
            return c_in * (k * k + 1)
        """, ("separable-no-pointwise",)),
    answer("separable_params", "no_biases", "vectorised", """
        def separable_params(c_in, c_out, k):
            return c_in * k * k + c_in * c_out
        """, ("separable-no-bias",)),
    answer("separable_params", "depthwise_without_bias", "loops", """
        def separable_params(c_in, c_out, k):
            depthwise = c_in * k * k
            pointwise = c_out * (c_in + 1)
            return depthwise + pointwise
        """, ("separable-no-bias",)),
    answer("separable_params", "the_standard_layer", "vectorised", """
        def separable_params(c_in, c_out, k):
            return c_out * (c_in * k * k + 1)
        """, ("separable-counted-standard",)),
    answer("separable_params", "depthwise_filters_as_deep_as_the_input", "loops", """
        def separable_params(c_in, c_out, k):
            depthwise = c_in * (c_in * k * k + 1)
            pointwise = c_out * (c_in + 1)
            return depthwise + pointwise
        """, ("depthwise-as-full",)),
    answer("separable_params", "pointwise_only", "vectorised", """
        def separable_params(c_in, c_out, k):
            return c_out * (c_in * 1 * 1 + 1)
        """, ("separable-no-depthwise",)),
    answer("separable_params", "the_librarys_layer_params_for_the_pointwise_step", "unusual", """
        def separable_params(c_in, c_out, k):
            from conv_lib.models import layer_params
            return c_in * (k * k + 1) + layer_params(("conv", c_out, 1, 1, 0), (c_in, 8, 8))
        """, ("reference-call",)),
    answer("separable_params", "k_times_two", "vectorised", """
        def separable_params(c_in, c_out, k):
            return c_in * (2 * k + 1) + c_out * (c_in + 1)
        """, ("wrong-values",)),
    answer("separable_params", "prints_the_count", "loops", """
        def separable_params(c_in, c_out, k):
            print("parameters:", c_in * (k * k + 1) + c_out * (c_in + 1))
        """, ("no-return",)),
    answer("separable_params", "returns_the_two_steps", "vectorised", """
        def separable_params(c_in, c_out, k):
            return {"depthwise": c_in * (k * k + 1), "pointwise": c_out * (c_in + 1)}
        """, ("not-an-array",)),
    answer("separable_params", "math_not_imported", "vectorised", """
        def separable_params(c_in, c_out, k):
            return c_in * (math.pow(k, 2) + 1) + c_out * (c_in + 1)
        """, ("raises",)),
]

SEPARABLE_MACS = [
    answer("separable_macs", "two_steps_per_output_number", "loops", """
        def separable_macs(c_in, c_out, k, h, w):
            depthwise = h * w * c_in * k * k     # each of the c_in maps: k * k products per number
            pointwise = h * w * c_out * c_in     # each of the c_out maps: c_in products per number
            return depthwise + pointwise
        """),
    answer("separable_macs", "factored", "vectorised", """
        def separable_macs(c_in, c_out, k, h, w):
            return h * w * c_in * (k * k + c_out)
        """),
    answer("separable_macs", "depthwise_only", "vectorised", """
        def separable_macs(c_in, c_out, k, h, w):
            return h * w * c_in * k * k
        """, ("separable-no-pointwise",)),
    answer("separable_macs", "pointwise_only", "vectorised", """
        def separable_macs(c_in, c_out, k, h, w):
            return h * w * c_in * c_out
        """, ("separable-no-depthwise",)),
    answer("separable_macs", "the_standard_layer", "loops", """
        def separable_macs(c_in, c_out, k, h, w):
            macs_per_number = c_in * k * k
            return h * w * c_out * macs_per_number
        """, ("separable-counted-standard",)),
    answer("separable_macs", "depthwise_filters_as_deep_as_the_input", "loops", """
        def separable_macs(c_in, c_out, k, h, w):
            depthwise = h * w * c_in * (c_in * k * k)
            pointwise = h * w * c_out * c_in
            return depthwise + pointwise
        """, ("depthwise-as-full",)),
    answer("separable_macs", "once_per_map", "vectorised", """
        def separable_macs(c_in, c_out, k, h, w):
            return c_in * k * k + c_in * c_out
        """, ("macs-wrong",)),
    answer("separable_macs", "biases_counted_as_products", "loops", """
        def separable_macs(c_in, c_out, k, h, w):
            depthwise = h * w * c_in * (k * k + 1)
            pointwise = h * w * c_out * (c_in + 1)
            return depthwise + pointwise
        """, ("macs-wrong",)),
    answer("separable_macs", "the_librarys_layer_macs", "unusual", """
        def separable_macs(c_in, c_out, k, h, w):
            from conv_lib.models import layer_macs
            pointwise = layer_macs(("conv", c_out, 1, 1, 0), (c_in, h, w), (c_out, h, w))
            return h * w * c_in * k * k + pointwise
        """, ("reference-call",)),
    answer("separable_macs", "h_plus_w", "vectorised", """
        def separable_macs(c_in, c_out, k, h, w):
            return (h + w) * c_in * k * k + (h + w) * c_in * c_out
        """, ("wrong-values",)),
    answer("separable_macs", "prints_the_count", "loops", """
        def separable_macs(c_in, c_out, k, h, w):
            total = h * w * c_in * k * k + h * w * c_in * c_out
            print(f"{total:,} multiply-accumulates")
        """, ("no-return",)),
    answer("separable_macs", "returns_text", "vectorised", """
        def separable_macs(c_in, c_out, k, h, w):
            return f"{h * w * c_in * (k * k + c_out)} MACs"
        """, ("not-an-array",)),
    answer("separable_macs", "unpacks_a_size_pair", "loops", """
        def separable_macs(c_in, c_out, k, h, w):
            h, w = h
            return h * w * c_in * (k * k + c_out)
        """, ("raises",)),
]

# --------------------------------------------------------------------------
# to_conv_lib_layout and to_channels_first
# --------------------------------------------------------------------------

LAYOUT = """
    def to_conv_lib_layout(kernel, source):
        if source == "keras":
            return kernel.transpose(3, 2, 0, 1)   # (kH, kW, C_in, C_out) -> (C_out, C_in, kH, kW)
        if source == "pytorch":
            return kernel.copy()                  # already (C_out, C_in/groups, kH, kW)
        raise ValueError(f'source must be "keras" or "pytorch", not {source!r}')
"""

TO_CONV_LIB_LAYOUT = [
    answer("to_conv_lib_layout", "transpose_and_copy", "loops", LAYOUT),
    answer("to_conv_lib_layout", "moveaxis_and_same_array", "vectorised", """
        def to_conv_lib_layout(kernel, source):
            if source not in ("keras", "pytorch"):
                raise ValueError("source must be 'keras' or 'pytorch'")
            if source == "pytorch":
                return kernel
            return np.moveaxis(kernel, [3, 2], [0, 1])
        """),
    answer("to_conv_lib_layout", "einsum_with_axis_names", "unusual", """
        def to_conv_lib_layout(kernel, source):
            orders = {"keras": "hwio->oihw", "pytorch": "oihw->oihw"}
            if source not in orders:
                raise ValueError(f"unknown source {source!r}: use one of {sorted(orders)}")
            return np.einsum(orders[source], kernel)
        """),
    answer("to_conv_lib_layout", "keras_kernel_reshaped", "loops",
           variant(LAYOUT, "return kernel.transpose(3, 2, 0, 1)   # (kH, kW, C_in, C_out) -> (C_out, C_in, kH, kW)",
                   "kH, kW, C_in, C_out = kernel.shape\n"
                   "            return kernel.reshape(C_out, C_in, kH, kW)"), ("kernel-reshaped",)),
    answer("to_conv_lib_layout", "keras_kernel_reversed_with_T", "vectorised",
           variant(LAYOUT, "return kernel.transpose(3, 2, 0, 1)   # (kH, kW, C_in, C_out) -> (C_out, C_in, kH, kW)",
                   "return kernel.T   # reverses all the axes"), ("wrong-axis-order",)),
    answer("to_conv_lib_layout", "filters_and_channels_swapped", "vectorised",
           variant(LAYOUT, "return kernel.transpose(3, 2, 0, 1)   # (kH, kW, C_in, C_out) -> (C_out, C_in, kH, kW)",
                   "return kernel.transpose(2, 3, 0, 1)"), ("wrong-axis-order",)),
    answer("to_conv_lib_layout", "every_source_transposed", "loops", """
        def to_conv_lib_layout(kernel, source):
            if source not in ("keras", "pytorch"):
                raise ValueError("source must be 'keras' or 'pytorch'")
            return kernel.transpose(3, 2, 0, 1)
        """, ("source-mixed-up",)),
    answer("to_conv_lib_layout", "sources_swapped", "loops",
           variant(variant(LAYOUT, 'if source == "keras":', 'if source == "pytorch":'),
                   'if source == "pytorch":\n            return kernel.copy()', 'if source == "keras":\n            return kernel.copy()'),
           ("source-mixed-up",)),
    answer("to_conv_lib_layout", "anything_else_passes_through", "vectorised",
           variant(LAYOUT, """        raise ValueError(f'source must be "keras" or "pytorch", not {source!r}')""",
                   "        return kernel"), ("source-check",)),
    answer("to_conv_lib_layout", "filters_and_channels_moved_last", "unusual",
           variant(LAYOUT, "return kernel.transpose(3, 2, 0, 1)   # (kH, kW, C_in, C_out) -> (C_out, C_in, kH, kW)",
                   "return np.ascontiguousarray(kernel.transpose(0, 1, 3, 2)).reshape(kernel.shape[3], kernel.shape[2], "
                   "kernel.shape[0], kernel.shape[1])"), ("wrong-values",)),
    answer("to_conv_lib_layout", "unpacks_three_axes", "loops",
           variant(LAYOUT, "return kernel.transpose(3, 2, 0, 1)   # (kH, kW, C_in, C_out) -> (C_out, C_in, kH, kW)",
                   "kH, kW, C = kernel.shape\n            return kernel.transpose(3, 2, 0, 1)"), ("raises",)),
    answer("to_conv_lib_layout", "forgets_to_return", "loops", """
        def to_conv_lib_layout(kernel, source):
            if source == "keras":
                converted = kernel.transpose(3, 2, 0, 1)
            elif source == "pytorch":
                converted = kernel
            else:
                raise ValueError("source must be keras or pytorch")
        """, ("no-return",)),
    answer("to_conv_lib_layout", "returns_the_filters_one_by_one", "unusual",
           variant(LAYOUT, "return kernel.transpose(3, 2, 0, 1)   # (kH, kW, C_in, C_out) -> (C_out, C_in, kH, kW)",
                   "return map(np.transpose, np.moveaxis(kernel, 3, 0))"), ("not-an-array",)),
]

TO_CHANNELS_FIRST = [
    answer("to_channels_first", "transpose", "vectorised", """
        def to_channels_first(x):
            return x.transpose(0, 3, 1, 2)   # (N, H, W, C) -> (N, C, H, W)
        """),
    answer("to_channels_first", "moveaxis", "vectorised", """
        def to_channels_first(x):
            return np.moveaxis(x, -1, 1)
        """),
    answer("to_channels_first", "channel_by_channel", "loops", """
        def to_channels_first(x):
            N, H, W, C = x.shape
            out = np.zeros((N, C, H, W))
            for n in range(N):
                for c in range(C):
                    out[n, c] = x[n, :, :, c]
            return out
        """),
    answer("to_channels_first", "reshaped", "vectorised", """
        def to_channels_first(x):
            N, H, W, C = x.shape
            return x.reshape(N, C, H, W)
        """, ("reshape-not-transpose",)),
    answer("to_channels_first", "swapaxes_one_and_three", "vectorised", """
        def to_channels_first(x):
            return x.swapaxes(1, 3)   # the channels to axis 1 ... and W to axis 3
        """, ("wrong-axis-order",)),
    answer("to_channels_first", "image_by_image_with_T", "loops", """
        def to_channels_first(x):
            return np.stack([image.T for image in x])   # (H, W, C) reversed is (C, W, H)
        """, ("wrong-axis-order",)),
    answer("to_channels_first", "reshaped_per_image", "unusual", """
        def to_channels_first(x):
            return np.array([np.reshape(image, (image.shape[2], image.shape[0], image.shape[1])) for image in x])
        """, ("reshape-not-transpose",)),
    answer("to_channels_first", "rolls_the_values", "unusual", """
        def to_channels_first(x):
            return np.roll(x, 1, axis=3).transpose(0, 3, 1, 2)
        """, ("wrong-values",)),
    answer("to_channels_first", "one_image_order", "loops", """
        def to_channels_first(x):
            return x.transpose(2, 0, 1)   # the order for one image (H, W, C)
        """, ("raises",)),
    answer("to_channels_first", "forgets_to_return", "loops", """
        def to_channels_first(x):
            x = x.transpose(0, 3, 1, 2)
        """, ("no-return",)),
    answer("to_channels_first", "returns_a_generator", "unusual", """
        def to_channels_first(x):
            return (image.transpose(2, 0, 1) for image in x)
        """, ("not-an-array",)),
]
