//! The embedded SQLite backend: one file, WAL mode, durable commits.
//!
//! One writer thread owns the write connection and applies queued commands in
//! group-committed transactions (see [`crate::executor`]); SQLite allows one
//! writer at a time anyway, so this costs no concurrency and removes lock waits.
//! Reads run on a small pool of separate connections, which WAL lets proceed
//! while the writer commits. Another process (an operator command) may write to
//! the same file: its `BEGIN IMMEDIATE` waits for the writer's short transaction.

mod tx;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::commands::{self, Rules};
use crate::error::{OpError, StoreError};
use crate::executor::{self, BATCH_COMMANDS_MAX, Job, RETRIES_MAX};
use crate::ops::{Command, Output};
use crate::query::{self, Query, QueryOutput};

pub use tx::SqliteTx;

/// How long a connection waits for another process's write lock before the
/// attempt counts as a transient failure.
pub const BUSY_TIMEOUT_MS: u64 = 5_000;
/// Queued commands beyond which callers wait for room (back-pressure instead of
/// unbounded memory).
pub const QUEUE_COMMANDS_MAX: usize = 4_096;
/// Read connections kept open.
pub const READERS_MAX: usize = 4;

const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "wallet", include_str!("migrations/0001_wallet.sql"))];

/// A running SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    jobs: mpsc::Sender<Job>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

/// The path a `sqlite://` URL names: `sqlite://dir/wallet.db` is relative to the
/// working directory, `sqlite:///var/lib/x.db` absolute.
pub fn path_from_url(url: &str) -> Result<PathBuf, StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::Url(format!("{url} is not a sqlite: URL")))?;
    let rest = rest.split('?').next().unwrap_or_default();
    if rest.is_empty() || rest == ":memory:" {
        return Err(StoreError::Url(
            "SQLite needs a file path (an in-memory database would vanish with the process)".into(),
        ));
    }
    Ok(PathBuf::from(rest))
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS))?;
    // WAL lets readers proceed during a write; synchronous=FULL makes every
    // commit durable (WAL's NORMAL may lose the last commits on power loss,
    // which a payment system cannot accept).
    // Switching a new file to WAL needs a moment of exclusive access, which the
    // busy timeout does not cover: another process opening the same new file
    // at that instant makes it fail at once. Try again for a while.
    let mut attempts = 0;
    while let Err(e) = conn.pragma_update(None, "journal_mode", "WAL") {
        attempts += 1;
        match StoreError::from(e) {
            StoreError::Retryable(_) if attempts < 50 => {
                std::thread::sleep(Duration::from_millis(20))
            }
            other => return Err(other),
        }
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )?;
    for (version, name, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: i64 = tx.query_row(
            "SELECT COUNT(*) FROM schema_migrations WHERE version = ?1",
            [version],
            |r| r.get(0),
        )?;
        if done == 0 {
            tx.execute_batch(sql)
                .map_err(|e| StoreError::Migration(format!("{version}_{name}: {e}")))?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or_default();
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![version, name, now],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}

/// Polls a future that never waits. The SQLite primitives are synchronous
/// behind an async signature (so commands are written once for both backends);
/// their futures complete on the first poll.
fn run_ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a SQLite store future waited; it must complete synchronously"),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file, migrates it and starts the
    /// writer thread.
    pub fn open(path: &Path, rules: Rules) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Database(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut writer = connect(path)?;
        migrate(&mut writer)?;
        let (jobs, rx) = mpsc::channel(QUEUE_COMMANDS_MAX);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(writer, rx, rules))
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            path: path.to_owned(),
            jobs,
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Queues a command and waits for its committed outcome.
    pub async fn execute(&self, cmd: Command) -> Result<Output, OpError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { cmd, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs a read on a pooled read connection, off the async runtime.
    pub async fn query(&self, q: Query) -> Result<QueryOutput, StoreError> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().ok().and_then(|mut r| r.pop());
            let mut conn = match pooled {
                Some(c) => c,
                None => connect(&path)?,
            };
            let result = read(&mut conn, &q);
            if let Ok(mut r) = readers.lock()
                && r.len() < READERS_MAX
            {
                r.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Database(format!("read task failed: {e}")))?
    }
}

fn read(conn: &mut Connection, q: &Query) -> Result<QueryOutput, StoreError> {
    conn.execute_batch("BEGIN DEFERRED")?;
    let result = run_ready(query::run_query(&mut SqliteTx::new(conn), q));
    // A read-only transaction: ending it either way changes nothing.
    let _ = conn.execute_batch("ROLLBACK");
    result
}

fn writer_loop(mut conn: Connection, mut rx: mpsc::Receiver<Job>, rules: Rules) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH_COMMANDS_MAX {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&mut conn, batch, &rules);
    }
}

fn run_batch(conn: &mut Connection, batch: Vec<Job>, rules: &Rules) {
    if batch.len() > 1 {
        match try_transaction(conn, batch.iter().map(|j| &j.cmd), rules) {
            Ok(results) => {
                executor::observe_batch("sqlite", batch.len());
                executor::answer(batch, results);
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, commands = batch.len(), "batch failed; running its commands one by one")
            }
        }
    }
    for job in batch {
        let result = run_single(conn, &job.cmd, rules);
        executor::observe_batch("sqlite", 1);
        let _ = job.reply.send(result);
    }
}

/// One command in its own transaction, repeated on transient failures.
fn run_single(conn: &mut Connection, cmd: &Command, rules: &Rules) -> Result<Output, OpError> {
    let mut attempt = 0;
    loop {
        match try_transaction(conn, std::iter::once(cmd), rules) {
            Ok(mut results) => return results.pop().unwrap_or(Ok(Output::Nothing)),
            Err(OpError::Store(StoreError::Retryable(e))) if attempt < RETRIES_MAX => {
                attempt += 1;
                tracing::debug!(error = %e, attempt, "transient failure; repeating the command");
                std::thread::sleep(Duration::from_millis(10 * u64::from(attempt)));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Runs commands in one transaction and commits it. `Err` means nothing of it
/// was applied. A command's own refusal (a domain error, a used nonce) is its
/// result, not a failure of the transaction.
fn try_transaction<'a>(
    conn: &mut Connection,
    cmds: impl Iterator<Item = &'a Command>,
    rules: &Rules,
) -> Result<Vec<Result<Output, OpError>>, OpError> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(StoreError::from)?;
    let mut results = Vec::new();
    for cmd in cmds {
        // A panic here is a bug (a broken invariant assertion); it must not take
        // the writer thread down with it, nor leave a half-written transaction.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_ready(commands::execute(&mut SqliteTx::new(conn), cmd, rules))
        }))
        .unwrap_or_else(|_| {
            Err(StoreError::Database(format!("command {} panicked", cmd.op.name())).into())
        });
        match result {
            Err(OpError::Store(e)) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(OpError::Store(e));
            }
            other => results.push(other),
        }
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(StoreError::from(e).into());
    }
    Ok(results)
}
