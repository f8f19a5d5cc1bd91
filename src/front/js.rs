//! The JavaScript front door of the npm package (`rtio`): the Socket.IO [`Connection`],
//! exported through wasm-bindgen and driven by the socket.io-client-shaped facade in
//! `js/index.js`.
//!
//! The connection is the browser shell's [`Link`] (WebSocket, timer, page signals) around the
//! session. What it reports goes to two kinds of JS objects the facade passes in: the
//! [`ConnectionEvents`] of the Manager and the [`NamespaceEvents`] of each namespace's Socket.
//!
//! **Payloads stay JS strings.** A received text frame is never copied into wasm memory
//! whole: the session reads its header from its first 64 characters (enough for an event's
//! header with a namespace of up to about 40 characters; a longer header, or a packet the
//! session reads whole, costs one more look at the first 4,096 characters, taken as the whole
//! text), and the listener gets the frame itself with the UTF-16 offset where the payload
//! begins, for the browser's `JSON.parse`. JSON members (handshakes, CONNECT replies) are read
//! with `JSON.parse` too, so the wasm carries no JSON parser. An emitted payload is the string
//! `JSON.stringify` made; the header goes in front of it when the frame is written. Binary
//! attachments stay `ArrayBuffer`s.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, JsString};
use wasm_bindgen::prelude::*;

use crate::codec::socket::split_ack_id;
use crate::session::backoff::BackoffConfig;
use crate::session::{
    EmitError, EventKind, Frame, Millis, Session, SessionConfig, SessionEvent, Transmit,
};
use crate::shell::link::{Bins, Link, Wire};
use crate::shell::polling::TransportOptions;
use crate::shell::timer::TimerFunctions;

#[wasm_bindgen]
extern "C" {
    /// What the Manager is told: the URL of each attempt, its lifecycle events, and (with the
    /// debug log on) the frames.
    pub type ConnectionEvents;
    /// The Engine.IO URL of the next transport (options may change between attempts), a
    /// string: for polling requests (`http(s)`) when `polling`, else for a WebSocket.
    #[wasm_bindgen(method, js_name = _url)]
    fn url(this: &ConnectionEvents, polling: bool) -> JsValue;
    /// A lifecycle event, named as socket.io-client's Manager names it: `open` (the Engine.IO
    /// session id), `close` (the reason), `reconnect_attempt` and `reconnect` (the attempt's
    /// number), `reconnect_error` (the message), `reconnect_failed`.
    #[wasm_bindgen(method, js_name = _lifecycle)]
    fn lifecycle(this: &ConnectionEvents, name: &str, detail: JsValue);
    /// A frame written (`sent` true) or received, for the debug log.
    #[wasm_bindgen(method, js_name = _log)]
    fn log(this: &ConnectionEvents, sent: bool, frame: &JsValue);
    /// Writes the start of a received message, if it is text, into `buf`, as much as fits, up
    /// to its first character beyond ASCII, which is written as the byte `0xFF`; returns the
    /// number of bytes written, `-1` for a binary message.
    #[wasm_bindgen(method, js_name = _start)]
    fn start(this: &ConnectionEvents, data: &JsValue, buf: &mut [u8]) -> i32;
    /// The last element of the JSON array that ends text message `data`, if it is a plain
    /// string that follows another element, as [`json::last_string`] reads it (else
    /// `undefined`).
    ///
    /// [`json::last_string`]: crate::codec::json::last_string
    #[wasm_bindgen(method, js_name = _last)]
    fn last(this: &ConnectionEvents, data: &JsString) -> JsValue;

    /// What a namespace's Socket is told. `frame` and `at`: the JS string a payload is in and
    /// the UTF-16 offset where it starts.
    pub type NamespaceEvents;
    /// Connected with socket id `sid`; `recovered`: the server recovered the session.
    #[wasm_bindgen(method, js_name = _connected)]
    fn connected(this: &NamespaceEvents, sid: String, recovered: bool);
    /// Disconnected, for `reason`.
    #[wasm_bindgen(method, js_name = _disconnected)]
    fn disconnected(this: &NamespaceEvents, reason: &str);
    /// An event `[name, ...args]`; `id` is the ack id when the server asked for one, `offset`
    /// whether the last argument is the recovery offset.
    #[wasm_bindgen(method, js_name = _event)]
    fn event(
        this: &NamespaceEvents,
        frame: &JsValue,
        at: u32,
        id: Option<f64>,
        bins: Bins,
        offset: bool,
    );
    /// The server's answer (an args array) to ack `id`.
    #[wasm_bindgen(method, js_name = _ack)]
    fn ack(this: &NamespaceEvents, id: f64, frame: &JsValue, at: u32, bins: Bins);
    /// The ack `id` will never come: `"timeout"` or `"disconnected"`.
    #[wasm_bindgen(method, js_name = _ackFailed)]
    fn ack_failed(this: &NamespaceEvents, id: f64, reason: &str);
    /// The server refused the namespace; its error data is in `frame`.
    #[wasm_bindgen(method, js_name = _refused)]
    fn refused(this: &NamespaceEvents, frame: &JsValue, at: u32);
    /// The connection failed before the namespace connected, for `reason`.
    #[wasm_bindgen(method, js_name = _failed)]
    fn failed(this: &NamespaceEvents, reason: &str);
    /// The CONNECT is about to go: answer with [`Connection::provide_auth`].
    #[wasm_bindgen(method, js_name = _authRequest)]
    fn auth_request(this: &NamespaceEvents);

    // `JSON.parse` of a JS string, which stays in JS.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse(text: &JsString) -> Result<JsValue, JsValue>;
}

/// The options the connection reads, by their socket.io-client names; the facade passes the
/// Manager's options object (with its tunables' current values). Absent members, and members
/// that are not numbers (or booleans), take socket.io-client's defaults; `Infinity` is the
/// largest value.
///
/// Read member by member (`Reflect.get`) rather than through serde-wasm-bindgen: serde's error
/// messages (type names, float formatting) would cost the wasm about 18 KB gzipped, more than
/// the whole package's budget allows, for nine numbers and booleans.
struct Options {
    reconnection: bool,
    reconnection_attempts: f64,
    reconnection_delay: f64,
    reconnection_delay_max: f64,
    randomization_factor: f64,
    timeout: f64,
    retries: f64,
    max_buffer: f64,
    debug: bool,
    /// `[setTimeout, clearTimeout]` to use instead of the page's (`useNativeTimers`).
    timers: Option<TimerFunctions>,
}

impl Options {
    fn from(o: &JsValue) -> Options {
        let get = |key: &str| {
            if o.is_object() {
                js_sys::Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
            } else {
                JsValue::UNDEFINED
            }
        };
        let num = |key: &str, default: f64| get(key).as_f64().unwrap_or(default);
        Options {
            // As socket.io-client: only `false` turns it off.
            reconnection: get("reconnection") != JsValue::FALSE,
            reconnection_attempts: num("reconnectionAttempts", f64::INFINITY),
            reconnection_delay: num("reconnectionDelay", 1e3),
            reconnection_delay_max: num("reconnectionDelayMax", 5e3),
            randomization_factor: num("randomizationFactor", 0.5),
            timeout: num("timeout", 2e4),
            retries: num("retries", 0.0),
            max_buffer: num("maxBuffer", 1e3),
            debug: get("debug") == JsValue::TRUE,
            timers: get("timers")
                .dyn_into::<Array>()
                .ok()
                .and_then(|a| Some((a.get(0).dyn_into().ok()?, a.get(1).dyn_into().ok()?))),
        }
    }
}

/// The transport options, by their socket.io-client names: `transports` (an array, in order;
/// names other than `polling` and `websocket` are passed over), `upgrade`, `rememberUpgrade`,
/// `tryAllTransports`, `withCredentials`, `extraHeaders`, `timestampRequests`,
/// `timestampParam`, `closeOnBeforeunload`. The facade has checked that `transports` names one it knows.
fn transport_options(o: &JsValue) -> TransportOptions {
    let get = |key: &str| js_sys::Reflect::get(o, &JsValue::from_str(key)).unwrap_or_default();
    let d = TransportOptions::default();
    let (mut polling, mut websocket, mut polling_first) = (d.polling, d.websocket, true);
    if let Ok(list) = get("transports").dyn_into::<Array>() {
        let at = |name: &str| list.index_of(&name.into(), 0);
        let (p, w) = (at("polling"), at("websocket"));
        (polling, websocket, polling_first) = (p >= 0, w >= 0, p >= 0 && (w < 0 || p < w));
    }
    let flag = |key: &str, default: bool| get(key).as_bool().unwrap_or(default);
    TransportOptions {
        polling,
        websocket,
        polling_first,
        upgrade: flag("upgrade", d.upgrade),
        remember_upgrade: flag("rememberUpgrade", d.remember_upgrade),
        try_all: flag("tryAllTransports", d.try_all),
        credentials: flag("withCredentials", d.credentials),
        headers: Some(get("extraHeaders"))
            .filter(JsValue::is_object)
            .unwrap_or(d.headers),
        close_on_unload: flag("closeOnBeforeunload", d.close_on_unload),
        timestamp: flag("timestampRequests", true)
            .then(|| get("timestampParam").as_string().or(d.timestamp))
            .flatten(),
    }
}

/// The npm door's wire: a payload is the JS string it is in and the UTF-16 offset where it
/// starts. The start of each received frame comes from the Manager's `_start`.
struct JsText(Rc<ConnectionEvents>);

/// A payload: its JS string and where in it the payload starts.
#[derive(Clone)]
struct Payload {
    frame: JsString,
    at: u32,
}

/// The bytes of a received frame's start the wasm reads its header from: enough for most
/// (`42`, an id, a short namespace); `LONG_START` when the session needs more.
const START: usize = 64;
const LONG_START: u32 = 4096;

impl JsText {
    /// The start of text message `data` that [`start`](ConnectionEvents::start) wrote into
    /// `buf` up to its first character beyond ASCII, and whether it is the whole message;
    /// `None` for a binary message.
    fn read_start<'b>(&self, data: &JsValue, buf: &'b mut [u8]) -> Option<(&'b str, bool)> {
        let n = usize::try_from(self.0.start(data, buf)).ok()?;
        let written = buf.get(..n).unwrap_or_default();
        let whole = written.is_ascii();
        let ascii = if whole {
            n
        } else {
            written.iter().position(|b| !b.is_ascii()).unwrap_or(0)
        };
        let text = written.get(..ascii).unwrap_or_default();
        // SAFETY: every byte of `text` is ASCII, which is UTF-8.
        let text = unsafe { core::str::from_utf8_unchecked(text) };
        Some((text, whole && n < buf.len()))
    }
}

impl Wire for JsText {
    type Payload = Payload;

    fn receive(&self, session: &mut Session<Bins, Payload>, now: Millis, data: JsValue) {
        if FAIL_ON_RECEIVE.with(|f| f.replace(false)) {
            panic!("failing on purpose (a test)");
        }
        // The start of a text frame (into `buf`, in wasm memory); else it is binary.
        let mut buf = [0; START];
        let Some((start, whole)) = self.read_start(&data, &mut buf) else {
            return session.handle_binary(now, data);
        };
        let frame: &JsString = data.unchecked_ref();
        let mut read = |start: &str, whole: bool| {
            session.handle_text(
                now,
                Received {
                    start,
                    whole,
                    frame,
                    wire: self,
                },
            )
        };
        // The header is ASCII but for a namespace's name; when the session needs more (a
        // packet it reads whole, a longer header), the frame's start is taken whole through a
        // JS string, which holds any character.
        if !read(start, whole) {
            read(&String::from(frame.slice(0, LONG_START)), true);
        }
    }

    fn text(frame: &Transmit<Bins, Payload>) -> JsValue {
        let Some(Payload { frame: data, at }) = &frame.data else {
            return header(&frame.text).into();
        };
        let sliced = (*at != 0).then(|| data.slice(*at, data.length()));
        let data = sliced.as_ref().unwrap_or(data);
        // The ack id crosses as a number (JS writes its digits): the rest of the header is
        // the same for every emit of the namespace and crosses once.
        match split_ack_id(&frame.text) {
            (head, Some(id)) => header(head)
                .unchecked_ref::<Text>()
                .concat2(&JsValue::from_f64(id as f64), data),
            (head, None) => header(head).concat(data),
        }
        .into()
    }
}

#[wasm_bindgen]
extern "C" {
    /// A JS string, with `concat` taking two values.
    #[wasm_bindgen(extends = JsString)]
    type Text;
    #[wasm_bindgen(method, js_name = concat)]
    fn concat2(this: &Text, a: &JsValue, b: &JsValue) -> JsString;
}

thread_local! {
    /// The last header made into a JS string, and that string: emits without an ack on the
    /// same namespace share their header, which then crosses into JS once.
    static HEADER: RefCell<(String, Option<JsString>)> = const { RefCell::new((String::new(), None)) };
}

/// `text` as a JS string, reusing the last one when it is the same.
fn header(text: &str) -> JsString {
    HEADER.with(|h| {
        let Ok(mut h) = h.try_borrow_mut() else {
            return JsString::from(text);
        };
        match &h.1 {
            Some(js) if h.0 == text => js.clone(),
            _ => {
                let js = JsString::from(text);
                h.0.clear();
                h.0.push_str(text);
                h.1 = Some(js.clone());
                js
            }
        }
    })
}

/// A received text frame: `start` copied into the wasm, the frame itself left a JS string.
struct Received<'a> {
    start: &'a str,
    whole: bool,
    frame: &'a JsString,
    /// The wire, which copies parts of the frame into the wasm.
    wire: &'a JsText,
}

impl Received<'_> {
    /// Byte offset `at` of `start` as an offset into the JS string (UTF-16 units).
    fn utf16(&self, at: usize) -> u32 {
        // One unit per character, two for those beyond U+FFFF (4-byte sequences): count the
        // bytes that start a character, and once more those that start a 4-byte one.
        let head = self.start.as_bytes().get(..at).unwrap_or_default();
        head.iter()
            .map(|&b| u32::from(b & 0xc0 != 0x80) + u32::from(b >= 0xf0))
            .sum()
    }

    /// Member `key` of the JSON object at byte `at` of the frame, read with `JSON.parse`.
    fn member(&self, at: usize, key: &str) -> JsValue {
        let json = self.frame.slice(self.utf16(at), self.frame.length());
        json_parse(&json)
            .ok()
            .filter(JsValue::is_object)
            .and_then(|o| js_sys::Reflect::get(&o, &JsValue::from_str(key)).ok())
            .unwrap_or(JsValue::UNDEFINED)
    }
}

impl Frame for Received<'_> {
    type Payload = Payload;
    fn text(&self) -> &str {
        self.start
    }
    fn is_whole(&self) -> bool {
        self.whole
    }
    fn string(&self, at: usize, key: &str) -> Option<String> {
        self.member(at, key).as_string()
    }
    fn number(&self, at: usize, key: &str) -> Option<u64> {
        let n = self.member(at, key).as_f64()?;
        (n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0).then_some(n as u64)
    }
    fn has(&self, at: usize, key: &str, item: &str) -> bool {
        let member = self.member(at, key);
        Array::is_array(&member) && member.unchecked_into::<Array>().includes(&item.into(), 0)
    }
    fn last_string(&self, _at: usize) -> Option<String> {
        // Read in JS: the header before `at` cannot end with a comma and a string.
        self.wire.0.last(self.frame).as_string()
    }
    fn cut(&self, at: usize) -> Payload {
        // The header before `at` is whole in `start`.
        Payload {
            frame: self.frame.clone(),
            at: self.utf16(at),
        }
    }
}

/// A command on the session for one namespace (see [`Connection::on`]).
type NamespaceCommand<'a> = dyn FnMut(&mut Session<Bins, Payload>, &str, Millis) + 'a;

/// The namespaces of a connection, by index, with the Socket each reports to.
type Namespaces = Rc<RefCell<Vec<(Rc<str>, Rc<NamespaceEvents>)>>>;

/// One Engine.IO connection (one transport at a time: long-polling, then WebSocket, or
/// WebSocket alone) and its namespaces: the session, the
/// browser objects it uses, and the JS objects it reports to. Nothing connects until a
/// namespace does (or [`open`](Connection::open)). `free()` releases it all.
#[wasm_bindgen]
pub struct Connection {
    link: Link<JsText>,
    namespaces: Namespaces,
}

#[wasm_bindgen]
impl Connection {
    /// A connection with `options` (read as `Options`: `reconnection`, `reconnectionAttempts`,
    /// `reconnectionDelay`, `reconnectionDelayMax`, `randomizationFactor`, `timeout`, `retries`,
    /// `maxBuffer`, `debug`) that reports to `events`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, events: ConnectionEvents) -> Connection {
        let o = Options::from(&options);
        let events = Rc::new(events);
        let namespaces: Namespaces = Rc::default();
        let config = SessionConfig {
            max_buffer: o.max_buffer as usize,
            seed: (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64,
            // Float-to-int casts saturate: infinity is the largest value, NaN 0.
            retries: o.retries as u32,
            ..SessionConfig::default()
        };
        let url = Rc::clone(&events);
        let tap = Rc::clone(&events);
        let sink = Rc::clone(&events);
        let names = Rc::clone(&namespaces);
        let link = Link::new(
            JsText(Rc::clone(&events)),
            Box::new(move |polling| url.url(polling).as_string()),
            o.debug
                .then(|| Box::new(move |sent: bool, frame: &JsValue| tap.log(sent, frame)) as _),
            o.timers.clone(),
            (config, transport_options(&options)),
            move |ev| deliver(&sink, &names, ev),
        );
        let connection = Connection { link, namespaces };
        connection.tune_with(&o);
        connection
    }

    /// Sets the reconnection tunables and the connect timeout from `options`; they apply from
    /// the next attempt on.
    pub fn tune(&self, options: JsValue) {
        self.tune_with(&Options::from(&options));
    }

    fn tune_with(&self, o: &Options) {
        self.link.with(|s, _| {
            s.set_reconnection(
                o.reconnection,
                o.reconnection_attempts as u32,
                BackoffConfig {
                    initial: o.reconnection_delay as Millis,
                    max: o.reconnection_delay_max as Millis,
                    randomization: o.randomization_factor,
                },
                o.timeout as Millis,
            )
        });
    }

    /// The index of namespace `name`, added if new with the Socket it reports to.
    pub fn namespace(&self, name: String, events: NamespaceEvents) -> u32 {
        let Ok(mut list) = self.namespaces.try_borrow_mut() else {
            return u32::MAX;
        };
        let events = Rc::new(events);
        match list.iter().position(|(n, _)| **n == *name) {
            Some(i) => {
                list[i].1 = events;
                i as u32
            }
            None => {
                list.push((name.into(), events));
                list.len() as u32 - 1
            }
        }
    }

    /// Runs `f` with namespace `ns`'s name on the session.
    fn on<R: Default>(
        &self,
        ns: u32,
        f: impl FnOnce(&mut Session<Bins, Payload>, &str, Millis) -> R,
    ) -> R {
        let mut f = Some(f);
        let mut r = R::default();
        self.on_namespace(ns, &mut |s, nsp, now| {
            if let Some(f) = f.take() {
                r = f(s, nsp, now);
            }
        });
        r
    }

    /// [`on`](Self::on), one copy for every caller.
    #[inline(never)]
    fn on_namespace(&self, ns: u32, f: &mut NamespaceCommand<'_>) {
        let name = match self.namespaces.try_borrow() {
            Ok(list) => match list.get(ns as usize) {
                Some((name, _)) => Rc::clone(name),
                None => return,
            },
            Err(_) => return,
        };
        self.link.with(|s, now| f(s, &name, now));
    }

    /// Connects namespace `ns`; its Socket is asked for the auth payload before each CONNECT.
    pub fn connect(&self, ns: u32) {
        self.on(ns, |s, nsp, now| s.connect_asking_auth(nsp, now));
    }

    /// The auth payload (JSON, or none) of `ns`'s CONNECT, asked for by `_authRequest`.
    #[wasm_bindgen(js_name = provideAuth)]
    pub fn provide_auth(&self, ns: u32, auth: Option<String>) {
        self.on(ns, |s, nsp, _| s.provide_auth(nsp, auth));
    }

    /// Disconnects namespace `ns`.
    pub fn disconnect(&self, ns: u32) {
        self.on(ns, |s, nsp, now| s.disconnect(nsp, now));
    }

    /// Emits `payload` (the JSON text of `[event, ...args]`) with its binary `attachments` on
    /// namespace `ns`. `ack`: none for no acknowledgement, else its timeout in ms (`0`: none).
    /// Returns the ack id; throws when the send buffer is full.
    pub fn emit(
        &self,
        ns: u32,
        payload: JsString,
        attachments: Bins,
        ack: Option<f64>,
    ) -> Result<Option<f64>, JsError> {
        let ack = ack.map(|t| (t >= 1.0).then_some(t as Millis));
        let data = Payload {
            frame: payload,
            at: 0,
        };
        match self.on(ns, |s, nsp, now| {
            Some(s.emit(nsp, data, attachments, ack, now))
        }) {
            Some(Ok(id)) => Ok(id.map(|id| id as f64)),
            Some(Err(EmitError::BufferFull)) => {
                Err(JsError::new("rtio: send buffer is full while disconnected"))
            }
            None => Ok(None),
        }
    }

    /// Answers the server's event `id` on namespace `ns` with `payload` (the JSON text of the
    /// args array) and its binary `attachments`.
    pub fn ack(&self, ns: u32, id: f64, payload: JsString, attachments: Bins) {
        let data = Payload {
            frame: payload,
            at: 0,
        };
        self.on(ns, |s, nsp, _| s.ack(nsp, id as u64, data, attachments));
    }

    /// The packets waiting in namespace `ns`'s send buffer, oldest first, as JSON texts.
    pub fn buffered(&self, ns: u32) -> Array {
        self.on(ns, |s, nsp, _| {
            s.buffer(nsp)
                .map(|p| JsValue::from(p.frame.slice(p.at, p.frame.length())))
                .collect()
        })
    }

    /// Drops namespace `ns`'s send buffer (their acknowledgements fail).
    #[wasm_bindgen(js_name = clearBuffer)]
    pub fn clear_buffer(&self, ns: u32) {
        self.on(ns, |s, nsp, _| s.clear_buffer(nsp));
    }

    /// Opens the connection without a namespace (`Manager#open`).
    pub fn open(&self) {
        self.link.with(|s, now| s.open(now));
    }

    /// Closes the connection.
    pub fn close(&self) {
        self.link.with(|s, now| s.close(now));
    }

    /// Drops the WebSocket as a lost connection would (`engine.close()`): the session
    /// reconnects.
    #[wasm_bindgen(js_name = dropTransport)]
    pub fn drop_transport(&self) {
        self.link.drop_transport();
    }

    /// Whether nothing is connected, buffered or awaited (the facade then frees it).
    #[wasm_bindgen(js_name = isIdle)]
    pub fn is_idle(&self) -> bool {
        self.link.with(|s, _| s.is_idle()).unwrap_or(false)
    }

    /// The transport in use: `"websocket"`, `"polling"`, or `""` when there is none.
    pub fn transport(&self) -> String {
        self.link.transport_name().into()
    }

    /// The transport's last error (a WebSocket's `error` event, or why a polling request
    /// failed), for the Manager's error report.
    #[wasm_bindgen(js_name = lastError)]
    pub fn last_error(&self) -> JsValue {
        self.link.last_error()
    }
}

/// Hands one session event to the JS object it is for.
fn deliver(manager: &ConnectionEvents, namespaces: &Namespaces, ev: SessionEvent<Bins, Payload>) {
    let SessionEvent {
        kind,
        nsp,
        text,
        data,
        id,
        attachments,
        recovered,
        offset,
        ..
    } = ev;
    let manager_event = |name: &str, detail: JsValue| manager.lifecycle(name, detail);
    let n = id.map_or(JsValue::UNDEFINED, |n| JsValue::from(n as f64));
    match kind {
        EventKind::EngineOpen => return manager_event("open", text.into()),
        EventKind::EngineClose => return manager_event("close", text.into()),
        EventKind::ReconnectAttempt => return manager_event("reconnect_attempt", n),
        EventKind::Reconnect => return manager_event("reconnect", n),
        EventKind::ReconnectError => return manager_event("reconnect_error", text.into()),
        EventKind::ReconnectFailed => return manager_event("reconnect_failed", n),
        EventKind::Upgrade => return manager_event("upgrade", JsValue::UNDEFINED),
        _ => {}
    }
    // The Socket, looked up unborrowed: it may add namespaces while it runs.
    let socket = match namespaces.try_borrow() {
        Ok(list) => match list.iter().find(|(name, _)| **name == **nsp) {
            Some((_, s)) => Rc::clone(s),
            None => return,
        },
        Err(_) => return,
    };
    let (frame, at) = data.map_or((JsValue::UNDEFINED, 0), |p| (p.frame.into(), p.at));
    let id = id.map(|n| n as f64);
    match kind {
        EventKind::Connect => socket.connected(text, recovered),
        EventKind::Disconnect => socket.disconnected(&text),
        EventKind::Event => socket.event(&frame, at, id, attachments, offset),
        EventKind::Ack => socket.ack(id.unwrap_or(0.0), &frame, at, attachments),
        EventKind::AckFailed => socket.ack_failed(id.unwrap_or(0.0), &text),
        EventKind::ConnectError if data_given(&frame) => socket.refused(&frame, at),
        EventKind::ConnectError => socket.failed(&text),
        EventKind::AuthRequest => socket.auth_request(),
        _ => {}
    }
}

fn data_given(frame: &JsValue) -> bool {
    !frame.is_undefined()
}

thread_local! {
    /// Set by [`Connection::fail_for_tests`]: the next received frame panics.
    static FAIL_ON_RECEIVE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[wasm_bindgen]
impl Connection {
    /// For the tests of the recovery from a trap: `"now"` panics at once, `"receive"` when the
    /// next frame arrives (inside the WebSocket's listener).
    #[wasm_bindgen(js_name = failForTests)]
    pub fn fail_for_tests(&self, when: &str) {
        if when == "now" {
            panic!("failing on purpose (a test)");
        }
        FAIL_ON_RECEIVE.with(|f| f.set(true));
    }
}
