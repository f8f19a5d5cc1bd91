//! The JavaScript front door's bridge: two exported functions the npm package's `index.js`
//! drives through a small `Engine` class of its own.
//!
//! - `open(url, handler) -> handle` creates a connection to `url` (a complete `ws:`/`wss:`
//!   Engine.IO URL) whose events go to `handler`; nothing connects until a namespace does.
//! - `cmd(handle, op, nsp, text, bins, num) -> number` runs one command:
//!
//! | op | command | text | bins | num | returns |
//! |---|---|---|---|---|---|
//! | 0 | connect `nsp` | auth JSON or `undefined` | | | |
//! | 1 | disconnect `nsp` | | | | |
//! | 2 | emit on `nsp` | `[event, ...args]` JSON | attachments or `undefined` | ack timeout: `-1` no ack, `0` none, `> 0` ms | ack id, `-1` no ack, `-2` buffer full, `-3` not a JSON array |
//! | 3 | ack on `nsp` | args JSON | attachments or `undefined` | ack id | |
//! | 4 | close the connection | | | | |
//! | 5 | release the handle (after `close`) | | | | |
//!
//! Two exports instead of a class with a method each: every export carries its own argument
//! marshalling, and a class adds borrow checks and finalizer glue.
//!
//! Payloads cross as JSON text, parsed and stringified by the browser's own `JSON` in
//! `index.js`; binary attachments cross as `ArrayBuffer`s and are never copied into wasm memory.
//!
//! The handler receives `(kind, nsp, a, b, c)`:
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

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use crate::session::{AckFailure, EmitError, SessionConfig, SessionEvent};
use crate::shell::link::{Event, Link};

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

/// The open connections, indexed by handle. The npm build runs on one thread.
struct Slots(RefCell<Vec<Option<Link>>>);

// SAFETY: wasm32 without threads: there is only one thread.
unsafe impl Sync for Slots {}

static SLOTS: Slots = Slots(RefCell::new(Vec::new()));

/// The link of `handle`, cloned so that no borrow is held while it runs (handlers may call
/// back into `cmd`).
fn link(handle: u32) -> Option<Link> {
    let slots = SLOTS.0.try_borrow().ok()?;
    slots.get(handle as usize)?.clone()
}

fn deliver(handler: &Handler, ev: Event) {
    let none: &Option<Array> = &None;
    // One call site for every kind keeps the wasm small: `a` is always a string, `b` a number
    // or `undefined`, `c` attachments or `undefined`.
    let (kind, nsp, a, b, c): (u32, &str, &str, Option<u64>, &Option<Array>) = match &ev {
        SessionEvent::Connect { nsp, sid } => (0, nsp, sid, None, none),
        SessionEvent::Disconnect { nsp, reason } => (1, nsp, reason.as_str(), None, none),
        SessionEvent::Event {
            nsp,
            data,
            id,
            attachments,
        } => (2, nsp, data, *id, attachments),
        SessionEvent::Ack {
            nsp,
            id,
            data,
            attachments,
        } => (3, nsp, data, Some(*id), attachments),
        SessionEvent::ConnectError { nsp, data } => (4, nsp, data, None, none),
        SessionEvent::AckFailed { nsp, id, failure } => {
            let why = match failure {
                AckFailure::Timeout => "timeout",
                AckFailure::Disconnected => "disconnected",
            };
            (5, nsp, why, Some(*id), none)
        }
        SessionEvent::EngineOpen { sid } => (6, "", sid, None, none),
        SessionEvent::EngineClose { reason } => (7, "", reason.as_str(), None, none),
    };
    let c = c.as_ref().map_or(JsValue::UNDEFINED, JsValue::from);
    let b = b.map(|id| id as f64);
    if let Err(e) = handler.call5(&JsValue::UNDEFINED, kind, nsp, a, b, &c) {
        let _ = report_error(&e);
    }
}

/// Opens a connection handle; see the module docs.
#[wasm_bindgen]
pub fn open(url: String, handler: Function) -> u32 {
    let handler: Handler = handler.unchecked_into();
    let link = Link::new(url, SessionConfig::default(), move |ev| {
        deliver(&handler, ev)
    });
    let Ok(mut slots) = SLOTS.0.try_borrow_mut() else {
        return u32::MAX;
    };
    // Reuse a released slot so a page that opens and closes many connections stays small.
    match slots.iter().position(Option::is_none) {
        Some(at) => {
            if let Some(slot) = slots.get_mut(at) {
                *slot = Some(link);
            }
            at as u32
        }
        None => {
            slots.push(Some(link));
            (slots.len() - 1) as u32
        }
    }
}

/// Runs one command on a connection; see the table in the module docs.
#[wasm_bindgen]
pub fn cmd(
    handle: u32,
    op: u32,
    nsp: &str,
    text: Option<String>,
    bins: Option<Array>,
    num: f64,
) -> f64 {
    if op == 5 {
        // Dropping the last handle closes the socket and frees its closures.
        let released = SLOTS
            .0
            .try_borrow_mut()
            .ok()
            .and_then(|mut s| s.get_mut(handle as usize).and_then(Option::take));
        drop(released);
        return 0.0;
    }
    let Some(link) = link(handle) else {
        return -4.0;
    };
    match op {
        0 => link.connect(nsp, text),
        1 => link.disconnect(nsp),
        2 => {
            let ack = if num < 0.0 {
                None
            } else if num >= 1.0 {
                Some(Some(num as u64))
            } else {
                Some(None)
            };
            return match link.emit(nsp, text.unwrap_or_default(), bins, ack) {
                Ok(id) => id.map_or(-1.0, |id| id as f64),
                Err(EmitError::BufferFull) => -2.0,
                Err(EmitError::BadPayload) => -3.0,
            };
        }
        3 => {
            if num >= 0.0 {
                link.ack(nsp, num as u64, text.unwrap_or_default(), bins);
            }
        }
        4 => link.close(),
        _ => return -4.0,
    }
    0.0
}
