//! The front doors: the JavaScript bridge of the npm package and the Rust API.

#[cfg(all(target_arch = "wasm32", feature = "js"))]
pub(crate) mod js;
#[cfg(all(target_arch = "wasm32", any(feature = "js", feature = "js-stream")))]
pub(crate) mod js_shared;
#[cfg(all(target_arch = "wasm32", feature = "js-stream"))]
pub(crate) mod js_stream;
#[cfg(feature = "rust-api")]
pub(crate) mod rust;
