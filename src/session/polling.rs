//! The requests of Engine.IO's HTTP long-polling transport, as a state machine: when to poll
//! (a `GET` that the server holds until it has packets), when to write (a `POST` of the packets
//! waiting, as many as the server's `maxPayload` allows), and how to pause for an upgrade. The
//! shell makes the requests and reports how each ended; the payloads themselves are
//! [`codec::polling`](crate::codec::polling)'s.
//!
//! As engine.io-client does it:
//! - one `GET` at a time: the first is the handshake, and each answered one is followed by the
//!   next while the transport is open;
//! - one `POST` at a time, in order: packets written while one is in flight wait for it, then go
//!   together, split where they would exceed `maxPayload` ([`polling::batch`]);
//! - nothing is written before the handshake;
//! - the upgrade to WebSocket: a probe is opened beside the polling requests; it writes
//!   `2probe`; once the server answers `3probe`, polling pauses (no new request; paused once the
//!   requests in flight have ended), and the probe then writes `5` and every packet still
//!   waiting, and becomes the transport. A probe that fails, or answers anything else, is
//!   dropped and polling goes on;
//! - a transport that is closed writes what was waiting, then the close packet, one `POST` at a
//!   time as before, and stops polling at once.

use alloc::vec::Vec;

use crate::codec::polling;

/// A packet waiting to be written, as the poller counts it against `maxPayload`.
pub trait Counted {
    /// The size the packet's data counts for ([`polling::counted_size`]).
    fn counted(&self) -> usize;
}

/// A request to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request<T> {
    /// A `GET` (the first one is the handshake); its answer goes to [`Poller::got`].
    Get,
    /// A `POST` of these packets, in order; its end goes to [`Poller::posted`].
    Post(Vec<T>),
    /// Open a WebSocket probe to this session; report with [`Poller::probe_opened`],
    /// [`Poller::probe_answered`] and [`Poller::probe_failed`].
    Probe,
    /// The upgrade: write `5` on the probe, then these packets, in order, and make the probe the
    /// transport. The poller is closed.
    Upgrade(Vec<T>),
}

/// Where the upgrade stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// Not (yet) wanted.
    None,
    /// To be opened at the next request.
    Wanted,
    /// Opened, or opening: `2probe` goes once it is open.
    Opening,
    /// `2probe` written, waiting for `3probe`.
    Sent,
    /// `3probe` came: polling pauses, then the upgrade.
    Answered,
    /// Failed; no other probe on this transport.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the handshake's answer.
    Handshaking,
    Open,
    /// Asked to pause: no new request; paused once none is in flight.
    Pausing,
    Paused,
    /// Closed, writing what was waiting (the close packet last): no `GET`, one `POST` at a
    /// time until none is left.
    Draining,
    Closed,
}

/// See the [module docs](self).
#[derive(Debug)]
pub struct Poller<T> {
    state: State,
    /// Whether a `GET` is in flight (or asked for and not yet made).
    polling: bool,
    /// Whether a `POST` is in flight.
    writing: bool,
    waiting: Vec<T>,
    max_payload: u64,
    probe: Probe,
}

impl<T: Counted> Default for Poller<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Counted> Poller<T> {
    /// A poller about to handshake: its first request is the handshake's `GET`.
    pub fn new() -> Self {
        Poller {
            state: State::Handshaking,
            polling: false,
            writing: false,
            waiting: Vec::new(),
            max_payload: u64::MAX,
            probe: Probe::None,
        }
    }

    /// The handshake was read: the transport is open, and writes up to `max_payload` bytes a
    /// request (the handshake's `maxPayload`). `upgrade`: whether to try upgrading to
    /// WebSocket (the client allows it and the server offers it).
    pub fn opened(&mut self, max_payload: u64, upgrade: bool) {
        if self.state == State::Handshaking {
            self.state = State::Open;
            self.max_payload = max_payload;
            if upgrade {
                self.probe = Probe::Wanted;
            }
        }
    }

    /// The probe opened: returns what to write on it.
    pub fn probe_opened(&mut self) -> &'static str {
        if self.probe == Probe::Opening {
            self.probe = Probe::Sent;
        }
        "2probe"
    }

    /// The probe received text frame `text`: `3probe` pauses polling for the upgrade (true);
    /// anything else fails the probe (false: drop it).
    pub fn probe_answered(&mut self, text: &str) -> bool {
        if self.probe == Probe::Sent && text == "3probe" && self.state == State::Open {
            self.probe = Probe::Answered;
            self.state = State::Pausing;
            self.settle();
            return true;
        }
        self.probe_failed();
        false
    }

    /// The probe closed or failed before the upgrade: it is dropped and polling goes on.
    pub fn probe_failed(&mut self) {
        if self.probe != Probe::None {
            self.probe = Probe::Failed;
        }
        if matches!(self.state, State::Pausing | State::Paused) {
            self.state = State::Open;
        }
    }

    /// Whether a probe is open or opening (its signals count).
    pub fn is_probing(&self) -> bool {
        matches!(self.probe, Probe::Opening | Probe::Sent | Probe::Answered)
    }

    /// Queues `packet` to be written.
    pub fn send(&mut self, packet: T) {
        if self.state != State::Closed {
            self.waiting.push(packet);
        }
    }

    /// A `GET` was answered (its packets went to the session).
    pub fn got(&mut self) {
        self.polling = false;
        self.settle();
    }

    /// A `POST` ended well.
    pub fn posted(&mut self) {
        self.writing = false;
        self.settle();
    }

    /// The transport failed (a request failed): no more requests.
    pub fn close(&mut self) {
        self.state = State::Closed;
        self.probe = Probe::None;
        self.waiting.clear();
    }

    /// The session closed the transport: what is waiting is written, then `last` (the close
    /// packet), and the poller is closed once they are; no more polling, no probe. A transport
    /// that never opened closes at once.
    pub fn drain(&mut self, last: T) {
        self.probe = Probe::None;
        if matches!(self.state, State::Handshaking | State::Closed) {
            return self.close();
        }
        self.waiting.push(last);
        // The shell stops the `GET` in flight.
        self.polling = false;
        self.state = State::Draining;
    }

    /// Whether the transport is closed.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The next request to make, if any: the `GET` of the handshake or of the next poll, a
    /// `POST` of the packets waiting, the probe to open, or the upgrade. Call it until it gives
    /// `None` after every input.
    pub fn poll_request(&mut self) -> Option<Request<T>> {
        match self.state {
            State::Open if self.probe == Probe::Wanted => {
                self.probe = Probe::Opening;
                Some(Request::Probe)
            }
            State::Handshaking | State::Open if !self.polling => {
                self.polling = true;
                Some(Request::Get)
            }
            State::Open | State::Draining if !self.writing && !self.waiting.is_empty() => {
                let n = polling::batch(self.waiting.iter().map(T::counted), self.max_payload);
                // Without `split_off` or `reverse`, whose panics would bring integer formatting
                // into the wasm.
                let mut batch = core::mem::take(&mut self.waiting);
                let mut rest = Vec::new();
                while batch.len() > n {
                    rest.extend(batch.pop());
                }
                while let Some(packet) = rest.pop() {
                    self.waiting.push(packet);
                }
                self.writing = true;
                Some(Request::Post(batch))
            }
            State::Paused => {
                let waiting = core::mem::take(&mut self.waiting);
                self.close();
                Some(Request::Upgrade(waiting))
            }
            _ => None,
        }
    }

    fn settle(&mut self) {
        if self.polling || self.writing {
            return;
        }
        match self.state {
            State::Pausing => self.state = State::Paused,
            State::Draining if self.waiting.is_empty() => self.state = State::Closed,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// A packet of `.0` bytes of data.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct P(usize);

    impl Counted for P {
        fn counted(&self) -> usize {
            self.0
        }
    }

    fn requests(p: &mut Poller<P>) -> Vec<Request<P>> {
        core::iter::from_fn(|| p.poll_request()).collect()
    }

    #[test]
    fn handshakes_then_polls_and_writes_one_request_at_a_time() {
        let mut p = Poller::new();
        p.send(P(1));
        assert_eq!(
            requests(&mut p),
            vec![Request::Get],
            "the handshake, nothing written"
        );
        p.got();
        // Not open until the handshake is read.
        assert_eq!(requests(&mut p), vec![Request::Get]);
        p.opened(1000, false);
        p.got();
        assert_eq!(
            requests(&mut p),
            vec![Request::Get, Request::Post(vec![P(1)])]
        );
        // Written while a POST is in flight: waits, then goes together.
        p.send(P(2));
        p.send(P(3));
        assert_eq!(requests(&mut p), vec![]);
        p.posted();
        assert_eq!(requests(&mut p), vec![Request::Post(vec![P(2), P(3)])]);
        p.posted();
        assert_eq!(requests(&mut p), vec![]);
        // Each answered GET is followed by the next.
        p.got();
        assert_eq!(requests(&mut p), vec![Request::Get]);
    }

    #[test]
    fn posts_respect_max_payload() {
        let mut p = Poller::new();
        requests(&mut p);
        p.opened(20, false);
        // 1 + 8 + 2 + 8 = 19; a third would make 29.
        for _ in 0..3 {
            p.send(P(8));
        }
        p.send(P(100));
        assert_eq!(requests(&mut p), vec![Request::Post(vec![P(8), P(8)])]);
        p.posted();
        assert_eq!(requests(&mut p), vec![Request::Post(vec![P(8)])]);
        p.posted();
        // Alone over the limit: it goes alone.
        assert_eq!(requests(&mut p), vec![Request::Post(vec![P(100)])]);
    }

    #[test]
    fn upgrades_once_the_requests_in_flight_end() {
        let mut p = Poller::new();
        requests(&mut p);
        p.opened(1000, true);
        p.got();
        p.send(P(1));
        assert_eq!(
            requests(&mut p),
            vec![Request::Probe, Request::Get, Request::Post(vec![P(1)])]
        );
        assert!(p.is_probing());
        assert_eq!(p.probe_opened(), "2probe");
        p.send(P(2));
        assert!(p.probe_answered("3probe"));
        assert_eq!(requests(&mut p), vec![], "a GET and a POST in flight");
        p.posted();
        assert_eq!(requests(&mut p), vec![], "nothing new while pausing");
        p.send(P(3));
        p.got();
        assert_eq!(
            requests(&mut p),
            vec![Request::Upgrade(vec![P(2), P(3)])],
            "what waited goes on the WebSocket, in order"
        );
        assert!(p.is_closed());
        assert_eq!(requests(&mut p), vec![]);
        // Nothing in flight: the upgrade at once.
        let mut q = Poller::new();
        requests(&mut q);
        q.opened(1000, true);
        q.got();
        assert_eq!(requests(&mut q), vec![Request::Probe, Request::Get]);
        q.probe_opened();
        q.got();
        assert!(q.probe_answered("3probe"));
        assert_eq!(requests(&mut q), vec![Request::Upgrade(vec![])]);
    }

    #[test]
    fn a_failed_probe_leaves_polling_going() {
        let mut p = Poller::new();
        requests(&mut p);
        p.opened(1000, true);
        p.got();
        assert_eq!(requests(&mut p), vec![Request::Probe, Request::Get]);
        // Not open yet: the probe's first frame cannot be an answer.
        assert!(!p.probe_answered("3probe"));
        assert!(!p.is_probing());
        p.send(P(1));
        assert_eq!(requests(&mut p), vec![Request::Post(vec![P(1)])]);
        // Failing after `3probe` resumes polling; no second probe.
        let mut q = Poller::new();
        requests(&mut q);
        q.opened(1000, true);
        q.got();
        requests(&mut q);
        q.probe_opened();
        assert!(q.probe_answered("3probe"));
        q.send(P(1));
        q.got();
        q.probe_failed();
        assert_eq!(
            requests(&mut q),
            vec![Request::Get, Request::Post(vec![P(1)])]
        );
        // A wrong answer fails it too.
        let mut r = Poller::new();
        requests(&mut r);
        r.opened(1000, true);
        requests(&mut r);
        r.probe_opened();
        assert!(!r.probe_answered("3"));
        assert!(!r.is_probing());
        assert!(!r.probe_answered("3probe"), "no second chance");
    }

    #[test]
    fn drains_in_order_then_closes() {
        let mut p = Poller::new();
        requests(&mut p);
        p.opened(1000, false);
        p.got();
        p.send(P(1));
        assert_eq!(
            requests(&mut p),
            vec![Request::Get, Request::Post(vec![P(1)])]
        );
        p.send(P(2));
        p.drain(P(0));
        assert_eq!(requests(&mut p), vec![], "after the POST in flight");
        assert!(!p.is_closed());
        p.posted();
        assert_eq!(requests(&mut p), vec![Request::Post(vec![P(2), P(0)])]);
        p.posted();
        assert!(p.is_closed());
        assert_eq!(requests(&mut p), vec![]);
        // Nothing waiting, nothing in flight: the close packet alone.
        let mut q = Poller::new();
        requests(&mut q);
        q.opened(1000, false);
        q.drain(P(0));
        assert_eq!(requests(&mut q), vec![Request::Post(vec![P(0)])]);
        // Never opened: nothing to say.
        let mut r = Poller::new();
        requests(&mut r);
        r.drain(P(0));
        assert!(r.is_closed());
        assert_eq!(requests(&mut r), vec![]);
    }

    #[test]
    fn nothing_after_close() {
        let mut p = Poller::new();
        requests(&mut p);
        p.opened(1000, false);
        p.send(P(1));
        p.close();
        p.got();
        p.send(P(2));
        assert!(p.is_closed());
        assert_eq!(requests(&mut p), vec![]);
    }
}
