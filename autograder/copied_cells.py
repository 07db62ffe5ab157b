"""A student's copies of an nbgrader cell: one copy stays the graded cell, the others become ordinary cells.

A student who copies and pastes a test cell or their answer cell gives the
notebook two cells with the same nbgrader metadata (the same grade_id), and
nbgrader cannot grade it: its DeduplicateIds preprocessor keeps the metadata
of the last copy and empties the others' (`nbgrader: {}`), and OverwriteCells,
looking for missing cells, then stops at the emptied cells with
`KeyError: 'grade_id'`. A careless paste would cost a correct notebook all
its points.

So the staged notebook is mended before nbgrader sees it, as DeduplicateIds
means to: of the copies of one cell, one keeps the nbgrader metadata and the
others lose it altogether, so every cell still runs, in the student's order.
The one kept is the last copy the student changed (its nbgrader checksum no
longer matches its source: an answer written into a pasted copy is the
answer), or the last copy when none was changed, as DeduplicateIds chooses.
A test cell's source is the course's wherever it stands (OverwriteCells puts
it back), so the choice only says where its checks run; the last copy runs
after every definition of the function above it. nbgrader metadata that names
no cell (no grade_id) is dropped the same way.
"""

from __future__ import annotations

from collections import defaultdict

from nbformat import NotebookNode


def _grade_id(cell: NotebookNode) -> str | None:
    """The grade_id of a cell's nbgrader metadata, or None when it has none that names a cell."""
    metadata = cell.get("metadata", {}).get("nbgrader")
    grade_id = metadata.get("grade_id") if isinstance(metadata, dict) else None
    return grade_id if isinstance(grade_id, str) and grade_id else None


def _shown(grade_id: str) -> str:
    """A grade_id (the student's notebook may hold any text there) safe to print on one line."""
    text = "".join(c if c.isprintable() else "?" for c in grade_id)
    return text if len(text) <= 80 else text[:79] + "…"


def _changed(cell: NotebookNode) -> bool:
    """Whether the student changed the cell since it was released: its checksum no longer matches."""
    from nbgrader.utils import compute_checksum

    recorded = cell.metadata.nbgrader.get("checksum")
    try:
        return recorded is not None and compute_checksum(cell) != recorded
    except (KeyError, TypeError, ValueError, AttributeError):  # metadata too damaged to say
        return False


def _kept(copies: list[int], notebook: NotebookNode) -> tuple[int, str]:
    """Which copy (a cell index) keeps the metadata, and why, in the note's words."""
    changed = [index for index in copies if _changed(notebook.cells[index])]
    if changed:
        return changed[-1], "the last one changed"
    return copies[-1], "the last copy"


def keep_one_copy(notebook: NotebookNode) -> list[str]:
    """Mend `notebook` in place: one graded cell per grade_id (see the module's docstring).

    Returns one sentence per mended cell, for the instructor: "the notebook
    holds 2 copies of the nbgrader cell 'conv2d_multi_in' (cells 14 and 15);
    cell 15 is graded (the last one changed), the other copy runs as an
    ordinary cell". Cell numbers count from 1, as Jupyter shows them.
    """
    copies = defaultdict(list)
    notes = []
    for index, cell in enumerate(notebook.cells):
        if "nbgrader" not in cell.get("metadata", {}):
            continue
        grade_id = _grade_id(cell)
        if grade_id is None:
            del cell.metadata["nbgrader"]
            notes.append(f"cell {index + 1} carries nbgrader metadata without a grade_id; it runs as an ordinary cell")
        else:
            copies[grade_id].append(index)
    for grade_id, indices in copies.items():
        if len(indices) < 2:
            continue
        kept, why = _kept(indices, notebook)
        for index in indices:
            if index != kept:
                del notebook.cells[index].metadata["nbgrader"]
        numbers = [str(index + 1) for index in indices]
        cells = ", ".join(numbers[:-1]) + " and " + numbers[-1]
        others = "the other copy runs as an ordinary cell" if len(indices) == 2 else \
            "the other copies run as ordinary cells"
        notes.append(f"the notebook holds {len(indices)} copies of the nbgrader cell '{_shown(grade_id)}' "
                     f"(cells {cells}); cell {kept + 1} is graded ({why}), {others}")
    return notes


def drop_unknown_cells(notebook: NotebookNode, source: NotebookNode) -> list[str]:
    """Mend `notebook` in place: a cell whose nbgrader metadata names a cell
    the course's source notebook does not have (a student's own "graded"
    cell, a renamed grade_id) runs as an ordinary cell. nbgrader would
    otherwise stop at it, and the points it claims never count anyway: the
    source says which cells are graded and how much.

    source: the assignment's nbgrader source notebook.
    Returns one sentence per such cell, for the instructor.
    """
    known = {grade_id for grade_id in map(_grade_id, source.cells) if grade_id}
    notes = []
    for index, cell in enumerate(notebook.cells):
        grade_id = _grade_id(cell)
        if grade_id is not None and grade_id not in known:
            del cell.metadata["nbgrader"]
            notes.append(f"cell {index + 1} claims to be the nbgrader cell '{_shown(grade_id)}', which the "
                         "assignment does not have; it runs as an ordinary cell")
    return notes
