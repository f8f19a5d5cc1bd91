// A scripted Engine.IO v4 / Socket.IO v5 peer for the hostile-server tests
// (tests/js/hostile.test.mjs): a Socket.IO server over WebSocket only, on plain node:http and
// the `ws` package, started in-process on 127.0.0.1 (port 0).
//
// It behaves as a normal server:
//   - at ws://127.0.0.1:<port>/socket.io/?EIO=4&transport=websocket it sends the handshake
//     0{"sid":..,"upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000};
//   - it pings every pingInterval (`2`; no `3` within pingTimeout closes the socket) and answers
//     the client's own pings (`2…` -> `3…`);
//   - it answers CONNECT `40` / `40/nsp,` with `40{"sid":".."}` / `40/nsp,{"sid":".."}`;
//   - it answers `echo` events that ask for an ack with an ACK of the same arguments
//     (`42N["echo",...]` -> `43N[...]`; binary arguments come back as a BINARY_ACK);
//   - it answers `rtio:join` (the rooms convention) with `{ ok: true, members: [me] }`;
//   - it records every frame it receives, per connection.
// except for the scripted hostile behaviour of the connection's `case` query parameter
// (`io(url, { query: { case: "name" }, forceNew: true, transports: ["websocket"] })`), one of
// CASES below. Most cases act when the client emits the trigger event `go` (with or without an
// ack), so the page attaches its listeners first; after the case's frames the peer sends the
// marker event `42["after"]` (unless the case closed the socket), so the page knows every
// hostile frame was handled. Handshake cases (`open`) and CONNECT cases (`connect`) act at once.
// An unknown case name closes the socket with code 4000, so a typo is not taken for a client bug.
//
//   import { startHostilePeer } from "../servers/hostile/sio.mjs";
//   const peer = await startHostilePeer();   // { url, received(name), close() }

import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { WebSocketServer } from "ws";

const MiB = 1024 * 1024;
/** Size of the huge frames (in bytes of UTF-8). */
export const HUGE = 32 * MiB;
/** Nesting depth of the deep payloads. */
export const DEPTH = 100_000;
/** Pings sent by the flood cases. */
export const FLOOD = 5_000;
/** Arguments of the event with too many arguments. */
export const MANY_ARGS = 1_000_000;

const MAX_RECORDED = 20_000; // frames kept per connection
const MAX_CONNECTIONS = 2_000; // connections kept for received()

/** The handshake of a normal connection. */
const handshake = (sid, extra = {}) =>
  "0" +
  JSON.stringify({ sid, upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000, ...extra });

/** A placeholder for attachment `num` (socket.io-parser's deconstructPacket form). */
const ph = (num) => ({ _placeholder: true, num });

/** Bytes that are not valid UTF-8 (a lone continuation byte, an overlong form, 0xFE/0xFF, a cut sequence). */
export const INVALID_UTF8 = [0x80, 0xc0, 0xaf, 0xfe, 0xff, 0xed, 0xa0, 0x80, 0xe2, 0x82];

/** JSON texts of payloads with prototype-shaped keys; the tests compare what arrives with them. */
export const PROTO_TEXT =
  '{"__proto__":{"polluted":"yes","toString":"x"},"constructor":{"prototype":{"polluted":"yes"}},' +
  '"prototype":{"polluted":"yes"},"nested":[{"__proto__":{"polluted":"yes"}},{"constructor":"x"}]}';
/** With an attachment inside the `__proto__` member (and one under `constructor.prototype`). */
export const PROTO_BIN_TEXT =
  '{"__proto__":{"polluted":"yes","bin":{"_placeholder":true,"num":0}},' +
  '"constructor":{"prototype":{"polluted":"yes","bin":{"_placeholder":true,"num":1}}},"prototype":{"polluted":"yes"}}';
export const PROTO_BIN_BYTES = [[1, 2, 3], [4, 5]];
/** The error data of the CONNECT_ERROR case with such keys. */
export const PROTO_ERROR_TEXT = '{"message":"refused","data":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}}';

// Big frames are built once per process.
const cache = new Map();
const once = (key, make) => (cache.has(key) ? cache.get(key) : (cache.set(key, make()), cache.get(key)));
const fill = (ch, bytes) => ch.repeat(Math.floor(bytes / Buffer.byteLength(ch)));

/**
 * The scripted cases, by name. Each may have:
 *   open(c)          sends the handshake instead of the normal one (acts at once);
 *   connect(c, nsp)  answers a CONNECT instead of the normal reply (acts at once);
 *   go(c, { id })    runs when the client emits `go` (`id`: its ack id, if it asked for one);
 *                    returns false when no marker must follow (the socket was closed);
 *   join(c, id, args) answers `rtio:join`;
 *   ping: [interval, timeout]  the heartbeat of the normal handshake.
 * A case without `open` sends the normal handshake, without `connect` the normal reply.
 */
export const CASES = {
  // ---- controls: a normal server (the tests check the peer itself with them) ----
  normal: { go: () => {} },
  heartbeat: { ping: [200, 3000] },

  // ---- handshakes (at once) ----
  "hs-invalid-json": { open: (c) => c.text('0{"sid":"abc","pingInterval":25000,') },
  "hs-not-object": { open: (c) => c.text('0["sid","abc"]') },
  "hs-missing-sid": { open: (c) => c.text('0{"upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}') },
  "hs-empty-sid": { open: (c) => c.text(handshake("")) },
  "hs-sid-not-string": { open: (c) => c.text(handshake(42)) },
  "hs-ping-interval-negative": { open: (c) => c.text(handshake(c.sid, { pingInterval: -25000 })) },
  "hs-ping-interval-huge": { open: (c) => c.text(handshake(c.sid, { pingInterval: 1e300 })) },
  "hs-ping-interval-string": { open: (c) => c.text(handshake(c.sid, { pingInterval: "25000" })) },
  "hs-ping-interval-fraction": { open: (c) => c.text(handshake(c.sid, { pingInterval: 0.5 })) },
  "hs-ping-interval-missing": {
    open: (c) => c.text('0{"sid":"' + c.sid + '","upgrades":[],"pingTimeout":20000,"maxPayload":1000000}'),
  },
  "hs-ping-timeout-negative": { open: (c) => c.text(handshake(c.sid, { pingTimeout: -1 })) },
  "hs-ping-timeout-huge": { open: (c) => c.text(handshake(c.sid, { pingTimeout: 2 ** 64 })) },
  "hs-ping-timeout-null": { open: (c) => c.text(handshake(c.sid, { pingTimeout: null })) },
  "hs-heartbeat-zero": { open: (c) => c.text(handshake(c.sid, { pingInterval: 0, pingTimeout: 0 })) },
  "hs-max-payload-weird": { open: (c) => c.text(handshake(c.sid, { maxPayload: -1e308 })) },
  "hs-max-payload-string": { open: (c) => c.text(handshake(c.sid, { maxPayload: "a lot" })) },
  "hs-open-twice": {
    open: (c) => {
      c.text(handshake(c.sid));
      c.text(handshake("second-" + c.sid));
    },
  },
  "hs-message-first": {
    open: (c) => {
      c.text('42["early",1]');
      c.text(handshake(c.sid));
    },
  },
  "hs-binary-first": {
    open: (c) => {
      c.bin([1, 2, 3]);
      c.text(handshake(c.sid));
    },
  },
  "hs-empty-frame": { open: (c) => c.text("") },
  "hs-close-at-once": { open: (c) => c.ws.close(1000, "bye") },

  // ---- CONNECT replies (at once) ----
  "connect-reply-invalid-json": { connect: (c, nsp) => c.sio("0", nsp, '{"sid":') },
  "connect-reply-no-sid": { connect: (c, nsp) => c.sio("0", nsp, "{}") },
  "connect-reply-sid-number": { connect: (c, nsp) => c.sio("0", nsp, '{"sid":7}') },
  "connect-reply-array": { connect: (c, nsp) => c.sio("0", nsp, '["sid"]') },
  "connect-reply-proto": {
    connect: (c, nsp) => c.sio("0", nsp, '{"sid":"' + c.sid + '","__proto__":{"polluted":"yes"},"pid":{"__proto__":{"polluted":"yes"}}}'),
  },
  "connect-error-string": { connect: (c, nsp) => c.sio("4", nsp, '"string refusal"') },
  "connect-error-number": { connect: (c, nsp) => c.sio("4", nsp, "42") },
  "connect-error-null": { connect: (c, nsp) => c.sio("4", nsp, "null") },
  "connect-error-no-message": { connect: (c, nsp) => c.sio("4", nsp, '{"data":{"code":1}}') },
  "connect-error-message-object": { connect: (c, nsp) => c.sio("4", nsp, '{"message":{"text":"refused"}}') },
  "connect-error-empty": { connect: (c, nsp) => c.sio("4", nsp, "") },
  "connect-error-proto": { connect: (c, nsp) => c.sio("4", nsp, PROTO_ERROR_TEXT) },

  // ---- after the connection is up, on `go` ----
  "connect-twice": { go: (c) => c.text('40{"sid":"another-sid"}') },
  "connect-unasked-nsp": { go: (c) => c.text('40/not-asked,{"sid":"x"}') },
  "connect-error-when-connected": { go: (c) => c.text('44{"message":"late refusal"}') },

  // Engine.IO level
  "eio-unknown-type": { go: (c) => c.text("7hello") },
  "eio-unknown-type-letter": { go: (c) => c.text("xyz") },
  "eio-empty-frame": { go: (c) => c.text("") },
  "eio-noop-upgrade-pong": {
    go: (c) => {
      c.text("6");
      c.text("5");
      c.text("3");
      c.text("3probe");
    },
  },

  // Socket.IO level
  "sio-unknown-type": { go: (c) => c.text('47["x",1]') },
  "sio-empty-message": { go: (c) => c.text("4") },
  "event-invalid-json": { go: (c) => c.text('42["bad",{"a":1,]') },
  "event-not-array": { go: (c) => c.text('42{"0":"bad","length":1}') },
  "event-string-data": { go: (c) => c.text('42"bad"') },
  "event-empty-array": { go: (c) => c.text("42[]") },
  "event-name-not-string": {
    go: (c) => {
      c.text("42[null,1]");
      c.text('42[{"name":"bad"},1]');
      c.text('42[["bad"],1]');
      c.text("42[true,1]");
    },
  },
  "event-unknown-nsp": { go: (c) => c.text('42/nowhere,["bad",1]') },
  "event-disconnect-unknown-nsp": { go: (c) => c.text("41/nowhere,") },
  "event-ack-id-overflow": { go: (c) => c.text('4299999999999999999999["bad"]') },
  "event-many-args": {
    go: (c) => c.text(once("many", () => '42["bad"' + ",0".repeat(MANY_ARGS) + "]")),
  },
  // One case per reserved name (socket.io-parser's RESERVED_EVENTS).
  "reserved-connect": { go: (c) => c.text('42["connect"]') },
  "reserved-connect_error": { go: (c) => c.text('42["connect_error",{"message":"from the server"}]') },
  "reserved-disconnect": { go: (c) => c.text('42["disconnect","io server disconnect"]') },
  "reserved-disconnecting": { go: (c) => c.text('42["disconnecting","io server disconnect"]') },
  "reserved-newListener": { go: (c) => c.text('42["newListener","x",null]') },
  "reserved-removeListener": { go: (c) => c.text('42["removeListener","x",null]') },
  "reserved-connect-with-ack": { go: (c) => c.text('4217["connect"]') },

  // Acks
  "ack-unknown-id": {
    go: (c, { id }) => {
      c.text("43" + (id + 1000) + '["stray"]');
      c.text('4399999["stray"]');
      c.text("43" + id + '["ok"]');
    },
  },
  "ack-twice": {
    go: (c, { id }) => {
      c.text("43" + id + '["first"]');
      c.text("43" + id + '["second"]');
    },
  },
  "ack-invalid-json": { go: (c, { id }) => c.text("43" + id + '["x",') },
  "ack-not-array": { go: (c, { id }) => c.text("43" + id + '{"a":1}') },
  "ack-string": { go: (c, { id }) => c.text("43" + id + '"x"') },
  "binary-ack-invalid-json": {
    go: (c, { id }) => {
      c.text("461-" + id + '[{"_placeholder":true,"num":0},');
      c.bin([1, 2, 3]);
    },
  },
  "binary-ack-placeholder-out-of-range": {
    go: (c, { id }) => {
      c.text("461-" + id + JSON.stringify([ph(1)]));
      c.bin([1, 2, 3]);
    },
  },
  "binary-ack-placeholder-proto": {
    go: (c, { id }) => {
      c.text("461-" + id + JSON.stringify([ph("__proto__")]));
      c.bin([1, 2, 3]);
    },
  },
  "binary-ack-placeholder-fraction": {
    go: (c, { id }) => {
      c.text("461-" + id + JSON.stringify([ph(0.5)]));
      c.bin([1, 2, 3]);
    },
  },
  "binary-ack-placeholder-string-num": {
    go: (c, { id }) => {
      c.text("461-" + id + JSON.stringify([ph("0")]));
      c.bin([1, 2, 3]);
    },
  },
  "binary-ack-count-zero-placeholder": { go: (c, { id }) => c.text("460-" + id + JSON.stringify([ph(0)])) },
  "binary-ack-too-few": {
    go: (c, { id }) => {
      c.text("462-" + id + JSON.stringify([ph(0), ph(1)]));
      c.bin([1, 2, 3]);
    },
  },
  "ack-proto": { go: (c, { id }) => c.text("43" + id + "[" + PROTO_TEXT + "]") },

  // Binary events whose attachment count lies
  "binary-too-few": {
    go: (c) => {
      c.text("452-" + JSON.stringify(["bad", ph(0), ph(1)]));
      c.bin([1, 2, 3]);
    },
  },
  "binary-too-many": {
    go: (c) => {
      c.text("451-" + JSON.stringify(["bin", ph(0)]));
      c.bin([1, 2, 3]);
      c.bin([4, 5, 6]);
    },
  },
  "binary-count-huge": {
    go: (c) => {
      c.text("451000000000-" + JSON.stringify(["bad", ph(0)]));
      c.bin([1, 2, 3]);
    },
  },
  "binary-count-max-then-text": {
    go: (c) => {
      c.text("459999-" + JSON.stringify(["bad", ph(0)]));
      c.bin([1, 2, 3]);
    },
  },
  "binary-count-zero-placeholder": { go: (c) => c.text("450-" + JSON.stringify(["bad", ph(0)])) },
  "binary-count-not-number": { go: (c) => c.text("45x-" + JSON.stringify(["bad", ph(0)])) },
  "placeholder-out-of-range": {
    go: (c) => {
      c.text("451-" + JSON.stringify(["bad", ph(3)]));
      c.bin([1, 2, 3]);
    },
  },
  "placeholder-negative": {
    go: (c) => {
      c.text("451-" + JSON.stringify(["bad", ph(-1)]));
      c.bin([1, 2, 3]);
    },
  },
  "placeholder-fraction": {
    go: (c) => {
      c.text("451-" + JSON.stringify(["bad", ph(0.5)]));
      c.bin([1, 2, 3]);
    },
  },
  "placeholder-string-num": {
    go: (c) => {
      c.text("451-" + JSON.stringify(["bad", ph("0")]));
      c.bin([1, 2, 3]);
    },
  },
  "placeholder-proto-num": {
    go: (c) => {
      c.text("451-" + JSON.stringify(["bad", ph("__proto__")]));
      c.bin([1, 2, 3]);
    },
  },
  "binary-nothing-pending": { go: (c) => c.bin([1, 2, 3]) },
  "binary-invalid-utf8": {
    go: (c) => {
      c.text("451-" + JSON.stringify(["bin", ph(0)]));
      c.bin(INVALID_UTF8);
    },
  },
  "binary-close-mid-attachments": {
    go: (c) => {
      c.text("453-" + JSON.stringify(["bad", ph(0), ph(1), ph(2)]));
      c.bin([1, 2, 3]);
      c.ws.close(1000, "gone mid-packet");
      return false;
    },
  },
  "binary-cut-mid-attachments": {
    go: (c) => {
      c.text("452-" + JSON.stringify(["bad", ph(0), ph(1)]));
      // No close frame: the TCP connection is destroyed once the frames are written.
      c.ws.send(Buffer.from([1, 2, 3]), { binary: true }, () => c.ws.terminate());
      return false;
    },
  },

  // Huge frames
  "huge-invalid-json": { go: (c) => c.text(once("hij", () => '42["bad","' + fill("a", HUGE))) },
  "huge-unknown-type": { go: (c) => c.text(once("hut", () => "4x" + fill("a", HUGE))) },
  "huge-unknown-type-non-ascii": { go: (c) => c.text(once("hutn", () => "4x" + fill("é", HUGE))) },
  "huge-eio-unknown": { go: (c) => c.text(once("heu", () => "7" + fill("a", HUGE))) },
  "huge-ping-payload": { go: (c) => c.text(once("hpp", () => "2" + fill("a", HUGE))) },
  "huge-open-again": { go: (c) => c.text(once("hoa", () => '0{"sid":"' + fill("a", HUGE) + '"}')) },
  "huge-valid-event": { go: (c) => c.text(once("hve", () => '42["big","' + fill("a", HUGE - 12) + '"]')) },
  "huge-namespace": { go: (c) => c.text(once("hns", () => "42/" + fill("n", 100_000) + ',["bad",1]')) },
  "huge-namespace-connect": { go: (c) => c.text(once("hnc", () => "40/" + fill("n", 100_000) + ',{"sid":"x"}')) },
  "huge-ack-id": { go: (c) => c.text(once("hai", () => "43" + fill("9", 100_000) + "[1]")) },
  "huge-attachment-count": { go: (c) => c.text(once("hac", () => "45" + fill("9", 100_000) + '-["bad"]')) },

  // Deep nesting
  "deep-arrays": { go: (c) => c.text(once("da", () => '42["deep",' + "[".repeat(DEPTH) + "]".repeat(DEPTH) + "]")) },
  "deep-objects": {
    go: (c) => c.text(once("do", () => '42["deep",' + '{"a":'.repeat(DEPTH) + "1" + "}".repeat(DEPTH) + "]")),
  },
  "deep-arrays-placeholder": {
    go: (c) => {
      c.text(once("dap", () => '451-["deep",' + "[".repeat(DEPTH) + JSON.stringify(ph(0)) + "]".repeat(DEPTH) + "]"));
      c.bin([7]);
    },
  },

  // Ping floods
  "ping-flood": {
    go: (c) => {
      for (let i = 0; i < FLOOD; i++) c.text("2");
    },
  },
  "ping-flood-probe": {
    go: (c) => {
      for (let i = 0; i < FLOOD; i++) c.text("2probe");
    },
  },

  // Prototype-shaped keys
  "proto-event": { go: (c) => c.text('42["proto",' + PROTO_TEXT + "]") },
  "proto-event-binary": {
    go: (c) => {
      c.text("452-" + '["proto",' + PROTO_BIN_TEXT + "]");
      for (const b of PROTO_BIN_BYTES) c.bin(b);
    },
  },
  "proto-event-name": {
    go: (c) => {
      c.text('42["__proto__",1]');
      c.text('42["constructor",2]');
      c.text('42["hasOwnProperty",3]');
    },
  },

  // Rooms convention (ROOMS.md) with answers of the wrong shape
  "rooms-join-garbage": { join: (c, id) => c.text("43" + id + '[{"ok":true,"members":"everyone"}]'), go: () => {} },
  "rooms-presence-garbage": {
    go: (c) => {
      for (const args of [
        ["r", null],
        ["r", { joined: null }],
        ["r", { joined: { id: 5 } }],
        ["r", { joined: { id: "__proto__", meta: { __proto__: { polluted: "yes" } } } }],
        ["r", { left: { id: "x" } }],
        ["r", "string"],
        [{ room: "r" }, { joined: { id: "y" } }],
      ])
        c.text("42" + JSON.stringify(["rtio:presence", ...args]));
      c.text('42["rtio:room","r"]');
      c.text('42["rtio:room","r",null,"someone"]');
      c.text('42["rtio:room","r",{"ev":1},"someone"]');
      c.text('42["rtio:room","r","connect","someone"]');
    },
  },
};

/** One connection of the peer. */
class Conn {
  constructor(ws, name, id) {
    this.ws = ws;
    this.name = name;
    this.id = id;
    this.sid = randomBytes(9).toString("base64url");
    this.kase = CASES[name];
    /** What it received: { kind: "text" | "binary", data (text cut to 200 characters, or bytes), length }. */
    this.received = [];
    this.closed = false;
    /** Namespaces it connected. */
    this.nsps = new Set();
    /** The binary packet whose attachments are arriving: { head, need, bins }. */
    this.partial = null;
    this.pongs = 0;
  }

  text(s) {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(s);
  }

  bin(bytes) {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(Buffer.from(bytes), { binary: true });
  }

  /** Sends Socket.IO packet `type` on `nsp` with `data` (text). */
  sio(type, nsp, data) {
    this.text("4" + type + (nsp === "/" ? "" : nsp + ",") + data);
  }

  record(kind, data) {
    if (this.received.length >= MAX_RECORDED) return;
    this.received.push(
      kind === "text"
        ? { kind, data: data.slice(0, 200), length: data.length }
        : { kind, data: [...data.subarray(0, 200)], length: data.length },
    );
  }

  start() {
    if (!this.kase) {
      this.ws.close(4000, "unknown case");
      return;
    }
    if (this.kase.open) return this.kase.open(this);
    const [pingInterval, pingTimeout] = this.kase.ping || [25000, 20000];
    this.text(handshake(this.sid, { pingInterval, pingTimeout }));
    this.heartbeat(pingInterval, pingTimeout);
  }

  /** Pings every `interval` ms; closes the socket when a ping is not answered within `timeout`. */
  heartbeat(interval, timeout) {
    this.pinger = setInterval(() => {
      this.text("2");
      clearTimeout(this.deadline);
      this.deadline = setTimeout(() => this.ws.terminate(), timeout);
    }, interval);
  }

  stop() {
    this.closed = true;
    clearInterval(this.pinger);
    clearTimeout(this.deadline);
  }

  onFrame(data, isBinary) {
    if (isBinary) {
      this.record("binary", data);
      const p = this.partial;
      if (!p) return;
      p.bins.push(Buffer.from(data));
      if (p.bins.length === p.need) {
        this.partial = null;
        this.packet(p.head, p.bins);
      }
      return;
    }
    const s = data.toString("utf8");
    this.record("text", s);
    const type = s[0];
    if (type === "2") return this.text("3" + s.slice(1));
    if (type === "3") {
      this.pongs++;
      clearTimeout(this.deadline);
      return;
    }
    if (type !== "4") return;
    const head = parseSio(s.slice(1));
    if (!head) return;
    if (head.attachments > 0) this.partial = { head, need: head.attachments, bins: [] };
    else this.packet(head, []);
  }

  /** A whole Socket.IO packet from the client. */
  packet(p, bins) {
    const k = this.kase;
    if (p.type === 0) {
      if (k.connect) return k.connect(this, p.nsp);
      this.nsps.add(p.nsp);
      return this.sio("0", p.nsp, JSON.stringify({ sid: this.sid + (p.nsp === "/" ? "" : "#" + p.nsp) }));
    }
    if (p.type === 1) return this.nsps.delete(p.nsp);
    if (p.type !== 2 && p.type !== 5) return;
    let args;
    try {
      args = JSON.parse(p.data);
    } catch {
      return;
    }
    if (!Array.isArray(args)) return;
    const [event, ...rest] = args;
    if (event === "echo" && p.id !== undefined) {
      const count = bins.length;
      const type = count ? "6" + count + "-" : "3";
      this.sio(type, p.nsp, p.id + JSON.stringify(rest));
      for (const b of bins) this.bin(b);
    } else if (event === "rtio:join" && p.id !== undefined) {
      if (k.join) return k.join(this, p.id, rest);
      this.sio("3", p.nsp, p.id + JSON.stringify([{ ok: true, members: [{ id: this.sid, meta: rest[1] ?? null }] }]));
    } else if (event === "go" && k.go) {
      if (k.go(this, { id: p.id, nsp: p.nsp, args: rest }) !== false) this.text('42["after"]');
    }
  }
}

/**
 * Reads a Socket.IO packet's header: { type, attachments, nsp, id, data }, or null when it is
 * not one (the client under test sends well-formed packets; anything else is only recorded).
 */
function parseSio(s) {
  const m = /^([0-6])(?:(\d+)-)?(\/[^,]*)?,?(\d+)?([\s\S]*)$/.exec(s);
  if (!m) return null;
  return {
    type: Number(m[1]),
    attachments: m[2] ? Number(m[2]) : 0,
    nsp: m[3] || "/",
    id: m[4] !== undefined ? Number(m[4]) : undefined,
    data: m[5],
  };
}

/**
 * Starts the peer on 127.0.0.1 (an ephemeral port). Returns { url, received(name), close() }:
 * `url` is its base URL (http://127.0.0.1:<port>); `received(name)` the connections of case
 * `name` made so far, oldest first, each { sid, frames, pongs, closed } (`frames` as
 * Conn#record keeps them); `close()` ends every connection and stops listening.
 */
export async function startHostilePeer() {
  const conns = [];
  let next = 0;
  const server = createServer((req, res) => {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("WebSocket only\n");
  });
  // Up to 64 MiB from a client (the cases never ask it for more than a few bytes).
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * MiB, perMessageDeflate: false });
  server.on("upgrade", (req, socket, head) => {
    const u = new URL(req.url, "http://127.0.0.1");
    const ok =
      u.pathname === "/socket.io/" && u.searchParams.get("EIO") === "4" && u.searchParams.get("transport") === "websocket";
    if (!ok) {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c = new Conn(ws, u.searchParams.get("case") || "normal", next++);
      conns.push(c);
      if (conns.length > MAX_CONNECTIONS) conns.shift();
      ws.on("message", (data, isBinary) => c.onFrame(data, isBinary));
      ws.on("close", () => c.stop());
      ws.on("error", () => c.stop());
      c.start();
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    received: (name) =>
      conns
        .filter((c) => c.name === name)
        .map((c) => ({ sid: c.sid, frames: c.received, pongs: c.pongs, closed: c.closed })),
    async close() {
      for (const c of conns) {
        c.stop();
        c.ws.terminate();
      }
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
