"""The Validate button works in `make lab`, with the course's nbgrader config.

The button posts the notebook's path to nbgrader's validate server extension,
which builds its config from `nbgrader_config.py` files found in the server's
working directory and in the Jupyter config path, then runs nbgrader's
Validator. `make lab` puts autograder/ first on JUPYTER_CONFIG_PATH, so that
autograder/nbgrader_config.py is found. These tests start `make lab` itself
(on a temporary folder: LAB_DIR) and talk to the same HTTP endpoints as the
JupyterLab extension.
"""

import json
import secrets
import shutil
import subprocess
import time
import urllib.request

import pytest
from notebook_tools import (
    NOTEBOOKS,
    TOY,
    find_assignments,
    is_graded_assignment,
    is_test_cell,
    nbgrader_meta,
    notebooks_in,
    read_notebook,
    release,
    solved,
    write_notebook,
    write_toy_assignment,
)
from test_project_setup import free_port, get_json, make_env, run_make, stop_group, wait_for_lab

# `make setup` may reinstall the course: made before any test starts (conftest.py).
pytestmark = pytest.mark.make_targets("setup")


def post_json(url, token, body, timeout):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode())


@pytest.fixture(scope="module")
def lab_folder(tmp_path_factory):
    """A folder for JupyterLab holding, for the toy assignment and every
    released assignment of notebooks/, the student version as released and a
    solved copy beside it (named <notebook>-solved.ipynb). Returns the folder
    and a list of (released, solved, source notebook) relative paths.
    Assignments without graded cells (the lecture demo) are left out: there is
    nothing for Validate to check in them."""
    base = tmp_path_factory.mktemp("validate")
    folder = base / "lab"
    write_toy_assignment(base / "toy")
    release(base / "toy", folder, gradebook=None)
    sources = {TOY: base / "toy" / TOY}
    for name in find_assignments(NOTEBOOKS):
        if not is_graded_assignment(name, NOTEBOOKS):
            continue
        shutil.copytree(NOTEBOOKS / name, folder / name)
        sources[name] = NOTEBOOKS.parent / "solutions" / name
    pairs = []
    for name, source_folder in sources.items():
        for source in notebooks_in(source_folder):
            released = folder / name / source.name
            if not released.exists():
                continue  # a source without a release: test_notebooks_sync says so
            solved_path = released.with_name(f"{released.stem}-solved.ipynb")
            write_notebook(solved(read_notebook(released), read_notebook(source)), solved_path)
            pairs.append((released.relative_to(folder).as_posix(), solved_path.relative_to(folder).as_posix(), source))
    return folder, pairs


@pytest.fixture(scope="module")
def lab(lab_folder, tmp_path_factory):
    """`make lab` serving the lab folder; yields (base url, token)."""
    folder, _ = lab_folder
    setup = run_make("setup")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    token = secrets.token_hex(16)
    log = tmp_path_factory.mktemp("lab") / "lab.log"
    for _attempt in range(3):  # another program may grab the port first
        port = free_port()
        flags = f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.port_retries=0 --IdentityProvider.token={token}"
        env = make_env()
        env["JUPYTER_RUNTIME_DIR"] = str(log.parent / "runtime")
        process = subprocess.Popen(
            ["make", "--no-print-directory", "lab", f"LAB_DIR={folder}", f"LAB_ARGS={flags}"],
            cwd=NOTEBOOKS.parent, env=env, stdin=subprocess.DEVNULL,
            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            api = wait_for_lab(process, port, token, time.monotonic() + 60)
            if api is None and process.poll() is not None and "address already in use" in log.read_text().lower():
                continue
            assert api is not None, f"JupyterLab did not answer on port {port} within 60 s:\n{log.read_text()}"
            yield f"http://127.0.0.1:{port}", token
            return
        finally:
            stop_group(process)
    pytest.fail(f"no free port could be kept for JupyterLab after 3 tries:\n{log.read_text()}")


def test_lab_nbgrader_extensions_read_the_course_config(lab):
    # The course list extension loads its config exactly as the validate
    # extension does; without autograder/nbgrader_config.py the course id is "".
    url, token = lab
    status, body = get_json(f"{url}/formgraders", token, timeout=30)
    assert status == 200 and body["success"], body
    assert [course["course_id"] for course in body["value"]] == ["conv-channels"], body


def test_validate_fails_a_student_notebook_as_released_and_passes_a_solved_one(lab, lab_folder):
    url, token = lab
    folder, pairs = lab_folder
    assert any(released.startswith(f"{TOY}/") for released, _, _ in pairs)
    for released, solved_path, source in pairs:
        # As released, every graded cell fails: the autograder tests on the
        # unfinished functions, the written answers for want of an answer.
        verdict = post_json(f"{url}/assignments/validate", token, {"path": released}, timeout=600)
        assert verdict["success"], verdict
        failed = verdict["value"].get("failed", [])
        cells = read_notebook(folder / released).cells
        graded = [cell.source.strip() for cell in cells if nbgrader_meta(cell).get("grade")]
        assert any(is_test_cell(cell) for cell in cells) and [cell["source"] for cell in failed] == graded, (
            f"{released}: {verdict['value']}"
        )
        for cell in failed:
            assert "NotImplementedError" in cell["raw_error"] or cell["raw_error"] == "You did not provide a response.", (
                released, cell,
            )

        verdict = post_json(f"{url}/assignments/validate", token, {"path": solved_path}, timeout=600)
        assert verdict == {"success": True, "value": {}}, f"Validate does not pass {solved_path}: {verdict}"
