// Helpers shared by the re-entrancy tests: reentrancy.test.mjs (the `io()` door) and
// reentrancy-modes.test.mjs (the SSE and plain-WebSocket modes). Both record in the page a log
// of markers — "before" and "after" around a call made from inside a callback, one per event
// the listeners see — so the order shows whether the call took effect before it returned.
//
// `pageHelpers` is page-side source: it is serialized and run in the page (`page.run(pageHelpers,
// { wait, quiet, fields })`) before each test, after which the page has the log and the helpers
// below. The rest runs in Node.

// How long things that must happen may take (a loaded machine), and how long the page waits to
// see that something that must not happen does not.
export const WAIT = 5000;
export const QUIET = 800;

// What the listeners of a burst of events `burst` numbered `numbers` mark, in order: the onAny
// listener's marker (`any(n)`) and the event listener's ("burst:n") for each.
export const burstLog = (any, numbers = [1, 2, 3, 4, 5]) => numbers.flatMap((n) => [any(n), `burst:${n}`]);

// Installed in the page before each test. `fields` are the client's state properties `snap`
// reports. The page's `until` must exist already (the harness and modes-pages.mjs install one).
export function pageHelpers({ wait, quiet, fields }) {
  window.WAIT = wait;
  window.QUIET = quiet;
  window.log = [];
  window.mark = (x) => log.push(x);
  // Calls `call` between the markers "before" and "after"; an exception becomes a marker.
  window.around = (call) => {
    mark("before");
    let ret;
    try {
      ret = call();
    } catch (e) {
      mark("threw: " + (e && e.message));
    }
    mark("after");
    return ret;
  };
  // A wait that times out says what the log held.
  const plainUntil = window.until;
  window.until = (pred, ms, what) =>
    plainUntil(pred, ms, what).catch((e) => {
      throw new Error(e.message + "; log: " + JSON.stringify(log));
    });
  window.snap = (c) => Object.fromEntries(fields.map((f) => [f, c[f]]));
  // The first time only: calls `call` with `around` and keeps in `state` whether it returned the
  // client `c` (each of its results, when it returns a list) and `c`'s state right after.
  // Returns whether it made the call.
  window.callOnce = (c, call) => {
    if (window.acted) return false;
    window.acted = true;
    const ret = around(call);
    window.state = { same: Array.isArray(ret) ? ret.every((x) => x === c) : ret === c, ...snap(c) };
    return true;
  };
  // Once the call was made (`state` set) and QUIET ms more have passed: the log then, the state
  // at the call and `c`'s state now.
  window.settled = async (c, what) => {
    await until(() => window.state, WAIT, what);
    await sleep(QUIET);
    return { log: log.slice(), state, later: snap(c) };
  };
  // The calls the tests make from callbacks, by name.
  window.calls = {
    disconnect: (c) => c.disconnect(),
    connect: (c) => c.connect(),
    reconnect: (c) => [c.disconnect(), c.connect()],
  };
  // For a test whose `burst` listener disconnects and connects again at event 1: asks for five
  // events, waits for the new connection and QUIET ms, then asks for two more (6 and 7) and
  // waits for their markers. Returns the log up to the new connection (`first`), the log after
  // it, and the state at the call.
  window.burstAcrossReconnect = async (c) => {
    burst(c, "burst", 5);
    await until(() => log.includes("connect"), WAIT, "the new connection");
    await sleep(QUIET);
    const first = log.splice(0);
    burst(c, "burst", 2, 6);
    await until(() => log.length == 4, WAIT, "events on the new connection");
    await sleep(100);
    return { first, log: log.slice(), state };
  };
  // Listeners of `c`'s `burst` events: one that takes itself off (`off`) at the first event, an
  // onAny listener that does the same (`offAny`), one that stays, and `byAck`, which the test
  // takes off from an ack callback. `seen` holds the numbers each of them got.
  window.offListeners = (c) => {
    const seen = { self: [], any: [], kept: [], byAck: [] };
    const self = (n) => {
      seen.self.push(n);
      c.off("burst", self);
    };
    const any = (ev, n) => {
      seen.any.push(n);
      c.offAny(any);
    };
    const byAck = (n) => seen.byAck.push(n);
    c.on("burst", self);
    c.onAny(any);
    c.on("burst", (n) => seen.kept.push(n));
    c.on("burst", byAck);
    return { seen, byAck };
  };
  // Asks the server for `n` events `name` back to back (`emit-back`), numbered from `from`.
  window.burst = (c, name, n, from = 1) => {
    for (let i = from; i < from + n; i++) c.emit("emit-back", name, i);
  };
}
