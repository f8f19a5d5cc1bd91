//! Engine.IO's HTTP long-polling transport in the browser: the requests the
//! [`Poller`](crate::session::polling::Poller) asks for, made with `fetch`, and the payloads of
//! [`codec::polling`](crate::codec::polling) built and read around the JS strings the frames are
//! in (text frames never enter the wasm here).
//!
//! Every request ends in one call of its `done` function, with the answer's text or the reason
//! it failed. The callbacks hold no transport: the link tells a stale answer (one for a
//! transport it has dropped) by the transport's tag.

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, ArrayBuffer, JsString, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, RequestCredentials, RequestInit, Response};

use super::websocket::WsTransport;
use crate::codec::polling as payload;
use crate::session::polling::{Counted, Poller};

#[wasm_bindgen]
extern "C" {
    // The global `fetch`, in a window as in a worker.
    #[wasm_bindgen(js_name = fetch, catch)]
    fn fetch_with_init(input: &str, init: &RequestInit) -> Result<Thenable, JsValue>;

    // A promise, whose `then` takes any function.
    type Thenable;
    #[wasm_bindgen(method)]
    fn then(this: &Thenable, fulfilled: &JsValue, rejected: &JsValue);
}

/// The transports a link uses and how (socket.io-client's options of the same names).
#[derive(Clone)]
pub(crate) struct TransportOptions {
    /// HTTP long-polling may be used.
    pub polling: bool,
    /// WebSocket may be used.
    pub websocket: bool,
    /// Polling is tried first (socket.io-client's default order), else WebSocket.
    pub polling_first: bool,
    /// A polling transport upgrades to WebSocket when the server offers it (`upgrade`).
    pub upgrade: bool,
    /// After one upgrade succeeded, later connections start on WebSocket (`rememberUpgrade`).
    pub remember_upgrade: bool,
    /// A WebSocket that cannot open falls back to polling in the same attempt
    /// (`tryAllTransports`).
    pub try_all: bool,
    /// Cookies go with cross-origin polling requests (`withCredentials`).
    pub credentials: bool,
    /// The headers of polling requests (`extraHeaders`): `undefined` or a `HeadersInit`.
    pub headers: JsValue,
    /// The query parameter that makes each polling request's URL unique
    /// (`timestampParam`), none when `timestampRequests` is false.
    pub timestamp: Option<String>,
    /// The transport is closed when the page is about to unload (`closeOnBeforeunload`), so
    /// that the server learns at once.
    pub close_on_unload: bool,
}

impl Default for TransportOptions {
    /// socket.io-client's defaults: polling first, then the upgrade to WebSocket.
    fn default() -> Self {
        TransportOptions {
            polling: true,
            websocket: true,
            polling_first: true,
            upgrade: true,
            remember_upgrade: false,
            try_all: false,
            credentials: false,
            headers: JsValue::UNDEFINED,
            timestamp: Some("t".into()),
            close_on_unload: false,
        }
    }
}

impl TransportOptions {
    /// Whether a connection starts on polling; `upgraded`: an upgrade succeeded before.
    pub fn starts_polling(&self, upgraded: bool) -> bool {
        let websocket_first =
            !self.polling_first || (self.remember_upgrade && upgraded) || !self.polling;
        self.polling && !(websocket_first && self.websocket)
    }
}

/// A frame waiting to be written: a text frame (a JS string) or an attachment (an
/// `ArrayBuffer` or a view), and the size it counts for against `maxPayload`.
pub(crate) struct Item {
    pub frame: JsValue,
    size: usize,
}

impl Item {
    pub fn new(frame: JsValue) -> Item {
        let size = match frame.dyn_ref::<JsString>() {
            // At most three UTF-8 bytes a UTF-16 unit: a bound, so that a request never
            // exceeds `maxPayload` (engine.io-client counts the bytes themselves).
            Some(text) => text.length() as usize * 3,
            None => (byte_length(&frame) * 4).div_ceil(3) + 1,
        };
        Item { frame, size }
    }
}

impl Counted for Item {
    fn counted(&self) -> usize {
        self.size
    }
}

#[wasm_bindgen]
extern "C" {
    // Any ArrayBuffer or view, by the members they share.
    type Bytes;
    #[wasm_bindgen(method, getter, js_name = byteLength)]
    fn byte_length(this: &Bytes) -> f64;
    // A Blob (a File) attachment: its bytes are read before the POST that carries it.
    #[wasm_bindgen(js_name = Blob)]
    type AnyBlob;
    #[wasm_bindgen(method, getter)]
    fn size(this: &AnyBlob) -> f64;
    #[wasm_bindgen(method, js_name = arrayBuffer)]
    fn array_buffer(this: &AnyBlob) -> js_sys::Promise;
    #[wasm_bindgen(method, getter, js_name = byteOffset)]
    fn byte_offset(this: &Bytes) -> f64;
    #[wasm_bindgen(method, getter)]
    fn buffer(this: &Bytes) -> JsValue;
}

fn byte_length(data: &JsValue) -> usize {
    match data.dyn_ref::<AnyBlob>() {
        Some(blob) => blob.size() as usize,
        None => data.unchecked_ref::<Bytes>().byte_length() as usize,
    }
}

/// The bytes of an `ArrayBuffer` or of a view.
fn bytes(data: &JsValue) -> Vec<u8> {
    let b = data.unchecked_ref::<Bytes>();
    let view = if data.is_instance_of::<ArrayBuffer>() {
        Uint8Array::new(data)
    } else {
        Uint8Array::new_with_byte_offset_and_length(
            &b.buffer(),
            b.byte_offset() as u32,
            b.byte_length() as u32,
        )
    };
    let len = view.length() as usize;
    let mut out = alloc::vec![0; len];
    // SAFETY: the view covers `out` exactly, and nothing allocates in the wasm while it lives
    // (`Uint8Array::to_vec` would check the length again, with a panic message that brings
    // integer formatting into the wasm).
    unsafe { Uint8Array::view_mut_raw(out.as_mut_ptr(), len) }.set(&view, 0);
    out
}

/// The payload of a `POST`: the frames joined by the record separator, attachments in base64.
fn encode(items: Vec<Item>) -> JsString {
    let parts = Array::new();
    for item in items {
        if item.frame.is_string() {
            parts.push(&item.frame);
        } else {
            let mut text = String::from("b");
            payload::base64_encode(&bytes(&item.frame), &mut text);
            parts.push(&JsValue::from(text));
        }
    }
    parts.join("\u{1e}")
}

/// The frames of a `GET`'s payload, in order: text frames as JS strings, binary ones as
/// `ArrayBuffer`s. A binary frame whose base64 is malformed is passed on as text, for the
/// session to refuse.
pub(crate) fn decode(body: &JsString) -> impl Iterator<Item = JsValue> {
    body.split("\u{1e}").into_iter().map(|part| {
        let text: &JsString = part.unchecked_ref();
        if text.char_code_at(0) == f64::from(b'b') {
            let data = String::from(text.slice(1, text.length()));
            if let Some(data) = payload::base64_decode(&data) {
                return Uint8Array::from(data.as_slice()).buffer().into();
            }
        }
        part
    })
}

/// One polling transport: its poller, the `GET` in flight, and the WebSocket probe of an
/// upgrade.
pub(crate) struct Polling {
    pub poller: Poller<Item>,
    /// The tag its answers and its probe's signals carry.
    pub tag: u32,
    /// The URL of its requests, without `sid` and timestamp.
    url: String,
    /// The Engine.IO session id, once the handshake is read.
    pub sid: Option<String>,
    /// Stops the `GET` in flight.
    get: Option<AbortController>,
    pub probe: Option<WsTransport>,
    /// Counts requests, for the timestamp.
    count: u32,
}

impl Polling {
    /// A transport whose requests go to `url` (`http(s)`, with `EIO=4&transport=polling`).
    pub fn new(url: String, tag: u32) -> Polling {
        Polling {
            poller: Poller::new(),
            tag,
            url,
            sid: None,
            get: None,
            probe: None,
            count: 0,
        }
    }

    fn request_url(&mut self, options: &TransportOptions) -> String {
        let mut url = self.url.clone();
        if let Some(sid) = &self.sid {
            url.push_str("&sid=");
            url.push_str(sid);
        }
        if let Some(param) = &options.timestamp {
            url.push('&');
            url.push_str(param);
            url.push('=');
            self.count = self.count.wrapping_add(1);
            stamp(super::clock::now(&mut 0), self.count, &mut url);
        }
        url
    }

    /// Starts the next `GET`; `done` gets its payload, or why it failed, later (never from
    /// inside this call).
    pub fn get(&mut self, options: &TransportOptions, done: Done) {
        let abort = AbortController::new().ok();
        let url = self.request_url(options);
        let session = self.sid.is_some();
        request(&url, None, options, abort.as_ref(), false, session, done);
        self.get = abort;
    }

    /// Starts a `POST` of `items`; `done` gets its answer later. Blob attachments are read
    /// first (the poller waits for this `POST`, so what follows stays behind it). `last`: the
    /// transport is closed, and the request should outlive the page if it is unloading (a
    /// `keepalive` request, when the body is small enough for one).
    pub fn post(&mut self, items: Vec<Item>, options: &TransportOptions, last: bool, done: Done) {
        let url = self.request_url(options);
        if !items.iter().any(|i| i.frame.is_instance_of::<AnyBlob>()) {
            return post_now(&url, items, options, last, done);
        }
        let reads = Array::new();
        for item in &items {
            reads.push(&match item.frame.dyn_ref::<AnyBlob>() {
                Some(blob) => blob.array_buffer().into(),
                None => item.frame.clone(),
            });
        }
        let options = options.clone();
        let read = once(Box::new(move |parts: JsValue| {
            match parts.dyn_into::<Array>() {
                Ok(parts) => post_now(
                    &url,
                    parts.iter().map(Item::new).collect(),
                    &options,
                    last,
                    done,
                ),
                Err(error) => done(Err(error)),
            }
        }));
        js_sys::Promise::all(&reads)
            .unchecked_into::<Thenable>()
            .then(&read, &read);
    }

    /// Drops the probe, if any (see [`WsTransport::abandon`]).
    pub fn abandon_probe(&mut self) {
        if let Some(probe) = self.probe.take() {
            probe.abandon();
        }
    }
}

impl Drop for Polling {
    /// Stops the `GET` in flight, if any, and the probe.
    fn drop(&mut self) {
        if let Some(a) = self.get.take() {
            a.abort();
        }
        self.abandon_probe();
    }
}

/// How a request ends: the answer's text, or what failed.
pub(crate) type Done = Box<dyn FnOnce(Result<JsString, JsValue>)>;

/// A `POST` of `items` (Blobs already read) to `url`.
fn post_now(url: &str, items: Vec<Item>, options: &TransportOptions, last: bool, done: Done) {
    let body = encode(items);
    // Browsers refuse `keepalive` bodies over 64 KiB.
    let keepalive = last && body.length() < 60_000;
    request(url, Some(body), options, None, keepalive, true, done)
}

/// `now` and `count` in base 32: unique per request of a transport, as engine.io-client's
/// random strings are meant to be.
fn stamp(now: u64, count: u32, out: &mut String) {
    digits((now << 16) ^ u64::from(count), 5, out);
}

/// `n` in base `1 << bits` (up to 32), most significant digit first.
fn digits(n: u64, bits: u32, out: &mut String) {
    const DIGITS: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mask = (1 << bits) - 1;
    let mut shift = 60 - 60 % bits;
    while shift > 0 && n >> shift == 0 {
        shift -= bits;
    }
    loop {
        out.push(char::from(DIGITS[((n >> shift) & mask & 31) as usize]));
        if shift == 0 {
            break;
        }
        shift -= bits;
    }
}

/// Makes a request (`POST` when there is a body), calling `done` once, later (never from
/// inside this call), with the answer's text, or with what failed: `fetch` itself, the
/// network, or the server (its status and body, as an `Error`). `session`: the request belongs
/// to a session the server made (not the handshake).
#[allow(clippy::too_many_arguments)]
fn request(
    url: &str,
    body: Option<JsString>,
    options: &TransportOptions,
    abort: Option<&AbortController>,
    keepalive: bool,
    session: bool,
    done: Done,
) {
    let init = RequestInit::new();
    if keepalive {
        // Not in web-sys's `RequestInit`: set as the dictionary member it is.
        let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
    }
    if let Some(body) = &body {
        init.set_method("POST");
        init.set_body(body);
    }
    if !options.headers.is_undefined() {
        init.set_headers(&options.headers);
    }
    init.set_credentials(if options.credentials {
        RequestCredentials::Include
    } else {
        RequestCredentials::SameOrigin
    });
    init.set_signal(abort.map(AbortController::signal).as_ref());
    // A `fetch` that throws (a malformed URL or header, say) fails the same way, later.
    let promise = fetch_with_init(url, &init)
        .unwrap_or_else(|error| js_sys::Promise::reject(&error).unchecked_into());
    // One function for both outcomes, so that it is called exactly once (and freed then): a
    // response, or the error it failed with.
    let answered = once(Box::new(move |r: JsValue| {
        let Some(response) = r.dyn_ref::<Response>() else {
            return done(Err(r));
        };
        let ok = response.ok();
        let status = response.status();
        let read: Thenable = match response.text() {
            Ok(p) => p.unchecked_into(),
            Err(e) => return done(Err(e)),
        };
        let read_done = once(Box::new(move |t: JsValue| match t.dyn_into::<JsString>() {
            Ok(text) if ok => done(Ok(text)),
            Ok(text) => done(Err(status_error(status, &text, session))),
            Err(e) => done(Err(e)),
        }));
        read.then(&read_done, &read_done);
    }));
    promise.then(&answered, &answered);
}

/// A JS function that calls `f` once, then frees it (one type of closure for every use).
fn once(f: Box<dyn FnOnce(JsValue)>) -> JsValue {
    Closure::once_into_js(f)
}

/// An `Error` for an answer with status `status` and body `body`; `session`: to a request of a
/// session the server made.
fn status_error(status: u16, body: &JsString, session: bool) -> JsValue {
    let mut message = String::from("polling request failed: HTTP ");
    // Three decimal digits.
    for d in [status / 100 % 10, status / 10 % 10, status % 10] {
        message.push(char::from(b'0' + d as u8));
    }
    let body = String::from(body);
    if !body.is_empty() {
        message.push(' ');
        message.extend(body.chars().take(200));
    }
    if session && status == 400 {
        // Engine.IO servers answer 400 to a request of a session they do not have (`Session ID
        // unknown`): a server restarted, or, most often, a load balancer that sent it to
        // another instance than the one that made the session.
        message.push_str(" (unknown session: a restarted server, or no sticky sessions)");
    }
    js_sys::Error::new(&message).into()
}

/// The WebSocket URL of a probe for session `sid`.
pub(crate) fn probe_url(url: &str, sid: &str) -> String {
    let mut url = String::from(url);
    url.push_str("&sid=");
    url.push_str(sid);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_differ() {
        let mut a = String::from("t=");
        stamp(1_700_000_000_000, 1, &mut a);
        let mut b = String::from("t=");
        stamp(1_700_000_000_000, 2, &mut b);
        assert_ne!(a, b);
        assert!(a[2..].bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        let mut s = String::new();
        digits(0x1f_0000_0000_0001, 5, &mut s);
        assert_eq!(s, "7o000000001");
        s.clear();
        digits(0, 5, &mut s);
        assert_eq!(s, "0");
    }
}
