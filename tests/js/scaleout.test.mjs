// Scale-out: two rtio-server instances sharing rooms through Redis (`--redis`, socketioxide's
// Redis adapter), each serving the cursors demo. Visitors on different instances, in the same
// room, see each other's presence and cursors; a visitor in another room sees neither.
//
// Starts its own redis-server (no persistence, 127.0.0.1, a free port) and two Rust servers,
// and stops them by PID when done. redis-server must be on PATH: tools/setup.sh installs it.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  assertClean,
  cursorsOf,
  memberIds,
  membersOf,
  openDemo,
  startRedis,
  startRustServer,
  uniqueRoom,
  waitCursor,
  waitMembers,
} from "./demo-pages.mjs";

const TEST_MS = 40_000;
const SEE_CURSOR_MS = 500;

let redis;
let one;
let two;
before(async () => {
  redis = await startRedis();
  [one, two] = await Promise.all([
    startRustServer(["--redis", redis.url]),
    startRustServer(["--redis", redis.url]),
  ]);
});
after(async () => {
  await Promise.all([one?.stop(), two?.stop()]);
  await redis?.stop();
});

let open = [];
async function visit(base, room, me) {
  const v = await openDemo(base, room, me);
  open.push(v);
  return v;
}
const test = (name, body) =>
  it(name, { timeout: TEST_MS }, async () => {
    try {
      await body();
    } finally {
      await Promise.all(open.map((v) => v.close()));
      open = [];
    }
  });

describe("cursors demo on two servers sharing Redis", () => {
  test("presence and cursors cross instances; another room on either instance stays apart", async () => {
    assert.notEqual(one.url, two.url);
    const room = uniqueRoom("scale");
    const a = await visit(one.url, room, { name: "Ada", color: "#e5484d" });
    const b = await visit(two.url, room, { name: "Bob", color: "#0090ff" });
    const c = await visit(two.url, uniqueRoom("apart"), { name: "Cy", color: "#30a46c" });

    // B's join answer lists A (on the other instance); A hears B join through Redis.
    await waitMembers(b.page, [a.id, b.id]);
    await waitMembers(a.page, [a.id, b.id]);
    assert.deepEqual(
      (await membersOf(b.page)).map((m) => [m.name, m.self]),
      [["Bob", true], ["Ada", false]],
    );
    await waitMembers(c.page, [c.id]);

    await a.page.mouse.move(250, 180);
    const ab = await waitCursor(b.page, a.id, 250, 180, SEE_CURSOR_MS);
    await b.page.mouse.move(640, 420);
    const ba = await waitCursor(a.page, b.id, 640, 420, SEE_CURSOR_MS);
    await a.page.mouse.move(300, 300);
    const moved = await waitCursor(b.page, a.id, 300, 300, SEE_CURSOR_MS);
    console.log(`across instances: cursor seen after ${ab} ms (one -> two), ${ba} ms (two -> one), ${moved} ms (move)`);

    // A rename on one instance reaches the other.
    await a.page.fill("#name", "Ada L.");
    await a.page.press("#name", "Enter");
    await b.page.waitForFunction(
      (id) => document.querySelector(`#members [data-member-id="${id}"] .member-name`)?.textContent === "Ada L.",
      a.id,
      { timeout: 3000 },
    );

    await c.page.mouse.move(400, 400);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await cursorsOf(c.page), []);
    assert.deepEqual(await memberIds(c.page), [c.id]);
    for (const v of [a, b]) assert.ok(!(await memberIds(v.page)).includes(c.id));
    assertClean(a, b, c);
  });

  test("a visitor on one instance who leaves disappears from the list and cursors on the other", async () => {
    const room = uniqueRoom("scale-leave");
    const a = await visit(one.url, room);
    const b = await visit(two.url, room);
    const d = await visit(two.url, room);
    await waitMembers(b.page, [a.id, b.id, d.id]);
    await a.page.mouse.move(333, 222);
    await waitCursor(b.page, a.id, 333, 222, SEE_CURSOR_MS);
    await a.close();
    await waitMembers(b.page, [b.id, d.id]);
    await waitMembers(d.page, [b.id, d.id]);
    await b.page.waitForFunction((id) => !document.querySelector(`#cursors [data-member-id="${id}"]`), a.id, { timeout: 2000 });
    // A newcomer on the first instance gets the members of the other one in its join answer.
    const e = await visit(one.url, room);
    await waitMembers(e.page, [b.id, d.id, e.id]);
    await waitMembers(b.page, [b.id, d.id, e.id]);
    assertClean(b, d, e);
  });
});
