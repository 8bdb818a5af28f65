//! The accept loop: our own instead of `axum::serve`, because a public search box must shed
//! slow and idle clients (`axum::serve` has no header timeout) and cap open connections.
//!
//! - **Header timeout**: hyper closes a connection whose request head has not fully arrived
//!   within `header_timeout` — a slowloris client trickling one header byte a second is cut off,
//!   and so is a keep-alive connection idle for that long.
//! - **Connection cap**: at most `max_connections` are served at once; further clients wait in
//!   the kernel's accept backlog instead of costing us a task and buffers each.
//! - **Graceful shutdown**: on the signal, stop accepting, let in-flight requests finish (each
//!   connection is told to close after its current response), then return.

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// How connections are treated.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Longest wait for a complete request head (also bounds keep-alive idleness).
    pub header_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

/// Serve `app` on `listener` until `shutdown` resolves, then drain open connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Every connection task holds a receiver: `stop_tx.closed()` resolves when all are gone.
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("semaphore never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, _peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning; the server lives on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        stream.set_nodelay(true).ok();
        let service = TowerToHyperService::new(app.clone());
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => log_conn_end(r),
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    log_conn_end(conn.await);
                }
            }
        });
    }
    drop(listener);
    stop_tx.send_replace(true);
    drop(stop_rx);
    stop_tx.closed().await;
    Ok(())
}

fn log_conn_end(r: Result<(), hyper::Error>) {
    if let Err(e) = r {
        // Timeouts, resets and malformed requests are the client's business, not an outage.
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
