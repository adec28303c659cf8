//! What both backends' executors share: the job a caller queues and the
//! group-commit policy.
//!
//! Commands from concurrent requests queue up while the database commits the
//! previous transaction; the executor then takes everything waiting (up to
//! [`BATCH_COMMANDS_MAX`]) into one transaction and one durable commit. The
//! answers go out only after that commit, so `0000` always means "on disk".
//! If the transaction fails, no command of it took effect; each is then run
//! again alone, so one bad command cannot fail its neighbours.

use tokio::sync::oneshot;

use crate::error::OpError;
use crate::ops::{Command, Output};

/// The most commands one transaction carries: large enough to amortise an
/// fsync over a burst, small enough that a transaction stays short.
pub const BATCH_COMMANDS_MAX: usize = 256;

/// How often a command that hit a transient failure (busy database,
/// serialisation failure, deadlock) is run again before the caller gets `9999`.
pub const RETRIES_MAX: u32 = 5;

/// A queued command and where its answer goes.
pub(crate) struct Job {
    pub cmd: Command,
    pub reply: oneshot::Sender<Result<Output, OpError>>,
}

/// Sends each answer; a caller that gave up (its request was cancelled) is fine.
pub(crate) fn answer(jobs: Vec<Job>, results: Vec<Result<Output, OpError>>) {
    for (job, result) in jobs.into_iter().zip(results) {
        let _ = job.reply.send(result);
    }
}

/// Records the size of a committed batch.
pub(crate) fn observe_batch(backend: &'static str, commands: usize) {
    metrics::histogram!("freewalker_store_batch_commands", "backend" => backend)
        .record(commands as f64);
}
