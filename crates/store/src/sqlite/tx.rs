//! [`Tx`] on SQLite: rusqlite statements, prepared once per connection and
//! cached. The executor serialises writers, so `lock_accounts` is a no-op and
//! "skip locked" is simply "take".

use freewalker_domain::account::AccountState;
use freewalker_domain::ledger::JournalEntry;
use freewalker_domain::limits::RechargeUsage;
use freewalker_protocol::api::UserStatus;
use rusqlite::{Connection, Row, params};

use crate::error::StoreError;
use crate::model::{
    Attempt, FxRate, Institution, KycRecord, Notification, NotifyStatus, RechargeOrder,
    UserProfile, UserRecord, WithdrawOrder,
};
use crate::ops::NonceClaim;
use crate::rows::{self, RowGet};
use crate::tx::{NotificationUpdate, Sequence, Tx, TxResult, WithdrawTransition};

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Retryable(e.to_string())
            }
            _ => StoreError::Database(e.to_string()),
        }
    }
}

impl RowGet for Row<'_> {
    fn i64(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.get(i)?)
    }
    fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.get(i)?)
    }
    fn text(&self, i: usize) -> Result<String, StoreError> {
        Ok(self.get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.get(i)?)
    }
    fn bool(&self, i: usize) -> Result<bool, StoreError> {
        Ok(self.get::<_, i64>(i)? != 0)
    }
}

/// An open SQLite transaction (the executor began it and will end it).
pub struct SqliteTx<'c> {
    conn: &'c mut Connection,
}

impl<'c> SqliteTx<'c> {
    pub fn new(conn: &'c mut Connection) -> Self {
        Self { conn }
    }

    fn one<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> TxResult<Option<T>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        match rows.next()? {
            Some(row) => Ok(Some(map(row)?)),
            None => Ok(None),
        }
    }

    fn all<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl Fn(&Row<'_>) -> Result<T, StoreError>,
    ) -> TxResult<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(map(row)?);
        }
        Ok(out)
    }

    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> TxResult<usize> {
        Ok(self.conn.prepare_cached(sql)?.execute(params)?)
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

impl Tx for SqliteTx<'_> {
    async fn claim_nonce(&mut self, claim: &NonceClaim, now_ms: i64) -> TxResult<bool> {
        // Inserts a new pair, or takes over one whose TTL has run out; a pair
        // still in use makes the upsert a no-op (0 rows).
        let n = self.exec(
            "INSERT INTO nonces (institution_id, nonce, expires_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (institution_id, nonce) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE nonces.expires_at <= ?4",
            params![
                claim.institution_id,
                claim.nonce,
                claim.expires_at_ms,
                now_ms
            ],
        )?;
        Ok(n == 1)
    }

    async fn purge_nonces(&mut self, now_ms: i64) -> TxResult<u64> {
        Ok(self.exec("DELETE FROM nonces WHERE expires_at <= ?1", params![now_ms])? as u64)
    }

    async fn institution(&mut self, id: &str) -> TxResult<Option<Institution>> {
        self.one(
            &format!(
                "SELECT {} FROM institutions WHERE id = ?1",
                rows::INSTITUTION_COLUMNS
            ),
            params![id],
            |r| rows::institution(r),
        )
    }

    async fn insert_institution(&mut self, i: &Institution) -> TxResult<()> {
        self.exec(
            "INSERT INTO institutions (id, name, public_key_pem, signature_type, notify_url, enabled, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![i.id, i.name, i.public_key_pem, i.signature_type.as_str(), i.notify_url, i.enabled as i64, i.created_at_ms, i.updated_at_ms],
        )?;
        Ok(())
    }

    async fn update_institution(&mut self, i: &Institution) -> TxResult<()> {
        self.exec(
            "UPDATE institutions SET name = ?2, public_key_pem = ?3, signature_type = ?4, notify_url = ?5, \
             enabled = ?6, updated_at = ?7 WHERE id = ?1",
            params![i.id, i.name, i.public_key_pem, i.signature_type.as_str(), i.notify_url, i.enabled as i64, i.updated_at_ms],
        )?;
        Ok(())
    }

    async fn insert_fx_rate(&mut self, rate: &FxRate) -> TxResult<()> {
        self.exec(
            "INSERT INTO fx_rates (currency, rate_micro, set_at) VALUES (?1, ?2, ?3)",
            params![rate.currency, rate.rate.micro(), rate.set_at_ms],
        )?;
        Ok(())
    }

    async fn latest_fx_rate(&mut self, currency: &str) -> TxResult<Option<FxRate>> {
        self.one(
            "SELECT currency, rate_micro, set_at FROM fx_rates WHERE currency = ?1 ORDER BY id DESC LIMIT 1",
            params![currency],
            |r| rows::fx_rate(r),
        )
    }

    async fn next_sequence(&mut self, seq: Sequence) -> TxResult<i64> {
        let name = match seq {
            Sequence::User => "user",
            Sequence::Recharge => "recharge",
            Sequence::Withdraw => "withdraw",
        };
        self.one(
            "UPDATE sequences SET value = value + 1 WHERE name = ?1 RETURNING value",
            params![name],
            |r| r.i64(0),
        )?
        .ok_or_else(|| StoreError::Corrupt(format!("sequence {name} is missing")))
    }

    async fn lock_accounts(&mut self, _account_nos: &[&str]) -> TxResult<()> {
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
                 WHERE u.institution_id = ?1 AND u.out_user_id = ?2",
                rows::USER_COLUMNS
            ),
            params![institution_id, out_user_id],
            |r| rows::user(r),
        )
    }

    async fn user_by_document(
        &mut self,
        institution_id: &str,
        document_hash: &str,
    ) -> TxResult<Option<String>> {
        self.one(
            "SELECT out_user_id FROM users WHERE institution_id = ?1 AND document_hash = ?2",
            params![institution_id, document_hash],
            |r| r.text(0),
        )
    }

    async fn insert_user(&mut self, u: &UserRecord, p: &UserProfile, now_ms: i64) -> TxResult<()> {
        self.exec(
            "INSERT INTO users (id, institution_id, out_user_id, name, nationality, id_type, id_no_sealed, \
             document_hash, id_expiry_date, birth_date, gender, mobile_sealed, email, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
            params![
                u.user_id, u.institution_id, u.out_user_id, p.name, p.nationality, p.id_type.as_str(),
                p.id_no_sealed, p.document_hash, p.id_expiry_date, p.birth_date,
                p.gender.map(|g| g.as_str()), p.mobile_sealed, p.email, now_ms
            ],
        )?;
        self.exec(
            "INSERT INTO accounts (account_no, user_id, institution_id, status, kyc_level, currency, available, frozen, \
             recharge_day, recharge_day_total, recharge_year, recharge_year_total, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'CNY', 0, 0, 0, 0, 0, 0, ?6, ?6)",
            params![u.account_no, u.user_id, u.institution_id, u.status.as_str(), u.kyc_level.as_str(), now_ms],
        )?;
        Ok(())
    }

    async fn update_user_profile(
        &mut self,
        user_id: i64,
        p: &UserProfile,
        now_ms: i64,
    ) -> TxResult<()> {
        self.exec(
            "UPDATE users SET name = ?2, nationality = ?3, id_type = ?4, id_no_sealed = ?5, document_hash = ?6, \
             id_expiry_date = ?7, birth_date = ?8, gender = ?9, mobile_sealed = ?10, email = ?11, updated_at = ?12 \
             WHERE id = ?1",
            params![
                user_id, p.name, p.nationality, p.id_type.as_str(), p.id_no_sealed, p.document_hash,
                p.id_expiry_date, p.birth_date, p.gender.map(|g| g.as_str()), p.mobile_sealed, p.email, now_ms
            ],
        )?;
        Ok(())
    }

    async fn account(
        &mut self,
        institution_id: &str,
        account_no: &str,
    ) -> TxResult<Option<AccountState>> {
        self.one(
            &format!(
                "SELECT {} FROM accounts WHERE account_no = ?1 AND institution_id = ?2",
                rows::ACCOUNT_COLUMNS
            ),
            params![account_no, institution_id],
            |r| rows::account(r),
        )
    }

    async fn account_any(&mut self, account_no: &str) -> TxResult<Option<AccountState>> {
        self.one(
            &format!(
                "SELECT {} FROM accounts WHERE account_no = ?1",
                rows::ACCOUNT_COLUMNS
            ),
            params![account_no],
            |r| rows::account(r),
        )
    }

    async fn update_kyc(&mut self, account_no: &str, k: &KycRecord, now_ms: i64) -> TxResult<()> {
        self.exec(
            "UPDATE users SET kyc_verified_at = ?2, visa_type = ?3, visa_expiry_date = ?4, entry_date = ?5, \
             address_sealed = ?6, occupation = ?7, updated_at = ?8 \
             WHERE id = (SELECT user_id FROM accounts WHERE account_no = ?1)",
            params![account_no, k.verified_at_secs * 1000, k.visa_type, k.visa_expiry_date, k.entry_date, k.address_sealed, k.occupation, now_ms],
        )?;
        self.exec(
            "UPDATE accounts SET kyc_level = ?2, updated_at = ?3 WHERE account_no = ?1",
            params![account_no, k.kyc_level.as_str(), now_ms],
        )?;
        Ok(())
    }

    async fn set_account_status(
        &mut self,
        account_no: &str,
        status: UserStatus,
        now_ms: i64,
    ) -> TxResult<()> {
        self.exec(
            "UPDATE accounts SET status = ?2, updated_at = ?3 WHERE account_no = ?1",
            params![account_no, status.as_str(), now_ms],
        )?;
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
            Some(u) => self.exec(
                "UPDATE accounts SET available = ?2, frozen = ?3, recharge_day = ?4, recharge_day_total = ?5, \
                 recharge_year = ?6, recharge_year_total = ?7, updated_at = ?8 WHERE account_no = ?1",
                params![account_no, available_fen, frozen_fen, u.day_key, u.day_total_fen, u.year, u.year_total_fen, now_ms],
            )?,
            None => self.exec(
                "UPDATE accounts SET available = ?2, frozen = ?3, updated_at = ?4 WHERE account_no = ?1",
                params![account_no, available_fen, frozen_fen, now_ms],
            )?,
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
        let entry_id = self
            .one(
                "INSERT INTO journal_entries (kind, order_no, created_at) VALUES (?1, ?2, ?3) RETURNING id",
                params![entry.kind.as_str(), entry.order_no, now_ms],
                |r| r.i64(0),
            )?
            .ok_or_else(|| StoreError::Database("journal entry id not returned".into()))?;
        for (leg, p) in entry.postings.iter().enumerate() {
            self.exec(
                "INSERT INTO postings (entry_id, leg, account, currency, amount) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![entry_id, leg as i64, p.account.code(), p.currency.code(), p.amount_minor],
            )?;
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
                "SELECT {} FROM recharge_orders WHERE institution_id = ?1 AND out_order_no = ?2",
                rows::RECHARGE_COLUMNS
            ),
            params![institution_id, out_order_no],
            |r| rows::recharge(r),
        )
    }

    async fn recharge_by_order_no(
        &mut self,
        institution_id: &str,
        order_no: &str,
    ) -> TxResult<Option<RechargeOrder>> {
        self.one(
            &format!(
                "SELECT {} FROM recharge_orders WHERE order_no = ?1 AND institution_id = ?2",
                rows::RECHARGE_COLUMNS
            ),
            params![order_no, institution_id],
            |r| rows::recharge(r),
        )
    }

    async fn insert_recharge(&mut self, o: &RechargeOrder) -> TxResult<()> {
        self.exec(
            "INSERT INTO recharge_orders (order_no, institution_id, out_order_no, account_no, amount, currency, \
             pay_amount, pay_currency, pay_method, remark, status, created_at, success_at, available_after) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                o.order_no, o.institution_id, o.out_order_no, o.terms.account_no, o.terms.amount_fen,
                o.terms.currency.code(), o.terms.pay_amount_minor, o.terms.pay_currency.map(|c| c.code()),
                o.terms.pay_method.map(|m| m.as_str()), o.remark, o.status.as_str(), o.created_at_ms,
                o.success_at_ms, o.available_after_fen
            ],
        )?;
        Ok(())
    }

    async fn withdraw_by_out_no(
        &mut self,
        institution_id: &str,
        out_order_no: &str,
    ) -> TxResult<Option<WithdrawOrder>> {
        self.one(
            &format!(
                "SELECT {} FROM withdraw_orders WHERE institution_id = ?1 AND out_order_no = ?2",
                rows::WITHDRAW_COLUMNS
            ),
            params![institution_id, out_order_no],
            |r| rows::withdraw(r),
        )
    }

    async fn withdraw_by_order_no(
        &mut self,
        institution_id: &str,
        order_no: &str,
    ) -> TxResult<Option<WithdrawOrder>> {
        self.one(
            &format!(
                "SELECT {} FROM withdraw_orders WHERE order_no = ?1 AND institution_id = ?2",
                rows::WITHDRAW_COLUMNS
            ),
            params![order_no, institution_id],
            |r| rows::withdraw(r),
        )
    }

    async fn withdraw_for_update(&mut self, order_no: &str) -> TxResult<Option<WithdrawOrder>> {
        self.withdraw_any(order_no).await
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
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
            params![
                o.order_no, o.institution_id, o.out_order_no, o.terms.account_no, o.terms.amount_fen,
                o.terms.currency.code(), o.terms.target_currency.code(), o.target_amount_minor, o.rate.micro(),
                o.rate_set_at_ms, o.terms.branch.branch_no, o.terms.branch.branch_name,
                o.terms.branch.branch_address, o.notify_url, o.remark, o.status.as_str(), o.fail_reason,
                o.created_at_ms, o.updated_at_ms, o.success_at_ms, lease_until_ms
            ],
        )?;
        Ok(())
    }

    async fn transition_withdraw(&mut self, t: &WithdrawTransition<'_>) -> TxResult<bool> {
        let n = self.exec(
            "UPDATE withdraw_orders SET status = ?3, updated_at = ?4, fail_reason = COALESCE(?5, fail_reason), \
             success_at = COALESCE(?6, success_at), lease_until = ?7 WHERE order_no = ?1 AND status = ?2",
            params![t.order_no, t.from.as_str(), t.to.as_str(), t.now_ms, t.fail_reason, t.success_at_ms, t.lease_until_ms],
        )?;
        Ok(n == 1)
    }

    async fn due_payouts(&mut self, now_ms: i64, limit: u32) -> TxResult<Vec<WithdrawOrder>> {
        self.all(
            &format!(
                "SELECT {} FROM withdraw_orders WHERE status IN ('INIT', 'PROCESSING') \
                 AND (status = 'INIT' OR lease_until IS NULL OR lease_until <= ?1) \
                 ORDER BY created_at LIMIT ?2",
                rows::WITHDRAW_COLUMNS
            ),
            params![now_ms, limit],
            |r| rows::withdraw(r),
        )
    }

    async fn set_payout_lease(&mut self, order_no: &str, lease_until_ms: i64) -> TxResult<()> {
        self.exec(
            "UPDATE withdraw_orders SET lease_until = ?2 WHERE order_no = ?1 AND status = 'PROCESSING'",
            params![order_no, lease_until_ms],
        )?;
        Ok(())
    }

    async fn insert_notification(&mut self, n: &Notification) -> TxResult<()> {
        self.exec(
            "INSERT INTO notifications (order_no, institution_id, order_status, url, body, status, attempts, \
             next_attempt_at, lease_until, last_error, created_at, delivered_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
             ON CONFLICT (order_no, order_status) DO NOTHING",
            params![
                n.order_no, n.institution_id, n.order_status.as_str(), n.url, n.body, n.status.as_str(),
                n.attempts, n.next_attempt_at_ms, n.lease_until_ms, n.last_error, n.created_at_ms, n.delivered_at_ms
            ],
        )?;
        Ok(())
    }

    async fn due_notifications(
        &mut self,
        now_ms: i64,
        limit: u32,
        exclude: &[String],
    ) -> TxResult<Vec<Notification>> {
        let exclude =
            serde_json::to_string(exclude).map_err(|e| StoreError::Database(e.to_string()))?;
        self.all(
            &format!(
                "SELECT {} FROM notifications INDEXED BY notifications_due \
                 WHERE status = 'PENDING' AND next_attempt_at <= ?1 \
                 AND (lease_until IS NULL OR lease_until <= ?1) \
                 AND institution_id NOT IN (SELECT value FROM json_each(?3)) \
                 ORDER BY next_attempt_at LIMIT ?2",
                rows::NOTIFICATION_COLUMNS
            ),
            params![now_ms, limit, exclude],
            |r| rows::notification(r),
        )
    }

    async fn lease_notification(&mut self, id: i64, lease_until_ms: i64) -> TxResult<()> {
        self.exec(
            "UPDATE notifications SET lease_until = ?2 WHERE id = ?1",
            params![id, lease_until_ms],
        )?;
        Ok(())
    }

    async fn notification(&mut self, id: i64) -> TxResult<Option<Notification>> {
        self.one(
            &format!(
                "SELECT {} FROM notifications WHERE id = ?1",
                rows::NOTIFICATION_COLUMNS
            ),
            params![id],
            |r| rows::notification(r),
        )
    }

    async fn notifications_of_order(&mut self, order_no: &str) -> TxResult<Vec<Notification>> {
        self.all(
            &format!(
                "SELECT {} FROM notifications WHERE order_no = ?1 ORDER BY id",
                rows::NOTIFICATION_COLUMNS
            ),
            params![order_no],
            |r| rows::notification(r),
        )
    }

    async fn update_notification(&mut self, u: &NotificationUpdate) -> TxResult<()> {
        self.exec(
            "UPDATE notifications SET status = ?2, attempts = ?3, next_attempt_at = ?4, last_error = ?5, \
             delivered_at = ?6, lease_until = NULL WHERE id = ?1",
            params![u.id, u.status.as_str(), u.attempts, u.next_attempt_at_ms, u.last_error, u.delivered_at_ms],
        )?;
        Ok(())
    }

    async fn insert_attempt(&mut self, a: &Attempt) -> TxResult<()> {
        self.exec(
            "INSERT INTO notification_attempts (notification_id, attempt_no, url, started_at, duration_ms, \
             http_status, error, response_excerpt) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![a.notification_id, a.attempt_no, a.url, a.started_at_ms, a.duration_ms, a.http_status, a.error, a.response_excerpt],
        )?;
        Ok(())
    }

    async fn list_institutions(&mut self) -> TxResult<Vec<Institution>> {
        self.all(
            &format!(
                "SELECT {} FROM institutions ORDER BY id",
                rows::INSTITUTION_COLUMNS
            ),
            [],
            |r| rows::institution(r),
        )
    }

    async fn list_notifications(
        &mut self,
        status: Option<NotifyStatus>,
        limit: u32,
    ) -> TxResult<Vec<Notification>> {
        self.all(
            &format!(
                "SELECT {} FROM notifications WHERE (?1 IS NULL OR status = ?1) ORDER BY id DESC LIMIT ?2",
                rows::NOTIFICATION_COLUMNS
            ),
            params![status.map(|s| s.as_str()), limit],
            |r| rows::notification(r),
        )
    }

    async fn attempts_of(&mut self, notification_id: i64) -> TxResult<Vec<Attempt>> {
        self.all(
            &format!(
                "SELECT {} FROM notification_attempts WHERE notification_id = ?1 ORDER BY id",
                rows::ATTEMPT_COLUMNS
            ),
            params![notification_id],
            |r| rows::attempt(r),
        )
    }

    async fn withdraw_any(&mut self, order_no: &str) -> TxResult<Option<WithdrawOrder>> {
        self.one(
            &format!(
                "SELECT {} FROM withdraw_orders WHERE order_no = ?1",
                rows::WITHDRAW_COLUMNS
            ),
            params![order_no],
            |r| rows::withdraw(r),
        )
    }

    async fn latest_fx_rates(&mut self) -> TxResult<Vec<FxRate>> {
        self.all(
            "SELECT currency, rate_micro, set_at FROM fx_rates f \
             WHERE id = (SELECT MAX(id) FROM fx_rates g WHERE g.currency = f.currency) ORDER BY currency",
            [],
            |r| rows::fx_rate(r),
        )
    }

    async fn posting_sums(&mut self) -> TxResult<Vec<(String, String, i64)>> {
        self.all(
            "SELECT account, currency, SUM(amount) FROM postings GROUP BY account, currency ORDER BY account",
            [],
            |r| Ok((r.text(0)?, r.text(1)?, r.i64(2)?)),
        )
    }

    async fn stored_balances(&mut self) -> TxResult<Vec<(String, i64, i64)>> {
        self.all(
            "SELECT account_no, available, frozen FROM accounts ORDER BY account_no",
            [],
            |r| Ok((r.text(0)?, r.i64(1)?, r.i64(2)?)),
        )
    }

    async fn unbalanced_entries(&mut self) -> TxResult<Vec<(i64, String, i64)>> {
        self.all(
            "SELECT entry_id, currency, SUM(amount) FROM postings GROUP BY entry_id, currency HAVING SUM(amount) <> 0 \
             UNION ALL SELECT e.id, '', 0 FROM journal_entries e \
             WHERE (SELECT COUNT(*) FROM postings p WHERE p.entry_id = e.id) < 2",
            [],
            |r| Ok((r.i64(0)?, r.text(1)?, r.i64(2)?)),
        )
    }

    async fn journal_counts(&mut self) -> TxResult<(u64, u64)> {
        let entries = self
            .one("SELECT COUNT(*) FROM journal_entries", [], |r| r.i64(0))?
            .unwrap_or(0);
        let postings = self
            .one("SELECT COUNT(*) FROM postings", [], |r| r.i64(0))?
            .unwrap_or(0);
        Ok((count(entries), count(postings)))
    }

    async fn row_counts(&mut self) -> TxResult<Vec<(String, i64)>> {
        let mut out = Vec::with_capacity(crate::tx::TABLES.len());
        for table in crate::tx::TABLES {
            let n = self
                .one(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.i64(0))?
                .unwrap_or(0);
            out.push(((*table).to_owned(), n));
        }
        Ok(out)
    }
}
