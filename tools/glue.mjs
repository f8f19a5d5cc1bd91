// Turns the JS glue that `wasm-bindgen --target web` generates for one wasm into a factory:
// `createModule()` returns a new, independent instance of the glue each time it is called
// (`{ ...its exports, initSync, module }`), so that a module that trapped can be left behind
// and a fresh one instantiated (js/bridge.js). The glue's default wasm URL (a file name the
// package does not use) is removed: the entries always say where their wasm is. Its
// asynchronous loader is left out (the bundler drops it): js/bridge.js fetches and compiles the
// wasm itself and instantiates it with `initSync`.
// `kill()` retires a module that trapped: every later call into it (a timer or a listener it
// had set) does nothing, and it returns the module's table of JS values, where the bridge
// finds the WebSockets and EventSources to close.
//
// With NAMES (the JSON that `wasm-opt --minify-imports-and-exports-and-modules` prints), the
// glue is made to use the wasm's minified import, export and module names: the long, hashed
// names wasm-bindgen gives them would otherwise be shipped twice, in the wasm and in the glue.
//
// usage: node tools/glue.mjs GLUE_IN JS_OUT [NAMES WASM]   (WASM: the minified wasm)
import { readFileSync, writeFileSync } from "node:fs";

const [input, output, namesFile, wasmFile] = process.argv.slice(2);

/** The module names of the imports of the wasm in `file`. */
function importModules(file) {
  const b = readFileSync(file);
  let i = 8;
  const leb = () => {
    let r = 0,
      shift = 0,
      x;
    do {
      x = b[i++];
      r += (x & 0x7f) * 2 ** shift;
      shift += 7;
    } while (x & 0x80);
    return r;
  };
  const name = () => {
    const n = leb();
    return b.toString("utf8", (i += n) - n, i);
  };
  const modules = new Set();
  while (i < b.length) {
    const id = b[i++];
    const size = leb();
    const end = i + size;
    if (id == 2) {
      for (let n = leb(); n > 0; n--) {
        modules.add(name());
        name();
        const kind = b[i++];
        if (kind == 0) leb();
        else if (kind == 1) (i++, b[i++] & 1 ? (leb(), leb()) : leb());
        else if (kind == 2) b[i++] & 1 ? (leb(), leb()) : leb();
        else if (kind == 3) i += 2;
        else throw new Error(`tools/glue.mjs: import kind ${kind} in ${file}`);
      }
      return modules;
    }
    i = end;
  }
  return modules;
}
let glue = readFileSync(input, "utf8");

/** Replaces `from` by `to` exactly once, or fails the build: the glue's shape changed. */
function once(from, to) {
  const n = glue.split(from).length - 1;
  if (n != 1) throw new Error(`tools/glue.mjs: expected "${from}" once in ${input}, found it ${n} times`);
  glue = glue.replace(from, to);
}

const names = [];
glue = glue.replace(/^export (class|function) (\w+)/gm, (_, kind, name) => {
  names.push(name);
  return `${kind} ${name}`;
});
once("export { initSync, __wbg_init as default };", "");
glue = glue.replace(/^\s*module_or_path = new URL\('[^']+', import\.meta\.url\);$/m, (line) => {
  names.push("");
  return line.replace(/new URL\([^)]*\)/, "undefined");
});
if (!names.includes("")) throw new Error(`tools/glue.mjs: the default wasm URL was not found in ${input}`);
// `initSync` is always given `{ module }` (js/bridge.js): the branch that warns of the older
// call form goes.
once(
  `    if (module !== undefined) {
        if (Object.getPrototypeOf(module) === Object.prototype) {
            ({module} = module)
        } else {
            console.warn('using deprecated parameters for \`initSync()\`; pass a single object instead')
        }
    }
`,
  `    ({module} = module);
`,
);
if (/import\.meta|^import |^export /m.test(glue)) throw new Error(`tools/glue.mjs: ${input} has imports or exports this script does not know`);
if (!/\blet wasmModule\b/.test(glue)) throw new Error(`tools/glue.mjs: ${input} has no wasmModule`);
if (!/\bwasm\.__wbindgen_externrefs\b/.test(glue)) throw new Error(`tools/glue.mjs: ${input} has no externref table`);

const exported = names.filter(Boolean);
glue +=
  `const kill = () => {\n` +
  `  const table = wasm.__wbindgen_externrefs;\n` +
  `  wasm = new Proxy({}, { get: () => () => 0 });\n` +
  `  return table;\n` +
  `};\n`;

if (namesFile) {
  // The first mapping printed (with --converge, the pass runs again, mapping the minified
  // names to themselves).
  const text = readFileSync(namesFile, "utf8");
  const { imports, exports } = JSON.parse(text.slice(0, text.indexOf("\n}\n") + 2));
  const modules = new Map();
  for (const [module, name, short] of imports) {
    // The import object's keys: `name: function(...)` (or `name: value`).
    const key = new RegExp(`^(\\s*)${name}:`, "m");
    if (!key.test(glue)) throw new Error(`tools/glue.mjs: import ${name} is not in ${input}`);
    glue = glue.replace(key, `$1${short}:`);
    modules.set(module, short);
  }
  // Every import is in one module, which wasm-opt renamed too.
  const renamed = [...importModules(wasmFile)];
  if (modules.size != 1 || renamed.length != 1) throw new Error(`tools/glue.mjs: expected one import module, found ${[...modules]} → ${renamed}`);
  once(`"${[...modules.keys()][0]}": import0`, `"${renamed[0]}": import0`);
  const shortExports = new Set();
  for (const [name, short] of exports) {
    glue = glue.replace(new RegExp(`\\bwasm\\.${name.replace(/\$/g, "\\$")}\\b`, "g"), `wasm.${short}`);
    shortExports.add(short);
  }
  for (const [, used] of glue.matchAll(/\bwasm\.([\w$]+)/g))
    if (!shortExports.has(used)) throw new Error(`tools/glue.mjs: the glue uses export ${used}, which the minified wasm does not have`);
}

// The minified names that esbuild's mangling of `_` members would otherwise rename, one per
// line, for the build's --reserve-props.
if (namesFile) {
  const text = readFileSync(namesFile, "utf8");
  const { imports, exports } = JSON.parse(text.slice(0, text.indexOf("\n}\n") + 2));
  const underscored = [...imports.map(([, , short]) => short), ...exports.map(([, short]) => short)].filter((n) => n.startsWith("_"));
  writeFileSync(output.replace(/\.js$/, ".reserved"), underscored.map((n) => n.replace(/\$/g, "\\$") + "\n").join(""));
}

writeFileSync(
  output,
  `// Generated by tools/glue.mjs from the output of wasm-bindgen; do not edit.\n` +
    `export function createModule() {\n${glue}\n` +
    `return { ${exported.join(", ")}, initSync, module: () => wasmModule, kill };\n}\n`,
);
