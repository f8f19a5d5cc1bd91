// Types shared by the SSE and plain-WebSocket modes (`rtio/sse`, `rtio/ws`; MODES.md).
// Typed events as with `io()`: `sse<ListenEvents, EmitEvents>(url)`, `ws<ListenEvents, EmitEvents>(url)`.
import type {
  DecorateAcknowledgements,
  DefaultEventsMap,
  EmitWithAckResult,
  Emitter,
  EventArgsWithoutAck,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  NotReserved,
  Room,
} from "./index.js";

/** Why a mode's connection went down. */
export type StreamDisconnectReason =
  | "io client disconnect"
  | "transport close"
  | "transport error"
  | "ping timeout"
  | "timeout"
  | "offline";

/** A failed connection attempt, or a failed emit (`status` and `data`: the HTTP answer, if any). */
export interface StreamError extends Error {
  status?: number;
  data?: unknown;
  /** A WebSocket's close code and reason. */
  code?: number;
  reason?: string;
}

/** Events of the client itself. */
export interface StreamReservedEvents {
  connect: () => void;
  /** `details`: what closed the connection, when known (a WebSocket's close `code` and `reason`). */
  disconnect: (reason: StreamDisconnectReason, details?: StreamError) => void;
  connect_error: (err: StreamError) => void;
  reconnect_attempt: (attempt: number) => void;
  reconnect: (attempt: number) => void;
  reconnect_failed: () => void;
  /** An emit refused because the buffer is full, or a part of an SSE body dropped for its size. */
  error: (err: Error & { data?: unknown }) => void;
}

/** Event names the SSE and WebSocket clients refuse to emit (their `emit` throws). */
export type StreamReservedEventNames =
  | "connect"
  | "connect_error"
  | "disconnect"
  | "reconnect_attempt"
  | "reconnect"
  | "reconnect_failed"
  | "newListener"
  | "removeListener";

/** Options of both modes (see MODES.md). */
export interface StreamOptions {
  /** Connect at once (default true). */
  autoConnect?: boolean;
  /** Reconnect after a loss or a failed attempt (default true). */
  reconnection?: boolean;
  /** Failed attempts in a row before `reconnect_failed` (default Infinity). */
  reconnectionAttempts?: number;
  /** First backoff delay in ms (default 1000), doubled each attempt, with jitter. */
  reconnectionDelay?: number;
  /** Longest backoff delay in ms (default 5000). */
  reconnectionDelayMax?: number;
  /** Jitter, 0..1 (default 0.5). */
  randomizationFactor?: number;
  /** How long an attempt may take to open, ms (default 20000). */
  timeout?: number;
  /** Most emits held while disconnected (default 1000). */
  maxBuffer?: number;
  /** Default ack timeout in ms (default 0: none). */
  ackTimeout?: number;
  /** Rooms to be in: the `room` query parameters. */
  rooms?: string[];
  /** This client's description for the other members of its rooms: the `meta` query parameter (JSON). */
  meta?: unknown;
  /** More query parameters. */
  query?: Record<string, string>;
  /**
   * Logs what is sent and received and state changes to the console (also on when
   * `localStorage.debug` matches `rtio:*`, as with socket.io's `debug`); off by default and
   * costs nothing when off.
   */
  debug?: boolean;
}

/**
 * The emitter of both modes. `ListenEvents`: the events the server sends; `EmitEvents`: those
 * the client sends (a last function parameter is the acknowledgement).
 */
export declare class StreamClient<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends Emitter<ListenEvents, StreamReservedEvents> {
  /** The URL given, resolved against the page. */
  readonly url: URL;
  readonly connected: boolean;
  /** Connecting or reconnecting: false after `disconnect()` or `reconnect_failed`. */
  readonly active: boolean;
  /** The id the server gave (`rtio:hello`), if any. */
  readonly id: string | undefined;
  /** The rooms asked for. */
  readonly rooms: string[];
  connect(): this;
  open(): this;
  /** Disconnects until `connect()`; emits held meanwhile are dropped (their acks fail). */
  disconnect(): this;
  close(): this;
  /** Adds a room (a reconnect with the new set); resolves at the next connect. */
  join(room: string): Promise<void>;
  /** Removes a room (a reconnect with the new set); resolves at the next connect. */
  leave(room: string): Promise<void>;
  /**
   * A room handle with presence (needs a server that sends `rtio:members`, as examples/server
   * does). `RoomEvents`: the events members send each other; `Meta`: what each member joins with.
   */
  room<RoomEvents extends EventsMap = DefaultEventsMap, Meta = any>(name: string): Room<RoomEvents, Meta, this>;
  /** Sends the next emit to `room`. */
  to(room: string): this;
  /** Sends an event; a function as last argument gets the ack. Held while disconnected. Reserved names are refused (the call throws). */
  emit<Ev extends EventNames<EmitEvents>>(
    ev: Ev & NotReserved<Ev, StreamReservedEventNames>,
    ...args: EventParams<EmitEvents, Ev>
  ): this;
  /** Sends an event whose last parameter is an acknowledgement and resolves with the ack; rejects on an error, a timeout or a lost connection. */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev & NotReserved<Ev, StreamReservedEventNames>,
    ...args: EventArgsWithoutAck<EmitEvents, Ev>
  ): Promise<EmitWithAckResult<EmitEvents, Ev>>;
  /** The ack timeout of the next emit (ms); its callback becomes error-first `(err, ...args)`. */
  timeout(ms: number): StreamClient<ListenEvents, DecorateAcknowledgements<EmitEvents>>;
  /** The next emit is dropped rather than held when not connected. */
  readonly volatile: this;
  onAny(listener: (event: string, ...args: any[]) => void): this;
  prependAny(listener: (event: string, ...args: any[]) => void): this;
  offAny(listener?: (event: string, ...args: any[]) => void): this;
  listenersAny(): ((event: string, ...args: any[]) => void)[];
  /** Disconnects and frees the client's resources; it cannot be used again. */
  free(): void;
}
