// What the SSE and plain-WebSocket modes (rtio/sse, rtio/ws; MODES.md) share: their wasm
// (the reconnecting stream machine and the SSE parser, bridged by hand in
// src/front/js_stream.rs, whose tables this file follows), and `StreamClient`, the emitter
// both modes are, with acks, buffering, rooms and presence. A mode adds its transport:
// `_open()`, `_close()`, `_write(item)` and `_ping()`.
import { Client, debug, loadWasm } from "./emitter.js";
import { Room } from "./rooms.js";

const dec = new TextDecoder();
/** JS values the wasm holds, by ref (0 is `undefined`); released slots are reused. */
const R = [undefined];
const FREE = [];
/** Handlers of the open streams, by handle. */
const H = [];
let W;

const ref = (x) => {
  if (x === undefined) return 0;
  const i = FREE.length ? FREE.pop() : R.length;
  R[i] = x;
  return i;
};
const take = (i) => {
  const x = R[i];
  if (i) (R[i] = undefined), FREE.push(i);
  return x;
};

const imports = {
  r: {
    // The handler call: reports, never throws into the wasm.
    o(h, k, sp, sn, num, r) {
      try {
        H[h](k, sn ? dec.decode(new Uint8Array(W.memory.buffer, sp, sn)) : "", num, take(r));
      } catch (e) {
        reportError(e);
      }
    },
    d: take,
    n: Date.now,
  },
};

W = (await loadWasm(new URL("rtio-stream.wasm", import.meta.url), imports)).instance.exports;

/** Runs op `op` of stream `h` (see src/front/js_stream.rs). */
const c = (h, op, num = 0, data) => W.c(h, op, num, ref(data));

/** Reports a page signal to every open stream: op 8 (network; num 1 online) or 9 (visible). */
const each = (op, num) => H.forEach((f, h) => f && W.c(h, op, num, 0));
if (globalThis.addEventListener) {
  addEventListener("online", () => each(8, 1));
  addEventListener("offline", () => each(8, 0));
}
if (globalThis.document) document.addEventListener("visibilitychange", () => document.hidden || each(9));

/** Events of the client itself, which `emit` refuses and `onAny` never sees. */
const RESERVED = ["connect", "connect_error", "disconnect", "reconnect_attempt", "reconnect", "reconnect_failed", "newListener", "removeListener"];

/** Names a server cannot send: the client's own events, and `error`, where malformed input is reported. */
const LIFECYCLE = [...RESERVED, "error"];

/** The state changes the debug log names, by the wasm's output code less 4. */
const STATES = ["connect", "disconnect", "connect_error", "reconnect_attempt", "reconnect_failed"];

const timedOut = () => new Error("operation has timed out");

/**
 * The emitter of the SSE and plain-WebSocket modes (see MODES.md). Subclasses provide the
 * transport; this class runs the stream in the wasm and everything above it.
 */
export class StreamClient extends Client {
  /** `d` holds the mode's defaults, `o` the user's options. */
  constructor(url, o, d) {
    super();
    if (typeof url != "string" && !(url instanceof URL)) throw new TypeError("rtio: the URL must be a string or a URL");
    o = this.opts = { ...d, ...o };
    /** The debug log, or undefined (see `debug` in emitter.js). */
    this._d = debug(o.debug);
    /** What rooms need of a socket (see js/rooms.js). */
    this.io = { opts: o, _err: (e) => this.emitReserved("error", e) };
    this.url = new URL(url, globalThis.location?.href);
    this.connected = false;
    /** The id the server gave (`rtio:hello`), if any. */
    this.id = undefined;
    /** The rooms of the query, and the room handles. */
    this._set = new Set(o.rooms || []);
    this._rooms = new Map();
    /** Pending room joins and leaves: [room, resolve, "join" | "leave"]. */
    this._wait = [];
    this._meta = o.meta;
    const t = (x, dflt) => (x == null ? dflt : x);
    this.h = W.o(
      o.reconnection === false ? -1 : t(o.reconnectionAttempts, 1 / 0),
      t(o.reconnectionDelay, 1e3),
      t(o.reconnectionDelayMax, 5e3),
      t(o.randomizationFactor, 0.5),
      t(o.timeout, 2e4),
      this._idle(),
      this._every(),
      t(o.maxBuffer, 1e3),
      Math.random() * 2 ** 53,
    );
    H[this.h] = (k, s, num, v) => this._do(k, s, num, v);
    if (o.autoConnect !== false) this.connect();
  }

  /** Whether the client connects or reconnects (false after `disconnect()` or giving up). */
  get active() {
    return this._act === true;
  }

  /** The rooms this client asks to be in. */
  get rooms() {
    return [...this._set];
  }

  /** Connects (nothing if already active). */
  connect() {
    this._act = true;
    c(this.h, 0);
    return this;
  }

  open() {
    return this.connect();
  }

  /**
   * Disconnects for good (until `connect()`); emits held while disconnected are dropped. When
   * it returns, `connected` is false and `disconnect` has fired, also when called from a
   * listener, and nothing more is delivered until the client connects again.
   */
  disconnect() {
    this._act = false;
    c(this.h, 1);
    c(this.h, 14);
    this._gone();
    // Called from a listener, the stream's own report comes later: make it now.
    if (this.connected) this._down("io client disconnect");
    return this;
  }

  /** The connection is gone: state first, then the `disconnect` listeners. */
  _down(reason) {
    this.connected = false;
    this._gone();
    for (const r of this._rooms.values()) r.joined = false;
    this.emitReserved("disconnect", reason);
  }

  close() {
    return this.disconnect();
  }

  /** Carries out one output of the wasm (see the handler table in src/front/js_stream.rs). */
  _do(k, s, num, v) {
    if (k == 2) this._d?.("send", v.raw ?? v.e, ...(v.a || []));
    else if (k > 3 && k < 9) this._d?.(STATES[k - 4], s || num);
    if (k == 0) this._close(), (this._err = undefined), this._open();
    else if (k == 1) this._close();
    else if (k == 2) this._write(v);
    else if (k == 3) this._ping();
    else if (k == 4) {
      this.connected = true;
      this._wait = this._wait.filter(([, done, how]) => how == "join" || done({ ok: true }));
      if (num) this.emitReserved("reconnect", num);
      this.emitReserved("connect");
    } else if (k == 5) {
      // Already reported when disconnect() was called from a listener.
      if (this.connected) this._down(s);
    } else if (k == 6) {
      const err = this._err || new Error(s);
      this._err = undefined;
      // A refused join: the rooms that were being joined are given up.
      if (err.status >= 400 && err.status < 500) this._refused(err);
      this.emitReserved("connect_error", err);
    } else if (k == 7) this.emitReserved("reconnect_attempt", num);
    else if (k == 8) (this._act = false), this.emitReserved("reconnect_failed");
    else if (k == 9) {
      clearTimeout(this._t);
      if (num >= 0) this._t = setTimeout(() => c(this.h, 7), num);
    } else if (k == 10) v.f?.(new Error("rtio: disconnected before it was sent"));
    else if (k == 11) this._id = s;
    else if (k == 12) this._name = s;
    else if (k == 13) this._event(this._name, s, this._id);
    else if (k == 14) this.emitReserved("error", new Error("rtio: " + s));
  }

  /** An event arrived (`args` its arguments; `ack` to answer it, if asked). */
  _in(ev, args, ack) {
    // Left by disconnect() in a listener: the rest of what arrived with it is not delivered.
    if (!this.connected) return;
    this._d?.("receive", ev, ...args);
    this._alive();
    // A server must not fake the client's own events.
    if (LIFECYCLE.includes(ev)) return this.emitReserved("error", new Error("rtio: dropped a server event under the reserved name " + JSON.stringify(ev)));
    // More than a listener call can take (and than any application sends).
    if (args.length > 1e4) return this.emitReserved("error", new Error("rtio: dropped a server event with more than 10000 arguments"));
    if (typeof ev == "string" && ev.startsWith("rtio:")) return this._rtio(ev, args);
    if (ack) args.push(ack);
    for (const l of this._any.slice()) if (this.connected) l.call(this, ev, ...args);
    if (this.connected) this.emitReserved(ev, ...args);
  }

  /** The rooms convention's events (MODES.md): the id, the members, presence, room messages. */
  _rtio(ev, a) {
    if (ev == "rtio:hello") this.id = a[0]?.id;
    else if (ev == "rtio:members" && Array.isArray(a[1])) {
      const r = this._rooms.get(a[0]);
      // The joins waiting for this connection are answered by it.
      this._wait = this._wait.filter(([name, done]) => name != a[0] || done({ ok: true, members: a[1] }));
      if (r && r._me) r._sync(a[1]), r._ok();
    } else if (ev == "rtio:room" || ev == "rtio:presence") this._rooms.get(a[0])?._in([ev, ...a]);
  }

  /** A connection that failed with a 4xx: the joins waiting for it are refused. */
  _refused(err) {
    const msg = (err.data && err.data.error) || err.message;
    for (const [name, done, how] of this._wait.splice(0)) {
      if (how == "join") this._set.delete(name);
      done(how == "join" ? { ok: false, error: msg } : { ok: true });
    }
  }

  /** The connection is gone: what waited for an answer on it fails (a mode may add to this). */
  _gone() {}

  /** An emit's ack came, failed or timed out (a mode may forget it). */
  _settled() {}

  /** The query of the stream's URL: the rooms, meta and `query`. */
  _url(extra) {
    const u = new URL(this.url);
    for (const r of this._set) u.searchParams.append("room", r);
    if (this._meta !== undefined) u.searchParams.set("meta", JSON.stringify(this._meta));
    for (const [k, v] of Object.entries({ ...this.opts.query, ...extra })) u.searchParams.set(k, v);
    return u.href;
  }

  /** Reconnects with the current rooms, once per tick however many changes were made. */
  _again() {
    if (this._soon) return;
    this._soon = true;
    queueMicrotask(() => {
      this._soon = false;
      if (!this._act) return;
      c(this.h, 1);
      c(this.h, 0);
    });
  }

  /** Asks to be in `room` (a reconnect with the new set); resolves once connected with it. */
  join(room) {
    return this._change(room, true);
  }

  /** Asks to leave `room` (a reconnect with the new set); resolves once connected without it. */
  leave(room) {
    return this._change(room, false);
  }

  /** Changes the set of rooms; resolves at the next connect. */
  _change(room, add) {
    if (typeof room != "string" || !room) throw new TypeError("rtio: a room name is a non-empty string");
    if (this._set.has(room) == add) return Promise.resolve();
    add ? this._set.add(room) : this._set.delete(room);
    this._again();
    return new Promise((done) => this.once("connect", () => done()));
  }

  /**
   * A room handle's `rtio:join` (also an update of `meta`) or `rtio:leave`: a join is answered
   * by the room's `rtio:members` on the next connection, a leave by the next connection.
   */
  _ask(room, join, fn) {
    if (join) this._set.add(room);
    else this._set.delete(room);
    this._wait.push([room, fn, join ? "join" : "leave"]);
    this._again();
  }

  /**
   * The room `name` (MODES.md, ROOMS.md): the same handle until it is left. Needs a server that
   * sends `rtio:members` (as examples/server does).
   */
  room(name) {
    if (typeof name != "string" || !name || name.length > 128)
      throw new TypeError("rtio: a room name is a string of 1 to 128 characters");
    let r = this._rooms.get(name);
    if (!r) this._rooms.set(name, (r = new Room(this, name)));
    return r;
  }

  /** Sends the next emit to `room` (the server relays it to the room's members). */
  to(room) {
    this.flags.room = room;
    return this;
  }

  /**
   * Sends `ev` with `args` (JSON values). A function as last argument gets the ack: its
   * arguments, or with `timeout()` an error first.
   */
  emit(ev, ...args) {
    if (RESERVED.includes(ev)) throw new Error('"' + String(ev) + '" is a reserved event name');
    const f = this.flags;
    this.flags = {};
    const fn = typeof args[args.length - 1] == "function" ? args.pop() : null;
    // The rooms convention's requests, from room handles.
    if (ev == "rtio:join" || ev == "rtio:leave") {
      if (ev == "rtio:join") this._meta = args[1];
      this._ask(args[0], ev == "rtio:join", (r) => fn?.(null, r));
      return this;
    }
    const item = { e: ev, a: args, r: f.room };
    if (ev == "rtio:to") (item.e = args[1]), (item.a = args.slice(2)), (item.r = args[0]);
    if (fn) {
      const t = f.timeout ?? this.opts.ackTimeout;
      const errs = fn.withError || t > 0;
      let tm;
      item.f = (err, ...res) => {
        if (!item.f) return;
        item.f = undefined;
        this._settled(item);
        clearTimeout(tm);
        if (err) errs && fn.call(this, err);
        else errs ? fn.call(this, null, ...res) : fn.apply(this, res);
      };
      if (t > 0) tm = setTimeout(() => item.f?.(timedOut()), t);
    }
    return this._push(item, f.volatile, [ev, ...args]);
  }

  /** Writes `item` now, or holds it while disconnected (drops it if `volatile`). */
  _push(item, volatile, data) {
    if (volatile) c(this.h, 3, 0, item);
    else if (c(this.h, 2, 0, item) == -2) {
      const err = new Error("rtio: send buffer is full while disconnected");
      err.data = data;
      item.f?.(err);
      this.emitReserved("error", err);
    }
    return this;
  }

  /** Something arrived: the watchdog starts again. */
  _alive() {
    c(this.h, 5);
  }

  /** Tells the stream that the transport opened (op 4), closed or failed (op 6), or sent bytes of SSE (op 12). */
  _opened() {
    c(this.h, 4);
  }

  _closed(error, err) {
    this._close();
    if (err) this._err = err;
    c(this.h, 6, +error);
  }

  /** Feeds SSE bytes to the wasm's parser (fetch transport); its events come back as kinds 11-13. */
  _feed(bytes) {
    for (let i = 0; i < bytes.length; i += 65536) {
      const part = bytes.subarray(i, i + 65536);
      const p = W.b(part.length);
      new Uint8Array(W.memory.buffer, p, part.length).set(part);
      c(this.h, 12, part.length);
    }
  }

  /** The SSE body ended: a partial event is dropped. */
  _ended() {
    c(this.h, 13);
  }

  /** The server's reconnect delay floor (ms). */
  _floor(ms) {
    c(this.h, 10, ms);
  }

  /** Frees the stream; the client cannot be used again. */
  free() {
    this.disconnect();
    this._close();
    clearTimeout(this._t);
    c(this.h, 11);
    H[this.h] = undefined;
    this.h = -1;
  }
}
