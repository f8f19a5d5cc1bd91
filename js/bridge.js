// How an entry reaches its wasm: loaded on first use (or by `init()`/`initSync()`), what is asked
// before it is ready queued in order, and a module that trapped replaced by a fresh one.
//
// Each entry's wasm comes with the JS glue wasm-bindgen generates for it, built into a factory
// (`createModule()`, see tools/build.sh): every call gives a new, independent instance of the
// glue (its exported classes, its tables, its memory views), so a module that trapped can be
// left behind whole and a fresh one instantiated from the same compiled code.

/**
 * An Error whose message names what went wrong, with `cause` the original error.
 * @param {string} message
 * @param {unknown} [cause]
 */
export const failure = (message, cause) => Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { type: "WasmError" });

/** Reports `err` as an uncaught error would be (in Node 20, on the console). */
export const report = (err) => (globalThis.reportError || console.error)(err);

/** Calls `f`, reporting what it throws instead of letting it into the wasm (which calls it). */
export const guard = (f) =>
  function (...args) {
    try {
      f.apply(this, args);
    } catch (e) {
      report(e);
    }
  };

/** The message of every error caused by a wasm trap. */
const TRAPPED = "rtio: the client failed internally; it starts again with the next connection attempt";

/**
 * The wasm of an entry: `url` where it is served, `createModule` the factory of its glue.
 * `use(fn, fail)` runs `fn(glue)` once the module is ready (at once if it is; queued in order
 * otherwise, and loading starts), or `fail(error)` if it cannot load. `onTrap(fn)` registers
 * `fn(error, glue)`, called once for every trap of a live module (`glue`): its objects are
 * dead, the next `use` gets a fresh module. It returns the function that unregisters `fn`.
 */
export function wasmLoader(url, createModule) {
  /** The glue of the live module; its compiled `WebAssembly.Module` once loaded. */
  let glue, compiled, loading;
  /** What waits for the module: [fn, fail] pairs, in call order. */
  let queue = [];
  const trapped = new Set();

  /** Fetches `from` (a URL or Request): a Response, or an Error naming it and the HTTP status (or the fetch's own error, a CSP refusal among them). */
  const fetchWasm = async (from) => {
    let res;
    try {
      res = await fetch(from);
    } catch (e) {
      // Node's fetch reads no files: there, the bytes come through initSync().
      const hint = url.protocol == "file:" ? " (outside a browser, pass the wasm's bytes to initSync() first)" : "";
      throw failure("rtio: cannot load " + (from.url || from) + ": " + e.message + hint, e);
    }
    if (!res.ok) throw failure("rtio: cannot load " + (from.url || from) + ": HTTP " + res.status);
    return res;
  };

  /**
   * Compiles `source` (a URL, Request, Response, the bytes or a compiled module, or a promise
   * of one): as it streams in when it is a Response served as application/wasm (which
   * streaming needs).
   */
  const compile = async (source) => {
    let s = await source;
    if (typeof s == "string" || s instanceof URL || (globalThis.Request && s instanceof Request)) s = await fetchWasm(s);
    if (s instanceof WebAssembly.Module) return s;
    if (globalThis.Response && s instanceof Response)
      return s.headers.get("content-type") == "application/wasm" ? WebAssembly.compileStreaming(s) : WebAssembly.compile(await s.arrayBuffer());
    return WebAssembly.compile(s);
  };

  /** Makes `g` the live module, its failure handler set. */
  const adopt = (g) => {
    glue = g;
    compiled = g.module();
    g.setFailureHandler((message) => died(g, new Error(message)));
    return g;
  };

  /**
   * A module trapped (or is about to: its failure handler runs before the trap): everything
   * made from it is dead. Its browser objects are closed, its timers and listeners made to do
   * nothing; who asked is told, once.
   */
  const died = (g, cause) => {
    if (glue !== g) return;
    glue = undefined;
    const table = g.kill();
    for (let i = 0; i < table.length; i++) {
      const v = table.get(i);
      if (globalThis.WebSocket && v instanceof WebSocket) {
        v.onopen = v.onmessage = v.onclose = v.onerror = null;
        v.close();
      } else if (globalThis.EventSource && v instanceof EventSource) v.close();
      else if (globalThis.AbortController && v instanceof AbortController) v.abort();
    }
    const err = failure(TRAPPED, cause);
    // Deferred: the wasm may still be unwinding.
    queueMicrotask(() => trapped.forEach((f) => f(err, g)));
  };

  const start = (source) =>
    (loading ||= (async () => {
      const module = await compile(source ?? (compiled || fetchWasm(url)));
      // initSync() may have been quicker.
      if (glue) return glue;
      const g = createModule();
      g.initSync({ module });
      return adopt(g);
    })().then(
      (g) => {
        loading = undefined;
        const q = queue;
        queue = [];
        for (const [fn] of q) run(fn);
        return g;
      },
      (e) => {
        loading = undefined;
        const q = queue;
        queue = [];
        const err = e.type == "WasmError" ? e : failure("rtio: cannot load " + url + ": " + e.message, e);
        for (const [, fail] of q) fail(err);
        throw err;
      },
    ));

  /** Runs `fn` on the live module; a trap in it kills the module (and is reported as such). */
  const run = (fn) => {
    const g = glue;
    try {
      fn(g);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) died(g, e);
      else throw e;
    }
  };

  return {
    use(fn, fail) {
      if (glue) return run(fn);
      queue.push([fn, fail]);
      start().catch(() => {});
    },
    /** The live module's glue, if it is loaded (a caller already holding objects of `g` checks `live() === g`). */
    live: () => glue,
    /** Reports that `g` trapped (what `use` does for a trap in `fn`), for calls made outside `use`. */
    trap: (g, e) => died(g, e),
    /** Starts loading the module, if it is not loaded or loading (a failure is reported to the next `use`). */
    preload() {
      if (!glue) start().catch(() => {});
    },
    onTrap(fn) {
      trapped.add(fn);
      return () => trapped.delete(fn);
    },
    /** Loads the module now (from `source`: a URL, Response, bytes or WebAssembly.Module; by default the wasm beside the entry). */
    init(source) {
      return glue ? Promise.resolve() : start(source).then(() => {});
    },
    /** Instantiates the module now from `bytes` (an ArrayBuffer, typed array or WebAssembly.Module), synchronously: for workers, Node and tests. */
    initSync(bytes) {
      if (!glue) {
        const g = createModule();
        g.initSync({ module: bytes });
        adopt(g);
        const q = queue;
        queue = [];
        for (const [fn] of q) run(fn);
      }
    },
  };
}
