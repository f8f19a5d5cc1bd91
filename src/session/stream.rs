//! A reconnecting stream: the transport-independent part of the SSE and plain-WebSocket modes.
//!
//! Where [`Session`](super::Session) speaks Socket.IO, a [`Stream`] knows nothing of what its
//! transport carries. It decides when to open and close the transport, waits out the backoff
//! (the same [`Reconnect`] machine decides as for the Socket.IO mode, with a floor the server
//! may set, as SSE's `retry:` does), holds what is sent while the transport is down (bounded), watches for
//! silence (a heartbeat watchdog: the SSE mode's `ping` event, the WebSocket mode's pong), asks
//! for pings, and reacts to the page going offline, online or visible. The shell opens and
//! closes the real transport ([`Output::Open`], [`Output::Close`]), writes what it is given
//! ([`Output::Send`], [`Output::Ping`]) and reports what happened, with `now` passed in.

use alloc::vec::Vec;

use super::backoff::BackoffConfig;
use super::reconnect::{AfterLoss, Reconnect};
use super::Millis;

/// How a [`Stream`] behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamConfig {
    /// Delays between reconnection attempts.
    pub backoff: BackoffConfig,
    /// Whether to reconnect after a loss or a failed attempt.
    pub reconnection: bool,
    /// Failed attempts in a row before giving up ([`Output::ReconnectFailed`]).
    pub attempts: u32,
    /// How long an open transport may stay silent before it is taken for dead and reopened.
    pub idle_timeout: Option<Millis>,
    /// How often to ask for a ping ([`Output::Ping`]) while open.
    pub ping_interval: Option<Millis>,
    /// How long an opening transport may take.
    pub connect_timeout: Option<Millis>,
    /// Most items held while the transport is down.
    pub max_buffer: usize,
    /// Feeds the backoff's jitter.
    pub seed: u64,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            backoff: BackoffConfig::default(),
            reconnection: true,
            attempts: u32::MAX,
            idle_timeout: None,
            ping_interval: None,
            connect_timeout: Some(20_000),
            max_buffer: 1000,
            seed: 0,
        }
    }
}

/// Why a stream's transport went down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamClosed {
    /// [`Stream::disconnect`] was called.
    Client,
    /// The transport closed (the server ended the stream, the connection dropped).
    TransportClose,
    /// The transport failed (an HTTP error, a network error).
    TransportError,
    /// Nothing arrived within the idle timeout.
    IdleTimeout,
    /// The transport did not open within the connect timeout.
    ConnectTimeout,
    /// The page went offline.
    Offline,
}

impl StreamClosed {
    /// The reason as text, in socket.io-client's words where it has them.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamClosed::Client => "io client disconnect",
            StreamClosed::TransportClose => "transport close",
            StreamClosed::TransportError => "transport error",
            StreamClosed::IdleTimeout => "ping timeout",
            StreamClosed::ConnectTimeout => "timeout",
            StreamClosed::Offline => "offline",
        }
    }
}

/// What the shell must do or report, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output<T> {
    /// Open the transport (closing any previous one).
    Open,
    /// Close the transport.
    Close,
    /// Write this item.
    Send(T),
    /// Write the heartbeat message.
    Ping,
    /// The transport opened: report `connect` (and, after attempts, `reconnect`).
    Connected {
        /// How many attempts it took after a loss (0 for the first connection).
        attempts: u32,
    },
    /// The open transport went down.
    Disconnected(StreamClosed),
    /// An attempt to open failed (`attempt` 0 is the first connection).
    OpenFailed {
        /// Which attempt.
        attempt: u32,
        /// Why.
        reason: StreamClosed,
    },
    /// A reconnection attempt starts.
    ReconnectAttempt(u32),
    /// No more attempts: the stream stays closed until [`Stream::connect`].
    ReconnectFailed,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Link {
    Closed,
    Opening {
        since: Millis,
    },
    Open {
        last: Millis,
        next_ping: Option<Millis>,
    },
    Waiting {
        until: Millis,
    },
}

/// The state machine of one reconnecting stream; `T` is what it sends.
#[derive(Debug)]
pub struct Stream<T> {
    config: StreamConfig,
    link: Link,
    /// Whether the user wants it connected.
    active: bool,
    online: bool,
    reconnect: Reconnect,
    /// The server's floor for reconnection delays (SSE `retry:`).
    floor: Millis,
    buffer: Vec<T>,
    out: crate::Queue<Output<T>>,
}

impl<T> Stream<T> {
    /// A closed stream.
    pub fn new(mut config: StreamConfig) -> Self {
        // Reconnection off gives up at the first loss.
        if !config.reconnection {
            config.attempts = 0;
        }
        Stream {
            config,
            link: Link::Closed,
            active: false,
            online: true,
            reconnect: Reconnect::new(config.backoff, config.seed),
            floor: 0,
            buffer: Vec::new(),
            out: crate::Queue::new(),
        }
    }

    /// Whether the transport is open.
    pub fn is_open(&self) -> bool {
        matches!(self.link, Link::Open { .. })
    }

    /// Whether the stream is connected or trying to be.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// The items held while the transport is down, oldest first.
    pub fn buffer(&self) -> &[T] {
        &self.buffer
    }

    /// Drops the held items.
    pub fn clear_buffer(&mut self) -> Vec<T> {
        core::mem::take(&mut self.buffer)
    }

    /// Connects (or, after [`Output::ReconnectFailed`], starts again). Nothing when active.
    pub fn connect(&mut self, now: Millis) {
        if self.active {
            return;
        }
        self.active = true;
        self.reconnect.reset();
        self.open(now);
    }

    /// Disconnects; no reconnection follows. Held items stay for the next connect.
    pub fn disconnect(&mut self) {
        self.active = false;
        match self.link {
            Link::Open { .. } => {
                self.out.push(Output::Close);
                self.out.push(Output::Disconnected(StreamClosed::Client));
            }
            Link::Opening { .. } => self.out.push(Output::Close),
            _ => {}
        }
        self.link = Link::Closed;
    }

    /// Sends `item`: at once when open, otherwise held (and written, in order, once open).
    /// Gives `item` back when the buffer is full.
    pub fn send(&mut self, item: T, now: Millis) -> Result<(), T> {
        self.check_idle(now);
        if self.is_open() {
            self.out.push(Output::Send(item));
        } else if self.buffer.len() < self.config.max_buffer {
            self.buffer.push(item);
        } else {
            return Err(item);
        }
        Ok(())
    }

    /// Sends `item` only if the transport is open now (a `volatile` send); returns whether it
    /// was.
    pub fn send_volatile(&mut self, item: T, now: Millis) -> bool {
        self.check_idle(now);
        let open = self.is_open();
        if open {
            self.out.push(Output::Send(item));
        }
        open
    }

    /// The transport opened.
    pub fn handle_opened(&mut self, now: Millis) {
        let Link::Opening { .. } = self.link else {
            return;
        };
        self.link = Link::Open {
            last: now,
            next_ping: self.config.ping_interval.map(|p| now.saturating_add(p)),
        };
        let attempts = self.reconnect.opened();
        self.out.push(Output::Connected { attempts });
        for item in core::mem::take(&mut self.buffer) {
            self.out.push(Output::Send(item));
        }
    }

    /// Something arrived: the transport is alive.
    pub fn handle_activity(&mut self, now: Millis) {
        if let Link::Open { last, .. } = &mut self.link {
            *last = now;
        }
    }

    /// The server set the least delay before a reconnection (SSE `retry:`), in ms. It is
    /// clamped to the backoff's largest delay (`reconnectionDelayMax`): a server cannot keep a
    /// client away longer than the client allows (`retry: 99999999999` would be days).
    pub fn handle_retry(&mut self, floor: Millis) {
        self.floor = floor.min(self.config.backoff.max);
    }

    /// The transport closed or failed (`error`: an error rather than an orderly end).
    pub fn handle_closed(&mut self, error: bool, now: Millis) {
        let reason = if error {
            StreamClosed::TransportError
        } else {
            StreamClosed::TransportClose
        };
        self.lost(reason, false, now);
    }

    /// Timers are due.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.check_idle(now);
        match self.link {
            Link::Open {
                last,
                next_ping: Some(at),
            } if now >= at => {
                let every = self.config.ping_interval.unwrap_or(Millis::MAX);
                self.link = Link::Open {
                    last,
                    next_ping: Some(now.saturating_add(every)),
                };
                self.out.push(Output::Ping);
            }
            Link::Opening { since }
                if self
                    .config
                    .connect_timeout
                    .is_some_and(|t| now >= since.saturating_add(t)) =>
            {
                self.lost(StreamClosed::ConnectTimeout, true, now);
            }
            Link::Waiting { until } if now >= until => self.attempt(now),
            _ => {}
        }
    }

    /// The page went online or offline.
    pub fn handle_network(&mut self, online: bool, now: Millis) {
        self.online = online;
        if online {
            self.hurry(now);
        } else if matches!(self.link, Link::Open { .. } | Link::Opening { .. }) {
            self.lost(StreamClosed::Offline, true, now);
        }
    }

    /// The page became visible: throttled timers are judged on the clock now, and a waiting
    /// attempt starts at once.
    pub fn handle_visible(&mut self, now: Millis) {
        self.check_idle(now);
        self.hurry(now);
    }

    /// The next output, in the order they were produced.
    pub fn poll_output(&mut self) -> Option<Output<T>> {
        self.out.pop()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Millis> {
        match self.link {
            Link::Closed => None,
            Link::Opening { since } => self.config.connect_timeout.map(|t| since.saturating_add(t)),
            Link::Waiting { until, .. } => Some(until),
            Link::Open { last, next_ping } => {
                let idle = self.config.idle_timeout.map(|t| last.saturating_add(t));
                match (idle, next_ping) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }
    }

    fn check_idle(&mut self, now: Millis) {
        if let (Link::Open { last, .. }, Some(t)) = (self.link, self.config.idle_timeout) {
            if now >= last.saturating_add(t) {
                self.lost(StreamClosed::IdleTimeout, true, now);
            }
        }
    }

    fn hurry(&mut self, now: Millis) {
        if let Link::Waiting { .. } = self.link {
            if self.online {
                self.attempt(now);
            }
        }
    }

    fn open(&mut self, now: Millis) {
        self.link = Link::Opening { since: now };
        self.out.push(Output::Open);
    }

    fn attempt(&mut self, now: Millis) {
        let attempt = self.reconnect.begin();
        self.out.push(Output::ReconnectAttempt(attempt));
        self.open(now);
    }

    /// The transport is gone (`close`: tell the shell to close it too); reconnects if wanted.
    fn lost(&mut self, reason: StreamClosed, close: bool, now: Millis) {
        match self.link {
            Link::Open { .. } => {
                if close {
                    self.out.push(Output::Close);
                }
                self.out.push(Output::Disconnected(reason));
            }
            Link::Opening { .. } => {
                if close {
                    self.out.push(Output::Close);
                }
                let attempt = self.reconnect.attempt();
                self.out.push(Output::OpenFailed { attempt, reason });
            }
            Link::Closed | Link::Waiting { .. } => return,
        }
        self.link = Link::Closed;
        match self
            .reconnect
            .lost(self.active, self.config.attempts, self.floor, now)
        {
            AfterLoss::Wait(until) => self.link = Link::Waiting { until },
            AfterLoss::GaveUp => {
                self.active = false;
                self.out.push(Output::ReconnectFailed);
            }
            AfterLoss::Stopped => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn config() -> StreamConfig {
        StreamConfig {
            backoff: BackoffConfig {
                initial: 100,
                max: 400,
                randomization: 0.0,
            },
            idle_timeout: Some(1000),
            ping_interval: None,
            connect_timeout: Some(500),
            max_buffer: 2,
            ..StreamConfig::default()
        }
    }

    fn drain<T>(s: &mut Stream<T>) -> Vec<Output<T>> {
        let mut v = Vec::new();
        while let Some(o) = s.poll_output() {
            v.push(o);
        }
        v
    }

    #[test]
    fn connects_sends_and_holds_while_down() {
        let mut s = Stream::new(config());
        assert_eq!(s.send("early", 0), Ok(()));
        s.connect(0);
        assert_eq!(drain(&mut s), vec![Output::Open]);
        s.handle_opened(10);
        assert_eq!(
            drain(&mut s),
            vec![Output::Connected { attempts: 0 }, Output::Send("early")]
        );
        s.send("now", 20).unwrap();
        assert!(s.send_volatile("v", 20));
        assert_eq!(drain(&mut s), vec![Output::Send("now"), Output::Send("v")]);
        s.handle_closed(false, 30);
        assert_eq!(
            drain(&mut s),
            vec![Output::Disconnected(StreamClosed::TransportClose)]
        );
        assert!(!s.send_volatile("v", 31));
        s.send("a", 31).unwrap();
        s.send("b", 31).unwrap();
        assert_eq!(s.send("c", 31), Err("c"), "bounded");
        assert_eq!(s.buffer(), &["a", "b"]);
    }

    #[test]
    fn reconnects_with_backoff_and_the_servers_floor() {
        let mut s: Stream<()> = Stream::new(config());
        s.connect(0);
        s.handle_opened(0);
        drain(&mut s);
        s.handle_closed(true, 100);
        assert_eq!(
            drain(&mut s),
            vec![Output::Disconnected(StreamClosed::TransportError)]
        );
        assert_eq!(s.poll_timeout(), Some(200), "first delay 100 ms");
        s.handle_timeout(199);
        assert!(drain(&mut s).is_empty());
        s.handle_timeout(200);
        assert_eq!(
            drain(&mut s),
            vec![Output::ReconnectAttempt(1), Output::Open]
        );
        // The attempt fails (an HTTP 503): the next delay doubles.
        s.handle_closed(true, 210);
        assert_eq!(
            drain(&mut s),
            vec![Output::OpenFailed {
                attempt: 1,
                reason: StreamClosed::TransportError
            }]
        );
        assert_eq!(s.poll_timeout(), Some(410));
        s.handle_timeout(410);
        drain(&mut s);
        s.handle_opened(420);
        assert_eq!(drain(&mut s), vec![Output::Connected { attempts: 2 }]);
        // The server asks for at least 300 ms between attempts.
        s.handle_retry(300);
        s.handle_closed(false, 500);
        drain(&mut s);
        assert_eq!(s.poll_timeout(), Some(800));
        // A floor above the largest delay is clamped to it (400 ms here), not days away.
        s.handle_timeout(800);
        s.handle_opened(810);
        drain(&mut s);
        s.handle_retry(99_999_999_999);
        s.handle_closed(false, 900);
        drain(&mut s);
        assert_eq!(s.poll_timeout(), Some(1300));
    }

    #[test]
    fn the_watchdog_reopens_a_silent_transport() {
        let mut s: Stream<()> = Stream::new(config());
        s.connect(0);
        s.handle_opened(0);
        drain(&mut s);
        s.handle_activity(600);
        assert_eq!(s.poll_timeout(), Some(1600));
        s.handle_timeout(1599);
        assert!(drain(&mut s).is_empty());
        s.handle_timeout(1600);
        assert_eq!(
            drain(&mut s),
            vec![
                Output::Close,
                Output::Disconnected(StreamClosed::IdleTimeout)
            ]
        );
        // A throttled timer: a send judges the clock first and holds the item.
        let mut s = Stream::new(config());
        s.connect(0);
        s.handle_opened(0);
        drain(&mut s);
        s.send("late", 5000).unwrap();
        assert_eq!(
            drain(&mut s),
            vec![
                Output::Close,
                Output::Disconnected(StreamClosed::IdleTimeout)
            ]
        );
        assert_eq!(s.buffer(), &["late"]);
    }

    #[test]
    fn pings_at_the_interval_and_a_pong_keeps_it_open() {
        let mut s: Stream<()> = Stream::new(StreamConfig {
            ping_interval: Some(300),
            idle_timeout: Some(500),
            ..config()
        });
        s.connect(0);
        s.handle_opened(0);
        drain(&mut s);
        assert_eq!(s.poll_timeout(), Some(300));
        s.handle_timeout(300);
        assert_eq!(drain(&mut s), vec![Output::Ping]);
        s.handle_activity(320);
        assert_eq!(s.poll_timeout(), Some(600));
        s.handle_timeout(600);
        assert_eq!(drain(&mut s), vec![Output::Ping]);
        // No pong this time.
        s.handle_timeout(820);
        assert_eq!(
            drain(&mut s),
            vec![
                Output::Close,
                Output::Disconnected(StreamClosed::IdleTimeout)
            ]
        );
    }

    #[test]
    fn gives_up_after_the_attempts_and_connect_starts_again() {
        let mut s: Stream<()> = Stream::new(StreamConfig {
            attempts: 1,
            ..config()
        });
        s.connect(0);
        // The first connection times out.
        s.handle_timeout(500);
        assert_eq!(
            drain(&mut s),
            vec![
                Output::Open,
                Output::Close,
                Output::OpenFailed {
                    attempt: 0,
                    reason: StreamClosed::ConnectTimeout
                }
            ]
        );
        s.handle_timeout(600);
        s.handle_closed(true, 610);
        assert_eq!(
            drain(&mut s),
            vec![
                Output::ReconnectAttempt(1),
                Output::Open,
                Output::OpenFailed {
                    attempt: 1,
                    reason: StreamClosed::TransportError
                },
                Output::ReconnectFailed
            ]
        );
        assert!(!s.is_active());
        assert_eq!(s.poll_timeout(), None);
        s.connect(700);
        assert_eq!(drain(&mut s), vec![Output::Open]);
    }

    #[test]
    fn offline_closes_and_online_hurries_while_disconnect_stops_everything() {
        let mut s: Stream<()> = Stream::new(StreamConfig {
            backoff: BackoffConfig {
                initial: 5000,
                max: 10_000,
                randomization: 0.0,
            },
            ..config()
        });
        s.connect(0);
        s.handle_opened(0);
        drain(&mut s);
        s.handle_network(false, 100);
        assert_eq!(
            drain(&mut s),
            vec![Output::Close, Output::Disconnected(StreamClosed::Offline)]
        );
        // Visible while offline: no attempt.
        s.handle_visible(200);
        assert!(drain(&mut s).is_empty());
        s.handle_network(true, 300);
        assert_eq!(
            drain(&mut s),
            vec![Output::ReconnectAttempt(1), Output::Open]
        );
        s.handle_opened(310);
        drain(&mut s);
        s.disconnect();
        assert_eq!(
            drain(&mut s),
            vec![Output::Close, Output::Disconnected(StreamClosed::Client)]
        );
        s.handle_closed(false, 400);
        s.handle_network(true, 500);
        assert!(drain(&mut s).is_empty(), "no reconnection after disconnect");
        assert_eq!(s.poll_timeout(), None);
    }
}
