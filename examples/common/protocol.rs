//! What the chat examples and the server say to each other: the `chat` event, declared once
//! with its payload and ack types (see `examples/server/src/chat.rs` for the server's side).
//! Included by the Leptos and the Yew example.

use serde::{Deserialize, Serialize};

/// A chat message: `{ name, text }` when sent; the server adds `at` (its clock, Unix ms) and
/// `id` (the sender's socket id) when it passes the message on to the others.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who wrote it.
    pub name: String,
    /// What they wrote.
    pub text: String,
    /// When the server got it (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<u64>,
    /// The sender's socket id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// The server's answer to a sent message: `{ ok: true, at }` or `{ ok: false, error }`.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatAck {
    /// Whether the message was accepted (and passed on).
    pub ok: bool,
    /// When it was accepted (Unix milliseconds).
    #[serde(default)]
    pub at: Option<u64>,
    /// Why it was refused.
    #[serde(default)]
    pub error: Option<String>,
}

rtio::event!(
    /// The `chat` event: a [`ChatMessage`] each way, acknowledged with a [`ChatAck`].
    pub Chat = "chat", ChatMessage => ChatAck
);
