//! The front doors: the JavaScript bridge of the npm package and the Rust API.

#[cfg(all(target_arch = "wasm32", feature = "js"))]
pub(crate) mod js;
#[cfg(feature = "rust-api")]
pub(crate) mod rust;
