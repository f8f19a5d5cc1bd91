// Re-entrancy of the SSE mode (`sse()` from rtio/sse, both transports) and the plain-WebSocket
// mode (`ws()` from rtio/ws): every public call made from inside a callback the client invokes
// is safe, takes effect before it returns, and nothing reaches a client after its
// `disconnect()` returned — the rule `io()` follows (tests/js/reentrancy.test.mjs, where
// socket.io-client is the reference). These modes are rtio's own, so there is no reference
// client: the expectations are that rule, applied as `io()` applies it.
//
// Servers: the independent test servers (tests/servers/sse/server.mjs, tests/servers/ws/
// server.mjs), one of each for the file, started on their own ports; pages come from them and
// load the built package (modes-pages.mjs). Each client joins a room (SSE) or carries a query
// tag (WS) of its own, so the servers' records single it out.
//
// How: as in reentrancy.test.mjs (helpers shared in reentrancy-helpers.mjs), the page records
// markers in `log` — "before" and "after" around the call, one per event the listeners see — so
// the order shows whether the call took effect before it returned. An exception from the call
// becomes a marker ("threw: ...") and an uncaught page error fails the test. A round without
// the call first shows the events do arrive.
//
// The scenarios the modes share are written once (`commonTests`), for a mode description
// (`sseMode`, `wsMode`): how the page makes the client, which server, and how that server sends
// the client events, refuses its next attempt and reports what the client sent. Then each mode
// has tests of its own: with SSE, several events in one chunk (the SSE server's stall control
// holds what is published during the stall and writes it in one write when it ends; with the
// fetch transport the page records what each read of the body returned, and the test checks
// that the events did arrive in one chunk), resuming after a reconnection in mid-chunk, and a
// second client made in a listener; with WS, an ack answered after its connection was replaced.

import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { get, modesPage, post, startNodeServer } from "./modes-pages.mjs";
import { QUIET, WAIT, burstLog, pageHelpers } from "./reentrancy-helpers.mjs";

// How long the SSE server holds what is published, so it goes out in one write.
const HOLD = 1000;
const TEST_MS = 20_000;

const servers = [];
after(() => Promise.all(servers.map((s) => s.stop())));
let sseServer, wsServer;
const sseUrl = async () => (sseServer ??= await startNodeServer("sse", ["--ping-interval", "0"]).then((s) => (servers.push(s), s))).url;
const wsUrl = async () => (wsServer ??= await startNodeServer("ws").then((s) => (servers.push(s), s))).url;

// A lost link's disconnect marker, whichever of "transport close" and "transport error" it is.
const lost = (x) => x.replace(/^disconnect:transport (close|error)$/, "disconnect:transport");

let serial = 0;
const unique = (p) => `${p}-${process.pid}-${++serial}`;

const FIVE = [1, 2, 3, 4, 5];
// The client's state after a disconnect() that stays.
const DOWN = { connected: false, active: false };
// What the log holds from a disconnect() made in a listener: its own disconnect event in between.
const CALL = ["before", "disconnect:io client disconnect", "after"];
const RECONNECT = { reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0 };
const poll = () => new Promise((r) => setTimeout(r, 50));

// ---------------------------------------------------------------------------------------------
// The modes

// A mode, for the tests:
//   title                  the describe block's name
//   kind, path             the page makes a client with window[kind](path, opts)
//   link                   what a client's connection is called ("stream", "connection")
//   rest                   what comes after the event being delivered, in a test's name
//   url()                  the server's base URL
//   options(id)            the client's options, `id` singling it out on the server
//   clients(base, id)      the server's open connections of the client `id`
//   send(p, base, id, name, numbers)
//                          the server sends the client the events `name` numbered `numbers`;
//                          returns { ids, inOneChunk() } (SSE: the events' ids; inOneChunk
//                          checks, with the fetch transport, that they came in one chunk)
//   publish(base, id, name, n)
//                          the server sends the event `name` (`n`) to the client's connection,
//                          if there still is one
//   refuse(base)           the server refuses the next connection attempt (HTTP 503)
//   sent(base, tag)        what the clients sent with `emit("rec", tag, what)`: the `what`s
//   echoed(x)              the ack of `emit("echo", x)`
//   inFlight               the server answers in order, so what the client asks for after an
//                          emit is answered after its ack (the WebSocket server)

function sseMode(transport) {
  // The fetch transport's reads since `from`: the `count` "name" events came in one of them
  // (else the test would not test what it says).
  const checkOneChunk = async (p, from, name, count) => {
    const chunks = await p.run(({ from }) => chunks.slice(from), { from });
    const most = Math.max(0, ...chunks.map((c) => c.split(`event: ${name}\n`).length - 1));
    assert.equal(most, count, `the ${count} "${name}" events came in one chunk: ${JSON.stringify(chunks)}`);
  };
  const publish = (base, room, event, data) => post(base + "/publish", { event, data, room });
  return {
    title: `sse() [${transport}]`,
    kind: "sse",
    path: "/events",
    link: "stream",
    rest: "the rest of the events in its chunk",
    url: sseUrl,
    options: (room) => ({ transport, rooms: [room], emitUrl: "/emit", ...RECONNECT }),
    clients: async (base, room) => (await get(base + "/control/clients")).filter((c) => c.rooms.includes(room)),
    // Published during a stall, so that they reach the stream in one write.
    async send(p, base, room, name, numbers) {
      const from = await p.run(() => chunks.length);
      await post(base + "/control/stall", { ms: HOLD });
      const ids = [];
      for (const n of numbers) ids.push((await publish(base, room, name, n)).id);
      return { ids, inOneChunk: async () => transport == "fetch" && checkOneChunk(p, from, name, numbers.length) };
    },
    publish,
    refuse: (base) => post(base + "/control/fail", { status: 503, count: 1 }),
    sent: async (base, tag) => (await get(base + "/emitted")).filter((e) => e.args[0] == tag).map((e) => e.args[1]),
    echoed: (x) => [x],
    inFlight: false,
  };
}

const wsMode = {
  title: "ws()",
  kind: "ws",
  path: "/ws",
  link: "connection",
  rest: "the frames the server sent after it",
  url: wsUrl,
  options: (tag) => ({ query: { tag }, ...RECONNECT, pingInterval: 0 }),
  clients: async (base, tag) => (await get(base + "/control/clients")).filter((c) => c.query.tag == tag),
  // Asked for by the page's client (`emit-back`), back to back.
  async send(p, base, tag, name, numbers) {
    await p.run(({ name, numbers }) => numbers.forEach((n) => c.emit("emit-back", name, n)), { name, numbers });
    return { inOneChunk: async () => {} };
  },
  // To every open socket: the server has no other way to reach a client.
  publish: (base, tag, event, data) => post(base + "/control/send", { data: JSON.stringify([event, data]) }),
  refuse: (base) => post(base + "/control/reject", { status: 503, count: 1 }),
  sent: async (base, tag) =>
    (await get(base + "/control/received"))
      .filter((f) => f.kind == "text" && f.data.includes(tag))
      .map((f) => JSON.parse(f.data))
      .filter((f) => f[0] == "rec")
      .map((f) => f[2]),
  echoed: (x) => x,
  inFlight: true,
};

// The connections of the client `id` once only `n` are left open (none by default), or WAIT ms
// have passed: the server learns that a connection the client closed has closed a moment later
// (on a loaded machine, after the client's next round trip).
async function openAfterClose(mode, base, id, n = 0) {
  const end = Date.now() + WAIT;
  let open;
  while ((open = await mode.clients(base, id)).length > n && Date.now() < end) await poll();
  return open;
}

// ---------------------------------------------------------------------------------------------
// The page

// Installed in the page after the shared helpers: `client(opts)`, which makes a client of the
// mode, `watchBursts`, and the record of the fetch transport's chunks.
function setup({ kind, path }) {
  window.client = (opts) => window[kind](path, opts);
  // Marks the client's connect and disconnect events and its `burst` events (the onAny
  // listener's marker, then the event listener's); once `armed` is set, the event listener
  // makes `call(c)` (once, see callOnce) at the event numbered 1.
  window.watchBursts = (c, call) => {
    c.on("connect", () => mark("connect"));
    c.on("disconnect", (reason) => mark("disconnect:" + reason));
    c.onAny((ev, n) => ev == "burst" && mark("any:" + n));
    c.on("burst", (n) => {
      mark("burst:" + n);
      if (window.armed && n == 1) callOnce(c, () => call(c));
    });
  };
  // What each read of a fetch body returned, as text (the fetch transport's chunks).
  window.chunks = [];
  const read = ReadableStreamDefaultReader.prototype.read;
  const dec = new TextDecoder();
  ReadableStreamDefaultReader.prototype.read = function (...a) {
    return read.apply(this, a).then((r) => {
      if (r && r.value instanceof Uint8Array) chunks.push(dec.decode(r.value));
      return r;
    });
  };
}

// A page of the mode's server with the helpers installed; `body(p, base)` runs with it, and the
// page must have had no uncaught error. Console messages (such as a failed request the test
// asked for) are not errors here.
async function withPage(mode, body) {
  const base = await mode.url();
  const p = await modesPage(base);
  const uncaught = [];
  p.page.on("pageerror", (e) => uncaught.push(String(e.stack || e)));
  try {
    await p.run(pageHelpers, { wait: WAIT, quiet: QUIET, fields: ["connected", "active"] });
    await p.run(setup, { kind: mode.kind, path: mode.path });
    const out = await body(p, base);
    assert.deepEqual(uncaught, [], "uncaught page errors");
    return out;
  } finally {
    await p.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The scenarios both modes share

function commonTests(m) {
  const test = (name, body) => it(name, { timeout: TEST_MS }, () => withPage(m, body));

  test(`disconnect() in an event listener: ${m.rest} reach no listener, nor onAny`, async (p, base) => {
    const id = unique("burst");
    await p.run(async ({ opts }) => {
      window.c = client(opts);
      watchBursts(c, () => c.disconnect());
      await next(c, "connect", WAIT);
      log.length = 0;
    }, { opts: m.options(id) });
    // First without the call: the five events arrive.
    let sent = await m.send(p, base, id, "burst", FIVE);
    const control = await p.run(async () => {
      await until(() => log.length == 10, WAIT, "the first burst");
      return log.splice(0);
    });
    assert.deepEqual(control, burstLog((n) => `any:${n}`));
    await sent.inOneChunk();
    await p.run(() => void (window.armed = true));
    sent = await m.send(p, base, id, "burst", FIVE);
    const r = await p.run(() => settled(c, "the listener's call"));
    await sent.inOneChunk();
    assert.deepEqual(r, { log: ["any:1", "burst:1", ...CALL], state: { same: true, ...DOWN }, later: DOWN });
    assert.deepEqual(await openAfterClose(m, base, id), [], `no ${m.link} open`);
  });

  test(`disconnect() in a connect listener: disconnected and reported before it returns, the ${m.link} is closed, no reconnection`, async (p, base) => {
    const id = unique("connect");
    const r = await p.run(async ({ opts }) => {
      const c = (window.c = client(opts));
      c.on("disconnect", (reason) => mark("disconnect:" + reason));
      c.on("late", () => mark("late"));
      c.on("connect", () => {
        mark("connect");
        callOnce(c, () => c.disconnect());
      });
      await until(() => window.state, WAIT, "the connect listener");
      return { log: log.slice(), state };
    }, { opts: m.options(id) });
    assert.deepEqual(r, { log: ["connect", ...CALL], state: { same: true, ...DOWN } });
    await m.publish(base, id, "late", 1);
    const later = await p.run(() => settled(c));
    assert.deepEqual(later, { ...r, later: DOWN });
    assert.deepEqual(await openAfterClose(m, base, id), [], `no ${m.link} open`);
  });

  test(`disconnect() in an ack callback: disconnected and reported before it returns, ${m.inFlight ? "pending acks fail, " : ""}later events are not delivered`, async (p, base) => {
    const id = unique("ack");
    const r = await p.run(async ({ opts, inFlight }) => {
      const c = (window.c = client(opts));
      c.on("disconnect", (reason) => mark("disconnect:" + reason));
      c.onAny((ev) => mark("any:" + ev));
      c.on("late", () => mark("late"));
      await next(c, "connect", WAIT);
      c.emit("echo", "a", (x) => {
        mark("ack:" + JSON.stringify(x));
        callOnce(c, () => c.disconnect());
      });
      // The server answers these after the echo: an event, and an ack that never comes.
      if (inFlight) {
        c.emit("emit-back", "late", 1);
        window.pending = c.emitWithAck("never").then(() => "resolved", (e) => e.message);
      }
      await until(() => window.state, WAIT, "the ack callback");
      return { log: log.slice(), state };
    }, { opts: m.options(id), inFlight: m.inFlight });
    assert.deepEqual(r, { log: [`ack:${JSON.stringify(m.echoed("a"))}`, ...CALL], state: { same: true, ...DOWN } });
    await m.publish(base, id, "late", 1);
    const later = await p.run(async () => ({ ...(await settled(c)), ...(window.pending && { rejected: await pending }) }));
    assert.deepEqual(later, { ...r, later: DOWN, ...(m.inFlight && { rejected: "disconnected" }) });
    assert.deepEqual(await openAfterClose(m, base, id), [], `no ${m.link} open`);
  });

  for (const { call, name, expected } of [
    {
      call: "disconnect",
      name: "disconnect() in a connect_error listener: no disconnect event, no new attempt",
      expected: { log: ["connect_error", "before", "after"], state: { same: true, ...DOWN }, later: DOWN },
    },
    {
      call: "reconnect",
      name: "disconnect() then connect() in a connect_error listener: a new attempt, which connects",
      expected: {
        log: ["connect_error", "before", "after", "connect"],
        state: { same: true, connected: false, active: true },
        later: { connected: true, active: true },
        echo: m.echoed("back"),
      },
    },
  ]) {
    test(name, async (p, base) => {
      const id = unique(call);
      await m.refuse(base);
      const r = await p.run(async ({ opts, call }) => {
        const c = (window.c = client(opts));
        c.on("connect", () => mark("connect"));
        c.on("disconnect", (reason) => mark("disconnect:" + reason));
        c.on("connect_error", () => {
          mark("connect_error");
          callOnce(c, () => calls[call](c));
        });
        if (call == "disconnect") return settled(c, "connect_error");
        await until(() => log.includes("connect"), WAIT, "the connect");
        const seen = await settled(c);
        const echo = await c.emitWithAck("echo", "back");
        c.disconnect();
        return { ...seen, echo };
      }, { opts: m.options(id), call });
      assert.deepEqual(r, expected);
      if (call == "disconnect") assert.deepEqual(await openAfterClose(m, base, id), [], `no ${m.link} open`);
    });
  }

  test(`disconnect() in a disconnect listener (${m.link} dropped) stops the reconnection`, async (p, base) => {
    const id = unique("dropped");
    await p.run(async ({ opts }) => {
      const c = (window.c = client(opts));
      c.on("connect", () => mark("connect"));
      c.on("reconnect_attempt", () => mark("reconnect_attempt"));
      c.on("disconnect", (reason) => {
        mark("disconnect:" + reason);
        callOnce(c, () => c.disconnect());
      });
      await next(c, "connect", WAIT);
      log.length = 0;
    }, { opts: m.options(id) });
    await post(base + "/control/drop");
    const r = await p.run(() => settled(c, "the disconnect listener"));
    // Which of the two a drop is (close or error) is not what this test is about.
    assert.deepEqual(
      { ...r, log: r.log.map(lost) },
      { log: ["disconnect:transport", "before", "after"], state: { same: true, ...DOWN }, later: DOWN },
    );
    assert.deepEqual(await openAfterClose(m, base, id), [], `no ${m.link} open`);
  });

  test("connect() in the disconnect listener of the client's own disconnect() connects again", async (p, base) => {
    const id = unique("again");
    const r = await p.run(async ({ opts }) => {
      const c = (window.c = client(opts));
      await next(c, "connect", WAIT);
      c.on("connect", () => mark("connect"));
      c.on("disconnect", (reason) => {
        mark("disconnect:" + reason);
        callOnce(c, () => c.connect());
      });
      mark("outer before");
      c.disconnect();
      mark("outer after");
      const outer = snap(c);
      await until(() => log.includes("connect"), WAIT, "the new connection");
      await sleep(QUIET);
      return { log, state, outer, later: snap(c), echo: await c.emitWithAck("echo", "back") };
    }, { opts: m.options(id) });
    assert.deepEqual(r, {
      log: ["outer before", "disconnect:io client disconnect", "before", "after", "outer after", "connect"],
      state: { same: true, connected: false, active: true },
      outer: { connected: false, active: true },
      later: { connected: true, active: true },
      echo: m.echoed("back"),
    });
    assert.equal((await openAfterClose(m, base, id, 1)).length, 1, `one ${m.link} open`);
  });

  test("emits from connect, event, ack, disconnect and connect_error listeners are all sent, in call order", async (p, base) => {
    const id = unique("emits");
    const tag = unique("tag");
    await p.run(async ({ opts, tag }) => {
      const c = (window.c = client(opts));
      c.once("connect", () => c.emit("rec", tag, "connect"));
      c.once("burst", () => {
        c.emit("rec", tag, "event");
        window.acked = c.emitWithAck("echo", "in a listener");
      });
      c.once("disconnect", () => c.emit("rec", tag, "disconnect"));
      c.once("connect_error", () => c.emit("rec", tag, "connect_error"));
      await next(c, "connect", WAIT);
      await new Promise((resolve) => c.emit("echo", 0, () => resolve(c.emit("rec", tag, "ack"))));
    }, { opts: m.options(id), tag });
    await m.send(p, base, id, "burst", [1]);
    const acked = await p.run(async () => {
      await until(() => window.acked, WAIT, "the event");
      return acked;
    });
    assert.deepEqual(acked, m.echoed("in a listener"));
    // The connection is dropped and the next attempt refused, then it connects again.
    await p.run(() => void (window.back = next(c, "connect", 2 * WAIT)));
    await m.refuse(base);
    await post(base + "/control/drop");
    await p.run(() => back);
    let sent;
    for (let i = 0; i < 50; i++) {
      sent = await m.sent(base, tag);
      if (sent.length >= 5) break;
      await poll();
    }
    assert.deepEqual(sent, ["connect", "ack", "event", "disconnect", "connect_error"]);
  });

  test("off and offAny in listeners, and off in an ack callback, take effect for the next events", async (p, base) => {
    const id = unique("off");
    await p.run(async ({ opts }) => {
      const c = (window.c = client(opts));
      const { seen, byAck } = offListeners(c);
      window.seen = seen;
      await next(c, "connect", WAIT);
      await new Promise((resolve) => c.emit("echo", 0, () => resolve(c.off("burst", byAck))));
    }, { opts: m.options(id) });
    const sent = await m.send(p, base, id, "burst", FIVE);
    const r = await p.run(async () => {
      await until(() => seen.kept.length == 5, WAIT, "the burst");
      await sleep(200);
      c.disconnect();
      return seen;
    });
    await sent.inOneChunk();
    assert.deepEqual(r, { self: [1], any: [1], kept: [1, 2, 3, 4, 5], byAck: [] });
  });
}

// ---------------------------------------------------------------------------------------------
// SSE mode

for (const transport of ["eventsource", "fetch"]) {
  const m = sseMode(transport);
  describe(`re-entrancy of ${m.title}`, () => {
    commonTests(m);

    it("a listener that creates another sse() client does not disturb the first: every event once, in order", { timeout: TEST_MS }, () =>
      withPage(m, async (p, base) => {
        const room = unique("tick");
        await p.run(async ({ opts }) => {
          window.got1 = [];
          window.got2 = [];
          window.c = sse("/events", opts);
          c.on("tick", (n) => {
            got1.push(n);
            if (n == 2 && !window.c2) {
              around(() => {
                window.c2 = sse("/events", opts);
                c2.on("tick", (m) => got2.push(m));
                c2.on("connect", () => mark("second connect"));
              });
            }
          });
          await next(c, "connect", WAIT);
        }, { opts: m.options(room) });
        const sent = await m.send(p, base, room, "tick", [1, 2, 3, 4, 5, 6]);
        await p.run(() => until(() => window.c2 && c2.connected && got1.length >= 6, WAIT, "six ticks and the second client"));
        await sent.inOneChunk();
        // Both connected: live events reach both.
        for (const n of [7, 8]) await m.publish(base, room, "tick", n);
        const r = await p.run(async () => {
          await until(() => got1.length >= 8 && got2.length >= 2, WAIT, "the live ticks");
          await sleep(200);
          c.disconnect();
          c2.disconnect();
          return { log, got1, got2 };
        });
        assert.deepEqual(r.log, ["before", "after", "second connect"]);
        assert.deepEqual(r.got1, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert.deepEqual(r.got2, [7, 8]);
      }));

    it("disconnect() then connect() in a listener mid-chunk: the rest of the chunk comes once, on the new stream, after its connect", { timeout: TEST_MS }, () =>
      withPage(m, async (p, base) => {
        const room = unique("resume");
        await p.run(async ({ opts }) => {
          window.c = sse("/events", opts);
          watchBursts(c, () => [c.disconnect(), c.connect()]);
          await next(c, "connect", WAIT);
          log.length = 0;
          window.armed = true;
        }, { opts: m.options(room) });
        const sent = await m.send(p, base, room, "burst", FIVE);
        const r = await p.run(async () => {
          // Not until(): what arrived is the result, whether or not the last event did.
          const end = Date.now() + WAIT;
          while (!log.includes("burst:5") && Date.now() < end) await sleep(20);
          await sleep(QUIET);
          return { log, state, later: snap(c) };
        });
        await sent.inOneChunk();
        // What the new stream resumed from (the server's view).
        const resumedFrom = (await m.clients(base, room)).map((s) => s.lastEventId);
        // The new stream resumes after the last event seen (1), so 2..5 are sent on it.
        assert.deepEqual(
          { ...r, resumedFrom },
          {
            log: ["any:1", "burst:1", ...CALL, "connect", ...burstLog((n) => `any:${n}`, [2, 3, 4, 5])],
            state: { same: true, connected: false, active: true },
            later: { connected: true, active: true },
            resumedFrom: [sent.ids[0]],
          },
        );
      }));
  });
}

// ---------------------------------------------------------------------------------------------
// Plain-WebSocket mode

describe(`re-entrancy of ${wsMode.title}`, () => {
  const m = wsMode;
  commonTests(m);

  it("disconnect() then connect() in an event listener: the old connection's later frames are not delivered, the new one works", { timeout: TEST_MS }, () =>
    withPage(m, async (p) => {
      const r = await p.run(async ({ opts }) => {
        const c = (window.c = client(opts));
        watchBursts(c, () => [c.disconnect(), c.connect()]);
        await next(c, "connect", WAIT);
        log.length = 0;
        window.armed = true;
        const seen = await burstAcrossReconnect(c);
        c.disconnect();
        return seen;
      }, { opts: m.options(unique("renew")) });
      assert.deepEqual(r.first, ["any:1", "burst:1", ...CALL, "connect"]);
      assert.deepEqual(r.state, { same: true, connected: false, active: true });
      assert.deepEqual(r.log, burstLog((n) => `any:${n}`, [6, 7]));
    }));

  it("an ack function called after its connection was replaced is not sent on the new connection", { timeout: TEST_MS }, () =>
    withPage(m, async (p, base) => {
      const tag = unique("stale");
      await p.run(async ({ opts }) => {
        const c = (window.c = client(opts));
        window.acks = [];
        c.on("question", (n, ack) => acks.push(ack));
        await next(c, "connect", WAIT);
        // Answered on its own connection, the ack reaches the server, which answers.
        const answered = next(c, "answer", WAIT);
        c.emit("ask", "question", 1);
        await until(() => acks.length == 1, WAIT, "the first question");
        acks[0]("first reply");
        window.answer = (await answered)[0];
        // The second one is kept for after the reconnection.
        c.emit("ask", "question", 2);
        await until(() => acks.length == 2, WAIT, "the second question");
        window.back = next(c, "connect", 2 * WAIT);
      }, { opts: m.options(tag) });
      assert.equal(await p.run(() => window.answer), "first reply");
      const [old] = await m.clients(base, tag);
      await post(base + "/control/drop");
      const r = await p.run(async () => {
        await back;
        around(() => acks[1]("stale reply"));
        // A round trip on the new connection after the call: whatever it wrote is written by then.
        const sum = await c.emitWithAck("add", 4, 5);
        await sleep(200);
        return { log, sum };
      });
      assert.deepEqual(r, { log: ["before", "after"], sum: 9 });
      const now = await m.clients(base, tag);
      assert.equal(now.length, 1);
      assert.notEqual(now[0].id, old.id, "a new connection");
      const frames = (await get(base + "/control/received?client=" + now[0].id)).map((f) => f.data);
      assert.ok(frames.some((f) => f.includes('"add"')), "the new connection's frames: " + JSON.stringify(frames));
      assert.deepEqual(frames.filter((f) => f.includes('"ack"')), [], "no ack reply on the new connection");
    }));
});
