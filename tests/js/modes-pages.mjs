// Helpers for the browser tests of the SSE and plain-WebSocket modes (MODES.md): the test
// servers as processes of the test's own (stopped by PID when the file's tests end; see
// demo-pages.mjs), and pages with `rtio/sse` and `rtio/ws` loaded from the server under test.

import path from "node:path";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import { browser, REPO, RUST_BIN, startProcess, freePort } from "./demo-pages.mjs";

const LISTENING = /^LISTENING (http:\/\/127\.0\.0\.1:\d+)\s*$/m;

/**
 * A Node test server (`tests/servers/<kind>/server.mjs`) of the test's own, with `args`:
 * `{ url, kill(), restart() }` — `kill` is a SIGKILL (no goodbye), `restart` brings it back on
 * the same port.
 */
export async function startNodeServer(kind, args = []) {
  const script = path.join(REPO, `tests/servers/${kind}/server.mjs`);
  const port = await freePort();
  const launch = () => startProcess(`${kind} server`, process.execPath, [script, "--port", String(port), ...args], LISTENING);
  return restartable(await launch(), launch);
}

/** A Rust server (examples/server) with `--test-controls` that can be killed and restarted on its port. */
export async function startRustModes(args = []) {
  const port = await freePort();
  // Pages of another origin (the Node server's) connect to it.
  const launch = () => startProcess("rtio-server", RUST_BIN, ["--port", String(port), "--test-controls", "--allow-origin", "*", "--no-sessions", ...args], LISTENING);
  return restartable(await launch(), launch);
}

/** `{ url, kill(), restart(), stop() }` around a started process `p` and its `launch()`. */
function restartable(p, launch) {
  return {
    url: p.match[1],
    async kill() {
      if (!p) return;
      process.kill(p.pid, "SIGKILL");
      await p.stop();
      p = null;
    },
    async restart() {
      p = await launch();
    },
    stop: () => p?.stop(),
  };
}

/** A fresh temporary directory (for `--log` files). */
export const tempDir = () => mkdtempSync(path.join(os.tmpdir(), "rtio-modes-"));

/** JSON over HTTP to a test server: `post(url, body)` and `get(url)`. */
export async function post(url, body = {}) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
export async function get(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.json();
}

/**
 * A page from `base` (its /tests/pages/blank.html) with `window.sse` and `window.ws` from the
 * built package, in a browser context of its own: `{ page, context, run(fn, arg), errors, close }`.
 * `run` evaluates `fn(arg)` in the page and returns its JSON result.
 */
export async function modesPage(base) {
  const b = await browser();
  const context = await b.newContext();
  const errors = [];
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (e) => errors.push(String(e.stack || e)));
  page.on("console", (msg) => msg.type() === "error" && errors.push(msg.text()));
  await page.goto(base + "/tests/pages/blank.html");
  await page.evaluate(async () => {
    window.sse = (await import("/pkg/sse.js")).sse;
    window.ws = (await import("/pkg/ws.js")).ws;
    window.sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    // Resolves with the arguments of `c`'s next `ev` (rejects after `ms`).
    window.next = (c, ev, ms = 5000) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${ev} within ${ms} ms`)), ms);
        c.once(ev, (...a) => (clearTimeout(t), resolve(a)));
      });
    // Resolves once `pred()` is true (polled every 10 ms; rejects after `ms`).
    window.until = async (pred, ms = 5000, what = "condition") => {
      const end = Date.now() + ms;
      while (!(await pred())) {
        if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
  });
  return {
    page,
    context,
    errors,
    run: async (fn, arg = {}) => {
      try {
        return await page.evaluate(fn, arg);
      } catch (e) {
        if (errors.length) e.message += `\npage errors:\n  ${errors.join("\n  ")}`;
        throw e;
      }
    },
    close: () => context.close().catch(() => {}),
  };
}
