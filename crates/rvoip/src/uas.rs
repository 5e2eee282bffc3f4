//! `rvoip sip uas`: a SIP test UAS that answers calls (RFC 3261 §13.3).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sip_core::builder::response_to;
use sip_core::header::HeaderName;
use sip_core::{Message, Method, StatusCode};
use sip_transport::{Config, Transport, TransportHandle, TransportLayer};
use tokio::sync::mpsc;
use transaction_core::{Event, TransactionId};

use crate::{TlsArgs, TransportArg};

/// Arguments of `rvoip sip uas`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5060")]
    listen: SocketAddr,
    /// Final response to INVITEs.
    #[arg(long, default_value_t = 200)]
    reply: u16,
    /// Milliseconds between the 180 and the final response.
    #[arg(long, default_value_t = 0)]
    ring: u64,
    /// Stop after this many calls have ended (BYE received, or a non-2xx sent).
    #[arg(long)]
    calls: Option<u64>,
    /// Transport to listen on.
    #[arg(long, value_enum, default_value = "udp")]
    transport: TransportArg,
    #[command(flatten)]
    tls: TlsArgs,
}

#[derive(Default)]
struct Call {
    final_sent: AtomicBool,
    acked: AtomicBool,
}

#[derive(Default)]
struct Counts {
    invites: u64,
    ended: u64,
    byes: u64,
    cancels: u64,
    options: u64,
    registers: u64,
    unanswered_2xx: u64,
}

enum Done {
    Rejected,
    NoAck,
}

fn reply(request: &Message, code: StatusCode, tag: &str, contact: &str) -> Option<Message> {
    response_to(request, code, Some(tag))
        .header("Contact", contact)
        .header("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER")
        .header("Server", "rvoip")
        .build()
        .ok()
}

/// A 200 to a REGISTER that accepts every binding as asked (the answer of a
/// test registrar: bindings are echoed with their lifetime, not stored).
fn registered(request: &Message, tag: &str) -> Option<Message> {
    let expires = request
        .raw_header(HeaderName::Expires)
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(3600);
    let mut ok = response_to(request, StatusCode::OK, Some(tag))
        .header("Server", "rvoip")
        .build()
        .ok()?;
    for contact in request.fields_named(HeaderName::Contact) {
        let contact = contact.value_str().ok()?.trim();
        if contact == "*" {
            continue;
        }
        if contact.contains(";expires=") {
            ok.push_header("Contact", contact);
        } else {
            ok.push_header("Contact", format_args!("{contact};expires={expires}"));
        }
    }
    Some(ok)
}

/// Sends 180 then the final response; keeps sending a 2xx until the ACK
/// (T1 doubling up to T2; after 64·T1 gives up, RFC 3261 §13.3.1.4).
#[allow(clippy::too_many_arguments)]
async fn answer(
    h: TransportHandle,
    id: TransactionId,
    request: Message,
    code: StatusCode,
    ring: Duration,
    tag: String,
    contact: String,
    call: Arc<Call>,
    timers: transaction_core::Config,
    done: mpsc::Sender<Done>,
) {
    if let Some(ringing) = reply(&request, StatusCode::RINGING, &tag, &contact) {
        h.respond(id, ringing).await;
    }
    if !ring.is_zero() {
        tokio::time::sleep(ring).await;
    }
    if call.final_sent.swap(true, Ordering::SeqCst) {
        return; // CANCEL got there first
    }
    let Some(fin) = reply(&request, code, &tag, &contact) else {
        return;
    };
    h.respond(id, fin.clone()).await;
    if !code.is_success() {
        let _ = done.send(Done::Rejected).await;
        return;
    }
    let start = Instant::now();
    let mut interval = timers.t1;
    loop {
        tokio::time::sleep(interval).await;
        if call.acked.load(Ordering::SeqCst) {
            return;
        }
        if start.elapsed() >= timers.t1x64() {
            let _ = done.send(Done::NoAck).await;
            return;
        }
        h.respond(id, fin.clone()).await;
        interval = (interval * 2).min(timers.t2);
    }
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        eprintln!("rvoip sip uas: cannot start the runtime");
        return ExitCode::from(2);
    };
    rt.block_on(serve(args))
}

async fn serve(args: &Args) -> ExitCode {
    let transport = args.transport.transport();
    let mut config = Config::loopback();
    config.udp.clear();
    config.tcp.clear();
    match transport {
        Transport::Udp => config.udp.push(args.listen),
        Transport::Tcp => config.tcp.push(args.listen),
        Transport::Ws => config.ws.push(args.listen),
        _ => config.tls.push(args.listen),
    }
    match args.tls.config() {
        Ok(files) => config.tls_files = files,
        Err(e) => {
            eprintln!("rvoip sip uas: {e}");
            return ExitCode::from(2);
        }
    }
    if transport == Transport::Tls && config.tls_files.is_none() {
        eprintln!("rvoip sip uas: --transport tls needs --cert and --key");
        return ExitCode::from(2);
    }
    let timers = transaction_core::Config::default();
    let mut layer = match TransportLayer::start(config, timers).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("rvoip sip uas: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(2);
        }
    };
    let local = layer.local_addr(transport).unwrap_or(args.listen);
    let contact = match transport {
        Transport::Udp => format!("<sip:uas@{local}>"),
        t => format!("<sip:uas@{local};transport={}>", t.param()),
    };
    eprintln!(
        "rvoip sip uas: listening on {} {local}, answering {}",
        transport.as_str(),
        args.reply
    );
    let h = layer.handle();
    let code = StatusCode(args.reply);
    let ring = Duration::from_millis(args.ring);
    let (done_tx, mut done_rx) = mpsc::channel::<Done>(1024);
    let mut calls: HashMap<String, (TransactionId, Arc<Call>)> = HashMap::new();
    let mut counts = Counts::default();
    let mut next_tag: u64 = 0;
    // 2xx responses waiting for their ACK (answered inline, without ringing):
    // next deadline, then (transaction, response, interval, first sent, call).
    let mut retrans: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
    let mut pending: HashMap<u64, (TransactionId, Message, Duration, Instant, Arc<Call>)> =
        HashMap::new();
    let mut next_pending: u64 = 0;
    let stop = infra_common::server::shutdown_signal();
    tokio::pin!(stop);
    loop {
        if args.calls.is_some_and(|n| counts.ended >= n) {
            break;
        }
        let due = retrans
            .peek()
            .map(|Reverse((t, _))| tokio::time::Instant::from_std(*t));
        tokio::select! {
            _ = &mut stop => break,
            _ = async { if let Some(t) = due { tokio::time::sleep_until(t).await } }, if due.is_some() => {
                let now = Instant::now();
                while let Some(Reverse((t, key))) = retrans.peek().copied() {
                    if t > now {
                        break;
                    }
                    retrans.pop();
                    let Some((id, fin, interval, first, call)) = pending.remove(&key) else { continue };
                    if call.acked.load(Ordering::SeqCst) {
                        continue;
                    }
                    if first.elapsed() >= timers.t1x64() {
                        counts.ended += 1;
                        counts.unanswered_2xx += 1;
                        continue;
                    }
                    h.respond(id, fin.clone()).await;
                    let next = (interval * 2).min(timers.t2);
                    retrans.push(Reverse((now + next, key)));
                    pending.insert(key, (id, fin, next, first, call));
                }
            }
            Some(d) = done_rx.recv() => {
                counts.ended += 1;
                if let Done::NoAck = d {
                    counts.unanswered_2xx += 1;
                }
            }
            event = layer.next_event() => {
                let Some(event) = event else { break };
                match event {
                    Event::Request { id, request, cancels, .. } => {
                        let call_id = request.call_id().unwrap_or("").to_owned();
                        let in_dialog = request.raw_header(HeaderName::To).is_some_and(|t| t.windows(4).any(|w| w.eq_ignore_ascii_case(b"tag=")));
                        match request.method() {
                            Some(Method::Invite) if !in_dialog => {
                                counts.invites += 1;
                                next_tag += 1;
                                let call = Arc::new(Call::default());
                                calls.insert(call_id, (id, call.clone()));
                                let tag = format!("rv{next_tag:x}");
                                if ring.is_zero() {
                                    // Answer here: no task, no timer until a retransmission is due.
                                    if let Some(ringing) = reply(&request, StatusCode::RINGING, &tag, &contact) {
                                        h.respond(id, ringing).await;
                                    }
                                    call.final_sent.store(true, Ordering::SeqCst);
                                    if let Some(fin) = reply(&request, code, &tag, &contact) {
                                        h.respond(id, fin.clone()).await;
                                        if code.is_success() {
                                            next_pending += 1;
                                            let now = Instant::now();
                                            retrans.push(Reverse((now + timers.t1, next_pending)));
                                            pending.insert(next_pending, (id, fin, timers.t1, now, call));
                                        } else {
                                            counts.ended += 1;
                                        }
                                    }
                                } else {
                                    tokio::spawn(answer(h.clone(), id, request, code, ring, tag, contact.clone(), call, timers, done_tx.clone()));
                                }
                            }
                            Some(Method::Bye) => {
                                counts.byes += 1;
                                if let Some(ok) = reply(&request, StatusCode::OK, "bye", &contact) {
                                    h.respond(id, ok).await;
                                }
                                if calls.remove(&call_id).is_some() {
                                    counts.ended += 1;
                                }
                            }
                            Some(Method::Cancel) => {
                                counts.cancels += 1;
                                if let Some(ok) = reply(&request, StatusCode::OK, "cancel", &contact) {
                                    h.respond(id, ok).await;
                                }
                                if let (Some(inv), Some((_, call))) = (cancels, calls.get(&call_id))
                                    && !call.final_sent.swap(true, Ordering::SeqCst)
                                {
                                    if let Some(t) = reply(&request, StatusCode::REQUEST_TERMINATED, "cancel", &contact) {
                                        h.respond(inv, t).await;
                                    }
                                    calls.remove(&call_id);
                                    counts.ended += 1;
                                }
                            }
                            Some(Method::Options) | Some(Method::Invite) => {
                                counts.options += u64::from(request.method() == Some(&Method::Options));
                                if let Some(ok) = reply(&request, StatusCode::OK, "opt", &contact) {
                                    h.respond(id, ok).await;
                                }
                            }
                            Some(Method::Register) => {
                                counts.registers += 1;
                                if let Some(ok) = registered(&request, "reg") {
                                    h.respond(id, ok).await;
                                }
                            }
                            _ => {
                                if let Some(r) = reply(&request, StatusCode::NOT_IMPLEMENTED, "ni", &contact) {
                                    h.respond(id, r).await;
                                }
                            }
                        }
                    }
                    Event::Ack { request, .. } => {
                        if let Some((_, call)) = request.call_id().and_then(|c| calls.get(c)) {
                            call.acked.store(true, Ordering::SeqCst);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    // Responses go out fire-and-forget: let the last ones reach the sockets,
    // and give stream connection writers a moment, before exiting.
    h.flush().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    println!(
        "uas: {} INVITEs, {} calls ended, {} BYEs, {} CANCELs, {} OPTIONS, {} REGISTERs, {} 2xx never ACKed",
        counts.invites,
        counts.ended,
        counts.byes,
        counts.cancels,
        counts.options,
        counts.registers,
        counts.unanswered_2xx
    );
    ExitCode::SUCCESS
}
