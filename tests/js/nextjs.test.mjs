// The npm package in a Next.js App Router app, as a React developer meets it: `npm pack` of the
// built package, an app made outside the repository with next, react and react-dom at pinned
// versions, the tarball installed into it, no next.config and no plugin. A client component
// ("use client") imports `io` from "rtio" and connects inside useEffect. Next renders that
// component on the server too, so the package must import cleanly in Node (it defines its
// classes and fetches the wasm only on the first io(), which never runs there), and the
// bundler `next build` uses by default (Turbopack at the pinned version) must turn the
// package's `new URL("rtio.wasm", import.meta.url)` into a served asset. The app is type-checked and built by `next build`, served by
// `next start`; its server-rendered HTML is fetched from Node, and in headless Chromium the page
// connects to the Rust test server and gets an ack back.
//
// Needs the registry for next, react, react-dom, typescript and the type packages (about 400 MB
// installed, mostly Next's native compiler; npm's cache makes reruns quick).
// Environment: RTIO_NEXT_APP_DIR keeps the app in that directory instead of a temporary one;
// RTIO_PKG_DIR packs that package directory instead of pkg/.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { NPM, freePort, sh, stop } from "./app-helpers.mjs";
import { REPO, browser, startTestServer } from "./harness.mjs";

const PKG = process.env.RTIO_PKG_DIR || path.join(REPO, "pkg");

// The app's dependencies, pinned exactly so a new release cannot change what is tested.
const NEXT = "next@16.5.0";
const REACT = "react@19.3.1";
const REACT_DOM = "react-dom@19.3.1";
const TYPESCRIPT = "typescript@5.9.3";
const TYPES_REACT = "@types/react@19.3.3";
const TYPES_REACT_DOM = "@types/react-dom@19.3.0";
const TYPES_NODE = "@types/node@20.9.5";

// Next.js must not phone home, and its output is read by the test.
const NEXT_ENV = { NEXT_TELEMETRY_DISABLED: "1", NO_COLOR: "1" };

const LAYOUT_TSX = `import type { ReactNode } from "react";

export const metadata = { title: "rtio in Next.js" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
`;

// The app's icon (file-based metadata): without one Chromium asks for /favicon.ico, a 404.
const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>\n`;

// A server component: reading searchParams makes Next render it on every request, so the client
// component (and with it the "rtio" import) is rendered by the running server, not only once
// at build time.
const PAGE_TSX = `import Echo from "./echo";

export default async function Page({ searchParams }: { searchParams: Promise<{ server?: string }> }) {
  const { server } = await searchParams;
  return (
    <main>
      <h1>rtio in Next.js</h1>
      <Echo server={server ?? null} />
    </main>
  );
}
`;

// The client component: typed events, an ack. It reports through data-result.
const ECHO_TSX = `"use client";

import { useEffect, useState } from "react";
import { io } from "rtio";

interface ServerToClientEvents {}
interface ClientToServerEvents {
  echo: (value: { n: number }, ack: (reply: { n: number }) => void) => void;
}

export default function Echo({ server }: { server: string | null }) {
  const [status, setStatus] = useState("connecting");
  useEffect(() => {
    const report = (result: object) => {
      document.body.dataset.result = JSON.stringify(result);
      setStatus(JSON.stringify(result));
    };
    const url = new URLSearchParams(location.search).get("server") ?? location.origin;
    const socket = io<ServerToClientEvents, ClientToServerEvents>(url, { reconnection: false });
    socket.on("connect_error", (err) => report({ error: err.message }));
    socket.once("connect", async () => {
      try {
        const reply = await socket.timeout(5000).emitWithAck("echo", { n: 42 });
        report({ id: socket.id, reply });
      } catch (err) {
        report({ error: String(err) });
      }
    });
    return () => {
      socket.disconnect();
    };
  }, []);
  return (
    <p id="status" data-server={server ?? ""}>
      {status}
    </p>
  );
}
`;

const children = new Set();

/** Starts `next start` on a free port of 127.0.0.1; resolves with its URL once it answers. */
async function nextStart(app) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(app, "node_modules/next/dist/bin/next"), "start", "--hostname", "127.0.0.1", "--port", String(port)],
    { cwd: app, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...NEXT_ENV } },
  );
  children.add(child);
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  child.on("exit", () => children.delete(child));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited:\n${output}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(5000) });
      return { url, child, output: () => output };
    } catch {}
    if (Date.now() > deadline) throw new Error(`next start did not answer on ${url} within 30 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Opens the app at `appUrl` against the socket.io server `server`; returns its result, the page's errors and the wasm it loaded. */
async function visit(appUrl, server) {
  const b = await browser();
  const context = await b.newContext();
  const errors = [];
  try {
    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && errors.push(`${m.text()} (${m.location().url})`));
    const wasmTypes = [];
    page.on("response", (r) => r.url().endsWith(".wasm") && wasmTypes.push(r.headers()["content-type"]));
    await page.goto(`${appUrl}?server=${encodeURIComponent(server)}`);
    await page.waitForSelector("body[data-result]", { timeout: 15_000 }).catch((e) => {
      throw new Error(`no result from ${appUrl}: ${e.message}\npage errors: ${errors.join("\n") || "none"}`);
    });
    const result = JSON.parse(await page.getAttribute("body", "data-result"));
    const wasm = await page.evaluate(() =>
      performance.getEntriesByType("resource").map((e) => e.name).filter((n) => n.endsWith(".wasm")),
    );
    return { result, errors, wasm, wasmTypes };
  } finally {
    await context.close().catch(() => {});
  }
}

describe("npm package in a Next.js App Router app (next build, next start)", { timeout: 600_000 }, () => {
  let work, app, server, rust;

  before(async () => {
    assert.ok(existsSync(path.join(PKG, "package.json")), `${PKG} is not built: run tools/build.sh first`);
    work = process.env.RTIO_NEXT_APP_DIR || mkdtempSync(path.join(os.tmpdir(), "rtio-next-"));
    mkdirSync(work, { recursive: true });
    assert.ok(!path.resolve(work).startsWith(REPO + path.sep), "the app must live outside the repository");
    const [packed] = JSON.parse(await sh(PKG, NPM, ["pack", "--json", "--pack-destination", work], { timeout: 300_000, env: NEXT_ENV }));
    const tarball = path.join(work, packed.filename);
    app = path.join(work, "app");
    rmSync(app, { recursive: true, force: true });
    mkdirSync(path.join(app, "app"), { recursive: true });
    writeFileSync(
      path.join(app, "package.json"),
      JSON.stringify({ name: "rtio-next-app", version: "0.0.0", private: true }, null, 2) + "\n",
    );
    writeFileSync(path.join(app, "app/layout.tsx"), LAYOUT_TSX);
    writeFileSync(path.join(app, "app/page.tsx"), PAGE_TSX);
    writeFileSync(path.join(app, "app/echo.tsx"), ECHO_TSX);
    writeFileSync(path.join(app, "app/icon.svg"), ICON_SVG);
    await sh(app, NPM, [
      "install", "--no-audit", "--no-fund", "--save-exact",
      NEXT, REACT, REACT_DOM, TYPESCRIPT, TYPES_REACT, TYPES_REACT_DOM, TYPES_NODE, tarball,
    ], { timeout: 300_000, env: NEXT_ENV });
    rust = await startTestServer("rust");
  });

  after(async () => {
    await Promise.all([...children].map(stop));
    if (work && !process.env.RTIO_NEXT_APP_DIR) rmSync(work, { recursive: true, force: true });
  });

  it("next build: type-checks and compiles the app, the wasm emitted as a static asset", async () => {
    const out = await sh(app, process.execPath, [path.join(app, "node_modules/next/dist/bin/next"), "build"], { timeout: 300_000, env: NEXT_ENV });
    assert.match(out, /Compiled successfully/, out);
    assert.match(out, /TypeScript/, `the build type-checked the app:\n${out}`);
    assert.match(out, /ƒ \//, `the page is rendered per request:\n${out}`);
    const media = readdirSync(path.join(app, ".next/static/media"));
    assert.equal(media.filter((f) => /^rtio\.[\w-]+\.wasm$/.test(f)).length, 1, `the wasm among ${media}`);
  });

  it("next start: the server renders the page (with the client component importing rtio) in Node", async () => {
    server = await nextStart(app);
    const res = await fetch(server.url, { signal: AbortSignal.timeout(15_000) });
    const html = await res.text();
    assert.equal(res.status, 200, html);
    assert.match(res.headers.get("content-type"), /^text\/html/);
    assert.match(html, /<p id="status" data-server="">connecting<\/p>/, "the client component, rendered on the server");

    const withServer = await fetch(`${server.url}?server=${encodeURIComponent(rust)}`, { signal: AbortSignal.timeout(15_000) });
    assert.equal(withServer.status, 200);
    assert.ok((await withServer.text()).includes(`data-server="${rust}"`), "rendered for this request");
    assert.doesNotMatch(server.output(), /⨯|Error/, `next start reported an error:\n${server.output()}`);
  });

  it("in Chromium the page connects to the Rust server and gets the ack", async () => {
    assert.ok(server, "next start is running");
    const r = await visit(server.url, rust);
    assert.deepEqual(r.errors, [], "page errors");
    assert.equal(r.result.error, undefined, r.result.error);
    assert.deepEqual(r.result.reply, { n: 42 }, "the ack");
    assert.equal(typeof r.result.id, "string", "the socket id");
    assert.match(r.result.id, /\S/, "the socket id");
    assert.equal(r.wasm.length, 1, `one wasm loaded: ${r.wasm}`);
    assert.match(r.wasm[0], /\/_next\/static\/media\/rtio\.[\w-]+\.wasm$/, "Next emitted the wasm as a hashed static asset");
    assert.doesNotMatch(server.output(), /⨯|Error/, `next start reported an error:\n${server.output()}`);
    console.log(`# wasm ${r.wasm[0]} served as ${r.wasmTypes.join(", ")}`);
  });
});
