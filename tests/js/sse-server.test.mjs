// The SSE test server (tests/servers/sse/server.mjs, endpoints in tests/servers/sse/README.md),
// checked in plain Node with no browser: servers run as child processes on port 0, event streams
// are read with fetch and the small text/event-stream reader below, so the browser tests of the
// SSE mode can trust what the server sends (ids, rooms, resume, faults, acks).

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, appendFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WAIT_MS, exitCode, launch as launchCommand, post, sleep, stop } from "./node-servers.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SERVER = path.resolve(HERE, "../servers/sse/server.mjs");
const TEST_MS = 15_000;
const PING_MS = 200;

// ---------------------------------------------------------------------------------------------
// Servers, each a child process stopped by PID in `after`.

const launch = (args) => launchCommand(process.execPath, [SERVER, ...args]);

let shared;
// The server most tests share: a fast heartbeat and a retry field.
const server = () => (shared ??= launch(["--port", "0", "--ping-interval", String(PING_MS), "--retry", "1500"]));

// ---------------------------------------------------------------------------------------------
// HTTP and event streams

async function get(base, route) {
  const res = await fetch(base + route, { signal: AbortSignal.timeout(WAIT_MS) });
  return { status: res.status, body: await res.json() };
}

const publish = async (base, msg) => {
  const r = await post(base, "/publish", msg);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.id;
};

// Every stream a test opened, closed after it.
const streams = new Set();
afterEach(() => {
  for (const s of streams) s.close();
  streams.clear();
});

// Opens GET `route` and reads it as text/event-stream. `s.items` fills with what arrives, each
// with its arrival time `at`: { type: "comment", text }, { type: "retry", ms } and dispatched
// events { type: "event", id (the block's own id field, or null), event, data }. `s.ended`
// resolves when the stream ends (by the server, an error or close()).
async function open(base, route = "/events", headers = {}) {
  const ctl = new AbortController();
  const res = await fetch(base + route, { headers, signal: ctl.signal });
  const s = {
    res,
    status: res.status,
    items: [],
    endedBy: null,
    close: () => ctl.abort(),
    events: (name) => s.items.filter((i) => i.type === "event" && (name === undefined || i.event === name)),
    // Resolves with the first item (already there or to come) for which pred is true.
    async next(pred, ms = WAIT_MS, what = "an item") {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = s.items.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(s.items)}`);
        await sleep(5);
      }
    },
    // Resolves once `n` events other than pings arrived; returns them.
    async take(n, ms = WAIT_MS) {
      const deadline = Date.now() + ms;
      for (;;) {
        const got = s.items.filter((i) => i.type === "event" && i.event !== "ping");
        if (got.length >= n) return got;
        if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${n} events; got ${JSON.stringify(got)}`);
        await sleep(5);
      }
    },
  };
  streams.add(s);
  if (res.status !== 200 || !res.body) {
    s.ended = res.text().then(() => "status");
    return s;
  }
  s.ended = read(res.body, s.items).then(
    () => (s.endedBy = "end"),
    (err) => (s.endedBy = ctl.signal.aborted ? "close" : `error: ${err.cause?.code ?? err.message}`),
  );
  return s;
}

// The reader: lines end with CRLF, LF or CR; `field: value` (one space after the colon dropped);
// `:` starts a comment; a blank line dispatches the event if it has data (as EventSource does).
async function read(body, items) {
  const decoder = new TextDecoder();
  let buf = "";
  let block = { id: null, event: null, data: [] };
  const line = (l) => {
    const at = Date.now();
    if (l === "") {
      if (block.data.length) {
        items.push({ type: "event", id: block.id, event: block.event ?? "message", data: block.data.join("\n"), at });
      }
      block = { id: null, event: null, data: [] };
      return;
    }
    if (l.startsWith(":")) return items.push({ type: "comment", text: l.slice(1).replace(/^ /, ""), at });
    const colon = l.indexOf(":");
    const field = colon < 0 ? l : l.slice(0, colon);
    const value = colon < 0 ? "" : l.slice(colon + 1).replace(/^ /, "");
    if (field === "data") block.data.push(value);
    else if (field === "event") block.event = value;
    else if (field === "id") block.id = value;
    else if (field === "retry") items.push({ type: "retry", ms: Number(value), at });
  };
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    for (;;) {
      const m = /\r\n|\r|\n/.exec(buf);
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (!m || (m[0] === "\r" && m.index === buf.length - 1)) break;
      line(buf.slice(0, m.index));
      buf = buf.slice(m.index + m[0].length);
    }
  }
}

const parsed = (e) => ({ id: Number(e.id), event: e.event, data: JSON.parse(e.data) });
let serial = 0;
const unique = (p = "r") => `${p}-${process.pid}-${++serial}`;

// ---------------------------------------------------------------------------------------------

describe("SSE test server", () => {
  it("opens a stream: headers, CORS, the hello comment and the retry field first", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const s = await open(url, "/events", { origin: "http://127.0.0.1:9" });
    assert.equal(s.status, 200);
    assert.match(s.res.headers.get("content-type"), /^text\/event-stream/);
    assert.equal(s.res.headers.get("cache-control"), "no-cache");
    assert.equal(s.res.headers.get("access-control-allow-origin"), "http://127.0.0.1:9");
    assert.equal(s.res.headers.get("access-control-allow-credentials"), "true");
    await s.next((i) => i.type === "retry");
    assert.deepEqual(s.items.slice(0, 2).map(({ at, ...i }) => i), [
      { type: "comment", text: "hello" },
      { type: "retry", ms: 1500 },
    ]);

    const pre = await fetch(url + "/events", {
      method: "OPTIONS",
      headers: { origin: "http://localhost:1", "access-control-request-method": "GET", "access-control-request-headers": "last-event-id" },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "http://localhost:1");
    assert.equal(pre.headers.get("access-control-allow-credentials"), "true");
    const allowed = pre.headers.get("access-control-allow-headers").toLowerCase().split(/,\s*/);
    for (const h of ["last-event-id", "authorization", "content-type"]) assert.ok(allowed.includes(h), h);
    // POST answers carry CORS too (the client reads the ack cross-origin).
    const r = await post(url, "/emit", { event: "x", args: [] }, { origin: "http://localhost:1" });
    assert.equal(r.headers.get("access-control-allow-origin"), "http://localhost:1");
  });

  it("delivers named events with ids, JSON data, raw text and multi-line raw text", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const s = await open(url);
    await s.next((i) => i.type === "comment");
    const sent = [
      { event: "obj", data: { a: 1, b: [true, null, "x\ny"], c: "é😀" } },
      { event: "str", data: "just a JSON string" },
      { event: "none" },
      { event: "raw", data: "plain text, not JSON", raw: true },
      { event: "lines", data: "one\ntwo\r\nthree\rfour", raw: true },
      { event: "blank-lines", data: "\nmiddle\n", raw: true },
    ];
    const ids = [];
    for (const m of sent) ids.push(await publish(url, m));
    for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] + 1, "ids are consecutive integers");
    const got = await s.take(sent.length);
    assert.deepEqual(got.map((e) => [Number(e.id), e.event]), sent.map((m, i) => [ids[i], m.event]));
    assert.deepEqual(JSON.parse(got[0].data), sent[0].data);
    assert.equal(JSON.parse(got[1].data), "just a JSON string");
    assert.equal(got[2].data, "null");
    assert.equal(got[3].data, "plain text, not JSON");
    // Several data: lines, joined by the reader with "\n" (any line break becomes "\n").
    assert.equal(got[4].data, "one\ntwo\nthree\nfour");
    assert.equal(got[5].data, "\nmiddle\n");
  });

  it("sends the heartbeat as a named event without id, and does not log it", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const s = await open(url);
    await sleep(PING_MS * 3 + 100);
    const pings = s.events("ping");
    assert.ok(pings.length >= 2 && pings.length <= 5, `pings in ${PING_MS * 3 + 100} ms: ${pings.length}`);
    for (const p of pings) assert.deepEqual([p.id, p.data], [null, "{}"]);
    const logged = (await get(url, "/control/log")).body;
    assert.ok(logged.every((e) => e.event !== "ping"));
    // A custom name, and none at all with --ping-interval 0.
    const custom = await launch(["--port", "0", "--ping-interval", "50", "--ping-event", "hb"]);
    const none = await launch(["--port", "0", "--ping-interval", "0"]);
    const a = await open(custom.url);
    const b = await open(none.url);
    await a.next((i) => i.event === "hb", WAIT_MS, "hb");
    await sleep(200);
    assert.equal(a.events("ping").length, 0);
    assert.deepEqual(b.events(), []);
    assert.equal(await stop(custom.child), 0);
    assert.equal(await stop(none.child), 0);
  });

  it("sends room events only to streams in that room, unroomed events to all", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const [r1, r2] = [unique(), unique()];
    const a = await open(url, `/events?room=${r1}`);
    const b = await open(url, `/events?room=${r2}`);
    const both = await open(url, `/events?room=${r1}&room=${r2}`);
    const none = await open(url, "/events");
    for (const s of [a, b, both, none]) await s.next((i) => i.type === "comment");
    const tag = unique("t");
    const id1 = await publish(url, { event: "in", room: r1, data: tag });
    const id2 = await publish(url, { event: "in", room: r2, data: tag });
    const id3 = await publish(url, { event: "all", data: tag });
    const ids = async (s, n) => (await s.take(n)).map((e) => Number(e.id));
    assert.deepEqual(await ids(a, 2), [id1, id3]);
    assert.deepEqual(await ids(b, 2), [id2, id3]);
    assert.deepEqual(await ids(both, 3), [id1, id2, id3]);
    assert.deepEqual(await ids(none, 1), [id3]);
    // An emit to a room reaches the streams in it as `emitted` { event, args }.
    const r = await post(url, "/emit", { event: "chat", args: ["hi", { n: 1 }], room: r2 });
    assert.deepEqual(r.body, { ok: true });
    const e = await b.next((i) => i.event === "emitted");
    assert.deepEqual(JSON.parse(e.data), { event: "chat", args: ["hi", { n: 1 }] });
    await both.next((i) => i.event === "emitted");
    await sleep(100);
    assert.equal(a.events("emitted").length, 0);
    assert.equal(none.events("emitted").length, 0);
    assert.deepEqual(await ids(a, 2), [id1, id3]);
  });

  it("resumes from the Last-Event-ID header or the lastEventId query, replaying in order then live", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const room = unique();
    const other = unique();
    const ids = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await publish(url, { event: "n", room: i === 2 ? other : room, data: i }));
    }
    // Header: every logged event after ids[1] in the stream's rooms, then live ones.
    const h = await open(url, `/events?room=${room}`, { "last-event-id": String(ids[1]) });
    const got = await h.take(2);
    assert.deepEqual(got.map(parsed), [3, 4].map((i) => ({ id: ids[i], event: "n", data: i })));
    const live = await publish(url, { event: "n", room, data: 5 });
    assert.deepEqual((await h.take(3)).map((e) => Number(e.id)), [ids[3], ids[4], live]);
    // Query: the same, for clients that reconnect with a new EventSource.
    const q = await open(url, `/events?room=${room}&room=${other}&lastEventId=${ids[0]}`);
    assert.deepEqual((await q.take(5)).map((e) => Number(e.id)), [ids[1], ids[2], ids[3], ids[4], live]);
    // Both: the header wins (EventSource's own reconnect sends the newer id).
    const both = await open(url, `/events?room=${room}&lastEventId=${ids[0]}`, { "last-event-id": String(ids[3]) });
    assert.deepEqual((await both.take(2)).map((e) => Number(e.id)), [ids[4], live]);
    // Not an id: no replay. No id at all: no replay.
    const bad = await open(url, `/events?room=${room}&lastEventId=x`, { "last-event-id": "-1" });
    const fresh = await open(url, `/events?room=${room}`);
    await sleep(150);
    assert.deepEqual(bad.events().filter((e) => e.event !== "ping"), []);
    assert.deepEqual(fresh.events().filter((e) => e.event !== "ping"), []);
    // The clients listing shows each stream's rooms and where its resume id came from.
    const list = (await get(url, "/control/clients")).body.filter((c) => c.rooms.includes(room));
    const by = (pred) => list.find(pred);
    assert.equal(list.length, 5);
    assert.deepEqual(
      (({ rooms, lastEventId, lastEventIdFrom, replayed }) => ({ rooms, lastEventId, lastEventIdFrom, replayed }))(
        by((c) => c.lastEventIdFrom === "query"),
      ),
      { rooms: [room, other], lastEventId: ids[0], lastEventIdFrom: "query", replayed: 5 },
    );
    assert.deepEqual(by((c) => c.lastEventId === ids[3]).lastEventIdQuery, String(ids[0]));
    assert.equal(by((c) => c.lastEventIdHeader === "-1").lastEventId, null);
    assert.equal(list.filter((c) => c.lastEventId === null).length, 2);
  });

  it("lists open streams in GET /control/clients and forgets closed ones", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const room = unique();
    const s = await open(url, `/events?room=${room}&room=b`, { "last-event-id": "0", origin: "http://localhost:5", authorization: "Bearer t" });
    await s.next((i) => i.type === "comment");
    let mine = (await get(url, "/control/clients")).body.filter((c) => c.rooms.includes(room));
    assert.equal(mine.length, 1);
    assert.deepEqual(mine[0].rooms, [room, "b"]);
    assert.equal(mine[0].lastEventId, 0);
    assert.equal(mine[0].lastEventIdFrom, "header");
    assert.equal(mine[0].origin, "http://localhost:5");
    assert.equal(mine[0].authorization, "Bearer t");
    s.close();
    const deadline = Date.now() + WAIT_MS;
    do {
      await sleep(20);
      mine = (await get(url, "/control/clients")).body.filter((c) => c.rooms.includes(room));
    } while (mine.length && Date.now() < deadline);
    assert.deepEqual(mine, []);
  });

  it("answers the next N GET /events with the fail status, then streams again", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    assert.deepEqual((await post(url, "/control/fail", { status: 503, count: 2 })).body, { status: 503, count: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const s = await open(url, "/events", { origin: "http://localhost:1" });
      statuses.push(s.status);
      if (s.status !== 200) {
        assert.equal(s.res.headers.get("access-control-allow-origin"), "http://localhost:1");
        await s.ended;
      }
    }
    assert.deepEqual(statuses, [503, 503, 200]);
    await post(url, "/control/fail", { status: 204 });
    assert.equal((await open(url)).status, 204);
    assert.equal((await open(url)).status, 200);
    // count 0 cancels; a status that is no failure is refused.
    await post(url, "/control/fail", { status: 500, count: 3 });
    await post(url, "/control/fail", { count: 0 });
    assert.equal((await open(url)).status, 200);
    assert.equal((await post(url, "/control/fail", { status: 200 })).status, 400);
    assert.equal((await post(url, "/control/fail", { count: -1 })).status, 400);
  });

  it("drop ends every open stream abruptly; new streams work", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const a = await open(url);
    const b = await open(url, `/events?room=${unique()}`);
    await a.next((i) => i.type === "comment");
    await b.next((i) => i.type === "comment");
    const r = await post(url, "/control/drop", {});
    assert.equal(r.status, 200);
    assert.ok(r.body.dropped >= 2);
    const ended = await Promise.race([Promise.all([a.ended, b.ended]), sleep(WAIT_MS).then(() => "timeout")]);
    assert.notEqual(ended, "timeout");
    // Cut mid-body, not a clean end of the response.
    for (const s of [a, b]) assert.match(s.endedBy, /^error/);
    assert.deepEqual((await get(url, "/control/clients")).body, []);
    const c = await open(url);
    const id = await publish(url, { event: "after-drop", data: 1 });
    assert.equal(Number((await c.next((i) => i.event === "after-drop")).id), id);
  });

  it("stall silences open streams (no ping) for ms, then sends what was held, in order", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const STALL = 1000;
    const s = await open(url);
    await s.next((i) => i.event === "ping", WAIT_MS, "a first ping");
    const r = await post(url, "/control/stall", { ms: STALL });
    const t0 = Date.now();
    assert.equal(r.status, 200);
    assert.ok(r.body.stalled >= 1);
    // A stream opened during the stall is not stalled.
    const late = await open(url);
    const ids = [await publish(url, { event: "held", data: 1 }), await publish(url, { event: "held", data: 2 })];
    assert.equal(Number((await late.next((i) => i.event === "held")).id), ids[0]);
    assert.ok(Date.now() - t0 < STALL - 200, "the new stream got the event during the stall");
    await sleep(STALL + 3 * PING_MS - (Date.now() - t0));
    const during = s.items.filter((i) => i.at > t0 + 50 && i.at < t0 + STALL - 50);
    assert.deepEqual(during, [], "nothing, not even a ping, during the stall");
    const held = s.events("held");
    assert.deepEqual(held.map((e) => Number(e.id)), ids);
    assert.ok(held[0].at >= t0 + STALL - 50, "held events come when the stall ends");
    assert.ok(s.events("ping").some((p) => p.at > t0 + STALL), "pings resume");
    assert.ok(late.events("ping").some((p) => p.at > t0 + 50 && p.at < t0 + STALL - 50), "the new stream had pings");
    assert.equal((await post(url, "/control/stall", { ms: 0 })).status, 400);
  });

  it("emit: echo acks the args, fail answers 500, slow answers late, others { ok: true }; all recorded", { timeout: TEST_MS }, async () => {
    const { url } = await server();
    const tag = unique("emit");
    const echo = await post(url, "/emit", { event: "echo", args: [tag, 1, { a: [null, true] }] });
    assert.equal(echo.status, 200);
    assert.match(echo.headers.get("content-type"), /^application\/json/);
    assert.deepEqual(echo.body, [tag, 1, { a: [null, true] }]);
    assert.deepEqual((await post(url, "/emit", { event: "echo" })).body, []);
    const fail = await post(url, "/emit", { event: "fail", args: [tag] });
    assert.equal(fail.status, 500);
    assert.equal(typeof fail.body.error, "string");
    const t = Date.now();
    const [slow, quick] = await Promise.all([
      post(url, "/emit", { event: "slow", args: [400, tag] }).then((r) => ({ ...r, ms: Date.now() - t })),
      post(url, "/emit", { event: "slow", args: [0, tag] }).then((r) => ({ ...r, ms: Date.now() - t })),
    ]);
    assert.deepEqual([slow.status, slow.body], [200, [400, tag]]);
    assert.ok(slow.ms >= 390, `slow answered after ${slow.ms} ms`);
    assert.ok(quick.ms < slow.ms, `slow 0 answered after ${quick.ms} ms, slow 400 after ${slow.ms} ms`);
    assert.deepEqual((await post(url, "/emit", { event: "other", args: [tag], room: "x" })).body, { ok: true });
    const recorded = (await get(url, "/emitted")).body.filter((e) => e.args.includes(tag));
    assert.deepEqual(recorded.map((e) => [e.event, e.room]), [
      ["echo", null], ["fail", null], ["slow", null], ["slow", null], ["other", "x"],
    ]);
    assert.deepEqual(recorded[0].args, [tag, 1, { a: [null, true] }]);
  });

  it("refuses malformed input with 4xx and keeps serving", { timeout: TEST_MS }, async () => {
    const { url, child } = await server();
    for (const route of ["/publish", "/emit", "/control/fail", "/control/stall"]) {
      const r = await post(url, route, "{not json");
      assert.equal(r.status, 400, route);
      assert.equal(typeof r.body.error, "string");
    }
    const bad = [
      ["/publish", []],
      ["/publish", "null"],
      ["/publish", {}],
      ["/publish", { event: "" }],
      ["/publish", { event: "a\nb" }],
      ["/publish", { event: "x".repeat(300) }],
      ["/publish", { event: "e", room: 5 }],
      ["/publish", { event: "e", room: "a\r" }],
      ["/publish", { event: "e", raw: true, data: { no: "string" } }],
      ["/emit", { args: [] }],
      ["/emit", { event: "echo", args: "not an array" }],
      ["/emit", { event: "echo", args: [], room: "" }],
    ];
    for (const [route, body] of bad) {
      assert.equal((await post(url, route, body)).status, 400, `${route} ${JSON.stringify(body)}`);
    }
    // Bodies over 1 MB.
    const big = await post(url, "/publish", { event: "big", data: "x".repeat(1024 * 1024 + 1) });
    assert.equal(big.status, 413);
    // Wrong methods and paths.
    assert.equal((await fetch(url + "/publish")).status, 405);
    assert.equal((await fetch(url + "/events", { method: "POST", body: "{}" })).status, 405);
    assert.equal((await fetch(url + "/nowhere")).status, 404);
    assert.equal((await post(url, "/control/nothing", {})).status, 404);
    assert.equal((await open(url, `/events?room=${"r".repeat(300)}`)).status, 400);
    // Garbage on a raw socket.
    const reply = await new Promise((resolve) => {
      const sock = net.connect(new URL(url).port, "127.0.0.1", () => sock.write("NOT HTTP AT ALL\r\n\r\n"));
      let text = "";
      sock.on("data", (d) => (text += d));
      sock.on("close", () => resolve(text));
      sock.on("error", () => resolve(text));
      sock.setTimeout(WAIT_MS, () => sock.destroy());
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    // A client that goes away in the middle of a body.
    await new Promise((resolve) => {
      const sock = net.connect(new URL(url).port, "127.0.0.1", () => {
        sock.write("POST /publish HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"event\":");
        setTimeout(() => sock.destroy(), 50);
      });
      sock.on("close", resolve);
      sock.on("error", () => {});
    });
    assert.equal(child.exitCode, null);
    assert.equal((await post(url, "/emit", { event: "echo", args: ["still here"] })).body[0], "still here");
  });

  it("keeps at most --max-log events; resume from an older id replays what is left", { timeout: TEST_MS }, async () => {
    const { url, child } = await launch(["--port", "0", "--max-log", "5"]);
    const ids = [];
    for (let i = 0; i < 8; i++) ids.push(await publish(url, { event: "n", data: i }));
    assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8]);
    const s = await open(url, "/events?lastEventId=0");
    assert.deepEqual((await s.take(5)).map((e) => Number(e.id)), [4, 5, 6, 7, 8]);
    assert.deepEqual((await get(url, "/control/log")).body.map((e) => e.id), [4, 5, 6, 7, 8]);
    assert.deepEqual((await get(url, "/control/log?after=6")).body.map((e) => e.data), [6, 7]);
    assert.equal(await stop(child), 0);
  });

  it("resumes across a restart with --log: no event lost or duplicated, ids continue", { timeout: TEST_MS }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rtio-sse-"));
    try {
      const file = path.join(dir, "events.jsonl");
      const args = (port) => ["--port", String(port), "--log", file, "--ping-interval", "0"];
      let srv = await launch(args(0));
      const { port } = srv;
      const base = srv.url;
      const s = await open(base, "/events?room=r");
      await s.next((i) => i.type === "comment");
      const before = [
        await publish(base, { event: "a", data: { n: 1 } }),
        await publish(base, { event: "b", data: "two\nlines", raw: true, room: "r" }),
        await publish(base, { event: "c", data: 3, room: "elsewhere" }),
        await publish(base, { event: "d", data: [4] }),
      ];
      assert.deepEqual(before, [1, 2, 3, 4]);
      // The client has seen up to 2 when the server dies without a goodbye.
      await s.take(3);
      assert.equal(s.events()[1].data, "two\nlines");
      await stop(srv.child, "SIGKILL");
      assert.match(String(await s.ended), /^error|^end/);

      srv = await launch(args(port));
      assert.equal(srv.url, base);
      const after = [await publish(base, { event: "e", data: 5, room: "r" }), await publish(base, { event: "f", data: 6 })];
      assert.deepEqual(after, [5, 6], "ids continue after the last logged one");
      const resumed = await open(base, "/events?room=r", { "last-event-id": "2" });
      await resumed.take(3);
      await sleep(150);
      assert.deepEqual(resumed.events().map((e) => [Number(e.id), e.event]), [[4, "d"], [5, "e"], [6, "f"]]);
      const all = await open(base, "/events?room=r&room=elsewhere&lastEventId=0");
      await all.take(6);
      await sleep(100);
      const got = all.events();
      assert.deepEqual(got.map((e) => Number(e.id)), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(got.map((e) => e.data), ['{"n":1}', "two\nlines", "3", "[4]", "5", "6"]);

      // A graceful stop, a line torn by a crash at the end of the file, and a third start.
      assert.equal(await stop(srv.child, "SIGTERM"), 0);
      appendFileSync(file, '{"id":7,"event":"tor');
      srv = await launch(args(port));
      assert.equal(await publish(base, { event: "g" }), 7);
      const third = await open(base, "/events?lastEventId=5");
      assert.deepEqual((await third.take(2)).map((e) => [Number(e.id), e.event]), [[6, "f"], [7, "g"]]);
      const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((e) => e.id), [1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(lines[1], { id: 2, event: "b", room: "r", raw: true, data: "two\nlines" });
      assert.equal(await stop(srv.child), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exits with 0 on SIGTERM and SIGINT with streams open; refuses bad options", { timeout: TEST_MS }, async () => {
    for (const signal of ["SIGTERM", "SIGINT"]) {
      const srv = await launch(["--port", "0"]);
      const s = await open(srv.url);
      await s.next((i) => i.type === "comment");
      const t = Date.now();
      assert.equal(await stop(srv.child, signal), 0);
      assert.ok(Date.now() - t < 2500, `stopped in ${Date.now() - t} ms`);
      await s.ended;
    }
    for (const args of [["--port", "x"], ["--ping-interval", "-1"], ["--retry"], ["--max-log", "0"], ["--nope"]]) {
      const code = await exitCode(process.execPath, [SERVER, ...args]);
      assert.equal(code, 2, args.join(" "));
    }
  });
});
