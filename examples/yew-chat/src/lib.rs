//! A chat room with presence in Yew 0.23 (client-side rendering), on the rtio Rust API and its
//! Yew hooks (`rtio::yew`).
//!
//! The socket is made once, at the root ([`use_socket`]), and passed down in a context; the
//! [`Chat`] component below it listens to `chat` messages ([`use_event_listener`] with the
//! [`protocol::Chat`] event), joins a room and lists its members ([`use_room`]). A button
//! unmounts and remounts the component: everything it registered goes with it.
//!
//! Query parameters: `?server=URL` (default: the page's origin), `?name=` (default `guest`),
//! `?room=` (default `lobby`).

// The chat protocol, shared with the Leptos example.
#[path = "../../common/protocol.rs"]
pub mod protocol;

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::HtmlInputElement;
use yew::platform::spawn_local;
use yew::prelude::*;

use protocol::{ChatAck, ChatMessage};
use rtio::yew::{use_event_listener, use_room, use_socket, UseSocket};
use rtio::Event as _;

/// Mounts the app on the page's body.
#[wasm_bindgen(start)]
pub fn start() {
    yew::Renderer::<App>::new().render();
}

/// Listeners registered now on the app's socket and on the mounted chat's room (the page
/// puts it on `window.rtioListeners`).
#[wasm_bindgen]
pub fn listener_count() -> usize {
    rtio::yew::listener_count()
}

/// A non-empty query parameter of the page's URL.
fn query(key: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(key)
        .filter(|v| !v.is_empty())
}

/// The root: the socket, its status, and the chat that `#toggle` mounts and unmounts.
#[function_component]
pub fn App() -> Html {
    let url = use_memo((), |_| {
        query("server")
            .or_else(|| web_sys::window()?.location().origin().ok())
            .unwrap_or_default()
    });
    let name: AttrValue = query("name").unwrap_or_else(|| "guest".into()).into();
    let room: AttrValue = query("room").unwrap_or_else(|| "lobby".into()).into();
    let shown = use_state(|| true);
    let socket = use_socket(&url, rtio::Options::default());

    let ctx = match socket {
        Ok(ctx) => ctx,
        Err(e) => {
            return html! {
                <>
                    <p id="status" class="disconnected">{ "disconnected" }</p>
                    <p class="error">{ format!("cannot connect to {url}: {e}") }</p>
                </>
            }
        }
    };
    let status = ctx.state.as_str();
    let toggle = {
        let shown = shown.clone();
        Callback::from(move |_: MouseEvent| shown.set(!*shown))
    };

    html! {
        <ContextProvider<UseSocket> context={ctx}>
            <header>
                <h1>{ "rtio · Yew chat" }</h1>
                <p>{ "Room " }<b>{ room.clone() }</b>{ " as " }<b>{ name.clone() }</b></p>
                <p id="status" class={status}>{ status }</p>
                <button id="toggle" onclick={toggle}>
                    { if *shown { "Unmount chat" } else { "Mount chat" } }
                </button>
            </header>
            if *shown {
                <Chat {name} {room} />
            }
        </ContextProvider<UseSocket>>
    }
}

/// The chat's properties.
#[derive(Properties, PartialEq)]
pub struct ChatProps {
    /// The name messages are sent with, and the room is joined with.
    pub name: AttrValue,
    /// The room to join.
    pub room: AttrValue,
}

/// The lines of `#messages`, in order.
#[derive(Default, PartialEq)]
struct Lines(Vec<String>);

impl Reducible for Lines {
    type Action = String;

    fn reduce(self: Rc<Self>, line: String) -> Rc<Self> {
        let mut lines = self.0.clone();
        lines.push(line);
        Rc::new(Lines(lines))
    }
}

/// The chat: messages, a form to send one, the result of the last send, and the room's
/// members. Everything it registers is released when it unmounts.
#[function_component]
pub fn Chat(props: &ChatProps) -> Html {
    // The root always provides the context, so this returns early on every render or on none
    // (hooks must run in the same order on each render).
    let Some(UseSocket { socket, .. }) = use_context::<UseSocket>() else {
        return html! { <p class="error">{ "no socket above the chat" }</p> };
    };
    let lines = use_reducer(Lines::default);
    let ack = use_state(String::new);
    let input = use_node_ref();

    {
        let lines = lines.dispatcher();
        use_event_listener(&socket, protocol::Chat::NAME, move |m: ChatMessage| {
            lines.dispatch(format!("{}: {}", m.name, m.text));
        });
    }
    let room = use_room(
        &socket,
        &props.room,
        serde_json::json!({ "name": props.name.as_str() }),
    );

    let send = {
        let (socket, name, input) = (socket.clone(), props.name.clone(), input.clone());
        let (lines, ack) = (lines.dispatcher(), ack.setter());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(field) = input.cast::<HtmlInputElement>() else {
                return;
            };
            let msg = ChatMessage {
                name: name.to_string(),
                text: field.value(),
                at: None,
                id: None,
            };
            let reply = socket.emit_typed_with_ack::<protocol::Chat>(&msg);
            let (lines, ack, input) = (lines.clone(), ack.clone(), input.clone());
            // After an unmount the dispatch and the set do nothing, and the input is gone.
            spawn_local(async move {
                ack.set(match reply.await {
                    Ok(ChatAck { ok: true, at, .. }) => {
                        lines.dispatch(format!("{}: {}", msg.name, msg.text));
                        if let Some(field) = input.cast::<HtmlInputElement>() {
                            field.set_value("");
                        }
                        format!("delivered at {}", at.unwrap_or_default())
                    }
                    Ok(ChatAck { error, .. }) => {
                        format!("rejected: {}", error.unwrap_or_default())
                    }
                    Err(e) => format!("error: {e}"),
                });
            });
        })
    };

    let member_name = |m: &rtio::Member| {
        m.meta
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("?")
            .to_string()
    };

    html! {
        <section id="chat">
            <ul id="messages">
                { for lines.0.iter().map(|line| html! { <li>{ line }</li> }) }
            </ul>
            <form id="send" onsubmit={send}>
                <input id="text" ref={input} placeholder="Message" autocomplete="off" />
                <button type="submit">{ "Send" }</button>
            </form>
            <p id="ack">{ (*ack).clone() }</p>
            <h2>{ "Members" }</h2>
            <ul id="members">
                { for room.members.iter().map(|m| html! { <li>{ member_name(m) }</li> }) }
            </ul>
            if let Some(error) = &room.error {
                <p class="error">{ error }</p>
            }
        </section>
    }
}
