"""A Jupyter server extension: a Content-Security-Policy on the formgrader's pages of student work.

nbgrader's formgrader shows each submission at /formgrader/submissions/<id>/,
a page rendered from the autograded notebook inside the instructor's Jupyter
server, where any script could call the contents API and write any file the
server can (the gradebook, the grader's code). The course stores only inert
notebooks (autograder/inert.py); this policy is the second layer, in the
browser: script runs on that page only when it is one of nbgrader's own
(script files of the server, and the inline scripts and handlers of the
formgrader's template, allowed one by one by their sha256 hash), never
from the notebook's part of the page. The files the page links to
(/formgrader/submissions/<id>/<file>) are served sandboxed, with no script.

A page-wide policy (jupyter_server's `ServerApp.tornado_settings` headers)
would also reach JupyterLab itself, which needs inline script and eval, so
the policy is set only on these routes, by a tornado output transform.
`conv-course formgrade` enables the extension (`--ServerApp.jpserver_extensions`).
"""

from __future__ import annotations

import base64
import hashlib
import html.parser
import re

from tornado.web import OutputTransform

SUBMISSION_PAGE = re.compile(r"/formgrader/submissions/[^/]+/?$")
SUBMISSION_FILE = re.compile(r"/formgrader/submissions/[^/]+/.+")
#: Where the notebook's part of a submission page begins: only nbgrader's template comes before.
NOTEBOOK_START = re.compile(r"<div[^>]*\bid=[\"']notebook[\"']")
PAGE_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-hashes' {hashes}; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; font-src 'self' data:; object-src 'none'; frame-src 'none'; "
               "base-uri 'none'; form-action 'self'")
FILE_POLICY = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"


class _TemplateScripts(html.parser.HTMLParser):
    """The inline scripts and event-handler attributes of an HTML text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts, self._inside = [], None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes:
            self._inside = []
        self.scripts += [value for name, value in attrs if name.startswith("on") and value]

    def handle_data(self, data):
        if self._inside is not None:
            self._inside.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._inside is not None:
            self.scripts.append("".join(self._inside))
            self._inside = None


def source_hash(text):
    """CSP's 'sha256-...' source for one inline script or handler."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def submission_page_policy(page):
    """The policy of one submission page (HTML text): the inline scripts and handlers of
    nbgrader's template (all before the notebook's part) may run; nothing else inline may.
    A page without the notebook's part allows no inline script at all."""
    start = NOTEBOOK_START.search(page)
    if start is None:
        return PAGE_POLICY.format(hashes="")
    parser = _TemplateScripts()
    parser.feed(page[:start.start()])
    return PAGE_POLICY.format(hashes=" ".join(sorted({source_hash(script) for script in parser.scripts})))


class SubmissionPagePolicy(OutputTransform):
    """Adds the Content-Security-Policy to the formgrader's submission pages and their files."""

    def __init__(self, request):
        super().__init__(request)
        path = request.path
        self.kind = "page" if SUBMISSION_PAGE.search(path) else "file" if SUBMISSION_FILE.search(path) else ""

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        if self.kind == "file":
            headers.add("Content-Security-Policy", FILE_POLICY)
        elif self.kind == "page":
            headers.add("Content-Security-Policy", submission_page_policy(chunk.decode("utf-8", "replace")))
        return status_code, headers, chunk


def _jupyter_server_extension_points():
    """Jupyter server's entry point: this module is the extension."""
    return [{"module": "autograder.formgrader_policy"}]


def _load_jupyter_server_extension(serverapp):
    """Add the policy's output transform to the server's tornado application."""
    serverapp.web_app.add_transform(SubmissionPagePolicy)
    serverapp.log.info("conv-course: Content-Security-Policy on the formgrader's submission pages")
