"""Learner answers to notebook 06: conv2d_backward(dout, x, w, b, stride=1, padding=0) and he_init(c_out, c_in, k, rng).

Rows of the corpus in learner_answers.py. The sources run beside the solution notebook's setup:
np, conv_lib, and conv_lib's conv2d, pad2d and relu. Most backward answers are one of two
correct ones (BACKWARD_LOOPS, BACKWARD_FULL_CONVOLUTION) with one line changed.
"""

import textwrap

from answer_rows import answer, variant

BACKWARD_LOOPS = textwrap.dedent("""
    def conv2d_backward(dout, x, w, b, stride=1, padding=0):
        N, C_in, H, W = x.shape
        C_out, _, kH, kW = w.shape
        Ho, Wo = dout.shape[2:]
        xp = pad2d(x, padding)
        dxp = np.zeros_like(xp)
        dw = np.zeros_like(w)
        for n in range(N):
            for f in range(C_out):
                for i in range(Ho):
                    for j in range(Wo):
                        top, left = i * stride, j * stride
                        g = dout[n, f, i, j]
                        dw[f] += g * xp[n, :, top:top + kH, left:left + kW]
                        dxp[n, :, top:top + kH, left:left + kW] += g * w[f]
        db = dout.sum(axis=(0, 2, 3))
        dx = dxp[:, :, padding:padding + H, padding:padding + W]
        return dx, dw, db
    """)

BACKWARD_FULL_CONVOLUTION = textwrap.dedent("""
    def conv2d_backward(dout, x, w, b, stride=1, padding=0):
        N, C_in, H, W = x.shape
        C_out, _, kH, kW = w.shape
        Ho, Wo = dout.shape[2:]
        xp = pad2d(x, padding)
        windows = np.lib.stride_tricks.sliding_window_view(xp, (kH, kW), axis=(2, 3))[:, :, ::stride, ::stride]
        dw = np.einsum("nfhw,nchwuv->fcuv", dout, windows)
        db = dout.sum(axis=(0, 2, 3))
        # dx: the full convolution of dout, spread out by the stride, with every filter
        spread = np.zeros((N, C_out, (Ho - 1) * stride + 1, (Wo - 1) * stride + 1))
        spread[:, :, ::stride, ::stride] = dout
        unreached_rows = xp.shape[2] - ((Ho - 1) * stride + kH)
        unreached_columns = xp.shape[3] - ((Wo - 1) * stride + kW)
        spread = np.pad(spread, ((0, 0), (0, 0), (kH - 1, kH - 1 + unreached_rows), (kW - 1, kW - 1 + unreached_columns)))
        dxp = conv2d(spread, w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3), np.zeros(C_in))
        return dxp[:, :, padding:padding + H, padding:padding + W], dw, db
    """)

CONV2D_BACKWARD = [
    answer("conv2d_backward", "kernel_flipped_in_the_scatter", "loops",
           variant(BACKWARD_LOOPS, "+= g * w[f]", "+= g * w[f, :, ::-1, ::-1]"), ("dx-not-flipped",)),
    answer("conv2d_backward", "full_correlation_without_the_flip", "unusual",
           variant(BACKWARD_FULL_CONVOLUTION, "w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)", "w.transpose(1, 0, 2, 3)"),
           ("dx-not-flipped",)),
    answer("conv2d_backward", "db_per_image", "vectorised",
           variant(BACKWARD_LOOPS, "db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=(2, 3))"), ("db-not-summed",)),
    answer("conv2d_backward", "db_averaged_over_the_batch", "vectorised",
           variant(BACKWARD_FULL_CONVOLUTION, "db = dout.sum(axis=(0, 2, 3))", "db = dout.mean(axis=0).sum(axis=(1, 2))"),
           ("db-not-summed",)),
    answer("conv2d_backward", "dw_reset_for_every_image", "loops",
           variant(BACKWARD_LOOPS, "        for f in range(C_out):\n            for i",
                   "        dw = np.zeros_like(w)\n        for f in range(C_out):\n            for i"),
           ("dw-batch-not-summed",)),
    answer("conv2d_backward", "dw_averaged_over_the_batch", "unusual",
           variant(BACKWARD_FULL_CONVOLUTION, 'dw = np.einsum("nfhw,nchwuv->fcuv", dout, windows)',
                   'dw = np.einsum("nfhw,nchwuv->fcuv", dout, windows) / N'),
           ("dw-batch-not-summed",)),
    answer("conv2d_backward", "dw_from_the_windows_summed_over_channels", "unusual",
           variant(BACKWARD_FULL_CONVOLUTION, 'dw = np.einsum("nfhw,nchwuv->fcuv", dout, windows)',
                   'dw = np.repeat(np.einsum("nfhw,nhwuv->fuv", dout, windows.sum(axis=1))[:, None], C_in, axis=1)'),
           ("dw-channel-mixup",)),
    answer("conv2d_backward", "dx_reset_for_every_filter", "loops", """
        def conv2d_backward(dout, x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, _, kH, kW = w.shape
            Ho, Wo = dout.shape[2:]
            xp = pad2d(x, padding)
            dw = np.zeros_like(w)
            for f in range(C_out):
                dxp = np.zeros_like(xp)
                for n in range(N):
                    for i in range(Ho):
                        for j in range(Wo):
                            window = (slice(i * stride, i * stride + kH), slice(j * stride, j * stride + kW))
                            dw[f] += dout[n, f, i, j] * xp[n, :, window[0], window[1]]
                            dxp[n, :, window[0], window[1]] += dout[n, f, i, j] * w[f]
            db = dout.sum(axis=(0, 2, 3))
            return dxp[:, :, padding:padding + H, padding:padding + W], dw, db
        """, ("dx-channel-sum",)),
    answer("conv2d_backward", "dx_averaged_over_the_filters", "vectorised", """
        def conv2d_backward(dout, x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, _, kH, kW = w.shape
            Ho, Wo = dout.shape[2:]
            xp = pad2d(x, padding)
            dxp = np.zeros_like(xp)
            dw = np.zeros_like(w)
            for i in range(Ho):
                for j in range(Wo):
                    rows, columns = slice(i * stride, i * stride + kH), slice(j * stride, j * stride + kW)
                    dw += np.einsum("nf,ncuv->fcuv", dout[:, :, i, j], xp[:, :, rows, columns])
                    dxp[:, :, rows, columns] += np.einsum("nf,fcuv->ncuv", dout[:, :, i, j], w) / C_out
            return dxp[:, :, padding:padding + H, padding:padding + W], dw, dout.sum(axis=(0, 2, 3))
        """, ("dx-channel-sum",)),
    answer("conv2d_backward", "gradients_in_a_dict", "unusual",
           variant(BACKWARD_FULL_CONVOLUTION, "return dxp[:, :, padding:padding + H, padding:padding + W], dw, db",
                   'return {"dx": dxp[:, :, padding:padding + H, padding:padding + W], "dw": dw, "db": db}'),
           ("not-a-tuple",)),
    answer("conv2d_backward", "dx_left_padded", "loops",
           variant(BACKWARD_LOOPS, "dx = dxp[:, :, padding:padding + H, padding:padding + W]", "dx = dxp"),
           ("output-size",)),
    answer("conv2d_backward", "np_pad_pads_every_axis", "loops",
           variant(BACKWARD_LOOPS, "xp = pad2d(x, padding)", "xp = np.pad(x, padding)"), ("raises",)),
    answer("conv2d_backward", "forgets_to_return", "loops",
           variant(BACKWARD_LOOPS, "    return dx, dw, db\n", ""), ("no-return",)),
    answer("conv2d_backward", "db_is_the_sum_method", "loops",
           variant(BACKWARD_LOOPS, "db = dout.sum(axis=(0, 2, 3))", "db = dout.sum"), ("not-an-array",)),
    answer("conv2d_backward", "dw_forgets_dout", "loops",
           variant(BACKWARD_LOOPS, "dw[f] += g * xp[n, :, top:top + kH, left:left + kW]",
                   "dw[f] += xp[n, :, top:top + kH, left:left + kW]"), ("wrong-values",)),
    answer("conv2d_backward", "the_librarys_backward", "vectorised", """
        def conv2d_backward(dout, x, w, b, stride=1, padding=0):
            return conv_lib.conv2d_backward(dout, x, w, stride=stride, padding=padding)
        """, ("reference-call",)),
    answer("conv2d_backward", "full_correlation_with_the_flipped_filters", "unusual", BACKWARD_FULL_CONVOLUTION),
    answer("conv2d_backward", "einsum_and_col2im", "unusual", """
        def conv2d_backward(dout, x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, _, kH, kW = w.shape
            Ho, Wo = dout.shape[2:]
            xp = pad2d(x, padding)
            windows = np.lib.stride_tricks.sliding_window_view(xp, (kH, kW), axis=(2, 3))[:, :, ::stride, ::stride]
            dw = np.einsum("nfhw,nchwuv->fcuv", dout, windows)
            dwindows = np.einsum("nfhw,fcuv->nchwuv", dout, w)
            dxp = np.zeros_like(xp)
            for u in range(kH):
                for v in range(kW):
                    dxp[:, :, u:u + stride * (Ho - 1) + 1:stride, v:v + stride * (Wo - 1) + 1:stride] += dwindows[..., u, v]
            return dxp[:, :, padding:padding + H, padding:padding + W], dw, dout.sum(axis=(0, 2, 3))
        """),
    answer("conv2d_backward", "im2col_matrix_products", "unusual", """
        def conv2d_backward(dout, x, w, b, stride=1, padding=0):
            N, C_in, H, W = x.shape
            C_out, _, kH, kW = w.shape
            Ho, Wo = dout.shape[2:]
            xp = pad2d(x, padding)
            columns = np.lib.stride_tricks.sliding_window_view(xp, (kH, kW), axis=(2, 3))[:, :, ::stride, ::stride]
            columns = columns.transpose(0, 2, 3, 1, 4, 5).reshape(N * Ho * Wo, -1)   # one row per window
            grads = dout.transpose(0, 2, 3, 1).reshape(N * Ho * Wo, C_out)          # one row per window
            dw = (grads.T @ columns).reshape(w.shape)
            dcolumns = (grads @ w.reshape(C_out, -1)).reshape(N, Ho, Wo, C_in, kH, kW)
            dxp = np.zeros_like(xp)
            for i in range(Ho):
                for j in range(Wo):
                    dxp[:, :, i * stride:i * stride + kH, j * stride:j * stride + kW] += dcolumns[:, i, j]
            return dxp[:, :, padding:padding + H, padding:padding + W], dw, grads.sum(axis=0)
        """),
]

HE_INIT = [
    answer("he_init", "fan_in_of_the_channels_only", "vectorised", """
        def he_init(c_out, c_in, k, rng):
            return rng.standard_normal((c_out, c_in, k, k)) * np.sqrt(2 / c_in)
        """, ("fan-in-wrong",)),
    answer("he_init", "fan_out_weight_by_weight", "loops", """
        def he_init(c_out, c_in, k, rng):
            std = np.sqrt(2 / (c_out * k * k))
            w = np.empty((c_out, c_in, k, k))
            for index in np.ndindex(w.shape):
                w[index] = rng.normal(0, std)
            return w
        """, ("fan-in-wrong",)),
    answer("he_init", "variance_as_the_scale", "vectorised", """
        def he_init(c_out, c_in, k, rng):
            return rng.normal(0, 2 / (c_in * k * k), size=(c_out, c_in, k, k))
        """, ("variance-not-std",)),
    answer("he_init", "glorot_scale", "unusual", """
        def he_init(c_out, c_in, k, rng):
            fan_in, fan_out = c_in * k * k, c_out * k * k
            return rng.normal(scale=np.sqrt(2 / (fan_in + fan_out)), size=(c_out, c_in, k, k))
        """, ("xavier-not-he",)),
    answer("he_init", "he_uniform", "vectorised", """
        def he_init(c_out, c_in, k, rng):
            limit = np.sqrt(6 / (c_in * k * k))
            return rng.uniform(-limit, limit, size=(c_out, c_in, k, k))
        """, ("uniform-not-normal",)),
    answer("he_init", "channels_last_layout", "vectorised", """
        def he_init(c_out, c_in, k, rng):
            return rng.standard_normal((k, k, c_in, c_out)) * np.sqrt(2 / (c_in * k * k))
        """, ("wrong-shape",)),
    answer("he_init", "numpys_global_randn", "vectorised", """
        def he_init(c_out, c_in, k, rng):
            return np.random.randn(c_out, c_in, k, k) * np.sqrt(2 / (c_in * k * k))
        """, ("rng-ignored",)),
    answer("he_init", "a_seeded_generator_of_its_own", "unusual", """
        def he_init(c_out, c_in, k, rng):
            own = np.random.default_rng(0)
            return own.standard_normal((c_out, c_in, k, k)) * np.sqrt(2 / (c_in * k * k))
        """, ("rng-ignored",)),
    answer("he_init", "adds_the_scale", "vectorised", """
        def he_init(c_out, c_in, k, rng):
            return rng.standard_normal((c_out, c_in, k, k)) + np.sqrt(2 / (c_in * k * k))
        """, ("wrong-values",)),
    answer("he_init", "size_as_separate_arguments", "vectorised", """
        def he_init(c_out, c_in, k, rng):
            return rng.normal(0, np.sqrt(2 / (c_in * k * k)), c_out, c_in, k, k)
        """, ("raises",)),
    answer("he_init", "forgets_to_return", "vectorised", """
        def he_init(c_out, c_in, k, rng):
            w = rng.standard_normal((c_out, c_in, k, k)) * np.sqrt(2 / (c_in * k * k))
        """, ("no-return",)),
    answer("he_init", "returns_the_weights_and_their_scale", "vectorised", """
        def he_init(c_out, c_in, k, rng):
            std = np.sqrt(2 / (c_in * k * k))
            return rng.standard_normal((c_out, c_in, k, k)) * std, std
        """, ("not-an-array",)),
    answer("he_init", "the_librarys_he_init", "vectorised", """
        from conv_lib.layers import he_init as library_he_init

        def he_init(c_out, c_in, k, rng):
            return library_he_init(c_out, c_in, k, rng, dtype=np.float64)
        """, ("reference-call",)),
]
