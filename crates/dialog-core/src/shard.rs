//! One shard of an [`Endpoint`](crate::Endpoint): a task that owns a
//! [`DialogLayer`] for the Call-IDs hashed to it, feeds it received
//! messages, commands and timers, sends what it transmits, and routes its
//! events to the application and to waiting client transactions.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// The time as tokio's clock tells it: the wall clock normally, virtual
/// time when a test pauses tokio's clock.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

use sip_core::builder::Builder;
use sip_core::{Message, Method, StatusCode};
use sip_transport::{Received, Transports};
use tokio::sync::{mpsc, oneshot};
use transaction_core::{IdMap, IdSet, Inbound, Target, TransactionId};

use crate::endpoint::{ClientEvent, EndpointEvent, Handled, IncomingRequest, Responder};
use crate::mailbox;
use crate::{DialogEvent, DialogId, DialogLayer, Error, Event};

pub(crate) type Edit = Box<dyn FnOnce(Builder) -> Builder + Send>;
pub(crate) type Opened = Result<(TransactionId, mailbox::Receiver<ClientEvent>), Error>;
type Done = oneshot::Sender<Result<(), Error>>;

/// What the endpoint asks of a shard.
pub(crate) enum Command {
    Send(Message, Option<Target>, oneshot::Sender<Opened>),
    InDialog(DialogId, Method, Edit, oneshot::Sender<Opened>),
    Answer(TransactionId, StatusCode, Edit, Done),
    /// A response built elsewhere; `true`: sent statelessly where allowed.
    Respond(TransactionId, Message, bool, Done),
    Cancel(TransactionId, Done),
    Count(oneshot::Sender<usize>),
    /// Refuse new requests outside dialogs; reply once idle or at the
    /// deadline (the shard keeps running).
    Drain(Duration, oneshot::Sender<()>),
    /// Exit.
    Stop,
}

/// Handles up to 64 more items already queued before the shard sends what
/// they produced (batching).
fn take_queued<T>(queue: &mut mpsc::Receiver<T>, mut handle: impl FnMut(T)) {
    for _ in 0..64 {
        match queue.try_recv() {
            Ok(item) => handle(item),
            Err(_) => break,
        }
    }
}

/// Responses a client transaction can report: a few 1xx and a final.
const CLIENT_EVENTS: usize = 32;

pub(crate) struct Shard {
    layer: DialogLayer,
    me: mpsc::Sender<Command>,
    transports: Arc<Transports>,
    events: mpsc::Sender<EndpointEvent>,
    /// Waiting client transactions; the flag marks INVITE/UPDATE, which
    /// stay registered after a 491 for their retry.
    clients: IdMap<TransactionId, (mailbox::Sender<ClientEvent>, bool)>,
    /// Requests given to the application and not yet answered finally.
    unanswered: IdSet<TransactionId>,
    draining: Option<(Instant, Vec<oneshot::Sender<()>>)>,
    stopped: bool,
    /// Answers requests outside dialogs before the application.
    responder: Option<Arc<dyn Responder>>,
}

impl Shard {
    pub(crate) fn new(
        layer: DialogLayer,
        me: mpsc::Sender<Command>,
        transports: Arc<Transports>,
        events: mpsc::Sender<EndpointEvent>,
    ) -> Shard {
        Shard {
            layer,
            me,
            transports,
            events,
            clients: IdMap::default(),
            unanswered: IdSet::default(),
            draining: None,
            stopped: false,
            responder: None,
        }
    }

    pub(crate) fn with_responder(mut self, responder: Option<Arc<dyn Responder>>) -> Shard {
        self.responder = responder;
        self
    }

    /// Runs until stopped. `inbound` is this shard's queue of received
    /// messages: the transports put each message on its Call-ID's queue.
    pub(crate) async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        inbound: mpsc::Receiver<Received>,
    ) {
        let mut inbound = Some(inbound);
        // One timer for the shard's life, moved only when the next deadline
        // changes: registering a fresh one per message costs more than the
        // message's own work.
        let sleep = tokio::time::sleep_until(tokio::time::Instant::now());
        tokio::pin!(sleep);
        let mut armed: Option<Instant> = None;
        loop {
            let deadline = [
                self.layer.poll_timeout(),
                self.draining.as_ref().map(|d| d.0),
            ]
            .into_iter()
            .flatten()
            .min();
            if deadline != armed {
                if let Some(at) = deadline {
                    sleep.as_mut().reset(tokio::time::Instant::from_std(at));
                }
                armed = deadline;
            }
            let direct = async {
                match &mut inbound {
                    Some(r) => r.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                received = direct => match received {
                    Some(r) => {
                        self.received(r);
                        if let Some(queue) = inbound.as_mut() {
                            take_queued(queue, |r| self.received(r));
                        }
                    }
                    None => inbound = None,
                },
                cmd = rx.recv() => {
                    let Some(cmd) = cmd else { break };
                    self.command(cmd);
                    take_queued(&mut rx, |cmd| self.command(cmd));
                }
                () = &mut sleep, if armed.is_some() => {
                    armed = None;
                    self.layer.handle_timeout(now());
                }
            }
            self.flush().await;
            self.check_drained();
            if self.stopped {
                break;
            }
        }
    }

    /// Tells shutdown once nothing is left to finish (or time is up).
    fn check_drained(&mut self) {
        let Some((deadline, waiting)) = &mut self.draining else {
            return;
        };
        let idle = self.clients.is_empty() && self.unanswered.is_empty();
        if idle || now() >= *deadline {
            for w in waiting.drain(..) {
                let _ = w.send(());
            }
        }
    }

    fn open(&mut self, sent: Result<TransactionId, Error>, offer: bool) -> Opened {
        let id = sent?;
        let (tx, rx) = mailbox::channel(CLIENT_EVENTS);
        self.clients.insert(id, (tx, offer));
        Ok((id, rx))
    }

    fn received(&mut self, r: Received) {
        let inbound = Inbound {
            message: r.message,
            transport: r.transport,
            source: r.source,
        };
        self.layer.handle_message(now(), inbound);
    }

    fn command(&mut self, cmd: Command) {
        let now = now();
        match cmd {
            Command::Send(request, target, reply) => {
                let offer = request.method() == Some(&Method::Invite);
                let sent = match target {
                    Some(t) => self.layer.send_request(now, request, t),
                    None => Err(Error::Resolve("no target".into())),
                };
                let _ = reply.send(self.open(sent, offer));
            }
            Command::InDialog(dialog, method, edit, reply) => {
                let offer = matches!(method, Method::Invite | Method::Update);
                let sent = self
                    .layer
                    .request(&dialog, method)
                    .and_then(|b| edit(b).build().map_err(Error::from))
                    .and_then(|r| self.layer.send_in_dialog(now, dialog, r, true));
                let _ = reply.send(self.open(sent, offer));
            }
            Command::Answer(id, code, edit, reply) => {
                let r = self
                    .layer
                    .response(id, code)
                    .and_then(|b| edit(b).build().map_err(Error::from))
                    .and_then(|m| self.respond(now, id, m, false));
                let _ = reply.send(r);
            }
            Command::Respond(id, response, stateless, reply) => {
                let _ = reply.send(self.respond(now, id, response, stateless));
            }
            Command::Cancel(id, reply) => {
                let _ = reply.send(self.layer.cancel(now, id));
            }
            Command::Count(reply) => {
                let _ = reply.send(self.layer.dialog_count());
            }
            Command::Drain(grace, reply) => match &mut self.draining {
                Some((_, waiting)) => waiting.push(reply),
                None => self.draining = Some((now + grace, vec![reply])),
            },
            Command::Stop => self.stopped = true,
        }
    }

    /// A responder's answer given as it handled the request: sent now, a
    /// failure only logged (there is no one to return it to).
    fn respond_now(&mut self, now: Instant, id: TransactionId, response: Message, stateless: bool) {
        if let Err(e) = self.respond(now, id, response, stateless) {
            tracing::debug!(%e, "responder's answer not sent");
        }
    }

    /// Answers `id` (statelessly where `stateless` asks and the request
    /// allows it); a final answer takes it off the unanswered set.
    fn respond(
        &mut self,
        now: Instant,
        id: TransactionId,
        response: Message,
        stateless: bool,
    ) -> Result<(), Error> {
        let is_final = response.status().is_some_and(StatusCode::is_final);
        self.layer.respond_as(now, id, response, stateless)?;
        if is_final {
            self.unanswered.remove(&id);
        }
        Ok(())
    }

    /// Sends every transmit and routes every event until neither is left.
    async fn flush(&mut self) {
        loop {
            let mut progress = false;
            while let Some(t) = self.layer.poll_transmit() {
                progress = true;
                if let Err(e) = self
                    .transports
                    .send(t.transport, t.destination, t.payload)
                    .await
                {
                    tracing::debug!(%e, dest = %t.destination, "send failed");
                    if let Some(id) = t.transaction {
                        self.layer.handle_transport_error(now(), id);
                    }
                }
            }
            while let Some(e) = self.layer.poll_event() {
                progress = true;
                self.route(e);
            }
            if !progress {
                return;
            }
        }
    }

    fn notify_client(&mut self, id: TransactionId, event: ClientEvent, done: bool) {
        let keep_for_retry = matches!(&event, ClientEvent::Response { response, .. }
            if response.status() == Some(StatusCode::REQUEST_PENDING));
        let Some((tx, offer)) = self.clients.get(&id) else {
            return;
        };
        let _ = tx.try_send(event);
        if done && !(keep_for_retry && *offer) {
            self.clients.remove(&id);
        }
    }

    fn route(&mut self, e: Event) {
        let now = now();
        let app = match e {
            Event::Request {
                id,
                request,
                source,
                dialog,
            } => {
                if self.draining.is_some() && dialog.is_none() {
                    self.refuse(now, id);
                    return;
                }
                let incoming = IncomingRequest {
                    request,
                    source,
                    dialog,
                    id,
                    shard: self.me.clone(),
                };
                let incoming = match &self.responder {
                    Some(responder) if incoming.dialog.is_none() => {
                        match responder.handle(incoming) {
                            Handled::Respond(response) => {
                                return self.respond_now(now, id, response, false);
                            }
                            Handled::RespondStateless(response) => {
                                return self.respond_now(now, id, response, true);
                            }
                            Handled::Later => {
                                self.unanswered.insert(id);
                                return;
                            }
                            Handled::Pass(incoming) => incoming,
                        }
                    }
                    _ => incoming,
                };
                self.unanswered.insert(id);
                EndpointEvent::Request(incoming)
            }
            Event::Response {
                id,
                response,
                dialog,
            } => {
                let done = response.status().is_some_and(StatusCode::is_final);
                self.notify_client(id, ClientEvent::Response { response, dialog }, done);
                return;
            }
            Event::Retrying { previous, id } => {
                if let Some(entry) = self.clients.remove(&previous) {
                    let _ = entry.0.try_send(ClientEvent::Retrying);
                    self.clients.insert(id, entry);
                }
                return;
            }
            Event::NotRetried { previous } => {
                // The waiting ClientTransaction keeps the 491 as its answer.
                self.clients.remove(&previous);
                return;
            }
            Event::Timeout { id } => {
                self.notify_client(id, ClientEvent::Timeout, true);
                return;
            }
            Event::TransportError { id } => {
                self.notify_client(id, ClientEvent::TransportError, true);
                return;
            }
            Event::Dialog(d) => {
                if let DialogEvent::Cancelled { invite } = &d {
                    self.unanswered.remove(invite);
                }
                EndpointEvent::Dialog(d)
            }
        };
        match self.events.try_send(app) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(EndpointEvent::Request(r))) => {
                // The application is behind: shed load rather than queue.
                tracing::warn!("application not keeping up; answering 503");
                self.refuse(now, r.id);
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!("application not keeping up; dialog event dropped");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                // Nobody reads them: stop building them.
                self.layer.set_dialog_events(false);
            }
        }
    }

    /// 503 for a request we will not hand to the application.
    fn refuse(&mut self, now: Instant, id: TransactionId) {
        self.unanswered.remove(&id);
        let built = self.layer.response(id, StatusCode::SERVICE_UNAVAILABLE);
        if let Ok(r) = built.and_then(|b| b.header("Retry-After", 5).build().map_err(Error::from)) {
            let _ = self.layer.respond(now, id, r);
        }
    }
}
