//! The Completed state of non-INVITE server transactions over unreliable
//! transports (RFC 3261 §17.2.2): for 64·T1 after the final response, a
//! retransmitted request gets that response again and nothing else
//! happens. A registrar or proxy answers a request in microseconds and
//! then remembers it for 32 s, so at any moment nearly all of its
//! transactions are here.
//!
//! They are kept as records packed one after another into large blocks
//! rather than as a transaction each: about half the memory (no slot, no
//! timer entry, no second copy of the key, no spare capacity in the
//! response), no small allocation per transaction, and a block is emptied
//! whole once its last record has ended (then reused, or freed when the
//! load has gone). Every record lasts the same
//! 64·T1, so records end in the order they were added and the oldest
//! block is always the next to go. Short-lived allocations interleaved
//! with long-lived ones (bindings, dialogs) would otherwise leave the heap
//! fragmented at its peak size long after the transactions have gone.
//!
//! Record layout: until (u64 ns after the first record's time), key hash
//! (u64), transaction id (2 × u32), transport (u8), peer (address family
//! u8, 16 address bytes, port u16, IPv6 scope u32), key length (u32),
//! response length (u32), then the encoded key and the response bytes;
//! integers little-endian.

use std::collections::VecDeque;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::time::{Duration, Instant};

use hashbrown::HashTable;

use crate::key::Key;
use crate::{TransactionId, Transport};

/// Bytes per block: a few thousand records, and large enough that
/// allocators map it on its own and give it back to the system when it is
/// freed (mimalloc above 512 KiB, glibc above 128 KiB), instead of keeping
/// it among small objects. Only the part written is ever resident.
const BLOCK: usize = 1024 * 1024;
const HEADER: usize = 8 + 8 + 8 + 1 + 23 + 4 + 4;

/// Where a record is: its block's sequence number (never reused) and its
/// offset in that block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Loc {
    block: u64,
    offset: u32,
}

/// A record read back.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    pub(crate) id: TransactionId,
    pub(crate) transport: Transport,
    pub(crate) peer: SocketAddr,
    pub(crate) response: &'a [u8],
}

/// What [`Completed::insert`] stores.
pub(crate) struct Entry<'a> {
    pub(crate) id: TransactionId,
    pub(crate) transport: Transport,
    pub(crate) peer: SocketAddr,
    pub(crate) key: &'a Key,
    pub(crate) response: &'a [u8],
}

/// Completed non-INVITE server transactions (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct Completed {
    blocks: VecDeque<Vec<u8>>,
    /// Sequence number of `blocks[0]`.
    first: u64,
    /// Offset of the oldest live record in `blocks[0]`.
    head: usize,
    index: HashTable<Loc>,
    /// Time zero for the stored deadlines.
    epoch: Option<Instant>,
    /// Emptied blocks kept for the next ones, at most as many as are live:
    /// a load that comes in bursts (or drops and returns within 64·T1)
    /// writes into pages that are already resident instead of taking a
    /// page fault for every fresh page of a new block, and once the load
    /// stops the spares go with the blocks they mirror, 64·T1 later.
    spares: Vec<Vec<u8>>,
    scratch: Vec<u8>,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut x = [0; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

fn put_peer(out: &mut Vec<u8>, peer: SocketAddr) {
    let (family, ip, scope) = match peer {
        SocketAddr::V4(a) => (4, a.ip().to_ipv6_mapped().octets(), 0),
        SocketAddr::V6(a) => (6, a.ip().octets(), a.scope_id()),
    };
    out.push(family);
    out.extend_from_slice(&ip);
    out.extend_from_slice(&peer.port().to_le_bytes());
    out.extend_from_slice(&scope.to_le_bytes());
}

fn peer_at(b: &[u8], at: usize) -> SocketAddr {
    let mut ip = [0; 16];
    ip.copy_from_slice(&b[at + 1..at + 17]);
    let ip = Ipv6Addr::from(ip);
    let port = u16_at(b, at + 17);
    if b[at] == 4 {
        let v4 = ip.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED);
        SocketAddr::new(IpAddr::V4(v4), port)
    } else {
        SocketAddr::V6(SocketAddrV6::new(ip, port, 0, u32_at(b, at + 19)))
    }
}

/// The block holding `loc`, if still kept.
fn block_of<'a>(blocks: &'a VecDeque<Vec<u8>>, first: u64, loc: &Loc) -> Option<&'a [u8]> {
    let i = usize::try_from(loc.block.checked_sub(first)?).ok()?;
    blocks.get(i).map(Vec::as_slice)
}

/// The transaction of the record at `at` in `b`.
fn id_at(b: &[u8], at: usize) -> TransactionId {
    TransactionId {
        index: u32_at(b, at + 16),
        generation: u32_at(b, at + 20),
    }
}

/// The fields of the record at `at` in `b`: (until, hash, key, total length).
fn parts(b: &[u8], at: usize) -> (u64, u64, &[u8], usize) {
    let klen = u32_at(b, at + HEADER - 8) as usize;
    let rlen = u32_at(b, at + HEADER - 4) as usize;
    let key = &b[at + HEADER..at + HEADER + klen];
    (u64_at(b, at), u64_at(b, at + 8), key, HEADER + klen + rlen)
}

impl Completed {
    /// An empty store.
    pub(crate) fn new() -> Completed {
        Completed::default()
    }

    /// Number of records.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Keeps `entry` until `until`. Records must be added in the order of
    /// their deadlines (the layer adds each 64·T1 after `now`).
    pub(crate) fn insert(&mut self, until: Instant, entry: Entry<'_>) {
        let hash = entry.key.hash();
        self.scratch.clear();
        entry.key.encode(&mut self.scratch);
        let (Ok(klen), Ok(rlen)) = (
            u32::try_from(self.scratch.len()),
            u32::try_from(entry.response.len()),
        ) else {
            return; // cannot be: a message is far smaller
        };
        let epoch = *self.epoch.get_or_insert(until);
        let until =
            u64::try_from(until.saturating_duration_since(epoch).as_nanos()).unwrap_or(u64::MAX);
        let len = HEADER + self.scratch.len() + entry.response.len();
        let fits = self
            .blocks
            .back()
            .is_some_and(|b| b.capacity() - b.len() >= len);
        if !fits {
            let block = match self.spares.pop() {
                Some(b) if len <= BLOCK => b,
                spare => {
                    self.spares.extend(spare);
                    Vec::with_capacity(BLOCK.max(len))
                }
            };
            self.blocks.push_back(block);
        }
        let seq = self.first + self.blocks.len() as u64 - 1;
        let Some(block) = self.blocks.back_mut() else {
            return;
        };
        let Ok(offset) = u32::try_from(block.len()) else {
            return;
        };
        block.extend_from_slice(&until.to_le_bytes());
        block.extend_from_slice(&hash.to_le_bytes());
        block.extend_from_slice(&entry.id.index.to_le_bytes());
        block.extend_from_slice(&entry.id.generation.to_le_bytes());
        block.push(
            Transport::ALL
                .iter()
                .position(|t| *t == entry.transport)
                .unwrap_or(0) as u8,
        );
        put_peer(block, entry.peer);
        block.extend_from_slice(&klen.to_le_bytes());
        block.extend_from_slice(&rlen.to_le_bytes());
        block.extend_from_slice(&self.scratch);
        block.extend_from_slice(entry.response);
        let loc = Loc { block: seq, offset };
        let (blocks, first, scratch) = (&self.blocks, self.first, &self.scratch);
        let key_of = |l: &Loc| block_of(blocks, first, l).map(|b| parts(b, l.offset as usize));
        match self.index.entry(
            hash,
            |l| key_of(l).is_some_and(|(_, _, k, _)| k == scratch.as_slice()),
            |l| key_of(l).map_or(0, |(_, h, _, _)| h),
        ) {
            // Not expected (a request matching a record is answered from it
            // instead of starting a transaction), but the newer one wins.
            hashbrown::hash_table::Entry::Occupied(mut o) => *o.get_mut() = loc,
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(loc);
            }
        }
    }

    /// The record for `key`, if one is live.
    pub(crate) fn find(&mut self, key: &Key) -> Option<Record<'_>> {
        if self.index.is_empty() {
            return None;
        }
        let hash = key.hash();
        let (blocks, first, scratch) = (&self.blocks, self.first, &mut self.scratch);
        let mut encoded = false;
        let loc = *self.index.find(hash, |l| {
            let Some(b) = block_of(blocks, first, l) else {
                return false;
            };
            let (_, h, k, _) = parts(b, l.offset as usize);
            if h != hash {
                return false;
            }
            if !encoded {
                scratch.clear();
                key.encode(scratch);
                encoded = true;
            }
            k == scratch.as_slice()
        })?;
        let b = block_of(&self.blocks, self.first, &loc)?;
        let at = loc.offset as usize;
        let (_, _, key, _) = parts(b, at);
        let rlen = u32_at(b, at + HEADER - 4) as usize;
        let start = at + HEADER + key.len();
        Some(Record {
            id: id_at(b, at),
            transport: Transport::ALL
                .get(usize::from(b[at + 24]))
                .copied()
                .unwrap_or(Transport::Udp),
            peer: peer_at(b, at + 25),
            response: &b[start..start + rlen],
        })
    }

    /// When the oldest record ends.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let b = self.blocks.front()?;
        if self.head >= b.len() {
            return None;
        }
        let (until, ..) = parts(b, self.head);
        Some(self.epoch? + Duration::from_nanos(until))
    }

    /// Drops the records that end at or before `now`, reporting each one's
    /// transaction to `ended`.
    pub(crate) fn expire(&mut self, now: Instant, mut ended: impl FnMut(TransactionId)) {
        // Nothing ends before the first deadline, time zero.
        let Some(now) = self.epoch.and_then(|e| now.checked_duration_since(e)) else {
            return;
        };
        let now = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
        while let Some(b) = self.blocks.front() {
            if self.head >= b.len() {
                if self.blocks.len() == 1 {
                    // The block being written: start it again from the top.
                    if let Some(b) = self.blocks.front_mut() {
                        b.clear();
                    }
                    self.head = 0;
                    break;
                }
                if let Some(mut done) = self.blocks.pop_front() {
                    done.clear();
                    if done.capacity() == BLOCK && self.spares.len() < self.blocks.len() {
                        self.spares.push(done);
                    }
                }
                self.first += 1;
                self.head = 0;
                continue;
            }
            let at = self.head;
            let (until, hash, _, len) = parts(b, at);
            if until > now {
                break;
            }
            let id = id_at(b, at);
            let loc = Loc {
                block: self.first,
                offset: at as u32,
            };
            if let Ok(entry) = self.index.find_entry(hash, |l| *l == loc) {
                entry.remove();
            }
            self.head += len;
            ended(id);
        }
        self.spares.truncate(self.blocks.len());
        if self.index.capacity() > 4 * self.index.len() + 1024 {
            let (blocks, first) = (&self.blocks, self.first);
            self.index.shrink_to(2 * self.index.len(), |l| {
                block_of(blocks, first, l).map_or(0, |b| parts(b, l.offset as usize).1)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Kind;
    use sip_core::Method;

    fn key(branch: &str) -> Key {
        Key::from(Kind::Server {
            branch: branch.to_owned(),
            sent_by: "192.0.2.1:5060".to_owned(),
            method: Method::Register,
        })
    }

    fn id(index: u32) -> TransactionId {
        TransactionId {
            index,
            generation: 7,
        }
    }

    #[test]
    fn records_are_found_by_key_and_end_in_order() {
        let t0 = Instant::now();
        let mut c = Completed::new();
        let peers: [SocketAddr; 2] = [
            "192.0.2.1:5060".parse().expect("v4"),
            "[fe80::1%3]:5062".parse().expect("v6"),
        ];
        // Enough records (with responses of many sizes, one larger than a
        // block) to fill several blocks.
        let n = 6000u32;
        let response = |i: u32| vec![b'a' + (i % 26) as u8; 100 + (i as usize * 37) % 900];
        for i in 0..n {
            let big = vec![b'z'; BLOCK + 10];
            let r = if i == 3000 { big } else { response(i) };
            c.insert(
                t0 + Duration::from_millis(u64::from(i)),
                Entry {
                    id: id(i),
                    transport: Transport::Udp,
                    peer: peers[(i % 2) as usize],
                    key: &key(&format!("z9hG4bK{i}")),
                    response: &r,
                },
            );
        }
        assert_eq!(c.len(), n as usize);
        assert!(c.blocks.len() > 3, "{} blocks", c.blocks.len());
        for i in [0, 1, 2999, 3000, 3001, n - 1] {
            let r = c.find(&key(&format!("z9hG4bK{i}"))).expect("found");
            assert_eq!(r.id, id(i));
            assert_eq!(r.peer, peers[(i % 2) as usize]);
            assert_eq!(r.transport, Transport::Udp);
            if i != 3000 {
                assert_eq!(r.response, response(i).as_slice());
            } else {
                assert_eq!(r.response.len(), BLOCK + 10);
            }
        }
        assert!(c.find(&key("z9hG4bKnone")).is_none());
        let other_method = Key::from(Kind::Server {
            branch: "z9hG4bK5".to_owned(),
            sent_by: "192.0.2.1:5060".to_owned(),
            method: Method::Options,
        });
        assert!(c.find(&other_method).is_none());
        assert_eq!(c.next_deadline(), Some(t0));

        // Half of them end, in order, each reported once.
        let mut ended = Vec::new();
        c.expire(t0 + Duration::from_millis(2999), |id| ended.push(id));
        assert_eq!(ended, (0..3000).map(id).collect::<Vec<_>>());
        assert_eq!(c.len(), 3000);
        assert!(c.find(&key("z9hG4bK2999")).is_none());
        assert!(c.find(&key("z9hG4bK3000")).is_some());
        assert_eq!(c.next_deadline(), Some(t0 + Duration::from_millis(3000)));

        // The rest; then the store is empty and starts over.
        c.expire(t0 + Duration::from_secs(60), |id| ended.push(id));
        assert_eq!(ended.len(), n as usize);
        assert_eq!(c.len(), 0);
        assert_eq!(c.blocks.len(), 1);
        assert_eq!(c.next_deadline(), None);
        c.insert(
            t0 + Duration::from_secs(61),
            Entry {
                id: id(1),
                transport: Transport::Udp,
                peer: peers[0],
                key: &key("again"),
                response: b"SIP/2.0 200 OK\r\n\r\n",
            },
        );
        assert_eq!(
            c.find(&key("again")).map(|r| r.response.to_vec()),
            Some(b"SIP/2.0 200 OK\r\n\r\n".to_vec())
        );
        assert_eq!(c.next_deadline(), Some(t0 + Duration::from_secs(61)));
    }

    #[test]
    fn emptied_blocks_are_reused_while_the_load_lasts_then_freed() {
        let t0 = Instant::now();
        let mut c = Completed::new();
        let peer: SocketAddr = "192.0.2.1:5060".parse().expect("v4");
        let response = vec![b'r'; 1000];
        let add = |c: &mut Completed, i: u32, at: Duration| {
            c.insert(
                t0 + at,
                Entry {
                    id: id(i),
                    transport: Transport::Udp,
                    peer,
                    key: &key(&format!("z9hG4bK{i}")),
                    response: &response,
                },
            );
        };
        // A burst filling several blocks, and a second one later.
        let per_burst = 5000u32;
        for i in 0..per_burst {
            add(&mut c, i, Duration::from_millis(u64::from(i)));
        }
        let first_burst = c.blocks.len();
        assert!(first_burst >= 4, "{first_burst} blocks");
        for i in per_burst..2 * per_burst {
            add(&mut c, i, Duration::from_secs(20));
        }
        let live = c.blocks.len();
        // The first burst ends: its blocks are kept, not freed.
        c.expire(t0 + Duration::from_secs(10), |_| {});
        assert_eq!(c.len(), per_burst as usize);
        assert_eq!(c.spares.len(), first_burst - 1);
        assert_eq!(c.blocks.len(), live - (first_burst - 1));
        // A third burst writes into them without allocating.
        let spare_addrs: Vec<*const u8> = c.spares.iter().map(|b| b.as_ptr()).collect();
        for i in 2 * per_burst..3 * per_burst {
            add(&mut c, i, Duration::from_secs(30));
        }
        assert!(c.spares.len() < spare_addrs.len());
        assert!(c.blocks.iter().any(|b| spare_addrs.contains(&b.as_ptr())));
        assert!(
            c.find(&key(&format!("z9hG4bK{}", 3 * per_burst - 1)))
                .is_some()
        );
        // Everything ends: the spares go too, but for the block in use.
        c.expire(t0 + Duration::from_secs(60), |_| {});
        assert_eq!(c.len(), 0);
        assert_eq!(c.blocks.len(), 1);
        assert!(c.spares.len() <= 1, "{} spares", c.spares.len());
    }
}
