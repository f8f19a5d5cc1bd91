//! The plain-WebSocket endpoint, bridged into the Socket.IO rooms ([`crate::bridge`]), for rtio's
//! plain-WebSocket mode: the JSON envelope of `MODES.md`.
//!
//! `GET /ws?room=a&room=b&meta=<json>` upgrades to a WebSocket. The server then sends
//! `["rtio:hello", {"id": id}]`, one `["rtio:members", room, [member, ...]]` per room (every
//! member across Socket.IO and the bridge, this client included), and then
//! `["rtio:presence", room, change]` and `["rtio:room", room, event, from, ...args]` as they come.
//! A refused room or meta (as for `GET /sse`) closes the connection at once with code 1008 and
//! the reason (`invalid room`, `not allowed`, `meta too large`, ...); too many clients, 1013.
//!
//! | client sends (text frame) | server does |
//! |---|---|
//! | `["rtio:to", room, event, ...args]` | if this client is a member of `room`, the other members get `rtio:room` (room, event, its id, ...args) |
//! | `["ping", ...]` | answers `["pong"]` |
//! | `[n, "echo", ...args]` | answers `{"ack": n, "args": args}` |
//! | `[n, "fail", ...]` | answers `{"ack": n, "args": [{"ok": false, "error": "fail requested"}]}` |
//! | `[n, event, ...args]`, any other event | answers `{"ack": n, "args": [{"ok": true}]}` (`rtio:to` is also relayed) |
//! | anything else (binary frames, other JSON, not JSON) | nothing |
//!
//! `n` is a non-negative integer. Messages are at most 1 MB. When the connection ends, the
//! others in its rooms get `{left: id}`. A client that does not read what it is sent (its queue
//! full, or a write blocked for [`SEND_TIMEOUT`]) is cut.
//!
//! With `--test-controls` ([`test_routes`]):
//!
//! | request | effect | answer |
//! |---|---|---|
//! | `POST /ws/control/stall` `{ms}` | for `ms` (1..600000) the connections open now are neither read nor written (so `["ping"]` is not answered): a blackhole for heartbeat tests; what they are sent meanwhile is written after | `{stalled, ms}` |
//! | `POST /ws/control/drop` | drops every connection's TCP socket, with no close frame | `{dropped}` |

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::time::{sleep_until, timeout, Instant};

use crate::bridge::{parse_connect_query, Bridge, Cut, Kind, Out};
use crate::rooms::RelayError;
use crate::sse::{stall_ms, MAX_BODY};

/// Largest message (and frame) accepted, in bytes.
pub const MAX_MESSAGE: usize = 1 << 20;
/// How long one write may wait for a client that does not read before it is cut.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Close code for a refused room or meta (policy violation).
const CLOSE_REFUSED: u16 = 1008;
/// Close code when the server cannot take more clients (try again later).
const CLOSE_TRY_LATER: u16 = 1013;
/// Close code when the server shuts down (going away).
const CLOSE_GOING_AWAY: u16 = 1001;

/// `GET /ws`.
pub fn routes(bridge: Arc<Bridge>) -> Router {
    Router::new().route("/ws", get(upgrade)).with_state(bridge)
}

/// The `--test-controls` routes of the WebSocket endpoint.
pub fn test_routes(bridge: Arc<Bridge>) -> Router {
    Router::new()
        .route("/ws/control/stall", post(control_stall))
        .route("/ws/control/drop", post(control_drop))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(bridge)
}

async fn upgrade(
    State(bridge): State<Arc<Bridge>>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // A page of an origin not allowed: opened, then closed with the reason, which the client
    // can read (a refused upgrade would tell it nothing).
    let refused = crate::origin::refused(&headers);
    if let Some(from) = &refused {
        crate::origin::log_refusal("a WebSocket on /ws", from);
    }
    // Without a session (when sessions are on): the same, with that reason.
    let session = crate::sessions::of(&headers);
    if refused.is_none() && session.is_err() {
        crate::sessions::log_refusal("a WebSocket on /ws");
    }
    let query = parse_connect_query(query.as_deref().unwrap_or_default());
    ws.max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| async move {
            match (refused, session, query) {
                (Some(_), _, _) => close(socket, CLOSE_REFUSED, crate::origin::NOT_ALLOWED).await,
                (None, Err(_), _) => close(socket, CLOSE_REFUSED, crate::sessions::REQUIRED).await,
                (None, Ok(session), Ok(mut query)) => {
                    // With sessions, the name shown is the session's.
                    query.meta = crate::sessions::bind(session.as_ref(), query.meta);
                    serve(bridge, query, socket).await
                }
                (None, Ok(_), Err(reason)) => close(socket, CLOSE_REFUSED, &reason).await,
            }
        })
}

async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = timeout(SEND_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
}

/// Sends a text frame; `false` when the connection is gone or the client too slow.
async fn send(socket: &mut WebSocket, text: &str) -> bool {
    matches!(
        timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await,
        Ok(Ok(()))
    )
}

async fn serve(bridge: Arc<Bridge>, query: crate::bridge::ConnectQuery, mut socket: WebSocket) {
    let conn = match bridge.connect(Kind::Ws, &query, None).await {
        Ok(conn) => conn,
        Err(error) => {
            let code = if error.status.is_client_error() {
                CLOSE_REFUSED
            } else {
                CLOSE_TRY_LATER
            };
            return close(socket, code, &error.message).await;
        }
    };
    let id = conn.id.clone();
    let (mut rx, mut ctl) = (conn.rx, conn.ctl);
    // Ends the membership when this function returns, however it does.
    let _guard = conn.guard;

    let mut opening = vec![json!(["rtio:hello", { "id": id }]).to_string()];
    for (room, members) in &conn.members {
        opening.push(json!(["rtio:members", room, members]).to_string());
    }
    for text in opening {
        if !send(&mut socket, &text).await {
            return;
        }
    }
    loop {
        let now = ctl.borrow_and_update().clone();
        match now.cut {
            Some(Cut::End) => return close(socket, CLOSE_GOING_AWAY, "server closing").await,
            // Dropping the socket closes the TCP connection with no close frame.
            Some(Cut::Abrupt) => return,
            None => {}
        }
        if let Some(until) = now.stalled_until.filter(|until| *until > Instant::now()) {
            tokio::select! {
                () = sleep_until(until) => {}
                changed = ctl.changed() => if changed.is_err() { return },
            }
            continue;
        }
        tokio::select! {
            biased;
            changed = ctl.changed() => if changed.is_err() { return },
            out = rx.recv() => match out {
                Some(Out::Ws(text)) => {
                    if !send(&mut socket, &text).await {
                        return;
                    }
                }
                Some(Out::Sse(_)) => {}
                None => return,
            },
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    if let Some(reply) = handle(&bridge, &id, text.as_str()).await {
                        if !send(&mut socket, &reply).await {
                            return;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                // Binary frames are ignored; pings are answered by the WebSocket layer.
                Some(Ok(_)) => {}
            },
        }
    }
}

/// An envelope frame as the server reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `["rtio:to", room, event, ...args]`.
    To {
        /// The room.
        room: String,
        /// The event.
        event: String,
        /// The rest.
        args: Vec<Value>,
    },
    /// `["ping", ...]`.
    Ping,
    /// `[n, event, ...args]`.
    WithAck {
        /// The ack id.
        n: u64,
        /// The event.
        event: String,
        /// The rest.
        args: Vec<Value>,
    },
    /// Anything else.
    Other,
}

/// Reads a text frame.
pub fn parse_frame(text: &str) -> Frame {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return Frame::Other;
    };
    let mut items = items.into_iter();
    match items.next() {
        Some(Value::String(event)) => match event.as_str() {
            "ping" => Frame::Ping,
            "rtio:to" => to_frame(items.collect()).unwrap_or(Frame::Other),
            _ => Frame::Other,
        },
        Some(Value::Number(n)) => match (n.as_u64(), items.next()) {
            (Some(n), Some(Value::String(event))) => Frame::WithAck {
                n,
                event,
                args: items.collect(),
            },
            _ => Frame::Other,
        },
        _ => Frame::Other,
    }
}

fn to_frame(args: Vec<Value>) -> Option<Frame> {
    let mut args = args.into_iter();
    let (Some(Value::String(room)), Some(Value::String(event))) = (args.next(), args.next()) else {
        return None;
    };
    Some(Frame::To {
        room,
        event,
        args: args.collect(),
    })
}

/// The reply to a frame, if any.
pub fn reply(frame: &Frame) -> Option<String> {
    match frame {
        Frame::Ping => Some(r#"["pong"]"#.to_owned()),
        Frame::WithAck { n, event, args } => {
            let args = match event.as_str() {
                "echo" => Value::Array(args.clone()),
                "fail" => json!([{ "ok": false, "error": "fail requested" }]),
                _ => json!([{ "ok": true }]),
            };
            Some(json!({ "ack": n, "args": args }).to_string())
        }
        Frame::To { .. } | Frame::Other => None,
    }
}

/// Acts on a frame of client `id`; returns the reply to send. An `rtio:to` with an ack that a
/// limit turned away is answered `{"ok": false, "error": ...}` ([`crate::rooms::Limits`]).
async fn handle(bridge: &Bridge, id: &str, text: &str) -> Option<String> {
    let frame = parse_frame(text);
    let answer = reply(&frame);
    let (relay, ack) = match frame {
        Frame::To { .. } => (Some(frame), None),
        Frame::WithAck { n, event, args } if event == "rtio:to" => (to_frame(args), Some(n)),
        _ => (None, None),
    };
    if let Some(Frame::To { room, event, args }) = relay {
        match (bridge.relay(id, &room, &event, args).await, ack) {
            (Err(RelayError::NotAMember) | Ok(()), _) | (_, None) => {}
            (Err(error), Some(n)) => {
                let args = json!([{ "ok": false, "error": error.to_string() }]);
                return Some(json!({ "ack": n, "args": args }).to_string());
            }
        }
    }
    answer
}

async fn control_stall(State(bridge): State<Arc<Bridge>>, body: Bytes) -> Response {
    match stall_ms(&body) {
        Ok(ms) => Json(json!({ "stalled": bridge.stall(Kind::Ws, ms), "ms": ms })).into_response(),
        Err(bad) => bad.into_response(),
    }
}

async fn control_drop(State(bridge): State<Arc<Bridge>>) -> Response {
    Json(json!({ "dropped": bridge.cut(Some(Kind::Ws), Cut::Abrupt) })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        assert_eq!(parse_frame(r#"["ping"]"#), Frame::Ping);
        assert_eq!(
            parse_frame(r#"["rtio:to","doc","cursor",{"x":1},2]"#),
            Frame::To {
                room: "doc".into(),
                event: "cursor".into(),
                args: vec![json!({"x": 1}), json!(2)],
            }
        );
        assert_eq!(
            parse_frame(r#"[3,"echo",1,"a"]"#),
            Frame::WithAck {
                n: 3,
                event: "echo".into(),
                args: vec![json!(1), json!("a")],
            }
        );
        for other in [
            "",
            "ping",
            "{}",
            "[]",
            "[1]",
            r#"[-1,"echo"]"#,
            r#"[1.5,"echo"]"#,
            r#"["rtio:to","doc"]"#,
            r#"["rtio:to",1,"cursor"]"#,
            r#"["chat","hi"]"#,
            r#"{"ack":1,"args":[]}"#,
        ] {
            assert_eq!(parse_frame(other), Frame::Other, "{other}");
        }
    }

    #[test]
    fn replies() {
        assert_eq!(reply(&Frame::Ping).as_deref(), Some(r#"["pong"]"#));
        assert_eq!(
            reply(&parse_frame(r#"[7,"echo",1,{"a":[2]}]"#)).as_deref(),
            Some(r#"{"ack":7,"args":[1,{"a":[2]}]}"#)
        );
        assert_eq!(
            reply(&parse_frame(r#"[8,"fail","x"]"#)).as_deref(),
            Some(r#"{"ack":8,"args":[{"error":"fail requested","ok":false}]}"#)
        );
        assert_eq!(
            reply(&parse_frame(r#"[9,"anything"]"#)).as_deref(),
            Some(r#"{"ack":9,"args":[{"ok":true}]}"#)
        );
        assert_eq!(reply(&parse_frame(r#"["rtio:to","r","e"]"#)), None);
        assert_eq!(reply(&Frame::Other), None);
    }
}
