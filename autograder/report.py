"""OUT/report.html: one page for the instructor on a whole grading run (issue 20).

    write_report(out, run=None, threshold=0.5) -> OUT/report.html

The page is read from what the run left in OUT, never from the gradebook, so
it can be written again at any time and gives the same bytes for the same
files: OUT/grades.csv (its optional `late` column too), OUT/tests.csv, and
when they exist OUT/similarity.csv, OUT/run.json (the run's start, duration
and options), OUT/progress.jsonl and the feedback pages
OUT/feedback/<student>/<assignment>.html that it links to. It shows, for the
course and per assignment: the score histogram, mean and median, the status
counts, the misconceptions (the codes leading the failing tests' messages)
and which of them travel together, each test's pass rate, the learners to
reach out to, late work, the pairs worth a look for copying, and the run.

The charts and the stylesheet are report_charts.py's. The codes' sentences,
notebooks and example lines come from conv_lib.diagnose (CODES and the
catalogue), never from here. Every text
from the CSVs may come from a student and is escaped; the page holds no
script and carries the feedback pages' Content-Security-Policy.
"""

from __future__ import annotations

import csv
import html
import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from urllib.parse import quote

from conv_lib.diagnose.codes import CODES

from . import report_charts, results, student_ids
from .inert import POLICY_META
from . import journal
from .similarity import COLUMNS as SIMILARITY_COLUMNS
from .stage_times import stage_order

REPORT_NAME = "report.html"
SIMILARITY_NAME = "similarity.csv"
#: A submission scoring below this share of its points is one to reach out about.
DEFAULT_THRESHOLD = 0.5
#: Statuses of a submission that could not be graded as it should: always worth a message.
REACH_OUT_STATUSES = ("error", "timeout", "tampered", "invalid")
#: Statuses whose tests ran: only these count for a test's pass rate.
RAN = ("ok", "needs_manual_grade")
STATUS_WORDS = {
    "ok": "ok", "needs_manual_grade": "needs manual grade", "tampered": "tampered", "timeout": "timeout",
    "error": "error", "invalid": "invalid", "missing": "missing",
}
REASON_WORDS = {
    "error": "the notebook stopped with an error",
    "timeout": "the notebook ran out of time",
    "tampered": "checks passed inside the notebook but failed when run on their own",
    "invalid": "the submission could not be graded",
}
#: The kinds of reasons to reach out to a learner, as their tags say them.
REASON_KINDS = {"status": "not graded", "low": "low score", "habit": "same misconception again"}
#: How many codes a bar chart shows, and how many pairs, hardest tests and learners' codes the lists show.
TOP_CODES = 12
TOP_PAIRS = 10
HARDEST_TESTS = 8
#: The keys of a run dict (OUT/run.json) that are not options.
RUN_APART = ("version", "started", "seconds", "options", "stages")
#: A pair of codes is listed only when at least this many learners show both.
MIN_PAIR_LEARNERS = 2


@dataclass(frozen=True)
class Submission:
    """One line of grades.csv: `late` is "" when on time or when the run kept no lateness."""

    student: str
    assignment: str
    score: float
    max_score: float
    status: str
    late: str = ""

    @property
    def percent(self):
        return 100.0 * self.score / self.max_score if self.max_score > 0 else 0.0


@dataclass(frozen=True)
class TestResult:
    """One line of tests.csv, with the known misconception codes its message starts its problems with."""

    student: str
    assignment: str
    grade_id: str
    points: float
    max_points: float
    codes: tuple
    unknown_codes: int

    @property
    def passed(self):
        return self.points >= self.max_points


@dataclass(frozen=True)
class Pair:
    """Two (assignment, code) items shown by the same learners: how many, their share and lift."""

    first: tuple
    second: tuple
    both: int
    share: float
    lift: float


# --------------------------------------------------------------------------
# Reading OUT
# --------------------------------------------------------------------------


def points(text, where):
    """A number of points from a CSV cell ("" is 0); a cell that is no number names its file and line."""
    try:
        return float(text or 0)
    except ValueError:
        raise ValueError(f"expected a number of points in {where}, got {text!r}: was the file edited by hand? "
                         "Run `conv-course grade` again to write it anew") from None


def read_submissions(out):
    """The lines of OUT/grades.csv as Submissions, sorted by assignment and student."""
    path = Path(out) / "grades.csv"
    if not path.is_file():
        raise FileNotFoundError(f"expected the grades of a run in {path}, but there is no such file: "
                                "the report is written from a grading run's OUT folder (conv-course grade ... OUT)")
    found = []
    for number, line in enumerate(results.read_table(path), start=2):
        where = f"{path.name}, line {number}"
        found.append(Submission(line["student_id"], line["assignment"], points(line["score"], where),
                                points(line["max_score"], where), line["status"], (line.get("late") or "").strip()))
    return sorted(found, key=lambda s: (s.assignment, s.student))


def codes_of(message):
    """(the known codes, how many unknown ones) leading the problems of a tests.csv message:
    "[no-channel-sum] ... | [missing-bias] ..." -> (("no-channel-sum", "missing-bias"), 0)."""
    found = [match.group(1) for problem in (message or "").split(results.PROBLEM_SEPARATOR)
             for match in [results.CODE.match(problem.strip())] if match]
    known = tuple(dict.fromkeys(code for code in found if code in CODES))
    return known, sum(code not in CODES for code in found)


def read_tests(out):
    """The lines of OUT/tests.csv as TestResults (codes only of failing tests), [] without the file."""
    path = Path(out) / "tests.csv"
    if not path.is_file():
        return []
    found = []
    for number, line in enumerate(results.read_table(path), start=2):
        where = f"{path.name}, line {number}"
        got, most = points(line["points"], where), points(line["max_points"], where)
        known, unknown = codes_of(line["message"]) if got < most else ((), 0)
        found.append(TestResult(line["student_id"], line["assignment"], line["grade_id"], got, most, known, unknown))
    return sorted(found, key=lambda t: (t.assignment, t.grade_id, t.student))


def read_similarity(out):
    """The lines of OUT/similarity.csv in its own order, or None when the run wrote none."""
    path = Path(out) / SIMILARITY_NAME
    if not path.is_file():
        return None
    lines = results.read_table(path)
    absent = [column for column in SIMILARITY_COLUMNS if lines and column not in lines[0]]
    if absent:
        raise ValueError(f"expected the columns {SIMILARITY_COLUMNS} in {path}, but {absent} are missing")
    return lines


def has_late_column(out):
    """Whether OUT/grades.csv has a `late` column (runs that know deadlines write one)."""
    with open(Path(out) / "grades.csv", newline="", encoding="utf-8") as handle:
        return "late" in next(csv.reader(handle), [])


def journal_count(out):
    """How many finished submissions OUT/progress.jsonl records, or None without the file."""
    path = Path(out) / journal.FILE_NAME
    if not path.is_file():
        return None
    count = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            count += isinstance(json.loads(line), dict)
        except ValueError:
            continue
    return count


# --------------------------------------------------------------------------
# What the page says: computed from the lines alone
# --------------------------------------------------------------------------


def submitted(submissions):
    """The submissions that exist (status not missing) and have points to score."""
    return [s for s in submissions if s.status != "missing" and s.max_score > 0]


def centre(percentages):
    """(mean, median) of percentages, (0, 0) for none."""
    if not percentages:
        return 0.0, 0.0
    return statistics.fmean(percentages), statistics.median(percentages)


def learner_percentages(submissions):
    """Each learner's share of all the points of the assignments in grades.csv, in %, by learner
    (a missing submission scores 0 of its points)."""
    totals = defaultdict(lambda: [0.0, 0.0])
    for s in submissions:
        totals[s.student][0] += s.score
        totals[s.student][1] += s.max_score
    return [100.0 * got / most for _, (got, most) in sorted(totals.items()) if most > 0]


def learners_by_code(tests):
    """{code: the learners whose failing tests show it}, every code of `tests`."""
    found = defaultdict(set)
    for test in tests:
        for code in test.codes:
            found[code].add(test.student)
    return found


def ranked_codes(tests):
    """[(code, learners)] most learners first, then by code."""
    return sorted(((code, len(learners)) for code, learners in learners_by_code(tests).items()),
                  key=lambda item: (-item[1], item[0]))


def items_by_learner(tests):
    """{learner: the (assignment, code) items their failing tests show}."""
    found = defaultdict(set)
    for test in tests:
        for code in test.codes:
            found[test.student].add((test.assignment, code))
    return found


def code_pairs(tests, class_size):
    """The (assignment, code) items of different codes in different assignments shown by at least
    MIN_PAIR_LEARNERS same learners, more often than chance would have it (lift over 1, in a class
    of class_size), strongest first: the highest share (learners with both over learners with
    either), then the most learners."""
    holders = defaultdict(set)
    for learner, items in items_by_learner(tests).items():
        for item in items:
            holders[item].add(learner)
    pairs = []
    for first, second in combinations(sorted(holders), 2):
        if first[0] == second[0] or first[1] == second[1]:
            continue
        both = len(holders[first] & holders[second])
        lift = both * class_size / (len(holders[first]) * len(holders[second]))
        if both >= MIN_PAIR_LEARNERS and lift > 1:
            pairs.append(Pair(first, second, both, both / len(holders[first] | holders[second]), lift))
    return sorted(pairs, key=lambda p: (-p.share, -p.both, p.first, p.second))[:TOP_PAIRS]


def persistent_codes(tests):
    """{learner: {code: the assignments (two or more) whose failing tests show it}}."""
    found = defaultdict(lambda: defaultdict(set))
    for test in tests:
        for code in test.codes:
            found[test.student][code].add(test.assignment)
    return {learner: {code: sorted(where) for code, where in sorted(codes.items()) if len(where) > 1}
            for learner, codes in sorted(found.items()) if any(len(where) > 1 for where in codes.values())}


@dataclass(frozen=True)
class TestRate:
    """A test's pass rate over the submissions that ran, and the code its failures show most."""

    assignment: str
    grade_id: str
    passed: int
    ran: int
    top_code: str

    @property
    def rate(self):
        return self.passed / self.ran if self.ran else 1.0


def test_rates(tests, submissions):
    """One TestRate per (assignment, test) over the submissions whose tests ran (ok, needs manual grade)."""
    ran = {(s.student, s.assignment) for s in submissions if s.status in RAN}
    grouped = defaultdict(list)
    for test in tests:
        if (test.student, test.assignment) in ran:
            grouped[(test.assignment, test.grade_id)].append(test)
    rates = []
    for (assignment, grade_id), lines in sorted(grouped.items()):
        codes = Counter(code for line in lines for code in line.codes)
        top = min(codes, key=lambda code: (-codes[code], code)) if codes else ""
        rates.append(TestRate(assignment, grade_id, sum(line.passed for line in lines), len(lines), top))
    return rates


def hardest(rates):
    """The HARDEST_TESTS tests with the lowest pass rate that some learner failed."""
    failed = [rate for rate in rates if rate.passed < rate.ran]
    return sorted(failed, key=lambda r: (r.rate, r.assignment, r.grade_id))[:HARDEST_TESTS]


@dataclass(frozen=True)
class Reason:
    """Why to reach out to a learner: its kind (REASON_KINDS), the text, and the assignment whose
    feedback page shows it."""

    kind: str
    assignment: str
    text: str


def reach_out(submissions, tests, threshold):
    """{learner: [Reason]} for the learners to reach out to: a submission that could not be graded
    (REACH_OUT_STATUSES), one that ran and scored below `threshold` of its points, and the same
    misconception in two or more assignments. Sorted by learner."""
    found = defaultdict(list)
    for s in submissions:
        if s.status in REACH_OUT_STATUSES:
            found[s.student].append(Reason("status", s.assignment,
                                           f"{s.assignment}: {s.status}, {REASON_WORDS[s.status]}"))
        elif s.status in RAN and s.max_score > 0 and s.percent < 100 * threshold:
            pending = " (manual grading pending)" if s.status == "needs_manual_grade" else ""
            found[s.student].append(Reason("low", s.assignment, f"{s.assignment}: scored {s.percent:.0f} %, below "
                                                                f"{100 * threshold:g} %{pending}"))
    for learner, codes in persistent_codes(tests).items():
        for code, where in codes.items():
            found[learner].append(Reason("habit", where[-1], f"[{code}] in {', '.join(where)}: {CODES[code]}"))
    return dict(sorted(found.items()))


# --------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------


def e(value):
    """Any value as HTML text, quotes included (so it may stand in a quoted attribute too)."""
    return html.escape(str(value), quote=True)


def is_safe_name(name):
    """Whether a student id or an assignment may be a part of a link: it is an id as student_ids makes them."""
    return student_ids.problem(name) is None and student_ids.clean(name) == name


def feedback_link(out, student, assignment, text=None):
    """A relative link from OUT/report.html to OUT/feedback/<student>/<assignment>.html when both names
    are safe and the page exists; else the text alone."""
    label = e(text if text is not None else assignment)
    if not (is_safe_name(student) and is_safe_name(assignment)):
        return label
    relative = f"feedback/{quote(student, safe='')}/{quote(assignment + '.html', safe='')}"
    if not (Path(out) / "feedback" / student / f"{assignment}.html").is_file():
        return label
    return f'<a href="{e(relative)}">{label}</a>'


def percent_text(value):
    return f"{value:.1f} %"


def code_tag(code):
    return f"<code>[{e(code)}]</code>"


def status_chips(submissions):
    """The count of each status (results.STATUSES), zeros included, as chips."""
    counts = Counter(s.status for s in submissions)
    chips = [f'<span class="chip s-{e(status)}{" zero" if not counts[status] else ""}" data-status="{e(status)}">'
             f'{e(STATUS_WORDS[status])} <b>{counts[status]}</b></span>' for status in results.STATUSES]
    others = sorted(set(counts) - set(results.STATUSES))
    chips += [f'<span class="chip" data-status="other">{e(status)} <b>{counts[status]}</b></span>' for status in others]
    return f'<div class="chips">{"".join(chips)}</div>'


def figures(items):
    """Key numbers as a row of figures: items are (label, value)."""
    cells = "".join(f'<div class="figure"><div class="value">{e(value)}</div><div class="label">{e(label)}</div></div>'
                    for label, value in items)
    return f'<div class="figures">{cells}</div>'


def chart(svg, caption, kind):
    return f'<figure class="chart {kind}">{svg}<figcaption>{caption}</figcaption></figure>'


def table(headers, rows, kind=""):
    """An HTML table; rows hold cells already made HTML."""
    head = "".join(f"<th>{e(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{kind}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def rate_bar(rate):
    """A pass rate as a small bar and its percentage."""
    return (f'<span class="rate"><span class="bar"><span style="width:{100 * rate:.0f}%"></span></span> '
            f'<span class="num">{100 * rate:.0f} %</span></span>')


def score_block(submissions, percentages, threshold, what):
    """Figures, status chips and histogram of a set of submissions (percentages: what the histogram counts)."""
    mean, median = centre(percentages)
    below = sum(p < 100 * threshold for p in percentages)
    numbers = figures([(what, len(percentages)), ("mean", percent_text(mean)), ("median", percent_text(median)),
                       (f"below {100 * threshold:g} %", below)])
    svg = report_charts.histogram(percentages, 100 * threshold, mean, median, what)
    caption = (f"Scores of the {e(what)} in % of the points; the shaded part is below the threshold of "
               f"{100 * threshold:g} %.")
    return numbers + status_chips(submissions) + chart(svg, caption, "histogram")


def teaching(places):
    """Where a code's idea is graded, from the catalogue: "02_multi_channel (conv2d_multi_in), ..."."""
    functions = defaultdict(list)
    for assignment, function in places:
        functions[assignment].append(function)
    return "; ".join(f"{e(assignment)} ({e(', '.join(names))})" for assignment, names in functions.items()) or "—"


def misconception_table(tests, detailed):
    """The codes of `tests` by learners: with detailed, where each is taught and the catalogue's example
    lines a lecture could show; else only the sentence."""
    ranked = ranked_codes(tests)
    if detailed:
        from conv_lib.diagnose.catalogue import entries

        catalogue = {code: (places, example) for code, _, places, example in entries()}
        where = {code: sorted({t.assignment for t in tests if code in t.codes}) for code, _ in ranked}
        rows = [(code_tag(code), f'<span class="num">{n}</span>', e(CODES[code]), e(", ".join(where[code])),
                 teaching(catalogue[code][0]), f'<pre>{e(chr(10).join(catalogue[code][1]))}</pre>')
                for code, n in ranked]
        return table(["code", "learners", "means", "seen in", "graded in (notebook, function)",
                      "what a lecture could show: the mistake in code"], rows, "codes")
    rows = [(code_tag(code), f'<span class="num">{n}</span>', e(CODES[code])) for code, n in ranked]
    return table(["code", "learners", "means"], rows, "codes")


def unknown_note(tests):
    unknown = sum(t.unknown_codes for t in tests)
    if not unknown:
        return ""
    return (f'<p class="note">{unknown} failing test message(s) began with a code the course does not define '
            "(such as the grader's own [limit] or [tampered]); they are not counted above.</p>")


NO_CODES = '<p class="quiet">No failing test named a misconception.</p>'


def misconception_chart(tests):
    """The bar chart of the misconceptions of `tests` (the TOP_CODES most common), or a line saying there are none."""
    ranked = ranked_codes(tests)
    if not ranked:
        return NO_CODES
    shown = f"the {TOP_CODES} most common" if len(ranked) > TOP_CODES else "every code"
    caption = f"Learners whose failing tests show each misconception code ({shown})."
    return chart(report_charts.bar_chart(ranked[:TOP_CODES]), caption, "bars")


def misconceptions_block(tests, detailed):
    """The misconceptions of `tests` as a table (see misconception_table; nothing when there are none),
    and a note on the codes not counted."""
    return (misconception_table(tests, detailed) if ranked_codes(tests) else "") + unknown_note(tests)


def item_text(item):
    assignment, code = item
    return f"{code_tag(code)} in {e(assignment)}"


def pairs_block(tests, class_size):
    pairs = code_pairs(tests, class_size)
    if not pairs:
        return (f'<p class="quiet">No two codes of different assignments were shown by {MIN_PAIR_LEARNERS} or more '
                "of the same learners more often than chance would have it.</p>")
    rows = [(item_text(p.first), item_text(p.second), f'<span class="num">{p.both}</span>',
             f'<span class="num">{100 * p.share:.0f} %</span>', f'<span class="num">{p.lift:.1f}</span>')
            for p in pairs]
    return ('<p>Each row: learners who showed both codes, their share of the learners who showed either, and the '
            f"lift (how many times more often than if the codes were independent, in a class of {class_size}).</p>"
            + table(["this code", "with this one", "learners with both", "share", "lift"], rows, "pairs"))


def tests_table(rates):
    """An assignment's tests, lowest pass rate first."""
    rates = sorted(rates, key=lambda r: (r.rate, r.grade_id))
    rows = [(f"<code>{e(r.grade_id)}</code>", rate_bar(r.rate), f'<span class="num">{r.passed} / {r.ran}</span>',
             code_tag(r.top_code) if r.top_code else "") for r in rates]
    return table(["test", "pass rate", "passed", "most common code in its failures"], rows, "tests")


def hardest_block(rates):
    worst = hardest(rates)
    if not worst:
        return '<p class="quiet">Every test that ran passed for every learner.</p>'
    rows = [(e(r.assignment), f"<code>{e(r.grade_id)}</code>", rate_bar(r.rate),
             f'<span class="num">{r.passed} / {r.ran}</span>', code_tag(r.top_code) if r.top_code else "")
            for r in worst]
    return table(["assignment", "test", "pass rate", "passed", "most common code in its failures"], rows, "tests")


def reach_out_block(out, submissions, tests, threshold):
    learners = reach_out(submissions, tests, threshold)
    if not learners:
        return '<p class="quiet">Nobody: every submission was graded, scored at least the threshold, and no ' \
               "misconception came back in a second assignment.</p>"
    rows = []
    for learner, reasons in learners.items():
        why = "".join(f'<li><span class="tag t-{reason.kind}">{e(REASON_KINDS[reason.kind])}</span>{e(reason.text)}</li>'
                      for reason in reasons)
        pages = sorted({reason.assignment for reason in reasons})
        links = "<br>".join(feedback_link(out, learner, assignment) for assignment in pages)
        rows.append((f'<span class="learner">{e(learner)}</span>', f"<ul>{why}</ul>", links))
    intro = (f"<p>{len(learners)} learner(s): submissions that could not be graded (error, timeout, tampered, invalid), "
             f"those that ran and scored below {100 * threshold:g} % of their points, and the same misconception in "
             "two or more assignments. The links open their feedback pages.</p>")
    return intro + table(["learner", "why", "feedback"], rows, "reach")


def late_block(out, submissions, run):
    """The late submissions with how late (grades.csv's `late`), or why there are none."""
    late = [s for s in submissions if s.late]
    if not late and "deadline" in run and not run["deadline"]:
        return '<p class="quiet">The run was given no deadline, so no submission was judged late.</p>'
    if not late:
        return '<p class="quiet">Every submission came in on time.</p>'
    rows = [(f'<span class="learner">{e(s.student)}</span>', feedback_link(out, s.student, s.assignment), e(s.late))
            for s in sorted(late, key=lambda s: (s.assignment, s.student))]
    return table(["learner", "assignment", "late by"], rows, "late")


def similarity_block(out, lines):
    intro = ("<p>Pairs of submissions that are alike in a way few others are: <b>worth a look</b>, never a verdict. "
             "The same idea, the same course material or the same common mistake can make two honest "
             "submissions alike; read both before drawing any conclusion.</p>")
    if not lines:
        return intro + '<p class="quiet">No pair was found worth a look.</p>'
    rows = [(e(line["assignment"]), feedback_link(out, line["student_a"], line["assignment"], line["student_a"]),
             feedback_link(out, line["student_b"], line["assignment"], line["student_b"]), e(line["signal"]),
             f'<span class="num">{e(line["score"])} / {e(line["threshold"])}</span>', e(line["worth_a_look_because"]))
            for line in lines]
    return intro + table(["assignment", "learner", "and learner", "signal", "score / threshold",
                          "worth a look because"], rows, "similar")


def duration(seconds):
    """Seconds as "1 min 40 s" or "12.3 s"."""
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours} h " if hours else "") + f"{minutes} min {rest} s"


def option_text(value):
    """An option's value as the page shows it: None "not given", True "yes", a list joined by commas."""
    if value is None:
        return "not given"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value) or "none"
    return str(value)


def run_options(run):
    """The options of a run dict: its "options" dict, or (the form of OUT/run.json) every key but
    the version, the start and the duration."""
    if isinstance(run.get("options"), dict):
        return run["options"]
    return {key: value for key, value in run.items() if key not in RUN_APART}


def stages_text(stages):
    """run.json's `stages` as one line: each stage's median seconds per submission, in the order of grading."""
    try:
        ordered = sorted(stages.items(), key=lambda item: stage_order(str(item[0])))
        return " · ".join(f"{stage} {float(entry['median']):.2f} s" for stage, entry in ordered) + " (medians)"
    except (AttributeError, KeyError, TypeError, ValueError):
        return "not readable"


def run_block(out, run):
    """When the run started, how long it took and its options (from `run`), and what progress.jsonl holds."""
    recorded = journal_count(out)
    items = [("started", run.get("started") or "not recorded"),
             ("took", duration(run["seconds"]) if run.get("seconds") is not None else "not recorded")]
    options = sorted(run_options(run).items(), key=lambda item: str(item[0]))
    items += [(str(key).replace("_", " "), option_text(value)) for key, value in options]
    if not options:
        items.append(("options", "not recorded" if not run else "none given"))
    if run.get("stages"):
        items.append(("time per submission", stages_text(run["stages"])))
    items.append(("journal", "no progress.jsonl" if recorded is None
                  else f"progress.jsonl records {recorded} finished submission(s)"))
    return '<dl class="run">' + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in items) + "</dl>"


def section(anchor, title, body, kind=""):
    return f'<section id="{anchor}" class="{kind}"><h2>{e(title)}</h2>{body}</section>\n'


def card(title, body):
    return f'<div class="card"><h3>{e(title)}</h3>{body}</div>'


def course_section(out, submissions, tests, threshold):
    """The course as a whole: each learner's share of all the points, statuses and misconceptions."""
    learners = learner_percentages(submissions)
    scores = card("Scores: each learner over every assignment",
                  score_block(submissions, learners, threshold, "learners")
                  + '<p class="note">A learner\'s score is their points over the points of every assignment; a '
                    "missing submission scores 0. The status counts are of all submissions.</p>")
    class_size = len({s.student for s in submissions if s.status != "missing"})
    body = ('<div class="pair">' + scores + card("Misconceptions across the course", misconception_chart(tests))
            + "</div>" + card("Codes that travel together", pairs_block(tests, class_size))
            + card("The hardest tests", hardest_block(test_rates(tests, submissions)))
            + (card("Each misconception: what it means, where it is graded, what a lecture could show",
                    misconceptions_block(tests, detailed=True)) if ranked_codes(tests) else ""))
    return section("course", "The course", body)


def assignment_section(anchor, assignment, submissions, tests, threshold):
    """One assignment: its scores, statuses, misconceptions and tests."""
    mine = [s for s in submissions if s.assignment == assignment]
    ran = [t for t in tests if t.assignment == assignment]
    percentages = [s.percent for s in submitted(mine)]
    rates = test_rates(ran, mine)
    body = ('<div class="pair">' + card("Scores", score_block(mine, percentages, threshold, "submissions"))
            + card("Misconceptions", misconception_chart(ran) + misconceptions_block(ran, detailed=False)) + "</div>"
            + card("Tests: pass rate of the submissions that ran",
                   tests_table(rates) if rates else '<p class="quiet">No test ran.</p>'))
    return section(anchor, assignment, body, "assignment")


def page(out, submissions, tests, similarity, late_known, run, threshold):
    """The whole HTML page."""
    assignments = sorted({s.assignment for s in submissions})
    anchors = {assignment: f"assignment-{number}" for number, assignment in enumerate(assignments, start=1)}
    learners = len({s.student for s in submissions})
    links = [("course", "The course"), ("reach-out", "Learners to reach out to")]
    links += [("late", "Late work")] if late_known else []
    links += [("similar", "Worth a look")] if similarity is not None else []
    links += [("run", "The run")] + [(anchors[a], a) for a in assignments]
    nav = "<nav>" + "".join(f'<a href="#{anchor}">{e(title)}</a>' for anchor, title in links) + "</nav>"
    body = course_section(out, submissions, tests, threshold)
    body += section("reach-out", "Learners to reach out to", card("Who, and why",
                                                                 reach_out_block(out, submissions, tests, threshold)))
    if late_known:
        body += section("late", "Late work", card("Submitted after the deadline", late_block(out, submissions, run)))
    if similarity is not None:
        body += section("similar", "Worth a look: alike submissions", card("Pairs", similarity_block(out, similarity)))
    body += section("run", "The run", card("How this grading ran", run_block(out, run)))
    body += "".join(assignment_section(anchors[a], a, submissions, tests, threshold) for a in assignments)
    header = (f"<header><h1>Conv Channels: grading report</h1><p>{len(assignments)} assignment(s), {learners} "
              f"learner(s), {len(submitted(submissions))} graded submission(s). Written from grades.csv and "
              "tests.csv of this folder.</p>" + nav + "</header>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head>" + POLICY_META + '<meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Conv Channels: grading report</title><style>{report_charts.STYLESHEET}</style></head>\n"
            f"<body><main>{header}\n{body}</main></body></html>\n")


def write_report(out, run=None, threshold=DEFAULT_THRESHOLD):
    """Write OUT/report.html from the files of a grading run in OUT and return its path.

    run: the run's dict as OUT/run.json holds it (journal.write_run: "started", "seconds" and the
    options as further keys), or {"started", "seconds", "options": {name: value}}; None reads
    OUT/run.json, and without it the page says the run was not recorded. threshold: the
    share of an assignment's points below which a learner is listed to reach out to (0.5)."""
    if not 0 <= threshold <= 1:
        raise ValueError(f"expected a threshold between 0 and 1 (a share of the points, 0.5 for half), got {threshold}")
    out = Path(out)
    submissions = read_submissions(out)
    run = journal.read_run(out) if run is None else run
    text = page(out, submissions, read_tests(out), read_similarity(out), has_late_column(out), run, threshold)
    target = out / REPORT_NAME
    target.write_text(text, encoding="utf-8")
    return target
