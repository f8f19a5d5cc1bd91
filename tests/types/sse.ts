// rtio/sse: typed SSE events (one argument each: the data) and POSTed emits whose answer is the ack.
import sseDefault, { sse, SseClient } from "rtio/sse";
import type { Member, SseOptions, StreamDisconnectReason, StreamError } from "rtio/sse";
import { expectEqual, expectType } from "./util.js";

interface Headline {
  title: string;
  url: string;
}

interface FeedEvents {
  headline: (h: Headline) => void;
  score: (s: number) => void;
  ping: (at: string) => void;
}

interface FeedEmits {
  vote: (id: number, ack: (total: number) => void) => void;
  comment: (text: string) => void;
  report: (id: number, ack: (res: { ok: boolean } | undefined) => void) => void;
}

const feed = sse<FeedEvents, FeedEmits>("/events", { rooms: ["news"], pingTimeout: 30000, transport: "fetch" });
expectEqual<typeof feed, SseClient<FeedEvents, FeedEmits>>(true);
expectType<string | undefined>(feed.lastEventId);
expectType<URL>(feed.url);
expectType<string[]>(feed.rooms);

feed.on("headline", (h) => expectType<string>(h.title));
feed.on("score", (s) => expectEqual<typeof s, number>(true));
feed.once("ping", (at) => expectType<string>(at));
feed.addEventListener("headline", (h) => {});
feed.off("headline");
feed.on("connect", () => {});
feed.on("disconnect", (reason) => expectEqual<typeof reason, StreamDisconnectReason>(true));
feed.on("connect_error", (err) => {
  expectEqual<typeof err, StreamError>(true);
  expectType<number | undefined>(err.status);
});
feed.on("reconnect_attempt", (n) => expectType<number>(n));
feed.on("reconnect", (n) => expectType<number>(n));
feed.on("reconnect_failed", () => {});
feed.on("error", (err) => expectType<Error>(err));
// @ts-expect-error: not an event of the feed
feed.on("headlines", () => {});
// @ts-expect-error: wrong data type
feed.on("score", (s: string) => {});
// @ts-expect-error: wrong data shape
feed.on("headline", (h: { name: string }) => {});
// @ts-expect-error: the disconnect reasons of the modes
feed.on("disconnect", (reason) => reason === "io server disconnect");
// @ts-expect-error: reconnect_attempt gives a number
feed.on("reconnect_attempt", (n: string) => {});
// @ts-expect-error: addEventListener checks like on
feed.addEventListener("score", (s: boolean) => {});

feed.emit("comment", "nice");
feed.emit("vote", 7, (total) => expectType<number>(total));
feed.to("news").emit("comment", "to the room");
feed.volatile.emit("comment", "maybe");
feed.timeout(2000).emit("vote", 7, (err, total) => {
  expectType<Error>(err);
  expectType<number>(total);
});
expectType<SseClient<FeedEvents, any>>(feed.timeout(1));
// @ts-expect-error: not an emit of the feed
feed.emit("headline", { title: "", url: "" });
// @ts-expect-error: wrong argument type
feed.emit("comment", 1);
// @ts-expect-error: the ack is required by the map
feed.emit("vote", 7);
// @ts-expect-error: wrong ack type
feed.emit("vote", 7, (total: string) => {});
// @ts-expect-error: reserved names are refused
feed.emit("connect");
// @ts-expect-error: reserved names are refused
feed.emit("reconnect_attempt", 1);
// @ts-expect-error: to() keeps the types
feed.to("news").emit("comment", false);
// @ts-expect-error: the timeout callback takes the error first
feed.timeout(10).emit("vote", 7, (total: number) => {});

async function acks() {
  const total: number = await feed.emitWithAck("vote", 7);
  const res = await feed.emitWithAck("report", 1);
  expectEqual<typeof res, { ok: boolean } | undefined>(true);
  const t2: number = await feed.timeout(500).emitWithAck("vote", 8);
  // @ts-expect-error: the ack is a number
  const wrong: string = await feed.emitWithAck("vote", 7);
  // @ts-expect-error: comment has no ack
  await feed.emitWithAck("comment", "x");
  // @ts-expect-error: wrong argument type
  await feed.emitWithAck("vote", "7");
  await feed.join("sports");
  await feed.leave("news");
  return [total, t2];
}

// Rooms with presence over SSE.
const room = feed.room<{ cursor: (x: number) => void }, { nick: string }>("doc");
room.on("cursor", (x, from) => {
  expectType<number>(x);
  expectEqual<typeof from, Member<{ nick: string }>>(true);
});
room.emit("cursor", 1);
expectEqual<typeof room.socket, typeof feed>(true);
void room.join({ nick: "ada" });
// @ts-expect-error: wrong meta
void room.join({ nick: 1 });
// @ts-expect-error: wrong room event argument
room.emit("cursor", "1");

// Options.
const opts: SseOptions = { transport: "eventsource", withCredentials: true, headers: { A: "b" }, emitUrl: new URL("https://x/e"), lastEventId: "9", meta: { nick: "a" }, query: { k: "v" } };
sse(new URL("https://example.com/events"), opts);
// @ts-expect-error: not a transport
sse("/e", { transport: "websocket" });
// @ts-expect-error: headers are strings
sse("/e", { headers: { n: 1 } });
// @ts-expect-error: a URL is needed
sse();
sse("/e", { debug: true });
// @ts-expect-error: debug is a boolean
sse("/e", { debug: "rtio:*" });

// Untyped use.
const raw = sseDefault("/events");
raw.on("anything", (data) => expectType<any>(data));
raw.emit("anything", { a: 1 }, (reply: unknown) => {});
async function untypedAck() {
  const v = await raw.emitWithAck("x", 1);
  expectEqual<typeof v, any>(true);
}
// @ts-expect-error: reserved even untyped
raw.emit("disconnect");
raw.free();
