// The SharedWorker that hosts the shared connections of an origin (see shared.js): one per
// origin, started by the first tab that shares a connection, alive while a tab uses it. It
// holds rtio.wasm (beside this module) and serves every tab that connects to it.
import { host } from "./shared.js";
import { wasmLoader } from "./bridge.js";
import { createModule } from "./generated/rtio.js";

const serve = host(wasmLoader(new URL("rtio.wasm", import.meta.url), createModule));

self.onconnect = (e) => {
  const port = e.ports[0];
  const handle = serve((m) => port.postMessage(m));
  port.onmessage = (e) => handle(e.data);
  // The tab waits for this before it says anything (see `port` in shared.js).
  port.postMessage({ t: "up" });
};
