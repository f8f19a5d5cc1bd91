//! The page's network and visibility signals: the window's `online` and `offline` events and
//! the document's `visibilitychange`, for the session's [`handle_network`] and
//! [`handle_visible`]; and, when asked, the window's `beforeunload`.
//!
//! [`handle_network`]: crate::session::Session::handle_network
//! [`handle_visible`]: crate::session::Session::handle_visible

use wasm_bindgen::prelude::*;
use web_sys::{Document, EventTarget};

#[wasm_bindgen]
extern "C" {
    /// The page's window; `undefined` in a worker (or outside a browser).
    #[wasm_bindgen(thread_local_v2, js_namespace = globalThis, js_name = window)]
    static WINDOW: JsValue;
    /// The page's document; `undefined` in a worker.
    #[wasm_bindgen(thread_local_v2, js_namespace = globalThis, js_name = document)]
    static DOCUMENT: JsValue;
}

/// What the page reports.
pub(crate) enum PageSignal {
    /// `online` (true) or `offline` (false).
    Network(bool),
    /// The page became visible.
    Visible,
    /// The page is about to unload (`beforeunload`).
    Unload,
}

/// One listener: where, on which event, and the closure.
type Listener = (EventTarget, &'static str, Closure<dyn FnMut()>);

/// The three listeners; dropping it removes them.
pub(crate) struct PageWatch {
    listeners: Vec<Listener>,
}

impl PageWatch {
    /// Listens on the page for as long as the watch lives (nothing outside a window);
    /// `beforeunload` too when `unload`.
    pub fn new(on_signal: impl Fn(PageSignal) + Clone + 'static, unload: bool) -> PageWatch {
        let mut listeners = Vec::new();
        if !super::BROWSER {
            return PageWatch { listeners };
        }
        let window = WINDOW.with(JsValue::clone);
        if window.is_object() {
            let window: EventTarget = window.unchecked_into();
            let document = DOCUMENT.with(JsValue::clone);
            let document = document
                .is_object()
                .then(|| document.unchecked_into::<Document>());
            let mut add = |target: EventTarget, event: &'static str, f: Box<dyn FnMut()>| {
                let f = Closure::wrap(f);
                if target
                    .add_event_listener_with_callback(event, f.as_ref().unchecked_ref())
                    .is_ok()
                {
                    listeners.push((target, event, f));
                }
            };
            let f = on_signal.clone();
            add(
                window.clone(),
                "online",
                Box::new(move || f(PageSignal::Network(true))),
            );
            let f = on_signal.clone();
            add(
                window.clone(),
                "offline",
                Box::new(move || f(PageSignal::Network(false))),
            );
            if unload {
                let f = on_signal.clone();
                add(
                    window,
                    "beforeunload",
                    Box::new(move || f(PageSignal::Unload)),
                );
            }
            if let Some(document) = document {
                let doc = document.clone();
                add(
                    document.into(),
                    "visibilitychange",
                    Box::new(move || {
                        if !doc.hidden() {
                            on_signal(PageSignal::Visible)
                        }
                    }),
                );
            }
        }
        PageWatch { listeners }
    }
}

impl Drop for PageWatch {
    fn drop(&mut self) {
        for (target, event, f) in &self.listeners {
            let _ = target.remove_event_listener_with_callback(event, f.as_ref().unchecked_ref());
        }
    }
}
