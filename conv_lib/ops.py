"""Convolution, ReLU and pooling on numpy arrays.

Layouts used everywhere in the course:

    x: (N, C_in, H, W)                 a batch of N images with C_in channels each
    w: (C_out, C_in/groups, kH, kW)    C_out filters; each filter has one channel per input
                                       channel of its group (groups=1: per input channel)
    b: (C_out,)                        one bias per filter
    y: (N, C_out, Ho, Wo)              one feature map per filter

The channel-summing rule: filter ``f`` is cross-correlated channel by channel
with the input (its channel ``c`` with input channel ``c``), the C_in responses
are *summed*, and one bias ``b[f]`` is added, giving *one* feature map. C_out
filters give C_out maps, whatever C_in is.

Where the rule bends: groups. With ``groups=g`` (PyTorch's meaning) the C_in
input channels split into g consecutive groups of C_in/g channels, and the
C_out filters into g consecutive groups of C_out/g filters. Filter ``f``
belongs to group ``f // (C_out/g)`` and sums over that group's channels only,
so it is C_in/g channels deep. groups=1 is the usual rule; groups=C_in
(= C_out, or C_out a multiple of it) is *depthwise* convolution: each map comes
from one input channel, nothing is summed across channels (MobileNet's 3x3
layers, followed by a 1x1 "pointwise" convolution that mixes the channels).

Each operation comes twice, side by side: a readable reference version whose
loops say the rule out loud, and a fast version for real images. The tests
prove that the two agree and that both agree with scipy.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .checks import as_real_array, common_float_dtype, pair, require_axes, whole_number
from .shapes import effective_kernel_size, output_size

BATCH_HINT = "For a single image of shape (C, H, W), add the batch axis with x[None]."


# --------------------------------------------------------------------------
# Padding and single-channel cross-correlation
# --------------------------------------------------------------------------


def pad2d(x, padding):
    """Surround the last two axes of ``x`` with zeros.

    x:       (..., H, W), e.g. (H, W), (C, H, W) or (N, C, H, W).
    padding: int, or pair (rows, columns): zeros added on each side.
    Returns (..., H + 2*pad_rows, W + 2*pad_columns), same dtype as x.
    """
    x = as_real_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"pad2d needs at least 2 axes (H, W), but x has shape {x.shape}")
    pad_rows, pad_columns = pair(padding, "padding", 0)
    widths = [(0, 0)] * (x.ndim - 2) + [(pad_rows, pad_rows), (pad_columns, pad_columns)]
    return np.pad(x, widths)


def corr2d(x, k, stride=1, dilation=1):
    """Cross-correlate one channel with one kernel channel (valid positions only, no flip).

    out[i, j] = sum over (u, v) of x[i*stride + u*dilation, j*stride + v*dilation] * k[u, v]

    x: (H, W)    one input channel.
    k: (kH, kW)  one kernel channel.
    Returns (Ho, Wo) with Ho = output_size(H, kH, 0, stride, dilation), likewise Wo.

    >>> corr2d([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[0, 1], [2, 3]])  # 0*0 + 1*1 + 3*2 + 4*3 = 19
    array([[19., 25.],
           [37., 43.]])
    """
    x, k = as_real_array(x, "x"), as_real_array(k, "k")
    require_axes(x, 2, "x", "(H, W)", "corr2d works on one channel; conv2d handles many.")
    require_axes(k, 2, "k", "(kH, kW)")
    stride_rows, stride_columns = pair(stride, "stride", 1)
    dilation_rows, dilation_columns = pair(dilation, "dilation", 1)
    (kH, kW), (H, W) = k.shape, x.shape
    Ho = output_size(H, kH, 0, stride_rows, dilation_rows)
    Wo = output_size(W, kW, 0, stride_columns, dilation_columns)
    span_rows, span_columns = effective_kernel_size(kH, dilation_rows), effective_kernel_size(kW, dilation_columns)
    out = np.zeros((Ho, Wo), dtype=common_float_dtype(x, k))
    for i in range(Ho):
        for j in range(Wo):
            top, left = i * stride_rows, j * stride_columns
            window = x[top : top + span_rows : dilation_rows, left : left + span_columns : dilation_columns]  # (kH, kW)
            out[i, j] = np.sum(window * k)
    return out


def conv2d_multi_in(x, w, b=0.0, stride=1, dilation=1):
    """One multi-channel filter on one image: the channel-summing rule for a single filter.

    Each filter channel w[c] meets its own input channel x[c]; the C_in responses
    are added into one map, and the filter's one bias b is added once to that map.

    x: (C_in, H, W)    one image.
    w: (C_in, kH, kW)  one filter, with one channel per input channel.
    b: a number        the filter's bias, added once to the summed map (default 0).
    stride, dilation:  int or (rows, columns) pair.
    Returns (Ho, Wo): one feature map, however many channels x has.

    >>> x = [[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]]
    >>> w = [[[0, 1], [2, 3]], [[1, 2], [3, 4]]]
    >>> conv2d_multi_in(x, w, 1.0)    # channel 0 gives 19 at the top-left, channel 1 gives 37: 19 + 37 + 1
    array([[ 57.,  73.],
           [105., 121.]])
    """
    x, w = as_real_array(x, "x"), as_real_array(w, "w")
    require_axes(x, 3, "x", "(C_in, H, W)")
    require_axes(w, 3, "w", "(C_in, kH, kW)")
    require_one_channel_per_input_channel(w.shape[0], x.shape[0], last_axis=x.shape[-1])
    b = as_real_array(b, "b")
    if b.ndim != 0:
        raise ValueError(
            f"b must be one number, the filter's one bias, but it has shape {b.shape}; "
            "for a layer's biases b of shape (C_out,), pass filter w[f] with its bias b[f]"
        )
    feature_map = sum(corr2d(x[c], w[c], stride, dilation) for c in range(x.shape[0]))  # (Ho, Wo)
    feature_map += b  # once, after the sum over channels; in place, so float32 stays float32
    return feature_map


def require_one_channel_per_input_channel(filter_channels, input_channels, last_axis=None):
    """Raise the course's central error: a filter's depth must equal the input's channel count.

    last_axis: the length of the input's last axis; when it equals the filters' depth,
    the input is probably channels-last (H, W, C), as images are loaded, and the
    message says how to move the channels first.
    """
    if filter_channels != input_channels:
        hint = ""
        if last_axis == filter_channels:
            hint = (
                f". The input's last axis has {last_axis}: if it holds the channels (an image "
                "loaded as height, width, channels), move them first, e.g. x.transpose(0, 3, 1, 2) "
                "for a batch or x.transpose(2, 0, 1) for one image"
            )
        raise ValueError(
            "each filter must have one channel per input channel (its depth must equal the "
            f"input's channel count): the filters have {filter_channels} channels, "
            f"the input has {input_channels}{hint}"
        )


# --------------------------------------------------------------------------
# Multi-channel, multi-filter convolution: arguments, reference, fast
# --------------------------------------------------------------------------


def require_filters_fit_groups(groups, filter_channels, input_channels, filters, last_axis=None):
    """Check the groups of a grouped convolution; returns groups as an int.

    groups=1 is the usual rule and raises the course's central error
    (require_one_channel_per_input_channel). Otherwise the input channels and
    the filters must both split into ``groups`` equal groups, and each filter
    must have one channel per input channel of its group: C_in/groups channels.
    """
    groups = whole_number(groups, "groups", 1)
    if groups == 1:
        require_one_channel_per_input_channel(filter_channels, input_channels, last_axis)
        return groups
    if input_channels % groups:
        raise ValueError(
            f"with groups={groups} the input's {input_channels} channels must split into {groups} equal "
            f"groups, but {input_channels} is not a multiple of {groups}"
        )
    if filters % groups:
        raise ValueError(
            f"with groups={groups} the {filters} filters must split into {groups} equal groups (one per "
            f"group of input channels), but {filters} is not a multiple of {groups}"
        )
    if filter_channels != input_channels // groups:
        raise ValueError(
            f"with groups={groups} each filter has one channel per input channel of its group: w should "
            f"have {input_channels} / {groups} = {input_channels // groups} channels, it has {filter_channels}"
        )
    return groups


def _conv2d_arguments(x, w, b, stride, padding, dilation, groups=1):
    """Check conv2d's arguments once for both implementations.

    Returns x, w, b (b is None or (C_out,)), the three (rows, columns) pairs and (Ho, Wo).
    groups is checked (require_filters_fit_groups) but not returned.
    """
    x, w = as_real_array(x, "x"), as_real_array(w, "w")
    require_axes(x, 4, "x", "(N, C_in, H, W)", BATCH_HINT)
    require_axes(w, 4, "w", "(C_out, C_in, kH, kW)", "A single filter of shape (C_in, kH, kW) is w[None].")
    if 0 in x.shape or 0 in w.shape:
        raise ValueError(f"x and w must not have empty axes: x has shape {x.shape}, w has shape {w.shape}")
    require_filters_fit_groups(groups, w.shape[1], x.shape[1], w.shape[0], last_axis=x.shape[-1])
    if b is not None:
        b = as_real_array(b, "b")
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"b must hold one bias per filter: expected shape ({w.shape[0]},) "
                f"for {w.shape[0]} filters, got shape {b.shape}"
            )
    dtype = common_float_dtype(x, w, b)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = None if b is None else b.astype(dtype, copy=False)
    stride, padding, dilation = pair(stride, "stride", 1), pair(padding, "padding", 0), pair(dilation, "dilation", 1)
    Ho, Wo = (
        output_size(x.shape[2 + axis], w.shape[2 + axis], padding[axis], stride[axis], dilation[axis])
        for axis in (0, 1)
    )
    return x, w, b, stride, padding, dilation, (Ho, Wo)


def conv2d_reference(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Readable conv2d: loops that follow the channel-summing rule word for word.

    For each image, for each filter, for each output position: take the window
    of the input channels the filter sees (all of them when groups=1; only its
    group's C_in/groups channels otherwise), multiply it elementwise by the
    filter (one filter channel per channel of the window), sum everything into
    one number, add the filter's one bias.

    x: (N, C_in, H, W); w: (C_out, C_in/groups, kH, kW); b: (C_out,) or None.
    stride, padding, dilation: int or (rows, columns) pair.
    groups: how many groups the channels and filters split into (1: the usual rule).
    Returns (N, C_out, Ho, Wo). Slow: for small arrays and for checking.
    """
    x, w, b, stride, padding, dilation, (Ho, Wo) = _conv2d_arguments(x, w, b, stride, padding, dilation, groups)
    N, C_out = x.shape[0], w.shape[0]
    group_channels = w.shape[1]  # each filter's depth: C_in / groups
    filters_per_group = C_out // groups
    span_rows = effective_kernel_size(w.shape[2], dilation[0])
    span_columns = effective_kernel_size(w.shape[3], dilation[1])
    x_padded = pad2d(x, padding)
    out = np.zeros((N, C_out, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for f in range(C_out):
            group = f // filters_per_group  # filters 0.. of group 0 first, then group 1's, ...
            channels = slice(group * group_channels, (group + 1) * group_channels)  # the only ones filter f sees
            for i in range(Ho):
                for j in range(Wo):
                    top, left = i * stride[0], j * stride[1]
                    window = x_padded[
                        n,
                        channels,  # every input channel of the filter's group (all of them when groups=1)
                        top : top + span_rows : dilation[0],
                        left : left + span_columns : dilation[1],
                    ]  # (C_in/groups, kH, kW), the same shape as the filter w[f]
                    out[n, f, i, j] = np.sum(window * w[f])  # summed over the group's channels and the taps
                    if b is not None:
                        out[n, f, i, j] += b[f]  # one bias per filter
    return out


#: The fast conv2d copies the input windows of a band of output rows into a
#: scratch matrix, then does one matrix product per band. The scratch is about
#: the size of one image's output, at most BAND_BYTES (larger bands leave the
#: cache), but never fewer than MIN_BAND_COLUMNS output pixels: thinner matrix
#: products run far below BLAS's speed (see benchmarks/README.md).
BAND_BYTES = 8 * 2**20
MIN_BAND_COLUMNS = 768


def band_rows(C_out, Ho, Wo, taps, itemsize):
    """How many output rows the fast conv2d computes per matrix product."""
    scratch_bytes = min(C_out * Ho * Wo * itemsize, BAND_BYTES)
    columns = max(scratch_bytes // (taps * itemsize), MIN_BAND_COLUMNS)
    return int(np.clip(-(-columns // Wo), 1, Ho))


def conv2d_fast(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Fast conv2d: the same numbers as conv2d_reference, computed as matrix products.

    The output rows are processed in bands. For each band, the input windows
    (all channels, all taps) are copied into a scratch matrix
    ``columns: (C_in*kH*kW, band_rows*Wo)`` and the filters, flattened to
    ``(C_out, C_in*kH*kW)``, multiply it in one BLAS call that writes straight
    into the output. Only the band being computed is padded, so the extra
    memory is the output plus a scratch of about the output's size (see band_rows).

    With groups, the scratch matrix splits into one block of rows per group,
    ``(groups, C_in/groups*kH*kW, band_rows*Wo)``, and each group's filters
    ``(C_out/groups, C_in/groups*kH*kW)`` multiply their own block (one batched
    matrix product). Depthwise convolution (one channel per filter) is no
    matrix product at all: it goes to depthwise_conv2d_fast.

    x: (N, C_in, H, W); w: (C_out, C_in/groups, kH, kW); b: (C_out,) or None.
    stride, padding, dilation: int or (rows, columns) pair; groups: int, 1 or more.
    Returns (N, C_out, Ho, Wo): float32 when all inputs are float32, else float64.
    """
    x, w, b, stride, padding, dilation, (Ho, Wo) = _conv2d_arguments(x, w, b, stride, padding, dilation, groups)
    N, C_in, H, W = x.shape
    C_out, group_channels, kH, kW = w.shape
    if groups > 1 and group_channels == 1:
        return _depthwise_conv2d(x, w, b, stride, padding, dilation, (Ho, Wo))
    span_rows = effective_kernel_size(kH, dilation[0])
    span_columns = effective_kernel_size(kW, dilation[1])
    taps = C_in * kH * kW
    group_taps, filters_per_group = taps // groups, C_out // groups
    filters = np.ascontiguousarray(w.reshape(groups, filters_per_group, group_taps))
    out = np.empty((N, groups, filters_per_group, Ho * Wo), dtype=x.dtype)
    bias = None if b is None else b.reshape(groups, filters_per_group, 1)

    rows_per_band = band_rows(C_out, Ho, Wo, taps, x.itemsize)
    slab_rows = (rows_per_band - 1) * stride[0] + span_rows
    slab = np.zeros((C_in, slab_rows, W + 2 * padding[1]), dtype=x.dtype)
    columns = np.empty(taps * rows_per_band * Wo, dtype=x.dtype)  # flat, so every band's view is contiguous

    for n in range(N):
        for first in range(0, Ho, rows_per_band):
            rows = min(rows_per_band, Ho - first)
            band_slab = _padded_rows(x[n], first * stride[0] - padding[0], (rows - 1) * stride[0] + span_rows, padding[1], slab)
            windows = sliding_window_view(band_slab, (span_rows, span_columns), axis=(1, 2))
            windows = windows[:, :: stride[0], :: stride[1], :: dilation[0], :: dilation[1]][:, :rows, :Wo]
            band_columns = columns[: taps * rows * Wo].reshape(C_in, kH, kW, rows, Wo)
            np.copyto(band_columns, windows.transpose(0, 3, 4, 1, 2))
            band_out = out[n, :, :, first * Wo : (first + rows) * Wo]  # (groups, C_out/groups, rows*Wo)
            np.matmul(filters, band_columns.reshape(groups, group_taps, rows * Wo), out=band_out)
            if bias is not None:
                band_out += bias  # while the band is still in the cache
    return out.reshape(N, C_out, Ho, Wo)


def _padded_rows(image, top, count, pad_columns, slab):
    """Rows ``top .. top+count-1`` of the zero-padded image, written into ``slab``.

    image: (C, H, W); rows outside 0..H-1 are padding and come out as zeros.
    slab:  (C, >= count, W + 2*pad_columns) scratch buffer, reused between bands.
    Returns the view slab[:, :count].
    """
    H, W = image.shape[1:]
    band = slab[:, :count]
    first = max(top, 0)
    last = max(min(top + count, H), first)  # the band may lie wholly in the padding
    band[:, : first - top] = 0
    band[:, last - top :] = 0
    band[:, first - top : last - top, pad_columns : pad_columns + W] = image[:, first:last]
    return band


# --------------------------------------------------------------------------
# Depthwise convolution, fast: one multiply-add per kernel tap
# --------------------------------------------------------------------------

#: The fast depthwise path works on a band of channels of one image at a time,
#: padded into a scratch buffer of about DEPTHWISE_BAND_BYTES: numpy's
#: per-call cost weighs on smaller bands, larger ones leave the cache.
DEPTHWISE_BAND_BYTES = 2**20


def _depthwise_conv2d(x, w, b, stride, padding, dilation, out_size):
    """Depthwise conv2d (each filter sees one input channel), as one multiply-add per kernel tap.

    Output map f comes from input channel f // multiplier alone, with
    multiplier = C_out / C_in maps per input channel:

        y[n, f] = sum over taps (u, v) of w[f, 0, u, v] * x_padded[n, f // multiplier] shifted by (u, v) + b[f]

    A matrix product would sum over only kH*kW numbers, so none is used: a band
    of channels is padded into a scratch buffer, then for each tap the part of
    the buffer that the tap meets is multiplied by the tap's weight, one per map,
    and added to the maps. Every such pass runs over contiguous memory: each
    tap's view is taken over whole rows of the buffer (the extra columns, past
    Wo, are dropped when the band is copied into the output, with the bias);
    with a stride, the padded band is first split into its stride_rows x
    stride_columns phases (rows a, a + stride, ...; columns likewise), and a tap
    reads one phase, shifted, instead of a strided view of the whole band.

    x: (N, C_in, H, W); w: (C_out, 1, kH, kW); b: (C_out,) or None (all checked, one dtype).
    stride, padding, dilation: (rows, columns) pairs; out_size: (Ho, Wo).
    Returns (N, C_out, Ho, Wo) in x's dtype.
    """
    N, C_in, H, W = x.shape
    C_out, _, kH, kW = w.shape
    multiplier = C_out // C_in
    Ho, Wo = out_size
    Hp, Wp = H + 2 * padding[0], W + 2 * padding[1]
    Hq, Wq = -(-Hp // stride[0]), -(-Wp // stride[1])  # one phase's rows and columns (all of them at stride 1)
    phase_size = Hq * Wq
    taps = w.reshape(C_in, multiplier, kH * kW)[:, :, :, None, None]  # (C_in, multiplier, taps, 1, 1)
    bias = 0 if b is None else b.reshape(C_in, multiplier, 1, 1)
    out = np.empty((N, C_in, multiplier, Ho, Wo), dtype=x.dtype)

    per_band = int(np.clip(DEPTHWISE_BAND_BYTES // (Hp * Wp * x.itemsize), 1, C_in))
    reach = (kH - 1) * dilation[0] // stride[0] * Wq + (kW - 1) * dilation[1] // stride[1]  # the farthest tap's shift
    # Flat, one per phase, so that a tap's view is a shifted slice; the padding and the tails stay 0.
    phases = np.zeros((stride[0] * stride[1], per_band * phase_size + reach), dtype=x.dtype)
    strided = stride != (1, 1)
    padded_band = np.zeros((per_band, Hp, Wp), dtype=x.dtype) if strided else None
    maps = np.empty((per_band, multiplier, Ho, Wq), dtype=x.dtype)
    product = np.empty_like(maps)
    for n in range(N):
        for first in range(0, C_in, per_band):
            count = min(per_band, C_in - first)
            channels = slice(first, first + count)
            padded = padded_band[:count] if strided else phases[0, : count * phase_size].reshape(count, Hp, Wp)
            padded[:, padding[0] : padding[0] + H, padding[1] : padding[1] + W] = x[n, channels]  # the border stays 0
            if strided:
                for phase, (a, c) in enumerate(np.ndindex(*stride)):
                    part = padded[:, a :: stride[0], c :: stride[1]]
                    phases[phase, : count * phase_size].reshape(count, Hq, Wq)[:, : part.shape[1], : part.shape[2]] = part
            band_maps, band_product = maps[:count], product[:count]
            for tap, (u, v) in enumerate(np.ndindex(kH, kW)):
                (row_shift, a), (column_shift, c) = divmod(u * dilation[0], stride[0]), divmod(v * dilation[1], stride[1])
                shift = row_shift * Wq + column_shift
                seen = phases[a * stride[1] + c, shift : shift + count * phase_size].reshape(count, 1, Hq, Wq)[:, :, :Ho]
                if tap == 0:
                    np.multiply(seen, taps[channels, :, tap], out=band_maps)
                else:
                    np.multiply(seen, taps[channels, :, tap], out=band_product)
                    band_maps += band_product
            np.add(band_maps[..., :Wo], bias if b is None else bias[channels], out=out[n, channels])
    return out.reshape(N, C_out, Ho, Wo)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution layer (cross-correlation, as in every deep-learning library).

    y[n, f] = sum over c of corr2d(x_padded[n, c], w[f, c]) + b[f]

    with groups > 1, c runs over filter f's group of input channels only
    (group f // (C_out/groups)): y[n, f] = sum over c of corr2d(x_padded[n, g*C_in/groups + c], w[f, c]) + b[f].

    x: (N, C_in, H, W)                 batch of images.
    w: (C_out, C_in/groups, kH, kW)    C_out filters, each with one channel per input channel
                                       of its group (per input channel when groups=1).
    b: (C_out,) or None                one bias per filter.
    stride, padding, dilation:         int or (rows, columns) pair.
    groups:                            int >= 1 dividing C_in and C_out; groups=C_in is depthwise.
    Returns y: (N, C_out, Ho, Wo), Ho = output_size(H, kH, padding, stride, dilation).

    Uses conv2d_fast; conv2d_reference gives the same numbers with plain loops.

    >>> import numpy as np
    >>> x = np.ones((1, 3, 32, 32))                     # one RGB image
    >>> w = np.ones((64, 3, 3, 3))                      # 64 filters, each 3 channels deep
    >>> conv2d(x, w, np.zeros(64), padding=1).shape     # 64 maps, not 64 x 3
    (1, 64, 32, 32)
    >>> float(conv2d(x, w)[0, 0, 0, 0])                 # 3 channels x 9 taps, summed
    27.0
    >>> float(conv2d(x, np.ones((3, 1, 3, 3)), groups=3)[0, 0, 0, 0])  # depthwise: 9 taps, no sum over channels
    9.0
    """
    return conv2d_fast(x, w, b, stride, padding, dilation, groups)


# --------------------------------------------------------------------------
# ReLU and pooling (pooling never mixes channels)
# --------------------------------------------------------------------------


def relu(x):
    """Rectified linear unit, elementwise: max(x, 0).

    x: any shape. Returns the same shape and floating dtype.
    """
    x = as_real_array(x, "x")
    return np.maximum(x, 0)


def _pool_arguments(x, size, stride):
    """Check a pooling call; returns x, (size_rows, size_columns), (stride pair), (Ho, Wo)."""
    x = as_real_array(x, "x")
    require_axes(x, 4, "x", "(N, C, H, W)", BATCH_HINT)
    size, stride = pair(size, "size", 1), pair(stride, "stride", 1)
    Ho, Wo = (output_size(x.shape[2 + axis], size[axis], 0, stride[axis]) for axis in (0, 1))
    return x, size, stride, (Ho, Wo)


def _pool_reference(x, size, stride, reduce):
    """Loop over images, channels and windows, reducing each window with ``reduce`` (np.max or np.mean)."""
    x, size, stride, (Ho, Wo) = _pool_arguments(x, size, stride)
    N, C = x.shape[:2]
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):  # each channel on its own: pooling never mixes channels
            for i in range(Ho):
                for j in range(Wo):
                    top, left = i * stride[0], j * stride[1]
                    out[n, c, i, j] = reduce(x[n, c, top : top + size[0], left : left + size[1]])
    return out


def _window_slices(x, size, stride, out_shape):
    """Yield, for each offset (u, v) inside the pooling window, the strided view
    x[:, :, u::stride, v::stride] cut to the output shape (N, C, Ho, Wo)."""
    Ho, Wo = out_shape
    for u in range(size[0]):
        for v in range(size[1]):
            yield x[:, :, u : u + stride[0] * (Ho - 1) + 1 : stride[0], v : v + stride[1] * (Wo - 1) + 1 : stride[1]]


def _fold_windows(x, size, stride, out_shape, combine):
    """Fold the size*size strided views of x together with ``combine`` (np.maximum or np.add).

    x: (N, C, H, W); size, stride: checked (rows, columns) pairs; out_shape: (Ho, Wo).
    Returns (N, C, Ho, Wo).
    """
    slices = _window_slices(x, size, stride, out_shape)
    out = next(slices).copy()
    for view in slices:
        combine(out, view, out=out)
    return out


def max_pool2d_reference(x, size=2, stride=2):
    """Readable max pooling: for each channel and window, the largest value.

    x: (N, C, H, W) -> (N, C, Ho, Wo) with Ho = output_size(H, size, 0, stride).
    """
    return _pool_reference(x, size, stride, np.max)


def max_pool2d(x, size=2, stride=2):
    """Max pooling, per channel: the channel count never changes.

    Takes np.maximum over the size*size strided views of x, one per offset in the window.

    x: (N, C, H, W); size, stride: int or (rows, columns) pair.
    Returns (N, C, Ho, Wo) with Ho = output_size(H, size, 0, stride).
    """
    x, size, stride, out_shape = _pool_arguments(x, size, stride)
    return _fold_windows(x, size, stride, out_shape, np.maximum)


def avg_pool2d_reference(x, size=2, stride=2):
    """Readable average pooling: for each channel and window, the mean value.

    x: (N, C, H, W) -> (N, C, Ho, Wo) with Ho = output_size(H, size, 0, stride).
    """
    return _pool_reference(x, size, stride, np.mean)


def avg_pool2d(x, size=2, stride=2):
    """Average pooling, per channel: the channel count never changes.

    x: (N, C, H, W); size, stride: int or (rows, columns) pair.
    Returns (N, C, Ho, Wo) with Ho = output_size(H, size, 0, stride).
    """
    x, size, stride, out_shape = _pool_arguments(x, size, stride)
    total = _fold_windows(x, size, stride, out_shape, np.add)
    total /= size[0] * size[1]
    return total
