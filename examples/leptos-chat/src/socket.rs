//! Small Leptos helpers over rtio: one [`Socket`] per app, shared through context, and
//! listeners tied to the component that registers them.
//!
//! rtio handles are `Rc`s (not `Send`), while Leptos 0.8 wants `Send + Sync` for context
//! values and cleanup closures. In a browser everything runs on one thread, so the handles
//! are wrapped in [`SendWrapper`], which only checks that they never leave it.
//!
//! Every listener is an rtio [`rtio::Subscription`]: dropping it removes the listener. The
//! helpers drop it in [`on_cleanup`] of the current reactive owner, so whatever a component
//! registers is released when it unmounts (no `forget`, nothing kept past its owner).

use std::cell::RefCell;

use leptos::prelude::*;
use leptos::task::spawn_local;
use rtio::{ConnectError, ManagerEvent, Member, PresenceEvent, Room, Socket, WeakSocket};
use send_wrapper::SendWrapper;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The connection state shown by the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The first connection is being made.
    Connecting,
    /// Connected to the server.
    Connected,
    /// The connection was lost; rtio is trying again.
    Reconnecting,
    /// Not connected, and not trying (closed on purpose, or reconnection gave up).
    Disconnected,
}

impl Status {
    /// The state as the page shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Connected => "connected",
            Status::Reconnecting => "reconnecting",
            Status::Disconnected => "disconnected",
        }
    }
}

/// The app's socket and its connection state, as [`use_socket`] provides them.
#[derive(Clone)]
pub struct UseSocket {
    /// The socket (derefs to [`Socket`]).
    pub socket: SendWrapper<Socket>,
    /// The connection state, kept current by the socket's and its manager's events.
    pub status: ReadSignal<Status>,
}

/// Connects to `url` and provides the socket to every component below the current one (see
/// [`expect_socket`]). Call it once, at the root: the socket lives as long as the root's
/// owner, and so do the listeners that feed `status`.
pub fn use_socket(url: &str) -> Result<UseSocket, ConnectError> {
    let socket = Socket::connect(url, rtio::Options::default())?;
    let initial = if socket.connected() {
        Status::Connected
    } else {
        Status::Connecting
    };
    let (status, set_status) = signal(initial);

    keep_until_cleanup(socket.on_connect(move || set_status.set(Status::Connected)));
    keep_until_cleanup(socket.on_disconnect(move |reason| {
        // rtio reconnects unless the disconnect was asked for (here or by the server).
        let asked = matches!(
            reason,
            rtio::DisconnectReason::IoClientDisconnect | rtio::DisconnectReason::IoServerDisconnect
        );
        set_status.set(if asked {
            Status::Disconnected
        } else {
            Status::Reconnecting
        });
    }));
    keep_until_cleanup(socket.manager().on_event(move |event| match event {
        ManagerEvent::ReconnectAttempt(_) => set_status.set(Status::Reconnecting),
        ManagerEvent::ReconnectFailed => set_status.set(Status::Disconnected),
        _ => {}
    }));

    REGISTRY.with(|r| r.borrow_mut().socket = Some(socket.downgrade()));
    let ctx = UseSocket {
        socket: SendWrapper::new(socket),
        status,
    };
    provide_context(ctx.clone());
    Ok(ctx)
}

/// The socket [`use_socket`] provided above this component.
///
/// # Panics
///
/// If no ancestor called [`use_socket`] (a bug in the app, not something data can cause).
pub fn expect_socket() -> UseSocket {
    expect_context::<UseSocket>()
}

/// Calls `f` with each `E` event the server sends, for as long as the current component is
/// mounted.
pub fn use_event<E>(socket: &Socket, f: impl FnMut(E::Payload) + 'static)
where
    E: rtio::Event,
    E::Payload: DeserializeOwned,
{
    keep_until_cleanup(socket.on_typed::<E>(f));
}

/// Joins `room` with `meta` for as long as the current component is mounted, and returns its
/// members, kept current by the room's presence events. On unmount the presence listener is
/// removed and the room handle dropped, which leaves the room.
pub fn use_room<M: Serialize + ?Sized>(
    socket: &Socket,
    room: &str,
    meta: &M,
) -> (ReadSignal<Vec<Member>>, ReadSignal<Option<String>>) {
    let (members, set_members) = signal(Vec::<Member>::new());
    let (error, set_error) = signal(None::<String>);
    let room = match socket.room(room) {
        Ok(room) => room,
        Err(e) => {
            set_error.set(Some(e.to_string()));
            return (members, error);
        }
    };

    keep_until_cleanup(room.on_presence(move |event| {
        set_members.update(|list| apply(list, event));
        if let PresenceEvent::Error(reason) = event {
            set_error.set(Some(reason.clone()));
        }
    }));

    let joining = room.join(meta);
    spawn_local(async move {
        match joining.await {
            // The component may be gone by now: `try_set` does nothing then.
            Ok(list) => {
                let _ = set_members.try_set(list);
            }
            Err(e) => {
                let _ = set_error.try_set(Some(e.to_string()));
            }
        }
    });

    let id = REGISTRY.with(|r| r.borrow_mut().add_room(room.clone()));
    let room = SendWrapper::new(room);
    on_cleanup(move || {
        REGISTRY.with(|r| r.borrow_mut().remove_room(id));
        drop(room);
    });
    (members, error)
}

/// Applies a presence event to a member list.
fn apply(list: &mut Vec<Member>, event: &PresenceEvent) {
    match event {
        PresenceEvent::Join(m) | PresenceEvent::Update(m) => {
            match list.iter_mut().find(|x| x.id == m.id) {
                Some(x) => *x = m.clone(),
                None => list.push(m.clone()),
            }
        }
        PresenceEvent::Leave(m) => list.retain(|x| x.id != m.id),
        PresenceEvent::Sync(all) => *list = all.clone(),
        PresenceEvent::Error(_) => list.clear(),
    }
}

/// Keeps `handle` (an rtio subscription) until the current reactive owner is cleaned up,
/// then drops it, which removes the listener.
pub fn keep_until_cleanup<T: 'static>(handle: T) {
    let handle = SendWrapper::new(handle);
    on_cleanup(move || drop(handle));
}

/// What [`listener_count`] counts: the app's socket and the rooms joined by [`use_room`].
#[derive(Default)]
struct Registry {
    socket: Option<WeakSocket>,
    rooms: Vec<(u64, Room)>,
    next: u64,
}

impl Registry {
    fn add_room(&mut self, room: Room) -> u64 {
        self.next += 1;
        self.rooms.push((self.next, room));
        self.next
    }

    fn remove_room(&mut self, id: u64) {
        self.rooms.retain(|(i, _)| *i != id);
    }
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::default();
}

/// Listeners registered now on the app's socket and on the rooms of mounted components.
pub fn listener_count() -> usize {
    REGISTRY.with(|r| {
        let r = r.borrow();
        let socket = r
            .socket
            .as_ref()
            .and_then(WeakSocket::upgrade)
            .map_or(0, |s| s.listener_count());
        socket
            + r.rooms
                .iter()
                .map(|(_, room)| room.listener_count())
                .sum::<usize>()
    })
}
