"""explore(function) works in a real browser: a learner's wrong conv2d_multi_in, served by Voila.

A small notebook written to tmp_path defines a conv2d_multi_in that forgets the
bias and ends with the line a failing check's message gives,
`import conv_lib.widgets; conv_lib.widgets.explore(conv2d_multi_in)`. The venv's
Voila serves it on 127.0.0.1 (a free port, its own process group, stopped at
the end); Debian's chromium, driven by Playwright and cut off from every other
host, opens it: the picture and the sum written out ("your conv2d_multi_in
gave ...") appear, a click on "next wrong value" and then the column slider
moved with the keyboard each change the text and the picture. Screenshots go
to tmp_path. Skipped without chromium or Playwright, except in CI (as
test_demo_browser, whose helpers this test uses).
"""

import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from test_demo_browser import CHANGE_TIMEOUT_S, READY_TIMEOUT_S, local_page, served_on_a_free_port, view_script
from test_project_setup import make_env

LEARNER_CELL = '''import numpy as np

def conv2d_multi_in(x, w, b=0.0):
    """A learner's answer that forgets the bias."""
    if x.shape[0] != w.shape[0]:
        raise ValueError("the filter needs one channel per input channel")
    C, H, W = x.shape
    kH, kW = w.shape[1:]
    out = np.zeros((H - kH + 1, W - kW + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (x[:, i:i + kH, j:j + kW] * w).sum()
    return out'''
EXPLORE_CELL = "import conv_lib.widgets; conv_lib.widgets.explore(conv2d_multi_in)"
#: Voila's page loads every JupyterLab extension of the venv; these two fail in it (as make demo's DEMO_FLAGS say).
VOILA_FLAGS = ["--VoilaConfiguration.extension_denylist=@jupyter/nbgrader",
               "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension"]
PICTURE = "img.conv-answer-picture, .conv-answer-picture img"
VIEW_SCRIPT = view_script(PICTURE, {"arithmetic": ".conv-answer-arithmetic", "summary": ".conv-answer-summary"})


@pytest.fixture
def served(chromium, tmp_path):
    """Voila serving the learner's notebook on a free port; yields its address."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LEARNER_CELL),
                                               nbformat.v4.new_code_cell(EXPLORE_CELL)])
    nbformat.write(notebook, tmp_path / "my_answer.ipynb")
    voila = Path(sys.executable).with_name("voila")
    env = make_env()
    env["PATH"] = f"{voila.parent}:{env['PATH']}"  # the kernel is this venv's Python
    env.pop("NBGRADER_EXECUTION", None)
    log = tmp_path / "voila.log"

    def start(port):
        return subprocess.Popen(
            [str(voila), "my_answer.ipynb", "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
             "--Voila.port_retries=0", *VOILA_FLAGS],
            cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    with served_on_a_free_port(start, log, "Voila") as port:
        yield f"http://127.0.0.1:{port}/"


def view(page):
    return page.evaluate(VIEW_SCRIPT)


def wait_for_change(page, before, what):
    """Wait until the sum written out and the picture both differ from before; return the new view."""
    script = f"(before) => {{ const now = ({VIEW_SCRIPT})(); " \
             "return now.arithmetic !== before.arithmetic && now.picture !== before.picture; }"
    try:
        page.wait_for_function(script, arg=before, timeout=CHANGE_TIMEOUT_S * 1000)
    except Exception:  # Playwright's TimeoutError
        pytest.fail(f"after {what}, the text or the picture did not change within {CHANGE_TIMEOUT_S} s: {view(page)}")
    time.sleep(0.5)  # the rest of the change's messages
    return view(page)


def test_explore_shows_the_learners_function_and_follows_the_button_and_the_keyboard(chromium, served, tmp_path):
    with local_page(chromium, {"width": 1280, "height": 1600}) as (page, page_errors):
        page.goto(served, wait_until="domcontentloaded")
        page.locator(PICTURE).first.wait_for(state="visible", timeout=READY_TIMEOUT_S * 1000)
        page.wait_for_function(
            "() => { const e = document.querySelector('.conv-answer-arithmetic'); "
            "return e && e.innerText.includes('gave'); }", timeout=READY_TIMEOUT_S * 1000)
        shots = [tmp_path / "0-opened.png"]
        page.screenshot(path=shots[-1], full_page=True)
        first = view(page)
        assert "your conv2d_multi_in gave" in first["arithmetic"] and "out[0, 0]" in first["arithmetic"], first
        assert "12 of 12 values are wrong" in first["summary"], first
        assert "[missing-bias]" in page.locator(".conv-answer-heading").inner_text()
        assert first["picture"] and page.locator(PICTURE).first.bounding_box()["height"] > 400

        page.locator(".conv-answer-next").click()
        after_next = wait_for_change(page, first, "a click on next wrong value")
        assert "out[0, 1]" in after_next["arithmetic"], after_next
        shots.append(tmp_path / "1-next.png")
        page.screenshot(path=shots[-1], full_page=True)

        handle = page.locator(".conv-answer-column .noUi-handle")
        handle.focus()
        handle.press("ArrowRight")
        after_key = wait_for_change(page, after_next, "the column slider moved with the keyboard")
        assert "out[0, 2]" in after_key["arithmetic"] and "your conv2d_multi_in gave" in after_key["arithmetic"]
        shots.append(tmp_path / "2-column.png")
        page.screenshot(path=shots[-1], full_page=True)

    assert not page_errors, f"errors in the page: {page_errors}"
    assert all(shot.stat().st_size > 10_000 for shot in shots), shots
    print(f"screenshots: {', '.join(map(str, shots))}")
