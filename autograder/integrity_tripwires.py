"""The independent check's tripwires: ready-made convolutions refused while a graded function runs.

Copied with integrity_harness.py into the check's folder and imported by it
there (standard library and conv_lib only, never the `autograder` package).
Before the student's cells run, the harness calls make_tripwires: each
ready-made convolution (conv_lib's functions that some case forbids, at every
level a learner can reach them, a layer's forward included; numpy's, scipy's
and torch's, as conv_lib.diagnose.runner.READY_MADE_ELSEWHERE lists them) is
replaced by a tripwire, in every module that holds it, and again whenever such
a module is imported afresh or reloaded (SweepingFinder). A tripwire is armed
only while the harness calls a graded function: armed, a call from any thread
is recorded, reported at once on the harness's own stderr (which the grader
reads from outside the sandbox) and refused with ReferenceCall; disarmed (a
picture the notebook draws with conv_lib.conv2d), it calls the original.

What one process cannot stop: code that digs the originals out of closures
(`__closure__`), frames or the garbage collector, rewrites the harness's own
functions, or redirects the report's descriptor on purpose; C-level
convolutions reached without a Python name (numpy's _multiarray_umath).
"""

import fnmatch
import importlib.util
import inspect
import os
import sys
import types
from contextlib import contextmanager

#: The error name recorded for a case whose function called a ready-made convolution.
REFERENCE_CALL = "ReferenceCall"
#: A tripwire's report on the harness's own stderr, which the grader reads outside the sandbox:
#: the case, what the graded function called, and the ready-made function that ran.
REPORT = "reference-call {index} {entry} {called}\n"


class ReferenceCall(BaseException):
    """Raised by a tripwire: the function being checked called a ready-made convolution.

    A BaseException, so that a student's `except Exception:` does not swallow it;
    the call is recorded before it is raised, so swallowing it changes nothing.
    """


def library_place(module_name):
    """Where a module's code lives (its folder + os.sep for a package, else its .py file),
    found without importing it (torch takes seconds); "" when it is not installed."""
    top, *rest = module_name.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return ""
    if spec is None or not spec.submodule_search_locations:
        return ""
    path = os.path.join(list(spec.submodule_search_locations)[0], *rest)
    if os.path.isdir(path):
        return path + os.sep
    return path + ".py" if os.path.isfile(path + ".py") else ""


def defined_in(function):
    """The name of the module whose code defines function (numpy._core.numeric for numpy.convolve,
    a C dispatcher around a Python function), or None."""
    for candidate in (function, getattr(function, "__wrapped__", None)):
        module = getattr(candidate, "__globals__", {}).get("__name__")
        if isinstance(module, str):
            return module
    return None


class SweepAfterLoading:
    """A module's loader, and a sweep for tripwires as soon as the module has run
    (an import, a re-import after `del sys.modules[...]`, or importlib.reload)."""

    def __init__(self, loader, sweep):
        self.loader, self.sweep = loader, sweep

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        self.sweep()

    def __getattr__(self, name):
        return getattr(self.loader, name)


class SweepingFinder:
    """First on sys.meta_path: the modules the tripwires concern load through SweepAfterLoading."""

    def __init__(self, concerns, sweep):
        self.concerns, self.sweep = concerns, sweep

    def find_spec(self, name, path=None, target=None):
        if not self.concerns(name):
            return None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                        spec.loader = SweepAfterLoading(spec.loader, self.sweep)
                    return spec
        return None


def make_tripwires(conv_lib_names, elsewhere, report_fd):
    """Tripwires on the ready-made convolutions, set before any student cell runs.

    conv_lib_names: the conv_lib functions some case forbids (a function of conv_lib's folder
        with such a name, a method too, is a tripwire: the notebook's check counts it so);
    elsewhere: {module: fnmatch patterns of public names} (conv_lib.diagnose.runner's
        READY_MADE_ELSEWHERE): each matching callable of the module, and for "*" every public
        function of its folder (a private submodule, a reloaded copy);
    report_fd: the harness's own stderr: each call is written there at once.

    Returns a namespace of three functions:
        sweep(namespace=None)    put tripwires in place of the ready-made functions of the loaded
                                 modules concerned (and of namespace, a dict); runs by itself
                                 after each such module loads (SweepingFinder);
        armed(index, forbidden)  a context manager: while it lasts, a tripwire whose function is
                                 forbidden (conv_lib's: its name in forbidden; the others: always)
                                 records the call as case index's, from whatever thread, reports
                                 it on report_fd and raises ReferenceCall; otherwise, and outside
                                 it (a picture drawn with conv_lib.conv2d), it calls the original;
        calls_in(index)          [(what was called, the ready-made function that ran)] of a case.
    The originals, the armed case and the record live in these closures only: no module global
    and no attribute of a tripwire (no __wrapped__) leads to them.
    """
    import conv_lib  # the library to guard, in place before any student cell

    own = os.path.dirname(os.path.abspath(conv_lib.__file__)) + os.sep
    places = {module: library_place(module) for module in elsewhere}
    every_function = tuple(places[module] for module, patterns in elsewhere.items() if "*" in patterns and places[module])
    library = tuple(place for place in (own, *places.values()) if place)
    guarded, tripwire_ids, tripwire_codes = {}, set(), set()  # id(original) -> (original, tripwire)
    current, record = [None], []  # (case index, forbidden names) while armed; (index, entry, called)

    def kind_of(name, value, home):
        """"conv_lib", "elsewhere" or None: is `value`, bound to `name` in module `home`, ready-made?"""
        if name.startswith("_") or id(value) in tripwire_ids or isinstance(value, type) or not callable(value):
            return None
        code = getattr(value, "__code__", None)
        file = code.co_filename if isinstance(code, types.CodeType) else ""
        if file.startswith(own):
            return "conv_lib" if getattr(value, "__name__", "") in conv_lib_names else None
        if isinstance(value, types.FunctionType) and file.startswith(every_function):
            return "elsewhere"
        if home in elsewhere and not isinstance(value, types.ModuleType):
            return "elsewhere" if any(fnmatch.fnmatchcase(name, pattern) for pattern in elsewhere[home]) else None
        return None

    def entry_point(frame):
        """The outermost library function above a tripwire (conv_lib.layers.Conv2d.forward), or None."""
        entry = None
        while frame is not None and (frame.f_code in tripwire_codes or frame.f_code.co_filename.startswith(library)):
            if frame.f_code not in tripwire_codes:
                entry = frame
            frame = frame.f_back
        return entry and f"{entry.f_globals.get('__name__', '?')}.{entry.f_code.co_qualname}"

    def tripwire(original, kind):
        if id(original) in guarded:
            return guarded[id(original)][1]
        name = getattr(original, "__name__", "")
        called = f"{getattr(original, '__module__', None) or '?'}.{getattr(original, '__qualname__', name)}"

        def stand_in(*args, **kwargs):
            case = current[0]
            if case is not None and (kind == "elsewhere" or name in case[1]):
                entry = entry_point(sys._getframe(1)) or called
                first = not any(index == case[0] for index, _, _ in record)
                record.append((case[0], entry, called))
                try:
                    if first:  # one line per case: the grader keeps the end of stderr only
                        os.write(report_fd, REPORT.format(index=case[0], entry=entry, called=called).encode())
                except OSError:
                    pass
                raise ReferenceCall(f"{entry} is a ready-made convolution")
            return original(*args, **kwargs)

        for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
            try:
                setattr(stand_in, attribute, getattr(original, attribute))
            except (AttributeError, TypeError):
                pass
        try:
            stand_in.__signature__ = inspect.signature(original)  # describe() shows the real one
        except (TypeError, ValueError):
            pass
        guarded[id(original)] = (original, stand_in)
        tripwire_ids.add(id(stand_in))
        tripwire_codes.add(stand_in.__code__)
        return stand_in

    def guard(names, home, assign):
        """Replace each ready-made function among names ({name: value}) by its tripwire, with assign(name, tripwire)."""
        for name, value in list(names.items()):
            kind = "known" if id(value) in guarded else kind_of(name, value, home)
            if kind:
                assign(name, tripwire(value, kind))

    verdicts = {}  # (name, file or None) -> concerns' answer, which depends on nothing else

    def concerns(name, module=None):
        file = getattr(module, "__file__", None) or ""
        key = (name, file if isinstance(file, str) else None)
        if key not in verdicts:
            verdicts[key] = (name in elsewhere or name == "conv_lib" or name.startswith("conv_lib.")
                             or any(name.startswith(other + ".") for other in elsewhere if "*" in elsewhere[other])
                             or (isinstance(file, str) and file.startswith(every_function + (own,))))
        return verdicts[key]

    def homes():
        """The loaded modules concerned, and those where a guarded original was defined (numpy._core.numeric)."""
        found = {name for name, module in list(sys.modules.items()) if concerns(name, module)}
        return found | {defined_in(original) for original, _ in guarded.values()}

    def sweep(namespace=None):
        swept = {None}
        while todo := homes() - swept:
            for home in sorted(todo):
                module = sys.modules.get(home)
                if not isinstance(module, types.ModuleType):
                    continue
                guard(vars(module), home, lambda name, stand_in, module=module: setattr(module, name, stand_in))
                if home == "conv_lib" or home.startswith("conv_lib."):
                    for cls in [value for value in vars(module).values() if isinstance(value, type)]:
                        if cls.__module__ == home:
                            guard(dict(vars(cls)), None, lambda name, stand_in, cls=cls: setattr(cls, name, stand_in))
            swept |= todo
        if namespace is not None:
            guard(namespace, None, namespace.__setitem__)

    @contextmanager
    def armed(index, forbidden):
        current[0] = (index, frozenset(forbidden))
        try:
            yield
        finally:
            current[0] = None

    def calls_in(index):
        return [(entry, called) for case, entry, called in list(record) if case == index]

    sys.meta_path.insert(0, SweepingFinder(concerns, sweep))
    sweep()
    return types.SimpleNamespace(sweep=sweep, armed=armed, calls_in=calls_in)


def reference_call_record(calls):
    """The error record of a case whose function called ready-made convolutions: [(entry, called)]."""
    entry, called = calls[0]
    return {"error": REFERENCE_CALL, "kinds": [REFERENCE_CALL, "BaseException"],
            "message": entry if entry == called else f"{entry} {called}"}
