// Bundles the npm package's entries into OUT (pkg/): each entry with what it imports, minified
// by esbuild, then compressed by terser (two passes, safe transforms only).
//
// Private members (`_` prefix) get short names, the same in every entry (one mangle cache for
// all): `rtio`'s index.js and the shared-connection modules it loads (shared.js, and the
// shared-worker.js a SharedWorker runs) hand objects to each other. `_placeholder` is part of
// the wire format, and `__`-prefixed names and the wasms' minified ones are the glue's (its
// imports and exports), listed in js/generated/*.reserved.
//
// usage: node tools/bundle.mjs OUT
import { build } from "esbuild";
import { minify } from "terser";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const out = process.argv[2];
if (!out) throw new Error("usage: node tools/bundle.mjs OUT");
const generated = "js/generated";
const reserved = ["_placeholder", "__.*"];
for (const f of readdirSync(generated)) if (f.endsWith(".reserved")) reserved.push(...readFileSync(path.join(generated, f), "utf8").split("\n").filter(Boolean));

// `rtio` (io(), with rtio.wasm) first: its names are the shortest. shared.js is a module of its
// own, which index.js loads only for `io(url, { shared })`.
const entries = [
  ["index", ["./shared.js"]],
  ["shared", ["./shared-worker.js"]],
  ["shared-worker", []],
  ["sse", []],
  ["ws", []],
];
let mangleCache = {};
for (const [entry, external] of entries) {
  const r = await build({
    entryPoints: [`js/${entry}.js`],
    bundle: true,
    format: "esm",
    minify: true,
    mangleProps: /^_/,
    reserveProps: new RegExp(`^(${reserved.join("|")})$`),
    mangleCache,
    external,
    target: "es2022",
    legalComments: "none",
    logLevel: "warning",
    write: false,
  });
  mangleCache = r.mangleCache;
  const code = (await minify(r.outputFiles[0].text, { module: true, ecma: 2022, compress: { passes: 2 }, mangle: true })).code;
  writeFileSync(path.join(out, `${entry}.js`), code);
}
