# stripe-elt: the two commands of the quick start are `make demo` and `make test`.
.PHONY: install build typecheck test demo bench dbt-venv

NODE_TSX := node --import tsx
PYTHON ?= python3

node_modules/.package-lock.json: package.json package-lock.json
	npm ci
	@touch $@

install: node_modules/.package-lock.json

# dbt and its DuckDB adapter in .venv, pinned in sql/requirements.txt: the test that runs the
# dbt project in sql/ with real dbt needs them (test/transforms/dbt.test.ts).
.venv/.requirements: sql/requirements.txt
	$(PYTHON) -m venv .venv
	.venv/bin/pip install --quiet --disable-pip-version-check -r sql/requirements.txt
	@touch $@

dbt-venv: .venv/.requirements

build: install
	npx tsc -p tsconfig.build.json

typecheck: install
	npx tsc -p tsconfig.json --noEmit

test: typecheck dbt-venv
	npx vitest run

demo: install
	$(NODE_TSX) test/demo/load-demo.ts

bench: build
	$(NODE_TSX) bench/simulator-throughput.ts
	$(NODE_TSX) bench/backfill.ts
	$(NODE_TSX) bench/load.ts
