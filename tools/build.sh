#!/usr/bin/env bash
# Builds the npm package into pkg/: release wasm → wasm-bindgen (--target web) → wasm-opt -Oz
# (binaryen from npm) → index.js (js/index.js bundled with the glue and minified) and
# index.d.ts → package.json and README from pkg-template/. Prints the gzip sizes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$ROOT/pkg"
WORK="$TARGET_DIR/pkg-work"

# Without reference types wasm-bindgen keeps JS values in a JS-side array instead of an
# externref table, which makes the wasm smaller by much more than the glue grows. The
# prebuilt standard library still declares them in the `target_features` section, so the
# section is stripped (`strip`) for wasm-bindgen to see the module as compiled.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-cpu=mvp -C target-feature=+bulk-memory,+sign-ext,+nontrapping-fptoint,+mutable-globals" \
  CARGO_PROFILE_RELEASE_STRIP=true \
  cargo build --release --lib --target wasm32-unknown-unknown --no-default-features --features js
rm -rf "$WORK" && mkdir -p "$WORK"
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$WORK" --out-name rtio_wasm "$TARGET_DIR/wasm32-unknown-unknown/release/rtio.wasm"

rm -rf "$OUT" && mkdir -p "$OUT"
# wasm-opt -Oz from npm binaryen (never Debian's), with import/export names shortened and the
# glue rewritten to match.
node tools/minify-names.mjs "$WORK/rtio_wasm_bg.wasm" "$OUT/rtio_wasm_bg.wasm" "$WORK/rtio_wasm.js"

# The entry imports the glue as ./rtio_wasm.js; bundle both into one minified ES module. The
# glue finds the wasm with new URL("rtio_wasm_bg.wasm", import.meta.url), which bundlers
# (Vite, webpack 5) follow, so the .wasm sits beside index.js.
cp js/index.js "$WORK/index.js"
tools/node_modules/.bin/esbuild "$WORK/index.js" --bundle --format=esm --minify \
  --target=es2022 --legal-comments=none --log-level=warning --outfile="$OUT/index.js"
cp js/index.d.ts "$OUT/index.d.ts"
cp pkg-template/package.json pkg-template/README.md "$OUT/"

gz() { gzip -9 -c "$1" | wc -c; }
wasm=$(gz "$OUT/rtio_wasm_bg.wasm")
js=$(gz "$OUT/index.js")
total=$((wasm + js))
awk -v w="$wasm" -v j="$js" -v t="$total" \
  'BEGIN { printf "pkg/ sizes (gzip -9): wasm %d B, js %d B, total %d B (%.2f KB)\n", w, j, t, t / 1024 }'
printf '{"wasm_gzip":%d,"js_gzip":%d,"total_gzip":%d}\n' "$wasm" "$js" "$total" > "$TARGET_DIR/pkg-sizes.json"
