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
//! - pausing (for an upgrade) stops both loops; the transport is paused once the requests in
//!   flight have ended, and what is still waiting is taken over by the next transport.

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the handshake's answer.
    Handshaking,
    Open,
    /// Asked to pause: no new request; paused once none is in flight.
    Pausing,
    Paused,
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
        }
    }

    /// The handshake was read: the transport is open, and writes up to `max_payload` bytes a
    /// request (the handshake's `maxPayload`).
    pub fn opened(&mut self, max_payload: u64) {
        if self.state == State::Handshaking {
            self.state = State::Open;
            self.max_payload = max_payload;
        }
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

    /// Stops polling and writing, for an upgrade: see [`is_paused`](Self::is_paused).
    pub fn pause(&mut self) {
        if matches!(self.state, State::Open | State::Handshaking) {
            self.state = State::Pausing;
            self.settle();
        }
    }

    /// Whether the transport is paused: nothing in flight, nothing more will be asked for.
    pub fn is_paused(&self) -> bool {
        self.state == State::Paused
    }

    /// The transport is closed (by the session, or because a request failed): no more requests.
    pub fn close(&mut self) {
        self.state = State::Closed;
        self.waiting.clear();
    }

    /// Whether the transport is closed.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The packets still waiting, in order, taken from the poller: what a paused transport
    /// hands over to the one that replaces it.
    pub fn take_waiting(&mut self) -> Vec<T> {
        core::mem::take(&mut self.waiting)
    }

    /// The next request to make, if any: the `GET` of the handshake or of the next poll, or a
    /// `POST` of the packets waiting. Call it until it gives `None` after every input.
    pub fn poll_request(&mut self) -> Option<Request<T>> {
        match self.state {
            State::Handshaking | State::Open if !self.polling => {
                self.polling = true;
                Some(Request::Get)
            }
            State::Open if !self.writing && !self.waiting.is_empty() => {
                let n = polling::batch(self.waiting.iter().map(T::counted), self.max_payload);
                let rest = self.waiting.split_off(n.min(self.waiting.len()));
                self.writing = true;
                Some(Request::Post(core::mem::replace(&mut self.waiting, rest)))
            }
            _ => None,
        }
    }

    fn settle(&mut self) {
        if self.state == State::Pausing && !self.polling && !self.writing {
            self.state = State::Paused;
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
        p.opened(1000);
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
        p.opened(20);
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
    fn pauses_once_the_requests_in_flight_end() {
        let mut p = Poller::new();
        requests(&mut p);
        p.opened(1000);
        p.got();
        p.send(P(1));
        assert_eq!(
            requests(&mut p),
            vec![Request::Get, Request::Post(vec![P(1)])]
        );
        p.send(P(2));
        p.pause();
        assert!(!p.is_paused(), "a GET and a POST in flight");
        p.posted();
        assert_eq!(requests(&mut p), vec![], "nothing new while pausing");
        assert!(!p.is_paused());
        p.got();
        assert!(p.is_paused());
        assert_eq!(requests(&mut p), vec![]);
        assert_eq!(p.take_waiting(), vec![P(2)], "handed to the next transport");
        // Nothing in flight: paused at once.
        let mut q = Poller::<P>::new();
        q.pause();
        assert!(q.is_paused());
    }

    #[test]
    fn nothing_after_close() {
        let mut p = Poller::new();
        requests(&mut p);
        p.opened(1000);
        p.send(P(1));
        p.close();
        p.got();
        p.send(P(2));
        assert!(p.is_closed());
        assert_eq!(requests(&mut p), vec![]);
        assert_eq!(p.take_waiting(), vec![]);
    }
}
