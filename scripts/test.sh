#!/usr/bin/env bash
# Runs every test: formatting, the Rust tests on SQLite and (when reachable)
# PostgreSQL, then the Playwright suite in Chromium against a release build.
#
#   TEST_DATABASE_URL          PostgreSQL for the tests (default postgres://postgres@127.0.0.1:5432/test)
#   CRM_CHAT_REQUIRE_POSTGRES  1: fail when PostgreSQL is unreachable instead of skipping it (CI sets this)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

scripts/setup.sh --e2e
export LEPTOS_OUTPUT_NAME=crm-chat
export PATH="$PWD/tools/node_modules/.bin:$PATH"

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
pg_address=$(printf '%s' "$TEST_DATABASE_URL" | sed -E 's#^[a-z]+://([^@/]*@)?([^/?]+).*#\2#')
pg_host=${pg_address%:*}
pg_port=5432
[ "$pg_address" != "$pg_host" ] && pg_port=${pg_address##*:}
if timeout 3 bash -c "exec 3<>/dev/tcp/$pg_host/$pg_port" 2>/dev/null; then
  echo "PostgreSQL at $pg_host:$pg_port: the Rust tests run on SQLite and PostgreSQL."
  unset CRM_CHAT_SKIP_POSTGRES
elif [ "${CRM_CHAT_REQUIRE_POSTGRES:-0}" = 1 ]; then
  fail "PostgreSQL is unreachable at $pg_host:$pg_port, and CRM_CHAT_REQUIRE_POSTGRES=1 requires it."
else
  printf '\033[33m%s\033[0m\n' \
    "WARNING: PostgreSQL is unreachable at $pg_host:$pg_port. The Rust tests run on SQLite ONLY;" \
    "         the PostgreSQL variants print SKIPPED. Set TEST_DATABASE_URL to cover both engines."
  export CRM_CHAT_SKIP_POSTGRES=1
fi

step "Formatting"
cargo fmt --all -- --check

step "Rust tests"
cargo test --locked

step "Release build (server and WASM)"
cargo leptos build --release --split --precompress

step "WASM size budget"
scripts/wasm-size.sh --check

step "End-to-end tests (Playwright, Chromium, desktop and mobile)"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
export CRM_CHAT_SERVER_BIN="$target_dir/release/server"
export LEPTOS_SITE_ROOT="$PWD/target/site"
(cd end2end && npx playwright test)
