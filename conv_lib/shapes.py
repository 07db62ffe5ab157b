"""The output-size rule, written once.

A window of ``k`` taps, spread ``dilation`` apart, slides over ``n`` values
padded by ``padding`` zeros on each side, moving ``stride`` values at a time.
It fits

    output = floor((n + 2*padding - dilation*(k - 1) - 1) / stride) + 1

times. Convolution and pooling both use this rule; so do the notebooks, the
demo and the VGG16 tables.
"""

from .checks import whole_number


def effective_kernel_size(k, dilation=1):
    """Span of a dilated kernel in input pixels: ``dilation*(k - 1) + 1``.

    A 3-tap kernel with dilation 2 touches pixels 0, 2 and 4, so it spans 5.
    """
    return dilation * (k - 1) + 1


def output_size(n, k, padding=0, stride=1, dilation=1):
    """How many positions a window of size ``k`` takes along one axis of length ``n``.

    n:        input length (height or width), >= 1.
    k:        kernel (or pooling window) size, >= 1.
    padding:  zeros added on each side, >= 0.
    stride:   step between window positions, >= 1.
    dilation: spacing between kernel taps, >= 1.
    Returns an int >= 1.

    >>> output_size(224, 3, padding=1)   # VGG's 3x3 convolutions keep the size
    224
    >>> output_size(7, 3, padding=1, stride=2)
    4
    """
    n, k = whole_number(n, "the input size n", 1), whole_number(k, "the kernel size k", 1)
    padding = whole_number(padding, "padding", 0)
    stride, dilation = whole_number(stride, "stride", 1), whole_number(dilation, "dilation", 1)
    padded = n + 2 * padding
    span = effective_kernel_size(k, dilation)
    if span > padded:
        dilated = f" (a {k}-tap kernel with dilation {dilation})" if dilation > 1 else ""
        raise ValueError(
            f"the kernel spans {span} pixels{dilated} but the padded input is only {padded} "
            f"pixels ({n} + 2*{padding} padding): no window fits. "
            f"Use a smaller kernel or more padding."
        )
    return (padded - span) // stride + 1
