//! The JavaScript front door's bridge: two exported functions the npm package's `index.js`
//! drives through a small `Engine` class of its own.
//!
//! The wasm keeps the whole protocol (the session); the `Engine` class owns the browser
//! resources it asks for — the WebSocket and one timer — and reports back what they do. Keeping
//! them in JS spares the wasm every closure, WebSocket binding and their glue.
//!
//! - `open(handler) -> handle` creates a connection whose outputs go to `handler`; nothing
//!   connects until a namespace does.
//! - `cmd(handle, op, nsp, text, bins, num) -> number` runs one command or input (`text` is
//!   always a string, `""` when the command has none):
//!
//! | op | command | text | bins | num | returns |
//! |---|---|---|---|---|---|
//! | 0 | connect `nsp` | auth JSON or `""` | | | |
//! | 1 | disconnect `nsp` | | | | |
//! | 2 | emit on `nsp` | `[event, ...args]` JSON | attachments or `undefined` | ack timeout: `-1` no ack, `0` none, `> 0` ms | ack id, `-1` no ack, `-2` buffer full, `-3` not a JSON array |
//! | 3 | ack on `nsp` | args JSON | attachments or `undefined` | ack id | |
//! | 4 | close the connection | | | | |
//! | 5 | release the handle (after `close`) | | | | |
//! | 6 | the WebSocket opened | | | | |
//! | 7 | a frame arrived | the text frame | the binary frame (`ArrayBuffer`), `undefined` for text | | |
//! | 8 | the WebSocket closed | | | `0` closed, `1` error | |
//! | 9 | the timer fired | | | | |
//! | 10 | is the session idle (nothing connected, buffered or awaited)? | | | | `1` or `0` |
//!
//! Every other op, or an unknown handle, returns `-4`.
//!
//! Two exports instead of a class with a method each: every export carries its own argument
//! marshalling, and a class adds borrow checks and finalizer glue.
//!
//! Payloads cross as JSON text, parsed and stringified by the browser's own `JSON` in
//! `index.js`; binary attachments cross as `ArrayBuffer`s and are never copied into wasm memory.
//!
//! The handler receives `(kind, nsp, a, b, c)`; kinds 0-7 are events, 8-11 requests to the
//! `Engine` (with `nsp` empty):
//!
//! | kind | event | a | b | c |
//! |---|---|---|---|---|
//! | 0 | CONNECT | socket id | | |
//! | 1 | DISCONNECT | reason | | |
//! | 2 | EVENT | `[event, ...args]` JSON text | ack id or `undefined` | attachments or `undefined` |
//! | 3 | ACK | args JSON text | ack id | attachments or `undefined` |
//! | 4 | CONNECT_ERROR | error data JSON text | | |
//! | 5 | ACK_ERROR | `"timeout"` or `"disconnected"` | ack id | |
//! | 6 | ENGINE_OPEN | Engine.IO session id | | |
//! | 7 | ENGINE_CLOSE | reason | | |
//! | 8 | open a WebSocket (closing any previous one), report with ops 6-8 | | | |
//! | 9 | close the WebSocket (without reporting) | | | |
//! | 10 | write a text frame, then each attachment as a binary frame; on failure report op 8 with `1` | text frame | | attachments or `undefined` |
//! | 11 | (re)arm the timer, reported with op 9 | | delay in ms, `undefined` to disarm | |
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
    EmitError, Millis, Session, SessionConfig, TransportClosed, TransportCommand,
};
use crate::shell::{clock, Bins};

#[wasm_bindgen]
extern "C" {
    // The handler, seen through a five-argument `call`.
    #[wasm_bindgen(js_name = Function)]
    type Handler;
    #[wasm_bindgen(method, catch, js_name = call)]
    fn call5(
        this: &Handler,
        ctx: &JsValue,
        kind: u32,
        nsp: &str,
        a: &str,
        b: Option<f64>,
        c: &JsValue,
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

/// One connection: its session and the handler its outputs go to.
struct Conn {
    state: RefCell<State>,
    handler: Handler,
    /// Set while a call is handing outputs over (an inner `cmd` leaves them to it).
    draining: Cell<bool>,
}

struct State {
    session: Session<Bins>,
    last_now: Millis,
    /// When the `Engine`'s timer fires, if armed.
    armed: Option<Millis>,
}

/// One output for the handler: `(kind, nsp, a, b, c)`.
type Output = (u32, String, String, Option<u64>, Bins);

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

/// The session's next output: frames first (so a final `DISCONNECT` is written before the
/// socket closes), then transport requests, the timer, then events.
fn next(conn: &Conn) -> Option<Output> {
    let mut st = conn.state.try_borrow_mut().ok()?;
    let st = &mut *st;
    if let Some(t) = st.session.poll_transmit() {
        return Some((SEND, String::new(), t.text, None, t.attachments));
    }
    if let Some(c) = st.session.poll_transport() {
        let kind = if c == TransportCommand::Open {
            OPEN_SOCKET
        } else {
            CLOSE_SOCKET
        };
        return Some((kind, String::new(), String::new(), None, None));
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
        let delay = want.map(|t| t.saturating_sub(now));
        return Some((ARM_TIMER, String::new(), String::new(), delay, None));
    }
    let ev = st.session.poll_event()?;
    Some((ev.kind as u32, ev.nsp, ev.text, ev.id, ev.attachments))
}

/// Hands every pending output to the handler, unless an outer call is doing so.
fn drain(conn: &Conn) {
    if conn.draining.replace(true) {
        return;
    }
    while let Some((kind, nsp, a, b, c)) = next(conn) {
        // One call site for every kind keeps the wasm small.
        let c = c.map_or(JsValue::UNDEFINED, JsValue::from);
        let b = b.map(|n| n as f64);
        if let Err(e) = conn
            .handler
            .call5(&JsValue::UNDEFINED, kind, &nsp, &a, b, &c)
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
            last_now: 0,
            armed: None,
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
pub fn cmd(handle: u32, op: u32, nsp: &str, text: &str, bins: JsValue, num: f64) -> f64 {
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
        let s = &mut st.session;
        match op {
            // JSON texts are never empty: "" is no auth.
            0 => s.connect(nsp, (!text.is_empty()).then(|| text.into()), now),
            1 => s.disconnect(nsp, now),
            2 => {
                let ack = if num < 0.0 {
                    None
                } else if num >= 1.0 {
                    Some(Some(num as u64))
                } else {
                    Some(None)
                };
                ret = match s.emit(nsp, text.into(), attachments(bins), ack, now) {
                    Ok(id) => id.map_or(-1.0, |id| id as f64),
                    Err(EmitError::BufferFull) => -2.0,
                    Err(EmitError::BadPayload) => -3.0,
                };
            }
            3 => {
                if num >= 0.0 {
                    s.ack(nsp, num as u64, text.into(), attachments(bins));
                }
            }
            4 => s.close(now),
            6 => s.handle_transport_open(now),
            7 => {
                if bins.is_undefined() {
                    s.handle_text(now, text);
                } else {
                    s.handle_binary(now, bins);
                }
            }
            8 => {
                let how = if num > 0.0 {
                    TransportClosed::Error
                } else {
                    TransportClosed::Closed
                };
                s.handle_transport_close(now, how);
            }
            9 => {
                st.armed = None;
                st.session.handle_timeout(now);
            }
            10 => ret = f64::from(u8::from(s.is_idle())),
            _ => return -4.0,
        }
    }
    drain(&conn);
    ret
}
