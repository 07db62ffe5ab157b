"""What the course shows of a submission cannot run, cannot stall, and cannot show the hidden tests.

- autograder/inert.py: a notebook made inert keeps text, errors, PNG pictures
  and safe HTML and markdown, and loses every script, handler, script URL,
  script-capable output kind and oversized text; the teaching notebooks come
  through untouched; the pages' Content-Security-Policy leads their <head>;
- autograder/worker.py's within_deadline: a page that takes too long is
  stopped for real (its process killed), and says why;
- autograder/feedback.py: no output made once a hidden test ran reaches the
  feedback page, and no error line quoting a hidden test does;
- autograder/formgrader_policy.py: the formgrader's submission pages allow
  nbgrader's own scripts by their hashes, and nothing of the notebook's part.
"""

from __future__ import annotations

import base64
import time

import nbformat
import pytest
from attacks_pages import (
    PAYLOAD,
    SCRIPT_MARKDOWN,
    active_parts,
    assert_notebook_is_inert,
)
from notebook_tools import NOTEBOOKS, SOLUTIONS, read_notebook

from autograder import feedback, formgrader_policy, inert, results
from autograder.worker import within_deadline

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nnot really a picture").decode()


def output(data, kind="display_data"):
    return nbformat.v4.new_output(kind, data=data, **({"execution_count": 1} if kind == "execute_result" else {}))


def hostile_notebook():
    cells = [
        nbformat.v4.new_markdown_cell(SCRIPT_MARKDOWN),
        nbformat.v4.new_code_cell("x", outputs=[
            output({"text/html": f"<b>bold</b><script>{PAYLOAD}</script>", "text/plain": "plain"}),
            output({"application/javascript": PAYLOAD}),
            output({"image/svg+xml": f"<svg onload=\"{PAYLOAD}\"></svg>"}),
            output({"application/vnd.jupyter.widget-view+json": {"model_id": "m"}, "text/plain": "a widget"}),
            output({"text/markdown": f"[x](javascript:{PAYLOAD})"}),
            output({"image/png": '"><script>alert(1)</script>'}),
            output({"image/png": PNG, "text/plain": "<Figure>"}, "execute_result"),
            nbformat.v4.new_output("stream", name="stdout", text="printed\n"),
            nbformat.v4.new_output("error", ename="ValueError", evalue="wrong", traceback=["trace"]),
        ]),
        nbformat.v4.new_raw_cell(f"<script>{PAYLOAD}</script>", metadata={"raw_mimetype": "text/html"}),
    ]
    cells[1].metadata["nbgrader"] = {"grade_id": '"><script>alert(1)</script>', "grade": False}
    return nbformat.v4.new_notebook(cells=cells, metadata={"widgets": {"state": {}}})


def test_an_inert_notebook_keeps_the_harmless_work_and_nothing_that_runs(tmp_path):
    made = inert.inert_notebook(hostile_notebook())
    path = tmp_path / "inert.ipynb"
    nbformat.write(made, path)
    assert_notebook_is_inert(path)
    outputs = made.cells[1].outputs
    assert outputs[0].data["text/html"].startswith("<b>bold</b>") and outputs[0].data["text/plain"] == "plain"
    assert "not shown" in outputs[1].data["text/plain"] and "application/javascript" in outputs[1].data["text/plain"]
    assert "image/svg+xml" in outputs[2].data["text/plain"]
    assert outputs[3].data == {"text/plain": "a widget"}
    assert "image/png" not in outputs[5].data
    assert outputs[6].data["image/png"] == PNG and outputs[6].execution_count == 1
    assert outputs[7].text == "printed\n" and outputs[8].evalue == "wrong"
    assert "nbgrader" not in made.cells[1].metadata and "widgets" not in made.metadata
    assert active_parts(made.cells[2].source) == [] and "raw_mimetype" not in made.cells[2].metadata


def test_the_rule_would_see_a_script_left_in():
    notebook = hostile_notebook()
    assert active_parts(notebook.cells[1].outputs[0].data["text/html"]) == ["<script>"]
    assert "<img onerror=...>" in active_parts(inert.rendered_markdown(notebook.cells[0].source))


@pytest.mark.parametrize("folder", [SOLUTIONS, NOTEBOOKS], ids=["solutions", "notebooks"])
def test_the_course_notebooks_come_through_unchanged(folder):
    paths = sorted(folder.glob("*/*.ipynb"))
    assert paths
    for path in paths:
        notebook = read_notebook(path)
        made = inert.inert_notebook(notebook)
        assert [cell.source for cell in made.cells] == [cell.source for cell in notebook.cells], path.name


def test_a_huge_markdown_cell_is_cut_with_a_note_and_renders_fast():
    started = time.perf_counter()
    made = inert.inert_markdown("[" * 200_000)
    assert time.perf_counter() - started < 10
    assert made.startswith("[" * inert.MARKDOWN_CHARS) and "190,000 more characters cut" in made


def test_a_page_gets_the_policy_first_in_its_head_once_and_loses_mathjax():
    page = ("<!DOCTYPE html>\n<html><head>\n<meta charset='utf-8'>\n<!-- Load mathjax -->\n<script src='x'></script>"
            "\n<!-- End of mathjax configuration -->\n</head><body>hi</body></html>")
    made = inert.with_page_policy(page)
    assert made.split("<head>", 1)[1].lstrip().startswith(inert.POLICY_META)
    assert "<script" not in made and inert.with_page_policy(made) == made
    row = results.Row("ann", "02", 1, 5, 1, 0, "ok", "a message")
    problem = results.problem_page(row, "it took too long")
    assert problem.split("<head>", 1)[1].startswith(inert.POLICY_META)
    assert "it took too long" in problem and "a message" in problem


def test_a_slow_page_is_stopped_at_its_deadline_and_says_why():
    started = time.monotonic()
    answer = within_deadline(lambda: time.sleep(30) or "", 1)
    assert time.monotonic() - started < 10
    assert "longer than 1 s" in answer
    assert within_deadline(lambda: "", 5) == ""
    assert within_deadline(lambda: "nbgrader said no", 5) == "nbgrader said no"
    assert "ZeroDivisionError" in within_deadline(lambda: str(1 / 0), 5)


def test_nothing_made_after_a_hidden_test_reaches_the_feedback():
    def code(source, outputs, **nbgrader):
        cell = nbformat.v4.new_code_cell(source, outputs=outputs)
        if nbgrader:
            cell.metadata["nbgrader"] = nbgrader
        return cell

    shown = nbformat.v4.new_output("stream", name="stdout", text="before the tests\n")
    leak = nbformat.v4.new_output("stream", name="stdout", text="check(f, seed=21, hidden=True)\n")
    picture = output({"image/png": PNG})
    error = nbformat.v4.new_output("error", ename="Misconception", traceback=["source"],
                                   evalue="[wrong] it is wrong\n[leak] check(f, seed=21, hidden=True) quoted")
    test = {"grade": True, "solution": False, "grade_id": "f_tests", "points": 1}
    notebook = nbformat.v4.new_notebook(cells=[
        code("print('before the tests')", [shown]),
        code("check(f)\n### BEGIN HIDDEN TESTS\ncheck(f, seed=21, hidden=True)\n### END HIDDEN TESTS",
             [leak, picture, error], **test),
        code("print(In)", [leak, picture]),
        code("", []),
    ])
    resources = {}
    notebook, resources = feedback.HideOutputsAfterHiddenTests().preprocess(notebook, resources)
    for index, cell in enumerate(notebook.cells):
        notebook.cells[index], resources = feedback.HideTestTracebacks().preprocess_cell(cell, resources, index)
    first, tests, after, empty = notebook.cells
    assert first.outputs == [shown]
    assert [o.output_type for o in tests.outputs] == ["stream", "error"] and tests.outputs[0].text == feedback.DROPPED_OUTPUT
    assert tests.outputs[1].traceback == [f"\x1b[0;31mMisconception\x1b[0m: [wrong] it is wrong\n{feedback.QUOTED_LINE}"]
    assert after.outputs == [nbformat.v4.new_output("stream", name="stdout", text=feedback.DROPPED_OUTPUT)]
    assert empty.outputs == []


def test_the_formgrader_policy_allows_the_templates_scripts_and_none_of_the_notebooks():
    page = ('<html><head><script src="/static/jquery.js"></script><script>var submission_id = "1";</script></head>'
            '<body><span onclick="toggle_name(true);"></span><div id="notebook">'
            f'<script>{PAYLOAD}</script><img src=x onerror="{PAYLOAD}"></div></body></html>')
    policy = formgrader_policy.submission_page_policy(page)
    for allowed in ('var submission_id = "1";', "toggle_name(true);"):
        assert formgrader_policy.source_hash(allowed) in policy
    assert formgrader_policy.source_hash(PAYLOAD) not in policy
    assert "'unsafe-inline'" not in policy.split("style-src")[0]
    assert formgrader_policy.source_hash("x") not in formgrader_policy.submission_page_policy("<p>no notebook</p>")
