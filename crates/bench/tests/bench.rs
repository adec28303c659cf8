//! The bench against a real wallet: the server in-process on SQLite in a fresh
//! directory, with its payout and notification workers, driven by the bench's
//! library entry point exactly as the binary drives it. Every scenario must run
//! without a single error and leave the books exactly as the bench expects.

use std::sync::Arc;

use freewalker_bench::{Options, Scenario, StopAt};
use freewalker_domain::SystemClock;
use freewalker_server::app::{self, AppState};
use freewalker_server::settings::Settings;
use freewalker_server::telemetry::Metrics;
use freewalker_server::workers::{self, Trigger};

/// A wallet serving on an ephemeral port until dropped.
struct Wallet {
    url: String,
    settings: Settings,
    shutdown: Trigger,
    /// The payout and notification workers (dropping the set would abort them).
    _workers: tokio::task::JoinSet<()>,
    _dir: tempfile::TempDir,
}

impl Drop for Wallet {
    fn drop(&mut self) {
        self.shutdown.fire();
    }
}

async fn wallet() -> Wallet {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::defaults();
    settings.database_url = format!("sqlite://{}", dir.path().join("wallet.db").display());
    settings.private_key = dir.path().join("wallet_private.pem");
    settings.data_key_file = dir.path().join("data_key");
    let state = AppState::build(settings.clone(), Arc::new(SystemClock), Metrics::default())
        .await
        .expect("wallet starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (shutdown, wait) = workers::shutdown_channel();
    let running = workers::spawn_all(&state, wait.clone()).expect("workers start");
    tokio::spawn(async move {
        let _ = app::serve(listener, state, async move { wait.wait().await }).await;
    });
    Wallet {
        url,
        settings,
        shutdown,
        _workers: running,
        _dir: dir,
    }
}

fn options(url: &str, scenario: Scenario) -> Options {
    let mut o = Options::new(url, scenario);
    o.stop = StopAt::Requests(300);
    o.connections = 8;
    o.users = 20;
    o.progress = false;
    o
}

async fn run_clean(scenario: Scenario) {
    let wallet = wallet().await;
    let report = freewalker_bench::run(options(&wallet.url, scenario), wallet.settings.clone())
        .await
        .unwrap_or_else(|e| panic!("{} could not run: {e}", scenario.name()));
    let summary = report.summary();
    assert_eq!(report.scenario, scenario.name());
    assert_eq!(report.requests, 300, "{summary}");
    assert_eq!(report.ok, 300, "{summary}");
    assert!(report.errors.is_empty(), "{summary}");
    assert_eq!(report.stop_reason, "requests");
    assert!(report.ledger_verified, "{summary}\n{:?}", report.ledger);
    assert!(report.balances_match, "{summary}");
    assert_eq!(report.balances.accounts_checked, 20);
    assert_eq!(report.signatures.failed, 0);
    assert_eq!(
        report.signatures.checked, 3,
        "one answer in 100 is verified"
    );
    assert!(report.passed);
    assert!(
        report.throughput_rps > 0.0
            && report.latency_ms.p50 > 0.0
            && report.latency_ms.max >= report.latency_ms.p99
    );
    assert_eq!(report.by_api.values().map(|a| a.requests).sum::<u64>(), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_sync_runs_clean() {
    run_clean(Scenario::UserSync).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recharge_runs_clean() {
    run_clean(Scenario::Recharge).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdraw_runs_clean() {
    run_clean(Scenario::Withdraw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_runs_clean() {
    run_clean(Scenario::Query).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_runs_clean_and_gets_its_notifications() {
    let wallet = wallet().await;
    let report = freewalker_bench::run(
        options(&wallet.url, Scenario::Mixed),
        wallet.settings.clone(),
    )
    .await
    .expect("mixed runs");
    let summary = report.summary();
    assert!(report.errors.is_empty() && report.passed, "{summary}");
    for api in [
        "user_sync",
        "recharge_apply",
        "withdraw_confirm",
        "account_query",
        "recharge_query",
        "withdraw_query",
    ] {
        assert!(
            report.by_api.contains_key(api),
            "{api} missing from the mix: {summary}"
        );
    }
    // The setup withdrawals and the timed ones settled, and their results were
    // posted to the bench, signed by the wallet.
    assert_eq!(report.notifications.rejected, 0, "{summary}");
    assert_eq!(
        report.notifications.distinct, report.notifications.expected,
        "{summary}"
    );
    let withdrawals = report.by_api["withdraw_confirm"].ok;
    assert_eq!(
        report.notifications.expected,
        withdrawals + 20,
        "one per timed and per setup withdrawal"
    );
    assert!(report.balances.settled_after_ms.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_cannot_be_made_says_why() {
    let wallet = wallet().await;

    // Withdrawals need the instant payout channel for the balance check.
    let mut manual = wallet.settings.clone();
    manual.payout_channel = freewalker_server::settings::PayoutChannelKind::Manual;
    let e = freewalker_bench::run(options(&wallet.url, Scenario::Withdraw), manual)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("FREEWALKER_PAYOUT_CHANNEL=instant"),
        "{e}"
    );

    // A bench pointed at another database would register where the wallet never looks.
    let mut elsewhere = wallet.settings.clone();
    elsewhere.database_url = format!("sqlite://{}", wallet._dir.path().join("other.db").display());
    let e = freewalker_bench::run(options(&wallet.url, Scenario::Recharge), elsewhere)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no wallet database"), "{e}");

    // A run longer than the timestamp window could not use its signatures.
    let mut long = options(&wallet.url, Scenario::Recharge);
    long.stop = StopAt::Duration(std::time::Duration::from_secs(299));
    let e = freewalker_bench::run(long, wallet.settings.clone())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("timestamp window"), "{e}");

    // Nothing listens here.
    let e = freewalker_bench::run(
        options("http://127.0.0.1:9", Scenario::Recharge),
        wallet.settings.clone(),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("cannot reach the wallet"), "{e}");
}
