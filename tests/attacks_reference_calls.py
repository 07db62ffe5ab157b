"""Attacks on the your-own-loops rule: ready-made convolutions called where the notebook's check cannot see them.

The notebook's check watches the calls of the function it checks with sys.setprofile, in the
learner's kernel, where the learner can switch it off, call from a thread it does not watch,
or swallow its failure. The independent check sets tripwires on the ready-made convolutions
before the learner's cells run, in its own process: each of these passes inside the notebook
and must score 0 with a [reference-call] message naming what it called (status `tampered`: the
pass the notebook reported was false).
A layer class's forward, which calls conv_lib's conv2d from inside the library, is counted by the
notebook's check too (as the tripwires count it): that one fails in the notebook, status as usual.
Beside them, honest notebooks the tripwires must leave alone: conv_lib's convolutions used
outside the graded function (the notebook's own demonstrations), and a correct function that
prints a flood (the check's output counts against no limit).

See tests/attack_set.py for how an attack is written and graded."""

from attack_set import notebook_attack
from submission_set import FORGE_PASSES, MULTI_POINTS, WAITS, answered, correct, with_cell_after

TEST_CELL = "conv2d_multi_in_tests"
CAUGHT = "[reference-call] conv2d_multi_in: case"

PROFILER_OFF = '''
def conv2d_multi_in(x, w, b=0.0):
    import sys
    sys.setprofile(None)  # the notebook's check watches with a profiler: switch it off
    return conv_lib.conv2d_multi_in(x, w, b)
'''

FROM_A_THREAD = '''
def conv2d_multi_in(x, w, b=0.0):
    import threading
    answer = {}

    def work():  # a profiler watches one thread; this one is not it
        try:
            answer["map"] = conv_lib.conv2d_multi_in(x, w, b)
        except BaseException as error:
            answer["error"] = error

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    if "error" in answer:
        raise answer["error"]
    return answer["map"]
'''

THROUGH_A_LAYER = '''
def conv2d_multi_in(x, w, b=0.0):
    from conv_lib.layers import Conv2d  # its forward calls conv_lib's conv2d from inside the library
    if w.shape[0] != x.shape[0]:
        raise ValueError(f"w has {w.shape[0]} channels, x has {x.shape[0]}")
    layer = Conv2d(np.asarray(w, dtype=float)[None], np.array([float(b)]))
    return layer.forward(np.asarray(x, dtype=float)[None])[0, 0]
'''

SCIPY_FROM_A_THREAD = '''
def conv2d_multi_in(x, w, b=0.0):
    import threading
    from scipy import signal
    if w.shape[0] != x.shape[0]:
        raise ValueError(f"w has {w.shape[0]} channels, x has {x.shape[0]}")
    answer = {}
    worker = threading.Thread(target=lambda: answer.update(map=signal.correlate(x, w, mode="valid")[0]))
    worker.start()
    worker.join()
    return answer["map"] + b
'''

LIBRARY_CALL = '''
def conv2d_multi_in(x, w, b=0.0):
    return conv_lib.conv2d_multi_in(x, w, b)
'''

RELOADED = '''
def conv2d_multi_in(x, w, b=0.0):
    import importlib, sys
    import conv_lib.ops
    sys.setprofile(None)
    fresh = importlib.reload(conv_lib.ops)  # new function objects, which no tripwire was set on
    return fresh.conv2d_multi_in(x, w, b)
'''

USES_THE_LIBRARY_OUTSIDE = '''
# The notebook's own demonstration: conv_lib's convolution, outside the graded function.
def library_map(image, kernel):
    return conv_lib.conv2d(image[None], kernel[None], np.zeros(1))[0, 0]

demo = np.arange(2 * 5 * 5, dtype=float).reshape(2, 5, 5)
print(library_map(demo, np.ones((2, 3, 3))))
print(conv_lib.conv2d_multi_in(demo, np.ones((2, 3, 3))))
'''

PRINTS_A_FLOOD = '''
_printed = []

def conv2d_multi_in(x, w, b=0.0):
    if not _printed:  # once: about 70 MB of progress output, a MB at a time
        _printed.append(True)
        for _ in range(70):
            print("." * 2**20, flush=True)
    if w.shape[0] != x.shape[0]:
        raise ValueError(f"w has {w.shape[0]} channels, x has {x.shape[0]}")
    out = corr2d(x[0], w[0])
    for c in range(1, x.shape[0]):
        out = out + corr2d(x[c], w[c])
    return out + b
'''


def message_of(run, student):
    """The tests.csv row of conv2d_multi_in_tests for student: (points, message)."""
    (row,) = [row for row in run.tests[(student, "02_multi_channel")] if row["grade_id"] == TEST_CELL]
    return float(row["points"]), row["message"]


def caught_calling(name):
    """verify: conv2d_multi_in_tests scores 0 and its message starts with [reference-call] and names `name`."""

    def verify(run, attack):
        points, message = message_of(run, attack.student)
        assert points == 0.0, (attack.student, points, message)
        assert message.startswith(CAUGHT), (attack.student, message)
        assert name in message, (attack.student, name, message)

    return verify


def named_by_both(run, attack):
    """verify: conv2d_multi_in_tests scores 0 in nbgrader's own run (the notebook's check named the call),
    so no check had to overrule a pass."""
    points, message = message_of(run, attack.student)
    assert points == 0.0 and "a ready-made convolution" in message, (attack.student, points, message)


def keeps_full_marks(run, attack):
    """verify: the test passed and no check overruled it."""
    points, message = message_of(run, attack.student)
    assert (points, message) == (MULTI_POINTS, ""), (attack.student, points, message)


def attacks():
    """This module's attacks (attack_set.Attack)."""
    dodge = "reference call the notebook's check cannot see"
    return [
        notebook_attack("refcall_profiler_off", dodge, answered({"conv2d_multi_in": PROFILER_OFF}),
                        "tampered", 0.0, CAUGHT, caught_calling("conv_lib.ops.conv2d_multi_in")),
        notebook_attack("refcall_thread", dodge, answered({"conv2d_multi_in": FROM_A_THREAD}),
                        "tampered", 0.0, CAUGHT, caught_calling("conv_lib.ops.conv2d_multi_in")),
        # A layer's forward runs conv_lib's conv2d from inside the library: the notebook's check
        # counts it as the tripwires do, so the notebook says so before grading does.
        notebook_attack("refcall_layer", "reference call through a layer class, named in the notebook too",
                        answered({"conv2d_multi_in": THROUGH_A_LAYER}), WAITS, 0.0,
                        "[reference-call] conv2d_multi_in calls conv_lib.ops.conv2d", named_by_both),
        notebook_attack("refcall_scipy_thread", dodge, answered({"conv2d_multi_in": SCIPY_FROM_A_THREAD}),
                        "tampered", 0.0, CAUGHT, caught_calling("scipy.signal")),
        notebook_attack("refcall_swallowed", dodge,
                        with_cell_after(answered({"conv2d_multi_in": LIBRARY_CALL}), "conv2d_multi_in", FORGE_PASSES),
                        "tampered", 0.0, CAUGHT, caught_calling("conv_lib.ops.conv2d_multi_in")),
        notebook_attack("refcall_reloaded", dodge, answered({"conv2d_multi_in": RELOADED}),
                        "tampered", 0.0, CAUGHT, caught_calling("conv_lib.ops.conv2d_multi_in")),
        notebook_attack("library_outside_the_function", "honest use of conv_lib outside the graded function",
                        with_cell_after(correct(), "setup", USES_THE_LIBRARY_OUTSIDE),
                        WAITS, MULTI_POINTS, verify=keeps_full_marks),
        notebook_attack("prints_a_flood", "honest function printing past the check's file-size limit",
                        answered({"conv2d_multi_in": PRINTS_A_FLOOD}), WAITS, MULTI_POINTS, verify=keeps_full_marks),
    ]
