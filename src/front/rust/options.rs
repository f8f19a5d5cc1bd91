//! The options every client has: reconnection and its backoff, the connect timeout, the
//! buffer kept while down, the ack timeout and the URL's query; a client kind adds its own
//! ([`Options`](crate::Options) for Socket.IO, [`SseOptions`](crate::sse::SseOptions),
//! [`WsOptions`](crate::ws::WsOptions)).

use std::time::Duration;

use super::emitter::ms;
use crate::session::backoff::BackoffConfig;

/// The kinds of client (private: the options of each are made here and in its module).
pub(crate) mod kind {
    /// A kind of client and its own options.
    pub trait Kind: 'static {
        /// The options only this kind has.
        type Options: Clone + std::fmt::Debug + Default;
    }
}

/// Options of a client: these, and its kind's own (see [`Options`](crate::Options),
/// [`SseOptions`](crate::sse::SseOptions), [`WsOptions`](crate::ws::WsOptions)).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientOptions<K: kind::Kind> {
    pub(crate) reconnection: bool,
    pub(crate) reconnection_attempts: u32,
    pub(crate) backoff: BackoffConfig,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_buffer: usize,
    pub(crate) ack_timeout: Option<Duration>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) own: K::Options,
}

impl<K: kind::Kind> Default for ClientOptions<K> {
    fn default() -> Self {
        ClientOptions {
            reconnection: true,
            reconnection_attempts: u32::MAX,
            backoff: BackoffConfig::default(),
            connect_timeout: Duration::from_secs(20),
            max_buffer: 1_000,
            ack_timeout: None,
            query: Vec::new(),
            own: K::Options::default(),
        }
    }
}

impl<K: kind::Kind> ClientOptions<K> {
    /// Whether to reconnect by itself after the connection is lost or an attempt failed
    /// (default true). Never after a `disconnect()` asked for (nor, for Socket.IO, after a
    /// server-side disconnect or a refused connection).
    pub fn reconnection(mut self, on: bool) -> Self {
        self.reconnection = on;
        self
    }

    /// How many reconnection attempts in a row before giving up, with
    /// [`ManagerEvent::ReconnectFailed`](crate::ManagerEvent::ReconnectFailed) or
    /// [`StreamEvent::ReconnectFailed`](crate::stream::StreamEvent::ReconnectFailed) (default
    /// unlimited).
    pub fn reconnection_attempts(mut self, attempts: u32) -> Self {
        self.reconnection_attempts = attempts;
        self
    }

    /// The delay before the first reconnection attempt; it doubles each attempt (default 1 s).
    pub fn reconnection_delay(mut self, delay: Duration) -> Self {
        self.backoff.initial = ms(delay);
        self
    }

    /// The largest delay between reconnection attempts (default 5 s).
    pub fn reconnection_delay_max(mut self, delay: Duration) -> Self {
        self.backoff.max = ms(delay);
        self
    }

    /// The random share of each delay, from 0 to 1 (default 0.5): the jitter that keeps
    /// clients from returning all at once. A factor outside (0, 1], or not a number, is 0 (as
    /// socket.io-client's backoff takes it).
    pub fn randomization_factor(mut self, factor: f64) -> Self {
        self.backoff.randomization = if factor > 0.0 && factor <= 1.0 {
            factor
        } else {
            0.0
        };
        self
    }

    /// How long the transport may take to open and hand-shake (default 20 s; zero: no limit).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many emits a disconnected client keeps until it connects (default 1000). When it
    /// is full, an emit fails with a `BufferFull` error and the buffer keeps what it holds.
    pub fn max_buffer(mut self, held: usize) -> Self {
        self.max_buffer = held;
        self
    }

    /// The default timeout of `emit_with_ack` (default: wait forever, as socket.io-client).
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = Some(timeout);
        self
    }

    /// Adds a query parameter to the connection's URL.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// The connect timeout in milliseconds, if any.
    pub(crate) fn connect_timeout_ms(&self) -> Option<u64> {
        (!self.connect_timeout.is_zero()).then(|| ms(self.connect_timeout))
    }
}
