//! [`StreamLink`]: a reconnecting [`Stream`] wired to the clock, a timer and the page's
//! network and visibility signals, for the Rust front door's SSE and plain-WebSocket modes.
//!
//! The front door's connection (the *host*, see [`StreamHost`]) owns the transport (an
//! `EventSource`, a `WebSocket`) and the link; the link decides when to open, close, write and
//! ping, and hands the host the stream's lifecycle ([`StreamEvent`]) and what the transport
//! received, in order.
//!
//! Re-entrancy, as in [`link`](super::link): user code runs only in
//! [`StreamHost::deliver`], with nothing borrowed; what a listener causes (an emit, a
//! disconnect) is queued behind what is being delivered.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use super::clock;
use super::page::{PageSignal, PageWatch};
use super::timer::Timer;
use crate::session::stream::{Output, Stream, StreamClosed, StreamConfig};
use crate::session::Millis;

/// What happens to a connection of the SSE or plain-WebSocket mode; see `on_state` of
/// [`Sse`](crate::sse::Sse) and [`Ws`](crate::ws::Ws). The names are socket.io-client's
/// (`connect`, `disconnect`, `connect_error`, `reconnect_attempt`, `reconnect`,
/// `reconnect_failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// The connection opened (`connect`), after `attempts` failed or lost ones (0 for the
    /// first connection; more: a reconnection, socket.io-client's `reconnect`).
    Connect {
        /// How many reconnection attempts it took (0: the first connection).
        attempts: u32,
    },
    /// The open connection went down (`disconnect`), for this reason. A reconnection follows
    /// unless the reason is [`StreamClosed::Client`] or reconnection is off.
    Disconnect(StreamClosed),
    /// An attempt to connect failed (`connect_error`): `attempt` 0 is the first connection.
    /// An HTTP error answer is a [`StreamClosed::TransportError`]; `on_connect_error` tells
    /// more (an SSE stream's HTTP status and body).
    ConnectError {
        /// Which attempt failed.
        attempt: u32,
        /// Why.
        reason: StreamClosed,
    },
    /// Reconnection attempt `n` (from 1) starts (`reconnect_attempt`).
    ReconnectAttempt(u32),
    /// The reconnection attempts ran out (`reconnect_failed`); `connect()` starts again.
    ReconnectFailed,
}

/// The front door's side of a [`StreamLink`]: its transport and its listeners.
pub(crate) trait StreamHost: Sized + 'static {
    /// What the stream sends (held while down).
    type Item;
    /// What is delivered to user code, in order: the stream's lifecycle and what arrived.
    type Event: From<StreamEvent>;

    /// The link this host is driven by.
    fn link(&self) -> &StreamLink<Self>;
    /// Opens the transport, closing any previous one; false when it could not even start.
    fn open(self: &Rc<Self>) -> bool;
    /// Closes the transport (its listeners removed: it reports nothing more).
    fn close(&self);
    /// Writes one item; false when the transport failed.
    fn write(self: &Rc<Self>, item: Self::Item) -> bool;
    /// Writes the heartbeat; false when the transport failed.
    fn ping(&self) -> bool;
    /// Delivers one event to user code. Nothing of the link is borrowed.
    fn deliver(self: &Rc<Self>, event: Self::Event);
}

/// A [`Stream`] driven by the browser: the clock, one re-armable timer and the page's signals.
/// Dropping it (with its host) cancels the timer and removes the page listeners.
pub(crate) struct StreamLink<H: StreamHost> {
    stream: RefCell<Stream<H::Item>>,
    timer: RefCell<Option<Timer>>,
    page: RefCell<Option<PageWatch>>,
    last_now: Cell<Millis>,
    queue: RefCell<VecDeque<H::Event>>,
    delivering: Cell<bool>,
}

impl<H: StreamHost> StreamLink<H> {
    /// A closed stream; [`start`](Self::start) it once the host exists.
    pub fn new(config: StreamConfig) -> Self {
        StreamLink {
            stream: RefCell::new(Stream::new(config)),
            timer: RefCell::new(None),
            page: RefCell::new(None),
            last_now: Cell::new(0),
            queue: RefCell::new(VecDeque::new()),
            delivering: Cell::new(false),
        }
    }

    /// Installs the timer and the page listeners, which reach the host through a weak handle.
    pub fn start(host: &Rc<H>) {
        let weak = Rc::downgrade(host);
        let timer = Timer::new(
            move || {
                if let Some(host) = weak.upgrade() {
                    if let Ok(mut t) = host.link().timer.try_borrow_mut() {
                        if let Some(t) = t.as_mut() {
                            t.fired();
                        }
                    }
                    Self::apply(&host, |s, now| s.handle_timeout(now));
                }
            },
            None,
        );
        let weak: Weak<H> = Rc::downgrade(host);
        let page = PageWatch::new(
            move |signal| {
                if let Some(host) = weak.upgrade() {
                    Self::apply(&host, |s, now| match signal {
                        PageSignal::Network(online) => s.handle_network(online, now),
                        PageSignal::Visible => s.handle_visible(now),
                        PageSignal::Unload => {}
                    });
                }
            },
            false,
        );
        let link = host.link();
        *link.timer.borrow_mut() = Some(timer);
        *link.page.borrow_mut() = Some(page);
    }

    /// The wall clock, never going backwards.
    pub fn now(&self) -> Millis {
        let mut last = self.last_now.get();
        let now = clock::now(&mut last);
        self.last_now.set(last);
        now
    }

    /// Whether the transport is open.
    #[cfg(feature = "rust-api")]
    pub fn is_open(&self) -> bool {
        self.stream.try_borrow().is_ok_and(|s| s.is_open())
    }

    /// Whether the stream is connected or trying to be.
    #[cfg(feature = "rust-api")]
    pub fn is_active(&self) -> bool {
        self.stream.try_borrow().is_ok_and(|s| s.is_active())
    }

    /// Feeds one command or input to the stream, acts on its outputs, re-arms the timer and
    /// delivers what is due. `None` only if the stream is busy (it never is when called from
    /// a browser event or from user code).
    pub fn apply<R>(host: &Rc<H>, f: impl FnOnce(&mut Stream<H::Item>, Millis) -> R) -> Option<R> {
        let link = host.link();
        let now = link.now();
        let r = {
            let mut stream = link.stream.try_borrow_mut().ok()?;
            f(&mut stream, now)
        };
        link.act(host);
        Self::pump(host);
        Some(r)
    }

    /// Queues `event` for user code and delivers it (after whatever is being delivered).
    pub fn deliver(host: &Rc<H>, event: H::Event) {
        host.link().queue.borrow_mut().push_back(event);
        Self::pump(host);
    }

    /// Takes the stream's outputs and acts on them; the stream is borrowed only to take each.
    fn act(&self, host: &Rc<H>) {
        loop {
            let next = match self.stream.try_borrow_mut() {
                Ok(mut s) => s.poll_output(),
                Err(_) => None,
            };
            let Some(output) = next else { break };
            let event = match output {
                // Off the browser, the transport stays opening.
                Output::Open if !super::BROWSER => continue,
                Output::Open => {
                    if !host.open() {
                        self.failed(host);
                    }
                    continue;
                }
                Output::Close => {
                    host.close();
                    continue;
                }
                Output::Send(item) => {
                    if !host.write(item) {
                        self.failed(host);
                    }
                    continue;
                }
                Output::Ping => {
                    if !host.ping() {
                        self.failed(host);
                    }
                    continue;
                }
                Output::Connected { attempts } => StreamEvent::Connect { attempts },
                Output::Disconnected(reason) => StreamEvent::Disconnect(reason),
                Output::OpenFailed { attempt, reason } => {
                    StreamEvent::ConnectError { attempt, reason }
                }
                Output::ReconnectAttempt(n) => StreamEvent::ReconnectAttempt(n),
                Output::ReconnectFailed => StreamEvent::ReconnectFailed,
            };
            #[cfg(feature = "rust-api")]
            crate::front::rust::debug::state("stream", &event, "");
            self.queue.borrow_mut().push_back(event.into());
        }
        self.rearm();
    }

    /// The transport failed while being opened or written to.
    fn failed(&self, host: &Rc<H>) {
        host.close();
        let now = self.now();
        if let Ok(mut s) = self.stream.try_borrow_mut() {
            s.handle_closed(true, now);
        }
    }

    /// Arms the timer for the stream's next deadline. Lazily, as the Socket.IO link does: only
    /// when the deadline is earlier than the armed one; a timer that fires early finds nothing
    /// due and is re-armed then.
    fn rearm(&self) {
        let want = match self.stream.try_borrow() {
            Ok(s) => s.poll_timeout(),
            Err(_) => return,
        };
        let now = self.now();
        if let Ok(mut timer) = self.timer.try_borrow_mut() {
            if let Some(timer) = timer.as_mut() {
                match (want, timer.armed_at()) {
                    (None, Some(_)) => timer.disarm(),
                    (Some(t), Some(armed)) if t < armed => timer.arm(t, now),
                    (Some(t), None) => timer.arm(t, now),
                    _ => {}
                }
            }
        }
    }

    /// Delivers the queued events, unless an outer call is doing it.
    fn pump(host: &Rc<H>) {
        let link = host.link();
        if link.delivering.replace(true) {
            return;
        }
        loop {
            let next = link.queue.borrow_mut().pop_front();
            match next {
                Some(event) => host.deliver(event),
                None => break,
            }
        }
        link.delivering.set(false);
    }
}
