"""Attacks on the pages the course renders: script in the formgrader and the feedback pages, hidden tests reaching a page, pages that take forever.

Every attack here is a correct submission (full marks, its written answer
waiting for a person) with one hostile cell added; what it attacks is the
page, so each `verify` reads the student's feedback page and the course's
autograded notebook, which the formgrader renders:

- script: an HTML output with <script>, markdown with `<img onerror>`, a
  `javascript:` link and an <iframe>, `application/javascript`, widget-view
  and SVG outputs. Placed before the test cell, so their outputs do reach the
  page: the page and the stored notebook must hold no script, no event
  handler, no `javascript:` URL, no frame, while the harmless part still shows;
- a page that stalls: a markdown cell of `[` that nbconvert renders in a time
  growing with the square of its length (150 kB take minutes); it must be cut,
  with a note, and the run must still write the row and the page;
- hidden tests: a last cell that prints `In`, `_ih` and `Out`, and hooks that
  print, show as HTML and draw the source of every cell that holds hidden
  tests while it runs; no line of a hidden test may reach the page.

See tests/attack_set.py for how an attack is written and graded.
"""

from __future__ import annotations

import copy
import html.parser

import nbformat
from attack_set import markdown_cell, notebook_attack
from notebook_tools import (
    SOLUTIONS,
    grade_id,
    html_text,
    read_notebook,
    secret_lines,
    text_lines,
)
from submission_set import (
    MULTI,
    MULTI_POINTS,
    WAITS,
    at_the_end,
    correct,
    with_cell_after,
)

from autograder.feedback import DROPPED_OUTPUT
from autograder.inert import rendered_markdown

#: What the hostile script would do if it ran: rename the page and write a file through the contents API.
PAYLOAD = ("document.title='SCRIPT RAN';"
           "fetch('/api/contents/SCRIPT_RAN.txt',{method:'PUT',headers:{'X-XSRFToken':"
           "(document.cookie.match(/_xsrf=([^;]+)/)||[])[1]},"
           "body:JSON.stringify({type:'file',format:'text',content:'x'})})")
#: The file PAYLOAD writes in the Jupyter server's root, were it to run.
PAYLOAD_FILE = "SCRIPT_RAN.txt"
SHOWN = "THE HARMLESS PART IS SHOWN"

SCRIPT_IN_HTML = f'''
from IPython.display import HTML, display
display(HTML("<b>{SHOWN}</b><script>{PAYLOAD}</script><iframe src='/lab'></iframe>"))
'''
SCRIPT_MARKDOWN = f'''**{SHOWN}**

<img src="x" onerror="{PAYLOAD}"> <a href="javascript:{PAYLOAD}">click</a>
<iframe srcdoc="<script>{PAYLOAD}</script>"></iframe> <svg onload="{PAYLOAD}"></svg>

[also a link](javascript:{PAYLOAD})
'''
SCRIPT_OUTPUTS = f'''
from IPython.display import SVG, Javascript, display
print("{SHOWN}")
display(Javascript("{PAYLOAD}"))
display({{"application/vnd.jupyter.widget-view+json": {{"model_id": "x", "version_major": 2, "version_minor": 0}},
          "text/html": "<script>{PAYLOAD}</script>"}}, raw=True)
display(SVG("""<svg xmlns="http://www.w3.org/2000/svg" onload="{PAYLOAD}"><script>{PAYLOAD}</script></svg>"""))
'''

#: Enough `[` to take about half a minute to render uncut (150 kB take minutes), and cheap once cut.
STALL_CHARACTERS = 60_000

PRINT_HISTORY = "print(In)\nprint(_ih)\nprint(Out)\n"
SHOW_HIDDEN_TESTS = '''
# Shows the source of every cell that holds hidden tests, as it runs: printed, as HTML, drawn.
import matplotlib.pyplot as plt
from IPython.display import HTML, display

def show(text):
    if "HIDDEN" in text:
        print(text)
        display(HTML("<pre>" + text + "</pre>"))
        figure = plt.figure()
        figure.text(0, 0.5, text)
        display(figure)
        plt.close(figure)

get_ipython().events.register("pre_run_cell", lambda info: show(info.raw_cell))
get_ipython().events.register("post_run_cell", lambda result: show(result.info.raw_cell))
'''


class _ActiveParts(html.parser.HTMLParser):
    """What in an HTML text could run or load a page: script and frame elements, event
    handlers, javascript: URLs."""

    RUNNING_TAGS = frozenset({"script", "iframe", "frame", "object", "embed", "svg", "math", "base", "form", "meta", "link"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in self.RUNNING_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if value and value.strip().lower().replace("\x00", "").startswith(("javascript:", "vbscript:", "data:text")):
                self.found.append(f"<{tag} {name}={value[:30]}...>")


def active_parts(text, allowed=()):
    """The parts of an HTML text that could run (see _ActiveParts), less the `allowed` ones."""
    parser = _ActiveParts()
    parser.feed(text)
    return [part for part in parser.found if part not in allowed]


#: A feedback page's own head: its Content-Security-Policy (a <meta>) and nothing else that runs.
PAGE_HEAD = ("<meta>",)


def assert_page_is_inert(page):
    """A feedback page: the Content-Security-Policy first in its head, nothing that could run."""
    head = page[page.lower().index("<head"):]
    head = head[head.index(">") + 1:].lstrip()
    assert head.startswith('<meta http-equiv="Content-Security-Policy"'), head[:200]
    assert "script-src 'none'" in head.split(">", 1)[0]
    assert active_parts(page, PAGE_HEAD) == [], active_parts(page, PAGE_HEAD)[:5]
    assert "<script" not in page.lower()


def assert_notebook_is_inert(path):
    """A stored notebook (the course's autograded or submitted copy) renders to nothing that runs."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            assert active_parts(rendered_markdown(cell.source) or "") == [], cell.source[:300]
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            assert set(data) <= {"text/plain", "text/html", "image/png", "image/jpeg"}, sorted(data)
            assert active_parts(data.get("text/html", "")) == [], data["text/html"][:300]


def course_notebook(run, attack, folder="autograded"):
    return run.course / folder / attack.student / attack.assignment / f"{attack.assignment}.ipynb"


def inert_everywhere(run, attack):
    """The feedback page, and the autograded and submitted notebooks the formgrader shows, are
    inert, and the harmless part of the student's work still shows."""
    page = run.feedback_page(attack.student).read_text(encoding="utf-8")
    assert_page_is_inert(page)
    assert SHOWN in html_text(page), "the student's harmless output is gone from the page"
    for folder in ("autograded", "submitted"):
        assert_notebook_is_inert(course_notebook(run, attack, folder))


def with_markdown_after(notebook, after_grade_id, source):
    """A copy with a new markdown cell after the named cell."""
    result = copy.deepcopy(notebook)
    index = next(i for i, cell in enumerate(result.cells) if grade_id(cell) == after_grade_id)
    result.cells.insert(index + 1, markdown_cell(source, f"added-markdown-{len(result.cells)}"))
    return result


def stall_verify(run, attack):
    page = run.feedback_page(attack.student).read_text(encoding="utf-8")
    assert_page_is_inert(page)
    text = html_text(page)
    assert "more characters cut" in text or "could not be made" in text, text[-500:]
    stored = nbformat.read(course_notebook(run, attack), as_version=4)
    assert max(len(cell.source) for cell in stored.cells if cell.cell_type == "markdown") < STALL_CHARACTERS / 2


def hidden_tests_stay_hidden(run, attack):
    """No line of a hidden test in the page, as text or as a picture, and a note where outputs went."""
    page = run.feedback_page(attack.student).read_text(encoding="utf-8")
    hidden = secret_lines(read_notebook(SOLUTIONS / MULTI / f"{MULTI}.ipynb"), solutions=False)
    assert hidden and not hidden & text_lines(html_text(page)), hidden & text_lines(html_text(page))
    assert DROPPED_OUTPUT.split(":")[0] in html_text(page)
    honest = run.feedback_page("honest").read_text(encoding="utf-8")
    assert page.count("<img") <= honest.count("<img"), "a picture made while the hidden tests ran reached the page"
    assert_page_is_inert(page)


def attacks():
    """This module's attacks (attack_set.Attack)."""
    before_tests = "conv2d_multi_in"  # the answer cell: what follows it still runs before the test cell
    return [
        notebook_attack("pages_html_script", "script-in-pages",
                        with_cell_after(correct(), before_tests, SCRIPT_IN_HTML), WAITS, MULTI_POINTS,
                        verify=inert_everywhere),
        notebook_attack("pages_markdown_onerror", "script-in-pages",
                        with_markdown_after(correct(), before_tests, SCRIPT_MARKDOWN), WAITS, MULTI_POINTS,
                        verify=inert_everywhere),
        notebook_attack("pages_script_outputs", "script-in-pages",
                        with_cell_after(correct(), before_tests, SCRIPT_OUTPUTS), WAITS, MULTI_POINTS,
                        verify=inert_everywhere),
        notebook_attack("pages_stall", "page-stall",
                        with_markdown_after(correct(), before_tests, "[" * STALL_CHARACTERS), WAITS, MULTI_POINTS,
                        verify=stall_verify),
        notebook_attack("pages_print_history", "hidden-tests-in-page",
                        at_the_end(correct(), PRINT_HISTORY), WAITS, MULTI_POINTS, verify=hidden_tests_stay_hidden),
        notebook_attack("pages_hook_shows_tests", "hidden-tests-in-page",
                        with_cell_after(correct(), before_tests, SHOW_HIDDEN_TESTS), WAITS, MULTI_POINTS,
                        verify=hidden_tests_stay_hidden),
    ]
