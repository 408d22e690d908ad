//! The fake's network side: a listener that refuses connections during an outage, and
//! the middleware that keeps each call's `Authorization` header (to echo it back).

use axum::extract::State;
use axum::http::header;
use axum::response::Response;

use super::Shared;

/// The listener of the fake: during an outage a connection is accepted and dropped at
/// once, so the client cannot reach the API at all.
pub(super) struct OutageListener {
    pub inner: tokio::net::TcpListener,
    pub state: Shared,
}

impl axum::serve::Listener for OutageListener {
    type Io = tokio::net::TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, address)) = self.inner.accept().await else {
                continue;
            };
            let mut state = self.state.lock().unwrap();
            if state.in_outage() {
                state.outage_hits += 1;
                drop(stream);
                continue;
            }
            return (stream, address);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Keeps the `Authorization` header of each call, for [`Fault::EchoAuthorization`].
pub(super) async fn remember_authorization(
    State(state): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(value) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        state.lock().unwrap().authorization = value.to_string();
    }
    next.run(request).await
}
