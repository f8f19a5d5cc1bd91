//! Hooks for Leptos 0.8 (feature `leptos`): a socket for the app, its [`ConnectionState`], the
//! last payload of an event, any `Stream`, and a room's members, all as signals. Whatever a
//! hook registers is released when its reactive owner is cleaned up (`on_cleanup`): when the
//! component that called it unmounts.
//!
//! The Rust API's handles are `Rc`s, while Leptos asks for `Send + Sync` values; a page runs
//! on one thread, so the handles travel in a [`SendWrapper`], and [`UseSocket`] can be used
//! from any component, through context or a property.
//!
//! In a server build (Leptos's `ssr`, or any target but wasm32) the hooks are inert: no socket
//! is made, nothing connects, and every signal keeps its initial value, which is also what the
//! first render in the browser shows, so hydration matches.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use rtio::leptos::{use_event, use_room, use_socket};
//!
//! #[component]
//! fn Lobby() -> impl IntoView {
//!     let Ok(socket) = use_socket("http://127.0.0.1:3000", rtio::Options::default()) else {
//!         return view! { <p>"bad URL"</p> }.into_any();
//!     };
//!     let state = socket.state;
//!     let last = use_event::<String>(&socket, "chat");
//!     let room = use_room(&socket, "lobby", &serde_json::json!({ "name": "ada" }));
//!     let send = move |_| {
//!         if let Some(s) = socket.socket() {
//!             let _ = s.emit("chat", &"hi");
//!         }
//!     };
//!     view! {
//!         <p id="status">{move || state.get().as_str()}</p>
//!         <p id="last">{move || last.get().unwrap_or_default()}</p>
//!         <p id="members">{move || room.members.get().len()}</p>
//!         <button on:click=send>"Say hi"</button>
//!     }
//!     .into_any()
//! }
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use ::leptos::prelude::{
    expect_context, is_server, on_cleanup, provide_context, signal, use_context, ReadSignal, Set,
    Update,
};
use futures_core::Stream;
use send_wrapper::SendWrapper;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{apply_presence, watch_state, HeldRoom};
pub use super::{listener_count, ConnectionState};
use crate::{ConnectError, Member, Options, PresenceEvent, Socket};

/// Whether the hooks run where nothing may connect: a server render, or no browser at all.
fn inert() -> bool {
    !crate::shell::BROWSER || is_server()
}

/// Keeps `value` (a subscription, a room, a socket) until the current reactive owner is
/// cleaned up, then drops it.
fn keep_until_cleanup<T: 'static>(value: T) {
    let value = SendWrapper::new(value);
    on_cleanup(move || drop(value));
}

/// The app's socket and its state, as [`use_socket`] returns it: `Send + Sync` and cheap to
/// clone, for any component.
#[derive(Clone)]
pub struct UseSocket {
    socket: Option<SendWrapper<Socket>>,
    /// The connection state, kept current by the socket's and its manager's events.
    pub state: ReadSignal<ConnectionState>,
}

impl std::fmt::Debug for UseSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseSocket")
            .field("socket", &self.socket.as_deref())
            .finish_non_exhaustive()
    }
}

impl UseSocket {
    /// The socket, to emit on or listen to (`None` in a server build, where there is none).
    pub fn socket(&self) -> Option<Socket> {
        self.socket.as_deref().cloned()
    }
}

/// Connects to `url` with `options`, provides the result as context to the components below
/// (read it with [`expect_socket`] or [`use_socket_context`]) and returns it. Call it where
/// the socket should live, usually at the root: the socket and the listeners that feed `state`
/// go when that owner is cleaned up. In a server build it makes no socket and does not check
/// `url` (a page's own origin, say, is not known there).
pub fn use_socket(url: &str, options: Options) -> Result<UseSocket, ConnectError> {
    let (state, set_state) = signal(ConnectionState::Connecting);
    let socket = if inert() {
        // No socket, and no page to resolve the URL against: it is not checked.
        None
    } else {
        let socket = Socket::connect(url, options)?;
        set_state.set(ConnectionState::of(&socket));
        keep_until_cleanup(watch_state(&socket, move |s| {
            let _ = set_state.try_set(s);
        }));
        Some(SendWrapper::new(socket))
    };
    let handle = UseSocket { socket, state };
    provide_context(handle.clone());
    Ok(handle)
}

/// The [`UseSocket`] an ancestor's [`use_socket`] provided, if any.
pub fn use_socket_context() -> Option<UseSocket> {
    use_context::<UseSocket>()
}

/// The [`UseSocket`] an ancestor's [`use_socket`] provided.
///
/// # Panics
///
/// If no ancestor called [`use_socket`] (a bug in the app, not something data can cause).
pub fn expect_socket() -> UseSocket {
    expect_context::<UseSocket>()
}

/// The last payload of `event` the server sent while the current owner lives (`None` before
/// the first), read as `T`. An event whose payload does not read as `T` is dropped (and
/// logged). For every payload in turn (two may arrive before effects run), use
/// [`use_event_listener`].
pub fn use_event<T>(socket: &UseSocket, event: &str) -> ReadSignal<Option<T>>
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    let (last, set_last) = signal(None::<T>);
    if let Some(socket) = socket.socket() {
        keep_until_cleanup(socket.on(event, move |payload: T| {
            let _ = set_last.try_set(Some(payload));
        }));
    }
    last
}

/// Calls `f` with each payload of `event` the server sends while the current owner lives.
pub fn use_event_listener<T>(socket: &UseSocket, event: &str, f: impl FnMut(T) + 'static)
where
    T: DeserializeOwned + 'static,
{
    if let Some(socket) = socket.socket() {
        keep_until_cleanup(socket.on(event, f));
    }
}

/// A signal of the last item of `stream` (`initial` before the first, and in a server build,
/// where the stream is not polled). The stream is polled on the page's microtask queue and
/// dropped when it ends or when the current owner is cleaned up, whichever comes first (for
/// [`Socket::events`], dropping it removes its listener).
pub fn use_stream<T, S>(stream: S, initial: T) -> ReadSignal<T>
where
    T: Send + Sync + 'static,
    S: Stream<Item = T> + 'static,
{
    let (last, set_last) = signal(initial);
    if inert() {
        return last;
    }
    let slot: Rc<Slot<S>> = Rc::new(Slot {
        stream: RefCell::new(Some(Box::pin(stream))),
        waker: RefCell::new(None),
    });
    let held = Rc::clone(&slot);
    keep_until_cleanup(Stop(held));
    crate::shell::spawn(Forward {
        slot,
        set: move |item| set_last.try_set(item).is_none(),
    });
    last
}

/// A stream the owner's cleanup can take away from the task that polls it.
struct Slot<S> {
    stream: RefCell<Option<Pin<Box<S>>>>,
    waker: RefCell<Option<Waker>>,
}

/// Dropped at cleanup: drops the stream and wakes the task, which then ends.
struct Stop<S>(Rc<Slot<S>>);

impl<S> Drop for Stop<S> {
    fn drop(&mut self) {
        let stream = self.0.stream.borrow_mut().take();
        drop(stream);
        if let Some(w) = self.0.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

/// Polls the stream into the signal until it ends, is taken, or the signal is gone.
struct Forward<S, F> {
    slot: Rc<Slot<S>>,
    set: F,
}

impl<S: Stream, F: FnMut(S::Item) -> bool + Unpin> Future for Forward<S, F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Nothing here is pinned structurally: the stream is boxed.
        let this = self.get_mut();
        loop {
            let next = {
                let mut stream = this.slot.stream.borrow_mut();
                let Some(s) = stream.as_mut() else {
                    return Poll::Ready(());
                };
                s.as_mut().poll_next(cx)
            };
            match next {
                Poll::Ready(Some(item)) => {
                    if !(this.set)(item) {
                        let stream = this.slot.stream.borrow_mut().take();
                        drop(stream);
                        return Poll::Ready(());
                    }
                }
                Poll::Ready(None) => {
                    let stream = this.slot.stream.borrow_mut().take();
                    drop(stream);
                    return Poll::Ready(());
                }
                Poll::Pending => {
                    *this.slot.waker.borrow_mut() = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
    }
}

/// A room's members and its last error, as [`use_room`] returns them.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct UseRoom {
    /// The members as last known, this socket included (empty in a server build).
    pub members: ReadSignal<Vec<Member>>,
    /// Why the join failed, or why a re-join was refused.
    pub error: ReadSignal<Option<String>>,
}

/// Joins the room `name` with `meta` while the current owner lives and returns its members,
/// kept current by its presence events. At cleanup the presence listener is removed and the
/// hook's room handle dropped, which leaves the room unless the app holds another (from
/// [`Socket::room`], which gives the same room to emit in).
pub fn use_room<M: Serialize + ?Sized>(socket: &UseSocket, name: &str, meta: &M) -> UseRoom {
    let (members, set_members) = signal(Vec::<Member>::new());
    let (error, set_error) = signal(None::<String>);
    let handle = UseRoom { members, error };
    let Some(socket) = socket.socket() else {
        return handle;
    };
    let room = match socket.room(name) {
        Ok(room) => room,
        Err(e) => {
            set_error.set(Some(e.to_string()));
            return handle;
        }
    };
    let update = move |event: &PresenceEvent| {
        let _ = set_members.try_update(|list| apply_presence(list, event));
        match event {
            PresenceEvent::Sync(_) => {
                let _ = set_error.try_set(None);
            }
            PresenceEvent::Error(reason) => {
                let _ = set_error.try_set(Some(reason.clone()));
            }
            _ => {}
        }
    };
    keep_until_cleanup(room.on_presence(update));
    let joining = room.join(meta);
    crate::shell::spawn(async move {
        // The owner may be gone by now: the signals then take nothing.
        update(&match joining.await {
            Ok(members) => PresenceEvent::Sync(members),
            Err(e) => PresenceEvent::Error(e.to_string()),
        });
    });
    keep_until_cleanup(HeldRoom::new(room));
    handle
}
