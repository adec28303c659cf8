//! Reads that need no nonce and change nothing: operator commands, the workers'
//! look-ups, authentication's institution look-up and the ledger audit. They
//! run on a read connection in their own read-only transaction, outside the
//! write queue, so a long audit never holds up payments.

use crate::error::StoreError;
use crate::model::{
    Attempt, FxRate, Institution, LedgerReport, Notification, NotifyStatus, WithdrawOrder,
};
use crate::tx::Tx;
use crate::verify::verify_ledger;
use freewalker_domain::account::AccountState;

/// A read.
#[derive(Debug, Clone)]
pub enum Query {
    Institution(String),
    Institutions,
    Notifications {
        status: Option<NotifyStatus>,
        limit: u32,
    },
    NotificationsOfOrder(String),
    Attempts(i64),
    Withdraw(String),
    Account(String),
    FxRates,
    VerifyLedger,
    /// Rows per table (diagnostics, and tests proving a refused request wrote nothing).
    RowCounts,
}

/// What a read found.
// One value per read, moved once and never kept in bulk: boxing the larger
// variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum QueryOutput {
    Institution(Option<Institution>),
    Institutions(Vec<Institution>),
    Notifications(Vec<Notification>),
    Attempts(Vec<Attempt>),
    Withdraw(Option<WithdrawOrder>),
    Account(Option<AccountState>),
    FxRates(Vec<FxRate>),
    Ledger(LedgerReport),
    RowCounts(Vec<(String, i64)>),
}

/// Runs a read in the caller's open (read-only) transaction.
pub async fn run_query<T: Tx>(tx: &mut T, q: &Query) -> Result<QueryOutput, StoreError> {
    Ok(match q {
        Query::Institution(id) => QueryOutput::Institution(tx.institution(id).await?),
        Query::Institutions => QueryOutput::Institutions(tx.list_institutions().await?),
        Query::Notifications { status, limit } => {
            QueryOutput::Notifications(tx.list_notifications(*status, *limit).await?)
        }
        Query::NotificationsOfOrder(order_no) => {
            QueryOutput::Notifications(tx.notifications_of_order(order_no).await?)
        }
        Query::Attempts(id) => QueryOutput::Attempts(tx.attempts_of(*id).await?),
        Query::Withdraw(order_no) => QueryOutput::Withdraw(tx.withdraw_any(order_no).await?),
        Query::Account(account_no) => QueryOutput::Account(tx.account_any(account_no).await?),
        Query::FxRates => QueryOutput::FxRates(tx.latest_fx_rates().await?),
        Query::VerifyLedger => QueryOutput::Ledger(verify_ledger(tx).await?),
        Query::RowCounts => QueryOutput::RowCounts(tx.row_counts().await?),
    })
}
