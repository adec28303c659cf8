//! The double-entry journal.
//!
//! Every balance change is one [`JournalEntry`] whose postings sum to zero per
//! currency. Amounts are signed changes to the account's balance: a recharge of
//! 100.00 posts `-10000` to the institution's funding account and `+10000` to the
//! user's available account. User accounts may never go below zero; institution
//! accounts may (the funding account is the institution's running total of money
//! it collected and handed to the wallet, so it is negative by construction).

use std::collections::BTreeMap;
use std::fmt;

use freewalker_protocol::currency::Currency;

/// An account of the ledger. Its [`code`](LedgerAccount::code) is what postings store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LedgerAccount {
    /// A user's spendable CNY.
    UserAvailable(String),
    /// A user's CNY held for withdrawals in flight.
    UserFrozen(String),
    /// The institution's funding account, debited by recharges it tops up.
    InstitutionFunding(String),
    /// The institution's payout account, credited by withdrawals it paid out.
    InstitutionPayout(String),
}

impl LedgerAccount {
    /// The stable text stored in each posting, e.g. `user:8000000000000011:available`.
    pub fn code(&self) -> String {
        self.to_string()
    }

    /// Parses a stored code back; `None` for anything that is not a ledger account.
    pub fn parse(code: &str) -> Option<Self> {
        let (owner_kind, rest) = code.split_once(':')?;
        let (owner, bucket) = rest.rsplit_once(':')?;
        if owner.is_empty() {
            return None;
        }
        let owner = owner.to_owned();
        match (owner_kind, bucket) {
            ("user", "available") => Some(Self::UserAvailable(owner)),
            ("user", "frozen") => Some(Self::UserFrozen(owner)),
            ("inst", "funding") => Some(Self::InstitutionFunding(owner)),
            ("inst", "payout") => Some(Self::InstitutionPayout(owner)),
            _ => None,
        }
    }

    /// True for the accounts whose balance may never be negative.
    pub fn is_user(&self) -> bool {
        matches!(self, Self::UserAvailable(_) | Self::UserFrozen(_))
    }
}

impl fmt::Display for LedgerAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UserAvailable(a) => write!(f, "user:{a}:available"),
            Self::UserFrozen(a) => write!(f, "user:{a}:frozen"),
            Self::InstitutionFunding(i) => write!(f, "inst:{i}:funding"),
            Self::InstitutionPayout(i) => write!(f, "inst:{i}:payout"),
        }
    }
}

/// Why an entry was written; stored with it for audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// Funding → user available (§4.3).
    Recharge,
    /// User available → user frozen, at withdraw confirm (§4.5).
    WithdrawFreeze,
    /// User frozen → institution payout, when the payout succeeds.
    WithdrawPayout,
    /// User frozen → user available, when the payout fails.
    WithdrawRelease,
}

impl EntryKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recharge => "RECHARGE",
            Self::WithdrawFreeze => "WITHDRAW_FREEZE",
            Self::WithdrawPayout => "WITHDRAW_PAYOUT",
            Self::WithdrawRelease => "WITHDRAW_RELEASE",
        }
    }
}

/// One leg of an entry: a signed change to one account's balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: LedgerAccount,
    pub currency: Currency,
    /// Signed change in the currency's minor units.
    pub amount_minor: i64,
}

/// A balanced set of postings, written atomically with the order it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub kind: EntryKind,
    /// The wallet order this entry belongs to (`R…` or `W…`).
    pub order_no: String,
    pub postings: Vec<Posting>,
}

impl JournalEntry {
    /// Builds an entry, asserting that it balances. An unbalanced entry is a
    /// programming error, never an operating condition, so it panics.
    pub fn new(kind: EntryKind, order_no: impl Into<String>, postings: Vec<Posting>) -> Self {
        let entry = Self {
            kind,
            order_no: order_no.into(),
            postings,
        };
        assert!(
            entry.is_balanced(),
            "journal entry does not balance: {entry:?}"
        );
        entry
    }

    /// A two-legged transfer of `amount_minor` from `from` to `to`.
    pub fn transfer(
        kind: EntryKind,
        order_no: impl Into<String>,
        from: LedgerAccount,
        to: LedgerAccount,
        currency: Currency,
        amount_minor: i64,
    ) -> Self {
        assert!(amount_minor > 0, "a transfer moves a positive amount");
        Self::new(
            kind,
            order_no,
            vec![
                Posting {
                    account: from,
                    currency,
                    amount_minor: -amount_minor,
                },
                Posting {
                    account: to,
                    currency,
                    amount_minor,
                },
            ],
        )
    }

    /// True when the postings sum to zero in every currency and there are at least two.
    pub fn is_balanced(&self) -> bool {
        if self.postings.len() < 2 {
            return false;
        }
        let mut sums: BTreeMap<&str, i128> = BTreeMap::new();
        for p in &self.postings {
            *sums.entry(p.currency.code()).or_default() += i128::from(p.amount_minor);
        }
        sums.values().all(|s| *s == 0)
    }

    /// The signed change this entry makes to `account` (zero if it does not touch it).
    pub fn change_for(&self, account: &LedgerAccount) -> i64 {
        self.postings
            .iter()
            .filter(|p| &p.account == account)
            .map(|p| p.amount_minor)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for a in [
            LedgerAccount::UserAvailable("8000000000000011".into()),
            LedgerAccount::UserFrozen("8000000000000011".into()),
            LedgerAccount::InstitutionFunding("INST_01".into()),
            LedgerAccount::InstitutionPayout("INST-01".into()),
        ] {
            assert_eq!(LedgerAccount::parse(&a.code()), Some(a));
        }
        assert_eq!(LedgerAccount::parse("user::available"), None);
        assert_eq!(LedgerAccount::parse("bank:x:funding"), None);
    }

    #[test]
    fn transfer_balances() {
        let e = JournalEntry::transfer(
            EntryKind::Recharge,
            "R1",
            LedgerAccount::InstitutionFunding("I".into()),
            LedgerAccount::UserAvailable("A".into()),
            Currency::CNY,
            10_000,
        );
        assert!(e.is_balanced());
        assert_eq!(
            e.change_for(&LedgerAccount::UserAvailable("A".into())),
            10_000
        );
    }

    #[test]
    #[should_panic(expected = "does not balance")]
    fn unbalanced_entry_is_refused() {
        JournalEntry::new(
            EntryKind::Recharge,
            "R1",
            vec![Posting {
                account: LedgerAccount::UserAvailable("A".into()),
                currency: Currency::CNY,
                amount_minor: 1,
            }],
        );
    }
}
