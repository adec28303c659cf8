//! The commands the store executes, each atomically.
//!
//! An institution's request becomes one [`Command`]: the nonce claim and the
//! business operation, committed together. The executor of each backend may put
//! many commands into one database transaction (group commit); each command's
//! outcome is still all-or-nothing, because a command decides everything before
//! it writes anything, and a failure of the database fails (and retries) the
//! whole transaction.

use freewalker_domain::fx::Rate;
use freewalker_domain::recharge::RechargeTerms;
use freewalker_domain::withdraw::{PayoutOutcome, WithdrawTerms};
use freewalker_protocol::signature::SignatureType;

use crate::model::{
    Attempt, DeliveryResult, Institution, KycRecord, Notification, RechargeOrder, UserProfile,
    UserRecord, WithdrawOrder,
};
use freewalker_domain::account::AccountState;

/// The `(institution_id, nonce)` pair of a signed request, claimed in the same
/// transaction as what the request does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonceClaim {
    pub institution_id: String,
    pub nonce: String,
    /// Until when the nonce stays used (now + the nonce TTL).
    pub expires_at_ms: i64,
}

/// One atomic unit of work: an optional nonce claim and an operation.
#[derive(Debug, Clone)]
pub struct Command {
    pub nonce: Option<NonceClaim>,
    pub op: Op,
    /// The time the command is decided at.
    pub now_ms: i64,
}

/// §4.1 input, sensitive fields sealed.
#[derive(Debug, Clone)]
pub struct UserSyncInput {
    pub institution_id: String,
    pub out_user_id: String,
    pub profile: UserProfile,
}

/// §4.2 input.
#[derive(Debug, Clone)]
pub struct CustomerSyncInput {
    pub institution_id: String,
    pub account_no: String,
    pub kyc: KycRecord,
}

/// §4.3 input.
#[derive(Debug, Clone)]
pub struct RechargeInput {
    pub institution_id: String,
    pub out_order_no: String,
    pub terms: RechargeTerms,
    pub remark: Option<String>,
}

/// §4.5 input.
#[derive(Debug, Clone)]
pub struct WithdrawInput {
    pub institution_id: String,
    pub out_order_no: String,
    pub terms: WithdrawTerms,
    pub notify_url: Option<String>,
    pub remark: Option<String>,
}

/// §4.4 / §4.6: an order named by the institution's number, the wallet's, or both.
#[derive(Debug, Clone)]
pub struct OrderRef {
    pub institution_id: String,
    pub out_order_no: Option<String>,
    pub order_no: Option<String>,
}

/// What `institution add`/`update` writes. `None` leaves a field as it is on update.
#[derive(Debug, Clone)]
pub struct InstitutionInput {
    pub id: String,
    pub name: Option<String>,
    pub public_key_pem: Option<String>,
    pub signature_type: Option<SignatureType>,
    /// `Some(None)` clears the URL.
    pub notify_url: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// Every operation the store knows.
#[derive(Debug, Clone)]
pub enum Op {
    /// Only the nonce claim: for a request whose body was refused (§2: the nonce is
    /// recorded once the signature holds, whatever the body says).
    Nothing,
    UserSync(UserSyncInput),
    CustomerSync(CustomerSyncInput),
    AccountQuery {
        institution_id: String,
        account_no: String,
    },
    RechargeApply(RechargeInput),
    RechargeQuery(OrderRef),
    WithdrawConfirm(WithdrawInput),
    WithdrawQuery(OrderRef),
    /// Hands up to `limit` withdrawals to the payout channel: `INIT` orders move
    /// to `PROCESSING`; `PROCESSING` orders whose lease ran out (a worker died)
    /// are handed out again.
    ClaimPayouts {
        limit: u32,
        lease_ms: i64,
    },
    /// Extends the lease of a `PROCESSING` order the channel has not settled yet.
    ExtendPayoutLease {
        order_no: String,
        lease_until_ms: i64,
    },
    /// Moves a withdrawal to its final state, with its ledger entry and its
    /// notification. An `INIT` order passes through `PROCESSING` first.
    SettleWithdrawal {
        order_no: String,
        account_no: String,
        outcome: PayoutOutcome,
    },
    /// Leases up to `limit` due notifications, none of the institutions in
    /// `exclude` (those already at their share of deliveries in flight).
    ClaimNotifications {
        limit: u32,
        lease_ms: i64,
        exclude: Vec<String>,
    },
    /// Gives claimed notifications back unattempted (their institution already
    /// has its share of deliveries in flight).
    ReleaseNotifications {
        ids: Vec<i64>,
    },
    RecordDelivery {
        attempt: Attempt,
        result: DeliveryResult,
    },
    /// Makes the notifications of an order due again, with a fresh schedule.
    ReplayNotifications {
        order_no: String,
    },
    PutInstitution {
        input: InstitutionInput,
        create: bool,
    },
    SetFxRate {
        currency: String,
        rate: Rate,
    },
    /// Sets an account's status (operator command).
    SetAccountStatus {
        account_no: String,
        status: freewalker_protocol::api::UserStatus,
    },
    /// Deletes nonces that have expired.
    PurgeNonces,
}

impl Op {
    /// The accounts this operation will change, which PostgreSQL locks up front
    /// (in one sorted order, so concurrent transactions cannot deadlock on them).
    pub fn account_to_lock(&self) -> Option<&str> {
        match self {
            Op::CustomerSync(i) => Some(&i.account_no),
            Op::RechargeApply(i) => Some(&i.terms.account_no),
            Op::WithdrawConfirm(i) => Some(&i.terms.account_no),
            Op::SettleWithdrawal { account_no, .. } => Some(account_no),
            Op::SetAccountStatus { account_no, .. } => Some(account_no),
            _ => None,
        }
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Nothing => "nothing",
            Op::UserSync(_) => "user_sync",
            Op::CustomerSync(_) => "customer_sync",
            Op::AccountQuery { .. } => "account_query",
            Op::RechargeApply(_) => "recharge_apply",
            Op::RechargeQuery(_) => "recharge_query",
            Op::WithdrawConfirm(_) => "withdraw_confirm",
            Op::WithdrawQuery(_) => "withdraw_query",
            Op::ClaimPayouts { .. } => "claim_payouts",
            Op::ExtendPayoutLease { .. } => "extend_payout_lease",
            Op::SettleWithdrawal { .. } => "settle_withdrawal",
            Op::ClaimNotifications { .. } => "claim_notifications",
            Op::ReleaseNotifications { .. } => "release_notifications",
            Op::RecordDelivery { .. } => "record_delivery",
            Op::ReplayNotifications { .. } => "replay_notifications",
            Op::PutInstitution { .. } => "put_institution",
            Op::SetFxRate { .. } => "set_fx_rate",
            Op::SetAccountStatus { .. } => "set_account_status",
            Op::PurgeNonces => "purge_nonces",
        }
    }
}

/// The account as §4.7 reports it: state, balances and recharge usage.
pub type AccountView = AccountState;

/// What an operation produced.
#[derive(Debug, Clone)]
pub enum Output {
    Nothing,
    UserSynced { user: UserRecord, created: bool },
    Account(AccountView),
    Recharge(RechargeOrder),
    Withdraw(WithdrawOrder),
    Payouts(Vec<WithdrawOrder>),
    Notifications(Vec<Notification>),
    Institution(Institution),
    Count(u64),
}
