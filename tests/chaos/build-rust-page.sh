#!/usr/bin/env bash
# Builds the chaos workload on the Rust API (tests/chaos/rust-page) for the browser: cargo
# (wasm32, dev profile, sharing the crate's target directory), then wasm-bindgen --target web
# into tests/pages/chaos-rust/, where the test servers serve it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cargo build --manifest-path "$ROOT/Cargo.toml" -p rtio-chaos-page --target wasm32-unknown-unknown
wasm-bindgen --target web --no-typescript --out-dir "$ROOT/tests/pages/chaos-rust" \
  "$TARGET_DIR/wasm32-unknown-unknown/debug/rtio_chaos_page.wasm"
echo "built tests/pages/chaos-rust"
