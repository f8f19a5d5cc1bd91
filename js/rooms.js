// Rooms and presence on the client side (ROOMS.md), shared by the Socket.IO client and the
// SSE and plain-WebSocket modes (MODES.md). A Room talks to its socket through `emitWithAck`
// ("rtio:join", "rtio:leave"), `emit` ("rtio:to"), `volatile`, `connected`, `id`, `_rooms`
// (the socket's rooms by name) and `io.opts.maxBuffer` / `io._err`; the socket hands it the
// "rtio:room" and "rtio:presence" events (`_in`) and re-joins it after reconnecting (`_join`).
import { Emitter } from "./emitter.js";

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Who is in a room: `members` (`{ id, meta }`, this socket included) and the events `join`,
 * `leave` and `update` (a member), about the other members, and `sync` (the members) after
 * every (re)join. `error` (Error): a re-join after a reconnect was refused, the room is left.
 */
class Presence extends Emitter {
  /** Members by id. */
  _m = new Map();

  /** The members, this socket included. */
  get members() {
    return [...this._m.values()];
  }
}

/**
 * A room (see ROOMS.md), made by {@link Socket#room}. Listeners get the room's events with the
 * sending member (`{ id, meta }`) as last argument.
 */
export class Room extends Emitter {
  constructor(socket, name) {
    super();
    this.socket = socket;
    this.name = name;
    /** Whether the room is joined now (false until the join is acknowledged, and while reconnecting). */
    this.joined = false;
    this.presence = new Presence();
    /** Whether the room is held (joined or being joined), its meta, the emits waiting for the join. */
    this._want = false;
    this._meta = null;
    this._q = [];
    this._v = false;
    /** While a join waits for its answer: the presence changes that came meanwhile. */
    this._seen = null;
  }

  /**
   * Joins the room with `meta` (any JSON value), or updates `meta` when already joined.
   * Resolves with the members (this socket included); rejects with the server's reason.
   */
  join(meta = null) {
    const prev = this._meta;
    this._meta = meta;
    this._want = true;
    return this._join().catch((err) => {
      // A refused update keeps the room with its previous meta.
      if (this._meta === meta) this._meta = prev;
      throw err;
    });
  }

  /**
   * Sends `rtio:join` and takes in the answer. A refused first join forgets the room; a refused
   * update keeps it; a refused re-join (`re`, after a reconnect) drops it and says so.
   */
  _join(re) {
    const was = this._me;
    // The presence changes that arrive before the answer: the server may have read its member
    // list before them (another socket joining at the same moment), so they go on top of it.
    const seen = (this._seen = []);
    return this.socket.emitWithAck("rtio:join", this.name, this._meta).then(
      (r) => {
        if (this._seen === seen) this._seen = null;
        if (!this._want) return [];
        if (r && r.ok === true && Array.isArray(r.members)) {
          // (_sync drops what is not a member.)
          const m = new Map(r.members.map((x) => [x && x.id, x]));
          for (const c of seen) {
            const x = c.joined || c.updated;
            x ? m.set(x.id, x) : c.left != this.socket.id && m.delete(c.left);
          }
          this._sync([...m.values()]);
          this._ok();
          return this.presence.members;
        }
        const err = new Error((r && r.error) || "rtio: bad rtio:join answer");
        if (re) {
          const p = this.presence;
          for (const x of p._m.values()) if (x.id != was) p.emitReserved("leave", x);
          p.emitReserved("error", err);
        }
        if (re || !was) this._drop();
        throw err;
      },
      (err) => {
        if (this._seen === seen) this._seen = null;
        if (!was && this._want && !re) this._drop();
        throw err;
      },
    );
  }

  /** Marks the room joined and sends what waited for it. */
  _ok() {
    this.joined = true;
    for (const a of this._q.splice(0)) this.emit(...a);
  }

  /** Replaces the members with `list`; one event per member that came, went or changed. */
  _sync(list) {
    const p = this.presence,
      old = p._m;
    p._m = new Map();
    for (const x of list) x && typeof x.id == "string" && p._m.set(x.id, x);
    for (const [id, x] of old) p._m.has(id) || id == this._me || p.emitReserved("leave", x);
    for (const x of p._m.values()) this._put(x, old.get(x.id));
    this._me = this.socket.id;
    p.emitReserved("sync", p.members);
  }

  /** Sets member `x` (`o`: as known before): `join` or `update` unless it is this socket. */
  _put(x, o) {
    const p = this.presence;
    p._m.set(x.id, (x = { id: x.id, meta: x.meta ?? null }));
    if (x.id != this.socket.id) o ? same(o.meta, x.meta) || p.emitReserved("update", x) : p.emitReserved("join", x);
  }

  /** A `rtio:room` or `rtio:presence` event for this room (`d` is the event's arguments). */
  _in(d) {
    if (!this._want) return;
    const p = this.presence,
      m = p._m,
      c = d[2] || {},
      x = c.joined || c.updated;
    if (d[0] == "rtio:room") typeof c == "string" && this.emitReserved(c, ...d.slice(4), m.get(d[3]) || { id: d[3], meta: null });
    else {
      this._seen?.push(c);
      if (x && typeof x.id == "string") this._put(x, m.get(x.id));
      else if (m.has(c.left) && c.left != this.socket.id) p.emitReserved("leave", m.get(c.left)), m.delete(c.left);
    }
  }

  /**
   * Sends `ev` with `args` to the other members (no acknowledgement). Held while the room is
   * being (re)joined, then sent; a volatile emit is dropped instead.
   */
  emit(ev, ...args) {
    const v = this._v;
    this._v = false;
    if (!this._want) throw new Error('rtio: join room "' + this.name + '" before emitting to it');
    if (typeof args[args.length - 1] == "function") throw new TypeError("rtio: room events have no acknowledgement");
    const s = this.socket;
    if (this.joined && s.connected) (v ? s.volatile : s).emit("rtio:to", this.name, ev, ...args);
    else if (v) return this;
    else if (this._q.length < (s.io.opts.maxBuffer ?? 1e3)) this._q.push([ev, ...args]);
    else s.io._err(Object.assign(new Error("rtio: room buffer is full while joining"), { data: [ev, ...args] }));
    return this;
  }

  /** Flags the next emit as volatile: dropped unless the room is joined and the socket connected. */
  get volatile() {
    this._v = true;
    return this;
  }

  /** Leaves the room: its listeners and presence listeners are removed. Resolves when the server answered. */
  leave() {
    const s = this.socket;
    this._drop();
    // Sent even while disconnected: a recovered session would have kept the room.
    return s.emitWithAck("rtio:leave", this.name).then(
      () => {},
      () => {},
    );
  }

  /** Forgets the room: members, waiting emits, listeners. */
  _drop() {
    this._want = this.joined = false;
    this._q = [];
    this.socket._rooms.delete(this.name);
    this.off();
    this.presence.off();
    this.presence._m = new Map();
  }
}
