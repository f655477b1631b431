//! The npm package's allocator (feature `arena`, wasm32 without threads): a bump arena for the
//! allocations of one decision, over the system allocator for everything else.
//!
//! A decision allocates a few dozen short-lived blocks (the parsed context, the decision, its
//! JSON text) and frees them all before it returns. Inside [`scope`] (the hot calls in
//! `wasm.rs`) blocks are carved from one region by bumping an offset, and freeing one only
//! counts it; when the count is back to zero the whole region is free again. That saves
//! dlmalloc's bookkeeping: renderJson and decideJson are 4–5% faster (paired A/B in Node).
//!
//! Safety rests on one invariant, kept by [`Region`] (its bookkeeping is tested natively below;
//! the allocator around it by the wasm-bindgen and npm suites, which run on this build): the region is
//! reused only when no block in it is live. Every block handed out is counted once and
//! uncounted once when freed or moved out by `realloc`. A block that outlives its call (a cache,
//! a kept buffer) keeps the region from being reused, which costs only speed: once full, the
//! region gives way to the system allocator. Outside [`scope`], and for blocks the region cannot
//! serve, the system allocator answers; `dealloc` and `realloc` tell the two apart by address.

/// The region's size: a decision with five rendered messages takes a few KB.
const SIZE: usize = 256 * 1024;
/// The region's alignment; a block that needs more goes to the system allocator.
const ALIGN: usize = 16;

/// The bookkeeping of the region, in offsets: what is handed out and when it is free again.
#[derive(Debug, Default)]
struct Region {
    /// The offset of the first free byte.
    top: usize,
    /// Blocks handed out and not yet freed.
    live: usize,
}

impl Region {
    /// The offset of a new block, if it fits (`align`: a power of two ≤ [`ALIGN`]).
    fn alloc(&mut self, size: usize, align: usize) -> Option<usize> {
        let start = self.top.checked_add(align - 1)? & !(align - 1);
        // (A zero-size block could sit at the region's end, where `dealloc` would not know it.)
        if size == 0 || align > ALIGN || start > SIZE || size > SIZE - start {
            return None;
        }
        self.top = start + size;
        self.live += 1;
        Some(start)
    }

    /// Frees a block; the last one frees the whole region.
    fn free(&mut self) {
        debug_assert!(self.live > 0, "a block freed twice");
        self.live = self.live.saturating_sub(1);
        if self.live == 0 {
            self.top = 0;
        }
    }

    /// Resizes the block at `offset` in place if it is the newest and the new size fits.
    fn resize(&mut self, offset: usize, size: usize, new_size: usize) -> bool {
        let newest = offset.checked_add(size) == Some(self.top);
        if newest && offset <= SIZE && new_size <= SIZE - offset {
            self.top = offset + new_size;
            true
        } else {
            false
        }
    }
}

#[cfg(all(feature = "arena", target_arch = "wasm32", not(target_feature = "atomics")))]
pub(crate) use global::scope;
#[cfg(all(feature = "arena", feature = "wasm-tests", target_arch = "wasm32", not(target_feature = "atomics")))]
pub use global::stats;

#[cfg(all(feature = "arena", target_arch = "wasm32", not(target_feature = "atomics")))]
#[allow(unsafe_code)]
mod global {
    use super::{Region, ALIGN, SIZE};
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::UnsafeCell;

    struct State {
        /// The region (allocated from the system on first use), or null.
        base: *mut u8,
        /// The region could not be allocated (then it is never tried again).
        failed: bool,
        region: Region,
        /// Inside [`scope`].
        on: bool,
    }

    struct Arena(UnsafeCell<State>);

    // Sound because this module is compiled only for wasm32 without the `atomics` feature: one
    // thread, and the allocator never re-enters itself (it calls only `System`).
    unsafe impl Sync for Arena {}

    #[global_allocator]
    static ARENA: Arena = Arena(UnsafeCell::new(State { base: std::ptr::null_mut(), failed: false, region: Region { top: 0, live: 0 }, on: false }));

    impl Arena {
        /// The state; callers hold the reference only within one allocator call.
        #[allow(clippy::mut_from_ref)]
        unsafe fn state(&self) -> &mut State {
            &mut *self.0.get()
        }
    }

    impl State {
        /// The offset of `p` in the region, if it was handed out from there.
        fn offset(&self, p: *mut u8) -> Option<usize> {
            let (p, base) = (p as usize, self.base as usize);
            (!self.base.is_null() && p >= base && p - base < SIZE).then(|| p - base)
        }
    }

    unsafe impl GlobalAlloc for Arena {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let s = self.state();
            if s.on {
                if s.base.is_null() && !s.failed {
                    // SIZE and ALIGN make a valid layout (non-zero, power-of-two alignment).
                    s.base = System.alloc(Layout::from_size_align_unchecked(SIZE, ALIGN));
                    s.failed = s.base.is_null();
                }
                if !s.base.is_null() {
                    if let Some(offset) = s.region.alloc(layout.size(), layout.align()) {
                        return s.base.add(offset);
                    }
                }
            }
            System.alloc(layout)
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            let s = self.state();
            if !s.on {
                return System.alloc_zeroed(layout);
            }
            let p = self.alloc(layout);
            if !p.is_null() {
                std::ptr::write_bytes(p, 0, layout.size());
            }
            p
        }

        unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
            let s = self.state();
            match s.offset(p) {
                Some(_) => s.region.free(),
                None => System.dealloc(p, layout),
            }
        }

        unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let s = self.state();
            let Some(offset) = s.offset(p) else { return System.realloc(p, layout, new_size) };
            if s.region.resize(offset, layout.size(), new_size) {
                return p;
            }
            // A new block (from the region while in scope), the bytes copied, the old one freed.
            let q = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
            if !q.is_null() {
                std::ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                self.dealloc(p, layout);
            }
            q
        }
    }

    /// Blocks live in the region and its top, for the wasm tests: both are 0 between calls unless
    /// something allocated inside a scope outlives it (which would keep the region from reuse).
    #[cfg(feature = "wasm-tests")]
    pub fn stats() -> (usize, usize) {
        // SAFETY: as in `scope`.
        let s = unsafe { ARENA.state() };
        (s.region.live, s.region.top)
    }

    /// Serves this thread's allocations from the region until the guard drops.
    pub(crate) fn scope() -> Scope {
        // SAFETY: one thread, and no allocator call is running while this runs.
        let s = unsafe { ARENA.state() };
        let was = s.on;
        s.on = true;
        Scope { was }
    }

    pub(crate) struct Scope {
        was: bool,
    }

    impl Drop for Scope {
        fn drop(&mut self) {
            // SAFETY: as in `scope`.
            unsafe { ARENA.state() }.on = self.was;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random allocations, frees and resizes: live blocks never overlap, stay inside the region
    /// and aligned, and the region is whole again once every block is freed.
    #[test]
    fn live_blocks_never_overlap_and_the_region_comes_back() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut r = Region::default();
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        for _ in 0..200_000 {
            match next(10) {
                0..=4 => {
                    let (size, align) = (next(3000) + 1, 1 << next(5));
                    if let Some(at) = r.alloc(size, align) {
                        assert_eq!(at % align, 0);
                        assert!(at + size <= SIZE);
                        assert!(blocks.iter().all(|&(a, s)| at >= a + s || at + size <= a), "overlap");
                        blocks.push((at, size));
                    }
                }
                5..=8 if !blocks.is_empty() => {
                    blocks.swap_remove(next(blocks.len()));
                    r.free();
                }
                _ => {
                    if let Some(i) = blocks.len().checked_sub(1) {
                        let (at, size) = blocks[i];
                        let new_size = next(4000) + 1;
                        if r.resize(at, size, new_size) {
                            blocks[i].1 = new_size;
                            assert!(blocks.iter().take(i).all(|&(a, s)| at >= a + s || at + new_size <= a), "overlap");
                        }
                    }
                }
            }
            assert_eq!(r.live, blocks.len());
            if blocks.is_empty() {
                assert_eq!(r.top, 0, "the region is whole again");
            }
        }
        for _ in blocks.drain(..) {
            r.free();
        }
        assert_eq!(r.alloc(SIZE, 1), Some(0), "the whole region once everything is freed");
        assert_eq!(r.alloc(1, 1), None, "a full region answers none (the system allocator then)");
        assert_eq!(Region::default().alloc(1, 32), None, "over-aligned blocks go to the system");
        assert_eq!(Region::default().alloc(0, 1), None, "zero-size blocks go to the system");
    }
}
