// Browser tests of the SSE mode (`rtio/sse`, MODES.md) in headless Chromium, against the
// independent SSE test server (tests/servers/sse/, plain Node http) and, where it has the
// same controls, examples/server (`rtio-server --test-controls`). Both transports
// (EventSource and fetch) run every test.

import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { existsSync } from "node:fs";
import { RUST_BIN } from "./demo-pages.mjs";
import { get, modesPage, post, startNodeServer, startRustModes, tempDir } from "./modes-pages.mjs";

// Where each server keeps its stream, emits and controls.
const TARGETS = {
  independent: {
    start: (args) => startNodeServer("sse", args),
    stream: "/events",
    emit: "/emit",
    publish: "/publish",
    control: "/control",
    args: { ping: (ms) => ["--ping-interval", String(ms)], log: (f) => ["--log", f] },
  },
  "examples/server": {
    start: (args) => startRustModes(args),
    stream: "/sse",
    emit: "/sse",
    publish: "/sse/publish",
    control: "/sse/control",
    args: { ping: (ms) => ["--sse-ping", String(ms)], log: (f) => ["--sse-log", f] },
  },
};

const servers = [];
after(() => Promise.all(servers.map((s) => s.stop())));

for (const [name, T] of Object.entries(TARGETS)) {
  const skip = name == "examples/server" && !existsSync(RUST_BIN) ? `no ${RUST_BIN}` : false;
  for (const transport of ["eventsource", "fetch"]) {
    describe(`SSE mode [${name}, ${transport}]`, { skip }, () => {
      // One server per suite; tests that kill it start their own.
      let shared;
      const server = async (args = []) => {
        if (!args.length) return (shared ||= await T.start(T.args.ping(300)).then((s) => (servers.push(s), s)));
        const s = await T.start(args);
        servers.push(s);
        return s;
      };
      const publish = (s, body) => post(s.url + T.publish, body);
      const opts = (extra = {}) => ({ transport, emitUrl: T.emit, reconnectionDelay: 100, reconnectionDelayMax: 400, ...extra });
      const withPages = async (s, n, body) => {
        const ps = [];
        try {
          for (let i = 0; i < n; i++) ps.push(await modesPage(s.url));
          return await body(ps);
        } finally {
          await Promise.all(ps.map((p) => p.close()));
        }
      };
      const page = async (s, body) => {
        const p = await modesPage(s.url);
        try {
          return await body(p);
        } finally {
          await p.close();
        }
      };

      it("named events with JSON and raw data, ids tracked, onAny", { timeout: 20_000 }, async () => {
        const s = await server();
        await page(s, async (p) => {
          await p.run(async ({ url, opts }) => {
            window.c = sse(url, opts);
            window.log = [];
            c.on("chat", (d) => log.push(["chat", d]));
            c.on("note", (d) => log.push(["note", d]));
            c.onAny((ev, d) => ev != "ping" && log.push(["any", ev, d]));
            await next(c, "connect");
          }, { url: s.url + T.stream, opts: opts() });
          const a = await publish(s, { event: "chat", data: { text: "hi", n: [1, 2] } });
          await publish(s, { event: "note", data: "first line\nsecond line", raw: true });
          await publish(s, { event: "unheard", data: 3 });
          const last = await publish(s, { event: "chat", data: "not json {", raw: true });
          const r = await p.run(async ({ id }) => {
            await until(() => c.lastEventId == id, 5000, "last event id " + id);
            await sleep(100);
            return { log, last: c.lastEventId };
          }, { id: String(last.id) });
          assert.equal(r.last, String(last.id));
          assert.ok(a.id < last.id);
          const heard = r.log.filter((x) => x[0] != "any");
          assert.deepEqual(heard, [
            ["chat", { text: "hi", n: [1, 2] }],
            ["note", "first line\nsecond line"],
            ["chat", "not json {"],
          ]);
          const any = r.log.filter((x) => x[0] == "any").map((x) => x[1]);
          // EventSource delivers only the names that have listeners; the fetch transport, all.
          assert.deepEqual(any, transport == "fetch" ? ["chat", "note", "unheard", "chat"] : ["chat", "note", "chat"]);
        });
      });

      it("resumes with Last-Event-ID after a server restart: no event lost or repeated", { timeout: 30_000 }, async () => {
        const s = await server([...T.args.ping(300), ...T.args.log(path.join(tempDir(), "log.jsonl"))]);
        await page(s, async (p) => {
          await p.run(async ({ url, opts }) => {
            window.c = sse(url, opts);
            window.got = [];
            c.on("tick", (d) => got.push(d.n));
            await next(c, "connect");
          }, { url: s.url + T.stream, opts: opts({ reconnectionDelay: 1500, reconnectionDelayMax: 1500, randomizationFactor: 0 }) });
          for (const n of [1, 2]) await publish(s, { event: "tick", data: { n } });
          await p.run(() => until(() => got.length == 2, 5000, "two ticks"));
          await s.kill();
          await s.restart();
          // Published after the restart, before the client is back (its delay is 1.5 s).
          for (const n of [3, 4]) await publish(s, { event: "tick", data: { n } });
          await p.run(() => next(c, "connect", 8000));
          await publish(s, { event: "tick", data: { n: 5 } });
          const got = await p.run(async () => {
            await until(() => got.length >= 5, 5000, "five ticks");
            await sleep(200);
            return got;
          });
          assert.deepEqual(got, [1, 2, 3, 4, 5]);
          const clients = await get(s.url + T.control + "/clients");
          assert.equal(clients.length, 1);
          assert.equal(String(clients[0].lastEventId), "2");
          if (name == "independent") assert.equal(clients[0].lastEventIdFrom, transport == "fetch" ? "header" : "query");
        });
      });

      it("reconnects after HTTP 503 answers, where a bare EventSource gives up", { timeout: 20_000 }, async () => {
        const s = await server();
        await page(s, async (p) => {
          // The bare EventSource's, rtio's attempt's, and (EventSource hiding the status) the GET
          // with which rtio asks for it.
          await post(s.url + T.control + "/fail", { status: 503, count: transport == "fetch" ? 2 : 3 });
          const r = await p.run(async ({ url, opts }) => {
            // The browser's own EventSource, for comparison: closed for good after the 503.
            const bare = new EventSource(url);
            await new Promise((r) => (bare.onerror = r));
            const bareState = bare.readyState;
            bare.close();
            const errors = [];
            const c = sse(url, opts);
            c.on("connect_error", (e) => errors.push(e.status ?? null));
            await next(c, "connect", 8000);
            c.disconnect();
            return { bareState, errors };
          }, { url: s.url + T.stream, opts: opts() });
          assert.equal(r.bareState, 2, "EventSource.CLOSED");
          // One 503 went to the bare EventSource, one to rtio, which reports the status (with
          // EventSource, by asking once more: EventSource itself hides it).
          assert.deepEqual(r.errors, [503]);
        });
      });

      if (name == "examples/server")
        it("room handles: members and presence across transports; a refused room rejects the join", { timeout: 60_000 }, async () => {
          const s = await server();
          const r = await withPages(s, 2, async ([a, b]) => {
            const go = ({ url, opts, name }) =>
              (async () => {
                window.c = sse(url, { ...opts, meta: { name } });
                window.room = c.room("lobby-sse");
                window.seen = [];
                room.presence.on("join", (m) => seen.push(["join", m.meta?.name]));
                room.presence.on("leave", (m) => seen.push(["leave", m.meta?.name]));
                room.on("hi", (x, from) => seen.push(["hi", x, from.meta?.name]));
                const members = await room.join({ name });
                return members.map((m) => m.meta?.name).sort();
              })();
            const first = await a.run(go, { url: s.url + T.stream, opts: opts(), name: "A" });
            const second = await b.run(go, { url: s.url + T.stream, opts: opts(), name: "B" });
            await a.run(() => until(() => seen.length == 1, 10_000, "B's join"));
            await b.run(() => room.emit("hi", 1));
            await a.run(() => until(() => seen.length == 2, 10_000, "B's hi"));
            await b.run(() => c.disconnect());
            await a.run(() => until(() => seen.length == 3, 10_000, "B's leave"));
            const refused = await a.run(() => c.room("locked:x").join().then(() => "joined", (e) => e.message));
            return { first, second, seen: await a.run(() => seen), refused, rooms: await a.run(() => c.rooms) };
          });
          assert.deepEqual(r.first, ["A"]);
          assert.deepEqual(r.second, ["A", "B"]);
          assert.deepEqual(r.seen, [["join", "B"], ["hi", 1, "B"], ["leave", "B"]]);
          assert.equal(r.refused, "not allowed");
          assert.deepEqual(r.rooms, ["lobby-sse"]);
        });

      if (name == "independent" && transport == "fetch")
        it("the server's retry: is the floor of the reconnect delay", { timeout: 20_000 }, async () => {
          const s = await server([...T.args.ping(300), "--retry", "1500"]);
          await page(s, async (p) => {
            await p.run(async ({ url, opts }) => {
              window.c = sse(url, opts);
              await next(c, "connect");
              await sleep(100);
              c.once("disconnect", () => (window.t0 = Date.now()));
              window.back = new Promise((r) => c.on("connect", () => window.t0 && r(Date.now() - window.t0)));
            }, { url: s.url + T.stream, opts: opts({ reconnectionDelayMax: 5000 }) });
            await post(s.url + T.control + "/drop");
            const ms = await p.run(() => window.back);
            // The client's own first delay is 50-100 ms; the server asked for 1.5 s, which is
            // within reconnectionDelayMax (a larger retry: is clamped to it).
            assert.ok(ms >= 1450, `reconnected after ${ms} ms`);
            assert.ok(ms < 3000, `reconnected after ${ms} ms`);
          });
        });

      it("the heartbeat watchdog reconnects a stalled stream", { timeout: 20_000 }, async () => {
        const s = await server();
        await page(s, async (p) => {
          await p.run(async ({ url, opts }) => {
            window.c = sse(url, opts);
            window.reasons = [];
            c.on("disconnect", (r) => reasons.push(r));
            await next(c, "connect");
          }, { url: s.url + T.stream, opts: opts({ pingTimeout: 1000 }) });
          await post(s.url + T.control + "/stall", { ms: 5000 });
          const t0 = Date.now();
          const r = await p.run(async () => {
            await next(c, "disconnect", 4000);
            await next(c, "connect", 4000);
            return reasons;
          });
          assert.deepEqual(r, ["ping timeout"]);
          assert.ok(Date.now() - t0 < 4000);
          // The new stream works.
          await p.run(() => void (window.after = next(c, "after")));
          await publish(s, { event: "after", data: 1 });
          assert.deepEqual(await p.run(() => window.after), [1]);
        });
      });

      it("emits are POSTs whose answers are acks; HTTP errors reject with the status", { timeout: 20_000 }, async () => {
        const s = await server();
        await page(s, async (p) => {
          const r = await p.run(async ({ url, opts, slow }) => {
            const c = sse(url, opts);
            await next(c, "connect");
            const echo = await c.emitWithAck("echo", 1, "a", { b: [true] });
            let fail;
            try {
              await c.emitWithAck("fail", "no way");
            } catch (e) {
              fail = { message: e.message, status: e.status, data: e.data };
            }
            const cb = await new Promise((r) => c.emit("echo", "cb", (res) => r(res)));
            // Only the independent server has a slow answer.
            const timedOut = slow ? await new Promise((r) => c.timeout(100).emit("slow", 1000, (err) => r(err && err.message))) : null;
            c.emit("plain", 1);
            return { echo, fail, cb, timedOut };
          }, { url: s.url + T.stream, opts: opts(), slow: name == "independent" });
          assert.deepEqual(r.echo, [1, "a", { b: [true] }]);
          assert.equal(r.fail.status, 500);
          assert.equal(r.fail.data.error, "no way");
          assert.deepEqual(r.cb, ["cb"]);
          if (name == "independent") assert.equal(r.timedOut, "operation has timed out");
        });
      });

      it("rooms: the query carries them, join and leave reconnect, emits go to a room", { timeout: 20_000 }, async () => {
        const s = await server();
        await page(s, async (p) => {
          await p.run(async ({ url, opts }) => {
            window.c = sse(url, opts);
            window.got = [];
            c.on("news", (d) => got.push(d));
            await next(c, "connect");
          }, { url: s.url + T.stream, opts: opts({ rooms: ["a"] }) });
          await publish(s, { event: "news", data: "a1", room: "a" });
          await publish(s, { event: "news", data: "b1", room: "b" });
          await publish(s, { event: "news", data: "all1" });
          await p.run(() => until(() => got.length == 2, 5000, "two news"));
          const rooms = await p.run(async () => {
            await c.join("b");
            return c.rooms;
          });
          assert.deepEqual(rooms, ["a", "b"]);
          await publish(s, { event: "news", data: "b2", room: "b" });
          await p.run(() => until(() => got.length == 3, 5000, "b2"));
          await p.run(async () => c.leave("a"));
          await publish(s, { event: "news", data: "a2", room: "a" });
          await publish(s, { event: "news", data: "b3", room: "b" });
          const got = await p.run(async () => {
            await until(() => got.includes("b3"), 5000, "b3");
            return got;
          });
          assert.deepEqual(got, ["a1", "all1", "b2", "b3"]);
          if (name == "independent") {
            await p.run(() => c.to("b").emitWithAck("hello", 1));
            const emitted = await get(s.url + "/emitted");
            assert.deepEqual(emitted.at(-1), { event: "hello", args: [1], room: "b" });
          }
        });
      });

      if (name == "independent")
        it("emits are POSTed one at a time: the next waits for the answer to the previous one", { timeout: 20_000 }, async () => {
          const s = await server();
          await page(s, async (p) => {
            const mark = "order-" + Math.random().toString(36).slice(2);
            const r = await p.run(async ({ url, opts, mark }) => {
              const c = sse(url, opts);
              await next(c, "connect");
              const t0 = Date.now();
              // The server answers "slow" after 400 ms, "echo" at once.
              const slow = c.emitWithAck("slow", 400, mark);
              const after = c.emitWithAck("echo", mark).then(() => Date.now() - t0);
              await slow;
              return { afterMs: await after };
            }, { url: s.url + T.stream, opts: opts(), mark });
            assert.ok(r.afterMs >= 390, `the second emit was answered ${r.afterMs} ms after both were made`);
            const got = (await get(s.url + "/emitted")).filter((e) => e.args.includes(mark));
            assert.deepEqual(got.map((e) => e.event), ["slow", "echo"]);
          });
        });

      it("emits made while disconnected are held and sent in order; volatile ones are dropped", { timeout: 20_000 }, async () => {
        const s = await server();
        await page(s, async (p) => {
          await p.run(async ({ url, opts }) => {
            window.c = sse(url, opts);
            await next(c, "connect");
          }, { url: s.url + T.stream, opts: opts({ reconnectionDelay: 1000, reconnectionDelayMax: 1000, randomizationFactor: 0 }) });
          await post(s.url + T.control + "/drop");
          const r = await p.run(async () => {
            await until(() => !c.connected, 3000, "disconnected");
            const acks = [1, 2, 3].map((n) => c.emitWithAck("echo", "held", n));
            c.volatile.emit("echo", "volatile");
            return Promise.all(acks);
          });
          assert.deepEqual(r, [["held", 1], ["held", 2], ["held", 3]]);
          if (name == "independent") {
            const held = (await get(s.url + "/emitted")).filter((e) => e.args[0] == "held" || e.args[0] == "volatile");
            assert.deepEqual(held.map((e) => e.args), [["held", 1], ["held", 2], ["held", 3]]);
          }
        });
      });

      it("goes offline with the page and comes back online", { timeout: 20_000 }, async () => {
        const s = await server();
        await page(s, async (p) => {
          await p.run(async ({ url, opts }) => {
            window.c = sse(url, opts);
            window.reasons = [];
            c.on("disconnect", (r) => reasons.push(r));
            await next(c, "connect");
          }, { url: s.url + T.stream, opts: opts({ reconnectionDelay: 2000, reconnectionDelayMax: 2000, randomizationFactor: 0 }) });
          await p.context.setOffline(true);
          await p.run(() => until(() => reasons.length == 1, 3000, "offline"));
          await p.context.setOffline(false);
          // Back on `online` (an attempt racing the emulated network's return may fail once,
          // and the next comes 2 s later).
          const r = await p.run(async () => {
            await until(() => c.connected, 4500, "reconnected");
            return reasons;
          });
          assert.deepEqual(r, ["offline"]);
        });
      });
    });
  }
}
