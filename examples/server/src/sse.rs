//! The SSE endpoint, bridged into the Socket.IO rooms ([`crate::bridge`]), for rtio's SSE mode
//! (`MODES.md`).
//!
//! | request | answer |
//! |---|---|
//! | `GET /sse?room=a&room=b&meta=<json>&lastEventId=N` | `200 text/event-stream`: the client's events (below); `400 {error}` for a refused room or meta |
//! | `POST /sse` `{event, args, room?, id?}` | the emit's ack, as JSON (below) |
//!
//! The stream starts with `rtio:hello` (data `{"id": id}`, the client's id), then one
//! `rtio:members` per room (data `[room, [member, ...]]`, every member across Socket.IO and the
//! bridge, this client included), then, when the client resumes (`Last-Event-ID` header, else
//! the `lastEventId` query parameter), the logged events after that id that concern its rooms or
//! no room, in order, then live events: `rtio:presence` (data `[room, change]`) and `rtio:room`
//! (data `[room, event, from, ...args]`). Each of these has an `id:` and is kept in the event
//! log ([`crate::eventlog`]; `--sse-log FILE` keeps it across restarts). Every `--sse-ping`
//! ms (default 15000) the heartbeat event `ping`, data `{}`, no id. When the stream ends, the
//! others in its rooms get `{left: id}`.
//!
//! `POST /sse` (body at most 1 MB): with `room` and an `id` that is a bridged member of that room,
//! relays `rtio:room` (room, event, id, ...args) to the room's other members and answers
//! `{"ok":true}`; otherwise `echo` answers `args`, `fail` answers `500 {"error": args[0]}`
//! (`"fail requested"` when that is not a string), anything else `{"ok":true}`. A body that is
//! not a JSON object with a string `event` (and an array `args`, when given): `400 {error}`.
//!
//! With `--test-controls` ([`test_routes`]), as the SSE test server's (`tests/servers/sse`):
//!
//! | request | effect | answer |
//! |---|---|---|
//! | `POST /sse/publish` `{event, data?, room?, raw?}` | logs the event and sends it to the streams in `room` (all streams when none); `raw: true` with a string `data` sends the text as it is, one `data:` line per line | `{id, delivered}` |
//! | `POST /sse/control/fail` `{status?, count?}` | the next `count` (default 1; 0 cancels) `GET /sse` answer `status` (default 503; 204 or 400..599) with `{error}` | `{status, count}` |
//! | `POST /sse/control/stall` `{ms}` | for `ms` (1..600000) writes nothing to the streams open now, pings included; their events are held and written after | `{stalled, ms}` |
//! | `POST /sse/control/drop` | cuts every stream abruptly (no clean end of the body) | `{dropped}` |
//! | `GET /sse/control/clients` | | `[{id, rooms, lastEventId}]` |

use std::future::pending;
use std::io;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use tokio::sync::{mpsc, watch};
use tokio::time::{interval_at, sleep_until, Instant, Interval, MissedTickBehavior};

use crate::bridge::{
    parse_connect_query, resume_from, Bridge, Connection, Ctl, Cut, Kind, LeaveGuard, Out,
};
use crate::eventlog::sse_block;
use crate::rooms::RelayError;

/// Largest accepted request body, in bytes.
pub const MAX_BODY: usize = 1_000_000;
/// Longest event or room name `POST /sse/publish` takes, in characters.
pub const MAX_NAME: usize = 256;
/// Longest stall, in milliseconds.
pub const MAX_STALL_MS: u64 = 600_000;

const PING: &[u8] = b"event: ping\ndata: {}\n\n";

/// `GET /sse` and `POST /sse`, for pages of the origins [`crate::origin`] allows, with a
/// session when sessions are on ([`crate::sessions`]); answered with CORS headers, see
/// [`cors`], so that a page of another origin can read a refusal.
pub fn routes(bridge: Arc<Bridge>) -> Router {
    Router::new()
        .route("/sse", get(stream).post(emit))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(guard))
        .layer(cors())
        .with_state(bridge)
}

/// Answers `403` `{ "error": "origin not allowed" }` to a page of an origin not allowed, and
/// `401` `{ "error": "session required: …" }` to a request without a session when sessions
/// are on. (A CORS preflight carries no cookie and never reaches here.)
async fn guard(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let what = || format!("{} /sse", request.method());
    if let Some(from) = crate::origin::refused(request.headers()) {
        crate::origin::log_refusal(&what(), &from);
        return json_error(StatusCode::FORBIDDEN, crate::origin::NOT_ALLOWED);
    }
    if crate::sessions::of(request.headers()).is_err() {
        crate::sessions::log_refusal(&what());
        return json_error(StatusCode::UNAUTHORIZED, crate::sessions::REQUIRED);
    }
    next.run(request).await
}

/// CORS for the SSE routes: the request's origin is allowed, with credentials (so
/// `EventSource` with `withCredentials` and `fetch` with `credentials: "include"` work), and the
/// headers an SSE client sends (`Content-Type` for the JSON POSTs, `Authorization`, and
/// `Last-Event-ID` from the fetch transport). The demo keeps nothing behind cookies; a real
/// server would list its own origins instead.
fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::{header, HeaderName, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("last-event-id"),
        ])
}

/// The `--test-controls` routes of the SSE endpoint.
pub fn test_routes(bridge: Arc<Bridge>) -> Router {
    Router::new()
        .route("/sse/publish", post(publish))
        .route("/sse/control/fail", post(control_fail))
        .route("/sse/control/stall", post(control_stall))
        .route("/sse/control/drop", post(control_drop))
        .route("/sse/control/clients", get(control_clients))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(cors())
        .with_state(bridge)
}

/// An answer with a JSON body `{error}` (no body for a status that has none).
pub fn json_error(status: StatusCode, error: &str) -> Response {
    if status == StatusCode::NO_CONTENT {
        return status.into_response();
    }
    (status, Json(json!({ "error": error }))).into_response()
}

/// A request to answer `400` with `{error}`.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRequest(pub String);

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        json_error(StatusCode::BAD_REQUEST, &self.0)
    }
}

/// A request body as a JSON object.
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, BadRequest> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(BadRequest("the body must be a JSON object".into())),
        Err(_) => Err(BadRequest("the body is not JSON".into())),
    }
}

async fn stream(
    State(bridge): State<Arc<Bridge>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(status) = bridge.take_fail() {
        return json_error(status, "failure requested");
    }
    let mut query = match parse_connect_query(query.as_deref().unwrap_or_default()) {
        Ok(query) => query,
        Err(error) => return json_error(StatusCode::BAD_REQUEST, &error),
    };
    // With sessions, the name shown is the session's (the guard checked there is one).
    let session = crate::sessions::of(&headers).ok().flatten();
    query.meta = crate::sessions::bind(session.as_ref(), query.meta);
    let header = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok());
    let resume = resume_from(header, query.last_event_id);
    let conn = match bridge.connect(Kind::Sse, &query, resume).await {
        Ok(conn) => conn,
        Err(error) => return json_error(error.status, &error.message),
    };
    let body = SseBody::new(conn, bridge.sse_ping());
    let stream = futures_util::stream::unfold(body, |mut body| async move {
        let item = body.next().await?;
        Some((item, body))
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Proxies such as nginx would otherwise buffer the stream.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// What a stream writes: its opening events, then its queue and heartbeats, under its controls.
struct SseBody {
    opening: Option<Bytes>,
    rx: mpsc::Receiver<Out>,
    ctl: watch::Receiver<Ctl>,
    ping: Option<Interval>,
    done: bool,
    _guard: LeaveGuard,
}

impl SseBody {
    fn new(conn: Connection, ping: Option<std::time::Duration>) -> SseBody {
        let mut opening = sse_block(None, "rtio:hello", &json!({ "id": conn.id }).to_string());
        for (room, members) in &conn.members {
            opening.push_str(&sse_block(
                None,
                "rtio:members",
                &json!([room, members]).to_string(),
            ));
        }
        for entry in &conn.replay {
            opening.push_str(&entry.to_sse());
        }
        let ping = ping.map(|period| {
            let mut interval = interval_at(Instant::now() + period, period);
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval
        });
        SseBody {
            opening: Some(Bytes::from(opening)),
            rx: conn.rx,
            ctl: conn.ctl,
            ping,
            done: false,
            _guard: conn.guard,
        }
    }

    /// The next chunk; an error cuts the connection with no clean end of the body.
    async fn next(&mut self) -> Option<Result<Bytes, io::Error>> {
        if self.done {
            return None;
        }
        loop {
            let ctl = self.ctl.borrow_and_update().clone();
            match ctl.cut {
                Some(Cut::End) => {
                    self.done = true;
                    return None;
                }
                Some(Cut::Abrupt) => {
                    self.done = true;
                    return Some(Err(io::Error::other("stream cut")));
                }
                None => {}
            }
            if let Some(until) = ctl.stalled_until.filter(|until| *until > Instant::now()) {
                tokio::select! {
                    () = sleep_until(until) => {
                        if let Some(ping) = &mut self.ping {
                            ping.reset();
                        }
                    }
                    changed = self.ctl.changed() => {
                        if changed.is_err() {
                            self.done = true;
                            return None;
                        }
                    }
                }
                continue;
            }
            if let Some(opening) = self.opening.take() {
                return Some(Ok(opening));
            }
            tokio::select! {
                biased;
                changed = self.ctl.changed() => {
                    if changed.is_err() {
                        self.done = true;
                        return None;
                    }
                }
                out = self.rx.recv() => match out {
                    Some(Out::Sse(entry)) => return Some(Ok(Bytes::from(entry.to_sse()))),
                    Some(Out::Ws(_)) => {}
                    None => {
                        self.done = true;
                        return None;
                    }
                },
                () = tick(&mut self.ping) => return Some(Ok(Bytes::from_static(PING))),
            }
        }
    }
}

async fn tick(ping: &mut Option<Interval>) {
    match ping {
        Some(ping) => {
            ping.tick().await;
        }
        None => pending().await,
    }
}

/// `POST /sse`: an emit of the SSE client.
async fn emit(State(bridge): State<Arc<Bridge>>, body: Bytes) -> Response {
    let body = match json_object(&body) {
        Ok(body) => body,
        Err(bad) => return bad.into_response(),
    };
    let Some(Value::String(event)) = body.get("event") else {
        return json_error(StatusCode::BAD_REQUEST, "event must be a string");
    };
    let args = match body.get("args") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(args)) => args.clone(),
        Some(_) => return json_error(StatusCode::BAD_REQUEST, "args must be an array"),
    };
    let optional_string = |key: &str| match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(BadRequest(format!("{key} must be a string"))),
    };
    let (room, id) = match (optional_string("room"), optional_string("id")) {
        (Ok(room), Ok(id)) => (room, id),
        (Err(bad), _) | (_, Err(bad)) => return bad.into_response(),
    };
    if let (Some(room), Some(id)) = (room, id) {
        match bridge.relay(id, room, event, args.clone()).await {
            Ok(()) => return Json(json!({ "ok": true })).into_response(),
            // Not a member: an ordinary emit, answered below.
            Err(RelayError::NotAMember) => {}
            Err(error) => {
                return Json(json!({ "ok": false, "error": error.to_string() })).into_response()
            }
        }
    }
    match event.as_str() {
        "echo" => Json(Value::Array(args)).into_response(),
        "fail" => {
            let error = match args.first() {
                Some(Value::String(error)) => error.as_str(),
                _ => "fail requested",
            };
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": error })),
            )
                .into_response()
        }
        _ => Json(json!({ "ok": true })).into_response(),
    }
}

/// A name for `POST /sse/publish`: 1..=[`MAX_NAME`] characters, no line break.
fn valid_name(name: &str) -> bool {
    let len = name.chars().count();
    (1..=MAX_NAME).contains(&len) && !name.contains(['\r', '\n'])
}

async fn publish(State(bridge): State<Arc<Bridge>>, body: Bytes) -> Response {
    let body = match json_object(&body) {
        Ok(body) => body,
        Err(bad) => return bad.into_response(),
    };
    let event = match body.get("event") {
        Some(Value::String(event)) if valid_name(event) => event.as_str(),
        _ => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "event must be 1 to 256 characters without line breaks",
            )
        }
    };
    let room = match body.get("room") {
        None | Some(Value::Null) => None,
        Some(Value::String(room)) if valid_name(room) => Some(room.as_str()),
        _ => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "room must be null or 1 to 256 characters without line breaks",
            )
        }
    };
    let raw = match body.get("raw") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => return json_error(StatusCode::BAD_REQUEST, "raw must be a boolean"),
    };
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    if raw && !data.is_string() {
        return json_error(StatusCode::BAD_REQUEST, "raw needs a string data");
    }
    let (id, delivered) = bridge.publish(event, room, raw, data);
    Json(json!({ "id": id, "delivered": delivered })).into_response()
}

/// An integer field for which `valid` holds (`default` when it is missing).
pub fn int_field(
    body: &Map<String, Value>,
    key: &str,
    default: Option<u64>,
    valid: impl Fn(u64) -> bool,
    expected: &str,
) -> Result<u64, BadRequest> {
    let bad = || BadRequest(format!("{key} must be {expected}"));
    match body.get(key) {
        None | Some(Value::Null) => default.ok_or_else(bad),
        Some(value) => value.as_u64().filter(|n| valid(*n)).ok_or_else(bad),
    }
}

/// A request body that may be empty (`{}`).
pub fn optional_object(body: &[u8]) -> Result<Map<String, Value>, BadRequest> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    json_object(body)
}

async fn control_fail(State(bridge): State<Arc<Bridge>>, body: Bytes) -> Response {
    let fields = optional_object(&body).and_then(|body| {
        let status = int_field(
            &body,
            "status",
            Some(503),
            |s| s == 204 || (400..=599).contains(&s),
            "204 or 400..599",
        )?;
        let count = int_field(&body, "count", Some(1), |c| c <= 1000, "0..1000")?;
        Ok((status, count))
    });
    let (status, count) = match fields {
        Ok(fields) => fields,
        Err(bad) => return bad.into_response(),
    };
    let Ok(code) = StatusCode::from_u16(status as u16) else {
        return json_error(StatusCode::BAD_REQUEST, "invalid status");
    };
    bridge.set_fail(code, count as u32);
    Json(json!({ "status": status, "count": count })).into_response()
}

/// Reads `{ms}` (1..=[`MAX_STALL_MS`]) of a stall request.
pub fn stall_ms(body: &[u8]) -> Result<u64, BadRequest> {
    let body = json_object(body)?;
    int_field(
        &body,
        "ms",
        None,
        |ms| (1..=MAX_STALL_MS).contains(&ms),
        "1..600000",
    )
}

async fn control_stall(State(bridge): State<Arc<Bridge>>, body: Bytes) -> Response {
    match stall_ms(&body) {
        Ok(ms) => Json(json!({ "stalled": bridge.stall(Kind::Sse, ms), "ms": ms })).into_response(),
        Err(bad) => bad.into_response(),
    }
}

async fn control_drop(State(bridge): State<Arc<Bridge>>) -> Response {
    Json(json!({ "dropped": bridge.cut(Some(Kind::Sse), Cut::Abrupt) })).into_response()
}

async fn control_clients(State(bridge): State<Arc<Bridge>>) -> Response {
    Json(bridge.clients(Kind::Sse)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("chat"));
        assert!(valid_name(&"é".repeat(MAX_NAME)));
        assert!(!valid_name(""));
        assert!(!valid_name(&"x".repeat(MAX_NAME + 1)));
        assert!(!valid_name("a\nb"));
        assert!(!valid_name("a\rb"));
    }

    #[test]
    fn bodies() {
        assert!(json_object(b"{}").is_ok());
        assert!(json_object(b"[]").is_err());
        assert!(json_object(b"{").is_err());
        assert!(optional_object(b"").is_ok());
        assert!(optional_object(b"  ").is_ok());
        assert_eq!(stall_ms(br#"{"ms":250}"#).ok(), Some(250));
        for bad in [
            &br#"{"ms":0}"#[..],
            br#"{"ms":600001}"#,
            br#"{"ms":"1"}"#,
            br#"{}"#,
            b"",
        ] {
            assert!(stall_ms(bad).is_err());
        }
    }
}
