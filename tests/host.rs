//! The Rust API on a target without a browser (a server build of a Leptos or Yew app, `cargo
//! doc`, native tests): every handle can be made and used, nothing connects, nothing panics,
//! and the handles report the state of a connection that has not opened.
#![cfg(not(target_arch = "wasm32"))]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_core::Stream;
use rtio::sse::{Sse, SseOptions};
use rtio::ws::{Ws, WsOptions};
use rtio::{Options, Socket};

struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

fn noop() -> Waker {
    Waker::from(Arc::new(Noop))
}

/// Polls `f` once: inert futures stay pending (they never settle without a browser).
fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let waker = noop();
    let mut cx = Context::from_waker(&waker);
    pin!(f).poll(&mut cx)
}

#[test]
fn a_socket_is_inert_without_a_browser() {
    let socket = Socket::connect(
        "http://127.0.0.1:3000/chat",
        Options::default().ack_timeout(Duration::from_secs(1)),
    )
    .expect("a valid URL");
    assert_eq!(socket.nsp(), "/chat");
    assert!(!socket.connected());
    assert_eq!(socket.id(), None);

    let before = socket.listener_count();
    let subs = [
        socket.on("chat", |_: String| {
            panic!("no event arrives without a browser")
        }),
        socket.on_any(|_, _| panic!("no event arrives")),
        socket.on_connect(|| panic!("nothing connects")),
        socket.on_disconnect(|_| {}),
        socket.on_connect_error(|_| {}),
    ];
    assert_eq!(socket.listener_count(), before + subs.len());
    drop(subs);
    assert_eq!(socket.listener_count(), before);

    // Emits are accepted (held for a connection that never opens); acks never settle.
    socket.emit("chat", &"hello").expect("held");
    assert!(poll_once(socket.emit_with_ack::<String, _>("echo", &1)).is_pending());
    let timed = socket
        .emit_with_ack::<String, _>("echo", &1)
        .timeout(Duration::from_millis(1));
    assert!(poll_once(timed).is_pending());
    assert!(poll_once(socket.wait_connected()).is_pending());
    let mut events = pin!(socket.events::<String>("chat"));
    let waker = noop();
    let mut cx = Context::from_waker(&waker);
    assert!(events.as_mut().poll_next(&mut cx).is_pending());

    let other = socket.namespace("/admin");
    assert!(!other.connected());
    let _manager = socket.manager().on_event(|_| {});

    let room = socket.room("lobby").expect("a valid room name");
    let presence = room.on_presence(|_| {});
    assert!(poll_once(room.join(&serde_json::json!({ "name": "ada" }))).is_pending());
    assert!(room.members().is_empty());
    drop(presence);

    socket.disconnect();
    assert!(!socket.connected());
    socket.open();

    // Sharing among tabs asks nothing of a browser that is not there: a connection of its own,
    // inert like the others.
    let shared = Socket::connect("http://127.0.0.1:3000", Options::default().shared(true))
        .expect("a valid URL");
    assert!(!shared.connected());
    assert_eq!(shared.manager().tabs(), None);
    shared.emit("chat", &"hello").expect("held");
    assert!(poll_once(shared.wait_connected()).is_pending());
}

#[test]
fn the_modes_are_inert_without_a_browser() {
    let sse = Sse::connect("http://127.0.0.1:3000/sse", SseOptions::default().room("r"))
        .expect("a valid URL");
    assert!(!sse.connected());
    let sub = sse.on("tick", |_: u32| panic!("no event arrives"));
    sse.emit("chat", &"hi").expect("held");
    assert!(poll_once(sse.emit_with_ack::<u32, _>("add", &1)).is_pending());
    let timed = sse
        .emit_with_ack::<u32, _>("add", &1)
        .timeout(Duration::from_millis(1));
    assert!(poll_once(timed).is_pending());
    drop(sub);
    sse.disconnect();

    let ws = Ws::connect("ws://127.0.0.1:3000/ws", WsOptions::default()).expect("a valid URL");
    assert!(!ws.connected());
    let sub = ws.on_message(|_| panic!("no frame arrives"));
    ws.emit("chat", &"hi").expect("held");
    ws.send_raw("raw").expect("held");
    assert!(poll_once(ws.emit_with_ack::<u32, _>("add", &1)).is_pending());
    let timed = ws
        .emit_with_ack::<u32, _>("add", &1)
        .timeout(Duration::from_millis(1));
    assert!(poll_once(timed).is_pending());
    drop(sub);
    ws.join("r");
    assert_eq!(ws.rooms(), ["r"]);
    ws.disconnect();
}
