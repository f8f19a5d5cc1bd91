//! Pure encoders and decoders for the wire formats rtio speaks. No IO, no clock, no browser.
//!
//! - [`engine`]: Engine.IO v4 packets (one packet per WebSocket frame).
//! - [`polling`]: the payloads of Engine.IO's HTTP long-polling transport (packets joined by a
//!   separator, binary in base64), and how many packets go in one request.
//! - [`socket`]: Socket.IO v5 packets carried inside Engine.IO `message` packets.
//! - [`json`]: a small, allocation-light JSON reader for the few protocol objects the session must
//!   look into (the open handshake, `CONNECT` replies, `CONNECT_ERROR` messages) and the
//!   envelope's arrays. Event payloads are never parsed here: they travel as JSON text to the front door, where the browser's
//!   `JSON.parse` (JavaScript) or serde (Rust) reads them.
//! - [`sse`]: an incremental parser of Server-Sent Events (`text/event-stream`), fed the bytes of
//!   a response body as they arrive.
//! - [`envelope`]: the plain-WebSocket mode's JSON envelope of events and acks (`MODES.md`).
//!
//! Every decoder returns a [`DecodeError`] on malformed input and never panics.

use alloc::string::String;

pub mod engine;
pub mod envelope;
pub mod json;
pub mod polling;
pub mod socket;
pub mod sse;

/// Why a frame could not be decoded. Decoding errors are never fatal to the process; the session
/// closes the connection with the `parse error` reason, as socket.io-client does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The frame was empty.
    Empty,
    /// The packet type is not one the protocol defines.
    UnknownType,
    /// A binary packet's attachment count is missing, malformed or out of range.
    BadAttachments,
    /// An ack id does not fit in 53 bits (JavaScript's safe integer range).
    BadAckId,
    /// The payload does not have the shape the packet type requires.
    BadPayload,
    /// The JSON is malformed or nested too deeply.
    BadJson,
}

impl DecodeError {
    /// A short description for logs and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            DecodeError::Empty => "empty packet",
            DecodeError::UnknownType => "unknown packet type",
            DecodeError::BadAttachments => "malformed attachment count",
            DecodeError::BadAckId => "malformed ack id",
            DecodeError::BadPayload => "payload does not match the packet type",
            DecodeError::BadJson => "malformed JSON",
        }
    }
}

/// Appends the decimal form of `n` to `out` without going through `core::fmt`, which would cost
/// several kilobytes in the wasm build.
pub fn push_u64(out: &mut String, n: u64) {
    // At most 20 digits deep.
    if n >= 10 {
        push_u64(out, n / 10);
    }
    push_ascii(out, b'0' + (n % 10) as u8);
}

/// Appends the ASCII character `b` to `out`. Masking to seven bits lets the compiler drop
/// `String::push`'s multi-byte encoder.
#[inline(always)]
pub(crate) fn push_ascii(out: &mut String, b: u8) {
    out.push(char::from(b & 0x7f));
}

/// The first byte of `s` that is not JSON whitespace (space, tab, line feed, carriage return).
pub(crate) fn first_non_ws(s: &str) -> Option<u8> {
    s.bytes()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// Reads the leading ASCII digits of `s` as a number no greater than `max`.
/// Returns the number and the count of digits read, or `None` when there are no digits or the
/// number exceeds `max`.
pub(crate) fn read_u64(s: &[u8], max: u64) -> Option<(u64, usize)> {
    let mut n: u64 = 0;
    let mut len = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            break;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        if n > max {
            return None;
        }
        len += 1;
    }
    if len == 0 {
        None
    } else {
        Some((n, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_u64_writes_decimal() {
        for n in [0u64, 7, 10, 99, 12345, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn read_u64_bounds() {
        assert_eq!(read_u64(b"123abc", 1000), Some((123, 3)));
        assert_eq!(read_u64(b"abc", 1000), None);
        assert_eq!(read_u64(b"1001", 1000), None);
        assert_eq!(read_u64(b"99999999999999999999999", u64::MAX), None);
    }
}
