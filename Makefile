# Everything a person does with kolmarket. `make run` serves with demo data; `make test` tests.
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced

.PHONY: install run test lint format typecheck openapi client-check fuzz bench migrate clean

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

# TypeScript types generated from the committed document (openapi-typescript), and typical uses
# of them (clients/typescript/check.ts) compiled with tsc --strict. Needs Node.js and npm.
CLIENT_TS := clients/typescript
CLIENT_TS_STAMP := $(CLIENT_TS)/node_modules/.installed

$(CLIENT_TS_STAMP): $(CLIENT_TS)/package.json $(CLIENT_TS)/package-lock.json
	cd $(CLIENT_TS) && npm ci --prefer-offline --no-audit --no-fund
	touch $(CLIENT_TS_STAMP)

client-check: $(CLIENT_TS_STAMP)
	cd $(CLIENT_TS) && node_modules/.bin/openapi-typescript --default-non-nullable false ../../openapi/openapi.json --output schema.d.ts
	cd $(CLIENT_TS) && node_modules/.bin/tsc --project tsconfig.json --strict --noEmit

# The document proven against the running service: Schemathesis as the demo merchant, a KOL,
# an operator and a partner key, every operation, all phases (about a minute each).
FUZZ_SECONDS ?= 60
fuzz: $(STAMP)
	$(BIN)/python -m tests.contract.fuzz --seconds $(FUZZ_SECONDS)

migrate: $(STAMP)
	$(BIN)/kolmarket migrate

bench: $(STAMP)
	for name in auth catalog pricing planning negotiation tracking webhooks; do \
		if [ -f bench/$$name.py ]; then $(BIN)/python -m bench.$$name || exit 1; fi; \
	done

clean:
	rm -rf $(VENV) .kolmarket .pytest_cache .mypy_cache .ruff_cache $(CLIENT_TS)/node_modules $(CLIENT_TS)/schema.d.ts
