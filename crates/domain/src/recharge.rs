//! Recharge (§4.3): the institution collected the money; the wallet credits CNY.

use freewalker_protocol::api::PayMethod;
use freewalker_protocol::currency::Currency;
use time::Date;

use crate::account::AccountState;
use crate::error::DomainError;
use crate::ledger::{EntryKind, JournalEntry, LedgerAccount};
use crate::limits::{self, LimitTable, RechargeUsage};

/// What identifies a recharge's content for idempotency (§7). The remark is
/// free text and deliberately not part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RechargeTerms {
    pub account_no: String,
    pub amount_fen: i64,
    pub currency: Currency,
    pub pay_amount_minor: Option<i64>,
    pub pay_currency: Option<Currency>,
    pub pay_method: Option<PayMethod>,
}

impl RechargeTerms {
    /// The first field in which `other` differs, for `3005`'s message.
    pub fn first_difference(&self, other: &RechargeTerms) -> Option<&'static str> {
        if self.account_no != other.account_no {
            Some("account_no")
        } else if self.amount_fen != other.amount_fen {
            Some("amount")
        } else if self.currency != other.currency {
            Some("currency")
        } else if self.pay_amount_minor != other.pay_amount_minor {
            Some("pay_amount")
        } else if self.pay_currency != other.pay_currency {
            Some("pay_currency")
        } else if self.pay_method != other.pay_method {
            Some("pay_method")
        } else {
            None
        }
    }
}

/// Everything a recharge changes, decided before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RechargePlan {
    pub entry: JournalEntry,
    pub available_after_fen: i64,
    pub usage_after: RechargeUsage,
}

/// Decides a recharge of `amount_fen` into `account` on `today` (UTC+08:00).
pub fn plan_recharge(
    account: &AccountState,
    limits: &LimitTable,
    order_no: &str,
    amount_fen: i64,
    today: Date,
) -> Result<RechargePlan, DomainError> {
    account.assert_invariants();
    assert!(amount_fen > 0, "recharge amounts are positive once parsed");
    account.ensure_active()?;
    let set = limits.for_level(account.kyc_level);
    limits::check_recharge(
        set,
        &account.usage,
        account.balance_fen(),
        amount_fen,
        today,
    )
    .map_err(DomainError::LimitExceeded)?;
    let entry = JournalEntry::transfer(
        EntryKind::Recharge,
        order_no,
        LedgerAccount::InstitutionFunding(account.institution_id.clone()),
        LedgerAccount::UserAvailable(account.account_no.clone()),
        Currency::CNY,
        amount_fen,
    );
    let available_after_fen = account.available_fen + amount_fen;
    Ok(RechargePlan {
        entry,
        available_after_fen,
        usage_after: account.usage.after(today, amount_fen),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use freewalker_protocol::api::{KycLevel, UserStatus};
    use time::macros::date;

    fn account() -> AccountState {
        AccountState {
            account_no: "8000000000000011".into(),
            institution_id: "INST0001".into(),
            status: UserStatus::Normal,
            kyc_level: KycLevel::L0,
            available_fen: 0,
            frozen_fen: 0,
            usage: RechargeUsage::default(),
        }
    }

    #[test]
    fn credits_available_and_debits_funding() {
        let plan = plan_recharge(
            &account(),
            &LimitTable::default(),
            "R1",
            10_000,
            date!(2026 - 11 - 26),
        )
        .unwrap();
        assert_eq!(plan.available_after_fen, 10_000);
        assert_eq!(
            plan.entry
                .change_for(&LedgerAccount::InstitutionFunding("INST0001".into())),
            -10_000
        );
        assert_eq!(plan.usage_after.day_total_fen, 10_000);
    }

    #[test]
    fn a_frozen_account_takes_nothing() {
        let mut a = account();
        a.status = UserStatus::Frozen;
        let e =
            plan_recharge(&a, &LimitTable::default(), "R1", 1, date!(2026 - 11 - 26)).unwrap_err();
        assert_eq!(e, DomainError::AccountNotActive("FROZEN"));
    }
}
