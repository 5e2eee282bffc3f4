//! A simulated datagram network in virtual time: each packet may be lost,
//! duplicated, delayed with jitter, or held back so later packets overtake
//! it. Seeded, so every run (and every failure) is reproducible.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::Rng;

/// A loopback TCP port nothing listens on (bound, noted, closed): a dead
/// target for failover tests.
pub fn closed_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("an ephemeral loopback port")
}

/// Impairments applied to every packet.
#[derive(Clone, Copy, Debug)]
pub struct Conditions {
    /// Probability a packet is dropped.
    pub loss: f64,
    /// Probability a delivered packet arrives twice.
    pub duplicate: f64,
    /// Probability a packet is held back by `reorder_delay` (so later
    /// packets overtake it).
    pub reorder: f64,
    /// One-way delay.
    pub delay: Duration,
    /// Uniform extra delay in `0..jitter`.
    pub jitter: Duration,
    /// Extra delay of a reordered packet.
    pub reorder_delay: Duration,
}

impl Conditions {
    /// A perfect 10 ms link.
    pub fn perfect() -> Conditions {
        Conditions {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            delay: Duration::from_millis(10),
            jitter: Duration::ZERO,
            reorder_delay: Duration::ZERO,
        }
    }

    /// The hostile link of the transaction tests: 30% loss, 10%
    /// duplication, 10% reordering, 10–60 ms delay.
    pub fn hostile() -> Conditions {
        Conditions {
            loss: 0.30,
            duplicate: 0.10,
            reorder: 0.10,
            delay: Duration::from_millis(10),
            jitter: Duration::from_millis(50),
            reorder_delay: Duration::from_millis(200),
        }
    }
}

/// A packet in flight.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Packet {
    /// Sender.
    pub from: SocketAddr,
    /// Receiver.
    pub to: SocketAddr,
    /// Bytes.
    pub payload: Bytes,
}

/// The network (see the module documentation).
#[derive(Debug)]
pub struct SimNet {
    rng: Rng,
    conditions: Conditions,
    seq: u64,
    in_flight: BinaryHeap<Reverse<(Instant, u64, Packet)>>,
    /// Packets handed to [`SimNet::send`].
    pub sent: u64,
    /// Packets dropped.
    pub lost: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
}

impl SimNet {
    /// A network with these conditions and RNG seed.
    pub fn new(conditions: Conditions, seed: u64) -> SimNet {
        SimNet {
            rng: Rng::new(seed),
            conditions,
            seq: 0,
            in_flight: BinaryHeap::new(),
            sent: 0,
            lost: 0,
            duplicated: 0,
        }
    }

    fn schedule(&mut self, now: Instant, packet: Packet) {
        let c = self.conditions;
        let jitter_ns = c.jitter.as_nanos() as u64;
        let mut at = now
            + c.delay
            + Duration::from_nanos(if jitter_ns == 0 {
                0
            } else {
                self.rng.next_u64() % jitter_ns
            });
        if self.rng.chance(c.reorder) {
            at += c.reorder_delay;
        }
        self.seq += 1;
        self.in_flight.push(Reverse((at, self.seq, packet)));
    }

    /// Sends a packet at `now`.
    pub fn send(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, payload: Bytes) {
        self.sent += 1;
        if self.rng.chance(self.conditions.loss) {
            self.lost += 1;
            return;
        }
        let packet = Packet { from, to, payload };
        if self.rng.chance(self.conditions.duplicate) {
            self.duplicated += 1;
            self.schedule(now, packet.clone());
        }
        self.schedule(now, packet);
    }

    /// When the next packet arrives.
    pub fn next_arrival(&self) -> Option<Instant> {
        self.in_flight.peek().map(|Reverse((at, _, _))| *at)
    }

    /// The next packet due at or before `now`.
    pub fn receive(&mut self, now: Instant) -> Option<Packet> {
        match self.in_flight.peek() {
            Some(Reverse((at, _, _))) if *at <= now => {
                self.in_flight.pop().map(|Reverse((_, _, p))| p)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_duplication_and_order() {
        let t0 = Instant::now();
        let a: SocketAddr = "192.0.2.1:1".parse().expect("addr");
        let mut net = SimNet::new(Conditions::hostile(), 42);
        for i in 0..1000u32 {
            net.send(t0, a, a, Bytes::from(i.to_string()));
        }
        let mut got = Vec::new();
        while let Some(p) = net.receive(t0 + Duration::from_secs(1)) {
            got.push(p.payload);
        }
        assert_eq!(got.len() as u64, 1000 - net.lost + net.duplicated);
        assert!((250..350).contains(&net.lost), "~30% lost: {}", net.lost);
        assert!(net.duplicated > 30, "some duplicated: {}", net.duplicated);
        let order: Vec<u32> = got
            .iter()
            .filter_map(|b| std::str::from_utf8(b).ok()?.parse().ok())
            .collect();
        assert!(order.windows(2).any(|w| w[0] > w[1]), "some reordered");
    }
}
