#!/usr/bin/env bash
# The benchmarks, on release builds. Tables on stdout, JSON in target/bench/.
#   1. chat-core: a million messages in SQLite; history and list latency,
#      durable sends through the group-commit writer.
#   2. loadgen on SQLite: WebSocket clients over loopback, stepping the
#      offered rate (direct), group fan-out, and memory per idle connection.
#   3. loadgen on PostgreSQL (when TEST_DATABASE_URL answers): the direct
#      profile against one node and against two nodes sharing the database.
#   4. The release WASM: the main module (what every page loads) and the
#      lazily loaded chunks, raw and compressed.
# The machine is shared and noisy: compare figures within one run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export LEPTOS_OUTPUT_NAME=crm-chat
export PATH="$PWD/tools/node_modules/.bin:$PATH"
cargo leptos build --release --split --precompress
server="${CARGO_TARGET_DIR:-$PWD/target}/release/server"

cargo run --release -p bench --bin chat-core
cargo run --release -p bench --bin loadgen -- --server "$server"

pg="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
pg_address=$(printf '%s' "$pg" | sed -E 's#^[a-z]+://([^@/]*@)?([^/?]+).*#\2#')
if timeout 3 bash -c "exec 3<>/dev/tcp/${pg_address%:*}/${pg_address##*:}" 2>/dev/null; then
  for nodes in 1 2; do
    cargo run --release -p bench --bin loadgen -- --server "$server" --profile direct \
      --postgres "$pg" --nodes "$nodes" --rates 1000,2000,5000,10000,20000
  done
else
  echo "PostgreSQL is unreachable at $pg_address: skipping the cluster profiles."
fi

printf '\nRelease WASM (bytes): crm-chat.wasm is what every page loads; the chunks load on demand\n'
scripts/wasm-size.sh
