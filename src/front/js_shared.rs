//! What the two JavaScript bridges share ([`super::js`] for Socket.IO, [`super::js_stream`]
//! for the SSE and plain-WebSocket modes): refs to JS values, the single-threaded globals,
//! and the text buffers JS writes into. Each npm wasm is built with one of the two.

use alloc::vec::Vec;
use core::cell::RefCell;

// SAFETY: both JS shells provide these as plain JS functions on numbers: `d` releases a slot of
// their table of JS values, `n` is `Date.now`. Neither touches the wasm's memory or calls back.
#[link(wasm_import_module = "r")]
unsafe extern "C" {
    #[link_name = "d"]
    safe fn release(r: u32);
    #[link_name = "n"]
    pub(crate) safe fn date_now() -> f64;
}

/// A JS value held for the wasm in the JS shell's table (`0`: none), released on drop.
#[derive(Default)]
pub struct Ref(pub(crate) u32);

impl Ref {
    /// Hands the value over (to the handler, or into an array).
    pub(crate) fn into_raw(self) -> u32 {
        let r = self.0;
        core::mem::forget(self);
        r
    }
}

impl Drop for Ref {
    fn drop(&mut self) {
        if self.0 != 0 {
            release(self.0);
        }
    }
}

/// Shared state of an npm build, which runs on one thread.
pub(crate) struct Global<T>(pub(crate) RefCell<T>);

// SAFETY: wasm32 without threads: there is only one thread.
unsafe impl<T> Sync for Global<T> {}

/// Makes a buffer of `len` bytes in `cell` and returns where it starts (null if in use).
pub(crate) fn room(cell: &Global<Vec<u8>>, len: usize) -> *mut u8 {
    match cell.0.try_borrow_mut() {
        Ok(mut b) => {
            b.clear();
            b.resize(len, 0);
            b.as_mut_ptr()
        }
        Err(_) => core::ptr::null_mut(),
    }
}
