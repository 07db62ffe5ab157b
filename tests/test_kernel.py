"""The sandboxed kernel (autograder/kernel.py) keeps a budget of output and stops what passes its caps.

Each test runs a small notebook through SandboxedExecute, as nbgrader's
autograde does in a grading worker, and asserts what was kept of its output,
what the kernel's NotebookRun recorded, and that nothing of the sandbox (its
scratch space, its memory group) is left afterwards. Without bubblewrap these
tests skip, except in CI.
"""

import os

import nbformat
import pytest
from nbclient.exceptions import DeadKernelError
from traitlets.config import Config

from sandbox_users import sandbox_user

from autograder import confinement, kernel

pytestmark = pytest.mark.usefixtures("needs_bubblewrap")

KB = 1024


def run_notebook(sources, tmp_path, **settings):
    """Run code cells (sources) in the sandboxed kernel with SandboxedExecute
    settings (cell_output_bytes=..., deadline_seconds=..., disk_mb=...).
    Returns (the executed notebook, its NotebookRun, the exception nbclient raised or None)."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    config = Config()
    config.SandboxedKernelManager.scratch_root = str(tmp_path)
    config.SandboxedKernelManager.sandbox_user = sandbox_user()
    for name in ("deadline_seconds", "disk_mb", "memory_mb"):
        if name in settings:
            setattr(config.SandboxedKernelManager, name, settings.pop(name))
    os.chmod(tmp_path, 0o755)
    record = kernel.begin_notebook()
    execute = kernel.SandboxedExecute(config=config, timeout=60, **settings)
    raised = None
    try:
        execute.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    except Exception as error:  # noqa: BLE001 - what nbclient raised is part of what is asserted
        raised = error
    assert not [point for point, _ in confinement.scratch_mounts() if point.startswith(str(tmp_path))]
    assert not [path for path in tmp_path.iterdir() if path.name.startswith("k-")], "a scratch folder was left"
    return notebook, record, raised


def kept_bytes(cell):
    return sum(len(output.get("text", "")) for output in cell.outputs if output.output_type == "stream")


def test_output_past_a_cells_budget_is_dropped_with_one_note(tmp_path):
    notebook, record, raised = run_notebook([
        "for _ in range(40):\n    print('a' * (256 * 1024 - 1), flush=True)\n",  # 10 MB
        "print('the next cell has a budget of its own')\n",
    ], tmp_path, cell_output_bytes=1024 * KB, notebook_output_bytes=4096 * KB)
    assert raised is None
    flood, after = notebook.cells
    notes = [output.text for output in flood.outputs if "[output cut]" in output.get("text", "")]
    assert len(notes) == 1 and "1.0 MB a cell" in notes[0], notes
    assert kept_bytes(flood) - len(notes[0]) <= 1024 * KB
    assert 9 * 1024 * KB < record.dropped < record.printed
    assert after.outputs[0].text == "the next cell has a budget of its own\n"


def test_the_notebook_has_a_budget_of_all_its_cells_together(tmp_path):
    cell = "for _ in range(3):\n    print('b' * (256 * 1024 - 1), flush=True)\n"  # 768 KB a cell
    notebook, record, raised = run_notebook([cell, cell], tmp_path, cell_output_bytes=1024 * KB,
                                            notebook_output_bytes=1024 * KB)
    first, second = notebook.cells
    assert not any("[output cut]" in output.get("text", "") for output in first.outputs)
    assert any("[output cut]" in output.get("text", "") for output in second.outputs)
    assert kept_bytes(first) + kept_bytes(second) < 1024 * KB + 1024


def test_output_a_cell_clears_does_not_count_against_it(tmp_path):
    """A live plot redraws itself: clear_output(wait=True), then the new picture."""
    notebook, record, raised = run_notebook([
        "from IPython.display import clear_output\n"
        "for step in range(30):\n"
        "    clear_output(wait=True)\n"
        "    print(str(step) * (100 * 1024), flush=True)\n",  # 3 MB in all, 100 KB at a time
    ], tmp_path, cell_output_bytes=512 * KB, notebook_output_bytes=512 * KB)
    assert raised is None and record.dropped == 0
    assert notebook.cells[0].outputs[-1].text.startswith("29")


def test_a_notebook_past_its_deadline_is_stopped_and_says_so(tmp_path):
    notebook, record, raised = run_notebook(
        ["import os\nprint(os.statvfs('.').f_blocks * os.statvfs('.').f_frsize // 2**20)\n",
         *["import time\ntime.sleep(1)\n"] * 8],
        tmp_path, deadline_seconds=4.0, disk_mb=32)
    assert isinstance(raised, DeadKernelError)
    assert (record.stopped, record.interrupts) == ("deadline", 0)
    if confinement.mechanisms().disk == "tmpfs":
        assert notebook.cells[0].outputs[0].text.strip() == "32"  # the kernel's folder is a 32 MB tmpfs


def test_grading_draws_no_picture_but_runs_the_code_that_makes_it(tmp_path):
    """The checks never look at a picture, so the grading kernel renders none and lays none out
    (kernel_startup.py): the figure and the animation are still made, and a line stands where each
    would be shown."""
    notebook, record, raised = run_notebook([
        "import matplotlib.pyplot as plt\n%matplotlib inline\n"
        "figure, axes = plt.subplots(1, 2)\naxes[0].imshow([[0, 1], [1, 0]])\nprint(len(figure.axes), 'axes')\n"
        "placed = axes[0].get_position().bounds\nfigure.set_layout_engine('constrained')\n"
        "figure.draw_without_rendering()\nprint('laid out:', axes[0].get_position().bounds != placed)\n",
        "from IPython.display import HTML\nfrom matplotlib import animation\n"
        "figure = plt.figure()\nmovie = animation.FuncAnimation(figure, lambda frame: [], frames=3)\n"
        "plt.close(figure)\nHTML(movie.to_jshtml())\n",
        "'_conv_course_grading_draws_no_pictures' in dir()\n",
    ], tmp_path)
    assert raised is None
    figure_cell, animation_cell, namespace_cell = notebook.cells
    everything = [output for cell in notebook.cells for output in cell.outputs]
    assert not [output for output in everything if set(output.get("data", {})) - {"text/plain", "text/html"}]
    assert not [output for output in everything if output.get("name") == "stderr"], "a warning was printed"
    assert figure_cell.outputs[0].text == "2 axes\nlaid out: False\n"  # made as in the learner's notebook, not laid out
    assert "grading does not draw pictures" in figure_cell.outputs[1].data["text/plain"]
    assert "grading does not draw pictures" in animation_cell.outputs[0].data["text/html"]
    assert namespace_cell.outputs[0].data["text/plain"] == "False"  # the start-up left no name behind
    assert {"kernel start", "notebook cells", "kernel stop"} <= set(record.watch.seconds)
