//! The browser shell (wasm32 only): the WebSocket transport, timers and the clock, and the
//! [`link::Link`] that feeds them into a [`Session`](crate::session::Session).
//!
//! Every handle owns the JS closures it registered and removes them in `Drop`; nothing is
//! leaked with `forget`.

#[cfg(target_arch = "wasm32")]
pub(crate) mod clock;
#[cfg_attr(feature = "std", allow(dead_code))]
pub(crate) mod heap;
#[cfg(target_arch = "wasm32")]
pub(crate) mod link;
#[cfg(target_arch = "wasm32")]
pub(crate) mod timer;
#[cfg(target_arch = "wasm32")]
pub(crate) mod websocket;
