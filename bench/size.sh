#!/usr/bin/env bash
# Where the bytes of `rtio` (rtio.wasm + index.js, gzip -9) go, beside the floor of its shape:
# bench/size-floor built exactly as tools/build.sh builds the package's wasm (the same
# toolchain, flags, wasm-bindgen, wasm-opt passes, glue factory and bundler), with the
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
rm -rf "$OUT" && mkdir -p "$OUT"
(cd bench/size-floor && CARGO_TARGET_DIR="$TARGET_DIR/size-floor-build" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-cpu=mvp -C target-feature=+bulk-memory,+sign-ext,+nontrapping-fptoint,+mutable-globals,+reference-types,+multivalue" \
  cargo build --quiet --release --target wasm32-unknown-unknown)
wasm-bindgen --target web --no-typescript --out-dir "$OUT" --out-name floor \
  "$TARGET_DIR/size-floor-build/wasm32-unknown-unknown/release/rtio_size_floor.wasm"
tools/node_modules/.bin/wasm-opt "$OUT/floor_bg.wasm" --minify-imports-and-exports-and-modules \
  -Oz --flatten --rereloop -Oz --converge --low-memory-unused --strip-debug --strip-producers --strip-target-features \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  -o "$OUT/floor.wasm" > "$OUT/names.json"
node tools/glue.mjs "$OUT/floor.js" "$OUT/glue.js" "$OUT/names.json" "$OUT/floor.wasm"
node bench/size.mjs "$OUT"
