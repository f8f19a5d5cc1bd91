//! rtio: a Socket.IO v5 / Engine.IO v4 client for the browser.
//!
//! Layers, data flowing one way:
//! - [`codec`]: pure encoders and decoders of the wire formats;
//! - [`session`]: the sans-IO connection state machine, driven by a clock passed in;
//! - `shell` (wasm32 only): the browser's WebSocket, timers and clock;
//! - front doors: the Rust API ([`Socket`]) and the JavaScript API of the npm package.
#![warn(missing_docs)]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod codec;
pub mod session;

mod shell;

mod front;

/// Removes and returns element `at` of `v`, shifting the ones after it down: `Vec::remove`
/// without its panic, whose message would bring integer formatting into the npm wasms. `None`
/// when there is no such element.
pub(crate) fn take<T>(v: &mut alloc::vec::Vec<T>, at: usize) -> Option<T> {
    v.get_mut(at..)
        .filter(|rest| !rest.is_empty())?
        .rotate_left(1);
    v.pop()
}

/// A first-in, first-out queue whose [`pop`](Queue::pop) costs the same however long it is.
/// `Vec::remove(0)` moves every element left, and one long-polling answer can queue
/// thousands of outputs at once; `VecDeque` would do, with more code in the npm wasms. Its
/// users take everything out before they queue again (the slots of taken items are reused
/// once it is empty).
#[derive(Debug)]
pub(crate) struct Queue<T> {
    items: alloc::vec::Vec<Option<T>>,
    head: usize,
}

impl<T> Queue<T> {
    pub(crate) const fn new() -> Self {
        Queue {
            items: alloc::vec::Vec::new(),
            head: 0,
        }
    }

    /// Adds `item` at the end.
    pub(crate) fn push(&mut self, item: T) {
        self.items.push(Some(item));
    }

    /// Adds `items` at the end, in order.
    pub(crate) fn extend(&mut self, items: impl IntoIterator<Item = T>) {
        self.items.extend(items.into_iter().map(Some));
    }

    /// Takes the first item.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let item = self.items.get_mut(self.head).and_then(Option::take);
        self.head += usize::from(item.is_some());
        if self.head == self.items.len() {
            self.items.clear();
            self.head = 0;
        }
        item
    }

    /// Whether it holds nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.head == self.items.len()
    }

    /// Keeps only the items `keep` says to.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.items
            .retain(|item| item.as_ref().is_some_and(&mut keep));
        self.head = 0;
    }
}

// The npm package's exports (features `js` and `js-stream`, internal to its build): the
// facade in js/ is their only user.
#[cfg(all(target_arch = "wasm32", feature = "js"))]
#[doc(hidden)]
pub use front::js::{Connection, ConnectionEvents, NamespaceEvents};
#[cfg(all(target_arch = "wasm32", any(feature = "js", feature = "js-stream")))]
#[doc(hidden)]
pub use front::js_shared::{set_failure_handler, Delay};
#[cfg(all(target_arch = "wasm32", feature = "js-stream"))]
#[doc(hidden)]
pub use front::js_stream::{StreamConnection, StreamEvents};
#[cfg(feature = "rust-api")]
pub use front::rust::*;

// The npm package's wasm with the standard library: allocation goes to the small size-class
// heap all the same.
#[cfg(all(
    target_arch = "wasm32",
    any(feature = "js", feature = "js-stream"),
    not(feature = "rust-api")
))]
#[global_allocator]
static HEAP: shell::heap::Heap<shell::heap::WasmPages> =
    shell::heap::Heap::new(shell::heap::WasmPages);
pub use session::DisconnectReason;

// A wasm of the codec and the session alone (no front door, no `std`): a panic formats nothing
// (it cannot happen on network or user data: every decoder returns errors instead) and
// allocation goes to the small size-class heap.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
mod runtime {
    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        core::arch::wasm32::unreachable()
    }

    #[global_allocator]
    static HEAP: crate::shell::heap::Heap<crate::shell::heap::WasmPages> =
        crate::shell::heap::Heap::new(crate::shell::heap::WasmPages);
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    #[test]
    fn queue_is_first_in_first_out() {
        let mut q = super::Queue::new();
        assert!(q.is_empty());
        q.extend([1, 2, 3]);
        assert_eq!(q.pop(), Some(1));
        q.push(4);
        q.retain(|n| n % 2 == 0);
        assert_eq!((q.pop(), q.pop(), q.pop()), (Some(2), Some(4), None));
        assert!(q.is_empty());
        q.push(5);
        assert!(!q.is_empty());
        assert_eq!((q.pop(), q.pop()), (Some(5), None));
        assert!(q.items.is_empty(), "slots reused once empty");
    }

    #[test]
    fn take_removes_one_element_in_order() {
        let mut v = vec![1, 2, 3, 4];
        assert_eq!(super::take(&mut v, 1), Some(2));
        assert_eq!(v, [1, 3, 4]);
        assert_eq!(super::take(&mut v, 0), Some(1));
        assert_eq!(super::take(&mut v, 1), Some(4));
        assert_eq!(v, [3]);
        assert_eq!(super::take(&mut v, 1), None);
        assert_eq!(super::take(&mut v, 0), Some(3));
        assert_eq!(super::take(&mut v, 0), None);
    }
}
