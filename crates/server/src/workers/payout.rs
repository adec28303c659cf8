//! The payout worker: drives withdrawals `INIT → PROCESSING → SUCCESS | FAIL`
//! through a [`PayoutChannel`].
//!
//! It claims orders from the table with a lease, so any number of wallet
//! processes can run it; an order whose worker died is claimed again once its
//! lease runs out, and handed to the channel again. Channels must therefore be
//! idempotent by `order_no` (a real bank channel is queried by it). Each
//! settlement — status, ledger entry, balances, notification row — is one
//! transaction in the store.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use freewalker_domain::withdraw::PayoutOutcome;
use freewalker_store::model::WithdrawOrder;
use freewalker_store::{Op, OpError, Output};

use crate::app::AppState;
use crate::settings::PayoutChannelKind;
use crate::workers::Shutdown;

/// Orders claimed per round.
pub const CLAIM_ORDERS_MAX: u32 = 128;
/// Rounds running at once in one process. A round waits for its slowest
/// settlement before claiming again; several rounds keep the channel and the
/// database busy meanwhile (claims never overlap: a claimed order is leased).
pub const ROUNDS_IN_FLIGHT: usize = 4;
/// How long a claimed order is ours before another worker may take it over.
pub const LEASE_MS: i64 = 30_000;
/// How often the worker looks for work when nothing wakes it.
pub const POLL_MS: u64 = 500;
/// How long the manual channel waits before looking at an order again.
const MANUAL_RECHECK_MS: i64 = 3_600_000;

/// What a channel says about an order handed to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelAnswer {
    /// The payout ended.
    Settled(PayoutOutcome),
    /// Not yet: look again at `recheck_at_ms` (or when an operator settles it).
    Pending { recheck_at_ms: i64 },
}

/// Where payouts are made. Implementations must be idempotent by `order_no`.
pub trait PayoutChannel: Send + Sync + std::fmt::Debug {
    /// Hands over (or asks again about) an order.
    fn submit<'a>(
        &'a self,
        order: &'a WithdrawOrder,
        now_ms: i64,
    ) -> Pin<Box<dyn Future<Output = ChannelAnswer> + Send + 'a>>;
}

/// Pays every order at once (the default).
#[derive(Debug)]
pub struct InstantChannel;

impl PayoutChannel for InstantChannel {
    fn submit<'a>(
        &'a self,
        _order: &'a WithdrawOrder,
        _now_ms: i64,
    ) -> Pin<Box<dyn Future<Output = ChannelAnswer> + Send + 'a>> {
        Box::pin(async { ChannelAnswer::Settled(PayoutOutcome::Success) })
    }
}

/// Holds every order until an operator runs `freewalker withdraw complete|fail`.
#[derive(Debug)]
pub struct ManualChannel;

impl PayoutChannel for ManualChannel {
    fn submit<'a>(
        &'a self,
        _order: &'a WithdrawOrder,
        now_ms: i64,
    ) -> Pin<Box<dyn Future<Output = ChannelAnswer> + Send + 'a>> {
        Box::pin(async move {
            ChannelAnswer::Pending {
                recheck_at_ms: now_ms + MANUAL_RECHECK_MS,
            }
        })
    }
}

/// A sandbox channel: settles `delay_ms` after the order was created; fails a
/// share `failure_rate` of orders, chosen by a hash of the order number so the
/// same order always gets the same answer.
#[derive(Debug)]
pub struct SimulatedChannel {
    pub delay_ms: i64,
    pub failure_rate: f64,
}

/// FNV-1a: a fixed, dependency-free hash (std's hasher is randomly seeded).
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl PayoutChannel for SimulatedChannel {
    fn submit<'a>(
        &'a self,
        order: &'a WithdrawOrder,
        now_ms: i64,
    ) -> Pin<Box<dyn Future<Output = ChannelAnswer> + Send + 'a>> {
        Box::pin(async move {
            let due = order.created_at_ms + self.delay_ms;
            if now_ms < due {
                return ChannelAnswer::Pending { recheck_at_ms: due };
            }
            let draw = (stable_hash(&order.order_no) % 10_000) as f64 / 10_000.0;
            if draw < self.failure_rate {
                ChannelAnswer::Settled(PayoutOutcome::Fail {
                    reason: "simulated payout failure".into(),
                })
            } else {
                ChannelAnswer::Settled(PayoutOutcome::Success)
            }
        })
    }
}

/// The channel the settings choose.
pub fn channel_for(kind: &PayoutChannelKind) -> Arc<dyn PayoutChannel> {
    match kind {
        PayoutChannelKind::Instant => Arc::new(InstantChannel),
        PayoutChannelKind::Manual => Arc::new(ManualChannel),
        PayoutChannelKind::Simulated {
            delay_ms,
            failure_rate,
        } => Arc::new(SimulatedChannel {
            delay_ms: *delay_ms,
            failure_rate: *failure_rate,
        }),
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PayoutRound {
    pub claimed: usize,
    pub settled: usize,
    pub pending: usize,
}

/// What became of one claimed order.
enum Handled {
    Settled,
    Pending,
    Skipped,
}

/// The worker.
#[derive(Debug, Clone)]
pub struct PayoutWorker {
    state: AppState,
    channel: Arc<dyn PayoutChannel>,
}

impl PayoutWorker {
    pub fn new(state: AppState, channel: Arc<dyn PayoutChannel>) -> Self {
        Self { state, channel }
    }

    /// Claims what is due and hands it to the channel; returns what it did.
    /// Tests call this to drain the queue instead of waiting.
    pub async fn run_once(&self) -> Result<PayoutRound, OpError> {
        let Output::Payouts(orders) = self
            .state
            .run_op(Op::ClaimPayouts {
                limit: CLAIM_ORDERS_MAX,
                lease_ms: LEASE_MS,
            })
            .await?
        else {
            return Ok(PayoutRound::default());
        };
        let mut round = PayoutRound {
            claimed: orders.len(),
            ..PayoutRound::default()
        };
        // Every claimed order at once: the channel calls overlap, and the
        // settlements queue together, so they share a transaction and a commit.
        let mut handling = tokio::task::JoinSet::new();
        for order in orders {
            let worker = self.clone();
            handling.spawn(async move { worker.hand_over(order).await });
        }
        let mut failure = None;
        while let Some(done) = handling.join_next().await {
            match done {
                Ok(Ok(Handled::Settled)) => round.settled += 1,
                Ok(Ok(Handled::Pending)) => round.pending += 1,
                Ok(Ok(Handled::Skipped)) => {}
                Ok(Err(e)) => failure = Some(e),
                Err(e) => {
                    failure = Some(OpError::Store(freewalker_store::StoreError::Database(
                        format!("payout task failed: {e}"),
                    )))
                }
            }
        }
        if round.settled > 0 {
            self.state.wake_notifications.notify_one();
        }
        match failure {
            // The orders not settled keep their lease and are taken up again.
            Some(e) => Err(e),
            None => Ok(round),
        }
    }

    /// Hands one claimed order to the channel and records what it said.
    async fn hand_over(&self, order: WithdrawOrder) -> Result<Handled, OpError> {
        match self
            .channel
            .submit(&order, self.state.clock.now_millis())
            .await
        {
            ChannelAnswer::Settled(outcome) => {
                let result = self
                    .state
                    .run_op(Op::SettleWithdrawal {
                        order_no: order.order_no.clone(),
                        account_no: order.terms.account_no.clone(),
                        outcome: outcome.clone(),
                    })
                    .await;
                match result {
                    Ok(_) => {
                        metrics::counter!("freewalker_payouts_total", "status" => outcome.status().as_str()).increment(1);
                        tracing::info!(order_no = %order.order_no, status = outcome.status().as_str(), "withdrawal settled");
                        Ok(Handled::Settled)
                    }
                    // An operator settled it the other way meanwhile: theirs stands.
                    Err(OpError::InvalidTransition { .. }) => Ok(Handled::Skipped),
                    Err(e) => Err(e),
                }
            }
            ChannelAnswer::Pending { recheck_at_ms } => {
                self.state
                    .run_op(Op::ExtendPayoutLease {
                        order_no: order.order_no.clone(),
                        lease_until_ms: recheck_at_ms,
                    })
                    .await?;
                Ok(Handled::Pending)
            }
        }
    }
    /// Runs [`ROUNDS_IN_FLIGHT`] loops of rounds until `shutdown` fires.
    pub async fn run(self, shutdown: Shutdown) {
        let mut loops = tokio::task::JoinSet::new();
        for _ in 0..ROUNDS_IN_FLIGHT {
            loops.spawn(self.clone().run_rounds(shutdown.clone()));
        }
        while loops.join_next().await.is_some() {}
    }

    async fn run_rounds(self, shutdown: Shutdown) {
        loop {
            let busy = match self.run_once().await {
                Ok(round) => round.claimed as u32 == CLAIM_ORDERS_MAX,
                Err(e) => {
                    tracing::error!(error = %e, "payout round failed");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = self.state.wake_payouts.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(POLL_MS)) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use freewalker_domain::fx::Rate;
    use freewalker_domain::withdraw::WithdrawTerms;
    use freewalker_protocol::api::{BranchInfo, OrderStatus};
    use freewalker_protocol::currency::Currency;

    fn order(order_no: &str, created_at_ms: i64) -> WithdrawOrder {
        WithdrawOrder {
            order_no: order_no.into(),
            institution_id: "I".into(),
            out_order_no: "O".into(),
            terms: WithdrawTerms {
                account_no: "8000000000000011".into(),
                amount_fen: 100,
                currency: Currency::CNY,
                target_currency: Currency::CNY,
                branch: BranchInfo {
                    branch_no: "B".into(),
                    branch_name: "N".into(),
                    branch_address: "A".into(),
                },
            },
            target_amount_minor: 100,
            rate: Rate::IDENTITY,
            rate_set_at_ms: 0,
            notify_url: None,
            remark: None,
            status: OrderStatus::Processing,
            fail_reason: None,
            created_at_ms,
            updated_at_ms: created_at_ms,
            success_at_ms: None,
        }
    }

    #[tokio::test]
    async fn the_simulated_channel_waits_then_answers_the_same_way_every_time() {
        let always_fail = SimulatedChannel {
            delay_ms: 2_000,
            failure_rate: 1.0,
        };
        let o = order("W1", 10_000);
        assert_eq!(
            always_fail.submit(&o, 11_999).await,
            ChannelAnswer::Pending {
                recheck_at_ms: 12_000
            }
        );
        assert!(matches!(
            always_fail.submit(&o, 12_000).await,
            ChannelAnswer::Settled(PayoutOutcome::Fail { .. })
        ));
        let never_fail = SimulatedChannel {
            delay_ms: 0,
            failure_rate: 0.0,
        };
        assert_eq!(
            never_fail.submit(&o, 0).await,
            ChannelAnswer::Pending {
                recheck_at_ms: 10_000
            }
        );
        assert_eq!(
            never_fail.submit(&o, 10_000).await,
            ChannelAnswer::Settled(PayoutOutcome::Success)
        );

        // A share of about `failure_rate` fails, and an order's answer never changes.
        let some_fail = SimulatedChannel {
            delay_ms: 0,
            failure_rate: 0.3,
        };
        let mut failed = 0;
        for i in 0..1_000 {
            let o = order(&format!("W2026112600000000{i:04}"), 0);
            let first = some_fail.submit(&o, 0).await;
            assert_eq!(some_fail.submit(&o, 5).await, first);
            failed += usize::from(matches!(
                first,
                ChannelAnswer::Settled(PayoutOutcome::Fail { .. })
            ));
        }
        assert!(
            (200..400).contains(&failed),
            "{failed} of 1000 failed at a rate of 0.3"
        );
    }
}
