"""The project's own modules import each other in layers, never in a circle.

Every module of autograder/ and conv_lib/ (subpackages included) is parsed
with `ast`, and every import between them is an edge: absolute and relative,
at the top of a module or inside a function. `from package import name` leads
to the module package/name.py when there is one, else to the package itself.
Nothing is excluded.

The grading run's layers (arrows: may import):

    cli -> grade -> local_pool, cluster -> worker -> course -> release, results, sandbox

and conv_lib's layers: its core (operations, shapes, models, backward passes)
knows no screen and no checks; diagnose/ builds on the core only, plots/ on
the core only, widgets on plots; nothing of conv_lib imports the autograder.

Every module of the project's own code (autograder/, conv_lib/, tests/,
benchmarks/) opens with a docstring saying its one job, and none is over
MAX_LINES lines.
"""

import ast
import functools
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("autograder", "conv_lib")
MAX_LINES = 800
#: Folders of the project's own code that hold no importable package (their files are checked for size and docstring).
OTHER_CODE = ("tests", "benchmarks")


def module_files():
    """{module name: its file} for every module of PACKAGES."""
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def package_of(name, path):
    """The package that relative imports in the module `name` start from."""
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def project_module(dotted, modules):
    """The project module that importing `dotted` runs: the longest known prefix, or None."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def imports_of(name, path, modules):
    """The project modules that the module `name` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_of(name, path).split(".")
                base = base[:len(base) - (node.level - 1)]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module
            targets = [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"] or [base]
        else:
            continue
        for target in targets:
            module = project_module(target, modules)
            if module is not None:
                found.add(module)
    return found


@functools.lru_cache(maxsize=None)
def import_graph():
    modules = module_files()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(graph):
    """One cycle of the graph as [a, b, ..., a], or None."""
    state = {}  # 1: on the current path, 2: done
    path = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_checker_sees_imports_of_every_kind():
    graph = import_graph()
    assert "autograder.course" in graph["autograder.worker"]  # from .course import ...
    assert "autograder.feedback" in graph["autograder.integrity"]  # from autograder.feedback import ...
    assert "conv_lib" in graph["autograder.sandbox"]  # import conv_lib
    assert "autograder.grade" in graph["autograder.cli"]  # from . import grade, inside a function
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_imports_itself_through_others():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


LOWER = {
    # module: the grading run's modules it must not import (they are above it or beside it)
    "autograder.course": {"autograder.worker", "autograder.local_pool", "autograder.cluster",
                          "autograder.grade", "autograder.cli"},
    "autograder.worker": {"autograder.local_pool", "autograder.cluster", "autograder.grade", "autograder.cli"},
    "autograder.local_pool": {"autograder.cluster", "autograder.grade", "autograder.cli"},
    "autograder.cluster": {"autograder.local_pool", "autograder.grade", "autograder.cli"},
    "autograder.grade": {"autograder.worker", "autograder.cli"},
}


@pytest.mark.parametrize("module", sorted(LOWER))
def test_the_grading_run_imports_only_downward(module):
    graph = import_graph()
    assert not graph[module] & LOWER[module], f"{module} imports {sorted(graph[module] & LOWER[module])}"


#: conv_lib's layers: a module whose name starts with the key may not import one starting with any of the values.
CONV_LIB_LAYERS = {
    "conv_lib": ("autograder",),
    "conv_lib.diagnose": ("conv_lib.plots", "conv_lib.widgets", "conv_lib.training_view"),
    "conv_lib.plots": ("conv_lib.diagnose", "conv_lib.widgets", "conv_lib.training_view"),
}
#: The core: numpy only, no screen, no checks.
CORE = ("conv_lib.backward", "conv_lib.checks", "conv_lib.data", "conv_lib.gradcheck", "conv_lib.layers",
        "conv_lib.models", "conv_lib.ops", "conv_lib.shapes", "conv_lib.signatures", "conv_lib.train")


def forbidden_imports(module, imported):
    """The imports of `module` that conv_lib's layers forbid."""
    rules = [forbidden for layer, forbidden in CONV_LIB_LAYERS.items() if module == layer or module.startswith(layer + ".")]
    if module in CORE:
        rules.append(("conv_lib.diagnose", "conv_lib.plots", "conv_lib.widgets", "conv_lib.training_view"))
    return sorted(target for target in imported for forbidden in rules
                  if any(target == name or target.startswith(name + ".") for name in forbidden))


@pytest.mark.parametrize("module", sorted(name for name in module_files() if name.startswith("conv_lib")))
def test_conv_lib_imports_only_downward(module):
    assert forbidden_imports(module, import_graph()[module]) == []


def test_the_layer_rules_would_catch_an_import_upward():
    assert forbidden_imports("conv_lib.ops", {"conv_lib.plots.common"}) == ["conv_lib.plots.common"]
    assert forbidden_imports("conv_lib.diagnose.vgg16", {"conv_lib.models", "conv_lib.plots"}) == ["conv_lib.plots"]
    assert forbidden_imports("conv_lib.plots.vgg16", {"conv_lib.diagnose.codes"}) == ["conv_lib.diagnose.codes"]
    assert forbidden_imports("conv_lib.widgets", {"conv_lib.plots"}) == []


def own_code():
    """Every Python file of the project's own code, as pytest params named by their path."""
    paths = sorted(module_files().values())
    paths += sorted(path for folder in OTHER_CODE for path in (REPO / folder).glob("*.py"))
    return [pytest.param(path, id=path.relative_to(REPO).as_posix()) for path in paths]


@pytest.mark.parametrize("path", own_code())
def test_no_module_is_over_800_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines (at most {MAX_LINES})"


@pytest.mark.parametrize("path", own_code())
def test_every_module_opens_with_a_docstring_saying_its_job(path):
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring and len(docstring.split()) >= 5, f"{path.relative_to(REPO)} has no docstring saying what it is for"
