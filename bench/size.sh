#!/usr/bin/env bash
# Where the bytes of `rtio` (rtio.wasm + index.js, gzip -9) go, beside the floor of its shape:
# bench/size-floor built exactly as tools/build.sh builds the package's wasm (tools/wasm.sh:
# the same flags, wasm-bindgen, wasm-opt passes and glue factory; the same bundler), with the
# package's loader (js/bridge.js). Prints a table; BENCHMARKS.md "Size" has the last figures.
# usage: bash bench/size.sh   (builds pkg/ first if it is missing)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export PATH="$HOME/.cargo/bin:$PATH"
[ -x tools/node_modules/.bin/wasm-opt ] || (cd tools && npm ci --no-audit --no-fund)
[ -f pkg/index.js ] && [ -f pkg/rtio.wasm ] && [ -f js/generated/rtio.js ] || bash tools/build.sh

TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
OUT="$TARGET_DIR/size-floor"
source tools/wasm.sh
(cd bench/size-floor && CARGO_TARGET_DIR="$TARGET_DIR/size-floor-build" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$WASM_RUSTFLAGS" cargo build --quiet --release --target wasm32-unknown-unknown)
wasm_package "$TARGET_DIR/size-floor-build/wasm32-unknown-unknown/release/rtio_size_floor.wasm" floor "$OUT" "$OUT/floor.wasm" "$OUT/glue.js"
node bench/size.mjs "$OUT"
