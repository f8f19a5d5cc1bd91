import assert from "node:assert/strict";
import { suite } from "./harness.mjs";

// Events from one socket arrive in order, so a final "marker" event emitted back by the server
// proves that every earlier emit-back has been delivered (or dropped) by the time it arrives.

suite("events", ({ test }) => {
  test("emit reaches the server handler in order (record / recorded)", async (page) => {
    const rec = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      socket.emit("record", 1, "two", { three: 3, list: [true, null] });
      socket.emit("record");
      socket.emit("record", [4]);
      return socket.emitWithAck("recorded");
    });
    assert.deepEqual(rec, [[1, "two", { three: 3, list: [true, null] }], [], [[4]]]);
  });

  test("emits before connect are buffered and sent once connected", async (page) => {
    const rec = await page.run(async ({ url }) => {
      const socket = io(url);
      socket.emit("record", "early");
      await connected(socket);
      return socket.emitWithAck("recorded");
    });
    assert.deepEqual(rec, [["early"]]);
  });

  test("a server emit reaches the on() listener with its args", async (page) => {
    const got = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      const p = waitFor(socket, "greeting");
      socket.emit("emit-back", "greeting", "hello", { n: 1 }, [2, 3]);
      return p;
    });
    assert.deepEqual(got, ["hello", { n: 1 }, [2, 3]]);
  });

  test("onAny sees event names and args; offAny(fn) and offAny() stop it", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      const a = [];
      const b = [];
      const onA = (event, ...args) => a.push([event, ...args]);
      const onB = (event, ...args) => b.push([event, ...args]);
      socket.onAny(onA);
      socket.onAny(onB);
      const marker = async (name) => {
        const p = waitFor(socket, name);
        socket.emit("emit-back", name);
        await p;
      };
      socket.emit("emit-back", "ev1", 1, "x");
      await marker("m1");
      socket.offAny(onA);
      socket.emit("emit-back", "ev2", 2);
      await marker("m2");
      socket.offAny();
      socket.emit("emit-back", "ev3", 3);
      await marker("m3");
      return { a, b };
    });
    assert.deepEqual(r.a, [["ev1", 1, "x"], ["m1"]], "listener removed with offAny(fn)");
    assert.deepEqual(r.b, [["ev1", 1, "x"], ["m1"], ["ev2", 2], ["m2"]], "listener removed with offAny()");
  });

  test("off(event, fn) stops delivery to that listener only", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      const counts = { h1: 0, h2: 0 };
      const h1 = () => counts.h1++;
      const h2 = () => counts.h2++;
      socket.on("tick", h1);
      socket.on("tick", h2);
      const marker = async (name) => {
        const p = waitFor(socket, name);
        socket.emit("emit-back", name);
        await p;
      };
      socket.emit("emit-back", "tick");
      await marker("m1");
      const first = { ...counts };
      socket.off("tick", h1);
      socket.emit("emit-back", "tick");
      socket.emit("emit-back", "tick");
      await marker("m2");
      await sleep(200);
      return { first, after: { ...counts } };
    });
    assert.deepEqual(r.first, { h1: 1, h2: 1 });
    assert.deepEqual(r.after, { h1: 1, h2: 3 }, "h1 removed, h2 still subscribed");
  });

  test("once fires only once", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      const calls = [];
      socket.once("one", (...args) => calls.push(args));
      const p = waitFor(socket, "marker");
      socket.emit("emit-back", "one", "first");
      socket.emit("emit-back", "one", "second");
      socket.emit("emit-back", "marker");
      await p;
      await sleep(200);
      return calls;
    });
    assert.deepEqual(r, [["first"]]);
  });

  test("reserved events cannot be emitted", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      const results = {};
      for (const name of ["connect", "disconnect", "connect_error"]) {
        try {
          socket.emit(name, 1);
          results[name] = "did not throw";
        } catch (e) {
          results[name] = { isError: e instanceof Error, message: e.message };
        }
      }
      // the socket is still usable afterwards
      socket.emit("record", "after");
      const rec = await socket.emitWithAck("recorded");
      return { results, rec, connected: socket.connected };
    });
    for (const name of ["connect", "disconnect", "connect_error"]) {
      assert.deepEqual(r.results[name], { isError: true, message: `"${name}" is a reserved event name` },
        `emit("${name}")`);
    }
    assert.deepEqual(r.rec, [["after"]]);
    assert.equal(r.connected, true);
  });

  test("the other socket.io-client reserved names cannot be emitted either", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      const results = {};
      for (const name of ["disconnecting", "newListener", "removeListener"]) {
        try {
          socket.emit(name);
          results[name] = "did not throw";
        } catch (e) {
          results[name] = { isError: e instanceof Error, message: e.message };
        }
      }
      return results;
    });
    for (const name of ["disconnecting", "newListener", "removeListener"]) {
      assert.deepEqual(r[name], { isError: true, message: `"${name}" is a reserved event name` },
        `emit("${name}")`);
    }
  });
});
