//! Property tests of the plain-WebSocket envelope codec (`rtio::codec::envelope`), run natively
//! for a bounded number of cases (`RTIO_PROP_CASES` for more), from fixed seeds.
//!
//! The reference is serde_json: a frame is an envelope of some kind exactly when serde_json
//! reads it as one, with the same id, name and arguments; the codec never builds a tree, so
//! this checks its scanner against a real JSON parser on text made to hit its branches.
#![cfg(not(target_arch = "wasm32"))]

use rtio::codec::envelope::{self, Envelope};
use rtio::codec::json;
use serde_json::Value;

mod common;
use common::Rng;

fn cases() -> u64 {
    common::cases(100_000)
}

/// An envelope with its arguments read, for comparing.
#[derive(Debug, PartialEq)]
enum Read {
    Event(String, Vec<Value>),
    Request(u64, String, Vec<Value>),
    Ack(u64, Vec<Value>),
    MalformedAck(u64),
}

/// What the codec makes of `text`, with each argument read by serde_json, as the Rust door
/// reads them (an argument it cannot read makes the frame a raw message).
fn by_codec(text: &str) -> Option<Read> {
    let read = |args: &[&str]| -> Option<Vec<Value>> {
        args.iter().map(|a| serde_json::from_str(a).ok()).collect()
    };
    Some(match envelope::decode(text)? {
        Envelope::Event { name, args } => Read::Event(name, read(&args)?),
        Envelope::Request { id, name, args } => Read::Request(id, name, read(&args)?),
        Envelope::Ack { id, args } => Read::Ack(id, read(&args)?),
        Envelope::MalformedAck { id } => {
            // The whole frame must be valid JSON all the same.
            serde_json::from_str::<Value>(text).ok()?;
            Read::MalformedAck(id)
        }
    })
}

/// What serde_json makes of `text`, by the envelope's rules.
fn by_serde(text: &str) -> Option<Read> {
    // An integer by value, as JSON.parse reads it, up to 2^53 - 1.
    let id = |v: &Value| -> Option<u64> {
        let n = v.as_f64()?;
        (n.fract() == 0.0 && n >= 0.0 && n <= json::MAX_SAFE_INTEGER as f64).then_some(n as u64)
    };
    match serde_json::from_str::<Value>(text).ok()? {
        Value::Array(items) => match items.first()? {
            Value::String(name) => Some(Read::Event(name.clone(), items[1..].to_vec())),
            first => match (id(first), items.get(1)) {
                (Some(n), Some(Value::String(name))) => {
                    Some(Read::Request(n, name.clone(), items[2..].to_vec()))
                }
                _ => None,
            },
        },
        Value::Object(map) => {
            let n = map.get("ack").and_then(id)?;
            Some(match map.get("args") {
                Some(Value::Array(args)) => Read::Ack(n, args.clone()),
                _ => Read::MalformedAck(n),
            })
        }
        _ => None,
    }
}

/// Pieces of envelopes and of the ways JSON goes wrong (with the ids and names below).
const PIECES: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    " ",
    "\n",
    "\"ack\"",
    "\"args\"",
    "\"\\n\"",
    "\"é😀\"",
    "true",
    "false",
    "tru",
    "nul",
    "\"",
    "\\",
    "x",
];

/// A random piece, id or name.
fn atom(rng: &mut Rng) -> &'static str {
    match rng.below(3) {
        0 => rng.pick(IDS),
        1 => rng.pick(NAMES),
        _ => rng.pick(PIECES),
    }
}

const IDS: &[&str] = &[
    "0",
    "7",
    "-0",
    "-1",
    "1.5",
    "1e2",
    "7.0",
    "0.7e1",
    "01",
    "9007199254740991",
    "9007199254740992",
    "18446744073709551616",
    "\"7\"",
    "null",
];
const NAMES: &[&str] = &[
    "\"chat\"",
    "\"\"",
    "\"a\\\"b\"",
    "\"\\u00e9\"",
    "\"\\ud83d\\ude00\"",
    "\"\\ud800\"",
    "\"\\x\"",
    "\"\u{1}\"",
    "7",
    "null",
    "[]",
];

/// Optional whitespace.
fn ws(rng: &mut Rng) -> &'static str {
    ["", "", " ", "\n\t "][rng.below(4) as usize]
}

/// Text near an envelope: one of each shape, its pieces drawn from valid and invalid ones,
/// then, one time in three, broken at a random place by a random piece.
fn random_text(rng: &mut Rng) -> String {
    let args: Vec<String> = (0..rng.below(3))
        .map(|_| random_value(rng, 2).to_string())
        .collect();
    let mut list = String::new();
    for a in &args {
        list.push(',');
        list.push_str(ws(rng));
        list.push_str(a);
    }
    let (id, name) = (rng.pick(IDS), rng.pick(NAMES));
    let mut text = match rng.below(4) {
        0 => format!("{}[{}{name}{list}]{}", ws(rng), ws(rng), ws(rng)),
        1 => format!("[{id},{}{name}{list}]", ws(rng)),
        2 => {
            let body = list.strip_prefix(',').unwrap_or("");
            let mut members = vec![format!("\"ack\":{id}"), format!("\"args\":[{body}]")];
            match rng.below(4) {
                0 => members.push(format!("\"ack\":{}", rng.pick(IDS))),
                1 => members.push(format!("\"args\":{}", rng.pick(IDS))),
                2 => {
                    members.pop();
                }
                _ => {}
            }
            if rng.below(2) == 0 {
                members.reverse();
            }
            format!("{{{}{}}}", ws(rng), members.join(","))
        }
        _ => (0..rng.below(6)).map(|_| atom(rng)).collect(),
    };
    if rng.below(3) == 0 {
        let cut: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        let at = cut
            .get(rng.below(cut.len() as u64 + 1) as usize)
            .copied()
            .unwrap_or(text.len());
        let end = (at + rng.below(3) as usize).min(text.len());
        let end = (end..=text.len())
            .find(|e| text.is_char_boundary(*e))
            .unwrap_or(text.len());
        let piece = atom(rng);
        text.replace_range(at..end, piece);
    }
    text
}

/// A random JSON value (as serde_json writes it), nested up to `depth`.
fn random_value(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth == 0 { 4 } else { 6 }) {
        0 => Value::Null,
        1 => Value::from(rng.below(3) == 0),
        2 => Value::from(rng.next() as i64 >> rng.below(64)),
        3 => {
            let chars = ['a', 'é', '"', '\\', '\n', '\u{1}', '😀', '/'];
            Value::from(
                (0..rng.below(5))
                    .map(|_| chars[rng.below(chars.len() as u64) as usize])
                    .collect::<String>(),
            )
        }
        4 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(4))
                .map(|i| (format!("k{i}"), random_value(rng, depth - 1)))
                .collect(),
        ),
    }
}

#[test]
fn the_codec_reads_frames_as_a_json_parser_does() {
    let mut rng = Rng(0x005E_ED0E_17E1_0BE5);
    for _ in 0..cases() {
        let text = random_text(&mut rng);
        // serde_json refuses numbers beyond f64's range and lone surrogates (the `"\ud800"` of
        // NAMES), which JSON allows (`JSON.parse` reads them as Infinity and as a lone UTF-16
        // unit): no reference for those. Nor for numbers of more than 15 significant digits,
        // which the codec reads exactly where JSON.parse rounds (`json::safe_integer`).
        let long_number = text
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .any(|n| {
                let digits = n.trim_start_matches(['0', '.']).bytes();
                digits.filter(u8::is_ascii_digit).count() > 15
            });
        if long_number
            || text.contains("\\ud800")
            || serde_json::from_str::<Value>(&text)
                .is_err_and(|e| e.to_string().contains("number out of range"))
        {
            continue;
        }
        assert_eq!(by_codec(&text), by_serde(&text), "frame {text:?}");
    }
}

#[test]
fn every_envelope_round_trips() {
    let mut rng = Rng(0xE17E_10BE);
    for _ in 0..cases() / 10 {
        let args: Vec<Value> = (0..rng.below(4))
            .map(|_| random_value(&mut rng, 3))
            .collect();
        let texts: Vec<String> = args.iter().map(Value::to_string).collect();
        let raw: Vec<&str> = texts.iter().map(String::as_str).collect();
        let name = match random_value(&mut rng, 0) {
            Value::String(s) => s,
            other => other.to_string(),
        };
        // Ids up to 2^53 - 1, of every length.
        let id = rng.next() >> (11 + rng.below(53));
        let frames = [
            (
                envelope::event(&name, &raw),
                Read::Event(name.clone(), args.clone()),
            ),
            (
                envelope::request(id, &name, &raw),
                Read::Request(id, name.clone(), args.clone()),
            ),
            (envelope::ack(id, &raw), Read::Ack(id, args.clone())),
        ];
        for (text, want) in frames {
            assert_eq!(by_codec(&text).as_ref(), Some(&want), "frame {text}");
            assert_eq!(by_serde(&text).as_ref(), Some(&want), "frame {text}");
        }
        // Names are quoted as serde_json quotes them.
        let mut quoted = String::new();
        json::quote(&name, &mut quoted);
        assert_eq!(quoted, Value::from(name.as_str()).to_string());
    }
}

/// The shared cases (`tests/fixtures/envelopes.json`), which the npm door's reader is tested on
/// too (`tests/js/envelope.test.mjs`): both doors read every frame alike.
#[test]
fn the_cases_both_doors_are_tested_on() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/envelopes.json")).expect("the fixture");
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() >= 40);
    // Numbers compared by value (`-1.5e3` is -1500).
    fn norm(v: &Value) -> Value {
        match v {
            Value::Number(n) => serde_json::json!(n.as_f64()),
            Value::Array(a) => Value::Array(a.iter().map(norm).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), norm(v))).collect())
            }
            v => v.clone(),
        }
    }
    for case in cases {
        let frame = case["frame"].as_str().expect("frame");
        let read = by_codec(frame).map(|r| match r {
            Read::Event(name, args) => serde_json::json!({ "event": name, "args": args }),
            Read::Request(n, name, args) => {
                serde_json::json!({ "request": n, "event": name, "args": args })
            }
            Read::Ack(n, args) => serde_json::json!({ "ack": n, "args": args }),
            Read::MalformedAck(n) => serde_json::json!({ "malformedAck": n }),
        });
        let read = read.unwrap_or(Value::Null);
        assert_eq!(norm(&read), norm(&case["is"]), "{frame}");
        // serde_json, by the same rules, agrees.
        assert_eq!(by_serde(frame).is_some(), !case["is"].is_null(), "{frame}");
    }
}
