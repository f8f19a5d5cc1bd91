// What the browser tests and the chaos driver share: starting and stopping the test servers
// (child processes that print `LISTENING <url>`), and launching headless Chromium with the
// page helpers every test page gets. No node:test here, so plain scripts can use it too.

import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, "../..");
export const CHROMIUM = process.env.RTIO_CHROMIUM || "/usr/bin/chromium";
export const RUST_BIN = process.env.RTIO_RUST_SERVER_BIN || path.join(REPO, "target/debug/rtio-server");

// Without the background-networking flags Chromium keeps trying to reach the (closed) network.
export const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const SERVER_START_MS = 20_000;

// Runs in every page before any of its scripts: a WebSocket constructor that counts instances
// (installed before the client module is imported, so the client sees it) and small helpers the
// page functions use.
export const INIT_SCRIPT = `(() => {
  const Native = window.WebSocket;
  const record = { count: 0, urls: [] };
  window.__ws = record;
  window.WebSocket = class WebSocket extends Native {
    constructor(...args) {
      super(...args);
      record.count++;
      record.urls.push(String(args[0]));
    }
  };

  // The memories of the wasm instances the page makes, in order, so tests can check that
  // hostile input leaves them bounded.
  const memories = (window.__wasmMemories = []);
  // Each one's size when it was made (the package loads its wasm on first use: a memory made
  // during a test is measured from there).
  const starts = (window.__wasmMemoryStarts = []);
  // (Whatever its export's name: the package's wasms have minified ones.)
  const made = (instance) => {
    for (const memory of Object.values(instance.exports || {}))
      if (memory instanceof WebAssembly.Memory) memories.push(memory), starts.push(memory.buffer.byteLength);
  };
  for (const name of ["instantiate", "instantiateStreaming"]) {
    const native = WebAssembly[name];
    WebAssembly[name] = async function (...args) {
      const out = await native.apply(this, args);
      made(out.instance || out);
      return out;
    };
  }
  WebAssembly.Instance = new Proxy(WebAssembly.Instance, {
    construct(target, args, newTarget) {
      const instance = Reflect.construct(target, args, newTarget);
      made(instance);
      return instance;
    },
  });

  window.sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // Resolves with the listener's arguments on the next \`event\`.
  window.waitFor = (emitter, event, ms = 3000) => new Promise((resolve, reject) => {
    const handler = (...args) => { clearTimeout(timer); emitter.off(event, handler); resolve(args); };
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error('timed out after ' + ms + ' ms waiting for "' + event + '"'));
    }, ms);
    emitter.on(event, handler);
  });

  // Resolves once the socket is connected; rejects on connect_error or timeout.
  window.connected = (socket, ms = 3000) => new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    const done = () => { clearTimeout(timer); socket.off("connect", ok); socket.off("connect_error", bad); };
    const ok = () => { done(); resolve(); };
    const bad = (err) => { done(); reject(new Error("connect_error: " + (err && err.message))); };
    const timer = setTimeout(() => { done(); reject(new Error("timed out after " + ms + " ms waiting for connect")); }, ms);
    socket.on("connect", ok);
    socket.on("connect_error", bad);
  });

  window.until = async (predicate, ms = 3000, what = "condition") => {
    const deadline = performance.now() + ms;
    while (!predicate()) {
      if (performance.now() > deadline) throw new Error("timed out after " + ms + " ms waiting for " + what);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  // JSON-friendly view of a value: binary becomes { $ab: [bytes] } (ArrayBuffer) or
  // { $view: "Uint8Array", bytes: [...] } (typed array / DataView), so tests can compare types too.
  window.plain = (v) => {
    if (v instanceof ArrayBuffer) return { $ab: Array.from(new Uint8Array(v)) };
    if (ArrayBuffer.isView(v)) {
      return { $view: v.constructor.name, bytes: Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    }
    if (typeof Blob !== "undefined" && v instanceof Blob) return { $blob: v.size };
    if (Array.isArray(v)) return v.map(window.plain);
    if (v && typeof v === "object") {
      const out = {};
      for (const [k, x] of Object.entries(v)) out[k] = window.plain(x);
      return out;
    }
    if (v === undefined) return { $undefined: true };
    return v;
  };
})();`;

// ---------------------------------------------------------------------------------------------
// Servers

/** Every child process started here and still running. */
export const started = new Set();

export function startServer(label, command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    started.add(child);
    let stdout = "";
    let stderr = "";
    let settled = false;
    const fail = (msg) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill("SIGKILL");
      reject(new Error(`${label} server: ${msg}${stderr ? `\n--- stderr ---\n${stderr}` : ""}`));
    };
    const timer = setTimeout(
      () => fail(`no LISTENING line within ${SERVER_START_MS} ms`),
      SERVER_START_MS,
    );
    child.stderr.on("data", (d) => {
      stderr = (stderr + d).slice(-8000);
    });
    child.stdout.on("data", (d) => {
      if (settled) return; // keep draining so the pipe never fills
      stdout += d;
      const m = /^LISTENING (https?:\/\/127\.0\.0\.1:\d+)\s*$/m.exec(stdout);
      if (m) {
        settled = true;
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
    child.on("error", (err) => fail(`could not start ${command}: ${err.message}`));
    child.on("exit", (code, signal) => {
      started.delete(child);
      fail(`exited before listening (code ${code}, signal ${signal})`);
    });
  });
}

/** Stops a child process by its PID: SIGTERM, then SIGKILL after 5 s. */
export async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

// Last resort if the test process dies without running its `after` hook.
process.on("exit", () => {
  for (const child of started) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
});

/**
 * Starts `command args... --port 0` as a server that a test may crash and bring back:
 * `kill()` ends it with SIGKILL (no goodbye to its clients), `restart()` starts it again on the
 * same port, `stop()` ends it for good.
 */
export async function restartable(label, command, args) {
  const launch = (port) => startServer(label, command, [...args, "--port", String(port)]);
  let { url, child } = await launch(0);
  const port = new URL(url).port;
  return {
    url,
    port: Number(port),
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
    async restart() {
      ({ child } = await launch(port));
    },
    stop: () => stopProcess(child),
  };
}
