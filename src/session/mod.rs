//! The connection state machine: one Engine.IO connection and the Socket.IO namespaces
//! multiplexed on it. Pure and deterministic: no IO, no clock, no browser.
//!
//! # How to drive it
//!
//! A [`Session`] has four kinds of methods, in the style of sans-IO protocol crates:
//!
//! - **commands** from the user: [`connect`](Session::connect),
//!   [`disconnect`](Session::disconnect), [`emit`](Session::emit), [`ack`](Session::ack),
//!   [`close`](Session::close);
//! - **inputs** from the transport and the clock: [`handle_transport_open`](Session::handle_transport_open),
//!   [`handle_text`](Session::handle_text), [`handle_binary`](Session::handle_binary),
//!   [`handle_transport_close`](Session::handle_transport_close),
//!   [`handle_timeout`](Session::handle_timeout);
//! - **outputs** to act on: [`poll_output`](Session::poll_output) (frames to write, transport
//!   commands, events for the front door, one queue in the order they were produced) and
//!   [`poll_timeout`](Session::poll_timeout) (when to call `handle_timeout` next);
//! - **getters**: [`is_connected`](Session::is_connected), [`is_idle`](Session::is_idle), …
//!
//! After every command or input, the caller takes the outputs until there are none, acting on
//! each in turn (a final `DISCONNECT` comes before the transport's `Close`), then re-arms its
//! timer from `poll_timeout`. Time is passed in as [`Millis`] on any clock that does not go
//! backwards.
//!
//! The session is generic over what it carries but never looks into: `A`, a packet's list of
//! binary attachments (see [`Attachments`]), and `P`, an event's JSON payload (see
//! [`Frame::Payload`]). Natively `P` is a `String`; the npm build keeps payloads as JavaScript
//! strings, so the wasm only ever reads packet headers.

mod ack;
pub mod backoff;

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;

use crate::codec::engine::{EngineKind, EnginePacket, Handshake};
use crate::codec::json::{self, Object as _};
use crate::codec::socket::{SocketKind, SocketPacket, MAX_ACK_ID};
use crate::codec::DecodeError;
use ack::{AckTable, PendingAck};

/// Milliseconds on the caller's clock.
pub type Millis = u64;

/// A namespace name, shared by the session and the events it reports (cloning it copies
/// nothing).
pub type Nsp = Rc<String>;

/// Tunables of a session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// How long to wait for the transport to open and the server's handshake, in ms.
    pub connect_timeout: Millis,
    /// How many packets a namespace keeps while it is not connected, before `emit` fails with
    /// [`EmitError::BufferFull`].
    pub max_buffer: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            connect_timeout: 20_000,
            max_buffer: 1_000,
        }
    }
}

/// Why a namespace (or the whole connection) was disconnected — the closed set of
/// Socket.IO's reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The server disconnected the socket (`socket.disconnect()` on the server).
    IoServerDisconnect,
    /// The client disconnected on purpose.
    IoClientDisconnect,
    /// No ping from the server within `pingInterval + pingTimeout`.
    PingTimeout,
    /// The transport was closed (server gone, network lost).
    TransportClose,
    /// The transport reported an error.
    TransportError,
    /// The server sent a frame that could not be decoded.
    ParseError,
}

impl DisconnectReason {
    /// The reason as Socket.IO spells it, e.g. `"io server disconnect"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::IoServerDisconnect => "io server disconnect",
            DisconnectReason::IoClientDisconnect => "io client disconnect",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
        }
    }
}

/// Why an acknowledgement will never come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckFailure {
    /// Its timeout elapsed first.
    Timeout,
    /// The namespace disconnected after the packet was sent.
    Disconnected,
}

/// Why the transport closed, as reported by the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportClosed {
    /// The transport closed (cleanly or not).
    Closed,
    /// The transport failed with an error.
    Error,
}

/// Errors of [`Session::emit`]. None of them is fatal to the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmitError {
    /// The namespace is not connected and its buffer already holds
    /// [`SessionConfig::max_buffer`] packets; the packet was not queued.
    BufferFull,
}

impl AckFailure {
    /// The failure as the JavaScript bridge spells it: `"timeout"` or `"disconnected"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AckFailure::Timeout => "timeout",
            AckFailure::Disconnected => "disconnected",
        }
    }
}

impl EmitError {
    /// A description a person understands.
    pub fn as_str(self) -> &'static str {
        match self {
            EmitError::BufferFull => "send buffer is full while disconnected",
        }
    }
}

/// A request for a transport action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportCommand {
    /// Open a new transport, closing any previous one first; report with
    /// `handle_transport_open` / `handle_transport_close`.
    Open,
    /// Close the transport; the session already considers it closed.
    Close,
}

/// The binary attachments of one packet, in placeholder order (`Vec<Vec<u8>>` natively, a JS
/// `Array` of `ArrayBuffer`s in the browser). The session counts them and adds received ones;
/// it never looks inside.
pub trait Attachments: Default {
    /// One attachment (one binary frame).
    type Item;
    /// How many attachments there are.
    fn count(&self) -> usize;
    /// Appends one attachment.
    fn add(&mut self, item: Self::Item);
}

impl<T> Attachments for Vec<T> {
    type Item = T;
    fn count(&self) -> usize {
        self.len()
    }
    fn add(&mut self, item: T) {
        self.push(item);
    }
}

/// A received text frame, as the shell hands it over.
///
/// The session reads the packet header from [`text`](Frame::text) and asks the frame to
/// [`cut`](Frame::cut) the payload that follows. A shell that holds frames outside the
/// session's memory may pass only the start of a long frame ([`is_whole`](Frame::is_whole)
/// false): the header of an event or ack is all the session reads. When it needs more (a
/// handshake, a namespace's CONNECT), [`Session::handle_text`] returns `false` and the shell
/// passes the whole frame.
pub trait Frame {
    /// The payload type cut from the frame: the JSON payload of an event or acknowledgement
    /// (`[event, ...args]` or `[...args]`, binary attachments replaced by placeholders), which
    /// the session stores and forwards but never reads.
    type Payload;
    /// The frame's text, or its start when [`is_whole`](Frame::is_whole) is false.
    fn text(&self) -> &str;
    /// Whether [`text`](Frame::text) is the whole frame.
    fn is_whole(&self) -> bool {
        true
    }
    /// The frame from byte `at` of [`text`](Frame::text) to its end, as a payload. Called at
    /// most once per frame.
    fn cut(&self, at: usize) -> Self::Payload;
    /// Member `key` of the JSON object at byte `at` of a whole frame, if it is a string.
    fn string(&self, at: usize, key: &str) -> Option<String> {
        self.text().get(at..)?.string(key)
    }
    /// Member `key` of the JSON object at byte `at` of a whole frame, if it is a non-negative
    /// integer.
    fn number(&self, at: usize, key: &str) -> Option<u64> {
        self.text().get(at..)?.number(key)
    }
}

/// The JSON object at byte `.1` of frame `.0`, read through the frame.
struct Members<'a, F>(&'a F, usize);

impl<F: Frame> json::Object for Members<'_, F> {
    fn string(&self, key: &str) -> Option<String> {
        self.0.string(self.1, key)
    }
    fn number(&self, key: &str) -> Option<u64> {
        self.0.number(self.1, key)
    }
}

impl<T: AsRef<str> + ?Sized> Frame for &T {
    type Payload = String;
    fn text(&self) -> &str {
        (*self).as_ref()
    }
    fn cut(&self, at: usize) -> String {
        self.text().get(at..).unwrap_or_default().into()
    }
}

/// What to write on the transport: one text frame (one Engine.IO packet), then each
/// attachment as a binary frame. The text frame is `text` followed by `data`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit<A, P = String> {
    /// The whole text frame, or its header when `data` follows.
    pub text: String,
    /// The payload that completes the text frame (events and acks).
    pub data: Option<P>,
    /// The binary frames that follow it (none for most packets).
    pub attachments: A,
}

/// One output of the session (see [`Session::poll_output`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output<A, P = String> {
    /// A frame to write.
    Transmit(Transmit<A, P>),
    /// A transport to open or close.
    Transport(TransportCommand),
    /// An event for the front door.
    Event(SessionEvent<A, P>),
}

/// What a [`SessionEvent`] reports. The discriminants are the event kinds the JavaScript
/// bridge hands to its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A namespace connected; `text` is the socket id the server gave.
    Connect = 0,
    /// A connected namespace disconnected; `reason` says why.
    Disconnect = 1,
    /// The server emitted an event: `data` is `[event, ...args]`, `id` the id to acknowledge
    /// with if the server asked for an ack.
    Event = 2,
    /// The server acknowledged an emit: `id` is the ack id returned by [`Session::emit`],
    /// `data` the ack arguments (a JSON array).
    Ack = 3,
    /// A namespace refused the connection: `data` is the error data the server sent, usually
    /// `{"message": "..."}`. Or the connection failed before the namespace connected: no `data`,
    /// `text` is the message (`"websocket error"` when the transport never opened, else the
    /// reason as [`DisconnectReason::as_str`] spells it) and `reason` says why.
    ConnectError = 4,
    /// The acknowledgement `id` will never come; `failure` says why.
    AckFailed = 5,
    /// The Engine.IO handshake completed; `text` is the Engine.IO session id.
    EngineOpen = 6,
    /// The Engine.IO connection closed; `reason` says why.
    EngineClose = 7,
}

/// Something the front door must deliver: one flat record for every [`EventKind`], the
/// fields a kind does not use left empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEvent<A, P = String> {
    /// What happened.
    pub kind: EventKind,
    /// The namespace (empty for `EngineOpen` and `EngineClose`), shared with the session.
    pub nsp: Nsp,
    /// The kind's text (see [`EventKind`]); for `Disconnect` and `EngineClose` the reason as
    /// [`DisconnectReason::as_str`] spells it, for `AckFailed` `"timeout"` or `"disconnected"`.
    pub text: String,
    /// The payload of `Event`, `Ack` and `ConnectError`.
    pub data: Option<P>,
    /// The ack id of `Event` (if asked), `Ack` and `AckFailed`.
    pub id: Option<u64>,
    /// The binary attachments of `Event` and `Ack`, in placeholder order.
    pub attachments: A,
    /// Why, for `Disconnect`, `EngineClose` and a `ConnectError` without `data`.
    pub reason: Option<DisconnectReason>,
    /// Why, for `AckFailed`.
    pub failure: Option<AckFailure>,
}

impl<A: Default, P> SessionEvent<A, P> {
    /// An event of `kind` on `nsp` with `text`, its other fields empty.
    pub fn new(kind: EventKind, nsp: Nsp, text: String) -> Self {
        SessionEvent {
            kind,
            nsp,
            text,
            data: None,
            id: None,
            attachments: A::default(),
            reason: None,
            failure: None,
        }
    }

    /// A `Disconnect` or `EngineClose` event.
    pub fn closed(kind: EventKind, nsp: Nsp, reason: DisconnectReason) -> Self {
        SessionEvent {
            reason: Some(reason),
            ..SessionEvent::new(kind, nsp, reason.as_str().into())
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    Closed,
    /// Waiting for the transport to open.
    Opening {
        deadline: Millis,
    },
    /// Transport open, waiting for the Engine.IO handshake.
    Handshaking {
        deadline: Millis,
    },
    Open(Handshake),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NspState {
    /// Not connected and not trying.
    Idle,
    /// Wants to connect once the link is open.
    Pending,
    /// CONNECT sent, waiting for the answer.
    Connecting,
    /// Connected (the socket id went out with the `Connect` event).
    Connected,
}

#[derive(Debug)]
struct Outgoing<A, P> {
    data: P,
    attachments: A,
    id: Option<u64>,
}

#[derive(Debug)]
struct Namespace<A, P> {
    name: Nsp,
    auth: Option<String>,
    state: NspState,
    /// Packets emitted while not connected, flushed in order on connect.
    buffer: Vec<Outgoing<A, P>>,
}

/// A packet whose binary attachments are still arriving.
#[derive(Debug)]
struct Partial<A, P> {
    kind: SocketKind,
    nsp: Nsp,
    id: Option<u64>,
    data: P,
    /// How many attachments are still due.
    need: usize,
    got: A,
}

/// One Engine.IO connection and its Socket.IO namespaces. See the [module docs](self).
#[derive(Debug)]
pub struct Session<A, P = String> {
    config: SessionConfig,
    link: Link,
    ping_deadline: Option<Millis>,
    namespaces: Vec<Namespace<A, P>>,
    acks: AckTable,
    next_id: u64,
    partial: Option<Partial<A, P>>,
    /// Outputs not yet taken, oldest first.
    out: Vec<Output<A, P>>,
}

impl<A: Attachments, P> Session<A, P> {
    /// A closed session; nothing happens until [`connect`](Self::connect).
    pub fn new(config: SessionConfig) -> Self {
        Session {
            config,
            link: Link::Closed,
            ping_deadline: None,
            namespaces: Vec::new(),
            acks: AckTable::default(),
            next_id: 0,
            partial: None,
            out: Vec::new(),
        }
    }

    // ---- getters ----

    /// Whether the Engine.IO handshake has completed and the transport is up.
    pub fn is_open(&self) -> bool {
        matches!(self.link, Link::Open(_))
    }

    /// The server's handshake, while the link is open.
    pub fn handshake(&self) -> Option<&Handshake> {
        match &self.link {
            Link::Open(h) => Some(h),
            _ => None,
        }
    }

    /// Whether namespace `nsp` is connected.
    pub fn is_connected(&self, nsp: &str) -> bool {
        self.find(nsp)
            .is_some_and(|n| n.state == NspState::Connected)
    }

    /// How many packets namespace `nsp` holds until it connects.
    pub fn buffered(&self, nsp: &str) -> usize {
        self.find(nsp).map_or(0, |n| n.buffer.len())
    }

    /// How many acknowledgements are awaited.
    pub fn pending_acks(&self) -> usize {
        self.acks.len()
    }

    /// Whether the session holds nothing: no namespace connected or trying, nothing buffered,
    /// no ack awaited. An idle session can be dropped without losing anything.
    pub fn is_idle(&self) -> bool {
        self.acks.len() == 0
            && self
                .namespaces
                .iter()
                .all(|n| n.state == NspState::Idle && n.buffer.is_empty())
    }

    // ---- commands ----

    /// Connects namespace `nsp` with an optional auth payload (JSON object text), opening the
    /// transport if needed. Does nothing if it is already connected or connecting.
    pub fn connect(&mut self, nsp: &str, auth: Option<String>, now: Millis) {
        let link_open = self.is_open();
        let Some(n) = self.entry(nsp) else { return };
        n.auth = auth;
        if !matches!(n.state, NspState::Idle) {
            return;
        }
        if link_open {
            n.state = NspState::Connecting;
            let frame = nsp_frame(SocketKind::Connect, &n.name, n.auth.as_deref());
            self.send_text(frame);
        } else {
            n.state = NspState::Pending;
            if self.link == Link::Closed {
                self.link = Link::Opening {
                    deadline: now.saturating_add(self.config.connect_timeout),
                };
                self.out.push(Output::Transport(TransportCommand::Open));
            }
        }
    }

    /// Disconnects namespace `nsp` on the client's initiative. A connected namespace gets a
    /// `Disconnect` event with [`DisconnectReason::IoClientDisconnect`]. When no namespace
    /// remains active, the transport is closed.
    pub fn disconnect(&mut self, nsp: &str, now: Millis) {
        let Some(at) = self.namespaces.iter().position(|n| *n.name == nsp) else {
            return;
        };
        let link_open = self.is_open();
        let (name, old) = match self.namespaces.get_mut(at) {
            Some(n) => (
                n.name.clone(),
                core::mem::replace(&mut n.state, NspState::Idle),
            ),
            None => return,
        };
        if link_open && matches!(old, NspState::Connecting | NspState::Connected) {
            self.send_text(nsp_frame(SocketKind::Disconnect, &name, None));
        }
        if matches!(old, NspState::Connected) {
            self.fail_sent_acks(&name);
            self.push_closed(
                EventKind::Disconnect,
                name,
                DisconnectReason::IoClientDisconnect,
            );
        }
        self.close_if_unused(now);
    }

    /// Closes the connection for good: every connected namespace gets a `Disconnect` event
    /// with [`DisconnectReason::IoClientDisconnect`], buffered packets are dropped, every
    /// pending ack fails with [`AckFailure::Disconnected`] and the transport is closed.
    pub fn close(&mut self, now: Millis) {
        let mut i = 0;
        while let Some(n) = self.namespaces.get(i) {
            i += 1;
            if !matches!(n.state, NspState::Idle) {
                let name = n.name.clone();
                self.disconnect(&name, now);
            }
        }
        if self.link != Link::Closed {
            self.shut_link(DisconnectReason::IoClientDisconnect);
        }
        for n in &mut self.namespaces {
            n.buffer.clear();
        }
        self.fail_acks(None, None);
    }

    /// Emits `data` (`[event, ...args]`, see [`Frame::Payload`]) with its `attachments` on namespace
    /// `nsp`. With `ack = Some(timeout)`, an acknowledgement is requested and its id returned;
    /// `timeout` (in ms) bounds the wait, `None` waits forever.
    ///
    /// While the namespace is not connected, the packet is buffered and sent on connect.
    pub fn emit(
        &mut self,
        nsp: &str,
        data: P,
        attachments: A,
        ack: Option<Option<Millis>>,
        now: Millis,
    ) -> Result<Option<u64>, EmitError> {
        // Background tabs throttle timers: judge the heartbeat on the clock before writing, so
        // nothing goes into a link that is already dead.
        self.check_heartbeat(now);
        let max_buffer = self.config.max_buffer;
        let link_open = self.is_open();
        let Some(n) = self.entry(nsp) else {
            return Err(EmitError::BufferFull);
        };
        let connected = link_open && matches!(n.state, NspState::Connected);
        if !connected && n.buffer.len() >= max_buffer {
            return Err(EmitError::BufferFull);
        }
        let name = n.name.clone();
        let id = match ack {
            Some(timeout) => {
                let id = self.next_id;
                // Ids wrap within JavaScript's safe integer range.
                self.next_id = if id >= MAX_ACK_ID { 0 } else { id + 1 };
                self.acks.insert(PendingAck {
                    id,
                    nsp: name.clone(),
                    deadline: timeout.map(|t| now.saturating_add(t)),
                    sent: connected,
                });
                Some(id)
            }
            None => None,
        };
        let packet = Outgoing {
            data,
            attachments,
            id,
        };
        if connected {
            self.write(&name, packet);
        } else if let Some(n) = self.find_mut(nsp) {
            n.buffer.push(packet);
        }
        Ok(id)
    }

    /// Changes the timeout of a pending ack to `timeout` ms from `now` (`None`: wait forever).
    /// Returns false if the ack is no longer pending.
    pub fn set_ack_timeout(&mut self, id: u64, timeout: Option<Millis>, now: Millis) -> bool {
        match self.acks.get_mut(id) {
            Some(a) => {
                a.deadline = timeout.map(|t| now.saturating_add(t));
                true
            }
            None => false,
        }
    }

    /// Stops waiting for ack `id` on `nsp`; its answer, if it comes, is ignored.
    pub fn cancel_ack(&mut self, nsp: &str, id: u64) {
        self.acks.take(nsp, id);
    }

    /// Acknowledges the server's event `id` on namespace `nsp` with `data` (`[...args]`, see
    /// [`Frame::Payload`]). Ignored when the namespace is not connected: the server cannot receive it
    /// any more.
    pub fn ack(&mut self, nsp: &str, id: u64, data: P, attachments: A) {
        if !self.is_open() || !self.is_connected(nsp) {
            return;
        }
        self.write_packet(SocketKind::Ack, nsp, Some(id), data, attachments);
    }

    // ---- inputs ----

    /// The transport opened; the server's handshake comes next.
    pub fn handle_transport_open(&mut self, now: Millis) {
        if let Link::Opening { deadline } = self.link {
            let _ = now;
            self.link = Link::Handshaking { deadline };
        }
    }

    /// A text frame arrived.
    ///
    /// Returns `false`, having done nothing, when `frame` is not whole (see [`Frame`]) and its
    /// packet needs all of it; the caller then passes the whole frame.
    pub fn handle_text<F: Frame<Payload = P>>(&mut self, now: Millis, frame: F) -> bool {
        match self.on_text(now, &frame) {
            Ok(()) => true,
            Err(_) if !frame.is_whole() => false,
            Err(e) => {
                self.protocol_error(e);
                true
            }
        }
    }

    /// A binary frame arrived.
    pub fn handle_binary(&mut self, now: Millis, data: A::Item) {
        let _ = now;
        if !self.is_open() {
            return self.protocol_error(DecodeError::UnknownType);
        }
        let Some(partial) = self.partial.as_mut() else {
            // A binary frame nobody announced.
            return self.protocol_error(DecodeError::BadAttachments);
        };
        partial.got.add(data);
        partial.need -= 1;
        if partial.need == 0 {
            if let Some(p) = self.partial.take() {
                self.deliver(p.kind, &p.nsp.clone(), p.id, p.data, p.got);
            }
        }
    }

    /// The transport closed by itself (not after a [`TransportCommand::Close`]).
    pub fn handle_transport_close(&mut self, now: Millis, how: TransportClosed) {
        let _ = now;
        if self.link == Link::Closed {
            return;
        }
        let reason = match how {
            TransportClosed::Closed => DisconnectReason::TransportClose,
            TransportClosed::Error => DisconnectReason::TransportError,
        };
        self.link_lost(reason, false);
    }

    /// The time returned by [`poll_timeout`](Self::poll_timeout) has come (or passed).
    pub fn handle_timeout(&mut self, now: Millis) {
        match self.link {
            Link::Opening { deadline } | Link::Handshaking { deadline } if now >= deadline => {
                self.link_lost(DisconnectReason::TransportClose, true);
            }
            _ => self.check_heartbeat(now),
        }
        self.fail_acks(None, Some(now));
    }

    // ---- outputs ----

    /// The next output to act on, in the order they were produced.
    pub fn poll_output(&mut self) -> Option<Output<A, P>> {
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.remove(0))
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Millis> {
        let link = match self.link {
            Link::Opening { deadline } | Link::Handshaking { deadline } => Some(deadline),
            Link::Open(_) => self.ping_deadline,
            Link::Closed => None,
        };
        match (link, self.acks.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ---- internals ----

    fn find(&self, nsp: &str) -> Option<&Namespace<A, P>> {
        self.namespaces.iter().find(|n| *n.name == nsp)
    }

    fn find_mut(&mut self, nsp: &str) -> Option<&mut Namespace<A, P>> {
        self.namespaces.iter_mut().find(|n| *n.name == nsp)
    }

    /// Namespace `nsp`, added if new (always `Some`: the option spares a panic path).
    fn entry(&mut self, nsp: &str) -> Option<&mut Namespace<A, P>> {
        if self.find(nsp).is_none() {
            self.namespaces.push(Namespace {
                name: Rc::new(nsp.into()),
                auth: None,
                state: NspState::Idle,
                buffer: Vec::new(),
            });
        }
        self.find_mut(nsp)
    }

    fn on_text<F: Frame<Payload = P>>(
        &mut self,
        now: Millis,
        frame: &F,
    ) -> Result<(), DecodeError> {
        let packet = EnginePacket::decode(frame.text())?;
        if packet.kind == EngineKind::Message {
            if let Link::Open(_) = self.link {
                return self.on_socket_packet(frame, packet.data);
            }
        }
        if !frame.is_whole() {
            // Every other packet is read whole.
            return Err(DecodeError::BadPayload);
        }
        match (&self.link, packet.kind) {
            (Link::Handshaking { .. }, EngineKind::Open) => {
                let at = frame.text().len() - packet.data.len();
                let h = Handshake::read(&Members(frame, at))?;
                self.ping_deadline = Some(
                    now.saturating_add(h.ping_interval)
                        .saturating_add(h.ping_timeout),
                );
                let sid = h.sid.clone();
                self.link = Link::Open(h);
                self.push_event(EventKind::EngineOpen, Nsp::default(), sid);
                for n in &mut self.namespaces {
                    if n.state == NspState::Pending {
                        n.state = NspState::Connecting;
                        let text = nsp_frame(SocketKind::Connect, &n.name, n.auth.as_deref());
                        self.out.push(Output::Transmit(Transmit {
                            text,
                            data: None,
                            attachments: A::default(),
                        }));
                    }
                }
                Ok(())
            }
            (Link::Open(h), EngineKind::Ping) => {
                self.ping_deadline = Some(
                    now.saturating_add(h.ping_interval)
                        .saturating_add(h.ping_timeout),
                );
                let mut pong = String::with_capacity(1 + packet.data.len());
                EnginePacket::new(EngineKind::Pong, packet.data).encode_into(&mut pong);
                self.send_text(pong);
                Ok(())
            }
            (Link::Open(_), EngineKind::Close) => {
                self.link_lost(DisconnectReason::TransportClose, true);
                Ok(())
            }
            (Link::Open(_), EngineKind::Pong | EngineKind::Noop | EngineKind::Upgrade) => Ok(()),
            _ => Err(DecodeError::UnknownType),
        }
    }

    fn on_socket_packet<F: Frame<Payload = P>>(
        &mut self,
        frame: &F,
        text: &str,
    ) -> Result<(), DecodeError> {
        let p = SocketPacket::decode(text)?;
        // Of a frame's start, only an event's or ack's header can be trusted, and only when
        // some payload follows it in the text.
        let whole = frame.is_whole();
        if !whole
            && (p.data.is_empty()
                || !matches!(
                    p.kind,
                    SocketKind::Event
                        | SocketKind::Ack
                        | SocketKind::BinaryEvent
                        | SocketKind::BinaryAck
                        | SocketKind::ConnectError
                ))
        {
            return Err(DecodeError::BadPayload);
        }
        if self.partial.is_some() {
            // A text packet while attachments are still due.
            return Err(DecodeError::BadAttachments);
        }
        // Where the data starts; only the packets that deliver it cut it from the frame (once).
        let at = frame.text().len() - p.data.len();
        match p.kind {
            SocketKind::Connect => {
                let sid = frame.string(at, "sid").ok_or(DecodeError::BadPayload)?;
                let Some(n) = self.find_mut(p.nsp) else {
                    return Ok(());
                };
                if n.state != NspState::Connecting {
                    return Ok(());
                }
                n.state = NspState::Connected;
                let name = n.name.clone();
                let buffered = core::mem::take(&mut n.buffer);
                self.push_event(EventKind::Connect, name.clone(), sid);
                for packet in buffered {
                    if let Some(a) = packet.id.and_then(|id| self.acks.get_mut(id)) {
                        a.sent = true;
                    }
                    self.write(&name, packet);
                }
            }
            SocketKind::ConnectError => {
                let Some(n) = self.find_mut(p.nsp) else {
                    return Ok(());
                };
                if n.state != NspState::Connecting {
                    return Ok(());
                }
                n.state = NspState::Idle;
                let nsp = n.name.clone();
                self.out.push(Output::Event(SessionEvent {
                    data: Some(frame.cut(at)),
                    ..SessionEvent::new(EventKind::ConnectError, nsp, String::new())
                }));
                self.close_if_unused(0);
            }
            SocketKind::Disconnect => {
                let Some(n) = self.find_mut(p.nsp) else {
                    return Ok(());
                };
                let was = core::mem::replace(&mut n.state, NspState::Idle);
                let nsp = n.name.clone();
                if matches!(was, NspState::Connected) {
                    self.fail_sent_acks(&nsp);
                    self.push_closed(
                        EventKind::Disconnect,
                        nsp,
                        DisconnectReason::IoServerDisconnect,
                    );
                }
                self.close_if_unused(0);
            }
            SocketKind::Event | SocketKind::Ack => {
                self.deliver(p.kind, p.nsp, p.id, frame.cut(at), A::default());
            }
            SocketKind::BinaryEvent | SocketKind::BinaryAck => {
                let kind = if p.kind == SocketKind::BinaryEvent {
                    SocketKind::Event
                } else {
                    SocketKind::Ack
                };
                let data = frame.cut(at);
                if p.attachments == 0 {
                    self.deliver(kind, p.nsp, p.id, data, A::default());
                } else {
                    self.partial = Some(Partial {
                        kind,
                        nsp: Rc::new(p.nsp.into()),
                        id: p.id,
                        data,
                        need: p.attachments as usize,
                        got: A::default(),
                    });
                }
            }
        }
        Ok(())
    }

    fn deliver(&mut self, kind: SocketKind, nsp: &str, id: Option<u64>, data: P, attachments: A) {
        let nsp = self
            .find(nsp)
            .filter(|n| n.state == NspState::Connected)
            .map(|n| n.name.clone());
        let ack = kind == SocketKind::Ack;
        // An answer to an ack we no longer wait for (timed out, cancelled) is dropped.
        let nsp = nsp.filter(|nsp| !ack || id.and_then(|id| self.acks.take(nsp, id)).is_some());
        if let Some(nsp) = nsp {
            let kind = if ack {
                EventKind::Ack
            } else {
                EventKind::Event
            };
            self.out.push(Output::Event(SessionEvent {
                id,
                attachments,
                data: Some(data),
                ..SessionEvent::new(kind, nsp, String::new())
            }));
        }
    }

    fn write(&mut self, nsp: &str, packet: Outgoing<A, P>) {
        self.write_packet(
            SocketKind::Event,
            nsp,
            packet.id,
            packet.data,
            packet.attachments,
        );
    }

    /// Writes an `Event` or `Ack` (the binary type when there are attachments).
    fn write_packet(
        &mut self,
        kind: SocketKind,
        nsp: &str,
        id: Option<u64>,
        data: P,
        attachments: A,
    ) {
        let count = attachments.count();
        let kind = match (kind, count) {
            (_, 0) => kind,
            (SocketKind::Ack, _) => SocketKind::BinaryAck,
            _ => SocketKind::BinaryEvent,
        };
        let mut head = String::with_capacity(24 + nsp.len());
        head.push('4');
        SocketPacket {
            kind,
            attachments: count as u32,
            nsp,
            id,
            data: "",
        }
        .encode_into(&mut head);
        self.out.push(Output::Transmit(Transmit {
            text: head,
            data: Some(data),
            attachments,
        }));
    }

    fn push_event(&mut self, kind: EventKind, nsp: Nsp, text: String) {
        self.out
            .push(Output::Event(SessionEvent::new(kind, nsp, text)));
    }

    fn push_closed(&mut self, kind: EventKind, nsp: Nsp, reason: DisconnectReason) {
        self.out
            .push(Output::Event(SessionEvent::closed(kind, nsp, reason)));
    }

    fn send_text(&mut self, text: String) {
        self.out.push(Output::Transmit(Transmit {
            text,
            data: None,
            attachments: A::default(),
        }));
    }

    fn check_heartbeat(&mut self, now: Millis) {
        if self.is_open() && self.ping_deadline.is_some_and(|d| now >= d) {
            self.link_lost(DisconnectReason::PingTimeout, true);
        }
    }

    fn fail_sent_acks(&mut self, nsp: &str) {
        self.fail_acks(Some(nsp), None);
    }

    /// Fails pending acks with an `AckFailed` event each, in id order: with `due = Some(now)`
    /// those whose deadline has come ([`AckFailure::Timeout`]); otherwise
    /// ([`AckFailure::Disconnected`]) the sent ones of namespace `sent_on`, or all of them.
    /// One loop for the three cases keeps a single copy in the wasm.
    fn fail_acks(&mut self, sent_on: Option<&str>, due: Option<Millis>) {
        let Session {
            acks,
            namespaces,
            out,
            ..
        } = self;
        acks.retain(|a| {
            let failure = match (due, sent_on) {
                (Some(now), _) if a.deadline.is_some_and(|d| d <= now) => AckFailure::Timeout,
                (None, Some(nsp)) if a.sent && *a.nsp == nsp => AckFailure::Disconnected,
                (None, None) => AckFailure::Disconnected,
                _ => return true,
            };
            if failure == AckFailure::Timeout {
                // A timed-out packet still in a buffer is dropped, as socket.io-client does.
                if let Some(n) = namespaces.iter_mut().find(|n| n.name == a.nsp) {
                    n.buffer.retain(|p| p.id != Some(a.id));
                }
            }
            out.push(Output::Event(SessionEvent {
                id: Some(a.id),
                failure: Some(failure),
                ..SessionEvent::new(EventKind::AckFailed, a.nsp.clone(), failure.as_str().into())
            }));
            false
        });
    }

    /// Closes the transport when no namespace wants it any more.
    fn close_if_unused(&mut self, _now: Millis) {
        let active = self
            .namespaces
            .iter()
            .any(|n| !matches!(n.state, NspState::Idle));
        if !active && self.link != Link::Closed {
            self.shut_link(DisconnectReason::IoClientDisconnect);
        }
    }

    fn shut_link(&mut self, reason: DisconnectReason) {
        self.link = Link::Closed;
        self.ping_deadline = None;
        self.partial = None;
        self.out.push(Output::Transport(TransportCommand::Close));
        self.push_closed(EventKind::EngineClose, Nsp::default(), reason);
    }

    /// The link died (or never came up): tell every namespace and close the transport if
    /// `close_transport`.
    fn link_lost(&mut self, reason: DisconnectReason, close_transport: bool) {
        let never_opened = !self.is_open();
        // Frames not yet written would go into a dead transport.
        self.out.retain(|o| !matches!(o, Output::Transmit(_)));
        self.link = Link::Closed;
        self.ping_deadline = None;
        self.partial = None;
        if close_transport {
            self.out.push(Output::Transport(TransportCommand::Close));
        }
        let mut i = 0;
        while let Some(n) = self.namespaces.get_mut(i) {
            i += 1;
            let was = core::mem::replace(&mut n.state, NspState::Idle);
            if matches!(was, NspState::Idle) {
                continue;
            }
            let nsp = n.name.clone();
            self.fail_sent_acks(&nsp);
            if matches!(was, NspState::Connected) {
                self.push_closed(EventKind::Disconnect, nsp, reason);
            } else {
                let message = if never_opened {
                    "websocket error"
                } else {
                    reason.as_str()
                };
                self.out.push(Output::Event(SessionEvent {
                    reason: Some(reason),
                    ..SessionEvent::new(EventKind::ConnectError, nsp, message.into())
                }));
            }
        }
        self.push_closed(EventKind::EngineClose, Nsp::default(), reason);
    }

    fn protocol_error(&mut self, _e: DecodeError) {
        if self.link != Link::Closed {
            self.link_lost(DisconnectReason::ParseError, true);
        }
    }
}

/// `40/nsp,{auth}` or `41/nsp,` — an Engine.IO message carrying a Socket.IO CONNECT or
/// DISCONNECT.
fn nsp_frame(kind: SocketKind, nsp: &str, data: Option<&str>) -> String {
    let mut frame = String::from("4");
    SocketPacket {
        kind,
        attachments: 0,
        nsp,
        id: None,
        data: data.unwrap_or(""),
    }
    .encode_into(&mut frame);
    frame
}

#[cfg(test)]
mod tests;
