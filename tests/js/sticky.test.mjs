// Scale-out with long-polling: two rtio-server instances sharing rooms through Redis, behind a
// real load balancer (HAProxy, from Debian) on 127.0.0.1. Long-polling needs sticky sessions:
// every request of one Engine.IO session must reach the instance that made it. HAProxy makes
// them sticky with a cookie of its own (`cookie SERVERID insert`), as socket.io's guide to
// multiple nodes shows. Visitors on polling, on WebSocket and on both (polling, then the
// upgrade) see each other's presence and cursors across the instances; behind a balancer
// without stickiness, a polling client gets a clear error.
//
// Starts its own redis-server, two Rust servers and HAProxy, and stops them by PID when done.
// redis-server and haproxy must be on PATH: tools/setup.sh installs them.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  assertClean,
  browser,
  freePort,
  openDemo,
  startProcess,
  startRedis,
  startRustServer,
  uniqueRoom,
  waitCursor,
  waitMembers,
} from "./demo-pages.mjs";

const TEST_MS = 40_000;
const SEE_CURSOR_MS = 1000;

/** HAProxy in front of `servers`: a sticky frontend and a plain one. `{ sticky, plain, stop }`. */
async function startBalancer(servers) {
  const probe = spawnSync("haproxy", ["-v"], { encoding: "utf8" });
  if (probe.error) {
    throw new Error(
      "haproxy is not on PATH (" + probe.error.code + "). The sticky-session test needs it: " +
        "`bash tools/setup.sh` installs Debian's haproxy (apt-get install -y haproxy).",
    );
  }
  const [sticky, plain] = await Promise.all([freePort(), freePort()]);
  const backends = servers.map((s, i) => ({ name: `s${i + 1}`, at: new URL(s.url).host }));
  const dir = mkdtempSync(path.join(tmpdir(), "rtio-haproxy-"));
  const config = path.join(dir, "haproxy.cfg");
  writeFileSync(
    config,
    `global
  maxconn 256

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout tunnel 60s

# Sticky: the first answer sets SERVERID, and every request that carries it goes to that server.
frontend sticky
  bind 127.0.0.1:${sticky}
  default_backend sticky

backend sticky
  balance roundrobin
  cookie SERVERID insert indirect nocache
${backends.map((b) => `  server ${b.name} ${b.at} cookie ${b.name}`).join("\n")}

# Not sticky: each request goes to the next server.
frontend plain
  bind 127.0.0.1:${plain}
  default_backend plain

backend plain
  balance roundrobin
${backends.map((b) => `  server ${b.name} ${b.at}`).join("\n")}
`,
  );
  // HAProxy (-db: in the foreground) prints nothing when it is up: the shell's line tells that
  // it started, then its ports are polled.
  const p = await startProcess("haproxy", "sh", ["-c", `echo started; exec haproxy -db -f ${config}`], /^started$/m);
  for (const port of [sticky, plain]) await listening(port);
  return {
    sticky: `http://127.0.0.1:${sticky}`,
    plain: `http://127.0.0.1:${plain}`,
    stop: async () => {
      await p.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once 127.0.0.1:`port` accepts connections (within 10 s). */
async function listening(port) {
  const end = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`haproxy is not listening on ${port} after 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let redis;
let servers = [];
let lb;
let keyDir;
before(async () => {
  redis = await startRedis();
  // One session key for both instances, as the README says for scale-out: a page's session
  // cookie, from either instance, is good on the other.
  keyDir = mkdtempSync(path.join(tmpdir(), "rtio-session-key-"));
  const key = path.join(keyDir, "session.key");
  writeFileSync(key, randomBytes(32), { mode: 0o600 });
  const args = ["--redis", redis.url, "--session-key", key];
  servers = await Promise.all([startRustServer(args), startRustServer(args)]);
  lb = await startBalancer(servers);
});
after(async () => {
  await lb?.stop();
  await Promise.all(servers.map((s) => s.stop()));
  await redis?.stop();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

let open = [];
const test = (name, body) =>
  it(name, { timeout: TEST_MS }, async () => {
    try {
      await body();
    } finally {
      await Promise.all(open.map((v) => v.close()));
      open = [];
    }
  });

/** Opens the demo through the sticky balancer with Socket.IO over `transports`, and tells which server it got. */
async function visit(room, me, transports) {
  const v = await openDemo(lb.sticky, room, me, { transports });
  open.push(v);
  const cookie = (await v.context.cookies(lb.sticky)).find((c) => c.name == "SERVERID");
  v.server = cookie?.value;
  v.transport = await v.page.evaluate(() => window.__demo.socket.io.engine.transport.name);
  return v;
}

describe("long-polling behind a sticky load balancer (HAProxy), two servers sharing Redis", () => {
  test("polling, WebSocket and mixed visitors on different servers see each other's presence and cursors", async () => {
    const room = uniqueRoom("sticky");
    const a = await visit(room, { name: "Ada", color: "#e5484d" }, "polling");
    const b = await visit(room, { name: "Bob", color: "#0090ff" }, "websocket");
    const c = await visit(room, { name: "Cy", color: "#30a46c" }, "polling,websocket");
    assert.ok(a.server && b.server && c.server, "each got a server from the balancer");
    assert.notEqual(a.server, b.server, "the polling and the WebSocket visitor are on different servers");
    assert.equal(a.transport, "polling");
    assert.equal(b.transport, "websocket");
    // The mixed visitor upgrades, through the balancer, to the server of its polling session.
    await c.page.waitForFunction(() => window.__demo.socket.io.engine.transport.name == "websocket", null, { timeout: 5000 });

    for (const v of [a, b, c]) await waitMembers(v.page, [a.id, b.id, c.id]);
    await a.page.mouse.move(250, 180);
    const ab = await waitCursor(b.page, a.id, 250, 180, SEE_CURSOR_MS);
    await waitCursor(c.page, a.id, 250, 180, SEE_CURSOR_MS);
    await b.page.mouse.move(640, 420);
    const ba = await waitCursor(a.page, b.id, 640, 420, SEE_CURSOR_MS);
    await c.page.mouse.move(100, 500);
    const ca = await waitCursor(a.page, c.id, 100, 500, SEE_CURSOR_MS);
    console.log(`through the balancer: cursor seen after ${ab} ms (polling -> WebSocket), ${ba} ms (WebSocket -> polling), ${ca} ms (mixed -> polling); servers ${a.server}, ${b.server}, ${c.server}`);

    // A polling visitor who closes the page disappears on the other server too, at once: the
    // demo closes its connection on `beforeunload`. (Without it, a balancer keeps the server's
    // side of a long-poll open: the server would learn at the heartbeat's timeout.)
    await a.page.close({ runBeforeUnload: true });
    await waitMembers(b.page, [b.id, c.id]);
    assertClean(b, c);
  });

  test("without sticky sessions, a polling client gets a clear error, not a silent loop", async () => {
    const b = await browser();
    const context = await b.newContext();
    try {
      const page = await context.newPage();
      await page.goto(lb.plain + "/tests/pages/blank.html");
      const r = await page.evaluate(async () => {
        const { io } = await import("/pkg/index.js");
        const socket = io({ transports: ["polling"], reconnectionDelay: 200, reconnectionDelayMax: 200 });
        const errors = [];
        socket.io.on("error", (e) => errors.push(String(e.description?.message ?? e.message)));
        const first = await new Promise((resolve) => socket.on("connect_error", resolve));
        await new Promise((r) => setTimeout(r, 500));
        const result = {
          message: first.message,
          description: String(first.description?.message ?? ""),
          errors,
          connected: socket.connected,
        };
        socket.close();
        return result;
      });
      assert.equal(r.connected, false);
      assert.equal(r.message, "xhr poll error");
      assert.match(r.description, /Session ID unknown/);
      assert.match(r.description, /sticky sessions/);
    } finally {
      await context.close();
    }
  });
});
