// The fault-injection proxy itself (tests/servers/proxy.mjs), against a TCP echo server: every
// fault does what the browser tests will rely on it to do.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { generator, startProxy } from "../servers/proxy.mjs";

const PROXY = fileURLToPath(new URL("../servers/proxy.mjs", import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resets from the proxy are expected here.
const echo = net.createServer((s) => s.on("error", () => {}).pipe(s));
await new Promise((r) => echo.listen(0, "127.0.0.1", r));
const target = `127.0.0.1:${echo.address().port}`;
after(() => echo.close());

/** A client through the proxy that collects what comes back and how it ended. */
async function client(port) {
  const s = net.connect({ host: "127.0.0.1", port });
  const c = { s, got: "", ended: null };
  s.setEncoding("utf8");
  s.on("data", (d) => (c.got += d));
  s.on("error", (e) => (c.ended ??= e.code || "error"));
  s.on("close", () => (c.ended ??= "close"));
  await new Promise((res, rej) => s.once("connect", res).once("error", rej));
  return c;
}

async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms`);
    await sleep(5);
  }
}

test("forwards both ways, then cut resets the open connections and new ones still work", async () => {
  const p = await startProxy({ target });
  try {
    const a = await client(p.port);
    a.s.write("hello");
    await until(() => a.got === "hello", 2000, "echo");
    assert.equal(p.cut(), 1);
    await until(() => a.ended, 2000, "end of the cut connection");
    assert.equal(a.ended, "ECONNRESET", "a cut is a reset, not a clean close");
    const b = await client(p.port);
    b.s.write("again");
    await until(() => b.got === "again", 2000, "echo after the cut");
    b.s.destroy();
  } finally {
    await p.close();
  }
});

test("refuseWebSocket answers WebSocket handshakes with 403 and lets other requests through", async () => {
  const p = await startProxy({ target, refuseWebSocket: true });
  try {
    const ws = await client(p.port);
    ws.s.write("GET /socket.io/?transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    await until(() => ws.ended, 2000, "end of the refused handshake");
    assert.match(ws.got, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.ok(!ws.got.includes("Upgrade"), "the request never reached the server");
    const plain = await client(p.port);
    plain.s.write("GET /socket.io/?transport=polling HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => plain.got.startsWith("GET /socket.io/?transport=polling"), 2000, "echo of a plain request");
    plain.s.destroy();
    assert.equal(p.stats().refusedWebSockets, 1);
    // Turned off: handshakes go through.
    p.refuseWebSocket(false);
    const later = await client(p.port);
    later.s.write("Upgrade: websocket\r\n");
    await until(() => later.got === "Upgrade: websocket\r\n", 2000, "echo once allowed");
    later.s.destroy();
    // Held: the handshake goes on after the delay.
    p.delayWebSocket(300);
    const held = await client(p.port);
    const t0 = Date.now();
    held.s.write("Upgrade: websocket\r\n");
    await until(() => held.got === "Upgrade: websocket\r\n", 2000, "echo after the hold");
    assert.ok(Date.now() - t0 >= 280, `held ${Date.now() - t0} ms`);
    held.s.destroy();
  } finally {
    await p.close();
  }
});

test("blackhole drops bytes but keeps the socket open; restore resumes it", async () => {
  const p = await startProxy({ target });
  try {
    const a = await client(p.port);
    a.s.write("1");
    await until(() => a.got === "1", 2000, "echo");
    p.blackhole();
    a.s.write("2");
    await sleep(300);
    assert.equal(a.got, "1", "nothing comes back through a blackhole");
    assert.equal(a.ended, null, "the socket stays open");
    // A connection made during the blackhole is accepted but never reaches the server.
    const b = await client(p.port);
    b.s.write("lost");
    await until(() => p.stats().dropped === 5, 2000, "both writes dropped");
    p.restore();
    a.s.write("3");
    await until(() => a.got === "13", 2000, "echo after restore");
    // It never reached the server, so it learns at restore, as a reset.
    await until(() => b.ended, 2000, "the end of the connection accepted while blackholed");
    assert.equal(b.ended, "ECONNRESET");
    assert.equal(b.got, "");
    a.s.destroy();
    b.s.destroy();
  } finally {
    await p.close();
  }
});

test("partition holds bytes and delivers them in order at restore; new connections wait for it", async () => {
  const p = await startProxy({ target });
  try {
    const a = await client(p.port);
    a.s.write("1");
    await until(() => a.got === "1", 2000, "echo");
    p.partition();
    a.s.write("2");
    a.s.write("3");
    const b = await client(p.port);
    b.s.write("waited");
    await sleep(300);
    assert.equal(a.got, "1", "nothing comes back through a partition");
    assert.equal(b.got, "");
    assert.equal(a.ended, null, "the socket stays open");
    assert.equal(p.stats().held, 2);
    p.restore();
    await until(() => a.got === "123", 2000, "the held bytes, in order");
    await until(() => b.got === "waited", 2000, "the connection made during the partition");
    a.s.write("4");
    await until(() => a.got === "1234", 2000, "echo after restore");
    a.s.destroy();
    b.s.destroy();
  } finally {
    await p.close();
  }
});

test("a client that closes during a partition: the server learns at restore", async () => {
  const seen = [];
  const server = net.createServer((c) => {
    c.on("error", () => seen.push("reset"));
    c.on("end", () => seen.push("end"));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const p = await startProxy({ target: `127.0.0.1:${server.address().port}` });
  try {
    const a = await client(p.port);
    await until(() => p.stats().open === 1, 2000, "the connection");
    await sleep(50);
    p.partition();
    a.s.destroy();
    await sleep(300);
    assert.deepEqual(seen, [], "the close does not cross the partition");
    p.restore();
    await until(() => seen.length > 0, 2000, "the reset after restore");
  } finally {
    await p.close();
    server.close();
  }
});

test("a server that closes during a blackhole is not seen until restore resets the client", async () => {
  // Ends every connection 200 ms after accepting it.
  const closer = net.createServer((c) => {
    c.on("error", () => {});
    setTimeout(() => c.end(), 200);
  });
  await new Promise((r) => closer.listen(0, "127.0.0.1", r));
  const p = await startProxy({ target: `127.0.0.1:${closer.address().port}` });
  try {
    const a = await client(p.port);
    p.blackhole();
    await sleep(400);
    assert.equal(a.ended, null, "the server's close does not cross the blackhole");
    p.restore();
    await until(() => a.ended, 2000, "the reset after restore");
    assert.equal(a.ended, "ECONNRESET");
  } finally {
    await p.close();
    closer.close();
  }
});

test("latency delays each direction and keeps order", async () => {
  const p = await startProxy({ target });
  try {
    const a = await client(p.port);
    // Large enough that a loaded machine's own delays cannot pass for it.
    p.latency(400);
    const t0 = Date.now();
    a.s.write("a");
    a.s.write("b");
    a.s.write("c");
    await until(() => a.got === "abc", 5000, "delayed echo");
    const rtt = Date.now() - t0;
    assert.ok(rtt >= 790, `round trip ${rtt} ms with 400 ms each way`);
    p.restore();
    const t1 = Date.now();
    a.s.write("d");
    await until(() => a.got === "abcd", 2000, "echo after restore");
    assert.ok(Date.now() - t1 < 400, `round trip ${Date.now() - t1} ms after restore`);
    assert.throws(() => p.latency(-1));
    a.s.destroy();
  } finally {
    await p.close();
  }
});

test("jitter spreads the delays and keeps order; its generator is deterministic", async () => {
  const draws = (seed) => Array.from({ length: 5 }, generator(seed));
  assert.deepEqual(draws(7), draws(7));
  assert.notDeepEqual(draws(7), draws(8));
  assert.ok(draws(7).every((x) => x >= 0 && x < 1));
  const delays = async (seed) => {
    const p = await startProxy({ target, seed });
    try {
      const a = await client(p.port);
      p.latency(0, 300);
      const out = [];
      for (let i = 0; i < 8; i++) {
        const t0 = Date.now();
        const want = a.got + String(i);
        a.s.write(String(i));
        await until(() => a.got === want, 3000, "jittered echo");
        out.push(Date.now() - t0);
      }
      // Many writes at once: each arrives after the one before it, whatever its draw.
      a.s.write("abcdefghij");
      await until(() => a.got.endsWith("abcdefghij"), 5000, "the burst");
      a.s.destroy();
      return out;
    } finally {
      await p.close();
    }
  };
  const first = await delays(7);
  // Two draws of 0..300 ms per round trip: the eight round trips cannot all be quick or all alike.
  assert.ok(Math.max(...first) - Math.min(...first) >= 60, `round trips ${first}`);
  assert.ok(first.some((ms) => ms >= 100), `round trips ${first}`);
});

test("throttle holds each direction to its rate", async () => {
  const p = await startProxy({ target });
  try {
    const a = await client(p.port);
    p.throttle(20_000);
    const t0 = Date.now();
    a.s.write("x".repeat(10_000));
    await until(() => a.got.length === 10_000, 5000, "the throttled echo");
    const ms = Date.now() - t0;
    // 10,000 bytes at 20,000 B/s: 500 ms each way.
    assert.ok(ms >= 900, `10 kB round trip in ${ms} ms at 20 kB/s`);
    p.restore();
    const t1 = Date.now();
    a.s.write("y".repeat(10_000));
    await until(() => a.got.length === 20_000, 2000, "the echo after restore");
    assert.ok(Date.now() - t1 < 400, `round trip ${Date.now() - t1} ms after restore`);
    assert.throws(() => p.throttle(5));
    a.s.destroy();
  } finally {
    await p.close();
  }
});

test("refuses to forward anywhere but loopback", async () => {
  await assert.rejects(startProxy({ target: "192.0.2.1:80" }), /loopback only/);
  await assert.rejects(startProxy({ target: "nonsense" }), /host:port/);
});

test("command line: a control endpoint drives the same faults, and it exits by itself", async () => {
  const child = spawn(process.execPath, [PROXY, "--target", target, "--lifetime-s", "5"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    await until(() => /CONTROL (\S+)/.test(out), 5000, "the control line");
    const port = Number(/LISTENING http:\/\/127\.0\.0\.1:(\d+)/.exec(out)[1]);
    const control = /CONTROL (\S+)/.exec(out)[1];
    const post = async (p) => (await fetch(control + p, { method: "POST" })).json();
    const a = await client(port);
    a.s.write("x");
    await until(() => a.got === "x", 2000, "echo");
    assert.deepEqual(await post("/cut"), { cut: 1 });
    await until(() => a.ended, 2000, "the cut");
    assert.equal((await post("/blackhole")).mode, "blackhole");
    assert.equal((await post("/partition")).mode, "partition");
    assert.equal((await post("/latency?ms=50")).latency, 50);
    assert.equal((await post("/latency?ms=50&jitter=20")).jitter, 20);
    assert.equal((await post("/throttle?bps=5000")).throttle, 5000);
    assert.equal((await post("/restore")).mode, "forward");
    assert.equal((await fetch(control + "/latency?ms=-5", { method: "POST" })).status, 400);
    const code = await new Promise((r) => child.once("exit", r));
    assert.equal(code, 0, "exits cleanly when its lifetime ends");
  } finally {
    if (child.exitCode === null) child.kill();
  }
});
