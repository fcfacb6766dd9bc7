#!/usr/bin/env bash
# Builds crm-chat in release mode and serves it on http://127.0.0.1:3000 with
# an embedded SQLite database under data/. Demo users are seeded into an empty
# database. Every CRM_CHAT_* variable and DATABASE_URL is passed through.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export LEPTOS_OUTPUT_NAME=crm-chat
export PATH="$PWD/tools/node_modules/.bin:$PATH"
cargo leptos build --release --split --precompress

export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
addr="${CRM_CHAT_ADDR:-127.0.0.1:3000}"
cat <<MSG

  crm-chat is starting on http://$addr
  Demo sign-in (seeded into an empty database):
    alice@acme.test  (Acme admin)    bob@acme.test, dave@acme.test, erin@acme.test, frank@acme.test, heidi@acme.test
    carol@globex.test (Globex admin) grace@globex.test
    password: ${CRM_CHAT_DEMO_PASSWORD:-crm-chat-demo}

MSG
exec "${CARGO_TARGET_DIR:-target}/release/server"
