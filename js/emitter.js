// The event emitter every rtio client shares (component-emitter semantics, as socket.io-client).

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

