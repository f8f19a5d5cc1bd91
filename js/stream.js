// What the SSE and plain-WebSocket modes (rtio/sse, rtio/ws; MODES.md) share: their wasm's
// `StreamConnection` (src/front/js_stream.rs: the reconnecting stream, its timer and the
// page's listeners, and the transports, EventSource, fetch and WebSocket), and
// `StreamClient`, the emitter both modes are, with acks, rooms and presence. A mode says how
// its transport is reached (`_target()`, `_headers()`) and reads what arrives. Importing it
// defines things and does nothing else: the wasm loads with the first connection (or
// `init()`).
import { Client, debug } from "./emitter.js";
import { Room } from "./rooms.js";
import { guard, wasmLoader } from "./bridge.js";
import { createModule } from "./generated/rtio-stream.js";

/** The wasm (rtio-stream.wasm beside this module: bundlers follow this URL), loaded on first use. */
const wasm = wasmLoader(new URL("rtio-stream.wasm", import.meta.url), createModule);

/**
 * Loads the wasm now rather than at the first connection (optional: the first client loads
 * it when needed). `source`: where from (a URL, a Response, the bytes or a compiled
 * WebAssembly.Module); by default the rtio-stream.wasm beside this module.
 * @returns {Promise<void>}
 */
export const init = (source) => wasm.init(source);

/** Instantiates the wasm synchronously from its bytes (or a compiled WebAssembly.Module): for workers, Node and tests. */
export const initSync = (bytes) => wasm.initSync(bytes);

/** Events of the client itself, which `emit` refuses and `onAny` never sees. */
const RESERVED = ["connect", "connect_error", "disconnect", "reconnect_attempt", "reconnect", "reconnect_failed", "newListener", "removeListener"];

/** Names a server cannot send: the client's own events, and `error`, where malformed input is reported. */
const LIFECYCLE = [...RESERVED, "error"];

const timedOut = () => new Error("operation has timed out");

/** `d` as JSON if it is, else the text itself. */
export const parse = (d) => {
  try {
    return JSON.parse(d);
  } catch {
    return d;
  }
};

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
    if (o.autoConnect !== false) this.connect();
  }

  /**
   * Runs `fn(c)` on the wasm's StreamConnection `c`, made on first use: at once when the wasm is
   * ready, else once it is (calls wait in order). A wasm that cannot load is a `connect_error`.
   */
  _use(fn) {
    wasm.use(
      (glue) => {
        if (this._g !== glue) this._c = null;
        if (!this._c) {
          this._g = glue;
          this._c = new glue.StreamConnection({ ...this.opts, ...this._mode(), idleTimeout: this._idle(), pingInterval: this._every() }, this._events());
          this._listen?.();
        }
        fn(this._c);
      },
      (err) => {
        if (this._act) (this._act = false), this.emitReserved("connect_error", err);
      },
    );
  }

  /** What the wasm's connection reports to (see StreamEvents in src/front/js_stream.rs). */
  _events() {
    // (A mode has the methods of its own transport only.)
    const on = (f) => f && guard(f.bind(this));
    return {
      // (Kept: a change of rooms reconnects only if the URL in use lacks it.)
      _target: () => (this._sent = this._target()),
      _headers: () => this._headers(),
      _state: on(this._state),
      _cause: on(this._cause),
      _message: on((e) => this._event(e.type, e.data, e.lastEventId)),
      _sse: on(this._event),
      _malformed: on((m) => this.emitReserved("error", new Error("rtio: " + m))),
      _frame: on(this._frame),
      // Writes an item: what the WebSocket sends, or the SSE mode's POST.
      _write: (item) => (this._d?.("send", item.raw ?? item.e ?? item, ...(item.a || [])), this._write(item)),
    };
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
    this._use((c) => c.connect());
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
    // The sends held while disconnected are dropped: their acks fail.
    this._use((c) => c.disconnect().forEach((item) => item.f?.(new Error("rtio: disconnected before it was sent"))));
    this._gone();
    // Called from a listener, the stream's own report comes later: make it now.
    if (this.connected) this._down("io client disconnect");
    return this;
  }

  /** The connection is gone: state first, then the `disconnect` listeners (`why`: what closed it, if known). */
  _down(reason, why) {
    this.connected = false;
    this._gen = (this._gen || 0) + 1;
    this._gone();
    for (const r of this._rooms.values()) r.joined = false;
    why ? this.emitReserved("disconnect", reason, why) : this.emitReserved("disconnect", reason);
  }

  close() {
    return this.disconnect();
  }

  /**
   * A state change of the connection: `connect` (after `detail` attempts), `disconnect` and
   * `connect_error` (the reason), `reconnect_attempt` (its number), `reconnect_failed`.
   */
  _state(name, detail) {
    this._d?.(name, detail);
    if (name == "connect") {
      this.connected = true;
      // Counts connections: what answers an event of an earlier one is not sent (see ws.js).
      this._gen = (this._gen || 0) + 1;
      this._wait = this._wait.filter(([, done, how]) => how == "join" || done({ ok: true }));
      if (detail) this.emitReserved("reconnect", detail);
      this.emitReserved("connect");
    } else if (name == "disconnect") {
      // What closed it (a WebSocket's close code and reason), for the listeners' second argument.
      const why = this._err;
      this._err = undefined;
      // Already reported when disconnect() was called from a listener.
      if (this.connected) this._down(detail, why);
    } else if (name == "connect_error") {
      const err = this._err || new Error(detail);
      this._err = undefined;
      // A refused join: the rooms that were being joined are given up.
      if (err.status >= 400 && err.status < 500) this._refused(err);
      this.emitReserved("connect_error", err);
    } else {
      if (name == "reconnect_failed") this._act = false;
      this.emitReserved(name, detail);
    }
  }

  /** Why the attempt that fails next failed (see `_cause` in src/front/js_stream.rs): kept for its `connect_error`. */
  _cause(kind, a, b) {
    this._err =
      kind == "http"
        ? Object.assign(new Error("rtio: HTTP " + a), { status: a, data: parse(b) })
        : kind == "close"
          ? Object.assign(new Error("rtio: websocket closed (" + a.code + ")"), { code: a.code, reason: a.reason })
          : kind == "error"
            ? new Error("rtio: websocket error")
            : kind == "unopened"
              ? new Error("rtio: the event stream could not be opened")
              : a;
  }

  /** An event arrived (`args` its arguments; `ack` to answer it, if asked). */
  _in(ev, args, ack) {
    // Left by disconnect() in a listener: the rest of what arrived with it is not delivered.
    if (!this.connected) return;
    this._d?.("receive", ev, ...args);
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
      if (this._act) this._use((c) => this._sent !== undefined && this._sent !== this._target() && c.reconnect());
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
      item.f = (err, ...res) => {
        if (!item.f) return;
        item.f = undefined;
        this._settled(item);
        item.tm?.free();
        if (err) errs && fn.call(this, err);
        else errs ? fn.call(this, null, ...res) : fn.apply(this, res);
      };
      // The timeout runs on the wasm's timers (gloo-timers).
      if (t > 0) wasm.use((g) => item.f && (item.tm = new g.Delay(t, guard(() => item.f?.(timedOut())))), () => {});
    }
    return this._push(item, f.volatile, [ev, ...args]);
  }

  /** Writes `item` now, or holds it while disconnected (drops it if `volatile`). */
  _push(item, volatile, data) {
    this._use((c) => {
      if (volatile) return c.sendVolatile(item);
      try {
        c.send(item);
      } catch (err) {
        if (err instanceof WebAssembly.RuntimeError) throw err;
        err.data = data;
        item.f?.(err);
        this.emitReserved("error", err);
      }
    });
    return this;
  }

  /** Frees the stream; the client cannot be used again. */
  free() {
    this.disconnect();
    const c = this._c;
    this._c = null;
    if (c) queueMicrotask(() => c.free());
  }
}
