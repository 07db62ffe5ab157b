"""OUT/report.html says what a run's CSVs hold, links the feedback pages, escapes every student byte.

A small OUT is written by hand with results.write_table (so the CSVs are the
real format): two assignments, seven learners, one of them with an id that
is a script, and a failing test whose message carries an HTML attack. Every
number the page shows below was counted by hand from these lines.
"""

import html
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from autograder import report, results

A2, A3 = "02_multi_channel", "03_many_filters"
HOSTILE_ID = "<script>alert(1)</script>"
HOSTILE_MESSAGE = '[wrong-values] "><img src=x onerror=alert(1)>'

# student, assignment, score, max, status; every assignment has 10 points
GRADES = [
    ("alice", A2, 10, "ok"), ("alice", A3, 9, "ok"),
    ("bob", A2, 4, "ok"), ("bob", A3, 3, "ok"),
    ("carol", A2, 5, "ok"), ("carol", A3, 6, "ok"),
    ("dave", A2, 0, "error"), ("dave", A3, 0, "missing"),
    ("erin", A2, 0, "tampered"), ("erin", A3, 10, "ok"),
    ("frank", A2, 7, "needs_manual_grade"), ("frank", A3, 7, "ok"),
    (HOSTILE_ID, A2, 8, "ok"), (HOSTILE_ID, A3, 0, "timeout"),
]
# The failing tests (each worth 5); every other (student, assignment, test) passed.
FAILURES = {
    ("alice", A3, "test_bias"): "[missing-bias] conv2d_multi_out leaves out b",
    ("bob", A2, "test_sum"): "[no-channel-sum] 3 maps | [missing-bias] no bias",
    ("bob", A3, "test_maps"): "[per-filter-per-channel] 6 maps | [no-channel-sum] 3 maps per filter",
    ("carol", A2, "test_sum"): "[no-channel-sum] 3 maps",
    ("carol", A3, "test_maps"): "[per-filter-per-channel] 6 maps",
    ("dave", A2, "test_sum"): "NameError: name 'np' is not defined",
    ("erin", A2, "test_sum"): "[tampered] the checks passed inside the notebook",
    (HOSTILE_ID, A2, "test_bias"): HOSTILE_MESSAGE,
}
TESTS = {A2: ("test_bias", "test_sum"), A3: ("test_bias", "test_maps")}


def write_out(out, late=None, similar=None, pages=True):
    """A run's OUT: grades.csv (with a `late` column when late={(student, assignment): text} is given),
    tests.csv, a feedback page per graded submission, and similarity.csv when similar (lines) is given."""
    out.mkdir(parents=True, exist_ok=True)
    columns = [column for column in results.GRADE_COLUMNS if column != "late"] + (["late"] if late is not None else [])
    lines = [[s, a, score, 10, score, 0, status] + ([late.get((s, a), "")] if late is not None else [])
             for s, a, score, status in GRADES]
    results.write_table(out / "grades.csv", columns, lines)
    tests = [[s, a, test, 0 if (s, a, test) in FAILURES else 5, 5, FAILURES.get((s, a, test), "")]
             for s, a, _, status in GRADES for test in TESTS[a]]
    results.write_table(out / "tests.csv", results.TEST_COLUMNS, tests)
    if pages:
        for s, a, _, status in GRADES:
            if status != "missing" and "<" not in s:
                (out / "feedback" / s).mkdir(parents=True, exist_ok=True)
                (out / "feedback" / s / f"{a}.html").write_text(f"<p>{s} {a}</p>", encoding="utf-8")
    if similar is not None:
        from autograder.similarity import COLUMNS

        results.write_table(out / "similarity.csv", COLUMNS, similar)
    return out


#: A class of forty: per assignment, its tests (grade_id, points, the codes its failures may show).
CLASS_TESTS = {
    "01_single_channel": [("corr2d_values", 4, ["flipped-kernel", "output-size"]), ("corr2d_stride", 3,
                          ["start-not-strided", "index-steps-by-stride"]), ("corr2d_padding", 3, ["one-sided-padding"])],
    A2: [("multi_in_sum", 4, ["no-channel-sum", "mean-not-sum"]), ("multi_in_bias", 3, ["missing-bias",
         "bias-per-channel"]), ("multi_in_depth", 3, ["depth-check"])],
    A3: [("multi_out_maps", 4, ["per-filter-per-channel", "filters-summed", "no-channel-sum"]),
         ("layer_params", 3, ["filter-depth", "filter-count", "missing-bias"]), ("multi_out_shape", 3, ["axis-dropped"])],
    "04_conv_pool_stack": [("conv_batch", 4, ["batch-mixed", "no-channel-sum"]), ("max_pool", 3,
                           ["pool-mixes-channels", "avg-not-max"]), ("receptive_field", 3, ["stride-ignored"])],
}


def write_class(out, learners=40, seed=20):
    """A run's OUT for a class of `learners` over CLASS_TESTS, made up with a seeded generator: most
    learners pass most tests, a few carry one misconception from notebook to notebook, some submissions
    are late, missing or failed, and one pair is worth a look. Same seed, same files."""
    import random

    chance = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    grades, tests, similar = [], [], []
    for n in range(learners):
        student = f"learner{n:02d}"
        skill, habit = chance.random(), chance.random() < 0.25
        for assignment, checks in CLASS_TESTS.items():
            status = chance.choices(["ok", "needs_manual_grade", "error", "timeout", "tampered", "invalid", "missing"],
                                    [80, 6, 3, 2, 1, 1, 4])[0]
            got, most, late = 0, 0, ""
            for grade_id, worth, codes in checks:
                passed = status in ("ok", "needs_manual_grade") and chance.random() < 0.35 + 0.6 * skill
                code = "no-channel-sum" if habit and "no-channel-sum" in codes else chance.choice(codes)
                got, most = got + (worth if passed else 0), most + worth
                message = "" if passed or status == "missing" else f"[{code}] {grade_id} gave the wrong numbers"
                tests.append([student, assignment, grade_id, worth if passed else 0, worth, message])
            if status != "missing" and chance.random() < 0.08:
                late = f"{chance.randint(1, 3)} days {chance.randint(1, 23)} h late, -{chance.choice([10, 20])} %"
            grades.append([student, assignment, got, most, got, 0, status, late])
            if status != "missing":
                (out / "feedback" / student).mkdir(parents=True, exist_ok=True)
                (out / "feedback" / student / f"{assignment}.html").write_text(f"<p>{student}</p>", encoding="utf-8")
    similar.append([A3, "learner03", "learner17", "same rare code", 0.74, 0.5,
                    "multi_out_maps: 0.74 of the smaller cell is rare code both share (58 tokens)"])
    similar.append([A2, "learner08", "learner31", "same rare wrong answers (weaker)", 1, 1,
                    "the same 2 failing tests with the same messages, shared by no other submission"])
    columns = [column for column in results.GRADE_COLUMNS if column != "late"] + ["late"]
    results.write_table(out / "grades.csv", columns, sorted(grades))
    results.write_table(out / "tests.csv", results.TEST_COLUMNS, sorted(tests))
    from autograder.similarity import COLUMNS

    results.write_table(out / "similarity.csv", COLUMNS, similar)
    return out


@pytest.fixture
def out(tmp_path):
    return write_out(tmp_path / "out")


def sections(text):
    """{section id: its HTML} of the page."""
    return {match.group(1): match.group(2)
            for match in re.finditer(r'<section id="([^"]+)"[^>]*>(.*?)</section>', text, re.S)}


def assignment_sections(text):
    """{assignment: its section's HTML}."""
    return {re.search(r"<h2>(.*?)</h2>", body).group(1): body
            for anchor, body in sections(text).items() if anchor.startswith("assignment-")}


def status_counts(body):
    return {status: int(n) for status, n in re.findall(r'data-status="([a-z_]+)">[^<]*<b>(\d+)</b>', body)}


def learners_per_code(body):
    """{code: learners} from a misconception table."""
    return {code: int(n) for code, n in
            re.findall(r'<tr><td><code>\[([a-z-]+)\]</code></td><td><span class="num">(\d+)</span>', body)}


def test_the_page_is_one_file_with_no_address_and_no_script(out):
    text = report.write_report(out).read_text(encoding="utf-8")
    assert (out / "report.html").is_file()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text)
    assert "<script" not in text.lower()
    assert "Content-Security-Policy" in text and "default-src 'none'" in text


def test_each_assignment_has_its_histogram(out):
    text = report.write_report(out).read_text(encoding="utf-8")
    found = assignment_sections(text)
    assert sorted(found) == [A2, A3]
    for body in found.values():
        assert re.search(r'<figure class="chart histogram"><svg', body)
    assert '<figure class="chart histogram"><svg' in sections(text)["course"]


def test_the_status_counts_are_the_ones_in_grades_csv(out):
    found = assignment_sections(report.write_report(out).read_text(encoding="utf-8"))
    zero = dict.fromkeys(results.STATUSES, 0)
    assert status_counts(found[A2]) == {**zero, "ok": 4, "needs_manual_grade": 1, "error": 1, "tampered": 1}
    assert status_counts(found[A3]) == {**zero, "ok": 5, "timeout": 1, "missing": 1}


def test_mean_and_median_leave_the_missing_submission_out(out):
    body = assignment_sections(report.write_report(out).read_text(encoding="utf-8"))[A3]
    # 90, 30, 60, 100, 70, 0 (timeout); dave's missing submission is not one
    assert '<div class="value">58.3 %</div><div class="label">mean</div>' in body
    assert '<div class="value">65.0 %</div><div class="label">median</div>' in body


def test_misconceptions_count_learners_not_tests(out):
    text = report.write_report(out).read_text(encoding="utf-8")
    course = learners_per_code(sections(text)["course"])
    assert course == {"no-channel-sum": 2, "missing-bias": 2, "per-filter-per-channel": 2, "wrong-values": 1}
    assert learners_per_code(assignment_sections(text)[A2]) == {"no-channel-sum": 2, "missing-bias": 1,
                                                                 "wrong-values": 1}
    assert "1 failing test message(s) began with a code the course does not define" in sections(text)["course"]


def test_the_codes_bring_their_sentence_and_notebooks_from_the_catalogue(out):
    from conv_lib.diagnose.catalogue import entries
    from conv_lib.diagnose.codes import CODES

    course = sections(report.write_report(out).read_text(encoding="utf-8"))["course"]
    assert html.escape(CODES["no-channel-sum"]) in course
    example = next(lines for code, _, _, lines in entries() if code == "no-channel-sum")
    assert html.escape("\n".join(example)) in course
    assert "02_multi_channel (conv2d_multi_in)" in course


def test_the_pair_that_travels_together_is_found(out):
    course = sections(report.write_report(out).read_text(encoding="utf-8"))["course"]
    pairs = re.findall(r"<tr><td><code>\[([a-z-]+)\]</code> in (\w+)</td><td><code>\[([a-z-]+)\]</code> in (\w+)"
                       r'</td><td><span class="num">(\d+)</span></td><td><span class="num">(\d+) %</span></td>'
                       r'<td><span class="num">([\d.]+)</span>', course)
    # bob and carol: [no-channel-sum] in 02 and [per-filter-per-channel] in 03; 7 learners submitted something
    assert pairs == [("no-channel-sum", A2, "per-filter-per-channel", A3, "2", "100", "3.5")]


def reach_out_rows(text):
    body = sections(text)["reach-out"]
    return {match.group(1): match.group(2)
            for match in re.finditer(r'<tr><td><span class="learner">(.*?)</span></td>(.*?)</tr>', body, re.S)}


def test_the_learners_to_reach_out_to_and_why(out):
    rows = reach_out_rows(report.write_report(out).read_text(encoding="utf-8"))
    assert sorted(rows) == sorted(["bob", "dave", "erin", html.escape(HOSTILE_ID)])
    assert f"{A2}: error" in rows["dave"] and f"{A2}: tampered" in rows["erin"]
    assert f"{A3}: timeout" in rows[html.escape(HOSTILE_ID)]
    assert f"{A2}: scored 40 %, below 50 %" in rows["bob"] and f"{A3}: scored 30 %, below 50 %" in rows["bob"]
    assert f"[no-channel-sum] in {A2}, {A3}" in rows["bob"]


def test_a_higher_threshold_lists_more_learners(out):
    rows = reach_out_rows(report.write_report(out, threshold=0.65).read_text(encoding="utf-8"))
    assert "carol" in rows and f"{A2}: scored 50 %, below 65 %" in rows["carol"]


def test_the_feedback_links_are_relative_and_lead_to_the_pages(out):
    target = report.write_report(out)
    rows = reach_out_rows(target.read_text(encoding="utf-8"))
    for learner in ("bob", "dave", "erin"):
        links = re.findall(r'href="([^"]+)"', rows[learner])
        assert links, learner
        for link in links:
            assert not link.startswith(("/", "file:", "http")), link
            assert (target.parent / unquote(html.unescape(link))).is_file(), link
    assert "href" not in rows[html.escape(HOSTILE_ID)], "an id that is no safe folder name gets no link"


def test_a_page_that_does_not_exist_gets_no_link(tmp_path):
    text = report.write_report(write_out(tmp_path / "out", pages=False)).read_text(encoding="utf-8")
    assert "href=\"feedback/" not in text


def test_hostile_ids_and_messages_appear_only_escaped(out):
    text = report.write_report(out).read_text(encoding="utf-8")
    assert HOSTILE_ID not in text and "<img" not in text and "onerror=alert(1)>" not in text
    assert html.escape(HOSTILE_ID) in text


def test_the_page_is_the_same_bytes_each_time_and_in_any_folder(out, tmp_path):
    first = report.write_report(out).read_bytes()
    assert report.write_report(out).read_bytes() == first
    copy = shutil.copytree(out, tmp_path / "elsewhere")
    (copy / "report.html").unlink()
    assert report.write_report(copy).read_bytes() == first


def test_late_work_shows_only_when_grades_csv_knows_lateness(out, tmp_path):
    assert "Late work" not in report.write_report(out).read_text(encoding="utf-8")
    late = write_out(tmp_path / "late", late={("bob", A3): "2 days 3 h late"})
    body = sections(report.write_report(late).read_text(encoding="utf-8"))["late"]
    assert "2 days 3 h late" in body and "bob" in body and "carol" not in body
    on_time = write_out(tmp_path / "on_time", late={})
    assert "Every submission came in on time" in report.write_report(on_time).read_text(encoding="utf-8")
    no_deadline = report.write_report(on_time, run={"deadline": None}).read_text(encoding="utf-8")
    assert "given no deadline" in no_deadline


def test_similar_pairs_show_only_when_similarity_csv_exists_and_are_worded_as_worth_a_look(out, tmp_path):
    assert 'id="similar"' not in report.write_report(out).read_text(encoding="utf-8")
    line = [A3, "alice", "erin", "same rare code", 0.82, 0.5, "test_maps: 0.82 of the smaller cell, 61 tokens"]
    similar = write_out(tmp_path / "similar", similar=[line])
    body = sections(report.write_report(similar).read_text(encoding="utf-8"))["similar"]
    assert "worth a look" in body and "never a verdict" in body
    assert "61 tokens" in body and f'href="feedback/alice/{A3}.html"' in body
    assert "cheat" not in body.lower() and "plagiar" not in body.lower()


def run_items(text):
    """{term: description} of the page's run section."""
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", sections(text)["run"]))


def test_the_run_is_said_not_recorded_when_nothing_tells_it(out):
    items = run_items(report.write_report(out).read_text(encoding="utf-8"))
    assert items["started"] == items["took"] == items["options"] == "not recorded"


def test_the_run_given_by_the_caller_is_shown(out):
    run = {"started": "2026-01-12T09:30:00+01:00", "seconds": 100.4, "options": {"timeout": 120, "jobs": 2}}
    items = run_items(report.write_report(out, run=run).read_text(encoding="utf-8"))
    assert items["started"] == "2026-01-12T09:30:00+01:00" and items["took"] == "1 min 40 s"
    assert items["timeout"] == "120" and items["jobs"] == "2"


def test_without_a_run_the_page_reads_run_json(out):
    import json

    (out / "run.json").write_text(json.dumps({"version": 1, "started": "2026-12-02T09:14:03+01:00", "seconds": 8.25,
                                              "deadline": None, "assignments": [A2, A3], "similarity": True}))
    text = report.write_report(out).read_text(encoding="utf-8")
    items = run_items(text)
    assert items["started"] == "2026-12-02T09:14:03+01:00" and items["took"] == "8.2 s"
    assert items["assignments"] == f"{A2}, {A3}" and items["deadline"] == "not given" and items["similarity"] == "yes"
    assert "version" not in items


def test_without_grades_csv_the_error_says_what_the_report_needs(tmp_path):
    with pytest.raises(FileNotFoundError, match="grading run's OUT folder"):
        report.write_report(tmp_path)


def test_a_threshold_outside_0_to_1_is_refused(out):
    with pytest.raises(ValueError, match="between 0 and 1"):
        report.write_report(out, threshold=50)


def test_a_class_of_forty_makes_one_page_with_a_section_per_assignment_the_same_twice(tmp_path):
    # How long it takes is benchmarks/bench_grade.py's business (its share of a grading run), not a test's.
    out = write_class(tmp_path / "forty")
    first = report.write_report(out).read_bytes()
    assert report.write_report(out).read_bytes() == first
    assert first.decode("utf-8").count('class="assignment"') == len(CLASS_TESTS)


def test_the_page_path_is_out_report_html(out):
    assert report.write_report(out) == Path(out) / "report.html"


def test_where_the_grading_time_went_is_one_line_in_the_order_of_grading(out):
    import json

    stages = {"recording": {"median": 0.06, "total": 2.4, "count": 40},
              "kernel start": {"median": 1.284, "total": 52.0, "count": 40},
              "feedback page": {"median": 0.5, "total": 20.0, "count": 40}}
    (out / "run.json").write_text(json.dumps({"version": 1, "seconds": 60.0, "stages": stages}))
    items = run_items(report.write_report(out).read_text(encoding="utf-8"))
    assert items["time per submission"] == \
        "kernel start 1.28 s · feedback page 0.50 s · recording 0.06 s (medians)"
    assert "stages" not in items
    (out / "run.json").write_text(json.dumps({"version": 1, "stages": {"kernel start": "fast"}}))
    assert run_items(report.write_report(out).read_text(encoding="utf-8"))["time per submission"] == "not readable"
