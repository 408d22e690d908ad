//! The hash of the compiled-in lexicon tables' keys: one function, which `build.rs`
//! (laying the tables out) and `static_table.rs` (reading them) both compile from this
//! file, so a key is always looked for in the slot it was put in.

/// A word-at-a-time hash, eight bytes a step (`FxHash`'s multiply), with a final mix.
/// Every lexicon lookup hashes its key, and FNV-1a's byte-at-a-time loop cost more than
/// the rest of the lookup.
#[inline]
pub(super) fn hash(key: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let step = |h: u64, word: u64| (h.rotate_left(5) ^ word).wrapping_mul(K);
    let mut h = step(0, key.len() as u64);
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        h = step(
            h,
            u64::from_le_bytes(chunk.try_into().expect("eight bytes")),
        );
    }
    // The last one to seven bytes as one word, read as two overlapping halves (or the
    // first, middle and last byte): with the length hashed above, no two keys meet.
    let rest = chunks.remainder();
    let r = rest.len();
    if r >= 4 {
        let half = |at: usize| {
            u64::from(u32::from_le_bytes(
                rest[at..at + 4].try_into().expect("four bytes"),
            ))
        };
        h = step(h, half(0) | half(r - 4) << 32);
    } else if r > 0 {
        h = step(
            h,
            u64::from(rest[0]) | u64::from(rest[r / 2]) << 8 | u64::from(rest[r - 1]) << 16,
        );
    }
    // Spread the high bits the multiplications left well mixed into the low bits that
    // pick the slot.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ h >> 33
}
