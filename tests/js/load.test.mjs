// How each entry of the package loads its wasm, in headless Chromium, from a small server of
// this test's own that serves pkg/ with the wasm as `application/wasm` (compiled as it streams
// in), as `application/octet-stream` (compiled from its bytes: WebAssembly's streaming compile
// refuses other types), or not at all (importing still succeeds; the connection
// fails and says why). Importing an entry loads nothing: the wasm comes with the first
// connection, or `init()`.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { REPO, browser, startTestServer } from "./harness.mjs";

const PKG = path.join(REPO, "pkg");
const TEST_MS = 30_000;

/** Serves pkg/ under /pkg/ and a blank page at /; `.wasm` files as `wasmType`, or 404 when it is null. */
async function pkgServer(wasmType) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname == "/") return res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>load</title>");
    const name = url.pathname.startsWith("/pkg/") && path.basename(url.pathname);
    const wasm = name && name.endsWith(".wasm");
    if (!name || (wasm && wasmType === null)) return res.writeHead(404).end("not found");
    try {
      const body = await readFile(path.join(PKG, name));
      res.writeHead(200, { "content-type": wasm ? wasmType : "text/javascript", "cache-control": "no-store" }).end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

const servers = [];
after(() => Promise.all(servers.map((s) => s.close())));

/**
 * A page of `base` that records which of WebAssembly's compile and instantiate functions the
 * entries call (`calls`, `Instance` for a module instantiated with `new WebAssembly.Instance`),
 * and which wasm files they fetch (`wasmFetches`).
 */
async function page(base) {
  const context = await (await browser()).newContext();
  const p = await context.newPage();
  await p.addInitScript(() => {
    window.calls = [];
    window.wasmFetches = [];
    for (const name of ["compile", "compileStreaming", "instantiate", "instantiateStreaming"]) {
      const f = WebAssembly[name];
      WebAssembly[name] = function (...args) {
        calls.push(name);
        return f.apply(this, args);
      };
    }
    WebAssembly.Instance = new Proxy(WebAssembly.Instance, {
      construct(target, args, newTarget) {
        calls.push("Instance");
        return Reflect.construct(target, args, newTarget);
      },
    });
    const fetch0 = window.fetch;
    window.fetch = function (input, ...rest) {
      const url = String(input instanceof Request ? input.url : input);
      if (url.endsWith(".wasm")) wasmFetches.push(url.slice(url.lastIndexOf("/") + 1));
      return fetch0.call(this, input, ...rest);
    };
  });
  await p.goto(base + "/");
  return { p, close: () => context.close() };
}

const socketIoUrl = () => process.env.RTIO_NODE_URL?.replace(/\/+$/, "") || startTestServer("node");
const sseUrl = () => process.env.RTIO_SSE_URL.replace(/\/+$/, "");

for (const [type, expected] of [
  ["application/wasm", ["compileStreaming", "Instance"]],
  ["application/octet-stream", ["compile", "Instance"]],
]) {
  describe(`the wasm served as ${type}`, () => {
    it(`rtio: the import loads nothing; the first io() loads rtio.wasm once, through WebAssembly.${expected[0]}, and works`, { timeout: TEST_MS }, async () => {
      const s = await pkgServer(type);
      servers.push(s);
      const target = await socketIoUrl();
      const { p, close } = await page(s.url);
      try {
        const r = await p.evaluate(async (target) => {
          const { io } = await import("/pkg/index.js");
          const afterImport = { calls: [...calls], wasmFetches: [...wasmFetches] };
          const socket = io(target, { forceNew: true, reconnection: false });
          // A second Manager before the wasm is ready: it waits for the same load.
          const other = io(target, { forceNew: true, reconnection: false });
          const reply = await socket.timeout(10_000).emitWithAck("echo", "hi");
          const reply2 = await other.timeout(10_000).emitWithAck("echo", "ho");
          socket.disconnect();
          other.disconnect();
          return { afterImport, reply, reply2, calls, wasmFetches };
        }, target);
        assert.deepEqual(r, {
          afterImport: { calls: [], wasmFetches: [] },
          reply: "hi",
          reply2: "ho",
          calls: expected,
          wasmFetches: ["rtio.wasm"],
        });
      } finally {
        await close();
      }
    });

    it(`rtio/sse and rtio/ws: the import loads nothing; each loads rtio-stream.wasm once, through WebAssembly.${expected[0]}`, { timeout: TEST_MS }, async () => {
      const s = await pkgServer(type);
      servers.push(s);
      const target = await sseUrl();
      const { p, close } = await page(s.url);
      try {
        const r = await p.evaluate(async (target) => {
          const { sse } = await import("/pkg/sse.js");
          const { ws } = await import("/pkg/ws.js");
          const afterImport = { calls: [...calls], wasmFetches: [...wasmFetches] };
          const client = sse(target + "/events", { reconnection: false });
          await new Promise((resolve, reject) => {
            client.once("connect", resolve);
            client.once("connect_error", reject);
          });
          client.disconnect();
          return { afterImport, sse: typeof sse, ws: typeof ws, calls, wasmFetches };
        }, target);
        // Each entry is bundled on its own, with its own instance of rtio-stream.wasm: only the
        // one used loads it.
        assert.deepEqual(r, {
          afterImport: { calls: [], wasmFetches: [] },
          sse: "function",
          ws: "function",
          calls: expected,
          wasmFetches: ["rtio-stream.wasm"],
        });
      } finally {
        await close();
      }
    });

    it("init() loads the wasm before the first connection; io() then uses it", { timeout: TEST_MS }, async () => {
      const s = await pkgServer(type);
      servers.push(s);
      const target = await socketIoUrl();
      const { p, close } = await page(s.url);
      try {
        const r = await p.evaluate(async (target) => {
          const { io, init } = await import("/pkg/index.js");
          await init();
          const afterInit = [...calls];
          await init();
          const socket = io(target, { forceNew: true, reconnection: false });
          const reply = await socket.timeout(10_000).emitWithAck("echo", "hi");
          socket.disconnect();
          return { afterInit, reply, calls, wasmFetches };
        }, target);
        assert.deepEqual(r, { afterInit: expected, reply: "hi", calls: expected, wasmFetches: ["rtio.wasm"] });
      } finally {
        await close();
      }
    });
  });
}

describe("the wasm missing", () => {
  it("importing succeeds; the first connection fails with connect_error naming the URL and the HTTP status, and the page goes on", { timeout: TEST_MS }, async () => {
    const s = await pkgServer(null);
    servers.push(s);
    const target = await socketIoUrl();
    const { p, close } = await page(s.url);
    try {
      const r = await p.evaluate(async (target) => {
        const out = {};
        const mods = {};
        for (const entry of ["index", "sse", "ws"])
          out[entry] = await import(`/pkg/${entry}.js`).then((m) => ((mods[entry] = m), "loaded"), (e) => e.message);
        const failed = (client) =>
          new Promise((resolve) => {
            client.once("connect", () => resolve("connected"));
            client.once("connect_error", (err) => resolve(err.message));
          });
        const socket = mods.index.io(target, { forceNew: true });
        const managerErrors = [];
        socket.io.on("error", (err) => managerErrors.push(err.message));
        const connectError = await failed(socket);
        const init = await mods.index.init().then(() => "loaded", (e) => e.message);
        const streamErrors = {
          sse: await failed(mods.sse.sse(target + "/events")),
          ws: await failed(mods.ws.ws(target.replace(/^http/, "ws") + "/ws")),
        };
        // The page goes on: its own code still runs.
        await new Promise((r) => setTimeout(r, 50));
        return { out, connectError, managerErrors, active: socket.active, init, streamErrors, calls };
      }, target);
      const missing = (f) => `rtio: cannot load ${s.url}/pkg/${f}: HTTP 404`;
      assert.deepEqual(r, {
        out: { index: "loaded", sse: "loaded", ws: "loaded" },
        connectError: missing("rtio.wasm"),
        managerErrors: [missing("rtio.wasm")],
        active: false,
        init: missing("rtio.wasm"),
        streamErrors: { sse: missing("rtio-stream.wasm"), ws: missing("rtio-stream.wasm") },
        calls: [],
      });
    } finally {
      await close();
    }
  });
});
