// A wasm trap is not the end of the page. A trap is a bug (no input is known to cause one);
// the test makes the wasm fail on purpose through its test hook,
// `manager[Symbol.for("rtio.failForTests")](when)`: "now" (inside a call from JS) or "receive"
// (inside the WebSocket's listener, when the next frame arrives). Every socket of the page must
// hear of it (`disconnect` "transport error" whose description says the client failed
// internally, with the original error as `cause`), and automatic reconnection must bring them
// back on a fresh module, without a reload.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { browser, serverUrl } from "./harness.mjs";

const TEST_MS = 30_000;

/** Runs `fn([url, ...args])` in a page with rtio loaded as `window.rtio`; returns its result and the page's uncaught errors and console errors. */
async function inPage(server, fn, ...args) {
  const [b, pages, url] = await Promise.all([browser(), serverUrl("node"), serverUrl(server)]);
  const context = await b.newContext();
  const pageErrors = [];
  const consoleErrors = [];
  try {
    const p = await context.newPage();
    p.on("pageerror", (err) => pageErrors.push(`${err.name}: ${err.message}`));
    // (The browser's own report of a missing favicon is not the page's.)
    p.on("console", (msg) => msg.type() === "error" && !msg.location().url.endsWith("/favicon.ico") && consoleErrors.push(msg.text()));
    await p.addInitScript(() => {
      // Every way to instantiate a module is counted.
      window.instantiations = 0;
      for (const name of ["instantiate", "instantiateStreaming"]) {
        const f = WebAssembly[name];
        WebAssembly[name] = function (...args) {
          instantiations++;
          return f.apply(this, args);
        };
      }
      WebAssembly.Instance = new Proxy(WebAssembly.Instance, {
        construct(target, args, newTarget) {
          instantiations++;
          return Reflect.construct(target, args, newTarget);
        },
      });
    });
    await p.goto(pages + "/tests/pages/blank.html");
    await p.evaluate(async () => (window.rtio = await import("/pkg/index.js")));
    const result = await p.evaluate(fn, [url, ...args]);
    return { result, pageErrors, consoleErrors };
  } finally {
    await context.close();
  }
}

/** The page-side scenario: two Managers connected, the wasm made to fail `when`, then what each socket saw. */
const scenario = async ([url, when, reconnection]) => {
  const { io } = window.rtio;
  const fail = Symbol.for("rtio.failForTests");
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const connected = (s) => new Promise((resolve) => (s.connected ? resolve() : s.once("connect", resolve)));
  // Over WebSocket only: the test counts the page's console errors, and closing a connection
  // while its upgrade's probe is still being made is one in Chromium, whatever the client.
  const opts = { forceNew: true, transports: ["websocket"], reconnection, reconnectionDelay: 100 };
  const sockets = [io(url, opts), io(url + "/second", opts)];
  const seen = sockets.map(() => []);
  const managerErrors = [];
  sockets.forEach((s, i) => {
    s.on("disconnect", (reason, description) =>
      seen[i].push({ disconnect: reason, message: description?.message, cause: description?.cause?.message }),
    );
    s.on("connect", () => seen[i].push("connect"));
    s.io.on("error", (err) => managerErrors.push(err.message));
  });
  await Promise.all(sockets.map(connected));
  const before = await Promise.all(sockets.map((s) => s.timeout(5000).emitWithAck("echo", "before")));
  sockets[0].io[fail](when);
  // "receive": the next frame that arrives makes the wasm fail inside its listener.
  if (when == "receive") sockets[0].emit("echo", "provoke", () => {});
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && seen.some((s) => !s.some((e) => e.disconnect))) await sleep(20);
  let after = null;
  if (reconnection) {
    await Promise.all(sockets.map(connected));
    after = await Promise.all(sockets.map((s) => s.timeout(5000).emitWithAck("echo", "after")));
  } else {
    await sleep(500);
    const states = sockets.map((s) => ({ connected: s.connected, active: s.active }));
    sockets.forEach((s) => s.connect());
    await Promise.all(sockets.map(connected));
    after = { states, replies: await Promise.all(sockets.map((s) => s.timeout(5000).emitWithAck("echo", "after"))) };
  }
  // A new connection made now works too.
  const fresh = io(url, { forceNew: true, transports: ["websocket"] });
  await connected(fresh);
  const freshReply = await fresh.timeout(5000).emitWithAck("echo", "fresh");
  const seenBeforeClose = JSON.parse(JSON.stringify(seen));
  for (const s of [...sockets, fresh]) s.close();
  return { before, seen: seenBeforeClose, managerErrors: [...new Set(managerErrors)], after, freshReply, instantiations };
};

const TRAPPED = "rtio: the client failed internally; it starts again with the next connection attempt";
const CAUSE = "failing on purpose (a test)";

for (const server of ["node", "rust"]) {
  describe(`a wasm trap [${server} server]`, () => {
    for (const when of ["now", "receive"]) {
      const where = when == "now" ? "in a call from JS" : "in the WebSocket's listener";
      it(`${where}: every socket disconnects, told why, and reconnection brings them back on a fresh module`, { timeout: TEST_MS }, async () => {
        const { result, pageErrors, consoleErrors } = await inPage(server, scenario, when, true);
        const told = { disconnect: "transport error", message: TRAPPED, cause: CAUSE };
        assert.deepEqual(result, {
          before: ["before", "before"],
          seen: [
            ["connect", told, "connect"],
            ["connect", told, "connect"],
          ],
          managerErrors: [TRAPPED],
          after: ["after", "after"],
          freshReply: "fresh",
          // The first module, and the fresh one.
          instantiations: 2,
        });
        // In a listener, the trap also reaches the page as the browser reports an uncaught error.
        assert.deepEqual(pageErrors, when == "now" ? [] : ["RuntimeError: unreachable"]);
        assert.deepEqual(consoleErrors, []);
      });
    }

    it("with reconnection off, the sockets stay disconnected until connect(), which uses a fresh module", { timeout: TEST_MS }, async () => {
      const { result, pageErrors } = await inPage(server, scenario, "now", false);
      const told = { disconnect: "transport error", message: TRAPPED, cause: CAUSE };
      assert.deepEqual(result, {
        before: ["before", "before"],
        seen: [
          ["connect", told, "connect"],
          ["connect", told, "connect"],
        ],
        managerErrors: [TRAPPED],
        after: {
          states: [
            { connected: false, active: false },
            { connected: false, active: false },
          ],
          replies: ["after", "after"],
        },
        freshReply: "fresh",
        instantiations: 2,
      });
      assert.deepEqual(pageErrors, []);
    });
  });
}
