// One connection for every tab: `io(url, { shared: true })` (or `shared: "name"`, to share only
// among the sockets that give the same name).
//
// The Socket.IO connection lives in one place per origin, URL and name: a SharedWorker where the
// browser has one (shared-worker.js), else the tab elected through the Web Locks API, which the
// others reach over a BroadcastChannel. That place, the *host*, holds the wasm's `Connection`
// and serves every tab's Manager through a `Remote`, which stands in for the Connection: the same
// calls, the same events, carried as messages. So each tab keeps socket.io-client's API and
// behaviour; what the host adds is the sharing:
//
// - a namespace is connected while any tab uses it, and a tab that joins a connected one is told
//   at once; `auth` comes from the tab that connected it first;
// - an event from the server reaches every tab of its namespace; an ack it asks for is answered
//   once (the first tab's answer);
// - an emit's ack comes back to the tab that emitted, with its own timeout; a tab that leaves
//   has its pending acks failed ("socket has been disconnected");
// - the connection closes when its last tab leaves (a tab that closes leaves by itself: each
//   tab holds a Web Lock of its own, which the host waits for).
//
// When the elected tab closes, another is elected, opens the connection again, and every tab
// sees a disconnect ("transport close") and a reconnect, keeping its listeners; acks pending
// at the old host fail.
//
// Rooms (ROOMS.md) are the connection's: a room is held while any tab holds it. A tab's
// `rtio:leave` goes to the server only when no other tab of the namespace holds the room (the
// others keep it, and the leaving tab is answered `{ ok: true }` at once); a tab that leaves
// the connection leaves its rooms the same way. Presence shows one member per connection.
//
// Loaded only by `io()` with `shared`: a page that does not share pays nothing for it.

import { lastString, writeStart } from "./frames.js";

/** This tab's id: names its lock (held while the tab lives) and its messages on the channel. */
const TAB = Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
const LOCKS = globalThis.navigator?.locks;
const PAGE = !!globalThis.document;
/**
 * Resolves once this tab holds its lock, before which it tells the host nothing: the host asks
 * for the lock after the tab's hello, and must not get it before the tab (it would take the tab
 * for closed).
 */
const held = new Promise((resolve) =>
  PAGE && LOCKS
    ? LOCKS.request("rtio-tab:" + TAB, () => {
        resolve();
        return new Promise(() => {});
      })
    : resolve(),
);

/**
 * The connection of `manager` (a Manager with `shared`), for its `_connect`: a `Remote` to the
 * shared one where this browser can share (with a SharedWorker, or with the Web Locks API,
 * secure contexts only, and a BroadcastChannel for the election); elsewhere a connection of its
 * own, made from `glue` as without `shared`. `wasm` is this page's wasm.
 */
export function connection(glue, opts, events, manager, wasm) {
  // An opaque origin (a sandboxed frame) can share nothing: its lock requests are refused.
  if (globalThis.origin == "null" || (!globalThis.SharedWorker && !(LOCKS && globalThis.BroadcastChannel))) return new glue.Connection(opts, events);
  const urls = { ws: events._url(), polling: events._url(1) };
  return new Remote(opts, events, urls, manager.opts.shared, (n) => manager.emitReserved("tabs", (manager.tabs = n)), wasm);
}

/** `v` without its functions, for a message (structured clone refuses them). */
const plain = (v) =>
  typeof v == "function"
    ? undefined
    : v && typeof v == "object" && !ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer)
      ? Array.isArray(v)
        ? v.map(plain)
        : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
      : v;

// ---------------------------------------------------------------------------------------------
// The tab's side

/**
 * Stands in for the wasm's `Connection` in a tab whose Manager shares its connection: every
 * call goes to the host as a message, every message from the host comes back as the event the
 * Connection would have raised. `opts` and `events` as for the Connection, `urls` the Engine.IO
 * URLs (`ws`, `polling`), `name` the sharing's name, `onTabs(n)` told how many tabs share it,
 * `wasm` this page's wasm (which hosts the connection if this tab is elected).
 */
export class Remote {
  constructor(opts, events, urls, name, onTabs, wasm) {
    this._ev = events;
    this._tabs = onTabs;
    this._nsp = [];
    this._nsEv = [];
    /** Namespaces this tab wants connected, and those the host says are. */
    this._want = new Set();
    this._up = new Set();
    /** Acks waiting: local id → namespace index. */
    this._acks = new Map();
    this._id = 0;
    this._open = false;
    this._tr = "";
    this._le = undefined;
    this._hello = { t: "hello", key: (name === true ? "" : String(name)) + " " + urls.ws, urls, opts: plain(opts), tab: TAB };
    this._port = port(
      (m) => this._in(m),
      () => this._lost(),
      wasm,
    );
    /** What waits for this tab's lock, in order (null once it is held). */
    this._q = [];
    held.then(() => {
      for (const m of this._q) this._port.post(m);
      this._q = null;
    });
    this._post(this._hello);
  }

  _post(m) {
    this._q ? this._q.push(m) : this._port.post(m);
  }

  namespace(nsp, events) {
    let i = this._nsp.indexOf(nsp);
    if (i < 0) i = this._nsp.push(nsp) - 1;
    this._nsEv[i] = events;
    return i;
  }

  connect(i) {
    this._want.add(i);
    this._post({ t: "connect", nsp: this._nsp[i] });
  }

  provideAuth(i, auth) {
    this._post({ t: "auth", nsp: this._nsp[i], auth });
  }

  disconnect(i) {
    this._want.delete(i);
    this._up.delete(i);
    this._post({ t: "disconnect", nsp: this._nsp[i] });
  }

  emit(i, payload, bins, ack) {
    const id = ack === undefined ? undefined : ++this._id;
    if (id) this._acks.set(id, i);
    this._post({ t: "emit", nsp: this._nsp[i], payload, bins, ack, id });
    return id;
  }

  ack(i, id, payload, bins) {
    this._post({ t: "answer", nsp: this._nsp[i], id, payload, bins });
  }

  /** The host keeps the buffer, for every tab: not readable from here. */
  buffered() {
    return [];
  }

  clearBuffer(i) {
    this._post({ t: "clear", nsp: this._nsp[i] });
  }

  open() {
    this._open = true;
    this._post({ t: "open" });
  }

  /** This tab leaves the connection (which closes when no tab uses it). */
  close() {
    this._open = false;
    this._want.clear();
    this._post({ t: "close" });
  }

  free() {
    // After what was posted (the `close`) is on its way.
    setTimeout(() => this._port.close());
  }

  dropTransport() {
    this._post({ t: "drop" });
  }

  /** What is pending is the host's: this tab's Manager may let go at any time. */
  isIdle() {
    return true;
  }

  transport() {
    return this._tr;
  }

  lastError() {
    return this._le;
  }

  tune(opts) {
    this._post({ t: "tune", opts: plain(opts) });
  }

  failForTests() {}

  /** A message from the host. */
  _in(m) {
    if (m.t == "life") {
      this._tr = m.transport;
      this._le = m.poll ? new Error(m.message) : m.message == null ? undefined : new Event("error");
      this._ev._lifecycle(m.name, m.detail);
      // The first open after the host changed is this tab's reconnection.
      if (m.name == "open" && this._re) {
        this._re = 0;
        this._ev._lifecycle("reconnect", 1);
      }
      return;
    }
    if (m.t == "tabs") return this._tabs(m.n);
    if (m.t == "lost") return this._lost();
    const i = this._nsp.indexOf(m.nsp);
    const e = this._nsEv[i];
    if (!e) return;
    switch (m.t) {
      case "connected":
        if (!this._want.has(i)) return;
        this._up.add(i);
        return e._connected(m.sid, m.recovered);
      case "disconnected":
        this._up.delete(i);
        if (m.reason[0] == "i") this._want.delete(i);
        return e._disconnected(m.reason);
      case "event":
        return this._up.has(i) && e._event(m.v, 0, m.id ?? undefined, m.bins, m.offset);
      case "ack":
        return this._acks.delete(m.id) && e._ack(m.id, m.v, 0, m.bins);
      case "ackFailed":
        return this._acks.delete(m.id) && e._ackFailed(m.id, m.reason);
      case "refused":
        this._want.delete(i);
        return e._refused(m.v, 0);
      case "failed":
        return this._want.has(i) && e._failed(m.reason);
      case "authRequest":
        return e._authRequest();
    }
  }

  /**
   * The host is gone (its tab closed, or its wasm failed): what was connected is disconnected
   * ("transport close"), what waited for an ack fails, and this tab says hello again, to the
   * next host, as a reconnection.
   */
  _lost() {
    if (this._tr || this._open) this._ev._lifecycle("close", "transport close");
    this._tr = "";
    for (const i of this._up) this._nsEv[i]._disconnected("transport close");
    this._up.clear();
    for (const [id, i] of this._acks) this._nsEv[i]._ackFailed(id, "disconnected");
    this._acks.clear();
    if (!this._open && !this._want.size) return this._post(this._hello);
    this._re = 1;
    this._ev._lifecycle("reconnect_attempt", 1);
    this._post(this._hello);
    if (this._open) this._post({ t: "open" });
    for (const i of this._want) this._post({ t: "connect", nsp: this._nsp[i] });
  }
}

/**
 * A channel to the host: `{ post(message), close() }`; `onMessage` gets the host's messages,
 * `onLost` is called when the host changes. A SharedWorker where there is one (falling back to
 * the election if it cannot start), else the election.
 */
function port(onMessage, onLost, wasm) {
  if (globalThis.SharedWorker && globalThis.origin != "null") {
    try {
      const w = new SharedWorker(new URL("./shared-worker.js", import.meta.url), { type: "module", name: "rtio" });
      let fallback = null;
      /** What waits for the worker's first word, in order (null once it spoke). */
      let held = [];
      const fall = () => {
        if (fallback || !held) return;
        w.port.close();
        fallback = election(wasm).client(onMessage, onLost);
        for (const m of held.splice(0)) fallback.post(m);
      };
      // The worker did not start (its script blocked by a policy, or missing): an error, or,
      // where the browser reports none (a worker that failed as another tab attached to it),
      // silence. Either way a tab is elected instead.
      w.onerror = fall;
      const wait = setTimeout(fall, WORKER_WAIT);
      w.port.onmessage = (e) => {
        if (e.data.t != "up") return onMessage(e.data);
        clearTimeout(wait);
        if (fallback) return;
        for (const m of held) w.port.postMessage(m);
        held = null;
      };
      return {
        post(m) {
          if (fallback) return fallback.post(m);
          held ? held.push(m) : w.port.postMessage(m);
        },
        close: () => (fallback ? fallback.close() : w.port.close()),
      };
    } catch {
      // e.g. a worker refused by the page's Content-Security-Policy
    }
  }
  return election(wasm).client(onMessage, onLost);
}

/** How long a SharedWorker may take to start before a tab is elected instead, in ms. */
const WORKER_WAIT = 5000;

let elected;

/**
 * The election, once per page: every tab asks for the lock "rtio-shared-host"; the one that gets
 * it hosts every shared connection of the origin until it closes, and the lock goes to the next.
 * Messages go over the BroadcastChannel "rtio-shared", addressed: to the host by its tab id, to a
 * client by its id.
 */
function election(wasm) {
  if (elected) return elected;
  const channel = new BroadcastChannel("rtio-shared");
  /** This page's clients: id → [onMessage, onLost]. */
  const clients = new Map();
  /** What clients sent before a host was known, in order. */
  let queue = [];
  let hostId = null;
  /** When this tab hosts: what serves each client (of every tab), by client id. */
  let serving = null;
  let serve = null;
  /** The other tabs whose lock this host waits for. */
  const tabs = new Set();
  let n = 0;

  const toHost = (from, m) => {
    if (!hostId) return queue.push([from, m]);
    if (hostId == TAB) return queueMicrotask(() => handler(from)(m));
    channel.postMessage({ k: "to-host", host: hostId, from, m });
  };
  const handler = (id) => {
    let h = serving.get(id);
    if (!h) {
      const local = clients.get(id);
      const post = local ? (m) => queueMicrotask(() => clients.get(id)?.[0](m)) : (m) => toClient(id, m);
      const handle = serve(post);
      // A client that leaves (each new connection of a tab's Manager is a new client), or
      // whose tab closes, is forgotten here too.
      h = (m) => (handle(m), m.t == "close" && serving.delete(id));
      serving.set(id, h);
      const tab = id.slice(0, id.indexOf("."));
      if (!tabs.has(tab) && tab != TAB) {
        tabs.add(tab);
        LOCKS.request("rtio-tab:" + tab, () => {
          tabs.delete(tab);
          for (const k of serving.keys()) k.startsWith(tab + ".") && serving.delete(k);
        });
      }
    }
    return h;
  };
  /**
   * What the host posts to clients of other tabs, gathered until the microtask that sends it:
   * a message told to several clients goes once, with their ids (each tab reads every message
   * on the channel, so one per client would cost each tab as many).
   */
  let batch = null;
  const toClient = (id, m) => {
    if (!batch) {
      batch = new Map();
      queueMicrotask(() => {
        const sent = batch;
        batch = null;
        for (const [m, to] of sent) channel.postMessage(to.length == 1 ? { k: "to-client", to: to[0], m } : { k: "to-clients", to, m });
      });
    }
    const to = batch.get(m);
    to ? to.push(id) : batch.set(m, [id]);
  };
  const hostIs = (id) => {
    if (hostId == id) return;
    const had = hostId;
    hostId = id;
    if (had) for (const [, [, lost]] of clients) lost();
    const q = queue;
    queue = [];
    for (const [from, m] of q) toHost(from, m);
  };

  channel.onmessage = ({ data: d }) => {
    if (d.k == "host") hostIs(d.id);
    else if (d.k == "who") serving && channel.postMessage({ k: "host", id: TAB });
    else if (d.k == "to-host") serving && d.host == TAB && handler(d.from)(d.m);
    else if (d.k == "to-client") clients.get(d.to)?.[0](d.m);
    else if (d.k == "to-clients") for (const id of d.to) clients.get(id)?.[0](d.m);
  };
  LOCKS?.request(
    "rtio-shared-host",
    () =>
      new Promise(() => {
        serving = new Map();
        serve = host(wasm);
        channel.postMessage({ k: "host", id: TAB });
        hostIs(TAB);
      }),
  );
  channel.postMessage({ k: "who" });

  return (elected = {
    client(onMessage, onLost) {
      const id = TAB + "." + ++n;
      clients.set(id, [onMessage, onLost]);
      return {
        post: (m) => toHost(id, m),
        close: () => clients.delete(id),
      };
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The host's side

/**
 * The host of shared connections, on `wasm` (the loader of rtio.wasm: `use(fn, fail)`,
 * `onTrap(fn)`). Returns `serve(post)`: a new client, whose messages go to the function it
 * returns, and who is answered through `post`.
 */
export function host(wasm) {
  /** The connections, by key (name and URL). */
  const conns = new Map();
  /** Tabs whose lock is being waited for. */
  const watched = new Set();

  wasm.onTrap((_err, g) => {
    for (const [key, conn] of conns)
      if (conn.g === g) {
        conns.delete(key);
        for (const cl of conn.clients) (cl.conn = null), cl.post({ t: "lost" });
      }
  });

  /** When tab `tab` closes (its lock is free), its clients leave. */
  const watch = (tab) => {
    if (!LOCKS || watched.has(tab)) return;
    watched.add(tab);
    LOCKS.request("rtio-tab:" + tab, () => {
      watched.delete(tab);
      for (const conn of conns.values()) for (const cl of [...conn.clients]) cl.tab == tab && conn.leave(cl);
    });
  };

  return (post) => {
    const cl = { post, tab: null, conn: null, nss: new Set() };
    return (m) =>
      // What the host holds, by connection: for diagnostics, and for the tests that check that
      // what a closed tab held is let go.
      m.t == "stats"
        ? post({
            t: "stats",
            tabs: watched.size,
            conns: [...conns.values()].map((c) => ({
              clients: c.clients.size,
              namespaces: [...c.ns.values()].filter((ns) => ns.clients.size).length,
              acks: c.acks.size,
              asks: c.asks.size,
              rooms: c.rooms.size,
            })),
          })
        : wasm.use(
            (glue) => {
              if (m.t == "hello") {
                cl.conn?.leave(cl);
                cl.tab = m.tab;
                watch(m.tab);
                let conn = conns.get(m.key);
                if (!conn || conn.g !== glue) conns.set(m.key, (conn = new Conn(glue, m, () => conns.delete(m.key))));
                conn.join(cl);
              } else cl.conn?.on(cl, m);
            },
            (err) => post({ t: "life", name: "close", detail: err.message, transport: "" }),
          );
  };
}

/** How many unanswered acks of the server a connection keeps: the oldest go first. */
const ASKS = 1000;

/** How many tabs the clients `held` are in. */
const tabsOf = (held) => new Set([...held].map((cl) => cl.tab)).size;

/** One shared connection: the wasm's Connection and the clients (tabs' Managers) it serves. */
class Conn {
  constructor(glue, hello, gone) {
    this.g = glue;
    this.urls = hello.urls;
    this.gone = gone;
    this.clients = new Set();
    /** Namespaces by name: { i, clients, connected, connecting, sid, auth }. */
    this.ns = new Map();
    /** Acks of clients' emits: namespace + wasm id → [client, the client's id]. */
    this.acks = new Map();
    /** Acks the server asked for and no tab answered yet: namespace + id. */
    this.asks = new Set();
    /** The emit being made, whose ack may fail before its id is known; the last id known. */
    this.emitting = null;
    this.lastId = -1;
    /** Rooms held: namespace + room → the clients that joined it. */
    this.rooms = new Map();
    this.up = false;
    this.c = new glue.Connection(hello.opts, {
      _url: (polling) => (polling ? this.urls.polling : this.urls.ws),
      _lifecycle: (name, detail) => this.life(name, detail),
      _log() {},
      _start: writeStart,
      _last: lastString,
    });
  }

  /** Sends `m` to `clients` (every client by default); one that cannot be reached is left. */
  tell(m, clients = this.clients) {
    for (const cl of clients) {
      try {
        cl.post(m);
      } catch {
        this.leave(cl);
      }
    }
  }

  /** How many tabs use the connection, told to each. */
  count() {
    this.tell({ t: "tabs", n: new Set([...this.clients].map((cl) => cl.tab)).size });
  }

  life(name, detail) {
    // The session gave up: the next connect of a tab starts again, with that tab's auth.
    if (name == "reconnect_failed") for (const ns of this.ns.values()) ns.connecting = false;
    if (name == "open") {
      this.up = true;
      this.engine = detail;
      for (const cl of this.clients) cl.told = detail;
    } else if (name == "close") this.up = false;
    const d = this.c.lastError();
    this.tell({ t: "life", name, detail, transport: this.c.transport(), poll: d instanceof Error, message: d == null ? null : String(d.message ?? "") });
  }

  join(cl) {
    cl.conn = this;
    this.clients.add(cl);
    this.count();
  }

  /** Tells client `cl`, which asks to open or connect, that the connection is open, if it is. */
  opened(cl) {
    if (this.up && cl.told !== this.engine) {
      cl.told = this.engine;
      cl.post({ t: "life", name: "open", detail: this.engine, transport: this.c.transport() });
    }
  }

  /** Client `cl` leaves: its namespaces, its acks; the last one closes the connection. */
  leave(cl) {
    if (!this.clients.delete(cl)) return;
    for (const nsp of [...cl.nss]) this.part(cl, nsp);
    // What is left of it in namespaces it no longer counts in (refused ones): acks, rooms.
    for (const [k, [c]] of this.acks) c === cl && this.acks.delete(k);
    for (const [k, held] of this.rooms) held.delete(cl) && !held.size && this.rooms.delete(k);
    cl.conn = null;
    if (this.clients.size) return this.count();
    this.gone();
    this.c.close();
    queueMicrotask(() => this.c.free());
  }

  /** Client `cl` leaves namespace `nsp`: its pending acks there fail; the last one disconnects it. */
  part(cl, nsp) {
    const ns = this.ns.get(nsp);
    cl.nss.delete(nsp);
    if (!ns?.clients.delete(cl)) return;
    for (const [k, held] of this.rooms) {
      if (!k.startsWith(nsp + "\n") || !held.delete(cl)) continue;
      const name = k.slice(nsp.length + 1);
      if (!held.size) this.rooms.delete(k);
      // With no client left, the namespace disconnects, which leaves every room.
      if (!ns.clients.size) continue;
      if (held.size) this.recount(nsp, name, held);
      else this.c.emit(ns.i, JSON.stringify(["rtio:leave", name]), undefined, undefined);
    }
    for (const [k, [c, id]] of this.acks)
      if (c === cl && k.startsWith(nsp + "\n")) this.acks.delete(k), cl.post({ t: "ackFailed", nsp, id, reason: "disconnected" });
    if (!ns.clients.size) {
      ns.connected = ns.connecting = ns.asked = false;
      return this.c.disconnect(ns.i);
    }
    // The client asked for the auth leaves before giving it: the next one is asked.
    if (ns.asked && ns.auth === cl) (ns.auth = ns.clients.values().next().value), ns.auth.post({ t: "authRequest", nsp });
  }

  /** Namespace `nsp`, registered on the Connection on first use. */
  space(nsp) {
    let ns = this.ns.get(nsp);
    if (ns) return ns;
    const conn = this;
    const route = (id, m) => {
      const k = nsp + "\n" + id;
      let a = conn.acks.get(k);
      if (a) conn.acks.delete(k);
      // An ack that fails as its emit is made (the transport failing on the write) is the
      // emit's, whose id is not known yet: the wasm's ids only grow, so it is a later one.
      else if (id > conn.lastId && conn.emitting) (a = conn.emitting), (conn.emitting = null);
      if (a) a[0].post({ ...m, nsp, id: a[1] });
    };
    ns = { clients: new Set(), connected: false, connecting: false, sid: undefined, auth: null };
    ns.i = this.c.namespace(nsp, {
      _connected(sid, recovered) {
        ns.connected = true;
        ns.connecting = false;
        ns.sid = sid;
        conn.tell({ t: "connected", nsp, sid, recovered }, ns.clients);
      },
      _disconnected(reason) {
        ns.connected = false;
        // After a server's or the client's disconnect, nothing reconnects it by itself.
        if (reason[0] == "i") ns.connecting = false;
        conn.tell({ t: "disconnected", nsp, reason }, ns.clients);
      },
      _event(v, at, id, bins, offset) {
        if (id != null) {
          conn.asks.add(nsp + "\n" + id);
          // An ask no tab answers (no listener takes the ack) is kept for a while, not forever.
          if (conn.asks.size > ASKS) conn.asks.delete(conn.asks.values().next().value);
        }
        conn.tell({ t: "event", nsp, v: v.slice(at), id, bins, offset }, ns.clients);
      },
      _ack: (id, v, at, bins) => route(id, { t: "ack", v: v.slice(at), bins }),
      _ackFailed: (id, reason) => route(id, { t: "ackFailed", reason }),
      _refused(v, at) {
        ns.connecting = false;
        conn.tell({ t: "refused", nsp, v: v.slice(at) }, ns.clients);
        for (const cl of ns.clients) cl.nss.delete(nsp);
        ns.clients.clear();
      },
      _failed: (reason) => conn.tell({ t: "failed", nsp, reason }, ns.clients),
      _authRequest() {
        // From the tab that connected the namespace first, while it uses it.
        const from = ns.clients.has(ns.auth) ? ns.auth : ns.clients.values().next().value;
        ns.asked = !!from;
        if (from) (ns.auth = from), from.post({ t: "authRequest", nsp });
        else conn.c.provideAuth(ns.i, undefined);
      },
    });
    this.ns.set(nsp, ns);
    return ns;
  }

  /**
   * Keeps count of who holds each room, from client `cl`'s emit `m`; true when `m` is an
   * `rtio:leave` of a room another client still holds, answered here instead of sent. A join
   * whose meta has a `tabs` key has it set to the number of tabs holding the room, kept up to
   * date as tabs leave it.
   */
  room(cl, m) {
    const join = m.payload.startsWith('["rtio:join",');
    if (!join && !m.payload.startsWith('["rtio:leave",')) return false;
    let args;
    try {
      args = JSON.parse(m.payload);
    } catch {}
    const name = args?.[1];
    if (typeof name != "string") return false;
    const k = m.nsp + "\n" + name;
    const held = this.rooms.get(k) || new Set();
    if (join) {
      this.rooms.set(k, held.add(cl));
      const meta = args[2];
      held.meta = meta && typeof meta == "object" && !Array.isArray(meta) && "tabs" in meta ? meta : null;
      if (held.meta) (held.told = meta.tabs = tabsOf(held)), (m.payload = JSON.stringify(args));
      return false;
    }
    held.delete(cl);
    if (!held.size) return this.rooms.delete(k), false;
    this.recount(m.nsp, name, held);
    if (m.id) cl.post({ t: "ack", nsp: m.nsp, id: m.id, v: '[{"ok":true}]' });
    return true;
  }

  /** A room that counts its tabs (see `room`) and is still held: its meta is updated if the count changed. */
  recount(nsp, name, held) {
    const n = held.meta && tabsOf(held);
    if (n && n != held.told) {
      held.told = n;
      this.c.emit(this.ns.get(nsp).i, JSON.stringify(["rtio:join", name, { ...held.meta, tabs: n }]), undefined, undefined);
    }
  }

  /** A message of client `cl`. */
  on(cl, m) {
    const c = this.c;
    switch (m.t) {
      case "open":
        return this.up ? this.opened(cl) : c.open();
      case "close":
        return this.leave(cl);
      case "drop":
        return c.dropTransport();
      case "tune":
        return c.tune(m.opts);
    }
    const ns = this.space(m.nsp);
    switch (m.t) {
      case "connect":
        this.opened(cl);
        ns.clients.add(cl);
        cl.nss.add(m.nsp);
        if (ns.connected) return cl.post({ t: "connected", nsp: m.nsp, sid: ns.sid, recovered: false });
        if (!ns.connecting) (ns.connecting = true), (ns.auth = cl);
        // Asked again while it connects changes nothing; after the session gave up (or with
        // reconnection off), it starts again.
        return c.connect(ns.i);
      case "auth":
        if (ns.auth !== cl) return;
        ns.asked = false;
        return c.provideAuth(ns.i, m.auth);
      case "disconnect":
        return this.part(cl, m.nsp);
      case "emit": {
        if (this.room(cl, m)) return;
        let id;
        this.emitting = m.id ? [cl, m.id] : null;
        try {
          id = c.emit(ns.i, m.payload, m.bins, m.ack);
        } catch (err) {
          this.emitting = null;
          if (err instanceof WebAssembly.RuntimeError) throw err;
          // The send buffer is full: this emit is refused.
          return m.id && cl.post({ t: "ackFailed", nsp: m.nsp, id: m.id, reason: "disconnected" });
        }
        // Still set unless its ack already failed (and was told).
        const pending = this.emitting;
        this.emitting = null;
        if (id != null) this.lastId = id;
        if (pending && id != null) this.acks.set(m.nsp + "\n" + id, pending);
        return;
      }
      case "answer":
        return this.asks.delete(m.nsp + "\n" + m.id) && c.ack(ns.i, m.id, m.payload, m.bins);
      case "clear":
        return c.clearBuffer(ns.i);
    }
  }
}
