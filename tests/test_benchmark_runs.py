"""`make bench` keeps working: a one-layer run prints its table (timings are not checked here)."""

import subprocess
import sys
from pathlib import Path

import pytest

from autograder import fork_server

REPO = Path(__file__).resolve().parents[1]


def test_benchmark_prints_a_row_for_the_layer_asked_for():
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_conv.py", "--repeats", "1", "--threads", "1",
         "--dtype", "float32", "--layers", "conv5_1", "--no-stack", "--no-grouped"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "BLAS: " in result.stdout  # the BLAS in use is named (OpenBLAS here, MKL on some conda set-ups)
    assert "| layer | threads | fast ms | torch ms |" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("| conv5_1 512->512 14x14 | 1 |"))
    reference_ms = row.split("|")[8].strip()
    assert reference_ms != "-"  # the readable reference is timed on this small layer
    assert "max pooling 2x2 stride 2" in result.stdout


def test_the_grouped_benchmark_prints_a_row_per_grouped_and_depthwise_case():
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_conv.py", "--repeats", "1", "--threads", "1",
         "--dtype", "float32", "--grouped-only", "--batches", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "| convolution | batch | threads | conv_lib ms | torch ms | conv_lib/torch |" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith(("| depthwise", "| grouped"))]
    assert len(rows) == 5 and all(row.split("|")[2:4] == [" 1 ", " 1 "] for row in rows)
    assert "| layer | threads |" not in result.stdout  # --grouped-only: no VGG16 rows


def test_the_demo_benchmark_prints_the_redraw_times_of_the_controls_asked_for():
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_explorer.py", "--rounds", "1", "--controls", "column", "highlight"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "| control | changes | median ms | 95th percentile ms | redraw |" in result.stdout
    assert any(line.startswith("| column | 57 |") and line.endswith("| window only |") for line in result.stdout.splitlines())
    assert any(line.startswith("| highlight | 20 |") and line.endswith("| whole figure |") for line in result.stdout.splitlines())
    assert "all changes: median " in result.stdout


@pytest.mark.skipif(not fork_server.wanted(), reason="the fork server needs root and a memory cgroup")
def test_the_sandbox_start_benchmark_prints_direct_and_forked_seconds_of_both_processes(needs_bubblewrap):
    result = subprocess.run([sys.executable, "benchmarks/bench_sandbox_start.py", "--repeats", "1"],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split() == ["process", "direct", "forked", "saved"] for line in lines)
    for name in ("kernel", "check"):
        row = next(line.split() for line in lines if line.startswith(name))
        direct, forked, saved = map(float, row[1:])
        assert direct > 0 and forked > 0 and abs(direct - forked - saved) < 0.002
    assert any(line.startswith("per submission (kernel + check): ") for line in lines)


def test_the_grading_benchmark_prints_the_ways_of_grading_side_by_side(needs_bubblewrap):
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_grade.py", "--count", "2", "--assignment", "03_many_filters",
         "--rounds", "1", "--dask-tasks", "8"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("plain nbgrader (sequential)") for line in lines)
    assert any(line.startswith("conv-course --jobs 2") and line.rstrip().endswith("x") for line in lines)
    assert any(line.startswith("conv-course --cluster local:2") and line.rstrip().endswith("x") for line in lines)
    assert any(line.startswith("Dask alone, a task carrying") for line in lines)
    assert any(line.startswith("The class report (report.html") and "% of the --jobs 2 run" in line for line in lines)
    assert any(line.startswith("Goals: --jobs 2 under 1.5 s per submission per core") for line in lines)
    # Where one submission's time goes: a row per stage, a column per run, and their sum.
    header = next(line for line in lines if line.startswith("median s per submission"))
    assert header.split()[-4:] == ["--jobs", "1", "--jobs", "2"]
    for stage in ("kernel start", "notebook cells", "independent check", "feedback page", "recording", "sum"):
        row = next(line for line in lines if line.startswith(f"  {stage} "))
        assert len(row[28:].split()) == 2 and all(float(value) >= 0 for value in row[28:].split()), row


def test_the_training_benchmark_prints_its_table_and_the_backward_speedup():
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_train.py", "--repeats", "1", "--epochs", "1", "--threads", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "BLAS: " in result.stdout and "1438 training and 359 test images of 16x16" in result.stdout
    assert "| BLAS threads | runs | median s to 97% test accuracy (epoch) |" in result.stdout
    assert any(line.startswith("| 1 | 1 | ") for line in result.stdout.splitlines())  # one run, one epoch
    speedup = next(line for line in result.stdout.splitlines() if line.startswith("conv2d backward"))
    assert "reference" in speedup and "speedup" in speedup


def test_the_misconceptions_benchmark_prints_a_row_per_exercise_asked_for_and_the_total():
    result = subprocess.run(
        [sys.executable, "benchmarks/misconceptions.py", "--exercise", "conv_output_size", "receptive_field", "--details"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "| exercise | answers | wrong | named exactly | named wrongly | generic [wrong-values] |" in result.stdout
    rows = [line.split("|")[1:-1] for line in result.stdout.splitlines() if line.startswith("| ") and "exercise" not in line]
    assert [cells[0].strip() for cells in rows] == ["conv_output_size", "receptive_field", "total"]
    for cells in rows:  # every answer is counted once: wrong ones under one outcome, correct ones passing or refused
        answers, wrong, *outcomes, correct = [cell.strip() for cell in cells[1:]]
        passing, correct_answers = map(int, correct.split("/"))
        assert sum(map(int, outcomes)) == int(wrong) + correct_answers - passing
        assert int(answers) == int(wrong) + correct_answers
    assert "Answers not named exactly" in result.stdout
