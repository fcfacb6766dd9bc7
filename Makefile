# The two commands a newcomer needs, plus a few for working on the code.
.PHONY: run test bench check fmt clippy

## Build in release mode and serve on http://127.0.0.1:3000 (installs what it needs).
run:
	scripts/run.sh

## Run every test: Rust on SQLite and PostgreSQL, then Playwright in Chromium.
test:
	scripts/test.sh

## Benchmarks: tables on stdout, JSON in target/bench/. Release builds; the
## cluster profiles need PostgreSQL (TEST_DATABASE_URL).
bench:
	scripts/bench.sh

## Quick feedback while editing: type-check the server and the WASM front end.
check:
	LEPTOS_OUTPUT_NAME=crm-chat cargo check --all-targets
	LEPTOS_OUTPUT_NAME=crm-chat cargo check -p frontend --target wasm32-unknown-unknown

fmt:
	cargo fmt --all

clippy:
	LEPTOS_OUTPUT_NAME=crm-chat cargo clippy --all-targets -- -D warnings
	LEPTOS_OUTPUT_NAME=crm-chat cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
