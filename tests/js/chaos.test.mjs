// The chaos run of the test command: every client kind (`io()` over WebSocket and over
// long-polling, `sse()`, `ws()`, the Rust API) for two minutes side by side, under random
// faults from a fixed seed, with every invariant of tests/chaos/README.md checked against the
// servers' logs. `bash tools/chaos.sh` runs longer ones with other seeds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { KINDS as ALL, runChaos } from "../chaos/driver.mjs";

const SECONDS = Number(process.env.RTIO_CHAOS_SECONDS || 120);
const SEED = 20261206;
// Every lane, unless RTIO_CHAOS_KINDS names some.
const KINDS = process.env.RTIO_CHAOS_KINDS ? process.env.RTIO_CHAOS_KINDS.split(",") : ALL;

test(`chaos: ${KINDS.join(", ")} for ${SECONDS} s under random faults (seed ${SEED})`, { timeout: (SECONDS + 240) * 1000 }, async () => {
  const report = await runChaos({ seconds: SECONDS, seed: SEED, kinds: KINDS, log: (line) => console.log("# " + line) });
  assert.deepEqual(report.lanes.map((l) => l.kind), KINDS);
  for (const lane of report.lanes) {
    const faults = Object.values(lane.summary.faults).reduce((a, b) => a + b, 0);
    assert.ok(faults >= SECONDS / 10, `[${lane.kind}] only ${faults} faults in ${SECONDS} s`);
  }
  assert.deepEqual(report.failures, [], `replay with: bash tools/chaos.sh --seconds ${SECONDS} --seed ${SEED} --kinds ${KINDS}`);
});
