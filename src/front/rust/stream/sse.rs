//! The SSE mode of `MODES.md` for Rust front ends: [`Sse`], a reconnecting `EventSource` (or
//! streaming `fetch`) with typed listeners, emits as `POST`s whose answer is the
//! acknowledgement, rooms, resume from the last event id and a heartbeat watchdog.
//!
//! A new `EventSource` is made for each attempt, so rtio's backoff (with jitter) follows every
//! failure, including the HTTP errors after which a bare `EventSource` gives up; the last event
//! id is resumed through the query parameter `lastEventId`. With [`SseTransport::Fetch`] each
//! attempt is a streaming `fetch` instead, carrying the [`SseOptions::header`]s and the last
//! event id as `Last-Event-ID`. Emits are `POST`ed (`{"event", "args": [...], "room"?, "id"?}`)
//! one at a time, in the order they were made: the next goes once the previous one is answered.
//!
//! ```no_run
//! use rtio::sse::{Sse, SseOptions, StreamEvent};
//! # async fn demo() -> Result<(), rtio::sse::Error> {
//! #[derive(serde::Deserialize)]
//! struct Headline { title: String }
//! let feed = Sse::connect(
//!     "/events",
//!     SseOptions::default().emit_url("/emit").room("news"),
//! )?;
//! let _sub = feed.on("headline", |h: Headline| web_sys::console::log_1(&h.title.into()));
//! let _state = feed.on_state(|e: &StreamEvent| web_sys::console::log_1(&format!("{e:?}").into()));
//! let reply: serde_json::Value = feed.emit_with_ack("vote", &serde_json::json!({ "id": 7 })).await?;
//! feed.join("sports"); // reconnects with the rooms news and sports
//! # Ok(()) }
//! ```

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use serde_json::Value;

use super::conn::{Delivery, Extra, Hooks, Inner, Outgoing};
use super::{Mode, StreamClient, StreamOptions, StreamParts, WeakStreamClient};
use crate::codec::json;
use crate::front::rust::emitter::{ms, Handler};
use crate::front::rust::options::{kind::Kind, ClientOptions};
use crate::shell::event_source::{EsSignal, EsTransport};
use crate::shell::http::{self, Answer, Post, Probe};
use crate::shell::sse_fetch::{FetchSignal, FetchTransport};
use crate::shell::stream_link::StreamLink;

pub use super::{Error, StreamClosed, StreamEvent};
pub use crate::front::rust::emitter::Subscription;

/// A connection in the SSE mode (`MODES.md`): a stream of events from `GET url`, and emits as
/// JSON `POST`s. See [`StreamClient`] for its methods and the module for an example.
pub type Sse = StreamClient<SseMode>;
/// A handle that does not keep its [`Sse`] alive; see [`StreamClient::downgrade`].
pub type WeakSse = WeakStreamClient<SseMode>;
/// Options of [`Sse::connect`]: [`StreamOptions`] and the SSE mode's own.
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
pub type SseOptions = StreamOptions<SseMode>;
/// The pending answer of [`Sse::emit_with_ack`].
pub type AckFuture<R> = crate::AckFuture<R, Error>;

/// The SSE mode of the stream client.
#[derive(Debug, Clone, Copy)]
pub struct SseMode;

impl Mode for SseMode {}

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

impl ClientOptions<SseMode> {
    /// Sends cookies cross-origin: `EventSource`'s `withCredentials`, and
    /// `credentials: "include"` for the emits' `POST`s and the [`SseTransport::Fetch`] stream
    /// (default false).
    pub fn with_credentials(mut self, on: bool) -> Self {
        self.own.with_credentials = on;
        self
    }

    /// Adds a header to the emits' `POST`s, and to the stream's request with
    /// [`SseTransport::Fetch`] (`EventSource` cannot send headers on the stream).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.own.headers.push((name.into(), value.into()));
        self
    }

    /// Where emits are `POST`ed (default: the stream's URL).
    pub fn emit_url(mut self, url: impl Into<String>) -> Self {
        self.own.emit_url = Some(url.into());
        self
    }

    /// The heartbeat's event name (default `ping`); it is always listened to.
    pub fn ping(mut self, event: impl Into<String>) -> Self {
        self.own.ping = event.into();
        self
    }

    /// Reconnects when nothing (no event, no heartbeat) arrived for this long (default: no
    /// watchdog). Set it above the server's heartbeat period. With `EventSource` only events of
    /// names listened to are seen: the heartbeat, `message` and those with a listener; with
    /// [`SseTransport::Fetch`] any bytes of the stream are.
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.own.ping_timeout = (!timeout.is_zero()).then_some(timeout);
        self
    }

    /// Resumes from this event id on the first connect (the query parameter `lastEventId`, or
    /// the `Last-Event-ID` header with [`SseTransport::Fetch`]).
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.own.last_event_id = Some(id.into());
        self
    }

    /// How the stream is read (default [`SseTransport::EventSource`]).
    pub fn transport(mut self, transport: SseTransport) -> Self {
        self.own.transport = transport;
        self
    }
}

impl StreamClient<SseMode> {
    /// The id of the last event received with one (or the one given in
    /// [`SseOptions::last_event_id`]): every reconnection resumes from it.
    pub fn last_event_id(&self) -> Option<String> {
        self.inner.mode.last_event_id.borrow().clone()
    }

    /// Calls `f` with the raw `data:` text of each `event`.
    pub fn on_raw(&self, event: &str, mut f: impl FnMut(String) + 'static) -> Subscription {
        self.add(
            Some(event),
            Handler::Event(Box::new(move |_, extra| {
                f(extra.raw.clone().unwrap_or_default());
                true
            })),
        )
    }

    /// Calls `f` with the name and data of every event the stream delivers: with
    /// [`SseTransport::Fetch`], all of them; with the `EventSource`, `message`, the heartbeat
    /// and the names that have a listener (`EventSource` hears no other).
    pub fn on_any(&self, mut f: impl FnMut(&str, &Value) + 'static) -> Subscription {
        self.add(
            None,
            Handler::Any(Box::new(move |name, args| {
                f(name, args.first().unwrap_or(&Value::Null))
            })),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The transport

/// The SSE mode's parts of a connection (private: reached only through the mode).
mod parts {
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;
    use std::time::Duration;

    use super::{Error, SseTransport};
    use crate::shell::event_source::EsTransport;
    use crate::shell::http::{Post, Probe};
    use crate::shell::sse_fetch::FetchTransport;

    /// The SSE mode's own options.
    #[derive(Debug, Clone)]
    pub struct SseSettings {
        pub(crate) stream: super::StreamParts,
        pub(crate) with_credentials: bool,
        pub(crate) headers: Vec<(String, String)>,
        pub(crate) emit_url: Option<String>,
        pub(crate) ping: String,
        pub(crate) ping_timeout: Option<Duration>,
        pub(crate) last_event_id: Option<String>,
        pub(crate) transport: SseTransport,
    }

    impl Default for SseSettings {
        fn default() -> Self {
            SseSettings {
                stream: super::StreamParts::default(),
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

    /// The transport of the current attempt.
    pub enum Transport {
        Es(EsTransport),
        /// Held only to be dropped: that aborts the request.
        Fetch(#[allow(dead_code)] FetchTransport),
    }

    /// One emit to `POST`.
    pub struct Post1 {
        pub(crate) event: String,
        /// The arguments' JSON texts.
        pub(crate) args: Vec<String>,
        pub(crate) room: Option<String>,
        pub(crate) ack: Option<u64>,
    }

    /// The SSE mode's side of a connection.
    pub struct SseState {
        pub(crate) emit_url: String,
        pub(crate) es: RefCell<Option<Transport>>,
        /// Whether the current transport opened.
        pub(crate) opened: Cell<bool>,
        /// Counts the attempts opened and closed, so a late probe of an old one is ignored.
        pub(crate) attempt: Cell<u64>,
        /// The `GET` asking why the current attempt failed.
        pub(crate) probe: RefCell<Option<Probe>>,
        /// What the probe learned, for the attempt's `connect_error`.
        pub(crate) connect_error: RefCell<Option<Error>>,
        pub(crate) last_event_id: RefCell<Option<String>>,
        pub(crate) post: Post,
        /// Emits waiting for the `POST` in flight: one goes at a time (see `write`).
        pub(crate) posts: RefCell<VecDeque<Post1>>,
        /// A `POST` of an emit is in flight.
        pub(crate) posting: Cell<bool>,
    }

    /// An event the stream delivered: its name and `data:`.
    pub struct SseEvent {
        pub(crate) name: String,
        pub(crate) data: String,
    }
}

use parts::{Post1, SseEvent, SseSettings, SseState, Transport};

type SseInner = Inner<SseMode>;

impl Kind for SseMode {
    type Options = SseSettings;
}

impl Hooks for SseMode {
    fn stream(opts: &SseSettings) -> &StreamParts {
        &opts.stream
    }

    fn stream_mut(opts: &mut SseSettings) -> &mut StreamParts {
        &mut opts.stream
    }

    type State = SseState;
    type Delivery = SseEvent;
    const SCHEMES: &'static [&'static str] = &["http", "https"];
    /// The answer to a `POST` comes whatever the stream does.
    const ACKS_ON_CONNECTION: bool = false;

    fn state(opts: &SseSettings, url: &str) -> Result<SseState, Error> {
        let emit_url = match &opts.emit_url {
            Some(u) => {
                http::resolve(u, Self::SCHEMES).ok_or_else(|| Error::InvalidUrl(u.clone()))?
            }
            None => url.to_string(),
        };
        Ok(SseState {
            emit_url,
            es: RefCell::new(None),
            opened: Cell::new(false),
            attempt: Cell::new(0),
            probe: RefCell::new(None),
            connect_error: RefCell::new(None),
            last_event_id: RefCell::new(opts.last_event_id.clone()),
            post: Post::new(),
            posts: RefCell::new(VecDeque::new()),
            posting: Cell::new(false),
        })
    }

    fn heartbeat(opts: &SseSettings) -> (Option<u64>, Option<u64>) {
        (opts.ping_timeout.map(ms), None)
    }

    fn open(inner: &Rc<SseInner>) -> bool {
        Self::close(inner);
        let st = &inner.mode;
        let opts = &inner.opts.own;
        st.opened.set(false);
        let last = st.last_event_id.borrow().clone();
        if opts.transport == SseTransport::Fetch {
            let url = inner.url_with(&[]);
            let weak = Rc::downgrade(inner);
            let opened = FetchTransport::open(
                &url,
                &opts.headers,
                last.as_deref(),
                opts.with_credentials,
                move |signal| {
                    if let Some(inner) = weak.upgrade() {
                        fetch_signal(&inner, signal);
                    }
                },
            );
            return match opened {
                Ok(t) => {
                    *st.es.borrow_mut() = Some(Transport::Fetch(t));
                    true
                }
                Err(_) => false,
            };
        }
        let url = match last.as_deref() {
            Some(id) => inner.url_with(&[("lastEventId", id)]),
            None => inner.url_with(&[]),
        };
        let mut names: Vec<Rc<str>> = vec![
            Rc::from("message"),
            Rc::from(HELLO),
            Rc::from(opts.ping.as_str()),
        ];
        names.extend(inner.listeners.registry().keys());
        let weak = Rc::downgrade(inner);
        let opened = EsTransport::open(
            &url,
            opts.with_credentials,
            names.iter().map(|n| &**n),
            move |signal| {
                if let Some(inner) = weak.upgrade() {
                    es_signal(&inner, signal);
                }
            },
        );
        match opened {
            Ok(es) => {
                *st.es.borrow_mut() = Some(Transport::Es(es));
                true
            }
            Err(_) => false,
        }
    }

    fn close(inner: &SseInner) {
        let st = &inner.mode;
        st.attempt.set(st.attempt.get().wrapping_add(1));
        let es = st.es.borrow_mut().take();
        drop(es);
        let probe = st.probe.borrow_mut().take();
        drop(probe);
        st.connect_error.borrow_mut().take();
    }

    fn has_transport(inner: &SseInner) -> bool {
        inner.mode.es.borrow().is_some()
    }

    /// POSTs an emit; the answer is its ack. One `POST` at a time: the next goes once this one
    /// is answered (or failed), since requests in flight together may reach the server in any
    /// order.
    fn write(inner: &Rc<SseInner>, item: Outgoing) -> bool {
        let Outgoing::Emit {
            event,
            args,
            room,
            ack,
        } = item
        else {
            // (Raw frames are the plain-WebSocket mode's.)
            return true;
        };
        let st = &inner.mode;
        st.posts.borrow_mut().push_back(Post1 {
            event,
            args,
            room,
            ack,
        });
        if !st.posting.get() {
            post_next(inner);
        }
        true
    }

    fn ping(_: &SseInner) -> bool {
        true
    }

    fn deliver(inner: &Rc<SseInner>, event: SseEvent) {
        let SseEvent { name, data } = event;
        let value: Value =
            serde_json::from_str(&data).unwrap_or_else(|_| Value::String(data.clone()));
        let extra = Extra {
            raw: Some(data),
            ack: None,
        };
        inner.event(&name, &[value], extra);
    }

    /// Hears `name` on the `EventSource` while a listener wants it.
    fn listening(inner: &SseInner, name: &str, on: bool) {
        let st = &inner.mode;
        if !on && (always(inner, name) || inner.listeners.registry().has_key(name)) {
            return;
        }
        if let Ok(mut es) = st.es.try_borrow_mut() {
            if let Some(Transport::Es(es)) = es.as_mut() {
                if on {
                    es.listen(name);
                } else {
                    es.unlisten(name);
                }
            }
        }
    }

    fn connect_error(inner: &SseInner, reason: StreamClosed) -> Error {
        inner
            .mode
            .connect_error
            .borrow_mut()
            .take()
            .unwrap_or(Error::Transport(reason))
    }
}

/// The rooms convention's event that gives this client its id.
const HELLO: &str = "rtio:hello";

/// Whether `name` is listened to whatever the listeners.
fn always(inner: &SseInner, name: &str) -> bool {
    name == "message" || name == HELLO || name == inner.opts.own.ping
}

/// An answer's body as a value: JSON, else the text, `null` when empty.
fn answer_data(a: Answer) -> Value {
    if a.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&a.body).unwrap_or(Value::String(a.body))
    }
}

/// The `POST` body of `emit`: `{"event", "args": [...], "room"?, "id"?}`.
fn body(inner: &SseInner, emit: &Post1) -> String {
    let mut body = String::from("{\"event\":");
    json::quote(&emit.event, &mut body);
    body.push_str(",\"args\":[");
    body.push_str(&emit.args.join(","));
    body.push(']');
    if let Some(room) = &emit.room {
        body.push_str(",\"room\":");
        json::quote(room, &mut body);
    }
    if let Some(id) = inner.id.borrow().as_deref() {
        body.push_str(",\"id\":");
        json::quote(id, &mut body);
    }
    body.push('}');
    body
}

/// Sends the oldest waiting emit, if any.
fn post_next(inner: &Rc<SseInner>) {
    let st = &inner.mode;
    let Some(emit) = st.posts.borrow_mut().pop_front() else {
        st.posting.set(false);
        return;
    };
    st.posting.set(true);
    let body = body(inner, &emit);
    crate::front::rust::debug::text(true, "POST", &body);
    let opts = &inner.opts.own;
    let answer = st
        .post
        .send(&st.emit_url, &body, &opts.headers, opts.with_credentials);
    let weak = Rc::downgrade(inner);
    crate::shell::spawn(async move {
        let answer = answer.await;
        let Some(inner) = weak.upgrade() else {
            // The Sse was dropped: its requests were cancelled and its acks failed.
            return;
        };
        post_next(&inner);
        let Some(id) = emit.ack else { return };
        let result = match answer {
            Err(e) => Err(Error::Network(e)),
            Ok(a) => {
                let status = a.status;
                let data = answer_data(a);
                if (200..300).contains(&status) {
                    Ok(vec![data])
                } else {
                    Err(Error::Http { status, data })
                }
            }
        };
        inner.complete_ack(id, result);
    });
}

fn es_signal(inner: &Rc<SseInner>, signal: EsSignal) {
    let st = &inner.mode;
    match signal {
        EsSignal::Open => {
            st.opened.set(true);
            StreamLink::apply(inner, |s, now| s.handle_opened(now));
        }
        EsSignal::Event(e) => {
            let data = e.data().as_string().unwrap_or_default();
            received(inner, e.type_(), data, e.last_event_id());
        }
        EsSignal::Error => {
            // Closed here whatever the browser would do next: rtio's backoff reconnects, from
            // the last event id.
            let es = match st.es.borrow_mut().take() {
                Some(Transport::Es(es)) => es,
                other => {
                    drop(other);
                    return;
                }
            };
            if st.opened.get() {
                drop(es);
                StreamLink::apply(inner, |s, now| s.handle_closed(false, now));
            } else if es.gave_up() {
                // An answer that is not a stream: EventSource hides the status, so one GET
                // asks for it. The attempt stays open until then.
                let url = es.url();
                drop(es);
                ask_why(inner, &url);
            } else {
                drop(es);
                StreamLink::apply(inner, |s, now| s.handle_closed(true, now));
            }
        }
    }
}

/// An event arrived: its name, data and the last event id.
fn received(inner: &Rc<SseInner>, name: String, data: String, id: String) {
    crate::front::rust::debug::text(false, &name, &data);
    if !id.is_empty() {
        *inner.mode.last_event_id.borrow_mut() = Some(id);
    }
    StreamLink::apply(inner, |s, now| s.handle_activity(now));
    StreamLink::deliver(inner, Delivery::Mode(SseEvent { name, data }));
}

fn fetch_signal(inner: &Rc<SseInner>, signal: FetchSignal) {
    let st = &inner.mode;
    match signal {
        FetchSignal::Open => {
            st.opened.set(true);
            StreamLink::apply(inner, |s, now| s.handle_opened(now));
        }
        FetchSignal::Activity => {
            StreamLink::apply(inner, |s, now| s.handle_activity(now));
        }
        FetchSignal::Event { name, data, id } => received(inner, name, data, id),
        FetchSignal::Malformed(_) => {}
        FetchSignal::Retry(floor) => {
            StreamLink::apply(inner, |s, _| s.handle_retry(floor));
        }
        FetchSignal::Refused { status, body } => {
            let Some(t) = st.es.borrow_mut().take() else {
                return;
            };
            drop(t);
            *st.connect_error.borrow_mut() = Some(Error::Http {
                status,
                data: answer_data(Answer { status, body }),
            });
            StreamLink::apply(inner, |s, now| s.handle_closed(true, now));
        }
        FetchSignal::End | FetchSignal::Error => {
            let Some(t) = st.es.borrow_mut().take() else {
                return;
            };
            drop(t);
            let error = matches!(signal, FetchSignal::Error) || !st.opened.get();
            StreamLink::apply(inner, |s, now| s.handle_closed(error, now));
        }
    }
}

/// Learns why the current attempt failed, then reports the failure.
fn ask_why(inner: &Rc<SseInner>, url: &str) {
    let st = &inner.mode;
    let attempt = st.attempt.get();
    let (probe, answer) = Probe::get(url, inner.opts.own.with_credentials);
    *st.probe.borrow_mut() = Some(probe);
    let weak = Rc::downgrade(inner);
    crate::shell::spawn(async move {
        let answer = answer.await;
        let Some(inner) = weak.upgrade() else { return };
        let st = &inner.mode;
        if st.attempt.get() != attempt {
            return;
        }
        st.probe.borrow_mut().take();
        let error = match answer {
            Ok(a) if !(200..300).contains(&a.status) => Error::Http {
                status: a.status,
                data: answer_data(a),
            },
            _ => Error::Transport(StreamClosed::TransportError),
        };
        *st.connect_error.borrow_mut() = Some(error);
        StreamLink::apply(&inner, |s, now| s.handle_closed(true, now));
    });
}
