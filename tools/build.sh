#!/usr/bin/env bash
# Builds the npm package into pkg/: two release wasms exported through wasm-bindgen (the crate
# with the `js` front door → rtio.wasm, with the `js-stream` one → rtio-stream.wasm), each
# through wasm-opt -Oz (binaryen from npm, never Debian's), their generated glue made into
# factories in js/generated/; the entries js/index.js (`rtio`), js/sse.js (`rtio/sse`) and
# js/ws.js (`rtio/ws`) bundled with their glue and minified; the type declarations,
# package.json and README from pkg-template/. Prints the gzip sizes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$ROOT/pkg"

# bindgen_build FEATURE NAME: one npm wasm exported through wasm-bindgen: the crate built with
# FEATURE, its JS glue made into a factory (js/generated/NAME.js, bundled into the entries), the
# wasm optimised into pkg/NAME.wasm (tools/wasm.sh).
source tools/wasm.sh
bindgen_build() {
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$WASM_RUSTFLAGS" \
    cargo rustc --release --lib --crate-type cdylib --target wasm32-unknown-unknown --no-default-features --features "$1"
  mkdir -p js/generated
  wasm_package "$TARGET_DIR/wasm32-unknown-unknown/release/rtio.wasm" "$2" "$TARGET_DIR/bindgen/$2" "$OUT/$2.wasm" "js/generated/$2.js"
}
rm -rf "$OUT" && mkdir -p "$OUT"
bindgen_build js rtio
bindgen_build js-stream rtio-stream

# index.js finds the wasm with new URL("rtio.wasm", import.meta.url), which bundlers (Vite,
# webpack 5) follow, so the .wasm sits beside index.js.
# Each entry is bundled on its own (the emitter and the rooms are in each): `rtio` (io(), with
# rtio.wasm), `rtio/sse` and `rtio/ws` (with rtio-stream.wasm), so a page downloads one wasm;
# and shared.js and shared-worker.js, which `rtio` loads only to share a connection among tabs.
# See tools/bundle.mjs (esbuild, then terser).
node tools/bundle.mjs "$OUT"
cp js/index.d.ts js/sse.d.ts js/ws.d.ts js/stream.d.ts "$OUT/"
# rtio/server (ROOMS.md's helper for Node socket.io) is server code: copied as written.
cp js/server.js js/server.d.ts "$OUT/"
cp pkg-template/package.json pkg-template/README.md LICENSE-MIT LICENSE-APACHE "$OUT/"

gz() { gzip -9 -c "$1" | wc -c; }
wasm=$(gz "$OUT/rtio.wasm")
js=$(gz "$OUT/index.js")
total=$((wasm + js))
awk -v w="$wasm" -v j="$js" -v t="$total" \
  'BEGIN { printf "pkg/ sizes (gzip -9): wasm %d B, js %d B, total %d B (%.2f KB)\n", w, j, t, t / 1024 }'
swasm=$(gz "$OUT/rtio-stream.wasm")
sse=$(gz "$OUT/sse.js")
wsjs=$(gz "$OUT/ws.js")
printf 'rtio/sse (gzip -9): wasm %d B + js %d B = %d B; rtio/ws: wasm %d B + js %d B = %d B\n' \
  "$swasm" "$sse" $((swasm + sse)) "$swasm" "$wsjs" $((swasm + wsjs))
printf '{"wasm_gzip":%d,"js_gzip":%d,"total_gzip":%d,"stream_wasm_gzip":%d,"sse_js_gzip":%d,"ws_js_gzip":%d}\n' \
  "$wasm" "$js" "$total" "$swasm" "$sse" "$wsjs" > "$TARGET_DIR/pkg-sizes.json"
