// Micro-benchmark: the client's own main-thread work per event, without the network.
//
// bench/run.mjs measures whole events: most of the CPU of a received event is the browser's own
// (the frame crossing from the network process, the MessageEvent, its string), the same for
// every client, and run-to-run noise hides differences of a few percent. Here each client
// connects to bench/server.mjs as in run.mjs, then, in the page:
//   - receive: one prepared text frame (`42["tick",{...}]`, small and ~1 KB) is handed to the
//     WebSocket's `onmessage` N times in a loop, with a "tick" listener counting (until the
//     next task: socket.io-client delivers each packet a microtask after decoding it);
//   - ack: N/10 sequential `emitWithAck`, each answered by a frame handed to `onmessage` a
//     microtask after the client wrote its emit;
//   - emit: N `socket.emit("up", {...})` with the WebSocket's `send` replaced by a no-op.
// Times are medians over ROUNDS rounds, the clients interleaved, in µs per event.
//
// Usage: bash bench/run.sh micro   (MICRO_N=200000 MICRO_ROUNDS=7 BENCH_CHROMIUM=/usr/bin/chromium)

import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.MICRO_N || 200000);
const ROUNDS = Number(process.env.MICRO_ROUNDS || 7);
const CLIENTS = ["rtio", "sioc"];

const server = spawn(process.execPath, [path.join(HERE, "server.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
const stopServer = () => server.exitCode === null && server.kill();
process.on("exit", stopServer);
const origin = await new Promise((resolve, reject) => {
  server.on("exit", (code) => reject(new Error("bench server exited with " + code)));
  server.stdout.on("data", (d) => {
    const m = /LISTENING (\S+)/.exec(String(d));
    if (m) resolve(m[1]);
  });
});

const browser = await chromium.launch({ executablePath: process.env.BENCH_CHROMIUM || "/usr/bin/chromium" });
try {
  const pages = {};
  for (const client of CLIENTS) {
    const page = await browser.newPage();
    // Keeps the page's WebSockets, to reach the client's.
    await page.addInitScript(() => {
      const Native = WebSocket;
      window.__sockets = [];
      window.WebSocket = class extends Native {
        constructor(...args) {
          super(...args);
          window.__sockets.push(this);
        }
      };
    });
    await page.goto(`${origin}/page/bench.html?client=${client}`);
    await page.waitForFunction(() => window.bench, null, { timeout: 30000 });
    pages[client] = page;
  }

  const times = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const client of CLIENTS) {
      const t = await pages[client].evaluate(async (n) => {
        const ws = window.__sockets.at(-1);
        const socket = window.bench.socket;
        const out = {};
        const big = JSON.stringify({ n: 1, s: "x".repeat(1000) });
        for (const [name, frame, count] of [
          ["receive small", '42["tick",{"n":1,"s":"abcdefghijklmnop"}]', n],
          ["receive ~1 KB", `42["tick",${big}]`, n / 5],
        ]) {
          const event = new MessageEvent("message", { data: frame });
          let seen = 0;
          const h = () => seen++;
          socket.on("tick", h);
          const t0 = performance.now();
          for (let i = 0; i < count; i++) ws.onmessage(event);
          // socket.io-client delivers each decoded packet a microtask later.
          await new Promise((r) => setTimeout(r, 0));
          out[name] = ((performance.now() - t0) * 1000) / count;
          socket.off("tick", h);
          if (seen !== count) throw new Error(`${name}: ${seen} of ${count} events delivered`);
        }
        // ack: emitWithAck, answered (a microtask after the write) by a frame handed to
        // `onmessage`, awaited before the next.
        ws.send = (frame) => {
          const m = /^42(\d+)\["echo",(\d+)\]$/.exec(frame);
          if (m) queueMicrotask(() => ws.onmessage(new MessageEvent("message", { data: `43${m[1]}[${m[2]}]` })));
        };
        try {
          const count = n / 10;
          const t0 = performance.now();
          for (let i = 0; i < count; i++) {
            if ((await socket.emitWithAck("echo", i)) !== i) throw new Error("ack: wrong answer");
          }
          out.ack = ((performance.now() - t0) * 1000) / count;
        } finally {
          delete ws.send;
        }
        ws.send = () => {};
        try {
          const payload = { s: "abcdefghijklmnop", n: 0 };
          const t0 = performance.now();
          for (let i = 0; i < n; i++) {
            payload.n = i;
            socket.emit("up", payload);
          }
          // Writes left for a microtask (a burst) are part of the work.
          await new Promise((r) => setTimeout(r, 0));
          out.emit = ((performance.now() - t0) * 1000) / n;
        } finally {
          delete ws.send;
        }
        return out;
      }, N);
      for (const k in t) ((times[k] ||= {})[client] ||= []).push(t[k]);
    }
  }

  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  console.log(`client's own work per event, µs (median of ${ROUNDS} rounds, ${N} events)`);
  console.log("| scenario | rtio | socket.io-client | rtio / socket.io-client |");
  console.log("|---|---:|---:|---:|");
  for (const [k, v] of Object.entries(times)) {
    const r = median(v.rtio);
    const s = median(v.sioc);
    console.log(`| ${k} | ${r.toFixed(3)} | ${s.toFixed(3)} | ${(r / s).toFixed(2)}× |`);
  }
} finally {
  await browser.close();
  stopServer();
}
