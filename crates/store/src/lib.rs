//! Freewalker storage: a repository of atomic business operations, on SQLite
//! (the embedded default) or PostgreSQL (several wallet processes on one
//! database), chosen by the database URL.
//!
//! # Layout
//!
//! - [`ops`]: the [`Command`]s the store executes (nonce claim + operation) and
//!   their [`Output`]s.
//! - [`commands`]: the business operations, written once over [`tx::Tx`].
//! - [`tx`]: the row-level primitives a backend implements inside a transaction.
//! - [`rows`]: turning rows into records, shared by both backends.
//! - [`query`]: reads that change nothing (operators, workers, the audit).
//! - [`verify`]: the ledger audit behind `freewalker ledger verify`.
//! - [`executor`]: the group-commit policy both backends follow.
//! - [`sqlite`]: the embedded default (`sqlite://PATH`): one writer thread owns
//!   the write connection, so writers never wait on each other; reads on a
//!   small pool of WAL readers.
//! - [`postgres`]: several processes on one database (`postgres://…` or
//!   `postgresql://…`): writer tasks group-commit on pooled connections and
//!   serialise per account with row locks taken in one sorted order; workers
//!   claim with `SKIP LOCKED`; migrations run under an advisory lock.
//! - Each backend has its own `migrations/`, kept column for column alike, and
//!   the same stories run against both (`tests/backends.rs`).
//! - [`model`]: the records; [`error`]: [`StoreError`] and [`OpError`].

pub mod commands;
pub mod error;
mod executor;
pub mod model;
pub mod ops;
pub mod postgres;
pub mod query;
pub mod rows;
pub mod sqlite;
pub mod tx;
pub mod verify;

use std::sync::Arc;

pub use commands::Rules;
pub use error::{OpError, StoreError};
pub use ops::{Command, Op, Output};
pub use query::{Query, QueryOutput};

use model::{Institution, LedgerReport};

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://path/to/wallet.db` or `postgres://user@host:port/db`.
    pub url: String,
    /// PostgreSQL schema to use (created if missing, then the `search_path` of
    /// every connection); `None` for the default search path. Lets tests and
    /// tenants share one database. Lower-case letters, digits and `_` only.
    pub schema: Option<String>,
    /// PostgreSQL connections in the pool; must exceed `writers`, since reads
    /// need connections too.
    pub pool_connections_max: usize,
    /// PostgreSQL transactions running commands at once (each is one connection).
    pub writers: usize,
    /// PostgreSQL `statement_timeout`, in milliseconds, set on every connection
    /// (a statement cancelled by it, typically a long lock wait, is retried).
    pub statement_timeout_ms: u64,
}

impl StoreOptions {
    /// Options for `url` with the defaults.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            schema: None,
            pool_connections_max: 16,
            writers: 4,
            statement_timeout_ms: 5_000,
        }
    }
}

#[derive(Debug)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

/// The store: cheap to clone, shared by every request and worker.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Arc<Backend>,
}

impl Store {
    /// Opens the database the URL names, migrating it to the current schema.
    pub async fn open(options: &StoreOptions, rules: Rules) -> Result<Store, StoreError> {
        let url = options.url.as_str();
        let backend = if url.starts_with("sqlite:") {
            let path = sqlite::path_from_url(url)?;
            let opened =
                tokio::task::spawn_blocking(move || sqlite::SqliteStore::open(&path, rules))
                    .await
                    .map_err(|e| StoreError::Database(format!("open task failed: {e}")))??;
            Backend::Sqlite(opened)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(postgres::PgStore::open(options, rules).await?)
        } else {
            return Err(StoreError::Url(format!(
                "unsupported database URL {:?}: use sqlite://PATH or postgres://…",
                redact_url(url)
            )));
        };
        Ok(Store {
            backend: Arc::new(backend),
        })
    }

    /// The backend's name, for logs and `/readyz`.
    pub fn backend_name(&self) -> &'static str {
        match &*self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Executes a command atomically; `Ok` means committed.
    pub async fn execute(&self, cmd: Command) -> Result<Output, OpError> {
        match &*self.backend {
            Backend::Sqlite(s) => s.execute(cmd).await,
            Backend::Postgres(p) => p.execute(cmd).await,
        }
    }

    /// Runs a read.
    pub async fn query(&self, q: Query) -> Result<QueryOutput, StoreError> {
        match &*self.backend {
            Backend::Sqlite(s) => s.query(q).await,
            Backend::Postgres(p) => p.query(q).await,
        }
    }

    /// The institution with this id, enabled or not.
    pub async fn institution(&self, id: &str) -> Result<Option<Institution>, StoreError> {
        match self.query(Query::Institution(id.to_owned())).await? {
            QueryOutput::Institution(i) => Ok(i),
            other => Err(unexpected(&other)),
        }
    }

    /// Rows per table.
    pub async fn row_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        match self.query(Query::RowCounts).await? {
            QueryOutput::RowCounts(r) => Ok(r),
            other => Err(unexpected(&other)),
        }
    }

    /// Recomputes every balance from the journal.
    pub async fn verify_ledger(&self) -> Result<LedgerReport, StoreError> {
        match self.query(Query::VerifyLedger).await? {
            QueryOutput::Ledger(r) => Ok(r),
            other => Err(unexpected(&other)),
        }
    }
}

fn unexpected(output: &QueryOutput) -> StoreError {
    StoreError::Database(format!("unexpected query output {output:?}"))
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
