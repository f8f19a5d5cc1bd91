import assert from "node:assert/strict";
import { startTestServer, suite } from "./harness.mjs";

// HTTP long-polling, and the upgrade to WebSocket. Written against socket.io-client's
// behaviour: these tests pass with RTIO_CLIENT set to the reference client too.

// A server that serves long-polling only, as behind a proxy that refuses WebSocket upgrades.
const pollingOnly = (server) => startTestServer(server, ["--transports", "polling"]);

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
});
