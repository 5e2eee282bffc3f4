//! `rvoip sip ping` and `rvoip sip call`: a SIP test UAC on dialog-core's
//! `Endpoint`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dialog_core::{Endpoint, EndpointConfig, Error};
use sip_core::{Method, StatusCode, Uri};
use sip_transport::Transport;
use sip_transport::resolve::{HickoryDns, resolve};
use tokio::sync::{Semaphore, mpsc};
use transaction_core::Target;

use crate::{TlsArgs, TransportArg};

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
    /// Our identity (From), a name-addr; default sip:rvoip@<local address>.
    #[arg(long)]
    from: Option<String>,
    /// Address to put in Via and Contact instead of the bound one (behind
    /// a NAT or a port forward).
    #[arg(long)]
    advertise: Option<SocketAddr>,
    #[command(flatten)]
    tls: TlsArgs,
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
    /// Send a REGISTER on each call's Call-ID before its INVITE (as SIPp's
    /// branchc does; SIPp's branchs expects it).
    #[arg(long)]
    register: bool,
}

#[derive(Clone)]
struct Uac {
    endpoint: Endpoint,
    target: Target,
    uri: String,
    /// `<uri>`, the To of every request.
    to: String,
    from: String,
}

impl Uac {
    async fn start(common: &Common) -> Result<Uac, String> {
        let uri_ok = Uri::parse(&common.uri).map_err(|e| format!("bad URI {}: {e}", common.uri))?;
        let Uri::Sip(sip) = uri_ok else {
            return Err(format!("{} is not a sip: or sips: URI", common.uri));
        };
        let tls = common.tls.config()?;
        let mut supported = vec![Transport::Udp, Transport::Tcp, Transport::Ws];
        if tls.is_some() {
            supported.push(Transport::Tls);
        }
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
        if target.transport == Transport::Tls && tls.is_none() {
            return Err("--transport tls needs --cert and --key (and usually --ca)".into());
        }
        let mut config = EndpointConfig::loopback();
        config.transport.udp = vec![common.local];
        config.transport.tcp = vec![];
        config.transport.tls_files = tls;
        // A signalling test tool: no session timers asked for.
        config.dialog.session_expires = None;
        config.shards = 1;
        config.advertised = common
            .advertise
            .map(|a| Transport::ALL.into_iter().map(|t| (t, a)).collect())
            .unwrap_or_default();
        let (endpoint, _events) = Endpoint::start(config)
            .await
            .map_err(|e| format!("cannot bind {}: {e}", common.local))?;
        let local = endpoint.local_addr(Transport::Udp).unwrap_or(common.local);
        Ok(Uac {
            endpoint,
            target,
            uri: common.uri.clone(),
            to: format!("<{}>", common.uri),
            from: common
                .from
                .clone()
                .unwrap_or_else(|| format!("<sip:rvoip@{local}>")),
        })
    }
}

/// Builds the runtime, starts the UAC on `common` and runs `body` with it;
/// a start-up failure is reported as `rvoip sip {command}: ...` with exit code 2.
fn with_uac(common: &Common, command: &str, body: impl AsyncFnOnce(&Uac) -> ExitCode) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
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
            Ok(uac) => {
                let code = body(&uac).await;
                uac.endpoint.shutdown().await;
                code
            }
            Err(e) => {
                eprintln!("rvoip sip {command}: {e}");
                ExitCode::from(2)
            }
        }
    })
}

fn failure_label(e: &Error) -> String {
    match e {
        Error::Timeout => "timeout".into(),
        Error::TransportFailed => "transport error".into(),
        other => other.to_string(),
    }
}

pub(crate) fn ping(args: &PingArgs) -> ExitCode {
    with_uac(&args.common, "ping", async |uac: &Uac| {
        let Ok(options) = uac
            .endpoint
            .new_request(Method::Options, &uac.uri, uac.target, &uac.from, &uac.to)
            .build()
        else {
            return ExitCode::from(2);
        };
        let started = Instant::now();
        let answer = match uac.endpoint.send(options, uac.target).await {
            Ok(mut tx) => tx.final_response().await,
            Err(e) => Err(e),
        };
        match answer {
            Ok((response, _)) => {
                let code = response.status().unwrap_or(StatusCode(0));
                println!(
                    "{}: {} {} in {:.1} ms",
                    uac.uri,
                    code,
                    response.reason().unwrap_or(""),
                    started.elapsed().as_secs_f64() * 1000.0
                );
                if code.is_success() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                println!("{}: no response ({})", uac.uri, failure_label(&e));
                ExitCode::from(1)
            }
        }
    })
}

/// One call: optional REGISTER, INVITE (ACKed by the endpoint), hold, BYE.
/// Returns the setup time or why it failed.
async fn one_call(uac: &Uac, hold: Duration, register: bool) -> Result<Duration, String> {
    let ep = &uac.endpoint;
    let mut invite = ep
        .new_request(Method::Invite, &uac.uri, uac.target, &uac.from, &uac.to)
        .build()
        .map_err(|e| format!("INVITE not built: {e}"))?;
    if register {
        let call_id = invite.call_id().unwrap_or_default().to_owned();
        let mut reg = ep
            .new_request(Method::Register, &uac.uri, uac.target, &uac.from, &uac.from)
            .build()
            .map_err(|e| format!("REGISTER not built: {e}"))?;
        reg.set_header("Call-ID", &call_id);
        let (ok, _) = ep
            .send(reg, uac.target)
            .await
            .map_err(|e| failure_label(&e))?
            .final_response()
            .await
            .map_err(|e| format!("REGISTER {}", failure_label(&e)))?;
        let code = ok.status().unwrap_or(StatusCode(0));
        if !code.is_success() {
            return Err(format!("REGISTER {code}"));
        }
        invite.set_header("CSeq", "2 INVITE");
    }
    let started = Instant::now();
    // The transaction and its response go out of scope before the hold:
    // a held call keeps only its dialog id.
    let dialog = {
        let mut tx = ep
            .send(invite, uac.target)
            .await
            .map_err(|e| format!("send error: {e}"))?;
        let (response, dialog) = tx.final_response().await.map_err(|e| failure_label(&e))?;
        let code = response.status().unwrap_or(StatusCode(0));
        dialog
            .filter(|_| code.is_success())
            .ok_or_else(|| code.to_string())?
    };
    let setup = started.elapsed();
    if !hold.is_zero() {
        tokio::time::sleep(hold).await;
    }
    let (bye, _) = ep
        .bye(&dialog)
        .await
        .map_err(|e| format!("BYE not sent: {e}"))?
        .final_response()
        .await
        .map_err(|e| format!("BYE {}", failure_label(&e)))?;
    match bye.status() {
        Some(c) if c.is_success() => Ok(setup),
        other => Err(format!("BYE {}", other.unwrap_or(StatusCode(0)))),
    }
}

pub(crate) fn call(args: &CallArgs) -> ExitCode {
    with_uac(&args.common, "call", async |uac: &Uac| {
        let interval = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
        let hold = Duration::from_millis(args.hold);
        let slots = Arc::new(Semaphore::new(args.concurrency.max(1) as usize));
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let begin = Instant::now();
        let mut next_start = tokio::time::Instant::now();
        let register = args.register;
        let shared = Arc::new(uac.clone());
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..args.count {
            tokio::time::sleep_until(next_start).await;
            next_start += interval;
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            let done = done_tx.clone();
            let uac = shared.clone();
            // The call's state machine is large (about 1.8 KB): boxed, the
            // runtime moves a pointer through its task stages, not it.
            tasks.spawn(Box::pin(async move {
                let r = one_call(&uac, hold, register).await;
                drop(permit);
                let _ = done.send(r);
            }));
            // A finished task keeps its allocation until it is joined:
            // reap them as we go so memory follows the calls in progress.
            while tasks.try_join_next().is_some() {}
        }
        drop(done_tx);
        while tasks.join_next().await.is_some() {}
        let mut setup_ms = Vec::new();
        let mut failures: BTreeMap<String, u64> = BTreeMap::new();
        while let Some(r) = done_rx.recv().await {
            match r {
                Ok(setup) => setup_ms.push(setup.as_secs_f64() * 1000.0),
                Err(why) => *failures.entry(why).or_default() += 1,
            }
        }
        let elapsed = begin.elapsed();
        if uac.target.transport.is_reliable() {
            // Keep the connection a little while the peer finishes its last
            // calls (SIPp's uas waits 4 s after the final 200 and counts a
            // call failed if the connection closes during that wait).
            tokio::time::sleep(Duration::from_millis(4500)).await;
        }
        report(&setup_ms, &failures, elapsed, args.count)
    })
}

/// Prints the summary line and the failures; exit 0 only when every call
/// succeeded.
fn report(
    setup_ms: &[f64],
    failures: &BTreeMap<String, u64>,
    elapsed: Duration,
    count: u64,
) -> ExitCode {
    let mut sorted = setup_ms.to_vec();
    sorted.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        sorted
            .get(((sorted.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let failed: u64 = failures.values().sum();
    let ok = sorted.len() as u64;
    println!(
        "calls: {ok} ok, {failed} failed in {:.2} s; setup ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
        elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        sorted.last().copied().unwrap_or(0.0)
    );
    for (why, n) in failures {
        println!("  failed: {n} x {why}");
    }
    if failed == 0 && ok == count {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
