//! What the SSE and plain-WebSocket modes need of the web platform besides their transport:
//! URLs resolved against the page ([`resolve`], [`with_query`]), JSON `POST`s with `fetch`
//! ([`Post`]) and the status of a URL an `EventSource` could not open ([`Probe`]).

use std::future::Future;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
#[cfg(feature = "rust-api")]
use web_sys::Headers;
use web_sys::{AbortController, AbortSignal, RequestCredentials, RequestInit, Response};

#[wasm_bindgen]
extern "C" {
    // The global `fetch`, in a window as in a worker.
    #[wasm_bindgen(js_name = fetch, catch)]
    pub(crate) fn fetch_with_init(input: &str, init: &RequestInit) -> Result<Promise, JsValue>;
}

/// `url` made absolute against the page's address (so `/events` works), with its fragment
/// removed, if it parses and its scheme is one of `schemes`. `http(s)` becomes `ws(s)` when
/// `schemes` are WebSocket ones.
#[cfg(feature = "rust-api")]
pub(crate) fn resolve(url: &str, schemes: &[&str]) -> Option<String> {
    if !super::BROWSER {
        // No page to resolve against and nothing will open: the scheme is checked, the URL
        // kept as given.
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        let known = ["http", "https"].iter().chain(schemes);
        return match scheme {
            Some(s) if !known.into_iter().any(|k| *k == s) => None,
            _ => Some(url.split('#').next().unwrap_or(url).to_string()),
        };
    }
    let parsed = match web_sys::Url::new(url) {
        Ok(u) => u,
        Err(_) => {
            let base = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("location"))
                .ok()
                .and_then(|l| js_sys::Reflect::get(&l, &JsValue::from_str("href")).ok())
                .and_then(|h| h.as_string())?;
            web_sys::Url::new_with_base(url, &base).ok()?
        }
    };
    let scheme = parsed.protocol();
    let scheme = scheme.trim_end_matches(':');
    let websocket = schemes.contains(&"ws");
    match scheme {
        "http" if websocket => parsed.set_protocol("ws:"),
        "https" if websocket => parsed.set_protocol("wss:"),
        s if schemes.contains(&s) => {}
        _ => return None,
    }
    parsed.set_hash("");
    let href = parsed.href();
    Some(href.strip_suffix('#').unwrap_or(&href).to_string())
}

/// `base` with the query parameters `pairs` added (percent-encoded) to the ones it has.
#[cfg(feature = "rust-api")]
pub(crate) fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    fn enc(out: &mut String, s: &str) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(b as char);
            } else {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
    let mut url = String::from(base);
    let mut sep = if !base.contains('?') {
        '?'
    } else if base.ends_with('?') || base.ends_with('&') {
        '\0'
    } else {
        '&'
    };
    for (k, v) in pairs {
        if sep != '\0' {
            url.push(sep);
        }
        sep = '&';
        enc(&mut url, k);
        url.push('=');
        enc(&mut url, v);
    }
    url
}

/// An HTTP answer: its status and body text.
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sends JSON `POST`s, all cancelled when it is dropped.
#[cfg(feature = "rust-api")]
pub(crate) struct Post {
    abort: Option<AbortController>,
}

#[cfg(feature = "rust-api")]
impl Post {
    pub fn new() -> Post {
        Post {
            abort: super::BROWSER
                .then(|| AbortController::new().ok())
                .flatten(),
        }
    }

    /// Starts a `POST` of the JSON `body` to `url` now (so requests start in the order they
    /// are made), with `headers` and, when `credentials`, cookies sent cross-origin too.
    /// The future gives the answer, or the failure's message (network error, CORS refusal,
    /// cancelled).
    pub fn send(
        &self,
        url: &str,
        body: &str,
        headers: &[(String, String)],
        credentials: bool,
    ) -> impl Future<Output = Result<Answer, String>> + 'static {
        let started = self.start(url, body, headers, credentials);
        async move {
            let promise = started.map_err(describe)?;
            let response: Response = JsFuture::from(promise)
                .await
                .map_err(describe)?
                .dyn_into()
                .map_err(describe)?;
            let status = response.status();
            let text = JsFuture::from(response.text().map_err(describe)?)
                .await
                .map_err(describe)?;
            Ok(Answer {
                status,
                body: text.as_string().unwrap_or_default(),
            })
        }
    }

    fn start(
        &self,
        url: &str,
        body: &str,
        headers: &[(String, String)],
        credentials: bool,
    ) -> Result<Promise, JsValue> {
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(&JsValue::from_str(body));
        let h = Headers::new()?;
        h.set("Content-Type", "application/json")?;
        for (k, v) in headers {
            h.set(k, v)?;
        }
        init.set_headers(&h);
        init.set_credentials(if credentials {
            RequestCredentials::Include
        } else {
            RequestCredentials::SameOrigin
        });
        let signal: Option<AbortSignal> = self.abort.as_ref().map(AbortController::signal);
        init.set_signal(signal.as_ref());
        fetch_with_init(url, &init)
    }
}

#[cfg(feature = "rust-api")]
impl Drop for Post {
    fn drop(&mut self) {
        if let Some(a) = &self.abort {
            a.abort();
        }
    }
}

/// A JS error's message, or what it is.
fn describe(e: JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    js_sys::Reflect::get(&e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "request failed".to_string())
}

/// A `GET` that learns a URL's answer (status, and body when it is an error) and stops reading
/// there: an `EventSource` that fails before opening hides why. Dropping it cancels the request.
pub(crate) struct Probe {
    abort: Option<AbortController>,
}

impl Probe {
    /// Starts a `GET` of `url` (cookies sent cross-origin too when `credentials`); the future
    /// gives its status and, unless it is 2xx, its body (a 2xx body, maybe an endless stream,
    /// is not read), or the failure's message.
    pub fn get(
        url: &str,
        credentials: bool,
    ) -> (
        Probe,
        impl Future<Output = Result<Answer, String>> + 'static,
    ) {
        let abort = AbortController::new().ok();
        let init = RequestInit::new();
        init.set_method("GET");
        init.set_credentials(if credentials {
            RequestCredentials::Include
        } else {
            RequestCredentials::SameOrigin
        });
        let signal: Option<AbortSignal> = abort.as_ref().map(AbortController::signal);
        init.set_signal(signal.as_ref());
        let started = fetch_with_init(url, &init);
        let stop = abort.clone();
        let answer = async move {
            let promise = started.map_err(describe)?;
            let response: Response = JsFuture::from(promise)
                .await
                .map_err(describe)?
                .dyn_into()
                .map_err(describe)?;
            let status = response.status();
            let body = if response.ok() {
                String::new()
            } else {
                JsFuture::from(response.text().map_err(describe)?)
                    .await
                    .map_err(describe)?
                    .as_string()
                    .unwrap_or_default()
            };
            if let Some(a) = &stop {
                a.abort();
            }
            Ok(Answer { status, body })
        };
        (Probe { abort }, answer)
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if let Some(a) = &self.abort {
            a.abort();
        }
    }
}
