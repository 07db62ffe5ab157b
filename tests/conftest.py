"""What every test shares: the hypothesis profile, a seeded rng, and the sandbox that student code needs."""

import numpy as np
import pytest
from hypothesis import settings

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
    installs it and its absence is a failure."""
    import os

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
