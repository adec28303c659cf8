//! `freewalker ledger verify`: recompute every balance from the journal.
//!
//! Runs in one read transaction (a consistent snapshot), so it can run while the
//! wallet serves traffic.

use std::collections::BTreeMap;

use freewalker_domain::ledger::LedgerAccount;

use crate::error::StoreError;
use crate::model::{LedgerMismatch, LedgerReport};
use crate::tx::Tx;

/// Checks that every entry balances, that every user account's stored balances
/// equal the sums of its postings, and that none is negative. Institution
/// accounts have no stored balance (see `docs/ARCHITECTURE.md`); their journal
/// balances are reported.
pub async fn verify_ledger<T: Tx>(tx: &mut T) -> Result<LedgerReport, StoreError> {
    let mut report = LedgerReport::default();
    let (entries, postings) = tx.journal_counts().await?;
    report.entries_checked = entries;
    report.postings_checked = postings;

    for (entry_id, currency, sum_minor) in tx.unbalanced_entries().await? {
        report.mismatches.push(LedgerMismatch::UnbalancedEntry {
            entry_id,
            currency,
            sum_minor,
        });
    }

    // Journal balance of each user bucket: account_no -> (available, frozen).
    let mut journal: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (code, currency, sum) in tx.posting_sums().await? {
        match LedgerAccount::parse(&code) {
            Some(LedgerAccount::UserAvailable(no)) if currency == "CNY" => {
                journal.entry(no).or_default().0 += sum
            }
            Some(LedgerAccount::UserFrozen(no)) if currency == "CNY" => {
                journal.entry(no).or_default().1 += sum
            }
            Some(a) if !a.is_user() => report.institution_balances.push((code, currency, sum)),
            _ => report.mismatches.push(LedgerMismatch::Balance {
                account: format!("{code} ({currency})"),
                stored_fen: 0,
                journal_fen: sum,
            }),
        }
    }

    for (account_no, available, frozen) in tx.stored_balances().await? {
        report.accounts_checked += 1;
        let (j_available, j_frozen) = journal.remove(&account_no).unwrap_or_default();
        for (bucket, stored, from_journal) in [
            ("available", available, j_available),
            ("frozen", frozen, j_frozen),
        ] {
            let account = format!("user:{account_no}:{bucket}");
            if stored != from_journal {
                report.mismatches.push(LedgerMismatch::Balance {
                    account: account.clone(),
                    stored_fen: stored,
                    journal_fen: from_journal,
                });
            }
            if stored < 0 {
                report.mismatches.push(LedgerMismatch::Negative {
                    account,
                    balance_fen: stored,
                });
            }
        }
    }
    // Postings to user accounts that have no account row at all.
    for (account_no, (available, frozen)) in journal {
        report.mismatches.push(LedgerMismatch::Balance {
            account: format!("user:{account_no} (no account row)"),
            stored_fen: 0,
            journal_fen: available + frozen,
        });
    }
    Ok(report)
}
