//! A chat room with presence in Leptos 0.8, on the rtio Rust API and its Leptos hooks
//! (`rtio::leptos`).
//!
//! The socket is made once, at the root ([`use_socket`]); the chat component ([`ChatRoom`])
//! below it listens to `chat` messages, joins a room and lists its members. A button unmounts
//! and remounts the component: everything it registered goes with it.
//!
//! Built three ways: `csr` (the default: the page mounts the app), and for server rendering,
//! `ssr` (the `render` binary, on the host, renders the page: no socket is made there) with
//! `hydrate` (the page's wasm hydrates that render and connects).
//!
//! Query parameters: `?server=URL` (default: the page's origin), `?name=` (default `guest`),
//! `?room=` (default `lobby`).

use leptos::prelude::*;
use leptos::task::spawn_local;
use rtio::leptos::{expect_socket, use_event_listener, use_room, use_socket};
use rtio::Event as _;
use wasm_bindgen::prelude::*;

// The chat protocol, shared with the Yew example.
#[path = "../../common/protocol.rs"]
pub mod protocol;

use protocol::{Chat, ChatAck, ChatMessage};

/// Mounts the app on the page's body.
#[cfg(feature = "csr")]
#[wasm_bindgen(start)]
pub fn start() {
    mount_to_body(App);
}

/// Hydrates the server's render of the app (see the `render` binary).
#[cfg(feature = "hydrate")]
#[wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
}

/// Listeners registered now on the app's socket and on the mounted chat's room (the page
/// puts it on `window.rtioListeners`).
#[wasm_bindgen]
pub fn listener_count() -> usize {
    rtio::leptos::listener_count()
}

/// A query parameter of the page's URL (none in a server render: there is no page).
fn query(key: &str) -> Option<String> {
    if is_server() {
        return None;
    }
    let search = window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(key)
        .filter(|v| !v.is_empty())
}

/// The page's origin (none in a server render).
fn origin() -> Option<String> {
    if is_server() {
        return None;
    }
    window().location().origin().ok()
}

/// The root: the socket, its status, and the chat that `#toggle` mounts and unmounts.
#[component]
pub fn App() -> impl IntoView {
    let url = query("server").or_else(origin).unwrap_or_default();
    let name = query("name").unwrap_or_else(|| "guest".into());
    let room = query("room").unwrap_or_else(|| "lobby".into());

    let socket = match use_socket(&url, rtio::Options::default()) {
        Ok(socket) => socket,
        Err(e) => {
            return view! {
                <p id="status">"disconnected"</p>
                <p class="error">{format!("cannot connect to {url}: {e}")}</p>
            }
            .into_any()
        }
    };
    let status = socket.state;
    let (shown, set_shown) = signal(true);

    view! {
        <header>
            <h1>"rtio · Leptos chat"</h1>
            <p>"Room " <b>{room.clone()}</b> " as " <b>{name.clone()}</b></p>
            <p id="status" class=move || status.get().as_str()>{move || status.get().as_str()}</p>
            <button id="toggle" on:click=move |_| set_shown.update(|s| *s = !*s)>
                {move || if shown.get() { "Unmount chat" } else { "Mount chat" }}
            </button>
        </header>
        <Show when=move || shown.get()>
            <ChatRoom name=name.clone() room=room.clone() />
        </Show>
    }
    .into_any()
}

/// The chat: messages, a form to send one, the result of the last send, and the room's
/// members. Everything it registers is released when it unmounts.
#[component]
pub fn ChatRoom(name: String, room: String) -> impl IntoView {
    let socket = expect_socket();
    let (messages, set_messages) = signal(Vec::<String>::new());
    let (ack, set_ack) = signal(String::new());
    let (text, set_text) = signal(String::new());

    use_event_listener(&socket, Chat::NAME, move |m: ChatMessage| {
        set_messages.update(|list| list.push(format!("{}: {}", m.name, m.text)));
    });
    let room = use_room(&socket, &room, &serde_json::json!({ "name": name }));
    let (members, room_error) = (room.members, room.error);

    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let msg = ChatMessage {
            name: name.clone(),
            text: text.get_untracked(),
            at: None,
            id: None,
        };
        let Some(socket) = socket.socket() else {
            return;
        };
        let reply = socket.emit_typed_with_ack::<Chat>(&msg);
        spawn_local(async move {
            let shown = match reply.await {
                Ok(ChatAck { ok: true, at, .. }) => {
                    // `try_*`: the chat may have been unmounted while waiting.
                    let line = format!("{}: {}", msg.name, msg.text);
                    let _ = set_messages.try_update(|list| list.push(line));
                    let _ = set_text.try_set(String::new());
                    format!("delivered at {}", at.unwrap_or_default())
                }
                Ok(ChatAck { error, .. }) => format!("rejected: {}", error.unwrap_or_default()),
                Err(e) => format!("error: {e}"),
            };
            let _ = set_ack.try_set(shown);
        });
    };

    let member_name = |m: &rtio::Member| {
        m.meta
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("?")
            .to_string()
    };

    view! {
        <section id="chat">
            <ul id="messages">
                {move || messages.get().into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
            </ul>
            <form id="send" on:submit=send>
                <input id="text" placeholder="Message" autocomplete="off" bind:value=(text, set_text) />
                <button type="submit">"Send"</button>
            </form>
            <p id="ack">{move || ack.get()}</p>
            <h2>"Members"</h2>
            <ul id="members">
                {move || {
                    members.get().iter().map(|m| view! { <li>{member_name(m)}</li> }).collect_view()
                }}
            </ul>
            <p class="error">{move || room_error.get()}</p>
        </section>
    }
}
