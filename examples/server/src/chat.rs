//! The demo chat on namespace `/`.
//!
//! | direction       | event  | payload                  | ack                                          |
//! |-----------------|--------|--------------------------|----------------------------------------------|
//! | client → server | `chat` | `{ name, text }`         | `{ ok: true, at }` or `{ ok: false, error }` |
//! | server → others | `chat` | `{ name, text, at, id }` | —                                            |
//!
//! `at` is the server's clock in Unix milliseconds, `id` the sender's socket id.
//! A message is rejected when `text` is blank or longer than
//! [`MAX_TEXT_CHARS`] characters, or when `name` is longer than
//! [`MAX_NAME_CHARS`]; a blank name becomes [`ANONYMOUS`]. A rejected message
//! is not broadcast.

use std::fmt;
use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef, TryData};

/// Longest accepted message, in Unicode scalar values.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest accepted name, in Unicode scalar values.
pub const MAX_NAME_CHARS: usize = 40;
/// Name shown for a sender who left the name field blank.
pub const ANONYMOUS: &str = "anonymous";

/// Registers the `chat` handler on a socket of namespace `/`.
pub fn register<A: Adapter>(socket: &SocketRef<A>) {
    socket.on("chat", on_chat::<A>);
}

/// What a client sends.
#[derive(Deserialize)]
struct ChatRequest {
    name: String,
    text: String,
}

/// What the other clients receive.
#[derive(Serialize)]
struct ChatMessage {
    name: String,
    text: String,
    at: u64,
    id: String,
}

/// The acknowledgement sent back to the sender.
#[derive(Serialize)]
#[serde(untagged)]
enum ChatAck {
    Accepted { ok: bool, at: u64 },
    Rejected { ok: bool, error: String },
}

/// Why a chat message was refused; the `Display` text is sent to the client.
#[derive(Debug, PartialEq)]
enum ChatRejection {
    /// The payload was not an object with string fields `name` and `text`.
    Malformed,
    /// `text` was empty or only whitespace.
    EmptyText,
    /// `text` had more than [`MAX_TEXT_CHARS`] characters.
    TextTooLong,
    /// `name` had more than [`MAX_NAME_CHARS`] characters.
    NameTooLong,
}

impl fmt::Display for ChatRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChatRejection::Malformed => f.write_str("expected { name, text } with string values"),
            ChatRejection::EmptyText => f.write_str("the message is empty"),
            ChatRejection::TextTooLong => {
                write!(f, "the message is longer than {MAX_TEXT_CHARS} characters")
            }
            ChatRejection::NameTooLong => {
                write!(f, "the name is longer than {MAX_NAME_CHARS} characters")
            }
        }
    }
}

/// Checks a request and returns the name and text to broadcast.
fn validate(request: ChatRequest) -> Result<(String, String), ChatRejection> {
    if request.text.trim().is_empty() {
        return Err(ChatRejection::EmptyText);
    }
    if request.text.chars().count() > MAX_TEXT_CHARS {
        return Err(ChatRejection::TextTooLong);
    }
    let name = request.name.trim();
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ChatRejection::NameTooLong);
    }
    let name = if name.is_empty() { ANONYMOUS } else { name };
    Ok((name.to_owned(), request.text))
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn on_chat<A: Adapter>(
    socket: SocketRef<A>,
    TryData(request): TryData<ChatRequest>,
    ack: AckSender<A>,
) -> impl Future<Output = ()> {
    let outcome = request
        .map_err(|_| ChatRejection::Malformed)
        .and_then(validate);
    let message = match outcome {
        Ok((name, text)) => {
            let at = unix_millis();
            let _ = ack.send(&ChatAck::Accepted { ok: true, at });
            Some(ChatMessage {
                name,
                text,
                at,
                id: socket.id.to_string(),
            })
        }
        Err(rejection) => {
            let _ = ack.send(&ChatAck::Rejected {
                ok: false,
                error: rejection.to_string(),
            });
            None
        }
    };
    async move {
        if let Some(message) = message {
            let _ = socket.broadcast().emit("chat", &message).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str, text: &str) -> ChatRequest {
        ChatRequest {
            name: name.to_owned(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn accepts_and_trims_the_name() {
        assert_eq!(
            validate(request("  Ada ", "hi")),
            Ok(("Ada".to_owned(), "hi".to_owned()))
        );
        assert_eq!(
            validate(request(" ", "hi")),
            Ok((ANONYMOUS.to_owned(), "hi".to_owned()))
        );
    }

    #[test]
    fn rejects_blank_and_oversized_text() {
        assert_eq!(
            validate(request("a", " \n\t")),
            Err(ChatRejection::EmptyText)
        );
        let limit = "é".repeat(MAX_TEXT_CHARS);
        assert!(validate(request("a", &limit)).is_ok());
        assert_eq!(
            validate(request("a", &format!("{limit}x"))),
            Err(ChatRejection::TextTooLong)
        );
    }

    #[test]
    fn rejects_oversized_names() {
        let name = "n".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(
            validate(request(&name, "hi")),
            Err(ChatRejection::NameTooLong)
        );
    }
}
