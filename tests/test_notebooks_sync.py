"""The student notebooks in notebooks/ are exactly what `make release` makes
of the nbgrader sources in solutions/, and the release itself is repeatable."""

import json
from pathlib import Path

import pytest
from notebook_tools import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    NOTEBOOKS,
    SOLUTIONS,
    TOY,
    ReleaseError,
    assignment_params,
    find_assignments,
    notebooks_in,
    release,
    write_toy_assignment,
)

FIX = (
    "run `make release` to regenerate notebooks/ from solutions/, and commit both.\n"
    "(A student who has been answering the notebooks in notebooks/ sees this failure because "
    "those answers differ from the release: do NOT run `make release` then, it overwrites them.)"
)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """Every assignment of solutions/ released afresh into a temporary folder
    (one nbgrader run, no gradebook touched)."""
    folder = tmp_path_factory.mktemp("regenerated") / "notebooks"
    release(SOLUTIONS, folder, gradebook=None)
    return folder


def files_under(folder):
    """Relative paths of the files of an assignment folder, as nbgrader copies
    them (checkpoints and caches are not part of a release)."""
    skip = {".ipynb_checkpoints", "__pycache__"}
    return sorted(
        str(path.relative_to(folder)) for path in Path(folder).rglob("*")
        if path.is_file() and not skip & set(path.relative_to(folder).parts)
    )


def notebook_content(path):
    """What must be equal in two releases of a notebook: its JSON content.

    Ignored: only the file's layout (indentation, key order, a final newline),
    which nbformat versions and editors write differently and which carries no
    content. Nothing inside the notebook is ignored, because nbgrader's output
    holds nothing volatile: measured, two releases are equal byte for byte
    (each cell keeps the id it has in solutions/, nbgrader's checksums are
    hashes of cell content, and generate_assignment writes no timestamp; the
    one random part, ids nbformat invents for cells without one, is refused by
    autograder.release). So any difference is a real one: a solutions/
    notebook changed without a release, or a hand edit in notebooks/.
    """
    return json.loads(Path(path).read_text(encoding="utf-8"))


def first_difference(expected, actual, where="notebook"):
    """A readable pointer to the first place two JSON values differ."""
    if type(expected) is not type(actual):
        return f"{where}: {expected!r:.200} != {actual!r:.200}"
    if isinstance(expected, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                return f"{where}.{key}: missing from notebooks/"
            if key not in expected:
                return f"{where}.{key}: in notebooks/ but not in a fresh release"
            found = first_difference(expected[key], actual[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        for index, (a, b) in enumerate(zip(expected, actual)):
            found = first_difference(a, b, f"{where}[{index}]")
            if found:
                return found
        if len(expected) != len(actual):
            return f"{where}: {len(expected)} items in a fresh release, {len(actual)} in notebooks/"
        return None
    return None if expected == actual else f"{where}: fresh release {expected!r:.200}, notebooks/ {actual!r:.200}"


def test_every_source_has_a_student_notebook_and_every_student_notebook_a_source():
    sources, released = find_assignments(SOLUTIONS), find_assignments(NOTEBOOKS)
    if not sources and not released:
        pytest.skip("no assignments in solutions/ or notebooks/ yet")
    assert sources == released, (
        f"assignments in solutions/: {sources}; in notebooks/: {released}. "
        f"Delete folders of notebooks/ whose source was renamed or removed, then {FIX}"
    )
    for name in sources:
        source_names = [p.name for p in notebooks_in(SOLUTIONS / name)]
        released_names = [p.name for p in notebooks_in(NOTEBOOKS / name)]
        assert source_names == released_names, f"{name}: solutions/ has {source_names}, notebooks/ has {released_names}; {FIX}"


@pytest.mark.parametrize("assignment", assignment_params())
def test_student_notebooks_are_what_make_release_makes(assignment, regenerated):
    fresh, committed = regenerated / assignment, NOTEBOOKS / assignment
    assert committed.is_dir(), f"notebooks/{assignment}/ is missing; {FIX}"
    assert files_under(committed) == files_under(fresh), (
        f"notebooks/{assignment}/ holds {files_under(committed)}, a fresh release {files_under(fresh)}; {FIX}"
    )
    for relative in files_under(fresh):
        if relative.endswith(".ipynb"):
            difference = first_difference(notebook_content(fresh / relative), notebook_content(committed / relative))
            assert difference is None, f"notebooks/{assignment}/{relative} is out of date ({difference}); {FIX}"
        else:
            assert (fresh / relative).read_bytes() == (committed / relative).read_bytes(), (
                f"notebooks/{assignment}/{relative} differs from solutions/{assignment}/{relative}; {FIX}"
            )


# --- the release machinery itself, on a toy assignment -------------------------------


def test_release_is_repeatable_byte_for_byte_and_copies_the_other_files(tmp_path):
    write_toy_assignment(tmp_path / "solutions")
    first = tmp_path / "first"
    assert release(tmp_path / "solutions", first, gradebook=None) == [TOY]
    release(tmp_path / "solutions", tmp_path / "second", gradebook=None)

    assert files_under(first / TOY) == ["data.txt", f"{TOY}.ipynb"]
    for relative in files_under(first / TOY):
        assert (first / TOY / relative).read_bytes() == (tmp_path / "second" / TOY / relative).read_bytes(), relative

    text = (first / TOY / f"{TOY}.ipynb").read_text()
    assert BEGIN_HIDDEN not in text and BEGIN_SOLUTION not in text
    assert "raise NotImplementedError()" in text and "YOUR ANSWER HERE" in text


def test_release_refuses_cells_without_an_id_rather_than_invent_random_ones(tmp_path):
    path = write_toy_assignment(tmp_path / "solutions")
    notebook = json.loads(path.read_text())
    del notebook["cells"][2]["id"]
    path.write_text(json.dumps(notebook))
    with pytest.raises(ReleaseError, match=r"toy\.ipynb: cell\(s\) 2"):
        release(tmp_path / "solutions", tmp_path / "notebooks", gradebook=None)


def test_release_names_an_unknown_assignment(tmp_path):
    write_toy_assignment(tmp_path / "solutions")
    with pytest.raises(ReleaseError, match="no such assignment .*: 99_nope"):
        release(tmp_path / "solutions", tmp_path / "notebooks", ["99_nope"], gradebook=None)
