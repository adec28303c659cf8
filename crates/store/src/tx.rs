//! The row-level primitives each backend implements inside one transaction.
//!
//! The business operations in [`crate::commands`] are written once, over this
//! trait, so SQLite and PostgreSQL cannot disagree on a rule; a backend only says
//! how to read and write rows. Every method runs in the transaction the executor
//! opened; none commits.

use std::future::Future;

use freewalker_domain::account::AccountState;
use freewalker_domain::ledger::JournalEntry;
use freewalker_domain::limits::RechargeUsage;
use freewalker_protocol::api::{OrderStatus, UserStatus};

use crate::error::StoreError;
use crate::model::{
    Attempt, FxRate, Institution, KycRecord, Notification, NotifyStatus, RechargeOrder,
    UserProfile, UserRecord, WithdrawOrder,
};
use crate::ops::NonceClaim;

/// The tables of the wallet, in the order [`Tx::row_counts`] reports them.
pub const TABLES: &[&str] = &[
    "institutions",
    "nonces",
    "users",
    "accounts",
    "journal_entries",
    "postings",
    "recharge_orders",
    "withdraw_orders",
    "notifications",
    "notification_attempts",
    "fx_rates",
];

/// Result of the primitives.
pub type TxResult<T> = Result<T, StoreError>;

/// Which kind of order a sequence number is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sequence {
    User,
    Recharge,
    Withdraw,
}

/// The new state of a notification after an attempt or a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationUpdate {
    pub id: i64,
    pub status: NotifyStatus,
    pub attempts: u32,
    pub next_attempt_at_ms: i64,
    pub last_error: Option<String>,
    pub delivered_at_ms: Option<i64>,
}

/// What a status change of a withdrawal writes besides the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawTransition<'a> {
    pub order_no: &'a str,
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub now_ms: i64,
    pub fail_reason: Option<&'a str>,
    pub success_at_ms: Option<i64>,
    pub lease_until_ms: Option<i64>,
}

/// Row-level operations inside one open transaction.
pub trait Tx: Send {
    // --- authentication ---------------------------------------------------

    /// Records a nonce unless the same institution used it and it has not
    /// expired; `false` means it is in use (`1004`).
    fn claim_nonce(
        &mut self,
        claim: &NonceClaim,
        now_ms: i64,
    ) -> impl Future<Output = TxResult<bool>> + Send;
    /// Deletes expired nonces; returns how many.
    fn purge_nonces(&mut self, now_ms: i64) -> impl Future<Output = TxResult<u64>> + Send;

    // --- institutions and rates ------------------------------------------

    fn institution(
        &mut self,
        id: &str,
    ) -> impl Future<Output = TxResult<Option<Institution>>> + Send;
    fn insert_institution(
        &mut self,
        inst: &Institution,
    ) -> impl Future<Output = TxResult<()>> + Send;
    fn update_institution(
        &mut self,
        inst: &Institution,
    ) -> impl Future<Output = TxResult<()>> + Send;
    fn insert_fx_rate(&mut self, rate: &FxRate) -> impl Future<Output = TxResult<()>> + Send;
    fn latest_fx_rate(
        &mut self,
        currency: &str,
    ) -> impl Future<Output = TxResult<Option<FxRate>>> + Send;

    // --- users and accounts ----------------------------------------------

    /// The next value of a sequence: unique across processes, never reused.
    fn next_sequence(&mut self, seq: Sequence) -> impl Future<Output = TxResult<i64>> + Send;
    /// Takes row locks on these accounts, in the order given (callers sort).
    /// A no-op where the backend serialises writers anyway.
    fn lock_accounts(&mut self, account_nos: &[&str]) -> impl Future<Output = TxResult<()>> + Send;
    fn user_by_out_id(
        &mut self,
        institution_id: &str,
        out_user_id: &str,
    ) -> impl Future<Output = TxResult<Option<UserRecord>>> + Send;
    /// The `out_user_id` already bound to this document, if any.
    fn user_by_document(
        &mut self,
        institution_id: &str,
        document_hash: &str,
    ) -> impl Future<Output = TxResult<Option<String>>> + Send;
    /// Creates the user and their empty account.
    fn insert_user(
        &mut self,
        user: &UserRecord,
        profile: &UserProfile,
        now_ms: i64,
    ) -> impl Future<Output = TxResult<()>> + Send;
    fn update_user_profile(
        &mut self,
        user_id: i64,
        profile: &UserProfile,
        now_ms: i64,
    ) -> impl Future<Output = TxResult<()>> + Send;
    /// The account, if it belongs to this institution (another institution's
    /// account looks exactly like a missing one).
    fn account(
        &mut self,
        institution_id: &str,
        account_no: &str,
    ) -> impl Future<Output = TxResult<Option<AccountState>>> + Send;
    /// The account whatever its institution (workers and operators).
    fn account_any(
        &mut self,
        account_no: &str,
    ) -> impl Future<Output = TxResult<Option<AccountState>>> + Send;
    fn update_kyc(
        &mut self,
        account_no: &str,
        kyc: &KycRecord,
        now_ms: i64,
    ) -> impl Future<Output = TxResult<()>> + Send;
    fn set_account_status(
        &mut self,
        account_no: &str,
        status: UserStatus,
        now_ms: i64,
    ) -> impl Future<Output = TxResult<()>> + Send;
    /// Writes the account's new balances (and recharge usage, when given).
    fn update_balances(
        &mut self,
        account_no: &str,
        available_fen: i64,
        frozen_fen: i64,
        usage: Option<&RechargeUsage>,
        now_ms: i64,
    ) -> impl Future<Output = TxResult<()>> + Send;

    // --- ledger ------------------------------------------------------------

    fn insert_entry(
        &mut self,
        entry: &JournalEntry,
        now_ms: i64,
    ) -> impl Future<Output = TxResult<()>> + Send;

    // --- recharges ----------------------------------------------------------

    fn recharge_by_out_no(
        &mut self,
        institution_id: &str,
        out_order_no: &str,
    ) -> impl Future<Output = TxResult<Option<RechargeOrder>>> + Send;
    fn recharge_by_order_no(
        &mut self,
        institution_id: &str,
        order_no: &str,
    ) -> impl Future<Output = TxResult<Option<RechargeOrder>>> + Send;
    fn insert_recharge(
        &mut self,
        order: &RechargeOrder,
    ) -> impl Future<Output = TxResult<()>> + Send;

    // --- withdrawals --------------------------------------------------------

    fn withdraw_by_out_no(
        &mut self,
        institution_id: &str,
        out_order_no: &str,
    ) -> impl Future<Output = TxResult<Option<WithdrawOrder>>> + Send;
    fn withdraw_by_order_no(
        &mut self,
        institution_id: &str,
        order_no: &str,
    ) -> impl Future<Output = TxResult<Option<WithdrawOrder>>> + Send;
    /// The order whatever its institution, locked until the transaction ends.
    fn withdraw_for_update(
        &mut self,
        order_no: &str,
    ) -> impl Future<Output = TxResult<Option<WithdrawOrder>>> + Send;
    fn insert_withdraw(
        &mut self,
        order: &WithdrawOrder,
        lease_until_ms: Option<i64>,
    ) -> impl Future<Output = TxResult<()>> + Send;
    /// Moves the order from `from` to `to`; `false` if it was not in `from` (the
    /// guard that keeps status moving forward even against a concurrent writer).
    fn transition_withdraw(
        &mut self,
        t: &WithdrawTransition<'_>,
    ) -> impl Future<Output = TxResult<bool>> + Send;
    /// `INIT` orders, and `PROCESSING` ones whose lease ran out, up to `limit`,
    /// oldest first, skipping rows another transaction holds.
    fn due_payouts(
        &mut self,
        now_ms: i64,
        limit: u32,
    ) -> impl Future<Output = TxResult<Vec<WithdrawOrder>>> + Send;
    fn set_payout_lease(
        &mut self,
        order_no: &str,
        lease_until_ms: i64,
    ) -> impl Future<Output = TxResult<()>> + Send;

    // --- notifications ------------------------------------------------------

    /// Adds a notification unless one exists for `(order_no, order_status)`.
    fn insert_notification(
        &mut self,
        n: &Notification,
    ) -> impl Future<Output = TxResult<()>> + Send;
    /// Pending notifications due at `now_ms` and not leased, up to `limit`, none
    /// of the institutions in `exclude`, skipping rows another transaction holds.
    fn due_notifications(
        &mut self,
        now_ms: i64,
        limit: u32,
        exclude: &[String],
    ) -> impl Future<Output = TxResult<Vec<Notification>>> + Send;
    fn lease_notification(
        &mut self,
        id: i64,
        lease_until_ms: i64,
    ) -> impl Future<Output = TxResult<()>> + Send;
    /// One notification, locked until the transaction ends (a late report of
    /// a delivery attempt must see, and not overwrite, a delivery made meanwhile).
    fn notification(
        &mut self,
        id: i64,
    ) -> impl Future<Output = TxResult<Option<Notification>>> + Send;
    fn notifications_of_order(
        &mut self,
        order_no: &str,
    ) -> impl Future<Output = TxResult<Vec<Notification>>> + Send;
    fn update_notification(
        &mut self,
        u: &NotificationUpdate,
    ) -> impl Future<Output = TxResult<()>> + Send;
    fn insert_attempt(&mut self, a: &Attempt) -> impl Future<Output = TxResult<()>> + Send;

    // --- operator reads and the ledger audit ---------------------------------

    fn list_institutions(&mut self) -> impl Future<Output = TxResult<Vec<Institution>>> + Send;
    /// Notifications, newest first, optionally only those in `status`.
    fn list_notifications(
        &mut self,
        status: Option<NotifyStatus>,
        limit: u32,
    ) -> impl Future<Output = TxResult<Vec<Notification>>> + Send;
    fn attempts_of(
        &mut self,
        notification_id: i64,
    ) -> impl Future<Output = TxResult<Vec<Attempt>>> + Send;
    /// A withdrawal whatever its institution, without locking it.
    fn withdraw_any(
        &mut self,
        order_no: &str,
    ) -> impl Future<Output = TxResult<Option<WithdrawOrder>>> + Send;
    /// The latest rate of every currency.
    fn latest_fx_rates(&mut self) -> impl Future<Output = TxResult<Vec<FxRate>>> + Send;
    /// The sum of all postings per (account code, currency).
    fn posting_sums(&mut self)
    -> impl Future<Output = TxResult<Vec<(String, String, i64)>>> + Send;
    /// Every account's stored (account_no, available, frozen).
    fn stored_balances(&mut self)
    -> impl Future<Output = TxResult<Vec<(String, i64, i64)>>> + Send;
    /// Entries whose postings do not sum to zero: (entry id, currency, sum).
    fn unbalanced_entries(
        &mut self,
    ) -> impl Future<Output = TxResult<Vec<(i64, String, i64)>>> + Send;
    /// How many entries and postings the journal holds.
    fn journal_counts(&mut self) -> impl Future<Output = TxResult<(u64, u64)>> + Send;
    /// Rows in each table of the wallet, by table name.
    fn row_counts(&mut self) -> impl Future<Output = TxResult<Vec<(String, i64)>>> + Send;
}
