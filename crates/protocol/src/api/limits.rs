//! The limits of §5 as responses show them, and the `data` of a `3004` answer (§1).

use serde::{Deserialize, Serialize};

wire_enum! {
    /// Which limit a `3004` answer names (`limit`).
    pub enum LimitKind {
        /// The largest single recharge.
        RechargeSingle => "recharge_single",
        /// Recharges per CST calendar day.
        RechargeDaily => "recharge_daily",
        /// Recharges per CST calendar year.
        RechargeYearly => "recharge_yearly",
        /// The largest balance (available plus frozen).
        BalanceMax => "balance_max",
        /// The largest single withdrawal.
        WithdrawSingle => "withdraw_single",
    }
}

/// The limits in force for an account, as CNY amount strings (§5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitsView {
    /// The largest single recharge.
    pub single_recharge: String,
    /// Recharges per CST calendar day.
    pub daily_recharge: String,
    /// Recharges per CST calendar year.
    pub yearly_recharge: String,
    /// The largest balance.
    pub balance_max: String,
    /// The largest single withdrawal.
    pub single_withdraw: String,
    /// What can still be recharged today (account query only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_recharge_remaining: Option<String>,
    /// What can still be recharged this year (account query only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yearly_recharge_remaining: Option<String>,
    /// How much more the balance may grow (account query only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_remaining: Option<String>,
}

/// `data` of a `3004` answer: which limit, and how far it is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitExceededData {
    /// The limit that would be exceeded.
    pub limit: LimitKind,
    /// The limit itself.
    pub limit_amount: String,
    /// What is already used of it.
    pub used_amount: String,
    /// What is left of it.
    pub remaining_amount: String,
}
