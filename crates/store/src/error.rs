//! Store errors: what went wrong in the database, kept apart from what the rules
//! refused.

use freewalker_domain::DomainError;
use freewalker_protocol::api::OrderStatus;

/// The database failed or returned something it should not have. The text is for
/// the operator's log only; the institution sees `9999`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    /// A transient failure (serialisation failure, deadlock, lost connection):
    /// the transaction was rolled back and may be repeated as is.
    #[error("transient database failure: {0}")]
    Retryable(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("the store is shut down")]
    Closed,
    #[error("invalid database url: {0}")]
    Url(String),
}

/// Why a command was not applied.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// The request's nonce was used within its TTL (`1004`).
    #[error("nonce already used")]
    NonceUsed,
    /// The rules refused the request (`3xxx`).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// An operator or worker asked for a transition §4.5 forbids.
    #[error("order {order_no} is {from}; it cannot become {to}")]
    InvalidTransition {
        order_no: String,
        from: OrderStatus,
        to: OrderStatus,
    },
    /// An operator command named something that does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// An operator command tried to create something that exists.
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl OpError {
    /// True if the command can be repeated as is in a new transaction.
    pub fn is_retryable(&self) -> bool {
        matches!(self, OpError::Store(StoreError::Retryable(_)))
    }
}
