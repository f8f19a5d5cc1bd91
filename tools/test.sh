#!/usr/bin/env bash
# Sets up what is missing, then runs every test: lints (fmt, clippy for host and wasm32, for the
# Leptos and Yew hooks and examples), the docs and the crate's package, native tests (codec,
# session, property tests, the API off the browser, example server), the npm package build with
# its size budget, the Leptos and Yew chat examples' wasm builds (and the Leptos one's server
# render), and the browser tests (the Rust API and the hooks through wasm-bindgen-test, the JS
# API through playwright-core) against the Node socket.io server and the Rust socketioxide
# server, and for the SSE and plain-WebSocket modes against their own test servers and the Rust
# server's endpoints, all started here on 127.0.0.1 with ephemeral ports and stopped by PID;
# among them a two-minute chaos run of every client kind (tests/chaos).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
ARTIFACTS="$ROOT/tests/artifacts"
mkdir -p "$ARTIFACTS"

step() { printf '\n\033[1m=== %s\033[0m\n' "$*"; }
START=$(date +%s)

step "setup"
bash tools/setup.sh

# The Leptos and Yew chat examples: workspaces of their own (own lock files), built for wasm32.
EXAMPLES=(leptos-chat yew-chat)

step "lint: rustfmt"
cargo fmt --all --check
for ex in "${EXAMPLES[@]}"; do cargo fmt --manifest-path "examples/$ex/Cargo.toml" --check; done

step "lint: clippy (host, all targets)"
cargo clippy --workspace --all-targets -- -D warnings
step "lint: clippy (wasm32, Rust API and browser tests)"
cargo clippy --lib --tests --target wasm32-unknown-unknown -- -D warnings
step "lint: clippy (wasm32, npm build)"
cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features js -- -D warnings
step "lint: clippy (wasm32, npm build of the SSE and WebSocket modes)"
cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features js-stream -- -D warnings

step "lint: clippy (wasm32, the chaos runs' Rust API workload)"
cargo clippy -p rtio-chaos-page --target wasm32-unknown-unknown -- -D warnings

step "lint: clippy (host and wasm32, the Leptos and Yew hooks)"
cargo clippy --lib --features leptos,yew -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown --features leptos,yew -- -D warnings

step "lint: clippy (wasm32, the Leptos and Yew examples and their hooks tests; the Leptos one's server and hydrating builds)"
for ex in "${EXAMPLES[@]}"; do
  cargo clippy --manifest-path "examples/$ex/Cargo.toml" --target wasm32-unknown-unknown --all-targets -- -D warnings
done
cargo clippy --manifest-path examples/leptos-chat/Cargo.toml --no-default-features --features ssr --all-targets -- -D warnings
cargo clippy --manifest-path examples/leptos-chat/Cargo.toml --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings

step "docs (wasm32, every feature, warnings denied) and the crate's package (cargo publish --dry-run)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --target wasm32-unknown-unknown --all-features
cargo publish --dry-run --allow-dirty

step "native tests: codec, session, property tests, the API off the browser, example server"
cargo test --workspace
# The hooks' documentation examples compile (on the host, as a server build would).
cargo test --doc --features leptos,yew

step "build the npm package"
bash tools/build.sh

step "build the Rust server"
cargo build -p rtio-example-server

step "build the chaos runs' Rust API workload (wasm32, wasm-bindgen)"
bash tests/chaos/build-rust-page.sh

step "build the Leptos and Yew chat examples (wasm32, wasm-bindgen)"
for ex in "${EXAMPLES[@]}"; do
  t0=$(date +%s)
  bash "examples/$ex/build.sh"
  echo "$ex built in $(( $(date +%s) - t0 )) s"
done
step "build the server-rendered Leptos chat (hydrate wasm, then the page rendered on the host)"
t0=$(date +%s)
bash examples/leptos-chat/build-ssr.sh
echo "leptos-chat (server-rendered) built in $(( $(date +%s) - t0 )) s"

source tools/servers.sh
trap stop_servers EXIT
step "start servers"
start_server node "$ARTIFACTS/node-server.log" node tests/servers/node/server.mjs --port 0
export RTIO_NODE_URL="$SERVER_URL"
# The Rust API's connection-state recovery test needs a server that recovers sessions.
start_server node-recovery "$ARTIFACTS/node-recovery-server.log" node tests/servers/node/server.mjs --port 0 --recovery
export RTIO_NODE_RECOVERY_URL="$SERVER_URL"
# Tests that start servers of their own use the same binary, wherever the target dir is.
# Pages of other origins (the Node server's, wasm-bindgen's test runner) connect to the Rust
# servers: --allow-origin '*' --no-sessions (the origin checks and the sessions have tests of
# their own).
export RTIO_RUST_SERVER_BIN="$CARGO_TARGET_DIR/debug/rtio-server"
start_server rust "$ARTIFACTS/rust-server.log" "$RTIO_RUST_SERVER_BIN" --port 0 --allow-origin '*' --no-sessions
export RTIO_RUST_URL="$SERVER_URL"
# Long-polling only, as behind a proxy that blocks WebSocket: the Rust API's polling tests.
start_server node-polling "$ARTIFACTS/node-polling-server.log" node tests/servers/node/server.mjs --port 0 --transports polling
export RTIO_NODE_POLLING_URL="$SERVER_URL"
start_server rust-polling "$ARTIFACTS/rust-polling-server.log" "$RTIO_RUST_SERVER_BIN" --port 0 --transports polling --allow-origin '*' --no-sessions
export RTIO_RUST_POLLING_URL="$SERVER_URL"
# The SSE and plain-WebSocket modes: the two independent test servers, and the Rust server's
# /sse and /ws endpoints with their test controls. Fast heartbeats, for the watchdog tests.
start_server sse "$ARTIFACTS/sse-server.log" node tests/servers/sse/server.mjs --port 0 --ping-interval 250
export RTIO_SSE_URL="$SERVER_URL"
start_server ws "$ARTIFACTS/ws-server.log" node tests/servers/ws/server.mjs --port 0
export RTIO_WS_URL="$SERVER_URL"
start_server rust-modes "$ARTIFACTS/rust-modes-server.log" "$RTIO_RUST_SERVER_BIN" --port 0 --test-controls --sse-ping 250 --allow-origin '*' --no-sessions
export RTIO_MODES_URL="$SERVER_URL"

step "browser tests: Rust API (wasm-bindgen-test in headless Chromium)"
WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-180}" \
  cargo test --target wasm32-unknown-unknown --test browser

step "browser tests: Rust API of the SSE and WebSocket modes (wasm-bindgen-test in headless Chromium)"
WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-180}" \
  cargo test --target wasm32-unknown-unknown --test browser_modes

step "browser tests: 10,000 connect/disconnect cycles on the Rust API (wasm-bindgen-test in headless Chromium)"
WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}" \
  cargo test --target wasm32-unknown-unknown --test cycles

step "browser tests: the Leptos and Yew hooks (wasm-bindgen-test in headless Chromium)"
for ex in "${EXAMPLES[@]}"; do
  WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-180}" \
    cargo test --manifest-path "examples/$ex/Cargo.toml" --target wasm32-unknown-unknown --test hooks
done

step "browser tests: JS API and package (playwright-core in headless Chromium)"
# Two files at a time: most of a file's time is spent waiting (on timers, the network, the
# browser). The ones that measure, load the machine or build apps run alone afterwards.
ALONE='^(chaos|cycles|load|flood|nextjs|vite|webpack)$'
shared=()
alone=()
for f in tests/js/*.test.mjs; do
  if [[ "$(basename "$f" .test.mjs)" =~ $ALONE ]]; then alone+=("$f"); else shared+=("$f"); fi
done
# Both groups run, so that one failure does not hide the other's.
js_failed=0
node --test --test-concurrency=2 "${shared[@]}" || js_failed=1
node --test --test-concurrency=1 "${alone[@]}" || js_failed=1
[ "$js_failed" = 0 ] || { echo "JS tests failed"; exit 1; }

stop_servers
echo
echo "all tests passed in $(( $(date +%s) - START )) s"
