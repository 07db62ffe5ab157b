"""The standing attack suite (tests/attack_set.py): every attack of every
attacks_*.py module graded in one run, beside honest students who must keep
full marks; one test per attack asserts its status, points and messages."""

from __future__ import annotations

import importlib
import os

import pytest
from attack_set import assert_attack, assert_honest, grade_attacks

MODULES = ("attacks_that_hold", "attacks_pages", "attacks_reference_calls", "attacks_resources", "attacks_records")
# ATTACK_MODULES=attacks_pages,attacks_records runs only those modules (while one is being written).
MODULES = tuple(filter(None, os.environ.get("ATTACK_MODULES", "").split(","))) or MODULES

pytestmark = pytest.mark.usefixtures("needs_bubblewrap")


def every_attack():
    return [attack for name in MODULES for attack in importlib.import_module(name).attacks()]


ATTACKS = every_attack()


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """Every attack and the honest students, graded in one run."""
    return grade_attacks(tmp_path_factory.mktemp("attacks"), every_attack())


def test_the_run_itself_finishes_and_says_so(attacked):
    assert attacked.process.returncode == 0, attacked.process.stdout[-3000:] + attacked.process.stderr[-3000:]


def test_honest_students_keep_full_marks_beside_every_attack(attacked):
    assert_honest(attacked)


@pytest.mark.parametrize("attack", ATTACKS, ids=[f"{a.defect}-{a.student}" for a in ATTACKS])
def test_each_attack_gets_the_status_and_points_it_deserves(attacked, attack):
    assert_attack(attacked, attack)
