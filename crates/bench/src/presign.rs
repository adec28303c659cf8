//! Pre-signing: every timed request is built, sealed and signed before the clock
//! starts, so that the timed phase spends the generator's CPU on sending, not on
//! RSA, and the run measures the wallet.
//!
//! The catch is §2's timestamp window: the wallet refuses a request signed more
//! than `timestamp_window` (300 s) ago. Signing the pool and sending it must fit
//! in that window, so the bench signs a first batch, estimates the rest, and
//! refuses to start a run that could not finish in time.

use std::ops::Range;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use freewalker_protocol::api::AccountNo;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use crate::error::BenchError;
use crate::plan::{Action, Api, Plan};
use crate::requests;
use crate::setup::{Account, OrderRef, Target};

/// Kept free at the end of the timestamp window: header timestamps are whole
/// seconds, and the wallet's clock may be a little ahead of the bench's.
pub const WINDOW_MARGIN_MS: u64 = 15_000;
/// Requests signed before the rest is estimated.
pub const PROBE_REQUESTS: usize = 512;
/// The `Encrypt-Key` header (§2 sensitive fields).
const ENCRYPT_KEY: HeaderName = HeaderName::from_static(freewalker_protocol::headers::ENCRYPT_KEY);

/// One timed request, ready to send.
#[derive(Debug)]
pub struct Prepared {
    /// Its place in the plan.
    pub index: u32,
    pub api: Api,
    /// `Content-Type`, the five signature headers, and `Encrypt-Key` for a user sync.
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The pool.
#[derive(Debug)]
pub struct Presigned {
    /// In the order they were signed, oldest first.
    pub requests: Vec<Prepared>,
    /// When the first was signed: every timestamp is at or after it.
    pub started: Instant,
    pub elapsed: Duration,
}

/// How long the timed phase may last once signing is done: until the oldest
/// timestamp is [`WINDOW_MARGIN_MS`] short of the wallet's window.
pub fn expiry(presigned_at: Instant, window_ms: u64) -> Instant {
    presigned_at + Duration::from_millis(window_ms.saturating_sub(WINDOW_MARGIN_MS))
}

fn query_by(order: &OrderRef, index: u32) -> (Option<String>, Option<String>) {
    // Half the queries name the institution's number, half the wallet's: the two
    // lookups use different indexes.
    if index.is_multiple_of(2) || order.order_no.is_empty() {
        (Some(order.out_order_no.clone()), None)
    } else {
        (None, Some(order.order_no.clone()))
    }
}

fn account(accounts: &[Account], user: u32) -> &Account {
    &accounts[user as usize]
}

fn account_no(accounts: &[Account], user: u32) -> AccountNo {
    account(accounts, user).account_no.clone()
}

fn header_value(text: &str) -> Result<HeaderValue, BenchError> {
    HeaderValue::from_str(text)
        .map_err(|e| BenchError::Setup(format!("a signed header is not a header value: {e}")))
}

/// Builds, seals and signs timed request `index`.
fn prepare(
    target: &Target,
    plan: &Plan,
    accounts: &[Account],
    index: u32,
) -> Result<Prepared, BenchError> {
    let action = plan.actions[index as usize];
    let names = &target.names;
    let inst = names.institution_id.as_str();
    let missing = |what: &str, user: u32| {
        BenchError::Setup(format!("account {user} has no setup {what} to query"))
    };
    let (body, encrypt_key) = match action {
        Action::UserSync => {
            let envelope = target.client.new_envelope()?;
            let request = requests::user_sync(
                inst,
                names.new_user(index),
                &names.new_document(index),
                &envelope,
            )?;
            (request.to_json(), Some(envelope.header))
        }
        Action::Recharge { user, amount_fen } => (
            requests::recharge(
                inst,
                names.recharge(index),
                account_no(accounts, user),
                amount_fen,
            )
            .to_json(),
            None,
        ),
        Action::Withdraw { user, amount_fen } => (
            requests::withdraw(
                inst,
                names.withdrawal(index),
                account_no(accounts, user),
                amount_fen,
            )
            .to_json(),
            None,
        ),
        Action::AccountQuery { user } => (
            requests::account_query(inst, account_no(accounts, user)).to_json(),
            None,
        ),
        Action::RechargeQuery { user } => {
            let order = account(accounts, user)
                .recharge
                .as_ref()
                .ok_or_else(|| missing("recharge", user))?;
            let (out_order_no, order_no) = query_by(order, index);
            (
                requests::order_query(inst, out_order_no, order_no).to_json(),
                None,
            )
        }
        Action::WithdrawQuery { user } => {
            let order = account(accounts, user)
                .withdrawal
                .as_ref()
                .ok_or_else(|| missing("withdrawal", user))?;
            let (out_order_no, order_no) = query_by(order, index);
            (
                requests::order_query(inst, out_order_no, order_no).to_json(),
                None,
            )
        }
    };
    let signed = target.client.sign_headers(&body)?;
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    for (name, value) in signed.to_pairs() {
        headers.insert(HeaderName::from_static(name), header_value(&value)?);
    }
    if let Some(key) = encrypt_key {
        headers.insert(ENCRYPT_KEY, header_value(&key)?);
    }
    Ok(Prepared {
        index,
        api: action.api(),
        headers,
        body: Bytes::from(body),
    })
}

/// Signs `range` of the plan on `threads` threads, keeping the plan's order.
fn sign_range(
    target: &Target,
    plan: &Plan,
    accounts: &[Account],
    range: Range<usize>,
    threads: usize,
) -> Result<Vec<Prepared>, BenchError> {
    let len = range.len();
    let chunk = len.div_ceil(threads.max(1)).max(1);
    let parts: Vec<Result<Vec<Prepared>, BenchError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (range.start..range.end)
            .step_by(chunk)
            .map(|start| {
                let end = (start + chunk).min(range.end);
                scope.spawn(move || {
                    (start..end)
                        .map(|i| prepare(target, plan, accounts, i as u32))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(BenchError::Setup("a signing thread panicked".into())))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(len);
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

/// Signs the first `count` requests of the plan. `run_ms` is how long the timed
/// phase will run after signing (zero when unknown, with `--requests`);
/// signing plus running must fit in `window_ms` less [`WINDOW_MARGIN_MS`].
pub fn presign(
    target: &Target,
    plan: &Plan,
    accounts: &[Account],
    count: usize,
    window_ms: u64,
    run_ms: u64,
) -> Result<Presigned, BenchError> {
    let count = count.min(plan.actions.len());
    let usable_ms = window_ms.saturating_sub(WINDOW_MARGIN_MS);
    if run_ms >= usable_ms {
        return Err(BenchError::Usage(format!(
            "a {} s run cannot fit in the wallet's {} s timestamp window (less {} s of margin): \
             every request is signed before the run and the wallet refuses older timestamps (1003); \
             run for less than {} s",
            run_ms / 1000,
            window_ms / 1000,
            WINDOW_MARGIN_MS / 1000,
            usable_ms / 1000
        )));
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let started = Instant::now();
    let probe = count.min(PROBE_REQUESTS);
    let mut requests = sign_range(target, plan, accounts, 0..probe, threads)?;
    let probe_s = started.elapsed().as_secs_f64().max(1e-6);
    let estimate_ms = (count as f64 * probe_s / probe.max(1) as f64 * 1000.0) as u64;
    if estimate_ms + run_ms > usable_ms {
        let per_second = probe as f64 / probe_s;
        let fits = ((usable_ms - run_ms) as f64 / 1000.0 * per_second) as u64;
        return Err(BenchError::Usage(format!(
            "signing {count} requests would take about {} s at {per_second:.0}/s; with the {} s run that is past the \
             wallet's {} s timestamp window (less {} s of margin), and the last requests would be refused (1003): \
             sign at most about {fits} (--max-presigned or --requests), or run for less time",
            estimate_ms / 1000,
            run_ms / 1000,
            window_ms / 1000,
            WINDOW_MARGIN_MS / 1000
        )));
    }
    requests.extend(sign_range(target, plan, accounts, probe..count, threads)?);
    Ok(Presigned {
        requests,
        started,
        elapsed: started.elapsed(),
    })
}
