//! The records the store reads and writes. Times are Unix milliseconds; money is
//! minor units; sensitive fields arrive already sealed (encrypted at rest by the
//! server) and leave sealed.

use freewalker_domain::fx::Rate;
use freewalker_domain::recharge::RechargeTerms;
use freewalker_domain::withdraw::WithdrawTerms;
use freewalker_protocol::api::{Gender, IdType, KycLevel, OrderStatus, UserStatus};
use freewalker_protocol::signature::SignatureType;

/// A partner institution and the key it signs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Institution {
    pub id: String,
    pub name: String,
    /// SPKI PEM of the institution's public key.
    pub public_key_pem: String,
    pub signature_type: SignatureType,
    /// Where withdraw results go unless an order names its own URL.
    pub notify_url: Option<String>,
    pub enabled: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A user's profile as synced by §4.1. Sensitive fields are sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    pub name: String,
    pub nationality: String,
    pub id_type: IdType,
    /// The document number, sealed with the data key.
    pub id_no_sealed: String,
    /// Keyed hash of (nationality, id_type, id_no): what makes one document one
    /// user per institution (`3011`) without storing the number in clear.
    pub document_hash: String,
    pub id_expiry_date: Option<String>,
    pub birth_date: Option<String>,
    pub gender: Option<Gender>,
    pub mobile_sealed: Option<String>,
    pub email: Option<String>,
}

/// A user and their account, as found by `out_user_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user_id: i64,
    pub institution_id: String,
    pub out_user_id: String,
    pub account_no: String,
    pub document_hash: String,
    pub status: UserStatus,
    pub kyc_level: KycLevel,
}

/// The verification recorded by §4.2. The address is sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KycRecord {
    pub kyc_level: KycLevel,
    pub verified_at_secs: i64,
    pub visa_type: Option<String>,
    pub visa_expiry_date: Option<String>,
    pub entry_date: Option<String>,
    pub address_sealed: Option<String>,
    pub occupation: Option<String>,
}

/// A recharge order (§4.3). Always `SUCCESS` once stored: a recharge is decided
/// synchronously and a refused one leaves no row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RechargeOrder {
    pub order_no: String,
    pub institution_id: String,
    pub out_order_no: String,
    pub terms: RechargeTerms,
    pub remark: Option<String>,
    pub status: OrderStatus,
    pub created_at_ms: i64,
    pub success_at_ms: i64,
    /// The available balance right after this recharge, so a repeated request
    /// gets the very same answer.
    pub available_after_fen: i64,
}

/// A withdrawal order (§4.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawOrder {
    pub order_no: String,
    pub institution_id: String,
    pub out_order_no: String,
    pub terms: WithdrawTerms,
    pub target_amount_minor: i64,
    /// The rate locked at confirm time, and when it was set.
    pub rate: Rate,
    pub rate_set_at_ms: i64,
    pub notify_url: Option<String>,
    pub remark: Option<String>,
    pub status: OrderStatus,
    pub fail_reason: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub success_at_ms: Option<i64>,
}

/// Delivery state of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyStatus {
    /// Waiting for its next attempt (or being attempted now).
    Pending,
    /// Acknowledged by the institution with HTTP 200 and `ret_code` `0000`.
    Delivered,
    /// Every attempt of the schedule failed; waits for an operator's replay.
    Dead,
}

impl NotifyStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Delivered => "DELIVERED",
            Self::Dead => "DEAD",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "PENDING" => Some(Self::Pending),
            "DELIVERED" => Some(Self::Delivered),
            "DEAD" => Some(Self::Dead),
            _ => None,
        }
    }
}

/// A withdraw result notification in the outbox (§4.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub order_no: String,
    pub institution_id: String,
    pub order_status: OrderStatus,
    /// The order's own `notify_url`; `None` means the institution's current one.
    pub url: Option<String>,
    /// The exact JSON body sent on every attempt.
    pub body: String,
    pub status: NotifyStatus,
    /// Attempts made since it was created or last replayed.
    pub attempts: u32,
    pub next_attempt_at_ms: i64,
    /// While set and in the future, a worker is delivering it.
    pub lease_until_ms: Option<i64>,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub delivered_at_ms: Option<i64>,
}

/// One delivery attempt, recorded whatever its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub notification_id: i64,
    pub attempt_no: u32,
    pub url: String,
    pub started_at_ms: i64,
    pub duration_ms: i64,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    /// The start of the response body, capped, for the operator.
    pub response_excerpt: Option<String>,
}

/// What a delivery attempt means for the notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    Delivered,
    /// Try again at `next_attempt_at_ms`.
    Retry {
        next_attempt_at_ms: i64,
        error: String,
    },
    /// The schedule is exhausted.
    Dead {
        error: String,
    },
}

/// One exchange rate as set by an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FxRate {
    pub currency: String,
    pub rate: Rate,
    pub set_at_ms: i64,
}

/// An account whose stored balance differs from its journal, or an entry that
/// does not balance, as found by `ledger verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerMismatch {
    Balance {
        account: String,
        stored_fen: i64,
        journal_fen: i64,
    },
    UnbalancedEntry {
        entry_id: i64,
        currency: String,
        sum_minor: i64,
    },
    Negative {
        account: String,
        balance_fen: i64,
    },
}

/// What `ledger verify` looked at and found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LedgerReport {
    pub accounts_checked: u64,
    pub entries_checked: u64,
    pub postings_checked: u64,
    /// Balances of the institutions' accounts, which are not cached anywhere and
    /// so are reported rather than compared: (account code, currency, balance).
    pub institution_balances: Vec<(String, String, i64)>,
    pub mismatches: Vec<LedgerMismatch>,
}
