//! The listening socket and each connection: `TCP_NODELAY`, and JSON bodies for the errors
//! that hyper answers by itself.
//!
//! A request line longer than 65,534 bytes (`414`), headers over hyper's buffer (`431`) or a
//! request that is not HTTP (`400`) never reach the router: hyper writes a bare status line
//! with `content-length: 0` and closes the connection. Every other error of this server is a
//! JSON body `{"code", "description"}`, and clients (and operators reading logs) should not
//! have to know which layer refused them. So each connection's writes are watched for exactly
//! that canned response, which is recognisable (one of those three statuses and no
//! `content-type`, which every response of the router carries when it is an error), and it is
//! replaced by the same status with a JSON body. Nothing else is touched.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose connections answer hyper's own parse errors in JSON.
pub struct JsonErrorsListener(pub TcpListener);

impl axum::serve::Listener for JsonErrorsListener {
    type Io = JsonErrors<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.0).await;
        // Small responses (tiles, 304s) go out at once rather than waiting on Nagle.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("could not set TCP_NODELAY: {e}");
        }
        (JsonErrors::new(stream), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection whose canned hyper error responses are rewritten as JSON (see the module).
pub struct JsonErrors<S> {
    inner: S,
    /// The rewritten response still to be written, and how much of it has been.
    pending: Option<(Vec<u8>, usize)>,
}

impl<S> JsonErrors<S> {
    pub fn new(inner: S) -> JsonErrors<S> {
        JsonErrors {
            inner,
            pending: None,
        }
    }
}

/// The JSON response that replaces `head` when it is hyper's canned parse-error response.
///
/// ```
/// use amis_webgis::connection::rewrite_canned_error;
/// let canned = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Thu, 26 Nov 2026 04:00:00 GMT\r\n\r\n";
/// let json = String::from_utf8(rewrite_canned_error(canned).unwrap()).unwrap();
/// assert!(json.starts_with("HTTP/1.1 414 URI Too Long\r\n"));
/// assert!(json.contains("content-type: application/json"));
/// assert!(json.contains("\"code\":\"URITooLong\""));
/// // A response of the router is never touched.
/// assert!(rewrite_canned_error(b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}").is_none());
/// ```
pub fn rewrite_canned_error(head: &[u8]) -> Option<Vec<u8>> {
    let (status, code, description) = if head.starts_with(b"HTTP/1.1 414 ") {
        (
            "414 URI Too Long",
            "URITooLong",
            "the request line is longer than 65,534 bytes; shorten the query (filters and bbox) or split it into several requests",
        )
    } else if head.starts_with(b"HTTP/1.1 431 ") {
        (
            "431 Request Header Fields Too Large",
            "HeadersTooLarge",
            "the request's headers are larger than the server accepts (about 400 KB in all, at most 100 headers)",
        )
    } else if head.starts_with(b"HTTP/1.1 400 ") {
        (
            "400 Bad Request",
            "MalformedRequest",
            "the request is not valid HTTP/1.1 (its method, target, version or a header could not be parsed)",
        )
    } else {
        return None;
    };
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    let lower = head[..end].to_ascii_lowercase();
    let has = |name: &[u8]| lower.windows(name.len()).any(|w| w == name);
    if has(b"\r\ncontent-type:") || !has(b"\r\ncontent-length: 0") {
        return None;
    }
    let body = serde_json::json!({ "code": code, "description": description }).to_string();
    Some(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<S: AsyncWrite + Unpin> JsonErrors<S> {
    /// Writes what is left of a rewritten response.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `head` in place of hyper's write when it is a canned error: the rewritten response
    /// is written instead, and hyper is told its bytes went out.
    fn poll_rewrite(
        &mut self,
        cx: &mut Context<'_>,
        head: &[u8],
    ) -> Option<Poll<io::Result<usize>>> {
        let replacement = rewrite_canned_error(head)?;
        self.pending = Some((replacement, 0));
        Some(match self.poll_pending(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            // Pending bytes are finished by the flush or shutdown hyper does next.
            _ => Poll::Ready(Ok(head.len())),
        })
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonErrors<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonErrors<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(done) = self.poll_rewrite(cx, buf) {
            return done;
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        // hyper's canned response is a head with no body: all of it in the first slice.
        if let Some(first) = bufs.iter().find(|b| !b.is_empty())
            && bufs.iter().filter(|b| !b.is_empty()).count() == 1
            && let Some(done) = self.poll_rewrite(cx, first)
        {
            return done;
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The peer address of a connection, for what is logged per client (refused writes).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, JsonErrorsListener>>
    for ClientAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, JsonErrorsListener>) -> ClientAddr {
        ClientAddr(*stream.remote_addr())
    }
}
