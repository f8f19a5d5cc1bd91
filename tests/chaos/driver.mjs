// The chaos driver: real servers behind fault proxies, a workload per client kind in headless
// Chromium, random faults drawn from a seed for a given time, then the invariants checked
// against the servers' own logs (tests/servers/chaos-log.mjs).
//
//   import { runChaos } from "./driver.mjs";
//   const report = await runChaos({ seconds: 120, seed: 1, kinds: ["io-ws", "sse"] });
//   report.ok, report.failures, report.lanes[...]
//
// Each kind is a lane: its own servers, proxies, browser context (so that going offline is
// the lane's alone) and fault schedule, drawn from the seed and the lane's name, so that a
// failing run can be replayed with the same faults. Lanes run side by side.

import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CHROMIUM, CHROMIUM_ARGS, INIT_SCRIPT, REPO, RUST_BIN, restartable, startServer, stopProcess } from "../js/launch.mjs";
import { generator, startProxy } from "../servers/proxy.mjs";
import { FAULTS, between } from "./faults.mjs";
import { laneSpec } from "./lanes.mjs";
import { check } from "./invariants.mjs";

export const KINDS = ["io-ws", "io-polling", "sse", "ws", "rust"];

const PAGE = "/tests/pages/blank.html";
const WORKLOAD = path.join(REPO, "tests/chaos/workload.js");
const DRAIN_MS = 2000;
const SETTLE_MS = 30_000;

/** A number from the seed and a name: each lane draws its own faults. */
function seedOf(seed, name) {
  let h = seed >>> 0;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the lanes `kinds` for `seconds` with faults drawn from `seed`; `log` gets progress lines.
 * Resolves with { ok, failures, lanes }; never leaves a process or browser behind.
 */
export async function runChaos({ seconds, seed, kinds = KINDS, log = () => {} }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rtio-chaos-"));
  const cleanups = [];
  let browser;
  try {
    const pages = await startServer("pages", process.execPath, [path.join(REPO, "tests/servers/node/server.mjs"), "--port", "0"]);
    cleanups.push(() => stopProcess(pages.child));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const lanes = [];
    const abort = { stopped: false };
    for (const kind of kinds) {
      const spec = laneSpec(kind);
      const lane = await startLane({ kind, spec, dir, seed: seedOf(seed, kind), browser, pagesUrl: pages.url, cleanups });
      lane.abort = abort;
      lanes.push(lane);
    }
    log(`chaos: ${lanes.length} lane(s) running for ${seconds} s, seed ${seed}`);
    const deadline = Date.now() + seconds * 1000;
    for (const lane of lanes) lane.seconds = seconds;
    // A lane that fails stops the others before anything is cleaned up under them.
    const results = await Promise.allSettled(
      lanes.map((lane) => runLane(lane, deadline, log).catch((err) => {
        abort.stopped = true;
        throw err;
      })),
    );
    const broken = results.find((x) => x.status === "rejected");
    if (broken) throw broken.reason;
    const reports = [];
    for (const lane of lanes) reports.push(await endLane(lane, log));
    const failures = reports.flatMap((r) => r.failures.map((f) => `[${r.kind}] ${f}`));
    return { ok: failures.length === 0, seed, seconds, failures, lanes: reports };
  } finally {
    await browser?.close().catch(() => {});
    for (const f of cleanups.reverse()) await f().catch(() => {});
    // RTIO_CHAOS_KEEP=1 keeps the servers' logs and the pages' records, to study a failure.
    if (process.env.RTIO_CHAOS_KEEP === "1") log(`chaos: logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

async function startLane({ kind, spec, dir, seed, browser, pagesUrl, cleanups }) {
  const servers = [];
  for (const [i, s] of spec.servers.entries()) {
    const logFile = path.join(dir, `${kind}-${i}.log`);
    const command = s.rust ? RUST_BIN : process.execPath;
    const args = s.rust ? [...s.args(logFile)] : [path.join(REPO, s.script), ...s.args(logFile)];
    const server = await restartable(`${kind} ${s.name}`, command, args);
    cleanups.push(() => server.stop());
    const proxy = await startProxy({ target: `127.0.0.1:${server.port}`, refuseWebSocket: !!s.refuseWebSocket, seed: seedOf(seed, `proxy ${i}`) });
    cleanups.push(() => proxy.close());
    servers.push({ ...s, server, proxy, logFile });
  }
  const context = await browser.newContext();
  cleanups.push(() => context.close());
  await context.addInitScript(INIT_SCRIPT);
  const page = await context.newPage();
  const lane = {
    kind, spec, seed, dir, servers, context, page, records: [], faults: [], pageErrors: [], consoleErrors: [],
    frozen: false, random: generator(seed), memory: {},
  };
  page.on("pageerror", (err) => lane.pageErrors.push(String(err.stack || err)));
  page.on("crash", () => lane.pageErrors.push("page crashed"));
  page.on("console", (msg) => {
    if (msg.type() === "error") lane.consoleErrors.push(msg.text());
  });
  lane.cdp = await context.newCDPSession(page);
  await page.goto(pagesUrl + PAGE);
  // Each module's export of that name; or, for a wasm-bindgen module, the module once its
  // wasm is loaded.
  await page.evaluate(async (modules) => {
    for (const [name, url, wasm] of modules) {
      const mod = await import(url);
      if (wasm) await mod.default();
      window[name] = wasm ? mod : mod[name];
    }
  }, spec.modules);
  await page.addScriptTag({ content: readFileSync(WORKLOAD, "utf8") });
  const clients = spec.clients(servers.map((s) => s.proxy.url));
  // Which server each client talks to, by its proxy's port.
  for (const c of clients) c.server = servers.find((s) => new URL(c.url).port === String(s.proxy.port)).name;
  lane.clients = clients;
  await page.evaluate((specs) => chaos.start(specs), clients);
  await page.evaluate(() => chaos.settle(15000));
  // The start of the memory measure: connected, a few seconds of work behind, records taken.
  await sleep(3000);
  await drain(lane);
  lane.memory.start = await measure(lane);
  return lane;
}

// Collects what the page recorded (unless the page is frozen).
async function drain(lane) {
  if (lane.frozen) return;
  lane.records.push(...(await lane.page.evaluate(() => chaos.drain())));
}

/** Heap after a full collection, and the wasm memories, in bytes. */
async function measure(lane) {
  await lane.cdp.send("HeapProfiler.collectGarbage");
  await lane.cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await lane.cdp.send("Runtime.getHeapUsage");
  const wasm = await lane.page.evaluate(() => window.__wasmMemories.reduce((sum, m) => sum + m.buffer.byteLength, 0));
  return { heap: usedSize, wasm };
}

async function runLane(lane, deadline, log) {
  const r = lane.random;
  const menu = lane.spec.faults;
  let drains = Promise.resolve();
  const drainer = setInterval(() => (drains = drains.then(() => drain(lane)).catch(() => {})), DRAIN_MS);
  try {
    while (Date.now() < deadline && !lane.abort.stopped) {
      await sleep(between(r, 1500, 5000));
      if (Date.now() >= deadline) break;
      const kind = menu[Math.floor(r() * menu.length)];
      const server = lane.servers[Math.floor(r() * lane.servers.length)];
      const at = Date.now();
      const detail = await FAULTS[kind](lane, r, server.proxy, server);
      lane.faults.push({ kind, server: server.name, at, end: Date.now(), ...detail });
    }
  } finally {
    clearInterval(drainer);
    await drains;
  }
  log(`[${lane.kind}] ${lane.faults.length} faults applied`);
}

async function endLane(lane, log) {
  const failures = [];
  let final = [];
  try {
    await lane.page.evaluate((ms) => chaos.settle(ms), SETTLE_MS);
    lane.finishedAt = Date.now();
    final = await lane.page.evaluate((ms) => chaos.finish(ms), 20_000);
    await drain(lane);
    await lane.page.evaluate(() => chaos.close());
    await sleep(500);
    lane.memory.end = await measure(lane);
  } catch (err) {
    failures.push(`the end of the run: ${err.message}`);
    await drain(lane).catch(() => {});
  }
  // The servers' logs are complete once they have stopped.
  for (const s of lane.servers) await s.server.stop();
  const logs = lane.servers.map((s) => ({ name: s.name, recovery: !!s.recovery, resume: !!s.resume, lines: readLog(s.logFile) }));
  if (process.env.RTIO_CHAOS_KEEP === "1") {
    writeFileSync(path.join(lane.dir, `${lane.kind}-records.json`), JSON.stringify({ records: lane.records, faults: lane.faults, final }));
  }
  const result = check({ lane, final, logs });
  failures.push(...result.failures);
  log(`[${lane.kind}] ${failures.length ? failures.length + " failure(s)" : "ok"}: ${JSON.stringify(result.summary)}`);
  return { kind: lane.kind, failures, summary: result.summary, faults: lane.faults };
}

function readLog(file) {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a line cut by a SIGKILL
    }
  }
  return out;
}
