//! End-to-end tests of `rvoip sip lint` through the real binary.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn fixtures(dir: &str) -> PathBuf {
    [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "sip-core",
        "tests",
        "fixtures",
        dir,
    ]
    .iter()
    .collect()
}

fn lint(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rvoip"))
        .args(["sip", "lint"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rvoip");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default())
        .expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait")
}

fn path(dir: &str, name: &str) -> String {
    fixtures(dir)
        .join(format!("{name}.dat"))
        .display()
        .to_string()
}

#[test]
fn valid_and_invalid_files_and_exit_codes() {
    let ok = path("rfc4475", "wsinv");
    let out = lint(&[&ok], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim_end(),
        format!("{ok}: OK INVITE wsinv.ndaksdj@192.0.2.1")
    );

    let bad = path("rfc4475", "badvers");
    let out = lint(&[&ok, &bad], None);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1], format!("{bad}: ERROR 505 Version Not Supported"));

    let out = lint(&["/nonexistent/file.sip"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = lint(&[], None);
    assert_eq!(out.status.code(), Some(2), "usage error");
}

#[test]
fn every_torture_message_through_the_binary() {
    let mut files = Vec::new();
    for dir in ["rfc4475", "rfc5118"] {
        for e in std::fs::read_dir(fixtures(dir)).expect("dir") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "dat") {
                files.push(p.display().to_string());
            }
        }
    }
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let out = lint(&args, None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "some torture messages are invalid"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), files.len());
    let verdict = |name: &str| {
        text.lines()
            .find(|l| l.contains(&format!("/{name}.dat: ")))
            .map(|l| l.split(".dat: ").nth(1).unwrap_or("").to_owned())
            .unwrap_or_default()
    };
    assert!(verdict("wsinv").starts_with("OK INVITE"));
    assert!(verdict("unkscm").starts_with("ERROR 416"));
    assert!(verdict("bext01").starts_with("ERROR 420"));
    assert!(verdict("invut").starts_with("ERROR 415"));
    assert!(verdict("sdp01").starts_with("ERROR 406"));
    assert!(verdict("insuf").starts_with("ERROR 400"));
    assert!(verdict("ipv6-bad").starts_with("ERROR 400"));
    assert!(verdict("port-ambiguous").starts_with("OK REGISTER"));
}

#[test]
fn stdin_json_and_stream() {
    let msg = std::fs::read(path("rfc4475", "esc01")).expect("read");
    let out = lint(&["--json", "-"], Some(&msg));
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json line");
    assert_eq!(v["ok"], true);
    assert_eq!(v["message"], "INVITE");
    assert_eq!(v["call_id"], "esc01.239409asdfakjkn23onasd0-3234");

    // Two messages back to back on a stream, with a keep-alive between them.
    let second = std::fs::read(path("rfc4475", "lwsdisp")).expect("read");
    let mut stream = msg.clone();
    stream.extend_from_slice(b"\r\n\r\n");
    stream.extend_from_slice(&second);
    let out = lint(&["--stream", "-"], Some(&stream));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("-#1: OK INVITE esc01"), "{text}");
    assert!(text.contains("-#2: OK OPTIONS lwsdisp"), "{text}");

    // A stream message without Content-Length is an error; so is a truncated one.
    let inv2543 = std::fs::read(path("rfc4475", "inv2543")).expect("read");
    let out = lint(&["--stream", "--json", "-"], Some(&inv2543));
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["code"], 400);
    let out = lint(&["--stream", "-"], Some(&msg[..msg.len() - 10]));
    assert_eq!(out.status.code(), Some(1));
}
