// rtio/server: attachRooms fits socket.io 4's own types.
import { Server, type Socket } from "socket.io";
import { attachRooms, DEFAULT_LIMITS } from "rtio/server";
import type { AttachRoomsOptions, JoinReply, Json, PresenceChange, RelayReply, RoomLimits, RoomMember } from "rtio/server";
import { expectType } from "./util.js";

const io = new Server(0);
const detach = attachRooms(io);
expectType<() => void>(detach);
detach();
attachRooms(io.of("/admin"));
attachRooms(io.of(/^\/doc-\d+$/));
attachRooms(io, { authorize: (socket, room, meta) => !room.startsWith("admin:") });
attachRooms(io, { authorize: async (socket, room) => (room === "x" ? "no x" : true) });
attachRooms<Socket>(io, { authorize: (socket) => socket.data.isAdmin === true || socket.handshake.auth.token === "t" });

attachRooms(io, { limits: { relaysPerSecond: 50, relayBurst: 100, membersPerRoom: Infinity } });
expectType<number>(DEFAULT_LIMITS.relayBytes);
const limits: RoomLimits = { ...DEFAULT_LIMITS, presenceIntervalMs: 0 };
const relayed: RelayReply = { ok: false, error: "rate limited" };
// @ts-expect-error: a limit's name
attachRooms(io, { limits: { relaysPerSec: 5 } });
// @ts-expect-error: limits are numbers
attachRooms(io, { limits: { roomsPerSocket: "3" } });
// @ts-expect-error: the defaults are read-only
DEFAULT_LIMITS.relayBurst = 1;
const reply: JoinReply = { ok: true, members: [{ id: "a", meta: { name: "Ada" } }] };
const refused: JoinReply = { ok: false, error: "not allowed" };
const change: PresenceChange = { left: "a" };
const member: RoomMember = { id: "b", meta: null };
const meta: Json = { list: [1, "two", null, { deep: true }] };
const opts: AttachRoomsOptions = {};
// @ts-expect-error: a refusal needs its reason
const bad: JoinReply = { ok: false };
// @ts-expect-error: not a presence change
const badChange: PresenceChange = { joined: "a" };
// @ts-expect-error: meta is JSON
const badMeta: Json = { f: () => 1 };
// @ts-expect-error: authorize answers a boolean or a reason
attachRooms(io, { authorize: () => 1 });
// @ts-expect-error: not a server or a namespace
attachRooms({});
// @ts-expect-error: the hook's name
attachRooms(io, { authorise: () => true });
void [limits, relayed, reply, refused, change, member, meta, opts, bad, badChange, badMeta];
