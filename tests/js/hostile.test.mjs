// What a broken or malicious Socket.IO server can do to the client, one test per case: the page
// (harness.mjs, headless Chromium) connects `io()` to a scripted peer
// (tests/servers/hostile/sio.mjs, started in this process) with the case's name in the query;
// the peer acts normally except for its scripted hostile behaviour, which it plays when the
// page emits `go` (so the page's listeners are attached first), or at once for broken
// handshakes and CONNECT replies. The cases and their frames are listed in the peer's CASES.
//
// After every case one helper (`hostile`) checks the invariants:
//   - no uncaught exception and no console error in the page (a Manager `error` listener
//     collects the errors the client reports, so reporting one is not a console error);
//   - no prototype pollution: the own keys and values of the built-in prototypes (and of the
//     client's Socket and Manager) are unchanged, `({}).polluted` and friends are undefined;
//   - the page's wasm memories each grew by less than 4 MiB over the case;
//   - the client still works: a second socket on the same page, to the Node test server that
//     serves the pages, completes `emitWithAck("echo", 1)`.
// Then the case's own outcome. Unless a case says otherwise it is "a clear error or a clean
// ignore": the Manager `error` event fired with an Error that has a message, or the socket got
// `disconnect` / `connect_error` with a reason; or nothing reached any listener and the event
// the peer sends after the hostile frames (`after`) arrived. Either way the socket then still
// completes an `echo` ack round trip with the peer (reconnecting first if it was disconnected).
// Broken handshakes must end in `connect_error` / `disconnect` with a message, or, for the
// harmless ones, in a working connection. A message counts when it says something: not empty,
// not "undefined", not "[object Object]".
//
// Run: node --test --test-concurrency=1 tests/js/hostile.test.mjs

import { after } from "node:test";
import assert from "node:assert/strict";
import { suite } from "./harness.mjs";
import {
  DEPTH,
  HUGE,
  INVALID_UTF8,
  PROTO_BIN_BYTES,
  PROTO_BIN_TEXT,
  PROTO_ERROR_TEXT,
  PROTO_TEXT,
  startHostilePeer,
} from "../servers/hostile/sio.mjs";

const MiB = 1024 * 1024;
const MEMORY_GROWTH = 4 * MiB;
const RUN_MS = 45_000; // a page function (cases wait up to about 10 s for each step)
const TEST_MS = 60_000;

let peerPromise;
const peer = () => (peerPromise ??= startHostilePeer());
after(async () => {
  if (peerPromise) await (await peerPromise).close();
});

// ---------------------------------------------------------------------------------------------
// Page side: installed in each page as `H` before the case runs.

function pageLib() {
  const H = (window.H = {});

  // ---- invariants ----
  const builtins = [Object, Array, Function, String, Number, Boolean, Symbol, Error, TypeError, RangeError,
    Promise, RegExp, Map, Set, WeakMap, ArrayBuffer, Uint8Array, DataView, Date];
  const prototypes = () => {
    const list = builtins.map((C) => [C.name, C.prototype]);
    if (io.Socket) list.push(["Socket", io.Socket.prototype]);
    if (io.Manager) list.push(["Manager", io.Manager.prototype]);
    return list;
  };
  H.snapshot = () => {
    H.protos = prototypes().map(([name, p]) => ({
      name,
      p,
      parent: Object.getPrototypeOf(p),
      props: Reflect.ownKeys(p).map((k) => [k, Object.getOwnPropertyDescriptor(p, k)]),
    }));
    H.memories = window.__wasmMemories.map((m) => [m, m.buffer.byteLength]);
  };
  H.invariants = async () => {
    const problems = [];
    for (const { name, p, parent, props } of H.protos) {
      const keys = Reflect.ownKeys(p);
      const known = new Set(props.map(([k]) => k));
      for (const k of keys) if (!known.has(k)) problems.push(name + ".prototype gained " + String(k));
      for (const [k, d] of props) {
        const now = Object.getOwnPropertyDescriptor(p, k);
        if (!now) problems.push(name + ".prototype lost " + String(k));
        else if (now.value !== d.value || now.get !== d.get || now.set !== d.set) {
          problems.push(name + ".prototype." + String(k) + " changed");
        }
      }
      if (Object.getPrototypeOf(p) !== parent) problems.push(name + ".prototype's prototype changed");
    }
    const probes = {
      "({}).polluted": ({}).polluted,
      "[].polluted": [].polluted,
      "(function () {}).polluted": function () {}.polluted,
      '"".polluted': "".polluted,
      "window.polluted": window.polluted,
      "({}).bin": ({}).bin,
      "Object.prototype.toString is native": /\[native code\]/.test(Function.prototype.toString.call(({}).toString)),
    };
    for (const [k, v] of Object.entries(probes)) {
      if (v !== undefined && v !== true) problems.push(k + " is " + String(v));
      if (v === false) problems.push(k + " is false");
    }
    if (Object.getPrototypeOf({}) !== Object.prototype) problems.push("Object.getPrototypeOf({}) changed");
    const memory = H.memories.map(([m, before]) => ({ before, after: m.buffer.byteLength, growth: m.buffer.byteLength - before }));
    // A memory made during the case (a fresh module) is measured from its size when made.
    window.__wasmMemories.slice(H.memories.length).forEach((m, i) => {
      const before = window.__wasmMemoryStarts[H.memories.length + i];
      memory.push({ before, after: m.buffer.byteLength, growth: m.buffer.byteLength - before, created: true });
    });
    // The client still works: a new connection to the server that serves the page.
    let alive;
    const s = io(location.origin, { forceNew: true, transports: ["websocket"] });
    try {
      await connected(s, 10000);
      alive = await s.timeout(5000).emitWithAck("echo", 1);
    } catch (e) {
      alive = "failed: " + (e && e.message);
    } finally {
      s.disconnect();
    }
    return { problems, memory, alive };
  };

  // ---- describing what arrived ----
  const depth = (v) => {
    let d = 0;
    while (v && typeof v == "object" && d < 10_000_000) {
      d++;
      v = Array.isArray(v) ? v[0] : v[Object.keys(v)[0]];
    }
    return d;
  };
  const replacer = (k, x) => {
    if (x instanceof ArrayBuffer) return { $ab: Array.from(new Uint8Array(x)) };
    if (ArrayBuffer.isView(x)) return { $view: x.constructor.name, bytes: Array.from(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)) };
    if (typeof x == "string" && x.length > 300) return { $string: x.length, start: x.slice(0, 20) };
    if (x === undefined) return { $undefined: true };
    return x;
  };
  /** Whether an error message or reason says something: not empty, not "undefined" nor "[object Object]". */
  H.meaningful = (m) => typeof m == "string" && m != "" && m != "undefined" && !/^\[object \w+\]$/.test(m);
  H.json = (v) => JSON.stringify(v, replacer);
  /** A JSON text of `v` for the report (binary as {$ab}, long strings and deep values summarized). */
  H.describe = (v) => {
    let s;
    try {
      s = H.json(v);
    } catch (e) {
      return JSON.stringify({ $unprintable: String(e && e.message), depth: depth(v) });
    }
    return s.length > 2000 ? JSON.stringify({ $long: s.length, start: s.slice(0, 200) }) : s;
  };
  H.depth = depth;

  // ---- a socket to the peer, with every listener attached ----
  const guard = (f) => (...a) => {
    try {
      f(...a);
    } catch (e) {
      H.listenerErrors = (H.listenerErrors || 0) + 1;
    }
  };
  const RESERVED = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];
  H.open = (peer, name, opts = {}) => {
    const L = {
      errors: [],
      events: [],
      raw: [],
      markers: 0,
      calls: Object.fromEntries(RESERVED.map((n) => [n, []])),
    };
    const socket = io(peer, {
      query: { case: name },
      forceNew: true,
      transports: ["websocket"],
      reconnectionDelay: 100,
      reconnectionDelayMax: 300,
      ...opts,
    });
    L.socket = socket;
    socket.io.on("error", guard((e) => L.errors.push({ isError: e instanceof Error, message: String(e && e.message) })));
    socket.on("connect", guard(() => L.calls.connect.push(socket.id === undefined ? null : String(socket.id))));
    socket.on("connect_error", guard((e) =>
      L.calls.connect_error.push({ isError: e instanceof Error, message: String(e && e.message), data: H.describe(e && e.data), err: e })));
    socket.on("disconnect", guard((reason) => L.calls.disconnect.push(String(reason))));
    for (const n of ["disconnecting", "newListener", "removeListener"]) socket.on(n, guard((...a) => L.calls[n].push(H.describe(a))));
    socket.onAny(guard((ev, ...args) => {
      if (ev === "after") return void L.markers++;
      L.raw.push([ev, ...args]);
      L.events.push(H.describe([ev, ...args]));
    }));
    return L;
  };

  /** Waits for the first of connect, connect_error and disconnect: its name, or "nothing". */
  H.first = async (L, ms = 10000) => {
    const c = L.calls;
    await until(() => c.connect.length || c.connect_error.length || c.disconnect.length, ms, "an outcome").catch(() => {});
    return c.connect.length ? "connect" : c.connect_error.length ? "connect_error" : c.disconnect.length ? "disconnect" : "nothing";
  };

  const counts = (L) => ({
    events: L.events.length,
    errors: L.errors.length,
    markers: L.markers,
    calls: Object.fromEntries(RESERVED.map((n) => [n, L.calls[n].length])),
  });

  /**
   * Emits the trigger `go` (ack: "promise" for emitWithAck, "callback" for an error-first
   * callback, both with a 10 s timeout), then waits for the peer's `after` marker, a
   * disconnection or connect_error, up to `ms`.
   */
  H.go = async (L, { ack, ms = 8000 } = {}) => {
    const s = L.socket;
    L.before = counts(L);
    L.sentAt = performance.now();
    if (ack == "promise") {
      L.ack = { settled: false };
      s.timeout(10000).emitWithAck("go").then(
        (v) => Object.assign(L.ack, { settled: true, value: v, ms: performance.now() - L.sentAt }),
        (e) => Object.assign(L.ack, { settled: true, isError: e instanceof Error, message: String(e && e.message), ms: performance.now() - L.sentAt }),
      );
    } else if (ack == "callback") {
      L.ack = { settled: false, calls: [] };
      s.timeout(10000).emit("go", (...a) => {
        L.ack.calls.push(a.map((x) => (x instanceof Error ? { isError: true, message: x.message } : x === null ? null : H.describe(x))));
        Object.assign(L.ack, { settled: true, ms: performance.now() - L.sentAt });
      });
    } else {
      s.emit("go");
    }
    const b = L.before;
    await until(
      () => L.markers > b.markers || L.calls.disconnect.length > b.calls.disconnect || L.calls.connect_error.length > b.calls.connect_error,
      ms,
      "the marker or a disconnection",
    ).catch(() => {});
    // What the same frame or the next ones still produce.
    await sleep(100);
  };

  /** Waits until the pending ack of H.go has settled, up to `ms`. */
  H.settled = (L, ms = 6000) => until(() => L.ack.settled, ms, "the ack").catch(() => {});

  /** What happened since H.go. */
  H.verdict = (L) => {
    const b = L.before;
    const calls = Object.fromEntries(RESERVED.map((n) => [n, L.calls[n].slice(b.calls[n]).map((x) => (x && x.err ? { ...x, err: undefined } : x))]));
    const errors = L.errors.slice(b.errors);
    const clearError =
      errors.some((e) => e.isError && H.meaningful(e.message)) ||
      calls.disconnect.some(H.meaningful) ||
      calls.connect_error.some((e) => e.isError && H.meaningful(e.message));
    return {
      errors,
      calls,
      delivered: L.events.slice(b.events),
      marker: L.markers > b.markers,
      clearError,
      connectedAfter: L.socket.connected,
      ack: L.ack && ("value" in L.ack ? { ...L.ack, value: H.describe(L.ack.value) } : L.ack),
      listenerErrors: H.listenerErrors || 0,
    };
  };

  /** Whether the socket still completes an echo round trip (connecting it again if it stopped). */
  H.usable = async (L) => {
    const s = L.socket;
    try {
      if (!s.connected && !s.active) s.connect();
      await connected(s, 10000);
      const v = await s.timeout(5000).emitWithAck("echo", "still", 1);
      return { ok: v === "still", value: H.describe(v) };
    } catch (e) {
      return { ok: false, why: String(e && e.message) };
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Node side

/**
 * Runs `body()` (which drives the page) between a snapshot and the invariant checks described
 * at the top of this file; returns what `body` returned.
 */
async function hostile(page, body) {
  const consoleErrors = [];
  page.page.on("console", (m) => {
    // The browser's own request for /favicon.ico (a 404 from the page server) is not the page's.
    if (m.type() === "error" && !/\/favicon\.ico$/.test(m.location().url || "")) consoleErrors.push(m.text());
  });
  await page.run(pageLib);
  await page.run(() => H.snapshot());
  const result = await body((await peer()).url);
  const inv = await page.run(() => H.invariants(), {}, { timeout: 25_000 });
  assert.deepEqual(inv.problems, [], "no prototype pollution");
  assert.ok(inv.memory.length >= 1, "no wasm memory recorded");
  for (const m of inv.memory) {
    assert.ok(m.growth < MEMORY_GROWTH, `wasm memory grew by ${m.growth} bytes (${m.before} -> ${m.after})`);
  }
  assert.equal(inv.alive, 1, "a second socket on the page completes an echo round trip");
  assert.deepEqual(consoleErrors, [], "no console error in the page");
  return result;
}

/** Whether an error message or reason says something (the page's H.meaningful). */
const meaningful = (m) => typeof m == "string" && m != "" && m != "undefined" && !/^\[object \w+\]$/.test(m);

const show = (r) => JSON.stringify(r, null, 1).slice(0, 3000);

/** "A clear error or a clean ignore", then an echo round trip with the peer. */
function errorOrIgnore(r, { allow = [] } = {}) {
  const delivered = r.delivered.filter((d) => !allow.includes(d));
  const reservedCalls = ["connect", "disconnecting", "newListener", "removeListener"].filter((n) => r.calls[n].length);
  const ignored = delivered.length === 0 && reservedCalls.length === 0 && r.marker;
  assert.ok(
    r.clearError || ignored,
    "expected a clear error (Manager error, disconnect or connect_error with a message) or a clean ignore " +
      "(nothing delivered, the next event arrives); got " + show(r),
  );
  if (r.clearError) {
    // An error was reported: what came with the bad frame was dropped, not delivered.
    assert.deepEqual(delivered, [], "nothing of the bad packet is delivered; got " + show(r));
  }
  assert.equal(r.listenerErrors, 0);
  assert.ok(r.usable.ok, "the socket still completes an echo round trip with the peer; got " + show(r));
}

suite("hostile server", ({ test }) => {
  /**
   * A case played on `go`: connects, attaches listeners, emits `go` (with an ack if `ack`),
   * waits for the marker or a disconnection, then checks `check(r)` (default: errorOrIgnore).
   * `pre` runs in the page after the connect (its result is `r.pre`), `post` after the wait
   * (its result is `r.post`); both get (L, arg).
   */
  function onGo(name, { ack, check = errorOrIgnore, pre, post, arg = {}, title } = {}) {
    test(title || name, (page) =>
      hostile(page, async (url) => {
        const r = await page.run(
          async ({ peer, name, ack, pre, post, arg }) => {
            const L = H.open(peer, name);
            await connected(L.socket, 10000);
            const preOut = pre ? await (0, eval)("(" + pre + ")")(L, arg) : undefined;
            await H.go(L, { ack });
            if (ack) await H.settled(L);
            const postOut = post ? await (0, eval)("(" + post + ")")(L, arg) : undefined;
            const v = H.verdict(L);
            v.pre = preOut;
            v.post = postOut;
            v.usable = await H.usable(L);
            L.socket.disconnect();
            return v;
          },
          { peer: url, name, ack, pre: pre && pre.toString(), post: post && post.toString(), arg },
          { timeout: RUN_MS },
        );
        check(r);
      }),
      { timeout: TEST_MS },
    );
  }

  /**
   * A case that acts at once (handshake, CONNECT reply): waits for the first of connect,
   * connect_error and disconnect; if connected, tries an echo round trip.
   *   expect "refused":  connect_error or disconnect with a message (see `meaningful`), never connect;
   *   expect "either":   that, or a connection that works;
   *   expect "connects": a connection that works.
   */
  function atOnce(name, expect, { check, post, arg = {} } = {}) {
    test(name, (page) =>
      hostile(page, async (url) => {
        const r = await page.run(
          async ({ peer, name, post, arg }) => {
            const L = H.open(peer, name);
            const first = await H.first(L);
            let usable;
            if (first == "connect") {
              try {
                usable = { ok: (await L.socket.timeout(5000).emitWithAck("echo", "still")) === "still" };
              } catch (e) {
                usable = { ok: false, why: String(e && e.message) };
              }
            }
            const postOut = post ? await (0, eval)("(" + post + ")")(L, arg) : undefined;
            // What the peer caused, before this page's own disconnect adds to it.
            const calls = {};
            for (const [k, v] of Object.entries(L.calls)) calls[k] = v.map((x) => (x && x.err ? { ...x, err: undefined } : x));
            L.socket.disconnect();
            return { first, usable, calls, errors: L.errors, events: L.events, post: postOut, listenerErrors: H.listenerErrors || 0 };
          },
          { peer: url, name, post: post && post.toString(), arg },
          { timeout: RUN_MS },
        );
        const messages = [...r.calls.connect_error.map((e) => e.message), ...r.calls.disconnect];
        const refused = r.first !== "connect" && r.first !== "nothing" && messages.length > 0 && messages.every(meaningful);
        const works = r.first === "connect" && r.usable.ok;
        // A connection that came up and then went away with a reason (a heartbeat it cannot keep).
        const lost = r.first === "connect" && r.calls.disconnect.some(meaningful);
        if (expect === "refused") {
          assert.ok(refused, "expected connect_error or disconnect with a message that says something, and no connect; got " + show(r));
          assert.deepEqual(r.calls.connect, [], "never connects; got " + show(r));
        } else if (expect === "either") {
          assert.ok(refused || works || lost, "expected a refusal with a message or a working connection; got " + show(r));
        } else {
          assert.ok(works, "expected a working connection; got " + show(r));
        }
        assert.deepEqual(r.events, [], "nothing delivered");
        assert.equal(r.listenerErrors, 0);
        check?.(r);
      }),
      { timeout: TEST_MS },
    );
  }

  // ---- the peer itself ----

  onGo("normal", {
    title: "control: the peer answers echo, and the marker follows go",
    check: (r) => {
      assert.equal(r.clearError, false, show(r));
      assert.equal(r.marker, true);
      assert.deepEqual(r.delivered, []);
      assert.equal(r.usable.ok, true, show(r));
    },
  });

  test("control: the client answers the peer's pings", (page) =>
    hostile(page, async (url) => {
      const r = await page.run(
        async ({ peer }) => {
          const L = H.open(peer, "heartbeat");
          await connected(L.socket, 10000);
          await sleep(1500);
          const v = { connected: L.socket.connected, disconnects: [...L.calls.disconnect] };
          L.socket.disconnect();
          return v;
        },
        { peer: url },
        { timeout: RUN_MS },
      );
      assert.deepEqual(r, { connected: true, disconnects: [] });
      const [conn] = (await peer()).received("heartbeat").slice(-1);
      assert.ok(conn.pongs >= 3, `the peer pings every 200 ms and got ${conn.pongs} pongs`);
    }),
  );

  // ---- handshakes ----

  atOnce("hs-invalid-json", "refused");
  atOnce("hs-not-object", "refused");
  atOnce("hs-missing-sid", "refused");
  atOnce("hs-empty-sid", "either");
  atOnce("hs-sid-not-string", "either");
  atOnce("hs-ping-interval-negative", "either");
  atOnce("hs-ping-interval-huge", "either");
  atOnce("hs-ping-interval-string", "either");
  atOnce("hs-ping-interval-fraction", "either");
  atOnce("hs-ping-interval-missing", "either");
  atOnce("hs-ping-timeout-negative", "either");
  atOnce("hs-ping-timeout-huge", "either");
  atOnce("hs-ping-timeout-null", "either");
  atOnce("hs-heartbeat-zero", "either");
  atOnce("hs-max-payload-weird", "either");
  atOnce("hs-max-payload-string", "either");
  atOnce("hs-open-twice", "either");
  atOnce("hs-message-first", "either");
  atOnce("hs-binary-first", "either");
  atOnce("hs-empty-frame", "refused");
  atOnce("hs-close-at-once", "refused");

  // ---- CONNECT replies ----

  atOnce("connect-reply-invalid-json", "refused");
  atOnce("connect-reply-no-sid", "either");
  atOnce("connect-reply-sid-number", "either");
  atOnce("connect-reply-array", "refused");
  atOnce("connect-reply-proto", "connects");
  atOnce("connect-error-string", "refused");
  atOnce("connect-error-number", "refused");
  atOnce("connect-error-null", "refused");
  atOnce("connect-error-no-message", "refused");
  atOnce("connect-error-message-object", "refused");
  atOnce("connect-error-empty", "refused");
  atOnce("connect-error-proto", "refused", {
    // The error's data keeps its `__proto__` member as an own property.
    post: (L) => {
      const e = L.calls.connect_error[0] && L.calls.connect_error[0].err;
      const d = e && e.data;
      return {
        data: d === undefined ? null : JSON.stringify(d),
        ownProto: !!d && Object.prototype.hasOwnProperty.call(d, "__proto__"),
        plainProto: !!d && Object.getPrototypeOf(d) === Object.prototype,
      };
    },
    check: (r) => {
      assert.deepEqual(r.post, {
        data: JSON.stringify(JSON.parse(PROTO_ERROR_TEXT).data),
        ownProto: true,
        plainProto: true,
      });
    },
  });

  onGo("connect-twice");
  onGo("connect-unasked-nsp");
  onGo("connect-error-when-connected");

  // ---- unknown and malformed packets ----

  onGo("eio-unknown-type");
  onGo("eio-unknown-type-letter");
  onGo("eio-empty-frame");
  onGo("eio-noop-upgrade-pong");
  onGo("sio-unknown-type");
  onGo("sio-empty-message");
  onGo("event-invalid-json");
  onGo("event-not-array");
  onGo("event-string-data");
  onGo("event-empty-array");
  onGo("event-name-not-string");
  onGo("event-unknown-nsp");
  onGo("event-disconnect-unknown-nsp");
  onGo("event-ack-id-overflow");
  onGo("event-many-args");

  // ---- server events with reserved names (REQUIRED outcome) ----

  /**
   * The reserved event never reaches the reserved listeners (nor onAny), the Manager reports
   * an Error that names the problem, the socket stays connected and the event right after is
   * delivered.
   */
  const reservedDropped = (r) => {
    for (const n of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
      assert.deepEqual(r.calls[n], [], `the socket's "${n}" listeners are not called; got ` + show(r));
    }
    assert.deepEqual(r.delivered, [], "nothing delivered; got " + show(r));
    assert.ok(
      r.errors.some((e) => e.isError && /malformed|reserved/i.test(e.message)),
      "the Manager reports an Error about the malformed/reserved packet; got " + show(r),
    );
    assert.equal(r.connectedAfter, true, "still connected; got " + show(r));
    assert.equal(r.marker, true, "the valid event sent right after is delivered; got " + show(r));
    assert.ok(r.usable.ok, show(r));
  };
  for (const n of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
    onGo("reserved-" + n, { check: reservedDropped });
  }
  onGo("reserved-connect-with-ack", { check: reservedDropped });

  // ---- acks ----

  const ackedOnce = (value) => (r) => {
    assert.equal(r.ack.settled, true, show(r));
    assert.deepEqual(r.ack.calls, [[null, JSON.stringify(value)]], "the callback runs once, with the right answer; got " + show(r));
    assert.deepEqual(r.calls.disconnect, [], "stays connected; got " + show(r));
    assert.deepEqual(r.delivered, []);
    assert.equal(r.marker, true);
    assert.ok(r.usable.ok, show(r));
  };
  onGo("ack-unknown-id", { ack: "callback", check: ackedOnce("ok") });
  onGo("ack-twice", { ack: "callback", check: ackedOnce("first") });

  /** REQUIRED: a malformed (BINARY_)ACK for a pending ack settles it at once with a "malformed" Error. */
  const rejectedMalformed = (r) => {
    assert.equal(r.ack.settled, true, "the pending ack settles without waiting for its 10 s timeout; got " + show(r));
    if (r.ack.calls) {
      assert.equal(r.ack.calls.length, 1, show(r));
      const [first] = r.ack.calls[0];
      assert.ok(first && first.isError, "the callback's first argument is an Error; got " + show(r));
      assert.match(first.message, /malformed/i, show(r));
    } else {
      assert.equal(r.ack.isError, true, "emitWithAck rejects with an Error; got " + show(r));
      assert.match(r.ack.message, /malformed/i, show(r));
    }
    assert.ok(r.usable.ok, "then the socket still completes an echo round trip; got " + show(r));
  };
  for (const name of [
    "ack-invalid-json",
    "ack-not-array",
    "ack-string",
    "binary-ack-invalid-json",
    "binary-ack-placeholder-out-of-range",
    "binary-ack-placeholder-proto",
    "binary-ack-placeholder-fraction",
    "binary-ack-placeholder-string-num",
  ]) {
    onGo(name, { ack: "promise", check: rejectedMalformed, title: name + " (emitWithAck)" });
  }
  // An attachment count of 0 makes the packet's header malformed (socket.io-parser refuses it
  // the same way): the connection closes with "parse error", so the pending ack fails at once
  // as disconnected, and the socket reconnects.
  onGo("binary-ack-count-zero-placeholder", {
    ack: "promise",
    title: "binary-ack-count-zero-placeholder (emitWithAck)",
    check: (r) => {
      assert.equal(r.ack.settled, true, "the pending ack settles without waiting for its 10 s timeout; got " + show(r));
      assert.equal(r.ack.isError, true, show(r));
      assert.match(r.ack.message, /disconnected|malformed/i, show(r));
      assert.ok(r.usable.ok, "then the socket still completes an echo round trip; got " + show(r));
    },
  });
  onGo("ack-invalid-json", { ack: "callback", check: rejectedMalformed, title: "ack-invalid-json (callback)" });
  onGo("binary-ack-placeholder-out-of-range", {
    ack: "callback",
    check: rejectedMalformed,
    title: "binary-ack-placeholder-out-of-range (callback)",
  });
  onGo("binary-ack-too-few", {
    ack: "promise",
    check: (r) => {
      errorOrIgnore(r);
      assert.equal(r.ack.settled, true, "the pending ack settles; got " + show(r));
    },
  });

  // ---- binary packets whose attachments lie ----

  onGo("binary-too-few");
  onGo("binary-too-many", { check: (r) => errorOrIgnore(r, { allow: ['["bin",{"$ab":[1,2,3]}]'] }) });
  onGo("binary-count-huge");
  onGo("binary-count-max-then-text");
  onGo("binary-count-zero-placeholder");
  onGo("binary-count-not-number");
  onGo("placeholder-out-of-range");
  onGo("placeholder-negative");
  onGo("placeholder-fraction");
  onGo("placeholder-string-num");
  onGo("placeholder-proto-num");
  onGo("binary-nothing-pending");
  onGo("binary-invalid-utf8", {
    // Binary is not text: delivered byte for byte (or refused with an error).
    check: (r) => errorOrIgnore(r, { allow: [JSON.stringify(["bin", { $ab: INVALID_UTF8 }])] }),
  });
  const cutMidPacket = (r) => {
    assert.ok(r.calls.disconnect.some(meaningful), "disconnect with a reason; got " + show(r));
    assert.deepEqual(r.delivered, [], "the incomplete packet is not delivered; got " + show(r));
    assert.ok(r.usable.ok, "usable after reconnecting; got " + show(r));
  };
  onGo("binary-close-mid-attachments", { check: cutMidPacket });
  onGo("binary-cut-mid-attachments", { check: cutMidPacket });

  // ---- huge frames (the memory bound is checked by `hostile` after every case) ----

  for (const name of [
    "huge-invalid-json",
    "huge-unknown-type",
    "huge-unknown-type-non-ascii",
    "huge-eio-unknown",
    "huge-ping-payload",
    "huge-open-again",
    "huge-namespace",
    "huge-namespace-connect",
    "huge-ack-id",
    "huge-attachment-count",
  ]) {
    onGo(name);
  }
  onGo("huge-valid-event", {
    // Delivered whole, or refused with an error.
    check: (r) => errorOrIgnore(r, { allow: [JSON.stringify(["big", { $string: HUGE - 12, start: "a".repeat(20) }])] }),
  });

  // ---- deep nesting ----

  for (const name of ["deep-arrays", "deep-objects"]) {
    onGo(name, {
      post: (L) => L.raw.map(([ev, v]) => [ev, H.depth(v)]),
      check: (r) => {
        const delivered = r.post.length > 0;
        if (delivered) assert.deepEqual(r.post, [["deep", DEPTH]], "delivered whole; got " + show(r));
        errorOrIgnore({ ...r, delivered: delivered ? [] : r.delivered });
      },
    });
  }
  onGo("deep-arrays-placeholder", {
    post: (L) =>
      L.raw.map(([ev, v]) => {
        let d = 0;
        while (Array.isArray(v)) (v = v[0]), d++;
        return [ev, d, v instanceof ArrayBuffer ? Array.from(new Uint8Array(v)) : H.describe(v)];
      }),
    check: (r) => {
      const delivered = r.post.length > 0;
      if (delivered) assert.deepEqual(r.post, [["deep", DEPTH, [7]]], "delivered whole, the attachment in place; got " + show(r));
      errorOrIgnore({ ...r, delivered: delivered ? [] : r.delivered });
    },
  });

  // ---- ping floods ----

  onGo("ping-flood");
  onGo("ping-flood-probe");

  // ---- prototype-shaped keys (REQUIRED: own properties, same JSON shape) ----

  /** Checks, in the page, the first argument of each delivered event / the ack value. */
  const protoShape = (L, { expected }) => {
    const values = L.ack ? [L.ack.value] : L.raw.map((a) => a[1]);
    return values.map((v) => ({
      json: H.json(v) === expected ? "same" : H.json(v),
      ownProto: !!v && Object.prototype.hasOwnProperty.call(v, "__proto__"),
      plainProto: !!v && Object.getPrototypeOf(v) === Object.prototype,
      nestedOwnProto: !!v && !!v.nested && Object.prototype.hasOwnProperty.call(v.nested[0], "__proto__"),
      bin: !!v && Object.prototype.hasOwnProperty.call(v, "__proto__") && v["__proto__"].bin instanceof ArrayBuffer,
    }));
  };
  // The same payload as an event and as an ack's answer.
  for (const [name, extra] of [["proto-event", {}], ["ack-proto", { ack: "promise" }]]) {
    onGo(name, {
      ...extra,
      post: protoShape,
      arg: { expected: PROTO_TEXT },
      check: (r) => {
        assert.equal(r.clearError, false, show(r));
        assert.deepEqual(r.post, [{ json: "same", ownProto: true, plainProto: true, nestedOwnProto: true, bin: false }], show(r));
        assert.ok(r.usable.ok);
      },
    });
  }
  onGo("proto-event-binary", {
    post: protoShape,
    arg: {
      expected: PROTO_BIN_BYTES.reduce(
        (s, bytes, i) => s.replace(`{"_placeholder":true,"num":${i}}`, JSON.stringify({ $ab: bytes })),
        PROTO_BIN_TEXT,
      ),
    },
    check: (r) => {
      assert.equal(r.clearError, false, show(r));
      assert.deepEqual(r.post, [{ json: "same", ownProto: true, plainProto: true, nestedOwnProto: false, bin: true }], show(r));
      assert.ok(r.usable.ok);
    },
  });
  onGo("proto-event-name", {
    // Valid event names: delivered to their listeners like any other.
    pre: (L) => {
      L.named = [];
      for (const n of ["__proto__", "constructor", "hasOwnProperty"]) L.socket.on(n, (v) => L.named.push([n, v]));
    },
    post: (L) => L.named,
    check: (r) => {
      assert.equal(r.clearError, false, show(r));
      assert.deepEqual(r.post, [["__proto__", 1], ["constructor", 2], ["hasOwnProperty", 3]], show(r));
      assert.ok(r.usable.ok);
    },
  });

  // ---- the rooms convention, with answers of the wrong shape ----

  onGo("rooms-join-garbage", {
    pre: async (L) => {
      if (typeof L.socket.room != "function") return "no rooms";
      return L.socket.room("r").join({}).then(
        (v) => ({ resolved: H.describe(v) }),
        (e) => ({ isError: e instanceof Error, message: String(e && e.message) }),
      );
    },
    check: (r) => {
      assert.equal(r.pre.isError, true, "the join is refused with an Error; got " + show(r));
      assert.ok(r.pre.message, show(r));
      errorOrIgnore(r);
    },
  });
  onGo("rooms-presence-garbage", {
    pre: async (L) => {
      if (typeof L.socket.room != "function") return "no rooms";
      const room = L.socket.room("r");
      L.presence = [];
      for (const ev of ["join", "leave", "update", "sync"]) room.presence.on(ev, (x) => L.presence.push([ev, H.describe(x)]));
      room.on("connect", () => L.presence.push(["room connect"]));
      await room.join({});
      return room.joined;
    },
    post: (L) => ({ joined: L.socket.room && L.socket.room("r").joined, presence: L.presence }),
    check: (r) => {
      assert.equal(r.pre, true, "joined; got " + show(r));
      assert.equal(r.post.joined, true, "still joined; got " + show(r));
      errorOrIgnore(r);
    },
  });
}, { servers: ["node"] });
