"""What `nbgrader generate_feedback` shows a student about a failed test.

nbgrader (0.9.6) builds the feedback page from the autograded notebook, in
which the hidden tests have been put back so that they could run. Left as it
is, the page shows every hidden test twice: in the test cell's source, and in
the traceback of a failing hidden assertion (IPython prints the failing line
with the lines around it). autograder/nbgrader_config.py therefore runs
nbgrader's own ClearHiddenTests on the feedback as well, and then
`HideTestTracebacks` below, which cuts the error of each autograder test cell
down to its last line, such as

    Misconception: [no-channel-sum] the channel responses must be summed

The course's test cells raise errors whose message starts with a
misconception code in square brackets, so that line is the feedback.
"""

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool


def problem_lines(evalue):
    """The lines of an error's message that say what is wrong: its first line, and each further
    line that starts with codes ("[depth-check] ..."), a check listing one problem per line."""
    lines = evalue.splitlines()
    return lines[:1] + [line for line in lines[1:] if line.startswith("[")]


def is_autograder_test_cell(cell):
    """An nbgrader "Autograder tests" cell: graded, but not an answer."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


class HideTestTracebacks(Preprocessor):
    """Replace the traceback of every error in an autograder test cell by
    one line, `ErrorName: message`, so no test source reaches the student.

    The cell's printed text goes too: the test itself prints one "passes"
    line, but code the student ran earlier could have hooked the kernel to
    print the hidden test's source while it ran. Pictures (the visible
    checks' drawing of a wrong answer) stay."""

    # nbconvert preprocessors are off unless enabled (nbgrader's are on).
    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if is_autograder_test_cell(cell):
            kept = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    continue
                if output.get("output_type") == "error":
                    # Red error name, as IPython prints it; the HTML exporter
                    # turns the ANSI colour codes into spans.
                    problems = problem_lines(output.get("evalue") or "")
                    output["traceback"] = [f"\x1b[0;31m{output.get('ename', 'Error')}\x1b[0m: " + "\n".join(problems)]
                kept.append(output)
            cell["outputs"] = kept
        return cell, resources
