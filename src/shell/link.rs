//! [`Link`]: one session wired to a WebSocket, a timer, the page's signals and the clock,
//! delivering the session's events to a sink. Both front doors use it; what differs between
//! them, how a payload is held (a Rust `String`, or the JS string it arrived in), is the
//! link's [`Wire`].
//!
//! Re-entrancy: sinks run user code, which may call back into the link (emit from a listener).
//! The session is never borrowed while a sink runs, and events raised by a nested call are
//! queued behind the ones being delivered, so every listener sees events in session order.

use alloc::boxed::Box;
use alloc::rc::{Rc, Weak};
use alloc::string::String;
use core::cell::{Cell, RefCell};

use super::clock;
use super::page::{PageSignal, PageWatch};
use super::timer::{Timer, TimerFunctions};
use super::websocket::{WsSignal, WsTransport};
use crate::session::{
    EmitError, Millis, Output, Session, SessionConfig, SessionEvent, Transmit, TransportClosed,
    TransportCommand,
};
use wasm_bindgen::JsValue;
use web_sys::WebSocket;

pub(crate) use super::Bins;

/// How a front door holds payloads: how a received text frame enters the session, and how a
/// frame the session made is written.
pub(crate) trait Wire: 'static {
    /// An event's or ack's JSON payload as the session stores and forwards it.
    type Payload: Clone + 'static;
    /// Feeds a received message to the session: a text frame (a JS string) or a binary one
    /// (an `ArrayBuffer`).
    fn receive(&self, session: &mut Session<Bins, Self::Payload>, now: Millis, data: JsValue);
    /// Writes one text frame and its attachments on `ws`; returns the text frame written (for
    /// the debug log).
    fn send(ws: &WebSocket, frame: &Transmit<Bins, Self::Payload>) -> Result<JsValue, JsValue>;
}

/// The event type the browser session produces.
pub(crate) type Event<P> = SessionEvent<Bins, P>;

/// Where the WebSocket of each attempt goes (the JS door reads its options again each time),
/// `None` when there is no URL to be had (reported as a failed attempt).
pub(crate) type UrlSource = Box<dyn Fn() -> Option<String>>;

/// What the link reports besides the session's events: frames written and received, for a
/// debug log.
pub(crate) type Tap = Option<Box<dyn Fn(bool, &JsValue)>>;

struct State<W: Wire> {
    session: Session<Bins, W::Payload>,
    wire: W,
    url: UrlSource,
    tap: Tap,
    ws: Option<WsTransport>,
    /// The event of the WebSocket's last `error`, for the front door's error report.
    last_error: JsValue,
    /// Set once the link exists (the timer's closure needs a weak handle to it).
    timer: Option<Timer>,
    /// The page's network and visibility listeners, set with the timer.
    page: Option<PageWatch>,
    last_now: Millis,
    /// Events and transport commands taken from the session, waiting for `pump` (oldest
    /// first).
    events: Vec<Output<Bins, W::Payload>>,
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
    /// A link to the Engine.IO endpoint `url` gives (a complete `ws:`/`wss:` URL, asked at each
    /// attempt), frames shown to `tap`, on the page's timers or on `timers`. Nothing is opened
    /// until a namespace connects.
    pub fn new(
        wire: W,
        url: UrlSource,
        tap: Tap,
        timers: Option<TimerFunctions>,
        config: SessionConfig,
        sink: impl Fn(Event<W::Payload>) + 'static,
    ) -> Self {
        let inner = Rc::new(Inner {
            state: RefCell::new(State {
                session: Session::new(config),
                wire,
                url,
                tap,
                ws: None,
                last_error: JsValue::UNDEFINED,
                timer: None,
                page: None,
                last_now: 0,
                events: Vec::new(),
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
        let page = PageWatch::new(move |signal| {
            if let Some(inner) = weak.upgrade() {
                apply(&inner, Input::Page(signal));
            }
        });
        if let Ok(mut st) = inner.state.try_borrow_mut() {
            st.timer = Some(timer);
            st.page = Some(page);
        }
        Link { inner }
    }

    /// Feeds one input to the session, then acts on its outputs.
    pub fn input(&self, input: Input<'_, W::Payload>) -> Input<'static, W::Payload> {
        apply(&self.inner, input)
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
    fn run(&self, f: &mut dyn FnMut(&mut Session<Bins, W::Payload>, Millis)) {
        {
            let Ok(mut st) = self.inner.state.try_borrow_mut() else {
                return;
            };
            let now = clock::now(&mut st.last_now);
            f(&mut st.session, now);
            flush(&mut st);
        }
        pump(&self.inner);
    }

    /// The event of the WebSocket's last `error` (`undefined` if none).
    pub fn last_error(&self) -> JsValue {
        self.inner
            .state
            .try_borrow()
            .map(|st| st.last_error.clone())
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// Closes the WebSocket as a lost connection would (the session reconnects).
    pub fn drop_transport(&self) {
        self.input(Input::Signal(WsSignal::Forced));
    }

    /// Connects namespace `nsp` (see [`Session::connect`]).
    pub fn connect(&self, nsp: &str, auth: Option<String>) {
        self.input(Input::Connect(nsp, auth));
    }

    /// Connects namespace `nsp`, asking for its auth payload at every connect (see
    /// [`Session::connect_asking_auth`]); answer with [`provide_auth`](Self::provide_auth).
    pub fn connect_asking_auth(&self, nsp: &str) {
        self.input(Input::ConnectAsking(nsp));
    }

    /// The auth payload of `nsp`'s CONNECT, when asked (see [`Session::provide_auth`]).
    pub fn provide_auth(&self, nsp: &str, auth: Option<String>) {
        self.input(Input::ProvideAuth(nsp, auth));
    }

    /// Disconnects namespace `nsp` (see [`Session::disconnect`]).
    pub fn disconnect(&self, nsp: &str) {
        self.input(Input::Disconnect(nsp));
    }

    /// Emits on `nsp` (see [`Session::emit`]).
    pub fn emit(
        &self,
        nsp: &str,
        data: W::Payload,
        attachments: Bins,
        ack: Option<Option<Millis>>,
    ) -> Result<Option<u64>, EmitError> {
        match self.input(Input::Emit(nsp, data, attachments, ack)) {
            Input::Emitted(r) => r,
            _ => Err(EmitError::BufferFull),
        }
    }

    /// Emits on `nsp` only if it is connected (see [`Session::emit_volatile`]); returns
    /// whether the packet was written.
    pub fn emit_volatile(&self, nsp: &str, data: W::Payload, attachments: Bins) -> bool {
        matches!(
            self.input(Input::EmitVolatile(nsp, data, attachments)),
            Input::Emitted(Ok(Some(_)))
        )
    }

    /// Acknowledges the server's event `id` (see [`Session::ack`]).
    pub fn ack(&self, nsp: &str, id: u64, data: W::Payload, attachments: Bins) {
        self.input(Input::Ack(nsp, id, data, attachments));
    }

    /// Closes the connection (see [`Session::close`]).
    pub fn close(&self) {
        self.input(Input::Close);
    }
}

/// Everything that can happen to a link. One entry point for all of them keeps the borrow,
/// clock and output handling in one place (and one copy in the wasm).
pub(crate) enum Input<'a, P> {
    Connect(&'a str, Option<String>),
    ConnectAsking(&'a str),
    ProvideAuth(&'a str, Option<String>),
    Disconnect(&'a str),
    Emit(&'a str, P, Bins, Option<Option<Millis>>),
    EmitVolatile(&'a str, P, Bins),
    Ack(&'a str, u64, P, Bins),
    SetAckTimeout(u64, Option<Millis>),
    CancelAck(&'a str, u64),
    Close,
    Signal(WsSignal),
    Page(PageSignal),
    Timer,
    /// The result of an `Emit` (also "nothing to report" for every other input).
    Emitted(Result<Option<u64>, EmitError>),
}

#[inline(never)]
fn apply<W: Wire>(
    inner: &Rc<Inner<W>>,
    input: Input<'_, W::Payload>,
) -> Input<'static, W::Payload> {
    let mut out = Input::Emitted(Ok(None));
    {
        // Browser events are dispatched from the event loop, never while the state is
        // borrowed; a command from inside a sink finds it free too (sinks run unborrowed).
        let Ok(mut st) = inner.state.try_borrow_mut() else {
            return Input::Emitted(Err(EmitError::BufferFull));
        };
        let now = clock::now(&mut st.last_now);
        let s = &mut st.session;
        match input {
            Input::Connect(nsp, auth) => s.connect(nsp, auth, now),
            Input::ConnectAsking(nsp) => s.connect_asking_auth(nsp, now),
            Input::ProvideAuth(nsp, auth) => s.provide_auth(nsp, auth),
            Input::Disconnect(nsp) => s.disconnect(nsp, now),
            Input::Emit(nsp, data, bins, ack) => {
                out = Input::Emitted(s.emit(nsp, data, bins, ack, now));
            }
            Input::EmitVolatile(nsp, data, bins) => {
                let sent = s.emit_volatile(nsp, data, bins, now);
                out = Input::Emitted(Ok(sent.then_some(0)));
            }
            Input::Ack(nsp, id, data, bins) => s.ack(nsp, id, data, bins),
            Input::SetAckTimeout(id, t) => {
                s.set_ack_timeout(id, t, now);
            }
            Input::CancelAck(nsp, id) => s.cancel_ack(nsp, id),
            Input::Close => s.close(now),
            Input::Signal(WsSignal::Open) => s.handle_transport_open(now),
            Input::Signal(WsSignal::Message(data)) => {
                if let Some(tap) = &st.tap {
                    tap(false, &data);
                }
                let st = &mut *st;
                st.wire.receive(&mut st.session, now, data);
            }
            Input::Signal(signal) => {
                let how = match signal {
                    WsSignal::Error(event) => {
                        st.last_error = event;
                        TransportClosed::Error
                    }
                    WsSignal::Forced => TransportClosed::Forced,
                    _ => TransportClosed::Closed,
                };
                st.ws = None;
                st.session.handle_transport_close(now, how);
            }
            Input::Page(PageSignal::Network(online)) => s.handle_network(now, online),
            Input::Page(PageSignal::Visible) => s.handle_visible(now),
            Input::Timer => {
                if let Some(t) = st.timer.as_mut() {
                    t.fired();
                }
                st.session.handle_timeout(now);
            }
            Input::Emitted(_) => {}
        }
        flush(&mut st);
    }
    pump(inner);
    out
}

fn on_signal<W: Wire>(weak: &Weak<Inner<W>>, signal: WsSignal) {
    if let Some(inner) = weak.upgrade() {
        apply(&inner, Input::Signal(signal));
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
            Ok(mut st) if !st.events.is_empty() => match st.events.remove(0) {
                Output::Event(ev) => Some(ev),
                Output::Transport(cmd) => {
                    transport(inner, &mut st, cmd);
                    flush(&mut st);
                    continue;
                }
                Output::Transmit(_) => continue,
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

/// Opens or closes the WebSocket as the session asked.
fn transport<W: Wire>(inner: &Rc<Inner<W>>, st: &mut State<W>, cmd: TransportCommand) {
    // Any previous transport is closed first (its listeners are removed on drop).
    st.ws = None;
    if cmd == TransportCommand::Open {
        let now = clock::now(&mut st.last_now);
        let weak = Rc::downgrade(inner);
        let opened = (st.url)().map(|url| WsTransport::open(&url, move |s| on_signal(&weak, s)));
        match opened {
            Some(Ok(ws)) => st.ws = Some(ws),
            Some(Err(event)) => {
                st.last_error = event;
                st.session
                    .handle_transport_close(now, TransportClosed::Error)
            }
            None => st
                .session
                .handle_transport_close(now, TransportClosed::Error),
        }
    }
}

#[inline(never)]
fn flush<W: Wire>(st: &mut State<W>) {
    let now = clock::now(&mut st.last_now);
    while let Some(output) = st.session.poll_output() {
        match output {
            Output::Transmit(frame) => {
                let sent = match &st.ws {
                    Some(ws) => W::send(ws.socket(), &frame),
                    None => Ok(JsValue::UNDEFINED),
                };
                match sent {
                    Ok(text) => {
                        if let (Some(tap), Some(_)) = (&st.tap, &st.ws) {
                            tap(true, &text);
                        }
                    }
                    Err(event) => {
                        st.ws = None;
                        st.last_error = event;
                        st.session
                            .handle_transport_close(now, TransportClosed::Error);
                    }
                }
            }
            // Carried out by `pump`, in order with the events.
            other => st.events.push(other),
        }
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
