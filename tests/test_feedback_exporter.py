"""The feedback pages' exporter (autograder/feedback_exporter.py) compiles its templates once per process."""

import nbformat
from nbconvert.exporters import HTMLExporter

from autograder.feedback_exporter import FeedbackPageExporter


def notebook_with(text):
    """A small notebook whose cell ids are fixed (new cells get random ones, which pages show)."""
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# {text}", id="title"),
        nbformat.v4.new_code_cell("print(1 + 1)", id="sum", outputs=[nbformat.v4.new_output("stream", text="2\n")]),
    ])


def test_a_page_made_with_the_shared_templates_is_the_page_a_fresh_exporter_makes():
    """Feedback pages reuse one Jinja environment per process (feedback_exporter.py); each page must
    come out as nbconvert's own exporter makes it, the first and every later one."""
    shared = [FeedbackPageExporter(template_name="classic").from_notebook_node(notebook_with(text))[0]
              for text in ("first learner", "second learner", "first learner")]
    fresh = [HTMLExporter(template_name="classic").from_notebook_node(notebook_with(text))[0]
             for text in ("first learner", "second learner")]
    assert shared[0] == fresh[0] and shared[1] == fresh[1] and shared[2] == fresh[0]
    assert "second learner" in shared[1] and "first learner" not in shared[1]
    assert len(FeedbackPageExporter._environments) >= 1
