//! The Rust API of the SSE and plain-WebSocket modes (`rtio::sse`, `rtio::ws`, `MODES.md`)
//! against live servers, in headless Chromium with wasm-bindgen-test.
//!
//! The server URLs are read at compile time:
//!
//! ```text
//! RTIO_SSE_URL=http://127.0.0.1:PORT RTIO_WS_URL=http://127.0.0.1:PORT \
//!     RTIO_MODES_URL=http://127.0.0.1:PORT \
//!     cargo test --target wasm32-unknown-unknown --test browser_modes
//! ```
//!
//! - `RTIO_SSE_URL`: the SSE test server (`tests/servers/sse/server.mjs`), started with
//!   `--ping-interval 250` (the watchdog test needs a heartbeat faster than its timeout);
//! - `RTIO_WS_URL`: the plain-WebSocket test server (`tests/servers/ws/server.mjs`);
//! - `RTIO_MODES_URL`: the Rust server (`examples/server`) with `--test-controls`, whose `/sse`
//!   and `/ws` endpoints bridge both modes into its rooms. Its tests are skipped when the URL
//!   is not given.
//!
//! Every wait is bounded, so a missing event fails the test instead of hanging the run.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use rtio::sse::{Sse, SseOptions, SseTransport, StreamClosed, StreamEvent};
use rtio::ws::{Message, Ws, WsOptions};
use rtio::{Member, Options, PresenceEvent, Socket, StreamError, Subscription};
use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Upper bound for any single step that waits on the server, in milliseconds.
const WAIT: u32 = 5_000;
/// How long to keep listening for something that must *not* happen, in milliseconds.
const SETTLE: u32 = 300;

// ---------------------------------------------------------------------------------------------
// Helpers

fn server(var: &str, value: Option<&'static str>) -> &'static str {
    value
        .filter(|u| !u.is_empty())
        .map(|u| u.trim_end_matches('/'))
        .unwrap_or_else(|| {
            panic!(
                "{var} was not set at compile time; pass the server URLs when building the \
                 tests, e.g. RTIO_SSE_URL=http://127.0.0.1:PORT RTIO_WS_URL=http://127.0.0.1:PORT \
                 cargo test --target wasm32-unknown-unknown --test browser_modes"
            )
        })
}

/// The SSE test server.
fn sse_server() -> &'static str {
    server("RTIO_SSE_URL", option_env!("RTIO_SSE_URL"))
}

/// The plain-WebSocket test server.
fn ws_server() -> &'static str {
    server("RTIO_WS_URL", option_env!("RTIO_WS_URL"))
}

/// The Rust server with its SSE and WebSocket endpoints, if given.
fn modes_server() -> Option<&'static str> {
    option_env!("RTIO_MODES_URL")
        .filter(|u| !u.is_empty())
        .map(|u| u.trim_end_matches('/'))
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: i32) -> JsValue;
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with(url: &str, init: &JsValue) -> js_sys::Promise;
}

#[wasm_bindgen(inline_js = "
function install() {
    if (!globalThis.__rtioSources) {
        const all = { es: [], ws: [] };
        const ES = globalThis.EventSource;
        globalThis.EventSource = class extends ES {
            constructor(...args) { super(...args); all.es.push(this); }
        };
        const WS = globalThis.WebSocket;
        globalThis.WebSocket = class extends WS {
            constructor(...args) { super(...args); all.ws.push(this); }
        };
        globalThis.__rtioSources = all;
    }
    return globalThis.__rtioSources;
}
export function install_counters() { install(); }
export function event_sources_open() {
    return install().es.filter((s) => s.readyState !== 2).length;
}
export function web_sockets_open() {
    return install().ws.filter((s) => s.readyState <= 1).length;
}
")]
extern "C" {
    /// Replaces `EventSource` and `WebSocket` with subclasses that count their instances.
    fn install_counters();
    /// How many counted `EventSource`s are not closed.
    fn event_sources_open() -> u32;
    /// How many counted `WebSocket`s are connecting or open.
    fn web_sockets_open() -> u32;
}

/// Resolves after `ms` milliseconds (a browser timer).
async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, ms as i32);
    });
    let _ = JsFuture::from(promise).await;
}

/// `fut`'s output, or a test failure naming `what` if it takes longer than `ms`.
async fn within<F: Future>(ms: u32, what: &str, fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut timer = pin!(sleep(ms));
    let out = poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await;
    out.unwrap_or_else(|| panic!("{what}: nothing within {ms} ms"))
}

/// Waits up to `ms` until `cond` holds; fails the test naming `what` otherwise.
async fn until_within(ms: u32, what: &str, cond: impl Fn() -> bool) {
    let start = js_sys::Date::now();
    while !cond() {
        if js_sys::Date::now() - start > f64::from(ms) {
            panic!("{what}: not the case after {ms} ms");
        }
        sleep(10).await;
    }
}

/// Waits up to `WAIT` until `cond` holds.
async fn until(what: &str, cond: impl Fn() -> bool) {
    until_within(WAIT, what, cond).await
}

/// An HTTP request to a test server's control endpoint; its JSON answer.
async fn http(method: &str, url: &str, body: Option<Value>) -> Value {
    let init = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| {
        js_sys::Reflect::set(&init, &JsValue::from_str(k), v).expect("set a field");
    };
    set("method", &JsValue::from_str(method));
    if let Some(body) = body {
        set("body", &JsValue::from_str(&body.to_string()));
    }
    let what = format!("{method} {url}");
    let response = within(WAIT, &what, JsFuture::from(fetch_with(url, &init)))
        .await
        .unwrap_or_else(|e| panic!("{what} failed: {e:?}"));
    let response: web_sys::Response = response.dyn_into().expect("a Response");
    let status = response.status();
    let text = within(
        WAIT,
        &what,
        JsFuture::from(response.text().expect("a body")),
    )
    .await
    .expect("the body")
    .as_string()
    .unwrap_or_default();
    assert!(
        (200..300).contains(&status),
        "{what} answered {status}: {text}"
    );
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// A `POST` whose answer cannot be read (a server without CORS headers): sent as a simple
/// request (`no-cors`, a text body), so it reaches the server all the same. Chromium blocks the
/// opaque JSON answer (and fails the fetch) once it arrives, so the outcome is not looked at;
/// what the request does is checked by the test.
async fn post_blind(url: &str, body: Value) {
    let init = js_sys::Object::new();
    for (k, v) in [
        ("method", "POST"),
        ("mode", "no-cors"),
        ("body", &body.to_string()),
    ] {
        js_sys::Reflect::set(&init, &JsValue::from_str(k), &JsValue::from_str(v))
            .expect("set a field");
    }
    let what = format!("POST {url}");
    let _ = within(WAIT, &what, JsFuture::from(fetch_with(url, &init))).await;
}

/// Whether `url` can be read from this page's origin (the server sends CORS headers).
async fn readable(url: &str) -> bool {
    let init = js_sys::Object::new();
    within(WAIT, url, JsFuture::from(fetch_with(url, &init)))
        .await
        .is_ok()
}

async fn post(url: &str, body: Value) -> Value {
    http("POST", url, Some(body)).await
}

async fn get(url: &str) -> Value {
    http("GET", url, None).await
}

/// A unique suffix for names, so tests do not see each other's events.
fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        (js_sys::Math::random() * 1e9) as u64 + js_sys::Date::now() as u64 % 1_000_000
    )
}

/// Records the connection's state changes.
struct States {
    seen: Rc<RefCell<Vec<StreamEvent>>>,
    _sub: Subscription,
}

impl States {
    fn connects(&self) -> usize {
        self.count(|e| matches!(e, StreamEvent::Connect { .. }))
    }

    fn count(&self, f: impl Fn(&StreamEvent) -> bool) -> usize {
        self.seen.borrow().iter().filter(|e| f(e)).count()
    }

    fn disconnects(&self, why: StreamClosed) -> usize {
        self.count(|e| *e == StreamEvent::Disconnect(why))
    }

    fn list(&self) -> Vec<StreamEvent> {
        self.seen.borrow().clone()
    }
}

fn sse_states(sse: &Sse) -> States {
    let seen: Rc<RefCell<Vec<StreamEvent>>> = Rc::default();
    let s = seen.clone();
    States {
        _sub: sse.on_state(move |e| s.borrow_mut().push(*e)),
        seen,
    }
}

fn ws_states(ws: &Ws) -> States {
    let seen: Rc<RefCell<Vec<StreamEvent>>> = Rc::default();
    let s = seen.clone();
    States {
        _sub: ws.on_state(move |e| s.borrow_mut().push(*e)),
        seen,
    }
}

/// What a listener received, shared with the test.
type Shared<T> = Rc<RefCell<Vec<T>>>;

/// Collects what a listener receives: one handle for the test, one for the listener.
fn collector<T>() -> (Shared<T>, Shared<T>) {
    let c: Shared<T> = Rc::default();
    (c.clone(), c)
}

/// An SSE connection to the SSE test server (emits to its `/emit`) that has connected.
async fn sse_connected(opts: SseOptions) -> (Sse, States) {
    let base = sse_server();
    let sse = Sse::connect(
        &format!("{base}/events"),
        opts.emit_url(format!("{base}/emit")),
    )
    .expect("Sse::connect");
    let states = sse_states(&sse);
    until("the SSE stream opens", || sse.connected()).await;
    (sse, states)
}

async fn publish(event: &str, data: Value, room: Option<&str>) -> u64 {
    let mut body = json!({ "event": event, "data": data });
    if let Some(room) = room {
        body["room"] = json!(room);
    }
    let answer = post(&format!("{}/publish", sse_server()), body).await;
    answer["id"].as_u64().expect("a published id")
}

/// A WebSocket connection to the WebSocket test server that has connected.
async fn ws_connected(opts: WsOptions) -> (Ws, States) {
    let ws = Ws::connect(&format!("{}/ws", ws_server()), opts).expect("Ws::connect");
    let states = ws_states(&ws);
    until("the WebSocket opens", || ws.connected()).await;
    (ws, states)
}

fn fast() -> Duration {
    Duration::from_millis(100)
}

// ---------------------------------------------------------------------------------------------
// SSE

#[derive(Debug, Deserialize, PartialEq)]
struct Chat {
    text: String,
}

/// Named events reach typed and raw listeners; data that is not JSON is a string; data that
/// does not fit the type is skipped; the last event id follows the stream.
#[wasm_bindgen_test]
async fn sse_named_events_with_json_and_raw_data() {
    let chat = unique("chat");
    let note = unique("note");
    let (sse, _states) = sse_connected(SseOptions::default()).await;
    let (chats, c) = collector::<Chat>();
    let _chat = sse.on(&chat, move |m: Chat| c.borrow_mut().push(m));
    let (raws, r) = collector::<String>();
    let _raw = sse.on_raw(&note, move |s| r.borrow_mut().push(s));
    let (texts, t) = collector::<String>();
    let _text = sse.on(&note, move |s: String| t.borrow_mut().push(s));
    let (anys, a) = collector::<(String, Value)>();
    let _any = sse.on_any(move |name, v| a.borrow_mut().push((name.to_string(), v.clone())));
    // A listener added after connecting is heard at once (EventSource listens to the name).
    sleep(50).await;

    publish(&chat, json!(42), None).await; // does not deserialize as Chat: skipped
    let id = publish(&chat, json!({ "text": "hi" }), None).await;
    let body = json!({ "event": note, "data": "first line\nsecond line", "raw": true });
    post(&format!("{}/publish", sse_server()), body).await;

    until("the chat event", || !chats.borrow().is_empty()).await;
    until("the raw note", || !raws.borrow().is_empty()).await;
    assert_eq!(*chats.borrow(), vec![Chat { text: "hi".into() }]);
    assert_eq!(*raws.borrow(), vec!["first line\nsecond line".to_string()]);
    assert_eq!(*texts.borrow(), vec!["first line\nsecond line".to_string()]);
    let any_names: Vec<String> = anys.borrow().iter().map(|(n, _)| n.clone()).collect();
    assert!(
        any_names.iter().filter(|n| **n == chat).count() == 2,
        "on_any sees both chat events: {any_names:?}"
    );
    let last: u64 = sse
        .last_event_id()
        .expect("a last event id")
        .parse()
        .expect("numeric");
    assert!(
        last > id,
        "last event id {last} after the note (chat was {id})"
    );

    // `off` removes the listeners of a name.
    sse.off(&note);
    let body = json!({ "event": note, "data": "again", "raw": true });
    post(&format!("{}/publish", sse_server()), body).await;
    sleep(SETTLE).await;
    assert_eq!(raws.borrow().len(), 1, "no raw listener after off");
}

/// Events published while the stream is dropped arrive after the reconnection, resumed from
/// the last event id (the query parameter `lastEventId`), none lost and none twice.
#[wasm_bindgen_test]
async fn sse_resumes_after_a_drop_without_loss_or_duplicate() {
    let tick = unique("tick");
    let (sse, states) = sse_connected(
        SseOptions::default()
            .reconnection_delay(Duration::from_millis(800))
            .randomization_factor(0.0),
    )
    .await;
    let (ticks, t) = collector::<u32>();
    let _tick = sse.on(&tick, move |n: u32| t.borrow_mut().push(n));
    sleep(50).await;
    publish(&tick, json!(1), None).await;
    publish(&tick, json!(2), None).await;
    until("ticks 1 and 2", || ticks.borrow().len() == 2).await;

    post(&format!("{}/control/drop", sse_server()), json!({})).await;
    until("the drop is seen", || {
        states.disconnects(StreamClosed::TransportClose) == 1
    })
    .await;
    assert!(!sse.connected());
    publish(&tick, json!(3), None).await;
    publish(&tick, json!(4), None).await;
    until("the reconnection", || states.connects() == 2).await;
    publish(&tick, json!(5), None).await;
    until("ticks 3 to 5", || ticks.borrow().len() >= 5).await;
    sleep(SETTLE).await;
    assert_eq!(*ticks.borrow(), vec![1, 2, 3, 4, 5]);
    assert!(
        states.list().contains(&StreamEvent::ReconnectAttempt(1)),
        "reconnect attempt reported: {:?}",
        states.list()
    );

    let clients = get(&format!("{}/control/clients", sse_server())).await;
    let resumed: Vec<&Value> = clients
        .as_array()
        .expect("clients")
        .iter()
        .filter(|c| c["lastEventIdFrom"] == json!("query"))
        .collect();
    assert!(
        !resumed.is_empty(),
        "the reconnection resumed through the query: {clients}"
    );
}

/// A 503 answer (after which a bare EventSource gives up) is a connect error carrying the
/// status and body (asked again with one GET, since EventSource hides them), followed by a
/// reconnection with backoff.
#[wasm_bindgen_test]
async fn sse_reconnects_after_http_errors() {
    // Each failed attempt takes two answers: the EventSource's and the GET asking for its
    // status.
    post(
        &format!("{}/control/fail", sse_server()),
        json!({ "status": 503, "count": 4 }),
    )
    .await;
    let base = sse_server();
    let sse = Sse::connect(
        &format!("{base}/events"),
        SseOptions::default()
            .reconnection_delay(fast())
            .emit_url(format!("{base}/emit")),
    )
    .expect("Sse::connect");
    let states = sse_states(&sse);
    let (errors, e) = collector::<StreamError>();
    let _errors = sse.on_connect_error(move |err| e.borrow_mut().push(err.clone()));
    until("connected after two failures", || sse.connected()).await;
    let failures = states.count(|e| matches!(e, StreamEvent::ConnectError { .. }));
    assert_eq!(failures, 2, "connect errors: {:?}", states.list());
    assert!(
        states
            .list()
            .contains(&StreamEvent::Connect { attempts: 2 }),
        "connected at attempt 2: {:?}",
        states.list()
    );
    assert_eq!(errors.borrow().len(), 2, "{:?}", errors.borrow());
    for err in errors.borrow().iter() {
        match err {
            StreamError::Http { status: 503, data } => {
                assert!(data["error"].is_string(), "the body: {data}")
            }
            other => panic!("expected HTTP 503, got {other:?}"),
        }
    }
    let ev = unique("after");
    let (got, g) = collector::<String>();
    let _sub = sse.on(&ev, move |s: String| g.borrow_mut().push(s));
    sleep(50).await;
    publish(&ev, json!("ok"), None).await;
    until("an event after the failures", || !got.borrow().is_empty()).await;

    // A server that is not there: a connect error without an HTTP answer.
    let gone = Sse::connect(
        "http://127.0.0.1:9/events",
        SseOptions::default().reconnection(false),
    )
    .expect("Sse::connect");
    let (errors, e) = collector::<StreamError>();
    let _errors = gone.on_connect_error(move |err| e.borrow_mut().push(err.clone()));
    until("a connect error", || !errors.borrow().is_empty()).await;
    assert!(
        matches!(errors.borrow()[0], StreamError::Transport(_)),
        "{:?}",
        errors.borrow()
    );
    until("no more attempts", || !gone.active()).await;
}

/// The heartbeat watchdog reconnects a stream that went silent; what was published meanwhile
/// arrives once, from the new stream.
#[wasm_bindgen_test]
async fn sse_watchdog_reconnects_a_stalled_stream() {
    let ev = unique("stalled");
    let (sse, states) = sse_connected(
        SseOptions::default()
            .ping_timeout(Duration::from_millis(1500))
            .reconnection_delay(fast()),
    )
    .await;
    let (pings, p) = collector::<Value>();
    let _ping = sse.on("ping", move |v: Value| p.borrow_mut().push(v));
    let (got, g) = collector::<u32>();
    let _sub = sse.on(&ev, move |n: u32| g.borrow_mut().push(n));
    until(
        "a heartbeat (server started with --ping-interval 250)",
        || !pings.borrow().is_empty(),
    )
    .await;
    // Heartbeats keep the stream open well past the watchdog's timeout.
    sleep(1_800).await;
    assert_eq!(
        states.connects(),
        1,
        "still the first stream: {:?}",
        states.list()
    );
    // An event with an id, to resume from.
    publish(&ev, json!(0), None).await;
    until("the first event", || !got.borrow().is_empty()).await;

    post(
        &format!("{}/control/stall", sse_server()),
        json!({ "ms": 4000 }),
    )
    .await;
    publish(&ev, json!(1), None).await;
    until_within(4_000, "the watchdog fires", || {
        states.disconnects(StreamClosed::IdleTimeout) == 1
    })
    .await;
    until("the reconnection", || states.connects() == 2).await;
    until("the event published during the stall", || {
        got.borrow().len() >= 2
    })
    .await;
    sleep(SETTLE).await;
    assert_eq!(*got.borrow(), vec![0, 1]);
}

/// The answer of an emit's POST is its ack; an HTTP error fails with its status; emits made
/// while disconnected are held and sent on connect; a full buffer refuses.
#[wasm_bindgen_test]
async fn sse_emit_with_ack_and_http_errors() {
    let (sse, _states) = sse_connected(SseOptions::default().max_buffer(2)).await;
    let echoed: Vec<Value> = within(
        WAIT,
        "echo ack",
        sse.emit_with_ack("echo", &json!({ "a": 1 })),
    )
    .await
    .expect("echo ack");
    assert_eq!(echoed, vec![json!({ "a": 1 })]);
    let pair: (u32, String) = within(
        WAIT,
        "echo of two",
        sse.emit_many_with_ack("echo", &[&7, &"x"]),
    )
    .await
    .expect("echo of two");
    assert_eq!(pair, (7, "x".to_string()));
    let ok: Value = within(WAIT, "other ack", sse.emit_with_ack("whatever", &()))
        .await
        .expect("other ack");
    assert_eq!(ok, json!({ "ok": true }));

    let failed = within(
        WAIT,
        "fail ack",
        sse.emit_with_ack::<Value, _>("fail", &"nope"),
    )
    .await;
    match failed {
        Err(StreamError::Http { status, data }) => {
            assert_eq!(status, 500);
            assert_eq!(data, json!({ "error": "nope" }));
        }
        other => panic!("fail: expected an HTTP 500 error, got {other:?}"),
    }
    let wrong_type = within(WAIT, "echo as u8", sse.emit_with_ack::<u8, _>("echo", &"s")).await;
    assert!(
        matches!(wrong_type, Err(StreamError::Decode(_))),
        "{wrong_type:?}"
    );
    let slow = within(
        WAIT,
        "slow ack",
        sse.emit_with_ack::<Value, _>("slow", &2000)
            .timeout(Duration::from_millis(200)),
    )
    .await;
    assert_eq!(slow, Err(StreamError::Timeout));
    assert!(matches!(
        sse.emit("connect", &1),
        Err(StreamError::Reserved(_))
    ));

    // Held while disconnected, sent on connect, in order.
    sse.disconnect();
    assert!(!sse.active());
    let marker = unique("held");
    let first = sse.emit_with_ack::<Vec<String>, _>("echo", &marker);
    sse.emit("record", &marker).expect("second held emit");
    assert_eq!(sse.emit("record", &3), Err(StreamError::BufferFull));
    assert_eq!(
        sse.emit_volatile("record", &4),
        Ok(false),
        "volatile is dropped while down"
    );
    sleep(SETTLE).await;
    let emitted = get(&format!("{}/emitted", sse_server())).await;
    assert!(
        !emitted.to_string().contains(&marker),
        "nothing sent while disconnected"
    );
    sse.open();
    let held = within(WAIT, "held echo", first).await.expect("held echo");
    assert_eq!(held, vec![marker.clone()]);
    let mut mine: Vec<Value> = Vec::new();
    let start = js_sys::Date::now();
    while mine.len() < 2 && js_sys::Date::now() - start < f64::from(WAIT) {
        sleep(50).await;
        let emitted = get(&format!("{}/emitted", sse_server())).await;
        mine = emitted
            .as_array()
            .expect("emitted")
            .iter()
            .filter(|e| e["args"] == json!([marker]))
            .cloned()
            .collect();
    }
    sleep(SETTLE).await;
    assert_eq!(mine.len(), 2, "both held emits went out once: {mine:?}");
    assert_eq!(mine[0]["event"], json!("echo"), "in order");
    assert_eq!(mine[1]["event"], json!("record"), "in order");
}

/// Rooms are query parameters; joining reconnects with the new set; `emit_to` posts with the
/// room, which the server relays to the room's streams.
/// Emits are POSTed one at a time, in order: the second waits for the answer to the first,
/// which the server gives after 400 ms.
#[wasm_bindgen_test]
async fn sse_emits_are_posted_one_at_a_time() {
    let (sse, _states) = sse_connected(SseOptions::default()).await;
    let mark = unique("order");
    let t0 = js_sys::Date::now();
    // Both are sent (or queued) when made; the second's answer is timed on its own.
    let slow = sse.emit_many_with_ack::<Value>("slow", &[&400, &mark]);
    let after = sse.emit_with_ack::<Value, _>("echo", &mark);
    let answered: Shared<(Result<Value, StreamError>, f64)> = Rc::default();
    let put = Rc::clone(&answered);
    wasm_bindgen_futures::spawn_local(async move {
        let r = after.await;
        put.borrow_mut().push((r, js_sys::Date::now() - t0));
    });
    let slow = within(WAIT, "slow ack", slow).await;
    assert_eq!(slow.expect("slow ack"), json!([400, mark]));
    until("the echo's answer", || !answered.borrow().is_empty()).await;
    let (after, after_ms) = answered.borrow_mut().remove(0);
    assert_eq!(after.expect("echo ack"), json!([mark]));
    assert!(
        after_ms >= 390.0,
        "the second emit was answered {after_ms} ms after both were made"
    );
    let emitted = get(&format!("{}/emitted", sse_server())).await;
    let mine: Vec<Value> = emitted
        .as_array()
        .expect("emitted")
        .iter()
        .filter(|e| {
            e["args"]
                .as_array()
                .is_some_and(|a| a.contains(&json!(mark)))
        })
        .map(|e| e["event"].clone())
        .collect();
    assert_eq!(mine, vec![json!("slow"), json!("echo")]);
}

#[wasm_bindgen_test]
async fn sse_rooms() {
    let a = unique("room-a");
    let b = unique("room-b");
    let ev = unique("news");
    let (sse, states) = sse_connected(SseOptions::default().room(a.clone())).await;
    let (got, g) = collector::<String>();
    let _sub = sse.on(&ev, move |s: String| g.borrow_mut().push(s));
    let (relayed, r) = collector::<Value>();
    let _relay = sse.on("emitted", move |v: Value| r.borrow_mut().push(v));
    sleep(50).await;
    publish(&ev, json!("to a"), Some(&a)).await;
    publish(&ev, json!("to b"), Some(&b)).await;
    until("the event to room a", || !got.borrow().is_empty()).await;
    sleep(SETTLE).await;
    assert_eq!(*got.borrow(), vec!["to a".to_string()]);

    sse.join(&b);
    sse.join(&b);
    assert_eq!(sse.rooms(), vec![a.clone(), b.clone()]);
    until("one reconnection for the join", || states.connects() == 2).await;
    let clients = get(&format!("{}/control/clients", sse_server())).await;
    assert!(
        clients
            .as_array()
            .expect("clients")
            .iter()
            .any(|c| c["rooms"] == json!([a, b])),
        "a stream in both rooms: {clients}"
    );
    publish(&ev, json!("to b again"), Some(&b)).await;
    until("the events to room b", || got.borrow().len() >= 3).await;
    // The new stream resumed from the last event id, so room b's event published since then
    // came first.
    assert_eq!(*got.borrow(), ["to a", "to b", "to b again"]);

    sse.emit_to(&a, "hello", &json!({ "x": 1 }))
        .expect("emit_to");
    until("the relayed emit", || !relayed.borrow().is_empty()).await;
    assert_eq!(
        relayed.borrow()[0],
        json!({ "event": "hello", "args": [{ "x": 1 }] })
    );

    sse.leave(&a);
    assert_eq!(sse.rooms(), vec![b.clone()]);
    until("one reconnection for the leave", || states.connects() == 3).await;
    publish(&ev, json!("to a, left"), Some(&a)).await;
    publish(&ev, json!("to b, kept"), Some(&b)).await;
    until("the event to room b", || got.borrow().len() >= 4).await;
    sleep(SETTLE).await;
    assert_eq!(
        *got.borrow(),
        ["to a", "to b", "to b again", "to b, kept"],
        "nothing from the room left"
    );
}

/// A dropped `Sse` leaves no open `EventSource` behind, and its held emits' acks fail.
#[wasm_bindgen_test]
async fn sse_drop_closes_everything() {
    install_counters();
    let before = event_sources_open();
    let (sse, _states) = sse_connected(SseOptions::default()).await;
    assert_eq!(event_sources_open(), before + 1);
    let weak = sse.downgrade();
    let _sub = sse.on("x", |_: Value| {});
    sse.disconnect();
    let held = sse.emit_with_ack::<Value, _>("echo", &1);
    sse.open();
    drop(sse);
    assert!(weak.upgrade().is_none(), "no handle keeps it alive");
    assert_eq!(event_sources_open(), before, "the EventSource is closed");
    let r = within(WAIT, "held ack after drop", held).await;
    assert!(r.is_err(), "{r:?}");
}

/// The fetch transport: events with data, the user's headers on the stream, resume through the
/// `Last-Event-ID` header after a drop, an HTTP error as a connect error with its status, and
/// `on_any` hearing events of names that have no listener.
#[wasm_bindgen_test]
async fn sse_fetch_transport() {
    let chat = unique("fchat");
    let unheard = unique("unheard");
    let token = format!("Bearer {}", unique("t"));
    let base = sse_server();
    let sse = Sse::connect(
        &format!("{base}/events"),
        SseOptions::default()
            .transport(SseTransport::Fetch)
            .header("Authorization", token.clone())
            .reconnection_delay(Duration::from_millis(300))
            .randomization_factor(0.0)
            .emit_url(format!("{base}/emit")),
    )
    .expect("Sse::connect");
    let states = sse_states(&sse);
    let (errors, e) = collector::<StreamError>();
    let _errors = sse.on_connect_error(move |err| e.borrow_mut().push(err.clone()));
    let (chats, c) = collector::<Chat>();
    let _chat = sse.on(&chat, move |m: Chat| c.borrow_mut().push(m));
    let (anys, a) = collector::<(String, Value)>();
    let _any = sse.on_any(move |name, v| a.borrow_mut().push((name.to_string(), v.clone())));
    until("the fetch stream opens", || sse.connected()).await;

    // The header reached the server with the stream's request.
    let clients = get(&format!("{base}/control/clients")).await;
    let mine = clients
        .as_array()
        .expect("clients")
        .iter()
        .filter(|c| c["authorization"] == json!(token))
        .count();
    assert_eq!(
        mine, 1,
        "one stream with the Authorization header: {clients}"
    );

    publish(&chat, json!({ "text": "one" }), None).await;
    let id = publish(&unheard, json!({ "n": 1 }), None).await;
    until("the chat event", || chats.borrow().len() == 1).await;
    until("the unheard event through on_any", || {
        anys.borrow().iter().any(|(n, _)| *n == unheard)
    })
    .await;
    assert_eq!(*chats.borrow(), vec![Chat { text: "one".into() }]);
    let seen = anys.borrow().iter().find(|(n, _)| *n == unheard).cloned();
    assert_eq!(seen.map(|(_, v)| v), Some(json!({ "n": 1 })));
    assert_eq!(sse.last_event_id(), Some(id.to_string()));

    // A drop: what is published meanwhile arrives after the reconnection, which resumes
    // through the Last-Event-ID header.
    post(&format!("{base}/control/drop"), json!({})).await;
    until("the drop is seen", || {
        states.count(|e| matches!(e, StreamEvent::Disconnect(_))) == 1
    })
    .await;
    publish(&chat, json!({ "text": "two" }), None).await;
    until("the reconnection", || states.connects() == 2).await;
    until("the event published during the drop", || {
        chats.borrow().len() == 2
    })
    .await;
    let clients = get(&format!("{base}/control/clients")).await;
    let resumed: Vec<&Value> = clients
        .as_array()
        .expect("clients")
        .iter()
        .filter(|c| c["authorization"] == json!(token))
        .collect();
    assert_eq!(resumed.len(), 1, "{clients}");
    assert_eq!(resumed[0]["lastEventIdFrom"], json!("header"), "{clients}");
    assert_eq!(resumed[0]["lastEventIdQuery"], Value::Null, "{clients}");

    // An HTTP error answer: a connect error with its status and body, then a reconnection.
    post(
        &format!("{base}/control/fail"),
        json!({ "status": 503, "count": 1 }),
    )
    .await;
    post(&format!("{base}/control/drop"), json!({})).await;
    until("connected again after the 503", || states.connects() == 3).await;
    assert_eq!(errors.borrow().len(), 1, "{:?}", errors.borrow());
    match &errors.borrow()[0] {
        StreamError::Http { status: 503, data } => {
            assert!(data["error"].is_string(), "the body: {data}")
        }
        other => panic!("expected HTTP 503, got {other:?}"),
    }
    publish(&chat, json!({ "text": "three" }), None).await;
    until("an event after the 503", || chats.borrow().len() == 3).await;
    sleep(SETTLE).await;
    let texts: Vec<String> = chats.borrow().iter().map(|c| c.text.clone()).collect();
    assert_eq!(texts, vec!["one", "two", "three"], "none lost, none twice");

    // Dropping it aborts the request: the server sees the stream go.
    drop(sse);
    let mut gone = false;
    for _ in 0..20 {
        let clients = get(&format!("{base}/control/clients")).await;
        if !clients
            .as_array()
            .expect("clients")
            .iter()
            .any(|c| c["authorization"] == json!(token))
        {
            gone = true;
            break;
        }
        sleep(100).await;
    }
    assert!(gone, "the request was aborted");
}

/// A URL that cannot be a stream is refused at once.
#[wasm_bindgen_test]
async fn invalid_urls_are_refused() {
    assert!(matches!(
        Sse::connect("ftp://example.com/x", SseOptions::default()),
        Err(StreamError::InvalidUrl(_))
    ));
    assert!(matches!(
        Ws::connect("http://[bad", WsOptions::default()),
        Err(StreamError::InvalidUrl(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Plain WebSocket

/// Envelope events reach typed listeners, acks come back both ways, data that does not fit
/// the type is skipped.
#[wasm_bindgen_test]
async fn ws_envelope_events_and_acks() {
    let (ws, _states) = ws_connected(WsOptions::default()).await;
    let (echoes, e) = collector::<(u32, String)>();
    let _echo = ws.on("echo", move |v: (u32, String)| e.borrow_mut().push(v));
    let (answers, a) = collector::<String>();
    let _answer = ws.on("answer", move |s: String| a.borrow_mut().push(s));
    let (questions, q) = collector::<String>();
    let _confirm = ws.on_with_ack("confirm", move |s: String, ack| {
        q.borrow_mut().push(s);
        if let Some(ack) = ack {
            ack.clone().send(&"yes").expect("ack");
            // Only the first answer counts.
            ack.send(&"no").expect("second ack is dropped");
        }
    });

    ws.emit("echo", &"not a tuple").expect("emit"); // skipped by the typed listener
    ws.emit_many("echo", &[&1, &"a"]).expect("emit_many");
    until("the echo", || !echoes.borrow().is_empty()).await;
    assert_eq!(*echoes.borrow(), vec![(1, "a".to_string())]);

    let sum: i64 = within(WAIT, "add", ws.emit_many_with_ack("add", &[&1, &2, &3]))
        .await
        .expect("add");
    assert_eq!(sum, 6);
    let echoed: String = within(WAIT, "echo ack", ws.emit_with_ack("echo", &"x"))
        .await
        .expect("echo ack");
    assert_eq!(echoed, "x");
    let ok: Value = within(WAIT, "other ack", ws.emit_with_ack("other", &()))
        .await
        .expect("other ack");
    assert_eq!(ok, json!({ "ok": true }));

    ws.emit_many("ask", &[&"confirm", &"sure?"]).expect("ask");
    until("the server's answer", || !answers.borrow().is_empty()).await;
    sleep(SETTLE).await;
    assert_eq!(*questions.borrow(), vec!["sure?".to_string()]);
    assert_eq!(*answers.borrow(), vec!["yes".to_string()]);
    assert!(matches!(
        ws.emit("rtio:to", &1),
        Err(StreamError::Reserved(_))
    ));
}

/// An ack that never comes times out, or fails when the connection is lost.
#[wasm_bindgen_test]
async fn ws_never_acked_times_out_or_fails_on_disconnect() {
    let (ws, states) = ws_connected(WsOptions::default().reconnection_delay(fast())).await;
    let timed = within(
        WAIT,
        "never with a timeout",
        ws.emit_with_ack::<Value, _>("never", &())
            .timeout(Duration::from_millis(200)),
    )
    .await;
    assert_eq!(timed, Err(StreamError::Timeout));

    let pending = ws.emit_with_ack::<Value, _>("never", &());
    sleep(100).await;
    post(&format!("{}/control/drop", ws_server()), json!({})).await;
    let lost = within(WAIT, "never, then a drop", pending).await;
    assert_eq!(lost, Err(StreamError::Disconnected));
    until("the reconnection", || states.connects() == 2).await;
    let echoed: u32 = within(WAIT, "echo after", ws.emit_with_ack("echo", &5))
        .await
        .expect("echo after reconnecting");
    assert_eq!(echoed, 5);
}

/// The heartbeat: pings go out at the interval, and a server that stops answering is taken
/// for dead after the interval plus the timeout, then reconnected.
#[wasm_bindgen_test]
async fn ws_heartbeat_detects_a_stall() {
    let (ws, states) = ws_connected(
        WsOptions::default()
            .ping_interval(Duration::from_millis(200))
            .ping_timeout(Duration::from_millis(300))
            .reconnection_delay(fast()),
    )
    .await;
    let (pongs, p) = collector::<()>();
    let _pong = ws.on("pong", move |_: Value| p.borrow_mut().push(()));
    until("pongs", || pongs.borrow().len() >= 2).await;
    // Pongs keep it open well past interval + timeout.
    sleep(800).await;
    assert_eq!(states.connects(), 1, "still the first connection");

    post(
        &format!("{}/control/stall", ws_server()),
        json!({ "ms": 3000 }),
    )
    .await;
    until_within(2_000, "the heartbeat timeout", || {
        states.disconnects(StreamClosed::IdleTimeout) == 1
    })
    .await;
    until("the reconnection", || states.connects() == 2).await;
    let echoed: u32 = within(WAIT, "echo after", ws.emit_with_ack("echo", &9))
        .await
        .expect("echo after the stall");
    assert_eq!(echoed, 9);
}

/// Frames that are not envelopes, and every binary frame, are raw messages both ways.
#[wasm_bindgen_test]
async fn ws_raw_text_and_binary_frames() {
    let (ws, _states) = ws_connected(WsOptions::default()).await;
    let (raw, r) = collector::<Message>();
    let _raw = ws.on_message(move |m| r.borrow_mut().push(m));
    let (events, e) = collector::<String>();
    let _any = ws.on_any(move |name, _| e.borrow_mut().push(name.to_string()));

    ws.emit("raw", &"hello there").expect("raw");
    ws.emit("raw-binary", &[1, 2, 255]).expect("raw-binary");
    ws.send_raw("plain text").expect("send_raw text");
    ws.send_raw(vec![9u8, 8]).expect("send_raw binary");
    ws.send_raw("[]").expect("an empty array");
    ws.send_raw("[-1, \"e\"]").expect("a negative ack id");
    ws.send_raw("{\"ack\": 1}").expect("an ack without args");
    until("seven raw frames", || raw.borrow().len() == 7).await;
    sleep(SETTLE).await;
    assert_eq!(
        *raw.borrow(),
        vec![
            Message::Text("hello there".into()),
            Message::Binary(vec![1, 2, 255]),
            Message::Text("plain text".into()),
            Message::Binary(vec![9, 8]),
            Message::Text("[]".into()),
            Message::Text("[-1, \"e\"]".into()),
            Message::Text("{\"ack\": 1}".into()),
        ]
    );
    assert!(
        events.borrow().is_empty(),
        "no events: {:?}",
        events.borrow()
    );

    // With the envelope off, every frame is a message.
    let (plain, _s) = ws_connected(WsOptions::default().envelope(false)).await;
    let (frames, f) = collector::<Message>();
    let _frames = plain.on_message(move |m| f.borrow_mut().push(m));
    plain.emit("echo", &1).expect("emit");
    until("the echo as a raw frame", || !frames.borrow().is_empty()).await;
    assert_eq!(frames.borrow()[0], Message::Text("[\"echo\",1]".into()));
}

/// After the server drops the connection, emits made while it is down are held and written,
/// in order, once it reconnects.
#[wasm_bindgen_test]
async fn ws_reconnects_after_a_drop_and_flushes_the_buffer() {
    let (ws, states) = ws_connected(
        WsOptions::default()
            .reconnection_delay(Duration::from_millis(500))
            .randomization_factor(0.0),
    )
    .await;
    let (echoes, e) = collector::<u32>();
    let _echo = ws.on("echo", move |n: u32| e.borrow_mut().push(n));
    post(&format!("{}/control/drop", ws_server()), json!({})).await;
    until("the drop is seen", || {
        states.count(|e| matches!(e, StreamEvent::Disconnect(_))) == 1
    })
    .await;
    assert!(!ws.connected());
    for n in 1..=3u32 {
        ws.emit("echo", &n).expect("held emit");
    }
    until("the reconnection", || states.connects() == 2).await;
    until("three echoes", || echoes.borrow().len() == 3).await;
    sleep(SETTLE).await;
    assert_eq!(*echoes.borrow(), vec![1, 2, 3]);
    assert!(
        states
            .list()
            .contains(&StreamEvent::Connect { attempts: 1 }),
        "{:?}",
        states.list()
    );
}

/// Going offline closes the connection at once; emits are held; coming online reconnects
/// without waiting for the backoff and writes them.
#[wasm_bindgen_test]
async fn ws_offline_and_online() {
    let (ws, states) = ws_connected(
        WsOptions::default()
            .reconnection_delay(Duration::from_secs(5))
            .randomization_factor(0.0),
    )
    .await;
    let (echoes, e) = collector::<String>();
    let _echo = ws.on("echo", move |s: String| e.borrow_mut().push(s));
    let window = web_sys::window().expect("a window");
    let fire = |name: &str| {
        let ev = web_sys::Event::new(name).expect("an event");
        window.dispatch_event(&ev).expect("dispatched");
    };
    fire("offline");
    assert_eq!(
        states.disconnects(StreamClosed::Offline),
        1,
        "{:?}",
        states.list()
    );
    assert!(!ws.connected());
    ws.emit("echo", &"while offline").expect("held");
    sleep(SETTLE).await;
    assert!(echoes.borrow().is_empty());
    fire("online");
    until_within(2_000, "online reconnects at once", || {
        states.connects() == 2
    })
    .await;
    until("the held echo", || !echoes.borrow().is_empty()).await;
    assert_eq!(*echoes.borrow(), vec!["while offline".to_string()]);
}

/// Rooms and meta are query parameters; a join reconnects with the new set, after which the
/// server's broadcast to the room reaches this client.
#[wasm_bindgen_test]
async fn ws_rooms_and_meta() {
    let a = unique("a");
    let b = unique("b");
    let (ws, states) = ws_connected(
        WsOptions::default()
            .room(a.clone())
            .meta(&json!({ "name": "Ada" }))
            .query("k", "v w"),
    )
    .await;
    let clients = get(&format!("{}/control/clients", ws_server())).await;
    let me = clients
        .as_array()
        .expect("clients")
        .iter()
        .find(|c| c["rooms"] == json!([a]))
        .cloned()
        .unwrap_or_else(|| panic!("a client in room {a}: {clients}"));
    assert_eq!(me["query"]["meta"], json!("{\"name\":\"Ada\"}"));
    assert_eq!(me["query"]["k"], json!("v w"));

    ws.join(&b);
    until("one reconnection for the join", || states.connects() == 2).await;
    assert_eq!(ws.rooms(), vec![a.clone(), b.clone()]);
    let (news, n) = collector::<String>();
    let _news = ws.on("news", move |s: String| n.borrow_mut().push(s));
    let (other, _o) = ws_connected(WsOptions::default().room(b.clone())).await;
    other
        .emit_many("broadcast", &[&"news", &"to b"])
        .expect("broadcast");
    until("the broadcast to room b", || !news.borrow().is_empty()).await;
    assert_eq!(*news.borrow(), vec!["to b".to_string()]);
    drop(other);
    ws.leave(&a);
    until("one reconnection for the leave", || states.connects() == 3).await;
    assert_eq!(ws.rooms(), vec![b]);
}

/// A refused upgrade is a connect error followed by a reconnection with backoff.
#[wasm_bindgen_test]
async fn ws_reconnects_after_refused_upgrades() {
    post(
        &format!("{}/control/reject", ws_server()),
        json!({ "status": 503, "count": 2 }),
    )
    .await;
    let ws = Ws::connect(
        &format!("{}/ws", ws_server()),
        WsOptions::default().reconnection_delay(fast()),
    )
    .expect("Ws::connect");
    let states = ws_states(&ws);
    let (errors, e) = collector::<StreamError>();
    let _errors = ws.on_connect_error(move |err| e.borrow_mut().push(err.clone()));
    until("connected after two refusals", || ws.connected()).await;
    assert_eq!(
        *errors.borrow(),
        vec![StreamError::Transport(StreamClosed::TransportError); 2]
    );
    assert_eq!(
        states.count(|e| matches!(e, StreamEvent::ConnectError { .. })),
        2,
        "{:?}",
        states.list()
    );
}

/// A dropped `Ws` closes its socket; its pending acks fail.
#[wasm_bindgen_test]
async fn ws_drop_closes_everything() {
    install_counters();
    let before = web_sockets_open();
    let (ws, _states) = ws_connected(WsOptions::default()).await;
    assert_eq!(web_sockets_open(), before + 1);
    let pending = ws.emit_with_ack::<Value, _>("never", &());
    let weak = ws.downgrade();
    drop(ws);
    assert!(weak.upgrade().is_none());
    assert_eq!(web_sockets_open(), before, "the WebSocket is closed");
    let r = within(WAIT, "pending ack after drop", pending).await;
    assert_eq!(r, Err(StreamError::Disconnected));
}

// ---------------------------------------------------------------------------------------------
// The Rust server's endpoints (`examples/server` with `--test-controls`), bridged into the
// rooms of its Socket.IO clients

/// The Rust server's URL, or `None` (the test is skipped, saying so) when it was not given.
fn modes_or_skip(test: &str) -> Option<&'static str> {
    let base = modes_server();
    if base.is_none() {
        web_sys::console::warn_1(&JsValue::from_str(&format!(
            "{test}: skipped, RTIO_MODES_URL was not set at compile time"
        )));
    }
    base
}

/// A Socket.IO client of the Rust server in `room`, with its room handle.
async fn socketio_member(base: &str, room: &str, meta: Value) -> (Socket, rtio::Room, Vec<Member>) {
    let socket = Socket::connect(base, Options::default()).expect("Socket::connect");
    within(WAIT, "Socket.IO connects", socket.wait_connected())
        .await
        .expect("Socket.IO connected");
    let handle = socket.room(room).expect("a room");
    let members = within(WAIT, "Socket.IO joins", handle.join(&meta))
        .await
        .expect("joined");
    (socket, handle, members)
}

/// Over `/ws`: the server's hello gives the id; the client's rooms and meta from the query
/// make it a member that Socket.IO clients see; its `emit_to` reaches them as a room message
/// from its id; acks, the heartbeat against a stall, and a drop with held emits.
#[wasm_bindgen_test]
async fn modes_server_websocket_bridge() {
    let Some(base) = modes_or_skip("modes_server_websocket_bridge") else {
        return;
    };
    let room = unique("bridge-ws");
    let ws = Ws::connect(
        &format!("{base}/ws"),
        WsOptions::default()
            .room(room.clone())
            .meta(&json!({ "name": "ws" }))
            .ping_interval(Duration::from_millis(200))
            .ping_timeout(Duration::from_millis(400))
            .reconnection_delay(fast()),
    )
    .expect("Ws::connect");
    let states = ws_states(&ws);
    until("the hello", || ws.id().is_some()).await;
    let id = ws.id().unwrap_or_default();

    let (_socket, handle, members) = socketio_member(base, &room, json!({ "name": "io" })).await;
    assert!(
        members
            .iter()
            .any(|m| m.id == id && m.meta == json!({ "name": "ws" })),
        "the WebSocket client is a member: {members:?}"
    );
    let (cursors, c) = collector::<(Value, String)>();
    let _cursor = handle.on("cursor", move |pos: Value, from: &Member| {
        c.borrow_mut().push((pos, from.id.clone()))
    });
    ws.emit_to(&room, "cursor", &json!({ "x": 1 }))
        .expect("emit_to");
    until("the room message", || !cursors.borrow().is_empty()).await;
    assert_eq!(cursors.borrow()[0], (json!({ "x": 1 }), id.clone()));

    let pair: (u32, String) = within(WAIT, "echo", ws.emit_many_with_ack("echo", &[&1, &"a"]))
        .await
        .expect("echo");
    assert_eq!(pair, (1, "a".to_string()));
    let failed: Value = within(WAIT, "fail", ws.emit_with_ack("fail", &()))
        .await
        .expect("fail's ack");
    assert_eq!(failed["ok"], json!(false));

    // A blackholed connection is found by the heartbeat and replaced.
    post_blind(&format!("{base}/ws/control/stall"), json!({ "ms": 3000 })).await;
    until_within(3_000, "the heartbeat timeout", || {
        states.disconnects(StreamClosed::IdleTimeout) == 1
    })
    .await;
    until("the reconnection", || states.connects() == 2).await;
    until("a new hello", || ws.id().is_some_and(|now| now != id)).await;

    // Dropped: what is emitted meanwhile goes out after the reconnection.
    post_blind(&format!("{base}/ws/control/drop"), json!({})).await;
    until("the drop", || {
        states.disconnects(StreamClosed::TransportClose)
            + states.disconnects(StreamClosed::TransportError)
            == 1
    })
    .await;
    let held = ws.emit_with_ack::<String, _>("echo", &"held");
    let echoed = within(WAIT, "the held echo", held)
        .await
        .expect("held echo");
    assert_eq!(echoed, "held");
    assert_eq!(states.connects(), 3);

    // The Socket.IO member sees the WebSocket client leave when it is dropped.
    let (left, l) = collector::<String>();
    let _presence = handle.on_presence(move |e| {
        if let PresenceEvent::Leave(m) = e {
            l.borrow_mut().push(m.id.clone())
        }
    });
    let last_id = ws.id().unwrap_or_default();
    drop(ws);
    until("the WebSocket client leaves", || {
        left.borrow().contains(&last_id)
    })
    .await;
}

/// Over `/sse`: the hello gives the id; `emit_to` reaches Socket.IO members as a message from
/// that id; acks and HTTP errors; resume after a drop; the watchdog against a stall. The page is
/// of another origin: the server's CORS headers let it read the stream and the answers.
#[wasm_bindgen_test]
async fn modes_server_sse_bridge() {
    let Some(base) = modes_or_skip("modes_server_sse_bridge") else {
        return;
    };
    assert!(
        readable(&format!("{base}/sse/control/clients")).await,
        "the Rust server's SSE routes answer a page of another origin (CORS)"
    );
    let room = unique("bridge-sse");
    let ev = unique("tick");
    let sse = Sse::connect(
        &format!("{base}/sse"),
        SseOptions::default()
            .room(room.clone())
            .meta(&json!({ "name": "sse" }))
            .ping_timeout(Duration::from_millis(1500))
            .reconnection_delay(fast()),
    )
    .expect("Sse::connect");
    let states = sse_states(&sse);
    let (ticks, t) = collector::<u32>();
    let _tick = sse.on(&ev, move |n: u32| t.borrow_mut().push(n));
    until("the hello", || sse.id().is_some()).await;
    let id = sse.id().unwrap_or_default();

    let (_socket, handle, members) = socketio_member(base, &room, json!({ "name": "io" })).await;
    assert!(
        members
            .iter()
            .any(|m| m.id == id && m.meta == json!({ "name": "sse" })),
        "the SSE client is a member: {members:?}"
    );
    let (cursors, c) = collector::<(Value, String)>();
    let _cursor = handle.on("cursor", move |pos: Value, from: &Member| {
        c.borrow_mut().push((pos, from.id.clone()))
    });
    // Without a room, an emit is not relayed; its ack is the server's `{"ok": true}`.
    let ok: Value = within(
        WAIT,
        "an emit's ack",
        sse.emit_with_ack("cursor", &json!({ "x": 2 })),
    )
    .await
    .expect("an ack");
    assert_eq!(ok, json!({ "ok": true }));
    sse.emit_to(&room, "cursor", &json!({ "x": 1 }))
        .expect("emit_to");
    until("the room message", || !cursors.borrow().is_empty()).await;
    assert_eq!(cursors.borrow()[0], (json!({ "x": 1 }), id.clone()));

    let echoed: Vec<u32> = within(WAIT, "echo", sse.emit_with_ack("echo", &3))
        .await
        .expect("echo");
    assert_eq!(echoed, vec![3]);
    match within(WAIT, "fail", sse.emit_with_ack::<Value, _>("fail", &"no")).await {
        Err(StreamError::Http { status: 500, data }) => assert_eq!(data["error"], json!("no")),
        other => panic!("fail: {other:?}"),
    }

    // Resume after a drop: nothing lost, nothing twice.
    let publish_url = format!("{base}/sse/publish");
    post(
        &publish_url,
        json!({ "event": ev, "data": 1, "room": room }),
    )
    .await;
    until("tick 1", || ticks.borrow().len() == 1).await;
    post(&format!("{base}/sse/control/drop"), json!({})).await;
    post(
        &publish_url,
        json!({ "event": ev, "data": 2, "room": room }),
    )
    .await;
    until("the reconnection", || states.connects() == 2).await;
    post(&publish_url, json!({ "event": ev, "data": 3 })).await;
    until("ticks 2 and 3", || ticks.borrow().len() >= 3).await;

    // A refused room: the connect error has the server's status and reason.
    let refused = Sse::connect(
        &format!("{base}/sse"),
        SseOptions::default().room("locked:x").reconnection(false),
    )
    .expect("Sse::connect");
    let (errors, e) = collector::<StreamError>();
    let _errors = refused.on_connect_error(move |err| e.borrow_mut().push(err.clone()));
    until("the refusal", || !errors.borrow().is_empty()).await;
    match &errors.borrow()[0] {
        StreamError::Http { status, data } => {
            assert!((400..500).contains(status), "a 4xx: {status}");
            assert_eq!(data["error"], json!("not allowed"));
        }
        other => panic!("expected an HTTP error, got {other:?}"),
    }
    drop(refused);

    // The watchdog replaces a stalled stream (the server's heartbeat: --sse-ping 250).
    post(&format!("{base}/sse/control/stall"), json!({ "ms": 4000 })).await;
    until_within(4_000, "the watchdog", || {
        states.disconnects(StreamClosed::IdleTimeout) == 1
    })
    .await;
    until("the reconnection", || states.connects() >= 3).await;
    sleep(SETTLE).await;
    assert_eq!(*ticks.borrow(), vec![1, 2, 3]);
}

rtio::event!(
    /// The WebSocket server's `echo`: sent back as an event, and acknowledged with the same
    /// argument.
    WsEcho = "echo", String => String
);
rtio::event!(
    /// The SSE server's `echo`: its POST answers with the arguments.
    SseEcho = "echo", String => Vec<String>
);

/// Declared events over both modes: typed emit, listener and ack; the listener counts follow
/// the subscriptions.
#[wasm_bindgen_test]
async fn typed_events_and_listener_counts() {
    let (ws, _states) = ws_connected(WsOptions::default()).await;
    let base = ws.listener_count();
    let (echoes, e) = collector::<String>();
    let sub = ws.on_typed::<WsEcho>(move |s| e.borrow_mut().push(s));
    assert_eq!(ws.listener_count(), base + 1, "one more listener");
    ws.emit_typed::<WsEcho>(&"typed".to_string()).expect("emit");
    until("the typed echo", || !echoes.borrow().is_empty()).await;
    assert_eq!(*echoes.borrow(), vec!["typed".to_string()]);
    let acked = within(
        WAIT,
        "typed ack",
        ws.emit_typed_with_ack::<WsEcho>(&"x".to_string()),
    )
    .await
    .expect("typed ack");
    assert_eq!(acked, "x");
    drop(sub);
    assert_eq!(ws.listener_count(), base, "released on drop");

    let (sse, _states) = sse_connected(SseOptions::default()).await;
    let acked = within(
        WAIT,
        "typed POST ack",
        sse.emit_typed_with_ack::<SseEcho>(&"y".to_string()),
    )
    .await
    .expect("typed POST ack");
    assert_eq!(acked, vec!["y".to_string()]);
    let base = sse.listener_count();
    let sub = sse.on_typed::<SseEcho>(|_| {});
    assert_eq!(sse.listener_count(), base + 1);
    drop(sub);
    assert_eq!(sse.listener_count(), base);
}

/// A server cannot fake the client's own events: an SSE event or a WebSocket envelope event
/// under a lifecycle name reaches no listener and changes no state; the connection stays up
/// and the next event arrives. A WebSocket ack answer of the wrong shape settles its ack.
#[wasm_bindgen_test]
async fn server_events_under_lifecycle_names_are_dropped() {
    // SSE, fetch transport (every event name reaches the client).
    let fine = unique("fine");
    let (sse, states) = sse_connected(SseOptions::default().transport(SseTransport::Fetch)).await;
    let (anys, a) = collector::<String>();
    let _any = sse.on_any(move |name, _| a.borrow_mut().push(name.to_string()));
    let (named, n) = collector::<String>();
    let _named = sse.on_raw("disconnect", move |s| n.borrow_mut().push(s));
    let before = states.list().len();
    for name in ["disconnect", "connect", "error", "reconnect_failed"] {
        publish(name, json!("fake"), None).await;
    }
    publish(&fine, json!(1), None).await;
    until("the SSE event after them", || anys.borrow().contains(&fine)).await;
    let heard: Vec<String> = anys
        .borrow()
        .iter()
        .filter(|n| *n != "ping")
        .cloned()
        .collect();
    assert_eq!(
        heard,
        vec![fine.clone()],
        "on_any saw only the real event (and heartbeats)"
    );
    assert!(
        named.borrow().is_empty(),
        "no listener of \"disconnect\" called"
    );
    assert_eq!(states.list().len(), before, "no state change");
    assert!(sse.connected());

    // WebSocket envelope.
    let (ws, states) = ws_connected(WsOptions::default()).await;
    let (anys, a) = collector::<String>();
    let _any = ws.on_any(move |name, _| a.borrow_mut().push(name.to_string()));
    let before = states.list().len();
    ws.emit("raw", &r#"["disconnect","fake"]"#).expect("raw");
    ws.emit("raw", &r#"[7,"connect"]"#).expect("raw");
    ws.emit_many("emit-back", &[&"fine", &1])
        .expect("emit-back");
    until("the WebSocket event after them", || {
        anys.borrow().iter().any(|n| n == "fine")
    })
    .await;
    assert_eq!(*anys.borrow(), vec!["fine".to_string()]);
    assert_eq!(states.list().len(), before, "no state change");
    assert!(ws.connected());

    // This client's first ack has id 0; its answer comes back of the wrong shape.
    let pending = ws.emit_with_ack::<Value, _>("never", &());
    ws.emit("raw", &r#"{"ack":0,"args":"no"}"#).expect("raw");
    let answer = within(WAIT, "the malformed answer settles the ack", pending).await;
    assert!(matches!(answer, Err(StreamError::Decode(_))), "{answer:?}");
}

// ---------------------------------------------------------------------------------------------
// Debug logging

/// What the `log` facade received from rtio, as `LEVEL message` lines.
struct Captured;

thread_local! {
    static LOGGED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

impl log::Log for Captured {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.target() == "rtio"
    }
    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            LOGGED.with(|l| {
                l.borrow_mut()
                    .push(format!("{} {}", record.level(), record.args()))
            });
        }
    }
    fn flush(&self) {}
}

static CAPTURED: Captured = Captured;

/// The modes log through the `log` facade too: frames at trace level (a plain WebSocket's and
/// an SSE stream's events and POSTs), the stream's state changes at debug level.
#[wasm_bindgen_test]
async fn modes_log_frames_and_state_changes() {
    // The logger of this test binary (no other test installs one).
    let _ = log::set_logger(&CAPTURED);
    log::set_max_level(log::LevelFilter::Trace);
    LOGGED.with(|l| l.borrow_mut().clear());
    let (ws, _states) = ws_connected(WsOptions::default()).await;
    let echoed: String = within(WAIT, "echo ack", ws.emit_with_ack("echo", &"logged"))
        .await
        .expect("echo ack");
    assert_eq!(echoed, "logged");
    drop(ws);
    let (sse, _states) = sse_connected(SseOptions::default()).await;
    let echoed: Value = within(WAIT, "sse echo ack", sse.emit_with_ack("echo", &"posted"))
        .await
        .expect("sse echo ack");
    assert_eq!(echoed, json!(["posted"]));
    drop(sse);
    log::set_max_level(log::LevelFilter::Off);
    let lines = LOGGED.with(|l| l.borrow().clone());
    let has = |start: &str, part: &str| {
        lines
            .iter()
            .any(|l| l.starts_with(start) && l.contains(part))
    };
    assert!(
        has("DEBUG stream: Connect", ""),
        "the streams' connects: {lines:#?}"
    );
    assert!(
        has("TRACE send frame ", r#""echo","logged""#),
        "the ws emit: {lines:#?}"
    );
    assert!(
        has("TRACE receive ", r#"{"ack":"#),
        "the ws ack: {lines:#?}"
    );
    assert!(
        has("TRACE send POST ", "posted"),
        "the SSE emit's POST: {lines:#?}"
    );
}
