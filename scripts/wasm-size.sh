#!/usr/bin/env bash
# Sizes of the release WASM in target/site/pkg: the main module (what every
# page loads) and the chunks that load on demand, raw and compressed.
#
#   --check   fail when the main module is over its budget (make test does this)
#
# The budget is 1 MiB raw for the main module. wasm-split decides what stays in
# it, and a small change inside a chunk can move tens of KB there (see
# docs/benchmarks.md), so only a build can tell.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
[ "${1:-}" = --check ] && check=1
pkg=target/site/pkg
budget=$((1024 * 1024))

printf '%-60s %10s %10s %10s\n' file raw gzip brotli
# The manifest names the current chunks; older builds' chunks may linger beside them.
chunks=$(grep -oE '"(chunk|split)_[A-Za-z0-9_]+"' "$pkg/__wasm_split_manifest.json" | tr -d '"' | sort -u)
for name in crm-chat $chunks; do
  wasm="$pkg/$name.wasm"
  brotli_size=-
  command -v brotli >/dev/null && brotli_size=$(brotli -c -q 11 "$wasm" | wc -c)
  printf '%-60s %10s %10s %10s\n' "$name.wasm" "$(wc -c <"$wasm")" "$(gzip -9 -c "$wasm" | wc -c)" "$brotli_size"
done

main_size=$(wc -c <"$pkg/crm-chat.wasm")
if [ "$main_size" -le "$budget" ]; then
  printf 'crm-chat.wasm is %s bytes, %s under its 1 MiB budget.\n' "$main_size" "$((budget - main_size))"
else
  printf '\033[31mcrm-chat.wasm is %s bytes, %s OVER its 1 MiB budget.\033[0m\n' "$main_size" "$((main_size - budget))" >&2
  if [ "$check" = 1 ]; then
    printf 'Every page loads this module. Find what moved into it with a --frontend-only build\n' >&2
    printf 'before and after the change; docs/benchmarks.md ("The WASM bundle") has what worked before.\n' >&2
    exit 1
  fi
fi
