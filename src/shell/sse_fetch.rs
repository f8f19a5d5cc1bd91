//! The SSE transport on `fetch` with a streaming body, one per connection attempt: the
//! request can carry headers (`Authorization`, `Last-Event-ID`), and rtio's own
//! [`SseParser`] reads the body, so every event is seen whatever its name.
//!
//! Dropping the transport aborts the request; nothing is reported after that.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
#[cfg(feature = "rust-api")]
use web_sys::Headers;
use web_sys::{AbortController, RequestCache, RequestCredentials, RequestInit, Response};

use super::http::fetch_with_init;
use crate::codec::sse::{SseItem, SseParser};

/// What the transport reports.
#[cfg_attr(not(feature = "js-stream"), allow(dead_code))]
pub(crate) enum FetchSignal {
    /// The answer is `200 text/event-stream`: the stream is open.
    Open,
    /// Bytes of the body arrived (any: events, comments, heartbeats).
    Activity,
    /// An event, with its name, data and the last event id.
    Event {
        name: String,
        data: String,
        id: String,
    },
    /// The server's `retry:` field, in ms.
    Retry(u64),
    /// The body broke one of the parser's limits: the offending line or event was skipped.
    Malformed(String),
    /// The answer was not a stream: its status and body.
    Refused { status: u16, body: String },
    /// The body ended (a clean close).
    End,
    /// The request or the body failed.
    Error,
}

/// A streaming `fetch` of an event stream. Dropping it aborts the request.
#[must_use = "dropping a FetchTransport aborts the request"]
pub(crate) struct FetchTransport {
    abort: Option<AbortController>,
    live: Rc<Cell<bool>>,
}

impl FetchTransport {
    /// Starts `GET url` with `Accept: text/event-stream`, `headers`, `Last-Event-ID` when
    /// `last_event_id` is given and cookies sent cross-origin when `credentials`; every signal
    /// goes to `on_signal`, in order, until the transport is dropped.
    #[cfg(feature = "rust-api")]
    pub fn open(
        url: &str,
        headers: &[(String, String)],
        last_event_id: Option<&str>,
        credentials: bool,
        on_signal: impl Fn(FetchSignal) + 'static,
    ) -> Result<Self, JsValue> {
        let h = Headers::new()?;
        h.set("Accept", "text/event-stream")?;
        for (k, v) in headers {
            h.set(k, v)?;
        }
        if let Some(id) = last_event_id {
            h.set("Last-Event-ID", id)?;
        }
        Self::open_with(url, &h, credentials, on_signal)
    }

    /// Starts `GET url` with the request headers `headers` (a `Headers` or a plain object of
    /// them) and cookies sent cross-origin when `credentials`; every signal goes to
    /// `on_signal`, in order, until the transport is dropped.
    pub fn open_with(
        url: &str,
        headers: &JsValue,
        credentials: bool,
        on_signal: impl Fn(FetchSignal) + 'static,
    ) -> Result<Self, JsValue> {
        let abort = AbortController::new().ok();
        let init = RequestInit::new();
        init.set_method("GET");
        init.set_headers(headers);
        init.set_cache(RequestCache::NoStore);
        init.set_credentials(if credentials {
            RequestCredentials::Include
        } else {
            RequestCredentials::SameOrigin
        });
        init.set_signal(abort.as_ref().map(AbortController::signal).as_ref());
        let promise = fetch_with_init(url, &init)?;
        let live = Rc::new(Cell::new(true));
        let alive = live.clone();
        crate::shell::spawn(async move {
            let report = |s: FetchSignal| {
                if alive.get() {
                    on_signal(s);
                }
            };
            match read(promise, &alive, &report).await {
                Ok(Ended::Body) => report(FetchSignal::End),
                Ok(Ended::Refused) => {}
                Err(()) => report(FetchSignal::Error),
            }
        });
        Ok(FetchTransport { abort, live })
    }
}

impl Drop for FetchTransport {
    fn drop(&mut self) {
        self.live.set(false);
        if let Some(a) = &self.abort {
            a.abort();
        }
    }
}

/// The most bytes of a body chunk copied into wasm memory at once.
const PIECE: u32 = 64 * 1024;

/// How a read ended without failing.
enum Ended {
    /// The body ended.
    Body,
    /// The answer was not a stream (reported).
    Refused,
}

/// Reads the answer of `promise`, reporting what it holds; `Err` on a failure.
async fn read(
    promise: Promise,
    live: &Cell<bool>,
    report: &dyn Fn(FetchSignal),
) -> Result<Ended, ()> {
    let response: Response = JsFuture::from(promise)
        .await
        .map_err(drop)?
        .dyn_into()
        .map_err(drop)?;
    if !live.get() {
        return Err(());
    }
    let status = response.status();
    let stream = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|t| {
            t.trim_start()
                .get(..17)
                .is_some_and(|p| p.eq_ignore_ascii_case("text/event-stream"))
        });
    if status != 200 || !stream {
        let body = match response.text() {
            Ok(p) => JsFuture::from(p)
                .await
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        report(FetchSignal::Refused { status, body });
        return Ok(Ended::Refused);
    }
    let body = Reflect::get(&response, &JsValue::from_str("body")).map_err(drop)?;
    if body.is_null() || body.is_undefined() {
        return Err(());
    }
    let reader = call(&body, "getReader")?;
    let read_fn: Function = Reflect::get(&reader, &JsValue::from_str("read"))
        .map_err(drop)?
        .dyn_into()
        .map_err(drop)?;
    report(FetchSignal::Open);
    let mut parser = SseParser::new();
    let mut buf = vec![0u8; PIECE as usize];
    loop {
        let promise: Promise = read_fn
            .call0(&reader)
            .map_err(drop)?
            .dyn_into()
            .map_err(drop)?;
        let chunk = JsFuture::from(promise).await.map_err(drop)?;
        if !live.get() {
            return Err(());
        }
        let done = Reflect::get(&chunk, &JsValue::from_str("done"))
            .map_err(drop)?
            .is_truthy();
        if done {
            parser.finish();
            drain(&mut parser, report);
            return Ok(Ended::Body);
        }
        let value = Reflect::get(&chunk, &JsValue::from_str("value")).map_err(drop)?;
        let bytes: Uint8Array = value.dyn_into().map_err(drop)?;
        if bytes.length() == 0 {
            continue;
        }
        report(FetchSignal::Activity);
        // In pieces of at most 64 KiB: a huge chunk is never copied into wasm memory whole
        // (the parser keeps no more of it than its limits allow).
        let len = bytes.length();
        let mut at = 0;
        while at < len {
            let end = len.min(at + PIECE);
            let Some(piece) = buf.get_mut(..(end - at) as usize) else {
                break;
            };
            bytes.subarray(at, end).copy_to(piece);
            parser.feed(piece);
            drain(&mut parser, report);
            at = end;
        }
    }
}

/// Reports what the parser found.
fn drain(parser: &mut SseParser, report: &dyn Fn(FetchSignal)) {
    while let Some(item) = parser.poll() {
        match item {
            SseItem::Event(e) => report(FetchSignal::Event {
                name: e.event,
                data: e.data,
                id: e.id,
            }),
            SseItem::Retry(ms) => report(FetchSignal::Retry(ms)),
            SseItem::Error(e) => report(FetchSignal::Malformed(e.as_str().into())),
            SseItem::Comment(_) => {}
        }
    }
}

/// `target[name]()`.
fn call(target: &JsValue, name: &str) -> Result<JsValue, ()> {
    let f: Function = Reflect::get(target, &JsValue::from_str(name))
        .map_err(drop)?
        .dyn_into()
        .map_err(drop)?;
    f.call0(target).map_err(drop)
}
