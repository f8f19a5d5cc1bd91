// How each entry of the package loads its wasm, in headless Chromium, from a small server of
// this test's own that serves pkg/ with the wasm as `application/wasm` (compiled as it streams
// in), as `application/octet-stream` (instantiated from its bytes: WebAssembly's streaming
// compile refuses other types), or not at all (the import rejects and says why).

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

/** A page of `base` that records which of WebAssembly's instantiate functions the entries call. */
async function page(base) {
  const context = await (await browser()).newContext();
  const p = await context.newPage();
  await p.addInitScript(() => {
    window.calls = [];
    for (const name of ["instantiate", "instantiateStreaming"]) {
      const f = WebAssembly[name];
      WebAssembly[name] = function (...args) {
        calls.push(name);
        return f.apply(this, args);
      };
    }
  });
  await p.goto(base + "/");
  return { p, close: () => context.close() };
}

const socketIoUrl = () => process.env.RTIO_NODE_URL?.replace(/\/+$/, "") || startTestServer("node");

for (const [type, expected] of [
  ["application/wasm", "instantiateStreaming"],
  ["application/octet-stream", "instantiate"],
]) {
  describe(`the wasm served as ${type}`, () => {
    it(`rtio loads through WebAssembly.${expected} and works`, { timeout: TEST_MS }, async () => {
      const s = await pkgServer(type);
      servers.push(s);
      const target = await socketIoUrl();
      const { p, close } = await page(s.url);
      try {
        const r = await p.evaluate(async (target) => {
          const { io } = await import("/pkg/index.js");
          const socket = io(target, { forceNew: true, reconnection: false });
          const reply = await socket.timeout(10_000).emitWithAck("echo", "hi");
          socket.disconnect();
          return { reply, calls };
        }, target);
        assert.deepEqual(r, { reply: "hi", calls: [expected] });
      } finally {
        await close();
      }
    });

    it(`rtio/sse and rtio/ws load through WebAssembly.${expected}`, { timeout: TEST_MS }, async () => {
      const s = await pkgServer(type);
      servers.push(s);
      const { p, close } = await page(s.url);
      try {
        const r = await p.evaluate(async () => {
          const { sse } = await import("/pkg/sse.js");
          const { ws } = await import("/pkg/ws.js");
          return { sse: typeof sse, ws: typeof ws, calls };
        });
        // Each entry is bundled on its own, with its own instance of rtio-stream.wasm.
        assert.deepEqual(r, { sse: "function", ws: "function", calls: [expected, expected] });
      } finally {
        await close();
      }
    });
  });
}

describe("the wasm missing", () => {
  it("each entry's import rejects with the URL and the HTTP status", { timeout: TEST_MS }, async () => {
    const s = await pkgServer(null);
    servers.push(s);
    const { p, close } = await page(s.url);
    try {
      const r = await p.evaluate(async () => {
        const out = {};
        for (const entry of ["index", "sse", "ws"])
          out[entry] = await import(`/pkg/${entry}.js`).then(() => "loaded", (e) => e.message);
        return { out, calls };
      });
      assert.deepEqual(r, {
        out: {
          index: `rtio: cannot load ${s.url}/pkg/rtio.wasm: HTTP 404`,
          sse: `rtio: cannot load ${s.url}/pkg/rtio-stream.wasm: HTTP 404`,
          ws: `rtio: cannot load ${s.url}/pkg/rtio-stream.wasm: HTTP 404`,
        },
        calls: [],
      });
    } finally {
      await close();
    }
  });
});
