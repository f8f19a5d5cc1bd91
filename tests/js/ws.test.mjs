// Browser tests of the plain-WebSocket mode (`rtio/ws`, MODES.md) in headless Chromium,
// against the bare `ws` echo-style test server (tests/servers/ws/) and examples/server
// (`rtio-server --test-controls`, its /ws endpoint).

import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { RUST_BIN } from "./demo-pages.mjs";
import { get, modesPage, post, startNodeServer, startRustModes } from "./modes-pages.mjs";

const servers = [];
after(() => Promise.all(servers.map((s) => s.stop())));

async function withPage(s, body) {
  const p = await modesPage(s.url);
  try {
    return await body(p);
  } finally {
    await p.close();
  }
}

const fast = { reconnectionDelay: 100, reconnectionDelayMax: 400 };

describe("plain-WebSocket mode [bare ws server]", () => {
  let shared;
  const server = async () => (shared ||= await startNodeServer("ws").then((s) => (servers.push(s), s)));

  it("envelope events both ways, acks both ways", { timeout: 20_000 }, async () => {
    const s = await server();
    const r = await withPage(s, (p) =>
      p.run(async ({ opts }) => {
        const c = ws("/ws", opts);
        await next(c, "connect");
        const echoed = next(c, "echo");
        c.emit("echo", { a: 1 }, "two");
        const echo = await echoed;
        const sum = await c.emitWithAck("add", 1, 2, 39);
        const cb = await new Promise((r) => c.emit("echo", "x", [1], (...a) => r(a)));
        // The server asks for an ack; the listener's last argument answers it.
        c.on("question", (q, ack) => ack(q + "!", 42));
        const answer = next(c, "answer");
        c.emit("ask", "question", "why");
        const answered = await answer;
        const timedOut = await c.timeout(150).emitWithAck("never").catch((e) => e.message);
        c.disconnect();
        return { echo, sum, cb, answered, timedOut };
      }, { opts: fast }),
    );
    assert.deepEqual(r.echo, [{ a: 1 }, "two"]);
    assert.equal(r.sum, 42);
    assert.deepEqual(r.cb, ["x", [1]]);
    assert.deepEqual(r.answered, ["why!", 42]);
    assert.equal(r.timedOut, "operation has timed out");
  });

  it("raw text and binary frames pass through as `message`", { timeout: 20_000 }, async () => {
    const s = await server();
    const r = await withPage(s, (p) =>
      p.run(async ({ opts }) => {
        const c = ws("/ws", opts);
        const got = [];
        c.on("message", (d) => got.push(typeof d == "string" ? d : [...new Uint8Array(d)]));
        await next(c, "connect");
        c.emit("raw", "not an envelope");
        c.emit("raw-binary", [1, 2, 255]);
        c.send("plain text {");
        c.send(new Uint8Array([9, 8]).buffer);
        c.send('{"json":"but no envelope"}');
        await until(() => got.length == 5, 3000, "five messages");
        c.disconnect();
        return got;
      }, { opts: fast }),
    );
    assert.deepEqual(r, ["not an envelope", [1, 2, 255], "plain text {", [9, 8], '{"json":"but no envelope"}']);
  });

  it("envelope: false passes every frame through", { timeout: 20_000 }, async () => {
    const s = await server();
    const r = await withPage(s, (p) =>
      p.run(async () => {
        const c = ws("/ws", { envelope: false, pingInterval: 0 });
        const got = [];
        c.on("message", (d) => got.push(d));
        await next(c, "connect");
        c.send('["echo",1]');
        await until(() => got.length == 1, 3000, "a message");
        c.disconnect();
        return got;
      }),
    );
    // The server answered the envelope it was sent; the client did not interpret it.
    assert.deepEqual(r, ['["echo",1]']);
  });

  it("the heartbeat detects a blackholed connection and reconnects", { timeout: 20_000 }, async () => {
    const s = await server();
    await withPage(s, async (p) => {
      await p.run(async () => {
        window.c = ws("/ws", { pingInterval: 300, pingTimeout: 500, reconnectionDelay: 100, reconnectionDelayMax: 200 });
        window.reasons = [];
        c.on("disconnect", (r) => reasons.push(r));
        c.on("pong", () => (window.pongs = (window.pongs || 0) + 1));
        await next(c, "connect");
        await until(() => window.pongs >= 2, 3000, "two pongs");
      });
      await post(s.url + "/control/stall", { ms: 5000 });
      const t0 = Date.now();
      const r = await p.run(async () => {
        await next(c, "disconnect", 3000);
        await next(c, "connect", 3000);
        const sum = await c.emitWithAck("add", 2, 3);
        const seen = [...reasons];
        c.disconnect();
        return { reasons: seen, sum };
      });
      assert.deepEqual(r.reasons, ["ping timeout"]);
      assert.equal(r.sum, 5);
      assert.ok(Date.now() - t0 < 3000, "detected within interval + timeout and a backoff");
    });
  });

  it("reconnects after a drop and a refused upgrade; pending acks fail; held emits are sent", { timeout: 20_000 }, async () => {
    const s = await server();
    await withPage(s, async (p) => {
      await p.run(async ({ opts }) => {
        window.c = ws("/ws?tag=held", opts);
        window.errors = [];
        c.on("connect_error", (e) => errors.push(e.message));
        await next(c, "connect");
        window.pending = c.emitWithAck("never").catch((e) => e.message);
      }, { opts: { ...fast, reconnectionDelay: 500, reconnectionDelayMax: 500, randomizationFactor: 0 } });
      await post(s.url + "/control/reject", { status: 503, count: 1 });
      await post(s.url + "/control/drop");
      const r = await p.run(async () => {
        await until(() => !c.connected, 3000, "disconnected");
        const held = [c.emitWithAck("echo", "held", 1), c.emitWithAck("echo", "held", 2)];
        c.emit("record-me", "held", 3);
        c.volatile.emit("record-me", "volatile");
        await next(c, "connect", 5000);
        return { pending: await pending, held: await Promise.all(held), errors };
      });
      assert.equal(r.pending, "disconnected");
      // emitWithAck resolves with the ack's first argument.
      assert.deepEqual(r.held, ["held", "held"]);
      assert.equal(r.errors.length, 1, "the refused upgrade");
      const clients = await get(s.url + "/control/clients");
      const me = clients.find((c) => c.query?.tag == "held");
      const received = await get(s.url + "/control/received?client=" + me.id);
      const frames = received.map((f) => JSON.parse(f.data)).filter((f) => Array.isArray(f) && (f.includes("held") || f.includes("volatile")));
      // In order, the volatile one dropped; the two with acks carry an ack id first.
      assert.deepEqual(frames.map((f) => f.slice(-2)), [["held", 1], ["held", 2], ["held", 3]]);
      assert.ok(Number.isInteger(frames[0][0]) && Number.isInteger(frames[1][0]));
    });
  });

  it("rooms go in the query; join reconnects with the new set", { timeout: 20_000 }, async () => {
    const s = await server();
    await withPage(s, async (p) => {
      await p.run(async ({ opts }) => {
        window.c = ws("/ws?tag=rooms", { ...opts, rooms: ["a"] });
        await next(c, "connect");
        await c.join("b");
      }, { opts: fast });
      const clients = await get(s.url + "/control/clients");
      const me = clients.filter((c) => c.query?.tag == "rooms");
      assert.equal(me.length, 1);
      assert.deepEqual(me[0].rooms, ["a", "b"]);
    });
  });
});

describe("plain-WebSocket mode [examples/server]", { skip: !existsSync(RUST_BIN) && `no ${RUST_BIN}` }, () => {
  let shared;
  const server = async () => (shared ||= await startRustModes().then((s) => (servers.push(s), s)));

  it("envelope acks, ping/pong, the server's hello", { timeout: 20_000 }, async () => {
    const s = await server();
    const r = await withPage(s, (p) =>
      p.run(async ({ opts }) => {
        const c = ws("/ws", { ...opts, pingInterval: 200 });
        await next(c, "connect");
        await until(() => c.id, 3000, "an id");
        const echo = await c.emitWithAck("echo", 1, { b: 2 });
        const fail = await c.emitWithAck("fail");
        await next(c, "pong", 2000);
        const id = c.id;
        c.disconnect();
        return { echo, fail, id };
      }, { opts: fast }),
    );
    assert.equal(r.echo, 1);
    assert.equal(r.fail.ok, false);
    assert.equal(typeof r.id, "string");
  });

  it("the heartbeat detects a stall; a drop is reconnected", { timeout: 20_000 }, async () => {
    const s = await server();
    await withPage(s, async (p) => {
      await p.run(async () => {
        window.c = ws("/ws", { pingInterval: 300, pingTimeout: 500, reconnectionDelay: 100, reconnectionDelayMax: 200 });
        window.reasons = [];
        c.on("disconnect", (r) => reasons.push(r));
        await next(c, "connect");
      });
      await post(s.url + "/ws/control/stall", { ms: 4000 });
      await p.run(async () => {
        await next(c, "disconnect", 3000);
        await next(c, "connect", 3000);
      });
      await post(s.url + "/ws/control/drop");
      const r = await p.run(async () => {
        await next(c, "connect", 3000);
        const seen = [...reasons];
        c.disconnect();
        return seen;
      });
      assert.equal(r[0], "ping timeout");
      assert.equal(r.length, 2);
    });
  });
});
