"""Regenerate the student notebooks in notebooks/ from the nbgrader sources in solutions/.

    python -m autograder.release                     # every assignment (what `make release` runs)
    python -m autograder.release 01_single_channel   # only the ones named

Each folder solutions/<assignment>/ holding a notebook is an assignment.
nbgrader's own `generate_assignment` does the work: it replaces each solution
by a `raise NotImplementedError()` stub, removes the hidden tests, clears the
outputs, locks the read-only cells, and copies every other file of the folder
(data, images) alongside. notebooks/<assignment>/ is replaced as a whole.

The result is byte-for-byte the same on every run: nbgrader keeps each cell's
id, its checksums are hashes of the cell content, and it writes no timestamp.
The one source of randomness is a cell without an id in an nbformat 4.5
notebook (nbformat invents one at every read), so `release` refuses such a
notebook and says how to fix it.

By default the assignments are also recorded in the gradebook,
autograder/gradebook.db (not in git), so that `nbgrader autograde` can grade
submissions right after a release.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from .new_gradebook import start_gradebook

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "autograder" / "nbgrader_config.py"
SOLUTIONS = REPO / "solutions"
NOTEBOOKS = REPO / "notebooks"
GRADEBOOK = REPO / "autograder" / "gradebook.db"


class ReleaseError(RuntimeError):
    """Raised when the notebooks cannot be generated; the message says why."""


def notebooks_in(folder):
    """The notebooks directly inside folder, sorted, as nbgrader matches them
    (its `*.ipynb` glob skips hidden files)."""
    return sorted(Path(p) for p in glob.glob(os.path.join(glob.escape(str(folder)), "*.ipynb")))


def find_assignments(source_root=SOLUTIONS):
    """The assignments in source_root: the names of its folders that hold a
    notebook, sorted. Hidden folders (.ipynb_checkpoints) do not count."""
    root = Path(source_root)
    if not root.is_dir():
        return []
    return sorted(
        entry.name for entry in root.iterdir()
        if entry.is_dir() and not entry.name.startswith(".") and notebooks_in(entry)
    )


def nbgrader_env(base=None):
    """The environment for an nbgrader process. nbgrader's gradebook runs the
    `alembic` command by name, so the scripts folder of this Python (the
    venv's bin/) goes first on PATH, even when the venv is not activated."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = sysconfig.get_path("scripts") + os.pathsep + env.get("PATH", "")
    return env


def config_flag(config_file=CONFIG):
    """The command-line flag that makes nbgrader read config_file. nbgrader
    wants the path without `.py` (and silently ignores `--config`)."""
    path = os.path.abspath(os.fspath(config_file))
    if path.endswith(".py"):
        path = path[: -len(".py")]
    return f"--NbGrader.config_file={path}"


def run_nbgrader(*args, config_file=CONFIG, cwd=None, check=True, timeout=None):
    """Run `nbgrader ARGS...` with this Python and the course config; return
    the CompletedProcess (output captured as text). With check, a non-zero
    exit raises ReleaseError carrying nbgrader's output."""
    command = [sys.executable, "-m", "nbgrader", *map(str, args), config_flag(config_file)]
    result = subprocess.run(
        command, cwd=cwd, env=nbgrader_env(), capture_output=True, text=True, timeout=timeout,
    )
    if check and result.returncode != 0:
        raise ReleaseError(
            f"nbgrader failed (exit {result.returncode}): {' '.join(command)}\n"
            f"{result.stdout}{result.stderr}"
        )
    return result


def cells_without_id(path):
    """Indices of the cells of an nbformat >= 4.5 notebook that have no id."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    if (notebook.get("nbformat"), notebook.get("nbformat_minor", 0)) < (4, 5):
        return []  # ids came with 4.5; older notebooks have none and get none
    return [i for i, cell in enumerate(notebook.get("cells", [])) if not cell.get("id")]


def _check_cell_ids(source_root, names):
    problems = []
    for name in names:
        for path in notebooks_in(Path(source_root) / name):
            missing = cells_without_id(path)
            if missing:
                problems.append(f"  {path}: cell(s) {', '.join(map(str, missing))}")
    if problems:
        raise ReleaseError(
            "These nbformat 4.5 notebooks have cells without an id, which nbformat would\n"
            "replace by a random one at every release, so notebooks/ would change each time:\n"
            + "\n".join(problems)
            + "\nGive each cell an id once (open and save the notebook in JupyterLab, or run\n"
            + '  python -c "import nbformat, sys; nbformat.write(nbformat.read(sys.argv[1], 4), sys.argv[1])" NOTEBOOK\n'
            + "), then release again."
        )


def release(source_root=SOLUTIONS, release_root=NOTEBOOKS, assignments=None, *,
            gradebook=GRADEBOOK, config_file=CONFIG):
    """Generate the student version of each assignment of source_root into
    release_root/<assignment>/ with `nbgrader generate_assignment --force`.

    assignments: names to release; None means every assignment found in
    source_root. gradebook: the sqlite file in which nbgrader records the
    assignments and their tests (needed later by `nbgrader autograde`), or None
    to release without touching any gradebook (nbgrader's --no-db).

    Returns the names released. Raises ReleaseError if an assignment is not
    found or nbgrader fails.
    """
    source_root = Path(source_root).resolve()
    release_root = Path(release_root).resolve()
    available = find_assignments(source_root)
    if assignments is None:
        names = available
    else:
        names = list(dict.fromkeys(assignments))
        unknown = [name for name in names if name not in available]
        if unknown:
            raise ReleaseError(
                f"no such assignment in {source_root}: {', '.join(unknown)} "
                f"(found: {', '.join(available) or 'none'})"
            )
    if not names:
        return []
    _check_cell_ids(source_root, names)

    # nbgrader joins the course root with the source and release folders and
    # finds the assignment in each source path with a regular expression in
    # which only the root is escaped: so the root is the source's parent, the
    # source is a plain folder name in it, and the release folder may be
    # anywhere (relative to the root, `..` included).
    root = source_root.parent
    flags = [
        f"--CourseDirectory.root={root}",
        f"--CourseDirectory.source_directory={source_root.name}",
        f"--CourseDirectory.release_directory={os.path.relpath(release_root, root)}",
        "--force",
    ]
    if gradebook is None:
        flags.append("--no-db")
    else:
        start_gradebook(gradebook)  # without nbgrader's alembic process
        flags.append(f"--CourseDirectory.db_url=sqlite:///{Path(gradebook).resolve()}")

    # One nbgrader process (about 2 s to start) for all assignments when all
    # are wanted; "*" matches the same folders as find_assignments.
    batches = [["*"]] if names == available else [[name] for name in names]
    for batch in batches:
        run_nbgrader("generate_assignment", *batch, *flags, config_file=config_file, cwd=root)

    missing = [name for name in names if not notebooks_in(release_root / name)]
    if missing:
        raise ReleaseError(f"nbgrader wrote no notebook for: {', '.join(missing)}")
    return names


def stale_releases(source_root=SOLUTIONS, release_root=NOTEBOOKS):
    """Folders of release_root holding notebooks whose assignment is no longer
    in source_root (renamed or removed)."""
    return sorted(set(find_assignments(release_root)) - set(find_assignments(source_root)))


def _display(path):
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m autograder.release",
        description="Regenerate the student notebooks from the nbgrader sources with nbgrader generate_assignment.",
    )
    parser.add_argument("assignments", nargs="*", help="assignments to release (default: every folder of the source)")
    parser.add_argument("--source", default=SOLUTIONS, type=Path, help="nbgrader sources (default: solutions/)")
    parser.add_argument("--release", default=NOTEBOOKS, type=Path, help="where the student versions go (default: notebooks/)")
    parser.add_argument("--no-db", action="store_true", help="do not record the assignments in autograder/gradebook.db")
    args = parser.parse_args(argv)

    try:
        names = release(
            args.source, args.release, args.assignments or None,
            gradebook=None if args.no_db else GRADEBOOK,
        )
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not names:
        print(f"No assignments in {_display(args.source)}/ yet: nothing to release.")
        return 0
    for name in names:
        files = sorted(p for p in (args.release / name).rglob("*") if p.is_file())
        print(f"released {name}: {', '.join(_display(p) for p in files)}")
    for name in stale_releases(args.source, args.release):
        print(
            f"warning: {_display(args.release / name)}/ has no source in {_display(args.source)}/; "
            "delete it if that assignment was renamed or removed.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
