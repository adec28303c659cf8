//! A wallet account as the rules see it: who owns it, its state, its balances and
//! its recharge usage.

use freewalker_protocol::api::{KycLevel, UserStatus};

use crate::error::DomainError;
use crate::limits::RechargeUsage;

/// The account a command acts on, read (and on PostgreSQL locked) in the
/// command's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    pub account_no: String,
    pub institution_id: String,
    pub status: UserStatus,
    pub kyc_level: KycLevel,
    pub available_fen: i64,
    pub frozen_fen: i64,
    pub usage: RechargeUsage,
}

impl AccountState {
    /// What the wallet holds for the user: available plus frozen.
    pub fn balance_fen(&self) -> i64 {
        self.available_fen + self.frozen_fen
    }

    /// Balances are never negative; checked again here, where they are read
    /// back, as well as where entries are built and in the database.
    pub fn assert_invariants(&self) {
        assert!(
            self.available_fen >= 0 && self.frozen_fen >= 0,
            "account {} has a negative balance: available {} frozen {}",
            self.account_no,
            self.available_fen,
            self.frozen_fen
        );
    }

    /// Money may only move in or out of a `NORMAL` account.
    pub fn ensure_active(&self) -> Result<(), DomainError> {
        match self.status {
            UserStatus::Normal => Ok(()),
            UserStatus::Frozen => Err(DomainError::AccountNotActive("FROZEN")),
            UserStatus::Closed => Err(DomainError::AccountNotActive("CLOSED")),
        }
    }
}
