"""The `conv-course` command: release, grade, feedback, formgrade, export, report.

    conv-course release                      student notebooks from solutions/ (nbgrader generate_assignment)
    conv-course grade SUBMISSIONS --out OUT  grades.csv, tests.csv and feedback pages for every submission
        [--cluster local:N | tcp://HOST:8786]   the same, on Dask workers (pip install 'conv-channels[cluster]')
        [--deadline 2026-12-01T23:59]           a `late` column; [--late-penalty 10%/day,max=50%] lowers score
        [--no-similarity] [--no-report]         no OUT/similarity.csv; no report
    conv-course feedback --out OUT           again, after written answers were graded by hand
    conv-course formgrade                    JupyterLab with nbgrader's formgrader on this course
    conv-course export OUT --to canvas       OUT/grades.csv as the file Canvas's (or --to moodle, Moodle's)
        [--roster FILE] [--as percent]          gradebook imports: OUT/canvas-grades.csv, OUT/moodle-grades.csv
    conv-course report OUT                   the report of an earlier grade run (autograder/report.py)

Exit status: 0 when every submission got its row (whatever its status);
1 when the grader itself could not run, with the reason on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import sysconfig
from pathlib import Path

from . import late_work, release
from .journal import FILE_NAME as JOURNAL_FILE
from .journal import RUN_FILE


#: Set by `conv-course formgrade --course DIR` for autograder/nbgrader_config.py.
FORMGRADE_COURSE = "CONV_COURSE_FORMGRADE_COURSE"
ROOT_WARNING = (
    "conv-course formgrade: warning: running as root. The formgrader is a Jupyter server: anything "
    "that runs in its pages (a student's notebook shown for grading, were it not made inert) acts "
    "with root's rights, on every file of this machine. Submissions are stored inert and their pages "
    "forbid script, but to be safe run the formgrader as an ordinary user who owns the course folder "
    "(e.g. `sudo -u grader .venv/bin/conv-course formgrade`), or in a container of its own."
)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text}")
    return value


def deadline_text(text):
    """--deadline, checked now (late_work.parse_deadline) so that a typo stops before any grading."""
    try:
        late_work.parse_deadline(text)
    except late_work.LateWorkError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def penalty_text(text):
    """--late-penalty, checked now (late_work.parse_penalty)."""
    try:
        late_work.parse_penalty(text)
    except late_work.LateWorkError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def parser():
    from .submissions import ACCEPTED_PATTERNS

    main = argparse.ArgumentParser(prog="conv-course", description=__doc__.split("\n\n")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = main.add_subparsers(dest="command", required=True)

    release_cmd = commands.add_parser("release", help="generate notebooks/ from solutions/ with nbgrader")
    release_cmd.add_argument("assignments", nargs="*", help="assignments to release (default: all)")

    grade_cmd = commands.add_parser(
        "grade", help="grade a folder of submissions",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Grade every submission with nbgrader's autograde, each kernel in a sandbox, "
                    "and check every graded function again in a separate process.\n\n" + ACCEPTED_PATTERNS,
    )
    grade_cmd.add_argument("submissions", type=Path, help="folder of submissions")
    grade_cmd.add_argument("--out", type=Path, required=True, help="folder for grades.csv, tests.csv and feedback/")
    grade_cmd.add_argument("--assignment", action="append", default=[], metavar="A",
                           help="grade only this assignment (repeatable; default: those found)")
    grade_cmd.add_argument("--jobs", type=positive_int, default=0,
                           help="submissions graded at once (default: the number of cores)")
    grade_cmd.add_argument("--timeout", type=positive_int, default=60, help="seconds per cell (default 60)")
    grade_cmd.add_argument("--notebook-timeout", type=positive_int, default=0, metavar="SECONDS",
                           help="seconds for a whole notebook, all its cells together "
                                "(default: 4 x --timeout, at least 30)")
    grade_cmd.add_argument("--memory", type=positive_int, default=2048, metavar="MB",
                           help="memory of each notebook's sandbox, all its processes together, MB (default 2048); "
                                "a memory cgroup enforces it where the machine allows (as root with cgroup v1), "
                                "else a watchdog: the summary says which")
    grade_cmd.add_argument("--disk", type=positive_int, default=256, metavar="MB",
                           help="disk space of each notebook's sandbox, all its files together, MB (default 256; "
                                "and 32 files a MB); a tmpfs when run as root, else a watchdog")
    grade_cmd.add_argument("--no-feedback", action="store_true",
                           help="no feedback pages (make them later with `conv-course feedback`)")
    grade_cmd.add_argument("--cluster", metavar="ADDRESS", default="",
                           help="grade on Dask: a scheduler's address (tcp://HOST:8786) or local:N for N "
                                "worker processes here; needs pip install 'conv-channels[cluster]' "
                                "(default: this machine's --jobs)")
    grade_cmd.add_argument("--force", action="store_true",
                           help=f"grade again the submissions (of the assignments graded now) that an earlier "
                                f"run into OUT already graded (by default they are kept: OUT/{JOURNAL_FILE} lists them)")
    grade_cmd.add_argument("--deadline", type=deadline_text, default=None, metavar="WHEN",
                           help="ISO 8601: 2026-12-01T23:59 is this machine's local time, 2026-12-01T23:59Z or "
                                "...+01:00 that instant; 23:59 is on time up to 23:59:59. A submission whose file "
                                "time is later is marked in grades.csv's `late` column. Canvas's LATE_ marker "
                                "decides for Canvas names (their file times are the zip's), with or without it")
    grade_cmd.add_argument("--late-penalty", type=penalty_text, default=None, metavar="POLICY",
                           help="e.g. 10%%/day,max=50%% or 5%%/hour: each started day (hour) late deducts that "
                                "percentage of the assignment's points from `score` (as Canvas's late policy), "
                                "at most max= in all, rounded to 0.01 points; auto_score and manual_score stay. "
                                "A submission only Canvas marked late loses one day (hour). Default: no penalty")
    grade_cmd.add_argument("--no-similarity", action="store_true",
                           help="do not write OUT/similarity.csv (pairs of submissions worth a look for copying)")
    grade_cmd.add_argument("--no-report", action="store_true", help="do not write the report at the end")
    add_common(grade_cmd)

    feedback_cmd = commands.add_parser("feedback", help="re-read scores after manual grading; new feedback pages")
    feedback_cmd.add_argument("--out", type=Path, required=True, help="the folder of an earlier `grade` run")
    feedback_cmd.add_argument("--jobs", type=positive_int, default=0)
    add_common(feedback_cmd)

    formgrade_cmd = commands.add_parser("formgrade", help="open nbgrader's formgrader (JupyterLab) on this course")
    formgrade_cmd.add_argument("--port", type=int, default=8888)
    formgrade_cmd.add_argument("--no-browser", action="store_true")
    formgrade_cmd.add_argument("--course", type=Path, default=None, metavar="DIR",
                               help="the course kept in DIR by `conv-course grade --course DIR` "
                                    "(default: autograder/gradebook.db and autograder/*/)")

    from .lms_export import LMSES

    export_cmd = commands.add_parser(
        "export", help="grades.csv as the CSV file Canvas's or Moodle's gradebook imports",
        description="Write OUT/grades.csv as the CSV file an LMS gradebook imports (autograder/lms_export.py "
                    "says which documented rules it follows). Work not handed in is left empty (an empty cell "
                    "sets no grade) unless --missing-as-zero.")
    export_cmd.add_argument("out", type=Path, metavar="OUT", help="the folder of an earlier `grade` run")
    export_cmd.add_argument("--to", required=True, choices=LMSES, help="the LMS to import the file")
    export_cmd.add_argument("--roster", type=Path, metavar="FILE",
                            help="the LMS's export of its learners (Canvas: Grades > Export; Moodle: Grades > "
                                 "Export > Plain text file): names, and a line for each learner who sent "
                                 "nothing; needed for Moodle")
    export_cmd.add_argument("--as", dest="scale", choices=("points", "percent"), default="points",
                            help="points (default) or percent of each assignment's points")
    export_cmd.add_argument("--missing-as-zero", action="store_true",
                            help="0 for work not handed in (default: an empty cell, which sets no grade)")
    export_cmd.add_argument("--assignment-name", action="append", default=[], metavar="ASSIGNMENT=COLUMN",
                            help="the column of an assignment, e.g. 02_multi_channel=\"Notebook 2 (12345)\" "
                                 "(Canvas updates the assignment 12345; repeatable; default: the assignment)")
    export_cmd.add_argument("--output", type=Path, metavar="FILE",
                            help="write here (default: OUT/canvas-grades.csv or OUT/moodle-grades.csv)")

    report_cmd = commands.add_parser("report", help="the report of an earlier grade run",
                                     description=f"Write the report of the grade run into OUT (its options from "
                                                 f"OUT/{RUN_FILE}) and print where it is.")
    report_cmd.add_argument("out", type=Path, metavar="OUT", help="the folder of an earlier `grade` run")
    return main


def add_common(command):
    command.add_argument("--course", type=Path, default=None, metavar="DIR",
                         help="keep the gradebook and nbgrader's folders in DIR "
                              "(default: autograder/gradebook.db and autograder/*/)")
    command.add_argument("--quiet", action="store_true", help="no progress bar")


def main(argv=None):
    arguments = parser().parse_args(argv)
    if arguments.command == "release":
        try:
            names = release.release(assignments=arguments.assignments or None)
        except release.ReleaseError as error:
            print(f"conv-course release: {error}", file=sys.stderr)
            return 1
        print(f"released {', '.join(names)} into {release.NOTEBOOKS}")
        return 0
    if arguments.command == "formgrade":
        return formgrade(arguments)
    if arguments.command == "export":
        return export(arguments)
    if arguments.command == "report":
        return report(arguments)

    from . import grade

    course = grade.Course.in_folder(arguments.course) if arguments.course else grade.Course.default()
    try:
        if arguments.command == "grade":
            options = grade.Options(tuple(arguments.assignment), arguments.jobs, arguments.timeout,
                                    arguments.memory, not arguments.quiet, feedback=not arguments.no_feedback,
                                    cluster=arguments.cluster, force=arguments.force, disk_mb=arguments.disk,
                                    notebook_timeout=arguments.notebook_timeout, deadline=arguments.deadline or "",
                                    late_penalty=arguments.late_penalty or "", similarity=not arguments.no_similarity,
                                    report=not arguments.no_report)
            rows, text = grade.grade(arguments.submissions, arguments.out, options, course)
        else:
            rows, text = grade.regenerate_feedback(arguments.out, grade.Options(jobs=arguments.jobs,
                                                                                 progress=not arguments.quiet), course)
    except grade.GradingError as error:
        print(f"conv-course {arguments.command}: {error}", file=sys.stderr)
        return 1
    print(text)
    written = [arguments.out / "grades.csv", arguments.out / "tests.csv"]
    if arguments.command == "feedback" or not arguments.no_feedback:
        written.append(f"{arguments.out / 'feedback'}/")
    if arguments.command == "grade":
        written += [arguments.out / name for name, wanted in (("similarity.csv", not arguments.no_similarity),
                                                             (RUN_FILE, True)) if wanted]
    print(f"wrote {', '.join(map(str, written))}")
    return 0


def report(arguments):
    """`conv-course report OUT`: report.write_report(OUT, run=OUT/run.json's dict); its path on stdout."""
    from . import journal
    from .report import write_report  # matplotlib: imported only for this command

    if not (arguments.out / "grades.csv").is_file():
        print(f"conv-course report: no grades.csv in {arguments.out}: run `conv-course grade SUBMISSIONS "
              f"--out {arguments.out}` first", file=sys.stderr)
        return 1
    path = write_report(arguments.out, run=journal.read_run(arguments.out))
    print(f"wrote {path}")
    return 0


def export(arguments):
    """`conv-course export`: the LMS's import file, its path on stdout, each warning on stderr."""
    from . import lms_export

    try:
        options = lms_export.Options(arguments.to, percent=arguments.scale == "percent",
                                     missing_as_zero=arguments.missing_as_zero,
                                     names=lms_export.parse_names(arguments.assignment_name))
        path, warnings = lms_export.export(arguments.out, options, roster=arguments.roster, output=arguments.output)
    except (lms_export.ExportError, OSError) as error:
        print(f"conv-course export: {error}", file=sys.stderr)
        return 1
    for warning in warnings:
        print(f"conv-course export: warning: {warning}", file=sys.stderr)
    print(f"wrote {path}")
    return 0


def formgrade(arguments):
    """JupyterLab with the course's nbgrader config, opened on the formgrader: on this machine
    only (127.0.0.1), with a Content-Security-Policy on the pages that show student work
    (autograder/formgrader_policy.py); as root, after a warning on stderr."""
    env = dict(os.environ)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        filter(None, [str(release.REPO / "autograder"), env.get("JUPYTER_CONFIG_PATH")]))
    env["PATH"] = sysconfig.get_path("scripts") + os.pathsep + env.get("PATH", "")
    root = release.REPO
    if arguments.course:
        # autograder/nbgrader_config.py reads it: the gradebook and nbgrader's folders are in DIR.
        root = arguments.course.resolve()
        env[FORMGRADE_COURSE] = str(root)
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}",
               f"--port={arguments.port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.default_url=/formgrader",
               "--ServerApp.jpserver_extensions=autograder.formgrader_policy=True"]
    if arguments.no_browser:
        command.append("--no-browser")
    if os.geteuid() == 0:
        print(ROOT_WARNING, file=sys.stderr)
        command.append("--allow-root")  # JupyterLab refuses root otherwise (a grading server, a container)
    os.chdir(root)
    os.execve(sys.executable, command, env)

if __name__ == "__main__":
    sys.exit(main())
