#!/usr/bin/env bash
# Builds the npm package into pkg/: two release wasms (the crate without std, with the `js`
# front door → rtio.wasm, with the `js-stream` one → rtio-stream.wasm), each through wasm-opt
# -Oz (binaryen from npm, never Debian's); the entries js/index.js (`rtio`), js/sse.js
# (`rtio/sse`) and js/ws.js (`rtio/ws`), which bind their wasm's hand-declared imports and
# exports themselves, bundled and minified; the type declarations, package.json and README from
# pkg-template/. Prints the gzip sizes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$ROOT/pkg"

# MVP code plus the few post-MVP features every current browser has (bulk memory for memcpy,
# sign extension, saturating float conversion). No reference types: the prebuilt standard
# library declares them, so wasm-opt strips the `target_features` section.
# The profile's opt-level "z", with LLVM's own inline threshold for it: measured after wasm-opt
# -Oz (gzipped rtio.wasm / rtio-stream.wasm), 9,053 / 6,439 B against 9,340 / 6,769 B with
# opt-level "s" and the threshold at 25 that won before the crate was built as a cdylib alone
# (when its rlib was built alongside, LTO did less, and "s" with 25 came out ahead); thresholds
# from 0 to 35 with "z" are all larger or equal.
# wasm_build FEATURE OUT: one npm wasm, the crate built with FEATURE (`js`: the Socket.IO
# bridge; `js-stream`: the SSE and plain-WebSocket modes' bridge), optimised into OUT.
wasm_build() {
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-cpu=mvp -C target-feature=+bulk-memory,+sign-ext,+nontrapping-fptoint,+mutable-globals" \
    CARGO_PROFILE_RELEASE_STRIP=true \
    cargo rustc --release --lib --crate-type cdylib --target wasm32-unknown-unknown --no-default-features --features "$1"
  # The linker's __heap_base and __data_end exports are of no use to the JS. The low 1 KB of
  # memory is never used (the stack starts at 1 MB and the data above it), which lets wasm-opt
  # fold constant offsets into addresses. After -Oz, the control flow is flattened and rebuilt
  # by binaryen's relooper, then optimised again: about 100 B less gzipped per wasm (9,052 ->
  # 8,955 B and 6,438 -> 6,319 B when measured); a second round gives little more.
  tools/node_modules/.bin/wasm-opt "$TARGET_DIR/wasm32-unknown-unknown/release/rtio.wasm" \
    --remove-exports --pass-arg=remove-exports@__* -Oz --flatten --rereloop -Oz --converge --low-memory-unused --strip-debug --strip-producers --strip-target-features \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    -o "$2"
}
rm -rf "$OUT" && mkdir -p "$OUT"
wasm_build js "$OUT/rtio.wasm"
wasm_build js-stream "$OUT/rtio-stream.wasm"

# index.js finds the wasm with new URL("rtio.wasm", import.meta.url), which bundlers (Vite,
# webpack 5) follow, so the .wasm sits beside index.js.
# Private members (`_` prefix) get short names; `_placeholder` is part of the wire format.
# Each entry is bundled on its own (the emitter and the rooms are in each): `rtio` (io(), with
# rtio.wasm), `rtio/sse` and `rtio/ws` (with rtio-stream.wasm), so a page downloads one wasm.
# esbuild bundles and minifies; terser then compresses further (two passes, safe transforms only:
# about 110 B less gzipped per entry).
for entry in index sse ws; do
  tools/node_modules/.bin/esbuild "js/$entry.js" --bundle --format=esm --minify \
    --mangle-props='^_' --reserve-props='^_placeholder$' \
    --target=es2022 --legal-comments=none --log-level=warning --outfile="$OUT/$entry.bundle.js"
  tools/node_modules/.bin/terser "$OUT/$entry.bundle.js" --module --ecma 2022 \
    --compress passes=2 --mangle --output "$OUT/$entry.js"
  rm "$OUT/$entry.bundle.js"
done
cp js/index.d.ts js/sse.d.ts js/ws.d.ts js/stream.d.ts "$OUT/"
# rtio/server (ROOMS.md's helper for Node socket.io) is server code: copied as written.
cp js/server.js js/server.d.ts "$OUT/"
cp pkg-template/package.json pkg-template/README.md "$OUT/"

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
