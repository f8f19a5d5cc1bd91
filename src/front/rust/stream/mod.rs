//! The stream client of the SSE and plain-WebSocket modes (`MODES.md`): one reconnecting
//! connection over a mode ([`sse`], [`ws`]), with the emitter, acks, rooms, the heartbeat and
//! the connection's state that both share. [`Sse`](sse::Sse) and [`Ws`](ws::Ws) are this client
//! over their mode; the methods of both are here, each mode's own in its module.

pub mod sse;
pub mod ws;

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::emitter::{
    lifecycle, typed, warn, AckFuture, AckOwner, AckReply, AckSender, Emitter, Handler, Listeners,
    Subscription, RESERVED,
};
use super::options::ClientOptions;
use super::payload::erased::Arg;
use crate::session::stream::StreamConfig;
use crate::shell::http;
use crate::shell::stream_link::{StreamHost, StreamLink};

pub use super::error::StreamError as Error;
pub use crate::session::stream::StreamClosed;
pub use crate::shell::stream_link::StreamEvent;

use conn::{Delivery, Hooks, Inner, Outgoing, StreamListener};

/// A mode of the stream client: [`sse::SseMode`] or [`ws::WsMode`].
pub trait Mode: Hooks {}

/// A raw frame of the plain-WebSocket mode: received when it is not an envelope (or with
/// [`WsOptions::envelope`](ws::WsOptions::envelope) off), written with
/// [`Ws::send_raw`](ws::Ws::send_raw).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Message::Text(s)
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Message::Text(s.to_string())
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Message::Binary(b)
    }
}

impl From<&[u8]> for Message {
    fn from(b: &[u8]) -> Self {
        Message::Binary(b.to_vec())
    }
}

// ---------------------------------------------------------------------------------------------
// Options

/// Options of a stream client ([`SseOptions`](sse::SseOptions), [`WsOptions`](ws::WsOptions)):
/// every client's, the stream clients' (rooms, meta, `auto_connect`) and the mode's own; the
/// defaults are `MODES.md`'s.
pub type StreamOptions<M> = ClientOptions<M>;

/// The options of both stream modes (private: reached through [`StreamOptions`]).
#[derive(Debug, Clone)]
pub struct StreamParts {
    auto_connect: bool,
    rooms: Vec<String>,
    meta: Option<String>,
}

impl Default for StreamParts {
    fn default() -> Self {
        StreamParts {
            auto_connect: true,
            rooms: Vec::new(),
            meta: None,
        }
    }
}

impl<M: Mode> ClientOptions<M> {
    /// Whether `connect` connects at once (default true); else call
    /// [`open`](StreamClient::open).
    pub fn auto_connect(mut self, on: bool) -> Self {
        M::stream_mut(&mut self.own).auto_connect = on;
        self
    }

    /// Adds a room to be in (the query parameter `room`, repeated).
    pub fn room(mut self, room: impl Into<String>) -> Self {
        let room = room.into();
        let rooms = &mut M::stream_mut(&mut self.own).rooms;
        if !rooms.contains(&room) {
            rooms.push(room);
        }
        self
    }

    /// Adds rooms to be in.
    pub fn rooms<S: Into<String>>(mut self, rooms: impl IntoIterator<Item = S>) -> Self {
        for r in rooms {
            self = self.room(r);
        }
        self
    }

    /// A JSON value describing this client to its rooms' other members, sent as the query
    /// parameter `meta`. A value that does not serialize is ignored.
    pub fn meta(mut self, meta: &impl Serialize) -> Self {
        M::stream_mut(&mut self.own).meta = serde_json::to_string(meta).ok();
        self
    }

    /// The stream's configuration, with the mode's watchdog and heartbeat.
    fn stream_config(&self) -> StreamConfig {
        let (idle_timeout, ping_interval) = M::heartbeat(&self.own);
        StreamConfig {
            backoff: self.backoff,
            reconnection: self.reconnection,
            attempts: self.reconnection_attempts,
            idle_timeout,
            ping_interval,
            connect_timeout: self.connect_timeout_ms(),
            max_buffer: self.max_buffer,
            seed: crate::shell::clock::seed(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The connection

/// What both modes share, and what a mode supplies. Private: the modes are sealed.
mod conn {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use super::{Error, Message, StreamEvent};
    use crate::front::rust::emitter::{AckReply, AckSender, Emitter};
    use crate::front::rust::options::kind::Kind;
    use crate::shell::stream_link::StreamLink;

    /// What a stream event listener gets besides the arguments: the raw text (SSE's `data:`)
    /// and the sender's request for an ack (the plain-WebSocket envelope's).
    pub struct Extra {
        pub raw: Option<String>,
        pub ack: Option<AckSender<Error>>,
    }

    /// A stream client's own kinds of listener.
    pub enum StreamListener {
        State(Box<dyn FnMut(&StreamEvent)>),
        ConnectError(Box<dyn FnMut(&Error)>),
        Message(Box<dyn FnMut(&Message)>),
    }

    /// What the client sends, held while the connection is down.
    pub enum Outgoing {
        /// An emit: its arguments' JSON texts, the room it is for (`emit_to`) and the id of the
        /// ack it asks for.
        Emit {
            event: String,
            args: Vec<String>,
            room: Option<String>,
            ack: Option<u64>,
        },
        /// A raw frame.
        Raw(Message),
    }

    /// What is delivered to user code: the stream's lifecycle, and what the mode received.
    pub enum Delivery<D> {
        State(StreamEvent),
        Mode(D),
    }

    impl<D> From<StreamEvent> for Delivery<D> {
        fn from(e: StreamEvent) -> Self {
            Delivery::State(e)
        }
    }

    /// An emit waiting for its ack.
    pub struct PendingAck {
        pub id: u64,
        /// Written on the current connection (so it fails when that one is lost, in a mode
        /// whose acks come on the connection).
        pub sent: bool,
        pub reply: AckReply<Error>,
    }

    /// A mode's part of the client: its options (its kind's), its transport, and the hooks the
    /// client calls.
    pub trait Hooks: Kind + Sized + 'static {
        /// The stream clients' options among the mode's own.
        fn stream(opts: &Self::Options) -> &super::StreamParts;
        /// The same, to change.
        fn stream_mut(opts: &mut Self::Options) -> &mut super::StreamParts;
        /// The mode's transport and what it keeps of the connection.
        type State;
        /// What the mode's transport delivers.
        type Delivery;
        /// The schemes a URL may have (`http(s)` ones become `ws(s)` for a WebSocket).
        const SCHEMES: &'static [&'static str];
        /// Whether acks come on the connection, so that losing it fails those written on it.
        const ACKS_ON_CONNECTION: bool;

        /// The mode's state for these options, `url` the resolved one.
        fn state(opts: &Self::Options, url: &str) -> Result<Self::State, Error>;
        /// The idle timeout and the heartbeat period, in milliseconds.
        fn heartbeat(opts: &Self::Options) -> (Option<u64>, Option<u64>);
        /// Opens the transport, closing any previous one; false if it could not start.
        fn open(inner: &Rc<Inner<Self>>) -> bool;
        /// Closes the transport.
        fn close(inner: &Inner<Self>);
        /// Whether a transport is open or opening.
        fn has_transport(inner: &Inner<Self>) -> bool;
        /// Writes one item; false when the transport failed.
        fn write(inner: &Rc<Inner<Self>>, item: Outgoing) -> bool;
        /// Writes the heartbeat; false when the transport failed.
        fn ping(inner: &Inner<Self>) -> bool;
        /// Delivers what the transport received.
        fn deliver(inner: &Rc<Inner<Self>>, delivery: Self::Delivery);
        /// A listener for the event `name` came or went.
        fn listening(_inner: &Inner<Self>, _name: &str, _on: bool) {}
        /// The error a failed attempt reports to `on_connect_error`.
        fn connect_error(_inner: &Inner<Self>, reason: super::StreamClosed) -> Error {
            Error::Transport(reason)
        }
    }

    /// One connection of a stream client.
    pub struct Inner<M: Hooks> {
        pub(crate) link: StreamLink<Inner<M>>,
        pub(crate) url: String,
        pub(crate) opts: super::ClientOptions<M>,
        pub(crate) listeners: Emitter<Extra, StreamListener>,
        pub(crate) acks: RefCell<Vec<PendingAck>>,
        pub(crate) next_ack: Cell<u64>,
        /// Counts connections: an ack the server asked for on an earlier one is not sent.
        pub(crate) generation: Cell<u64>,
        pub(crate) rooms: RefCell<Vec<String>>,
        /// The id the server gave in its last `rtio:hello`.
        pub(crate) id: RefCell<Option<String>>,
        /// A reconnection for new rooms is scheduled.
        pub(crate) rejoin: Cell<bool>,
        pub(crate) mode: M::State,
    }
}

impl<M: Hooks> Inner<M> {
    /// The connection's URL for the next attempt: the rooms, the meta, `extra` (the mode's)
    /// and the user's query parameters.
    pub(crate) fn url_with(&self, extra: &[(&str, &str)]) -> String {
        let rooms = self.rooms.borrow();
        let mut pairs: Vec<(&str, &str)> = rooms.iter().map(|r| ("room", r.as_str())).collect();
        if let Some(meta) = &M::stream(&self.opts.own).meta {
            pairs.push(("meta", meta));
        }
        pairs.extend_from_slice(extra);
        for (k, v) in &self.opts.query {
            pairs.push((k, v));
        }
        http::with_query(&self.url, &pairs)
    }

    /// An event arrived: its name, arguments, and what the mode adds. Lifecycle names are
    /// dropped (a server must not fake them); the rooms convention's events are the client's.
    pub(crate) fn event(&self, name: &str, args: &[Value], extra: conn::Extra) {
        if lifecycle(name) {
            return warn(&format!(
                "rtio: dropped a server event under the reserved name \"{name}\""
            ));
        }
        if name == "rtio:hello" {
            if let Some(id) = args.first().and_then(hello_id) {
                *self.id.borrow_mut() = Some(id);
            }
        }
        if name.starts_with("rtio:") {
            return;
        }
        self.listeners.event(name, args, &extra);
    }

    /// A raw message arrived.
    pub(crate) fn message(&self, message: &Message) {
        self.listeners.own(|h| match h {
            StreamListener::Message(f) => {
                f(message);
                true
            }
            _ => false,
        });
    }

    /// Settles the pending ack `id`; an unknown id is ignored.
    pub(crate) fn complete_ack(&self, id: u64, answer: Result<Vec<Value>, Error>) {
        let pending = {
            let mut acks = self.acks.borrow_mut();
            let at = acks.iter().position(|a| a.id == id);
            at.map(|at| acks.remove(at))
        };
        if let Some(a) = pending {
            a.reply.complete(answer);
        }
    }

    /// Whether an emit waits for ack `id`.
    pub(crate) fn is_pending(&self, id: u64) -> bool {
        self.acks.borrow().iter().any(|a| a.id == id)
    }

    /// Notes that the request of ack `id` was written on the current connection.
    pub(crate) fn sent(&self, id: u64) {
        if let Some(a) = self.acks.borrow_mut().iter_mut().find(|a| a.id == id) {
            a.sent = true;
        }
    }

    /// A sender for the ack the server asks for as `id` on the current connection.
    pub(crate) fn ack_sender(self: &Rc<Self>, id: u64) -> AckSender<Error> {
        let owner: Weak<dyn super::emitter::Answer<Error>> = Rc::downgrade(self) as Weak<Self>;
        AckSender::new(owner, id, self.generation.get())
    }

    /// Reconnects with the rooms as they are now, if a connection made with the old ones is
    /// open or opening.
    fn reopen(self: &Rc<Self>) {
        self.rejoin.set(false);
        if M::has_transport(self) && self.link.is_active() {
            StreamLink::apply(self, |s, now| {
                s.disconnect();
                s.connect(now);
            });
        }
    }

    /// Fails the acks written on the connection that was lost.
    fn fail_sent_acks(&self) {
        let lost: Vec<conn::PendingAck> = {
            let mut acks = self.acks.borrow_mut();
            let (lost, kept) = std::mem::take(&mut *acks).into_iter().partition(|a| a.sent);
            *acks = kept;
            lost
        };
        for a in lost {
            a.reply.complete(Err(Error::Disconnected));
        }
    }

    fn state(&self, e: StreamEvent) {
        match e {
            StreamEvent::Connect { .. } => {
                self.generation.set(self.generation.get().wrapping_add(1));
            }
            StreamEvent::Disconnect(_) if M::ACKS_ON_CONNECTION => self.fail_sent_acks(),
            _ => {}
        }
        self.listeners.own(|h| match h {
            StreamListener::State(f) => {
                f(&e);
                true
            }
            _ => false,
        });
        if let StreamEvent::ConnectError { reason, .. } = e {
            let error = M::connect_error(self, reason);
            self.listeners.own(|h| match h {
                StreamListener::ConnectError(f) => {
                    f(&error);
                    true
                }
                _ => false,
            });
        }
    }
}

/// The id in an `rtio:hello`'s data: `{"id": id}`, or that object as the first element of an
/// array.
fn hello_id(data: &Value) -> Option<String> {
    let obj = match data {
        Value::Array(items) => items.first()?,
        v => v,
    };
    match obj.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl<M: Hooks> StreamHost for Inner<M> {
    type Item = Outgoing;
    type Event = Delivery<M::Delivery>;

    fn link(&self) -> &StreamLink<Self> {
        &self.link
    }

    fn open(self: &Rc<Self>) -> bool {
        M::open(self)
    }

    fn close(&self) {
        M::close(self)
    }

    fn write(self: &Rc<Self>, item: Outgoing) -> bool {
        if let Outgoing::Emit { ack: Some(id), .. } = &item {
            self.sent(*id);
        }
        M::write(self, item)
    }

    fn ping(&self) -> bool {
        M::ping(self)
    }

    fn deliver(self: &Rc<Self>, delivery: Self::Event) {
        match delivery {
            Delivery::State(e) => self.state(e),
            Delivery::Mode(d) => M::deliver(self, d),
        }
    }
}

impl<M: Hooks> Listeners for Inner<M> {
    fn remove(&self, id: u64) {
        if let Some(name) = self.listeners.registry().remove(id) {
            if !self.listeners.registry().has_key(&name) {
                M::listening(self, &name, false);
            }
        }
    }
}

impl<M: Hooks> AckOwner for Inner<M> {
    /// The future times itself out.
    fn time_out(&self, _: u64, _: Duration) -> bool {
        false
    }

    fn forget(&self, id: u64) {
        if let Ok(mut acks) = self.acks.try_borrow_mut() {
            acks.retain(|a| a.id != id);
        }
    }
}

impl<M: Hooks> super::emitter::Answer<Error> for Inner<M> {
    /// Answers on the connection the request came on, or not at all (the envelope's
    /// `{"ack": id, "args": [...]}`).
    fn answer(self: Rc<Self>, id: u64, generation: u64, args: &[&dyn Arg]) -> Result<(), Error> {
        let args = arg_texts(args)?;
        if self.generation.get() != generation {
            return Ok(());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let frame = Outgoing::Raw(Message::Text(crate::codec::envelope::ack(id, &args)));
        StreamLink::apply(&self, |s, now| s.send_volatile(frame, now));
        Ok(())
    }
}

impl<M: Hooks> Drop for Inner<M> {
    fn drop(&mut self) {
        for a in self.acks.get_mut().drain(..) {
            a.reply.complete(Err(Error::Disconnected));
        }
    }
}

/// Each argument as JSON text.
fn arg_texts(args: &[&dyn Arg]) -> Result<Vec<String>, Error> {
    args.iter()
        .map(|a| a.to_json().map_err(Error::Encode))
        .collect()
}

/// Refuses the names `emit` may not use.
fn check_name(event: &str) -> Result<(), Error> {
    if RESERVED.contains(&event) || event.starts_with("rtio:") {
        Err(Error::Reserved(event.into()))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Handles

/// A connection of a stream client over mode `M`: [`Sse`](sse::Sse) or [`Ws`](ws::Ws). Cheap
/// to clone; every clone is the same connection, which closes when the last handle is dropped
/// (no transport, timer or listener is left) or on [`disconnect`](Self::disconnect).
///
/// It reconnects with backoff and jitter, holds what is sent while down (up to
/// [`max_buffer`](ClientOptions::max_buffer)), and watches the heartbeat. A listener that must reach its own
/// connection should capture a [`WeakStreamClient`]: a strong handle captured by a listener
/// keeps the connection alive forever.
pub struct StreamClient<M: Mode> {
    inner: Rc<Inner<M>>,
}

impl<M: Mode> Clone for StreamClient<M> {
    fn clone(&self) -> Self {
        StreamClient {
            inner: self.inner.clone(),
        }
    }
}

/// Handles are equal when they are handles of the same connection.
impl<M: Mode> PartialEq for StreamClient<M> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<M: Mode> Eq for StreamClient<M> {}

impl<M: Mode> std::fmt::Debug for StreamClient<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamClient")
            .field("url", &self.inner.url)
            .field("connected", &self.connected())
            .field("rooms", &*self.inner.rooms.borrow())
            .finish_non_exhaustive()
    }
}

/// A handle that does not keep its [`StreamClient`] alive; see [`StreamClient::downgrade`].
pub struct WeakStreamClient<M: Mode> {
    inner: Weak<Inner<M>>,
}

impl<M: Mode> Clone for WeakStreamClient<M> {
    fn clone(&self) -> Self {
        WeakStreamClient {
            inner: self.inner.clone(),
        }
    }
}

impl<M: Mode> std::fmt::Debug for WeakStreamClient<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakStreamClient").finish_non_exhaustive()
    }
}

impl<M: Mode> WeakStreamClient<M> {
    /// The connection, if some [`StreamClient`] handle still holds it.
    pub fn upgrade(&self) -> Option<StreamClient<M>> {
        self.inner.upgrade().map(|inner| StreamClient { inner })
    }
}

impl<M: Mode> StreamClient<M> {
    /// Connects to `url` (absolute, or relative to the page). Returns at once; the connection
    /// proceeds in the background (see [`on_state`](Self::on_state),
    /// [`connected`](Self::connected)).
    pub fn connect(url: &str, opts: StreamOptions<M>) -> Result<Self, Error> {
        let url = http::resolve(url, M::SCHEMES).ok_or_else(|| Error::InvalidUrl(url.into()))?;
        let mode = M::state(&opts.own, &url)?;
        let inner = Rc::new(Inner {
            link: StreamLink::new(opts.stream_config()),
            url,
            listeners: Emitter::default(),
            acks: RefCell::new(Vec::new()),
            next_ack: Cell::new(0),
            generation: Cell::new(0),
            rooms: RefCell::new(M::stream(&opts.own).rooms.clone()),
            id: RefCell::new(None),
            rejoin: Cell::new(false),
            mode,
            opts,
        });
        StreamLink::start(&inner);
        let client = StreamClient { inner };
        if M::stream(&client.inner.opts.own).auto_connect {
            client.open();
        }
        Ok(client)
    }

    /// A handle for listeners that use their own connection without keeping it alive.
    pub fn downgrade(&self) -> WeakStreamClient<M> {
        WeakStreamClient {
            inner: Rc::downgrade(&self.inner),
        }
    }

    /// (Re)connects after [`disconnect`](Self::disconnect), after the reconnection attempts ran
    /// out, or without [`auto_connect`](ClientOptions::auto_connect). Nothing while connected or trying.
    pub fn open(&self) {
        StreamLink::apply(&self.inner, |s, now| s.connect(now));
    }

    /// Closes the connection (`io client disconnect`); no reconnection follows until
    /// [`open`](Self::open). What is sent meanwhile is held for then.
    pub fn disconnect(&self) {
        StreamLink::apply(&self.inner, |s, _| s.disconnect());
    }

    /// Whether the connection is open.
    pub fn connected(&self) -> bool {
        self.inner.link.is_open()
    }

    /// Whether the connection is open or being (re)connected.
    pub fn active(&self) -> bool {
        self.inner.link.is_active()
    }

    /// How many listeners are registered now (event, catch-all and state listeners): one per
    /// live [`Subscription`], so a UI can check that its components release theirs.
    pub fn listener_count(&self) -> usize {
        self.inner.listeners.registry().len()
    }

    /// The id the server gave this client in its last `rtio:hello` event, if it sent one.
    pub fn id(&self) -> Option<String> {
        self.inner.id.borrow().clone()
    }

    /// The rooms this client asks to be in.
    pub fn rooms(&self) -> Vec<String> {
        self.inner.rooms.borrow().clone()
    }

    /// Joins `room`: the connection reconnects with the new set of rooms (changes made in the
    /// same tick make one reconnection, reported as a `Disconnect(Client)` and a `Connect`).
    pub fn join(&self, room: &str) {
        {
            let mut rooms = self.inner.rooms.borrow_mut();
            if rooms.iter().any(|r| r == room) {
                return;
            }
            rooms.push(room.to_string());
        }
        self.schedule_reopen();
    }

    /// Leaves `room` (see [`join`](Self::join)).
    pub fn leave(&self, room: &str) {
        {
            let mut rooms = self.inner.rooms.borrow_mut();
            let before = rooms.len();
            rooms.retain(|r| r != room);
            if rooms.len() == before {
                return;
            }
        }
        self.schedule_reopen();
    }

    fn schedule_reopen(&self) {
        if self.inner.rejoin.replace(true) {
            return;
        }
        let weak = Rc::downgrade(&self.inner);
        crate::shell::spawn(async move {
            if let Some(inner) = weak.upgrade() {
                inner.reopen();
            }
        });
    }

    fn add(
        &self,
        event: Option<&str>,
        handler: Handler<conn::Extra, StreamListener>,
    ) -> Subscription {
        let owner: Weak<dyn Listeners> = Rc::downgrade(&self.inner) as Weak<Inner<M>>;
        let sub = self.inner.listeners.add(owner, false, event, handler);
        if let Some(name) = event {
            M::listening(&self.inner, name, true);
        }
        sub
    }

    /// An event listener that reads the arguments as `T` and passes what the mode adds.
    fn on_event<T, F>(&self, event: &str, f: F) -> Subscription
    where
        T: DeserializeOwned + 'static,
        F: FnMut(T, &conn::Extra) + 'static,
    {
        self.add(Some(event), typed("", event, f))
    }

    /// Calls `f` with each `event`'s payload deserialized as `T` (none reads as `null`, one as
    /// itself, several as a tuple; SSE's `data:` parsed as JSON, or the text itself as a JSON
    /// string when it is not JSON). A payload that does not deserialize is skipped with a
    /// console warning. The listener lives until the returned [`Subscription`] is dropped.
    pub fn on<T, F>(&self, event: &str, mut f: F) -> Subscription
    where
        T: DeserializeOwned + 'static,
        F: FnMut(T) + 'static,
    {
        self.on_event(event, move |v, _| f(v))
    }

    /// Calls `f` with every change of the connection's state.
    pub fn on_state(&self, f: impl FnMut(&StreamEvent) + 'static) -> Subscription {
        self.add(None, Handler::Own(StreamListener::State(Box::new(f))))
    }

    /// Calls `f` each time the connection opens (first connection and reconnections).
    pub fn on_connect(&self, mut f: impl FnMut() + 'static) -> Subscription {
        self.on_state(move |e| {
            if let StreamEvent::Connect { .. } = e {
                f()
            }
        })
    }

    /// Calls `f` each time the open connection goes down, with the reason.
    pub fn on_disconnect(&self, mut f: impl FnMut(StreamClosed) + 'static) -> Subscription {
        self.on_state(move |e| {
            if let StreamEvent::Disconnect(why) = e {
                f(*why)
            }
        })
    }

    /// Calls `f` each time an attempt to connect fails, with why: [`Error::Http`] when an SSE
    /// stream's URL answered an error status (with its body), else [`Error::Transport`] (the
    /// browser hides a refused WebSocket upgrade's status).
    pub fn on_connect_error(&self, f: impl FnMut(&Error) + 'static) -> Subscription {
        self.add(
            None,
            Handler::Own(StreamListener::ConnectError(Box::new(f))),
        )
    }

    /// Removes every listener of `event` (including ones whose [`Subscription`] is still held).
    pub fn off(&self, event: &str) {
        self.inner.listeners.registry().remove_key(event);
        M::listening(&self.inner, event, false);
    }

    /// Sends one item now, or holds it while down; the buffer being full fails it (and its
    /// ack).
    fn send(&self, item: Outgoing) -> Result<(), Error> {
        match StreamLink::apply(&self.inner, |s, now| s.send(item, now)) {
            Some(Ok(())) => Ok(()),
            Some(Err(Outgoing::Emit { ack: Some(id), .. })) => {
                self.inner.complete_ack(id, Err(Error::BufferFull));
                Err(Error::BufferFull)
            }
            _ => Err(Error::BufferFull),
        }
    }

    fn emit_item(
        event: &str,
        args: &[&dyn Arg],
        room: Option<&str>,
        ack: Option<u64>,
    ) -> Result<Outgoing, Error> {
        check_name(event)?;
        Ok(Outgoing::Emit {
            event: event.to_string(),
            args: arg_texts(args)?,
            room: room.map(str::to_string),
            ack,
        })
    }

    /// Emits `event` with one argument. While the connection is down it is held (up to
    /// [`max_buffer`](ClientOptions::max_buffer)) and sent once it is up, in order.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, payload: &T) -> Result<(), Error> {
        self.send(Self::emit_item(event, &[&payload], None, None)?)
    }

    /// Emits `event` with any number of arguments of any serializable types.
    pub fn emit_many(&self, event: &str, args: &[&dyn Arg]) -> Result<(), Error> {
        self.send(Self::emit_item(event, args, None, None)?)
    }

    /// Emits `event` to the other members of `room` (SSE: the `POST` carries `"room"`;
    /// WebSocket: `["rtio:to", room, event, payload]`).
    pub fn emit_to<T: Serialize + ?Sized>(
        &self,
        room: &str,
        event: &str,
        payload: &T,
    ) -> Result<(), Error> {
        self.send(Self::emit_item(event, &[&payload], Some(room), None)?)
    }

    /// Emits `event` only if the connection is open now (`volatile`); returns whether it was
    /// sent.
    pub fn emit_volatile<T: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &T,
    ) -> Result<bool, Error> {
        let item = Self::emit_item(event, &[&payload], None, None)?;
        Ok(StreamLink::apply(&self.inner, |s, now| s.send_volatile(item, now)).unwrap_or(false))
    }

    /// Emits `event` with one argument and waits for its acknowledgement (SSE: the answer to
    /// the emit's `POST`, its body parsed as JSON, an answer that is not 2xx failing with
    /// [`Error::Http`]; WebSocket: the server's `{"ack": n, "args": [...]}`), deserialized as
    /// `R`. Fails with [`Error::Disconnected`] when a WebSocket connection is lost after the
    /// request was written. The timeout is [`ack_timeout`](ClientOptions::ack_timeout) unless
    /// set with
    /// [`AckFuture::timeout`]. Dropping the future stops waiting (the emit still goes out).
    pub fn emit_with_ack<R: DeserializeOwned, T: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &T,
    ) -> AckFuture<R, Error> {
        self.emit_many_with_ack(event, &[&payload])
    }

    /// Like [`emit_with_ack`](Self::emit_with_ack), with any number of arguments.
    pub fn emit_many_with_ack<R: DeserializeOwned>(
        &self,
        event: &str,
        args: &[&dyn Arg],
    ) -> AckFuture<R, Error> {
        let inner = &self.inner;
        let reply = AckReply::default();
        let id = inner.next_ack.get();
        inner.next_ack.set(id.wrapping_add(1));
        let mut registered = None;
        match Self::emit_item(event, args, None, Some(id)) {
            Err(e) => {
                reply.complete(Err(e));
            }
            Ok(item) => {
                inner.acks.borrow_mut().push(conn::PendingAck {
                    id,
                    sent: false,
                    reply: reply.clone(),
                });
                registered = Some(id);
                if self.send(item).is_err() {
                    registered = None;
                }
            }
        }
        let owner: Weak<dyn AckOwner> = Rc::downgrade(inner) as Weak<Inner<M>>;
        let fut = AckFuture::new(reply, registered.map(|id| (owner, id)));
        match inner.opts.ack_timeout {
            Some(t) => fut.timeout(t),
            None => fut,
        }
    }
}

super::event::typed_events!(impl [M: Mode] StreamClient<M>, Error, Error);
