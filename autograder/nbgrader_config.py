"""nbgrader configuration of the Conv Channels course: run by nbgrader (and JupyterLab's nbgrader
extensions) through traitlets, never imported by the course's own code."""

# The course directory is the repository root:
#
#   solutions/<assignment>/<assignment>.ipynb   nbgrader sources (solutions, hidden tests)
#   notebooks/<assignment>/<assignment>.ipynb   student versions, made by generate_assignment
#   autograder/submitted/<student>/<assignment>/ submissions to grade        (not in git)
#   autograder/autograded/, autograder/feedback/ nbgrader's results           (not in git)
#   autograder/gradebook.db                      the gradebook, with the scores (not in git)
#
# This file is not in the repository root, so nbgrader does not find it by
# itself. Run nbgrader from the repository root and name the file, WITHOUT its
# `.py` (nbgrader adds it; note that `--config` is silently ignored):
#
#   .venv/bin/nbgrader generate_assignment 01_single_channel --force --NbGrader.config_file=autograder/nbgrader_config
#   .venv/bin/nbgrader autograde 01_single_channel --NbGrader.config_file=autograder/nbgrader_config
#   .venv/bin/nbgrader generate_feedback 01_single_channel --NbGrader.config_file=autograder/nbgrader_config
#
# `make release` regenerates every notebooks/ assignment at once (see
# autograder/release.py). `make lab` points JupyterLab's nbgrader extensions
# (the Validate button) at this file through JUPYTER_CONFIG_PATH.
#
# Every path below is computed from this file's own location, so the file
# gives the same course directory from any working directory.

import importlib.util
import os
import sysconfig

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 (injected by traitlets when it runs this file)

try:
    _HERE = os.path.dirname(os.path.abspath(__file__))
except NameError:
    # traitlets (5.x) runs config files with __file__ set; should some loader
    # not, assume nbgrader was started from the repository root.
    _HERE = os.path.abspath("autograder")
_ROOT = os.path.dirname(_HERE)

# nbgrader's gradebook runs the `alembic` command by name, which fails with
# "No such file or directory: 'alembic'" when .venv/bin/nbgrader is run without
# the venv activated: put this Python's scripts folder (.venv/bin) on PATH.
_SCRIPTS = sysconfig.get_path("scripts")
if _SCRIPTS not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _SCRIPTS + os.pathsep + os.environ.get("PATH", "")

c.CourseDirectory.course_id = "conv-channels"
c.CourseDirectory.root = _ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join("autograder", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("autograder", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("autograder", "feedback")
# Spelt out, so it stays put when --CourseDirectory.root moves the course on the
# command line (tests do that, and then pass their own --CourseDirectory.db_url).
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_HERE, "gradebook.db")

# `conv-course formgrade --course DIR` opens the formgrader on a course that
# `conv-course grade --course DIR` kept in DIR (autograder/course.py's layout).
_FORMGRADE_COURSE = os.environ.get("CONV_COURSE_FORMGRADE_COURSE")
if _FORMGRADE_COURSE:
    c.CourseDirectory.root = _FORMGRADE_COURSE
    c.CourseDirectory.source_directory = "source"
    c.CourseDirectory.submitted_directory = "submitted"
    c.CourseDirectory.autograded_directory = "autograded"
    c.CourseDirectory.feedback_directory = "feedback"
    c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_FORMGRADE_COURSE, "gradebook.db")

# generate_assignment creates a missing assignment in the gradebook by itself
# (GenerateAssignment.create_assignment, True by default in nbgrader 0.9; the
# --create flag is deprecated), so no `nbgrader db assignment add` step is
# needed. Stated here so that a change of default cannot break `make release`.
# (`--no-db` releases without a gradebook: autograder/release.py gradebook=None.)
c.GenerateAssignment.create_assignment = True

# Released solution cells keep the function's signature and docstring; the
# body between ### BEGIN SOLUTION and ### END SOLUTION becomes this stub (the
# nbgrader default, spelt out because the course's checks rely on it: an
# unfinished function raises NotImplementedError).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Outputs: generate_assignment's own ClearOutput empties every code cell's
# outputs and execution count, so released notebooks carry none (a test checks
# it). nbconvert's ClearMetadataPreprocessor is deliberately not added: cell
# metadata is what nbgrader (and JupyterLab's locking) reads.

# Autograde and Validate run every cell of a notebook; 30 s (nbgrader's
# default) is tight for the VGG16 cells on a 2-core machine.
c.Execute.timeout = 120

# Feedback: nbgrader puts the hidden tests back into the autograded notebook to
# run them, and its feedback page would show them (in the test cell and in the
# traceback of a failing hidden assertion). Clear them again, and cut the error
# of each test cell down to "ErrorName: [misconception-code] message"; see
# autograder/feedback.py. GetGrades and the CSS header are nbgrader's defaults.
# Loaded from this file's folder by path, not as `autograder.feedback`: nbgrader
# puts its working directory first on sys.path, where another folder named
# autograder may be found first.
_spec = importlib.util.spec_from_file_location("conv_channels_feedback", os.path.join(_HERE, "feedback.py"))
_feedback = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_feedback)
#
# HideOutputsAfterHiddenTests comes before ClearHiddenTests, which removes the
# markers it looks for: from the first test cell with hidden tests on, only the
# test cells' errors reach the page (a print(In) or a post_run_cell hook there
# could show the hidden tests).
c.GenerateFeedback.preprocessors = [GetGrades, _feedback.HideOutputsAfterHiddenTests, ClearHiddenTests,
                                    _feedback.HideTestTracebacks, CSSHTMLHeaderPreprocessor]

# Student work must not run in the pages that show it: the course stores each
# graded notebook already made inert (autograder/inert.py, with its own
# allow-list). nbconvert's HTMLExporter.sanitize_html is left off: its
# allow-list has no headings, paragraphs or pictures, and shows them as
# escaped tags.
