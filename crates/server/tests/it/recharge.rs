//! §4.3/§4.4 recharges, §5 limits, §7 idempotency, and the ledger behind them.

use freewalker_domain::Clock;
use freewalker_protocol::Money;
use freewalker_protocol::amount::format_amount;
use freewalker_protocol::api::{KycLevel, PayMethod};
use freewalker_protocol::currency::Currency;

use crate::support::{Backend, TestApp, fen};

fn order_no(reply: &freewalker_sdk::Reply) -> String {
    reply.envelope.data.as_ref().unwrap()["order_no"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_recharge_credits_exactly_once_and_can_be_queried(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.user("u-1", "E1").await;
    let mut req = app.recharge_request("R-1", &account, 10_000);
    req.pay_amount = Some(Money::new(1_392, Currency::from_code("USD").unwrap()));
    req.pay_method = Some(PayMethod::ForeignCard);
    req.remark = Some("airport counter".into());
    let first = app.client.recharge_apply(&req).await.unwrap();
    assert_eq!(first.ret_code(), "0000", "{:?}", first.envelope);
    let data = first.envelope.data.clone().unwrap();
    assert_eq!(data["order_status"], "SUCCESS");
    assert_eq!(data["amount"], "100.00");
    assert_eq!(data["currency"], "CNY");
    assert_eq!(data["available_balance"], "100.00");
    assert!(data["order_no"].as_str().unwrap().starts_with('R'));
    assert!(data["order_no"].as_str().unwrap().len() <= 32);
    assert_eq!(data["create_time"].as_str().unwrap().len(), 19);

    // The same request again: the same answer, nothing moves twice.
    let again = app.client.recharge_apply(&req).await.unwrap();
    assert_eq!(again.ret_code(), "0000");
    assert_eq!(again.envelope.data, first.envelope.data);
    assert_eq!(app.balances(&account).await, (10_000, 0));

    // Query by either number, or both.
    let no = order_no(&first);
    for q in [
        TestApp::query(Some("R-1"), None),
        TestApp::query(None, Some(&no)),
        TestApp::query(Some("R-1"), Some(&no)),
    ] {
        let reply = app.client.recharge_query(&q).await.unwrap();
        assert_eq!(reply.ret_code(), "0000");
        let d = reply.envelope.data.unwrap();
        assert_eq!(d["order_no"], no.as_str());
        assert_eq!(d["pay_amount"], "13.92");
        assert_eq!(d["pay_currency"], "USD");
        assert_eq!(d["pay_method"], "FOREIGN_CARD");
    }
    // Numbers of two different orders, a missing one, or another institution's: 3006.
    let second = app.recharge("R-2", &account, 1).await;
    for q in [
        TestApp::query(Some("R-2"), Some(&no)),
        TestApp::query(Some("R-404"), None),
        TestApp::query(None, Some("R20260101000000000001")),
    ] {
        assert_eq!(
            app.client.recharge_query(&q).await.unwrap().ret_code(),
            "3006"
        );
    }
    let mut foreign = TestApp::query(None, Some(&order_no(&second)));
    foreign.institution_id = crate::support::INST_OTHER.into();
    assert_eq!(
        app.other_client
            .recharge_query(&foreign)
            .await
            .unwrap()
            .ret_code(),
        "3006"
    );
    app.assert_ledger_clean().await;
}

async fn the_same_out_order_no_with_different_content_is_3005_and_changes_nothing(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let account = app.user("u-1", "E1").await;
    assert_eq!(
        app.recharge("R-1", &account, 10_000).await.ret_code(),
        "0000"
    );
    let reply = app.recharge("R-1", &account, 10_001).await;
    assert_eq!(reply.ret_code(), "3005");
    assert!(
        reply.envelope.ret_msg.contains("amount"),
        "{}",
        reply.envelope.ret_msg
    );
    let other_account = app.user("u-2", "E2").await;
    assert_eq!(
        app.recharge("R-1", &other_account, 10_000).await.ret_code(),
        "3005"
    );
    assert_eq!(app.balances(&account).await, (10_000, 0));
    assert_eq!(app.balances(&other_account).await, (0, 0));
    // A recharge refused for a limit created nothing: sending it again is evaluated anew.
    assert_eq!(
        app.recharge("R-big", &account, 300_000).await.ret_code(),
        "3004"
    );
    app.kyc(&account, KycLevel::L1).await;
    assert_eq!(
        app.recharge("R-big", &account, 300_000).await.ret_code(),
        "0000"
    );
    app.assert_ledger_clean().await;
}

async fn fifty_identical_recharges_at_once_make_one_order_and_one_credit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.user("u-1", "E1").await;
    let req = app.recharge_request("R-same", &account, 12_345);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let client = app.client.clone();
        let req = req.clone();
        tasks.spawn(async move { client.recharge_apply(&req).await.unwrap() });
    }
    let mut numbers = std::collections::HashSet::new();
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        assert_eq!(reply.ret_code(), "0000", "{:?}", reply.envelope);
        numbers.insert(order_no(&reply));
    }
    assert_eq!(numbers.len(), 1, "one order");
    assert_eq!(app.balances(&account).await, (12_345, 0), "one credit");
    let orders = app
        .row_counts()
        .await
        .into_iter()
        .find(|(t, _)| t == "recharge_orders")
        .unwrap()
        .1;
    assert_eq!(orders, 1);
    app.assert_ledger_clean().await;
}

async fn fifty_distinct_recharges_at_once_all_land_exactly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.user("u-1", "E1").await;
    app.kyc(&account, KycLevel::L2).await;
    let mut tasks = tokio::task::JoinSet::new();
    let mut expected = 0;
    for i in 0..50_i64 {
        let amount = 1_000 + i * 37;
        expected += amount;
        let client = app.client.clone();
        let req = app.recharge_request(&format!("R-{i}"), &account, amount);
        tasks.spawn(async move { client.recharge_apply(&req).await.unwrap() });
    }
    while let Some(reply) = tasks.join_next().await {
        assert_eq!(reply.unwrap().ret_code(), "0000");
    }
    assert_eq!(app.balances(&account).await, (expected, 0));
    app.assert_ledger_clean().await;
}

/// Recharges `fen` and returns the ret_code, with a fresh order number.
async fn try_recharge(app: &TestApp, account: &str, fen: i64) -> String {
    let n = app.clock.now_millis();
    let out = format!("R-{n}-{fen}-{}", rand_suffix());
    app.recharge(&out, account, fen).await.envelope.ret_code
}

fn rand_suffix() -> String {
    freewalker_protocol::headers::new_nonce()[..8].to_owned()
}

/// 2026-12-31 23:59:59 CST, in Unix milliseconds.
const NEW_YEARS_EVE_LAST_SECOND_MS: i64 = 1_798_732_799_000;

async fn single_recharge_limit_is_exact_to_the_fen(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.user("u-1", "E1").await;
    let reply = app.recharge("R-over", &account, 200_001).await;
    assert_eq!(reply.ret_code(), "3004");
    assert_eq!(reply.status, 200);
    let data = reply.envelope.data.unwrap();
    assert_eq!(data["limit"], "recharge_single");
    assert_eq!(data["limit_amount"], "2000.00");
    assert!(reply.envelope.ret_msg.contains("recharge_single"));
    assert_eq!(try_recharge(&app, &account, 200_000).await, "0000");
    app.assert_ledger_clean().await;
}

async fn daily_limit_is_exact_and_resets_at_cst_midnight(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // 2026-11-26 23:00:00 CST.
    app.clock.set_millis(1_795_705_200_000);
    let account = app.user("u-1", "E1").await;
    // L0: 5,000.00 a day.
    for _ in 0..2 {
        assert_eq!(try_recharge(&app, &account, 200_000).await, "0000");
    }
    assert_eq!(try_recharge(&app, &account, 99_999).await, "0000");
    let reply = app.recharge("R-day-over", &account, 2).await;
    assert_eq!(reply.ret_code(), "3004");
    let data = reply.envelope.data.unwrap();
    assert_eq!(data["limit"], "recharge_daily");
    assert_eq!(data["used_amount"], "4999.99");
    assert_eq!(data["remaining_amount"], "0.01");
    assert_eq!(
        try_recharge(&app, &account, 1).await,
        "0000",
        "the last fen of the day passes"
    );
    assert_eq!(try_recharge(&app, &account, 1).await, "3004");
    // The next calendar day in UTC+08:00 starts a new total.
    let midnight = next_cst_midnight(app.clock.now_millis());
    app.clock.set_millis(midnight - 1_000);
    assert_eq!(
        try_recharge(&app, &account, 1).await,
        "3004",
        "still the same CST day"
    );
    app.clock.set_millis(midnight);
    assert_eq!(
        try_recharge(&app, &account, 1).await,
        "0000",
        "a new CST day"
    );
    app.assert_ledger_clean().await;
}

fn next_cst_midnight(now_ms: i64) -> i64 {
    let day_ms = 86_400_000;
    let cst = now_ms + 8 * 3_600_000;
    (cst.div_euclid(day_ms) + 1) * day_ms - 8 * 3_600_000
}

async fn yearly_limit_is_exact_and_resets_with_the_cst_year(backend: Backend) {
    // Lift the balance cap and the daily limit so only the yearly one binds.
    let app = TestApp::spawn_with(backend, |s| {
        s.limits.l0.balance_max_fen = i64::MAX / 4;
        s.limits.l0.daily_recharge_fen = i64::MAX / 4;
    })
    .await;
    app.clock
        .set_millis(NEW_YEARS_EVE_LAST_SECOND_MS - 3_600_000);
    let account = app.user("u-1", "E1").await;
    for _ in 0..4 {
        assert_eq!(try_recharge(&app, &account, 200_000).await, "0000");
    }
    assert_eq!(try_recharge(&app, &account, 199_999).await, "0000");
    let reply = app.recharge("R-year-over", &account, 2).await;
    assert_eq!(reply.envelope.data.unwrap()["limit"], "recharge_yearly");
    assert_eq!(try_recharge(&app, &account, 1).await, "0000");
    app.clock.set_millis(NEW_YEARS_EVE_LAST_SECOND_MS);
    assert_eq!(
        try_recharge(&app, &account, 1).await,
        "3004",
        "23:59:59 on 31 December, CST"
    );
    app.clock.set_millis(NEW_YEARS_EVE_LAST_SECOND_MS + 1_000);
    assert_eq!(
        try_recharge(&app, &account, 200_000).await,
        "0000",
        "a new CST year"
    );
    app.assert_ledger_clean().await;
}

async fn the_balance_cap_counts_every_fen_held(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.limits.l0.daily_recharge_fen = i64::MAX / 4;
        s.limits.l0.yearly_recharge_fen = i64::MAX / 4;
    })
    .await;
    let account = app.user("u-1", "E1").await;
    for _ in 0..4 {
        assert_eq!(try_recharge(&app, &account, 200_000).await, "0000");
    }
    assert_eq!(try_recharge(&app, &account, 199_999).await, "0000");
    let reply = app.recharge("R-cap", &account, 2).await;
    let data = reply.envelope.data.unwrap();
    assert_eq!(data["limit"], "balance_max");
    assert_eq!(data["remaining_amount"], "0.01");
    assert_eq!(try_recharge(&app, &account, 1).await, "0000");
    assert_eq!(app.balances(&account).await, (1_000_000, 0));
    app.assert_ledger_clean().await;
}

async fn the_account_query_reports_what_is_left_today(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.user("u-1", "E1").await;
    assert_eq!(try_recharge(&app, &account, 123_456).await, "0000");
    let q = freewalker_protocol::api::AccountQueryRequest {
        institution_id: crate::support::INST.into(),
        account_no: freewalker_protocol::api::AccountNo::parse(&account).unwrap(),
    };
    let data = app
        .client
        .account_query(&q)
        .await
        .unwrap()
        .envelope
        .data
        .unwrap();
    assert_eq!(data["available_balance"], "1234.56");
    assert_eq!(
        data["limits"]["daily_recharge_remaining"],
        format_amount(500_000 - 123_456, Currency::CNY)
    );
    assert_eq!(
        data["limits"]["yearly_recharge_remaining"],
        format_amount(1_000_000 - 123_456, Currency::CNY)
    );
    assert_eq!(
        data["limits"]["balance_remaining"],
        format_amount(1_000_000 - 123_456, Currency::CNY)
    );
    assert_eq!(fen(data["frozen_balance"].as_str().unwrap()), 0);
}

async fn ledger_verify_detects_a_balance_tampered_with_in_the_database(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.user("u-1", "E1").await;
    assert_eq!(try_recharge(&app, &account, 5_000).await, "0000");
    app.assert_ledger_clean().await;
    app.sql(&format!(
        "UPDATE accounts SET available = available + 1 WHERE account_no = '{account}'"
    ))
    .await;
    let report = app.state.store.verify_ledger().await.unwrap();
    assert_eq!(report.mismatches.len(), 1, "{:?}", report.mismatches);
    let text = format!("{:?}", report.mismatches[0]);
    assert!(
        text.contains(&account) && text.contains("5001") && text.contains("5000"),
        "{text}"
    );
}

crate::on_both_backends!(
    a_recharge_credits_exactly_once_and_can_be_queried,
    the_same_out_order_no_with_different_content_is_3005_and_changes_nothing,
    fifty_identical_recharges_at_once_make_one_order_and_one_credit,
    fifty_distinct_recharges_at_once_all_land_exactly,
    single_recharge_limit_is_exact_to_the_fen,
    daily_limit_is_exact_and_resets_at_cst_midnight,
    yearly_limit_is_exact_and_resets_with_the_cst_year,
    the_balance_cap_counts_every_fen_held,
    the_account_query_reports_what_is_left_today,
    ledger_verify_detects_a_balance_tampered_with_in_the_database
);
