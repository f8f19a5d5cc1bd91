//! The JavaScript front door of the SSE and plain-WebSocket modes (`rtio/sse`, `rtio/ws`): the
//! [`StreamConnection`], exported through wasm-bindgen and driven by the facade in
//! `js/stream.js`, `js/sse.js` and `js/ws.js`.
//!
//! The connection is the browser shell's [`StreamLink`] (the reconnecting stream with its
//! backoff, buffer, heartbeat watchdog and pings, the timer and the page's signals) around
//! the transport of the mode: an `EventSource`, a streaming `fetch` read by rtio's SSE parser,
//! or a WebSocket. What it reports goes to the client's [`StreamEvents`]. What is received
//! stays JS values where it can: an `EventSource`'s events and a WebSocket's frames are handed
//! over as they came; the `fetch` transport's events are parsed here.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::prelude::*;
use web_sys::MessageEvent;

use crate::session::backoff::BackoffConfig;
use crate::session::stream::StreamConfig;
use crate::session::Millis;
use crate::shell::event_source::{EsSignal, EsTransport};
use crate::shell::http::Probe;
use crate::shell::plain_websocket::{PlainSignal, PlainSocket};
use crate::shell::sse_fetch::{FetchSignal, FetchTransport};
use crate::shell::stream_link::{StreamEvent, StreamHost, StreamLink};

#[wasm_bindgen]
extern "C" {
    /// What a client of the SSE or plain-WebSocket mode is told.
    pub type StreamEvents;
    /// The URL of the next connection attempt (its rooms, meta and query may have changed).
    #[wasm_bindgen(method, js_name = _target)]
    fn target(this: &StreamEvents) -> String;
    /// The request headers of the `fetch` transport's next attempt.
    #[wasm_bindgen(method, js_name = _headers)]
    fn headers(this: &StreamEvents) -> JsValue;
    /// A state change, named as the client's events are: `connect` (the attempts it took),
    /// `disconnect` and `connect_error` (the reason), `reconnect_attempt` (its number),
    /// `reconnect_failed`.
    #[wasm_bindgen(method, js_name = _state)]
    fn state(this: &StreamEvents, name: &str, detail: JsValue);
    /// Why the attempt that fails next failed: `kind` `"http"` (`a` the status, `b` the body),
    /// `"close"` (`a` the WebSocket's `CloseEvent`), `"error"` (a WebSocket error),
    /// `"exception"` (`a` what the browser threw), `"unopened"` (an event stream that could not
    /// be opened, for no HTTP error).
    #[wasm_bindgen(method, js_name = _cause)]
    fn cause(this: &StreamEvents, kind: &str, a: JsValue, b: JsValue);
    /// An `EventSource`'s event (its `type`, `data` and `lastEventId`).
    #[wasm_bindgen(method, js_name = _message)]
    fn message(this: &StreamEvents, event: &MessageEvent);
    /// An event the `fetch` transport parsed: name, data, last event id.
    #[wasm_bindgen(method, js_name = _sse)]
    fn sse(this: &StreamEvents, name: String, data: String, id: String);
    /// The event stream broke one of the parser's limits (the offending part was skipped).
    #[wasm_bindgen(method, js_name = _malformed)]
    fn malformed(this: &StreamEvents, message: String);
    /// A WebSocket frame: a string or an `ArrayBuffer`.
    #[wasm_bindgen(method, js_name = _frame)]
    fn frame(this: &StreamEvents, data: &JsValue);
    /// Writes one item that was sent or held: gives what the WebSocket sends for it (the SSE
    /// mode sends its items itself, as HTTP `POST`s, and gives nothing).
    #[wasm_bindgen(method, js_name = _write)]
    fn write(this: &StreamEvents, item: &JsValue) -> JsValue;

    // A WebSocket's `send` that takes any value the browser accepts.
    #[wasm_bindgen(js_name = WebSocket)]
    type AnySocket;
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send_value(this: &AnySocket, data: &JsValue) -> Result<(), JsValue>;
}

/// The transport of a connection.
enum Mode {
    EventSource,
    Fetch,
    WebSocket {
        protocols: JsValue,
        /// The heartbeat frame.
        ping: JsValue,
    },
}

/// The transport of the current attempt (held for what dropping it does: closing it).
#[allow(dead_code)]
enum Transport {
    Es(EsTransport),
    Fetch(FetchTransport),
    Ws(PlainSocket),
}

/// What is handed to the facade, in order.
enum Delivery {
    State(StreamEvent),
    Message(MessageEvent),
    Sse(String, String, String),
    Malformed(String),
    Frame(JsValue),
    Cause(&'static str, JsValue, JsValue),
}

impl From<StreamEvent> for Delivery {
    fn from(e: StreamEvent) -> Self {
        Delivery::State(e)
    }
}

struct Host {
    link: StreamLink<Host>,
    events: StreamEvents,
    mode: Mode,
    credentials: bool,
    transport: RefCell<Option<Transport>>,
    /// Whether the current attempt's transport opened.
    opened: Cell<bool>,
    /// Counts attempts: a probe's answer for an earlier one is ignored.
    attempt: Cell<u32>,
    /// The request that learns why an `EventSource` could not open.
    probe: RefCell<Option<Probe>>,
    /// The event names the `EventSource` listens to.
    names: RefCell<Vec<String>>,
}

/// A number of milliseconds from JS: `0` (or less, or NaN) is none.
fn millis(ms: f64) -> Option<Millis> {
    (ms >= 1.0).then_some(ms as Millis)
}

/// Member `key` of the options object `o`.
fn get(o: &JsValue, key: &str) -> JsValue {
    if o.is_object() {
        js_sys::Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

impl Host {
    fn es_signal(self: &Rc<Self>, signal: EsSignal) {
        match signal {
            EsSignal::Open => self.opened(),
            EsSignal::Event(e) => {
                StreamLink::apply(self, |s, now| s.handle_activity(now));
                StreamLink::deliver(self, Delivery::Message(e));
            }
            EsSignal::Error => {
                let Some(Transport::Es(es)) = self.transport.borrow_mut().take() else {
                    return;
                };
                if self.opened.get() || !es.gave_up() {
                    // Lost, or the browser would retry: rtio's backoff reconnects instead,
                    // from the last event id.
                    drop(es);
                    self.closed(false);
                } else {
                    // An answer that is not a stream: EventSource hides the status, so one GET
                    // asks for it. The attempt stays open until then.
                    let url = es.url();
                    drop(es);
                    self.ask_why(&url);
                }
            }
        }
    }

    fn fetch_signal(self: &Rc<Self>, signal: FetchSignal) {
        match signal {
            FetchSignal::Open => self.opened(),
            FetchSignal::Activity => {
                StreamLink::apply(self, |s, now| s.handle_activity(now));
            }
            FetchSignal::Event { name, data, id } => {
                StreamLink::deliver(self, Delivery::Sse(name, data, id))
            }
            FetchSignal::Retry(floor) => {
                StreamLink::apply(self, |s, _| s.handle_retry(floor));
            }
            FetchSignal::Malformed(message) => {
                StreamLink::deliver(self, Delivery::Malformed(message))
            }
            FetchSignal::Refused { status, body } => {
                if self.transport.borrow_mut().take().is_some() {
                    let cause = Delivery::Cause("http", status.into(), body.into());
                    StreamLink::deliver(self, cause);
                    self.closed(true);
                }
            }
            FetchSignal::End | FetchSignal::Error => {
                if self.transport.borrow_mut().take().is_some() {
                    self.closed(matches!(signal, FetchSignal::Error));
                }
            }
        }
    }

    fn ws_signal(self: &Rc<Self>, signal: PlainSignal) {
        match signal {
            PlainSignal::Open => self.opened(),
            PlainSignal::Frame(data) => {
                StreamLink::apply(self, |s, now| s.handle_activity(now));
                StreamLink::deliver(self, Delivery::Frame(data));
            }
            PlainSignal::Closed(_) | PlainSignal::Error => {
                if self.transport.borrow_mut().take().is_none() {
                    return;
                }
                let error = matches!(signal, PlainSignal::Error);
                let cause = match signal {
                    PlainSignal::Closed(e) => Delivery::Cause("close", e, JsValue::UNDEFINED),
                    _ => Delivery::Cause("error", JsValue::UNDEFINED, JsValue::UNDEFINED),
                };
                StreamLink::deliver(self, cause);
                self.closed(error);
            }
        }
    }

    fn opened(self: &Rc<Self>) {
        self.opened.set(true);
        StreamLink::apply(self, |s, now| s.handle_opened(now));
    }

    fn closed(self: &Rc<Self>, error: bool) {
        StreamLink::apply(self, |s, now| s.handle_closed(error, now));
    }

    /// Learns why the current attempt failed, then reports the failure.
    fn ask_why(self: &Rc<Self>, url: &str) {
        let attempt = self.attempt.get();
        let (probe, answer) = Probe::get(url, self.credentials);
        *self.probe.borrow_mut() = Some(probe);
        let weak = Rc::downgrade(self);
        crate::shell::spawn(async move {
            let answer = answer.await;
            let Some(host) = weak.upgrade() else { return };
            if host.attempt.get() != attempt {
                return;
            }
            host.probe.borrow_mut().take();
            let cause = match answer {
                Ok(a) if !(200..300).contains(&a.status) => {
                    Delivery::Cause("http", a.status.into(), a.body.into())
                }
                _ => Delivery::Cause("unopened", JsValue::UNDEFINED, JsValue::UNDEFINED),
            };
            StreamLink::deliver(&host, cause);
            host.closed(true);
        });
    }
}

impl StreamHost for Host {
    type Item = JsValue;
    type Event = Delivery;

    fn link(&self) -> &StreamLink<Self> {
        &self.link
    }

    fn open(self: &Rc<Self>) -> bool {
        self.close();
        self.opened.set(false);
        self.attempt.set(self.attempt.get().wrapping_add(1));
        let url = self.events.target();
        let weak = Rc::downgrade(self);
        let opened = match &self.mode {
            Mode::EventSource => {
                let names = self.names.borrow();
                EsTransport::open(
                    &url,
                    self.credentials,
                    names.iter().map(String::as_str),
                    move |s| {
                        if let Some(h) = weak.upgrade() {
                            h.es_signal(s)
                        }
                    },
                )
                .map(Transport::Es)
            }
            Mode::Fetch => FetchTransport::open_with(
                &url,
                &self.events.headers(),
                self.credentials,
                move |s| {
                    if let Some(h) = weak.upgrade() {
                        h.fetch_signal(s)
                    }
                },
            )
            .map(Transport::Fetch),
            Mode::WebSocket { protocols, .. } => PlainSocket::open(&url, protocols, move |s| {
                if let Some(h) = weak.upgrade() {
                    h.ws_signal(s)
                }
            })
            .map(Transport::Ws),
        };
        match opened {
            Ok(t) => {
                *self.transport.borrow_mut() = Some(t);
                true
            }
            Err(e) => {
                StreamLink::deliver(self, Delivery::Cause("exception", e, JsValue::UNDEFINED));
                false
            }
        }
    }

    fn close(&self) {
        drop(self.transport.borrow_mut().take());
        drop(self.probe.borrow_mut().take());
    }

    fn write(self: &Rc<Self>, item: JsValue) -> bool {
        let data = self.events.write(&item);
        match &*self.transport.borrow() {
            Some(Transport::Ws(ws)) => ws
                .socket()
                .unchecked_ref::<AnySocket>()
                .send_value(&data)
                .is_ok(),
            Some(_) => true,
            None => false,
        }
    }

    fn ping(&self) -> bool {
        match (&*self.transport.borrow(), &self.mode) {
            (Some(Transport::Ws(ws)), Mode::WebSocket { ping, .. }) => ws
                .socket()
                .unchecked_ref::<AnySocket>()
                .send_value(ping)
                .is_ok(),
            _ => true,
        }
    }

    fn deliver(self: &Rc<Self>, event: Delivery) {
        let e = &self.events;
        match event {
            Delivery::State(s) => {
                let (name, detail) = match s {
                    StreamEvent::Connect { attempts } => ("connect", JsValue::from(attempts)),
                    StreamEvent::Disconnect(why) => ("disconnect", why.as_str().into()),
                    StreamEvent::ConnectError { reason, .. } => {
                        ("connect_error", reason.as_str().into())
                    }
                    StreamEvent::ReconnectAttempt(n) => ("reconnect_attempt", n.into()),
                    StreamEvent::ReconnectFailed => ("reconnect_failed", JsValue::UNDEFINED),
                };
                e.state(name, detail);
            }
            Delivery::Message(m) => e.message(&m),
            Delivery::Sse(name, data, id) => e.sse(name, data, id),
            Delivery::Malformed(m) => e.malformed(m),
            Delivery::Frame(data) => e.frame(&data),
            Delivery::Cause(kind, a, b) => e.cause(kind, a, b),
        }
    }
}

/// One client's connection of the SSE or plain-WebSocket mode. Connects on
/// [`connect`](StreamConnection::connect); `free()` releases it all.
#[wasm_bindgen]
pub struct StreamConnection {
    host: Rc<Host>,
}

#[wasm_bindgen]
impl StreamConnection {
    /// A connection with `options` that reports to `events`. The options: `mode` (`"sse"` or
    /// `"ws"`), `transport` (SSE: `"eventsource"` or `"fetch"`), `withCredentials`,
    /// `protocols` and `ping` (the WebSocket's subprotocols and heartbeat frame),
    /// `reconnection`, `reconnectionAttempts`, `reconnectionDelay`, `reconnectionDelayMax`,
    /// `randomizationFactor`, `timeout`, `idleTimeout` and `pingInterval` (ms, `0` none),
    /// `maxBuffer`. Absent members take the defaults.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, events: StreamEvents) -> StreamConnection {
        let o = &options;
        let num = |key: &str, default: f64| get(o, key).as_f64().unwrap_or(default);
        let config = StreamConfig {
            backoff: BackoffConfig {
                initial: num("reconnectionDelay", 1e3) as Millis,
                max: num("reconnectionDelayMax", 5e3) as Millis,
                randomization: num("randomizationFactor", 0.5),
            },
            reconnection: get(o, "reconnection") != JsValue::FALSE,
            // Float-to-int casts saturate: infinity is the largest value, NaN 0.
            attempts: num("reconnectionAttempts", f64::INFINITY) as u32,
            idle_timeout: millis(num("idleTimeout", 0.0)),
            ping_interval: millis(num("pingInterval", 0.0)),
            connect_timeout: millis(num("timeout", 2e4)),
            max_buffer: num("maxBuffer", 1e3) as usize,
            seed: (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64,
        };
        let mode = if get(o, "mode").as_string().as_deref() == Some("ws") {
            Mode::WebSocket {
                protocols: get(o, "protocols"),
                ping: get(o, "ping"),
            }
        } else if get(o, "transport").as_string().as_deref() == Some("fetch") {
            Mode::Fetch
        } else {
            Mode::EventSource
        };
        let host = Rc::new(Host {
            link: StreamLink::new(config),
            events,
            mode,
            credentials: get(o, "withCredentials").is_truthy(),
            transport: RefCell::new(None),
            opened: Cell::new(false),
            attempt: Cell::new(0),
            probe: RefCell::new(None),
            names: RefCell::new(Vec::new()),
        });
        StreamLink::start(&host);
        StreamConnection { host }
    }

    /// Connects (nothing if already connected or trying).
    pub fn connect(&self) {
        StreamLink::apply(&self.host, |s, now| s.connect(now));
    }

    /// Disconnects for good (until `connect()`); returns the sends held while down, dropped.
    pub fn disconnect(&self) -> Array {
        StreamLink::apply(&self.host, |s, _| {
            s.disconnect();
            s.clear_buffer().into_iter().collect()
        })
        .unwrap_or_default()
    }

    /// Connects again at once, if connected or trying (new rooms, new meta).
    pub fn reconnect(&self) {
        StreamLink::apply(&self.host, |s, now| {
            if s.is_active() {
                s.disconnect();
                s.connect(now);
            }
        });
    }

    /// Sends `item` now, or holds it while down; throws when the buffer is full.
    pub fn send(&self, item: JsValue) -> Result<(), JsError> {
        match StreamLink::apply(&self.host, |s, now| s.send(item, now).is_ok()) {
            Some(false) => Err(JsError::new("rtio: send buffer is full while disconnected")),
            _ => Ok(()),
        }
    }

    /// Sends `item` only if connected; returns whether it was.
    #[wasm_bindgen(js_name = sendVolatile)]
    pub fn send_volatile(&self, item: JsValue) -> bool {
        StreamLink::apply(&self.host, |s, now| s.send_volatile(item, now)).unwrap_or(false)
    }

    /// Hears the `EventSource`'s events named `name` too.
    pub fn listen(&self, name: String) {
        if let Some(Transport::Es(es)) = &mut *self.host.transport.borrow_mut() {
            es.listen(&name);
        }
        let mut names = self.host.names.borrow_mut();
        if !names.contains(&name) {
            names.push(name);
        }
    }
}
