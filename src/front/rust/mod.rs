//! The Rust front door: [`Socket`] with serde-typed listeners, futures and streams.
//!
//! Shaped for how Yew and Leptos hold state: a [`Socket`] is a cheap `Rc` handle, `'static`
//! and `Clone`; listeners are plain closures; futures run under
//! `wasm_bindgen_futures::spawn_local`; nothing needs `Send`. Listeners are removed when the
//! [`Subscription`] returned by [`Socket::on`] is dropped. The connection closes when the last
//! `Socket` handle of it is dropped, or on [`Socket::disconnect`]. A listener that calls a
//! panicking function takes the page's whole wasm instance down, as any wasm panic does.

#[cfg(target_arch = "wasm32")]
pub(crate) mod debug;
mod error;
pub mod event;
// Pure parts, also compiled (and unit-tested) natively; used by the wasm-only `socket`.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod payload;
#[cfg(target_arch = "wasm32")]
mod room;
#[cfg(target_arch = "wasm32")]
mod socket;
#[cfg(target_arch = "wasm32")]
pub mod sse;
#[cfg(target_arch = "wasm32")]
mod stream;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) mod url;
#[cfg(target_arch = "wasm32")]
pub mod ws;

pub use error::{AckError, ConnectError, EmitError, RoomError, StreamError};
pub use event::Event;
pub use payload::{erased::Arg, Binary};
#[cfg(target_arch = "wasm32")]
pub use room::{Member, PresenceEvent, Room};
#[cfg(target_arch = "wasm32")]
pub use socket::{
    AckFuture, AckSender, ConnectFuture, EventStream, Manager, ManagerEvent, ManagerSubscription,
    Options, Socket, Subscription, WeakSocket,
};
