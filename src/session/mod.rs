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
pub mod polling;
pub mod presence;
pub mod reconnect;
pub mod stream;

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;

use crate::codec::engine::{EngineKind, EnginePacket, Handshake};
use crate::codec::json::{self, Object as _};
use crate::codec::socket::{SocketKind, SocketPacket, MAX_ACK_ID};
use crate::codec::DecodeError;
use ack::{AckTable, PendingAck};
use backoff::BackoffConfig;
use reconnect::{AfterLoss, Reconnect};

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
    /// [`EmitError::BufferFull`] (the buffer keeps what it holds; the new packet is refused).
    pub max_buffer: usize,
    /// Whether to reconnect by itself after the link is lost (`reconnection`, default true).
    pub reconnection: bool,
    /// How many reconnection attempts in a row before giving up with
    /// [`EventKind::ReconnectFailed`] (`reconnectionAttempts`, default unlimited: `u32::MAX`).
    pub reconnection_attempts: u32,
    /// The delays between attempts.
    pub backoff: BackoffConfig,
    /// Seeds the jitter of the delays: give each client a different one.
    pub seed: u64,
    /// With `retries > 0`, packets that ask for an acknowledgement are sent one at a time per
    /// namespace, in order, and resent (same ack id) until acknowledged or until they have been
    /// tried `1 + retries` times; a try ends with its ack timeout or a disconnection
    /// (`retries`, default 0: no retry queue).
    pub retries: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            connect_timeout: 20_000,
            max_buffer: 1_000,
            reconnection: true,
            reconnection_attempts: u32::MAX,
            backoff: BackoffConfig::default(),
            seed: 0,
            retries: 0,
        }
    }
}

/// Why a namespace (or the whole connection) was disconnected — the closed set of
/// Socket.IO's reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The transport did not open, or the server did not hand-shake, within
    /// [`SessionConfig::connect_timeout`] (only for a connection that never opened).
    Timeout,
    /// The client closed the transport as a lost network would
    /// ([`TransportClosed::Forced`]); the session reconnects as after any loss.
    ForcedClose,
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
            DisconnectReason::Timeout => "timeout",
            DisconnectReason::ForcedClose => "forced close",
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
    /// A request of the HTTP long-polling transport failed: as [`Error`](Self::Error), and an
    /// attempt that fails so is reported as `"xhr poll error"`, as socket.io-client words it.
    PollError,
    /// The client closed it to simulate a lost connection (engine.io-client's
    /// `socket.io.engine.close()`): reported as [`DisconnectReason::ForcedClose`].
    Forced,
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
    /// Whether member `key` of the JSON object at byte `at` of a whole frame is an array that
    /// holds the string `item`.
    fn has(&self, at: usize, key: &str, item: &str) -> bool {
        self.text().get(at..).is_some_and(|t| t.has(key, item))
    }
    /// The last element of the JSON array at byte `at`, if it is a plain string that follows
    /// another element (see [`json::last_string`]): the recovery offset a server appends to an
    /// event. Only the frame's end is needed.
    fn last_string(&self, at: usize) -> Option<String> {
        json::last_string(self.text().get(at..).filter(|_| self.is_whole())?).map(String::from)
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
    fn has(&self, key: &str, item: &str) -> bool {
        self.0.has(self.1, key, item)
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
    /// A namespace connected; `text` is the socket id the server gave, `recovered` whether
    /// the server recovered the previous session (connection-state recovery).
    Connect = 0,
    /// A connected namespace disconnected; `reason` says why.
    Disconnect = 1,
    /// The server emitted an event: `data` is `[event, ...args]`, `id` the id to acknowledge
    /// with if the server asked for an ack, `offset` whether its last argument is the recovery
    /// offset the server appended (which the session keeps).
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
    /// A reconnection attempt starts now; `id` is its number, from 1.
    ReconnectAttempt = 8,
    /// A reconnection attempt succeeded (the Engine.IO handshake completed); `id` is its number.
    Reconnect = 9,
    /// A reconnection attempt failed; `text` says why (as for a `ConnectError` without data).
    ReconnectError = 10,
    /// The session gave up after [`SessionConfig::reconnection_attempts`] attempts; the
    /// namespaces that wanted the link are no longer trying.
    ReconnectFailed = 11,
    /// The link is open and namespace `nsp`, connected with
    /// [`Session::connect_asking_auth`], needs its auth payload now: answer with
    /// [`Session::provide_auth`].
    AuthRequest = 12,
    /// The transport was upgraded from HTTP long-polling to WebSocket. Reported by the browser
    /// shell, which carries out the upgrade ([`polling`]), never by the session.
    Upgrade = 13,
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
    /// For `Connect`: the server recovered the session (the same socket id and rooms; the
    /// events missed meanwhile follow).
    pub recovered: bool,
    /// For `Event`: its last argument is the recovery offset.
    pub offset: bool,
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
            recovered: false,
            offset: false,
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
    /// Lost; the next reconnection attempt starts at `at`.
    Waiting {
        at: Millis,
    },
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
    /// Link open, waiting for the front door's auth payload ([`EventKind::AuthRequest`]).
    Authorizing,
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
    /// For a packet of the retry queue (see [`SessionConfig::retries`]): the ack timeout of
    /// each try.
    retry: Option<Option<Millis>>,
    /// How many times it was written (packets of the retry queue).
    tries: u32,
}

#[derive(Debug)]
struct Namespace<A, P> {
    name: Nsp,
    /// The app's auth payload (JSON object text).
    auth: Option<String>,
    /// Connection-state recovery: the private session id of the last CONNECT reply, and the
    /// offset of the last event the server kept for recovery. The next CONNECT carries them.
    pid: Option<String>,
    offset: Option<String>,
    /// The offset of the last of the `early` events, kept once they are delivered.
    early_offset: Option<String>,
    /// Whether the auth payload is asked for on every connect ([`EventKind::AuthRequest`]).
    ask_auth: bool,
    state: NspState,
    /// Packets waiting to be written, in order: those emitted while not connected, and the
    /// retry queue. The first packet of the retry queue is written when every packet before
    /// it has been, and stays here until acknowledged; the ones after it wait for it.
    buffer: Vec<Outgoing<A, P>>,
    /// Events that arrived before the CONNECT reply (a server recovering the session replays
    /// what was missed first), delivered right after `Connect`; at most `max_buffer`.
    early: Vec<Output<A, P>>,
}

impl<A, P> Namespace<A, P> {
    /// With a session to recover, the CONNECT payload: `{"pid":…,"offset":…}` followed by the
    /// members of the app's auth object, which win (`JSON.parse` keeps the last of a repeated
    /// member), as socket.io-client's `Object.assign({ pid, offset }, auth)`.
    fn recovery_auth(&self) -> Option<String> {
        let pid = self.pid.as_deref()?;
        // The app's auth is JSON text as `JSON.stringify` or serde writes it (no whitespace):
        // its members, with the closing brace.
        let members = match self.auth.as_deref().and_then(|a| a.strip_prefix('{')) {
            Some("}") | None => "",
            Some(members) => members,
        };
        let mut out = String::from("{\"pid\":\"");
        out.push_str(pid);
        if let Some(offset) = &self.offset {
            out.push_str("\",\"offset\":\"");
            out.push_str(offset);
        }
        out.push_str(if members.is_empty() { "\"}" } else { "\"," });
        out.push_str(members);
        Some(out)
    }
}

/// A packet whose binary attachments are still arriving.
#[derive(Debug)]
struct Partial<A, P> {
    kind: SocketKind,
    nsp: Nsp,
    id: Option<u64>,
    data: P,
    offset: Option<String>,
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
    out: crate::Queue<Output<A, P>>,
    reconnect: Reconnect,
    /// Whether the link is wanted without any namespace ([`open`](Self::open)).
    keep_open: bool,
    /// Whether a namespace has had a session to recover (connection-state recovery): events
    /// are then read for their offset.
    recovery: bool,
    /// While a failed long-polling request is being handled: how a failed attempt is worded.
    poll_error: bool,
}

impl<A: Attachments + Clone, P: Clone> Session<A, P> {
    /// A closed session; nothing happens until [`connect`](Self::connect).
    pub fn new(config: SessionConfig) -> Self {
        Session {
            keep_open: false,
            recovery: false,
            poll_error: false,
            reconnect: Reconnect::new(config.backoff, config.seed),
            link: Link::Closed,
            config,
            ping_deadline: None,
            namespaces: Vec::new(),
            acks: AckTable::default(),
            next_id: 0,
            partial: None,
            out: crate::Queue::new(),
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
            && !self.keep_open
            && self
                .namespaces
                .iter()
                .all(|n| n.state == NspState::Idle && n.buffer.is_empty())
    }

    /// Whether the link was lost and the session is trying to get it back: waiting out the
    /// backoff, or in a reconnection attempt.
    pub fn is_reconnecting(&self) -> bool {
        self.reconnect.attempt() > 0 || matches!(self.link, Link::Waiting { .. })
    }

    /// The payloads namespace `nsp` holds until it connects, oldest first.
    pub fn buffer(&self, nsp: &str) -> impl Iterator<Item = &P> {
        self.find(nsp)
            .into_iter()
            .flat_map(|n| n.buffer.iter().map(|p| &p.data))
    }

    /// Drops the packets namespace `nsp` has not written yet. The acknowledgements they asked
    /// for fail with [`AckFailure::Disconnected`].
    pub fn clear_buffer(&mut self, nsp: &str) {
        if let Some(n) = self.find_mut(nsp) {
            n.buffer.clear();
            self.fail_acks(Some(nsp), false, None);
        }
    }

    // ---- commands ----

    /// Connects namespace `nsp` with an optional auth payload (JSON object text), opening the
    /// transport if needed. Does nothing if it is already connected or connecting.
    pub fn connect(&mut self, nsp: &str, auth: Option<String>, now: Millis) {
        self.start(nsp, auth, false, now);
    }

    /// Like [`connect`](Self::connect), but the auth payload is asked for each time the
    /// namespace (re)connects, with an [`EventKind::AuthRequest`] event: answer with
    /// [`provide_auth`](Self::provide_auth).
    pub fn connect_asking_auth(&mut self, nsp: &str, now: Millis) {
        self.start(nsp, None, true, now);
    }

    /// Sends the CONNECT of namespace `nsp` with `auth` (JSON object text), in answer to an
    /// [`EventKind::AuthRequest`]. Ignored when the namespace is no longer waiting for it.
    pub fn provide_auth(&mut self, nsp: &str, auth: Option<String>) {
        let link_open = self.is_open();
        let Some(n) = self.find_mut(nsp) else { return };
        if link_open && n.state == NspState::Authorizing {
            n.auth = auth;
            self.send_connect(nsp);
        }
    }

    fn start(&mut self, nsp: &str, auth: Option<String>, ask: bool, now: Millis) {
        let link_open = self.is_open();
        let Some(n) = self.entry(nsp) else { return };
        n.auth = auth;
        n.ask_auth = ask;
        if !matches!(n.state, NspState::Idle) {
            return;
        }
        n.state = NspState::Pending;
        if link_open {
            self.connect_pending();
        } else if self.link == Link::Closed {
            self.open_link(now);
        }
    }

    /// Opens the link without connecting a namespace (socket.io-client's `Manager#open`); it
    /// then stays open, and reconnects after a loss, until [`close`](Self::close) or until a
    /// namespace disconnects and none is left.
    pub fn open(&mut self, now: Millis) {
        self.keep_open = true;
        if self.link == Link::Closed {
            self.open_link(now);
        }
    }

    /// Changes the reconnection tunables and the connect timeout; they apply from the next
    /// attempt on.
    pub fn set_reconnection(
        &mut self,
        reconnection: bool,
        attempts: u32,
        backoff: BackoffConfig,
        connect_timeout: Millis,
    ) {
        let c = &mut self.config;
        c.reconnection = reconnection;
        c.reconnection_attempts = attempts;
        c.backoff = backoff;
        c.connect_timeout = connect_timeout;
        self.reconnect.set_config(backoff);
    }

    /// Asks the shell for a transport and gives it `connect_timeout` to open and handshake.
    fn open_link(&mut self, now: Millis) {
        self.link = Link::Opening {
            deadline: now.saturating_add(self.config.connect_timeout),
        };
        self.out.push(Output::Transport(TransportCommand::Open));
    }

    /// On an open link: the CONNECT of every namespace waiting for one, or its auth request.
    fn connect_pending(&mut self) {
        let mut i = 0;
        while let Some(n) = self.namespaces.get_mut(i) {
            i += 1;
            if n.state != NspState::Pending {
                continue;
            }
            if n.ask_auth {
                n.state = NspState::Authorizing;
                let name = n.name.clone();
                self.push_event(EventKind::AuthRequest, name, String::new());
            } else {
                let name = n.name.clone();
                self.send_connect(&name);
            }
        }
    }

    fn send_connect(&mut self, nsp: &str) {
        if let Some(n) = self.find_mut(nsp) {
            n.state = NspState::Connecting;
            n.early.clear();
            n.early_offset = None;
            let auth = n.recovery_auth();
            let frame = nsp_frame(
                SocketKind::Connect,
                &n.name,
                auth.as_deref().or(n.auth.as_deref()),
            );
            self.send_text(frame);
        }
    }

    /// Disconnects namespace `nsp` on the client's initiative. A connected namespace gets a
    /// `Disconnect` event with [`DisconnectReason::IoClientDisconnect`]. When no namespace
    /// remains active, the transport is closed.
    pub fn disconnect(&mut self, nsp: &str, now: Millis) {
        let _ = now;
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
        // As socket.io-client's Manager: once its last socket is gone, the link goes too.
        if self.namespaces.iter().all(|n| n.state == NspState::Idle) {
            self.keep_open = false;
        }
        self.close_if_unused();
    }

    /// Closes the connection for good: every connected namespace gets a `Disconnect` event
    /// with [`DisconnectReason::IoClientDisconnect`], buffered packets are dropped, every
    /// pending ack fails with [`AckFailure::Disconnected`] and the transport is closed.
    pub fn close(&mut self, now: Millis) {
        self.keep_open = false;
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
        self.fail_acks(None, false, None);
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
        let retry = self.config.retries > 0 && ack.is_some();
        let link_open = self.is_open();
        let Some(n) = self.entry(nsp) else {
            return Err(EmitError::BufferFull);
        };
        let connected = link_open && matches!(n.state, NspState::Connected);
        if (retry || !connected) && n.buffer.len() >= max_buffer {
            return Err(EmitError::BufferFull);
        }
        let name = n.name.clone();
        let id = match ack {
            Some(timeout) => {
                let id = self.next_id;
                // Ids wrap within JavaScript's safe integer range.
                self.next_id = if id >= MAX_ACK_ID { 0 } else { id + 1 };
                // A queued packet's deadline is set each time it is written.
                self.acks.insert(PendingAck {
                    id,
                    nsp: name.clone(),
                    deadline: timeout.filter(|_| !retry).map(|t| now.saturating_add(t)),
                    sent: connected && !retry,
                });
                Some(id)
            }
            None => None,
        };
        let packet = Outgoing {
            data,
            attachments,
            id,
            retry: ack.filter(|_| retry),
            tries: 0,
        };
        if connected && !retry {
            self.write(&name, packet);
        } else if let Some(n) = self.find_mut(nsp) {
            n.buffer.push(packet);
            self.flush(&name, now);
        }
        Ok(id)
    }

    /// Emits `data` only if namespace `nsp` is connected (a `volatile` emit): returns whether
    /// it was written. Nothing is buffered and no acknowledgement is asked for.
    pub fn emit_volatile(&mut self, nsp: &str, data: P, attachments: A, now: Millis) -> bool {
        self.check_heartbeat(now);
        let ok = self.is_open() && self.is_connected(nsp);
        if ok {
            self.write_packet(SocketKind::Event, nsp, None, data, attachments);
        }
        ok
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
                self.protocol_error(e, now);
                true
            }
        }
    }

    /// A binary frame arrived.
    pub fn handle_binary(&mut self, now: Millis, data: A::Item) {
        if !self.is_open() {
            return self.protocol_error(DecodeError::UnknownType, now);
        }
        let Some(partial) = self.partial.as_mut() else {
            // A binary frame nobody announced.
            return self.protocol_error(DecodeError::BadAttachments, now);
        };
        partial.got.add(data);
        partial.need -= 1;
        if partial.need == 0 {
            if let Some(p) = self.partial.take() {
                self.deliver(p.kind, &p.nsp.clone(), p.id, p.data, p.got, p.offset, now);
            }
        }
    }

    /// The transport closed by itself (not after a [`TransportCommand::Close`]).
    pub fn handle_transport_close(&mut self, now: Millis, how: TransportClosed) {
        if !self.has_transport() {
            return;
        }
        let reason = match how {
            TransportClosed::Closed => DisconnectReason::TransportClose,
            TransportClosed::Error | TransportClosed::PollError => DisconnectReason::TransportError,
            TransportClosed::Forced => DisconnectReason::ForcedClose,
        };
        self.poll_error = how == TransportClosed::PollError;
        self.link_lost(reason, false, now);
        self.poll_error = false;
    }

    /// The time returned by [`poll_timeout`](Self::poll_timeout) has come (or passed).
    pub fn handle_timeout(&mut self, now: Millis) {
        match self.link {
            Link::Opening { deadline } | Link::Handshaking { deadline } if now >= deadline => {
                self.link_lost(DisconnectReason::Timeout, true, now);
            }
            Link::Waiting { at } if now >= at => self.attempt_now(now),
            _ => self.check_heartbeat(now),
        }
        self.fail_acks(None, false, Some(now));
    }

    /// The network went away (`online` false: the window's `offline` event) or came back.
    ///
    /// Offline, an open link is no longer trusted: it is closed as a `TransportClose` and the
    /// usual reconnection starts (attempts fail fast while the network is down; a server on
    /// the same machine stays reachable). Online, a reconnection waiting out its backoff starts
    /// its attempt at once.
    pub fn handle_network(&mut self, now: Millis, online: bool) {
        if online {
            self.hurry(now);
        } else if self.is_open() {
            self.link_lost(DisconnectReason::TransportClose, true, now);
        }
    }

    /// The page became visible again. Timers of hidden pages are throttled: the heartbeat is
    /// judged on the clock now, and a reconnection waiting out its backoff starts at once.
    pub fn handle_visible(&mut self, now: Millis) {
        self.check_heartbeat(now);
        self.hurry(now);
    }

    fn hurry(&mut self, now: Millis) {
        if let Link::Waiting { .. } = self.link {
            self.attempt_now(now);
        }
    }

    /// Starts the reconnection attempt that was waiting.
    fn attempt_now(&mut self, now: Millis) {
        let attempt = self.reconnect.begin();
        self.out.push(Output::Event(SessionEvent {
            id: Some(u64::from(attempt)),
            ..SessionEvent::new(EventKind::ReconnectAttempt, Nsp::default(), String::new())
        }));
        self.open_link(now);
    }

    /// Whether a transport is open or opening.
    fn has_transport(&self) -> bool {
        !matches!(self.link, Link::Closed | Link::Waiting { .. })
    }

    // ---- outputs ----

    /// The next output to act on, in the order they were produced.
    pub fn poll_output(&mut self) -> Option<Output<A, P>> {
        self.out.pop()
    }

    /// Whether [`poll_output`](Self::poll_output) has something.
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Millis> {
        let link = match self.link {
            Link::Opening { deadline } | Link::Handshaking { deadline } => Some(deadline),
            Link::Open(_) => self.ping_deadline,
            Link::Waiting { at } => Some(at),
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
                pid: None,
                offset: None,
                early_offset: None,
                ask_auth: false,
                state: NspState::Idle,
                buffer: Vec::new(),
                early: Vec::new(),
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
                return self.on_socket_packet(frame, packet.data, now);
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
                self.connect_pending();
                let attempt = self.reconnect.opened();
                if attempt > 0 {
                    // As socket.io-client: `reconnect` after `open` and the CONNECTs.
                    self.out.push(Output::Event(SessionEvent {
                        id: Some(u64::from(attempt)),
                        ..SessionEvent::new(EventKind::Reconnect, Nsp::default(), String::new())
                    }));
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
                self.link_lost(DisconnectReason::TransportClose, true, now);
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
        now: Millis,
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
                // With connection-state recovery, the reply has the session's private id (a
                // plain string, as the servers make them): the server recovered the session
                // when it is the one the CONNECT asked for.
                let pid = frame.string(at, "pid").filter(|p| json::plain(p));
                let recovered = pid.is_some() && pid == n.pid;
                let recovery = pid.is_some();
                n.pid = pid;
                let name = n.name.clone();
                let early = core::mem::take(&mut n.early);
                if let Some(o) = n.early_offset.take() {
                    n.offset = Some(o);
                }
                self.recovery |= recovery;
                self.out.push(Output::Event(SessionEvent {
                    recovered,
                    ..SessionEvent::new(EventKind::Connect, name.clone(), sid)
                }));
                self.out.extend(early);
                self.flush(&name, now);
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
                self.close_if_unused();
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
                self.close_if_unused();
            }
            SocketKind::Event | SocketKind::Ack => {
                let offset = self.offset(frame, &p, at);
                self.deliver(
                    p.kind,
                    p.nsp,
                    p.id,
                    frame.cut(at),
                    A::default(),
                    offset,
                    now,
                );
            }
            SocketKind::BinaryEvent | SocketKind::BinaryAck => {
                let kind = if p.kind == SocketKind::BinaryEvent {
                    SocketKind::Event
                } else {
                    SocketKind::Ack
                };
                let offset = self.offset(frame, &p, at);
                let data = frame.cut(at);
                if p.attachments == 0 {
                    self.deliver(kind, p.nsp, p.id, data, A::default(), offset, now);
                } else {
                    self.partial = Some(Partial {
                        kind,
                        nsp: Rc::new(p.nsp.into()),
                        id: p.id,
                        data,
                        offset,
                        need: p.attachments as usize,
                        got: A::default(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The recovery offset of event packet `p` (data at byte `at` of `frame`): its last
    /// argument, if a string and no ack is asked for (as socket.io-client reads it). Only read
    /// once a namespace has had a session to recover; [`deliver`](Self::deliver) keeps it
    /// for a namespace that has one.
    fn offset<F: Frame<Payload = P>>(
        &self,
        frame: &F,
        p: &SocketPacket<'_>,
        at: usize,
    ) -> Option<String> {
        let event = matches!(p.kind, SocketKind::Event | SocketKind::BinaryEvent);
        if event && self.recovery && p.id.is_none() {
            frame.last_string(at)
        } else {
            None
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &mut self,
        kind: SocketKind,
        nsp: &str,
        id: Option<u64>,
        data: P,
        attachments: A,
        offset: Option<String>,
        now: Millis,
    ) {
        let ack = kind == SocketKind::Ack;
        let max = self.config.max_buffer;
        let Some(n) = self.find_mut(nsp) else { return };
        // The offset is the session's once the event is delivered.
        let offset = offset.filter(|_| n.pid.is_some());
        let has_offset = offset.is_some();
        if has_offset {
            match n.state {
                NspState::Connected => n.offset = offset,
                NspState::Connecting if n.early.len() < max => n.early_offset = offset,
                _ => {}
            }
        }
        let ev = SessionEvent {
            id,
            attachments,
            offset: has_offset,
            data: Some(data),
            ..SessionEvent::new(
                if ack {
                    EventKind::Ack
                } else {
                    EventKind::Event
                },
                n.name.clone(),
                String::new(),
            )
        };
        if n.state == NspState::Connecting && !ack {
            // Replayed by a recovering server ahead of its CONNECT reply.
            if n.early.len() < max {
                n.early.push(Output::Event(ev));
            }
            return;
        }
        // An answer to an ack we no longer wait for (timed out, cancelled) is dropped.
        if n.state != NspState::Connected
            || ack && id.and_then(|id| self.acks.take(&ev.nsp, id)).is_none()
        {
            return;
        }
        let nsp = ev.nsp.clone();
        self.out.push(Output::Event(ev));
        if ack {
            // The head of the retry queue is done: the next one goes.
            if let Some(n) = self.find_mut(&nsp) {
                if n.buffer.first().is_some_and(|p| p.id == id) {
                    crate::take(&mut n.buffer, 0);
                }
            }
            self.flush(&nsp, now);
        }
    }

    /// Writes what namespace `nsp` holds, if it is connected: every packet outside the retry
    /// queue at once, in the order they were emitted, then the first packet of the retry queue,
    /// unless that one is already in flight. As socket.io-client sends its buffer on connect
    /// and drains its queue one packet at a time: a packet of the queue never holds up the
    /// others (a volatile emit held while the link was found dead, say).
    fn flush(&mut self, nsp: &str, now: Millis) {
        let link_open = self.is_open();
        loop {
            let Session {
                namespaces, acks, ..
            } = &mut *self;
            let Some(n) = namespaces.iter_mut().find(|n| *n.name == nsp) else {
                return;
            };
            if !link_open || n.state != NspState::Connected {
                return;
            }
            // The first packet outside the queue, else the queue's head.
            let at = n.buffer.iter().position(|p| p.retry.is_none()).unwrap_or(0);
            let Some(p) = n.buffer.get_mut(at) else {
                return;
            };
            let ack = p.id.and_then(|id| acks.get_mut(id));
            let packet = match ack {
                Some(a) if p.retry.is_some() => {
                    if a.sent {
                        return;
                    }
                    a.sent = true;
                    a.deadline = p.retry.flatten().map(|t| now.saturating_add(t));
                    p.tries += 1;
                    let copy = Outgoing {
                        data: p.data.clone(),
                        attachments: p.attachments.clone(),
                        ..*p
                    };
                    let name = n.name.clone();
                    self.write(&name, copy);
                    return;
                }
                ack => {
                    if let Some(a) = ack {
                        a.sent = true;
                    }
                    match crate::take(&mut n.buffer, at) {
                        Some(packet) => packet,
                        None => return,
                    }
                }
            };
            let name = n.name.clone();
            self.write(&name, packet);
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
            self.link_lost(DisconnectReason::PingTimeout, true, now);
        }
    }

    fn fail_sent_acks(&mut self, nsp: &str) {
        self.fail_acks(Some(nsp), true, None);
    }

    /// Fails pending acks with an `AckFailed` event each, in id order: with `due = Some(now)`
    /// those whose deadline has come ([`AckFailure::Timeout`]); otherwise
    /// ([`AckFailure::Disconnected`]) those of namespace `nsp` that were written (`sent`) or
    /// not, or all of them without `nsp`. One loop for every case keeps a single copy in the
    /// wasm.
    ///
    /// A packet of the retry queue with tries left is not failed by a timeout or a
    /// disconnection: it goes back to unsent, and is written again when its namespace is
    /// connected.
    fn fail_acks(&mut self, nsp: Option<&str>, sent: bool, due: Option<Millis>) {
        let retries = self.config.retries;
        let Session {
            acks,
            namespaces,
            out,
            ..
        } = self;
        acks.retain(|a| {
            let failure = match (due, nsp) {
                (Some(now), _) if a.deadline.is_some_and(|d| d <= now) => AckFailure::Timeout,
                (None, Some(nsp)) if a.sent == sent && *a.nsp == nsp => AckFailure::Disconnected,
                (None, None) => AckFailure::Disconnected,
                _ => return true,
            };
            if let Some(n) = namespaces.iter_mut().find(|n| n.name == a.nsp) {
                let retry = due.is_some() || (sent && nsp.is_some());
                if let Some(p) = n.buffer.first().filter(|p| p.id == Some(a.id)) {
                    if p.retry.is_some() && p.tries <= retries && retry {
                        a.sent = false;
                        a.deadline = None;
                        return true;
                    }
                }
                // A packet failed before it was acknowledged is not written again, as
                // socket.io-client drops a timed-out packet from its buffer.
                n.buffer.retain(|p| p.id != Some(a.id));
            }
            out.push(ack_failed(a.nsp.clone(), a.id, failure));
            false
        });
        if let Some(now) = due {
            let mut i = 0;
            while let Some(n) = self.namespaces.get(i) {
                i += 1;
                let name = n.name.clone();
                self.flush(&name, now);
            }
        }
    }

    /// Closes the transport (or stops reconnecting) when no namespace wants it any more.
    fn close_if_unused(&mut self) {
        if self.wanted() == 0 && self.link != Link::Closed {
            self.shut_link(DisconnectReason::IoClientDisconnect);
        }
    }

    /// How many namespaces are connected or trying to.
    fn wanted(&self) -> usize {
        self.namespaces
            .iter()
            .filter(|n| n.state != NspState::Idle)
            .count()
            + usize::from(self.keep_open)
    }

    fn shut_link(&mut self, reason: DisconnectReason) {
        let had_transport = self.has_transport();
        self.link = Link::Closed;
        self.ping_deadline = None;
        self.partial = None;
        self.reconnect.reset();
        if had_transport {
            self.out.push(Output::Transport(TransportCommand::Close));
            self.push_closed(EventKind::EngineClose, Nsp::default(), reason);
        }
    }

    /// The link died (or never came up): tell every namespace, close the transport if
    /// `close_transport`, and schedule a reconnection if enabled and wanted.
    fn link_lost(&mut self, reason: DisconnectReason, close_transport: bool, now: Millis) {
        let never_opened = !self.is_open();
        let retry = self.config.reconnection;
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
            let was = n.state;
            if was == NspState::Idle {
                continue;
            }
            // Still wanted when reconnecting: connected again after the next handshake.
            n.state = if retry {
                NspState::Pending
            } else {
                NspState::Idle
            };
            let nsp = n.name.clone();
            self.fail_sent_acks(&nsp);
            if matches!(was, NspState::Connected) {
                self.push_closed(EventKind::Disconnect, nsp, reason);
            } else {
                self.out.push(Output::Event(SessionEvent {
                    reason: Some(reason),
                    ..SessionEvent::new(
                        EventKind::ConnectError,
                        nsp,
                        self.failure(never_opened, reason),
                    )
                }));
            }
        }
        self.push_closed(EventKind::EngineClose, Nsp::default(), reason);
        if self.reconnect.attempt() > 0 {
            self.push_event(
                EventKind::ReconnectError,
                Nsp::default(),
                self.failure(never_opened, reason),
            );
        }
        // (After a link that was up, the machine starts from the first delay, as
        // socket.io-client does.)
        let wanted = retry && self.wanted() > 0;
        match self
            .reconnect
            .lost(wanted, self.config.reconnection_attempts, 0, now)
        {
            AfterLoss::Wait(at) => self.link = Link::Waiting { at },
            AfterLoss::Stopped => self.keep_open = false,
            AfterLoss::GaveUp => {
                self.keep_open = false;
                for n in &mut self.namespaces {
                    n.state = NspState::Idle;
                }
                self.push_event(EventKind::ReconnectFailed, Nsp::default(), String::new());
            }
        }
    }

    /// The message of a connection that failed, as socket.io-client words it: `"timeout"` when
    /// the connect timeout elapsed, `"parse error"` when the server's handshake was malformed,
    /// `"websocket error"` or `"xhr poll error"` when the transport never opened, else the
    /// reason.
    fn failure(&self, never_opened: bool, reason: DisconnectReason) -> String {
        match reason {
            DisconnectReason::Timeout | DisconnectReason::ParseError => reason.as_str(),
            _ if !never_opened => reason.as_str(),
            _ if self.poll_error => "xhr poll error",
            _ => "websocket error",
        }
        .into()
    }

    fn protocol_error(&mut self, _e: DecodeError, now: Millis) {
        if self.has_transport() {
            self.link_lost(DisconnectReason::ParseError, true, now);
        }
    }
}

fn ack_failed<A: Default, P>(nsp: Nsp, id: u64, failure: AckFailure) -> Output<A, P> {
    Output::Event(SessionEvent {
        id: Some(id),
        failure: Some(failure),
        ..SessionEvent::new(EventKind::AckFailed, nsp, failure.as_str().into())
    })
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
