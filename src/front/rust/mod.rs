//! The Rust front door: [`Socket`] with serde-typed listeners, futures and streams.
//!
//! Shaped for how Yew and Leptos hold state: a [`Socket`] is a cheap `Rc` handle, `'static`
//! and `Clone`; listeners are plain closures; futures run under
//! `wasm_bindgen_futures::spawn_local`; nothing needs `Send`. Listeners are removed when the
//! [`Subscription`] returned by [`Socket::on`] is dropped. The connection closes when the last
//! `Socket` handle of it is dropped, or on [`Socket::disconnect`].

mod error;
mod payload;
#[cfg(target_arch = "wasm32")]
mod socket;
pub(crate) mod url;

pub use error::{AckError, ConnectError, EmitError};
pub use payload::Binary;
#[cfg(target_arch = "wasm32")]
pub use socket::{AckFuture, AckSender, ConnectFuture, EventStream, Manager, Options, Socket, Subscription};
