//! Why a run could not be made. A run that was made but whose books do not
//! check out is not an error: it is a [`crate::report::Report`] that did not pass.

use freewalker_sdk::SdkError;
use freewalker_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The options or the plan cannot make a meaningful run.
    #[error("{0}")]
    Usage(String),
    /// The wallet's settings, database or key could not be used.
    #[error("wallet: {0}")]
    Wallet(String),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// Setup did not get the wallet into the state the run needs.
    #[error("setup: {0}")]
    Setup(String),
    #[error("{0}")]
    Sdk(#[from] SdkError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
