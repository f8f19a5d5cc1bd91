//! The JavaScript front door's bridge: four exported functions and five imports, declared by
//! hand and bound by the npm package's `index.js`, which drives them through a small `Engine`
//! class of its own. No wasm-bindgen: its generic glue would cost more than this whole table.
//!
//! The wasm keeps the whole protocol (the session); the `Engine` class owns the browser
//! resources it asks for — the WebSocket and one timer — and reports back what they do. Keeping
//! them in JS spares the wasm every closure, WebSocket binding and their glue.
//!
//! Payloads never enter wasm memory. A received frame stays a JS string: the wasm reads its
//! header (from the whole frame if short, else from its first 64 characters: enough for an
//! event's header with a namespace of up to about 40 characters; a longer header, or a packet
//! read whole, costs one more call with the first 4,096 characters, taken as the whole text)
//! and hands the string back with the offset where the payload begins, for the browser's
//! `JSON.parse`. JSON members (handshakes, CONNECT replies) are read from the JS string too, so
//! no frame, however large or malformed, is copied into wasm memory beyond 4,096 characters.
//! An emitted payload is the string `JSON.stringify` made; the wasm adds the header in front.
//! Binary attachments stay `ArrayBuffer`s. Namespaces cross as small indices.
//!
//! **JS values** the wasm holds (payload strings, frames, attachment arrays) live in a table in
//! `index.js`; the wasm sees their index, a *ref* (`0` is `undefined`). A ref passed to the wasm
//! is the wasm's to release (import `d`); a ref the wasm passes to the handler is the handler's.
//!
//! **Text** goes into the wasm through a scratch buffer: `b(len)` returns where to write `len`
//! bytes of UTF-8, then the next `c` reads them. Strings come out as a pointer and a length.
//!
//! Exports:
//! - `a(len) -> pointer`: a buffer for the string import `j` returns.
//! - `o(retries, maxBuffer, seed) -> handle` opens a connection with these tunables (see
//!   [`open`]); nothing connects until a namespace does (or op 19). Its outputs go to the
//!   handler `index.js` registers under the handle.
//! - `t(handle, attempts, delay, delayMax, randomization, timeout)` sets its reconnection
//!   tunables and connect timeout (see [`tune`]).
//! - `b(len) -> pointer`: the scratch buffer for the text of the next `c`.
//! - `c(handle, op, nsp, len, data, bins, count, num) -> number` runs one command or input;
//!   `nsp` is a namespace index from op 12, `len` the length of the text in the scratch buffer,
//!   `data` and `bins` refs, `count` the number of attachments in `bins`:
//!
//! | op | command | text | data | bins, count | num | returns |
//! |---|---|---|---|---|---|---|
//! | 0 | connect `nsp` | auth JSON or `""` | | | `1`: ask for the auth on every connect (kind 12) | |
//! | 1 | disconnect `nsp` | | | | | |
//! | 2 | emit on `nsp` | | `[event, ...args]` JSON | attachments | ack timeout: `-1` no ack, `0` none, `> 0` ms | ack id, `-1` no ack, `-2` buffer full |
//! | 3 | ack on `nsp` | | args JSON | attachments | ack id | |
//! | 4 | close the connection | | | | | |
//! | 5 | release the handle (after `close`) | | | | | |
//! | 6 | the WebSocket opened | | | | | |
//! | 7 | a text frame arrived | the frame, or its start | the frame | | `1` if the text is only the start | `1`: call again with more of it (taken as whole) |
//! | 8 | the WebSocket closed | | | | `0` closed, `1` error, `2` closed by the client as a loss (`engine.close()`) | |
//! | 9 | the timer fired | | | | | |
//! | 10 | is the session idle (nothing connected, buffered or awaited)? | | | | | `1` or `0` |
//! | 11 | a binary frame arrived | | the `ArrayBuffer` | | | |
//! | 12 | the index of namespace `text` (added if new) | namespace | | | | index |
//! | 13 | the auth of `nsp`, answering kind 12 | auth JSON or `""` | | | | |
//! | 14 | the network went away or came back | | | | `0` offline, `1` online | |
//! | 15 | the page became visible | | | | | |
//! | 17 | payload `num` of `nsp`'s send buffer | | | | index | its ref, or `-1` |
//! | 18 | clear `nsp`'s send buffer | | | | | |
//! | 19 | open the connection without a namespace (`Manager#open`) | | | | | |
//!
//! Every other op, or an unknown handle or namespace, returns `-4`.
//!
//! Imports (module `r`): `o` the handler call below, `d(ref)` release a ref, `p(list, ref)`
//! append a value to an array (`list` `0`: a new one) and return the array's ref, `n()`
//! `Date.now()`, `k(ref)` a second ref to the same value, and `j(ref, at, keyPtr, keyLen)`,
//! member `key` of
//! the JSON object at UTF-16 offset `at` of string `ref` (which stays the wasm's), read with
//! `JSON.parse`: a non-negative integer, a string written with export `a` (returns `-2 - len`),
//! or `-1` for anything else. Handshakes and CONNECT replies are read this way, so the wasm
//! carries no JSON parser.
//!
//! The handler `o(handle, kind, nsp, sPtr, sLen, v, at, id, bins)` gets `s`, a string the
//! session made (none when `sLen` is 0), `v`, the ref of a JS string (a received frame or an
//! emitted payload) whose payload starts at UTF-16 offset `at`, `id` (`-1`: none) and `bins`,
//! a ref. It must not throw. Kinds 0-12 are events, 16-19 requests to the `Engine`:
//!
//! | kind | event | s | v, at | id | bins |
//! |---|---|---|---|---|---|
//! | 0 | CONNECT | socket id | | | |
//! | 1 | DISCONNECT | reason | | | |
//! | 2 | EVENT | | `[event, ...args]` | ack id, if asked | attachments, if any |
//! | 3 | ACK | | args | ack id | attachments, if any |
//! | 4 | CONNECT_ERROR | message, when the connection failed (no `v`) | the server's error data JSON | | |
//! | 5 | ACK_ERROR | `"timeout"` or `"disconnected"` | | ack id | |
//! | 6 | ENGINE_OPEN | Engine.IO session id | | | |
//! | 7 | ENGINE_CLOSE | reason | | | |
//! | 8 | RECONNECT_ATTEMPT | | | attempt number | |
//! | 9 | RECONNECT | | | attempt number | |
//! | 10 | RECONNECT_ERROR | message | | | |
//! | 11 | RECONNECT_FAILED | | | | |
//! | 12 | AUTH_REQUEST: answer with op 13 | | | | |
//! | 16 | open a WebSocket (closing any previous one), report with ops 6-8 and 11 | | | | |
//! | 17 | close the WebSocket (without reporting) | | | | |
//! | 18 | write the text frame `s` + payload (if `v`), then each attachment as a binary frame; on failure report op 8 with `1` | frame or header | payload | | attachments, if any |
//! | 19 | (re)arm the timer, reported with op 9 | | | delay in ms, `-1` to disarm | |
//!
//! Outputs are handed over in the order the session produced them, then the timer request.
//! The session is never borrowed while the handler runs, so the handler may call `c`; what such
//! a call produces is handed over after the outputs already waiting.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use super::js_shared::{self, date_now, room, Global, Ref, Slots};
use crate::session::backoff::BackoffConfig;
use crate::session::{
    Attachments, EmitError, Frame, Millis, Output as SessionOutput, Session, SessionConfig,
    SessionEvent, TransportClosed, TransportCommand,
};
use crate::shell::clock;

// SAFETY: `index.js` provides these as plain JS functions that take and return numbers. `o` and
// `j` read the `len` bytes at the pointer they are given; `j` may call export `a` and write
// into the buffer it returns. Nothing else touches the wasm's memory, and nothing else calls
// back into the wasm but `o` (the handler), which the code below allows for.
#[link(wasm_import_module = "r")]
unsafe extern "C" {
    #[link_name = "o"]
    safe fn handler(
        conn: u32,
        kind: u32,
        nsp: u32,
        s: *const u8,
        len: usize,
        v: u32,
        at: u32,
        id: f64,
        bins: u32,
    );
    #[link_name = "p"]
    safe fn append(list: u32, item: u32) -> u32;
    #[link_name = "j"]
    safe fn member(frame: u32, at: u32, key: *const u8, len: usize) -> f64;
    #[link_name = "k"]
    safe fn copy(r: u32) -> u32;
}

/// Handler kinds of the requests to the `Engine` (see the module docs).
const OPEN_SOCKET: u32 = 16;
const CLOSE_SOCKET: u32 = 17;
const SEND: u32 = 18;
const ARM_TIMER: u32 = 19;

impl Clone for Ref {
    fn clone(&self) -> Self {
        Ref(if self.0 == 0 { 0 } else { copy(self.0) })
    }
}

/// A payload in the npm build: a JS string and the UTF-16 offset where the payload starts.
#[derive(Clone)]
pub struct Text {
    v: Ref,
    at: u32,
}

/// A packet's attachments in the npm build: a JS array of `ArrayBuffer`s and its length.
#[derive(Default, Clone)]
pub struct Bins {
    list: Ref,
    count: u32,
}

impl Attachments for Bins {
    type Item = Ref;
    fn count(&self) -> usize {
        self.count as usize
    }
    fn add(&mut self, item: Ref) {
        let list = core::mem::take(&mut self.list).into_raw();
        self.list = Ref(append(list, item.into_raw()));
        self.count += 1;
    }
}

/// A received frame: `start` copied into the wasm, the frame itself left a JS string.
struct JsFrame<'a> {
    start: &'a str,
    whole: bool,
    /// Taken by `cut` (once per frame).
    frame: Cell<Ref>,
}

impl Frame for JsFrame<'_> {
    type Payload = Text;
    fn text(&self) -> &str {
        self.start
    }
    fn is_whole(&self) -> bool {
        self.whole
    }
    fn string(&self, at: usize, key: &str) -> Option<String> {
        let n = self.member(at, key);
        // A string came back in the member buffer: its length is encoded as `-2 - len`.
        if n > -2.0 {
            return None;
        }
        let len = (-2.0 - n) as usize;
        let out = MEMBER.0.try_borrow().ok()?;
        out.get(..len).map(|b| String::from(text(b)))
    }
    fn number(&self, at: usize, key: &str) -> Option<u64> {
        let n = self.member(at, key);
        (n >= 0.0).then_some(n as u64)
    }
    fn cut(&self, at: usize) -> Text {
        // The header before `at` is whole in `start`.
        Text {
            at: self.utf16(at),
            v: self.frame.take(),
        }
    }
}

impl JsFrame<'_> {
    /// Byte offset `at` of `start` as an offset into the JS string (UTF-16 units).
    fn utf16(&self, at: usize) -> u32 {
        // One unit per character, two for those beyond U+FFFF (4-byte sequences): count the
        // bytes that start a character, and once more those that start a 4-byte one.
        let head = self.start.as_bytes().get(..at).unwrap_or_default();
        head.iter()
            .map(|&b| u32::from(b & 0xc0 != 0x80) + u32::from(b >= 0xf0))
            .sum()
    }

    /// Member `key` of the JSON object at byte `at` of the frame,
    /// read by `JSON.parse` in `index.js`: a non-negative integer, `-2 - len` for a string of
    /// `len` bytes written to the member buffer, or `-1`.
    fn member(&self, at: usize, key: &str) -> f64 {
        let frame = self.frame.take();
        let n = member(frame.0, self.utf16(at), key.as_ptr(), key.len());
        self.frame.set(frame);
        n
    }
}

/// One connection: its session and the handle its outputs are reported under.
struct Conn {
    handle: u32,
    state: RefCell<State>,
    /// Set while a call is handing outputs over (an inner `cmd` leaves them to it).
    draining: Cell<bool>,
}

struct State {
    session: Session<Bins, Text>,
    /// Namespace names by index.
    names: Vec<String>,
    last_now: Millis,
    /// When the `Engine`'s timer fires, if armed.
    armed: Option<Millis>,
}

/// One output for the handler: `(kind, nsp, s, v, at, id, bins)`.
type Output = (u32, u32, String, Ref, u32, Option<u64>, Ref);

/// The open connections, indexed by handle.
static SLOTS: Slots<Conn> = Slots::new();

/// The text of the next `cmd`, written by `index.js`.
static SCRATCH: Global<Vec<u8>> = Global(RefCell::new(Vec::new()));

/// The string member last read by import `j`, written by `index.js`.
static MEMBER: Global<Vec<u8>> = Global(RefCell::new(Vec::new()));

/// Text that `index.js` wrote into one of the buffers.
///
/// Not validated again here: `index.js` writes these bytes with `put`, which writes either
/// ASCII bytes or the output of `TextEncoder.encodeInto`, which is well-formed UTF-8 by the
/// Encoding Standard (a lone surrogate from the network becomes U+FFFD). Nothing else can write
/// there that could not as well write anywhere in this module's memory, which JS owns: checking
/// would protect nothing and cost the package a validator.
fn text(bytes: &[u8]) -> &str {
    // SAFETY: well-formed UTF-8, as explained above.
    unsafe { core::str::from_utf8_unchecked(bytes) }
}

/// A request to the `Engine` with nothing but its kind (and maybe a delay).
fn request(kind: u32, id: Option<u64>) -> Output {
    (kind, 0, String::new(), Ref(0), 0, id, Ref(0))
}

/// The session's next output, in the order the session produced them; then the timer.
fn next(conn: &Conn) -> Option<Output> {
    let mut st = conn.state.try_borrow_mut().ok()?;
    let st = &mut *st;
    let ev = match st.session.poll_output() {
        Some(SessionOutput::Transmit(t)) => {
            let (v, at) = t.data.map_or((Ref(0), 0), |d| (d.v, d.at));
            return Some((SEND, 0, t.text, v, at, None, t.attachments.list));
        }
        Some(SessionOutput::Transport(c)) => {
            let kind = if c == TransportCommand::Open {
                OPEN_SOCKET
            } else {
                CLOSE_SOCKET
            };
            return Some(request(kind, None));
        }
        Some(SessionOutput::Event(ev)) => ev,
        None => return rearm(st),
    };
    let SessionEvent {
        kind,
        nsp,
        text,
        data,
        id,
        attachments,
        ..
    } = ev;
    let n = st.names.iter().position(|n| *n == *nsp).unwrap_or(0);
    let (v, at) = data.map_or((Ref(0), 0), |d| (d.v, d.at));
    Some((kind as u32, n as u32, text, v, at, id, attachments.list))
}

/// The timer request once the session has no output left, if the timer must change.
fn rearm(st: &mut State) -> Option<Output> {
    let last = &mut st.last_now;
    js_shared::rearm(st.session.poll_timeout(), &mut st.armed, || {
        clock::monotonic(last, date_now())
    })
    .map(|delay| request(ARM_TIMER, delay))
}

/// Hands every pending output to the handler, unless an outer call is doing so.
fn drain(conn: &Conn) {
    if conn.draining.replace(true) {
        return;
    }
    while let Some((kind, nsp, s, v, at, id, bins)) = next(conn) {
        // One call site for every kind keeps the wasm small.
        let id = id.map_or(-1.0, |n| n as f64);
        handler(
            conn.handle,
            kind,
            nsp,
            s.as_ptr(),
            s.len(),
            v.into_raw(),
            at,
            id,
            bins.into_raw(),
        );
    }
    conn.draining.set(false);
}

/// Opens a connection; see the module docs.
///
/// The arguments are ack retries, buffer size (packets) and the seed of the jitter; the
/// reconnection tunables are set by [`tune`].
#[export_name = "o"]
pub extern "C" fn open(retries: f64, max_buffer: f64, seed: f64) -> u32 {
    SLOTS.insert(|handle| Conn {
        handle,
        state: RefCell::new(State {
            // Float-to-int casts saturate: infinity is the largest value, NaN 0.
            session: Session::new(SessionConfig {
                max_buffer: max_buffer as usize,
                seed: seed as u64,
                retries: retries as u32,
                ..SessionConfig::default()
            }),
            names: Vec::new(),
            last_now: 0,
            armed: None,
        }),
        draining: Cell::new(false),
    })
}

/// Sets the reconnection tunables of connection `handle`: attempts (`-1`: no reconnection;
/// infinity: unlimited), first and largest delay (ms), randomization factor and connect
/// timeout (ms). They apply from the next attempt on.
#[export_name = "t"]
pub extern "C" fn tune(
    handle: u32,
    attempts: f64,
    initial: f64,
    max: f64,
    randomization: f64,
    connect_timeout: f64,
) {
    let Some(conn) = SLOTS.get(handle) else {
        return;
    };
    if let Ok(mut st) = conn.state.try_borrow_mut() {
        // Float-to-int casts saturate: infinity is the largest value, NaN 0.
        st.session.set_reconnection(
            attempts >= 0.0,
            attempts as u32,
            BackoffConfig {
                initial: initial as Millis,
                max: max as Millis,
                randomization,
            },
            connect_timeout as Millis,
        );
    };
}

/// Makes room for `len` bytes of text for the next `cmd` and returns where to write them.
#[export_name = "b"]
pub extern "C" fn buffer(len: usize) -> *mut u8 {
    room(&SCRATCH, len)
}

/// Makes room for a string member of `len` bytes (see import `j`) and returns where to write it.
#[export_name = "a"]
pub extern "C" fn member_buffer(len: usize) -> *mut u8 {
    room(&MEMBER, len)
}

/// Runs one command or input on a connection; see the table in the module docs.
#[export_name = "c"]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn cmd(
    handle: u32,
    op: u32,
    nsp: u32,
    len: usize,
    data: u32,
    bins: u32,
    count: u32,
    num: f64,
) -> f64 {
    // Owned from here on, whatever happens.
    let data = Ref(data);
    let bins = Bins {
        list: Ref(bins),
        count,
    };
    if op == 5 {
        SLOTS.remove(handle);
        return 0.0;
    }
    let Some(conn) = SLOTS.get(handle) else {
        return -4.0;
    };
    let ret = {
        let (Ok(mut st), Ok(scratch)) = (conn.state.try_borrow_mut(), SCRATCH.0.try_borrow())
        else {
            return -4.0;
        };
        let text = scratch.get(..len).map(text).unwrap_or_default();
        run(&mut st, op, nsp, text, data, bins, num)
    };
    drain(&conn);
    ret
}

/// An auth payload from the bridge: JSON texts are never empty, so `""` is none.
fn auth(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.into())
}

/// One command or input, with the connection's state borrowed (nothing reaches JS but the
/// imports that do not call back).
fn run(st: &mut State, op: u32, nsp: u32, text: &str, data: Ref, bins: Bins, num: f64) -> f64 {
    let now = clock::monotonic(&mut st.last_now, date_now());
    let State {
        session: s,
        names,
        armed,
        last_now,
    } = st;
    if op == 12 {
        return match names.iter().position(|n| *n == *text) {
            Some(at) => at,
            None => {
                names.push(text.into());
                names.len() - 1
            }
        } as f64;
    }
    let name = names.get(nsp as usize).map(String::as_str);
    let payload = Text { v: data, at: 0 };
    match (op, name) {
        (0, Some(nsp)) if num == 1.0 => s.connect_asking_auth(nsp, now),
        // JSON texts are never empty: "" is no auth.
        (0, Some(nsp)) => s.connect(nsp, auth(text), now),
        (13, Some(nsp)) => s.provide_auth(nsp, auth(text)),
        (14, _) => s.handle_network(now, num == 1.0),
        (15, _) => s.handle_visible(now),
        (17, Some(nsp)) => {
            return s
                .buffer(nsp)
                .nth(num as usize)
                .map_or(-1.0, |p| f64::from(p.clone().v.into_raw()))
        }
        (18, Some(nsp)) => s.clear_buffer(nsp),
        (1, Some(nsp)) => s.disconnect(nsp, now),
        (2, Some(nsp)) => {
            let ack = if num < 0.0 {
                None
            } else if num >= 1.0 {
                Some(Some(num as u64))
            } else {
                Some(None)
            };
            return match s.emit(nsp, payload, bins, ack, now) {
                Ok(id) => id.map_or(-1.0, |id| id as f64),
                Err(EmitError::BufferFull) => -2.0,
            };
        }
        (3, Some(nsp)) => {
            if num >= 0.0 {
                s.ack(nsp, num as u64, payload, bins);
            }
        }
        (4, _) => s.close(now),
        (6, _) => s.handle_transport_open(now),
        (7, _) => {
            let frame = JsFrame {
                start: text,
                whole: num != 1.0,
                frame: Cell::new(payload.v),
            };
            if !s.handle_text(now, frame) {
                return 1.0;
            }
        }
        (8, _) => {
            let how = if num == 2.0 {
                TransportClosed::Forced
            } else if num > 0.0 {
                TransportClosed::Error
            } else {
                TransportClosed::Closed
            };
            s.handle_transport_close(now, how);
        }
        (9, _) => {
            // The timer's deadline has come, whatever the clock says: a clock replaced after
            // the import (fake timers) may stand behind the one the deadline was set on.
            let now = now.max(armed.take().unwrap_or(0));
            *last_now = now;
            s.handle_timeout(now);
        }
        (19, _) => s.open(now),
        (10, _) => return f64::from(u8::from(s.is_idle())),
        (11, _) => s.handle_binary(now, payload.v),
        _ => return -4.0,
    }
    0.0
}
