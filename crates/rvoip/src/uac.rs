//! `rvoip sip ping` and `rvoip sip call`: a SIP test UAC.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use dialog_core::Dialog;
use sip_core::builder::Builder;
use sip_core::{Message, Method, StatusCode, Uri};
use sip_transport::resolve::{HickoryDns, resolve};
use sip_transport::{Config, Transport, TransportLayer};
use transaction_core::{Event, Target, TransactionId};

use crate::TransportArg;

/// Arguments shared by ping and call.
#[derive(clap::Args, Clone)]
pub(crate) struct Common {
    /// Target URI, e.g. sip:bob@127.0.0.1:5060.
    uri: String,
    /// Transport (overrides the URI's).
    #[arg(long, value_enum)]
    transport: Option<TransportArg>,
    /// Local address to bind.
    #[arg(long, default_value = "127.0.0.1:0")]
    local: SocketAddr,
}

/// Arguments of `rvoip sip ping`.
#[derive(clap::Args)]
pub(crate) struct PingArgs {
    #[command(flatten)]
    common: Common,
}

/// Arguments of `rvoip sip call`.
#[derive(clap::Args)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    common: Common,
    /// Number of calls.
    #[arg(long, default_value_t = 1)]
    count: u64,
    /// Calls started per second.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Milliseconds between the ACK and the BYE.
    #[arg(long, default_value_t = 0)]
    hold: u64,
    /// Most calls in progress at once.
    #[arg(long, default_value_t = 100)]
    concurrency: u64,
}

static UNIQUE: AtomicU64 = AtomicU64::new(0);

fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!(
        "{:x}{:x}{:x}",
        nanos,
        std::process::id(),
        UNIQUE.fetch_add(1, Ordering::Relaxed)
    )
}

struct Uac {
    layer: TransportLayer,
    target: Target,
    local: SocketAddr,
    uri: String,
}

impl Uac {
    async fn start(common: &Common) -> Result<Uac, String> {
        let uri_ok = Uri::parse(&common.uri).map_err(|e| format!("bad URI {}: {e}", common.uri))?;
        let Uri::Sip(sip) = uri_ok else {
            return Err(format!("{} is not a sip: or sips: URI", common.uri));
        };
        let supported = [Transport::Udp, Transport::Tcp, Transport::Ws];
        let dns = HickoryDns::from_system().map_err(|e| format!("DNS: {e}"))?;
        let mut targets = resolve(&sip, &dns, &supported, |_| 0)
            .await
            .map_err(|e| format!("resolving {}: {e}", common.uri))?;
        if let Some(t) = common.transport {
            for target in &mut targets {
                target.transport = t.transport();
            }
        }
        let target = *targets
            .first()
            .ok_or_else(|| format!("{} resolves to nothing", common.uri))?;
        let mut config = Config::loopback();
        config.udp = vec![common.local];
        config.tcp = vec![];
        let layer = TransportLayer::start(config, transaction_core::Config::default())
            .await
            .map_err(|e| format!("cannot bind {}: {e}", common.local))?;
        let local = layer.local_addr(Transport::Udp).unwrap_or(common.local);
        Ok(Uac {
            layer,
            target,
            local,
            uri: common.uri.clone(),
        })
    }

    fn via(&self) -> String {
        format!(
            "SIP/2.0/{} {};branch=z9hG4bK{};rport",
            self.target.transport.as_str(),
            self.local,
            unique()
        )
    }

    fn request(&self, method: Method, call_id: &str, tag: &str) -> Builder {
        Builder::request(method.clone(), &self.uri)
            .header("Via", self.via())
            .header("Max-Forwards", 70)
            .header("From", format!("<sip:rvoip@{}>;tag={tag}", self.local))
            .header("To", format!("<{}>", self.uri))
            .header("Call-ID", call_id)
            .header("CSeq", format!("1 {method}"))
            .header("Contact", format!("<sip:rvoip@{}>", self.local))
            .header("User-Agent", "rvoip")
    }
}

/// Builds the runtime, starts the UAC on `common` and runs `body` with it;
/// a start-up failure is reported as `rvoip sip {command}: ...` with exit code 2.
fn with_uac(common: &Common, command: &str, body: impl AsyncFnOnce(Uac) -> ExitCode) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rvoip sip {command}: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(async {
        match Uac::start(common).await {
            Ok(uac) => body(uac).await,
            Err(e) => {
                eprintln!("rvoip sip {command}: {e}");
                ExitCode::from(2)
            }
        }
    })
}

pub(crate) fn ping(args: &PingArgs) -> ExitCode {
    with_uac(&args.common, "ping", async |mut uac: Uac| {
        let Ok(options) = uac.request(Method::Options, &unique(), &unique()).build() else {
            return ExitCode::from(2);
        };
        let started = Instant::now();
        let Ok(id) = uac.layer.send_request(options, uac.target).await else {
            return ExitCode::from(2);
        };
        while let Some(e) = uac.layer.next_event().await {
            match e {
                Event::Response { id: r, response }
                    if r == id && response.status().is_some_and(|s| s.is_final()) =>
                {
                    let code = response.status().unwrap_or(StatusCode(0));
                    let rtt = started.elapsed();
                    println!(
                        "{}: {} {} in {:.1} ms",
                        uac.uri,
                        code,
                        response.reason().unwrap_or(""),
                        rtt.as_secs_f64() * 1000.0
                    );
                    return if code.is_success() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    };
                }
                Event::Timeout { id: r, .. } | Event::TransportError { id: r } if r == id => {
                    println!(
                        "{}: no response ({})",
                        uac.uri,
                        if matches!(e, Event::Timeout { .. }) {
                            "timeout"
                        } else {
                            "transport error"
                        }
                    );
                    return ExitCode::from(1);
                }
                _ => {}
            }
        }
        ExitCode::from(1)
    })
}

enum CallState {
    Inviting { invite: Message, sent: Instant },
    Byeing,
}

pub(crate) fn call(args: &CallArgs) -> ExitCode {
    with_uac(&args.common, "call", async |mut uac: Uac| {
        let interval = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
        let hold = Duration::from_millis(args.hold);
        let mut calls: HashMap<TransactionId, CallState> = HashMap::new();
        let mut byes_due: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
        let mut dialogs: HashMap<u64, Dialog> = HashMap::new();
        let (mut started, mut in_progress, mut ok, mut next_dialog) = (0u64, 0u64, 0u64, 0u64);
        let mut failures: BTreeMap<String, u64> = BTreeMap::new();
        let mut setup_ms: Vec<f64> = Vec::new();
        let mut next_start = tokio::time::Instant::now();
        let begin = Instant::now();
        while started < args.count || in_progress > 0 {
            let can_start = started < args.count && in_progress < args.concurrency;
            let bye_at = byes_due
                .peek()
                .map(|Reverse((t, _))| tokio::time::Instant::from_std(*t));
            tokio::select! {
                _ = tokio::time::sleep_until(next_start), if can_start => {
                    started += 1;
                    in_progress += 1;
                    next_start += interval;
                    let Ok(invite) = uac.request(Method::Invite, &unique(), &unique()).build() else { continue };
                    match uac.layer.send_request(invite.clone(), uac.target).await {
                        Ok(id) => { calls.insert(id, CallState::Inviting { invite, sent: Instant::now() }); }
                        Err(e) => { in_progress -= 1; *failures.entry(format!("send error: {e}")).or_default() += 1; }
                    }
                }
                _ = async { if let Some(t) = bye_at { tokio::time::sleep_until(t).await } }, if bye_at.is_some() => {
                    let Some(Reverse((_, key))) = byes_due.pop() else { continue };
                    let Some(mut d) = dialogs.remove(&key) else { continue };
                    let bye = d.request(Method::Bye).header("Via", uac.via()).header("Max-Forwards", 70).build();
                    match bye {
                        Ok(bye) => match uac.layer.send_request(bye, uac.target).await {
                            Ok(id) => { calls.insert(id, CallState::Byeing); }
                            Err(_) => { in_progress -= 1; *failures.entry("BYE not sent".into()).or_default() += 1; }
                        },
                        Err(_) => { in_progress -= 1; *failures.entry("BYE not built".into()).or_default() += 1; }
                    }
                }
                event = uac.layer.next_event() => {
                    let Some(event) = event else { break };
                    match event {
                        Event::Response { id, response } => {
                            let Some(code) = response.status() else { continue };
                            if !code.is_final() { continue; }
                            match calls.remove(&id) {
                                Some(CallState::Inviting { invite, sent }) if code.is_success() => {
                                    setup_ms.push(sent.elapsed().as_secs_f64() * 1000.0);
                                    match Dialog::from_uac(&invite, &response) {
                                        Ok(mut d) => {
                                            if let Ok(ack) = d.request(Method::Ack).header("Via", uac.via()).header("Max-Forwards", 70).build() {
                                                uac.layer.send_ack(ack, uac.target).await;
                                            }
                                            next_dialog += 1;
                                            dialogs.insert(next_dialog, d);
                                            byes_due.push(Reverse((Instant::now() + hold, next_dialog)));
                                        }
                                        Err(e) => { in_progress -= 1; *failures.entry(format!("bad 2xx: {e}")).or_default() += 1; }
                                    }
                                }
                                Some(CallState::Inviting { .. }) => { in_progress -= 1; *failures.entry(code.to_string()).or_default() += 1; }
                                Some(CallState::Byeing) => {
                                    in_progress -= 1;
                                    if code.is_success() { ok += 1; } else { *failures.entry(format!("BYE {code}")).or_default() += 1; }
                                }
                                None => {}
                            }
                        }
                        Event::Timeout { id, .. } | Event::TransportError { id } if calls.remove(&id).is_some() => {
                            in_progress -= 1;
                            let why = if matches!(event, Event::Timeout { .. }) { "timeout" } else { "transport error" };
                            *failures.entry(why.into()).or_default() += 1;
                        }
                        _ => {}
                    }
                }
            }
        }
        let elapsed = begin.elapsed();
        if uac.target.transport.is_reliable() {
            // Keep the connection a little while the peer finishes its last
            // calls (SIPp's uas waits 4 s after the final 200 and counts a
            // call failed if the connection closes during that wait).
            tokio::time::sleep(Duration::from_millis(4500)).await;
        }
        setup_ms.sort_by(f64::total_cmp);
        let pct = |p: f64| {
            setup_ms
                .get(((setup_ms.len() as f64 - 1.0) * p).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        let failed: u64 = failures.values().sum();
        println!(
            "calls: {} ok, {} failed in {:.2} s; setup ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
            ok,
            failed,
            elapsed.as_secs_f64(),
            pct(0.5),
            pct(0.9),
            pct(0.99),
            setup_ms.last().copied().unwrap_or(0.0)
        );
        for (why, n) in &failures {
            println!("  failed: {n} x {why}");
        }
        if failed == 0 && ok == args.count {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    })
}
