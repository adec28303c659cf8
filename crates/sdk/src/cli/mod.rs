//! The `freewalker-cli` command line: an institution's first-day tool for the wallet API
//! (`spec/API.md`). Each API subcommand builds the typed request from flags, checks it with the
//! same validation the wallet runs, signs it, seals its sensitive fields, sends it, verifies the
//! wallet's signature on the answer and prints the envelope. The offline subcommands (`sign`,
//! `verify`) let an integrator compare their own signing byte for byte, and `listen` receives
//! withdraw result notifications (§4.8).
//!
//! # Layout
//!
//! - this module: the argument tree, exit codes, [`Failure`] and printing.
//! - [`config`]: the global options, reading key and body files, building the [`Client`].
//! - [`parse`]: value parsers that turn flags into wire types at the edge.
//! - [`api`]: `user-sync` … `account`, and `send` (a raw body file).
//! - [`offline`]: `sign` and `verify`, which need no network.
//! - [`listen`]: the notification receiver.
//!
//! [`Client`]: freewalker_sdk::Client

mod api;
mod config;
mod listen;
mod offline;
mod parse;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use config::GlobalArgs;

/// Exit code: the wallet answered `ret_code` `0000` (or the offline check passed).
const EXIT_OK: u8 = 0;
/// Exit code: the wallet answered another code, could not be reached, or its answer could not
/// be trusted; or an offline check failed.
const EXIT_FAILED: u8 = 1;
/// Exit code: the command line or the configuration is wrong (clap uses 2 as well).
const EXIT_USAGE: u8 = 2;

const AFTER_HELP: &str = "\
Exit codes:
  0  the wallet answered ret_code 0000 (sign: signed; verify: the signature verifies)
  1  the wallet answered another ret_code, could not be reached, or its answer is not signed
     by the wallet key (verify: the signature does not verify)
  2  usage or configuration error (missing option, unreadable file, unusable key, a field
     the wallet would refuse)

Every API command prints the wallet's response envelope as pretty JSON on stdout, after
verifying its signature with --wallet-key. Messages go to stderr.

Example:
  export FREEWALKER_CLI_INSTITUTION_ID=INST0001
  export FREEWALKER_CLI_KEY=inst_private.pem
  export FREEWALKER_CLI_WALLET_KEY=freewalker-data/wallet_public.pem
  freewalker-cli user-sync --out-user-id U1001 --name 'JOHN SMITH' --nationality USA \\
      --id-type PASSPORT --id-no E12345678";

/// The Freewalker institution client: call the wallet API with signed requests, check
/// signatures offline, and receive withdraw result notifications.
#[derive(Debug, Parser)]
#[command(name = "freewalker-cli", version, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// §4.1 Register a visitor with their travel document (or update their profile); answers
    /// the wallet account_no. id-no and mobile are encrypted automatically.
    UserSync(api::UserSyncArgs),
    /// §4.2 Record your KYC verification of a visitor: sets the KYC level, and so the limits.
    /// address is encrypted automatically.
    CustomerSync(api::CustomerSyncArgs),
    /// §4.3 Credit CNY to a wallet after you collected the visitor's money.
    Recharge(api::RechargeArgs),
    /// §4.4 Look up a recharge order by your out_order_no or the wallet's order_no.
    RechargeQuery(api::QueryArgs),
    /// §4.5 Pay a wallet's CNY out in a foreign currency at one of your branches; the result
    /// arrives later as a notification (see `listen`).
    Withdraw(api::WithdrawArgs),
    /// §4.6 Look up a withdrawal order by your out_order_no or the wallet's order_no.
    WithdrawQuery(api::QueryArgs),
    /// §4.7 Show an account's balances, KYC level and remaining limits.
    Account(api::AccountArgs),
    /// Sign and send a raw JSON body file exactly as it is (to compare with your own bytes, or
    /// to see how the wallet answers a body this tool would refuse to build).
    Send(api::SendArgs),
    /// Offline: print md5_hex(body) and the five signature headers a request with this body
    /// would carry, to compare byte for byte with what your own code computes.
    Sign(offline::SignArgs),
    /// Offline: check whether a signature verifies over md5_hex(body) with a public key (the
    /// wallet's answers, or your own signing).
    Verify(offline::VerifyArgs),
    /// Receive withdraw result notifications (§4.8): verify, acknowledge, de-duplicate, and
    /// print one JSON line each. Runs until Ctrl-C.
    Listen(listen::ListenArgs),
}

/// Why a command did not succeed, with the message for stderr.
#[derive(Debug)]
enum Failure {
    /// Bad flags, unreadable files, unusable keys, a request the wallet would refuse: exit 2.
    Usage(String),
    /// The call or check was made and did not succeed: exit 1.
    Failed(String),
}

impl Failure {
    fn usage(message: impl Into<String>) -> Failure {
        Failure::Usage(message.into())
    }

    fn failed(message: impl Into<String>) -> Failure {
        Failure::Failed(message.into())
    }
}

/// Parses the command line, runs the command, and turns its outcome into the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(e) => Err(Failure::failed(format!(
            "cannot start the async runtime: {e}"
        ))),
    };
    match outcome {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(Failure::Usage(message)) => {
            eprintln!("freewalker-cli: {message}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Failed(message)) => {
            eprintln!("freewalker-cli: {message}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let global = &cli.global;
    match cli.command {
        Command::UserSync(args) => api::user_sync(global, args).await,
        Command::CustomerSync(args) => api::customer_sync(global, args).await,
        Command::Recharge(args) => api::recharge(global, args).await,
        Command::RechargeQuery(args) => api::recharge_query(global, args).await,
        Command::Withdraw(args) => api::withdraw(global, args).await,
        Command::WithdrawQuery(args) => api::withdraw_query(global, args).await,
        Command::Account(args) => api::account(global, args).await,
        Command::Send(args) => api::send(global, args).await,
        Command::Sign(args) => offline::sign(global, args),
        Command::Verify(args) => offline::verify(args),
        Command::Listen(args) => listen::listen(global, args).await,
    }
}

/// Writes `text` and a newline to stdout. A reader that went away (`| head`) is not an error
/// worth a panic: the rest of the output is simply dropped.
fn print_line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// The system clock as Unix seconds (requests and notifications carry China Standard Time,
/// formatted from this).
fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// An error and its chain of causes on one line (`reqwest` puts the useful part in a source).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_argument_tree_is_consistent() {
        Cli::command().debug_assert();
    }
}
