// The SSE mode (`sse()` from rtio/sse) and the plain-WebSocket mode (`ws()` from rtio/ws) against
// hostile peers (MODES.md is the contract they break): the scripted servers of
// tests/servers/hostile/ (sse.mjs, ws.mjs), started in this process on 127.0.0.1, each normal
// but for one behaviour chosen by the query parameter `case`, triggered when the page emits `go`
// or, for stream-level cases, at once.
//
// Each test is one case, in a fresh page of the harness (pages come from the Node test server,
// so the peers are cross-origin and answer CORS). The page imports /pkg/sse.js and /pkg/ws.js,
// records the page's problems, the prototypes' own keys and the size of every wasm memory
// (window.__wasmMemories, from the harness) first; then the case runs; then `checkInvariants`,
// one helper for every case, checks:
//   - no uncaught exception, unhandled rejection or console.error call in the page (the harness
//     also fails a test on uncaught page errors; the browser's own messages about failed loads,
//     which a hostile peer causes on purpose, are not counted);
//   - no prototype pollution: the own keys of Object.prototype, Array.prototype and
//     Function.prototype unchanged, `({}).polluted` and `[].polluted` undefined;
//   - every wasm memory grew by less than 4 MiB during the case;
//   - the wasm is alive: a second client of the same mode on the same page, against the peer
//     behaving normally, connects and completes `emitWithAck`.
// The invariants are checked even when the case's own assertions failed, and both are reported.
//
// Outcomes the cases require (beyond the invariants):
//   - a server event (SSE `event:` name, WS envelope name, also when it asks for an ack) named
//     like one of the client's lifecycle events never calls that event's listeners: the client
//     stays connected and a valid event right after is delivered; every value the `error`
//     listener gets is an Error, and the fetch transport and the WebSocket mode (which see every
//     event) report the name through `error`. With the `eventsource` transport only names that
//     have a listener are subscribed (MODES.md), so a report is not required there;
//   - `retry:` above `reconnectionDelayMax` (1000 ms here) is clamped: after the stream drops
//     the client is back within 10 s; negative and non-numeric `retry:` are ignored;
//   - a malformed WS ack reply for a pending ack (`{"ack":n,"args":"no"}`, `{"ack":n}`) rejects
//     that `emitWithAck` at once with a message naming it "malformed"; acks for unknown ids, a
//     second ack and `{"ack":"x"}` settle nothing else;
//   - a 20 MB SSE line, 32 MiB SSE events and 32 MiB WS frames leave the wasm memory bounded
//     (the invariants) and the client usable (the valid event after them arrives) or
//     reconnected;
//   - streams answered with a wrong content type, streams that end at once and WebSockets closed
//     at once reconnect with backoff: at least twice in 4 s, and at most 45 requests (with
//     reconnectionDelay 200 ms, no attempt comes sooner than 100 ms after the last), not a tight
//     loop;
//   - an SSE id that cannot be sent as a header (not Latin-1) does not keep the fetch transport
//     from reconnecting;
//   - other cases (invalid UTF-8, ids with NUL, 5000 events in one chunk, `__proto__` keys, deep
//     nesting, bad POST answers, invalid JSON, binary frames, ping floods): either a clean
//     ignore or a clear error, the client still connected and the next valid event delivered.
//
//   node --test --test-concurrency=1 tests/js/hostile-modes.test.mjs

import { after, before } from "node:test";
import assert from "node:assert/strict";
import { suite } from "./harness.mjs";
import { startHostileSse } from "../servers/hostile/sse.mjs";
import { startHostileWs } from "../servers/hostile/ws.mjs";

const MiB = 1024 * 1024;
const LIFECYCLE = ["connect", "connect_error", "disconnect", "error", "reconnect_attempt", "reconnect", "reconnect_failed", "newListener", "removeListener"];
const TEST_MS = 60_000;
// Quick reconnection, with a delay cap far below any hostile `retry:`.
const FAST = { reconnectionDelay: 100, reconnectionDelayMax: 1000 };

let peers;
before(async () => {
  const [sse, ws] = await Promise.all([startHostileSse(), startHostileWs()]);
  peers = { sse, ws };
});
after(() => peers && Promise.all([peers.sse.close(), peers.ws.close()]));

let serial = 0;
const keyOf = (label) => `${label.replace(/[^\w-]+/g, "_").slice(0, 40)}-${++serial}`;

// ---------------------------------------------------------------------------------------------
// The page: the modes, the problem recorder, the baseline, and helpers for the cases.

const PREPARE = async ({ lifecycle }) => {
  window.sse = (await import("/pkg/sse.js")).sse;
  window.ws = (await import("/pkg/ws.js")).ws;
  window.LIFECYCLE = lifecycle;
  const problems = (window.__problems = []);
  addEventListener("error", (e) => problems.push("uncaught: " + ((e.error && e.error.stack) || e.message)));
  addEventListener("unhandledrejection", (e) => problems.push("unhandled rejection: " + ((e.reason && e.reason.stack) || e.reason)));
  const nativeError = console.error;
  console.error = (...a) => {
    problems.push("console.error: " + a.map(String).join(" ").slice(0, 500));
    nativeError.apply(console, a);
  };
  window.__protoKeys = () => ({
    object: Reflect.ownKeys(Object.prototype).map(String),
    array: Reflect.ownKeys(Array.prototype).map(String),
    function: Reflect.ownKeys(Function.prototype).map(String),
  });
  window.__before = { protos: __protoKeys(), memories: __wasmMemories.map((m) => m.buffer.byteLength) };

  // A JSON-safe, small view of a value (hostile values can be 32 MiB, or nested too deep to print).
  window.short = (v) => {
    if (v instanceof Error) return { error: v.message, status: v.status };
    if (typeof v == "function") return "function";
    if (v instanceof ArrayBuffer) return { arrayBuffer: v.byteLength };
    if (typeof v == "string") return v.length > 200 ? { string: v.length, head: v.slice(0, 20) } : v;
    if (v === undefined) return { undefined: true };
    try {
      const json = JSON.stringify(v);
      return json.length > 2000 ? { json: json.length } : JSON.parse(json);
    } catch (e) {
      return { unprintable: e.name };
    }
  };

  // Records a client's lifecycle events (counts, first calls), what its `error` listener gets,
  // and the events `names` (count, first arguments, numbers in order).
  window.watch = (c, names = []) => {
    // Null-prototype records: hostile event names such as "__proto__" are plain keys there.
    const rec = () => Object.create(null);
    const log = { counts: rec(), calls: [], errors: [], seen: rec(), first: rec(), numbers: rec() };
    for (const n of LIFECYCLE) {
      log.counts[n] = 0;
      c.on(n, (...a) => {
        log.counts[n]++;
        if (log.calls.length < 40) log.calls.push([n, ...a.map(short)]);
      });
    }
    c.on("error", (e) =>
      log.errors.push({ isError: e instanceof Error, message: e instanceof Error ? String(e.message) : JSON.stringify(short(e)) }),
    );
    for (const n of names) {
      log.seen[n] = 0;
      log.first[n] = [];
      log.numbers[n] = [];
      c.on(n, (...a) => {
        log.seen[n]++;
        if (log.first[n].length < 3) log.first[n].push(a.map(short));
        if (typeof a[0] == "number" && log.numbers[n].length < 10000) log.numbers[n].push(a[0]);
      });
    }
    return log;
  };

  // A client of the case: mode "sse" or "ws", against the hostile peer with `query`.
  window.client = ({ mode, base, transport, query, opts }) => {
    const q = new URLSearchParams(query);
    return mode == "sse" ? sse(`${base}/sse?${q}`, { transport, ...opts }) : ws(`${base}/ws?${q}`, opts);
  };

  // A copy of `v` as it is now (results are returned before the client is disconnected).
  window.snapshot = (v) => JSON.parse(JSON.stringify(v));

  // Settles with { value } or { error } of `p`, or { pending: true } after `ms`.
  window.settle = (p, ms) =>
    Promise.race([
      p.then(
        (v) => ({ value: short(v) }),
        (e) => ({ error: { isError: e instanceof Error, message: String(e && e.message), status: e && e.status } }),
      ),
      sleep(ms).then(() => ({ pending: true })),
    ]);
};

// ---------------------------------------------------------------------------------------------
// The invariants, after every case.

async function checkInvariants(page, { mode, transport, sse, ws, key }) {
  const r = await page.run(
    async ({ mode, transport, sse: sseBase, ws: wsBase, key }) => {
      const problems = __problems.splice(0);
      const protos = __protoKeys();
      const polluted = { object: typeof ({}).polluted, array: typeof [].polluted, function: typeof (() => {}).polluted };
      const grown = __wasmMemories.map((m, i) => m.buffer.byteLength - (__before.memories[i] ?? __wasmMemoryStarts[i]));
      // A second client of the same mode, against the peer behaving normally.
      const query = { key: key + "-alive" };
      const c = mode == "sse" ? sse(`${sseBase}/sse?${new URLSearchParams(query)}`, { transport }) : ws(`${wsBase}/ws?${new URLSearchParams(query)}`);
      let alive;
      try {
        await connected(c, 8000);
        alive = await settle(c.emitWithAck("echo", 42), 8000);
      } catch (e) {
        alive = { error: { message: e.message } };
      } finally {
        c.disconnect();
      }
      problems.push(...__problems.splice(0));
      return { problems, protos, before: __before.protos, polluted, grown, alive };
    },
    { mode, transport, sse, ws, key },
    { timeout: 25_000 },
  );
  const fails = [];
  const check = (ok, msg) => ok || fails.push(msg);
  check(r.problems.length == 0, `page problems: ${JSON.stringify(r.problems)}`);
  for (const k of Object.keys(r.before)) {
    check(JSON.stringify(r.protos[k]) == JSON.stringify(r.before[k]), `${k} prototype's own keys changed: ${JSON.stringify(r.protos[k])}`);
  }
  check(Object.values(r.polluted).every((t) => t == "undefined"), `prototype polluted: ${JSON.stringify(r.polluted)}`);
  check(r.grown.length >= 1, "no wasm memory recorded");
  r.grown.forEach((g, i) => check(g < 4 * MiB, `wasm memory ${i} grew by ${(g / MiB).toFixed(1)} MiB`));
  const expected = mode == "sse" ? { echo: [42] } : 42;
  check(JSON.stringify(r.alive) == JSON.stringify({ value: expected }), `a second client failed its emitWithAck: ${JSON.stringify(r.alive)}`);
  return fails;
}

/**
 * Declares the case `name`: a fresh page is prepared, `body(page, ctx)` runs (ctx: the peers'
 * URLs, a unique `key`, `mode`, `transport`), then the invariants are checked; a failure of
 * either fails the test, with both reported.
 */
function hostileCase(test, name, { mode, transport }, body, { timeout = TEST_MS } = {}) {
  test(name, async (page) => {
    await page.run(PREPARE, { lifecycle: LIFECYCLE }, { timeout: 15_000 });
    const ctx = { mode, transport, sse: peers.sse.url, ws: peers.ws.url, key: keyOf(name) };
    let failure;
    try {
      await body(page, ctx);
    } catch (e) {
      failure = e;
    }
    const broken = await checkInvariants(page, ctx);
    if (failure) {
      if (broken.length) failure.message += `\ninvariants broken too:\n  ${broken.join("\n  ")}`;
      throw failure;
    }
    assert.deepEqual(broken, [], "invariants");
  }, { timeout });
}

// ---------------------------------------------------------------------------------------------
// Page functions of the cases.

// Connects, emits `go` (with an ack when `ack`), waits for the valid event `after` or a
// reconnect (up to `wait` ms), then `settleMs` more. Returns the watch log, the lifecycle counts
// at connect, the ack's outcome and whether the client is connected.
const EVENT_CASE = async ({ mode, transport, base, query, opts, listen, ack, wait, settleMs }) => {
  const c = client({ mode, base, transport, query, opts });
  const log = watch(c, ["after", ...listen]);
  try {
    await connected(c, 8000);
    const atConnect = { ...log.counts };
    const acked = ack ? settle(c.emitWithAck("go"), wait) : (c.emit("go"), null);
    const t0 = performance.now();
    await until(() => log.seen.after >= 1 || log.counts.connect > atConnect.connect, wait, "after or a reconnect").catch(() => {});
    const ms = Math.round(performance.now() - t0);
    const ackOut = acked && (await acked);
    await sleep(settleMs);
    return snapshot({ atConnect, log, ack: ackOut, connected: c.connected, ms });
  } finally {
    c.disconnect();
  }
};

// Connects, emits `go` with an ack, settles it (or not, within `wait`), then emits `echo` with an
// ack on the same client.
const ACK_CASE = async ({ mode, transport, base, query, opts, wait }) => {
  const c = client({ mode, base, transport, query, opts });
  const log = watch(c, ["after", "message"]);
  try {
    await connected(c, 8000);
    const t0 = performance.now();
    const out = await settle(c.emitWithAck("go"), wait);
    out.ms = Math.round(performance.now() - t0);
    const echo = await settle(c.emitWithAck("echo", "again"), 8000);
    await sleep(200);
    return snapshot({ out, echo, log, connected: c.connected });
  } finally {
    c.disconnect();
  }
};

// Connects, emits `go` (after which the peer ends the stream), waits for the disconnect, then
// for the next connect (up to `wait` ms). `back` is how long that took, null if it did not.
const RECONNECT_CASE = async ({ mode, transport, base, query, opts, wait }) => {
  const c = client({ mode, base, transport, query, opts });
  const log = watch(c, ["after", "x"]);
  try {
    await connected(c, 8000);
    c.emit("go");
    await until(() => log.counts.disconnect >= 1, 8000, "the stream to drop");
    const t0 = performance.now();
    let back = null;
    await until(() => log.counts.connect >= 2, wait, "a reconnect").then(
      () => (back = Math.round(performance.now() - t0)),
      () => {},
    );
    return snapshot({ back, log, lastEventId: c.lastEventId ?? null, connected: c.connected });
  } finally {
    c.disconnect();
  }
};

// A client left alone for `span` ms against a peer that never lets it stay connected.
const STORM_CASE = async ({ mode, transport, base, query, opts, span }) => {
  const c = client({ mode, base, transport, query, opts });
  const log = watch(c, ["after"]);
  await sleep(span);
  c.disconnect();
  await sleep(300);
  return { log };
};

const run = (page, fn, arg, ms = 40_000) => page.run(fn, arg, { timeout: ms });
const show = (r) => JSON.stringify(r).slice(0, 3000);

// What every event case requires: the valid event after the hostile part arrived, the client is
// connected, no lifecycle listener ran after connect (but `error`), and `error` got only Errors.
function assertStillFine(r, { allowReconnect = false } = {}) {
  const reconnected = r.log.counts.connect > r.atConnect.connect;
  assert.ok(r.log.seen.after >= 1 || (allowReconnect && reconnected), `the valid event after the hostile part did not arrive: ${show(r)}`);
  if (!allowReconnect) {
    assert.equal(r.connected, true, `the client is not connected: ${show(r)}`);
    for (const n of LIFECYCLE.filter((n) => n != "error")) {
      assert.equal(r.log.counts[n], r.atConnect[n], `lifecycle listener "${n}" ran after connect: ${show(r)}`);
    }
  }
  assert.ok(r.log.errors.every((e) => e.isError), `the error listener got a value that is not an Error: ${show(r.log.errors)}`);
}

// ---------------------------------------------------------------------------------------------
// SSE

const TRANSPORTS = ["eventsource", "fetch"];

suite("hostile SSE peer", ({ test }) => {
  const sseCase = (name, transport, body, o) => hostileCase(test, `SSE ${transport}: ${name}`, { mode: "sse", transport }, body, o);
  const arg = (ctx, kase, more = {}) => ({
    mode: "sse",
    transport: ctx.transport,
    base: ctx.sse,
    query: { case: kase, key: ctx.key, ...(more.query || {}) },
    opts: { ...FAST, ...(more.opts || {}) },
    listen: more.listen || [],
    ack: !!more.ack,
    wait: more.wait ?? 10_000,
    settleMs: more.settleMs ?? 300,
    span: more.span,
  });

  // Lifecycle names as server events.
  for (const name of LIFECYCLE) {
    for (const transport of TRANSPORTS) {
      sseCase(`an event named "${name}" calls no lifecycle listener${transport == "fetch" ? ", is reported," : ""} and the next event arrives`, transport, async (page, ctx) => {
        const r = await run(page, EVENT_CASE, arg(ctx, "name", { query: { name } }));
        assertStillFine(r);
        assert.deepEqual(r.log.first.after, [[{ n: 1 }]]);
        if (transport == "fetch") assert.ok(r.log.errors.length >= 1, `no error reported for the event "${name}": ${show(r)}`);
      });
    }
  }

  // EventSource's own event names: `open` and `message` dispatched by a server.
  sseCase('an event named "open" (EventSource\'s own) does not reconnect or re-announce the connection', "eventsource", async (page, ctx) => {
    const r = await run(page, EVENT_CASE, arg(ctx, "name", { query: { name: "open" }, listen: ["open"] }));
    assertStillFine(r);
  });

  // retry: clamped to reconnectionDelayMax, or ignored when not a number.
  for (const transport of TRANSPORTS) {
    sseCase("retry: 99999999999 is clamped to reconnectionDelayMax (back within 10 s)", transport, async (page, ctx) => {
      const r = await run(page, RECONNECT_CASE, arg(ctx, "retry", { query: { retry: "99999999999" }, wait: 10_000 }));
      assert.notEqual(r.back, null, `no reconnect within 10 s of the drop (reconnectionDelayMax 1000): ${show(r)}`);
    });
  }
  for (const retry of ["-5000", "soon"]) {
    sseCase(`retry: ${retry} is ignored (back within 10 s)`, "fetch", async (page, ctx) => {
      const r = await run(page, RECONNECT_CASE, arg(ctx, "retry", { query: { retry }, wait: 10_000 }));
      assert.notEqual(r.back, null, `no reconnect within 10 s of the drop: ${show(r)}`);
    });
  }

  // Size limits.
  sseCase("a 20 MB line without a newline: memory bounded, the next event arrives (or a reconnect)", "fetch", async (page, ctx) => {
    const r = await run(page, EVENT_CASE, arg(ctx, "long-line", { wait: 20_000 }));
    assertStillFine(r, { allowReconnect: true });
  });
  for (const transport of TRANSPORTS) {
    sseCase("32 MiB of data in one event: memory bounded, the next event arrives (or a reconnect)", transport, async (page, ctx) => {
      const r = await run(page, EVENT_CASE, arg(ctx, "big-event", { listen: ["big"], wait: 20_000 }));
      assertStillFine(r, { allowReconnect: true });
    });
  }

  // Encoding, ids, volume, hostile JSON.
  for (const transport of TRANSPORTS) {
    sseCase("invalid UTF-8 in names, data and ids: replaced or reported, the next event arrives", transport, async (page, ctx) => {
      const r = await run(page, EVENT_CASE, arg(ctx, "bad-utf8", { listen: ["bad", "message"] }));
      assertStillFine(r);
      assert.deepEqual(r.log.first.after, [[{ n: 1 }]]);
    });

    sseCase("id: with NUL is not used to resume; the client reconnects after the stream ends", transport, async (page, ctx) => {
      const r = await run(page, RECONNECT_CASE, arg(ctx, "id-nul", { wait: 10_000 }));
      assert.notEqual(r.back, null, `no reconnect within 10 s: ${show(r)}`);
      const ids = peers.sse.lastIds(ctx.key);
      assert.ok(ids.length >= 2, `the stream was asked for ${ids.length} times`);
      assert.ok(ids.every((id) => id == null || !id.includes("\0")), `a resume sent an id with NUL: ${JSON.stringify(ids)}`);
      assert.ok(r.lastEventId == null || !String(r.lastEventId).includes("\0"), `lastEventId holds NUL: ${JSON.stringify(r.lastEventId)}`);
    });

    sseCase("an id that is not Latin-1 (✓-é) does not stop the client from reconnecting", transport, async (page, ctx) => {
      const r = await run(page, RECONNECT_CASE, arg(ctx, "id-latin", { wait: 10_000 }));
      assert.notEqual(r.back, null, `no reconnect within 10 s of the drop: ${show(r)}`);
    });

    sseCase("5000 events in one chunk arrive, all, in order", transport, async (page, ctx) => {
      const r = await run(page, EVENT_CASE, arg(ctx, "many", { listen: ["many"], wait: 15_000 }));
      assertStillFine(r);
      assert.equal(r.log.seen.many, 5000);
      assert.deepEqual(r.log.numbers.many, Array.from({ length: 5000 }, (_, i) => i));
    });

    sseCase("__proto__ and constructor keys and event names pollute nothing", transport, async (page, ctx) => {
      const r = await run(page, EVENT_CASE, arg(ctx, "proto", { listen: ["pp", "__proto__", "constructor", "hasOwnProperty", "toString"] }));
      assertStillFine(r);
      assert.equal(r.log.seen.pp, 2, show(r));
    });

    sseCase("data nested 100 000 deep: delivered or reported, the next event arrives", transport, async (page, ctx) => {
      const r = await run(page, EVENT_CASE, arg(ctx, "deep", { listen: ["deep"] }));
      assertStillFine(r);
    });
  }

  // POST answers (the same for both transports: the POSTs are fetches).
  const ackCase = (name, kase, check) =>
    sseCase(`emit answered ${name}`, "eventsource", async (page, ctx) => {
      const r = await run(page, ACK_CASE, arg(ctx, kase, { wait: 10_000 }));
      assert.ok(!r.out.pending, `emitWithAck("go") did not settle within 10 s: ${show(r)}`);
      if (r.out.error) assert.ok(r.out.error.isError, `rejected with a non-Error: ${show(r.out)}`);
      check?.(r.out, r);
      assert.deepEqual(r.echo, { value: { echo: ["again"] } }, `the next emit on the same client: ${show(r)}`);
      assert.equal(r.connected, true);
    });
  ackCase("with invalid JSON: resolves with the text or rejects", "ack-invalid-json", (out) => {
    if (out.value !== undefined) assert.equal(out.value, '{"broken": ');
  });
  ackCase("with a 32 MiB body: resolves or rejects", "ack-huge", (out) => {
    if (out.value !== undefined) assert.deepEqual(out.value, { string: 32 * MiB, head: "z".repeat(20) });
  });
  ackCase("500: rejects with an Error whose status is 500", "ack-500", (out) => {
    assert.ok(out.error, `resolved: ${show(out)}`);
    assert.equal(out.error.status, 500);
  });
  ackCase("307 to another path: follows it, or rejects", "ack-redirect", (out) => {
    if (out.value !== undefined) assert.deepEqual(out.value, { redirected: true });
  });
  ackCase("307 to itself forever: rejects", "ack-redirect-loop", (out) => {
    assert.ok(out.error, `resolved: ${show(out)}`);
  });

  // Streams that never stay up.
  for (const transport of TRANSPORTS) {
    sseCase("a stream answered 200 text/plain is a connect_error, retried with backoff, its body ignored", transport, async (page, ctx) => {
      const r = await run(page, STORM_CASE, arg(ctx, "wrong-type", { span: 4000, opts: { reconnectionDelay: 200 } }));
      const hits = peers.sse.hits(ctx.key);
      assert.equal(r.log.counts.connect, 0, show(r));
      assert.ok(r.log.counts.connect_error >= 1, `no connect_error: ${show(r)}`);
      assert.ok(r.log.calls.filter(([n]) => n == "connect_error").every(([, e]) => e && e.error !== undefined), `connect_error without an Error: ${show(r)}`);
      assert.equal(r.log.seen.after, 0, "the text/plain body was read as events");
      assert.ok(hits >= 2 && hits <= 45, `${hits} stream requests in 4 s (reconnectionDelay 200)`);
    });

    sseCase("a stream that ends at once, every time: reconnects bounded by backoff", transport, async (page, ctx) => {
      const r = await run(page, STORM_CASE, arg(ctx, "end-at-once", { span: 4000, opts: { reconnectionDelay: 200 } }));
      const hits = peers.sse.hits(ctx.key);
      assert.ok(hits >= 2 && hits <= 45, `${hits} stream requests in 4 s (reconnectionDelay 200): ${show(r.log.counts)}`);
      assert.ok(r.log.errors.every((e) => e.isError), show(r.log.errors));
    });
  }
}, { servers: ["node"] });

// ---------------------------------------------------------------------------------------------
// Plain WebSocket

suite("hostile WebSocket peer", ({ test }) => {
  const wsCase = (name, body, o) => hostileCase(test, `WS: ${name}`, { mode: "ws" }, body, o);
  const arg = (ctx, kase, more = {}) => ({
    mode: "ws",
    base: ctx.ws,
    query: { case: kase, key: ctx.key, ...(more.query || {}) },
    opts: { ...FAST, ...(more.opts || {}) },
    listen: more.listen || [],
    ack: !!more.ack,
    wait: more.wait ?? 10_000,
    settleMs: more.settleMs ?? 300,
    span: more.span,
  });

  for (const name of LIFECYCLE) {
    wsCase(`envelope events named "${name}" (also asking for an ack) call no lifecycle listener, are reported, and the next event arrives`, async (page, ctx) => {
      const r = await run(page, EVENT_CASE, arg(ctx, "name", { query: { name } }));
      assertStillFine(r);
      assert.deepEqual(r.log.first.after, [[{ n: 1 }]]);
      assert.ok(r.log.errors.length >= 1, `no error reported for the event "${name}": ${show(r)}`);
    });
  }

  // Acks.
  const ackCase = (name, kase, check, wait = 10_000) =>
    wsCase(name, async (page, ctx) => {
      const r = await run(page, ACK_CASE, arg(ctx, kase, { wait }));
      if (r.out.error) assert.ok(r.out.error.isError, `rejected with a non-Error: ${show(r.out)}`);
      check(r.out, r);
      assert.deepEqual(r.echo, { value: "again" }, `the next emitWithAck on the same client: ${show(r)}`);
      assert.equal(r.connected, true, show(r));
      assert.equal(r.log.counts.disconnect, 0, show(r));
    });
  ackCase("acks for unknown ids are ignored; the real ack settles", "ack-unknown", (out) => {
    assert.deepEqual(out, { value: "ok", ms: out.ms });
  });
  ackCase("a second ack for the same id is ignored", "ack-twice", (out) => {
    assert.deepEqual(out, { value: "first", ms: out.ms });
  });
  ackCase('{"ack":"x"} settles nothing; the real ack settles', "ack-malformed-x", (out) => {
    assert.deepEqual(out, { value: "ok", ms: out.ms });
  });
  ackCase('{"ack":n,"args":"no"} rejects that emitWithAck at once, as malformed', "ack-malformed-args", (out) => {
    assert.ok(!out.pending, `still pending 4 s after the malformed ack: ${show(out)}`);
    assert.ok(out.error, `resolved: ${show(out)}`);
    assert.match(out.error.message, /malformed/i);
  }, 4000);
  ackCase('{"ack":n} rejects that emitWithAck at once, as malformed', "ack-malformed-missing", (out) => {
    assert.ok(!out.pending, `still pending 4 s after the malformed ack: ${show(out)}`);
    assert.ok(out.error, `resolved: ${show(out)}`);
    assert.match(out.error.message, /malformed/i);
  }, 4000);

  // Frames.
  wsCase("text frames that are not JSON: passed as message or reported, the next event arrives", async (page, ctx) => {
    const r = await run(page, EVENT_CASE, arg(ctx, "invalid-json", { listen: ["message"] }));
    assertStillFine(r);
    assert.deepEqual(r.log.first.after, [[{ n: 1 }]]);
  });
  wsCase("a 32 MiB text frame: memory bounded, the next event arrives (or a reconnect)", async (page, ctx) => {
    const r = await run(page, EVENT_CASE, arg(ctx, "huge-text", { listen: ["big", "message"], wait: 20_000 }));
    assertStillFine(r, { allowReconnect: true });
  });
  wsCase("a 32 MiB binary frame: memory bounded, the next event arrives (or a reconnect)", async (page, ctx) => {
    const r = await run(page, EVENT_CASE, arg(ctx, "huge-binary", { listen: ["message"], wait: 20_000 }));
    assertStillFine(r, { allowReconnect: true });
  });
  wsCase("binary frames, one holding an envelope and one an ack: messages only, the text ack settles", async (page, ctx) => {
    const r = await run(page, EVENT_CASE, arg(ctx, "binary", { listen: ["message"], ack: true }));
    assertStillFine(r);
    assert.deepEqual(r.ack, { value: "go done" }, show(r));
    assert.equal(r.log.seen.message, 4, show(r));
    assert.ok(r.log.first.message.every(([m]) => m && typeof m.arrayBuffer == "number"), show(r.log.first));
  });
  wsCase("envelopes nested 100 000 deep: delivered or reported, the next event arrives", async (page, ctx) => {
    const r = await run(page, EVENT_CASE, arg(ctx, "deep", { listen: ["deep", "message"] }));
    assertStillFine(r);
  });
  wsCase("__proto__ and constructor keys, names and acks pollute nothing", async (page, ctx) => {
    const r = await run(page, EVENT_CASE, arg(ctx, "proto", { listen: ["pp", "__proto__", "constructor", "hasOwnProperty", "toString", "message"], ack: true }));
    assertStillFine(r);
    assert.ok(r.ack && !r.ack.pending, show(r));
  });
  wsCase("a flood of 5000 ping control frames, 5000 [\"ping\"] and 5000 [\"pong\"]: still connected, the next event arrives", async (page, ctx) => {
    const r = await run(page, EVENT_CASE, arg(ctx, "ping-flood", { listen: ["ping", "pong"], wait: 20_000 }));
    assertStillFine(r);
  });
  wsCase("a server that closes every connection at once: reconnects bounded by backoff", async (page, ctx) => {
    const r = await run(page, STORM_CASE, arg(ctx, "close-at-once", { span: 4000, opts: { reconnectionDelay: 200 } }));
    const hits = peers.ws.hits(ctx.key);
    assert.ok(hits >= 2 && hits <= 45, `${hits} connections in 4 s (reconnectionDelay 200): ${show(r.log.counts)}`);
    assert.ok(r.log.errors.every((e) => e.isError), show(r.log.errors));
  });
}, { servers: ["node"] });
