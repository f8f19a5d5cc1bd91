//! The browser shell (wasm32 only), one for both front doors (the Rust API and the npm
//! package): the WebSocket transport, timers (gloo-timers), the page's signals and the clock,
//! and the [`link::Link`] that feeds them into a [`Session`](crate::session::Session); for the
//! SSE and plain-WebSocket modes, the `EventSource`, streaming-`fetch` and plain `WebSocket`
//! transports and the `StreamLink` that feeds them into a reconnecting
//! [`Stream`](crate::session::stream::Stream). The npm package's wasms also take their
//! allocator from here (the heap).
//!
//! Every handle owns the JS closures it registered and removes them in `Drop`; nothing is
//! leaked with `forget`.

#[cfg(target_arch = "wasm32")]
pub(crate) mod clock;
#[cfg(all(
    target_arch = "wasm32",
    any(feature = "rust-api", feature = "js-stream")
))]
pub(crate) mod event_source;
#[cfg_attr(feature = "std", allow(dead_code))]
pub(crate) mod heap;
#[cfg(all(
    target_arch = "wasm32",
    any(feature = "rust-api", feature = "js-stream")
))]
pub(crate) mod http;
#[cfg(all(target_arch = "wasm32", any(feature = "rust-api", feature = "js")))]
pub(crate) mod link;
#[cfg(all(target_arch = "wasm32", feature = "rust-api"))]
pub(crate) mod listeners;
#[cfg(all(
    target_arch = "wasm32",
    any(feature = "rust-api", feature = "js", feature = "js-stream")
))]
pub(crate) mod page;
#[cfg(all(
    target_arch = "wasm32",
    any(feature = "rust-api", feature = "js-stream")
))]
pub(crate) mod plain_websocket;
#[cfg(all(
    target_arch = "wasm32",
    any(feature = "rust-api", feature = "js-stream")
))]
pub(crate) mod sse_fetch;
#[cfg(all(
    target_arch = "wasm32",
    any(feature = "rust-api", feature = "js-stream")
))]
pub(crate) mod stream_link;
#[cfg(all(
    target_arch = "wasm32",
    any(feature = "rust-api", feature = "js", feature = "js-stream")
))]
pub(crate) mod timer;
#[cfg(all(target_arch = "wasm32", any(feature = "rust-api", feature = "js")))]
pub(crate) mod websocket;

#[cfg(all(target_arch = "wasm32", any(feature = "rust-api", feature = "js")))]
pub(crate) use bins::Bins;

#[cfg(all(target_arch = "wasm32", any(feature = "rust-api", feature = "js")))]
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
