// rtio/sse: Server-Sent Events with rtio's emitter, reconnection and acks (MODES.md).
import type { DecorateAcknowledgements, DefaultEventsMap, EventsMap } from "./index.js";
import type { StreamClient, StreamOptions } from "./stream.js";

export type {
  StreamDisconnectReason,
  StreamError,
  StreamOptions,
  StreamReservedEventNames,
  StreamReservedEvents,
} from "./stream.js";
export type { DefaultEventsMap, EventsMap, Member, Presence, PresenceEvents, Room } from "./index.js";

export interface SseOptions extends StreamOptions {
  /** `"eventsource"` (default): the browser's EventSource; `"fetch"`: a streaming fetch read by rtio's parser (headers, every event name, the HTTP status). */
  transport?: "eventsource" | "fetch";
  /** Send cookies cross-origin. */
  withCredentials?: boolean;
  /** Request headers: on the stream with the fetch transport, and on every emit's POST. */
  headers?: Record<string, string>;
  /** Where emits are POSTed (default: the stream URL). */
  emitUrl?: string | URL;
  /** The heartbeat's event name (default "ping"). */
  ping?: string;
  /** Reconnect when nothing arrived for this long, ms (default 0: no watchdog). */
  pingTimeout?: number;
  /** Resume from this event id on the first connect. */
  lastEventId?: string;
}

/**
 * An SSE client. `ListenEvents`: the SSE events, by their `event:` name, each with one argument
 * (its `data:` parsed as JSON, or the text); `EmitEvents`: what `emit` POSTs, a last function
 * parameter being the acknowledgement (the answer's body).
 */
export declare class SseClient<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends StreamClient<ListenEvents, EmitEvents> {
  /** The last event id received (sent on every reconnect to resume from it). */
  readonly lastEventId: string | undefined;
  /** The ack timeout of the next emit (ms); its callback becomes error-first `(err, ...args)`. */
  timeout(ms: number): SseClient<ListenEvents, DecorateAcknowledgements<EmitEvents>>;
}

/**
 * Opens an SSE stream; events are emitted under their `event:` name with their `data:` (JSON,
 * or the text).
 * @example
 * const feed = sse<{ headline: (h: { title: string }) => void }, { vote: (id: number, ack: (total: number) => void) => void }>("/events");
 * feed.on("headline", (h) => show(h.title));
 * const total: number = await feed.emitWithAck("vote", 7);
 */
export declare function sse<ListenEvents extends EventsMap = DefaultEventsMap, EmitEvents extends EventsMap = ListenEvents>(
  url: string | URL,
  opts?: SseOptions,
): SseClient<ListenEvents, EmitEvents>;
/**
 * Loads the mode's wasm (`rtio-stream.wasm`) now instead of at the first connection, from
 * `source` (by default the file beside the module, `rtio/rtio-stream.wasm` in the package's
 * `exports`). See `init` of "rtio".
 */
export declare function init(source?: WasmSource): Promise<void>;
/** Instantiates the mode's wasm synchronously from its bytes or a compiled module (Node, workers, tests). */
export declare function initSync(bytes: BufferSource | WebAssembly.Module): void;
export type { WasmSource } from "./index.js";
import type { WasmSource } from "./index.js";

export default sse;
