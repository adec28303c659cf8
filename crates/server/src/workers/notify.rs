//! The notification worker: delivers withdraw result notifications (§4.8) from
//! the outbox.
//!
//! A notification is delivered when the institution answers HTTP 200 with a
//! JSON body whose `ret_code` is `0000`; anything else is a failed attempt,
//! retried on the schedule until it is `DEAD`. Every attempt is recorded with
//! its time, URL, HTTP status, error, latency and the start of the answer.
//!
//! Deliveries run concurrently, each in its own task with its own timeout, and
//! no institution may hold more than [`PER_INSTITUTION_IN_FLIGHT_MAX`] of the
//! slots, so one slow or broken institution never holds up another's.
//! Notifications are claimed with a lease, so several processes can deliver,
//! and one whose worker died is delivered again once the lease runs out
//! (at-least-once; institutions de-duplicate by `(order_no, order_status)`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use freewalker_protocol::api::NotificationAck;
use freewalker_protocol::headers::AuthHeaders;
use freewalker_store::model::{Attempt, DeliveryResult, Notification};
use freewalker_store::{Op, OpError, Output};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::app::AppState;
use crate::workers::Shutdown;

/// The share of delivery slots one institution may hold: a quarter, so that
/// even with every slot of three institutions stuck on timeouts, a fourth
/// still gets through.
pub fn per_institution_in_flight_max(slots: usize) -> usize {
    (slots / 4).max(1)
}
/// How much of an institution's answer is kept with the attempt.
pub const RESPONSE_EXCERPT_BYTES_MAX: usize = 512;
/// How much of an answer is read at all.
const RESPONSE_BYTES_MAX: usize = 16 * 1024;
/// How long a claimed notification is ours: twice the attempt's timeout plus
/// a margin for recording it. After that, a worker presumes us dead and
/// delivers it again (at least once).
pub fn lease_ms(notify_timeout_ms: u64) -> i64 {
    i64::try_from(notify_timeout_ms.saturating_mul(2)).unwrap_or(i64::MAX / 2) + 5_000
}

/// How often the worker looks for due notifications when nothing wakes it.
pub const POLL_MS: u64 = 250;

/// The worker.
#[derive(Debug, Clone)]
pub struct NotifyWorker {
    state: AppState,
    http: reqwest::Client,
    slots: Arc<Semaphore>,
    per_institution_max: usize,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
}

/// What one delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    Retrying,
    Dead,
}

impl NotifyWorker {
    pub fn new(state: AppState) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            // An institution's URL is configured, not discovered: never follow
            // a redirect somewhere else with a signed body.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(state.settings.notify_timeout_ms))
            .connect_timeout(Duration::from_millis(state.settings.notify_timeout_ms))
            .build()?;
        let slots = Arc::new(Semaphore::new(state.settings.notify_concurrency));
        Ok(Self {
            per_institution_max: per_institution_in_flight_max(state.settings.notify_concurrency),
            state,
            http,
            slots,
            in_flight: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    fn saturated_institutions(&self) -> Vec<String> {
        self.in_flight
            .lock()
            .map(|m| {
                m.iter()
                    .filter(|(_, n)| **n >= self.per_institution_max)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Claims as many due notifications as there are free slots and starts
    /// delivering them in `set`; returns how many it started.
    async fn start_round(&self, set: &mut JoinSet<Delivery>) -> Result<usize, OpError> {
        let free = self.slots.available_permits();
        if free == 0 {
            return Ok(0);
        }
        let Output::Notifications(due) = self
            .state
            .run_op(Op::ClaimNotifications {
                limit: free as u32,
                lease_ms: lease_ms(self.state.settings.notify_timeout_ms),
                exclude: self.saturated_institutions(),
            })
            .await?
        else {
            return Ok(0);
        };
        let mut started = 0;
        let mut released = Vec::new();
        for n in due {
            // One claim may return more of an institution's notifications than
            // its share; the rest go back unattempted.
            let admitted = self.in_flight.lock().is_ok_and(|mut m| {
                let count = m.entry(n.institution_id.clone()).or_default();
                if *count >= self.per_institution_max {
                    false
                } else {
                    *count += 1;
                    true
                }
            });
            if !admitted {
                released.push(n.id);
                continue;
            }
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                self.finished(&n.institution_id);
                released.push(n.id);
                continue;
            };
            let worker = self.clone();
            started += 1;
            set.spawn(async move {
                let institution_id = n.institution_id.clone();
                let result = worker.deliver(n).await;
                worker.finished(&institution_id);
                drop(permit);
                result
            });
        }
        if !released.is_empty() {
            self.state
                .run_op(Op::ReleaseNotifications { ids: released })
                .await?;
        }
        Ok(started)
    }

    /// A delivery of `institution_id` ended: its slot is free.
    fn finished(&self, institution_id: &str) {
        if let Ok(mut m) = self.in_flight.lock()
            && let Some(count) = m.get_mut(institution_id)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                m.remove(institution_id);
            }
        }
    }

    /// Delivers everything due now and waits for the answers. Tests call this
    /// to drain the outbox deterministically.
    pub async fn run_once(&self) -> Result<Vec<Delivery>, OpError> {
        let mut set = JoinSet::new();
        self.start_round(&mut set).await?;
        let mut out = Vec::new();
        while let Some(done) = set.join_next().await {
            if let Ok(d) = done {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Runs until `shutdown` fires, then lets deliveries in flight finish.
    pub async fn run(self, shutdown: Shutdown) {
        let mut running = JoinSet::new();
        loop {
            while running.try_join_next().is_some() {}
            match self.start_round(&mut running).await {
                // Took work and there is room for more: look again at once.
                Ok(started) if started > 0 && self.slots.available_permits() > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "notification round failed"),
            }
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = self.state.wake_notifications.notified() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = tokio::time::sleep(Duration::from_millis(POLL_MS)) => {}
            }
        }
        while running.join_next().await.is_some() {}
    }

    /// One attempt, recorded whatever happens.
    async fn deliver(&self, n: Notification) -> Delivery {
        let attempt_no = n.attempts + 1;
        let url = match &n.url {
            Some(u) => Some(u.clone()),
            None => match self.state.store.institution(&n.institution_id).await {
                Ok(Some(i)) => i.notify_url,
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the institution's notify_url");
                    None
                }
            },
        };
        let started_at_ms = self.state.clock.now_millis();
        let started = Instant::now();
        let (http_status, error, excerpt) = match &url {
            None => (
                None,
                Some("no notify_url: neither the order nor the institution has one".to_owned()),
                None,
            ),
            Some(url) => self.post(url, &n).await,
        };
        let delivered = error.is_none();
        let duration_ms = started.elapsed().as_millis() as i64;
        let now = self.state.clock.now_millis();
        let result = if delivered {
            DeliveryResult::Delivered
        } else {
            let error = error.clone().unwrap_or_default();
            match self.state.settings.notify_schedule.delay_after(attempt_no) {
                Some(delay) => DeliveryResult::Retry {
                    next_attempt_at_ms: now + delay,
                    error,
                },
                None => DeliveryResult::Dead { error },
            }
        };
        let outcome = match &result {
            DeliveryResult::Delivered => Delivery::Delivered,
            DeliveryResult::Retry { .. } => Delivery::Retrying,
            DeliveryResult::Dead { .. } => Delivery::Dead,
        };
        tracing::info!(
            order_no = %n.order_no,
            order_status = n.order_status.as_str(),
            institution_id = %n.institution_id,
            attempt_no,
            http_status,
            duration_ms,
            error = error.as_deref().unwrap_or(""),
            outcome = ?outcome,
            "notification attempt"
        );
        metrics::counter!("freewalker_notification_attempts_total", "outcome" => format!("{outcome:?}")).increment(1);
        let attempt = Attempt {
            notification_id: n.id,
            attempt_no,
            url: url.unwrap_or_default(),
            started_at_ms,
            duration_ms,
            http_status,
            error,
            response_excerpt: excerpt,
        };
        if let Err(e) = self
            .state
            .run_op(Op::RecordDelivery { attempt, result })
            .await
        {
            // The lease will run out and the notification be tried again.
            tracing::error!(error = %e, order_no = %n.order_no, "could not record a delivery attempt");
        }
        outcome
    }

    /// Posts the signed body; `(status, error, excerpt)` with `error` None on success.
    async fn post(
        &self,
        url: &str,
        n: &Notification,
    ) -> (Option<u16>, Option<String>, Option<String>) {
        let body = n.body.as_bytes();
        let signed = match AuthHeaders::sign(
            &self.state.keys.signing,
            body,
            &n.institution_id,
            self.state.clock.now_secs(),
        ) {
            Ok(s) => s,
            Err(e) => return (None, Some(format!("signing failed: {e}")), None),
        };
        let mut request = self
            .http
            .post(url)
            .header("content-type", "application/json; charset=utf-8")
            .body(n.body.clone());
        for (name, value) in signed.to_pairs() {
            request = request.header(name, value);
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let what = if e.is_timeout() {
                    format!(
                        "timed out after {} ms",
                        self.state.settings.notify_timeout_ms
                    )
                } else if e.is_connect() {
                    "connection failed".to_owned()
                } else {
                    format!("request failed: {e}")
                };
                return (None, Some(what), None);
            }
        };
        let status = response.status().as_u16();
        let bytes = match read_capped(response).await {
            Ok(b) => b,
            Err(e) => {
                return (
                    Some(status),
                    Some(format!("reading the answer failed: {e}")),
                    None,
                );
            }
        };
        let excerpt =
            String::from_utf8_lossy(&bytes[..bytes.len().min(RESPONSE_EXCERPT_BYTES_MAX)])
                .into_owned();
        if status != 200 {
            return (Some(status), Some(format!("HTTP {status}")), Some(excerpt));
        }
        match NotificationAck::from_json(&bytes) {
            Ok(ack) if ack.is_success() => (Some(status), None, Some(excerpt)),
            Ok(ack) => (
                Some(status),
                Some(format!("ret_code {}", ack.ret_code)),
                Some(excerpt),
            ),
            Err(_) => (
                Some(status),
                Some("answer is not a JSON acknowledgement".to_owned()),
                Some(excerpt),
            ),
        }
    }
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = RESPONSE_BYTES_MAX.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= RESPONSE_BYTES_MAX {
            break;
        }
    }
    Ok(out)
}
