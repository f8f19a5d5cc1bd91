import assert from "node:assert/strict";
import { suite } from "./harness.mjs";

suite("namespaces", ({ test, server }) => {
  test("a namespace rejected by middleware gives connect_error and no connect", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url + "/forbidden");
      let connects = 0;
      let errors = 0;
      socket.on("connect", () => connects++);
      socket.on("connect_error", () => errors++);
      const [err] = await waitFor(socket, "connect_error");
      await sleep(700);
      return {
        isError: err instanceof Error,
        message: err && err.message,
        connected: socket.connected,
        connects,
        errors,
        active: socket.active,
      };
    });
    assert.equal(r.isError, true, "connect_error carries an Error");
    assert.equal(r.message, "forbidden namespace");
    assert.equal(r.connected, false);
    assert.equal(r.connects, 0, "no connect event");
    assert.equal(r.errors, 1, "no retry after the server refused the namespace");
    assert.equal(r.active, false, "socket.active is false after a middleware refusal");
  });

  test("/ and /second share one WebSocket and both work", async (page) => {
    const r = await page.run(async ({ url }) => {
      const a = io(url);
      const b = io(url + "/second");
      await Promise.all([connected(a), connected(b)]);
      // a polling-first client upgrades to WebSocket after connecting: wait for it
      await until(() => __ws.count >= 1, 3000, "a WebSocket");
      const [wa, wb] = await Promise.all([a.emitWithAck("whoami"), b.emitWithAck("whoami")]);
      const echo = await b.emitWithAck("echo", "on second");
      await sleep(300);
      return {
        count: __ws.count,
        urls: __ws.urls,
        sameManager: a.io === b.io,
        a: { id: a.id, who: wa },
        b: { id: b.id, who: wb },
        echo,
      };
    });
    assert.equal(r.count, 1, `WebSockets constructed: ${JSON.stringify(r.urls)}`);
    assert.equal(new URL(r.urls[0]).host, new URL(page.url).host, "the WebSocket goes to the target server");
    assert.equal(r.sameManager, true, "both sockets share one Manager (socket.io)");
    assert.equal(r.a.who.id, r.a.id);
    assert.equal(r.b.who.id, r.b.id);
    // socket.io gives each namespace its own socket id; socketioxide reuses the Engine.IO id for
    // every namespace (socketioxide issue #117). Either way socket.id must be the id from that
    // namespace's CONNECT packet, which the whoami checks above verify.
    if (server === "node") assert.notEqual(r.a.id, r.b.id, "each namespace has its own socket id");
    assert.equal(r.echo, "on second");
  });

  test("a namespace whose packet headers pass 64 characters works both ways", async (page) => {
    const nsp = "/a-namespace-with-a-name-long-enough-to-push-the-packet-header-past-64-characters";
    const r = await page.run(
      async ({ url, nsp }) => {
        const s = io(url + nsp);
        await connected(s);
        const text = "é😀".repeat(40);
        const who = await s.emitWithAck("whoami");
        const echo = await s.emitWithAck("echo", { text }, [1, 2, 3]);
        return { id: s.id, who, echo, text };
      },
      { nsp },
    );
    assert.equal(r.who.id, r.id);
    assert.deepEqual(r.echo, { text: r.text });
  });

  test("forceNew opens a second WebSocket", async (page) => {
    const r = await page.run(async ({ url }) => {
      const a = io(url);
      const b = io(url, { forceNew: true });
      await Promise.all([connected(a), connected(b)]);
      await until(() => __ws.count >= 2, 3000, "two WebSockets");
      const [wa, wb] = await Promise.all([a.emitWithAck("whoami"), b.emitWithAck("whoami")]);
      await sleep(300);
      return {
        count: __ws.count,
        sameManager: a.io === b.io,
        a: { id: a.id, who: wa },
        b: { id: b.id, who: wb },
      };
    });
    assert.equal(r.count, 2, "WebSockets constructed");
    assert.equal(r.sameManager, false);
    assert.equal(r.a.who.id, r.a.id);
    assert.equal(r.b.who.id, r.b.id);
    assert.notEqual(r.a.id, r.b.id);
  });
});
