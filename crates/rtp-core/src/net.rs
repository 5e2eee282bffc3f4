//! The tokio shell for RTP: a UDP driver that receives and sends in
//! batches (`recvmmsg` with GRO, `sendmsg` with GSO through `quinn-udp`),
//! and a pool of RTP ports (even RTP port, RTCP on the next one or muxed).
//!
//! Everything else in this crate is sans-IO; this module is where packets
//! meet sockets.

use std::collections::HashSet;
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr, UdpSocket as StdSocket};
use std::ops::{Range, RangeInclusive};
use std::sync::{Arc, Mutex, PoisonError};

use quinn_udp::{BATCH_SIZE, RecvMeta, Transmit, UdpSocketState};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Largest datagram the driver expects (RTP over a 1500-octet MTU).
pub const MAX_DATAGRAM: usize = 1500;

/// A UDP socket with batched I/O.
#[derive(Debug)]
pub struct UdpDriver {
    socket: UdpSocket,
    state: UdpSocketState,
}

impl UdpDriver {
    /// Binds `addr` (inside a tokio runtime).
    pub fn bind(addr: SocketAddr) -> io::Result<UdpDriver> {
        UdpDriver::from_std(StdSocket::bind(addr)?)
    }

    /// Wraps a bound socket (inside a tokio runtime).
    pub fn from_std(socket: StdSocket) -> io::Result<UdpDriver> {
        socket.set_nonblocking(true)?;
        let state = UdpSocketState::new((&socket).into())?;
        // Room for bursts: a second of a thousand G.711 streams.
        let _ = state.set_recv_buffer_size((&socket).into(), 4 << 20);
        let _ = state.set_send_buffer_size((&socket).into(), 4 << 20);
        Ok(UdpDriver {
            socket: UdpSocket::from_std(socket)?,
            state,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Datagrams the kernel may coalesce into one receive buffer (GRO).
    pub fn gro_segments(&self) -> usize {
        self.state.gro_segments()
    }

    /// Waits for datagrams and reads as many as `batch` holds.
    pub async fn recv_batch(&self, batch: &mut RecvBatch) -> io::Result<usize> {
        loop {
            self.socket.readable().await?;
            let r = self.socket.try_io(Interest::READABLE, || {
                // On the stack: no allocation per receive.
                let mut slices: [IoSliceMut<'_>; BATCH_SIZE] =
                    std::array::from_fn(|_| IoSliceMut::new(&mut []));
                let n = batch.bufs.len();
                for (slice, buf) in slices.iter_mut().zip(batch.bufs.iter_mut()) {
                    *slice = IoSliceMut::new(buf);
                }
                self.state
                    .recv((&self.socket).into(), &mut slices[..n], &mut batch.meta)
            });
            match r {
                Ok(n) => {
                    batch.filled = n;
                    return Ok(batch.len());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends one datagram.
    pub async fn send_to(&self, packet: &[u8], to: SocketAddr) -> io::Result<()> {
        self.send_run(to, packet, packet.len()).await
    }

    async fn send_run(&self, to: SocketAddr, contents: &[u8], segment: usize) -> io::Result<()> {
        let transmit = Transmit {
            destination: to,
            ecn: None,
            contents,
            segment_size: (contents.len() > segment).then_some(segment),
            src_ip: None,
        };
        loop {
            self.socket.writable().await?;
            match self.socket.try_io(Interest::WRITABLE, || {
                self.state.try_send((&self.socket).into(), &transmit)
            }) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return r,
            }
        }
    }

    /// Sends everything queued in `batch`, one system call per run of
    /// equal-sized datagrams to one destination (GSO), and empties it.
    pub async fn send_batch(&self, batch: &mut SendBatch) -> io::Result<()> {
        let result = async {
            for run in &batch.runs {
                self.send_run(run.to, &batch.buf[run.range.clone()], run.segment)
                    .await?;
            }
            Ok(())
        }
        .await;
        batch.clear();
        result
    }

    /// The most datagrams one GSO send may carry.
    pub fn max_gso_segments(&self) -> usize {
        self.state.max_gso_segments()
    }
}

/// Receive buffers for [`UdpDriver::recv_batch`]; reuse one per task (or
/// per worker serving many sockets).
#[derive(Debug)]
pub struct RecvBatch {
    bufs: Vec<Box<[u8]>>,
    meta: Vec<RecvMeta>,
    filled: usize,
}

impl RecvBatch {
    /// Buffers for `driver`: up to 32 reads per call, each large enough for
    /// the datagrams GRO may coalesce.
    pub fn new(driver: &UdpDriver) -> RecvBatch {
        let size = MAX_DATAGRAM * driver.gro_segments().max(1);
        let count = if driver.gro_segments() > 1 {
            BATCH_SIZE.min(4)
        } else {
            BATCH_SIZE
        };
        RecvBatch {
            bufs: (0..count)
                .map(|_| vec![0u8; size].into_boxed_slice())
                .collect(),
            meta: vec![RecvMeta::default(); count],
            filled: 0,
        }
    }

    /// Datagrams read by the last call (GRO-coalesced reads split apart).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the last call read nothing.
    pub fn is_empty(&self) -> bool {
        self.filled == 0
    }

    /// The datagrams read by the last call, with their senders.
    pub fn iter(&self) -> impl Iterator<Item = (SocketAddr, &[u8])> + '_ {
        self.meta[..self.filled]
            .iter()
            .zip(&self.bufs)
            .flat_map(|(meta, buf)| {
                let stride = meta.stride.max(1);
                buf[..meta.len].chunks(stride).map(move |d| (meta.addr, d))
            })
    }
}

#[derive(Debug)]
struct Run {
    to: SocketAddr,
    segment: usize,
    count: usize,
    range: Range<usize>,
}

/// Datagrams queued for [`UdpDriver::send_batch`]. Consecutive datagrams
/// to one destination with the size of the run's first (the last may be
/// shorter) go out in one GSO send.
#[derive(Debug)]
pub struct SendBatch {
    buf: Vec<u8>,
    runs: Vec<Run>,
    max_segments: usize,
}

impl SendBatch {
    /// An empty batch for `driver`.
    pub fn new(driver: &UdpDriver) -> SendBatch {
        SendBatch {
            buf: Vec::with_capacity(64 * MAX_DATAGRAM),
            runs: Vec::new(),
            max_segments: driver.max_gso_segments().clamp(1, 64),
        }
    }

    /// Queues `packet` for `to`.
    pub fn push(&mut self, to: SocketAddr, packet: &[u8]) {
        let start = self.buf.len();
        self.buf.extend_from_slice(packet);
        let end = self.buf.len();
        if let Some(run) = self.runs.last_mut() {
            let whole = run.range.len() == run.count * run.segment;
            if run.to == to && whole && packet.len() <= run.segment && run.count < self.max_segments
            {
                run.count += 1;
                run.range.end = end;
                return;
            }
        }
        self.runs.push(Run {
            to,
            segment: packet.len().max(1),
            count: 1,
            range: start..end,
        });
    }

    /// Datagrams queued.
    pub fn len(&self) -> usize {
        self.runs.iter().map(|r| r.count).sum()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// System calls the queue will take.
    pub fn sends(&self) -> usize {
        self.runs.len()
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.runs.clear();
    }
}

/// Whether RTCP gets its own port or shares the RTP port (RFC 5761).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtcpMode {
    /// RTCP on the RTP port + 1.
    Separate,
    /// RTCP multiplexed on the RTP port.
    Mux,
}

#[derive(Debug)]
struct PoolState {
    next: u16,
    in_use: HashSet<u16>,
}

/// A pool of RTP ports on one address: even RTP ports from a configured
/// range, each with its RTCP port when not muxed.
#[derive(Clone, Debug)]
pub struct PortPool {
    ip: IpAddr,
    range: RangeInclusive<u16>,
    rtcp: RtcpMode,
    state: Arc<Mutex<PoolState>>,
}

/// Sockets taken from a [`PortPool`]; the port returns to it on drop.
#[derive(Debug)]
pub struct MediaPorts {
    /// The RTP socket (even port).
    pub rtp: UdpDriver,
    /// The RTCP socket on port + 1, unless muxed.
    pub rtcp: Option<UdpDriver>,
    port: u16,
    pool: Arc<Mutex<PoolState>>,
}

impl MediaPorts {
    /// The RTP port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for MediaPorts {
    fn drop(&mut self) {
        let mut state = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        state.in_use.remove(&self.port);
    }
}

impl PortPool {
    /// A pool over the even ports of `range` on `ip`.
    pub fn new(ip: IpAddr, range: RangeInclusive<u16>, rtcp: RtcpMode) -> io::Result<PortPool> {
        let first = range.start().next_multiple_of(2);
        if range.is_empty()
            || first > *range.end()
            || (rtcp == RtcpMode::Separate && first == *range.end())
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "RTP port range holds no even port (with its RTCP port)",
            ));
        }
        Ok(PortPool {
            ip,
            range,
            rtcp,
            state: Arc::new(Mutex::new(PoolState {
                next: first,
                in_use: HashSet::new(),
            })),
        })
    }

    /// Ports handed out and not yet returned.
    pub fn in_use(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .in_use
            .len()
    }

    /// Binds the next free even port (and its RTCP port), skipping ports
    /// other programs hold; an error when the whole range is taken.
    pub fn allocate(&self) -> io::Result<MediaPorts> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (lo, hi) = (self.range.start().next_multiple_of(2), *self.range.end());
        let last = if self.rtcp == RtcpMode::Separate {
            hi - 1
        } else {
            hi
        };
        let slots = usize::from((last - lo) / 2 + 1);
        for _ in 0..slots {
            let port = state.next;
            state.next = if port.saturating_add(2) > last {
                lo
            } else {
                port + 2
            };
            if state.in_use.contains(&port) {
                continue;
            }
            let Ok(rtp) = StdSocket::bind(SocketAddr::new(self.ip, port)) else {
                continue;
            };
            let rtcp = match self.rtcp {
                RtcpMode::Mux => None,
                RtcpMode::Separate => match StdSocket::bind(SocketAddr::new(self.ip, port + 1)) {
                    Ok(s) => Some(s),
                    Err(_) => continue,
                },
            };
            let rtp = UdpDriver::from_std(rtp)?;
            let rtcp = rtcp.map(UdpDriver::from_std).transpose()?;
            state.in_use.insert(port);
            return Ok(MediaPorts {
                rtp,
                rtcp,
                port,
                pool: Arc::clone(&self.state),
            });
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "no free RTP port in {}-{}",
                self.range.start(),
                self.range.end()
            ),
        ))
    }
}
