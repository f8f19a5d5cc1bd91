//! What the two JavaScript bridges share ([`super::js`] for Socket.IO, [`super::js_stream`]
//! for the SSE and plain-WebSocket modes): refs to JS values, the single-threaded globals, the
//! table of connections, the text buffers JS writes into, and the lazy timer. Each npm wasm is built with one of the two.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::session::Millis;

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

/// The open connections of a bridge, by handle. Released slots are reused, so a page that opens
/// and closes many connections stays small.
pub(crate) struct Slots<T>(RefCell<Vec<Option<Rc<T>>>>);

// SAFETY: wasm32 without threads: there is only one thread.
unsafe impl<T> Sync for Slots<T> {}

impl<T> Slots<T> {
    pub(crate) const fn new() -> Self {
        Slots(RefCell::new(Vec::new()))
    }

    /// Stores what `make` makes of the first free handle and returns the handle
    /// (`u32::MAX` if the table is in use).
    pub(crate) fn insert(&self, make: impl FnOnce(u32) -> T) -> u32 {
        let Ok(mut slots) = self.0.try_borrow_mut() else {
            return u32::MAX;
        };
        let handle = slots
            .iter()
            .position(Option::is_none)
            .unwrap_or(slots.len());
        let item = Some(Rc::new(make(handle as u32)));
        match slots.get_mut(handle) {
            Some(slot) => *slot = item,
            None => slots.push(item),
        }
        handle as u32
    }

    /// The connection of `handle`, cloned so that no borrow of the table is held while it runs.
    pub(crate) fn get(&self, handle: u32) -> Option<Rc<T>> {
        let slots = self.0.try_borrow().ok()?;
        slots.get(handle as usize)?.clone()
    }

    /// Frees `handle` (dropped after the table's borrow ends).
    pub(crate) fn remove(&self, handle: u32) {
        let released = self
            .0
            .try_borrow_mut()
            .ok()
            .and_then(|mut s| s.get_mut(handle as usize).and_then(Option::take));
        drop(released);
    }
}

/// The timer request once a connection has no output left: the delay to arm the shell's timer
/// with (`Some(None)` to disarm it), or `None` if the armed timer will do.
///
/// Re-arms lazily: only when the next deadline (`want`) is earlier than the `armed` one, or one
/// of them is missing. A timer that fires early finds nothing due and is re-armed then, which
/// keeps timer calls off the per-message path (and `now` is only asked for then).
pub(crate) fn rearm(
    want: Option<Millis>,
    armed: &mut Option<Millis>,
    now: impl FnOnce() -> Millis,
) -> Option<Option<Millis>> {
    let change = match (want, *armed) {
        (Some(t), Some(a)) => t < a,
        (want, a) => want.is_some() != a.is_some(),
    };
    if !change {
        return None;
    }
    *armed = want;
    let now = now();
    Some(want.map(|t| t.saturating_sub(now)))
}
