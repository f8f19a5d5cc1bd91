// The npm package in a plain webpack 5 app, no framework: `npm pack` of the built package, an app
// made outside the repository with webpack and webpack-cli at pinned versions, the tarball
// installed into it, `import { io } from "rtio"` in src/index.js and no webpack config at all
// (`webpack --mode production`, entry src/index.js, output dist/). Webpack 5 turns the package's
// `new URL("rtio.wasm", import.meta.url)` into an asset module of its own: the test checks that
// the build emits the wasm once as a hashed file beside main.js, that no other wasm of the
// package comes along, and that in headless Chromium the built app fetches it, connects to the
// Rust test server and gets an ack back. dist/ is served by a small static server of the test's
// own (wasm as application/wasm), the way an app's own web server would serve it.
//
// Needs the registry for webpack and webpack-cli (npm's cache makes reruns quick).
// Environment: RTIO_WEBPACK_APP_DIR keeps the app in that directory instead of a temporary one;
// RTIO_PKG_DIR packs that package directory instead of pkg/.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import { NPM, sh } from "./app-helpers.mjs";
import { REPO, browser, startTestServer } from "./harness.mjs";

const PKG = process.env.RTIO_PKG_DIR || path.join(REPO, "pkg");

// The app's build tools, pinned exactly so a new release cannot change what is tested.
// (webpack-cli 7 depends on a module that wants Node 22; 6 supports Node 18 and later.)
const WEBPACK = "webpack@5.113.0";
const WEBPACK_CLI = "webpack-cli@6.0.1";

const PACKAGE_JSON = {
  name: "rtio-webpack-app",
  version: "0.0.0",
  private: true,
  scripts: { build: "webpack --mode production" },
};

// The app's code: connect, an ack. It reports through data-result.
const INDEX_JS = `import { io } from "rtio";

const out = document.querySelector("#app");
const report = (result) => {
  document.body.dataset.result = JSON.stringify(result);
  out.textContent = JSON.stringify(result);
};

const server = new URLSearchParams(location.search).get("server") ?? location.origin;
const socket = io(server, { reconnection: false });
socket.on("connect_error", (err) => report({ error: err.message }));
socket.once("connect", async () => {
  try {
    const reply = await socket.timeout(5000).emitWithAck("echo", { n: 42 });
    report({ id: socket.id, reply });
  } catch (err) {
    report({ error: String(err) });
  }
});
`;

// The page, written into dist/ by hand as in webpack's getting-started guide (the build keeps it).
const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <link rel="icon" href="data:," />
    <title>rtio with webpack</title>
  </head>
  <body>
    <div id="app">connecting</div>
    <script src="main.js"></script>
  </body>
</html>
`;

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".wasm": "application/wasm" };

/**
 * Serves the files of `dir` on a free port of 127.0.0.1 (`/` is index.html; unknown types are
 * application/octet-stream); resolves with its URL, the server and the list of paths requested.
 */
function serveStatic(dir) {
  const requested = [];
  const server = createServer(async (req, res) => {
    const { pathname } = new URL(req.url, "http://127.0.0.1");
    requested.push(pathname);
    const file = path.join(dir, decodeURIComponent(pathname === "/" ? "/index.html" : pathname));
    if (!file.startsWith(dir + path.sep)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] || "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}/`, server, requested });
    });
  });
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

describe("npm package in a plain webpack 5 app (production build, no config)", { timeout: 600_000 }, () => {
  let work, app, dist, rust, site;

  before(async () => {
    assert.ok(existsSync(path.join(PKG, "package.json")), `${PKG} is not built: run tools/build.sh first`);
    work = process.env.RTIO_WEBPACK_APP_DIR || mkdtempSync(path.join(os.tmpdir(), "rtio-webpack-"));
    mkdirSync(work, { recursive: true });
    assert.ok(!path.resolve(work).startsWith(REPO + path.sep), "the app must live outside the repository");
    const [packed] = JSON.parse(await sh(PKG, NPM, ["pack", "--json", "--pack-destination", work]));
    const tarball = path.join(work, packed.filename);
    app = path.join(work, "app");
    dist = path.join(app, "dist");
    rmSync(app, { recursive: true, force: true });
    mkdirSync(path.join(app, "src"), { recursive: true });
    mkdirSync(dist);
    writeFileSync(path.join(app, "package.json"), JSON.stringify(PACKAGE_JSON, null, 2) + "\n");
    writeFileSync(path.join(app, "src/index.js"), INDEX_JS);
    writeFileSync(path.join(dist, "index.html"), INDEX_HTML);
    await sh(app, NPM, ["install", "--no-audit", "--no-fund", "--save-exact", WEBPACK, WEBPACK_CLI, tarball]);
    rust = await startTestServer("rust");
  });

  after(async () => {
    if (site) await new Promise((r) => site.server.close(r));
    if (work && !process.env.RTIO_WEBPACK_APP_DIR) rmSync(work, { recursive: true, force: true });
  });

  it("webpack --mode production: builds with no warning, the wasm emitted once as a hashed asset", async () => {
    const out = await sh(app, NPM, ["run", "build"]);
    assert.match(out, /compiled successfully/, out);
    assert.doesNotMatch(out, /WARNING|ERROR/, out);
    assert.match(out, /\[from: node_modules\/rtio\/rtio\.wasm\]/, `the wasm is an asset module:\n${out}`);
    const files = readdirSync(dist).sort();
    const wasm = files.filter((f) => f.endsWith(".wasm"));
    assert.equal(wasm.length, 1, `one wasm in dist/ (not rtio-stream.wasm too): ${files}`);
    assert.match(wasm[0], /^[0-9a-f]{16,}\.wasm$/, "named by its content hash");
    assert.ok(files.includes("main.js"), `main.js in ${files}`);
  });

  it("in Chromium the built app fetches the wasm, connects to the Rust server and gets the ack", async () => {
    site = await serveStatic(dist);
    const r = await visit(site.url, rust);
    assert.deepEqual(r.errors, [], "page errors");
    assert.equal(r.result.error, undefined, r.result.error);
    assert.deepEqual(r.result.reply, { n: 42 }, "the ack");
    assert.equal(typeof r.result.id, "string", "the socket id");
    assert.match(r.result.id, /\S/, "the socket id");
    assert.equal(r.wasm.length, 1, `one wasm loaded: ${r.wasm}`);
    const emitted = readdirSync(dist).find((f) => f.endsWith(".wasm"));
    assert.equal(r.wasm[0], new URL(emitted, site.url).href, "the emitted wasm, beside main.js");
    assert.deepEqual(site.requested.filter((p) => p.endsWith(".wasm")), [`/${emitted}`], "fetched once, from the test's server");
  });
});
