// The servers' side of the chaos runs (tests/chaos/): what each test server received and sent
// for the chaos workload, appended to a file as JSON lines. Written synchronously, so that a
// server killed with SIGKILL has logged everything it did; read back by the driver at the end.
//
// Lines: { e, at, ... } with `e` one of
//   boot      the server started (`b`: its boot id, also the prefix of its connection ids)
//   connect   a client's connection (`c` the client's name, `s` the connection id, `recovered`)
//   emit      a numbered emit arrived (`c`, `s`, `n`)
//   volatile  a numbered volatile emit arrived (`c`, `s`, `n`)
//   tick      a numbered server event was sent (`c`, `s`, `k`)
//   gone      a connection ended (`c`, `s`, `reason`)

import { appendFileSync } from "node:fs";

/** Opens the log `file` (appending); returns `record(fields)` and the boot id. */
export function chaosLog(file) {
  const boot = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
  const record = (fields) => appendFileSync(file, JSON.stringify({ ...fields, at: Date.now() }) + "\n");
  record({ e: "boot", b: boot });
  return { record, boot };
}

/** A client's name from the workload: 1..64 characters of [A-Za-z0-9._-], else null. */
export function clientName(value) {
  return typeof value === "string" && /^[\w.-]{1,64}$/.test(value) ? value : null;
}

/** A feed period: 10..60000 ms, else null (0 or anything else stops the feed). */
export function feedPeriod(value) {
  return Number.isInteger(value) && value >= 10 && value <= 60_000 ? value : null;
}

/** An emit's number: a non-negative safe integer, else null. */
export function emitNumber(value) {
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}
