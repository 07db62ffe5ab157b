"""Student work made inert before the course shows it, and the policy of the pages that show it.

A submission is shown in two places: nbgrader's formgrader (a JupyterLab
server run by the instructor, whose pages can call the Jupyter contents API
and so write any file the server can) and the feedback pages handed back to
students. Left as it is, a notebook can carry script into both: an HTML
output with <script>, markdown with an `onerror` handler or a `javascript:`
link, an `application/javascript` output, a widget view, an SVG picture.

`inert_notebook` makes a notebook safe to render, once, before it is stored
where the formgrader and the feedback read it:

- markdown (cells and `text/markdown` outputs): rendered with nbconvert's own
  markdown renderer and cleaned with bleach's allow-list (ALLOWED_TAGS,
  ALLOWED_ATTRIBUTES, ALLOWED_PROTOCOLS: no script, no event handlers, no
  style, no ids but headings' anchors, links and pictures over http(s) only); markdown that renders
  to allowed HTML stays as it was written, any other is replaced by its
  cleaned HTML;
- outputs: plain text, errors (nbconvert escapes both) and PNG/JPEG pictures
  (checked to be base64) stay; `text/html` is cleaned the same way; every
  other kind (`application/javascript`, widget views, SVG, LaTeX, JSON, ...)
  is dropped, with a one-line note when nothing else is left to show;
- size: a markdown cell over MARKDOWN_CHARS characters, an output text over
  OUTPUT_CHARS, an HTML output over HTML_CHARS are cut, with a note saying so
  (nbconvert's page rendering takes a time that grows with the square of
  some markdown's length: 150 kB of `[` take minutes);
- raw cells are cleaned, notebook widget state is dropped, and a cell whose
  nbgrader grade id is not a plain name loses its nbgrader metadata (the
  formgrader writes grade ids into its pages unescaped).

`PAGE_POLICY` is the Content-Security-Policy of a feedback page: no script
at all, styles inline, pictures only as data: URLs; `with_page_policy(html)`
puts it first in a page's <head> and removes nbgrader's MathJax loader (the
pages show formulas as their TeX source).
"""

from __future__ import annotations

import base64
import binascii
import copy
import re

import bleach
import nbformat

MARKDOWN_CHARS = 10_000
OUTPUT_CHARS = 100_000
HTML_CHARS = 200_000

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "q", "s",
    "samp", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul", "var",
})
ALLOWED_ATTRIBUTES = {
    "*": ["class", "title"],
    "a": ["href", "title"],
    "img": ["src", "alt", "title", "width", "height"],
    "td": ["align", "colspan", "rowspan"],
    "th": ["align", "colspan", "rowspan"],
    "ol": ["start"],
    # nbconvert's markdown renderer gives each heading an id, for its anchor link.
    **{f"h{level}": ["id"] for level in range(1, 7)},
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
#: Output kinds shown as they are (nbconvert escapes the text ones; pictures are checked to be base64).
KEPT_TEXT = ("text/plain",)
KEPT_PICTURES = ("image/png", "image/jpeg")
DROPPED_NOTE = "[{kinds} output not shown: only text, HTML without script, PNG and JPEG pictures are]"
CUT_NOTE = "\n\n[... {count:,} more characters cut: the course shows the first {kept:,}]"
GRADE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")

_CLEANER = bleach.sanitizer.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                                    protocols=ALLOWED_PROTOCOLS, strip=False, strip_comments=True)

PAGE_POLICY = ("default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; "
               "form-action 'none'; frame-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:")
POLICY_META = f'<meta http-equiv="Content-Security-Policy" content="{PAGE_POLICY}">'
_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL)
_HEAD = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)


def clean_html(text):
    """text (HTML) with only the allowed tags, attributes and link protocols; everything else
    escaped, so it shows as text and never runs."""
    return _CLEANER.clean(text)


def cut(text, limit):
    """text, or its first `limit` characters and a note saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + CUT_NOTE.format(count=len(text) - limit, kept=limit)


def rendered_markdown(source, attachments=None):
    """The HTML nbconvert's pages make of markdown source (nbconvert's own renderer);
    None when it cannot render it (e.g. a picture names a missing attachment)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    try:
        return MarkdownWithMath(renderer=IPythonRenderer(escape=False, attachments=attachments or {})).render(source)
    except Exception:  # noqa: BLE001 - any failure: the markdown is shown as cleaned HTML instead
        return None


def inert_markdown(source, attachments=None):
    """Markdown (at most MARKDOWN_CHARS characters) that renders to no script: source itself when
    its rendering holds only allowed HTML, else the cleaned rendering (markdown may hold HTML)."""
    source = cut(source, MARKDOWN_CHARS)
    html = rendered_markdown(source, attachments)
    if html is not None and clean_html(html) == html:
        return source
    return clean_html(html if html is not None else source)


def is_base64(text):
    """Whether text (a picture's data, possibly split in lines) is plain base64."""
    try:
        base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def inert_output(output):
    """One code cell output, made inert (a new output dict)."""
    kind = output.get("output_type")
    if kind == "stream":
        return nbformat.v4.new_output("stream", name=output.get("name") if output.get("name") in ("stdout", "stderr")
                                      else "stdout", text=cut(str(output.get("text", "")), OUTPUT_CHARS))
    if kind == "error":
        traceback = [cut(str(line), OUTPUT_CHARS) for line in output.get("traceback", [])[:200]]
        return nbformat.v4.new_output("error", ename=cut(str(output.get("ename", "Error")), 300),
                                      evalue=cut(str(output.get("evalue", "")), OUTPUT_CHARS), traceback=traceback)
    data, dropped = inert_data(output.get("data") or {})
    if not data:
        data = {"text/plain": DROPPED_NOTE.format(kinds=", ".join(sorted(dropped)) or "an empty")}
    metadata = picture_sizes(output.get("metadata") or {}, data)
    if kind == "execute_result":
        count = output.get("execution_count")
        return nbformat.v4.new_output("execute_result", data=data, metadata=metadata,
                                      execution_count=count if isinstance(count, int) else None)
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata)


def inert_data(data):
    """(the MIME bundle's kinds that can be shown, made inert; the kinds dropped)."""
    kept, dropped = {}, []
    for mime, value in data.items():
        text = "".join(value) if isinstance(value, list) else value
        if not isinstance(text, str):
            dropped.append(mime)
        elif mime in KEPT_TEXT:
            kept[mime] = cut(text, OUTPUT_CHARS)
        elif mime in KEPT_PICTURES and is_base64(text):
            kept[mime] = text
        elif mime == "text/html" and len(text) <= HTML_CHARS:
            kept[mime] = clean_html(text)
        elif mime == "text/markdown":
            kept["text/html"] = kept.get("text/html") or clean_html(rendered_markdown(cut(text, MARKDOWN_CHARS)) or text)
        else:
            dropped.append(mime)
    return kept, dropped


def picture_sizes(metadata, data):
    """Of an output's metadata, only the numeric width and height of its pictures."""
    sizes = {}
    for mime in KEPT_PICTURES:
        given = metadata.get(mime) if isinstance(metadata.get(mime), dict) else {}
        numbers = {key: given[key] for key in ("width", "height")
                   if isinstance(given.get(key), (int, float)) and not isinstance(given.get(key), bool)}
        if mime in data and numbers:
            sizes[mime] = numbers
    return sizes


def inert_cell(cell):
    """One cell, made inert in place."""
    meta = cell.get("metadata", {})
    nbgrader = meta.get("nbgrader")
    if isinstance(nbgrader, dict) and "grade_id" in nbgrader and not GRADE_ID.match(str(nbgrader["grade_id"])):
        del meta["nbgrader"]
    if cell.get("cell_type") == "markdown":
        attachments = {name: {mime: value for mime, value in bundle.items()
                              if mime in KEPT_PICTURES and isinstance(value, str) and is_base64(value)}
                       for name, bundle in (cell.get("attachments") or {}).items() if isinstance(bundle, dict)}
        if "attachments" in cell:
            cell["attachments"] = attachments
        cell["source"] = inert_markdown(str(cell.get("source", "")), attachments)
    elif cell.get("cell_type") == "raw":
        cell["source"] = clean_html(cut(str(cell.get("source", "")), OUTPUT_CHARS))
        meta.pop("raw_mimetype", None)
        meta.pop("format", None)
    elif cell.get("cell_type") == "code":
        cell["outputs"] = [inert_output(output) for output in cell.get("outputs", []) if isinstance(output, dict)]
        if not isinstance(cell.get("execution_count"), int):
            cell["execution_count"] = None
    return cell


def inert_notebook(notebook):
    """A copy of notebook (an nbformat NotebookNode) with nothing that can run in a page, and
    nothing too long to render in a bounded time (see the module's docstring)."""
    result = copy.deepcopy(notebook)
    result.get("metadata", {}).pop("widgets", None)
    for cell in result.cells:
        inert_cell(cell)
    return result


def inert_notebook_text(text):
    """inert_notebook of a notebook's JSON text, as JSON text."""
    return nbformat.writes(inert_notebook(nbformat.reads(text, as_version=4)))


def with_page_policy(page):
    """An HTML page with PAGE_POLICY as the first element of its <head> (once), and without
    nbgrader's MathJax loader (the only script nbgrader's feedback page carries)."""
    page = _MATHJAX.sub("", page)
    head = _HEAD.search(page)
    if head is None:
        return f"<!DOCTYPE html>\n<html><head>{POLICY_META}</head><body>{page}</body></html>\n"
    if page[head.end():].lstrip().startswith(POLICY_META):
        return page
    return page[:head.end()] + "\n" + POLICY_META + page[head.end():]
