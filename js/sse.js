// rtio/sse: the SSE mode (MODES.md). Events come from the browser's EventSource, or with
// `transport: "fetch"` from a streaming fetch read by the wasm's SSE parser; emits are POSTs
// whose answers are the acks. Reconnection, buffering and the watchdog are the wasm's stream.
import { StreamClient, parse } from "./stream.js";
export { init, initSync } from "./stream.js";

/** Names an EventSource always listens to, besides those that have listeners. */
const ALWAYS = ["rtio:hello", "rtio:members", "rtio:presence", "rtio:room"];
/** Names that are not SSE events. */
const LOCAL = ["connect", "connect_error", "disconnect", "reconnect_attempt", "reconnect", "reconnect_failed", "error", "message"];

/** An SSE client (see MODES.md); made by {@link sse}. */
export class SseClient extends StreamClient {
  constructor(url, opts) {
    super(url, opts, { transport: "eventsource", ping: "ping", pingTimeout: 0 });
    const t = this.opts.transport;
    if (t != "eventsource" && t != "fetch") throw new TypeError('rtio: transport is "eventsource" or "fetch"');
  }

  /** The id of the last event that had one (sent on every reconnect to resume from it). */
  get lastEventId() {
    return this._last ?? this.opts.lastEventId;
  }

  _idle() {
    return this.opts.pingTimeout || 0;
  }

  _every() {
    return 0;
  }

  /** Adds `fn` as a listener of `ev`; the EventSource then listens to `ev` too. */
  on(ev, fn) {
    super.on(ev, fn);
    this._sub(ev);
    return this;
  }

  /** Has the EventSource listen to `ev`, if it is an SSE event name (see StreamConnection#listen). */
  _sub(ev) {
    if (this._c && typeof ev == "string" && !LOCAL.includes(ev)) this._c.listen(ev);
  }

  /** Once the connection exists: the names it listens to from the start. */
  _listen() {
    for (const ev of [this.opts.ping, ...ALWAYS, ...this._l.keys()]) this._sub(ev);
  }

  _mode() {
    return { mode: "sse" };
  }

  /**
   * Whether the last event id goes as the `Last-Event-ID` header (the fetch transport, when it
   * is Latin-1, as headers must be) rather than the `lastEventId` query parameter.
   */
  _idHeader() {
    const last = this.lastEventId;
    return last != null && this.opts.transport == "fetch" && !/[^\0-\xff]/.test(last);
  }

  /** The stream's URL for the next attempt. */
  _target() {
    const last = this.lastEventId;
    return this._url(last != null && !this._idHeader() ? { lastEventId: last } : {});
  }

  /** The fetch transport's request headers. */
  _headers() {
    const h = { Accept: "text/event-stream", ...this.opts.headers };
    if (this._idHeader()) h["Last-Event-ID"] = this.lastEventId;
    return h;
  }

  /** An SSE event: its data as JSON if it is, else the text; `rtio:` events spread their array. */
  _event(name, data, id) {
    // Left by disconnect() in a listener: not delivered, so the resume point stays before it.
    if (!this.connected) return;
    // Only a non-empty id moves the resume point: a new stream's events without one report "".
    if (id) this._last = id;
    const v = parse(data);
    this._in(name, name.startsWith("rtio:") && Array.isArray(v) ? v : [v]);
  }

  /**
   * POSTs an emit; the answer is its ack. One POST at a time: the next goes once this one is
   * answered (or failed), since requests in flight together may reach the server in any order.
   */
  _write(item) {
    this._posts = (this._posts || Promise.resolve()).then(() => {
      const o = this.opts,
        body = { event: item.e, args: item.a };
      if (item.r !== undefined) body.room = item.r;
      if (this.id !== undefined) body.id = this.id;
      const res = fetch(new URL(o.emitUrl || this.url, this.url), {
        method: "POST",
        headers: { "Content-Type": "application/json", ...o.headers },
        body: JSON.stringify(body),
        credentials: o.withCredentials ? "include" : "same-origin",
      });
      res.then(
        async (res) => {
          const text = await res.text();
          const data = text ? parse(text) : undefined;
          if (res.ok) item.f?.(null, data);
          else item.f?.(Object.assign(new Error("rtio: HTTP " + res.status), { status: res.status, data }));
        },
        (err) => item.f?.(err),
      );
      // The answer's status is enough: the server has taken the emit.
      return res.catch(() => {});
    }).catch((err) => item.f?.(err));
  }
}
SseClient.prototype.addEventListener = SseClient.prototype.on;

/**
 * Opens an SSE stream with rtio's emitter, reconnection and acks (see MODES.md).
 * @example const feed = sse("/events", { rooms: ["news"] }); feed.on("headline", (h) => show(h));
 */
export function sse(url, opts) {
  return new SseClient(url, opts);
}
export default sse;
