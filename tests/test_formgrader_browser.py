"""A student's script does not run in the instructor's formgrader, opened in a real browser.

A submission whose output and markdown try to run script (an HTML output with
<script>, `<img onerror>`, a `javascript:` link) is graded with `conv-course
grade --course DIR`; `conv-course formgrade --course DIR` then serves that
course, and Debian's chromium, driven by Playwright and cut off from every host
but 127.0.0.1, opens the submission in nbgrader's formgrader. The script would
rename the page and write a file through the Jupyter contents API: the page's
title must stay, no file may appear, while the student's work still shows and
nbgrader's own scripts still run (the page is still a grading page).

A second submission's stored notebook is then replaced by one that was never
made inert, to check the other layer alone: the page's Content-Security-Policy
must block its script, and chromium must say it refused it.

Without chromium or Playwright the test is skipped, except in CI (the
environment variable CI is set), where it must run: there it fails instead.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit

import nbformat
import pytest
from attack_set import grade_attacks, notebook_attack
from attacks_pages import (
    PAYLOAD,
    PAYLOAD_FILE,
    SCRIPT_IN_HTML,
    SCRIPT_MARKDOWN,
    SHOWN,
    with_markdown_after,
)
from submission_set import MULTI, MULTI_POINTS, WAITS, correct, with_cell_after
from test_demo_browser import CHROMIUM_ARGS
from test_project_setup import REPO, free_port, stop_group

from autograder.cli import ROOT_WARNING

pytestmark = pytest.mark.usefixtures("needs_bubblewrap")

HOSTILE = "formgrader_attack"
READY_TIMEOUT_S = 90


def hostile_notebook():
    """A correct submission with a script in an HTML output and in markdown, before its test cell."""
    return with_markdown_after(with_cell_after(correct(), "conv2d_multi_in", SCRIPT_IN_HTML),
                               "conv2d_multi_in", SCRIPT_MARKDOWN)


@pytest.fixture(scope="module")
def graded_course(chromium, tmp_path_factory):
    """A course folder holding the hostile submission (and two honest ones), graded."""
    attack = notebook_attack(HOSTILE, "script-in-formgrader", hostile_notebook(), WAITS, MULTI_POINTS)
    # Generous cells: the page matters here, not the time limits.
    run = grade_attacks(tmp_path_factory.mktemp("formgrader"), [attack], options=("--timeout", "60", "--quiet"))
    assert run.process.returncode == 0, run.process.stdout[-2000:] + run.process.stderr[-2000:]
    assert run.row(HOSTILE)["status"] == WAITS, run.row(HOSTILE)
    return run


def serves(port, token):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def formgrader(graded_course, tmp_path_factory):
    """`conv-course formgrade --course DIR` on a free port; yields (base address, token, process log)."""
    token = secrets.token_hex(16)
    log = tmp_path_factory.mktemp("formgrade") / "formgrade.log"
    env = dict(os.environ, JUPYTER_TOKEN=token)
    for _attempt in range(3):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "autograder.cli", "formgrade", "--course", str(graded_course.course),
             "--port", str(port), "--no-browser"],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while time.monotonic() < deadline and process.poll() is None and not serves(port, token):
                time.sleep(0.3)
            if process.poll() is not None and "already in use" in log.read_text():
                continue
            assert serves(port, token), f"the formgrader did not answer within {READY_TIMEOUT_S} s:\n{log.read_text()}"
            yield f"http://127.0.0.1:{port}", token, log
            return
        finally:
            stop_group(process)
    pytest.fail(f"no free port could be kept for the formgrader after 3 tries:\n{log.read_text()}")


def submission_id(course, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return gradebook.find_submission_notebook(MULTI, MULTI, student).id


def open_submission(chromium, address, token, submission, screenshot):
    """Open one submission page in chromium; returns (title, body text, whether nbgrader's own
    scripts ran, console messages, the response's Content-Security-Policy)."""
    from playwright.sync_api import sync_playwright

    console = []

    def only_localhost(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:  # MathJax from a CDN, say
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda message: console.append(message.text))
            page.route("**/*", only_localhost)
            page.goto(f"{address}/lab?token={token}", wait_until="domcontentloaded")  # the login cookie
            response = page.goto(f"{address}/formgrader/submissions/{submission}/", wait_until="load")
            page.wait_for_timeout(2000)  # time for a script's request to land, had one run
            page.screenshot(path=str(screenshot), full_page=True)
            ours = page.evaluate("() => typeof submission_id === 'string' && typeof jQuery === 'function'")
            return (page.title(), page.locator("body").inner_text(), ours, console,
                    response.headers.get("content-security-policy", ""))
        finally:
            browser.close()


def test_formgrade_warns_as_root_and_serves_this_machine_only(formgrader):
    _, _, log = formgrader
    text = log.read_text()
    if os.geteuid() == 0:
        assert ROOT_WARNING in text
    assert "127.0.0.1" in text and "0.0.0.0" not in text


def test_a_students_script_does_not_run_in_the_formgrader(chromium, graded_course, formgrader, tmp_path):
    address, token, _ = formgrader
    course = graded_course.course
    title, text, ours, console, policy = open_submission(
        chromium, address, token, submission_id(course, HOSTILE), tmp_path / "inert.png")
    assert title != "SCRIPT RAN" and not (course / PAYLOAD_FILE).exists(), console
    assert SHOWN in text, "the student's work is not shown on the grading page"
    assert ours, f"nbgrader's own scripts no longer run on the grading page: {console}"
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0], policy


def test_the_page_policy_alone_blocks_a_notebook_that_was_never_made_inert(
        chromium, graded_course, formgrader, tmp_path):
    address, token, _ = formgrader
    course = graded_course.course
    stored = course / "autograded" / "honest_too" / MULTI / f"{MULTI}.ipynb"
    notebook = nbformat.read(stored, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(f'**{SHOWN}** <img src="x" onerror="{PAYLOAD}">'))
    notebook.cells[1:1] = [nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": f"<script>{PAYLOAD}</script>"})])]
    nbformat.write(notebook, stored)
    title, text, ours, console, _ = open_submission(
        chromium, address, token, submission_id(course, "honest_too"), tmp_path / "raw.png")
    assert title != "SCRIPT RAN" and not (course / PAYLOAD_FILE).exists(), console
    assert SHOWN in text and ours
    assert any("Content Security Policy" in message for message in console), (
        "chromium refused no script: the raw notebook's script was not there to refuse?", console)
