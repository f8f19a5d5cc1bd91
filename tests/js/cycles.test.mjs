// 10,000 connect/disconnect cycles in the JS door: `io()` (a new connection each time, over
// WebSocket), connect, `disconnect()`, ten thousand times (four at a time, to four addresses); the JS heap, the wasm memory, the
// live WebSockets and the listeners on the window and the document are back where they were.
// Written so that it also passes with socket.io-client (RTIO_CLIENT).
import assert from "node:assert/strict";
import { suite } from "./harness.mjs";
import { startProxy } from "../servers/proxy.mjs";

const CYCLES = 10_000;

suite(
  "connect/disconnect cycles",
  ({ test, server }) => {
    test(`${CYCLES.toLocaleString("en")} cycles: no socket, listener or memory is left behind`, async (page) => {
      const cdp = await page.page.context().newCDPSession(page.page);
      // What `f` maps each live object of a prototype to (after a full collection, for the
      // census). The browser's own view: a client that took `WebSocket` before the page could
      // wrap it is counted all the same.
      const live = async (expr, f) => {
        const proto = await cdp.send("Runtime.evaluate", { expression: expr });
        const { objects } = await cdp.send("Runtime.queryObjects", { prototypeObjectId: proto.result.objectId });
        const r = await cdp.send("Runtime.callFunctionOn", {
          objectId: objects.objectId,
          functionDeclaration: `function () { return this.map(${f}); }`,
          returnByValue: true,
        });
        return r.result.value;
      };
      const openWebSockets = async () => (await live("WebSocket.prototype", "(ws) => ws.readyState")).filter((s) => s <= 1).length;
      // The listeners on the window and the document, from the browser itself.
      const listeners = async () => {
        let n = 0;
        for (const expression of ["window", "document"]) {
          const { result } = await cdp.send("Runtime.evaluate", { expression });
          n += (await cdp.send("DOMDebugger.getEventListeners", { objectId: result.objectId })).listeners.length;
        }
        return n;
      };
      // The server's address, and three more through proxies to it.
      const proxies = await Promise.all([1, 2, 3].map(() => startProxy({ target: new URL(page.url).host })));
      const urls = [page.url, ...proxies.map((p) => p.url)];
      const census = async () => {
        await cdp.send("HeapProfiler.collectGarbage");
        await cdp.send("HeapProfiler.collectGarbage");
        const { usedSize } = await cdp.send("Runtime.getHeapUsage");
        return {
          heap: usedSize,
          memory: (await live("WebAssembly.Memory.prototype", "(m) => m.buffer.byteLength")).reduce((a, b) => a + b, 0),
          websockets: (await live("WebSocket.prototype", "() => 1")).length,
          open: await openWebSockets(),
          listeners: await listeners(),
        };
      };
      const cycles = (n) =>
        page.run(
          async ({ urls, n }) => {
            // One worker per address: Chromium opens one WebSocket at a time per host and port,
            // and waits a little after each.
            const workers = urls.length;
            const worker = async (url, count) => {
              for (let i = 0; i < count; i++) {
                const s = io(url, { forceNew: true, transports: ["websocket"], reconnection: false });
                await connected(s, 5000);
                s.disconnect();
                // The test page's own record of the URLs of every WebSocket made: not rtio's.
                window.__ws.urls.length = 0;
              }
            };
            await Promise.all(urls.map((url, w) => worker(url, Math.floor(n / workers) + (w < n % workers ? 1 : 0))));
          },
          { n, urls },
          { timeout: 600_000 },
        );
      // A warm-up at the same pace, so that memory reaches its high-water mark first.
      await cycles(400);
      await page.run(() => sleep(500));
      const before = await census();
      const t0 = Date.now();
      await cycles(CYCLES);
      const ms = Date.now() - t0;
      // A closed WebSocket is closing until its handshake is over.
      for (let i = 0; i < 50 && (await openWebSockets()) > 0; i++) await page.run(() => sleep(100));
      await page.run(() => sleep(500));
      const after = await census();
      await Promise.all(proxies.map((p) => p.close()));
      console.log(
        `[${server}] ${CYCLES} cycles in ${ms} ms (${(ms / CYCLES).toFixed(2)} ms each): heap ${before.heap} -> ${after.heap} B, ` +
          `wasm memory ${before.memory} -> ${after.memory} B, WebSockets alive ${before.websockets} -> ${after.websockets}, ` +
          `open ${before.open} -> ${after.open}, window and document listeners ${before.listeners} -> ${after.listeners}`,
      );
      assert.equal(after.open, 0, "WebSockets still open");
      // Closed ones go with the next collections; a leak would keep thousands.
      assert.ok(after.websockets <= before.websockets + 20, `${after.websockets} WebSockets alive`);
      assert.equal(after.listeners, before.listeners, "listeners on the window and the document");
      assert.ok(after.memory - before.memory <= 65536, `wasm memory grew from ${before.memory} to ${after.memory} B`);
      assert.ok(after.heap - before.heap < 1_000_000, `JS heap grew by ${after.heap - before.heap} B`);
    }, { timeout: 660_000 });
  },
  { servers: ["node"] },
);
