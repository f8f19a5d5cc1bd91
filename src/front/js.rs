//! The JavaScript front door's bridge: two exported functions the npm package's `index.js`
//! drives through a small `Engine` class of its own.
//!
//! The wasm keeps the whole protocol (the session); the `Engine` class owns the browser
//! resources it asks for — the WebSocket and one timer — and reports back what they do. Keeping
//! them in JS spares the wasm every closure, WebSocket binding and their glue.
//!
//! Payloads never enter wasm memory. A received frame stays a JS string: the wasm reads its
//! header (from the whole frame if short, else from its first 64 characters: enough for an
//! event's header with a namespace of up to about 40 characters; a longer header costs one more
//! call) and hands the string back with the offset where the payload begins, for the
//! browser's `JSON.parse`.
//! An emitted payload is the string `JSON.stringify` made; the wasm adds the header in front.
//! Binary attachments stay `ArrayBuffer`s. Namespaces cross as small indices.
//!
//! - `open(handler) -> handle` creates a connection whose outputs go to `handler`; nothing
//!   connects until a namespace does.
//! - `cmd(handle, op, nsp, text, data, bins, num) -> number` runs one command or input; `nsp`
//!   is a namespace index from op 12, `text` a string copied into the wasm (`""` when unused),
//!   `data` a JS string kept as is:
//!
//! | op | command | text | data | bins | num | returns |
//! |---|---|---|---|---|---|---|
//! | 0 | connect `nsp` | auth JSON or `""` | | | | |
//! | 1 | disconnect `nsp` | | | | | |
//! | 2 | emit on `nsp` | | `[event, ...args]` JSON | attachments or `undefined` | ack timeout: `-1` no ack, `0` none, `> 0` ms | ack id, `-1` no ack, `-2` buffer full |
//! | 3 | ack on `nsp` | | args JSON | attachments or `undefined` | ack id | |
//! | 4 | close the connection | | | | | |
//! | 5 | release the handle (after `close`) | | | | | |
//! | 6 | the WebSocket opened | | | | | |
//! | 7 | a text frame arrived | the frame, or its start | the frame | | `1` if `text` is only the start | `1`: call again with the whole frame as `text` |
//! | 8 | the WebSocket closed | | | | `0` closed, `1` error | |
//! | 9 | the timer fired | | | | | |
//! | 10 | is the session idle (nothing connected, buffered or awaited)? | | | | | `1` or `0` |
//! | 11 | a binary frame arrived | | | the `ArrayBuffer` | | |
//! | 12 | the index of namespace `text` (added if new) | namespace | | | | index |
//!
//! Every other op, or an unknown handle or namespace, returns `-4`.
//!
//! Two exports instead of a class with a method each: every export carries its own argument
//! marshalling, and a class adds borrow checks and finalizer glue.
//!
//! The handler receives `(kind, nsp, s, v, at, id, bins)`: `s` a string the session made, `v`
//! a JS string (a received frame or an emitted payload) whose payload starts at UTF-16 offset
//! `at`. Kinds 0-7 are events, 8-11 requests to the `Engine`:
//!
//! | kind | event | s | v, at | id | bins |
//! |---|---|---|---|---|---|
//! | 0 | CONNECT | socket id | | | |
//! | 1 | DISCONNECT | reason | | | |
//! | 2 | EVENT | | `[event, ...args]` | ack id or `undefined` | attachments or `undefined` |
//! | 3 | ACK | | args | ack id | attachments or `undefined` |
//! | 4 | CONNECT_ERROR | | error data JSON | | |
//! | 5 | ACK_ERROR | `"timeout"` or `"disconnected"` | | ack id | |
//! | 6 | ENGINE_OPEN | Engine.IO session id | | | |
//! | 7 | ENGINE_CLOSE | reason | | | |
//! | 8 | open a WebSocket (closing any previous one), report with ops 6-8 and 11 | | | | |
//! | 9 | close the WebSocket (without reporting) | | | | |
//! | 10 | write the text frame `s` + payload (if `v`), then each attachment as a binary frame; on failure report op 8 with `1` | frame or header | payload | | attachments or `undefined` |
//! | 11 | (re)arm the timer, reported with op 9 | | | delay in ms, `undefined` to disarm | |
//!
//! Outputs are handed over in the session's order: frames, transport requests, the timer, then
//! events. The session is never borrowed while the handler runs, so the handler may call
//! `cmd`; what such a call produces is handed over after the output being handled.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use crate::session::{
    EmitError, Frame, Millis, Payload, Session, SessionConfig, SessionEvent, TransportClosed,
    TransportCommand,
};
use crate::shell::{clock, Bins};

#[wasm_bindgen]
extern "C" {
    // The handler, seen through a seven-argument `call`.
    #[wasm_bindgen(js_name = Function)]
    type Handler;
    #[wasm_bindgen(method, catch, js_name = call)]
    fn call7(
        this: &Handler,
        ctx: &JsValue,
        kind: u32,
        nsp: u32,
        s: &JsValue,
        v: &JsValue,
        at: u32,
        id: Option<f64>,
        bins: &JsValue,
    ) -> Result<(), JsValue>;

    // Reports an exception thrown by a listener without interrupting delivery.
    #[wasm_bindgen(js_name = reportError, catch)]
    fn report_error(e: &JsValue) -> Result<(), JsValue>;
}

/// Handler kinds of the requests to the `Engine` (see the module docs).
const OPEN_SOCKET: u32 = 8;
const CLOSE_SOCKET: u32 = 9;
const SEND: u32 = 10;
const ARM_TIMER: u32 = 11;

/// A payload in the npm build: a JS string and the UTF-16 offset where the payload starts.
pub struct Text {
    v: JsValue,
    at: u32,
}

impl Payload for Text {
    fn from_text(text: &str) -> Self {
        Text {
            v: JsValue::from_str(text),
            at: 0,
        }
    }
}

/// A received frame: `start` copied into the wasm, the frame itself left a JS string.
struct JsFrame<'a> {
    start: &'a str,
    whole: bool,
    /// Taken by `cut` (once per frame).
    frame: Cell<JsValue>,
}

impl Frame for JsFrame<'_> {
    type Payload = Text;
    fn text(&self) -> &str {
        self.start
    }
    fn is_whole(&self) -> bool {
        self.whole
    }
    fn cut(&self, at: usize) -> Text {
        // JS strings count UTF-16 units; the header before `at` is whole in `start`.
        let at = self
            .start
            .get(..at)
            .map_or(at, |h| h.encode_utf16().count());
        Text {
            v: self.frame.take(),
            at: at as u32,
        }
    }
}

/// One connection: its session and the handler its outputs go to.
struct Conn {
    state: RefCell<State>,
    handler: Handler,
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
    /// The last frame header sent, as text and as a JS string: most emits repeat it.
    head: (String, JsValue),
}

/// One output for the handler: `(kind, nsp, s, v, at, id, bins)`.
type Output = (u32, u32, JsValue, JsValue, u32, Option<u64>, Bins);

/// The open connections, indexed by handle. The npm build runs on one thread.
struct Slots(RefCell<Vec<Option<Rc<Conn>>>>);

// SAFETY: wasm32 without threads: there is only one thread.
unsafe impl Sync for Slots {}

static SLOTS: Slots = Slots(RefCell::new(Vec::new()));

/// The connection of `handle`, cloned so that no borrow of the table is held while it runs.
fn conn(handle: u32) -> Option<Rc<Conn>> {
    let slots = SLOTS.0.try_borrow().ok()?;
    slots.get(handle as usize)?.clone()
}

/// A request to the `Engine` with nothing but its kind (and maybe a delay).
fn request(kind: u32, id: Option<u64>) -> Output {
    (kind, 0, JsValue::UNDEFINED, JsValue::UNDEFINED, 0, id, None)
}

/// The session's next output: frames first (so a final `DISCONNECT` is written before the
/// socket closes), then transport requests, the timer, then events.
fn next(conn: &Conn) -> Option<Output> {
    let mut st = conn.state.try_borrow_mut().ok()?;
    let st = &mut *st;
    if let Some(t) = st.session.poll_transmit() {
        if st.head.0 != t.text {
            st.head = (t.text.clone(), JsValue::from_str(&t.text));
        }
        let (v, at) = t.data.map_or((JsValue::UNDEFINED, 0), |d| (d.v, d.at));
        return Some((SEND, 0, st.head.1.clone(), v, at, None, t.attachments));
    }
    if let Some(c) = st.session.poll_transport() {
        let kind = if c == TransportCommand::Open {
            OPEN_SOCKET
        } else {
            CLOSE_SOCKET
        };
        return Some(request(kind, None));
    }
    // Re-arm lazily: only when the next deadline is earlier than the armed one. A timer that
    // fires early finds nothing due and is re-armed then, which keeps timer calls off the
    // per-message path.
    let want = st.session.poll_timeout();
    let rearm = match (want, st.armed) {
        (Some(t), Some(armed)) => t < armed,
        (want, armed) => want.is_some() != armed.is_some(),
    };
    if rearm {
        st.armed = want;
        let now = clock::now(&mut st.last_now);
        return Some(request(ARM_TIMER, want.map(|t| t.saturating_sub(now))));
    }
    let SessionEvent {
        kind,
        nsp,
        text,
        data,
        id,
        attachments,
        ..
    } = st.session.poll_event()?;
    let n = st.names.iter().position(|n| *n == *nsp).unwrap_or(0);
    let s = if text.is_empty() {
        JsValue::UNDEFINED
    } else {
        JsValue::from_str(&text)
    };
    let (v, at) = data.map_or((JsValue::UNDEFINED, 0), |d| (d.v, d.at));
    Some((kind as u32, n as u32, s, v, at, id, attachments))
}

/// Hands every pending output to the handler, unless an outer call is doing so.
fn drain(conn: &Conn) {
    if conn.draining.replace(true) {
        return;
    }
    while let Some((kind, nsp, s, v, at, id, bins)) = next(conn) {
        // One call site for every kind keeps the wasm small.
        let bins = bins.map_or(JsValue::UNDEFINED, JsValue::from);
        let id = id.map(|n| n as f64);
        if let Err(e) = conn
            .handler
            .call7(&JsValue::UNDEFINED, kind, nsp, &s, &v, at, id, &bins)
        {
            let _ = report_error(&e);
        }
    }
    conn.draining.set(false);
}

/// Opens a connection handle; see the module docs.
#[wasm_bindgen]
pub fn open(handler: Function) -> u32 {
    let conn = Rc::new(Conn {
        state: RefCell::new(State {
            session: Session::new(SessionConfig::default()),
            names: Vec::new(),
            last_now: 0,
            armed: None,
            head: (String::new(), JsValue::UNDEFINED),
        }),
        handler: handler.unchecked_into(),
        draining: Cell::new(false),
    });
    let Ok(mut slots) = SLOTS.0.try_borrow_mut() else {
        return u32::MAX;
    };
    // Reuse a released slot so a page that opens and closes many connections stays small.
    match slots.iter().position(Option::is_none) {
        Some(at) => {
            if let Some(slot) = slots.get_mut(at) {
                *slot = Some(conn);
            }
            at as u32
        }
        None => {
            slots.push(Some(conn));
            (slots.len() - 1) as u32
        }
    }
}

/// Attachments as they come from `index.js`: an `Array`, or `undefined` for none.
fn attachments(v: JsValue) -> Option<Array> {
    if v.is_undefined() {
        None
    } else {
        Some(v.unchecked_into())
    }
}

/// Runs one command or input on a connection; see the table in the module docs.
#[wasm_bindgen]
pub fn cmd(
    handle: u32,
    op: u32,
    nsp: u32,
    text: &str,
    data: JsValue,
    bins: JsValue,
    num: f64,
) -> f64 {
    if op == 5 {
        let released = SLOTS
            .0
            .try_borrow_mut()
            .ok()
            .and_then(|mut s| s.get_mut(handle as usize).and_then(Option::take));
        drop(released);
        return 0.0;
    }
    let Some(conn) = conn(handle) else {
        return -4.0;
    };
    let mut ret = 0.0;
    {
        let Ok(mut st) = conn.state.try_borrow_mut() else {
            return -4.0;
        };
        let st = &mut *st;
        let now = clock::now(&mut st.last_now);
        if op == 12 {
            let at = match st.names.iter().position(|n| **n == *text) {
                Some(at) => at,
                None => {
                    st.names.push(text.into());
                    st.names.len() - 1
                }
            };
            return at as f64;
        }
        let State {
            session: s, names, ..
        } = st;
        let name = names.get(nsp as usize).map(String::as_str);
        match (op, name) {
            // JSON texts are never empty: "" is no auth.
            (0, Some(nsp)) => s.connect(nsp, (!text.is_empty()).then(|| text.into()), now),
            (1, Some(nsp)) => s.disconnect(nsp, now),
            (2, Some(nsp)) => {
                let ack = if num < 0.0 {
                    None
                } else if num >= 1.0 {
                    Some(Some(num as u64))
                } else {
                    Some(None)
                };
                ret = match s.emit(nsp, Text { v: data, at: 0 }, attachments(bins), ack, now) {
                    Ok(id) => id.map_or(-1.0, |id| id as f64),
                    Err(EmitError::BufferFull) => -2.0,
                };
            }
            (3, Some(nsp)) => {
                if num >= 0.0 {
                    s.ack(nsp, num as u64, Text { v: data, at: 0 }, attachments(bins));
                }
            }
            (4, _) => s.close(now),
            (6, _) => s.handle_transport_open(now),
            (7, _) => {
                let frame = JsFrame {
                    start: text,
                    whole: num != 1.0,
                    frame: Cell::new(data),
                };
                if !s.handle_text(now, frame) {
                    return 1.0;
                }
            }
            (8, _) => {
                let how = if num > 0.0 {
                    TransportClosed::Error
                } else {
                    TransportClosed::Closed
                };
                s.handle_transport_close(now, how);
            }
            (9, _) => {
                st.armed = None;
                st.session.handle_timeout(now);
            }
            (10, _) => ret = f64::from(u8::from(s.is_idle())),
            (11, _) => s.handle_binary(now, bins),
            _ => return -4.0,
        }
    }
    drain(&conn);
    ret
}
