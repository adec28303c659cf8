//! The application: shared state, the router, and serving with graceful shutdown.
//!
//! `router(state)` is apart from `serve` so tests can drive the API without a
//! socket, and `serve` takes a bound listener so tests can use port 0.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use freewalker_domain::Clock;
use freewalker_protocol::api::paths;
use freewalker_protocol::retcode::RetCode;
use freewalker_store::{Rules, Store, StoreOptions};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower_http::trace::TraceLayer;

use crate::api;
use crate::at_rest::AtRest;
use crate::http::error::ApiError;
use crate::http::institutions::InstitutionCache;
use crate::http::rate_limit::RateLimiter;
use crate::http::signing::{SignatureCache, sign_responses};
use crate::keys::{self, WalletKeys};
use crate::settings::Settings;
use crate::telemetry::Metrics;

/// Everything a request or a worker needs.
#[derive(Debug)]
pub struct AppInner {
    pub settings: Settings,
    pub store: Store,
    pub keys: WalletKeys,
    pub at_rest: AtRest,
    pub clock: Arc<dyn Clock>,
    pub institutions: InstitutionCache,
    pub rate_limiter: RateLimiter,
    /// Signatures of recent response bodies (see [`SignatureCache`]).
    pub signatures: SignatureCache,
    /// Wakes the payout worker when a withdrawal was confirmed.
    pub wake_payouts: Notify,
    /// Wakes the notification worker when an order became final.
    pub wake_notifications: Notify,
    pub metrics: Metrics,
}

/// Cheap to clone; shared by every request and worker.
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppInner>);

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// Why the wallet could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Key(#[from] keys::KeyFileError),
    #[error("database: {0}")]
    Store(#[from] freewalker_store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("server: {0}")]
    Serve(std::io::Error),
}

/// The store options the settings describe.
pub fn store_options(settings: &Settings) -> StoreOptions {
    StoreOptions {
        url: settings.database_url.clone(),
        schema: settings.database_schema.clone(),
        pool_connections_max: settings.database_pool_connections_max,
        writers: settings.database_writers,
        statement_timeout_ms: settings.database_statement_timeout_ms,
    }
}

/// The business rules the settings describe.
pub fn rules(settings: &Settings) -> Rules {
    Rules {
        limits: settings.limits,
        fx_max_age_ms: settings.fx_max_age_ms,
    }
}

impl AppState {
    /// Loads the keys, opens (and migrates) the database.
    pub async fn build(
        settings: Settings,
        clock: Arc<dyn Clock>,
        metrics: Metrics,
    ) -> Result<AppState, StartError> {
        let keys = WalletKeys::load_or_generate(&settings.private_key)?;
        let data_key = keys::load_data_key(settings.data_key.as_deref(), &settings.data_key_file)?;
        let store = Store::open(&store_options(&settings), rules(&settings)).await?;
        Ok(AppState(Arc::new(AppInner {
            institutions: InstitutionCache::new(Duration::from_millis(
                settings.institution_cache_ttl_ms,
            )),
            rate_limiter: RateLimiter::new(settings.rate_limit_rps),
            signatures: SignatureCache::new(settings.signature_cache_entries),
            at_rest: AtRest::new(&data_key),
            keys,
            store,
            clock,
            settings,
            wake_payouts: Notify::new(),
            wake_notifications: Notify::new(),
            metrics,
        })))
    }
}

impl AppState {
    /// Runs an operation of the wallet itself (a worker's, an operator's): no
    /// nonce, decided now.
    pub async fn run_op(
        &self,
        op: freewalker_store::Op,
    ) -> Result<freewalker_store::Output, freewalker_store::OpError> {
        self.store
            .execute(freewalker_store::Command {
                nonce: None,
                op,
                now_ms: self.clock.now_millis(),
            })
            .await
    }
}

/// A request still running after the request timeout is answered `9999`. What
/// it queued may still commit; §6's `9999` promises only that the request is
/// safe to retry as is, which idempotency (§7) and nonces make true.
async fn request_timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = Duration::from_millis(state.settings.request_timeout_ms);
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::internal("request timed out").into_response(),
    }
}

/// Unknown paths under `/api` still get a signed envelope.
async fn api_not_found() -> ApiError {
    ApiError::new(
        RetCode::InvalidField,
        "no such API: see /api/v1/... in the contract §1",
    )
}

/// Every API is `POST` (§1); other methods get a signed envelope too.
async fn api_wrong_method() -> Response {
    let mut response =
        ApiError::new(RetCode::InvalidField, "every API is POST (§1)").into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.query(freewalker_store::Query::FxRates).await {
        Ok(_) => (
            StatusCode::OK,
            format!("ready ({})", state.store.backend_name()),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    state.metrics.render().into_response()
}

/// Records each API request's outcome. Unknown paths share one label, so a
/// client cannot grow the metrics without bound.
async fn count_requests(req: Request, next: Next) -> Response {
    let path = match req.uri().path() {
        p @ (paths::USER_SYNC
        | paths::CUSTOMER_SYNC
        | paths::ACCOUNT_QUERY
        | paths::RECHARGE_APPLY
        | paths::RECHARGE_QUERY
        | paths::WITHDRAW_CONFIRM
        | paths::WITHDRAW_QUERY) => p,
        _ => "other",
    }
    .to_owned();
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    let code = response
        .extensions()
        .get::<RetCode>()
        .map(|c| c.code())
        .unwrap_or("none");
    metrics::counter!("freewalker_requests_total", "path" => path.clone(), "ret_code" => code)
        .increment(1);
    metrics::histogram!("freewalker_request_seconds", "path" => path)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let api = api::router()
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_wrong_method)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_timeout,
        ))
        .layer(middleware::from_fn(count_requests))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            sign_responses,
        ));
    Router::new()
        .merge(api)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            tracing::info_span!(
                "request",
                method = %req.method(),
                path = %req.uri().path(),
                institution_id = tracing::field::Empty,
                out_order_no = tracing::field::Empty,
                order_no = tracing::field::Empty,
                account_no = tracing::field::Empty,
            )
        }))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(StartError::Serve)
}
