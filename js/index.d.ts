// Type definitions for rtio: the socket.io-client 4.8 API subset implemented by index.js.
//
// Typed events work as in socket.io-client: give the events the server sends and the events
// the client sends, and `on`, `emit`, `emitWithAck` and `timeout()` check names, arguments and
// acknowledgements.
//
//   interface ServerToClientEvents { chat: (from: string, text: string) => void }
//   interface ClientToServerEvents { sum: (a: number, b: number, ack: (n: number) => void) => void }
//   const socket = io<ServerToClientEvents, ClientToServerEvents>("https://example.com");
//   const n: number = await socket.emitWithAck("sum", 1, 2);
//
// Without type arguments every event name and argument is accepted (`any`).

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

/** The names of the user's events and of the reserved (lifecycle) events. */
export type ReservedOrUserEventNames<ReservedEvents extends EventsMap, UserEvents extends EventsMap> =
  | EventNames<ReservedEvents>
  | EventNames<UserEvents>;

/** The listener of event `Ev`: a reserved event's signature wins over a user event of the same name. */
export type ReservedOrUserListener<
  ReservedEvents extends EventsMap,
  UserEvents extends EventsMap,
  Ev extends ReservedOrUserEventNames<ReservedEvents, UserEvents>,
> = FallbackToUntypedListener<
  Ev extends EventNames<ReservedEvents> ? ReservedEvents[Ev] : Ev extends EventNames<UserEvents> ? UserEvents[Ev] : never
>;

type FallbackToUntypedListener<T> = [T] extends [never] ? (...args: any[]) => void | Promise<void> : T;

type AnyFunction = (...args: any[]) => any;
type IsAny<T> = 0 extends 1 & T ? true : false;

/** The last element of a tuple (`never` for an empty one, `any` for an array). */
export type Last<T extends any[]> = T extends [...infer _H, infer L] ? L : T extends [] ? never : any;
/** A tuple without its last element (`any[]` for an array). */
export type AllButLast<T extends any[]> = T extends [...infer H, infer _L] ? H : any[];

/** Whether the last parameter of listener signature `F` is a function (an acknowledgement callback). */
type HasAck<F> = F extends (...args: infer P) => any
  ? [Last<Required<P>>] extends [never]
    ? false
    : [Last<Required<P>>] extends [AnyFunction]
      ? true
      : false
  : false;

/** The events of a map whose last parameter is an acknowledgement callback. */
export type EventNamesWithAck<Map extends EventsMap> = {
  [K in keyof Map]: HasAck<Map[K]> extends true ? K : never;
}[keyof Map] &
  (string | symbol);

/** The arguments of an event with acknowledgement, without the callback (the optional one included). */
export type EventArgsWithoutAck<Map extends EventsMap, Ev extends EventNames<Map>> = AllButLast<Required<EventParams<Map, Ev>>>;

/**
 * What `emitWithAck` resolves with: the first argument of the acknowledgement callback, or its
 * second when the first is the `Error` that `timeout()` puts there.
 */
export type AckResult<Ack> = Ack extends (...args: infer P) => any ? FirstAckValue<P> : any;
type FirstAckValue<P extends any[]> = P extends [infer F, ...infer Rest]
  ? IsAny<F> extends true
    ? F
    : [F] extends [Error]
      ? Rest extends []
        ? undefined
        : Rest extends [infer S, ...any[]]
          ? S
          : Rest extends [(infer S)?, ...any[]]
            ? S | undefined
            : any
      : F
  : P extends []
    ? undefined
    : P extends [(infer F)?, ...any[]]
      ? F | undefined
      : any;

/** The value `emitWithAck(ev, ...)` resolves with. */
export type EmitWithAckResult<Map extends EventsMap, Ev extends EventNames<Map>> = AckResult<Last<Required<EventParams<Map, Ev>>>>;

type PrependTimeoutError<T extends any[]> = {
  [K in keyof T]: T[K] extends (...args: infer P) => infer R ? (err: Error, ...args: P) => R : T[K];
};
/**
 * An event map whose acknowledgement callbacks take an `Error` first: what `timeout()` does
 * (the error is `null` when the acknowledgement came in time).
 */
export type DecorateAcknowledgements<E> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R ? (...args: PrependTimeoutError<P>) => R : E[K];
};

/** Event names a Socket refuses to emit (its `emit` throws). */
export type SocketReservedEventNames =
  | "connect"
  | "connect_error"
  | "disconnect"
  | "disconnecting"
  | "newListener"
  | "removeListener";

/** `unknown` for an event name that may be emitted, `never` (a type error) for a reserved one. */
export type NotReserved<Ev, Reserved> = Ev extends Reserved ? never : unknown;

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
/** socket.io-client's name for {@link ConnectError}. */
export type ExtendedError = ConnectError;

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
  /** With `shared`: how many tabs use the shared connection now (told on joining, then on each change). */
  tabs: (count: number) => void;
}

/**
 * Event emitter shared by Manager, Socket, rooms and presence (component-emitter semantics).
 * `ListenEvents` are the user's events, `ReservedEvents` the lifecycle events of the emitter;
 * the latter win when both name an event. A type only: rtio exports no `Emitter` value.
 */
declare class Emitter<ListenEvents extends EventsMap, ReservedEvents extends EventsMap = {}> {
  /** Adds a listener. */
  on<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  /** Adds a listener removed after its first call. */
  once<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  /** Removes one listener, every listener of `ev`, or (without arguments) all listeners. */
  off<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  /** Alias of `on`. */
  addEventListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  /** Alias of `off`. */
  removeListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  /** Alias of `off`. */
  removeEventListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  /** Alias of `off`: removes every listener of `ev`, or all listeners. */
  removeAllListeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(ev?: Ev): this;
  /** The listeners of `ev`. */
  listeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
  ): ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>[];
  /** Whether `ev` has listeners. */
  hasListeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(ev: Ev): boolean;
  /** Calls the listeners of `ev` locally (how lifecycle events are raised). */
  protected emitReserved<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    ...args: Parameters<ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>>
  ): this;
}
export type { Emitter };

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
  /**
   * The transports to use, the first one first: "polling" (HTTP long-polling, which gets
   * through proxies that block WebSocket) and "websocket"; other names are passed over.
   * `["websocket"]` connects over WebSocket only. @default ["polling", "websocket"]
   */
  transports?: ("polling" | "websocket" | "webtransport")[];
  /** A connection that starts on polling upgrades to WebSocket when the server offers it. @default true */
  upgrade?: boolean;
  /** Once an upgrade to WebSocket has succeeded, later connections of this Manager start on WebSocket. @default false */
  rememberUpgrade?: boolean;
  /** When the WebSocket of an attempt cannot open, try polling in the same attempt. @default false */
  tryAllTransports?: boolean;
  /** Send cookies with cross-origin polling requests (the server must allow credentials in its CORS answer). @default false */
  withCredentials?: boolean;
  /** Headers of every polling request. A browser's WebSocket cannot carry headers: not sent over WebSocket (as in socket.io-client). */
  extraHeaders?: Record<string, string>;
  /** Make each polling request's URL unique, against caches. @default true */
  timestampRequests?: boolean;
  /** The query parameter of that timestamp. @default "t" */
  timestampParam?: string;
  /** Close the transport when the page is about to unload, so that the server learns at once (a polling server would otherwise wait for the heartbeat). If the page stays, the connection is made again. @default false */
  closeOnBeforeunload?: boolean;
  /** Connect sockets as soon as they are created. @default true */
  autoConnect?: boolean;
  /**
   * Share one connection among the tabs of this origin that ask for the same server URL (and,
   * given a string, the same name): it lives in a SharedWorker, or in one tab elected through
   * the Web Locks API; every tab keeps this API. See the README, "One connection for every tab".
   * @default false
   */
  shared?: boolean | string;
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
  /**
   * Logs packets and state changes to the console (also on when `localStorage.debug` matches
   * `rtio:*`, as with socket.io's `debug`); off by default and costs nothing when off.
   * @default false
   */
  debug?: boolean;
}

/** Options of a Socket (one namespace). */
export interface SocketOptions {
  /** Sent with the namespace CONNECT. A function is called before every (re)connect: it passes the data to its callback, or returns it (or a promise of it); a rejection stops the socket with `connect_error`. */
  auth?: { [key: string]: any } | ((cb: (data: object) => void) => void | object | Promise<object | void>);
  /** Default ack timeout in ms; with it, ack callbacks are error-first `(err, ...args)`. */
  ackTimeout?: number;
}

/** A view of the underlying connection, for code written against engine.io-client. */
export interface EngineView
  extends Emitter<{}, { open: (id: string) => void; close: (reason: DisconnectReason) => void; upgrade: (transport: { name: "websocket" }) => void }> {
  /** Engine.IO session id, set when the connection opens. */
  id?: string;
  /** The transport in use (`name` undefined when there is none). */
  readonly transport: { name: "polling" | "websocket" | undefined };
}

/** One connection to a server, shared by the Sockets of its namespaces. */
export declare class Manager<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends Emitter<{}, ManagerReservedEvents> {
  /** Only the origin and query of `uri` are used; absent or relative → the page's origin. */
  constructor(uri?: string, opts?: Partial<ManagerOptions & SocketOptions>);
  constructor(opts: Partial<ManagerOptions & SocketOptions>);
  readonly uri: string | undefined;
  readonly opts: Partial<ManagerOptions & SocketOptions>;
  /** Sockets by namespace. */
  readonly nsps: Record<string, Socket<ListenEvents, EmitEvents>>;
  readonly engine: EngineView;
  /** With `shared`: how many tabs use the shared connection (see the `tabs` event); undefined until known. */
  readonly tabs: number | undefined;
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
> extends Emitter<ListenEvents, SocketReservedEvents> {
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
   * Reserved event names ("connect", "disconnect", ...) are refused (the call throws).
   */
  emit<Ev extends EventNames<EmitEvents>>(
    ev: Ev & NotReserved<Ev, SocketReservedEventNames>,
    ...args: EventParams<EmitEvents, Ev>
  ): this;
  /**
   * Emits an event whose last parameter is an acknowledgement and resolves with the first
   * argument of the acknowledgement. Rejects with Error("operation has timed out") or
   * Error("socket has been disconnected").
   * @example const reply = await socket.timeout(2000).emitWithAck("echo", { a: 1 });
   */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev & NotReserved<Ev, SocketReservedEventNames>,
    ...args: EventArgsWithoutAck<EmitEvents, Ev>
  ): Promise<EmitWithAckResult<EmitEvents, Ev>>;
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
   * `RoomEvents` are the events the members send each other, `Meta` what each member joins with.
   * @example
   * const room = socket.room<{ cursor: (x: number, y: number) => void }, { name: string }>("doc:42");
   * const members = await room.join({ name: "Ada" });
   * room.on("cursor", (x, y, from) => draw(from.meta?.name, x, y));
   */
  room<RoomEvents extends EventsMap = DefaultEventsMap, Meta = any>(name: string): Room<RoomEvents, Meta, this>;
}

type SocketDisconnectReason = DisconnectReason;
/** socket.io-client's `Socket.DisconnectReason`. */
export declare namespace Socket {
  type DisconnectReason = SocketDisconnectReason;
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
export interface Presence<Meta = any> extends Emitter<{}, PresenceEvents<Meta>> {
  /** The members, this socket included. */
  readonly members: Member<Meta>[];
}

/** The listeners of a room's events: the event's arguments, then the member who sent it (any arguments for an event without a fixed list). */
export type RoomListeners<RoomEvents extends EventsMap, Meta = any> = {
  [Ev in keyof RoomEvents]: RoomEvents[Ev] extends (...args: infer P) => any
    ? number extends P["length"]
      ? (...args: any[]) => void
      : (...args: [...P, Member<Meta>]) => void
    : (...args: any[]) => void;
};

/** The arguments of a room event; `never` when its last parameter is a function (room events have no acknowledgement). */
export type RoomEmitArgs<P extends any[]> = [Last<P>] extends [never] ? P : IsAny<Last<P>> extends true ? P : [Last<P>] extends [AnyFunction] ? never : P;

/**
 * A room of the rooms convention, made by `socket.room(name)`. Its listeners get the other
 * members' room events, with the sending member as last argument. After a reconnect it is
 * joined again by itself (unless the server recovered the session), and presence is brought up
 * to date without repeated events. `RoomEvents`: the events members send each other (one map
 * for both ways; no acknowledgements); `Meta`: what each member joins with. A type only: rtio
 * exports no `Room` value.
 */
declare class Room<RoomEvents extends EventsMap = DefaultEventsMap, Meta = any, Owner = Socket<any, any>> extends Emitter<
  RoomListeners<RoomEvents, Meta>
> {
  /** The socket (or SSE / WebSocket client) the room belongs to. */
  readonly socket: Owner;
  readonly name: string;
  /** Joined now: false before the join is acknowledged and while reconnecting. */
  readonly joined: boolean;
  readonly presence: Presence<Meta>;
  /** Joins with `meta` (`null` if none; or updates it when joined); resolves with the members, rejects with the server's reason. */
  join(meta?: Meta | null): Promise<Member<Meta>[]>;
  /** Leaves the room; its listeners and presence listeners are removed. */
  leave(): Promise<void>;
  /** Sends an event to the other members (no acknowledgement); held while (re)joining. Throws if the room was never joined. */
  emit<Ev extends EventNames<RoomEvents>>(ev: Ev, ...args: RoomEmitArgs<EventParams<RoomEvents, Ev>>): this;
  /** Flags the next emit as volatile: dropped unless the room is joined and the socket connected. */
  readonly volatile: this;
}
export type { Room };

/** Options accepted by `io()`. */
export type IoOptions = Partial<ManagerOptions & SocketOptions>;

/**
 * Returns a Socket for the namespace of `uri` ("/" by default), sharing the connection of
 * the same server unless `forceNew` / `multiplex: false`. `ListenEvents` are the events the
 * server sends, `EmitEvents` those the client sends (socket.io-client's ServerToClientEvents
 * and ClientToServerEvents).
 * @example const socket = io<ServerToClientEvents, ClientToServerEvents>("https://example.com", { auth: { token } });
 */
export declare function io<ListenEvents extends EventsMap = DefaultEventsMap, EmitEvents extends EventsMap = ListenEvents>(
  opts?: IoOptions,
): Socket<ListenEvents, EmitEvents>;
export declare function io<ListenEvents extends EventsMap = DefaultEventsMap, EmitEvents extends EventsMap = ListenEvents>(
  uri?: string,
  opts?: IoOptions,
): Socket<ListenEvents, EmitEvents>;
/**
 * Where the wasm can be loaded from: its URL, a `fetch` Response (or a promise of one), its
 * bytes, or a compiled `WebAssembly.Module`.
 */
export type WasmSource = string | URL | Response | PromiseLike<Response> | BufferSource | WebAssembly.Module;

/**
 * Loads the wasm now instead of at the first connection (which loads it when needed), from
 * `source`, by default the `rtio.wasm` beside the module (`rtio/rtio.wasm` in the package's
 * `exports`). Resolves once it is ready; rejects with an Error naming the URL and the HTTP
 * status (or the cause, such as a Content-Security-Policy without `'wasm-unsafe-eval'`).
 * @example await init(); // preload, e.g. while the page renders
 */
export declare function init(source?: WasmSource): Promise<void>;

/**
 * Instantiates the wasm synchronously from its bytes or a compiled `WebAssembly.Module`: for
 * Node, workers and tests, where there is no URL to fetch it from.
 * @example initSync(readFileSync(fileURLToPath(import.meta.resolve("rtio/rtio.wasm"))));
 */
export declare function initSync(bytes: BufferSource | WebAssembly.Module): void;

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
