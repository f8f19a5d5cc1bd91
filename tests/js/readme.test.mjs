import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO, suite } from "./harness.mjs";
import { readmeSnippet, readmeSnippets } from "./readme-snippets.mjs";

// The READMEs' snippets are tested. README.md's JavaScript one runs here in Chromium against
// the Rust server (which has the `chat` event) and its TypeScript one is compiled by the Vite
// app test; the crate's README (src/README.md: the Rust API, its logger, Leptos, Yew) is made of
// excerpts of code that is compiled and tested elsewhere.

/** Lines that matter: trimmed, without blank lines and `// ...` elisions. */
const lines = (code) =>
  code
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && l !== "// ..." && l !== "...");

const CRATE_README = path.join(REPO, "src", "README.md");

describe("README snippets", () => {
  const all = [...readmeSnippets(), ...readmeSnippets(CRATE_README)];

  it("README.md has the JavaScript and TypeScript snippets", () => {
    assert.deepEqual(
      readmeSnippets().map((s) => s.how + ":" + s.lang),
      ["run:js", "tsc:ts"],
    );
  });

  it("the crate's README has the tested snippets: Rust, its logger, Leptos, Yew", () => {
    const crate = readmeSnippets(CRATE_README);
    assert.deepEqual(
      crate.map((s) => s.how + ":" + s.lang),
      ["excerpt:rust", "excerpt:rust", "excerpt:rust", "excerpt:rust"],
    );
    const files = crate.map((s) => s.file);
    assert.ok(files.includes("examples/leptos-chat/tests/hooks.rs"), "a Leptos excerpt, of the hooks' test");
    assert.ok(files.includes("examples/yew-chat/tests/hooks.rs"), "a Yew excerpt, of the hooks' test");
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
