// The lanes of a chaos run: for each client kind, its servers (behind a fault proxy each), its
// clients and the faults drawn for it.
//
// Heartbeats are short (a dead link is found in about 2.5 s) and so are backoffs, so that a run
// of two minutes sees many faults and recoveries.

import { existsSync } from "node:fs";
import path from "node:path";
import { REPO } from "../js/launch.mjs";

const NODE = "tests/servers/node/server.mjs";
// The Rust API workload, built by tests/chaos/build-rust-page.sh.
const RUST_PAGE = path.join(REPO, "tests/pages/chaos-rust/rtio_chaos_page.js");
const HEARTBEAT = ["--ping-interval", "1000", "--ping-timeout", "1500"];
const BACKOFF = { reconnectionDelay: 200, reconnectionDelayMax: 2000, timeout: 3000 };
// Long enough to ride out a fault and its reconnect: an emit made into a dead link is rejected.
const ACK_MS = 10_000;
const COMMON_FAULTS = ["cut", "blackhole", "dead", "latency", "throttle", "kill", "offline", "hidden"];

// The Socket.IO servers an `io()` lane runs against: Node socket.io with connection-state
// recovery, and the Rust server (socketioxide), which has none.
const SOCKET_IO_SERVERS = [
  { name: "node", script: NODE, args: (log) => ["--recovery", "--chaos-log", log, ...HEARTBEAT], recovery: true },
  // The pages come from another origin (a proxy's port at least).
  { name: "rust", rust: true, args: (log) => ["--chaos-log", log, "--allow-origin", "*", "--no-sessions", ...HEARTBEAT] },
];

// Two clients per server: one plain, one with `retries` (at-least-once, deduplicated by number).
function ioClients(urls, transports, servers, lane) {
  return servers.flatMap((s, i) =>
    transports.map((t, j) => ({
      kind: "io",
      name: `${lane}-${s.name}-${j ? "b" : "a"}`,
      url: urls[i],
      options: {
        forceNew: true,
        ...BACKOFF,
        ...(t && { transports: t }),
        ...(j ? { retries: 3, ackTimeout: 2500 } : {}),
      },
      retries: j === 1,
      // Long-polling (invariants.mjs: the browser's own resends).
      http: t === null || t.includes("polling") ? "poll" : null,
      ackTimeout: ACK_MS,
      emitEvery: 100,
      volatileEvery: 250,
      feed: 100,
      room: "chaos",
    })),
  );
}

export function laneSpec(kind) {
  switch (kind) {
    case "io-ws":
      return {
        servers: SOCKET_IO_SERVERS,
        modules: [["io", "/pkg/index.js"]],
        clients: (urls) => ioClients(urls, [["websocket"], ["websocket"]], SOCKET_IO_SERVERS, "ws"),
        faults: COMMON_FAULTS,
      };
    case "io-polling":
      // One client on long-polling only, one with the default transports: polling, then the
      // upgrade, which the `upgrade-cut` fault interrupts.
      return {
        servers: SOCKET_IO_SERVERS,
        modules: [["io", "/pkg/index.js"]],
        clients: (urls) => ioClients(urls, [["polling"], null], SOCKET_IO_SERVERS, "polling"),
        faults: [...COMMON_FAULTS, "upgrade-cut"],
      };
    case "sse": {
      const servers = [{
        name: "sse",
        script: "tests/servers/sse/server.mjs",
        args: (log) => ["--log", log + ".events", "--chaos-log", log, "--chaos-feed", "100", "--ping-interval", "500"],
        resume: true,
      }];
      return {
        servers,
        modules: [["sse", "/pkg/sse.js"]],
        clients: ([url]) => ["eventsource", "fetch"].map((transport, j) => ({
          kind: "sse",
          name: `sse-${j ? "b" : "a"}`,
          url: url + "/events",
          options: { ...BACKOFF, transport, emitUrl: url + "/emit", pingTimeout: 2000 },
          // Emits are POSTs (invariants.mjs: the browser's own resends).
          http: "post",
          ackTimeout: ACK_MS,
          emitEvery: 100,
          volatileEvery: 250,
        })),
        faults: COMMON_FAULTS,
      };
    }
    case "ws": {
      const servers = [{ name: "ws", script: "tests/servers/ws/server.mjs", args: (log) => ["--chaos-log", log] }];
      return {
        servers,
        modules: [["ws", "/pkg/ws.js"]],
        clients: ([url]) => ["a", "b"].map((x) => ({
          kind: "ws",
          name: `ws-${x}`,
          url: url.replace(/^http/, "ws") + "/ws",
          options: { ...BACKOFF, pingInterval: 500, pingTimeout: 1500 },
          ackTimeout: ACK_MS,
          emitEvery: 100,
          volatileEvery: 250,
          feed: 100,
        })),
        faults: COMMON_FAULTS,
      };
    }
    case "rust":
      if (!existsSync(RUST_PAGE)) {
        throw new Error(`the rust lane needs the Rust API workload: build it with bash tests/chaos/build-rust-page.sh`);
      }
      return {
        servers: SOCKET_IO_SERVERS,
        modules: [["rustChaos", "/tests/pages/chaos-rust/rtio_chaos_page.js", true]],
        clients: (urls) => SOCKET_IO_SERVERS.map((s, i) => ({
          kind: "rust",
          name: `rust-${s.name}`,
          url: urls[i],
          // The default transports: long-polling first.
          http: "poll",
          ackTimeout: ACK_MS,
          emitEvery: 100,
          volatileEvery: 250,
          feed: 100,
          room: "chaos",
        })),
        faults: [...COMMON_FAULTS, "upgrade-cut"],
      };
    default:
      throw new Error(`unknown chaos lane: ${kind}`);
  }
}
