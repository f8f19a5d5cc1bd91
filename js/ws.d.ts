// rtio/ws: plain WebSocket with rtio's emitter, JSON envelope, acks, heartbeat and reconnection (MODES.md).
import type { DefaultEventsMap, EventsMap } from "./index.js";
import type { StreamClient, StreamOptions } from "./stream.js";

export type { StreamDisconnectReason, StreamError, StreamOptions, StreamReservedEvents } from "./stream.js";

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

export declare class WsClient<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends StreamClient<ListenEvents & WsRawEvents, EmitEvents> {
  /** Writes a raw frame; held while disconnected (dropped if `volatile`). */
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): this;
}

/** Opens a plain WebSocket (`http(s):` URLs become `ws(s):`). */
export declare function ws<ListenEvents extends EventsMap = DefaultEventsMap, EmitEvents extends EventsMap = ListenEvents>(
  url: string | URL,
  opts?: WsOptions,
): WsClient<ListenEvents, EmitEvents>;
export default ws;
