"""The notebooks run.

Solutions: every solutions/ notebook must run clean from top to bottom. That
is done by nbval inside `make test` itself: pyproject.toml puts solutions/ in
pytest's testpaths and passes `--nbval-lax --nbval-current-env`, so each
notebook is collected as one test per code cell, run in a kernel of this very
Python, and a cell that raises fails with its own name. (Lax: outputs are
not compared, since solutions/ is committed without outputs.) The first test
below only guards that wiring.

Student versions: every notebooks/ notebook, run as a student would before
writing anything, must fail only where the student has work to do: in a
solution cell or an autograder test cell, and only with the
NotImplementedError of an unfinished function. And it must not give away
the solutions or the hidden tests.
"""

import subprocess
import sys
import tomllib

import pytest
from notebook_tools import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    NOTEBOOKS,
    REPO,
    SOLUTIONS,
    TOY,
    assignment_params,
    errors,
    execute_notebook,
    find_assignments,
    first_line,
    is_solution_cell,
    is_test_cell,
    notebooks_in,
    read_notebook,
    release,
    secret_lines,
    solution_notebooks,
    text_lines,
    write_toy_assignment,
)


def released_counterpart(source):
    return NOTEBOOKS / source.parent.name / source.name


# --- solutions/: run by nbval as part of `make test` --------------------------------------


def test_make_test_runs_every_solutions_notebook_with_nbval():
    pytest_config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "solutions" in pytest_config["testpaths"]
    assert "notebooks" not in pytest_config["testpaths"], "student notebooks fail by design: never run them with nbval"
    options = pytest_config["addopts"].split()
    assert "--nbval-lax" in options and "--nbval-current-env" in options

    sources = [path for name in find_assignments(SOLUTIONS) for path in solution_notebooks(name)]
    if not sources:
        pytest.skip("no notebooks in solutions/ yet")
    # Collect as `make test` does (no paths: the testpaths), without running.
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    ).stdout
    for path in sources:
        relative = path.relative_to(REPO).as_posix()
        assert f"{relative}::Cell 0" in collected, f"nbval does not collect {relative}:\n{collected[-3000:]}"
    assert "notebooks/" not in collected.replace("solutions/", "")


# --- notebooks/: what a student gets -----------------------------------------------------


def unexpected_errors(notebook):
    """Each error of an executed student notebook that is not the
    NotImplementedError of an unfinished function in a solution or test
    cell, described with its cell index and first line."""
    problems = []
    for index, cell, error in errors(notebook):
        allowed_cell = (is_solution_cell(cell) and cell.cell_type == "code") or is_test_cell(cell)
        if allowed_cell and error.ename == "NotImplementedError":
            continue
        kind = "solution cell" if is_solution_cell(cell) else "autograder test cell" if is_test_cell(cell) else "plain cell"
        problems.append(f"cell {index} ({kind}) `{first_line(cell.source)}`: {error.ename}: {error.evalue}")
    return problems


def leaks(released, source):
    """Lines of the solutions or hidden tests of source that appear in the
    released notebook, and any of their markers left in it."""
    text = "\n".join(cell.source for cell in released.cells)
    found = [marker for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN) if marker in text]
    lines = text_lines(text)
    found += sorted(secret_lines(source) & lines)
    for cell in released.cells:
        if is_solution_cell(cell) and cell.cell_type == "markdown" and cell.source.strip() != "YOUR ANSWER HERE":
            found.append(f"written answer {cell.metadata.nbgrader.grade_id} is not cleared: {first_line(cell.source)}")
    return found


@pytest.mark.parametrize("assignment", assignment_params())
def test_student_notebook_fails_only_where_the_student_has_work_to_do(assignment):
    for source in solution_notebooks(assignment):
        released = released_counterpart(source)
        assert released.exists(), f"{released.relative_to(REPO)} is missing: run `make release`"
        problems = unexpected_errors(execute_notebook(released))
        assert not problems, (
            f"{released.relative_to(REPO)}, run as released, fails outside the student's work "
            "(guard such cells, e.g. try/except NotImplementedError, or use conv_lib):\n" + "\n".join(problems)
        )


@pytest.mark.parametrize("assignment", assignment_params())
def test_student_notebook_gives_away_no_solution_and_no_hidden_test(assignment):
    for source in solution_notebooks(assignment):
        released = released_counterpart(source)
        assert released.exists(), f"{released.relative_to(REPO)} is missing: run `make release`"
        found = leaks(read_notebook(released), read_notebook(source))
        assert not found, f"{released.relative_to(REPO)} shows:\n" + "\n".join(found)


@pytest.mark.parametrize("assignment", assignment_params())
def test_student_notebook_has_no_outputs(assignment):
    for path in notebooks_in(NOTEBOOKS / assignment):
        for index, cell in enumerate(read_notebook(path).cells):
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} cell {index} has outputs"


# --- the checks themselves, on a toy assignment ------------------------------------------


def test_the_checks_pass_a_good_release_and_catch_a_teaching_cell_that_needs_student_code(tmp_path):
    write_toy_assignment(tmp_path / "solutions")
    write_toy_assignment(tmp_path / "solutions", "toy_bad", teaching_cell_calls_student_code=True)
    release(tmp_path / "solutions", tmp_path / "notebooks", gradebook=None)

    good = tmp_path / "notebooks" / TOY / f"{TOY}.ipynb"
    assert unexpected_errors(execute_notebook(good)) == []
    assert leaks(read_notebook(good), read_notebook(tmp_path / "solutions" / TOY / f"{TOY}.ipynb")) == []

    bad = execute_notebook(tmp_path / "notebooks" / "toy_bad" / "toy_bad.ipynb")
    assert unexpected_errors(bad) == ["cell 8 (plain cell) `print(square(5))`: NotImplementedError: "]

    # A release that kept a hidden test and a solution would be caught.
    source = read_notebook(tmp_path / "solutions" / TOY / f"{TOY}.ipynb")
    found = leaks(source, source)
    assert BEGIN_HIDDEN in found and BEGIN_SOLUTION in found
    assert 'raise Misconception("[sign-lost] double(-7) should be -14")' in found
    assert "return x * x" in found and "Doubling adds a number to itself once more." in found
