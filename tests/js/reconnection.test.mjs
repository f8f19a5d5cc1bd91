// Reconnection against real servers that the tests crash and bring back, refuse, or hide
// behind Chromium's offline mode; and 1,000 reconnections without growth.
import { after } from "node:test";
import assert from "node:assert/strict";
import { suite, ownServer } from "./harness.mjs";
import { startProxy } from "../servers/proxy.mjs";

// Short delays keep the tests quick; the defaults (1 s to 5 s) are covered natively.
const FAST = { forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 400 };

suite("reconnection", ({ test, server }) => {
  const own = [];
  after(() => Promise.all(own.map((s) => s.kill())));
  const start = async () => {
    const s = await ownServer(server);
    own.push(s);
    return s;
  };

  test("server killed and restarted: the client comes back and every emit of the outage is acked once", async (page) => {
    const srv = await start();
    await page.run(
      async ({ target, opts }) => {
        const s = (window.s = io(target, opts));
        window.events = [];
        for (const ev of ["reconnect_attempt", "reconnect", "reconnect_error"])
          s.io.on(ev, (x) => window.events.push([ev, x instanceof Error ? x.message : x]));
        s.on("disconnect", (reason) => window.events.push(["disconnect", reason]));
        s.on("connect", () => (window.connectedAt = Date.now()));
        await connected(s);
        // Killed mid-upgrade, the polling transport fails with "transport error"; this test is
        // about the WebSocket, which the default transports reach by the upgrade.
        await until(() => s.io.engine.transport.name == "websocket", 3000, "the upgrade");
        return s.emitWithAck("tally", "before");
      },
      { target: srv.url, opts: FAST },
    );
    await srv.kill();
    // Emits made while the server is down wait in the buffer, acks pending.
    const held = await page.run(async () => {
      await until(() => !s.connected, 3000, "disconnect");
      window.acks = [1, 2, 3, 4, 5].map((i) => s.timeout(15000).emitWithAck("tally", "outage-" + i));
      return { active: s.active, buffered: s.sendBuffer.length };
    });
    assert.deepEqual(held, { active: true, buffered: 5 });
    await new Promise((r) => setTimeout(r, 300));
    await srv.restart();
    const restarted = Date.now();
    const r = await page.run(
      async () => {
        const counts = await Promise.all(window.acks);
        return { counts, connectedAt: window.connectedAt, events: window.events, buffered: s.sendBuffer.length };
      },
      {},
      { timeout: 15000 },
    );
    console.log(`[${server}] server restart: connected again ${r.connectedAt - restarted} ms after it listened`);
    assert.deepEqual(r.counts, [1, 1, 1, 1, 1], "each outage emit counted exactly once");
    assert.equal(r.buffered, 0);
    assert.deepEqual(r.events[0], ["disconnect", "transport close"]);
    const kinds = r.events.map((e) => e[0]);
    assert.ok(kinds.includes("reconnect_attempt"));
    assert.ok(kinds.includes("reconnect_error"), "attempts failed while the server was down");
    assert.equal(kinds.at(-1), "reconnect");
  }, { timeout: 30_000 });

  test("with retries, emits of the outage are delivered at least once", async (page) => {
    const srv = await start();
    await page.run(
      async ({ target, opts }) => {
        const s = (window.s = io(target, { ...opts, retries: 3, ackTimeout: 1000 }));
        await connected(s);
      },
      { target: srv.url, opts: FAST },
    );
    await srv.kill();
    const key = "retry-outage-" + Math.random();
    await page.run(async ({ key }) => {
      await until(() => !s.connected, 3000, "disconnect");
      window.acks = [1, 2, 3].map((i) => s.emitWithAck("tally", key + i));
    }, { key });
    await srv.restart();
    const counts = await page.run(() => Promise.all(window.acks), {}, { timeout: 15000 });
    console.log(`[${server}] retries over an outage: server counts ${JSON.stringify(counts)}`);
    assert.equal(counts.length, 3);
    for (const n of counts) assert.ok(n >= 1, "delivered");
  }, { timeout: 30_000 });

  // Each try's ack is slower than ackTimeout, so the client resends before the first ack is
  // back: the server gets the packet more than once (at least once, not exactly once), and
  // the caller gets one answer. Without retries the emit would fail with a timeout.
  test("with retries, a slow ack makes a resend: the server counts the packet twice, the caller is answered once", async (page) => {
    const srv = await start();
    const proxy = await startProxy({ target: new URL(srv.url).host });
    try {
      await page.run(
        async ({ target, opts }) => {
          // Over WebSocket only: the test counts the WebSocket's writes.
          window.s = io(target, { ...opts, transports: ["websocket"], retries: 3, ackTimeout: 600 });
          await connected(s);
        },
        { target: proxy.url, opts: FAST },
      );
      // 500 ms each way: a round trip takes 1,000 ms, and the first try times out at 600 ms.
      proxy.latency(500);
      const key = "retry-slow-" + Math.random();
      const r = await page.run(async ({ key }) => {
        const sent = [];
        const send = WebSocket.prototype.send;
        WebSocket.prototype.send = function (d) {
          if (String(d).includes(key)) sent.push(Date.now());
          return send.call(this, d);
        };
        let answers = 0;
        const first = await s.emitWithAck("tally", key).finally(() => answers++);
        await sleep(1500);
        return { first, answers, writes: sent.length };
      }, { key }, { timeout: 10000 });
      proxy.restore();
      const total = await page.run(({ key }) => s.timeout(5000).emitWithAck("tally", key), { key });
      console.log(`[${server}] retries with a slow ack: answered ${r.first}, written ${r.writes} times, server count before this probe ${total - 1}`);
      assert.ok(r.writes >= 2, `written ${r.writes} times`);
      assert.equal(r.answers, 1);
      assert.ok(r.first >= 1 && r.first <= r.writes, `answered with ${r.first}`);
      assert.equal(total - 1, r.writes, "every write reached the server");
    } finally {
      await proxy.close();
    }
  }, { timeout: 30_000 });

  test("a CONNECT_ERROR from middleware makes no reconnection attempt", async (page) => {
    const r = await page.run(
      async ({ url, opts }) => {
        const s = io(url + "/forbidden", opts);
        let attempts = 0;
        s.io.on("reconnect_attempt", () => attempts++);
        const [err] = await waitFor(s, "connect_error");
        const sockets = __ws.count;
        await sleep(3000);
        return { message: err.message, attempts, active: s.active, newSockets: __ws.count - sockets };
      },
      { opts: FAST },
      { timeout: 8000 },
    );
    assert.deepEqual(r, { message: "forbidden namespace", attempts: 0, active: false, newSockets: 0 });
  });

  test("offline then online: reconnects at once, not after the backoff", async (page) => {
    const ctx = page.page.context();
    await page.run(
      async ({ url }) => {
        // A backoff of 5 to 10 s: a reconnection within a second can only come from `online`.
        const s = (window.s = io(url, { forceNew: true, reconnectionDelay: 10000, reconnectionDelayMax: 10000 }));
        await connected(s);
        await until(() => s.io.engine.transport.name == "websocket", 3000, "the upgrade");
        s.on("disconnect", (reason) => (window.gone = reason));
        s.on("connect", () => (window.back = Date.now()));
        // Timed from the page's own `online` event, so the driver's round trips do not count.
        addEventListener("online", () => (window.onlineAt = Date.now()));
      },
    );
    await ctx.setOffline(true);
    const reason = await page.run(async () => {
      await until(() => window.gone, 3000, "disconnect");
      return window.gone;
    });
    assert.equal(reason, "transport close");
    await new Promise((r) => setTimeout(r, 200));
    await ctx.setOffline(false);
    const ms = await page.run(async () => {
      await until(() => window.back, 3000, "connect");
      return window.back - window.onlineAt;
    });
    console.log(`[${server}] online: connected again ${ms} ms after the event`);
    assert.ok(ms < 300, `reconnected ${ms} ms after online`);
  });

  test("1,000 reconnections: no socket, listener or wasm memory is left behind", async (page) => {
    const cdp = await page.page.context().newCDPSession(page.page);
    // Live objects of a prototype after a full GC, and the wasm memory size.
    const census = async () => {
      await cdp.send("HeapProfiler.collectGarbage");
      const count = async (expr) => {
        const proto = await cdp.send("Runtime.evaluate", { expression: expr });
        const { objects } = await cdp.send("Runtime.queryObjects", { prototypeObjectId: proto.result.objectId });
        const r = await cdp.send("Runtime.callFunctionOn", {
          objectId: objects.objectId,
          functionDeclaration: "function () { return this.map((m) => m.buffer ? m.buffer.byteLength : 1); }",
          returnByValue: true,
        });
        return r.result.value;
      };
      const { usedSize } = await cdp.send("Runtime.getHeapUsage");
      return {
        sockets: (await count("WebSocket.prototype")).length,
        memory: (await count("WebAssembly.Memory.prototype")).reduce((a, b) => a + b, 0),
        heap: usedSize,
      };
    };
    const cycles = (n) =>
      page.run(
        async ({ n }) => {
          for (let i = 0; i < n; i++) {
            const back = waitFor(s, "connect", 5000);
            window.sockets.at(-1).close();
            await back;
          }
          return { connect: s.listeners("connect").length, manager: s.io.listeners("reconnect").length };
        },
        { n },
        { timeout: 120_000 },
      );
    await page.run(async ({ url }) => {
      window.sockets = [];
      const Ws = window.WebSocket;
      window.WebSocket = class extends Ws {
        constructor(...a) {
          super(...a);
          window.sockets.push(this);
        }
      };
      // Over WebSocket only: each cycle closes the page's last WebSocket.
      window.s = io(url, { forceNew: true, transports: ["websocket"], reconnectionDelay: 1, reconnectionDelayMax: 1 });
      s.on("connect", () => {});
      s.io.on("reconnect", () => {});
      await connected(s);
      // Forget the closed sockets as they go: only the page's own list would keep them.
      setInterval(() => window.sockets.splice(0, window.sockets.length - 1), 50);
    });
    await cycles(20);
    const before = await census();
    const listeners = await cycles(1000);
    // A closed WebSocket lives until its closing handshake is over.
    await page.run(() => sleep(500));
    const afterwards = await census();
    console.log(
      `[${server}] 1,000 reconnections: heap ${before.heap} -> ${afterwards.heap} B, ` +
        `wasm memory ${before.memory} -> ${afterwards.memory} B, live WebSockets ${afterwards.sockets}`,
    );
    assert.deepEqual(listeners, { connect: 1, manager: 1 }, "listeners as added, once each");
    // The open one, and at most a few still closing: a leak would keep a thousand.
    assert.ok(afterwards.sockets <= 5, `${afterwards.sockets} WebSockets still alive`);
    assert.ok(afterwards.memory - before.memory <= 65536, "wasm memory grew by more than a page");
    assert.ok(afterwards.heap - before.heap < 1_000_000, `JS heap grew by ${afterwards.heap - before.heap} B`);
  }, { timeout: 150_000 });
});
