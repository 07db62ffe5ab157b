"""What every test shares: the hypothesis profile, a seeded rng, the sandbox that student code needs,
and what running the test files in parallel (pytest-xdist, pyproject.toml's addopts) needs."""

import fcntl
import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

# One BLAS thread per test process. The suite runs in 2 worker processes on 2 cores (pyproject.toml's
# addopts), and each starts kernels, notebooks and graders of its own; a BLAS that also starts a
# thread per core in each of them has its threads spin against the other processes' work. Measured
# on the 2-core machine: notebook 06's training took 53 s in the suite with OpenBLAS's default of 2
# threads and 19 s with 1, and the whole suite used 13% less CPU.
# Set before numpy is first imported here; the workers, kernels and subprocesses inherit it.
# An explicit setting (OPENBLAS_NUM_THREADS=2 make test) is kept.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402 - after the thread settings above
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

# Property tests compare three implementations on many random shapes; keep them
# thorough but bounded so `make test` stays quick on a 2-core machine.
settings.register_profile("course", max_examples=60, deadline=None)
settings.load_profile("course")


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)


@pytest.fixture(scope="session")
def needs_bubblewrap():
    """Skip a test that runs student code in the sandbox when this machine
    cannot build it (no bubblewrap), except in CI (CI set), where .ci/run
    installs it and its absence is a failure. Under pytest-xdist each worker checks once
    (about 1.5 s: one sandbox started)."""
    from autograder import sandbox

    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to sandbox student code: {error}")
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def chromium():
    """The path of Debian's chromium, with Playwright to drive it (the browser
    tests); skipped outside CI when either is missing, failed in CI."""
    from test_demo_browser import find_chromium, unavailable

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("Playwright is not installed (it comes with the test extra: pip install -e '.[test]')")
    path = find_chromium()
    if path is None:
        unavailable("chromium was not found (Debian: apt-get install chromium)")
    return path


# --- running in parallel -------------------------------------------------------------------


def pytest_addoption(parser, pluginmanager):
    """pyproject.toml's addopts ask pytest-xdist for its workers (--numprocesses, --dist, in
    their long forms: a conftest may not define -n). Without pytest-xdist (`-p no:xdist`, to
    debug in one process, or a venv from before it), those options are taken and ignored
    here, so that the suite still starts, in one process."""
    if not pluginmanager.has_plugin("xdist"):
        group = parser.getgroup("xdist", "pytest-xdist is not loaded: its options are ignored")
        group.addoption("--numprocesses", dest="numprocesses", default=None)
        group.addoption("--dist", dest="dist", default="no")
        group.addoption("--loadscope-reorder", dest="loadscopereorder", action="store_true", default=True)
        group.addoption("--no-loadscope-reorder", dest="loadscopereorder", action="store_false")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "make_targets(*targets): make targets the test needs up to date (a pip install when they are not); "
        "made before any test starts, see pytest_collection_finish")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session):
    """Bring the make targets that the collected tests need up to date before any test starts.

    `make setup` and `make .venv/.installed-demo` reinstall the course into .venv when
    pyproject.toml is newer than their stamps (the demo's stamp is missing on a fresh
    checkout): pip then removes and rewrites the editable install, and a Python that starts in
    that moment, in a test file running beside it, cannot import the course. So the tests that
    call them (marked make_targets) have them made here, after collection and before the first
    test: under pytest-xdist each worker comes here before it reports its collection, and no
    test is handed out before every worker has; a lock lets one worker install while the
    other waits and then finds everything up to date. The tests still run their own make,
    which is then quick, and report its failure."""
    if session.config.option.collectonly:
        return
    targets = sorted({target for item in session.items
                      for marker in item.iter_markers("make_targets") for target in marker.args})
    if not targets:
        return
    from test_project_setup import make_env

    key = hashlib.sha256(str(REPO).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"conv-channels-make-{key}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(["make", "--no-print-directory", *targets], cwd=REPO, env=make_env(),
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=1800)


#: The test files that take minutes (whole grading runs, nbgrader on every notebook, JupyterLab's
#: Validate, the benchmarks' smoke runs), longest first, as measured on this 2-core machine (the
#: serial run's seconds of each file: 635, 391, 377, 253, 170, 119, 107, 80, 63, 49, 47, 42, 41).
#: Under pytest-xdist they start first and the many short files fill in around them, so that no
#: worker is left with one of them at the end while the others idle. A file missing here only runs
#: in collection order; a file that grows long belongs here.
LONGEST_FIRST = (
    "tests/test_conv_course_grade.py",
    "tests/test_nbgrader_end_to_end.py",
    "tests/test_attack_suite.py",
    "tests/test_benchmark_runs.py",
    "tests/test_conv_course_cluster.py",
    "tests/test_notebooks_run.py",
    "tests/test_notebooks_validate.py",
    "tests/test_layers.py",
    "tests/test_integrity.py",
    "tests/test_diagnose_learning.py",
    "tests/test_widgets.py",
    "tests/test_formgrader_browser.py",
    "solutions/06_learning_filters/06_learning_filters.ipynb",
)


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist, the files of LONGEST_FIRST first (--dist loadfile hands out whole
    files in the order of the collection: --no-loadscope-reorder), each file's tests in their
    own order (a notebook's cells, a module's fixtures). Every worker sorts alike, so their
    collections stay the same. In one process the order is left as collected."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
