"""The expected answers' arithmetic in plain Python: lists of lists and loops, no numpy.

A learner's notebook can replace numpy's and conv_lib's functions; it cannot
change these. Maps are lists of rows of numbers; a batch is a list of images,
an image a list of channels. Every check of the package computes its expected
answers (and the answers each misconception would give) with these.
"""


def pad(x, padding):
    """x: list of H rows of W numbers; returns it surrounded by ``padding`` zeros."""
    width = len(x[0]) + 2 * padding
    zeros = [[0] * width for _ in range(padding)]
    return zeros + [[0] * padding + list(row) + [0] * padding for row in x] + [r[:] for r in zeros]


def output_size(n, k, padding, stride):
    return (n + 2 * padding - k) // stride + 1


def corr(x, k, padding=0, stride=1):
    """Cross-correlation of one channel x (H x W lists) with one kernel k (kH x kW lists)."""
    x = pad(x, padding)
    kH, kW = len(k), len(k[0])
    Ho = output_size(len(x), kH, 0, stride)
    Wo = output_size(len(x[0]), kW, 0, stride)
    return [
        [
            sum(x[i * stride + u][j * stride + v] * k[u][v] for u in range(kH) for v in range(kW))
            for j in range(Wo)
        ]
        for i in range(Ho)
    ]


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
