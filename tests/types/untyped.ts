// Without type arguments: every event and argument is accepted, as with socket.io-client's
// DefaultEventsMap; only what rtio refuses at run time (reserved names) is refused.
import io, { connect, Manager, Socket, protocol } from "rtio";
import type { DefaultEventsMap, Emitter, Room } from "rtio";
import { expectEqual, expectType } from "./util.js";

const socket = io();
expectEqual<typeof socket, Socket<DefaultEventsMap, DefaultEventsMap>>(true);
expectType<Socket>(socket);
expectType<5>(protocol);

socket.on("anything", (a, b, c) => {
  expectEqual<typeof a, any>(true);
});
socket.on("typed-by-hand", (n: number, s: string) => {});
socket.once("x", () => {});
socket.off("x");
socket.emit("anything");
socket.emit("anything", 1, "two", { three: 3 }, [4], new Uint8Array(5));
socket.emit("with-ack", 1, (reply: string) => {});
socket.timeout(100).emit("with-ack", (err: Error | null, reply: unknown) => {});
socket.volatile.emit("v", 1);
socket.send("m");
const name: string = "dynamic";
socket.emit(name, 1);
socket.on(name, () => {});

async function acks() {
  const anyValue = await socket.emitWithAck("anything", 1, 2);
  expectEqual<typeof anyValue, any>(true);
  const n: number = await socket.emitWithAck("sum", 1, 2);
  const t = await socket.timeout(10).emitWithAck("x");
  expectEqual<typeof t, any>(true);
  await socket.emitWithAck(name);
  return n;
}

// The reserved events keep their types without a map.
socket.on("connect", () => {});
socket.on("disconnect", (reason) => {
  expectEqual<typeof reason, Socket.DisconnectReason>(true);
});
socket.on("connect_error", (err) => expectType<Error>(err));
// @ts-expect-error: a reserved event's listener keeps its type
socket.on("disconnect", (reason: number) => {});
// @ts-expect-error: connect_error gives an Error
socket.on("connect_error", (err: string) => {});
// @ts-expect-error: reserved names are refused even without a map (emit throws)
socket.emit("connect");
// @ts-expect-error: reserved names are refused even without a map (emit throws)
socket.emit("connect_error", new Error("x"));
// @ts-expect-error: reserved names are refused even without a map (emit throws)
socket.emit("disconnect");
// @ts-expect-error: reserved names are refused even without a map (emit throws)
socket.emit("disconnecting");
// @ts-expect-error: reserved names are refused even without a map (emit throws)
socket.emit("newListener");
// @ts-expect-error: reserved names are refused even without a map (emit throws)
socket.emit("removeListener");
// @ts-expect-error: also with a timeout
socket.timeout(5).emit("connect");
// @ts-expect-error: also volatile
socket.volatile.emit("disconnect");
// @ts-expect-error: an event name is a string
socket.emit(42);
// @ts-expect-error: an event name is a string
socket.on(42, () => {});

// socket.io-client style: io.connect, new Manager, io.Socket.
const s2 = connect("https://example.com");
s2.emit("x");
const m = new Manager("https://example.com");
const s3 = m.socket("/chat");
expectType<Socket>(s3);
expectEqual<typeof io.Socket, typeof Socket>(true);
expectEqual<typeof io.Manager, typeof Manager>(true);

// A typed socket is still a Socket.
const typed = io<{ a: (n: number) => void }, { b: (s: string) => void }>();
expectType<Socket<any, any>>(typed);

// Emitter and Room are types only (index.js exports no such values), usable in annotations.
function listen(e: Emitter<{ tick: (n: number) => void }>) {
  e.on("tick", (n) => expectType<number>(n));
  // @ts-expect-error: the map's events only
  e.on("tock", () => {});
}
let lobby: Room | undefined = socket.room("lobby");
void [listen, lobby];

// Maps written as type aliases work like interfaces.
type Events = { a: (n: number) => void; b: (s: string, ack: (ok: boolean) => void) => void };
const aliased = io<Events>();
aliased.on("a", (n) => expectType<number>(n));
async function aliasAck() {
  const ok: boolean = await aliased.emitWithAck("b", "s");
  // @ts-expect-error: the alias's types apply
  aliased.emit("a", "1");
  return ok;
}
