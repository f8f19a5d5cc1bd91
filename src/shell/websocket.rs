//! The WebSocket transport: one Engine.IO packet per frame, binary frames as `ArrayBuffer`.

use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, MessageEvent, WebSocket};

#[cfg(feature = "rust-api")]
use {
    super::link::{Bins, Wire},
    crate::session::{Millis, Session, Transmit},
};

#[wasm_bindgen]
extern "C" {
    // The same WebSocket, seen through a `send` that takes any value the browser accepts
    // (string, ArrayBuffer, any ArrayBufferView).
    #[wasm_bindgen(js_name = WebSocket)]
    type AnyWebSocket;
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send_value(this: &AnyWebSocket, data: &JsValue) -> Result<(), JsValue>;
}

/// What the transport reports.
pub(crate) enum WsSignal {
    Open,
    Message(JsValue),
    Closed,
    /// The socket failed; the `error` event.
    Error(JsValue),
}

/// An open (or opening) WebSocket and the four closures listening to it. Dropping it removes
/// the listeners and closes the socket.
#[must_use = "dropping a WsTransport closes the WebSocket"]
pub(crate) struct WsTransport {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut()>,
    _on_error: Closure<dyn FnMut(JsValue)>,
    /// Dropped with [`abandon`](Self::abandon).
    quiet: bool,
}

impl WsTransport {
    /// Opens a WebSocket to `url`; every signal goes to `on_signal`.
    pub fn open(
        url: &str,
        on_signal: impl Fn(WsSignal) + Clone + 'static,
    ) -> Result<Self, JsValue> {
        let ws = WebSocket::new(url)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let f = on_signal.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || f(WsSignal::Open));
        let f = on_signal.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            f(WsSignal::Message(e.data()))
        });
        let f = on_signal.clone();
        let on_close = Closure::<dyn FnMut()>::new(move || f(WsSignal::Closed));
        let f = on_signal;
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |e| f(WsSignal::Error(e)));
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(WsTransport {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
            quiet: false,
        })
    }

    /// The socket.
    pub fn socket(&self) -> &WebSocket {
        &self.ws
    }

    /// Drops it, quietly: one still connecting closes once it opens, rather than at once, which
    /// the browser reports on the console as a failed connection (an upgrade's probe dropped
    /// as the connection closes, say). Its listeners are removed now.
    pub fn abandon(mut self) {
        self.quiet = true;
    }
}

/// Writes one frame (a text frame or an attachment) on `ws`.
pub(crate) fn send(ws: &WebSocket, data: &JsValue) -> Result<(), JsValue> {
    ws.unchecked_ref::<AnyWebSocket>().send_value(data)
}

/// The Rust API's wire: payloads are Rust strings, frames read whole.
#[cfg(feature = "rust-api")]
pub(crate) struct Text;

#[cfg(feature = "rust-api")]
impl Wire for Text {
    type Payload = String;
    fn receive(&self, session: &mut Session<Bins, String>, now: Millis, data: JsValue) {
        match data.as_string() {
            // Passed whole, so the session always takes it.
            Some(text) => {
                session.handle_text(now, &text);
            }
            None => session.handle_binary(now, data),
        }
    }
    fn text(frame: &Transmit<Bins, String>) -> JsValue {
        match &frame.data {
            Some(data) => {
                let mut text = String::with_capacity(frame.text.len() + data.len());
                text.push_str(&frame.text);
                text.push_str(data);
                JsValue::from(text)
            }
            None => JsValue::from(frame.text.as_str()),
        }
    }
}

impl Drop for WsTransport {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        if self.quiet && self.ws.ready_state() == WebSocket::CONNECTING {
            // `close(1000, "")` bound to the socket (the `open` event it is called with comes
            // after, and is ignored): a function of the page's, not a closure of the wasm.
            if let Ok(close) = js_sys::Reflect::get(&self.ws, &"close".into()) {
                let when_open = close.unchecked_into::<js_sys::Function>().bind2(
                    &self.ws,
                    &JsValue::from(1000),
                    &JsValue::from(""),
                );
                self.ws.set_onopen(Some(when_open.unchecked_ref()));
                return;
            }
        }
        // Closing an already closed socket is a no-op; there is nothing useful to do on error.
        let _ = self.ws.close();
    }
}
