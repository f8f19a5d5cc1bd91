// Type tests of the package's declarations (js/*.d.ts): `tsc -p tests/types` must report
// nothing. Each wrong call in tests/types/*.ts is preceded by `// @ts-expect-error`, so types
// that stop rejecting it make tsc fail ("Unused '@ts-expect-error' directive"). The other
// tests prove the check can fail: with the directives taken out every marked line, and only
// those, is an error; a directive on a correct call, or a wrong call without one, is reported.
// Last, the declarations are checked as the package ships them: every export of the JS entries
// is declared as a value, through package.json's `exports`, with bundler and Node resolution;
// and the READMEs' TypeScript snippets type-check.
//
// Run: node --test tests/js/types.test.mjs (needs `npm install` in tests/ for typescript).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tsc = join(root, "tests/node_modules/.bin/tsc");
const types = join(root, "tests/types");
const modules = join(root, "tests/node_modules");

const DIRECTIVE = /^\s*\/\/ @ts-expect-error\b/;

/** The test files and, for each, its lines and the indexes (from 0) of the lines that follow a directive. */
const files = readdirSync(types)
  .filter((f) => f.endsWith(".ts"))
  .sort()
  .map((name) => {
    const lines = readFileSync(join(types, name), "utf8").split("\n");
    const marked = [];
    lines.forEach((l, i) => DIRECTIVE.test(l) && marked.push(i + 1));
    return { name, lines, marked };
  });
const expectErrors = files.reduce((n, f) => n + f.marked.length, 0);

/**
 * Lines of correct code: not blank, not a comment, not an import, not inside an interface,
 * not a lone closing bracket, and not a line marked as wrong.
 */
function correctLines(f) {
  let n = 0,
    inInterface = false;
  const marked = new Set(f.marked);
  f.lines.forEach((l, i) => {
    const t = l.trim();
    if (/^(export )?interface\b/.test(t)) inInterface = !t.endsWith("}");
    else if (inInterface) inInterface = t !== "}";
    else if (t && !t.startsWith("//") && !t.startsWith("/**") && !t.startsWith("*") && !/^import\b/.test(t) && !/^[)}\]]+[;,)]*$/.test(t) && !marked.has(i)) n++;
  });
  return n;
}
const positive = files.reduce((n, f) => n + correctLines(f), 0);

/** Runs tsc; resolves with its exit code, output and the errors as { file, line, code, text }. */
function runTsc(args) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    execFile(tsc, [...args, "--pretty", "false"], { cwd: root, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const out = stdout + stderr;
      const errors = [];
      for (const m of out.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$/gm))
        errors.push({ file: m[1].split(/[\\/]/).pop(), line: +m[2], code: m[3], text: m[4] });
      resolve({ code: err ? err.code ?? 1 : 0, out, errors, ms: Math.round(performance.now() - t0) });
    });
  });
}

/**
 * A tsconfig in `dir` like tests/types/tsconfig.json, but with absolute paths: to the
 * declarations in js/, and to the tests' node_modules for socket.io and Node's types.
 */
function tsconfig(dir, names) {
  const config = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "bundler",
      lib: ["ES2022", "DOM"],
      types: ["node"],
      typeRoots: [join(modules, "@types")],
      paths: {
        rtio: [join(root, "js/index.d.ts")],
        "rtio/sse": [join(root, "js/sse.d.ts")],
        "rtio/ws": [join(root, "js/ws.d.ts")],
        "rtio/server": [join(root, "js/server.d.ts")],
        "socket.io": [join(modules, "socket.io")],
      },
    },
    files: names,
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(config, null, 2));
}

/** Writes the test files into a new directory outside the repository, `edit` changing their lines. */
function copy(edit = (name, lines) => lines) {
  const dir = mkdtempSync(join(tmpdir(), "rtio-types-"));
  for (const f of files) writeFileSync(join(dir, f.name), edit(f.name, [...f.lines]).join("\n"));
  tsconfig(
    dir,
    files.map((f) => f.name),
  );
  return dir;
}

const summary = `${files.length} files, ${expectErrors} @ts-expect-error cases, ${positive} lines of correct code`;

test(`tsc -p tests/types reports nothing (${summary})`, async (t) => {
  const { code, out, ms } = await runTsc(["-p", types]);
  const version = (await new Promise((r) => execFile(tsc, ["--version"], (e, o) => r(String(o).trim())))) || "tsc";
  t.diagnostic(`tsc ${version.replace(/^Version /, "")}; ${summary}; ${ms} ms`);
  for (const f of files) t.diagnostic(`${f.name}: ${f.marked.length} expected errors, ${correctLines(f)} correct lines`);
  assert.ok(expectErrors >= 50, `only ${expectErrors} @ts-expect-error cases`);
  assert.equal(code, 0, "tsc reported:\n" + out);
  assert.equal(out.trim(), "", "tsc printed:\n" + out);
});

test("without the directives, each marked line is an error, and no other line", async (t) => {
  // A directive line becomes blank, so line numbers stay the same.
  const dir = copy((name, lines) => lines.map((l) => (DIRECTIVE.test(l) ? "" : l)));
  try {
    const { errors } = await runTsc(["-p", dir]);
    const at = new Map();
    for (const e of errors) {
      const key = e.file + ":" + e.line;
      at.set(key, [...(at.get(key) || []), e]);
    }
    const codes = {};
    for (const f of files)
      for (const line of f.marked) {
        const found = at.get(f.name + ":" + (line + 1));
        assert.ok(found, `${f.name}:${line + 1} is marked as an error but compiles: ${f.lines[line].trim()}`);
        for (const e of found) codes[e.code] = (codes[e.code] || 0) + 1;
        at.delete(f.name + ":" + (line + 1));
      }
    assert.deepEqual([...at.values()].flat(), [], "errors on lines that are not marked");
    t.diagnostic(`errors by code: ${JSON.stringify(codes)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a wrong call without its directive fails the check", async () => {
  const f = files.find((x) => x.name === "socket.ts");
  const line = f.lines.findIndex((l) => l.trim() === 'socket.emit("chat", 42);');
  assert.ok(line > 0 && DIRECTIVE.test(f.lines[line - 1]), "socket.ts has the marked wrong call");
  const dir = copy((name, lines) => (name === "socket.ts" ? lines.map((l, i) => (i === line - 1 ? "" : l)) : lines));
  try {
    const { code, errors } = await runTsc(["-p", dir]);
    assert.notEqual(code, 0);
    assert.deepEqual(
      errors.map((e) => [e.file, e.line, e.code]),
      [["socket.ts", line + 1, "TS2345"]],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a directive on a correct call fails the check (types that stop rejecting a wrong call)", async () => {
  const f = files.find((x) => x.name === "socket.ts");
  const line = f.lines.findIndex((l) => l.trim() === 'socket.emit("chat", "hi");');
  assert.ok(line > 0, "socket.ts has the correct call");
  const dir = copy((name, lines) => {
    if (name === "socket.ts") lines.splice(line, 0, "// @ts-expect-error: pretend this is wrong");
    return lines;
  });
  try {
    const { code, errors } = await runTsc(["-p", dir]);
    assert.notEqual(code, 0);
    assert.deepEqual(
      errors.map((e) => [e.file, e.line, e.code]),
      [["socket.ts", line + 1, "TS2578"]],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The names a JS entry exports (`export function|class|const X`, `export { a as b }`, `export default`). */
function jsExports(file) {
  const src = readFileSync(join(root, "js", file), "utf8");
  const names = new Set();
  for (const m of src.matchAll(/^export (?:async )?(?:function|class|const|let) (\w+)/gm)) names.add(m[1]);
  for (const m of src.matchAll(/^export \{([^}]*)\}/gm))
    for (const part of m[1].split(",")) names.add(part.trim().split(/\s+as\s+/).pop());
  if (/^export default /m.test(src)) names.add("default");
  return [...names].filter(Boolean).sort();
}

test("the package's declarations: every JS export, through `exports`, with bundler, node16 and nodenext resolution", async (t) => {
  const pkg = JSON.parse(readFileSync(join(root, "pkg-template/package.json"), "utf8"));
  const dir = mkdtempSync(join(tmpdir(), "rtio-types-pkg-"));
  try {
    // The package as tools/build.sh makes it, declarations only: the .d.ts files it lists.
    const at = join(dir, "node_modules/rtio");
    mkdirSync(at, { recursive: true });
    writeFileSync(join(at, "package.json"), JSON.stringify(pkg));
    for (const f of pkg.files.filter((f) => f.endsWith(".d.ts"))) copyFileSync(join(root, "js", f), join(at, f));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    let src = "",
      n = 0;
    for (const [spec, exp] of Object.entries(pkg.exports)) {
      // The wasm files and package.json are exported as files, not modules.
      if (typeof exp == "string") continue;
      const file = exp.import.replace(/^\.\//, "");
      const names = jsExports(file);
      const id = "rtio" + spec.slice(1);
      // Each export imported and used as a value: a name declared as a type only fails.
      const named = names.filter((x) => x !== "default");
      const local = (x) => `v${n}_${x}`;
      src += `import ${names.includes("default") ? local("default") + ", " : ""}{ ${named.map((x) => `${x} as ${local(x)}`).join(", ")} } from "${id}";\n`;
      src += `void [${names.map(local).join(", ")}];\n`;
      t.diagnostic(`${id}: ${names.join(", ")}`);
      n++;
    }
    // Not an entry of the package.
    src += '// @ts-expect-error: rtio/stream is not exported\nimport type { StreamClient } from "rtio/stream";\n';
    // Types only: index.js exports no Emitter or Room.
    src += 'import { Room, type Emitter } from "rtio";\n// @ts-expect-error: Room is a type, not a value\nvoid Room;\nlet e: Emitter<{}> | undefined;\nvoid e;\n';
    writeFileSync(join(dir, "main.ts"), src);
    const base = { strict: true, noEmit: true, target: "ES2022", lib: ["ES2022", "DOM"], types: [], skipLibCheck: false };
    for (const opts of [
      { module: "ESNext", moduleResolution: "bundler" },
      { module: "node16", moduleResolution: "node16" },
      { module: "nodenext", moduleResolution: "nodenext" },
    ]) {
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...base, ...opts }, files: ["main.ts"] }));
      const { code, out } = await runTsc(["-p", dir]);
      assert.equal(code, 0, `${opts.moduleResolution}: tsc reported:\n${out}\n${src}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the TypeScript snippets of the READMEs type-check against js/*.d.ts, their `// error` lines as errors", async (t) => {
  const snippets = [];
  for (const file of ["README.md", "pkg-template/README.md"]) {
    const md = readFileSync(join(root, file), "utf8");
    for (const m of md.matchAll(/```ts\n([\s\S]*?)\n```/g))
      // A line whose comment says `error` must be one: it gets a directive.
      snippets.push(m[1].replace(/^(.*\/\/ error\b.*)$/gm, "// @ts-expect-error\n$1"));
  }
  t.diagnostic(`${snippets.length} snippets`);
  if (!snippets.length) return;
  const dir = mkdtempSync(join(tmpdir(), "rtio-types-readme-"));
  try {
    // Each snippet a module of its own (they may use top-level await).
    const names = snippets.map((src, i) => {
      writeFileSync(join(dir, `readme${i}.ts`), src + "\nexport {};\n");
      return `readme${i}.ts`;
    });
    tsconfig(dir, names);
    const { code, out } = await runTsc(["-p", dir]);
    assert.equal(code, 0, "tsc reported:\n" + out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
