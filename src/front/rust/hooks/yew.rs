//! Hooks for Yew 0.23 (feature `yew`): a socket made once per component, its
//! [`ConnectionState`], the last payload of an event, and a room's members, all as component
//! state that re-renders on change. Every listener is registered in an effect and removed in
//! its cleanup, which Yew runs when the dependencies change and when the component unmounts.
//!
//! In a server build (Yew's `ssr`, any target but wasm32) effects do not run and the socket is
//! inert: the hooks return their initial values and nothing connects.
//!
//! ```no_run
//! use rtio::yew::{use_event, use_room, use_socket, ConnectionState};
//! use yew::prelude::*;
//!
//! #[function_component]
//! fn Lobby() -> Html {
//!     let Ok(socket) = use_socket("http://127.0.0.1:3000", rtio::Options::default()) else {
//!         return html! { <p>{ "bad URL" }</p> };
//!     };
//!     let last = use_event::<String>(&socket.socket, "chat");
//!     let room = use_room(&socket.socket, "lobby", serde_json::json!({ "name": "ada" }));
//!     html! {
//!         <>
//!             <p id="status">{ socket.state.as_str() }</p>
//!             <p id="last">{ last.as_deref().unwrap_or("") }</p>
//!             <p id="members">{ room.members.len() }</p>
//!         </>
//!     }
//! }
//! ```

use std::rc::Rc;

use ::yew::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{apply_presence, watch_state, HeldRoom};
pub use super::{listener_count, ConnectionState};
use crate::{ConnectError, Member, Options, PresenceEvent, Socket};

/// What [`use_socket`] returns: the socket and its state. Equal when the sockets are the same
/// and the states too, so it can be a property or a context value.
#[derive(Debug, Clone, PartialEq)]
pub struct UseSocket {
    /// The socket (cheap to clone; equal handles are the same socket).
    pub socket: Socket,
    /// The connection state, kept current by the socket's and its manager's events.
    pub state: ConnectionState,
}

/// Connects to `url` with `options` (once; again only if `url` changes) and tracks the
/// connection state. Call it where the socket should live (usually the root) and pass the
/// result down, in a [`ContextProvider`] or as a property. The connection closes when the last
/// handle of the socket goes, after the component unmounts.
#[hook]
pub fn use_socket(url: &str, options: Options) -> Result<UseSocket, ConnectError> {
    let socket = use_memo(url.to_owned(), move |url| Socket::connect(url, options));
    let state = use_state_eq(|| ConnectionState::Connecting);

    let set = state.setter();
    use_effect_with(socket.clone(), move |socket| {
        let watch = (**socket).as_ref().ok().map(|socket| {
            set.set(ConnectionState::of(socket));
            let set = set.clone();
            watch_state(socket, move |s| set.set(s))
        });
        move || drop(watch)
    });

    match &*socket {
        Ok(socket) => Ok(UseSocket {
            socket: socket.clone(),
            state: *state,
        }),
        Err(e) => Err(e.clone()),
    }
}

/// The last payload of `event` the server sent while the component was mounted (`None` before
/// the first), read as `T`; each event re-renders the component. An event whose payload does
/// not read as `T` is dropped (and logged). For every payload in turn (two may arrive before a
/// render), use [`use_event_listener`].
#[hook]
pub fn use_event<T>(socket: &Socket, event: &str) -> UseStateHandle<Option<T>>
where
    T: DeserializeOwned + 'static,
{
    let last = use_state(|| None);
    let set = last.setter();
    use_effect_with(
        (socket.clone(), event.to_owned()),
        move |(socket, event)| {
            let sub = socket.on(event, move |payload: T| set.set(Some(payload)));
            move || drop(sub)
        },
    );
    last
}

/// Calls `f` with each payload of `event` the server sends while the component is mounted.
/// `f` may change from render to render: the listener always calls the latest one.
#[hook]
pub fn use_event_listener<T>(socket: &Socket, event: &str, f: impl Fn(T) + 'static)
where
    T: DeserializeOwned + 'static,
{
    let latest = use_mut_ref(|| -> Rc<dyn Fn(T)> { Rc::new(|_| {}) });
    *latest.borrow_mut() = Rc::new(f);

    use_effect_with(
        (socket.clone(), event.to_owned()),
        move |(socket, event)| {
            let sub = socket.on(event, move |payload: T| {
                // Released before the call: `f` may re-render, which stores a new `f`.
                let f = latest.borrow().clone();
                f(payload);
            });
            move || drop(sub)
        },
    );
}

/// A room's members and its last error, as [`use_room`] returns them.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct RoomState {
    /// The members as last known, this socket included.
    pub members: Vec<Member>,
    /// Why the join failed, or why a re-join was refused.
    pub error: Option<String>,
}

impl Reducible for RoomState {
    type Action = PresenceEvent;

    fn reduce(self: Rc<Self>, event: PresenceEvent) -> Rc<Self> {
        let mut next = (*self).clone();
        apply_presence(&mut next.members, &event);
        match event {
            PresenceEvent::Sync(_) => next.error = None,
            PresenceEvent::Error(reason) => next.error = Some(reason),
            _ => {}
        }
        Rc::new(next)
    }
}

/// Joins the room `name` with `meta` while the component is mounted (again if one of them
/// changes) and returns its members, kept current by its presence events. The cleanup removes
/// the presence listener and drops the hook's room handle, which leaves the room unless the
/// app holds another (from [`Socket::room`], which gives the same room to emit in).
#[hook]
pub fn use_room(socket: &Socket, name: &str, meta: Value) -> UseReducerHandle<RoomState> {
    let state = use_reducer(RoomState::default);

    let dispatch = state.dispatcher();
    use_effect_with(
        (socket.clone(), name.to_owned(), meta),
        move |(socket, name, meta)| {
            let held = match socket.room(name) {
                Ok(room) => {
                    let presence = {
                        let dispatch = dispatch.clone();
                        room.on_presence(move |e| dispatch.dispatch(e.clone()))
                    };
                    let joining = room.join(meta);
                    let dispatch = dispatch.clone();
                    // After an unmount the dispatch does nothing.
                    crate::shell::spawn(async move {
                        dispatch.dispatch(match joining.await {
                            Ok(members) => PresenceEvent::Sync(members),
                            Err(e) => PresenceEvent::Error(e.to_string()),
                        });
                    });
                    Some((presence, HeldRoom::new(room)))
                }
                Err(e) => {
                    dispatch.dispatch(PresenceEvent::Error(e.to_string()));
                    None
                }
            };
            // The subscription first, then the hook's handle of the room.
            move || drop(held)
        },
    );

    state
}
