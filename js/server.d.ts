// Type definitions for rtio/server: the server side of rtio's rooms and presence (ROOMS.md)
// for Node socket.io 4. Structural types only, so installing rtio never needs socket.io's types;
// a socket.io `Server`, `Namespace` and `Socket` fit them.

/** A JSON value, as a member's meta. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A member of a room: a socket id and the meta it joined with (`null` if none). */
export interface RoomMember {
  id: string;
  meta: Json;
}

/** What `rtio:presence` tells the other members of a room. */
export type PresenceChange = { joined: RoomMember } | { updated: RoomMember } | { left: string };

/**
 * The reply to `rtio:join`. `error` is `invalid room`, `invalid meta` (binary in it),
 * `meta too large` (over 1,024 bytes of JSON), `rate limited`, `too many rooms`, `room full`
 * or the authorization hook's reason.
 */
export type JoinReply = { ok: true; members: RoomMember[] } | { ok: false; error: string };

/**
 * The reply to an `rtio:to` sent with an ack. `error` is `rate limited`, `too large`,
 * `not a member` or `invalid event`.
 */
export type RelayReply = { ok: true } | { ok: false; error: string };

/**
 * What one client may do (ROOMS.md "Limits"). `Infinity` lifts a limit (the presence interval
 * excepted: 0 sends every update at once).
 */
export interface RoomLimits {
  /** `rtio:to` messages a socket may send a second, on average. @default 200 */
  relaysPerSecond: number;
  /** `rtio:to` messages a socket may send at once. @default 400 */
  relayBurst: number;
  /** `rtio:join` requests (updates included) a socket may send a second, on average. @default 10 */
  joinsPerSecond: number;
  /** `rtio:join` requests a socket may send at once: as many as `roomsPerSocket`, so a client re-joining all its rooms after a reconnect is never refused. @default 100 */
  joinBurst: number;
  /** Rooms a socket may be a member of. @default 100 */
  roomsPerSocket: number;
  /** Members a room may have. @default 1000 */
  membersPerRoom: number;
  /** Bytes of an `rtio:to` message's event and arguments (JSON, binary by its length). @default 16384 */
  relayBytes: number;
  /** An `updated` presence goes at once, then at most one per this many ms per member and room, the last one always. @default 100 */
  presenceIntervalMs: number;
}

/** The limits' defaults. */
export declare const DEFAULT_LIMITS: Readonly<RoomLimits>;

/** The parts of a socket.io `Socket` the helper uses. */
export interface RoomsSocket {
  readonly id: string;
  readonly rooms: Set<string>;
  readonly connected: boolean;
  readonly recovered?: boolean;
  /** Holds `rtioRooms: { [room]: meta }` for the rooms the socket joined through rtio. */
  data: any;
}

/** A socket.io `Namespace` (`io.of("/name")`, a dynamic one included). */
export interface RoomsNamespace {
  on(event: "connection", listener: (socket: any) => void): unknown;
  off(event: "connection", listener: (socket: any) => void): unknown;
  in(room: string): { fetchSockets(): Promise<unknown[]> };
}

/** A socket.io `Server`: its main namespace `/` is served. */
export interface RoomsServer {
  of(name: "/"): RoomsNamespace;
}

export interface AttachRoomsOptions<S extends RoomsSocket = RoomsSocket> {
  /**
   * Decides each `rtio:join`, re-joins included (validation has already passed). Return
   * `true` to accept; `false` refuses with "not allowed", a string refuses with that reason,
   * and a thrown error or a rejected promise refuses with its message.
   */
  authorize?: (socket: S, room: string, meta: Json) => boolean | string | Promise<boolean | string>;
  /** Limits against floods; those left out keep their defaults (`DEFAULT_LIMITS`). */
  limits?: Partial<RoomLimits>;
}

/**
 * Serves rtio rooms and presence on a socket.io server: `rtio:join`, `rtio:leave` and `rtio:to`
 * from clients; `rtio:presence` and `rtio:room` to them. Members' meta is kept in
 * `socket.data.rtioRooms`, so `io.in(room).fetchSockets()` reads it across a cluster and
 * connection-state recovery restores it. Returns a function that removes the helper's handlers.
 *
 * @example
 * import { Server } from "socket.io";
 * import { attachRooms } from "rtio/server";
 * const io = new Server(3000);
 * attachRooms(io, { authorize: (socket, room) => !room.startsWith("admin:") || socket.data.isAdmin === true });
 */
export declare function attachRooms<S extends RoomsSocket = RoomsSocket>(
  target: RoomsServer | RoomsNamespace,
  options?: AttachRoomsOptions<S>,
): () => void;
