#!/usr/bin/env bash
# Builds the npm package and starts the demo server (examples/server): the collaborative-cursors
# page at / (open it in two tabs or browsers: each sees the other's pointer and presence; the
# URL hash picks the room, e.g. /#team) and the chat page at /chat.html.
# PORT=3000 by default; the server prints the URL to open.
# REDIS=redis://127.0.0.1:6379 shares rooms through Redis, so that several servers (on
# different PORTs) serve the same rooms.
# TLS_CERT=cert.pem TLS_KEY=key.pem serves HTTPS and WSS with that certificate and key (PEM).
# SESSION_KEY=session.key signs the visitors' session cookies with that key (32 bytes or more),
# so that several servers accept each other's; without it, a random key per start.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
bash tools/setup.sh
bash tools/build.sh
cargo build -p rtio-example-server
args=(--port "${PORT:-3000}")
if [ -n "${REDIS:-}" ]; then args+=(--redis "$REDIS"); fi
if [ -n "${TLS_CERT:-}${TLS_KEY:-}" ]; then args+=(--tls-cert "${TLS_CERT:-}" --tls-key "${TLS_KEY:-}"); fi
if [ -n "${SESSION_KEY:-}" ]; then args+=(--session-key "$SESSION_KEY"); fi
exec "${CARGO_TARGET_DIR:-$ROOT/target}/debug/rtio-server" "${args[@]}"
