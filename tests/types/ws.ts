// rtio/ws: typed envelope events, acks both ways, raw `message` frames.
import wsDefault, { ws, WsClient } from "rtio/ws";
import type { Member, WsOptions } from "rtio/ws";
import { expectEqual, expectType } from "./util.js";

interface ServerEvents {
  chat: (msg: { text: string; from: string }) => void;
  pong: () => void;
  /** The server asks for an ack. */
  confirm: (id: number, ack: (ok: boolean) => void) => void;
}

interface ClientEvents {
  chat: (msg: { text: string }) => void;
  add: (a: number, b: number, ack: (sum: number) => void) => void;
  ping: () => void;
}

const sock = ws<ServerEvents, ClientEvents>("wss://example.com/ws", { pingInterval: 25000, protocols: ["v1"] });
expectEqual<typeof sock, WsClient<ServerEvents, ClientEvents>>(true);

sock.on("chat", (msg) => expectType<string>(msg.text + msg.from));
sock.on("pong", () => {});
sock.on("confirm", (id, ack) => ack(id > 0));
sock.on("message", (data) => expectEqual<typeof data, string | ArrayBuffer>(true));
sock.on("disconnect", (reason) => {});
// @ts-expect-error: not an event of the server
sock.on("add", () => {});
// @ts-expect-error: wrong argument type
sock.on("chat", (msg: string) => {});
// @ts-expect-error: the ack takes a boolean
sock.on("confirm", (id, ack) => ack("yes"));
// @ts-expect-error: raw frames are strings or ArrayBuffers
sock.on("message", (data: number) => {});

sock.emit("chat", { text: "hi" });
sock.emit("add", 1, 2, (sum) => expectType<number>(sum));
sock.emit("ping");
sock.send('["raw"]').send(new ArrayBuffer(1)).send(new Uint8Array(1));
sock.volatile.send("x");
// @ts-expect-error: not an event of the client
sock.emit("pong");
// @ts-expect-error: wrong argument shape
sock.emit("chat", { txt: "hi" });
// @ts-expect-error: wrong ack type
sock.emit("add", 1, 2, (sum: string) => {});
// @ts-expect-error: reserved names are refused
sock.emit("reconnect");
// @ts-expect-error: raw frames are strings or binary
sock.send(42);

async function acks() {
  const sum: number = await sock.emitWithAck("add", 1, 2);
  const sum2 = await sock.timeout(1000).emitWithAck("add", 3, 4);
  expectEqual<typeof sum2, number>(true);
  sock.timeout(1000).emit("add", 1, 2, (err, s) => {
    expectType<Error>(err);
    expectType<number>(s);
  });
  // timeout() keeps the WebSocket client's own methods.
  sock.timeout(1000).send("raw");
  // @ts-expect-error: the sum is a number
  const s: string = await sock.emitWithAck("add", 1, 2);
  // @ts-expect-error: chat has no ack
  await sock.emitWithAck("chat", { text: "" });
  // @ts-expect-error: missing argument
  await sock.emitWithAck("add", 1);
  return sum;
}

// A map with its own `message` event replaces the raw one.
const own = ws<{ message: (m: { kind: string }) => void }>("/ws");
own.on("message", (m) => expectType<string>(m.kind));
// @ts-expect-error: the user's message type wins
own.on("message", (m: ArrayBuffer) => {});

// Rooms over WebSocket.
const room = sock.room<{ draw: (points: number[]) => void }, { color: string }>("board");
room.on("draw", (points, from) => expectType<string | undefined>(from.meta?.color));
room.emit("draw", [1, 2, 3]);
room.presence.on("join", (m: Member<{ color: string }>) => {});
// @ts-expect-error: wrong room argument
room.emit("draw", "1,2,3");
// @ts-expect-error: wrong meta
void room.join({ colour: "red" });

// Options.
const opts: WsOptions = { envelope: false, ping: new Uint8Array([1]), pingTimeout: 0, maxBuffer: 10, reconnection: false };
wsDefault("/ws", opts);
// @ts-expect-error: envelope is a boolean
ws("/ws", { envelope: "json" });
// @ts-expect-error: an unknown option
ws("/ws", { transport: "fetch" });
ws("/ws", { debug: false });
// @ts-expect-error: debug is a boolean
ws("/ws", { debug: 1 });

// Untyped use.
const raw = ws(new URL("ws://localhost/ws"));
raw.on("anything", (a, b) => {});
raw.on("message", (data) => {});
raw.emit("anything", 1, 2, (x: unknown) => {});
// @ts-expect-error: reserved even untyped
raw.emit("connect_error");
