// Origin checks (examples/server/src/origin.rs): rtio-server accepts Socket.IO, SSE, plain-WS
// and POST requests from pages of its own origin, and of those given with --allow-origin; a page
// of another origin (here: the Node test server's, another port) gets a clear refusal on every
// transport, and the server logs it. The Node helper's way (ROOMS.md, "Origins"): socket.io's
// `cors` and a middleware on the handshake's origin, tested the same way.

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
  allowing = await startServer("Rust (allowing)", RUST_BIN, ["--port", "0", "--allow-origin", pages.url]);
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

// A page at `origin` with the package loaded (window.rtio, window.rtioSse, window.rtioWs).
async function pageAt(origin) {
  const context = await (await browser()).newContext();
  await context.addInitScript(INIT_SCRIPT);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
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
    const { page, close } = await pageAt(pages.url);
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
