# One entry point for people and CI. Every target installs what it needs first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# infinity-emb, a real OpenAI-compatible embedding server for tests/remote (its own pins)
INFINITY := .venv-infinity/.installed

FOLDER ?= tests/fixtures/workspace
QUERY  ?= retry failed uploads

.PHONY: search test test-fast test-python test-extension check contract clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

$(INFINITY): tests/support/infinity-requirements.txt
	$(PYTHON) -m venv .venv-infinity
	.venv-infinity/bin/python -m pip install --quiet --disable-pip-version-check \
		-r tests/support/infinity-requirements.txt
	touch $(INFINITY)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

## The main job: index FOLDER and search it with QUERY on the packaged model.
## `codesearch` lives in $(VENV)/bin, not on PATH: the last lines say how to run it yourself.
search: $(STAMP)
	$(VENV)/bin/codesearch index "$(FOLDER)"
	$(VENV)/bin/codesearch search "$(QUERY)" --path "$(FOLDER)" --no-update
	@echo
	@echo "To run codesearch yourself, put it on your PATH: . $(VENV)/bin/activate"
	@echo "(or install it for your user: pipx install .  or  pip install --user .)"

## All tests: Python (unit, pipeline, LSP, e2e) and the VS Code extension.
test: test-python test-extension

test-python: $(STAMP) $(INFINITY)
	$(PY) -m pytest -q

## The fast inner loop: tests with the fake encoder; no real model, no servers (seconds).
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

test-extension: $(STAMP) node_modules/.installed
	npm run --silent build
	npm run --silent test:unit
	CODESEARCH_PYTHON=$(abspath $(PY)) npm run --silent test:e2e

## The files generated from the client/server contract (server/codesearch/contract.py and
## config.SETTINGS): the extension's src/logic/contract.ts, its manifest's settings and
## activation, PROTOCOL.md's tables. tests/unit/test_contract.py fails when one is stale.
contract: $(STAMP)
	$(PY) -m codesearch.contract_files

## Static checks: ruff, formatting, mypy, TypeScript and eslint.
check: $(STAMP) node_modules/.installed
	$(VENV)/bin/ruff check server tests benchmarks
	$(VENV)/bin/ruff format --check server tests benchmarks
	$(VENV)/bin/mypy
	npm run --silent lint

clean:
	rm -rf $(VENV) .venv-infinity node_modules vscode-extension/node_modules vscode-extension/dist
