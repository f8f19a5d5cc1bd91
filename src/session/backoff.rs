//! Reconnection delays: exponential backoff with jitter, the random source passed in; and the
//! number of the attempt under way, for [`Reconnect`](super::reconnect::Reconnect).
//!
//! socket.io-client (via `backo2`) multiplies the delay by two each attempt, adds or removes a
//! random share of it, then caps it: once the cap is reached every client waits exactly the cap,
//! so a server that drops all its clients sees them all return in the same instant. Here the cap
//! comes first and the jitter only shortens: attempt `n` waits a uniformly random time in
//! `[base · (1 − randomization), base]` with `base = min(initial · 2ⁿ, max)`. Delays never
//! exceed `max`, and at the cap they still spread over `max · randomization`.

use super::Millis;

/// How reconnection delays grow. socket.io-client's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffConfig {
    /// The base delay of the first attempt, in ms (`reconnectionDelay`, default 1000).
    pub initial: Millis,
    /// The largest delay, in ms (`reconnectionDelayMax`, default 5000).
    pub max: Millis,
    /// The share of the base delay that is random, from 0 to 1 (`randomizationFactor`,
    /// default 0.5).
    pub randomization: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial: 1000,
            max: 5000,
            randomization: 0.5,
        }
    }
}

/// The delays of successive reconnection attempts, and the attempt under way. Deterministic for
/// a given seed.
#[derive(Debug, Clone)]
pub struct Backoff {
    config: BackoffConfig,
    rng: u64,
    attempts: u32,
    /// The number of the attempt under way (the count of delays when it began); 0 for none.
    under_way: u32,
}

impl Backoff {
    /// A backoff at attempt 0. `seed` feeds the jitter: give each client a different one (the
    /// browser shell takes it from `crypto.getRandomValues`).
    pub fn new(config: BackoffConfig, seed: u64) -> Self {
        Backoff {
            config,
            attempts: 0,
            under_way: 0,
            // splitmix64 of the seed: neighbouring seeds give unrelated streams, and the state
            // of the xorshift below is never zero.
            rng: splitmix64(seed) | 1,
        }
    }

    /// Changes how the delays grow, from the next one on (the attempt count is kept).
    pub fn set_config(&mut self, config: BackoffConfig) {
        self.config = config;
    }

    /// How many delays were handed out since the last [`reset`](Self::reset).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The delay before the next attempt, in ms; counts the attempt.
    pub fn next_delay(&mut self) -> Millis {
        let c = self.config;
        // initial · 2ⁿ up to the cap, doubled step by step: no 128-bit multiply in the wasm.
        let mut base = c.initial.min(c.max);
        for _ in 0..self.attempts.min(64) {
            base = base.saturating_add(base).min(c.max);
        }
        self.attempts = self.attempts.saturating_add(1);
        let share = if c.randomization.is_finite() {
            c.randomization.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let spread = (base as f64 * share) as Millis;
        if spread == 0 {
            return base;
        }
        base - self.next_u64() % (spread + 1)
    }

    /// Back to attempt 0, after a successful connection: no attempt under way.
    pub fn reset(&mut self) {
        self.attempts = 0;
        self.under_way = 0;
    }

    /// Starts the attempt the last delay was for; returns its number (from 1).
    pub fn begin(&mut self) -> u32 {
        self.under_way = self.attempts;
        self.under_way
    }

    /// The number of the attempt under way; 0 for none.
    pub fn under_way(&self) -> u32 {
        self.under_way
    }

    /// Ends the attempt under way (it failed).
    pub fn end(&mut self) {
        self.under_way = 0;
    }

    /// xorshift64*: small and good enough to spread delays.
    fn next_u64(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn grows_twofold_to_the_cap_and_stays_within_the_jitter() {
        let mut b = Backoff::new(BackoffConfig::default(), 7);
        for (n, base) in [1000u64, 2000, 4000, 5000, 5000, 5000, 5000]
            .into_iter()
            .enumerate()
        {
            let d = b.next_delay();
            assert!(
                (base / 2..=base).contains(&d),
                "attempt {n}: {d} ms outside {}..={base}",
                base / 2
            );
        }
        assert_eq!(b.attempts(), 7);
        b.reset();
        assert_eq!(b.attempts(), 0);
        assert!(b.next_delay() <= 1000);
    }

    #[test]
    fn no_randomization_gives_the_base_delays() {
        let config = BackoffConfig {
            initial: 100,
            max: 1000,
            randomization: 0.0,
        };
        let mut b = Backoff::new(config, 1);
        let delays: Vec<_> = (0..6).map(|_| b.next_delay()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn never_exceeds_the_cap_even_after_many_attempts() {
        for randomization in [0.0, 0.5, 1.0, 7.0, -1.0, f64::NAN] {
            let config = BackoffConfig {
                randomization,
                ..BackoffConfig::default()
            };
            let mut b = Backoff::new(config, 3);
            for _ in 0..200 {
                assert!(b.next_delay() <= 5000);
            }
        }
        let mut huge = Backoff::new(
            BackoffConfig {
                initial: u64::MAX / 3,
                max: u64::MAX,
                randomization: 0.5,
            },
            9,
        );
        for _ in 0..100 {
            huge.next_delay();
        }
    }

    /// The histogram of 1,000 clients' delays at `attempt`, in 100 ms buckets.
    fn buckets(attempt: u32) -> Vec<usize> {
        let mut counts = Vec::new();
        for client in 0..1000u64 {
            let mut b = Backoff::new(BackoffConfig::default(), client);
            let mut d = 0;
            for _ in 0..=attempt {
                d = b.next_delay();
            }
            let k = (d / 100) as usize;
            if counts.len() <= k {
                counts.resize(k + 1, 0);
            }
            counts[k] += 1;
        }
        counts
    }

    #[test]
    fn jitter_spreads_a_thousand_clients() {
        // First attempt (500..=1000 ms) and far past the cap (2500..=5000 ms).
        for attempt in [0, 10] {
            let counts = buckets(attempt);
            let most = counts.iter().copied().max().unwrap_or(0);
            let used = counts.iter().filter(|&&c| c > 0).count();
            assert!(
                most < 1000 * 2 / 3,
                "attempt {attempt}: {most} of 1,000 in one bucket"
            );
            // Uniform over the range: no bucket holds more than about twice its share.
            let share = 1000 / used;
            assert!(most <= share * 2, "attempt {attempt}: {counts:?}");
            assert!(used >= 5, "attempt {attempt}: only {used} buckets used");
        }
    }
}
