"""Where grading time goes (autograder/stage_times.py): each submission's stages, summed into run.json."""

import json

from autograder.stage_times import STAGES, StageTimes, Stopwatch, breakdown_lines


def test_a_stopwatch_adds_up_the_time_of_each_stage():
    watch = Stopwatch()
    for _ in range(3):
        with watch.stage("kernel start"):
            pass
    watch.add("notebook cells", 0.25)
    watch.add("notebook cells", 0.5)
    assert set(watch.seconds) == {"kernel start", "notebook cells"}
    assert watch.seconds["notebook cells"] == 0.75 and 0 <= watch.seconds["kernel start"] < 0.1


def test_the_summary_holds_each_stage_median_and_total_in_the_order_a_submission_meets_them():
    stages = StageTimes()
    for kernel, page in ((1.0, 0.5), (3.0, 0.7), (2.0, 0.6)):
        stages.add({"feedback page": page, "kernel start": kernel})
    stages.add({"kernel start": "soon", "recording": -1, 7: 1.0})  # not seconds: left out
    summary = stages.summary()
    assert list(summary) == ["kernel start", "feedback page"]
    assert summary["kernel start"] == {"median": 2.0, "total": 6.0, "count": 3}
    assert summary["feedback page"] == {"median": 0.6, "total": 1.8, "count": 3}
    assert json.loads(json.dumps(summary)) == summary  # as run.json keeps it


def test_the_breakdown_lists_stages_in_order_with_their_share_whatever_order_json_gave():
    summary = {"feedback page": {"median": 1.0, "total": 4.0, "count": 4},
               "kernel start": {"median": 3.0, "total": 12.0, "count": 4}}
    lines = breakdown_lines(summary, submissions=4)
    assert [line.split()[0] for line in lines] == ["kernel", "feedback", "sum"]
    assert "3.000 s   75.0%" in lines[0] and "(all submissions: 3.000 s each)" in lines[0]
    assert lines[-1].split()[-2:] == ["4.000", "s"]
    assert STAGES.index("kernel start") < STAGES.index("feedback page") < STAGES.index("recording")
