//! rtio: a Socket.IO v5 / Engine.IO v4 client for the browser.
//!
//! Layers, data flowing one way:
//! - [`codec`]: pure encoders and decoders of the wire formats;
//! - [`session`]: the sans-IO connection state machine, driven by a clock passed in;
//! - `shell` (wasm32 only): the browser's WebSocket, timers and clock;
//! - front doors: the Rust API ([`Socket`]) and the JavaScript API of the npm package.
#![warn(missing_docs)]

pub mod codec;
pub mod session;

#[cfg(target_arch = "wasm32")]
mod shell;

mod front;

#[cfg(feature = "rust-api")]
pub use front::rust::*;
pub use session::DisconnectReason;
