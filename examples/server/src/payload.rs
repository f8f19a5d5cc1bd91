//! Event arguments as JSON values that keep their binary attachments.
//!
//! A BINARY_EVENT / BINARY_ACK carries its JSON with each binary value replaced
//! by a placeholder `{"_placeholder":true,"num":N}`, followed by the N-th
//! attachment in its own frame. `serde_json::Value` has no bytes variant (it
//! would echo a `Buffer` as an array of numbers), so [`Payload`] adds one.
//!
//! Socket.IO events carry a variable number of arguments. [`EventArgs`] holds
//! them all, in order:
//!
//! | wire text (event packet)                              | `EventArgs`                    |
//! |-------------------------------------------------------|--------------------------------|
//! | `["ev"]`                                              | `[]`                           |
//! | `["ev",1,"a"]`                                        | `[Uint(1), Str("a")]`          |
//! | `["ev",{"b":{"_placeholder":true,"num":0}}]` + 1 blob | `[Object([("b", Bin(blob))])]` |
//!
//! Incoming events are read by [`EventArgs`]'s own extractor, which parses the
//! packet text with plain `serde_json` and puts the attachments back by their
//! `num`. socketioxide's `Data<T>` goes through its own deserializer instead,
//! which (in 0.18.9) fails on object keys that contain a JSON escape (`"`, `\`,
//! control characters) and on an object whose first key is `_placeholder`
//! without being a placeholder; the handler is then silently skipped.
//!
//! Outgoing, [`EventArgs`] serializes as a tuple: socketioxide spreads a tuple
//! into separate arguments (a `Vec` would be sent as one array argument) and
//! turns every serde *bytes* value ([`Payload::Bin`]) into a placeholder plus
//! an attachment.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};
use socketioxide::adapter::Adapter;
use socketioxide::handler::{FromMessageParts, Value};
use socketioxide::socket::Socket;

/// Upper bound for capacities taken from a peer's size hint.
const MAX_PREALLOCATED: usize = 64;

/// One JSON value that may contain binary attachments anywhere inside it.
///
/// Objects keep their keys in wire order.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// JSON `null`.
    Null,
    /// JSON `true` / `false`.
    Bool(bool),
    /// A negative integer.
    Int(i64),
    /// A non-negative integer.
    Uint(u64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// A JSON string.
    Str(String),
    /// A binary attachment (`Buffer`, `ArrayBuffer`, typed array on the JS side).
    Bin(Vec<u8>),
    /// A JSON array.
    Array(Vec<Payload>),
    /// A JSON object.
    Object(Vec<(String, Payload)>),
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Payload::Null => serializer.serialize_unit(),
            Payload::Bool(b) => serializer.serialize_bool(*b),
            Payload::Int(n) => serializer.serialize_i64(*n),
            Payload::Uint(n) => serializer.serialize_u64(*n),
            Payload::Float(n) => serializer.serialize_f64(*n),
            Payload::Str(s) => serializer.serialize_str(s),
            Payload::Bin(b) => serializer.serialize_bytes(b),
            Payload::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Payload::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PayloadVisitor)
    }
}

struct PayloadVisitor;

impl<'de> Visitor<'de> for PayloadVisitor {
    type Value = Payload;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value or a binary attachment")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Payload, E> {
        Ok(Payload::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Payload, E> {
        Ok(Payload::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Payload, D::Error> {
        Payload::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Payload, E> {
        Ok(Payload::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Payload, E> {
        Ok(match u64::try_from(v) {
            Ok(n) => Payload::Uint(n),
            Err(_) => Payload::Int(v),
        })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Payload, E> {
        Ok(Payload::Uint(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Payload, E> {
        Ok(Payload::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Payload, E> {
        Ok(Payload::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Payload, E> {
        Ok(Payload::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Payload, E> {
        Ok(Payload::Bin(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Payload, E> {
        Ok(Payload::Bin(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Payload, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_PREALLOCATED));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Payload::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Payload, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(MAX_PREALLOCATED));
        while let Some(entry) = map.next_entry::<String, Payload>()? {
            entries.push(entry);
        }
        Ok(Payload::Object(entries))
    }
}

impl Payload {
    /// Replaces every placeholder object with the attachment it names.
    ///
    /// As in the JS socket.io-parser, an object is a placeholder when its
    /// `_placeholder` is `true`; its `num` must then index an attachment.
    fn resolve_placeholders(self, attachments: &[&[u8]]) -> Result<Payload, ArgsError> {
        match self {
            Payload::Array(items) => items
                .into_iter()
                .map(|item| item.resolve_placeholders(attachments))
                .collect::<Result<_, _>>()
                .map(Payload::Array),
            Payload::Object(entries) => {
                let field = |name: &str| entries.iter().find(|(key, _)| key == name).map(|e| &e.1);
                if field("_placeholder") == Some(&Payload::Bool(true)) {
                    return match field("num") {
                        Some(Payload::Uint(num)) => usize::try_from(*num)
                            .ok()
                            .and_then(|num| attachments.get(num))
                            .map(|bytes| Payload::Bin(bytes.to_vec()))
                            .ok_or(ArgsError::IllegalAttachment),
                        _ => Err(ArgsError::IllegalAttachment),
                    };
                }
                entries
                    .into_iter()
                    .map(|(key, value)| Ok((key, value.resolve_placeholders(attachments)?)))
                    .collect::<Result<_, _>>()
                    .map(Payload::Object)
            }
            scalar => Ok(scalar),
        }
    }
}

/// All the arguments of one event or acknowledgement, in order.
///
/// As a message-handler extractor it receives every argument after the event
/// name; given to `emit` or `AckSender::send` it is spread back into separate
/// arguments. Its `Deserialize` impl (tuple of any length) serves the ack
/// replies of `emit_with_ack`, which socketioxide always decodes itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventArgs(pub Vec<Payload>);

impl EventArgs {
    /// Reads `["event", ...args]` plus its attachments, dropping the event name.
    pub fn from_packet(text: &str, attachments: &[&[u8]]) -> Result<EventArgs, ArgsError> {
        let Payload::Array(items) = serde_json::from_str(text).map_err(ArgsError::Json)? else {
            return Err(ArgsError::NotAnArray);
        };
        items
            .into_iter()
            .skip(1)
            .map(|item| item.resolve_placeholders(attachments))
            .collect::<Result<_, _>>()
            .map(EventArgs)
    }

    /// Splits `[event, ...rest]` into the event name and the remaining arguments.
    ///
    /// Returns `None` when the first argument is missing or is not a string.
    pub fn into_event_and_rest(self) -> Option<(String, EventArgs)> {
        let mut args = self.0.into_iter();
        match args.next() {
            Some(Payload::Str(event)) => Some((event, EventArgs(args.collect()))),
            _ => None,
        }
    }
}

/// Why the arguments of an incoming event could not be read. Not fatal for the
/// connection: socketioxide just skips the handler, so a requested ack never comes.
#[derive(Debug)]
pub enum ArgsError {
    /// A binary packet where text was expected (only the default parser is used).
    NotText,
    /// The packet text is not JSON.
    Json(serde_json::Error),
    /// The packet text is JSON but not an array.
    NotAnArray,
    /// A placeholder whose `num` does not name one of the attachments.
    IllegalAttachment,
}

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgsError::NotText => f.write_str("expected a text packet"),
            ArgsError::Json(e) => write!(f, "invalid JSON in packet: {e}"),
            ArgsError::NotAnArray => f.write_str("packet data is not an array"),
            ArgsError::IllegalAttachment => {
                f.write_str("placeholder without a matching attachment")
            }
        }
    }
}

impl Error for ArgsError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ArgsError::Json(e) => Some(e),
            _ => None,
        }
    }
}

impl<A: Adapter> FromMessageParts<A> for EventArgs {
    type Error = ArgsError;

    fn from_message_parts(
        _: &Arc<Socket<A>>,
        value: &mut Value,
        _: &Option<i64>,
    ) -> Result<Self, ArgsError> {
        let Value::Str(text, attachments) = value else {
            return Err(ArgsError::NotText);
        };
        let attachments: Vec<&[u8]> = attachments
            .iter()
            .flatten()
            .map(|bytes| bytes.as_ref())
            .collect();
        EventArgs::from_packet(text, &attachments)
    }
}

impl Serialize for EventArgs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for arg in &self.0 {
            tuple.serialize_element(arg)?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for EventArgs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The length is only a hint for self-describing formats such as JSON;
        // asking for a tuple is what makes socketioxide hand over every argument.
        deserializer.deserialize_tuple(usize::MAX, EventArgsVisitor)
    }
}

struct EventArgsVisitor;

impl<'de> Visitor<'de> for EventArgsVisitor {
    type Value = EventArgs;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of event arguments")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<EventArgs, A::Error> {
        match PayloadVisitor.visit_seq(seq)? {
            Payload::Array(items) => Ok(EventArgs(items)),
            _ => Err(de::Error::custom("expected a list of event arguments")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_types_and_key_order() {
        let text = r#"[null,true,-3,7,1.5,"s",[1,{"z":1,"a":2}],{"k":"v"}]"#;
        let args: EventArgs = serde_json::from_str(text).expect("valid JSON");
        assert_eq!(args.0.len(), 8);
        assert_eq!(args.0[2], Payload::Int(-3));
        assert_eq!(args.0[3], Payload::Uint(7));
        assert_eq!(serde_json::to_string(&args).expect("serializable"), text);
    }

    #[test]
    fn empty_args() {
        let args: EventArgs = serde_json::from_str("[]").expect("valid JSON");
        assert_eq!(args, EventArgs::default());
        assert_eq!(serde_json::to_string(&args).expect("serializable"), "[]");
    }

    #[test]
    fn packets_with_attachments_and_escaped_keys() {
        let text = r#"["ev",{"q\"k":{"_placeholder":true,"num":1}},[{"_placeholder":true,"num":0}],{"_placeholder":false}]"#;
        let args = EventArgs::from_packet(text, &[b"zero", b"one"]).expect("valid packet");
        assert_eq!(
            args.0,
            vec![
                Payload::Object(vec![("q\"k".into(), Payload::Bin(b"one".to_vec()))]),
                Payload::Array(vec![Payload::Bin(b"zero".to_vec())]),
                Payload::Object(vec![("_placeholder".into(), Payload::Bool(false))]),
            ]
        );
        assert_eq!(
            EventArgs::from_packet(r#"["ev"]"#, &[]).expect("valid packet"),
            EventArgs::default()
        );
    }

    #[test]
    fn bad_packets() {
        let bad_num = r#"["ev",{"_placeholder":true,"num":1}]"#;
        assert!(matches!(
            EventArgs::from_packet(bad_num, &[b"only"]),
            Err(ArgsError::IllegalAttachment)
        ));
        let no_num = r#"["ev",{"_placeholder":true}]"#;
        assert!(matches!(
            EventArgs::from_packet(no_num, &[b"only"]),
            Err(ArgsError::IllegalAttachment)
        ));
        assert!(matches!(
            EventArgs::from_packet("{}", &[]),
            Err(ArgsError::NotAnArray)
        ));
        assert!(matches!(
            EventArgs::from_packet("[", &[]),
            Err(ArgsError::Json(_))
        ));
    }

    #[test]
    fn event_name_is_split_off() {
        let args: EventArgs = serde_json::from_str(r#"["ev",1,2]"#).expect("valid JSON");
        let (event, rest) = args.into_event_and_rest().expect("has an event name");
        assert_eq!(event, "ev");
        assert_eq!(rest.0, vec![Payload::Uint(1), Payload::Uint(2)]);

        let args: EventArgs = serde_json::from_str("[1]").expect("valid JSON");
        assert!(args.into_event_and_rest().is_none());
        assert!(EventArgs::default().into_event_and_rest().is_none());
    }
}
