// Node socket.io 4.8 test server implementing tests/servers/PROTOCOL.md.
//
//   node tests/servers/node/server.mjs [--port N] [--recovery] [--ping-interval MS] [--ping-timeout MS]
//                                      [--transports LIST] [--chaos-log FILE]
//                                      [--relay-limit RATE[/BURST]] [--join-limit RATE[/BURST]]
//                                      [--max-rooms N] [--max-members N] [--max-relay-bytes N]
//                                      [--presence-interval MS]
//
// --ping-interval and --ping-timeout set the Engine.IO heartbeat (socket.io's defaults: 25000 and
// 20000 ms); fault tests shorten them to see a dead link found quickly. --transports (socket.io's
// names, comma-separated) narrows what the server accepts: `--transports polling` serves
// long-polling only, as behind a proxy that blocks WebSocket. --chaos-log serves the chaos
// workload's events and logs them in FILE (./chaos.mjs). The limit flags set the rooms helper's
// limits (ROOMS.md "Limits"; the same flags as rtio-server's).
//
// Binds 127.0.0.1 only. Prints `LISTENING http://127.0.0.1:<port>` once it accepts connections.
// Also serves static files over the same HTTP server:
//   /pkg/...                    <repo>/pkg/
//   /tests/pages/...            <repo>/tests/pages/
//   /vendor/socket.io-client/... tests/node_modules/socket.io-client/dist/ (reference client)

import { createServer } from "node:http";
import { createReadStream, promises as fsp } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Server } from "socket.io";
import { attachRooms } from "../../../js/server.js";
import { TYPES } from "../common.mjs";
import { attachChaos } from "./chaos.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TESTS = path.resolve(HERE, "../..");
const REPO = path.resolve(TESTS, "..");

// The rooms helper's limits, from rtio-server's flags.
function limitNumber(text, flag) {
  const n = Number(text);
  if (text === "" || !Number.isFinite(n) || n < 0) {
    process.stderr.write(`${flag} needs a number\n`);
    process.exit(2);
  }
  return n;
}
function rateAndBurst(text, flag, rateKey, burstKey) {
  const [rate, burst] = text.split("/");
  const r = limitNumber(rate, flag);
  return { [rateKey]: r, [burstKey]: burst === undefined ? r : limitNumber(burst, flag) };
}
const LIMIT_FLAGS = {
  "--relay-limit": (t, f) => rateAndBurst(t, f, "relaysPerSecond", "relayBurst"),
  "--join-limit": (t, f) => rateAndBurst(t, f, "joinsPerSecond", "joinBurst"),
  "--max-rooms": (t, f) => ({ roomsPerSocket: limitNumber(t, f) }),
  "--max-members": (t, f) => ({ membersPerRoom: limitNumber(t, f) }),
  "--max-relay-bytes": (t, f) => ({ relayBytes: limitNumber(t, f) }),
  "--presence-interval": (t, f) => ({ presenceIntervalMs: limitNumber(t, f) }),
};

function parseArgs(argv) {
  const opts = { port: 0, recovery: false, pingInterval: 25000, pingTimeout: 20000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--port") {
      opts.port = Number(argv[++i]);
    } else if (a.startsWith("--port=")) {
      opts.port = Number(a.slice("--port=".length));
    } else if (a === "--transports") {
      // Comma-separated, in socket.io's names: `--transports polling` serves long-polling only.
      opts.transports = String(argv[++i]).split(",");
    } else if (a === "--chaos-log") {
      opts.chaosLog = String(argv[++i] ?? "");
      if (!opts.chaosLog) {
        process.stderr.write("--chaos-log needs a file\n");
        process.exit(2);
      }
    } else if (LIMIT_FLAGS[a]) {
      Object.assign((opts.limits ??= {}), LIMIT_FLAGS[a](String(argv[++i] ?? ""), a));
    } else if (a === "--recovery") {
      opts.recovery = true;
    } else if (a === "--ping-interval" || a === "--ping-timeout") {
      const ms = Number(argv[++i]);
      if (!Number.isInteger(ms) || ms < 1 || ms > 600000) {
        process.stderr.write(`${a} needs milliseconds in 1..600000\n`);
        process.exit(2);
      }
      opts[a === "--ping-interval" ? "pingInterval" : "pingTimeout"] = ms;
    } else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: server.mjs [--port N] [--recovery] [--ping-interval MS] [--ping-timeout MS] [--transports LIST] [--chaos-log FILE] [--relay-limit RATE[/BURST]] [--join-limit RATE[/BURST]] [--max-rooms N] [--max-members N] [--max-relay-bytes N] [--presence-interval MS]\n");
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument: ${a}\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    process.stderr.write("--port needs an integer in 0..65535\n");
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------
// Static files

const MOUNTS = [
  ["/pkg/", path.join(REPO, "pkg")],
  ["/tests/pages/", path.join(TESTS, "pages")],
  ["/vendor/socket.io-client/", path.join(TESTS, "node_modules", "socket.io-client", "dist")],
];

function notFound(res) {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
  res.end("not found\n");
}

// Maps a URL path to a file inside one of the mounts, or null. Rejects anything that would
// resolve outside the mount root (`..`, encoded slashes, NUL bytes).
function resolveStatic(urlPath) {
  for (const [prefix, root] of MOUNTS) {
    if (!urlPath.startsWith(prefix)) continue;
    let rel;
    try {
      rel = decodeURIComponent(urlPath.slice(prefix.length));
    } catch {
      return null;
    }
    if (rel === "" || rel.includes("\0") || rel.includes("\\")) return null;
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep)) return null;
    return { file, root };
  }
  return null;
}

async function serveStatic(req, res) {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" });
    res.end();
    return;
  }
  let urlPath;
  try {
    urlPath = new URL(req.url, "http://127.0.0.1").pathname;
  } catch {
    return notFound(res);
  }
  const target = resolveStatic(urlPath);
  if (!target) return notFound(res);
  let stat;
  try {
    // Follow symlinks, then check again that the real file is still inside the mount.
    const real = await fsp.realpath(target.file);
    const realRoot = await fsp.realpath(target.root);
    if (!real.startsWith(realRoot + path.sep)) return notFound(res);
    stat = await fsp.stat(real);
    if (!stat.isFile()) return notFound(res);
    target.file = real;
  } catch {
    return notFound(res);
  }
  const type = TYPES[path.extname(target.file).toLowerCase()] ?? "application/octet-stream";
  res.writeHead(200, {
    "content-type": type,
    "content-length": stat.size,
    // The package is rebuilt between runs; never let the browser reuse a stale copy.
    "cache-control": "no-store",
  });
  if (req.method === "HEAD") return res.end();
  createReadStream(target.file)
    .on("error", () => res.destroy())
    .pipe(res);
}

const httpServer = createServer((req, res) => {
  serveStatic(req, res).catch(() => {
    if (!res.headersSent) notFound(res);
    else res.destroy();
  });
});

// ---------------------------------------------------------------------------------------------
// Socket.IO

const io = new Server(httpServer, {
  serveClient: false,
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  ...(opts.transports && { transports: opts.transports }),
  cors: { origin: true, credentials: true },
  connectionStateRecovery: opts.recovery
    ? { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true }
    : undefined,
});

// socket.io hands the server `{}` when the client sent no auth payload; PROTOCOL.md wants null.
function authOf(socket) {
  const auth = socket.handshake.auth;
  if (auth == null) return null;
  if (typeof auth === "object" && !Array.isArray(auth) && Object.keys(auth).length === 0) {
    return null;
  }
  return auth;
}

function lastIsAck(args) {
  return args.length > 0 && typeof args[args.length - 1] === "function";
}

function common(socket) {
  socket.on("whoami", (...args) => {
    if (lastIsAck(args)) args.pop()({ id: socket.id, auth: authOf(socket) });
  });
  socket.on("echo", (...args) => {
    if (lastIsAck(args)) {
      const ack = args.pop();
      ack(...args);
    }
  });
  socket.on("kick", () => socket.disconnect());
}

// How many times each `tally` key arrived, over every socket of the process.
const tally = new Map();

// What the last HTTP request of each Engine.IO session carried (tests of `extraHeaders` and
// `withCredentials` on long-polling): its `x-rtio-test` header and its cookies. A handshake
// whose query has `set-cookie` gets a cookie set in its answer.
const lastRequest = new Map();
const queryOf = (req) => new URL(req.url, "http://127.0.0.1").searchParams;
io.engine.on("initial_headers", (headers, req) => {
  if (queryOf(req).has("set-cookie")) headers["set-cookie"] = "rtio-test=from-server; Path=/; SameSite=Lax; HttpOnly";
});
io.engine.on("headers", (_headers, req) => {
  const sid = queryOf(req).get("sid");
  if (sid) lastRequest.set(sid, { header: req.headers["x-rtio-test"] ?? null, cookie: req.headers.cookie ?? null });
});
io.engine.on("connection", (conn) => conn.on("close", () => lastRequest.delete(conn.id)));

io.of("/").on("connection", (socket) => {
  common(socket);
  const record = [];

  socket.on("emit-back", (event, ...args) => {
    if (lastIsAck(args)) args.pop();
    if (typeof event === "string") socket.emit(event, ...args);
  });
  socket.on("record", (...args) => {
    if (lastIsAck(args)) args.pop();
    record.push(args);
  });
  socket.on("recorded", (...args) => {
    if (lastIsAck(args)) args.pop()(record);
  });
  socket.on("ask", (event, ...args) => {
    if (lastIsAck(args)) args.pop();
    if (typeof event !== "string") return;
    socket.emit(event, ...args, (...reply) => socket.emit("answer", ...reply));
  });
  socket.on("emit-to", (sid, event, ...args) => {
    if (lastIsAck(args)) args.pop();
    if (typeof sid === "string" && typeof event === "string") io.of("/").to(sid).emit(event, ...args);
  });
  // Node server only: hooks for the tests of what a client does with bad input.
  socket.on("raw", (frame) => {
    if (typeof frame === "string") socket.conn.write(frame);
  });
  socket.on("has-ack", (...args) => {
    const acked = lastIsAck(args);
    if (acked) args.pop()("ok");
    socket.emit("has-ack", acked);
  });
  socket.on("last-request", (ack) => {
    if (typeof ack === "function") ack(lastRequest.get(socket.conn.id) ?? null);
  });
  socket.on("tally", (key, ack) => {
    const n = (tally.get(key) || 0) + 1;
    tally.set(key, n);
    if (typeof ack === "function") ack(n);
  });
});

// Rooms and presence (ROOMS.md) on `/`, through the package's own helper. Rooms whose name
// starts with `locked:` are refused with "not allowed", so tests see the authorization hook.
attachRooms(io, {
  authorize: (_socket, room) => (room.startsWith("locked:") ? "not allowed" : true),
  limits: opts.limits,
});

if (opts.chaosLog) attachChaos(io, opts.chaosLog);

io.of("/second").on("connection", (socket) => common(socket));
io.of("/a-namespace-with-a-name-long-enough-to-push-the-packet-header-past-64-characters").on("connection", (socket) => common(socket));

io.of("/forbidden").use((_socket, next) => next(new Error("forbidden namespace")));

// A server whose `rtio:join` answer comes after presence changes that its member list does not
// hold yet: the order a rooms helper uses when another socket joins at the same moment.
io.of("/late-join").on("connection", (socket) =>
  socket.on("rtio:join", (room, meta, ack) => {
    if (typeof ack !== "function") return;
    socket.emit("rtio:presence", room, { joined: { id: "other", meta: { name: "Other" } } });
    socket.emit("rtio:presence", room, { joined: { id: "gone", meta: { name: "Gone" } } });
    socket.emit("rtio:presence", room, { left: "gone" });
    setTimeout(() => ack({ ok: true, members: [{ id: socket.id, meta }] }), 50);
  }),
);

// ---------------------------------------------------------------------------------------------
// Lifecycle

httpServer.on("error", (err) => {
  process.stderr.write(`server error: ${err.message}\n`);
  process.exit(1);
});

httpServer.listen(opts.port, "127.0.0.1", () => {
  const { port } = httpServer.address();
  process.stdout.write(`LISTENING http://127.0.0.1:${port}\n`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  // io.close() disconnects every client and closes the HTTP server; don't wait forever on
  // lingering keep-alive connections.
  setTimeout(() => process.exit(0), 2000).unref();
  io.close(() => process.exit(0));
  httpServer.closeAllConnections?.();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
