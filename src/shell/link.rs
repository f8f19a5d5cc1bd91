//! [`Link`]: one session wired to a WebSocket, a timer and the clock, delivering the session's
//! events to a sink (the Rust front door; the JS one drives its session itself).
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
use super::timer::Timer;
use super::websocket::{WsSignal, WsTransport};
use crate::session::{
    EmitError, Millis, Output, Session, SessionConfig, SessionEvent, TransportClosed,
    TransportCommand,
};

pub(crate) use super::Bins;

/// The event type the browser session produces.
pub(crate) type Event = SessionEvent<Bins>;

struct State {
    session: Session<Bins>,
    url: String,
    ws: Option<WsTransport>,
    /// Set once the link exists (the timer's closure needs a weak handle to it).
    timer: Option<Timer>,
    /// The page's network and visibility listeners, set with the timer.
    page: Option<PageWatch>,
    last_now: Millis,
    /// Events taken from the session, waiting for the sink (oldest first).
    events: Vec<Event>,
}

struct Inner {
    state: RefCell<State>,
    delivering: Cell<bool>,
    sink: Box<dyn Fn(Event)>,
}

/// A cheap-to-clone handle on one connection. The connection (socket, listeners, timer) is
/// released when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct Link {
    inner: Rc<Inner>,
}

impl Link {
    /// A link to the Engine.IO endpoint at `url` (a complete `ws:`/`wss:` URL). Nothing is
    /// opened until a namespace connects.
    pub fn new(url: String, config: SessionConfig, sink: impl Fn(Event) + 'static) -> Link {
        let inner = Rc::new(Inner {
            state: RefCell::new(State {
                session: Session::new(config),
                url,
                ws: None,
                timer: None,
                page: None,
                last_now: 0,
                events: Vec::new(),
            }),
            delivering: Cell::new(false),
            sink: Box::new(sink),
        });
        let weak = Rc::downgrade(&inner);
        let timer = Timer::new(move || {
            if let Some(inner) = weak.upgrade() {
                apply(&inner, Input::Timer);
            }
        });
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
    pub fn input(&self, input: Input<'_>) -> Input<'static> {
        apply(&self.inner, input)
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
        data: String,
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
    pub fn emit_volatile(&self, nsp: &str, data: String, attachments: Bins) -> bool {
        matches!(
            self.input(Input::EmitVolatile(nsp, data, attachments)),
            Input::Emitted(Ok(Some(_)))
        )
    }

    /// Acknowledges the server's event `id` (see [`Session::ack`]).
    pub fn ack(&self, nsp: &str, id: u64, data: String, attachments: Bins) {
        self.input(Input::Ack(nsp, id, data, attachments));
    }

    /// Closes the connection (see [`Session::close`]).
    pub fn close(&self) {
        self.input(Input::Close);
    }
}

/// Everything that can happen to a link. One entry point for all of them keeps the borrow,
/// clock and output handling in one place (and one copy in the wasm).
pub(crate) enum Input<'a> {
    Connect(&'a str, Option<String>),
    ConnectAsking(&'a str),
    ProvideAuth(&'a str, Option<String>),
    Disconnect(&'a str),
    Emit(&'a str, String, Bins, Option<Option<Millis>>),
    EmitVolatile(&'a str, String, Bins),
    Ack(&'a str, u64, String, Bins),
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
fn apply(inner: &Rc<Inner>, input: Input<'_>) -> Input<'static> {
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
            Input::Signal(WsSignal::Message(data)) => match data.as_string() {
                // Frames are passed whole here, so the session always takes them.
                Some(text) => {
                    s.handle_text(now, &text);
                }
                None => s.handle_binary(now, data),
            },
            Input::Signal(WsSignal::Closed) => {
                st.ws = None;
                st.session
                    .handle_transport_close(now, TransportClosed::Closed);
            }
            Input::Signal(WsSignal::Error) => {
                st.ws = None;
                st.session
                    .handle_transport_close(now, TransportClosed::Error);
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
        flush(inner, &mut st);
    }
    pump(inner);
    out
}

fn on_signal(weak: &Weak<Inner>, signal: WsSignal) {
    if let Some(inner) = weak.upgrade() {
        apply(&inner, Input::Signal(signal));
    }
}

/// Delivers the session's events (its other outputs were already acted on by `apply`).
fn pump(inner: &Rc<Inner>) {
    if inner.delivering.replace(true) {
        // An outer call is delivering; it will pick up what was queued.
        return;
    }
    loop {
        // The session is borrowed only to take the event, never while the sink runs.
        let next = match inner.state.try_borrow_mut() {
            Ok(mut st) if !st.events.is_empty() => Some(st.events.remove(0)),
            _ => None,
        };
        match next {
            Some(ev) => (inner.sink)(ev),
            None => break,
        }
    }
    inner.delivering.set(false);
}

fn flush(inner: &Rc<Inner>, st: &mut State) {
    while let Some(output) = st.session.poll_output() {
        let now = clock::now(&mut st.last_now);
        match output {
            Output::Transmit(frame) => {
                let failed = match &st.ws {
                    Some(ws) => ws.send(&frame).is_err(),
                    None => false,
                };
                if failed {
                    st.ws = None;
                    st.session
                        .handle_transport_close(now, TransportClosed::Error);
                }
            }
            Output::Transport(cmd) => {
                // Any previous transport is closed first (its listeners are removed on drop).
                st.ws = None;
                if cmd == TransportCommand::Open {
                    let weak = Rc::downgrade(inner);
                    match WsTransport::open(&st.url, move |s| on_signal(&weak, s)) {
                        Ok(ws) => st.ws = Some(ws),
                        Err(_) => st
                            .session
                            .handle_transport_close(now, TransportClosed::Error),
                    }
                }
            }
            // Delivered by `pump`, once the session is no longer borrowed.
            Output::Event(ev) => st.events.push(ev),
        }
    }
    // Re-arm lazily: only when the next deadline is earlier than the armed one. A timer that
    // fires early finds nothing due and is re-armed then, which keeps timer calls off the
    // per-message path.
    let now = clock::now(&mut st.last_now);
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
