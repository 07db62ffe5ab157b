"""One exercise, one description: every graded function has an Exercise, and its two checks agree.

Each graded function is checked twice: by the notebook's check (conv_lib.diagnose,
visible to the learner and run hidden by nbgrader, in the learner's kernel) and
by the independent check (autograder/integrity.py, outside that kernel). Both
read one description, the function's Exercise in conv_lib.diagnose.EXERCISES.
Here:

* every graded function of every assignment in solutions/ has its Exercise, and
  every Exercise its solution cell and its test cell, which runs its check;
* the solution passes both checks, and both call the function the same way;
* on every wrong implementation the tests hold (tests/test_diagnose*.py,
  test_integrity_*.py, test_nbgrader_end_to_end.py), the independent check is
  never stricter than the hidden check (else an honest learner would be called
  tampered), and the hidden check is never stricter than the independent one,
  except for the rule about how an answer is made: no ready-made call
  ([reference-call]). The grader's independent check enforces that rule with
  tripwires set in its sandboxed process (autograder/integrity_tripwires.py,
  tests/test_tripwires.py, tests/attacks_reference_calls.py); its in-process
  run here sets none, so here it compares numbers only.

The independent check runs here in-process: its cases are encoded as the
grader encodes them, called by the harness's own run_cases and judged by the
grader's own judge; only the sandbox around it is left out.
"""

import ast
import inspect

import nbformat
import pytest

import conv_lib
from autograder import integrity
from autograder.feedback import is_autograder_test_cell
from conv_lib import diagnose
from conv_lib.diagnose import EXERCISES, Misconception
from integrity_tools import SEED_TEXTS, independent_problem
from notebook_tools import (
    NOTEBOOKS,
    SOLUTIONS,
    defined,
    grade_id,
    graded_assignments,
    is_solution_cell,
    solution_namespace,
    solution_notebook,
)

BY_NAME = {exercise.name: exercise for exercise in EXERCISES}


def graded_functions(notebook):
    """{function name: its test cell's source} for each solution code cell that an autograded test cell grades."""
    tests = {grade_id(cell): cell.source for cell in notebook.cells if is_autograder_test_cell(cell)}
    return {grade_id(cell): tests[f"{grade_id(cell)}_tests"] for cell in notebook.cells
            if cell.cell_type == "code" and is_solution_cell(cell) and f"{grade_id(cell)}_tests" in tests}


def hidden_options(exercise):
    """The keyword arguments with which nbgrader's hidden test cell calls the check (seed=..., hidden=True)."""
    source = graded_functions(solution_notebook(exercise.assignment))[exercise.name]
    hidden_block = source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
    (call,) = [node for node in ast.walk(ast.parse(hidden_block))
               if isinstance(node, ast.Call) and ast.unparse(node.func) == f"diagnose.check_{exercise.name}"]
    return {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}


def notebook_codes(exercise, function, hidden):
    """The codes the notebook's check gives (hidden: as nbgrader's test cell runs it); None if it passes."""
    options = hidden_options(exercise) if hidden else {}
    try:
        exercise.check(function, **options)
    except Misconception as error:
        return error.codes
    return None


def recording(function, calls):
    """function, which also records how it is called: (number of positional arguments, keyword names)."""

    def recorded(*args, **kwargs):
        calls.add((len(args), tuple(sorted(kwargs))))
        return function(*args, **kwargs)

    return recorded


# --------------------------------------------------------------------------
# Every graded function is described once
# --------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", graded_assignments(SOLUTIONS))
def test_every_graded_function_of_the_solutions_has_its_exercise(assignment):
    graded = graded_functions(solution_notebook(assignment))
    described = {exercise.name for exercise in diagnose.exercises_of(assignment)}
    assert set(graded) == described, f"graded in {assignment}: {sorted(graded)}; described: {sorted(described)}"
    for name, test_source in graded.items():
        exercise = BY_NAME[name]
        assert exercise.check is getattr(diagnose, f"check_{name}")
        assert f"diagnose.check_{name}({name}" in test_source.split("### BEGIN HIDDEN TESTS")[0], "the visible check"
        assert hidden_options(exercise).get("hidden") is True, "the hidden test cell runs the check hidden"


def test_every_exercise_is_graded_in_its_notebook_under_one_name():
    names = [exercise.name for exercise in EXERCISES]
    assert len(names) == len(set(names))
    for exercise in EXERCISES:
        assert exercise.name in graded_functions(solution_notebook(exercise.assignment)), exercise
        assert exercise.signature.startswith(f"{exercise.name}("), exercise.signature
        assert exercise.test_cell == f"{exercise.name}_tests"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_the_signature_is_the_one_the_solution_and_the_released_notebook_define(name):
    exercise = BY_NAME[name]
    declared = f"{name}{inspect.signature(solution_namespace(exercise.assignment)[name])}"
    assert exercise.signature.startswith(declared + ":") or exercise.signature.startswith(declared + " ->")
    released = nbformat.read(NOTEBOOKS / exercise.assignment / f"{exercise.assignment}.ipynb", as_version=4)
    (stub,) = [cell for cell in released.cells if grade_id(cell) == name]
    assert f"def {declared}:" in stub.source, "the learner starts from the same signature"


def test_the_independent_check_takes_its_cases_from_the_exercises_in_order():
    for assignment in graded_assignments(SOLUTIONS):
        functions = [case.function for case in integrity.cases_for(assignment, "any")]
        in_order = [name for index, name in enumerate(functions) if index == 0 or functions[index - 1] != name]
        assert in_order == [exercise.name for exercise in diagnose.exercises_of(assignment)]
    assert integrity.TEST_CELL == {exercise.name: f"{exercise.name}_tests" for exercise in EXERCISES}
    assert integrity.cases_for("demo", "any") == []


# --------------------------------------------------------------------------
# The solution passes both checks, called the same way
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_the_solution_passes_both_checks_which_call_it_alike(name, tmp_path):
    exercise = BY_NAME[name]
    solution = solution_namespace(exercise.assignment)[name]
    by_the_notebook, by_the_grader = set(), set()
    assert notebook_codes(exercise, recording(solution, by_the_notebook), hidden=False) is None
    assert notebook_codes(exercise, recording(solution, by_the_notebook), hidden=True) is None
    for seed_text in SEED_TEXTS:
        assert independent_problem(exercise, recording(solution, by_the_grader), seed_text, tmp_path) == ""
    assert by_the_grader <= by_the_notebook, "the independent check calls it in a way the notebook's check never does"


# --------------------------------------------------------------------------
# Neither check is stricter than the other on the wrong implementations the tests hold
# --------------------------------------------------------------------------


def held_wrong_implementations():
    """(label, exercise name, function or ("source", assignment, source)) for every wrong implementation
    that the test suite holds."""
    import test_diagnose
    import test_diagnose_groups_depthwise
    import test_diagnose_learning
    import test_diagnose_stack
    import test_diagnose_vgg16
    import test_integrity_learning
    import test_integrity_stack_vgg16
    from test_nbgrader_end_to_end import WRONG_SUBMISSIONS

    held = [(f"{module.__name__}:{wrong.__name__}", name, wrong)
            for module in (test_diagnose, test_diagnose_stack, test_diagnose_vgg16, test_diagnose_learning,
                           test_diagnose_groups_depthwise)
            for name, wrong, _, _ in module.WRONG]
    held += [(f"test_integrity_stack_vgg16:{label}", name, ("source", assignment, source))
             for label, (assignment, name, source, _) in test_integrity_stack_vgg16.WRONG_ANSWERS.items()]
    held += [(f"test_integrity_learning:{label}", name, ("source", "06_learning_filters", source))
             for label, (name, source, _) in test_integrity_learning.WRONG_ANSWERS.items()]
    held += [(f"test_nbgrader_end_to_end:{assignment}/{student}:{name}", name, ("source", assignment, source))
             for assignment, students in WRONG_SUBMISSIONS.items()
             for student, sources in students.items() for name, source in sources.items()]
    return held


HELD = held_wrong_implementations()


def as_function(name, held):
    if isinstance(held, tuple):
        _, assignment, source = held
        return defined(assignment, name, source)
    return held


def counts_as_ints(function):
    """function, with a whole-number float answer (3.0) turned into an int (3)."""

    def as_int(*args, **kwargs):
        answer = function(*args, **kwargs)
        return int(answer) if isinstance(answer, float) and answer.is_integer() else answer

    return as_int


def refused_for_a_rule_of_its_own(exercise, function, hidden_codes):
    """Is the hidden check's refusal one the independent check leaves to it? The independent check
    compares numbers; two rules are about how an answer is made or typed, not its numbers: no
    ready-made call ([reference-call]), and a count is an int (3, not 3.0)."""
    if set(hidden_codes) == {"reference-call"}:
        return True
    return notebook_codes(exercise, counts_as_ints(function), hidden=True) is None


@pytest.mark.parametrize("name, held", [(name, held) for _, name, held in HELD], ids=[label for label, _, _ in HELD])
def test_neither_check_is_stricter_than_the_other(name, held, tmp_path):
    exercise = BY_NAME[name]
    function = as_function(name, held)
    hidden = notebook_codes(exercise, function, hidden=True)
    independent = [independent_problem(exercise, function, seed_text, tmp_path) for seed_text in SEED_TEXTS]
    if any(independent):
        assert hidden is not None, f"passes nbgrader's hidden check but fails the independent one: {independent}"
    if hidden is not None and not all(independent):
        assert refused_for_a_rule_of_its_own(exercise, function, hidden), (
            f"fails nbgrader's hidden check {hidden} but passes the independent one")


def test_the_held_wrong_implementations_cover_every_exercise():
    assert {name for _, name, _ in HELD} == set(BY_NAME)


def test_a_ready_made_call_is_the_notebook_checks_rule_alone(tmp_path):
    """The exception above, shown: conv_lib's own conv2d gives the right numbers, so the notebook's
    checks refuse it for the call they watch, and the independent check's numbers alone (without the
    tripwires the sandboxed harness sets) pass it."""
    def conv2d(x, w, b, stride=1, padding=0):
        return conv_lib.conv2d(x, w, b, stride=stride, padding=padding)

    exercise = BY_NAME["conv2d"]
    assert notebook_codes(exercise, conv2d, hidden=False) == ("reference-call",)
    assert notebook_codes(exercise, conv2d, hidden=True) == ("reference-call",)
    assert independent_problem(exercise, conv2d, SEED_TEXTS[0], tmp_path) == ""


def test_a_count_returned_as_a_float_is_the_hidden_checks_rule_alone(tmp_path):
    """The other exception: the right receptive field as 3.0 is refused by the notebook's check (a count
    is an int) and passed by the independent check, which compares numbers."""
    exercise = BY_NAME["receptive_field"]
    right = solution_namespace(exercise.assignment)["receptive_field"]

    def receptive_field(layers):
        return float(right(layers))

    assert notebook_codes(exercise, receptive_field, hidden=True) == ("not-an-array",)
    assert independent_problem(exercise, receptive_field, SEED_TEXTS[0], tmp_path) == ""
    assert refused_for_a_rule_of_its_own(exercise, receptive_field, ("not-an-array",))


# --------------------------------------------------------------------------
# Nothing passes in the notebook that grading fails
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name, held", [(name, held) for _, name, held in HELD], ids=[label for label, _, _ in HELD])
def test_a_wrong_answer_the_hidden_check_refuses_fails_the_visible_check_with_the_same_codes(name, held):
    """The learner sees in the notebook every reason for which grading takes the points: each kind of
    hidden case has a visible sibling, and the visible check watches for ready-made calls too."""
    exercise = BY_NAME[name]
    function = as_function(name, held)
    hidden = notebook_codes(exercise, function, hidden=True)
    if hidden is not None:
        assert notebook_codes(exercise, function, hidden=False) == hidden
