//! `Endpoint`: the tokio shell around [`DialogLayer`]. It binds the
//! transports, shards the dialog layer by Call-ID across tasks (so a
//! multi-thread runtime uses every core and one busy dialog never holds up
//! the rest), and gives applications an async API: send requests and await
//! their responses, receive requests with a handle to answer them, follow
//! dialog events, and shut down gracefully.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sip_core::builder::Builder;
use sip_core::{Message, Method, StatusCode, Uri};
use sip_transport::Transports;
use sip_transport::resolve::{HickoryDns, resolve};
use tokio::sync::{mpsc, oneshot};
use transaction_core::{Target, TransactionId, Transport};

use crate::shard::{Command, Shard};
use crate::{Config, DialogEvent, DialogId, Error};

/// What an [`Endpoint`] is built from.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// Listen addresses per transport, TLS files, limits.
    pub transport: sip_transport::Config,
    /// Timers, user agent, session timers, 100rel. `local` is filled in
    /// from the bound addresses.
    pub dialog: Config,
    /// Where requests outside a dialog go when no target is given (else the
    /// Request-URI is resolved per RFC 3263).
    pub outbound_proxy: Option<Target>,
    /// Dialog-layer shards; 0 means one per CPU.
    pub shards: usize,
    /// How long [`Endpoint::shutdown`] waits for live transactions.
    pub shutdown_grace: Duration,
    /// Addresses to put in Via sent-by and Contact instead of the bound
    /// ones, per transport: what peers must send to when we sit behind a
    /// NAT, a port forward or a relay. Transports not listed advertise
    /// their bound address.
    pub advertised: Vec<(Transport, SocketAddr)>,
}

impl EndpointConfig {
    /// UDP and TCP on 127.0.0.1 with ports chosen by the OS.
    pub fn loopback() -> EndpointConfig {
        EndpointConfig {
            transport: sip_transport::Config::loopback(),
            dialog: Config::default(),
            outbound_proxy: None,
            shards: 0,
            shutdown_grace: Duration::from_secs(5),
            advertised: Vec::new(),
        }
    }
}

/// Something the application should see.
#[derive(Debug)]
pub enum EndpointEvent {
    /// A request to answer.
    Request(IncomingRequest),
    /// Something happened to a dialog.
    Dialog(DialogEvent),
}

/// A received request and the handle to answer it.
#[derive(Debug)]
pub struct IncomingRequest {
    /// The request.
    pub request: Message,
    /// Where it came from.
    pub source: Target,
    /// Its dialog, for requests inside one.
    pub dialog: Option<DialogId>,
    pub(crate) id: TransactionId,
    pub(crate) shard: mpsc::Sender<Command>,
}

impl IncomingRequest {
    /// The server transaction.
    pub fn id(&self) -> TransactionId {
        self.id
    }

    /// Answers with `code`, letting `edit` add headers or a body to the
    /// response the dialog layer starts (To tag, Contact, Allow included).
    pub async fn answer(
        &self,
        code: StatusCode,
        edit: impl FnOnce(Builder) -> Builder + Send + 'static,
    ) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        let cmd = Command::Answer(self.id, code, Box::new(edit), tx);
        self.shard.send(cmd).await.map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
    }

    /// Answers with `code` and nothing more.
    pub async fn reply(&self, code: StatusCode) -> Result<(), Error> {
        self.answer(code, |b| b).await
    }

    /// Answers with a response built elsewhere.
    pub async fn respond(&self, response: Message) -> Result<(), Error> {
        self.send_response(response, false).await
    }

    /// Answers with a final response built elsewhere and keeps no
    /// transaction state (see [`Handled::RespondStateless`]).
    pub async fn respond_stateless(&self, response: Message) -> Result<(), Error> {
        self.send_response(response, true).await
    }

    async fn send_response(&self, response: Message, stateless: bool) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        let cmd = Command::Respond(self.id, response, stateless, tx);
        self.shard.send(cmd).await.map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
    }
}

/// What a [`Responder`] did with a request.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // answering is the common case
pub enum Handled {
    /// Send this response now.
    Respond(Message),
    /// Send this final response now and keep no transaction state (RFC
    /// 3261 §8.2.7; see [`DialogLayer::respond_stateless`]): for a
    /// stateless UAS such as a registrar, and for challenges, so that a
    /// flood of requests holds nothing for 64·T1. A retransmission of the
    /// request comes to the responder again, which must answer it with the
    /// same To tag.
    ///
    /// [`DialogLayer::respond_stateless`]: crate::DialogLayer::respond_stateless
    RespondStateless(Message),
    /// The responder kept the request and answers it later through
    /// [`IncomingRequest::respond`] (or [`answer`](IncomingRequest::answer)).
    Later,
    /// Not the responder's: the application gets it from [`Incoming`].
    Pass(IncomingRequest),
}

/// Answers requests outside dialogs inside the endpoint, on the task that
/// received them, before they would be queued for the application. A
/// server whose answer rarely needs to wait (a registrar with bindings and
/// credentials in memory) saves handing every request to a task of its own
/// and the response back; one that has to wait keeps the request
/// ([`Handled::Later`]) and answers from a task it spawns. It must not
/// block: it runs where the endpoint receives and sends.
pub trait Responder: Send + Sync + 'static {
    /// Decides what happens to `request`.
    fn handle(&self, request: IncomingRequest) -> Handled;
}

/// What a client transaction reports.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // responses are the common case
pub enum ClientEvent {
    /// A response (each 1xx; the final one, a 2xx only once).
    Response {
        /// The response.
        response: Message,
        /// The dialog it made or belongs to.
        dialog: Option<DialogId>,
    },
    /// The request was sent again as a new transaction (491 or 422).
    Retrying,
    /// No final response in time.
    Timeout,
    /// The transport failed.
    TransportError,
}

/// A request we sent; its responses arrive here.
#[derive(Debug)]
pub struct ClientTransaction {
    id: TransactionId,
    shard: mpsc::Sender<Command>,
    events: crate::mailbox::Receiver<ClientEvent>,
}

impl ClientTransaction {
    /// The transaction (the first one, if the request was retried).
    pub fn id(&self) -> TransactionId {
        self.id
    }

    /// The next response or outcome; `None` once nothing more will come.
    pub async fn next(&mut self) -> Option<ClientEvent> {
        self.events.recv().await
    }

    /// Waits for the final response (skipping 1xx, following retries).
    /// A 491 is the answer only when no §14.1 retry follows it: for INVITE
    /// and UPDATE the layer retries and the retry's answer comes here too.
    pub async fn final_response(&mut self) -> Result<(Message, Option<DialogId>), Error> {
        let mut glare = None;
        loop {
            match self.next().await {
                Some(ClientEvent::Response { response, dialog }) => match response.status() {
                    Some(StatusCode::REQUEST_PENDING) => glare = Some((response, dialog)),
                    Some(code) if code.is_final() => return Ok((response, dialog)),
                    _ => {}
                },
                Some(ClientEvent::Retrying) => glare = None,
                Some(ClientEvent::Timeout) => return glare.ok_or(Error::Timeout),
                Some(ClientEvent::TransportError) => return Err(Error::TransportFailed),
                None => return glare.ok_or(Error::Stopped),
            }
        }
    }

    /// Cancels an INVITE (RFC 3261 §9.1).
    pub async fn cancel(&self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        let cmd = Command::Cancel(self.id, tx);
        self.shard.send(cmd).await.map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
    }
}

struct Inner {
    shards: Vec<mpsc::Sender<Command>>,
    transports: Arc<Transports>,
    local: Vec<(Transport, SocketAddr)>,
    config: EndpointConfig,
    tokens: AtomicU64,
    seed: u64,
    me: crate::layer::Me,
}

/// The SIP endpoint (see the module documentation). Cheap to clone.
#[derive(Clone)]
pub struct Endpoint {
    inner: Arc<Inner>,
}

/// The stream of [`EndpointEvent`]s.
pub struct Incoming {
    rx: mpsc::Receiver<EndpointEvent>,
}

impl Incoming {
    /// The next event; `None` after shutdown.
    pub async fn next(&mut self) -> Option<EndpointEvent> {
        self.rx.recv().await
    }
}

fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

impl Endpoint {
    /// Binds the transports and starts the shards (inside a tokio runtime).
    pub async fn start(config: EndpointConfig) -> io::Result<(Endpoint, Incoming)> {
        Endpoint::start_with(config, None).await
    }

    /// [`start`](Self::start), with `responder` answering requests outside
    /// dialogs before the application sees them.
    pub async fn start_with(
        mut config: EndpointConfig,
        responder: Option<Arc<dyn Responder>>,
    ) -> io::Result<(Endpoint, Incoming)> {
        let n = if config.shards == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            config.shards
        };
        // The transports queue each message straight to its Call-ID's shard.
        config.transport.inbound_queues = n;
        let mut transports = Transports::bind(config.transport.clone()).await?;
        let local: Vec<(Transport, SocketAddr)> = Transport::ALL
            .into_iter()
            .filter_map(|t| transports.local_addr(t).map(|a| (t, a)))
            .collect();
        config.dialog.local = local
            .iter()
            .map(|&(t, bound)| {
                let advertised = config.advertised.iter().find(|(a, _)| *a == t);
                (t, advertised.map_or(bound, |&(_, a)| a))
            })
            .collect();
        let inbound = transports.take_inbound();
        let transports = Arc::new(transports);
        let (events_tx, events_rx) = mpsc::channel(4096);
        let seed = seed();
        let mut shards = Vec::with_capacity(n);
        for (i, queue) in inbound.into_iter().enumerate() {
            let (tx, rx) = mpsc::channel(1024);
            let layer = crate::DialogLayer::new(config.dialog.clone(), seed.wrapping_add(i as u64));
            let shard = Shard::new(layer, tx.clone(), transports.clone(), events_tx.clone())
                .with_responder(responder.clone());
            tokio::spawn(shard.run(rx, queue));
            shards.push(tx);
        }
        let me = crate::layer::Me::new(&config.dialog);
        let endpoint = Endpoint {
            inner: Arc::new(Inner {
                shards,
                transports,
                local,
                config,
                tokens: AtomicU64::new(0),
                seed,
                me,
            }),
        };
        Ok((endpoint, Incoming { rx: events_rx }))
    }

    /// Our bound address for a transport.
    pub fn local_addr(&self, transport: Transport) -> Option<SocketAddr> {
        self.inner
            .local
            .iter()
            .find(|(t, _)| *t == transport)
            .map(|(_, a)| *a)
    }

    fn token(&self) -> u64 {
        let n = self.inner.tokens.fetch_add(1, Ordering::Relaxed);
        let seed = self.inner.seed;
        sip_core::rng::splitmix(seed.wrapping_add(n.wrapping_mul(sip_core::rng::GOLDEN)))
    }

    /// Where a request to `uri` goes: the outbound proxy if one is set, else
    /// the first RFC 3263 target of the URI.
    pub async fn target_for(&self, uri: &str) -> Result<Target, Error> {
        if let Some(proxy) = self.inner.config.outbound_proxy {
            return Ok(proxy);
        }
        let parsed = Uri::parse(uri).map_err(|e| Error::Resolve(format!("{uri}: {e}")))?;
        let Uri::Sip(sip) = parsed else {
            return Err(Error::Resolve(format!("{uri} is not a sip: or sips: URI")));
        };
        let supported: Vec<Transport> = self.inner.local.iter().map(|(t, _)| *t).collect();
        let dns = HickoryDns::from_system().map_err(|e| Error::Resolve(e.to_string()))?;
        let targets = resolve(&sip, &dns, &supported, |_| 0)
            .await
            .map_err(|e| Error::Resolve(format!("{uri}: {e}")))?;
        targets
            .first()
            .copied()
            .ok_or_else(|| Error::Resolve(format!("{uri} resolves to nothing")))
    }

    /// Starts a request outside any dialog (new Call-ID and From tag, CSeq
    /// 1, Via for `target`'s transport, Max-Forwards, Contact, User-Agent).
    pub fn new_request(
        &self,
        method: Method,
        uri: &str,
        target: Target,
        from: &str,
        to: &str,
    ) -> Builder {
        let fresh = [self.token(), self.token(), self.token()];
        self.inner
            .me
            .request(target.transport, method, uri, (from, to), fresh)
    }

    fn shard(&self, call_id: &str) -> mpsc::Sender<Command> {
        let n = self.inner.shards.len();
        self.inner.shards[sip_transport::queue_of(call_id, n)].clone()
    }

    /// Sends a request outside any dialog to `target`. A UDP request over
    /// 1300 bytes goes over TCP (RFC 3261 §18.1.1).
    pub async fn send(&self, request: Message, target: Target) -> Result<ClientTransaction, Error> {
        let (request, target) = sip_transport::fit_transport(request, target);
        let shard = self.shard(request.call_id().unwrap_or(""));
        let (tx, rx) = oneshot::channel();
        shard
            .send(Command::Send(request, Some(target), tx))
            .await
            .map_err(|_| Error::Stopped)?;
        let (id, events) = rx.await.map_err(|_| Error::Stopped)??;
        Ok(ClientTransaction { id, shard, events })
    }

    /// Sends a request inside `dialog`, letting `edit` add headers or a
    /// body to the one the dialog builds (§12.2.1.1).
    pub async fn send_in_dialog(
        &self,
        dialog: &DialogId,
        method: Method,
        edit: impl FnOnce(Builder) -> Builder + Send + 'static,
    ) -> Result<ClientTransaction, Error> {
        let shard = self.shard(&dialog.call_id);
        let (tx, rx) = oneshot::channel();
        shard
            .send(Command::InDialog(
                dialog.clone(),
                method,
                Box::new(edit),
                tx,
            ))
            .await
            .map_err(|_| Error::Stopped)?;
        let (id, events) = rx.await.map_err(|_| Error::Stopped)??;
        Ok(ClientTransaction { id, shard, events })
    }

    /// Ends a confirmed dialog with BYE.
    pub async fn bye(&self, dialog: &DialogId) -> Result<ClientTransaction, Error> {
        self.send_in_dialog(dialog, Method::Bye, |b| b).await
    }

    /// Live dialogs across the shards.
    pub async fn dialog_count(&self) -> usize {
        let mut total = 0;
        for shard in &self.inner.shards {
            let (tx, rx) = oneshot::channel();
            if shard.send(Command::Count(tx)).await.is_ok() {
                total += rx.await.unwrap_or(0);
            }
        }
        total
    }

    /// Graceful shutdown: new requests outside dialogs get 503, live
    /// transactions get up to `shutdown_grace` to finish, then listeners
    /// and connections close and the event stream ends.
    pub async fn shutdown(&self) {
        let mut waits = Vec::new();
        for shard in &self.inner.shards {
            let (tx, rx) = oneshot::channel();
            if shard
                .send(Command::Drain(self.inner.config.shutdown_grace, tx))
                .await
                .is_ok()
            {
                waits.push(rx);
            }
        }
        for w in waits {
            let _ = w.await;
        }
        self.inner.transports.close();
        for shard in &self.inner.shards {
            let _ = shard.send(Command::Stop).await;
        }
    }
}
