// One connection for every tab (`io(url, { shared: true })`, js/shared.js): several pages of one
// browser context share one Socket.IO connection, hosted by a SharedWorker, or, with
// SharedWorker removed from the pages, by the tab elected through the Web Locks API and reached
// over a BroadcastChannel. Both paths pass the same tests, against a socket.io 4.8 server started
// here, whose own count of connections is the measure.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { hostPage, startSharingServer, tabs, until } from "./sharing.mjs";

const TEST_MS = 30_000;

/** Pages opened and closed by the memory test, and those before its first measure. */
const CYCLES = 25;
const WARM = 5;

let server;
let io;
let url;
before(async () => ({ io, url } = server = await startSharingServer()));
after(() => server.close());
const clients = () => server.clients();

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

// "broken-worker": the pages' SharedWorker cannot start (its script is missing), so the tabs
// fall back to the election.
for (const mode of ["worker", "election", "broken-worker"]) {
  const elects = mode != "worker";
  describe(`shared connection [${mode}]`, () => {
    let t;
    let context;
    let pages = [];
    const open = async (n, opts = {}) => {
      const out = await t.open(n, share, { url, ...opts });
      pages.push(...out);
      return out;
    };
    before(async () => {
      const scripts = [];
      if (mode == "election") scripts.push(() => delete window.SharedWorker);
      if (mode == "broken-worker")
        scripts.push(() => {
          const Native = window.SharedWorker;
          window.SharedWorker = function (_url, opts) {
            return new Native(new URL("/no-such-worker.js", location.href), opts);
          };
        });
      t = await tabs(...scripts);
      context = t.context;
    });
    after(() => context?.close());

    it("three pages: one connection; a server event reaches each, each emit arrives once, each ack and timeout stays with its page", { timeout: TEST_MS }, async () => {
      server.hits.length = 0;
      server.answers = 0;
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
      await until(() => server.hits.length == 3, 3000, "three hits");
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual([...server.hits].sort(), [0, 1, 2]);

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
      await until(() => server.answers == 1, 3000, "the answer");
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(server.answers, 1);
    });

    it("a page without `shared` gets its own connection", { timeout: TEST_MS }, async () => {
      await open(1, { shared: false });
      await until(() => clients() == 2, 5000, "two connections");
    });

    it("a room is held while any tab holds it; presence shows the connection once, with its tabs counted if asked", { timeout: TEST_MS }, async () => {
      const [a, b] = pages;
      const c = pages.at(-1); // the page with a connection of its own
      const room = `shared-${mode}-${Date.now()}`;
      await c.evaluate(async (room) => {
        window.seen = [];
        const r = window.s.room(room);
        for (const ev of ["join", "leave"]) r.presence.on(ev, (m) => window.seen.push([ev, m.id]));
        await r.join({ name: "c" });
      }, room);
      // `tabs` in the meta asks for the number of tabs holding the room.
      for (const [p, name] of [[a, "a"], [b, "b"]]) await p.evaluate(({ room, name }) => window.s.room(room).join({ name, tabs: 0 }), { room, name });
      const shared = (room) => window.s.room(room).presence.members.find((m) => m.meta.name != "c")?.meta;
      await c.waitForFunction((room) => window.s.room(room).presence.members.length == 2, room);
      await c.waitForFunction(`(${shared})(${JSON.stringify(room)})?.tabs == 2`);
      assert.deepEqual(await c.evaluate(shared, room), { name: "b", tabs: 2 });
      assert.equal((await io.in(room).fetchSockets()).length, 2);
      // a leaves: b still holds the room, so the server keeps the shared socket in it.
      assert.deepEqual(await a.evaluate((room) => window.s.room(room).leave().then(() => "left"), room), "left");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await io.in(room).fetchSockets()).length, 2);
      assert.deepEqual(await c.evaluate(() => window.seen.map(([ev]) => ev)), ["join"]);
      await c.waitForFunction(`(${shared})(${JSON.stringify(room)})?.tabs == 1`);
      assert.deepEqual(await c.evaluate(shared, room), { name: "b", tabs: 1 });
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
      const host = elects ? await hostPage(pages) : null;
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

    if (elects)
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
        console.log(`# shared [${mode}]: the connection taken over in ${took} ms`);
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

    it(`${CYCLES} pages opened and closed beside one that stays: each lets go of its namespaces, rooms and acks; the host's memory stays flat`, { timeout: 90_000 }, async () => {
      const [keeper] = await open(1);
      const [watcher] = await open(1, { shared: false });
      const room = `cycles-${mode}-${Date.now()}`;
      await keeper.evaluate((room) => window.s.room(room).join({ name: "shared", tabs: 0 }), room);
      await watcher.evaluate((room) => window.s.room(room).join({ name: "watcher" }), room);
      const tabsSeen = (n) => watcher.waitForFunction(({ room, n }) => window.s.room(room).presence.members.find((m) => m.meta.name == "shared")?.meta.tabs == n, { room, n });
      await tabsSeen(1);
      // In the election mode the keeper, first to ask, hosts: its heap is the host's.
      const cdp = elects ? await context.newCDPSession(keeper) : null;
      const heap = async () => {
        for (let i = 0; i < 3; i++) await cdp.send("HeapProfiler.collectGarbage");
        return (await cdp.send("Runtime.getHeapUsage")).usedSize;
      };
      let before;
      for (let i = 1; i <= CYCLES; i++) {
        if (cdp && i == WARM + 1) before = await heap();
        const [page] = await open(1);
        await page.evaluate(async ({ url, room }) => {
          const { io } = await import("/pkg/index.js");
          const other = io(url + "/other", { shared: true, transports: ["websocket"] });
          await connected(other, 10_000);
          await window.s.room(room).join({ name: "shared", tabs: 0 });
          // Never answered: pending at the host when the page closes.
          window.s.emitWithAck("never");
          other.emitWithAck("never");
          window.s.emit("ask");
        }, { url, room });
        await until(() => io.of("/other").sockets.size == 1, 3000, "the namespace connected");
        await tabsSeen(2);
        await page.close();
        pages.pop();
        await tabsSeen(1);
        await until(() => io.of("/other").sockets.size == 0, 3000, "the namespace disconnected with its only page");
      }
      const after = cdp ? await heap() : null;
      const stats = await keeper.evaluate(hostStats, mode == "worker");
      // The keeper's client only: its namespace, its room; nothing pending (the keeper answered each ask).
      assert.deepEqual(stats.conns, [{ clients: 1, namespaces: 1, acks: 0, asks: 0, rooms: 1 }], JSON.stringify(stats));
      assert.equal(stats.tabs, 1);
      assert.equal(clients(), 2);
      if (cdp) {
        console.log(`# shared [${mode}]: the host's heap ${before} -> ${after} B over ${CYCLES - WARM} pages opened and closed`);
        assert.ok(after - before < 512 * 1024, `${before} -> ${after}`);
      }
      for (const p of [keeper, watcher]) await p.close();
      pages = [];
      await until(() => clients() == 0, 5000, "the connections closed");
    });
  });
}

/**
 * In a page: what the host holds (its `stats` message), asked of the SharedWorker through a port
 * of its own, or of the elected tab over the channel.
 */
async function hostStats(worker) {
  if (worker) {
    const w = new SharedWorker(new URL("/pkg/shared-worker.js", location.href), { type: "module", name: "rtio" });
    return new Promise((resolve) => {
      w.port.onmessage = (e) => e.data.t == "stats" && (w.port.close(), resolve(e.data));
      w.port.postMessage({ t: "stats" });
    });
  }
  const ch = new BroadcastChannel("rtio-shared");
  return new Promise((resolve) => {
    ch.onmessage = ({ data: d }) => {
      if (d.k == "host") ch.postMessage({ k: "to-host", host: d.id, from: "probe.1", m: { t: "stats" } });
      else if (d.k == "to-client" && d.to == "probe.1") ch.close(), resolve(d.m);
    };
    ch.postMessage({ k: "who" });
  });
}
