//! Server-Sent Events: an incremental parser of the `text/event-stream` format, as the HTML
//! Standard interprets it ("Server-sent events", "Interpreting an event stream").
//!
//! An [`SseParser`] is fed the bytes of a response body as they arrive, cut anywhere (inside a
//! UTF-8 sequence, between a CR and its LF), and hands back what they meant through
//! [`SseParser::poll`]:
//!
//! ```text
//! : heartbeat            -> SseItem::Comment("heartbeat")
//! retry: 3000            -> SseItem::Retry(3000)
//! event: add             \
//! id: 7                   > SseItem::Event(SseEvent { event: "add", data: "1\n2", id: "7" })
//! data: 1                 |
//! data: 2                /
//! (blank line)
//! ```
//!
//! Decoding is UTF-8 with replacement of invalid sequences, and one byte order mark is skipped at
//! the start of a stream. Lines end with CRLF, LF or CR. An event is dispatched by a blank line;
//! one without data is not dispatched (but its `id` still stands), and an incomplete one at the
//! end of the stream is discarded ([`SseParser::finish`]).
//!
//! A hostile server cannot make the parser hold more than [`SseConfig::max_len`] bytes per
//! buffer: a longer line is reported ([`SseError::LineTooLong`]) and skipped up to its end, an
//! event whose data would grow longer is reported ([`SseError::EventTooLong`]), and in both cases
//! the event in progress is dropped at its blank line. Nothing panics, whatever the input.

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;

/// Buffers larger than this are released once used rather than kept for the next line.
const KEEP: usize = 1 << 16;

/// The default for [`SseConfig::max_len`]: 1 MiB.
pub const DEFAULT_MAX_LEN: usize = 1 << 20;

/// The UTF-8 byte order mark, skipped once at the start of a stream.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// How an [`SseParser`] behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseConfig {
    /// The longest line, and the most data one event may carry, in bytes of UTF-8 (after invalid
    /// sequences are replaced). Longer ones are reported as errors and dropped.
    pub max_len: usize,
    /// Whether comment lines (`: text`) come out as [`SseItem::Comment`]; servers send them as
    /// heartbeats. When `false` they are ignored, as `EventSource` ignores them.
    pub comments: bool,
}

impl Default for SseConfig {
    fn default() -> Self {
        SseConfig {
            max_len: DEFAULT_MAX_LEN,
            comments: true,
        }
    }
}

/// A dispatched event, as `EventSource` would fire it as a `MessageEvent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event type: the last `event` field of the block, or `message` when there was none or
    /// it was empty.
    pub event: String,
    /// The `data` fields of the block, joined by line feeds.
    pub data: String,
    /// The last event id when the event was dispatched (`lastEventId`): the last `id` field seen
    /// in this block or an earlier one, empty when none was.
    pub id: String,
}

/// Why a part of the stream was dropped. The parser recovers by itself: these are for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseError {
    /// A line was longer than [`SseConfig::max_len`]; it was skipped, and unless it was a
    /// comment, so is the event it belonged to.
    LineTooLong,
    /// An event's data grew longer than [`SseConfig::max_len`]; the event is dropped.
    EventTooLong,
}

impl SseError {
    /// A short description for logs and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            SseError::LineTooLong => "event stream line too long",
            SseError::EventTooLong => "event stream event too long",
        }
    }
}

/// What the parser found in the stream, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A blank line dispatched an event.
    Event(SseEvent),
    /// A comment line, the text after the colon with one leading space removed (only with
    /// [`SseConfig::comments`]).
    Comment(String),
    /// A valid `retry` field: the server's reconnection time, in milliseconds.
    Retry(u64),
    /// A part of the stream was too long and dropped.
    Error(SseError),
}

/// An item waiting to be polled. Events share the last event id rather than copying it, so that
/// a long id followed by many small events cannot multiply memory.
#[derive(Debug)]
enum Queued {
    Event {
        event: String,
        data: String,
        id: Rc<str>,
    },
    Item(SseItem),
}

/// An incremental, sans-IO parser of one `text/event-stream` connection after another.
///
/// [`feed`](SseParser::feed) it bytes, [`poll`](SseParser::poll) the items until `None`, and call
/// [`finish`](SseParser::finish) when the response body ends; the same parser may then be fed the
/// next connection's body, keeping the [last event id](SseParser::last_event_id) to send as
/// `Last-Event-ID`.
#[derive(Debug)]
pub struct SseParser {
    config: SseConfig,
    /// At the start of a stream, how many bytes of the byte order mark have been seen; `None`
    /// once past the start.
    start: Option<u8>,
    /// The last line ended with a CR: an LF right after it belongs to the same line end.
    skip_lf: bool,
    /// The raw bytes of the line being read.
    line: Vec<u8>,
    /// The line being read was too long: skip to its end.
    discarding: bool,
    /// The data buffer: each `data` field followed by a line feed.
    data: String,
    /// The event type buffer.
    event: String,
    /// A part of the event in progress was dropped: do not dispatch it.
    poisoned: bool,
    /// The last event ID buffer, set by `id` fields.
    id_buffer: Rc<str>,
    /// The last event ID string, set from the buffer by each blank line.
    last_event_id: Rc<str>,
    queue: VecDeque<Queued>,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser::new()
    }
}

impl SseParser {
    /// A parser with the default configuration: lines and events up to 1 MiB, comments reported.
    pub fn new() -> Self {
        SseParser::with_config(SseConfig::default())
    }

    /// A parser with the given configuration.
    pub fn with_config(config: SseConfig) -> Self {
        let empty: Rc<str> = Rc::from("");
        SseParser {
            config,
            start: Some(0),
            skip_lf: false,
            line: Vec::new(),
            discarding: false,
            data: String::new(),
            event: String::new(),
            poisoned: false,
            id_buffer: Rc::clone(&empty),
            last_event_id: empty,
            queue: VecDeque::new(),
        }
    }

    /// Parses the next bytes of the stream. They may end anywhere; what they complete becomes
    /// items for [`poll`](SseParser::poll).
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        while let Some(seen) = self.start {
            let Some((&b, tail)) = rest.split_first() else {
                return;
            };
            if BOM.get(usize::from(seen)) == Some(&b) {
                rest = tail;
                self.start = if seen >= 2 { None } else { Some(seen + 1) };
            } else {
                // Not a byte order mark after all: what was taken for one is text.
                self.start = None;
                self.append(BOM.get(..usize::from(seen)).unwrap_or(&[]));
            }
        }
        loop {
            if self.skip_lf {
                match rest.split_first() {
                    None => return,
                    Some((&b'\n', tail)) => rest = tail,
                    Some(_) => {}
                }
                self.skip_lf = false;
            }
            match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
                None => {
                    self.append(rest);
                    return;
                }
                Some(i) => {
                    let (head, tail) = rest.split_at_checked(i).unwrap_or((rest, &[]));
                    self.append(head);
                    self.skip_lf = tail.first() == Some(&b'\r');
                    rest = tail.get(1..).unwrap_or(&[]);
                    self.end_line();
                }
            }
        }
    }

    /// The next item found in what was fed, in stream order.
    pub fn poll(&mut self) -> Option<SseItem> {
        Some(match self.queue.pop_front()? {
            Queued::Event { event, data, id } => SseItem::Event(SseEvent {
                event,
                data,
                id: String::from(&*id),
            }),
            Queued::Item(item) => item,
        })
    }

    /// Ends the stream: the incomplete line and event, if any, are discarded, as the standard
    /// requires at the end of a response body. Items already found stay to be polled. The parser
    /// is then ready for the next connection's stream (which may open with a byte order mark
    /// again) and keeps the last event id.
    pub fn finish(&mut self) {
        self.start = Some(0);
        self.skip_lf = false;
        self.line = Vec::new();
        self.discarding = false;
        self.data = String::new();
        self.event = String::new();
        self.poisoned = false;
        // Browsers start the next stream's buffer from the last event id string, so that an
        // event without an `id` field does not clear it.
        self.id_buffer = Rc::clone(&self.last_event_id);
    }

    /// The last event id string: the id the last blank line committed, to send as
    /// `Last-Event-ID` when reconnecting (empty: send none).
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The bytes held for the line and the event in progress (the partial line, the data and the
    /// event type). Each is at most [`SseConfig::max_len`], whatever the input.
    pub fn buffered(&self) -> usize {
        self.line.len() + self.data.len() + self.event.len()
    }

    /// Adds bytes to the line being read, or starts skipping it when it grows too long.
    fn append(&mut self, bytes: &[u8]) {
        if self.discarding || bytes.is_empty() {
            return;
        }
        let max = self.config.max_len;
        if self.line.len().saturating_add(bytes.len()) > max {
            let comment = self.line.first().or(bytes.first()) == Some(&b':');
            // Its memory goes too, not only its bytes.
            self.line = Vec::new();
            self.discarding = true;
            self.report(SseError::LineTooLong, !comment);
        } else {
            let need = self.line.len() + bytes.len();
            if need > self.line.capacity() {
                // Doubling, but never past the limit: a long line holds at most `max_len`.
                let want = need.max(self.line.capacity().saturating_mul(2)).min(max);
                self.line.reserve_exact(want - self.line.len());
            }
            self.line.extend_from_slice(bytes);
        }
    }

    /// Queues an error; `poison` drops the event in progress.
    fn report(&mut self, error: SseError, poison: bool) {
        self.queue.push_back(Queued::Item(SseItem::Error(error)));
        if poison {
            self.poisoned = true;
            self.data.clear();
            self.event.clear();
        }
    }

    fn end_line(&mut self) {
        if self.discarding {
            self.discarding = false;
            return;
        }
        let mut line = core::mem::take(&mut self.line);
        self.process(&line);
        line.clear();
        // A long line's buffer is not kept for the short ones that usually follow.
        if line.capacity() <= KEEP {
            self.line = line;
        }
    }

    /// Processes one complete line, without its line end.
    fn process(&mut self, line: &[u8]) {
        if line.is_empty() {
            self.dispatch();
            return;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let (name, value) = line.split_at_checked(i).unwrap_or((line, &[]));
                let value = value.get(1..).unwrap_or(&[]);
                (name, value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        let max = self.config.max_len;
        match name {
            // A comment (ignored, as unknown fields are, when not reported).
            b"" if self.config.comments => {
                let text = String::from_utf8_lossy(value);
                if text.len() > max {
                    self.report(SseError::LineTooLong, false);
                } else {
                    let item = SseItem::Comment(text.into_owned());
                    self.queue.push_back(Queued::Item(item));
                }
            }
            b"data" => {
                if self.poisoned {
                    return;
                }
                let value = String::from_utf8_lossy(value);
                if self.data.len().saturating_add(value.len()) >= max {
                    self.report(SseError::EventTooLong, true);
                } else {
                    let need = self.data.len() + value.len() + 1;
                    if need > self.data.capacity() {
                        let want = need.max(self.data.capacity().saturating_mul(2)).min(max);
                        self.data.reserve_exact(want - self.data.len());
                    }
                    self.data.push_str(&value);
                    super::push_ascii(&mut self.data, b'\n');
                }
            }
            b"event" => {
                if self.poisoned {
                    return;
                }
                let value = String::from_utf8_lossy(value);
                if value.len() > max {
                    self.report(SseError::LineTooLong, true);
                } else {
                    self.event.clear();
                    self.event.push_str(&value);
                }
            }
            b"id" => {
                if value.contains(&0) {
                    return;
                }
                let value = String::from_utf8_lossy(value);
                if value.len() > max {
                    self.report(SseError::LineTooLong, true);
                } else if *self.id_buffer != *value {
                    self.id_buffer = Rc::from(&*value);
                }
            }
            b"retry" => {
                if let Some(ms) = retry(value) {
                    self.queue.push_back(Queued::Item(SseItem::Retry(ms)));
                }
            }
            _ => {}
        }
    }

    /// A blank line: dispatch the event, as a browser does.
    fn dispatch(&mut self) {
        self.last_event_id = Rc::clone(&self.id_buffer);
        let poisoned = core::mem::replace(&mut self.poisoned, false);
        if poisoned || self.data.is_empty() {
            if self.data.capacity() > KEEP {
                self.data = String::new();
            }
            self.data.clear();
            self.event.clear();
            return;
        }
        if self.data.ends_with('\n') {
            self.data.pop();
        }
        let data = core::mem::take(&mut self.data);
        let event = if self.event.is_empty() {
            String::from("message")
        } else {
            core::mem::take(&mut self.event)
        };
        self.queue.push_back(Queued::Event {
            event,
            data,
            id: Rc::clone(&self.last_event_id),
        });
    }
}

/// A `retry` value: ASCII digits only, read in base ten. Empty values and numbers too large for
/// a `u64` are ignored.
fn retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in value {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(p: &mut SseParser) -> Vec<SseItem> {
        core::iter::from_fn(|| p.poll()).collect()
    }

    /// Feeds `input` whole to a parser with `config`, and returns what came out before and after
    /// the end of the stream.
    fn parse_with(config: SseConfig, input: &[u8]) -> Vec<SseItem> {
        let mut p = SseParser::with_config(config);
        p.feed(input);
        p.finish();
        drain(&mut p)
    }

    fn parse(input: &str) -> Vec<SseItem> {
        parse_with(SseConfig::default(), input.as_bytes())
    }

    fn ev(event: &str, data: &str, id: &str) -> SseItem {
        SseItem::Event(SseEvent {
            event: event.into(),
            data: data.into(),
            id: id.into(),
        })
    }

    fn msg(data: &str) -> SseItem {
        ev("message", data, "")
    }

    fn comment(text: &str) -> SseItem {
        SseItem::Comment(text.into())
    }

    fn small(max_len: usize) -> SseConfig {
        SseConfig {
            max_len,
            comments: true,
        }
    }

    // The examples of the standard.

    #[test]
    fn introduction_messages() {
        let s = "data: This is the first message.\n\n\
                 data: This is the second message, it\n\
                 data: has two lines.\n\n\
                 data: This is the third message.\n\n";
        assert_eq!(
            parse(s),
            vec![
                msg("This is the first message."),
                msg("This is the second message, it\nhas two lines."),
                msg("This is the third message."),
            ]
        );
    }

    #[test]
    fn event_types() {
        let s =
            "event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n";
        let two = vec![ev("add", "73857293", ""), ev("remove", "2153", "")];
        // The last block has no blank line yet: the end of the stream discards it.
        assert_eq!(parse(s), two);
        let mut three = two;
        three.push(ev("add", "113411", ""));
        assert_eq!(parse(&(String::from(s) + "\n")), three);
    }

    #[test]
    fn stock_ticker() {
        assert_eq!(
            parse("data: YHOO\ndata: +2\ndata: 10\n\n"),
            vec![msg("YHOO\n+2\n10")]
        );
    }

    #[test]
    fn four_blocks() {
        let s = ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n";
        let mut p = SseParser::new();
        p.feed(b": test stream\n\ndata: first event\nid: 1\n\n");
        assert_eq!(p.last_event_id(), "1");
        p.feed(b"data:second event\nid\n\n");
        assert_eq!(p.last_event_id(), "", "an empty id resets it");
        let want = vec![
            comment("test stream"),
            ev("message", "first event", "1"),
            msg("second event"),
        ];
        assert_eq!(drain(&mut p), want);
        assert_eq!(parse(s), want, "the end of the stream is not a blank line");
        let mut all = want;
        all.push(msg(" third event"));
        assert_eq!(parse(&(String::from(s) + "\n")), all);
    }

    #[test]
    fn empty_data() {
        assert_eq!(
            parse("data\n\ndata\ndata\n\ndata:"),
            vec![msg(""), msg("\n")]
        );
    }

    #[test]
    fn space_after_colon_is_optional() {
        assert_eq!(
            parse("data:test\n\ndata: test\n\n"),
            vec![msg("test"), msg("test")]
        );
        // Only one space is removed.
        assert_eq!(parse("data:  x \n\n"), vec![msg(" x ")]);
    }

    // Fields.

    #[test]
    fn comments() {
        assert_eq!(
            parse(": ping\n:\n:  two\n:no space\ndata: x\n: inside\n\n"),
            vec![
                comment("ping"),
                comment(""),
                comment(" two"),
                comment("no space"),
                comment("inside"),
                msg("x"),
            ]
        );
        let quiet = SseConfig {
            comments: false,
            ..SseConfig::default()
        };
        assert_eq!(
            parse_with(quiet, b": ping\ndata: x\n\n"),
            vec![msg("x")],
            "comments ignored"
        );
    }

    #[test]
    fn id_without_data() {
        let mut p = SseParser::new();
        p.feed(b"id: 7\n\n");
        assert_eq!(drain(&mut p), vec![], "nothing dispatched");
        assert_eq!(p.last_event_id(), "7");
        p.feed(b"data: a\n\n");
        p.feed(b"event: x\ndata: b\n\n");
        assert_eq!(
            drain(&mut p),
            vec![ev("message", "a", "7"), ev("x", "b", "7")]
        );
        // The id is committed by the blank line, and applies to the event of its own block
        // wherever it stands in the block.
        p.feed(b"data: c\nid: 8\n");
        assert_eq!(p.last_event_id(), "7");
        p.feed(b"\n");
        assert_eq!(p.last_event_id(), "8");
        assert_eq!(drain(&mut p), vec![ev("message", "c", "8")]);
    }

    #[test]
    fn id_with_nul_is_ignored() {
        assert_eq!(
            parse("id: 1\n\nid: a\0b\ndata: x\n\n"),
            vec![ev("message", "x", "1")]
        );
        // NUL elsewhere is data like any other character.
        assert_eq!(parse("data: a\0b\n\n"), vec![msg("a\0b")]);
    }

    #[test]
    fn retry() {
        assert_eq!(
            parse("retry: 1500\nretry:0\nretry: 007\n"),
            vec![SseItem::Retry(1500), SseItem::Retry(0), SseItem::Retry(7)]
        );
        for bad in [
            "retry:\n",
            "retry: \n",
            "retry: 15x\n",
            "retry: -1\n",
            "retry: +1\n",
            "retry: 1.5\n",
            "retry:  10\n",
            "retry: 10 \n",
            "retry: \u{0661}\n",
            "retry: 99999999999999999999999\n",
            "Retry: 10\n",
            "retry\n",
        ] {
            assert_eq!(parse(bad), vec![], "{bad:?}");
        }
        assert_eq!(
            parse("retry: 18446744073709551615\n"),
            vec![SseItem::Retry(u64::MAX)]
        );
        // A retry field takes effect at once, in or out of an event.
        assert_eq!(
            parse("data: a\nretry: 5\n\n"),
            vec![SseItem::Retry(5), msg("a")]
        );
    }

    #[test]
    fn line_ends() {
        let want = vec![msg("a\nb"), msg("c")];
        for s in [
            "data: a\ndata: b\n\ndata: c\n\n",
            "data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n",
            "data: a\rdata: b\r\rdata: c\r\r",
            "data: a\r\ndata: b\n\rdata: c\r\n\n",
        ] {
            assert_eq!(parse(s), want, "{s:?}");
        }
        // CR then CRLF: two line ends, so a blank line.
        assert_eq!(parse("data: a\r\r\n"), vec![msg("a")]);
        // LF then CR: two line ends too.
        assert_eq!(parse("data: a\n\r"), vec![msg("a")]);
        // CR LF LF: a line end and a blank line.
        assert_eq!(parse("data: a\r\n\n"), vec![msg("a")]);
        // A CR dispatches at once, without waiting for a possible LF.
        let mut p = SseParser::new();
        p.feed(b"data: a\r\r");
        assert_eq!(drain(&mut p), vec![msg("a")]);
        p.feed(b"\ndata: b\n\n");
        assert_eq!(drain(&mut p), vec![msg("b")], "the LF ended the CR's line");
    }

    #[test]
    fn byte_order_mark() {
        assert_eq!(parse("\u{feff}data: a\n\n"), vec![msg("a")]);
        // Only one is skipped: a second makes the field name unknown.
        assert_eq!(parse("\u{feff}\u{feff}data: a\n\n"), vec![]);
        // Only at the start of the stream.
        assert_eq!(parse("data: a\n\n\u{feff}data: b\n\n"), vec![msg("a")]);
        assert_eq!(parse("data: \u{feff}x\n\n"), vec![msg("\u{feff}x")]);
        // The start of a byte order mark that is not one is text.
        assert_eq!(parse_with(small(64), b"\xEF\xBB:c\n\xEF\xBBZ\n"), vec![]);
        assert_eq!(
            parse_with(small(64), b"\xEF\xBBdata: x\n\n"),
            vec![],
            "an unknown field"
        );
        assert_eq!(parse_with(small(64), b"\xEF\ndata: x\n\n"), vec![msg("x")]);
        // Split across chunks.
        let mut p = SseParser::new();
        for chunk in [&b"\xEF"[..], b"\xBB", b"\xBF", b"data: a\n\n"] {
            p.feed(chunk);
        }
        assert_eq!(drain(&mut p), vec![msg("a")]);
    }

    #[test]
    fn field_without_colon() {
        assert_eq!(parse("data\n\n"), vec![msg("")]);
        assert_eq!(parse("event\ndata: x\n\n"), vec![msg("x")]);
        assert_eq!(
            parse("id: 3\n\nid\ndata: x\n\n"),
            vec![ev("message", "x", "")]
        );
        assert_eq!(parse("foo\ndata\n\n"), vec![msg("")]);
    }

    #[test]
    fn event_without_data_is_not_dispatched() {
        assert_eq!(parse("event: add\n\n"), vec![]);
        // Its type does not leak into the next event.
        assert_eq!(parse("event: add\n\ndata: x\n\n"), vec![msg("x")]);
        // An empty type is the default one.
        assert_eq!(parse("event:\ndata: x\n\n"), vec![msg("x")]);
        // The last type of a block wins.
        assert_eq!(
            parse("event: a\nevent: b\ndata: x\n\n"),
            vec![ev("b", "x", "")]
        );
    }

    #[test]
    fn unknown_fields_and_case() {
        assert_eq!(
            parse("Data: x\nDATA: y\nfoo: bar\n data: z\ndata : w\n\n"),
            vec![]
        );
        // Only the first colon separates; the others belong to the value.
        assert_eq!(parse("data: a:b: c\n\n"), vec![msg("a:b: c")]);
    }

    #[test]
    fn utf8_with_replacement() {
        assert_eq!(
            parse_with(small(64), b"data: \xFF\xFEok\n\n"),
            vec![msg("\u{fffd}\u{fffd}ok")]
        );
        // A truncated sequence is one replacement character.
        assert_eq!(
            parse_with(small(64), b"data: \xE2\x82\ndata: \xE2\x82\xAC\n\n"),
            vec![msg("\u{fffd}\n\u{20ac}")]
        );
        // Surrogates encoded in UTF-8 are invalid.
        assert_eq!(
            parse_with(small(64), b"data: \xED\xA0\x80\n\n"),
            vec![msg("\u{fffd}\u{fffd}\u{fffd}")]
        );
        // Split inside a sequence.
        let mut p = SseParser::new();
        p.feed(b"data: \xE2");
        p.feed(b"\x82");
        p.feed(b"\xAC\xF0\x9F");
        p.feed(b"\x98\x80\n\n");
        assert_eq!(drain(&mut p), vec![msg("\u{20ac}\u{1f600}")]);
    }

    #[test]
    fn end_of_stream_discards_the_incomplete_event() {
        let mut p = SseParser::new();
        p.feed(b"data: x\n");
        p.finish();
        p.feed(b"\n");
        assert_eq!(
            drain(&mut p),
            vec![],
            "the blank line begins another stream"
        );
        // The incomplete line is not glued to the next stream's first line.
        p.feed(b"data: x");
        p.finish();
        p.feed(b"data: y\n\n");
        assert_eq!(drain(&mut p), vec![msg("y")]);
        // A CR at the end does not swallow the next stream's LF.
        p.feed(b"data: z\r");
        p.finish();
        p.feed(b"\ndata: w\n\n");
        assert_eq!(drain(&mut p), vec![msg("w")]);
        // Items found before the end stay to be polled.
        p.feed(b"data: v\n\ndata: u\n");
        p.finish();
        assert_eq!(drain(&mut p), vec![msg("v")]);
    }

    #[test]
    fn next_stream() {
        let mut p = SseParser::new();
        p.feed(b"\xEF\xBB\xBFid: 3\n\n");
        assert_eq!(p.last_event_id(), "3");
        // An id line without a blank line is not committed.
        p.feed(b"id: 4\n");
        p.finish();
        assert_eq!(p.last_event_id(), "3");
        // The next stream may start with a byte order mark too; its events carry the last id.
        p.feed(b"\xEF\xBB\xBFdata: x\n\n");
        assert_eq!(p.last_event_id(), "3");
        assert_eq!(drain(&mut p), vec![ev("message", "x", "3")]);
        assert_eq!(p.buffered(), 0);
    }

    // Bounds.

    #[test]
    fn line_too_long() {
        let too_long = SseItem::Error(SseError::LineTooLong);
        // 16 bytes fit, 17 do not.
        assert_eq!(
            parse_with(small(16), b"data: 0123456789\n\n"),
            vec![msg("0123456789")]
        );
        assert_eq!(
            parse_with(small(16), b"data: 0123456789a\n\ndata: ok\n\n"),
            vec![too_long.clone(), msg("ok")]
        );
        // A long data line drops its event, not the next one.
        assert_eq!(
            parse_with(
                small(16),
                b"data: a\ndata: 0123456789abcdef\ndata: b\n\ndata: ok\n\n"
            ),
            vec![too_long.clone(), msg("ok")]
        );
        // Other long lines drop the event in progress too, except comments.
        assert_eq!(
            parse_with(
                small(16),
                b"event: 0123456789abcdef\ndata: a\n\ndata: ok\n\n"
            ),
            vec![too_long.clone(), msg("ok")]
        );
        assert_eq!(
            parse_with(
                small(16),
                b": 0123456789abcdefghij\ndata: ok\n: 0123456789abcdef\n\n"
            ),
            vec![too_long.clone(), too_long.clone(), msg("ok")]
        );
        // Expansion by replacement counts.
        assert_eq!(
            parse_with(small(8), b"id:\xFF\xFF\xFF\ndata: a\n\n"),
            vec![too_long.clone()]
        );
        assert_eq!(
            parse_with(small(8), b":\xFF\xFF\xFF\n"),
            vec![too_long.clone()]
        );
        // Split into many chunks: still one error, and the skipped line's end is found.
        let mut p = SseParser::with_config(small(16));
        p.feed(b"data: ");
        for _ in 0..100 {
            p.feed(b"0123456789");
            assert!(p.buffered() <= 16);
        }
        p.feed(b"\r");
        // The LF completes the CR, and the blank line ends the dropped event.
        p.feed(b"\n\r\ndata: ok\r\n\r\n");
        assert_eq!(drain(&mut p), vec![too_long, msg("ok")]);
    }

    #[test]
    fn event_too_long() {
        let too_long = SseItem::Error(SseError::EventTooLong);
        // The data buffer holds each line and its line feed, at most 10 bytes here: an event
        // carries at most 9.
        assert_eq!(
            parse_with(small(10), b"data:0123\ndata:0123\n\n"),
            vec![msg("0123\n0123")]
        );
        assert_eq!(
            parse_with(small(10), b"data:\xFF\xFF\xFF\n\n"),
            vec![msg("\u{fffd}\u{fffd}\u{fffd}")]
        );
        assert_eq!(
            parse_with(
                small(10),
                b"data:0123\ndata:01234\ndata:a\ndata:b\n\ndata:ok\n\n"
            ),
            vec![too_long.clone(), msg("ok")],
            "reported once, the next event unharmed"
        );
        // Expansion by replacement counts.
        assert_eq!(
            parse_with(small(10), b"data:\xFF\xFF\xFF\xFF\n\n"),
            vec![too_long]
        );
        // The dropped event's id still stands.
        let mut p = SseParser::with_config(small(10));
        p.feed(b"id: 5\ndata:0123\ndata:01234\n\n");
        assert_eq!(p.last_event_id(), "5");
    }

    #[test]
    fn tiny_limits() {
        assert_eq!(
            parse_with(small(0), b"\xEF\xBB\xBFdata\n\n: x\n\n"),
            vec![
                SseItem::Error(SseError::LineTooLong),
                SseItem::Error(SseError::LineTooLong),
            ]
        );
        assert_eq!(
            parse_with(small(1), b"\xEF\xBBx\n\n"),
            vec![SseItem::Error(SseError::LineTooLong)]
        );
    }

    // Chunking.

    const SAMPLE: &[u8] = b"\xEF\xBB\xBF: hello\r\n\
        retry: 2500\r\n\
        event: greet\rid: 1\rdata: h\xC3\xA9llo\r\r\
        data: \xF0\x9F\x98\x80 one\ndata:two\n\n\
        id: a\0b\nid\ndata\r\n\r\n\
        event: x\n\n\
        : bye\r\
        data: \xE2\x82\r\
        data: 0123456789012345678901234567890123456789\n\n\
        data: ok\n\n\
        data: last";

    fn sample_items() -> Vec<SseItem> {
        vec![
            comment("hello"),
            SseItem::Retry(2500),
            ev("greet", "h\u{e9}llo", "1"),
            ev("message", "\u{1f600} one\ntwo", "1"),
            msg(""),
            comment("bye"),
            SseItem::Error(SseError::LineTooLong),
            msg("ok"),
        ]
    }

    #[test]
    fn sample_whole() {
        assert_eq!(parse_with(small(32), SAMPLE), sample_items());
    }

    #[test]
    fn every_split_point() {
        let want = sample_items();
        for i in 0..=SAMPLE.len() {
            let (a, b) = SAMPLE.split_at(i);
            let mut p = SseParser::with_config(small(32));
            p.feed(a);
            p.feed(b);
            p.finish();
            assert_eq!(drain(&mut p), want, "split at {i}");
        }
    }

    #[test]
    fn every_pair_of_split_points() {
        let want = sample_items();
        for i in 0..=SAMPLE.len() {
            for j in i..=SAMPLE.len() {
                let mut p = SseParser::with_config(small(32));
                p.feed(&SAMPLE[..i]);
                p.feed(&SAMPLE[i..j]);
                p.feed(&SAMPLE[j..]);
                p.finish();
                assert_eq!(drain(&mut p), want, "split at {i} and {j}");
            }
        }
    }

    #[test]
    fn byte_by_byte() {
        let mut p = SseParser::with_config(small(32));
        let mut got = Vec::new();
        for b in SAMPLE {
            p.feed(core::slice::from_ref(b));
            got.extend(drain(&mut p));
            assert!(p.buffered() <= 3 * 32);
        }
        p.finish();
        got.extend(drain(&mut p));
        assert_eq!(got, sample_items());
    }

    #[test]
    fn empty_chunks() {
        let mut p = SseParser::new();
        p.feed(b"");
        p.feed(b"\xEF\xBB");
        p.feed(b"");
        p.feed(b"\xBFdata: a\r");
        p.feed(b"");
        p.feed(b"\r");
        assert_eq!(drain(&mut p), vec![msg("a")]);
    }

    #[test]
    fn errors_describe_themselves() {
        assert_eq!(SseError::LineTooLong.as_str(), "event stream line too long");
        assert_eq!(
            SseError::EventTooLong.as_str(),
            "event stream event too long"
        );
    }
}
