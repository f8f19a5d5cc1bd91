//! Property tests for the Server-Sent Events parser, run natively for a bounded number of cases
//! (set `RTIO_PROP_CASES` to run more). Deterministic: a fixed-seed generator, so a failure
//! reproduces.
#![cfg(not(target_arch = "wasm32"))]

use rtio::codec::sse::{SseConfig, SseError, SseEvent, SseItem, SseParser};

mod common;
use common::Rng;

fn cases() -> u64 {
    common::cases(20_000)
}

fn config(max_len: usize) -> SseConfig {
    SseConfig {
        max_len,
        comments: true,
    }
}

fn drain(p: &mut SseParser) -> Vec<SseItem> {
    std::iter::from_fn(|| p.poll()).collect()
}

/// Checks what a parser with `max_len` may hold and hand out, whatever it was fed.
fn check_bounds(p: &SseParser, items: &[SseItem], max_len: usize) {
    assert!(
        p.buffered() <= 3 * max_len,
        "{} bytes buffered, limit {max_len}",
        p.buffered()
    );
    assert!(p.last_event_id().len() <= max_len);
    for item in items {
        match item {
            SseItem::Event(e) => {
                assert!(e.data.len() < max_len, "{e:?}");
                assert!(e.event == "message" || e.event.len() <= max_len, "{e:?}");
                assert!(e.id.len() <= max_len, "{e:?}");
            }
            SseItem::Comment(c) => assert!(c.len() <= max_len, "{c:?}"),
            SseItem::Retry(_) | SseItem::Error(_) => {}
        }
    }
}

/// Feeds `bytes` in random chunks (empty ones, single bytes, a few bytes, the rest), polling
/// after each, then ends the stream. Checks the bounds throughout.
fn feed_chunked(rng: &mut Rng, bytes: &[u8], max_len: usize) -> Vec<SseItem> {
    let mut p = SseParser::with_config(config(max_len));
    let mut items = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let n = match rng.below(5) {
            0 => 0,
            1 => 1,
            2 => 1 + rng.below(4) as usize,
            3 => 1 + rng.below(32) as usize,
            _ => bytes.len() - at,
        };
        let end = (at + n).min(bytes.len());
        p.feed(&bytes[at..end]);
        at = end;
        let new = drain(&mut p);
        check_bounds(&p, &new, max_len);
        items.extend(new);
    }
    p.finish();
    assert_eq!(p.buffered(), 0, "the end of the stream frees the event");
    items.extend(drain(&mut p));
    items
}

fn feed_whole(bytes: &[u8], max_len: usize) -> Vec<SseItem> {
    let mut p = SseParser::with_config(config(max_len));
    p.feed(bytes);
    p.finish();
    let items = drain(&mut p);
    check_bounds(&p, &items, max_len);
    items
}

/// Pieces that make the parser take its interesting branches, valid UTF-8 or not.
const ATOMS: &[&[u8]] = &[
    b"data",
    b"data:",
    b"data: ",
    b"event:",
    b"event: ",
    b"id:",
    b"id: ",
    b"retry:",
    b"retry: ",
    b":",
    b": ",
    b" ",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"\r\r",
    b"\0",
    b"\xEF\xBB\xBF",
    b"\xEF",
    b"\xBB",
    b"\xBF",
    b"\xEF\xBB",
    b"\xFF",
    b"\xC3",
    b"\xE2\x82",
    b"\xF0\x9F\x98",
    "é".as_bytes(),
    "€".as_bytes(),
    "😀".as_bytes(),
    b"1",
    b"123",
    b"99999999999999999999999",
    b"x",
    b"message",
    b"0123456789abcdef",
    b"data: ok\n\n",
    b"\n\ndata: y\n",
    b": hb\n",
    b"id: 1\n",
];

/// A hostile or broken server's bytes: atoms, runs of an atom (long lines) and random bytes.
fn hostile_bytes(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(40) {
        match rng.below(8) {
            0 => out.push(rng.next() as u8),
            1 => {
                let atom = rng.pick(ATOMS);
                for _ in 0..rng.below(12) {
                    out.extend_from_slice(atom);
                }
            }
            _ => out.extend_from_slice(rng.pick(ATOMS)),
        }
    }
    out
}

#[test]
fn arbitrary_bytes_never_panic_and_memory_stays_bounded() {
    let mut rng = Rng(0x5EE5_0001);
    for _ in 0..cases() {
        let bytes = hostile_bytes(&mut rng);
        let max_len = rng.below(48) as usize;
        let _ = feed_chunked(&mut rng, &bytes, max_len);
    }
}

#[test]
fn arbitrary_bytes_parse_alike_however_chunked() {
    let mut rng = Rng(0x5EE5_0002);
    for _ in 0..cases() {
        let bytes = hostile_bytes(&mut rng);
        let max_len = [0, 1, 3, 8, 16, 40, 1 << 20][rng.below(7) as usize];
        let whole = feed_whole(&bytes, max_len);
        let chunked = feed_chunked(&mut rng, &bytes, max_len);
        assert_eq!(whole, chunked, "{bytes:?} limit {max_len}");
    }
}

#[test]
fn a_parser_fed_forever_stays_bounded() {
    let max_len = 4096;
    let chunk = [b'x'; 1000];
    let endless: [(&[u8], &[u8]); 4] = [
        // One endless line, of each kind.
        (b"data: ", &chunk),
        (b": ", &chunk),
        (b"id: ", &chunk),
        // One endless event of short data lines.
        (
            b"",
            b"data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n",
        ),
    ];
    for (start, more) in endless {
        let mut p = SseParser::with_config(config(max_len));
        p.feed(start);
        let mut errors = 0;
        for _ in 0..3000 {
            p.feed(more);
            for item in drain(&mut p) {
                match item {
                    SseItem::Error(SseError::LineTooLong | SseError::EventTooLong) => errors += 1,
                    other => panic!("{other:?}"),
                }
            }
            assert!(p.buffered() <= max_len, "{}", p.buffered());
        }
        assert_eq!(errors, 1, "one error per line or event");
        // The stream recovers at the next blank line.
        p.feed(b"\n\ndata: ok\n\n");
        assert_eq!(
            drain(&mut p),
            vec![SseItem::Event(SseEvent {
                event: "message".into(),
                data: "ok".into(),
                id: String::new(),
            })]
        );
    }
}

/// Text that may stand in a field value or a comment: no CR or LF, anything else.
fn value(rng: &mut Rng) -> String {
    let pieces = [
        "a", "b c", " ", ":", ": ", "é", "€", "😀", "\0", "\u{feff}", "\u{fffd}", "data:", "12",
        "\t",
    ];
    let mut s = String::new();
    for _ in 0..rng.below(5) {
        s.push_str(rng.pick(&pieces));
    }
    s
}

/// Writes `name`, a colon and `value`, with the optional space when `value` allows it.
fn field(out: &mut Vec<u8>, rng: &mut Rng, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.push(b':');
    if value.starts_with(' ') || rng.below(2) == 0 {
        out.push(b' ');
    }
    out.extend_from_slice(value.as_bytes());
}

/// A well-formed stream and the items it must give: blocks of fields and comments in random
/// order with random line ends, an optional byte order mark, an incomplete tail.
fn valid_stream(rng: &mut Rng) -> (Vec<u8>, Vec<SseItem>) {
    let mut out = Vec::new();
    let mut want = Vec::new();
    let mut id_buffer = String::new();
    if rng.below(4) == 0 {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    // The last line end was a lone CR, so the next line must not start with LF.
    let mut after_cr = false;
    let mut eol = |out: &mut Vec<u8>, rng: &mut Rng, blank: bool| {
        let ends: &[&[u8]] = if blank && after_cr {
            &[b"\r", b"\r\n"]
        } else {
            &[b"\n", b"\r", b"\r\n"]
        };
        let end = rng.pick(ends);
        out.extend_from_slice(end);
        after_cr = end == b"\r";
    };
    for _ in 0..rng.below(6) {
        let mut data: Option<String> = None;
        let mut event = String::new();
        for _ in 0..rng.below(6) {
            match rng.below(7) {
                0 | 1 => {
                    let v = value(rng);
                    if v.is_empty() && rng.below(2) == 0 {
                        out.extend_from_slice(b"data");
                    } else {
                        field(&mut out, rng, "data", &v);
                    }
                    data = Some(match data {
                        Some(d) => d + "\n" + &v,
                        None => v,
                    });
                }
                2 => {
                    let v = value(rng);
                    if v.is_empty() && rng.below(2) == 0 {
                        out.extend_from_slice(b"event");
                    } else {
                        field(&mut out, rng, "event", &v);
                    }
                    event = v;
                }
                3 => {
                    let v = value(rng);
                    if v.is_empty() && rng.below(2) == 0 {
                        out.extend_from_slice(b"id");
                    } else {
                        field(&mut out, rng, "id", &v);
                    }
                    if !v.contains('\0') {
                        id_buffer = v;
                    }
                }
                4 => {
                    if rng.below(2) == 0 {
                        let n = rng.next() >> rng.below(64);
                        let zeros = "0".repeat(rng.below(3) as usize);
                        field(&mut out, rng, "retry", &format!("{zeros}{n}"));
                        want.push(SseItem::Retry(n));
                    } else {
                        let bad = ["1x", "", " 5", "-3", "1.5", "99999999999999999999999"];
                        let v = rng.pick(&bad);
                        field(&mut out, rng, "retry", v);
                    }
                }
                5 => {
                    let v = value(rng);
                    out.push(b':');
                    out.extend_from_slice(v.as_bytes());
                    let text = v.strip_prefix(' ').unwrap_or(&v);
                    want.push(SseItem::Comment(text.to_string()));
                }
                _ => {
                    let names = [
                        "foo",
                        "Data",
                        "datas",
                        "ids",
                        "retry2",
                        "EVENT",
                        "\u{feff}data",
                    ];
                    let name = rng.pick(&names);
                    if out.is_empty() && name.starts_with('\u{feff}') {
                        // Or the parser would take it for the byte order mark.
                        out.extend_from_slice(b"\xEF\xBB\xBF");
                    }
                    let v = value(rng);
                    field(&mut out, rng, name, &v);
                }
            }
            eol(&mut out, rng, false);
        }
        eol(&mut out, rng, true);
        if let Some(data) = data {
            want.push(SseItem::Event(SseEvent {
                event: if event.is_empty() {
                    "message".into()
                } else {
                    event
                },
                data,
                id: id_buffer.clone(),
            }));
        }
    }
    // What the end of the stream discards.
    let tails: [&[u8]; 6] = [
        b"",
        b"data: partial",
        b"data: x\n",
        b"event: e\r\ndata: x\r\n",
        b"id: 9",
        b":",
    ];
    out.extend_from_slice(rng.pick(&tails));
    (out, want)
}

#[test]
fn valid_streams_parse_as_written_however_chunked() {
    let mut rng = Rng(0x5EE5_0003);
    for _ in 0..cases() {
        let (bytes, want) = valid_stream(&mut rng);
        let whole = feed_whole(&bytes, 1 << 20);
        assert_eq!(whole, want, "{:?}", String::from_utf8_lossy(&bytes));
        let chunked = feed_chunked(&mut rng, &bytes, 1 << 20);
        assert_eq!(chunked, want, "{:?}", String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn byte_by_byte_is_whole() {
    let mut rng = Rng(0x5EE5_0004);
    for _ in 0..cases() / 10 {
        let (bytes, want) = valid_stream(&mut rng);
        let mut p = SseParser::new();
        let mut got = Vec::new();
        for b in &bytes {
            p.feed(std::slice::from_ref(b));
            got.extend(drain(&mut p));
        }
        p.finish();
        got.extend(drain(&mut p));
        assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&bytes));
    }
}
