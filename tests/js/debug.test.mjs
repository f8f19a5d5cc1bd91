import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { suite } from "./harness.mjs";
import { modesPage, startNodeServer } from "./modes-pages.mjs";

// The debug switch: `localStorage.debug = "rtio:*"` (socket.io's convention) or the `debug`
// option log frames and state changes through console.debug; nothing is logged otherwise.

suite("debug", ({ test, server }) => {
  test("off by default; localStorage.debug or { debug: true } log frames and states; { debug: false } wins", async (page) => {
    const r = await page.run(async ({ url }) => {
      const logs = [];
      const original = console.debug;
      console.debug = (...args) => logs.push(args.map((a) => (typeof a == "string" ? a : JSON.stringify(a))));
      // One connection with an ack and a server event, then a clean close; returns what was logged.
      const session = async (opts, n) => {
        logs.length = 0;
        const socket = io(url, { forceNew: true, ...opts });
        await connected(socket);
        await socket.emitWithAck("echo", n);
        const got = waitFor(socket, "pong");
        socket.emit("emit-back", "pong", n);
        await got;
        socket.disconnect();
        await sleep(50);
        return logs.slice();
      };
      try {
        localStorage.removeItem("debug");
        const off = await session({}, 1);
        localStorage.debug = "socket.io-client:*";
        const other = await session({}, 2);
        localStorage.debug = "rtio:*";
        const storage = await session({}, 3);
        const forcedOff = await session({ debug: false }, 4);
        localStorage.debug = "engine,*";
        const star = await session({}, 5);
        localStorage.removeItem("debug");
        const option = await session({ debug: true }, 6);
        return { off, other, storage, forcedOff, star, option };
      } finally {
        console.debug = original;
        localStorage.removeItem("debug");
      }
    });
    assert.deepEqual(r.off, [], "nothing logged by default");
    assert.deepEqual(r.other, [], "another library's debug namespace does not turn rtio on");
    assert.deepEqual(r.forcedOff, [], "debug: false wins over localStorage");
    for (const [what, logs, n] of [["localStorage", r.storage, 3], ["*", r.star, 5], ["option", r.option, 6]]) {
      const lines = logs.map((l) => l.join(" "));
      const has = (re, why) => assert.ok(lines.some((l) => re.test(l)), `${what}: ${why}; logged:\n${lines.join("\n")}`);
      assert.ok(logs.every((l) => l[0] === "rtio"), `${what}: every line starts with "rtio"`);
      has(/^rtio receive 0\{"sid"/, "the Engine.IO handshake frame received");
      has(/^rtio open \S+/, "the engine opening");
      has(/^rtio send 40/, "the CONNECT sent");
      has(/^rtio connect \/ \S+/, "the namespace connecting, with its id");
      has(new RegExp(`^rtio send 42\\d+\\["echo",${n}\\]`), "the event with an ack id sent");
      has(new RegExp(`^rtio receive 43\\d+\\[${n}\\]`), "the ack received");
      has(new RegExp(`^rtio receive 42\\["pong",${n}\\]`), "the server's event received");
      has(/^rtio send 41/, "the DISCONNECT sent");
    }
  });

  test("socket.io-client options without effect here are named once in the debug log, and so are dropped packets", async (page) => {
    const r = await page.run(async ({ url, node }) => {
      const logs = [];
      const original = console.debug;
      console.debug = (...args) => logs.push(args.join(" "));
      try {
        const opts = { forceNew: true, parser: {}, protocols: ["x"], autoUnref: true };
        const quiet = io(url, opts);
        await connected(quiet);
        quiet.disconnect();
        const none = logs.filter((l) => l.includes("no effect"));
        const loud = io(url, { ...opts, debug: true });
        const errors = [];
        loud.io.on("error", (err) => errors.push(err.message));
        await connected(loud);
        await loud.emitWithAck("echo", 1);
        // The Node test server's `raw` hook: a server event under a reserved name.
        if (node) loud.emit("raw", '2["disconnect","fake"]');
        await loud.emitWithAck("echo", 2);
        loud.disconnect();
        return {
          none,
          named: logs.filter((l) => l.includes("no effect")),
          dropped: logs.filter((l) => l.includes("dropped")),
          errors,
        };
      } finally {
        console.debug = original;
      }
    }, { node: server == "node" });
    assert.deepEqual(r.none, [], "nothing without the debug switch");
    if (server == "node") {
      assert.deepEqual(r.dropped, ['rtio dropped a malformed packet / invalid event name "disconnect"'], "a packet under a reserved name, in the debug log");
      assert.equal(r.errors.length, 1, "and as the Manager's error");
    }
    assert.deepEqual(r.named, [
      "rtio option parser has no effect",
      "rtio option protocols has no effect",
      "rtio option autoUnref has no effect",
    ]);
  });
});

// The same switch in the SSE and plain-WebSocket modes (`rtio/ws`, `rtio/sse`), against their
// bare test servers.
describe("debug [rtio/ws and rtio/sse]", () => {
  const servers = [];
  after(() => Promise.all(servers.map((s) => s.stop())));

  for (const kind of ["ws", "sse"]) {
    it(`${kind}: off by default; localStorage.debug logs what is sent and received and the states`, { timeout: 20_000 }, async () => {
      const s = await startNodeServer(kind, kind == "sse" ? ["--ping-interval", "100"] : []);
      servers.push(s);
      const p = await modesPage(s.url);
      try {
        const r = await p.run(async ({ kind }) => {
          const logs = [];
          const original = console.debug;
          console.debug = (...args) => logs.push(args.map((a) => (typeof a == "string" ? a : JSON.stringify(a))).join(" "));
          const session = async () => {
            logs.length = 0;
            const c = kind == "ws" ? ws("/ws") : sse("/events", { emitUrl: "/emit" });
            await next(c, "connect");
            await c.emitWithAck("echo", 5);
            // Something received: the ws server's echo of an event, the SSE server's heartbeat.
            if (kind == "ws") {
              const echoed = next(c, "echo");
              c.emit("echo", 6);
              await echoed;
            } else await next(c, "ping");
            c.disconnect();
            return logs.slice();
          };
          try {
            localStorage.removeItem("debug");
            const off = await session();
            localStorage.debug = "rtio:*";
            const on = await session();
            return { off, on };
          } finally {
            console.debug = original;
            localStorage.removeItem("debug");
          }
        }, { kind });
        assert.deepEqual(r.off, [], "nothing logged by default");
        const has = (re, why) => assert.ok(r.on.some((l) => re.test(l)), `${why}; logged:\n${r.on.join("\n")}`);
        has(/^rtio connect\b/, "the connection opening");
        has(/^rtio send echo 5$/, "the emit");
        has(kind == "ws" ? /^rtio receive echo 6$/ : /^rtio receive ping\b/, "an event received");
        has(/^rtio disconnect io client disconnect$/, "the disconnection");
      } finally {
        await p.close();
      }
    });
  }
});
