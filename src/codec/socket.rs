//! Socket.IO v5 packets, carried in Engine.IO `message` packets.
//!
//! Text form: `<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]`
//!
//! | type | name | example |
//! |---|---|---|
//! | `0` | CONNECT | `0` · `0/admin,{"token":"123"}` · reply `0{"sid":"oSO0OpakMV_3jnilAAAA"}` |
//! | `1` | DISCONNECT | `1` · `1/admin,` |
//! | `2` | EVENT | `2["hello",1]` · `2/admin,456["project:delete",123]` |
//! | `3` | ACK | `3/admin,456[]` |
//! | `4` | CONNECT_ERROR | `4{"message":"Not authorized"}` |
//! | `5` | BINARY_EVENT | `51-["hello",{"_placeholder":true,"num":0}]` then one binary frame |
//! | `6` | BINARY_ACK | `61-/admin,456[{"_placeholder":true,"num":0}]` then one binary frame |
//!
//! The namespace is omitted for `/`. Binary attachments follow their packet as separate binary
//! Engine.IO frames, in placeholder order. The data is kept as JSON text: the codec checks its
//! outer shape (array for events and acks, object for connect) and leaves the rest to the front
//! door's JSON parser.

use alloc::string::String;

use super::{first_non_ws, push_ascii, push_u64, read_u64, DecodeError};

/// The largest ack id accepted: JavaScript's `Number.MAX_SAFE_INTEGER`, since JS peers count in
/// doubles.
pub const MAX_ACK_ID: u64 = (1 << 53) - 1;
/// The largest attachment count accepted in one packet.
pub const MAX_ATTACHMENTS: u64 = 10_000;

/// The type of a Socket.IO packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    /// `0`: connect to a namespace (client) / connected (server, with `{"sid"}`).
    Connect,
    /// `1`: leave a namespace.
    Disconnect,
    /// `2`: an event `[name, ...args]`.
    Event,
    /// `3`: an acknowledgement `[...args]`.
    Ack,
    /// `4`: the namespace refused the connection.
    ConnectError,
    /// `5`: an event with binary attachments.
    BinaryEvent,
    /// `6`: an acknowledgement with binary attachments.
    BinaryAck,
}

impl SocketKind {
    fn from_byte(b: u8) -> Option<SocketKind> {
        Some(match b {
            b'0' => SocketKind::Connect,
            b'1' => SocketKind::Disconnect,
            b'2' => SocketKind::Event,
            b'3' => SocketKind::Ack,
            b'4' => SocketKind::ConnectError,
            b'5' => SocketKind::BinaryEvent,
            b'6' => SocketKind::BinaryAck,
            _ => return None,
        })
    }

    /// The wire digit: the variants are declared in wire order.
    fn to_byte(self) -> u8 {
        b'0' + self as u8
    }

    /// Whether packets of this type carry an attachment count.
    pub fn is_binary(self) -> bool {
        matches!(self, SocketKind::BinaryEvent | SocketKind::BinaryAck)
    }
}

/// One Socket.IO packet, borrowing namespace and data from the frame it was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketPacket<'a> {
    /// The packet type.
    pub kind: SocketKind,
    /// The number of binary attachments that follow (binary types only; 0 otherwise).
    pub attachments: u32,
    /// The namespace, `/` by default.
    pub nsp: &'a str,
    /// The ack id, if the sender wants an acknowledgement (events) or answers one (acks).
    pub id: Option<u64>,
    /// The JSON data, as text (empty when absent).
    pub data: &'a str,
}

impl<'a> SocketPacket<'a> {
    /// Decodes a Socket.IO packet from the data of an Engine.IO `message`.
    pub fn decode(text: &'a str) -> Result<Self, DecodeError> {
        let b = text.as_bytes();
        let kind = SocketKind::from_byte(*b.first().ok_or(DecodeError::Empty)?)
            .ok_or(DecodeError::UnknownType)?;
        let mut i = 1;
        let mut attachments = 0;
        if kind.is_binary() {
            let (n, len) = read_u64(b.get(i..).unwrap_or(&[]), MAX_ATTACHMENTS)
                .filter(|&(n, _)| n > 0)
                .ok_or(DecodeError::BadAttachments)?;
            i += len;
            if b.get(i) != Some(&b'-') {
                return Err(DecodeError::BadAttachments);
            }
            i += 1;
            attachments = n as u32;
        }
        let mut nsp = "/";
        if b.get(i) == Some(&b'/') {
            let rest = b.get(i..).unwrap_or(&[]);
            let end = rest.iter().position(|&c| c == b',').unwrap_or(rest.len());
            nsp = text.get(i..i + end).ok_or(DecodeError::BadPayload)?;
            i += end;
            if b.get(i) == Some(&b',') {
                i += 1;
            }
        }
        let mut id = None;
        if matches!(b.get(i), Some(b'0'..=b'9')) {
            let (n, len) =
                read_u64(b.get(i..).unwrap_or(&[]), MAX_ACK_ID).ok_or(DecodeError::BadAckId)?;
            id = Some(n);
            i += len;
        }
        let data = text.get(i..).ok_or(DecodeError::BadPayload)?;
        let packet = SocketPacket {
            kind,
            attachments,
            nsp,
            id,
            data,
        };
        packet.check_shape()?;
        Ok(packet)
    }

    /// Checks the outer shape of the data against the packet type, as socket.io-parser does.
    fn check_shape(&self) -> Result<(), DecodeError> {
        let first = first_non_ws(self.data);
        let ok = match self.kind {
            SocketKind::Connect => first.is_none() || first == Some(b'{'),
            SocketKind::Disconnect => first.is_none(),
            SocketKind::Event | SocketKind::BinaryEvent => first == Some(b'['),
            // Any data: an answer of the wrong shape still settles its ack (as malformed),
            // rather than costing the connection.
            SocketKind::Ack | SocketKind::BinaryAck => first.is_some() && self.id.is_some(),
            SocketKind::ConnectError => matches!(first, Some(b'{' | b'"')),
        };
        if ok {
            Ok(())
        } else {
            Err(DecodeError::BadPayload)
        }
    }

    /// Appends the encoded packet to `out`.
    pub fn encode_into(&self, out: &mut String) {
        push_ascii(out, self.kind.to_byte());
        if self.kind.is_binary() {
            push_u64(out, u64::from(self.attachments));
            push_ascii(out, b'-');
        }
        if self.nsp != "/" && !self.nsp.is_empty() {
            out.push_str(self.nsp);
            push_ascii(out, b',');
        }
        if let Some(id) = self.id {
            push_u64(out, id);
        }
        out.push_str(self.data);
    }

    /// Encodes the packet as the data of an Engine.IO `message`.
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(16 + self.nsp.len() + self.data.len());
        self.encode_into(&mut s);
        s
    }
}

/// The header of an outgoing Engine.IO `message` that carries a Socket.IO packet (`4`, the
/// packet type, the attachment count and `-`, the namespace and `,`, the ack id: what
/// [`SocketPacket::encode_into`] writes before the data) cut before its ack id, and the id.
/// The rest of the header is the same for every packet of a namespace and type.
pub fn split_ack_id(header: &str) -> (&str, Option<u64>) {
    let b = header.as_bytes();
    let digits = |i: usize| {
        b.get(i..)
            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
    };
    let mut i = 2;
    if b.get(i + digits(i)) == Some(&b'-') {
        i += digits(i) + 1;
    }
    if b.get(i) == Some(&b'/') {
        i = b[i..]
            .iter()
            .position(|&c| c == b',')
            .map_or(b.len(), |p| i + p + 1);
    }
    match (
        header.get(..i),
        read_u64(b.get(i..).unwrap_or(&[]), MAX_ACK_ID),
    ) {
        (Some(head), Some((id, len))) if i + len == b.len() => (head, Some(id)),
        _ => (header, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_ack_id_cuts_the_header_before_the_id() {
        assert_eq!(split_ack_id("42"), ("42", None));
        assert_eq!(split_ack_id("4217"), ("42", Some(17)));
        assert_eq!(split_ack_id("430"), ("43", Some(0)));
        assert_eq!(split_ack_id("42/chat,"), ("42/chat,", None));
        assert_eq!(split_ack_id("42/chat,9"), ("42/chat,", Some(9)));
        assert_eq!(split_ack_id("452-"), ("452-", None));
        assert_eq!(split_ack_id("452-33"), ("452-", Some(33)));
        assert_eq!(split_ack_id("461-/a/b,7"), ("461-/a/b,", Some(7)));
        assert_eq!(split_ack_id("40"), ("40", None));
        assert_eq!(split_ack_id("40/admin,"), ("40/admin,", None));
        assert_eq!(split_ack_id("3"), ("3", None));
        assert_eq!(split_ack_id(""), ("", None));
        // Whatever is not a header with an id is left whole.
        assert_eq!(split_ack_id("42/ns"), ("42/ns", None));
        assert_eq!(
            split_ack_id("4299999999999999999999"),
            ("4299999999999999999999", None)
        );
        // The same header is made again from its parts.
        for id in [0, 1, 10, 123_456, MAX_ACK_ID] {
            let mut out = String::from("4");
            SocketPacket {
                kind: SocketKind::Event,
                attachments: 0,
                nsp: "/x",
                id: Some(id),
                data: "",
            }
            .encode_into(&mut out);
            assert_eq!(split_ack_id(&out), ("42/x,", Some(id)));
        }
    }

    fn p<'a>(
        kind: SocketKind,
        attachments: u32,
        nsp: &'a str,
        id: Option<u64>,
        data: &'a str,
    ) -> SocketPacket<'a> {
        SocketPacket {
            kind,
            attachments,
            nsp,
            id,
            data,
        }
    }

    // Golden packets from the Socket.IO v5 protocol description.
    #[test]
    fn golden_packets() {
        use SocketKind::*;
        let cases = [
            ("0", p(Connect, 0, "/", None, "")),
            ("0/admin,", p(Connect, 0, "/admin", None, "")),
            (
                r#"0/admin,{"token":"123"}"#,
                p(Connect, 0, "/admin", None, r#"{"token":"123"}"#),
            ),
            (
                r#"0{"sid":"oSO0OpakMV_3jnilAAAA"}"#,
                p(Connect, 0, "/", None, r#"{"sid":"oSO0OpakMV_3jnilAAAA"}"#),
            ),
            (
                r#"4{"message":"Not authorized"}"#,
                p(
                    ConnectError,
                    0,
                    "/",
                    None,
                    r#"{"message":"Not authorized"}"#,
                ),
            ),
            ("1/admin,", p(Disconnect, 0, "/admin", None, "")),
            ("1", p(Disconnect, 0, "/", None, "")),
            (r#"2["hello",1]"#, p(Event, 0, "/", None, r#"["hello",1]"#)),
            (
                r#"2/admin,456["project:delete",123]"#,
                p(Event, 0, "/admin", Some(456), r#"["project:delete",123]"#),
            ),
            ("3/admin,456[]", p(Ack, 0, "/admin", Some(456), "[]")),
            (
                r#"51-["hello",{"_placeholder":true,"num":0}]"#,
                p(
                    BinaryEvent,
                    1,
                    "/",
                    None,
                    r#"["hello",{"_placeholder":true,"num":0}]"#,
                ),
            ),
            (
                r#"61-/admin,456[{"_placeholder":true,"num":0}]"#,
                p(
                    BinaryAck,
                    1,
                    "/admin",
                    Some(456),
                    r#"[{"_placeholder":true,"num":0}]"#,
                ),
            ),
            (r#"212["a"]"#, p(Event, 0, "/", Some(12), r#"["a"]"#)),
        ];
        for (text, want) in cases {
            let got = SocketPacket::decode(text).expect(text);
            assert_eq!(got, want, "{text}");
            assert_eq!(got.encode(), text);
        }
    }

    #[test]
    fn rejects_malformed() {
        for text in [
            "",
            "7",
            "x",
            "5[\"a\"]",
            "5x-[\"a\"]",
            "599999999-[\"a\"]",
            "2",
            "2{}",
            "2\"a\"",
            "3[]",
            "0[]",
            "1x",
            "4",
            "29999999999999999999[\"a\"]",
            "2/nsp,",
            // A binary packet announces at least one attachment.
            "50-[\"a\",{\"_placeholder\":true,\"num\":0}]",
            "60-1[]",
        ] {
            assert!(SocketPacket::decode(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn an_ack_of_any_shape_is_read_so_that_it_can_settle() {
        // The front door settles the pending ack as malformed; the connection stays up.
        for text in ["31{\"a\":1}", "31\"x\"", "31[not json"] {
            let p = SocketPacket::decode(text).unwrap();
            assert_eq!((p.kind, p.id), (SocketKind::Ack, Some(1)), "{text}");
        }
        assert!(SocketPacket::decode("31").is_err(), "an ack carries data");
    }

    #[test]
    fn namespace_without_comma_is_whole_rest() {
        let got = SocketPacket::decode("1/chat").unwrap();
        assert_eq!(got.nsp, "/chat");
        assert_eq!(got.encode(), "1/chat,");
    }
}
