// Benchmark server: Node socket.io 4.8 on 127.0.0.1 (ephemeral port unless PORT is set).
//
// Serves the bench page (bench/page/), the built npm package (pkg/) and the esbuild bundle of
// socket.io-client (bench/build/). Socket.IO events it understands:
//   down {n, size: "small"|"1k"}  -> n pre-encoded "tick" events written straight to the engine
//   up_reset n (ack)              -> arms the upstream counter; "up_done" is emitted after n "up"
//   echo x (ack)                  -> acks x back
// GET /stats returns {clients, cpu} (open engine connections; server process CPU time in µs).
// Prints "LISTENING http://127.0.0.1:PORT" when ready.

import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Server } from "socket.io";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "..");
const BATCH = Number(process.env.BENCH_SERVER_BATCH || 2000);

const ROOTS = {
  "/pkg/": path.join(REPO, "pkg"),
  "/build/": path.join(HERE, "build"),
  "/page/": path.join(HERE, "page"),
};
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

// The payloads: one small event (16-byte string plus a few numbers) and one of about 1 KB.
// Encoded once as Socket.IO packet text (namespace "/", type EVENT = "2").
const SMALL = { s: "abcdefghijklmnop", n: 1, t: 1700000000000, x: 0.5 };
const BIG = { s: "x".repeat(960), n: 1, t: 1700000000000, x: 0.5 };
const PACKETS = {
  small: "2" + JSON.stringify(["tick", SMALL]),
  "1k": "2" + JSON.stringify(["tick", BIG]),
};

const httpServer = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/stats") {
    const u = process.cpuUsage();
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify({ clients: io.engine.clientsCount, cpu: u.user + u.system }));
    return;
  }
  if (url.pathname === "/sizes") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(Object.fromEntries(Object.entries(PACKETS).map(([k, v]) => [k, v.length]))));
    return;
  }
  const prefix = Object.keys(ROOTS).find((p) => url.pathname.startsWith(p));
  if (!prefix) {
    res.writeHead(404).end("not found");
    return;
  }
  const rel = path.normalize(url.pathname.slice(prefix.length));
  if (rel.startsWith("..")) {
    res.writeHead(403).end();
    return;
  }
  try {
    const body = await readFile(path.join(ROOTS[prefix], rel));
    res.writeHead(200, {
      "content-type": TYPES[path.extname(rel)] || "application/octet-stream",
      // every connect-time measurement loads and compiles the client afresh
      "cache-control": "no-store",
      // cross-origin isolation: performance.now() gets its fine (5 µs) resolution for the ack timings
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    });
    res.end(body);
  } catch {
    res.writeHead(404).end("not found");
  }
});

// Both transports: the clients ask for one (bench/page/bench.js, ?transport=).
const io = new Server(httpServer, { transports: ["websocket", "polling"], serveClient: false, maxHttpBufferSize: 1e7 });

io.on("connection", (socket) => {
  let upWant = 0;
  let upGot = 0;

  socket.on("down", ({ n, size }) => {
    const text = PACKETS[size] || PACKETS.small;
    const conn = socket.conn;
    let sent = 0;
    const step = () => {
      if (conn.readyState !== "open") return;
      const end = Math.min(n, sent + BATCH);
      for (; sent < end; sent++) conn.write(text);
      if (sent < n) setImmediate(step);
    };
    step();
  });

  socket.on("up_reset", (n, ack) => {
    upWant = n;
    upGot = 0;
    ack(true);
  });
  socket.on("up", () => {
    if (++upGot === upWant) socket.emit("up_done", upGot);
  });

  socket.on("echo", (x, ack) => {
    if (typeof ack === "function") ack(x);
  });
});

const port = Number(process.env.PORT || 0);
httpServer.listen(port, "127.0.0.1", () => {
  console.log(`LISTENING http://127.0.0.1:${httpServer.address().port}`);
});

const stop = () => {
  io.close();
  httpServer.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
