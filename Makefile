# make train [ARGS="encoder=shared_bottom seed=3"]   install into .venv, run the default experiment
# make test                                          install into .venv, run the whole test suite
# make test-fast                                     the suite without tests marked slow
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mtfw-installed

.PHONY: install train test test-fast lint bench

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

train: $(STAMP)
	$(BIN)/mtfw train $(ARGS)

test: $(STAMP)
	WANDB_MODE=offline $(BIN)/ruff check mtfw tests benchmarks
	WANDB_MODE=offline $(BIN)/ruff format --check mtfw tests benchmarks
	WANDB_MODE=offline $(BIN)/pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	WANDB_MODE=offline $(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check mtfw tests benchmarks
	$(BIN)/ruff format --check mtfw tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/throughput.py
