//! [`Link`]: one session wired to a WebSocket, a timer and the clock, delivering the session's
//! events to a sink (the JS or the Rust front door).
//!
//! Re-entrancy: sinks run user code, which may call back into the link (emit from a listener).
//! The session is never borrowed while a sink runs, and events raised by a nested call are
//! queued behind the ones being delivered, so every listener sees events in session order.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use wasm_bindgen::JsValue;

use super::clock;
use super::timer::Timer;
use super::websocket::{WsSignal, WsTransport};
use crate::session::{
    EmitError, Millis, Session, SessionConfig, SessionEvent, TransportClosed, TransportCommand,
};

/// The event type the browser session produces: attachments are JS `ArrayBuffer`s.
pub(crate) type Event = SessionEvent<JsValue>;

struct State {
    session: Session<JsValue>,
    url: String,
    ws: Option<WsTransport>,
    /// Set once the link exists (the timer's closure needs a weak handle to it).
    timer: Option<Timer>,
    last_now: Millis,
}

struct Inner {
    state: RefCell<State>,
    queue: RefCell<VecDeque<Event>>,
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
                last_now: 0,
            }),
            queue: RefCell::new(VecDeque::new()),
            delivering: Cell::new(false),
            sink: Box::new(sink),
        });
        let weak = Rc::downgrade(&inner);
        let timer = Timer::new(move || {
            if let Some(inner) = weak.upgrade() {
                on_timer(&inner);
            }
        });
        if let Ok(mut st) = inner.state.try_borrow_mut() {
            st.timer = Some(timer);
        }
        Link { inner }
    }

    /// Runs `f` on the session with the current time, then acts on its outputs.
    pub fn with<R>(&self, f: impl FnOnce(&mut Session<JsValue>, Millis) -> R) -> Option<R> {
        let r = {
            let mut st = self.inner.state.try_borrow_mut().ok()?;
            let now = clock::now(&mut st.last_now);
            f(&mut st.session, now)
        };
        pump(&self.inner);
        Some(r)
    }

    /// Connects namespace `nsp` (see [`Session::connect`]).
    pub fn connect(&self, nsp: &str, auth: Option<String>) {
        self.with(|s, now| s.connect(nsp, auth, now));
    }

    /// Disconnects namespace `nsp` (see [`Session::disconnect`]).
    pub fn disconnect(&self, nsp: &str) {
        self.with(|s, now| s.disconnect(nsp, now));
    }

    /// Emits on `nsp` (see [`Session::emit`]).
    pub fn emit(
        &self,
        nsp: &str,
        data: String,
        attachments: Vec<JsValue>,
        ack: Option<Option<Millis>>,
    ) -> Result<Option<u64>, EmitError> {
        self.with(|s, now| s.emit(nsp, data, attachments, ack, now))
            .unwrap_or(Err(EmitError::BufferFull))
    }

    /// Closes the connection (see [`Session::close`]).
    pub fn close(&self) {
        self.with(|s, now| s.close(now));
    }
}

fn on_signal(weak: &Weak<Inner>, signal: WsSignal) {
    let Some(inner) = weak.upgrade() else { return };
    {
        // Browser events are dispatched from the event loop, never while the state is borrowed.
        let Ok(mut st) = inner.state.try_borrow_mut() else {
            return;
        };
        let now = clock::now(&mut st.last_now);
        match signal {
            WsSignal::Open => st.session.handle_transport_open(now),
            WsSignal::Message(data) => match data.as_string() {
                Some(text) => st.session.handle_text(now, &text),
                None => st.session.handle_binary(now, data),
            },
            WsSignal::Closed => {
                st.ws = None;
                st.session.handle_transport_close(now, TransportClosed::Closed);
            }
            WsSignal::Error => {
                st.ws = None;
                st.session.handle_transport_close(now, TransportClosed::Error);
            }
        }
    }
    pump(&inner);
}

fn on_timer(inner: &Rc<Inner>) {
    {
        let Ok(mut st) = inner.state.try_borrow_mut() else {
            return;
        };
        if let Some(t) = st.timer.as_mut() {
            t.fired();
        }
        let now = clock::now(&mut st.last_now);
        st.session.handle_timeout(now);
    }
    pump(inner);
}

/// Acts on the session's outputs until it has none, then delivers queued events.
fn pump(inner: &Rc<Inner>) {
    {
        let Ok(mut st) = inner.state.try_borrow_mut() else {
            return;
        };
        flush(inner, &mut st);
    }
    if inner.delivering.replace(true) {
        // An outer call is delivering; it will pick up what was queued.
        return;
    }
    loop {
        let next = match inner.queue.try_borrow_mut() {
            Ok(mut q) => q.pop_front(),
            Err(_) => None,
        };
        match next {
            Some(ev) => (inner.sink)(ev),
            None => break,
        }
    }
    inner.delivering.set(false);
}

fn flush(inner: &Rc<Inner>, st: &mut State) {
    loop {
        let now = clock::now(&mut st.last_now);
        let mut progress = false;
        while let Some(frame) = st.session.poll_transmit() {
            progress = true;
            let failed = match &st.ws {
                Some(ws) => ws.send(&frame).is_err(),
                None => false,
            };
            if failed {
                st.ws = None;
                st.session.handle_transport_close(now, TransportClosed::Error);
            }
        }
        while let Some(cmd) = st.session.poll_transport() {
            progress = true;
            // Any previous transport is closed first (its listeners are removed on drop).
            st.ws = None;
            if cmd == TransportCommand::Open {
                let weak = Rc::downgrade(inner);
                match WsTransport::open(&st.url, move |s| on_signal(&weak, s)) {
                    Ok(ws) => st.ws = Some(ws),
                    Err(_) => st.session.handle_transport_close(now, TransportClosed::Error),
                }
            }
        }
        if let Ok(mut q) = inner.queue.try_borrow_mut() {
            while let Some(ev) = st.session.poll_event() {
                q.push_back(ev);
            }
        }
        if !progress {
            break;
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
