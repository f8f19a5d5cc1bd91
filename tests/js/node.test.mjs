// The package in Node 20 (what server renders, test runners and scripts do): importing any
// entry succeeds and does nothing; `io()` without the wasm says how to provide it; with
// `initSync(bytes)` the wasm initialises and runs. (Node 20 has no WebSocket: the connection
// attempt itself fails as a transport error, which shows the wasm ran it.)

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO } from "./harness.mjs";

test("Node: import rtio, rtio/sse, rtio/ws; io() without the wasm is a clear connect_error; initSync(bytes) runs it", { timeout: 30_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), "rtio-node-"));
  try {
    mkdirSync(path.join(dir, "node_modules"));
    symlinkSync(path.join(REPO, "pkg"), path.join(dir, "node_modules/rtio"), "dir");
    writeFileSync(
      path.join(dir, "main.mjs"),
      `
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
const out = {};
const rtio = await import("rtio");
const sse = await import("rtio/sse");
const ws = await import("rtio/ws");
out.exports = { io: typeof rtio.io, init: typeof rtio.init, initSync: typeof rtio.initSync, sse: typeof sse.sse, ws: typeof ws.ws };
const firstError = (s) => new Promise((resolve) => s.once("connect_error", (err) => resolve(err.message)));
// Before the wasm is there: the first connection says why it cannot be made, and how.
const a = rtio.io("http://127.0.0.1:9", { reconnection: false });
out.withoutWasm = await firstError(a);
// The wasm from its bytes, as the package exports it.
rtio.initSync(readFileSync(fileURLToPath(import.meta.resolve("rtio/rtio.wasm"))));
// (The wasm is ready: the attempt starts at once, so the listener goes on first.)
const b = rtio.io("http://127.0.0.1:9", { reconnection: false, autoConnect: false });
const failed = firstError(b);
b.connect();
out.withWasm = await failed;
a.close();
b.close();
console.log(JSON.stringify(out));
`,
    );
    const stdout = execFileSync(process.execPath, ["main.mjs"], { cwd: dir, encoding: "utf8", timeout: 20_000 });
    const out = JSON.parse(stdout.trim().split("\n").pop());
    const wasmUrl = "file://" + path.join(REPO, "pkg/rtio.wasm");
    assert.deepEqual(out.exports, { io: "function", init: "function", initSync: "function", sse: "function", ws: "function" });
    assert.match(out.withoutWasm, new RegExp(`^rtio: cannot load ${wasmUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*initSync`));
    // Long-polling first, as socket.io-client: nothing listens on port 9.
    assert.equal(out.withWasm, "xhr poll error");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
