//! One stream connection: a writer task fed by a channel and a reader that
//! frames messages (sip-core's two phases) in a bounded buffer.

use std::sync::Arc;

use std::net::SocketAddr;

use bytes::{Buf, Bytes, BytesMut};
use sip_core::framing::{self, Frame};
use sip_core::{Message, Mode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::{Shared, Transport};

/// Registers and starts a stream connection (TCP or TLS); `None` (and the
/// stream dropped, which closes it) when a limit is reached.
pub(crate) fn spawn<S>(
    stream: S,
    transport: Transport,
    peer: SocketAddr,
    local: SocketAddr,
    shared: Arc<Shared>,
) -> Option<mpsc::Sender<Bytes>>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Bytes>(256);
    let id = shared.admit(transport, peer, tx.clone())?;
    let (mut reader, mut writer) = tokio::io::split(stream);
    tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() || writer.flush().await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });
    let pong_tx = tx.clone();
    tokio::spawn(async move {
        let limits = shared.config.limits;
        let idle = shared.config.idle_timeout;
        let mut buf = BytesMut::with_capacity(8192);
        let closed = shared.closed();
        tokio::pin!(closed);
        'conn: loop {
            // Phase 1 and 2: frame every whole message already buffered.
            loop {
                match framing::frame_stream(&buf, &limits) {
                    Ok(Frame::Message(n)) => {
                        let bytes = buf.split_to(n).freeze();
                        match Message::parse_with(bytes, Mode::Stream, &limits) {
                            Ok(message) => {
                                if !shared.deliver(id, message, transport, peer, local).await {
                                    break 'conn;
                                }
                            }
                            Err(e) => tracing::debug!(%peer, %e, "dropping malformed message"),
                        }
                    }
                    Ok(Frame::Ping(n)) => {
                        buf.advance(n);
                        let _ = pong_tx.send(Bytes::from_static(b"\r\n")).await; // RFC 5626 §3.5.1
                    }
                    Ok(Frame::Pong(n)) => {
                        buf.advance(n);
                        shared.pong(id);
                    }
                    Ok(Frame::Incomplete) => break,
                    Err(e) => {
                        // Unframeable: nothing after this can be trusted.
                        tracing::info!(%peer, %e, "closing connection on framing error");
                        break 'conn;
                    }
                }
            }
            if buf.len() > limits.max_message_bytes {
                break;
            }
            buf.reserve(4096);
            let read = tokio::select! {
                () = &mut closed => break,
                r = tokio::time::timeout(idle, reader.read_buf(&mut buf)) => r,
            };
            match read {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                Ok(Ok(_)) => {}
            }
        }
        shared.forget(id);
        // Dropping the sender ends the writer task, which closes the socket.
    });
    Some(tx)
}
