#!/usr/bin/env bash
# Benchmark rtio vs socket.io-client vs a raw WebSocket baseline in headless Chromium.
# Usage: bash bench/run.sh   (counts: see the BENCH_* variables in bench/run.mjs)
#        bash bench/run.sh micro   (the client's own work per event: bench/micro.mjs)
#        bash bench/run.sh size    (where the package's bytes go, beside the floor of its shape:
#                                   bench/size.sh)
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH/.." && pwd)"
if [ "${1:-}" = size ]; then
  exec bash "$BENCH/size.sh"
fi

if [ ! -d "$BENCH/node_modules" ]; then
  if [ -f "$BENCH/package-lock.json" ]; then
    (cd "$BENCH" && npm ci --no-audit --no-fund)
  else
    (cd "$BENCH" && npm install --no-audit --no-fund)
  fi
fi
if [ ! -f "$REPO/pkg/index.js" ] || [ ! -f "$REPO/pkg/rtio.wasm" ]; then
  (cd "$REPO" && bash tools/build.sh)
fi
if [ ! -x "${BENCH_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "bench: ${BENCH_CHROMIUM:-/usr/bin/chromium} missing (apt-get install -y chromium)" >&2
  exit 1
fi

# socket.io-client, minimal websocket-only usage, bundled and minified like an app would ship it
mkdir -p "$BENCH/build"
(cd "$BENCH" && node --input-type=module -e '
import { build } from "esbuild";
await build({
  stdin: { contents: "export { io } from \"socket.io-client\";", resolveDir: ".", loader: "js" },
  bundle: true, minify: true, format: "esm", platform: "browser", target: "es2020",
  define: { "process.env.NODE_ENV": "\"production\"" },
  outfile: "build/socket.io-client.js", logLevel: "warning",
});
')

cd "$REPO"
if [ "${1:-}" = micro ]; then
  exec node "$BENCH/micro.mjs"
fi
exec node "$BENCH/run.mjs"
