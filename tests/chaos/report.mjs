// The "## Chaos runs" section of BENCHMARKS.md, from a chaos run's report (run.mjs --json).
//
//   node tests/chaos/report.mjs REPORT.json   writes the section (replacing the one there)
//   bash tools/chaos.sh ... --benchmarks       does it at the end of a run that passed
//
// The section goes at the end of BENCHMARKS.md, after "## Notes", which bench/run.sh keeps.

import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { REPO } from "../js/launch.mjs";

const HEADING = "\n## Chaos runs\n";
const n = (x) => (typeof x === "number" ? x.toLocaleString("en") : "–");
const mb = (b) => (b / 1048576).toFixed(2);

/** The section's Markdown for `report` (what runChaos resolved with). */
export function chaosSection(report, { date = new Date().toISOString().slice(0, 10) } = {}) {
  const minutes = report.seconds % 60 === 0 ? report.seconds / 60 : null;
  const length = minutes ? `--minutes ${minutes}` : `--seconds ${report.seconds}`;
  const lines = [
    HEADING,
    `The last long run: \`bash tools/chaos.sh ${length} --seed ${report.seed}\` ` +
      `(${date}, ${minutes ? `${minutes} minutes` : `${report.seconds} s`}, every lane side by side on one machine), ` +
      `${report.ok ? "every invariant held" : `${report.failures.length} failure(s)`}. ` +
      "What the lanes, faults and checks are: [tests/chaos/README.md](tests/chaos/README.md).",
    "",
    "| lane | faults | client | emits | acked | rejected | resent / lost to resends | ticks received / sent | reconnects | attempts |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const lane of report.lanes) {
    const faults = Object.entries(lane.summary.faults).sort((a, b) => b[1] - a[1]);
    const total = faults.reduce((sum, [, k]) => sum + k, 0);
    const described = `${n(total)}: ${faults.map(([kind, k]) => `${kind} ${k}`).join(", ")}`;
    Object.entries(lane.summary.clients).forEach(([name, c], i) => {
      lines.push(
        `| ${i ? "" : `\`${lane.kind}\``} | ${i ? "" : described} | ${name} | ${n(c.emits)} | ${n(c.acked)} | ` +
          `${n(c.rejected)} | ${n(c.resent)} / ${n(c.lostToResend)} | ${n(c.ticks)} / ${n(c.ticksSent)} | ` +
          `${n(c.reconnects)} | ${n(c.attempts)} |`,
      );
    });
  }
  lines.push("", "Memory of each lane's page, after a full collection, at the start and at the end:", "");
  lines.push("| lane | JS heap (MB) | wasm memory (MB) |", "|---|---|---|");
  for (const lane of report.lanes) {
    const m = lane.summary.memory;
    if (m) lines.push(`| \`${lane.kind}\` | ${mb(m.heap[0])} → ${mb(m.heap[1])} | ${mb(m.wasm[0])} → ${mb(m.wasm[1])} |`);
  }
  const reasons = {};
  for (const lane of report.lanes) {
    for (const c of Object.values(lane.summary.clients)) {
      for (const [r, k] of Object.entries(c.reasons || {})) reasons[r] = (reasons[r] || 0) + k;
    }
  }
  lines.push(
    "",
    "Rejected emits, by reason: " +
      (Object.entries(reasons)
        .map(([r, k]) => `"${r}" ${n(k)}`)
        .join(", ") || "none") +
      ". Tick counts include the ticks a broken connection lost in its tail, which only the " +
      "sessions that are recovered or resumed must get back.",
    "",
  );
  return lines.join("\n");
}

/** Writes the section into BENCHMARKS.md, in place of the one there (or at the end). */
export function writeChaosSection(report) {
  const file = path.join(REPO, "BENCHMARKS.md");
  const old = readFileSync(file, "utf8");
  const i = old.indexOf(HEADING);
  const j = i < 0 ? -1 : old.indexOf("\n## ", i + HEADING.length);
  const section = chaosSection(report);
  const doc = i < 0 ? old.replace(/\n*$/, "\n") + section : old.slice(0, i) + section + (j < 0 ? "" : old.slice(j));
  writeFileSync(file, doc);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node tests/chaos/report.mjs REPORT.json");
    process.exit(2);
  }
  writeChaosSection(JSON.parse(readFileSync(file, "utf8")));
  console.log("BENCHMARKS.md: the chaos runs' section written");
}
