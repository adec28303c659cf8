//! The report: what the run measured and whether the books checked out, as a
//! human summary and as JSON for scripts (field by field in `README.md`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::checks::{BalanceCheck, LedgerCheck, SignatureCheck};
use crate::notify::NotifyCounts;

/// Latency percentiles in milliseconds (microsecond resolution).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct LatencyMs {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

/// Microseconds as milliseconds, to the microsecond.
fn ms(micros: f64) -> f64 {
    micros.round() / 1000.0
}

impl LatencyMs {
    /// The percentiles of a histogram of microseconds; all zero when it is empty.
    pub fn of(histogram: &Histogram<u64>) -> LatencyMs {
        if histogram.is_empty() {
            return LatencyMs {
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
                mean: 0.0,
            };
        }
        let at = |q: f64| ms(histogram.value_at_quantile(q) as f64);
        LatencyMs {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            max: ms(histogram.max() as f64),
            mean: ms(histogram.mean()),
        }
    }
}

/// One API's share of the timed requests.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApiReport {
    pub requests: u64,
    pub ok: u64,
    pub latency_ms: LatencyMs,
}

/// The machine the bench ran on.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Machine {
    /// `std::thread::available_parallelism`.
    pub cores: usize,
    pub os: &'static str,
    pub arch: &'static str,
}

impl Machine {
    pub fn this() -> Machine {
        Machine {
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
        }
    }
}

/// How hard the bench itself worked during the timed phase.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Generator {
    /// CPU seconds the bench used while the clock ran.
    pub cpu_s: Option<f64>,
    /// `cpu_s / duration_s`: cores the bench kept busy. Compare with
    /// `machine.cores`: the rest is what the wallet had.
    pub cpu_cores_used: Option<f64>,
    /// Requests signed before the run.
    pub presigned: u64,
    /// Seconds spent signing them.
    pub presign_s: f64,
    /// Seconds setup took (users, KYC, funding, orders).
    pub setup_s: f64,
    /// Workers whose connection could not be opened before the clock started.
    pub warmup_failures: u64,
}

/// Everything a run reports. The fields up to `balances_match` are the ones
/// operators' scripts rely on.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub scenario: String,
    pub connections: usize,
    /// Seconds from the first request to the last answer.
    pub duration_s: f64,
    /// Timed requests sent (answered or not).
    pub requests: u64,
    pub throughput_rps: f64,
    /// Over the answered requests.
    pub latency_ms: LatencyMs,
    /// Answers other than `0000`, by `ret_code`; `transport` for no answer,
    /// `invalid_response` for an answer that is not the envelope.
    pub errors: BTreeMap<String, u64>,
    /// Answers `0000`.
    pub ok: u64,
    pub ledger_verified: bool,
    pub balances_match: bool,
    /// `ledger_verified && balances_match && signatures.failed == 0`.
    pub passed: bool,

    /// `requests`, `duration`, `pool_exhausted` or `timestamp_window`.
    pub stop_reason: String,
    pub users: usize,
    pub seed: u64,
    pub url: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub institution_id: String,
    /// When the report was made, RFC 3339 in UTC.
    pub timestamp: String,
    pub machine: Machine,
    pub generator: Generator,
    pub by_api: BTreeMap<String, ApiReport>,
    pub ledger: LedgerCheck,
    pub balances: BalanceCheck,
    pub signatures: SignatureCheck,
    pub notifications: NotifyReport,
}

/// Withdraw result notifications the bench received during the run.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NotifyReport {
    /// The `notify_url` registered for the bench's institution.
    pub url: String,
    /// Withdrawals the wallet accepted (setup and timed): one result each.
    pub expected: u64,
    /// Notifications whose signature and body verified (retries included).
    pub verified: u64,
    /// Notifications refused: bad signature, timestamp or body.
    pub rejected: u64,
    /// Distinct `(order_no, order_status)` verified.
    pub distinct: u64,
}

impl NotifyReport {
    pub fn new(url: String, expected: u64, counts: NotifyCounts) -> NotifyReport {
        NotifyReport {
            url,
            expected,
            verified: counts.verified,
            rejected: counts.rejected,
            distinct: counts.distinct,
        }
    }
}

/// Now, RFC 3339 in UTC.
pub fn timestamp_now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Report {
    /// Requests answered with anything but `0000`.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Writes the JSON report, creating the folder if needed.
    pub fn write_json(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, self.to_json() + "\n")
    }

    /// The summary printed at the end of a run.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let l = &self.latency_ms;
        let _ = writeln!(
            s,
            "{} against {} ({}), {} connections, {} accounts",
            self.scenario, self.url, self.backend, self.connections, self.users
        );
        let _ = writeln!(
            s,
            "  {} requests in {:.2} s ({}): {:.0} req/s",
            self.requests, self.duration_s, self.stop_reason, self.throughput_rps
        );
        let _ = writeln!(
            s,
            "  latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
            l.p50, l.p90, l.p99, l.p999, l.max
        );
        let errors = if self.errors.is_empty() {
            "none".to_owned()
        } else {
            self.errors
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(s, "  ok {}  errors {errors}", self.ok);
        for (api, r) in &self.by_api {
            let _ = writeln!(
                s,
                "    {api:<17} {:>8} requests, {:>8} ok, p50 {:.2} ms, p99 {:.2} ms",
                r.requests, r.ok, r.latency_ms.p50, r.latency_ms.p99
            );
        }
        let g = &self.generator;
        let cpu = match (g.cpu_s, g.cpu_cores_used) {
            (Some(cpu), Some(cores)) => {
                format!("{cpu:.1} CPU s, {cores:.2} of {} cores", self.machine.cores)
            }
            _ => "CPU unknown".to_owned(),
        };
        let _ = writeln!(
            s,
            "  generator: {cpu}; {} pre-signed in {:.1} s; setup {:.1} s",
            g.presigned, g.presign_s, g.setup_s
        );
        let _ = writeln!(
            s,
            "  ledger: {} ({} accounts, {} entries, {} mismatches)",
            if self.ledger_verified {
                "verified"
            } else {
                "MISMATCH"
            },
            self.ledger.accounts_checked,
            self.ledger.entries_checked,
            self.ledger.mismatches
        );
        let settled = match self.balances.settled_after_ms {
            Some(ms) => format!("settled after {ms} ms"),
            None => "frozen balances did not settle".to_owned(),
        };
        let _ = writeln!(
            s,
            "  balances: {} ({} accounts; {} with a wrong available balance, {} with withdrawals still frozen; {settled})",
            if self.balances_match {
                "match"
            } else {
                "MISMATCH"
            },
            self.balances.accounts_checked,
            self.balances.wrong_available,
            self.balances.unsettled
        );
        for m in &self.balances.mismatches {
            let _ = writeln!(
                s,
                "    {}: available {} fen, expected {} fen, frozen {} fen",
                m.account_no, m.available_fen, m.expected_available_fen, m.frozen_fen
            );
        }
        let _ = writeln!(
            s,
            "  response signatures: {} sampled, {} failed; notifications: {} of {} withdrawals, {} rejected",
            self.signatures.checked,
            self.signatures.failed,
            self.notifications.distinct,
            self.notifications.expected,
            self.notifications.rejected
        );
        let _ = write!(s, "  {}", if self.passed { "PASSED" } else { "FAILED" });
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::histogram;

    #[test]
    fn percentiles_come_from_the_histogram_in_milliseconds() {
        let mut h = histogram();
        for micros in 1..=1000 {
            h.record(micros).unwrap();
        }
        let l = LatencyMs::of(&h);
        assert_eq!(l.p50, 0.5);
        assert_eq!(l.p90, 0.9);
        assert_eq!(l.p99, 0.99);
        assert_eq!(l.p999, 0.999);
        assert_eq!(l.max, 1.0);
        assert_eq!(l.mean, 0.501);

        // A slow tail shows at p99 and max but not at p50.
        let mut h = histogram();
        for _ in 0..98 {
            h.record(2_000).unwrap();
        }
        h.record(250_000).unwrap();
        h.record(1_000_000).unwrap();
        let l = LatencyMs::of(&h);
        assert_eq!(l.p50, 2.0);
        assert!((l.p99 - 250.0).abs() < 0.25, "{l:?}");
        assert!((l.max - 1000.0).abs() < 1.0, "{l:?}");

        assert_eq!(LatencyMs::of(&histogram()).max, 0.0);
    }

    pub(crate) fn sample() -> Report {
        let mut h = histogram();
        h.record(1500).unwrap();
        Report {
            scenario: "recharge".into(),
            connections: 8,
            duration_s: 2.0,
            requests: 10,
            throughput_rps: 5.0,
            latency_ms: LatencyMs::of(&h),
            errors: BTreeMap::from([("3004".to_owned(), 1), ("transport".to_owned(), 1)]),
            ok: 8,
            ledger_verified: true,
            balances_match: true,
            passed: true,
            stop_reason: "requests".into(),
            users: 20,
            seed: 1,
            url: "http://127.0.0.1:8080".into(),
            backend: "sqlite".into(),
            institution_id: "BENCH_x".into(),
            timestamp: timestamp_now(),
            machine: Machine::this(),
            generator: Generator {
                cpu_s: Some(0.5),
                cpu_cores_used: Some(0.25),
                presigned: 10,
                presign_s: 0.1,
                setup_s: 0.2,
                warmup_failures: 0,
            },
            by_api: BTreeMap::from([(
                "recharge_apply".to_owned(),
                ApiReport {
                    requests: 10,
                    ok: 8,
                    latency_ms: LatencyMs::of(&h),
                },
            )]),
            ledger: LedgerCheck {
                accounts_checked: 20,
                entries_checked: 30,
                postings_checked: 60,
                mismatches: 0,
                details: vec![],
            },
            balances: BalanceCheck {
                accounts_checked: 20,
                mismatched: 0,
                wrong_available: 0,
                unsettled: 0,
                mismatches: vec![],
                settled_after_ms: Some(0),
                unknown_outcomes_resolved: 0,
            },
            signatures: SignatureCheck {
                checked: 1,
                failed: 0,
            },
            notifications: NotifyReport {
                url: "http://127.0.0.1:1/notify".into(),
                expected: 0,
                verified: 0,
                rejected: 0,
                distinct: 0,
            },
        }
    }

    #[test]
    fn the_json_report_has_the_fields_scripts_rely_on() {
        let report = sample();
        let v: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(v["scenario"], "recharge");
        assert_eq!(v["connections"], 8);
        assert_eq!(v["duration_s"], 2.0);
        assert_eq!(v["requests"], 10);
        assert_eq!(v["throughput_rps"], 5.0);
        for p in ["p50", "p90", "p99", "max"] {
            assert!(v["latency_ms"][p].is_f64(), "latency_ms.{p}");
        }
        assert_eq!(v["latency_ms"]["p50"], 1.5);
        assert_eq!(v["errors"], serde_json::json!({"3004": 1, "transport": 1}));
        assert!(v["errors"].get("0000").is_none());
        assert_eq!(v["ok"], 8);
        assert_eq!(v["ledger_verified"], true);
        assert_eq!(v["balances_match"], true);
        assert!(v["machine"]["cores"].as_u64().unwrap() >= 1);
        assert_eq!(v["url"], "http://127.0.0.1:8080");
        assert!(
            time::OffsetDateTime::parse(
                v["timestamp"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339
            )
            .is_ok()
        );
        assert_eq!(report.error_count(), 2);

        let dir =
            std::env::temp_dir().join(format!("freewalker-bench-report-{}", std::process::id()));
        let path = dir.join("nested/report.json");
        report.write_json(&path).unwrap();
        let back: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back, v);
        std::fs::remove_dir_all(&dir).unwrap();

        let summary = report.summary();
        assert!(
            summary.contains("3004: 1") && summary.contains("PASSED"),
            "{summary}"
        );
    }
}
