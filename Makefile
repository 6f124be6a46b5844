# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: venv run test lint typecheck kube-binaries

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
	$(BIN)/mypy app tests bench

# Builds etcd and the Kubernetes binaries for tests/kube once (stops saying what to install
# when Go is missing).
kube-binaries: venv
	scripts/testclusters build

test: lint typecheck kube-binaries
	$(BIN)/pytest
