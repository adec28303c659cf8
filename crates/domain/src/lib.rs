//! Freewalker's business rules, as plain Rust: no HTTP, no SQL, no clock reads
//! (time is passed in), so every rule is testable on its own.
//!
//! # Layout
//!
//! - [`clock`]: the injected [`Clock`]; the system clock and a manual one for tests.
//! - [`ledger`]: double-entry journal entries whose postings sum to zero per currency,
//!   and the ledger accounts they post to.
//! - [`limits`]: the §5 limits by KYC level and the checks that raise `3004`.
//! - [`recharge`]: the plan for crediting a recharge (§4.3).
//! - [`withdraw`]: the withdrawal state machine and the plans for freezing, paying
//!   out and releasing funds (§4.5).
//! - [`fx`]: exchange rates and the exact integer conversion of §4.5.
//! - [`account`]: the account state the rules act on.
//! - [`duration`]: durations in settings (`15s`, `3m`, `24h`).
//! - [`account_no`]: issuing 16-digit Luhn account numbers that are never reused.
//! - [`notify_schedule`]: the §4.8 retry schedule.
//! - [`error`]: [`DomainError`], the business rejections (each one a `3xxx`).
//!
//! Money is always an `i64` count of minor units (fen for CNY); names carry the
//! unit (`amount_fen`).

pub mod account;
pub mod account_no;
pub mod clock;
pub mod duration;
pub mod error;
pub mod fx;
pub mod ledger;
pub mod limits;
pub mod notify_schedule;
pub mod recharge;
pub mod withdraw;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{DomainError, LimitExceeded};
