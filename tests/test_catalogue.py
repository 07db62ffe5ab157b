"""The catalogue of misconception codes is complete, derived from the checks, and committed up to date.

Every code of CODES has a sentence, an example of exactly three lines of
Python, and at least one notebook whose check can raise it; the notebooks are
read from the checks' source (conv_lib/diagnose/raised_where.py) and agree with
the hand-written expectations below; conv_lib/diagnose/catalogue.md is exactly
what `make catalogue` writes.
"""

import ast
import subprocess
import sys

import pytest

from conv_lib.diagnose import CODES, EXERCISES, print_catalogue
from conv_lib.diagnose.catalogue import EXAMPLES, PAGE, REGENERATE, catalogue_markdown, catalogue_text
from conv_lib.diagnose.raised_where import codes_raised_by, exercise_records, notebooks_of_codes, where_raised
from notebook_tools import REPO

ALL_NOTEBOOKS = ("01_single_channel", "02_multi_channel", "03_many_filters", "04_conv_pool_stack", "05_vgg16",
                 "06_learning_filters", "07_groups_depthwise")


@pytest.fixture(scope="module")
def notebooks():
    return notebooks_of_codes()


def test_the_committed_page_is_the_generated_one():
    committed = (REPO / PAGE).read_text(encoding="utf-8")
    assert committed == catalogue_markdown(), f"{PAGE} is out of date: run `{REGENERATE}` and commit it"


@pytest.mark.parametrize("code", list(CODES))
def test_every_code_has_a_sentence(code):
    assert isinstance(CODES[code], str) and len(CODES[code].split()) >= 3, f"[{code}] has no sentence: {CODES[code]!r}"


def test_every_code_has_an_example_and_every_example_a_code():
    assert set(EXAMPLES) == set(CODES), (f"codes without an example: {sorted(set(CODES) - set(EXAMPLES))}; "
                                         f"examples of no code: {sorted(set(EXAMPLES) - set(CODES))}")


@pytest.mark.parametrize("code", list(EXAMPLES))
def test_every_example_is_three_lines_of_python(code):
    lines = EXAMPLES[code]
    assert len(lines) == 3 and all(isinstance(line, str) and line.strip() and "\n" not in line for line in lines), (
        f"the example of [{code}] should be exactly three non-empty lines, but it is {lines!r}")
    ast.parse("\n".join(lines))  # a SyntaxError names the line


@pytest.mark.parametrize("code", list(CODES))
def test_every_code_can_appear_in_some_notebook(code, notebooks):
    assert notebooks[code], (f"no check raises [{code}]: expected its string in a check of conv_lib/diagnose "
                             "(or in a function a check calls), found none")


def test_the_exercise_records_found_in_the_source_are_exactly_EXERCISES():
    found = [(record.assignment, record.name) for record in exercise_records()]
    assert sorted(found) == sorted((exercise.assignment, exercise.name) for exercise in EXERCISES)
    checks = {record.name: record.check for record in exercise_records()}
    assert all(checks[exercise.name] == exercise.check.__name__ for exercise in EXERCISES)


@pytest.mark.parametrize("code, expected", [
    ("uniform-not-normal", ("06_learning_filters",)),
    ("no-channel-sum", ("02_multi_channel", "03_many_filters", "04_conv_pool_stack", "07_groups_depthwise")),
    ("filters-summed", ("03_many_filters", "04_conv_pool_stack")),
    ("off-by-one", ("04_conv_pool_stack",)),
    ("fc-input-size", ("05_vgg16",)),
    ("one-per-layer", ("04_conv_pool_stack",)),
    ("block-incomplete", ("05_vgg16",)),
    ("depthwise-summed", ("07_groups_depthwise",)),
    ("wrong-axis-order", ("07_groups_depthwise",)),
    ("depth-check", ("02_multi_channel", "03_many_filters", "04_conv_pool_stack", "07_groups_depthwise")),
    ("reshape-not-transpose", ("02_multi_channel", "03_many_filters", "04_conv_pool_stack", "07_groups_depthwise")),
    ("macs-wrong", ("05_vgg16", "07_groups_depthwise")),
    ("reference-call", ALL_NOTEBOOKS),
    ("raises", ALL_NOTEBOOKS),
    ("no-return", ALL_NOTEBOOKS),
])
def test_the_notebooks_of_a_code_are_where_its_checks_are(code, expected, notebooks):
    assert notebooks[code] == expected


def test_the_loops_slips_of_notebook_01_can_appear_there():
    for code in ("start-not-strided", "index-steps-by-stride", "one-sided-padding", "flipped-kernel"):
        assert "01_single_channel" in notebooks_of_codes()[code], code


def test_a_code_reached_through_an_import_counts_for_the_importing_notebook():
    # conv_pool_stack's conv2d check calls many_filters.multi_out_candidates, which calls
    # multi_channel.single_filter_candidates, where [mean-not-sum] is written.
    assert "mean-not-sum" in codes_raised_by("conv_pool_stack", "check_conv2d")
    assert ("04_conv_pool_stack", "conv2d") in where_raised()["mean-not-sum"]
    # ... but not the codes of functions it does not call: the receptive field's are notebook 04's only.
    assert "kernels-multiplied" not in codes_raised_by("vgg16", "check_vgg16_table")


def test_the_sentences_themselves_raise_nothing():
    assert codes_raised_by("codes", "CODES") == frozenset()


def test_the_text_shows_each_code_with_its_sentence_notebooks_and_example(capsys):
    text = catalogue_text()
    block = text.split("[uniform-not-normal] ")[1].split("\n\n")[0]
    assert block.startswith(CODES["uniform-not-normal"])
    assert "notebooks: 06_learning_filters (he_init)" in block
    assert all(line in block for line in EXAMPLES["uniform-not-normal"])
    print_catalogue()
    assert capsys.readouterr().out == text


def test_python_minus_m_prints_the_catalogue():
    for flags, expected in [((), catalogue_text()), (("--markdown",), catalogue_markdown())]:
        run = subprocess.run([sys.executable, "-m", "conv_lib.diagnose", *flags], capture_output=True, text=True,
                             cwd=REPO, timeout=120)
        assert run.returncode == 0, run.stderr
        assert run.stdout == expected, flags
