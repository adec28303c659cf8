//! The test harness: a real wallet on an ephemeral port, driven through the SDK
//! exactly as an institution would, with a clock the test controls.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use freewalker_domain::{Clock, ManualClock, SystemClock};
use freewalker_protocol::api::{
    AccountNo, CustomerSyncRequest, IdType, KycLevel, OrderQuery, RechargeApplyRequest,
    UserSyncRequest,
};
use freewalker_protocol::currency::Currency;
use freewalker_protocol::signature::SignatureType;
use freewalker_protocol::signature::generate_rsa_2048;
use freewalker_sdk::client::{RawRequest, Reply};
use freewalker_sdk::{Client, ClientConfig};
use freewalker_server::app::{self, AppState};
use freewalker_server::settings::Settings;
use freewalker_server::telemetry::Metrics;
use freewalker_server::workers;
use freewalker_store::ops::InstitutionInput;
use freewalker_store::{Command, Op};

/// The repository's `tests/` folder (test vectors, interop scripts).
pub fn repo_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests")
}

pub fn vector(name: &str) -> String {
    std::fs::read_to_string(repo_tests_dir().join("vectors").join(name))
        .expect("test vector present")
}

/// The RSA test institution of the spec's vectors.
pub const INST: &str = "INST0001";
/// An SM2 institution (the vectors' SM2 key).
pub const INST_SM2: &str = "INST_SM2";
/// A second RSA institution, to prove isolation.
pub const INST_OTHER: &str = "INST0002";

/// Which database a test runs on. Every story runs on both (see
/// [`on_both_backends!`](crate::on_both_backends)); PostgreSQL when
/// `FREEWALKER_TEST_DATABASE_URL` is set (CI always sets it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL the tests may use, if any.
pub fn pg_url() -> Option<String> {
    std::env::var("FREEWALKER_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A schema name no other test uses.
pub fn fresh_schema() -> String {
    let nonce = freewalker_protocol::headers::new_nonce()
        .to_lowercase()
        .replace('-', "_");
    format!("t_{}", &nonce[..16])
}

/// Drops a test's PostgreSQL schema (from a plain thread: this runs in `Drop`).
pub fn drop_schema(schema: String) {
    let Some(url) = pg_url() else { return };
    let _ = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            if let Ok((client, conn)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
                tokio::spawn(conn);
                let _ = client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await;
            }
        });
    })
    .join();
}

/// Writes each story once and runs it on both backends:
/// `on_both_backends!(story_a, story_b)` makes `story_a::sqlite`,
/// `story_a::postgres`, … (`multi_thread:` for a multi-threaded runtime).
#[macro_export]
macro_rules! on_both_backends {
    (multi_thread: $($story:ident),* $(,)?) => { $(
        mod $story {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$story($crate::support::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::support::pg_url().is_none() {
                    eprintln!("skipped: FREEWALKER_TEST_DATABASE_URL is not set");
                    return;
                }
                super::$story($crate::support::Backend::Postgres).await
            }
        }
    )* };
    ($($story:ident),* $(,)?) => { $(
        mod $story {
            #[tokio::test]
            async fn sqlite() { super::$story($crate::support::Backend::Sqlite).await }
            #[tokio::test]
            async fn postgres() {
                if $crate::support::pg_url().is_none() {
                    eprintln!("skipped: FREEWALKER_TEST_DATABASE_URL is not set");
                    return;
                }
                super::$story($crate::support::Backend::Postgres).await
            }
        }
    )* };
}

pub struct TestApp {
    pub backend: Backend,
    /// The PostgreSQL schema of this test, when on PostgreSQL.
    pub schema: Option<String>,
    pub base_url: String,
    pub state: AppState,
    pub clock: ManualClock,
    /// Signs as [`INST`] with the vectors' RSA key.
    pub client: Client,
    pub sm2_client: Client,
    pub other_client: Client,
    pub dir: tempfile::TempDir,
    shutdown: workers::Trigger,
}

impl TestApp {
    /// A wallet on `backend` with fresh data (a temp dir; a new schema on
    /// PostgreSQL), its clock at the real time.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// As [`spawn`](Self::spawn), with settings adjusted first.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::defaults();
        let schema = match backend {
            Backend::Sqlite => {
                settings.database_url =
                    format!("sqlite://{}", dir.path().join("wallet.db").display());
                None
            }
            Backend::Postgres => {
                settings.database_url = pg_url().expect("FREEWALKER_TEST_DATABASE_URL");
                let schema = fresh_schema();
                settings.database_schema = Some(schema.clone());
                settings.database_pool_connections_max = 8;
                settings.database_writers = 2;
                Some(schema)
            }
        };
        settings.private_key = dir.path().join("wallet_private.pem");
        settings.data_key_file = dir.path().join("data_key");
        adjust(&mut settings);
        let clock = ManualClock::new(SystemClock.now_millis());
        let state = AppState::build(settings, Arc::new(clock.clone()), Metrics::default())
            .await
            .expect("wallet starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (shutdown, wait) = workers::shutdown_channel();
        let served = state.clone();
        tokio::spawn(async move {
            let _ = app::serve(listener, served, async move { wait.wait().await }).await;
        });
        let base_url = format!("http://{addr}");
        let wallet_public = state.keys.public_pem.clone();

        register(
            &state,
            INST,
            &vector("inst_rsa_public.pem"),
            SignatureType::Rsa,
        )
        .await;
        register(
            &state,
            INST_SM2,
            &vector("inst_sm2_public.pem"),
            SignatureType::Sm2,
        )
        .await;
        let (other_private, other_public) = generate_rsa_2048().expect("key");
        register(&state, INST_OTHER, &other_public, SignatureType::Rsa).await;

        let make = |id: &str, private_pem: String| {
            let clock = clock.clone();
            Client::new(ClientConfig {
                base_url: base_url.clone(),
                institution_id: id.to_owned(),
                private_key_pem: private_pem,
                wallet_public_key_pem: wallet_public.clone(),
            })
            .expect("client")
            .with_clock(Arc::new(move || clock.now_secs()))
        };
        TestApp {
            backend,
            schema,
            client: make(INST, vector("inst_rsa_private.pem")),
            sm2_client: make(INST_SM2, vector("inst_sm2_private.pem")),
            other_client: make(INST_OTHER, other_private),
            base_url,
            state,
            clock,
            dir,
            shutdown,
        }
    }

    /// Rows per table.
    pub async fn row_counts(&self) -> Vec<(String, i64)> {
        self.state.store.row_counts().await.expect("row counts")
    }

    /// Asserts the ledger verifies clean.
    pub async fn assert_ledger_clean(&self) {
        let report = self.state.store.verify_ledger().await.expect("verify");
        assert!(
            report.mismatches.is_empty(),
            "ledger mismatches: {:?}",
            report.mismatches
        );
    }

    /// Syncs a user (L0) and returns the account number.
    pub async fn user(&self, out_user_id: &str, id_no: &str) -> String {
        let reply = self.user_sync(&self.client, out_user_id, id_no).await;
        assert_eq!(reply.ret_code(), "0000", "{:?}", reply.envelope);
        reply
            .envelope
            .data
            .as_ref()
            .and_then(|d| d["account_no"].as_str())
            .expect("account_no")
            .to_owned()
    }

    pub async fn user_sync(&self, client: &Client, out_user_id: &str, id_no: &str) -> Reply {
        let env = client.new_envelope().expect("envelope");
        let req = UserSyncRequest {
            institution_id: client.institution_id().to_owned(),
            out_user_id: out_user_id.to_owned(),
            name: "ALICE EXAMPLE".to_owned(),
            nationality: "USA".to_owned(),
            id_type: IdType::Passport,
            id_no: env.seal(id_no).expect("seal"),
            id_expiry_date: None,
            birth_date: None,
            gender: None,
            mobile: Some(env.seal("+14155550100").expect("seal")),
            email: Some("alice@example.com".to_owned()),
        };
        client.user_sync(&req, &env).await.expect("user sync call")
    }

    /// Raises a user's KYC level.
    pub async fn kyc(&self, account_no: &str, level: KycLevel) {
        let req = CustomerSyncRequest {
            institution_id: INST.to_owned(),
            account_no: AccountNo::parse(account_no).expect("account no"),
            kyc_level: level,
            verified_time: self.clock.now_secs(),
            visa_type: Some("L".to_owned()),
            visa_expiry_date: None,
            entry_date: None,
            address: None,
            occupation: None,
        };
        let reply = self
            .client
            .customer_sync(&req, None)
            .await
            .expect("customer sync");
        assert_eq!(reply.ret_code(), "0000", "{:?}", reply.envelope);
    }

    pub fn recharge_request(
        &self,
        out_order_no: &str,
        account_no: &str,
        amount_fen: i64,
    ) -> RechargeApplyRequest {
        RechargeApplyRequest {
            institution_id: INST.to_owned(),
            out_order_no: out_order_no.to_owned(),
            account_no: AccountNo::parse(account_no).expect("account no"),
            amount: amount_fen,
            currency: Currency::CNY,
            pay_amount: None,
            pay_method: None,
            remark: None,
        }
    }

    pub async fn recharge(&self, out_order_no: &str, account_no: &str, amount_fen: i64) -> Reply {
        let req = self.recharge_request(out_order_no, account_no, amount_fen);
        self.client
            .recharge_apply(&req)
            .await
            .expect("recharge call")
    }

    pub fn query(out_order_no: Option<&str>, order_no: Option<&str>) -> OrderQuery {
        OrderQuery {
            institution_id: INST.to_owned(),
            out_order_no: out_order_no.map(str::to_owned),
            order_no: order_no.map(str::to_owned),
        }
    }

    /// Available and frozen balance in fen, through the account query.
    pub async fn balances(&self, account_no: &str) -> (i64, i64) {
        let req = freewalker_protocol::api::AccountQueryRequest {
            institution_id: INST.to_owned(),
            account_no: AccountNo::parse(account_no).expect("account no"),
        };
        let reply = self
            .client
            .account_query(&req)
            .await
            .expect("account query");
        assert_eq!(reply.ret_code(), "0000", "{:?}", reply.envelope);
        let data = reply.envelope.data.expect("data");
        (
            fen(data["available_balance"].as_str().expect("amount")),
            fen(data["frozen_balance"].as_str().expect("amount")),
        )
    }

    /// A raw request signed correctly by [`INST`], for tampering with.
    pub fn signed_raw(&self, path: &str, body: &[u8]) -> RawRequest {
        let headers = self.client.sign_headers(body).expect("sign");
        let mut pairs: Vec<(String, String)> = headers
            .to_pairs()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        pairs.push((
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        ));
        RawRequest {
            path: path.to_owned(),
            body: body.to_vec(),
            headers: pairs,
        }
    }

    /// Runs a store command as an operator would.
    pub async fn operator(&self, op: Op) -> freewalker_store::Output {
        self.state
            .store
            .execute(Command {
                nonce: None,
                op,
                now_ms: self.clock.now_millis(),
            })
            .await
            .expect("operator command")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.fire();
        if let Some(schema) = self.schema.take() {
            drop_schema(schema);
        }
    }
}

impl TestApp {
    /// Runs SQL straight on the database, behind the wallet's back (to tamper
    /// with it, or to look at what is stored); every value as text.
    pub async fn sql(&self, statement: &str) -> Vec<Vec<Option<String>>> {
        match self.backend {
            Backend::Sqlite => {
                let db = self.dir.path().join("wallet.db");
                let statement = statement.to_owned();
                tokio::task::spawn_blocking(move || {
                    let conn = rusqlite::Connection::open(db).expect("open");
                    conn.busy_timeout(std::time::Duration::from_secs(5))
                        .expect("busy timeout");
                    let mut stmt = conn.prepare(&statement).expect("prepare");
                    let columns = stmt.column_count();
                    let mut rows = stmt.query([]).expect("query");
                    let mut out = Vec::new();
                    while let Some(row) = rows.next().expect("row") {
                        let mut values = Vec::new();
                        for i in 0..columns {
                            let v: rusqlite::types::Value = row.get(i).expect("value");
                            values.push(match v {
                                rusqlite::types::Value::Null => None,
                                rusqlite::types::Value::Integer(n) => Some(n.to_string()),
                                rusqlite::types::Value::Real(f) => Some(f.to_string()),
                                rusqlite::types::Value::Text(t) => Some(t),
                                rusqlite::types::Value::Blob(b) => {
                                    Some(String::from_utf8_lossy(&b).into_owned())
                                }
                            });
                        }
                        out.push(values);
                    }
                    out
                })
                .await
                .expect("sql task")
            }
            Backend::Postgres => {
                let url = pg_url().expect("FREEWALKER_TEST_DATABASE_URL");
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .expect("connect");
                tokio::spawn(conn);
                let schema = self.schema.clone().expect("schema");
                client
                    .batch_execute(&format!("SET search_path = {schema}"))
                    .await
                    .expect("search path");
                // simple_query returns every value as text, whatever its type.
                let messages = client.simple_query(statement).await.expect("query");
                messages
                    .into_iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                            (0..row.len())
                                .map(|i| row.get(i).map(str::to_owned))
                                .collect(),
                        ),
                        _ => None,
                    })
                    .collect()
            }
        }
    }
}

async fn register(state: &AppState, id: &str, public_pem: &str, signature_type: SignatureType) {
    state
        .store
        .execute(Command {
            nonce: None,
            op: Op::PutInstitution {
                input: InstitutionInput {
                    id: id.to_owned(),
                    name: Some(format!("{id} bank")),
                    public_key_pem: Some(public_pem.to_owned()),
                    signature_type: Some(signature_type),
                    notify_url: None,
                    enabled: None,
                },
                create: true,
            },
            now_ms: state.clock.now_millis(),
        })
        .await
        .expect("register institution");
}

/// Fen from a response amount such as `"0.00"` or `"123.45"`.
pub fn fen(text: &str) -> i64 {
    let (yuan, cents) = text.split_once('.').expect("two decimals");
    assert_eq!(cents.len(), 2, "{text}");
    yuan.parse::<i64>().expect("yuan") * 100 + cents.parse::<i64>().expect("cents")
}

impl TestApp {
    /// Sets an exchange rate as `freewalker fx set` would.
    pub async fn set_rate(&self, currency: &str, rate: &str) {
        self.operator(Op::SetFxRate {
            currency: currency.to_owned(),
            rate: freewalker_domain::fx::Rate::parse(rate).expect("rate"),
        })
        .await;
    }

    pub fn withdraw_request(
        &self,
        out_order_no: &str,
        account_no: &str,
        amount_fen: i64,
        target: &str,
    ) -> freewalker_protocol::api::WithdrawConfirmRequest {
        freewalker_protocol::api::WithdrawConfirmRequest {
            institution_id: INST.to_owned(),
            out_order_no: out_order_no.to_owned(),
            account_no: AccountNo::parse(account_no).expect("account no"),
            amount: amount_fen,
            currency: Currency::CNY,
            target_currency: Currency::from_code(target).expect("currency"),
            branch_info: freewalker_protocol::api::BranchInfo {
                branch_no: "BR001".to_owned(),
                branch_name: "浦东机场网点".to_owned(),
                branch_address: "上海市浦东新区机场大道".to_owned(),
            },
            notify_url: None,
            remark: None,
        }
    }

    pub async fn withdraw(
        &self,
        out_order_no: &str,
        account_no: &str,
        amount_fen: i64,
        target: &str,
    ) -> Reply {
        let req = self.withdraw_request(out_order_no, account_no, amount_fen, target);
        self.client
            .withdraw_confirm(&req)
            .await
            .expect("withdraw call")
    }

    /// A payout worker with the instant channel.
    pub fn payouts(&self) -> freewalker_server::workers::payout::PayoutWorker {
        self.payouts_with(std::sync::Arc::new(
            freewalker_server::workers::payout::InstantChannel,
        ))
    }

    pub fn payouts_with(
        &self,
        channel: std::sync::Arc<dyn freewalker_server::workers::payout::PayoutChannel>,
    ) -> freewalker_server::workers::payout::PayoutWorker {
        freewalker_server::workers::payout::PayoutWorker::new(self.state.clone(), channel)
    }

    pub fn notifier(&self) -> freewalker_server::workers::notify::NotifyWorker {
        freewalker_server::workers::notify::NotifyWorker::new(self.state.clone())
            .expect("notify worker")
    }

    /// A user at `level` holding `fen` available.
    pub async fn funded_user(&self, out_user_id: &str, level: KycLevel, fen: i64) -> String {
        let account = self.user(out_user_id, &format!("DOC-{out_user_id}")).await;
        if level != KycLevel::L0 {
            self.kyc(&account, level).await;
        }
        let mut left = fen;
        let mut i = 0;
        while left > 0 {
            let part = left.min(200_000);
            let reply = self
                .recharge(&format!("FUND-{out_user_id}-{i}"), &account, part)
                .await;
            assert_eq!(reply.ret_code(), "0000", "{:?}", reply.envelope);
            left -= part;
            i += 1;
        }
        account
    }
}
