#!/usr/bin/env bash
# Installs what building crm-chat needs, skipping whatever is already present
# at the right version:
#   - the Rust toolchain pinned in rust-toolchain.toml, with the wasm32 target
#   - cargo-leptos 0.3.10
#   - wasm-bindgen-cli at the version Cargo.lock pins
#   - wasm-opt from npm's binaryen (Debian's binaryen 108 breaks hydration)
# With --e2e it also installs what the end-to-end tests need: Playwright from
# npm and Chromium (from Debian when running as root; otherwise it says what
# to install).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || fail "Rust is required: install it from https://rustup.rs"
command -v npm >/dev/null || fail "Node.js 18+ with npm is required (Debian: apt-get install nodejs npm)"

toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1 \
  || ! rustup target list --toolchain "$toolchain" --installed | grep -qx wasm32-unknown-unknown; then
  step "Installing Rust $toolchain with the wasm32 target"
  rustup toolchain install "$toolchain" --profile minimal -c rustfmt -c clippy -t wasm32-unknown-unknown
fi

leptos_version=0.3.10
if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $leptos_version" ]; then
  step "Installing cargo-leptos $leptos_version (about 11 minutes on 2 cores, once)"
  # --locked: newer dependency releases need a newer rustc.
  cargo install cargo-leptos --version "$leptos_version" --locked
fi

bindgen_version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
[ -n "$bindgen_version" ] || fail "Cargo.lock does not pin wasm-bindgen"
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $bindgen_version" ]; then
  step "Installing wasm-bindgen-cli $bindgen_version (about 2 minutes, once)"
  # Not --locked: one of its locked crates is gone from the registry.
  cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

# npm_install DIR WHAT: `npm ci` in DIR unless its node_modules is already up
# to date. npm records what it installed in node_modules/.package-lock.json,
# so a package-lock.json newer than that record means a package was added or
# bumped since.
npm_install() {
  if [ ! -f "$1/node_modules/.package-lock.json" ] ||
    [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
    step "Installing $2 from npm"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

npm_install tools "wasm-opt (binaryen)"

if [ "${1:-}" = "--e2e" ]; then
  npm_install end2end "Playwright and axe-core"
  chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ ! -x "$chromium" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      step "Installing Chromium from Debian"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      fail "The end-to-end tests need Chromium at $chromium. Install it (Debian/Ubuntu: sudo apt-get install chromium) or point CHROMIUM_PATH at one."
    fi
  fi
fi
