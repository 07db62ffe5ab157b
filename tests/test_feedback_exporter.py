"""The feedback pages' exporter (autograder/feedback_exporter.py) compiles its templates once per process."""

import nbformat
import pytest
from nbconvert.exporters import HTMLExporter
from notebook_tools import REPO

from autograder.feedback_exporter import MISSING_ALT, FeedbackPageExporter, with_alt_text


def notebook_with(text):
    """A small notebook whose cell ids are fixed (new cells get random ones, which pages show)."""
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# {text}", id="title"),
        nbformat.v4.new_code_cell("print(1 + 1)", id="sum", outputs=[nbformat.v4.new_output("stream", text="2\n")]),
    ])


def test_a_page_made_with_the_shared_templates_is_the_page_a_fresh_exporter_makes():
    """Feedback pages reuse one Jinja environment per process (feedback_exporter.py); each page must
    come out as nbconvert's own exporter makes it, the first and every later one (read as nbconvert's
    last pass reads it, which this exporter leaves out)."""
    from bs4 import BeautifulSoup

    shared = [str(BeautifulSoup(FeedbackPageExporter(template_name="classic").from_notebook_node(
        notebook_with(text))[0], features="html.parser")) for text in ("first learner", "second learner", "first learner")]
    fresh = [HTMLExporter(template_name="classic").from_notebook_node(notebook_with(text))[0]
             for text in ("first learner", "second learner")]
    assert shared[0] == fresh[0] and shared[1] == fresh[1] and shared[2] == fresh[0]
    assert "second learner" in shared[1] and "first learner" not in shared[1]
    assert len(FeedbackPageExporter._environments) >= 1


def notebook_with_pictures():
    """A notebook whose page has pictures with and without alt text, and text that only looks like a tag."""
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("![a filter](data:image/png;base64," + png + ")\n\n`<img src=x>` in code",
                                      id="pictures"),
        nbformat.v4.new_code_cell("show()", id="plot", outputs=[
            nbformat.v4.new_output("display_data", data={"image/png": png}),
            nbformat.v4.new_output("display_data", data={"text/html": f'<img src="data:image/png;base64,{png}"/>'}),
            nbformat.v4.new_output("stream", text="<img src=y> printed\n"),
        ]),
    ])


def test_a_page_without_nbconverts_last_pass_is_the_document_nbconvert_makes():
    """The exporter leaves out nbconvert's BeautifulSoup pass over the finished page: the same
    document must come out, so parsed as nbconvert parses it, it is nbconvert's page, pictures'
    alt text included; and text that only looks like a picture tag is left as it was."""
    from bs4 import BeautifulSoup

    ours = FeedbackPageExporter(template_name="classic").from_notebook_node(notebook_with_pictures())[0]
    theirs = HTMLExporter(template_name="classic").from_notebook_node(notebook_with_pictures())[0]
    assert str(BeautifulSoup(ours, features="html.parser")) == theirs
    soup = BeautifulSoup(ours, features="html.parser")
    pictures = soup.find_all("img")
    assert len(pictures) == 3 and [picture["alt"] for picture in pictures].count(MISSING_ALT) == 2
    assert "a filter" in [picture["alt"] for picture in pictures]
    assert "&lt;img src=x&gt;" in ours and "&lt;img src=y&gt; printed" in ours


def test_alt_text_is_added_only_where_a_picture_has_none():
    assert with_alt_text('<p><img src="a.png"></p>') == f'<p><img src="a.png" alt="{MISSING_ALT}"></p>'
    assert with_alt_text('<img src="a.png" />') == f'<img src="a.png" alt="{MISSING_ALT}"/>'
    assert with_alt_text('<IMG SRC="a.png" ALT="kept">') == '<IMG SRC="a.png" ALT="kept">'
    assert with_alt_text("<imgs> and &lt;img&gt;") == "<imgs> and &lt;img&gt;"
    # an attribute value holding ">" or " alt=" is a value: neither the end of the tag nor its alt text
    assert with_alt_text('<img title="a>b alt=c" src="a.png">') == f'<img title="a>b alt=c" src="a.png" alt="{MISSING_ALT}">'


def test_a_cell_rendered_once_is_not_rendered_again_and_the_page_is_the_same(monkeypatch):
    """Teaching cells are the same in every learner's page: their highlighted code and rendered markdown
    are remembered, so a later page renders neither again, and comes out the same."""
    import nbconvert.exporters.html as nbconvert_html
    import nbconvert.filters.highlight as highlight

    from autograder.feedback_exporter import RememberedHighlight

    notebook = notebook_with("a teaching cell, remembered")
    first = FeedbackPageExporter(template_name="classic").from_notebook_node(notebook)[0]
    assert any("remembered" in key[0] for key in FeedbackPageExporter._remembered_markdown)
    assert any(key[0] == "print(1 + 1)" for key in RememberedHighlight._remembered)

    def rendered_again(*args, **kwargs):
        raise AssertionError("a remembered cell was rendered again")

    monkeypatch.setattr(highlight, "_pygments_highlight", rendered_again)
    monkeypatch.setattr(nbconvert_html.MarkdownWithMath, "render", rendered_again)
    assert FeedbackPageExporter(template_name="classic").from_notebook_node(notebook)[0] == first
    changed = notebook_with("a teaching cell, remembered")
    changed.cells[1].source = "print(2 + 2)"  # what a learner wrote is rendered for its page
    with pytest.raises(AssertionError, match="rendered again"):
        FeedbackPageExporter(template_name="classic").from_notebook_node(changed)


def test_the_worker_remembers_an_assignments_own_cells_with_the_pages_exporter(tmp_path):
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from autograder.feedback_exporter import RememberedHighlight, remember_cells

    config = Config()
    config.GenerateFeedback.exporter_class = FeedbackPageExporter
    source = nbformat.read(REPO / "solutions" / "01_single_channel" / "01_single_channel.ipynb", as_version=4)
    cells = [cell for cell in source.cells if cell.cell_type in ("code", "markdown")]
    assert remember_cells(config, CourseDirectory(root=str(tmp_path), config=config), source) == len(cells)
    markdown = {key[0] for key in FeedbackPageExporter._remembered_markdown}
    code = {key[0] for key in RememberedHighlight._remembered}
    assert all(cell.source in (markdown if cell.cell_type == "markdown" else code) for cell in cells)


def test_the_cells_are_remembered_with_the_lexer_every_graded_notebook_names():
    """The worker remembers an assignment's cells highlighted as a graded notebook's cells are: with the
    lexer of the language_info that the grading kernel (ipykernel) reports and nbclient writes in."""
    from ipykernel.ipkernel import IPythonKernel

    from autograder.worker import GRADED_LEXER

    assert GRADED_LEXER == IPythonKernel.language_info["pygments_lexer"]
