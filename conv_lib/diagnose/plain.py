"""The expected answers' arithmetic in plain Python: lists of lists and loops, no numpy.

A learner's notebook can replace numpy's and conv_lib's functions; it cannot
change these. Maps are lists of rows of numbers; a batch is a list of images,
an image a list of channels. Every check of the package computes its expected
answers (and the answers each misconception would give) with these.
"""

import functools


def pad(x, padding):
    """x: list of H rows of W numbers; returns it surrounded by ``padding`` zeros."""
    width = len(x[0]) + 2 * padding
    zeros = [[0] * width for _ in range(padding)]
    return zeros + [[0] * padding + list(row) + [0] * padding for row in x] + [r[:] for r in zeros]


def output_size(n, k, padding, stride):
    return (n + 2 * padding - k) // stride + 1


def corr(x, k, padding=0, stride=1):
    """Cross-correlation of one channel x (H x W lists) with one kernel k (kH x kW lists).

    The checks weigh many ideas that share the same channel responses, so each one is
    computed once (_corr_of_rows) and handed out as fresh lists.
    """
    rows = _corr_of_rows(tuple(map(tuple, x)), tuple(map(tuple, k)), padding, stride)
    return [list(row) for row in rows]


@functools.lru_cache(maxsize=8192)
def _corr_of_rows(x, k, padding, stride):
    x = pad(x, padding)
    kH, kW = len(k), len(k[0])
    Ho = output_size(len(x), kH, 0, stride)
    Wo = output_size(len(x[0]), kW, 0, stride)
    return tuple(
        tuple(
            sum(x[i * stride + u][j * stride + v] * k[u][v] for u in range(kH) for v in range(kW))
            for j in range(Wo)
        )
        for i in range(Ho)
    )


def flip(k):
    """The kernel turned by 180 degrees: what true convolution slides over the input."""
    return [row[::-1] for row in k[::-1]]


def add(*maps):
    return [[sum(values) for values in zip(*rows)] for rows in zip(*maps)]


def plus(a, constant):
    return [[value + constant for value in row] for row in a]


def scaled(a, factor):
    return [[value * factor for value in row] for row in a]


def shape_of(a):
    """Shape of nested lists."""
    shape = []
    while isinstance(a, list):
        shape.append(len(a))
        a = a[0] if a else None
    return tuple(shape)


def random_grid(generator, rows, columns, low=-3, high=4):
    """A rows x columns map of whole numbers from low to high, drawn from the random.Random generator."""
    return [[generator.randint(low, high) for _ in range(columns)] for _ in range(rows)]


def random_maps(generator, count, rows, columns, low=-3, high=4):
    """count random maps: the channels of one image, or the kernels of one filter."""
    return [random_grid(generator, rows, columns, low, high) for _ in range(count)]


def random_batch(generator, N, C, rows, columns, low=-3, high=4):
    """N lists of C random maps: a batch of images (N, C, rows, columns), or filters (C_out, C_in, kH, kW)."""
    return [random_maps(generator, C, rows, columns, low, high) for _ in range(N)]


def flatten(nested):
    """All numbers of nested lists, in reading order."""
    if not isinstance(nested, list):
        return [nested]
    return [value for item in nested for value in flatten(item)]


def pooled(grid, size, stride, reduce=max, ceil=False):
    """Pooling of one map: reduce (max, or average) over each size x size window, moving stride at a time.

    ceil: also keep a last window that sticks out of the map (cut to what is inside).
    """
    rows, columns = len(grid), len(grid[0])
    count = (lambda n: -(-(n - size) // stride) + 1) if ceil else (lambda n: (n - size) // stride + 1)
    return [
        [
            reduce([grid[r][c] for r in range(i * stride, min(i * stride + size, rows))
                    for c in range(j * stride, min(j * stride + size, columns))])
            for j in range(count(columns))
        ]
        for i in range(count(rows))
    ]


def average(values):
    return sum(values) / len(values)


def elementwise_max(*maps):
    """Elementwise maximum of maps of one shape."""
    return [[max(values) for values in zip(*rows)] for rows in zip(*maps)]


def rectified(grid):
    return [[max(value, 0) for value in row] for row in grid]


# --------------------------------------------------------------------------
# The arithmetic of the loops learners get wrong: where a window starts, where
# it is stored, where the zeros go
# --------------------------------------------------------------------------


def pad_bottom_right(x, amount):
    """x with ``amount`` zeros added below and to the right only (one-sided padding)."""
    width = len(x[0]) + amount
    return [list(row) + [0] * amount for row in x] + [[0] * width for _ in range(amount)]


def cropped(grid, rows, columns):
    """The top-left rows x columns of a map."""
    return [row[:columns] for row in grid[:rows]]


def start_not_strided(x, k, padding, stride):
    """corr with the right output size, but window (i, j) starting at (i, j), not (i*stride, j*stride)."""
    rows = output_size(len(x), len(k), padding, stride)
    columns = output_size(len(x[0]), len(k[0]), padding, stride)
    return cropped(corr(x, k, padding, 1), rows, columns)


def index_steps_by_stride(full, stride):
    """What a loop whose counter steps by the stride, and is used as the output index, fills in.

    full: the stride-1 map of window values, the size of the learner's output array;
    positions the loop never reaches keep their zeros.
    """
    return [[value if i % stride == 0 and j % stride == 0 else 0 for j, value in enumerate(row)]
            for i, row in enumerate(full)]


def reshaped(nested, *shape):
    """nested lists read in reading order into the given shape, as numpy's reshape does."""
    numbers = flatten(nested)

    def build(offset, axes):
        if not axes:
            return numbers[offset]
        step = 1
        for length in axes[1:]:
            step *= length
        return [build(offset + index * step, axes[1:]) for index in range(axes[0])]

    return build(0, list(shape))


def channels_last_by_reshape(image):
    """An image (C, H, W) as a learner who reshapes it to (H, W, C), instead of transposing, then reads
    channel c as [:, :, c]: each returned channel mixes numbers of every channel and pixel."""
    C, H, W = shape_of(image)
    scrambled = reshaped(image, H, W, C)
    return [[[scrambled[i][j][c] for j in range(W)] for i in range(H)] for c in range(C)]


def transposed(nested, order):
    """nested lists with their axes in the given order, as numpy's transpose(order) does:
    axis i of the answer is axis order[i] of nested."""
    shape = shape_of(nested)
    new_shape = [shape[axis] for axis in order]

    def value(index):
        old = [0] * len(order)
        for position, axis in enumerate(order):
            old[axis] = index[position]
        item = nested
        for i in old:
            item = item[i]
        return item

    def build(prefix):
        if len(prefix) == len(new_shape):
            return value(prefix)
        return [build(prefix + [i]) for i in range(new_shape[len(prefix)])]

    return build([])
