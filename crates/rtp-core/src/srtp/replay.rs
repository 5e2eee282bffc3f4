//! Replay protection (RFC 3711 §3.3.2): a sliding window of packet indices
//! already accepted, kept as a ring of 64-bit blocks so that advancing the
//! window costs at most one cleared block per 64 indices (RFC 6479).

/// The window of recently accepted indices for one stream.
#[derive(Clone, Debug)]
pub(crate) struct ReplayWindow {
    size: u64,
    top: Option<u64>,
    blocks: Vec<u64>,
}

/// Why an index is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Replay {
    /// The index was accepted before.
    Duplicate,
    /// The index is further behind the newest than the window reaches.
    TooOld,
}

impl ReplayWindow {
    /// A window that remembers the last `size` indices (rounded up to a
    /// multiple of 64, at least 64 as RFC 3711 §3.3.2 requires).
    pub(crate) fn new(size: u64) -> ReplayWindow {
        let size = size.clamp(64, 1 << 15).next_multiple_of(64);
        ReplayWindow {
            size,
            top: None,
            blocks: vec![0; (size / 64) as usize + 1],
        }
    }

    fn slot(&self, index: u64) -> (usize, u64) {
        let block = ((index / 64) % self.blocks.len() as u64) as usize;
        (block, 1u64 << (index % 64))
    }

    /// Whether `index` may be accepted; nothing changes until [`accept`]
    /// (called only once the packet has authenticated).
    ///
    /// [`accept`]: ReplayWindow::accept
    pub(crate) fn check(&self, index: u64) -> Result<(), Replay> {
        let Some(top) = self.top else { return Ok(()) };
        if index > top {
            return Ok(());
        }
        if top - index >= self.size {
            return Err(Replay::TooOld);
        }
        let (block, bit) = self.slot(index);
        if self.blocks[block] & bit != 0 {
            Err(Replay::Duplicate)
        } else {
            Ok(())
        }
    }

    /// Records `index` as received, sliding the window forward if it is the
    /// newest.
    pub(crate) fn accept(&mut self, index: u64) {
        match self.top {
            Some(top) if index <= top => {}
            Some(top) => {
                let from = top / 64 + 1;
                let to = index / 64;
                let n = self.blocks.len() as u64;
                for b in from..=to.min(from + n - 1) {
                    self.blocks[(b % n) as usize] = 0;
                }
                self.top = Some(index);
            }
            None => {
                self.blocks.fill(0);
                self.top = Some(index);
            }
        }
        let (block, bit) = self.slot(index);
        self.blocks[block] |= bit;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_old_indices_are_refused() {
        let mut w = ReplayWindow::new(64);
        for i in [10u64, 12, 11, 100] {
            assert_eq!(w.check(i), Ok(()));
            w.accept(i);
        }
        assert_eq!(w.check(12), Err(Replay::TooOld));
        assert_eq!(w.check(100), Err(Replay::Duplicate));
        assert_eq!(w.check(37), Ok(()));
        assert_eq!(w.check(36), Err(Replay::TooOld));
        w.accept(37);
        assert_eq!(w.check(37), Err(Replay::Duplicate));
        assert_eq!(w.check(99), Ok(()));
    }

    #[test]
    fn a_long_jump_clears_the_whole_ring() {
        let mut w = ReplayWindow::new(128);
        for i in 0..200u64 {
            w.accept(i);
        }
        w.accept(1_000_000);
        for i in 1_000_000 - 127..1_000_000 {
            assert_eq!(w.check(i), Ok(()), "{i}");
        }
        assert_eq!(w.check(1_000_000 - 128), Err(Replay::TooOld));
    }

    #[test]
    fn the_window_matches_a_set_on_a_random_walk() {
        let mut w = ReplayWindow::new(64);
        let mut seen = std::collections::BTreeSet::new();
        let mut x: u64 = 7;
        let mut top = 0u64;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let step = (x >> 33) % 100;
            let index = (top + step).saturating_sub(60);
            let expect = if !seen.is_empty() && index <= top && top - index >= 64 {
                Err(Replay::TooOld)
            } else if seen.contains(&index) {
                Err(Replay::Duplicate)
            } else {
                Ok(())
            };
            let got = w.check(index);
            assert_eq!(got, expect, "index {index} top {top}");
            if got.is_ok() {
                w.accept(index);
                seen.insert(index);
                top = top.max(index);
            }
        }
    }
}
