// What the SSE and plain-WebSocket test servers (sse/server.mjs, ws/server.mjs) share: option
// parsing, CORS headers, JSON answers and bodies, the static files under /pkg/ and
// /tests/pages/, and the HTTP server's lifecycle (bind 127.0.0.1, print the LISTENING line, exit
// with status 0 on SIGTERM/SIGINT). The Node socket.io test server takes its content types from
// here too.

import { createServer } from "node:http";
import { createReadStream, promises as fsp } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TESTS = path.resolve(HERE, "..");
const REPO = path.resolve(TESTS, "..");

const MAX_BODY = 1024 * 1024; // HTTP request bodies

// ---------------------------------------------------------------------------------------------
// Command line

// A usage(code, msg) that prints `msg` (if any) and the usage `line`, then exits with `code`.
export function usageOf(line) {
  return function usage(code, msg) {
    if (msg) process.stderr.write(`${msg}\n`);
    (code ? process.stderr : process.stdout).write(`${line}\n`);
    process.exit(code);
  };
}

// Walks `argv` (`--name value` or `--name=value`), calling option(name, value, int) for each
// argument: `value()` takes the option's value, `int(name, v, lo, hi)` checks an integer. An
// option returns false when it does not know the name. --help and -h print the usage.
export function parseOptions(argv, usage, option) {
  const int = (name, v, lo, hi) => {
    const n = Number(v);
    if (v === undefined || !/^\d+$/.test(v) || n < lo || n > hi) usage(2, `${name} needs an integer in ${lo}..${hi}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const value = () => (v !== undefined ? v : argv[++i]);
    if (a === "--help" || a === "-h") usage(0);
    else if (!option(a, value, int)) usage(2, `unknown argument: ${argv[i]}`);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

export function cors(req) {
  const origin = req.headers.origin;
  if (!origin) return {};
  return {
    "access-control-allow-origin": origin,
    "access-control-allow-credentials": "true",
    vary: "Origin",
  };
}

// Answers a CORS preflight, allowing `headers`.
export function preflight(req, res, headers) {
  res.writeHead(204, {
    ...cors(req),
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": headers,
    "access-control-max-age": "600",
    "content-length": 0,
  });
  res.end();
}

export function json(req, res, status, body, extra = {}) {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...cors(req),
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// The request's URL (a 400 when it does not parse).
export function urlOf(req) {
  try {
    return new URL(req.url, "http://127.0.0.1");
  } catch {
    throw new HttpError(400, "bad URL");
  }
}

// Reads a JSON object body of at most MAX_BODY bytes (an empty body is `{}`).
export function readJson(req) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > MAX_BODY) return reject(new HttpError(413, `body over ${MAX_BODY} bytes`));
    const chunks = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_BODY) {
        done = true;
        reject(new HttpError(413, `body over ${MAX_BODY} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString("utf8");
      if (!text.trim()) return resolve({});
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        return reject(new HttpError(400, "malformed JSON"));
      }
      if (!body || typeof body !== "object" || Array.isArray(body)) {
        return reject(new HttpError(400, "the body must be a JSON object"));
      }
      resolve(body);
    });
    req.on("error", () => {
      done = true;
      reject(new HttpError(400, "request aborted"));
    });
  });
}

export function intIn(v, lo, hi, what) {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new HttpError(400, `${what}: an integer in ${lo}..${hi}`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Static files (as the Node test server serves them)

const MOUNTS = [
  ["/pkg/", path.join(REPO, "pkg")],
  ["/tests/pages/", path.join(TESTS, "pages")],
];
/** Content types of the static files every test server serves, by extension. */
export const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

export const isStatic = (urlPath) => MOUNTS.some(([prefix]) => urlPath.startsWith(prefix));

export async function serveStatic(req, res, urlPath) {
  if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, "use GET");
  const [prefix, root] = MOUNTS.find(([prefix]) => urlPath.startsWith(prefix));
  let rel;
  try {
    rel = decodeURIComponent(urlPath.slice(prefix.length));
  } catch {
    throw new HttpError(404, "not found");
  }
  if (rel === "" || rel.includes("\0") || rel.includes("\\")) throw new HttpError(404, "not found");
  let file = path.resolve(root, rel);
  let stat;
  try {
    const real = await fsp.realpath(file);
    const realRoot = await fsp.realpath(root);
    if (!real.startsWith(realRoot + path.sep)) throw new Error("outside");
    stat = await fsp.stat(real);
    if (!stat.isFile()) throw new Error("not a file");
    file = real;
  } catch {
    throw new HttpError(404, "not found");
  }
  res.writeHead(200, {
    ...cors(req),
    "content-type": TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream",
    "content-length": stat.size,
    "cache-control": "no-store",
  });
  if (req.method === "HEAD") return res.end();
  createReadStream(file).on("error", () => res.destroy()).pipe(res);
}

// ---------------------------------------------------------------------------------------------
// Server and lifecycle

// An HTTP server answering with `route(req, res)` (an HttpError it throws becomes a JSON error)
// and never crashing on garbage; it listens on 127.0.0.1:`port` and prints the LISTENING line.
export function serve(route, port) {
  const httpServer = createServer((req, res) => {
    route(req, res).catch((err) => {
      if (err instanceof HttpError) {
        // After a 413 the rest of the body is not read: close the connection.
        json(req, res, err.status, { error: err.message }, err.status === 413 ? { connection: "close" } : {});
      } else {
        process.stderr.write(`error on ${req.method} ${req.url}: ${err?.stack ?? err}\n`);
        if (!res.headersSent) json(req, res, 500, { error: "internal error" });
        else res.destroy();
      }
    });
  });

  // Garbage on the wire: answer 400 if possible, never crash.
  httpServer.on("clientError", (_err, socket) => {
    if (socket.writable && !socket.destroyed) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    else socket.destroy();
  });

  httpServer.on("error", (err) => {
    process.stderr.write(`server error: ${err.message}\n`);
    process.exit(1);
  });

  httpServer.listen(port, "127.0.0.1", () => {
    const { port } = httpServer.address();
    process.stdout.write(`LISTENING http://127.0.0.1:${port}\n`);
  });
  return httpServer;
}

// Calls `stop` once on the first SIGTERM or SIGINT; the process exits with status 0 within 2 s
// whatever `stop` does. Returns a function that tells whether the server is stopping.
export function onShutdown(stop) {
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 2000).unref();
    stop();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  return () => stopping;
}
