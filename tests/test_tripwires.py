"""The independent check's tripwires (autograder/integrity_tripwires.py, make_tripwires): while a
graded function is called, every ready-made convolution it reaches (conv_lib's forbidden
functions at every level, numpy's, scipy's, torch's) is refused, recorded and reported, from any
thread and after any re-import; outside those calls, the library works as usual.

Tripwires change the modules of the process that sets them, so each test sets them in a fresh
Python process (SCRIPT_HEAD) and reads back what that process printed as JSON.
"""

import json
import subprocess
import sys
import textwrap

from autograder import integrity_tripwires
from notebook_tools import REPO

#: Sets tripwires as the harness does for conv2d_multi_in (its notebook check's forbidden names),
#: with a pipe as the harness's stderr, and defines attempt(label, function): calls function
#: with the tripwires armed for case `label` and says what happened.
SCRIPT_HEAD = '''
import json, os, sys, threading, importlib
import numpy as np
from autograder import integrity, integrity_tripwires as harness
from conv_lib.diagnose.runner import READY_MADE_ELSEWHERE

FORBIDDEN = integrity.forbidden_calls("conv2d_multi_in")
report_read, report_write = os.pipe()
tripwires = harness.make_tripwires(set(FORBIDDEN), {m: list(p) for m, p in READY_MADE_ELSEWHERE.items()},
                                   report_write)
import conv_lib, conv_lib.layers
x, w = np.arange(18.0).reshape(2, 3, 3), np.ones((2, 2, 2))
said = {}

def attempt(label, function, forbidden=FORBIDDEN):
    try:
        with tripwires.armed(label, forbidden):
            function()
        outcome = "returned"
    except harness.ReferenceCall:
        outcome = "ReferenceCall"
    except Exception as error:
        outcome = type(error).__name__
    said[label] = [outcome, tripwires.calls_in(label)]

def finish():
    os.close(report_write)
    said["reported"] = os.read(report_read, 100000).decode().splitlines()
    print(json.dumps(said))
'''


def run_script(body):
    """Run SCRIPT_HEAD + body + finish() in a fresh Python; return what it said (a dict)."""
    source = SCRIPT_HEAD + textwrap.dedent(body) + "\nfinish()\n"
    done = subprocess.run([sys.executable, "-c", source], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_armed_tripwire_refuses_records_and_reports_a_forbidden_conv_lib_call():
    said = run_script('attempt(1, lambda: conv_lib.conv2d_multi_in(x, w))')
    assert said["1"] == ["ReferenceCall", [["conv_lib.ops.conv2d_multi_in", "conv_lib.ops.conv2d_multi_in"]]]
    assert said["reported"] == ["reference-call 1 conv_lib.ops.conv2d_multi_in conv_lib.ops.conv2d_multi_in"]


def test_outside_the_calls_and_for_allowed_functions_the_library_works_as_usual():
    said = run_script('''
    said["outside"] = conv_lib.conv2d_multi_in(x, w).tolist() == conv_lib.conv2d_reference(x[None], w[None])[0, 0].tolist()
    said["numpy outside"] = np.convolve([1.0, 2.0], [1.0, 1.0]).tolist()
    attempt(2, lambda: conv_lib.corr2d(x[0], w[0]))     # allowed in conv2d_multi_in
    attempt(3, lambda: conv_lib.conv2d_multi_in(x, w), forbidden=["corr2d"])  # another exercise's list
    ''')
    assert said["outside"] is True and said["numpy outside"] == [1.0, 3.0, 2.0]
    assert said["2"] == ["returned", []] and said["3"] == ["returned", []]
    assert said["reported"] == []


def test_a_layer_that_reaches_a_forbidden_function_is_named_as_the_learner_called_it():
    said = run_script('''
    layer = conv_lib.layers.Conv2d(w[None], np.zeros(1))
    attempt(4, lambda: layer.forward(x[None]))
    ''')
    assert said["4"] == ["ReferenceCall", [["conv_lib.layers.Conv2d.forward", "conv_lib.ops.conv2d"]]]


def test_a_call_from_another_thread_is_recorded_and_its_error_swallowing_changes_nothing():
    said = run_script('''
    def swallowed():
        try:
            conv_lib.conv2d_multi_in(x, w)
        except BaseException:
            pass

    def in_a_thread():
        worker = threading.Thread(target=swallowed)
        worker.start()
        worker.join()

    def caught_as_exception():
        try:
            conv_lib.conv2d_multi_in(x, w)
        except Exception:
            pass

    attempt(5, in_a_thread)
    attempt(6, caught_as_exception)
    ''')
    assert said["5"][0] == "returned" and len(said["5"][1]) == 1
    assert said["6"][0] == "ReferenceCall", "except Exception does not swallow the tripwire"


def test_a_reload_a_fresh_import_or_a_private_module_meets_a_tripwire_too():
    said = run_script('''
    def reloaded():
        importlib.reload(conv_lib.ops).conv2d_multi_in(x, w)

    def imported_afresh():
        del sys.modules["conv_lib.ops"]
        import conv_lib.ops as fresh
        fresh.conv2d_multi_in(x, w)

    def private_scipy():
        from scipy.signal import _signaltools
        _signaltools.correlate(x, w, mode="valid")

    def numpy_inside():
        np._core.numeric.convolve([1.0, 2.0], [1.0])

    for label, function in enumerate([reloaded, imported_afresh, private_scipy, numpy_inside], start=7):
        attempt(label, function)
    ''')
    for label in ("7", "8", "9", "10"):
        assert said[label][0] == "ReferenceCall", (label, said[label])
    assert said["9"][1][0][1] == "scipy.signal._signaltools.correlate"
    assert said["10"][1][0][1] == "numpy.convolve"


def test_no_attribute_of_a_tripwire_or_of_the_module_leads_back_to_the_original():
    said = run_script('''
    import inspect
    tripwire = conv_lib.ops.conv2d_multi_in
    said["attributes"] = sorted(vars(tripwire))
    said["same everywhere"] = conv_lib.conv2d_multi_in is tripwire
    said["tripwires in ops"] = sorted(name for name, value in vars(conv_lib.ops).items()
                                      if callable(value) and getattr(value, "__code__", None) is tripwire.__code__)
    said["signature"] = str(inspect.signature(tripwire))
    said["module globals"] = sorted(name for name, value in vars(harness).items()
                                    if isinstance(value, (dict, list, set)) and not name.startswith("__"))
    ''')
    assert said["attributes"] == ["__signature__"], "no __wrapped__, nothing but the real signature"
    assert said["same everywhere"] is True
    assert set(said["tripwires in ops"]) == {"conv2d_multi_in", "conv2d", "conv2d_fast", "conv2d_reference"}
    assert said["signature"] == "(x, w, b=0.0, stride=1, dilation=1)"
    assert said["module globals"] == [], "the armed case, the originals and the record live in closures only"


def test_a_ready_made_call_is_named_with_library_names_only():
    assert integrity_tripwires.reference_call_record([("conv_lib.layers.Conv2d.forward", "conv_lib.ops.conv2d")]) == {
        "error": "ReferenceCall", "kinds": ["ReferenceCall", "BaseException"],
        "message": "conv_lib.layers.Conv2d.forward conv_lib.ops.conv2d"}


def test_the_students_output_goes_where_it_fills_nothing(tmp_path):
    """The harness sends fd 1 and 2 to /dev/null: 80 MB of output, under a 1 MB file-size limit, fail nothing."""
    source = (f"import os, sys; sys.path.insert(0, {str(REPO)!r})\n"
              "from autograder import integrity_harness\n"
              "integrity_harness.redirect_student_io()\n"
              "for _ in range(80):\n    print('.' * 2**20)\n"
              "os.write(2, b'x' * 2**20)\n")
    done = subprocess.run([sys.executable, "-c", source], cwd=tmp_path, capture_output=True, timeout=60,
                          preexec_fn=lambda: __import__("resource").setrlimit(
                              __import__("resource").RLIMIT_FSIZE, (2**20, 2**20)))
    assert done.returncode == 0, done.stderr[-2000:]
    assert list(tmp_path.iterdir()) == [] and done.stdout == b""
