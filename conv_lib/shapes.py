"""The output-size rule, written once.

A window of ``k`` taps, spread ``dilation`` apart, slides over ``n`` values
padded by ``padding`` zeros on each side, moving ``stride`` values at a time.
It fits

    output = floor((n + 2*padding - dilation*(k - 1) - 1) / stride) + 1

times. Convolution and pooling both use this rule; so do the notebooks, the
demo and the VGG16 tables.
"""

import math

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


# --------------------------------------------------------------------------
# Grouped convolution: which input channels a filter reads
# --------------------------------------------------------------------------


def group_counts(c_in, c_out):
    """The numbers of groups a layer of c_in input channels and c_out filters allows, smallest first.

    Each group has c_in/groups channels and c_out/groups filters, so groups divides
    both: the divisors of gcd(c_in, c_out). 1 (the usual rule) is always allowed.

    >>> group_counts(4, 6)
    (1, 2)
    """
    common = math.gcd(whole_number(c_in, "C_in", 1), whole_number(c_out, "C_out", 1))
    return tuple(g for g in range(1, common + 1) if common % g == 0)


def group_of_filter(f, c_out, groups):
    """The group of filter f: the c_out filters split into ``groups`` runs of c_out/groups neighbours."""
    return f // (c_out // groups)


def channels_of_filter(f, c_in, c_out, groups):
    """The input channels filter f reads in a grouped layer: its group's c_in/groups channels, in order.

    Returns a range; with groups=1, every input channel (the channel-summing rule).

    >>> list(channels_of_filter(3, 4, 4, 2))    # filters 2 and 3 form group 1: channels 2 and 3
    [2, 3]
    """
    per_group = c_in // groups
    group = group_of_filter(f, c_out, groups)
    return range(group * per_group, (group + 1) * per_group)
