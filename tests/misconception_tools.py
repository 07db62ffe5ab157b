"""Helpers for the tests of conv_lib.diagnose: what a check says about a function."""

from conv_lib import diagnose
from conv_lib.diagnose import Misconception


def failure(check, function, **options):
    """The Misconception a check raises for ``function``, or None when it passes.

    Also asserts what every Misconception must be: its message starts with its codes
    in brackets, and each code is one of diagnose.CODES.
    """
    try:
        check(function, **options)
    except Misconception as error:
        assert str(error).startswith(" ".join(f"[{code}]" for code in error.codes) + " ")
        assert set(error.codes) <= set(diagnose.CODES)
        return error
    return None


def codes_of(check, function, **options):
    """The codes of the Misconception a check raises for ``function``, or None when it passes."""
    error = failure(check, function, **options)
    return None if error is None else error.codes
