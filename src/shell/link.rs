//! [`Link`]: one session wired to its transport (a WebSocket, or HTTP long-polling and its
//! upgrade to WebSocket), a timer, the page's signals and the clock, delivering the session's
//! events to a sink. Both front doors use it; what differs between
//! them, how a payload is held (a Rust `String`, or the JS string it arrived in), is the
//! link's [`Wire`].
//!
//! Re-entrancy: sinks run user code, which may call back into the link (emit from a listener).
//! The session is never borrowed while a sink runs, and events raised by a nested call are
//! queued behind the ones being delivered, so every listener sees events in session order.
//!
//! Writes come in bursts: a frame written while nothing has happened since the link's last
//! direct write (no message, timer or page event: the same task, most likely, as in a loop of
//! emits) waits, with the ones that follow, for a microtask that writes them together. A loop
//! of emits costs the page less CPU that way than frames written one by one between the emits'
//! own work (socket.io-client batches the same way), and a lone write, an emit answering a
//! message say, costs no microtask.

use alloc::boxed::Box;
use alloc::rc::{Rc, Weak};
use alloc::string::String;
use core::cell::{Cell, RefCell};

use super::clock;
use super::page::{PageSignal, PageWatch};
use super::polling::{self, Item, Polling, TransportOptions};
use super::timer::{Timer, TimerFunctions};
use super::websocket::{self, WsSignal, WsTransport};
use crate::session::polling::Request;
use crate::session::{
    EventKind, Millis, Nsp, Output, Session, SessionConfig, SessionEvent, Transmit,
    TransportClosed, TransportCommand,
};
use wasm_bindgen::prelude::*;

pub(crate) use super::Bins;

/// How a front door holds payloads: how a received text frame enters the session, and how a
/// frame the session made is written.
pub(crate) trait Wire: 'static {
    /// An event's or ack's JSON payload as the session stores and forwards it.
    type Payload: Clone + 'static;
    /// Feeds a received message to the session: a text frame (a JS string) or a binary one
    /// (an `ArrayBuffer`).
    fn receive(&self, session: &mut Session<Bins, Self::Payload>, now: Millis, data: JsValue);
    /// The text frame of `frame` (its header and its payload), as the WebSocket takes it.
    fn text(frame: &Transmit<Bins, Self::Payload>) -> JsValue;
}

/// A command run on the session, with the time.
type Command<'a, P> = dyn FnMut(&mut Session<Bins, P>, Millis) + 'a;

/// The event type the browser session produces.
pub(crate) type Event<P> = SessionEvent<Bins, P>;

/// Where the transport of each attempt goes (the JS door reads its options again each time):
/// the Engine.IO URL of polling requests (`http(s)`, `transport=polling`) when asked with
/// `true`, else of a WebSocket (`ws(s)`, `transport=websocket`); `None` when there is no URL to
/// be had (reported as a failed attempt).
pub(crate) type UrlSource = Box<dyn Fn(bool) -> Option<String>>;

/// What the link reports besides the session's events: frames written and received, for a
/// debug log.
pub(crate) type Tap = Option<Box<dyn Fn(bool, &JsValue)>>;

/// The transport in use.
enum Transport {
    None,
    Ws(WsTransport),
    Polling(Box<Polling>),
}

struct State<W: Wire> {
    session: Session<Bins, W::Payload>,
    wire: W,
    url: UrlSource,
    tap: Tap,
    transport: Transport,
    options: TransportOptions,
    /// The tag of the transport in use: its signals and answers carry it, and others are
    /// stale.
    tag: u32,
    /// A closed polling transport still writing what was written on it, and its close packet
    /// (handed over to [`ORPHANS`] if the link goes first).
    draining: Option<Box<Polling>>,
    /// An upgrade to WebSocket succeeded (for `rememberUpgrade`).
    upgraded: bool,
    /// The attempt under way fell back from WebSocket to polling (`tryAllTransports`).
    fell_back: bool,
    /// The event of the WebSocket's last `error`, for the front door's error report.
    last_error: JsValue,
    /// Set once the link exists (the timer's closure needs a weak handle to it).
    timer: Option<Timer>,
    /// The page's network and visibility listeners, set with the timer.
    page: Option<PageWatch>,
    last_now: Millis,
    /// Events and transport commands taken from the session, waiting for `pump` (oldest
    /// first).
    events: crate::Queue<Output<Bins, W::Payload>>,
    /// A burst is open: frames go to `queue` until it ends, at the next microtask.
    burst: bool,
    /// Counts what the browser reported (messages, timers, page events, bursts' ends).
    epoch: u32,
    /// The `epoch` of the last frame written at once.
    written_at: u32,
    /// The frames (texts and attachments) of the open burst, oldest first.
    queue: Vec<JsValue>,
}

struct Inner<W: Wire> {
    state: RefCell<State<W>>,
    delivering: Cell<bool>,
    sink: Box<dyn Fn(Event<W::Payload>)>,
}

/// A cheap-to-clone handle on one connection. The connection (socket, listeners, timer) is
/// released when the last handle is dropped.
pub(crate) struct Link<W: Wire> {
    inner: Rc<Inner<W>>,
}

impl<W: Wire> Clone for Link<W> {
    fn clone(&self) -> Self {
        Link {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<W: Wire> Link<W> {
    /// A link to the Engine.IO endpoint `url` gives (asked at each attempt), on the transports `options` allow, frames shown to `tap`, on the page's timers or on
    /// `timers`. Nothing is opened until a namespace connects.
    pub fn new(
        wire: W,
        url: UrlSource,
        tap: Tap,
        timers: Option<TimerFunctions>,
        (config, options): (SessionConfig, TransportOptions),
        sink: impl Fn(Event<W::Payload>) + 'static,
    ) -> Self {
        let unload = options.close_on_unload;
        let inner = Rc::new(Inner {
            state: RefCell::new(State {
                session: Session::new(config),
                wire,
                url,
                tap,
                transport: Transport::None,
                options,
                tag: 0,
                draining: None,
                upgraded: false,
                fell_back: false,
                last_error: JsValue::UNDEFINED,
                timer: None,
                page: None,
                last_now: 0,
                events: crate::Queue::new(),
                burst: false,
                epoch: 0,
                written_at: u32::MAX,
                queue: Vec::new(),
            }),
            delivering: Cell::new(false),
            sink: Box::new(sink),
        });
        let weak = Rc::downgrade(&inner);
        let timer = Timer::new(
            move || {
                if let Some(inner) = weak.upgrade() {
                    apply(&inner, Input::Timer);
                }
            },
            timers,
        );
        let weak = Rc::downgrade(&inner);
        let page = PageWatch::new(
            move |signal| {
                if let Some(inner) = weak.upgrade() {
                    apply(&inner, Input::Page(signal));
                }
            },
            unload,
        );
        if let Ok(mut st) = inner.state.try_borrow_mut() {
            st.timer = Some(timer);
            st.page = Some(page);
        }
        Link { inner }
    }

    /// Runs `f` on the session (for reading it, or a command without outputs of its own), then
    /// acts on what it produced. `None` when the session is busy (a call from inside `f`).
    pub fn with<R>(
        &self,
        f: impl FnOnce(&mut Session<Bins, W::Payload>, Millis) -> R,
    ) -> Option<R> {
        let mut f = Some(f);
        let mut r = None;
        self.run(&mut |s, now| {
            if let Some(f) = f.take() {
                r = Some(f(s, now));
            }
        });
        r
    }

    /// [`with`](Self::with), one copy for every caller.
    #[inline(never)]
    fn run(&self, f: &mut Command<'_, W::Payload>) {
        {
            let Ok(mut st) = self.inner.state.try_borrow_mut() else {
                return;
            };
            let now = clock::now(&mut st.last_now);
            f(&mut st.session, now);
            flush(&self.inner, &mut st, now);
        }
        pump(&self.inner);
    }

    /// The event of the WebSocket's last `error` (`undefined` if none).
    #[cfg(feature = "js")]
    pub fn last_error(&self) -> JsValue {
        self.inner
            .state
            .try_borrow()
            .map(|st| st.last_error.clone())
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// Closes the transport as a lost connection would (the session reconnects).
    #[cfg(feature = "js")]
    pub fn drop_transport(&self) {
        apply(&self.inner, Input::Forced);
    }

    /// The transport in use: `"websocket"`, `"polling"`, or `""` when there is none.
    pub fn transport_name(&self) -> &'static str {
        match self
            .inner
            .state
            .try_borrow()
            .as_deref()
            .map(|st| &st.transport)
        {
            Ok(Transport::Ws(_)) => "websocket",
            Ok(Transport::Polling(_)) => "polling",
            _ => "",
        }
    }
}

/// The Rust API's commands, each a call of [`Link::with`].
#[cfg(feature = "rust-api")]
impl<W: Wire> Link<W> {
    /// Connects namespace `nsp` (see [`Session::connect`]).
    pub fn connect(&self, nsp: &str, auth: Option<String>) {
        self.with(|s, now| s.connect(nsp, auth, now));
    }

    /// Connects namespace `nsp`, asking for its auth payload at every connect (see
    /// [`Session::connect_asking_auth`]); answer with [`provide_auth`](Self::provide_auth).
    pub fn connect_asking_auth(&self, nsp: &str) {
        self.with(|s, now| s.connect_asking_auth(nsp, now));
    }

    /// The auth payload of `nsp`'s CONNECT, when asked (see [`Session::provide_auth`]).
    pub fn provide_auth(&self, nsp: &str, auth: Option<String>) {
        self.with(|s, _| s.provide_auth(nsp, auth));
    }

    /// Disconnects namespace `nsp` (see [`Session::disconnect`]).
    pub fn disconnect(&self, nsp: &str) {
        self.with(|s, now| s.disconnect(nsp, now));
    }

    /// Emits on `nsp` (see [`Session::emit`]).
    pub fn emit(
        &self,
        nsp: &str,
        data: W::Payload,
        attachments: Bins,
        ack: Option<Option<Millis>>,
    ) -> Result<Option<u64>, crate::session::EmitError> {
        self.with(|s, now| s.emit(nsp, data, attachments, ack, now))
            .unwrap_or(Err(crate::session::EmitError::BufferFull))
    }

    /// Emits on `nsp` only if it is connected (see [`Session::emit_volatile`]); returns
    /// whether the packet was written.
    pub fn emit_volatile(&self, nsp: &str, data: W::Payload, attachments: Bins) -> bool {
        self.with(|s, now| s.emit_volatile(nsp, data, attachments, now))
            .unwrap_or(false)
    }

    /// Acknowledges the server's event `id` (see [`Session::ack`]).
    pub fn ack(&self, nsp: &str, id: u64, data: W::Payload, attachments: Bins) {
        self.with(|s, _| s.ack(nsp, id, data, attachments));
    }

    /// Sets the timeout of ack `id` (see [`Session::set_ack_timeout`]).
    pub fn set_ack_timeout(&self, id: u64, timeout: Option<Millis>) {
        self.with(|s, now| s.set_ack_timeout(id, timeout, now));
    }

    /// Forgets ack `id` of `nsp` (see [`Session::cancel_ack`]).
    pub fn cancel_ack(&self, nsp: &str, id: u64) {
        self.with(|s, _| s.cancel_ack(nsp, id));
    }

    /// Closes the connection (see [`Session::close`]).
    pub fn close(&self) {
        self.with(|s, now| s.close(now));
    }
}

/// What the browser reports to a link. One entry point for all of them keeps the borrow,
/// clock and output handling in one place (and one copy in the wasm).
enum Input {
    /// A WebSocket's signal, with the tag of the transport it belongs to (a probe's is its
    /// polling transport's).
    Signal(u32, WsSignal),
    /// A polling request of the transport with this tag reported.
    Http(u32, Polled),
    /// The client dropped the transport as if the connection were lost (`engine.close()`).
    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    Forced,
    Page(PageSignal),
    Timer,
    /// The microtask that ends a burst.
    BurstEnd,
}

#[inline(never)]
fn apply<W: Wire>(inner: &Rc<Inner<W>>, input: Input) {
    {
        // Browser events are dispatched from the event loop, never while the state is
        // borrowed.
        let Ok(mut st) = inner.state.try_borrow_mut() else {
            return;
        };
        let now = clock::now(&mut st.last_now);
        let st = &mut *st;
        st.epoch = st.epoch.wrapping_add(1);
        let s = &mut st.session;
        match input {
            // Stale: a transport dropped since.
            Input::Signal(tag, _) if tag != st.tag => {}
            Input::Signal(_, signal) if matches!(st.transport, Transport::Polling(_)) => {
                probe_signal(&mut st.transport, signal)
            }
            Input::Signal(_, WsSignal::Open) => s.handle_transport_open(now),
            Input::Signal(_, WsSignal::Message(data)) => {
                if let Some(tap) = &st.tap {
                    tap(false, &data);
                }
                st.wire.receive(s, now, data);
            }
            Input::Signal(_, signal) => {
                let how = match signal {
                    WsSignal::Error(event) => {
                        st.last_error = event;
                        TransportClosed::Error
                    }
                    _ => TransportClosed::Closed,
                };
                st.transport = Transport::None;
                st.queue.clear();
                // `tryAllTransports`: a WebSocket that failed before the handshake gives way to
                // polling, in the same attempt.
                let o = &st.options;
                if o.try_all && o.polling && !st.fell_back && !st.session.is_open() {
                    st.fell_back = true;
                    open(inner, st, true);
                } else {
                    st.session.handle_transport_close(now, how);
                }
            }
            Input::Http(tag, polled) => http_answer(st, now, tag, polled),
            // `closeOnBeforeunload`: the server is told at once (a polling transport writes its
            // close packet), and if the page stays, the link reconnects.
            Input::Forced | Input::Page(PageSignal::Unload) => {
                // As a close asked for: what was written goes first.
                let _ = write_queue(&mut st.transport, &mut st.queue);
                drop_transport(st);
                st.session
                    .handle_transport_close(now, TransportClosed::Forced);
            }
            Input::BurstEnd => {
                st.burst = false;
                if let Err(event) = write_queue(&mut st.transport, &mut st.queue) {
                    lost(st, now, event);
                }
            }
            Input::Page(PageSignal::Network(online)) => s.handle_network(now, online),
            Input::Page(PageSignal::Visible) => s.handle_visible(now),
            Input::Timer => {
                if let Some(t) = st.timer.as_mut() {
                    t.fired();
                }
                s.handle_timeout(now);
            }
        }
        flush(inner, st, now);
    }
    pump(inner);
}

/// The transport failed (`event`, its error): it is dropped and the session told.
fn lost<W: Wire>(st: &mut State<W>, now: Millis, event: JsValue) {
    lost_as(st, now, event, TransportClosed::Error)
}

/// [`lost`], told to the session as `how`.
fn lost_as<W: Wire>(st: &mut State<W>, now: Millis, event: JsValue, how: TransportClosed) {
    st.transport = Transport::None;
    st.queue.clear();
    st.last_error = event;
    st.session.handle_transport_close(now, how);
}

/// Writes the frames of `queue` on the transport (or drops them if there is none), oldest
/// first; a polling transport writes them with its next `POST`.
fn write_queue(transport: &mut Transport, queue: &mut Vec<JsValue>) -> Result<(), JsValue> {
    for frame in queue.drain(..) {
        match transport {
            Transport::Ws(ws) => websocket::send(ws.socket(), &frame)?,
            Transport::Polling(p) => p.poller.send(Item::new(frame)),
            Transport::None => {}
        }
    }
    Ok(())
}

/// Drops the transport; a polling one first writes what was written on it, then its close
/// packet (see [`Poller::drain`](crate::session::polling::Poller::drain)). Its `GET` in flight
/// is left to end (its answer is ignored): a long-poll cut short is an error to an Engine.IO
/// server, which would close the session before the close packet arrives.
fn drop_transport<W: Wire>(st: &mut State<W>) {
    if let Transport::Polling(mut p) = core::mem::replace(&mut st.transport, Transport::None) {
        p.abandon_probe();
        p.poller.drain(Item::new("1".into()));
        if let Some(older) = st.draining.replace(p) {
            // Still writing (a new transport closed quickly): it goes on by itself.
            adopt(older, &st.options);
        }
    }
}

/// Hands the closed transport `p` over to [`ORPHANS`], which see it to its end.
fn adopt(p: Box<Polling>, options: &TransportOptions) {
    let _ = ORPHANS.try_with(|o| o.try_borrow_mut().map(|mut o| o.push((p, options.clone()))));
    orphan_answer(0, true);
}

/// Opens a transport for the attempt under way: polling, or a WebSocket.
fn open<W: Wire>(inner: &Rc<Inner<W>>, st: &mut State<W>, polling: bool) {
    let now = clock::now(&mut st.last_now);
    st.tag = next_tag();
    let tag = st.tag;
    let Some(url) = (st.url)(polling) else {
        return st
            .session
            .handle_transport_close(now, TransportClosed::Error);
    };
    if polling {
        st.transport = Transport::Polling(Box::new(Polling::new(url, tag)));
        return;
    }
    match open_websocket(inner, tag, &url) {
        Ok(ws) => st.transport = Transport::Ws(ws),
        Err(event) => {
            st.last_error = event;
            st.session
                .handle_transport_close(now, TransportClosed::Error)
        }
    }
}

/// Opens a WebSocket to `url` whose signals carry `tag` (one copy of the opening for the
/// transport and the probe).
fn open_websocket<W: Wire>(
    inner: &Rc<Inner<W>>,
    tag: u32,
    url: &str,
) -> Result<WsTransport, JsValue> {
    let weak = Rc::downgrade(inner);
    WsTransport::open(url, move |s| on_signal(&weak, tag, s))
}

thread_local! {
    /// The last transport tag given, for every link of the module: an answer that outlives its
    /// link finds its transport among the [`ORPHANS`] by it.
    static TAGS: Cell<u32> = const { Cell::new(0) };
    /// Closed polling transports whose link is gone while they still had packets to write (a
    /// `disconnect()` frees the connection at once), with their options: they go on until
    /// their close packet is written, then are dropped.
    static ORPHANS: RefCell<Vec<(Box<Polling>, TransportOptions)>> = const { RefCell::new(Vec::new()) };
}

/// A tag no transport of the module has had.
fn next_tag() -> u32 {
    TAGS.with(|t| {
        t.set(t.get().wrapping_add(1));
        t.get()
    })
}

impl<W: Wire> Drop for State<W> {
    /// A closed polling transport still writing is handed over to [`ORPHANS`].
    fn drop(&mut self) {
        if let Some(p) = self.draining.take() {
            adopt(p, &self.options);
        }
    }
}

/// A `POST` of an orphan tagged `tag` ended (`ok` or not; tag 0: none), and the orphans make
/// their next requests.
fn orphan_answer(tag: u32, ok: bool) {
    let _ = ORPHANS.try_with(|o| {
        let Ok(mut orphans) = o.try_borrow_mut() else {
            return;
        };
        for (p, options) in orphans.iter_mut() {
            if p.tag == tag {
                if ok {
                    p.poller.posted();
                } else {
                    p.poller.close();
                }
            }
            while let Some(request) = p.poller.poll_request() {
                if let Request::Post(items) = request {
                    let tag = p.tag;
                    p.post(
                        items,
                        options,
                        true,
                        Box::new(move |a| orphan_answer(tag, a.is_ok())),
                    );
                }
            }
        }
        orphans.retain(|(p, _)| !p.poller.is_closed());
    });
}

/// A signal of a polling transport's probe.
fn probe_signal(transport: &mut Transport, signal: WsSignal) {
    let Transport::Polling(p) = transport else {
        return;
    };
    let Some(ws) = p.probe.as_ref().filter(|_| p.poller.is_probing()) else {
        return;
    };
    let ok = match signal {
        WsSignal::Open => websocket::send(ws.socket(), &p.poller.probe_opened().into()).is_ok(),
        WsSignal::Message(data) => data
            .as_string()
            .is_some_and(|text| p.poller.probe_answered(&text)),
        _ => false,
    };
    if !ok {
        p.poller.probe_failed();
        p.abandon_probe();
    }
}

/// What a polling request reports.
enum Polled {
    /// A `POST` ended well.
    Posted,
    /// A frame of a `GET`'s payload, in order: each goes through the session and out to the
    /// listeners before the next, as a WebSocket's messages do (no queue of thousands).
    Frame(JsValue),
    /// The `GET` ended, its frames all passed.
    Got,
    /// The request failed.
    Failed(JsValue),
}

/// A polling request of the transport tagged `tag` reported.
fn http_answer<W: Wire>(st: &mut State<W>, now: Millis, tag: u32, polled: Polled) {
    if let Some(d) = st.draining.as_mut().filter(|d| d.tag == tag) {
        match polled {
            Polled::Posted => d.poller.posted(),
            Polled::Failed(_) => d.poller.close(),
            _ => {}
        }
        return;
    }
    if !matches!(&st.transport, Transport::Polling(p) if p.tag == tag) {
        // Perhaps a transport closed before the last one, still writing.
        return match polled {
            Polled::Posted => orphan_answer(tag, true),
            Polled::Failed(_) => orphan_answer(tag, false),
            _ => {}
        };
    }
    let State {
        transport: Transport::Polling(p),
        session,
        wire,
        tap,
        options,
        ..
    } = st
    else {
        return;
    };
    match polled {
        Polled::Failed(event) => lost_as(st, now, event, TransportClosed::PollError),
        Polled::Posted => p.poller.posted(),
        // Until the handshake is read, no other request: it would open another session.
        Polled::Got if p.sid.is_none() => {}
        Polled::Got => p.poller.got(),
        Polled::Frame(frame) => {
            let handshake = p.sid.is_none();
            if handshake {
                session.handle_transport_open(now);
            }
            if let Some(tap) = tap {
                tap(false, &frame);
            }
            wire.receive(session, now, frame);
            if let Some(h) = session.handshake().filter(|_| handshake) {
                p.sid = Some(h.sid.clone());
                p.poller.opened(
                    h.max_payload,
                    h.websocket && options.upgrade && options.websocket,
                );
            }
        }
    }
}

/// Makes the requests the polling transports ask for: the live one's, and the closed one's
/// last `POST`s.
fn drive<W: Wire>(inner: &Rc<Inner<W>>, st: &mut State<W>, now: Millis) {
    if let Some(d) = &mut st.draining {
        while let Some(r) = d.poller.poll_request() {
            if let Request::Post(items) = r {
                d.post(items, &st.options, true, done(inner, d.tag, false));
            }
        }
        if d.poller.is_closed() {
            st.draining = None;
        }
    }
    loop {
        let Transport::Polling(p) = &mut st.transport else {
            return;
        };
        let Some(request) = p.poller.poll_request() else {
            return;
        };
        let tag = p.tag;
        match request {
            Request::Get => p.get(&st.options, done(inner, tag, true)),
            Request::Post(items) => p.post(items, &st.options, false, done(inner, tag, false)),
            Request::Probe => {
                let sid = p.sid.as_deref().unwrap_or_default();
                let url = (st.url)(false).map(|url| polling::probe_url(&url, sid));
                match url.map(|url| open_websocket(inner, tag, &url)) {
                    Some(Ok(ws)) => p.probe = Some(ws),
                    _ => p.poller.probe_failed(),
                }
            }
            Request::Upgrade(items) => {
                let Some(ws) = p.probe.take() else {
                    return lost(st, now, JsValue::UNDEFINED);
                };
                // `5`, then what waited, in order, and the probe is the transport.
                let mut written = websocket::send(ws.socket(), &"5".into());
                for item in items {
                    written = written.and_then(|()| websocket::send(ws.socket(), &item.frame));
                }
                st.transport = Transport::Ws(ws);
                st.upgraded = true;
                let upgraded = SessionEvent::new(EventKind::Upgrade, Nsp::default(), String::new());
                st.events.push(Output::Event(upgraded));
                if let Err(event) = written {
                    return lost(st, now, event);
                }
            }
        }
    }
}

/// The function a polling request of the transport tagged `tag` ends in.
fn done<W: Wire>(inner: &Rc<Inner<W>>, tag: u32, get: bool) -> polling::Done {
    let weak = Rc::downgrade(inner);
    Box::new(move |answer| {
        let Some(inner) = weak.upgrade() else {
            // The link is gone: its closed transport, if this `POST` is one of its, goes on by
            // itself.
            if !get {
                orphan_answer(tag, answer.is_ok());
            }
            return;
        };
        let report = |polled| apply(&inner, Input::Http(tag, polled));
        match answer {
            Ok(body) if get => {
                for frame in polling::decode(&body) {
                    report(Polled::Frame(frame));
                }
                report(Polled::Got);
            }
            Ok(_) => report(Polled::Posted),
            Err(error) => report(Polled::Failed(error)),
        }
    })
}

/// A link with a burst open, as the microtask that ends it holds it.
trait Burst {
    fn end(self: Rc<Self>);
}

impl<W: Wire> Burst for Inner<W> {
    fn end(self: Rc<Self>) {
        apply(&self, Input::BurstEnd);
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(f: &JsValue);
}

/// The links whose burst ends at the next microtask, and the function that microtask runs
/// (made once, for the module's lifetime).
struct Bursts {
    links: Vec<Weak<dyn Burst>>,
    end: Option<Closure<dyn FnMut()>>,
}

thread_local! {
    static BURSTS: RefCell<Bursts> = const { RefCell::new(Bursts { links: Vec::new(), end: None }) };
}

/// Has `inner`'s burst end at the next microtask; false if it cannot (the frames are then
/// written at once).
fn schedule_burst_end<W: Wire>(inner: &Rc<Inner<W>>) -> bool {
    let weak: Weak<dyn Burst> = Rc::downgrade(inner) as Weak<Inner<W>>;
    BURSTS.with(|b| {
        let Ok(mut b) = b.try_borrow_mut() else {
            return false;
        };
        if b.links.is_empty() {
            let end = b.end.get_or_insert_with(|| Closure::new(end_bursts));
            queue_microtask(end.as_ref());
        }
        b.links.push(weak);
        true
    })
}

/// Ends the bursts of every link that has one.
fn end_bursts() {
    let links = BURSTS.with(|b| {
        b.try_borrow_mut()
            .map(|mut b| core::mem::take(&mut b.links))
            .unwrap_or_default()
    });
    for link in links {
        if let Some(inner) = link.upgrade() {
            inner.end();
        }
    }
}

fn on_signal<W: Wire>(weak: &Weak<Inner<W>>, tag: u32, signal: WsSignal) {
    if let Some(inner) = weak.upgrade() {
        apply(&inner, Input::Signal(tag, signal));
    }
}

/// Delivers the session's events and carries out its transport commands, in the order the
/// session produced them (its frames were written by `flush`). A WebSocket opens after the
/// events before it were delivered: a `reconnect_attempt` listener may change what the URL
/// of that attempt is.
#[inline(never)]
fn pump<W: Wire>(inner: &Rc<Inner<W>>) {
    if inner.delivering.replace(true) {
        // An outer call is delivering; it will pick up what was queued.
        return;
    }
    loop {
        // The session is borrowed only to take the event, never while the sink runs.
        let next = match inner.state.try_borrow_mut() {
            Ok(mut st) => match st.events.pop() {
                Some(Output::Event(ev)) => Some(ev),
                Some(Output::Transport(cmd)) => {
                    transport(inner, &mut st, cmd);
                    let now = clock::now(&mut st.last_now);
                    flush(inner, &mut st, now);
                    continue;
                }
                Some(Output::Transmit(_)) => continue,
                None => None,
            },
            _ => None,
        };
        match next {
            Some(ev) => (inner.sink)(ev),
            None => break,
        }
    }
    inner.delivering.set(false);
}

/// Opens or closes the transport as the session asked.
fn transport<W: Wire>(inner: &Rc<Inner<W>>, st: &mut State<W>, cmd: TransportCommand) {
    // Any previous transport is closed first (its listeners are removed on drop), once what
    // was written on it has gone.
    let _ = write_queue(&mut st.transport, &mut st.queue);
    drop_transport(st);
    // Off the browser, the transport stays opening.
    if cmd == TransportCommand::Open && super::BROWSER {
        st.fell_back = false;
        open(inner, st, st.options.starts_polling(st.upgraded));
    }
}

#[inline(never)]
fn flush<W: Wire>(inner: &Rc<Inner<W>>, st: &mut State<W>, now: Millis) {
    while let Some(output) = st.session.poll_output() {
        match output {
            Output::Transmit(frame) => {
                if let Transport::None = st.transport {
                    continue;
                }
                let text = W::text(&frame);
                if let Some(tap) = &st.tap {
                    tap(true, &text);
                }
                st.queue.push(text);
                if let Some(bins) = &frame.attachments {
                    for i in 0..bins.length() {
                        st.queue.push(bins.get(i));
                    }
                }
                if st.burst {
                    continue;
                }
                // A second write with nothing in between opens a burst.
                if st.written_at == st.epoch && schedule_burst_end(inner) {
                    st.burst = true;
                    continue;
                }
                st.written_at = st.epoch;
                if let Err(event) = write_queue(&mut st.transport, &mut st.queue) {
                    lost(st, now, event);
                }
            }
            // Carried out by `pump`, in order with the events.
            other => st.events.push(other),
        }
    }
    drive(inner, st, now);
    if st.session.has_output() {
        // A request failed as it was made: the session's answer to that.
        return flush(inner, st, now);
    }
    // Re-arm lazily: only when the next deadline is earlier than the armed one. A timer that
    // fires early finds nothing due and is re-armed then, which keeps timer calls off the
    // per-message path.
    let want = st.session.poll_timeout();
    if let Some(timer) = st.timer.as_mut() {
        match (want, timer.armed_at()) {
            (None, Some(_)) => timer.disarm(),
            (Some(t), Some(armed)) if t < armed => timer.arm(t, now),
            (Some(t), None) => timer.arm(t, now),
            _ => {}
        }
    }
}
