//! The log of SSE events, for `Last-Event-ID` resume ([`crate::sse`]).
//!
//! Every event an SSE stream gets, except `rtio:hello`, `rtio:members` and the heartbeat, is
//! first appended here: it gets the next id (an integer that only grows) and is kept among the
//! last [`MAX_ENTRIES`] events (and at most [`MAX_BYTES`] bytes of data). A stream that connects
//! with a last event id is sent the kept events after it that concern its rooms ([`EventLog::after`])
//! before the live ones.
//!
//! With a file (`--sse-log FILE`) every appended event is also written to it as one JSON line
//! before it is sent anywhere, and the file is read back at start: ids continue after the last
//! one, and a client can resume across a restart. The file is rewritten with the kept events at
//! start and whenever it has grown to twice [`MAX_ENTRIES`] lines; a line that does not parse
//! (one torn by a crash) is skipped.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most events kept.
pub const MAX_ENTRIES: usize = 10_000;
/// Most bytes of event data kept.
pub const MAX_BYTES: usize = 64 << 20;

/// One logged event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Its id, the SSE `id:` field.
    pub id: u64,
    /// The SSE `event:` field.
    pub event: String,
    /// The room it concerns; `None`: every stream.
    #[serde(default)]
    pub room: Option<String>,
    /// `data` is a string sent as it is (one `data:` line per line) rather than as JSON.
    #[serde(default)]
    pub raw: bool,
    /// The data: any JSON value (a string when `raw`).
    #[serde(default)]
    pub data: Value,
    /// The bridged client it is not sent to live (the sender of a room message, the member a
    /// presence change is about).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub except: Option<String>,
}

impl LogEntry {
    /// The text of the `data:` lines: the compact JSON of `data`, or the raw text.
    pub fn data_text(&self) -> String {
        match (&self.data, self.raw) {
            (Value::String(text), true) => text.clone(),
            (data, _) => data.to_string(),
        }
    }

    /// The event as `text/event-stream`, blank line included.
    pub fn to_sse(&self) -> String {
        sse_block(Some(self.id), &self.event, &self.data_text())
    }

    /// Roughly what it costs to keep.
    fn weight(&self) -> usize {
        self.event.len() + self.room.as_ref().map_or(0, String::len) + self.data_text().len() + 64
    }
}

/// One SSE event block: `id:` (when given), `event:`, then one `data:` line per line of `data`
/// (`\r\n`, `\r` and `\n` all end a line), then the blank line. `event` must hold no line break.
pub fn sse_block(id: Option<u64>, event: &str, data: &str) -> String {
    let mut out = String::with_capacity(data.len() + event.len() + 32);
    if let Some(id) = id {
        out.push_str("id: ");
        out.push_str(&id.to_string());
        out.push('\n');
    }
    out.push_str("event: ");
    out.push_str(event);
    out.push('\n');
    for line in data_lines(data) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The lines of `data`, split at `\r\n`, `\r` and `\n` (at least one, maybe empty).
pub fn data_lines(data: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.find(['\r', '\n']) {
        lines.push(&rest[..at]);
        let skip = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[at + skip..];
    }
    lines.push(rest);
    lines
}

/// The kept events, oldest first, and the file they are written to.
pub struct EventLog {
    entries: VecDeque<Arc<LogEntry>>,
    bytes: usize,
    next_id: u64,
    max_entries: usize,
    file: Option<LogFile>,
}

struct LogFile {
    path: PathBuf,
    file: File,
    lines: usize,
    /// A write failed: reported once, then the log goes on in memory.
    failed: bool,
}

impl EventLog {
    /// A log in memory only; ids start at 1.
    pub fn in_memory(max_entries: usize) -> EventLog {
        EventLog {
            entries: VecDeque::new(),
            bytes: 0,
            next_id: 1,
            max_entries: max_entries.max(1),
            file: None,
        }
    }

    /// A log kept in `path` (created if missing): its events are read back, ids continue after
    /// the last, and the file is rewritten with the kept ones.
    pub fn open(path: &Path, max_entries: usize) -> io::Result<EventLog> {
        let mut log = EventLog::in_memory(max_entries);
        let text = match fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        for entry in parse_lines(&text) {
            log.next_id = entry.id + 1;
            log.keep(Arc::new(entry));
        }
        let file = rewrite(path, &log.entries)?;
        log.file = Some(LogFile {
            path: path.to_owned(),
            file,
            lines: log.entries.len(),
            failed: false,
        });
        Ok(log)
    }

    /// The id the next event gets.
    #[cfg(test)]
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// How many events are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Appends an event with the next id (written to the file first, if any) and returns it.
    pub fn append(
        &mut self,
        event: &str,
        room: Option<&str>,
        raw: bool,
        data: Value,
        except: Option<&str>,
    ) -> Arc<LogEntry> {
        let entry = Arc::new(LogEntry {
            id: self.next_id,
            event: event.to_owned(),
            room: room.map(str::to_owned),
            raw,
            data,
            except: except.map(str::to_owned),
        });
        self.next_id += 1;
        self.write(&entry);
        self.keep(Arc::clone(&entry));
        entry
    }

    /// The kept events with an id above `last` that concern one of `rooms` or no room, in order.
    pub fn after(&self, last: u64, rooms: &[String]) -> Vec<Arc<LogEntry>> {
        let start = self.entries.partition_point(|e| e.id <= last);
        self.entries
            .range(start..)
            .filter(|e| e.room.as_ref().is_none_or(|room| rooms.contains(room)))
            .cloned()
            .collect()
    }

    fn keep(&mut self, entry: Arc<LogEntry>) {
        self.bytes += entry.weight();
        self.entries.push_back(entry);
        while self.entries.len() > self.max_entries || self.bytes > MAX_BYTES {
            match self.entries.pop_front() {
                Some(old) => self.bytes -= old.weight(),
                None => break,
            }
        }
    }

    fn write(&mut self, entry: &LogEntry) {
        let max = self.max_entries;
        let Some(log) = self.file.as_mut().filter(|f| !f.failed) else {
            return;
        };
        let result = if log.lines + 1 >= 2 * max {
            // Compacts: the kept events (less the oldest, which this one pushes out) plus this.
            let kept = self
                .entries
                .iter()
                .skip((self.entries.len() + 1).saturating_sub(max))
                .cloned()
                .chain([Arc::new(entry.clone())])
                .collect::<VecDeque<_>>();
            rewrite(&log.path, &kept).map(|file| {
                log.file = file;
                log.lines = kept.len();
            })
        } else {
            let mut line = serde_json::to_string(entry).unwrap_or_default();
            line.push('\n');
            log.file.write_all(line.as_bytes()).map(|()| log.lines += 1)
        };
        if let Err(e) = result {
            log.failed = true;
            eprintln!(
                "rtio-server: cannot write the SSE log {}: {e}; keeping it in memory only",
                log.path.display()
            );
        }
    }
}

/// The entries of a log file's text, ids increasing; lines that do not parse are skipped.
pub fn parse_lines(text: &str) -> Vec<LogEntry> {
    let mut out: Vec<LogEntry> = Vec::new();
    for line in text.lines() {
        let Ok(entry) = serde_json::from_str::<LogEntry>(line) else {
            continue;
        };
        let valid = entry.id > 0
            && entry.id < u64::MAX / 2
            && !entry.event.contains(['\r', '\n'])
            && out.last().is_none_or(|last| entry.id > last.id);
        if valid {
            out.push(entry);
        }
    }
    out
}

/// Writes `entries` to `path` (through a temporary file renamed over it) and opens it to append.
fn rewrite(path: &Path, entries: &VecDeque<Arc<LogEntry>>) -> io::Result<File> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut text = String::new();
    for entry in entries {
        text.push_str(&serde_json::to_string(&**entry).unwrap_or_default());
        text.push('\n');
    }
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path)?;
    OpenOptions::new().append(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(entries: &[Arc<LogEntry>]) -> Vec<u64> {
        entries.iter().map(|e| e.id).collect()
    }

    fn rooms(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ids_grow_and_the_log_is_bounded() {
        let mut log = EventLog::in_memory(3);
        for n in 1..=5 {
            let e = log.append("e", None, false, json!(n), None);
            assert_eq!(e.id, n);
        }
        assert_eq!(log.len(), 3);
        assert_eq!(ids(&log.after(0, &[])), vec![3, 4, 5]);
        assert_eq!(log.next_id(), 6);
    }

    #[test]
    fn resume_selection() {
        let mut log = EventLog::in_memory(100);
        log.append("a", Some("r1"), false, json!(1), None); // 1
        log.append("b", Some("r2"), false, json!(2), None); // 2
        log.append("c", None, false, json!(3), None); // 3
        log.append("d", Some("r1"), false, json!(4), Some("x")); // 4
        assert_eq!(ids(&log.after(0, &rooms(&["r1"]))), vec![1, 3, 4]);
        assert_eq!(ids(&log.after(1, &rooms(&["r1"]))), vec![3, 4]);
        assert_eq!(ids(&log.after(1, &rooms(&["r1", "r2"]))), vec![2, 3, 4]);
        assert_eq!(ids(&log.after(1, &[])), vec![3]);
        assert_eq!(ids(&log.after(4, &rooms(&["r1"]))), Vec::<u64>::new());
        // Beyond the last: nothing.
        assert_eq!(ids(&log.after(99, &rooms(&["r1"]))), Vec::<u64>::new());
    }

    #[test]
    fn resume_older_than_the_log_keeps_what_is_left() {
        let mut log = EventLog::in_memory(2);
        for _ in 0..4 {
            log.append("e", Some("r"), false, json!(null), None);
        }
        assert_eq!(ids(&log.after(1, &rooms(&["r"]))), vec![3, 4]);
    }

    #[test]
    fn sse_text() {
        assert_eq!(
            sse_block(Some(7), "chat", r#"{"a":1}"#),
            "id: 7\nevent: chat\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(sse_block(None, "ping", "{}"), "event: ping\ndata: {}\n\n");
        assert_eq!(
            sse_block(Some(1), "note", "a\nb\r\nc\rd"),
            "id: 1\nevent: note\ndata: a\ndata: b\ndata: c\ndata: d\n\n"
        );
        assert_eq!(sse_block(None, "e", ""), "event: e\ndata: \n\n");
        assert_eq!(data_lines("x\n"), vec!["x", ""]);
        let raw = LogEntry {
            id: 2,
            event: "n".into(),
            room: None,
            raw: true,
            data: json!("l1\nl2"),
            except: None,
        };
        assert_eq!(raw.to_sse(), "id: 2\nevent: n\ndata: l1\ndata: l2\n\n");
        let json_string = LogEntry { raw: false, ..raw };
        assert_eq!(json_string.data_text(), r#""l1\nl2""#);
    }

    #[test]
    fn file_round_trip_and_torn_lines() {
        let dir = std::env::temp_dir().join(format!(
            "rtio-eventlog-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("log.jsonl");
        let _ = fs::remove_file(&path);
        {
            let mut log = EventLog::open(&path, 3).expect("open");
            for n in 1..=4 {
                log.append("e", Some("r"), false, json!(n), None);
            }
        }
        // A torn last line, as a crash may leave.
        let mut file = OpenOptions::new().append(true).open(&path).expect("append");
        file.write_all(b"{\"id\":5,\"ev").expect("write");
        drop(file);
        let mut log = EventLog::open(&path, 3).expect("reopen");
        assert_eq!(log.next_id(), 5);
        assert_eq!(ids(&log.after(0, &rooms(&["r"]))), vec![2, 3, 4]);
        assert_eq!(log.append("e", None, false, json!(null), None).id, 5);
        // Many more: the file is compacted and still reads back in order.
        for _ in 0..10 {
            log.append("e", None, false, json!(null), None);
        }
        drop(log);
        let entries = parse_lines(&fs::read_to_string(&path).expect("read"));
        let back: Vec<u64> = entries.iter().map(|e| e.id).collect();
        assert!(back.ends_with(&[13, 14, 15]), "{back:?}");
        assert!(back.len() <= 6, "{back:?}");
        let log = EventLog::open(&path, 3).expect("reopen again");
        assert_eq!(log.next_id(), 16);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_lines_are_skipped() {
        let text = "not json\n{\"id\":3,\"event\":\"a\"}\n{\"id\":2,\"event\":\"b\"}\n\
                    {\"id\":4,\"event\":\"x\\ny\"}\n{\"id\":5,\"event\":\"c\",\"room\":\"r\"}\n";
        let entries = parse_lines(text);
        assert_eq!(entries.iter().map(|e| e.id).collect::<Vec<_>>(), vec![3, 5]);
        assert_eq!(entries[0].data, Value::Null);
    }
}
