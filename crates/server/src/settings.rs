//! Settings (§8): every one has an environment variable `FREEWALKER_<NAME>` and a
//! key `<name>` in the optional TOML file given with `--config`; the environment
//! wins. Everything is validated at start-up, before the wallet serves a request.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use freewalker_domain::duration;
use freewalker_domain::limits::{LimitSet, LimitTable};
use freewalker_domain::notify_schedule::{DEFAULT_SCHEDULE, NotifySchedule};
use freewalker_protocol::amount::parse_amount;
use freewalker_protocol::currency::Currency;
use serde::Deserialize;

/// Why the settings are unusable. Printed at start-up; the wallet does not start.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read settings: {0}")]
    Load(#[from] config::ConfigError),
    #[error("setting {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

fn invalid(name: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        name,
        reason: reason.into(),
    }
}

/// Where payouts go (§8 `FREEWALKER_PAYOUT_CHANNEL`).
#[derive(Debug, Clone, PartialEq)]
pub enum PayoutChannelKind {
    /// Settles every withdrawal successfully at once.
    Instant,
    /// Holds withdrawals in `PROCESSING` until `freewalker withdraw complete|fail`.
    Manual,
    /// A sandbox channel: settles after `delay_ms`, failing a share of
    /// `failure_rate` of the orders (decided by the order number, so a retried
    /// order gets the same answer).
    Simulated { delay_ms: i64, failure_rate: f64 },
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// The validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `FREEWALKER_DATABASE_URL`: `sqlite://…` (default) or `postgres://…`.
    pub database_url: String,
    /// `FREEWALKER_DATABASE_SCHEMA`: PostgreSQL schema (default: the search path).
    pub database_schema: Option<String>,
    /// `FREEWALKER_DATABASE_POOL_CONNECTIONS_MAX` (PostgreSQL).
    pub database_pool_connections_max: usize,
    /// `FREEWALKER_DATABASE_WRITERS`: transactions applying commands at once (PostgreSQL).
    pub database_writers: usize,
    /// `FREEWALKER_DATABASE_STATEMENT_TIMEOUT`: PostgreSQL statement timeout.
    pub database_statement_timeout_ms: u64,
    /// `FREEWALKER_LISTEN`: address the API listens on.
    pub listen: SocketAddr,
    /// `FREEWALKER_PRIVATE_KEY`: the wallet's RSA private key (PKCS#8 PEM);
    /// generated on first start if absent, public key written beside it.
    pub private_key: PathBuf,
    /// `FREEWALKER_DATA_KEY`: Base64 of the 32-byte key that seals sensitive
    /// fields at rest. If unset, `FREEWALKER_DATA_KEY_FILE` is read (generated
    /// on first start).
    pub data_key: Option<String>,
    /// `FREEWALKER_DATA_KEY_FILE`.
    pub data_key_file: PathBuf,
    /// `FREEWALKER_PAYOUT_CHANNEL`: `instant`, `manual` or `simulated`.
    pub payout_channel: PayoutChannelKind,
    /// `FREEWALKER_NOTIFY_SCHEDULE`: retry delays (§4.8).
    pub notify_schedule: NotifySchedule,
    /// `FREEWALKER_NOTIFY_TIMEOUT`: per attempt (§4.8: 10 s).
    pub notify_timeout_ms: u64,
    /// `FREEWALKER_NOTIFY_CONCURRENCY`: deliveries in flight at once.
    pub notify_concurrency: usize,
    /// `FREEWALKER_FX_MAX_AGE`: a rate older than this is refused (`3007`).
    pub fx_max_age_ms: i64,
    /// `FREEWALKER_TIMESTAMP_WINDOW`: allowed clock difference (§2: 300 s).
    pub timestamp_window_ms: i64,
    /// `FREEWALKER_NONCE_TTL`: how long a nonce stays used (§2: 600 s).
    pub nonce_ttl_ms: i64,
    /// `FREEWALKER_INSTITUTION_CACHE_TTL`: how long an institution's key and
    /// status are cached; `institution disable` takes effect within it.
    pub institution_cache_ttl_ms: u64,
    /// `FREEWALKER_REQUEST_TIMEOUT`: a request still running after this gets `9999`.
    pub request_timeout_ms: u64,
    /// `FREEWALKER_RATE_LIMIT_RPS`: requests per second per institution
    /// (0 = unlimited); beyond it, `4029`.
    pub rate_limit_rps: u32,
    /// `FREEWALKER_SIGNATURE_CACHE_ENTRIES`: signatures of recent response
    /// bodies kept for identical answers (0 turns the cache off).
    pub signature_cache_entries: usize,
    /// `FREEWALKER_LOG_FORMAT`: `human` or `json`.
    pub log_format: LogFormat,
    /// `FREEWALKER_LIMITS__L1__SINGLE_RECHARGE` and so on: §5 limits in CNY.
    pub limits: LimitTable,
}

/// The raw settings as read from the file and the environment: every value a
/// string, parsed and checked by [`Settings::load`].
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Raw {
    database_url: Option<String>,
    database_schema: Option<String>,
    database_pool_connections_max: Option<String>,
    database_writers: Option<String>,
    database_statement_timeout: Option<String>,
    listen: Option<String>,
    private_key: Option<String>,
    data_key: Option<String>,
    data_key_file: Option<String>,
    payout_channel: Option<String>,
    payout_simulated_delay: Option<String>,
    payout_simulated_failure_rate: Option<String>,
    notify_schedule: Option<String>,
    notify_timeout: Option<String>,
    notify_concurrency: Option<String>,
    fx_max_age: Option<String>,
    timestamp_window: Option<String>,
    nonce_ttl: Option<String>,
    institution_cache_ttl: Option<String>,
    request_timeout: Option<String>,
    rate_limit_rps: Option<String>,
    signature_cache_entries: Option<String>,
    log_format: Option<String>,
    limits: RawLimits,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawLimits {
    l0: RawLimitSet,
    l1: RawLimitSet,
    l2: RawLimitSet,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawLimitSet {
    single_recharge: Option<String>,
    daily_recharge: Option<String>,
    yearly_recharge: Option<String>,
    balance_max: Option<String>,
    single_withdraw: Option<String>,
}

/// The data directory of the embedded default.
pub const DATA_DIR: &str = "freewalker-data";

fn millis(name: &'static str, value: Option<String>, default: &str) -> Result<i64, SettingsError> {
    let text = value.unwrap_or_else(|| default.to_owned());
    let ms = duration::parse_millis(&text).map_err(|e| invalid(name, e.to_string()))?;
    if ms <= 0 {
        return Err(invalid(name, "must be greater than zero"));
    }
    Ok(ms)
}

fn number<T: std::str::FromStr>(
    name: &'static str,
    value: Option<String>,
    default: T,
) -> Result<T, SettingsError> {
    match value {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| invalid(name, format!("{v:?} is not a number"))),
    }
}

fn limit(name: &'static str, value: Option<String>, default: i64) -> Result<i64, SettingsError> {
    match value {
        None => Ok(default),
        Some(v) => {
            parse_amount(v.trim(), Currency::CNY).map_err(|e| invalid(name, format!("{v:?}: {e}")))
        }
    }
}

fn limit_set(
    prefix: &'static [&'static str; 5],
    raw: RawLimitSet,
    default: LimitSet,
) -> Result<LimitSet, SettingsError> {
    Ok(LimitSet {
        single_recharge_fen: limit(prefix[0], raw.single_recharge, default.single_recharge_fen)?,
        daily_recharge_fen: limit(prefix[1], raw.daily_recharge, default.daily_recharge_fen)?,
        yearly_recharge_fen: limit(prefix[2], raw.yearly_recharge, default.yearly_recharge_fen)?,
        balance_max_fen: limit(prefix[3], raw.balance_max, default.balance_max_fen)?,
        single_withdraw_fen: limit(prefix[4], raw.single_withdraw, default.single_withdraw_fen)?,
    })
}

macro_rules! limit_names {
    ($level:literal) => {
        &[
            concat!("limits.", $level, ".single_recharge"),
            concat!("limits.", $level, ".daily_recharge"),
            concat!("limits.", $level, ".yearly_recharge"),
            concat!("limits.", $level, ".balance_max"),
            concat!("limits.", $level, ".single_withdraw"),
        ]
    };
}

impl Settings {
    /// Reads the optional TOML file, then the environment (which wins), and
    /// validates everything.
    pub fn load(config_file: Option<&Path>) -> Result<Settings, SettingsError> {
        let mut builder = config::Config::builder();
        if let Some(file) = config_file {
            builder = builder.add_source(
                config::File::from(file)
                    .format(config::FileFormat::Toml)
                    .required(true),
            );
        }
        builder = builder.add_source(
            config::Environment::with_prefix("FREEWALKER")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(false),
        );
        let raw: Raw = builder.build()?.try_deserialize()?;
        Self::from_raw(raw)
    }

    /// The defaults alone (what `freewalker serve` runs with when nothing is set).
    pub fn defaults() -> Settings {
        Self::from_raw(Raw::default()).expect("the defaults are valid")
    }

    fn from_raw(raw: Raw) -> Result<Settings, SettingsError> {
        let data_dir = PathBuf::from(DATA_DIR);
        let listen_text = raw.listen.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen = listen_text.parse().map_err(|_| {
            invalid(
                "listen",
                format!("{listen_text:?} is not an address like 127.0.0.1:8080"),
            )
        })?;

        let payout_channel = match raw.payout_channel.as_deref().unwrap_or("instant") {
            "instant" => PayoutChannelKind::Instant,
            "manual" => PayoutChannelKind::Manual,
            "simulated" => {
                let failure_rate: f64 = number(
                    "payout_simulated_failure_rate",
                    raw.payout_simulated_failure_rate,
                    0.0,
                )?;
                if !(0.0..=1.0).contains(&failure_rate) {
                    return Err(invalid(
                        "payout_simulated_failure_rate",
                        "must be between 0 and 1",
                    ));
                }
                PayoutChannelKind::Simulated {
                    delay_ms: millis("payout_simulated_delay", raw.payout_simulated_delay, "2s")?,
                    failure_rate,
                }
            }
            other => {
                return Err(invalid(
                    "payout_channel",
                    format!("{other:?}: use instant, manual or simulated"),
                ));
            }
        };

        let notify_schedule =
            NotifySchedule::parse(raw.notify_schedule.as_deref().unwrap_or(DEFAULT_SCHEDULE))
                .map_err(|e| invalid("notify_schedule", e.to_string()))?;
        if notify_schedule.delays_ms().iter().any(|d| *d <= 0) {
            return Err(invalid(
                "notify_schedule",
                "every delay must be greater than zero",
            ));
        }

        let log_format = match raw.log_format.as_deref().unwrap_or("human") {
            "human" => LogFormat::Human,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "log_format",
                    format!("{other:?}: use human or json"),
                ));
            }
        };

        let defaults = LimitTable::default();
        let limits = LimitTable {
            l0: limit_set(limit_names!("l0"), raw.limits.l0, defaults.l0)?,
            l1: limit_set(limit_names!("l1"), raw.limits.l1, defaults.l1)?,
            l2: limit_set(limit_names!("l2"), raw.limits.l2, defaults.l2)?,
        };
        limits.validate().map_err(|e| invalid("limits", e))?;

        let database_writers: usize = number("database_writers", raw.database_writers, 4)?;
        let database_pool_connections_max: usize = number(
            "database_pool_connections_max",
            raw.database_pool_connections_max,
            16,
        )?;
        if database_writers == 0 || database_pool_connections_max <= database_writers {
            return Err(invalid(
                "database_writers",
                "needs at least 1 writer and a pool larger than the writers (reads need connections too)",
            ));
        }
        let notify_concurrency: usize = number("notify_concurrency", raw.notify_concurrency, 32)?;
        if notify_concurrency == 0 {
            return Err(invalid("notify_concurrency", "must be at least 1"));
        }

        Ok(Settings {
            database_url: raw
                .database_url
                .unwrap_or_else(|| format!("sqlite://{DATA_DIR}/wallet.db")),
            database_schema: raw.database_schema.filter(|s| !s.is_empty()),
            database_pool_connections_max,
            database_writers,
            database_statement_timeout_ms: millis(
                "database_statement_timeout",
                raw.database_statement_timeout,
                "5s",
            )? as u64,
            listen,
            private_key: raw
                .private_key
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("wallet_private.pem")),
            data_key: raw.data_key.filter(|s| !s.is_empty()),
            data_key_file: raw
                .data_key_file
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("data_key")),
            payout_channel,
            notify_schedule,
            notify_timeout_ms: millis("notify_timeout", raw.notify_timeout, "10s")? as u64,
            notify_concurrency,
            fx_max_age_ms: millis("fx_max_age", raw.fx_max_age, "24h")?,
            timestamp_window_ms: millis("timestamp_window", raw.timestamp_window, "300s")?,
            nonce_ttl_ms: millis("nonce_ttl", raw.nonce_ttl, "600s")?,
            institution_cache_ttl_ms: millis(
                "institution_cache_ttl",
                raw.institution_cache_ttl,
                "5s",
            )? as u64,
            request_timeout_ms: millis("request_timeout", raw.request_timeout, "30s")? as u64,
            rate_limit_rps: number("rate_limit_rps", raw.rate_limit_rps, 0)?,
            signature_cache_entries: number(
                "signature_cache_entries",
                raw.signature_cache_entries,
                8_192,
            )?,
            log_format,
            limits,
        })
    }

    /// Settings that are legal but risky, to warn about at start-up.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.nonce_ttl_ms < 2 * self.timestamp_window_ms {
            w.push(format!(
                "nonce_ttl ({}) is shorter than twice timestamp_window ({}): a request could be replayed once its nonce expires while its timestamp is still accepted",
                duration::format_millis(self.nonce_ttl_ms),
                duration::format_millis(self.timestamp_window_ms)
            ));
        }
        if self.notify_timeout_ms > 30_000 {
            w.push(
                "notify_timeout is over 30s: a slow institution holds delivery slots long".into(),
            );
        }
        if !self.listen.ip().is_loopback() {
            w.push(format!(
                "listening on {}: put TLS in front of the wallet",
                self.listen
            ));
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_contract() {
        let s = Settings::defaults();
        assert_eq!(s.database_url, "sqlite://freewalker-data/wallet.db");
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.payout_channel, PayoutChannelKind::Instant);
        assert_eq!(s.fx_max_age_ms, 86_400_000);
        assert_eq!(s.timestamp_window_ms, 300_000);
        assert_eq!(s.nonce_ttl_ms, 600_000);
        assert_eq!(s.notify_schedule.attempts_max(), 16);
        assert_eq!(s.limits, LimitTable::default());
        assert!(s.warnings().is_empty());
    }

    #[test]
    fn bad_values_name_the_setting() {
        let raw = Raw {
            notify_schedule: Some("1s,x".into()),
            ..Raw::default()
        };
        let e = Settings::from_raw(raw).unwrap_err().to_string();
        assert!(e.contains("notify_schedule"), "{e}");
        let mut raw = Raw::default();
        raw.limits.l1.single_recharge = Some("35000.001".into());
        let e = Settings::from_raw(raw).unwrap_err().to_string();
        assert!(e.contains("limits.l1.single_recharge"), "{e}");
    }
}
