//! §4.8 withdraw result notifications: the body of the seed, signed by the
//! wallet, delivered at least once on the retry schedule, recorded attempt by
//! attempt, replayable when dead, and never held up by another institution.

use std::process::Command as StdCommand;
use std::time::Duration;

use freewalker_domain::Clock;
use freewalker_protocol::api::{AccountNo, KycLevel};
use freewalker_protocol::signature::VerifyingKey;
use freewalker_sdk::notification;
use freewalker_server::workers::notify::Delivery;
use freewalker_store::model::NotifyStatus;
use freewalker_store::{Op, Query, QueryOutput};

use crate::receiver::{Answer, Receiver};
use crate::support::{Backend, INST_OTHER, TestApp};

/// A withdrawal to `url`, paid out at once, its notification now due.
async fn final_withdrawal(app: &TestApp, out: &str, account: &str, url: &str) -> String {
    let mut req = app.withdraw_request(out, account, 5_000, "USD");
    req.notify_url = Some(url.to_owned());
    let reply = app.client.withdraw_confirm(&req).await.unwrap();
    assert_eq!(reply.ret_code(), "0000", "{:?}", reply.envelope);
    app.payouts().run_once().await.unwrap();
    reply.envelope.data.unwrap()["order_no"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn funded(app: &TestApp) -> String {
    app.set_rate("USD", "718.25").await;
    app.funded_user("u-1", KycLevel::L1, 100_000).await
}

async fn notifications(
    app: &TestApp,
    order_no: &str,
) -> Vec<freewalker_store::model::Notification> {
    match app
        .state
        .store
        .query(Query::NotificationsOfOrder(order_no.to_owned()))
        .await
        .unwrap()
    {
        QueryOutput::Notifications(n) => n,
        _ => unreachable!(),
    }
}

async fn the_notification_is_the_seed_body_signed_by_the_wallet(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let account = funded(&app).await;
    let order_no = final_withdrawal(&app, "W-1", &account, &receiver.url).await;
    assert_eq!(
        app.notifier().run_once().await.unwrap(),
        vec![Delivery::Delivered]
    );

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let n = &got[0];
    // Field for field, in the seed's order, then the two extension fields.
    let body: serde_json::Value = serde_json::from_slice(&n.body).unwrap();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["institution_id", "topic", "data"]);
    let data = body["data"].as_object().unwrap();
    let keys: Vec<&str> = data.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "out_order_no",
            "order_no",
            "account_no",
            "amount",
            "currency",
            "target_amount",
            "target_currency",
            "branch_info",
            "order_status",
            "success_time",
            "exchange_rate",
            "fail_reason"
        ]
    );
    let branch: Vec<&str> = data["branch_info"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(branch, ["branch_no", "branch_name", "branch_address"]);
    assert_eq!(body["institution_id"], "INST0001");
    assert_eq!(body["topic"], "freewalker.withdraw.result");
    assert_eq!(data["order_no"], order_no.as_str());
    assert_eq!(data["out_order_no"], "W-1");
    assert_eq!(data["account_no"], account.as_str());
    assert_eq!(data["amount"], "50.00");
    assert_eq!(data["currency"], "CNY");
    assert_eq!(data["target_amount"], "6.96");
    assert_eq!(data["target_currency"], "USD");
    assert_eq!(data["order_status"], "SUCCESS");
    assert_eq!(data["success_time"].as_str().unwrap().len(), 19);
    assert_eq!(data["exchange_rate"], "718.25");
    assert_eq!(data["fail_reason"], "");
    for v in data.values().filter(|v| !v.is_object()) {
        assert!(
            v.is_string(),
            "every field is a string (seed: 字段类型为String字符串)"
        );
    }

    // Verified by the SDK ...
    let wallet = VerifyingKey::from_spki_pem(&app.state.keys.public_pem).unwrap();
    let header = |name: &str| n.headers.get(name).and_then(|v| v.to_str().ok());
    let parsed =
        notification::verify(&wallet, header, &n.body, app.clock.now_secs()).expect("SDK verifies");
    assert_eq!(parsed.data.order_no, order_no);
    assert_eq!(header("institution_id"), Some("INST0001"));
    assert_eq!(header("signature-type"), Some("RSA"));
    // ... and by OpenSSL, which knows nothing of our code.
    let dir = app.dir.path();
    std::fs::write(
        dir.join("md5.txt"),
        freewalker_protocol::signature::md5_hex(&n.body),
    )
    .unwrap();
    use base64::Engine;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(header("signature-data").unwrap())
        .unwrap();
    std::fs::write(dir.join("sig.bin"), sig).unwrap();
    let out = StdCommand::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(dir.join("wallet_public.pem"))
        .arg("-signature")
        .arg(dir.join("sig.bin"))
        .arg(dir.join("md5.txt"))
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    let all = notifications(&app, &order_no).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, NotifyStatus::Delivered);
}

async fn a_receiver_that_fails_twice_gets_it_on_the_third_attempt(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.notify_schedule =
            freewalker_domain::notify_schedule::NotifySchedule::parse("15s,15s,30s").unwrap()
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.script([Answer::Status(503), Answer::Garbage]);
    let account = funded(&app).await;
    let order_no = final_withdrawal(&app, "W-1", &account, &receiver.url).await;
    let worker = app.notifier();
    assert_eq!(worker.run_once().await.unwrap(), vec![Delivery::Retrying]);
    assert_eq!(
        worker.run_once().await.unwrap(),
        vec![],
        "not due before its delay"
    );
    app.clock.advance_millis(15_000);
    assert_eq!(worker.run_once().await.unwrap(), vec![Delivery::Retrying]);
    app.clock.advance_millis(14_999);
    assert_eq!(worker.run_once().await.unwrap(), vec![]);
    app.clock.advance_millis(1);
    assert_eq!(worker.run_once().await.unwrap(), vec![Delivery::Delivered]);
    assert_eq!(receiver.received().len(), 3);

    let n = &notifications(&app, &order_no).await[0];
    assert_eq!((n.status, n.attempts), (NotifyStatus::Delivered, 3));
    let QueryOutput::Attempts(attempts) =
        app.state.store.query(Query::Attempts(n.id)).await.unwrap()
    else {
        unreachable!()
    };
    assert_eq!(attempts.len(), 3, "every attempt is recorded");
    assert_eq!(attempts[0].http_status, Some(503));
    assert_eq!(attempts[0].error.as_deref(), Some("HTTP 503"));
    assert_eq!(attempts[1].http_status, Some(200));
    assert!(
        attempts[1]
            .error
            .as_deref()
            .unwrap()
            .contains("not a JSON acknowledgement")
    );
    assert!(
        attempts[1]
            .response_excerpt
            .as_deref()
            .unwrap()
            .contains("not json")
    );
    assert_eq!(attempts[2].error, None);
    assert!(
        attempts
            .iter()
            .all(|a| a.url == receiver.url && a.duration_ms >= 0)
    );
}

async fn after_the_last_attempt_it_is_dead_until_replayed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.notify_schedule =
            freewalker_domain::notify_schedule::NotifySchedule::parse("1s,1s").unwrap()
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.script([
        Answer::NotAccepted,
        Answer::Status(500),
        Answer::Status(404),
    ]);
    let account = funded(&app).await;
    let order_no = final_withdrawal(&app, "W-1", &account, &receiver.url).await;
    let worker = app.notifier();
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        outcomes.extend(worker.run_once().await.unwrap());
        app.clock.advance_millis(1_000);
    }
    assert_eq!(
        outcomes,
        [Delivery::Retrying, Delivery::Retrying, Delivery::Dead]
    );
    assert_eq!(
        notifications(&app, &order_no).await[0].status,
        NotifyStatus::Dead
    );
    let QueryOutput::Notifications(dead) = app
        .state
        .store
        .query(Query::Notifications {
            status: Some(NotifyStatus::Dead),
            limit: 10,
        })
        .await
        .unwrap()
    else {
        unreachable!()
    };
    assert_eq!(dead.len(), 1, "operators see it");
    app.clock.advance_millis(3_600_000);
    assert_eq!(worker.run_once().await.unwrap(), vec![], "dead stays dead");

    app.operator(Op::ReplayNotifications {
        order_no: order_no.clone(),
    })
    .await;
    assert_eq!(worker.run_once().await.unwrap(), vec![Delivery::Delivered]);
    assert_eq!(receiver.received().len(), 4);
    assert_eq!(
        notifications(&app, &order_no).await[0].status,
        NotifyStatus::Delivered
    );
}

async fn a_slow_or_broken_institution_never_holds_up_another(backend: Backend) {
    // Eight slots: the slow institution may hold two.
    let app = TestApp::spawn_with(backend, |s| {
        s.notify_concurrency = 8;
        s.notify_timeout_ms = 20_000;
    })
    .await;
    let slow = Receiver::start().await;
    slow.script(std::iter::repeat_n(
        Answer::Slow(Duration::from_secs(4)),
        12,
    ));
    let fast = Receiver::start().await;
    let account = funded(&app).await;
    for i in 0..12 {
        final_withdrawal(&app, &format!("W-slow-{i}"), &account, &slow.url).await;
    }
    // The other institution's withdrawal, final after the slow ones.
    let other = app
        .user_sync(&app.other_client, "o-1", "O1")
        .await
        .envelope
        .data
        .unwrap()["account_no"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut r = app.recharge_request("OR-1", &other, 10_000);
    r.institution_id = INST_OTHER.into();
    assert_eq!(
        app.other_client
            .recharge_apply(&r)
            .await
            .unwrap()
            .ret_code(),
        "0000"
    );
    let mut w = app.withdraw_request("OW-1", &other, 1_000, "CNY");
    w.institution_id = INST_OTHER.into();
    w.notify_url = Some(fast.url.clone());
    assert_eq!(
        app.other_client
            .withdraw_confirm(&w)
            .await
            .unwrap()
            .ret_code(),
        "0000"
    );
    app.payouts().run_once().await.unwrap();
    let _ = AccountNo::parse(&other).unwrap();

    let (trigger, shutdown) = freewalker_server::workers::shutdown_channel();
    let worker = tokio::spawn(app.notifier().run(shutdown));
    let started = std::time::Instant::now();
    while fast.received().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the fast institution waited for the slow one"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        slow.received().len() <= 2,
        "the slow institution holds at most its share: {}",
        slow.received().len()
    );
    trigger.fire();
    worker.await.unwrap();
}

async fn a_receiver_down_while_the_wallet_restarts_still_gets_it(backend: Backend) {
    use crate::crash::{SchemaGuard, client, free_port, operator, start, wallet_env};
    let dir = tempfile::tempdir().unwrap();
    let (port, receiver_port) = (free_port(), free_port());
    let schema = crate::support::fresh_schema();
    let _cleanup = SchemaGuard(schema.clone());
    let mut env = wallet_env(dir.path(), port, backend, &schema);
    env.push((
        "FREEWALKER_NOTIFY_SCHEDULE".into(),
        "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s".into(),
    ));
    let key = crate::support::repo_tests_dir().join("vectors/inst_rsa_public.pem");
    let url = format!("http://127.0.0.1:{receiver_port}/notify");
    let (ok, out) = operator(
        &env,
        &[
            "institution",
            "add",
            "--id",
            "INST0001",
            "--name",
            "T",
            "--public-key",
            key.to_str().unwrap(),
            "--signature-type",
            "RSA",
            "--notify-url",
            &url,
        ],
    )
    .await;
    assert!(ok, "{out}");
    let mut wallet = start(&env, port).await;
    let c = client(dir.path(), port);
    // A user with money, and a withdrawal paid out at once by the instant channel.
    let account = crate::crash::funded_user(&c, "u", 10_000).await;
    let mut w = freewalker_protocol::api::WithdrawConfirmRequest {
        institution_id: "INST0001".into(),
        out_order_no: "W1".into(),
        account_no: AccountNo::parse(&account).unwrap(),
        amount: 1_000,
        currency: freewalker_protocol::currency::Currency::CNY,
        target_currency: freewalker_protocol::currency::Currency::CNY,
        branch_info: freewalker_protocol::api::BranchInfo {
            branch_no: "B".into(),
            branch_name: "N".into(),
            branch_address: "A".into(),
        },
        notify_url: None,
        remark: None,
    };
    w.remark = Some("restart test".into());
    assert_eq!(c.withdraw_confirm(&w).await.unwrap().ret_code(), "0000");

    // The institution is down: attempts fail and are recorded.
    let started = std::time::Instant::now();
    loop {
        let (_, out) = operator(&env, &["notify", "list"]).await;
        if out
            .lines()
            .any(|l| l.contains("PENDING") && l.contains("connection failed"))
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no failed attempt recorded: {out}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wallet.kill().await.unwrap();

    // The institution comes back while the wallet is down; the wallet restarts.
    let receiver = Receiver::start_on(&format!("127.0.0.1:{receiver_port}")).await;
    let mut wallet = start(&env, port).await;
    let started = std::time::Instant::now();
    while receiver.received().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "never delivered after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let body: serde_json::Value = serde_json::from_slice(&receiver.received()[0].body).unwrap();
    assert_eq!(body["data"]["out_order_no"], "W1");
    assert_eq!(body["data"]["order_status"], "SUCCESS");
    let started = std::time::Instant::now();
    loop {
        let (_, out) = operator(&env, &["notify", "list", "--status", "DELIVERED"]).await;
        if out.lines().count() == 2 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{out}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (ok, out) = operator(&env, &["ledger", "verify"]).await;
    assert!(ok, "{out}");
    wallet.kill().await.unwrap();
}

crate::on_both_backends!(
    the_notification_is_the_seed_body_signed_by_the_wallet,
    a_receiver_that_fails_twice_gets_it_on_the_third_attempt,
    after_the_last_attempt_it_is_dead_until_replayed,
    a_slow_or_broken_institution_never_holds_up_another
);
crate::on_both_backends!(multi_thread: a_receiver_down_while_the_wallet_restarts_still_gets_it);
