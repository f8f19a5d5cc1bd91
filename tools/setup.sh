#!/usr/bin/env bash
# Installs everything the build, the demo and the tests need, skipping what is present.
# Safe to run again: each step checks first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

export PATH="$HOME/.cargo/bin:$PATH"

# Rust: wasm target and lint components.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
for c in clippy rustfmt; do
  if ! rustup component list --installed | grep -q "^$c"; then
    say "adding rustup component $c"
    rustup component add "$c"
  fi
done

# wasm-bindgen CLI: exactly the version the crate pins (Cargo.lock).
want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$want" != "$have" ]; then
  say "installing wasm-bindgen-cli $want (found: ${have:-none})"
  # Without --locked: its lockfile pins a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$want"
fi

# Chromium and its driver from Debian (never a browser download).
if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
  say "installing chromium and chromium-driver"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# openssl from Debian: the TLS tests make a self-signed certificate with it.
if ! command -v openssl >/dev/null; then
  say "installing openssl"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null
fi

# Redis from Debian, for the tests of `rtio-server --redis` (socketioxide's Redis adapter needs
# Redis >= 7). Only the binary is used: the tests start their own `redis-server` on 127.0.0.1,
# so no system service is enabled or started here.
if ! command -v redis-server >/dev/null; then
  say "installing redis-server"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi

# HAProxy from Debian, for the test of long-polling behind a sticky load balancer: the test
# starts its own on 127.0.0.1 with a config of its own; no system service is used.
if ! command -v haproxy >/dev/null && ! [ -x /usr/sbin/haproxy ]; then
  say "installing haproxy"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null
fi

# npm packages: build tools (binaryen's wasm-opt, esbuild, terser) and test servers/drivers.
for dir in tools tests; do
  if ! [ -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "npm ci in $dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
