// The SSE (`/sse`) and plain-WebSocket (`/ws`) endpoints of the Rust test server
// (examples/server, `rtio-server`), checked in plain Node with no browser: their rooms and
// presence bridged with the Socket.IO clients of the same server (MODES.md, "Rooms and presence
// over SSE and WebSocket"), emit acks, Last-Event-ID resume (also across a restart with
// --sse-log), heartbeats and the --test-controls (tests/servers/PROTOCOL.md, "SSE and
// WebSocket endpoints of the Rust server"). Event streams are read with http.get and the small
// text/event-stream reader below, WebSockets with the `ws` package, Socket.IO with
// socket.io-client speaking the rtio: events by hand.
//
// RTIO_RUST_SERVER_BIN names the binary (default: target/debug/rtio-server of this repository).

import { afterEach, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { io as connectClient } from "socket.io-client";
import { WAIT_MS, launch as launchCommand, sleep, stop } from "./node-servers.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.RTIO_RUST_SERVER_BIN ?? path.resolve(HERE, "../../target/debug/rtio-server");
const TEST_MS = 15_000;
const PING_MS = 300;
// How long to listen for something that must not arrive, after a round trip that would have
// brought it.
const QUIET_MS = 250;

// Polls `fn` until it returns something truthy; resolves with it.
async function until(fn, what, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = fn();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

// ---------------------------------------------------------------------------------------------
// Servers, each a child process stopped by PID in `after`.

// Its clients are plain Node, with no page to give them a session cookie: --no-sessions
// (origin.test.mjs tests them).
const launch = (args) => launchCommand(BIN, [...args, "--no-sessions"], " (build it: cargo build -p rtio-example-server)");

let shared;
// The server most tests share: test controls on, a fast SSE heartbeat.
const server = async () => (await (shared ??= launch(["--port", "0", "--test-controls", "--sse-ping", String(PING_MS)]))).url;

// ---------------------------------------------------------------------------------------------
// Clients; whatever a test opened is closed after it.

const open = new Set();
afterEach(() => {
  for (const c of open) c.close();
  open.clear();
});

let serial = 0;
// A room name of the test's own, so tests sharing a server never meet.
const roomName = (prefix = "room") => `${prefix}:${process.pid}-${Date.now().toString(36)}-${++serial}`;
const q = (params) => {
  const u = new URLSearchParams();
  for (const [k, v] of params) u.append(k, typeof v === "string" ? v : JSON.stringify(v));
  return `?${u}`;
};

function request(base, method, route, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const req = http.request(base + route, { method, headers: { "content-type": "application/json", ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        let json = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          json = text;
        }
        resolve({ status: res.statusCode, headers: res.headers, body: json });
      });
    });
    req.setTimeout(WAIT_MS, () => req.destroy(new Error(`${method} ${route}: no answer in ${WAIT_MS} ms`)));
    req.on("error", reject);
    req.end(data);
  });
}
const post = (base, route, body) => request(base, "POST", route, body);
const get = (base, route) => request(base, "GET", route);

async function publish(base, msg) {
  const r = await post(base, "/sse/publish", msg);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.id;
}

// Opens GET /sse`query` and reads it as text/event-stream. `s.items` fills with the dispatched
// events { id (the block's id field, or null), event, data (text), at }. `s.ended` resolves with
// "end" when the server ended the body cleanly, "aborted" when the connection was cut first.
// A status other than 200 resolves with `s.status` and `s.body` (JSON) and no stream.
function openSse(base, query = "", headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/sse${query}`, { headers }, (res) => {
      const s = {
        status: res.statusCode,
        headers: res.headers,
        items: [],
        close: () => req.destroy(),
        events: (name) => s.items.filter((i) => name === undefined || i.event === name),
        // The events other than pings.
        got: () => s.items.filter((i) => i.event !== "ping"),
        next: (pred, what = "an event", ms = WAIT_MS) =>
          until(() => s.items.find(pred), `${what}; got ${JSON.stringify(s.items.map((i) => [i.id, i.event, i.data]))}`, ms),
      };
      open.add(s);
      res.on("error", () => {});
      res.setEncoding("utf8");
      if (res.statusCode !== 200) {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => {
          s.body = text ? JSON.parse(text) : null;
          resolve(s);
        });
        return;
      }
      s.ended = new Promise((done) => res.on("close", () => done(res.complete ? "end" : "aborted")));
      let buf = "";
      let block = { id: null, event: null, data: [] };
      const line = (l) => {
        if (l === "") {
          if (block.data.length) {
            s.items.push({ id: block.id, event: block.event ?? "message", data: block.data.join("\n"), at: Date.now() });
          }
          block = { id: null, event: null, data: [] };
          return;
        }
        if (l.startsWith(":")) return;
        const colon = l.indexOf(":");
        const field = colon < 0 ? l : l.slice(0, colon);
        const value = colon < 0 ? "" : l.slice(colon + 1).replace(/^ /, "");
        if (field === "data") block.data.push(value);
        else if (field === "event") block.event = value;
        else if (field === "id") block.id = value;
      };
      res.on("data", (chunk) => {
        buf += chunk;
        for (;;) {
          const m = /\r\n|\r|\n/.exec(buf);
          if (!m || (m[0] === "\r" && m.index === buf.length - 1)) break;
          line(buf.slice(0, m.index));
          buf = buf.slice(m.index + m[0].length);
        }
      });
      resolve(s);
    });
    req.on("error", reject);
  });
}

// The JSON data of an SSE event, with its id as a number (or null).
const parsed = (e) => ({ id: e.id === null ? null : Number(e.id), event: e.event, data: JSON.parse(e.data) });

// An SSE stream in `rooms`, read up to its rtio:members events; `s.id` is its id.
async function sseMember(base, rooms, meta, extra = []) {
  const params = [...rooms.map((r) => ["room", r]), ...(meta === undefined ? [] : [["meta", JSON.stringify(meta)]]), ...extra];
  const s = await openSse(base, q(params));
  assert.equal(s.status, 200, JSON.stringify(s.body));
  const hello = await s.next((e) => e.event === "rtio:hello", "rtio:hello");
  s.id = JSON.parse(hello.data).id;
  await until(() => s.events("rtio:members").length === rooms.length, "rtio:members");
  return s;
}

// A WebSocket to /ws`query`. `w.got` fills with the frames received (parsed JSON, or the text),
// `w.closed` resolves with { code, reason }.
function openWs(base, query = "") {
  const w = new WebSocket(`${base.replace(/^http/, "ws")}/ws${query}`);
  open.add(w);
  w.got = [];
  w.on("message", (data, binary) => {
    const text = data.toString();
    try {
      w.got.push(binary ? text : JSON.parse(text));
    } catch {
      w.got.push(text);
    }
  });
  w.on("error", () => {});
  w.closed = new Promise((resolve) => w.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  w.put = (frame) => w.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  w.next = (pred, what = "a frame", ms = WAIT_MS) => until(() => w.got.find(pred), `${what}; got ${JSON.stringify(w.got)}`, ms);
  return w;
}

// A WebSocket member of `rooms`, read up to its rtio:members frames; `w.id` is its id.
async function wsMember(base, rooms, meta) {
  const params = [...rooms.map((r) => ["room", r]), ...(meta === undefined ? [] : [["meta", JSON.stringify(meta)]])];
  const w = openWs(base, q(params));
  const hello = await w.next((f) => Array.isArray(f) && f[0] === "rtio:hello", "rtio:hello");
  w.id = hello[1].id;
  await until(() => w.got.filter((f) => f[0] === "rtio:members").length === rooms.length, "rtio:members");
  return w;
}

// A connected socket.io-client on `/` recording every event in `c.got` ([event, ...args]).
async function sio(base) {
  const c = connectClient(base, { forceNew: true, reconnection: false, transports: ["websocket"], timeout: WAIT_MS });
  open.add(c);
  c.got = [];
  c.onAny((...args) => c.got.push(args));
  await new Promise((resolve, reject) => {
    c.once("connect", resolve);
    c.once("connect_error", (err) => reject(new Error(`connect_error: ${err.message}`)));
  });
  // socketioxide 0.18.9 sends CONNECT before it runs the connect handler that registers the
  // event handlers, so an event sent at once can, rarely (on a loaded machine), find no handler
  // and be dropped. A harmless rtio:leave answered shows the rtio: handlers are there.
  for (let i = 0; ; i++) {
    try {
      await c.timeout(300).emitWithAck("rtio:leave", "probe");
      break;
    } catch (err) {
      if (i === 9) throw err;
    }
  }
  c.next = (event, pred = () => true, ms = WAIT_MS) =>
    until(() => c.got.find(([e, ...args]) => e === event && pred(...args))?.slice(1), `${event}; got ${JSON.stringify(c.got)}`, ms);
  return c;
}
const call = (c, ...args) => c.timeout(WAIT_MS).emitWithAck(...args);

const byId = (members) => [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
const test = (name, body) => it(name, { timeout: TEST_MS }, body);

// ---------------------------------------------------------------------------------------------

test("GET /sse: rtio:hello with the stream's id, then rtio:members per room, this stream included", async () => {
  const base = await server();
  const [r1, r2] = [roomName(), roomName()];
  const meta = { name: "Ada", tags: ["x", 1] };
  const s = await openSse(base, q([["room", r1], ["room", r2], ["room", r1], ["meta", meta]]));
  assert.equal(s.status, 200);
  assert.match(s.headers["content-type"], /^text\/event-stream/);
  assert.equal(s.headers["cache-control"], "no-cache");
  await until(() => s.got().length >= 3, "three events");
  const [hello, m1, m2] = s.got();
  assert.equal(hello.event, "rtio:hello");
  assert.equal(hello.id, null);
  const { id } = JSON.parse(hello.data);
  assert.match(id, /^sse-/);
  // Never the form of a Socket.IO id (16 characters of A-Z a-z 0-9 _ -).
  assert.doesNotMatch(id, /^[A-Za-z0-9_-]{16}$/);
  assert.deepEqual(parsed(m1), { id: null, event: "rtio:members", data: [r1, [{ id, meta }]] });
  assert.deepEqual(parsed(m2), { id: null, event: "rtio:members", data: [r2, [{ id, meta }]] });
  // No meta: null. A second stream's id differs.
  const other = await sseMember(base, [r1]);
  assert.notEqual(other.id, id);
  assert.deepEqual(byId(JSON.parse(other.events("rtio:members")[0].data)[1]), byId([{ id, meta }, { id: other.id, meta: null }]));
});

test("presence across SSE, WebSocket and Socket.IO: join acks and member lists include every side, joins and leaves reach every side", async () => {
  const base = await server();
  const room = roomName();
  const a = await sio(base);
  assert.deepEqual(await call(a, "rtio:join", room, { via: "sio" }), { ok: true, members: [{ id: a.id, meta: { via: "sio" } }] });

  const s = await sseMember(base, [room], { via: "sse" });
  assert.deepEqual(
    byId(JSON.parse(s.events("rtio:members")[0].data)[1]),
    byId([{ id: a.id, meta: { via: "sio" } }, { id: s.id, meta: { via: "sse" } }]),
  );
  assert.deepEqual(await a.next("rtio:presence"), [room, { joined: { id: s.id, meta: { via: "sse" } } }]);

  const w = await wsMember(base, [room], { via: "ws" });
  const wsMembers = w.got.find((f) => f[0] === "rtio:members");
  assert.equal(wsMembers[1], room);
  assert.deepEqual(
    byId(wsMembers[2]),
    byId([{ id: a.id, meta: { via: "sio" } }, { id: s.id, meta: { via: "sse" } }, { id: w.id, meta: { via: "ws" } }]),
  );
  const joinedW = { joined: { id: w.id, meta: { via: "ws" } } };
  await a.next("rtio:presence", (r, change) => change.joined?.id === w.id);
  const sJoinedW = await s.next((e) => e.event === "rtio:presence" && e.data.includes(w.id), "presence of the WebSocket");
  assert.ok(Number(sJoinedW.id) > 0, "presence events have an id");
  assert.deepEqual(parsed(sJoinedW).data, [room, joinedW]);

  // A second Socket.IO member: its ack lists all four; the bridged members get its join.
  const b = await sio(base);
  const ack = await call(b, "rtio:join", room, "bob");
  assert.equal(ack.ok, true);
  assert.deepEqual(
    byId(ack.members),
    byId([
      { id: a.id, meta: { via: "sio" } },
      { id: s.id, meta: { via: "sse" } },
      { id: w.id, meta: { via: "ws" } },
      { id: b.id, meta: "bob" },
    ]),
  );
  const joinedB = [room, { joined: { id: b.id, meta: "bob" } }];
  assert.deepEqual(parsed(await s.next((e) => e.event === "rtio:presence" && e.data.includes(b.id), "b joined")).data, joinedB);
  assert.deepEqual(await w.next((f) => f[0] === "rtio:presence" && f[2].joined?.id === b.id, "b joined"), ["rtio:presence", ...joinedB]);

  // Socket.IO leave and bridged disconnects.
  assert.deepEqual(await call(b, "rtio:leave", room), { ok: true });
  await s.next((e) => e.event === "rtio:presence" && parsed(e).data[1].left === b.id, "b left (SSE)");
  await w.next((f) => f[0] === "rtio:presence" && f[2].left === b.id, "b left (WS)");
  w.close();
  await a.next("rtio:presence", (r, change) => change.left === w.id);
  await s.next((e) => e.event === "rtio:presence" && parsed(e).data[1].left === w.id, "w left (SSE)");
  s.close();
  await a.next("rtio:presence", (r, change) => change.left === s.id);

  // Nobody is told about itself.
  assert.equal(s.events("rtio:presence").filter((e) => e.data.includes(`"${s.id}"`)).length, 0);
  assert.equal(w.got.filter((f) => f[0] === "rtio:presence" && JSON.stringify(f).includes(`"${w.id}"`)).length, 0);
  // A later Socket.IO join no longer lists them.
  const c = await sio(base);
  assert.deepEqual(byId((await call(c, "rtio:join", room)).members).map((m) => m.id), byId([{ id: a.id }, { id: c.id }]).map((m) => m.id));
});

test("rtio:room is relayed in every direction: Socket.IO, WebSocket and SSE POST; only from members, never back to the sender", async () => {
  const base = await server();
  const room = roomName();
  const a = await sio(base);
  await call(a, "rtio:join", room, null);
  const s = await sseMember(base, [room]);
  const w = await wsMember(base, [room]);

  a.emit("rtio:to", room, "cursor", { x: 1 }, "more");
  const fromA = await s.next((e) => e.event === "rtio:room", "rtio:room from Socket.IO");
  assert.deepEqual(parsed(fromA).data, [room, "cursor", a.id, { x: 1 }, "more"]);
  assert.ok(Number(fromA.id) > 0);
  assert.deepEqual(await w.next((f) => f[0] === "rtio:room", "rtio:room from Socket.IO"), ["rtio:room", room, "cursor", a.id, { x: 1 }, "more"]);

  w.put(["rtio:to", room, "cursor", { x: 2 }]);
  assert.deepEqual(await a.next("rtio:room", (r, ev, from) => from === w.id), [room, "cursor", w.id, { x: 2 }]);
  const fromW = await s.next((e) => e.event === "rtio:room" && e.data.includes(w.id), "rtio:room from the WebSocket");
  assert.deepEqual(parsed(fromW).data, [room, "cursor", w.id, { x: 2 }]);

  const r = await post(base, "/sse", { event: "cursor", args: [{ x: 3 }], room, id: s.id });
  assert.deepEqual([r.status, r.body], [200, { ok: true }]);
  assert.deepEqual(await a.next("rtio:room", (rm, ev, from) => from === s.id), [room, "cursor", s.id, { x: 3 }]);
  assert.deepEqual(await w.next((f) => f[0] === "rtio:room" && f[3] === s.id, "rtio:room from SSE"), ["rtio:room", room, "cursor", s.id, { x: 3 }]);

  // Not from non-members: an unknown id, a room the sender is not in; and a sender never gets its own.
  assert.deepEqual((await post(base, "/sse", { event: "cursor", args: [4], room, id: "sse-nobody.1" })).body, { ok: true });
  assert.deepEqual((await post(base, "/sse", { event: "cursor", args: [5], room: roomName(), id: s.id })).body, { ok: true });
  w.put(["rtio:to", roomName(), "cursor", 6]);
  w.put(["ping"]);
  await w.next((f) => f[0] === "pong", "pong");
  await call(a, "echo", "settle");
  await sleep(QUIET_MS);
  assert.equal(a.got.filter(([e]) => e === "rtio:room").length, 2);
  assert.equal(w.got.filter((f) => f[0] === "rtio:room").length, 2);
  assert.equal(s.events("rtio:room").length, 2);
  assert.equal(w.got.filter((f) => f[0] === "rtio:room" && f[3] === w.id).length, 0);
  assert.equal(s.events("rtio:room").filter((e) => e.data.includes(s.id)).length, 0);
});

test("POST /sse answers the ack: echo, fail (500), anything else ok; a malformed body 400, over 1 MB 413", async () => {
  const base = await server();
  let r = await post(base, "/sse", { event: "echo", args: [1, "a", { b: [null] }] });
  assert.deepEqual([r.status, r.body], [200, [1, "a", { b: [null] }]]);
  assert.match(r.headers["content-type"], /application\/json/);
  r = await post(base, "/sse", { event: "fail", args: ["boom"] });
  assert.deepEqual([r.status, r.body], [500, { error: "boom" }]);
  r = await post(base, "/sse", { event: "fail", args: [] });
  assert.deepEqual([r.status, r.body], [500, { error: "fail requested" }]);
  r = await post(base, "/sse", { event: "vote", args: [7] });
  assert.deepEqual([r.status, r.body], [200, { ok: true }]);
  r = await post(base, "/sse", { event: "vote" });
  assert.deepEqual([r.status, r.body], [200, { ok: true }]);
  for (const bad of ["nope", "[1]", "", JSON.stringify({ args: [] }), JSON.stringify({ event: 1 }), JSON.stringify({ event: "x", args: {} }), JSON.stringify({ event: "x", room: 5 })]) {
    r = await post(base, "/sse", bad);
    assert.equal(r.status, 400, bad);
    assert.equal(typeof r.body.error, "string", bad);
  }
  r = await post(base, "/sse", { event: "echo", args: ["x".repeat(1_100_000)] });
  assert.equal(r.status, 413);
});

test("resume: logged events after Last-Event-ID (header) or lastEventId (query) in the stream's rooms or no room, in order; the header wins", async () => {
  const base = await server();
  const [room, other] = [roomName(), roomName()];
  const id1 = await publish(base, { event: "t1", data: 1, room });
  const id2 = await publish(base, { event: "t2", data: { two: 2 }, room });
  await publish(base, { event: "t3", data: 3, room: other });
  const id4 = await publish(base, { event: "t4", data: "line one\nline two", raw: true });
  const published = (s) => s.got().filter((e) => /^t\d$/.test(e.event));

  const byHeader = await sseMember(base, [room], undefined);
  byHeader.close();
  const h = await openSse(base, q([["room", room]]), { "Last-Event-ID": String(id1) });
  await until(() => published(h).length >= 2, "the replay");
  assert.deepEqual(
    published(h).map((e) => [Number(e.id), e.event, e.data]),
    [
      [id2, "t2", '{"two":2}'],
      [id4, "t4", "line one\nline two"],
    ],
  );
  // Replay comes after hello and members, before live events.
  assert.deepEqual(h.got().slice(0, 2).map((e) => e.event), ["rtio:hello", "rtio:members"]);
  const id5 = await publish(base, { event: "t5", data: 5, room });
  await until(() => published(h).length === 3, "the live event");
  assert.equal(Number(published(h)[2].id), id5);
  assert.ok(id5 > id4 && id4 > id2 && id2 > id1);

  const byQuery = await openSse(base, q([["room", room], ["lastEventId", String(id1)]]));
  await until(() => published(byQuery).length >= 3, "the replay");
  assert.deepEqual(published(byQuery).map((e) => Number(e.id)), [id2, id4, id5]);

  const both = await openSse(base, q([["room", room], ["lastEventId", String(id1)]]), { "Last-Event-ID": String(id4) });
  await until(() => published(both).length >= 1, "the replay");
  assert.deepEqual(published(both).map((e) => Number(e.id)), [id5]);

  // An id beyond the last replays nothing; a bad header falls back to the query.
  const beyond = await openSse(base, q([["room", room], ["lastEventId", "99999999"]]));
  const bad = await openSse(base, q([["room", room], ["lastEventId", String(id4)]]), { "Last-Event-ID": "x" });
  await until(() => published(bad).length >= 1, "the replay");
  assert.deepEqual(published(bad).map((e) => Number(e.id)), [id5]);
  await until(() => beyond.events("rtio:members").length === 1, "members");

  const clients = (await get(base, "/sse/control/clients")).body;
  const lastIds = (s) => clients.find((c) => c.id === JSON.parse(s.events("rtio:hello")[0].data).id);
  assert.deepEqual(lastIds(h), { id: lastIds(h).id, rooms: [room], lastEventId: id1 });
  assert.equal(lastIds(byQuery).lastEventId, id1);
  assert.equal(lastIds(both).lastEventId, id4);
  assert.equal(lastIds(beyond).lastEventId, 99999999);
  await sleep(QUIET_MS);
  assert.deepEqual(published(beyond), []);
});

test("--sse-log: ids continue and resume works across a restart, nothing lost or repeated", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rtio-modes-"));
  try {
    const log = path.join(dir, "sse.jsonl");
    const args = ["--test-controls", "--sse-log", log];
    let srv = await launch(["--port", "0", ...args]);
    const room = roomName();
    const s = await sseMember(srv.url, [room]);
    const id1 = await publish(srv.url, { event: "p1", data: 1, room });
    await s.next((e) => e.event === "p1", "p1");
    s.close();
    const id2 = await publish(srv.url, { event: "p2", data: 2, room });
    const id3 = await publish(srv.url, { event: "p3", data: "raw\ntext", room, raw: true });
    await stop(srv.child, "SIGKILL");

    srv = await launch(["--port", String(srv.port), ...args]);
    const id4 = await publish(srv.url, { event: "p4", data: 4, room });
    assert.ok(id4 > id3, `ids continue: ${id4} after ${id3}`);
    const back = await openSse(srv.url, q([["room", room]]), { "Last-Event-ID": String(id1) });
    const published = () => back.got().filter((e) => /^p\d$/.test(e.event));
    await until(() => published().length >= 3, "the replay");
    await sleep(QUIET_MS);
    assert.deepEqual(
      published().map((e) => [Number(e.id), e.event, e.data]),
      [
        [id2, "p2", "2"],
        [id3, "p3", "raw\ntext"],
        [id4, "p4", "4"],
      ],
    );
    const ids = back.got().filter((e) => e.id !== null).map((e) => Number(e.id));
    assert.deepEqual(ids, [...new Set(ids)].sort((x, y) => x - y), "increasing, no repeats");
    await stop(srv.child);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("heartbeat: the event ping, data {}, no id, every --sse-ping ms", async () => {
  const base = await server();
  const s = await sseMember(base, [roomName()]);
  const t0 = Date.now();
  await until(() => s.events("ping").length >= 2, "two pings", PING_MS * 6);
  const pings = s.events("ping");
  for (const p of pings) assert.deepEqual([p.id, p.data], [null, "{}"]);
  assert.ok(pings[1].at - t0 >= PING_MS, "not faster than the period");
});

test("controls: fail answers the next GET /sse with a status and {error}; bad values 400", async () => {
  const base = await server();
  let r = await post(base, "/sse/control/fail", { count: 2 });
  assert.deepEqual(r.body, { status: 503, count: 2 });
  for (let i = 0; i < 2; i++) {
    const s = await openSse(base);
    assert.equal(s.status, 503);
    assert.equal(typeof s.body.error, "string");
  }
  const ok = await openSse(base);
  assert.equal(ok.status, 200);
  r = await post(base, "/sse/control/fail", { status: 418 });
  assert.deepEqual(r.body, { status: 418, count: 1 });
  assert.equal((await openSse(base)).status, 418);
  assert.equal((await openSse(base)).status, 200);
  for (const bad of [{ status: 200 }, { status: 600 }, { count: -1 }, { count: 1001 }, "nope"]) {
    assert.equal((await post(base, "/sse/control/fail", bad)).status, 400, JSON.stringify(bad));
  }
  r = await post(base, "/sse/control/fail", { count: 0 });
  assert.deepEqual(r.body, { status: 503, count: 0 });
  assert.equal((await openSse(base)).status, 200);
});

test("controls: stall holds the streams open now (pings included) and writes their events after; streams opened meanwhile are not stalled", async () => {
  const base = await server();
  const room = roomName();
  const held = await sseMember(base, [room]);
  // Long enough that the setup below (a stream, two publishes) ends well within it on a loaded
  // machine: what is checked "during the stall" must be.
  const STALL = 3000;
  const r = await post(base, "/sse/control/stall", { ms: STALL });
  assert.equal(r.body.ms, STALL);
  assert.ok(r.body.stalled >= 1);
  const t0 = Date.now();
  const id = await publish(base, { event: "during", data: 1, room });
  const fresh = await sseMember(base, [room]);
  const id2 = await publish(base, { event: "during2", data: 2, room });
  await fresh.next((e) => e.event === "during2", "a live event on the fresh stream");
  const before = held.items.length;
  await sleep(STALL - (Date.now() - t0) - 150);
  assert.ok(Date.now() - t0 < STALL - 50, `the setup took ${Date.now() - t0} ms of the ${STALL} ms stall`);
  assert.equal(held.items.length, before, "nothing written during the stall");
  assert.equal(held.items.filter((i) => i.at > t0).length, 0);
  const got = await held.next((e) => e.event === "during2", "the held events", STALL + WAIT_MS);
  assert.ok(got.at - t0 >= STALL - 50, `written after the stall (${got.at - t0} ms)`);
  const ids = held.got().filter((e) => e.id !== null).map((e) => Number(e.id));
  assert.ok(ids.includes(id) && ids.indexOf(id) < ids.indexOf(id2), "held events in order");
  for (const bad of [{}, { ms: 0 }, { ms: 600_001 }]) {
    assert.equal((await post(base, "/sse/control/stall", bad)).status, 400);
  }
});

test("controls: drop cuts every SSE stream abruptly, and the others in its rooms see it leave", async () => {
  const base = await server();
  const room = roomName();
  const a = await sio(base);
  await call(a, "rtio:join", room);
  const s = await sseMember(base, [room]);
  assert.ok((await get(base, "/sse/control/clients")).body.some((c) => c.id === s.id));
  const r = await post(base, "/sse/control/drop");
  assert.ok(r.body.dropped >= 1);
  assert.equal(await s.ended, "aborted");
  await a.next("rtio:presence", (rm, change) => change.left === s.id);
  assert.ok(!(await get(base, "/sse/control/clients")).body.some((c) => c.id === s.id));
});

test("WebSocket: ping answered pong, acks for echo, fail and other events, other frames ignored", async () => {
  const base = await server();
  const w = await wsMember(base, []);
  assert.deepEqual(w.got, [["rtio:hello", { id: w.id }]]);
  assert.match(w.id, /^ws-/);
  w.put(["ping"]);
  w.put([1, "echo", 1, "a", { b: [true] }]);
  w.put([2, "fail", "x"]);
  w.put([3, "vote", 7]);
  w.put("not json");
  w.put({ ack: 9 });
  w.put([-1, "echo"]);
  w.put(["chat", "hi"]);
  w.send(Buffer.from([1, 2, 3]));
  w.put([4, "echo"]);
  await w.next((f) => f.ack === 4, "the last ack");
  assert.deepEqual(w.got.slice(1), [
    ["pong"],
    { ack: 1, args: [1, "a", { b: [true] }] },
    { ack: 2, args: [{ ok: false, error: "fail requested" }] },
    { ack: 3, args: [{ ok: true }] },
    { ack: 4, args: [] },
  ]);
});

test("WebSocket controls: stall is a blackhole (pings unanswered) for the connections open now; drop cuts them with no close frame", async () => {
  const base = await server();
  const room = roomName();
  const w = await wsMember(base, [room]);
  const STALL = 700;
  const r = await post(base, "/ws/control/stall", { ms: STALL });
  assert.ok(r.body.stalled >= 1);
  const t0 = Date.now();
  w.put(["ping"]);
  const fresh = await wsMember(base, [room]);
  fresh.put(["ping"]);
  await fresh.next((f) => f[0] === "pong", "the fresh connection's pong");
  await sleep(STALL - (Date.now() - t0) - 150);
  assert.equal(w.got.filter((f) => f[0] === "pong").length, 0, "no pong during the stall");
  await w.next((f) => f[0] === "pong", "the pong after the stall", STALL + WAIT_MS);
  assert.ok(Date.now() - t0 >= STALL - 50);
  // What it was sent meanwhile (fresh's join) is delivered after.
  await w.next((f) => f[0] === "rtio:presence" && f[2].joined?.id === fresh.id, "fresh's join");

  const dropped = await post(base, "/ws/control/drop");
  assert.ok(dropped.body.dropped >= 2);
  assert.equal((await w.closed).code, 1006);
  assert.equal((await fresh.closed).code, 1006);
});

test("refused rooms and meta: GET /sse answers 400 {error}, /ws closes with 1008 and the reason", async () => {
  const base = await server();
  const a = await sio(base);
  const cases = [
    [[["room", "rtio:x"]], "invalid room"],
    [[["room", ""]], "invalid room"],
    [[["room", '["rtio:meta"]']], "invalid room"],
    [[["room", "r".repeat(129)]], "invalid room"],
    [[["room", a.id]], "invalid room"],
    [[["room", `locked:${roomName()}`]], "not allowed"],
    [[["room", roomName()], ["meta", JSON.stringify("x".repeat(1023))]], "meta too large"],
    [[["room", roomName()], ["meta", "{nope"]], "invalid meta"],
    [Array.from({ length: 17 }, (_, i) => ["room", `r${i}-${roomName()}`]), "too many rooms"],
  ];
  for (const [params, error] of cases) {
    const query = `?${params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")}`;
    const what = query.length > 100 ? `${query.slice(0, 100)}…` : query;
    const s = await openSse(base, query);
    assert.deepEqual([s.status, s.body], [400, { error }], what);
    const w = openWs(base, query);
    assert.deepEqual(await w.closed, { code: 1008, reason: error }, what);
  }
  // At the limit is fine; and the server still serves.
  const meta = "x".repeat(1022);
  const s = await sseMember(base, [roomName()], meta);
  assert.deepEqual(JSON.parse(s.events("rtio:members")[0].data)[1][0].meta, meta);
});

test("without --test-controls the controls do not exist (404, or 405 from the static files for a POST)", async () => {
  const srv = await launch(["--port", "0"]);
  for (const [method, route] of [
    ["POST", "/sse/publish"],
    ["POST", "/sse/control/fail"],
    ["POST", "/sse/control/stall"],
    ["POST", "/sse/control/drop"],
    ["GET", "/sse/control/clients"],
    ["POST", "/ws/control/stall"],
    ["POST", "/ws/control/drop"],
  ]) {
    const r = await request(srv.url, method, route, method === "POST" ? { event: "x", ms: 10 } : undefined);
    assert.ok(r.status === 404 || (method === "POST" && r.status === 405), `${method} ${route}: ${r.status}`);
  }
  const s = await sseMember(srv.url, [roomName()]);
  assert.equal(s.status, 200);
  s.close();
  await stop(srv.child);
});

test("bridged clients have the rooms' limits: a full room refuses them, their messages are rate limited and size limited", async () => {
  // ROOMS.md "Limits", on a server of the test's own with small ones.
  const srv = await launch(["--port", "0", "--relay-limit", "5/10", "--max-members", "2", "--max-relay-bytes", "256"]);
  const base = srv.url;
  const room = roomName();
  const s = await sseMember(base, [room]);
  const w = await wsMember(base, [room]);
  // The room is full: a third member is refused, over SSE (409) and over WebSocket (1008).
  const third = await openSse(base, q([["room", room]]));
  assert.deepEqual([third.status, third.body], [409, { error: "room full" }]);
  const closed = await openWs(base, q([["room", room]])).closed;
  assert.deepEqual(closed, { code: 1008, reason: "room full" });
  const c = await sio(base);
  assert.deepEqual(await call(c, "rtio:join", room, null), { ok: false, error: "room full" });

  // Over SSE: the burst goes out, then "rate limited"; a message over the size is "too large".
  const replies = [];
  for (let i = 0; i < 15; i++) replies.push((await post(base, "/sse", { event: "m", args: [i], room, id: s.id })).body);
  const ok = replies.filter((r) => r.ok === true).length;
  assert.ok(ok >= 10 && ok <= 13, `${ok} relayed of 15`);
  assert.deepEqual(replies.at(-1), { ok: false, error: "rate limited" });
  await sleep(1000); // five tokens back
  const big = await post(base, "/sse", { event: "m", args: ["x".repeat(300)], room, id: s.id });
  assert.deepEqual(big.body, { ok: false, error: "too large" });
  await until(() => w.got.filter((f) => f[0] === "rtio:room").length === ok, `${ok} messages at the WebSocket member`);

  // Over WebSocket: an envelope rtio:to with an ack is told; without one, dropped quietly.
  for (let i = 0; i < 12; i++) w.put(["rtio:to", room, "n", i]);
  w.put([1, "rtio:to", room, "n", "last"]);
  const ack = await w.next((f) => f && f.ack === 1, "the ack");
  assert.deepEqual(ack.args, [{ ok: false, error: "rate limited" }]);
  await sleep(QUIET_MS);
  const got = s.events("rtio:room").map((e) => JSON.parse(e.data)).filter((d) => d[1] === "n");
  assert.ok(got.length >= 10 && got.length <= 12, `${got.length} relayed of 12`);
  s.close();
  await stop(srv.child);
});
