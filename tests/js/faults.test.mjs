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

  // Connects a socket through the proxy as window.s and records its disconnection.
  const connect = (page, url) =>
    page.run(
      async ({ target }) => {
        const s = (window.s = io(target, { forceNew: true }));
        await connected(s);
        s.on("disconnect", (reason) => (window.gone = { reason, at: Date.now() }));
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

  test("a blackholed link is found dead within pingInterval + pingTimeout", async (page) => {
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
  });
});
