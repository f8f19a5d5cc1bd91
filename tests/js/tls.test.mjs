// rtio over TLS, end to end: rtio-server with --tls-cert/--tls-key (a self-signed certificate for
// 127.0.0.1 made here with openssl), and a headless Chromium that trusts that certificate only,
// by its public key (--ignore-certificate-errors-spki-list), for this test only. Pages are
// served by the server itself over https:, so everything is one origin:
// - io("https://…") picks wss: by itself; Socket.IO over WebSocket, and over polling with the
//   upgrade;
// - the SSE and plain-WebSocket modes over https: and wss:;
// - the collaborative-cursors demo: two visitors see each other.
// A browser that does not trust the certificate gets nowhere (the control).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, INIT_SCRIPT, RUST_BIN, startServer, stopProcess } from "./launch.mjs";

const TEST_MS = 30_000;

let dir;
let server;
let base;
let browser;
let untrusting;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "rtio-tls-"));
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", key, "-out", cert,
  ], { stdio: ["ignore", "ignore", "pipe"] });
  // Chromium trusts a certificate by the SHA-256 of its public key (SPKI), base64.
  const spki = new X509Certificate(readFileSync(cert)).publicKey.export({ type: "spki", format: "der" });
  const pin = createHash("sha256").update(spki).digest("base64");
  server = await startServer("Rust (TLS)", RUST_BIN, ["--port", "0", "--tls-cert", cert, "--tls-key", key, "--test-controls"]);
  base = server.url;
  assert.match(base, /^https:\/\//);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${pin}`] });
  untrusting = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await untrusting?.close();
  if (server) await stopProcess(server.child);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// A page of the server's own (https:), with the package's module loaded as window.rtio (and
// its modes as window.rtioSse, window.rtioWs). Its errors are collected.
async function open(b = browser) {
  const context = await b.newContext();
  await context.addInitScript(INIT_SCRIPT);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e.stack || e)));
  await page.goto(`${base}/tests/pages/blank.html`);
  await page.evaluate(async () => {
    window.rtio = await import("/pkg/index.js");
    window.rtioSse = await import("/pkg/sse.js");
    window.rtioWs = await import("/pkg/ws.js");
  });
  return { page, errors, close: () => context.close() };
}

describe("TLS end to end [rtio-server --tls-cert --tls-key]", () => {
  const opened = [];
  after(() => Promise.all(opened.map((p) => p.close().catch(() => {}))));
  const test = (name, body) =>
    it(name, { timeout: TEST_MS }, async () => {
      const p = await open();
      opened.push(p);
      await body(p.page, p);
      assert.deepEqual(p.errors, []);
    });

  test('io("https://…") connects over wss: by itself; events and acks go both ways', async (page) => {
    const r = await page.evaluate(async (url) => {
      const s = window.rtio.io(url, { forceNew: true, transports: ["websocket"] });
      await connected(s, 10_000);
      const echoed = await s.timeout(5000).emitWithAck("echo", { over: "tls" });
      const out = { echoed, transport: s.io.engine.transport.name, urls: window.__ws.urls, secure: location.protocol };
      s.disconnect();
      return out;
    }, base);
    assert.equal(r.secure, "https:");
    // The page load's session cookie is Secure under TLS.
    const [cookie] = (await page.context().cookies(base)).filter((c) => c.name === "rtio_session");
    assert.deepEqual([cookie?.secure, cookie?.httpOnly, cookie?.sameSite], [true, true, "Lax"]);
    assert.deepEqual(r.echoed, { over: "tls" });
    assert.equal(r.transport, "websocket");
    assert.ok(r.urls.length > 0 && r.urls.every((u) => u.startsWith(base.replace(/^https:/, "wss:") + "/socket.io/")), JSON.stringify(r.urls));
  });

  test("the default transports: long-polling over https:, then the upgrade to wss:", async (page) => {
    const r = await page.evaluate(async () => {
      const s = window.rtio.io({ forceNew: true });
      await connected(s, 10_000);
      await until(() => s.io.engine.transport.name === "websocket", 10_000, "the upgrade");
      const echoed = await s.timeout(5000).emitWithAck("echo", 1);
      // The handshake went over polling (the upgrade may be done by the time connect fires).
      const polls = performance.getEntriesByType("resource").map((e) => e.name).filter((u) => u.includes("transport=polling"));
      const out = { polls, echoed, urls: window.__ws.urls };
      s.disconnect();
      return out;
    });
    assert.ok(r.polls.length > 0 && r.polls.every((u) => u.startsWith("https://")), JSON.stringify(r.polls));
    assert.equal(r.echoed, 1);
    assert.ok(r.urls.some((u) => u.startsWith("wss://")), JSON.stringify(r.urls));
  });

  test("the SSE mode over https: and the plain-WebSocket mode over wss: share a room", async (page) => {
    const r = await page.evaluate(async () => {
      const room = "tls-" + Math.random();
      // Both clients are this page's session, whose name the others see.
      await fetch("/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Tess" }) });
      const a = window.rtioSse.sse("/sse");
      const b = window.rtioWs.ws("/ws");
      const ra = a.room(room);
      const rb = b.room(room);
      await Promise.all([ra.join({ name: "sse" }), rb.join({ name: "ws" })]);
      await until(() => ra.presence.members.length === 2 && rb.presence.members.length === 2, 10_000, "both listed");
      const got = [];
      ra.on("hello", (text, from) => got.push(["sse got", text, from.meta.name]));
      rb.on("hello", (text, from) => got.push(["ws got", text, from.meta.name]));
      rb.emit("hello", "from ws");
      ra.emit("hello", "from sse");
      await until(() => got.length === 2, 10_000, "both messages");
      const out = { got: got.sort(), wsUrls: window.__ws.urls };
      a.disconnect();
      b.disconnect();
      return out;
    });
    assert.deepEqual(r.got, [["sse got", "from ws", "Tess"], ["ws got", "from sse", "Tess"]]);
    assert.ok(r.wsUrls.some((u) => u.startsWith("wss://") && u.includes("/ws")), JSON.stringify(r.wsUrls));
  });

  test("the cursors demo over https:: two visitors see each other", async (_page) => {
    const room = "tls-" + Date.now().toString(36);
    const visitors = [];
    for (let i = 0; i < 2; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      opened.push({ close: () => context.close() });
      await page.goto(`${base}/#${room}`);
      visitors.push({ page, errors });
    }
    for (const { page } of visitors) {
      await page.waitForFunction(() => document.querySelectorAll("#members [data-member-id]").length === 2, null, { timeout: 15_000 });
    }
    for (const v of visitors) assert.deepEqual(v.errors, []);
  });
});

describe("TLS control", () => {
  it("a browser that does not trust the certificate cannot load the page", { timeout: TEST_MS }, async () => {
    const context = await untrusting.newContext();
    try {
      const page = await context.newPage();
      await assert.rejects(page.goto(`${base}/tests/pages/blank.html`), /ERR_CERT_AUTHORITY_INVALID|net::ERR_CERT/);
    } finally {
      await context.close();
    }
  });
});
