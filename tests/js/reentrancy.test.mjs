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
// `reconnect_attempt`, `reconnect` and `error`. Where the same call is tested from several
// callbacks, or several calls from the same callback, the tests are one loop over the cases.
//
// How: the page records markers in `log` — "before" and "after" around the call, and one per
// event the listeners see — so the order shows whether the call took effect before it returned
// (the `disconnect` listener's marker must sit between "before" and "after"). An exception from
// the call is a marker too ("threw: ..."), and an uncaught page error fails the test (harness).
// The page helpers for this (the log, `callOnce`, `settled`) are shared with
// reentrancy-modes.test.mjs, in reentrancy-helpers.mjs. "Nothing is delivered later" is checked
// with bursts: the client asks the server for five events back to back (`emit-back`,
// PROTOCOL.md) and acts on the first; a round without the call first shows the five do arrive.
// A bystander socket of its own Manager, connected before, must still work at the end. Lost
// links come from tests/servers/proxy.mjs (cut, blackhole); an unreachable server is a port
// nobody listens on. Every socket uses the WebSocket transport (what rtio speaks;
// socket.io-client would otherwise start with long-polling) and short reconnection delays.
//
// Closing a Manager: socket.io-client 4.8's Manager has no public close(); closing is its
// disconnect() (`_close()`), which rtio also has, as an alias of its close(). The page's
// `closeManager` calls close() where there is one, disconnect() otherwise. The tests that close
// it mark `disconnect` events without their reason.
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
import { QUIET, WAIT, burstLog, pageHelpers } from "./reentrancy-helpers.mjs";

const RUN = { timeout: 15_000 };

// Installed in the page after the shared helpers (reentrancy-helpers.mjs).
function setup() {
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
  // The calls the tests make from callbacks (reentrancy-helpers.mjs), and closing the Manager.
  calls.close = (s) => closeManager(s.io);
  // The Manager's events, in order, into a list of their own.
  window.managerEvents = (m) => {
    const out = [];
    for (const ev of ["open", "close", "reconnect_attempt", "reconnect", "reconnect_error", "reconnect_failed", "error"]) {
      m.on(ev, () => out.push(ev));
    }
    return out;
  };
  // Keeps the events of `s`'s Manager in `m`: then callOnce notes how many there were at the
  // call, and settled() returns those after it (`managerAfter`).
  window.watchManager = (s) => (window.m = managerEvents(s.io));
  const callOnce = window.callOnce;
  window.callOnce = (s, call) => callOnce(s, call) && ((window.mAtCall = window.m?.length), true);
  // With a bystander `other`, settled() also returns what checkBystander(other) saw.
  const settled = window.settled;
  window.settled = async (s, what, other) => ({
    ...(await settled(s, what)),
    managerAfter: window.m?.slice(window.mAtCall),
    other: other && (await checkBystander(other)),
  });
  // Once `s` is connected: what the server recorded of its `record` emits, and what the promise
  // `acked` gave.
  window.records = async (s, acked) => {
    await connected(s, WAIT);
    return { recorded: await s.timeout(WAIT).emitWithAck("recorded"), acked: await acked };
  };
  // A first burst of five events, all seen (its log is returned, and taken out of `log`); then,
  // with `armed` set, a second one, whose first event the test's listener acts on.
  window.twoBursts = async (s) => {
    burst(s, "burst", 5);
    await until(() => log.length == 10, WAIT, "the first burst");
    const control = log.splice(0);
    window.armed = true;
    burst(s, "burst", 5);
    return control;
  };
  // Replaces the Manager of `s` (the first time only): makes a new one, closes the old one
  // between the markers, keeps the state of `s` then, and makes `s2`, a socket of the new one.
  window.replaceManager = (s, url) => {
    if (window.acted) return;
    window.acted = true;
    const m2 = new io.Manager(url, { transports: ["websocket"], reconnectionDelay: 100, reconnectionDelayMax: 300 });
    around(() => closeManager(s.io));
    window.state = snap(s);
    window.mAtCall = window.m?.length;
    window.s2 = m2.socket("/");
  };
  // Then: `s2` connects and answers, and after QUIET ms, what the page saw of `s`.
  window.replaced = async (s, what) => {
    await until(() => window.s2, WAIT, what);
    await connected(s2, WAIT);
    const echo = await s2.timeout(WAIT).emitWithAck("echo", "new");
    await sleep(QUIET);
    s2.disconnect();
    return { log, state, later: snap(s), managerAfter: window.m?.slice(mAtCall), echo };
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
// The socket's state after a disconnect() that stays, and while it connects again.
const DOWN = { connected: false, disconnected: true, active: false };
const COMING_BACK = { connected: false, disconnected: true, active: true };
// What the log holds from a disconnect() made in a listener: its own disconnect event in between.
const CALL = ["before", "disconnect:io client disconnect", "after"];
// The call returned the socket, which was disconnected by then and stayed so.
const stayedDown = (log) => ({ log, state: { same: true, ...DOWN }, later: DOWN });
const outcome = ({ log, state, later }) => ({ log, state, later });
// No reconnection (no Manager event that means one) after the call, and the bystander still works.
const quietAfter = (r, noRetry = "no reconnection") => {
  assert.deepEqual(retried(r.managerAfter), [], noRetry);
  assert.deepEqual(r.other, BYSTANDER_OK);
};
// After closing the Manager: not connected at the call, nor later.
const notConnected = (r) => {
  assert.equal(r.state.connected, false);
  assert.equal(r.later.connected, false);
};

suite("re-entrancy of io()", ({ test: plainTest }) => {
  // Every test starts with the page helpers installed.
  const test = (name, body, opts) =>
    plainTest(
      name,
      async (page) => {
        await page.run(pageHelpers, { wait: WAIT, quiet: QUIET, fields: ["connected", "disconnected", "active"] });
        await page.run(setup);
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

  // Through the proxy: `s`, with its Manager's events watched and its connects marked, and
  // (with `witness`) a second socket, left alone: it reconnects, which shows the link came back.
  // Then `listen(arg)` runs in the page (it adds the test's listener) and the link is cut.
  const cutWith = async (page, { witness }, listen, arg = {}) => {
    const p = await proxied(page);
    await page.run(async ({ via, witness }) => {
      window.s = fresh(via);
      if (witness) window.witness = fresh(via);
      await Promise.all([connected(s, WAIT), witness && connected(window.witness, WAIT)]);
      watchManager(s);
      s.on("connect", () => mark("connect"));
    }, { via: p.url, witness });
    await page.run(listen, arg);
    assert.ok(p.cut() >= (witness ? 2 : 1));
  };
  // Once the listener made its call, the witness (if any) reconnected and QUIET ms passed: what
  // the page saw, and the witness's echo.
  const afterCut = (page, what) =>
    page.run(async ({ what }) => {
      await until(() => window.state, WAIT, what);
      if (window.witness) await connected(witness, WAIT);
      await sleep(QUIET);
      const r = { log, state, later: snap(s), managerAfter: m.slice(mAtCall) };
      if (window.witness) {
        r.echo = await witness.timeout(WAIT).emitWithAck("echo", "back");
        witness.disconnect();
      }
      return r;
    }, { what }, RUN);

  // ---------------------------------------------------------------------------------------------
  // socket.disconnect() and closing the Manager (socket.io.close(); socket.io-client:
  // socket.io.disconnect()), from the socket's listeners

  for (const { call, name, check } of [
    {
      call: "disconnect",
      name: "disconnect() in a connect listener returns the socket, disconnected and reported before it returns, and it stays so",
      check: (r) => assert.deepEqual(outcome(r), stayedDown(["connect", ...CALL])),
    },
    {
      call: "close",
      name: "closing the Manager in a connect listener: the socket is disconnected and told before it returns, no reconnection",
      check: (r) => {
        assert.deepEqual(r.log, ["connect", "before", "disconnect", "after"]);
        notConnected(r);
      },
    },
  ]) {
    test(name, async (page) => {
      const r = await page.run(async ({ url, call }) => {
        const other = await bystander(url);
        const s = fresh(url);
        watchManager(s);
        s.on("disconnect", (reason) => mark(call == "close" ? "disconnect" : "disconnect:" + reason));
        s.on("connect", () => {
          mark("connect");
          callOnce(s, () => calls[call](s));
        });
        return settled(s, "the connect listener", other);
      }, { call }, RUN);
      check(r);
      quietAfter(r);
    });
  }

  for (const { call, where, name, check } of [
    {
      call: "disconnect",
      where: "event",
      name: "disconnect() in an event listener: the events the server sent after it reach no listener, nor onAny",
      check: (r) =>
        assert.deepEqual({ log: r.log, state: r.state }, { log: ["any:burst:1", "burst:1", ...CALL], state: { same: true, ...DOWN } }),
    },
    {
      call: "disconnect",
      where: "onAny",
      name: "disconnect() in an onAny listener: the events the server sent after it reach no listener, nor onAny",
      // The event being delivered may still reach its own listeners (socket.io-client calls them); no later one.
      check: (r) =>
        assert.deepEqual(
          { log: r.log.filter((x) => x != "burst:1"), state: r.state },
          { log: ["any:burst:1", ...CALL], state: { same: true, ...DOWN } },
        ),
    },
    {
      call: "close",
      where: "event",
      name: "closing the Manager in an event listener: the events the server sent after it are not delivered",
      check: (r) => {
        assert.deepEqual(r.log, ["any:burst:1", "burst:1", "before", "disconnect", "after"]);
        assert.equal(r.state.connected, false);
      },
    },
  ]) {
    test(name, async (page) => {
      const r = await page.run(async ({ url, call, where }) => {
        const other = await bystander(url);
        const s = fresh(url);
        await connected(s, WAIT);
        watchManager(s);
        s.on("disconnect", (reason) => mark(call == "close" ? "disconnect" : "disconnect:" + reason));
        const act = (n) => window.armed && n == 1 && callOnce(s, () => calls[call](s));
        s.onAny((ev, n) => {
          mark(`any:${ev}:${n}`);
          if (where == "onAny") act(n);
        });
        s.on("burst", (n) => {
          mark("burst:" + n);
          if (where == "event") act(n);
        });
        const control = await twoBursts(s);
        return { control, ...(await settled(s, "the listener's call", other)) };
      }, { call, where }, RUN);
      assert.deepEqual(r.control, burstLog((n) => `any:burst:${n}`));
      check(r);
      quietAfter(r);
    });
  }

  test("disconnect() in an ack callback: reported before it returns, the other pending acks fail, later events are not delivered", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      s.on("disconnect", (reason) => mark("disconnect:" + reason));
      s.onAny((ev) => mark("any:" + ev));
      s.on("late", () => mark("late"));
      s.emit("echo", "a", (x) => {
        mark("ack:" + x);
        callOnce(s, () => s.disconnect());
      });
      // The server answers these after the echo: an event, and acks that never come.
      s.emit("emit-back", "late", 1);
      const pending = s.emitWithAck("nobody-handles-this").then(() => "resolved", (e) => e.message);
      s.emit("nobody-handles-this", () => mark("plain ack called"));
      const seen = await settled(s, "the ack callback");
      return { ...seen, rejected: await pending };
    }, {}, RUN);
    assert.deepEqual(
      { log: r.log, state: r.state },
      { log: ["ack:a", ...CALL], state: { same: true, ...DOWN } },
    );
    assert.equal(r.rejected, "socket has been disconnected");
  });

  // From a connect_error listener: the namespace refuses the socket, or the server is unreachable.
  test("disconnect() in a connect_error listener (refused namespace): returns the socket, no disconnect event, no new attempt", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url + "/forbidden");
      s.on("disconnect", (reason) => mark("disconnect:" + reason));
      s.on("connect", () => mark("connect"));
      s.on("connect_error", (err) => {
        mark("connect_error:" + err.message);
        callOnce(s, () => s.disconnect());
      });
      return settled(s, "connect_error");
    }, {}, RUN);
    assert.deepEqual(outcome(r), stayedDown(["connect_error:forbidden namespace", "before", "after"]));
  });

  test("disconnect() in a connect_error listener (server unreachable) stops the reconnection", async (page) => {
    const r = await page.run(async ({ url, nowhere }) => {
      const other = await bystander(url);
      const s = fresh(nowhere);
      watchManager(s);
      s.on("disconnect", (reason) => mark("disconnect:" + reason));
      s.on("connect_error", () => {
        mark("connect_error");
        callOnce(s, () => s.disconnect());
      });
      return settled(s, "connect_error", other);
    }, { nowhere: await unreachable() }, RUN);
    assert.deepEqual(outcome(r), stayedDown(["connect_error", "before", "after"]));
    quietAfter(r);
  });

  // From a disconnect listener: the server kicked the socket, or the socket's own disconnect().
  for (const { call, cause, name, check } of [
    {
      call: "disconnect",
      cause: "kick",
      name: "disconnect() in a disconnect listener (kicked by the server): no second disconnect, stays disconnected",
      check: (r) => assert.deepEqual(outcome(r), stayedDown(["disconnect:io server disconnect", "before", "after"])),
    },
    {
      call: "connect",
      cause: "kick",
      name: "connect() in a disconnect listener (kicked by the server) connects again",
      check: (r) =>
        assert.deepEqual(
          { log: r.log, state: r.state, echo: r.echo },
          { log: ["disconnect:io server disconnect", "before", "after", "connect"], state: { same: true, ...COMING_BACK }, echo: "back" },
        ),
    },
    {
      call: "connect",
      cause: "own",
      name: "connect() in the disconnect listener of the socket's own disconnect() connects again",
      check: (r) =>
        assert.deepEqual(
          { log: r.log, state: r.state, outer: r.outer, echo: r.echo },
          {
            log: ["outer before", "disconnect:io client disconnect", "before", "after", "outer after", "connect"],
            state: { same: true, ...COMING_BACK },
            outer: COMING_BACK,
            echo: "back",
          },
        ),
    },
  ]) {
    test(name, async (page) => {
      const r = await page.run(async ({ url, call, cause }) => {
        // A kick on `/second`: the Rust server (socketioxide) ignores a CONNECT that comes while
        // it still holds the socket it disconnected, which a disconnect handler (the rooms' one,
        // on `/`) makes it do for a while; on `/second` it is removed as the DISCONNECT is sent.
        const s = fresh(cause == "kick" ? url + "/second" : url);
        await connected(s, WAIT);
        s.on("connect", () => mark("connect"));
        s.on("disconnect", (reason) => {
          mark("disconnect:" + reason);
          callOnce(s, () => calls[call](s));
        });
        let outer;
        if (cause == "kick") s.emit("kick");
        else {
          mark("outer before");
          s.disconnect();
          mark("outer after");
          outer = snap(s);
        }
        if (call == "connect") await until(() => log.includes("connect"), WAIT, "the new connection");
        const seen = await settled(s, "the disconnect listener");
        if (call != "connect") return seen;
        return { ...seen, outer, echo: await s.timeout(WAIT).emitWithAck("echo", "back") };
      }, { call, cause }, RUN);
      check(r);
    });
  }

  test("disconnect() in a disconnect listener (link cut) stops the reconnection", async (page) => {
    await cutWith(page, { witness: true }, () => {
      s.on("disconnect", (reason) => {
        mark("disconnect:" + reason);
        callOnce(s, () => s.disconnect());
      });
    });
    const r = await afterCut(page, "the disconnect listener");
    assert.deepEqual(outcome(r), stayedDown(["disconnect:transport close", "before", "after"]));
    assert.deepEqual(retried(r.managerAfter), [], "no reconnection");
    assert.equal(r.echo, "back", "the witness reconnected through the proxy");
  });

  // ---------------------------------------------------------------------------------------------
  // Closing the Manager from its own listeners

  test("closing the Manager in its open listener: the socket never connects, no reconnection", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      watchManager(s);
      s.on("connect", () => mark("connect"));
      s.io.on("open", () => callOnce(s, () => closeManager(s.io)));
      return settled(s, "the open listener");
    }, {}, RUN);
    assert.deepEqual(r.log.filter((x) => x != "disconnect"), ["before", "after"], "no connect");
    notConnected(r);
    assert.deepEqual(retried(r.managerAfter), [], "no reconnection");
  });

  // The link is cut, then the Manager is closed from the listener of `ev`.
  const closeIn = ({ ev }) => void s.io.on(ev, () => callOnce(s, () => closeManager(s.io)));

  for (const [ev, name, noRetry] of [
    ["close", "closing the Manager in its close listener (link cut): no reconnection", "no reconnection"],
    ["reconnect_attempt", "closing the Manager in its reconnect_attempt listener: no attempt is made, the socket stays disconnected", "no open, no further attempt"],
  ]) {
    test(name, async (page) => {
      await cutWith(page, { witness: true }, closeIn, { ev });
      const r = await afterCut(page, `the ${ev} listener`);
      assert.deepEqual(r.log, ["before", "after"], "no connect");
      notConnected(r);
      assert.deepEqual(retried(r.managerAfter), [], noRetry);
      assert.equal(r.echo, "back", "the witness reconnected through the proxy");
    });
  }

  test("closing the Manager in its reconnect listener: the socket does not connect, no further attempt", async (page) => {
    await cutWith(page, { witness: false }, closeIn, { ev: "reconnect" });
    const r = await afterCut(page, "the reconnect listener");
    const call = r.log.indexOf("before");
    assert.deepEqual(r.log.slice(call), ["before", "after"], "no connect after the call");
    notConnected(r);
    assert.deepEqual(retried(r.managerAfter), [], "no further attempt");
  });

  test("closing the Manager in its error listener (server unreachable): no further attempt", async (page) => {
    const r = await page.run(async ({ url, nowhere }) => {
      const other = await bystander(url);
      const s = fresh(nowhere);
      watchManager(s);
      s.on("connect_error", () => mark("connect_error"));
      s.io.on("error", () => callOnce(s, () => closeManager(s.io)));
      return settled(s, "the error listener", other);
    }, { nowhere: await unreachable() }, RUN);
    // One connect_error for the failed attempt (the Manager's error comes with it), none after.
    assert.ok(r.log.filter((x) => x == "connect_error").length <= 1, JSON.stringify(r.log));
    assert.deepEqual(r.log.filter((x) => x != "connect_error"), ["before", "after"]);
    assert.equal(r.state.connected, false);
    quietAfter(r, "no further attempt");
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
      let firstId;
      s.on("connect", () => {
        mark("connect");
        firstId ??= s.id;
        callOnce(s, () => [s.disconnect(), s.connect()]);
      });
      await until(() => log.filter((x) => x == "connect").length == 2, WAIT, "the second connect");
      await sleep(QUIET);
      const who = await s.timeout(WAIT).emitWithAck("whoami");
      return { log, state, newId: typeof s.id == "string" && s.id != firstId && who.id == s.id };
    }, {}, RUN);
    assert.deepEqual(
      { log: r.log, state: r.state },
      { log: ["connect", ...CALL, "connect"], state: { same: true, ...COMING_BACK } },
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
      s.on("burst", (n) => {
        mark("burst:" + n);
        if (n == 1) callOnce(s, () => [s.disconnect(), s.connect()]);
      });
      return burstAcrossReconnect(s);
    }, {}, RUN);
    assert.deepEqual(r.first, ["any:burst:1", "burst:1", ...CALL, "connect"]);
    assert.deepEqual(r.state, { same: true, ...COMING_BACK });
    assert.deepEqual(r.log, burstLog((n) => `any:burst:${n}`, [6, 7]));
  });

  test("connect() in a connect_error listener (refused namespace) tries again at once", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url + "/forbidden");
      s.on("connect", () => mark("connect"));
      s.on("connect_error", (err) => {
        mark("connect_error:" + err.message);
        callOnce(s, () => s.connect());
      });
      await until(() => log.length >= 4, WAIT, "the second connect_error");
      await sleep(QUIET);
      return { log, state: { same: state.same, active: state.active } };
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
      return records(s, acked);
    }, {}, RUN);
    assert.deepEqual(r, { recorded: [["buffered"], ["in-connect"], ["after"]], acked: "acked in connect" });
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
      return records(s, acked);
    }, {}, RUN);
    assert.deepEqual(r, { recorded: [["ack"], ["any1"], ["event1"], ["any2"], ["event2"]], acked: "acked in a listener" });
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
      return records(s, pending);
    }, {}, RUN);
    assert.deepEqual(r, { recorded: [["from-disconnect"]], acked: "kept" });
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
    const r = await page.run(() => records(s, acked), {}, RUN);
    assert.deepEqual(r, { recorded: [["from-connect-error"]], acked: "acked after connect_error" });
  });

  // ---------------------------------------------------------------------------------------------
  // off / offAny

  test("off and offAny in listeners and ack callbacks take effect for the next events", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      const { seen, byAck } = offListeners(s);
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
      s.on("connect", () => {
        mark("old connect");
        replaceManager(s, url);
      });
      return replaced(s, "the connect listener");
    }, {}, RUN);
    assert.deepEqual(r.log, ["old connect", "before", "after"]);
    notConnected(r);
    assert.equal(r.echo, "new");
  });

  test("a new Manager replacing the old one from an event listener: the old one's later events are not delivered", async (page) => {
    const r = await page.run(async ({ url }) => {
      const s = fresh(url);
      await connected(s, WAIT);
      s.onAny((ev, n) => mark(`any:${ev}:${n}`));
      s.on("burst", (n) => {
        mark("burst:" + n);
        replaceManager(s, url);
      });
      burst(s, "burst", 5);
      return replaced(s, "the event listener");
    }, {}, RUN);
    assert.deepEqual(r.log, ["any:burst:1", "burst:1", "before", "after"]);
    notConnected(r);
    assert.equal(r.echo, "new");
  });

  test("a new Manager replacing the old one from its reconnect_attempt listener (failover): the old one makes no attempt", async (page) => {
    await cutWith(page, { witness: false }, ({ url }) => void s.io.on("reconnect_attempt", () => replaceManager(s, url)));
    const r = await page.run(() => replaced(s, "the reconnect_attempt listener"), {}, RUN);
    assert.deepEqual(r.log, ["before", "after"], "the old socket does not connect");
    notConnected(r);
    assert.deepEqual(retried(r.managerAfter), [], "the old Manager makes no attempt");
    assert.equal(r.echo, "new");
  });
});
