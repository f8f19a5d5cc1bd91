// Re-entrancy of the `io()` door: every public call made from inside a callback the client
// invokes is safe, takes effect before it returns, and nothing reaches a socket after its
// `disconnect()` (or its Manager's close) returned. socket.io-client 4.8 is the specification:
// this file passes on it (RTIO_CLIENT=/vendor/socket.io-client/socket.io.esm.min.js) and each
// expectation below is what its socket.js and manager.js do.
//
// The calls: `socket.disconnect()`, closing the Manager, `socket.connect()` after a disconnect
// in the same listener, `emit`/`emitWithAck`, `off`/`offAny`, `io(url, { forceNew: true })`, and
// a new Manager replacing the old one. The callbacks: `connect`, an event listener, an `onAny`
// listener, an ack callback, `connect_error`, `disconnect`, and the Manager's `open`, `close`,
// `reconnect_attempt`, `reconnect` and `error`.
//
// How: the page records markers in `log` — "before" and "after" around the call, and one per
// event the listeners see — so the order shows whether the call took effect before it returned
// (the `disconnect` listener's marker must sit between "before" and "after"). An exception from
// the call is a marker too ("threw: ..."), and an uncaught page error fails the test (harness).
// "Nothing is delivered later" is checked with bursts: the client asks the server for five
// events back to back (`emit-back`, PROTOCOL.md) and acts on the first; a round without the call
// first shows the five do arrive. A bystander socket of its own Manager, connected before, must
// still work at the end. Lost links come from tests/servers/proxy.mjs (cut, blackhole); an
// unreachable server is a port nobody listens on. Every socket uses the WebSocket transport
// (what rtio speaks; socket.io-client would otherwise start with long-polling) and short
// reconnection delays.
//
// Closing a Manager: socket.io-client 4.8's Manager has no public close(); closing is its
// disconnect() (`_close()`), which rtio also has, as an alias of its close(). The page's
// `closeManager` calls close() where there is one, disconnect() otherwise.
//
// What socket.io-client does and these tests leave unasserted: when a listener disconnects, the
// other listeners of the event being delivered still get that event (the list is copied before
// the calls); closing a Manager in some callbacks fires `disconnect` on sockets that were not
// connected, or twice. Later events, which is what the rule is about, are asserted.

import { after } from "node:test";
import assert from "node:assert/strict";
import { suite } from "./harness.mjs";
import { freePort } from "./demo-pages.mjs";
import { startProxy } from "../servers/proxy.mjs";

// How long things that must happen may take (a loaded machine), and how long the page waits to
// see that something that must not happen does not.
const WAIT = 5000;
const QUIET = 800;
const RUN = { timeout: 15_000 };

// Installed in the page before each test: the log, the markers and small helpers.
function setup({ wait, quiet }) {
  window.WAIT = wait;
  window.QUIET = quiet;
  window.log = [];
  window.mark = (x) => log.push(x);
  // A socket of its own Manager, over WebSocket, reconnecting quickly.
  window.fresh = (target, opts) =>
    io(target, {
      forceNew: true,
      transports: ["websocket"],
      reconnectionDelay: 100,
      reconnectionDelayMax: 300,
      randomizationFactor: 0,
      timeout: 2000,
      ...opts,
    });
  window.closeManager = (m) => (typeof m.close == "function" ? m.close() : m.disconnect());
  // Calls `call` between the markers "before" and "after"; an exception becomes a marker.
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
  window.snap = (s) => ({ connected: s.connected, disconnected: s.disconnected, active: s.active });
  // The Manager's events, in order, into a list of their own.
  window.managerEvents = (m) => {
    const out = [];
    for (const ev of ["open", "close", "reconnect_attempt", "reconnect", "reconnect_error", "reconnect_failed", "error"]) {
      m.on(ev, () => out.push(ev));
    }
    return out;
  };
  // Asks the server for `n` events `name` back to back, numbered from `from`.
  window.burst = (s, name, n, from = 1) => {
    for (let i = from; i < from + n; i++) s.emit("emit-back", name, i);
  };
  // A socket of another Manager, connected, that must keep working whatever the test does.
  window.bystander = async (target) => {
    const b = fresh(target);
    await connected(b, WAIT);
    return b;
  };
  window.checkBystander = async (b) => {
    const got = [];
    b.on("tick", (n) => got.push(n));
    const wasConnected = b.connected;
    const echo = await b.timeout(WAIT).emitWithAck("echo", "still here");
    burst(b, "tick", 3);
    await until(() => got.length >= 3, WAIT, "the bystander's ticks");
    await sleep(50);
    b.disconnect();
    return { wasConnected, echo, got };
  };
}

const BYSTANDER_OK = { wasConnected: true, echo: "still here", got: [1, 2, 3] };
// The Manager events that mean a reconnection was tried.
const retried = (events) => events.filter((e) => e == "open" || e == "reconnect_attempt");

suite("re-entrancy of io()", ({ test: plainTest }) => {
  // Every test starts with the page helpers installed.
  const test = (name, body, opts) =>
    plainTest(
      name,
      async (page) => {
        await page.run(setup, { wait: WAIT, quiet: QUIET });
        await body(page);
      },
      opts,
    );

  // One proxy in front of the file's server, for the tests that lose the link.
  let proxy;
  const proxied = async (page) => {
    proxy ??= await startProxy({ target: new URL(page.url).host });
    proxy.restore();
    return proxy;
  };
  after(() => proxy?.close());

  // A URL where nothing listens.
  const unreachable = async () => `http://127.0.0.1:${await freePort()}`;

  // ---------------------------------------------------------------------------------------------
  // socket.disconnect()

  test("disconnect() in a connect listener returns the socket, disconnected and reported before it returns, and it stays so", async (page) => {
    const r = await page.run(async ({ url }) => {
      const other = await bystander(url);
      const s = fresh(url);
      const m = managerEvents(s.io);
      s.on("disconnect", (reason) => mark("disconnect:" + reason));
      let state, mAtCall;
      s.on("connect", () => {
        mark("connect");
        const ret = around(() => s.disconnect());
        state = { same: ret === s, ...snap(s) };
        mAtCall = m.length;
      });
      await until(() => state, WAIT, "the connect listener");
      await sleep(QUIET);
      return { log, state, later: snap(s), managerAfter: m.slice(mAtCall), other: await checkBystander(other) };
    }, {}, RUN);
    assert.deepEqual(
      { log: r.log, state: r.state, later: r.later },
      {
        log: ["connect", "before", "disconnect:io client disconnect", "after"],
        state: { same: true, connected: false, disconnected: true, active: false },
        later: { connected: false, disconnected: true, active: false },
      },
    );
    assert.deepEqual(retried(r.managerAfter), [], "no reconnection");
    assert.deepEqual(r.other, BYSTANDER_OK);
  });

  test("disconnect() in an event listener: the events the server sent after it reach no listener, nor onAny", async (page) => {
    const r = await page.run(async ({ url }) => {
      const other = await bystander(url);
      const s = fresh(url);
      await connected(s, WAIT);
      s.on("disconnect", (reason) => mark("disconnect:" + reason));
      s.onAny((ev, n) => mark(`any:${ev}:${n}`));
      let act = false, state;
      s.on("burst", (n) => {
        mark("burst:" + n);
        if (act && n == 1) {
          const ret = around(() => s.disconnect());
          state = { same: ret === s, ...snap(s) };
        }
      });
      // First without the call: the five events arrive.
      burst(s, "burst", 5);
      await until(() => log.length == 10, WAIT, "the first burst");
      const control = log.splice(0);
      act = true;
      burst(s, "burst", 5);
      await until(() => state, WAIT, "the listener's call");
      await sleep(QUIET);
      return { control, log, state, other: await checkBystander(other) };
    }, {}, RUN);
    assert.deepEqual(r.control, [1, 2, 3, 4, 5].flatMap((n) => [`any:burst:${n}`, `burst:${n}`]));
    assert.deepEqual(
      { log: r.log, state: r.state },
      {
        log: ["any:burst:1", "burst:1", "before", "disconnect:io client disconnect", "after"],
        state: { same: true, connected: false, disconnected: true, active: false },
      },
    );
    assert.deepEqual(r.other, BYSTANDER_OK);
  });

  test("disconnect() in an onAny listener: the events the server sent after it reach no listener, nor onAny", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      s.on("disconnect", (reason) => mark("disconnect:" + reason));
      let act = false, state;
      s.onAny((ev, n) => {
        mark(`any:${ev}:${n}`);
        if (act && n == 1) {
          const ret = around(() => s.disconnect());
          state = { same: ret === s, ...snap(s) };
        }
      });
      s.on("burst", (n) => mark("burst:" + n));
      burst(s, "burst", 5);
      await until(() => log.length == 10, WAIT, "the first burst");
      const control = log.splice(0);
      act = true;
      burst(s, "burst", 5);
      await until(() => state, WAIT, "the listener's call");
      await sleep(QUIET);
      return { control, log, state };
    }, {}, RUN);
    assert.deepEqual(r.control, [1, 2, 3, 4, 5].flatMap((n) => [`any:burst:${n}`, `burst:${n}`]));
    // The event being delivered may still reach its own listeners (socket.io-client calls them); no later one.
    assert.deepEqual(
      { log: r.log.filter((x) => x != "burst:1"), state: r.state },
      {
        log: ["any:burst:1", "before", "disconnect:io client disconnect", "after"],
        state: { same: true, connected: false, disconnected: true, active: false },
      },
    );
  });

  test("disconnect() in an ack callback: reported before it returns, the other pending acks fail, later events are not delivered", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      s.on("disconnect", (reason) => mark("disconnect:" + reason));
      s.onAny((ev) => mark("any:" + ev));
      s.on("late", () => mark("late"));
      let state;
      s.emit("echo", "a", (x) => {
        mark("ack:" + x);
        const ret = around(() => s.disconnect());
        state = { same: ret === s, ...snap(s) };
      });
      // The server answers these after the echo: an event, and acks that never come.
      s.emit("emit-back", "late", 1);
      const pending = s.emitWithAck("nobody-handles-this").then(() => "resolved", (e) => e.message);
      s.emit("nobody-handles-this", () => mark("plain ack called"));
      await until(() => state, WAIT, "the ack callback");
      const rejected = await pending;
      await sleep(QUIET);
      return { log, state, rejected };
    }, {}, RUN);
    assert.deepEqual(
      { log: r.log, state: r.state },
      {
        log: ["ack:a", "before", "disconnect:io client disconnect", "after"],
        state: { same: true, connected: false, disconnected: true, active: false },
      },
    );
    assert.equal(r.rejected, "socket has been disconnected");
  });

  test("disconnect() in a connect_error listener (refused namespace): returns the socket, no disconnect event, no new attempt", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url + "/forbidden");
      s.on("disconnect", (reason) => mark("disconnect:" + reason));
      s.on("connect", () => mark("connect"));
      let state;
      s.on("connect_error", (err) => {
        mark("connect_error:" + err.message);
        if (window.acted) return;
        window.acted = true;
        const ret = around(() => s.disconnect());
        state = { same: ret === s, ...snap(s) };
      });
      await until(() => state, WAIT, "connect_error");
      await sleep(QUIET);
      return { log, state, later: snap(s) };
    }, {}, RUN);
    assert.deepEqual(
      { log: r.log, state: r.state, later: r.later },
      {
        log: ["connect_error:forbidden namespace", "before", "after"],
        state: { same: true, connected: false, disconnected: true, active: false },
        later: { connected: false, disconnected: true, active: false },
      },
    );
  });

  test("disconnect() in a connect_error listener (server unreachable) stops the reconnection", async (page) => {
    const r = await page.run(async ({ url, nowhere }) => {
      const other = await bystander(url);
      const s = fresh(nowhere);
      const m = managerEvents(s.io);
      s.on("disconnect", (reason) => mark("disconnect:" + reason));
      let state, mAtCall;
      s.on("connect_error", () => {
        mark("connect_error");
        if (window.acted) return;
        window.acted = true;
        const ret = around(() => s.disconnect());
        state = { same: ret === s, ...snap(s) };
        mAtCall = m.length;
      });
      await until(() => state, WAIT, "connect_error");
      await sleep(QUIET);
      return { log, state, later: snap(s), managerAfter: m.slice(mAtCall), other: await checkBystander(other) };
    }, { nowhere: await unreachable() }, RUN);
    assert.deepEqual(
      { log: r.log, state: r.state, later: r.later },
      {
        log: ["connect_error", "before", "after"],
        state: { same: true, connected: false, disconnected: true, active: false },
        later: { connected: false, disconnected: true, active: false },
      },
    );
    assert.deepEqual(retried(r.managerAfter), [], "no reconnection");
    assert.deepEqual(r.other, BYSTANDER_OK);
  });

  test("disconnect() in a disconnect listener (kicked by the server): no second disconnect, stays disconnected", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      s.on("connect", () => mark("connect"));
      let state;
      s.on("disconnect", (reason) => {
        mark("disconnect:" + reason);
        if (window.acted) return;
        window.acted = true;
        const ret = around(() => s.disconnect());
        state = { same: ret === s, ...snap(s) };
      });
      s.emit("kick");
      await until(() => state, WAIT, "the disconnect listener");
      await sleep(QUIET);
      return { log, state, later: snap(s) };
    }, {}, RUN);
    assert.deepEqual(
      { log: r.log, state: r.state, later: r.later },
      {
        log: ["disconnect:io server disconnect", "before", "after"],
        state: { same: true, connected: false, disconnected: true, active: false },
        later: { connected: false, disconnected: true, active: false },
      },
    );
  });

  test("disconnect() in a disconnect listener (link cut) stops the reconnection", async (page) => {
    const p = await proxied(page);
    await page.run(async ({ url, via }) => {
      window.s = fresh(via);
      // Through the same proxy, left alone: it reconnects, which shows the link came back.
      window.witness = fresh(via);
      await Promise.all([connected(s, WAIT), connected(witness, WAIT)]);
      window.m = managerEvents(s.io);
      s.on("connect", () => mark("connect"));
      s.on("disconnect", (reason) => {
        mark("disconnect:" + reason);
        if (window.acted) return;
        window.acted = true;
        const ret = around(() => s.disconnect());
        window.state = { same: ret === s, ...snap(s) };
        window.mAtCall = m.length;
      });
    }, { via: p.url });
    assert.ok(p.cut() >= 2);
    const r = await page.run(async () => {
      await until(() => window.state, WAIT, "the disconnect listener");
      await connected(witness, WAIT);
      await sleep(QUIET);
      const echo = await witness.timeout(WAIT).emitWithAck("echo", "back");
      witness.disconnect();
      return { log, state, later: snap(s), managerAfter: m.slice(mAtCall), echo };
    }, {}, RUN);
    assert.deepEqual(
      { log: r.log, state: r.state, later: r.later },
      {
        log: ["disconnect:transport close", "before", "after"],
        state: { same: true, connected: false, disconnected: true, active: false },
        later: { connected: false, disconnected: true, active: false },
      },
    );
    assert.deepEqual(retried(r.managerAfter), [], "no reconnection");
    assert.equal(r.echo, "back", "the witness reconnected through the proxy");
  });

  // ---------------------------------------------------------------------------------------------
  // Closing the Manager (socket.io.close(); socket.io-client: socket.io.disconnect())

  test("closing the Manager in a connect listener: the socket is disconnected and told before it returns, no reconnection", async (page) => {
    const r = await page.run(async ({ url }) => {
      const other = await bystander(url);
      const s = fresh(url);
      const m = managerEvents(s.io);
      s.on("disconnect", () => mark("disconnect"));
      let state, mAtCall;
      s.on("connect", () => {
        mark("connect");
        around(() => closeManager(s.io));
        state = snap(s);
        mAtCall = m.length;
      });
      await until(() => state, WAIT, "the connect listener");
      await sleep(QUIET);
      return { log, state, later: snap(s), managerAfter: m.slice(mAtCall), other: await checkBystander(other) };
    }, {}, RUN);
    assert.deepEqual(r.log, ["connect", "before", "disconnect", "after"]);
    assert.equal(r.state.connected, false);
    assert.equal(r.later.connected, false);
    assert.deepEqual(retried(r.managerAfter), [], "no reconnection");
    assert.deepEqual(r.other, BYSTANDER_OK);
  });

  test("closing the Manager in an event listener: the events the server sent after it are not delivered", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      const m = managerEvents(s.io);
      s.on("disconnect", () => mark("disconnect"));
      s.onAny((ev, n) => mark(`any:${ev}:${n}`));
      let act = false, state, mAtCall;
      s.on("burst", (n) => {
        mark("burst:" + n);
        if (act && n == 1) {
          around(() => closeManager(s.io));
          state = snap(s);
          mAtCall = m.length;
        }
      });
      burst(s, "burst", 5);
      await until(() => log.length == 10, WAIT, "the first burst");
      const control = log.splice(0);
      act = true;
      burst(s, "burst", 5);
      await until(() => state, WAIT, "the listener's call");
      await sleep(QUIET);
      return { control, log, state, managerAfter: m.slice(mAtCall) };
    }, {}, RUN);
    assert.deepEqual(r.control, [1, 2, 3, 4, 5].flatMap((n) => [`any:burst:${n}`, `burst:${n}`]));
    assert.deepEqual(r.log, ["any:burst:1", "burst:1", "before", "disconnect", "after"]);
    assert.equal(r.state.connected, false);
    assert.deepEqual(retried(r.managerAfter), [], "no reconnection");
  });

  test("closing the Manager in its open listener: the socket never connects, no reconnection", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      const m = managerEvents(s.io);
      s.on("connect", () => mark("connect"));
      let state, mAtCall;
      s.io.on("open", () => {
        if (window.acted) return;
        window.acted = true;
        around(() => closeManager(s.io));
        state = snap(s);
        mAtCall = m.length;
      });
      await until(() => state, WAIT, "the open listener");
      await sleep(QUIET);
      return { log, state, later: snap(s), managerAfter: m.slice(mAtCall) };
    }, {}, RUN);
    assert.deepEqual(r.log.filter((x) => x != "disconnect"), ["before", "after"], "no connect");
    assert.equal(r.state.connected, false);
    assert.equal(r.later.connected, false);
    assert.deepEqual(retried(r.managerAfter), [], "no reconnection");
  });

  test("closing the Manager in its close listener (link cut): no reconnection", async (page) => {
    const p = await proxied(page);
    await page.run(async ({ via }) => {
      window.s = fresh(via);
      window.witness = fresh(via);
      await Promise.all([connected(s, WAIT), connected(witness, WAIT)]);
      window.m = managerEvents(s.io);
      s.on("connect", () => mark("connect"));
      s.io.on("close", () => {
        if (window.acted) return;
        window.acted = true;
        around(() => closeManager(s.io));
        window.state = snap(s);
        window.mAtCall = m.length;
      });
    }, { via: p.url });
    assert.ok(p.cut() >= 2);
    const r = await page.run(async () => {
      await until(() => window.state, WAIT, "the close listener");
      await connected(witness, WAIT);
      await sleep(QUIET);
      const echo = await witness.timeout(WAIT).emitWithAck("echo", "back");
      witness.disconnect();
      return { log, state, later: snap(s), managerAfter: m.slice(mAtCall), echo };
    }, {}, RUN);
    assert.deepEqual(r.log, ["before", "after"], "no connect");
    assert.equal(r.state.connected, false);
    assert.equal(r.later.connected, false);
    assert.deepEqual(retried(r.managerAfter), [], "no reconnection");
    assert.equal(r.echo, "back", "the witness reconnected through the proxy");
  });

  test("closing the Manager in its reconnect_attempt listener: no attempt is made, the socket stays disconnected", async (page) => {
    const p = await proxied(page);
    await page.run(async ({ via }) => {
      window.s = fresh(via);
      window.witness = fresh(via);
      await Promise.all([connected(s, WAIT), connected(witness, WAIT)]);
      window.m = managerEvents(s.io);
      s.on("connect", () => mark("connect"));
      s.io.on("reconnect_attempt", () => {
        if (window.acted) return;
        window.acted = true;
        around(() => closeManager(s.io));
        window.state = snap(s);
        window.mAtCall = m.length;
      });
    }, { via: p.url });
    assert.ok(p.cut() >= 2);
    const r = await page.run(async () => {
      await until(() => window.state, WAIT, "the reconnect_attempt listener");
      await connected(witness, WAIT);
      await sleep(QUIET);
      const echo = await witness.timeout(WAIT).emitWithAck("echo", "back");
      witness.disconnect();
      return { log, state, later: snap(s), managerAfter: m.slice(mAtCall), echo };
    }, {}, RUN);
    assert.deepEqual(r.log, ["before", "after"], "no connect");
    assert.equal(r.state.connected, false);
    assert.equal(r.later.connected, false);
    assert.deepEqual(retried(r.managerAfter), [], "no open, no further attempt");
    assert.equal(r.echo, "back", "the witness reconnected through the proxy");
  });

  test("closing the Manager in its reconnect listener: the socket does not connect, no further attempt", async (page) => {
    const p = await proxied(page);
    await page.run(async ({ via }) => {
      window.s = fresh(via);
      await connected(s, WAIT);
      window.m = managerEvents(s.io);
      s.on("connect", () => mark("connect"));
      s.io.on("reconnect", () => {
        if (window.acted) return;
        window.acted = true;
        around(() => closeManager(s.io));
        window.state = snap(s);
        window.mAtCall = m.length;
      });
    }, { via: p.url });
    assert.ok(p.cut() >= 1);
    const r = await page.run(async () => {
      await until(() => window.state, WAIT, "the reconnect listener");
      await sleep(QUIET);
      return { log, state, later: snap(s), managerAfter: m.slice(mAtCall) };
    }, {}, RUN);
    const call = r.log.indexOf("before");
    assert.deepEqual(r.log.slice(call), ["before", "after"], "no connect after the call");
    assert.equal(r.state.connected, false);
    assert.equal(r.later.connected, false);
    assert.deepEqual(retried(r.managerAfter), [], "no further attempt");
  });

  test("closing the Manager in its error listener (server unreachable): no further attempt", async (page) => {
    const r = await page.run(async ({ url, nowhere }) => {
      const other = await bystander(url);
      const s = fresh(nowhere);
      const m = managerEvents(s.io);
      s.on("connect_error", () => mark("connect_error"));
      let state, mAtCall;
      s.io.on("error", () => {
        if (window.acted) return;
        window.acted = true;
        around(() => closeManager(s.io));
        state = snap(s);
        mAtCall = m.length;
      });
      await until(() => state, WAIT, "the error listener");
      await sleep(QUIET);
      return { log, state, later: snap(s), managerAfter: m.slice(mAtCall), other: await checkBystander(other) };
    }, { nowhere: await unreachable() }, RUN);
    // One connect_error for the failed attempt (the Manager's error comes with it), none after.
    assert.ok(r.log.filter((x) => x == "connect_error").length <= 1, JSON.stringify(r.log));
    assert.deepEqual(r.log.filter((x) => x != "connect_error"), ["before", "after"]);
    assert.equal(r.state.connected, false);
    assert.deepEqual(retried(r.managerAfter), [], "no further attempt");
    assert.deepEqual(r.other, BYSTANDER_OK);
  });

  test("closing the Manager tells its connected socket 'forced close', as socket.io-client 4.8 does", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      s.on("disconnect", (reason) => mark("disconnect:" + reason));
      around(() => closeManager(s.io));
      await sleep(QUIET);
      return log;
    }, {}, RUN);
    assert.deepEqual(r, ["before", "disconnect:forced close", "after"]);
  });

  // ---------------------------------------------------------------------------------------------
  // socket.connect() after a disconnect, in the same listener

  test("disconnect() then connect() in a connect listener: disconnected before it returns, then connects once more", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      s.on("disconnect", (reason) => mark("disconnect:" + reason));
      let state, firstId;
      s.on("connect", () => {
        mark("connect");
        if (window.acted) return;
        window.acted = true;
        firstId = s.id;
        const ret = around(() => [s.disconnect(), s.connect()]);
        state = { same: ret && ret[0] === s && ret[1] === s, ...snap(s) };
      });
      await until(() => log.filter((x) => x == "connect").length == 2, WAIT, "the second connect");
      await sleep(QUIET);
      const who = await s.timeout(WAIT).emitWithAck("whoami");
      return { log, state, newId: typeof s.id == "string" && s.id != firstId && who.id == s.id };
    }, {}, RUN);
    assert.deepEqual(
      { log: r.log, state: r.state },
      {
        log: ["connect", "before", "disconnect:io client disconnect", "after", "connect"],
        state: { same: true, connected: false, disconnected: true, active: true },
      },
    );
    assert.equal(r.newId, true);
  });

  test("disconnect() then connect() in an event listener: the old connection's later events are not delivered, the new one works", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      s.on("disconnect", (reason) => mark("disconnect:" + reason));
      s.on("connect", () => mark("connect"));
      s.onAny((ev, n) => mark(`any:${ev}:${n}`));
      let state;
      s.on("burst", (n) => {
        mark("burst:" + n);
        if (!window.acted && n == 1) {
          window.acted = true;
          const ret = around(() => [s.disconnect(), s.connect()]);
          state = { same: ret && ret[0] === s && ret[1] === s, ...snap(s) };
        }
      });
      burst(s, "burst", 5);
      await until(() => log.includes("connect"), WAIT, "the new connection");
      await sleep(QUIET);
      const first = log.splice(0);
      burst(s, "burst", 2, 6);
      await until(() => log.length == 4, WAIT, "events on the new connection");
      return { first, log, state };
    }, {}, RUN);
    assert.deepEqual(r.first, ["any:burst:1", "burst:1", "before", "disconnect:io client disconnect", "after", "connect"]);
    assert.deepEqual(r.state, { same: true, connected: false, disconnected: true, active: true });
    assert.deepEqual(r.log, ["any:burst:6", "burst:6", "any:burst:7", "burst:7"]);
  });

  test("connect() in a disconnect listener (kicked by the server) connects again", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      s.on("connect", () => mark("connect"));
      let state;
      s.on("disconnect", (reason) => {
        mark("disconnect:" + reason);
        if (window.acted) return;
        window.acted = true;
        const ret = around(() => s.connect());
        state = { same: ret === s, ...snap(s) };
      });
      s.emit("kick");
      await until(() => log.includes("connect"), WAIT, "the new connection");
      await sleep(QUIET);
      return { log, state, echo: await s.timeout(WAIT).emitWithAck("echo", "back") };
    }, {}, RUN);
    assert.deepEqual(
      { log: r.log, state: r.state },
      {
        log: ["disconnect:io server disconnect", "before", "after", "connect"],
        state: { same: true, connected: false, disconnected: true, active: true },
      },
    );
    assert.equal(r.echo, "back");
  });

  test("connect() in the disconnect listener of the socket's own disconnect() connects again", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      s.on("connect", () => mark("connect"));
      let state;
      s.on("disconnect", (reason) => {
        mark("disconnect:" + reason);
        if (window.acted) return;
        window.acted = true;
        const ret = around(() => s.connect());
        state = { same: ret === s, ...snap(s) };
      });
      mark("outer before");
      s.disconnect();
      mark("outer after");
      const outer = snap(s);
      await until(() => log.includes("connect"), WAIT, "the new connection");
      await sleep(QUIET);
      return { log, state, outer, echo: await s.timeout(WAIT).emitWithAck("echo", "back") };
    }, {}, RUN);
    assert.deepEqual(
      { log: r.log, state: r.state },
      {
        log: ["outer before", "disconnect:io client disconnect", "before", "after", "outer after", "connect"],
        state: { same: true, connected: false, disconnected: true, active: true },
      },
    );
    assert.deepEqual(r.outer, { connected: false, disconnected: true, active: true });
    assert.equal(r.echo, "back");
  });

  test("connect() in a connect_error listener (refused namespace) tries again at once", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url + "/forbidden");
      s.on("connect", () => mark("connect"));
      let state;
      s.on("connect_error", (err) => {
        mark("connect_error:" + err.message);
        if (window.acted) return;
        window.acted = true;
        const ret = around(() => s.connect());
        state = { same: ret === s, active: s.active };
      });
      await until(() => log.length >= 4, WAIT, "the second connect_error");
      await sleep(QUIET);
      return { log, state };
    }, {}, RUN);
    assert.deepEqual(
      { log: r.log, state: r.state },
      {
        log: ["connect_error:forbidden namespace", "before", "after", "connect_error:forbidden namespace"],
        state: { same: true, active: true },
      },
    );
  });

  // ---------------------------------------------------------------------------------------------
  // emit / emitWithAck

  test("emits in a connect listener go out after the buffered ones and before later ones", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      s.emit("record", "buffered");
      let acked;
      s.on("connect", () => {
        s.emit("record", "in-connect");
        acked = s.timeout(WAIT).emitWithAck("echo", "acked in connect");
      });
      await connected(s, WAIT);
      s.emit("record", "after");
      const recorded = await s.timeout(WAIT).emitWithAck("recorded");
      return { recorded, acked: await acked };
    }, {}, RUN);
    assert.deepEqual(r.recorded, [["buffered"], ["in-connect"], ["after"]]);
    assert.equal(r.acked, "acked in connect");
  });

  test("emits in event, onAny and ack callbacks go out in call order; emitWithAck in a listener resolves", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      let acked;
      s.onAny((ev, n) => ev == "burst" && s.emit("record", "any" + n));
      s.on("burst", (n) => {
        s.emit("record", "event" + n);
        if (n == 2) acked = s.timeout(WAIT).emitWithAck("echo", "acked in a listener");
      });
      // The ack comes before the events the server sends after it.
      s.emit("echo", 0, () => s.emit("record", "ack"));
      burst(s, "burst", 2);
      await until(() => acked, WAIT, "the second event");
      const value = await acked;
      const recorded = await s.timeout(WAIT).emitWithAck("recorded");
      return { recorded, value };
    }, {}, RUN);
    assert.deepEqual(r.recorded, [["ack"], ["any1"], ["event1"], ["any2"], ["event2"]]);
    assert.equal(r.value, "acked in a listener");
  });

  test("emits in a disconnect listener are buffered and sent on the next connect; their acks survive the disconnection", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      let pending;
      s.on("disconnect", () => {
        s.emit("record", "from-disconnect");
        pending = s.timeout(WAIT).emitWithAck("echo", "kept").catch((e) => "rejected: " + e.message);
      });
      s.disconnect();
      await sleep(200);
      s.connect();
      await connected(s, WAIT);
      const recorded = await s.timeout(WAIT).emitWithAck("recorded");
      return { recorded, acked: await pending };
    }, {}, RUN);
    assert.deepEqual(r.recorded, [["from-disconnect"]]);
    assert.equal(r.acked, "kept");
  });

  test("emits in a connect_error listener (attempt timed out) are sent once connected", async (page) => {
    const p = await proxied(page);
    p.blackhole();
    await page.run(async ({ via }) => {
      window.s = fresh(via, { timeout: 500 });
      s.on("connect_error", () => {
        if (window.emitted) return;
        window.emitted = true;
        s.emit("record", "from-connect-error");
        window.acked = s.timeout(8000).emitWithAck("echo", "acked after connect_error");
      });
      await until(() => window.emitted, WAIT, "connect_error");
    }, { via: p.url });
    p.restore();
    const r = await page.run(async () => {
      await connected(s, WAIT);
      const recorded = await s.timeout(WAIT).emitWithAck("recorded");
      return { recorded, acked: await acked };
    }, {}, RUN);
    assert.deepEqual(r.recorded, [["from-connect-error"]]);
    assert.equal(r.acked, "acked after connect_error");
  });

  // ---------------------------------------------------------------------------------------------
  // off / offAny

  test("off and offAny in listeners and ack callbacks take effect for the next events", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      const seen = { self: [], any: [], kept: [], byAck: [] };
      const self = (n) => {
        seen.self.push(n);
        s.off("burst", self);
      };
      const any = (ev, n) => {
        seen.any.push(n);
        s.offAny(any);
      };
      const byAck = (n) => seen.byAck.push(n);
      s.on("burst", self);
      s.onAny(any);
      s.on("burst", (n) => seen.kept.push(n));
      s.on("burst", byAck);
      // Answered before the server sends the burst.
      s.emit("echo", 0, () => s.off("burst", byAck));
      burst(s, "burst", 5);
      await until(() => seen.kept.length == 5, WAIT, "the burst");
      await sleep(200);
      return seen;
    }, {}, RUN);
    assert.deepEqual(r, { self: [1], any: [1], kept: [1, 2, 3, 4, 5], byAck: [] });
  });

  test("off in a connect listener removes it and the disconnect listener for the next connections", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      const onDisconnect = () => mark("disconnect");
      const onConnect = () => {
        mark("connect");
        s.off("connect", onConnect);
        s.off("disconnect", onDisconnect);
      };
      s.on("connect", onConnect);
      s.on("disconnect", onDisconnect);
      s.on("connect", () => mark("kept"));
      await connected(s, WAIT);
      s.disconnect();
      s.connect();
      await until(() => log.filter((x) => x == "kept").length == 2, WAIT, "the second connect");
      await sleep(200);
      return log;
    }, {}, RUN);
    assert.deepEqual(r, ["connect", "kept", "kept"]);
  });

  // ---------------------------------------------------------------------------------------------
  // New sockets and Managers

  test("io(url, { forceNew: true }) from connect, event, onAny, ack, connect_error and disconnect listeners: each connects, the first socket goes on", async (page) => {
    const r = await page.run(async ({ url }) => {
      const made = [];
      const make = (why) => made.push([why, fresh(url)]);
      const s = fresh(url);
      s.on("connect", () => made.length || make("connect"));
      await connected(s, WAIT);
      const got = [];
      s.on("burst", (n) => {
        got.push(n);
        if (n == 1) make("event");
      });
      s.onAny((ev, n) => ev == "burst" && n == 2 && make("any"));
      s.emit("echo", 0, () => make("ack"));
      burst(s, "burst", 5);
      const refused = fresh(url + "/forbidden");
      refused.once("connect_error", () => make("connect_error"));
      const kicked = fresh(url);
      await connected(kicked, WAIT);
      kicked.once("disconnect", () => make("disconnect"));
      kicked.emit("kick");
      await until(() => made.length == 6 && got.length == 5, WAIT, "six new sockets and five events");
      const echoes = [];
      for (const [why, n] of made) {
        await connected(n, WAIT);
        echoes.push([why, await n.timeout(WAIT).emitWithAck("echo", why)]);
        n.disconnect();
      }
      burst(s, "burst", 3, 6);
      await until(() => got.length == 8, WAIT, "the first socket's later events");
      await sleep(100);
      return { why: made.map(([w]) => w).sort(), echoes, got, connected: s.connected };
    }, {}, RUN);
    assert.deepEqual(r.why, ["ack", "any", "connect", "connect_error", "disconnect", "event"]);
    for (const [why, echo] of r.echoes) assert.equal(echo, why);
    assert.deepEqual(r.got, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(r.connected, true);
  });

  test("a new Manager replacing the old one from a connect listener: the new socket works, the old one is gone", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      s.on("connect", () => mark("old connect"));
      let s2, state;
      s.on("connect", () => {
        if (window.acted) return;
        window.acted = true;
        const m2 = new io.Manager(url, { transports: ["websocket"], reconnectionDelay: 100, reconnectionDelayMax: 300 });
        around(() => closeManager(s.io));
        state = snap(s);
        s2 = m2.socket("/");
      });
      await until(() => s2, WAIT, "the connect listener");
      await connected(s2, WAIT);
      const echo = await s2.timeout(WAIT).emitWithAck("echo", "new");
      await sleep(QUIET);
      s2.disconnect();
      return { log, state, later: snap(s), echo };
    }, {}, RUN);
    assert.deepEqual(r.log, ["old connect", "before", "after"]);
    assert.equal(r.state.connected, false);
    assert.equal(r.later.connected, false);
    assert.equal(r.echo, "new");
  });

  test("a new Manager replacing the old one from an event listener: the old one's later events are not delivered", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      s.onAny((ev, n) => mark(`any:${ev}:${n}`));
      let s2, state;
      s.on("burst", (n) => {
        mark("burst:" + n);
        if (window.acted) return;
        window.acted = true;
        const m2 = new io.Manager(url, { transports: ["websocket"], reconnectionDelay: 100, reconnectionDelayMax: 300 });
        around(() => closeManager(s.io));
        state = snap(s);
        s2 = m2.socket("/");
      });
      burst(s, "burst", 5);
      await until(() => s2, WAIT, "the event listener");
      await connected(s2, WAIT);
      const echo = await s2.timeout(WAIT).emitWithAck("echo", "new");
      await sleep(QUIET);
      s2.disconnect();
      return { log, state, later: snap(s), echo };
    }, {}, RUN);
    assert.deepEqual(r.log, ["any:burst:1", "burst:1", "before", "after"]);
    assert.equal(r.state.connected, false);
    assert.equal(r.later.connected, false);
    assert.equal(r.echo, "new");
  });

  test("a new Manager replacing the old one from its reconnect_attempt listener (failover): the old one makes no attempt", async (page) => {
    const p = await proxied(page);
    await page.run(async ({ via }) => {
      window.s = fresh(via);
      await connected(s, WAIT);
      window.m = managerEvents(s.io);
      s.on("connect", () => mark("old connect"));
    }, { via: p.url });
    assert.ok(p.cut() >= 1);
    const r = await page.run(async ({ url }) => {
      let s2, state, mAtCall;
      s.io.on("reconnect_attempt", () => {
        if (window.acted) return;
        window.acted = true;
        const m2 = new io.Manager(url, { transports: ["websocket"], reconnectionDelay: 100, reconnectionDelayMax: 300 });
        around(() => closeManager(s.io));
        state = snap(s);
        mAtCall = m.length;
        s2 = m2.socket("/");
      });
      await until(() => s2, WAIT, "the reconnect_attempt listener");
      await connected(s2, WAIT);
      const echo = await s2.timeout(WAIT).emitWithAck("echo", "new");
      await sleep(QUIET);
      s2.disconnect();
      return { log, state, later: snap(s), managerAfter: m.slice(mAtCall), echo };
    }, {}, RUN);
    assert.deepEqual(r.log, ["before", "after"], "the old socket does not connect");
    assert.equal(r.state.connected, false);
    assert.equal(r.later.connected, false);
    assert.deepEqual(retried(r.managerAfter), [], "the old Manager makes no attempt");
    assert.equal(r.echo, "new");
  });
});
