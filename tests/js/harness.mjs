// Shared harness for the browser tests of the JS API (run with `node --test tests/js/`).
//
// Each test file gets one headless Chromium and runs every test against both test servers
// (Node socket.io and the Rust server), each test in a fresh browser context.
//
// Environment:
//   RTIO_CLIENT            module imported by the page, resolved against the page URL
//                          (default /pkg/index.js; the reference client is
//                          /vendor/socket.io-client/socket.io.esm.min.js). It must export `io`.
//   RTIO_NODE_URL          use a running Node test server instead of starting one
//   RTIO_RUST_URL          use a running Rust test server instead of starting one
//   RTIO_RUST_SERVER_BIN   Rust server binary to start (default <repo>/target/debug/rtio-server)
//   RTIO_SKIP_RUST=1       skip the Rust-server suites (local work only; CI must not set it)
//   RTIO_CHROMIUM          browser executable (default /usr/bin/chromium)

import { after, describe, it } from "node:test";
import { existsSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, INIT_SCRIPT, REPO, RUST_BIN, restartable, startServer, started, stopProcess } from "./launch.mjs";

export { REPO, stopProcess };
export const CLIENT_URL = process.env.RTIO_CLIENT || "/pkg/index.js";
const PAGE_PATH = "/tests/pages/blank.html";
// The test pages come from the Node server: the Rust server accepts them from any origin, with
// no session cookie (the origin checks and the sessions are tested in origin.test.mjs).
const ANY_ORIGIN = ["--allow-origin", "*", "--no-sessions"];
const SKIP_RUST = process.env.RTIO_SKIP_RUST === "1";

const DEFAULT_TEST_MS = 20_000;
const DEFAULT_RUN_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Servers

function checkLocal(url, varName) {
  let u;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`${varName} is not a URL: ${url}`);
  }
  if (!["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) {
    throw new Error(`${varName} must point to the loopback interface, got ${url}`);
  }
  return url.replace(/\/+$/, "");
}

const serverPromises = {};

export function serverUrl(which) {
  if (!serverPromises[which]) {
    serverPromises[which] = (async () => {
      if (which === "node") {
        if (process.env.RTIO_NODE_URL) return checkLocal(process.env.RTIO_NODE_URL, "RTIO_NODE_URL");
        const script = path.join(REPO, "tests/servers/node/server.mjs");
        return (await startServer("Node", process.execPath, [script, "--port", "0"])).url;
      }
      if (process.env.RTIO_RUST_URL) return checkLocal(process.env.RTIO_RUST_URL, "RTIO_RUST_URL");
      if (!existsSync(RUST_BIN)) {
        throw new Error(
          `Rust test server binary not found at ${RUST_BIN}. Build the rtio-server binary (examples/server), ` +
            `or point RTIO_RUST_SERVER_BIN at it, or set RTIO_RUST_URL to a running server. ` +
            `RTIO_SKIP_RUST=1 skips these tests for local work only.`,
        );
      }
      return (await startServer("Rust", RUST_BIN, ["--port", "0", ...ANY_ORIGIN])).url;
    })();
    // Surface the rejection to every test that asks, not as an unhandled rejection.
    serverPromises[which].catch(() => {});
  }
  return serverPromises[which];
}

/**
 * Starts a server of kind `which` ("node" or "rust") of the test's own, with extra command-line
 * `args` (a shorter heartbeat, say), and returns its base URL. It is stopped with the others
 * when the file's tests end. Pages still come from the shared Node server.
 */
export async function startTestServer(which, args = []) {
  return (await ownServer(which, args)).url;
}

// A test server of the test's own that the test may crash and bring back (`restartable`).
export function ownServer(which, args = []) {
  return which === "node"
    ? restartable("Node", process.execPath, [path.join(REPO, "tests/servers/node/server.mjs"), ...args])
    : restartable("Rust", RUST_BIN, [...ANY_ORIGIN, ...args]);
}

// ---------------------------------------------------------------------------------------------
// Browser

let browserPromise;

export function browser() {
  if (!browserPromise) {
    if (!existsSync(CHROMIUM)) {
      browserPromise = Promise.reject(
        new Error(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`),
      );
    } else {
      browserPromise = chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    }
    browserPromise.catch(() => {});
  }
  return browserPromise;
}

after(async () => {
  if (browserPromise) {
    const b = await browserPromise.catch(() => null);
    await b?.close();
  }
  await Promise.all([...started].map(stopProcess));
});

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// A page with the client module loaded as `window.io`, bound to one target server.
class TestPage {
  constructor(page, url, server) {
    this.page = page;
    this.url = url;
    this.server = server;
  }

  // Runs `fn(arg)` in the page, where `arg.url` is the target server's base URL. `fn` is
  // serialized: it can use only its argument and page globals (io, sleep, waitFor, connected,
  // until, plain, __ws). Returns its result through JSON; rejects after `timeout` ms.
  async run(fn, arg = {}, { timeout = DEFAULT_RUN_MS } = {}) {
    const payload = { src: fn.toString(), arg: { url: this.url, ...arg }, timeout };
    const json = await withTimeout(
      this.page.evaluate(async ({ src, arg, timeout }) => {
        const f = (0, eval)(`(${src})`);
        let timer;
        const limit = new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`page function did not finish within ${timeout} ms`)),
            timeout,
          );
        });
        try {
          const value = await Promise.race([Promise.resolve().then(() => f(arg)), limit]);
          return value === undefined ? undefined : JSON.stringify(value);
        } finally {
          clearTimeout(timer);
        }
      }, payload),
      timeout + 3000,
      "page.evaluate",
    );
    return json === undefined ? undefined : JSON.parse(json);
  }
}

async function runPageTest(server, body) {
  const [b, pagesBase, url] = await Promise.all([browser(), serverUrl("node"), serverUrl(server)]);
  const context = await b.newContext();
  const pageErrors = [];
  const consoleErrors = [];
  let failure;
  try {
    await context.addInitScript(INIT_SCRIPT);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (err) => pageErrors.push(err));
    page.on("crash", () => pageErrors.push(new Error("page crashed")));
    page.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push(msg.text());
    });
    await page.goto(pagesBase + PAGE_PATH);
    await page.evaluate(async (clientUrl) => {
      const mod = await import(clientUrl);
      if (typeof mod.io !== "function") throw new Error(`${clientUrl} does not export io()`);
      window.io = mod.io;
    }, CLIENT_URL);
    await body(new TestPage(page, url, server));
  } catch (err) {
    failure = err;
  } finally {
    await context.close().catch(() => {});
  }
  const details = [];
  if (pageErrors.length) {
    details.push("uncaught page errors:\n" + pageErrors.map((e) => `  ${e.stack || e}`).join("\n"));
  }
  if (consoleErrors.length) {
    details.push("page console errors:\n" + consoleErrors.map((t) => `  ${t}`).join("\n"));
  }
  if (failure) {
    if (details.length && failure instanceof Error) {
      // the reporter prints the stack, which was captured with the original message
      const extra = "\n" + details.join("\n");
      failure.message += extra;
      if (typeof failure.stack === "string") failure.stack += extra;
    }
    throw failure;
  }
  if (pageErrors.length) {
    throw new Error(details.join("\n"));
  }
}

// Declares the tests in `define` once per target server:
//   suite("acks", ({ test, server }) => {
//     test("name", async (page) => { const r = await page.run(async ({ url }) => ..., {}); });
//   });
// `servers` narrows it to some of them (a scenario that needs the Rust server's demo events).
export function suite(title, define, { servers = ["node", "rust"] } = {}) {
  for (const server of servers) {
    const skip = server === "rust" && SKIP_RUST ? "RTIO_SKIP_RUST=1" : false;
    describe(`${title} [${server} server]`, { skip }, () => {
      const test = (name, body, { timeout = DEFAULT_TEST_MS } = {}) =>
        it(name, { timeout }, () => runPageTest(server, body));
      define({ test, server });
    });
  }
}
