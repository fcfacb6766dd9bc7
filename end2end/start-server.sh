#!/usr/bin/env bash
# Starts the built server for the Playwright run: a fresh data directory (and so
# a fresh SQLite database with the demo organisations) on the e2e port.
set -euo pipefail
cd "$(dirname "$0")"
data_dir=$(mktemp -d -t crm-chat-e2e.XXXXXX)
unset DATABASE_URL
export CRM_CHAT_DATA_DIR="$data_dir"
export CRM_CHAT_ADDR="127.0.0.1:${E2E_PORT:-3100}"
export CRM_CHAT_SEED_DEMO=true
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-../target/site}"
export RUST_LOG="${RUST_LOG:-warn}"
exec "${CRM_CHAT_SERVER_BIN:-../target/release/server}"
