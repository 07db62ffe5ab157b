"""The project's setup keeps its promises: one command to open the course, one
to test it, the same packages for pip and conda, and solutions/ notebooks
committed without outputs."""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

# PyYAML always comes with the course: jupyterlab -> jupyter_server ->
# jupyter_events, which requires it.
import yaml

REPO = Path(__file__).resolve().parents[1]


# --- helpers -----------------------------------------------------------------


def normalize(name):
    """Package names compare as pip compares them: case and -_. ignored."""
    return re.sub(r"[-_.]+", "-", name).lower()


def name_and_lower_bound(spec):
    """'numpy>=2.4' -> ('numpy', '2.4'); a spec with no '>=' has bound None.

    Works for both pip requirements and conda match specs.
    """
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)", spec)
    assert match, f"cannot read a package name from {spec!r}"
    name, rest = match.groups()
    bound = re.search(r">=\s*([^,;\s]+)", rest)
    return normalize(name), bound.group(1) if bound else None


def pyproject():
    with open(REPO / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def pyproject_runtime_and_test_requirements():
    """What `make test` installs: the runtime, the test tools and the cluster extra."""
    project = pyproject()["project"]
    extras = project["optional-dependencies"]
    specs = project["dependencies"] + extras["test"] + extras["cluster"]
    return dict(name_and_lower_bound(spec) for spec in specs)


def environment():
    return yaml.safe_load((REPO / "environment.yml").read_text())


def conda_packages():
    """The conda dependencies of environment.yml, without python and pip."""
    specs = [d for d in environment()["dependencies"] if isinstance(d, str)]
    packages = dict(name_and_lower_bound(spec) for spec in specs)
    packages.pop("python", None)
    packages.pop("pip", None)
    return packages


def notebook_output_problems(root):
    """Every code cell under root/**/*.ipynb that carries an output or an
    execution count, as 'path cell N: what' strings (empty when clean)."""
    problems = []
    for path in sorted(Path(root).rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for index, cell in enumerate(notebook.get("cells", [])):
            if cell.get("cell_type") != "code":
                continue
            where = f"{path.relative_to(root)} cell {index}"
            if cell.get("outputs"):
                problems.append(f"{where}: has {len(cell['outputs'])} output(s)")
            if cell.get("execution_count") is not None:
                problems.append(f"{where}: has execution count {cell['execution_count']}")
    return problems


def write_notebook(path, cells):
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def code_cell(source, outputs=(), execution_count=None):
    return {
        "cell_type": "code",
        "id": secrets.token_hex(4),
        "metadata": {"nbgrader": {"grade": False, "grade_id": "c1", "locked": False,
                                  "schema_version": 3, "solution": True, "task": False}},
        "source": source,
        "outputs": list(outputs),
        "execution_count": execution_count,
    }


def make_env():
    """The environment for a make started from inside a test: no settings
    inherited from an outer make (pytest may itself run under `make test`)."""
    env = dict(os.environ)
    for key in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES"):
        env.pop(key, None)
    return env


def run_make(*args, timeout=600):
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPO, env=make_env(), capture_output=True, text=True, timeout=timeout,
    )


# --- pip and conda install the same packages ----------------------------------


def test_environment_yml_lists_the_runtime_and_test_packages_of_pyproject():
    assert sorted(conda_packages()) == sorted(pyproject_runtime_and_test_requirements())


def test_environment_yml_lower_bounds_match_pyproject():
    assert conda_packages() == pyproject_runtime_and_test_requirements()


def test_environment_yml_python_bound_matches_requires_python():
    specs = [d for d in environment()["dependencies"] if isinstance(d, str)]
    conda_python = dict(name_and_lower_bound(spec) for spec in specs)["python"]
    assert f">={conda_python}" == pyproject()["project"]["requires-python"]


def test_environment_yml_uses_conda_forge_and_installs_the_project_with_pip():
    env = environment()
    assert env["name"] == "conv-channels"
    assert env["channels"] == ["conda-forge"]
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert pip_sections == [["-e .[test,cluster]"]]
    assert "pip" in [d for d in env["dependencies"] if isinstance(d, str)]


# --- solutions/ notebooks are committed without outputs -----------------------


def test_no_solutions_notebook_carries_outputs_or_execution_counts():
    problems = notebook_output_problems(REPO / "solutions")
    assert not problems, (
        "solutions/ notebooks must be committed without outputs; run `make hooks` "
        "once, or strip them with nbstripout:\n" + "\n".join(problems)
    )


def test_the_output_check_flags_a_notebook_with_an_output(tmp_path):
    output = {"output_type": "stream", "name": "stdout", "text": ["3\n"]}
    write_notebook(tmp_path / "01_single_channel.ipynb",
                   [code_cell("print(1 + 2)", outputs=[output], execution_count=1)])
    problems = notebook_output_problems(tmp_path)
    assert problems == [
        "01_single_channel.ipynb cell 0: has 1 output(s)",
        "01_single_channel.ipynb cell 0: has execution count 1",
    ]


def test_the_output_check_passes_a_stripped_notebook(tmp_path):
    write_notebook(tmp_path / "nested" / "02.ipynb", [code_cell("x = 1")])
    assert notebook_output_problems(tmp_path) == []


def test_pre_commit_strips_only_solutions_notebooks():
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    strip = [hook for hook in hooks if hook["id"] == "nbstripout"]
    assert len(strip) == 1, "exactly one nbstripout hook"
    pattern = re.compile(strip[0]["files"])
    assert pattern.search("solutions/01_single_channel.ipynb")
    assert not pattern.search("notebooks/01_single_channel.ipynb")
    # Outputs and counts must go, so no flag may keep them.
    args = strip[0].get("args", [])
    assert "--keep-output" not in args and "--keep-count" not in args


# --- the two commands a newcomer needs -----------------------------------------


def test_ci_runs_make_test():
    script = (REPO / ".ci" / "run").read_text()
    commands = [line.strip() for line in script.splitlines()
                if line.strip() and not line.strip().startswith("#")]
    assert "set -euo pipefail" in commands
    assert "make test" in commands


def test_readme_opens_with_make_lab_and_make_test():
    top = "\n".join((REPO / "README.md").read_text().splitlines()[:30])
    assert "make lab" in top
    assert "make test" in top


def test_every_install_step_of_make_removes_the_package_that_slows_every_notebook_read():
    # jsonschema (under nbformat) imports rfc3987-syntax whenever it is there, which compiles
    # Lark grammars for about 2.5 s in every process that reads a notebook (see the Makefile).
    makefile = (REPO / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "pip install -e" in line]
    assert len(installs) >= 4
    assert makefile.count("\t$(DROP_SLOW_IMPORTS)") == len(installs)
    assert "pip uninstall --yes --quiet rfc3987-syntax" in makefile


def test_the_venv_that_runs_the_tests_has_no_rfc3987_syntax():
    import importlib.util

    if os.environ.get("VIRTUAL_ENV") is None and not sys.prefix.endswith(".venv"):
        pytest.skip("not make's venv: nothing says this Python was set up by make")
    assert importlib.util.find_spec("rfc3987_syntax") is None, (
        "rfc3987-syntax is installed: every process that imports nbformat pays ~2.5 s for it; "
        "`make` removes it after each install (see the Makefile)")


def test_make_help_lists_test_lab_and_bench():
    result = run_make("help", timeout=60)
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")}
    assert {"test", "lab", "bench"} <= listed, result.stdout


def test_make_help_is_the_default_goal():
    assert run_make(timeout=60).stdout == run_make("help", timeout=60).stdout


# --- make lab really opens JupyterLab on notebooks/ ---------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url, token, timeout=5):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, json.loads(response.read().decode())


def stop_group(process):
    """End make and everything it started (JupyterLab, kernels)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def start_lab(port, token, log):
    flags = [
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",  # a taken port fails fast instead of moving
        f"--IdentityProvider.token={token}",
    ]
    env = make_env()
    env["JUPYTER_RUNTIME_DIR"] = str(log.parent / "runtime")
    return subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_ARGS={' '.join(flags)}"],
        cwd=REPO, env=env, stdin=subprocess.DEVNULL,
        stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for_lab(process, port, token, deadline):
    """Poll /api until it answers 200; None if make exits first or time runs out."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        try:
            status, body = get_json(f"http://127.0.0.1:{port}/api", token, timeout=2)
            if status == 200 and "version" in body:
                return body
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(0.5)
    return None


@pytest.mark.make_targets("setup")  # made before any test starts (conftest.py): it may reinstall the course
def test_make_lab_starts_jupyterlab_on_the_notebooks_folder(tmp_path):
    # Bring the venv up to date first, so the 60 s below time only the start.
    setup = run_make("setup")
    assert setup.returncode == 0, setup.stdout + setup.stderr

    token = secrets.token_hex(16)
    log = tmp_path / "lab.log"
    for _attempt in range(3):  # another program may grab the port first
        port = free_port()
        process = start_lab(port, token, log)
        try:
            api = wait_for_lab(process, port, token, time.monotonic() + 60)
            if api is None and process.poll() is not None and "address already in use" in log.read_text().lower():
                continue
            assert api is not None, f"JupyterLab did not answer on port {port} within 60 s:\n{log.read_text()}"
            # The server's root folder is notebooks/, which holds its README.md.
            status, root = get_json(f"http://127.0.0.1:{port}/api/contents", token)
            assert status == 200
            assert "README.md" in [item["name"] for item in root["content"]], root
            status, _ = get_json(f"http://127.0.0.1:{port}/lab/api/settings", token)
            assert status == 200, "the JupyterLab extension itself is loaded"
            return
        finally:
            stop_group(process)
    pytest.fail(f"no free port could be kept for JupyterLab after 3 tries:\n{log.read_text()}")

