// A loopback TCP proxy for fault injection: it sits between the browser and a test server and
// forwards bytes both ways until a test tells it to misbehave.
//
//   cut()         reset every open connection now (both sides); new ones are accepted
//   blackhole()   stop forwarding: bytes in either direction are read and dropped, sockets stay
//                 open, new connections are accepted but never reach the server; a side that
//                 closes meanwhile is not seen by the other (as on a dead network)
//   partition()   a network outage that heals: nothing gets through, but bytes are held, not
//                 dropped, and go on in order at restore(), as TCP's retransmissions would bring
//                 them; connections made meanwhile reach the server at restore(); a side that
//                 closes meanwhile is not seen by the other until restore() resets it
//   latency(ms, jitter)  delay every chunk by `ms` plus a random 0..`jitter` ms in each direction
//                 (order is kept: a chunk never overtakes the one before it)
//   throttle(bps) let at most `bps` bytes a second through, per connection and direction (0: no
//                 limit)
//   restore()     forward normally again (no latency, no throttle); connections cut before stay cut, and
//                 those whose other side closed during the blackhole are reset now
//   refuseWebSocket(on)  answer every WebSocket handshake (an HTTP request with `Upgrade:
//                 websocket`) with 403 and close it, as a proxy that blocks WebSocket; other
//                 requests go through (from the start with `{ refuseWebSocket: true }`)
//   delayWebSocket(ms)  hold every WebSocket handshake for `ms` before it goes on (a slow
//                 upgrade); 0 stops
//
// The jitter comes from a generator seeded with `seed` (an option, default 1), so that a run
// with the same faults draws the same delays.
//
// As a module: `const p = await startProxy({ target: "127.0.0.1:3000" })`, then `p.url`,
// `p.port` and the methods above, and `await p.close()`.
//
// From the command line (for tests in another process, such as the Rust browser tests):
//   node tests/servers/proxy.mjs --target 127.0.0.1:3000 [--port 0] [--lifetime-s 600]
// prints `LISTENING http://127.0.0.1:PORT` (the proxy) and `CONTROL http://127.0.0.1:PORT` (an
// HTTP endpoint: POST /cut, /blackhole, /partition, /latency?ms=N[&jitter=N], /throttle?bps=N, /restore,
// /refuse-websocket?on=0|1,
// /delay-websocket?ms=N; GET /stats), and exits by
// itself after --lifetime-s seconds. It binds 127.0.0.1 only and forwards only to loopback.

import net from "node:net";
import http from "node:http";
import { fileURLToPath } from "node:url";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);
/** At most this many connections at once; more are refused (tests open a handful). */
const MAX_CONNECTIONS = 256;

/**
 * Starts a proxy to `target` ("host:port", loopback only) on 127.0.0.1:`port` (0: any free port).
 * @returns {Promise<{port: number, url: string, cut(): number, blackhole(): void, partition(): void,
 *   latency(ms: number, jitter?: number): void, throttle(bps: number): void, restore(): void,
 *   refuseWebSocket(on?: boolean): void,
 *   delayWebSocket(ms: number): void,
 *   stats(): object, close(): Promise<void>}>}
 */
export async function startProxy({ target, port = 0, refuseWebSocket = false, seed = 1 }) {
  const [host, targetPort] = parseTarget(target);
  const random = generator(seed);
  let mode = "forward";
  // Resolved by restore(): what a partition holds goes on then.
  let heal = () => {};
  let healed = Promise.resolve();
  let delay = 0;
  let jitter = 0;
  let rate = 0;
  let refusing = refuseWebSocket;
  let holdWs = 0;
  const pairs = new Set();
  const counts = { accepted: 0, refused: 0, cut: 0, dropped: 0, held: 0, refusedWebSockets: 0 };

  const server = net.createServer((client) => {
    if (pairs.size >= MAX_CONNECTIONS) {
      counts.refused++;
      client.destroy();
      return;
    }
    counts.accepted++;
    const pair = { client, upstream: null, broken: false };
    pairs.add(pair);
    const done = () => {
      if (!pairs.has(pair)) return;
      // A blackhole or a partition hides the end of one side from the other until restore()
      // or cut().
      if (mode === "blackhole" || mode === "partition") {
        pair.broken = true;
        return;
      }
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on("error", done);
    client.on("close", done);
    // A connection accepted while blackholed never reaches the server, even after restore().
    if (mode === "blackhole") {
      client.on("data", (b) => (counts.dropped += b.length));
      return;
    }
    const connect = () => {
      const upstream = (pair.upstream = net.connect({ host, port: targetPort }));
      upstream.on("error", done);
      upstream.on("close", done);
      relay(client, upstream, true);
      relay(upstream, client);
    };
    // A connection made during a partition goes on once it heals (its bytes wait unread).
    if (mode === "partition") {
      client.pause();
      pair.waiting = true;
      healed.then(() => {
        pair.waiting = false;
        if (client.destroyed || !pairs.has(pair)) {
          pairs.delete(pair);
          return;
        }
        connect();
        client.resume();
      });
      return;
    }
    connect();
  });

  // Copies `from` to `to` as the current mode says, keeping chunk order under latency. The
  // first chunk from a client that is a WebSocket handshake is refused while refusing.
  function relay(from, to, fromClient = false) {
    let queue = Promise.resolve();
    let first = fromClient;
    let last = 0; // when the chunk before is due
    from.on("data", (chunk) => {
      if (mode === "blackhole") {
        counts.dropped += chunk.length;
        return;
      }
      if (mode === "partition") {
        counts.held += chunk.length;
        const gate = healed;
        queue = queue.then(() => gate).then(() => write(to, chunk));
        return;
      }
      const handshake = first && /^upgrade:\s*websocket\s*$/im.test(chunk.toString("latin1"));
      first = false;
      if (handshake && holdWs) {
        const until = Date.now() + holdWs;
        queue = queue.then(() => new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()))));
      }
      if (handshake && refusing) {
        counts.refusedWebSockets++;
        to.destroy();
        from.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
      }
      if (delay === 0 && jitter === 0 && rate === 0) {
        queue = queue.then(() => write(to, chunk));
        return;
      }
      let due = Math.max(last, Date.now() + delay + (jitter > 0 ? random() * jitter : 0));
      if (rate > 0) due += (chunk.length * 1000) / rate;
      last = due;
      queue = queue.then(() => new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())))).then(() => write(to, chunk));
    });
  }

  function write(to, chunk) {
    if (!to.destroyed && mode !== "blackhole") to.write(chunk);
  }

  await new Promise((res, rej) => {
    server.once("error", rej);
    server.listen(port, "127.0.0.1", res);
  });
  const actual = server.address().port;

  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    /** Resets every open connection; returns how many were cut. */
    cut() {
      const n = pairs.size;
      for (const { client, upstream } of [...pairs]) {
        client.resetAndDestroy();
        upstream?.resetAndDestroy();
      }
      pairs.clear();
      counts.cut += n;
      return n;
    },
    blackhole() {
      mode = "blackhole";
    },
    partition() {
      if (mode !== "partition") healed = new Promise((resolve) => (heal = resolve));
      mode = "partition";
    },
    latency(ms, spread = 0) {
      if (!(ms >= 0 && ms <= 60_000)) throw new Error(`latency must be 0..60000 ms, got ${ms}`);
      if (!(spread >= 0 && spread <= 60_000)) throw new Error(`jitter must be 0..60000 ms, got ${spread}`);
      delay = ms;
      jitter = spread;
    },
    throttle(bps) {
      if (!(bps === 0 || (bps >= 100 && bps <= 1e9))) throw new Error(`throttle must be 0 or 100..1e9 bytes/s, got ${bps}`);
      rate = bps;
    },
    restore() {
      mode = "forward";
      heal();
      delay = 0;
      jitter = 0;
      rate = 0;
      for (const pair of [...pairs]) {
        if ((!pair.broken && pair.upstream) || pair.waiting) continue;
        // One side ended while nothing got through, or the connection never reached the
        // server: what is left of it learns now, as a reset.
        pairs.delete(pair);
        pair.client.resetAndDestroy();
        pair.upstream?.resetAndDestroy();
      }
    },
    refuseWebSocket(on = true) {
      refusing = !!on;
    },
    delayWebSocket(ms) {
      if (!(ms >= 0 && ms <= 60_000)) throw new Error(`delay must be 0..60000 ms, got ${ms}`);
      holdWs = ms;
    },
    stats() {
      return { mode, latency: delay, jitter, throttle: rate, refusing, holdWs, open: pairs.size, ...counts };
    },
    close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream?.destroy();
      }
      pairs.clear();
      return new Promise((res) => server.close(() => res()));
    },
  };
}

// mulberry32: a small seeded generator of numbers in [0, 1).
export function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parseTarget(target) {
  const m = /^(.+):(\d+)$/.exec(String(target || ""));
  if (!m) throw new Error(`target must be host:port, got ${JSON.stringify(target)}`);
  const host = m[1].replace(/^\[|\]$/g, "");
  if (!LOOPBACK.has(host)) throw new Error(`the proxy forwards to loopback only, not ${host}`);
  return [host, Number(m[2])];
}

// ---- command line ---------------------------------------------------------------------------

async function main(argv) {
  const arg = (name, fallback) => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const proxy = await startProxy({ target: arg("--target"), port: Number(arg("--port", "0")) });
  const lifetime = Number(arg("--lifetime-s", "600"));
  const control = http.createServer((req, res) => {
    const u = new URL(req.url, "http://127.0.0.1");
    let body;
    try {
      if (req.method === "GET" && u.pathname === "/stats") body = proxy.stats();
      else if (req.method !== "POST") throw new Error("use POST");
      else if (u.pathname === "/cut") body = { cut: proxy.cut() };
      else if (u.pathname === "/blackhole") body = (proxy.blackhole(), proxy.stats());
      else if (u.pathname === "/partition") body = (proxy.partition(), proxy.stats());
      else if (u.pathname === "/latency") body = (proxy.latency(Number(u.searchParams.get("ms")), Number(u.searchParams.get("jitter") ?? 0)), proxy.stats());
      else if (u.pathname === "/throttle") body = (proxy.throttle(Number(u.searchParams.get("bps"))), proxy.stats());
      else if (u.pathname === "/restore") body = (proxy.restore(), proxy.stats());
      else if (u.pathname === "/delay-websocket") body = (proxy.delayWebSocket(Number(u.searchParams.get("ms"))), proxy.stats());
      else if (u.pathname === "/refuse-websocket") body = (proxy.refuseWebSocket(u.searchParams.get("on") !== "0"), proxy.stats());
      else {
        res.writeHead(404).end();
        return;
      }
    } catch (e) {
      res.writeHead(400, { "content-type": "text/plain" }).end(String(e.message));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise((r) => control.listen(0, "127.0.0.1", r));
  console.log(`LISTENING ${proxy.url}`);
  console.log(`CONTROL http://127.0.0.1:${control.address().port}`);
  const stop = async () => {
    control.close();
    await proxy.close();
    process.exit(0);
  };
  setTimeout(stop, lifetime * 1000).unref();
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // Keep running until the lifetime ends or a signal comes.
  setInterval(() => {}, 1 << 30);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e.message);
    process.exit(2);
  });
}
