// What a chaos run must keep, checked against the servers' own logs. See tests/chaos/README.md.

import { BREAKING } from "./faults.mjs";

// How long after a fault that broke connections the packets a browser's resend loses or
// repeats may have been sent (they were written before the break, into the broken connection).
const RESEND_MS = 1000;
// How long before such a fault they may have been written: an answer written into a
// connection is not read at once when the driver's process, which runs the fault proxies, is
// busy (a seed-7 run lost a poll's answer written 517 ms before a cut, its bytes still in the
// proxy).
const BEFORE_MS = 1000;
// Packets a window may excuse: the ticks of one poll's answer, or a repeated POST or two.
const MAX_EXCUSED = 6;

/** Growth allowed between the start and the end of a run, after a full collection. */
export const HEAP_BOUND = 2 * 1024 * 1024;
export const WASM_BOUND = 4 * 1024 * 1024;
// Console errors that mean rtio itself broke (network failures are expected under chaos).
const BROKEN = /panicked|RuntimeError|unreachable|memory access out of bounds/i;

const first = (list, n = 5) => list.slice(0, n).join(", ") + (list.length > n ? `, … (${list.length})` : "");

/**
 * `lane`: records, faults, clients (their specs, with `server`), memory, page and console
 * errors; `final`: each client's state at the end; `logs`: each server's log lines.
 * Returns { failures, summary }.
 */
export function check({ lane, final, logs }) {
  const failures = [];
  const fail = (c, text) => failures.push(`${c}: ${text}`);
  const summary = { faults: {}, clients: {} };
  for (const f of lane.faults) summary.faults[f.kind] = (summary.faults[f.kind] || 0) + 1;

  for (const spec of lane.clients) {
    const c = spec.name;
    const mine = lane.records.filter((r) => r[1] === c);
    const state = final.find((x) => x.name === c);
    const log = logs.find((l) => l.name === spec.server);
    const lines = log ? log.lines.filter((l) => l.c === c) : [];
    const s = { emits: state?.emits ?? null, acked: 0, rejected: 0, ticks: 0, reconnects: 0, attempts: 0 };
    summary.clients[c] = s;
    if (!state) {
      fail(c, "no final state (the run did not end cleanly)");
      continue;
    }
    // Over HTTP (long-polling, SSE emits), the browser itself resends a request whose reused
    // connection broke before any answer: a POST that the server had taken arrives twice, and
    // a long-poll whose answer the server had written is asked again and answered with what
    // comes next. Neither rtio nor socket.io-client sees it happen. So an HTTP client may
    // lose or repeat a packet, but only around a fault that broke connections.
    const windows = lane.faults
      .filter((f) => BREAKING.has(f.kind) && (f.server === spec.server || f.pageWide))
      .map((f) => ({ from: f.at - BEFORE_MS, to: (f.end ?? f.at + (f.ms || 0)) + RESEND_MS, excused: 0 }));
    // Whether a packet sent (or received) at `at` may have been lost or repeated by a resend;
    // `kinds` are the HTTP uses where that happens ("poll", "post"). Each window excuses at most
    // a few packets (one poll's answer, one POST): more is a failure.
    const resend = (at, kinds) => {
      if (!kinds.includes(spec.http)) return false;
      const w = windows.find((x) => at >= x.from && at <= x.to);
      if (!w) return false;
      w.excused++;
      return true;
    };
    s.resent = 0;
    s.lostToResend = 0;
    s.lostInTail = 0;

    // Emits with acks: every one settled; acked ones reached the server once (at least once with
    // retries); in order on each connection.
    const acked = new Set();
    const rejected = new Map();
    for (const r of mine) {
      if (r[0] === "ok") acked.add(r[2]);
      else if (r[0] === "rejected") rejected.set(r[2], r[3]);
      else if (r[0] === "bad") fail(c, `emit ${r[2]} was acked with ${r[3]}`);
    }
    s.acked = acked.size;
    s.rejected = rejected.size;
    s.reasons = {};
    for (const reason of rejected.values()) s.reasons[reason] = (s.reasons[reason] || 0) + 1;
    const unsettled = [];
    for (let n = 1; n <= state.emits; n++) if (!acked.has(n) && !rejected.has(n)) unsettled.push(n);
    if (unsettled.length) fail(c, `emits never settled: ${first(unsettled)}`);
    const unexplained = [...rejected].filter(([, reason]) => !reason || reason === "undefined").map(([n]) => n);
    if (unexplained.length) fail(c, `emits rejected without a reason: ${first(unexplained)}`);
    const arrived = new Map();
    const perConnection = new Map();
    const twice = [];
    for (const l of lines) {
      if (l.e !== "emit") continue;
      if (arrived.has(l.n) && !spec.retries) {
        if (resend(l.at, ["poll", "post"])) s.resent++;
        else twice.push(l.n);
      }
      arrived.set(l.n, (arrived.get(l.n) || 0) + 1);
      if (!perConnection.has(l.s)) perConnection.set(l.s, []);
      perConnection.get(l.s).push(l.n);
    }
    s.delivered = arrived.size;
    const lost = [...acked].filter((n) => !arrived.has(n));
    if (lost.length) fail(c, `acked emits the server never logged: ${first(lost)}`);
    if (twice.length) fail(c, `emits delivered more than once without retries: ${first(twice)}`);
    if (spec.retries) s.duplicates = [...arrived.values()].reduce((sum, k) => sum + k - 1, 0);
    for (const [conn, ns] of perConnection) {
      const seen = new Set();
      let last = 0;
      for (const n of ns) {
        if (seen.has(n)) continue; // a retry: deduplicated by its number
        seen.add(n);
        if (n < last) {
          fail(c, `emit ${n} arrived after ${last} on connection ${conn}`);
          break;
        }
        last = n;
      }
    }

    // Volatile emits: may be lost, never duplicated, nor reordered on one connection (an old
    // connection's bytes held by an outage may land after a new connection's).
    const volatiles = lines.filter((l) => l.e === "volatile");
    const vSeen = new Set();
    const vLast = new Map();
    for (const l of volatiles) {
      const last = vLast.get(l.s) || 0;
      if (vSeen.has(l.n)) {
        if (resend(l.at, ["poll", "post"])) s.resent++;
        else fail(c, `volatile ${l.n} delivered twice`);
      } else if (l.n < last) fail(c, `volatile ${l.n} arrived after ${last} on connection ${l.s}`);
      vSeen.add(l.n);
      vLast.set(l.s, Math.max(last, l.n));
    }
    s.volatiles = `${vSeen.size}/${state.volatiles}`;

    // The server's ticks: on each connection, what arrived is what was sent, in order, without
    // repeats; a connection that broke may lose its tail, but a recovered session, an SSE
    // resume or the connection the run ended on lose nothing; and over HTTP, what the
    // browser's resends lose (above).
    const sent = new Map();
    for (const l of lines) {
      if (l.e !== "tick") continue;
      if (!sent.has(l.s)) sent.set(l.s, []);
      sent.get(l.s).push(l);
    }
    const got = new Map();
    const dup = new Set();
    for (const r of mine) {
      if (r[0] !== "tick") continue;
      const key = r[2] + "/" + r[3];
      if (dup.has(key)) fail(c, `tick ${key} arrived twice`);
      dup.add(key);
      if (!got.has(r[2])) got.set(r[2], []);
      got.get(r[2]).push(r[3]);
    }
    s.ticks = dup.size;
    s.ticksSent = [...sent.values()].reduce((sum, ks) => sum + ks.length, 0);
    // Each recovered session: when it was last recovered.
    const recovered = new Map(lines.filter((l) => l.e === "connect" && l.recovered).map((l) => [l.s, l.at]));
    const connects = lines.filter((l) => l.e === "connect");
    // The connection the run ended on: the feed was stopped on it, after its last tick.
    const lastConnection = connects.length ? connects[connects.length - 1].s : null;
    for (const conn of new Set([...sent.keys(), ...got.keys()])) {
      const out = sent.get(conn) || [];
      const ks = got.get(conn) || [];
      // In the order sent: each received tick is found after the one before it.
      let j = 0;
      for (const k of ks) {
        while (j < out.length && out[j].k !== k) j++;
        if (j === out.length) {
          fail(c, `tick ${k} on ${conn} arrived out of order, or was never sent there`);
          break;
        }
        j++;
      }
      const have = new Set(ks);
      const last = ks.length ? ks[ks.length - 1] : -1;
      // Nothing may be lost on the connection the run ended on, nor before a recovery of its
      // session (which replays what was missed); after the last recovery, a connection that
      // broke for good may lose its tail. (An SSE stream's tail is checked below, by time.)
      const recoveredUntil = log?.recovery ? (recovered.get(conn) ?? 0) : 0;
      const lostHere = [];
      for (const t of out) {
        if (have.has(t.k)) continue;
        const mustKeep = conn === lastConnection || t.at < recoveredUntil;
        if (t.k > last && !mustKeep) s.lostInTail++;
        else if (resend(t.at, ["poll"])) s.lostToResend++;
        else lostHere.push(t.k);
      }
      if (lostHere.length) fail(c, `ticks lost on ${conn}: ${first(lostHere)}`);
    }
    if (log?.resume) {
      // The stream resumed to the end: the ticks sent up to a second before the end arrived.
      const due = lines.filter((l) => l.e === "tick" && l.at <= lane.finishedAt - 1000).reduce((a, l) => Math.max(a, l.k), 0);
      const last = (got.get("sse") || []).reduce((a, b) => Math.max(a, b), 0);
      if (last < due) fail(c, `the ticks stopped at ${last}; ${due} were sent a second before the end`);
    }

    const over = windows.filter((w) => w.excused > MAX_EXCUSED);
    if (over.length) fail(c, `${over.map((w) => w.excused).join(", ")} packets lost or repeated around one fault: more than a resend explains`);
    // Enough work happened for the checks above to mean something.
    const expectedTicks = spec.feed ? (lane.seconds * 1000) / spec.feed : (lane.seconds * 1000) / 100;
    if (s.ticks < 0.3 * expectedTicks) fail(c, `only ${s.ticks} ticks received of about ${Math.round(expectedTicks)} sent`);
    if (vSeen.size < 0.3 * state.volatiles || state.volatiles < 0.3 * (lane.seconds * 1000) / spec.volatileEvery) {
      fail(c, `only ${vSeen.size} of ${state.volatiles} volatile emits arrived`);
    }

    // Rooms and presence: what the client shows is what the server holds.
    if (spec.room) {
      if (JSON.stringify(state.members) !== JSON.stringify(state.serverMembers)) {
        fail(c, `presence shows ${JSON.stringify(state.members)}, the server has ${JSON.stringify(state.serverMembers)}`);
      }
      const peers = lane.clients.filter((x) => x.room === spec.room && x.server === spec.server);
      const ids = peers.map((x) => final.find((f) => f.name === x.name)?.id).sort();
      if (JSON.stringify(ids) !== JSON.stringify(state.serverMembers)) {
        fail(c, `the server's room has ${JSON.stringify(state.serverMembers)}, its clients are ${JSON.stringify(ids)}`);
      }
    }

    // Reconnects: at most one per fault that could take the link down, and attempts bounded by
    // the backoff (no storm).
    s.reconnects = Math.max(0, mine.filter((r) => r[0] === "connect").length - 1);
    s.attempts = mine.filter((r) => r[0] === "attempt").length;
    const breaking = lane.faults.filter((f) => BREAKING.has(f.kind) && (f.server === spec.server || f.pageWide));
    const canBreak = breaking.reduce((sum, f) => sum + (f.kind === "upgrade-cut" ? 2 : 1), 0);
    if (s.reconnects > canBreak) fail(c, `${s.reconnects} reconnects for ${canBreak} faults that could need one`);
    const attemptBound = breaking.reduce((sum, f) => sum + 3 + Math.ceil((f.ms || 0) / 100), 0);
    if (s.attempts > attemptBound) fail(c, `${s.attempts} reconnection attempts, more than the backoff allows (${attemptBound})`);
    if (!state.connected) fail(c, "not connected at the end");
    const expected = (lane.seconds * 1000) / spec.emitEvery;
    if (s.acked < 0.3 * expected) fail(c, `only ${s.acked} emits acked of about ${Math.round(expected)} made`);
  }

  // The page: no uncaught exception, no trap; memory back within bounds.
  for (const e of lane.pageErrors) failures.push(`page: uncaught ${e.split("\n")[0]}`);
  for (const e of lane.consoleErrors) if (BROKEN.test(e)) failures.push(`page: ${e.split("\n")[0]}`);
  const { start, end } = lane.memory;
  if (start && end) {
    summary.memory = { heap: [start.heap, end.heap], wasm: [start.wasm, end.wasm] };
    if (end.heap - start.heap > HEAP_BOUND) failures.push(`page: heap grew from ${start.heap} to ${end.heap} B`);
    if (end.wasm - start.wasm > WASM_BOUND) failures.push(`page: wasm memory grew from ${start.wasm} to ${end.wasm} B`);
  }
  return { failures, summary };
}
