//! Helpers shared by the transport tests.

use std::time::Duration;

use sip_core::StatusCode;
use sip_test::msg;
use sip_transport::{Received, Transports};

/// The next message `t` receives (5 s at most).
pub(crate) async fn next(t: &mut Transports) -> Received {
    tokio::time::timeout(Duration::from_secs(5), t.recv())
        .await
        .expect("message in time")
        .expect("open")
}

/// Answers `rx` with a 200 from `t`, back where it came from.
pub(crate) async fn reply_ok(t: &Transports, rx: &Received) {
    t.send(
        rx.transport,
        rx.source,
        msg::reply(&rx.message, StatusCode::OK, "b").to_bytes(),
    )
    .await
    .expect("respond");
}
