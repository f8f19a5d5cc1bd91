import assert from "node:assert/strict";
import { suite } from "./harness.mjs";

// Binary payloads are compared through plain(): ArrayBuffer -> { $ab: [bytes] },
// typed arrays -> { $view, bytes }, so the type that arrives is checked along with the bytes.

const TEXT = "日本語 — Ελληνικά — العربية — 😀👍🏽";

suite("payloads", ({ test }) => {
  test("binary nested in objects and arrays echoes back as ArrayBuffers", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      const obj = {
        a: 1,
        buf: new Uint8Array([1, 2, 3, 255]).buffer,
        list: [new Uint8Array([9, 8]), "x"],
      };
      const res = await new Promise((resolve) => {
        socket.emit("echo", obj, new Uint8Array([0, 128]).buffer, (...args) => resolve(args));
      });
      return plain(res);
    });
    assert.deepEqual(r, [
      { a: 1, buf: { $ab: [1, 2, 3, 255] }, list: [{ $ab: [9, 8] }, "x"] },
      { $ab: [0, 128] },
    ]);
  });

  test("a typed-array view sends only its own bytes", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      const view = new Uint8Array([0, 1, 2, 3, 4, 5]).subarray(2, 5);
      return plain(await socket.emitWithAck("echo", { view }));
    });
    assert.deepEqual(r, { view: { $ab: [2, 3, 4] } });
  });

  test("recorded binary is stored by the server", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      socket.emit("record", "bin", new Uint8Array([5, 6, 7]).buffer, { nested: [new Uint8Array([8])] });
      return plain(await socket.emitWithAck("recorded"));
    });
    assert.deepEqual(r, [["bin", { $ab: [5, 6, 7] }, { nested: [{ $ab: [8] }] }]]);
  });

  test("a server emit with binary arrives as ArrayBuffer", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      const p = waitFor(socket, "bin-back");
      socket.emit("emit-back", "bin-back", { n: 1, buf: new Uint8Array([1, 2, 3]).buffer }, new Uint8Array([4, 5]));
      return plain(await p);
    });
    assert.deepEqual(r, [{ n: 1, buf: { $ab: [1, 2, 3] } }, { $ab: [4, 5] }]);
  });

  test("non-Latin scripts and emoji survive both ways", async (page) => {
    const r = await page.run(async ({ url, text }) => {
      const socket = io(url);
      await connected(socket);
      const obj = { [text]: text, list: [text, "ß"] };
      const echoed = await new Promise((resolve) => {
        socket.emit("echo", text, obj, (...args) => resolve(args));
      });
      const event = "ünïcødé-事件-😀";
      const p = waitFor(socket, event);
      socket.emit("emit-back", event, text);
      const back = await p;
      return {
        echoed,
        sameInPage: echoed[0] === text && echoed[1][text] === text,
        back,
      };
    }, { text: TEXT });
    assert.deepEqual(r.echoed, [TEXT, { [TEXT]: TEXT, list: [TEXT, "ß"] }]);
    assert.equal(r.sameInPage, true);
    assert.deepEqual(r.back, [TEXT]);
  });

  test("a 64 KiB string echoes unchanged", async (page) => {
    const r = await page.run(async ({ url }) => {
      const socket = io(url);
      await connected(socket);
      // 16 UTF-16 units: ASCII, 2-, 3- and 4-byte UTF-8, and characters JSON must escape
      const unit = "abcdefgé日😀\"\\\n\tz";
      const big = unit.repeat(65536 / unit.length);
      const echoed = await socket.emitWithAck("echo", big);
      const p = waitFor(socket, "big");
      socket.emit("emit-back", "big", big);
      const [back] = await p;
      const firstDiff = (s) => {
        if (typeof s !== "string") return typeof s;
        for (let i = 0; i < Math.max(s.length, big.length); i++) if (s[i] !== big[i]) return i;
        return -1;
      };
      return {
        unitLength: unit.length,
        length: big.length,
        echoLength: echoed && echoed.length,
        echoDiff: firstDiff(echoed),
        backDiff: firstDiff(back),
      };
    });
    assert.equal(r.unitLength, 16);
    assert.equal(r.length, 65536);
    assert.equal(r.echoLength, 65536);
    assert.equal(r.echoDiff, -1, "echo identical");
    assert.equal(r.backDiff, -1, "server emit identical");
  });
});
