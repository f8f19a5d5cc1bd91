//! The plain-WebSocket transport: text and binary frames as they come, with subprotocols.

use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, MessageEvent, WebSocket};

/// A frame's data, as received.
#[cfg(feature = "rust-api")]
pub(crate) enum FrameData {
    Text(String),
    Binary(Vec<u8>),
}

#[cfg(feature = "rust-api")]
impl FrameData {
    /// A frame's data read into Rust: a string, or the bytes of an `ArrayBuffer`.
    pub fn read(data: JsValue) -> FrameData {
        match data.as_string() {
            Some(text) => FrameData::Text(text),
            None => FrameData::Binary(js_sys::Uint8Array::new(&data).to_vec()),
        }
    }
}

/// What the transport reports.
#[cfg_attr(not(feature = "js-stream"), allow(dead_code))]
pub(crate) enum PlainSignal {
    Open,
    /// A frame: a string, or an `ArrayBuffer`.
    Frame(JsValue),
    /// The socket closed: its `CloseEvent`.
    Closed(JsValue),
    Error,
}

/// An open (or opening) WebSocket and its four listeners. Dropping it removes them and closes
/// the socket.
#[must_use = "dropping a PlainSocket closes the WebSocket"]
pub(crate) struct PlainSocket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(JsValue)>,
    _on_error: Closure<dyn FnMut()>,
}

impl PlainSocket {
    /// Opens a WebSocket to `url` offering `protocols` (a string or an array of them;
    /// `undefined`: no header); every signal goes to `on_signal`.
    pub fn open(
        url: &str,
        protocols: &JsValue,
        on_signal: impl Fn(PlainSignal) + Clone + 'static,
    ) -> Result<Self, JsValue> {
        let ws = if protocols.is_undefined() {
            WebSocket::new(url)?
        } else {
            WebSocket::new_with_str_sequence(url, protocols)?
        };
        ws.set_binary_type(BinaryType::Arraybuffer);
        let f = on_signal.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || f(PlainSignal::Open));
        let f = on_signal.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            f(PlainSignal::Frame(e.data()))
        });
        let f = on_signal.clone();
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |e| f(PlainSignal::Closed(e)));
        let f = on_signal;
        let on_error = Closure::<dyn FnMut()>::new(move || f(PlainSignal::Error));
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(PlainSocket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
        })
    }

    /// Writes a text frame.
    #[cfg(feature = "rust-api")]
    pub fn send_text(&self, text: &str) -> Result<(), JsValue> {
        self.ws.send_with_str(text)
    }

    /// Writes a binary frame.
    #[cfg(feature = "rust-api")]
    pub fn send_binary(&self, bytes: &[u8]) -> Result<(), JsValue> {
        self.ws.send_with_u8_array(bytes)
    }

    /// The socket.
    #[cfg(feature = "js-stream")]
    pub fn socket(&self) -> &WebSocket {
        &self.ws
    }
}

impl Drop for PlainSocket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        // Closing an already closed socket is a no-op; there is nothing useful to do on error.
        let _ = self.ws.close();
    }
}
