//! What the SSE and plain-WebSocket modes share: the options of a reconnecting stream
//! ([`StreamCommon`] and their builders) and the handles' connection and room methods.

use std::time::Duration;

use super::sse::ms;
use crate::session::backoff::BackoffConfig;
use crate::session::stream::StreamConfig;

/// The options both [`SseOptions`](crate::sse::SseOptions) and
/// [`WsOptions`](crate::ws::WsOptions) have; the defaults are `MODES.md`'s.
#[derive(Debug, Clone)]
pub(super) struct StreamCommon {
    pub auto_connect: bool,
    pub reconnection: bool,
    pub reconnection_attempts: u32,
    pub backoff: BackoffConfig,
    pub connect_timeout: Duration,
    pub max_buffer: usize,
    pub ack_timeout: Option<Duration>,
    pub rooms: Vec<String>,
    pub meta: Option<String>,
    pub query: Vec<(String, String)>,
}

impl Default for StreamCommon {
    fn default() -> Self {
        StreamCommon {
            auto_connect: true,
            reconnection: true,
            reconnection_attempts: u32::MAX,
            backoff: BackoffConfig::default(),
            connect_timeout: Duration::from_secs(20),
            max_buffer: 1000,
            ack_timeout: None,
            rooms: Vec::new(),
            meta: None,
            query: Vec::new(),
        }
    }
}

impl StreamCommon {
    /// The stream's configuration, with the mode's watchdog and heartbeat.
    pub fn stream_config(
        &self,
        idle_timeout: Option<u64>,
        ping_interval: Option<u64>,
    ) -> StreamConfig {
        StreamConfig {
            backoff: self.backoff,
            reconnection: self.reconnection,
            attempts: self.reconnection_attempts,
            idle_timeout,
            ping_interval,
            connect_timeout: (!self.connect_timeout.is_zero()).then(|| ms(self.connect_timeout)),
            max_buffer: self.max_buffer,
            seed: crate::shell::clock::seed(),
        }
    }

    /// The query pairs of the rooms and the meta; the mode's own and the user's follow.
    pub fn room_pairs<'a>(&'a self, rooms: &'a [String]) -> Vec<(&'a str, &'a str)> {
        let mut pairs: Vec<(&str, &str)> = rooms.iter().map(|r| ("room", r.as_str())).collect();
        if let Some(meta) = &self.meta {
            pairs.push(("meta", meta));
        }
        pairs
    }
}

/// The builders of the [`StreamCommon`] options, in `impl $opts` for the handle `$conn`, whose
/// connection is called a `$noun` and what it sends `$items`.
macro_rules! common_options {
    ($opts:ident, $conn:ident, $noun:literal, $items:literal) => {
        impl $opts {
            #[doc = concat!("Whether [`", stringify!($conn), "::connect`] connects at once (default true); else call [`", stringify!($conn), "::open`].")]
            pub fn auto_connect(mut self, on: bool) -> Self {
                self.common.auto_connect = on;
                self
            }

            #[doc = concat!("Whether to reconnect after a loss or a failed attempt (default true). Never after [`", stringify!($conn), "::disconnect`].")]
            pub fn reconnection(mut self, on: bool) -> Self {
                self.common.reconnection = on;
                self
            }

            /// Failed attempts in a row before [`StreamEvent::ReconnectFailed`] (default
            /// unlimited).
            pub fn reconnection_attempts(mut self, attempts: u32) -> Self {
                self.common.reconnection_attempts = attempts;
                self
            }

            /// The first backoff delay; it doubles each attempt (default 1 s).
            pub fn reconnection_delay(mut self, delay: Duration) -> Self {
                self.common.backoff.initial = ms(delay);
                self
            }

            /// The longest backoff delay (default 5 s).
            pub fn reconnection_delay_max(mut self, delay: Duration) -> Self {
                self.common.backoff.max = ms(delay);
                self
            }

            /// The random share of each delay, 0 to 1 (default 0.5).
            pub fn randomization_factor(mut self, factor: f64) -> Self {
                self.common.backoff.randomization = factor;
                self
            }

            /// How long an attempt may take to open (default 20 s; zero: no limit).
            pub fn connect_timeout(mut self, timeout: Duration) -> Self {
                self.common.connect_timeout = timeout;
                self
            }

            #[doc = concat!("Most ", $items, " held while the ", $noun, " is down (default 1000); more are refused with [`Error::BufferFull`].")]
            pub fn max_buffer(mut self, held: usize) -> Self {
                self.common.max_buffer = held;
                self
            }

            #[doc = concat!("The default timeout of [`", stringify!($conn), "::emit_with_ack`] (default: none).")]
            pub fn ack_timeout(mut self, timeout: Duration) -> Self {
                self.common.ack_timeout = Some(timeout);
                self
            }

            /// Adds a room to be in (the query parameter `room`, repeated).
            pub fn room(mut self, room: impl Into<String>) -> Self {
                let room = room.into();
                if !self.common.rooms.contains(&room) {
                    self.common.rooms.push(room);
                }
                self
            }

            /// Adds rooms to be in.
            pub fn rooms<S: Into<String>>(mut self, rooms: impl IntoIterator<Item = S>) -> Self {
                for r in rooms {
                    self = self.room(r);
                }
                self
            }

            /// A JSON value describing this client to its rooms' other members, sent as the
            /// query parameter `meta`. A value that does not serialize is ignored.
            pub fn meta(mut self, meta: &impl Serialize) -> Self {
                self.common.meta = serde_json::to_string(meta).ok();
                self
            }

            #[doc = concat!("Adds a query parameter to the ", $noun, "'s URL.")]
            pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
                self.common.query.push((key.into(), value.into()));
                self
            }
        }
    };
}

/// The weak handle `$weak` of the handle `$conn` (options `$opts`, inner `$inner`) and the
/// handle's methods of connection, rooms and state listeners. `$join_note` ends the doc of
/// `join`. The inner has the fields `link`, `id`, `rooms`, `rejoin`, `listeners` and the method
/// `reopen`; the module a `Handler::State`.
macro_rules! common_handle {
    ($conn:ident, $weak:ident, $inner:ident, $opts:ident, $noun:literal, $join_note:literal) => {
        #[doc = concat!("A handle that does not keep its [`", stringify!($conn), "`] alive; see [`", stringify!($conn), "::downgrade`].")]
        #[derive(Clone)]
        pub struct $weak {
            inner: Weak<$inner>,
        }

        impl $weak {
            #[doc = concat!("The connection, if some [`", stringify!($conn), "`] handle still holds it.")]
            pub fn upgrade(&self) -> Option<$conn> {
                self.inner.upgrade().map(|inner| $conn { inner })
            }
        }

        impl $conn {
            /// A handle for listeners that use their own connection without keeping it alive.
            pub fn downgrade(&self) -> $weak {
                $weak {
                    inner: Rc::downgrade(&self.inner),
                }
            }

            #[doc = concat!("(Re)connects after [`disconnect`](Self::disconnect), after the reconnection attempts ran out, or without [`", stringify!($opts), "::auto_connect`]. Nothing while connected or trying.")]
            pub fn open(&self) {
                StreamLink::apply(&self.inner, |s, now| s.connect(now));
            }

            #[doc = concat!("Closes the ", $noun, " (`io client disconnect`); no reconnection follows until [`open`](Self::open). What is sent meanwhile is held for then.")]
            pub fn disconnect(&self) {
                StreamLink::apply(&self.inner, |s, _| s.disconnect());
            }

            #[doc = concat!("Whether the ", $noun, " is open.")]
            pub fn connected(&self) -> bool {
                self.inner.link.is_open()
            }

            #[doc = concat!("Whether the ", $noun, " is open or being (re)connected.")]
            pub fn active(&self) -> bool {
                self.inner.link.is_active()
            }

            /// How many listeners are registered now (event, catch-all and state listeners):
            /// one per live [`Subscription`], so a UI can check that its components release
            /// theirs.
            pub fn listener_count(&self) -> usize {
                self.inner.listeners.len()
            }

            /// The id the server gave this client in its last `rtio:hello` event, if it sent
            /// one.
            pub fn id(&self) -> Option<String> {
                self.inner.id.borrow().clone()
            }

            /// The rooms this client asks to be in.
            pub fn rooms(&self) -> Vec<String> {
                self.inner.rooms.borrow().clone()
            }

            #[doc = concat!("Joins `room`: the ", $noun, " reconnects with the new set of rooms (changes made in the same tick make one reconnection, reported as a `Disconnect(Client)` and a `Connect`", $join_note, ").")]
            pub fn join(&self, room: &str) {
                {
                    let mut rooms = self.inner.rooms.borrow_mut();
                    if rooms.iter().any(|r| r == room) {
                        return;
                    }
                    rooms.push(room.to_string());
                }
                self.schedule_reopen();
            }

            /// Leaves `room` (see [`join`](Self::join)).
            pub fn leave(&self, room: &str) {
                {
                    let mut rooms = self.inner.rooms.borrow_mut();
                    let before = rooms.len();
                    rooms.retain(|r| r != room);
                    if rooms.len() == before {
                        return;
                    }
                }
                self.schedule_reopen();
            }

            fn schedule_reopen(&self) {
                if self.inner.rejoin.replace(true) {
                    return;
                }
                let weak = Rc::downgrade(&self.inner);
                crate::shell::spawn(async move {
                    if let Some(inner) = weak.upgrade() {
                        inner.reopen();
                    }
                });
            }

            /// Calls `f` with every change of the connection's state.
            pub fn on_state(&self, f: impl FnMut(&StreamEvent) + 'static) -> Subscription {
                self.add(None, Handler::State(Box::new(f)))
            }

            #[doc = concat!("Calls `f` each time the ", $noun, " opens (first connection and reconnections).")]
            pub fn on_connect(&self, mut f: impl FnMut() + 'static) -> Subscription {
                self.on_state(move |e| {
                    if let StreamEvent::Connect { .. } = e {
                        f()
                    }
                })
            }

            #[doc = concat!("Calls `f` each time the open ", $noun, " goes down, with the reason.")]
            pub fn on_disconnect(&self, mut f: impl FnMut(StreamClosed) + 'static) -> Subscription {
                self.on_state(move |e| {
                    if let StreamEvent::Disconnect(why) = e {
                        f(*why)
                    }
                })
            }
        }
    };
}

pub(super) use {common_handle, common_options};
