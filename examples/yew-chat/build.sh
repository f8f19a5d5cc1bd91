#!/usr/bin/env bash
# Builds the Yew chat example into OUT_DIR (default: examples/yew-chat/dist) with the release
# profile of its Cargo.toml (opt-level "s", no LTO: the shortest cold build measured, and a
# smaller wasm than the dev profile's). See tools/build-example.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$HERE/../../tools/build-example.sh" "$HERE" rtio_yew_chat release "$@"
