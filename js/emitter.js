// The event emitter every rtio client shares (component-emitter semantics, as socket.io-client),
// and `Client`, what the Socket.IO socket and the SSE and plain-WebSocket clients have in common:
// emit flags, `emitWithAck` and the catch-all listeners; the debug switch they share.

/**
 * The debug log: `console.debug` prefixed with "rtio", when the `debug` option is true, or
 * when it is left out and `localStorage.debug` names rtio the way socket.io's `debug` module
 * reads it (`"rtio:*"`, `"rtio*"`, `"*"`, a comma-separated list holding one of them).
 * Otherwise undefined, and logging costs one property read per frame.
 */
export function debug(on) {
  try {
    on ??= /(^|,)\s*(rtio|\*)/.test(localStorage.debug);
  } catch {}
  return on ? console.debug.bind(console, "rtio") : undefined;
}

/** Minimal event emitter of every rtio client (component-emitter semantics). */
export class Emitter {
  _l = new Map();

  /** Adds `fn` as a listener of `ev`. */
  on(ev, fn) {
    const l = this._l.get(ev);
    l ? l.push(fn) : this._l.set(ev, [fn]);
    return this;
  }

  /** Adds `fn` as a listener of `ev`, removed after its first call. */
  once(ev, fn) {
    const w = (...a) => {
      this.off(ev, w);
      fn.apply(this, a);
    };
    w.fn = fn;
    return this.on(ev, w);
  }

  /** Removes `fn` from `ev`; without `fn`, every listener of `ev`; without arguments, all listeners. */
  off(ev, fn) {
    if (ev === undefined) this._l.clear();
    else if (!fn) this._l.delete(ev);
    else {
      const l = this._l.get(ev) || [];
      const i = l.findIndex((f) => f === fn || f.fn === fn);
      if (i >= 0) l.splice(i, 1);
    }
    return this;
  }

  /** Returns the listeners of `ev`. */
  listeners(ev) {
    return this._l.get(ev) || [];
  }

  /** Whether `ev` has listeners. */
  hasListeners(ev) {
    return !!this.listeners(ev).length;
  }

  /** Calls the listeners of `ev` locally (used for lifecycle events, which users cannot emit). */
  emitReserved(ev, ...args) {
    for (const f of this.listeners(ev).slice()) f.apply(this, args);
    return this;
  }
}
const E = Emitter.prototype;
E.addEventListener = E.on;
E.removeListener = E.removeEventListener = E.removeAllListeners = E.off;


/** Removes `fn` from `list`, or empties it without `fn`. */
export function rm(list, fn) {
  if (!fn) list.length = 0;
  else {
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  }
}

/**
 * The emitting side every client shares. A subclass's `emit` reads and resets `flags`, takes a
 * last function argument as the ack callback (error-first when it has `withError`), and calls
 * the `_any` listeners for incoming events.
 */
export class Client extends Emitter {
  flags = {};
  _any = [];

  /**
   * Emits `ev` and resolves with the first argument of the acknowledgement; rejects on an
   * error, a timeout (see `timeout`, `ackTimeout`) or disconnection.
   * @example const reply = await socket.timeout(2000).emitWithAck("echo", { a: 1 });
   */
  emitWithAck(ev, ...args) {
    return new Promise((resolve, reject) => {
      const fn = (err, r) => (err ? reject(err) : resolve(r));
      fn.withError = true;
      this.emit(ev, ...args, fn);
    });
  }

  /** Sets the ack timeout (ms) of the next emit; its callback becomes error-first. */
  timeout(ms) {
    this.flags.timeout = ms;
    return this;
  }

  /** Flags the next emit as volatile: dropped, not buffered, when not connected. */
  get volatile() {
    this.flags.volatile = true;
    return this;
  }

  /** Adds a listener called with (event, ...args) for every incoming event. */
  onAny(fn) {
    this._any.push(fn);
    return this;
  }

  /** Like `onAny`, first in the list. */
  prependAny(fn) {
    this._any.unshift(fn);
    return this;
  }

  /** Removes a catch-all listener, or all of them without argument. */
  offAny(fn) {
    return rm(this._any, fn), this;
  }

  /** Returns the catch-all listeners. */
  listenersAny() {
    return this._any;
  }
}
