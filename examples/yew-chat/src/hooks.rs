//! Yew hooks over rtio: one [`Socket`] per app, shared through context, and listeners tied
//! to the component that registers them.
//!
//! Every rtio listener is a [`Subscription`](rtio::Subscription): dropping it removes the
//! listener. The hooks register listeners in [`use_effect_with`] and drop their
//! subscriptions in the effect's cleanup, which Yew runs when the dependencies change and
//! when the component unmounts. Nothing is forgotten, so nothing outlives its component.

use std::cell::RefCell;
use std::ops::Deref;
use std::rc::Rc;

use rtio::{ConnectError, ManagerEvent, Member, PresenceEvent, Room, Socket, WeakSocket};
use serde::de::DeserializeOwned;
use serde_json::Value;
use yew::platform::spawn_local;
use yew::prelude::*;

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

/// A [`Socket`] shared by the components of an app. It derefs to the socket; two handles are
/// equal when they hold the same socket, so it can be a hook dependency.
#[derive(Clone)]
pub struct SocketHandle(Rc<Socket>);

impl PartialEq for SocketHandle {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for SocketHandle {
    type Target = Socket;

    fn deref(&self) -> &Socket {
        &self.0
    }
}

/// The app's socket and its connection state: what [`use_socket`] returns and what the root
/// provides to the components below it (read it with [`use_socket_context`]).
#[derive(Clone, PartialEq)]
pub struct SocketContext {
    /// The socket.
    pub socket: SocketHandle,
    /// The connection state, kept current by the socket's and its manager's events.
    pub status: Status,
}

/// Connects to `url` (once; again only if `url` changes) and tracks the connection state.
/// Call it at the root and pass the result down in a [`ContextProvider`]. The listeners that
/// feed `status` live as long as the calling component.
#[hook]
pub fn use_socket(url: &str) -> Result<SocketContext, ConnectError> {
    let socket = use_memo(url.to_owned(), |url| {
        Socket::connect(url, rtio::Options::default()).map(|s| SocketHandle(Rc::new(s)))
    });
    let status = use_state_eq(|| Status::Connecting);

    let set = status.setter();
    use_effect_with(socket.clone(), move |socket| {
        let subs = (**socket).as_ref().ok().map(|socket| {
            set.set(if socket.connected() {
                Status::Connected
            } else {
                Status::Connecting
            });
            let on_connect = {
                let set = set.clone();
                socket.on_connect(move || set.set(Status::Connected))
            };
            let on_disconnect = {
                let set = set.clone();
                socket.on_disconnect(move |reason| {
                    // rtio reconnects unless the disconnect was asked for (here or by the
                    // server).
                    let asked = matches!(
                        reason,
                        rtio::DisconnectReason::IoClientDisconnect
                            | rtio::DisconnectReason::IoServerDisconnect
                    );
                    set.set(if asked {
                        Status::Disconnected
                    } else {
                        Status::Reconnecting
                    });
                })
            };
            let on_manager = socket.manager().on_event(move |event| match event {
                ManagerEvent::ReconnectAttempt(_) => set.set(Status::Reconnecting),
                ManagerEvent::ReconnectFailed => set.set(Status::Disconnected),
                _ => {}
            });
            REGISTRY.with(|r| r.borrow_mut().socket = Some(socket.downgrade()));
            (on_connect, on_disconnect, on_manager)
        });
        // Cleanup: dropping the subscriptions removes the listeners.
        move || drop(subs)
    });

    match &*socket {
        Ok(socket) => Ok(SocketContext {
            socket: socket.clone(),
            status: *status,
        }),
        Err(e) => Err(e.clone()),
    }
}

/// The [`SocketContext`] a [`ContextProvider`] above this component provides (`None` if
/// there is none).
#[hook]
pub fn use_socket_context() -> Option<SocketContext> {
    use_context::<SocketContext>()
}

/// Calls `f` with the payload of each `E` event the server sends, while the calling
/// component is mounted. `f` may change from render to render: the listener always calls the
/// latest one.
#[hook]
pub fn use_event<E>(socket: &SocketHandle, f: impl Fn(E::Payload) + 'static)
where
    E: rtio::Event,
    E::Payload: DeserializeOwned,
{
    let latest = use_mut_ref(|| -> Rc<dyn Fn(E::Payload)> { Rc::new(|_| {}) });
    *latest.borrow_mut() = Rc::new(f);

    use_effect_with(socket.clone(), move |socket| {
        let sub = socket.on_typed::<E>(move |payload| {
            // Release the borrow before calling: `f` may re-render, which stores a new `f`.
            let f = latest.borrow().clone();
            f(payload);
        });
        move || drop(sub)
    });
}

/// A room's members and its last error, as [`use_room`] returns them.
#[derive(Debug, Clone, Default, PartialEq)]
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
        match event {
            PresenceEvent::Join(m) | PresenceEvent::Update(m) => {
                match next.members.iter_mut().find(|x| x.id == m.id) {
                    Some(x) => *x = m,
                    None => next.members.push(m),
                }
            }
            PresenceEvent::Leave(m) => next.members.retain(|x| x.id != m.id),
            PresenceEvent::Sync(all) => {
                next.members = all;
                next.error = None;
            }
            PresenceEvent::Error(reason) => {
                next.members.clear();
                next.error = Some(reason);
            }
        }
        Rc::new(next)
    }
}

/// Joins the room `name` with `meta` while the calling component is mounted (again if one of
/// them changes), and returns its members, kept current by its presence events. The cleanup
/// removes the presence listener and drops the room handle, which leaves the room.
#[hook]
pub fn use_room(socket: &SocketHandle, name: &str, meta: Value) -> UseReducerHandle<RoomState> {
    let state = use_reducer_eq(RoomState::default);

    let dispatch = state.dispatcher();
    use_effect_with(
        (socket.clone(), name.to_owned(), meta),
        move |(socket, name, meta)| {
            let held = match socket.room(name) {
                Ok(room) => {
                    let presence = {
                        let dispatch = dispatch.clone();
                        room.on_presence(move |event| dispatch.dispatch(event.clone()))
                    };
                    let joining = room.join(meta);
                    // After an unmount the dispatch does nothing.
                    spawn_local(async move {
                        dispatch.dispatch(match joining.await {
                            Ok(members) => PresenceEvent::Sync(members),
                            Err(e) => PresenceEvent::Error(e.to_string()),
                        });
                    });
                    Some((presence, RoomRegistration::new(room)))
                }
                Err(e) => {
                    dispatch.dispatch(PresenceEvent::Error(e.to_string()));
                    None
                }
            };
            // Cleanup: the subscription first, then the last handle of the room.
            move || drop(held)
        },
    );

    state
}

/// What [`listener_count`] counts: the app's socket and the rooms held by [`use_room`].
#[derive(Default)]
struct Registry {
    socket: Option<WeakSocket>,
    rooms: Vec<(u64, Room)>,
    next: u64,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::default();
}

/// A room handle entered in the registry; dropping it takes the room out (and drops it).
struct RoomRegistration(u64);

impl RoomRegistration {
    fn new(room: Room) -> Self {
        REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            r.next += 1;
            let id = r.next;
            r.rooms.push((id, room));
            RoomRegistration(id)
        })
    }
}

impl Drop for RoomRegistration {
    fn drop(&mut self) {
        let room = REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            let at = r.rooms.iter().position(|(id, _)| *id == self.0)?;
            Some(r.rooms.remove(at))
        });
        // Dropped outside the registry's borrow: leaving may run rtio code.
        drop(room);
    }
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
