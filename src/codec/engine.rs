//! Engine.IO v4 packets.
//!
//! Over WebSocket, every frame carries exactly one packet:
//!
//! | type | char | text frame example | meaning |
//! |---|---|---|---|
//! | open | `0` | `0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}` | handshake, server → client |
//! | close | `1` | `1` | close the session |
//! | ping | `2` | `2` (or `2probe` during an upgrade) | heartbeat, server → client in v4 |
//! | pong | `3` | `3` (or `3probe`) | heartbeat answer |
//! | message | `4` | `4hello` | a payload (a Socket.IO packet) |
//! | upgrade | `5` | `5` | transport upgrade |
//! | noop | `6` | `6` | nothing |
//!
//! Binary frames carry a raw binary `message` without any prefix (v4 over WebSocket).

use alloc::string::String;

use super::json;
use super::DecodeError;

/// The type of an Engine.IO packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// `0`: the server's handshake.
    Open,
    /// `1`: the session is closing.
    Close,
    /// `2`: heartbeat probe (the server pings in v4).
    Ping,
    /// `3`: heartbeat answer.
    Pong,
    /// `4`: a message; for Socket.IO, one encoded Socket.IO packet.
    Message,
    /// `5`: transport upgrade.
    Upgrade,
    /// `6`: no operation.
    Noop,
}

impl EngineKind {
    fn from_byte(b: u8) -> Option<EngineKind> {
        Some(match b {
            b'0' => EngineKind::Open,
            b'1' => EngineKind::Close,
            b'2' => EngineKind::Ping,
            b'3' => EngineKind::Pong,
            b'4' => EngineKind::Message,
            b'5' => EngineKind::Upgrade,
            b'6' => EngineKind::Noop,
            _ => return None,
        })
    }

    /// The wire digit: the variants are declared in wire order.
    fn to_byte(self) -> u8 {
        b'0' + self as u8
    }
}

/// One Engine.IO text packet, borrowing its data from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnginePacket<'a> {
    /// The packet type.
    pub kind: EngineKind,
    /// Everything after the type character (may be empty).
    pub data: &'a str,
}

impl<'a> EnginePacket<'a> {
    /// A packet of `kind` carrying `data`.
    pub fn new(kind: EngineKind, data: &'a str) -> Self {
        EnginePacket { kind, data }
    }

    /// Decodes one text frame.
    pub fn decode(frame: &'a str) -> Result<Self, DecodeError> {
        let first = *frame.as_bytes().first().ok_or(DecodeError::Empty)?;
        let kind = EngineKind::from_byte(first).ok_or(DecodeError::UnknownType)?;
        // The first byte is ASCII, so index 1 is a char boundary.
        let data = frame.get(1..).unwrap_or("");
        Ok(EnginePacket { kind, data })
    }

    /// Appends the encoded text frame to `out`.
    pub fn encode_into(&self, out: &mut String) {
        super::push_ascii(out, self.kind.to_byte());
        out.push_str(self.data);
    }

    /// Encodes the packet as a new text frame.
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(1 + self.data.len());
        self.encode_into(&mut s);
        s
    }
}

/// The server's handshake, the JSON body of the `open` packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The Engine.IO session id.
    pub sid: String,
    /// How often the server pings, in milliseconds.
    pub ping_interval: u64,
    /// How long the server waits for a pong, in milliseconds.
    pub ping_timeout: u64,
    /// The largest payload the server accepts, in bytes (used by HTTP long-polling).
    pub max_payload: u64,
    /// Whether the server offers an upgrade to WebSocket (`"websocket"` among `upgrades`).
    pub websocket: bool,
}

impl Handshake {
    /// Reads the handshake from the `open` packet's data.
    ///
    /// `sid`, `pingInterval` and `pingTimeout` are required; `maxPayload` defaults to 1,000,000
    /// (the Engine.IO default); `upgrades` may be left out (no upgrade).
    pub fn parse(data: &str) -> Result<Handshake, DecodeError> {
        Self::read(data)
    }

    /// Reads the handshake from its members, however the JSON object was parsed.
    pub fn read<O: json::Object + ?Sized>(o: &O) -> Result<Handshake, DecodeError> {
        let num = |key| o.number(key).ok_or(DecodeError::BadPayload);
        Ok(Handshake {
            sid: o
                .string("sid")
                .filter(|s| !s.is_empty())
                .ok_or(DecodeError::BadPayload)?,
            ping_interval: num("pingInterval")?,
            ping_timeout: num("pingTimeout")?,
            max_payload: o.number("maxPayload").unwrap_or(1_000_000),
            websocket: o.has("upgrades", "websocket"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Golden packets from the Engine.IO v4 protocol description.
    #[test]
    fn golden_packets() {
        let cases = [
            ("2", EngineKind::Ping, ""),
            ("3", EngineKind::Pong, ""),
            ("2probe", EngineKind::Ping, "probe"),
            ("3probe", EngineKind::Pong, "probe"),
            ("4hello", EngineKind::Message, "hello"),
            ("5", EngineKind::Upgrade, ""),
            ("6", EngineKind::Noop, ""),
            ("1", EngineKind::Close, ""),
        ];
        for (frame, kind, data) in cases {
            let p = EnginePacket::decode(frame).expect(frame);
            assert_eq!(p, EnginePacket::new(kind, data));
            assert_eq!(p.encode(), frame);
        }
    }

    #[test]
    fn handshake() {
        let frame = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
        let p = EnginePacket::decode(frame).unwrap();
        assert_eq!(p.kind, EngineKind::Open);
        let h = Handshake::parse(p.data).unwrap();
        assert_eq!(h.sid, "lv_VI97HAXpY6yYWAAAC");
        assert_eq!(h.ping_interval, 25000);
        assert_eq!(h.ping_timeout, 20000);
        assert_eq!(h.max_payload, 1_000_000);
        assert!(h.websocket);
        for (upgrades, websocket) in [
            ("[]", false),
            (r#"["webtransport"]"#, false),
            (r#"["webtransport","websocket"]"#, true),
            (r#""websocket""#, false),
            (r#"[1,"websocket"]"#, true),
        ] {
            let data =
                format!(r#"{{"sid":"s","pingInterval":1,"pingTimeout":1,"upgrades":{upgrades}}}"#);
            assert_eq!(
                Handshake::parse(&data).map(|h| h.websocket),
                Ok(websocket),
                "{data}"
            );
        }
        let h = Handshake::parse(r#"{"sid":"s","pingInterval":1,"pingTimeout":1}"#).unwrap();
        assert!(!h.websocket, "no upgrades");
    }

    #[test]
    fn bad_handshakes() {
        for data in [
            "",
            "{}",
            r#"{"sid":"a"}"#,
            r#"{"sid":"","pingInterval":1,"pingTimeout":1}"#,
            r#"{"sid":"a","pingInterval":-1,"pingTimeout":1}"#,
            r#"{"sid":"a","pingInterval":"x","pingTimeout":1}"#,
            r#"{"sid":"a","pingInterval":1.5,"pingTimeout":1}"#,
            r#"{"sid":1,"pingInterval":1,"pingTimeout":1}"#,
            r#"["sid"]"#,
        ] {
            assert!(Handshake::parse(data).is_err(), "{data}");
        }
    }

    #[test]
    fn bad_frames() {
        assert_eq!(EnginePacket::decode(""), Err(DecodeError::Empty));
        assert_eq!(EnginePacket::decode("7"), Err(DecodeError::UnknownType));
        assert_eq!(EnginePacket::decode("é"), Err(DecodeError::UnknownType));
    }
}
