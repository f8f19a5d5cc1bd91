import assert from "node:assert/strict";
import { suite } from "./harness.mjs";

suite("disconnect", ({ test }) => {
  test("emits made after a disconnect are sent on the next connect, in order", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url, { forceNew: true });
      await connected(socket);
      socket.disconnect();
      // Let the unused connection be released before emitting again.
      await sleep(100);
      socket.emit("record", "after-1");
      socket.emit("record", { n: 2 });
      socket.connect();
      await connected(socket);
      const recorded = await socket.emitWithAck("recorded");
      socket.disconnect();
      return { recorded };
    });
    assert.deepEqual(r.recorded, [["after-1"], [{ n: 2 }]]);
  });

  test("emits made in the same task as disconnect() are written before the WebSocket closes", async (page) => {
    const r = await page.run(async ({ url }) => {
      // What the page's WebSockets are asked to do, in order.
      const calls = [];
      const { send, close } = WebSocket.prototype;
      WebSocket.prototype.send = function (data) {
        calls.push(String(data));
        return send.call(this, data);
      };
      WebSocket.prototype.close = function (...args) {
        calls.push("close()");
        return close.apply(this, args);
      };
      try {
        const socket = io(url, { forceNew: true, transports: ["websocket"] });
        await connected(socket);
        calls.length = 0;
        // One task: the emits, the DISCONNECT packet, and the Manager closing its connection.
        for (let i = 0; i < 5; i++) socket.emit("tally", "burst", i);
        socket.disconnect();
        await sleep(300);
        return calls;
      } finally {
        Object.assign(WebSocket.prototype, { send, close });
      }
    });
    const emits = [0, 1, 2, 3, 4].map((i) => `42["tally","burst",${i}]`);
    assert.deepEqual(r.slice(0, 7), [...emits, "41", "close()"]);
  });

  test("server-initiated disconnect (kick)", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      const events = [];
      socket.on("connect", () => events.push("connect"));
      socket.on("disconnect", (reason) => events.push("disconnect:" + reason));
      await connected(socket);
      const d = waitFor(socket, "disconnect");
      socket.emit("kick");
      const [reason] = await d;
      const state = {
        connected: socket.connected,
        disconnected: socket.disconnected,
        id: socket.id ?? null,
        active: socket.active,
      };
      // the client must not reconnect by itself after a server disconnect
      await sleep(700);
      const later = { connected: socket.connected, events: [...events] };
      socket.connect();
      await connected(socket);
      const who = await socket.emitWithAck("whoami");
      return { reason, state, later, reconnected: socket.connected, whoOk: who.id === socket.id };
    });
    assert.equal(r.reason, "io server disconnect");
    assert.deepEqual(r.state, { connected: false, disconnected: true, id: null, active: false });
    assert.deepEqual(r.later, { connected: false, events: ["connect", "disconnect:io server disconnect"] },
      "no automatic reconnection");
    assert.equal(r.reconnected, true, "connect() reconnects");
    assert.equal(r.whoOk, true);
  });

  test("client disconnect() then connect() again", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      const events = [];
      socket.on("connect", () => events.push("connect"));
      socket.on("disconnect", (reason) => events.push("disconnect:" + reason));
      await connected(socket);
      const firstId = socket.id;
      const d = waitFor(socket, "disconnect");
      socket.disconnect();
      const [reason] = await d;
      const state = { connected: socket.connected, disconnected: socket.disconnected, active: socket.active };
      await sleep(700);
      const later = { connected: socket.connected, events: [...events] };
      socket.connect();
      await connected(socket);
      const who = await socket.emitWithAck("whoami");
      await sleep(300);
      return {
        reason,
        state,
        later,
        reconnected: socket.connected,
        whoOk: who.id === socket.id,
        hadId: typeof firstId === "string",
        events,
      };
    });
    assert.equal(r.reason, "io client disconnect");
    assert.deepEqual(r.state, { connected: false, disconnected: true, active: false });
    assert.deepEqual(r.later, { connected: false, events: ["connect", "disconnect:io client disconnect"] },
      "stays disconnected");
    assert.equal(r.reconnected, true);
    assert.equal(r.whoOk, true);
    assert.equal(r.hadId, true);
    assert.deepEqual(r.events, ["connect", "disconnect:io client disconnect", "connect"]);
  });

  test("a pending ack is rejected when the socket disconnects", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      const pending = socket.emitWithAck("nobody-handles-this").then(
        () => ({ resolved: true }),
        (e) => ({ isError: e instanceof Error, message: e && e.message }),
      );
      await sleep(100);
      socket.disconnect();
      return pending;
    });
    assert.deepEqual(r, { isError: true, message: "socket has been disconnected" });
  });
});
