//! A read-only string-keyed hash table that `build.rs` lays out at compile time and the
//! checker reads in place from `include_bytes!`: no building at start-up.
//!
//! Layout, all little-endian `u32`: `n`, `slots`, `n + 1` key offsets into the key bytes,
//! `n` values, `slots` slot words (0 when empty, else the key index + 1 in the low 24 bits
//! and the top 8 bits of the key's hash above them; linear probing from the hash),
//! then the key bytes.

use super::table_hash::hash;

/// A table over the bytes `build.rs` wrote.
pub(super) struct StaticTable {
    bytes: &'static [u8],
    len: usize,
    /// The slot count, a power of two.
    slots: usize,
    /// Where the values, the slots and the key bytes start (in `u32` words, words and
    /// bytes).
    values: usize,
    slot_words: usize,
    keys: usize,
}

impl StaticTable {
    /// Reads the header of a table `build.rs` wrote.
    pub(super) const fn new(bytes: &'static [u8]) -> StaticTable {
        let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        let slots = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        let values = 2 + len + 1;
        let slot_words = values + len;
        StaticTable {
            bytes,
            len,
            slots,
            values,
            slot_words,
            keys: 4 * (slot_words + slots),
        }
    }

    /// The `index`-th `u32` word.
    #[inline]
    fn word(&self, index: usize) -> usize {
        let at = 4 * index;
        let word: [u8; 4] = self.bytes[at..at + 4]
            .try_into()
            .expect("a four-byte slice");
        u32::from_le_bytes(word) as usize
    }

    #[inline]
    fn key_bytes(&self, index: usize) -> &'static [u8] {
        let (start, end) = (self.word(2 + index), self.word(3 + index));
        let bytes: &'static [u8] = self.bytes;
        &bytes[self.keys + start..self.keys + end]
    }

    /// The `index`-th key.
    pub(super) fn key(&self, index: usize) -> &'static str {
        debug_assert!(index < self.len);
        std::str::from_utf8(self.key_bytes(index)).expect("build.rs writes keys from UTF-8 tables")
    }

    /// Every key, in the order `build.rs` wrote them.
    pub(super) fn keys(&'static self) -> impl Iterator<Item = &'static str> {
        (0..self.len).map(|index| self.key(index))
    }

    /// The value stored with `key`.
    pub(super) fn get(&self, key: &str) -> Option<u32> {
        let mask = self.slots - 1;
        let h = hash(key.as_bytes());
        #[allow(clippy::cast_possible_truncation)] // only the low bits pick the slot
        let mut at = h as usize & mask;
        #[allow(clippy::cast_possible_truncation)] // 8 bits
        let fingerprint = (h >> 56) as usize;
        loop {
            let slot = self.word(self.slot_words + at);
            if slot == 0 {
                return None;
            }
            // A different fingerprint is a different key: no key bytes read.
            if slot >> 24 == fingerprint {
                let index = (slot & 0x00ff_ffff) - 1;
                if self.key_bytes(index) == key.as_bytes() {
                    return u32::try_from(self.word(self.values + index)).ok();
                }
            }
            at = (at + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StaticTable;

    static VARIANTS: StaticTable = StaticTable::new(include_bytes!(concat!(
        env!("OUT_DIR"),
        "/lexicon_variants.bin"
    )));

    #[test]
    fn every_key_is_found_and_other_words_are_not() {
        assert!(VARIANTS.len > 100_000, "the drug and disease variants");
        for index in 0..VARIANTS.len {
            let key = VARIANTS.key(index);
            let value = u32::try_from(VARIANTS.word(VARIANTS.values + index)).unwrap();
            assert_eq!(VARIANTS.get(key), Some(value), "`{key}` (key {index})");
            // A key one byte longer or shorter is another word.
            assert!(VARIANTS.get(&format!("{key}#")).is_none(), "`{key}#`");
        }
        for word in ["", "zzzz qqqq", "the", "of"] {
            assert!(VARIANTS.get(word).is_none(), "`{word}`");
        }
    }
}
