//! Store-level stories, each written once and run against every backend.
//!
//! SQLite always runs, on a file in a fresh temporary directory. PostgreSQL runs
//! when `FREEWALKER_TEST_DATABASE_URL` names a database (for example
//! `postgres://postgres@127.0.0.1:5432/test`): each test creates its own schema
//! and drops it at the end, so tests run in parallel on one database. Without
//! the variable the PostgreSQL variants say so on stderr and pass; CI sets it.
//!
//! Several stories open two `Store`s on one database: two "processes" sharing
//! it, which is what PostgreSQL is for (and what SQLite allows for the operator
//! commands).
//!
//! The stories talk to the store only through `Store::execute` and
//! `Store::query`, as the server does.

// Amounts are written yuan_fen, the way they read on the wire: `500_00` is
// 500.00 CNY.
#![allow(clippy::inconsistent_digit_grouping)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use freewalker_domain::DomainError;
use freewalker_domain::fx::Rate;
use freewalker_domain::recharge::RechargeTerms;
use freewalker_domain::withdraw::{PayoutOutcome, WithdrawTerms};
use freewalker_protocol::api::{BranchInfo, Gender, IdType, OrderStatus, PayMethod};
use freewalker_protocol::currency::Currency;
use freewalker_protocol::signature::SignatureType;
use freewalker_store::model::{
    Attempt, DeliveryResult, NotifyStatus, RechargeOrder, UserProfile, UserRecord, WithdrawOrder,
};
use freewalker_store::ops::{
    InstitutionInput, NonceClaim, OrderRef, RechargeInput, UserSyncInput, WithdrawInput,
};
use freewalker_store::{
    Command, Op, OpError, Output, Query, QueryOutput, Rules, Store, StoreError, StoreOptions,
};

/// The environment variable naming the PostgreSQL test database.
const PG_URL_VAR: &str = "FREEWALKER_TEST_DATABASE_URL";

/// 2026-11-26 10:00:00 in UTC+08:00: the time every command is decided at,
/// unless a story moves it.
const NOW: i64 = 1_795_658_400_000;
const MINUTE_MS: i64 = 60_000;

const INST: &str = "INST001";
const OTHER_INST: &str = "INST002";

// --- backends ----------------------------------------------------------------

/// Where a test's data lives; cleaned up when dropped, even after a failure.
enum TestDb {
    Sqlite { dir: PathBuf },
    Postgres { url: String, schema: String },
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// A name unique to this test in this run (and across concurrent runs).
fn unique_name(story: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let mut name = format!(
        "fwt_{}_{}_{nanos}_{story}",
        std::process::id(),
        NEXT_ID.fetch_add(1, Ordering::Relaxed)
    );
    name.truncate(63);
    name
}

impl TestDb {
    fn sqlite(story: &str) -> TestDb {
        let dir = std::env::temp_dir().join(unique_name(story));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TestDb::Sqlite { dir }
    }

    /// `None` (with a note) when no PostgreSQL test database is configured.
    fn postgres(story: &str) -> Option<TestDb> {
        match std::env::var(PG_URL_VAR) {
            Ok(url) if !url.is_empty() => Some(TestDb::Postgres {
                url,
                schema: unique_name(story),
            }),
            _ => {
                eprintln!(
                    "{story}: skipped on PostgreSQL: set {PG_URL_VAR}=postgres://user@host:port/db to run it"
                );
                None
            }
        }
    }

    fn options(&self) -> StoreOptions {
        match self {
            TestDb::Sqlite { dir } => {
                StoreOptions::new(format!("sqlite://{}", dir.join("wallet.db").display()))
            }
            TestDb::Postgres { url, schema } => StoreOptions {
                schema: Some(schema.clone()),
                pool_connections_max: 6,
                writers: 3,
                ..StoreOptions::new(url.clone())
            },
        }
    }

    /// Opens one more store on this database: another "process".
    async fn open(&self) -> Store {
        Store::open(&self.options(), Rules::default())
            .await
            .expect("the store opens")
    }

    /// Two stores on this database. On PostgreSQL they open at the same moment,
    /// so both migrate at once (the advisory lock must make that safe). On
    /// SQLite they open one after the other: `PRAGMA journal_mode=WAL` on a new
    /// file fails with "database is locked" (the busy timeout does not cover
    /// it) if another connection is opening the file at the same moment.
    async fn open_two(&self) -> (Store, Store) {
        match self {
            TestDb::Sqlite { .. } => (self.open().await, self.open().await),
            TestDb::Postgres { .. } => tokio::join!(self.open(), self.open()),
        }
    }

    /// Runs SQL behind the store's back; `Err` carries the database's refusal.
    async fn raw_sql(&self, sql: &str) -> Result<(), String> {
        match self {
            TestDb::Sqlite { dir } => {
                let conn =
                    rusqlite::Connection::open(dir.join("wallet.db")).map_err(|e| e.to_string())?;
                conn.execute_batch(sql).map_err(|e| e.to_string())
            }
            TestDb::Postgres { url, schema } => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("SET search_path = {schema}; {sql}"))
                    .await
                    .map_err(|e| {
                        e.as_db_error()
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| e.to_string())
                    })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDb::Postgres { url, schema } => {
                // Drop runs inside the test's runtime, which cannot block on a
                // future: use a thread with a runtime of its own.
                let (url, name) = (url.clone(), schema.clone());
                let dropped = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(async {
                        let (client, connection) =
                            tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
                        tokio::spawn(connection);
                        client
                            .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                            .await
                    })
                    .map_err(std::io::Error::other)
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("could not drop test schema {schema}: {dropped:?}");
                }
            }
        }
    }
}

/// Instantiates each story once per backend: `sqlite::story` and `postgres::story`.
macro_rules! stories {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let db = super::TestDb::sqlite(stringify!($story));
                    super::$story(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let Some(db) = super::TestDb::postgres(stringify!($story)) else {
                        return;
                    };
                    super::$story(&db).await;
                }
            )*
        }
    };
}

stories!(
    users_and_recharges,
    nonces_are_claimed_once,
    withdrawal_lifecycle,
    concurrent_withdrawals_never_overdraw,
    concurrent_identical_recharges_make_one_order,
    concurrent_user_syncs_make_one_user,
    the_database_refuses_what_the_code_never_does,
    a_panicking_command_fails_alone,
);

// --- inputs ------------------------------------------------------------------

fn cmd(op: Op) -> Command {
    Command {
        nonce: None,
        op,
        now_ms: NOW,
    }
}

fn put_institution(id: &str) -> Op {
    Op::PutInstitution {
        input: InstitutionInput {
            id: id.to_owned(),
            name: Some(format!("{id} Bank")),
            public_key_pem: Some(
                "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n".to_owned(),
            ),
            signature_type: Some(SignatureType::Rsa),
            notify_url: Some(Some(format!("https://{id}.example/notify"))),
            enabled: None,
        },
        create: true,
    }
}

fn user_sync(institution_id: &str, out_user_id: &str, document: &str) -> Op {
    Op::UserSync(UserSyncInput {
        institution_id: institution_id.to_owned(),
        out_user_id: out_user_id.to_owned(),
        profile: UserProfile {
            name: "JOHN SMITH".to_owned(),
            nationality: "USA".to_owned(),
            id_type: IdType::Passport,
            id_no_sealed: format!("sealed:{document}"),
            document_hash: format!("hash:{document}"),
            id_expiry_date: Some("2030-01-31".to_owned()),
            birth_date: Some("1990-05-17".to_owned()),
            gender: Some(Gender::M),
            mobile_sealed: Some("sealed:+14155550100".to_owned()),
            email: Some("john@example.com".to_owned()),
        },
    })
}

fn recharge_terms(account_no: &str, amount_fen: i64) -> RechargeTerms {
    RechargeTerms {
        account_no: account_no.to_owned(),
        amount_fen,
        currency: Currency::CNY,
        pay_amount_minor: Some(amount_fen / 7),
        pay_currency: Some(Currency::USD),
        pay_method: Some(PayMethod::ForeignCard),
    }
}

fn recharge(out_order_no: &str, account_no: &str, amount_fen: i64) -> Op {
    Op::RechargeApply(RechargeInput {
        institution_id: INST.to_owned(),
        out_order_no: out_order_no.to_owned(),
        terms: recharge_terms(account_no, amount_fen),
        remark: Some("top-up".to_owned()),
    })
}

fn branch() -> BranchInfo {
    BranchInfo {
        branch_no: "B001".to_owned(),
        branch_name: "Pudong Branch".to_owned(),
        branch_address: "1 Century Avenue, Shanghai".to_owned(),
    }
}

fn withdraw(out_order_no: &str, account_no: &str, amount_fen: i64, target: Currency) -> Op {
    Op::WithdrawConfirm(WithdrawInput {
        institution_id: INST.to_owned(),
        out_order_no: out_order_no.to_owned(),
        terms: WithdrawTerms {
            account_no: account_no.to_owned(),
            amount_fen,
            currency: Currency::CNY,
            target_currency: target,
            branch: branch(),
        },
        notify_url: None,
        remark: None,
    })
}

fn settle(order: &WithdrawOrder, outcome: PayoutOutcome) -> Op {
    Op::SettleWithdrawal {
        order_no: order.order_no.clone(),
        account_no: order.terms.account_no.clone(),
        outcome,
    }
}

// --- running commands and reads ---------------------------------------------------

async fn run(store: &Store, op: Op) -> Output {
    let name = op.name();
    match store.execute(cmd(op)).await {
        Ok(out) => out,
        Err(e) => panic!("{name} failed: {e:?}"),
    }
}

async fn refused(store: &Store, op: Op) -> OpError {
    let name = op.name();
    match store.execute(cmd(op)).await {
        Ok(out) => panic!("{name} was accepted: {out:?}"),
        Err(e) => e,
    }
}

fn domain(e: OpError) -> DomainError {
    match e {
        OpError::Domain(d) => d,
        other => panic!("expected a domain refusal, got {other:?}"),
    }
}

async fn new_user(store: &Store, out_user_id: &str) -> UserRecord {
    match run(store, user_sync(INST, out_user_id, out_user_id)).await {
        Output::UserSynced { user, .. } => user,
        other => panic!("unexpected {other:?}"),
    }
}

async fn recharged(store: &Store, op: Op) -> RechargeOrder {
    match run(store, op).await {
        Output::Recharge(o) => o,
        other => panic!("unexpected {other:?}"),
    }
}

async fn withdrawn(store: &Store, op: Op) -> WithdrawOrder {
    match run(store, op).await {
        Output::Withdraw(o) => o,
        other => panic!("unexpected {other:?}"),
    }
}

/// (available, frozen) of an account.
async fn balances(store: &Store, account_no: &str) -> (i64, i64) {
    match store.query(Query::Account(account_no.to_owned())).await {
        Ok(QueryOutput::Account(Some(a))) => (a.available_fen, a.frozen_fen),
        other => panic!("account {account_no}: {other:?}"),
    }
}

async fn rows_in(store: &Store, table: &str) -> i64 {
    let counts = store.row_counts().await.expect("row counts");
    counts
        .into_iter()
        .find(|(t, _)| t == table)
        .map(|(_, n)| n)
        .unwrap_or_else(|| panic!("no table {table}"))
}

async fn assert_ledger_clean(store: &Store) {
    let report = store.verify_ledger().await.expect("the audit runs");
    assert!(
        report.mismatches.is_empty(),
        "ledger mismatches: {:?}",
        report.mismatches
    );
}

/// An institution and one user with `amount_fen` recharged.
async fn funded_account(store: &Store, amount_fen: i64) -> String {
    run(store, put_institution(INST)).await;
    let user = new_user(store, "U1").await;
    recharged(store, recharge("R-FUND", &user.account_no, amount_fen)).await;
    user.account_no
}

// --- stories -------------------------------------------------------------------

/// §4.1, §4.3, §4.4, §7: institutions, users, recharges and their idempotency.
async fn users_and_recharges(db: &TestDb) {
    let store = db.open().await;
    assert!(matches!(store.backend_name(), "sqlite" | "postgres"));

    // An institution, once.
    match run(&store, put_institution(INST)).await {
        Output::Institution(i) => assert!(i.enabled && i.signature_type == SignatureType::Rsa),
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        refused(&store, put_institution(INST)).await,
        OpError::AlreadyExists(_)
    ));
    let inst = store.institution(INST).await.unwrap().expect("registered");
    assert_eq!(
        inst.notify_url.as_deref(),
        Some("https://INST001.example/notify")
    );
    assert!(store.institution("NOPE").await.unwrap().is_none());

    // A user: created on the first sync, updated on the next.
    let user = match run(&store, user_sync(INST, "U1", "P123")).await {
        Output::UserSynced { user, created } => {
            assert!(created);
            user
        }
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(user.account_no.len(), 16);
    match run(&store, user_sync(INST, "U1", "P123")).await {
        Output::UserSynced {
            user: again,
            created,
        } => {
            assert!(!created);
            assert_eq!(again.account_no, user.account_no);
        }
        other => panic!("unexpected {other:?}"),
    }
    // The same document under another out_user_id: 3011.
    let e = domain(refused(&store, user_sync(INST, "U2", "P123")).await);
    assert_eq!(e, DomainError::DocumentBound);

    // A recharge, then the very same request: one order, credited once.
    let first = recharged(&store, recharge("R-1", &user.account_no, 100_00)).await;
    assert!(first.order_no.starts_with('R'), "{}", first.order_no);
    assert_eq!(first.status, OrderStatus::Success);
    assert_eq!(first.available_after_fen, 100_00);
    let again = recharged(&store, recharge("R-1", &user.account_no, 100_00)).await;
    assert_eq!(again, first);
    assert_eq!(balances(&store, &user.account_no).await, (100_00, 0));

    // The same out_order_no with another amount: 3005, nothing changes.
    let e = domain(refused(&store, recharge("R-1", &user.account_no, 200_00)).await);
    assert!(
        matches!(e, DomainError::OrderConflict(ref m) if m.contains("amount")),
        "{e:?}"
    );
    assert_eq!(e.ret_code().to_string(), "3005");
    assert_eq!(balances(&store, &user.account_no).await, (100_00, 0));

    // Queries by either number, or both.
    let by = |out: Option<&str>, no: Option<&str>| {
        Op::RechargeQuery(OrderRef {
            institution_id: INST.to_owned(),
            out_order_no: out.map(str::to_owned),
            order_no: no.map(str::to_owned),
        })
    };
    for op in [
        by(Some("R-1"), None),
        by(None, Some(&first.order_no)),
        by(Some("R-1"), Some(&first.order_no)),
    ] {
        assert_eq!(recharged(&store, op).await, first);
    }
    assert_eq!(
        domain(refused(&store, by(Some("R-404"), None)).await),
        DomainError::OrderNotFound
    );

    // Another institution sees neither the account nor the order.
    run(&store, put_institution(OTHER_INST)).await;
    let foreign = Op::AccountQuery {
        institution_id: OTHER_INST.to_owned(),
        account_no: user.account_no.clone(),
    };
    assert!(matches!(
        domain(refused(&store, foreign).await),
        DomainError::AccountNotFound(_)
    ));
    let foreign = Op::RechargeQuery(OrderRef {
        institution_id: OTHER_INST.to_owned(),
        out_order_no: None,
        order_no: Some(first.order_no.clone()),
    });
    assert_eq!(
        domain(refused(&store, foreign).await),
        DomainError::OrderNotFound
    );

    // A recharge to a missing account is refused and writes nothing.
    assert!(matches!(
        domain(refused(&store, recharge("R-2", "6200000000000000", 1_00)).await),
        DomainError::AccountNotFound(_)
    ));
    assert_eq!(rows_in(&store, "recharge_orders").await, 1);
    assert_eq!(rows_in(&store, "users").await, 1);
    assert_eq!(rows_in(&store, "institutions").await, 2);

    let report = store.verify_ledger().await.unwrap();
    assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
    assert_eq!(
        (
            report.accounts_checked,
            report.entries_checked,
            report.postings_checked
        ),
        (1, 1, 2)
    );
}

/// §2: a nonce is accepted once per institution within its TTL, whichever
/// process sees it, and can be used again once expired.
async fn nonces_are_claimed_once(db: &TestDb) {
    let (a, b) = db.open_two().await;
    run(&a, put_institution(INST)).await;
    let with_nonce = |nonce: &str, now_ms: i64, op: Op| Command {
        nonce: Some(NonceClaim {
            institution_id: INST.to_owned(),
            nonce: nonce.to_owned(),
            expires_at_ms: now_ms + 5 * MINUTE_MS,
        }),
        op,
        now_ms,
    };

    a.execute(with_nonce("n-1", NOW, Op::Nothing))
        .await
        .expect("first use");
    assert!(matches!(
        a.execute(with_nonce("n-1", NOW, Op::Nothing)).await,
        Err(OpError::NonceUsed)
    ));
    // Another process sharing the database refuses it too.
    assert!(matches!(
        b.execute(with_nonce("n-1", NOW + 1_000, Op::Nothing)).await,
        Err(OpError::NonceUsed)
    ));
    // Another institution's nonce of the same text is its own.
    let other = Command {
        nonce: Some(NonceClaim {
            institution_id: OTHER_INST.to_owned(),
            nonce: "n-1".to_owned(),
            expires_at_ms: NOW + 5 * MINUTE_MS,
        }),
        op: Op::Nothing,
        now_ms: NOW,
    };
    b.execute(other).await.expect("a different institution");

    // A refused request still uses its nonce (§2: recorded once the signature holds).
    let missing = recharge("R-X", "6200000000000000", 1_00);
    assert!(matches!(
        a.execute(with_nonce("n-2", NOW, missing)).await,
        Err(OpError::Domain(_))
    ));
    assert!(matches!(
        b.execute(with_nonce("n-2", NOW, Op::Nothing)).await,
        Err(OpError::NonceUsed)
    ));

    // Concurrent uses of one fresh nonce across both processes: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let c = with_nonce("n-race", NOW, Op::Nothing);
        tasks.push(tokio::spawn(async move { store.execute(c).await }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(OpError::NonceUsed) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(won, 1);

    // Once expired, the nonce is free again; the purge removes what expired.
    let later = NOW + 6 * MINUTE_MS;
    b.execute(with_nonce("n-1", later, Op::Nothing))
        .await
        .expect("expired nonce reused");
    let purge = Command {
        nonce: None,
        op: Op::PurgeNonces,
        now_ms: later,
    };
    match a.execute(purge).await.unwrap() {
        // n-1 of OTHER_INST, n-2 and n-race expired; n-1 of INST was renewed.
        Output::Count(n) => assert_eq!(n, 3),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(rows_in(&a, "nonces").await, 1);
}

/// §4.5, §4.8: confirm freezes, the payout worker claims, settling debits or
/// releases and writes the notification, the delivery worker claims and records.
async fn withdrawal_lifecycle(db: &TestDb) {
    let store = db.open().await;
    let account = funded_account(&store, 500_00).await;
    run(
        &store,
        Op::SetFxRate {
            currency: "USD".to_owned(),
            rate: Rate::parse("718.25").unwrap(),
        },
    )
    .await;

    // Confirm: 50.00 CNY at 718.25 is 6.96 USD; the amount is frozen.
    let order = withdrawn(&store, withdraw("W-1", &account, 50_00, Currency::USD)).await;
    assert!(order.order_no.starts_with('W'));
    assert_eq!(order.status, OrderStatus::Init);
    assert_eq!(order.target_amount_minor, 6_96);
    assert_eq!(order.rate.to_text(), "718.25");
    assert_eq!(balances(&store, &account).await, (450_00, 50_00));
    // The same request: the same order. Another branch: 3005.
    assert_eq!(
        withdrawn(&store, withdraw("W-1", &account, 50_00, Currency::USD)).await,
        order
    );
    let mut conflicting = withdraw("W-1", &account, 50_00, Currency::USD);
    if let Op::WithdrawConfirm(i) = &mut conflicting {
        i.terms.branch.branch_no = "B002".to_owned();
    }
    assert!(matches!(
        domain(refused(&store, conflicting).await),
        DomainError::OrderConflict(_)
    ));
    // No rate for JPY: 3007. More than is available: 3003.
    assert!(matches!(
        domain(
            refused(
                &store,
                withdraw("W-2", &account, 10_00, Currency::from_code("JPY").unwrap())
            )
            .await
        ),
        DomainError::CurrencyUnsupported(_)
    ));
    assert_eq!(
        domain(refused(&store, withdraw("W-3", &account, 450_01, Currency::CNY)).await),
        DomainError::InsufficientBalance
    );

    // The payout worker claims it once; the lease keeps it from a second claim.
    let claim = || Op::ClaimPayouts {
        limit: 10,
        lease_ms: MINUTE_MS,
    };
    match run(&store, claim()).await {
        Output::Payouts(p) => {
            assert_eq!(p.len(), 1);
            assert_eq!(
                (p[0].order_no.as_str(), p[0].status),
                (order.order_no.as_str(), OrderStatus::Processing)
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(run(&store, claim()).await, Output::Payouts(p) if p.is_empty()));

    // Success: the frozen amount leaves; settling again changes nothing; the
    // opposite outcome is refused.
    let done = withdrawn(&store, settle(&order, PayoutOutcome::Success)).await;
    assert_eq!(done.status, OrderStatus::Success);
    assert_eq!(done.success_at_ms, Some(NOW));
    assert_eq!(balances(&store, &account).await, (450_00, 0));
    assert_eq!(
        withdrawn(&store, settle(&order, PayoutOutcome::Success))
            .await
            .status,
        OrderStatus::Success
    );
    let fail = PayoutOutcome::Fail {
        reason: "late".to_owned(),
    };
    assert!(matches!(
        refused(&store, settle(&order, fail)).await,
        OpError::InvalidTransition { .. }
    ));

    // The notification was written with the order, once.
    let notes = match store
        .query(Query::NotificationsOfOrder(order.order_no.clone()))
        .await
        .unwrap()
    {
        QueryOutput::Notifications(n) => n,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(notes.len(), 1);
    let note = &notes[0];
    assert_eq!(
        (note.status, note.order_status),
        (NotifyStatus::Pending, OrderStatus::Success)
    );
    assert!(
        note.body.contains(&order.order_no) && note.body.contains("\"SUCCESS\""),
        "{}",
        note.body
    );

    // The delivery worker: an excluded institution gets nothing; otherwise
    // claimed once (leased), then recorded as delivered.
    let claim_notes = |exclude: Vec<String>| Op::ClaimNotifications {
        limit: 10,
        lease_ms: MINUTE_MS,
        exclude,
    };
    assert!(
        matches!(run(&store, claim_notes(vec![INST.to_owned()])).await, Output::Notifications(n) if n.is_empty())
    );
    match run(&store, claim_notes(vec![OTHER_INST.to_owned()])).await {
        Output::Notifications(n) => {
            assert_eq!(n.iter().map(|n| n.id).collect::<Vec<_>>(), vec![note.id])
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        matches!(run(&store, claim_notes(vec![])).await, Output::Notifications(n) if n.is_empty())
    );
    run(
        &store,
        Op::RecordDelivery {
            attempt: Attempt {
                notification_id: note.id,
                attempt_no: 1,
                url: "https://INST001.example/notify".to_owned(),
                started_at_ms: NOW,
                duration_ms: 12,
                http_status: Some(200),
                error: None,
                response_excerpt: Some("{\"ret_code\":\"0000\"}".to_owned()),
            },
            result: DeliveryResult::Delivered,
        },
    )
    .await;
    match store
        .query(Query::Notifications {
            status: Some(NotifyStatus::Delivered),
            limit: 10,
        })
        .await
        .unwrap()
    {
        QueryOutput::Notifications(n) => assert_eq!((n.len(), n[0].attempts), (1, 1)),
        other => panic!("unexpected {other:?}"),
    }
    match store.query(Query::Attempts(note.id)).await.unwrap() {
        QueryOutput::Attempts(a) => assert_eq!(a.len(), 1),
        other => panic!("unexpected {other:?}"),
    }

    // A failed payout straight from INIT releases the money.
    let second = withdrawn(&store, withdraw("W-4", &account, 20_00, Currency::CNY)).await;
    assert_eq!(second.target_amount_minor, 20_00);
    assert_eq!(balances(&store, &account).await, (430_00, 20_00));
    let fail = PayoutOutcome::Fail {
        reason: "branch closed".to_owned(),
    };
    let failed = withdrawn(&store, settle(&second, fail)).await;
    assert_eq!(
        (failed.status, failed.fail_reason.as_deref()),
        (OrderStatus::Fail, Some("branch closed"))
    );
    assert_eq!(balances(&store, &account).await, (450_00, 0));
    let query = Op::WithdrawQuery(OrderRef {
        institution_id: INST.to_owned(),
        out_order_no: Some("W-4".to_owned()),
        order_no: None,
    });
    assert_eq!(withdrawn(&store, query).await.status, OrderStatus::Fail);
    assert_eq!(rows_in(&store, "notifications").await, 2);

    // Replay makes the order's notifications due again.
    assert!(matches!(
        run(
            &store,
            Op::ReplayNotifications {
                order_no: order.order_no.clone()
            }
        )
        .await,
        Output::Count(1)
    ));
    assert_ledger_clean(&store).await;
}

/// §4.5 and DESIGN: 100 concurrent withdrawals of 10.00 on 500.00, split over
/// two processes: exactly 50 succeed and the balance is never negative.
async fn concurrent_withdrawals_never_overdraw(db: &TestDb) {
    let (a, b) = db.open_two().await;
    let account = funded_account(&a, 500_00).await;

    // A reader watching the balance throughout (reading an account asserts it
    // is not negative; this checks what it reports as well).
    let watching = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = {
        let (store, account, watching) = (b.clone(), account.clone(), watching.clone());
        tokio::spawn(async move {
            let mut reads = 0;
            while watching.load(Ordering::Relaxed) {
                let (available, frozen) = balances(&store, &account).await;
                assert!(
                    available >= 0 && frozen >= 0 && available + frozen == 500_00,
                    "{available} {frozen}"
                );
                reads += 1;
                tokio::task::yield_now().await;
            }
            reads
        })
    };

    let mut tasks = Vec::new();
    for i in 0..100 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let op = withdraw(&format!("W-{i:03}"), &account, 10_00, Currency::CNY);
        tasks.push(tokio::spawn(async move { store.execute(cmd(op)).await }));
    }
    let (mut ok, mut insufficient) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(Output::Withdraw(o)) => {
                assert_eq!(o.status, OrderStatus::Init);
                ok += 1;
            }
            Err(OpError::Domain(DomainError::InsufficientBalance)) => insufficient += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    watching.store(false, Ordering::Relaxed);
    assert!(watcher.await.unwrap() > 0);
    assert_eq!((ok, insufficient), (50, 50));
    assert_eq!(balances(&a, &account).await, (0, 500_00));
    assert_eq!(rows_in(&b, "withdraw_orders").await, 50);
    assert_ledger_clean(&a).await;
}

/// §7: the same recharge arriving 50 times at once, at two processes, makes one
/// order and credits once.
async fn concurrent_identical_recharges_make_one_order(db: &TestDb) {
    let (a, b) = db.open_two().await;
    run(&a, put_institution(INST)).await;
    let user = new_user(&b, "U1").await;

    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let op = recharge("R-SAME", &user.account_no, 123_45);
        tasks.push(tokio::spawn(async move { store.execute(cmd(op)).await }));
    }
    let mut order_nos = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(Output::Recharge(o)) => {
                assert_eq!(o.available_after_fen, 123_45);
                order_nos.push(o.order_no);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    order_nos.dedup();
    assert_eq!(order_nos.len(), 1, "{order_nos:?}");
    assert_eq!(balances(&a, &user.account_no).await, (123_45, 0));
    assert_eq!(rows_in(&b, "recharge_orders").await, 1);
    assert_ledger_clean(&b).await;
}

/// §4.1: the first sync of a user arriving many times at once, at two
/// processes, creates one user and one account.
async fn concurrent_user_syncs_make_one_user(db: &TestDb) {
    let (a, b) = db.open_two().await;
    run(&a, put_institution(INST)).await;

    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            store.execute(cmd(user_sync(INST, "U1", "P1"))).await
        }));
    }
    let (mut created, mut accounts) = (0, Vec::new());
    for t in tasks {
        match t.await.unwrap() {
            Ok(Output::UserSynced { user, created: c }) => {
                created += usize::from(c);
                accounts.push(user.account_no);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    accounts.dedup();
    assert_eq!((created, accounts.len()), (1, 1), "{accounts:?}");
    assert_eq!(rows_in(&a, "accounts").await, 1);
}

/// The schema guards what the code already ensures: the journal is append-only,
/// a withdrawal's status only moves forward, balances are never negative.
async fn the_database_refuses_what_the_code_never_does(db: &TestDb) {
    let store = db.open().await;
    let account = funded_account(&store, 100_00).await;
    let order = withdrawn(&store, withdraw("W-1", &account, 10_00, Currency::CNY)).await;
    withdrawn(&store, settle(&order, PayoutOutcome::Success)).await;

    for sql in [
        "UPDATE postings SET amount = amount + 1".to_owned(),
        "DELETE FROM postings".to_owned(),
        "UPDATE journal_entries SET kind = 'x'".to_owned(),
        "DELETE FROM journal_entries".to_owned(),
        format!("UPDATE withdraw_orders SET status = 'INIT' WHERE order_no = '{}'", order.order_no),
        format!("UPDATE withdraw_orders SET status = 'FAIL' WHERE order_no = '{}'", order.order_no),
        format!("UPDATE accounts SET available = -1 WHERE account_no = '{account}'"),
        format!("UPDATE accounts SET frozen = -1 WHERE account_no = '{account}'"),
        "INSERT INTO nonces (institution_id, nonce, expires_at) VALUES ('I', 'n', 1), ('I', 'n', 2)".to_owned(),
    ] {
        assert!(db.raw_sql(&sql).await.is_err(), "the database accepted {sql}");
    }
    // What the triggers allow still works: a forward move.
    let fresh = withdrawn(&store, withdraw("W-2", &account, 10_00, Currency::CNY)).await;
    db.raw_sql(&format!(
        "UPDATE withdraw_orders SET status = 'PROCESSING' WHERE order_no = '{}'",
        fresh.order_no
    ))
    .await
    .expect("INIT -> PROCESSING is allowed");
    assert_ledger_clean(&store).await;
}

/// A command that trips an invariant assertion (here: a balance made negative
/// behind the store's back) fails with an internal error, alone: the commands
/// around it, batched with it or not, still succeed, and the store keeps working.
async fn a_panicking_command_fails_alone(db: &TestDb) {
    let store = db.open().await;
    let healthy = funded_account(&store, 100_00).await;
    let broken = new_user(&store, "U2").await.account_no;
    let corrupt = match db {
        TestDb::Sqlite { .. } => format!(
            "PRAGMA ignore_check_constraints = ON; \
             UPDATE accounts SET available = -1 WHERE account_no = '{broken}'"
        ),
        TestDb::Postgres { .. } => format!(
            "ALTER TABLE accounts DROP CONSTRAINT accounts_available_check; \
             UPDATE accounts SET available = -1 WHERE account_no = '{broken}'"
        ),
    };
    db.raw_sql(&corrupt)
        .await
        .expect("corrupting the test data");

    let query = |account_no: &str| Op::AccountQuery {
        institution_id: INST.to_owned(),
        account_no: account_no.to_owned(),
    };
    let mut tasks = Vec::new();
    for i in 0..21 {
        let store = store.clone();
        let op = if i == 10 {
            query(&broken)
        } else {
            query(&healthy)
        };
        tasks.push(tokio::spawn(
            async move { (i, store.execute(cmd(op)).await) },
        ));
    }
    for t in tasks {
        match t.await.unwrap() {
            (10, Err(OpError::Store(StoreError::Database(m)))) => {
                assert!(m.contains("panicked"), "{m}")
            }
            (10, other) => panic!("the broken account answered {other:?}"),
            (_, Ok(Output::Account(a))) => assert_eq!(a.available_fen, 100_00),
            (_, other) => panic!("a healthy account answered {other:?}"),
        }
    }
    // Reads of it fail the same way; everything else still works.
    assert!(store.query(Query::Account(broken.clone())).await.is_err());
    recharged(&store, recharge("R-2", &healthy, 1_00)).await;
    assert_eq!(balances(&store, &healthy).await, (101_00, 0));
}

// --- PostgreSQL only -------------------------------------------------------------

/// A connection failure names the server without its password.
#[tokio::test]
async fn postgres_errors_never_show_the_password() {
    let options = StoreOptions::new("postgres://wallet:hunter2@127.0.0.1:1/wallet");
    let e = Store::open(&options, Rules::default())
        .await
        .expect_err("nothing listens on port 1");
    let text = e.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("wallet:***@127.0.0.1:1"), "{text}");
}

/// Settings PostgreSQL cannot use are refused before connecting.
#[tokio::test]
async fn postgres_refuses_bad_settings() {
    let bad_schema = StoreOptions {
        schema: Some("x; DROP TABLE users".to_owned()),
        ..StoreOptions::new("postgres://wallet@127.0.0.1:1/wallet")
    };
    assert!(matches!(
        Store::open(&bad_schema, Rules::default()).await,
        Err(StoreError::Url(_))
    ));
    let no_room_for_reads = StoreOptions {
        writers: 4,
        pool_connections_max: 4,
        ..StoreOptions::new("postgres://wallet@127.0.0.1:1/wallet")
    };
    assert!(
        Store::open(&no_room_for_reads, Rules::default())
            .await
            .is_err()
    );
    let bad_port = StoreOptions::new("postgres://wallet:hunter2@127.0.0.1:port/wallet");
    match Store::open(&bad_port, Rules::default()).await {
        Err(StoreError::Url(m)) => assert!(m.contains("port") && !m.contains("hunter2"), "{m}"),
        other => panic!("unexpected {other:?}"),
    }
    let unknown = StoreOptions::new("mysql://wallet@127.0.0.1/wallet");
    assert!(matches!(
        Store::open(&unknown, Rules::default()).await,
        Err(StoreError::Url(_))
    ));
}

/// A command waiting for an account another process holds is cancelled by
/// `statement_timeout`, retried, and finally reported as transient with nothing
/// applied; once the lock is gone the same command goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lock_waits_time_out_and_are_retried() {
    let Some(db) = TestDb::postgres("lock_waits_time_out") else {
        return;
    };
    let TestDb::Postgres { url, schema } = &db else {
        unreachable!()
    };
    let store = Store::open(
        &StoreOptions {
            statement_timeout_ms: 100,
            ..db.options()
        },
        Rules::default(),
    )
    .await
    .expect("the store opens");
    run(&store, put_institution(INST)).await;
    let user = new_user(&store, "U1").await;

    // "Another process" holds the account row.
    let (mut client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("SET search_path = {schema}"))
        .await
        .unwrap();
    let holder = client.transaction().await.unwrap();
    holder
        .execute(
            "SELECT 1 FROM accounts WHERE account_no = $1 FOR UPDATE",
            &[&user.account_no],
        )
        .await
        .unwrap();

    match store
        .execute(cmd(recharge("R-1", &user.account_no, 1_00)))
        .await
    {
        Err(OpError::Store(StoreError::Retryable(m))) => {
            assert!(m.contains("57014"), "{m}")
        }
        other => panic!("expected a transient failure, got {other:?}"),
    }
    holder.rollback().await.unwrap();
    assert_eq!(rows_in(&store, "recharge_orders").await, 0);

    recharged(&store, recharge("R-1", &user.account_no, 1_00)).await;
    assert_eq!(balances(&store, &user.account_no).await, (1_00, 0));
}
