//! The PostgreSQL backend: several wallet processes on one database.
//!
//! # Batching
//!
//! Each of [`StoreOptions::writers`] writer tasks has its own bounded queue
//! (back-pressure, as on SQLite). Commands on an account always go to the same
//! writer (by a hash of the account number), so this process's writers never
//! wait for each other's account locks; commands on no account are spread
//! round-robin. A writer takes the first queued command and everything else
//! waiting (up to `executor::BATCH_COMMANDS_MAX`) and runs them in ONE
//! transaction on one pooled connection, so a burst costs one commit (one WAL
//! flush) instead of one per request. Round trips are what a command costs
//! here: a journal entry and its postings are one statement, and a batch
//! fetches all the order numbers it may need in one. Answers go out only after
//! `COMMIT` returns, so `0000` always means durable. If a command fails in the
//! database (a constraint, a deadlock, a lost connection, a panic) or the
//! commit fails, the transaction is rolled back — nothing of it took effect —
//! and each of its commands runs again alone in its own transaction, repeated
//! on transient failures up to `executor::RETRIES_MAX` times, so one bad
//! command cannot fail its neighbours. A command's own refusal (`3xxx`, a used
//! nonce) is its answer, not a failure of the batch: the rules decide before
//! anything is written.
//!
//! # Locking
//!
//! Write transactions run at `READ COMMITTED` and lock what they decide on, so
//! every process can write at once and still never overdraw an account:
//!
//! - Right after `BEGIN`, the batch locks every account its commands name
//!   ([`Op::account_to_lock`](crate::ops::Op::account_to_lock)) with one
//!   `SELECT … ORDER BY account_no FOR UPDATE`. All batches, in every process,
//!   take account locks in that one order and all at once, before any other
//!   row lock, so batches that share accounts queue behind each other instead
//!   of deadlocking; and a command reads the balances it decides on only while
//!   holding its account's lock, so each decision sees the latest committed
//!   balance (no lost update, no overdraft).
//! - Settling a withdrawal locks the order row (`FOR UPDATE`); the status
//!   update is also guarded by the status it expects, and a trigger refuses any
//!   backward move.
//! - Workers claim due payouts and notifications with `FOR UPDATE SKIP LOCKED`
//!   and lease them, so workers in any number of processes never take the same
//!   item and never wait for each other.
//! - Idempotency and nonces rest on unique indexes: a concurrent duplicate from
//!   another process either waits for the first transaction and then sees its
//!   row, or fails with a unique violation, which counts as transient — the
//!   command runs again alone and finds the existing row.
//! - Rows that cannot be locked up front (a nonce or an order key that two
//!   processes insert at once, a user's profile) may still, rarely, deadlock
//!   across batches; PostgreSQL then aborts one of them, which is transient:
//!   serialisation failures, deadlocks, lock and statement timeouts and lost
//!   connections are [`StoreError::Retryable`].
//!
//! Reads ([`PgStore::query`]) run on pooled connections in a
//! `REPEATABLE READ READ ONLY` transaction, so the ledger audit sees one
//! consistent snapshot while payments continue.
//!
//! Every connection gets `statement_timeout` and, when a schema is configured,
//! `search_path` as start-up options, so a reconnect after a failover is
//! configured like the first connection. Migrations run in one transaction under
//! an advisory lock, so processes that start together apply each migration
//! exactly once.

mod tx;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{IsolationLevel, NoTls};

use crate::commands::{self, Rules};
use crate::error::{OpError, StoreError};
use crate::executor::{self, BATCH_COMMANDS_MAX, Job, RETRIES_MAX};
use crate::ops::{Command, Op, Output};
use crate::query::{self, Query, QueryOutput};
use crate::tx::{Sequence, Tx};
use crate::{StoreOptions, redact_url};

pub use tx::PgTx;

/// Queued commands beyond which callers wait for room (back-pressure instead of
/// unbounded memory).
pub const QUEUE_COMMANDS_MAX: usize = 4_096;
/// How long opening a connection may take before the attempt counts as a
/// transient failure (a server that does not answer must not hang a request).
pub const CONNECT_TIMEOUT_MS: u64 = 5_000;
/// How long a transaction waits for a free pooled connection before it counts
/// as a transient failure.
pub const POOL_WAIT_TIMEOUT_MS: u64 = 10_000;
/// PostgreSQL's limit on an identifier (NAMEDATALEN - 1).
pub const SCHEMA_NAME_BYTES_MAX: usize = 63;
/// The base pause before a command that hit a transient failure runs again;
/// the n-th retry waits n times this, plus jitter so that two processes that
/// deadlocked do not collide again in lockstep.
pub const RETRY_BACKOFF_MS: u64 = 10;

/// The key of the advisory lock migrations hold (any fixed number that no other
/// application on the database uses; this one spells "fwmigrat").
const MIGRATION_LOCK_KEY: i64 = 0x66776d6967726174;

const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "wallet", include_str!("migrations/0001_wallet.sql"))];

/// A running PostgreSQL store.
#[derive(Debug)]
pub struct PgStore {
    /// One queue per writer task.
    jobs: Vec<mpsc::Sender<Job>>,
    next_writer: AtomicUsize,
    pool: Pool,
}

/// A schema name we can put into SQL and a start-up option without quoting:
/// lower-case ASCII letters, digits and `_`, not starting with a digit.
fn check_schema(schema: &str) -> Result<(), StoreError> {
    let ok = !schema.is_empty()
        && schema.len() <= SCHEMA_NAME_BYTES_MAX
        && !schema.starts_with(|c: char| c.is_ascii_digit())
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Url(format!(
            "schema {schema:?}: use 1-{SCHEMA_NAME_BYTES_MAX} lower-case letters, digits and _, not starting with a digit"
        )))
    }
}

/// The connection settings: the URL, plus what every connection of the pool
/// must have from its first statement on.
fn pg_config(options: &StoreOptions) -> Result<tokio_postgres::Config, StoreError> {
    let mut config: tokio_postgres::Config =
        options.url.parse().map_err(|e: tokio_postgres::Error| {
            // The URL parser's causes name the option at fault, not its value.
            StoreError::Url(format!(
                "{}: {}",
                redact_url(&options.url),
                message(e.into())
            ))
        })?;
    let mut startup = config.get_options().map(str::to_owned).unwrap_or_default();
    startup.push_str(&format!(
        " -c statement_timeout={}",
        options.statement_timeout_ms
    ));
    if let Some(schema) = &options.schema {
        startup.push_str(&format!(" -c search_path={schema}"));
    }
    config.options(startup.trim_start());
    if config.get_application_name().is_none() {
        config.application_name("freewalker");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS));
    }
    Ok(config)
}

fn pool_error(e: PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) => e.into(),
        PoolError::Timeout(kind) => StoreError::Retryable(format!(
            "no database connection available ({kind:?} timeout)"
        )),
        PoolError::Closed => StoreError::Closed,
        other => StoreError::Database(format!("connection pool: {other}")),
    }
}

/// The message of an error, without the variant's prefix.
fn message(e: StoreError) -> String {
    match e {
        StoreError::Database(m) | StoreError::Retryable(m) => m,
        other => other.to_string(),
    }
}

/// Creates the schema (if one is configured) and applies the migrations not yet
/// applied, all in one transaction that first takes an advisory lock: a second
/// process starting at the same moment waits, then finds everything applied.
async fn migrate(
    client: &mut deadpool_postgres::Client,
    schema: Option<&str>,
) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    // A migration may legitimately take longer than a request's statement.
    tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    if let Some(schema) = schema {
        // Looked up first: `CREATE SCHEMA IF NOT EXISTS` demands the right to
        // create schemas even when the schema exists, which a wallet role
        // given a ready-made schema may not have.
        let exists = tx
            .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
            .await?
            .is_some();
        if !exists {
            // Checked by `check_schema`: safe to splice. The connection's
            // search_path already names it; PostgreSQL resolves it from here on.
            tx.batch_execute(&format!("CREATE SCHEMA {schema}")).await?;
        }
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    for (version, name, sql) in MIGRATIONS {
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[version],
            )
            .await?
            .is_some();
        if done {
            continue;
        }
        tx.batch_execute(sql).await.map_err(|e| {
            StoreError::Migration(format!("{version}_{name}: {}", message(e.into())))
        })?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[version, name, &now],
        )
        .await?;
        tracing::info!(version, name, "applied PostgreSQL migration");
    }
    tx.commit().await?;
    Ok(())
}

/// Runs a future, turning a panic inside it into `None`. A panic in a command
/// is a bug (a broken invariant assertion); it must not take a writer task down
/// with it, nor leave a half-written transaction behind.
async fn catch_panic<F: Future>(f: F) -> Option<F::Output> {
    let mut f = pin!(f);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| f.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Some(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(None),
        }
    })
    .await
}

impl PgStore {
    /// Connects, creates the schema if asked to, migrates, and starts the
    /// writer tasks on the current Tokio runtime.
    pub async fn open(options: &StoreOptions, rules: Rules) -> Result<Self, StoreError> {
        if options.writers == 0 || options.pool_connections_max <= options.writers {
            return Err(StoreError::Database(format!(
                "invalid settings: {} writers need at least 1 writer and a pool larger than the writers (reads need connections too); the pool has {}",
                options.writers, options.pool_connections_max
            )));
        }
        if let Some(schema) = &options.schema {
            check_schema(schema)?;
        }
        let manager = Manager::from_config(
            pg_config(options)?,
            NoTls,
            ManagerConfig {
                // Only checks that the socket is open: a connection that broke
                // since fails its next statement, which is retried on another.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_connections_max)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_millis(POOL_WAIT_TIMEOUT_MS)))
            .create_timeout(Some(Duration::from_millis(CONNECT_TIMEOUT_MS)))
            .recycle_timeout(Some(Duration::from_millis(CONNECT_TIMEOUT_MS)))
            .build()
            .map_err(|e| StoreError::Database(format!("cannot build the connection pool: {e}")))?;
        let mut client = pool.get().await.map_err(|e| {
            StoreError::Database(format!(
                "cannot connect to {}: {}",
                redact_url(&options.url),
                message(pool_error(e))
            ))
        })?;
        migrate(&mut client, options.schema.as_deref()).await?;
        drop(client);

        let rules = Arc::new(rules);
        let mut jobs = Vec::with_capacity(options.writers);
        for _ in 0..options.writers {
            let (tx, rx) = mpsc::channel(QUEUE_COMMANDS_MAX / options.writers.max(1));
            jobs.push(tx);
            tokio::spawn(writer_loop(pool.clone(), rx, rules.clone()));
        }
        Ok(Self {
            jobs,
            next_writer: AtomicUsize::new(0),
            pool,
        })
    }

    /// The writer a command goes to. Commands on one account always go to the
    /// same writer, so this process's writers never wait for each other's
    /// account locks (they would otherwise collide whenever two batches share
    /// an account); commands that touch no account are spread round-robin.
    fn writer_for(&self, cmd: &Command) -> &mpsc::Sender<Job> {
        let n = self.jobs.len();
        let i = match cmd.op.account_to_lock() {
            Some(account) => {
                // FNV-1a: stable and cheap; only the spread matters.
                let h = account.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                });
                (h % n as u64) as usize
            }
            None => self.next_writer.fetch_add(1, Ordering::Relaxed) % n,
        };
        &self.jobs[i]
    }

    /// Queues a command and waits for its committed outcome.
    pub async fn execute(&self, cmd: Command) -> Result<Output, OpError> {
        let (reply, answer) = oneshot::channel();
        self.writer_for(&cmd)
            .send(Job { cmd, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs a read in a read-only snapshot on a pooled connection.
    pub async fn query(&self, q: Query) -> Result<QueryOutput, StoreError> {
        let mut client = self.pool.get().await.map_err(pool_error)?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let result = catch_panic(query::run_query(&mut PgTx::new(&tx), &q))
            .await
            .unwrap_or_else(|| Err(StoreError::Database("query panicked".into())));
        // A read-only transaction: ending it either way changes nothing.
        let _ = tx.rollback().await;
        result
    }
}

/// Takes batches off its queue until every sender is gone: the first job and
/// everything else waiting.
async fn writer_loop(pool: Pool, mut rx: mpsc::Receiver<Job>, rules: Arc<Rules>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH_COMMANDS_MAX {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&pool, batch, &rules).await;
    }
}

async fn run_batch(pool: &Pool, batch: Vec<Job>, rules: &Rules) {
    if batch.len() > 1 {
        let cmds: Vec<&Command> = batch.iter().map(|j| &j.cmd).collect();
        match try_transaction(pool, &cmds, rules).await {
            Ok(results) => {
                executor::observe_batch("postgres", batch.len());
                executor::answer(batch, results);
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, commands = batch.len(), "batch failed; running its commands one by one")
            }
        }
    }
    for job in batch {
        let result = run_single(pool, &job.cmd, rules).await;
        executor::observe_batch("postgres", 1);
        let _ = job.reply.send(result);
    }
}

/// One command in its own transaction, repeated on transient failures.
async fn run_single(pool: &Pool, cmd: &Command, rules: &Rules) -> Result<Output, OpError> {
    let mut attempt = 0;
    loop {
        match try_transaction(pool, &[cmd], rules).await {
            Ok(mut results) => return results.pop().unwrap_or(Ok(Output::Nothing)),
            Err(OpError::Store(StoreError::Retryable(e))) if attempt < RETRIES_MAX => {
                attempt += 1;
                tracing::debug!(error = %e, attempt, op = cmd.op.name(), "transient failure; repeating the command");
                tokio::time::sleep(backoff(attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    let jitter_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()) % RETRY_BACKOFF_MS)
        .unwrap_or_default();
    Duration::from_millis(RETRY_BACKOFF_MS * u64::from(attempt) + jitter_ms)
}

/// Runs commands in one transaction and commits it. `Err` means nothing of it
/// was applied. A command's own refusal (a domain error, a used nonce) is its
/// result, not a failure of the transaction.
async fn try_transaction(
    pool: &Pool,
    cmds: &[&Command],
    rules: &Rules,
) -> Result<Vec<Result<Output, OpError>>, OpError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await.map_err(StoreError::from)?;
    match run_commands(&mut PgTx::new(&tx), cmds, rules).await {
        Ok(results) => {
            tx.commit().await.map_err(StoreError::from)?;
            Ok(results)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// How many values of each sequence a batch's commands may take, so they are
/// fetched in one round trip.
fn sequences_needed(cmds: &[&Command]) -> [(Sequence, usize); 3] {
    let count = |f: fn(&Op) -> bool| cmds.iter().filter(|c| f(&c.op)).count();
    [
        (Sequence::User, count(|op| matches!(op, Op::UserSync(_)))),
        (
            Sequence::Recharge,
            count(|op| matches!(op, Op::RechargeApply(_))),
        ),
        (
            Sequence::Withdraw,
            count(|op| matches!(op, Op::WithdrawConfirm(_))),
        ),
    ]
}

/// Locks the batch's accounts, then runs each command; stops at the first
/// database failure (the transaction is then aborted and must roll back).
async fn run_commands(
    tx: &mut PgTx<'_>,
    cmds: &[&Command],
    rules: &Rules,
) -> Result<Vec<Result<Output, OpError>>, OpError> {
    let mut accounts: Vec<&str> = cmds.iter().filter_map(|c| c.op.account_to_lock()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    tx.lock_accounts(&accounts).await?;
    for (seq, count) in sequences_needed(cmds) {
        tx.expect(seq, count);
    }
    let mut results = Vec::with_capacity(cmds.len());
    for cmd in cmds {
        let result = catch_panic(commands::execute(tx, cmd, rules))
            .await
            .unwrap_or_else(|| {
                Err(StoreError::Database(format!("command {} panicked", cmd.op.name())).into())
            });
        match result {
            Err(OpError::Store(e)) => return Err(OpError::Store(e)),
            other => results.push(other),
        }
    }
    Ok(results)
}
