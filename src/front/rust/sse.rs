//! The SSE mode of `MODES.md` for Rust front ends: [`Sse`], a reconnecting `EventSource` with
//! typed listeners, emits as `POST`s whose answer is the acknowledgement, rooms, resume from the
//! last event id and a heartbeat watchdog.
//!
//! ```no_run
//! use rtio::sse::{Sse, SseOptions};
//! # async fn demo() -> Result<(), rtio::sse::Error> {
//! #[derive(serde::Deserialize)]
//! struct Headline { title: String }
//! let feed = Sse::connect("/events", SseOptions::default().room("news"))?;
//! let _sub = feed.on("headline", |h: Headline| web_sys::console::log_1(&h.title.into()));
//! let reply: serde_json::Value = feed.emit_with_ack("vote", &serde_json::json!({ "id": 7 })).await?;
//! # Ok(()) }
//! ```

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
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
use super::stream::{common_handle, common_options, StreamCommon};
use crate::session::stream::StreamConfig;
use crate::shell::clock;
use crate::shell::event_source::{EsSignal, EsTransport};
use crate::shell::http::{self, Answer, Post, Probe};
use crate::shell::listeners::{Registry, Reply};
use crate::shell::sse_fetch::{FetchSignal, FetchTransport};
use crate::shell::stream_link::{StreamHost, StreamLink};
use crate::shell::timer::Timer;

pub use super::error::StreamError as Error;
pub use super::socket::Subscription;
pub use crate::session::stream::StreamClosed;
pub use crate::shell::stream_link::StreamEvent;

/// Names an `emit` may not use: the connection's own events, as socket.io-client keeps them.
const RESERVED: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Whether a server event named `name` must be dropped: a lifecycle name of the client (the
/// ones `emit` refuses, and those of the JS door: `error`, `reconnect*`), which a server must
/// not fake.
pub(super) fn lifecycle(name: &str) -> bool {
    RESERVED.contains(&name)
        || matches!(
            name,
            "error" | "reconnect" | "reconnect_attempt" | "reconnect_failed"
        )
}

/// The rooms convention's event that gives this client its id.
const HELLO: &str = "rtio:hello";

/// How the event stream is read; see [`SseOptions::transport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SseTransport {
    /// The browser's `EventSource` (the default): no request headers on the stream, the last
    /// event id resumed through the query parameter `lastEventId`, and only the events of names
    /// listened to are heard.
    #[default]
    EventSource,
    /// `fetch` with a streaming body, read by rtio's own SSE parser: the stream's request
    /// carries [`SseOptions::header`]s and `Last-Event-ID`, `retry:` sets the least reconnection
    /// delay, and every event is heard (so [`Sse::on_any`] sees all of them).
    Fetch,
}

/// Options of [`Sse::connect`]; the defaults are `MODES.md`'s.
///
/// ```no_run
/// use rtio::sse::SseOptions;
/// use std::time::Duration;
/// let opts = SseOptions::default()
///     .rooms(["news", "sports"])
///     .meta(&serde_json::json!({ "name": "Ada" }))
///     .ping_timeout(Duration::from_secs(30))
///     .emit_url("/emit")
///     .header("Authorization", "Bearer t1");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SseOptions {
    common: StreamCommon,
    with_credentials: bool,
    headers: Vec<(String, String)>,
    emit_url: Option<String>,
    ping: String,
    ping_timeout: Option<Duration>,
    last_event_id: Option<String>,
    transport: SseTransport,
}

impl Default for SseOptions {
    fn default() -> Self {
        SseOptions {
            common: StreamCommon::default(),
            with_credentials: false,
            headers: Vec::new(),
            emit_url: None,
            ping: "ping".into(),
            ping_timeout: None,
            last_event_id: None,
            transport: SseTransport::EventSource,
        }
    }
}

common_options!(SseOptions, Sse, "stream", "emits");

impl SseOptions {
    /// Sends cookies cross-origin: `EventSource`'s `withCredentials`, and
    /// `credentials: "include"` for the emits' `POST`s and the [`SseTransport::Fetch`] stream
    /// (default false).
    pub fn with_credentials(mut self, on: bool) -> Self {
        self.with_credentials = on;
        self
    }

    /// Adds a header to the emits' `POST`s, and to the stream's request with
    /// [`SseTransport::Fetch`] (`EventSource` cannot send headers on the stream).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Where emits are `POST`ed (default: the stream's URL).
    pub fn emit_url(mut self, url: impl Into<String>) -> Self {
        self.emit_url = Some(url.into());
        self
    }

    /// The heartbeat's event name (default `ping`); it is always listened to.
    pub fn ping(mut self, event: impl Into<String>) -> Self {
        self.ping = event.into();
        self
    }

    /// Reconnects when nothing (no event, no heartbeat) arrived for this long (default: no
    /// watchdog). Set it above the server's heartbeat period. With `EventSource` only events of
    /// names listened to are seen: the heartbeat, `message` and those with a listener; with
    /// [`SseTransport::Fetch`] any bytes of the stream are.
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.ping_timeout = (!timeout.is_zero()).then_some(timeout);
        self
    }

    /// Resumes from this event id on the first connect (the query parameter `lastEventId`, or
    /// the `Last-Event-ID` header with [`SseTransport::Fetch`]).
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.last_event_id = Some(id.into());
        self
    }

    /// How the stream is read (default [`SseTransport::EventSource`]).
    pub fn transport(mut self, transport: SseTransport) -> Self {
        self.transport = transport;
        self
    }

    fn stream_config(&self) -> StreamConfig {
        self.common.stream_config(self.ping_timeout.map(ms), None)
    }
}

pub(super) fn ms(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}

/// Refuses the names `emit` may not use.
pub(super) fn check_name(event: &str) -> Result<(), Error> {
    if RESERVED.contains(&event) || event.starts_with("rtio:") {
        Err(Error::Reserved(event.into()))
    } else {
        Ok(())
    }
}

/// `args` as the JSON text of an array.
fn encode_args(args: &[&dyn Arg]) -> Result<String, Error> {
    let mut text = String::from("[");
    for a in args {
        text.push_str(&a.to_json().map_err(Error::Encode)?);
        text.push(',');
    }
    if text.ends_with(',') {
        text.pop();
    }
    text.push(']');
    Ok(text)
}

/// An answer's body as a value: JSON, else the text, `null` when empty.
fn answer_data(a: Answer) -> Value {
    if a.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&a.body).unwrap_or(Value::String(a.body))
    }
}

/// A JSON string's text.
pub(super) fn json_str(s: &str) -> String {
    Value::from(s).to_string()
}

/// The id in an `rtio:hello`'s data: `{"id": id}`, or that object as the first element of an
/// array.
pub(super) fn hello_id(data: &Value) -> Option<String> {
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

// ---------------------------------------------------------------------------------------------
// The connection

/// One emit, held while the stream is down.
struct Emit {
    event: String,
    /// The arguments' JSON array text.
    args: String,
    room: Option<String>,
    reply: Option<PendingReply>,
}

type AckReply = Reply<Result<Value, Error>>;

/// A reply that fails with [`Error::Disconnected`] if it is dropped unanswered (an emit held
/// when its `Sse` is dropped).
struct PendingReply(AckReply);

impl Drop for PendingReply {
    fn drop(&mut self) {
        self.0.complete(Err(Error::Disconnected));
    }
}

enum Delivery {
    State(StreamEvent),
    Event { name: String, data: String },
}

impl From<StreamEvent> for Delivery {
    fn from(e: StreamEvent) -> Self {
        Delivery::State(e)
    }
}

/// Returns whether the data was taken (a `once` listener stays until it is).
type EventFn = dyn FnMut(&Value, &str) -> bool;
type AnyFn = dyn FnMut(&str, &Value);

enum Handler {
    Event(Rc<str>, Box<EventFn>),
    Any(Box<AnyFn>),
    State(Box<dyn FnMut(&StreamEvent)>),
    ConnectError(Box<dyn FnMut(&Error)>),
}

/// The transport of the current attempt.
enum Transport {
    Es(EsTransport),
    /// Held only to be dropped: that aborts the request.
    Fetch(#[allow(dead_code)] FetchTransport),
}

impl Transport {
    fn listen(&mut self, name: &str) {
        if let Transport::Es(es) = self {
            es.listen(name);
        }
    }

    fn unlisten(&mut self, name: &str) {
        if let Transport::Es(es) = self {
            es.unlisten(name);
        }
    }
}

struct SseInner {
    link: StreamLink<SseInner>,
    url: String,
    emit_url: String,
    opts: SseOptions,
    es: RefCell<Option<Transport>>,
    /// Whether the current transport opened.
    opened: Cell<bool>,
    /// Counts the attempts opened and closed, so a late probe of an old one is ignored.
    attempt: Cell<u64>,
    /// The `GET` asking why the current attempt failed.
    probe: RefCell<Option<Probe>>,
    /// What the probe learned, for the attempt's `connect_error`.
    connect_error: RefCell<Option<Error>>,
    listeners: Registry<Handler>,
    rooms: RefCell<Vec<String>>,
    last_event_id: RefCell<Option<String>>,
    id: RefCell<Option<String>>,
    post: Post,
    /// Emits waiting for the `POST` in flight: one goes at a time (see `write`).
    posts: RefCell<VecDeque<Emit>>,
    /// A `POST` of an emit is in flight.
    posting: Cell<bool>,
    /// A reconnection for new rooms is scheduled.
    rejoin: Cell<bool>,
}

impl SseInner {
    /// Sends the oldest waiting emit, if any.
    fn post_next(self: &Rc<Self>) {
        let Some(mut emit) = self.posts.borrow_mut().pop_front() else {
            self.posting.set(false);
            return;
        };
        self.posting.set(true);
        let body = self.body(&emit);
        super::debug::text(true, "POST", &body);
        let answer = self.post.send(
            &self.emit_url,
            &body,
            &self.opts.headers,
            self.opts.with_credentials,
        );
        let reply = emit.reply.take();
        let weak = Rc::downgrade(self);
        crate::shell::spawn(async move {
            let answer = answer.await;
            if let Some(inner) = weak.upgrade() {
                inner.post_next();
            }
            let Some(reply) = reply else { return };
            let result = match answer {
                // The Sse was dropped: its requests were cancelled.
                Err(_) if weak.strong_count() == 0 => Err(Error::Disconnected),
                Err(e) => Err(Error::Network(e)),
                Ok(a) => {
                    let status = a.status;
                    let data = answer_data(a);
                    if (200..300).contains(&status) {
                        Ok(data)
                    } else {
                        Err(Error::Http { status, data })
                    }
                }
            };
            reply.0.complete(result);
        });
    }

    /// Whether `name` is listened to whatever the listeners.
    fn always(&self, name: &str) -> bool {
        name == "message" || name == HELLO || name == self.opts.ping
    }

    /// The stream's URL; with the last event id as the query parameter `lastEventId` when
    /// `with_id` (the fetch transport sends it as a header instead).
    fn stream_url(&self, with_id: bool) -> String {
        let rooms = self.rooms.borrow();
        let last = self.last_event_id.borrow();
        let last = if with_id { last.as_deref() } else { None };
        let mut pairs = self.opts.common.room_pairs(&rooms);
        if let Some(id) = last {
            pairs.push(("lastEventId", id));
        }
        for (k, v) in &self.opts.common.query {
            pairs.push((k, v));
        }
        http::with_query(&self.url, &pairs)
    }

    fn signal(self: &Rc<Self>, signal: EsSignal) {
        match signal {
            EsSignal::Open => {
                self.opened.set(true);
                StreamLink::apply(self, |s, now| s.handle_opened(now));
            }
            EsSignal::Event(e) => {
                let data = e.data().as_string().unwrap_or_default();
                self.event(e.type_(), data, e.last_event_id());
            }
            EsSignal::Error => {
                // Closed here whatever the browser would do next: rtio's backoff reconnects,
                // from the last event id.
                let es = match self.es.borrow_mut().take() {
                    Some(Transport::Es(es)) => es,
                    other => {
                        drop(other);
                        return;
                    }
                };
                if self.opened.get() {
                    drop(es);
                    StreamLink::apply(self, |s, now| s.handle_closed(false, now));
                } else if es.gave_up() {
                    // An answer that is not a stream: EventSource hides the status, so one GET
                    // asks for it. The attempt stays open until then.
                    let url = es.url();
                    drop(es);
                    self.ask_why(&url);
                } else {
                    drop(es);
                    StreamLink::apply(self, |s, now| s.handle_closed(true, now));
                }
            }
        }
    }

    /// An event arrived: its name, data and the last event id.
    fn event(self: &Rc<Self>, name: String, data: String, id: String) {
        super::debug::text(false, &name, &data);
        if !id.is_empty() {
            *self.last_event_id.borrow_mut() = Some(id);
        }
        StreamLink::apply(self, |s, now| s.handle_activity(now));
        StreamLink::deliver(self, Delivery::Event { name, data });
    }

    fn fetch_signal(self: &Rc<Self>, signal: FetchSignal) {
        match signal {
            FetchSignal::Open => {
                self.opened.set(true);
                StreamLink::apply(self, |s, now| s.handle_opened(now));
            }
            FetchSignal::Activity => {
                StreamLink::apply(self, |s, now| s.handle_activity(now));
            }
            FetchSignal::Event { name, data, id } => self.event(name, data, id),
            FetchSignal::Malformed(_) => {}
            FetchSignal::Retry(floor) => {
                StreamLink::apply(self, |s, _| s.handle_retry(floor));
            }
            FetchSignal::Refused { status, body } => {
                let Some(t) = self.es.borrow_mut().take() else {
                    return;
                };
                drop(t);
                *self.connect_error.borrow_mut() = Some(Error::Http {
                    status,
                    data: answer_data(Answer { status, body }),
                });
                StreamLink::apply(self, |s, now| s.handle_closed(true, now));
            }
            FetchSignal::End | FetchSignal::Error => {
                let Some(t) = self.es.borrow_mut().take() else {
                    return;
                };
                drop(t);
                let error = matches!(signal, FetchSignal::Error) || !self.opened.get();
                StreamLink::apply(self, |s, now| s.handle_closed(error, now));
            }
        }
    }

    /// Learns why the current attempt failed, then reports the failure.
    fn ask_why(self: &Rc<Self>, url: &str) {
        let attempt = self.attempt.get();
        let (probe, answer) = Probe::get(url, self.opts.with_credentials);
        *self.probe.borrow_mut() = Some(probe);
        let weak = Rc::downgrade(self);
        crate::shell::spawn(async move {
            let answer = answer.await;
            let Some(inner) = weak.upgrade() else { return };
            if inner.attempt.get() != attempt {
                return;
            }
            inner.probe.borrow_mut().take();
            let error = match answer {
                Ok(a) if !(200..300).contains(&a.status) => Error::Http {
                    status: a.status,
                    data: answer_data(a),
                },
                _ => Error::Transport(StreamClosed::TransportError),
            };
            *inner.connect_error.borrow_mut() = Some(error);
            StreamLink::apply(&inner, |s, now| s.handle_closed(true, now));
        });
    }

    fn body(&self, emit: &Emit) -> String {
        let mut body = format!(
            "{{\"event\":{},\"args\":{}",
            json_str(&emit.event),
            emit.args
        );
        if let Some(room) = &emit.room {
            body.push_str(",\"room\":");
            body.push_str(&json_str(room));
        }
        if let Some(id) = self.id.borrow().as_deref() {
            body.push_str(",\"id\":");
            body.push_str(&json_str(id));
        }
        body.push('}');
        body
    }

    /// Reconnects with the rooms as they are now, if a connection made with the old ones is
    /// open or opening.
    fn reopen(self: &Rc<Self>) {
        self.rejoin.set(false);
        if self.es.borrow().is_some() && self.link.is_active() {
            StreamLink::apply(self, |s, now| {
                s.disconnect();
                s.connect(now);
            });
        }
    }

    fn call_state(&self, e: &StreamEvent) {
        self.listeners.call(|h| match h {
            Handler::State(f) => {
                f(e);
                true
            }
            _ => false,
        });
        if let StreamEvent::ConnectError { reason, .. } = *e {
            let error = self
                .connect_error
                .borrow_mut()
                .take()
                .unwrap_or(Error::Transport(reason));
            self.listeners.call(|h| match h {
                Handler::ConnectError(f) => {
                    f(&error);
                    true
                }
                _ => false,
            });
        }
    }
}

impl StreamHost for SseInner {
    type Item = Emit;
    type Event = Delivery;

    fn link(&self) -> &StreamLink<Self> {
        &self.link
    }

    fn open(self: &Rc<Self>) -> bool {
        self.close();
        self.opened.set(false);
        if self.opts.transport == SseTransport::Fetch {
            let url = self.stream_url(false);
            let last = self.last_event_id.borrow().clone();
            let weak = Rc::downgrade(self);
            let opened = FetchTransport::open(
                &url,
                &self.opts.headers,
                last.as_deref(),
                self.opts.with_credentials,
                move |signal| {
                    if let Some(inner) = weak.upgrade() {
                        inner.fetch_signal(signal);
                    }
                },
            );
            return match opened {
                Ok(t) => {
                    *self.es.borrow_mut() = Some(Transport::Fetch(t));
                    true
                }
                Err(_) => false,
            };
        }
        let url = self.stream_url(true);
        let mut names: Vec<Rc<str>> = vec![
            Rc::from("message"),
            Rc::from(HELLO),
            Rc::from(self.opts.ping.as_str()),
        ];
        names.extend(self.listeners.keys());
        let weak = Rc::downgrade(self);
        let opened = EsTransport::open(
            &url,
            self.opts.with_credentials,
            names.iter().map(|n| &**n),
            move |signal| {
                if let Some(inner) = weak.upgrade() {
                    inner.signal(signal);
                }
            },
        );
        match opened {
            Ok(es) => {
                *self.es.borrow_mut() = Some(Transport::Es(es));
                true
            }
            Err(_) => false,
        }
    }

    fn close(&self) {
        self.attempt.set(self.attempt.get().wrapping_add(1));
        let es = self.es.borrow_mut().take();
        drop(es);
        let probe = self.probe.borrow_mut().take();
        drop(probe);
        self.connect_error.borrow_mut().take();
    }

    /// POSTs an emit; the answer is its ack. One `POST` at a time: the next goes once this one is
    /// answered (or failed), since requests in flight together may reach the server in any order.
    fn write(self: &Rc<Self>, emit: Emit) -> bool {
        self.posts.borrow_mut().push_back(emit);
        if !self.posting.get() {
            self.post_next();
        }
        true
    }

    fn ping(&self) -> bool {
        true
    }

    fn deliver(self: &Rc<Self>, delivery: Delivery) {
        match delivery {
            Delivery::State(e) => self.call_state(&e),
            Delivery::Event { name, data } => {
                if lifecycle(&name) {
                    return warn(&format!(
                        "rtio: dropped a server event under the reserved name \"{name}\""
                    ));
                }
                let value: Value =
                    serde_json::from_str(&data).unwrap_or_else(|_| Value::String(data.clone()));
                if name == HELLO {
                    if let Some(id) = hello_id(&value) {
                        *self.id.borrow_mut() = Some(id);
                    }
                }
                // The rooms convention's events are the client's own.
                if name.starts_with("rtio:") {
                    return;
                }
                self.listeners.call(|h| match h {
                    Handler::Event(n, f) if **n == *name => f(&value, &data),
                    Handler::Any(f) => {
                        f(&name, &value);
                        true
                    }
                    _ => false,
                });
            }
        }
    }
}

impl Listeners for SseInner {
    fn remove(&self, id: u64) {
        if let Some(name) = self.listeners.remove(id) {
            self.unlisten(&name);
        }
    }
}

impl SseInner {
    /// Stops hearing `name` on the `EventSource` once no listener wants it.
    fn unlisten(&self, name: &str) {
        if self.always(name) || self.listeners.has_key(name) {
            return;
        }
        if let Ok(mut es) = self.es.try_borrow_mut() {
            if let Some(es) = es.as_mut() {
                es.unlisten(name);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handles

/// A connection in the SSE mode (`MODES.md`): a stream of events from `GET url` through the
/// browser's `EventSource`, and emits as JSON `POST`s. Cheap to clone; every clone is the same
/// connection, which closes when the last handle is dropped (no `EventSource`, timer or
/// listener is left) or on [`disconnect`](Self::disconnect).
///
/// A new `EventSource` is made for each attempt, so rtio's backoff (with jitter) follows every
/// failure, including the HTTP errors after which a bare `EventSource` gives up; the last event
/// id is resumed through the query parameter `lastEventId`.
/// With [`SseTransport::Fetch`] each attempt is a streaming `fetch` instead, carrying the
/// [`SseOptions::header`]s and the last event id as `Last-Event-ID`.
///
/// A listener that must reach its own connection should capture a [`WeakSse`]: a strong handle
/// captured by a listener keeps the connection alive forever.
///
/// ```no_run
/// use rtio::sse::{Sse, SseOptions, StreamEvent};
/// # async fn demo() -> Result<(), rtio::sse::Error> {
/// #[derive(serde::Deserialize)]
/// struct Chat { text: String }
/// let sse = Sse::connect(
///     "http://127.0.0.1:8080/events",
///     SseOptions::default().emit_url("http://127.0.0.1:8080/emit").room("lobby"),
/// )?;
/// let _chat = sse.on("chat", |c: Chat| web_sys::console::log_1(&c.text.into()));
/// let _state = sse.on_state(|e: &StreamEvent| web_sys::console::log_1(&format!("{e:?}").into()));
/// sse.emit("chat", &serde_json::json!({ "text": "hi" }))?;
/// let echoed: Vec<u32> = sse.emit_with_ack("echo", &1).await?;
/// sse.join("news"); // reconnects with the rooms lobby and news
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Sse {
    inner: Rc<SseInner>,
}

impl std::fmt::Debug for Sse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sse")
            .field("url", &self.inner.url)
            .field("connected", &self.connected())
            .field("rooms", &*self.inner.rooms.borrow())
            .field("last_event_id", &*self.inner.last_event_id.borrow())
            .finish()
    }
}

common_handle!(Sse, WeakSse, SseInner, SseOptions, "stream", "");
typed_events!(Sse, Error);

impl Sse {
    /// Connects to the event stream at `url` (absolute, or relative to the page:
    /// `/events`). Returns at once; the connection proceeds in the background (see
    /// [`on_state`](Self::on_state), [`connected`](Self::connected)).
    pub fn connect(url: &str, opts: SseOptions) -> Result<Sse, Error> {
        let stream_url =
            http::resolve(url, &["http", "https"]).ok_or_else(|| Error::InvalidUrl(url.into()))?;
        let emit_url = match &opts.emit_url {
            Some(u) => {
                http::resolve(u, &["http", "https"]).ok_or_else(|| Error::InvalidUrl(u.clone()))?
            }
            None => stream_url.clone(),
        };
        let inner = Rc::new(SseInner {
            link: StreamLink::new(opts.stream_config()),
            url: stream_url,
            emit_url,
            es: RefCell::new(None),
            opened: Cell::new(false),
            attempt: Cell::new(0),
            probe: RefCell::new(None),
            connect_error: RefCell::new(None),
            listeners: Registry::default(),
            rooms: RefCell::new(opts.common.rooms.clone()),
            last_event_id: RefCell::new(opts.last_event_id.clone()),
            id: RefCell::new(None),
            post: Post::new(),
            posts: RefCell::new(VecDeque::new()),
            posting: Cell::new(false),
            rejoin: Cell::new(false),
            opts,
        });
        StreamLink::start(&inner);
        let sse = Sse { inner };
        if sse.inner.opts.common.auto_connect {
            sse.open();
        }
        Ok(sse)
    }

    /// The id of the last event received with one (or the one given in
    /// [`SseOptions::last_event_id`]): every reconnection resumes from it.
    pub fn last_event_id(&self) -> Option<String> {
        self.inner.last_event_id.borrow().clone()
    }

    fn add(&self, key: Option<&str>, handler: Handler) -> Subscription {
        let id = self.inner.listeners.add(false, key, handler);
        if let Some(name) = key {
            if let Ok(mut es) = self.inner.es.try_borrow_mut() {
                if let Some(es) = es.as_mut() {
                    es.listen(name);
                }
            }
        }
        let owner: Weak<dyn Listeners> = Rc::downgrade(&self.inner) as Weak<SseInner>;
        Subscription::new(owner, id)
    }

    /// Calls `f` with the data of each `event` (its `data:` parsed as JSON, or the text
    /// itself as a JSON string when it is not JSON), deserialized as `T`. Data that does not
    /// deserialize is skipped with a console warning. The listener lives until the returned
    /// [`Subscription`] is dropped; the `EventSource` hears `event` from now on.
    pub fn on<T, F>(&self, event: &str, mut f: F) -> Subscription
    where
        T: DeserializeOwned + 'static,
        F: FnMut(T) + 'static,
    {
        let label: Rc<str> = Rc::from(event);
        let name = label.clone();
        self.add(
            Some(event),
            Handler::Event(
                name,
                Box::new(move |value, _| match T::deserialize(value) {
                    Ok(v) => {
                        f(v);
                        true
                    }
                    Err(e) => {
                        warn(&format!("rtio: \"{label}\" data ignored: {e}"));
                        false
                    }
                }),
            ),
        )
    }

    /// Calls `f` with the raw `data:` text of each `event`.
    pub fn on_raw(&self, event: &str, mut f: impl FnMut(String) + 'static) -> Subscription {
        self.add(
            Some(event),
            Handler::Event(
                Rc::from(event),
                Box::new(move |_, raw| {
                    f(raw.to_string());
                    true
                }),
            ),
        )
    }

    /// Calls `f` with the name and data of every event the stream delivers: with
    /// [`SseTransport::Fetch`], all of them; with the `EventSource`, `message`, the heartbeat
    /// and the names that have a listener (`EventSource` hears no other).
    pub fn on_any(&self, f: impl FnMut(&str, &Value) + 'static) -> Subscription {
        self.add(None, Handler::Any(Box::new(f)))
    }

    /// Calls `f` each time an attempt to connect fails, with why: [`Error::Http`] when the
    /// stream's URL answered an error status (with its body), else [`Error::Transport`].
    pub fn on_connect_error(&self, f: impl FnMut(&Error) + 'static) -> Subscription {
        self.add(None, Handler::ConnectError(Box::new(f)))
    }

    /// Removes every listener of `event` (including ones whose [`Subscription`] is still held).
    pub fn off(&self, event: &str) {
        self.inner.listeners.remove_key(event);
        self.inner.unlisten(event);
    }

    fn send(
        &self,
        event: &str,
        args: &[&dyn Arg],
        room: Option<&str>,
        reply: Option<AckReply>,
    ) -> Result<(), Error> {
        check_name(event)?;
        let emit = Emit {
            event: event.to_string(),
            args: encode_args(args)?,
            room: room.map(str::to_string),
            reply: reply.map(PendingReply),
        };
        match StreamLink::apply(&self.inner, |s, now| s.send(emit, now)) {
            Some(Ok(())) => Ok(()),
            Some(Err(mut refused)) => {
                if let Some(reply) = refused.reply.take() {
                    reply.0.complete(Err(Error::BufferFull));
                }
                Err(Error::BufferFull)
            }
            None => Err(Error::BufferFull),
        }
    }

    /// Emits `event` with one argument: `POST`s `{"event", "args": [payload], "id"?}` to the
    /// emit URL. While the stream is down the emit is held (up to
    /// [`SseOptions::max_buffer`]) and sent once it is up. Emits are `POST`ed one at a time, in
    /// the order they were made: the next goes once the previous one is answered.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, payload: &T) -> Result<(), Error> {
        self.send(event, &[&payload], None, None)
    }

    /// Emits `event` with any number of arguments of any serializable types.
    pub fn emit_many(&self, event: &str, args: &[&dyn Arg]) -> Result<(), Error> {
        self.send(event, args, None, None)
    }

    /// Emits `event` to the other members of `room` (the `POST` carries `"room"`).
    pub fn emit_to<T: Serialize + ?Sized>(
        &self,
        room: &str,
        event: &str,
        payload: &T,
    ) -> Result<(), Error> {
        self.send(event, &[&payload], Some(room), None)
    }

    /// Emits `event` only if the stream is open now (`volatile`); returns whether it was sent.
    pub fn emit_volatile<T: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &T,
    ) -> Result<bool, Error> {
        check_name(event)?;
        let emit = Emit {
            event: event.to_string(),
            args: encode_args(&[&payload])?,
            room: None,
            reply: None,
        };
        Ok(StreamLink::apply(&self.inner, |s, now| s.send_volatile(emit, now)).unwrap_or(false))
    }

    /// Emits `event` with one argument and waits for the answer to its `POST`: its body,
    /// parsed as JSON (text if not JSON, `null` if empty), deserialized as `R`. An answer that
    /// is not 2xx fails with [`Error::Http`] and its status. The timeout is
    /// [`SseOptions::ack_timeout`] unless set with [`AckFuture::timeout`]. Dropping the future
    /// stops waiting (the emit still goes out).
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
        let reply = AckReply::default();
        if let Err(e) = self.send(event, args, None, Some(reply.clone())) {
            reply.complete(Err(e));
        }
        let fut = AckFuture {
            reply,
            deadline: None,
            _reply: PhantomData,
        };
        match self.inner.opts.common.ack_timeout {
            Some(t) => fut.timeout(t),
            None => fut,
        }
    }
}

/// The pending answer of [`Sse::emit_with_ack`].
#[must_use = "the answer is only received when the future is awaited"]
pub struct AckFuture<R> {
    reply: AckReply,
    deadline: Option<Timer>,
    _reply: PhantomData<R>,
}

impl<R> AckFuture<R> {
    /// Fails with [`Error::Timeout`] if no answer arrives within `timeout` from now.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = deadline(&self.reply, timeout);
        self
    }
}

/// A timer that fails `reply` with [`Error::Timeout`] after `timeout` (`None` once answered).
pub(super) fn deadline<T: 'static>(
    reply: &Reply<Result<T, Error>>,
    timeout: Duration,
) -> Option<Timer> {
    if reply.is_done() {
        return None;
    }
    let r = reply.clone();
    let mut timer = Timer::new(
        move || {
            r.complete(Err(Error::Timeout));
        },
        None,
    );
    let mut last = 0;
    let now = clock::now(&mut last);
    timer.arm(now.saturating_add(ms(timeout)), now);
    Some(timer)
}

impl<R: DeserializeOwned> Future for AckFuture<R> {
    type Output = Result<R, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.reply.poll(cx) {
            Poll::Ready(Some(Ok(v))) => {
                Poll::Ready(R::deserialize(&v).map_err(|e| Error::Decode(e.to_string())))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Err(e)),
            Poll::Ready(None) => Poll::Ready(Err(Error::Disconnected)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<R> Unpin for AckFuture<R> {}
