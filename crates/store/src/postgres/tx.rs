//! [`Tx`] on PostgreSQL: tokio-postgres statements, prepared once per pooled
//! connection and cached, inside the transaction the executor opened.
//!
//! Unlike SQLite, several transactions write at once here, so the primitives
//! lock what they decide on: `lock_accounts` takes the account rows
//! `FOR UPDATE` (sorted, so concurrent transactions queue instead of
//! deadlocking), `withdraw_for_update` locks the order it settles, and the two
//! work queues (`due_payouts`, `due_notifications`) claim rows with
//! `FOR UPDATE SKIP LOCKED`, so workers in any number of processes never take the
//! same item. Every integer column is `BIGINT`, so every integer travels as `i64`.

use deadpool_postgres::Transaction;
use freewalker_domain::account::AccountState;
use freewalker_domain::ledger::JournalEntry;
use freewalker_domain::limits::RechargeUsage;
use freewalker_protocol::api::UserStatus;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use crate::error::StoreError;
use crate::model::{
    Attempt, FxRate, Institution, KycRecord, Notification, NotifyStatus, RechargeOrder,
    UserProfile, UserRecord, WithdrawOrder,
};
use crate::ops::NonceClaim;
use crate::rows::{self, RowGet};
use crate::tx::{NotificationUpdate, Sequence, Tx, TxResult, WithdrawTransition};

/// The SQLSTATEs after which the whole transaction may simply be run again:
/// it was rolled back and nothing of it is left.
const RETRYABLE_STATES: &[SqlState] = &[
    // Two transactions' reads and writes could not be ordered.
    SqlState::T_R_SERIALIZATION_FAILURE,
    // The deadlock detector chose this transaction as the victim.
    SqlState::T_R_DEADLOCK_DETECTED,
    // Another process inserted the same key first (a user synced, an order
    // applied, twice at once); run again, the command finds that row.
    SqlState::UNIQUE_VIOLATION,
    // `NOWAIT` or `lock_timeout` gave up on a row lock.
    SqlState::LOCK_NOT_AVAILABLE,
    // `statement_timeout` cancelled a statement (usually a long lock wait).
    SqlState::QUERY_CANCELED,
    // The server is shutting down or restarting (failover).
    SqlState::ADMIN_SHUTDOWN,
    SqlState::CRASH_SHUTDOWN,
    SqlState::CANNOT_CONNECT_NOW,
];

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        let text = describe(&e);
        let retryable = match e.code() {
            Some(code) => RETRYABLE_STATES.contains(code) || code.code().starts_with("08"),
            // No SQLSTATE: the connection broke, or never came up.
            None => {
                e.is_closed() || has_io_cause(&e) || text.starts_with("timeout waiting for server")
            }
        };
        if retryable {
            StoreError::Retryable(text)
        } else {
            StoreError::Database(text)
        }
    }
}

/// The error on one line with its causes: tokio-postgres prints only the kind
/// ("db error") and keeps the server's message in the source. The server's
/// messages never carry the connection password.
fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} [SQLSTATE {}]", db, db.code().code()).replace('\n', "; ");
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn has_io_cause(e: &tokio_postgres::Error) -> bool {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if c.is::<std::io::Error>() {
            return true;
        }
        cause = c.source();
    }
    false
}

impl RowGet for Row {
    fn i64(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn text(&self, i: usize) -> Result<String, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn bool(&self, i: usize) -> Result<bool, StoreError> {
        Ok(self.try_get(i)?)
    }
}

/// Statement parameters.
type Params<'p> = [&'p (dyn ToSql + Sync)];

/// An open PostgreSQL transaction (the executor began it and will end it).
pub struct PgTx<'t> {
    tx: &'t Transaction<'t>,
    /// Sequence values fetched ahead for this transaction, by sequence.
    prefetched: [Vec<i64>; 3],
    /// How many values of each sequence the batch may need (see [`PgTx::expect`]).
    expected: [usize; 3],
}

fn sequence_index(seq: Sequence) -> usize {
    match seq {
        Sequence::User => 0,
        Sequence::Recharge => 1,
        Sequence::Withdraw => 2,
    }
}

impl<'t> PgTx<'t> {
    pub fn new(tx: &'t Transaction<'t>) -> Self {
        Self {
            tx,
            prefetched: Default::default(),
            expected: [0; 3],
        }
    }

    /// Tells the transaction that its commands may take up to `count` values of
    /// `seq`: the first one fetches them all in one round trip. Values not used
    /// (a command refused, or answered from an existing order) are simply
    /// skipped: order numbers must be unique and never reused, not gap-free.
    pub fn expect(&mut self, seq: Sequence, count: usize) {
        self.expected[sequence_index(seq)] = count;
    }

    /// The row the statement returns, if any (more than one is an error).
    async fn one<T>(
        &self,
        sql: &str,
        params: &Params<'_>,
        map: impl FnOnce(&Row) -> Result<T, StoreError> + Send,
    ) -> TxResult<Option<T>> {
        let stmt = self.tx.prepare_cached(sql).await?;
        match self.tx.query_opt(&stmt, params).await? {
            Some(row) => Ok(Some(map(&row)?)),
            None => Ok(None),
        }
    }

    async fn all<T>(
        &self,
        sql: &str,
        params: &Params<'_>,
        map: impl Fn(&Row) -> Result<T, StoreError> + Send,
    ) -> TxResult<Vec<T>> {
        let stmt = self.tx.prepare_cached(sql).await?;
        self.tx
            .query(&stmt, params)
            .await?
            .iter()
            .map(map)
            .collect()
    }

    /// Runs a statement; returns the rows it changed.
    async fn exec(&self, sql: &str, params: &Params<'_>) -> TxResult<u64> {
        let stmt = self.tx.prepare_cached(sql).await?;
        Ok(self.tx.execute(&stmt, params).await?)
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

impl Tx for PgTx<'_> {
    async fn claim_nonce(&mut self, claim: &NonceClaim, now_ms: i64) -> TxResult<bool> {
        // Inserts a new pair, or takes over one whose TTL has run out; a pair
        // still in use makes the upsert a no-op (0 rows). A concurrent claim of
        // the same pair waits for this transaction, then finds the row in use.
        let n = self
            .exec(
                "INSERT INTO nonces (institution_id, nonce, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (institution_id, nonce) DO UPDATE SET expires_at = excluded.expires_at \
                 WHERE nonces.expires_at <= $4",
                &[&claim.institution_id, &claim.nonce, &claim.expires_at_ms, &now_ms],
            )
            .await?;
        Ok(n == 1)
    }

    async fn purge_nonces(&mut self, now_ms: i64) -> TxResult<u64> {
        self.exec("DELETE FROM nonces WHERE expires_at <= $1", &[&now_ms])
            .await
    }

    async fn institution(&mut self, id: &str) -> TxResult<Option<Institution>> {
        self.one(
            &format!(
                "SELECT {} FROM institutions WHERE id = $1",
                rows::INSTITUTION_COLUMNS
            ),
            &[&id],
            rows::institution,
        )
        .await
    }

    async fn insert_institution(&mut self, i: &Institution) -> TxResult<()> {
        self.exec(
            "INSERT INTO institutions (id, name, public_key_pem, signature_type, notify_url, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[&i.id, &i.name, &i.public_key_pem, &i.signature_type.as_str(), &i.notify_url, &i.enabled, &i.created_at_ms, &i.updated_at_ms],
        )
        .await?;
        Ok(())
    }

    async fn update_institution(&mut self, i: &Institution) -> TxResult<()> {
        self.exec(
            "UPDATE institutions SET name = $2, public_key_pem = $3, signature_type = $4, notify_url = $5, \
             enabled = $6, updated_at = $7 WHERE id = $1",
            &[&i.id, &i.name, &i.public_key_pem, &i.signature_type.as_str(), &i.notify_url, &i.enabled, &i.updated_at_ms],
        )
        .await?;
        Ok(())
    }

    async fn insert_fx_rate(&mut self, rate: &FxRate) -> TxResult<()> {
        self.exec(
            "INSERT INTO fx_rates (currency, rate_micro, set_at) VALUES ($1, $2, $3)",
            &[&rate.currency, &rate.rate.micro(), &rate.set_at_ms],
        )
        .await?;
        Ok(())
    }

    async fn latest_fx_rate(&mut self, currency: &str) -> TxResult<Option<FxRate>> {
        self.one(
            "SELECT currency, rate_micro, set_at FROM fx_rates WHERE currency = $1 ORDER BY id DESC LIMIT 1",
            &[&currency],
            rows::fx_rate,
        )
        .await
    }

    async fn next_sequence(&mut self, seq: Sequence) -> TxResult<i64> {
        let i = sequence_index(seq);
        if let Some(value) = self.prefetched[i].pop() {
            return Ok(value);
        }
        let sql = match seq {
            Sequence::User => {
                "SELECT nextval('user_seq') FROM generate_series(1::BIGINT, $1::BIGINT)"
            }
            Sequence::Recharge => {
                "SELECT nextval('recharge_seq') FROM generate_series(1::BIGINT, $1::BIGINT)"
            }
            Sequence::Withdraw => {
                "SELECT nextval('withdraw_seq') FROM generate_series(1::BIGINT, $1::BIGINT)"
            }
        };
        let count = i64::try_from(self.expected[i].max(1)).unwrap_or(1);
        self.expected[i] = 0;
        let mut values = self.all(sql, &[&count], |r| r.i64(0)).await?;
        // Handed out in increasing order.
        values.sort_unstable_by(|a, b| b.cmp(a));
        let value = values
            .pop()
            .ok_or_else(|| StoreError::Corrupt(format!("{sql} returned nothing")))?;
        self.prefetched[i] = values;
        Ok(value)
    }

    async fn lock_accounts(&mut self, account_nos: &[&str]) -> TxResult<()> {
        if account_nos.is_empty() {
            return Ok(());
        }
        // The sort under the lock makes every transaction take its row locks in
        // the same order, whatever order its commands came in: two batches that
        // share accounts queue behind each other instead of deadlocking.
        self.all(
            "SELECT account_no FROM accounts WHERE account_no = ANY($1) ORDER BY account_no FOR UPDATE",
            &[&account_nos],
            |_| Ok(()),
        )
        .await?;
        Ok(())
    }

    async fn user_by_out_id(
        &mut self,
        institution_id: &str,
        out_user_id: &str,
    ) -> TxResult<Option<UserRecord>> {
        self.one(
            &format!(
                "SELECT {} FROM users u JOIN accounts a ON a.user_id = u.id \
                 WHERE u.institution_id = $1 AND u.out_user_id = $2",
                rows::USER_COLUMNS
            ),
            &[&institution_id, &out_user_id],
            rows::user,
        )
        .await
    }

    async fn user_by_document(
        &mut self,
        institution_id: &str,
        document_hash: &str,
    ) -> TxResult<Option<String>> {
        self.one(
            "SELECT out_user_id FROM users WHERE institution_id = $1 AND document_hash = $2",
            &[&institution_id, &document_hash],
            |r| r.text(0),
        )
        .await
    }

    async fn insert_user(&mut self, u: &UserRecord, p: &UserProfile, now_ms: i64) -> TxResult<()> {
        self.exec(
            "INSERT INTO users (id, institution_id, out_user_id, name, nationality, id_type, id_no_sealed, \
             document_hash, id_expiry_date, birth_date, gender, mobile_sealed, email, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
            &[
                &u.user_id, &u.institution_id, &u.out_user_id, &p.name, &p.nationality, &p.id_type.as_str(),
                &p.id_no_sealed, &p.document_hash, &p.id_expiry_date, &p.birth_date,
                &p.gender.map(|g| g.as_str()), &p.mobile_sealed, &p.email, &now_ms,
            ],
        )
        .await?;
        self.exec(
            "INSERT INTO accounts (account_no, user_id, institution_id, status, kyc_level, currency, available, frozen, \
             recharge_day, recharge_day_total, recharge_year, recharge_year_total, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'CNY', 0, 0, 0, 0, 0, 0, $6, $6)",
            &[&u.account_no, &u.user_id, &u.institution_id, &u.status.as_str(), &u.kyc_level.as_str(), &now_ms],
        )
        .await?;
        Ok(())
    }

    async fn update_user_profile(
        &mut self,
        user_id: i64,
        p: &UserProfile,
        now_ms: i64,
    ) -> TxResult<()> {
        self.exec(
            "UPDATE users SET name = $2, nationality = $3, id_type = $4, id_no_sealed = $5, document_hash = $6, \
             id_expiry_date = $7, birth_date = $8, gender = $9, mobile_sealed = $10, email = $11, updated_at = $12 \
             WHERE id = $1",
            &[
                &user_id, &p.name, &p.nationality, &p.id_type.as_str(), &p.id_no_sealed, &p.document_hash,
                &p.id_expiry_date, &p.birth_date, &p.gender.map(|g| g.as_str()), &p.mobile_sealed, &p.email, &now_ms,
            ],
        )
        .await?;
        Ok(())
    }

    async fn account(
        &mut self,
        institution_id: &str,
        account_no: &str,
    ) -> TxResult<Option<AccountState>> {
        self.one(
            &format!(
                "SELECT {} FROM accounts WHERE account_no = $1 AND institution_id = $2",
                rows::ACCOUNT_COLUMNS
            ),
            &[&account_no, &institution_id],
            rows::account,
        )
        .await
    }

    async fn account_any(&mut self, account_no: &str) -> TxResult<Option<AccountState>> {
        self.one(
            &format!(
                "SELECT {} FROM accounts WHERE account_no = $1",
                rows::ACCOUNT_COLUMNS
            ),
            &[&account_no],
            rows::account,
        )
        .await
    }

    async fn update_kyc(&mut self, account_no: &str, k: &KycRecord, now_ms: i64) -> TxResult<()> {
        self.exec(
            "UPDATE users SET kyc_verified_at = $2, visa_type = $3, visa_expiry_date = $4, entry_date = $5, \
             address_sealed = $6, occupation = $7, updated_at = $8 \
             WHERE id = (SELECT user_id FROM accounts WHERE account_no = $1)",
            &[
                &account_no, &(k.verified_at_secs * 1000), &k.visa_type, &k.visa_expiry_date, &k.entry_date,
                &k.address_sealed, &k.occupation, &now_ms,
            ],
        )
        .await?;
        self.exec(
            "UPDATE accounts SET kyc_level = $2, updated_at = $3 WHERE account_no = $1",
            &[&account_no, &k.kyc_level.as_str(), &now_ms],
        )
        .await?;
        Ok(())
    }

    async fn set_account_status(
        &mut self,
        account_no: &str,
        status: UserStatus,
        now_ms: i64,
    ) -> TxResult<()> {
        self.exec(
            "UPDATE accounts SET status = $2, updated_at = $3 WHERE account_no = $1",
            &[&account_no, &status.as_str(), &now_ms],
        )
        .await?;
        Ok(())
    }

    async fn update_balances(
        &mut self,
        account_no: &str,
        available_fen: i64,
        frozen_fen: i64,
        usage: Option<&RechargeUsage>,
        now_ms: i64,
    ) -> TxResult<()> {
        let n = match usage {
            Some(u) => {
                self.exec(
                    "UPDATE accounts SET available = $2, frozen = $3, recharge_day = $4, recharge_day_total = $5, \
                     recharge_year = $6, recharge_year_total = $7, updated_at = $8 WHERE account_no = $1",
                    &[
                        &account_no, &available_fen, &frozen_fen, &i64::from(u.day_key), &u.day_total_fen,
                        &i64::from(u.year), &u.year_total_fen, &now_ms,
                    ],
                )
                .await?
            }
            None => {
                self.exec(
                    "UPDATE accounts SET available = $2, frozen = $3, updated_at = $4 WHERE account_no = $1",
                    &[&account_no, &available_fen, &frozen_fen, &now_ms],
                )
                .await?
            }
        };
        if n != 1 {
            return Err(StoreError::Corrupt(format!(
                "account {account_no} vanished"
            )));
        }
        Ok(())
    }

    async fn insert_entry(&mut self, entry: &JournalEntry, now_ms: i64) -> TxResult<()> {
        assert!(entry.is_balanced(), "refusing to write an unbalanced entry");
        // The entry and all its postings in one statement (one round trip).
        let legs: Vec<i64> = (0..entry.postings.len() as i64).collect();
        let accounts: Vec<String> = entry.postings.iter().map(|p| p.account.code()).collect();
        let currencies: Vec<&str> = entry.postings.iter().map(|p| p.currency.code()).collect();
        let amounts: Vec<i64> = entry.postings.iter().map(|p| p.amount_minor).collect();
        let written = self
            .exec(
                "WITH e AS (INSERT INTO journal_entries (kind, order_no, created_at) VALUES ($1, $2, $3) RETURNING id) \
                 INSERT INTO postings (entry_id, leg, account, currency, amount) \
                 SELECT e.id, p.leg, p.account, p.currency, p.amount FROM e, \
                 unnest($4::BIGINT[], $5::TEXT[], $6::TEXT[], $7::BIGINT[]) AS p(leg, account, currency, amount)",
                &[&entry.kind.as_str(), &entry.order_no, &now_ms, &legs, &accounts, &currencies, &amounts],
            )
            .await?;
        if written != entry.postings.len() as u64 {
            return Err(StoreError::Database(format!(
                "journal entry of {}: {written} postings written of {}",
                entry.order_no,
                entry.postings.len()
            )));
        }
        Ok(())
    }

    async fn recharge_by_out_no(
        &mut self,
        institution_id: &str,
        out_order_no: &str,
    ) -> TxResult<Option<RechargeOrder>> {
        self.one(
            &format!(
                "SELECT {} FROM recharge_orders WHERE institution_id = $1 AND out_order_no = $2",
                rows::RECHARGE_COLUMNS
            ),
            &[&institution_id, &out_order_no],
            rows::recharge,
        )
        .await
    }

    async fn recharge_by_order_no(
        &mut self,
        institution_id: &str,
        order_no: &str,
    ) -> TxResult<Option<RechargeOrder>> {
        self.one(
            &format!(
                "SELECT {} FROM recharge_orders WHERE order_no = $1 AND institution_id = $2",
                rows::RECHARGE_COLUMNS
            ),
            &[&order_no, &institution_id],
            rows::recharge,
        )
        .await
    }

    async fn insert_recharge(&mut self, o: &RechargeOrder) -> TxResult<()> {
        self.exec(
            "INSERT INTO recharge_orders (order_no, institution_id, out_order_no, account_no, amount, currency, \
             pay_amount, pay_currency, pay_method, remark, status, created_at, success_at, available_after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            &[
                &o.order_no, &o.institution_id, &o.out_order_no, &o.terms.account_no, &o.terms.amount_fen,
                &o.terms.currency.code(), &o.terms.pay_amount_minor, &o.terms.pay_currency.map(|c| c.code()),
                &o.terms.pay_method.map(|m| m.as_str()), &o.remark, &o.status.as_str(), &o.created_at_ms,
                &o.success_at_ms, &o.available_after_fen,
            ],
        )
        .await?;
        Ok(())
    }

    async fn withdraw_by_out_no(
        &mut self,
        institution_id: &str,
        out_order_no: &str,
    ) -> TxResult<Option<WithdrawOrder>> {
        self.one(
            &format!(
                "SELECT {} FROM withdraw_orders WHERE institution_id = $1 AND out_order_no = $2",
                rows::WITHDRAW_COLUMNS
            ),
            &[&institution_id, &out_order_no],
            rows::withdraw,
        )
        .await
    }

    async fn withdraw_by_order_no(
        &mut self,
        institution_id: &str,
        order_no: &str,
    ) -> TxResult<Option<WithdrawOrder>> {
        self.one(
            &format!(
                "SELECT {} FROM withdraw_orders WHERE order_no = $1 AND institution_id = $2",
                rows::WITHDRAW_COLUMNS
            ),
            &[&order_no, &institution_id],
            rows::withdraw,
        )
        .await
    }

    async fn withdraw_for_update(&mut self, order_no: &str) -> TxResult<Option<WithdrawOrder>> {
        self.one(
            &format!(
                "SELECT {} FROM withdraw_orders WHERE order_no = $1 FOR UPDATE",
                rows::WITHDRAW_COLUMNS
            ),
            &[&order_no],
            rows::withdraw,
        )
        .await
    }

    async fn insert_withdraw(
        &mut self,
        o: &WithdrawOrder,
        lease_until_ms: Option<i64>,
    ) -> TxResult<()> {
        self.exec(
            "INSERT INTO withdraw_orders (order_no, institution_id, out_order_no, account_no, amount, currency, \
             target_currency, target_amount, rate_micro, rate_set_at, branch_no, branch_name, branch_address, \
             notify_url, remark, status, fail_reason, created_at, updated_at, success_at, lease_until) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
            &[
                &o.order_no, &o.institution_id, &o.out_order_no, &o.terms.account_no, &o.terms.amount_fen,
                &o.terms.currency.code(), &o.terms.target_currency.code(), &o.target_amount_minor, &o.rate.micro(),
                &o.rate_set_at_ms, &o.terms.branch.branch_no, &o.terms.branch.branch_name,
                &o.terms.branch.branch_address, &o.notify_url, &o.remark, &o.status.as_str(), &o.fail_reason,
                &o.created_at_ms, &o.updated_at_ms, &o.success_at_ms, &lease_until_ms,
            ],
        )
        .await?;
        Ok(())
    }

    async fn transition_withdraw(&mut self, t: &WithdrawTransition<'_>) -> TxResult<bool> {
        let n = self
            .exec(
                "UPDATE withdraw_orders SET status = $3, updated_at = $4, fail_reason = COALESCE($5, fail_reason), \
                 success_at = COALESCE($6, success_at), lease_until = $7 WHERE order_no = $1 AND status = $2",
                &[
                    &t.order_no, &t.from.as_str(), &t.to.as_str(), &t.now_ms, &t.fail_reason, &t.success_at_ms,
                    &t.lease_until_ms,
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn due_payouts(&mut self, now_ms: i64, limit: u32) -> TxResult<Vec<WithdrawOrder>> {
        self.all(
            &format!(
                "SELECT {} FROM withdraw_orders WHERE status IN ('INIT', 'PROCESSING') \
                 AND (status = 'INIT' OR lease_until IS NULL OR lease_until <= $1) \
                 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                rows::WITHDRAW_COLUMNS
            ),
            &[&now_ms, &i64::from(limit)],
            rows::withdraw,
        )
        .await
    }

    async fn set_payout_lease(&mut self, order_no: &str, lease_until_ms: i64) -> TxResult<()> {
        self.exec(
            "UPDATE withdraw_orders SET lease_until = $2 WHERE order_no = $1 AND status = 'PROCESSING'",
            &[&order_no, &lease_until_ms],
        )
        .await?;
        Ok(())
    }

    async fn insert_notification(&mut self, n: &Notification) -> TxResult<()> {
        self.exec(
            "INSERT INTO notifications (order_no, institution_id, order_status, url, body, status, attempts, \
             next_attempt_at, lease_until, last_error, created_at, delivered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (order_no, order_status) DO NOTHING",
            &[
                &n.order_no, &n.institution_id, &n.order_status.as_str(), &n.url, &n.body, &n.status.as_str(),
                &i64::from(n.attempts), &n.next_attempt_at_ms, &n.lease_until_ms, &n.last_error, &n.created_at_ms,
                &n.delivered_at_ms,
            ],
        )
        .await?;
        Ok(())
    }

    async fn due_notifications(
        &mut self,
        now_ms: i64,
        limit: u32,
        exclude: &[String],
    ) -> TxResult<Vec<Notification>> {
        self.all(
            &format!(
                "SELECT {} FROM notifications WHERE status = 'PENDING' AND next_attempt_at <= $1 \
                 AND (lease_until IS NULL OR lease_until <= $1) \
                 AND institution_id <> ALL($3) \
                 ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                rows::NOTIFICATION_COLUMNS
            ),
            &[&now_ms, &i64::from(limit), &exclude],
            rows::notification,
        )
        .await
    }

    async fn lease_notification(&mut self, id: i64, lease_until_ms: i64) -> TxResult<()> {
        self.exec(
            "UPDATE notifications SET lease_until = $2 WHERE id = $1",
            &[&id, &lease_until_ms],
        )
        .await?;
        Ok(())
    }

    async fn notification(&mut self, id: i64) -> TxResult<Option<Notification>> {
        self.one(
            &format!(
                "SELECT {} FROM notifications WHERE id = $1 FOR UPDATE",
                rows::NOTIFICATION_COLUMNS
            ),
            &[&id],
            rows::notification,
        )
        .await
    }

    async fn notifications_of_order(&mut self, order_no: &str) -> TxResult<Vec<Notification>> {
        self.all(
            &format!(
                "SELECT {} FROM notifications WHERE order_no = $1 ORDER BY id",
                rows::NOTIFICATION_COLUMNS
            ),
            &[&order_no],
            rows::notification,
        )
        .await
    }

    async fn update_notification(&mut self, u: &NotificationUpdate) -> TxResult<()> {
        self.exec(
            "UPDATE notifications SET status = $2, attempts = $3, next_attempt_at = $4, last_error = $5, \
             delivered_at = $6, lease_until = NULL WHERE id = $1",
            &[&u.id, &u.status.as_str(), &i64::from(u.attempts), &u.next_attempt_at_ms, &u.last_error, &u.delivered_at_ms],
        )
        .await?;
        Ok(())
    }

    async fn insert_attempt(&mut self, a: &Attempt) -> TxResult<()> {
        self.exec(
            "INSERT INTO notification_attempts (notification_id, attempt_no, url, started_at, duration_ms, \
             http_status, error, response_excerpt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &a.notification_id, &i64::from(a.attempt_no), &a.url, &a.started_at_ms, &a.duration_ms,
                &a.http_status.map(i64::from), &a.error, &a.response_excerpt,
            ],
        )
        .await?;
        Ok(())
    }

    async fn list_institutions(&mut self) -> TxResult<Vec<Institution>> {
        self.all(
            &format!(
                "SELECT {} FROM institutions ORDER BY id",
                rows::INSTITUTION_COLUMNS
            ),
            &[],
            rows::institution,
        )
        .await
    }

    async fn list_notifications(
        &mut self,
        status: Option<NotifyStatus>,
        limit: u32,
    ) -> TxResult<Vec<Notification>> {
        self.all(
            &format!(
                "SELECT {} FROM notifications WHERE ($1::TEXT IS NULL OR status = $1) ORDER BY id DESC LIMIT $2",
                rows::NOTIFICATION_COLUMNS
            ),
            &[&status.map(|s| s.as_str()), &i64::from(limit)],
            rows::notification,
        )
        .await
    }

    async fn attempts_of(&mut self, notification_id: i64) -> TxResult<Vec<Attempt>> {
        self.all(
            &format!(
                "SELECT {} FROM notification_attempts WHERE notification_id = $1 ORDER BY id",
                rows::ATTEMPT_COLUMNS
            ),
            &[&notification_id],
            rows::attempt,
        )
        .await
    }

    async fn withdraw_any(&mut self, order_no: &str) -> TxResult<Option<WithdrawOrder>> {
        self.one(
            &format!(
                "SELECT {} FROM withdraw_orders WHERE order_no = $1",
                rows::WITHDRAW_COLUMNS
            ),
            &[&order_no],
            rows::withdraw,
        )
        .await
    }

    async fn latest_fx_rates(&mut self) -> TxResult<Vec<FxRate>> {
        self.all(
            "SELECT currency, rate_micro, set_at FROM fx_rates f \
             WHERE id = (SELECT MAX(id) FROM fx_rates g WHERE g.currency = f.currency) ORDER BY currency",
            &[],
            rows::fx_rate,
        )
        .await
    }

    async fn posting_sums(&mut self) -> TxResult<Vec<(String, String, i64)>> {
        // SUM of BIGINT is NUMERIC in PostgreSQL; the sums of a ledger in fen fit
        // a BIGINT by far, and the cast fails loudly if one ever did not.
        self.all(
            "SELECT account, currency, SUM(amount)::BIGINT FROM postings GROUP BY account, currency ORDER BY account",
            &[],
            |r| Ok((r.text(0)?, r.text(1)?, r.i64(2)?)),
        )
        .await
    }

    async fn stored_balances(&mut self) -> TxResult<Vec<(String, i64, i64)>> {
        self.all(
            "SELECT account_no, available, frozen FROM accounts ORDER BY account_no",
            &[],
            |r| Ok((r.text(0)?, r.i64(1)?, r.i64(2)?)),
        )
        .await
    }

    async fn unbalanced_entries(&mut self) -> TxResult<Vec<(i64, String, i64)>> {
        self.all(
            "SELECT entry_id, currency, SUM(amount)::BIGINT FROM postings GROUP BY entry_id, currency \
             HAVING SUM(amount) <> 0 \
             UNION ALL SELECT e.id, '', 0::BIGINT FROM journal_entries e \
             WHERE (SELECT COUNT(*) FROM postings p WHERE p.entry_id = e.id) < 2",
            &[],
            |r| Ok((r.i64(0)?, r.text(1)?, r.i64(2)?)),
        )
        .await
    }

    async fn journal_counts(&mut self) -> TxResult<(u64, u64)> {
        let entries = self
            .one("SELECT COUNT(*) FROM journal_entries", &[], |r| r.i64(0))
            .await?
            .unwrap_or(0);
        let postings = self
            .one("SELECT COUNT(*) FROM postings", &[], |r| r.i64(0))
            .await?
            .unwrap_or(0);
        Ok((count(entries), count(postings)))
    }

    async fn row_counts(&mut self) -> TxResult<Vec<(String, i64)>> {
        let mut out = Vec::with_capacity(crate::tx::TABLES.len());
        for table in crate::tx::TABLES {
            let n = self
                .one(&format!("SELECT COUNT(*) FROM {table}"), &[], |r| r.i64(0))
                .await?
                .unwrap_or(0);
            out.push(((*table).to_owned(), n));
        }
        Ok(out)
    }
}
