// rtio/ws: the plain-WebSocket mode (MODES.md): a JSON envelope for events and acks, raw frames
// passed through as `message`, a client heartbeat; reconnection and buffering are the wasm's
// stream.
import { StreamClient } from "./stream.js";
export { init, initSync } from "./stream.js";

/** A plain-WebSocket client (see MODES.md); made by {@link ws}. */
export class WsClient extends StreamClient {
  constructor(url, opts) {
    super(url, opts, { envelope: true, ping: '["ping"]', pingInterval: 25e3, pingTimeout: 2e4 });
    /** Emits waiting for their ack, by id. */
    this._acks = new Map();
    this._n = 0;
  }

  _idle() {
    const o = this.opts;
    return o.pingTimeout > 0 ? o.pingTimeout + (o.pingInterval > 0 ? o.pingInterval : 0) : 0;
  }

  _every() {
    return this.opts.pingInterval || 0;
  }

  _mode() {
    return { mode: "ws", protocols: this.opts.protocols, ping: this.opts.ping };
  }

  /** The socket's URL for the next attempt. */
  _target() {
    const u = new URL(this._url());
    u.protocol = u.protocol.replace("http", "ws");
    return u.href;
  }

  /**
   * One received frame: an envelope event or ack, else a `message`; read as the Rust door's
   * codec reads it (src/codec/envelope.rs; both are tested on tests/fixtures/envelopes.json).
   */
  _frame(d) {
    if (!this.opts.envelope || typeof d != "string") return this._in("message", [d]);
    let v;
    try {
      v = JSON.parse(d);
    } catch {
      return this._in("message", [d]);
    }
    // An ack id: an integer up to 2^53 - 1; an event's name: a string without lone surrogates.
    const id = (n) => Number.isSafeInteger(n) && n >= 0;
    const name = (s) => typeof s == "string" && s.isWellFormed?.() !== false;
    if (Array.isArray(v)) {
      if (name(v[0])) return this._in(v[0], v.slice(1));
      const n = v[0];
      if (id(n) && name(v[1])) {
        // The answer goes on the connection the request came on, or nowhere.
        // The answer goes on the connection the event came on, if it is still the one.
        const gen = this._gen;
        let done;
        return this._in(v[1], v.slice(2), (...args) => done || ((done = 1), gen === this._gen && this._send(JSON.stringify({ ack: n, args }))));
      }
    } else if (v && id(v.ack) && (Array.isArray(v.args) || this._acks.has(v.ack))) {
      // An answer for an emit waiting for it; a malformed one settles it at once.
      const ok = Array.isArray(v.args);
      return this._acks.get(v.ack)?.f?.(ok ? null : new Error("rtio: the server's acknowledgement was malformed"), ...(ok ? v.args : []));
    }
    this._in("message", [d]);
  }

  /** What the socket sends for `item`, as it is written: a raw frame, or the envelope (with an ack id when an answer is awaited). */
  _write(item) {
    if (typeof item == "string") return item;
    if ("raw" in item) return item.raw;
    const frame = item.r !== undefined ? ["rtio:to", item.r, item.e, ...item.a] : [item.e, ...item.a];
    if (item.f) {
      do this._n = (this._n + 1) % 2 ** 31;
      while (this._acks.has(this._n));
      this._acks.set((item.n = this._n), item);
      frame.unshift(item.n);
    }
    return JSON.stringify(frame);
  }

  /** Writes frame `x` now if connected (an ack's answer). */
  _send(x) {
    this._use((c) => c.sendVolatile(x));
  }

  _gone() {
    const err = new Error("disconnected");
    for (const item of [...this._acks.values()]) item.f?.(err);
    this._acks.clear();
  }

  _settled(item) {
    if (item.n !== undefined) this._acks.delete(item.n);
  }

  /** Writes `data` (a string, an ArrayBuffer or a view) as a raw frame; held while disconnected. */
  send(data) {
    const v = this.flags.volatile;
    this.flags = {};
    return this._push({ raw: data }, v, data);
  }
}

/**
 * Opens a plain WebSocket with rtio's emitter, envelope, heartbeat and reconnection (see MODES.md).
 * @example const sock = ws("wss://example.com/ws"); sock.emit("chat", { text: "hi" });
 */
export function ws(url, opts) {
  return new WsClient(url, opts);
}
export default ws;
