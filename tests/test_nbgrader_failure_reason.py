"""When nbgrader cannot grade a notebook, the instructor reads why: course.last_error_line.

nbgrader ends a failed step with "Please see the above traceback", which
points at its log; the reason is the exception in that log, and the function
that raised it."""

from autograder.course import last_error_line

FAILED_LOG = '''[AutogradeApp | INFO] Sanitizing /tmp/w0/submitted/alice/02_multi_channel/02_multi_channel.ipynb
[AutogradeApp | ERROR] There was an error processing assignment: /tmp/w0/submitted/alice/02_multi_channel
[AutogradeApp | ERROR] Traceback (most recent call last):
      File "/venv/lib/python3.11/site-packages/nbgrader/preprocessors/overwritecells.py", line 97, in preprocess
        nb, resources = self.add_missing_task_cells(nb, resources)
      File "/venv/lib/python3.11/site-packages/nbgrader/preprocessors/overwritecells.py", line 159, in add_missing_task_cells
        submitted_ids = [cell["metadata"]["nbgrader"]["grade_id"] for cell in nb.cells if
    KeyError: 'grade_id'

[ERROR] There was an error processing assignment '02_multi_channel' for student 'alice'
[ERROR] Please see the the above traceback for details on the specific errors on the above failures.
'''
FAILED_ERROR = '''Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/nbgrader/converters/base.py", line 468, in convert_notebooks
    raise NbGraderException(msg)
nbgrader.converters.base.NbGraderException: Please see the the above traceback for details on the specific errors on the above failures.
'''


def test_the_reason_is_the_exception_in_nbgraders_log_with_the_function_that_raised_it():
    assert last_error_line({"error": FAILED_ERROR, "log": FAILED_LOG}) == (
        "KeyError: 'grade_id' (in nbgrader/preprocessors/overwritecells.py, add_missing_task_cells)")


def test_an_error_line_without_a_traceback_is_the_reason():
    log = ("[ERROR] Notebook failed to validate; the nbgrader metadata may be corrupted.\n"
           "[ERROR] Please see the above traceback for details on the specific errors on the above failures.\n")
    assert last_error_line({"error": "", "log": log}) == (
        "[ERROR] Notebook failed to validate; the nbgrader metadata may be corrupted.")


def test_nbgraders_pointer_to_a_traceback_is_never_given_as_the_reason():
    log = "[ERROR] Please see the the above traceback for details on the specific errors on the above failures.\n"
    for outcome in ({"error": "", "log": log}, {"error": FAILED_ERROR, "log": log}, {"error": FAILED_ERROR}):
        assert last_error_line(outcome) == "nbgrader stopped without saying why (its log holds no error)"
