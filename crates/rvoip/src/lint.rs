//! `rvoip sip lint`: the parser's verdict on captured messages.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use bytes::Bytes;
use sip_core::validate;
use sip_core::{Error, Frame, Limits, Mode};

/// Arguments of `rvoip sip lint`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Treat each input as a TCP/TLS byte stream (Content-Length required;
    /// several messages may follow each other) instead of one UDP datagram.
    #[arg(long)]
    stream: bool,
    /// One JSON object per message instead of text.
    #[arg(long)]
    json: bool,
    /// Files to check; `-` reads standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

enum Verdict {
    Ok { what: String, call_id: String },
    Err(Error),
}

fn verdict(bytes: Bytes, mode: Mode) -> Verdict {
    match validate::verdict(bytes, mode, &Limits::default()) {
        Ok(msg) => {
            let what = match (msg.method(), msg.status()) {
                (Some(m), _) => m.to_string(),
                (None, Some(s)) => s.to_string(),
                (None, None) => String::new(),
            };
            Verdict::Ok {
                what,
                call_id: msg.call_id().unwrap_or("").to_owned(),
            }
        }
        Err(e) => Verdict::Err(e),
    }
}

/// Splits a stream into messages; an undecodable tail becomes an error verdict.
fn stream_verdicts(data: Bytes) -> Vec<Verdict> {
    let limits = Limits::default();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        match sip_core::framing::frame_stream(&data[pos..], &limits) {
            Ok(Frame::Ping(n) | Frame::Pong(n)) => pos += n,
            Ok(Frame::Message(n)) => {
                out.push(verdict(data.slice(pos..pos + n), Mode::Stream));
                pos += n;
            }
            Ok(Frame::Incomplete) => {
                if !data[pos..].iter().all(|b| b.is_ascii_whitespace()) {
                    out.push(Verdict::Err(Error::bad_request("Incomplete message")));
                }
                break;
            }
            Err(e) => {
                out.push(Verdict::Err(e));
                break;
            }
        }
    }
    if out.is_empty() {
        out.push(Verdict::Err(Error::bad_request("Empty input")));
    }
    out
}

fn json_escape(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let mut any_invalid = false;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in &args.files {
        let name = path.display().to_string();
        let data = if name == "-" {
            let mut v = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut v) {
                eprintln!("rvoip sip lint: cannot read standard input: {e}");
                return ExitCode::from(2);
            }
            v
        } else {
            match std::fs::read(path) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("rvoip sip lint: cannot read {name}: {e}");
                    return ExitCode::from(2);
                }
            }
        };
        let data = Bytes::from(data);
        let verdicts = if args.stream {
            stream_verdicts(data)
        } else {
            vec![verdict(data, Mode::Datagram)]
        };
        let many = verdicts.len() > 1;
        for (i, v) in verdicts.into_iter().enumerate() {
            let label = if many {
                format!("{name}#{}", i + 1)
            } else {
                name.clone()
            };
            let line = match (&v, args.json) {
                (Verdict::Ok { what, call_id }, false) => format!("{label}: OK {what} {call_id}"),
                (Verdict::Err(e), false) => format!("{label}: ERROR {} {}", e.status(), e.reason()),
                (Verdict::Ok { what, call_id }, true) => format!(
                    "{{\"file\":{},\"ok\":true,\"message\":{},\"call_id\":{}}}",
                    json_escape(&label),
                    json_escape(what),
                    json_escape(call_id)
                ),
                (Verdict::Err(e), true) => format!(
                    "{{\"file\":{},\"ok\":false,\"code\":{},\"reason\":{}}}",
                    json_escape(&label),
                    e.status(),
                    json_escape(e.reason())
                ),
            };
            any_invalid |= matches!(v, Verdict::Err(_));
            if writeln!(out, "{line}").is_err() {
                return ExitCode::from(2);
            }
        }
    }
    if any_invalid {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
