#!/usr/bin/env bash
# Builds the Leptos chat example into OUT_DIR (default: examples/leptos-chat/dist) with the dev
# profile of its Cargo.toml (no debug info, dependencies unoptimised, this crate at opt-level 1:
# the shortest cold build measured). See tools/build-example.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$HERE/../../tools/build-example.sh" "$HERE" leptos_chat dev "$@"
