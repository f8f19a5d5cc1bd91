//! A small size-class allocator for the npm package's wasms (smaller than `std`'s
//! general-purpose one), and for a `no_std` build of the codec and session.
//!
//! Every request is rounded up to a power-of-two class of at least 16 bytes. Classes up to
//! 4 KiB are carved from 4 KiB chunks (so every block is aligned to its class); larger ones
//! take their own span. Freed blocks go on their class's free list and are reused by the next
//! request of that class: O(1) allocation and release, no coalescing. Memory is never given
//! back — wasm memory cannot shrink anyway.
//!
//! Single-threaded only: the npm build runs on one thread (no wasm threads).

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;

const MIN_CLASS: u32 = 4;
const CLASSES: usize = usize::BITS as usize;
const CHUNK: usize = 4096;

/// Where fresh memory comes from.
pub trait Pages {
    /// Provides at least `bytes` new bytes; returns the start and length of the new region.
    fn grow(&self, bytes: usize) -> Option<(usize, usize)>;
}

struct State {
    /// Head of each class's free list (0 = empty); each free block stores the next address.
    free: [usize; CLASSES],
    next: usize,
    end: usize,
}

/// The allocator; see the module docs.
pub struct Heap<P> {
    state: UnsafeCell<State>,
    pages: P,
}

// SAFETY: only used where there is a single thread (wasm32 without threads, or a test that
// keeps the heap on one thread).
unsafe impl<P> Sync for Heap<P> {}

impl<P: Pages> Heap<P> {
    /// An empty heap growing from `pages`.
    pub const fn new(pages: P) -> Self {
        Heap {
            state: UnsafeCell::new(State {
                free: [0; CLASSES],
                next: 0,
                end: 0,
            }),
            pages,
        }
    }

    /// The class (log2 of the block size) of `layout`, below `CLASSES - 1`. The mask is a
    /// no-op that lets the compiler drop the bounds checks on `free`.
    fn class(layout: &Layout) -> Option<usize> {
        let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
        let k = size.checked_next_power_of_two()?.trailing_zeros() as usize;
        (k < CLASSES - 1).then_some(k & (CLASSES - 1))
    }

    /// A fresh span of `size` bytes aligned to `align` (a power of two).
    unsafe fn bump(&self, st: &mut State, size: usize, align: usize) -> Option<usize> {
        let mut start = st.next.checked_add(align - 1)? & !(align - 1);
        if start.checked_add(size)? > st.end {
            let (base, len) = self.pages.grow(size.checked_add(align)?)?;
            if base != st.end {
                st.next = base;
            }
            st.end = base.checked_add(len)?;
            start = st.next.checked_add(align - 1)? & !(align - 1);
            if start.checked_add(size)? > st.end {
                return None;
            }
        }
        st.next = start + size;
        Some(start)
    }
}

unsafe impl<P: Pages> GlobalAlloc for Heap<P> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(k) = Self::class(&layout) else {
            return ptr::null_mut();
        };
        let size = 1usize << k;
        let st = &mut *self.state.get();
        let slot = &mut st.free[k];
        if *slot != 0 && layout.align() <= CHUNK {
            let block = *slot;
            *slot = *(block as *const usize);
            return block as *mut u8;
        }
        let block = if size <= CHUNK {
            match self.bump(st, CHUNK, CHUNK) {
                Some(base) => {
                    // Keep the first block, put the rest of the chunk on the free list.
                    let mut at = base + CHUNK - size;
                    while at > base {
                        *(at as *mut usize) = st.free[k];
                        st.free[k] = at;
                        at -= size;
                    }
                    Some(base)
                }
                None => None,
            }
        } else {
            self.bump(st, size, layout.align().max(CHUNK))
        };
        block.map_or(ptr::null_mut(), |b| b as *mut u8)
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if let Some(k) = Self::class(&layout) {
            let st = &mut *self.state.get();
            *(block as *mut usize) = st.free[k];
            st.free[k] = block as usize;
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return ptr::null_mut();
        };
        if Self::class(&layout) == Self::class(&new_layout) {
            return block;
        }
        let new = self.alloc(new_layout);
        if !new.is_null() {
            ptr::copy_nonoverlapping(block, new, layout.size().min(new_size));
            self.dealloc(block, layout);
        }
        new
    }
}

/// Fresh pages from the wasm linear memory.
#[cfg(target_arch = "wasm32")]
pub struct WasmPages;

#[cfg(target_arch = "wasm32")]
impl Pages for WasmPages {
    fn grow(&self, bytes: usize) -> Option<(usize, usize)> {
        const PAGE: usize = 65536;
        let pages = bytes.div_ceil(PAGE).max(1);
        let prev = core::arch::wasm32::memory_grow(0, pages);
        if prev == usize::MAX {
            return None;
        }
        Some((prev * PAGE, pages * PAGE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Regions of a fixed arena, handed out in order (like memory.grow).
    struct Arena {
        base: usize,
        len: usize,
        used: Cell<usize>,
    }

    impl Pages for Arena {
        fn grow(&self, bytes: usize) -> Option<(usize, usize)> {
            let len = bytes.div_ceil(65536) * 65536;
            let at = self.used.get();
            if at + len > self.len {
                return None;
            }
            self.used.set(at + len);
            Some((self.base + at, len))
        }
    }

    fn arena(len: usize) -> Heap<Arena> {
        let layout = Layout::from_size_align(len, 65536).unwrap();
        let base = unsafe { std::alloc::alloc(layout) } as usize;
        assert_ne!(base, 0);
        Heap::new(Arena {
            base,
            len,
            used: Cell::new(0),
        })
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_reused() {
        let heap = arena(512 << 20);
        let mut rng = 0x1234_5678_9abc_def0u64;
        let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
        for i in 0..20_000u32 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if rng % 3 != 0 || live.is_empty() {
                let size = match rng % 100 {
                    0 => (rng >> 8) as usize % 70_000,
                    1..=30 => (rng >> 8) as usize % 2000,
                    _ => (rng >> 8) as usize % 100,
                };
                let align = 1usize << ((rng >> 40) % 7);
                let layout = Layout::from_size_align(size.max(1), align).unwrap();
                let p = unsafe { heap.alloc(layout) };
                assert!(!p.is_null());
                assert_eq!(p as usize % align, 0, "alignment");
                let tag = i as u8;
                unsafe { ptr::write_bytes(p, tag, layout.size()) };
                live.push((p, layout, tag));
            } else {
                let at = (rng >> 20) as usize % live.len();
                let (p, layout, tag) = live.swap_remove(at);
                // Nobody else wrote into this block.
                let bytes = unsafe { std::slice::from_raw_parts(p, layout.size()) };
                assert!(bytes.iter().all(|&b| b == tag), "overlap detected");
                unsafe { heap.dealloc(p, layout) };
            }
        }
        for (p, layout, tag) in live {
            let bytes = unsafe { std::slice::from_raw_parts(p, layout.size()) };
            assert!(bytes.iter().all(|&b| b == tag), "overlap detected");
        }
    }

    #[test]
    fn realloc_keeps_contents_and_freed_memory_is_reused() {
        let heap = arena(4 << 20);
        let l = Layout::from_size_align(10, 1).unwrap();
        let p = unsafe { heap.alloc(l) };
        unsafe { ptr::copy_nonoverlapping(b"0123456789".as_ptr(), p, 10) };
        let q = unsafe { heap.realloc(p, l, 12) };
        assert_eq!(p, q, "same class stays in place");
        let r = unsafe { heap.realloc(q, Layout::from_size_align(12, 1).unwrap(), 5000) };
        assert_eq!(unsafe { std::slice::from_raw_parts(r, 10) }, b"0123456789");
        // Steady state: alloc/free cycles do not grow the arena.
        let used = heap.pages.used.get();
        for _ in 0..10_000 {
            let l = Layout::from_size_align(300, 8).unwrap();
            let p = unsafe { heap.alloc(l) };
            unsafe { heap.dealloc(p, l) };
        }
        assert_eq!(heap.pages.used.get(), used);
    }

    #[test]
    fn exhaustion_returns_null() {
        let heap = arena(1 << 20);
        let l = Layout::from_size_align(500_000, 8).unwrap();
        assert!(!unsafe { heap.alloc(l) }.is_null());
        assert!(unsafe { heap.alloc(l) }.is_null());
        let huge = Layout::from_size_align(usize::MAX / 2, 1).unwrap();
        assert!(unsafe { heap.alloc(huge) }.is_null());
    }
}
