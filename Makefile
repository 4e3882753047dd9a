# Everything a person does with kolmarket. `make run` serves with demo data; `make test` tests.
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced

.PHONY: install run test lint format typecheck openapi bench migrate clean

$(STAMP): pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv sync --frozen --extra dev --python $(BIN)/python --quiet
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/kolmarket serve --demo --with-worker

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

openapi: $(STAMP)
	$(BIN)/kolmarket openapi openapi/openapi.json

migrate: $(STAMP)
	$(BIN)/kolmarket migrate

bench: $(STAMP)
	for name in auth catalog pricing planning negotiation tracking webhooks; do \
		if [ -f bench/$$name.py ]; then $(BIN)/python -m bench.$$name || exit 1; fi; \
	done

clean:
	rm -rf $(VENV) .kolmarket .pytest_cache .mypy_cache .ruff_cache
