# Sourced by test.sh and demo.sh: starts a server in the background, waits for its
# "LISTENING http://127.0.0.1:PORT" line and records its PID so it is stopped on exit.

RTIO_PIDS=()

stop_servers() {
  for pid in "${RTIO_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${RTIO_PIDS[@]:-}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  RTIO_PIDS=()
}

# start_server NAME LOGFILE COMMAND... ; sets SERVER_URL
start_server() {
  local name="$1" log="$2"
  shift 2
  "$@" >"$log" 2>&1 &
  local pid=$!
  RTIO_PIDS+=("$pid")
  for _ in $(seq 1 300); do
    if SERVER_URL="$(grep -m1 -o 'LISTENING http://127\.0\.0\.1:[0-9]*' "$log" 2>/dev/null | cut -d' ' -f2)" && [ -n "$SERVER_URL" ]; then
      echo "$name server: $SERVER_URL (pid $pid)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name server exited before listening:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "$name server did not start within 30 s:" >&2
  cat "$log" >&2
  return 1
}
