# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test test-slow test-all test-fast lint schema preview clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstalled only when the dependencies change.
$(VENV)/.installed: pyproject.toml scripts/install-fonts.sh tests/clients/package-lock.json | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	bash scripts/install-fonts.sh
	@# Clients nobody here wrote, which the tests run against the API (Node.js, if present).
	if command -v npm >/dev/null; then npm ci --prefix tests/clients --silent --no-audit --no-fund; fi
	touch $@

install: $(VENV)/.installed

# Migrate the embedded database, load demo data if it is empty, print the development staff
# token (kept beside the database and reused while it works; minted the first time), serve.
run: install
	$(BIN)/invoicing db upgrade
	$(BIN)/invoicing db seed
	@TOKEN=$$($(BIN)/invoicing token local 2>/dev/null) && \
	  echo "" && \
	  echo "API:         http://$(HOST):$(PORT)/graphql (GraphiQL in a browser: paste the token)" && \
	  echo "Staff token: send 'Authorization: Bearer <token>' with every request" && \
	  echo "$$TOKEN" && echo ""
	GRAPHIQL=$${GRAPHIQL:-true} $(BIN)/invoicing serve --host $(HOST) --port $(PORT)

# Live preview of the invoice templates against fixtures: http://127.0.0.1:5001/ (or PORT=).
PREVIEW_PORT := $(if $(filter command line environment,$(origin PORT)),$(PORT),5001)
preview: install
	$(BIN)/invoicing preview --host $(HOST) --port $(PREVIEW_PORT)

# Style, the layers (import-linter: see pyproject.toml) and types (mypy, strict on domain/).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# Every test but the slow lane's (marked `slow`: processes, workers, browsers, Node
# clients, 1000-line PDFs), which `make test-slow` runs; `make test-all` runs both.
test: lint
	$(BIN)/pytest -m "not slow"

test-slow: install
	$(BIN)/pytest -m slow

test-all: lint
	$(BIN)/pytest

# The quickest lane: the model, rendering and adapters against in-memory fakes (no database).
test-fast: install
	$(BIN)/pytest tests/unit

schema: install
	$(BIN)/invoicing schema export

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
