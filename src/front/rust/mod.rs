//! The Rust front door: [`Socket`] with serde-typed listeners, futures and streams.
//!
//! Shaped for how Yew and Leptos hold state: a [`Socket`] is a cheap `Rc` handle, `'static`
//! and `Clone`; listeners are plain closures; futures run under
//! `wasm_bindgen_futures::spawn_local`; nothing needs `Send`. Listeners are removed when the
//! [`Subscription`] returned by [`Socket::on`] is dropped. The connection closes when the last
//! `Socket` handle of it is dropped, or on [`Socket::disconnect`]. A listener that calls a
//! panicking function takes the page's whole wasm instance down, as any wasm panic does.
//!
//! # Off the browser
//!
//! The API compiles for every target, so a server build of a Leptos or Yew app (and `cargo
//! doc`) builds the components that use it. Off wasm32 there is no browser and every handle
//! is inert: `connect` checks its URL and returns a handle that never connects, listeners are
//! registered and never called, emits are held (up to the buffer's bound) and never sent, and
//! futures (acks, joins, `wait_connected`) stay pending, their timeouts included, as time
//! stands still.

pub(crate) mod debug;
mod emitter;
mod error;
pub mod event;
#[cfg(any(feature = "leptos", feature = "yew"))]
mod hooks;
mod options;
mod payload;
mod room;
mod shared;
mod socket;
pub mod stream;
pub(crate) mod url;

pub use emitter::{AckFailure, AckFuture, AckSender, Subscription};
pub use error::{AckError, ConnectError, EmitError, RoomError, StreamError};
pub use event::Event;
#[cfg(feature = "leptos")]
pub use hooks::leptos;
#[cfg(feature = "yew")]
pub use hooks::yew;
#[cfg(any(feature = "leptos", feature = "yew"))]
pub use hooks::ConnectionState;
pub use options::ClientOptions;
pub use payload::{erased::Arg, Binary};
pub use room::{Member, PresenceEvent, Room};
pub use socket::{
    ConnectFuture, EventStream, Manager, ManagerEvent, ManagerSubscription, Options, Socket,
    SocketIo, Transport, WeakSocket,
};
pub use stream::{sse, ws};
