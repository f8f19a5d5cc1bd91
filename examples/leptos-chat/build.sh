#!/usr/bin/env bash
# Builds the Leptos chat example into OUT_DIR (default: examples/leptos-chat/dist):
# cargo (wasm32, the dev profile of Cargo.toml: no debug info, dependencies unoptimised, this
# crate at opt-level 1), then wasm-bindgen --target web, then the page and its stylesheet.
# Uses $CARGO_TARGET_DIR if set.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:-$HERE/dist}"
TARGET_DIR="${CARGO_TARGET_DIR:-$HERE/target}"

command -v wasm-bindgen >/dev/null || {
  echo "wasm-bindgen not found: cargo install wasm-bindgen-cli --version 0.2.130" >&2
  exit 1
}

cargo build --manifest-path "$HERE/Cargo.toml" --target wasm32-unknown-unknown
mkdir -p "$OUT"
wasm-bindgen --target web --no-typescript --out-dir "$OUT" \
  "$TARGET_DIR/wasm32-unknown-unknown/debug/leptos_chat.wasm"
cp "$HERE/index.html" "$HERE/style.css" "$OUT/"
echo "built $OUT"
