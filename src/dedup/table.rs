//! The key table of [`super::Index`]: key hash to cluster.
//!
//! Open addressing with linear probing over buckets of five keys, one
//! cache line each, at most seven eighths full (12 bytes a key: at a
//! million keys, less than a swiss table of `u64` to `u32`). Key hashes
//! are xxh3 (uniform), so a key's home bucket is their low bits. A
//! lookup reads one cache line in most cases (a swiss
//! table reads its control bytes, then the bucket: two lines, and in a
//! table of a million keys both miss the cache), and the lines of a
//! batch's keys can be read together first ([`KeyTable::warm`]):
//! observing the keys in order then waits on memory about once per batch
//! rather than once per key.

/// Keys per bucket: a bucket is one 64-byte cache line.
const WAYS: usize = 5;

/// Five keys and their clusters, on one cache line; key 0 marks an empty
/// place (0 is never a key: it means "no key" in [`super::Fact::keys`]).
/// Places fill in order, and a key goes to the first bucket of its probe
/// with room (nothing is ever removed): a lookup ends at the first
/// bucket with an empty place.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Bucket {
    keys: [u64; WAYS],
    clusters: [u32; WAYS],
}

#[derive(Debug, Default)]
pub struct KeyTable {
    /// A power of two of them, or none.
    buckets: Vec<Bucket>,
    len: usize,
}

/// The first table's size, in buckets.
const FIRST: usize = 256;

impl KeyTable {
    pub fn len(&self) -> usize {
        self.len
    }

    /// Where `key`'s probe starts.
    fn home(&self, key: u64) -> usize {
        key as usize & (self.buckets.len() - 1)
    }

    /// The cluster of `key`.
    pub fn get(&self, key: u64) -> Option<u32> {
        if self.buckets.is_empty() || key == 0 {
            return None;
        }
        let (i, w, found) = self.probe(key);
        found.then(|| self.buckets[i].clusters[w])
    }

    /// The cluster of `key` if it has one; else `key` joins `cluster`
    /// and the answer is `None`.
    pub fn get_or_insert(&mut self, key: u64, cluster: u32) -> Option<u32> {
        debug_assert!(key != 0, "0 is never a key");
        // At most seven eighths full.
        if (self.len + 1) * 8 > self.buckets.len() * WAYS * 7 {
            self.grow();
        }
        let (i, w, found) = self.probe(key);
        let b = &mut self.buckets[i];
        if found {
            return Some(b.clusters[w]);
        }
        b.keys[w] = key;
        b.clusters[w] = cluster;
        self.len += 1;
        None
    }

    /// Where `key` is (bucket, place, `true`), or the empty place it
    /// would take (`false`). The table has buckets and an empty place.
    #[inline]
    fn probe(&self, key: u64) -> (usize, usize, bool) {
        let mask = self.buckets.len() - 1;
        let mut i = self.home(key);
        loop {
            let b = &self.buckets[i];
            for w in 0..WAYS {
                if b.keys[w] == key {
                    return (i, w, true);
                }
                if b.keys[w] == 0 {
                    return (i, w, false);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Reads the home bucket of each of `keys`, so that looking them up
    /// next finds their lines in the cache. The reads do not depend on
    /// one another, so the processor waits for their misses together
    /// (looking keys up in turn waits for each: an insert may change what
    /// the next lookup finds).
    pub fn warm(&self, keys: impl Iterator<Item = u64>) {
        if self.buckets.is_empty() {
            return;
        }
        let mut seen = 0;
        for k in keys {
            seen ^= self.buckets[self.home(k)].keys[0];
        }
        std::hint::black_box(seen);
    }

    /// Room for `keys` keys in all without growing (a table grows by
    /// doubling, and each doubling moves every key: a table of millions
    /// made room that way moves them all again, a cache miss each).
    pub fn reserve(&mut self, keys: usize) {
        let want = keys
            .saturating_mul(8)
            .div_ceil(WAYS * 7)
            .next_power_of_two()
            .max(FIRST);
        if want > self.buckets.len() {
            self.resize(want);
        }
    }

    /// Twice the buckets, every key in its new place (in the order of
    /// the old table, so each goes where inserting it would put it).
    fn grow(&mut self) {
        self.resize((self.buckets.len() * 2).max(FIRST));
    }

    fn resize(&mut self, size: usize) {
        let old = std::mem::replace(&mut self.buckets, vec![Bucket::default(); size]);
        self.len = 0;
        for b in &old {
            for w in 0..WAYS {
                if b.keys[w] != 0 {
                    self.get_or_insert(b.keys[w], b.clusters[w]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Against a HashMap, with keys that share their low bits (long
    /// probes, wrapping past the end) and enough keys to grow many times.
    #[test]
    fn agrees_with_a_hash_map() {
        let mut t = KeyTable::default();
        let mut m: HashMap<u64, u32> = HashMap::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..200_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // A third of the keys collide on their low 10 bits near the
            // table's end; some repeat.
            let key = match i % 3 {
                0 => (x & !0x3ff) | 0x3fe,
                1 => x % 5_000 + 1,
                _ => x | 1,
            };
            let want = match m.get(&key) {
                Some(&c) => Some(c),
                None => {
                    m.insert(key, i);
                    None
                }
            };
            t.warm([key, key ^ 1].into_iter());
            assert_eq!(t.get_or_insert(key, i), want, "key {key:#x}");
        }
        assert_eq!(t.len(), m.len());
        for (&k, &c) in &m {
            assert_eq!(t.get(k), Some(c));
        }
        assert_eq!(t.get(0), None);
        assert_eq!(
            t.get(0xdead_beef_0000_0001),
            m.get(&0xdead_beef_0000_0001).copied()
        );
    }

    /// A table given room ahead holds what a grown one holds, keys
    /// already in it included, and does not grow for the keys it made
    /// room for.
    #[test]
    fn a_reserved_table_agrees_and_does_not_grow() {
        let keys: Vec<u64> = (1..=50_000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
            .collect();
        let mut grown = KeyTable::default();
        let mut reserved = KeyTable::default();
        for (i, &k) in keys.iter().take(100).enumerate() {
            grown.get_or_insert(k, i as u32);
            reserved.get_or_insert(k, i as u32);
        }
        reserved.reserve(keys.len());
        let buckets = reserved.buckets.len();
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(
                reserved.get_or_insert(k, i as u32),
                grown.get_or_insert(k, i as u32)
            );
        }
        assert_eq!(reserved.buckets.len(), buckets, "it grew");
        assert_eq!(reserved.len(), grown.len());
        for &k in &keys {
            assert_eq!(reserved.get(k), grown.get(k));
        }
        // Less room than it has already: nothing changes.
        reserved.reserve(10);
        assert_eq!(reserved.buckets.len(), buckets);
    }
}
