# The two commands of the README: `make demo` (the whole pipeline on the embedded stack) and `make test`.
# Both set themselves up: a virtualenv in .venv with torch's CPU wheel first (a looser torch spec could
# pull a multi-GB CUDA build), then ecgstream with its test extras.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ecgstream-installed

.PHONY: install demo up test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/ecgstream demo

up: install
	$(BIN)/ecgstream up

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

test: install lint typecheck
	$(BIN)/pytest -q -p no:cacheprovider

bench: install
	$(BIN)/python benchmarks/bench_inference.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
