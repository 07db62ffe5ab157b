"""Where grading time goes: each submission's seconds, stage by stage.

A grading worker times the stages of each submission it grades (a Stopwatch)
and sends the seconds back with the result (course.Graded.seconds); its
kernel's own stages come from kernel.NotebookRun. The grade run gathers them
(StageTimes) and writes their medians into OUT/run.json, where
benchmarks/bench_grade.py reads the breakdown it prints.

The stages, in the order a submission meets them (STAGES):

    kernel start     sandbox, kernel process and its IPython start-up, until the kernel answers
    notebook cells   the notebook's cells, hidden tests included
    kernel stop      shutting the kernel down and removing its sandbox
    nbgrader         the rest of nbgrader's autograde: reading and writing the notebook,
                     its preprocessors, the worker's gradebook, and reading the grades back
    independent check  the graded functions run again in a second sandbox (integrity.py)
    inert copy       the graded notebook made inert for the pages an instructor opens
    feedback page    nbgrader's generate_feedback, in a process forked for it
    recording        the result written into the course gradebook, by the grade run itself
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager

STAGES = ("kernel start", "notebook cells", "kernel stop", "nbgrader", "independent check", "inert copy",
          "feedback page", "recording")


class Stopwatch:
    """Seconds spent in named stages: `with watch.stage("cells"): ...` adds to seconds["cells"]."""

    def __init__(self):
        self.seconds = {}

    @contextmanager
    def stage(self, name):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def add(self, name, seconds):
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


class StageTimes:
    """The stage seconds of every submission of a run, gathered as results come."""

    def __init__(self):
        self.samples = {}  # stage: [seconds of each submission that went through it]

    def add(self, seconds):
        """Count one submission's {stage: seconds} (values that are not numbers are skipped)."""
        for stage, value in (seconds or {}).items():
            if isinstance(stage, str) and isinstance(value, (int, float)) and value >= 0:
                self.samples.setdefault(stage, []).append(float(value))

    def summary(self):
        """{stage: {"median": s, "total": s, "count": n}} in STAGES order (other stages after), for run.json."""
        return {stage: {"median": round(statistics.median(self.samples[stage]), 4),
                        "total": round(sum(self.samples[stage]), 3),
                        "count": len(self.samples[stage])}
                for stage in sorted(self.samples, key=stage_order)}


def stage_order(stage):
    """Sort key: the stages of STAGES in their order, then any other by name."""
    return (STAGES.index(stage), "") if stage in STAGES else (len(STAGES), stage)


def breakdown_lines(summary, submissions=None):
    """Text lines of a run.json `stages` summary: each stage's median seconds per submission and its share
    of the summed medians; with submissions (how many were graded), also its total per submission."""
    total = sum(entry["median"] for entry in summary.values()) or 1.0
    lines = []
    for stage, entry in sorted(summary.items(), key=lambda item: stage_order(item[0])):
        line = f"  {stage:18} {entry['median']:7.3f} s  {100 * entry['median'] / total:5.1f}%"
        if submissions:
            line += f"   (all submissions: {entry['total'] / submissions:.3f} s each)"
        lines.append(line)
    lines.append(f"  {'sum of medians':18} {total:7.3f} s")
    return lines
