// Origin checks (examples/server/src/origin.rs): rtio-server accepts Socket.IO, SSE, plain-WS
// and POST requests from pages of its own origin, and of those given with --allow-origin; a page
// of another origin (here: the Node test server's, another port) gets a clear refusal on every
// transport, and the server logs it. The Node helper's way (ROOMS.md, "Origins"): socket.io's
// `cors` and a middleware on the handshake's origin, tested the same way.
//
// Cookie sessions (examples/server/src/sessions.rs), on by default: a page load gives a signed
// HttpOnly cookie; without it (or with a forged one) every transport is refused with a reason
// the page can read, and the name others see in a room is the session's, whatever a join says.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Server } from "socket.io";
import { browser } from "./harness.mjs";
import { INIT_SCRIPT, REPO, RUST_BIN, startServer, stopProcess } from "./launch.mjs";
import path from "node:path";

const TEST_MS = 30_000;
const PAGE = "/tests/pages/blank.html";

let pages; // the Node test server: serves the pages of the "other" origin
let strict; // rtio-server, its own origin only
let allowing; // rtio-server with --allow-origin <the pages' origin>
let nodeStrict; // a socket.io server configured as ROOMS.md shows
let strictLog = "";

before(async () => {
  pages = await startServer("Node (pages)", process.execPath, [path.join(REPO, "tests/servers/node/server.mjs"), "--port", "0"]);
  strict = await startServer("Rust (own origin)", RUST_BIN, ["--port", "0"]);
  strict.child.stderr.on("data", (d) => (strictLog += d));
  // No sessions: the pages of the other origin never loaded a page of this server, so they have
  // no session cookie of it (sessions are tested below, on `strict`).
  allowing = await startServer("Rust (allowing)", RUST_BIN, ["--port", "0", "--allow-origin", pages.url, "--no-sessions"]);
  nodeStrict = await nodeServer([]);
});

after(async () => {
  await Promise.all([pages, strict, allowing].filter(Boolean).map((s) => stopProcess(s.child)));
  await new Promise((resolve) => (nodeStrict ? nodeStrict.io.close(() => resolve()) : resolve()));
});

// A socket.io server that accepts pages of `origins` only, as ROOMS.md shows: CORS for
// long-polling, and a middleware on the handshake's Origin for every transport.
async function nodeServer(origins) {
  const http = createServer();
  const io = new Server(http, { cors: { origin: origins, credentials: true } });
  io.use((socket, next) => {
    const origin = socket.handshake.headers.origin;
    const host = socket.handshake.headers.host;
    if (origin === undefined || origin === `http://${host}` || origins.includes(origin)) next();
    else next(new Error("origin not allowed"));
  });
  io.on("connection", (socket) => socket.on("echo", (x, ack) => ack(x)));
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  return { io, url: `http://127.0.0.1:${http.address().port}` };
}

// A page at `origin` with the package loaded (window.rtio, window.rtioSse, window.rtioWs);
// `visited`: a page loaded first in the same context (its cookies are kept).
async function pageAt(origin, visited) {
  const context = await (await browser()).newContext();
  await context.addInitScript(INIT_SCRIPT);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  if (visited) await page.goto(visited + PAGE);
  await page.goto(origin + PAGE);
  await page.evaluate(async (pkg) => {
    window.rtio = await import(pkg + "/pkg/index.js");
    window.rtioSse = await import(pkg + "/pkg/sse.js");
    window.rtioWs = await import(pkg + "/pkg/ws.js");
  }, origin);
  return { page, close: () => context.close() };
}

// In the page: how each client fares against `url` ({ ok } or { error, data }).
async function tryAll(url) {
  const outcome = (client, ready) =>
    new Promise((resolve) => {
      let settled = false;
      const done = (r) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
        client.disconnect();
      };
      const timer = setTimeout(() => done({ error: "no answer in 8 s" }), 8000);
      client.once("connect_error", (err) => done({ error: err.message, data: err.data ?? null }));
      // A plain WebSocket's close code and reason come as the listener's second argument.
      client.once("disconnect", (reason, why) => done({ error: `disconnect: ${reason}`, data: why ? { code: why.code, reason: why.reason } : null }));
      ready(client).then(() => done({ ok: true }), (err) => done({ error: String(err) }));
    });
  const viaIo = (transports) => outcome(window.rtio.io(url, { forceNew: true, reconnection: false, transports }), (s) => connected(s, 8000).then(() => s.timeout(3000).emitWithAck("echo", 1)));
  const viaSse = (transport) => outcome(window.rtioSse.sse(url + "/sse", { transport, reconnection: false }), (s) => connected(s, 8000));
  const viaWs = () => outcome(window.rtioWs.ws(url.replace(/^http/, "ws") + "/ws", { reconnection: false }), (s) => s.room("origin-test").join(null));
  const post = await fetch(url + "/sse", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ event: "echo", args: [1] }) })
    .then(async (r) => ({ status: r.status, body: await r.json() }), (err) => ({ error: String(err) }));
  return {
    websocket: await viaIo(["websocket"]),
    polling: await viaIo(["polling"]),
    sseFetch: await viaSse("fetch"),
    sseEventSource: await viaSse("eventsource"),
    ws: await viaWs(),
    post,
  };
}

describe("origin checks [rtio-server]", () => {
  it("a page of another origin is refused on every transport, with a reason it can read", { timeout: TEST_MS }, async () => {
    // The visitor has the server's session cookie: cookies are per host, not per port, so the
    // page of the other origin (same host) could ride on it but for the origin check.
    const { page, close } = await pageAt(pages.url, strict.url);
    assert.equal((await page.context().cookies(strict.url)).filter((c) => c.name === "rtio_session").length, 1);
    try {
      const r = await page.evaluate(tryAll, strict.url);
      assert.deepEqual(r.websocket, { error: "origin not allowed", data: null });
      assert.deepEqual(r.polling, { error: "origin not allowed", data: null });
      assert.equal(r.sseFetch.data?.error, "origin not allowed", JSON.stringify(r.sseFetch));
      assert.ok(r.sseEventSource.error && !r.sseEventSource.ok, JSON.stringify(r.sseEventSource));
      assert.deepEqual(r.ws, { error: "disconnect: transport close", data: { code: 1008, reason: "origin not allowed" } });
      assert.deepEqual(r.post, { status: 403, body: { error: "origin not allowed" } });
    } finally {
      await close();
    }
    // And the server said so.
    assert.match(strictLog, new RegExp(`refused a Socket.IO connection from origin "${pages.url}"`));
    assert.match(strictLog, new RegExp(`refused GET /sse from origin "${pages.url}"`));
    assert.match(strictLog, new RegExp(`refused a WebSocket on /ws from origin "${pages.url}"`));
  });

  // A page at `origin` connects to `server()` on every transport, and its POST is answered.
  const connectsEverywhere = (name, origin, server) =>
    it(name, { timeout: TEST_MS }, async () => {
      const { page, close } = await pageAt(origin());
      try {
        const r = await page.evaluate(tryAll, server().url);
        for (const [k, v] of Object.entries(r)) if (k !== "post") assert.deepEqual(v, { ok: true }, k);
        assert.deepEqual(r.post, { status: 200, body: [1] });
      } finally {
        await close();
      }
    });
  connectsEverywhere("a page of the server's own origin connects on every transport", () => strict.url, () => strict);
  connectsEverywhere("a page of an origin given with --allow-origin connects on every transport", () => pages.url, () => allowing);
});

const REQUIRED = "session required: load the page from this server first";
const COOKIE = /^rtio_session=v1\.[0-9a-f]{32}\.\.[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Lax$/;

describe("cookie sessions [rtio-server]", () => {
  it("a page load gives a signed HttpOnly SameSite=Lax session cookie; other files and a visitor who has one get none", async () => {
    const first = await fetch(strict.url + "/");
    assert.equal(first.status, 200);
    const cookie = first.headers.get("set-cookie");
    assert.match(cookie, COOKIE);
    assert.equal((await fetch(strict.url + PAGE)).headers.has("set-cookie"), true);
    assert.equal((await fetch(strict.url + "/pkg/index.js")).headers.has("set-cookie"), false);
    const again = await fetch(strict.url + "/", { headers: { cookie: cookie.split(";")[0] } });
    assert.equal(again.headers.has("set-cookie"), false);
    // A cookie signed by another server (another key) is not one: a new one is given.
    const forged = cookie.split(";")[0].replace(/[0-9a-f]{64}$/, "0".repeat(64));
    assert.match((await fetch(strict.url + "/", { headers: { cookie: forged } })).headers.get("set-cookie"), COOKIE);
  });

  it("without the cookie, or with a forged one, every transport is refused with a reason the page can read", { timeout: TEST_MS }, async () => {
    const { page, close } = await pageAt(strict.url);
    try {
      const context = page.context();
      const [real] = (await context.cookies(strict.url)).filter((c) => c.name === "rtio_session");
      assert.ok(real, "the page load gave a cookie");
      assert.equal(real.httpOnly, true);
      assert.equal(real.sameSite, "Lax");
      assert.equal(await page.evaluate(() => document.cookie), "", "no script reads it");
      const refusedEverywhere = async () => {
        const r = await page.evaluate(tryAll, strict.url);
        assert.deepEqual(r.websocket, { error: REQUIRED, data: null });
        assert.deepEqual(r.polling, { error: REQUIRED, data: null });
        assert.equal(r.sseFetch.data?.error, REQUIRED, JSON.stringify(r.sseFetch));
        assert.ok(r.sseEventSource.error && !r.sseEventSource.ok, JSON.stringify(r.sseEventSource));
        assert.deepEqual(r.ws, { error: "disconnect: transport close", data: { code: 1008, reason: REQUIRED } });
        assert.deepEqual(r.post, { status: 401, body: { error: REQUIRED } });
      };
      await context.clearCookies();
      await refusedEverywhere();
      // The same cookie with another name in it: the signature no longer matches.
      const name = Buffer.from("Mallory").toString("hex");
      const value = real.value.replace(/^(v1\.[0-9a-f]{32}\.)[0-9a-f]*/, `$1${name}`);
      assert.notEqual(value, real.value);
      await context.addCookies([{ ...real, value }]);
      await refusedEverywhere();
      // The real one back: accepted again.
      await context.clearCookies();
      await context.addCookies([real]);
      const r = await page.evaluate(tryAll, strict.url);
      for (const [k, v] of Object.entries(r)) if (k !== "post") assert.deepEqual(v, { ok: true }, k);
    } finally {
      await close();
    }
    assert.match(strictLog, /refused a Socket\.IO connection: session required/);
    assert.match(strictLog, /refused GET \/sse: session required/);
    assert.match(strictLog, /refused a WebSocket on \/ws: session required/);
  });

  it("the name others see is the session's, on every transport, whatever the join claims", { timeout: TEST_MS }, async () => {
    const { page, close } = await pageAt(strict.url);
    try {
      const r = await page.evaluate(async () => {
        const post = (body, type = "application/json") =>
          fetch("/session", { method: "POST", headers: { "content-type": type }, body }).then(async (r) => [r.status, await r.json()]);
        const refusals = [await post(JSON.stringify({ name: "  " })), await post("name=Eve", "application/x-www-form-urlencoded")];
        const named = await post(JSON.stringify({ name: "  Ada \n Lovelace " }));
        const room = "session-names-" + Math.random();
        const a = window.rtio.io({ forceNew: true });
        await connected(a, 8000);
        const ra = a.room(room);
        const first = await ra.join({ name: "Mallory", color: "#000000" });
        const s = window.rtioSse.sse("/sse");
        const w = window.rtioWs.ws("/ws");
        await Promise.all([s.room(room).join({ name: "Eve" }), w.room(room).join("Zed")]);
        const until = async (ok) => {
          for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
        };
        await until(() => ra.presence.members.length === 3);
        const names = ra.presence.members.map((m) => m.meta?.name);
        // A rename through the session shows at the next join (an update).
        const renamed = await post(JSON.stringify({ name: "Grace" }));
        const updated = await ra.join({ name: "Mallory", color: "#000000" });
        const mine = updated.find((m) => m.id === a.id)?.meta;
        for (const c of [a, s, w]) c.disconnect();
        return { refusals, named, first: first.map((m) => m.meta), names, renamed, updated: mine };
      });
      assert.deepEqual(r.refusals, [[400, { error: "invalid name" }], [415, { error: "expected application/json" }]]);
      assert.deepEqual(r.named, [200, { name: "Ada Lovelace" }]);
      assert.deepEqual(r.first, [{ name: "Ada Lovelace", color: "#000000" }]);
      assert.deepEqual(r.names, ["Ada Lovelace", "Ada Lovelace", "Ada Lovelace"]);
      assert.deepEqual(r.renamed, [200, { name: "Grace" }]);
      assert.deepEqual(r.updated, { name: "Grace", color: "#000000" });
    } finally {
      await close();
    }
  });

  it("POST /session needs the server's origin and a session", async () => {
    const json = { "content-type": "application/json" };
    const body = JSON.stringify({ name: "Eve" });
    const noCookie = await fetch(strict.url + "/session", { method: "POST", headers: json, body });
    assert.deepEqual([noCookie.status, await noCookie.json()], [401, { error: REQUIRED }]);
    const cookie = (await fetch(strict.url + "/")).headers.get("set-cookie").split(";")[0];
    const other = await fetch(strict.url + "/session", { method: "POST", headers: { ...json, cookie, origin: pages.url }, body });
    assert.deepEqual([other.status, await other.json()], [403, { error: "origin not allowed" }]);
    const own = await fetch(strict.url + "/session", { method: "POST", headers: { ...json, cookie }, body });
    assert.deepEqual([own.status, await own.json()], [200, { name: "Eve" }]);
    // The answer's cookie carries the name, signed.
    assert.match(own.headers.get("set-cookie"), new RegExp(`^rtio_session=v1\\.[0-9a-f]{32}\\.${Buffer.from("Eve").toString("hex")}\\.[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Lax$`));
    // A server with --no-sessions has no such endpoint.
    const off = await fetch(allowing.url + "/session", { method: "POST", headers: json, body });
    assert.equal(off.status, 404);
  });
});

describe("origin checks [Node socket.io, as ROOMS.md shows]", () => {
  it("a page of another origin gets connect_error \"origin not allowed\"; an allowed one connects", { timeout: TEST_MS }, async () => {
    const allowed = await nodeServer([pages.url]);
    const { page, close } = await pageAt(pages.url);
    try {
      const refused = await page.evaluate(async (url) => {
        const out = [];
        for (const transports of [["websocket"], ["polling"]]) {
          const s = window.rtio.io(url, { forceNew: true, reconnection: false, transports });
          out.push(await new Promise((resolve) => {
            s.once("connect", () => resolve("connected"));
            s.once("connect_error", (err) => resolve(err.message));
          }));
          s.disconnect();
        }
        return out;
      }, nodeStrict.url);
      // Over polling the page cannot even read the answer: CORS does not name its origin.
      assert.deepEqual(refused[0], "origin not allowed");
      assert.ok(refused[1] !== "connected", refused[1]);
      const accepted = await page.evaluate(async (url) => {
        const s = window.rtio.io(url, { forceNew: true, reconnection: false });
        await connected(s, 8000);
        const echoed = await s.timeout(3000).emitWithAck("echo", 2);
        s.disconnect();
        return echoed;
      }, allowed.url);
      assert.equal(accepted, 2);
    } finally {
      await close();
      await new Promise((resolve) => allowed.io.close(() => resolve()));
    }
  });
});
