//! What the hooks tests of the Leptos and the Yew example share: reading and driving the page,
//! and the scenario both run. Included by both (`#[path]`).

use std::cell::RefCell;
use std::time::Duration;

use gloo_timers::future::sleep;
use rtio::{Options, Socket};
use serde_json::json;
use wasm_bindgen::JsCast;

/// The Rust server's URL, given at build time in `RTIO_RUST_URL`.
pub fn server() -> &'static str {
    option_env!("RTIO_RUST_URL")
        .filter(|u| !u.is_empty())
        .expect("RTIO_RUST_URL (the Rust server's URL) was not set at build time")
}

thread_local! {
    /// The socket `use_socket` made, for the test to count its listeners.
    static SOCKET: RefCell<Option<Socket>> = const { RefCell::new(None) };
}

/// Keeps the socket `use_socket` made (`None`: none was).
pub fn keep(socket: Option<Socket>) {
    SOCKET.with(|s| *s.borrow_mut() = socket);
}

/// The socket kept.
pub fn kept() -> Socket {
    SOCKET.with(|s| s.borrow().clone()).expect("the socket")
}

/// The text of the first element `selector` finds under `root` (empty if none).
pub fn text_of(root: &web_sys::Element, selector: &str) -> String {
    root.query_selector(selector)
        .ok()
        .flatten()
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

/// The names listed in `#members`, sorted.
pub fn members(root: &web_sys::Element) -> Vec<String> {
    let list = root.query_selector_all("#members li").expect("a selector");
    let mut names: Vec<String> = (0..list.length())
        .filter_map(|i| list.get(i)?.text_content())
        .collect();
    names.sort();
    names
}

/// Polls `check` every 20 ms until it holds; fails with `what` after 5 s.
pub async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..250 {
        if check() {
            return;
        }
        sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Clicks the element `selector` finds under `root`.
pub fn click(root: &web_sys::Element, selector: &str) {
    root.query_selector(selector)
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        .expect("the button")
        .click();
}

/// The scenario of both hooks tests, on a mounted root under `root` whose socket (connected to
/// `server`) shows its state in `#state`, whose `#toggle` mounts a probe that joins `room` as
/// `probe`, shows the last `chat` message in `#last` (and in each of `shown`) and lists the
/// members in `#members`. `listeners` counts the socket's and the hooks' listeners.
pub async fn scenario(
    root: &web_sys::Element,
    server: &str,
    room: &str,
    shown: &[&str],
    listeners: impl Fn() -> (usize, usize),
) {
    until("the state to read connected", || {
        text_of(root, "#state") == "connected"
    })
    .await;
    let before = listeners();

    click(root, "#toggle");
    until("the probe to list itself", || members(root) == ["probe"]).await;
    let mounted = listeners();
    assert!(
        mounted.0 > before.0 && mounted.1 > before.1,
        "the probe registers listeners: {before:?} before, {mounted:?} mounted"
    );

    // Another client joins: the member list follows; it sends: the probe re-renders.
    let other = Socket::connect(server, Options::default()).expect("a valid URL");
    other.wait_connected().await.expect("connected");
    let other_room = other.room(room).expect("a room name");
    other_room
        .join(&json!({ "name": "other" }))
        .await
        .expect("joined");
    until("the probe to list the other client", || {
        members(root) == ["other", "probe"]
    })
    .await;
    let text = format!("hello {}", js_sys::Math::random());
    other
        .emit("chat", &json!({ "name": "other", "text": text }))
        .expect("sent");
    until("the probe to show the message", || {
        shown.iter().all(|at| text_of(root, at) == text)
    })
    .await;
    other_room.leave().await.expect("left");
    until("the probe to drop the other client", || {
        members(root) == ["probe"]
    })
    .await;

    // Unmounted: every listener the probe registered goes, and it leaves the room.
    let watch = other.room(room).expect("a room name");
    watch
        .join(&json!({ "name": "other" }))
        .await
        .expect("joined");
    click(root, "#toggle");
    until("the probe to unmount", || {
        root.query_selector("#members").ok().flatten().is_none()
    })
    .await;
    until("listener counts back to where they were", || {
        listeners() == before
    })
    .await;
    until("the other client to see the probe leave", || {
        watch.members().len() == 1
    })
    .await;
    assert_eq!(
        text_of(root, "#state"),
        "connected",
        "the socket at the root stays"
    );
}
