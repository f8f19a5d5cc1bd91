// The plain-WebSocket test server (tests/servers/ws/server.mjs, endpoints in
// tests/servers/ws/README.md), checked in plain Node with no browser: servers run as child
// processes on port 0 and are spoken to with the `ws` package's client (and raw TCP for bad
// frames), so the browser tests of the plain-WebSocket mode can trust what the server does
// (envelope events, acks both ways, verbatim echo, rooms, faults).

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { WAIT_MS, exitCode, launch as launchCommand, post, sleep, stop } from "./node-servers.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SERVER = path.resolve(HERE, "../servers/ws/server.mjs");
const TEST_MS = 15_000;
const QUIET_MS = 150; // how long "nothing arrives" is watched

// A sleep that does not keep the test process alive, for races against a deadline.
const deadline = (ms, value) => new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());

// ---------------------------------------------------------------------------------------------
// Servers, each a child process stopped by PID in `after`.

const launch = (args = ["--port", "0"]) => launchCommand(process.execPath, [SERVER, ...args]);

let shared;
// The server the tests that change no global state share.
const server = () => (shared ??= launch());

// ---------------------------------------------------------------------------------------------
// HTTP

async function get(base, route, init = {}) {
  const res = await fetch(base + route, { ...init, signal: AbortSignal.timeout(WAIT_MS) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const getJson = async (base, route) => {
  const r = await get(base, route);
  assert.equal(r.status, 200, r.text);
  return JSON.parse(r.text);
};

// Polls until `fn()` resolves to something truthy; returns it.
async function until(fn, what, ms = WAIT_MS) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

// ---------------------------------------------------------------------------------------------
// WebSocket clients

// Every socket a test opened, terminated after it.
const sockets = new Set();
afterEach(() => {
  for (const s of sockets) s.ws.terminate();
  sockets.clear();
});

const wsUrl = (base, route) => base.replace(/^http/, "ws") + route;

// Opens `route`: resolves with a client once open, or with { status, body } when the upgrade is
// answered with an HTTP error. `c.frames` fills with { kind: "text"|"binary", data (a string or
// an array of bytes), at }; `c.closed` resolves with { code, reason } when the socket closes.
function attempt(base, route = "/ws", { protocols, headers } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(base, route), protocols, { headers, handshakeTimeout: WAIT_MS });
    const c = {
      ws,
      frames: [],
      pongs: [],
      pings: [],
      send: (data) => ws.send(typeof data === "string" || Buffer.isBuffer(data) ? data : JSON.stringify(data)),
      // The parsed JSON of the text frames (null for text that is not JSON).
      json: () => c.frames.filter((f) => f.kind === "text").map((f) => {
        try {
          return JSON.parse(f.data);
        } catch {
          return null;
        }
      }),
      // Resolves with the first frame (there or to come) for which pred is true.
      async next(pred, what = "a frame", ms = WAIT_MS) {
        const end = Date.now() + ms;
        for (;;) {
          const hit = c.frames.find(pred);
          if (hit) return hit;
          if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(c.frames)}`);
          await sleep(5);
        }
      },
      // Sends `data` and resolves with the next frame received after it.
      async ask(data, what) {
        const n = c.frames.length;
        c.send(data);
        await c.next((f) => c.frames.indexOf(f) >= n, what ?? `an answer to ${JSON.stringify(data)}`);
        return c.frames[n];
      },
    };
    sockets.add(c);
    c.closed = new Promise((res) => ws.on("close", (code, reason) => res({ code, reason: reason.toString() })));
    ws.on("message", (data, isBinary) => {
      c.frames.push({ kind: isBinary ? "binary" : "text", data: isBinary ? [...data] : data.toString(), at: Date.now() });
    });
    ws.on("ping", () => c.pings.push(Date.now()));
    ws.on("pong", (p) => c.pongs.push(p.toString()));
    ws.on("open", () => resolve(c));
    ws.on("unexpected-response", (req, res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode, headers: res.headers, body });
      });
    });
    ws.on("error", reject);
  });
}

async function connect(base, route = "/ws", options) {
  const c = await attempt(base, route, options);
  assert.ok(c.ws, `upgrade refused: ${c.status} ${c.body}`);
  return c;
}

// The entry of /control/clients for a socket opened with a unique query parameter `tag`.
async function entry(base, tag) {
  const list = await getJson(base, "/control/clients");
  return list.find((c) => c.query.tag === tag);
}

let serial = 0;
const unique = (p = "t") => `${p}-${process.pid}-${++serial}`;

const closedWithin = (c, ms = WAIT_MS) =>
  Promise.race([c.closed, deadline(ms, { code: `still open after ${ms} ms` })]);

// ---------------------------------------------------------------------------------------------
// Raw WebSocket over TCP, for frames the ws client will not send.

function rawSocket(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const key = randomBytes(16).toString("base64");
    let buf = Buffer.alloc(0);
    const r = { sock, data: () => buf, ended: new Promise((res) => sock.on("close", res)) };
    sock.on("error", () => {});
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      if (!r.head && end >= 0) {
        r.head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
        if (!r.head.startsWith("HTTP/1.1 101") || !r.head.includes(accept)) reject(new Error(r.head));
        else resolve(r);
      }
    });
    sock.on("connect", () => {
      sock.write(
        `GET /ws HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n` +
          `sec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\n\r\n`,
      );
    });
    setTimeout(() => reject(new Error("no handshake")), WAIT_MS).unref();
  });
}

// A masked client frame (payload under 126 bytes).
function frame(opcode, payload, fin = true) {
  const mask = randomBytes(4);
  const masked = Buffer.from(payload).map((b, i) => b ^ mask[i % 4]);
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | payload.length]), mask, masked]);
}

// The close code in the server's close frame at the start of `buf` (unmasked), or null.
function closeCodeOf(buf) {
  if (buf.length < 4 || (buf[0] & 0x0f) !== 0x8) return null;
  return buf.readUInt16BE(2);
}

// ---------------------------------------------------------------------------------------------

describe("WebSocket test server", () => {
  it("accepts sockets on /ws only, records rooms, query, subprotocol and origin, forgets closed ones", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const tag = unique();
    const c = await connect(url, `/ws?room=a&room=b&room=a&room=&tag=${tag}&meta=%7B%22n%22%3A1%7D&__proto__=p`, {
      protocols: ["p1", "p2"],
      headers: { origin: "http://localhost:5" },
    });
    assert.equal(c.ws.protocol, "p1");
    const e = await entry(url, tag);
    assert.deepEqual(e.rooms, ["a", "b"]);
    assert.deepEqual(e.query, JSON.parse(`{"room":["a","b","a",""],"tag":"${tag}","meta":"{\\"n\\":1}","__proto__":"p"}`));
    assert.equal(e.protocol, "p1");
    assert.equal(e.origin, "http://localhost:5");
    assert.equal(e.received, 0);
    assert.equal(e.stalled, false);
    assert.ok(Number.isInteger(e.id) && Math.abs(e.openedAt - Date.now()) < WAIT_MS);
    // Nothing is sent at connect, and no ping frames without --ping-interval.
    await sleep(QUIET_MS);
    assert.deepEqual(c.frames, []);
    assert.deepEqual(c.pings, []);
    // Too many rooms: the first 100 distinct are kept.
    const many = unique();
    const rooms = Array.from({ length: 120 }, (_, i) => `room=r${i}`).join("&");
    await connect(url, `/ws?${rooms}&room=${"x".repeat(300)}&tag=${many}`);
    assert.equal((await entry(url, many)).rooms.length, 100);

    c.ws.close();
    assert.equal((await c.closed).code, 1005);
    await until(async () => !(await entry(url, tag)), "the closed socket to leave /control/clients");

    // Other paths are refused, and /ws over plain HTTP asks for an upgrade.
    const other = await attempt(url, "/nowhere");
    assert.equal(other.status, 404);
    assert.equal(typeof JSON.parse(other.body).error, "string");
    assert.equal((await get(url, "/ws")).status, 426);
  });

  it("answers envelope events: echo, ping, emit-back, raw, raw-binary", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const c = await connect(url);
    const args = [1, "é😀", { a: [null, true] }, [], "x\ny"];
    const echoed = await c.ask(["echo", ...args]);
    assert.deepEqual([echoed.kind, JSON.parse(echoed.data)], ["text", ["echo", ...args]]);
    assert.deepEqual(JSON.parse((await c.ask(["echo"])).data), ["echo"]);
    assert.equal((await c.ask(["ping"])).data, '["pong"]');
    assert.equal((await c.ask(["ping", 1, 2])).data, '["pong"]');
    assert.deepEqual(JSON.parse((await c.ask(["emit-back", "news", { id: 1 }, 2])).data), ["news", { id: 1 }, 2]);
    assert.deepEqual(JSON.parse((await c.ask(["emit-back", "alone"])).data), ["alone"]);
    // raw: the text itself, in a text frame, whether or not it is JSON.
    for (const text of ["not json at all", '["looks","like","an","event"]', "", "é😀\n"]) {
      const f = await c.ask(["raw", text]);
      assert.deepEqual([f.kind, f.data], ["text", text]);
    }
    const b = await c.ask(["raw-binary", [0, 1, 127, 128, 255]]);
    assert.deepEqual([b.kind, b.data], ["binary", [0, 1, 127, 128, 255]]);
    const empty = await c.ask(["raw-binary", []]);
    assert.deepEqual([empty.kind, empty.data], ["binary", []]);
  });

  it("answers events with bad arguments with an error event, and records other events only", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const c = await connect(url);
    const bad = [
      ["emit-back"],
      ["emit-back", 5],
      ["raw"],
      ["raw", { not: "text" }],
      ["raw-binary", "abc"],
      ["raw-binary", [1, 256]],
      ["raw-binary", [1.5]],
      ["raw-binary", [-1]],
      ["ask"],
      ["ask", null],
      ["broadcast", 1],
      ["close", 1005],
      ["close", 2000],
      ["close", 1000, "x".repeat(124)],
      ["close", 1000, 7],
    ];
    for (const frame of bad) {
      const f = await c.ask(frame);
      const msg = JSON.parse(f.data);
      assert.equal(msg[0], "error", JSON.stringify(frame));
      assert.equal(typeof msg[1], "string");
    }
    // Unknown events (and the envelope's `pong`, `answer`...) get nothing back.
    const n = c.frames.length;
    for (const frame of [["hello"], ["chat", { text: "hi" }], [""], ["pong"], ["answer", 1], ["rtio:to", "a", "x"]]) c.send(frame);
    c.send(["ping"]); // a marker: its pong comes after any answer to the above
    await c.next((f) => c.frames.indexOf(f) >= n);
    await sleep(QUIET_MS);
    assert.deepEqual(c.frames.slice(n).map((f) => f.data), ['["pong"]']);
    assert.equal(c.ws.readyState, WebSocket.OPEN);
  });

  it("acks the client's asks: add, echo, slow (late), never (not at all), others { ok: true }", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const c = await connect(url);
    const ack = async (frame) => JSON.parse((await c.ask(frame)).data);
    assert.deepEqual(await ack([0, "add", 1, 2, 3.5]), { ack: 0, args: [6.5] });
    assert.deepEqual(await ack([1, "add", 1, "2", null, { n: 3 }, -4]), { ack: 1, args: [-3] });
    assert.deepEqual(await ack([2, "add"]), { ack: 2, args: [0] });
    assert.deepEqual(await ack([3, "echo", "a", { b: [1] }, null]), { ack: 3, args: ["a", { b: [1] }, null] });
    assert.deepEqual(await ack([4, "echo"]), { ack: 4, args: [] });
    assert.deepEqual(await ack([9007199254740991, "anything", 1]), { ack: 9007199254740991, args: [{ ok: true }] });
    assert.deepEqual(await ack([5, "ping"]), { ack: 5, args: [{ ok: true }] });

    // slow: in the order of their delays, each after it; never: not at all.
    const t = Date.now();
    const n = c.frames.length;
    c.send([10, "slow", 400, "late"]);
    c.send([11, "never", 1]);
    c.send([12, "slow", 0, "soon"]);
    c.send([13, "slow", "not a number"]);
    await c.next((f) => JSON.parse(f.data).ack === 10, "the slow ack");
    await sleep(QUIET_MS);
    const got = c.frames.slice(n).map((f) => ({ ...JSON.parse(f.data), ms: f.at - t }));
    assert.deepEqual(got.map(({ ms, ...a }) => a), [
      { ack: 12, args: [0, "soon"] },
      { ack: 13, args: ["not a number"] },
      { ack: 10, args: [400, "late"] },
    ]);
    // The order above shows the quick acks did not wait for the slow one; the slow one waited.
    assert.ok(got[2].ms >= 390, `the slow ack came after ${got[2].ms} ms`);
    // A socket closed with a slow ack pending does not trouble the server.
    const d = await connect(url);
    d.send([1, "slow", 200]);
    d.ws.close();
    await d.closed;
    await sleep(300);
    assert.deepEqual(await ack([6, "add", 1]), { ack: 6, args: [1] });
  });

  it("asks the client for acks and answers the ack with an answer event", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const c = await connect(url);
    const q1 = JSON.parse((await c.ask(["ask", "confirm", "sure?", { id: 1 }])).data);
    const q2 = JSON.parse((await c.ask(["ask", "bare"])).data);
    assert.equal(q1.length, 4);
    assert.ok(Number.isSafeInteger(q1[0]) && q1[0] >= 0);
    assert.deepEqual(q1.slice(1), ["confirm", "sure?", { id: 1 }]);
    assert.ok(Number.isSafeInteger(q2[0]) && q2[0] !== q1[0], "a new n per ask");
    assert.deepEqual(q2.slice(1), ["bare"]);
    // Answered out of order; each ack answered once.
    assert.deepEqual(JSON.parse((await c.ask({ ack: q2[0], args: [] })).data), ["answer"]);
    assert.deepEqual(JSON.parse((await c.ask({ ack: q1[0], args: ["yes", { n: 2 }] })).data), ["answer", "yes", { n: 2 }]);
    // A second ack of the same n, an ack never asked for and one with extra keys: recorded only.
    const n = c.frames.length;
    c.send({ ack: q1[0], args: ["again"] });
    c.send({ ack: 999999, args: ["unasked"] });
    c.send(["ping"]);
    await c.next((f) => c.frames.indexOf(f) >= n);
    await sleep(QUIET_MS);
    assert.deepEqual(c.frames.slice(n).map((f) => f.data), ['["pong"]']);
    // Another socket cannot answer this one's asks.
    const q3 = JSON.parse((await c.ask(["ask", "mine"])).data);
    const other = await connect(url);
    other.send({ ack: q3[0], args: ["not yours"] });
    other.send(["ping"]);
    await other.next(() => true);
    await sleep(QUIET_MS);
    assert.deepEqual(other.frames.map((f) => f.data), ['["pong"]']);
    assert.deepEqual(JSON.parse((await c.ask({ ack: q3[0], args: [1] })).data), ["answer", 1]);
    // At most 1,000 asks wait per socket: the oldest is forgotten.
    const many = [];
    for (let i = 0; i < 1001; i++) c.send(["ask", "bulk", i]);
    await c.next(() => c.frames.filter((f) => f.data.includes('"bulk"')).length === 1001, "1001 asks");
    for (const f of c.frames.filter((f) => f.data.includes('"bulk"'))) many.push(JSON.parse(f.data)[0]);
    const m = c.frames.length;
    c.send({ ack: many[0], args: ["forgotten"] });
    c.send({ ack: many[1], args: ["kept"] });
    c.send({ ack: many[1000], args: ["last"] });
    await c.next(() => c.frames.length >= m + 2, "two answers");
    await sleep(QUIET_MS);
    assert.deepEqual(c.frames.slice(m).map((f) => f.data), ['["answer","kept"]', '["answer","last"]']);
  });

  it("echoes non-JSON text, JSON that is no envelope, and binary frames verbatim, as the same kind", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const c = await connect(url);
    const texts = [
      "hello",
      "",
      "é😀 \u0000 \n",
      "{not json",
      "[]",
      "[1]",
      '[-1, "e"]',
      '[1.5, "e"]',
      '[1, 2, "e"]',
      '{"x": 1}',
      '{"ack": 1}',
      '{"ack": -1, "args": []}',
      '{"ack": 1, "args": "no"}',
      '"just a string"',
      "42",
      "null",
      "true",
      "  ",
      "x".repeat(100_000),
    ];
    for (const text of texts) {
      const f = await c.ask(text, `the echo of ${JSON.stringify(text.slice(0, 40))}`);
      assert.equal(f.kind, "text");
      assert.equal(f.data, text);
    }
    // Binary, including bytes that spell an envelope: echoed as binary, never parsed.
    for (const bytes of [[1, 2, 3], [], [...Buffer.from('["ping"]')], [...randomBytes(70_000)]]) {
      const f = await c.ask(Buffer.from(bytes));
      assert.equal(f.kind, "binary");
      assert.deepEqual(f.data, bytes);
    }
  });

  it("closes the socket on the close event, with its code and reason", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const a = await connect(url);
    a.send(["close"]);
    assert.deepEqual(await closedWithin(a), { code: 1000, reason: "" });
    const b = await connect(url);
    b.send(["close", 4001, "bye now"]);
    assert.deepEqual(await closedWithin(b), { code: 4001, reason: "bye now" });
    const c = await connect(url);
    c.send(["close", 1011]);
    assert.deepEqual(await closedWithin(c), { code: 1011, reason: "" });
    assert.deepEqual(a.frames, []);
  });

  it("broadcasts to the other sockets of the sender's rooms, or to all others when it has none", { timeout: TEST_MS }, async () => {
    const { url } = await launch();
    const [r1, r2, r3] = [unique("r"), unique("r"), unique("r")];
    const a = await connect(url, `/ws?room=${r1}`);
    const b = await connect(url, `/ws?room=${r1}&room=${r2}`);
    const c = await connect(url, `/ws?room=${r2}`);
    const d = await connect(url, `/ws?room=${r3}`);
    const none = await connect(url, "/ws");
    const all = [a, b, c, d, none];
    // Sends `frame` from `from`, then pings every socket: all that came before its pong is what
    // the broadcast delivered.
    const deliveries = async (from, frame) => {
      const marks = all.map((s) => s.frames.length);
      from.send(frame);
      await sleep(50);
      for (const s of all) s.send(["ping"]);
      const got = [];
      for (const [i, s] of all.entries()) {
        await s.next((f) => s.frames.indexOf(f) >= marks[i] && f.data === '["pong"]', "the pong");
        got.push(s.frames.slice(marks[i]).map((f) => f.data).filter((x) => x !== '["pong"]'));
      }
      return got;
    };
    const msg = '["chat",{"text":"hi"},2]';
    assert.deepEqual(await deliveries(a, ["broadcast", "chat", { text: "hi" }, 2]), [[], [msg], [], [], []]);
    assert.deepEqual(await deliveries(b, ["broadcast", "chat", { text: "hi" }, 2]), [[msg], [], [msg], [], []]);
    assert.deepEqual(await deliveries(none, ["broadcast", "solo"]), [['["solo"]'], ['["solo"]'], ['["solo"]'], ['["solo"]'], []]);
    assert.deepEqual(await deliveries(d, ["broadcast", "alone"]), [[], [], [], [], []]);
  });

  it("records every frame received, per socket, in GET /control/received and /control/clients", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const [ta, tb] = [unique(), unique()];
    const a = await connect(url, `/ws?tag=${ta}`);
    const b = await connect(url, `/ws?tag=${tb}`);
    const ida = (await entry(url, ta)).id;
    const idb = (await entry(url, tb)).id;
    for (const s of ["plain", '["echo",1]', '[3,"never"]', '["custom",{"k":"v"}]', Buffer.from([0, 255, 7])]) a.send(s);
    b.send('["note"]');
    await until(async () => (await entry(url, ta)).received === 5, "a's frames to be recorded");
    await until(async () => (await entry(url, tb)).received === 1, "b's frame to be recorded");
    const mine = await getJson(url, `/control/received?client=${ida}`);
    assert.deepEqual(mine.map(({ at, ...r }) => r), [
      { client: ida, kind: "text", data: "plain" },
      { client: ida, kind: "text", data: '["echo",1]' },
      { client: ida, kind: "text", data: '[3,"never"]' },
      { client: ida, kind: "text", data: '["custom",{"k":"v"}]' },
      { client: ida, kind: "binary", data: [0, 255, 7] },
    ]);
    for (const r of mine) assert.ok(Math.abs(r.at - Date.now()) < TEST_MS);
    assert.equal((await entry(url, ta)).received, 5);
    const everyone = await getJson(url, "/control/received");
    assert.ok(everyone.some((r) => r.client === idb && r.data === '["note"]'));
    assert.equal(everyone.filter((r) => r.client === ida).length, 5);
    // Closed sockets' frames stay; an unknown id has none; a bad one is refused.
    a.ws.close();
    await a.closed;
    assert.equal((await getJson(url, `/control/received?client=${ida}`)).length, 5);
    assert.deepEqual(await getJson(url, "/control/received?client=99999999"), []);
    assert.equal((await get(url, "/control/received?client=x")).status, 400);
  });

  it("keeps the last 10,000 frames received", { timeout: TEST_MS }, async () => {
    const { url, child } = await launch();
    const c = await connect(url);
    const N = 10_050;
    for (let i = 0; i < N; i++) c.send(`["n",${i}]`);
    c.send(["ping"]);
    await c.next((f) => f.data === '["pong"]', "the pong after all frames");
    const all = await getJson(url, "/control/received");
    assert.equal(all.length, 10_000);
    assert.equal(all[0].data, `["n",${N + 1 - 10_000}]`);
    assert.equal(all.at(-1).data, '["ping"]');
    assert.equal((await getJson(url, "/control/clients"))[0].received, N + 1);
    assert.equal(await stop(child), 0);
  });

  it("stall: the sockets open now get nothing (no reply, ack, send, ping or pong) and what was due is dropped", { timeout: TEST_MS }, async () => {
    const PING = 100;
    const STALL = 1000;
    const { url } = await launch(["--port", "0", "--ping-interval", String(PING)]);
    const tag = unique();
    const c = await connect(url, `/ws?tag=${tag}`);
    const peer = await connect(url);
    await until(() => c.pings.length >= 1, "a first ping frame");
    c.ws.ping("before");
    await until(() => c.pongs.includes("before"), "the pong to the client's ping");
    const q = JSON.parse((await c.ask(["ask", "q"])).data);
    c.send([1, "slow", 300, "due during the stall"]);

    const r = await post(url, "/control/stall", { ms: STALL });
    const t0 = Date.now();
    assert.deepEqual(r.body, { stalled: 2, ms: STALL });
    assert.equal((await entry(url, tag)).stalled, true);
    const n = c.frames.length;
    const pings = c.pings.length;
    c.send(["ping"]);
    c.send(["echo", 1]);
    c.send([2, "add", 1, 2]);
    c.send({ ack: q[0], args: ["late"] });
    c.send("not json");
    c.send(Buffer.from([1]));
    c.send(["close", 4000]);
    c.send(["broadcast", "x"]);
    c.ws.ping("during");
    // A socket opened during the stall is not stalled, and the stalled ones get nothing it sends.
    const late = await connect(url);
    assert.equal((await late.ask(["ping"])).data, '["pong"]');
    late.send(["broadcast", "from-late"]);
    assert.deepEqual((await post(url, "/control/send", { data: "sent" })).body, { delivered: 1 });
    await late.next((f) => f.data === "sent");
    assert.ok(Date.now() - t0 < STALL - 200, "the new socket was served during the stall");
    // Its frames are read and recorded meanwhile.
    await until(async () => (await entry(url, tag)).received >= 10, "the stalled socket's frames to be recorded");

    await sleep(STALL + 3 * PING - (Date.now() - t0));
    assert.deepEqual(c.frames.slice(n), [], "nothing written during the stall, and nothing held for after");
    assert.deepEqual(peer.frames, [], "not even the broadcast of the socket opened during the stall");
    assert.ok(!c.pongs.includes("during"), "no pong to a ping sent during the stall");
    const during = c.pings.filter((at) => at > t0 + 50 && at < t0 + STALL - 50);
    assert.deepEqual(during, [], "no ping frame during the stall");
    assert.ok(c.pings.slice(pings).some((at) => at >= t0 + STALL), "ping frames resume after the stall");
    assert.ok(late.pings.some((at) => at > t0 + 50 && at < t0 + STALL - 50), "the new socket had its pings");
    assert.equal(c.ws.readyState, WebSocket.OPEN, "the close event was not acted upon");
    // After the stall: served again; the ack sent during the stall was not acted upon, so the
    // ask is still open.
    assert.equal((await entry(url, tag)).stalled, false);
    assert.equal((await c.ask(["ping"])).data, '["pong"]');
    assert.equal((await c.ask({ ack: q[0], args: ["now"] })).data, '["answer","now"]');
    c.ws.ping("after");
    await until(() => c.pongs.includes("after"), "the pong after the stall");

    assert.equal((await post(url, "/control/stall", { ms: 0 })).status, 400);
    assert.equal((await post(url, "/control/stall", { ms: 600_001 })).status, 400);
    assert.equal((await post(url, "/control/stall", {})).status, 400);
  });

  it("stall: a client that closes its stalled socket is let go; drop cuts stalled sockets", { timeout: TEST_MS }, async () => {
    const { url } = await launch();
    const a = await connect(url);
    const b = await connect(url);
    await post(url, "/control/stall", { ms: 5000 });
    a.ws.close(4002, "giving up");
    assert.equal((await closedWithin(a)).code, 4002);
    assert.deepEqual((await post(url, "/control/close", {})).body, { closed: 0 }, "control/close writes no close frame to a stalled socket");
    assert.deepEqual((await post(url, "/control/drop", {})).body, { dropped: 1 });
    assert.equal((await closedWithin(b)).code, 1006);
  });

  it("drop terminates every socket without a close frame; new sockets work", { timeout: TEST_MS }, async () => {
    const { url } = await launch();
    const a = await connect(url, "/ws?room=x");
    const b = await connect(url);
    const r = await post(url, "/control/drop", {});
    assert.deepEqual([r.status, r.body], [200, { dropped: 2 }]);
    assert.deepEqual(await closedWithin(a), { code: 1006, reason: "" });
    assert.deepEqual(await closedWithin(b), { code: 1006, reason: "" });
    await until(async () => (await getJson(url, "/control/clients")).length === 0, "no clients");
    const c = await connect(url);
    assert.equal((await c.ask(["ping"])).data, '["pong"]');
    assert.deepEqual((await post(url, "/control/drop")).body, { dropped: 1 });
  });

  it("control/close closes every socket with a close frame, its code and reason", { timeout: TEST_MS }, async () => {
    const { url } = await launch();
    const a = await connect(url);
    const b = await connect(url);
    assert.deepEqual((await post(url, "/control/close", { code: 4321, reason: "maintenance" })).body, { closed: 2 });
    assert.deepEqual(await closedWithin(a), { code: 4321, reason: "maintenance" });
    assert.deepEqual(await closedWithin(b), { code: 4321, reason: "maintenance" });
    const c = await connect(url);
    assert.deepEqual((await post(url, "/control/close", "")).body, { closed: 1 });
    assert.deepEqual(await closedWithin(c), { code: 1000, reason: "" });
    for (const body of [{ code: 1006 }, { code: 999 }, { code: 5000 }, { code: "1000" }, { reason: "x".repeat(124) }, { reason: 1 }]) {
      assert.equal((await post(url, "/control/close", body)).status, 400, JSON.stringify(body));
    }
  });

  it("control/send writes raw text and binary frames to every socket", { timeout: TEST_MS }, async () => {
    const { url } = await launch();
    const a = await connect(url);
    const b = await connect(url, "/ws?room=r");
    const text = '["news",{"id":1}]';
    assert.deepEqual((await post(url, "/control/send", { data: text })).body, { delivered: 2 });
    assert.deepEqual((await post(url, "/control/send", { data: "not json" })).body, { delivered: 2 });
    assert.deepEqual((await post(url, "/control/send", { data: [1, 2, 255], binary: true })).body, { delivered: 2 });
    assert.deepEqual((await post(url, "/control/send", { data: [], binary: true })).body, { delivered: 2 });
    for (const s of [a, b]) {
      await s.next(() => s.frames.length >= 4, "four frames");
      assert.deepEqual(s.frames.map(({ kind, data }) => ({ kind, data })), [
        { kind: "text", data: text },
        { kind: "text", data: "not json" },
        { kind: "binary", data: [1, 2, 255] },
        { kind: "binary", data: [] },
      ]);
    }
    for (const body of [{}, { data: 5 }, { data: [1, 2] }, { data: "abc", binary: true }, { data: [256], binary: true }, { data: [0.5], binary: true }]) {
      assert.equal((await post(url, "/control/send", body)).status, 400, JSON.stringify(body));
    }
  });

  it("control/reject answers the next N upgrades with the status, then upgrades again", { timeout: TEST_MS }, async () => {
    const { url } = await launch();
    assert.deepEqual((await post(url, "/control/reject", {})).body, { status: 503, count: 1 });
    const first = await attempt(url);
    assert.equal(first.status, 503);
    assert.equal(typeof JSON.parse(first.body).error, "string");
    await connect(url);
    assert.deepEqual((await post(url, "/control/reject", { status: 401, count: 2 })).body, { status: 401, count: 2 });
    assert.deepEqual([(await attempt(url)).status, (await attempt(url)).status], [401, 401]);
    await connect(url);
    // Only upgrades to /ws count; count 0 cancels.
    await post(url, "/control/reject", { status: 500, count: 1 });
    assert.equal((await attempt(url, "/elsewhere")).status, 404);
    assert.equal((await attempt(url)).status, 500);
    await post(url, "/control/reject", { status: 500, count: 3 });
    await post(url, "/control/reject", { count: 0 });
    await connect(url);
    for (const body of [{ status: 200 }, { status: 600 }, { count: -1 }, { count: 1001 }, { status: "503" }]) {
      assert.equal((await post(url, "/control/reject", body)).status, 400, JSON.stringify(body));
    }
  });

  it("refuses upgrades beyond 1,000 open sockets", { timeout: TEST_MS }, async () => {
    const { url } = await launch();
    const open = [];
    for (let i = 0; i < 1000; i += 100) {
      open.push(...(await Promise.all(Array.from({ length: 100 }, () => connect(url)))));
    }
    assert.equal((await getJson(url, "/control/clients")).length, 1000);
    assert.equal((await attempt(url)).status, 503);
    open[0].ws.close();
    await open[0].closed;
    await until(async () => (await getJson(url, "/control/clients")).length === 999, "a free slot");
    await connect(url);
  });

  it("closes a socket on a frame over 1 MiB, invalid UTF-8 or a protocol error; keeps serving", { timeout: TEST_MS }, async () => {
    const { url, port, child } = await server();
    const big = await connect(url);
    big.send("x".repeat(1024 * 1024 + 1));
    assert.equal((await closedWithin(big)).code, 1009);
    const ok = await connect(url);
    assert.equal((await ok.ask("y".repeat(1024 * 1024))).data.length, 1024 * 1024, "1 MiB exactly is fine");

    const utf8 = await rawSocket(port);
    utf8.sock.write(frame(0x1, Buffer.from([0x61, 0xff, 0xfe])));
    await Promise.race([utf8.ended, deadline(WAIT_MS)]);
    assert.equal(closeCodeOf(utf8.data()), 1007);

    const reserved = await rawSocket(port);
    reserved.sock.write(frame(0x3, Buffer.from("?")));
    await Promise.race([reserved.ended, deadline(WAIT_MS)]);
    assert.equal(closeCodeOf(reserved.data()), 1002);

    // A frame cut in the middle by a vanishing client.
    const cut = await rawSocket(port);
    cut.sock.write(frame(0x1, Buffer.from('["echo","partial"]')).subarray(0, 8));
    cut.sock.destroy();

    // A fragmented text message is one frame to the server.
    const frag = await rawSocket(port);
    frag.sock.write(Buffer.concat([frame(0x1, Buffer.from('["echo",'), false), frame(0x0, Buffer.from('"joined"]'))]));
    await until(() => frag.data().includes('["echo","joined"]'), "the echo of a fragmented message");
    frag.sock.destroy();

    assert.equal(child.exitCode, null);
    assert.equal((await ok.ask(["ping"])).data, '["pong"]');
  });

  it("cuts a socket that does not read once it owes more than 8 MB", { timeout: TEST_MS }, async () => {
    const { url, port } = await launch();
    const slow = await rawSocket(port);
    slow.sock.pause();
    const reader = await connect(url);
    const chunk = "z".repeat(1000 * 1000);
    let sends = 0;
    // The kernel's buffers take some first; then the server's own queue grows past 8 MB.
    while ((await getJson(url, "/control/clients")).length === 2) {
      assert.ok(++sends <= 200, "still open after 200 MB");
      assert.equal((await post(url, "/control/send", { data: chunk })).status, 200);
    }
    assert.ok(sends >= 8, `cut after ${sends} MB`);
    // Read again: what was in flight, then the end of the connection.
    slow.sock.resume();
    assert.equal(await Promise.race([slow.ended.then(() => "ended"), deadline(WAIT_MS, "open")]), "ended");
    // The socket that reads got everything and stays.
    await reader.next(() => reader.frames.length === sends, `${sends} frames`);
    assert.equal(reader.ws.readyState, WebSocket.OPEN);
  });

  it("refuses malformed HTTP input with 4xx and keeps serving; CORS on answers", { timeout: TEST_MS }, async () => {
    const { url, port, child } = await server();
    for (const route of ["/control/stall", "/control/close", "/control/send", "/control/reject", "/control/drop"]) {
      const r = await post(url, route, "{not json");
      assert.equal(r.status, 400, route);
      assert.equal(typeof r.body.error, "string");
      assert.equal((await post(url, route, "[1]")).status, 400, route);
      assert.equal((await post(url, route, "null")).status, 400, route);
    }
    assert.equal((await post(url, "/control/send", { data: "x".repeat(1024 * 1024 + 1) })).status, 413);
    assert.equal((await get(url, "/control/stall")).status, 405);
    assert.equal((await post(url, "/control/clients", {})).status, 405);
    assert.equal((await post(url, "/control/nothing", {})).status, 404);
    assert.equal((await get(url, "/nowhere")).status, 404);
    assert.equal((await get(url, "/")).status, 404);

    // CORS: on answers, and preflights.
    const r = await post(url, "/control/reject", { count: 0 }, { origin: "http://localhost:1" });
    assert.equal(r.headers.get("access-control-allow-origin"), "http://localhost:1");
    assert.equal(r.headers.get("access-control-allow-credentials"), "true");
    const pre = await fetch(url + "/control/send", {
      method: "OPTIONS",
      headers: { origin: "http://localhost:2", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "http://localhost:2");
    assert.match(pre.headers.get("access-control-allow-methods"), /POST/);
    assert.ok(pre.headers.get("access-control-allow-headers").toLowerCase().split(/,\s*/).includes("content-type"));
    assert.equal((await get(url, "/control/clients", { headers: { origin: "http://x" } })).headers.get("access-control-allow-origin"), "http://x");

    // Garbage on a raw socket, a bad upgrade, and a body cut short.
    const talk = (text, end = false) =>
      new Promise((resolve) => {
        const sock = net.connect(port, "127.0.0.1", () => (end ? sock.end(text) : sock.write(text)));
        let got = "";
        sock.on("data", (d) => (got += d));
        sock.on("close", () => resolve(got));
        sock.on("error", () => resolve(got));
        sock.setTimeout(WAIT_MS, () => sock.destroy());
      });
    assert.match(await talk("NOT HTTP AT ALL\r\n\r\n"), /^HTTP\/1\.1 400/);
    assert.match(await talk("GET /ws HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n"), /^HTTP\/1\.1 400/);
    await new Promise((resolve) => {
      const sock = net.connect(port, "127.0.0.1", () => {
        sock.write("POST /control/send HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"data\":");
        setTimeout(() => sock.destroy(), 50);
      });
      sock.on("close", resolve);
      sock.on("error", () => {});
    });
    assert.equal(child.exitCode, null);
    const c = await connect(url);
    assert.equal((await c.ask(["ping"])).data, '["pong"]');
  });

  it("serves /tests/pages/ and /pkg/ as static files, nothing outside them", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const page = await get(url, "/tests/pages/blank.html", { headers: { origin: "http://localhost:3" } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type"), /^text\/html/);
    assert.equal(page.text, readFileSync(path.resolve(HERE, "../pages/blank.html"), "utf8"));
    assert.equal(page.headers.get("access-control-allow-origin"), "http://localhost:3");
    const head = await fetch(url + "/tests/pages/blank.html", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get("content-length")), Buffer.byteLength(page.text));
    for (const route of [
      "/tests/pages/",
      "/tests/pages/missing.html",
      "/tests/pages/..%2F..%2Fpackage.json",
      "/tests/pages/%2e%2e/js/ws-server.test.mjs",
      "/tests/pages/%E0%A4%A",
      "/pkg/",
      "/pkg/..%2FCargo.toml",
      "/pkg/no-such-file.js",
      "/tests/servers/ws/server.mjs",
    ]) {
      assert.equal((await get(url, route)).status, 404, route);
    }
    assert.equal((await fetch(url + "/tests/pages/blank.html", { method: "POST" })).status, 405);
    // /pkg/ is the built package (not in the repository): served when it has been built.
    const pkgJson = path.resolve(HERE, "../../pkg/package.json");
    if (existsSync(pkgJson)) {
      const pkg = await get(url, "/pkg/package.json");
      assert.equal(pkg.status, 200);
      assert.match(pkg.headers.get("content-type"), /^application\/json/);
      assert.equal(pkg.text, readFileSync(pkgJson, "utf8"));
    }
  });

  it("exits with 0 on SIGTERM and SIGINT with sockets open (they get 1001); refuses bad options", { timeout: TEST_MS }, async () => {
    for (const signal of ["SIGTERM", "SIGINT"]) {
      const srv = await launch();
      const a = await connect(srv.url);
      const b = await connect(srv.url);
      await post(srv.url, "/control/stall", { ms: 10_000 });
      const c = await connect(srv.url);
      const t = Date.now();
      assert.equal(await stop(srv.child, signal), 0);
      assert.ok(Date.now() - t < 2500, `stopped in ${Date.now() - t} ms`);
      assert.equal((await closedWithin(c)).code, 1001);
      assert.equal((await closedWithin(a)).code, 1006, "a stalled socket is cut");
      await closedWithin(b);
      assert.deepEqual(srv.stdout().split("\n").filter(Boolean).length, 1, "one line on stdout");
    }
    for (const args of [["--port", "x"], ["--port", "70000"], ["--port"], ["--ping-interval", "-1"], ["--nope"], ["extra"]]) {
      const code = await exitCode(process.execPath, [SERVER, ...args]);
      assert.equal(code, 2, args.join(" "));
    }
  });
});
