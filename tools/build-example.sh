#!/usr/bin/env bash
# Builds one of the Rust front-end examples for the browser, with no tool that downloads
# anything: cargo (wasm32, the given profile of the example's own Cargo.toml), then wasm-bindgen
# --target web (the CLI pinned with the crate's wasm-bindgen, installed by tools/setup.sh), then
# the page and its stylesheet. Uses $CARGO_TARGET_DIR if set.
#   tools/build-example.sh EXAMPLE_DIR CRATE_NAME PROFILE [OUT_DIR [CARGO_ARGS...]]
# PROFILE is dev or release; CARGO_ARGS (features) go to cargo build.
set -euo pipefail
DIR="$(cd "$1" && pwd)"
CRATE="$2"
PROFILE="$3"
OUT="${4:-$DIR/dist}"
shift $(( $# < 4 ? $# : 4 ))
TARGET_DIR="${CARGO_TARGET_DIR:-$DIR/target}"
export PATH="$HOME/.cargo/bin:$PATH"

command -v wasm-bindgen >/dev/null || {
  echo "wasm-bindgen not found: run tools/setup.sh (cargo install wasm-bindgen-cli --version 0.2.130)" >&2
  exit 1
}

cargo build --manifest-path "$DIR/Cargo.toml" --target wasm32-unknown-unknown --profile "$PROFILE" "$@"
mkdir -p "$OUT"
# cargo puts the dev profile's output in debug/.
[ "$PROFILE" = dev ] && PROFILE=debug
wasm-bindgen --target web --no-typescript --out-dir "$OUT" \
  "$TARGET_DIR/wasm32-unknown-unknown/$PROFILE/$CRATE.wasm"
cp "$DIR/index.html" "$DIR/style.css" "$OUT/"
echo "built $OUT"
