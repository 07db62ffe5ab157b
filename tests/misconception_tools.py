"""Helpers for the tests of conv_lib.diagnose: what a check says about a function, and the assertions
every notebook's diagnose tests share."""

import functools
import gc
import re
import time

import pytest

from conv_lib import diagnose
from conv_lib.diagnose import Misconception


def failure(check, function, **options):
    """The Misconception a check raises for ``function``, or None when it passes.

    Also asserts what every Misconception must be: its message lists its problems one
    per line, each line headed by its codes in brackets, together error.codes in order;
    and each code is one of diagnose.CODES.
    """
    try:
        check(function, **options)
    except Misconception as error:
        assert str(error).startswith("["), str(error)
        headed = [re.findall(r"\[([a-z-]+)\]", match.group(0))
                  for line in str(error).splitlines() for match in [re.match(r"(?:\[[a-z-]+\] )+", line)] if match]
        assert list(dict.fromkeys(code for codes in headed for code in codes)) == list(error.codes), str(error)
        assert set(error.codes) <= set(diagnose.CODES)
        return error
    return None


def codes_of(check, function, **options):
    """The codes of the Misconception a check raises for ``function``, or None when it passes."""
    error = failure(check, function, **options)
    return None if error is None else error.codes


# --------------------------------------------------------------------------
# The assertions every notebook's diagnose tests make (test_diagnose*.py)
# --------------------------------------------------------------------------


def assert_right_passes(check, right, seed):
    """A right implementation passes the visible check with `seed` and the hidden one with seed + 100."""
    assert codes_of(check, right, seed=seed) is None
    assert codes_of(check, right, seed=seed + 100, hidden=True) is None


def assert_named_exactly(check, wrong, visible_codes, hidden_codes, visible_seeds=(0,), hidden_seeds=(7,)):
    """The wrong implementation earns exactly visible_codes (None: it passes) in the visible check
    with each of visible_seeds, and exactly hidden_codes in the hidden check with each of hidden_seeds."""
    for seed in visible_seeds:
        assert codes_of(check, wrong, seed=seed) == visible_codes, seed
    for seed in hidden_seeds:
        assert codes_of(check, wrong, seed=seed, hidden=True) == hidden_codes, seed


def assert_quick(check, function, seconds=0.5):
    """The visible and the hidden check of `function` each take under `seconds` of this process's
    time: fast enough for a notebook.

    Measured as a notebook's kernel would see it: the processor time of this process (other
    processes of the test run do not count), with the objects the test suite made until now
    frozen out of the garbage collector's way (a notebook's kernel holds few of them).
    """
    gc.freeze()
    try:
        for options in ({}, {"seed": 7, "hidden": True}):
            start = time.process_time()
            failure(check, function, **options)
            assert time.process_time() - start < seconds, options
    finally:
        gc.unfreeze()


def codes_earned(wrong):
    """Every code that the (function, implementation, visible codes, hidden codes) rows earn."""
    return {code for _, _, visible, hidden in wrong for code in (visible or ()) + hidden}


def listed_codes():
    """The codes that conv_lib.diagnose's docstring lists (between "Codes" and "Trust")."""
    return set(re.findall(r"[a-z]+(?:-[a-z]+)+|raises", diagnose.__doc__.split("Codes")[1].split("Trust")[0]))


def with_the_depth_check(wrong):
    """wrong, refusing a filter of the wrong depth as the exercise asks: so its row shows its one
    idea, not also [depth-check] (every problem of an answer is listed)."""

    @functools.wraps(wrong)
    def checked(x, w, *rest, **options):
        if w.shape[-3] != x.shape[-3]:
            raise ValueError(f"each filter must have one channel per input channel: w has {w.shape[-3]}, x has {x.shape[-3]}")
        return wrong(x, w, *rest, **options)

    return checked


def not_started(*args, **kwargs):
    """An exercise as the notebook hands it out: raise NotImplementedError()."""
    raise NotImplementedError()


def assert_crash_reported(check, crashing, shown):
    """A learner's function that raises IndexError or TypeError earns [raises], with the call as `shown`
    (a regular expression) and the learner's error attached as the cause."""
    with pytest.raises(Misconception, match=rf"^\[raises\] {shown}.* raised (IndexError|TypeError): ") as caught:
        check(crashing)
    assert isinstance(caught.value.__cause__, (IndexError, TypeError))


def numbers_outside_the_rules(message):
    """Digits left in a message once the rules' own numbers ("+1", "k - 1", "2*padding", conv1_1, max_pool2d, b[0], 3x3 ...) are gone.

    A crash ([raises]) shows the learner's own error and the shapes of the arrays passed, as in
    notebooks 01-03, and the depth check's input is the same as in the visible check: those may show numbers.
    """
    rules = (r"\+ ?1\b|- ?1\b|2\*padding|\b(?:conv\d+_\d+|relu\d+(?:_\d+)?|pool\d+|fc\d+)\b|\w+2d\w*\b|[Vv][Gg][Gg]16|\[0\]|max\(x, 0\)"
             r"|\b[23]x[23]\b|padding 1\b|stride 2\b")
    kept = re.sub(rules, "", message)
    return re.findall(r"\d+", kept)


def assert_hidden_failure_shows_no_inputs(check, wrong):
    """The hidden check's failure carries no maps, and its message no number of an input or expected value."""
    error = failure(check, wrong, seed=7, hidden=True)
    assert error.expected is None and error.given is None
    if error.codes not in (("raises",), ("depth-check",)):
        assert numbers_outside_the_rules(str(error)) == [], str(error)


def table_tests(checks, right, wrong, hidden_seeds=(7,)):
    """The tests every notebook's table of checks gets, as test functions for its test module:

        test_a_right_implementation_passes_visible_and_hidden_checks   each (name, right) of `right`, seeds 0-2
        test_each_misconception_is_named_by_exactly_its_code           each row of `wrong`, hidden with hidden_seeds
        test_hidden_failures_reveal_no_inputs_or_expected_values       each row of `wrong`
        test_a_still_empty_exercise_fails_with_not_implemented_error   each check, visible and hidden
        test_every_check_takes_well_under_a_second                     every right and wrong implementation

    checks: {name: check}; right: [(name, implementation)]; wrong: [(name, implementation,
    visible codes or None, hidden codes)]. A module binds them to these names, so pytest finds them there.
    """
    wrong_ids = [implementation.__name__ for _, implementation, _, _ in wrong]
    everything = right + [(name, implementation) for name, implementation, _, _ in wrong]

    @pytest.mark.parametrize("name, right", right, ids=[implementation.__name__ for _, implementation in right])
    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_a_right_implementation_passes_visible_and_hidden_checks(name, right, seed):
        assert_right_passes(checks[name], right, seed)

    @pytest.mark.parametrize("name, wrong, visible_codes, hidden_codes", wrong, ids=wrong_ids)
    def test_each_misconception_is_named_by_exactly_its_code(name, wrong, visible_codes, hidden_codes):
        assert_named_exactly(checks[name], wrong, visible_codes, hidden_codes, hidden_seeds=hidden_seeds)

    @pytest.mark.parametrize("name, wrong, visible_codes, hidden_codes", wrong, ids=wrong_ids)
    def test_hidden_failures_reveal_no_inputs_or_expected_values(name, wrong, visible_codes, hidden_codes):
        assert_hidden_failure_shows_no_inputs(checks[name], wrong)

    @pytest.mark.parametrize("name", sorted(checks))
    @pytest.mark.parametrize("hidden", [False, True])
    def test_a_still_empty_exercise_fails_with_not_implemented_error(name, hidden):
        with pytest.raises(NotImplementedError):
            checks[name](not_started, hidden=hidden)

    @pytest.mark.parametrize("name, function", everything, ids=[f.__name__ for _, f in everything])
    def test_every_check_takes_well_under_a_second(name, function):
        assert_quick(checks[name], function)

    return (test_a_right_implementation_passes_visible_and_hidden_checks,
            test_each_misconception_is_named_by_exactly_its_code,
            test_hidden_failures_reveal_no_inputs_or_expected_values,
            test_a_still_empty_exercise_fails_with_not_implemented_error,
            test_every_check_takes_well_under_a_second)
