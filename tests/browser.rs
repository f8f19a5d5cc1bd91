//! The Rust API against both live test servers (`tests/servers/PROTOCOL.md`), in headless
//! Chromium with wasm-bindgen-test.
//!
//! The server URLs are read at compile time:
//!
//! ```text
//! RTIO_NODE_URL=http://127.0.0.1:PORT RTIO_RUST_URL=http://127.0.0.1:PORT \
//!     RTIO_NODE_RECOVERY_URL=http://127.0.0.1:PORT \
//!     cargo test --target wasm32-unknown-unknown --test browser
//! ```
//!
//! `RTIO_NODE_RECOVERY_URL` is a Node test server started with `--recovery` (socket.io's
//! connection-state recovery), for the one test that needs it. `RTIO_NODE_POLLING_URL` and
//! `RTIO_RUST_POLLING_URL` are the two servers started with `--transports polling` (long-polling
//! only, as behind a proxy that blocks WebSocket), for the long-polling tests.
//!
//! Every test runs its scenario against each server in turn and names the server in its
//! assertion messages. Every wait is bounded, so a missing reply fails the test instead of
//! hanging the run.
#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use futures_core::Stream;
use rtio::{
    AckError, Binary, ConnectError, DisconnectReason, EmitError, Manager, ManagerEvent, Member,
    Options, PresenceEvent, RoomError, Socket, Transport,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Upper bound for any single step that waits on the server, in milliseconds.
const WAIT: u32 = 5_000;
/// How long to keep listening for something that must *not* happen, in milliseconds.
const SETTLE: u32 = 300;

// ---------------------------------------------------------------------------------------------
// Helpers

/// The two servers as `(name, url)`. Fails the test when a URL was not given at build time.
fn servers() -> [(&'static str, &'static str); 2] {
    const HOW: &str = "pass both server URLs when building the tests, e.g. \
         RTIO_NODE_URL=http://127.0.0.1:PORT RTIO_RUST_URL=http://127.0.0.1:PORT \
         cargo test --target wasm32-unknown-unknown --test browser";
    let node = option_env!("RTIO_NODE_URL")
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| panic!("RTIO_NODE_URL was not set at compile time; {HOW}"));
    let rust = option_env!("RTIO_RUST_URL")
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| panic!("RTIO_RUST_URL was not set at compile time; {HOW}"));
    [
        ("node", node.trim_end_matches('/')),
        ("rust", rust.trim_end_matches('/')),
    ]
}

/// The two servers that serve long-polling only, as `(name, url)`.
fn polling_servers() -> [(&'static str, &'static str); 2] {
    let url = |u: Option<&'static str>, name| {
        u.filter(|u| !u.is_empty())
            .unwrap_or_else(|| panic!("{name} was not set at compile time"))
            .trim_end_matches('/')
    };
    [
        (
            "node",
            url(
                option_env!("RTIO_NODE_POLLING_URL"),
                "RTIO_NODE_POLLING_URL",
            ),
        ),
        (
            "rust",
            url(
                option_env!("RTIO_RUST_POLLING_URL"),
                "RTIO_RUST_POLLING_URL",
            ),
        ),
    ]
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: i32) -> JsValue;
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

/// Waits (up to `WAIT`) until `cond` holds; fails the test naming `what` otherwise.
async fn until(what: &str, cond: impl Fn() -> bool) {
    let start = js_sys::Date::now();
    while !cond() {
        if js_sys::Date::now() - start > f64::from(WAIT) {
            panic!("{what}: not the case after {WAIT} ms");
        }
        sleep(10).await;
    }
}

/// The next item of a stream.
fn next<S: Stream + Unpin>(stream: &mut S) -> impl Future<Output = Option<S::Item>> + '_ {
    poll_fn(move |cx| Pin::new(&mut *stream).poll_next(cx))
}

/// Options for a connection over WebSocket only, for the tests that count or close the page's
/// WebSockets.
fn websocket_only() -> Options {
    Options::default().transports(&[Transport::WebSocket])
}

/// A socket on `url` that has connected.
async fn connected(server: &str, url: &str, opts: Options) -> Socket {
    let socket = Socket::connect(url, opts)
        .unwrap_or_else(|e| panic!("[{server}] Socket::connect({url}) failed: {e}"));
    within(
        WAIT,
        &format!("[{server}] wait_connected on {url}"),
        socket.wait_connected(),
    )
    .await
    .unwrap_or_else(|e| panic!("[{server}] {url} did not connect: {e}"));
    socket
}

/// `emit_with_ack` with a bounded wait, failing the test on any error.
async fn ask<R: serde::de::DeserializeOwned, T: Serialize + ?Sized>(
    server: &str,
    socket: &Socket,
    event: &str,
    payload: &T,
) -> R {
    within(
        WAIT,
        &format!("[{server}] ack of {event:?}"),
        socket.emit_with_ack::<R, T>(event, payload),
    )
    .await
    .unwrap_or_else(|e| panic!("[{server}] ack of {event:?} failed: {e}"))
}

/// Everything `emit-back`ed so far, seen through `on_any`, as `(name, args)`.
type Seen = Rc<RefCell<Vec<(String, Vec<Value>)>>>;

/// Makes the server emit `marker` and waits until `seen` has it: every event the server
/// sent before has then been delivered.
async fn sync(server: &str, socket: &Socket, seen: &Seen, marker: &str) {
    socket
        .emit("emit-back", &marker)
        .unwrap_or_else(|e| panic!("[{server}] emit-back {marker}: {e}"));
    until(&format!("[{server}] marker {marker:?} arrives"), || {
        seen.borrow().iter().any(|(name, _)| name == marker)
    })
    .await;
}

/// What a socket's lifecycle listeners saw: its disconnect reasons and how many times it
/// connected. The listeners live as long as this does.
struct Lifecycle {
    reasons: Rc<RefCell<Vec<DisconnectReason>>>,
    connects: Rc<Cell<u32>>,
    _subs: [rtio::Subscription; 2],
}

/// Starts recording `socket`'s disconnects and connects.
fn lifecycle(socket: &Socket) -> Lifecycle {
    let reasons: Rc<RefCell<Vec<DisconnectReason>>> = Rc::default();
    let connects = Rc::new(Cell::new(0u32));
    let (r, c) = (reasons.clone(), connects.clone());
    Lifecycle {
        _subs: [
            socket.on_disconnect(move |why| r.borrow_mut().push(why)),
            socket.on_connect(move || c.set(c.get() + 1)),
        ],
        reasons,
        connects,
    }
}

#[wasm_bindgen(inline_js = "
function install() {
    if (!globalThis.__rtioWebSockets) {
        const Original = globalThis.WebSocket;
        const all = [];
        globalThis.WebSocket = class extends Original {
            constructor(...args) {
                super(...args);
                all.push(this);
            }
        };
        globalThis.__rtioWebSockets = all;
    }
    return globalThis.__rtioWebSockets;
}
export function websockets_opened() {
    return install().length;
}
export function websockets_open() {
    return install().filter((ws) => ws.readyState <= 1).length;
}
export function close_websockets() {
    const open = install().filter((ws) => ws.readyState <= 1);
    for (const ws of open) ws.close();
    return open.length;
}
")]
extern "C" {
    /// How many WebSockets the page has created since the counter was installed. The first
    /// call of either counter replaces `window.WebSocket` with a counting subclass.
    fn websockets_opened() -> u32;
    /// How many of them are connecting or open.
    fn websockets_open() -> u32;
    /// Closes every WebSocket that is connecting or open, from the page's side (the client
    /// sees its transport close, as when a network drops); returns how many.
    fn close_websockets() -> u32;
}

// ---------------------------------------------------------------------------------------------
// Tests

/// Auth reaches the server, `whoami` reports this socket's id, `on_connect` fires once.
#[wasm_bindgen_test]
async fn connect_with_auth_and_whoami() {
    for (server, url) in servers() {
        let socket = Socket::connect(url, Options::default().auth(&json!({ "token": "t1" })))
            .unwrap_or_else(|e| panic!("[{server}] connect: {e}"));
        assert_eq!(socket.nsp(), "/", "[{server}] namespace of {url}");
        let connects = Rc::new(Cell::new(0u32));
        let c = connects.clone();
        let _on_connect = socket.on_connect(move || c.set(c.get() + 1));
        within(
            WAIT,
            &format!("[{server}] wait_connected"),
            socket.wait_connected(),
        )
        .await
        .unwrap_or_else(|e| panic!("[{server}] did not connect: {e}"));
        assert!(
            socket.connected(),
            "[{server}] connected() after wait_connected"
        );
        let id = socket
            .id()
            .unwrap_or_else(|| panic!("[{server}] no id while connected"));
        assert!(!id.is_empty(), "[{server}] empty socket id");

        let who: Value = ask(server, &socket, "whoami", &()).await;
        assert_eq!(
            who["auth"],
            json!({ "token": "t1" }),
            "[{server}] whoami auth: {who}"
        );
        assert_eq!(who["id"], json!(id), "[{server}] whoami id: {who}");

        sleep(SETTLE).await;
        assert_eq!(connects.get(), 1, "[{server}] on_connect calls");
        // Already connected: resolves at once.
        within(
            WAIT,
            &format!("[{server}] wait_connected again"),
            socket.wait_connected(),
        )
        .await
        .unwrap_or_else(|e| panic!("[{server}] wait_connected while connected: {e}"));
        socket.disconnect();

        // Without auth the server sees none.
        let plain = connected(server, url, Options::default()).await;
        let who: Value = ask(server, &plain, "whoami", &()).await;
        assert_eq!(
            who["auth"],
            Value::Null,
            "[{server}] whoami auth without auth: {who}"
        );
        assert_eq!(who["id"], json!(plain.id()), "[{server}] whoami id: {who}");
        plain.disconnect();
    }
}

/// Server emits reach `on`, `on_any`, `once` and `events`; dropping a Subscription and
/// `off` stop delivery.
#[wasm_bindgen_test]
async fn server_events_reach_listeners() {
    for (server, url) in servers() {
        let socket = connected(server, url, Options::default()).await;
        let seen: Seen = Rc::default();
        let s = seen.clone();
        let _any = socket.on_any(move |name, args| s.borrow_mut().push((name.to_string(), args)));

        // `on` with one argument, and `on_any` with the name and the raw arguments.
        let greets: Rc<RefCell<Vec<Value>>> = Rc::default();
        let g = greets.clone();
        let greet_sub = socket.on("greet", move |v: Value| g.borrow_mut().push(v));
        socket
            .emit_args("emit-back", &[json!("greet"), json!({ "n": 1 })])
            .unwrap_or_else(|e| panic!("[{server}] emit-back: {e}"));
        until(&format!("[{server}] greet arrives"), || {
            greets.borrow().len() == 1
        })
        .await;
        assert_eq!(
            greets.borrow()[0],
            json!({ "n": 1 }),
            "[{server}] greet payload"
        );
        assert_eq!(
            seen.borrow()[0],
            ("greet".to_string(), vec![json!({ "n": 1 })]),
            "[{server}] on_any saw"
        );

        // Several arguments read as a tuple.
        let pairs: Rc<RefCell<Vec<(String, u32)>>> = Rc::default();
        let p = pairs.clone();
        let _pair = socket.on("pair", move |v: (String, u32)| p.borrow_mut().push(v));
        socket
            .emit_args("emit-back", &[json!("pair"), json!("a"), json!(2)])
            .unwrap_or_else(|e| panic!("[{server}] emit-back pair: {e}"));
        until(&format!("[{server}] pair arrives"), || {
            pairs.borrow().len() == 1
        })
        .await;
        assert_eq!(
            pairs.borrow()[0],
            ("a".to_string(), 2),
            "[{server}] pair payload"
        );

        // Dropping the Subscription removes the listener; on_any still sees the event.
        drop(greet_sub);
        socket
            .emit_args("emit-back", &[json!("greet"), json!({ "n": 2 })])
            .unwrap_or_else(|e| panic!("[{server}] emit-back: {e}"));
        sync(server, &socket, &seen, "sync-1").await;
        assert_eq!(
            greets.borrow().len(),
            1,
            "[{server}] greet after its Subscription was dropped"
        );
        assert!(
            seen.borrow()
                .iter()
                .any(|(n, a)| n == "greet" && a == &vec![json!({ "n": 2 })]),
            "[{server}] on_any missed the second greet: {:?}",
            seen.borrow()
        );

        // `once` fires for the first event only.
        let singles: Rc<RefCell<Vec<u32>>> = Rc::default();
        let o = singles.clone();
        let _once = socket.once("single", move |v: u32| o.borrow_mut().push(v));
        for n in [1, 2, 3] {
            socket
                .emit_args("emit-back", &[json!("single"), json!(n)])
                .unwrap_or_else(|e| panic!("[{server}] emit-back single: {e}"));
        }
        sync(server, &socket, &seen, "sync-2").await;
        assert_eq!(*singles.borrow(), vec![1], "[{server}] once deliveries");

        // `off` removes the event's listeners even while their Subscription is held.
        let offs = Rc::new(Cell::new(0u32));
        let f = offs.clone();
        let _held = socket.on("offme", move |_: Value| f.set(f.get() + 1));
        socket.off("offme");
        socket
            .emit_args("emit-back", &[json!("offme"), json!(1)])
            .unwrap_or_else(|e| panic!("[{server}] emit-back offme: {e}"));
        sync(server, &socket, &seen, "sync-3").await;
        assert_eq!(offs.get(), 0, "[{server}] listener called after off()");
        assert!(
            seen.borrow().iter().any(|(n, _)| n == "offme"),
            "[{server}] off(event) also removed on_any"
        );

        // `events` yields the payloads in order, queued while nobody polls.
        let mut numbers = socket.events::<u32>("num");
        for n in [10, 20, 30] {
            socket
                .emit_args("emit-back", &[json!("num"), json!(n)])
                .unwrap_or_else(|e| panic!("[{server}] emit-back num: {e}"));
        }
        sync(server, &socket, &seen, "sync-4").await;
        for want in [10, 20, 30] {
            let got = within(WAIT, &format!("[{server}] stream item"), next(&mut numbers)).await;
            assert_eq!(got, Some(want), "[{server}] stream order");
        }
        socket
            .emit_args("emit-back", &[json!("num"), json!(40)])
            .unwrap_or_else(|e| panic!("[{server}] emit-back num: {e}"));
        let got = within(WAIT, &format!("[{server}] stream item"), next(&mut numbers)).await;
        assert_eq!(got, Some(40), "[{server}] stream item while polled");

        socket.disconnect();
    }
}

/// Client emits reach the server's handlers, in order, with their arguments.
#[wasm_bindgen_test]
async fn emits_reach_server_handlers() {
    for (server, url) in servers() {
        let socket = connected(server, url, Options::default()).await;
        let emits: [(&str, Result<(), EmitError>); 3] = [
            ("one", socket.emit("record", &json!({ "x": 1 }))),
            (
                "args",
                socket.emit_args("record", &[json!("a"), json!(2), json!(null)]),
            ),
            ("none", socket.emit_args("record", &[])),
        ];
        for (what, r) in emits {
            r.unwrap_or_else(|e| panic!("[{server}] emit record ({what}): {e}"));
        }
        let record: Value = ask(server, &socket, "recorded", &()).await;
        assert_eq!(
            record,
            json!([[{ "x": 1 }], ["a", 2, null], []]),
            "[{server}] recorded"
        );
        socket.disconnect();
    }
}

/// Acks in both directions, ack timeouts and undecodable replies.
#[wasm_bindgen_test]
async fn acks_both_ways() {
    for (server, url) in servers() {
        let socket = connected(server, url, Options::default()).await;

        // Client → server → ack.
        let echoed: Value = ask(server, &socket, "echo", &json!({ "a": 1 })).await;
        assert_eq!(echoed, json!({ "a": 1 }), "[{server}] echo ack");
        let typed: (String, u8) = ask(server, &socket, "echo", &("x", 7)).await;
        assert_eq!(typed, ("x".to_string(), 7), "[{server}] typed echo ack");

        // Server → client with an ack request; the reply comes back as `answer`.
        let questions: Rc<RefCell<Vec<(Value, bool)>>> = Rc::default();
        let q = questions.clone();
        let _question = socket.on_with_ack("question", move |v: Value, ack| {
            q.borrow_mut().push((v, ack.is_some()));
            if let Some(ack) = ack {
                ack.send(&json!("yes")).expect("sending the ack");
            }
        });
        let answers: Rc<RefCell<Vec<Value>>> = Rc::default();
        let a = answers.clone();
        let _answer = socket.on("answer", move |v: Value| a.borrow_mut().push(v));
        socket
            .emit_args("ask", &[json!("question"), json!(1)])
            .unwrap_or_else(|e| panic!("[{server}] emit ask: {e}"));
        until(&format!("[{server}] answer arrives"), || {
            !answers.borrow().is_empty()
        })
        .await;
        assert_eq!(*answers.borrow(), vec![json!("yes")], "[{server}] answer");
        assert_eq!(
            *questions.borrow(),
            vec![(json!(1), true)],
            "[{server}] question payload and ack request"
        );

        // An ack that never comes: per-call timeout.
        let start = js_sys::Date::now();
        let r = within(
            WAIT,
            &format!("[{server}] ack timeout"),
            socket
                .emit_with_ack::<Value, _>("nobody-handles-this", &1)
                .timeout(Duration::from_millis(300)),
        )
        .await;
        let took = js_sys::Date::now() - start;
        assert_eq!(r, Err(AckError::Timeout), "[{server}] unanswered ack");
        assert!(
            (250.0..3_000.0).contains(&took),
            "[{server}] ack timeout of 300 ms took {took} ms"
        );

        // A reply that does not fit the requested type.
        let r = within(
            WAIT,
            &format!("[{server}] mistyped ack"),
            socket.emit_with_ack::<u32, _>("echo", &"text"),
        )
        .await;
        assert!(
            matches!(r, Err(AckError::Decode(_))),
            "[{server}] mistyped ack: {r:?}"
        );

        // The socket still works after all that.
        let echoed: Value = ask(server, &socket, "echo", &"still here").await;
        assert_eq!(
            echoed,
            json!("still here"),
            "[{server}] echo after failures"
        );
        socket.disconnect();

        // Options::ack_timeout is the default timeout of every emit_with_ack.
        let timed = connected(
            server,
            url,
            Options::default().ack_timeout(Duration::from_millis(300)),
        )
        .await;
        let start = js_sys::Date::now();
        let r = within(
            WAIT,
            &format!("[{server}] Options::ack_timeout"),
            timed.emit_with_ack::<Value, _>("nobody-handles-this", &2),
        )
        .await;
        let took = js_sys::Date::now() - start;
        assert_eq!(r, Err(AckError::Timeout), "[{server}] Options::ack_timeout");
        assert!(
            (250.0..3_000.0).contains(&took),
            "[{server}] Options::ack_timeout of 300 ms took {took} ms"
        );
        let echoed: Value = ask(server, &timed, "echo", &3).await;
        assert_eq!(
            echoed,
            json!(3),
            "[{server}] echo within Options::ack_timeout"
        );
        timed.disconnect();
    }
}

/// A refused namespace, and two namespaces sharing one connection.
#[wasm_bindgen_test]
async fn namespaces() {
    for (server, url) in servers() {
        // Refused by the server's middleware.
        let forbidden_url = format!("{url}/forbidden");
        let forbidden = Socket::connect(&forbidden_url, Options::default())
            .unwrap_or_else(|e| panic!("[{server}] connect {forbidden_url}: {e}"));
        assert_eq!(
            forbidden.nsp(),
            "/forbidden",
            "[{server}] namespace from the URL"
        );
        let errors: Rc<RefCell<Vec<ConnectError>>> = Rc::default();
        let e = errors.clone();
        let _on_error = forbidden.on_connect_error(move |err| e.borrow_mut().push(err.clone()));
        let r = within(
            WAIT,
            &format!("[{server}] /forbidden wait_connected"),
            forbidden.wait_connected(),
        )
        .await;
        match &r {
            Err(ConnectError::Refused { message, .. }) => {
                assert_eq!(message, "forbidden namespace", "[{server}] refusal message")
            }
            other => panic!("[{server}] /forbidden: expected Refused, got {other:?}"),
        }
        assert_eq!(
            *errors.borrow(),
            vec![r.clone().unwrap_err()],
            "[{server}] on_connect_error calls"
        );
        assert!(!forbidden.connected(), "[{server}] /forbidden connected()");
        drop(forbidden);

        // `/` and `/second` on one WebSocket.
        let before = websockets_opened();
        let root = connected(server, url, websocket_only()).await;
        let second = root.namespace("/second");
        assert_eq!(second.nsp(), "/second", "[{server}] namespace()");
        within(
            WAIT,
            &format!("[{server}] /second wait_connected"),
            second.wait_connected(),
        )
        .await
        .unwrap_or_else(|e| panic!("[{server}] /second did not connect: {e}"));
        let opened = websockets_opened() - before;
        assert_eq!(opened, 1, "[{server}] WebSockets opened for / and /second");

        let who_root: Value = ask(server, &root, "whoami", &()).await;
        let who_second: Value = ask(server, &second, "whoami", &()).await;
        assert_eq!(
            who_root["id"],
            json!(root.id()),
            "[{server}] / whoami: {who_root}"
        );
        assert_eq!(
            who_second["id"],
            json!(second.id()),
            "[{server}] /second whoami: {who_second}"
        );
        assert!(
            root.connected() && second.connected(),
            "[{server}] both connected"
        );
        let echoed: Value = ask(server, &second, "echo", &"on /second").await;
        assert_eq!(echoed, json!("on /second"), "[{server}] /second echo");

        // Asking again for a namespace gives the same socket.
        let again = root.namespace("second");
        assert_eq!(again.id(), second.id(), "[{server}] namespace() twice");
        second.disconnect();
        root.disconnect();

        // The same through a Manager.
        let before = websockets_opened();
        let manager = Manager::new(url, Options::default())
            .unwrap_or_else(|e| panic!("[{server}] Manager::new: {e}"));
        let a = manager.socket("/");
        let b = manager.socket("/second");
        for s in [&a, &b] {
            within(
                WAIT,
                &format!("[{server}] {} via Manager", s.nsp()),
                s.wait_connected(),
            )
            .await
            .unwrap_or_else(|e| panic!("[{server}] {} via Manager: {e}", s.nsp()));
            let who: Value = ask(server, s, "whoami", &()).await;
            assert_eq!(
                who["id"],
                json!(s.id()),
                "[{server}] {} whoami: {who}",
                s.nsp()
            );
        }
        assert_eq!(
            websockets_opened() - before,
            1,
            "[{server}] WebSockets opened by one Manager"
        );
        manager.close();
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Upload {
    name: String,
    data: Binary,
    list: Vec<Binary>,
}

/// Binary attachments both ways, nested in objects and arrays.
#[wasm_bindgen_test]
async fn binary_round_trips() {
    for (server, url) in servers() {
        let socket = connected(server, url, Options::default()).await;
        let upload = Upload {
            name: "file.bin".into(),
            data: Binary(vec![1, 2, 3, 255]),
            list: vec![Binary(vec![9, 8]), Binary((0..=255).collect())],
        };
        let reply: Value = ask(server, &socket, "echo", &upload).await;
        assert_eq!(
            reply["data"],
            json!([1, 2, 3, 255]),
            "[{server}] echoed bytes: {reply}"
        );
        let back: Upload = serde_json::from_value(reply.clone())
            .unwrap_or_else(|e| panic!("[{server}] echoed upload {reply}: {e}"));
        assert_eq!(back, upload, "[{server}] echoed upload");
        let bare: Binary = ask(server, &socket, "echo", &Binary(vec![0, 0x80, 0xff])).await;
        assert_eq!(
            bare,
            Binary(vec![0, 0x80, 0xff]),
            "[{server}] bare binary echo"
        );

        // A server emit carrying binary: the client acks `ask` with bytes and the server
        // emits them back as `answer`.
        let _question = socket.on_with_ack("bytes-please", |_: Value, ack| {
            if let Some(ack) = ack {
                ack.send(&Binary(vec![4, 5, 6, 0xfe]))
                    .expect("sending the binary ack");
            }
        });
        let answers: Rc<RefCell<Vec<Binary>>> = Rc::default();
        let a = answers.clone();
        let _answer = socket.on("answer", move |v: Binary| a.borrow_mut().push(v));
        socket
            .emit_args("ask", &[json!("bytes-please")])
            .unwrap_or_else(|e| panic!("[{server}] emit ask: {e}"));
        until(&format!("[{server}] binary answer arrives"), || {
            !answers.borrow().is_empty()
        })
        .await;
        assert_eq!(
            *answers.borrow(),
            vec![Binary(vec![4, 5, 6, 0xfe])],
            "[{server}] binary in a server emit"
        );
        socket.disconnect();
    }
}

/// Non-ASCII text and a large string arrive unchanged.
#[wasm_bindgen_test]
async fn utf8_and_large_payloads() {
    const TEXT: &str = "日本語 — Ελληνικά — العربية — 😀👍🏽";
    for (server, url) in servers() {
        let socket = connected(server, url, Options::default()).await;
        let echoed: String = ask(server, &socket, "echo", TEXT).await;
        assert_eq!(echoed, TEXT, "[{server}] UTF-8 echo");

        let mut big = String::with_capacity(64 * 1024 + 8);
        for c in TEXT.chars().cycle() {
            if big.len() >= 64 * 1024 {
                break;
            }
            big.push(c);
        }
        let echoed: String = ask(server, &socket, "echo", &big).await;
        assert_eq!(echoed.len(), big.len(), "[{server}] 64 KiB echo length");
        assert!(echoed == big, "[{server}] 64 KiB echo differs");

        // Non-ASCII event names too.
        let seen: Rc<RefCell<Vec<String>>> = Rc::default();
        let s = seen.clone();
        let _sub = socket.on("événement 😀", move |v: String| s.borrow_mut().push(v));
        socket
            .emit_args("emit-back", &[json!("événement 😀"), json!(TEXT)])
            .unwrap_or_else(|e| panic!("[{server}] emit-back: {e}"));
        until(&format!("[{server}] non-ASCII event arrives"), || {
            !seen.borrow().is_empty()
        })
        .await;
        assert_eq!(
            *seen.borrow(),
            vec![TEXT.to_string()],
            "[{server}] non-ASCII event"
        );
        socket.disconnect();
    }
}

/// Server and client disconnects report their reasons; `open()` reconnects; emits made
/// while disconnected are sent on reconnect.
#[wasm_bindgen_test]
async fn disconnect_and_reconnect() {
    for (server, url) in servers() {
        let socket = connected(server, url, Options::default()).await;
        let Lifecycle {
            reasons, connects, ..
        } = &lifecycle(&socket);

        // The server kicks the socket.
        let first_id = socket.id();
        socket
            .emit("kick", &())
            .unwrap_or_else(|e| panic!("[{server}] emit kick: {e}"));
        until(&format!("[{server}] disconnect after kick"), || {
            !reasons.borrow().is_empty()
        })
        .await;
        assert_eq!(
            *reasons.borrow(),
            vec![DisconnectReason::IoServerDisconnect],
            "[{server}] reason after kick"
        );
        assert!(!socket.connected(), "[{server}] connected() after kick");
        assert_eq!(socket.id(), None, "[{server}] id() after kick");
        // No automatic reconnection after a server-side disconnect.
        sleep(SETTLE).await;
        assert!(
            !socket.connected(),
            "[{server}] reconnected by itself after kick"
        );

        // open() connects again, with a new id.
        socket.open();
        within(
            WAIT,
            &format!("[{server}] reconnect after kick"),
            socket.wait_connected(),
        )
        .await
        .unwrap_or_else(|e| panic!("[{server}] reconnect after kick: {e}"));
        assert_eq!(connects.get(), 1, "[{server}] on_connect after reopen");
        assert_ne!(socket.id(), first_id, "[{server}] id after reconnect");
        let who: Value = ask(server, &socket, "whoami", &()).await;
        assert_eq!(
            who["id"],
            json!(socket.id()),
            "[{server}] whoami after reconnect"
        );

        // A pending ack fails when the client disconnects.
        let pending = socket.emit_with_ack::<Value, _>("nobody-handles-this", &1);
        socket.disconnect();
        let r = within(WAIT, &format!("[{server}] pending ack"), pending).await;
        assert_eq!(
            r,
            Err(AckError::Disconnected),
            "[{server}] pending ack on disconnect"
        );
        until(&format!("[{server}] client disconnect reported"), || {
            reasons.borrow().len() == 2
        })
        .await;
        assert_eq!(
            reasons.borrow()[1],
            DisconnectReason::IoClientDisconnect,
            "[{server}] reason after disconnect()"
        );
        assert!(
            !socket.connected(),
            "[{server}] connected() after disconnect()"
        );

        // Emits while disconnected are buffered and sent on connect.
        socket
            .emit("record", &"buffered")
            .unwrap_or_else(|e| panic!("[{server}] emit while disconnected: {e}"));
        socket.open();
        within(
            WAIT,
            &format!("[{server}] reconnect after disconnect()"),
            socket.wait_connected(),
        )
        .await
        .unwrap_or_else(|e| panic!("[{server}] reconnect after disconnect(): {e}"));
        let record: Value = ask(server, &socket, "recorded", &()).await;
        assert_eq!(record, json!([["buffered"]]), "[{server}] buffered emit");
        assert_eq!(connects.get(), 2, "[{server}] on_connect calls");
        socket.disconnect();
    }
}

/// Errors that are reported at once, without the server.
#[wasm_bindgen_test]
async fn immediate_errors() {
    for bad in ["not a url", "", "ftp://127.0.0.1/", "/relative"] {
        match Socket::connect(bad, Options::default()) {
            Err(ConnectError::InvalidUrl(u)) => assert_eq!(u, bad, "InvalidUrl carries the URL"),
            Err(other) => panic!("Socket::connect({bad:?}): expected InvalidUrl, got {other:?}"),
            Ok(_) => panic!("Socket::connect({bad:?}) succeeded"),
        }
        assert!(
            matches!(
                Manager::new(bad, Options::default()),
                Err(ConnectError::InvalidUrl(_))
            ),
            "Manager::new({bad:?}) accepted"
        );
    }
    for (server, url) in servers() {
        let socket = connected(server, url, Options::default()).await;
        for name in [
            "connect",
            "connect_error",
            "disconnect",
            "disconnecting",
            "newListener",
            "removeListener",
        ] {
            assert_eq!(
                socket.emit(name, &1),
                Err(EmitError::Reserved(name.into())),
                "[{server}] emit({name:?})"
            );
            assert_eq!(
                socket.emit_args(name, &[]),
                Err(EmitError::Reserved(name.into())),
                "[{server}] emit_args({name:?})"
            );
            let r = within(
                WAIT,
                &format!("[{server}] emit_with_ack({name:?})"),
                socket.emit_with_ack::<Value, _>(name, &1),
            )
            .await;
            assert_eq!(
                r,
                Err(AckError::Emit(EmitError::Reserved(name.into()))),
                "[{server}] emit_with_ack({name:?})"
            );
        }
        // A map with non-string keys has no JSON form.
        let unencodable: BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into_iter().collect();
        assert!(
            matches!(socket.emit("echo", &unencodable), Err(EmitError::Encode(_))),
            "[{server}] unencodable payload"
        );
        // None of it hurt the connection.
        assert!(
            socket.connected(),
            "[{server}] connected after refused emits"
        );
        let echoed: Value = ask(server, &socket, "echo", &"ok").await;
        assert_eq!(echoed, json!("ok"), "[{server}] echo after refused emits");
        socket.disconnect();
    }
}

/// The connection closes when its last namespace leaves: on `disconnect()` of every socket,
/// on `Manager::close()`, and when the last `Socket` handle is dropped.
#[wasm_bindgen_test]
async fn connection_closes_when_unused() {
    for (server, url) in servers() {
        let base = websockets_open();

        // Dropping the last handle.
        let socket = connected(server, url, websocket_only()).await;
        assert_eq!(
            websockets_open(),
            base + 1,
            "[{server}] open WebSockets while connected"
        );
        let clone = socket.clone();
        drop(socket);
        sleep(SETTLE).await;
        assert_eq!(
            websockets_open(),
            base + 1,
            "[{server}] closed while a clone is alive"
        );
        assert!(
            clone.connected(),
            "[{server}] clone disconnected by dropping the original"
        );
        drop(clone);
        until(
            &format!("[{server}] WebSocket closes after the last drop"),
            || websockets_open() == base,
        )
        .await;

        // disconnect() of every namespace.
        let root = connected(server, url, websocket_only()).await;
        let second = root.namespace("/second");
        within(
            WAIT,
            &format!("[{server}] /second"),
            second.wait_connected(),
        )
        .await
        .unwrap_or_else(|e| panic!("[{server}] /second did not connect: {e}"));
        root.disconnect();
        sleep(SETTLE).await;
        assert_eq!(
            websockets_open(),
            base + 1,
            "[{server}] closed while /second is connected"
        );
        assert!(second.connected(), "[{server}] /second after / left");
        let echoed: Value = ask(server, &second, "echo", &"alone").await;
        assert_eq!(echoed, json!("alone"), "[{server}] /second after / left");
        second.disconnect();
        until(
            &format!("[{server}] WebSocket closes after both left"),
            || websockets_open() == base,
        )
        .await;

        // Manager::close() disconnects every socket on it.
        let manager = Manager::new(url, websocket_only())
            .unwrap_or_else(|e| panic!("[{server}] Manager::new: {e}"));
        let a = manager.socket("/");
        let b = manager.socket("/second");
        let reasons: Rc<RefCell<Vec<(String, DisconnectReason)>>> = Rc::default();
        let mut subs = Vec::new();
        for s in [&a, &b] {
            within(
                WAIT,
                &format!("[{server}] {} via Manager", s.nsp()),
                s.wait_connected(),
            )
            .await
            .unwrap_or_else(|e| panic!("[{server}] {} via Manager: {e}", s.nsp()));
            let r = reasons.clone();
            let nsp = s.nsp().to_string();
            subs.push(s.on_disconnect(move |why| r.borrow_mut().push((nsp.clone(), why))));
        }
        manager.close();
        until(&format!("[{server}] both sockets report the close"), || {
            reasons.borrow().len() == 2
        })
        .await;
        for (nsp, why) in reasons.borrow().iter() {
            assert_eq!(
                *why,
                DisconnectReason::IoClientDisconnect,
                "[{server}] {nsp} after Manager::close()"
            );
        }
        assert!(
            !a.connected() && !b.connected(),
            "[{server}] connected() after close"
        );
        until(
            &format!("[{server}] WebSocket closes after Manager::close()"),
            || websockets_open() == base,
        )
        .await;
    }
}

/// `off` called from inside a listener removes the listeners and lets the listener finish.
#[wasm_bindgen_test]
async fn off_inside_a_listener() {
    for (server, url) in servers() {
        let socket = connected(server, url, Options::default()).await;
        let seen: Seen = Rc::default();
        let s = seen.clone();
        let _any = socket.on_any(move |name, args| s.borrow_mut().push((name.to_string(), args)));
        let calls = Rc::new(Cell::new(0u32));
        let finished = Rc::new(Cell::new(false));
        let (c, f) = (calls.clone(), finished.clone());
        let handle = socket.clone();
        let _stop = socket.on("stop", move |_: Value| {
            c.set(c.get() + 1);
            handle.off("stop");
            f.set(true);
        });
        socket
            .emit_args("emit-back", &[json!("stop"), json!(1)])
            .unwrap_or_else(|e| panic!("[{server}] emit-back stop: {e}"));
        until(&format!("[{server}] stop arrives"), || calls.get() == 1).await;
        assert!(
            finished.get(),
            "[{server}] the listener did not get past off()"
        );
        socket
            .emit_args("emit-back", &[json!("stop"), json!(2)])
            .unwrap_or_else(|e| panic!("[{server}] emit-back stop: {e}"));
        sync(server, &socket, &seen, "sync-off").await;
        assert_eq!(calls.get(), 1, "[{server}] listener calls after off()");
        // The listener holds a handle of its own socket: leave explicitly.
        socket.disconnect();
    }
}

/// `events` holds `want` in this order, with anything in between.
fn in_order(events: &[ManagerEvent], want: &[ManagerEvent]) -> bool {
    let mut it = events.iter();
    want.iter().all(|w| it.any(|e| e == w))
}

/// A transport lost under a connected socket: the manager reports the close and its
/// reconnection, the socket reconnects by itself, and an emit made meanwhile is acked once.
#[wasm_bindgen_test]
async fn reconnects_by_itself_after_a_lost_transport() {
    // Installs the WebSocket counter before any socket of this test exists.
    websockets_opened();
    for (server, url) in servers() {
        let opts = websocket_only()
            .reconnection_delay(Duration::from_millis(100))
            .reconnection_delay_max(Duration::from_millis(200));
        let socket = connected(server, url, opts).await;
        let events: Rc<RefCell<Vec<ManagerEvent>>> = Rc::default();
        let e = events.clone();
        let sub = socket
            .manager()
            .on_event(move |ev| e.borrow_mut().push(ev.clone()));
        let Lifecycle {
            reasons, connects, ..
        } = &lifecycle(&socket);

        assert_eq!(close_websockets(), 1, "[{server}] one WebSocket open");
        until(&format!("[{server}] disconnect after the close"), || {
            !reasons.borrow().is_empty()
        })
        .await;
        assert_eq!(
            *reasons.borrow(),
            vec![DisconnectReason::TransportClose],
            "[{server}] reason"
        );
        // Made while away: buffered, written once on the next connection.
        let key = format!("rust-api-outage-{server}-{}", js_sys::Math::random());
        let count: u64 = ask(server, &socket, "tally", &key).await;
        assert_eq!(
            count, 1,
            "[{server}] the server counted the outage emit once"
        );
        assert_eq!(
            connects.get(),
            1,
            "[{server}] on_connect after the reconnection"
        );
        assert!(socket.connected(), "[{server}] connected again");
        let seen = events.borrow().clone();
        assert!(
            in_order(
                &seen,
                &[
                    ManagerEvent::Close(DisconnectReason::TransportClose),
                    ManagerEvent::ReconnectAttempt(1),
                    ManagerEvent::Open,
                    ManagerEvent::Reconnect(1),
                ]
            ),
            "[{server}] manager events: {seen:?}"
        );

        // A dropped subscription hears nothing more.
        drop(sub);
        let before = events.borrow().len();
        assert_eq!(close_websockets(), 1);
        until(&format!("[{server}] second reconnection"), || {
            connects.get() == 2
        })
        .await;
        assert_eq!(events.borrow().len(), before, "[{server}] listener removed");
        socket.disconnect();
    }
}

/// Connection-state recovery with the Node server that enables it: events emitted to the
/// socket while it is away arrive after the reconnect, once, without the server's offset;
/// the id is kept and `recovered()` says so. The auth function's future is awaited at every
/// connect, and the session goes with its payload.
#[wasm_bindgen_test]
async fn recovers_the_session_with_an_async_auth_function() {
    // Installs the WebSocket counter before any socket of this test exists.
    websockets_opened();
    let server = "node --recovery";
    let url = option_env!("RTIO_NODE_RECOVERY_URL")
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| panic!("RTIO_NODE_RECOVERY_URL was not set at compile time"))
        .trim_end_matches('/');
    let calls = Rc::new(Cell::new(0u32));
    let c = calls.clone();
    // A fixed one-second delay: time for another client to emit while this one is away.
    let opts = Options::default()
        .reconnection_delay(Duration::from_millis(1000))
        .randomization_factor(0.0)
        .auth_with(move || {
            let c = c.clone();
            async move {
                sleep(20).await;
                c.set(c.get() + 1);
                json!({ "n": c.get() })
            }
        });
    let socket = connected(server, url, opts).await;
    assert!(!socket.recovered(), "a first connect recovers nothing");
    let who: Value = ask(server, &socket, "whoami", &()).await;
    assert_eq!(who["auth"], json!({ "n": 1 }), "first auth payload");
    let news: Rc<RefCell<Vec<Value>>> = Rc::default();
    let n = news.clone();
    let _on_news = socket.on("news", move |v: Value| n.borrow_mut().push(v));
    // The client learns its offset from the first event the server keeps.
    socket
        .emit_args("emit-back", &[json!("news"), json!(0)])
        .unwrap();
    until("first news", || news.borrow().len() == 1).await;
    let id = socket.id();

    let Lifecycle { reasons, .. } = &lifecycle(&socket);
    assert_eq!(close_websockets(), 1);
    until("disconnect", || !reasons.borrow().is_empty()).await;
    // Another client has the server emit to the absent socket.
    let other = connected(server, url, Options::default()).await;
    for i in 1..=2 {
        other
            .emit_args("emit-to", &[json!(id), json!("news"), json!(i)])
            .unwrap();
    }
    let _: Value = ask(server, &other, "echo", &"done").await;
    other.disconnect();

    within(WAIT, "reconnect", socket.wait_connected())
        .await
        .unwrap_or_else(|e| panic!("reconnect: {e}"));
    until("missed news", || news.borrow().len() >= 3).await;
    sleep(SETTLE).await;
    assert!(socket.recovered(), "recovered after a short cut");
    assert_eq!(socket.id(), id, "same id");
    assert_eq!(
        *news.borrow(),
        vec![json!(0), json!(1), json!(2)],
        "each once, no offset"
    );
    assert_eq!(calls.get(), 2, "the auth function runs at every connect");
    let who: Value = ask(server, &socket, "whoami", &()).await;
    assert_eq!(who["auth"]["n"], json!(2), "second auth payload");
    assert!(
        who["auth"]["pid"].is_string(),
        "the session's pid goes along: {who}"
    );
    assert!(who["auth"]["offset"].is_string(), "and its offset: {who}");
    socket.disconnect();
}

/// Presence events as `(kind, name in meta)`.
type PresenceLog = Rc<RefCell<Vec<(String, String)>>>;

/// Records a room's presence events, for comparing.
fn presence_log(room: &rtio::Room) -> (PresenceLog, rtio::Subscription) {
    let log: PresenceLog = Rc::default();
    let l = log.clone();
    let name = |m: &Member| m.meta["name"].as_str().unwrap_or("?").to_string();
    let sub = room.on_presence(move |e| {
        let entry = match e {
            PresenceEvent::Join(m) => ("join".into(), name(m)),
            PresenceEvent::Leave(m) => ("leave".into(), name(m)),
            PresenceEvent::Update(m) => ("update".into(), name(m)),
            PresenceEvent::Sync(all) => ("sync".into(), all.len().to_string()),
            PresenceEvent::Error(e) => ("error".into(), e.clone()),
        };
        l.borrow_mut().push(entry);
    });
    (log, sub)
}

/// Rooms and presence (ROOMS.md) through the Rust API: join resolves with the members, typed
/// room events reach the other members only with the sender, presence reports joins, updates
/// and leaves, a refused join fails with the server's reason, dropping the last handle
/// leaves; after both transports drop, the rooms are joined again with one leave and one join
/// for the other member and a room emit made meanwhile delivered.
#[wasm_bindgen_test]
async fn rooms_with_presence() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Pos {
        x: f64,
        y: f64,
    }
    // Installs the WebSocket counter (and closer) before any socket of this test exists.
    websockets_opened();
    for (server, url) in servers() {
        let fast = || {
            Options::default()
                .reconnection_delay(Duration::from_millis(100))
                .reconnection_delay_max(Duration::from_millis(200))
        };
        let a = connected(server, url, fast()).await;
        let b = connected(server, url, fast()).await;
        let c = connected(server, url, fast()).await;
        let name = format!("rust-room-{}", js_sys::Math::random());

        assert!(matches!(a.room(""), Err(RoomError::InvalidName(_))));
        let ra = a.room(&name).unwrap();
        let rb = b.room(&name).unwrap();
        let rc = c.room(&format!("{name}-other")).unwrap();
        assert!(matches!(ra.emit("x", &1), Err(RoomError::NotJoined(_))));
        let (log, _plog) = presence_log(&ra);
        let first = within(WAIT, "join a", ra.join(&json!({ "name": "Ada" })))
            .await
            .unwrap_or_else(|e| panic!("[{server}] join: {e}"));
        assert_eq!(first.len(), 1, "[{server}] alone at first");
        assert_eq!(Some(first[0].id.clone()), a.id());
        let second = within(WAIT, "join b", rb.join(&json!({ "name": "Bob" })))
            .await
            .unwrap();
        assert_eq!(second.len(), 2, "[{server}] b sees both");
        within(WAIT, "join c", rc.join(&json!({ "name": "Cy" })))
            .await
            .unwrap();
        until(&format!("[{server}] a sees b"), || ra.members().len() == 2).await;

        let got_b: Rc<RefCell<Vec<(Pos, String)>>> = Rc::default();
        let g = got_b.clone();
        let _sb = rb.on("cursor", move |p: Pos, from: &Member| {
            g.borrow_mut()
                .push((p, from.meta["name"].as_str().unwrap_or("?").into()))
        });
        let echoed = Rc::new(Cell::new(0));
        let e = echoed.clone();
        let _sa = ra.on("cursor", move |_: Value, _: &Member| e.set(e.get() + 1));
        let e = echoed.clone();
        let _sc = rc.on("cursor", move |_: Value, _: &Member| e.set(e.get() + 1));
        ra.emit("cursor", &json!({ "x": 0.25, "y": 0.5 })).unwrap();
        assert!(ra
            .emit_volatile("cursor", &json!({ "x": 1, "y": 1 }))
            .unwrap());
        until(&format!("[{server}] b got both"), || {
            got_b.borrow().len() == 2
        })
        .await;
        assert_eq!(
            got_b.borrow()[0],
            (Pos { x: 0.25, y: 0.5 }, "Ada".to_string()),
            "[{server}] payload and sender"
        );
        sleep(SETTLE).await;
        assert_eq!(
            echoed.get(),
            0,
            "[{server}] not echoed, not in the other room"
        );

        within(WAIT, "update", rb.join(&json!({ "name": "Bobby" })))
            .await
            .unwrap();
        until(&format!("[{server}] update seen"), || {
            log.borrow().iter().any(|e| e.0 == "update")
        })
        .await;

        let locked = a.room("locked:vault").unwrap();
        let refused = within(WAIT, "locked", locked.join(&json!({}))).await;
        assert_eq!(
            refused.unwrap_err(),
            RoomError::Refused("not allowed".into()),
            "[{server}] refusal"
        );

        // Both transports drop: both sockets come back with new ids and join again.
        log.borrow_mut().clear();
        let old_b = b.id().unwrap();
        let connects = Rc::new(Cell::new(0));
        let (k1, k2) = (connects.clone(), connects.clone());
        let _c1 = a.on_connect(move || k1.set(k1.get() + 1));
        let _c2 = b.on_connect(move || k2.set(k2.get() + 1));
        close_websockets();
        until(&format!("[{server}] rooms not joined while away"), || {
            !ra.joined()
        })
        .await;
        until(&format!("[{server}] both back and joined"), || {
            connects.get() >= 2 && ra.joined() && rb.joined() && ra.members().len() == 2
        })
        .await;
        sleep(SETTLE).await;
        let seen = log.borrow().clone();
        let count = |kind: &str| seen.iter().filter(|e| e.0 == kind).count();
        assert_eq!(count("join"), 1, "[{server}] one join: {seen:?}");
        assert_eq!(count("leave"), 1, "[{server}] one leave: {seen:?}");
        assert_eq!(count("update"), 0, "[{server}] no update: {seen:?}");
        assert!(
            !ra.members().iter().any(|m| m.id == old_b),
            "[{server}] the old id is gone"
        );
        assert!(ra.members().iter().any(|m| Some(&m.id) == b.id().as_ref()));

        // A room emit made while a is away (kicked, then reconnected by hand) is held and
        // sent after the re-join, so b, who stayed, gets it.
        a.emit("kick", &()).unwrap();
        until(&format!("[{server}] a kicked"), || !a.connected()).await;
        assert!(!ra.joined());
        ra.emit("cursor", &json!({ "x": 0.75, "y": 0.75 })).unwrap();
        a.open();
        until(&format!("[{server}] held emit delivered"), || {
            got_b.borrow().len() == 3
        })
        .await;
        assert_eq!(got_b.borrow()[2].0, Pos { x: 0.75, y: 0.75 });
        assert!(ra.joined());

        // Dropping the last handle of b's room leaves it.
        log.borrow_mut().clear();
        drop(_sb);
        drop(rb);
        until(&format!("[{server}] b left"), || ra.members().len() == 1).await;
        assert_eq!(log.borrow()[0].0, "leave");
        for s in [&a, &b, &c] {
            s.disconnect();
        }
    }
}

/// Presence changes the server sends while a join waits for its answer go on top of the
/// answer's list (the server read its list before another socket joined): the Node server's
/// `/late-join` namespace answers that way.
#[wasm_bindgen_test]
async fn presence_told_before_the_join_answer_is_kept() {
    let (server, url) = servers()[0];
    let socket = connected(server, &format!("{url}/late-join"), Options::default()).await;
    let room = socket.room("r").unwrap();
    let (log, _sub) = presence_log(&room);
    let members = within(WAIT, "join", room.join(&json!({ "name": "Me" })))
        .await
        .unwrap();
    let mut ids: Vec<String> = members.into_iter().map(|m| m.id).collect();
    ids.sort();
    let me = socket.id().unwrap();
    let mut want = vec![me, "other".to_string()];
    want.sort();
    assert_eq!(
        ids, want,
        "the answer's list with the member told before it"
    );
    assert_eq!(room.members().len(), 2);
    let seen = log.borrow().clone();
    assert!(
        !seen.contains(&("leave".to_string(), "Other".to_string())),
        "no leave for the member told before the answer: {seen:?}"
    );
    socket.disconnect();
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Point {
    x: f64,
    y: f64,
}

rtio::event!(
    /// `echo` with one argument: the server acks with the same argument.
    Echo = "echo", (String, u32) => (String, u32)
);
rtio::event!(Moved = "moved", Point);
rtio::event!(Cursor = "cursor", Point);

/// Declared events: typed emit, listener and ack on the socket and in a room; the listener
/// counts follow the subscriptions.
#[wasm_bindgen_test]
async fn typed_events_and_listener_counts() {
    for (server, url) in servers() {
        let a = connected(server, url, Options::default()).await;
        let b = connected(server, url, Options::default()).await;

        let reply = within(
            WAIT,
            &format!("[{server}] typed ack"),
            a.emit_typed_with_ack::<Echo>(&("hi".into(), 7)),
        )
        .await
        .unwrap_or_else(|e| panic!("[{server}] typed ack failed: {e}"));
        assert_eq!(reply, ("hi".to_string(), 7), "[{server}] ack, typed");

        let base = a.listener_count();
        let got: Rc<RefCell<Vec<Point>>> = Rc::default();
        let g = got.clone();
        let sub = a.on_typed::<Moved>(move |p| g.borrow_mut().push(p));
        assert_eq!(a.listener_count(), base + 1, "[{server}] one more listener");
        let p = Point { x: 1.5, y: -2.0 };
        a.emit_many("emit-back", &[&<Moved as rtio::Event>::NAME, &p])
            .unwrap();
        until(&format!("[{server}] typed listener called"), || {
            got.borrow().len() == 1
        })
        .await;
        assert_eq!(got.borrow()[0], p, "[{server}] payload, typed");
        drop(sub);
        assert_eq!(a.listener_count(), base, "[{server}] released on drop");

        let name = format!("rust-typed-{}", js_sys::Math::random());
        let (ra, rb) = (a.room(&name).unwrap(), b.room(&name).unwrap());
        within(WAIT, "join a", ra.join(&json!({ "name": "Ada" })))
            .await
            .unwrap();
        within(WAIT, "join b", rb.join(&json!({ "name": "Bob" })))
            .await
            .unwrap();
        until(&format!("[{server}] a sees b"), || ra.members().len() == 2).await;
        let seen: Rc<RefCell<Vec<(Point, String)>>> = Rc::default();
        let s = seen.clone();
        assert_eq!(rb.listener_count(), 0, "[{server}] room starts bare");
        let rsub = rb.on_typed::<Cursor>(move |p, from| s.borrow_mut().push((p, from.id.clone())));
        let psub = rb.on_presence(|_| {});
        assert_eq!(rb.listener_count(), 2, "[{server}] room listeners");
        ra.emit_typed::<Cursor>(&Point { x: 0.25, y: 0.75 })
            .unwrap();
        until(&format!("[{server}] typed room event"), || {
            seen.borrow().len() == 1
        })
        .await;
        assert_eq!(
            seen.borrow()[0],
            (Point { x: 0.25, y: 0.75 }, a.id().unwrap_or_default()),
            "[{server}] room payload and sender"
        );
        drop((rsub, psub));
        assert_eq!(rb.listener_count(), 0, "[{server}] room listeners released");
    }
}

/// The README's Rust snippet (`tests/js/readme.test.mjs` checks that the README shows these
/// lines), against the Rust server's `chat` event.
#[wasm_bindgen_test]
async fn readme_rust_snippet() {
    let [_, (_, url)] = servers();
    let run = async move {
        // README: rust
        use rtio::{Options, Socket};
        use serde::{Deserialize, Serialize};
        use std::time::Duration;

        #[derive(Serialize, Deserialize)]
        struct ChatMessage {
            name: String,
            text: String,
        }
        #[derive(Deserialize)]
        struct ChatAck {
            ok: bool,
        }
        // Declared once: the name, the payload, the ack.
        rtio::event!(Chat = "chat", ChatMessage => ChatAck);

        let socket = Socket::connect(url, Options::default())?;
        // Dropping `_sub` removes the listener.
        let _sub = socket.on_typed::<Chat>(|msg| web_sys::console::log_1(&msg.text.into()));
        let msg = ChatMessage {
            name: "Ada".into(),
            text: "hello".into(),
        };
        let ack = socket
            .emit_typed_with_ack::<Chat>(&msg)
            .timeout(Duration::from_secs(5))
            .await?;
        // socket.emit_typed::<Chat>(&"hi") does not compile: the payload is a ChatMessage.
        // The same by name: socket.on("chat", |msg: ChatMessage| ..), socket.emit("chat", &msg).
        // README: end
        Ok::<bool, Box<dyn std::error::Error>>(ack.ok)
    };
    let ok = within(WAIT, "README snippet", run)
        .await
        .unwrap_or_else(|e| panic!("README snippet failed: {e}"));
    assert!(ok, "the server accepted the message");
}

/// What a broken server can send, on the Node server (its `raw` hook writes any packet): an
/// event under a lifecycle name is dropped and reported as [`ManagerEvent::Error`] (the
/// socket's own listeners are not called and the connection stays up), and a malformed answer
/// settles its ack at once.
#[wasm_bindgen_test]
async fn malformed_packets_from_the_server() {
    let [(server, url), _] = servers();
    let manager = Manager::new(url, Options::default()).unwrap();
    let errors: Rc<RefCell<Vec<String>>> = Rc::default();
    let e = errors.clone();
    let _errors = manager.on_event(move |ev| {
        if let ManagerEvent::Error(m) = ev {
            e.borrow_mut().push(m.clone());
        }
    });
    let socket = manager.socket("/");
    within(WAIT, "connect", socket.wait_connected())
        .await
        .unwrap_or_else(|e| panic!("[{server}] did not connect: {e}"));
    let lifecycle = Rc::new(Cell::new(0u32));
    let (l1, l2) = (lifecycle.clone(), lifecycle.clone());
    let _d = socket.on_disconnect(move |_| l1.set(l1.get() + 1));
    let _c = socket.on_connect(move || l2.set(l2.get() + 1));
    let fine = Rc::new(Cell::new(false));
    let f = fine.clone();
    let _fine = socket.on("fine", move |_: Value| f.set(true));
    for frame in [r#"2["disconnect","fake"]"#, r#"2["connect"]"#] {
        socket.emit("raw", frame).unwrap();
    }
    socket
        .emit_args("emit-back", &[json!("fine"), json!(1)])
        .unwrap();
    until(&format!("[{server}] the event after them arrives"), || {
        fine.get()
    })
    .await;
    let errors = errors.borrow().clone();
    assert_eq!(errors.len(), 2, "[{server}] reported: {errors:?}");
    assert!(
        errors.iter().all(|m| m.contains("reserved event name")),
        "[{server}] {errors:?}"
    );
    assert_eq!(lifecycle.get(), 0, "[{server}] lifecycle listeners called");
    assert!(socket.connected(), "[{server}] still connected");

    // The first ack of this connection has id 0; its answer comes back unreadable.
    let pending = socket.emit_with_ack::<Value, _>("no-such-event", &1);
    socket.emit("raw", "30[not json").unwrap();
    let answer = within(WAIT, "the malformed answer settles the ack", pending).await;
    assert!(
        matches!(answer, Err(AckError::Decode(_))),
        "[{server}] {answer:?}"
    );
    socket.disconnect();
}

/// With retries, an emit without an ack still asks for one, as socket.io-client's retry queue
/// does: the server's handler gets an ack function (the Node server's `has-ack` hook).
#[wasm_bindgen_test]
async fn retries_ask_for_an_ack_on_every_emit() {
    let [(server, url), _] = servers();
    let socket = connected(server, url, Options::default().retries(2)).await;
    let seen: Rc<RefCell<Vec<bool>>> = Rc::default();
    let s = seen.clone();
    let _seen = socket.on("has-ack", move |v: bool| s.borrow_mut().push(v));
    socket.emit("has-ack", &1).unwrap();
    until(&format!("[{server}] has-ack comes back"), || {
        !seen.borrow().is_empty()
    })
    .await;
    assert_eq!(
        *seen.borrow(),
        [true],
        "[{server}] the server got an ack function"
    );
    socket.disconnect();
}

/// The README's logger (to the browser console), which also keeps what it logs, as `LEVEL
/// message` lines, for `debug_logging_through_the_log_facade`.
struct Console;

thread_local! {
    static LOGGED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

impl log::Log for Console {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.target().starts_with("rtio")
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            web_sys::console::log_1(&format!("{} {}", r.level(), r.args()).into());
            LOGGED.with(|l| l.borrow_mut().push(format!("{} {}", r.level(), r.args())));
        }
    }
    fn flush(&self) {}
}
static CONSOLE: Console = Console;

/// Debug logging goes through the `log` facade under the target `rtio`: frames written and
/// received at trace level, state changes at debug level; nothing once the level is off.
#[wasm_bindgen_test]
async fn debug_logging_through_the_log_facade() {
    // The logger of this test binary (no other test installs one).
    log::set_logger(&CONSOLE).ok();
    log::set_max_level(log::LevelFilter::Debug); // Trace: the frames too
    for (server, url) in servers() {
        log::set_max_level(log::LevelFilter::Trace);
        LOGGED.with(|l| l.borrow_mut().clear());
        let socket = connected(server, url, Options::default()).await;
        let answer: String = ask(server, &socket, "echo", &"logged").await;
        assert_eq!(answer, "logged", "[{server}] echo");
        socket.disconnect();
        let lines = LOGGED.with(|l| l.borrow().clone());
        let has = |what: &str| lines.iter().any(|l| l.starts_with(what));
        assert!(
            has("DEBUG engine: EngineOpen "),
            "[{server}] the Engine.IO open: {lines:#?}"
        );
        assert!(
            has("DEBUG /: Connect "),
            "[{server}] the namespace's connect: {lines:#?}"
        );
        assert!(
            has("TRACE send 40"),
            "[{server}] the CONNECT written: {lines:#?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("TRACE send 42") && l.contains(r#"["echo","logged"]"#)),
            "[{server}] the emit written: {lines:#?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("TRACE receive 43") && l.contains("logged")),
            "[{server}] the ack received: {lines:#?}"
        );
        // Off: nothing more is logged.
        log::set_max_level(log::LevelFilter::Off);
        LOGGED.with(|l| l.borrow_mut().clear());
        let socket = connected(server, url, Options::default()).await;
        let _: String = ask(server, &socket, "echo", &"quiet").await;
        socket.disconnect();
        let lines = LOGGED.with(|l| l.borrow().clone());
        assert!(
            lines.is_empty(),
            "[{server}] logged with the level off: {lines:#?}"
        );
    }
}

/// Long-polling alone, on servers that serve nothing else: events both ways, acks, binary both
/// ways, a second namespace on the same connection, a server-side disconnect, and no WebSocket.
#[wasm_bindgen_test]
async fn long_polling_only() {
    websockets_opened();
    for (server, url) in polling_servers() {
        let before = websockets_opened();
        let opts = || Options::default().transports(&[Transport::Polling]);
        let socket = connected(server, url, opts()).await;
        assert_eq!(
            socket.manager().transport(),
            Some(Transport::Polling),
            "[{server}] transport"
        );
        let echoed: Value = ask(server, &socket, "echo", &json!({ "a": [1, "é ☃ 𝄞"] })).await;
        assert_eq!(echoed, json!({ "a": [1, "é ☃ 𝄞"] }), "[{server}] echo");
        let bytes: Binary = ask(server, &socket, "echo", &Binary(vec![0, 1, 0x80, 0xff])).await;
        assert_eq!(
            bytes,
            Binary(vec![0, 1, 0x80, 0xff]),
            "[{server}] binary echo"
        );

        // Server events, in order, one with binary.
        let got: Rc<RefCell<Vec<Value>>> = Rc::default();
        let g = got.clone();
        let _on = socket.on("n", move |v: Value| g.borrow_mut().push(v));
        for i in 0..50 {
            socket
                .emit_args("emit-back", &[json!("n"), json!(i)])
                .unwrap();
        }
        socket
            .emit_many("emit-back", &[&"n", &Binary(vec![7, 8, 9])])
            .unwrap();
        until(&format!("[{server}] 51 events back"), || {
            got.borrow().len() == 51
        })
        .await;
        let want: Vec<Value> = (0..50)
            .map(|i| json!(i))
            .chain([json!([7, 8, 9])])
            .collect();
        assert_eq!(*got.borrow(), want, "[{server}] events in order");

        // A second namespace shares the connection.
        let second = socket.namespace("/second");
        within(
            WAIT,
            &format!("[{server}] /second connects"),
            second.wait_connected(),
        )
        .await
        .unwrap_or_else(|e| panic!("[{server}] /second: {e}"));
        let again: String = ask(server, &second, "echo", &"second").await;
        assert_eq!(again, "second");

        // Kicked by the server: `/` goes, `/second` stays.
        let Lifecycle { reasons, .. } = &lifecycle(&socket);
        socket.emit("kick", &()).unwrap();
        until(&format!("[{server}] kicked"), || {
            !reasons.borrow().is_empty()
        })
        .await;
        assert_eq!(
            *reasons.borrow(),
            vec![DisconnectReason::IoServerDisconnect]
        );
        let still: String = ask(server, &second, "echo", &"still").await;
        assert_eq!(still, "still", "[{server}] /second after the kick");
        assert_eq!(
            websockets_opened(),
            before,
            "[{server}] no WebSocket opened"
        );
        second.disconnect();
    }
}

/// With the default options, the connection opens on long-polling and upgrades to WebSocket;
/// the manager reports the upgrade, and what was emitted before and after arrives in order.
#[wasm_bindgen_test]
async fn upgrades_from_polling_to_websocket() {
    for (server, url) in servers() {
        let socket = Socket::connect(url, Options::default())
            .unwrap_or_else(|e| panic!("[{server}] connect: {e}"));
        type Seen = Vec<(ManagerEvent, Option<Transport>)>;
        let events: Rc<RefCell<Seen>> = Rc::default();
        let e = events.clone();
        let manager = socket.manager().clone();
        let _sub = socket.manager().on_event(move |ev| {
            e.borrow_mut().push((ev.clone(), manager.transport()));
        });
        socket.emit("record", &"before").unwrap();
        until(&format!("[{server}] the upgrade"), || {
            events
                .borrow()
                .iter()
                .any(|(ev, _)| *ev == ManagerEvent::Upgrade)
        })
        .await;
        socket.emit("record", &"after").unwrap();
        let recorded: Value = ask(server, &socket, "recorded", &()).await;
        assert_eq!(
            recorded,
            json!([["before"], ["after"]]),
            "[{server}] in order"
        );
        let seen = events.borrow().clone();
        assert_eq!(
            seen,
            vec![
                (ManagerEvent::Open, Some(Transport::Polling)),
                (ManagerEvent::Upgrade, Some(Transport::WebSocket)),
            ],
            "[{server}] manager events and the transport then"
        );
        socket.disconnect();
    }
}

/// `Options::shared`: two managers of this page that share, one connection at the server (one
/// socket id); a server event reaches both, each ack comes back to the socket that emitted,
/// an ack the server asks for is answered once; one socket disconnecting leaves the other
/// connected; rooms are held while either holds them. (Several tabs, and the host's tab
/// closing: tests/js/shared-rust.test.mjs.)
#[wasm_bindgen_test]
async fn shared_managers_share_one_connection() {
    for (server, url) in servers() {
        let opts = || {
            Options::default()
                .shared_as(format!("browser-test-{server}"))
                .transports(&[Transport::WebSocket])
        };
        let a = connected(server, url, opts()).await;
        let b = connected(server, url, opts()).await;
        assert_eq!(a.id(), b.id(), "[{server}] one socket for both");
        let who: Value = within(WAIT, "whoami", a.emit_with_ack("whoami", &()))
            .await
            .unwrap();
        assert_eq!(who["id"].as_str(), b.id().as_deref());
        until("both told of one tab", || {
            a.manager().tabs() == Some(1) && b.manager().tabs() == Some(1)
        })
        .await;

        // A server event reaches both; each ack comes back to its own socket.
        let news = Rc::new(RefCell::new(Vec::new()));
        let mut subs = Vec::new();
        for (name, s) in [("a", &a), ("b", &b)] {
            let news = Rc::clone(&news);
            subs.push(s.on("news", move |n: u32| news.borrow_mut().push((name, n))));
        }
        a.emit_many("emit-back", &[&"news", &1]).unwrap();
        until("the event at both", || news.borrow().len() == 2).await;
        // Both go out as they are made; then each is awaited.
        let (ra, rb) = (
            a.emit_with_ack::<String, _>("echo", &"from a"),
            b.emit_with_ack::<String, _>("echo", &"from b"),
        );
        let (ra, rb) = (ra.await, rb.await);
        assert_eq!(
            (ra.unwrap(), rb.unwrap()),
            ("from a".into(), "from b".into())
        );

        // The server asks both for an ack: it is answered once.
        let answers = Rc::new(Cell::new(0));
        for (name, s) in [("a", &a), ("b", &b)] {
            subs.push(s.on_with_ack("question", move |_: Value, ack| {
                if let Some(ack) = ack {
                    let _ = ack.send(&name);
                }
            }));
            let answers = Rc::clone(&answers);
            subs.push(s.on("answer", move |_: String| answers.set(answers.get() + 1)));
        }
        a.emit("ask", &"question").unwrap();
        until("the answer, at both", || answers.get() == 2).await;
        sleep(SETTLE).await;
        assert_eq!(answers.get(), 2, "one answer, seen by both sockets");

        // A room both joined stays joined while either holds it.
        let (ra, rb) = (
            a.room("shared-room").unwrap(),
            b.room("shared-room").unwrap(),
        );
        within(WAIT, "a joins", ra.join(&json!({ "name": "a", "tabs": 0 })))
            .await
            .unwrap();
        let members = within(WAIT, "b joins", rb.join(&json!({ "name": "b", "tabs": 0 })))
            .await
            .unwrap();
        assert_eq!(
            members.len(),
            1,
            "one member for the shared socket: {members:?}"
        );
        assert_eq!(
            members[0].meta["tabs"],
            json!(1),
            "both managers are in one tab"
        );
        within(WAIT, "a leaves", ra.leave()).await.unwrap();
        // A socket of its own sees the shared one still in the room, until b leaves too.
        let c = connected(server, url, Options::default()).await;
        assert_ne!(c.id(), b.id());
        let rc = c.room("shared-room").unwrap();
        let members = within(WAIT, "c joins", rc.join(&json!({ "name": "c" })))
            .await
            .unwrap();
        assert_eq!(
            members.len(),
            2,
            "[{server}] the shared socket kept the room: {members:?}"
        );
        within(WAIT, "b leaves", rb.leave()).await.unwrap();
        until("the shared socket gone from the room", || {
            rc.members().len() == 1
        })
        .await;
        c.disconnect();

        // One socket disconnects: it sees its disconnect; the other stays connected.
        let reasons = Rc::new(RefCell::new(Vec::new()));
        let r = Rc::clone(&reasons);
        subs.push(a.on_disconnect(move |why| r.borrow_mut().push(why)));
        a.disconnect();
        assert_eq!(
            *reasons.borrow(),
            vec![DisconnectReason::IoClientDisconnect]
        );
        assert!(!a.connected());
        sleep(SETTLE).await;
        assert!(
            b.connected(),
            "[{server}] the other socket is still connected"
        );
        let r: String = within(WAIT, "echo after", b.emit_with_ack("echo", &"still"))
            .await
            .unwrap();
        assert_eq!(r, "still");
        b.disconnect();
    }
}

/// A shared socket the server disconnects: every manager's socket sees it; each connects again
/// with `open()`, on one socket again; once both are done with it, the connection closes (no
/// manager is left counted for the namespace, the one that disconnected after the server did
/// included).
#[wasm_bindgen_test]
async fn shared_managers_after_a_server_disconnect() {
    for (server, url) in servers() {
        let opts = || {
            Options::default()
                .shared_as(format!("kick-test-{server}"))
                .transports(&[Transport::WebSocket])
        };
        let a = connected(server, url, opts()).await;
        let b = connected(server, url, opts()).await;
        let reasons = Rc::new(RefCell::new(Vec::new()));
        let mut subs = Vec::new();
        for (name, s) in [("a", &a), ("b", &b)] {
            let r = Rc::clone(&reasons);
            subs.push(s.on_disconnect(move |why| r.borrow_mut().push((name, why))));
        }
        a.emit("kick", &()).unwrap();
        until("both disconnected by the server", || {
            reasons.borrow().len() == 2
        })
        .await;
        assert!(reasons
            .borrow()
            .iter()
            .all(|(_, why)| *why == DisconnectReason::IoServerDisconnect));
        sleep(SETTLE).await;
        assert!(
            !a.connected() && !b.connected(),
            "[{server}] nothing reconnects by itself"
        );

        a.open();
        within(WAIT, "a again", a.wait_connected()).await.unwrap();
        b.open();
        within(WAIT, "b again", b.wait_connected()).await.unwrap();
        assert_eq!(a.id(), b.id(), "[{server}] one socket again");

        // The server disconnects them again; b is done with it, then a: the connection closes.
        a.emit("kick", &()).unwrap();
        until("both disconnected again", || reasons.borrow().len() == 4).await;
        b.disconnect();
        a.open();
        within(WAIT, "a once more", a.wait_connected())
            .await
            .unwrap();
        a.disconnect();
        until("the connection closed with its last user", || {
            a.manager().transport().is_none()
        })
        .await;
    }
}
