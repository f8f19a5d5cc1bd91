// Type definitions for rtio: the socket.io-client 4.8 API subset implemented by index.js.

/** Socket.IO protocol revision spoken by this client. */
export declare const protocol: 5;

/** Any map of event names to listener signatures. */
export interface EventsMap {
  [event: string]: any;
}

/** The event map used when none is given: any event, any arguments. */
export interface DefaultEventsMap {
  [event: string]: (...args: any[]) => void;
}

/** The names of an event map. */
export type EventNames<Map extends EventsMap> = keyof Map & (string | symbol);

/** The parameters of event `Ev` of an event map. */
export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = Parameters<Map[Ev]>;

type Last<T extends any[]> = T extends [...infer _H, infer L] ? L : any;
type AllButLast<T extends any[]> = T extends [...infer H, infer _L] ? H : any[];
type FirstNonErrorArg<T> = T extends (...args: infer P) => any ? (P[0] extends Error ? P[1] : P[0]) : any;
type PrependTimeoutError<T extends any[]> = {
  [K in keyof T]: T[K] extends (...args: infer P) => infer R ? (err: Error, ...args: P) => R : T[K];
};
/** An event map whose acknowledgement callbacks take an `Error` first (what `timeout()` does). */
export type DecorateAcknowledgements<E> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R ? (...args: PrependTimeoutError<P>) => R : E[K];
};

/** Why a socket got disconnected. */
export type DisconnectReason =
  | "io server disconnect"
  | "io client disconnect"
  | "ping timeout"
  | "transport close"
  | "transport error"
  | "parse error";

/** Details that may accompany a disconnect reason (socket.io-client compatible; rtio passes none yet). */
export type DisconnectDescription = Error | { description: string; context?: unknown };

/** The Error given to `connect_error` listeners. */
export interface ConnectError extends Error {
  /** The `data` field of the server middleware's error, if any. */
  data?: any;
}

/** Lifecycle events of a Socket (they cannot be emitted by the user). */
export interface SocketReservedEvents {
  connect: () => void;
  connect_error: (err: ConnectError) => void;
  disconnect: (reason: DisconnectReason, description?: DisconnectDescription) => void;
}

/** Events of a Manager. */
export interface ManagerReservedEvents {
  /** The connection to the server opened. */
  open: () => void;
  /** The connection to the server closed. */
  close: (reason: DisconnectReason) => void;
  /** A transport error, a malformed packet that was dropped, or an emit refused because the send buffer is full (`err.data` holds `[event, ...args]`). */
  error: (err: Error & { data?: unknown[] }) => void;
  /** Reconnection attempt `attempt` (from 1) starts. */
  reconnect_attempt: (attempt: number) => void;
  /** Attempt `attempt` succeeded. */
  reconnect: (attempt: number) => void;
  /** An attempt failed. */
  reconnect_error: (err: Error) => void;
  /** The Manager gave up after `reconnectionAttempts`; `socket.connect()` starts again. */
  reconnect_failed: () => void;
}

/** Event emitter shared by Manager and Socket (component-emitter semantics). */
export declare class Emitter<Listen extends EventsMap> {
  /** Adds a listener. */
  on<Ev extends EventNames<Listen>>(ev: Ev, listener: Listen[Ev]): this;
  /** Adds a listener removed after its first call. */
  once<Ev extends EventNames<Listen>>(ev: Ev, listener: Listen[Ev]): this;
  /** Removes one listener, every listener of `ev`, or (without arguments) all listeners. */
  off<Ev extends EventNames<Listen>>(ev?: Ev, listener?: Listen[Ev]): this;
  /** Alias of `on`. */
  addEventListener<Ev extends EventNames<Listen>>(ev: Ev, listener: Listen[Ev]): this;
  /** Alias of `off`. */
  removeListener<Ev extends EventNames<Listen>>(ev?: Ev, listener?: Listen[Ev]): this;
  /** Alias of `off`. */
  removeEventListener<Ev extends EventNames<Listen>>(ev?: Ev, listener?: Listen[Ev]): this;
  /** Alias of `off`: removes every listener of `ev`, or all listeners. */
  removeAllListeners<Ev extends EventNames<Listen>>(ev?: Ev): this;
  /** The listeners of `ev`. */
  listeners<Ev extends EventNames<Listen>>(ev: Ev): Listen[Ev][];
  /** Whether `ev` has listeners. */
  hasListeners<Ev extends EventNames<Listen>>(ev: Ev): boolean;
  /** Calls the listeners of `ev` locally. */
  emitReserved<Ev extends EventNames<Listen>>(ev: Ev, ...args: Parameters<Listen[Ev]>): this;
}

/** Options of a Manager (the connection). Unknown options are ignored. */
export interface ManagerOptions {
  /** Engine.IO path on the server. @default "/socket.io" */
  path?: string;
  /** Append a trailing slash to `path`. @default true */
  addTrailingSlash?: boolean;
  /** Extra query parameters of the connection URL (merged over the URL's own query). */
  query?: string | Record<string, string | number | boolean>;
  /** Always create a new Manager instead of reusing a cached one. @default false */
  forceNew?: boolean;
  /** Reuse one connection for the namespaces of the same server. @default true */
  multiplex?: boolean;
  /** Allowed transports; must include "websocket" (the only one supported for now). */
  transports?: string[];
  /** Connect sockets as soon as they are created. @default true */
  autoConnect?: boolean;
  /** Reconnect by itself after the link is lost (never after `disconnect()`, a server-side disconnect or a refused CONNECT). @default true */
  reconnection?: boolean;
  /** Attempts in a row before `reconnect_failed`. @default Infinity */
  reconnectionAttempts?: number;
  /** Delay before the first attempt, in ms; doubles each attempt. @default 1000 */
  reconnectionDelay?: number;
  /** Largest delay between attempts, in ms. @default 5000 */
  reconnectionDelayMax?: number;
  /** Random share of each delay, 0 to 1 (applied below the delay, after the cap). @default 0.5 */
  randomizationFactor?: number;
  /** Time for the transport to open and hand-shake, in ms. @default 20000 */
  timeout?: number;
  /** Packets a disconnected namespace keeps for its next connection; beyond, an emit is refused with an `error` event on the Manager (and its ack fails). @default 1000 */
  maxBuffer?: number;
  /** Resend each emit that has an ack callback until acknowledged, up to `retries` more times (each try bounded by `ackTimeout`); such emits go one at a time, in order. @default 0 */
  retries?: number;
}

/** Options of a Socket (one namespace). */
export interface SocketOptions {
  /** Sent with the namespace CONNECT. A function is called before every (re)connect: it passes the data to its callback, or returns it (or a promise of it); a rejection stops the socket with `connect_error`. */
  auth?: { [key: string]: any } | ((cb: (data: object) => void) => void | object | Promise<object | void>);
  /** Default ack timeout in ms; with it, ack callbacks are error-first `(err, ...args)`. */
  ackTimeout?: number;
}

/** A view of the underlying connection, for code written against engine.io-client. */
export interface EngineView extends Emitter<{ open: (id: string) => void; close: (reason: DisconnectReason) => void }> {
  /** Engine.IO session id, set when the connection opens. */
  id?: string;
  transport: { name: "websocket" };
}

/** One connection to a server, shared by the Sockets of its namespaces. */
export declare class Manager<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends Emitter<ManagerReservedEvents> {
  /** Only the origin and query of `uri` are used; absent or relative → the page's origin. */
  constructor(uri?: string, opts?: Partial<ManagerOptions & SocketOptions>);
  constructor(opts: Partial<ManagerOptions & SocketOptions>);
  readonly uri: string | undefined;
  readonly opts: Partial<ManagerOptions & SocketOptions>;
  /** Sockets by namespace. */
  readonly nsps: Record<string, Socket<ListenEvents, EmitEvents>>;
  readonly engine: EngineView;
  /** Returns the Socket of namespace `nsp` (e.g. "/admin"), creating it if needed. */
  socket(nsp: string, opts?: Partial<SocketOptions>): Socket<ListenEvents, EmitEvents>;
  /** Closes the connection; connected Sockets get `disconnect` ("io client disconnect"). */
  close(): this;
  /** Alias of `close`. */
  disconnect(): this;
  /** Calls the listeners of `ev` locally. */
  emit<Ev extends EventNames<ManagerReservedEvents>>(ev: Ev, ...args: Parameters<ManagerReservedEvents[Ev]>): this;
}

/** The client side of one namespace. */
export declare class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends Emitter<SocketReservedEvents & ListenEvents> {
  /** Use `io()` or `Manager#socket()`. */
  constructor(io: Manager, nsp: string, opts?: Partial<SocketOptions>);
  /** The Manager (connection) of this socket. */
  readonly io: Manager<ListenEvents, EmitEvents>;
  /** The namespace, e.g. "/". */
  readonly nsp: string;
  /** Session id from the server, undefined while disconnected. */
  id: string | undefined;
  /** Whether the namespace is connected. */
  connected: boolean;
  /** Whether the namespace is disconnected. */
  readonly disconnected: boolean;
  /** Connected or trying to be (also while the Manager reconnects); false after `disconnect()`, a server-side disconnect, a refused CONNECT or `reconnect_failed`. */
  readonly active: boolean;
  /** Emits waiting for the connection, oldest first, as `[event, ...args]`; assign `[]` to drop them (their acks fail). */
  sendBuffer: unknown[][];
  /** Whether the last connect recovered the previous session (connection-state recovery: same `id`, rooms kept, missed events delivered right after `connect`). */
  recovered: boolean;
  /** Credentials sent on connect; may be changed before calling `connect()` again. */
  auth: SocketOptions["auth"];

  /** Connects the namespace (no-op when connected or connecting). */
  connect(): this;
  /** Alias of `connect`. */
  open(): this;
  /** Disconnects the namespace. */
  disconnect(): this;
  /** Alias of `disconnect`. */
  close(): this;

  /**
   * Emits an event; a trailing function is the acknowledgement callback. Binary values
   * (ArrayBuffer, typed arrays, DataView) anywhere in the arguments are sent as attachments.
   * Throws for reserved event names ("connect", "disconnect", ...).
   */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): this;
  /**
   * Emits an event and resolves with the first argument of the acknowledgement. Rejects with
   * Error("operation has timed out") or Error("socket has been disconnected").
   * @example const reply = await socket.timeout(2000).emitWithAck("echo", { a: 1 });
   */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>>;
  /** Sends a "message" event. */
  send(...args: any[]): this;
  /** Ack timeout in ms for the next emit; its callback becomes `(err, ...args)`. */
  timeout(ms: number): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>>;
  /** Accepted for compatibility (no effect). */
  compress(compress: boolean): this;
  /** Flags the next emit as volatile: dropped, not buffered, while not connected (an emit with an ack callback is sent normally). */
  readonly volatile: this;

  /** Adds a listener for every incoming event. */
  onAny(listener: (event: string, ...args: any[]) => void): this;
  /** Like `onAny`, first in the list. */
  prependAny(listener: (event: string, ...args: any[]) => void): this;
  /** Removes a catch-all listener, or all of them. */
  offAny(listener?: (event: string, ...args: any[]) => void): this;
  /** The catch-all listeners. */
  listenersAny(): ((event: string, ...args: any[]) => void)[];
  /** Adds a listener for every outgoing event (ack callbacks are not passed). */
  onAnyOutgoing(listener: (event: string, ...args: any[]) => void): this;
  /** Like `onAnyOutgoing`, first in the list. */
  prependAnyOutgoing(listener: (event: string, ...args: any[]) => void): this;
  /** Removes an outgoing catch-all listener, or all of them. */
  offAnyOutgoing(listener?: (event: string, ...args: any[]) => void): this;
  /** The outgoing catch-all listeners. */
  listenersAnyOutgoing(): ((event: string, ...args: any[]) => void)[];
  /**
   * The room `name` (1 to 128 characters) of the rooms convention (ROOMS.md); the same handle
   * until it is left. Needs a server with the rooms helper (`attachRooms` from "rtio/server").
   * @example const room = socket.room("doc:42"); const members = await room.join({ name: "Ada" });
   */
  room<Meta = any>(name: string): Room<Meta>;
}

/** A member of a room: its socket id and the meta it joined with (`null` if none). */
export interface Member<Meta = any> {
  id: string;
  meta: Meta | null;
}

/** Presence events: about the other members; `sync` after every (re)join; `error` when a re-join is refused (the room is then left). */
export interface PresenceEvents<Meta = any> {
  join: (member: Member<Meta>) => void;
  leave: (member: Member<Meta>) => void;
  update: (member: Member<Meta>) => void;
  sync: (members: Member<Meta>[]) => void;
  error: (err: Error) => void;
}

/** Who is in a room. */
export interface Presence<Meta = any> extends Emitter<PresenceEvents<Meta>> {
  /** The members, this socket included. */
  readonly members: Member<Meta>[];
}

/**
 * A room of the rooms convention. Its listeners get the other members' room events, with the
 * sending member as last argument. After a reconnect it is joined again by itself (unless the
 * server recovered the session), and presence is brought up to date without repeated events.
 */
export declare class Room<Meta = any> extends Emitter<{ [event: string]: (...args: any[]) => void }> {
  readonly socket: Socket;
  readonly name: string;
  /** Joined now: false before the join is acknowledged and while reconnecting. */
  readonly joined: boolean;
  readonly presence: Presence<Meta>;
  /** Joins with `meta` (or updates it when joined); resolves with the members, rejects with the server's reason. */
  join(meta?: Meta): Promise<Member<Meta>[]>;
  /** Leaves the room; its listeners and presence listeners are removed. */
  leave(): Promise<void>;
  /** Sends an event to the other members (no acknowledgement); held while (re)joining. Throws if the room was never joined. */
  emit(ev: string, ...args: any[]): this;
  /** Flags the next emit as volatile: dropped unless the room is joined and the socket connected. */
  readonly volatile: this;
}

/** Options accepted by `io()`. */
export type IoOptions = Partial<ManagerOptions & SocketOptions>;

/**
 * Returns a Socket for the namespace of `uri` ("/" by default), sharing the connection of
 * the same server unless `forceNew` / `multiplex: false`.
 * @example const socket = io("https://example.com", { auth: { token } });
 */
export declare function io<ListenEvents extends EventsMap = DefaultEventsMap, EmitEvents extends EventsMap = ListenEvents>(
  opts?: IoOptions,
): Socket<ListenEvents, EmitEvents>;
export declare function io<ListenEvents extends EventsMap = DefaultEventsMap, EmitEvents extends EventsMap = ListenEvents>(
  uri?: string,
  opts?: IoOptions,
): Socket<ListenEvents, EmitEvents>;
type ManagerClass = typeof Manager;
type SocketClass = typeof Socket;
type IoFunction = typeof io;
/** `io.Manager`, `io.Socket`, `io.io`, `io.connect`, as on socket.io-client's `io`. */
export declare namespace io {
  const Manager: ManagerClass;
  const Socket: SocketClass;
  const io: IoFunction;
  const connect: IoFunction;
}

export { io as connect, io as default };
