//! The bench is an institution, so it receives the withdraw result
//! notifications of its withdrawals (§4.8): a small server that verifies each
//! one with the wallet's key and acknowledges it. Without it the wallet would
//! keep retrying undeliverable notifications for a day after every run.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use freewalker_protocol::signature::VerifyingKey;
use freewalker_sdk::notification;
use tokio::sync::oneshot;

use crate::error::BenchError;
use crate::setup::now_ms;

/// The path the wallet posts to.
pub const NOTIFY_PATH: &str = "/notify";
/// How often [`Receiver::wait_for`] looks at the counts.
const NOTIFY_POLL_MS: u64 = 100;

/// What arrived.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NotifyCounts {
    /// Notifications whose signature and body verified.
    pub verified: u64,
    /// Notifications refused (bad signature, timestamp or body): answered 400.
    pub rejected: u64,
    /// Distinct `(order_no, order_status)` among the verified (§4.8: delivery is
    /// at least once).
    pub distinct: u64,
}

#[derive(Debug)]
struct Inner {
    wallet_key: VerifyingKey,
    counts: Mutex<(NotifyCounts, HashSet<(String, String)>)>,
}

/// The running receiver; stops when dropped.
#[derive(Debug)]
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    _stop: oneshot::Sender<()>,
}

impl Receiver {
    /// Starts listening on `listen` (port 0 for any).
    pub async fn start(
        listen: SocketAddr,
        wallet_public_pem: &str,
    ) -> Result<Receiver, BenchError> {
        let wallet_key = VerifyingKey::from_spki_pem(wallet_public_pem).map_err(|e| {
            BenchError::Wallet(format!("the wallet's public key does not parse: {e}"))
        })?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| BenchError::Usage(format!("--notify-listen {listen}: {e}")))?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            wallet_key,
            counts: Mutex::new((NotifyCounts::default(), HashSet::new())),
        });
        let app = Router::new()
            .route(NOTIFY_PATH, post(receive))
            .with_state(inner.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Receiver {
            addr,
            inner,
            _stop: stop,
        })
    }

    /// The URL the wallet can post to, if it reaches the bench at `addr`.
    pub fn url(&self) -> String {
        format!("http://{}{NOTIFY_PATH}", self.addr)
    }

    pub fn counts(&self) -> NotifyCounts {
        self.inner
            .counts
            .lock()
            .map(|c| c.0.clone())
            .unwrap_or_default()
    }

    /// Waits until `expected` distinct notifications arrived, or `until`.
    pub async fn wait_for(&self, expected: u64, until: Instant) -> NotifyCounts {
        loop {
            let counts = self.counts();
            if counts.distinct >= expected || Instant::now() >= until {
                return counts;
            }
            tokio::time::sleep(Duration::from_millis(NOTIFY_POLL_MS)).await;
        }
    }
}

async fn receive(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let verified = notification::verify(
        &inner.wallet_key,
        |name| headers.get(name).and_then(|v| v.to_str().ok()),
        &body,
        now_ms() / 1000,
    );
    let Ok(mut counts) = inner.counts.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match verified {
        Ok(n) => {
            counts.0.verified += 1;
            if counts.1.insert((
                n.data.order_no.clone(),
                n.data.order_status.as_str().to_owned(),
            )) {
                counts.0.distinct += 1;
            }
            drop(counts);
            (
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                notification::ack(),
            )
                .into_response()
        }
        Err(_) => {
            counts.0.rejected += 1;
            StatusCode::BAD_REQUEST.into_response()
        }
    }
}
