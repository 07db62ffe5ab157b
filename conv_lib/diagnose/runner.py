"""Calling the learner's function: its answer as numbers, or a Misconception.

Runner calls the function; a crash becomes [raises] with the arguments'
shapes, a missing return [no-return], an answer that is not numbers
[not-an-array], a function still unwritten one friendly line. In the visible
and the hidden check alike it watches, with sys.setprofile, for calls of
ready-made convolutions (scipy's, numpy's, torch's: READY_MADE_ELSEWHERE, or
conv_lib's functions the exercise asks the learner to write) and keeps them: the check's wrapper
(verdict.short_traceback) reports [reference-call] first among the check's
problems, runners_of_this_check() telling it which Runners the check made.
forbidden_by(check) tells the grader's independent check the same list.
"""

import os
import sys
from contextlib import contextmanager

import numpy as np

from .codes import Misconception

#: The ready-made convolutions of other libraries, by module: fnmatch patterns of the public
#: names that count ("*": every function of the module). Read by both checks: the notebook's
#: (here) watches numpy's named functions and every function in the folders of the other
#: modules (and torch's compiled functions with "conv" in their name); the grader's independent
#: check (autograder/integrity_harness.py) sets a tripwire on each name that matches.
READY_MADE_ELSEWHERE = {
    "numpy": ("convolve", "correlate"),
    "scipy.signal": ("*",),
    "scipy.ndimage": ("*",),
    "torch": ("*conv*",),
    "torch.nn.functional": ("*conv*",),
}
#: Where ready-made convolutions live. Code from these files called directly
#: by the learner's function counts as a reference call.
_LIBRARY_FOLDERS = tuple(
    os.sep + os.path.join(*module.split(".")) + os.sep for module in READY_MADE_ELSEWHERE
    if module != "numpy" and not any(module.startswith(other + ".") for other in READY_MADE_ELSEWHERE)
)
_NUMPY_CONVOLUTIONS = set(READY_MADE_ELSEWHERE["numpy"])
#: conv_lib's own folder (this package's parent): its functions named in forbidden_library_functions count too.
_OWN_FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _is_ready_made(code, forbidden_library_functions):
    """Is ``code`` a convolution the learner was asked to write themselves?"""
    filename = code.co_filename
    if filename.startswith(_OWN_FOLDER):
        return code.co_name in forbidden_library_functions
    if any(folder in filename for folder in _LIBRARY_FOLDERS):
        return True
    return "numpy" in filename and filename.endswith("numeric.py") and code.co_name in _NUMPY_CONVOLUTIONS


@contextmanager
def _watch_for_ready_made_calls(forbidden_library_functions):
    """Record ready-made convolutions called while the block runs (sys.setprofile).

    Yields a list that receives a readable name for each such call. Calls made
    *inside* another library (scipy calling its own helpers) are not counted; a
    forbidden conv_lib function counts wherever it is called from (a layer's
    forward calling conv2d, as the independent check's tripwires see it), except
    from another forbidden one (conv2d calling conv2d_fast: one call is enough).
    """
    seen = []

    def profile(frame, event, argument):
        if event == "call" and _is_ready_made(frame.f_code, forbidden_library_functions):
            caller = frame.f_back.f_code if frame.f_back else None
            inside_a_library = caller is not None and (
                caller.co_filename.startswith(_OWN_FOLDER) or _is_ready_made(caller, set())
            )
            if inside_a_library and frame.f_code.co_filename.startswith(_OWN_FOLDER):
                inside_a_library = caller.co_filename.startswith(_OWN_FOLDER) and caller.co_name in forbidden_library_functions
            if not inside_a_library:
                seen.append(f"{frame.f_globals.get('__name__', '?')}.{frame.f_code.co_name}")
        elif event == "c_call":  # PyTorch's convolutions are compiled functions
            name = getattr(argument, "__name__", "")
            if "torch" in str(getattr(argument, "__module__", "") or "") and "conv" in name:
                seen.append(f"torch's {name}")

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield seen
    finally:
        sys.setprofile(previous)


#: The Runners made by each check running now, innermost last (a stack: a check may run another).
_RUNNING_CHECKS = []


@contextmanager
def runners_of_this_check():
    """Collect the Runners made while the block runs: yields the list they are added to."""
    made = []
    _RUNNING_CHECKS.append(made)
    try:
        yield made
    finally:
        _RUNNING_CHECKS.remove(made)


class Runner:
    """Calls the learner's function and turns its answer into numbers or a Misconception.

    forbidden_library_functions: names of conv_lib functions the learner must not
    call (a hidden check reports them as [reference-call], like scipy's and
    torch's convolutions); None when any library call is allowed.
    ready_made: what such a call is, in the message ("convolution", "pooling");
    instead: the sentence after it, saying what to do instead.
    numbers_hidden: in a hidden check, a message that would show numbers is
    replaced by the sentences of its codes (see hidden_words).
    A ready-made call is kept in ready_made_calls, for the check's wrapper to report.
    """

    def __init__(self, function, name, hidden, forbidden_library_functions, hint="",
                 ready_made="convolution", numbers_hidden=False,
                 instead="Write the loops yourself: the point of this exercise is the rule, not the library."):
        self.function, self.name, self.hidden = function, name, hidden
        self.watch = forbidden_library_functions is not None
        self.forbidden = forbidden_library_functions or set()
        self.hint = hint  # added to the message when the learner's function crashes
        self.ready_made, self.numbers_hidden = ready_made, numbers_hidden
        self.instead = instead  # what a [reference-call] message asks for instead
        self.ready_made_calls = []
        if _RUNNING_CHECKS:
            _RUNNING_CHECKS[-1].append(self)

    def ready_made_message(self):
        return f"{self.name} calls {self.ready_made_calls[0]}, a ready-made {self.ready_made}. {self.instead}"

    def call(self, *args, **kwargs):
        if not self.watch:
            return self._call(args, kwargs)
        with _watch_for_ready_made_calls(self.forbidden) as seen:
            try:
                answer = self._call(args, kwargs)
            finally:
                self.ready_made_calls += [name for name in seen if name not in self.ready_made_calls]
        return answer

    def _call(self, args, kwargs):
        try:
            return self.function(*args, **kwargs)
        except NotImplementedError:
            raise NotImplementedError(f"write {self.name} first: it still raises NotImplementedError") from None
        except Misconception:
            raise
        except Exception as error:
            shown = ", ".join(_describe(a, self.hidden) for a in args)
            raise Misconception(
                ["raises"],
                f"{self.name}({shown}) raised {type(error).__name__}: {error}{self.hint}",
            ) from error

    def array(self, *args, **kwargs):
        """Call, then return the answer as a float64 array."""
        answer = self.call(*args, **kwargs)
        if answer is None:
            raise Misconception(["no-return"], f"{self.name} returned None: did you forget `return`?")
        try:
            array = np.array(answer, dtype=float)
        except (TypeError, ValueError):
            raise Misconception(
                ["not-an-array"],
                f"{self.name} must return a numpy array of numbers, got {type(answer).__name__}",
            ) from None
        return array


def _describe(value, hidden=False):
    """An argument as a crash message shows it: arrays by their shape; in a hidden check, nothing else."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    if isinstance(value, np.random.Generator):
        return "rng"
    if isinstance(value, (list, tuple)) and any(isinstance(item, np.ndarray) for item in value):
        inner = ", ".join(_describe(item, hidden) for item in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return "..." if hidden else repr(value)


ALL_CONVOLUTIONS = {"corr2d", "conv2d_multi_in", "conv2d", "conv2d_reference", "conv2d_fast"}


class _Probed(BaseException):
    """Stops a check at its first call of the learner's function (forbidden_by)."""


def forbidden_by(check):
    """The conv_lib functions a check forbids: its Runner's forbidden_library_functions
    (a set of names, empty when only other libraries' convolutions count), or None when
    its Runner watches no call at all. The grader's independent check reads them here,
    so that both checks enforce one list.

    How: the check runs with a stand-in function that stops it at its first call,
    once its Runner is made (cheap: no case has been computed yet).
    """
    runners = []

    def stand_in(*args, **kwargs):
        runners.extend(runner for runner in _RUNNING_CHECKS[-1] if runner.function is stand_in)
        raise _Probed

    try:
        check(stand_in)
    except _Probed:
        pass
    if not runners:
        raise ValueError(f"{getattr(check, '__name__', check)} never called the function it checks through a Runner")
    return set(runners[0].forbidden) if runners[0].watch else None


def whole_or_number(runner, answer, kind):
    """The learner's answer if it is a real number; otherwise a Misconception saying so."""
    if answer is None:
        raise Misconception(["no-return"], f"{runner.name} returned None: did you forget `return`?")
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        raise Misconception(["not-an-array"], f"{runner.name} must return one {kind}, got {type(answer).__name__}")
    return answer


def is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def is_whole(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
