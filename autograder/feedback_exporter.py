"""The HTML exporter of the feedback pages, whose compiled templates outlive one page.

nbgrader's generate_feedback makes a new nbconvert HTMLExporter for every page,
and each new exporter compiles its Jinja templates again: a third of a page's
time. `FeedbackPageExporter` keeps one Jinja environment per process for each
set of template folders, with the templates compiled in it; each exporter only
sets its own filters on it again (they are bound to it, and a page's
filter_data_type is set per page by nbconvert anyway).

A grading worker makes each page in a process forked for it
(worker.within_deadline), which would throw away whatever it compiled, so the
worker compiles the templates once beforehand: `compile_templates(config)`.

The exporter also leaves out nbconvert's last pass over a finished page: it
parses the whole page with BeautifulSoup's pure-Python parser to give
pictures without alt text the sentence `MISSING_ALT`, to make JupyterLab-style
cells focusable (the feedback pages use the classic template, which has none),
and writes the page out again; that was half of a page's time. Here the alt
text is given to those pictures directly (`with_alt_text`), and the page is
the one the templates wrote: parsed the way nbconvert parses it, it is the
page nbconvert makes (tested).

Most cells of a page are the notebook's own teaching cells, the same in every
learner's page, and highlighting code (pygments) and rendering markdown
(mistune) were a third of what was left. Both are remembered in the process by
everything that decides their result (`RememberedHighlight`,
`FeedbackPageExporter.markdown2html`), and the worker renders the assignment's
own source notebook once before it forks the pages' processes
(`remember_cells`): each page then renders only what the learner wrote.
"""

from __future__ import annotations

import json
import re

from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

#: What nbconvert's HTMLExporter gives a picture that has no alt text.
MISSING_ALT = "No description has been provided for this image"
#: An <img tag, whose quoted attribute values may hold ">" (the templates and the inert notebook escape
#: every other "<" of a page's text); and its alt attribute, outside any quoted value.
_ATTRIBUTES = r"""(?:[^>"']|"[^"]*"|'[^']*')"""
_IMG_TAG = re.compile(rf"<img\b{_ATTRIBUTES}*>", re.IGNORECASE)
_HAS_ALT = re.compile(rf"<img\b{_ATTRIBUTES}*?\salt\s*=", re.IGNORECASE)


def with_alt_text(html):
    """html with alt="MISSING_ALT" added to each <img> tag that has no alt attribute."""
    def add_alt(tag):
        text = tag.group(0)
        if _HAS_ALT.match(text):
            return text
        end = len(text) - (2 if text.endswith("/>") else 1)
        return f'{text[:end].rstrip()} alt="{MISSING_ALT}"{text[end:]}'

    return _IMG_TAG.sub(add_alt, html)


#: At most this many highlighted code cells and rendered markdown sources are remembered per process.
REMEMBERED_CELLS = 5000


def _remember(memory, key, make):
    """memory[key], made with make() the first time (kept while memory holds under REMEMBERED_CELLS)."""
    if key in memory:
        return memory[key]
    value = make()
    if len(memory) < REMEMBERED_CELLS:
        memory[key] = value
    return value


def _as_key(value):
    return json.dumps(value, sort_keys=True, default=str)


class RememberedHighlight(Highlight2HTML):
    """nbconvert's highlighting of a code cell, remembered by what decides it: the source, the language,
    the cell's magics language (nbconvert's only use of the cell's metadata) and the formatter options."""

    _remembered = {}

    def __call__(self, source, language=None, metadata=None):
        language = language or self.pygments_lexer
        key = (source, language, (metadata or {}).get("magics_language"), _as_key(self.extra_formatter_options))
        return _remember(self._remembered, key, lambda: super(RememberedHighlight, self).__call__(
            source, language, metadata))


class FeedbackPageExporter(HTMLExporter):
    """nbconvert's HTMLExporter, sharing its Jinja environment with every earlier one of this process."""

    _environments = {}  # (template folders, extension, async): the Jinja Environment made for them

    def _create_environment(self):
        key = (tuple(self.template_paths), self.template_extension, self.enable_async, self.raw_template)
        environment = self._environments.get(key)
        if environment is None:
            environment = self._environments[key] = super()._create_environment()
            return environment
        for name, value in self.default_filters():
            self._register_filter(environment, name, value)
        for name, value in (self.filters or {}).items():
            self._register_filter(environment, name, value)
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        """(page HTML, resources) of notebook nb: the page of HTMLExporter.from_notebook_node, made
        without its BeautifulSoup pass (see the module's docstring)."""
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", RememberedHighlight(pygments_lexer=lexer_of(nb), parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return with_alt_text(html), resources

    _remembered_markdown = {}

    @pass_context
    def markdown2html(self, context, source):
        """HTMLExporter's markdown filter, remembered by what decides its result: the source, the cell's
        attachments, the exporter's markdown settings, and the notebook's folder only when pictures
        are embedded from files (the one use nbconvert makes of it)."""
        cell = context.get("cell", {})
        folder = context.get("resources", {}).get("metadata", {}).get("path", "") if self.embed_images else ""
        key = (source, _as_key(cell.get("attachments", {})), folder, self.embed_images, self.anchor_link_text,
               self.exclude_anchor_links, _as_key(self.lexer_options))
        return _remember(self._remembered_markdown, key, lambda: HTMLExporter.markdown2html(self, context, source))


def pages_exporter(config, coursedir):
    """The exporter nbgrader's generate_feedback makes each page with, for config (the traitlets Config of
    nbgrader's GenerateFeedback, its exporter_class set to FeedbackPageExporter) and coursedir (nbgrader's
    CourseDirectory)."""
    from nbgrader.converters import GenerateFeedback

    converter = GenerateFeedback(coursedir=coursedir, config=config)
    return converter.exporter_class(parent=converter, config=converter.config)


def compile_templates(config, coursedir):
    """Compile, in this process, the templates the feedback pages of this configuration use (the page's
    template and those it names, as far as their names are written out). config: the traitlets Config of nbgrader's GenerateFeedback
    (its exporter_class set to FeedbackPageExporter); coursedir: nbgrader's CourseDirectory.
    Returns how many were compiled."""
    from jinja2 import TemplateError, meta

    exporter = pages_exporter(config, coursedir)
    environment = exporter.environment
    for name in PER_PAGE_FILTERS:  # Jinja wants each filter a template names to exist when it compiles
        environment.filters.setdefault(name, _set_for_each_page)
    compiled, waiting, seen = 0, [exporter.template_file], set()
    while waiting:  # the page's template, then each template it extends, includes or imports
        name = waiting.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            template = environment.get_template(name)
            source, _, _ = environment.loader.get_source(environment, template.name)
            waiting += [found for found in meta.find_referenced_templates(environment.parse(source)) if found]
            compiled += 1
        except TemplateError:  # a template named only at render time: compiled then
            pass
    return compiled


def remember_cells(config, coursedir, notebook, lexer=None):
    """Highlight the code cells and render the markdown cells of notebook (an nbformat NotebookNode the
    course trusts, such as an assignment's source notebook, never a learner's) as the feedback pages'
    exporter does, so that this process remembers them (see the module's docstring). config, coursedir:
    as compile_templates's; lexer: the pygments lexer of the notebooks whose pages will be made
    (their language_info's; default: notebook's own). Returns how many cells are remembered; a cell
    that cannot be rendered is left for its page, which says what is wrong with it."""
    exporter = pages_exporter(config, coursedir)
    highlight = RememberedHighlight(pygments_lexer=lexer or lexer_of(notebook), parent=exporter)
    remembered = 0
    for cell in notebook.cells:
        try:
            if cell.cell_type == "code":
                highlight(cell.source, metadata=cell.metadata)
            elif cell.cell_type == "markdown":
                exporter.markdown2html({"cell": cell, "resources": {}}, cell.source)
            else:
                continue
        except Exception:  # noqa: BLE001 - e.g. a missing attachment: its page renders it and says so
            continue
        remembered += 1
    return remembered


def lexer_of(notebook):
    """The pygments lexer nbconvert highlights a notebook's code with (None: nbconvert's default)."""
    language = notebook.metadata.get("language_info", {})
    return language.get("pygments_lexer", language.get("name", None))


#: The filters nbconvert's HTMLExporter.from_notebook_node sets for each page it makes.
PER_PAGE_FILTERS = ("highlight_code", "filter_data_type")


def _set_for_each_page(value, *args, **kwargs):
    raise RuntimeError("a feedback page was rendered without the filters nbconvert sets for each page")
