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
