//! The plain-WebSocket mode of `MODES.md` for Rust front ends: [`Ws`], a reconnecting
//! `WebSocket` speaking a small JSON envelope, with typed listeners, acknowledgements both
//! ways, a heartbeat, and raw frames for servers that speak no envelope.
//!
//! The envelope (text frames holding JSON):
//!
//! | frame | meaning |
//! |---|---|
//! | `["event", ...args]` | an event |
//! | `[n, "event", ...args]` | an event whose sender wants an ack; `n` a non-negative integer |
//! | `{"ack": n, "args": [...]}` | the ack of `n` |
//!
//! Every other frame (text that is not JSON or matches none of these, and every binary frame)
//! is a raw [`Message`], delivered to [`Ws::on_message`].
//!
//! ```no_run
//! use rtio::ws::{Message, Ws, WsOptions};
//! # async fn demo() -> Result<(), rtio::ws::Error> {
//! let ws = Ws::connect("ws://127.0.0.1:8080/ws", WsOptions::default())?;
//! let _chat = ws.on("chat", |text: String| web_sys::console::log_1(&text.into()));
//! let _raw = ws.on_message(|m: Message| web_sys::console::log_1(&format!("{m:?}").into()));
//! ws.emit("chat", &"hi")?;
//! let sum: i64 = ws.emit_many_with_ack("add", &[&1, &2]).await?;
//! # Ok(()) }
//! ```

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::event::typed_events;
use super::payload::erased::Arg;
use super::socket::{warn, Listeners};
use super::sse::{check_name, deadline, hello_id, lifecycle, ms};
use super::stream::{common_handle, common_options, StreamCommon};
use crate::codec::envelope::{self, Envelope};
use crate::session::stream::StreamConfig;
use crate::shell::http;
use crate::shell::listeners::{Registry, Reply};
use crate::shell::plain_websocket::{FrameData, PlainSignal, PlainSocket};
use crate::shell::stream_link::{StreamHost, StreamLink};
use crate::shell::timer::Timer;

pub use super::error::StreamError as Error;
pub use super::socket::Subscription;
pub use crate::session::stream::StreamClosed;
pub use crate::shell::stream_link::StreamEvent;

/// A raw frame: received when it is not an envelope (or with [`WsOptions::envelope`] off),
/// written with [`Ws::send_raw`].
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

/// Options of [`Ws::connect`]; the defaults are `MODES.md`'s.
///
/// ```no_run
/// use rtio::ws::WsOptions;
/// use std::time::Duration;
/// let opts = WsOptions::default()
///     .protocols(["chat.v1"])
///     .ping_interval(Duration::from_secs(10))
///     .ping_timeout(Duration::from_secs(5))
///     .room("lobby");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WsOptions {
    common: StreamCommon,
    protocols: Vec<String>,
    envelope: bool,
    ping: Message,
    ping_interval: Duration,
    ping_timeout: Duration,
}

impl Default for WsOptions {
    fn default() -> Self {
        WsOptions {
            common: StreamCommon::default(),
            protocols: Vec::new(),
            envelope: true,
            ping: Message::Text("[\"ping\"]".into()),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
        }
    }
}

common_options!(WsOptions, Ws, "connection", "frames");

impl WsOptions {
    /// The WebSocket subprotocols to offer (default none).
    pub fn protocols<S: Into<String>>(mut self, protocols: impl IntoIterator<Item = S>) -> Self {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Whether frames are read as the JSON envelope (default true). Off, every frame is a
    /// [`Message`].
    pub fn envelope(mut self, on: bool) -> Self {
        self.envelope = on;
        self
    }

    /// The heartbeat message (default the text `["ping"]`).
    pub fn ping(mut self, message: impl Into<Message>) -> Self {
        self.ping = message.into();
        self
    }

    /// How often the heartbeat is written while connected (default 25 s; zero: never).
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval;
        self
    }

    /// Reconnects when nothing arrived for the ping interval plus this (default 20 s; zero: no
    /// watchdog). Any frame counts as life (a server's `["pong"]` is the event `pong`).
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.ping_timeout = timeout;
        self
    }

    fn stream_config(&self) -> StreamConfig {
        let interval = ms(self.ping_interval);
        let timeout = ms(self.ping_timeout);
        self.common.stream_config(
            (timeout > 0).then(|| interval.saturating_add(timeout)),
            (interval > 0).then_some(interval),
        )
    }
}

/// Listener arguments as `T`: none reads as `null`, one as itself, several as an array (so a
/// tuple receives them in order).
fn from_args<T: DeserializeOwned>(args: &[Value]) -> Result<T, serde_json::Error> {
    match args {
        [] => T::deserialize(&Value::Null),
        [one] => T::deserialize(one),
        many => T::deserialize(&Value::Array(many.to_vec())),
    }
}

/// Each argument as JSON text.
fn arg_texts(args: &[&dyn Arg]) -> Result<Vec<String>, Error> {
    args.iter()
        .map(|a| a.to_json().map_err(Error::Encode))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The connection

/// One frame to write, held while the connection is down.
struct Frame {
    message: Message,
    /// The ack request it carries.
    ack: Option<u64>,
}

type AckReply = Reply<Result<Vec<Value>, Error>>;

struct PendingAck {
    id: u64,
    /// Written on the current connection (so it fails when that one is lost).
    sent: bool,
    reply: AckReply,
}

enum Delivery {
    State(StreamEvent),
    Frame(FrameData),
}

impl From<StreamEvent> for Delivery {
    fn from(e: StreamEvent) -> Self {
        Delivery::State(e)
    }
}

/// A received envelope, its arguments read.
enum Read {
    /// An event, and the id of the ack its sender wants.
    Event(String, Vec<Value>, Option<u64>),
    /// The answer to request `id`.
    Ack(u64, Result<Vec<Value>, Error>),
}

/// Returns whether the arguments were taken (a `once` listener stays until they are).
type EventFn = dyn FnMut(&[Value], Option<&AckSender>) -> bool;
type AnyFn = dyn FnMut(&str, &[Value]);

enum Handler {
    Event(Rc<str>, Box<EventFn>),
    Any(Box<AnyFn>),
    Message(Box<dyn FnMut(&Message)>),
    State(Box<dyn FnMut(&StreamEvent)>),
    ConnectError(Box<dyn FnMut(&Error)>),
}

struct WsInner {
    link: StreamLink<WsInner>,
    url: String,
    opts: WsOptions,
    ws: RefCell<Option<PlainSocket>>,
    listeners: Registry<Handler>,
    acks: RefCell<Vec<PendingAck>>,
    next_ack: Cell<u64>,
    /// Counts connections: an ack the server asked for on an earlier one is not sent.
    generation: Cell<u64>,
    rooms: RefCell<Vec<String>>,
    id: RefCell<Option<String>>,
    /// A reconnection for new rooms is scheduled.
    rejoin: Cell<bool>,
}

impl WsInner {
    fn socket_url(&self) -> String {
        let rooms = self.rooms.borrow();
        let mut pairs = self.opts.common.room_pairs(&rooms);
        for (k, v) in &self.opts.common.query {
            pairs.push((k, v));
        }
        http::with_query(&self.url, &pairs)
    }

    fn signal(self: &Rc<Self>, signal: PlainSignal) {
        match signal {
            PlainSignal::Open => {
                StreamLink::apply(self, |s, now| s.handle_opened(now));
            }
            PlainSignal::Frame(data) => {
                super::debug::frame(false, &data);
                StreamLink::apply(self, |s, now| s.handle_activity(now));
                StreamLink::deliver(self, Delivery::Frame(FrameData::read(data)));
            }
            PlainSignal::Closed(_) | PlainSignal::Error => {
                let error = matches!(signal, PlainSignal::Error);
                let ws = self.ws.borrow_mut().take();
                drop(ws);
                StreamLink::apply(self, |s, now| s.handle_closed(error, now));
            }
        }
    }

    fn reopen(self: &Rc<Self>) {
        self.rejoin.set(false);
        if self.ws.borrow().is_some() && self.link.is_active() {
            StreamLink::apply(self, |s, now| {
                s.disconnect();
                s.connect(now);
            });
        }
    }

    /// Fails the acks written on the connection that was lost.
    fn fail_sent_acks(&self) {
        let lost: Vec<PendingAck> = {
            let mut acks = self.acks.borrow_mut();
            let (lost, kept) = std::mem::take(&mut *acks).into_iter().partition(|a| a.sent);
            *acks = kept;
            lost
        };
        for a in lost {
            a.reply.complete(Err(Error::Disconnected));
        }
    }

    /// Settles the pending ack `id` with the server's answer; an unknown id is ignored.
    fn complete_ack(&self, id: u64, answer: Result<Vec<Value>, Error>) {
        let pending = {
            let mut acks = self.acks.borrow_mut();
            let at = acks.iter().position(|a| a.id == id);
            at.map(|at| acks.remove(at))
        };
        if let Some(a) = pending {
            a.reply.complete(answer);
        }
    }

    fn is_pending(&self, id: u64) -> bool {
        self.acks.borrow().iter().any(|a| a.id == id)
    }

    /// Reads one text frame as the envelope (`codec::envelope`), or as a raw message. The
    /// arguments are read by serde_json; one it cannot read makes the frame a raw message.
    fn text(self: &Rc<Self>, text: String) {
        if !self.opts.envelope {
            return self.message(Message::Text(text));
        }
        let read = |args: &[&str]| -> Option<Vec<Value>> {
            args.iter().map(|a| serde_json::from_str(a).ok()).collect()
        };
        let malformed = || {
            Err(Error::Decode(
                "the server's acknowledgement was malformed".into(),
            ))
        };
        let frame = match envelope::decode(&text) {
            Some(Envelope::Event { name, args }) => read(&args).map(|a| Read::Event(name, a, None)),
            Some(Envelope::Request { id, name, args }) => {
                read(&args).map(|a| Read::Event(name, a, Some(id)))
            }
            Some(Envelope::Ack { id, args }) => match read(&args) {
                Some(a) => Some(Read::Ack(id, Ok(a))),
                None => self.is_pending(id).then(|| Read::Ack(id, malformed())),
            },
            // An answer of the wrong shape for an emit waiting for it settles it.
            Some(Envelope::MalformedAck { id }) if self.is_pending(id) => {
                Some(Read::Ack(id, malformed()))
            }
            _ => None,
        };
        match frame {
            Some(Read::Event(name, args, None)) => self.event(&name, &args, None),
            Some(Read::Event(name, args, Some(id))) => {
                let ack = AckSender {
                    ws: Rc::downgrade(self),
                    id,
                    generation: self.generation.get(),
                    used: Rc::new(Cell::new(false)),
                };
                self.event(&name, &args, Some(&ack));
            }
            Some(Read::Ack(id, answer)) => self.complete_ack(id, answer),
            None => self.message(Message::Text(text)),
        }
    }

    fn event(&self, name: &str, args: &[Value], ack: Option<&AckSender>) {
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
        // The rooms convention's events are the client's own.
        if name.starts_with("rtio:") {
            return;
        }
        self.listeners.call(|h| match h {
            Handler::Event(n, f) if **n == *name => f(args, ack),
            Handler::Any(f) => {
                f(name, args);
                true
            }
            _ => false,
        });
    }

    fn message(&self, message: Message) {
        self.listeners.call(|h| match h {
            Handler::Message(f) => {
                f(&message);
                true
            }
            _ => false,
        });
    }
}

impl StreamHost for WsInner {
    type Item = Frame;
    type Event = Delivery;

    fn link(&self) -> &StreamLink<Self> {
        &self.link
    }

    fn open(self: &Rc<Self>) -> bool {
        self.ws.borrow_mut().take();
        let url = self.socket_url();
        let weak = Rc::downgrade(self);
        let protocols = if self.opts.protocols.is_empty() {
            wasm_bindgen::JsValue::UNDEFINED
        } else {
            self.opts
                .protocols
                .iter()
                .map(|p| wasm_bindgen::JsValue::from_str(p))
                .collect::<js_sys::Array>()
                .into()
        };
        let opened = PlainSocket::open(&url, &protocols, move |signal| {
            if let Some(inner) = weak.upgrade() {
                inner.signal(signal);
            }
        });
        match opened {
            Ok(ws) => {
                *self.ws.borrow_mut() = Some(ws);
                true
            }
            Err(_) => false,
        }
    }

    fn close(&self) {
        let ws = self.ws.borrow_mut().take();
        drop(ws);
    }

    fn write(self: &Rc<Self>, frame: Frame) -> bool {
        if let Some(id) = frame.ack {
            if let Some(a) = self.acks.borrow_mut().iter_mut().find(|a| a.id == id) {
                a.sent = true;
            }
        }
        let ws = self.ws.borrow();
        let Some(ws) = ws.as_ref() else {
            return false;
        };
        match &frame.message {
            Message::Text(t) => {
                super::debug::text(true, "frame", t);
                ws.send_text(t).is_ok()
            }
            Message::Binary(b) => {
                log::trace!(target: super::debug::TARGET, "send binary ({} bytes)", b.len());
                ws.send_binary(b).is_ok()
            }
        }
    }

    fn ping(&self) -> bool {
        let ws = self.ws.borrow();
        let Some(ws) = ws.as_ref() else {
            return false;
        };
        match &self.opts.ping {
            Message::Text(t) => ws.send_text(t).is_ok(),
            Message::Binary(b) => ws.send_binary(b).is_ok(),
        }
    }

    fn deliver(self: &Rc<Self>, delivery: Delivery) {
        match delivery {
            Delivery::State(e) => {
                match e {
                    StreamEvent::Connect { .. } => {
                        self.generation.set(self.generation.get().wrapping_add(1));
                    }
                    StreamEvent::Disconnect(_) => self.fail_sent_acks(),
                    _ => {}
                }
                self.listeners.call(|h| match h {
                    Handler::State(f) => {
                        f(&e);
                        true
                    }
                    _ => false,
                });
                if let StreamEvent::ConnectError { reason, .. } = e {
                    let error = Error::Transport(reason);
                    self.listeners.call(|h| match h {
                        Handler::ConnectError(f) => {
                            f(&error);
                            true
                        }
                        _ => false,
                    });
                }
            }
            Delivery::Frame(FrameData::Text(text)) => self.text(text),
            Delivery::Frame(FrameData::Binary(bytes)) => self.message(Message::Binary(bytes)),
        }
    }
}

impl Listeners for WsInner {
    fn remove(&self, id: u64) {
        self.listeners.remove(id);
    }
}

impl Drop for WsInner {
    fn drop(&mut self) {
        for a in self.acks.get_mut().drain(..) {
            a.reply.complete(Err(Error::Disconnected));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handles

/// A connection in the plain-WebSocket mode (`MODES.md`). Cheap to clone; every clone is the
/// same connection, which closes when the last handle is dropped (no `WebSocket`, timer or
/// listener is left) or on [`disconnect`](Self::disconnect).
///
/// It reconnects with backoff and jitter, holds what is sent while down (up to
/// [`WsOptions::max_buffer`]), writes a heartbeat and reconnects when the server goes silent.
/// Acks still pending when a connection is lost fail with [`Error::Disconnected`].
///
/// A listener that must reach its own connection should capture a [`WeakWs`]: a strong handle
/// captured by a listener keeps the connection alive forever.
///
/// ```no_run
/// use rtio::ws::{Message, StreamEvent, Ws, WsOptions};
/// use std::time::Duration;
/// # async fn demo() -> Result<(), rtio::ws::Error> {
/// let ws = Ws::connect("ws://127.0.0.1:8080/ws", WsOptions::default().room("lobby"))?;
/// let _state = ws.on_state(|e: &StreamEvent| web_sys::console::log_1(&format!("{e:?}").into()));
/// let _confirm = ws.on_with_ack("confirm", |_question: String, ack| {
///     if let Some(ack) = ack {
///         let _ = ack.send(&"yes");
///     }
/// });
/// let _raw = ws.on_message(|m| {
///     if let Message::Binary(bytes) = m {
///         web_sys::console::log_1(&bytes.len().into());
///     }
/// });
/// ws.emit("chat", &serde_json::json!({ "text": "hi" }))?;
/// let echoed: (u32, String) = ws
///     .emit_many_with_ack("echo", &[&1, &"a"])
///     .timeout(Duration::from_secs(2))
///     .await?;
/// ws.send_raw("not an envelope")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Ws {
    inner: Rc<WsInner>,
}

impl std::fmt::Debug for Ws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ws")
            .field("url", &self.inner.url)
            .field("connected", &self.connected())
            .field("rooms", &*self.inner.rooms.borrow())
            .finish()
    }
}

common_handle!(
    Ws,
    WeakWs,
    WsInner,
    WsOptions,
    "connection",
    "; pending acks fail as with any lost connection"
);
typed_events!(Ws, Error);

impl Ws {
    /// Connects to `url` (`ws(s)://`, `http(s)://` or relative to the page). Returns at once;
    /// the connection proceeds in the background (see [`on_state`](Self::on_state),
    /// [`connected`](Self::connected)).
    pub fn connect(url: &str, opts: WsOptions) -> Result<Ws, Error> {
        let resolved =
            http::resolve(url, &["ws", "wss"]).ok_or_else(|| Error::InvalidUrl(url.into()))?;
        let inner = Rc::new(WsInner {
            link: StreamLink::new(opts.stream_config()),
            url: resolved,
            ws: RefCell::new(None),
            listeners: Registry::default(),
            acks: RefCell::new(Vec::new()),
            next_ack: Cell::new(0),
            generation: Cell::new(0),
            rooms: RefCell::new(opts.common.rooms.clone()),
            id: RefCell::new(None),
            rejoin: Cell::new(false),
            opts,
        });
        StreamLink::start(&inner);
        let ws = Ws { inner };
        if ws.inner.opts.common.auto_connect {
            ws.open();
        }
        Ok(ws)
    }

    fn add(&self, key: Option<&str>, handler: Handler) -> Subscription {
        let id = self.inner.listeners.add(false, key, handler);
        let owner: Weak<dyn Listeners> = Rc::downgrade(&self.inner) as Weak<WsInner>;
        Subscription::new(owner, id)
    }

    fn event_handler<T, F>(event: &str, mut f: F) -> Handler
    where
        T: DeserializeOwned,
        F: FnMut(T, Option<AckSender>) + 'static,
    {
        let name: Rc<str> = Rc::from(event);
        let label = name.clone();
        Handler::Event(
            name,
            Box::new(move |args, ack| match from_args::<T>(args) {
                Ok(v) => {
                    f(v, ack.cloned());
                    true
                }
                Err(e) => {
                    warn(&format!("rtio: \"{label}\" arguments ignored: {e}"));
                    false
                }
            }),
        )
    }

    /// Calls `f` with each `event`'s arguments deserialized as `T` (none reads as `null`, one
    /// as itself, several as a tuple). Arguments that do not deserialize are skipped with a
    /// console warning. The listener lives until the returned [`Subscription`] is dropped.
    pub fn on<T, F>(&self, event: &str, mut f: F) -> Subscription
    where
        T: DeserializeOwned + 'static,
        F: FnMut(T) + 'static,
    {
        self.add(Some(event), Self::event_handler(event, move |v, _| f(v)))
    }

    /// Like [`on`](Self::on), for events the server sends asking for an ack: `f` also gets
    /// the [`AckSender`] (`None` when no ack was asked for).
    pub fn on_with_ack<T, F>(&self, event: &str, f: F) -> Subscription
    where
        T: DeserializeOwned + 'static,
        F: FnMut(T, Option<AckSender>) + 'static,
    {
        self.add(Some(event), Self::event_handler(event, f))
    }

    /// Calls `f` with the name and raw JSON arguments of every envelope event.
    pub fn on_any(&self, f: impl FnMut(&str, &[Value]) + 'static) -> Subscription {
        self.add(None, Handler::Any(Box::new(f)))
    }

    /// Calls `f` with every raw frame: text that is not an envelope, and every binary frame
    /// (every frame with [`WsOptions::envelope`] off).
    pub fn on_message(&self, mut f: impl FnMut(Message) + 'static) -> Subscription {
        self.add(None, Handler::Message(Box::new(move |m| f(m.clone()))))
    }

    /// Calls `f` each time an attempt to connect fails, with why ([`Error::Transport`]: the
    /// browser hides a refused upgrade's HTTP status).
    pub fn on_connect_error(&self, f: impl FnMut(&Error) + 'static) -> Subscription {
        self.add(None, Handler::ConnectError(Box::new(f)))
    }

    /// Removes every listener of `event` (including ones whose [`Subscription`] is still held).
    pub fn off(&self, event: &str) {
        self.inner.listeners.remove_key(event);
    }

    /// Sends one frame now, or holds it while down; gives it back when the buffer is full.
    fn send(&self, frame: Frame) -> Result<(), Error> {
        match StreamLink::apply(&self.inner, |s, now| s.send(frame, now)) {
            Some(Ok(())) => Ok(()),
            _ => Err(Error::BufferFull),
        }
    }

    fn event_frame(event: &str, args: &[&dyn Arg], ack: Option<u64>) -> Result<Frame, Error> {
        check_name(event)?;
        let args = arg_texts(args)?;
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let text = match ack {
            Some(n) => envelope::request(n, event, &args),
            None => envelope::event(event, &args),
        };
        Ok(Frame {
            message: Message::Text(text),
            ack,
        })
    }

    /// Emits `event` with one argument: `["event", payload]`. While the connection is down the
    /// frame is held (up to [`WsOptions::max_buffer`]) and written once it is up.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, payload: &T) -> Result<(), Error> {
        self.send(Self::event_frame(event, &[&payload], None)?)
    }

    /// Emits `event` with any number of arguments of any serializable types.
    pub fn emit_many(&self, event: &str, args: &[&dyn Arg]) -> Result<(), Error> {
        self.send(Self::event_frame(event, args, None)?)
    }

    /// Emits `event` to the other members of `room`: `["rtio:to", room, event, payload]`.
    pub fn emit_to<T: Serialize + ?Sized>(
        &self,
        room: &str,
        event: &str,
        payload: &T,
    ) -> Result<(), Error> {
        check_name(event)?;
        let arg = arg_texts(&[&payload])?;
        let text = envelope::relay(room, event, &[&arg[0]]);
        self.send(Frame {
            message: Message::Text(text),
            ack: None,
        })
    }

    /// Emits `event` only if the connection is open now (`volatile`); returns whether it was
    /// written.
    pub fn emit_volatile<T: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &T,
    ) -> Result<bool, Error> {
        let frame = Self::event_frame(event, &[&payload], None)?;
        Ok(StreamLink::apply(&self.inner, |s, now| s.send_volatile(frame, now)).unwrap_or(false))
    }

    /// Writes a raw frame (text or binary), held while the connection is down.
    pub fn send_raw(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.send(Frame {
            message: message.into(),
            ack: None,
        })
    }

    /// Emits `event` with one argument asking for an ack (`[n, "event", payload]`) and waits
    /// for it: the ack's arguments deserialized as `R` (one as itself, several as a tuple).
    /// Fails with [`Error::Disconnected`] when the connection is lost after the request was
    /// written; the timeout is [`WsOptions::ack_timeout`] unless set with
    /// [`AckFuture::timeout`]. Dropping the future stops waiting.
    pub fn emit_with_ack<R: DeserializeOwned, T: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &T,
    ) -> AckFuture<R> {
        self.emit_many_with_ack(event, &[&payload])
    }

    /// Like [`emit_with_ack`](Self::emit_with_ack), with any number of arguments.
    pub fn emit_many_with_ack<R: DeserializeOwned>(
        &self,
        event: &str,
        args: &[&dyn Arg],
    ) -> AckFuture<R> {
        let inner = &self.inner;
        let reply = AckReply::default();
        let id = inner.next_ack.get();
        inner.next_ack.set(id.wrapping_add(1));
        let mut registered = None;
        match Self::event_frame(event, args, Some(id)) {
            Err(e) => {
                reply.complete(Err(e));
            }
            Ok(frame) => {
                inner.acks.borrow_mut().push(PendingAck {
                    id,
                    sent: false,
                    reply: reply.clone(),
                });
                registered = Some(id);
                if let Err(e) = self.send(frame) {
                    inner.acks.borrow_mut().retain(|a| a.id != id);
                    registered = None;
                    reply.complete(Err(e));
                }
            }
        }
        let fut = AckFuture {
            ws: Rc::downgrade(inner),
            id: registered,
            reply,
            deadline: None,
            _reply: PhantomData,
        };
        match inner.opts.common.ack_timeout {
            Some(t) => fut.timeout(t),
            None => fut,
        }
    }
}

/// Answers an event the server sent asking for an ack (`[n, "event", ...]`) with
/// `{"ack": n, "args": [...]}`. The first answer of all the event's listeners wins; an answer
/// after the connection was lost is dropped (a new connection cannot take it).
#[derive(Clone)]
pub struct AckSender {
    ws: Weak<WsInner>,
    id: u64,
    generation: u64,
    used: Rc<Cell<bool>>,
}

impl std::fmt::Debug for AckSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckSender").field("id", &self.id).finish()
    }
}

impl AckSender {
    /// Sends the ack with one argument.
    pub fn send<T: Serialize + ?Sized>(self, reply: &T) -> Result<(), Error> {
        self.send_args(&[&reply])
    }

    /// Sends the ack with any number of arguments (none included).
    pub fn send_args(self, args: &[&dyn Arg]) -> Result<(), Error> {
        let args = arg_texts(args)?;
        let text = envelope::ack(
            self.id,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let Some(inner) = self.ws.upgrade() else {
            return Ok(());
        };
        if inner.generation.get() != self.generation || self.used.replace(true) {
            return Ok(());
        }
        let frame = Frame {
            message: Message::Text(text),
            ack: None,
        };
        StreamLink::apply(&inner, |s, now| s.send_volatile(frame, now));
        Ok(())
    }
}

/// The pending ack of [`Ws::emit_with_ack`].
#[must_use = "the ack is only received when the future is awaited"]
pub struct AckFuture<R> {
    ws: Weak<WsInner>,
    id: Option<u64>,
    reply: AckReply,
    deadline: Option<Timer>,
    _reply: PhantomData<R>,
}

impl<R> AckFuture<R> {
    /// Fails with [`Error::Timeout`] if no ack arrives within `timeout` from now.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = deadline(&self.reply, timeout);
        self
    }
}

impl<R: DeserializeOwned> Future for AckFuture<R> {
    type Output = Result<R, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.reply.poll(cx) {
            Poll::Ready(Some(Ok(args))) => {
                Poll::Ready(from_args(&args).map_err(|e| Error::Decode(e.to_string())))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Err(e)),
            Poll::Ready(None) => Poll::Ready(Err(Error::Disconnected)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<R> Unpin for AckFuture<R> {}

impl<R> Drop for AckFuture<R> {
    fn drop(&mut self) {
        let (Some(id), Some(inner)) = (self.id, self.ws.upgrade()) else {
            return;
        };
        if let Ok(mut acks) = inner.acks.try_borrow_mut() {
            acks.retain(|a| a.id != id);
        };
    }
}
