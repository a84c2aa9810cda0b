# Two commands on a fresh machine (see README): `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# constraints.txt pins torch to the CPU wheel (any looser pin pulls a multi-GB CUDA build).
PIP_INSTALL := $(BIN)/python -m pip install -q -c constraints.txt
ARGS ?= serve
PYTEST_ARGS ?=

.PHONY: setup run test lint bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(PIP_INSTALL) -e ".[dev]"
	touch $@

setup: $(BIN)/.installed

run: setup  ## set up, then run the advisor (ARGS=... to choose the command)
	$(BIN)/advisor $(ARGS)

test: setup  ## set up, then run the test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check tools advisor evals ui
	$(BIN)/mypy tools

bench: setup
	$(BIN)/advisor bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
