// The code snippets of README.md, each announced by an HTML comment that says how it is tested:
//   <!-- run in the browser tests -->        tests/js/readme.test.mjs runs it (JavaScript)
//   <!-- type-checked in the Vite app test --> tests/js/vite.test.mjs compiles it in the app (TypeScript)
//   <!-- excerpt of PATH -->                  its lines appear, in order, in PATH (compiled and tested code)

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The README's tested snippets: `{ how, file, lang, code }` (`file` for excerpts). */
export function readmeSnippets(readme = path.join(REPO, "README.md")) {
  const text = readFileSync(readme, "utf8");
  const re = /<!-- (run in the browser tests|type-checked in the Vite app test|excerpt of (\S+)) -->\s*\n```(\w+)\n([\s\S]*?)\n```/g;
  const out = [];
  for (const m of text.matchAll(re)) {
    const how = m[2] ? "excerpt" : m[1].startsWith("run") ? "run" : "tsc";
    out.push({ how, file: m[2], lang: m[3], code: m[4] });
  }
  return out;
}

/** The one snippet tested `how` (for "run" and "tsc"); throws if there is not exactly one. */
export function readmeSnippet(how) {
  const all = readmeSnippets().filter((s) => s.how === how);
  if (all.length !== 1) throw new Error(`README.md should have one snippet marked "${how}", found ${all.length}`);
  return all[0];
}
