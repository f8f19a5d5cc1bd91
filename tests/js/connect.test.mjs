import assert from "node:assert/strict";
import { suite } from "./harness.mjs";

suite("connect", ({ test }) => {
  test("connects; the server sees the auth payload and the same id", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url, { auth: { token: "t1" } });
      const before = {
        connected: socket.connected,
        disconnected: socket.disconnected,
        id: socket.id ?? null,
      };
      await connected(socket);
      const who = await socket.emitWithAck("whoami");
      return {
        before,
        after: { connected: socket.connected, disconnected: socket.disconnected },
        id: socket.id,
        who,
      };
    });
    assert.deepEqual(r.before, { connected: false, disconnected: true, id: null },
      "state right after io(), before the connection is up");
    assert.deepEqual(r.after, { connected: true, disconnected: false });
    assert.equal(typeof r.id, "string");
    assert.ok(r.id.length > 0, "socket.id is a non-empty string");
    assert.equal(r.who.id, r.id, "the server's socket id equals socket.id");
    assert.deepEqual(r.who.auth, { token: "t1" }, "the server sees the auth payload");
  });

  test("without auth the server sees null", async (page) => {
    const who = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      return socket.emitWithAck("whoami");
    });
    assert.equal(who.auth, null);
  });

  test("connect fires exactly once", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      let connects = 0;
      let connectErrors = 0;
      socket.on("connect", () => connects++);
      socket.on("connect_error", () => connectErrors++);
      await connected(socket);
      await sleep(700);
      return { connects, connectErrors, connected: socket.connected };
    });
    assert.equal(r.connects, 1, "number of connect events");
    assert.equal(r.connectErrors, 0, "number of connect_error events");
    assert.equal(r.connected, true);
  });

  test("the connect listener sees connected = true and the id", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      const seen = await new Promise((resolve) => {
        socket.on("connect", () => resolve({ connected: socket.connected, id: socket.id ?? null }));
      });
      const who = await socket.emitWithAck("whoami");
      return { seen, whoId: who.id };
    });
    assert.equal(r.seen.connected, true);
    assert.equal(r.seen.id, r.whoId);
  });

  test("an auth function runs at every connect and reconnect (promise, return value, callback); a rejected one stops with connect_error", async (page) => {
    const r = await page.run(async ({ url }) => {
      // Keeps the page's WebSockets, to close the current one as a lost network would.
      const all = [];
      const Native = WebSocket;
      window.WebSocket = class extends Native {
        constructor(...a) {
          super(...a);
          all.push(this);
        }
      };
      let n = 0;
      const s = io(url, {
        forceNew: true,
        // Over WebSocket only: the page closes it as a lost network would.
        transports: ["websocket"],
        reconnectionDelay: 50,
        reconnectionDelayMax: 100,
        auth: async () => {
          await sleep(10);
          return { n: ++n };
        },
      });
      await connected(s);
      const seen = [(await s.emitWithAck("whoami")).auth];
      const lose = async () => {
        all.at(-1).close();
        await waitFor(s, "disconnect");
      };
      await lose();
      await waitFor(s, "connect");
      seen.push((await s.emitWithAck("whoami")).auth);
      s.auth = () => ({ n: "returned" });
      await lose();
      await waitFor(s, "connect");
      seen.push((await s.emitWithAck("whoami")).auth);
      s.auth = (cb) => cb({ n: "callback" });
      await lose();
      await waitFor(s, "connect");
      seen.push((await s.emitWithAck("whoami")).auth);
      s.auth = () => Promise.reject(new Error("no token"));
      await lose();
      const [err] = await waitFor(s, "connect_error");
      const sockets = all.length;
      await sleep(500);
      return { seen, err: err.message, active: s.active, connected: s.connected, newSockets: all.length - sockets };
    });
    assert.deepEqual(r.seen, [{ n: 1 }, { n: 2 }, { n: "returned" }, { n: "callback" }]);
    assert.deepEqual(
      { err: r.err, active: r.active, connected: r.connected, newSockets: r.newSockets },
      { err: "no token", active: false, connected: false, newSockets: 0 },
    );
  });
});
