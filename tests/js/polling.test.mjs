import assert from "node:assert/strict";
import { after } from "node:test";
import { ownServer, startTestServer, suite } from "./harness.mjs";
import { startProxy } from "../servers/proxy.mjs";

// HTTP long-polling, and the upgrade to WebSocket. Written against socket.io-client's
// behaviour: these tests pass with RTIO_CLIENT set to the reference client too.

// A server that serves long-polling only, as behind a proxy that refuses WebSocket upgrades.
const pollingOnly = (server) => startTestServer(server, ["--transports", "polling"]);

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const HEARTBEAT = ["--ping-interval", String(PING_INTERVAL), "--ping-timeout", String(PING_TIMEOUT)];
// Timers in a busy headless browser on two cores fire late by tens of milliseconds.
const MARGIN = 250;

suite("polling", ({ test, server }) => {
  test("polling only: connect, events both ways, acks, binary, no WebSocket", async (page) => {
    const url = await pollingOnly(server);
    const r = await page.run(
      async ({ url }) => {
        const socket = io(url, { transports: ["polling"] });
        await connected(socket);
        const transport = socket.io.engine.transport.name;
        socket.emit("record", 1, "two", { three: [3] });
        socket.emit("record", "é ☃ 𝄞");
        const recorded = await socket.emitWithAck("recorded");
        const echoed = await socket.emitWithAck("echo", "a", { b: [1, 2] });
        const back = waitFor(socket, "bin");
        socket.emit("emit-back", "bin", new Uint8Array([0, 1, 254, 255]).buffer, "after");
        const [bin, tail] = await back;
        return {
          transport,
          recorded,
          echoed,
          bin: [...new Uint8Array(bin)],
          tail,
          websockets: __ws.count,
        };
      },
      { url },
    );
    assert.equal(r.transport, "polling");
    assert.deepEqual(r.recorded, [[1, "two", { three: [3] }], ["é ☃ 𝄞"]]);
    assert.equal(r.echoed, "a");
    assert.deepEqual(r.bin, [0, 1, 254, 255]);
    assert.equal(r.tail, "after");
    assert.equal(r.websockets, 0, "no WebSocket was opened");
  });

  test("polling only: a Blob argument goes as binary, in order with the emits around it", async (page) => {
    const url = await pollingOnly(server);
    const r = await page.run(
      async ({ url }) => {
        const socket = io(url, { transports: ["polling"] });
        await connected(socket);
        socket.emit("record", "before");
        socket.emit("record", new Blob([new Uint8Array([1, 2, 3])]), "with a blob");
        socket.emit("record", "after");
        const recorded = await socket.emitWithAck("recorded");
        return recorded.map((args) => args.map((a) => (a instanceof ArrayBuffer ? [...new Uint8Array(a)] : a)));
      },
      { url },
    );
    assert.deepEqual(r, [["before"], [[1, 2, 3], "with a blob"], ["after"]]);
  });

  test("polling only: many emits in one task arrive once, in order", async (page) => {
    const url = await pollingOnly(server);
    const r = await page.run(
      async ({ url }) => {
        const socket = io(url, { transports: ["polling"] });
        await connected(socket);
        for (let i = 0; i < 500; i++) socket.emit("record", i);
        return socket.emitWithAck("recorded");
      },
      { url },
      { timeout: 15_000 },
    );
    assert.deepEqual(r, Array.from({ length: 500 }, (_, i) => [i]));
  });

  test("polling only: a disconnect() made while a POST is in flight reaches the server at once", async (page) => {
    const url = await pollingOnly(server);
    const r = await page.run(
      async ({ url }) => {
        // Who is in the room, as the server sees it (joining again answers with the members).
        const room = "leaving-" + Math.random();
        const watcher = io(url, { forceNew: true, transports: ["polling"] });
        await connected(watcher);
        const members = async () => (await watcher.emitWithAck("rtio:join", room, null)).members.map((m) => m.id);
        const leaving = io(url, { forceNew: true, transports: ["polling"] });
        await connected(leaving);
        await leaving.emitWithAck("rtio:join", room, null);
        const id = leaving.id;
        // The first emit goes at once; the rest, and the DISCONNECT, wait for it, and the
        // connection, no longer used, is freed meanwhile: they must still be written.
        for (let i = 0; i < 3; i++) leaving.emit("echo", i);
        leaving.disconnect();
        const t0 = Date.now();
        while ((await members()).includes(id) && Date.now() - t0 < 3000) await sleep(20);
        const after = Date.now() - t0;
        watcher.disconnect();
        return { after };
      },
      { url },
    );
    // The heartbeat alone would take pingInterval + pingTimeout (45 s).
    assert.ok(r.after < 3000, `the server saw the socket leave after ${r.after} ms`);
  });

  test("polling only: a second namespace and a server disconnect", async (page) => {
    const url = await pollingOnly(server);
    const r = await page.run(
      async ({ url }) => {
        const root = io(url, { transports: ["polling"] });
        const second = io(url + "/second", { transports: ["polling"] });
        await Promise.all([connected(root), connected(second)]);
        const who = await second.emitWithAck("whoami");
        const gone = waitFor(root, "disconnect");
        root.emit("kick");
        const [reason] = await gone;
        const still = await second.emitWithAck("echo", "still");
        return { id: who.id == second.id, reason, still, sameEngine: root.io === second.io };
      },
      { url },
    );
    assert.deepEqual(r, { id: true, reason: "io server disconnect", still: "still", sameEngine: true });
  });

  test("closeOnBeforeunload: on beforeunload the server learns at once that the client left", async (page) => {
    const url = await pollingOnly(server);
    const r = await page.run(
      async ({ url }) => {
        // Who is in the room, as the server sees it (joining again answers with the members).
        const room = "unload-" + Math.random();
        const watcher = io(url, { forceNew: true, transports: ["polling"] });
        await connected(watcher);
        const members = async () => (await watcher.emitWithAck("rtio:join", room, null)).members.map((m) => m.id);
        const join = async (opts) => {
          const s = io(url, { forceNew: true, transports: ["polling"], ...opts });
          await connected(s);
          await s.emitWithAck("rtio:join", room, null);
          return s;
        };
        const plain = await join({});
        const closing = await join({ closeOnBeforeunload: true });
        const ids = { closing: closing.id, plain: plain.id };
        const before = await members();
        const t0 = Date.now();
        dispatchEvent(new Event("beforeunload"));
        let now = before;
        while (now.includes(ids.closing) && Date.now() - t0 < 3000) now = await members();
        const after = Date.now() - t0;
        const left = before.filter((id) => !now.includes(id));
        return { left, closing: ids.closing, plainStays: now.includes(ids.plain), after };
      },
      { url },
    );
    assert.deepEqual(r.left, [r.closing], "the socket with closeOnBeforeunload left");
    assert.ok(r.plainStays, "the one without it stayed");
    // The heartbeat would take pingInterval + pingTimeout (45 s).
    assert.ok(r.after < 3000, `left ${r.after} ms after beforeunload`);
  });

  test("a server that is down: connect_error is an xhr poll error", async (page) => {
    const s = await ownServer(server);
    await s.kill();
    const r = await page.run(
      async ({ url }) => {
        const socket = io(url, { transports: ["polling"], reconnection: false });
        const err = await new Promise((resolve) => socket.on("connect_error", resolve));
        return { message: err.message, type: err.type, connected: socket.connected };
      },
      { url: s.url },
    );
    assert.deepEqual(r, { message: "xhr poll error", type: "TransportError", connected: false });
  });

  test("default options start on polling and upgrade to WebSocket", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      const first = new Promise((resolve) => socket.io.on("open", () => resolve(socket.io.engine.transport.name)));
      const upgraded = new Promise((resolve) => socket.io.engine.on("upgrade", (t) => resolve(t.name)));
      await connected(socket);
      socket.emit("record", "before");
      const upgrade = await upgraded;
      socket.emit("record", "after");
      const recorded = await socket.emitWithAck("recorded");
      return { first: await first, upgrade, now: socket.io.engine.transport.name, recorded, websockets: __ws.count };
    });
    assert.deepEqual(r, {
      first: "polling",
      upgrade: "websocket",
      now: "websocket",
      recorded: [["before"], ["after"]],
      websockets: 1,
    });
  });

  test("WebSocket only: no HTTP request is made; upgrade: false stays on polling", async (page) => {
    const r = await page.run(async ({ url }) => {
      const requests = () => performance.getEntriesByType("resource").filter((e) => e.name.includes("/socket.io/")).length;
      const ws = io(url, { forceNew: true, transports: ["websocket"] });
      await connected(ws);
      await ws.emitWithAck("echo", 1);
      const wsOnly = { transport: ws.io.engine.transport.name, requests: requests(), websockets: __ws.count };
      ws.close();
      const polling = io(url, { forceNew: true, upgrade: false });
      await connected(polling);
      await sleep(300);
      await polling.emitWithAck("echo", 1);
      const noUpgrade = { transport: polling.io.engine.transport.name, websockets: __ws.count - wsOnly.websockets };
      polling.close();
      return { wsOnly, noUpgrade };
    });
    assert.deepEqual(r.wsOnly, { transport: "websocket", requests: 0, websockets: 1 });
    assert.deepEqual(r.noUpgrade, { transport: "polling", websockets: 0 });
  });

  test("rememberUpgrade: after an upgrade, the next connection starts on WebSocket; without it, on polling", async (page) => {
    const r = await page.run(async ({ url }) => {
      const firstTransport = async (rememberUpgrade) => {
        const s = io(url, { forceNew: true, rememberUpgrade, reconnectionDelay: 50, reconnectionDelayMax: 50 });
        await new Promise((resolve) => s.io.engine.on("upgrade", resolve));
        const reopened = new Promise((resolve) => s.io.on("open", () => resolve(s.io.engine.transport.name)));
        s.io.engine.close();
        const name = await reopened;
        s.close();
        return name;
      };
      return { remembered: await firstTransport(true), forgotten: await firstTransport(false) };
    });
    assert.deepEqual(r, { remembered: "websocket", forgotten: "polling" });
  });

  test("default options on a server without WebSocket stay on polling", async (page) => {
    const url = await pollingOnly(server);
    const r = await page.run(
      async ({ url }) => {
        const socket = io(url);
        await connected(socket);
        await sleep(300);
        const echoed = await socket.emitWithAck("echo", 1);
        return { transport: socket.io.engine.transport.name, echoed, websockets: __ws.count };
      },
      { url },
    );
    assert.deepEqual({ ...r, websockets: undefined }, { transport: "polling", echoed: 1, websockets: undefined });
    // Node socket.io offers no upgrade then; socketioxide still offers one, which fails.
    assert.equal(r.websockets, server == "node" ? 0 : 1, "WebSockets tried");
  });

  // A proxy in front of a server that serves both transports, made once per server.
  const proxies = {};
  const proxied = async (args = []) => {
    const key = args.join(" ");
    if (!proxies[key]) {
      const url = await startTestServer(server, args);
      proxies[key] = await startProxy({ target: new URL(url).host });
    }
    const p = proxies[key];
    p.restore();
    p.refuseWebSocket(false);
    p.delayWebSocket(0);
    return p;
  };
  after(() => Promise.all(Object.values(proxies).map((p) => p.close())));

  test("behind a proxy that refuses WebSocket, default options end on polling and work", async (page) => {
    const p = await proxied();
    p.refuseWebSocket();
    const r = await page.run(
      async ({ url }) => {
        const socket = io(url);
        const upgrades = [];
        socket.io.engine.on("upgrade", () => upgrades.push(1));
        await connected(socket);
        // The probe is refused; polling goes on.
        await until(() => __ws.count == 1, 3000, "the probe");
        await sleep(300);
        const echoed = await socket.emitWithAck("echo", "through");
        return { transport: socket.io.engine.transport.name, echoed, upgrades: upgrades.length, connected: socket.connected };
      },
      { url: p.url },
    );
    assert.deepEqual(r, { transport: "polling", echoed: "through", upgrades: 0, connected: true });
    assert.equal(p.stats().refusedWebSockets, 1);
  });

  test("tryAllTransports: a WebSocket-first client falls back to polling when the WebSocket is refused", async (page) => {
    const p = await proxied();
    p.refuseWebSocket();
    const r = await page.run(
      async ({ url }) => {
        const opts = { transports: ["websocket", "polling"], reconnection: false, timeout: 3000 };
        // Without it: the attempt fails.
        const plain = io(url, { ...opts, forceNew: true });
        const failed = await new Promise((resolve) => {
          plain.on("connect", () => resolve("connected"));
          plain.on("connect_error", (e) => resolve(e.message));
        });
        plain.close();
        const socket = io(url, { ...opts, forceNew: true, tryAllTransports: true });
        await connected(socket);
        const echoed = await socket.emitWithAck("echo", "fell back");
        return { failed, transport: socket.io.engine.transport.name, echoed };
      },
      { url: p.url },
    );
    assert.deepEqual(r, { failed: "websocket error", transport: "polling", echoed: "fell back" });
  });

  test("polling only: a blackholed link is found dead by the heartbeat, and comes back after restore", async (page) => {
    const p = await proxied(HEARTBEAT);
    await page.run(
      async ({ url }) => {
        const s = (window.s = io(url, { transports: ["polling"], reconnectionDelay: 100, reconnectionDelayMax: 400, timeout: 2000 }));
        await connected(s);
        s.on("disconnect", (reason) => (window.gone = { reason, at: Date.now() }));
        s.on("connect", () => (window.back = Date.now()));
        return s.emitWithAck("echo", "ok");
      },
      { url: p.url },
    );
    const t0 = Date.now();
    p.blackhole();
    const gone = await page.run(async () => {
      await until(() => window.gone, 3000, "disconnect");
      return window.gone;
    });
    assert.equal(gone.reason, "ping timeout");
    const took = gone.at - t0;
    assert.ok(took <= PING_INTERVAL + PING_TIMEOUT + MARGIN, `ping timeout after ${took} ms`);
    p.restore();
    const echoed = await page.run(async () => {
      await until(() => window.back, 5000, "connect");
      return window.s.emitWithAck("echo", "again");
    }, {}, { timeout: 8000 });
    assert.equal(echoed, "again");
  });

  test("upgrade under load: 10,000 events each way while the upgrade happens, each once, in order", async (page) => {
    const N = 10_000;
    // The upgrade is held back half a second, so that it happens while the events flow.
    const p = await proxied();
    p.delayWebSocket(500);
    const r = await page.run(
      async ({ url, N }) => {
        const socket = io(url);
        const got = [];
        let upgradedAt = -1;
        socket.io.engine.on("upgrade", () => (upgradedAt = got.length));
        socket.on("n", (i) => got.push(i));
        await connected(socket);
        const first = socket.io.engine.transport.name;
        // Every emit-back comes back as an event: 10,000 each way, 100 every 10 ms.
        let i = 0;
        const timer = setInterval(() => {
          for (let k = 0; k < 100 && i < N; k++) socket.emit("emit-back", "n", i++);
          if (i >= N) clearInterval(timer);
        }, 10);
        await until(() => got.length >= N, 25_000, "every event back");
        await sleep(200);
        const inOrder = got.every((v, i) => v === i);
        return { first, upgradedAt, count: got.length, inOrder, now: socket.io.engine.transport.name };
      },
      { url: p.url, N },
      { timeout: 30_000 },
    );
    assert.equal(r.first, "polling");
    assert.equal(r.now, "websocket");
    assert.equal(r.count, N, "each event once");
    assert.ok(r.inOrder, "in order");
    assert.ok(r.upgradedAt >= 0 && r.upgradedAt < N, `the upgrade happened while events flowed (at ${r.upgradedAt})`);
  }, { timeout: 40_000 });
});

suite(
  "polling headers and cookies",
  ({ test, server }) => {
    test("extraHeaders, and a cookie the server set, reach the server on polling requests (withCredentials, cross-origin)", async (page) => {
      const url = await pollingOnly(server);
      const r = await page.run(
        async ({ url }) => {
          const ask = async (opts) => {
            const s = io(url, { forceNew: true, transports: ["polling"], ...opts });
            await connected(s);
            await s.emitWithAck("echo", 1);
            const seen = await s.emitWithAck("last-request");
            s.disconnect();
            return seen;
          };
          const credentials = await ask({ withCredentials: true, extraHeaders: { "x-rtio-test": "hello" }, query: { "set-cookie": "1" } });
          // The cookie is kept by the browser, but a cross-origin request without
          // withCredentials does not carry it.
          const without = await ask({});
          const again = await ask({ withCredentials: true });
          return { credentials, without, again, crossOrigin: new URL(url).origin != location.origin };
        },
        { url },
      );
      assert.ok(r.crossOrigin, "the page and the server are on different origins");
      assert.deepEqual(r.credentials, { header: "hello", cookie: "rtio-test=from-server" });
      assert.deepEqual(r.without, { header: null, cookie: null });
      assert.deepEqual(r.again, { header: null, cookie: "rtio-test=from-server" });
    });
  },
  { servers: ["node"] },
);
