//! Hash maps keyed by ids this process hands out itself (transaction ids,
//! timer numbers). Those keys are never chosen by a peer, so they need no
//! protection against crafted collisions and a multiply-and-rotate hash
//! does: several times cheaper than SipHash on the per-message path.
//! Maps keyed by anything from the network (Call-IDs, branches, tags) keep
//! the standard library's keyed SipHash (a transaction key computes it once
//! and carries it).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for small integer ids (see the module documentation).
#[derive(Clone, Copy, Default, Debug)]
pub struct IdHasher(u64);

impl IdHasher {
    #[inline]
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.add(u64::from(*b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by our own ids.
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A `HashSet` of our own ids.
pub type IdSet<K> = HashSet<K, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TransactionId;

    #[test]
    fn ids_spread_over_the_high_bits() {
        // hashbrown takes its control byte from the top 7 bits: consecutive
        // ids must not share them.
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<IdHasher>::default();
        let tops: HashSet<u64> = (0..128u32)
            .map(|i| {
                build.hash_one(TransactionId {
                    index: i,
                    generation: 1,
                }) >> 57
            })
            .collect();
        assert!(tops.len() > 64, "only {} distinct top bytes", tops.len());
        let mut m: IdMap<TransactionId, u32> = IdMap::default();
        for i in 0..1000 {
            m.insert(
                TransactionId {
                    index: i,
                    generation: i % 3,
                },
                i,
            );
        }
        assert_eq!(
            m.get(&TransactionId {
                index: 999,
                generation: 0
            }),
            Some(&999)
        );
        assert_eq!(m.len(), 1000);
    }
}
