//! # sip-transport
//!
//! SIP over UDP and TCP for rvoip (tokio): sockets and listeners, a
//! connection table keyed by transport and remote address so that responses,
//! ACKs and in-dialog requests reuse an open connection, stream framing
//! (sip-core's two phases) with bounded buffers, limits on connections per
//! source address and in total, idle timeouts, RFC 5626 CRLF keep-alive
//! answers, and the RFC 3261 §18.2.1 / RFC 3581 `received` and `rport`
//! stamping of incoming requests.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use sip_transport::{Config, Transports};
//! let mut t = Transports::bind(Config::loopback()).await?;
//! while let Some(rx) = t.recv().await {
//!     println!("{} from {} over {:?}", rx.message.call_id().unwrap_or("?"), rx.source, rx.transport);
//! }
//! # Ok(()) }
//! ```

mod conn;
mod layer;
pub mod resolve;
mod stamp;
mod tls;
mod ws;

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use sip_core::{Limits, Message, Mode};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

pub use layer::{TransportHandle, TransportLayer, fit_transport};
pub use sip_core::Transport;
pub use stamp::stamp_via;
pub use tls::TlsConfig;

/// Where to listen and what to allow.
#[derive(Clone, Debug)]
pub struct Config {
    /// UDP sockets to bind.
    pub udp: Vec<SocketAddr>,
    /// TCP listeners to bind.
    pub tcp: Vec<SocketAddr>,
    /// TLS listeners to bind (needs `tls`).
    pub tls: Vec<SocketAddr>,
    /// WebSocket listeners to bind (RFC 7118).
    pub ws: Vec<SocketAddr>,
    /// Secure WebSocket listeners to bind (needs `tls`).
    pub wss: Vec<SocketAddr>,
    /// Certificates and verification for TLS and WSS, listening and connecting.
    pub tls_files: Option<TlsConfig>,
    /// Message size limits.
    pub limits: Limits,
    /// Most open TCP connections in total.
    pub max_connections: usize,
    /// Most open TCP connections from one IP address.
    pub max_connections_per_ip: usize,
    /// A connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// Receive and send buffer asked of the kernel for each UDP socket, in
    /// bytes (Linux caps it at `net.core.rmem_max` / `wmem_max`). A burst
    /// larger than the buffer is dropped by the kernel and costs a
    /// retransmission 500 ms later, so busy servers want it large.
    pub udp_buffer: usize,
    /// Received messages are spread over this many queues by a hash of
    /// their Call-ID ([`queue_of`]), so that several consumers (the shards
    /// of a dialog layer) each get every message of their calls with no
    /// dispatcher in between. [`Transports::recv`] reads the first queue;
    /// [`Transports::take_inbound`] hands out all of them.
    pub inbound_queues: usize,
}

impl Config {
    /// UDP and TCP on 127.0.0.1 with ports chosen by the OS.
    pub fn loopback() -> Config {
        let any: SocketAddr = ([127, 0, 0, 1], 0).into();
        Config {
            udp: vec![any],
            tcp: vec![any],
            tls: Vec::new(),
            ws: Vec::new(),
            wss: Vec::new(),
            tls_files: None,
            limits: Limits::default(),
            max_connections: 1024,
            max_connections_per_ip: 64,
            idle_timeout: Duration::from_secs(600),
            udp_buffer: 4 << 20,
            inbound_queues: 1,
        }
    }
}

/// A message received from the network.
#[derive(Clone, Debug)]
pub struct Received {
    /// The message (requests carry `received`/`rport` per RFC 3581).
    pub message: Message,
    /// Transport it came on.
    pub transport: Transport,
    /// The peer.
    pub source: SocketAddr,
    /// Our address it arrived at.
    pub local: SocketAddr,
}

/// The address a peer saw our request come from, as it reported it in the
/// top Via of its response (`received` and `rport`, RFC 3581 §4): our public
/// address behind a NAT. `None` unless both are present.
pub fn reflexive_address(response: &Message) -> Option<SocketAddr> {
    let via = response.header::<sip_core::header::Via<'_>>()?.ok()?;
    Some(SocketAddr::new(via.received()?, via.rport()??))
}

/// Requests larger than this go over TCP rather than UDP (RFC 3261 §18.1.1,
/// path MTU unknown).
pub const UDP_SIZE_LIMIT: usize = 1300;

/// The transport a request of `len` bytes should use when `requested` was
/// asked for: UDP becomes TCP above [`UDP_SIZE_LIMIT`] (RFC 3261 §18.1.1).
pub fn transport_for(requested: Transport, len: usize) -> Transport {
    if requested == Transport::Udp && len > UDP_SIZE_LIMIT {
        Transport::Tcp
    } else {
        requested
    }
}

pub(crate) struct Shared {
    pub(crate) config: Config,
    tls: Option<tls::Tls>,
    pub(crate) conns: Mutex<Connections>,
    /// One queue per consumer; a message goes to [`queue_of`] its Call-ID.
    pub(crate) inbound: Vec<mpsc::Sender<Received>>,
    /// Set once by [`Transports::close`].
    closing: tokio::sync::watch::Sender<bool>,
}

/// Open connections: by id, and by the addresses they serve — the peer's
/// address plus the aliases it announced (RFC 5923).
#[derive(Default)]
pub(crate) struct Connections {
    next_id: u64,
    by_id: HashMap<u64, (Transport, SocketAddr, mpsc::Sender<Bytes>)>,
    /// When each connection last received a keep-alive pong.
    pongs: HashMap<u64, std::time::Instant>,
    by_addr: HashMap<(Transport, SocketAddr), u64>,
    per_ip: HashMap<IpAddr, usize>,
}

/// The inbound queue (of `n`) that messages of `call_id` go to: FNV-1a,
/// stable and cheap. Consumers that route their own work by Call-ID use
/// it too, so that a call's messages and its commands meet in one place.
pub fn queue_of(call_id: &str, n: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in call_id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h % n.max(1) as u64) as usize
}

impl Shared {
    /// Queues a received message for its consumer.
    pub(crate) async fn enqueue(
        &self,
        received: Received,
    ) -> Result<(), mpsc::error::SendError<Received>> {
        let n = self.inbound.len();
        let i = match n {
            1 => 0,
            _ => queue_of(received.message.call_id().unwrap_or(""), n),
        };
        self.inbound[i].send(received).await
    }

    /// Resolves once the transports are closing.
    pub(crate) async fn closed(&self) {
        let mut rx = self.closing.subscribe();
        let _ = rx.wait_for(|closing| *closing).await;
    }

    /// Registers a connection if the limits allow; returns its id.
    pub(crate) fn admit(
        &self,
        transport: Transport,
        peer: SocketAddr,
        tx: mpsc::Sender<Bytes>,
    ) -> Option<u64> {
        let mut c = self
            .conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let from_ip = c.per_ip.get(&peer.ip()).copied().unwrap_or(0);
        if c.by_id.len() >= self.config.max_connections
            || from_ip >= self.config.max_connections_per_ip
        {
            return None;
        }
        c.next_id += 1;
        let id = c.next_id;
        c.by_id.insert(id, (transport, peer, tx));
        c.by_addr.insert((transport, peer), id);
        *c.per_ip.entry(peer.ip()).or_insert(0) += 1;
        Some(id)
    }

    /// Makes connection `id` also serve `alias` (RFC 5923 `alias` in Via).
    pub(crate) fn alias(&self, transport: Transport, alias: SocketAddr, id: u64) {
        let mut c = self
            .conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if c.by_id.contains_key(&id) {
            c.by_addr.insert((transport, alias), id);
        }
    }

    /// Forgets a connection and every address it served.
    pub(crate) fn forget(&self, id: u64) {
        let mut c = self
            .conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        c.pongs.remove(&id);
        if let Some((_, peer, _)) = c.by_id.remove(&id) {
            c.by_addr.retain(|_, v| *v != id);
            if let Some(n) = c.per_ip.get_mut(&peer.ip()) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    c.per_ip.remove(&peer.ip());
                }
            }
        }
    }

    pub(crate) fn pong(&self, id: u64) {
        let mut c = self
            .conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if c.by_id.contains_key(&id) {
            c.pongs.insert(id, std::time::Instant::now());
        }
    }

    fn sender(&self, transport: Transport, addr: SocketAddr) -> Option<mpsc::Sender<Bytes>> {
        let c = self
            .conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = c.by_addr.get(&(transport, addr))?;
        c.by_id.get(id).map(|(_, _, tx)| tx.clone())
    }

    /// Handles a message read from connection `id`: stamps requests and
    /// records an announced alias, then passes it up.
    pub(crate) async fn deliver(
        &self,
        id: u64,
        mut message: Message,
        transport: Transport,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> bool {
        if message.is_request() {
            if let Some(Ok(via)) = message.header::<sip_core::header::Via<'_>>()
                && via.params.has("alias")
            {
                let ip = match via.host {
                    sip_core::Host::V4(a) => Some(IpAddr::V4(a)),
                    sip_core::Host::V6(a) => Some(IpAddr::V6(a)),
                    sip_core::Host::Name(_) => None,
                };
                if let Some(ip) = ip {
                    self.alias(transport, SocketAddr::new(ip, via.port.unwrap_or(5060)), id);
                }
            }
            stamp_via(&mut message, peer);
        }
        self.enqueue(Received {
            message,
            transport,
            source: peer,
            local,
        })
        .await
        .is_ok()
    }
}

/// The bound transports (see the crate documentation).
pub struct Transports {
    shared: Arc<Shared>,
    udp: Vec<Arc<UdpSocket>>,
    listening: Vec<(Transport, SocketAddr)>,
    /// The first inbound queue, and the others (`Config::inbound_queues`).
    inbound: mpsc::Receiver<Received>,
    more_inbound: Vec<mpsc::Receiver<Received>>,
}

/// Time allowed for a TLS or WebSocket handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl Transports {
    /// Binds every configured socket and starts receiving. TLS and WSS
    /// listeners need [`Config::tls_files`]; a bad file is an error naming it.
    pub async fn bind(config: Config) -> io::Result<Transports> {
        let tls = match &config.tls_files {
            Some(files) => Some(tls::Tls::load(files)?),
            None if !config.tls.is_empty() || !config.wss.is_empty() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "TLS and WSS listeners need tls_files",
                ));
            }
            None => None,
        };
        let (senders, mut queues): (Vec<_>, Vec<_>) = (0..config.inbound_queues.max(1))
            .map(|_| mpsc::channel(4096))
            .unzip();
        let inbound = queues.remove(0);
        let shared = Arc::new(Shared {
            config: config.clone(),
            tls,
            conns: Mutex::new(Connections::default()),
            inbound: senders,
            closing: tokio::sync::watch::Sender::new(false),
        });
        let mut udp = Vec::new();
        for addr in &config.udp {
            let sock = Arc::new(bind_udp(*addr, config.udp_buffer)?);
            tokio::spawn(udp_loop(sock.clone(), shared.clone()));
            udp.push(sock);
        }
        let mut listening = Vec::new();
        for (transport, addrs) in [
            (Transport::Tcp, &config.tcp),
            (Transport::Tls, &config.tls),
            (Transport::Ws, &config.ws),
            (Transport::Wss, &config.wss),
        ] {
            for addr in addrs {
                let listener = TcpListener::bind(addr).await?;
                listening.push((transport, listener.local_addr()?));
                tokio::spawn(accept_loop(listener, transport, shared.clone()));
            }
        }
        Ok(Transports {
            shared,
            udp,
            listening,
            inbound,
            more_inbound: queues,
        })
    }

    /// The first local address of a transport.
    pub fn local_addr(&self, transport: Transport) -> Option<SocketAddr> {
        match transport {
            Transport::Udp => self.udp.first().and_then(|s| s.local_addr().ok()),
            t => self
                .listening
                .iter()
                .find(|(lt, _)| *lt == t)
                .map(|(_, a)| *a),
        }
    }

    /// The next message received on any transport (from the first queue:
    /// all of them with the default single queue).
    pub async fn recv(&mut self) -> Option<Received> {
        self.inbound.recv().await
    }

    /// Splits off the received-message queues (one per
    /// `Config::inbound_queues`, queue `i` holding the Call-IDs that
    /// [`queue_of`] maps to `i`), so that the transports can be shared
    /// (`Arc`) by senders while other tasks receive.
    pub fn take_inbound(&mut self) -> Vec<mpsc::Receiver<Received>> {
        let (_, closed) = mpsc::channel(1);
        let mut queues = vec![std::mem::replace(&mut self.inbound, closed)];
        queues.append(&mut self.more_inbound);
        queues
    }

    /// Stops listening and receiving, and closes every connection once
    /// its queued messages are written.
    pub fn close(&self) {
        self.shared.closing.send_replace(true);
        let mut c = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Dropping the senders ends each writer after its queue drains.
        c.by_id.clear();
        c.by_addr.clear();
    }

    /// Open stream and WebSocket connections.
    pub fn connection_count(&self) -> usize {
        self.shared.conns.lock().map(|c| c.by_id.len()).unwrap_or(0)
    }

    /// Sends an RFC 5626 §3.5.1 keep-alive ping (CRLF CRLF) on the open
    /// connection to `dest`; the peer's pong shows in [`Transports::last_pong`].
    pub async fn ping(&self, transport: Transport, dest: SocketAddr) -> io::Result<()> {
        let tx = self
            .shared
            .sender(transport, dest)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "no connection"))?;
        tx.send(Bytes::from_static(b"\r\n\r\n"))
            .await
            .map_err(|_| io::Error::other("connection closed"))
    }

    /// When the connection to `dest` last received a pong.
    pub fn last_pong(&self, transport: Transport, dest: SocketAddr) -> Option<std::time::Instant> {
        let c = self.shared.conns.lock().ok()?;
        let id = c.by_addr.get(&(transport, dest))?;
        c.pongs.get(id).copied()
    }

    /// Sends bytes. Connection-oriented transports reuse the connection to
    /// `dest` when one is open (accepted or initiated) and connect otherwise.
    /// TLS verifies the peer's certificate against its IP address.
    pub async fn send(
        &self,
        transport: Transport,
        dest: SocketAddr,
        payload: Bytes,
    ) -> io::Result<()> {
        if transport == Transport::Udp {
            let sock = self
                .udp
                .first()
                .ok_or_else(|| io::Error::other("no UDP socket bound"))?;
            return sock.send_to(&payload, dest).await.map(|_| ());
        }
        if let Some(tx) = self.shared.sender(transport, dest)
            && tx.send(payload.clone()).await.is_ok()
        {
            return Ok(());
        }
        let tx = tokio::time::timeout(
            HANDSHAKE_TIMEOUT,
            connect(transport, dest, self.shared.clone()),
        )
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        tx.send(payload)
            .await
            .map_err(|_| io::Error::other("connection closed"))
    }
}

impl Transports {
    /// Sends to the first target that works, in order (RFC 3263 §4.3:
    /// on a transport error try the next). Returns the target used. Over
    /// UDP a send that leaves the socket counts as working; a request that
    /// then times out is retried by the caller with a new transaction.
    pub async fn send_with_failover(
        &self,
        targets: &[transaction_core::Target],
        payload: Bytes,
    ) -> io::Result<transaction_core::Target> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no target");
        for t in targets {
            match self.send(t.transport, t.addr, payload.clone()).await {
                Ok(()) => return Ok(*t),
                Err(e) => {
                    tracing::info!(target = %t.addr, %e, "target failed, trying the next");
                    last = e;
                }
            }
        }
        Err(last)
    }
}

fn limit() -> io::Error {
    io::Error::other("connection limit reached")
}

async fn connect(
    transport: Transport,
    dest: SocketAddr,
    shared: Arc<Shared>,
) -> io::Result<mpsc::Sender<Bytes>> {
    let stream = TcpStream::connect(dest).await?;
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr()?;
    let tls = || {
        shared
            .tls
            .as_ref()
            .ok_or_else(|| io::Error::other("no TLS configured"))
    };
    let server_name = rustls::pki_types::ServerName::IpAddress(dest.ip().into());
    match transport {
        Transport::Tcp => {
            conn::spawn(stream, transport, dest, local, shared.clone()).ok_or_else(limit)
        }
        Transport::Tls => {
            let s = tls()?.connector.connect(server_name, stream).await?;
            conn::spawn(s, transport, dest, local, shared.clone()).ok_or_else(limit)
        }
        Transport::Ws => {
            let ws = ws::connect(stream, &format!("ws://{dest}"))
                .await
                .ok_or_else(|| io::Error::other("WebSocket handshake failed"))?;
            ws::spawn(ws, transport, dest, local, shared.clone()).ok_or_else(limit)
        }
        Transport::Wss => {
            let s = tls()?.connector.connect(server_name, stream).await?;
            let ws = ws::connect(s, &format!("wss://{dest}"))
                .await
                .ok_or_else(|| io::Error::other("WebSocket handshake failed"))?;
            ws::spawn(ws, transport, dest, local, shared.clone()).ok_or_else(limit)
        }
        Transport::Udp | Transport::Sctp => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{transport:?} has no connections"),
        )),
    }
}

/// Accepts one connection of any stream transport (handshakes included).
async fn accept_one(stream: TcpStream, transport: Transport, shared: Arc<Shared>) {
    let (Ok(peer), Ok(local)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    let _ = stream.set_nodelay(true);
    let handshake = async {
        match transport {
            Transport::Tcp => conn::spawn(stream, transport, peer, local, shared.clone()),
            Transport::Tls => {
                let s = shared.tls.as_ref()?.acceptor.accept(stream).await.ok()?;
                conn::spawn(s, transport, peer, local, shared.clone())
            }
            Transport::Ws => {
                let ws = ws::accept(stream).await?;
                ws::spawn(ws, transport, peer, local, shared.clone())
            }
            Transport::Wss => {
                let s = shared.tls.as_ref()?.acceptor.accept(stream).await.ok()?;
                let ws = ws::accept(s).await?;
                ws::spawn(ws, transport, peer, local, shared.clone())
            }
            Transport::Udp | Transport::Sctp => None,
        }
    };
    if tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
        .await
        .ok()
        .flatten()
        .is_none()
    {
        tracing::info!(%peer, ?transport, "connection refused (limit, handshake or subprotocol)");
    }
}

/// A non-blocking UDP socket on `addr` with `buffer` bytes of kernel
/// buffer each way (best effort: the kernel may grant less).
fn bind_udp(addr: SocketAddr, buffer: usize) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if buffer > 0 {
        if let Err(e) = sock.set_recv_buffer_size(buffer) {
            tracing::debug!(%e, "SO_RCVBUF not set");
        }
        if let Err(e) = sock.set_send_buffer_size(buffer) {
            tracing::debug!(%e, "SO_SNDBUF not set");
        }
    }
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    UdpSocket::from_std(sock.into())
}

async fn udp_loop(sock: Arc<UdpSocket>, shared: Arc<Shared>) {
    let Ok(local) = sock.local_addr() else { return };
    let mut buf = vec![0u8; 65_535];
    // One watch subscription for the loop's life, not one per datagram.
    let closed = shared.closed();
    tokio::pin!(closed);
    loop {
        let received = tokio::select! {
            () = &mut closed => return,
            r = sock.recv_from(&mut buf) => r,
        };
        let Ok((n, source)) = received else {
            continue;
        };
        let data = &buf[..n];
        if data.iter().all(|b| *b == b'\r' || *b == b'\n') {
            continue; // keep-alive
        }
        let Ok(mut message) = Message::parse_with(
            Bytes::copy_from_slice(data),
            Mode::Datagram,
            &shared.config.limits,
        ) else {
            tracing::debug!(%source, "dropping unparseable datagram");
            continue;
        };
        if message.is_request() {
            stamp_via(&mut message, source);
        }
        let received = Received {
            message,
            transport: Transport::Udp,
            source,
            local,
        };
        if shared.enqueue(received).await.is_err() {
            return;
        }
    }
}

async fn accept_loop(listener: TcpListener, transport: Transport, shared: Arc<Shared>) {
    let closed = shared.closed();
    tokio::pin!(closed);
    loop {
        let accepted = tokio::select! {
            () = &mut closed => return,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Refuse at once when the source is over its limit, before any handshake.
                let over = shared.conns.lock().map(|c| {
                    c.by_id.len() >= shared.config.max_connections
                        || c.per_ip.get(&peer.ip()).copied().unwrap_or(0)
                            >= shared.config.max_connections_per_ip
                });
                if over.unwrap_or(true) {
                    tracing::warn!(%peer, "connection refused: limit reached");
                    continue;
                }
                if transport == Transport::Tcp {
                    accept_one(stream, transport, shared.clone()).await;
                } else {
                    tokio::spawn(accept_one(stream, transport, shared.clone()));
                }
            }
            Err(e) => {
                tracing::warn!(%e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
