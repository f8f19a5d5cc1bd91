// Benchmark of `io(url, { shared: true })`: 5 tabs of one browser sharing one connection against
// 5 tabs with a connection each, in one run. For each: the connections the server holds, its
// memory per tab (heap after a GC with the tabs connected, less the heap once they disconnected
// and the server let go of them; then they connect again), and how fast each tab receives a burst of events the server
// sends it (events/s per tab, the median tab). A socket.io 4.8 server in this process serves
// the page, the built package (pkg/) and:
//   burst n -> emits n "tick" events to the asking socket (shared: one socket, every tab gets
//              them; unshared: each tab asks for its own)
//
// BENCH_DOOR=rust measures the Rust API's `Options::shared` instead, on pages running the
// `SharedTab` of tests/chaos/rust-page (build it first: bash tests/chaos/build-rust-page.sh).
//
// usage: node --expose-gc bench/shared.mjs
//   (BENCH_TABS=5 BENCH_EVENTS=20000 BENCH_REPS=3 BENCH_DOOR=js|rust BENCH_ELECTION=1)
import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Server } from "socket.io";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "..");
const TABS = Number(process.env.BENCH_TABS || 5);
const EVENTS = Number(process.env.BENCH_EVENTS || 20000);
const REPS = Number(process.env.BENCH_REPS || 3);
const RUST = process.env.BENCH_DOOR == "rust";
// BENCH_ELECTION=1: the npm package without SharedWorker, so through the election.
const ELECTION = !!process.env.BENCH_ELECTION;
if (!global.gc) throw new Error("run with node --expose-gc");

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname == "/") return res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>bench</title>");
  const dir = url.pathname.startsWith("/pkg/") ? "pkg" : url.pathname.startsWith("/rust/") ? "tests/pages/chaos-rust" : null;
  if (!dir) return res.writeHead(404).end();
  try {
    const body = await readFile(path.join(REPO, dir, path.basename(url.pathname)));
    const type = url.pathname.endsWith(".wasm") ? "application/wasm" : "text/javascript";
    res.writeHead(200, { "content-type": type }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
const io = new Server(server);
io.on("connection", (socket) =>
  socket.on("burst", (n, ack) => {
    for (let i = 0; i < n; i++) socket.emit("tick", i);
    ack?.();
  }),
);
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const heap = () => {
  for (let i = 0; i < 4; i++) global.gc();
  return process.memoryUsage().heapUsed;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const browser = await chromium.launch({ executablePath: process.env.BENCH_CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
const results = {};
try {
  for (const shared of [true, false]) {
    const label = shared ? "shared" : "unshared";
    const rates = [];
    const perTab = [];
    let clients = 0;
    // Rep 0 warms the server up (its first connections allocate what later ones reuse): not counted.
    for (let rep = 0; rep <= REPS; rep++) {
      const context = await browser.newContext();
      if (ELECTION) await context.addInitScript(() => delete window.SharedWorker);
      // The pages load first, so that the heap measured is the connections'.
      const pages = [];
      for (let i = 0; i < TABS; i++) {
        const page = await context.newPage();
        await page.goto(base + "/");
        await page.evaluate((rust) => (rust ? import("/rust/rtio_chaos_page.js").then((m) => m.default()) : import("/pkg/index.js")), RUST);
        pages.push(page);
      }
      await new Promise((r) => setTimeout(r, 300));
      for (const page of pages)
        await page.evaluate(async ({ shared, rust, url }) => {
          if (rust) {
            const m = await import("/rust/rtio_chaos_page.js");
            const t = new m.SharedTab(url, shared);
            // The emit of a socket of the npm package's, for the measure below.
            window.s = { emit: (ev, n) => t.emit(ev, JSON.stringify([n])), t };
            while (!t.connected()) await new Promise((r) => setTimeout(r, 5));
            return;
          }
          const { io } = await import("/pkg/index.js");
          const s = (window.s = io({ shared, forceNew: !shared, transports: ["websocket"] }));
          await new Promise((resolve, reject) => {
            s.once("connect", resolve);
            s.once("connect_error", reject);
          });
        }, { shared, rust: RUST, url: base });
      await new Promise((r) => setTimeout(r, 500));
      clients = io.engine.clientsCount;
      // The connections' memory: the heap with them, less the heap once the same pages let them
      // go (so that the pages' own HTTP requests count on neither side). Then they connect again.
      const connected = heap();
      for (const page of pages) await page.evaluate(() => (window.s.t ?? window.s).disconnect());
      for (let i = 0; i < 200 && io.engine.clientsCount; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 1000));
      if (rep) perTab.push((connected - heap()) / TABS);
      for (const page of pages)
        await page.evaluate(async () => {
          const t = window.s.t;
          t ? t.open() : window.s.connect();
          while (!(t ? t.connected() : window.s.connected)) await new Promise((r) => setTimeout(r, 5));
        });
      // Each tab counts the burst; the shared tabs get one burst, the others one each.
      const start = (n) =>
        new Promise((resolve) => {
          let got = 0;
          const t0 = performance.now();
          if (window.s.t) return window.s.t.when("tick", n, () => resolve(performance.now() - t0));
          window.s.on("tick", () => ++got == n && resolve(performance.now() - t0));
        });
      const waits = pages.map((p) => p.evaluate(start, EVENTS));
      await new Promise((r) => setTimeout(r, 100));
      const asks = shared ? [pages[0]] : pages;
      await Promise.all(asks.map((p) => p.evaluate((n) => window.s.emit("burst", n), EVENTS)));
      const ms = await Promise.all(waits);
      if (rep) rates.push(...ms.map((t) => (EVENTS / t) * 1000));
      await context.close();
      // The server lets go of the closed connections' objects over a while.
      await new Promise((r) => setTimeout(r, 2000));
    }
    results[label] = { clients, heapPerTab: median(perTab), eventsPerTab: median(rates) };
    console.log(
      `${RUST ? "Rust API, " : ELECTION ? "election, " : ""}${label}: ${TABS} tabs, ${clients} connection(s) at the server, server heap ${(median(perTab) / 1024).toFixed(1)} KiB per tab, ` +
        `${Math.round(median(rates)).toLocaleString("en")} events/s per tab (median of ${rates.length} tabs over ${REPS} runs of ${EVENTS} events)`,
    );
  }
  const { shared: s, unshared: u } = results;
  console.log(`ratios shared/unshared: connections ${s.clients}/${u.clients}, server heap per tab ${(s.heapPerTab / u.heapPerTab).toFixed(2)}, events/s per tab ${(s.eventsPerTab / u.eventsPerTab).toFixed(2)}`);
} finally {
  await browser.close();
  io.close();
}
