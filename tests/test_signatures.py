"""describe(function): the signature, summary and shape lines a notebook prints before an exercise."""

import pytest

import conv_lib
from conv_lib.signatures import call_line, describe, shape_lines, summary_line


def test_describe_prints_the_call_with_the_bias_and_the_shapes(capsys):
    describe(conv_lib.conv2d_multi_in)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "conv2d_multi_in(x, w, b=0.0, stride=1, dilation=1)"
    assert printed[1] == "    One multi-channel filter on one image: the channel-summing rule for a single filter."
    assert [line.split(":")[0].strip() for line in printed[2:6]] == ["x", "w", "b", "stride, dilation"]
    assert "(C_in, H, W)" in printed[2] and "(C_in, kH, kW)" in printed[3] and "added once" in printed[4]
    assert printed[-1].startswith("    Returns (Ho, Wo)")


def test_describe_prints_several_functions_apart(capsys):
    describe(conv_lib.pad2d, conv_lib.output_size)
    blocks = capsys.readouterr().out.strip().split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == ["pad2d(x, padding)", "output_size(n, k, padding=0, stride=1, dilation=1)"]
    assert blocks[1].splitlines()[1] == "    How many positions a window of size k takes along one axis of length n."


def test_shape_lines_are_the_argument_and_returns_lines_only():
    def example(x, stride=1):
        """Summary.

        Some prose: with a colon, but not about an argument.
        out[i] = x[i * stride]
        x: (H, W) one channel.
        stride: a whole number.
        Returns (Ho, Wo).

        >>> example(1)
        """

    assert call_line(example) == "example(x, stride=1)"
    assert summary_line(example) == "Summary."
    assert shape_lines(example) == ["x: (H, W) one channel.", "stride: a whole number.", "Returns (Ho, Wo)."]


def test_a_function_without_a_docstring_gets_its_call_line_alone(capsys):
    describe(lambda x, w: None)
    assert capsys.readouterr().out.strip() == "<lambda>(x, w)"


@pytest.mark.parametrize("given, words", [((), "got nothing"), ((3,), "got int")])
def test_describe_needs_functions(given, words):
    with pytest.raises(ValueError, match=f"describe needs one or more functions.*{words}"):
        describe(*given)
