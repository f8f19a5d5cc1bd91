// A Server-Sent Events test server in plain Node `http` (no socket.io, no rtio convention beyond
// the standard text/event-stream format), for the browser tests of rtio's SSE mode. Endpoints
// and examples: tests/servers/sse/README.md.
//
//   node tests/servers/sse/server.mjs [--port N] [--ping-interval MS] [--ping-event NAME]
//                                     [--retry MS] [--log FILE] [--max-log N]
//                                     [--chaos-log FILE] [--chaos-feed MS]
//
// --ping-interval  heartbeat period per stream (default 15000; 0: no heartbeat)
// --ping-event     the heartbeat's event name (default `ping`)
// --retry          send `retry: MS` at connect (default: none)
// --log FILE       keep the event log in FILE (JSON lines), reloaded at start so ids continue
//                  and resume works across a restart (default: in memory only)
// --max-log N      keep at most N events (default and maximum 10000)
// --chaos-log FILE serve the chaos workload (README) and log what it does in FILE
// --chaos-feed MS  with --chaos-log, publish each chaos client's tick this often (default 200)
//
// Binds 127.0.0.1 only. Prints `LISTENING http://127.0.0.1:<port>` once it accepts connections;
// exits with status 0 on SIGTERM/SIGINT. Also serves /pkg/... and /tests/pages/... as static
// files, so a page can use the stream from its own origin.

import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { chaosLog, clientName, emitNumber } from "../chaos-log.mjs";
import { HttpError, cors, intIn, isStatic, json, onShutdown, parseOptions,
  preflight, readJson, serve, serveStatic, urlOf, usageOf } from "../common.mjs";

const MAX_LOG = 10_000; // events kept
const MAX_LOG_BYTES = 64 * 1024 * 1024; // their total size as JSON
const MAX_EMITTED = 10_000; // records kept for GET /emitted
const MAX_STREAMS = 1_000; // open event streams at once
const MAX_ROOMS = 100; // rooms per stream
const MAX_NAME = 256; // characters in an event or room name
const MAX_BUFFERED = 8 * 1024 * 1024; // bytes a stream may owe its client before it is cut
const MAX_MS = 600_000; // any delay a test asks for

// ---------------------------------------------------------------------------------------------
// Command line

const usage = usageOf(
  "usage: server.mjs [--port N] [--ping-interval MS] [--ping-event NAME] [--retry MS] [--log FILE] [--max-log N] [--chaos-log FILE] [--chaos-feed MS]",
);

function parseArgs(argv) {
  const opts = { port: 0, pingInterval: 15000, pingEvent: "ping", retry: null, log: null, maxLog: MAX_LOG, chaosLog: null, chaosFeed: 200 };
  parseOptions(argv, usage, (a, value, int) => {
    if (a === "--port") opts.port = int(a, value(), 0, 65535);
    else if (a === "--chaos-feed") opts.chaosFeed = int(a, value(), 10, 60_000);
    else if (a === "--chaos-log") {
      opts.chaosLog = value();
      if (!opts.chaosLog) usage(2, "--chaos-log needs a file");
    }
    else if (a === "--ping-interval") opts.pingInterval = int(a, value(), 0, MAX_MS);
    else if (a === "--retry") opts.retry = int(a, value(), 0, MAX_MS);
    else if (a === "--max-log") opts.maxLog = int(a, value(), 1, MAX_LOG);
    else if (a === "--ping-event") {
      opts.pingEvent = value();
      if (!validName(opts.pingEvent)) usage(2, "--ping-event needs a name (1..256 characters, no line breaks)");
    } else if (a === "--log") {
      opts.log = value();
      if (!opts.log) usage(2, "--log needs a file");
    } else return false;
    return true;
  });
  return opts;
}

// Event and room names: non-empty strings of at most MAX_NAME characters without line breaks
// (which would end an SSE field) or NUL.
function validName(s) {
  return typeof s === "string" && s.length > 0 && s.length <= MAX_NAME && !/[\r\n\0]/.test(s);
}

const opts = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------
// The event log: { id, event, room, raw, data } in id order, optionally mirrored in a file of
// JSON lines. Each publish is appended to the file synchronously before it is answered, so an
// event whose id a test got back survives even a SIGKILL of the server.

const log = [];
let logBytes = 0;
let lastId = 0;
let fileLines = 0;

function trimLog() {
  while (log.length > opts.maxLog || (log.length > 1 && logBytes > MAX_LOG_BYTES)) {
    logBytes -= log.shift().line.length;
  }
}

function loadLog(file) {
  let text = "";
  if (existsSync(file)) {
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      usage(2, `--log: cannot read ${file}: ${err.message}`);
    }
  }
  // A line cut short by a crash, or anything else that is not a logged event, is skipped.
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (!e || !Number.isSafeInteger(e.id) || e.id <= lastId || !validName(e.event)) continue;
    if (e.room !== null && e.room !== undefined && !validName(e.room)) continue;
    if (e.raw === true && typeof e.data !== "string") continue;
    const entry = makeEntry(e.id, e.event, e.room ?? null, e.raw === true, e.data);
    log.push(entry);
    logBytes += entry.line.length;
    lastId = e.id;
    trimLog();
  }
  // Start from a clean file (no torn line for the next append to follow).
  compactLog();
}

function compactLog() {
  if (!opts.log) return;
  const tmp = `${opts.log}.tmp-${process.pid}`;
  writeFileSync(tmp, log.map((e) => e.line + "\n").join(""));
  renameSync(tmp, opts.log);
  fileLines = log.length;
}

// `wire` is the event as sent on a stream, `line` as kept in the log file.
function makeEntry(id, event, room, raw, data) {
  if (data === undefined) data = null;
  const text = raw ? data : JSON.stringify(data);
  // Each line of the data is a `data:` field; the client joins them again with "\n".
  const dataLines = text.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join("");
  return {
    id,
    room,
    wire: `id: ${id}\nevent: ${event}\n${dataLines}\n`,
    line: JSON.stringify({ id, event, room, raw, data }),
  };
}

function append(event, room, raw, data) {
  const entry = makeEntry(lastId + 1, event, room, raw, data);
  if (opts.log) {
    appendFileSync(opts.log, entry.line + "\n");
    fileLines++;
  }
  lastId = entry.id;
  log.push(entry);
  logBytes += entry.line.length;
  trimLog();
  if (opts.log && fileLines > 2 * opts.maxLog) compactLog();
  return entry;
}

if (opts.log) {
  try {
    loadLog(opts.log);
  } catch (err) {
    usage(2, `--log: cannot use ${opts.log}: ${err.message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The chaos workload (README): streams with the query parameter `chaos` (the client's name)
// are logged, and each such client's room `chaos.<name>` gets the event `chaos:tick`, data
// `["sse", k]`, every --chaos-feed ms (k counting per client, on from the logged events after a
// restart); emits named `chaos:emit` and `chaos:volatile` with args `[name, n]` are logged.

const chaos = opts.chaosLog ? chaosLog(opts.chaosLog) : null;
const chaosTicks = new Map(); // name -> its last tick
if (chaos) {
  for (const entry of log) {
    const { event, room, data } = JSON.parse(entry.line);
    if (event === "chaos:tick" && typeof room === "string" && Array.isArray(data)) chaosTicks.set(room.slice(6), data[1]);
  }
  setInterval(() => {
    for (const [c, last] of chaosTicks) {
      const k = last + 1;
      chaosTicks.set(c, k);
      // Logged first: a SIGKILL in between must not leave a tick sent but not logged.
      chaos.record({ e: "tick", c, s: "sse", k });
      publish("chaos:tick", `chaos.${c}`, false, ["sse", k]);
    }
  }, opts.chaosFeed);
}

function chaosEmit(event, args) {
  const [c, n] = args;
  if (clientName(c) === null || emitNumber(n) === null) return false;
  if (event === "chaos:emit") chaos.record({ e: "emit", c, s: "post", n });
  else if (event === "chaos:volatile") chaos.record({ e: "volatile", c, s: "post", n });
  else return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Event streams

const streams = new Set();
let streamSerial = 0;
// GET /events answers with `status` instead of a stream `count` more times.
const failing = { status: 503, count: 0 };

function wants(stream, entry) {
  return entry.room === null || stream.rooms.has(entry.room);
}

// Writes to a stream unless it is stalled (then it is queued until the stall ends). A client
// that does not read is cut once it owes MAX_BUFFERED bytes.
function send(stream, text) {
  if (stream.closed) return;
  if (stream.stalledUntil > Date.now()) {
    stream.queue.push(text);
    stream.queued += text.length;
    if (stream.queued > MAX_BUFFERED) cut(stream);
    return;
  }
  stream.res.write(text);
  if (stream.res.writableLength > MAX_BUFFERED) cut(stream);
}

function cut(stream) {
  if (stream.closed) return;
  close(stream);
  stream.req.socket.destroy();
}

function close(stream) {
  if (stream.closed) return;
  stream.closed = true;
  streams.delete(stream);
  if (stream.chaos) chaos.record({ e: "gone", c: stream.chaos, s: `${chaos.boot}.${stream.id}`, reason: "close" });
  clearInterval(stream.pinger);
  clearTimeout(stream.stallTimer);
  stream.queue = [];
}

function stall(stream, ms) {
  const until = Date.now() + ms;
  if (until <= stream.stalledUntil) return;
  stream.stalledUntil = until;
  clearTimeout(stream.stallTimer);
  stream.stallTimer = setTimeout(() => {
    stream.stalledUntil = 0;
    const queued = stream.queue;
    stream.queue = [];
    stream.queued = 0;
    if (queued.length) send(stream, queued.join(""));
  }, ms);
}

// Parses a Last-Event-ID value: a non-negative integer, or null.
function eventIdOf(v) {
  return typeof v === "string" && /^\d{1,15}$/.test(v.trim()) ? Number(v.trim()) : null;
}

function openStream(req, res, url) {
  if (failing.count > 0) {
    failing.count--;
    return json(req, res, failing.status, { error: `failing on request (${failing.count} more)` });
  }
  if (streams.size >= MAX_STREAMS) return json(req, res, 503, { error: "too many streams" });
  const rooms = url.searchParams.getAll("room");
  if (rooms.length > MAX_ROOMS || !rooms.every(validName)) {
    return json(req, res, 400, { error: `room: up to ${MAX_ROOMS} names of 1..${MAX_NAME} characters` });
  }
  const header = req.headers["last-event-id"] ?? null;
  const query = url.searchParams.get("lastEventId");
  // The header wins: EventSource sends it on its own reconnects, with the latest id it saw.
  let lastEventId = eventIdOf(header);
  let source = lastEventId === null ? null : "header";
  if (lastEventId === null) {
    lastEventId = eventIdOf(query);
    if (lastEventId !== null) source = "query";
  }

  res.writeHead(200, {
    ...cors(req),
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  req.socket.setNoDelay(true);
  const stream = {
    id: ++streamSerial,
    req,
    res,
    rooms: new Set(rooms),
    lastEventId,
    source,
    header,
    query,
    origin: req.headers.origin ?? null,
    authorization: req.headers.authorization ?? null,
    openedAt: Date.now(),
    replayed: 0,
    closed: false,
    stalledUntil: 0,
    stallTimer: null,
    queue: [],
    queued: 0,
    pinger: null,
    chaos: chaos && clientName(url.searchParams.get("chaos")),
  };
  streams.add(stream);
  if (stream.chaos) {
    chaos.record({ e: "connect", c: stream.chaos, s: `${chaos.boot}.${stream.id}`, recovered: lastEventId !== null });
    if (!chaosTicks.has(stream.chaos)) chaosTicks.set(stream.chaos, 0);
  }
  res.on("close", () => close(stream));
  res.on("error", () => close(stream));

  let head = ": hello\n";
  if (opts.retry !== null) head += `retry: ${opts.retry}\n`;
  send(stream, head + "\n");
  if (lastEventId !== null) {
    let backlog = "";
    for (const entry of log) {
      if (entry.id > lastEventId && wants(stream, entry)) {
        backlog += entry.wire;
        stream.replayed++;
      }
    }
    if (backlog) send(stream, backlog);
  }
  if (opts.pingInterval > 0) {
    const ping = `event: ${opts.pingEvent}\ndata: {}\n\n`;
    stream.pinger = setInterval(() => {
      // Pings are not queued during a stall: the client must see silence.
      if (stream.stalledUntil <= Date.now()) send(stream, ping);
    }, opts.pingInterval);
  }
}

function publish(event, room, raw, data) {
  const entry = append(event, room, raw, data);
  let delivered = 0;
  for (const stream of streams) {
    if (wants(stream, entry)) {
      send(stream, entry.wire);
      delivered++;
    }
  }
  return { id: entry.id, delivered };
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

function optionalRoom(body) {
  if (body.room === undefined || body.room === null) return null;
  if (!validName(body.room)) throw new HttpError(400, `room: a name of 1..${MAX_NAME} characters without line breaks`);
  return body.room;
}

// ---------------------------------------------------------------------------------------------
// Routes

const emitted = [];

async function handlePublish(req, res) {
  const body = await readJson(req);
  if (!validName(body.event)) throw new HttpError(400, `event: a name of 1..${MAX_NAME} characters without line breaks`);
  const room = optionalRoom(body);
  const raw = body.raw === true;
  if (raw && typeof body.data !== "string") throw new HttpError(400, "data: raw events need a string");
  json(req, res, 200, publish(body.event, room, raw, body.data));
}

async function handleEmit(req, res) {
  const body = await readJson(req);
  if (typeof body.event !== "string" || body.event.length === 0 || body.event.length > MAX_NAME) {
    throw new HttpError(400, `event: a string of 1..${MAX_NAME} characters`);
  }
  const args = body.args === undefined ? [] : body.args;
  if (!Array.isArray(args)) throw new HttpError(400, "args: an array");
  const room = optionalRoom(body);
  emitted.push({ event: body.event, args, room });
  if (emitted.length > MAX_EMITTED) emitted.shift();
  if (room !== null) publish("emitted", room, false, { event: body.event, args });
  if (chaos && body.event.startsWith("chaos:") && chaosEmit(body.event, args)) return json(req, res, 200, args[1]);

  if (body.event === "echo") return json(req, res, 200, args);
  if (body.event === "fail") {
    const error = typeof args[0] === "string" ? args[0] : "fail requested";
    return json(req, res, 500, { error });
  }
  if (body.event === "slow") {
    const ms = Number.isFinite(args[0]) ? Math.min(Math.max(0, args[0]), MAX_MS) : 0;
    const timer = setTimeout(() => json(req, res, 200, args), ms);
    res.on("close", () => clearTimeout(timer));
    return;
  }
  json(req, res, 200, { ok: true });
}

async function handleControl(req, res, name, url) {
  if (req.method === "GET" && name === "clients") {
    return json(req, res, 200, [...streams].map((s) => ({
      id: s.id,
      rooms: [...s.rooms],
      lastEventId: s.lastEventId,
      lastEventIdFrom: s.source,
      lastEventIdHeader: s.header,
      lastEventIdQuery: s.query,
      replayed: s.replayed,
      origin: s.origin,
      authorization: s.authorization,
      stalled: s.stalledUntil > Date.now(),
      openedAt: s.openedAt,
    })));
  }
  if (req.method === "GET" && name === "log") {
    const after = eventIdOf(url.searchParams.get("after") ?? "0") ?? 0;
    return json(req, res, 200, log.filter((e) => e.id > after).map((e) => JSON.parse(e.line)));
  }
  if (req.method !== "POST") throw new HttpError(405, "use POST (GET for /control/clients and /control/log)");
  const body = await readJson(req);
  if (name === "fail") {
    const status = body.status === undefined ? 503 : body.status;
    if (!(status === 204 || (Number.isInteger(status) && status >= 400 && status <= 599))) {
      throw new HttpError(400, "status: 204 or an integer in 400..599");
    }
    const count = body.count === undefined ? 1 : intIn(body.count, 0, 1000, "count");
    failing.status = status;
    failing.count = count;
    return json(req, res, 200, { status, count });
  }
  if (name === "drop") {
    const all = [...streams];
    for (const s of all) cut(s);
    return json(req, res, 200, { dropped: all.length });
  }
  if (name === "stall") {
    const ms = intIn(body.ms, 1, MAX_MS, "ms");
    for (const s of streams) stall(s, ms);
    return json(req, res, 200, { stalled: streams.size, ms });
  }
  throw new HttpError(404, "no such control");
}

async function route(req, res) {
  const url = urlOf(req);
  const p = url.pathname;
  if (req.method === "OPTIONS") return preflight(req, res, "Last-Event-ID, Authorization, Content-Type");
  if (p === "/events") {
    if (req.method !== "GET") throw new HttpError(405, "use GET");
    return openStream(req, res, url);
  }
  if (p === "/publish" || p === "/emit") {
    if (req.method !== "POST") throw new HttpError(405, "use POST");
    return p === "/publish" ? handlePublish(req, res) : handleEmit(req, res);
  }
  if (p === "/emitted") {
    if (req.method !== "GET") throw new HttpError(405, "use GET");
    return json(req, res, 200, emitted);
  }
  if (p.startsWith("/control/")) return handleControl(req, res, p.slice("/control/".length), url);
  if (isStatic(p)) return serveStatic(req, res, p);
  throw new HttpError(404, "not found");
}

// ---------------------------------------------------------------------------------------------
// Server and lifecycle

const httpServer = serve(route, opts.port);

onShutdown(() => {
  for (const s of [...streams]) {
    close(s);
    s.res.end();
  }
  httpServer.close(() => process.exit(0));
  httpServer.closeAllConnections();
});
