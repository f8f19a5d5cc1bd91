//! Errors of the Rust front door, one enum per operation. None of them is fatal to the
//! connection unless its variant says so.

use std::fmt;

use serde_json::Value;

use crate::session::DisconnectReason;

/// Why [`Socket::connect`](super::Socket::connect) or a namespace connection failed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not an absolute `http(s)://` or `ws(s)://` URL. Nothing was opened.
    InvalidUrl(String),
    /// The server (its middleware) refused the namespace; `message` is the server's message and
    /// `data` its optional extra data. The socket stays disconnected until `connect()`.
    Refused {
        /// The server's message, e.g. `"not authorized"`.
        message: String,
        /// The error's `data` field, if the server sent one.
        data: Option<Value>,
    },
    /// The transport could not be opened or closed before the namespace connected
    /// (server down, network gone); `0` is the reason as Socket.IO spells it.
    Transport(String),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::InvalidUrl(u) => write!(f, "invalid Socket.IO URL: {u}"),
            ConnectError::Refused { message, .. } => write!(f, "connection refused: {message}"),
            ConnectError::Transport(why) => write!(f, "could not connect: {why}"),
        }
    }
}

impl std::error::Error for ConnectError {}

/// Why an emit was not sent. The connection is unaffected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmitError {
    /// The name is reserved for lifecycle events (`connect`, `connect_error`, `disconnect`,
    /// `disconnecting`, `newListener`, `removeListener`).
    Reserved(String),
    /// The payload could not be serialized to JSON.
    Encode(String),
    /// The socket is disconnected and its send buffer is full; the packet was dropped.
    BufferFull,
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::Reserved(name) => write!(f, "\"{name}\" is a reserved event name"),
            EmitError::Encode(e) => write!(f, "payload could not be serialized: {e}"),
            EmitError::BufferFull => f.write_str("send buffer is full while disconnected"),
        }
    }
}

impl std::error::Error for EmitError {}

/// Why [`emit_with_ack`](super::Socket::emit_with_ack) did not produce a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AckError {
    /// No acknowledgement within the timeout.
    Timeout,
    /// The socket disconnected after the packet was sent; the reply can never come.
    Disconnected,
    /// The packet was not sent.
    Emit(EmitError),
    /// The reply did not deserialize into the requested type.
    Decode(String),
}

impl fmt::Display for AckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AckError::Timeout => f.write_str("operation has timed out"),
            AckError::Disconnected => f.write_str("socket has been disconnected"),
            AckError::Emit(e) => write!(f, "{e}"),
            AckError::Decode(e) => {
                write!(f, "acknowledgement did not match the expected type: {e}")
            }
        }
    }
}

impl std::error::Error for AckError {}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a room operation failed (see [`Room`](super::Room)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoomError {
    /// A room name is 1 to 128 characters.
    InvalidName(String),
    /// The server refused the join, with its reason (`not allowed`, `invalid room`,
    /// `meta too large`, or the server's own).
    Refused(String),
    /// The room is not held: join it before emitting to it.
    NotJoined(String),
    /// The request was not sent or not answered.
    Ack(AckError),
}

impl fmt::Display for RoomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoomError::InvalidName(name) => {
                write!(f, "invalid room name {name:?}: 1 to 128 characters")
            }
            RoomError::Refused(reason) => write!(f, "join refused: {reason}"),
            RoomError::NotJoined(name) => write!(f, "join room {name:?} before emitting to it"),
            RoomError::Ack(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RoomError {}

/// Why an operation of the SSE or plain-WebSocket mode (`rtio::sse`,
/// `rtio::ws`) failed. None of them is fatal to the connection.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamError {
    /// `connect`: the URL does not parse, or its scheme does not fit the mode (`http(s)` for
    /// SSE; `ws(s)` or `http(s)` for WebSocket). Nothing was opened.
    InvalidUrl(String),
    /// `emit`: the name is kept for the connection's own events (`connect`, `connect_error`,
    /// `disconnect`, `disconnecting`, `newListener`, `removeListener`) or for the rooms
    /// convention (names starting with `rtio:`).
    Reserved(String),
    /// `emit`: an argument could not be serialized to JSON.
    Encode(String),
    /// `emit`: the connection is down and its send buffer is full; nothing was sent or kept.
    BufferFull,
    /// An acknowledgement (SSE): the server answered the emit's `POST` with a status other
    /// than 2xx; or a connection attempt (SSE): the stream's `GET` was answered so. `data` is
    /// the answer's body, parsed as JSON (text if not JSON, `null` if empty).
    Http {
        /// The HTTP status, e.g. 500.
        status: u16,
        /// The answer's body.
        data: Value,
    },
    /// An acknowledgement (SSE): the emit's `POST` got no answer (network error, CORS
    /// refusal, or the connection was dropped).
    Network(String),
    /// An acknowledgement: none came within the timeout.
    Timeout,
    /// An acknowledgement: the connection was lost or closed after the request was sent (a new
    /// connection cannot answer it), or it was dropped before the request went out.
    Disconnected,
    /// An acknowledgement did not deserialize into the requested type.
    Decode(String),
    /// A connection attempt failed (see `on_connect_error`), for this reason, without an HTTP
    /// answer to tell more (a network error, a timeout, a WebSocket refused: the browser
    /// hides its status). An SSE stream answered with an error status is [`StreamError::Http`].
    Transport(crate::session::stream::StreamClosed),
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::InvalidUrl(u) => write!(f, "invalid URL: {u}"),
            StreamError::Reserved(name) => write!(f, "\"{name}\" is a reserved event name"),
            StreamError::Encode(e) => write!(f, "payload could not be serialized: {e}"),
            StreamError::BufferFull => f.write_str("send buffer is full while disconnected"),
            StreamError::Http { status, data } => match data {
                Value::Null => write!(f, "the server answered HTTP {status}"),
                Value::String(s) => write!(f, "the server answered HTTP {status}: {s}"),
                other => write!(f, "the server answered HTTP {status}: {other}"),
            },
            StreamError::Network(e) => write!(f, "request failed: {e}"),
            StreamError::Timeout => f.write_str("operation has timed out"),
            StreamError::Disconnected => f.write_str("disconnected"),
            StreamError::Decode(e) => {
                write!(f, "acknowledgement did not match the expected type: {e}")
            }
            StreamError::Transport(why) => write!(f, "could not connect: {why}"),
        }
    }
}

impl std::error::Error for StreamError {}

impl fmt::Display for crate::session::stream::StreamClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl super::AckFailure for AckError {
    fn timeout() -> Self {
        AckError::Timeout
    }
    fn disconnected() -> Self {
        AckError::Disconnected
    }
    fn decode(why: String) -> Self {
        AckError::Decode(why)
    }
}

impl super::AckFailure for StreamError {
    fn timeout() -> Self {
        StreamError::Timeout
    }
    fn disconnected() -> Self {
        StreamError::Disconnected
    }
    fn decode(why: String) -> Self {
        StreamError::Decode(why)
    }
}
