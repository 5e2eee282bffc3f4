//! The RTCP transmission interval (RFC 3550 §6.3, Appendix A.7) with timer
//! reconsideration (§6.3.6) and the averaged RTCP packet size (§6.3.3).

use std::time::Duration;

/// `e - 3/2`: compensates timer reconsideration converging below the
/// intended bandwidth (§6.3.1).
const COMPENSATION: f64 = std::f64::consts::E - 1.5;

/// What the interval depends on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IntervalInputs {
    /// Session members, this one included.
    pub(crate) members: usize,
    /// Members that sent RTP in the last two intervals.
    pub(crate) senders: usize,
    /// RTCP bandwidth in octets per second (5% of the session's).
    pub(crate) rtcp_bw: f64,
    /// Whether this member sent RTP since the last two reports.
    pub(crate) we_sent: bool,
    /// Average compound RTCP packet size in octets, with UDP/IP headers.
    pub(crate) avg_rtcp_size: f64,
    /// Before the first report: half the minimum interval.
    pub(crate) initial: bool,
    /// The minimum interval (5 s by default).
    pub(crate) minimum: Duration,
}

/// The deterministic interval `Td` (before randomization).
pub(crate) fn deterministic(i: IntervalInputs) -> f64 {
    let min = if i.initial {
        i.minimum.as_secs_f64() / 2.0
    } else {
        i.minimum.as_secs_f64()
    };
    let (mut bw, mut n) = (i.rtcp_bw, i.members as f64);
    // Senders share a quarter of the bandwidth when they are few.
    if i.senders > 0 && (i.senders as f64) <= 0.25 * i.members as f64 {
        if i.we_sent {
            bw *= 0.25;
            n = i.senders as f64;
        } else {
            bw *= 0.75;
            n -= i.senders as f64;
        }
    }
    let t = if bw > 0.0 {
        i.avg_rtcp_size * n / bw
    } else {
        min
    };
    t.max(min)
}

/// The randomized interval `T`: `Td` times a factor in [0.5, 1.5]
/// (`unit` in [0, 1)), divided by `e - 3/2`.
pub(crate) fn randomized(i: IntervalInputs, unit: f64) -> Duration {
    Duration::from_secs_f64(deterministic(i) * (0.5 + unit) / COMPENSATION)
}

/// §6.3.3: `avg = 1/16 · size + 15/16 · avg`.
pub(crate) fn average_size(avg: f64, size: usize) -> f64 {
    avg + (size as f64 - avg) / 16.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> IntervalInputs {
        IntervalInputs {
            members: 2,
            senders: 2,
            rtcp_bw: 0.05 * 64_000.0 / 8.0,
            we_sent: true,
            avg_rtcp_size: 100.0,
            initial: false,
            minimum: Duration::from_secs(5),
        }
    }

    #[test]
    fn a_two_party_call_reports_every_five_seconds_on_average() {
        assert_eq!(deterministic(inputs()), 5.0);
        assert_eq!(
            deterministic(IntervalInputs {
                initial: true,
                ..inputs()
            }),
            2.5
        );
        let lo = randomized(inputs(), 0.0).as_secs_f64();
        let hi = randomized(inputs(), 0.999_999).as_secs_f64();
        assert!((lo - 2.5 / COMPENSATION).abs() < 1e-9 && (hi - 7.5 / COMPENSATION).abs() < 1e-5);
    }

    #[test]
    fn a_large_conference_scales_with_members_and_splits_senders() {
        // 1000 members, 2 senders, 200-octet reports, 400 octets/s of RTCP.
        let big = IntervalInputs {
            members: 1000,
            senders: 2,
            rtcp_bw: 400.0,
            we_sent: false,
            avg_rtcp_size: 200.0,
            ..inputs()
        };
        // Receivers: 998 share 75%: 200·998/300.
        assert!((deterministic(big) - 200.0 * 998.0 / 300.0).abs() < 1e-9);
        // A sender: 2 share 25%: 200·2/100 = 4 s, below the 5 s minimum.
        assert_eq!(
            deterministic(IntervalInputs {
                we_sent: true,
                ..big
            }),
            5.0
        );
    }

    #[test]
    fn the_average_size_moves_a_sixteenth() {
        assert_eq!(average_size(100.0, 260), 110.0);
    }
}
