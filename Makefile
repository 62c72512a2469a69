# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_STAMP := node_modules/.installed
BUILD_STAMP := dist/.built
TS_SOURCES := $(shell find src bench -name '*.ts' -o -name '*.tsx' 2>/dev/null) tsconfig.json

.PHONY: help install install-py build test test-ts test-py lint typecheck demo bench clean
PY_VENV := jobs-py/.venv
PY_STAMP := $(PY_VENV)/.installed

help:
	@echo "make demo   install what is needed, then run the pipeline locally (simulator → ingest → local Kinesis)"
	@echo "make test   install what is needed, then run every test, lint and type check (vitest, pytest, eslint, tsc, ruff, mypy)"
	@echo "make bench  run the benchmarks (results: docs/PERFORMANCE.md)"

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(NODE_STAMP)

$(BUILD_STAMP): $(NODE_STAMP) $(TS_SOURCES)
	npx tsc -p tsconfig.json
	@touch $@

build: $(BUILD_STAMP)

lint: $(NODE_STAMP)
	npx eslint .

typecheck: $(NODE_STAMP)
	npx tsc -p tsconfig.test.json --noEmit

test-ts: build $(PY_STAMP)
	npx vitest run

# The PySpark jobs: their own virtualenv; Spark resolves the Iceberg runtime into jobs-py/.ivy on first use.
$(PY_STAMP): jobs-py/pyproject.toml
	python3 -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install --quiet --upgrade pip
	$(PY_VENV)/bin/pip install --quiet -e 'jobs-py[dev]'
	@touch $@

install-py: $(PY_STAMP)

test-py: $(PY_STAMP)
	cd jobs-py && .venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy && .venv/bin/pytest -q

test: build lint typecheck test-ts test-py

demo: build
	bash scripts/demo.sh

bench: build
	node dist/bench/run.js

clean:
	rm -rf dist .coattail jobs-py/.venv jobs-py/.ivy
