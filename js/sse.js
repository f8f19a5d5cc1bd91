// rtio/sse: the SSE mode (MODES.md). Events come from the browser's EventSource, or with
// `transport: "fetch"` from a streaming fetch read by the wasm's SSE parser; emits are POSTs
// whose answers are the acks. Reconnection, buffering and the watchdog are the wasm's stream.
import { StreamClient } from "./stream.js";

const parse = (d) => {
  try {
    return JSON.parse(d);
  } catch {
    return d;
  }
};

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

  _ping() {}

  /** Adds `fn` as a listener of `ev`; the EventSource then listens to `ev` too. */
  on(ev, fn) {
    super.on(ev, fn);
    this._sub(ev);
    return this;
  }

  _sub(ev) {
    const es = this._es;
    if (es && typeof ev == "string" && !LOCAL.includes(ev) && !es._n.has(ev)) es._n.add(ev), es.addEventListener(ev, es._f);
  }

  _open() {
    const o = this.opts,
      last = this.lastEventId;
    if (o.transport == "fetch") return this._fetch(last);
    let es;
    try {
      es = this._es = new EventSource(this._url(last != null ? { lastEventId: last } : {}), {
        withCredentials: !!o.withCredentials,
      });
    } catch (e) {
      return this._closed(true, e);
    }
    es._n = new Set();
    es._f = (e) => this._event(e.type, e.data, e.lastEventId);
    es.onopen = () => ((es._o = 1), this._opened());
    es.onmessage = es._f;
    // An EventSource that is CLOSED after an error will not retry (an HTTP error, a wrong
    // Content-Type); one that is CONNECTING lost its stream. rtio reconnects after both.
    es.onerror = (e) => {
      // A server event named "error" comes here too: it is an event (refused as reserved), not a failure.
      if (e instanceof MessageEvent) return es._f(e);
      if (es.readyState != 2 || es._o) return this._closed(false);
      // It never opened: EventSource hides the HTTP status, so one GET asks for it (and for the
      // server's reason, which a refused room join reports). The attempt stays open until then.
      es.onerror = null;
      const ac = new AbortController(),
        fail = () => new Error("rtio: the event stream could not be opened");
      fetch(es.url, { signal: ac.signal, credentials: es.withCredentials ? "include" : "same-origin", cache: "no-store" })
        .then(async (r) => (r.ok ? fail() : Object.assign(new Error("rtio: HTTP " + r.status), { status: r.status, data: parse(await r.text()) })))
        .catch(fail)
        .then((err) => {
          ac.abort();
          if (this._es === es) this._closed(true, err);
        });
    };
    for (const ev of [o.ping, ...ALWAYS, ...this._l.keys()]) this._sub(ev);
  }

  async _fetch(last) {
    const ac = (this._ac = new AbortController()),
      o = this.opts,
      headers = { Accept: "text/event-stream", ...o.headers };
    // A header holds Latin-1 only: another id goes in the query, as with EventSource.
    const latin1 = last != null && !/[^\0-\xff]/.test(last);
    if (latin1) headers["Last-Event-ID"] = last;
    const live = () => ac === this._ac;
    try {
      const res = await fetch(this._url(last != null && !latin1 ? { lastEventId: last } : {}), {
        headers,
        signal: ac.signal,
        cache: "no-store",
        credentials: o.withCredentials ? "include" : "same-origin",
      });
      if (!live()) return;
      if (res.status != 200 || !/^text\/event-stream/i.test(res.headers.get("content-type") || "")) {
        const data = parse(await res.text().catch(() => ""));
        if (live()) this._closed(true, Object.assign(new Error("rtio: HTTP " + res.status), { status: res.status, data }));
        return;
      }
      this._opened();
      const rd = res.body.getReader();
      for (;;) {
        const { done, value } = await rd.read();
        if (!live()) return;
        if (done) break;
        this._feed(value);
      }
      this._ended();
      this._closed(false);
    } catch (e) {
      if (live()) this._ended(), this._closed(true, e);
    }
  }

  _close() {
    const es = this._es;
    if (es) (this._es = es.onopen = es.onmessage = es.onerror = null), es.close();
    if (this._ac) this._ac.abort(), (this._ac = null);
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
