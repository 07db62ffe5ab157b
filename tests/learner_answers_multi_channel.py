"""Learner answers to notebook 02: conv2d_multi_in(x, w, b=0.0), one filter on a multi-channel image.

Rows of the corpus in learner_answers.py. The sources run beside the solution notebook's setup:
np, conv_lib, and corr2d, conv_lib's (no padding argument, stride=1).
"""

from answer_rows import answer

CONV2D_MULTI_IN = [
    answer("conv2d_multi_in", "stacks_the_channel_maps", "vectorised", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            return np.stack([corr2d(x[c], w[c]) for c in range(x.shape[0])]) + b
        """, ("no-channel-sum",)),
    answer("conv2d_multi_in", "one_output_channel_per_input_channel", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            C, H, W = x.shape
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            _, kH, kW = w.shape
            out = np.zeros((C, H - kH + 1, W - kW + 1))
            for c in range(C):
                for i in range(H - kH + 1):
                    for j in range(W - kW + 1):
                        out[c, i, j] = np.sum(x[c, i:i + kH, j:j + kW] * w[c])
            return out + b
        """, ("no-channel-sum",)),
    answer("conv2d_multi_in", "einsum_keeps_the_channel_axis", "unusual", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[1:], axis=(1, 2))
            return np.einsum("chwuv,cuv->chw", windows, w) + b
        """, ("no-channel-sum",)),
    answer("conv2d_multi_in", "divides_the_sum_by_the_channels", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            C = x.shape[0]
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            out = 0
            for c in range(C):
                out = out + corr2d(x[c], w[c])
            return out / C + b
        """, ("mean-not-sum",)),
    answer("conv2d_multi_in", "np_mean_over_the_channels", "vectorised", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            return np.mean([corr2d(x[c], w[c]) for c in range(x.shape[0])], axis=0) + b
        """, ("mean-not-sum",)),
    answer("conv2d_multi_in", "reduce_then_divide", "unusual", """
        import functools

        def conv2d_multi_in(x, w, b=0.0):
            if len(x) != len(w):
                raise ValueError("x and w need the same number of channels")
            total = functools.reduce(np.add, map(corr2d, x, w))
            return total / len(x) + b
        """, ("mean-not-sum",)),
    answer("conv2d_multi_in", "every_kernel_channel_on_every_input_channel", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            C = x.shape[0]
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            out = 0
            for c in range(C):
                for d in range(C):
                    out = out + corr2d(x[d], w[c])
            return out + b
        """, ("channel-pairing",)),
    answer("conv2d_multi_in", "sums_the_channels_of_x_and_of_w_first", "vectorised", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            return corr2d(x.sum(axis=0), w.sum(axis=0)) + b
        """, ("channel-pairing",)),
    answer("conv2d_multi_in", "kernel_channels_in_bgr_order", "unusual", """
        def conv2d_multi_in(x, w, b=0.0):
            if len(x) != len(w):
                raise ValueError("x and w need the same number of channels")
            return sum(map(corr2d, x, w[::-1])) + b   # the filter's channels stored last to first
        """, ("channel-pairing",)),
    answer("conv2d_multi_in", "assigns_instead_of_adding", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            for c in range(x.shape[0]):
                out = corr2d(x[c], w[c])
            return out + b
        """, ("one-channel-only",)),
    answer("conv2d_multi_in", "first_channel_only", "vectorised", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            return corr2d(x[0], w[0]) + b
        """, ("one-channel-only",)),
    answer("conv2d_multi_in", "products_summed_without_bias", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            C, H, W = x.shape
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            _, kH, kW = w.shape
            out = np.zeros((H - kH + 1, W - kW + 1))
            for i in range(H - kH + 1):
                for j in range(W - kW + 1):
                    for c in range(C):
                        for u in range(kH):
                            for v in range(kW):
                                out[i, j] += x[c, i + u, j + v] * w[c, u, v]
            return out
        """, ("missing-bias",)),
    answer("conv2d_multi_in", "tensordot_without_bias", "unusual", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[1:], axis=(1, 2))
            return np.tensordot(windows, w, axes=([0, 3, 4], [0, 1, 2]))
        """, ("missing-bias",)),
    answer("conv2d_multi_in", "bias_added_with_each_channel", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            C = x.shape[0]
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            out = 0
            for c in range(C):
                out = out + corr2d(x[c], w[c]) + b
            return out
        """, ("bias-per-channel",)),
    answer("conv2d_multi_in", "sum_of_biased_channel_maps", "vectorised", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            return np.sum([corr2d(x[c], w[c]) + b for c in range(x.shape[0])], axis=0)
        """, ("bias-per-channel",)),
    answer("conv2d_multi_in", "einsum_maps_biased_then_summed", "unusual", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[1:], axis=(1, 2))
            maps = np.einsum("chwuv,cuv->chw", windows, w)
            return (maps + b).sum(axis=0)
        """, ("bias-per-channel",)),
    answer("conv2d_multi_in", "bias_in_every_product", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            C, H, W = x.shape
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            _, kH, kW = w.shape
            out = np.zeros((H - kH + 1, W - kW + 1))
            for i in range(H - kH + 1):
                for j in range(W - kW + 1):
                    for c in range(C):
                        for u in range(kH):
                            for v in range(kW):
                                out[i, j] += x[c, i + u, j + v] * w[c, u, v] + b
            return out
        """, ("bias-per-product",)),
    answer("conv2d_multi_in", "bias_inside_the_window_sum", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            C, H, W = x.shape
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            _, kH, kW = w.shape
            out = np.zeros((H - kH + 1, W - kW + 1))
            for i in range(H - kH + 1):
                for j in range(W - kW + 1):
                    out[i, j] = np.sum(x[:, i:i + kH, j:j + kW] * w + b)
            return out
        """, ("bias-per-product",)),
    answer("conv2d_multi_in", "windows_times_w_plus_b", "vectorised", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[1:], axis=(1, 2))  # (C, Ho, Wo, kH, kW)
            return (windows * w[:, None, None] + b).sum(axis=(0, 3, 4))
        """, ("bias-per-product",)),
    answer("conv2d_multi_in", "first_kernel_for_every_channel", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            C = x.shape[0]
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            out = 0
            for c in range(C):
                out = out + corr2d(x[c], w[0])
            return out + b
        """, ("kernel-shared",)),
    answer("conv2d_multi_in", "channels_summed_then_one_kernel", "vectorised", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            return corr2d(x.sum(axis=0), w[0]) + b
        """, ("kernel-shared",)),
    answer("conv2d_multi_in", "einsum_with_one_2d_kernel", "unusual", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[1:], axis=(1, 2))
            return np.einsum("chwuv,uv->hw", windows, w[0]) + b
        """, ("kernel-shared",)),
    answer("conv2d_multi_in", "image_made_channels_last_by_reshape", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            C, H, W = x.shape
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            _, kH, kW = w.shape
            image = x.reshape(H, W, C)   # channels last, as pictures are stored
            out = np.zeros((H - kH + 1, W - kW + 1))
            for i in range(H - kH + 1):
                for j in range(W - kW + 1):
                    for c in range(C):
                        out[i, j] += np.sum(image[i:i + kH, j:j + kW, c] * w[c])
            return out + b
        """, ("reshape-not-transpose",)),
    answer("conv2d_multi_in", "channels_last_reshape_with_einsum", "unusual", """
        def conv2d_multi_in(x, w, b=0.0):
            C, H, W = x.shape
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            image = x.reshape(H, W, C)
            windows = np.lib.stride_tricks.sliding_window_view(image, w.shape[1:], axis=(0, 1))  # (Ho, Wo, C, kH, kW)
            return np.einsum("hwcuv,cuv->hw", windows, w) + b
        """, ("reshape-not-transpose",)),
    answer("conv2d_multi_in", "flips_each_kernel_channel", "vectorised", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            w = np.flip(w, axis=(1, 2))   # convolution turns the kernel around
            return sum(corr2d(x[c], w[c]) for c in range(x.shape[0])) + b
        """, ("flipped-kernel",)),
    answer("conv2d_multi_in", "kernel_read_back_to_front", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            C, H, W = x.shape
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            _, kH, kW = w.shape
            out = np.full((H - kH + 1, W - kW + 1), float(b))
            for i in range(H - kH + 1):
                for j in range(W - kW + 1):
                    for c in range(C):
                        for u in range(kH):
                            for v in range(kW):
                                out[i, j] += x[c, i + u, j + v] * w[c, kH - 1 - u, kW - 1 - v]
            return out
        """, ("flipped-kernel",)),
    answer("conv2d_multi_in", "einsum_with_flipped_kernels", "unusual", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[1:], axis=(1, 2))
            return np.einsum("chwuv,cuv->hw", windows, w[:, ::-1, ::-1]) + b
        """, ("flipped-kernel",)),
    answer("conv2d_multi_in", "loops_over_the_filters_channels", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            out = 0
            for c in range(w.shape[0]):
                out = out + corr2d(x[c], w[c])
            return out + b
        """, ("depth-check",)),
    answer("conv2d_multi_in", "zip_stops_at_the_shorter", "vectorised", """
        def conv2d_multi_in(x, w, b=0.0):
            return sum(corr2d(x_c, w_c) for x_c, w_c in zip(x, w)) + b
        """, ("depth-check",)),
    answer("conv2d_multi_in", "scipy_correlate2d_without_depth_check", "vectorised", """
        from scipy.signal import correlate2d

        def conv2d_multi_in(x, w, b=0.0):
            return sum(correlate2d(x[c], w[c], mode="valid") for c in range(x.shape[0])) + b
        """, ("reference-call", "depth-check")),
    answer("conv2d_multi_in", "the_librarys_conv2d", "vectorised", """
        def conv2d_multi_in(x, w, b=0.0):
            return conv_lib.conv2d(x[None], w[None], np.array([b]))[0, 0]
        """, ("reference-call",)),
    answer("conv2d_multi_in", "forgets_the_plus_one", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            C, H, W = x.shape
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            _, kH, kW = w.shape
            out = np.zeros((H - kH, W - kW))
            for i in range(H - kH):
                for j in range(W - kW):
                    out[i, j] = np.sum(x[:, i:i + kH, j:j + kW] * w)
            return out + b
        """, ("output-size",)),
    answer("conv2d_multi_in", "running_total_never_reset", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            C, H, W = x.shape
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            _, kH, kW = w.shape
            out = np.zeros((H - kH + 1, W - kW + 1))
            total = 0.0
            for i in range(H - kH + 1):
                for j in range(W - kW + 1):
                    for c in range(C):
                        total += np.sum(x[c, i:i + kH, j:j + kW] * w[c])
                    out[i, j] = total + b
            return out
        """, ("wrong-values",)),
    answer("conv2d_multi_in", "leaves_the_map_as_the_last_line", "vectorised", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            out = sum(corr2d(x[c], w[c]) for c in range(x.shape[0]))
            out + b
        """, ("no-return",)),
    answer("conv2d_multi_in", "returns_the_round_method", "vectorised", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            out = sum(corr2d(x_c, w_c) for x_c, w_c in zip(x, w)) + b
            return out.round   # meant out.round(2), to tidy the printout
        """, ("not-an-array",)),
    answer("conv2d_multi_in", "passes_padding_to_the_librarys_corr2d", "loops", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            out = 0
            for c in range(x.shape[0]):
                out = out + corr2d(x[c], w[c], padding=0)
            return out + b
        """, ("raises",)),
    answer("conv2d_multi_in", "sliding_windows_and_einsum", "unusual", """
        def conv2d_multi_in(x, w, b=0.0):
            if x.shape[0] != w.shape[0]:
                raise ValueError(f"x has {x.shape[0]} channels, w has {w.shape[0]}")
            windows = np.lib.stride_tricks.sliding_window_view(x, w.shape[1:], axis=(1, 2))
            return np.einsum("chwuv,cuv->hw", windows, w) + b
        """),
    answer("conv2d_multi_in", "functools_reduce_of_the_channel_maps", "unusual", """
        import functools

        def conv2d_multi_in(x, w, b=0.0):
            if len(x) != len(w):
                raise ValueError(f"x has {len(x)} channels but w has {len(w)}")
            return functools.reduce(np.add, map(corr2d, x, w)) + b
        """),
    answer("conv2d_multi_in", "im2col_with_every_channel_in_a_row", "unusual", """
        def conv2d_multi_in(x, w, b=0.0):
            C, H, W = x.shape
            if w.shape[0] != C:
                raise ValueError("the filter needs one channel per input channel")
            _, kH, kW = w.shape
            Ho, Wo = H - kH + 1, W - kW + 1
            rows = np.array([x[:, i:i + kH, j:j + kW].ravel() for i in range(Ho) for j in range(Wo)])
            return (rows @ w.ravel()).reshape(Ho, Wo) + b
        """),
]
