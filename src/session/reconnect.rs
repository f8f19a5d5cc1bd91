//! The reconnection machine both sessions run: the Socket.IO session ([`Session`]) and the
//! SSE and plain-WebSocket stream ([`Stream`]).
//!
//! After a loss it decides what follows: a delay of the [`Backoff`] (no shorter than a floor
//! the server may set) before the next attempt, or giving up after the configured number of
//! attempts in a row. It numbers the attempts from 1, and an opened connection starts it over.
//! Each session keeps the waiting in its own link state, and reports the attempts in its own
//! events.
//!
//! [`Session`]: super::Session
//! [`Stream`]: super::stream::Stream

use super::backoff::{Backoff, BackoffConfig};
use super::Millis;

/// What follows a loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterLoss {
    /// No reconnection: it is off, or nothing wants the connection.
    Stopped,
    /// The attempts ran out; the machine starts over.
    GaveUp,
    /// The next attempt starts at this time.
    Wait(Millis),
}

/// Reconnection: the backoff, which also counts the attempt under way.
#[derive(Debug, Clone)]
pub struct Reconnect {
    backoff: Backoff,
}

impl Reconnect {
    /// A machine at rest; `seed` feeds the backoff's jitter.
    pub fn new(config: BackoffConfig, seed: u64) -> Self {
        Reconnect {
            backoff: Backoff::new(config, seed),
        }
    }

    /// Changes how the delays grow, from the next one on.
    pub fn set_config(&mut self, config: BackoffConfig) {
        self.backoff.set_config(config);
    }

    /// Starts over: no attempt under way, the next delay the first.
    pub fn reset(&mut self) {
        self.backoff.reset();
    }

    /// The connection opened: returns the number of the attempt that made it (0 for a first
    /// connection) and starts over.
    pub fn opened(&mut self) -> u32 {
        let attempt = self.backoff.under_way();
        self.reset();
        attempt
    }

    /// The connection, or the attempt to make it, was lost at `now`. With `retry` (reconnection
    /// on, and the connection still wanted) another attempt follows, after a delay of at least
    /// `floor`, unless `max` attempts were made in a row. A connection that was up lost its
    /// first delay's worth: [`opened`](Self::opened) started the count over, as
    /// socket.io-client does; when no attempt follows, the count starts over too.
    pub fn lost(&mut self, retry: bool, max: u32, floor: Millis, now: Millis) -> AfterLoss {
        self.backoff.end();
        if retry && self.backoff.attempts() < max {
            return AfterLoss::Wait(now.saturating_add(self.backoff.next_delay().max(floor)));
        }
        self.backoff.reset();
        if retry {
            AfterLoss::GaveUp
        } else {
            AfterLoss::Stopped
        }
    }

    /// Starts the attempt that followed a loss (when its time came, or hurried); returns its
    /// number (the loss counted it).
    pub fn begin(&mut self) -> u32 {
        self.backoff.begin()
    }

    /// The number of the attempt under way; 0 for none.
    pub fn attempt(&self) -> u32 {
        self.backoff.under_way()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> Reconnect {
        Reconnect::new(
            BackoffConfig {
                initial: 1000,
                max: 5000,
                randomization: 0.0,
            },
            7,
        )
    }

    #[test]
    fn waits_out_doubling_delays_then_gives_up_and_starts_over() {
        let mut r = machine();
        let mut now = 0;
        let mut seen = Vec::new();
        while let AfterLoss::Wait(at) = r.lost(true, 3, 0, now) {
            let attempt = r.begin();
            assert_eq!(r.attempt(), attempt);
            seen.push((at - now, attempt));
            now = at;
        }
        assert_eq!(seen, [(1000, 1), (2000, 2), (4000, 3)]);
        assert_eq!(r.attempt(), 0, "given up: no attempt under way");
        // It started over: the next loss waits the first delay, for attempt 1.
        assert_eq!(r.lost(true, 3, 0, now), AfterLoss::Wait(now + 1000));
        assert_eq!(r.begin(), 1);
    }

    #[test]
    fn an_opened_connection_starts_over_and_tells_which_attempt_made_it() {
        let mut r = machine();
        assert_eq!(r.opened(), 0, "a first connection");
        assert_eq!(r.lost(true, 10, 0, 0), AfterLoss::Wait(1000));
        r.begin();
        assert_eq!(r.lost(true, 10, 0, 1000), AfterLoss::Wait(3000));
        assert_eq!(r.begin(), 2);
        assert_eq!(r.opened(), 2);
        assert_eq!(r.attempt(), 0);
        // Lost again after being up: the first delay again.
        assert_eq!(r.lost(true, 10, 0, 50_000), AfterLoss::Wait(51_000));
        assert_eq!(r.begin(), 1);
    }

    #[test]
    fn the_floor_lengthens_delays_no_retry_stops_and_none_allowed_gives_up() {
        let mut r = machine();
        assert_eq!(r.lost(true, 10, 3000, 0), AfterLoss::Wait(3000));
        assert_eq!(r.begin(), 1);
        assert_eq!(r.lost(false, 10, 0, 100), AfterLoss::Stopped);
        assert_eq!(r.attempt(), 0);
        assert_eq!(r.lost(true, 0, 0, 200), AfterLoss::GaveUp);
        // A new configuration applies from the next delay on.
        r.set_config(BackoffConfig {
            initial: 10,
            max: 10,
            randomization: 0.0,
        });
        assert_eq!(r.lost(true, 10, 0, 300), AfterLoss::Wait(310));
    }
}
