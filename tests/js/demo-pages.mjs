// Helpers for the tests of the cursors demo (examples/server/static/): processes of the test's
// own (Rust servers, redis-server) stopped by PID when the file's tests end, the harness's
// headless Chromium, and demo pages in browser contexts of their own.
//
// Environment:
//   RTIO_RUST_SERVER_BIN   Rust server binary (default <CARGO_TARGET_DIR or repo/target>/debug/rtio-server)
//   RTIO_CHROMIUM          browser executable (default /usr/bin/chromium)

import { after } from "node:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { browser } from "./harness.mjs";

// One headless Chromium per test file, the harness's (closed when the file's tests end).
export { browser };

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, "../..");
export const ARTIFACTS = path.join(REPO, "tests/artifacts");
export const RUST_BIN =
  process.env.RTIO_RUST_SERVER_BIN ||
  path.join(process.env.CARGO_TARGET_DIR || path.join(REPO, "target"), "debug/rtio-server");

const START_MS = 20_000;


// ---------------------------------------------------------------------------------------------
// Processes

const children = new Set();

/**
 * Starts `command` and resolves once a line of its stdout matches `ready` (with the match) or
 * rejects if it exits or is not ready within START_MS. `stop()` ends it (SIGTERM, then SIGKILL).
 */
export function startProcess(label, command, args, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let out = "";
    let err = "";
    let settled = false;
    const stop = () => stopChild(child);
    const fail = (msg) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      reject(new Error(`${label}: ${msg}${err ? `\n--- stderr ---\n${err}` : ""}${out ? `\n--- stdout ---\n${out}` : ""}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${START_MS} ms`), START_MS);
    child.stderr.on("data", (d) => (err = (err + d).slice(-8000)));
    child.stdout.on("data", (d) => {
      if (settled) return; // keep draining so the pipe never fills
      out = (out + d).slice(-8000);
      const m = ready.exec(out);
      if (m) {
        settled = true;
        clearTimeout(timer);
        resolve({ match: m, pid: child.pid, stop });
      }
    });
    child.on("error", (e) => fail(`could not start ${command}: ${e.message}`));
    child.on("exit", (code, signal) => {
      children.delete(child);
      fail(`exited before it was ready (code ${code}, signal ${signal})`);
    });
  });
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(child.pid, "SIGTERM");
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
  }, 5000);
  await exited;
  clearTimeout(timer);
}

/** A Rust server of the test's own (`--port 0` plus `args`): `{ url, stop }`. */
export async function startRustServer(args = []) {
  if (!existsSync(RUST_BIN)) {
    throw new Error(
      `Rust server binary not found at ${RUST_BIN}: build it with \`cargo build -p rtio-example-server\`, ` +
        `or point RTIO_RUST_SERVER_BIN at it.`,
    );
  }
  const p = await startProcess("rtio-server", RUST_BIN, ["--port", "0", ...args], /^LISTENING (http:\/\/127\.0\.0\.1:\d+)\s*$/m);
  return { url: p.match[1], pid: p.pid, stop: p.stop };
}

/** A free TCP port on 127.0.0.1 (free when asked: the caller binds it right away). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A throwaway redis-server on 127.0.0.1 (no persistence): `{ url, stop }`. */
export async function startRedis() {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (probe.error) {
    throw new Error(
      "redis-server is not on PATH (" + probe.error.code + "). The scale-out test needs it: " +
        "`bash tools/setup.sh` installs Debian's redis-server (apt-get install -y redis-server).",
    );
  }
  const port = await freePort();
  const p = await startProcess(
    "redis-server",
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--logfile", ""],
    /Ready to accept connections/,
  );
  return { url: `redis://127.0.0.1:${port}`, pid: p.pid, stop: p.stop };
}

// ---------------------------------------------------------------------------------------------
// Browser and demo pages

after(async () => {
  await Promise.all([...children].map(stopChild));
});

// Last resort if the test process dies without running its `after` hook.
process.on("exit", () => {
  for (const child of children) {
    try {
      process.kill(child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

export const VIEWPORT = { width: 900, height: 600 };

/**
 * Opens the demo at `base` in a context of its own, in `room` (the URL hash), as `me`
 * ({ name, color }, saved where the page keeps it, or the page's random choice), over
 * `transport` ("socketio", the default, "sse" or "ws": the page's `?transport=`), Socket.IO on
 * `transports` if given (the page's `?transports=`, e.g. "polling"), and waits until it is
 * connected and in the room (unless `wait` is false). Returns { page, context, id, errors, dialogs, close }.
 */
export async function openDemo(base, room, me, { wait = true, transport, transports } = {}) {
  const b = await browser();
  const context = await b.newContext({ viewport: VIEWPORT });
  const errors = [];
  const dialogs = [];
  try {
    if (me) {
      await context.addInitScript((saved) => {
        if (!sessionStorage.getItem("demo-test-init")) {
          localStorage.setItem("rtio-cursors-me", saved);
          sessionStorage.setItem("demo-test-init", "1");
        }
      }, JSON.stringify(me));
    }
    // The demo runs under a Content-Security-Policy: anything it blocks is a page error.
    await context.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) =>
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline code"}`),
      );
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (e) => errors.push(String(e.stack || e)));
    page.on("console", (msg) => msg.type() === "error" && errors.push(msg.text()));
    page.on("dialog", (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    const query = transport ? `?transport=${transport}` : transports ? `?transports=${transports}` : "";
    await page.goto(`${base}/${query}#${encodeURIComponent(room)}`);
    if (wait) await waitJoined(page);
    const id = wait ? await page.evaluate(() => window.__demo.socket.id) : undefined;
    return {
      page,
      context,
      id,
      errors,
      dialogs,
      close: () => context.close().catch(() => {}),
    };
  } catch (err) {
    await context.close().catch(() => {});
    err.message += errors.length ? `\npage errors:\n  ${errors.join("\n  ")}` : "";
    throw err;
  }
}

/** Waits until the page shows itself connected and in its room's presence list. */
export async function waitJoined(page, timeout = 10_000) {
  await page
    .waitForFunction(
      () =>
        document.querySelector("#status")?.dataset.state === "connected" &&
        window.__demo?.room?.joined &&
        document.querySelector(`#members [data-member-id="${window.__demo.socket.id}"]`),
      null,
      { timeout },
    )
    .catch(async (err) => {
      const state = await page
        .evaluate(() => ({
          status: document.querySelector("#status")?.textContent,
          socket: window.__demo?.socket.id,
          room: window.__demo?.roomName,
          joined: window.__demo?.room?.joined,
          members: window.__demo?.room?.presence.members.map((m) => m.id),
          listed: [...document.querySelectorAll("#members [data-member-id]")].map((li) => li.dataset.memberId),
          error: document.querySelector("#room-error")?.textContent,
        }))
        .catch((e) => `unreadable: ${e.message}`);
      err.message += `\npage state: ${JSON.stringify(state)}`;
      throw err;
    });
}

/** The presence list as the page shows it: [{ id, name, self }] in list order. */
export function membersOf(page) {
  return page.$$eval("#members [data-member-id]", (items) =>
    items.map((li) => ({
      id: li.dataset.memberId,
      name: li.querySelector(".member-name").textContent,
      self: li.hasAttribute("data-self"),
    })),
  );
}

/** The ids of the members the page lists, sorted. */
export async function memberIds(page) {
  return (await membersOf(page)).map((m) => m.id).sort();
}

/** Waits until the page lists exactly `ids` (in any order). */
export async function waitMembers(page, ids, timeout = 5000) {
  const want = [...ids].sort();
  await page
    .waitForFunction(
      (want) => {
        const have = [...document.querySelectorAll("#members [data-member-id]")].map((li) => li.dataset.memberId).sort();
        return JSON.stringify(have) === JSON.stringify(want);
      },
      want,
      { timeout },
    )
    .catch(async (err) => {
      err.message += `\nwanted ${JSON.stringify(want)}, the page lists ${JSON.stringify(await memberIds(page).catch(() => "?"))}`;
      throw err;
    });
}

/** The cursors the page draws: [{ id, x, y, name, visible }]. */
export function cursorsOf(page) {
  return page.$$eval("#cursors .cursor", (els) =>
    els.map((el) => ({
      id: el.dataset.memberId,
      x: Number(el.dataset.x),
      y: Number(el.dataset.y),
      name: el.querySelector(".cursor-label").textContent,
      visible: !el.hidden && el.getBoundingClientRect().width > 0,
    })),
  );
}

/**
 * Waits until `page` draws the cursor of member `id` at (`x`, `y`) of the viewport in pixels
 * (as sent: rounded to 1/10,000 of the viewport); resolves with the milliseconds it took.
 */
export async function waitCursor(page, id, x, y, timeout = 5000) {
  const t0 = Date.now();
  await page.waitForFunction(
    ({ id, x, y }) => {
      const el = document.querySelector(`#cursors .cursor[data-member-id="${id}"]`);
      return (
        el &&
        !el.hidden &&
        Math.abs(Number(el.dataset.x) - x) < 1e-3 &&
        Math.abs(Number(el.dataset.y) - y) < 1e-3
      );
    },
    { id, x: x / VIEWPORT.width, y: y / VIEWPORT.height },
    { timeout, polling: 5 },
  );
  return Date.now() - t0;
}

/** A room name no other test uses. */
export const uniqueRoom = (prefix) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

/** Throws if a page reported errors or opened a dialog. */
export function assertClean(...visitors) {
  for (const v of visitors) {
    if (v.errors.length) throw new Error(`page errors in ${v.id}:\n  ${v.errors.join("\n  ")}`);
    if (v.dialogs.length) throw new Error(`dialogs in ${v.id}: ${v.dialogs.join(", ")}`);
  }
}
