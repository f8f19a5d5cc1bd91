// A scripted hostile SSE peer for the tests of rtio's SSE mode (MODES.md, `sse()` from rtio/sse),
// started in-process by the test file: `const s = await startHostileSse(); ... await s.close()`.
//
// It behaves as a normal SSE server (GET /sse answers a `text/event-stream` stream that stays
// open; POST /sse answers each emit with a JSON ack) except for one hostile behaviour chosen by
// the query parameter `case`, which is triggered once the page is ready: when the client emits
// `go` (POST), or at once on the stream's GET for stream-level cases. The query parameter `key`
// names the client, so one client's `go` acts on its own streams only.
//
// Normal answers:
//   GET /sse            200 text/event-stream, a first comment, then nothing (stays open)
//   POST /sse echo      200 {"echo": [...args]}
//   POST /sse other     200 {"ok": true, "event": event}
//   OPTIONS             the CORS preflight (pages come from another origin)
//
// After the hostile part of a `go`, the stream is sent `event: after` with data {"n":1}, the
// valid event a test waits for (unless the case ends the stream).
//
// Cases (`case=`):
//   name         on go: an event named by the query parameter `name`, data "evil" (and one
//                without data, which a browser does not dispatch)
//   retry        on go: `retry: <query retry>` and `after`, then the stream ends
//   long-line    on go: a 20 MB `data:` line with no newline, then a newline and `after`
//   big-event    on go: 32 MiB of data in one event (`event: big`, 512 lines of 64 KiB), then `after`
//   bad-utf8     on go: events whose name, data and id hold invalid UTF-8, then `after`
//   id-nul       on go: an event with `id: a<NUL>b`, `after`, then the stream ends
//   id-latin     on go: an event with an id that is not Latin-1 (`id: ✓-é`), `after`, then the stream ends
//   many         on go: 5000 events (`event: many`, data 0..4999) in one write, then `after`
//   proto        on go: data with `__proto__` / `constructor` keys, events named `__proto__`,
//                `constructor`, `hasOwnProperty`, `toString`, then `after`
//   deep         on go: data nested 100 000 deep (arrays, then objects), then `after`
//   ack-invalid-json  the go POST is answered 200 application/json `{"broken": `
//   ack-huge     the go POST is answered 200 with a 32 MiB JSON string
//   ack-500      the go POST is answered 500 {"error":"boom"}
//   ack-redirect the go POST is answered 307 to /sse/redirected, which answers {"redirected": true}
//   ack-redirect-loop the go POST is answered 307 to itself, every time
//   wrong-type   every stream GET is answered 200 text/plain with an SSE-looking body
//   end-at-once  every stream GET is answered 200 text/event-stream and ended at once
//
// `hits(key)` counts the stream GETs of a key; `lastIds(key)` lists the last event id each GET
// sent (the `lastEventId` query parameter or the `Last-Event-ID` header), or null.
// Binds 127.0.0.1 on an ephemeral port.

import { createServer } from "node:http";

const MAX_BODY = 1024 * 1024;
const MiB = 1024 * 1024;

function cors(req) {
  return req.headers.origin
    ? { "access-control-allow-origin": req.headers.origin, "access-control-allow-credentials": "true", vary: "Origin" }
    : {};
}

function answer(req, res, status, body, type = "application/json") {
  if (res.headersSent || res.destroyed) return;
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(typeof body == "string" ? body : JSON.stringify(body));
  res.writeHead(status, { ...cors(req), "content-type": type, "cache-control": "no-store", "content-length": buf.length });
  res.end(buf);
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        resolve({});
      }
    });
    req.on("error", () => resolve({}));
  });
}

/** Writes `chunk` to `res`, waiting for the socket to drain (a stream that closed just returns). */
function write(res, chunk) {
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => (res.off("drain", done), res.off("close", done), resolve());
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Writes `total` bytes of `unit` (a Buffer) in writes of about 1 MiB. */
async function writeRepeated(res, unit, total) {
  const block = Buffer.alloc(Math.max(unit.length, Math.floor(MiB / unit.length) * unit.length));
  for (let i = 0; i < block.length; i += unit.length) unit.copy(block, i);
  for (let sent = 0; sent < total && !res.destroyed; sent += block.length) {
    await write(res, sent + block.length <= total ? block : block.subarray(0, total - sent));
  }
}

const AFTER = 'event: after\ndata: {"n":1}\n\n';

/** The hostile part of a `go` for the streams `list` of one client. */
async function strike(kase, q, list) {
  for (const res of list) {
    switch (kase) {
      case "name": {
        const name = q.get("name");
        await write(res, `event: ${name}\ndata: "evil"\n\nevent: ${name}\n\n${AFTER}`);
        break;
      }
      case "retry":
        await write(res, `retry: ${q.get("retry")}\n\n${AFTER}`);
        res.end();
        break;
      case "long-line":
        await write(res, "data: ");
        await writeRepeated(res, Buffer.from("x"), 20_000_000);
        await write(res, `\n\n${AFTER}`);
        break;
      case "big-event": {
        await write(res, "event: big\n");
        const line = Buffer.from("data: " + "y".repeat(64 * 1024 - 7) + "\n");
        await writeRepeated(res, line, 512 * line.length);
        await write(res, `\n${AFTER}`);
        break;
      }
      case "bad-utf8": {
        const bad = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0xed, 0xa0, 0x80, 0xf8, 0x88, 0x80, 0x80, 0x80]);
        await write(res, Buffer.concat([
          Buffer.from("event: bad\ndata: \""), bad, Buffer.from('"\nid: id-'), bad, Buffer.from("\n\n"),
          Buffer.from("event: bad"), bad, Buffer.from("\ndata: 2\n\n"),
          Buffer.from("data: "), bad, Buffer.from("\n\n"),
          Buffer.from(AFTER),
        ]));
        break;
      }
      case "id-nul":
        await write(res, `id: a\0b\nevent: x\ndata: 1\n\n${AFTER}`);
        res.end();
        break;
      case "id-latin":
        await write(res, `id: \u2713-\u00e9\nevent: x\ndata: 1\n\n${AFTER}`);
        res.end();
        break;
      case "many": {
        let s = "";
        for (let i = 0; i < 5000; i++) s += `event: many\ndata: ${i}\n\n`;
        await write(res, s + AFTER);
        break;
      }
      case "proto":
        await write(res,
          'event: pp\ndata: {"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}\n\n' +
          'event: pp\ndata: [{"__proto__":{"polluted":"yes"}}]\n\n' +
          'event: __proto__\ndata: {"polluted":"yes"}\n\n' +
          'event: constructor\ndata: {"prototype":{"polluted":"yes"}}\n\n' +
          'event: hasOwnProperty\ndata: 1\n\n' +
          'event: toString\ndata: 1\n\n' +
          AFTER);
        break;
      case "deep": {
        const n = 100_000;
        await write(res, `event: deep\ndata: ${"[".repeat(n)}${"]".repeat(n)}\n\n`);
        await write(res, `event: deep\ndata: ${'{"a":'.repeat(n)}1${"}".repeat(n)}\n\n`);
        await write(res, AFTER);
        break;
      }
      default:
        await write(res, AFTER);
    }
  }
}

/**
 * Starts the hostile SSE peer on 127.0.0.1, port 0: `{ url, hits(key), lastIds(key), close() }`.
 * The stream is at `url + "/sse"`.
 */
export function startHostileSse() {
  const streams = new Map(); // key -> Set of open stream responses
  const gets = new Map(); // key -> [last event id of each GET, or null]

  async function route(req, res) {
    const u = new URL(req.url, "http://127.0.0.1");
    const q = u.searchParams;
    const kase = q.get("case") || "normal";
    const key = q.get("key") || "";
    if (req.method == "OPTIONS") {
      res.writeHead(204, {
        ...cors(req),
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": req.headers["access-control-request-headers"] || "content-type",
        "access-control-max-age": "600",
        "content-length": 0,
      });
      return res.end();
    }
    if (u.pathname == "/sse/redirected") {
      await readBody(req);
      return answer(req, res, 200, { redirected: true });
    }
    if (u.pathname != "/sse") return answer(req, res, 404, { error: "not found" });

    if (req.method == "GET") {
      const last = q.get("lastEventId") ?? req.headers["last-event-id"] ?? null;
      if (!gets.has(key)) gets.set(key, []);
      gets.get(key).push(last);
      if (kase == "wrong-type") return answer(req, res, 200, `event: after\ndata: {"n":1}\n\n`, "text/plain");
      res.writeHead(200, { ...cors(req), "content-type": "text/event-stream", "cache-control": "no-store" });
      if (kase == "end-at-once") return res.end();
      res.write(": hello\n\n");
      if (!streams.has(key)) streams.set(key, new Set());
      const set = streams.get(key);
      set.add(res);
      res.on("close", () => set.delete(res));
      return;
    }

    if (req.method != "POST") return answer(req, res, 405, { error: "method" });
    const body = await readBody(req);
    if (body.event == "echo") return answer(req, res, 200, { echo: body.args });
    if (body.event != "go") return answer(req, res, 200, { ok: true, event: body.event });
    switch (kase) {
      case "ack-invalid-json":
        return answer(req, res, 200, '{"broken": ');
      case "ack-huge":
        return answer(req, res, 200, Buffer.concat([Buffer.from('"'), Buffer.alloc(32 * MiB, "z"), Buffer.from('"')]));
      case "ack-500":
        return answer(req, res, 500, { error: "boom" });
      case "ack-redirect":
        res.writeHead(307, { ...cors(req), location: "/sse/redirected", "content-length": 0 });
        return res.end();
      case "ack-redirect-loop":
        res.writeHead(307, { ...cors(req), location: req.url, "content-length": 0 });
        return res.end();
    }
    await strike(kase, q, [...(streams.get(key) || [])]);
    answer(req, res, 200, { ok: true, event: "go" });
  }

  const server = createServer((req, res) => {
    route(req, res).catch(() => res.destroy());
  });
  server.on("clientError", (_e, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({
        url,
        hits: (key) => (gets.get(key) || []).length,
        lastIds: (key) => [...(gets.get(key) || [])],
        close: () =>
          new Promise((done) => {
            for (const set of streams.values()) for (const res of set) res.destroy();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
