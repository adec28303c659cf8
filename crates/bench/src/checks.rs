//! After the clock stops: did the wallet keep its books? The same property is
//! checked on two paths — the store's own audit recomputes every balance from
//! the journal, and the bench compares every account's balance, read through
//! the API, with what it knows it credited and withdrew.

use std::sync::Arc;
use std::time::{Duration, Instant};

use freewalker_protocol::api::AccountNo;
use freewalker_protocol::headers;
use freewalker_protocol::signature::VerifyingKey;
use serde::Serialize;

use crate::error::BenchError;
use crate::load::{Answer, Sample};
use crate::plan::{Action, Plan};
use crate::requests;
use crate::setup::{Account, Target, concurrently};

/// How long the payouts may make no progress at all (no frozen balance going
/// down) before the bench gives up waiting for them. Under a load beyond what
/// the payout worker sustains, withdrawals are accepted faster than they are
/// paid out and a backlog drains after the run; that is measured (the settle
/// time is reported), not a failure, as long as it keeps draining.
pub const SETTLE_STALL_MS: u64 = 15_000;
/// The longest the bench waits for the backlog to drain.
pub const SETTLE_WAIT_MS: u64 = 300_000;
/// How often balances are read again while waiting.
pub const SETTLE_POLL_MS: u64 = 250;
/// Mismatching accounts listed in the report (all are counted).
pub const MISMATCHES_LISTED_MAX: usize = 20;
/// Account queries in flight at once while checking.
pub const CHECK_CONCURRENCY: usize = 32;

/// The signature sample.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SignatureCheck {
    pub checked: u64,
    pub failed: u64,
}

/// Verifies the kept answers with the wallet's public key (§2: every response is signed).
pub fn verify_samples(
    samples: &[Sample],
    wallet_public_pem: &str,
) -> Result<SignatureCheck, BenchError> {
    let key = VerifyingKey::from_spki_pem(wallet_public_pem)
        .map_err(|e| BenchError::Wallet(format!("the wallet's public key does not parse: {e}")))?;
    let failed = samples
        .iter()
        .filter(|sample| {
            let get = |name: &str| {
                sample
                    .headers
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
            };
            !headers::parse(get).is_ok_and(|auth| auth.verify(&key, &sample.body).is_ok())
        })
        .count();
    Ok(SignatureCheck {
        checked: samples.len() as u64,
        failed: failed as u64,
    })
}

/// Money moved by the timed phase, per account, counting only what the wallet
/// accepted.
#[derive(Debug, Clone)]
pub struct Moved {
    pub credited_fen: Vec<i64>,
    pub withdrawn_fen: Vec<i64>,
    /// Money requests without an answer whose order was then found and counted.
    pub unknown_resolved: u64,
    /// Withdrawals accepted, each of which ends in a notification (§4.8).
    pub withdrawals: u64,
}

/// Adds up what the accepted recharges and withdrawals moved. A money request
/// that got no answer (a transport error) may still have been applied, so its
/// order is looked up by `out_order_no` before it is counted or not.
pub async fn money_moved(
    target: &Target,
    plan: &Plan,
    accounts: &[Account],
    answers: &[(u32, Answer)],
) -> Result<Moved, BenchError> {
    let users = accounts.len();
    let mut moved = Moved {
        credited_fen: vec![0; users],
        withdrawn_fen: vec![0; users],
        unknown_resolved: 0,
        withdrawals: 0,
    };
    let mut unknown = Vec::new();
    for &(index, answer) in answers {
        let action = plan.actions[index as usize];
        match (action, answer) {
            (Action::Recharge { user, amount_fen }, Answer::OK) => {
                moved.credited_fen[user as usize] += amount_fen
            }
            (Action::Withdraw { user, amount_fen }, Answer::OK) => {
                moved.withdrawn_fen[user as usize] += amount_fen;
                moved.withdrawals += 1;
            }
            (
                Action::Recharge { .. } | Action::Withdraw { .. },
                Answer::Transport | Answer::Invalid,
            ) => unknown.push((index, action)),
            _ => {}
        }
    }
    let target = Arc::new(target.clone());
    let found = concurrently(unknown, CHECK_CONCURRENCY, |(index, action)| {
        let target = target.clone();
        async move {
            let inst = target.names.institution_id.as_str();
            let reply = match action {
                Action::Recharge { .. } => {
                    let q = requests::order_query(inst, Some(target.names.recharge(index)), None);
                    target.client.recharge_query(&q).await?
                }
                _ => {
                    let q = requests::order_query(inst, Some(target.names.withdrawal(index)), None);
                    target.client.withdraw_query(&q).await?
                }
            };
            let status = reply
                .envelope
                .data
                .as_ref()
                .and_then(|d| d["order_status"].as_str())
                .unwrap_or_default()
                .to_owned();
            // A recharge is applied when it is SUCCESS; a withdrawal took the
            // money unless it FAILed (the run's payouts are instant).
            let applied = reply.envelope.is_success()
                && match action {
                    Action::Recharge { .. } => status == "SUCCESS",
                    _ => status != "FAIL",
                };
            Ok::<_, BenchError>((action, applied))
        }
    })
    .await?;
    for (action, applied) in found {
        match (action, applied) {
            (Action::Recharge { user, amount_fen }, true) => {
                moved.credited_fen[user as usize] += amount_fen
            }
            (Action::Withdraw { user, amount_fen }, true) => {
                moved.withdrawn_fen[user as usize] += amount_fen;
                moved.withdrawals += 1;
            }
            _ => continue,
        }
        moved.unknown_resolved += 1;
    }
    Ok(moved)
}

/// An account whose balance is not what the bench put there.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BalanceMismatch {
    pub account_no: String,
    pub expected_available_fen: i64,
    pub available_fen: i64,
    pub frozen_fen: i64,
}

/// The balance check.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BalanceCheck {
    pub accounts_checked: u64,
    /// Accounts whose available balance differs or whose frozen balance is not zero.
    pub mismatched: u64,
    /// Of those, accounts whose available balance is not what the bench put
    /// there: money created or lost.
    pub wrong_available: u64,
    /// Of those, accounts whose available balance is right but some of whose
    /// withdrawals were still frozen (not paid out) when the bench stopped waiting:
    /// the payout path did not keep up.
    pub unsettled: u64,
    /// The first [`MISMATCHES_LISTED_MAX`] of them, wrong available balances first.
    pub mismatches: Vec<BalanceMismatch>,
    /// How long it took for every frozen balance to reach zero, in ms (`None`
    /// if some were still frozen when the bench stopped waiting).
    pub settled_after_ms: Option<u64>,
    /// Money requests without an answer whose order was found and counted.
    pub unknown_outcomes_resolved: u64,
}

/// Fen from an amount as the wallet prints it (`"0.00"`, `"123.45"`).
pub fn parse_fen(text: &str) -> Option<i64> {
    let (yuan, cents) = text.split_once('.')?;
    if cents.len() != 2
        || yuan.is_empty()
        || !yuan
            .bytes()
            .chain(cents.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some(yuan.parse::<i64>().ok()? * 100 + cents.parse::<i64>().ok()?)
}

/// `(available, frozen)` of an account, through §4.7.
async fn balances(target: Arc<Target>, account_no: AccountNo) -> Result<(i64, i64), BenchError> {
    let request = requests::account_query(&target.names.institution_id, account_no.clone());
    let reply = target.client.account_query(&request).await?;
    let data = reply
        .envelope
        .data
        .as_ref()
        .filter(|_| reply.envelope.is_success())
        .ok_or_else(|| {
            BenchError::Setup(format!(
                "account query of {} answered {} {}",
                account_no.as_str(),
                reply.ret_code(),
                reply.envelope.ret_msg
            ))
        })?;
    let amount = |field: &str| {
        data[field].as_str().and_then(parse_fen).ok_or_else(|| {
            BenchError::Setup(format!(
                "account query of {}: {field} is not an amount",
                account_no.as_str()
            ))
        })
    };
    Ok((amount("available_balance")?, amount("frozen_balance")?))
}

/// Reads every account until no balance is frozen (or the payouts stall for
/// [`SETTLE_STALL_MS`], or [`SETTLE_WAIT_MS`] pass), then compares with setup +
/// `moved`.
pub async fn check_balances(
    target: &Target,
    accounts: &[Account],
    moved: &Moved,
) -> Result<BalanceCheck, BenchError> {
    let target = Arc::new(target.clone());
    let started = Instant::now();
    let mut progress_at = Instant::now();
    let mut frozen_total = i64::MAX;
    let mut read: Vec<Option<(i64, i64)>> = vec![None; accounts.len()];
    let settled_after_ms = loop {
        let pending: Vec<usize> = (0..accounts.len())
            .filter(|&i| read[i].is_none_or(|(_, frozen)| frozen != 0))
            .collect();
        if pending.is_empty() {
            break Some(started.elapsed().as_millis() as u64);
        }
        if started.elapsed() >= Duration::from_millis(SETTLE_WAIT_MS)
            || progress_at.elapsed() >= Duration::from_millis(SETTLE_STALL_MS)
        {
            break None;
        }
        let fresh = concurrently(pending.clone(), CHECK_CONCURRENCY, |i| {
            balances(target.clone(), accounts[i].account_no.clone())
        })
        .await?;
        let still_frozen = fresh.iter().any(|(_, frozen)| *frozen != 0);
        for (i, b) in pending.into_iter().zip(fresh) {
            read[i] = Some(b);
        }
        let now_frozen: i64 = read.iter().flatten().map(|(_, frozen)| frozen).sum();
        if now_frozen < frozen_total {
            frozen_total = now_frozen;
            progress_at = Instant::now();
        }
        if still_frozen {
            tokio::time::sleep(Duration::from_millis(SETTLE_POLL_MS)).await;
        }
    };

    let mut check = BalanceCheck {
        accounts_checked: accounts.len() as u64,
        mismatched: 0,
        wrong_available: 0,
        unsettled: 0,
        mismatches: Vec::new(),
        settled_after_ms,
        unknown_outcomes_resolved: moved.unknown_resolved,
    };
    let mut unsettled = Vec::new();
    for (i, account) in accounts.iter().enumerate() {
        let (available_fen, frozen_fen) = read[i].unwrap_or_default();
        let expected_available_fen = account.credited_fen + moved.credited_fen[i]
            - account.withdrawn_fen
            - moved.withdrawn_fen[i];
        let mismatch = BalanceMismatch {
            account_no: account.account_no.as_str().to_owned(),
            expected_available_fen,
            available_fen,
            frozen_fen,
        };
        if available_fen != expected_available_fen {
            check.wrong_available += 1;
            if check.mismatches.len() < MISMATCHES_LISTED_MAX {
                check.mismatches.push(mismatch);
            }
        } else if frozen_fen != 0 {
            check.unsettled += 1;
            unsettled.push(mismatch);
        }
    }
    check.mismatched = check.wrong_available + check.unsettled;
    let room = MISMATCHES_LISTED_MAX - check.mismatches.len();
    check.mismatches.extend(unsettled.into_iter().take(room));
    Ok(check)
}

/// The store's audit (`freewalker ledger verify`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LedgerCheck {
    pub accounts_checked: u64,
    pub entries_checked: u64,
    pub postings_checked: u64,
    pub mismatches: u64,
    /// The first [`MISMATCHES_LISTED_MAX`] mismatches, as the audit words them.
    pub details: Vec<String>,
}

pub async fn verify_ledger(target: &Target) -> Result<LedgerCheck, BenchError> {
    let report = target.store.verify_ledger().await?;
    Ok(LedgerCheck {
        accounts_checked: report.accounts_checked,
        entries_checked: report.entries_checked,
        postings_checked: report.postings_checked,
        mismatches: report.mismatches.len() as u64,
        details: report
            .mismatches
            .iter()
            .take(MISMATCHES_LISTED_MAX)
            .map(|m| format!("{m:?}"))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_to_fen() {
        assert_eq!(parse_fen("0.00"), Some(0));
        assert_eq!(parse_fen("123.45"), Some(12_345));
        assert_eq!(parse_fen("1.5"), None);
        assert_eq!(parse_fen("-1.00"), None);
        assert_eq!(parse_fen("abc"), None);
    }
}
