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
"""

from __future__ import annotations

from nbconvert.exporters import HTMLExporter


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


def compile_templates(config, coursedir):
    """Compile, in this process, the templates the feedback pages of this configuration use (the page's
    template and those it names, as far as their names are written out). config: the traitlets Config of nbgrader's GenerateFeedback
    (its exporter_class set to FeedbackPageExporter); coursedir: nbgrader's CourseDirectory.
    Returns how many were compiled."""
    from nbgrader.converters import GenerateFeedback

    from jinja2 import TemplateError, meta

    converter = GenerateFeedback(coursedir=coursedir, config=config)
    exporter = converter.exporter_class(parent=converter, config=converter.config)
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


#: The filters nbconvert's HTMLExporter.from_notebook_node sets for each page it makes.
PER_PAGE_FILTERS = ("highlight_code", "filter_data_type")


def _set_for_each_page(value, *args, **kwargs):
    raise RuntimeError("a feedback page was rendered without the filters nbconvert sets for each page")
