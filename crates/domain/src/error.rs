//! Business rejections. Each maps to one `3xxx` return code in the server's
//! single mapping; none of them means something went wrong inside the wallet.

use freewalker_protocol::api::LimitKind;
use freewalker_protocol::retcode::RetCode;

/// Which §5 limit a request would exceed, and by how much it is already used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitExceeded {
    /// Which limit, e.g. `recharge_daily` (the `limit` field of `3004`).
    pub limit: LimitKind,
    /// The limit in force, in fen.
    pub limit_fen: i64,
    /// What is already used against it, in fen.
    pub used_fen: i64,
    /// What is left, in fen (never negative).
    pub remaining_fen: i64,
}

/// A request the rules refuse. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("account_no {0} not found")]
    AccountNotFound(String),
    #[error("account is {0}")]
    AccountNotActive(&'static str),
    #[error("insufficient available balance")]
    InsufficientBalance,
    #[error("limit exceeded: {}", .0.limit.as_str())]
    LimitExceeded(LimitExceeded),
    #[error("out_order_no {0} was already used with different content")]
    OrderConflict(String),
    #[error("order not found")]
    OrderNotFound,
    #[error("{0}")]
    CurrencyUnsupported(String),
    #[error("user not found")]
    UserNotFound,
    #[error("this identity document is already bound to another user of this institution")]
    DocumentBound,
    #[error("out_order_no and order_no name different orders")]
    OrderMismatch,
    /// The amount buys less than one minor unit of the target currency.
    #[error("amount is too small to pay out any {0}")]
    AmountTooSmall(String),
}

impl DomainError {
    /// The §6 return code for this rejection.
    pub fn ret_code(&self) -> RetCode {
        match self {
            DomainError::AccountNotFound(_) => RetCode::AccountNotFound,
            DomainError::AccountNotActive(_) => RetCode::AccountFrozen,
            DomainError::InsufficientBalance => RetCode::InsufficientBalance,
            DomainError::LimitExceeded(_) => RetCode::LimitExceeded,
            DomainError::OrderConflict(_) => RetCode::OrderConflict,
            DomainError::OrderNotFound | DomainError::OrderMismatch => RetCode::OrderNotFound,
            DomainError::CurrencyUnsupported(_) => RetCode::CurrencyUnsupported,
            DomainError::UserNotFound => RetCode::UserNotFound,
            DomainError::DocumentBound => RetCode::DocumentBound,
            DomainError::AmountTooSmall(_) => RetCode::InvalidField,
        }
    }
}
