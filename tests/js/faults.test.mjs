// Faults between the browser and a real server, injected by tests/servers/proxy.mjs in front of
// a server of the test's own with a short heartbeat (pingInterval 300 ms, pingTimeout 200 ms).
import { after } from "node:test";
import assert from "node:assert/strict";
import { suite, startTestServer } from "./harness.mjs";
import { startProxy } from "../servers/proxy.mjs";

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const HEARTBEAT = ["--ping-interval", String(PING_INTERVAL), "--ping-timeout", String(PING_TIMEOUT)];
// Timers in a busy headless browser on two cores fire late by tens of milliseconds.
const MARGIN = 250;

suite("faults", ({ test, server }) => {
  let proxy;
  const through = async () => {
    if (!proxy) {
      const url = await startTestServer(server, HEARTBEAT);
      proxy = await startProxy({ target: new URL(url).host });
    }
    proxy.restore();
    return proxy;
  };
  after(() => proxy?.close());

  // Connects a socket through the proxy as window.s and records its disconnection. Over
  // WebSocket only: the tests look at its frames (tests/js/polling.test.mjs has polling's).
  const connect = (page, url) =>
    page.run(
      async ({ target }) => {
        // Short reconnection delays and connect timeout keep the tests quick.
        const s = (window.s = io(target, { forceNew: true, transports: ["websocket"], reconnectionDelay: 100, reconnectionDelayMax: 400, timeout: 2000 }));
        await connected(s);
        s.on("disconnect", (reason) => (window.gone = { reason, at: Date.now() }));
        s.on("connect", () => (window.back = Date.now()));
        // A round trip first, so the link is known to work.
        return s.emitWithAck("echo", "ok");
      },
      { target: url },
    );
  const waitGone = (page, ms) =>
    page.run(
      async ({ ms }) => {
        await until(() => window.gone, ms, "disconnect");
        return window.gone;
      },
      { ms },
    );

  const waitBack = (page) =>
    page.run(async () => {
      await until(() => window.back, 5000, "connect");
      return window.back;
    }, {}, { timeout: 8000 });

  test("a blackholed link is found dead within pingInterval + pingTimeout, and comes back after restore", async (page) => {
    const p = await through();
    assert.equal(await connect(page, p.url), "ok");
    const t0 = Date.now();
    p.blackhole();
    const gone = await waitGone(page, 3000);
    const detect = gone.at - t0;
    console.log(`[${server}] blackhole: ping timeout after ${detect} ms`);
    assert.equal(gone.reason, "ping timeout");
    assert.ok(
      detect <= PING_INTERVAL + PING_TIMEOUT + MARGIN,
      `found dead after ${detect} ms, more than ${PING_INTERVAL} + ${PING_TIMEOUT} + ${MARGIN}`,
    );
    const t1 = Date.now();
    p.restore();
    const back = await waitBack(page);
    console.log(`[${server}] blackhole: connected again ${back - t1} ms after restore`);
    assert.equal(await page.run(() => s.emitWithAck("echo", "again")), "again");
  });

  test("a cut connection is reported at once as transport close", async (page) => {
    const p = await through();
    assert.equal(await connect(page, p.url), "ok");
    const t0 = Date.now();
    assert.ok(p.cut() >= 1);
    const gone = await waitGone(page, 3000);
    console.log(`[${server}] cut: disconnect after ${gone.at - t0} ms`);
    assert.equal(gone.reason, "transport close");
    assert.ok(gone.at - t0 < PING_INTERVAL, "not left to the heartbeat");
    await waitBack(page);
  });

  test("a page whose timers were held writes nothing into the dead link, and delivers after reconnecting", async (page) => {
    const p = await through();
    assert.equal(await connect(page, p.url), "ok");
    p.blackhole();
    // The main thread is held longer than pingInterval + pingTimeout: no timer can fire, so
    // only the emit's own look at the clock can find the link dead.
    const r = await page.run(async ({ hold, key }) => {
      window.sent = [];
      const send = WebSocket.prototype.send;
      let n = 0;
      WebSocket.prototype.send = function (d) {
        this.n ??= ++n;
        window.sent.push([this.n, String(d)]);
        return send.call(this, d);
      };
      const wasConnected = s.connected;
      const t = Date.now();
      while (Date.now() - t < hold);
      window.ack = s.timeout(8000).emitWithAck("tally", key);
      return { wasConnected, connectedAfter: s.connected, written: window.sent.filter(([, d]) => d.includes(key)).length };
    }, { hold: PING_INTERVAL + PING_TIMEOUT + 300, key: "held-" + server });
    assert.deepEqual(r, { wasConnected: true, connectedAfter: false, written: 0 });
    p.restore();
    const d = await page.run(async ({ key }) => {
      const count = await window.ack;
      return { count, writes: window.sent.filter(([, d]) => d.includes(key)).map(([n]) => n) };
    }, { key: "held-" + server }, { timeout: 10000 });
    assert.equal(d.count, 1, "counted once by the server");
    assert.equal(d.writes.length, 1, "written once, on the new connection");
  });
});
