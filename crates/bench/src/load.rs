//! The timed phase: `--connections` workers, each with its own keep-alive
//! HTTP/1.1 connection, take pre-signed requests from one queue (oldest first)
//! and send them back to back. A worker records each answer's latency and its
//! `ret_code`, and keeps one answer in [`SIGNATURE_SAMPLE_EVERY`] to verify
//! after the clock stops; nothing else is done per request.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reqwest::Url;
use serde::Deserialize;
use tokio::sync::{Barrier, watch};
use tokio::task::JoinSet;

use crate::error::BenchError;
use crate::options::{Options, StopAt};
use crate::plan::Api;
use crate::presign::{Prepared, Presigned};

/// One answer in this many is kept and its signature verified after the run.
pub const SIGNATURE_SAMPLE_EVERY: u32 = 100;
/// How long one timed request may take before it counts as a transport error.
pub const REQUEST_TIMEOUT_MS: u64 = 30_000;
/// The histogram's range: 1 µs to 60 s, at 3 significant digits.
pub const LATENCY_US_MAX: u64 = 60_000_000;
/// How often the progress bar is redrawn.
pub const PROGRESS_TICK_MS: u64 = 250;

/// What came back for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The envelope's `ret_code` (§6), four ASCII characters.
    Code([u8; 4]),
    /// No answer: connection refused or reset, timeout.
    Transport,
    /// An answer that is not the JSON envelope.
    Invalid,
}

impl Answer {
    pub const OK: Answer = Answer::Code(*b"0000");

    /// The key in the report's `errors` map.
    pub fn label(self) -> String {
        match self {
            Answer::Code(code) => String::from_utf8_lossy(&code).into_owned(),
            Answer::Transport => "transport".to_owned(),
            Answer::Invalid => "invalid_response".to_owned(),
        }
    }

    /// Reads `ret_code` from a response body without parsing the rest.
    pub fn of_body(body: &[u8]) -> Answer {
        #[derive(Deserialize)]
        struct Head<'a> {
            #[serde(borrow)]
            ret_code: std::borrow::Cow<'a, str>,
        }
        match serde_json::from_slice::<Head<'_>>(body) {
            Ok(head) => match <[u8; 4]>::try_from(head.ret_code.as_bytes()) {
                Ok(code) => Answer::Code(code),
                Err(_) => Answer::Invalid,
            },
            Err(_) => Answer::Invalid,
        }
    }
}

/// A kept answer: the wallet's signature headers and the body they sign.
#[derive(Debug, Clone)]
pub struct Sample {
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// Why the timed phase ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `--requests` were all sent.
    Requests,
    /// `--duration` passed.
    Duration,
    /// The pre-signed pool ran out before `--duration` passed.
    PoolExhausted,
    /// The oldest signatures were about to leave the wallet's timestamp window.
    TimestampWindow,
}

impl StopReason {
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Requests => "requests",
            StopReason::Duration => "duration",
            StopReason::PoolExhausted => "pool_exhausted",
            StopReason::TimestampWindow => "timestamp_window",
        }
    }
}

/// What the timed phase measured.
#[derive(Debug)]
pub struct Timed {
    /// From the moment every worker was connected to the last answer.
    pub elapsed: Duration,
    /// `(plan index, answer)` of every request sent.
    pub answers: Vec<(u32, Answer)>,
    /// Latency of every answered request, in microseconds.
    pub latency_us: Histogram<u64>,
    /// The same, per API (indexed by [`Api::index`]).
    pub latency_by_api_us: Vec<Histogram<u64>>,
    /// Answers by API (indexed by [`Api::index`]): sent, `0000`.
    pub counts_by_api: Vec<(u64, u64)>,
    pub samples: Vec<Sample>,
    pub stop: StopReason,
    /// CPU seconds the bench process used during the phase, if the OS tells.
    pub generator_cpu_s: Option<f64>,
    /// Workers whose warm-up request failed (they still ran).
    pub warmup_failures: usize,
}

/// A new latency histogram.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_US_MAX, 3).expect("the bounds are valid")
}

/// CPU seconds (user + system) this process has used, from `/proc/self/stat`
/// (Linux; `None` elsewhere). Clock ticks are taken as 100 per second, the
/// value of every Linux build in use.
pub fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may contain spaces; fields after it are plain.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After ")": state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

struct Shared {
    queue: Mutex<std::vec::IntoIter<Prepared>>,
    urls: Vec<Url>,
    health: Url,
    done: AtomicU64,
    deadline_after: Option<Duration>,
    expiry: Instant,
}

struct WorkerOut {
    answers: Vec<(u32, Answer)>,
    latency_us: Histogram<u64>,
    latency_by_api_us: Vec<Histogram<u64>>,
    counts_by_api: Vec<(u64, u64)>,
    samples: Vec<Sample>,
    stop: StopReason,
    finished: Instant,
    warmup_failed: bool,
}

fn http_client() -> Result<reqwest::Client, BenchError> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .http1_only()
        .tcp_nodelay(true)
        .no_proxy()
        .timeout(Duration::from_millis(REQUEST_TIMEOUT_MS))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| BenchError::Setup(format!("cannot build an HTTP client: {e}")))
}

fn take(shared: &Shared) -> Option<Prepared> {
    shared.queue.lock().ok()?.next()
}

async fn worker(
    shared: Arc<Shared>,
    barrier: Arc<Barrier>,
    mut start: watch::Receiver<Option<Instant>>,
) -> WorkerOut {
    let mut out = WorkerOut {
        answers: Vec::new(),
        latency_us: histogram(),
        latency_by_api_us: Api::ALL.iter().map(|_| histogram()).collect(),
        counts_by_api: vec![(0, 0); Api::ALL.len()],
        samples: Vec::new(),
        stop: StopReason::Requests,
        finished: Instant::now(),
        warmup_failed: false,
    };
    // Opens this worker's connection before the clock starts.
    let client = http_client();
    if let Ok(client) = &client {
        let warm = client.get(shared.health.clone()).send().await;
        out.warmup_failed = match warm {
            Ok(response) => response.bytes().await.is_err(),
            Err(_) => true,
        };
    }
    barrier.wait().await;
    let started = match start.wait_for(Option::is_some).await {
        Ok(s) => s.unwrap_or_else(Instant::now),
        Err(_) => Instant::now(),
    };
    let Ok(client) = client else {
        out.finished = Instant::now();
        return out;
    };
    let deadline = shared.deadline_after.map(|d| started + d);
    loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            out.stop = StopReason::Duration;
            break;
        }
        if now >= shared.expiry {
            out.stop = StopReason::TimestampWindow;
            break;
        }
        let Some(request) = take(&shared) else {
            out.stop = if deadline.is_some() {
                StopReason::PoolExhausted
            } else {
                StopReason::Requests
            };
            break;
        };
        let api = request.api;
        let sampled = request.index.is_multiple_of(SIGNATURE_SAMPLE_EVERY);
        let sent = Instant::now();
        let response = client
            .post(shared.urls[api.index()].clone())
            .headers(request.headers)
            .body(request.body)
            .send()
            .await;
        let answer = match response {
            Ok(response) => {
                let headers = sampled.then(|| signature_headers(response.headers()));
                match response.bytes().await {
                    Ok(body) => {
                        let answer = Answer::of_body(&body);
                        if let Some(headers) = headers {
                            out.samples.push(Sample { headers, body });
                        }
                        answer
                    }
                    Err(_) => Answer::Transport,
                }
            }
            Err(_) => Answer::Transport,
        };
        if answer != Answer::Transport {
            let micros = (sent.elapsed().as_micros() as u64).clamp(1, LATENCY_US_MAX);
            out.latency_us.saturating_record(micros);
            out.latency_by_api_us[api.index()].saturating_record(micros);
        }
        let counts = &mut out.counts_by_api[api.index()];
        counts.0 += 1;
        if answer == Answer::OK {
            counts.1 += 1;
        }
        out.answers.push((request.index, answer));
        shared.done.fetch_add(1, Ordering::Relaxed);
    }
    out.finished = Instant::now();
    out
}

/// The five §2 headers of a response, as received.
fn signature_headers(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    use freewalker_protocol::headers::{
        INSTITUTION_ID, NONCE, SIGNATURE_DATA, SIGNATURE_TYPE, TIMESTAMP,
    };
    [
        SIGNATURE_TYPE,
        SIGNATURE_DATA,
        TIMESTAMP,
        NONCE,
        INSTITUTION_ID,
    ]
    .into_iter()
    .filter_map(|name| {
        let value = headers.get(name)?.to_str().ok()?;
        Some((name.to_owned(), value.to_owned()))
    })
    .collect()
}

fn progress_bar(options: &Options, total: usize) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let (len, template) = match options.stop {
        StopAt::Duration(d) => (
            d.as_millis() as u64,
            "{spinner} {elapsed:>4} [{bar:30}] {msg}",
        ),
        StopAt::Requests(_) => (
            total as u64,
            "{spinner} {elapsed:>4} [{bar:30}] {pos}/{len} {msg}",
        ),
    };
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Runs the timed phase over the pool. `expiry` is when the oldest signature
/// leaves the wallet's timestamp window (less the margin).
pub async fn run(
    options: &Options,
    presigned: Presigned,
    expiry: Instant,
) -> Result<Timed, BenchError> {
    let base = options.url.trim_end_matches('/');
    let parse = |path: &str| {
        Url::parse(&format!("{base}{path}"))
            .map_err(|e| BenchError::Usage(format!("--url {:?}: {e}", options.url)))
    };
    let urls = Api::ALL
        .iter()
        .map(|api| parse(api.path()))
        .collect::<Result<Vec<_>, _>>()?;
    let total = presigned.requests.len();
    let shared = Arc::new(Shared {
        queue: Mutex::new(presigned.requests.into_iter()),
        urls,
        health: parse("/healthz")?,
        done: AtomicU64::new(0),
        deadline_after: match options.stop {
            StopAt::Duration(d) => Some(d),
            StopAt::Requests(_) => None,
        },
        expiry,
    });

    let barrier = Arc::new(Barrier::new(options.connections + 1));
    let (start_tx, start_rx) = watch::channel(None);
    let mut workers = JoinSet::new();
    for _ in 0..options.connections {
        workers.spawn(worker(shared.clone(), barrier.clone(), start_rx.clone()));
    }
    barrier.wait().await;
    let cpu_before = process_cpu_s();
    let started = Instant::now();
    let _ = start_tx.send(Some(started));

    let bar = progress_bar(options, total);
    let ticker = {
        let shared = shared.clone();
        let bar = bar.clone();
        let by_time = matches!(options.stop, StopAt::Duration(_));
        tokio::spawn(async move {
            let mut last = (Instant::now(), 0_u64);
            let mut rate = 0.0_f64;
            loop {
                tokio::time::sleep(Duration::from_millis(PROGRESS_TICK_MS)).await;
                let now = Instant::now();
                let done = shared.done.load(Ordering::Relaxed);
                let dt = now.duration_since(last.0).as_secs_f64().max(1e-3);
                let instant_rate = (done - last.1) as f64 / dt;
                // Smoothed over about a second, so the number can be read.
                rate = if rate == 0.0 {
                    instant_rate
                } else {
                    0.75 * rate + 0.25 * instant_rate
                };
                last = (now, done);
                if by_time {
                    bar.set_position(started.elapsed().as_millis() as u64);
                    bar.set_message(format!("{done} requests, {rate:.0} req/s"));
                } else {
                    bar.set_position(done);
                    bar.set_message(format!("{rate:.0} req/s"));
                }
            }
        })
    };

    let mut outs = Vec::with_capacity(options.connections);
    while let Some(joined) = workers.join_next().await {
        outs.push(joined.map_err(|e| BenchError::Setup(format!("a worker failed: {e}")))?);
    }
    ticker.abort();
    bar.finish_and_clear();
    let generator_cpu_s = match (cpu_before, process_cpu_s()) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };

    let finished = outs.iter().map(|o| o.finished).max().unwrap_or(started);
    let stop = if outs.iter().any(|o| o.stop == StopReason::TimestampWindow) {
        StopReason::TimestampWindow
    } else if outs.iter().any(|o| o.stop == StopReason::Duration) {
        StopReason::Duration
    } else if outs.iter().any(|o| o.stop == StopReason::PoolExhausted) {
        StopReason::PoolExhausted
    } else {
        StopReason::Requests
    };
    let mut timed = Timed {
        elapsed: finished.saturating_duration_since(started),
        answers: Vec::new(),
        latency_us: histogram(),
        latency_by_api_us: Api::ALL.iter().map(|_| histogram()).collect(),
        counts_by_api: vec![(0, 0); Api::ALL.len()],
        samples: Vec::new(),
        stop,
        generator_cpu_s,
        warmup_failures: outs.iter().filter(|o| o.warmup_failed).count(),
    };
    for out in outs {
        timed.answers.extend(out.answers);
        timed.latency_us.add(&out.latency_us).ok();
        for (all, one) in timed
            .latency_by_api_us
            .iter_mut()
            .zip(&out.latency_by_api_us)
        {
            all.add(one).ok();
        }
        for (all, one) in timed.counts_by_api.iter_mut().zip(&out.counts_by_api) {
            all.0 += one.0;
            all.1 += one.1;
        }
        timed.samples.extend(out.samples);
    }
    timed.answers.sort_unstable_by_key(|(index, _)| *index);
    Ok(timed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ret_codes_are_read_from_envelopes() {
        assert_eq!(
            Answer::of_body(br#"{"ret_code":"0000","ret_msg":"ok","data":{}}"#),
            Answer::OK
        );
        assert_eq!(
            Answer::of_body(br#"{"ret_msg":"x","ret_code":"3004"}"#).label(),
            "3004"
        );
        assert_eq!(Answer::of_body(b"<html>"), Answer::Invalid);
        assert_eq!(Answer::of_body(br#"{"ret_code":"00000"}"#), Answer::Invalid);
        assert_eq!(Answer::Transport.label(), "transport");
    }

    #[test]
    fn cpu_time_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(process_cpu_s().is_some_and(|s| s >= 0.0));
        }
    }
}
