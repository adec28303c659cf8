//! Turning rows into records, written once for both backends.
//!
//! Each backend selects the same column lists (the `*_COLUMNS` constants) and
//! exposes its row through [`RowGet`]; the conversions here parse the stored
//! text back into domain types and call anything unexpected corrupt.

use freewalker_domain::account::AccountState;
use freewalker_domain::fx::Rate;
use freewalker_domain::limits::RechargeUsage;
use freewalker_domain::recharge::RechargeTerms;
use freewalker_domain::withdraw::WithdrawTerms;
use freewalker_protocol::api::{BranchInfo, KycLevel, OrderStatus, PayMethod, UserStatus};
use freewalker_protocol::currency::Currency;
use freewalker_protocol::signature::SignatureType;

use crate::error::StoreError;
use crate::model::{
    Attempt, FxRate, Institution, Notification, NotifyStatus, RechargeOrder, UserRecord,
    WithdrawOrder,
};

/// Typed access to one row of a result, by column index.
pub trait RowGet {
    fn i64(&self, i: usize) -> Result<i64, StoreError>;
    fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn text(&self, i: usize) -> Result<String, StoreError>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError>;
    fn bool(&self, i: usize) -> Result<bool, StoreError>;
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn parse<T>(what: &str, value: String, f: impl Fn(&str) -> Option<T>) -> Result<T, StoreError> {
    f(&value).ok_or_else(|| corrupt(what, &value))
}

fn currency(value: String) -> Result<Currency, StoreError> {
    parse("currency", value, Currency::from_code)
}

fn u32_of(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt("count", &value.to_string()))
}

pub const INSTITUTION_COLUMNS: &str =
    "id, name, public_key_pem, signature_type, notify_url, enabled, created_at, updated_at";

pub fn institution(r: &impl RowGet) -> Result<Institution, StoreError> {
    Ok(Institution {
        id: r.text(0)?,
        name: r.text(1)?,
        public_key_pem: r.text(2)?,
        signature_type: parse("signature_type", r.text(3)?, SignatureType::parse)?,
        notify_url: r.opt_text(4)?,
        enabled: r.bool(5)?,
        created_at_ms: r.i64(6)?,
        updated_at_ms: r.i64(7)?,
    })
}

/// Columns of `users u JOIN accounts a`.
pub const USER_COLUMNS: &str =
    "u.id, u.institution_id, u.out_user_id, a.account_no, u.document_hash, a.status, a.kyc_level";

pub fn user(r: &impl RowGet) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        user_id: r.i64(0)?,
        institution_id: r.text(1)?,
        out_user_id: r.text(2)?,
        account_no: r.text(3)?,
        document_hash: r.text(4)?,
        status: parse("user status", r.text(5)?, UserStatus::parse)?,
        kyc_level: parse("kyc level", r.text(6)?, KycLevel::parse)?,
    })
}

pub const ACCOUNT_COLUMNS: &str = "account_no, institution_id, status, kyc_level, available, frozen, \
     recharge_day, recharge_day_total, recharge_year, recharge_year_total";

pub fn account(r: &impl RowGet) -> Result<AccountState, StoreError> {
    let a = AccountState {
        account_no: r.text(0)?,
        institution_id: r.text(1)?,
        status: parse("user status", r.text(2)?, UserStatus::parse)?,
        kyc_level: parse("kyc level", r.text(3)?, KycLevel::parse)?,
        available_fen: r.i64(4)?,
        frozen_fen: r.i64(5)?,
        usage: RechargeUsage {
            day_key: i32::try_from(r.i64(6)?)
                .map_err(|_| corrupt("recharge_day", "out of range"))?,
            day_total_fen: r.i64(7)?,
            year: i32::try_from(r.i64(8)?).map_err(|_| corrupt("recharge_year", "out of range"))?,
            year_total_fen: r.i64(9)?,
        },
    };
    // The second of the two paths that check balances (the first is where
    // entries are built): what comes back from the database is never negative.
    a.assert_invariants();
    Ok(a)
}

pub const RECHARGE_COLUMNS: &str = "order_no, institution_id, out_order_no, account_no, amount, currency, \
     pay_amount, pay_currency, pay_method, remark, status, created_at, success_at, available_after";

pub fn recharge(r: &impl RowGet) -> Result<RechargeOrder, StoreError> {
    Ok(RechargeOrder {
        order_no: r.text(0)?,
        institution_id: r.text(1)?,
        out_order_no: r.text(2)?,
        terms: RechargeTerms {
            account_no: r.text(3)?,
            amount_fen: r.i64(4)?,
            currency: currency(r.text(5)?)?,
            pay_amount_minor: r.opt_i64(6)?,
            pay_currency: r.opt_text(7)?.map(currency).transpose()?,
            pay_method: r
                .opt_text(8)?
                .map(|m| parse("pay method", m, PayMethod::parse))
                .transpose()?,
        },
        remark: r.opt_text(9)?,
        status: parse("order status", r.text(10)?, OrderStatus::parse)?,
        created_at_ms: r.i64(11)?,
        success_at_ms: r.i64(12)?,
        available_after_fen: r.i64(13)?,
    })
}

pub const WITHDRAW_COLUMNS: &str = "order_no, institution_id, out_order_no, account_no, amount, currency, \
     target_currency, target_amount, rate_micro, rate_set_at, branch_no, branch_name, branch_address, \
     notify_url, remark, status, fail_reason, created_at, updated_at, success_at";

pub fn withdraw(r: &impl RowGet) -> Result<WithdrawOrder, StoreError> {
    Ok(WithdrawOrder {
        order_no: r.text(0)?,
        institution_id: r.text(1)?,
        out_order_no: r.text(2)?,
        terms: WithdrawTerms {
            account_no: r.text(3)?,
            amount_fen: r.i64(4)?,
            currency: currency(r.text(5)?)?,
            target_currency: currency(r.text(6)?)?,
            branch: BranchInfo {
                branch_no: r.text(10)?,
                branch_name: r.text(11)?,
                branch_address: r.text(12)?,
            },
        },
        target_amount_minor: r.i64(7)?,
        rate: Rate::from_micro(r.i64(8)?).map_err(|_| corrupt("rate", "out of range"))?,
        rate_set_at_ms: r.i64(9)?,
        notify_url: r.opt_text(13)?,
        remark: r.opt_text(14)?,
        status: parse("order status", r.text(15)?, OrderStatus::parse)?,
        fail_reason: r.opt_text(16)?,
        created_at_ms: r.i64(17)?,
        updated_at_ms: r.i64(18)?,
        success_at_ms: r.opt_i64(19)?,
    })
}

pub const NOTIFICATION_COLUMNS: &str = "id, order_no, institution_id, order_status, url, body, status, \
     attempts, next_attempt_at, lease_until, last_error, created_at, delivered_at";

pub fn notification(r: &impl RowGet) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: r.i64(0)?,
        order_no: r.text(1)?,
        institution_id: r.text(2)?,
        order_status: parse("order status", r.text(3)?, OrderStatus::parse)?,
        url: r.opt_text(4)?,
        body: r.text(5)?,
        status: parse("notification status", r.text(6)?, NotifyStatus::parse)?,
        attempts: u32_of(r.i64(7)?)?,
        next_attempt_at_ms: r.i64(8)?,
        lease_until_ms: r.opt_i64(9)?,
        last_error: r.opt_text(10)?,
        created_at_ms: r.i64(11)?,
        delivered_at_ms: r.opt_i64(12)?,
    })
}

pub const ATTEMPT_COLUMNS: &str = "notification_id, attempt_no, url, started_at, duration_ms, http_status, error, response_excerpt";

pub fn attempt(r: &impl RowGet) -> Result<Attempt, StoreError> {
    Ok(Attempt {
        notification_id: r.i64(0)?,
        attempt_no: u32_of(r.i64(1)?)?,
        url: r.text(2)?,
        started_at_ms: r.i64(3)?,
        duration_ms: r.i64(4)?,
        http_status: r
            .opt_i64(5)?
            .map(|s| u16::try_from(s).map_err(|_| corrupt("http status", &s.to_string())))
            .transpose()?,
        error: r.opt_text(6)?,
        response_excerpt: r.opt_text(7)?,
    })
}

pub const FX_COLUMNS: &str = "currency, rate_micro, set_at";

pub fn fx_rate(r: &impl RowGet) -> Result<FxRate, StoreError> {
    Ok(FxRate {
        currency: r.text(0)?,
        rate: Rate::from_micro(r.i64(1)?).map_err(|_| corrupt("rate", "out of range"))?,
        set_at_ms: r.i64(2)?,
    })
}
