//! The browser shell, one for both front doors (the Rust API and the npm
//! package): the WebSocket transport, timers (gloo-timers), the page's signals and the clock,
//! and the [`link::Link`] that feeds them into a [`Session`](crate::session::Session); for the
//! SSE and plain-WebSocket modes, the `EventSource`, streaming-`fetch` and plain `WebSocket`
//! transports and the `StreamLink` that feeds them into a reconnecting
//! [`Stream`](crate::session::stream::Stream). The npm package's wasms also take their
//! allocator from here (the heap).
//!
//! Every handle owns the JS closures it registered and removes them in `Drop`; nothing is
//! leaked with `forget`.
//!
//! Off the browser (any target but wasm32: a server build of a Leptos or Yew app, `cargo doc`,
//! native tests) the shell compiles and is inert, at a handful of leaves that test
//! [`BROWSER`]: no transport opens, no timer is armed, the page is not watched, and the clock
//! stands still. The front doors' handles work and stay disconnected.

/// Whether there is a browser to talk to: false on every target but wasm32, where a call into
/// JavaScript would panic.
#[cfg(any(feature = "rust-api", feature = "js", feature = "js-stream"))]
pub(crate) const BROWSER: bool = cfg!(target_arch = "wasm32");

/// Runs `future` on the page's microtask queue (`wasm_bindgen_futures::spawn_local`); off the
/// browser it is dropped unpolled.
#[cfg(any(feature = "rust-api", feature = "js-stream"))]
pub(crate) fn spawn(future: impl core::future::Future<Output = ()> + 'static) {
    if BROWSER {
        wasm_bindgen_futures::spawn_local(future);
    }
}

#[cfg(any(feature = "rust-api", feature = "js", feature = "js-stream"))]
pub(crate) mod clock;
#[cfg(any(feature = "rust-api", feature = "js-stream"))]
pub(crate) mod event_source;
#[cfg_attr(feature = "std", allow(dead_code))]
pub(crate) mod heap;
#[cfg(any(feature = "rust-api", feature = "js-stream"))]
pub(crate) mod http;
#[cfg(any(feature = "rust-api", feature = "js"))]
pub(crate) mod link;
#[cfg(any(feature = "rust-api", feature = "js", feature = "js-stream"))]
pub(crate) mod page;
#[cfg(any(feature = "rust-api", feature = "js-stream"))]
pub(crate) mod plain_websocket;
#[cfg(any(feature = "rust-api", feature = "js"))]
pub(crate) mod polling;
#[cfg(any(feature = "rust-api", feature = "js-stream"))]
pub(crate) mod sse_fetch;
#[cfg(any(feature = "rust-api", feature = "js-stream"))]
pub(crate) mod stream_link;
#[cfg(any(feature = "rust-api", feature = "js", feature = "js-stream"))]
pub(crate) mod timer;
#[cfg(any(feature = "rust-api", feature = "js"))]
pub(crate) mod websocket;

#[cfg(any(feature = "rust-api", feature = "js"))]
pub(crate) use bins::Bins;

#[cfg(any(feature = "rust-api", feature = "js"))]
mod bins {
    use js_sys::Array;
    use wasm_bindgen::JsValue;

    use crate::session::Attachments;

    /// A packet's attachments in the browser: an `Array` of `ArrayBuffer`s (or views), `None`
    /// when there are none. Passed through as is, never copied into wasm memory.
    pub(crate) type Bins = Option<Array>;

    impl Attachments for Option<Array> {
        type Item = JsValue;
        fn count(&self) -> usize {
            self.as_ref().map_or(0, |a| a.length() as usize)
        }
        fn add(&mut self, item: JsValue) {
            self.get_or_insert_with(Array::new).push(&item);
        }
    }
}
