// The npm door's reader of the plain-WebSocket envelope (js/ws.js) on the cases the Rust door's
// codec is tested on too (tests/fixtures/envelopes.json, tests/envelope_props.rs): both doors
// read every frame alike. Runs in Node, on the entry's source; no connection is made.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { WsClient } from "../../js/ws.js";

const { cases } = JSON.parse(readFileSync(new URL("../fixtures/envelopes.json", import.meta.url), "utf8"));

/** What the client makes of text frame `frame`, in the fixture's terms; every ack id is taken as pending. */
function read(frame) {
  const c = new WsClient("ws://127.0.0.1:9/ws", { autoConnect: false });
  let got;
  let sent;
  c._send = (x) => (sent = JSON.parse(x));
  c._in = (event, args, ack) => {
    if (event == "message" && args.length == 1 && args[0] === frame && !ack) return (got = null);
    if (!ack) return (got = { event, args });
    // The request's id is the one its answer goes back with.
    ack();
    got = { request: sent.ack, event, args };
  };
  c._acks = {
    has: () => true,
    get: (id) => ({ f: (err, ...args) => (got = err ? { malformedAck: id } : { ack: id, args }) }),
  };
  c._frame(frame);
  return got;
}

test("rtio/ws reads the envelope's shared cases as the Rust codec does", () => {
  assert.ok(cases.length >= 40);
  for (const { frame, is } of cases) assert.deepEqual(read(frame), is, frame);
});
