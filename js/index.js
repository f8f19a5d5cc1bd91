// rtio: Socket.IO v5 client whose protocol engine runs in WebAssembly.
// This entry mirrors socket.io-client 4.8's public API; the wasm owns the Engine.IO
// handshake and heartbeat, packet headers, namespace state, ack ids and timeouts, and the
// pre-connect buffer. JS only holds the WebSocket and one timer for it (the `Engine`
// class), (de)serialises payloads with the browser's JSON and dispatches to listeners.
import { Client, Emitter, debug, loadWasm, rm } from "./emitter.js";
import { Room } from "./rooms.js";

// ---- the wasm's imports and exports (the tables are in src/front/js.rs) ----

const enc = new TextEncoder();
const dec = new TextDecoder();
/** JS values the wasm holds, by ref (0 is `undefined`); released slots are reused. */
const R = [undefined];
const FREE = [];
/** Output handlers of the open connections, by handle. */
const H = [];
/** The wasm's exports, and a view of its memory (renewed when the memory grows). */
let W, M;

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
const mem = () => (M.byteLength ? M : (M = new Uint8Array(W.memory.buffer)));

/** The UTF-8 string of `n` bytes at `p` in the wasm's memory (ASCII ones, all short, without TextDecoder). */
function str(p, n) {
  const m = mem();
  let s = "";
  for (let i = 0; i < n; i++) {
    if (m[p + i] > 127) return dec.decode(m.subarray(p, p + n));
    s += String.fromCharCode(m[p + i]);
  }
  return s;
}

/**
 * Writes the first `n` characters of `s` as UTF-8 into the wasm buffer that `alloc(size)` makes;
 * returns the byte length. The wasm trusts this to be well-formed UTF-8: ASCII bytes, or what
 * `encodeInto` writes (which replaces lone surrogates), nothing else.
 */
function put(s, alloc, n = s.length) {
  let p = alloc(n),
    m = mem(),
    i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) break;
    m[p + i] = c;
  }
  if (i < n) {
    p = alloc(n * 3);
    i = enc.encodeInto(n < s.length ? s.slice(0, n) : s, mem().subarray(p, p + n * 3)).written;
  }
  return i;
}

/** Runs command `op` of connection `h` (see the table in src/front/js.rs). */
const cmd = (h, op, nsp, text, data, bins, num = 0) =>
  W.c(h, op, nsp, text ? put(text, W.b) : 0, ref(data), ref(bins), bins ? bins.length : 0, num);

const imports = {
  r: {
    // The handler call: reports, never throws into the wasm.
    o(h, kind, nsp, sp, sn, v, at, id, bins) {
      try {
        H[h](kind, nsp, sn ? str(sp, sn) : undefined, take(v), at, id < 0 ? undefined : id, take(bins));
      } catch (e) {
        reportError(e);
      }
    },
    d: take,
    k: (r) => ref(R[r]),
    p(list, x) {
      x = take(x);
      list ? R[list].push(x) : (list = ref([x]));
      return list;
    },
    // Read at each call, so a clock installed after the import (fake timers) is followed.
    n: () => Date.now(),
    // Member `key` of the JSON object at offset `at` of string `r` (handshakes, CONNECT replies).
    j(r, at, kp, kn) {
      let v;
      try {
        v = JSON.parse(R[r].slice(at))[str(kp, kn)];
      } catch {}
      return typeof v == "string" ? -2 - put(v, W.a) : Number.isInteger(v) && v >= 0 ? v : -1;
    },
  },
};

// Top-level await: importing this module is enough, users never call an init function. The
// wasm sits beside this module (bundlers follow this URL).
W = (await loadWasm(new URL("rtio.wasm", import.meta.url), imports)).instance.exports;
M = new Uint8Array(W.memory.buffer);

/** The timer functions at import, for `useNativeTimers` (others read the global ones at each call, so fake timers installed later are followed). */
const NATIVE_TIMERS = [setTimeout, clearTimeout];

/** Reports a page signal to every open connection: op 14 (network; num 1 online) or 15 (visible). */
const each = (op, num) => H.forEach((f, h) => f && W.c(h, op, 0, 0, 0, 0, 0, num));
// One listener each for the whole page, whatever the number of connections.
if (globalThis.addEventListener) {
  addEventListener("online", () => each(14, 1));
  addEventListener("offline", () => each(14, 0));
}
if (globalThis.document) document.addEventListener("visibilitychange", () => document.hidden || each(15));

/**
 * One Engine.IO connection: the session in the wasm (a handle and the commands of `cmd`, see
 * the tables in src/front/js.rs) and the WebSocket and timer it asks for, owned here and
 * released by `free()`. Payloads stay JS strings: the wasm reads headers only. Exceptions
 * thrown by the handler are reported, not propagated.
 */
class Engine {
  /**
   * `url()` gives the URL of each new WebSocket (the options may change between attempts); `o`
   * holds the Manager's options, see export `o` in src/front/js.rs for their order.
   */
  constructor(url, handler, o, tunables) {
    this.url = url;
    /** The debug log (see {@link debug}), or undefined: every use is `d?.(...)`, whose arguments are not evaluated when it is off. */
    this.d = debug(o.debug);
    /** Namespace names by index. */
    this.names = [];
    this.h = W.o(o.retries, o.maxBuffer ?? 1e3, Math.random() * 2 ** 53);
    this.tm = o.useNativeTimers && NATIVE_TIMERS;
    this.tune(tunables);
    H[this.h] = (k, n, s, v, at, id, bins) =>
      k < 16 ? handler(k, this.names[n], s, v, at, id, bins) : this.io(k, s, v, at, id, bins);
  }
  /** Sets the reconnection tunables and the connect timeout from options `o`. */
  tune(o) {
    W.t(
      this.h,
      o.reconnection === false ? -1 : o.reconnectionAttempts ?? 1 / 0,
      o.reconnectionDelay ?? 1e3,
      o.reconnectionDelayMax ?? 5e3,
      o.randomizationFactor ?? 0.5,
      o.timeout ?? 2e4,
    );
  }
  /** Carries out a request of the wasm: 16 open the socket, 17 close it, 18 send, 19 arm the timer. */
  io(k, s, v, at, id, bins) {
    const ws = this.ws;
    if (k == 19) {
      const [set, clear] = this.tm || [setTimeout, clearTimeout];
      clear(this.t);
      if (id !== undefined) this.t = set(() => this.c(9), id);
    } else if (k == 18) {
      if (ws)
        try {
          ws.send((s = v === undefined ? s : s + v.slice(at)));
          this.d?.("send", s, ...(bins || []));
          if (bins) for (const x of bins) ws.send(x);
        } catch {
          this.c(8, 1);
        }
    } else {
      this.drop();
      if (k == 16)
        try {
          const w = (this.ws = new WebSocket(this.url()));
          w.binaryType = "arraybuffer";
          w.onopen = () => this.c(6);
          w.onmessage = ({ data: f }) => {
            this.d?.("receive", f);
            if (typeof f != "string") this.c(11, 0, "", f);
            // Long frames: the wasm reads the header from the start, or asks for more of it.
            else if (this.f(f, 64) == 1) this.f(f, 4096);
          };
          w.onclose = () => this.c(8, 0);
          w.onerror = (ev) => {
            this.ev = ev;
            this.c(8, 1);
          };
        } catch {
          this.c(8, 1);
        }
    }
  }
  /** Reports what the socket or the timer did (ops 6-9, 11); a closed or failed socket is dropped first. */
  c(op, num, text = "", data, bins) {
    if (op == 8) this.drop();
    return cmd(this.h, op, 0, text, data, bins, num);
  }
  /**
   * Reports text frame `f` (op 7): its first 64 characters, marked as a start when it is longer;
   * asked again, its first 4,096 as if they were all of it. The wasm reads headers from them,
   * payloads and JSON members from the frame itself, so no frame is ever copied into its
   * memory whole: a huge or garbage frame costs the wasm nothing.
   */
  f(f, n) {
    return W.c(this.h, 7, 0, put(f, W.b, Math.min(n, f.length)), ref(f), 0, 0, +(n == 64 && f.length > n));
  }
  /** Removes the socket's listeners and closes it. */
  drop() {
    const ws = this.ws;
    if (ws) {
      this.ws = ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close();
    }
  }
  /** The index of namespace `nsp` in the wasm. */
  n(nsp) {
    let i = this.names.indexOf(nsp);
    if (i < 0) this.names[(i = cmd(this.h, 12, 0, nsp))] = nsp;
    return i;
  }
  /**
   * Runs command `op` (0 connect, 1 disconnect, 2 emit, 3 ack, 4 close, 10 idle?, 13 auth,
   * 17 read and 18 clear the send buffer) on namespace `nsp`; see the table
   * in src/front/js.rs.
   */
  x(op, nsp, text, num, data, bins) {
    return cmd(this.h, op, nsp ? this.n(nsp) : 0, text, data, bins, num);
  }
  free() {
    this.drop();
    (this.tm ? this.tm[1] : clearTimeout)(this.t);
    cmd(this.h, 5, 0, "");
    H[this.h] = undefined;
    // Handles are reused: a freed wrapper must not reach the next connection.
    this.h = -1;
  }
}

/** Socket.IO protocol revision spoken by this client. */
export const protocol = 5;

const RESERVED = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];

/** The most arguments a received event may have; more is refused as malformed. */
const MAX_ARGS = 1e4;

// Event kinds passed by the engine to its handler (kind, nsp, s, v, at, id, bins); 5 is
// ACK_ERROR (s = "timeout" | "disconnected"), 7 ENGINE_CLOSE (s = reason), 8-11 the Manager's
// reconnection events (MANAGER_EVENTS) and 12 AUTH_REQUEST.
const CONNECT = 0, DISCONNECT = 1, EVENT = 2, ACK = 3, CONNECT_ERROR = 4, ENGINE_OPEN = 6, AUTH = 12;
const MANAGER_EVENTS = ["reconnect_attempt", "reconnect", "reconnect_error", "reconnect_failed"];
const NSP_EVENTS = ["connect", "disconnect", , , "connect_error"];

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

/** Resolves `uri` the way socket.io-client does; returns the engine URL (the Manager key) and the namespace. */
function target(uri, opts) {
  const loc = globalThis.location;
  if (uri == null) uri = loc.origin;
  else if (uri[0] == "/") uri = (uri[1] == "/" ? loc.protocol : loc.origin) + uri;
  else if (!/^(https?|wss?):\/\//.test(uri)) uri = (loc ? loc.protocol : "https:") + "//" + uri;
  const u = new URL(uri);
  const q = new URLSearchParams(u.search);
  for (const [k, v] of new URLSearchParams(opts.query || "")) q.set(k, v);
  q.set("EIO", "4");
  q.set("transport", "websocket");
  const path = (opts.path || "/socket.io").replace(/\/$/, "") + (opts.addTrailingSlash === false ? "" : "/");
  return {
    url: u.protocol.replace(/^http/, "ws") + "//" + u.host + path + "?" + q,
    nsp: u.pathname,
  };
}

/**
 * socket.io-client options accepted for compatibility that have no effect here (see the
 * README's migration notes); named once in the debug log when given.
 */
const IGNORED = ["withCredentials", "extraHeaders", "upgrade", "rememberUpgrade", "tryAllTransports", "timestampRequests", "timestampParam", "closeOnBeforeunload", "parser", "protocols", "transportOptions", "agent", "autoUnref"];

/** The Manager's tunables that have getters and setters, with their defaults. */
const TUNABLES = { reconnection: true, reconnectionAttempts: 1 / 0, reconnectionDelay: 1e3, reconnectionDelayMax: 5e3, randomizationFactor: 0.5, timeout: 2e4 };

/**
 * An Error as engine.io-client reports a failed transport: `type` "TransportError", the
 * WebSocket's error event as `description`, no `context`.
 */
const transportError = (e) => Object.assign(new Error("websocket error"), { type: "TransportError", description: e?.ev, context: undefined });

/**
 * One connection to a server (one WebSocket), shared by the {@link Socket}s of its namespaces.
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
    if (t && !t.includes("websocket"))
      throw new Error("rtio: only the websocket transport is supported (got " + t + ")");
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
     * Compatibility view of engine.io-client's socket: `id`, `transport.name`, `open`/`close`
     * events, and `close()`, which closes the transport as a lost network would (the Manager
     * reconnects).
     */
    this.engine = Object.assign(new Emitter(), {
      transport: { name: "websocket" },
      close: () => (this._e?.c(8, 2), this.engine),
    });
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
          if (e) {
            this._e = null;
            for (const n in this.nsps) this.nsps[n]._act = false;
            e._closed = 1;
            e.x(4);
            queueMicrotask(() => e.free());
          }
          fn(err);
        };
        this.once("open", ok).once("error", bad);
      }
      this._eng().x(19);
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
    if (e) {
      e._closed = 1;
      e.x(4);
      // Deferred: close() may run inside an engine callback, where the engine must not be freed.
      queueMicrotask(() => e.free());
    }
    return this;
  }

  /** Alias of {@link Manager#close}. */
  disconnect() {
    return this.close();
  }

  /** The wasm engine, created on first use. */
  _eng() {
    if (!this._e) {
      const e = (this._e = new Engine(
        () => target(this.uri, this.opts).url,
        (k, nsp, s, v, at, id, bins) => this._on(e, k, nsp, s, v, at, id, bins),
        this.opts,
        this._t,
      ));
      e._acks = new Map();
      this._fail = null;
    }
    return this._e;
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
   * Engine handler. A listener that throws is reported by the engine (reportError), which
   * then goes on delivering. Events raised by a call made from a listener are delivered
   * after that listener returns.
   */
  _on(e, kind, nsp, s, v, at, id, bins) {
    if (kind < ENGINE_OPEN || kind == AUTH) {
      const socket = this.nsps[nsp];
      if (socket) socket._on(e, kind, s, v, at, id, bins);
    } else if (e._closed) {
      // Closed by close() or when unused: its end is told as socket.io-client tells it.
      if (kind == 7) this.engine.emitReserved("close", "forced close"), this.emitReserved("close", "forced close");
    } else if (e === this._e) {
      e.d?.(kind > 7 ? MANAGER_EVENTS[kind - 8] : kind == ENGINE_OPEN ? "open" : "close", s || id);
      if (kind > 7) {
        if (kind == 8) this._fail = null;
        if (kind == 11) for (const n in this.nsps) this.nsps[n]._act = false;
        this.emitReserved(MANAGER_EVENTS[kind - 8], kind == 10 ? this._fail || new Error(s) : id);
        return kind == 11 && this._idle();
      }
      const was = this._up;
      this._up = kind == ENGINE_OPEN;
      if (this._up) {
        this._fail = null;
        this.engine.id = s;
      } else if (!was) {
        // An attempt that failed before the connection opened: `error`, no `close`.
        return this._failure(e, s);
      } else if (s == "transport error") this.emitReserved("error", transportError(e));
      this.engine.emitReserved(this._up ? "open" : "close", s);
      this.emitReserved(this._up ? "open" : "close", s);
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
      if (e && !Object.values(this.nsps).some((s) => s._act || s.connected) && e.x(10) == 1) {
        this._e = null;
        this._up = false;
        e._closed = 1;
        e.x(4);
        e.free();
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
    this._e?.tune(t);
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
      this.io._eng().x(0, this.nsp, "", 1);
    }
    return this;
  }

  /**
   * The packets waiting for the connection, oldest first, as `[event, ...args]` (binary
   * arguments as placeholders). Assign `[]` to drop them (their acknowledgements fail).
   */
  get sendBuffer() {
    const out = [],
      e = this.io._e;
    for (let i = 0, r; e && (r = e.x(17, this.nsp, "", i++)) > 0; ) out.push(JSON.parse(take(r)));
    return out;
  }

  set sendBuffer(v) {
    if (!v.length && this.io._e) this.io._e.x(18, this.nsp);
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
      if (e) e.x(1, this.nsp);
      // Called from a listener, the engine's DISCONNECT comes later: report it now, as socket.io-client does.
      this._on(e, DISCONNECT, reason);
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
      if (fn && t > 0) setTimeout(() => fn.call(this, new Error("operation has timed out")), t);
    } else {
      const e = this.io._eng();
      const bins = [];
      // Attachments only when there are any (an ArrayBuffer is never falsy).
      const id = e.x(2, this.nsp, "", t, encode(args, bins), bins[0] && bins);
      if (id == -2) {
        // The buffer is full: this packet is refused (the buffer keeps the older ones).
        const err = new Error("rtio: send buffer is full while disconnected");
        err.data = args;
        if (fn && (fn.withError || t > 0)) fn.call(this, err);
        this.io._err(err);
      } else if (fn) e._acks.set(id + this.nsp, [fn, fn.withError || t > 0]);
    }
    if (this._out.length) for (const l of this._out.slice()) l.apply(this, args);
    return this;
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

  /** Handles one engine event for this namespace (see the handler table in src/front/js.rs). */
  _on(e, kind, a, v, at, b, c) {
    if (kind == AUTH) return this._auth(e);
    // disconnect() reports the disconnection itself; drop what the engine had queued behind it.
    if ((kind == DISCONNECT || kind == EVENT) && !this.connected) return;
    // Disconnected by the user while the CONNECT was on its way.
    if (kind == CONNECT && !this._act) return e.x(1, this.nsp);
    let d;
    if (kind >= EVENT && kind <= CONNECT_ERROR) {
      try {
        // A connection that failed before the namespace connected has a message, no payload.
        d = v === undefined ? this.io._failure(e, a) : decode(v, at, c);
        if (kind == ACK && !Array.isArray(d)) throw new Error("not an array");
        // As socket.io-client's parser: an event name is a string that no lifecycle event
        // has (a server must not fake a `disconnect`), or a number.
        if (kind == EVENT && !(Array.isArray(d) && (typeof d[0] == "number" || (typeof d[0] == "string" && !RESERVED.includes(d[0])))))
          throw new Error(Array.isArray(d) && d.length ? "invalid event name " + JSON.stringify(d[0]) : "not an event");
        // More than a listener call can take (and than any application sends).
        if (d.length > MAX_ARGS) throw new Error("more than " + MAX_ARGS + " arguments");
      } catch (err) {
        // A malformed answer settles its ack: the caller learns of it now, not at a timeout.
        return kind == ACK ? this._settle(e, b, Error("rtio: the server's acknowledgement was malformed", { cause: err })) : this.io._bad(this.nsp, err);
      }
    }
    if (kind < EVENT || kind == CONNECT_ERROR) e?.d?.(NSP_EVENTS[kind], this.nsp, a);
    if (kind == CONNECT) {
      // With connection-state recovery, the reply has the session's private id: the next
      // CONNECTs carry it, with the offset of the last event.
      // (The wasm read the socket id with JSON.parse already: this parse succeeds.)
      const pid = JSON.parse(v.slice(at)).pid;
      this.recovered = !!pid && pid === this._pid;
      this._pid = pid;
      this.id = a;
      this.connected = true;
      // Rooms are joined again before the listeners run, unless the server kept them.
      if (this._rooms)
        for (const r of this._rooms.values()) if (r._me) this.recovered ? r._ok() : r._join(1).catch(() => {});
      this.emitReserved("connect");
    } else if (kind == DISCONNECT) {
      this.connected = false;
      // Still active while the Manager reconnects: after a loss, not an "io ..." disconnect
      // nor a disconnect() (which made it inactive first).
      this._act &&= this.io._t.reconnection && a[0] != "i";
      this.id = undefined;
      if (this._rooms) for (const r of this._rooms.values()) r.joined = false;
      this.emitReserved("disconnect", a);
      this.io._idle();
    } else if (kind == EVENT) {
      // The server appends the offset to the events it keeps for recovery (those without an
      // ack); like socket.io-client, listeners see it too.
      if (this._pid && b == null && d.length > 1 && typeof d[d.length - 1] == "string") this._lo = d[d.length - 1];
      if (b != null) d.push(this._ack(e, b));
      // The rooms convention's own events go to their room (ROOMS.md), not to listeners.
      // (Without the recovery offset, which only the session needs.)
      if (d[0] == "rtio:room" || d[0] == "rtio:presence") {
        if (this._pid && b == null && typeof d[d.length - 1] == "string") d.pop();
        return this._rooms?.get(d[1])?._in(d);
      }
      for (const l of this._any.slice()) if (this.connected) l.apply(this, d);
      // A catch-all listener may have disconnected the socket: then nothing more is delivered.
      if (this.connected) this.emitReserved(...d);
    } else if (kind == CONNECT_ERROR) {
      let err = d;
      if (v !== undefined) {
        const m = d?.message ?? d;
        err = new Error(typeof m == "string" ? m : "rtio: the server refused the namespace");
        err.data = d?.data;
      }
      // A failed transport is retried; a refusal by the server is final.
      this._act = this.io._t.reconnection && v === undefined;
      this.emitReserved("connect_error", err);
      this.io._idle();
    } else this._settle(e, b, kind == ACK ? d : Error(a == "timeout" ? "operation has timed out" : "socket has been disconnected"));
  }

  /**
   * Settles the ack `id` of engine `e` with the server's answer `d` (an array), or with an
   * Error: error-first callbacks get it; a plain callback cannot be told, so the error goes to
   * the Manager's `error` event instead (or the console).
   */
  _settle(e, id, d) {
    const k = id + this.nsp;
    const ack = e._acks.get(k);
    if (!ack) return;
    e._acks.delete(k);
    const [fn, withError] = ack;
    if (Array.isArray(d)) fn.apply(this, withError ? [null, ...d] : d);
    else if (withError) fn.call(this, d);
    else if (d.cause) this.io._err(d);
  }

  /**
   * Gives the payload of the CONNECT the engine is about to send: `auth`, or what the `auth`
   * function gives, with the session to recover if any (`auth`'s own members win).
   */
  _auth(e) {
    const go = (d) => {
      if (this._pid) d = { pid: this._pid, offset: this._lo, ...d };
      e.x(13, this.nsp, d === undefined ? "" : JSON.stringify(d));
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
      if (e === this.io._e) e.x(3, this.nsp, "", id, encode(args, bins), bins[0] && bins);
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
