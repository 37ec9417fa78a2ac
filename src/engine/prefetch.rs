//! A cache hint: start loading a value the program will read soon.

/// Asks the CPU to start loading every cache line `value` covers into all cache levels, so that
/// a later read does not wait for memory. A hint only: it changes no value and no result, and on
/// targets other than x86-64 it does nothing.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    let start = (value as *const T).cast::<u8>();
    let size = std::mem::size_of::<T>().max(1);
    // The line of the first byte, each 64 bytes on, and the line of the last byte.
    let mut offset = 0;
    while offset < size {
        line(start.wrapping_add(offset));
        offset += 64;
    }
    line(start.wrapping_add(size - 1));
}

#[inline(always)]
fn line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` never faults and neither reads nor writes program-visible memory,
    // whatever the address; here it is inside a live value anyway. SSE, which it needs, is part
    // of the x86-64 baseline that every x86-64 target enables.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
