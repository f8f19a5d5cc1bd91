#!/usr/bin/env bash
# Builds the npm package and starts the demo server (examples/server) with the chat page.
# PORT=3000 by default; the server prints the URL to open.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
bash tools/setup.sh
bash tools/build.sh
cargo build -p rtio-example-server
exec "${CARGO_TARGET_DIR:-$ROOT/target}/debug/rtio-server" --port "${PORT:-3000}"
