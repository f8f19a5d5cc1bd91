// A plain-WebSocket test server on the `ws` package (no socket.io, no rtio internals), for the
// browser tests of rtio's plain-WebSocket mode. It speaks the JSON envelope of MODES.md in an
// echo style (events, acks both ways), echoes every other frame verbatim, and has HTTP fault
// controls. Endpoints and examples: tests/servers/ws/README.md.
//
//   node tests/servers/ws/server.mjs [--port N] [--ping-interval MS] [--chaos-log FILE]
//
// --port           port on 127.0.0.1 (default 0: any free port)
// --ping-interval  send a WebSocket ping control frame to each socket this often (default 0: never)
// --chaos-log      serve the chaos workload's events (README) and log them in FILE
//
// Binds 127.0.0.1 only. Prints `LISTENING http://127.0.0.1:<port>` once it accepts connections;
// exits with status 0 on SIGTERM/SIGINT; a bad option exits with status 2. Also serves /pkg/...
// and /tests/pages/... as static files, so a page can use the socket from its own origin.

import { STATUS_CODES } from "node:http";
import { WebSocket, WebSocketServer } from "ws";
import { chaosLog, clientName, emitNumber, feedPeriod } from "../chaos-log.mjs";
import { HttpError, intIn, isStatic, json, onShutdown, parseOptions,
  preflight, readJson, serve, serveStatic, urlOf, usageOf } from "../common.mjs";

const MAX_FRAME = 1024 * 1024; // a received WebSocket message (ws's maxPayload)
const MAX_CLIENTS = 1_000; // open sockets at once
const MAX_RECEIVED = 10_000; // frames kept for GET /control/received
const MAX_RECEIVED_BYTES = 64 * 1024 * 1024; // their total size
const MAX_ROOMS = 100; // rooms per socket
const MAX_NAME = 256; // characters in a room name
const MAX_PENDING_ASKS = 1_000; // asks per socket waiting for the client's ack
const MAX_BUFFERED = 8 * 1024 * 1024; // bytes a socket may owe its client before it is cut
const MAX_MS = 600_000; // any delay a test asks for

// ---------------------------------------------------------------------------------------------
// Command line

const usage = usageOf("usage: server.mjs [--port N] [--ping-interval MS] [--chaos-log FILE]");

function parseArgs(argv) {
  const opts = { port: 0, pingInterval: 0, chaosLog: null };
  parseOptions(argv, usage, (a, value, int) => {
    if (a === "--port") opts.port = int(a, value(), 0, 65535);
    else if (a === "--ping-interval") opts.pingInterval = int(a, value(), 0, MAX_MS);
    else if (a === "--chaos-log") {
      opts.chaosLog = value();
      if (!opts.chaosLog) usage(2, "--chaos-log needs a file");
    } else return false;
    return true;
  });
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const chaos = opts.chaosLog ? chaosLog(opts.chaosLog) : null;

// ---------------------------------------------------------------------------------------------
// What was received: { client, kind, data (a string or a Buffer), at }, the last MAX_RECEIVED
// (and at most MAX_RECEIVED_BYTES of them), oldest first.

const received = [];
let receivedBytes = 0;

function record(client, kind, data) {
  client.received++;
  received.push({ client: client.id, kind, data, at: Date.now() });
  receivedBytes += data.length;
  while (received.length > MAX_RECEIVED || (received.length > 1 && receivedBytes > MAX_RECEIVED_BYTES)) {
    receivedBytes -= received.shift().data.length;
  }
}

// ---------------------------------------------------------------------------------------------
// Sockets

const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME, autoPong: false, clientTracking: false });
const clients = new Map(); // id -> client
let clientSerial = 0;
// Upgrade requests answered with `status` instead of a socket `count` more times.
const rejecting = { status: 503, count: 0 };

const isStalled = (client) => client.stalledUntil > Date.now();
const isIndex = (n) => Number.isSafeInteger(n) && n >= 0;

// Writes a frame (a string: text; a Buffer: binary) unless the socket is stalled (then it is
// dropped: a blackholed link loses what is sent). Returns whether it was written. A client that
// does not read is cut once it owes MAX_BUFFERED bytes.
function write(client, data) {
  if (isStalled(client) || client.ws.readyState !== WebSocket.OPEN) return false;
  client.ws.send(data, { binary: typeof data !== "string" });
  if (client.ws.bufferedAmount > MAX_BUFFERED) client.ws.terminate();
  return true;
}

const writeJson = (client, value) => write(client, JSON.stringify(value));

function validCloseCode(code) {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

// The error of a close code and reason that ws would refuse, or null.
function closeError(code, reason) {
  if (!Number.isInteger(code) || !validCloseCode(code)) return "code: 1000..1003, 1007..1014 or 3000..4999";
  if (typeof reason !== "string" || Buffer.byteLength(reason) > 123) return "reason: a string of at most 123 bytes";
  return null;
}

function closeClient(client, code = 1000, reason = "") {
  if (client.ws.readyState !== WebSocket.OPEN) return false;
  client.ws.close(code, reason);
  return true;
}

// Bytes from a JSON array of integers 0..255 (at most MAX_FRAME of them), or null.
function bytesOf(v) {
  if (!Array.isArray(v) || v.length > MAX_FRAME) return null;
  for (const b of v) if (!Number.isInteger(b) || b < 0 || b > 255) return null;
  return Buffer.from(v);
}

function stall(client, ms) {
  const until = Date.now() + ms;
  if (until > client.stalledUntil) client.stalledUntil = until;
}

function open(ws, req, url) {
  const rooms = [];
  for (const r of url.searchParams.getAll("room")) {
    if (rooms.length < MAX_ROOMS && r.length > 0 && r.length <= MAX_NAME && !rooms.includes(r)) rooms.push(r);
  }
  const query = Object.create(null); // any key, `__proto__` included
  for (const [k, v] of url.searchParams) {
    if (!Object.hasOwn(query, k)) query[k] = v;
    else if (Array.isArray(query[k])) query[k].push(v);
    else query[k] = [query[k], v];
  }
  const client = {
    id: ++clientSerial,
    ws,
    rooms,
    query,
    protocol: ws.protocol || null,
    origin: req.headers.origin ?? null,
    openedAt: Date.now(),
    received: 0,
    stalledUntil: 0,
    askSerial: 0,
    asks: new Map(), // n -> event, the asks waiting for the client's ack
    timers: new Set(), // `slow` acks to come
    pinger: null,
    // The chaos workload's client (the `chaos` query parameter), its connection id and feed.
    chaos: chaos && clientName(query.chaos),
    chaosId: chaos && `${chaos.boot}.${clientSerial}`,
    feed: null,
    ticks: 0,
  };
  clients.set(client.id, client);
  if (client.chaos) chaos.record({ e: "connect", c: client.chaos, s: client.chaosId, recovered: false });
  req.socket.setNoDelay(true);

  ws.on("message", (data, isBinary) => {
    try {
      onFrame(client, data, isBinary);
    } catch (err) {
      process.stderr.write(`error on a frame of client ${client.id}: ${err?.stack ?? err}\n`);
    }
  });
  // Pongs are sent by hand, so a stalled socket answers no ping either.
  ws.on("ping", (payload) => {
    if (!isStalled(client) && ws.readyState === WebSocket.OPEN) ws.pong(payload);
  });
  // A frame over maxPayload, invalid UTF-8 or a protocol error: ws closes the socket itself.
  ws.on("error", () => {});
  ws.on("close", () => {
    clients.delete(client.id);
    clearInterval(client.pinger);
    clearInterval(client.feed);
    if (client.chaos) chaos.record({ e: "gone", c: client.chaos, s: client.chaosId, reason: "close" });
    for (const t of client.timers) clearTimeout(t);
    client.timers.clear();
    client.asks.clear();
  });
  if (opts.pingInterval > 0) {
    client.pinger = setInterval(() => {
      if (!isStalled(client) && ws.readyState === WebSocket.OPEN) ws.ping();
    }, opts.pingInterval);
  }
}

function onFrame(client, data, isBinary) {
  if (isBinary) {
    record(client, "binary", data);
    if (!isStalled(client)) write(client, data);
    return;
  }
  const text = data.toString("utf8");
  record(client, "text", text);
  // A stalled socket's frames are read and recorded, and nothing they ask for is done.
  if (isStalled(client)) return;
  let msg;
  try {
    msg = JSON.parse(text);
  } catch {
    return write(client, text);
  }
  if (Array.isArray(msg) && typeof msg[0] === "string") return onEvent(client, msg[0], msg.slice(1));
  if (Array.isArray(msg) && isIndex(msg[0]) && typeof msg[1] === "string") return onAsk(client, msg[0], msg[1], msg.slice(2));
  if (msg && typeof msg === "object" && !Array.isArray(msg) && isIndex(msg.ack) && Array.isArray(msg.args)) {
    return onAck(client, msg.ack, msg.args);
  }
  // JSON, but no envelope: back as it came.
  write(client, text);
}

const error = (client, message) => writeJson(client, ["error", message]);

// The chaos workload's events (README): `ack` answers when the client asked for one.
function onChaos(client, event, args, ack) {
  const c = client.chaos;
  const s = client.chaosId;
  if (event === "chaos:emit" && emitNumber(args[0]) !== null) {
    chaos.record({ e: "emit", c, s, n: args[0] });
    ack?.([args[0]]);
  } else if (event === "chaos:volatile" && emitNumber(args[0]) !== null) {
    chaos.record({ e: "volatile", c, s, n: args[0] });
  } else if (event === "chaos:feed") {
    clearInterval(client.feed);
    const period = feedPeriod(args[0]);
    // Numbered per connection; a stalled socket's ticks are lost, as on a dead link.
    if (period !== null) {
      client.feed = setInterval(() => {
        const k = ++client.ticks;
        chaos.record({ e: "tick", c, s, k });
        writeJson(client, ["chaos:tick", s, k]);
      }, period);
    }
    ack?.([true]);
  }
}

// `["event", ...args]`
function onEvent(client, event, args) {
  if (client.chaos && event.startsWith("chaos:")) return onChaos(client, event, args, null);
  switch (event) {
    case "echo":
      return writeJson(client, ["echo", ...args]);
    case "ping":
      return writeJson(client, ["pong"]);
    case "emit-back":
      if (typeof args[0] !== "string") return error(client, "emit-back: the first argument is the event name");
      return writeJson(client, args);
    case "raw":
      if (typeof args[0] !== "string") return error(client, "raw: the argument is the text to send");
      return write(client, args[0]);
    case "raw-binary": {
      const bytes = bytesOf(args[0]);
      if (!bytes) return error(client, "raw-binary: the argument is an array of integers 0..255");
      return write(client, bytes);
    }
    case "ask": {
      if (typeof args[0] !== "string") return error(client, "ask: the first argument is the event name");
      const n = ++client.askSerial;
      client.asks.set(n, args[0]);
      if (client.asks.size > MAX_PENDING_ASKS) client.asks.delete(client.asks.keys().next().value);
      return writeJson(client, [n, ...args]);
    }
    case "close": {
      const code = args[0] ?? 1000;
      const reason = args[1] ?? "";
      const err = closeError(code, reason);
      if (err) return error(client, `close: ${err}`);
      return closeClient(client, code, reason);
    }
    case "broadcast": {
      if (typeof args[0] !== "string") return error(client, "broadcast: the first argument is the event name");
      const frame = JSON.stringify(args);
      for (const other of clients.values()) {
        if (other === client) continue;
        if (client.rooms.length === 0 || other.rooms.some((r) => client.rooms.includes(r))) write(other, frame);
      }
      return;
    }
    default:
      // Recorded only.
      return;
  }
}

// `[n, "event", ...args]`: the client wants an ack.
function onAsk(client, n, event, args) {
  const ack = (ackArgs) => writeJson(client, { ack: n, args: ackArgs });
  if (client.chaos && event.startsWith("chaos:")) return onChaos(client, event, args, ack);
  switch (event) {
    case "add":
      return ack([args.reduce((sum, a) => (typeof a === "number" && Number.isFinite(a) ? sum + a : sum), 0)]);
    case "echo":
      return ack(args);
    case "slow": {
      const ms = typeof args[0] === "number" && Number.isFinite(args[0]) ? Math.min(Math.max(0, args[0]), MAX_MS) : 0;
      const timer = setTimeout(() => {
        client.timers.delete(timer);
        ack(args);
      }, ms);
      client.timers.add(timer);
      return;
    }
    case "never":
      return;
    default:
      return ack([{ ok: true }]);
  }
}

// `{"ack": n, "args": [...]}`: the client answers one of the server's asks.
function onAck(client, n, args) {
  if (!client.asks.has(n)) return; // not asked, or already answered: recorded only
  client.asks.delete(n);
  writeJson(client, ["answer", ...args]);
}

// ---------------------------------------------------------------------------------------------
// Routes

function listReceived(url) {
  const which = url.searchParams.get("client");
  let id = null;
  if (which !== null) {
    if (!/^\d{1,15}$/.test(which)) throw new HttpError(400, "client: a client id");
    id = Number(which);
  }
  return received
    .filter((r) => id === null || r.client === id)
    .map((r) => ({ client: r.client, kind: r.kind, data: r.kind === "text" ? r.data : [...r.data], at: r.at }));
}

async function handleControl(req, res, name, url) {
  if (req.method === "GET" && name === "clients") {
    return json(req, res, 200, [...clients.values()].map((c) => ({
      id: c.id,
      rooms: c.rooms,
      query: c.query,
      protocol: c.protocol,
      origin: c.origin,
      openedAt: c.openedAt,
      received: c.received,
      stalled: isStalled(c),
    })));
  }
  if (req.method === "GET" && name === "received") return json(req, res, 200, listReceived(url));
  if (name === "clients" || name === "received") throw new HttpError(405, "use GET");
  if (!["stall", "drop", "close", "send", "reject"].includes(name)) throw new HttpError(404, "no such control");
  if (req.method !== "POST") throw new HttpError(405, "use POST");
  const body = await readJson(req);
  if (name === "stall") {
    const ms = intIn(body.ms, 1, MAX_MS, "ms");
    for (const c of clients.values()) stall(c, ms);
    return json(req, res, 200, { stalled: clients.size, ms });
  }
  if (name === "drop") {
    const all = [...clients.values()];
    for (const c of all) c.ws.terminate();
    return json(req, res, 200, { dropped: all.length });
  }
  if (name === "close") {
    const code = body.code ?? 1000;
    const reason = body.reason ?? "";
    const err = closeError(code, reason);
    if (err) throw new HttpError(400, err);
    let closed = 0;
    for (const c of clients.values()) if (!isStalled(c) && closeClient(c, code, reason)) closed++;
    return json(req, res, 200, { closed });
  }
  if (name === "send") {
    let data;
    if (body.binary === true) {
      data = bytesOf(body.data);
      if (!data) throw new HttpError(400, "data: with binary, an array of integers 0..255");
    } else {
      if (typeof body.data !== "string") throw new HttpError(400, "data: a string (or, with binary: true, an array of bytes)");
      data = body.data;
    }
    let delivered = 0;
    for (const c of clients.values()) if (write(c, data)) delivered++;
    return json(req, res, 200, { delivered });
  }
  if (name === "reject") {
    const status = body.status === undefined ? 503 : intIn(body.status, 400, 599, "status");
    const count = body.count === undefined ? 1 : intIn(body.count, 0, 1000, "count");
    rejecting.status = status;
    rejecting.count = count;
    return json(req, res, 200, { status, count });
  }
  throw new HttpError(404, "no such control");
}

async function route(req, res) {
  const url = urlOf(req);
  const p = url.pathname;
  if (req.method === "OPTIONS") return preflight(req, res, "Authorization, Content-Type");
  if (p === "/ws") throw new HttpError(426, "a WebSocket endpoint: send an upgrade request");
  if (p.startsWith("/control/")) return handleControl(req, res, p.slice("/control/".length), url);
  if (isStatic(p)) return serveStatic(req, res, p);
  throw new HttpError(404, "not found");
}

// ---------------------------------------------------------------------------------------------
// Server and lifecycle

const httpServer = serve(route, opts.port);

// Answers an upgrade request with an HTTP error instead of a socket.
function refuseUpgrade(socket, status, message) {
  if (!socket.writable || socket.destroyed) return socket.destroy();
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      "connection: close\r\ncontent-type: application/json; charset=utf-8\r\n" +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

httpServer.on("upgrade", (req, socket, head) => {
  socket.on("error", () => {});
  let url;
  try {
    url = new URL(req.url, "http://127.0.0.1");
  } catch {
    return refuseUpgrade(socket, 400, "bad URL");
  }
  if (url.pathname !== "/ws") return refuseUpgrade(socket, 404, "not found (the WebSocket endpoint is /ws)");
  if (stopping()) return refuseUpgrade(socket, 503, "shutting down");
  if (rejecting.count > 0) {
    rejecting.count--;
    return refuseUpgrade(socket, rejecting.status, `rejecting upgrades (${rejecting.count} more)`);
  }
  if (clients.size >= MAX_CLIENTS) return refuseUpgrade(socket, 503, "too many clients");
  // ws answers a malformed handshake itself (400 and the like).
  wss.handleUpgrade(req, socket, head, (ws) => open(ws, req, url));
});

// Closes every socket (1001 "going away"; a stalled one is cut, it gets no frame), waits a
// little for the closing handshakes, then exits with status 0.
const stopping = onShutdown(() => {
  for (const c of clients.values()) {
    if (isStalled(c)) c.ws.terminate();
    else closeClient(c, 1001, "server shutting down");
  }
  httpServer.close();
  httpServer.closeAllConnections();
  const done = () => {
    if (clients.size === 0) process.exit(0);
  };
  done();
  const poll = setInterval(done, 20);
  setTimeout(() => {
    clearInterval(poll);
    for (const c of clients.values()) c.ws.terminate();
    process.exit(0);
  }, 1000).unref();
});
