// Conformance of the test servers to ROOMS.md (rooms and presence), in plain Node: clients are
// socket.io-client 4.8 speaking the rtio: events by hand, so these tests check the SERVER side
// (the Node server's `attachRooms` from js/server.js, the Rust server's rooms module) with no
// browser and no rtio client. Every case runs against both servers; the Node server also runs
// in-process checks of `attachRooms` itself (namespaces, the authorization hook, socket.data,
// detaching) and a connection-state recovery check.
//
// Servers as in harness.mjs: RTIO_NODE_URL / RTIO_RUST_URL point at running ones, otherwise
// they are started (RTIO_RUST_SERVER_BIN names the Rust binary); RTIO_SKIP_RUST=1 skips the
// Rust suite (local work only). Test servers refuse rooms starting with `locked:`.

import { after, afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { io as connectClient } from "socket.io-client";
import { Server } from "socket.io";
import { startTestServer } from "./harness.mjs";
import { attachRooms, DEFAULT_LIMITS } from "../../js/server.js";

const SKIP_RUST = process.env.RTIO_SKIP_RUST === "1";
// Generous: what must arrive does so in milliseconds, but a loaded 2-core machine can stall a
// process for seconds, and a wait only costs its full length when something is broken.
const TEST_MS = 40_000;
const WAIT_MS = 10_000;
// How long to listen for something that must not arrive, after a round trip that would have
// brought it.
const QUIET_MS = 200;

const servers = {};
function serverUrl(which) {
  const env = process.env[which === "node" ? "RTIO_NODE_URL" : "RTIO_RUST_URL"];
  servers[which] ??= env ? Promise.resolve(env.replace(/\/+$/, "")) : startTestServer(which);
  return servers[which];
}

let serial = 0;
// A room name of the test's own, so tests sharing a server never meet.
const roomName = (prefix = "room") => `${prefix}:${process.pid}-${Date.now().toString(36)}-${++serial}`;

// Every client a test opened, closed after it whatever happened.
const open = new Set();
afterEach(() => {
  for (const c of open) c.close();
  open.clear();
});

// A connected client that records every event it gets: `c.got` is a list of [event, ...args].
async function client(url, opts = {}) {
  const c = connectClient(url, { forceNew: true, reconnection: false, transports: ["websocket"], timeout: WAIT_MS, ...opts });
  open.add(c);
  c.got = [];
  c.onAny((...args) => c.got.push(args));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out waiting for connect")), WAIT_MS);
    c.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    c.once("connect_error", (err) => {
      clearTimeout(timer);
      reject(new Error(`connect_error: ${err.message}`));
    });
  });
  return c;
}

// Emits with an ack and resolves with the reply; the error names what went unanswered.
async function call(c, ...args) {
  try {
    return await c.timeout(WAIT_MS).emitWithAck(...args);
  } catch (err) {
    const what = JSON.stringify(args, (_k, v) => (typeof v === "string" && v.length > 60 ? `${v.slice(0, 60)}…(${v.length})` : v));
    throw new Error(`no ack within ${WAIT_MS} ms for ${what} from ${c.id}: ${err.message}`);
  }
}
const join = (c, room, ...meta) => call(c, "rtio:join", room, ...meta);
const leave = (c, room) => call(c, "rtio:leave", room);

// Resolves with the args of the first recorded (or future) `event` matching `pred`.
async function next(c, event, pred = () => true, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = c.got.find(([e, ...args]) => e === event && pred(...args));
    if (hit) return hit.slice(1);
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${event}; got ${JSON.stringify(c.got)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// Waits until every client has been heard by the server (an echo round trip each) and a little
// more, so whatever the server sent because of earlier messages has arrived.
async function settle(...clients) {
  await Promise.all(clients.map((c) => call(c, "echo", "settle")));
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
}

const events = (c, event, room) => c.got.filter(([e, r]) => e === event && (room === undefined || r === room));
const byId = (members) => [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

function conformance(server) {
  const test = (name, body) => it(name, { timeout: TEST_MS }, async () => body(await serverUrl(server)));

  test("join acks ok with the members, the joiner and its meta included", async (url) => {
    const a = await client(url);
    const room = roomName();
    const meta = { name: "Ada", color: "#e91e63", n: 1.5, tags: ["x", null, true] };
    assert.deepEqual(await join(a, room, meta), { ok: true, members: [{ id: a.id, meta }] });
    // No meta (the argument left out) is null.
    const other = roomName();
    assert.deepEqual(await join(a, other), { ok: true, members: [{ id: a.id, meta: null }] });
    // A string room of up to 128 characters, counted in UTF-16 code units, is fine.
    const long = `${room}:`.padEnd(127, "x") + "é";
    assert.equal(long.length, 128);
    assert.deepEqual(await join(a, long, null), { ok: true, members: [{ id: a.id, meta: null }] });
    const astral = `${room}:`.padEnd(126, "x") + "😀";
    assert.equal(astral.length, 128);
    assert.deepEqual(await join(a, astral, null), { ok: true, members: [{ id: a.id, meta: null }] });
  });

  test("a second member: the first gets presence joined with its meta, the second's ack lists both", async (url) => {
    const a = await client(url);
    const b = await client(url);
    const room = roomName();
    await join(a, room, { name: "Ada" });
    const ack = await join(b, room, { name: "Bob" });
    assert.equal(ack.ok, true);
    assert.deepEqual(byId(ack.members), byId([{ id: a.id, meta: { name: "Ada" } }, { id: b.id, meta: { name: "Bob" } }]));
    assert.deepEqual(await next(a, "rtio:presence"), [room, { joined: { id: b.id, meta: { name: "Bob" } } }]);
    await settle(a, b);
    // Presence is about the others: nothing about itself, and only one event for one join.
    assert.deepEqual(events(b, "rtio:presence"), []);
    assert.equal(events(a, "rtio:presence").length, 1);
  });

  test("joining again with new meta updates it: the others get updated, the ack has the new meta", async (url) => {
    const a = await client(url);
    const b = await client(url);
    const room = roomName();
    await join(a, room, "ada");
    await join(b, room, { name: "Bob" });
    await next(a, "rtio:presence", (_r, ch) => ch.joined);
    const ack = await join(b, room, { name: "Bobby" });
    assert.equal(ack.ok, true);
    assert.deepEqual(byId(ack.members), byId([{ id: a.id, meta: "ada" }, { id: b.id, meta: { name: "Bobby" } }]));
    assert.deepEqual(await next(a, "rtio:presence", (_r, ch) => !ch.joined), [room, { updated: { id: b.id, meta: { name: "Bobby" } } }]);
    // A third client sees the new meta.
    const c = await client(url);
    const ack3 = await join(c, room, 3);
    assert.deepEqual(byId(ack3.members), byId([{ id: a.id, meta: "ada" }, { id: b.id, meta: { name: "Bobby" } }, { id: c.id, meta: 3 }]));
    // Joining again is an update even with the same meta, and meta left out is null.
    await join(b, room, { name: "Bobby" });
    await join(b, room);
    await settle(a, b, c);
    const changes = events(a, "rtio:presence").map(([, , ch]) => ch);
    assert.deepEqual(changes.slice(0, 3), [
      { joined: { id: b.id, meta: { name: "Bob" } } },
      { updated: { id: b.id, meta: { name: "Bobby" } } },
      { joined: { id: c.id, meta: 3 } },
    ]);
    // Updates close together are coalesced ("Limits"): the one in between may be left out,
    // the last one always comes.
    assert.deepEqual(changes.at(-1), { updated: { id: b.id, meta: null } });
    if (changes.length === 5) assert.deepEqual(changes[3], { updated: { id: b.id, meta: { name: "Bobby" } } });
    else assert.equal(changes.length, 4);
  });

  test("rtio:to reaches the other members as rtio:room, not the sender, not a non-member", async (url) => {
    const [a, b, c, outsider] = await Promise.all([client(url), client(url), client(url), client(url)]);
    const room = roomName();
    for (const x of [a, b, c]) await join(x, room, null);
    await join(outsider, roomName(), null); // a member of another room
    a.emit("rtio:to", room, "cursor", { x: 0.25, y: 0.5 }, [1, "two"], "three");
    const expected = [room, "cursor", a.id, { x: 0.25, y: 0.5 }, [1, "two"], "three"];
    assert.deepEqual(await next(b, "rtio:room"), expected);
    assert.deepEqual(await next(c, "rtio:room"), expected);
    // An event with no arguments.
    b.emit("rtio:to", room, "ping");
    assert.deepEqual(await next(c, "rtio:room", (_r, e) => e === "ping"), [room, "ping", b.id]);
    await settle(a, b, c, outsider);
    assert.deepEqual(events(a, "rtio:room").map((x) => x[2]), ["ping"]);
    assert.deepEqual(events(outsider, "rtio:room"), []);
  });

  test("rtio:to from a non-member is dropped", async (url) => {
    const [a, b, outsider] = await Promise.all([client(url), client(url), client(url)]);
    const room = roomName();
    await join(a, room, null);
    await join(b, room, null);
    outsider.emit("rtio:to", room, "spam", 1);
    // Nor may a socket talk to a room it is in only as another socket's private room.
    outsider.emit("rtio:to", a.id, "spam", 2);
    await settle(outsider, a, b);
    assert.deepEqual(events(a, "rtio:room"), []);
    assert.deepEqual(events(b, "rtio:room"), []);
    assert.deepEqual(events(a, "spam"), []);
  });

  test("leave acks ok, the others get left, and no more messages go either way", async (url) => {
    const [a, b] = await Promise.all([client(url), client(url)]);
    const room = roomName();
    await join(a, room, null);
    await join(b, room, { name: "Bob" });
    assert.deepEqual(await leave(b, room), { ok: true });
    assert.deepEqual(await next(a, "rtio:presence", (_r, ch) => "left" in ch), [room, { left: b.id }]);
    b.emit("rtio:to", room, "after", 1);
    a.emit("rtio:to", room, "after", 2);
    await settle(a, b);
    assert.deepEqual(events(a, "rtio:room"), []);
    assert.deepEqual(events(b, "rtio:room"), []);
    // The room now has one member.
    const c = await client(url);
    assert.deepEqual(byId((await join(c, room, null)).members), byId([{ id: a.id, meta: null }, { id: c.id, meta: null }]));
    // Leaving a room one is not in is fine too, and says nothing to anyone; a name that cannot
    // be a room is refused.
    assert.deepEqual(await leave(b, room), { ok: true });
    assert.deepEqual(await leave(b, roomName()), { ok: true });
    for (const bad of ["", 42, "rtio:x", "x".repeat(129)]) {
      assert.deepEqual(await leave(b, bad), { ok: false, error: "invalid room" }, `room ${JSON.stringify(bad)}`);
    }
    await settle(a, b, c);
    assert.equal(events(a, "rtio:presence", room).filter(([, , ch]) => "left" in ch).length, 1);
  });

  test("a member that disconnects leaves every room it was in", async (url) => {
    const [a, b] = await Promise.all([client(url), client(url)]);
    const r1 = roomName();
    const r2 = roomName();
    await join(a, r1, null);
    await join(a, r2, null);
    await join(b, r1, "b");
    await join(b, r2, "b");
    const id = b.id;
    b.disconnect();
    assert.deepEqual(await next(a, "rtio:presence", (r, ch) => r === r1 && "left" in ch), [r1, { left: id }]);
    assert.deepEqual(await next(a, "rtio:presence", (r, ch) => r === r2 && "left" in ch), [r2, { left: id }]);
    const c = await client(url);
    assert.deepEqual(byId((await join(c, r1, null)).members), byId([{ id: a.id, meta: null }, { id: c.id, meta: null }]));
  });

  test("the authorization hook refuses locked: rooms with not allowed, and nothing changes", async (url) => {
    const [a, b] = await Promise.all([client(url), client(url)]);
    const room = roomName("locked");
    assert.deepEqual(await join(a, room, { name: "Ada" }), { ok: false, error: "not allowed" });
    assert.deepEqual(await join(b, room, null), { ok: false, error: "not allowed" });
    a.emit("rtio:to", room, "nope");
    await settle(a, b);
    assert.deepEqual(a.got, []);
    assert.deepEqual(b.got, []);
  });

  test("invalid rooms are refused with invalid room", async (url) => {
    const [a, other] = await Promise.all([client(url), client(url)]);
    const ok = roomName();
    const bad = [
      "",
      `${ok}:`.padEnd(129, "x"),
      "é".repeat(129),
      "😀".repeat(65), // 65 code points, 130 UTF-16 code units
      "rtio:x",
      "rtio:",
      '["rtio:meta","doc",1]',
      42,
      null,
      true,
      ["a"],
      { room: "a" },
      other.id, // another socket's private room
      a.id, // its own
    ];
    for (const room of bad) {
      assert.deepEqual(await join(a, room, null), { ok: false, error: "invalid room" }, `room ${JSON.stringify(room)}`);
    }
    // None of them made it a member of anything.
    a.emit("rtio:to", other.id, "psst");
    await settle(a, other);
    assert.deepEqual(other.got, []);
    assert.deepEqual(await join(a, ok, null), { ok: true, members: [{ id: a.id, meta: null }] });
  });

  test("meta over 1,024 bytes of JSON is refused with meta too large, binary meta with invalid meta", async (url) => {
    const [a, b] = await Promise.all([client(url), client(url)]);
    const room = roomName();
    // A JSON string is its characters plus two quotes.
    const fits = "m".repeat(1022);
    assert.deepEqual(await join(a, room, fits), { ok: true, members: [{ id: a.id, meta: fits }] });
    assert.deepEqual(await join(b, room, "m".repeat(1023)), { ok: false, error: "meta too large" });
    // Bytes, not characters: 600 × "é" is 608 characters of JSON but 1,208 bytes of UTF-8.
    assert.deepEqual(await join(b, room, { s: "é".repeat(600) }), { ok: false, error: "meta too large" });
    assert.deepEqual(await join(b, room, { list: Array.from({ length: 400 }, (_, i) => i) }), { ok: false, error: "meta too large" });
    // Meta is JSON: binary in it is refused.
    assert.deepEqual(await join(b, room, Uint8Array.from([1])), { ok: false, error: "invalid meta" });
    assert.deepEqual(await join(b, room, { avatar: [Uint8Array.from([1])] }), { ok: false, error: "invalid meta" });
    // A refused update keeps the old meta.
    assert.deepEqual(await join(a, room, "x".repeat(2000)), { ok: false, error: "meta too large" });
    const ack = await join(b, room, "b");
    assert.deepEqual(byId(ack.members), byId([{ id: a.id, meta: fits }, { id: b.id, meta: "b" }]));
    await settle(a, b);
    assert.deepEqual(events(a, "rtio:presence").map(([, , ch]) => Object.keys(ch)[0]), ["joined"]);
  });

  test("binary arguments of rtio:to are relayed as binary", async (url) => {
    const [a, b] = await Promise.all([client(url), client(url)]);
    const room = roomName();
    await join(a, room, null);
    await join(b, room, null);
    a.emit("rtio:to", room, "blob", Uint8Array.from([1, 2, 3]), { nested: [Uint8Array.from([0, 255])] }, "text");
    const [r, event, from, top, nested, text] = await next(b, "rtio:room");
    assert.deepEqual([r, event, from, text], [room, "blob", a.id, "text"]);
    const bytes = (v) => {
      assert.ok(v instanceof ArrayBuffer || ArrayBuffer.isView(v), `binary expected, got ${JSON.stringify(v)}`);
      return [...(v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength))];
    };
    assert.deepEqual(bytes(top), [1, 2, 3]);
    assert.deepEqual(bytes(nested.nested[0]), [0, 255]);
  });

  test("hostile input gets an error ack or nothing, and the server carries on", async (url) => {
    const [a, b] = await Promise.all([client(url), client(url)]);
    const room = roomName();
    await join(b, room, null);
    // No ack callback: nothing to answer, nothing must break.
    a.emit("rtio:join");
    a.emit("rtio:join", 42);
    a.emit("rtio:join", roomName(), "x".repeat(5000));
    a.emit("rtio:leave");
    a.emit("rtio:leave", { not: "a room" });
    a.emit("rtio:to");
    a.emit("rtio:to", 42, "e");
    a.emit("rtio:to", room);
    a.emit("rtio:to", room, 42);
    a.emit("rtio:to", [room], "e", 1);
    // With an ack: refused.
    assert.deepEqual(await call(a, "rtio:join"), { ok: false, error: "invalid room" });
    assert.deepEqual(await call(a, "rtio:join", { toString: "x" }, null), { ok: false, error: "invalid room" });
    assert.deepEqual(await call(a, "rtio:join", roomName(), "x".repeat(100_000)), { ok: false, error: "meta too large" });
    assert.deepEqual(await call(a, "rtio:to"), { ok: false, error: "invalid event" });
    assert.deepEqual(await call(a, "rtio:to", room, 42), { ok: false, error: "invalid event" });
    assert.deepEqual(await call(a, "rtio:to", 42, "e"), { ok: false, error: "not a member" });
    assert.deepEqual(await call(a, "rtio:to", [room], "e", 1), { ok: false, error: "not a member" });
    assert.deepEqual(await call(a, "rtio:to", room, "e", 1), { ok: false, error: "not a member" });
    await settle(a, b);
    assert.deepEqual(events(b, "rtio:room"), []);
    assert.deepEqual(events(b, "rtio:presence"), []);
    // Still serving both.
    assert.equal((await call(a, "whoami")).id, a.id);
    assert.equal((await join(a, room, "late")).members.length, 2);
  });
}

// The limits (ROOMS.md "Limits"), on servers of the tests' own started with small ones.
const LIMITS = {
  relay: [20, 40], // per second, burst
  join: [5, 10],
  rooms: 3,
  members: 3,
  relayBytes: 1024,
  presenceMs: 300,
};
const LIMIT_ARGS = [
  ["--relay-limit", LIMITS.relay.join("/")],
  ["--join-limit", LIMITS.join.join("/")],
  ["--max-rooms", LIMITS.rooms],
  ["--max-members", LIMITS.members],
  ["--max-relay-bytes", LIMITS.relayBytes],
  ["--presence-interval", LIMITS.presenceMs],
].flatMap(([flag, value]) => [flag, String(value)]);

function limits(server) {
  let started;
  const url = () => (started ??= startTestServer(server, LIMIT_ARGS));
  const test = (name, body) => it(name, { timeout: TEST_MS }, async () => body(await url()));
  const relay = (c, ...args) => c.timeout(WAIT_MS).emitWithAck("rtio:to", ...args);

  test("a relay flood: at most the rate goes out, the rest is refused with rate limited, others still get through", async (url) => {
    const [flooder, b, c] = await Promise.all([client(url), client(url), client(url)]);
    const room = roomName();
    for (const x of [flooder, b, c]) await join(x, room, null);
    const started = performance.now();
    const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => relay(flooder, room, "flood", i)));
    const elapsed = (performance.now() - started) / 1000;
    // c's message during the flood reaches b.
    assert.deepEqual(await relay(c, room, "hello"), { ok: true });
    assert.deepEqual((await next(b, "rtio:room", (_r, e) => e === "hello")).slice(0, 3), [room, "hello", c.id]);
    const ok = replies.filter((r) => r.ok === true).length;
    const limited = replies.filter((r) => r.ok === false && r.error === "rate limited").length;
    assert.equal(ok + limited, 1000, JSON.stringify(replies.find((r) => r.ok !== true && r.error !== "rate limited")));
    const [rate, burst] = LIMITS.relay;
    assert.ok(ok >= burst && ok <= burst + Math.ceil(rate * elapsed) + 1, `${ok} relayed in ${elapsed.toFixed(2)} s`);
    // Exactly what was acked ok went out, in order.
    await settle(flooder, b);
    const got = events(b, "rtio:room").filter(([, , e]) => e === "flood").map(([, , , , i]) => i);
    const sent = replies.flatMap((r, i) => (r.ok ? [i] : []));
    assert.deepEqual(got, sent);
  });

  test("joins beyond the rate are refused with rate limited and change nothing", async (url) => {
    const [a, b] = await Promise.all([client(url), client(url)]);
    const room = roomName();
    await join(b, room, null);
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => join(a, room, i)));
    const ok = replies.filter((r) => r.ok).length;
    const [rate, burst] = LIMITS.join;
    assert.ok(ok >= burst && ok <= burst + rate, `${ok} joins accepted`);
    assert.deepEqual(new Set(replies.filter((r) => !r.ok).map((r) => r.error)), new Set(["rate limited"]));
    // a's meta is the last accepted one.
    const last = replies.findLastIndex((r) => r.ok);
    await settle(a, b);
    const members = (await new Promise((resolve) => setTimeout(resolve, 1000 / rate + 50)).then(() => join(b, room, null))).members;
    assert.deepEqual(members.find((m) => m.id === a.id).meta, last);
  });

  test("a socket in the most rooms allowed is refused another with too many rooms; after a leave it may join", async (url) => {
    const a = await client(url);
    const rooms = Array.from({ length: LIMITS.rooms + 1 }, () => roomName());
    for (const room of rooms.slice(0, -1)) assert.equal((await join(a, room, null)).ok, true);
    assert.deepEqual(await join(a, rooms.at(-1), null), { ok: false, error: "too many rooms" });
    // Joining one it is in (an update) is not another room.
    assert.equal((await join(a, rooms[0], "again")).ok, true);
    await leave(a, rooms[0]);
    assert.equal((await join(a, rooms.at(-1), null)).ok, true);
  });

  test("a full room refuses the next member with room full; a member leaving makes room", async (url) => {
    const clients = await Promise.all(Array.from({ length: LIMITS.members + 1 }, () => client(url)));
    const room = roomName();
    for (const c of clients.slice(0, -1)) assert.equal((await join(c, room, null)).ok, true);
    const last = clients.at(-1);
    assert.deepEqual(await join(last, room, null), { ok: false, error: "room full" });
    // A member joining again is an update, not one more.
    assert.equal((await join(clients[0], room, "again")).ok, true);
    await leave(clients[1], room);
    const ack = await join(last, room, null);
    assert.equal(ack.ok, true);
    assert.equal(ack.members.length, LIMITS.members);
  });

  test("a relay over the size limit is refused with too large and not relayed; binary counts by its bytes", async (url) => {
    const [a, b] = await Promise.all([client(url), client(url)]);
    const room = roomName();
    await join(a, room, null);
    await join(b, room, null);
    assert.deepEqual(await relay(a, room, "big", "x".repeat(LIMITS.relayBytes)), { ok: false, error: "too large" });
    assert.deepEqual(await relay(a, room, "blob", new Uint8Array(LIMITS.relayBytes + 1)), { ok: false, error: "too large" });
    assert.deepEqual(await relay(a, room, "small", "x".repeat(100), new Uint8Array(100)), { ok: true });
    await settle(a, b);
    assert.deepEqual(events(b, "rtio:room").map(([, , e]) => e), ["small"]);
  });

  test("a relay from a non-member is refused with not a member when it asks for an ack", async (url) => {
    const [a, b] = await Promise.all([client(url), client(url)]);
    const room = roomName();
    await join(b, room, null);
    assert.deepEqual(await relay(a, room, "hi"), { ok: false, error: "not a member" });
    await settle(a, b);
    assert.deepEqual(events(b, "rtio:room"), []);
  });

  test("updates of one member are coalesced: the first at once, then at most one per interval, the last always", async (url) => {
    const [a, b] = await Promise.all([client(url), client(url)]);
    const room = roomName();
    await join(a, room, null);
    await join(b, room, 0);
    await next(a, "rtio:presence", (_r, ch) => ch.joined);
    const started = performance.now();
    for (let i = 1; i <= LIMITS.join[1] - 1; i++) assert.equal((await join(b, room, i)).ok, true);
    const elapsed = performance.now() - started;
    const last = LIMITS.join[1] - 1;
    await next(a, "rtio:presence", (_r, ch) => ch.updated?.meta === last, WAIT_MS);
    const updates = events(a, "rtio:presence", room).filter(([, , ch]) => ch.updated).map(([, , ch]) => ch.updated.meta);
    assert.equal(updates[0], 1);
    assert.equal(updates.at(-1), last);
    assert.ok(updates.length <= 2 + Math.ceil(elapsed / LIMITS.presenceMs), `${updates.length} updates in ${elapsed.toFixed(0)} ms`);
    assert.deepEqual([...updates].sort((x, y) => x - y), updates); // in order
  });
}

for (const server of ["node", "rust"]) {
  const skip = server === "rust" && SKIP_RUST ? "RTIO_SKIP_RUST=1" : false;
  describe(`rooms conformance [${server} server]`, { skip }, () => conformance(server));
  describe(`rooms limits [${server} server]`, { skip }, () => limits(server));
}

// ---------------------------------------------------------------------------------------------
// The Node helper itself

describe("attachRooms (Node socket.io, in process)", () => {
  // A socket.io server of the test's own on an ephemeral port; closed after the test.
  const servers = [];
  after(() => Promise.all(servers.map((io) => new Promise((resolve) => io.close(() => resolve())))));
  async function serve(setup, opts = {}) {
    const http = createServer();
    const io = new Server(http, opts);
    servers.push(io);
    setup(io);
    // For settle().
    io.on("connection", (socket) => socket.on("echo", (...args) => args.pop()(...args)));
    await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
    return { io, url: `http://127.0.0.1:${http.address().port}` };
  }
  const test = (name, body) => it(name, { timeout: TEST_MS }, body);

  test("a socket over its relay rate is not read for a while (ws pause), then is read again and answered", async () => {
    const paused = [];
    const { io, url } = await serve((server) => attachRooms(server, { limits: { relaysPerSecond: 10, relayBurst: 10 } }));
    // Each socket's WebSocket, watched for the pause and the resume that follows.
    io.on("connection", (socket) => {
      const ws = socket.conn.transport.socket;
      const { pause, resume } = ws;
      ws.pause = function () {
        paused.push(["pause", Date.now()]);
        return pause.call(this);
      };
      ws.resume = function () {
        paused.push(["resume", Date.now()]);
        return resume.call(this);
      };
    });
    const a = await client(url, { transports: ["websocket"] });
    const b = await client(url, { transports: ["websocket"] });
    const room = roomName("flood");
    await join(a, room);
    await join(b, room);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => a.timeout(WAIT_MS).emitWithAck("rtio:to", room, "n", i)));
    const ok = replies.filter((r) => r.ok).length;
    assert.ok(ok >= 10 && ok < 50, `${ok} of 50 relayed`);
    assert.equal(replies.filter((r) => r.error == "rate limited").length, 50 - ok);
    assert.equal(paused[0]?.[0], "pause", JSON.stringify(paused));
    assert.equal(paused[1]?.[0], "resume", JSON.stringify(paused));
    assert.ok(paused[1][1] - paused[0][1] >= 90, `resumed after ${paused[1][1] - paused[0][1]} ms`);
    // Once rested, the socket is read and answered as before.
    await new Promise((r) => setTimeout(r, 1100));
    assert.deepEqual(await a.timeout(WAIT_MS).emitWithAck("rtio:to", room, "n", "after"), { ok: true });
    await next(b, "rtio:room", (_room, _event, _from, n) => n === "after");
  });

  test("serves a Namespace given instead of the Server, and only that one", async () => {
    const { url } = await serve((io) => {
      attachRooms(io.of("/rooms"));
      io.of("/other").on("connection", () => {});
    });
    const a = await client(`${url}/rooms`);
    assert.deepEqual(await join(a, "r", 1), { ok: true, members: [{ id: a.id, meta: 1 }] });
    const b = await client(`${url}/other`);
    await assert.rejects(b.timeout(300).emitWithAck("rtio:join", "r", 1));
    const c = await client(url);
    await assert.rejects(c.timeout(300).emitWithAck("rtio:join", "r", 1));
  });

  test("the authorization hook: true, false, a reason, a throw, a rejection, anything else; async too", async () => {
    const seen = [];
    const { url } = await serve((io) =>
      attachRooms(io, {
        authorize: async (socket, room, meta) => {
          seen.push([socket.id, room, meta]);
          await new Promise((resolve) => setTimeout(resolve, 5));
          switch (room) {
            case "false":
              return false;
            case "reason":
              return "members only";
            case "empty":
              return "";
            case "throw":
              throw new Error("no way");
            case "reject":
              return Promise.reject(new Error("rejected"));
            case "truthy":
              return 1;
            case "undefined":
              return undefined;
            default:
              return true;
          }
        },
      }),
    );
    const a = await client(url);
    const refusals = { false: "not allowed", reason: "members only", empty: "not allowed", throw: "no way", reject: "rejected", truthy: "not allowed", undefined: "not allowed" };
    for (const [room, error] of Object.entries(refusals)) {
      assert.deepEqual(await join(a, room, { m: room }), { ok: false, error }, room);
    }
    assert.deepEqual(await join(a, "yes"), { ok: true, members: [{ id: a.id, meta: null }] });
    assert.deepEqual(seen.at(-1), [a.id, "yes", null]);
    assert.deepEqual(seen[0], [a.id, "false", { m: "false" }]);
    // Invalid rooms never reach the hook.
    await join(a, "rtio:x");
    assert.equal(seen.length, Object.keys(refusals).length + 1);
  });

  test("meta is in socket.data.rtioRooms; sockets the app put in a room are not members", async () => {
    const { io, url } = await serve((server) => {
      attachRooms(server);
      server.on("connection", (socket) => {
        socket.data = "not an object"; // the helper copes
        if (socket.handshake.auth.app) socket.join("shared");
      });
    });
    const app = await client(url, { auth: { app: true } });
    const a = await client(url);
    const ack = await join(a, "shared", { name: "Ada" });
    assert.deepEqual(ack, { ok: true, members: [{ id: a.id, meta: { name: "Ada" } }] });
    // The app's socket is in the Socket.IO room (it hears presence and messages sent there by
    // server code) but is not a member: it cannot talk to the room and is not listed.
    app.emit("rtio:to", "shared", "hi");
    await settle(app, a);
    assert.deepEqual(events(a, "rtio:room"), []);
    const sockets = await io.in("shared").fetchSockets();
    assert.deepEqual(sockets.map((s) => s.id).sort(), [app.id, a.id].sort());
    const member = sockets.find((s) => s.id === a.id);
    assert.deepEqual(member.data.rtioRooms.shared, { name: "Ada" });
    // The app's socket joining through rtio becomes a member; leaving through rtio takes it out.
    const ack2 = await join(app, "shared", "app");
    assert.deepEqual(byId(ack2.members), byId([{ id: a.id, meta: { name: "Ada" } }, { id: app.id, meta: "app" }]));
    assert.deepEqual(await next(a, "rtio:presence"), ["shared", { joined: { id: app.id, meta: "app" } }]);
  });

  test("a leave sent before the join's ack is handled after the join: no ghost member", async () => {
    const { url } = await serve((io) =>
      attachRooms(io, { authorize: () => new Promise((resolve) => setTimeout(() => resolve(true), 50)) }),
    );
    const [a, b] = await Promise.all([client(url), client(url)]);
    await join(a, "r", null);
    const joined = join(b, "r", null);
    const left = leave(b, "r");
    assert.equal((await joined).ok, true);
    assert.deepEqual(await left, { ok: true });
    await settle(a, b);
    assert.deepEqual(
      events(a, "rtio:presence").map(([, , ch]) => ch),
      [{ joined: { id: b.id, meta: null } }, { left: b.id }],
    );
    assert.deepEqual((await join(a, "r", 2)).members, [{ id: a.id, meta: 2 }]);
  });

  test("a session recovered while its old connection is still open keeps its rooms when that connection ends", async () => {
    // A client that gives up on a link before the server does (over long-polling the server
    // notices a vanished client only at its next heartbeat) recovers its session while the
    // server still holds the old connection under the same id. When that connection ended,
    // socket.io took the id out of every room and out of the namespace: the recovered socket
    // got nothing more, not even what was sent to its own id. The helper closes the old one
    // as soon as the session is recovered, and the recovered socket keeps everything.
    const { io, url } = await serve((server) => attachRooms(server), { connectionStateRecovery: {} });
    const room = roomName();
    const a = await client(url);
    const b = await client(url, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    await join(a, room, "a");
    await join(b, room, "b");
    const id = b.id;
    io.to(id).emit("news", 1); // kept for recovery: the client now has an offset
    await next(b, "news");
    const reconnected = new Promise((resolve) => b.io.once("reconnect", resolve));
    b.io.engine.close(); // "transport close": the server keeps the session
    await reconnected;
    await new Promise((resolve) => (b.connected ? resolve() : b.once("connect", resolve)));
    assert.equal(b.recovered, true);
    // The same session recovered again over a new link, as the client does once it gives up
    // on this one, while the server still holds it (b stands for that link, kept open).
    const c = await client(url, { auth: { pid: b._pid, offset: b._lastOffset } });
    assert.equal(c.id, id); // recovered (c.recovered is false: c did not hold the session itself)
    // The old link ends (here at once; for real, at the server's heartbeat).
    b.disconnect();
    await settle(a, c);
    assert.equal(io.of("/").sockets.get(id)?.connected, true);
    const members = (await io.in(room).fetchSockets()).map((s) => s.id).sort();
    assert.deepEqual(members, [a.id, id].sort());
    io.to(id).emit("news", 2);
    assert.equal((await next(c, "news", (n) => n === 2))[0], 2);
    a.emit("rtio:to", room, "hello");
    assert.deepEqual((await next(c, "rtio:room")).slice(0, 3), [room, "hello", a.id]);
    c.emit("rtio:to", room, "back");
    assert.deepEqual((await next(a, "rtio:room")).slice(0, 3), [room, "back", id]);
    // The others never saw the member leave for good: its last word is a join.
    const changes = events(a, "rtio:presence", room).map(([, , ch]) => ch);
    assert.deepEqual(changes.at(-1), { joined: { id, meta: "b" } });
  });

  test("detaching removes the handlers from new and connected sockets", async () => {
    let detach;
    const { url } = await serve((io) => (detach = attachRooms(io)));
    const a = await client(url);
    assert.equal((await join(a, "r", null)).ok, true);
    detach();
    await assert.rejects(a.timeout(300).emitWithAck("rtio:join", "s", null));
    const b = await client(url);
    await assert.rejects(b.timeout(300).emitWithAck("rtio:join", "s", null));
  });

  test("refuses a target that is not a socket.io server or namespace, and a non-function hook", () => {
    assert.throws(() => attachRooms(null), TypeError);
    assert.throws(() => attachRooms({}), TypeError);
    assert.throws(() => attachRooms(new Server(), { authorize: "yes" }), TypeError);
  });

  test("limits: unknown names and values out of range are a TypeError naming them; Infinity lifts one", () => {
    const io = new Server();
    assert.throws(() => attachRooms(io, { limits: 5 }), /options.limits must be an object/);
    assert.throws(() => attachRooms(io, { limits: { relaysPerSec: 5 } }), /unknown limit relaysPerSec/);
    assert.throws(() => attachRooms(io, { limits: { relayBurst: 0 } }), /limits.relayBurst must be a number >= 1/);
    assert.throws(() => attachRooms(io, { limits: { membersPerRoom: NaN } }), /limits.membersPerRoom/);
    assert.throws(() => attachRooms(io, { limits: { presenceIntervalMs: Infinity } }), /limits.presenceIntervalMs/);
    assert.throws(() => attachRooms(io, { limits: { roomsPerSocket: "3" } }), /limits.roomsPerSocket/);
    attachRooms(io, { limits: { relaysPerSecond: Infinity, presenceIntervalMs: 0 } })();
    assert.equal(DEFAULT_LIMITS.relaysPerSecond, 200);
    assert.ok(Object.isFrozen(DEFAULT_LIMITS));
  });
});

// ---------------------------------------------------------------------------------------------
// Connection-state recovery (Node server with --recovery; socketioxide has none)

describe("rooms and connection-state recovery [node server --recovery]", () => {
  it("a recovered socket keeps its rooms and meta and is announced again as joined", { timeout: TEST_MS }, async () => {
    const url = await startTestServer("node", ["--recovery"]);
    const a = await client(url);
    const b = await client(url, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    const room = roomName();
    await join(a, room, "a");
    await join(b, room, { name: "Bob" });
    // The client needs the offset of an event to ask for recovery.
    b.emit("emit-back", "news", 1);
    await next(b, "news");
    const id = b.id;
    const reconnected = new Promise((resolve) => b.io.once("reconnect", resolve));
    b.io.engine.close(); // the link drops: "transport close" on the server, which recovers
    await reconnected;
    await new Promise((resolve) => (b.connected ? resolve() : b.once("connect", resolve)));
    assert.equal(b.recovered, true);
    assert.equal(b.id, id);
    // It left when the link dropped and is back, with the same meta.
    const bob = { id, meta: { name: "Bob" } };
    await next(a, "rtio:presence", () => events(a, "rtio:presence").length >= 3);
    assert.deepEqual(events(a, "rtio:presence").map(([, , ch]) => ch), [{ joined: bob }, { left: id }, { joined: bob }]);
    // Still a member: its messages go through, and it gets the others'.
    // (With recovery on, socket.io appends its offset to each event it keeps, so the clients'
    // listeners see one more, last, argument: a string.)
    b.emit("rtio:to", room, "back", 1);
    const back = await next(a, "rtio:room");
    assert.deepEqual(back.slice(0, 4), [room, "back", id, 1]);
    assert.equal(back.length, 5);
    a.emit("rtio:to", room, "welcome");
    assert.deepEqual((await next(b, "rtio:room")).slice(0, 3), [room, "welcome", a.id]);
  });
});
