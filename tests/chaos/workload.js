// The chaos workload, in the page (a classic script; the driver puts `io`, `sse`, `ws` or, for
// the Rust API, `rustChaos` on `window` first). Each client emits numbered events with acks and numbered volatile events,
// takes the server's numbered ticks, and (Socket.IO) is a member of a room with presence.
// What happens is kept as short records that the driver drains every few seconds, so the page
// holds little of it and its memory can be measured.
//
//   chaos.start(specs)       starts one client per spec
//   chaos.drain()            the records since the last drain
//   chaos.hide() / show()    the page's visibility, as a background tab's (with its events)
//   chaos.settle(ms)         resolves once every client is connected (and in its room)
//   chaos.finish(ms)         stops the work, waits for what is pending, stops the feeds;
//                            resolves with each client's final state
//
// Records: ["ok", c, n] an ack; ["rejected", c, n, reason]; ["bad", c, n, value] a wrong ack;
// ["tick", c, s, k]; ["connect", c, id, recovered]; ["disconnect", c, reason];
// ["attempt", c]; ["connect_error", c, message]. Each with the time last.
(() => {
  const records = [];
  const clients = [];
  const note = (...r) => records.push([...r, Date.now()]);
  // `until` (predicate, ms, what) is the test pages' own helper (tests/js/launch.mjs).
  const until = window.until;

  let hidden = false;
  for (const [key, value] of [["hidden", () => hidden], ["visibilityState", () => (hidden ? "hidden" : "visible")]]) {
    Object.defineProperty(document, key, { configurable: true, get: value });
  }
  const visibility = (to) => {
    hidden = to;
    document.dispatchEvent(new Event("visibilitychange"));
  };

  function open(spec) {
    if (spec.kind === "io") return window.io(spec.url, { ...spec.options, auth: { chaos: spec.name } });
    if (spec.kind === "ws") return window.ws(spec.url, { ...spec.options, query: { chaos: spec.name } });
    return window.sse(spec.url, { ...spec.options, rooms: ["chaos." + spec.name], query: { chaos: spec.name } });
  }

  // A client on rtio's Rust API (tests/chaos/rust-page), which keeps its own work and state.
  function startRust(spec) {
    const handle = window.rustChaos.start(JSON.stringify(spec), (text) => records.push([...JSON.parse(text), Date.now()]));
    clients.push({
      ready: () => handle.ready(),
      finish: async (ms) => JSON.parse(await handle.finish(ms)),
      close: () => handle.close(),
    });
  }

  function start(spec) {
    if (spec.kind === "rust") return startRust(spec);
    const c = spec.name;
    const sock = open(spec);
    const client = { spec, sock, n: 0, vn: 0, pending: 0, timers: [], room: null, feeding: spec.kind !== "sse" };
    client.ready = () => sock.connected && (!client.room || client.room.joined);
    client.finish = (ms) => finishOne(client, ms);
    client.close = () => sock.disconnect();
    clients.push(client);
    const manager = spec.kind === "io" ? sock.io : sock;
    manager.on("reconnect_attempt", () => note("attempt", c));
    sock.on("connect", () => {
      note("connect", c, sock.id ?? null, sock.recovered === true);
      if (client.feeding) sock.emit("chaos:feed", spec.feed);
    });
    sock.on("disconnect", (reason) => note("disconnect", c, String(reason)));
    sock.on("connect_error", (err) => note("connect_error", c, String(err && err.message)));
    sock.on("chaos:tick", (...args) => {
      const [s, k] = spec.kind === "sse" ? args[0] : args;
      note("tick", c, s, k);
    });
    if (spec.room) {
      client.room = sock.room(spec.room);
      client.room.join({ name: c }).catch((err) => note("join_error", c, String(err && err.message)));
    }
    const args = (n) => (spec.kind === "sse" ? [c, n] : [n]);
    client.timers.push(
      setInterval(() => {
        const n = ++client.n;
        client.pending++;
        const target = spec.retries ? sock : sock.timeout(spec.ackTimeout);
        target.emitWithAck("chaos:emit", ...args(n)).then(
          (value) => (value === n ? note("ok", c, n) : note("bad", c, n, JSON.stringify(value))),
          (err) => note("rejected", c, n, String((err && err.message) || err)),
        ).finally(() => client.pending--);
      }, spec.emitEvery),
      setInterval(() => sock.volatile.emit("chaos:volatile", ...args(++client.vn)), spec.volatileEvery),
    );
  }

  // Every client connected and, with a room, joined.
  const ready = () => clients.every((x) => x.ready());

  async function finishOne(x, ms) {
    const { spec, sock } = x;
    x.timers.forEach(clearInterval);
    await until(() => x.pending === 0, ms, "the pending acks of " + spec.name);
    // Stopping the feed on the connection it runs on: its ack comes after every tick sent before.
    if (x.feeding) await sock.timeout(ms).emitWithAck("chaos:feed", 0);
    const state = { name: spec.name, emits: x.n, volatiles: x.vn, connected: sock.connected, id: sock.id ?? null };
    if (x.room) {
      state.members = x.room.presence.members.map((m) => m.id).sort();
      state.serverMembers = (await sock.timeout(ms).emitWithAck("chaos:members", spec.room)).sort();
      state.self = sock.id;
    }
    return state;
  }

  window.chaos = {
    start: (specs) => specs.forEach(start),
    drain: () => records.splice(0),
    hide: () => visibility(true),
    show: () => visibility(false),
    settle: (ms) => until(ready, ms, "every client connected and in its room"),
    finish: (ms) => Promise.all(clients.map((x) => x.finish(ms))),
    // For the end: every client closed, so that what is left in memory is what rtio keeps.
    close: () => clients.forEach((x) => x.close()),
  };
})();
