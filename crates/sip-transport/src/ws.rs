//! SIP over WebSocket (RFC 7118): the `sip` subprotocol is required, and
//! each WebSocket message carries exactly one SIP message.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use sip_core::{Message, Mode};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::Message as WsMessage;

use crate::{Shared, Transport};

const SUBPROTOCOL: &str = "sip";

fn offers_sip(req: &Request) -> bool {
    req.headers()
        .get_all("Sec-WebSocket-Protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(SUBPROTOCOL))
}

/// The handshake callback: the request must offer `sip`; we answer with it.
#[allow(clippy::result_large_err)] // the error type is fixed by tungstenite's Callback
fn require_sip(req: &Request, mut resp: Response) -> Result<Response, ErrorResponse> {
    if !offers_sip(req) {
        let mut err = ErrorResponse::new(Some("the sip subprotocol is required (RFC 7118)".into()));
        *err.status_mut() = StatusCode::BAD_REQUEST;
        return Err(err);
    }
    resp.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    Ok(resp)
}

/// Server side of the handshake.
pub(crate) async fn accept<S>(stream: S) -> Option<WebSocketStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    tokio_tungstenite::accept_hdr_async(stream, require_sip)
        .await
        .ok()
}

/// Client side: offer `sip` and insist on getting it.
pub(crate) async fn connect<S>(stream: S, url: &str) -> Option<WebSocketStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request().ok()?;
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let (ws, resp) = tokio_tungstenite::client_async(req, stream).await.ok()?;
    let agreed = resp
        .headers()
        .get("Sec-WebSocket-Protocol")
        .and_then(|v| v.to_str().ok())
        == Some(SUBPROTOCOL);
    agreed.then_some(ws)
}

/// Registers a WebSocket connection and starts its tasks.
pub(crate) fn spawn<S>(
    ws: WebSocketStream<S>,
    transport: Transport,
    peer: SocketAddr,
    local: SocketAddr,
    shared: Arc<Shared>,
) -> Option<mpsc::Sender<Bytes>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Bytes>(256);
    let id = shared.admit(transport, peer, tx.clone())?;
    let (mut sink, mut stream) = ws.split();
    tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            let msg = match std::str::from_utf8(&bytes) {
                Ok(text) => WsMessage::Text(text.into()),
                Err(_) => WsMessage::Binary(bytes),
            };
            if sink.send(msg).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    tokio::spawn(async move {
        let limits = shared.config.limits;
        let idle = shared.config.idle_timeout;
        let closed = shared.closed();
        tokio::pin!(closed);
        loop {
            let read = tokio::select! {
                () = &mut closed => break,
                r = tokio::time::timeout(idle, stream.next()) => r,
            };
            let next = match read {
                Ok(Some(Ok(m))) => m,
                _ => break,
            };
            let data = match next {
                WsMessage::Text(t) => Bytes::copy_from_slice(t.as_bytes()),
                WsMessage::Binary(b) => b,
                WsMessage::Close(_) => break,
                _ => continue, // ping/pong are answered by the library
            };
            if data.len() > limits.max_message_bytes {
                break;
            }
            match Message::parse_with(data, Mode::Datagram, &limits) {
                Ok(message) => {
                    if !shared.deliver(id, message, transport, peer, local).await {
                        break;
                    }
                }
                Err(e) => tracing::debug!(%peer, %e, "dropping malformed WebSocket message"),
            }
        }
        shared.forget(id);
    });
    Some(tx)
}
