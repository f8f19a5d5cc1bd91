//! The JavaScript front door's bridge: the `Engine` class the npm package's `index.js` drives.
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

/// One Engine.IO connection, carrying any number of Socket.IO namespaces.
#[wasm_bindgen]
pub struct Engine {
    link: Link,
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

#[wasm_bindgen]
impl Engine {
    /// A connection to `url` (a complete `ws:`/`wss:` Engine.IO URL); `handler` receives every
    /// event (see the table in the module docs). Nothing connects until `connect`.
    #[wasm_bindgen(constructor)]
    pub fn new(url: String, handler: Function) -> Engine {
        let handler: Handler = handler.unchecked_into();
        let link = Link::new(url, SessionConfig::default(), move |ev| {
            deliver(&handler, ev)
        });
        Engine { link }
    }

    /// Connects namespace `nsp` with an optional auth payload (JSON object text).
    pub fn connect(&self, nsp: &str, auth: Option<String>) {
        self.link.connect(nsp, auth);
    }

    /// Disconnects namespace `nsp`.
    pub fn disconnect(&self, nsp: &str) {
        self.link.disconnect(nsp);
    }

    /// Emits `data` (`[event, ...args]` JSON text with placeholders) and its binary `bins` on
    /// `nsp`. `ack_timeout_ms`: `-1` no ack, `0` ack without timeout, `> 0` ack with timeout.
    /// Returns the ack id, `-1` when sent without ack, `-2` when the send buffer is full,
    /// `-3` when `data` is not a JSON array (`index.js` turns these into thrown `Error`s; a
    /// number keeps the export small).
    pub fn emit(
        &self,
        nsp: &str,
        data: String,
        bins_list: Option<Array>,
        ack_timeout_ms: f64,
    ) -> f64 {
        let ack = if ack_timeout_ms < 0.0 {
            None
        } else if ack_timeout_ms >= 1.0 {
            Some(Some(ack_timeout_ms as u64))
        } else {
            Some(None)
        };
        match self.link.emit(nsp, data, bins_list, ack) {
            Ok(id) => id.map_or(-1.0, |id| id as f64),
            Err(EmitError::BufferFull) => -2.0,
            Err(EmitError::BadPayload) => -3.0,
        }
    }

    /// Acknowledges the server's event `id` on `nsp` with `data` (args JSON text).
    pub fn ack(&self, nsp: &str, id: f64, data: String, bins_list: Option<Array>) {
        if id >= 0.0 {
            self.link.ack(nsp, id as u64, data, bins_list);
        }
    }

    /// Closes the connection and every namespace on it.
    pub fn close(&self) {
        self.link.close();
    }
}
