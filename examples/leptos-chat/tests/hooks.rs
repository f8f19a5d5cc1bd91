//! rtio's Leptos hooks in headless Chromium, against the Rust server (its URL in
//! `RTIO_RUST_URL` at build time): a component using `use_event` re-renders on an event, a
//! room's member list follows joins and leaves, and unmounting removes every listener.
//!
//! `RTIO_RUST_URL=http://127.0.0.1:PORT cargo test --target wasm32-unknown-unknown --test hooks`
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use rtio::leptos::{expect_socket, use_event, use_room, use_socket, use_stream};
use rtio::Options;
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[path = "../../common/dom_test.rs"]
mod dom;
use dom::server;

/// The component under test: the last `chat` message (with `use_event` and, from the
/// socket's event stream, `use_stream`) and the room's members.
#[component]
fn Probe(room: String) -> impl IntoView {
    let socket = expect_socket();
    let last = use_event::<serde_json::Value>(&socket, "chat");
    let streamed = use_stream(
        socket
            .socket()
            .expect("a socket in the browser")
            .events::<serde_json::Value>("chat"),
        serde_json::Value::Null,
    );
    let room = use_room(&socket, &room, &json!({ "name": "probe" }));
    let text = |v: Option<serde_json::Value>| {
        v.and_then(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_owned))
            .unwrap_or_default()
    };
    view! {
        <p id="last">{move || text(last.get())}</p>
        <p id="streamed">{move || text(Some(streamed.get()))}</p>
        <ul id="members">
            {move || {
                room.members
                    .get()
                    .iter()
                    .map(|m| {
                        let name = m.meta.get("name").and_then(|n| n.as_str()).unwrap_or("?");
                        view! { <li>{name.to_owned()}</li> }
                    })
                    .collect_view()
            }}
        </ul>
    }
}

#[component]
fn Root(room: String) -> impl IntoView {
    let socket = use_socket(server(), Options::default()).expect("a valid URL");
    dom::keep(socket.socket());
    let state = socket.state;
    let (shown, set_shown) = signal(false);
    view! {
        <p id="state">{move || state.get().as_str()}</p>
        <button id="toggle" on:click=move |_| set_shown.update(|s| *s = !*s)>"toggle"</button>
        <Show when=move || shown.get()>
            <Probe room=room.clone() />
        </Show>
    }
}

fn listeners() -> (usize, usize) {
    let socket = dom::kept();
    (socket.listener_count(), rtio::leptos::listener_count())
}

#[wasm_bindgen_test]
async fn hooks_render_events_and_members_and_release_everything_on_unmount() {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let room = format!("leptos-hooks-{}", js_sys::Math::random());
    let mount = {
        let room = room.clone();
        leptos::mount::mount_to(root.clone().unchecked_into(), move || {
            view! { <Root room=room.clone() /> }
        })
    };
    dom::scenario(&root, server(), &room, &["#last", "#streamed"], listeners).await;

    drop(mount);
    root.remove();
}
