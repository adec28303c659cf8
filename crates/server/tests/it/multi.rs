//! Several wallet processes on one PostgreSQL database (§ DESIGN "storage
//! backends"): load sent to both at once cannot overdraw an account, a nonce
//! used at one is refused at the other, each notification is delivered once,
//! and when one process is killed the other finishes what it had claimed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use freewalker_protocol::api::{AccountNo, BranchInfo, WithdrawConfirmRequest};
use freewalker_protocol::currency::Currency;
use freewalker_sdk::Client;

use crate::crash::{SchemaGuard, client, free_port, funded_user, operator, start, wallet_env};
use crate::receiver::{Answer, Receiver};
use crate::support::{INST, TestApp, fresh_schema, pg_url, repo_tests_dir};

fn withdrawal(account: &str, out: &str, fen: i64) -> WithdrawConfirmRequest {
    WithdrawConfirmRequest {
        institution_id: INST.into(),
        out_order_no: out.into(),
        account_no: AccountNo::parse(account).unwrap(),
        amount: fen,
        currency: Currency::CNY,
        target_currency: Currency::CNY,
        branch_info: BranchInfo {
            branch_no: "B1".into(),
            branch_name: "N".into(),
            branch_address: "A".into(),
        },
        notify_url: None,
        remark: None,
    }
}

struct Cluster {
    _dir: tempfile::TempDir,
    _schema: SchemaGuard,
    env: [Vec<(String, String)>; 2],
    ports: [u16; 2],
    clients: [Client; 2],
}

/// Two `freewalker serve` processes on one PostgreSQL schema, sharing the
/// wallet key and data key (as N processes behind a balancer must).
async fn cluster(
    receiver: &Receiver,
    extra: &[(&str, &str)],
) -> (Cluster, [tokio::process::Child; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let schema = fresh_schema();
    let guard = SchemaGuard(schema.clone());
    let ports = [free_port(), free_port()];
    let env = ports.map(|port| {
        let mut env = wallet_env(dir.path(), port, crate::support::Backend::Postgres, &schema);
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        env
    });
    let key = repo_tests_dir().join("vectors/inst_rsa_public.pem");
    let (ok, out) = operator(
        &env[0],
        &[
            "institution",
            "add",
            "--id",
            INST,
            "--name",
            "T",
            "--public-key",
            key.to_str().unwrap(),
            "--signature-type",
            "RSA",
            "--notify-url",
            &receiver.url,
        ],
    )
    .await;
    assert!(ok, "{out}");
    // The first process generates the keys; the second starts once they exist.
    let a = start(&env[0], ports[0]).await;
    let b = start(&env[1], ports[1]).await;
    let clients = [client(dir.path(), ports[0]), client(dir.path(), ports[1])];
    (
        Cluster {
            _dir: dir,
            _schema: guard,
            env,
            ports,
            clients,
        },
        [a, b],
    )
}

/// Distinct (order_no, order_status) pairs received, and the total count.
fn delivered(receiver: &Receiver) -> (HashSet<(String, String)>, usize) {
    let all = receiver.received();
    let pairs = all
        .iter()
        .map(|n| {
            let v: serde_json::Value = serde_json::from_slice(&n.body).unwrap();
            (
                v["data"]["order_no"].as_str().unwrap().to_owned(),
                v["data"]["order_status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (pairs, all.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_behave_as_one_wallet() {
    if pg_url().is_none() {
        eprintln!("skipped: FREEWALKER_TEST_DATABASE_URL is not set");
        return;
    }
    let receiver = Receiver::start().await;
    let (cluster, mut processes) = cluster(&receiver, &[]).await;
    let account = funded_user(&cluster.clients[0], "m-1", 100_000).await;

    // 200 withdrawals of 10.00 against 1,000.00, sent to both processes at once.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let c = cluster.clients[i % 2].clone();
        let req = withdrawal(&account, &format!("W-{i}"), 1_000);
        tasks.spawn(async move { c.withdraw_confirm(&req).await.unwrap().envelope.ret_code });
    }
    let mut codes: HashMap<String, usize> = HashMap::new();
    while let Some(code) = tasks.join_next().await {
        *codes.entry(code.unwrap()).or_default() += 1;
    }
    assert_eq!(codes.get("0000"), Some(&100), "{codes:?}");
    assert_eq!(codes.get("3003"), Some(&100), "{codes:?}");

    // A request whose nonce was used at one process is refused at the other.
    let body = format!(r#"{{"institution_id":"INST0001","account_no":"{account}"}}"#);
    let headers = cluster.clients[0].sign_headers(body.as_bytes()).unwrap();
    let raw = freewalker_sdk::client::RawRequest {
        path: "/api/v1/account/query".into(),
        body: body.into_bytes(),
        headers: headers
            .to_pairs()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    };
    let first = cluster.clients[0].send_raw(raw.clone()).await.unwrap();
    assert_eq!(first.envelope.unwrap().ret_code, "0000");
    let replay = cluster.clients[1].send_raw(raw).await.unwrap();
    assert_eq!(replay.envelope.unwrap().ret_code, "1004");

    // Every withdrawal is paid out and notified, each exactly once (no crash here).
    let started = std::time::Instant::now();
    while delivered(&receiver).0.len() < 100 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "delivered {}",
            delivered(&receiver).0.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let (pairs, total) = delivered(&receiver);
    assert_eq!(
        (pairs.len(), total),
        (100, 100),
        "one delivery per order and status"
    );
    assert!(pairs.iter().all(|(_, s)| s == "SUCCESS"));
    let q = freewalker_protocol::api::AccountQueryRequest {
        institution_id: INST.into(),
        account_no: AccountNo::parse(&account).unwrap(),
    };
    let d = cluster.clients[1]
        .account_query(&q)
        .await
        .unwrap()
        .envelope
        .data
        .unwrap();
    assert_eq!(
        (
            d["available_balance"].as_str(),
            d["frozen_balance"].as_str()
        ),
        (Some("0.00"), Some("0.00"))
    );
    let (ok, out) = operator(&cluster.env[1], &["ledger", "verify"]).await;
    assert!(ok, "{out}");
    for p in &mut processes {
        p.kill().await.unwrap();
    }
    let _ = cluster.ports;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_one_process_dies_the_other_finishes_its_work() {
    if pg_url().is_none() {
        eprintln!("skipped: FREEWALKER_TEST_DATABASE_URL is not set");
        return;
    }
    // Payouts take a second at the (simulated) bank, and the institution answers
    // slowly, so the process we kill holds claimed payouts and deliveries.
    let receiver = Receiver::start().await;
    receiver.script(std::iter::repeat_n(
        Answer::Slow(Duration::from_millis(300)),
        40,
    ));
    let (cluster, [mut a, mut b]) = cluster(
        &receiver,
        &[
            ("FREEWALKER_PAYOUT_CHANNEL", "simulated"),
            ("FREEWALKER_PAYOUT_SIMULATED_DELAY", "1s"),
            ("FREEWALKER_NOTIFY_TIMEOUT", "1s"),
            (
                "FREEWALKER_NOTIFY_SCHEDULE",
                "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s",
            ),
        ],
    )
    .await;
    let account = funded_user(&cluster.clients[1], "m-2", 1_000_000).await;

    // Load on both; kill A in the middle. A client whose request to A failed
    // sends it again to B (the same order number: idempotent).
    let acked: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..60 {
        let (first, second) = (cluster.clients[i % 2].clone(), cluster.clients[1].clone());
        let req = withdrawal(&account, &format!("K-{i}"), 100 + i as i64);
        let acked = acked.clone();
        tasks.spawn(async move {
            tokio::time::sleep(Duration::from_millis(25 * i as u64)).await;
            let reply = match first.withdraw_confirm(&req).await {
                Ok(r) => r,
                Err(_) => second.withdraw_confirm(&req).await.unwrap(),
            };
            assert_eq!(reply.ret_code(), "0000", "{:?}", reply.envelope);
            let no = reply.envelope.data.unwrap()["order_no"]
                .as_str()
                .unwrap()
                .to_owned();
            acked.lock().unwrap().insert(req.out_order_no.clone(), no);
        });
    }
    tokio::time::sleep(Duration::from_millis(900)).await;
    a.kill().await.unwrap(); // SIGKILL mid-load
    while let Some(t) = tasks.join_next().await {
        t.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), 60);

    // Every acknowledged order is there, and B settles and notifies all of them,
    // including what A had claimed (once A's leases run out).
    let started = std::time::Instant::now();
    loop {
        let (pairs, _) = delivered(&receiver);
        let notified: HashSet<&String> = pairs.iter().map(|(o, _)| o).collect();
        if acked.values().all(|o| notified.contains(o)) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "notified {} of {}",
            notified.len(),
            acked.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (out, order_no) in &acked {
        let q = TestApp::query(Some(out), None);
        let d = cluster.clients[1]
            .withdraw_query(&q)
            .await
            .unwrap()
            .envelope
            .data
            .unwrap();
        assert_eq!(d["order_no"], order_no.as_str());
        assert_eq!(d["order_status"], "SUCCESS");
    }
    let (ok, out) = operator(&cluster.env[1], &["ledger", "verify"]).await;
    assert!(ok, "{out}");
    b.kill().await.unwrap();
}
