"""Where each misconception code can be raised, read from the checks' own source with ast.

Nothing here is listed by hand. Every module of this package is parsed (never
imported) and:

    the graded functions  are its Exercise records, `NAME = Exercise(assignment, name,
                          signature, check, ...)` at the top of a module; the assignment
                          ("02_multi_channel") is the notebook;
    a check's codes       are the string constants that are keys of CODES in the check's
                          definition, and in every top-level definition it refers to by
                          name: a function, class or constant of its own module, or one it
                          imports from another module of this package (`from .runner import
                          Runner`), followed as far as the references go.

So a code written in multi_channel.single_filter_candidates counts for notebook 02
and, because many_filters and conv_pool_stack call that function, for 03 and 04; the
codes of runner.Runner count in every notebook whose check makes a Runner. The
definition of CODES itself (the sentences) is not followed: it names every code and
raises none.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
from pathlib import Path

from .codes import CODES
from .exercise import Exercise

PACKAGE_FOLDER = Path(__file__).resolve().parent
#: The package's absolute name, for `from conv_lib.diagnose.runner import Runner`.
PACKAGE_NAME = __name__.rpartition(".")[0]
#: The sentences' own definition (module, name): it lists every code and raises none.
SENTENCES = ("codes", "CODES")
#: Exercise's fields in order, to read its records' positional arguments.
EXERCISE_FIELDS = tuple(field.name for field in dataclasses.fields(Exercise))


@dataclasses.dataclass(frozen=True)
class Record:
    """One `NAME = Exercise(...)` found in the source: its module (short name), assignment, name and check."""

    module: str
    assignment: str
    name: str
    check: str


def module_names():
    """The short names of the package's modules ("runner", "multi_channel", ...), sorted."""
    return tuple(sorted(path.stem for path in PACKAGE_FOLDER.glob("*.py") if not path.stem.startswith("__")))


@functools.cache
def parsed(module):
    """(definitions, imports) of one module of the package.

    definitions: {top-level name: [its def, class or assignment statements]};
    imports: {local name: (module, name)} for names imported from the package's
    modules, name None when the module itself is imported (`from . import verdict`).
    """
    path = PACKAGE_FOLDER / f"{module}.py"
    if not path.is_file():
        raise ValueError(f"expected a module of {PACKAGE_NAME} ({PACKAGE_FOLDER}), but there is no {path.name}")
    definitions, imports = {}, {}
    for node in ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            definitions.setdefault(node.name, []).append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        definitions.setdefault(name.id, []).append(node)
        elif isinstance(node, ast.ImportFrom):
            source = _package_module(node)
            for alias in node.names:
                local = alias.asname or alias.name
                if source is not None:
                    imports[local] = (source, alias.name)
                elif _is_the_package(node):
                    imports[local] = (alias.name, None)
    return definitions, imports


def _is_the_package(node):
    """Does `from X import ...` import from this package itself (`from . import verdict`)?"""
    return (node.level == 1 and not node.module) or (node.level == 0 and node.module == PACKAGE_NAME)


def _package_module(node):
    """The short name of the package's module that `from X import ...` reads, or None for anything else."""
    if node.level == 1 and node.module:
        return node.module.split(".")[0]
    if node.level == 0 and node.module and node.module.startswith(PACKAGE_NAME + "."):
        return node.module[len(PACKAGE_NAME) + 1:].split(".")[0]
    return None


@functools.cache
def codes_raised_by(module, name):
    """The codes that the top-level definition `name` of `module` can raise, as a frozenset.

    The string constants that are keys of CODES in its definition and in every
    definition it refers to, in its module or, through imports, in the package's others.
    """
    found, seen, waiting = set(), set(), [(module, name)]
    while waiting:
        place = waiting.pop()
        if place in seen or place == SENTENCES:
            continue
        seen.add(place)
        where, what = place
        definitions, imports = parsed(where)
        if what in imports:
            if imports[what][1] is not None:
                waiting.append(imports[what])
            continue
        for statement in definitions.get(what, ()):
            for node in ast.walk(statement):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in CODES:
                    found.add(node.value)
                elif isinstance(node, ast.Name):
                    waiting.append((where, node.id))
                elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                    imported = imports.get(node.value.id)
                    if imported is not None and imported[1] is None:  # verdict.fail, after `from . import verdict`
                        waiting.append((imported[0], node.attr))
    return frozenset(found)


def _exercise_arguments(call):
    """{field: argument node} of an `Exercise(...)` call, positional and keyword arguments alike."""
    arguments = dict(zip(EXERCISE_FIELDS, call.args))
    arguments.update((keyword.arg, keyword.value) for keyword in call.keywords if keyword.arg)
    return arguments


def _constant(node, module, field):
    """The string of a constant argument; a ValueError naming the module when it is not one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    raise ValueError(f"{module}.py: expected the Exercise's {field} as a string constant, "
                     f"but it is {ast.unparse(node) if node is not None else 'missing'}")


def exercise_records():
    """Every `NAME = Exercise(...)` at the top of the package's modules, as Records, by module then line."""
    records = []
    for module in module_names():
        definitions, _ = parsed(module)
        statements = sorted({id(node): node for nodes in definitions.values() for node in nodes}.values(),
                            key=lambda node: node.lineno)
        for statement in statements:
            call = getattr(statement, "value", None)
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == Exercise.__name__):
                continue
            arguments = _exercise_arguments(call)
            check = arguments.get("check")
            if not isinstance(check, ast.Name):
                raise ValueError(f"{module}.py: expected the Exercise's check as the name of a function, "
                                 f"but it is {ast.unparse(check) if check is not None else 'missing'}")
            records.append(Record(module, _constant(arguments.get("assignment"), module, "assignment"),
                                  _constant(arguments.get("name"), module, "name"), check.id))
    return tuple(records)


def where_raised():
    """{code: ((assignment, function name), ...)} for every code of CODES, in CODES's order.

    The graded functions whose check can raise the code, by assignment, then as the
    records are found; () for a code that no check raises.
    """
    records = sorted(exercise_records(), key=lambda record: record.assignment)
    found = {code: [] for code in CODES}
    for record in records:
        for code in codes_raised_by(record.module, record.check):
            found[code].append((record.assignment, record.name))
    return {code: tuple(places) for code, places in found.items()}


def notebooks_of_codes():
    """{code: (assignment, ...)}: the notebooks in which each code of CODES can appear, sorted; () for none."""
    return {code: tuple(sorted({assignment for assignment, _ in places})) for code, places in where_raised().items()}
