//! Background work: payouts, notification delivery and housekeeping. Each
//! worker claims its work from tables, so it can run in any number of wallet
//! processes; each has a `run_once` that tests call to drain it.

pub mod notify;
pub mod payout;

use std::time::Duration;

use freewalker_store::Op;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::app::AppState;

/// Cloneable; `wait` resolves once the [`Trigger`] fired.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// Fires the shutdown.
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

/// A new shutdown signal.
pub fn shutdown_channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger(tx), Shutdown(rx))
}

impl Trigger {
    pub fn fire(&self) {
        let _ = self.0.send(true);
    }
}

impl Shutdown {
    pub async fn wait(&self) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|fired| *fired).await;
    }
}

/// How often expired nonces are purged.
pub const NONCE_PURGE_MS: u64 = 60_000;
/// How often the metrics exporter does its upkeep.
pub const METRICS_UPKEEP_MS: u64 = 5_000;

/// Starts every background worker; they stop when `shutdown` fires.
pub fn spawn_all(state: &AppState, shutdown: Shutdown) -> Result<JoinSet<()>, reqwest::Error> {
    let mut set = JoinSet::new();
    let channel = payout::channel_for(&state.settings.payout_channel);
    set.spawn(payout::PayoutWorker::new(state.clone(), channel).run(shutdown.clone()));
    set.spawn(notify::NotifyWorker::new(state.clone())?.run(shutdown.clone()));
    let s = state.clone();
    let sd = shutdown.clone();
    set.spawn(async move {
        loop {
            tokio::select! {
                _ = sd.wait() => return,
                _ = tokio::time::sleep(Duration::from_millis(NONCE_PURGE_MS)) => {}
            }
            if let Err(e) = s.run_op(Op::PurgeNonces).await {
                tracing::warn!(error = %e, "nonce purge failed");
            }
        }
    });
    let s = state.clone();
    set.spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(Duration::from_millis(METRICS_UPKEEP_MS)) => s.metrics.upkeep(),
            }
        }
    });
    Ok(set)
}
