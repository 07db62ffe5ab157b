"""Learner answers to notebook 03: conv2d_multi_out(x, w, b) and conv_layer_params(c_in, c_out, k).

Rows of the corpus in learner_answers.py. The sources run beside the solution notebook's setup:
np, conv_lib, and conv_lib's corr2d and conv2d_multi_in.
"""

from answer_rows import answer

CONV2D_MULTI_OUT = [
    answer("conv2d_multi_out", "one_map_per_filter_and_channel", "vectorised", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            return np.stack([corr2d(x[c], w[f, c]) + b[f] for f in range(w.shape[0]) for c in range(x.shape[0])])
        """, ("per-filter-per-channel",)),
    answer("conv2d_multi_out", "four_axis_output", "loops", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in, kH, kW = w.shape
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            Ho, Wo = x.shape[1] - kH + 1, x.shape[2] - kW + 1
            out = np.zeros((C_out, C_in, Ho, Wo))
            for f in range(C_out):
                for c in range(C_in):
                    for i in range(Ho):
                        for j in range(Wo):
                            out[f, c, i, j] = np.sum(x[c, i:i + kH, j:j + kW] * w[f, c]) + b[f]
            return out
        """, ("per-filter-per-channel",)),
    answer("conv2d_multi_out", "einsum_keeps_filter_and_channel", "unusual", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=(1, 2))
            return np.einsum("chwuv,fcuv->fchw", windows, w) + b[:, None, None, None]
        """, ("per-filter-per-channel",)),
    answer("conv2d_multi_out", "each_channel_collects_every_filter", "loops", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in, kH, kW = w.shape
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            out = np.zeros((C_in, x.shape[1] - kH + 1, x.shape[2] - kW + 1))
            for c in range(C_in):
                for f in range(C_out):
                    out[c] += corr2d(x[c], w[f, c]) + b[f]
            return out
        """, ("filters-summed",)),
    answer("conv2d_multi_out", "einsum_sums_over_the_filters", "unusual", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=(1, 2))
            return np.einsum("chwuv,fcuv->chw", windows, w)
        """, ("filters-summed",)),
    answer("conv2d_multi_out", "averages_the_filters_per_channel", "vectorised", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in = w.shape[:2]
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            return np.stack([np.mean([corr2d(x[c], w[f, c]) + b[f] for f in range(C_out)], axis=0)
                             for c in range(C_in)])
        """, ("filters-summed",)),
    answer("conv2d_multi_out", "every_kernel_channel_on_every_input_channel", "vectorised", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            flat = x.sum(axis=0)
            return np.stack([corr2d(flat, w[f].sum(axis=0)) + b[f] for f in range(w.shape[0])])
        """, ("channel-pairing",)),
    answer("conv2d_multi_out", "no_bias_anywhere", "loops", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in, kH, kW = w.shape
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            out = np.zeros((C_out, x.shape[1] - kH + 1, x.shape[2] - kW + 1))
            for f in range(C_out):
                for c in range(C_in):
                    out[f] += corr2d(x[c], w[f, c])
            return out
        """, ("missing-bias",)),
    answer("conv2d_multi_out", "first_bias_for_every_filter", "vectorised", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            return np.stack([conv2d_multi_in(x, w[f], b[0]) for f in range(w.shape[0])])
        """, ("missing-bias",)),
    answer("conv2d_multi_out", "tensordot_without_bias", "unusual", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=(1, 2))
            return np.tensordot(w, windows, axes=([1, 2, 3], [0, 3, 4]))
        """, ("missing-bias",)),
    answer("conv2d_multi_out", "bias_added_with_each_channel", "loops", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in = w.shape[:2]
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            maps = []
            for f in range(C_out):
                total = 0
                for c in range(C_in):
                    total = total + corr2d(x[c], w[f, c]) + b[f]
                maps.append(total)
            return np.stack(maps)
        """, ("bias-per-channel",)),
    answer("conv2d_multi_out", "bias_inside_the_window_sum", "loops", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in, kH, kW = w.shape
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            Ho, Wo = x.shape[1] - kH + 1, x.shape[2] - kW + 1
            out = np.zeros((C_out, Ho, Wo))
            for f in range(C_out):
                for i in range(Ho):
                    for j in range(Wo):
                        out[f, i, j] = np.sum(x[:, i:i + kH, j:j + kW] * w[f] + b[f])
            return out
        """, ("bias-per-product",)),
    answer("conv2d_multi_out", "windows_times_w_plus_b", "vectorised", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=(1, 2))  # (C_in, Ho, Wo, kH, kW)
            products = windows[None] * w[:, :, None, None] + b[:, None, None, None, None, None]
            return products.sum(axis=(1, 4, 5))
        """, ("bias-per-product",)),
    answer("conv2d_multi_out", "channel_mean_per_filter", "vectorised", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in = w.shape[:2]
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            return np.stack([np.mean([corr2d(x[c], w[f, c]) for c in range(C_in)], axis=0) + b[f]
                             for f in range(C_out)])
        """, ("mean-not-sum",)),
    answer("conv2d_multi_out", "first_channel_only", "vectorised", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            return np.stack([corr2d(x[0], w[f, 0]) + b[f] for f in range(len(w))])
        """, ("one-channel-only",)),
    answer("conv2d_multi_out", "flips_every_filter", "vectorised", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            return np.stack([conv2d_multi_in(x, w[f, :, ::-1, ::-1], b[f]) for f in range(w.shape[0])])
        """, ("flipped-kernel",)),
    answer("conv2d_multi_out", "filters_dealt_out_to_the_channels_in_turn", "loops", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in, kH, kW = w.shape
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            out = np.zeros((C_out, x.shape[1] - kH + 1, x.shape[2] - kW + 1))
            for f in range(C_out):
                c = f % C_in   # filter f looks at channel f % C_in
                out[f] = corr2d(x[c], w[f, c]) + b[f]
            return out
        """, ("filter-reads-one-channel",)),
    answer("conv2d_multi_out", "filters_dealt_out_to_the_channels_in_blocks", "unusual", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in, kH, kW = w.shape
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            out = np.zeros((C_out, x.shape[1] - kH + 1, x.shape[2] - kW + 1))
            for c, filters in enumerate(np.array_split(np.arange(C_out), C_in)):   # a block of filters per channel
                for f in filters:
                    out[f] = corr2d(x[c], w[f, c]) + b[f]
            return out
        """, ("filter-reads-one-channel",)),
    answer("conv2d_multi_out", "first_kernel_of_each_filter_for_every_channel", "loops", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in = w.shape[:2]
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            maps = []
            for f in range(C_out):
                total = 0
                for c in range(C_in):
                    total = total + corr2d(x[c], w[f, 0])
                maps.append(total + b[f])
            return np.array(maps)
        """, ("kernel-shared",)),
    answer("conv2d_multi_out", "channels_summed_then_one_kernel_per_filter", "vectorised", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            flat = x.sum(axis=0)
            return np.stack([corr2d(flat, w[f, 0]) + b[f] for f in range(w.shape[0])])
        """, ("kernel-shared",)),
    answer("conv2d_multi_out", "weights_reshaped_channel_first", "loops", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in, kH, kW = w.shape
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            by_channel = w.reshape(C_in, C_out, kH, kW)   # to loop over the channels first
            out = np.zeros((C_out, x.shape[1] - kH + 1, x.shape[2] - kW + 1))
            for c in range(C_in):
                for f in range(C_out):
                    out[f] += corr2d(x[c], by_channel[c, f])
            return out + b[:, None, None]
        """, ("reshape-not-transpose",)),
    answer("conv2d_multi_out", "einsum_on_reshaped_weights", "unusual", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in, kH, kW = w.shape
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            windows = np.lib.stride_tricks.sliding_window_view(x, (kH, kW), axis=(1, 2))
            return np.einsum("chwuv,cfuv->fhw", windows, w.reshape(C_in, C_out, kH, kW)) + b[:, None, None]
        """, ("reshape-not-transpose",)),
    answer("conv2d_multi_out", "squeezes_the_stack", "vectorised", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            return np.squeeze(np.stack([conv2d_multi_in(x, w[f], b[f]) for f in range(w.shape[0])]))
        """, ("axis-dropped",)),
    answer("conv2d_multi_out", "one_filter_gives_one_map", "loops", """
        def conv2d_multi_out(x, w, b):
            C_out = w.shape[0]
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            maps = []
            for f in range(C_out):
                maps.append(conv2d_multi_in(x, w[f], b[f]))
            if C_out == 1:
                return maps[0]
            return np.stack(maps)
        """, ("axis-dropped",)),
    answer("conv2d_multi_out", "loops_over_the_filters_channels", "loops", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in, kH, kW = w.shape
            out = np.zeros((C_out, x.shape[1] - kH + 1, x.shape[2] - kW + 1))
            for f in range(C_out):
                for c in range(C_in):
                    out[f] += corr2d(x[c], w[f, c])
                out[f] += b[f]
            return out
        """, ("depth-check",)),
    answer("conv2d_multi_out", "the_librarys_conv2d", "vectorised", """
        def conv2d_multi_out(x, w, b):
            return conv_lib.conv2d(x[None], w, b)[0]
        """, ("reference-call",)),
    answer("conv2d_multi_out", "forgets_the_plus_one", "loops", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in, kH, kW = w.shape
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            Ho, Wo = x.shape[1] - kH, x.shape[2] - kW
            out = np.zeros((C_out, Ho, Wo))
            for f in range(C_out):
                for i in range(Ho):
                    for j in range(Wo):
                        out[f, i, j] = np.sum(x[:, i:i + kH, j:j + kW] * w[f]) + b[f]
            return out
        """, ("output-size",)),
    answer("conv2d_multi_out", "running_sum_over_the_filters", "loops", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            maps, total = [], 0
            for f in range(w.shape[0]):
                total = total + conv2d_multi_in(x, w[f])
                maps.append(total + b[f])
            return np.stack(maps)
        """, ("wrong-values",)),
    answer("conv2d_multi_out", "unpacks_the_shape_of_x_as_w", "loops", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in, kH, kW = x.shape
            maps = [conv2d_multi_in(x, w[f], b[f]) for f in range(C_out)]
            return np.stack(maps)
        """, ("raises",)),
    answer("conv2d_multi_out", "builds_the_list_and_stops", "loops", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            maps = []
            for f in range(w.shape[0]):
                maps.append(conv2d_multi_in(x, w[f], b[f]))
        """, ("no-return",)),
    answer("conv2d_multi_out", "returns_a_map_object", "unusual", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            return map(lambda f: conv2d_multi_in(x, w[f], b[f]), range(len(w)))
        """, ("not-an-array",)),
    answer("conv2d_multi_out", "sliding_windows_and_tensordot", "unusual", """
        def conv2d_multi_out(x, w, b):
            if w.shape[1] != x.shape[0]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[0]}")
            windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=(1, 2))  # (C_in, Ho, Wo, kH, kW)
            return np.tensordot(w, windows, axes=([1, 2, 3], [0, 3, 4])) + b[:, None, None]
        """),
    answer("conv2d_multi_out", "im2col_filters_times_windows", "unusual", """
        def conv2d_multi_out(x, w, b):
            C_out, C_in, kH, kW = w.shape
            if C_in != x.shape[0]:
                raise ValueError("each filter needs one channel per input channel")
            Ho, Wo = x.shape[1] - kH + 1, x.shape[2] - kW + 1
            columns = np.stack([x[:, i:i + kH, j:j + kW].ravel() for i in range(Ho) for j in range(Wo)], axis=1)
            return (w.reshape(C_out, -1) @ columns + b[:, None]).reshape(C_out, Ho, Wo)
        """),
]

CONV_LAYER_PARAMS = [
    answer("conv_layer_params", "counts_the_weights_only", "loops", """
        def conv_layer_params(c_in, c_out, k):
            total = 0
            for f in range(c_out):
                total += c_in * k * k
            return total
        """, ("missing-bias",)),
    answer("conv_layer_params", "product_with_a_bias_per_channel", "unusual", """
        def conv_layer_params(c_in, c_out, k):
            return int(np.prod([c_out, c_in, k * k + 1]))
        """, ("bias-per-channel",)),
    answer("conv_layer_params", "flat_filters", "vectorised", """
        def conv_layer_params(c_in, c_out, k):
            return c_out * (k * k + 1)
        """, ("filter-depth",)),
    answer("conv_layer_params", "flat_filters_without_bias", "vectorised", """
        def conv_layer_params(c_in, c_out, k):
            return c_out * k ** 2
        """, ("filter-depth", "missing-bias")),
    answer("conv_layer_params", "counts_one_filter", "loops", """
        def conv_layer_params(c_in, c_out, k):
            weights = 0
            for c in range(c_in):
                weights += k * k
            return weights + 1
        """, ("filter-count",)),
    answer("conv_layer_params", "k_times_two_for_k_squared", "vectorised", """
        def conv_layer_params(c_in, c_out, k):
            return c_out * (c_in * k * 2 + 1)
        """, ("wrong-values",)),
    answer("conv_layer_params", "weights_and_biases_as_a_pair", "vectorised", """
        def conv_layer_params(c_in, c_out, k):
            return c_out * c_in * k * k, c_out
        """, ("not-an-array",)),
    answer("conv_layer_params", "prints_the_count", "vectorised", """
        def conv_layer_params(c_in, c_out, k):
            print(c_out * (c_in * k * k + 1), "parameters")
        """, ("no-return",)),
    answer("conv_layer_params", "math_not_imported", "vectorised", """
        def conv_layer_params(c_in, c_out, k):
            return c_out * (math.prod((c_in, k, k)) + 1)
        """, ("raises",)),
    answer("conv_layer_params", "the_librarys_layer_params", "vectorised", """
        from conv_lib.models import layer_params

        def conv_layer_params(c_in, c_out, k):
            return layer_params(("conv", c_out, k, 1, 0), (c_in,))
        """, ("reference-call",)),
]
