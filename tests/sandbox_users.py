"""The sandbox user of this test process: a worker number that no other process on this machine holds.

The grader's workers take their sandbox users (autograder.sandbox.UID_BASE + number) with
sandbox.claim_slot, a lock per number, so that two grading runs at once never share one: a user's
process limit counts every process of that user, and tests find a sandbox's processes by its user
id. The tests that run code in the sandbox themselves take their user the same way, once per test
process, from the top of the local pools' numbers (the pools start at the bottom): under
pytest-xdist, two test files that sandbox at the same time, or a test file and a grading run that
another test started, then do so as different users.
"""

import functools

from autograder import sandbox

_held = []  # the lock of the slot, open as long as this process lives (the kernel releases it then)


@functools.cache
def sandbox_user():
    """The user id the sandboxes of this test process run as (when the tests run as root)."""
    number, lock = sandbox.claim_slot(sandbox.LOCAL_SLOTS[::-1])
    assert number is not None, "every sandbox slot of this machine is held by a grading process"
    _held.append(lock)
    return sandbox.UID_BASE + number
