//! The wiring between sockets and the sans-IO transaction layer: one task
//! feeds received messages to [`TransactionLayer`], sends its transmits,
//! fires its timers, and talks to the transaction user through channels.

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use sip_core::Message;
use sip_core::header::Via;
use tokio::sync::{mpsc, oneshot};
use transaction_core::{Event, Inbound, Target, TransactionId, TransactionLayer};

use crate::stamp::{push_param, replace_top_via, via_line};
use crate::{Config, Transport, Transports, transport_for};

enum Command {
    /// A response whose outcome nobody waits for (errors are logged).
    Respond(TransactionId, Message),
    /// Answered once every earlier command has been handled and its
    /// output written.
    Flush(oneshot::Sender<()>),
    Request(
        Message,
        Target,
        oneshot::Sender<Result<TransactionId, transaction_core::Error>>,
    ),
    RequestTo(
        Message,
        Vec<Target>,
        oneshot::Sender<Result<TransactionId, transaction_core::Error>>,
    ),
    Response(
        TransactionId,
        Message,
        oneshot::Sender<Result<(), transaction_core::Error>>,
    ),
    Ack(Message, Target),
}

/// A cloneable handle for sending through a [`TransportLayer`] from other
/// tasks (the layer itself keeps the event stream).
#[derive(Clone)]
pub struct TransportHandle {
    commands: mpsc::Sender<Command>,
}

impl TransportHandle {
    /// See [`TransportLayer::send_request`].
    pub async fn send_request(
        &self,
        request: Message,
        target: Target,
    ) -> Result<TransactionId, transaction_core::Error> {
        self.ask(|tx| Command::Request(request, target, tx)).await
    }

    /// See [`TransportLayer::send_request_to`].
    pub async fn send_request_to(
        &self,
        request: Message,
        targets: Vec<Target>,
    ) -> Result<TransactionId, transaction_core::Error> {
        self.ask(|tx| Command::RequestTo(request, targets, tx))
            .await
    }

    /// See [`TransportLayer::send_response`].
    pub async fn send_response(
        &self,
        id: TransactionId,
        response: Message,
    ) -> Result<(), transaction_core::Error> {
        self.ask(|tx| Command::Response(id, response, tx)).await
    }

    /// Sends the command built around a reply channel and waits for the reply.
    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<T, transaction_core::Error>>) -> Command,
    ) -> Result<T, transaction_core::Error> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(command(tx))
            .await
            .map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }

    /// Answers a server transaction without waiting for the outcome (a
    /// failure is logged): one channel send, no reply round trip.
    pub async fn respond(&self, id: TransactionId, response: Message) {
        let _ = self.commands.send(Command::Respond(id, response)).await;
    }

    /// See [`TransportLayer::send_ack`].
    pub async fn send_ack(&self, ack: Message, target: Target) {
        let _ = self.commands.send(Command::Ack(ack, target)).await;
    }

    /// Waits until everything sent through this layer before (notably
    /// [`respond`](Self::respond)) has been handled: UDP datagrams are sent,
    /// stream payloads are queued to their connection's writer task. Call
    /// it before shutting down.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// Sockets plus transactions, driven by a background task.
pub struct TransportLayer {
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<Event>,
    udp: Option<SocketAddr>,
    tcp: Option<SocketAddr>,
}

fn closed() -> transaction_core::Error {
    transaction_core::Error::InvalidState("transport layer stopped")
}

impl TransportLayer {
    /// Binds the transports and starts the task.
    pub async fn start(
        config: Config,
        timers: transaction_core::Config,
    ) -> io::Result<TransportLayer> {
        let transports = Transports::bind(config).await?;
        let udp = transports.local_addr(Transport::Udp);
        let tcp = transports.local_addr(Transport::Tcp);
        let (commands, cmd_rx) = mpsc::channel(1024);
        let (ev_tx, events) = mpsc::channel(4096);
        tokio::spawn(run(
            transports,
            TransactionLayer::new(timers),
            cmd_rx,
            ev_tx,
        ));
        Ok(TransportLayer {
            commands,
            events,
            udp,
            tcp,
        })
    }

    /// A handle other tasks can send with.
    pub fn handle(&self) -> TransportHandle {
        TransportHandle {
            commands: self.commands.clone(),
        }
    }

    /// Our address for a transport.
    pub fn local_addr(&self, transport: Transport) -> Option<SocketAddr> {
        match transport {
            Transport::Udp => self.udp,
            Transport::Tcp => self.tcp,
            _ => None,
        }
    }

    /// Starts a client transaction. A UDP request over 1300 bytes goes over
    /// TCP instead, with its top Via rewritten to say so (RFC 3261 §18.1.1).
    pub async fn send_request(
        &self,
        request: Message,
        target: Target,
    ) -> Result<TransactionId, transaction_core::Error> {
        self.handle().send_request(request, target).await
    }

    /// Starts a client transaction that fails over along `targets` (as
    /// ordered by RFC 3263 resolution): on a transport error or a Timer B/F
    /// timeout the request is sent to the next target as a new transaction
    /// (new branch, RFC 3263 §4.3). Events of every attempt are reported
    /// under the returned id; only the last attempt's failure is reported.
    pub async fn send_request_to(
        &self,
        request: Message,
        targets: Vec<Target>,
    ) -> Result<TransactionId, transaction_core::Error> {
        self.handle().send_request_to(request, targets).await
    }

    /// Answers a server transaction.
    pub async fn send_response(
        &self,
        id: TransactionId,
        response: Message,
    ) -> Result<(), transaction_core::Error> {
        self.handle().send_response(id, response).await
    }

    /// Sends an ACK for a 2xx (outside any transaction).
    pub async fn send_ack(&self, ack: Message, target: Target) {
        self.handle().send_ack(ack, target).await
    }

    /// The next transaction event.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }
}

/// Prepares a request for the wire: asks for `rport` (RFC 3581 §3) if the
/// top Via does not, and switches an oversized UDP request to TCP with its
/// top Via saying so (RFC 3261 §18.1.1).
pub fn fit_transport(mut request: Message, mut target: Target) -> (Message, Target) {
    let chosen = transport_for(target.transport, request.wire_len());
    if chosen == target.transport && asks_rport(&request) {
        return (request, target); // the common case, without parsing the Via
    }
    let rewritten = match request.header::<Via<'_>>() {
        Some(Ok(via)) if chosen != target.transport || via.rport().is_none() => {
            let rport = if via.rport().is_none() { ";rport" } else { "" };
            Some(via_line(
                &via,
                chosen.as_str(),
                format_args!("{}{rport}", via.params),
            ))
        }
        _ => None,
    };
    target.transport = chosen;
    if let Some(line) = rewritten {
        replace_top_via(&mut request, line);
    }
    (request, target)
}

/// True when the top Via plainly carries an `rport` parameter (as every
/// Via we build does). A false negative only costs the full parse.
fn asks_rport(request: &Message) -> bool {
    request
        .raw_header(sip_core::header::HeaderName::Via)
        .and_then(|via| Via::scan_param(via, "rport"))
        .is_some()
}

/// Client transactions that may move on to further targets.
#[derive(Default)]
struct Failover {
    /// Logical (first) id → request and targets not yet tried.
    pending:
        transaction_core::IdMap<TransactionId, (Message, std::collections::VecDeque<Target>, u32)>,
    /// Attempt id → logical id.
    logical: transaction_core::IdMap<TransactionId, TransactionId>,
    /// Attempts given up on: their Terminated is not reported.
    superseded: transaction_core::IdSet<TransactionId>,
}

/// The request again with a new branch for attempt `n` (RFC 3263 §4.3).
fn with_new_branch(request: &Message, n: u32) -> Message {
    let mut r = request.clone();
    if let Some(Ok(via)) = request.header::<Via<'_>>() {
        let branch = via.branch().unwrap_or("z9hG4bK");
        let mut params = String::new();
        for (name, value) in via.params.items() {
            if name.eq_ignore_ascii_case("branch") {
                let _ = write!(params, ";branch={branch}.{n}");
            } else {
                push_param(&mut params, name, value);
            }
        }
        replace_top_via(&mut r, via_line(&via, via.transport, &params));
    }
    r
}

fn event_id(e: &Event) -> Option<TransactionId> {
    match e {
        Event::Response { id, .. }
        | Event::Timeout { id, .. }
        | Event::TransportError { id }
        | Event::Terminated { id } => Some(*id),
        _ => None,
    }
}

fn with_id(e: Event, new: TransactionId) -> Event {
    match e {
        Event::Response { response, .. } => Event::Response { id: new, response },
        Event::Timeout { timer, .. } => Event::Timeout { id: new, timer },
        Event::TransportError { .. } => Event::TransportError { id: new },
        Event::Terminated { .. } => Event::Terminated { id: new },
        other => other,
    }
}

impl Failover {
    /// Decides what the TU sees of `e`; may start the next attempt.
    fn filter(&mut self, layer: &mut TransactionLayer, e: Event) -> Option<Event> {
        let Some(attempt) = event_id(&e) else {
            return Some(e);
        };
        let logical = self.logical.get(&attempt).copied().unwrap_or(attempt);
        let failed = matches!(
            e,
            Event::TransportError { .. }
                | Event::Timeout {
                    timer: transaction_core::Timer::B | transaction_core::Timer::F,
                    ..
                }
        );
        if failed && let Some((request, targets, attempts)) = self.pending.get_mut(&logical) {
            while let Some(next) = targets.pop_front() {
                *attempts += 1;
                let retry = with_new_branch(request, *attempts);
                let (retry, next) = fit_transport(retry, next);
                if let Ok(new_id) = layer.send_request(Instant::now(), retry, next) {
                    self.logical.insert(new_id, logical);
                    self.superseded.insert(attempt);
                    return None;
                }
            }
            self.pending.remove(&logical);
        }
        if let Event::Terminated { .. } = e {
            self.logical.remove(&attempt);
            if self.superseded.remove(&attempt) {
                return None;
            }
            self.pending.remove(&logical);
        }
        Some(if logical == attempt {
            e
        } else {
            with_id(e, logical)
        })
    }
}

/// Sends what the layer transmits and hands its events to the
/// application. Never waits for the application: events it has no room
/// for wait in `backlog` (and `run` stops reading the network until they
/// are taken), because the application may itself be waiting for room in
/// the command queue, and blocking here would deadlock the two.
async fn flush(
    transports: &Transports,
    layer: &mut TransactionLayer,
    failover: &mut Failover,
    events: &mpsc::Sender<Event>,
    backlog: &mut std::collections::VecDeque<Event>,
) -> bool {
    loop {
        let mut progress = false;
        while let Some(t) = layer.poll_transmit() {
            progress = true;
            if let Err(e) = transports.send(t.transport, t.destination, t.payload).await {
                tracing::debug!(%e, dest = %t.destination, "send failed");
                if let Some(id) = t.transaction {
                    layer.handle_transport_error(id);
                }
            }
        }
        while let Some(e) = layer.poll_event() {
            progress = true;
            let Some(e) = failover.filter(layer, e) else {
                continue;
            };
            if !backlog.is_empty() {
                backlog.push_back(e);
                continue;
            }
            match events.try_send(e) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(e)) => backlog.push_back(e),
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
            }
        }
        if !progress {
            return true;
        }
    }
}

async fn run(
    mut transports: Transports,
    mut layer: TransactionLayer,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
) {
    let mut failover = Failover::default();
    let mut flushed = Vec::new();
    let mut backlog = std::collections::VecDeque::new();
    loop {
        let deadline = layer.poll_timeout();
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            permit = events.reserve(), if !backlog.is_empty() => {
                let Ok(permit) = permit else { return };
                if let Some(e) = backlog.pop_front() {
                    permit.send(e);
                }
            }
            received = transports.recv(), if backlog.is_empty() => {
                let Some(r) = received else { return };
                layer.handle_message(Instant::now(), Inbound { message: r.message, transport: r.transport, source: r.source });
            }
            command = commands.recv() => {
                let Some(command) = command else { return };
                let now = Instant::now();
                match command {
                    Command::Request(request, target, reply) => {
                        let (request, target) = fit_transport(request, target);
                        let _ = reply.send(layer.send_request(now, request, target));
                    }
                    Command::RequestTo(request, targets, reply) => {
                        let mut targets: std::collections::VecDeque<Target> = targets.into();
                        let result = match targets.pop_front() {
                            Some(first) => {
                                let (sent, first) = fit_transport(request.clone(), first);
                                layer.send_request(now, sent, first).inspect(|id| {
                                    failover.pending.insert(*id, (request, targets, 0));
                                })
                            }
                            None => Err(transaction_core::Error::InvalidRequest("no target")),
                        };
                        let _ = reply.send(result);
                    }
                    Command::Respond(id, response) => {
                        if let Err(e) = layer.send_response(now, id, response) {
                            tracing::debug!(%e, "response not sent");
                        }
                    }
                    Command::Response(id, response, reply) => {
                        let _ = reply.send(layer.send_response(now, id, response));
                    }
                    Command::Ack(ack, target) => layer.send_ack(ack, target),
                    Command::Flush(reply) => flushed.push(reply),
                }
            }
            () = sleep => layer.handle_timeout(Instant::now()),
        }
        if !flush(
            &transports,
            &mut layer,
            &mut failover,
            &events,
            &mut backlog,
        )
        .await
        {
            return;
        }
        for reply in flushed.drain(..) {
            let _ = reply.send(());
        }
    }
}
