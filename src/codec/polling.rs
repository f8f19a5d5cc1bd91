//! Engine.IO v4 payloads of the HTTP long-polling transport: the packets of one request or
//! response body, joined by the record separator `\x1e`; a binary message as `b` followed by its
//! bytes in base64 (RFC 4648, with padding).
//!
//! | payload | packets |
//! |---|---|
//! | `4hello\x1e2\x1e4world` | message `hello`, ping, message `world` |
//! | `4hello\x1ebAQIDBA==` | message `hello`, binary message `[1, 2, 3, 4]` |
//!
//! A text packet is an Engine.IO packet as [`engine`](super::engine) reads it; nothing here looks
//! inside one.

use alloc::string::String;
use alloc::vec::Vec;

use super::DecodeError;

/// The record separator between the packets of a payload.
pub const SEPARATOR: char = '\x1e';

/// One packet of a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// A text packet: its type, then its data.
    Text(&'a str),
    /// The bytes of a binary message.
    Binary(Vec<u8>),
}

/// The packets of `payload`, in order. An empty packet (an empty payload included) or a binary
/// one whose base64 is malformed is an error; the packets before it are still read.
pub fn packets(payload: &str) -> impl Iterator<Item = Result<Packet<'_>, DecodeError>> {
    payload
        .split(SEPARATOR)
        .map(|p| match p.as_bytes().first() {
            None => Err(DecodeError::Empty),
            Some(b'b') => base64_decode(p.get(1..).unwrap_or_default())
                .map(Packet::Binary)
                .ok_or(DecodeError::BadPayload),
            Some(_) => Ok(Packet::Text(p)),
        })
}

/// Appends text packet `packet` (its type, then its data) to the payload being built in `out`.
pub fn push_text(out: &mut String, packet: &str) {
    if !out.is_empty() {
        out.push(SEPARATOR);
    }
    out.push_str(packet);
}

/// Appends a binary message of `data` to the payload being built in `out`.
pub fn push_binary(out: &mut String, data: &[u8]) {
    if !out.is_empty() {
        out.push(SEPARATOR);
    }
    out.push('b');
    base64_encode(data, out);
}

/// How many of the packets waiting to be written go in the next request, given the size each
/// one's data counts for (see [`counted_size`]): all of them, unless together they exceed the
/// server's `max_payload`; then the most that fit, and never fewer than one. The count is
/// engine.io-client's: one byte for the first packet's type, then each packet's data, and two
/// bytes (a separator and a type) before each next packet.
pub fn batch(sizes: impl IntoIterator<Item = usize>, max_payload: u64) -> usize {
    let mut total: u64 = 1;
    let mut n = 0;
    for size in sizes {
        total = total.saturating_add(size as u64);
        if n > 0 && total > max_payload {
            break;
        }
        total = total.saturating_add(2);
        n += 1;
    }
    n
}

/// The size a packet's data counts for in [`batch`]: the UTF-8 bytes of a text packet's data
/// (without its type), or 1.33 times the bytes of a binary message (base64's growth), rounded
/// up, as engine.io-client counts them.
pub fn counted_size(packet: &Packet<'_>) -> usize {
    match packet {
        Packet::Text(text) => text.len().saturating_sub(1),
        Packet::Binary(data) => (data.len() * 133).div_ceil(100),
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends `data` in base64 (standard alphabet, with padding) to `out`.
pub fn base64_encode(data: &[u8], out: &mut String) {
    let digit = |n: u32| char::from(ALPHABET[(n & 63) as usize]);
    for chunk in data.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        out.push(digit(n >> 18));
        out.push(digit(n >> 12));
        out.push(if chunk.len() > 1 { digit(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { digit(n) } else { '=' });
    }
}

/// Reads base64 `text` (standard alphabet; its padding may be left out, and the bits of a last
/// partial byte are dropped, as the browser's `atob` reads it); `None` if a character is not
/// base64 or the length cannot be one of base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    let digits = match text {
        [rest @ .., b'=', b'='] | [rest @ .., b'='] if text.len() % 4 == 0 => rest,
        _ => text,
    };
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() / 4 * 3 + 2);
    let mut bits: u32 = 0;
    let mut count = 0;
    for &c in digits {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn reads_the_protocols_examples() {
        let read: Vec<_> = packets("4hello\x1e2\x1e4world").collect();
        assert_eq!(
            read,
            vec![
                Ok(Packet::Text("4hello")),
                Ok(Packet::Text("2")),
                Ok(Packet::Text("4world"))
            ]
        );
        let read: Vec<_> = packets("4hello\x1ebAQIDBA==").collect();
        assert_eq!(
            read,
            vec![
                Ok(Packet::Text("4hello")),
                Ok(Packet::Binary(vec![1, 2, 3, 4]))
            ]
        );
        // Text with any character, the separator excepted.
        let read: Vec<_> = packets("4é😀\n\x1e6").collect();
        assert_eq!(
            read,
            vec![Ok(Packet::Text("4é😀\n")), Ok(Packet::Text("6"))]
        );
    }

    #[test]
    fn malformed_payloads_are_errors() {
        assert_eq!(
            packets("").collect::<Vec<_>>(),
            vec![Err(DecodeError::Empty)]
        );
        assert_eq!(
            packets("4a\x1e\x1e4b").collect::<Vec<_>>(),
            vec![
                Ok(Packet::Text("4a")),
                Err(DecodeError::Empty),
                Ok(Packet::Text("4b"))
            ]
        );
        for bad in ["b*", "bA", "bAAAAA", "bAA=A", "bé"] {
            assert_eq!(
                packets(bad).collect::<Vec<_>>(),
                vec![Err(DecodeError::BadPayload)],
                "{bad}"
            );
        }
        // An empty binary message is one.
        assert_eq!(
            packets("b").collect::<Vec<_>>(),
            vec![Ok(Packet::Binary(vec![]))]
        );
    }

    #[test]
    fn writes_payloads() {
        let mut out = String::new();
        push_text(&mut out, "4hello");
        push_binary(&mut out, &[1, 2, 3, 4]);
        push_text(&mut out, "2");
        assert_eq!(out, "4hello\x1ebAQIDBA==\x1e2");
        let mut out = String::new();
        push_binary(&mut out, &[]);
        assert_eq!(out, "b");
    }

    #[test]
    fn base64_as_rfc_4648_writes_it() {
        for (bytes, text) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = String::new();
            base64_encode(bytes.as_bytes(), &mut out);
            assert_eq!(out, text);
            assert_eq!(base64_decode(text).as_deref(), Some(bytes.as_bytes()));
            // Without padding too.
            let bare = text.trim_end_matches('=');
            assert_eq!(base64_decode(bare).as_deref(), Some(bytes.as_bytes()));
        }
        // Every byte value, at every position of a group of three.
        let all: Vec<u8> = (0..=255).chain((0..=255).rev()).collect();
        for start in 0..3 {
            let mut out = String::new();
            base64_encode(&all[start..], &mut out);
            assert_eq!(base64_decode(&out).as_deref(), Some(&all[start..]));
        }
        // The bits of a last partial byte are dropped, as `atob` drops them.
        assert_eq!(base64_decode("Zh=="), Some(b"f".to_vec()));
        assert_eq!(base64_decode("Zg"), Some(b"f".to_vec()));
        for bad in [
            "Z", "Zg=", "Z===", "Zg==Zg==", "Zm9v!", "Zm 9v", "====", "=",
        ] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn batches_as_engine_io_client_counts() {
        // 1 + 4 + (2 + 4) = 11 bytes for two packets of 4.
        assert_eq!(batch([4, 4], 11), 2);
        assert_eq!(batch([4, 4], 10), 1);
        // The first packet goes even when it alone is too big.
        assert_eq!(batch([100, 1], 10), 1);
        assert_eq!(batch([100], 10), 1);
        assert_eq!(batch([], 10), 0);
        assert_eq!(batch([1; 5], u64::MAX), 5);
        assert_eq!(counted_size(&Packet::Text("4héllo")), 6);
        assert_eq!(counted_size(&Packet::Text("2")), 0);
        assert_eq!(counted_size(&Packet::Binary(vec![0; 100])), 133);
        assert_eq!(counted_size(&Packet::Binary(vec![0; 3])), 4);
    }
}
