//! Withdrawal (§4.5): freeze at confirm, then pay out (debit) or release.
//!
//! The order status only moves forward along
//! `INIT → PROCESSING → SUCCESS | FAIL`; [`can_transition`] is the one place that
//! says so and every store asserts it before writing a status.

use freewalker_protocol::api::{BranchInfo, OrderStatus};
use freewalker_protocol::currency::Currency;

use crate::account::AccountState;
use crate::error::DomainError;
use crate::ledger::{EntryKind, JournalEntry, LedgerAccount};
use crate::limits::{self, LimitTable};

/// True for the transitions of the §4.5 state machine, and only those.
pub fn can_transition(from: OrderStatus, to: OrderStatus) -> bool {
    matches!(
        (from, to),
        (OrderStatus::Init, OrderStatus::Processing)
            | (OrderStatus::Processing, OrderStatus::Success)
            | (OrderStatus::Processing, OrderStatus::Fail)
    )
}

/// True for the states a notification is sent for.
pub fn is_final(status: OrderStatus) -> bool {
    matches!(status, OrderStatus::Success | OrderStatus::Fail)
}

/// What identifies a withdrawal's content for idempotency (§7): the same account,
/// amount, currency, target currency and branch. Remark and notify URL are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawTerms {
    pub account_no: String,
    pub amount_fen: i64,
    pub currency: Currency,
    pub target_currency: Currency,
    pub branch: BranchInfo,
}

impl WithdrawTerms {
    /// The first field in which `other` differs, for `3005`'s message.
    pub fn first_difference(&self, other: &WithdrawTerms) -> Option<&'static str> {
        if self.account_no != other.account_no {
            Some("account_no")
        } else if self.amount_fen != other.amount_fen {
            Some("amount")
        } else if self.currency != other.currency {
            Some("currency")
        } else if self.target_currency != other.target_currency {
            Some("target_currency")
        } else if self.branch.branch_no != other.branch.branch_no {
            Some("branch_info.branch_no")
        } else if self.branch.branch_name != other.branch.branch_name {
            Some("branch_info.branch_name")
        } else if self.branch.branch_address != other.branch.branch_address {
            Some("branch_info.branch_address")
        } else {
            None
        }
    }
}

/// The balances of one account after a plan is applied, and the entry that gets them there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalancePlan {
    pub entry: JournalEntry,
    pub available_after_fen: i64,
    pub frozen_after_fen: i64,
}

/// Freezes `amount_fen` for a new withdrawal: available → frozen.
pub fn plan_freeze(
    account: &AccountState,
    limits: &LimitTable,
    order_no: &str,
    amount_fen: i64,
) -> Result<BalancePlan, DomainError> {
    account.assert_invariants();
    assert!(
        amount_fen > 0,
        "withdrawal amounts are positive once parsed"
    );
    account.ensure_active()?;
    limits::check_withdraw(limits.for_level(account.kyc_level), amount_fen)
        .map_err(DomainError::LimitExceeded)?;
    if amount_fen > account.available_fen {
        return Err(DomainError::InsufficientBalance);
    }
    Ok(BalancePlan {
        entry: JournalEntry::transfer(
            EntryKind::WithdrawFreeze,
            order_no,
            LedgerAccount::UserAvailable(account.account_no.clone()),
            LedgerAccount::UserFrozen(account.account_no.clone()),
            Currency::CNY,
            amount_fen,
        ),
        available_after_fen: account.available_fen - amount_fen,
        frozen_after_fen: account.frozen_fen + amount_fen,
    })
}

/// How a payout ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutOutcome {
    /// The branch paid the visitor: the frozen CNY goes to the institution's payout account.
    Success,
    /// The payout did not happen: the frozen CNY goes back to available.
    Fail { reason: String },
}

impl PayoutOutcome {
    /// The final order status this outcome leads to.
    pub fn status(&self) -> OrderStatus {
        match self {
            PayoutOutcome::Success => OrderStatus::Success,
            PayoutOutcome::Fail { .. } => OrderStatus::Fail,
        }
    }
}

/// Settles a withdrawal of `amount_fen` that is frozen on `account`. Settling is
/// allowed on a frozen or closed account: the money was already set aside.
pub fn plan_settle(
    account: &AccountState,
    order_no: &str,
    amount_fen: i64,
    outcome: &PayoutOutcome,
) -> BalancePlan {
    account.assert_invariants();
    assert!(
        account.frozen_fen >= amount_fen,
        "order {order_no}: frozen balance {} does not cover {amount_fen}",
        account.frozen_fen
    );
    let frozen = LedgerAccount::UserFrozen(account.account_no.clone());
    let (kind, to, available_after_fen) = match outcome {
        PayoutOutcome::Success => (
            EntryKind::WithdrawPayout,
            LedgerAccount::InstitutionPayout(account.institution_id.clone()),
            account.available_fen,
        ),
        PayoutOutcome::Fail { .. } => (
            EntryKind::WithdrawRelease,
            LedgerAccount::UserAvailable(account.account_no.clone()),
            account.available_fen + amount_fen,
        ),
    };
    BalancePlan {
        entry: JournalEntry::transfer(kind, order_no, frozen, to, Currency::CNY, amount_fen),
        available_after_fen,
        frozen_after_fen: account.frozen_fen - amount_fen,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::RechargeUsage;
    use freewalker_protocol::api::{KycLevel, UserStatus};

    fn account(available: i64) -> AccountState {
        AccountState {
            account_no: "8000000000000011".into(),
            institution_id: "INST0001".into(),
            status: UserStatus::Normal,
            kyc_level: KycLevel::L1,
            available_fen: available,
            frozen_fen: 0,
            usage: RechargeUsage::default(),
        }
    }

    #[test]
    fn status_only_moves_forward() {
        use OrderStatus::*;
        let all = [Init, Processing, Success, Fail];
        for from in all {
            for to in all {
                let allowed = matches!(
                    (from, to),
                    (Init, Processing) | (Processing, Success) | (Processing, Fail)
                );
                assert_eq!(can_transition(from, to), allowed, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn freeze_then_fail_restores_the_balance() {
        let limits = LimitTable::default();
        let a = account(10_000);
        let freeze = plan_freeze(&a, &limits, "W1", 4_000).unwrap();
        let mut after = a.clone();
        after.available_fen = freeze.available_after_fen;
        after.frozen_fen = freeze.frozen_after_fen;
        let release = plan_settle(
            &after,
            "W1",
            4_000,
            &PayoutOutcome::Fail { reason: "x".into() },
        );
        assert_eq!(
            (release.available_after_fen, release.frozen_after_fen),
            (10_000, 0)
        );
        let pay = plan_settle(&after, "W1", 4_000, &PayoutOutcome::Success);
        assert_eq!((pay.available_after_fen, pay.frozen_after_fen), (6_000, 0));
    }

    #[test]
    fn cannot_freeze_more_than_available() {
        let e = plan_freeze(&account(999), &LimitTable::default(), "W1", 1_000).unwrap_err();
        assert_eq!(e, DomainError::InsufficientBalance);
        assert!(plan_freeze(&account(1_000), &LimitTable::default(), "W1", 1_000).is_ok());
    }
}
