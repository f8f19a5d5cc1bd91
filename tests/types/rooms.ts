// Room handles (ROOMS.md): typed room events and presence meta, and untyped rooms.
import { io } from "rtio";
import type { Member, Presence, Room, Socket } from "rtio";
import { expectEqual, expectType } from "./util.js";

interface DocEvents {
  cursor: (pos: { x: number; y: number }) => void;
  typing: () => void;
  edit: (at: number, text: string) => void;
}

interface User {
  name: string;
  color?: string;
}

const socket = io();
const room = socket.room<DocEvents, User>("doc:42");
expectType<Room<DocEvents, User, Socket>>(room);
expectType<Room<DocEvents, User>>(room);
expectType<string>(room.name);
expectType<boolean>(room.joined);
expectEqual<typeof room.socket, typeof socket>(true);

async function typed() {
  const members = await room.join({ name: "Ada", color: "#e91e63" });
  expectEqual<typeof members, Member<User>[]>(true);
  for (const m of members) {
    expectType<string>(m.id);
    expectEqual<typeof m.meta, User | null>(true);
  }
  await room.join({ name: "Ada B." }); // an update of the meta
  await room.join(); // meta null
  await room.join(null);
  // @ts-expect-error: a meta of the wrong shape
  await room.join({ nme: "Ada" });
  // @ts-expect-error: a meta of the wrong type
  await room.join("Ada");
  // @ts-expect-error: a meta field of the wrong type
  await room.join({ name: "Ada", color: 3 });
  // @ts-expect-error: a member's meta may be null
  const n: string = members[0].meta.name;
  // @ts-expect-error: the members are not strings
  const ids: string[] = members;
  await room.leave();
  return n + ids;
}

// Listeners get the event's arguments, then the member who sent it.
room.on("cursor", (pos, from) => {
  expectEqual<typeof pos, { x: number; y: number }>(true);
  expectEqual<typeof from, Member<User>>(true);
  expectType<string | undefined>(from.meta?.name);
});
room.on("cursor", (pos) => {}); // from may be left out
room.on("typing", (from) => expectType<Member<User>>(from));
room.on("edit", (at, text, from) => {
  expectType<number>(at);
  expectType<string>(text);
  expectType<string>(from.id);
});
room.once("typing", () => {});
room.off("cursor");
room.off();
// @ts-expect-error: not an event of the room
room.on("chat", () => {});
// @ts-expect-error: wrong argument type
room.on("cursor", (pos: string) => {});
// @ts-expect-error: the sender comes after the arguments
room.on("edit", (at: number, from: Member<User>) => {});
// @ts-expect-error: the sender's meta is a User
room.on("typing", (from: Member<number>) => {});
// @ts-expect-error: more parameters than the arguments and the sender
room.on("typing", (from, extra: string) => {});

room.emit("cursor", { x: 0.25, y: 0.5 });
room.emit("typing");
room.emit("edit", 3, "abc");
room.volatile.emit("cursor", { x: 0, y: 0 });
expectEqual<ReturnType<typeof room.emit<"typing">>, typeof room>(true);
// @ts-expect-error: not an event of the room
room.emit("chat", "hi");
// @ts-expect-error: wrong argument type
room.emit("cursor", "here");
// @ts-expect-error: missing argument
room.emit("edit", 3);
// @ts-expect-error: one argument too many
room.emit("typing", 1);
// @ts-expect-error: room events have no acknowledgement
room.emit("typing", () => {});
// @ts-expect-error: volatile emits are checked too
room.volatile.emit("cursor", { x: "0", y: 0 });

// Presence carries the meta type.
const presence: Presence<User> = room.presence;
expectEqual<typeof presence.members, Member<User>[]>(true);
presence.on("join", (m) => expectEqual<typeof m, Member<User>>(true));
presence.on("leave", (m) => expectType<string>(m.id));
presence.on("update", (m) => expectType<User | null>(m.meta));
presence.on("sync", (all) => expectEqual<typeof all, Member<User>[]>(true));
presence.on("error", (err) => expectType<Error>(err));
presence.off("join");
// @ts-expect-error: not a presence event
presence.on("joined", () => {});
// @ts-expect-error: join gives one member
presence.on("join", (m: Member<User>[]) => {});
// @ts-expect-error: sync gives the members
presence.on("sync", (m: Member<User>) => {});
// @ts-expect-error: the member's meta is a User
presence.on("update", (m: Member<{ age: number }>) => {});
// @ts-expect-error: members is read-only
presence.members = [];

// A room whose events a message event map declares an ack for cannot emit it.
const ackRoom = socket.room<{ ask: (q: string, cb: (a: string) => void) => void }>("ack");
// @ts-expect-error: room events have no acknowledgement
ackRoom.emit("ask", "q", (a: string) => {});

// Untyped rooms accept anything, with `any` meta.
const any = socket.room("lobby");
any.on("whatever", (a, b, from) => {});
any.on("typed-by-hand", (n: number, from: Member) => {});
any.emit("whatever", 1, "two", { three: 3 });
any.volatile.emit("x");
async function untyped() {
  const members = await any.join({ anything: [1, 2] });
  expectType<any>(members[0].meta);
  await any.join(42);
  await any.join();
}
any.presence.on("join", (m) => expectType<any>(m.meta));
// @ts-expect-error: even untyped, presence events are checked
any.presence.on("joined", () => {});
// @ts-expect-error: a room name is a string
socket.room(42);

// Meta only: typed presence, untyped events.
const metaOnly = socket.room<any, { n: number }>("m");
metaOnly.emit("free", 1);
// @ts-expect-error: the meta type still applies
void metaOnly.join({ n: "1" });

// A typed socket's rooms.
const typedSocket = io<{ srv: (x: number) => void }, { cli: (y: string) => void }>();
const typedRoom = typedSocket.room<DocEvents, User>("doc:1");
typedRoom.emit("typing");
expectEqual<typeof typedRoom.socket, typeof typedSocket>(true);
typedRoom.socket.emit("cli", "y");
// @ts-expect-error: the room's socket keeps its own types
typedRoom.socket.emit("cli", 1);
