// rtio/server: the server side of rtio's rooms and presence (ROOMS.md) for Node socket.io 4.
//
//   import { attachRooms } from "rtio/server";
//   const detach = attachRooms(io, { authorize: (socket, room, meta) => room !== "secret" });
//
// Reserved events, all on the namespace the helper serves:
//   rtio:join  [room, meta] + ack   → ack { ok: true, members } or { ok: false, error }
//                                     (errors: invalid room, invalid meta, meta too large, or
//                                     the authorization hook's reason)
//   rtio:leave [room] + ack         → ack { ok: true } (member or not), { ok: false, error }
//   rtio:to    [room, event, ...]   → the other members get rtio:room [room, event, from, ...];
//                                     with an ack: { ok: true } or { ok: false, error }
//   rtio:presence [room, change]    ← server to the other members: { joined | updated | left }
//
// Limits (options.limits, ROOMS.md "Limits"), so that one client cannot flood the others: a
// token bucket per socket for relays and one for joins, rooms per socket, members per room, a
// relay's size, and `updated` presence coalesced per member and room.
//
// State lives where socket.io already keeps it, so nothing here needs a store of its own:
// - room membership is the Socket.IO room of the same name (`io.to(room)` reaches members);
// - a member's meta is `socket.data.rtioRooms[room]`. socket.data travels with
//   `fetchSockets()` across a cluster (that is how the member list is read) and is restored,
//   with the rooms, by connection-state recovery. A socket that server code put into a room
//   itself has no entry there, so it is not a member and is not listed.
//
// No dependencies; works with any socket.io 4 adapter that implements fetchSockets().

const DATA_KEY = "rtioRooms";
// How long a socket over its relay rate is not read (WebSocket transport).
const FLOOD_REST_MS = 100;
const MAX_ROOM_LENGTH = 128;
const MAX_META_BYTES = 1024;

// The limits' defaults (ROOMS.md): room for a cursor at 144 frames a second and a chat beside.
export const DEFAULT_LIMITS = Object.freeze({
  relaysPerSecond: 200,
  relayBurst: 400,
  joinsPerSecond: 10,
  joinBurst: 100,
  roomsPerSocket: 100,
  membersPerRoom: 1000,
  relayBytes: 16 * 1024,
  presenceIntervalMs: 100,
});

// The limits, defaults filled in; a bad value is a TypeError naming it. Infinity lifts a
// limit; a presence interval of 0 sends every update at once.
function readLimits(given) {
  if (given == null) return { ...DEFAULT_LIMITS };
  if (typeof given !== "object") throw new TypeError("attachRooms: options.limits must be an object");
  const limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(given)) {
    if (!hasOwn(DEFAULT_LIMITS, key)) throw new TypeError(`attachRooms: unknown limit ${key}`);
    if (value === undefined) continue;
    const least = key === "presenceIntervalMs" ? 0 : 1;
    const finite = key === "presenceIntervalMs" ? Number.isFinite(value) : true;
    if (typeof value !== "number" || Number.isNaN(value) || value < least || !finite) {
      throw new TypeError(`attachRooms: limits.${key} must be a number >= ${least}${finite ? "" : " or Infinity"}`);
    }
    limits[key] = value;
  }
  return limits;
}

// A token bucket: `rate` tokens a second, holding at most `burst`; take() spends one, or says
// there is none.
function tokenBucket(rate, burst) {
  let tokens = burst;
  let at = performance.now();
  return function take() {
    if (rate === Infinity) return true;
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - at) / 1000) * rate);
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

// The size of a relay's event and arguments: the bytes of their JSON, binary parts counted by
// their length. Infinity when they cannot be measured (nested too deep).
function relaySize(parts) {
  let binary = 0;
  let json;
  try {
    // `this[key]` is the value before its toJSON ran (a Buffer has one).
    json = JSON.stringify(parts, function (key, v) {
      const original = this[key];
      if (original instanceof ArrayBuffer || ArrayBuffer.isView(original)) {
        binary += original.byteLength;
        return null;
      }
      return v;
    });
  } catch {
    return Infinity;
  }
  return Buffer.byteLength(json ?? "", "utf8") + binary;
}

const hasOwn = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);

// Why a room name is refused, or null. The private room of a connected socket (its id) is
// checked separately, as it needs the namespace.
function badRoom(room) {
  // Length in UTF-16 code units, JavaScript's own `length` (a character outside the Basic
  // Multilingual Plane counts twice).
  if (typeof room !== "string" || room.length === 0 || room.length > MAX_ROOM_LENGTH) return "invalid room";
  // `rtio:` names are the convention's own; `["rtio:` is how socketioxide servers name the
  // private rooms that carry meta.
  if (room.startsWith("rtio:") || room.startsWith('["rtio:')) return "invalid room";
  return null;
}

// Why meta is refused, or null: it must be JSON (no binary attachment) of at most 1,024 bytes.
function badMeta(meta) {
  // Iterative, so no nesting depth the wire allows can overflow the stack.
  for (const stack = [meta]; stack.length > 0; ) {
    const v = stack.pop();
    if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return "invalid meta";
    if (v !== null && typeof v === "object") for (const x of Object.values(v)) stack.push(x);
  }
  let json;
  try {
    json = JSON.stringify(meta);
  } catch {
    return "meta too large"; // nested too deep for the engine: far more than 1,024 bytes
  }
  return Buffer.byteLength(json, "utf8") > MAX_META_BYTES ? "meta too large" : null;
}

// The socket's { room: meta } record, created on first use. Null-prototype, so a room named
// "__proto__" is just a key.
function ownRooms(socket) {
  if (socket.data === null || typeof socket.data !== "object") socket.data = {};
  let rooms = socket.data[DATA_KEY];
  if (rooms === null || typeof rooms !== "object") {
    rooms = socket.data[DATA_KEY] = Object.create(null);
  }
  return rooms;
}

// The record of any socket, local or remote (a fetchSockets() result); never creates it.
function roomsOf(socket) {
  const rooms = socket.data !== null && typeof socket.data === "object" ? socket.data[DATA_KEY] : undefined;
  return rooms !== null && typeof rooms === "object" ? rooms : null;
}

// A member: in the Socket.IO room, having joined it through rtio:join.
function isMember(socket, room) {
  const rooms = roomsOf(socket);
  return rooms !== null && typeof room === "string" && socket.rooms.has(room) && hasOwn(rooms, room);
}

// A member as the member list counts it: any socket, local or remote, with a record of the room.
function isListed(socket, room) {
  const rooms = roomsOf(socket);
  return rooms !== null && hasOwn(rooms, room);
}

// The rooms this socket is a member of, with its meta in each: [[room, meta], ...].
function memberships(socket) {
  const rooms = roomsOf(socket);
  if (rooms === null) return [];
  return Object.keys(rooms)
    .filter((room) => socket.rooms.has(room))
    .map((room) => [room, rooms[room]]);
}

// The members of a room, across the cluster.
async function membersOf(nsp, room) {
  const sockets = await nsp.in(room).fetchSockets();
  return sockets.filter((s) => isListed(s, room)).map((s) => ({ id: s.id, meta: roomsOf(s)[room] }));
}

// The authorization hook's verdict: null to accept, or the reason it refused.
async function verdict(authorize, socket, room, meta) {
  if (!authorize) return null;
  let result;
  try {
    result = await authorize(socket, room, meta);
  } catch (err) {
    const message = err && typeof err.message === "string" ? err.message : typeof err === "string" ? err : "";
    return message || "not allowed";
  }
  if (result === true) return null;
  // Anything else refuses; a forgotten `return` must not let everyone in.
  return typeof result === "string" && result !== "" ? result : "not allowed";
}

const errorText = (err) => (err && typeof err.message === "string" && err.message) || "internal error";

/**
 * Serves rtio rooms and presence (ROOMS.md) on a socket.io server.
 *
 * @param target a socket.io `Server` (its main namespace `/` is served) or a `Namespace`
 *   (`io.of("/name")`, or a dynamic namespace `io.of(/regex/)`).
 * @param options.authorize optional `(socket, room, meta) => boolean | string | Promise<...>`:
 *   `true` accepts a join; `false` refuses it with "not allowed", a string with that reason,
 *   a thrown error (or rejection) with its message. Runs for every join, re-joins included.
 * @returns a function that removes the helper's handlers (members stay in their rooms).
 */
export function attachRooms(target, options = {}) {
  // A Server has of(); a Namespace (dynamic ones included) does not.
  const nsp = target && typeof target.of === "function" ? target.of("/") : target;
  if (!nsp || typeof nsp.on !== "function" || typeof nsp.off !== "function") {
    throw new TypeError("attachRooms: expected a socket.io Server or Namespace");
  }
  const authorize = options && options.authorize;
  if (authorize != null && typeof authorize !== "function") {
    throw new TypeError("attachRooms: options.authorize must be a function");
  }
  const limits = readLimits(options && options.limits);

  const attached = new Map(); // socket → its handlers, to detach
  const live = new Map(); // id → the connected socket set up last under that id

  // Connection-state recovery can hand a session to a new connection while the server still
  // holds the old one under the same id: the client gave up on its link first (over
  // long-polling the server notices a vanished client only at its next heartbeat). When that
  // old connection ends, socket.io takes the id out of every room and out of the namespace,
  // and the recovered socket would receive nothing more, not even what is sent to its own id.
  // So the old one is closed now, without telling the rooms (the member is still here), and
  // the recovered socket is put back.
  function supersede(earlier, socket) {
    const rooms = [...socket.rooms];
    const handlers = attached.get(earlier);
    if (handlers) earlier.off("disconnecting", handlers.disconnecting);
    earlier.disconnect(true);
    socket.join(rooms);
    socket.nsp.sockets.set(socket.id, socket);
  }

  function setup(socket) {
    const earlier = live.get(socket.id);
    live.set(socket.id, socket);
    if (socket.recovered === true && earlier && earlier !== socket && earlier.connected) {
      try {
        supersede(earlier, socket);
      } catch {
        // never throw out of socket.io's connection path
      }
    }
    // Joins and leaves are asynchronous (authorization, fetchSockets); they and the messages
    // that follow them run one after the other, in the order the client sent them, so a leave
    // sent before a join's ack is handled after that join, and a message after it.
    let tail = null;
    const serial = (step) => {
      const done = (tail ? tail.then(step) : Promise.resolve().then(step)).then(
        () => {},
        () => {},
      );
      tail = done;
      done.then(() => {
        if (tail === done) tail = null;
      });
    };
    // Answers an ack, if the client asked for one; never throws out of a handler.
    const reply = (ack, value) => {
      if (typeof ack !== "function") return;
      try {
        ack(value);
      } catch {
        // the socket is gone
      }
    };
    const presence = (room, change) => socket.to(room).emit("rtio:presence", room, change);
    const takeRelay = tokenBucket(limits.relaysPerSecond, limits.relayBurst);
    // A socket over its relay rate is read no further for a moment: on one thread, what it
    // sends meanwhile would make every other socket wait behind it. Its messages wait in the
    // network (backpressure on the flooder alone), and are answered as before when read.
    let resting = false;
    const pauseReading = () => {
      const ws = socket.conn && socket.conn.transport && socket.conn.transport.socket;
      if (resting || !ws || typeof ws.pause !== "function" || typeof ws.resume !== "function") return;
      resting = true;
      ws.pause();
      setTimeout(() => {
        resting = false;
        ws.resume();
      }, FLOOD_REST_MS).unref?.();
    };
    const takeJoin = tokenBucket(limits.joinsPerSecond, limits.joinBurst);

    // `updated` presence, coalesced: the first goes at once and opens a window; updates within
    // it wait for its end, and only the last of them goes.
    const windows = new Map(); // room → { timer, pending: member | null }
    function announceUpdate(room, member) {
      const open = windows.get(room);
      if (open) {
        open.pending = member;
        return;
      }
      presence(room, { updated: member });
      if (limits.presenceIntervalMs <= 0) return;
      const window = { timer: null, pending: null };
      window.timer = setTimeout(() => {
        windows.delete(room);
        if (window.pending && socket.connected && isMember(socket, room)) announceUpdate(room, window.pending);
      }, limits.presenceIntervalMs);
      window.timer.unref?.();
      windows.set(room, window);
    }
    function closeWindow(room) {
      const open = windows.get(room);
      if (open) clearTimeout(open.timer);
      windows.delete(room);
    }
    const popAck = (args) => (typeof args[args.length - 1] === "function" ? args.pop() : null);

    async function join(room, meta) {
      const refused = badRoom(room) || badMeta(meta);
      if (refused) return { ok: false, error: refused };
      const nsp = socket.nsp;
      if (!isMember(socket, room)) {
        // A socket's private room is its id. Checked before joining, across the cluster, so
        // no socket ever sits, even briefly, in another's private room.
        if (nsp.sockets.has(room)) return { ok: false, error: "invalid room" };
        if (memberships(socket).length >= limits.roomsPerSocket) return { ok: false, error: "too many rooms" };
        const present = await nsp.in(room).fetchSockets();
        if (present.some((s) => s.id === room)) return { ok: false, error: "invalid room" };
        const members = present.filter((s) => s.id !== socket.id && isListed(s, room)).length;
        if (members >= limits.membersPerRoom) return { ok: false, error: "room full" };
      }
      const reason = await verdict(authorize, socket, room, meta);
      if (reason !== null) return { ok: false, error: reason };
      if (!socket.connected) return null;

      // Read again after the awaits: server code may have moved the socket meanwhile.
      const wasMember = isMember(socket, room);
      const wasInRoom = socket.rooms.has(room);
      const rooms = ownRooms(socket);
      const old = rooms[room];
      rooms[room] = meta;
      let members;
      try {
        await socket.join(room);
        // Read after joining: of two sockets joining at once, the later reader sees the other,
        // and the earlier one gets the later one's `joined`.
        members = await membersOf(nsp, room);
      } catch (err) {
        if (wasMember) {
          rooms[room] = old;
        } else {
          delete rooms[room];
          if (!wasInRoom) socket.leave(room);
        }
        throw err;
      }
      // Gone meanwhile: `disconnecting` has already said it left.
      if (!socket.connected) return null;
      const self = { id: socket.id, meta };
      if (!members.some((m) => m.id === socket.id)) members.push(self);
      if (wasMember) announceUpdate(room, self);
      else presence(room, { joined: self });
      return { ok: true, members };
    }

    function leave(room) {
      const refused = badRoom(room);
      if (refused) return { ok: false, error: refused };
      if (isMember(socket, room)) {
        delete roomsOf(socket)[room];
        socket.leave(room);
        closeWindow(room);
        presence(room, { left: socket.id });
      }
      return { ok: true };
    }

    const handlers = {
      "rtio:join": (...args) => {
        const ack = popAck(args);
        const [room, meta = null] = args;
        // Counted on arrival, so a flood is turned away without waiting in line.
        if (!takeJoin()) return reply(ack, { ok: false, error: "rate limited" });
        serial(async () => {
          let result;
          try {
            result = await join(room, meta);
          } catch (err) {
            result = { ok: false, error: errorText(err) };
          }
          if (result) reply(ack, result);
        });
      },
      "rtio:leave": (...args) => {
        const ack = popAck(args);
        serial(() => {
          let result;
          try {
            result = leave(args[0]);
          } catch (err) {
            result = { ok: false, error: errorText(err) };
          }
          reply(ack, result);
        });
      },
      "rtio:to": (...args) => {
        const ack = popAck(args); // optional: told whether the message went out
        const [room, event, ...rest] = args;
        if (typeof event !== "string") return reply(ack, { ok: false, error: "invalid event" });
        // Counted and measured on arrival, so a flood is turned away without waiting in line.
        if (!takeRelay()) {
          pauseReading();
          return reply(ack, { ok: false, error: "rate limited" });
        }
        if (limits.relayBytes !== Infinity && relaySize([event, ...rest]) > limits.relayBytes) return reply(ack, { ok: false, error: "too large" });
        serial(() => {
          // Dropped unless the sender is a member. Binary arguments (Buffers) go out as
          // attachments again.
          if (!isMember(socket, room)) return reply(ack, { ok: false, error: "not a member" });
          socket.to(room).emit("rtio:room", room, event, socket.id, ...rest);
          reply(ack, { ok: true });
        });
      },
      // Still in its rooms here (not in `disconnect`): tell each room it left. socket.data is
      // left alone, so connection-state recovery can restore it.
      disconnecting: () => {
        try {
          for (const [room] of memberships(socket)) presence(room, { left: socket.id });
        } catch {
          // never throw out of socket.io's close path
        }
      },
      disconnect: () => {
        for (const room of [...windows.keys()]) closeWindow(room);
        attached.delete(socket);
        if (live.get(socket.id) === socket) live.delete(socket.id);
      },
    };
    for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);
    attached.set(socket, handlers);

    // Connection-state recovery gave the socket back its rooms and socket.data; the others saw
    // it leave when the link dropped, so announce it again.
    if (socket.recovered === true) {
      try {
        for (const [room, meta] of memberships(socket)) presence(room, { joined: { id: socket.id, meta } });
      } catch {
        // nothing to undo
      }
    }
  }

  nsp.on("connection", setup);
  return function detach() {
    nsp.off("connection", setup);
    for (const [socket, handlers] of attached) {
      for (const [event, handler] of Object.entries(handlers)) socket.off(event, handler);
    }
    attached.clear();
    live.clear();
  };
}
