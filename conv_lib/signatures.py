"""How to call a library function, read from the function itself: describe.

The notebooks reuse library functions inside the exercises (notebook 3 builds
on conv_lib.conv2d_multi_in, notebook 4 on pad2d, ...). Where a learner is
about to call one, a cell runs ``describe(conv2d_multi_in)`` and prints::

    conv2d_multi_in(x, w, b=0.0, stride=1, dilation=1)
        One multi-channel filter on one image: the channel-summing rule for a single filter.
        x: (C_in, H, W)    one image.
        ...
        Returns (Ho, Wo): one feature map, however many channels x has.

The signature comes from inspect; the other lines are the docstring's summary,
its argument lines ("x: ...", "stride, dilation: ...") and its "Returns" line,
which in this library give the arrays' shapes.
"""

import inspect


def call_line(function):
    """How the function is called, with its defaults: 'conv2d_multi_in(x, w, b=0.0, stride=1, dilation=1)'."""
    return f"{function.__name__}{inspect.signature(function)}"


def summary_line(function):
    """The first line of the function's docstring, without reST's double backticks ('' when it has none)."""
    doc = inspect.getdoc(function) or ""
    return doc.splitlines()[0].strip().replace("``", "") if doc else ""


def shape_lines(function):
    """The docstring's lines that describe the arguments and the result.

    An argument line starts with one or more of the function's parameter names
    and a colon ("x: (C_in, H, W) one image.", "stride, dilation: int or pair.");
    a result line starts with "Returns". Returns a list of str, in docstring order.
    """
    parameters = set(inspect.signature(function).parameters)
    lines = []
    for line in (inspect.getdoc(function) or "").splitlines()[1:]:
        line = line.strip()
        names = [name.strip() for name in line.split(":", 1)[0].split(",")] if ":" in line else []
        if line.startswith("Returns") or (names and all(name in parameters for name in names)):
            lines.append(line)
    return lines


def describe(*functions):
    """Print, for each function, how to call it, its one-line summary and the shapes of its arrays.

    functions: one or more functions, e.g. describe(conv_lib.pad2d, conv_lib.conv2d_multi_in).
    Returns None (the description is printed, for a notebook cell's output).
    """
    if not functions or not all(callable(function) for function in functions):
        given = ", ".join(type(function).__name__ for function in functions) or "nothing"
        raise ValueError(f"describe needs one or more functions, e.g. describe(conv_lib.conv2d); got {given}")
    blocks = []
    for function in functions:
        details = [summary_line(function), *shape_lines(function)]
        blocks.append("\n".join([call_line(function)] + ["    " + line for line in details if line]))
    print("\n\n".join(blocks))
