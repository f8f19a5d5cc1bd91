//! The bridge of the SSE and plain-WebSocket modes of the npm package (`rtio/sse`, `rtio/ws`):
//! three exported functions and three imports, declared by hand and bound by `js/stream.js`.
//!
//! The wasm keeps what the two modes share, the reconnecting [`Stream`] (backoff with jitter
//! and the server's floor, the bounded buffer of sends made while down, the connect timeout,
//! the heartbeat watchdog and pings, offline, online and visibility), and the SSE parser of the
//! fetch transport ([`SseParser`]). The JS shell owns the `EventSource`, `WebSocket` or `fetch`
//! and one timer, and reports what they do.
//!
//! What is sent stays a JS value: the wasm holds its *ref* (an index into the shell's table;
//! see [`super::js_shared`]) until the stream hands it back to be written.
//!
//! Exports:
//! - `o(attempts, delay, delayMax, randomization, timeout, idle, ping, maxBuffer, seed) ->
//!   handle` makes a stream (see [`open`]); it connects on op 0. Its outputs go to the
//!   handler the shell registers under the handle.
//! - `b(len) -> pointer`: where to write `len` bytes for op 12.
//! - `c(handle, op, num, data) -> number` runs one command or input:
//!
//! | op | command or input | num | data | returns |
//! |---|---|---|---|---|
//! | 0 | connect | | | |
//! | 1 | disconnect | | | |
//! | 2 | send `data` (written now, or held while down) | | the value | `0`, `-2` buffer full (`data` is released) |
//! | 3 | send `data` only if open | | the value | `1` sent, `0` dropped |
//! | 4 | the transport opened | | | |
//! | 5 | something arrived | | | |
//! | 6 | the transport closed | `0` closed, `1` failed | | |
//! | 7 | the timer fired | | | |
//! | 8 | the network went away or came back | `0` offline, `1` online | | |
//! | 9 | the page became visible | | | |
//! | 10 | the server's reconnect delay floor (SSE `retry:`) | ms | | |
//! | 11 | release the handle | | | |
//! | 12 | `num` bytes of an SSE body, written at `b` | length | | |
//! | 13 | the SSE body ended or was abandoned: forget a partial event | | | |
//! | 14 | drop the held sends, each handed back as kind 10 | | | how many |
//!
//! Every other op, or an unknown handle, returns `-4`.
//!
//! Imports (module `r`): `o` the handler below, `d(ref)` release a ref, `n()` `Date.now()`.
//!
//! The handler `o(handle, kind, sPtr, sLen, num, ref)` gets a string `s` (UTF-8 in the wasm's
//! memory; none when `sLen` is 0), a number and a ref, which becomes the handler's. It must
//! not throw. The calls come in the order the stream produced them, then the timer request.
//!
//! | kind | meaning | s | num | ref |
//! |---|---|---|---|---|
//! | 0 | open the transport (closing any previous one); report with ops 4-6 | | | |
//! | 1 | close the transport, without reporting | | | |
//! | 2 | write the value | | | the value |
//! | 3 | write a heartbeat | | | |
//! | 4 | connected | | attempts it took | |
//! | 5 | disconnected | reason | | |
//! | 6 | an attempt failed | reason | the attempt | |
//! | 7 | reconnect attempt | | its number | |
//! | 8 | gave up reconnecting | | | |
//! | 9 | (re)arm the timer, reported with op 7 | | delay ms, `-1` disarm | |
//! | 10 | a held send dropped by op 14 | | | the value |
//! | 11 | an SSE event's last event id, then 12 and 13 | id | | |
//! | 12 | its event name (`message` when none) | name | | |
//! | 13 | its data: dispatch the event | data | | |
//! | 14 | the SSE body broke a limit (the offending line or event was skipped) | message | | |
//!
//! The stream is never borrowed while the handler runs, so the handler may call `c`; what such
//! a call produces is handed over after the outputs already waiting.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use super::js_shared::{self, date_now, room, Global, Ref, Slots};
use crate::codec::sse::{SseItem, SseParser};
use crate::session::backoff::BackoffConfig;
use crate::session::stream::{Output as StreamOutput, Stream, StreamConfig};
use crate::session::Millis;
use crate::shell::clock;

// SAFETY: `stream.js` provides `o` as a plain JS function on numbers; it reads the `len` bytes
// at the pointer it is given and may call back into `c`, which the code below allows for.
#[link(wasm_import_module = "r")]
unsafe extern "C" {
    #[link_name = "o"]
    safe fn handler(handle: u32, kind: u32, s: *const u8, len: usize, num: f64, r: u32);
}

const ARM_TIMER: u32 = 9;
const DROPPED: u32 = 10;
const SSE_ID: u32 = 11;
const SSE_DATA: u32 = 13;
const SSE_ERROR: u32 = 14;

/// One stream and the handle its outputs are reported under.
struct Conn {
    handle: u32,
    state: RefCell<State>,
    /// Set while a call is handing outputs over (an inner `cmd` leaves them to it).
    draining: Cell<bool>,
}

struct State {
    stream: Stream<Ref>,
    /// The fetch transport's parser, made on its first bytes.
    sse: Option<SseParser>,
    /// Outputs of this module's own (SSE events, dropped sends), handed over before the
    /// stream's.
    extra: Vec<Out>,
    last_now: Millis,
    /// When the shell's timer fires, if armed.
    armed: Option<Millis>,
}

/// One handler call: `(kind, s, num, ref)`.
type Out = (u32, String, f64, Ref);

/// The open streams, indexed by handle.
static SLOTS: Slots<Conn> = Slots::new();

/// The bytes of the next op 12, written by `stream.js`.
static SCRATCH: Global<Vec<u8>> = Global(RefCell::new(Vec::new()));

/// A number of milliseconds from JS: `0` (or less, or NaN) is none.
fn millis(ms: f64) -> Option<Millis> {
    (ms >= 1.0).then_some(ms as Millis)
}

/// Makes a stream; see the module docs.
///
/// The arguments: reconnection attempts (`-1`: no reconnection; infinity: unlimited), first
/// and largest delay (ms), randomization factor, connect timeout, idle timeout and ping
/// interval (ms; `0`: none), buffer size (sends), and the seed of the jitter.
#[export_name = "o"]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn open(
    attempts: f64,
    initial: f64,
    max: f64,
    randomization: f64,
    connect_timeout: f64,
    idle: f64,
    ping: f64,
    max_buffer: f64,
    seed: f64,
) -> u32 {
    // Float-to-int casts saturate: infinity is the largest value, NaN 0.
    let config = StreamConfig {
        backoff: BackoffConfig {
            initial: initial as Millis,
            max: max as Millis,
            randomization,
        },
        reconnection: attempts >= 0.0,
        attempts: attempts as u32,
        idle_timeout: millis(idle),
        ping_interval: millis(ping),
        connect_timeout: millis(connect_timeout),
        max_buffer: max_buffer as usize,
        seed: seed as u64,
    };
    SLOTS.insert(|handle| Conn {
        handle,
        state: RefCell::new(State {
            stream: Stream::new(config),
            sse: None,
            extra: Vec::new(),
            last_now: 0,
            armed: None,
        }),
        draining: Cell::new(false),
    })
}

/// Makes room for `len` bytes for the next op 12 and returns where to write them.
#[export_name = "b"]
pub extern "C" fn buffer(len: usize) -> *mut u8 {
    room(&SCRATCH, len)
}

/// Runs one command or input on a stream; see the table in the module docs.
#[export_name = "c"]
pub extern "C" fn cmd(handle: u32, op: u32, num: f64, data: u32) -> f64 {
    // Owned from here on, whatever happens.
    let data = Ref(data);
    if op == 11 {
        SLOTS.remove(handle);
        return 0.0;
    }
    let Some(conn) = SLOTS.get(handle) else {
        return -4.0;
    };
    let ret = {
        let Ok(mut st) = conn.state.try_borrow_mut() else {
            return -4.0;
        };
        run(&mut st, op, num, data)
    };
    drain(&conn);
    ret
}

fn run(st: &mut State, op: u32, num: f64, data: Ref) -> f64 {
    let now = clock::monotonic(&mut st.last_now, date_now());
    let s = &mut st.stream;
    match op {
        0 => s.connect(now),
        1 => s.disconnect(),
        2 => {
            if s.send(data, now).is_err() {
                return -2.0;
            }
        }
        3 => return f64::from(u8::from(s.send_volatile(data, now))),
        4 => s.handle_opened(now),
        5 => s.handle_activity(now),
        6 => s.handle_closed(num > 0.0, now),
        7 => {
            st.armed = None;
            s.handle_timeout(now);
        }
        8 => s.handle_network(num == 1.0, now),
        9 => s.handle_visible(now),
        10 => s.handle_retry(num as Millis),
        12 => feed(st, num as usize, now),
        13 => st.sse = None,
        14 => {
            let held = s.clear_buffer();
            let n = held.len();
            st.extra
                .extend(held.into_iter().map(|r| (DROPPED, String::new(), 0.0, r)));
            return n as f64;
        }
        _ => return -4.0,
    }
    0.0
}

/// Parses `len` bytes of an SSE body from the scratch buffer; its events become outputs.
fn feed(st: &mut State, len: usize, now: Millis) {
    let Ok(bytes) = SCRATCH.0.try_borrow() else {
        return;
    };
    let parser = st.sse.get_or_insert_with(SseParser::new);
    parser.feed(bytes.get(..len).unwrap_or_default());
    st.stream.handle_activity(now);
    while let Some(item) = parser.poll() {
        match item {
            SseItem::Event(ev) => {
                st.extra.push((SSE_ID, ev.id, 0.0, Ref(0)));
                st.extra.push((SSE_ID + 1, ev.event, 0.0, Ref(0)));
                st.extra.push((SSE_DATA, ev.data, 0.0, Ref(0)));
            }
            SseItem::Retry(ms) => st.stream.handle_retry(ms),
            SseItem::Error(e) => st.extra.push((SSE_ERROR, e.as_str().into(), 0.0, Ref(0))),
            SseItem::Comment(_) => {}
        }
    }
}

/// The next output: this module's own first, then the stream's, then the timer request.
fn next(conn: &Conn) -> Option<Out> {
    let mut st = conn.state.try_borrow_mut().ok()?;
    if !st.extra.is_empty() {
        return Some(st.extra.remove(0));
    }
    let out = match st.stream.poll_output() {
        Some(o) => o,
        None => return rearm(&mut st),
    };
    let none = String::new;
    Some(match out {
        StreamOutput::Open => (0, none(), 0.0, Ref(0)),
        StreamOutput::Close => (1, none(), 0.0, Ref(0)),
        StreamOutput::Send(r) => (2, none(), 0.0, r),
        StreamOutput::Ping => (3, none(), 0.0, Ref(0)),
        StreamOutput::Connected { attempts } => (4, none(), f64::from(attempts), Ref(0)),
        StreamOutput::Disconnected(why) => (5, why.as_str().into(), 0.0, Ref(0)),
        StreamOutput::OpenFailed { attempt, reason } => {
            (6, reason.as_str().into(), f64::from(attempt), Ref(0))
        }
        StreamOutput::ReconnectAttempt(n) => (7, none(), f64::from(n), Ref(0)),
        StreamOutput::ReconnectFailed => (8, none(), 0.0, Ref(0)),
    })
}

/// The timer request once nothing else is left, if the timer must change.
fn rearm(st: &mut State) -> Option<Out> {
    let last = &mut st.last_now;
    let delay = js_shared::rearm(st.stream.poll_timeout(), &mut st.armed, || {
        clock::monotonic(last, date_now())
    })?;
    Some((
        ARM_TIMER,
        String::new(),
        delay.map_or(-1.0, |d| d as f64),
        Ref(0),
    ))
}

/// Hands every pending output to the handler, unless an outer call is doing so.
fn drain(conn: &Conn) {
    if conn.draining.replace(true) {
        return;
    }
    while let Some((kind, s, num, r)) = next(conn) {
        handler(conn.handle, kind, s.as_ptr(), s.len(), num, r.into_raw());
    }
    conn.draining.set(false);
}
