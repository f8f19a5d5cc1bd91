// The Rust chat examples (examples/leptos-chat, examples/yew-chat) in headless Chromium. Both
// are the same app (the shared contract: #status, #toggle, section#chat with ul#messages,
// form#send, #ack and ul#members, and window.rtioListeners()), so one scenario drives each.
//
// Each app is served by an rtio-server of its own (`--port 0 --static <dist> --no-sessions`: the
// apps take their name from the URL, not from a session), stopped by PID
// when the file's tests end. The apps must be built first (`examples/<app>-chat/build.sh`);
// a missing build fails the app's tests.
//
// The Leptos app is also tested server-rendered: its `render` binary (feature `ssr`, on the
// host) renders the page with no connection, and the page's wasm (feature `hydrate`) takes it
// over and connects (`examples/leptos-chat/build-ssr.sh`, into examples/leptos-chat/dist-ssr).
//
// Environment:
//   RTIO_CHAT_APPS         apps to test, comma-separated (default "leptos,yew")
//   RTIO_CHAT_DIST_<APP>   built app of <APP> (upper-case), default examples/<app>-chat/dist;
//                          RTIO_CHAT_DIST_LEPTOS_SSR, the server-rendered Leptos app
//   RTIO_RUST_SERVER_BIN   server binary (default <CARGO_TARGET_DIR or repo/target>/debug/rtio-server)
//   RTIO_CHROMIUM          browser executable (default /usr/bin/chromium)

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { REPO, browser, startRustServer, uniqueRoom } from "./demo-pages.mjs";

const APPS = (process.env.RTIO_CHAT_APPS ?? "leptos,yew")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);
const TEST_MS = 60_000;
const WAIT_MS = 10_000;
const TOGGLES = 5;

function distOf(app) {
  const key = `RTIO_CHAT_DIST_${app.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
  return { key, dir: path.resolve(REPO, process.env[key] || path.join("examples", `${app}-chat`, "dist")) };
}

// ---------------------------------------------------------------------------------------------
// Visitors: one page each, in a browser context of its own.

async function visit(base, room, name, query = `?name=${encodeURIComponent(name)}&room=${encodeURIComponent(room)}`) {
  const b = await browser();
  const context = await b.newContext();
  const errors = [];
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on("pageerror", (e) => errors.push(String(e.stack || e)));
    page.on("crash", () => errors.push("page crashed"));
    // A failed request is reported with its URL (the console's own line has none); the
    // browser's favicon request is not the app's.
    page.on("console", (msg) => {
      if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) errors.push(msg.text());
    });
    page.on("response", (r) => {
      if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico") errors.push(`HTTP ${r.status()} ${r.url()}`);
    });
    page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
    await page.goto(`${base}/${query}`);
    return { name, page, context, errors, close: () => context.close().catch(() => {}) };
  } catch (err) {
    await context.close().catch(() => {});
    throw err;
  }
}

/** What the page shows: the parts of the contract the scenario reads. */
function snapshot(v) {
  return v.page
    .evaluate(() => {
      const texts = (sel) => [...document.querySelectorAll(sel)].map((li) => li.textContent.trim());
      return {
        status: document.querySelector("#status")?.textContent.trim() ?? null,
        chat: document.querySelector("section#chat") !== null,
        members: texts("#members li"),
        messages: texts("#messages li"),
        ack: document.querySelector("#ack")?.textContent.trim() ?? null,
      };
    })
    .catch((e) => ({ error: String(e) }));
}

/** Polls `v`'s page until `pred(snapshot)` holds; fails with `what` and the last snapshot. */
async function waitFor(v, what, pred, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await snapshot(v);
    if (!last.error && pred(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `${v.name}: timed out after ${timeout} ms waiting for ${what}; the page shows ${JSON.stringify(last)}` +
          (v.errors.length ? `\npage errors:\n  ${v.errors.join("\n  ")}` : ""),
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sorted = (a) => [...a].sort();
const sameMembers = (names) => (s) =>
  JSON.stringify(sorted(s.members)) === JSON.stringify(sorted(names));

/** window.rtioListeners() of the page; fails if the app does not expose it. */
async function listeners(v) {
  const n = await v.page.evaluate(() =>
    typeof window.rtioListeners === "function" ? window.rtioListeners() : "missing",
  );
  assert.ok(Number.isInteger(n), `${v.name}: window.rtioListeners() should return an integer, got ${JSON.stringify(n)}`);
  return n;
}

/** Polls window.rtioListeners() until it is `want`; fails with the last count. */
async function waitListeners(v, want, what, timeout = 3000) {
  const deadline = Date.now() + timeout;
  let n;
  while ((n = await listeners(v)) !== want) {
    if (Date.now() > deadline) {
      assert.fail(`${v.name}: ${what}: window.rtioListeners() is ${n}, expected ${want} (waited ${timeout} ms)`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function send(v, text) {
  await v.page.fill("#text", text);
  await v.page.locator("#send button").first().click();
}

function assertClean(...visitors) {
  for (const v of visitors) {
    assert.deepEqual(v.errors, [], `${v.name}: the page reported errors`);
  }
}

// ---------------------------------------------------------------------------------------------

for (const app of APPS) {
  describe(`${app} chat (examples/${app}-chat)`, () => {
    const { key, dir } = distOf(app);
    let server;
    let open = [];

    // The app's server, started by the first test that needs it (each test fails on its own,
    // with the reason, if the app is not built or the server does not start).
    let starting;
    function serve() {
      starting ??= (async () => {
        if (!existsSync(path.join(dir, "index.html"))) {
          throw new Error(
            `the ${app} chat is not built: ${path.join(dir, "index.html")} is missing. ` +
              `Build it with examples/${app}-chat/build.sh (or point ${key} at a built dist).`,
          );
        }
        server = await startRustServer(["--static", dir, "--no-sessions"]);
        return server;
      })();
      return starting;
    }
    after(() => server?.stop());

    // Ada and Bob in a fresh room, both connected and listing each other.
    async function pair(prefix) {
      const room = uniqueRoom(`${app}-${prefix}`);
      const ada = await visit(server.url, room, "Ada");
      open.push(ada);
      const bob = await visit(server.url, room, "Bob");
      open.push(bob);
      for (const v of [ada, bob]) {
        await waitFor(v, "#status to read connected", (s) => s.status === "connected");
        await waitFor(v, "#members to list Ada and Bob", sameMembers(["Ada", "Bob"]));
      }
      return { ada, bob };
    }

    const test = (name, body) =>
      it(name, { timeout: TEST_MS }, async () => {
        try {
          await serve();
          await body();
        } finally {
          await Promise.all(open.map((v) => v.close()));
          open = [];
        }
      });

    test("serves the app: #status goes to connected and each visitor lists both in #members", async () => {
      const { ada, bob } = await pair("presence");
      for (const v of [ada, bob]) {
        const s = await snapshot(v);
        assert.equal(s.status, "connected");
        assert.ok(s.chat, `${v.name}: section#chat is mounted`);
        assert.deepEqual(sorted(s.members), ["Ada", "Bob"], `${v.name}: one #members li per member`);
        assert.deepEqual(s.messages, [], `${v.name}: no messages yet`);
      }
      assertClean(ada, bob);
    });

    test("a message reaches the other visitor with the sender's name, the sender sees the ack; an empty one is rejected", async () => {
      const { ada, bob } = await pair("chat");
      const first = `hello ${Math.random().toString(36).slice(2, 8)}`;
      await send(ada, first);
      await waitFor(bob, `"Ada: ${first}" in #messages`, (s) => s.messages.includes(`Ada: ${first}`));
      const acked = await waitFor(ada, "#ack to read delivered at <number>", (s) => /^delivered at \d+$/.test(s.ack));
      const at = Number(acked.ack.slice("delivered at ".length));
      assert.ok(Math.abs(at - Date.now()) < 60_000, `the ack's time ${at} is the server's clock (ms)`);
      await waitFor(ada, "her own message in #messages once delivered", (s) => s.messages.includes(`Ada: ${first}`));

      await send(ada, "");
      await waitFor(ada, "#ack to read rejected: <reason>", (s) => /^rejected: \S/.test(s.ack));

      // Messages pass in order: once the next one is there, the rejected one did not pass.
      const second = `again ${Math.random().toString(36).slice(2, 8)}`;
      await send(bob, second);
      await waitFor(ada, `"Bob: ${second}" in #messages`, (s) => s.messages.includes(`Bob: ${second}`));
      await waitFor(bob, "#ack to read delivered at <number>", (s) => /^delivered at \d+$/.test(s.ack));
      assert.deepEqual((await snapshot(bob)).messages, [`Ada: ${first}`, `Bob: ${second}`]);
      assert.deepEqual((await snapshot(ada)).messages, [`Ada: ${first}`, `Bob: ${second}`]);
      assertClean(ada, bob);
    });

    test(`unmounting the chat releases its listeners and leaves the room; ${TOGGLES} more toggles do not grow them; remounted, it is listed and chats again`, async () => {
      const { ada, bob } = await pair("toggle");
      const mounted = await listeners(ada);

      await ada.page.click("#toggle");
      await waitFor(ada, "section#chat to unmount", (s) => !s.chat);
      await waitFor(bob, "#members to drop Ada after her chat unmounted", sameMembers(["Bob"]));
      const unmounted = await listeners(ada);
      assert.ok(
        mounted > unmounted,
        `the mounted chat registers listeners: ${mounted} mounted, ${unmounted} unmounted`,
      );
      console.log(`${app}: window.rtioListeners() is ${mounted} with the chat mounted, ${unmounted} without`);
      assert.equal((await snapshot(ada)).status, "connected", "the socket (at the root) stays connected");

      for (let i = 1; i <= TOGGLES; i++) {
        await ada.page.click("#toggle");
        const shown = i % 2 === 1;
        await waitFor(ada, `section#chat to ${shown ? "mount" : "unmount"} (toggle ${i})`, (s) => s.chat === shown);
        await waitListeners(ada, shown ? mounted : unmounted, `after toggle ${i} (${shown ? "mounted" : "unmounted"})`);
      }
      assert.equal(TOGGLES % 2, 1, "the toggles end with the chat mounted");

      await waitFor(bob, "#members to list Ada again after her chat remounted", sameMembers(["Ada", "Bob"]));
      await waitFor(ada, "#members to list Ada and Bob after the remount", sameMembers(["Ada", "Bob"]));
      const text = `back ${Math.random().toString(36).slice(2, 8)}`;
      await send(bob, text);
      await waitFor(ada, `"Bob: ${text}" in the remounted chat`, (s) => s.messages.includes(`Bob: ${text}`));
      const reply = `welcome ${Math.random().toString(36).slice(2, 8)}`;
      await send(ada, reply);
      await waitFor(bob, `"Ada: ${reply}" from the remounted chat`, (s) => s.messages.includes(`Ada: ${reply}`));
      await waitFor(ada, "#ack to read delivered at <number>", (s) => /^delivered at \d+$/.test(s.ack));
      // One listener per event: the remounted chat shows each message once.
      assert.deepEqual((await snapshot(ada)).messages, [`Bob: ${text}`, `Ada: ${reply}`]);
      assert.equal(await listeners(ada), mounted, "no listener added by chatting");
      assertClean(ada, bob);
    });

    test("closing a visitor's page removes it from the other's #members", async () => {
      const { ada, bob } = await pair("close");
      await bob.close();
      await waitFor(ada, "#members to drop Bob after his page closed", sameMembers(["Ada"]));
      assert.equal((await snapshot(ada)).status, "connected");
      assertClean(ada);
    });
  });
}

if (APPS.includes("leptos")) {
  describe("leptos chat, server-rendered (examples/leptos-chat/build-ssr.sh)", () => {
    const dir = path.resolve(REPO, process.env.RTIO_CHAT_DIST_LEPTOS_SSR || path.join("examples", "leptos-chat", "dist-ssr"));
    let server;
    after(() => server?.stop());

    it("the server's render arrives without a connection; the page hydrates it, connects, lists its visitor and chats", { timeout: TEST_MS }, async () => {
      assert.ok(
        existsSync(path.join(dir, "index.html")),
        `the server-rendered Leptos chat is not built: ${path.join(dir, "index.html")} is missing. Build it with examples/leptos-chat/build-ssr.sh.`,
      );
      server = await startRustServer(["--static", dir, "--no-sessions"]);
      // The render, as the server gave it: the first view, not connected.
      const html = await (await fetch(`${server.url}/`)).text();
      assert.match(html, /<p id="status" class="connecting">connecting<\/p>/, "the render shows the state before connecting");
      assert.match(html, /Room <b>lobby<\/b> as <b>guest<\/b>/, "the render has the app's defaults");
      assert.match(html, /<section id="chat">.*<ul id="members">/s, "the render has the chat's markup");

      // No query parameters: the page's first view is the render's, so hydration matches.
      const guest = await visit(server.url, "lobby", "guest", "");
      try {
        await waitFor(guest, "#status to read connected", (s) => s.status === "connected");
        await waitFor(guest, "#members to list the visitor", sameMembers(["guest"]));
        const counts = await guest.page.evaluate(() => ({
          status: document.querySelectorAll("#status").length,
          chat: document.querySelectorAll("section#chat").length,
        }));
        assert.deepEqual(counts, { status: 1, chat: 1 }, "hydrated in place: one app on the page, not a second one mounted beside the render");
        const text = `hydrated ${Math.random().toString(36).slice(2, 8)}`;
        await send(guest, text);
        await waitFor(guest, "#ack to read delivered at <number>", (s) => /^delivered at \d+$/.test(s.ack));
        await waitFor(guest, "the message in #messages", (s) => s.messages.includes(`guest: ${text}`));
        const mounted = await listeners(guest);
        await guest.page.click("#toggle");
        await waitFor(guest, "section#chat to unmount", (s) => !s.chat);
        assert.ok((await listeners(guest)) < mounted, "the hydrated chat's listeners go when it unmounts");
        assertClean(guest);
      } finally {
        await guest.close();
      }
    });
  });
}

if (APPS.length === 0) {
  it("RTIO_CHAT_APPS names at least one app", () => {
    assert.fail(`RTIO_CHAT_APPS is empty (${JSON.stringify(process.env.RTIO_CHAT_APPS)})`);
  });
}
