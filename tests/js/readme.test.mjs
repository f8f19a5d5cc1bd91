import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO, suite } from "./harness.mjs";
import { readmeSnippet, readmeSnippets } from "./readme-snippets.mjs";

// README.md's snippets are tested: the JavaScript one runs here in Chromium against the Rust
// server (which has the `chat` event), the TypeScript one is compiled by the Vite app test, and
// the Rust, Leptos and Yew ones are excerpts of code that is compiled and tested elsewhere.

/** Lines that matter: trimmed, without blank lines and `// ...` elisions. */
const lines = (code) =>
  code
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && l !== "// ..." && l !== "...");

describe("README snippets", () => {
  const all = readmeSnippets();

  it("the README has the tested snippets: JavaScript, TypeScript, Rust, its logger, Leptos, Yew", () => {
    assert.deepEqual(
      all.map((s) => s.how + ":" + s.lang),
      ["run:js", "tsc:ts", "excerpt:rust", "excerpt:rust", "excerpt:rust", "excerpt:rust"],
    );
    const files = all.filter((s) => s.how === "excerpt").map((s) => s.file);
    assert.ok(files.some((f) => f.startsWith("examples/leptos-chat/")), "a Leptos excerpt");
    assert.ok(files.some((f) => f.startsWith("examples/yew-chat/")), "a Yew excerpt");
  });

  for (const s of all.filter((s) => s.how === "excerpt")) {
    it(`the excerpt of ${s.file} is in that file, in order`, () => {
      const source = lines(readFileSync(path.join(REPO, s.file), "utf8"));
      let at = 0;
      for (const l of lines(s.code)) {
        const i = source.indexOf(l, at);
        assert.ok(i >= 0, `README line not found (in order) in ${s.file}:\n  ${l}`);
        at = i + 1;
      }
    });
  }
});

// The `chat` event is the Rust server's (examples/server).
suite("README JavaScript snippet", ({ test }) => {
  test("runs: connects, sends a chat message with an ack, logs what others send", async (page) => {
    const { code } = readmeSnippet("run");
    assert.match(code, /from "rtio"/);
    assert.match(code, /"http:\/\/127\.0\.0\.1:3000"/);
    const logs = await page.run(
      async ({ url, code }) => {
        const logs = [];
        const log = console.log;
        console.log = (...args) => logs.push(args.join(" "));
        try {
          const src = code
            .replace(`from "rtio"`, `from "${new URL("/pkg/index.js", location.href)}"`)
            .replace(`"http://127.0.0.1:3000"`, JSON.stringify(url));
          const blob = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
          await import(blob);
          // Another client says something: the snippet's listener logs it.
          const bob = io(url, { forceNew: true });
          await connected(bob);
          await bob.emitWithAck("chat", { name: "Bob", text: "hi Ada" });
          await until(() => logs.some((l) => l === "Bob: hi Ada"));
          bob.disconnect();
          return logs;
        } finally {
          console.log = log;
        }
      },
      { code },
      { timeout: 10_000 },
    );
    assert.ok(logs.some((l) => /^connected as \S+$/.test(l)), logs.join("\n"));
    assert.ok(logs.some((l) => /^delivered at \d+$/.test(l)), logs.join("\n"));
    assert.ok(logs.includes("Bob: hi Ada"), logs.join("\n"));
  });
}, { servers: ["rust"] });
