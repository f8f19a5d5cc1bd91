// Runs a chaos run from the command line (tools/chaos.sh):
//
//   node tests/chaos/run.mjs [--minutes M | --seconds S] [--seed N] [--kinds a,b,...] [--json FILE]
//                            [--benchmarks]
//
// Prints progress and each lane's summary; writes the whole report to FILE with --json, and the
// "## Chaos runs" section of BENCHMARKS.md with --benchmarks (when every invariant held); exits
// with 1 if an invariant failed (the failures are printed, with the seed to replay them).

import { writeFileSync } from "node:fs";
import { KINDS, runChaos } from "./driver.mjs";
import { writeChaosSection } from "./report.mjs";

function parse(argv) {
  const o = { seconds: 120, seed: 1, kinds: KINDS, json: null, benchmarks: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (argv[i + 1] === undefined) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--minutes") o.seconds = Number(v()) * 60;
    else if (a === "--seconds") o.seconds = Number(v());
    else if (a === "--seed") o.seed = Number(v());
    else if (a === "--kinds") o.kinds = v().split(",");
    else if (a === "--json") o.json = v();
    else if (a === "--benchmarks") o.benchmarks = true;
    else throw new Error(`unknown argument: ${a}`);
  }
  if (!(o.seconds >= 5 && o.seconds <= 24 * 3600)) throw new Error("the run lasts 5 s to 24 h");
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new Error("--seed needs a non-negative integer");
  for (const k of o.kinds) if (!KINDS.includes(k)) throw new Error(`unknown kind ${k}; kinds: ${KINDS.join(", ")}`);
  return o;
}

let opts;
try {
  opts = parse(process.argv.slice(2));
} catch (err) {
  console.error(err.message);
  process.exit(2);
}
// Interrupted: exit, so that the servers started are stopped (tests/js/launch.mjs kills them
// on exit; the browser closes on the signal by itself).
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));
const report = await runChaos({ ...opts, log: (line) => console.log(line) });
if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 2));
if (opts.benchmarks && report.ok) writeChaosSection(report);
for (const f of report.failures) console.log(`FAIL ${f}`);
console.log(report.ok ? `chaos: ok (seed ${report.seed})` : `chaos: ${report.failures.length} failure(s); replay with --seed ${report.seed}`);
process.exit(report.ok ? 0 : 1);
