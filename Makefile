# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: venv run test lint typecheck openapi bench

$(BIN)/placer: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/placer

venv: $(BIN)/placer

run: venv
	$(BIN)/placer serve --seed-sample-data

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy app tests bench scripts

test: lint typecheck
	$(BIN)/pytest
