// One connection for every tab (`io(url, { shared: true })`, js/shared.js): several pages of one
// browser context share one Socket.IO connection, hosted by a SharedWorker, or, with
// SharedWorker removed from the pages, by the tab elected through the Web Locks API and reached
// over a BroadcastChannel. Both paths pass the same tests, against a socket.io 4.8 server started
// here, whose own count of connections is the measure.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Server } from "socket.io";
import { browser, serverUrl } from "./harness.mjs";
import { INIT_SCRIPT } from "./launch.mjs";
import { attachRooms } from "../../js/server.js";

const TEST_MS = 30_000;

let io;
let url;
/** What the server received: `hit` emits, by page. */
const hits = [];
/** How many times a tab answered the server's `question`. */
let answers = 0;
before(async () => {
  const http = createServer();
  io = new Server(http, { cors: { origin: true, credentials: true } });
  io.on("connection", (socket) => {
    socket.on("echo", (x, ack) => ack(x));
    socket.on("hit", (page) => hits.push(page));
    socket.on("never", () => {});
    socket.on("ask", () => socket.emit("question", () => answers++));
  });
  attachRooms(io);
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${http.address().port}`;
});
after(() => new Promise((resolve) => io.close(() => resolve())));

const until = async (ok, ms, what) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
const clients = () => io.engine.clientsCount;

// In a page: the package, and a shared socket as window.s with what it received.
async function share({ url, shared = true }) {
  const { io } = await import("/pkg/index.js");
  const s = (window.s = io(url, { shared, transports: ["websocket"], forceNew: !shared }));
  window.got = [];
  window.connects = 0;
  s.on("news", (x) => window.got.push(x));
  s.on("question", (ack) => ack("answer"));
  s.on("connect", () => window.connects++);
  await connected(s, 10_000);
  return s.id;
}

for (const mode of ["worker", "election"]) {
  describe(`shared connection [${mode}]`, () => {
    let context;
    let pages = [];
    const open = async (n, opts = {}) => {
      const base = await serverUrl("node");
      const out = [];
      for (let i = 0; i < n; i++) {
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        page.on("pageerror", (e) => console.error(`page error: ${e.stack || e}`));
        await page.goto(`${base}/tests/pages/blank.html`);
        page.sid = await page.evaluate(share, { url, ...opts });
        out.push(page);
      }
      pages.push(...out);
      return out;
    };
    before(async () => {
      context = await (await browser()).newContext();
      await context.addInitScript(INIT_SCRIPT);
      if (mode == "election") await context.addInitScript(() => delete window.SharedWorker);
    });
    after(() => context?.close());

    it("three pages: one connection; a server event reaches each, each emit arrives once, each ack and timeout stays with its page", { timeout: TEST_MS }, async () => {
      hits.length = 0;
      answers = 0;
      const [a, b, c] = await open(3);
      await until(() => clients() == 1, 5000, "one connection at the server");
      assert.equal(new Set([a.sid, b.sid, c.sid]).size, 1, "one socket id");
      // Where the connection is: in the worker (no page opened a WebSocket), or in one page.
      const sockets = await Promise.all([a, b, c].map((p) => p.evaluate(() => window.__ws.count)));
      assert.deepEqual(sockets.reduce((x, y) => x + y), mode == "worker" ? 0 : 1, JSON.stringify(sockets));
      const told = () => Promise.all([a, b, c].map((p) => p.evaluate(() => window.s.io.tabs)));
      await until(async () => (await told()).every((n) => n == 3), 3000, "each page told of 3 tabs").catch(async (e) => {
        throw new Error(`${e.message}: told ${JSON.stringify(await told())}`);
      });

      io.emit("news", 1);
      for (const p of [a, b, c]) await p.waitForFunction(() => window.got.length == 1);

      await Promise.all([a, b, c].map((p, i) => p.evaluate((i) => window.s.emit("hit", i), i)));
      await until(() => hits.length == 3, 3000, "three hits");
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual([...hits].sort(), [0, 1, 2]);

      const replies = await Promise.all(
        [a, b, c].map((p, i) =>
          p.evaluate(async (i) => {
            const late = window.s.timeout(300).emitWithAck("never").then(
              () => "answered",
              (e) => e.message,
            );
            const echoed = await Promise.all([1, 2, 3].map((k) => window.s.timeout(5000).emitWithAck("echo", `${i}:${k}`)));
            return { echoed, late: i == 0 ? await late : null };
          }, i),
        ),
      );
      assert.deepEqual(replies.map((r) => r.echoed), [0, 1, 2].map((i) => [`${i}:1`, `${i}:2`, `${i}:3`]));
      assert.equal(replies[0].late, "operation has timed out");

      // The server asks every tab; it is answered once.
      await a.evaluate(() => window.s.emit("ask"));
      await until(() => answers == 1, 3000, "the answer");
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(answers, 1);
    });

    it("a page without `shared` gets its own connection", { timeout: TEST_MS }, async () => {
      await open(1, { shared: false });
      await until(() => clients() == 2, 5000, "two connections");
    });

    it("a room is held while any tab holds it; presence shows the connection once", { timeout: TEST_MS }, async () => {
      const [a, b] = pages;
      const c = pages.at(-1); // the page with a connection of its own
      const room = `shared-${mode}-${Date.now()}`;
      await c.evaluate(async (room) => {
        window.seen = [];
        const r = window.s.room(room);
        for (const ev of ["join", "leave"]) r.presence.on(ev, (m) => window.seen.push([ev, m.id]));
        await r.join({ name: "c" });
      }, room);
      for (const [p, name] of [[a, "a"], [b, "b"]]) await p.evaluate(({ room, name }) => window.s.room(room).join({ name }), { room, name });
      await c.waitForFunction((room) => window.s.room(room).presence.members.length == 2, room);
      assert.equal((await io.in(room).fetchSockets()).length, 2);
      // a leaves: b still holds the room, so the server keeps the shared socket in it.
      assert.deepEqual(await a.evaluate((room) => window.s.room(room).leave().then(() => "left"), room), "left");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await io.in(room).fetchSockets()).length, 2);
      assert.deepEqual(await c.evaluate(() => window.seen.map(([ev]) => ev)), ["join"]);
      // b leaves too: now it goes.
      await b.evaluate((room) => window.s.room(room).leave(), room);
      await c.waitForFunction((room) => window.s.room(room).presence.members.length == 1, room);
      assert.deepEqual(await c.evaluate(() => window.seen.map(([ev]) => ev)), ["join", "leave"]);
      await c.evaluate((room) => window.s.room(room).leave(), room);
    });

    it("closing pages lets them go; the connection closes with the last", { timeout: TEST_MS }, async () => {
      const own = pages.pop();
      await own.close();
      await until(() => clients() == 1, 5000, "the unshared connection closed");
      // The host's page last in election mode, so that no takeover happens here.
      const host = mode == "election" ? await hostPage(pages) : null;
      const order = [...pages.filter((p) => p !== host), ...(host ? [host] : [])];
      for (let i = 0; i < order.length - 1; i++) {
        await order[i].close();
        const left = order.slice(i + 1);
        await until(async () => (await Promise.all(left.map((p) => p.evaluate(() => window.s.io.tabs)))).every((n) => n == left.length), 5000, `${left.length} tabs told`);
        assert.equal(clients(), 1);
      }
      await order.at(-1).close();
      pages = [];
      await until(() => clients() == 0, 5000, "the connection closed");
    });

    if (mode == "election")
      it("the page holding the connection closes: another takes over within 2 s, listeners kept, one connection again", { timeout: TEST_MS }, async () => {
        const three = await open(3);
        await until(() => clients() == 1, 5000, "one connection");
        const host = await hostPage(three);
        const others = three.filter((p) => p !== host);
        const t0 = Date.now();
        await host.close();
        pages = others;
        await until(async () => (await Promise.all(others.map((p) => p.evaluate(() => window.s.connected && window.connects)))).every((n) => n == 2), 5000, "both reconnected");
        const took = Date.now() - t0;
        console.log(`# shared [election]: the connection taken over in ${took} ms`);
        assert.ok(took < 2000, `took ${took} ms`);
        await until(() => clients() == 1, 3000, "one connection again");
        assert.deepEqual((await Promise.all(others.map((p) => p.evaluate(() => window.__ws.count)))).sort(), [0, 1]);
        io.emit("news", 2);
        for (const p of others) await p.waitForFunction(() => window.got.includes(2));
        const echoed = await Promise.all(others.map((p, i) => p.evaluate((i) => window.s.timeout(5000).emitWithAck("echo", i), i)));
        assert.deepEqual(echoed, [0, 1]);
        for (const p of others) await p.close();
        pages = [];
        await until(() => clients() == 0, 5000, "the connection closed");
      });
  });
}

/** The page whose tab holds the connection (election mode): the one that opened a WebSocket. */
async function hostPage(pages) {
  for (const p of pages) if ((await p.evaluate(() => window.__ws.count)) > 0) return p;
  throw new Error("no page holds the connection");
}
