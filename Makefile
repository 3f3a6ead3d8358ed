# make train [ARGS="encoder=shared_bottom seed=3"]   install into .venv, run the default experiment
# make test                                          install into .venv, run the whole test suite
# make test-fast                                     the suite without tests marked slow
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mtfw-installed
DEV_STAMP := $(VENV)/.mtfw-dev-installed

.PHONY: install install-dev train test test-fast lint bench

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(DEV_STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

train: $(STAMP)
	$(BIN)/mtfw train $(ARGS)

test: $(DEV_STAMP)
	WANDB_MODE=offline $(BIN)/ruff check mtfw tests benchmarks
	WANDB_MODE=offline $(BIN)/ruff format --check mtfw tests benchmarks
	WANDB_MODE=offline $(BIN)/pytest $(PYTEST_ARGS)

test-fast: $(DEV_STAMP)
	WANDB_MODE=offline $(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check mtfw tests benchmarks
	$(BIN)/ruff format --check mtfw tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/weighting.py
	$(BIN)/python benchmarks/sweep_overhead.py
	$(BIN)/python benchmarks/recsys_eval.py
	$(BIN)/python benchmarks/generative_epoch.py
