// A flooding member must not slow the others (ROOMS.md "Limits"), against both servers with
// their default limits. A client sends 10,000 `rtio:to` relays as fast as it can, each asking
// for an ack, while two other members of the same room, in a page, exchange cursor positions
// through rtio. The server relays at most its rate, the flooder's acks say "rate limited" for
// the rest, and every cursor update arrives. Their delay during the flood is measured and
// printed, against the same measure without a flood: a figure, not an assertion.

import assert from "node:assert/strict";
import { io as connectClient } from "socket.io-client";
import { suite } from "./harness.mjs";
import { DEFAULT_LIMITS } from "../../js/server.js";

const FLOOD = 10_000;
const CURSOR_MS = 16; // one cursor position a frame

// In the page: members b and c of `room`; c sends its cursor every CURSOR_MS, stamped with
// the time; b records each one's delay and counts the other events it gets.
async function startCursors({ url, room, every }) {
  const b = io(url, { forceNew: true, transports: ["websocket"] });
  const c = io(url, { forceNew: true, transports: ["websocket"] });
  await Promise.all([connected(b), connected(c)]);
  const rb = b.room(room);
  const rc = c.room(room);
  await rb.join("b");
  await rc.join("c");
  const state = { delays: [], flood: 0, sent: 0, b, c, timer: 0 };
  window.flood = state;
  rb.on("cursor", (pos) => state.delays.push(Date.now() - pos.t));
  rb.on("flood", () => state.flood++);
  state.timer = setInterval(() => {
    state.sent++;
    rc.emit("cursor", { x: Math.random(), y: Math.random(), t: Date.now() });
  }, every);
}

// In the page: stops the cursor, waits for the last update and for `flood` flood events (and
// a little more, for any beyond them), returns the figures.
async function stopCursors({ keep, flood = 0 }) {
  const state = window.flood;
  clearInterval(state.timer);
  await until(() => state.delays.length >= state.sent && state.flood >= flood, 10000, "every cursor update and relay");
  await sleep(200);
  const delays = state.delays.slice();
  state.delays.length = 0;
  state.sent = 0;
  if (!keep) {
    state.b.disconnect();
    state.c.disconnect();
  }
  return { delays, flood: state.flood };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const p99 = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] : NaN;
};

suite("flood", ({ test, server }) => {
  test(`${FLOOD.toLocaleString("en")} relays as fast as possible: at most the rate goes out, the flooder is told, two others' cursors keep flowing`, async (page) => {
    const room = `flood-${process.pid}-${Date.now().toString(36)}`;
    const flooder = connectClient(page.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    try {
      await new Promise((resolve, reject) => {
        flooder.once("connect", resolve);
        flooder.once("connect_error", reject);
      });
      assert.equal((await flooder.timeout(10_000).emitWithAck("rtio:join", room, "flooder")).ok, true);

      // The same measure without a flood first, for comparison.
      await page.run(startCursors, { room, every: CURSOR_MS });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const calm = await page.run(stopCursors, { keep: true });

      // The flood, while the cursor runs.
      await page.run(async ({ room, every }) => {
        const state = window.flood;
        const rc = state.c.room(room);
        state.timer = setInterval(() => {
          state.sent++;
          rc.emit("cursor", { x: Math.random(), y: Math.random(), t: Date.now() });
        }, every);
      }, { room, every: CURSOR_MS });
      const started = performance.now();
      const replies = await Promise.all(
        Array.from({ length: FLOOD }, (_, i) => flooder.timeout(60_000).emitWithAck("rtio:to", room, "flood", i)),
      );
      const elapsed = (performance.now() - started) / 1000;
      const relayed = replies.filter((r) => r && r.ok === true).length;
      const during = await page.run(stopCursors, { keep: false, flood: relayed });

      const ok = replies.filter((r) => r && r.ok === true).length;
      const limited = replies.filter((r) => r && r.ok === false && r.error === "rate limited").length;
      assert.equal(ok + limited, FLOOD, `other replies: ${JSON.stringify(replies.find((r) => !(r && (r.ok === true || r.error === "rate limited"))))}`);
      const { relaysPerSecond: rate, relayBurst: burst } = DEFAULT_LIMITS;
      assert.ok(limited > 0, "the flooder was never told");
      assert.ok(ok <= burst + Math.ceil(rate * elapsed) + 1, `${ok} relayed in ${elapsed.toFixed(2)} s, over ${rate}/s with a burst of ${burst}`);
      // What was acked ok went out to the other members, and nothing else.
      assert.equal(during.flood, ok);
      assert.ok(during.delays.length > 0, "no cursor update during the flood");
      console.log(
        `# flood [${server} server]: ${FLOOD} relays in ${elapsed.toFixed(2)} s, ${ok} relayed, ${limited} refused; ` +
          `cursor delay median ${median(during.delays)} ms, p99 ${p99(during.delays)} ms over ${during.delays.length} updates ` +
          `(without the flood: median ${median(calm.delays)} ms, p99 ${p99(calm.delays)} ms)`,
      );
    } finally {
      flooder.close();
    }
  }, { timeout: 120_000 });
});
