//! `freewalker-bench`: the load generator of the Freewalker wallet.
//!
//! It plays a partner institution against a running wallet: it registers a
//! fresh institution through the wallet's own settings and database, creates
//! and funds its accounts through the API, signs every timed request before the
//! clock starts, sends them over `--connections` keep-alive connections, and
//! then checks the books: the store's ledger audit, and every account's balance
//! against what the bench credited and withdrew.
//!
//! [`run`] is the whole run for a given [`Options`] and the wallet's
//! [`Settings`]; the binary only parses the command line, loads the settings
//! like `freewalker --config` does, and prints the [`Report`].
//!
//! # Layout
//!
//! - [`options`]: what a run is asked to do, and its limits.
//! - [`plan`]: every timed request decided up front from the seed, and the IDs.
//! - [`requests`]: the request bodies, shared by setup and the timed phase.
//! - [`setup`]: the institution, the FX rate, the accounts (untimed).
//! - [`presign`]: signing the pool within the timestamp window.
//! - [`load`]: the timed phase.
//! - [`notify`]: receiving the wallet's withdraw result notifications.
//! - [`checks`]: signature sample, ledger audit, balances.
//! - [`report`]: the summary and the JSON report.
//! - [`cli`]: the command line.

pub mod checks;
pub mod cli;
pub mod error;
pub mod load;
pub mod notify;
pub mod options;
pub mod plan;
pub mod presign;
pub mod report;
pub mod requests;
pub mod rng;
pub mod setup;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use freewalker_server::settings::{PayoutChannelKind, Settings};

pub use error::BenchError;
pub use options::{Options, Scenario, StopAt};
pub use report::Report;

use crate::load::Answer;
use crate::plan::{Api, Plan};
use crate::report::{ApiReport, Generator, LatencyMs, Machine, NotifyReport};

/// Refuses wallet settings under which the run could not check its books or
/// would measure something else than the wallet.
fn check_settings(options: &Options, settings: &Settings) -> Result<(), BenchError> {
    // Every scenario that funds accounts withdraws (in setup or timed).
    if options.scenario.funds_accounts() && settings.payout_channel != PayoutChannelKind::Instant {
        return Err(BenchError::Usage(format!(
            "the {} scenario withdraws, and the balance check expects withdrawals to settle at once: \
             run the wallet with FREEWALKER_PAYOUT_CHANNEL=instant (it has {:?})",
            options.scenario.name(),
            settings.payout_channel
        )));
    }
    if settings.rate_limit_rps > 0 {
        return Err(BenchError::Usage(format!(
            "the wallet limits each institution to {} requests per second (FREEWALKER_RATE_LIMIT_RPS): \
             unset it to measure the wallet rather than its rate limiter",
            settings.rate_limit_rps
        )));
    }
    Ok(())
}

/// Runs the bench against the wallet at `options.url`, whose settings are
/// `settings` (the bench reads its database and key through them).
///
/// `Err` means the run could not be made (bad options, wallet unreachable,
/// setup refused); a run whose books do not check out is an `Ok` report with
/// `passed == false`.
pub async fn run(options: Options, settings: Settings) -> Result<Report, BenchError> {
    options.validate().map_err(BenchError::Usage)?;
    check_settings(&options, &settings)?;
    let window_ms = settings.timestamp_window_ms.max(0) as u64;
    let run_ms = match options.stop {
        StopAt::Duration(d) => d.as_millis() as u64,
        StopAt::Requests(_) => 0,
    };
    if run_ms + presign::WINDOW_MARGIN_MS >= window_ms {
        return Err(BenchError::Usage(format!(
            "--duration {} s does not fit in the wallet's {} s timestamp window less {} s of margin: \
             every request is signed before the run",
            run_ms / 1000,
            window_ms / 1000,
            presign::WINDOW_MARGIN_MS / 1000
        )));
    }

    let plan = Plan::draw(
        options.scenario,
        options.requests_to_sign(),
        options.users,
        options.seed,
        &settings.limits.l2,
    );
    plan.check_limits(options.scenario, &settings.limits.l2)
        .map_err(BenchError::Usage)?;
    let plan = Arc::new(plan);

    setup::check_ready(&options.url).await?;
    setup::check_database_exists(&settings)?;
    let wallet_public_pem = setup::read_wallet_public_key(&settings.private_key)?;
    let receiver = notify::Receiver::start(options.notify_listen, &wallet_public_pem).await?;
    let notify_url = options.notify_url.clone().unwrap_or_else(|| receiver.url());

    let say = |line: String| {
        if options.progress {
            eprintln!("freewalker-bench: {line}");
        }
    };
    let setup_started = Instant::now();
    let target = setup::connect(&options, &settings, wallet_public_pem, &notify_url).await?;
    let accounts = Arc::new(setup::set_up_accounts(&target, &plan, &options).await?);
    let setup_s = setup_started.elapsed().as_secs_f64();

    say(format!(
        "institution {} with {} accounts ready in {setup_s:.1} s; signing {} requests",
        target.names.institution_id,
        accounts.len(),
        options.requests_to_sign()
    ));
    let presigned = {
        let (target, plan, accounts) = (target.clone(), plan.clone(), accounts.clone());
        let count = options.requests_to_sign();
        tokio::task::spawn_blocking(move || {
            presign::presign(&target, &plan, &accounts, count, window_ms, run_ms)
        })
        .await
        .map_err(|e| BenchError::Setup(format!("signing failed: {e}")))??
    };
    let presigned_count = presigned.requests.len() as u64;
    let presign_s = presigned.elapsed.as_secs_f64();
    let expiry = presign::expiry(presigned.started, window_ms);

    say(format!(
        "signed {presigned_count} in {presign_s:.1} s; sending over {} connections",
        options.connections
    ));
    let timed = load::run(&options, presigned, expiry).await?;
    say(format!(
        "sent {} in {:.1} s ({}); checking the books",
        timed.answers.len(),
        timed.elapsed.as_secs_f64(),
        timed.stop.name()
    ));

    let signatures = checks::verify_samples(&timed.samples, &target.wallet_public_pem)?;
    let moved = checks::money_moved(&target, &plan, &accounts, &timed.answers).await?;
    let balances = checks::check_balances(&target, &accounts, &moved).await?;
    // Every accepted withdrawal ends in a result notification; they are counted
    // (not required: delivery is asynchronous), waiting a little longer for them.
    let notifications_expected =
        moved.withdrawals + accounts.iter().filter(|a| a.withdrawal.is_some()).count() as u64;
    let notified = receiver
        .wait_for(
            notifications_expected,
            Instant::now() + std::time::Duration::from_millis(checks::SETTLE_STALL_MS),
        )
        .await;
    let ledger = checks::verify_ledger(&target).await?;

    let duration_s = timed.elapsed.as_secs_f64();
    let requests = timed.answers.len() as u64;
    let mut errors = BTreeMap::new();
    let mut ok = 0;
    for (_, answer) in &timed.answers {
        if *answer == Answer::OK {
            ok += 1;
        } else {
            *errors.entry(answer.label()).or_insert(0) += 1;
        }
    }
    let by_api = Api::ALL
        .iter()
        .filter(|api| timed.counts_by_api[api.index()].0 > 0)
        .map(|api| {
            let (requests, ok) = timed.counts_by_api[api.index()];
            let report = ApiReport {
                requests,
                ok,
                latency_ms: LatencyMs::of(&timed.latency_by_api_us[api.index()]),
            };
            (api.name().to_owned(), report)
        })
        .collect();
    let ledger_verified = ledger.mismatches == 0;
    let balances_match = balances.mismatched == 0;
    let rounded = |x: f64| (x * 1000.0).round() / 1000.0;
    Ok(Report {
        scenario: options.scenario.name().to_owned(),
        connections: options.connections,
        duration_s: rounded(duration_s),
        requests,
        throughput_rps: if duration_s > 0.0 {
            rounded(requests as f64 / duration_s)
        } else {
            0.0
        },
        latency_ms: LatencyMs::of(&timed.latency_us),
        errors,
        ok,
        ledger_verified,
        balances_match,
        passed: ledger_verified && balances_match && signatures.failed == 0,
        stop_reason: timed.stop.name().to_owned(),
        users: options.users,
        seed: options.seed,
        url: options.url.clone(),
        backend: target.store.backend_name().to_owned(),
        institution_id: target.names.institution_id.clone(),
        timestamp: report::timestamp_now(),
        machine: Machine::this(),
        generator: Generator {
            cpu_s: timed.generator_cpu_s.map(rounded),
            cpu_cores_used: timed
                .generator_cpu_s
                .filter(|_| duration_s > 0.0)
                .map(|cpu| rounded(cpu / duration_s)),
            presigned: presigned_count,
            presign_s: rounded(presign_s),
            setup_s: rounded(setup_s),
            warmup_failures: timed.warmup_failures as u64,
        },
        by_api,
        ledger,
        balances,
        signatures,
        notifications: NotifyReport::new(notify_url, notifications_expected, notified),
    })
}
