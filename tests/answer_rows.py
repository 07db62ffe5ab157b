"""A learner answer as a row of the corpus (learner_answers.py): the Answer record, and how to write one.

Answer: the exercise (a graded function's name), a label, the style it is written in (one
of STYLES), its source as a learner types it into the notebook's cell, and the codes its
idea should earn, the same in the visible and the hidden check (None: a correct answer).
"""

import textwrap
from collections import namedtuple

STYLES = ("loops", "vectorised", "unusual")

Answer = namedtuple("Answer", "exercise label style source expected")


def answer(exercise, label, style, source, expected=None):
    """One row; source is dedented; expected is a tuple of codes, or None for a correct answer."""
    assert style in STYLES, style
    return Answer(exercise, label, style, textwrap.dedent(source).strip() + "\n", expected)


def variant(source, old, new):
    """source with the one line (or lines) `old` written as `new`: the same answer, one idea changed."""
    assert source.count(old) == 1, old
    return source.replace(old, new)
