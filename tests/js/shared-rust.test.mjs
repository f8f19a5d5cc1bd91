// One connection for every tab in the Rust API (`Options::shared`, src/front/rust/shared.rs):
// several pages of one browser context, each running the Rust API (the `SharedTab` of
// tests/chaos/rust-page, built by tests/chaos/build-rust-page.sh), share one Socket.IO
// connection, held by the tab elected through the Web Locks API. The same checks as
// shared.test.mjs's election mode, against a socket.io 4.8 server started here, whose own count
// of connections is the measure.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { hostPage, startSharingServer, tabs, until } from "./sharing.mjs";

const TEST_MS = 30_000;
const PAGE = new URL("../pages/chaos-rust/rtio_chaos_page.js", import.meta.url);
if (!existsSync(PAGE)) throw new Error("tests/pages/chaos-rust is not built: run bash tests/chaos/build-rust-page.sh");

let server;
let io;
let url;
before(async () => ({ io, url } = server = await startSharingServer()));
after(() => server.close());
const clients = () => server.clients();

// In a page: the Rust API's tab as window.t, connected.
async function share({ url, shared = true }) {
  const m = await import("/tests/pages/chaos-rust/rtio_chaos_page.js");
  await m.default();
  const t = (window.t = new m.SharedTab(url, shared));
  const end = Date.now() + 10_000;
  while (!t.connected()) {
    if (Date.now() > end) throw new Error("not connected after 10 s");
    await new Promise((r) => setTimeout(r, 20));
  }
  return t.id();
}

describe("shared connection, Rust API [election]", () => {
  let t;
  let pages = [];
  const open = async (n, opts = {}) => {
    const out = await t.open(n, share, { url, ...opts });
    pages.push(...out);
    return out;
  };
  before(async () => (t = await tabs()));
  after(() => t?.context.close());

  it("three pages: one connection; a server event reaches each, each emit arrives once, each ack and timeout stays with its page", { timeout: TEST_MS }, async () => {
    server.hits.length = 0;
    server.answers = 0;
    const [a, b, c] = await open(3);
    await until(() => clients() == 1, 5000, "one connection at the server");
    assert.equal(new Set([a.sid, b.sid, c.sid]).size, 1, "one socket id");
    const sockets = await Promise.all([a, b, c].map((p) => p.evaluate(() => window.__ws.count)));
    assert.deepEqual(sockets.reduce((x, y) => x + y), 1, JSON.stringify(sockets));
    const told = () => Promise.all([a, b, c].map((p) => p.evaluate(() => [window.t.tabs(), window.t.told()])));
    await until(async () => (await told()).every(([n, e]) => n == 3 && e == 3), 3000, "each page told of 3 tabs").catch(async (e) => {
      throw new Error(`${e.message}: told ${JSON.stringify(await told())}`);
    });

    io.emit("news", 1);
    for (const p of [a, b, c]) await p.waitForFunction(() => JSON.parse(window.t.got()).length == 1);

    await Promise.all([a, b, c].map((p, i) => p.evaluate((i) => window.t.emit("hit", JSON.stringify([i])), i)));
    await until(() => server.hits.length == 3, 3000, "three hits");
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual([...server.hits].sort(), [0, 1, 2]);

    const replies = await Promise.all(
      [a, b, c].map((p, i) =>
        p.evaluate(async (i) => {
          const late = window.t.ack("never", "x", 300).then(
            () => "answered",
            (e) => e.message,
          );
          const echoed = await Promise.all([1, 2, 3].map((k) => window.t.echo(`${i}:${k}`, 5000).then(JSON.parse)));
          return { echoed, late: i == 0 ? await late : null };
        }, i),
      ),
    );
    assert.deepEqual(replies.map((r) => r.echoed), [0, 1, 2].map((i) => [`${i}:1`, `${i}:2`, `${i}:3`]));
    assert.match(replies[0].late, /timed out/);

    await a.evaluate(() => window.t.emit("ask", "[]"));
    await until(() => server.answers == 1, 3000, "the answer");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(server.answers, 1);
  });

  it("a page without sharing gets its own connection", { timeout: TEST_MS }, async () => {
    const [own] = await open(1, { shared: false });
    await until(() => clients() == 2, 5000, "two connections");
    assert.equal(await own.evaluate(() => window.t.tabs()), undefined);
  });

  it("a room is held while any tab holds it; presence shows the connection once, with its tabs counted if asked", { timeout: TEST_MS }, async () => {
    const [a, b] = pages;
    const c = pages.at(-1);
    const room = `shared-rust-${Date.now()}`;
    await c.evaluate((room) => window.t.join(room, JSON.stringify({ name: "c" })), room);
    for (const [p, name] of [[a, "a"], [b, "b"]]) await p.evaluate(({ room, name }) => window.t.join(room, JSON.stringify({ name, tabs: 0 })), { room, name });
    const shared = (room) => JSON.parse(window.t.members(room)).find((m) => m.meta.name != "c")?.meta;
    await c.waitForFunction((room) => JSON.parse(window.t.members(room)).length == 2, room);
    await c.waitForFunction(`(${shared})(${JSON.stringify(room)})?.tabs == 2`);
    assert.deepEqual(await c.evaluate(shared, room), { name: "b", tabs: 2 });
    assert.equal((await io.in(room).fetchSockets()).length, 2);
    assert.equal(await a.evaluate((room) => window.t.leave(room), room), true);
    await c.waitForFunction(`(${shared})(${JSON.stringify(room)})?.tabs == 1`);
    assert.equal((await io.in(room).fetchSockets()).length, 2);
    await b.evaluate((room) => window.t.leave(room), room);
    await c.waitForFunction((room) => JSON.parse(window.t.members(room)).length == 1, room);
    await c.evaluate((room) => window.t.leave(room), room);
  });

  it("closing pages lets them go (namespaces, rooms); the connection closes with the last", { timeout: TEST_MS }, async () => {
    const own = pages.pop();
    await own.close();
    await until(() => clients() == 1, 5000, "the unshared connection closed");
    // A page whose namespace and room no other page uses: closing it leaves both.
    const host = await hostPage(pages);
    const [extra] = await open(1);
    const room = `shared-rust-close-${Date.now()}`;
    await extra.evaluate(async (room) => {
      await window.t.namespace("/other");
      await window.t.join(room, JSON.stringify({ name: "extra" }));
    }, room);
    await until(() => io.of("/other").sockets.size == 1, 3000, "the namespace connected");
    assert.equal((await io.in(room).fetchSockets()).length, 1);
    await extra.close();
    pages.pop();
    await until(() => io.of("/other").sockets.size == 0, 5000, "the namespace disconnected with its page");
    await until(async () => (await io.in(room).fetchSockets()).length == 0, 5000, "the room left with its page");
    // The host's page last, so that no takeover happens here.
    const order = [...pages.filter((p) => p !== host), host];
    for (let i = 0; i < order.length - 1; i++) {
      await order[i].close();
      const left = order.slice(i + 1);
      await until(async () => (await Promise.all(left.map((p) => p.evaluate(() => window.t.tabs())))).every((n) => n == left.length), 5000, `${left.length} tabs told`);
      assert.equal(clients(), 1);
    }
    await order.at(-1).close();
    pages = [];
    await until(() => clients() == 0, 5000, "the connection closed");
  });

  it("the page holding the connection closes: another takes over within 2 s, listeners kept, one connection again", { timeout: TEST_MS }, async () => {
    const three = await open(3);
    await until(() => clients() == 1, 5000, "one connection");
    const host = await hostPage(three);
    const others = three.filter((p) => p !== host);
    const t0 = Date.now();
    await host.close();
    pages = others;
    await until(async () => (await Promise.all(others.map((p) => p.evaluate(() => window.t.connected() && window.t.connects())))).every((n) => n == 2), 5000, "both reconnected");
    const took = Date.now() - t0;
    console.log(`# shared, Rust API: the connection taken over in ${took} ms`);
    assert.ok(took < 2000, `took ${took} ms`);
    await until(() => clients() == 1, 3000, "one connection again");
    assert.deepEqual((await Promise.all(others.map((p) => p.evaluate(() => window.__ws.count)))).sort(), [0, 1]);
    io.emit("news", 2);
    for (const p of others) await p.waitForFunction(() => JSON.parse(window.t.got()).includes(2));
    const echoed = await Promise.all(others.map((p, i) => p.evaluate((i) => window.t.echo(String(i), 5000).then(JSON.parse), i)));
    assert.deepEqual(echoed, ["0", "1"]);
    for (const p of others) await p.close();
    pages = [];
    await until(() => clients() == 0, 5000, "the connection closed");
  });
});
