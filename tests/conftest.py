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
