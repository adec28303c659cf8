//! §4.5/§4.6 withdrawals: exchange, freezing, payout channels, the state machine.

use std::sync::Arc;

use freewalker_domain::Clock;
use freewalker_domain::withdraw::PayoutOutcome;
use freewalker_protocol::api::KycLevel;
use freewalker_server::workers::payout::ManualChannel;
use freewalker_store::Op;

use crate::support::{Backend, TestApp, fen};

fn data(reply: &freewalker_sdk::Reply) -> serde_json::Value {
    reply
        .envelope
        .data
        .clone()
        .unwrap_or_else(|| panic!("{:?}", reply.envelope))
}

async fn a_withdrawal_freezes_locks_the_rate_and_pays_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.funded_user("u-1", KycLevel::L1, 100_000).await;
    app.set_rate("USD", "718.25").await;
    let reply = app.withdraw("W-1", &account, 5_000, "USD").await;
    assert_eq!(reply.ret_code(), "0000", "{:?}", reply.envelope);
    let d = data(&reply);
    assert_eq!(d["order_status"], "INIT");
    assert_eq!(d["amount"], "50.00");
    assert_eq!(
        d["target_amount"], "6.96",
        "50.00 CNY at 718.25 is 6.96 USD, rounded down"
    );
    assert_eq!(d["target_currency"], "USD");
    assert_eq!(d["exchange_rate"], "718.25");
    assert_eq!(d["success_time"], "");
    assert_eq!(d["fail_reason"], "");
    assert_eq!(d["branch_info"]["branch_name"], "浦东机场网点");
    assert!(d["order_no"].as_str().unwrap().starts_with('W'));
    assert_eq!(
        app.balances(&account).await,
        (95_000, 5_000),
        "frozen at once"
    );

    // A new rate does not change a confirmed order.
    app.set_rate("USD", "700.00").await;
    let round = app.payouts().run_once().await.unwrap();
    assert_eq!(round.settled, 1);
    let q = TestApp::query(Some("W-1"), None);
    let d = data(&app.client.withdraw_query(&q).await.unwrap());
    assert_eq!(d["order_status"], "SUCCESS");
    assert_eq!(d["target_amount"], "6.96");
    assert_eq!(d["exchange_rate"], "718.25");
    assert_eq!(d["success_time"].as_str().unwrap().len(), 19);
    assert_eq!(
        app.balances(&account).await,
        (95_000, 0),
        "debited on success"
    );
    app.assert_ledger_clean().await;
}

/// Worked by hand: target = floor(amount × 100 / rate) in the target's minor unit.
async fn exchange_examples_computed_by_hand(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.funded_user("u-1", KycLevel::L1, 1_000_000).await;
    app.set_rate("USD", "718.25").await;
    app.set_rate("JPY", "4.85").await;
    app.set_rate("KRW", "0.5312").await;
    app.set_rate("EUR", "772.31").await;
    let cases = [
        // 10.00 CNY / 4.85 × 100 = 206.18… JPY → 206 (no decimals).
        ("JPY", 1_000, "206"),
        // 100.00 CNY / 0.5312 × 100 = 18825.30… KRW → 18825.
        ("KRW", 10_000, "18825"),
        // 100.00 CNY / 772.31 × 100 = 12.948… EUR → 12.94: rounded down, not to nearest.
        ("EUR", 10_000, "12.94"),
        // 718.25 CNY is exactly 100.00 USD.
        ("USD", 71_825, "100.00"),
        // 0.07 CNY buys 0.0097… USD: 0.00 is refused below.
        ("CNY", 12_345, "123.45"),
    ];
    for (i, (currency, amount, expected)) in cases.iter().enumerate() {
        let reply = app
            .withdraw(&format!("FX-{i}"), &account, *amount, currency)
            .await;
        assert_eq!(reply.ret_code(), "0000", "{currency}: {:?}", reply.envelope);
        assert_eq!(data(&reply)["target_amount"], *expected, "{currency}");
    }
    let reply = app.withdraw("FX-tiny", &account, 7, "USD").await;
    assert_eq!(reply.ret_code(), "2003", "too small to pay out a cent");
    assert!(reply.envelope.ret_msg.contains("USD"));
    app.assert_ledger_clean().await;
}

async fn unsupported_currencies_and_stale_rates_answer_3007(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.funded_user("u-1", KycLevel::L1, 10_000).await;
    let reply = app.withdraw("W-1", &account, 1_000, "GBP").await;
    assert_eq!(reply.ret_code(), "3007");
    assert!(reply.envelope.ret_msg.contains("GBP"));
    app.set_rate("GBP", "912.40").await;
    app.clock.advance_millis(24 * 3_600_000);
    assert_eq!(
        app.withdraw("W-2", &account, 1_000, "GBP").await.ret_code(),
        "0000",
        "exactly 24 h old is still fresh"
    );
    app.clock.advance_millis(1_000);
    let reply = app.withdraw("W-3", &account, 1_000, "GBP").await;
    assert_eq!(reply.ret_code(), "3007");
    assert!(reply.envelope.ret_msg.contains("fresh"));
    assert_eq!(
        app.balances(&account).await,
        (9_000, 1_000),
        "refused withdrawals froze nothing"
    );
    app.assert_ledger_clean().await;
}

async fn refusals_change_nothing_and_repeats_return_the_same_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.funded_user("u-1", KycLevel::L0, 300_000).await;
    // L0 single withdrawal: 2,000.00.
    let reply = app.withdraw("W-big", &account, 200_001, "CNY").await;
    assert_eq!(reply.ret_code(), "3004");
    assert_eq!(data(&reply)["limit"], "withdraw_single");
    let first = app.withdraw("W-1", &account, 200_000, "CNY").await;
    assert_eq!(first.ret_code(), "0000");
    let again = app.withdraw("W-1", &account, 200_000, "CNY").await;
    assert_eq!(
        again.envelope.data, first.envelope.data,
        "the same request, the same order"
    );
    let mut other_branch = app.withdraw_request("W-1", &account, 200_000, "CNY");
    other_branch.branch_info.branch_no = "BR002".into();
    let reply = app.client.withdraw_confirm(&other_branch).await.unwrap();
    assert_eq!(reply.ret_code(), "3005");
    assert!(reply.envelope.ret_msg.contains("branch_info.branch_no"));
    // 1,000.00 left available: 1,000.01 is too much.
    assert_eq!(
        app.withdraw("W-2", &account, 100_001, "CNY")
            .await
            .ret_code(),
        "3003"
    );
    assert_eq!(
        app.withdraw("W-2", &account, 100_000, "CNY")
            .await
            .ret_code(),
        "0000"
    );
    assert_eq!(app.balances(&account).await, (0, 300_000));
    // Recharge limits never block a withdrawal; a frozen account takes nothing.
    app.operator(Op::SetAccountStatus {
        account_no: account.clone(),
        status: freewalker_protocol::api::UserStatus::Frozen,
    })
    .await;
    assert_eq!(
        app.withdraw("W-3", &account, 1, "CNY").await.ret_code(),
        "3002"
    );
    assert_eq!(app.recharge("R-x", &account, 1).await.ret_code(), "3002");
    app.assert_ledger_clean().await;
}

async fn two_hundred_concurrent_withdrawals_cannot_overdraw(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.funded_user("u-1", KycLevel::L1, 100_000).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let client = app.client.clone();
        let req = app.withdraw_request(&format!("W-{i}"), &account, 1_000, "CNY");
        tasks.spawn(async move {
            client
                .withdraw_confirm(&req)
                .await
                .unwrap()
                .envelope
                .ret_code
        });
    }
    let (mut ok, mut insufficient) = (0, 0);
    while let Some(code) = tasks.join_next().await {
        match code.unwrap().as_str() {
            "0000" => ok += 1,
            "3003" => insufficient += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((ok, insufficient), (100, 100));
    assert_eq!(app.balances(&account).await, (0, 100_000));
    while app.payouts().run_once().await.unwrap().claimed > 0 {}
    assert_eq!(app.balances(&account).await, (0, 0));
    app.assert_ledger_clean().await;
}

async fn the_manual_channel_waits_for_the_operator(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.funded_user("u-1", KycLevel::L1, 10_000).await;
    let a = data(&app.withdraw("W-ok", &account, 3_000, "CNY").await)["order_no"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = data(&app.withdraw("W-ko", &account, 2_000, "CNY").await)["order_no"]
        .as_str()
        .unwrap()
        .to_owned();
    let worker = app.payouts_with(Arc::new(ManualChannel));
    let round = worker.run_once().await.unwrap();
    assert_eq!((round.claimed, round.pending, round.settled), (2, 2, 0));
    assert_eq!(
        worker.run_once().await.unwrap().claimed,
        0,
        "leased, not handed out twice"
    );
    let status = |no: String| {
        let q = TestApp::query(None, Some(&no));
        let client = app.client.clone();
        async move {
            data(&client.withdraw_query(&q).await.unwrap())["order_status"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(status(a.clone()).await, "PROCESSING");

    let settle = |no: &str, outcome| Op::SettleWithdrawal {
        order_no: no.to_owned(),
        account_no: account.clone(),
        outcome,
    };
    app.operator(settle(&a, PayoutOutcome::Success)).await;
    app.operator(settle(
        &b,
        PayoutOutcome::Fail {
            reason: "branch closed".into(),
        },
    ))
    .await;
    assert_eq!(status(a.clone()).await, "SUCCESS");
    let q = TestApp::query(None, Some(&b));
    let d = data(&app.client.withdraw_query(&q).await.unwrap());
    assert_eq!(d["order_status"], "FAIL");
    assert_eq!(d["fail_reason"], "branch closed");
    assert_eq!(d["success_time"], "");
    assert_eq!(
        app.balances(&account).await,
        (7_000, 0),
        "the failed 20.00 came back"
    );

    // Status never moves backwards or sideways, whoever asks.
    let result = app
        .state
        .store
        .execute(freewalker_store::Command {
            nonce: None,
            op: settle(
                &a,
                PayoutOutcome::Fail {
                    reason: "late".into(),
                },
            ),
            now_ms: app.clock.now_millis(),
        })
        .await;
    assert!(
        matches!(
            result,
            Err(freewalker_store::OpError::InvalidTransition { .. })
        ),
        "{result:?}"
    );
    // Settling again the same way changes nothing.
    app.operator(settle(&a, PayoutOutcome::Success)).await;
    assert_eq!(app.balances(&account).await, (7_000, 0));
    app.assert_ledger_clean().await;
    let _ = fen;
}

async fn a_payout_whose_worker_died_is_taken_over_after_its_lease(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.funded_user("u-1", KycLevel::L1, 10_000).await;
    assert_eq!(
        app.withdraw("W-1", &account, 1_000, "CNY").await.ret_code(),
        "0000"
    );
    // A worker claims the order and dies before settling it (manual channel: nothing settles).
    let round = app
        .payouts_with(Arc::new(ManualChannel))
        .run_once()
        .await
        .unwrap();
    assert_eq!(round.claimed, 1);
    // Its lease (and the manual channel's recheck) runs out; an instant worker takes over.
    app.clock.advance_millis(2 * 3_600_000);
    let round = app.payouts().run_once().await.unwrap();
    assert_eq!(round.settled, 1);
    assert_eq!(app.balances(&account).await, (9_000, 0));
    app.assert_ledger_clean().await;
}

crate::on_both_backends!(
    a_withdrawal_freezes_locks_the_rate_and_pays_out,
    exchange_examples_computed_by_hand,
    unsupported_currencies_and_stale_rates_answer_3007,
    refusals_change_nothing_and_repeats_return_the_same_order,
    two_hundred_concurrent_withdrawals_cannot_overdraw,
    the_manual_channel_waits_for_the_operator,
    a_payout_whose_worker_died_is_taken_over_after_its_lease
);
