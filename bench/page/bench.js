// The bench page: ?client=rtio|sioc|raw, and ?transport=polling for HTTP long-polling (default
// websocket; the raw baseline is WebSocket only). Measures connect time (from before the client module is
// imported to the "connect" event) and exposes the scenarios as window.bench.* for the harness.
const params = new URLSearchParams(location.search);
const kind = params.get("client");
const MODULES = { rtio: "/pkg/index.js", sioc: "/build/socket.io-client.js", raw: "/page/raw.js" };
const OPTS = { transports: [params.get("transport") || "websocket"], forceNew: true };

let io;
const connectOnce = () =>
  new Promise((res, rej) => {
    const s = io(location.origin, OPTS);
    const t = setTimeout(() => rej(new Error("connect timeout")), 10000);
    s.on("connect", () => {
      clearTimeout(t);
      res(s);
    });
  });

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function main() {
  const t0 = performance.now();
  ({ io } = await import(MODULES[kind]));
  // Loaded and ready to be called (rtio loads its wasm on the first io(), inside connect).
  const importMs = performance.now() - t0;
  const socket = await connectOnce();
  const connectMs = performance.now() - t0;
  // Where the load went (Resource Timing): until the client's module file arrived, and the
  // fetch of the wasm it asks for (rtio only).
  const entry = (end) => performance.getEntriesByType("resource").findLast((e) => e.name.endsWith(end));
  const mod = entry(MODULES[kind]);
  const wasm = kind == "rtio" ? entry(".wasm") : undefined;
  const moduleMs = mod ? mod.responseEnd - t0 : NaN;
  const wasmMs = wasm ? wasm.responseEnd - wasm.startTime : 0;
  const wasmAskedMs = wasm ? wasm.startTime - t0 : 0;

  const bench = {
    kind,
    socket,
    connectMs,
    importMs,
    moduleMs,
    wasmMs,
    wasmAskedMs,
    wasmBytes() {
      let n = 0;
      for (const inst of window.__wasmInstances)
        for (const v of Object.values(inst.exports)) if (v instanceof WebAssembly.Memory) n += v.buffer.byteLength;
      return n;
    },
    // n events from the server; resolves when the listener has seen all of them
    down(n, size) {
      return new Promise((res, rej) => {
        let c = 0;
        let sum = 0;
        const t = setTimeout(() => rej(new Error("down timeout at " + c)), 120000);
        const h = (d) => {
          sum += d.n + d.s.length;
          if (++c === n) {
            const ms = performance.now() - t0;
            clearTimeout(t);
            socket.off("tick", h);
            res({ ms, eps: (n * 1000) / ms, sum });
          }
        };
        socket.on("tick", h);
        const t0 = performance.now();
        socket.emit("down", { n, size });
      });
    },
    // n emits; resolves when the server reports it has counted all of them
    async up(n) {
      await socket.emitWithAck("up_reset", n);
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error("up timeout")), 120000);
        socket.on("up_done", function h() {
          const ms = performance.now() - t0;
          clearTimeout(t);
          socket.off("up_done", h);
          res({ ms, eps: (n * 1000) / ms });
        });
        const t0 = performance.now();
        const payload = { s: "abcdefghijklmnop", n: 0 };
        for (let i = 0; i < n; i++) {
          payload.n = i;
          socket.emit("up", payload);
        }
      });
    },
    // n sequential emitWithAck round trips
    async ack(n) {
      const lat = new Array(n);
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await socket.emitWithAck("echo", i);
        lat[i] = performance.now() - t;
      }
      const ms = performance.now() - t0;
      lat.sort((a, b) => a - b);
      return { ms, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) };
    },
    // n connect/disconnect cycles on fresh Managers
    // (close: also close the socket's Manager, i.e. socket.io.close())
    async cycles(n, close = false) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const s = await connectOnce();
        s.disconnect();
        if (close && s.io && typeof s.io.close === "function") s.io.close();
      }
      return { ms: performance.now() - t0 };
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
  window.bench = bench;
  return true;
}

main().then(window.__ready, (e) => window.__fail(String(e && e.stack || e)));
