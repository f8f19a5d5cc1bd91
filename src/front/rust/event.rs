//! Declared events: an event's name, payload type and ack type, written once and checked by
//! the compiler wherever it is emitted or listened to.
//!
//! ```no_run
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! pub struct ChatMessage { pub name: String, pub text: String }
//! #[derive(Deserialize)]
//! pub struct ChatAck { pub ok: bool }
//!
//! // `chat` carries a `ChatMessage`; the server answers it with a `ChatAck`.
//! rtio::event!(pub Chat = "chat", ChatMessage => ChatAck);
//! // An event without an ack: its `Ack` is `()`.
//! rtio::event!(pub Typing = "typing", String);
//!
//! # #[cfg(target_arch = "wasm32")]
//! # async fn demo(socket: rtio::Socket) -> Result<(), rtio::AckError> {
//! let _sub = socket.on_typed::<Chat>(|msg| { let _: ChatMessage = msg; });
//! let msg = ChatMessage { name: "Ada".into(), text: "hi".into() };
//! let ack: ChatAck = socket.emit_typed_with_ack::<Chat>(&msg).await?;
//! socket.emit_typed::<Typing>(&"Ada".to_string())?;
//! // socket.emit_typed::<Chat>(&"hi")  // does not compile: the payload is a ChatMessage
//! # Ok(()) }
//! ```
//!
//! The typed methods sit beside the string-named ones (`on`, `emit`, `emit_with_ack`) on
//! [`Socket`](crate::Socket), [`Room`](crate::Room) (no acks there), [`Sse`](crate::sse::Sse)
//! and [`Ws`](crate::ws::Ws); they send and receive exactly what those do.

/// An event declared once: its wire name, the payload it carries and the type of the
/// server's acknowledgement. Usually written with [`event!`](crate::event!). The bounds are
/// on the methods that use it: emitting needs `Payload: Serialize`, listening
/// `Payload: DeserializeOwned`, waiting for an ack `Ack: DeserializeOwned`.
pub trait Event: 'static {
    /// The event's name on the wire.
    const NAME: &'static str;
    /// The one argument the event carries (a tuple for several, as with
    /// [`Socket::on`](crate::Socket::on)).
    type Payload;
    /// The acknowledgement's arguments (`()` when the event takes no ack).
    type Ack;
}

/// Declares an [`Event`]: `event!(pub Name = "wire-name", Payload => Ack);`, or without
/// `=> Ack` for an event that takes no ack (its `Ack` is `()`). It defines a unit struct
/// `Name` (with the attributes and doc comments written before it) that implements
/// [`Event`]; see the [module docs](mod@crate::event) for an example.
#[macro_export]
macro_rules! event {
    ($(#[$attr:meta])* $vis:vis $name:ident = $wire:literal, $payload:ty $(=> $ack:ty)? $(,)?) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis struct $name;

        impl $crate::Event for $name {
            const NAME: &'static str = $wire;
            type Payload = $payload;
            type Ack = $crate::event!(@ack $($ack)?);
        }
    };
    (@ack) => { () };
    (@ack $ack:ty) => { $ack };
}

/// The typed methods of a handle whose `on`, `emit` and `emit_with_ack` take event names:
/// `impl [generics] Handle`, then `$err` the error of `emit` and `$ack` the error of its
/// acks.
macro_rules! typed_events {
    (impl [$($generics:tt)*] $handle:ty, $err:ty, $ack:ty) => {
        impl<$($generics)*> $handle {
            /// Like [`on`](Self::on), for a declared [`Event`](crate::Event): `f` gets its
            /// payload type.
            pub fn on_typed<E>(
                &self,
                f: impl FnMut(E::Payload) + 'static,
            ) -> $crate::Subscription
            where
                E: $crate::Event,
                E::Payload: serde::de::DeserializeOwned + 'static,
            {
                self.on(E::NAME, f)
            }

            /// Like [`emit`](Self::emit), for a declared [`Event`](crate::Event): only its
            /// payload type is accepted.
            pub fn emit_typed<E>(&self, payload: &E::Payload) -> Result<(), $err>
            where
                E: $crate::Event,
                E::Payload: serde::Serialize,
            {
                self.emit(E::NAME, payload)
            }

            /// Like [`emit_with_ack`](Self::emit_with_ack), for a declared
            /// [`Event`](crate::Event): the payload and the ack have its types.
            pub fn emit_typed_with_ack<E>(
                &self,
                payload: &E::Payload,
            ) -> $crate::AckFuture<E::Ack, $ack>
            where
                E: $crate::Event,
                E::Payload: serde::Serialize,
                E::Ack: serde::de::DeserializeOwned,
            {
                self.emit_with_ack(E::NAME, payload)
            }
        }
    };
}

pub(super) use typed_events;

#[cfg(test)]
mod tests {
    use super::Event;

    crate::event!(
        /// A documented event.
        pub Chat = "chat", (String, u32) => bool
    );
    crate::event!(Typing = "typing", String,);

    fn name<E: Event>() -> &'static str {
        E::NAME
    }

    #[test]
    fn declares_name_and_types() {
        assert_eq!(name::<Chat>(), "chat");
        assert_eq!(name::<Typing>(), "typing");
        let payload: <Chat as Event>::Payload = ("hi".to_string(), 3);
        let ack: <Chat as Event>::Ack = true;
        let none: <Typing as Event>::Ack = ();
        assert_eq!((payload.1, ack, none), (3, true, ()));
    }
}
