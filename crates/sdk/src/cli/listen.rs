//! `listen`: a withdraw result notification receiver (`spec/API.md` §4.8) for an integrator's
//! first day, and for watching the wallet's retries.
//!
//! Every POST, on any path, is checked with [`notification::verify`] (the wallet's public key,
//! the timestamp window, the body) and printed as one JSON line on stdout. A verified
//! notification is acknowledged with [`notification::ack`] and HTTP 200, unless `--fail-first`
//! says to fail it; a refused one is answered with the code the wallet itself would use for such
//! a request (`1001`, `1002`, `1003`, `2003`). Deliveries are at least once: repeats of an
//! `(order_no, order_status)` already acknowledged are acknowledged again and printed as
//! `duplicate`. A notification failed on purpose was not processed, so its retry is not a
//! duplicate.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use clap::{Args, value_parser};
use freewalker_protocol::api::{BODY_BYTES_MAX, NotificationAck, OrderStatus};
use freewalker_protocol::retcode::RetCode;
use freewalker_protocol::signature::VerifyingKey;
use freewalker_protocol::time_format::format_time;
use freewalker_sdk::notification::{self, NotificationError};
use serde_json::json;

use super::config::GlobalArgs;
use super::{Failure, now_secs, print_line};

/// How many `(order_no, order_status)` pairs are remembered for de-duplication. The oldest is
/// forgotten first; a test session never comes near it, and memory stays bounded.
const SEEN_PAIRS_MAX: usize = 100_000;

/// `listen`.
#[derive(Debug, Args)]
pub(super) struct ListenArgs {
    /// Where to listen; point the withdrawal's --notify-url (or your configured notify URL) at
    /// it, with any path. Port 0 picks a free port (printed on stderr).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:9000")]
    addr: SocketAddr,
    /// Answer the first N verified notifications with a failure (a non-0000 ret_code), to watch
    /// the wallet retry them.
    #[arg(long, value_name = "N")]
    fail_first: Option<u64>,
    /// The HTTP status of those failures. Default 200, so that the failure is only in the body's
    /// ret_code; e.g. 503 to fail at the HTTP level.
    #[arg(
        long,
        value_name = "CODE",
        requires = "fail_first",
        value_parser = value_parser!(u16).range(100..=599)
    )]
    status: Option<u16>,
}

/// What the receiver knows.
struct Receiver {
    wallet_key: VerifyingKey,
    fail_first: u64,
    fail_status: StatusCode,
    book: Mutex<Book>,
}

/// What has been received so far.
#[derive(Default)]
struct Book {
    /// Notifications failed on purpose so far (at most `fail_first`).
    failed_on_purpose: u64,
    /// The acknowledged `(order_no, order_status)` pairs, and their arrival order for eviction.
    seen: HashSet<(String, OrderStatus)>,
    seen_order: VecDeque<(String, OrderStatus)>,
    accepted: u64,
    duplicates: u64,
    refused: u64,
}

impl Book {
    fn remember(&mut self, pair: (String, OrderStatus)) {
        if self.seen_order.len() >= SEEN_PAIRS_MAX
            && let Some(oldest) = self.seen_order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.seen.insert(pair.clone());
        self.seen_order.push_back(pair);
    }
}

pub(super) async fn listen(global: &GlobalArgs, args: ListenArgs) -> Result<(), Failure> {
    let (wallet_key, _) = global.wallet_key()?;
    let fail_status = StatusCode::from_u16(args.status.unwrap_or(200))
        .map_err(|e| Failure::usage(format!("--status: {e}")))?;
    let receiver = Arc::new(Receiver {
        wallet_key,
        fail_first: args.fail_first.unwrap_or(0),
        fail_status,
        book: Mutex::new(Book::default()),
    });
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| Failure::failed(format!("cannot listen on {}: {e}", args.addr)))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::failed(format!("cannot listen on {}: {e}", args.addr)))?;
    eprintln!(
        "freewalker-cli: listening for withdraw result notifications on http://{local} (any \
         path); Ctrl-C to stop"
    );

    let app = Router::new()
        .fallback(receive)
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(Arc::clone(&receiver));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| Failure::failed(format!("the receiver stopped: {e}")))?;

    if let Ok(book) = receiver.book.lock() {
        eprintln!(
            "freewalker-cli: {} accepted, {} duplicate, {} failed on purpose, {} refused",
            book.accepted, book.duplicates, book.failed_on_purpose, book.refused
        );
    }
    Ok(())
}

/// Ctrl-C, or a polite `kill` (SIGTERM) on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // Without a handler, only SIGTERM (or a kill) ends the receiver.
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::POST {
        eprintln!("freewalker-cli: {method} {uri} ignored: notifications are POSTs");
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let now = now_secs();
    let received_at = format_time(now.saturating_mul(1000));
    let verified = notification::verify(
        &receiver.wallet_key,
        |name| headers.get(name).and_then(|v| v.to_str().ok()),
        &body,
        now,
    );
    let Ok(mut book) = receiver.book.lock() else {
        // A poisoned lock means a panic elsewhere: answer a failure so the wallet retries.
        return answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            RetCode::Internal,
            "receiver error",
        );
    };

    let notification = match verified {
        Ok(notification) => notification,
        Err(error) => {
            book.refused += 1;
            let code = refusal_code(&error);
            let status =
                StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            let reason = error.to_string();
            print_line(
                &json!({
                    "received_at": received_at,
                    "path": uri.path(),
                    "outcome": "refused",
                    "reason": reason,
                    "body_bytes": body.len(),
                    "answer": {"http_status": status.as_u16(), "ret_code": code.code()},
                })
                .to_string(),
            );
            return answer(status, code, &reason);
        }
    };

    let data = &notification.data;
    let pair = (data.order_no.clone(), data.order_status);
    let (outcome, status, code, message) = if book.failed_on_purpose < receiver.fail_first {
        book.failed_on_purpose += 1;
        let message = format!(
            "failing on purpose (--fail-first {}): {} of {}",
            receiver.fail_first, book.failed_on_purpose, receiver.fail_first
        );
        (
            "failed_on_purpose",
            receiver.fail_status,
            RetCode::Internal,
            message,
        )
    } else if book.seen.contains(&pair) {
        book.duplicates += 1;
        ("duplicate", StatusCode::OK, RetCode::Success, String::new())
    } else {
        book.accepted += 1;
        book.remember(pair);
        ("accepted", StatusCode::OK, RetCode::Success, String::new())
    };
    print_line(
        &json!({
            "received_at": received_at,
            "path": uri.path(),
            "outcome": outcome,
            "order_no": data.order_no,
            "order_status": data.order_status,
            "out_order_no": data.out_order_no,
            "answer": {"http_status": status.as_u16(), "ret_code": code.code()},
            "notification": notification,
        })
        .to_string(),
    );
    drop(book);
    if code == RetCode::Success {
        return (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            notification::ack(),
        )
            .into_response();
    }
    answer(status, code, &message)
}

/// The code the wallet itself answers for a request refused for the same reason (§6).
fn refusal_code(error: &NotificationError) -> RetCode {
    match error {
        NotificationError::Header(_) => RetCode::AuthHeader,
        NotificationError::Timestamp => RetCode::TimestampWindow,
        NotificationError::Signature => RetCode::BadSignature,
        NotificationError::Body(_) => RetCode::InvalidField,
        NotificationError::Addressee { .. } => RetCode::InstitutionMismatch,
    }
}

/// A JSON answer that is not an acknowledgement, so the wallet retries.
fn answer(status: StatusCode, code: RetCode, message: &str) -> Response {
    let body = NotificationAck {
        ret_code: code.code().to_owned(),
        ret_msg: message.to_owned(),
    }
    .to_json();
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}
