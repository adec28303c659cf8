//! The §5 limits by KYC level, and the checks that refuse a request with `3004`.
//!
//! Days and years are calendar days and years in UTC+08:00. Usage is kept as a
//! running total per account and period (see [`RechargeUsage`]) so a check costs
//! nothing more than reading the account row it has already locked.

use freewalker_protocol::api::{KycLevel, LimitKind};
use serde::Deserialize;
use time::Date;

use crate::error::LimitExceeded;

/// The limits of one KYC level, in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct LimitSet {
    /// The largest single recharge.
    pub single_recharge_fen: i64,
    /// Total recharges per calendar day (UTC+08:00).
    pub daily_recharge_fen: i64,
    /// Total recharges per calendar year (UTC+08:00).
    pub yearly_recharge_fen: i64,
    /// The most the wallet may hold, available plus frozen.
    pub balance_max_fen: i64,
    /// The largest single withdrawal.
    pub single_withdraw_fen: i64,
}

const YUAN: i64 = 100;

/// The limits of every level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitTable {
    pub l0: LimitSet,
    pub l1: LimitSet,
    pub l2: LimitSet,
}

impl Default for LimitTable {
    /// The defaults of §5.
    fn default() -> Self {
        Self {
            l0: LimitSet {
                single_recharge_fen: 2_000 * YUAN,
                daily_recharge_fen: 5_000 * YUAN,
                yearly_recharge_fen: 10_000 * YUAN,
                balance_max_fen: 10_000 * YUAN,
                single_withdraw_fen: 2_000 * YUAN,
            },
            l1: LimitSet {
                single_recharge_fen: 35_000 * YUAN,
                daily_recharge_fen: 50_000 * YUAN,
                yearly_recharge_fen: 350_000 * YUAN,
                balance_max_fen: 100_000 * YUAN,
                single_withdraw_fen: 35_000 * YUAN,
            },
            l2: LimitSet {
                single_recharge_fen: 50_000 * YUAN,
                daily_recharge_fen: 100_000 * YUAN,
                yearly_recharge_fen: 500_000 * YUAN,
                balance_max_fen: 500_000 * YUAN,
                single_withdraw_fen: 50_000 * YUAN,
            },
        }
    }
}

impl LimitTable {
    /// The limits in force for `level`.
    pub fn for_level(&self, level: KycLevel) -> &LimitSet {
        match level {
            KycLevel::L0 => &self.l0,
            KycLevel::L1 => &self.l1,
            KycLevel::L2 => &self.l2,
        }
    }

    /// Every amount must be positive; a table that is not is a configuration error.
    pub fn validate(&self) -> Result<(), String> {
        for (name, set) in [("l0", &self.l0), ("l1", &self.l1), ("l2", &self.l2)] {
            let all = [
                set.single_recharge_fen,
                set.daily_recharge_fen,
                set.yearly_recharge_fen,
                set.balance_max_fen,
                set.single_withdraw_fen,
            ];
            if all.iter().any(|v| *v <= 0) {
                return Err(format!(
                    "limits.{name}: every limit must be greater than zero"
                ));
            }
        }
        Ok(())
    }
}

/// A calendar day as `yyyymmdd` (e.g. `20261126`), the key usage is kept under.
pub fn day_key(date: Date) -> i32 {
    date.year() * 10_000 + i32::from(u8::from(date.month())) * 100 + i32::from(date.day())
}

/// Recharge totals of one account for its current day and year.
///
/// The keys only move forward: if a request arrives stamped with an earlier day
/// than the one stored (clock skew between processes around midnight), the
/// stored total still counts, so skew can make a limit stricter, never looser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RechargeUsage {
    /// `yyyymmdd` of `day_total_fen`.
    pub day_key: i32,
    pub day_total_fen: i64,
    /// Calendar year of `year_total_fen`.
    pub year: i32,
    pub year_total_fen: i64,
}

impl RechargeUsage {
    /// What has been recharged on `today` and in its year.
    pub fn used_on(&self, today: Date) -> (i64, i64) {
        let day = if self.day_key >= day_key(today) {
            self.day_total_fen
        } else {
            0
        };
        let year = if self.year >= today.year() {
            self.year_total_fen
        } else {
            0
        };
        (day, year)
    }

    /// The usage after a recharge of `amount_fen` on `today`.
    pub fn after(&self, today: Date, amount_fen: i64) -> Self {
        let (day, year) = self.used_on(today);
        Self {
            day_key: self.day_key.max(day_key(today)),
            day_total_fen: day + amount_fen,
            year: self.year.max(today.year()),
            year_total_fen: year + amount_fen,
        }
    }
}

fn check(
    limit: LimitKind,
    limit_fen: i64,
    used_fen: i64,
    amount_fen: i64,
) -> Result<(), LimitExceeded> {
    if used_fen.saturating_add(amount_fen) > limit_fen {
        return Err(LimitExceeded {
            limit,
            limit_fen,
            used_fen,
            remaining_fen: (limit_fen - used_fen).max(0),
        });
    }
    Ok(())
}

/// Checks a recharge of `amount_fen` against every recharge limit and the balance
/// cap, in the order single, daily, yearly, balance; the first one hit is reported.
pub fn check_recharge(
    limits: &LimitSet,
    usage: &RechargeUsage,
    balance_fen: i64,
    amount_fen: i64,
    today: Date,
) -> Result<(), LimitExceeded> {
    let (day_used, year_used) = usage.used_on(today);
    check(
        LimitKind::RechargeSingle,
        limits.single_recharge_fen,
        0,
        amount_fen,
    )?;
    check(
        LimitKind::RechargeDaily,
        limits.daily_recharge_fen,
        day_used,
        amount_fen,
    )?;
    check(
        LimitKind::RechargeYearly,
        limits.yearly_recharge_fen,
        year_used,
        amount_fen,
    )?;
    check(
        LimitKind::BalanceMax,
        limits.balance_max_fen,
        balance_fen,
        amount_fen,
    )?;
    Ok(())
}

/// Checks a withdrawal against the single-withdrawal limit. Recharge limits never
/// block a withdrawal (§5: a visitor can always take the money home).
pub fn check_withdraw(limits: &LimitSet, amount_fen: i64) -> Result<(), LimitExceeded> {
    check(
        LimitKind::WithdrawSingle,
        limits.single_withdraw_fen,
        0,
        amount_fen,
    )
}

/// What is left of each recharge allowance today, for the account query (§4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remaining {
    pub daily_recharge_fen: i64,
    pub yearly_recharge_fen: i64,
    pub balance_fen: i64,
}

/// The allowances left on `today` for an account holding `balance_fen`.
pub fn remaining(
    limits: &LimitSet,
    usage: &RechargeUsage,
    balance_fen: i64,
    today: Date,
) -> Remaining {
    let (day, year) = usage.used_on(today);
    Remaining {
        daily_recharge_fen: (limits.daily_recharge_fen - day).max(0),
        yearly_recharge_fen: (limits.yearly_recharge_fen - year).max(0),
        balance_fen: (limits.balance_max_fen - balance_fen).max(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn boundaries_are_exact_to_the_fen() {
        let l0 = LimitTable::default().l0;
        let today = date!(2026 - 11 - 26);
        let usage = RechargeUsage::default();
        assert!(check_recharge(&l0, &usage, 0, 200_000, today).is_ok());
        let e = check_recharge(&l0, &usage, 0, 200_001, today).unwrap_err();
        assert_eq!(e.limit, LimitKind::RechargeSingle);

        let usage = usage.after(today, 200_000).after(today, 200_000);
        assert!(check_recharge(&l0, &usage, 0, 100_000, today).is_ok());
        let e = check_recharge(&l0, &usage, 0, 100_001, today).unwrap_err();
        assert_eq!(e.limit, LimitKind::RechargeDaily);
        assert_eq!(e.used_fen, 400_000);
        assert_eq!(e.remaining_fen, 100_000);
    }

    #[test]
    fn a_new_day_resets_the_daily_total_but_not_the_year() {
        let today = date!(2026 - 11 - 26);
        let usage = RechargeUsage::default().after(today, 500_000);
        assert_eq!(usage.used_on(date!(2026 - 11 - 27)), (0, 500_000));
        assert_eq!(usage.used_on(date!(2027 - 01 - 01)), (0, 0));
    }

    #[test]
    fn an_earlier_day_never_loosens_a_limit() {
        let usage = RechargeUsage::default().after(date!(2026 - 11 - 27), 100);
        assert_eq!(usage.used_on(date!(2026 - 11 - 26)), (100, 100));
        let after = usage.after(date!(2026 - 11 - 26), 5);
        assert_eq!(after.day_key, 20261127);
        assert_eq!(after.day_total_fen, 105);
    }

    #[test]
    fn balance_cap_counts_what_is_held() {
        let l0 = LimitTable::default().l0;
        let today = date!(2026 - 11 - 26);
        assert!(check_recharge(&l0, &RechargeUsage::default(), 900_000, 100_000, today).is_ok());
        let e =
            check_recharge(&l0, &RechargeUsage::default(), 900_001, 100_000, today).unwrap_err();
        assert_eq!(e.limit, LimitKind::BalanceMax);
    }
}
