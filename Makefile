# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_STAMP := node_modules/.installed
BUILD_STAMP := dist/.built
TS_SOURCES := $(shell find src bench -name '*.ts' -o -name '*.tsx' 2>/dev/null) tsconfig.json

.PHONY: help install build test test-ts lint typecheck demo bench clean

help:
	@echo "make demo   install what is needed, then run the pipeline locally (simulator → ingest → local Kinesis)"
	@echo "make test   install what is needed, then run every test, lint and type check"
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

test-ts: build
	npx vitest run

test: build lint typecheck test-ts

demo: build
	bash scripts/demo.sh

bench: build
	node dist/bench/run.js

clean:
	rm -rf dist .coattail
