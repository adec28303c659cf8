//! A crash test: the wallet process is killed with SIGKILL in the middle of a
//! stream of recharges and restarted. Every recharge that was answered `0000` is
//! there exactly once, the ledger verifies, and sending the whole stream again
//! creates nothing twice.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use freewalker_protocol::api::{
    AccountNo, CustomerSyncRequest, IdType, KycLevel, RechargeApplyRequest, UserSyncRequest,
};
use freewalker_protocol::currency::Currency;
use freewalker_sdk::{Client, ClientConfig};
use tokio::process::{Child, Command};

use crate::support::{Backend, INST, TestApp, repo_tests_dir, vector};

const BIN: &str = env!("CARGO_BIN_EXE_freewalker");

/// The environment of a wallet process whose files live in `dir` and whose
/// database is SQLite in `dir`, or PostgreSQL in `schema`.
pub fn wallet_env(dir: &Path, port: u16, backend: Backend, schema: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = match backend {
        Backend::Sqlite => vec![(
            "FREEWALKER_DATABASE_URL".into(),
            format!("sqlite://{}", dir.join("wallet.db").display()),
        )],
        Backend::Postgres => vec![
            (
                "FREEWALKER_DATABASE_URL".into(),
                crate::support::pg_url().expect("FREEWALKER_TEST_DATABASE_URL"),
            ),
            ("FREEWALKER_DATABASE_SCHEMA".into(), schema.to_owned()),
        ],
    };
    env.extend([
        (
            "FREEWALKER_PRIVATE_KEY".into(),
            dir.join("wallet_private.pem").display().to_string(),
        ),
        (
            "FREEWALKER_DATA_KEY_FILE".into(),
            dir.join("data_key").display().to_string(),
        ),
        ("FREEWALKER_LISTEN".into(), format!("127.0.0.1:{port}")),
        ("RUST_LOG".into(), "warn".into()),
    ]);
    env
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs an operator command; returns (exit success, stdout).
pub async fn operator(env: &[(String, String)], args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .envs(env.iter().cloned())
        .output()
        .await
        .expect("freewalker runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Starts `freewalker serve` and waits until it is ready.
pub async fn start(env: &[(String, String)], port: u16) -> Child {
    let child = Command::new(BIN)
        .arg("serve")
        .envs(env.iter().cloned())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("freewalker serve starts");
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status().is_success()
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the wallet did not become ready");
}

pub fn client(dir: &Path, port: u16) -> Client {
    Client::new(ClientConfig {
        base_url: format!("http://127.0.0.1:{port}"),
        institution_id: INST.into(),
        private_key_pem: vector("inst_rsa_private.pem"),
        wallet_public_key_pem: std::fs::read_to_string(dir.join("wallet_public.pem")).unwrap(),
    })
    .unwrap()
}

fn recharge(account: &str, out: &str, amount: i64) -> RechargeApplyRequest {
    RechargeApplyRequest {
        institution_id: INST.into(),
        out_order_no: out.into(),
        account_no: AccountNo::parse(account).unwrap(),
        amount,
        currency: Currency::CNY,
        pay_amount: None,
        pay_method: None,
        remark: None,
    }
}

async fn acknowledged_recharges_survive_a_sigkill_exactly_once(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let schema = crate::support::fresh_schema();
    let _cleanup = SchemaGuard(schema.clone());
    let env = wallet_env(dir.path(), port, backend, &schema);
    let public_key = repo_tests_dir().join("vectors/inst_rsa_public.pem");
    let (ok, out) = operator(
        &env,
        &[
            "institution",
            "add",
            "--id",
            INST,
            "--name",
            "Test Bank",
            "--public-key",
            public_key.to_str().unwrap(),
            "--signature-type",
            "RSA",
        ],
    )
    .await;
    assert!(ok, "{out}");

    let mut wallet = start(&env, port).await;
    let client = client(dir.path(), port);
    let account = funded_user(&client, "crash-user", 0).await;

    // 16 senders stream recharges; each remembers what it sent and what was acknowledged.
    let sent: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let acked: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let mut senders = tokio::task::JoinSet::new();
    for s in 0..16 {
        let (client, account, sent, acked) =
            (client.clone(), account.clone(), sent.clone(), acked.clone());
        senders.spawn(async move {
            for i in 0.. {
                let out = format!("CR-{s}-{i}");
                let amount = 100 + (s * 7 + i) as i64 % 900;
                sent.lock().unwrap().push((out.clone(), amount));
                match client
                    .recharge_apply(&recharge(&account, &out, amount))
                    .await
                {
                    Ok(r) if r.ret_code() == "0000" => {
                        let no = r.envelope.data.unwrap()["order_no"]
                            .as_str()
                            .unwrap()
                            .to_owned();
                        acked.lock().unwrap().insert(out, no);
                    }
                    Ok(r) => panic!("unexpected answer {:?}", r.envelope),
                    Err(_) => return, // the wallet died under us
                }
            }
        });
    }
    while acked.lock().unwrap().len() < 200 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    wallet.kill().await.unwrap(); // SIGKILL: no shutdown, no flush
    while senders.join_next().await.is_some() {}
    let sent = sent.lock().unwrap().clone();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 200 && sent.len() > acked.len() - 1);

    let mut wallet = start(&env, port).await;
    for (out, order_no) in &acked {
        let q = TestApp::query(Some(out), None);
        let reply = client.recharge_query(&q).await.unwrap();
        assert_eq!(reply.ret_code(), "0000", "acknowledged {out} is gone");
        assert_eq!(reply.envelope.data.unwrap()["order_no"], order_no.as_str());
    }
    let (ok, out) = operator(&env, &["ledger", "verify"]).await;
    assert!(ok, "ledger after the crash: {out}");

    // The whole stream again: acknowledged orders answer as before; the rest
    // are created now; nothing is created twice.
    let mut expected_balance = 0;
    for (out, amount) in &sent {
        expected_balance += amount;
        let reply = client
            .recharge_apply(&recharge(&account, out, *amount))
            .await
            .unwrap();
        assert_eq!(reply.ret_code(), "0000", "{:?}", reply.envelope);
        if let Some(no) = acked.get(out) {
            assert_eq!(reply.envelope.data.unwrap()["order_no"], no.as_str());
        }
    }
    let q = freewalker_protocol::api::AccountQueryRequest {
        institution_id: INST.into(),
        account_no: AccountNo::parse(&account).unwrap(),
    };
    let data = client
        .account_query(&q)
        .await
        .unwrap()
        .envelope
        .data
        .unwrap();
    assert_eq!(
        crate::support::fen(data["available_balance"].as_str().unwrap()),
        expected_balance
    );
    let (ok, out) = operator(&env, &["ledger", "verify"]).await;
    assert!(ok, "{out}");
    wallet.kill().await.unwrap();
}

/// Drops a test's PostgreSQL schema when the test ends, however it ends.
pub struct SchemaGuard(pub String);

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        crate::support::drop_schema(std::mem::take(&mut self.0));
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A user at KYC L2 holding `fen`, made through the API with `c`.
pub async fn funded_user(c: &Client, out_user_id: &str, fen: i64) -> String {
    let env = c.new_envelope().unwrap();
    let user = UserSyncRequest {
        institution_id: INST.into(),
        out_user_id: out_user_id.into(),
        name: "MULTI".into(),
        nationality: "USA".into(),
        id_type: IdType::Passport,
        id_no: env.seal(&format!("M-{out_user_id}")).unwrap(),
        id_expiry_date: None,
        birth_date: None,
        gender: None,
        mobile: None,
        email: None,
    };
    let account = c
        .user_sync(&user, &env)
        .await
        .unwrap()
        .envelope
        .data
        .unwrap()["account_no"]
        .as_str()
        .unwrap()
        .to_owned();
    let kyc = CustomerSyncRequest {
        institution_id: INST.into(),
        account_no: AccountNo::parse(&account).unwrap(),
        kyc_level: KycLevel::L2,
        verified_time: now_secs(),
        visa_type: None,
        visa_expiry_date: None,
        entry_date: None,
        address: None,
        occupation: None,
    };
    assert_eq!(
        c.customer_sync(&kyc, None).await.unwrap().ret_code(),
        "0000"
    );
    let mut left = fen;
    let mut i = 0;
    while left > 0 {
        let part = left.min(5_000_000);
        let r = RechargeApplyRequest {
            institution_id: INST.into(),
            out_order_no: format!("F-{out_user_id}-{i}"),
            account_no: AccountNo::parse(&account).unwrap(),
            amount: part,
            currency: Currency::CNY,
            pay_amount: None,
            pay_method: None,
            remark: None,
        };
        assert_eq!(c.recharge_apply(&r).await.unwrap().ret_code(), "0000");
        left -= part;
        i += 1;
    }
    account
}

crate::on_both_backends!(multi_thread: acknowledged_recharges_survive_a_sigkill_exactly_once);
