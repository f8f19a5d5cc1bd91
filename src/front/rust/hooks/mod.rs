//! What the Leptos and Yew hooks share, framework aside: the connection state a UI shows, the
//! listeners that keep it current, a member list kept by presence events, and the count of
//! listeners the hooks' sockets and rooms hold (so an app can check that its components
//! release theirs).

use std::cell::RefCell;

use crate::{
    DisconnectReason, ManagerEvent, ManagerSubscription, Member, PresenceEvent, Room, Socket,
    Subscription, WeakSocket,
};

#[cfg(feature = "leptos")]
pub mod leptos;
#[cfg(feature = "yew")]
pub mod yew;

/// A socket's connection state as a UI shows it, kept by the hooks' `use_socket`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionState {
    /// The first connection is being made (and, in a server build, always: nothing connects
    /// there).
    Connecting,
    /// Connected to the server.
    Connected,
    /// The connection was lost; rtio is trying again.
    Reconnecting,
    /// Not connected and not trying: closed on purpose (here or by the server), or reconnection
    /// gave up.
    Disconnected,
}

impl ConnectionState {
    /// The state in lower case (`"connecting"`, `"connected"`, ...), for a page or a class name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Connecting => "connecting",
            ConnectionState::Connected => "connected",
            ConnectionState::Reconnecting => "reconnecting",
            ConnectionState::Disconnected => "disconnected",
        }
    }

    /// The state of `socket` now.
    pub fn of(socket: &Socket) -> ConnectionState {
        if socket.connected() {
            ConnectionState::Connected
        } else {
            ConnectionState::Connecting
        }
    }
}

impl std::fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The listeners that keep a state current; dropping it removes them.
pub(crate) struct StateWatch {
    _connect: Subscription,
    _disconnect: Subscription,
    _manager: ManagerSubscription,
}

/// Calls `set` with each change of `socket`'s [`ConnectionState`] until the watch is dropped,
/// and enters the socket in the hooks' [`listener_count`].
pub(crate) fn watch_state(
    socket: &Socket,
    set: impl Fn(ConnectionState) + Clone + 'static,
) -> StateWatch {
    let connected = set.clone();
    let disconnected = set.clone();
    let watch = StateWatch {
        _connect: socket.on_connect(move || connected(ConnectionState::Connected)),
        _disconnect: socket.on_disconnect(move |reason| {
            // rtio reconnects unless the disconnect was asked for, here or by the server.
            let asked = matches!(
                reason,
                DisconnectReason::IoClientDisconnect | DisconnectReason::IoServerDisconnect
            );
            disconnected(if asked {
                ConnectionState::Disconnected
            } else {
                ConnectionState::Reconnecting
            });
        }),
        _manager: socket.manager().on_event(move |event| match event {
            ManagerEvent::ReconnectAttempt(_) => set(ConnectionState::Reconnecting),
            ManagerEvent::ReconnectFailed => set(ConnectionState::Disconnected),
            _ => {}
        }),
    };
    HELD.with(|h| {
        let mut h = h.borrow_mut();
        h.sockets.retain(|s| s.upgrade().is_some());
        h.sockets.push(socket.downgrade());
    });
    watch
}

/// Applies a presence event to a member list: `Sync` replaces it, an error empties it.
pub(crate) fn apply_presence(list: &mut Vec<Member>, event: &PresenceEvent) {
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

/// What [`listener_count`] counts: the sockets made by `use_socket`, the rooms `use_room`
/// holds.
#[derive(Default)]
struct Held {
    sockets: Vec<WeakSocket>,
    rooms: Vec<(u64, Room)>,
    next: u64,
}

thread_local! {
    static HELD: RefCell<Held> = RefCell::default();
}

/// A room held by a `use_room` hook, entered in [`listener_count`]; dropping it takes the
/// room out and drops it (the last handle of a room leaves it).
pub(crate) struct HeldRoom(u64);

impl HeldRoom {
    pub(crate) fn new(room: Room) -> HeldRoom {
        HELD.with(|h| {
            let mut h = h.borrow_mut();
            h.next += 1;
            let id = h.next;
            h.rooms.push((id, room));
            HeldRoom(id)
        })
    }
}

impl Drop for HeldRoom {
    fn drop(&mut self) {
        let room = HELD.with(|h| {
            let mut h = h.borrow_mut();
            let at = h.rooms.iter().position(|(id, _)| *id == self.0)?;
            Some(h.rooms.remove(at))
        });
        // Dropped outside the borrow: leaving runs rtio code, which may call back here.
        drop(room);
    }
}

/// How many listeners are registered now on the sockets made by `use_socket` (still alive)
/// and on the rooms held by mounted `use_room` hooks: what an app's components hold, so a test
/// can check that unmounting releases them.
pub fn listener_count() -> usize {
    HELD.with(|h| {
        let h = h.borrow();
        let sockets: usize = h
            .sockets
            .iter()
            .filter_map(WeakSocket::upgrade)
            .map(|s| s.listener_count())
            .sum();
        sockets
            + h.rooms
                .iter()
                .map(|(_, r)| r.listener_count())
                .sum::<usize>()
    })
}
