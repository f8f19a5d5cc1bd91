//! The browser shell (wasm32 only): the WebSocket transport, timers and the clock, and the
//! [`link::Link`] that feeds them into a [`Session`](crate::session::Session).
//!
//! Every handle owns the JS closures it registered and removes them in `Drop`; nothing is
//! leaked with `forget`.

pub(crate) mod clock;
pub(crate) mod link;
pub(crate) mod timer;
pub(crate) mod websocket;
