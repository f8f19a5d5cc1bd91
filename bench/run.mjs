// Benchmark driver: starts bench/server.mjs and /usr/bin/chromium, speaks raw CDP to one page
// (no Network domain), runs every scenario for rtio, socket.io-client and the raw baseline
// interleaved, and writes bench/results/latest.{json,md} and BENCHMARKS.md.
//
// Environment (defaults as in issue 3):
//   BENCH_REPS=5 BENCH_DOWN=100000 BENCH_DOWN_1K=20000 BENCH_UP=100000 BENCH_ACK=5000
//   BENCH_CYCLES=1000 BENCH_CONNECTS=3 (extra fresh page loads per client and repetition)
//   BENCH_CLIENTS=rtio,sioc,raw  BENCH_TIMEOUT_S=1800  BENCH_CHROMIUM=/usr/bin/chromium
//   BENCH_CYCLES_CLOSE=1 (each cycle also calls socket.io.close() after socket.disconnect())
//   BENCH_NO_DOC=1 (do not rewrite BENCHMARKS.md)
//   BENCH_TRANSPORT=polling (HTTP long-polling for rtio and socket.io-client, with smaller
//     default counts: 20000 down, 5000 × 1 KB, 20000 up, 1000 acks, no cycles; writes
//     bench/results/polling.{json,md} and the "## Long-polling" section of BENCHMARKS.md only)
//   BENCH_PROFILE=1 (also take a CDP CPU profile of every timed scenario and write the functions
//     with the most self time to bench/results/profile-<client>-<scenario>.txt; the profiler
//     slows the page, so use it for where-does-the-time-go, not for the table)

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import WebSocket from "ws";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "..");
const env = (k, d) => (process.env[k] ? Number(process.env[k]) : d);
const POLLING = process.env.BENCH_TRANSPORT === "polling";
const CFG = {
  reps: env("BENCH_REPS", 5),
  down: env("BENCH_DOWN", POLLING ? 20000 : 100000),
  down1k: env("BENCH_DOWN_1K", POLLING ? 5000 : 20000),
  up: env("BENCH_UP", POLLING ? 20000 : 100000),
  ack: env("BENCH_ACK", POLLING ? 1000 : 5000),
  cycles: env("BENCH_CYCLES", POLLING ? 0 : 1000),
  connects: env("BENCH_CONNECTS", 3),
};
const CYCLES_CLOSE = process.env.BENCH_CYCLES_CLOSE === "1";
const PROFILE = process.env.BENCH_PROFILE === "1";
const CLIENTS = (process.env.BENCH_CLIENTS || (POLLING ? "rtio,sioc" : "rtio,sioc,raw")).split(",");
const NAMES = { rtio: "rtio", sioc: "socket.io-client", raw: "raw WebSocket" };
const CHROMIUM = process.env.BENCH_CHROMIUM || "/usr/bin/chromium";
const TIMEOUT_S = env("BENCH_TIMEOUT_S", 1800);
const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-extensions",
  // keep timers and rendering of the (never visible) headless page at full speed
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
];

const children = [];
const tmpDirs = [];
function cleanup() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid, "SIGTERM");
      } catch {}
    }
  }
  for (const d of tmpDirs) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {}
  }
}
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));
const overall = setTimeout(() => {
  console.error(`bench: overall timeout of ${TIMEOUT_S}s`);
  process.exit(2);
}, TIMEOUT_S * 1000);
overall.unref();

const log = (...a) => console.error("[bench]", ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function waitLine(child, re, ms, what) {
  return new Promise((res, rej) => {
    let buf = "";
    const t = setTimeout(() => rej(new Error(`${what}: no ${re} within ${ms} ms; output:\n${buf}`)), ms);
    const on = (d) => {
      buf += d;
      const m = buf.match(re);
      if (m) {
        clearTimeout(t);
        res(m);
      }
    };
    child.stdout?.on("data", on);
    child.stderr?.on("data", on);
    child.on("exit", (code) => rej(new Error(`${what} exited (${code}):\n${buf}`)));
  });
}

// ---- CDP over a plain WebSocket -------------------------------------------------------------
class Cdp {
  constructor(url) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    this.id = 0;
    this.pending = new Map();
    this.ws.on("message", (raw) => {
      const m = JSON.parse(raw);
      if (m.id !== undefined) {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.t);
        if (m.error) p.rej(new Error(`${p.method}: ${m.error.message} ${m.error.data || ""}`));
        else p.res(m.result);
      }
    });
    this.ws.on("close", () => {
      for (const p of this.pending.values()) p.rej(new Error("CDP connection closed"));
      this.pending.clear();
    });
  }
  open() {
    return new Promise((res, rej) => {
      this.ws.once("open", res);
      this.ws.once("error", rej);
    });
  }
  send(method, params = {}, sessionId, ms = 180000) {
    const id = ++this.id;
    return new Promise((res, rej) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        rej(new Error(`${method}: CDP timeout after ${ms} ms`));
      }, ms);
      this.pending.set(id, { res, rej, t, method });
      this.ws.send(JSON.stringify({ id, method, params, sessionId }));
    });
  }
  close() {
    this.ws.close();
  }
}

// ---- /proc: CPU time of Chromium's processes and threads ---------------------------------------
function ppid(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return -1;
  }
}
function descendants(root) {
  const parent = new Map();
  for (const d of readdirSync("/proc")) if (/^\d+$/.test(d)) parent.set(Number(d), ppid(d));
  const out = [];
  for (const pid of parent.keys()) {
    for (let p = pid, hops = 0; p > 1 && hops < 10; p = parent.get(p), hops++) {
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}
const readNs = (file) => {
  try {
    return Number(readFileSync(file, "utf8").split(" ")[0]);
  } catch {
    return 0;
  }
};
function isRenderer(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--type=renderer");
  } catch {
    return false;
  }
}
// {main: Map(rendererPid -> ns), rendererAll: Map(pid -> ns), chrome: ns over every thread}
function cpuSnapshot(rootPid) {
  const snap = { main: new Map(), all: new Map(), chrome: 0 };
  for (const pid of [rootPid, ...descendants(rootPid)]) {
    let sum = 0;
    let tids = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {}
    for (const tid of tids) sum += readNs(`/proc/${pid}/task/${tid}/schedstat`);
    snap.chrome += sum;
    if (isRenderer(pid)) {
      snap.main.set(pid, readNs(`/proc/${pid}/task/${pid}/schedstat`));
      snap.all.set(pid, sum);
    }
  }
  return snap;
}
// the page's renderer is the one whose main thread worked during the scenario
function cpuDelta(a, b) {
  let best = { pid: 0, main: -1, all: 0 };
  for (const [pid, v] of b.main) {
    const d = v - (a.main.get(pid) ?? 0);
    if (d > best.main) best = { pid, main: d, all: b.all.get(pid) - (a.all.get(pid) ?? 0) };
  }
  return { ...best, chrome: b.chrome - a.chrome };
}

// ---- CPU profiles --------------------------------------------------------------------------
// Self time per function (name, script, line) of a CDP profile, largest first.
function writeProfile(profile, file) {
  const dt = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) dt.set(samples[i], (dt.get(samples[i]) || 0) + (timeDeltas[i] || 0));
  const self = new Map();
  let total = 0;
  for (const n of profile.nodes) {
    const us = dt.get(n.id) || 0;
    total += us;
    const f = n.callFrame;
    const key = `${f.functionName || "(anonymous)"}  ${path.basename(f.url || "")}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
    self.set(key, (self.get(key) || 0) + us);
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40);
  const lines = [`total sampled ${(total / 1000).toFixed(1)} ms`, ""];
  for (const [k, us] of rows) lines.push(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, lines.join("\n") + "\n");
}

// ---- stats ---------------------------------------------------------------------------------
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function bundleSizes(buildFile) {
  const gz = (b) => zlib.gzipSync(b, { level: 9 }).length;
  const br = (b) =>
    zlib.brotliCompressSync(b, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length },
    }).length;
  const files = {
    rtio: [path.join(REPO, "pkg/rtio.wasm"), path.join(REPO, "pkg/index.js")],
    sioc: [buildFile],
  };
  const out = {};
  for (const [k, fs] of Object.entries(files)) {
    const bufs = fs.map((f) => readFileSync(f));
    out[k] = {
      raw: bufs.reduce((s, b) => s + b.length, 0),
      gzip: bufs.reduce((s, b) => s + gz(b), 0),
      brotli: bufs.reduce((s, b) => s + br(b), 0),
    };
  }
  out.raw = (() => {
    const b = readFileSync(path.join(HERE, "page/raw.js"));
    return { raw: b.length, gzip: gz(b), brotli: br(b) };
  })();
  return out;
}

// ---- main ----------------------------------------------------------------------------------
async function main() {
  const started = Date.now();
  const buildFile = path.join(HERE, "build/socket.io-client.js");
  for (const f of ["pkg/index.js", "pkg/rtio.wasm"]) {
    if (!existsSync(path.join(REPO, f))) throw new Error(`missing ${f}: run bash tools/build.sh (bench/run.sh does)`);
  }
  if (!existsSync(buildFile)) throw new Error(`missing ${buildFile}: bench/run.sh bundles it`);

  // server
  const server = spawn(process.execPath, [path.join(HERE, "server.mjs")], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(server);
  const [, origin] = await waitLine(server, /LISTENING (http:\/\/127\.0\.0\.1:\d+)/, 15000, "server");
  log("server", origin, "pid", server.pid);
  const stats = async () => (await fetch(origin + "/stats")).json();

  // chromium
  const userDir = mkdtempSync(path.join(tmpdir(), "rtio-bench-chromium-"));
  tmpDirs.push(userDir);
  const chrome = spawn(
    CHROMIUM,
    [...CHROMIUM_ARGS, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", `--user-data-dir=${userDir}`, "about:blank"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(chrome);
  const [, wsUrl] = await waitLine(chrome, /DevTools listening on (ws:\/\/\S+)/, 30000, "chromium");
  const cdp = new Cdp(wsUrl);
  await cdp.open();
  const version = (await cdp.send("Browser.getVersion")).product;
  log("chromium", version, "pid", chrome.pid);

  // ONE page target, attached with a flat session; only Runtime/Page/HeapProfiler are used.
  let { targetInfos } = await cdp.send("Target.getTargets");
  let page = targetInfos.find((t) => t.type === "page");
  if (!page) page = { targetId: (await cdp.send("Target.createTarget", { url: "about:blank" })).targetId };
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId: page.targetId, flatten: true });
  const S = (m, p, ms) => cdp.send(m, p, sessionId, ms);

  const evaluate = async (expr, ms = 180000) => {
    const r = await S("Runtime.evaluate", { expression: expr, awaitPromise: true, returnByValue: true }, ms);
    if (r.exceptionDetails) {
      throw new Error(`page: ${expr}: ${r.exceptionDetails.exception?.description || r.exceptionDetails.text}`);
    }
    return r.result.value;
  };
  let navs = 0;
  const load = async (client) => {
    const nav = ++navs;
    const transport = POLLING ? "&transport=polling" : "";
    await S("Page.navigate", { url: `${origin}/page/bench.html?client=${client}&nav=${nav}${transport}` });
    const until = Date.now() + 30000;
    for (;;) {
      try {
        const ok = await evaluate(
          `location.search.includes("nav=${nav}") && window.benchReady ? window.benchReady.then(() => [bench.connectMs, bench.importMs, bench.moduleMs, bench.wasmMs, bench.wasmAskedMs]) : null`,
          30000,
        );
        if (ok !== null && ok !== false) return ok;
      } catch (e) {
        if (!/context|destroyed|navigat|Cannot find/i.test(e.message)) throw e;
      }
      if (Date.now() > until) throw new Error(`page load for ${client} timed out`);
      await sleep(20);
    }
  };
  const gc = async () => {
    await S("HeapProfiler.collectGarbage");
    await S("HeapProfiler.collectGarbage");
  };
  const mem = async () => {
    await gc();
    const h = await S("Runtime.getHeapUsage");
    return { heap: h.usedSize, wasm: await evaluate("bench.wasmBytes()") };
  };
  const timed = async (expr, client, name) => {
    if (PROFILE) {
      await S("Profiler.enable");
      await S("Profiler.setSamplingInterval", { interval: 100 });
      await S("Profiler.start");
    }
    const a = cpuSnapshot(chrome.pid);
    const s0 = await stats();
    const r = await evaluate(expr);
    const s1 = await stats();
    const b = cpuSnapshot(chrome.pid);
    if (PROFILE) {
      const { profile } = await S("Profiler.stop");
      await S("Profiler.disable");
      writeProfile(profile, path.join(HERE, "results", `profile-${client}-${name}.txt`));
    }
    return { ...r, cpu: cpuDelta(a, b), serverCpuUs: s1.cpu - s0.cpu };
  };

  const runs = Object.fromEntries(CLIENTS.map((c) => [c, []]));
  for (let rep = 0; rep < CFG.reps; rep++) {
    // The order rotates with each repetition (A B C, B C A, C A B, …), so no client always
    // comes first, right after the previous repetition's heaviest scenarios.
    for (const c of CLIENTS.map((_, i) => CLIENTS[(i + rep) % CLIENTS.length])) {
      const t0 = Date.now();
      const r = { connectMs: [], importMs: [], moduleMs: [], wasmMs: [], wasmAskedMs: [] };
      for (let i = 0; i <= CFG.connects; i++) {
        // the last load is the page the scenarios run in
        const [connect, imported, module, wasm, wasmAsked] = await load(c);
        r.connectMs.push(connect);
        r.importMs.push(imported);
        r.moduleMs.push(module);
        r.wasmMs.push(wasm);
        r.wasmAskedMs.push(wasmAsked);
      }
      r.memStart = await mem();
      if (CFG.down) r.down = await timed(`bench.down(${CFG.down}, "small")`, c, "down");
      if (CFG.down1k) r.down1k = await timed(`bench.down(${CFG.down1k}, "1k")`, c, "down1k");
      r.memDown = await mem();
      if (CFG.up) r.up = await timed(`bench.up(${CFG.up})`, c, "up");
      if (CFG.ack) r.ack = await timed(`bench.ack(${CFG.ack})`, c, "ack");
      if (CFG.cycles) {
        await evaluate(`bench.cycles(20)`);
        r.isolated = await evaluate("crossOriginIsolated");
        await evaluate(`bench.sleep(300)`);
        r.cyclesStart = await mem();
        r.cycles = await timed(`bench.cycles(${CFG.cycles}, ${CYCLES_CLOSE})`, c, "cycles");
        await evaluate(`bench.sleep(500)`);
        r.cyclesEnd = await mem();
        r.serverClientsAfterCycles = (await stats()).clients - 1; // minus the page's own socket
      }
      runs[c].push(r);
      log(`rep ${rep + 1}/${CFG.reps} ${c}: ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        r.down ? `down ${Math.round(r.down.eps)}/s` : "", r.up ? `up ${Math.round(r.up.eps)}/s` : "",
        r.ack ? `ack p50 ${r.ack.p50.toFixed(3)} ms` : "");
    }
  }
  await S("Page.navigate", { url: "about:blank" }).catch(() => {});
  cdp.close();

  // ---- summarise ----
  const sizes = bundleSizes(buildFile);
  const per = (n, x) => (x / n);
  const metrics = [];
  const add = (key, label, unit, better, f) => {
    const row = { key, label, unit, better, values: {} };
    for (const c of CLIENTS) row.values[c] = median(runs[c].map((r) => { try { return f(r, c); } catch { return NaN; } }));
    metrics.push(row);
  };
  if (CFG.down) {
    add("down_eps", `downstream small (${CFG.down} events)`, "events/s", "higher", (r) => r.down.eps);
    add("down_cpu", "  CPU per event, renderer main thread", "µs", "lower", (r) => per(CFG.down, r.down.cpu.main) / 1e3);
    add("down_cpu_renderer", "  CPU per event, renderer all threads", "µs", "lower", (r) => per(CFG.down, r.down.cpu.all) / 1e3);
    add("down_cpu_chrome", "  CPU per event, all Chromium processes", "µs", "lower", (r) => per(CFG.down, r.down.cpu.chrome) / 1e3);
    add("down_server_cpu", "  server CPU per event", "µs", "lower", (r) => per(CFG.down, r.down.serverCpuUs));
  }
  if (CFG.down1k) {
    add("down1k_eps", `downstream ~1 KB (${CFG.down1k} events)`, "events/s", "higher", (r) => r.down1k.eps);
    add("down1k_cpu", "  CPU per event, renderer main thread", "µs", "lower", (r) => per(CFG.down1k, r.down1k.cpu.main) / 1e3);
    add("down1k_cpu_chrome", "  CPU per event, all Chromium processes", "µs", "lower", (r) => per(CFG.down1k, r.down1k.cpu.chrome) / 1e3);
  }
  if (CFG.up) {
    add("up_eps", `upstream (${CFG.up} emits, counted by the server)`, "events/s", "higher", (r) => r.up.eps);
    add("up_cpu", "  CPU per event, renderer main thread", "µs", "lower", (r) => per(CFG.up, r.up.cpu.main) / 1e3);
    add("up_cpu_chrome", "  CPU per event, all Chromium processes", "µs", "lower", (r) => per(CFG.up, r.up.cpu.chrome) / 1e3);
    add("up_server_cpu", "  server CPU per event", "µs", "lower", (r) => per(CFG.up, r.up.serverCpuUs));
  }
  if (CFG.ack) {
    add("ack_p50", `ack round trip p50 (${CFG.ack} sequential)`, "ms", "lower", (r) => r.ack.p50);
    add("ack_p99", "ack round trip p99", "ms", "lower", (r) => r.ack.p99);
    add("ack_mean", "ack round trip mean", "ms", "lower", (r) => r.ack.ms / CFG.ack);
    add("ack_cpu", "  CPU per round trip, renderer main thread", "µs", "lower", (r) => per(CFG.ack, r.ack.cpu.main) / 1e3);
  }
  add("connect_ms", "connect (import + wasm + handshake), fresh page", "ms", "lower", (r) => median(r.connectMs));
  add("import_ms", "  of which importing the module", "ms", "lower", (r) => median(r.importMs));
  add("module_ms", "    of which until the module file arrived", "ms", "lower", (r) => median(r.moduleMs));
  add("wasm_asked_ms", "  rtio: the first io() asks for the wasm at", "ms", "lower", (r) => median(r.wasmAskedMs));
  add("wasm_fetch_ms", "    of which fetching the wasm", "ms", "lower", (r) => median(r.wasmMs));
  if (CFG.down || CFG.down1k) {
    add("heap_down", "JS heap after downstream (after GC)", "KB", "lower", (r) => r.memDown.heap / 1024);
    add("wasm_down", "wasm memory after downstream", "KB", "lower", (r) => r.memDown.wasm / 1024);
  }
  if (CFG.cycles) {
    add("cycles_ms", `${CFG.cycles} connect/disconnect cycles, time per cycle`, "ms", "lower", (r) => r.cycles.ms / CFG.cycles);
    add("cycles_heap_start", "  JS heap before cycles (after GC)", "KB", "lower", (r) => r.cyclesStart.heap / 1024);
    add("cycles_heap_end", "  JS heap after cycles (after GC)", "KB", "lower", (r) => r.cyclesEnd.heap / 1024);
    add("cycles_heap_growth", "  JS heap growth", "KB", "lower", (r) => (r.cyclesEnd.heap - r.cyclesStart.heap) / 1024);
    add("cycles_wasm_growth", "  wasm memory growth", "KB", "lower", (r) => (r.cyclesEnd.wasm - r.cyclesStart.wasm) / 1024);
    add("cycles_open_left", "  server connections still open after cycles", "", "lower", (r) => r.serverClientsAfterCycles);
  }
  for (const [k, label] of [["gzip", "bundle gzip -9 (rtio: wasm + index.js)"], ["brotli", "bundle brotli q11"], ["raw", "bundle uncompressed"]]) {
    metrics.push({ key: `bundle_${k}`, label, unit: "bytes", better: "lower", values: Object.fromEntries(CLIENTS.map((c) => [c, sizes[c][k]])) });
  }

  const runSeconds = (Date.now() - started) / 1000;
  const machine = {
    nproc: cpus().length,
    cpu: (readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) || [])[1] || "unknown",
    chromium: version,
    node: process.version,
  };
  const result = { date: new Date().toISOString(), config: CFG, clients: CLIENTS, machine, runSeconds, metrics, sizes, runs };
  mkdirSync(path.join(HERE, "results"), { recursive: true });
  const name = POLLING ? "polling" : "latest";
  writeFileSync(path.join(HERE, `results/${name}.json`), JSON.stringify(result, null, 2) + "\n");
  const md = table(metrics);
  const header =
    `Run ${result.date}${POLLING ? ", HTTP long-polling" : ""}: ${CFG.reps} repetitions (medians), counts: downstream ${CFG.down} small + ${CFG.down1k} × 1 KB, ` +
    `upstream ${CFG.up}, acks ${CFG.ack}, cycles ${CFG.cycles}, connect loads ${CFG.connects + 1} per repetition. ` +
    `Machine: ${machine.nproc} cores, ${machine.cpu}, ${machine.chromium}, Node ${machine.node}. Wall time ${runSeconds.toFixed(0)} s.\n\n`;
  writeFileSync(path.join(HERE, `results/${name}.md`), header + md);
  console.log(header + md);
  if (process.env.BENCH_NO_DOC !== "1") (POLLING ? writePollingSection : writeDoc)(header, md, machine);
}

// The "## Long-polling" section of BENCHMARKS.md: written by a BENCH_TRANSPORT=polling run, kept
// by the others.
const POLLING_HEADING = "\n## Long-polling\n";
function pollingSection(doc) {
  const i = doc.indexOf(POLLING_HEADING);
  if (i < 0) return "";
  const j = doc.indexOf("\n## ", i + POLLING_HEADING.length);
  return doc.slice(i, j < 0 ? undefined : j);
}
function writePollingSection(header, md) {
  const file = path.join(REPO, "BENCHMARKS.md");
  const old = readFileSync(file, "utf8");
  const section = `${POLLING_HEADING}
rtio and socket.io-client over HTTP long-polling only (\`transports: ["polling"]\`), same server
and scenarios: \`BENCH_TRANSPORT=polling bash bench/run.sh\`.

${header}${md}`;
  const keep = pollingSection(old);
  const at = old.indexOf("\n## How it measures");
  writeFileSync(file, keep ? old.replace(keep, section) : old.slice(0, at) + section + old.slice(at));
}

const fmt = (v) => {
  if (!Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString("en-US");
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(a >= 1 || a === 0 ? 2 : 3);
};
function table(metrics) {
  const has = (c) => CLIENTS.includes(c);
  const cols = CLIENTS.map((c) => NAMES[c]);
  const ratios = [];
  if (has("rtio") && has("sioc")) ratios.push(["sioc", "rtio / socket.io-client"]);
  if (has("rtio") && has("raw")) ratios.push(["raw", "rtio / raw"]);
  let s = `| metric | unit | ${cols.join(" | ")} | ${ratios.map((r) => r[1]).join(" | ")} |\n`;
  s += `|---|---|${cols.map(() => "---:").join("|")}|${ratios.map(() => "---:").join("|")}|\n`;
  for (const m of metrics) {
    const v = m.values;
    const rs = ratios.map(([c]) => {
      const q = v.rtio / v[c];
      return Number.isFinite(q) && !m.key.includes("growth") && !m.key.includes("open_left") ? q.toFixed(2) + "×" : "–";
    });
    s += `| ${m.label.trim().startsWith("CPU") || m.label.startsWith("  ") ? "↳ " + m.label.trim() : m.label} | ${m.unit} | ${CLIENTS.map((c) => fmt(v[c])).join(" | ")} | ${rs.join(" | ")} |\n`;
  }
  return s;
}

function writeDoc(header, md, machine) {
  const doc = `# Benchmarks

rtio against socket.io-client 4.8 and a raw-WebSocket baseline, in headless Chromium, against one
Node socket.io 4.8 server on 127.0.0.1.

Run it: \`bash bench/run.sh\` (installs bench/node_modules, builds pkg/ if missing, bundles
socket.io-client, writes \`bench/results/latest.json\` and \`latest.md\`, and rewrites this file).
Smaller counts: \`BENCH_REPS=3 BENCH_DOWN=10000 BENCH_DOWN_1K=2000 BENCH_UP=10000 BENCH_ACK=500
BENCH_CYCLES=100 bash bench/run.sh\`. The client's own work per event, without the network
(synthetic frames handed to the WebSocket's \`onmessage\`, \`send\` replaced by a no-op):
\`bash bench/run.sh micro\` (\`bench/micro.mjs\`, printed, not written here).

## Latest run

${header}${md}
Ratios are rtio's value divided by the other client's; for events/s higher is better, for
everything else lower is better. Absolute numbers on these 2-core machines are noisy; compare
ratios within one run.

## How it measures

- **Clients.** One page (\`bench/page/bench.html?client=…\`) loads one client: rtio from \`/pkg/index.js\`,
  socket.io-client 4.8 bundled and minified by esbuild (\`io(url, { transports: ["websocket"] })\`),
  or the raw baseline (\`bench/page/raw.js\`: the browser's WebSocket speaking Engine.IO v4 /
  Socket.IO v5 by hand with \`JSON.parse\`/\`JSON.stringify\`). All three get the same scenario code.
- **Driver.** \`bench/run.mjs\` starts Chromium itself and speaks raw CDP to one page target over a
  WebSocket, using only Runtime, Page and HeapProfiler. The Network domain is never enabled
  (a Playwright Page enables it, and Chromium then copies every WebSocket frame into DevTools
  events, which cuts throughput about 3×). Each scenario is one \`Runtime.evaluate\` with
  \`awaitPromise\`. Clients are interleaved A B C, B C A, C A B … (the order rotates, so none
  always runs first) and every figure is the median over the repetitions.
- **Server.** \`bench/server.mjs\`: socket.io 4.8, websocket transport. Downstream packets are
  encoded once (\`2["tick",{…}]\`, a 16-byte string plus three numbers, or a ~1 KB string) and
  written straight to the engine with \`socket.conn.write\` in batches of 2,000, yielding with
  \`setImmediate\`. Upstream \`up\` events are counted and \`up_done\` is emitted when all arrived.
  \`echo\` acks its argument. The server's own CPU per event is in the table, to show it is not the
  bottleneck.
- **Downstream**: from the \`emit("down")\` call to the listener seeing the last event.
  **Upstream**: from the first of N synchronous \`emit\`s to the server's \`up_done\` arriving.
  **Ack**: N sequential \`await emitWithAck("echo", i)\`, p50 and p99 of each round trip.
- **Connect**: a fresh page load per measurement (responses are \`no-store\`); time from before the
  client module's dynamic \`import()\` to the \`connect\` event. For rtio this includes fetching,
  compiling and instantiating the wasm, which the first \`io()\` asks for (importing loads
  nothing).
- **CPU per event**: \`/proc/<pid>/task/<tid>/schedstat\` (first field, ns on CPU) of the page's
  renderer main thread (the renderer process is the one with \`--type=renderer\` whose main thread
  worked during the scenario; tid == pid), read before and after each scenario and divided by the
  event count. "All Chromium processes" sums every thread of the browser (network service, IO
  threads, renderer), i.e. the whole client side of the pipeline.
- **Memory**: \`HeapProfiler.collectGarbage\` then \`Runtime.getHeapUsage\` (JS heap used), and the
  byte length of every wasm linear memory, captured by wrapping \`WebAssembly.instantiate\` /
  \`instantiateStreaming\` before the client is imported. Taken after the downstream runs, and
  before/after the connect/disconnect cycles (each cycle: \`io(url, { forceNew: true })\`, wait for
  \`connect\`, \`disconnect()\`; 20 warm-up cycles first). The server's count of still-open
  connections after the cycles shows leaked transports. \`BENCH_CYCLES_CLOSE=1\` also calls
  \`socket.io.close()\` in each cycle.
- **Bundle**: gzip -9 and brotli (quality 11) via node:zlib of \`pkg/rtio.wasm\` +
  \`pkg/index.js\`, against the esbuild bundle of socket.io-client (files compressed separately and
  summed).
`;
  // the hand-written "## Notes" section (what was tried and what it gave) survives every run,
  // and so does the long-polling run's section
  const file = path.join(REPO, "BENCHMARKS.md");
  let notes = "";
  let polling = "";
  if (existsSync(file)) {
    const old = readFileSync(file, "utf8");
    const i = old.indexOf("\n## Notes");
    if (i >= 0) notes = old.slice(i);
    polling = pollingSection(old);
  }
  const at = doc.indexOf("\n## How it measures");
  writeFileSync(file, doc.slice(0, at) + polling + doc.slice(at) + notes);
}

// stop the server and Chromium by PID, wait for them to exit (SIGKILL after 5 s), then remove
// Chromium's profile directory
async function shutdown() {
  await Promise.all(
    children.map(
      (c) =>
        new Promise((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          const t = setTimeout(() => {
            try {
              process.kill(c.pid, "SIGKILL");
            } catch {}
            res();
          }, 5000);
          c.once("exit", () => {
            clearTimeout(t);
            res();
          });
          try {
            process.kill(c.pid, "SIGTERM");
          } catch {}
        }),
    ),
  );
  await sleep(200);
  cleanup();
}

main().then(
  async () => {
    await shutdown();
    process.exit(0);
  },
  async (e) => {
    console.error("bench failed:", e && e.stack ? e.stack : e);
    await shutdown();
    process.exit(1);
  },
);
