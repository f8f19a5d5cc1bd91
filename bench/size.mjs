// The table of bench/size.sh: `rtio`'s wasm and index.js, index.js's modules, and the floor of
// the shape (OUT: the floor's wasm and glue, as bench/size.sh built them). Each JS module is
// bundled and minified on its own as tools/bundle.mjs does the entries (esbuild, then terser),
// so a module's figure is what it adds, give or take what gzip finds in common with the rest.
// usage: node bench/size.mjs OUT
import { createRequire } from "node:module";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";

const out = path.resolve(process.argv[2]);
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const tools = createRequire(path.join(repo, "tools/package.json"));
const { build } = tools("esbuild");
const { minify } = tools("terser");

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
const file = (f) => gz(readFileSync(f));

/** `source` (an entry's text, resolved from `dir`) bundled and minified: its gzip -9 size. */
async function bundled(source, dir) {
  const r = await build({
    stdin: { contents: source, resolveDir: dir, loader: "js" },
    platform: "browser",
    define: { "process.env.NODE_ENV": '"production"' },
    bundle: true,
    format: "esm",
    minify: true,
    mangleProps: /^_/,
    reserveProps: /^(__.*|_placeholder)$/,
    target: "es2022",
    legalComments: "none",
    logLevel: "error",
    write: false,
  });
  const code = (await minify(r.outputFiles[0].text, { module: true, ecma: 2022, compress: { passes: 2 }, mangle: true })).code;
  return gz(code);
}

const js = path.join(repo, "js");
const rows = [];
const row = (what, bytes) => rows.push([what, bytes]);

const wasm = file(path.join(repo, "pkg/rtio.wasm"));
const index = file(path.join(repo, "pkg/index.js"));
row("rtio: rtio.wasm", wasm);
row("rtio: index.js", index);
row("rtio: total", wasm + index);
const glue = await bundled(`export * from "./generated/rtio.js"; export * from "./bridge.js";`, js);
row("index.js: wasm-bindgen glue and loader (generated/rtio.js, bridge.js)", glue);
let modules = 0;
for (const m of ["emitter", "rooms", "frames"]) {
  const n = await bundled(`export * from "./${m}.js";`, js);
  modules += n;
  row(`index.js: ${m}.js`, n);
}
row("index.js: the rest (Manager, Socket, io(): index.js itself)", index - glue - modules);

const floorWasm = file(path.join(out, "floor.wasm"));
const floorGlue = await bundled(
  `export * from ${JSON.stringify(path.join(out, "glue.js"))}; export * from ${JSON.stringify(path.join(js, "bridge.js"))};`,
  out,
);
row("floor: wasm (bench/size-floor)", floorWasm);
row("floor: wasm-bindgen glue and loader", floorGlue);
row("floor: total", floorWasm + floorGlue);
row("rtio over the floor (the protocol and the API)", wasm + index - floorWasm - floorGlue);
// socket.io-client, polling included, as an app ships it (bench/node_modules, when installed).
const bench = path.join(repo, "bench");
if (existsSync(path.join(bench, "node_modules/socket.io-client"))) {
  row("socket.io-client 4.8: io() (esbuild, terser)", await bundled(`export { io } from "socket.io-client";`, bench));
}

const kb = (n) => (n / 1024).toFixed(2);
console.log("| part | gzip -9 |\n|---|---|");
for (const [what, n] of rows) console.log(`| ${what} | ${n} B (${kb(n)} KB) |`);
writeFileSync(path.join(out, "sizes.json"), JSON.stringify(Object.fromEntries(rows)) + "\n");
