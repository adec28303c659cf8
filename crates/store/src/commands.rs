//! The business operations, written once over [`Tx`] for every backend.
//!
//! Each operation follows the same shape: read what it needs, let the domain
//! decide, and only then write. A refusal therefore writes nothing (beyond the
//! nonce claim, which §2 wants recorded), and a database failure aborts the
//! transaction the executor opened, so a command is all-or-nothing.

use freewalker_domain::DomainError;
use freewalker_domain::account_no;
use freewalker_domain::fx::{self, Rate};
use freewalker_domain::limits::LimitTable;
use freewalker_domain::recharge::plan_recharge;
use freewalker_domain::withdraw::{self, PayoutOutcome, plan_freeze, plan_settle};
use freewalker_protocol::amount::format_amount;
use freewalker_protocol::api::{
    KycLevel, OrderStatus, UserStatus, WITHDRAW_RESULT_TOPIC, WithdrawResultData,
    WithdrawResultNotification,
};
use freewalker_protocol::currency::Currency;
use freewalker_protocol::time_format::{cst_date, format_time};

use crate::error::{OpError, StoreError};
use crate::model::{
    DeliveryResult, FxRate, Institution, Notification, NotifyStatus, RechargeOrder, UserRecord,
    WithdrawOrder,
};
use crate::ops::{
    Command, InstitutionInput, Op, OrderRef, Output, RechargeInput, UserSyncInput, WithdrawInput,
};
use crate::tx::{NotificationUpdate, Sequence, Tx, WithdrawTransition};

/// Business settings the operations need.
#[derive(Debug, Clone)]
pub struct Rules {
    /// §5 limits by KYC level.
    pub limits: LimitTable,
    /// A rate older than this is refused with `3007`.
    pub fx_max_age_ms: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            limits: LimitTable::default(),
            fx_max_age_ms: 24 * 3_600_000,
        }
    }
}

/// Runs one command inside the caller's open transaction.
pub async fn execute<T: Tx>(tx: &mut T, cmd: &Command, rules: &Rules) -> Result<Output, OpError> {
    let now = cmd.now_ms;
    if let Some(claim) = &cmd.nonce
        && !tx.claim_nonce(claim, now).await?
    {
        return Err(OpError::NonceUsed);
    }
    match &cmd.op {
        Op::Nothing => Ok(Output::Nothing),
        Op::UserSync(input) => user_sync(tx, input, now).await,
        Op::CustomerSync(input) => {
            if tx
                .account(&input.institution_id, &input.account_no)
                .await?
                .is_none()
            {
                return Err(DomainError::AccountNotFound(input.account_no.clone()).into());
            }
            tx.update_kyc(&input.account_no, &input.kyc, now).await?;
            account_view(tx, &input.institution_id, &input.account_no).await
        }
        Op::AccountQuery {
            institution_id,
            account_no,
        } => account_view(tx, institution_id, account_no).await,
        Op::RechargeApply(input) => recharge_apply(tx, input, rules, now).await,
        Op::RechargeQuery(r) => recharge_query(tx, r).await,
        Op::WithdrawConfirm(input) => withdraw_confirm(tx, input, rules, now).await,
        Op::WithdrawQuery(r) => withdraw_query(tx, r).await,
        Op::ClaimPayouts { limit, lease_ms } => {
            let mut orders = tx.due_payouts(now, *limit).await?;
            for order in &mut orders {
                let lease_until_ms = now + lease_ms;
                if order.status == OrderStatus::Init {
                    let moved = tx
                        .transition_withdraw(&WithdrawTransition {
                            order_no: &order.order_no,
                            from: OrderStatus::Init,
                            to: OrderStatus::Processing,
                            now_ms: now,
                            fail_reason: None,
                            success_at_ms: None,
                            lease_until_ms: Some(lease_until_ms),
                        })
                        .await?;
                    if !moved {
                        return Err(StoreError::Retryable(format!(
                            "order {} moved under us",
                            order.order_no
                        ))
                        .into());
                    }
                    order.status = OrderStatus::Processing;
                    order.updated_at_ms = now;
                } else {
                    tx.set_payout_lease(&order.order_no, lease_until_ms).await?;
                }
            }
            Ok(Output::Payouts(orders))
        }
        Op::ExtendPayoutLease {
            order_no,
            lease_until_ms,
        } => {
            tx.set_payout_lease(order_no, *lease_until_ms).await?;
            Ok(Output::Nothing)
        }
        Op::SettleWithdrawal {
            order_no,
            account_no,
            outcome,
        } => settle(tx, order_no, account_no, outcome, now).await,
        Op::ClaimNotifications {
            limit,
            lease_ms,
            exclude,
        } => {
            let mut due = tx.due_notifications(now, *limit, exclude).await?;
            for n in &mut due {
                n.lease_until_ms = Some(now + lease_ms);
                tx.lease_notification(n.id, now + lease_ms).await?;
            }
            Ok(Output::Notifications(due))
        }
        Op::ReleaseNotifications { ids } => {
            for id in ids {
                tx.lease_notification(*id, now).await?;
            }
            Ok(Output::Nothing)
        }
        Op::RecordDelivery { attempt, result } => {
            let Some(n) = tx.notification(attempt.notification_id).await? else {
                return Err(OpError::NotFound(format!(
                    "notification {}",
                    attempt.notification_id
                )));
            };
            tx.insert_attempt(attempt).await?;
            // A late report from a worker whose lease ran out must not undo a
            // delivery another worker already made.
            if n.status == NotifyStatus::Delivered {
                return Ok(Output::Nothing);
            }
            let attempts = n.attempts.max(attempt.attempt_no);
            let update = match result {
                DeliveryResult::Delivered => NotificationUpdate {
                    id: n.id,
                    status: NotifyStatus::Delivered,
                    attempts,
                    next_attempt_at_ms: n.next_attempt_at_ms,
                    last_error: None,
                    delivered_at_ms: Some(now),
                },
                DeliveryResult::Retry {
                    next_attempt_at_ms,
                    error,
                } => NotificationUpdate {
                    id: n.id,
                    status: NotifyStatus::Pending,
                    attempts,
                    next_attempt_at_ms: *next_attempt_at_ms,
                    last_error: Some(error.clone()),
                    delivered_at_ms: None,
                },
                DeliveryResult::Dead { error } => NotificationUpdate {
                    id: n.id,
                    status: NotifyStatus::Dead,
                    attempts,
                    next_attempt_at_ms: n.next_attempt_at_ms,
                    last_error: Some(error.clone()),
                    delivered_at_ms: None,
                },
            };
            tx.update_notification(&update).await?;
            Ok(Output::Nothing)
        }
        Op::ReplayNotifications { order_no } => {
            let all = tx.notifications_of_order(order_no).await?;
            if all.is_empty() {
                return Err(OpError::NotFound(format!(
                    "notification for order {order_no}"
                )));
            }
            for n in &all {
                tx.update_notification(&NotificationUpdate {
                    id: n.id,
                    status: NotifyStatus::Pending,
                    attempts: 0,
                    next_attempt_at_ms: now,
                    last_error: n.last_error.clone(),
                    delivered_at_ms: None,
                })
                .await?;
            }
            Ok(Output::Count(all.len() as u64))
        }
        Op::PutInstitution { input, create } => put_institution(tx, input, *create, now).await,
        Op::SetFxRate { currency, rate } => {
            tx.insert_fx_rate(&FxRate {
                currency: currency.clone(),
                rate: *rate,
                set_at_ms: now,
            })
            .await?;
            Ok(Output::Nothing)
        }
        Op::SetAccountStatus { account_no, status } => {
            if tx.account_any(account_no).await?.is_none() {
                return Err(OpError::NotFound(format!("account {account_no}")));
            }
            tx.set_account_status(account_no, *status, now).await?;
            Ok(Output::Nothing)
        }
        Op::PurgeNonces => Ok(Output::Count(tx.purge_nonces(now).await?)),
    }
}

/// A wallet order number: a letter, the UTC+08:00 date, and a 12-digit sequence
/// value (unique across processes), e.g. `R20261126000000000042` (21 chars).
pub fn order_no(prefix: char, seq: i64, now_ms: i64) -> String {
    let d = cst_date(now_ms);
    format!(
        "{prefix}{:04}{:02}{:02}{:012}",
        d.year(),
        u8::from(d.month()),
        d.day(),
        seq.rem_euclid(1_000_000_000_000)
    )
}

async fn user_sync<T: Tx>(tx: &mut T, input: &UserSyncInput, now: i64) -> Result<Output, OpError> {
    let inst = &input.institution_id;
    let existing = tx.user_by_out_id(inst, &input.out_user_id).await?;
    if let Some(bound_to) = tx
        .user_by_document(inst, &input.profile.document_hash)
        .await?
        && bound_to != input.out_user_id
    {
        return Err(DomainError::DocumentBound.into());
    }
    match existing {
        Some(mut user) => {
            tx.update_user_profile(user.user_id, &input.profile, now)
                .await?;
            user.document_hash = input.profile.document_hash.clone();
            Ok(Output::UserSynced {
                user,
                created: false,
            })
        }
        None => {
            let seq = tx.next_sequence(Sequence::User).await?;
            let user = UserRecord {
                user_id: seq,
                institution_id: inst.clone(),
                out_user_id: input.out_user_id.clone(),
                account_no: account_no::issue(seq).as_str().to_owned(),
                document_hash: input.profile.document_hash.clone(),
                status: UserStatus::Normal,
                kyc_level: KycLevel::L0,
            };
            tx.insert_user(&user, &input.profile, now).await?;
            Ok(Output::UserSynced {
                user,
                created: true,
            })
        }
    }
}

async fn account_view<T: Tx>(
    tx: &mut T,
    institution_id: &str,
    account_no: &str,
) -> Result<Output, OpError> {
    match tx.account(institution_id, account_no).await? {
        Some(a) => {
            a.assert_invariants();
            Ok(Output::Account(a))
        }
        None => Err(DomainError::AccountNotFound(account_no.to_owned()).into()),
    }
}

async fn recharge_apply<T: Tx>(
    tx: &mut T,
    input: &RechargeInput,
    rules: &Rules,
    now: i64,
) -> Result<Output, OpError> {
    let inst = &input.institution_id;
    if let Some(existing) = tx.recharge_by_out_no(inst, &input.out_order_no).await? {
        return match existing.terms.first_difference(&input.terms) {
            None => Ok(Output::Recharge(existing)),
            Some(field) => Err(DomainError::OrderConflict(format!(
                "{} ({field} differs)",
                input.out_order_no
            ))
            .into()),
        };
    }
    let Some(account) = tx.account(inst, &input.terms.account_no).await? else {
        return Err(DomainError::AccountNotFound(input.terms.account_no.clone()).into());
    };
    let seq = tx.next_sequence(Sequence::Recharge).await?;
    let order_no = order_no('R', seq, now);
    let plan = plan_recharge(
        &account,
        &rules.limits,
        &order_no,
        input.terms.amount_fen,
        cst_date(now),
    )?;
    let order = RechargeOrder {
        order_no,
        institution_id: inst.clone(),
        out_order_no: input.out_order_no.clone(),
        terms: input.terms.clone(),
        remark: input.remark.clone(),
        status: OrderStatus::Success,
        created_at_ms: now,
        success_at_ms: now,
        available_after_fen: plan.available_after_fen,
    };
    tx.insert_recharge(&order).await?;
    tx.insert_entry(&plan.entry, now).await?;
    tx.update_balances(
        &account.account_no,
        plan.available_after_fen,
        account.frozen_fen,
        Some(&plan.usage_after),
        now,
    )
    .await?;
    Ok(Output::Recharge(order))
}

/// Picks the order an [`OrderRef`] names from what each number found: when both
/// numbers are given they must name the same order.
fn pick_order<O>(
    r: &OrderRef,
    by_out: Option<O>,
    by_no: Option<O>,
    order_no_of: fn(&O) -> &str,
) -> Result<O, OpError> {
    match (
        r.out_order_no.is_some(),
        r.order_no.is_some(),
        by_out,
        by_no,
    ) {
        (true, true, Some(a), Some(b)) if order_no_of(&a) == order_no_of(&b) => Ok(a),
        (true, true, Some(_), Some(_)) => Err(DomainError::OrderMismatch.into()),
        (true, false, Some(a), _) => Ok(a),
        (false, true, _, Some(b)) => Ok(b),
        _ => Err(DomainError::OrderNotFound.into()),
    }
}

async fn recharge_query<T: Tx>(tx: &mut T, r: &OrderRef) -> Result<Output, OpError> {
    let by_out = match &r.out_order_no {
        Some(out) => tx.recharge_by_out_no(&r.institution_id, out).await?,
        None => None,
    };
    let by_no = match &r.order_no {
        Some(no) => tx.recharge_by_order_no(&r.institution_id, no).await?,
        None => None,
    };
    let order = pick_order(r, by_out, by_no, |o: &RechargeOrder| &o.order_no)?;
    Ok(Output::Recharge(order))
}

async fn withdraw_query<T: Tx>(tx: &mut T, r: &OrderRef) -> Result<Output, OpError> {
    let by_out = match &r.out_order_no {
        Some(out) => tx.withdraw_by_out_no(&r.institution_id, out).await?,
        None => None,
    };
    let by_no = match &r.order_no {
        Some(no) => tx.withdraw_by_order_no(&r.institution_id, no).await?,
        None => None,
    };
    let order = pick_order(r, by_out, by_no, |o: &WithdrawOrder| &o.order_no)?;
    Ok(Output::Withdraw(order))
}

/// The rate to lock into a withdrawal to `target`, or `3007`.
async fn locked_rate<T: Tx>(
    tx: &mut T,
    target: Currency,
    rules: &Rules,
    now: i64,
) -> Result<(Rate, i64), OpError> {
    if target == Currency::CNY {
        return Ok((Rate::IDENTITY, now));
    }
    let Some(rate) = tx.latest_fx_rate(target.code()).await? else {
        return Err(DomainError::CurrencyUnsupported(format!(
            "target_currency {} is not supported: no exchange rate is set",
            target.code()
        ))
        .into());
    };
    if !fx::is_fresh(rate.set_at_ms, now, rules.fx_max_age_ms) {
        return Err(DomainError::CurrencyUnsupported(format!(
            "no fresh exchange rate for {}: the last one was set at {}",
            target.code(),
            format_time(rate.set_at_ms)
        ))
        .into());
    }
    Ok((rate.rate, rate.set_at_ms))
}

async fn withdraw_confirm<T: Tx>(
    tx: &mut T,
    input: &WithdrawInput,
    rules: &Rules,
    now: i64,
) -> Result<Output, OpError> {
    let inst = &input.institution_id;
    if let Some(existing) = tx.withdraw_by_out_no(inst, &input.out_order_no).await? {
        return match existing.terms.first_difference(&input.terms) {
            None => Ok(Output::Withdraw(existing)),
            Some(field) => Err(DomainError::OrderConflict(format!(
                "{} ({field} differs)",
                input.out_order_no
            ))
            .into()),
        };
    }
    let Some(account) = tx.account(inst, &input.terms.account_no).await? else {
        return Err(DomainError::AccountNotFound(input.terms.account_no.clone()).into());
    };
    let target = input.terms.target_currency;
    let (rate, rate_set_at_ms) = locked_rate(tx, target, rules, now).await?;
    let target_amount_minor = match rate.convert(input.terms.amount_fen, target) {
        Some(v) if v > 0 => v,
        _ => return Err(DomainError::AmountTooSmall(target.code().to_owned()).into()),
    };
    let seq = tx.next_sequence(Sequence::Withdraw).await?;
    let order_no = order_no('W', seq, now);
    let plan = plan_freeze(&account, &rules.limits, &order_no, input.terms.amount_fen)?;
    let order = WithdrawOrder {
        order_no,
        institution_id: inst.clone(),
        out_order_no: input.out_order_no.clone(),
        terms: input.terms.clone(),
        target_amount_minor,
        rate,
        rate_set_at_ms,
        notify_url: input.notify_url.clone(),
        remark: input.remark.clone(),
        status: OrderStatus::Init,
        fail_reason: None,
        created_at_ms: now,
        updated_at_ms: now,
        success_at_ms: None,
    };
    tx.insert_withdraw(&order, None).await?;
    tx.insert_entry(&plan.entry, now).await?;
    tx.update_balances(
        &account.account_no,
        plan.available_after_fen,
        plan.frozen_after_fen,
        None,
        now,
    )
    .await?;
    Ok(Output::Withdraw(order))
}

async fn settle<T: Tx>(
    tx: &mut T,
    order_no: &str,
    account_no: &str,
    outcome: &PayoutOutcome,
    now: i64,
) -> Result<Output, OpError> {
    let Some(mut order) = tx.withdraw_for_update(order_no).await? else {
        return Err(OpError::NotFound(format!("withdraw order {order_no}")));
    };
    if order.terms.account_no != account_no {
        return Err(OpError::NotFound(format!(
            "withdraw order {order_no} of account {account_no}"
        )));
    }
    let target = outcome.status();
    if order.status == target {
        return Ok(Output::Withdraw(order));
    }
    if withdraw::is_final(order.status) {
        return Err(OpError::InvalidTransition {
            order_no: order_no.to_owned(),
            from: order.status,
            to: target,
        });
    }
    let Some(account) = tx.account_any(account_no).await? else {
        return Err(StoreError::Corrupt(format!(
            "order {order_no} names missing account {account_no}"
        ))
        .into());
    };
    if order.status == OrderStatus::Init {
        move_status(tx, &order, OrderStatus::Processing, now, None, None).await?;
        order.status = OrderStatus::Processing;
    }
    let plan = plan_settle(&account, order_no, order.terms.amount_fen, outcome);
    let (fail_reason, success_at_ms) = match outcome {
        PayoutOutcome::Success => (None, Some(now)),
        PayoutOutcome::Fail { reason } => (Some(reason.as_str()), None),
    };
    move_status(tx, &order, target, now, fail_reason, success_at_ms).await?;
    order.status = target;
    order.fail_reason = fail_reason.map(str::to_owned);
    order.success_at_ms = success_at_ms;
    order.updated_at_ms = now;
    tx.insert_entry(&plan.entry, now).await?;
    tx.update_balances(
        account_no,
        plan.available_after_fen,
        plan.frozen_after_fen,
        None,
        now,
    )
    .await?;
    tx.insert_notification(&Notification {
        id: 0,
        order_no: order.order_no.clone(),
        institution_id: order.institution_id.clone(),
        order_status: order.status,
        url: order.notify_url.clone(),
        body: notification_body(&order),
        status: NotifyStatus::Pending,
        attempts: 0,
        next_attempt_at_ms: now,
        lease_until_ms: None,
        last_error: None,
        created_at_ms: now,
        delivered_at_ms: None,
    })
    .await?;
    Ok(Output::Withdraw(order))
}

async fn move_status<T: Tx>(
    tx: &mut T,
    order: &WithdrawOrder,
    to: OrderStatus,
    now: i64,
    fail_reason: Option<&str>,
    success_at_ms: Option<i64>,
) -> Result<(), OpError> {
    assert!(
        withdraw::can_transition(order.status, to),
        "order {}: {:?} -> {:?} is not a transition of §4.5",
        order.order_no,
        order.status,
        to
    );
    let moved = tx
        .transition_withdraw(&WithdrawTransition {
            order_no: &order.order_no,
            from: order.status,
            to,
            now_ms: now,
            fail_reason,
            success_at_ms,
            lease_until_ms: None,
        })
        .await?;
    if !moved {
        // The row is locked by this transaction, so this cannot happen unless
        // the backend failed to lock it: refuse rather than write a second result.
        return Err(StoreError::Retryable(format!(
            "order {} changed status concurrently",
            order.order_no
        ))
        .into());
    }
    Ok(())
}

/// The §4.8 body, in the seed's field order, for an order in a final state.
pub fn notification_body(order: &WithdrawOrder) -> String {
    let body = WithdrawResultNotification {
        institution_id: order.institution_id.clone(),
        topic: WITHDRAW_RESULT_TOPIC.to_owned(),
        data: WithdrawResultData {
            out_order_no: order.out_order_no.clone(),
            order_no: order.order_no.clone(),
            account_no: order.terms.account_no.clone(),
            amount: format_amount(order.terms.amount_fen, order.terms.currency),
            currency: order.terms.currency.code().to_owned(),
            target_amount: format_amount(order.target_amount_minor, order.terms.target_currency),
            target_currency: order.terms.target_currency.code().to_owned(),
            branch_info: order.terms.branch.clone(),
            order_status: order.status,
            success_time: order.success_at_ms.map(format_time).unwrap_or_default(),
            exchange_rate: order.rate.to_text(),
            fail_reason: order.fail_reason.clone().unwrap_or_default(),
        },
    };
    serde_json::to_string(&body).expect("the notification serialises")
}

async fn put_institution<T: Tx>(
    tx: &mut T,
    input: &InstitutionInput,
    create: bool,
    now: i64,
) -> Result<Output, OpError> {
    let existing = tx.institution(&input.id).await?;
    let inst = match (existing, create) {
        (Some(_), true) => return Err(OpError::AlreadyExists(format!("institution {}", input.id))),
        (None, false) => return Err(OpError::NotFound(format!("institution {}", input.id))),
        (None, true) => {
            let (Some(name), Some(pem), Some(sig)) =
                (&input.name, &input.public_key_pem, input.signature_type)
            else {
                return Err(StoreError::Database(
                    "a new institution needs a name, a public key and a signature type".into(),
                )
                .into());
            };
            let inst = Institution {
                id: input.id.clone(),
                name: name.clone(),
                public_key_pem: pem.clone(),
                signature_type: sig,
                notify_url: input.notify_url.clone().flatten(),
                enabled: input.enabled.unwrap_or(true),
                created_at_ms: now,
                updated_at_ms: now,
            };
            tx.insert_institution(&inst).await?;
            inst
        }
        (Some(mut inst), false) => {
            if let Some(name) = &input.name {
                inst.name = name.clone();
            }
            if let Some(pem) = &input.public_key_pem {
                inst.public_key_pem = pem.clone();
            }
            if let Some(sig) = input.signature_type {
                inst.signature_type = sig;
            }
            if let Some(url) = &input.notify_url {
                inst.notify_url = url.clone();
            }
            if let Some(enabled) = input.enabled {
                inst.enabled = enabled;
            }
            inst.updated_at_ms = now;
            tx.update_institution(&inst).await?;
            inst
        }
    };
    Ok(Output::Institution(inst))
}
