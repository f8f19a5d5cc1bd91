import assert from "node:assert/strict";
import { suite } from "./harness.mjs";

suite("acks", ({ test }) => {
  test("emit with a trailing callback gets the server's ack args", async (page) => {
    const res = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      return new Promise((resolve) => {
        socket.emit("echo", 1, "a", { b: [true, null] }, (...args) => resolve(args));
      });
    });
    assert.deepEqual(res, [1, "a", { b: [true, null] }]);
  });

  test("emitWithAck resolves with the first ack arg", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      const one = await socket.emitWithAck("echo", { x: 1 });
      // socket.io-client resolves with the first argument only
      const firstOfMany = await socket.emitWithAck("echo", "first", "second");
      const none = await socket.emitWithAck("echo");
      const withTimeout = await socket.timeout(2000).emitWithAck("echo", 7);
      return { one, firstOfMany, none: none === undefined ? "undefined" : none, withTimeout };
    });
    assert.deepEqual(r, { one: { x: 1 }, firstOfMany: "first", none: "undefined", withTimeout: 7 });
  });

  test("timeout(ms).emit callback gets a null error then the ack args", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      return new Promise((resolve) => {
        socket.timeout(2000).emit("echo", "x", 2, (err, ...res) => {
          resolve({ errIsNull: err === null, err: err ? String(err) : err ?? "undefined", res });
        });
      });
    });
    assert.equal(r.errIsNull, true, `error argument should be null, got ${r.err}`);
    assert.deepEqual(r.res, ["x", 2]);
  });

  test("the client acks a server emit (ask / answer)", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      const seen = [];
      socket.on("question", (a, b, cb) => {
        seen.push([a, b, typeof cb]);
        cb("reply", a + b, { ok: true });
      });
      const answer = waitFor(socket, "answer");
      socket.emit("ask", "question", 2, 3);
      return { seen, answer: await answer };
    });
    assert.deepEqual(r.seen, [[2, 3, "function"]], "listener gets the args and a trailing callback");
    assert.deepEqual(r.answer, ["reply", 5, { ok: true }]);
  });

  test("a missing ack times out with socket.timeout(ms)", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      let t0 = performance.now();
      let e1;
      try {
        await socket.timeout(300).emitWithAck("nobody-handles-this", 1);
      } catch (e) {
        e1 = e;
      }
      const elapsed1 = performance.now() - t0;
      t0 = performance.now();
      const cb = await new Promise((resolve) => {
        socket.timeout(300).emit("nobody-handles-this", (err, ...rest) => {
          resolve({ isError: err instanceof Error, message: err && err.message, rest: rest.length });
        });
      });
      const elapsed2 = performance.now() - t0;
      return {
        promise: { isError: e1 instanceof Error, message: e1 && e1.message },
        elapsed1,
        cb,
        elapsed2,
        connected: socket.connected,
      };
    });
    assert.deepEqual(r.promise, { isError: true, message: "operation has timed out" });
    assert.ok(r.elapsed1 >= 280 && r.elapsed1 < 2500, `rejected after ${r.elapsed1} ms`);
    assert.deepEqual(r.cb, { isError: true, message: "operation has timed out", rest: 0 });
    assert.ok(r.elapsed2 >= 280 && r.elapsed2 < 2500, `callback called after ${r.elapsed2} ms`);
    assert.equal(r.connected, true, "a missed ack does not disconnect");
  });

  test("a missing ack times out with the ackTimeout option", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url, { ackTimeout: 300 });
      await connected(socket);
      const t0 = performance.now();
      let e1;
      try {
        await socket.emitWithAck("nobody-handles-this");
      } catch (e) {
        e1 = e;
      }
      const elapsed = performance.now() - t0;
      // an ack that does come still resolves normally
      const ok = await socket.emitWithAck("echo", "fine");
      return { isError: e1 instanceof Error, message: e1 && e1.message, elapsed, ok };
    });
    assert.equal(r.isError, true);
    assert.equal(r.message, "operation has timed out");
    assert.ok(r.elapsed >= 280 && r.elapsed < 2500, `rejected after ${r.elapsed} ms`);
    assert.equal(r.ok, "fine");
  });
});
