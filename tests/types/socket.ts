// Typed events on io(): socket.io-client 4.8's ServerToClientEvents / ClientToServerEvents.
import { io, Manager, Socket } from "rtio";
import type { ConnectError, DisconnectDescription, DisconnectReason, ExtendedError } from "rtio";
import { expectEqual, expectType } from "./util.js";

interface Position {
  x: number;
  y: number;
}

interface ServerToClientEvents {
  noArg: () => void;
  basicEmit: (a: number, b: string, c: ArrayBuffer) => void;
  position: (p: Position) => void;
  /** The server asks; the listener answers through the callback. */
  question: (q: string, answer: (reply: boolean) => void) => void;
}

interface ClientToServerEvents {
  hello: () => void;
  chat: (text: string) => void;
  move: (p: Position) => void;
  sum: (a: number, b: number, ack: (total: number) => void) => void;
  lookup: (id: string, ack: (user: { name: string } | null, found: boolean) => void) => void;
  /** An ack with no argument. */
  save: (doc: object, ack: () => void) => void;
  /** An optional ack. */
  ping: (sent: number, ack?: (rtt: number) => void) => void;
  upload: (name: string, data: Uint8Array, ack: (size: number) => void) => void;
}

const socket = io<ServerToClientEvents, ClientToServerEvents>("https://example.com", { auth: { token: "t" } });
expectEqual<typeof socket, Socket<ServerToClientEvents, ClientToServerEvents>>(true);

// The socket.io-client way: annotate, and io() infers its type arguments from it.
const annotated: Socket<ServerToClientEvents, ClientToServerEvents> = io();
annotated.emit("chat", "hi");
const onNsp: Socket<ServerToClientEvents, ClientToServerEvents> = io("/admin", { forceNew: true });

// ---- listening ----
socket.on("noArg", () => {});
socket.on("basicEmit", (a, b, c) => {
  expectEqual<typeof a, number>(true);
  expectEqual<typeof b, string>(true);
  expectEqual<typeof c, ArrayBuffer>(true);
});
socket.on("basicEmit", (a) => expectType<number>(a)); // fewer parameters are fine
socket.on("position", (p) => expectType<number>(p.x + p.y));
socket.on("question", (q, answer) => answer(q.length > 0));
socket.once("position", ({ x }) => expectType<number>(x));
socket.addEventListener("noArg", () => {});
const onPos = (p: Position) => void p;
socket.off("position", onPos);
socket.off("position");
socket.off();
socket.removeListener("position", onPos);
socket.removeEventListener("position", onPos);
socket.removeAllListeners("position");
socket.removeAllListeners();
expectEqual<ReturnType<typeof socket.listeners<"position">>, ((p: Position) => void)[]>(true);
expectType<boolean>(socket.hasListeners("question"));

// @ts-expect-error: an event the server does not send
socket.on("nope", () => {});
// @ts-expect-error: a client-to-server event is not listened to
socket.on("chat", (text: string) => {});
// @ts-expect-error: wrong parameter type
socket.on("position", (p: string) => {});
// @ts-expect-error: wrong second parameter type
socket.on("basicEmit", (a: number, b: number) => {});
// @ts-expect-error: more parameters than the event has
socket.on("noArg", (x: number) => {});
// @ts-expect-error: the answer callback takes a boolean
socket.on("question", (q, answer) => answer("yes"));
// @ts-expect-error: once checks like on
socket.once("basicEmit", (a: string) => {});
// @ts-expect-error: off checks the listener
socket.off("position", (p: number) => {});
// @ts-expect-error: listeners of an unknown event
socket.listeners("nope");
// @ts-expect-error: addEventListener checks like on
socket.addEventListener("position", (p: boolean) => {});

// ---- reserved (lifecycle) events: listened to, typed, never emitted ----
socket.on("connect", () => {});
socket.on("disconnect", (reason, description) => {
  expectEqual<typeof reason, DisconnectReason>(true);
  expectEqual<typeof description, DisconnectDescription | undefined>(true);
  if (reason === "io server disconnect") socket.connect();
});
socket.on("connect_error", (err) => {
  expectEqual<typeof err, ConnectError>(true);
  expectType<ExtendedError>(err);
  expectType<string>(err.message);
  expectType<any>(err.data);
});
expectEqual<Socket.DisconnectReason, DisconnectReason>(true);
// @ts-expect-error: connect has no argument
socket.on("connect", (x: string) => {});
// @ts-expect-error: a disconnect reason is a string
socket.on("disconnect", (reason: number) => {});
// @ts-expect-error: not one of the reasons
socket.on("disconnect", (reason) => reason === "bye");
// @ts-expect-error: connect_error gives an Error
socket.on("connect_error", (err: string) => {});
// @ts-expect-error: reserved events cannot be emitted
socket.emit("connect");
// @ts-expect-error: reserved events cannot be emitted
socket.emit("disconnect");
// @ts-expect-error: reserved events cannot be emitted
socket.emit("connect_error");
// @ts-expect-error: not with emitWithAck either
void socket.emitWithAck("disconnect");
// @ts-expect-error: emitReserved is not public
socket.emitReserved("connect");

// ---- emitting ----
socket.emit("hello");
socket.emit("chat", "hi");
socket.emit("move", { x: 1, y: 2 });
socket.emit("sum", 1, 2, (total) => expectEqual<typeof total, number>(true));
socket.emit("lookup", "42", (user, found) => {
  expectEqual<typeof user, { name: string } | null>(true);
  expectType<boolean>(found);
});
socket.emit("save", {}, () => {});
socket.emit("ping", Date.now());
socket.emit("ping", Date.now(), (rtt) => expectType<number>(rtt));
socket.emit("upload", "f", new Uint8Array(4), (size) => expectType<number>(size));
socket.volatile.emit("move", { x: 0, y: 0 });
socket.compress(false).emit("chat", "zip");
socket.volatile.compress(true).emit("chat", "both");
expectEqual<ReturnType<typeof socket.emit<"chat">>, typeof socket>(true);

// @ts-expect-error: an event the client does not send
socket.emit("nope");
// @ts-expect-error: a server-to-client event is not emitted
socket.emit("position", { x: 1, y: 2 });
// @ts-expect-error: wrong argument type
socket.emit("chat", 42);
// @ts-expect-error: missing argument
socket.emit("chat");
// @ts-expect-error: one argument too many
socket.emit("chat", "a", "b");
// @ts-expect-error: an argument for an event without any
socket.emit("hello", 1);
// @ts-expect-error: an incomplete object
socket.emit("move", { x: 1 });
// @ts-expect-error: the ack is required by the map
socket.emit("sum", 1, 2);
// @ts-expect-error: wrong ack parameter type
socket.emit("sum", 1, 2, (total: string) => {});
// @ts-expect-error: an ack that is not a function
socket.emit("sum", 1, 2, 3);
// @ts-expect-error: ack with too many parameters
socket.emit("save", {}, (x: number) => {});
// @ts-expect-error: wrong binary type
socket.emit("upload", "f", "not bytes", () => {});
// @ts-expect-error: volatile emits are checked too
socket.volatile.emit("move", "here");
// @ts-expect-error: compress() keeps the types
socket.compress(true).emit("chat", 1);

// ---- emitWithAck ----
async function acks() {
  const n: number = await socket.emitWithAck("sum", 1, 2);
  expectEqual<Awaited<ReturnType<typeof socket.emitWithAck<"sum">>>, number>(true);
  const user = await socket.emitWithAck("lookup", "42");
  expectEqual<typeof user, { name: string } | null>(true);
  const nothing = await socket.emitWithAck("save", { a: 1 });
  expectEqual<typeof nothing, undefined>(true);
  const rtt: number = await socket.emitWithAck("ping", 1);
  const size: number = await socket.emitWithAck("upload", "f", new Uint8Array(1));

  // @ts-expect-error: the ack gives a number, not a string
  const s: string = await socket.emitWithAck("sum", 1, 2);
  // @ts-expect-error: the callback is not passed to emitWithAck
  await socket.emitWithAck("sum", 1, 2, (t: number) => {});
  // @ts-expect-error: missing argument
  await socket.emitWithAck("sum", 1);
  // @ts-expect-error: wrong argument type
  await socket.emitWithAck("sum", "1", 2);
  // @ts-expect-error: an event without ack never resolves: refused
  await socket.emitWithAck("chat", "hi");
  // @ts-expect-error: unknown event
  await socket.emitWithAck("nope");
  return [n, rtt, size];
}

// ---- timeout(): error-first acks ----
socket.timeout(1000).emit("sum", 1, 2, (err, total) => {
  expectEqual<typeof err, Error>(true);
  expectEqual<typeof total, number>(true);
});
socket.timeout(1000).emit("save", {}, (err) => expectType<Error>(err));
socket.timeout(1000).emit("chat", "no ack, no timeout");
socket.timeout(500).volatile.emit("move", { x: 1, y: 1 });
expectType<Socket<ServerToClientEvents, any>>(socket.timeout(5));
async function timeoutAcks() {
  const total: number = await socket.timeout(1000).emitWithAck("sum", 1, 2);
  const user = await socket.timeout(1000).emitWithAck("lookup", "1");
  expectEqual<typeof user, { name: string } | null>(true);
  const nothing = await socket.timeout(1000).emitWithAck("save", {});
  expectEqual<typeof nothing, undefined>(true);
  // @ts-expect-error: the timeout callback takes the error first
  socket.timeout(1000).emit("sum", 1, 2, (total: number) => {});
  // @ts-expect-error: the value after the error is a number
  socket.timeout(1000).emit("sum", 1, 2, (err: Error, total: string) => {});
  // @ts-expect-error: the resolved value is a number
  const wrong: string = await socket.timeout(1000).emitWithAck("sum", 1, 2);
  // @ts-expect-error: still no reserved events
  socket.timeout(1000).emit("connect");
  // @ts-expect-error: still checks names
  socket.timeout(1000).emit("nope");
  // @ts-expect-error: timeout takes milliseconds
  socket.timeout("1s");
  return total;
}

// ---- catch-all listeners ----
socket.onAny((event, ...args) => expectType<string>(event));
socket.prependAny((event) => {});
socket.offAny();
socket.onAnyOutgoing((event, ...args) => {});
socket.prependAnyOutgoing(() => {});
socket.offAnyOutgoing();
expectType<((event: string, ...args: any[]) => void)[]>(socket.listenersAny());
expectType<((event: string, ...args: any[]) => void)[]>(socket.listenersAnyOutgoing());
// @ts-expect-error: the event name is a string
socket.onAny((event: number) => {});

// ---- state and methods ----
expectType<string | undefined>(socket.id);
expectType<boolean>(socket.connected);
expectType<boolean>(socket.disconnected);
expectType<boolean>(socket.active);
expectType<boolean>(socket.recovered);
expectType<string>(socket.nsp);
expectType<unknown[][]>(socket.sendBuffer);
socket.sendBuffer = [];
socket.auth = { token: "new" };
socket.auth = (cb) => cb({ token: "cb" });
socket.auth = async () => ({ token: "async" });
socket.connect().disconnect().open().close();
socket.send("a", 1, { b: 2 });
// @ts-expect-error: disconnected is read-only
socket.disconnected = true;
// @ts-expect-error: active is read-only
socket.active = false;
// @ts-expect-error: auth is an object or a function
socket.auth = "token";

// ---- the Manager ----
const manager: Manager<ServerToClientEvents, ClientToServerEvents> = socket.io;
manager.on("open", () => {});
manager.on("close", (reason) => expectType<DisconnectReason>(reason));
manager.on("error", (err) => expectType<unknown[] | undefined>(err.data));
manager.on("reconnect_attempt", (attempt) => expectType<number>(attempt));
manager.on("reconnect", (attempt) => expectType<number>(attempt));
manager.on("reconnect_error", (err) => expectType<Error>(err));
manager.on("reconnect_failed", () => {});
manager.engine.on("open", (id) => expectType<string>(id));
manager.engine.on("close", (reason) => expectType<DisconnectReason>(reason));
expectType<"polling" | "websocket" | undefined>(manager.engine.transport.name);
manager.engine.on("upgrade", (t) => expectType<"websocket">(t.name));
const admin = manager.socket("/admin");
expectEqual<typeof admin, Socket<ServerToClientEvents, ClientToServerEvents>>(true);
admin.emit("chat", "to admin");
expectType<Socket<ServerToClientEvents, ClientToServerEvents> | undefined>(manager.nsps["/"]);
manager.close().disconnect();
// @ts-expect-error: not a Manager event
manager.on("connect", () => {});
// @ts-expect-error: reconnect_attempt gives a number
manager.on("reconnect_attempt", (attempt: string) => {});
// @ts-expect-error: the user's events are the sockets', not the Manager's
manager.on("position", () => {});
// @ts-expect-error: the engine view has only open and close
manager.engine.on("message", () => {});

const plain = new Manager("https://example.com", { reconnectionDelayMax: 10000, debug: true });
const typedManager = new Manager<ServerToClientEvents, ClientToServerEvents>({ autoConnect: false });
typedManager.socket("/").emit("move", { x: 1, y: 2 });
plain.socket("/", { auth: { a: 1 } }).emit("anything", 1, 2, 3);
new io.Manager("https://example.com");
io.io("x").emit("y");
io.connect("x");
// @ts-expect-error: a typed Manager types its sockets
typedManager.socket("/").emit("move", "x");

// ---- options ----
io({ path: "/rt", transports: ["websocket"], reconnectionAttempts: 5, ackTimeout: 1000, retries: 2 });
io({ debug: true, query: { v: 1, beta: true }, maxBuffer: 100, addTrailingSlash: false });
io("https://example.com", { auth: (cb) => cb({ token: "x" }) });
io({ auth: () => Promise.resolve({ token: "x" }) });
// socket.io-client options that have no effect here still compile after switching the import.
io("https://example.com", { withCredentials: true, extraHeaders: { "x-a": "b" }, upgrade: false, closeOnBeforeunload: true });
// @ts-expect-error: extraHeaders are strings
io({ extraHeaders: { "x-a": 1 } });
// @ts-expect-error: debug is a boolean
io({ debug: "rtio:*" });
// @ts-expect-error: a misspelt option
io({ reconection: false });
// @ts-expect-error: reconnectionAttempts is a number
io({ reconnectionAttempts: "5" });
// @ts-expect-error: transports is a list
io({ transports: "websocket" });
io({ transports: ["polling"], rememberUpgrade: true, tryAllTransports: true, timestampRequests: false, timestampParam: "ts" });
// @ts-expect-error: not a transport
io({ transports: ["carrier-pigeon"] });
// @ts-expect-error: the URL is a string
io(new URL("https://example.com"));
