// Optimises the wasm with binaryen's wasm-opt (-Oz) and shortens its import and export names
// (wasm-bindgen's are long and end in random hashes, which compress badly), then rewrites the
// wasm-bindgen glue to match the mapping wasm-opt prints.
//
// usage: node tools/minify-names.mjs IN.wasm OUT.wasm GLUE.js
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const [input, output, gluePath] = process.argv.slice(2);
if (!gluePath) {
  console.error("usage: node tools/minify-names.mjs IN.wasm OUT.wasm GLUE.js");
  process.exit(2);
}
const wasmOpt = fileURLToPath(new URL("node_modules/.bin/wasm-opt", import.meta.url));
const features = [
  "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext",
  "--enable-mutable-globals",
];
// Optimise until nothing changes, then rename once (the renaming pass prints its mapping).
execFileSync(wasmOpt, [input, "-Oz", "--converge", "--strip-debug", "--strip-producers", ...features, "-o", output]);
const stdout = execFileSync(
  wasmOpt,
  [output, ...features, "--minify-imports-and-exports-and-modules", "-o", output],
  { encoding: "utf8" },
);
const map = JSON.parse(stdout.slice(stdout.indexOf("{")));
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let glue = readFileSync(gluePath, "utf8");
const modules = new Set(map.imports.map(([mod]) => mod));
if (modules.size !== 1) throw new Error(`expected one import module, found ${[...modules]}`);
for (const [, name, short] of map.imports) {
  // Import functions are keys of the import object: `name: function(...)`.
  const re = new RegExp(`\\b${esc(name)}\\b(?=\\s*:)`, "g");
  if (!re.test(glue)) throw new Error(`import ${name} not found in the glue`);
  glue = glue.replace(re, short);
}
// `binaryen` names the single module "a".
const [mod] = modules;
const modRe = new RegExp(`"${esc(mod)}"\\s*:`, "g");
if (!modRe.test(glue)) throw new Error(`import module ${mod} not found in the glue`);
glue = glue.replace(modRe, '"a":');
for (const [name, short] of map.exports) {
  const re = new RegExp(`\\bwasm\\.${esc(name)}\\b`, "g");
  glue = glue.replace(re, `wasm.${short}`);
}
for (const [, name] of map.imports) {
  if (glue.includes(name)) throw new Error(`import ${name} still referenced in the glue`);
}
writeFileSync(gluePath, glue);
