# Conv Channels: every install step lives here, so a machine with only
# Python 3.11+ and GNU make can set up, open and test the course.
#
#   make lab     set up, then open the course in JupyterLab
#   make test    set up, then run the whole test suite
#   make release regenerate the student notebooks (notebooks/) from solutions/, and the codes' page
#   make catalogue regenerate conv_lib/diagnose/catalogue.md, the page of misconception codes
#   make demo    serve the lecture's slider demo with Voila on 127.0.0.1
#   make misconceptions  count how well the checks name the ideas of a corpus of learner answers
#
# Overrides: make PYTHON=python3.12 ..., make lab LAB_ARGS="--no-browser --port=8899",
# make test PYTEST_ARGS="-x -k conv", make bench BENCH_ARGS="--repeats 3",
# make release RELEASE_ARGS="01_single_channel", make demo DEMO_PORT=8867 DEMO_ARGS="--theme=dark"

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LAB_ARGS ?=
# The folder JupyterLab opens (tests point it elsewhere).
LAB_DIR ?= notebooks
# Jupyter refuses to start as root unless told to; containers and CI often run as root.
LAB_ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PYTEST_ARGS ?=
BENCH_ARGS ?=
# Extra flags for the grading and training benchmarks, e.g. BENCH_TRAIN_ARGS="--repeats 1".
BENCH_GRADE_ARGS ?=
BENCH_TRAIN_ARGS ?=
# Flags for benchmarks/misconceptions.py, e.g. MISCONCEPTIONS_ARGS="--details --exercise conv2d".
MISCONCEPTIONS_ARGS ?=
RELEASE_ARGS ?=
# `make demo`: Voila serves this notebook (code hidden, outputs and text shown).
DEMO_NOTEBOOK ?= notebooks/demo/conv_explorer.ipynb
DEMO_PORT ?= 8866
DEMO_ARGS ?=
# PyTorch is only a yardstick for `make bench`, never a dependency.
TORCH_VERSION ?= 2.13.0
TORCH_PIP_ARGS ?=
# Some machines pin OpenBLAS to older kernels with OPENBLAS_CORETYPE (and
# OPENBLAS_L2_SIZE), since old OpenBLAS builds misbehave on their processors.
# numpy's current OpenBLAS does not need the pin, and PyTorch ignores it, so
# the side-by-side convolution benchmark lifts both, for its own command only,
# and prints the kernel OpenBLAS then chose. Keep the pin: BENCH_BLAS_ENV=
BENCH_BLAS_ENV ?= env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE

# Stamps: each records that one install step finished. They are older than
# pyproject.toml after it changes, so the next run reinstalls.
INSTALLED := $(VENV)/.installed
INSTALLED_BENCH := $(VENV)/.installed-bench
INSTALLED_DEV := $(VENV)/.installed-dev
INSTALLED_DEMO := $(VENV)/.installed-demo

# $(call require_py311,INTERPRETER) stops with a readable message unless
# INTERPRETER runs and is Python 3.11 or newer.
define require_py311
@command -v $(1) >/dev/null 2>&1 || { \
	echo "error: '$(1)' was not found. Install Python 3.11 or newer, or point make at one: make PYTHON=/path/to/python3.11" >&2; \
	exit 1; }
@$(1) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { \
	echo "error: this course needs Python 3.11 or newer, but '$(1)' is $$($(1) -c 'import platform; print(platform.python_version())' 2>/dev/null || echo 'unusable')." >&2; \
	echo "       Run with a newer one, e.g. make PYTHON=python3.11 (after 'make clean' if .venv was made with the old one)." >&2; \
	exit 1; }
endef

# nbgrader's JupyterLab extensions (the Validate button, formgrader) read
# nbgrader_config.py from the Jupyter config path: autograder/ goes first on it.
# nbgrader's gradebook runs `alembic` by name: the venv's bin/ goes first on PATH.
LAB_ENV = JUPYTER_CONFIG_PATH="$(CURDIR)/autograder$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	PATH="$(abspath $(BIN)):$$PATH"

.PHONY: help setup venv test lab release catalogue demo bench misconceptions hooks clean

help: ## Show this list of targets
	@echo "Conv Channels: make TARGET"
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z ]*:.*## / { printf "  %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

setup venv: $(INSTALLED) ## Create .venv (if missing) and install the course with its test tools

# pyvenv.cfg is written when the venv is made, so a remade venv is newer
# than the stamp and gets a fresh install.
$(VENV)/pyvenv.cfg:
	$(call require_py311,$(PYTHON))
	$(PYTHON) -m venv $(VENV)

# jsonschema, which nbformat imports, imports rfc3987-syntax whenever it is
# installed (jupyter-events asks for it through jsonschema's format-nongpl
# extra), and that package compiles 39 Lark grammars as it is imported: about
# 2.5 s of every Python process that reads a notebook (each grading worker,
# each nbgrader or conv-course command, each Jupyter server). Nothing here
# checks the "iri" format it serves, and jsonschema does without it, so each
# install step ends by removing it (tests/test_project_setup.py checks).
DROP_SLOW_IMPORTS = $(BIN)/python -m pip uninstall --yes --quiet rfc3987-syntax

$(INSTALLED): pyproject.toml $(VENV)/pyvenv.cfg
	$(call require_py311,$(BIN)/python)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[test,cluster]"
	$(DROP_SLOW_IMPORTS)
	@touch $@

# Bytecode of the course's own modules, written once: where PYTHONDONTWRITEBYTECODE is set (as on
# many CI machines) every test's Python process would otherwise compile them again.
COMPILE_COURSE = $(BIN)/python -m compileall -q conv_lib autograder tests benchmarks

test: $(INSTALLED) ## Set up, then run the whole test suite (pytest)
	$(COMPILE_COURSE) >/dev/null
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lab: $(INSTALLED) ## Set up, then open JupyterLab on notebooks/ (extra flags: LAB_ARGS=...)
	exec env $(LAB_ENV) $(BIN)/jupyter lab --notebook-dir=$(LAB_DIR) $(LAB_ROOT_FLAG) $(LAB_ARGS)

release: $(INSTALLED) catalogue ## Regenerate notebooks/ from solutions/ with nbgrader (only some: RELEASE_ARGS=...), and the codes' page
	$(BIN)/python -m autograder.release $(RELEASE_ARGS)

# The page is written to a temporary file first, so a failing run leaves the old page whole.
CATALOGUE := conv_lib/diagnose/catalogue.md
catalogue: $(INSTALLED) ## Regenerate conv_lib/diagnose/catalogue.md: every misconception code, its notebooks, an example
	$(BIN)/python -m conv_lib.diagnose --markdown > $(CATALOGUE).tmp
	mv $(CATALOGUE).tmp $(CATALOGUE)

$(INSTALLED_DEMO): $(INSTALLED) pyproject.toml
	$(BIN)/python -m pip install -e ".[demo]"
	$(DROP_SLOW_IMPORTS)
	@touch $@

# Voila's page loads every JupyterLab extension installed in the venv, but it
# is built on an older JupyterLab: nbgrader's and Notebook's extensions fail
# in it (errors in the browser console), and they have nothing to show there.
DEMO_FLAGS := --VoilaConfiguration.extension_denylist=@jupyter/nbgrader \
	--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension

# Voila (unlike JupyterLab) runs as root without a flag. A taken port is an
# error (port_retries=0) rather than a silent move, so the address printed is
# the one served. The kernel is the venv's Python (LAB_ENV puts bin/ first on
# PATH). The browser test (tests/test_demo_browser.py) runs this very target.
demo: $(INSTALLED_DEMO) ## Start the slider demo with Voila on 127.0.0.1 and print its address (DEMO_PORT=8866, DEMO_ARGS=...)
	@echo "Lecture demo: open http://127.0.0.1:$(DEMO_PORT)/ in a browser (Ctrl-C stops it)."
	exec env $(LAB_ENV) $(BIN)/voila $(DEMO_NOTEBOOK) --no-browser --Voila.ip=127.0.0.1 --port=$(DEMO_PORT) \
		--Voila.port_retries=0 $(DEMO_FLAGS) $(DEMO_ARGS)

$(INSTALLED_BENCH): $(INSTALLED) pyproject.toml
	$(BIN)/python -m pip install -e ".[bench]"
	$(DROP_SLOW_IMPORTS)
	@touch $@

bench: $(INSTALLED_BENCH) ## Time conv2d against PyTorch on VGG16 layers, the slider demo's redraw, grading, and training a TinyVGG; then count the checks' namings
	@if $(BIN)/python -c 'import torch' >/dev/null 2>&1; then \
		echo "PyTorch $$($(BIN)/python -c 'import torch; print(torch.__version__)') is installed."; \
	elif $(BIN)/python -m pip install "torch==$(TORCH_VERSION)" $(TORCH_PIP_ARGS); then \
		echo "Installed PyTorch $(TORCH_VERSION) as a yardstick."; \
	else \
		echo "note: PyTorch $(TORCH_VERSION) could not be installed; benchmarking without it." >&2; \
	fi
	$(BENCH_BLAS_ENV) $(BIN)/python benchmarks/bench_conv.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/bench_explorer.py
	$(BIN)/python benchmarks/bench_grade.py $(BENCH_GRADE_ARGS)
	$(BIN)/python benchmarks/bench_sandbox_start.py
	$(BIN)/python benchmarks/bench_train.py $(BENCH_TRAIN_ARGS)
	$(BIN)/python benchmarks/misconceptions.py $(MISCONCEPTIONS_ARGS)

# tests/learner_answers.py's answers through the visible and the hidden check: one row per graded function.
misconceptions: $(INSTALLED) ## Count how often the checks name a learner answer's idea exactly (MISCONCEPTIONS_ARGS=--details lists the rest)
	$(BIN)/python benchmarks/misconceptions.py $(MISCONCEPTIONS_ARGS)

$(INSTALLED_DEV): $(INSTALLED) pyproject.toml
	$(BIN)/python -m pip install -e ".[dev]"
	$(DROP_SLOW_IMPORTS)
	@touch $@

hooks: $(INSTALLED_DEV) ## Install the pre-commit hook that strips outputs from solutions/ notebooks
	$(BIN)/pre-commit install

clean: ## Remove .venv and caches (.pytest_cache, .hypothesis, __pycache__, *.egg-info)
	rm -rf $(VENV) .pytest_cache .hypothesis build dist *.egg-info
	find . -path ./.git -prune -o -type d \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
