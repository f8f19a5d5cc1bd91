// What the tests of a connection shared among tabs (shared.test.mjs for the npm package,
// shared-rust.test.mjs for the Rust API) have in common: the socket.io 4.8 server whose own
// count of connections is their measure, and the pages of one browser context.

import { createServer } from "node:http";
import { Server } from "socket.io";
import { browser, serverUrl } from "./harness.mjs";
import { INIT_SCRIPT } from "./launch.mjs";
import { attachRooms } from "../../js/server.js";

/**
 * Starts the server, on 127.0.0.1: `echo` acks its argument, `hit` is recorded in `hits`,
 * `never` is never acked, `ask` has the server emit `question` with an ack, counted in
 * `answers` when answered; namespace `/other` echoes too; rooms (`attachRooms`). Returns
 * `{ io, url, hits, answers, clients(), close() }`.
 */
export async function startSharingServer() {
  const http = createServer();
  const io = new Server(http, { cors: { origin: true, credentials: true } });
  const state = {
    io,
    url: "",
    hits: [],
    answers: 0,
    clients: () => io.engine.clientsCount,
    close: () => new Promise((resolve) => io.close(() => resolve())),
  };
  io.on("connection", (socket) => {
    socket.on("echo", (x, ack) => ack(x));
    socket.on("hit", (page) => state.hits.push(page));
    socket.on("never", () => {});
    socket.on("ask", () => socket.emit("question", () => state.answers++));
  });
  io.of("/other").on("connection", (socket) => socket.on("echo", (x, ack) => ack(x)));
  attachRooms(io);
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${http.address().port}`;
  return state;
}

/** Waits until `ok()` (which may be async) holds, failing after `ms` with `what`. */
export async function until(ok, ms, what) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A browser context whose pages count their WebSockets (`window.__ws`), with `initScripts`
 * added; `open(n, setup, args)` opens `n` pages on a blank page of the test server and runs
 * `setup(args)` in each, keeping what it returns as `page.sid`. The pages opened are in `pages`.
 */
export async function tabs(...initScripts) {
  const context = await (await browser()).newContext();
  await context.addInitScript(INIT_SCRIPT);
  for (const s of initScripts) await context.addInitScript(s);
  const self = {
    context,
    pages: [],
    async open(n, setup, args) {
      const base = await serverUrl("node");
      const out = [];
      for (let i = 0; i < n; i++) {
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        page.on("pageerror", (e) => console.error(`page error: ${e.stack || e}`));
        await page.goto(`${base}/tests/pages/blank.html`);
        page.sid = await page.evaluate(setup, args);
        out.push(page);
      }
      self.pages.push(...out);
      return out;
    },
  };
  return self;
}

/** The page whose tab holds the connection (election mode): the one that opened a WebSocket. */
export async function hostPage(pages) {
  for (const p of pages) if ((await p.evaluate(() => window.__ws.count)) > 0) return p;
  throw new Error("no page holds the connection");
}
