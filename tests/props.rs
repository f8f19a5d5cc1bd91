//! Property tests for the codec and the session, run natively for a bounded number of cases
//! (set `RTIO_PROP_CASES` to run more). Deterministic: a fixed-seed generator, so a failure
//! reproduces.
#![cfg(not(target_arch = "wasm32"))]

use rtio::codec::engine::{EngineKind, EnginePacket, Handshake};
use rtio::codec::json::{self, Object as _};
use rtio::codec::socket::{SocketKind, SocketPacket};
use rtio::session::{Frame, Session, SessionConfig, TransportClosed};

mod common;
use common::Rng;

fn cases() -> u64 {
    common::cases(100_000)
}

/// Pieces that make decoders take their interesting branches.
const ATOMS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "9",
    "-",
    "/",
    ",",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "\\",
    ":",
    "1-",
    "12",
    "/admin,",
    "/a",
    "[\"ev\"]",
    "{\"sid\":\"x\"}",
    "{\"_placeholder\":true,\"num\":0}",
    "99999999999999999999",
    "é",
    "😀",
    "\u{0}",
    " ",
    "null",
    "true",
    "\\u",
    "\\ud800",
    "e",
    ".",
    r#"{"sid":"a","pingInterval":1,"pingTimeout":1}"#,
];

fn random_text(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(8) {
        if rng.below(4) == 0 {
            // Arbitrary code points, including surrogates' neighbours and controls.
            let c = char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{fffd}');
            s.push(c);
        } else {
            s.push_str(rng.pick(ATOMS));
        }
    }
    s
}

#[test]
fn decoders_never_panic_on_arbitrary_text() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..cases() {
        let s = random_text(&mut rng);
        let _ = EnginePacket::decode(&s);
        let _ = SocketPacket::decode(&s);
        let _ = json::field(&s, "sid");
        let _ = json::string(&s);
        let _ = Handshake::parse(&s);
    }
}

#[test]
fn decoders_never_panic_on_arbitrary_bytes() {
    let mut rng = Rng(42);
    for _ in 0..cases() {
        let len = rng.below(24) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let s = String::from_utf8_lossy(&bytes);
        let _ = EnginePacket::decode(&s);
        let _ = SocketPacket::decode(&s);
        let _ = json::field(&s, "a");
        let _ = json::string(&s);
    }
}

#[test]
fn socket_packets_round_trip() {
    let mut rng = Rng(7);
    let kinds = [
        SocketKind::Connect,
        SocketKind::Disconnect,
        SocketKind::Event,
        SocketKind::Ack,
        SocketKind::ConnectError,
        SocketKind::BinaryEvent,
        SocketKind::BinaryAck,
    ];
    let namespaces = ["/", "/admin", "/a/b", "/ünï"];
    let arrays = [
        "[\"ev\"]",
        "[\"ev\",1,{\"a\":[2]}]",
        "[]",
        "[\"日本\",\"😀\"]",
    ];
    for _ in 0..cases() {
        let kind = kinds[rng.below(kinds.len() as u64) as usize];
        let nsp = namespaces[rng.below(namespaces.len() as u64) as usize];
        let id = match kind {
            SocketKind::Ack | SocketKind::BinaryAck => Some(rng.below(1 << 53)),
            SocketKind::Event | SocketKind::BinaryEvent if rng.below(2) == 0 => {
                Some(rng.below(1 << 53))
            }
            _ => None,
        };
        let data = match kind {
            SocketKind::Connect => ["", "{\"token\":\"t\"}"][rng.below(2) as usize],
            SocketKind::Disconnect => "",
            SocketKind::ConnectError => "{\"message\":\"no\"}",
            _ => arrays[rng.below(arrays.len() as u64) as usize],
        };
        // A binary packet has at least one attachment (a count of 0 is refused, as
        // socket.io-parser refuses it).
        let attachments = if kind.is_binary() {
            1 + rng.below(4) as u32
        } else {
            0
        };
        let p = SocketPacket {
            kind,
            attachments,
            nsp,
            id,
            data,
        };
        let text = p.encode();
        assert_eq!(SocketPacket::decode(&text), Ok(p), "{text}");
    }
}

#[test]
fn engine_packets_round_trip() {
    let mut rng = Rng(11);
    let kinds = [
        EngineKind::Open,
        EngineKind::Close,
        EngineKind::Ping,
        EngineKind::Pong,
        EngineKind::Message,
        EngineKind::Upgrade,
        EngineKind::Noop,
    ];
    for _ in 0..cases() / 10 {
        let kind = kinds[rng.below(kinds.len() as u64) as usize];
        let data = random_text(&mut rng);
        let p = EnginePacket::new(kind, &data);
        let text = p.encode();
        assert_eq!(EnginePacket::decode(&text), Ok(p));
    }
}

/// A hostile or broken server: arbitrary frames, binary frames, closes and clock jumps in any
/// order. The session must never panic and must keep its outputs consistent.
#[test]
fn session_survives_arbitrary_input() {
    let mut rng = Rng(0xDEAD_BEEF);
    let open = r#"0{"sid":"e","upgrades":[],"pingInterval":100,"pingTimeout":50,"maxPayload":10}"#;
    let frames = [
        open,
        "2",
        "3",
        "40{\"sid\":\"a\"}",
        "40/second,{\"sid\":\"b\"}",
        "41",
        "44{\"message\":\"no\"}",
        "42[\"ev\",1]",
        "4212[\"ev\"]",
        "430[1]",
        "431[2]",
        "451-[\"b\",{\"_placeholder\":true,\"num\":0}]",
        "461-0[{\"_placeholder\":true,\"num\":0}]",
        "1",
        "6",
    ];
    for _ in 0..cases() / 20 {
        let mut s: Session<Vec<Vec<u8>>> = Session::new(SessionConfig::default());
        let mut now = 0u64;
        for _ in 0..40 {
            now += rng.below(80);
            match rng.below(12) {
                0 => s.connect(["/", "/second"][rng.below(2) as usize], None, now),
                1 => s.disconnect(["/", "/second"][rng.below(2) as usize], now),
                2 => {
                    let _ = s.emit(
                        "/",
                        "[\"x\"]".into(),
                        vec![],
                        Some(Some(rng.below(200))),
                        now,
                    );
                }
                3 => s.handle_transport_open(now),
                4 => s.handle_binary(now, vec![1]),
                5 => s.handle_transport_close(now, TransportClosed::Closed),
                6 => s.handle_timeout(now),
                7 => s.ack("/", rng.below(20), "[1]".into(), vec![]),
                8 => {
                    s.handle_text(now, &random_text(&mut rng));
                }
                9 => s.close(now),
                _ => {
                    s.handle_text(now, frames[rng.below(frames.len() as u64) as usize]);
                }
            }
            while s.poll_output().is_some() {}
            // A connected namespace implies an open link; a closed link sets no heartbeat.
            if s.is_connected("/") || s.is_connected("/second") {
                assert!(s.is_open());
            }
            if !s.is_open() && s.pending_acks() == 0 {
                if let Some(t) = s.poll_timeout() {
                    // Only a handshake deadline may remain, within the connect timeout.
                    assert!(t <= now + SessionConfig::default().connect_timeout);
                }
            }
        }
    }
}

/// The start of a frame, cut at any byte as the npm build cuts long frames (a character split
/// by the cut arrives as U+FFFD, as a split UTF-16 pair does); the payload comes from the whole.
///
/// Like the npm build's frame, it can be cut only once, and its JSON members cannot be read
/// after the cut.
struct Start<'a> {
    whole: &'a str,
    start: String,
    cut: std::cell::Cell<bool>,
}

impl<'a> Start<'a> {
    fn new(whole: &'a str, cut: usize) -> Self {
        let mut end = cut.min(whole.len());
        while !whole.is_char_boundary(end) {
            end -= 1;
        }
        let mut start = whole[..end].to_string();
        if end < cut.min(whole.len()) {
            start.push('\u{fffd}');
        }
        Start {
            whole,
            start,
            cut: std::cell::Cell::new(false),
        }
    }
}

impl Frame for Start<'_> {
    type Payload = String;
    fn text(&self) -> &str {
        &self.start
    }
    fn is_whole(&self) -> bool {
        self.start == self.whole
    }
    fn cut(&self, at: usize) -> String {
        assert!(!self.cut.replace(true), "a frame is cut once");
        self.whole[at..].to_string()
    }
    fn string(&self, at: usize, key: &str) -> Option<String> {
        assert!(!self.cut.get(), "members are read before the cut");
        self.whole.get(at..)?.string(key)
    }
    fn number(&self, at: usize, key: &str) -> Option<u64> {
        assert!(!self.cut.get(), "members are read before the cut");
        self.whole.get(at..)?.number(key)
    }
}

/// A frame a server might send: mostly well-formed packets with namespaces, ack ids and
/// attachments, sometimes garbage.
fn server_frame(rng: &mut Rng) -> String {
    let nsp = [
        "",
        "/second,",
        "/sécond,",
        "/a-long-namespace-name-of-many-characters-indeed,",
    ];
    match rng.below(6) {
        0 => random_text(rng),
        1 => "2".into(),
        2 => format!("40{}{{\"sid\":\"s{}\"}}", rng.pick(&nsp), rng.below(9)),
        3 => format!("43{}{}[{}]", rng.pick(&nsp), rng.below(4), random_text(rng)),
        4 => format!(
            "451-{}{}[\"b\",{{\"_placeholder\":true,\"num\":0}}]",
            rng.pick(&nsp),
            rng.below(3)
        ),
        _ => format!(
            "42{}{}[\"ev\",{}]",
            rng.pick(&nsp),
            if rng.below(2) == 0 {
                String::new()
            } else {
                rng.below(1_000_000).to_string()
            },
            random_text(rng)
        ),
    }
}

#[test]
fn the_start_of_a_frame_decides_as_the_whole_frame_would() {
    let mut rng = Rng(0x5eed_0005);
    const OPEN: &str =
        r#"0{"sid":"e","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000}"#;
    for _ in 0..cases() / 20 {
        let mut whole: Session<Vec<Vec<u8>>> = Session::new(SessionConfig::default());
        let mut cut: Session<Vec<Vec<u8>>> = Session::new(SessionConfig::default());
        for s in [&mut whole, &mut cut] {
            for n in [
                "/",
                "/second",
                "/sécond",
                "/a-long-namespace-name-of-many-characters-indeed",
            ] {
                s.connect(n, None, 0);
            }
            s.handle_transport_open(0);
            s.handle_text(0, OPEN);
            let _ = s.emit("/", "[\"q\"]".into(), vec![], Some(None), 0);
        }
        for step in 0..30u64 {
            let frame = server_frame(&mut rng);
            let at = rng.below(frame.len() as u64 + 2) as usize;
            assert!(whole.handle_text(step, &frame));
            if !cut.handle_text(step, Start::new(&frame, at)) {
                assert!(cut.handle_text(step, Start::new(&frame, frame.len())));
            }
            if rng.below(8) == 0 {
                whole.handle_binary(step, vec![7]);
                cut.handle_binary(step, vec![7]);
            }
            let drain = |s: &mut Session<Vec<Vec<u8>>>| {
                std::iter::from_fn(|| s.poll_output()).collect::<Vec<_>>()
            };
            assert_eq!(
                drain(&mut whole),
                drain(&mut cut),
                "frame {frame:?} cut at {at}"
            );
        }
    }
}

/// Long-polling payloads: any sequence of text packets (any character but the separator) and
/// binary messages (any bytes) reads back as written; any text reads without a panic, each
/// packet either read or an error.
#[test]
fn polling_payloads_round_trip() {
    use rtio::codec::polling::{self, Packet};
    let mut rng = Rng(0x0B0E_5EED_9A71_0AD5);
    const TEXTS: &[&str] = &["4", "2", "6", "42[\"a\",1]", "é", "😀", "\n", "b", "=", " "];
    for _ in 0..cases() / 10 {
        let mut written = Vec::new();
        let mut payload = String::new();
        for _ in 0..1 + rng.below(5) {
            if rng.below(3) == 0 {
                let bytes: Vec<u8> = (0..rng.below(8)).map(|_| rng.next() as u8).collect();
                polling::push_binary(&mut payload, &bytes);
                written.push(Err(bytes));
            } else {
                // A text packet starts with its type, never with `b`.
                let mut text = String::from(rng.pick(&["0", "2", "4"]));
                for _ in 0..rng.below(4) {
                    text.push_str(rng.pick(TEXTS));
                }
                polling::push_text(&mut payload, &text);
                written.push(Ok(text));
            }
        }
        // (Text as `Ok`, binary as `Err`, owned.)
        let read: Vec<Result<String, Vec<u8>>> = polling::packets(&payload)
            .map(|p| match p.unwrap() {
                Packet::Text(text) => Ok(text.to_string()),
                Packet::Binary(bytes) => Err(bytes),
            })
            .collect();
        assert_eq!(read, written, "{payload:?}");
        // Any text: each packet read or refused, never a panic.
        let mut noise = String::new();
        for _ in 0..rng.below(12) {
            noise.push_str(rng.pick(&["\u{1e}", "b", "4", "A", "=", "/", "é", "Zg", "+"]));
        }
        let _ = polling::packets(&noise).count();
    }
}
