//! rtio's Yew hooks in headless Chromium, against the Rust server (its URL in `RTIO_RUST_URL`
//! at build time): a component using `use_event` re-renders on an event, a room's member list
//! follows joins and leaves, and unmounting removes every listener.
//!
//! `RTIO_RUST_URL=http://127.0.0.1:PORT cargo test --target wasm32-unknown-unknown --test hooks`
#![cfg(target_arch = "wasm32")]

use rtio::yew::{use_event, use_room, use_socket};
use rtio::{Options, Socket};
use serde_json::{json, Value};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "../../common/dom_test.rs"]
mod dom;
use dom::server;

#[derive(Properties, PartialEq)]
struct ProbeProps {
    socket: Socket,
    room: AttrValue,
}

/// The component under test: the last `chat` message and the room's members.
#[function_component]
fn Probe(props: &ProbeProps) -> Html {
    let last = use_event::<Value>(&props.socket, "chat");
    let room = use_room(&props.socket, &props.room, json!({ "name": "probe" }));
    let text = last
        .as_ref()
        .and_then(|v| v.get("text").and_then(|t| t.as_str()))
        .unwrap_or_default()
        .to_owned();
    html! {
        <>
            <p id="last">{ text }</p>
            <ul id="members">
                { for room.members.iter().map(|m| {
                    let name = m.meta.get("name").and_then(|n| n.as_str()).unwrap_or("?");
                    html! { <li>{ name.to_owned() }</li> }
                }) }
            </ul>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct RootProps {
    room: AttrValue,
}

#[function_component]
fn Root(props: &RootProps) -> Html {
    let socket = use_socket(server(), Options::default()).expect("a valid URL");
    dom::keep(Some(socket.socket.clone()));
    let shown = use_state(|| false);
    let toggle = {
        let shown = shown.clone();
        Callback::from(move |_: MouseEvent| shown.set(!*shown))
    };
    html! {
        <>
            <p id="state">{ socket.state.as_str() }</p>
            <button id="toggle" onclick={toggle}>{ "toggle" }</button>
            if *shown {
                <Probe socket={socket.socket.clone()} room={props.room.clone()} />
            }
        </>
    }
}

fn listeners() -> (usize, usize) {
    let socket = dom::kept();
    (socket.listener_count(), rtio::yew::listener_count())
}

#[wasm_bindgen_test]
async fn hooks_render_events_and_members_and_release_everything_on_unmount() {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let room = format!("yew-hooks-{}", js_sys::Math::random());
    let app = yew::Renderer::<Root>::with_root_and_props(
        root.clone(),
        RootProps {
            room: room.clone().into(),
        },
    )
    .render();
    dom::scenario(&root, server(), &room, &["#last"], listeners).await;

    app.destroy();
    root.remove();
}
