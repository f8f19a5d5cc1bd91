// rtio/ws: plain WebSocket with rtio's emitter, JSON envelope, acks, heartbeat and reconnection (MODES.md).
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

export interface WsOptions extends StreamOptions {
  /** WebSocket subprotocols. */
  protocols?: string | string[];
  /** Use the JSON envelope (default true); false: every frame is a `message`. */
  envelope?: boolean;
  /** The heartbeat message (default '["ping"]'). */
  ping?: string | ArrayBuffer | ArrayBufferView;
  /** Send `ping` this often while connected, ms (default 25000; 0: never). */
  pingInterval?: number;
  /** Reconnect when nothing arrived for pingInterval + pingTimeout ms (default 20000; 0: no watchdog). */
  pingTimeout?: number;
}

/** Frames that are not envelope messages. */
export interface WsRawEvents {
  message: (data: string | ArrayBuffer) => void;
}

/** The events a WebSocket client listens to: the user's, and `message` (raw frames) unless the user's map has its own. */
export type WsListenEvents<ListenEvents extends EventsMap> = ListenEvents & Omit<WsRawEvents, keyof ListenEvents>;

/**
 * A plain-WebSocket client. `ListenEvents`: the envelope events the server sends (a last
 * function parameter answers an event that asks for an ack); `EmitEvents`: those the client
 * sends (a last function parameter is the acknowledgement).
 */
export declare class WsClient<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends StreamClient<WsListenEvents<ListenEvents>, EmitEvents> {
  /** Writes a raw frame; held while disconnected (dropped if `volatile`). */
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): this;
  /** The ack timeout of the next emit (ms); its callback becomes error-first `(err, ...args)`. */
  timeout(ms: number): WsClient<ListenEvents, DecorateAcknowledgements<EmitEvents>>;
}

/**
 * Opens a plain WebSocket (`http(s):` URLs become `ws(s):`).
 * @example
 * const sock = ws<{ chat: (msg: { text: string }) => void }, { add: (a: number, b: number, ack: (sum: number) => void) => void }>("wss://example.com/ws");
 * const sum: number = await sock.emitWithAck("add", 1, 2);
 */
export declare function ws<ListenEvents extends EventsMap = DefaultEventsMap, EmitEvents extends EventsMap = ListenEvents>(
  url: string | URL,
  opts?: WsOptions,
): WsClient<ListenEvents, EmitEvents>;
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

export default ws;
