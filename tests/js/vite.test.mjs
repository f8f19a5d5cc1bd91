// The npm package as a front-end developer meets it: `npm pack` of the built package (pkg/),
// a fresh Vite + TypeScript app scaffolded by create-vite outside the repository, the tarball
// installed into it, `import { io } from "rtio"` with no plugin and no config. The app is
// type-checked and built by its own `npm run build` (tsc && vite build), served by
// `vite preview`, and also run by the dev server (`vite`); in headless Chromium it connects to
// the test servers, emits with an ack and receives an event.
//
// Needs the registry for create-vite, vite and typescript (npm's cache makes reruns quick).
// Environment: RTIO_VITE_APP_DIR keeps the app in that directory instead of a temporary one.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { NPM, freePort, sh, stop } from "./app-helpers.mjs";
import { REPO, browser, startTestServer } from "./harness.mjs";
import { readmeSnippet } from "./readme-snippets.mjs";

const CREATE_VITE = "create-vite@9.3.0";
const PKG = path.join(REPO, "pkg");

// What the tarball must hold, and nothing else.
const EXPECTED_FILES = [
  "LICENSE-APACHE",
  "LICENSE-MIT",
  "README.md",
  "index.d.ts",
  "index.js",
  "package.json",
  "rtio-stream.wasm",
  "rtio.wasm",
  "server.d.ts",
  "server.js",
  "shared-worker.js",
  "shared.js",
  "sse.d.ts",
  "sse.js",
  "stream.d.ts",
  "ws.d.ts",
  "ws.js",
];

// The app's code: typed events, an ack, a server event. It reports through data-result.
const MAIN_TS = `import { io } from "rtio";

interface ServerToClientEvents {
  greeting: (text: string, n: number) => void;
}
interface ClientToServerEvents {
  echo: (value: { n: number }, ack: (reply: { n: number }) => void) => void;
  "emit-back": (event: "greeting", text: string, n: number) => void;
}

const params = new URLSearchParams(location.search);
const out = document.querySelector<HTMLDivElement>("#app")!;
const report = (result: object) => {
  document.body.dataset.result = JSON.stringify(result);
  out.textContent = JSON.stringify(result);
};

const socket = io<ServerToClientEvents, ClientToServerEvents>(params.get("server") ?? location.origin, {
  reconnection: false,
});
socket.on("connect_error", (err) => report({ error: err.message }));
socket.once("connect", async () => {
  try {
    const reply = await socket.timeout(5000).emitWithAck("echo", { n: 42 });
    const greeting = new Promise<[string, number]>((resolve) =>
      socket.once("greeting", (text, n) => resolve([text, n])),
    );
    socket.emit("emit-back", "greeting", "hello", 7);
    const [text, n] = await greeting;
    report({ id: socket.id, reply, text, n });
  } catch (err) {
    report({ error: String(err) });
  }
});
`;

const children = new Set();

/** Starts a Vite server (`vite` or `vite preview`) on a free port; resolves with its URL once it answers. */
async function viteServer(app, args) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(app, "node_modules/vite/bin/vite.js"), ...args, "--host", "127.0.0.1", "--port", String(port), "--strictPort"],
    { cwd: app, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
  );
  children.add(child);
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  child.on("exit", () => children.delete(child));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vite ${args.join(" ")} exited:\n${output}`);
    try {
      if ((await fetch(url)).ok) return { url, child, output: () => output };
    } catch {}
    if (Date.now() > deadline) throw new Error(`vite ${args.join(" ")} did not answer on ${url} within 30 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Opens the app at `appUrl` against the socket.io server `server`; returns its result and the page's errors. */
async function visit(appUrl, server) {
  const b = await browser();
  const context = await b.newContext();
  const errors = [];
  try {
    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await page.goto(`${appUrl}?server=${encodeURIComponent(server)}`);
    await page.waitForSelector("body[data-result]", { timeout: 15_000 }).catch((e) => {
      throw new Error(`no result from ${appUrl}: ${e.message}\npage errors: ${errors.join("\n") || "none"}`);
    });
    const result = JSON.parse(await page.getAttribute("body", "data-result"));
    const wasm = await page.evaluate(() =>
      performance.getEntriesByType("resource").map((e) => e.name).filter((n) => n.endsWith(".wasm")),
    );
    return { result, errors, wasm };
  } finally {
    await context.close().catch(() => {});
  }
}

function checkResult({ result, errors }, what) {
  assert.deepEqual(errors, [], `${what}: page errors`);
  assert.equal(result.error, undefined, `${what}: ${result.error}`);
  assert.deepEqual(result.reply, { n: 42 }, `${what}: the ack`);
  assert.equal(result.text, "hello", `${what}: the event`);
  assert.equal(result.n, 7, `${what}: the event's second argument`);
  assert.match(result.id, /\S/, `${what}: the socket id`);
}

describe("npm package in a fresh Vite + TypeScript app", { timeout: 600_000 }, () => {
  let work, app, tarball, packed, servers;

  before(async () => {
    assert.ok(existsSync(path.join(PKG, "package.json")), "pkg/ is not built: run tools/build.sh first");
    work = process.env.RTIO_VITE_APP_DIR || mkdtempSync(path.join(os.tmpdir(), "rtio-vite-"));
    mkdirSync(work, { recursive: true });
    assert.ok(!path.resolve(work).startsWith(REPO + path.sep), "the app must live outside the repository");
    [packed] = JSON.parse(await sh(PKG, NPM, ["pack", "--json", "--pack-destination", work]));
    tarball = path.join(work, packed.filename);
    app = path.join(work, "app");
    rmSync(app, { recursive: true, force: true });
    await sh(work, NPM, ["exec", "--yes", "--", CREATE_VITE, "app", "--template", "vanilla-ts", "--no-interactive"]);
    writeFileSync(path.join(app, "src/main.ts"), MAIN_TS);
    // The README's TypeScript snippet, type-checked with the app (not imported by it).
    writeFileSync(path.join(app, "src/readme.ts"), readmeSnippet("tsc").code + "\n");
    await sh(app, NPM, ["install", "--no-audit", "--no-fund"]);
    await sh(app, NPM, ["install", "--no-audit", "--no-fund", tarball]);
    servers = { node: await startTestServer("node"), rust: await startTestServer("rust") };
  });

  after(async () => {
    await Promise.all([...children].map(stop));
    if (work && !process.env.RTIO_VITE_APP_DIR) rmSync(work, { recursive: true, force: true });
  });

  it("npm pack: the tarball's files and package.json are right for bundlers and TypeScript", () => {
    const files = packed.files.map((f) => f.path).sort();
    assert.deepEqual(files, EXPECTED_FILES);
    const pkg = JSON.parse(readFileSync(path.join(PKG, "package.json"), "utf8"));
    assert.equal(pkg.type, "module");
    assert.equal(pkg.sideEffects, false);
    for (const [sub, file] of [[".", "index"], ["./sse", "sse"], ["./ws", "ws"], ["./server", "server"]]) {
      assert.deepEqual(Object.keys(pkg.exports[sub]), ["types", "import"], `${sub}: types first, then import`);
      assert.equal(pkg.exports[sub].types, `./${file}.d.ts`);
      assert.equal(pkg.exports[sub].import, `./${file}.js`);
    }
    for (const f of ["index.js", "index.d.ts", "rtio.wasm", "README.md"]) assert.ok(files.includes(f), f);
    const readme = readFileSync(path.join(PKG, "README.md"), "utf8");
    assert.match(readme, /npm install rtio/);
    console.log(
      `# ${packed.filename}: ${packed.size} B packed, ${packed.unpackedSize} B unpacked, ${files.length} files:\n` +
        packed.files.map((f) => `#   ${f.path} ${f.size} B`).join("\n"),
    );
  });

  it("npm run build (tsc && vite build), vite preview: connects, acks and receives in Chromium", async () => {
    // The template's build script type-checks src/main.ts against the installed package first.
    await sh(app, NPM, ["run", "build"]);
    const preview = await viteServer(app, ["preview"]);
    try {
      for (const [name, url] of Object.entries(servers)) {
        const r = await visit(preview.url, url);
        checkResult(r, `built app against the ${name} server`);
        assert.equal(r.wasm.length, 1, `one wasm loaded: ${r.wasm}`);
        assert.match(r.wasm[0], /\/assets\/rtio-[\w-]+\.wasm$/, "Vite emitted the wasm as a hashed asset");
      }
    } finally {
      await stop(preview.child);
    }
  });

  it("the dev server (vite): connects, acks and receives in Chromium", async () => {
    const dev = await viteServer(app, []);
    try {
      for (const [name, url] of Object.entries(servers)) checkResult(await visit(dev.url, url), `dev server against the ${name} server`);
    } finally {
      await stop(dev.child);
    }
  });

  it("the README's TypeScript snippet type-checks in the app (with its @ts-expect-error used)", async () => {
    await sh(app, NPM, ["exec", "--", "tsc", "--noEmit"]);
    const src = readFileSync(path.join(app, "src/readme.ts"), "utf8");
    assert.match(src, /io<ServerToClientEvents, ClientToServerEvents>/);
    assert.match(src, /@ts-expect-error/);
  });

  it("a type error in the app fails its build (the package's types are checked)", async () => {
    const bad = MAIN_TS.replace(`emitWithAck("echo", { n: 42 })`, `emitWithAck("echo", { n: "42" })`);
    assert.notEqual(bad, MAIN_TS);
    writeFileSync(path.join(app, "src/main.ts"), bad);
    try {
      await assert.rejects(sh(app, NPM, ["exec", "--", "tsc", "--noEmit"]), /TS2322|not assignable/);
    } finally {
      writeFileSync(path.join(app, "src/main.ts"), MAIN_TS);
    }
  });
});
