//! The command line. Operators' scripts rely on `--url`, `--scenario`,
//! `--connections`, `--duration`, `--requests`, `--users`, `--config`, `--seed`
//! and `--json`: more may be added, none renamed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use freewalker_domain::duration::parse_millis;
use freewalker_server::settings::Settings;

use crate::options::{
    Options, PRESIGNED_MAX_DEFAULT, SETUP_CONCURRENCY_DEFAULT, Scenario, StopAt, USERS_DEFAULT,
};

/// Exit status of a run whose ledger, balances or response signatures did not check out.
pub const EXIT_FAILED_CHECKS: u8 = 1;
/// Exit status of a run that could not be made (options, settings, wallet, setup).
pub const EXIT_NOT_RUN: u8 = 2;

/// Load generator for the Freewalker wallet: plays an institution against a
/// running wallet, measures throughput and latency, then checks the books.
#[derive(Debug, Parser)]
#[command(name = "freewalker-bench", version, about)]
pub struct Cli {
    /// The running wallet's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The workload.
    #[arg(long, value_enum)]
    pub scenario: Scenario,
    /// Concurrent workers, each with its own keep-alive HTTP/1.1 connection.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// How long to send (500ms, 20s, 2m); the default when --requests is not given is 20s.
    #[arg(long, value_parser = parse_duration, conflicts_with = "requests")]
    pub duration: Option<Duration>,
    /// Stop after this many requests instead of after a duration.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Accounts to spread the load over.
    #[arg(long, default_value_t = USERS_DEFAULT)]
    pub users: usize,
    /// The wallet's TOML settings file (as `freewalker --config`); FREEWALKER_*
    /// variables win over it. The bench reads the wallet's database and key through them.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seeds which API, account and amount each request gets.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Requests pre-signed for a --duration run; the run stops early if they run out.
    #[arg(long, default_value_t = PRESIGNED_MAX_DEFAULT)]
    pub max_presigned: usize,
    /// Setup requests in flight at once.
    #[arg(long, default_value_t = SETUP_CONCURRENCY_DEFAULT)]
    pub setup_concurrency: usize,
    /// Where to receive the wallet's withdraw result notifications.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub notify_listen: SocketAddr,
    /// The notification URL to register, when the wallet reaches the bench by
    /// another address than --notify-listen.
    #[arg(long)]
    pub notify_url: Option<String>,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Do not draw the progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let ms = parse_millis(text).map_err(|e| e.to_string())?;
    u64::try_from(ms)
        .map(Duration::from_millis)
        .map_err(|_| format!("{text:?} is negative"))
}

impl Cli {
    /// The run's options.
    pub fn options(&self) -> Options {
        let stop = match (self.requests, self.duration) {
            (Some(n), _) => StopAt::Requests(n),
            (None, Some(d)) => StopAt::Duration(d),
            (None, None) => {
                StopAt::Duration(Duration::from_millis(crate::options::DURATION_DEFAULT_MS))
            }
        };
        Options {
            url: self.url.clone(),
            scenario: self.scenario,
            connections: self.connections,
            stop,
            users: self.users,
            seed: self.seed,
            presigned_max: self.max_presigned,
            setup_concurrency: self.setup_concurrency,
            notify_listen: self.notify_listen,
            notify_url: self.notify_url.clone(),
            progress: !self.no_progress,
        }
    }
}

/// Parses the command line, runs, prints the summary, writes the JSON report.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("freewalker-bench: {e}");
            return ExitCode::from(EXIT_NOT_RUN);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("freewalker-bench: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_NOT_RUN);
        }
    };
    let options = cli.options();
    eprintln!(
        "freewalker-bench: {} against {}: setting up {} accounts, then signing {} requests",
        options.scenario.name(),
        options.url,
        options.users,
        options.requests_to_sign()
    );
    let report = match runtime.block_on(crate::run(options, settings)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("freewalker-bench: {e}");
            return ExitCode::from(EXIT_NOT_RUN);
        }
    };
    println!("{}", report.summary());
    if let Some(path) = &cli.json
        && let Err(e) = report.write_json(path)
    {
        eprintln!("freewalker-bench: cannot write {}: {e}", path.display());
        return ExitCode::from(EXIT_NOT_RUN);
    }
    if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED_CHECKS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operators_command_line_parses() {
        let cli = Cli::try_parse_from([
            "freewalker-bench",
            "--url",
            "http://127.0.0.1:8080",
            "--scenario",
            "user-sync",
            "--connections",
            "64",
            "--duration",
            "20s",
            "--json",
            "out.json",
            "--users",
            "10",
            "--seed",
            "7",
        ])
        .unwrap();
        let o = cli.options();
        assert_eq!(o.scenario, Scenario::UserSync);
        assert_eq!(o.stop, StopAt::Duration(Duration::from_secs(20)));
        assert_eq!((o.connections, o.users, o.seed), (64, 10, 7));

        let cli = Cli::try_parse_from([
            "freewalker-bench",
            "--scenario",
            "mixed",
            "--requests",
            "300",
        ])
        .unwrap();
        assert_eq!(cli.options().stop, StopAt::Requests(300));
        assert!(
            Cli::try_parse_from([
                "x",
                "--scenario",
                "mixed",
                "--requests",
                "3",
                "--duration",
                "1s"
            ])
            .is_err()
        );
        assert!(Cli::try_parse_from(["x", "--scenario", "nonsense"]).is_err());
        for s in Scenario::all() {
            assert!(
                Cli::try_parse_from(["x", "--scenario", s.name()]).is_ok(),
                "{}",
                s.name()
            );
        }
    }
}
