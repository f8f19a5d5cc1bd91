// A scripted hostile plain-WebSocket peer for the tests of rtio's WebSocket mode (MODES.md,
// `ws()` from rtio/ws), on the `ws` package, started in-process by the test file:
// `const s = await startHostileWs(); ... await s.close()`.
//
// It speaks the JSON envelope normally (`["echo", ...args]` is echoed, `[n, "echo", ...args]`
// is answered `{"ack": n, "args": [...args]}`, `["ping"]` is answered `["pong"]`) except for one
// hostile behaviour chosen by the query parameter `case` of the socket's URL, triggered when
// the client emits `go` (`["go"]` or `[n, "go"]`), or at once on connection for `close-at-once`.
// After the hostile part of a `go` the socket is sent `["after", {"n": 1}]`, the valid event a
// test waits for. The query parameter `key` names the client (see `hits`).
//
// Cases (`case=`):
//   name               an event named by the query parameter `name` (`["<name>", "evil"]`), the
//                      same asking for an ack (`[900, "<name>", "evil"]`), then `after`
//   ack-unknown        acks for ids nobody asked (n + 1000, 2^31 + 5, -1, 1.5), then the real ack
//                      `{"ack": n, "args": ["ok"]}`
//   ack-twice          the ack of n twice (`["first"]` then `["second"]`)
//   ack-malformed-x    `{"ack": "x", "args": [1]}`, then 300 ms later the real ack `["ok"]`
//   ack-malformed-args `{"ack": n, "args": "no"}` and nothing else
//   ack-malformed-missing `{"ack": n}` and nothing else
//   invalid-json       text frames that are not JSON (`["after"`, `{"ack":`, `}{`, ...), then `after`
//   huge-text          one 32 MiB text frame holding a valid envelope event `big`, then `after`
//   huge-binary        one 32 MiB binary frame, then `after`
//   binary             small binary frames (empty, envelope-looking bytes, random bytes), then `after`
//   deep               envelope events nested 100 000 deep (arrays, then objects), then `after`
//   proto              `__proto__` / `constructor` keys in args and in an ack, events named
//                      `__proto__`, `constructor`, `hasOwnProperty`, `toString`, then the real ack
//   ping-flood         5000 WebSocket ping control frames, 5000 `["ping"]` and 5000 `["pong"]`,
//                      then `after`
//   close-at-once      every connection is closed (1000) as soon as it opens
//
// `hits(key)` counts the connections of a key. Binds 127.0.0.1 on an ephemeral port.

import { createServer } from "node:http";
import { WebSocket, WebSocketServer } from "ws";

const MiB = 1024 * 1024;
const AFTER = JSON.stringify(["after", { n: 1 }]);

/** Sends `data`, resolving once it is handed to the socket (ignores a closed socket). */
function send(ws, data, opts = {}) {
  if (ws.readyState !== WebSocket.OPEN) return Promise.resolve();
  return new Promise((resolve) => ws.send(data, opts, () => resolve()));
}

/** The hostile part of a `go` whose ack id is `n` (undefined when no ack was asked). */
async function strike(ws, kase, q, n) {
  const ack = (id, args) => send(ws, JSON.stringify(args === undefined ? { ack: id } : { ack: id, args }));
  switch (kase) {
    case "name": {
      const name = q.get("name");
      await send(ws, JSON.stringify([name, "evil"]));
      await send(ws, JSON.stringify([900, name, "evil"]));
      break;
    }
    case "ack-unknown":
      for (const id of [n + 1000, 2 ** 31 + 5, -1, 1.5]) await ack(id, ["stray"]);
      return ack(n, ["ok"]);
    case "ack-twice":
      await ack(n, ["first"]);
      return ack(n, ["second"]);
    case "ack-malformed-x":
      await send(ws, JSON.stringify({ ack: "x", args: [1] }));
      await new Promise((r) => setTimeout(r, 300));
      return ack(n, ["ok"]);
    case "ack-malformed-args":
      return ack(n, "no");
    case "ack-malformed-missing":
      return ack(n);
    case "invalid-json":
      for (const f of ['["after"', '{"ack":', "}{", "", "\u0000", "[1,\"x\"", "NaN", "[1e999999, \"x\"]"]) await send(ws, f);
      break;
    case "huge-text":
      await send(ws, Buffer.concat([Buffer.from('["big","'), Buffer.alloc(32 * MiB, "x"), Buffer.from('"]')]), { binary: false });
      break;
    case "huge-binary":
      await send(ws, Buffer.alloc(32 * MiB, 7), { binary: true });
      break;
    case "binary":
      await send(ws, Buffer.alloc(0), { binary: true });
      await send(ws, Buffer.from('["connect"]'), { binary: true });
      await send(ws, Buffer.from(JSON.stringify({ ack: n, args: ["from binary"] })), { binary: true });
      await send(ws, Buffer.from([0xff, 0x00, 0xfe, 0x80]), { binary: true });
      break;
    case "deep": {
      const d = 100_000;
      await send(ws, `["deep",${"[".repeat(d)}${"]".repeat(d)}]`);
      await send(ws, `["deep",${'{"a":'.repeat(d)}1${"}".repeat(d)}]`);
      await send(ws, `[901,"deep",${"[".repeat(d)}${"]".repeat(d)}]`);
      break;
    }
    case "proto":
      await send(ws, '["pp",{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}]');
      await send(ws, '["__proto__",{"polluted":"yes"}]');
      await send(ws, '["constructor",{"prototype":{"polluted":"yes"}}]');
      await send(ws, '["hasOwnProperty",1]');
      await send(ws, '["toString",1]');
      await send(ws, '{"__proto__":{"ack":' + n + ',"args":["via proto"]}}');
      await send(ws, '{"ack":' + n + ',"args":[{"__proto__":{"polluted":"yes"}}]}');
      break;
    case "ping-flood":
      for (let i = 0; i < 5000; i++) ws.ping();
      for (let i = 0; i < 5000; i++) ws.send('["ping"]');
      for (let i = 0; i < 5000; i++) ws.send('["pong"]');
      break;
  }
  if (n !== undefined) await ack(n, ["go done"]);
  await send(ws, AFTER);
}

/** Starts the hostile WebSocket peer on 127.0.0.1, port 0: `{ url, hits(key), close() }`; the socket is at `url + "/ws"` (http: URL). */
export function startHostileWs() {
  const hits = new Map();
  const server = createServer((req, res) => {
    res.writeHead(404, { "content-type": "text/plain", "content-length": 9 });
    res.end("not found");
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * MiB });
  server.on("upgrade", (req, socket, head) => {
    const u = new URL(req.url, "http://127.0.0.1");
    if (u.pathname != "/ws") return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => connection(ws, u.searchParams));
  });

  function connection(ws, q) {
    const kase = q.get("case") || "normal";
    const key = q.get("key") || "";
    hits.set(key, (hits.get(key) || 0) + 1);
    ws.on("error", () => {});
    if (kase == "close-at-once") return ws.close(1000, "bye");
    ws.on("message", (data, binary) => {
      if (binary) return;
      let v;
      try {
        v = JSON.parse(data.toString("utf8"));
      } catch {
        return;
      }
      if (!Array.isArray(v)) return;
      const asks = Number.isInteger(v[0]);
      const [n, ev, args] = asks ? [v[0], v[1], v.slice(2)] : [undefined, v[0], v.slice(1)];
      if (ev == "ping" && !asks) return send(ws, '["pong"]');
      if (ev == "go") return strike(ws, kase, q, n).catch(() => ws.terminate());
      if (asks) return send(ws, JSON.stringify({ ack: n, args }));
      if (ev == "echo") return send(ws, JSON.stringify(["echo", ...args]));
    });
  }

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        hits: (key) => hits.get(key) || 0,
        close: () =>
          new Promise((done) => {
            for (const c of wss.clients) c.terminate();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
