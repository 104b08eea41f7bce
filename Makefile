# stripe-elt: the two commands of the quick start are `make demo` and `make test`.
.PHONY: install build typecheck test demo bench

NODE_TSX := node --import tsx

node_modules/.package-lock.json: package.json package-lock.json
	npm ci
	@touch $@

install: node_modules/.package-lock.json

build: install
	npx tsc -p tsconfig.build.json

typecheck: install
	npx tsc -p tsconfig.json --noEmit

test: typecheck
	npx vitest run

demo: install
	$(NODE_TSX) test/demo/load-demo.ts

bench: build
	$(NODE_TSX) bench/simulator-throughput.ts
	$(NODE_TSX) bench/backfill.ts
	$(NODE_TSX) bench/load.ts
