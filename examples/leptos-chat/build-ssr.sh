#!/usr/bin/env bash
# Builds the Leptos chat for server rendering into OUT_DIR (default: examples/leptos-chat/
# dist-ssr): the `hydrate` build of the wasm (see tools/build-example.sh), then the page, which
# the `ssr` build's `render` binary renders on the host without any connection.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:-$HERE/dist-ssr}"
bash "$HERE/../../tools/build-example.sh" "$HERE" leptos_chat dev "$OUT" --no-default-features --features hydrate
cargo run --quiet --manifest-path "$HERE/Cargo.toml" --no-default-features --features ssr --bin render > "$OUT/index.html.new"
mv "$OUT/index.html.new" "$OUT/index.html"
echo "rendered $OUT/index.html"
