// The chaos workload's events on `/` (tests/chaos/), for sockets whose handshake auth has
// `chaos` (the client's name); what they do is logged (../chaos-log.mjs).
//
//   chaos:emit (n, ack)        logs it; acks n
//   chaos:volatile (n)         logs it
//   chaos:feed (ms, ack)       from now on, every `ms`, emits `chaos:tick` (connection id, k) to
//                              this socket, k counting per client; 0 stops; acks true once set
//   chaos:members (room, ack)  acks the ids of the room's members, as the server sees them
//
// The ticks go through the socket's own room, so with connection-state recovery those sent
// into a dying connection are replayed when the session is recovered.

import { chaosLog, clientName, emitNumber, feedPeriod } from "../chaos-log.mjs";

// Where js/server.js keeps a socket's rooms (rooms joined through rtio:join).
const ROOMS_KEY = "rtioRooms";

export function attachChaos(io, file) {
  const { record } = chaosLog(file);
  const counts = new Map(); // client -> its last tick number
  const nsp = io.of("/");
  nsp.on("connection", (socket) => {
    const c = clientName(socket.handshake.auth?.chaos);
    if (!c) return;
    const s = socket.id;
    record({ e: "connect", c, s, recovered: socket.recovered === true });
    let feed = null;
    const stop = () => {
      clearInterval(feed);
      feed = null;
    };
    socket.on("chaos:emit", (n, ack) => {
      if (emitNumber(n) === null) return;
      record({ e: "emit", c, s, n });
      if (typeof ack === "function") ack(n);
    });
    socket.on("chaos:volatile", (n) => {
      if (emitNumber(n) !== null) record({ e: "volatile", c, s, n });
    });
    socket.on("chaos:feed", (ms, ack) => {
      stop();
      const period = feedPeriod(ms);
      if (period !== null) {
        feed = setInterval(() => {
          const k = (counts.get(c) || 0) + 1;
          counts.set(c, k);
          record({ e: "tick", c, s, k });
          nsp.to(s).emit("chaos:tick", s, k);
        }, period);
      }
      if (typeof ack === "function") ack(true);
    });
    socket.on("chaos:members", async (room, ack) => {
      if (typeof ack !== "function" || typeof room !== "string") return;
      const sockets = await nsp.in(room).fetchSockets();
      ack(sockets.filter((m) => Object.hasOwn(m.data?.[ROOMS_KEY] ?? {}, room)).map((m) => m.id));
    });
    socket.on("disconnect", (reason) => {
      stop();
      record({ e: "gone", c, s, reason });
    });
  });
}
