"""OUT/similarity.csv: pairs of submissions worth a look for copying (issue 20).

A list for the instructor to read, never a verdict. Two signals, each row
saying which one found the pair and why:

  same rare code        the graded solution cells of two submissions of one
                        assignment are nearly the same after normalisation;
  same rare wrong answers (weaker)
                        two submissions fail the same hidden tests with the
                        same messages, and few others in the class fail so.

Same rare code. Each solution cell (a code cell with nbgrader metadata
{"solution": true, "grade_id": ...}) is parsed with `ast`, never run, and
walked to a sequence of tokens: node types, the names the cell binds
(arguments, variables, its own functions) as placeholders v1, v2, ...
numbered in order of first use, names it does not bind (np, range, corr2d)
and attributes (.shape) as they are, numbers by value when small, strings
only as "str"; comments, whitespace and docstrings leave no token. A cell
that does not parse is read with `tokenize` instead (every name a
placeholder), and a cell too large is skipped with a note.

Two cells are compared by their K-grams (runs of K tokens). What every
correct learner writes alike says nothing, so a shared K-gram weighs the
inverse of how many submissions hold it, less one (1 when only the pair has
it, 1/2 when one other does), and nothing at all when more than a tenth of
the class hold it (RARE_FRACTION) or the course's own solution or stub holds
it. A pair's score for a cell is the weight of the K-grams it shares over
the number of K-grams of the smaller of the two cells: 1.0 when one cell is
wholly inside the other and nobody else wrote any of it. A cell is worth a
look when

    score >= THRESHOLD (0.5)   and   the shared rare K-grams cover at least
                                     MIN_SHARED_TOKENS (40) tokens of it

so a short function (a one-line formula, a check everyone writes) is never
listed however alike: it cannot hold 40 tokens of material nobody else has.

Same rare wrong answers (weaker). The grade run keeps no learner's answers,
only each failing test's message in OUT/tests.csv (codes such as
[missing-bias] and the check's words, with the hidden numbers left out). A
submission's failure set is its failing tests with their messages, leaving
out what says nothing of an answer (an unanswered stub, a function not
defined, a limit of the grader, the independent check's verdicts). Two
submissions with the same failure set, held by at most a tenth of a class
of at least MIN_CLASS_FOR_ANSWERS submissions, are listed. The same
misconception does arise independently, hence "weaker".

Entry point: write_similarity(staging, out, ...) after OUT/tests.csv is
written and before the staging folder is removed. Student text is hostile:
the notebooks are read with size limits, never executed, every token
sequence is bounded, and the CSV goes through results.write_table.
"""

from __future__ import annotations

import ast
import io
import json
import math
import os
import re
import stat
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from . import results
from .release import SOLUTIONS

THRESHOLD = 0.5
"""The least score of a cell worth a look: the rare shared part over the smaller cell's K-grams."""
MIN_SHARED_TOKENS = 40
"""The least number of tokens of a cell that rare shared K-grams must cover to be worth a look."""
K = 10
"""Tokens in a K-gram."""
RARE_FRACTION = 0.1
"""A K-gram or failure set held by more than this share of a class (and by more than two) says nothing."""
MAX_RARE_HOLDERS = 12
"""However large the class, a K-gram held by more submissions than this is not rare (bounds the pairs counted)."""
MIN_CLASS_FOR_ANSWERS = 5
"""Fewer submissions of an assignment than this cannot tell a rare wrong answer from a common one."""
MAX_NOTEBOOK_BYTES = 20_000_000
MAX_CELL_CHARS = 50_000
"""A solution cell longer than this is not compared (a note says so)."""
MAX_TOKENS = 3_000
"""Only the first MAX_TOKENS tokens of a cell are compared."""
MAX_SOLUTION_CELLS = 50
MAX_NAME_CHARS = 40
SMALL_NUMBER = 16
"""Numbers up to this size keep their value in the token; larger ones are only "num"."""
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"  # as nbgrader_config's ClearSolutions.code_stub

COLUMNS = ["assignment", "student_a", "student_b", "signal", "score", "threshold", "worth_a_look_because"]
CODE_SIGNAL = "same rare code"
ANSWER_SIGNAL = "same rare wrong answers (weaker)"
#: Failing tests whose message says nothing of the learner's answer.
NOT_GRADED = ("missing", "invalid")
NOT_AN_ANSWER = re.compile(r"NotImplementedError|is not defined|^\[(?:limit|tampered)\]|^NameError")


# --------------------------------------------------------------------------
# Reading the solution cells
# --------------------------------------------------------------------------


@dataclass
class Cell:
    """One solution cell turned into tokens: how it was read ("ast" or "tokens") and the sequence."""

    grade_id: str
    how: str
    tokens: list


@dataclass
class Work:
    """One submission's solution cells, {grade_id: Cell}."""

    student_id: str
    assignment: str
    cells: dict = field(default_factory=dict)


def staged_notebooks(staging):
    """(student_id, assignment, path) of every staging/<student_id>/<assignment>/<assignment>.ipynb,
    sorted; symbolic links are not followed."""
    found = []
    root = Path(staging)
    for student in sorted(root.iterdir()) if root.is_dir() else []:
        if student.is_symlink() or not student.is_dir():
            continue
        for folder in sorted(student.iterdir()):
            notebook = folder / f"{folder.name}.ipynb"
            if not folder.is_symlink() and folder.is_dir() and notebook.is_file() and not notebook.is_symlink():
                found.append((student.name, folder.name, notebook))
    return found


def read_notebook(path):
    """The notebook at path as JSON data; raises ValueError with the reason when it is too large or not JSON."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ValueError("it is not a regular file")
        data = handle.read(MAX_NOTEBOOK_BYTES + 1)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"it is over {MAX_NOTEBOOK_BYTES // 1_000_000} MB")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise ValueError("it is not JSON") from error


def solution_sources(notebook):
    """{grade_id: source} of the notebook's solution code cells (the first of each grade_id), at most
    MAX_SOLUTION_CELLS; anything malformed is passed over."""
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    found = {}
    for cell in cells if isinstance(cells, list) else []:
        meta = cell.get("metadata") if isinstance(cell, dict) else None
        nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
        if not isinstance(nbgrader, dict) or nbgrader.get("solution") is not True or cell.get("cell_type") != "code":
            continue
        grade_id, source = nbgrader.get("grade_id"), cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if isinstance(grade_id, str) and 0 < len(grade_id) <= 100 and isinstance(source, str):
            found.setdefault(grade_id, source)
        if len(found) >= MAX_SOLUTION_CELLS:
            break
    return found


# --------------------------------------------------------------------------
# Normalising a cell to tokens
# --------------------------------------------------------------------------


def without_magics(source):
    """The source without IPython's %magic and !shell lines, which are not Python."""
    return "\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!")))


def number_token(value):
    """A number as a token: its value when small ("num 1", "num 0.0"), else only "num"."""
    if isinstance(value, bool) or value is None or value is Ellipsis:
        return repr(value)
    if isinstance(value, (int, float)) and abs(value) <= SMALL_NUMBER:
        return f"num {value!r}"
    return "str" if isinstance(value, (str, bytes)) else "num"


def bound_names(tree):
    """The names the cell itself binds: assigned, deleted, its functions' and classes' names and
    arguments, imports, exception and loop names."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


class Placeholders:
    """Names turned into v1, v2, ... in order of first use."""

    def __init__(self):
        self.given = {}

    def __call__(self, name):
        return self.given.setdefault(name, f"v{len(self.given) + 1}")


def is_bare_string(node):
    """A statement that is only a string: a docstring or a string used as a comment."""
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def node_token(node, bound, placeholder):
    """The token of one AST node: a name bound by the cell is a placeholder, other names stay."""
    if isinstance(node, ast.Name):
        return placeholder(node.id) if node.id in bound else node.id[:MAX_NAME_CHARS]
    if isinstance(node, ast.arg):
        return "arg " + placeholder(node.arg)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return f"{type(node).__name__} {placeholder(node.name)}"
    if isinstance(node, ast.Attribute):
        return "." + node.attr[:MAX_NAME_CHARS]
    if isinstance(node, ast.Constant):
        return number_token(node.value)
    if isinstance(node, ast.keyword):
        return f"{node.arg or '**'}="[:MAX_NAME_CHARS]
    if isinstance(node, ast.alias):
        return "import " + node.name[:MAX_NAME_CHARS]
    return type(node).__name__


def ast_tokens(tree, limit=MAX_TOKENS):
    """The cell's AST in pre-order as tokens (node_token), at most `limit`; loads, stores and bare
    strings leave none. Walked without recursion, so deep nesting cannot exhaust the stack."""
    bound, placeholder, tokens = bound_names(tree), Placeholders(), []
    stack = [tree]
    while stack and len(tokens) < limit:
        node = stack.pop()
        if not isinstance(node, ast.Module):
            tokens.append(node_token(node, bound, placeholder))
        children = [child for child in ast.iter_child_nodes(node)
                    if not isinstance(child, ast.expr_context) and not is_bare_string(child)]
        stack.extend(reversed(children))
    return tokens


def lexical_tokens(source, limit=MAX_TOKENS):
    """The tokens of source that does not parse, read with tokenize as far as it goes: keywords
    and attributes as they are, every other name a placeholder, no comments or blank lines."""
    import keyword

    placeholder, tokens, previous = Placeholders(), [], ""
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if len(tokens) >= limit:
                break
            kind, text = token.type, token.string
            if kind in (tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER):
                continue
            if kind == tokenize.NAME:
                text = text if keyword.iskeyword(text) else "." + text if previous == "." else placeholder(text)
            elif kind == tokenize.NUMBER:
                text = "num"
            elif kind == tokenize.STRING:
                text = "str"
            elif kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                text = tokenize.tok_name[kind]
            previous = token.string
            tokens.append(text[:MAX_NAME_CHARS])
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass  # keep what was read before the error
    return tokens


def cell_tokens(grade_id, source):
    """The Cell of one solution cell's source, or a str saying why it is not compared."""
    if len(source) > MAX_CELL_CHARS:
        return f"is {len(source) // 1000} kB, over the {MAX_CELL_CHARS // 1000} kB compared"
    source = without_magics(source)
    try:
        return Cell(grade_id, "ast", ast_tokens(ast.parse(source)))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tokens = lexical_tokens(source.replace("\0", " "))
        return Cell(grade_id, "tokens", tokens) if tokens else "could not be read as Python at all"


def read_work(student_id, assignment, path, notes):
    """The Work of one staged notebook; a problem becomes a note, never an error."""
    work = Work(student_id, assignment)
    try:
        sources = solution_sources(read_notebook(path))
    except (OSError, ValueError) as error:
        notes.append(f"similarity: {student_id}/{assignment} not compared: {error}")
        return work
    for grade_id, source in sources.items():
        cell = cell_tokens(grade_id, source)
        if isinstance(cell, str):
            notes.append(f"similarity: {student_id}/{assignment}: the cell {grade_id} {cell}; not compared")
        else:
            work.cells[grade_id] = cell
    return work


def reference_grams(assignment, references):
    """{grade_id: K-grams} of what no learner's copying makes: the course's solution cells and
    their stubs (the cell with its solution replaced by CODE_STUB), from references[assignment]
    or solutions/<assignment>/<assignment>.ipynb."""
    path = (references or {}).get(assignment, SOLUTIONS / assignment / f"{assignment}.ipynb")
    try:
        sources = solution_sources(read_notebook(path))
    except (OSError, ValueError):
        return {}
    grams = {}
    for grade_id, source in sources.items():
        stub = re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", CODE_STUB, source, flags=re.S)
        cells = [cell_tokens(grade_id, text) for text in (source, stub)]
        grams[grade_id] = set().union(*(kgrams(cell) for cell in cells if isinstance(cell, Cell)))
    return grams


# --------------------------------------------------------------------------
# Same rare code
# --------------------------------------------------------------------------


def kgrams(cell):
    """{K-gram hash: the positions where it starts} of a Cell (a cell shorter than K has one gram)."""
    tokens, found = cell.tokens, defaultdict(list)
    for start in range(max(len(tokens) - K + 1, 1)):
        found[hash((cell.how, *tokens[start:start + K]))].append(start)
    return found


def rare_limit(class_size):
    """The most submissions a K-gram or a failure set may be held by and still be rare."""
    return max(2, min(MAX_RARE_HOLDERS, math.floor(RARE_FRACTION * class_size)))


def gram_weights(holders, common, class_size):
    """{gram: weight} of the grams held by more than one submission: 1 / (holders - 1) when rare
    and not in `common` (the course's own), else 0."""
    limit = rare_limit(class_size)
    return {gram: (1 / (len(who) - 1) if len(who) <= limit and gram not in common else 0.0)
            for gram, who in holders.items() if len(who) > 1}


def covered_tokens(grams, shared):
    """How many tokens the K-grams `shared` cover in a cell whose grams are `grams`, and the longest
    run of covered tokens."""
    covered = set()
    for gram in shared:
        for start in grams[gram]:
            covered.update(range(start, start + K))
    longest = run = 0
    for position in range(max(covered, default=-1) + 1):
        run = run + 1 if position in covered else 0
        longest = max(longest, run)
    return len(covered), longest


@dataclass
class CellMatch:
    """Why one cell of a pair is worth a look."""

    grade_id: str
    score: float
    shared: int
    longest: int
    size: int
    how: str


def cell_matches(works, grade_id, common, threshold):
    """{(i, j): CellMatch} for the pairs of works (indices) whose cell grade_id is worth a look."""
    grams = {index: kgrams(work.cells[grade_id]) for index, work in enumerate(works) if grade_id in work.cells}
    holders = defaultdict(list)
    for index, found in grams.items():
        for gram in found:
            holders[gram].append(index)
    weights = gram_weights(holders, common, len(grams))
    weighed = defaultdict(float)
    for gram, weight in weights.items():
        if weight > 0:
            for pair in combinations(holders[gram], 2):
                weighed[pair] += weight
    found = {}
    for (a, b), total in weighed.items():
        smaller = a if len(grams[a]) <= len(grams[b]) else b
        score = total / len(grams[smaller])
        if score < threshold:
            continue
        rare = [gram for gram in grams[smaller] if weights.get(gram, 0) > 0 and gram in grams[a] and gram in grams[b]]
        shared, longest = covered_tokens(grams[smaller], rare)
        if shared >= MIN_SHARED_TOKENS:
            cell = works[smaller].cells[grade_id]
            how = "ast" if works[a].cells[grade_id].how == works[b].cells[grade_id].how == "ast" else "tokens"
            found[(a, b)] = CellMatch(grade_id, min(score, 1.0), shared, longest, len(cell.tokens), how)
    return found


def code_reason(matches, class_size):
    """The reason text of a pair listed for the same rare code."""
    parts = [f"{m.grade_id}: {m.shared} of its {m.size} tokens are in passages few others wrote, the longest "
             f"{m.longest} tokens long" + (" (compared as tokens: a cell does not parse)" if m.how == "tokens" else "")
             for m in matches]
    return ("solution cells nearly the same once comments, spacing and names are set aside, "
            f"in material rare among the {class_size} submissions: " + "; ".join(parts))


def code_pairs(works, references, threshold):
    """Rows (assignment, student_a, student_b, signal, score, threshold, reason) for the same rare code."""
    by_assignment = defaultdict(list)
    for work in works:
        by_assignment[work.assignment].append(work)
    rows = []
    for assignment, group in sorted(by_assignment.items()):
        common = reference_grams(assignment, references)
        pairs = defaultdict(list)
        for grade_id in sorted({grade_id for work in group for grade_id in work.cells}):
            for pair, match in cell_matches(group, grade_id, common.get(grade_id, set()), threshold).items():
                pairs[pair].append(match)
        for (a, b), matches in pairs.items():
            first, second = sorted((group[a].student_id, group[b].student_id))
            rows.append([assignment, first, second, CODE_SIGNAL, round(max(m.score for m in matches), 2),
                         threshold, code_reason(matches, len(group))])
    return rows


# --------------------------------------------------------------------------
# Same rare wrong answers (the weaker signal)
# --------------------------------------------------------------------------


def shown_message(message, limit=120):
    """A student-made message as the reason quotes it: one line, printable, at most `limit` characters."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in message).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def failure_sets(test_lines, statuses=None):
    """{(student, assignment): frozenset of (grade_id, message)} of the failing tests that say something
    of an answer, and {assignment: how many submissions were graded}, from tests.csv's lines.
    statuses: {(student, assignment): status} from grades.csv; a missing or invalid submission,
    which nothing was graded of, counts in neither."""
    failures, submissions = defaultdict(set), defaultdict(set)
    for line in test_lines:
        key = (line.get("student_id", ""), line.get("assignment", ""))
        if (statuses or {}).get(key) in NOT_GRADED:
            continue
        submissions[key[1]].add(key[0])
        message = " ".join((line.get("message") or "").split())
        try:
            failing = float(line.get("points") or 0) < float(line.get("max_points") or 0)
        except ValueError:
            continue
        if failing and message and not NOT_AN_ANSWER.search(message):
            failures[key].add((line.get("grade_id", ""), message[:1000]))
    return ({key: frozenset(found) for key, found in failures.items()},
            {assignment: len(students) for assignment, students in submissions.items()})


def answer_pairs(test_lines, statuses=None):
    """Rows for pairs whose failure sets agree exactly, a set few others in the class hold
    (statuses: as failure_sets)."""
    failures, class_sizes = failure_sets(test_lines, statuses)
    holders = defaultdict(list)
    for (student, assignment), found in sorted(failures.items()):
        holders[(assignment, found)].append(student)
    rows = []
    for (assignment, found), students in sorted(holders.items(), key=lambda item: (item[0][0], item[1])):
        size = class_sizes[assignment]
        if size < MIN_CLASS_FOR_ANSWERS or not 2 <= len(students) <= rare_limit(size):
            continue
        tests = "; ".join(f"{grade_id}: {shown_message(message)}" for grade_id, message in sorted(found))
        reason = (f"the same failing tests with the same messages, which {len(students)} of the {size} submissions "
                  f"share (a weaker signal: one misconception can arise independently): {tests}")
        for first, second in combinations(sorted(students), 2):
            rows.append([assignment, first, second, ANSWER_SIGNAL, round(1 / (len(students) - 1), 2), "", reason])
    return rows


# --------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------


def as_notebooks(staging_or_notebooks):
    """(student_id, assignment, path) from a staging folder, or from submissions (submissions.Submission,
    or (student_id, assignment, path) tuples); a submission without a notebook is left out."""
    if isinstance(staging_or_notebooks, (str, os.PathLike)):
        return staged_notebooks(staging_or_notebooks)
    found = []
    for item in staging_or_notebooks:
        student, assignment, path = (item if isinstance(item, tuple)
                                     else (item.student_id, item.assignment, item.notebook))
        if path is not None:
            found.append((student, assignment, Path(path)))
    return found


def find_pairs(staging_or_notebooks, test_lines=(), threshold=THRESHOLD, references=None, notes=None,
               statuses=None):
    """The rows of similarity.csv (COLUMNS), sorted by assignment, signal and score, highest first.

    test_lines: tests.csv's lines (results.read_table), for the weaker signal, and statuses
    grades.csv's {(student, assignment): status} (results.read_statuses); references:
    {assignment: source notebook} whose code is the course's own (default: solutions/);
    notes: a list that gets a sentence for each notebook or cell not compared."""
    notes = [] if notes is None else notes
    works = [read_work(student, assignment, path, notes) for student, assignment, path in
             as_notebooks(staging_or_notebooks)]
    rows = code_pairs(works, references, threshold) + answer_pairs(test_lines, statuses)
    return sorted(rows, key=lambda row: (row[0], row[3], -row[4], row[1], row[2]))


def write_similarity(staging_or_notebooks, out, threshold=THRESHOLD, references=None, notes=None):
    """Write OUT/similarity.csv: pairs of submissions worth a look (see the module's docstring), and
    return its path. Reads OUT/tests.csv and grades.csv when there, for the weaker signal; the staging
    folder (or the submissions) gives the notebooks. An empty list still has its header."""
    out = Path(out)
    tests = out / "tests.csv"
    test_lines = results.read_table(tests) if tests.is_file() else []
    rows = find_pairs(staging_or_notebooks, test_lines, threshold, references, notes, results.read_statuses(out))
    path = out / "similarity.csv"
    results.write_table(path, COLUMNS, rows)
    return path
