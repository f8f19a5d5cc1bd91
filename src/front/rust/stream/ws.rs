//! The plain-WebSocket mode of `MODES.md` for Rust front ends: [`Ws`], a reconnecting
//! `WebSocket` speaking a small JSON envelope (`codec::envelope`), with typed listeners,
//! acknowledgements both ways, a heartbeat, and raw frames for servers that speak no envelope.
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
//! is a raw [`Message`], delivered to [`Ws::on_message`]. Acks still pending when a connection
//! is lost fail with [`Error::Disconnected`]; an answer to a request goes on the connection the
//! request came on, or nowhere.
//!
//! ```no_run
//! use rtio::ws::{Message, StreamEvent, Ws, WsOptions};
//! use std::time::Duration;
//! # async fn demo() -> Result<(), rtio::ws::Error> {
//! let ws = Ws::connect("ws://127.0.0.1:8080/ws", WsOptions::default().room("lobby"))?;
//! let _chat = ws.on("chat", |text: String| web_sys::console::log_1(&text.into()));
//! let _confirm = ws.on_with_ack("confirm", |_question: String, ack| {
//!     if let Some(ack) = ack {
//!         let _ = ack.send(&"yes");
//!     }
//! });
//! let _raw = ws.on_message(|m: Message| web_sys::console::log_1(&format!("{m:?}").into()));
//! ws.emit("chat", &"hi")?;
//! let sum: i64 = ws
//!     .emit_many_with_ack("add", &[&1, &2])
//!     .timeout(Duration::from_secs(2))
//!     .await?;
//! ws.send_raw("not an envelope")?;
//! # Ok(()) }
//! ```

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::conn::{Delivery, Extra, Hooks, Inner, Outgoing, StreamListener};
use super::{Mode, StreamClient, StreamOptions, StreamParts, WeakStreamClient};
use crate::codec::envelope::{self, Envelope};
use crate::front::rust::emitter::{ms, Handler};
use crate::front::rust::options::{kind::Kind, ClientOptions};
use crate::shell::plain_websocket::{FrameData, PlainSignal, PlainSocket};
use crate::shell::stream_link::StreamLink;

pub use super::{Error, Message, StreamClosed, StreamEvent};
pub use crate::front::rust::emitter::Subscription;

/// A connection in the plain-WebSocket mode (`MODES.md`). See [`StreamClient`] for its methods
/// and the module for an example.
pub type Ws = StreamClient<WsMode>;
/// A handle that does not keep its [`Ws`] alive; see [`StreamClient::downgrade`].
pub type WeakWs = WeakStreamClient<WsMode>;
/// Options of [`Ws::connect`]: [`StreamOptions`] and the plain-WebSocket mode's own.
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
pub type WsOptions = StreamOptions<WsMode>;
/// The pending ack of [`Ws::emit_with_ack`].
pub type AckFuture<R> = crate::AckFuture<R, Error>;
/// Answers an event the server sent asking for an ack (see [`Ws::on_with_ack`]).
pub type AckSender = crate::AckSender<Error>;

/// The plain-WebSocket mode of the stream client.
#[derive(Debug, Clone, Copy)]
pub struct WsMode;

impl Mode for WsMode {}

impl ClientOptions<WsMode> {
    /// The WebSocket subprotocols to offer (default none).
    pub fn protocols<S: Into<String>>(mut self, protocols: impl IntoIterator<Item = S>) -> Self {
        self.own.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Whether frames are read as the JSON envelope (default true). Off, every frame is a
    /// [`Message`].
    pub fn envelope(mut self, on: bool) -> Self {
        self.own.envelope = on;
        self
    }

    /// The heartbeat message (default the text `["ping"]`).
    pub fn ping(mut self, message: impl Into<Message>) -> Self {
        self.own.ping = message.into();
        self
    }

    /// How often the heartbeat is written while connected (default 25 s; zero: never).
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.own.ping_interval = interval;
        self
    }

    /// Reconnects when nothing arrived for the ping interval plus this (default 20 s; zero: no
    /// watchdog). Any frame counts as life (a server's `["pong"]` is the event `pong`).
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.own.ping_timeout = timeout;
        self
    }
}

impl StreamClient<WsMode> {
    /// Like [`on`](Self::on), for events the server sends asking for an ack: `f` also gets
    /// the [`AckSender`] (`None` when no ack was asked for).
    pub fn on_with_ack<T, F>(&self, event: &str, mut f: F) -> Subscription
    where
        T: DeserializeOwned + 'static,
        F: FnMut(T, Option<AckSender>) + 'static,
    {
        self.on_event(event, move |v, extra: &Extra| f(v, extra.ack.clone()))
    }

    /// Calls `f` with the name and raw JSON arguments of every envelope event.
    pub fn on_any(&self, f: impl FnMut(&str, &[Value]) + 'static) -> Subscription {
        self.add(None, Handler::Any(Box::new(f)))
    }

    /// Calls `f` with every raw frame: text that is not an envelope, and every binary frame
    /// (every frame with [`WsOptions::envelope`] off).
    pub fn on_message(&self, mut f: impl FnMut(Message) + 'static) -> Subscription {
        self.add(
            None,
            Handler::Own(StreamListener::Message(Box::new(move |m| f(m.clone())))),
        )
    }

    /// Writes a raw frame (text or binary), held while the connection is down.
    pub fn send_raw(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.send(Outgoing::Raw(message.into()))
    }
}

// ---------------------------------------------------------------------------------------------
// The transport

/// The plain-WebSocket mode's parts of a connection (private: reached only through the mode).
mod parts {
    use std::cell::RefCell;
    use std::time::Duration;

    use super::Message;
    use crate::shell::plain_websocket::{FrameData, PlainSocket};

    /// The plain-WebSocket mode's own options.
    #[derive(Debug, Clone)]
    pub struct WsSettings {
        pub(crate) stream: super::StreamParts,
        pub(crate) protocols: Vec<String>,
        pub(crate) envelope: bool,
        pub(crate) ping: Message,
        pub(crate) ping_interval: Duration,
        pub(crate) ping_timeout: Duration,
    }

    impl Default for WsSettings {
        fn default() -> Self {
            WsSettings {
                stream: super::StreamParts::default(),
                protocols: Vec::new(),
                envelope: true,
                ping: Message::Text("[\"ping\"]".into()),
                ping_interval: Duration::from_millis(25_000),
                ping_timeout: Duration::from_millis(20_000),
            }
        }
    }

    /// The plain-WebSocket mode's side of a connection.
    pub struct WsState {
        pub(crate) ws: RefCell<Option<PlainSocket>>,
    }

    /// A frame the socket received.
    pub struct Frame(pub(crate) FrameData);
}

use parts::{Frame, WsSettings, WsState};

type WsInner = Inner<WsMode>;

/// A received envelope, its arguments read.
enum Read {
    /// An event, and the id of the ack its sender wants.
    Event(String, Vec<Value>, Option<u64>),
    /// The answer to request `id`.
    Ack(u64, Result<Vec<Value>, Error>),
}

impl Kind for WsMode {
    type Options = WsSettings;
}

impl Hooks for WsMode {
    fn stream(opts: &WsSettings) -> &StreamParts {
        &opts.stream
    }

    fn stream_mut(opts: &mut WsSettings) -> &mut StreamParts {
        &mut opts.stream
    }

    type State = WsState;
    type Delivery = Frame;
    const SCHEMES: &'static [&'static str] = &["ws", "wss"];
    /// Acks come on the connection: losing it fails those written on it.
    const ACKS_ON_CONNECTION: bool = true;

    fn state(_: &WsSettings, _: &str) -> Result<WsState, Error> {
        Ok(WsState {
            ws: RefCell::new(None),
        })
    }

    fn heartbeat(opts: &WsSettings) -> (Option<u64>, Option<u64>) {
        let interval = ms(opts.ping_interval);
        let timeout = ms(opts.ping_timeout);
        (
            (timeout > 0).then(|| interval.saturating_add(timeout)),
            (interval > 0).then_some(interval),
        )
    }

    fn open(inner: &Rc<WsInner>) -> bool {
        inner.mode.ws.borrow_mut().take();
        let url = inner.url_with(&[]);
        let weak = Rc::downgrade(inner);
        let protocols = &inner.opts.own.protocols;
        let protocols = if protocols.is_empty() {
            wasm_bindgen::JsValue::UNDEFINED
        } else {
            protocols
                .iter()
                .map(|p| wasm_bindgen::JsValue::from_str(p))
                .collect::<js_sys::Array>()
                .into()
        };
        let opened = PlainSocket::open(&url, &protocols, move |signal| {
            if let Some(inner) = weak.upgrade() {
                on_signal(&inner, signal);
            }
        });
        match opened {
            Ok(ws) => {
                *inner.mode.ws.borrow_mut() = Some(ws);
                true
            }
            Err(_) => false,
        }
    }

    fn close(inner: &WsInner) {
        let ws = inner.mode.ws.borrow_mut().take();
        drop(ws);
    }

    fn has_transport(inner: &WsInner) -> bool {
        inner.mode.ws.borrow().is_some()
    }

    fn write(inner: &Rc<WsInner>, item: Outgoing) -> bool {
        let message = match item {
            Outgoing::Raw(m) => m,
            Outgoing::Emit {
                event,
                args,
                room,
                ack,
            } => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                Message::Text(match (room, ack) {
                    (Some(room), _) => envelope::relay(&room, &event, &args),
                    (None, Some(id)) => envelope::request(id, &event, &args),
                    (None, None) => envelope::event(&event, &args),
                })
            }
        };
        let ws = inner.mode.ws.borrow();
        let Some(ws) = ws.as_ref() else {
            return false;
        };
        match &message {
            Message::Text(t) => {
                crate::front::rust::debug::text(true, "frame", t);
                ws.send_text(t).is_ok()
            }
            Message::Binary(b) => {
                log::trace!(
                    target: crate::front::rust::debug::TARGET,
                    "send binary ({} bytes)",
                    b.len()
                );
                ws.send_binary(b).is_ok()
            }
        }
    }

    fn ping(inner: &WsInner) -> bool {
        let ws = inner.mode.ws.borrow();
        let Some(ws) = ws.as_ref() else {
            return false;
        };
        match &inner.opts.own.ping {
            Message::Text(t) => ws.send_text(t).is_ok(),
            Message::Binary(b) => ws.send_binary(b).is_ok(),
        }
    }

    fn deliver(inner: &Rc<WsInner>, Frame(frame): Frame) {
        match frame {
            FrameData::Text(text) => read_text(inner, text),
            FrameData::Binary(bytes) => inner.message(&Message::Binary(bytes)),
        }
    }
}

fn on_signal(inner: &Rc<WsInner>, signal: PlainSignal) {
    match signal {
        PlainSignal::Open => {
            StreamLink::apply(inner, |s, now| s.handle_opened(now));
        }
        PlainSignal::Frame(data) => {
            crate::front::rust::debug::frame(false, &data);
            StreamLink::apply(inner, |s, now| s.handle_activity(now));
            StreamLink::deliver(inner, Delivery::Mode(Frame(FrameData::read(data))));
        }
        PlainSignal::Closed(_) | PlainSignal::Error => {
            let error = matches!(signal, PlainSignal::Error);
            let ws = inner.mode.ws.borrow_mut().take();
            drop(ws);
            StreamLink::apply(inner, |s, now| s.handle_closed(error, now));
        }
    }
}

/// Reads one text frame as the envelope (`codec::envelope`), or as a raw message. The arguments
/// are read by serde_json; one it cannot read makes the frame a raw message.
fn read_text(inner: &Rc<WsInner>, text: String) {
    if !inner.opts.own.envelope {
        return inner.message(&Message::Text(text));
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
            None => inner.is_pending(id).then(|| Read::Ack(id, malformed())),
        },
        // An answer of the wrong shape for an emit waiting for it settles it.
        Some(Envelope::MalformedAck { id }) if inner.is_pending(id) => {
            Some(Read::Ack(id, malformed()))
        }
        _ => None,
    };
    match frame {
        Some(Read::Event(name, args, id)) => {
            let extra = Extra {
                raw: None,
                ack: id.map(|id| inner.ack_sender(id)),
            };
            inner.event(&name, &args, extra);
        }
        Some(Read::Ack(id, answer)) => inner.complete_ack(id, answer),
        None => inner.message(&Message::Text(text)),
    }
}
