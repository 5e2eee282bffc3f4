//! Timer values (RFC 3261 Table 4, RFC 6026 §8.4) and the per-transaction
//! timer table.

use std::time::{Duration, Instant};

/// T1, T2, T4 and the 100 Trying delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// RTT estimate, default 500 ms.
    pub t1: Duration,
    /// Maximum retransmit interval for non-INVITE requests and INVITE
    /// responses, default 4 s.
    pub t2: Duration,
    /// Maximum time a message stays in the network, default 5 s.
    pub t4: Duration,
    /// Delay before an INVITE server transaction sends 100 Trying on its own
    /// (RFC 3261 §17.2.1: 200 ms), unless the TU answers first.
    pub trying_delay: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            trying_delay: Duration::from_millis(200),
        }
    }
}

impl Config {
    /// 64·T1: Timers B, F, H, J, L, M.
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }
}

/// The RFC 3261 / RFC 6026 timers, plus the 100 Trying delay.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Timer {
    /// INVITE client retransmit (unreliable), T1 doubling.
    A,
    /// INVITE client transaction timeout, 64·T1.
    B,
    /// Wait for response retransmits, 32 s unreliable / 0 reliable.
    D,
    /// Non-INVITE client retransmit, T1 doubling to T2.
    E,
    /// Non-INVITE client transaction timeout, 64·T1.
    F,
    /// INVITE server final-response retransmit, T1 doubling to T2.
    G,
    /// Wait for ACK, 64·T1.
    H,
    /// Wait for ACK retransmits, T4 unreliable / 0 reliable.
    I,
    /// Wait for non-INVITE request retransmits, 64·T1 unreliable / 0.
    J,
    /// Wait for non-INVITE response retransmits, T4 unreliable / 0.
    K,
    /// INVITE server Accepted state (RFC 6026), 64·T1.
    L,
    /// INVITE client Accepted state (RFC 6026), 64·T1.
    M,
    /// Send 100 Trying if the TU has not answered (RFC 3261 §17.2.1).
    Trying,
}

impl Timer {
    /// How many timers one transaction can have armed at once (Completed
    /// INVITE server: G and H; Calling: A and B; plus one spare).
    pub(crate) const MAX_ARMED: usize = 3;
}

/// Deadlines of one transaction's armed timers (at most [`Timer::MAX_ARMED`]),
/// and the deadline of its one entry in the layer's wake-up heap.
#[derive(Clone, Debug, Default)]
pub(crate) struct Timers {
    armed: [Option<(Timer, Instant)>; Timer::MAX_ARMED],
    /// When the heap entry that stands for this transaction is due; an
    /// entry with any other deadline is stale.
    pub(crate) scheduled: Option<Instant>,
}

impl Timers {
    /// The earliest armed timer.
    pub(crate) fn earliest(&self) -> Option<(Timer, Instant)> {
        self.armed
            .iter()
            .flatten()
            .min_by_key(|(_, at)| *at)
            .copied()
    }

    pub(crate) fn set(&mut self, t: Timer, at: Option<Instant>) {
        let slot = self
            .armed
            .iter()
            .position(|s| s.is_some_and(|(k, _)| k == t));
        match (slot, at) {
            (Some(i), Some(at)) => self.armed[i] = Some((t, at)),
            (Some(i), None) => self.armed[i] = None,
            (None, Some(at)) => {
                // No machine arms more than two timers at once (see MAX_ARMED).
                let free = self.armed.iter().position(Option::is_none).unwrap_or(0);
                self.armed[free] = Some((t, at));
            }
            (None, None) => {}
        }
    }
}
