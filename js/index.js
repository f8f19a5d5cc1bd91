// rtio: Socket.IO v5 client whose protocol engine runs in WebAssembly.
// This entry mirrors socket.io-client 4.8's public API over the wasm's `Connection`
// (src/front/js.rs): the wasm holds the WebSocket, the timer and the page's listeners and owns
// the Engine.IO handshake and heartbeat, packet headers, namespace state, ack ids and timeouts,
// and the pre-connect buffer. JS (de)serialises payloads with the browser's JSON and dispatches
// to listeners. Importing it defines things and does nothing else: the wasm loads with the
// first connection (or `init()`).
import { Client, Emitter, debug, rm } from "./emitter.js";
import { Room } from "./rooms.js";
import { guard, report, wasmLoader } from "./bridge.js";
import { lastString, writeStart } from "./frames.js";
import { createModule } from "./generated/rtio.js";

/** The wasm (rtio.wasm beside this module: bundlers follow this URL), loaded on first use. */
const wasm = wasmLoader(new URL("rtio.wasm", import.meta.url), createModule);

/**
 * Loads the wasm now rather than at the first connection (optional: `io()` loads it when
 * needed). `source`: where from (a URL, a Response, the bytes or a compiled
 * WebAssembly.Module); by default the rtio.wasm beside this module.
 * @returns {Promise<void>}
 */
export const init = (source) => wasm.init(source);

/**
 * Instantiates the wasm synchronously from its bytes (or a compiled WebAssembly.Module): for
 * workers, Node and tests, where there is nothing to fetch it from.
 */
export const initSync = (bytes) => wasm.initSync(bytes);

/** The shared-connection module (shared.js), loaded by the first Manager with `shared`. */
let shared, sharing;

/** The timer functions at import, for `useNativeTimers` (others read the global ones at each call, so fake timers installed later are followed). */
const NATIVE_TIMERS = [setTimeout, clearTimeout];

/** Socket.IO protocol revision spoken by this client. */
export const protocol = 5;

const RESERVED = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];

/** The most arguments a received event may have; more is refused as malformed. */
const MAX_ARGS = 1e4;


const isBin = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v);
/** What is sent as a binary attachment: what `isBin` accepts, and a `Blob` (a `File`), which the WebSocket sends as binary in order with the rest. */
const isOutBin = (v) => isBin(v) || (globalThis.Blob && v instanceof Blob);

/**
 * Replaces every ArrayBuffer / ArrayBufferView in `v` by `{_placeholder: true, num}` and
 * collects them in `bins` (socket.io-parser's deconstructPacket). Copy-on-write: returns
 * `v` itself when it holds no binary, so the common path copies nothing. Values with
 * `toJSON` (Date...) are left to JSON.stringify.
 */
function strip(v, bins) {
  if (v === null || typeof v != "object") return v;
  if (isOutBin(v)) return { _placeholder: true, num: bins.push(v) - 1 };
  if (typeof v.toJSON == "function") return v;
  let out = v;
  // Indexed loop for arrays: measurably faster than an iterator on the hot emit path.
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = strip(v[i], bins);
      if (x !== v[i]) (out === v ? (out = v.slice()) : out)[i] = x;
    }
  } else {
    for (const k in v) {
      const x = strip(v[k], bins);
      if (x !== v[k]) (out === v ? (out = { ...v }) : out)[k] = x;
    }
  }
  return out;
}

/** The JSON text of an args array, with placeholders for the binaries it appends to `bins`. */
const encode = (args, bins) => JSON.stringify(strip(args, bins));

/** Puts attachments back in place of their placeholders, in place (faster than a JSON.parse reviver). */
function fill(v, atts) {
  if (v === null || typeof v != "object") return v;
  if (v._placeholder === true) {
    if (typeof v.num != "number" || !isBin(atts[v.num])) throw new Error("illegal attachments");
    return atts[v.num];
  }
  for (const k in v) {
    const x = fill(v[k], atts);
    // Defined, not assigned: a key "__proto__" stays an own property.
    if (x !== v[k]) Object.defineProperty(v, k, { value: x, writable: true, enumerable: true, configurable: true });
  }
  return v;
}

/** Parses the payload of `v` from UTF-16 offset `at`; only walks it when attachments came with it. */
function decode(v, at, atts) {
  const d = JSON.parse(v.slice(at));
  return atts ? fill(d, atts) : d;
}

/**
 * Resolves `uri` the way socket.io-client does; returns the engine URL (of a WebSocket, or of
 * polling requests if `polling`) and the namespace.
 */
function target(uri, opts, polling) {
  // Outside a page (a server render), a URL without an origin is taken on http://localhost:
  // the socket is made and its connection fails there; nothing throws.
  const page = globalThis.location;
  const loc = page || { origin: "http://localhost", protocol: "http:" };
  if (uri == null) uri = loc.origin;
  else if (uri[0] == "/") uri = (uri[1] == "/" ? loc.protocol : loc.origin) + uri;
  else if (!/^(https?|wss?):\/\//.test(uri)) uri = (page ? page.protocol : "https:") + "//" + uri;
  const u = new URL(uri);
  const q = new URLSearchParams(u.search);
  for (const [k, v] of new URLSearchParams(opts.query || "")) q.set(k, v);
  q.set("EIO", "4");
  q.set("transport", polling ? "polling" : "websocket");
  const path = (opts.path || "/socket.io").replace(/\/$/, "") + (opts.addTrailingSlash === false ? "" : "/");
  return {
    url: u.protocol.replace(polling ? /^ws/ : /^http/, polling ? "http" : "ws") + "//" + u.host + path + "?" + q,
    nsp: u.pathname,
  };
}

/**
 * socket.io-client options accepted for compatibility that have no effect here (see the
 * README's migration notes); named once in the debug log when given.
 */
const IGNORED = ["parser", "protocols", "transportOptions", "agent", "autoUnref"];

/** The Manager's tunables that have getters and setters, with their defaults. */
const TUNABLES = { reconnection: true, reconnectionAttempts: 1 / 0, reconnectionDelay: 1e3, reconnectionDelayMax: 5e3, randomizationFactor: 0.5, timeout: 2e4 };

/**
 * An Error as engine.io-client reports a failed transport: "websocket error" or "xhr poll
 * error" (long-polling), `type` "TransportError", the WebSocket's error event or the request's
 * error as `description`, no `context`.
 */
const transportError = (e, d = e?.c.lastError()) =>
  Object.assign(new Error(d instanceof Error ? "xhr poll error" : "websocket error"), { type: "TransportError", description: d, context: undefined });

/**
 * One connection to a server (long-polling upgraded to WebSocket, or one transport alone: see
 * `transports`), shared by the {@link Socket}s of its namespaces.
 * With autoConnect (the default) it opens at once. It reconnects by itself after the link is
 * lost (not after `disconnect()`, a server-side disconnect or a refused CONNECT), with
 * exponential backoff and jitter.
 * Events: `open`, `close` (reason), `error` (Error, once per failed attempt), `reconnect_attempt`
 * (n), `reconnect` (n), `reconnect_error` (Error), `reconnect_failed`.
 */
export class Manager extends Emitter {
  /**
   * @param {string} [uri] server URL; only its origin and query are used (the namespace comes from {@link Manager#socket}).
   * @param {object} [opts] see ManagerOptions in index.d.ts.
   */
  constructor(uri, opts) {
    super();
    if (uri && typeof uri == "object") (opts = uri), (uri = undefined);
    opts = opts || {};
    const t = opts.transports;
    if (t && !t.includes("websocket") && !t.includes("polling"))
      throw new Error("rtio: no supported transport in [" + t + "]: use polling or websocket");
    this.uri = uri;
    /** The options; `query` and `path` are read again at every connection attempt. */
    this.opts = opts;
    /** Sockets by namespace. */
    this.nsps = {};
    this._auto = opts.autoConnect !== false;
    this._t = {};
    for (const k in TUNABLES) this._t[k] = k == "reconnection" ? opts[k] !== false : opts[k] ?? TUNABLES[k];
    this._e = null;
    this._up = false;
    /**
     * Compatibility view of engine.io-client's socket: `id`, `transport.name` (the transport in
     * use: "polling" or "websocket"), `open`/`close`/`upgrade` events, and `close()`, which
     * closes the transport as a lost network would (the Manager reconnects).
     */
    this.engine = Object.defineProperty(
      Object.assign(new Emitter(), { close: () => (this._e && this._use((e) => e.c.dropTransport()), this.engine) }),
      "transport",
      { get: () => ({ name: this._e?.c.transport() || undefined }) },
    );
    const d = debug(opts.debug);
    for (const k of IGNORED) if (k in opts) d?.("option " + k + " has no effect");
    if (this._auto) this.open();
  }

  /** Returns the Socket of namespace `nsp`, creating it (and connecting it with autoConnect) if needed. */
  socket(nsp, opts) {
    let s = this.nsps[nsp];
    if (!s) s = this.nsps[nsp] = new Socket(this, nsp, opts);
    else if (this._auto && !s.active) s.connect();
    return s;
  }

  /**
   * Opens the connection if it is not open; `fn` is called once it opens, or with the Error if
   * the attempt fails, and then, as in socket.io-client, no reconnection follows: what to do
   * is the caller's. The connection stays open until {@link Manager#close}, or until its last
   * Socket disconnects.
   */
  open(fn) {
    if (!this._up) {
      if (fn) {
        const ok = () => (this.off("error", bad), fn());
        const bad = (err) => {
          this.off("open", ok);
          const e = this._e;
          this._e = null;
          for (const n in this.nsps) this.nsps[n]._act = false;
          if (e) this._end(e);
          fn(err);
        };
        this.once("open", ok).once("error", bad);
      }
      this._use((e) => e.c.open());
    }
    return this;
  }

  /** Alias of {@link Manager#open}. */
  connect(fn) {
    return this.open(fn);
  }

  /** Closes the connection: every connected Socket gets `disconnect` ("forced close", as in socket.io-client). */
  close() {
    const e = this._e;
    // Cleared first so that a listener reconnecting during close() gets a fresh engine.
    this._e = null;
    this._up = false;
    for (const n in this.nsps) this.nsps[n]._leave("forced close");
    if (e) this._end(e);
    return this;
  }

  /** Alias of {@link Manager#close}. */
  disconnect() {
    return this.close();
  }

  /**
   * Runs `fn(e)` on the connection, `e.c` being the wasm's Connection: at once when the wasm is
   * ready, else once it is (calls wait in order). The connection is made on first use, and
   * again after the last one was freed (see {@link Manager#_idle}).
   */
  _use(fn) {
    if (this.opts.shared && !shared)
      return (sharing ||= import("./shared.js")).then(
        (m) => ((shared = m), this._use(fn)),
        (err) => this._lost(err),
      );
    wasm.use(
      (glue) => {
        if (this._e?.g !== glue) this._e = null;
        fn(this._e || this._connect(glue));
      },
      (err) => this._lost(err),
    );
  }

  /** A new connection of `glue`'s wasm, with its ack callbacks and namespace indices. */
  _connect(glue) {
    const d = debug(this.opts.debug);
    const e = (this._e = { g: glue, acks: new Map(), ns: {}, d });
    this._fail = null;
    this._untrap ||= wasm.onTrap((err, g) => this._e?.g === g && this._trapped(err));
    // Reported to the Manager only while it is its connection (see _lifecycle).
    const opts = { ...this.opts, ...this._t, debug: !!d, timers: this.opts.useNativeTimers ? NATIVE_TIMERS : undefined };
    const events = {
      _url: (polling) => target(this.uri, this.opts, polling).url,
      _lifecycle: guard((name, detail) => this._lifecycle(e, name, detail)),
      _log: (sent, frame) => d?.(sent ? "send" : "receive", frame),
      _start: writeStart,
      _last: lastString,
    };
    // Shared: the connection is the host's (shared.js), this Manager drives it from afar.
    e.c = this.opts.shared ? shared.connection(glue, opts, events, this, wasm) : new glue.Connection(opts, events);
    return e;
  }

  /** Closes connection `e` and frees it once the current call returns (it may be inside one of its callbacks). */
  _end(e) {
    e.closed = 1;
    e.c.close();
    queueMicrotask(() => e.c.free());
    if (!this._e) this._untrap = void this._untrap?.();
  }

  /**
   * The wasm trapped (a bug): this Manager's connection is dead. Every Socket that was
   * connected gets `disconnect` ("transport error", with `err` saying the client failed
   * internally, the original error as its `cause`), every one trying to connect a
   * `connect_error`; with reconnection they connect again on a fresh module (at most three
   * times in a row without the connection opening in between).
   */
  _trapped(err) {
    const e = this._e;
    this._e = null;
    this._up = false;
    e.closed = 1;
    this._untrap = void this._untrap?.();
    this._err(err);
    const again = this._t.reconnection && (this._traps = (this._traps || 0) + 1) <= 3;
    for (const n in this.nsps) {
      const s = this.nsps[n];
      const want = s._act || s.connected;
      if (s.connected) s._onDisconnect(null, "transport error", err);
      else if (s._act) s.emitReserved("connect_error", err);
      s._act = false;
      if (want && again) s.connect();
    }
  }

  /** For the tests of the recovery from a trap: makes the wasm fail (`"now"`, or `"receive"`: at the next frame received). */
  [Symbol.for("rtio.failForTests")](when) {
    this._use((e) => e.c.failForTests(when));
  }

  /**
   * The wasm failed to load, or trapped: every Socket that is connected or trying to be gets
   * `err` (a `disconnect` or a `connect_error`), the Manager an `error`. A trapped module is
   * replaced at the next attempt, which reconnection makes as it would after a lost network.
   */
  _lost(err) {
    // Told once, however many calls were waiting for the wasm.
    if (this._lostErr === err) return;
    this._lostErr = err;
    const e = this._e;
    this._e = null;
    this._up = false;
    if (e) e.closed = 1;
    this._err(err);
    for (const n in this.nsps) {
      const s = this.nsps[n];
      if (s.connected) s._onDisconnect(null, "transport error", err);
      else if (s._act) {
        s._act = false;
        s.emitReserved("connect_error", err);
      }
    }
  }

  /**
   * The Error of the attempt that just failed (`"timeout"` when the connect timeout elapsed,
   * else a transport error), made once per attempt and emitted as the Manager's `error`; the
   * Sockets' `connect_error` and the `reconnect_error` get the same.
   */
  _failure(e, reason) {
    if (!this._fail) {
      this._fail = reason == "timeout" || reason == "parse error" ? new Error(reason) : transportError(e);
      this.emitReserved("error", this._fail);
    }
    return this._fail;
  }

  /**
   * A lifecycle event of connection `e`, named as the Manager's events are: `open`, `close`,
   * `reconnect_attempt`, `reconnect`, `reconnect_error`, `reconnect_failed`. A listener that
   * throws is reported (reportError), and delivery goes on. Events raised by a call made from a
   * listener are delivered after that listener returns.
   */
  _lifecycle(e, name, detail) {
    if (e.closed) {
      // Closed by close() or when unused: its end is told as socket.io-client tells it.
      if (name == "close") this.engine.emitReserved("close", "forced close"), this.emitReserved("close", "forced close");
    } else if (e === this._e) {
      e.d?.(name, detail);
      if (name == "upgrade") return this.engine.emitReserved(name, this.engine.transport);
      if (name[0] == "r") {
        if (name == "reconnect_attempt") this._fail = null;
        if (name == "reconnect_failed") for (const n in this.nsps) this.nsps[n]._act = false;
        this.emitReserved(name, name == "reconnect_error" ? this._fail || new Error(detail) : detail);
        return name == "reconnect_failed" && this._idle();
      }
      const was = this._up;
      this._up = name == "open";
      if (this._up) {
        this._fail = null;
        this._traps = 0;
        this.engine.id = detail;
      } else if (!was) {
        // An attempt that failed before the connection opened: `error`, no `close`.
        return this._failure(e, detail);
      } else if (detail == "transport error") this.emitReserved("error", transportError(e));
      this.engine.emitReserved(name, detail);
      this.emitReserved(name, detail);
    }
  }

  /**
   * Frees the engine once no Socket uses it and it holds nothing, as socket.io-client closes an
   * unused Manager: the wasm keeps the handler (and so this Manager) alive until then. Deferred
   * so that frames queued by the current call (a final DISCONNECT) are written first. A later
   * connect or emit creates a new engine.
   */
  _idle() {
    queueMicrotask(() => {
      const e = this._e;
      if (e && !e.closed && !Object.values(this.nsps).some((s) => s._act || s.connected) && e.c.isIdle()) {
        this._e = null;
        this._up = false;
        this._end(e);
      }
    });
  }

  /** Reports a malformed packet that was dropped: in the debug log, and as an `error`. */
  _bad(nsp, cause) {
    this._e?.d?.("dropped a malformed packet", nsp, cause.message);
    this._err(new Error("rtio: dropped a malformed packet on namespace " + nsp + ": " + cause.message, { cause }));
  }

  /** Emits `error`, or logs `err` when nobody listens: never silent. */
  _err(err) {
    this.hasListeners("error") ? this.emitReserved("error", err) : console.error(err);
  }
}
for (const k in TUNABLES)
  /** Without argument, the tunable's value; with one, sets it (taking effect at the next attempt) and returns the Manager. */
  Manager.prototype[k] = function (v) {
    const t = this._t;
    if (!arguments.length) return t[k];
    t[k] = k == "reconnection" ? !!v : v;
    this._e?.c.tune(t);
    return this;
  };
Manager.prototype.emit = Emitter.prototype.emitReserved;

/** The client side of one namespace. */
export class Socket extends Client {
  /**
   * Use {@link io} or {@link Manager#socket} rather than this constructor.
   * @param {Manager} io
   * @param {string} nsp
   * @param {object} [opts] see SocketOptions in index.d.ts.
   */
  constructor(io, nsp, opts) {
    super();
    /** The Manager this socket belongs to. */
    this.io = io;
    this.nsp = nsp;
    /** Session id given by the server on connect; undefined while disconnected. */
    this.id = undefined;
    /** Whether the namespace is connected. */
    this.connected = false;
    /**
     * Whether the last connect recovered the previous session (connection-state recovery:
     * same id, rooms kept, missed events delivered right after `connect`).
     */
    this.recovered = false;
    if (opts && opts.auth) this.auth = opts.auth;
    this._opts = { ...opts };
    this._out = [];
    this._act = false;
    if (io._auto) this.connect();
  }

  /** Whether the namespace is disconnected. */
  get disconnected() {
    return !this.connected;
  }

  /**
   * Whether the socket is connected or trying to be: false after `disconnect()`, a server-side
   * disconnect, a refused CONNECT, `reconnect_failed`, or any loss with `reconnection: false`.
   */
  get active() {
    return this._act;
  }

  /**
   * Connects the namespace with `auth`, read at every (re)connect as socket.io-client does: an
   * object may be changed in between; a function is called with a callback to pass the payload
   * to, and may instead return it, or a promise of it.
   */
  connect() {
    if (!this.connected && !this._act) {
      this._act = true;
      this.io._use((e) => this._act && e.c.connect(this._ns(e)));
    }
    return this;
  }

  /** The index of this namespace on connection `e`, which reports its events to this socket. */
  _ns(e) {
    let i = e.ns[this.nsp];
    if (i === undefined) {
      const self = this;
      // Each reports what a listener throws rather than letting it into the wasm. (Written out
      // with their arguments: the first two run for every event and answer.)
      const on = (f) => guard((a, b, c) => !e.closed && f.call(this, e, a, b, c));
      i = e.ns[this.nsp] = e.c.namespace(this.nsp, {
        _connected: on(this._onConnect),
        _disconnected: on(this._onDisconnect),
        _event(v, at, id, bins, offset) {
          try {
            e.closed || self._onEvent(e, v, at, id, bins, offset);
          } catch (err) {
            report(err);
          }
        },
        _ack(id, v, at, bins) {
          try {
            e.closed || self._onAck(e, id, v, at, bins);
          } catch (err) {
            report(err);
          }
        },
        _ackFailed: on(this._onAckFailed),
        _refused: on(this._onRefused),
        _failed: on(this._onFailed),
        _authRequest: on(this._auth),
      });
    }
    return i;
  }

  /**
   * The packets waiting for the connection, oldest first, as `[event, ...args]` (binary
   * arguments as placeholders). Assign `[]` to drop them (their acknowledgements fail).
   */
  get sendBuffer() {
    const e = this.io._e;
    return e && !e.closed ? e.c.buffered(this._ns(e)).map((p) => JSON.parse(p)) : [];
  }

  set sendBuffer(v) {
    if (!v.length) this.io._use((e) => e.c.clearBuffer(this._ns(e)));
  }

  /** Alias of {@link Socket#connect}. */
  open() {
    return this.connect();
  }

  /**
   * Disconnects the namespace. When it returns, `connected` is false, `disconnect` ("io client
   * disconnect") has fired if it was connected, and nothing more is delivered to this socket
   * until it connects again, even when called from a listener.
   */
  disconnect() {
    return this._leave("io client disconnect");
  }

  /** Disconnects for `reason` ("forced close" when the Manager closes, as in socket.io-client). */
  _leave(reason) {
    if (this._act || this.connected) {
      this._act = false;
      const e = this.io._e;
      if (e && !e.closed) e.c.disconnect(this._ns(e));
      // Called from a listener, the connection's own report comes later: report it now, as socket.io-client does.
      this._onDisconnect(e, reason);
      this.io._idle();
    }
    return this;
  }

  /** Alias of {@link Socket#disconnect}. */
  close() {
    return this.disconnect();
  }

  /**
   * Emits `ev` with `args`; a trailing function is the acknowledgement callback
   * (error-first when a timeout applies). Emits made while connecting are buffered.
   * @example socket.emit("chat", "hi", (reply) => console.log(reply));
   */
  emit(ev, ...args) {
    if (RESERVED.includes(ev)) throw new Error('"' + String(ev) + '" is a reserved event name');
    const f = this.flags;
    this.flags = {};
    const fn = typeof args[args.length - 1] == "function" ? args.pop() : null;
    args.unshift(ev);
    const timeout = f.timeout ?? this._opts.ackTimeout;
    // With retries, every emit but a volatile one asks for an ack, as socket.io-client's queue does.
    let t = fn || (this.io.opts.retries && !f.volatile) ? (timeout == null ? 0 : Math.max(1, timeout)) : -1;
    // A volatile emit is dropped when not connected; its ack, if any, can only time out.
    if (f.volatile && !this.connected) {
      // (On the wasm's timers, gloo-timers.)
      if (fn && t > 0) wasm.use((g) => new g.Delay(t, guard(() => fn.call(this, new Error("operation has timed out")))), () => {});
    } else {
      const bins = [];
      const payload = encode(args, bins);
      // On the live connection at once (the common case), else once it is ready.
      const e = this.io._e;
      if (e && e.g === wasm.live()) this._emit(e, payload, bins, t, fn, args);
      else this.io._use((e) => this._emit(e, payload, bins, t, fn, args));
    }
    if (this._out.length) for (const l of this._out.slice()) l.apply(this, args);
    return this;
  }

  /** Hands an encoded emit to connection `e` (`t`: the ack timeout, `-1` for no ack). */
  _emit(e, payload, bins, t, fn, args) {
    let id;
    try {
      // Attachments only when there are any (an ArrayBuffer is never falsy).
      id = e.c.emit(this._ns(e), payload, bins[0] && bins, t < 0 ? undefined : t);
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) return wasm.trap(e.g, err);
      // The buffer is full: this packet is refused (the buffer keeps the older ones).
      err.data = args;
      if (fn && (fn.withError || t > 0)) fn.call(this, err);
      return this.io._err(err);
    }
    if (fn) e.acks.set(id + this.nsp, [fn, fn.withError || t > 0]);
  }

  /** Sends a `message` event. */
  send(...args) {
    return this.emit("message", ...args);
  }

  /** Accepted for compatibility; compression is left to the WebSocket. */
  compress(compress) {
    this.flags.compress = compress;
    return this;
  }

  /** Adds a listener called with (event, ...args) for every outgoing event. */
  onAnyOutgoing(fn) {
    this._out.push(fn);
    return this;
  }

  /** Like {@link Socket#onAnyOutgoing}, first in the list. */
  prependAnyOutgoing(fn) {
    this._out.unshift(fn);
    return this;
  }

  /** Removes an outgoing catch-all listener, or all of them without argument. */
  offAnyOutgoing(fn) {
    return rm(this._out, fn), this;
  }

  /** Returns the outgoing catch-all listeners. */
  listenersAnyOutgoing() {
    return this._out;
  }

  /**
   * The room `name` of the rooms convention (see ROOMS.md): the same handle until it is left.
   * @example const room = socket.room("doc:42"); const members = await room.join({ name: "Ada" });
   */
  room(name) {
    if (typeof name != "string" || !name || name.length > 128)
      throw new TypeError("rtio: a room name is a string of 1 to 128 characters");
    const rooms = (this._rooms ||= new Map());
    let r = rooms.get(name);
    if (!r) rooms.set(name, (r = new Room(this, name)));
    return r;
  }

  /**
   * Parses a payload of connection `e` (`v` from UTF-16 offset `at`, with attachments `bins`);
   * what is malformed is reported (see {@link Manager#_bad}) and gives undefined.
   */
  _parse(v, at, bins, check) {
    try {
      const d = decode(v, at, bins);
      check?.(d);
      return d;
    } catch (err) {
      this.io._bad(this.nsp, err);
    }
  }

  /** Connected with id `sid`; `recovered`: the server recovered the session. */
  _onConnect(e, sid, recovered) {
    // Disconnected by the user while the CONNECT was on its way.
    if (!this._act) return e.c.disconnect(this._ns(e));
    e.d?.("connect", this.nsp, sid);
    this.recovered = recovered;
    this.id = sid;
    this.connected = true;
    // Rooms are joined again before the listeners run, unless the server kept them.
    if (this._rooms)
      for (const r of this._rooms.values()) if (r._me) this.recovered ? r._ok() : r._join(1).catch(() => {});
    this.emitReserved("connect");
  }

  /** Disconnected for `reason` (`e` null when the wasm trapped: `cause` says how). */
  _onDisconnect(e, reason, cause) {
    // disconnect() reports the disconnection itself; drop what the connection had queued behind it.
    if (!this.connected) return;
    e?.d?.("disconnect", this.nsp, reason);
    this.connected = false;
    // Still active while the Manager reconnects: after a loss, not an "io ..." disconnect
    // nor a disconnect() (which made it inactive first).
    this._act &&= this.io._t.reconnection && reason[0] != "i";
    this.id = undefined;
    if (this._rooms) for (const r of this._rooms.values()) r.joined = false;
    this.emitReserved("disconnect", reason, cause);
    this.io._idle();
  }

  /**
   * An event `[name, ...args]`: `v` from `at`, `id` the ack id if one is asked for; `offset`:
   * the last argument is the recovery offset the server appended.
   */
  _onEvent(e, v, at, id, bins, offset) {
    if (!this.connected) return;
    // As socket.io-client's parser: an event name is a string that no lifecycle event
    // has (a server must not fake a `disconnect`), or a number; and no more arguments than a
    // listener call can take (and than any application sends).
    const d = this._parse(v, at, bins, (d) => {
      if (!(Array.isArray(d) && (typeof d[0] == "number" || (typeof d[0] == "string" && !RESERVED.includes(d[0])))))
        throw new Error(Array.isArray(d) && d.length ? "invalid event name " + JSON.stringify(d[0]) : "not an event");
      if (d.length > MAX_ARGS) throw new Error("more than " + MAX_ARGS + " arguments");
    });
    if (!d) return;
    if (id != null) d.push(this._ack(e, id));
    // The rooms convention's own events go to their room (ROOMS.md), not to listeners; and
    // without the recovery offset, which listeners see like socket.io-client's.
    if (d[0] == "rtio:room" || d[0] == "rtio:presence") {
      if (offset) d.pop();
      return this._rooms?.get(d[1])?._in(d);
    }
    for (const l of this._any.slice()) if (this.connected) l.apply(this, d);
    // A catch-all listener may have disconnected the socket: then nothing more is delivered.
    if (this.connected) this.emitReserved(...d);
  }

  /** The server's answer to ack `id`: an args array, `v` from `at`. */
  _onAck(e, id, v, at, bins) {
    let d;
    try {
      d = decode(v, at, bins);
      if (!Array.isArray(d)) throw new Error("not an array");
    } catch (err) {
      // A malformed answer settles its ack: the caller learns of it now, not at a timeout.
      d = Error("rtio: the server's acknowledgement was malformed", { cause: err });
    }
    this._settle(e, id, d);
  }

  /** The ack `id` will never come (`"timeout"` or `"disconnected"`). */
  _onAckFailed(e, id, reason) {
    this._settle(e, id, Error(reason == "timeout" ? "operation has timed out" : "socket has been disconnected"));
  }

  /** The server refused the namespace with error data `v` from `at`: final. */
  _onRefused(e, v, at) {
    const d = this._parse(v, at);
    if (d === undefined) return;
    e.d?.("connect_error", this.nsp);
    const m = d?.message ?? d;
    const err = new Error(typeof m == "string" ? m : "rtio: the server refused the namespace");
    err.data = d?.data;
    this._act = false;
    this.emitReserved("connect_error", err);
    this.io._idle();
  }

  /** The connection failed before the namespace connected (`reason`): retried with reconnection. */
  _onFailed(e, reason) {
    e.d?.("connect_error", this.nsp, reason);
    this._act = this.io._t.reconnection;
    this.emitReserved("connect_error", this.io._failure(e, reason));
    this.io._idle();
  }

  /**
   * Settles the ack `id` of engine `e` with the server's answer `d` (an array), or with an
   * Error: error-first callbacks get it; a plain callback cannot be told, so the error goes to
   * the Manager's `error` event instead (or the console).
   */
  _settle(e, id, d) {
    const k = id + this.nsp;
    const ack = e.acks.get(k);
    if (!ack) return;
    e.acks.delete(k);
    const [fn, withError] = ack;
    if (Array.isArray(d)) fn.apply(this, withError ? [null, ...d] : d);
    else if (withError) fn.call(this, d);
    else if (d.cause) this.io._err(d);
  }

  /**
   * Gives the payload of the CONNECT the engine is about to send: `auth`, or what the `auth`
   * function gives (the engine adds the session to recover, if any).
   */
  _auth(e) {
    const go = (d) => {
      if (!e.closed) e.c.provideAuth(this._ns(e), d === undefined ? undefined : JSON.stringify(d));
    };
    if (typeof this.auth != "function") return go(this.auth);
    let r;
    try {
      r = this.auth(go);
    } catch (err) {
      r = Promise.reject(err);
    }
    Promise.resolve(r).then(
      (d) => d !== undefined && go(d),
      (err) => {
        // Without a payload the namespace cannot connect: stop and say why.
        this.disconnect();
        this.emitReserved("connect_error", err);
      },
    );
  }

  /** The function given to listeners of an event that asked for an ack; answers once. */
  _ack(e, id) {
    let sent = false;
    return (...args) => {
      if (sent) return;
      sent = true;
      // A reply for a previous connection would be meaningless: drop it.
      const bins = [];
      if (e === this.io._e && !e.closed) {
        const payload = encode(args, bins);
        this.io._use((e) => e.c.ack(this._ns(e), id, payload, bins[0] && bins));
      }
    };
  }
}



const cache = {};

/**
 * Returns a Socket for the namespace in `uri` ("/" by default), reusing the Manager of the
 * same server (origin + path + query) unless `forceNew`, `multiplex: false`, or that
 * namespace already has a Socket there.
 * @example const socket = io("https://example.com", { auth: { token } });
 */
export function io(uri, opts) {
  // The wasm is on its way while the Manager and the Socket are made.
  wasm.preload();
  if (uri && typeof uri == "object") (opts = uri), (uri = undefined);
  opts = opts || {};
  const { url, nsp } = target(uri, opts);
  const m = cache[url];
  const manager =
    opts.forceNew || opts["force new connection"] || opts.multiplex === false || (m && nsp in m.nsps)
      ? new Manager(uri, opts)
      : m || (cache[url] = new Manager(uri, opts));
  return manager.socket(nsp, opts);
}

Object.assign(io, { Manager, Socket, io, connect: io });
export { io as connect, io as default };
