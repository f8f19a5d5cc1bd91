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
// How: as in reentrancy.test.mjs, the page records markers in `log` — "before" and "after"
// around the call, one per event the listeners see — so the order shows whether the call took
// effect before it returned. An exception from the call becomes a marker ("threw: ...") and an
// uncaught page error fails the test. Several SSE events in one chunk: the SSE server's stall
// control holds what is published during the stall and writes it in one write when it ends;
// with the fetch transport the page records what each read of the body returned, and the test
// checks that the events did arrive in one chunk. A round without the call first shows the
// events do arrive.

import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { get, modesPage, post, startNodeServer } from "./modes-pages.mjs";

// How long things that must happen may take (a loaded machine), and how long the page waits to
// see that something that must not happen does not.
const WAIT = 5000;
const QUIET = 800;
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

// Installed in the page before each test: the log, the markers and small helpers.
function setup({ wait, quiet }) {
  window.WAIT = wait;
  window.QUIET = quiet;
  window.log = [];
  window.mark = (x) => log.push(x);
  window.around = (call) => {
    mark("before");
    let ret;
    try {
      ret = call();
    } catch (e) {
      mark("threw: " + (e && e.message));
    }
    mark("after");
    return ret;
  };
  // A wait that times out says what the log held.
  const plainUntil = window.until;
  window.until = (pred, ms, what) =>
    plainUntil(pred, ms, what).catch((e) => {
      throw new Error(e.message + "; log: " + JSON.stringify(log));
    });
  window.snap = (c) => ({ connected: c.connected, active: c.active });
  // Asks the WebSocket server for `n` events `name` back to back (`emit-back`), numbered from `from`.
  window.burst = (c, name, n, from = 1) => {
    for (let i = from; i < from + n; i++) c.emit("emit-back", name, i);
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

// A page of `base` with the helpers installed; `body(p)` runs with it, and the page must have
// had no uncaught error. Console messages (such as a failed request the test asked for) are not
// errors here.
async function withPage(base, body) {
  const p = await modesPage(base);
  const uncaught = [];
  p.page.on("pageerror", (e) => uncaught.push(String(e.stack || e)));
  try {
    await p.run(setup, { wait: WAIT, quiet: QUIET });
    const out = await body(p);
    assert.deepEqual(uncaught, [], "uncaught page errors");
    return out;
  } finally {
    await p.close();
  }
}

// ---------------------------------------------------------------------------------------------
// SSE mode

for (const transport of ["eventsource", "fetch"]) {
  describe(`re-entrancy of sse() [${transport}]`, () => {
    // Publishes `events` ([name, data] pairs) to `room` so that they reach the stream in one write.
    // Returns the events' ids.
    const inOneWrite = async (base, room, events) => {
      await post(base + "/control/stall", { ms: HOLD });
      const ids = [];
      for (const [event, data] of events) ids.push((await post(base + "/publish", { event, data, room })).id);
      return ids;
    };
    const publish = (base, room, event, data) => post(base + "/publish", { event, data, room });
    // With the fetch transport, the test's events must have come in one chunk (else the test
    // would not test what it says). `from` is the number of chunks before they were published.
    const checkOneChunk = async (p, from, name, count) => {
      if (transport != "fetch") return;
      const chunks = await p.run(({ from }) => chunks.slice(from), { from });
      const most = Math.max(0, ...chunks.map((c) => c.split(`event: ${name}\n`).length - 1));
      assert.equal(most, count, `the ${count} "${name}" events came in one chunk: ${JSON.stringify(chunks)}`);
    };
    const options = (room, extra = {}) => ({
      transport,
      rooms: [room],
      emitUrl: "/emit",
      reconnectionDelay: 100,
      reconnectionDelayMax: 300,
      randomizationFactor: 0,
      ...extra,
    });
    const clientsIn = async (base, room) => (await get(base + "/control/clients")).filter((c) => c.rooms.includes(room));
    // The streams of `room` still open once they had WAIT ms to close.
    const openAfterClose = async (base, room) => {
      const end = Date.now() + WAIT;
      let open;
      while ((open = await clientsIn(base, room)).length && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      return open;
    };

    it("disconnect() in a listener while one chunk holds several events: the rest are delivered to no listener, nor onAny", { timeout: TEST_MS }, async () => {
      const base = await sseUrl();
      const room = unique("burst");
      await withPage(base, async (p) => {
        await p.run(async ({ opts }) => {
          window.c = sse("/events", opts);
          c.on("connect", () => mark("connect"));
          c.on("disconnect", (reason) => mark("disconnect:" + reason));
          c.onAny((ev, n) => ev == "burst" && mark("any:" + n));
          c.on("burst", (n) => {
            mark("burst:" + n);
            if (window.act && n == 1) {
              window.act = false;
              const ret = around(() => c.disconnect());
              window.state = { same: ret === c, ...snap(c) };
            }
          });
          await next(c, "connect", WAIT);
          log.length = 0;
        }, { opts: options(room) });
        const five = [1, 2, 3, 4, 5].map((n) => ["burst", n]);
        // First without the call: the five events arrive, in one chunk.
        let from = await p.run(() => chunks.length);
        await inOneWrite(base, room, five);
        const control = await p.run(async () => {
          await until(() => log.length == 10, WAIT, "the first burst");
          return log.splice(0);
        });
        assert.deepEqual(control, [1, 2, 3, 4, 5].flatMap((n) => [`any:${n}`, `burst:${n}`]));
        await checkOneChunk(p, from, "burst", 5);
        from = await p.run(() => ((window.act = true), chunks.length));
        await inOneWrite(base, room, five);
        const r = await p.run(async () => {
          await until(() => window.state, WAIT, "the listener's call");
          await sleep(QUIET);
          return { log, state, later: snap(c) };
        });
        await checkOneChunk(p, from, "burst", 5);
        assert.deepEqual(
          { log: r.log, state: r.state, later: r.later },
          {
            log: ["any:1", "burst:1", "before", "disconnect:io client disconnect", "after"],
            state: { same: true, connected: false, active: false },
            later: { connected: false, active: false },
          },
        );
      });
    });

    it("a listener that creates another sse() client does not disturb the first: every event once, in order", { timeout: TEST_MS }, async () => {
      const base = await sseUrl();
      const room = unique("tick");
      await withPage(base, async (p) => {
        await p.run(async ({ opts }) => {
          window.got1 = [];
          window.got2 = [];
          window.c = sse("/events", opts);
          c.on("tick", (n) => {
            got1.push(n);
            if (n == 2 && !window.c2) {
              mark("before");
              try {
                window.c2 = sse("/events", opts);
                c2.on("tick", (m) => got2.push(m));
                c2.on("connect", () => mark("second connect"));
              } catch (e) {
                mark("threw: " + e.message);
              }
              mark("after");
            }
          });
          await next(c, "connect", WAIT);
        }, { opts: options(room) });
        const from = await p.run(() => chunks.length);
        await inOneWrite(base, room, [1, 2, 3, 4, 5, 6].map((n) => ["tick", n]));
        await p.run(() => until(() => window.c2 && c2.connected && got1.length >= 6, WAIT, "six ticks and the second client"));
        await checkOneChunk(p, from, "tick", 6);
        // Both connected: live events reach both.
        for (const n of [7, 8]) await publish(base, room, "tick", n);
        const r = await p.run(async () => {
          await until(() => got1.length >= 8 && got2.length >= 2, WAIT, "the live ticks");
          await sleep(200);
          c.disconnect();
          c2.disconnect();
          return { log, got1, got2, connected: c.connected };
        });
        assert.deepEqual(r.log, ["before", "after", "second connect"]);
        assert.deepEqual(r.got1, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert.deepEqual(r.got2, [7, 8]);
      });
    });

    it("disconnect() in a connect listener: disconnected and reported before it returns, the stream is closed, no reconnection", { timeout: TEST_MS }, async () => {
      const base = await sseUrl();
      const room = unique("connect");
      await withPage(base, async (p) => {
        const r = await p.run(async ({ opts }) => {
          const c = (window.c = sse("/events", opts));
          c.on("disconnect", (reason) => mark("disconnect:" + reason));
          c.on("late", () => mark("late"));
          c.on("connect", () => {
            mark("connect");
            if (window.acted) return;
            window.acted = true;
            const ret = around(() => c.disconnect());
            window.state = { same: ret === c, ...snap(c) };
          });
          await until(() => window.state, WAIT, "the connect listener");
          return { log: log.slice(), state };
        }, { opts: options(room) });
        assert.deepEqual(r, { log: ["connect", "before", "disconnect:io client disconnect", "after"], state: { same: true, connected: false, active: false } });
        await publish(base, room, "late", 1);
        const later = await p.run(async () => {
          await sleep(QUIET);
          return { log, later: snap(c) };
        });
        assert.deepEqual(later.log, ["connect", "before", "disconnect:io client disconnect", "after"]);
        assert.deepEqual(later.later, { connected: false, active: false });
        assert.deepEqual(await openAfterClose(base, room), [], "no stream open");
      });
    });

    it("disconnect() in an ack callback: disconnected and reported before it returns, later events are not delivered", { timeout: TEST_MS }, async () => {
      const base = await sseUrl();
      const room = unique("ack");
      await withPage(base, async (p) => {
        const r = await p.run(async ({ opts }) => {
          const c = (window.c = sse("/events", opts));
          c.on("disconnect", (reason) => mark("disconnect:" + reason));
          c.on("late", () => mark("late"));
          await next(c, "connect", WAIT);
          c.emit("echo", "a", (x) => {
            mark("ack:" + JSON.stringify(x));
            const ret = around(() => c.disconnect());
            window.state = { same: ret === c, ...snap(c) };
          });
          await until(() => window.state, WAIT, "the ack callback");
          return { log: log.slice(), state };
        }, { opts: options(room) });
        assert.deepEqual(r, { log: ['ack:["a"]', "before", "disconnect:io client disconnect", "after"], state: { same: true, connected: false, active: false } });
        await publish(base, room, "late", 1);
        const later = await p.run(async () => {
          await sleep(QUIET);
          return { log, later: snap(c) };
        });
        assert.deepEqual(later.log, ['ack:["a"]', "before", "disconnect:io client disconnect", "after"]);
        assert.deepEqual(later.later, { connected: false, active: false });
        assert.deepEqual(await openAfterClose(base, room), [], "no stream open");
      });
    });

    it("disconnect() in a connect_error listener: no disconnect event, no new attempt", { timeout: TEST_MS }, async () => {
      const base = await sseUrl();
      const room = unique("refused");
      await post(base + "/control/fail", { status: 503, count: 1 });
      await withPage(base, async (p) => {
        const r = await p.run(async ({ opts }) => {
          const c = (window.c = sse("/events", opts));
          c.on("connect", () => mark("connect"));
          c.on("disconnect", (reason) => mark("disconnect:" + reason));
          c.on("connect_error", (err) => {
            mark("connect_error");
            if (window.acted) return;
            window.acted = true;
            const ret = around(() => c.disconnect());
            window.state = { same: ret === c, ...snap(c) };
          });
          await until(() => window.state, WAIT, "connect_error");
          await sleep(QUIET);
          return { log, state, later: snap(c) };
        }, { opts: options(room) });
        assert.deepEqual(
          { log: r.log, state: r.state, later: r.later },
          {
            log: ["connect_error", "before", "after"],
            state: { same: true, connected: false, active: false },
            later: { connected: false, active: false },
          },
        );
      });
    });

    it("disconnect() then connect() in a connect_error listener: a new attempt, which connects", { timeout: TEST_MS }, async () => {
      const base = await sseUrl();
      const room = unique("retry");
      await post(base + "/control/fail", { status: 503, count: 1 });
      await withPage(base, async (p) => {
        const r = await p.run(async ({ opts }) => {
          const c = (window.c = sse("/events", opts));
          c.on("connect", () => mark("connect"));
          c.on("disconnect", (reason) => mark("disconnect:" + reason));
          c.on("connect_error", (err) => {
            mark("connect_error");
            if (window.acted) return;
            window.acted = true;
            const ret = around(() => [c.disconnect(), c.connect()]);
            window.state = { same: ret && ret[0] === c && ret[1] === c, ...snap(c) };
          });
          await until(() => log.includes("connect"), WAIT, "the connect");
          await sleep(QUIET);
          return { log, state, later: snap(c) };
        }, { opts: options(room) });
        assert.deepEqual(
          { log: r.log, state: r.state, later: r.later },
          {
            log: ["connect_error", "before", "after", "connect"],
            state: { same: true, connected: false, active: true },
            later: { connected: true, active: true },
          },
        );
      });
    });

    it("disconnect() in a disconnect listener (stream dropped) stops the reconnection", { timeout: TEST_MS }, async () => {
      const base = await sseUrl();
      const room = unique("dropped");
      await withPage(base, async (p) => {
        await p.run(async ({ opts }) => {
          const c = (window.c = sse("/events", opts));
          c.on("connect", () => mark("connect"));
          c.on("reconnect_attempt", () => mark("reconnect_attempt"));
          c.on("disconnect", (reason) => {
            mark("disconnect:" + reason);
            if (window.acted) return;
            window.acted = true;
            const ret = around(() => c.disconnect());
            window.state = { same: ret === c, ...snap(c) };
          });
          await next(c, "connect", WAIT);
          log.length = 0;
        }, { opts: options(room) });
        await post(base + "/control/drop");
        const r = await p.run(async () => {
          await until(() => window.state, WAIT, "the disconnect listener");
          await sleep(QUIET);
          return { log, state, later: snap(c) };
        });
        // Which of the two a drop is (close or error) is not what this test is about.
        assert.deepEqual(
          { log: r.log.map(lost), state: r.state, later: r.later },
          {
            log: ["disconnect:transport", "before", "after"],
            state: { same: true, connected: false, active: false },
            later: { connected: false, active: false },
          },
        );
        assert.deepEqual(await openAfterClose(base, room), [], "no stream open");
      });
    });

    it("connect() in the disconnect listener of the client's own disconnect() connects again", { timeout: TEST_MS }, async () => {
      const base = await sseUrl();
      const room = unique("again");
      await withPage(base, async (p) => {
        const r = await p.run(async ({ opts }) => {
          const c = (window.c = sse("/events", opts));
          await next(c, "connect", WAIT);
          c.on("connect", () => mark("connect"));
          c.on("disconnect", (reason) => {
            mark("disconnect:" + reason);
            if (window.acted) return;
            window.acted = true;
            const ret = around(() => c.connect());
            window.state = { same: ret === c, ...snap(c) };
          });
          mark("outer before");
          c.disconnect();
          mark("outer after");
          const outer = snap(c);
          await until(() => log.includes("connect"), WAIT, "the new connection");
          await sleep(QUIET);
          return { log, state, outer, later: snap(c) };
        }, { opts: options(room) });
        assert.deepEqual(
          { log: r.log, state: r.state },
          {
            log: ["outer before", "disconnect:io client disconnect", "before", "after", "outer after", "connect"],
            state: { same: true, connected: false, active: true },
          },
        );
        assert.deepEqual(r.outer, { connected: false, active: true });
        assert.deepEqual(r.later, { connected: true, active: true });
        assert.equal((await clientsIn(base, room)).length, 1, "one stream open");
      });
    });

    it("disconnect() then connect() in a listener mid-chunk: the rest of the chunk comes once, on the new stream, after its connect", { timeout: TEST_MS }, async () => {
      const base = await sseUrl();
      const room = unique("resume");
      await withPage(base, async (p) => {
        await p.run(async ({ opts }) => {
          window.c = sse("/events", opts);
          c.on("connect", () => mark("connect"));
          c.on("disconnect", (reason) => mark("disconnect:" + reason));
          c.onAny((ev, n) => ev == "burst" && mark("any:" + n));
          c.on("burst", (n) => {
            mark("burst:" + n);
            if (n == 1 && !window.acted) {
              window.acted = true;
              const ret = around(() => [c.disconnect(), c.connect()]);
              window.state = { same: ret && ret[0] === c && ret[1] === c, ...snap(c) };
            }
          });
          await next(c, "connect", WAIT);
          log.length = 0;
        }, { opts: options(room) });
        const from = await p.run(() => chunks.length);
        const ids = await inOneWrite(base, room, [1, 2, 3, 4, 5].map((n) => ["burst", n]));
        const r = await p.run(async () => {
          // Not until(): what arrived is the result, whether or not the last event did.
          const end = Date.now() + WAIT;
          while (!log.includes("burst:5") && Date.now() < end) await sleep(20);
          await sleep(QUIET);
          return { log, state, later: snap(c) };
        });
        await checkOneChunk(p, from, "burst", 5);
        // What the new stream resumed from (the server's view).
        const resumedFrom = (await clientsIn(base, room)).map((s) => s.lastEventId);
        // The new stream resumes after the last event seen (1), so 2..5 are sent on it.
        assert.deepEqual(
          { log: r.log, state: r.state, later: r.later, resumedFrom },
          {
            log: [
              "any:1", "burst:1", "before", "disconnect:io client disconnect", "after", "connect",
              ...[2, 3, 4, 5].flatMap((n) => [`any:${n}`, `burst:${n}`]),
            ],
            state: { same: true, connected: false, active: true },
            later: { connected: true, active: true },
            resumedFrom: [ids[0]],
          },
        );
      });
    });

    it("emits from connect, event, ack, disconnect and connect_error listeners are all sent, in call order", { timeout: TEST_MS }, async () => {
      const base = await sseUrl();
      const room = unique("emits");
      const tag = unique("tag");
      await withPage(base, async (p) => {
        await p.run(async ({ opts, tag }) => {
          const c = (window.c = sse("/events", opts));
          c.once("connect", () => c.emit("rec", tag, "connect"));
          c.on("burst", () => {
            c.emit("rec", tag, "event");
            window.acked = c.emitWithAck("echo", "in a listener");
          });
          c.once("disconnect", () => c.emit("rec", tag, "disconnect"));
          c.once("connect_error", () => c.emit("rec", tag, "connect_error"));
          await next(c, "connect", WAIT);
          await new Promise((resolve) => c.emit("echo", 0, () => resolve(c.emit("rec", tag, "ack"))));
        }, { opts: options(room), tag });
        await publish(base, room, "burst", 1);
        const acked = await p.run(async () => {
          await until(() => window.acked, WAIT, "the event");
          return acked;
        });
        assert.deepEqual(acked, ["in a listener"]);
        // The stream is dropped and the next attempt refused, then it connects again.
        await p.run(() => void (window.back = next(c, "connect", 2 * WAIT)));
        await post(base + "/control/fail", { status: 503, count: 1 });
        await post(base + "/control/drop");
        await p.run(() => back);
        let sent;
        for (let i = 0; i < 50; i++) {
          sent = (await get(base + "/emitted")).filter((e) => e.args[0] == tag).map((e) => e.args[1]);
          if (sent.length >= 5) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(sent, ["connect", "ack", "event", "disconnect", "connect_error"]);
      });
    });

    it("off and offAny in a listener mid-chunk, and off in an ack callback, take effect for the next events", { timeout: TEST_MS }, async () => {
      const base = await sseUrl();
      const room = unique("off");
      await withPage(base, async (p) => {
        await p.run(async ({ opts }) => {
          const c = (window.c = sse("/events", opts));
          window.seen = { self: [], any: [], kept: [], byAck: [] };
          const self = (n) => {
            seen.self.push(n);
            c.off("burst", self);
          };
          const any = (ev, n) => {
            seen.any.push(n);
            c.offAny(any);
          };
          const byAck = (n) => seen.byAck.push(n);
          c.on("burst", self);
          c.onAny(any);
          c.on("burst", (n) => seen.kept.push(n));
          c.on("burst", byAck);
          await next(c, "connect", WAIT);
          await new Promise((resolve) => c.emit("echo", 0, () => resolve(c.off("burst", byAck))));
        }, { opts: options(room) });
        const from = await p.run(() => chunks.length);
        await inOneWrite(base, room, [1, 2, 3, 4, 5].map((n) => ["burst", n]));
        const r = await p.run(async () => {
          await until(() => seen.kept.length == 5, WAIT, "the burst");
          await sleep(200);
          c.disconnect();
          return seen;
        });
        await checkOneChunk(p, from, "burst", 5);
        assert.deepEqual(r, { self: [1], any: [1], kept: [1, 2, 3, 4, 5], byAck: [] });
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Plain-WebSocket mode

describe("re-entrancy of ws()", () => {
  const options = (tag, extra = {}) => ({
    query: { tag },
    reconnectionDelay: 100,
    reconnectionDelayMax: 300,
    randomizationFactor: 0,
    pingInterval: 0,
    ...extra,
  });
  // The server's open sockets of the client tagged `tag`.
  const clientsOf = async (base, tag) => (await get(base + "/control/clients")).filter((c) => c.query.tag == tag);
  // The sockets of `tag` still open once they had WAIT ms to close.
  const openAfterClose = async (base, tag) => {
    const end = Date.now() + WAIT;
    let open;
    while ((open = await clientsOf(base, tag)).length && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    return open;
  };

  it("disconnect() in an event listener: the frames the server sent after it reach no listener, nor onAny", { timeout: TEST_MS }, async () => {
    const base = await wsUrl();
    const tag = unique("burst");
    await withPage(base, async (p) => {
      const r = await p.run(async ({ opts }) => {
        const c = ws("/ws", opts);
        c.on("disconnect", (reason) => mark("disconnect:" + reason));
        c.onAny((ev, n) => ev == "burst" && mark("any:" + n));
        c.on("burst", (n) => {
          mark("burst:" + n);
          if (window.act && n == 1) {
            window.act = false;
            const ret = around(() => c.disconnect());
            window.state = { same: ret === c, ...snap(c) };
          }
        });
        await next(c, "connect", WAIT);
        burst(c, "burst", 5);
        await until(() => log.length == 10, WAIT, "the first burst");
        const control = log.splice(0);
        window.act = true;
        burst(c, "burst", 5);
        await until(() => window.state, WAIT, "the listener's call");
        await sleep(QUIET);
        return { control, log, state, later: snap(c) };
      }, { opts: options(tag) });
      assert.deepEqual(r.control, [1, 2, 3, 4, 5].flatMap((n) => [`any:${n}`, `burst:${n}`]));
      assert.deepEqual(
        { log: r.log, state: r.state, later: r.later },
        {
          log: ["any:1", "burst:1", "before", "disconnect:io client disconnect", "after"],
          state: { same: true, connected: false, active: false },
          later: { connected: false, active: false },
        },
      );
      assert.deepEqual(await openAfterClose(base, tag), [], "no socket open");
    });
  });

  it("disconnect() in a connect listener: disconnected and reported before it returns, no reconnection", { timeout: TEST_MS }, async () => {
    const base = await wsUrl();
    const tag = unique("connect");
    await withPage(base, async (p) => {
      const r = await p.run(async ({ opts }) => {
        const c = ws("/ws", opts);
        c.on("disconnect", (reason) => mark("disconnect:" + reason));
        c.on("connect", () => {
          mark("connect");
          if (window.acted) return;
          window.acted = true;
          const ret = around(() => c.disconnect());
          window.state = { same: ret === c, ...snap(c) };
        });
        await until(() => window.state, WAIT, "the connect listener");
        await sleep(QUIET);
        return { log, state, later: snap(c) };
      }, { opts: options(tag) });
      assert.deepEqual(
        { log: r.log, state: r.state, later: r.later },
        {
          log: ["connect", "before", "disconnect:io client disconnect", "after"],
          state: { same: true, connected: false, active: false },
          later: { connected: false, active: false },
        },
      );
      assert.deepEqual(await openAfterClose(base, tag), [], "no socket open");
    });
  });

  it("disconnect() in an ack callback: reported before it returns, pending acks fail, later frames are not delivered", { timeout: TEST_MS }, async () => {
    const base = await wsUrl();
    const tag = unique("ack");
    await withPage(base, async (p) => {
      const r = await p.run(async ({ opts }) => {
        const c = ws("/ws", opts);
        c.on("disconnect", (reason) => mark("disconnect:" + reason));
        c.onAny((ev) => mark("any:" + ev));
        c.on("late", () => mark("late"));
        await next(c, "connect", WAIT);
        c.emit("echo", "a", (x) => {
          mark("ack:" + x);
          const ret = around(() => c.disconnect());
          window.state = { same: ret === c, ...snap(c) };
        });
        // The server answers these after the echo: an event, and an ack that never comes.
        c.emit("emit-back", "late", 1);
        const pending = c.emitWithAck("never").then(() => "resolved", (e) => e.message);
        await until(() => window.state, WAIT, "the ack callback");
        const rejected = await pending;
        await sleep(QUIET);
        return { log, state, rejected };
      }, { opts: options(tag) });
      assert.deepEqual(
        { log: r.log, state: r.state },
        {
          log: ["ack:a", "before", "disconnect:io client disconnect", "after"],
          state: { same: true, connected: false, active: false },
        },
      );
      assert.equal(r.rejected, "disconnected");
    });
  });

  it("disconnect() in a connect_error listener: no disconnect event, no new attempt", { timeout: TEST_MS }, async () => {
    const base = await wsUrl();
    const tag = unique("refused");
    await post(base + "/control/reject", { status: 503, count: 1 });
    await withPage(base, async (p) => {
      const r = await p.run(async ({ opts }) => {
        const c = ws("/ws", opts);
        c.on("connect", () => mark("connect"));
        c.on("disconnect", (reason) => mark("disconnect:" + reason));
        c.on("connect_error", () => {
          mark("connect_error");
          if (window.acted) return;
          window.acted = true;
          const ret = around(() => c.disconnect());
          window.state = { same: ret === c, ...snap(c) };
        });
        await until(() => window.state, WAIT, "connect_error");
        await sleep(QUIET);
        return { log, state, later: snap(c) };
      }, { opts: options(tag) });
      assert.deepEqual(
        { log: r.log, state: r.state, later: r.later },
        {
          log: ["connect_error", "before", "after"],
          state: { same: true, connected: false, active: false },
          later: { connected: false, active: false },
        },
      );
      assert.deepEqual(await openAfterClose(base, tag), [], "no socket open");
    });
  });

  it("disconnect() then connect() in a connect_error listener: a new attempt, which connects", { timeout: TEST_MS }, async () => {
    const base = await wsUrl();
    const tag = unique("retry");
    await post(base + "/control/reject", { status: 503, count: 1 });
    await withPage(base, async (p) => {
      const r = await p.run(async ({ opts }) => {
        const c = ws("/ws", opts);
        c.on("connect", () => mark("connect"));
        c.on("disconnect", (reason) => mark("disconnect:" + reason));
        c.on("connect_error", () => {
          mark("connect_error");
          if (window.acted) return;
          window.acted = true;
          const ret = around(() => [c.disconnect(), c.connect()]);
          window.state = { same: ret && ret[0] === c && ret[1] === c, ...snap(c) };
        });
        await until(() => log.includes("connect"), WAIT, "the connect");
        await sleep(QUIET);
        const later = snap(c);
        const sum = await c.emitWithAck("add", 1, 2);
        const seen = log.slice();
        c.disconnect();
        return { log: seen, state, later, sum };
      }, { opts: options(tag) });
      assert.deepEqual(
        { log: r.log, state: r.state, later: r.later },
        {
          log: ["connect_error", "before", "after", "connect"],
          state: { same: true, connected: false, active: true },
          later: { connected: true, active: true },
        },
      );
      assert.equal(r.sum, 3);
    });
  });

  it("disconnect() in a disconnect listener (connection dropped) stops the reconnection", { timeout: TEST_MS }, async () => {
    const base = await wsUrl();
    const tag = unique("dropped");
    await withPage(base, async (p) => {
      await p.run(async ({ opts }) => {
        const c = (window.c = ws("/ws", opts));
        c.on("connect", () => mark("connect"));
        c.on("reconnect_attempt", () => mark("reconnect_attempt"));
        c.on("disconnect", (reason) => {
          mark("disconnect:" + reason);
          if (window.acted) return;
          window.acted = true;
          const ret = around(() => c.disconnect());
          window.state = { same: ret === c, ...snap(c) };
        });
        await next(c, "connect", WAIT);
        log.length = 0;
      }, { opts: options(tag) });
      await post(base + "/control/drop");
      const r = await p.run(async () => {
        await until(() => window.state, WAIT, "the disconnect listener");
        await sleep(QUIET);
        return { log, state, later: snap(c) };
      });
      // Which of the two a drop is (close or error) is not what this test is about.
      assert.deepEqual(
        { log: r.log.map(lost), state: r.state, later: r.later },
        {
          log: ["disconnect:transport", "before", "after"],
          state: { same: true, connected: false, active: false },
          later: { connected: false, active: false },
        },
      );
      assert.deepEqual(await openAfterClose(base, tag), [], "no socket open");
    });
  });

  it("connect() in the disconnect listener of the client's own disconnect() connects again", { timeout: TEST_MS }, async () => {
    const base = await wsUrl();
    const tag = unique("again");
    await withPage(base, async (p) => {
      const r = await p.run(async ({ opts }) => {
        const c = ws("/ws", opts);
        await next(c, "connect", WAIT);
        c.on("connect", () => mark("connect"));
        c.on("disconnect", (reason) => {
          mark("disconnect:" + reason);
          if (window.acted) return;
          window.acted = true;
          const ret = around(() => c.connect());
          window.state = { same: ret === c, ...snap(c) };
        });
        mark("outer before");
        c.disconnect();
        mark("outer after");
        const outer = snap(c);
        await until(() => log.includes("connect"), WAIT, "the new connection");
        await sleep(QUIET);
        const sum = await c.emitWithAck("add", 2, 3);
        return { log, state, outer, sum };
      }, { opts: options(tag) });
      assert.deepEqual(
        { log: r.log, state: r.state },
        {
          log: ["outer before", "disconnect:io client disconnect", "before", "after", "outer after", "connect"],
          state: { same: true, connected: false, active: true },
        },
      );
      assert.deepEqual(r.outer, { connected: false, active: true });
      assert.equal(r.sum, 5);
      assert.equal((await clientsOf(base, tag)).length, 1, "one socket open");
    });
  });

  it("disconnect() then connect() in an event listener: the old connection's later frames are not delivered, the new one works", { timeout: TEST_MS }, async () => {
    const base = await wsUrl();
    const tag = unique("renew");
    await withPage(base, async (p) => {
      const r = await p.run(async ({ opts }) => {
        const c = ws("/ws", opts);
        await next(c, "connect", WAIT);
        c.on("connect", () => mark("connect"));
        c.on("disconnect", (reason) => mark("disconnect:" + reason));
        c.onAny((ev, n) => ev == "burst" && mark("any:" + n));
        c.on("burst", (n) => {
          mark("burst:" + n);
          if (n == 1 && !window.acted) {
            window.acted = true;
            const ret = around(() => [c.disconnect(), c.connect()]);
            window.state = { same: ret && ret[0] === c && ret[1] === c, ...snap(c) };
          }
        });
        burst(c, "burst", 5);
        await until(() => log.includes("connect"), WAIT, "the new connection");
        await sleep(QUIET);
        const first = log.splice(0);
        burst(c, "burst", 2, 6);
        await until(() => log.length == 4, WAIT, "frames on the new connection");
        await sleep(100);
        const seen = log.slice();
        c.disconnect();
        return { first, log: seen, state };
      }, { opts: options(tag) });
      assert.deepEqual(r.first, ["any:1", "burst:1", "before", "disconnect:io client disconnect", "after", "connect"]);
      assert.deepEqual(r.state, { same: true, connected: false, active: true });
      assert.deepEqual(r.log, ["any:6", "burst:6", "any:7", "burst:7"]);
    });
  });

  it("emits from connect, event, ack, disconnect and connect_error listeners are all sent, in call order", { timeout: TEST_MS }, async () => {
    const base = await wsUrl();
    const tag = unique("emits");
    await withPage(base, async (p) => {
      await p.run(async ({ opts, tag }) => {
        const c = (window.c = ws("/ws", opts));
        c.once("connect", () => c.emit("rec", tag, "connect"));
        c.once("burst", () => {
          c.emit("rec", tag, "event");
          window.acked = c.emitWithAck("add", 20, 22);
        });
        c.once("disconnect", () => c.emit("rec", tag, "disconnect"));
        c.once("connect_error", () => c.emit("rec", tag, "connect_error"));
        await next(c, "connect", WAIT);
        await new Promise((resolve) => c.emit("add", 1, () => resolve(c.emit("rec", tag, "ack"))));
        c.emit("emit-back", "burst", 1);
        await until(() => window.acked, WAIT, "the event");
        window.sum = await acked;
      }, { opts: options(tag), tag });
      assert.equal(await p.run(() => window.sum), 42);
      // The connection is dropped and the next upgrade refused, then it connects again.
      await p.run(() => void (window.back = next(c, "connect", 2 * WAIT)));
      await post(base + "/control/reject", { status: 503, count: 1 });
      await post(base + "/control/drop");
      await p.run(() => back);
      let sent;
      for (let i = 0; i < 50; i++) {
        sent = (await get(base + "/control/received"))
          .filter((f) => f.kind == "text" && f.data.includes(tag))
          .map((f) => JSON.parse(f.data))
          .filter((f) => f[0] == "rec")
          .map((f) => f[2]);
        if (sent.length >= 5) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(sent, ["connect", "ack", "event", "disconnect", "connect_error"]);
    });
  });

  it("off and offAny in listeners, and off in an ack callback, take effect for the next frames", { timeout: TEST_MS }, async () => {
    const base = await wsUrl();
    const tag = unique("off");
    await withPage(base, async (p) => {
      const r = await p.run(async ({ opts }) => {
        const c = ws("/ws", opts);
        const seen = { self: [], any: [], kept: [], byAck: [] };
        const self = (n) => {
          seen.self.push(n);
          c.off("burst", self);
        };
        const any = (ev, n) => {
          seen.any.push(n);
          c.offAny(any);
        };
        const byAck = (n) => seen.byAck.push(n);
        c.on("burst", self);
        c.onAny(any);
        c.on("burst", (n) => seen.kept.push(n));
        c.on("burst", byAck);
        await next(c, "connect", WAIT);
        // Answered before the server sends the burst.
        c.emit("add", 1, () => c.off("burst", byAck));
        burst(c, "burst", 5);
        await until(() => seen.kept.length == 5, WAIT, "the burst");
        await sleep(200);
        c.disconnect();
        return seen;
      }, { opts: options(tag) });
      assert.deepEqual(r, { self: [1], any: [1], kept: [1, 2, 3, 4, 5], byAck: [] });
    });
  });

  it("an ack function called after its connection was replaced is not sent on the new connection", { timeout: TEST_MS }, async () => {
    const base = await wsUrl();
    const tag = unique("stale");
    await withPage(base, async (p) => {
      await p.run(async ({ opts }) => {
        const c = (window.c = ws("/ws", opts));
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
      }, { opts: options(tag) });
      assert.equal(await p.run(() => window.answer), "first reply");
      const [old] = await clientsOf(base, tag);
      await post(base + "/control/drop");
      const r = await p.run(async () => {
        await back;
        mark("before");
        try {
          acks[1]("stale reply");
        } catch (e) {
          mark("threw: " + e.message);
        }
        mark("after");
        // A round trip on the new connection after the call: whatever it wrote is written by then.
        const sum = await c.emitWithAck("add", 4, 5);
        await sleep(200);
        return { log, sum };
      });
      assert.deepEqual(r, { log: ["before", "after"], sum: 9 });
      const now = await clientsOf(base, tag);
      assert.equal(now.length, 1);
      assert.notEqual(now[0].id, old.id, "a new connection");
      const frames = (await get(base + "/control/received?client=" + now[0].id)).map((f) => f.data);
      assert.ok(frames.some((f) => f.includes('"add"')), "the new connection's frames: " + JSON.stringify(frames));
      assert.deepEqual(frames.filter((f) => f.includes('"ack"')), [], "no ack reply on the new connection");
    });
  });
});
