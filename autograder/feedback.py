"""What `nbgrader generate_feedback` shows a student about a failed test.

nbgrader (0.9.6) builds the feedback page from the autograded notebook, in
which the hidden tests have been put back so that they could run. Left as it
is, the page shows every hidden test: in the test cell's source, in the
traceback of a failing hidden assertion (IPython prints the failing line with
the lines around it), and in anything the kernel printed or drew once it had
run them (a last cell that prints `In` or `_ih`, the input history, or a
`post_run_cell` hook that displays each cell's source as text, HTML or a
picture). autograder/nbgrader_config.py therefore runs, before nbgrader's own
ClearHiddenTests:

- `HideOutputsAfterHiddenTests`: from the first test cell that holds hidden
  tests to the end, no output reaches the page but the test cells' errors
  (each dropped output leaves a one-line note), and no error line may quote a
  line of a hidden test;

and after it `HideTestTracebacks`, which cuts the error of each autograder
test cell down to the lines that say what is wrong, such as

    Misconception: [no-channel-sum] the channel responses must be summed

The course's test cells raise errors whose message starts with a
misconception code in square brackets, so that line is the feedback.
"""

import nbformat
from nbconvert.preprocessors import Preprocessor
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Bool

#: Where HideOutputsAfterHiddenTests leaves the hidden tests' lines for HideTestTracebacks.
HIDDEN_LINES = "conv_course_hidden_test_lines"
#: Lines of a hidden test shorter than this (`)`, `else:`) prove nothing when quoted.
SHORTEST_QUOTED = 8
DROPPED_OUTPUT = ("[output not shown in the feedback: it was made after the hidden tests ran, "
                  "and could show them. Run your notebook to see it.]\n")
QUOTED_LINE = "[a line quoting a hidden test, not shown]"


def problem_lines(evalue):
    """The lines of an error's message that say what is wrong: its first line, and each further
    line that starts with codes ("[depth-check] ..."), a check listing one problem per line."""
    lines = evalue.splitlines()
    return lines[:1] + [line for line in lines[1:] if line.startswith("[")]


def is_autograder_test_cell(cell):
    """An nbgrader "Autograder tests" cell: graded, but not an answer."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def hidden_test_lines(cell, begin=ClearHiddenTests.begin_test_delimeter.default_value,
                      end=ClearHiddenTests.end_test_delimeter.default_value):
    """The stripped lines of cell's hidden-test regions (nbgrader's markers), [] when it has none."""
    inside, lines = False, []
    for line in cell.get("source", "").splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def without_quoted_lines(problems, hidden):
    """problems (lines of an error message), each line that holds a hidden-test line replaced by a note."""
    quoted = [line for line in hidden if len(line) >= SHORTEST_QUOTED]
    return [QUOTED_LINE if any(line in problem for line in quoted) else problem for problem in problems]


class HideOutputsAfterHiddenTests(Preprocessor):
    """Drop every output made once a hidden test had run: from the first autograder test cell
    holding hidden tests to the end, code cells keep only the test cells' errors, and a
    one-line note stands in for what was dropped. Must run before nbgrader's ClearHiddenTests
    (which removes the markers it looks for); leaves the hidden lines in resources for
    HideTestTracebacks."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        hidden = [line for cell in nb.cells if is_autograder_test_cell(cell) for line in hidden_test_lines(cell)]
        resources[HIDDEN_LINES] = hidden
        first = next((index for index, cell in enumerate(nb.cells)
                      if is_autograder_test_cell(cell) and hidden_test_lines(cell)), None)
        if first is None:
            return nb, resources
        for cell in nb.cells[first:]:
            if cell.get("cell_type") != "code" or not cell.get("outputs"):
                continue
            kept = [output for output in cell.outputs
                    if is_autograder_test_cell(cell) and output.get("output_type") == "error"]
            if len(kept) < len(cell.outputs):
                kept.insert(0, nbformat.v4.new_output("stream", name="stdout", text=DROPPED_OUTPUT))
            cell.outputs = kept
        return nb, resources


class HideTestTracebacks(Preprocessor):
    """Replace the traceback of every error in an autograder test cell by
    one line, `ErrorName: message`, so no test source reaches the student.

    The cell's printed text goes too: the test itself prints one "passes"
    line, but code the student ran earlier could have hooked the kernel to
    print the hidden test's source while it ran. A line of the message that
    quotes a hidden test (resources[HIDDEN_LINES]) is replaced by a note.
    Pictures (the visible checks' drawing of a wrong answer) stay in test
    cells without hidden tests."""

    # nbconvert preprocessors are off unless enabled (nbgrader's are on).
    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if is_autograder_test_cell(cell):
            kept = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("text") != DROPPED_OUTPUT:
                    continue
                if output.get("output_type") == "error":
                    # Red error name, as IPython prints it; the HTML exporter
                    # turns the ANSI colour codes into spans.
                    problems = without_quoted_lines(problem_lines(output.get("evalue") or ""),
                                                    resources.get(HIDDEN_LINES, ()))
                    (name,) = without_quoted_lines([str(output.get("ename", "Error"))], resources.get(HIDDEN_LINES, ()))
                    output["traceback"] = [f"\x1b[0;31m{name}\x1b[0m: " + "\n".join(problems)]
                kept.append(output)
            cell["outputs"] = kept
        return cell, resources
