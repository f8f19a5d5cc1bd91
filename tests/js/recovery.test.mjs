// Connection-state recovery. A socket goes through tests/servers/proxy.mjs to a server of the
// test's own; the link is cut and kept down (blackhole) while a second client, connected
// straight to the server, has events sent to the first. The Node server runs with socket.io's
// connectionStateRecovery, so those events must arrive after the reconnect, with the same id
// and `recovered` true. socketioxide has no recovery: the socket must come back as a new one,
// and say so. The sockets start on polling, as socket.io-client's do; each test waits for the
// upgrade before it cuts. A long-poll GET cut on a kept-alive connection is sent again by the
// browser on a new one, unseen by the page: through a blackhole that one hangs until the
// heartbeat gives up, and through a plain cut it simply goes on, so no reconnect is seen.
import { after } from "node:test";
import assert from "node:assert/strict";
import { suite, startTestServer } from "./harness.mjs";
import { startProxy } from "../servers/proxy.mjs";

suite("connection-state recovery", ({ test, server }) => {
  const recovers = server === "node";
  let proxy, direct;
  const setup = async () => {
    if (!proxy) {
      direct = await startTestServer(server, recovers ? ["--recovery"] : []);
      proxy = await startProxy({ target: new URL(direct).host });
    }
    proxy.restore();
    return proxy;
  };
  after(() => proxy?.close());

  const name = recovers
    ? "events emitted during a short cut arrive after the reconnect, with the same id and recovered true"
    : "a server without recovery gives a new session after a cut, and recovered stays false";
  test(name, async (page) => {
    const p = await setup();
    await page.run(
      async ({ target, direct }) => {
        const s = (window.s = io(target, { forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200, timeout: 1000 }));
        window.got = [];
        window.connects = [];
        s.on("news", (...args) => window.got.push(args));
        s.on("connect", () => window.connects.push({ id: s.id, recovered: s.recovered }));
        await connected(s);
        // The client learns its first offset from the first event the server sends.
        s.emit("emit-back", "news", 0);
        await until(() => window.got.length == 1, 3000, "first event");
        await until(() => s.io.engine.transport.name == "websocket", 3000, "upgrade");
        window.ctl = io(direct, { forceNew: true });
        await connected(window.ctl);
      },
      { target: p.url, direct },
    );
    // Cut, and let no new connection through until restore().
    p.blackhole();
    assert.ok(p.cut() >= 1);
    const t0 = Date.now();
    await page.run(async () => {
      await until(() => !s.connected, 3000, "disconnect");
      for (let i = 1; i <= 3; i++) ctl.emit("emit-to", connects[0].id, "news", i);
      // Handled in order: once this is acked, the three were sent (or kept for recovery).
      await ctl.emitWithAck("echo", "done");
    });
    p.restore();
    const r = await page.run(
      async () => {
        await until(() => window.connects.length == 2, 5000, "reconnect");
        await until(() => window.got.length >= 4, 1000, "missed events").catch(() => {});
        // Anything more would show up now.
        await sleep(200);
        return { connects: window.connects, got: window.got, ack: await s.emitWithAck("echo", "after") };
      },
      {},
      { timeout: 10000 },
    );
    console.log(`[${server}] back ${Date.now() - t0} ms after the cut (blackholed meanwhile); recovered: ${r.connects[1].recovered}`);
    assert.equal(r.ack, "after");
    assert.equal(r.connects[0].recovered, false);
    if (recovers) {
      assert.deepEqual(r.connects[1], { id: r.connects[0].id, recovered: true });
      assert.deepEqual(r.got.map((a) => a[0]), [0, 1, 2, 3], "each event once, in order");
      // As with socket.io-client, the server's offset comes last, a string.
      for (const a of r.got) assert.ok(a.length == 2 && typeof a[1] == "string", JSON.stringify(a));
    } else {
      assert.equal(r.connects[1].recovered, false);
      assert.notEqual(r.connects[1].id, r.connects[0].id);
      assert.deepEqual(r.got, [[0]]);
    }
  });

  if (recovers)
    test("the session is offered on every reconnect with the auth function's payload, and recovers twice", async (page) => {
      const p = await setup();
      const r = await page.run(
        async ({ target, direct }) => {
          window.calls = 0;
          const s = io(target, { forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200, timeout: 1000, auth: (cb) => cb({ n: ++window.calls }) });
          const ids = [];
          s.on("connect", () => ids.push([s.id, s.recovered]));
          await connected(s);
          s.emit("emit-back", "news", 0);
          await new Promise((r) => s.once("news", r));
          await until(() => s.io.engine.transport.name == "websocket", 3000, "upgrade");
          const who = await s.emitWithAck("whoami");
          window.s = s;
          return { ids, who };
        },
        { target: p.url, direct },
      );
      // The auth function's own payload goes with the session's pid and offset.
      assert.equal(r.who.auth.n, 1);
      assert.equal(typeof r.who.auth.pid, "undefined", "no pid before the server gave one");
      p.cut();
      const r2 = await page.run(async () => {
        await until(() => s.connected && s.recovered, 5000, "recovered");
        return { id: s.id, who: await s.emitWithAck("whoami"), calls: window.calls };
      }, {}, { timeout: 8000 });
      assert.equal(r2.id, r.ids[0][0]);
      assert.equal(r2.calls, 2, "the auth function is called on each connect");
      assert.equal(r2.who.auth.n, 2);
      assert.equal(typeof r2.who.auth.pid, "string");
      assert.equal(typeof r2.who.auth.offset, "string");
      // Once more: the recovered session can be recovered again.
      p.cut();
      const r3 = await page.run(async () => {
        await until(() => window.calls == 3 && s.connected, 5000, "second recovery");
        return { id: s.id, recovered: s.recovered };
      }, {}, { timeout: 8000 });
      assert.deepEqual(r3, { id: r.ids[0][0], recovered: true });
    });

  test(
    recovers
      ? "rooms kept by a recovered session are not joined again; room events missed meanwhile arrive once"
      : "without recovery, rooms are joined again after a cut",
    async (page) => {
      const p = await setup();
      const room = "recover-" + Math.random();
      await page.run(
        async ({ target, direct, room }) => {
          const s = (window.s = io(target, { forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200, timeout: 1000 }));
          window.out = [];
          s.onAnyOutgoing((ev) => out.push(ev));
          await connected(s);
          window.ra = s.room(room);
          window.notes = [];
          ra.on("note", (n, from) => notes.push([n, from.meta.name]));
          await ra.join({ name: "Ada" });
          window.ctl = io(direct, { forceNew: true });
          await connected(ctl);
          window.rc = ctl.room(room);
          window.seen = [];
          rc.on("note", (n, from) => seen.push(["note", n, from.meta.name]));
          for (const ev of ["join", "leave"]) rc.presence.on(ev, (m) => seen.push([ev, m.meta.name]));
          await rc.join({ name: "Ctl" });
          // Ada's side learns its offset from this presence event.
          await until(() => ra.presence.members.length == 2, 3000, "ctl seen");
          await until(() => s.io.engine.transport.name == "websocket", 3000, "upgrade");
          window.firstId = s.id;
          out.length = 0;
          // (Joining, ctl saw Ada as a join: the members already there are reported too.)
          seen.length = 0;
        },
        { target: p.url, direct, room },
      );
      p.blackhole();
      p.cut();
      await page.run(async () => {
        await until(() => !s.connected, 3000, "disconnect");
        rc.emit("note", 1);
        rc.emit("note", 2);
        await ctl.emitWithAck("echo", "done");
      });
      p.restore();
      const r = await page.run(
        async () => {
          await until(() => s.connected && ra.joined, 5000, "back and joined");
          await until(() => notes.length >= (s.recovered ? 2 : 0), 2000, "missed notes").catch(() => {});
          ra.emit("note", "after");
          await until(() => seen.some((e) => e[1] == "after"), 3000, "ctl got the note after");
          await sleep(200);
          const o = { recovered: s.recovered, sameId: s.id == firstId, out, notes, seen, members: ra.presence.members.length };
          s.disconnect();
          ctl.disconnect();
          return o;
        },
        {},
        { timeout: 10000 },
      );
      assert.equal(r.recovered, recovers);
      assert.equal(r.members, 2);
      assert.deepEqual(r.seen.filter((e) => e[0] == "note"), [["note", "after", "Ada"]]);
      if (recovers) {
        assert.ok(r.sameId);
        // attachRooms announces a recovered member again (its rooms were left on
        // the disconnect and restored on recovery).
        assert.deepEqual(r.seen.filter((e) => e[0] != "note"), [["leave", "Ada"], ["join", "Ada"]]);
        assert.ok(!r.out.includes("rtio:join"), "no re-join: " + JSON.stringify(r.out));
        // Missed while away, without the server's offset.
        assert.deepEqual(r.notes, [[1, "Ctl"], [2, "Ctl"]]);
      } else {
        assert.ok(!r.sameId);
        assert.ok(r.out.includes("rtio:join"), "joined again: " + JSON.stringify(r.out));
        assert.deepEqual(r.notes, []);
        // The other member saw Ada's old connection go and the new one come, once each.
        assert.deepEqual(r.seen.filter((e) => e[0] != "note"), [["leave", "Ada"], ["join", "Ada"]]);
      }
    },
  );
});
