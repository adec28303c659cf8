//! The `freewalker` command line (§8): `serve`, and the operator commands that
//! scripts rely on. Each command opens the database the settings name; the
//! operator commands can run while `serve` runs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use freewalker_domain::fx::Rate;
use freewalker_domain::withdraw::PayoutOutcome;
use freewalker_domain::{Clock, SystemClock};
use freewalker_protocol::amount::format_amount;
use freewalker_protocol::api::UserStatus;
use freewalker_protocol::currency::Currency;
use freewalker_protocol::signature::{SignatureType, VerifyingKey};
use freewalker_protocol::time_format::format_time;
use freewalker_store::model::{LedgerMismatch, NotifyStatus};
use freewalker_store::ops::InstitutionInput;
use freewalker_store::{Command, Op, OpError, Output, Query, QueryOutput, Store};

use crate::app::{self, AppState};
use crate::settings::Settings;
use crate::telemetry::{self, Metrics};
use crate::workers;

/// Freewalker: the wallet system for foreign visitors to China.
#[derive(Debug, Parser)]
#[command(name = "freewalker", version, about)]
pub struct Cli {
    /// TOML settings file; environment variables FREEWALKER_* win over it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Commands,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Run the API, the payout worker and the notification worker.
    Serve,
    /// Register and manage partner institutions.
    #[command(subcommand)]
    Institution(InstitutionCmd),
    /// Set and list exchange rates (CNY per 100 units).
    #[command(subcommand)]
    Fx(FxCmd),
    /// Settle withdrawals held by the manual payout channel; show one.
    #[command(subcommand)]
    Withdraw(WithdrawCmd),
    /// Inspect and re-send withdraw result notifications.
    #[command(subcommand)]
    Notify(NotifyCmd),
    /// Audit the ledger.
    #[command(subcommand)]
    Ledger(LedgerCmd),
    /// Freeze, unfreeze, close or show a wallet account.
    #[command(subcommand)]
    Account(AccountCmd),
    /// Print the wallet's public key (what institutions verify responses with).
    PublicKey,
}

#[derive(Debug, Args)]
pub struct InstitutionArgs {
    /// Institution ID: 1-32 characters of A-Z a-z 0-9 _ -.
    #[arg(long)]
    pub id: String,
    /// Display name.
    #[arg(long)]
    pub name: Option<String>,
    /// The institution's public key, SPKI PEM file.
    #[arg(long, value_name = "PEM_FILE")]
    pub public_key: Option<PathBuf>,
    /// RSA or SM2: how the institution signs.
    #[arg(long, value_name = "RSA|SM2")]
    pub signature_type: Option<String>,
    /// Where withdraw result notifications go.
    #[arg(long, value_name = "URL")]
    pub notify_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum InstitutionCmd {
    /// Register a new institution.
    Add(InstitutionArgs),
    /// Change an institution's name, key, signature type or notify URL.
    Update {
        #[command(flatten)]
        args: InstitutionArgs,
        /// Remove the notify URL.
        #[arg(long, conflicts_with = "notify_url")]
        clear_notify_url: bool,
    },
    /// Refuse the institution's requests from now on (`1005`).
    Disable {
        #[arg(long)]
        id: String,
    },
    /// Accept the institution's requests again.
    Enable {
        #[arg(long)]
        id: String,
    },
    /// List institutions.
    List,
}

#[derive(Debug, Subcommand)]
pub enum FxCmd {
    /// Set the selling rate of a currency: CNY per 100 units, up to 6 decimals.
    Set {
        #[arg(long)]
        currency: String,
        #[arg(long)]
        rate: String,
    },
    /// List the latest rate of each currency.
    List,
}

#[derive(Debug, Subcommand)]
pub enum WithdrawCmd {
    /// Mark a withdrawal paid out (SUCCESS).
    Complete { order_no: String },
    /// Mark a withdrawal failed (FAIL) and release its funds.
    Fail {
        order_no: String,
        #[arg(long)]
        reason: String,
    },
    /// Show a withdrawal.
    Show { order_no: String },
}

#[derive(Debug, Subcommand)]
pub enum NotifyCmd {
    /// List notifications, newest first.
    List {
        /// PENDING, DELIVERED or DEAD.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Send an order's notifications again (whatever their state), on a fresh schedule.
    Replay { order_no: String },
    /// Show every delivery attempt of an order's notifications.
    Attempts { order_no: String },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCmd {
    /// Recompute every balance from the journal; exit 1 on any difference.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum AccountCmd {
    /// Stop money moving in or out (withdrawals in flight still settle).
    Freeze { account_no: String },
    /// Let money move again.
    Unfreeze { account_no: String },
    /// Close the account for good (status CLOSED).
    Close { account_no: String },
    /// Show an account's state and balances.
    Show { account_no: String },
}

/// A failure of an operator command: printed, exit status 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Settings(#[from] crate::settings::SettingsError),
    #[error("{0}")]
    Start(#[from] app::StartError),
    #[error("{0}")]
    Store(#[from] freewalker_store::StoreError),
    #[error("{0}")]
    Op(#[from] OpError),
    #[error("{0}")]
    Usage(String),
}

fn usage(msg: impl Into<String>) -> CliError {
    CliError::Usage(msg.into())
}

/// Runs the command line; the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let settings = Settings::load(cli.config.as_deref())?;
    if let Commands::Serve = cli.command {
        serve(settings).await?;
        return Ok(ExitCode::SUCCESS);
    }
    // Operator commands log warnings only, to keep their output for scripts.
    if std::env::var_os("RUST_LOG").is_none() {
        // SAFETY: single-threaded start-up code path before any logging thread reads it.
        unsafe { std::env::set_var("RUST_LOG", "warn") };
    }
    telemetry::init_logging(settings.log_format);
    if let Commands::PublicKey = cli.command {
        let keys = crate::keys::WalletKeys::load_or_generate(&settings.private_key)
            .map_err(app::StartError::from)?;
        print!("{}", keys.public_pem);
        return Ok(ExitCode::SUCCESS);
    }
    let store = Store::open(&app::store_options(&settings), app::rules(&settings)).await?;
    let ops = Operator {
        store,
        clock: Arc::new(SystemClock),
    };
    match cli.command {
        Commands::Serve | Commands::PublicKey => unreachable!("handled above"),
        Commands::Institution(cmd) => ops.institution(cmd).await,
        Commands::Fx(cmd) => ops.fx(cmd).await,
        Commands::Withdraw(cmd) => ops.withdraw(cmd).await,
        Commands::Notify(cmd) => ops.notify(cmd).await,
        Commands::Ledger(LedgerCmd::Verify) => ops.verify().await,
        Commands::Account(cmd) => ops.account(cmd).await,
    }
}

/// `freewalker serve`: until SIGINT or SIGTERM, then a graceful stop.
async fn serve(settings: Settings) -> Result<(), CliError> {
    telemetry::init_logging(settings.log_format);
    for warning in settings.warnings() {
        tracing::warn!("{warning}");
    }
    let listen = settings.listen;
    let state = AppState::build(settings, Arc::new(SystemClock), Metrics::install()).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| app::StartError::Listen {
            addr: listen.to_string(),
            source,
        })?;
    let (trigger, shutdown) = workers::shutdown_channel();
    let mut workers = workers::spawn_all(&state, shutdown.clone())
        .map_err(|e| usage(format!("cannot start the notification client: {e}")))?;
    tracing::info!(
        listen = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        database = %freewalker_store::redact_url(&state.settings.database_url),
        backend = state.store.backend_name(),
        payout_channel = ?state.settings.payout_channel,
        "freewalker is serving"
    );
    let stop = async move {
        wait_for_signal().await;
        tracing::info!("stopping: finishing requests in flight");
        trigger.fire();
    };
    app::serve(listener, state, stop).await?;
    while workers.join_next().await.is_some() {}
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

struct Operator {
    store: Store,
    clock: Arc<dyn Clock>,
}

fn valid_institution_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn valid_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= 512
        && !url.contains(char::is_whitespace)
}

impl Operator {
    async fn run(&self, op: Op) -> Result<Output, OpError> {
        self.store
            .execute(Command {
                nonce: None,
                op,
                now_ms: self.clock.now_millis(),
            })
            .await
    }

    async fn query(&self, q: Query) -> Result<QueryOutput, CliError> {
        Ok(self.store.query(q).await?)
    }

    fn institution_input(&self, args: InstitutionArgs) -> Result<InstitutionInput, CliError> {
        if !valid_institution_id(&args.id) {
            return Err(usage("--id must be 1-32 characters of A-Z a-z 0-9 _ -"));
        }
        let signature_type = match args.signature_type.as_deref() {
            None => None,
            Some(t) => Some(
                SignatureType::parse(&t.to_ascii_uppercase())
                    .ok_or_else(|| usage("--signature-type must be RSA or SM2"))?,
            ),
        };
        let public_key_pem = match &args.public_key {
            None => None,
            Some(path) => {
                let pem = std::fs::read_to_string(path)
                    .map_err(|e| usage(format!("{}: {e}", path.display())))?;
                let key = VerifyingKey::from_spki_pem(&pem)
                    .map_err(|e| usage(format!("{}: {e}", path.display())))?;
                if let Some(t) = signature_type
                    && key.signature_type() != t
                {
                    return Err(usage(format!(
                        "{} holds a {} key but --signature-type is {}",
                        path.display(),
                        key.signature_type().as_str(),
                        t.as_str()
                    )));
                }
                Some(pem)
            }
        };
        if let Some(url) = &args.notify_url
            && !valid_url(url)
        {
            return Err(usage("--notify-url must be an http:// or https:// URL"));
        }
        Ok(InstitutionInput {
            id: args.id,
            name: args.name,
            public_key_pem,
            signature_type,
            notify_url: args.notify_url.map(Some),
            enabled: None,
        })
    }

    async fn institution(&self, cmd: InstitutionCmd) -> Result<ExitCode, CliError> {
        let (input, create) = match cmd {
            InstitutionCmd::Add(args) => {
                if args.name.is_none() || args.public_key.is_none() || args.signature_type.is_none()
                {
                    return Err(usage(
                        "institution add needs --name, --public-key and --signature-type",
                    ));
                }
                (self.institution_input(args)?, true)
            }
            InstitutionCmd::Update {
                args,
                clear_notify_url,
            } => {
                if args.public_key.is_some() && args.signature_type.is_none() {
                    return Err(usage(
                        "--public-key needs --signature-type (the key's type)",
                    ));
                }
                let mut input = self.institution_input(args)?;
                if clear_notify_url {
                    input.notify_url = Some(None);
                }
                (input, false)
            }
            InstitutionCmd::Disable { id } => (flag(id, false), false),
            InstitutionCmd::Enable { id } => (flag(id, true), false),
            InstitutionCmd::List => {
                if let QueryOutput::Institutions(all) = self.query(Query::Institutions).await? {
                    println!(
                        "{:<32} {:<8} {:<4} {:<30} NOTIFY_URL",
                        "ID", "ENABLED", "SIG", "NAME"
                    );
                    for i in all {
                        println!(
                            "{:<32} {:<8} {:<4} {:<30} {}",
                            i.id,
                            i.enabled,
                            i.signature_type.as_str(),
                            i.name,
                            i.notify_url.unwrap_or_default()
                        );
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
        };
        let Output::Institution(i) = self.run(Op::PutInstitution { input, create }).await? else {
            return Err(usage("unexpected answer from the store"));
        };
        println!(
            "institution {} {}: enabled={} signature_type={} notify_url={}",
            i.id,
            if create { "added" } else { "updated" },
            i.enabled,
            i.signature_type.as_str(),
            i.notify_url.as_deref().unwrap_or("-")
        );
        Ok(ExitCode::SUCCESS)
    }

    async fn fx(&self, cmd: FxCmd) -> Result<ExitCode, CliError> {
        match cmd {
            FxCmd::Set { currency, rate } => {
                let cur = Currency::from_code(&currency).ok_or_else(|| {
                    usage(format!(
                        "{currency} is not an ISO 4217 currency this wallet knows"
                    ))
                })?;
                if cur == Currency::CNY {
                    return Err(usage("CNY needs no rate: withdrawals in CNY are paid 1:1"));
                }
                let rate = Rate::parse(&rate).map_err(|e| usage(format!("--rate: {e}")))?;
                self.run(Op::SetFxRate {
                    currency: cur.code().to_owned(),
                    rate,
                })
                .await?;
                println!(
                    "{} rate set: {} CNY per 100 {}",
                    cur.code(),
                    rate.to_text(),
                    cur.code()
                );
            }
            FxCmd::List => {
                if let QueryOutput::FxRates(rates) = self.query(Query::FxRates).await? {
                    println!("{:<8} {:>14} SET_AT", "CURRENCY", "RATE");
                    for r in rates {
                        println!(
                            "{:<8} {:>14} {}",
                            r.currency,
                            r.rate.to_text(),
                            format_time(r.set_at_ms)
                        );
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }

    async fn withdraw(&self, cmd: WithdrawCmd) -> Result<ExitCode, CliError> {
        let (order_no, outcome) = match cmd {
            WithdrawCmd::Complete { order_no } => (order_no, PayoutOutcome::Success),
            WithdrawCmd::Fail { order_no, reason } => {
                if reason.trim().is_empty() || reason.chars().count() > 256 {
                    return Err(usage("--reason must be 1-256 characters"));
                }
                (order_no, PayoutOutcome::Fail { reason })
            }
            WithdrawCmd::Show { order_no } => {
                let QueryOutput::Withdraw(Some(o)) =
                    self.query(Query::Withdraw(order_no.clone())).await?
                else {
                    return Err(usage(format!("withdraw order {order_no} not found")));
                };
                println!("order_no        {}", o.order_no);
                println!("institution_id  {}", o.institution_id);
                println!("out_order_no    {}", o.out_order_no);
                println!("account_no      {}", o.terms.account_no);
                println!(
                    "amount          {} {}",
                    format_amount(o.terms.amount_fen, o.terms.currency),
                    o.terms.currency
                );
                println!(
                    "target          {} {} at {}",
                    format_amount(o.target_amount_minor, o.terms.target_currency),
                    o.terms.target_currency,
                    o.rate.to_text()
                );
                println!("status          {}", o.status.as_str());
                println!("created         {}", format_time(o.created_at_ms));
                if let Some(t) = o.success_at_ms {
                    println!("succeeded       {}", format_time(t));
                }
                if let Some(r) = o.fail_reason {
                    println!("fail_reason     {r}");
                }
                return Ok(ExitCode::SUCCESS);
            }
        };
        let QueryOutput::Withdraw(Some(order)) =
            self.query(Query::Withdraw(order_no.clone())).await?
        else {
            return Err(usage(format!("withdraw order {order_no} not found")));
        };
        let out = self
            .run(Op::SettleWithdrawal {
                order_no: order_no.clone(),
                account_no: order.terms.account_no.clone(),
                outcome,
            })
            .await?;
        if let Output::Withdraw(o) = out {
            println!("withdraw order {} is {}", o.order_no, o.status.as_str());
        }
        Ok(ExitCode::SUCCESS)
    }

    async fn notify(&self, cmd: NotifyCmd) -> Result<ExitCode, CliError> {
        match cmd {
            NotifyCmd::List { status, limit } => {
                let status = match status {
                    None => None,
                    Some(s) => Some(
                        NotifyStatus::parse(&s.to_ascii_uppercase())
                            .ok_or_else(|| usage("--status must be PENDING, DELIVERED or DEAD"))?,
                    ),
                };
                if let QueryOutput::Notifications(all) =
                    self.query(Query::Notifications { status, limit }).await?
                {
                    println!(
                        "{:<24} {:<12} {:<10} {:<10} {:>8} {:<19} LAST_ERROR",
                        "ORDER_NO", "INSTITUTION", "ORDER", "STATUS", "ATTEMPTS", "NEXT_ATTEMPT"
                    );
                    for n in all {
                        println!(
                            "{:<24} {:<12} {:<10} {:<10} {:>8} {:<19} {}",
                            n.order_no,
                            n.institution_id,
                            n.order_status.as_str(),
                            n.status.as_str(),
                            n.attempts,
                            format_time(n.next_attempt_at_ms),
                            n.last_error.unwrap_or_default()
                        );
                    }
                }
            }
            NotifyCmd::Replay { order_no } => {
                let out = self
                    .run(Op::ReplayNotifications {
                        order_no: order_no.clone(),
                    })
                    .await?;
                let n = if let Output::Count(n) = out { n } else { 0 };
                println!("{n} notification(s) of {order_no} queued for delivery");
            }
            NotifyCmd::Attempts { order_no } => {
                let QueryOutput::Notifications(all) = self
                    .query(Query::NotificationsOfOrder(order_no.clone()))
                    .await?
                else {
                    return Ok(ExitCode::SUCCESS);
                };
                if all.is_empty() {
                    return Err(usage(format!("no notification for order {order_no}")));
                }
                for n in all {
                    println!(
                        "{} {} {} ({} attempts)",
                        n.order_no,
                        n.order_status.as_str(),
                        n.status.as_str(),
                        n.attempts
                    );
                    if let QueryOutput::Attempts(attempts) =
                        self.query(Query::Attempts(n.id)).await?
                    {
                        for a in attempts {
                            println!(
                                "  #{:<3} {} {:>6} ms  http={}  {}  {}",
                                a.attempt_no,
                                format_time(a.started_at_ms),
                                a.duration_ms,
                                a.http_status
                                    .map(|s| s.to_string())
                                    .unwrap_or_else(|| "-".into()),
                                a.url,
                                a.error.unwrap_or_else(|| "delivered".into())
                            );
                        }
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }

    async fn verify(&self) -> Result<ExitCode, CliError> {
        let report = self.store.verify_ledger().await?;
        println!(
            "checked {} accounts, {} entries, {} postings",
            report.accounts_checked, report.entries_checked, report.postings_checked
        );
        for (account, currency, balance) in &report.institution_balances {
            println!(
                "  {account:<40} {:>20} {currency}",
                format_amount(
                    *balance,
                    Currency::from_code(currency).unwrap_or(Currency::CNY)
                )
            );
        }
        if report.mismatches.is_empty() {
            println!("ledger OK: every balance equals its journal");
            return Ok(ExitCode::SUCCESS);
        }
        println!("LEDGER MISMATCH: {} problem(s)", report.mismatches.len());
        for m in &report.mismatches {
            match m {
                LedgerMismatch::Balance {
                    account,
                    stored_fen,
                    journal_fen,
                } => println!(
                    "  {account}: stored {} but journal says {} (difference {})",
                    format_amount(*stored_fen, Currency::CNY),
                    format_amount(*journal_fen, Currency::CNY),
                    format_amount(stored_fen - journal_fen, Currency::CNY)
                ),
                LedgerMismatch::UnbalancedEntry {
                    entry_id,
                    currency,
                    sum_minor,
                } => {
                    println!(
                        "  journal entry {entry_id} does not balance in {currency}: sum {sum_minor}"
                    )
                }
                LedgerMismatch::Negative {
                    account,
                    balance_fen,
                } => {
                    println!(
                        "  {account} is negative: {}",
                        format_amount(*balance_fen, Currency::CNY)
                    )
                }
            }
        }
        Ok(ExitCode::FAILURE)
    }

    async fn account(&self, cmd: AccountCmd) -> Result<ExitCode, CliError> {
        let (account_no, status) = match cmd {
            AccountCmd::Freeze { account_no } => (account_no, UserStatus::Frozen),
            AccountCmd::Unfreeze { account_no } => (account_no, UserStatus::Normal),
            AccountCmd::Close { account_no } => (account_no, UserStatus::Closed),
            AccountCmd::Show { account_no } => {
                let QueryOutput::Account(Some(a)) =
                    self.query(Query::Account(account_no.clone())).await?
                else {
                    return Err(usage(format!("account {account_no} not found")));
                };
                println!("account_no      {}", a.account_no);
                println!("institution_id  {}", a.institution_id);
                println!("status          {}", a.status.as_str());
                println!("kyc_level       {}", a.kyc_level.as_str());
                println!(
                    "available       {} CNY",
                    format_amount(a.available_fen, Currency::CNY)
                );
                println!(
                    "frozen          {} CNY",
                    format_amount(a.frozen_fen, Currency::CNY)
                );
                return Ok(ExitCode::SUCCESS);
            }
        };
        self.run(Op::SetAccountStatus {
            account_no: account_no.clone(),
            status,
        })
        .await?;
        println!("account {account_no} is {}", status.as_str());
        Ok(ExitCode::SUCCESS)
    }
}

fn flag(id: String, enabled: bool) -> InstitutionInput {
    InstitutionInput {
        id,
        name: None,
        public_key_pem: None,
        signature_type: None,
        notify_url: None,
        enabled: Some(enabled),
    }
}
