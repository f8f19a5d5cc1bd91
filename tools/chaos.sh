#!/usr/bin/env bash
# Long chaos runs (tests/chaos/README.md): every client kind under random faults drawn from a
# seed, checked against the servers' logs.
#   bash tools/chaos.sh [--minutes M | --seconds S] [--seed N] [--kinds io-ws,io-polling,sse,ws,rust]
#                       [--json FILE] [--benchmarks]
# --benchmarks writes the "## Chaos runs" section of BENCHMARKS.md when every invariant held.
# Builds what is missing first (the npm package, the Rust server, the Rust API workload).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
[ -d tests/node_modules ] || bash tools/setup.sh
[ -f pkg/index.js ] || bash tools/build.sh
[ -x "$CARGO_TARGET_DIR/debug/rtio-server" ] || cargo build -p rtio-example-server
[ -f tests/pages/chaos-rust/rtio_chaos_page.js ] || bash tests/chaos/build-rust-page.sh
export RTIO_RUST_SERVER_BIN="$CARGO_TARGET_DIR/debug/rtio-server"
exec node tests/chaos/run.mjs "$@"
