//! Helpers shared by the binary's integration tests (each test binary
//! uses a part of them).
#![allow(dead_code)]

use std::net::{TcpListener, UdpSocket};

/// A port free for both UDP and TCP on 127.0.0.1.
pub(crate) fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = tcp.local_addr().expect("addr").port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A cumulative counter from the last row of a SIPp `-trace_stat` file.
pub(crate) fn sipp_counter(csv: &str, name: &str) -> Option<u64> {
    let header: Vec<&str> = csv.lines().next()?.split(';').collect();
    let last: Vec<&str> = csv.lines().last()?.split(';').collect();
    header
        .iter()
        .position(|h| *h == name)
        .and_then(|i| last.get(i))
        .and_then(|v| v.parse().ok())
}

pub(crate) fn which(cmd: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(cmd))
            .find(|p| p.is_file())
    })
}
