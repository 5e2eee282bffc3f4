//! The wiring between sockets and the sans-IO transaction layer: one task
//! feeds received messages to [`TransactionLayer`], sends its transmits,
//! fires its timers, and talks to the transaction user through channels.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use sip_core::Message;
use sip_core::header::Via;
use tokio::sync::{mpsc, oneshot};
use transaction_core::{Event, Inbound, Target, TransactionId, TransactionLayer};

use crate::{Config, Transport, Transports, transport_for};

enum Command {
    Request(
        Message,
        Target,
        oneshot::Sender<Result<TransactionId, transaction_core::Error>>,
    ),
    Response(
        TransactionId,
        Message,
        oneshot::Sender<Result<(), transaction_core::Error>>,
    ),
    Ack(Message, Target),
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
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Request(request, target, tx))
            .await
            .map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }

    /// Answers a server transaction.
    pub async fn send_response(
        &self,
        id: TransactionId,
        response: Message,
    ) -> Result<(), transaction_core::Error> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Response(id, response, tx))
            .await
            .map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }

    /// Sends an ACK for a 2xx (outside any transaction).
    pub async fn send_ack(&self, ack: Message, target: Target) {
        let _ = self.commands.send(Command::Ack(ack, target)).await;
    }

    /// The next transaction event.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }
}

/// Switches an oversized UDP request to TCP and makes its top Via agree.
fn fit_transport(mut request: Message, mut target: Target) -> (Message, Target) {
    let len = request.to_bytes().len();
    let chosen = transport_for(target.transport, len);
    if chosen != target.transport {
        target.transport = chosen;
        let rewritten = match request.header::<Via<'_>>() {
            Some(Ok(via)) => {
                let port = via.port.map(|p| format!(":{p}")).unwrap_or_default();
                Some(format!(
                    "{}/{}/{} {}{}{}",
                    via.protocol,
                    via.version,
                    chosen.as_str(),
                    via.host,
                    port,
                    via.params
                ))
            }
            _ => None,
        };
        if let Some(v) = rewritten {
            request.remove_first_value(sip_core::header::HeaderName::Via);
            request.prepend_header("Via", v);
        }
    }
    (request, target)
}

async fn flush(
    transports: &Transports,
    layer: &mut TransactionLayer,
    events: &mpsc::Sender<Event>,
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
            if events.send(e).await.is_err() {
                return false;
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
    loop {
        let deadline = layer.poll_timeout();
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = transports.recv() => {
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
                    Command::Response(id, response, reply) => {
                        let _ = reply.send(layer.send_response(now, id, response));
                    }
                    Command::Ack(ack, target) => layer.send_ack(ack, target),
                }
            }
            () = sleep => layer.handle_timeout(Instant::now()),
        }
        if !flush(&transports, &mut layer, &events).await {
            return;
        }
    }
}
