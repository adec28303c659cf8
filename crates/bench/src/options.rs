//! What a run is asked to do, and the limits it works within.

use std::net::SocketAddr;
use std::time::Duration;

/// The timed requests sent by default when neither `--duration` nor
/// `--requests` is given: the operators' usual run.
pub const DURATION_DEFAULT_MS: u64 = 20_000;
/// The pre-signed pool of a `--duration` run. Signing is RSA-2048 at a few
/// thousand per second per core, so this is about 15 s of signing on two cores,
/// and about 120 MB of memory: enough for 20 s at 6,000 requests per second.
pub const PRESIGNED_MAX_DEFAULT: usize = 120_000;
/// Accounts the load is spread over by default.
pub const USERS_DEFAULT: usize = 1_000;
/// Setup requests in flight at once. Setup is not timed; this only keeps it short
/// without queueing hundreds of requests at the wallet.
pub const SETUP_CONCURRENCY_DEFAULT: usize = 32;
/// The most timed connections: each is a task, a connection and a histogram.
pub const CONNECTIONS_MAX: usize = 4_096;
/// The most accounts: each is a user sync, a KYC sync and an account query.
pub const USERS_MAX: usize = 1_000_000;

/// A workload: which APIs the timed requests call, in which proportions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// §4.1 user info sync of new users (sealed fields, so the wallet unwraps an
    /// RSA-OAEP key per request).
    UserSync,
    /// §4.3 recharge apply of 1.00–9.99 CNY.
    Recharge,
    /// §4.5 withdraw confirm of 0.10 CNY into USD.
    Withdraw,
    /// §4.7 account query, §4.4 recharge query and §4.6 withdraw query.
    Query,
    /// A realistic day: 5% user sync, 35% recharge, 10% withdraw, 50% queries.
    Mixed,
}

impl Scenario {
    /// The name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::UserSync => "user-sync",
            Scenario::Recharge => "recharge",
            Scenario::Withdraw => "withdraw",
            Scenario::Query => "query",
            Scenario::Mixed => "mixed",
        }
    }

    /// Every scenario, for tests and help text.
    pub fn all() -> [Scenario; 5] {
        [
            Scenario::UserSync,
            Scenario::Recharge,
            Scenario::Withdraw,
            Scenario::Query,
            Scenario::Mixed,
        ]
    }

    /// Whether setup gives every account a balance (withdrawals need one).
    pub fn funds_accounts(self) -> bool {
        matches!(self, Scenario::Withdraw | Scenario::Query | Scenario::Mixed)
    }

    /// Whether setup creates a withdrawal per account for the queries to find.
    pub fn creates_withdrawals(self) -> bool {
        matches!(self, Scenario::Query | Scenario::Mixed)
    }
}

/// When the timed phase ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopAt {
    /// After this long, or when the pre-signed pool runs out.
    Duration(Duration),
    /// After this many requests (all pre-signed).
    Requests(u64),
}

/// Everything a run needs besides the wallet's settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// The running wallet, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    pub scenario: Scenario,
    /// Timed workers, each with its own keep-alive HTTP/1.1 connection.
    pub connections: usize,
    pub stop: StopAt,
    /// Accounts the load is spread over.
    pub users: usize,
    /// Seeds the choice of API, account and amount of every timed request.
    pub seed: u64,
    /// The size of the pre-signed pool of a `--duration` run.
    pub presigned_max: usize,
    /// Setup requests in flight at once.
    pub setup_concurrency: usize,
    /// Where the bench listens for the wallet's withdraw result notifications.
    pub notify_listen: SocketAddr,
    /// The notification URL registered for the bench's institution; by default
    /// `http://<notify_listen as bound>/notify` (set it when the wallet reaches
    /// the bench by another address).
    pub notify_url: Option<String>,
    /// Draw the progress bar on stderr (it hides itself when stderr is not a terminal).
    pub progress: bool,
}

impl Options {
    /// Options with the defaults for everything but the target and the workload.
    pub fn new(url: impl Into<String>, scenario: Scenario) -> Options {
        Options {
            url: url.into(),
            scenario,
            connections: 64,
            stop: StopAt::Duration(Duration::from_millis(DURATION_DEFAULT_MS)),
            users: USERS_DEFAULT,
            seed: 1,
            presigned_max: PRESIGNED_MAX_DEFAULT,
            setup_concurrency: SETUP_CONCURRENCY_DEFAULT,
            notify_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            notify_url: None,
            progress: true,
        }
    }

    /// How many timed requests are pre-signed.
    pub fn requests_to_sign(&self) -> usize {
        match self.stop {
            StopAt::Duration(_) => self.presigned_max,
            StopAt::Requests(n) => usize::try_from(n).unwrap_or(usize::MAX),
        }
    }

    /// Refuses options that cannot make a meaningful run.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(format!(
                "--url {:?}: give the wallet's base URL, like http://127.0.0.1:8080",
                self.url
            ));
        }
        if !(1..=CONNECTIONS_MAX).contains(&self.connections) {
            return Err(format!(
                "--connections must be between 1 and {CONNECTIONS_MAX}"
            ));
        }
        if !(1..=USERS_MAX).contains(&self.users) {
            return Err(format!("--users must be between 1 and {USERS_MAX}"));
        }
        if self.setup_concurrency == 0 {
            return Err("--setup-concurrency must be at least 1".into());
        }
        match self.stop {
            StopAt::Duration(d) if d.is_zero() => {
                return Err("--duration must be greater than zero".into());
            }
            StopAt::Requests(0) => return Err("--requests must be at least 1".into()),
            _ => {}
        }
        if self.requests_to_sign() == 0 {
            return Err("--max-presigned must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_nonsense_does_not() {
        let o = Options::new("http://127.0.0.1:8080", Scenario::Mixed);
        assert_eq!(o.validate(), Ok(()));
        assert_eq!(o.requests_to_sign(), PRESIGNED_MAX_DEFAULT);

        let mut bad = o.clone();
        bad.url = "127.0.0.1:8080".into();
        assert!(bad.validate().unwrap_err().contains("--url"));
        let mut bad = o.clone();
        bad.connections = 0;
        assert!(bad.validate().unwrap_err().contains("--connections"));
        let mut bad = o;
        bad.stop = StopAt::Requests(0);
        assert!(bad.validate().unwrap_err().contains("--requests"));
    }
}
