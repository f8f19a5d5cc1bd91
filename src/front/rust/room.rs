//! [`Room`]: a room of the rooms convention (`ROOMS.md`) on a [`Socket`], with presence.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::{Rc, Weak};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::emitter::{typed, warn, Emitter, Handler, Listeners, Subscription};
use super::error::{AckError, EmitError, RoomError};
use super::payload::{self, erased::Arg};
use super::socket::{to_send, Socket};
use crate::session::presence::{self, Change, Presence, Told};

/// A member of a room: its socket id and the metadata it joined with (`null` if none).
pub type Member = presence::Member<Value>;

/// What a room's presence reports; see [`Room::on_presence`].
#[derive(Debug, Clone, PartialEq)]
pub enum PresenceEvent {
    /// Another member came.
    Join(Member),
    /// Another member went (as last known).
    Leave(Member),
    /// Another member joined again with other metadata.
    Update(Member),
    /// The room was (re)joined: every member, this socket included.
    Sync(Vec<Member>),
    /// A re-join after a reconnect was refused, with the server's reason: the room is left
    /// (a `Leave` for every other member came first).
    Error(String),
}

/// Longest room name, in characters.
const MAX_NAME: usize = 128;

/// A room's own kind of listener: presence. An event listener also gets the sender.
type PresenceFn = Box<dyn FnMut(&PresenceEvent)>;

pub(super) struct RoomState {
    name: Rc<str>,
    socket: Socket,
    /// Held: joined or being joined.
    want: Cell<bool>,
    /// Joined now (acknowledged, and connected since).
    joined: Cell<bool>,
    meta: RefCell<Value>,
    presence: RefCell<Presence<Value>>,
    /// `rtio:to` packets (JSON text and attachments) emitted while the room was not joined.
    held: RefCell<Vec<(String, Vec<Vec<u8>>)>>,
    listeners: Emitter<Member, PresenceFn>,
    /// Joins sent so far, which numbers them.
    joins: Cell<u64>,
    /// While the last join sent waits for its answer: its number and the presence changes told
    /// meanwhile, which go on top of the answer's list.
    told: RefCell<Option<(u64, Vec<Told<Value>>)>>,
}

/// A join waiting for its answer; when dropped (answered, or its future dropped), the room
/// stops keeping presence changes for it.
struct Waiting {
    room: Weak<RoomState>,
    join: u64,
}

impl Waiting {
    /// The changes told since the join was sent (none if a later join was sent meanwhile).
    fn told(&self) -> Vec<Told<Value>> {
        let Some(room) = self.room.upgrade() else {
            return Vec::new();
        };
        let mut told = room.told.borrow_mut();
        match told.take() {
            Some((join, changes)) if join == self.join => changes,
            other => {
                *told = other;
                Vec::new()
            }
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.told();
    }
}

/// A room (see `ROOMS.md`), made by [`Socket::room`]. Cheap to clone; every clone is the same
/// room. When the last handle is dropped, the room is left.
///
/// ```no_run
/// # async fn demo(socket: rtio::Socket) -> Result<(), rtio::RoomError> {
/// #[derive(serde::Deserialize)]
/// struct Pos { x: f64, y: f64 }
/// let room = socket.room("doc:42")?;
/// let members = room.join(&serde_json::json!({ "name": "Ada" })).await?;
/// let _cursor = room.on("cursor", |pos: Pos, from: &rtio::Member| { /* ... */ });
/// let _presence = room.on_presence(|e| { /* PresenceEvent::Join(member), ... */ });
/// room.emit("cursor", &serde_json::json!({ "x": 0.5, "y": 0.5 }))?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Room {
    state: Rc<RoomState>,
}

impl std::fmt::Debug for Room {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Room")
            .field("name", &&*self.state.name)
            .field("joined", &self.state.joined.get())
            .finish()
    }
}

impl Socket {
    /// The room `name` (1 to 128 characters) of the rooms convention: the same room for every
    /// call until it is left. Needs a server with the rooms helper.
    pub fn room(&self, name: &str) -> Result<Room, RoomError> {
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(RoomError::InvalidName(name.into()));
        }
        let inner = self.inner();
        if let Some(state) = inner.live_rooms().into_iter().find(|r| *r.name == *name) {
            return Ok(Room { state });
        }
        let state = Rc::new(RoomState {
            name: Rc::from(name),
            socket: self.clone(),
            want: Cell::new(false),
            joined: Cell::new(false),
            meta: RefCell::new(Value::Null),
            presence: RefCell::default(),
            held: RefCell::default(),
            listeners: Emitter::default(),
            joins: Cell::new(0),
            told: RefCell::default(),
        });
        inner.rooms.borrow_mut().push(Rc::downgrade(&state));
        Ok(Room { state })
    }
}

impl Room {
    /// The room's name.
    pub fn name(&self) -> &str {
        &self.state.name
    }

    /// Whether the room is joined now: false before the join is acknowledged, and between a
    /// reconnect and the re-join.
    pub fn joined(&self) -> bool {
        self.state.joined.get()
    }

    /// The members as last known, this socket included.
    pub fn members(&self) -> Vec<Member> {
        self.state.presence.borrow().members().to_vec()
    }

    /// Joins the room with `meta` (any serializable value), or updates `meta` when joined.
    /// The request is sent at once; the future resolves with the members (this socket
    /// included) or fails with the server's reason ([`RoomError::Refused`]). A refused first
    /// join forgets the room; a refused update keeps the previous `meta`.
    pub fn join<M: Serialize + ?Sized>(
        &self,
        meta: &M,
    ) -> impl Future<Output = Result<Vec<Member>, RoomError>> + 'static {
        let state = self.state.clone();
        let sent = serde_json::to_value(meta)
            .map_err(|e| RoomError::Ack(AckError::Emit(EmitError::Encode(e.to_string()))))
            .map(|meta| {
                let prev = state.meta.replace(meta);
                state.hold();
                (prev, state.send_join())
            });
        async move {
            let (prev, (reply, waiting)) = sent?;
            let r = reply.await;
            let refused_update = state.presence.borrow().synced() && state.want.get();
            let out = state.answer(r, waiting, false);
            if out.is_err() && refused_update {
                state.meta.replace(prev);
            }
            out
        }
    }

    /// Leaves the room: its listeners are removed and it stops holding emits. The request is
    /// sent at once (also while disconnected); the future resolves when the server answered.
    pub fn leave(&self) -> impl Future<Output = Result<(), RoomError>> + 'static {
        let state = &self.state;
        state.discard();
        let reply = state
            .socket
            .emit_many_with_ack::<Value>("rtio:leave", &[&&*state.name]);
        async move { reply.await.map(|_| ()).map_err(RoomError::Ack) }
    }

    /// Calls `f` with each `event` another member sends to the room: the payload deserialized
    /// as `T` (as for [`Socket::on`]) and the sender. The listener lives until the returned
    /// [`Subscription`] is dropped or the room is left.
    pub fn on<T, F>(&self, event: &str, mut f: F) -> Subscription
    where
        T: DeserializeOwned + 'static,
        F: FnMut(T, &Member) + 'static,
    {
        self.add(
            Some(event),
            typed("room event ", event, move |v, from: &Member| f(v, from)),
        )
    }

    /// Like [`on`](Self::on), for a declared [`Event`](crate::Event): `f` gets its payload
    /// type and the sender.
    pub fn on_typed<E>(&self, f: impl FnMut(E::Payload, &Member) + 'static) -> Subscription
    where
        E: crate::Event,
        E::Payload: DeserializeOwned + 'static,
    {
        self.on(E::NAME, f)
    }

    /// How many listeners are registered on this room now (event and presence listeners).
    pub fn listener_count(&self) -> usize {
        self.state.listeners.registry().len()
    }

    /// Calls `f` with each change of the room's members (see [`PresenceEvent`]).
    pub fn on_presence(&self, f: impl FnMut(&PresenceEvent) + 'static) -> Subscription {
        self.add(None, Handler::Own(Box::new(f)))
    }

    fn add(&self, event: Option<&str>, handler: Handler<Member, PresenceFn>) -> Subscription {
        let owner: Weak<dyn Listeners> = Rc::downgrade(&self.state) as Weak<RoomState>;
        self.state.listeners.add(owner, false, event, handler)
    }

    /// Sends `event` with one argument to the other members (no acknowledgement). While the
    /// room is being (re)joined, the packet is held and sent once it is joined.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, payload: &T) -> Result<(), RoomError> {
        self.state.send(event, &[&payload], false).map(|_| ())
    }

    /// Like [`emit`](Self::emit), for a declared [`Event`](crate::Event): only its payload
    /// type is accepted.
    pub fn emit_typed<E>(&self, payload: &E::Payload) -> Result<(), RoomError>
    where
        E: crate::Event,
        E::Payload: Serialize,
    {
        self.emit(E::NAME, payload)
    }

    /// Like [`emit`](Self::emit) with any number of arguments ([`Binary`](crate::Binary)
    /// included, see [`Socket::emit_many`]).
    pub fn emit_many(&self, event: &str, args: &[&dyn Arg]) -> Result<(), RoomError> {
        self.state.send(event, args, false).map(|_| ())
    }

    /// Sends `event` only if the room is joined and the socket connected now (for cursor
    /// positions and the like); returns whether it was sent.
    pub fn emit_volatile<T: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &T,
    ) -> Result<bool, RoomError> {
        self.state.send(event, &[&payload], true)
    }
}

impl RoomState {
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Marks the room held, registering it again on its socket if it was left.
    fn hold(self: &Rc<Self>) {
        if !self.want.replace(true) {
            let inner = self.socket.inner();
            let known = inner
                .live_rooms()
                .iter()
                .any(|r| Rc::ptr_eq(r, self) || *r.name == *self.name);
            if !known {
                inner.rooms.borrow_mut().push(Rc::downgrade(self));
            }
        }
    }

    /// Sends `rtio:join` with the current meta; presence changes are kept from now until the
    /// answer.
    fn send_join(self: &Rc<Self>) -> (super::emitter::AckFuture<Value>, Waiting) {
        let meta = self.meta.borrow().clone();
        let join = self.joins.get() + 1;
        self.joins.set(join);
        *self.told.borrow_mut() = Some((join, Vec::new()));
        let reply = self
            .socket
            .emit_many_with_ack("rtio:join", &[&&*self.name, &meta]);
        let waiting = Waiting {
            room: Rc::downgrade(self),
            join,
        };
        (reply, waiting)
    }

    /// Takes in the answer to a join (`rejoin`: sent after a reconnect).
    fn answer(
        self: &Rc<Self>,
        reply: Result<Value, AckError>,
        waiting: Waiting,
        rejoin: bool,
    ) -> Result<Vec<Member>, RoomError> {
        let told = waiting.told();
        if !self.want.get() {
            return Ok(Vec::new());
        }
        let was = self.presence.borrow().synced();
        let reply = match reply {
            Ok(v) => v,
            Err(e) => {
                if !was && !rejoin {
                    self.discard();
                }
                return Err(RoomError::Ack(e));
            }
        };
        let list = (reply.get("ok") == Some(&Value::Bool(true)))
            .then(|| reply.get("members").and_then(Value::as_array))
            .flatten();
        let Some(list) = list else {
            let reason = reply
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("malformed answer to rtio:join")
                .to_string();
            if rejoin {
                let changes = self.presence.borrow_mut().clear();
                self.report(changes);
                self.emit_presence(&PresenceEvent::Error(reason.clone()));
            }
            if rejoin || !was {
                self.discard();
            }
            return Err(RoomError::Refused(reason));
        };
        let members = list.iter().filter_map(member).collect();
        let me = self.socket.inner().sid().unwrap_or_default();
        let changes = self.presence.borrow_mut().sync_with(members, told, &me);
        self.report(changes);
        let members = self.presence.borrow().members().to_vec();
        self.emit_presence(&PresenceEvent::Sync(members.clone()));
        self.ready();
        Ok(members)
    }

    /// Joined: sends what was held for the room.
    fn ready(&self) {
        self.joined.set(true);
        let held = std::mem::take(&mut *self.held.borrow_mut());
        let nsp = self.socket.nsp();
        for (data, bins) in held {
            // Refused only when the socket's own buffer is full, which says so itself.
            let _ = self.socket.link().emit(nsp, data, to_send(&bins), None);
        }
    }

    /// The socket connected (`recovered`: the server kept its rooms).
    pub(super) fn connected(self: &Rc<Self>, recovered: bool) {
        if !self.want.get() || !self.presence.borrow().synced() {
            return;
        }
        if recovered {
            self.ready();
            return;
        }
        let (reply, waiting) = self.send_join();
        let room = Rc::downgrade(self);
        crate::shell::spawn(async move {
            let r = reply.await;
            if let Some(room) = room.upgrade() {
                // A refusal is reported to the presence listeners.
                let _ = room.answer(r, waiting, true);
            }
        });
    }

    pub(super) fn disconnected(&self) {
        self.joined.set(false);
    }

    /// Forgets the room: listeners, held emits, members; it is no longer held.
    fn discard(&self) {
        self.want.set(false);
        self.joined.set(false);
        self.held.borrow_mut().clear();
        self.listeners.registry().clear();
        self.presence.borrow_mut().clear();
        let inner = self.socket.inner();
        inner
            .rooms
            .borrow_mut()
            .retain(|w| w.upgrade().is_some_and(|r| *r.name != *self.name));
    }

    fn send(&self, event: &str, args: &[&dyn Arg], volatile: bool) -> Result<bool, RoomError> {
        if !self.want.get() {
            return Err(RoomError::NotJoined(self.name.to_string()));
        }
        let name: &str = &self.name;
        let mut all: Vec<&dyn Arg> = Vec::with_capacity(args.len() + 3);
        all.push(&"rtio:to");
        all.push(&name);
        all.push(&event);
        all.extend_from_slice(args);
        let (data, bins) = payload::encode(&all)
            .map_err(|e| RoomError::Ack(AckError::Emit(EmitError::Encode(e))))?;
        let link = self.socket.link();
        let nsp = self.socket.nsp();
        if self.joined.get() && self.socket.connected() {
            if volatile {
                return Ok(link.emit_volatile(nsp, data, to_send(&bins)));
            }
            link.emit(nsp, data, to_send(&bins), None)
                .map_err(|_| RoomError::Ack(AckError::Emit(EmitError::BufferFull)))?;
            return Ok(true);
        }
        if volatile {
            return Ok(false);
        }
        let mut held = self.held.borrow_mut();
        if held.len() >= self.socket.max_buffer() {
            return Err(RoomError::Ack(AckError::Emit(EmitError::BufferFull)));
        }
        held.push((data, bins));
        Ok(true)
    }

    /// A `rtio:room` or `rtio:presence` event for this room; `args` starts with the room name.
    pub(super) fn incoming(&self, event: &str, args: Vec<Value>) {
        if !self.want.get() {
            return;
        }
        let mut args = args.into_iter().skip(1);
        if event == "rtio:room" {
            let (Some(Value::String(name)), Some(Value::String(from))) = (args.next(), args.next())
            else {
                return warn("rtio: malformed rtio:room event ignored");
            };
            let from = self
                .presence
                .borrow()
                .get(&from)
                .cloned()
                .unwrap_or(Member {
                    id: from,
                    meta: Value::Null,
                });
            let rest: Vec<Value> = args.collect();
            self.listeners.event(&name, &rest, &from);
            return;
        }
        let Some(change) = args.next() else { return };
        let told = if let Some(m) = change
            .get("joined")
            .or_else(|| change.get("updated"))
            .and_then(member)
        {
            Told::Joined(m)
        } else if let Some(id) = change.get("left").and_then(Value::as_str) {
            Told::Left(id.to_string())
        } else {
            return;
        };
        if let Some((_, kept)) = &mut *self.told.borrow_mut() {
            kept.push(told.clone());
        }
        let mut presence = self.presence.borrow_mut();
        let change = match told {
            Told::Joined(m) => presence.joined(m),
            Told::Left(id) => presence.left(&id),
        };
        drop(presence);
        self.report(change.into_iter().collect());
    }

    fn report(&self, changes: Vec<Change<Value>>) {
        for c in changes {
            self.emit_presence(&match c {
                Change::Join(m) => PresenceEvent::Join(m),
                Change::Leave(m) => PresenceEvent::Leave(m),
                Change::Update(m) => PresenceEvent::Update(m),
            });
        }
    }

    fn emit_presence(&self, e: &PresenceEvent) {
        self.listeners.own(|f| {
            f(e);
            true
        });
    }
}

impl Listeners for RoomState {
    fn remove(&self, id: u64) {
        self.listeners.registry().remove(id);
    }
}

impl Drop for RoomState {
    fn drop(&mut self) {
        // The last handle is gone: leave the room, so the others see it go.
        if self.want.get() {
            let _ = self.socket.emit_many("rtio:leave", &[&&*self.name]);
        }
    }
}

/// A member from the server's JSON (`{ id, meta }`).
fn member(v: &Value) -> Option<Member> {
    Some(Member {
        id: v.get("id")?.as_str()?.to_string(),
        meta: v.get("meta").cloned().unwrap_or(Value::Null),
    })
}
