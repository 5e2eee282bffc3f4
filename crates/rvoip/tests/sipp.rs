//! Interop with SIPp (Debian `sip-tester`, installed by `.ci/run`): SIPp's
//! built-in UAC places 1,000 calls against `rvoip sip uas` over UDP and TCP.
//! A missing `sipp` fails the test: it never passes silently.

mod common;
use common::{free_port, sipp_counter, which};
use std::process::{Command, Stdio};
use std::time::Duration;

/// SIPp's built-in client `scenario` places `calls` calls at `rate` per
/// second against `rvoip sip uas`; every one must succeed on both sides.
/// The uas runs until SIPp is done (some scenarios keep their connection
/// open after the last BYE) and is then stopped with SIGINT, as a user would.
fn sipp_client_against_rvoip_uas(scenario: &str, transport: &str, calls: u32, rate: u32) {
    let uas_port = free_port();
    let uas = Command::new(env!("CARGO_BIN_EXE_rvoip"))
        .args([
            "sip",
            "uas",
            "--listen",
            &format!("127.0.0.1:{uas_port}"),
            "--transport",
            transport,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rvoip sip uas");
    std::thread::sleep(Duration::from_millis(300));
    let stat = std::env::temp_dir().join(format!(
        "rvoip-sipp-{scenario}-{transport}-{}.csv",
        std::process::id()
    ));
    let status = sipp(scenario, free_port(), transport, &stat, calls)
        .arg(format!("127.0.0.1:{uas_port}"))
        .args([
            "-r",
            &rate.to_string(),
            "-l",
            "200",
            "-timeout",
            "90s",
            "-timeout_error",
        ])
        .status()
        .expect("run sipp");
    let interrupted = Command::new("kill")
        .args(["-INT", &uas.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(interrupted.success(), "signal the uas");
    let out = uas.wait_with_output().expect("uas output");
    let summary = String::from_utf8_lossy(&out.stdout);
    let csv = std::fs::read_to_string(&stat).expect("sipp statistics");
    let _ = std::fs::remove_file(&stat);
    let col = |name: &str| sipp_counter(&csv, name);
    assert_eq!(
        col("SuccessfulCall(C)"),
        Some(u64::from(calls)),
        "{scenario} {transport}: SIPp counts every call successful; uas said: {summary}"
    );
    assert_eq!(
        col("FailedCall(C)"),
        Some(0),
        "{scenario} {transport}: no failed call"
    );
    assert!(
        status.success(),
        "{scenario} {transport}: sipp exit status {status}"
    );
    assert!(
        summary.contains(&format!("{calls} calls ended")),
        "{summary}"
    );
    assert!(summary.contains("0 2xx never ACKed"), "{summary}");
}

/// SIPp's `branchc`: a REGISTER, then an INVITE on the same Call-ID, a 5 s
/// pause in the call and a 4 s wait after the BYE (so few calls, fast).
#[test]
fn sipp_branchc_udp() {
    sipp_client_against_rvoip_uas("branchc", "udp", 10, 10);
}

#[test]
fn sipp_branchc_tcp() {
    sipp_client_against_rvoip_uas("branchc", "tcp", 10, 10);
}

/// SIPp running built-in `scenario` on 127.0.0.1:`port` over `transport`,
/// `calls` calls, writing its cumulative statistics to `stat`.
fn sipp(scenario: &str, port: u16, transport: &str, stat: &std::path::Path, calls: u32) -> Command {
    let sipp = which("sipp").unwrap_or_else(|| {
        panic!("sipp is not installed: install Debian's sip-tester (.ci/run does)")
    });
    let mut cmd = Command::new(sipp);
    cmd.args(["-sn", scenario, "-i", "127.0.0.1", "-p", &port.to_string()]);
    if transport == "tcp" {
        cmd.args(["-t", "t1"]);
    }
    cmd.args(["-m", &calls.to_string()])
        .args([
            "-nostdin",
            "-buff_size",
            "4194304",
            "-default_behaviors",
            "all,-abortunexp",
            "-trace_stat",
            // A stuck run fails instead of hanging the suite.
            "-timeout",
            "120s",
            "-timeout_error",
            "-stf",
        ])
        .arg(stat)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

#[test]
fn sipp_uac_1000_calls_udp() {
    sipp_client_against_rvoip_uas("uac", "udp", 1000, 200);
}

#[test]
fn sipp_uac_1000_calls_tcp() {
    sipp_client_against_rvoip_uas("uac", "tcp", 1000, 200);
}

/// `rvoip sip call` (with `extra` flags) places `calls` calls on a SIPp
/// server running `scenario`; every call must succeed on both sides.
fn rvoip_call_against_sipp(scenario: &str, transport: &str, calls: u32, extra: &[&str]) {
    let port = free_port();
    let stat = std::env::temp_dir().join(format!(
        "rvoip-sipp-{scenario}-{transport}-{}.csv",
        std::process::id()
    ));
    let mut uas = sipp(scenario, port, transport, &stat, calls)
        .spawn()
        .expect("start sipp server");
    std::thread::sleep(Duration::from_millis(300));
    let out = Command::new(env!("CARGO_BIN_EXE_rvoip"))
        .args([
            "sip",
            "call",
            &format!("sip:service@127.0.0.1:{port}"),
            "--transport",
            transport,
        ])
        .args([
            "--count",
            &calls.to_string(),
            "--rate",
            "400",
            "--concurrency",
            "200",
        ])
        .args(extra)
        .output()
        .expect("run rvoip sip call");
    let summary = String::from_utf8_lossy(&out.stdout);
    let sipp_status = uas.wait().expect("sipp exit");
    let csv = std::fs::read_to_string(&stat).expect("sipp statistics");
    let _ = std::fs::remove_file(&stat);
    let col = |name: &str| sipp_counter(&csv, name);
    assert!(
        out.status.success(),
        "{transport}: rvoip sip call failed: {summary}"
    );
    assert!(
        summary.starts_with(&format!("calls: {calls} ok, 0 failed")),
        "{summary}"
    );
    assert_eq!(
        col("SuccessfulCall(C)"),
        Some(u64::from(calls)),
        "{scenario}/{transport}: SIPp saw every call complete"
    );
    assert_eq!(col("FailedCall(C)"), Some(0));
    assert!(
        sipp_status.success(),
        "{transport}: sipp exit status {sipp_status}"
    );
}

fn rvoip_call_against_sipp_uas(transport: &str) {
    rvoip_call_against_sipp("uas", transport, 1000, &[]);
}

/// SIPp's `branchs` expects a REGISTER and then an INVITE on its Call-ID,
/// and answers 180/100/200 only to a caller whose From says `ua2` (others
/// get 403).
const BRANCHS_CALLER: &[&str] = &["--register", "--from", "ua2 <sip:ua2@example.com>"];

#[test]
fn rvoip_call_register_to_sipp_branchs_udp() {
    rvoip_call_against_sipp("branchs", "udp", 10, BRANCHS_CALLER);
}

#[test]
fn rvoip_call_register_to_sipp_branchs_tcp() {
    rvoip_call_against_sipp("branchs", "tcp", 10, BRANCHS_CALLER);
}

#[test]
fn rvoip_call_1000_calls_to_sipp_uas_udp() {
    rvoip_call_against_sipp_uas("udp");
}

#[test]
fn rvoip_call_1000_calls_to_sipp_uas_tcp() {
    rvoip_call_against_sipp_uas("tcp");
}
