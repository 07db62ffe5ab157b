"""Learner answers to notebook 04's layers: conv2d(x, w, b, stride=1, padding=0) and max_pool2d(x, size=2, stride=2).

Rows of the corpus in learner_answers.py. The sources run beside the solution notebook's setup:
np, conv_lib, models, and conv_lib's corr2d and conv2d_multi_in (both take stride=), pad2d and output_size.
"""

from answer_rows import answer

CONV2D = [
    answer("conv2d", "einsum_keeps_filter_and_channel", "unusual", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            kH, kW = w.shape[2:]
            windows = np.lib.stride_tricks.sliding_window_view(pad2d(x, padding), (kH, kW), axis=(2, 3))
            windows = windows[:, :, ::stride, ::stride]   # (N, C_in, Ho, Wo, kH, kW)
            return np.einsum("nchwuv,fcuv->nfchw", windows, w) + b[None, :, None, None, None]
        """, ("per-filter-per-channel",)),
    answer("conv2d", "each_channel_collects_every_filter", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out = w.shape[0]
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            xp = pad2d(x, padding)
            Ho = (H + 2 * padding - w.shape[2]) // stride + 1
            Wo = (W + 2 * padding - w.shape[3]) // stride + 1
            out = np.zeros((N, C_in, Ho, Wo))
            for n in range(N):
                for c in range(C_in):
                    for f in range(C_out):
                        out[n, c] += corr2d(xp[n, c], w[f, c], stride=stride) + b[f]
            return out
        """, ("filters-summed",)),
    answer("conv2d", "averages_the_filters_per_channel", "unusual", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            kH, kW = w.shape[2:]
            windows = np.lib.stride_tricks.sliding_window_view(pad2d(x, padding), (kH, kW), axis=(2, 3))
            windows = windows[:, :, ::stride, ::stride]
            per_filter = np.einsum("nchwuv,fcuv->nfchw", windows, w) + b[None, :, None, None, None]
            return per_filter.mean(axis=1)
        """, ("filters-summed",)),
    answer("conv2d", "channel_mean_with_broadcasting", "vectorised", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            kH, kW = w.shape[2:]
            windows = np.lib.stride_tricks.sliding_window_view(pad2d(x, padding), (kH, kW), axis=(2, 3))
            windows = windows[:, :, ::stride, ::stride]                              # (N, C_in, Ho, Wo, kH, kW)
            sums = (windows[:, None] * w[None, :, :, None, None]).sum(axis=(5, 6))   # (N, C_out, C_in, Ho, Wo)
            return sums.mean(axis=2) + b[None, :, None, None]
        """, ("mean-not-sum",)),
    answer("conv2d", "every_kernel_channel_on_every_input_channel", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out = w.shape[0]
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            xp = pad2d(x, padding)
            out = []
            for n in range(N):
                maps = []
                for f in range(C_out):
                    total = 0
                    for c in range(C_in):
                        for d in range(C_in):
                            total = total + corr2d(xp[n, d], w[f, c], stride=stride)
                    maps.append(total + b[f])
                out.append(maps)
            return np.array(out)
        """, ("channel-pairing",)),
    answer("conv2d", "bias_added_with_each_channel", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, _, kH, kW = w.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            xp = pad2d(x, padding)
            out = np.zeros((N, C_out, (H + 2 * padding - kH) // stride + 1, (W + 2 * padding - kW) // stride + 1))
            for n in range(N):
                for f in range(C_out):
                    for c in range(C_in):
                        out[n, f] += corr2d(xp[n, c], w[f, c], stride=stride) + b[f]
            return out
        """, ("bias-per-channel",)),
    answer("conv2d", "windows_times_w_plus_b", "vectorised", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            kH, kW = w.shape[2:]
            windows = np.lib.stride_tricks.sliding_window_view(pad2d(x, padding), (kH, kW), axis=(2, 3))
            windows = windows[:, :, ::stride, ::stride]                   # (N, C_in, Ho, Wo, kH, kW)
            products = windows[:, None] * w[None, :, :, None, None] + b[None, :, None, None, None, None, None]
            return products.sum(axis=(2, 5, 6))
        """, ("bias-per-product",)),
    answer("conv2d", "bias_in_every_product", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, _, kH, kW = w.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            xp = pad2d(x, padding)
            Ho, Wo = (H + 2 * padding - kH) // stride + 1, (W + 2 * padding - kW) // stride + 1
            out = np.zeros((N, C_out, Ho, Wo))
            for n in range(N):
                for f in range(C_out):
                    for i in range(Ho):
                        for j in range(Wo):
                            for c in range(C_in):
                                for u in range(kH):
                                    for v in range(kW):
                                        out[n, f, i, j] += xp[n, c, i * stride + u, j * stride + v] * w[f, c, u, v] + b[f]
            return out
        """, ("bias-per-product",)),
    answer("conv2d", "im2col_without_bias", "unusual", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in = x.shape[:2]
            C_out, _, kH, kW = w.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            columns = np.lib.stride_tricks.sliding_window_view(pad2d(x, padding), (kH, kW), axis=(2, 3))
            columns = columns[:, :, ::stride, ::stride]                   # (N, C_in, Ho, Wo, kH, kW)
            Ho, Wo = columns.shape[2:4]
            columns = columns.transpose(0, 2, 3, 1, 4, 5).reshape(N, Ho, Wo, -1)
            return (columns @ w.reshape(C_out, -1).T).transpose(0, 3, 1, 2)
        """, ("missing-bias",)),
    answer("conv2d", "im2col_with_flipped_filters", "unusual", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in = x.shape[:2]
            C_out, _, kH, kW = w.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            columns = np.lib.stride_tricks.sliding_window_view(pad2d(x, padding), (kH, kW), axis=(2, 3))
            columns = columns[:, :, ::stride, ::stride]
            Ho, Wo = columns.shape[2:4]
            columns = columns.transpose(0, 2, 3, 1, 4, 5).reshape(N, Ho, Wo, -1)
            kernels = w[:, :, ::-1, ::-1].reshape(C_out, -1)   # convolution turns each kernel around
            return (columns @ kernels.T + b).transpose(0, 3, 1, 2)
        """, ("flipped-kernel",)),
    answer("conv2d", "first_channel_only", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            xp = pad2d(x, padding)
            out = []
            for image in xp:
                out.append([corr2d(image[0], w[f, 0], stride=stride) + b[f] for f in range(w.shape[0])])
            return np.array(out)
        """, ("one-channel-only",)),
    answer("conv2d", "filters_dealt_out_to_the_channels_in_turn", "unusual", """
        def conv2d(x, w, b, stride=1, padding=0):
            C_out, C_in, kH, kW = w.shape
            if C_in != x.shape[1]:
                raise ValueError("each filter needs one channel per input channel")
            windows = np.lib.stride_tricks.sliding_window_view(pad2d(x, padding), (kH, kW), axis=(2, 3))
            windows = windows[:, :, ::stride, ::stride]
            channel = np.arange(C_out) % C_in                    # filter f looks at channel f % C_in
            picked = windows[:, channel]                          # (N, C_out, Ho, Wo, kH, kW)
            kernels = w[np.arange(C_out), channel]                # (C_out, kH, kW)
            return np.einsum("nfhwuv,fuv->nfhw", picked, kernels) + b[None, :, None, None]
        """, ("filter-reads-one-channel",)),
    answer("conv2d", "filters_spread_evenly_over_the_channels", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out = w.shape[0]
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            xp = pad2d(x, padding)
            out = []
            for n in range(N):
                maps = []
                for f in range(C_out):
                    c = f * C_in // C_out   # a block of filters for each channel
                    maps.append(corr2d(xp[n, c], w[f, c], stride=stride) + b[f])
                out.append(maps)
            return np.array(out)
        """, ("filter-reads-one-channel",)),
    answer("conv2d", "first_kernel_of_each_filter_for_every_channel", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out = w.shape[0]
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            xp = pad2d(x, padding)
            out = []
            for n in range(N):
                maps = []
                for f in range(C_out):
                    maps.append(sum(corr2d(xp[n, c], w[f, 0], stride=stride) for c in range(C_in)) + b[f])
                out.append(maps)
            return np.array(out)
        """, ("kernel-shared",)),
    answer("conv2d", "channels_summed_then_one_kernel_per_filter", "unusual", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            kH, kW = w.shape[2:]
            flat = pad2d(x, padding).sum(axis=1)                   # (N, Hp, Wp)
            windows = np.lib.stride_tricks.sliding_window_view(flat, (kH, kW), axis=(1, 2))[:, ::stride, ::stride]
            return np.einsum("nhwuv,fuv->nfhw", windows, w[:, 0]) + b[None, :, None, None]
        """, ("kernel-shared",)),
    answer("conv2d", "weights_reshaped_channel_first", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, _, kH, kW = w.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            by_channel = w.reshape(C_in, C_out, kH, kW)   # to loop over the channels first
            xp = pad2d(x, padding)
            out = np.zeros((N, C_out, (H + 2 * padding - kH) // stride + 1, (W + 2 * padding - kW) // stride + 1))
            for n in range(N):
                for c in range(C_in):
                    for f in range(C_out):
                        out[n, f] += corr2d(xp[n, c], by_channel[c, f], stride=stride)
            return out + b[None, :, None, None]
        """, ("reshape-not-transpose",)),
    answer("conv2d", "images_made_channels_last_by_reshape", "unusual", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            kH, kW = w.shape[2:]
            images = x.reshape(N, H, W, C_in)   # channels last, as pictures are stored
            images = np.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
            windows = np.lib.stride_tricks.sliding_window_view(images, (kH, kW), axis=(1, 2))[:, ::stride, ::stride]
            return np.einsum("nhwcuv,fcuv->nfhw", windows, w) + b[None, :, None, None]
        """, ("reshape-not-transpose",)),
    answer("conv2d", "notebook_03s_squeezed_layer_image_by_image", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            out = []
            for image in pad2d(x, padding):
                maps = np.stack([conv2d_multi_in(image, w[f], b[f], stride=stride) for f in range(w.shape[0])])
                out.append(np.squeeze(maps))   # one filter: just its map
            return np.array(out)
        """, ("axis-dropped",)),
    answer("conv2d", "loops_over_the_filters_channels", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            N = x.shape[0]
            C_out, C_in, kH, kW = w.shape
            xp = pad2d(x, padding)
            out = []
            for n in range(N):
                out.append([sum(corr2d(xp[n, c], w[f, c], stride=stride) for c in range(C_in)) + b[f]
                            for f in range(C_out)])
            return np.array(out)
        """, ("depth-check",)),
    answer("conv2d", "the_librarys_conv2d", "vectorised", """
        def conv2d(x, w, b, stride=1, padding=0):
            return conv_lib.conv2d(x, w, b, stride=stride, padding=padding)
        """, ("reference-call",)),
    answer("conv2d", "scipy_correlate_through_the_depth", "unusual", """
        import scipy.signal

        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            xp = pad2d(x, padding)
            return np.array([[scipy.signal.correlate(image, w[f], mode="valid")[0, ::stride, ::stride] + b[f]
                              for f in range(w.shape[0])] for image in xp])
        """, ("reference-call",)),
    answer("conv2d", "einsum_sums_over_the_images", "unusual", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            kH, kW = w.shape[2:]
            windows = np.lib.stride_tricks.sliding_window_view(pad2d(x, padding), (kH, kW), axis=(2, 3))
            windows = windows[:, :, ::stride, ::stride]
            return np.einsum("nchwuv,fcuv->fhw", windows, w) + b[:, None, None]
        """, ("batch-mixed",)),
    answer("conv2d", "filters_outside_images_inside", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            out = []
            for f in range(w.shape[0]):
                out.append([conv2d_multi_in(image, w[f], b[f], stride=stride) for image in pad2d(x, padding)])
            return np.array(out)
        """, ("batch-mixed",)),
    answer("conv2d", "notebook_03s_layer_on_the_first_image", "vectorised", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            image = pad2d(x[0], padding)
            return np.stack([conv2d_multi_in(image, w[f], b[f], stride=stride) for f in range(w.shape[0])])
        """, ("batch-mixed",)),
    answer("conv2d", "never_pads", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, _, kH, kW = w.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            Ho, Wo = (H - kH) // stride + 1, (W - kW) // stride + 1
            out = np.zeros((N, C_out, Ho, Wo))
            for n in range(N):
                for f in range(C_out):
                    for i in range(Ho):
                        for j in range(Wo):
                            window = x[n, :, i * stride:i * stride + kH, j * stride:j * stride + kW]
                            out[n, f, i, j] = np.sum(window * w[f]) + b[f]
            return out
        """, ("output-size",)),
    answer("conv2d", "every_window_ignoring_the_stride", "vectorised", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            kH, kW = w.shape[2:]
            windows = np.lib.stride_tricks.sliding_window_view(pad2d(x, padding), (kH, kW), axis=(2, 3))
            sums = (windows[:, None] * w[None, :, :, None, None]).sum(axis=(2, 5, 6))
            return sums + b[None, :, None, None]
        """, ("output-size",)),
    answer("conv2d", "first_windows_cut_to_the_output_size", "unusual", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            kH, kW = w.shape[2:]
            Ho, Wo = output_size(H, kH, padding, stride), output_size(W, kW, padding, stride)
            windows = np.lib.stride_tricks.sliding_window_view(pad2d(x, padding), (kH, kW), axis=(2, 3))
            return np.einsum("nchwuv,fcuv->nfhw", windows[:, :, :Ho, :Wo], w) + b[None, :, None, None]
        """, ("start-not-strided",)),
    answer("conv2d", "range_steps_by_the_stride", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, _, kH, kW = w.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            xp = pad2d(x, padding)
            Hp, Wp = xp.shape[2:]
            out = np.zeros((N, C_out, Hp - kH + 1, Wp - kW + 1))
            for i in range(0, Hp - kH + 1, stride):
                for j in range(0, Wp - kW + 1, stride):
                    window = xp[:, :, i:i + kH, j:j + kW]
                    for f in range(C_out):
                        out[:, f, i, j] = np.sum(window * w[f], axis=(1, 2, 3)) + b[f]
            return out
        """, ("index-steps-by-stride",)),
    answer("conv2d", "pads_after_the_image_only", "vectorised", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            kH, kW = w.shape[2:]
            xp = np.pad(x, ((0, 0), (0, 0), (0, padding), (0, padding)))
            windows = np.lib.stride_tricks.sliding_window_view(xp, (kH, kW), axis=(2, 3))[:, :, ::stride, ::stride]
            sums = (windows[:, None] * w[None, :, :, None, None]).sum(axis=(2, 5, 6))
            return sums + b[None, :, None, None]
        """, ("one-sided-padding",)),
    answer("conv2d", "zeros_array_with_the_images_in_its_corner", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, _, kH, kW = w.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            xp = np.zeros((N, C_in, H + 2 * padding, W + 2 * padding))
            xp[:, :, :H, :W] = x
            Ho, Wo = (H + 2 * padding - kH) // stride + 1, (W + 2 * padding - kW) // stride + 1
            out = np.zeros((N, C_out, Ho, Wo))
            for n in range(N):
                for f in range(C_out):
                    for i in range(Ho):
                        for j in range(Wo):
                            window = xp[n, :, i * stride:i * stride + kH, j * stride:j * stride + kW]
                            out[n, f, i, j] = np.sum(window * w[f]) + b[f]
            return out
        """, ("one-sided-padding",)),
    answer("conv2d", "windows_one_position_off", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, _, kH, kW = w.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            Ho, Wo = (H + 2 * padding - kH) // stride + 1, (W + 2 * padding - kW) // stride + 1
            xp = pad2d(x, padding + 1)   # one more ring of zeros, so no window runs off the edge
            out = np.zeros((N, C_out, Ho, Wo))
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[:, :, i * stride:i * stride + kH, j * stride:j * stride + kW]
                    out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
            return out
        """, ("wrong-values",)),
    answer("conv2d", "true_division_for_the_size", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, _, kH, kW = w.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            Ho, Wo = (H + 2 * padding - kH) / stride + 1, (W + 2 * padding - kW) / stride + 1
            out = np.zeros((N, C_out, Ho, Wo))
            xp = pad2d(x, padding)
            for n in range(N):
                for f in range(C_out):
                    out[n, f] = conv2d_multi_in(xp[n], w[f], b[f], stride=stride)
            return out
        """, ("raises",)),
    answer("conv2d", "forgets_to_return", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            xp = pad2d(x, padding)
            out = []
            for image in xp:
                out.append([conv2d_multi_in(image, w[f], b[f], stride=stride) for f in range(w.shape[0])])
            out = np.array(out)
        """, ("no-return",)),
    answer("conv2d", "returns_the_output_and_a_cache", "loops", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            xp = pad2d(x, padding)
            out = np.array([[conv2d_multi_in(image, w[f], b[f], stride=stride) for f in range(w.shape[0])]
                            for image in xp])
            cache = (x, w, b, stride, padding)
            return out, cache
        """, ("not-an-array",)),
    answer("conv2d", "im2col_matrix_product", "unusual", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in = x.shape[:2]
            C_out, _, kH, kW = w.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            columns = np.lib.stride_tricks.sliding_window_view(pad2d(x, padding), (kH, kW), axis=(2, 3))
            columns = columns[:, :, ::stride, ::stride]                   # (N, C_in, Ho, Wo, kH, kW)
            Ho, Wo = columns.shape[2:4]
            columns = columns.transpose(0, 2, 3, 1, 4, 5).reshape(N, Ho, Wo, -1)
            return (columns @ w.reshape(C_out, -1).T + b).transpose(0, 3, 1, 2)
        """),
    answer("conv2d", "sliding_windows_and_einsum", "unusual", """
        def conv2d(x, w, b, stride=1, padding=0):
            if w.shape[1] != x.shape[1]:
                raise ValueError(f"w has {w.shape[1]} channels per filter, x has {x.shape[1]}")
            kH, kW = w.shape[2:]
            windows = np.lib.stride_tricks.sliding_window_view(pad2d(x, padding), (kH, kW), axis=(2, 3))
            return np.einsum("nchwuv,fcuv->nfhw", windows[:, :, ::stride, ::stride], w) + b[None, :, None, None]
        """),
    answer("conv2d", "one_matrix_product_per_kernel_tap", "unusual", """
        def conv2d(x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, _, kH, kW = w.shape
            if w.shape[1] != C_in:
                raise ValueError("each filter needs one channel per input channel")
            xp = pad2d(x, padding)
            Ho, Wo = output_size(H, kH, padding, stride), output_size(W, kW, padding, stride)
            out = np.zeros((N, C_out, Ho, Wo)) + b[None, :, None, None]
            for u in range(kH):
                for v in range(kW):
                    tap = xp[:, :, u:u + stride * (Ho - 1) + 1:stride, v:v + stride * (Wo - 1) + 1:stride]
                    out += np.einsum("nchw,fc->nfhw", tap, w[:, :, u, v])
            return out
        """),
]

MAX_POOL2D = [
    answer("max_pool2d", "max_through_the_depth", "loops", """
        def max_pool2d(x, size=2, stride=2):
            N, C, H, W = x.shape
            Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
            out = np.zeros((N, Ho, Wo))
            for n in range(N):
                for i in range(Ho):
                    for j in range(Wo):
                        out[n, i, j] = x[n, :, i * stride:i * stride + size, j * stride:j * stride + size].max()
            return out
        """, ("pool-mixes-channels",)),
    answer("max_pool2d", "channels_summed_then_pooled", "vectorised", """
        def max_pool2d(x, size=2, stride=2):
            summed = x.sum(axis=1, keepdims=True)   # (N, 1, H, W)
            windows = np.lib.stride_tricks.sliding_window_view(summed, (size, size), axis=(2, 3))
            return windows[:, :, ::stride, ::stride].max(axis=(4, 5))
        """, ("pool-mixes-channels",)),
    answer("max_pool2d", "window_max_over_channels_too", "unusual", """
        def max_pool2d(x, size=2, stride=2):
            windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
            return windows.max(axis=(1, 4, 5))[:, None]
        """, ("pool-mixes-channels",)),
    answer("max_pool2d", "sliding_window_mean", "vectorised", """
        def max_pool2d(x, size=2, stride=2):
            windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))
            return windows[:, :, ::stride, ::stride].mean(axis=(4, 5))
        """, ("avg-not-max",)),
    answer("max_pool2d", "np_mean_of_each_window", "loops", """
        def max_pool2d(x, size=2, stride=2):
            N, C, H, W = x.shape
            Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
            out = np.zeros((N, C, Ho, Wo))
            for i in range(Ho):
                for j in range(Wo):
                    out[:, :, i, j] = np.mean(x[:, :, i * stride:i * stride + size, j * stride:j * stride + size],
                                              axis=(2, 3))
            return out
        """, ("avg-not-max",)),
    answer("max_pool2d", "reshape_into_tiles", "unusual", """
        def max_pool2d(x, size=2, stride=2):
            N, C, H, W = x.shape
            Ho, Wo = H // size, W // size
            tiles = x[:, :, :Ho * size, :Wo * size].reshape(N, C, Ho, size, Wo, size)
            return tiles.max(axis=(3, 5))
        """, ("output-size",)),
    answer("max_pool2d", "every_window_ignoring_the_stride", "loops", """
        def max_pool2d(x, size=2, stride=2):
            N, C, H, W = x.shape
            out = np.zeros((N, C, H - size + 1, W - size + 1))
            for i in range(H - size + 1):
                for j in range(W - size + 1):
                    out[:, :, i, j] = x[:, :, i:i + size, j:j + size].max(axis=(2, 3))
            return out
        """, ("output-size",)),
    answer("max_pool2d", "window_starts_at_i", "loops", """
        def max_pool2d(x, size=2, stride=2):
            N, C, H, W = x.shape
            Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
            out = np.zeros((N, C, Ho, Wo))
            for i in range(Ho):
                for j in range(Wo):
                    out[:, :, i, j] = x[:, :, i:i + size, j:j + size].max(axis=(2, 3))
            return out
        """, ("start-not-strided",)),
    answer("max_pool2d", "first_windows_cut_to_the_output_size", "vectorised", """
        def max_pool2d(x, size=2, stride=2):
            H, W = x.shape[2:]
            Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
            windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))
            return windows[:, :, :Ho, :Wo].max(axis=(4, 5))
        """, ("start-not-strided",)),
    answer("max_pool2d", "range_steps_by_the_stride", "loops", """
        def max_pool2d(x, size=2, stride=2):
            N, C, H, W = x.shape
            out = np.zeros((N, C, H - size + 1, W - size + 1))
            for i in range(0, H - size + 1, stride):
                for j in range(0, W - size + 1, stride):
                    out[:, :, i, j] = x[:, :, i:i + size, j:j + size].max(axis=(2, 3))
            return out
        """, ("index-steps-by-stride",)),
    answer("max_pool2d", "pools_the_first_image", "loops", """
        def max_pool2d(x, size=2, stride=2):
            image = x[0]
            C, H, W = image.shape
            out = np.zeros((C, (H - size) // stride + 1, (W - size) // stride + 1))
            for c in range(C):
                for i in range(out.shape[1]):
                    for j in range(out.shape[2]):
                        out[c, i, j] = image[c, i * stride:i * stride + size, j * stride:j * stride + size].max()
            return out
        """, ("batch-mixed",)),
    answer("max_pool2d", "sorts_each_window_and_takes_the_first", "unusual", """
        def max_pool2d(x, size=2, stride=2):
            N, C, H, W = x.shape
            windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
            ordered = np.sort(windows.reshape(*windows.shape[:4], -1), axis=-1)   # largest first
            return ordered[..., 0]
        """, ("wrong-values",)),
    answer("max_pool2d", "true_division_for_the_size", "loops", """
        def max_pool2d(x, size=2, stride=2):
            N, C, H, W = x.shape
            Ho, Wo = (H - size) / stride + 1, (W - size) / stride + 1
            out = np.zeros((N, C, Ho, Wo))
            for i in range(Ho):
                for j in range(Wo):
                    out[:, :, i, j] = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size].max(axis=(2, 3))
            return out
        """, ("raises",)),
    answer("max_pool2d", "forgets_to_return", "loops", """
        def max_pool2d(x, size=2, stride=2):
            N, C, H, W = x.shape
            out = np.zeros((N, C, (H - size) // stride + 1, (W - size) // stride + 1))
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[:, :, i, j] = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size].max(axis=(2, 3))
        """, ("no-return",)),
    answer("max_pool2d", "returns_the_output_and_a_cache", "vectorised", """
        def max_pool2d(x, size=2, stride=2):
            windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
            return windows.max(axis=(4, 5)), (x, size, stride)
        """, ("not-an-array",)),
    answer("max_pool2d", "the_librarys_max_pool2d", "vectorised", """
        def max_pool2d(x, size=2, stride=2):
            return conv_lib.max_pool2d(x, size, stride)
        """, ("reference-call",)),
    answer("max_pool2d", "maximum_over_shifted_views", "unusual", """
        def max_pool2d(x, size=2, stride=2):
            H, W = x.shape[2:]
            Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
            return np.maximum.reduce([x[:, :, u:u + stride * (Ho - 1) + 1:stride, v:v + stride * (Wo - 1) + 1:stride]
                                      for u in range(size) for v in range(size)])
        """),
    answer("max_pool2d", "sliding_windows_strided_then_max", "unusual", """
        def max_pool2d(x, size=2, stride=2):
            windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))
            return windows[:, :, ::stride, ::stride].max(axis=(-2, -1))
        """),
    answer("max_pool2d", "channel_by_channel", "loops", """
        def max_pool2d(x, size=2, stride=2):
            N, C, H, W = x.shape
            Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
            out = np.empty((N, C, Ho, Wo))
            for n in range(N):
                for c in range(C):
                    for i in range(Ho):
                        for j in range(Wo):
                            out[n, c, i, j] = np.max(x[n, c, i * stride:i * stride + size, j * stride:j * stride + size])
            return out
        """),
]
