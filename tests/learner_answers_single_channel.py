"""Learner answers to notebook 01: conv_output_size(n, k, padding=0, stride=1) and corr2d(x, k, padding=0, stride=1).

Rows of the corpus in learner_answers.py. The sources run beside the solution notebook's setup:
np is numpy, and conv_output_size is the notebook's own.
"""

from answer_rows import answer

CONV_OUTPUT_SIZE = [
    answer("conv_output_size", "padding_counted_once", "vectorised", """
        def conv_output_size(n, k, padding=0, stride=1):
            return (n + padding - k) // stride + 1
        """, ("output-size",)),
    answer("conv_output_size", "counts_positions_without_padding", "loops", """
        def conv_output_size(n, k, padding=0, stride=1):
            count, start = 0, 0
            while start + k <= n:
                count += 1
                start += stride
            return count
        """, ("output-size",)),
    answer("conv_output_size", "rounds_up", "unusual", """
        def conv_output_size(n, k, padding=0, stride=1):
            return int(np.ceil((n + 2 * padding - k) / stride)) + 1
        """, ("output-size",)),
    answer("conv_output_size", "true_division", "vectorised", """
        def conv_output_size(n, k, padding=0, stride=1):
            return (n + 2 * padding - k) / stride + 1
        """, ("output-size",)),
    answer("conv_output_size", "trailing_comma_makes_a_tuple", "vectorised", """
        def conv_output_size(n, k, padding=0, stride=1):
            return (n + 2 * padding - k) // stride + 1,
        """, ("not-an-array",)),
    answer("conv_output_size", "prints_the_size", "vectorised", """
        def conv_output_size(n, k, padding=0, stride=1):
            size = (n + 2 * padding - k) // stride + 1
            print(f"{n} pixels, kernel {k}: {size} positions")
        """, ("no-return",)),
    answer("conv_output_size", "math_not_imported", "vectorised", """
        def conv_output_size(n, k, padding=0, stride=1):
            return math.floor((n + 2 * padding - k) / stride) + 1
        """, ("raises",)),
    answer("conv_output_size", "the_librarys_output_size", "vectorised", """
        from conv_lib import output_size

        def conv_output_size(n, k, padding=0, stride=1):
            return output_size(n, k, padding, stride)
        """, ("reference-call",)),
    answer("conv_output_size", "length_of_the_range_of_starts", "unusual", """
        def conv_output_size(n, k, padding=0, stride=1):
            return len(range(0, n + 2 * padding - k + 1, stride))
        """),
]

CORR2D = [
    answer("corr2d", "flips_the_kernel_index_by_index", "loops", """
        def corr2d(x, k, padding=0, stride=1):
            x = np.pad(x, padding)
            kH, kW = k.shape
            Ho = (x.shape[0] - kH) // stride + 1
            Wo = (x.shape[1] - kW) // stride + 1
            out = np.zeros((Ho, Wo))
            for i in range(Ho):
                for j in range(Wo):
                    for u in range(kH):
                        for v in range(kW):
                            out[i, j] += x[i * stride + u, j * stride + v] * k[kH - 1 - u, kW - 1 - v]
            return out
        """, ("flipped-kernel",)),
    answer("corr2d", "rot90_kernel_with_tensordot", "unusual", """
        def corr2d(x, k, padding=0, stride=1):
            windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, padding), k.shape)[::stride, ::stride]
            return np.tensordot(windows, np.rot90(k, 2), axes=2)
        """, ("flipped-kernel",)),
    answer("corr2d", "every_window_ignoring_the_stride", "vectorised", """
        def corr2d(x, k, padding=0, stride=1):
            windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, padding), k.shape)
            return (windows * k).sum(axis=(2, 3))
        """, ("output-size",)),
    answer("corr2d", "never_pads", "loops", """
        def corr2d(x, k, padding=0, stride=1):
            kH, kW = k.shape
            H, W = x.shape
            out = np.zeros(((H - kH) // stride + 1, (W - kW) // stride + 1))
            for i in range(out.shape[0]):
                for j in range(out.shape[1]):
                    out[i, j] = np.sum(x[i * stride:i * stride + kH, j * stride:j * stride + kW] * k)
            return out
        """, ("output-size",)),
    answer("corr2d", "window_starts_at_i", "loops", """
        def corr2d(x, k, padding=0, stride=1):
            x = np.pad(x, padding)
            kH, kW = k.shape
            Ho = conv_output_size(x.shape[0], kH, 0, stride)
            Wo = conv_output_size(x.shape[1], kW, 0, stride)
            out = np.zeros((Ho, Wo))
            for i in range(Ho):
                for j in range(Wo):
                    out[i, j] = np.sum(x[i:i + kH, j:j + kW] * k)
            return out
        """, ("start-not-strided",)),
    answer("corr2d", "first_windows_cut_to_the_output_size", "unusual", """
        def corr2d(x, k, padding=0, stride=1):
            x = np.pad(x, padding)
            Ho = (x.shape[0] - k.shape[0]) // stride + 1
            Wo = (x.shape[1] - k.shape[1]) // stride + 1
            windows = np.lib.stride_tricks.sliding_window_view(x, k.shape)[:Ho, :Wo]
            return np.tensordot(windows, k, axes=([2, 3], [0, 1]))
        """, ("start-not-strided",)),
    answer("corr2d", "range_steps_by_the_stride", "loops", """
        def corr2d(x, k, padding=0, stride=1):
            x = np.pad(x, padding)
            kH, kW = k.shape
            H, W = x.shape
            out = np.zeros((H - kH + 1, W - kW + 1))
            for i in range(0, H - kH + 1, stride):
                for j in range(0, W - kW + 1, stride):
                    out[i, j] = np.sum(x[i:i + kH, j:j + kW] * k)
            return out
        """, ("index-steps-by-stride",)),
    answer("corr2d", "keeps_only_the_strided_positions", "vectorised", """
        def corr2d(x, k, padding=0, stride=1):
            windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, padding), k.shape)
            every = (windows * k).sum(axis=(2, 3))
            out = np.zeros_like(every)
            out[::stride, ::stride] = every[::stride, ::stride]
            return out
        """, ("index-steps-by-stride",)),
    answer("corr2d", "zeros_array_with_the_image_in_its_corner", "loops", """
        def corr2d(x, k, padding=0, stride=1):
            H, W = x.shape
            kH, kW = k.shape
            padded = np.zeros((H + 2 * padding, W + 2 * padding))
            padded[:H, :W] = x
            Ho = (H + 2 * padding - kH) // stride + 1
            Wo = (W + 2 * padding - kW) // stride + 1
            out = np.zeros((Ho, Wo))
            for i in range(Ho):
                for j in range(Wo):
                    out[i, j] = np.sum(padded[i * stride:i * stride + kH, j * stride:j * stride + kW] * k)
            return out
        """, ("one-sided-padding",)),
    answer("corr2d", "pads_after_the_image_only", "vectorised", """
        def corr2d(x, k, padding=0, stride=1):
            padded = np.pad(x, ((0, padding), (0, padding)))
            windows = np.lib.stride_tricks.sliding_window_view(padded, k.shape)[::stride, ::stride]
            return (windows * k).sum(axis=(2, 3))
        """, ("one-sided-padding",)),
    answer("corr2d", "running_total_never_reset", "loops", """
        def corr2d(x, k, padding=0, stride=1):
            x = np.pad(x, padding)
            kH, kW = k.shape
            Ho = (x.shape[0] - kH) // stride + 1
            Wo = (x.shape[1] - kW) // stride + 1
            out = np.zeros((Ho, Wo))
            total = 0.0
            for i in range(Ho):
                for j in range(Wo):
                    for u in range(kH):
                        for v in range(kW):
                            total += x[i * stride + u, j * stride + v] * k[u, v]
                    out[i, j] = total
            return out
        """, ("wrong-values",)),
    answer("corr2d", "leaves_the_map_as_the_last_line", "vectorised", """
        def corr2d(x, k, padding=0, stride=1):
            windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, padding), k.shape)[::stride, ::stride]
            out = (windows * k).sum(axis=(2, 3))
            out
        """, ("no-return",)),
    answer("corr2d", "returns_the_tolist_method", "loops", """
        def corr2d(x, k, padding=0, stride=1):
            x = np.pad(x, padding)
            kH, kW = k.shape
            out = np.zeros(((x.shape[0] - kH) // stride + 1, (x.shape[1] - kW) // stride + 1))
            for i in range(out.shape[0]):
                for j in range(out.shape[1]):
                    out[i, j] = np.sum(x[i * stride:i * stride + kH, j * stride:j * stride + kW] * k)
            return out.tolist
        """, ("not-an-array",)),
    answer("corr2d", "unpacks_the_size_of_k", "loops", """
        def corr2d(x, k, padding=0, stride=1):
            x = np.pad(x, padding)
            kH, kW = k.size
            out = np.zeros(((x.shape[0] - kH) // stride + 1, (x.shape[1] - kW) // stride + 1))
            for i in range(out.shape[0]):
                for j in range(out.shape[1]):
                    out[i, j] = np.sum(x[i * stride:i * stride + kH, j * stride:j * stride + kW] * k)
            return out
        """, ("raises",)),
    answer("corr2d", "scipy_correlate2d", "vectorised", """
        from scipy.signal import correlate2d

        def corr2d(x, k, padding=0, stride=1):
            return correlate2d(np.pad(x, padding), k, mode="valid")[::stride, ::stride]
        """, ("reference-call",)),
    answer("corr2d", "im2col_matrix_product", "unusual", """
        def corr2d(x, k, padding=0, stride=1):
            x = np.pad(x, padding)
            kH, kW = k.shape
            Ho = (x.shape[0] - kH) // stride + 1
            Wo = (x.shape[1] - kW) // stride + 1
            rows = np.array([x[i * stride:i * stride + kH, j * stride:j * stride + kW].ravel()
                             for i in range(Ho) for j in range(Wo)])   # one row per window
            return (rows @ k.ravel()).reshape(Ho, Wo)
        """),
    answer("corr2d", "shift_and_add_over_the_taps", "unusual", """
        def corr2d(x, k, padding=0, stride=1):
            x = np.pad(x, padding)
            kH, kW = k.shape
            Ho = (x.shape[0] - kH) // stride + 1
            Wo = (x.shape[1] - kW) // stride + 1
            out = np.zeros((Ho, Wo))
            for u in range(kH):
                for v in range(kW):
                    out += k[u, v] * x[u:u + stride * (Ho - 1) + 1:stride, v:v + stride * (Wo - 1) + 1:stride]
            return out
        """),
    answer("corr2d", "sliding_windows_and_tensordot", "unusual", """
        def corr2d(x, k, padding=0, stride=1):
            windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, padding), k.shape)[::stride, ::stride]
            return np.tensordot(windows, k, axes=2)
        """),
]
