//! The size floor of rtio's shape: what the npm wasm costs before any protocol. A wasm-bindgen
//! export holding what the browser shell holds (a WebSocket and its four handlers, a fetch
//! long-poll loop and a POST with their promise callbacks, a gloo timer, a microtask, the
//! package's failure hook, ack timer and allocator), handing every frame to JS as it comes:
//! no Engine.IO, no Socket.IO, no reconnection, no acks.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, Headers, MessageEvent, RequestInit, Response, WebSocket};

// The package's own allocator, failure hook and ack timer (the same files), as in the npm wasm.
#[path = "../../src/shell/heap.rs"]
#[allow(dead_code)]
mod heap;
#[path = "../../src/front/js_shared.rs"]
mod js_shared;
#[global_allocator]
static HEAP: heap::Heap<heap::WasmPages> = heap::Heap::new(heap::WasmPages);

#[wasm_bindgen]
extern "C" {
    /// What JS is told.
    pub type Events;
    #[wasm_bindgen(method, js_name = _frame)]
    fn frame(this: &Events, data: &JsValue);
    #[wasm_bindgen(method, js_name = _lifecycle)]
    fn lifecycle(this: &Events, name: &str);
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(f: &JsValue);

    /// A promise, with `then` taking JS values.
    type Thenable;
    #[wasm_bindgen(method)]
    fn then(this: &Thenable, ok: &JsValue, err: &JsValue);
}

struct Inner {
    events: Events,
    url: String,
    socket: Option<WebSocket>,
    handlers: Vec<Closure<dyn FnMut(JsValue)>>,
    timer: Option<Timeout>,
    get: Option<AbortController>,
    polls: u32,
}

/// A connection that only carries frames.
#[wasm_bindgen]
pub struct Connection(Rc<RefCell<Inner>>);

#[wasm_bindgen]
impl Connection {
    #[wasm_bindgen(constructor)]
    pub fn new(url: String, events: Events) -> Connection {
        Connection(Rc::new(RefCell::new(Inner {
            events,
            url,
            socket: None,
            handlers: Vec::new(),
            timer: None,
            get: None,
            polls: 0,
        })))
    }

    /// Opens the WebSocket.
    pub fn open(&self) -> Result<(), JsValue> {
        let url = self.0.try_borrow().map_err(|_| "busy")?.url.clone();
        let socket = WebSocket::new(&url)?;
        socket.set_binary_type(web_sys::BinaryType::Arraybuffer);
        let mut handlers = Vec::new();
        for kind in 0..4u8 {
            let inner = Rc::downgrade(&self.0);
            let h = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                with(&inner, |i| match kind {
                    0 => i.events.lifecycle("open"),
                    1 => i.events.frame(&e.unchecked_ref::<MessageEvent>().data()),
                    2 => i.events.lifecycle("error"),
                    _ => i.events.lifecycle("close"),
                })
            });
            let f = Some(h.as_ref().unchecked_ref());
            match kind {
                0 => socket.set_onopen(f),
                1 => socket.set_onmessage(f),
                2 => socket.set_onerror(f),
                _ => socket.set_onclose(f),
            }
            handlers.push(h);
        }
        let mut i = self.0.try_borrow_mut().map_err(|_| "busy")?;
        i.socket = Some(socket);
        i.handlers = handlers;
        Ok(())
    }

    /// Writes `data` on the WebSocket.
    pub fn send(&self, data: &str) -> Result<(), JsValue> {
        match self.0.try_borrow().ok().and_then(|i| i.socket.clone()) {
            Some(socket) => socket.send_with_str(data),
            None => Err("closed".into()),
        }
    }

    /// Starts the long-poll loop.
    pub fn poll(&self) {
        poll(Rc::downgrade(&self.0));
    }

    /// POSTs `body` with `header` set.
    pub fn post(&self, body: &str, header: &str) -> Result<(), JsValue> {
        let url = self.0.try_borrow().map_err(|_| "busy")?.url.clone();
        let headers = Headers::new()?;
        headers.set("x-header", header)?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(&body.into());
        init.set_headers(&headers);
        request(&url, &init, Rc::downgrade(&self.0), false)
    }

    /// Tells JS `timer` in `ms` milliseconds, and `microtask` first.
    pub fn later(&self, ms: u32) {
        let inner = Rc::downgrade(&self.0);
        let timer = Timeout::new(ms, move || with(&inner, |i| i.events.lifecycle("timer")));
        if let Ok(mut i) = self.0.try_borrow_mut() {
            i.timer = Some(timer);
        }
        let inner = Rc::downgrade(&self.0);
        queue_microtask(&once(Box::new(move |_| {
            with(&inner, |i| i.events.lifecycle("microtask"))
        })));
    }

    /// Closes everything.
    pub fn close(&self) {
        if let Ok(mut i) = self.0.try_borrow_mut() {
            if let Some(socket) = i.socket.take() {
                let _ = socket.close();
            }
            if let Some(get) = i.get.take() {
                get.abort();
            }
            i.handlers.clear();
            i.timer = None;
        }
    }
}

fn with(inner: &Weak<RefCell<Inner>>, f: impl FnOnce(&Inner)) {
    if let Some(i) = inner.upgrade() {
        if let Ok(i) = i.try_borrow() {
            f(&i)
        }
    }
}

fn poll(inner: Weak<RefCell<Inner>>) {
    let Some(rc) = inner.upgrade() else { return };
    let Ok(mut i) = rc.try_borrow_mut() else {
        return;
    };
    i.polls += 1;
    let mut url = i.url.clone();
    url.push_str("&t=");
    url.push(char::from(b'a' + (i.polls % 26) as u8));
    let Ok(get) = AbortController::new() else {
        return;
    };
    let init = RequestInit::new();
    init.set_credentials(web_sys::RequestCredentials::Include);
    init.set_signal(Some(&get.signal()));
    i.get = Some(get);
    drop(i);
    let _ = request(&url, &init, inner, true);
}

fn request(
    url: &str,
    init: &RequestInit,
    inner: Weak<RefCell<Inner>>,
    again: bool,
) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let answered = once(Box::new(move |r: JsValue| {
        let Some(text) = r.dyn_ref::<Response>().and_then(|r| r.text().ok()) else {
            return with(&inner, |i| i.events.lifecycle("error"));
        };
        let read = once(Box::new(move |t: JsValue| {
            with(&inner, |i| i.events.frame(&t));
            if again {
                poll(inner);
            }
        }));
        text.unchecked_into::<Thenable>().then(&read, &read);
    }));
    window
        .fetch_with_str_and_init(url, init)
        .unchecked_into::<Thenable>()
        .then(&answered, &answered);
    Ok(())
}

/// A JS function that calls `f` once.
fn once(f: Box<dyn FnOnce(JsValue)>) -> JsValue {
    Closure::once_into_js(f)
}
