//! The plain-WebSocket mode's envelope (`MODES.md`): events and acks as JSON text frames.
//!
//! | frame | meaning |
//! |---|---|
//! | `["event", ...args]` | an event |
//! | `[n, "event", ...args]` | an event whose sender wants an ack; `n` a non-negative integer |
//! | `{"ack": n, "args": [...]}` | the ack of `n` |
//!
//! Every other frame (text that is not valid JSON or has none of these shapes) is not an
//! envelope: a raw message. Arguments stay JSON text, each handed to the front door's parser;
//! nothing here builds a tree. Everything is read as `JSON.parse` reads it, so that the npm
//! door, which reads envelopes with it, agrees on every frame (`tests/fixtures/envelopes.json`
//! holds the cases both doors are tested on): an object's repeated key counts by its last
//! value; `n` is an integer by value (`7.0` is 7) up to 2^53 − 1; an event's name must be a
//! well-formed string (no lone surrogate).

use alloc::string::String;
use alloc::vec::Vec;

use super::json;

/// A decoded envelope; the arguments are the raw JSON text of each, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope<'a> {
    /// `["event", ...args]`.
    Event {
        /// The event's name.
        name: String,
        /// Its arguments.
        args: Vec<&'a str>,
    },
    /// `[n, "event", ...args]`: the sender wants an ack for `id`.
    Request {
        /// The id to answer with [`ack`].
        id: u64,
        /// The event's name.
        name: String,
        /// Its arguments.
        args: Vec<&'a str>,
    },
    /// `{"ack": n, "args": [...]}`: the answer to request `id`.
    Ack {
        /// The request's id.
        id: u64,
        /// The answer's arguments.
        args: Vec<&'a str>,
    },
    /// `{"ack": n, ...}` whose `args` is missing or not an array: the answer to request `id`,
    /// malformed (a request waiting for it fails; otherwise it is a raw message).
    MalformedAck {
        /// The request's id.
        id: u64,
    },
}

/// Reads `text` as an envelope; `None` if it is none (a raw message).
pub fn decode(text: &str) -> Option<Envelope<'_>> {
    match text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .as_bytes()
        .first()?
    {
        b'[' => {
            let items = json::elements(text).ok()?;
            match items.first()?.as_bytes().first()? {
                b'"' => Some(Envelope::Event {
                    name: json::unescape(items[0])?,
                    args: items[1..].to_vec(),
                }),
                _ => {
                    let id = json::safe_integer(items[0])?;
                    let name = json::unescape(items.get(1)?)?;
                    Some(Envelope::Request {
                        id,
                        name,
                        args: items[2..].to_vec(),
                    })
                }
            }
        }
        b'{' => {
            let id = json::safe_integer(json::field(text, "ack").ok()??)?;
            // `field` has checked the whole object.
            match json::field(text, "args").ok()?.map(json::elements) {
                Some(Ok(args)) => Some(Envelope::Ack { id, args }),
                _ => Some(Envelope::MalformedAck { id }),
            }
        }
        _ => None,
    }
}

/// Appends `,` and each argument to `out`, then closes the array.
fn close(out: &mut String, args: &[&str]) {
    for a in args {
        out.push(',');
        out.push_str(a);
    }
    out.push(']');
}

/// `["event", ...args]`, each argument JSON text.
pub fn event(name: &str, args: &[&str]) -> String {
    let mut out = String::from("[");
    json::quote(name, &mut out);
    close(&mut out, args);
    out
}

/// `[id, "event", ...args]`: an event asking for an ack.
pub fn request(id: u64, name: &str, args: &[&str]) -> String {
    let mut out = alloc::format!("[{id},");
    json::quote(name, &mut out);
    close(&mut out, args);
    out
}

/// `{"ack": id, "args": [...]}`: the answer to request `id`.
pub fn ack(id: u64, args: &[&str]) -> String {
    let mut out = alloc::format!("{{\"ack\":{id},\"args\":[");
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(a);
    }
    out.push_str("]}");
    out
}

/// `["rtio:to", room, "event", ...args]`: the rooms convention's relay of an event to the other
/// members of `room`.
pub fn relay(room: &str, name: &str, args: &[&str]) -> String {
    let mut out = String::from("[\"rtio:to\",");
    json::quote(room, &mut out);
    out.push(',');
    json::quote(name, &mut out);
    close(&mut out, args);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn event_of<'a>(name: &str, args: &[&'a str]) -> Envelope<'a> {
        Envelope::Event {
            name: name.into(),
            args: args.to_vec(),
        }
    }

    #[test]
    fn golden_frames() {
        let cases: &[(&str, Option<Envelope<'_>>)] = &[
            (r#"["chat","hi"]"#, Some(event_of("chat", &[r#""hi""#]))),
            (r#"["ping"]"#, Some(event_of("ping", &[]))),
            (
                r#" [ "a\"b\u00e9\ud83d\ude00" , {"x":[1,2]} , null ] "#,
                Some(event_of("a\"bé😀", &[r#"{"x":[1,2]}"#, "null"])),
            ),
            (
                r#"[7,"add",1,2]"#,
                Some(Envelope::Request {
                    id: 7,
                    name: "add".into(),
                    args: vec!["1", "2"],
                }),
            ),
            (
                r#"{"ack":7,"args":[3]}"#,
                Some(Envelope::Ack {
                    id: 7,
                    args: vec!["3"],
                }),
            ),
            (
                r#"{"args":[],"ack":0}"#,
                Some(Envelope::Ack {
                    id: 0,
                    args: vec![],
                }),
            ),
            (r#"{"ack":7}"#, Some(Envelope::MalformedAck { id: 7 })),
            (
                r#"{"ack":7,"args":3}"#,
                Some(Envelope::MalformedAck { id: 7 }),
            ),
            // The last of a repeated key counts, as with JSON.parse.
            (
                r#"{"ack":1,"ack":2,"args":[]}"#,
                Some(Envelope::Ack {
                    id: 2,
                    args: vec![],
                }),
            ),
            // Not envelopes: raw messages.
            ("hello", None),
            ("", None),
            ("[]", None),
            ("[1]", None),
            ("[1,2]", None),
            ("[-1,\"a\"]", None),
            ("[1.5,\"a\"]", None),
            ("[null,\"a\"]", None),
            ("[\"a\",tru]", None),
            ("[\"a\",01]", None),
            ("[\"a\"] x", None),
            ("[\"a\",]", None),
            ("[\"\\x\"]", None),
            ("[\"\\ud800\"]", None),
            ("{\"ack\":-1,\"args\":[]}", None),
            ("{\"ack\":\"1\",\"args\":[]}", None),
            ("{\"args\":[]}", None),
            ("{\"ack\":1,\"args\":[],}", None),
            ("\"chat\"", None),
            ("42", None),
        ];
        for (text, want) in cases {
            assert_eq!(&decode(text), want, "{text}");
        }
    }

    #[test]
    fn encodes_what_it_decodes() {
        let name = "a \"quoted\"\n\u{1} é 😀 \\";
        let args = [r#"{"x":[1,"y"]}"#, "true", r#""s""#];
        assert_eq!(decode(&event(name, &args)), Some(event_of(name, &args)));
        assert_eq!(
            decode(&request(9, name, &args)),
            Some(Envelope::Request {
                id: 9,
                name: name.into(),
                args: args.to_vec()
            })
        );
        assert_eq!(
            decode(&ack(9, &args)),
            Some(Envelope::Ack {
                id: 9,
                args: args.to_vec()
            })
        );
        assert_eq!(ack(3, &[]), r#"{"ack":3,"args":[]}"#);
        assert_eq!(event("e", &[]), r#"["e"]"#);
        assert_eq!(
            decode(&relay("lobby", "cursor", &["1"])),
            Some(event_of("rtio:to", &[r#""lobby""#, r#""cursor""#, "1"]))
        );
    }

    #[test]
    fn deep_nesting_is_not_recursive() {
        let deep = alloc::format!("[\"e\",{}{}]", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(decode(&deep), Some(Envelope::Event { .. })));
    }
}
