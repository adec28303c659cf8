//! §2 authentication, §1 envelope and §6 codes: every way a request can be
//! refused before it does anything, each answered with the right code and HTTP
//! status, signed, and leaving nothing behind.

use freewalker_protocol::api::paths;
use freewalker_sdk::client::{RawReply, RawRequest};
use freewalker_store::Op;
use freewalker_store::ops::InstitutionInput;

use crate::support::{Backend, INST, TestApp};

const BODY: &[u8] = br#"{"institution_id":"INST0001","account_no":"8000000000000011"}"#;

fn set_header(raw: &mut RawRequest, name: &str, value: Option<&str>) {
    raw.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    if let Some(v) = value {
        raw.headers.push((name.to_owned(), v.to_owned()));
    }
}

fn header<'a>(raw: &'a RawRequest, name: &str) -> &'a str {
    raw.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .expect("header")
}

/// Sends and checks code, HTTP status and the wallet's signature on the answer.
async fn expect(app: &TestApp, raw: RawRequest, code: &str, status: u16) -> RawReply {
    let reply = app.client.send_raw(raw).await.expect("send");
    let envelope = reply.envelope.as_ref().unwrap_or_else(|| {
        panic!(
            "not an envelope: {:?}",
            String::from_utf8_lossy(&reply.body)
        )
    });
    assert_eq!(envelope.ret_code, code, "{envelope:?}");
    assert_eq!(reply.status, status, "{envelope:?}");
    assert!(
        reply.signature_ok,
        "every response is signed by the wallet: {envelope:?}"
    );
    assert!(!envelope.ret_msg.is_empty());
    reply
}

fn without_nonces(counts: Vec<(String, i64)>) -> Vec<(String, i64)> {
    counts.into_iter().filter(|(t, _)| t != "nonces").collect()
}

async fn a_well_signed_request_is_answered_and_signed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let reply = expect(
        &app,
        app.signed_raw(paths::ACCOUNT_QUERY, BODY),
        "3001",
        200,
    )
    .await;
    assert!(reply.envelope.unwrap().ret_msg.contains("account_no"));
}

async fn header_problems_answer_1001_and_store_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.row_counts().await;
    for name in [
        "Signature-Type",
        "Signature-Data",
        "timestamp",
        "nonce",
        "institution_id",
    ] {
        let mut raw = app.signed_raw(paths::ACCOUNT_QUERY, BODY);
        set_header(&mut raw, name, None);
        let reply = expect(&app, raw, "1001", 401).await;
        assert!(
            reply.envelope.unwrap().ret_msg.contains(name),
            "ret_msg names {name}"
        );
    }
    let malformed = [
        ("Signature-Type", "DSA"),
        ("Signature-Data", "not base64!"),
        ("timestamp", "2026-11-26 10:00:00"),
        ("timestamp", "20261340250000"),
        ("nonce", "short"),
        ("nonce", "has spaces in it!"),
        ("institution_id", "INST 0001"),
    ];
    for (name, value) in malformed {
        let mut raw = app.signed_raw(paths::ACCOUNT_QUERY, BODY);
        set_header(&mut raw, name, Some(value));
        expect(&app, raw, "1001", 401).await;
    }
    assert_eq!(
        app.row_counts().await,
        before,
        "a refused request writes nothing, not even its nonce"
    );
}

async fn unknown_or_disabled_institutions_answer_1005(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.row_counts().await;
    let stranger = app.client.clone().with_institution_id("NOBODY");
    let raw = {
        let body = br#"{"institution_id":"NOBODY","account_no":"8000000000000011"}"#;
        let headers = stranger.sign_headers(body).unwrap();
        RawRequest {
            path: paths::ACCOUNT_QUERY.into(),
            body: body.to_vec(),
            headers: headers
                .to_pairs()
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        }
    };
    expect(&app, raw, "1005", 401).await;

    app.operator(Op::PutInstitution {
        input: InstitutionInput {
            id: INST.into(),
            name: None,
            public_key_pem: None,
            signature_type: None,
            notify_url: None,
            enabled: Some(false),
        },
        create: false,
    })
    .await;
    app.state.institutions.clear();
    expect(
        &app,
        app.signed_raw(paths::ACCOUNT_QUERY, BODY),
        "1005",
        401,
    )
    .await;
    assert_eq!(
        app.row_counts().await,
        before,
        "nothing stored, not even the nonce"
    );
}

async fn the_timestamp_window_is_300_seconds_either_way(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.row_counts().await;
    // Signed now; the wallet's clock then moves by exactly the window: accepted.
    let raw = app.signed_raw(paths::ACCOUNT_QUERY, BODY);
    app.clock.advance_millis(300_000);
    expect(&app, raw, "3001", 200).await;
    // One second more: refused, in both directions.
    let raw = app.signed_raw(paths::ACCOUNT_QUERY, BODY);
    app.clock.advance_millis(301_000);
    expect(&app, raw, "1003", 401).await;
    let raw = app.signed_raw(paths::ACCOUNT_QUERY, BODY);
    app.clock.advance_millis(-602_000);
    expect(&app, raw, "1003", 401).await;
    let counts = app.row_counts().await;
    let nonces = |c: &[(String, i64)]| {
        c.iter()
            .find(|(t, _)| t == "nonces")
            .map(|(_, n)| *n)
            .unwrap()
    };
    assert_eq!(
        nonces(&counts),
        nonces(&before) + 1,
        "only the accepted request recorded its nonce"
    );
}

async fn a_signature_that_does_not_verify_answers_1002(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.row_counts().await;
    // The body changed after signing (one byte).
    let mut raw = app.signed_raw(paths::ACCOUNT_QUERY, BODY);
    raw.body = BODY.to_vec();
    let last = raw.body.len() - 3;
    raw.body[last] = b'2';
    expect(&app, raw, "1002", 401).await;
    // Re-serialised JSON (a space added) breaks it too, by design.
    let mut raw = app.signed_raw(paths::ACCOUNT_QUERY, BODY);
    raw.body = br#"{"institution_id": "INST0001","account_no":"8000000000000011"}"#.to_vec();
    expect(&app, raw, "1002", 401).await;
    // Signed by another institution's key.
    let other = app.other_client.sign_headers(BODY).unwrap();
    let mut raw = app.signed_raw(paths::ACCOUNT_QUERY, BODY);
    set_header(&mut raw, "Signature-Data", Some(&other.signature));
    expect(&app, raw, "1002", 401).await;
    // The right signature announced as the wrong type.
    let mut raw = app.signed_raw(paths::ACCOUNT_QUERY, BODY);
    set_header(&mut raw, "Signature-Type", Some("SM2"));
    expect(&app, raw, "1002", 401).await;
    assert_eq!(
        app.row_counts().await,
        before,
        "an unauthenticated request writes nothing"
    );
}

async fn a_nonce_is_used_once_per_institution(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let raw = app.signed_raw(paths::ACCOUNT_QUERY, BODY);
    let nonce = header(&raw, "nonce").to_owned();
    expect(&app, raw.clone(), "3001", 200).await;
    let before = app.row_counts().await;
    expect(&app, raw, "1004", 401).await;
    // The same nonce on a different, correctly signed body is still a replay.
    let body = br#"{"institution_id":"INST0001","account_no":"8000000000000029"}"#;
    let mut raw = app.signed_raw(paths::ACCOUNT_QUERY, body);
    set_header(&mut raw, "nonce", Some(&nonce));
    expect(&app, raw, "1004", 401).await;
    assert_eq!(app.row_counts().await, before);
}

async fn a_replayed_refused_request_is_a_replay_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let raw = app.signed_raw(paths::ACCOUNT_QUERY, b"not json");
    expect(&app, raw.clone(), "2001", 400).await;
    expect(&app, raw, "1004", 401).await;
}

async fn institution_id_in_body_must_match_the_header(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.row_counts().await;
    let body = br#"{"institution_id":"INST0002","account_no":"8000000000000011"}"#;
    let reply = expect(
        &app,
        app.signed_raw(paths::ACCOUNT_QUERY, body),
        "1006",
        401,
    )
    .await;
    assert!(reply.envelope.unwrap().ret_msg.contains("institution_id"));
    assert_eq!(
        without_nonces(app.row_counts().await),
        without_nonces(before)
    );
}

async fn malformed_bodies_answer_2001_to_2003_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = without_nonces(app.row_counts().await);
    let cases: &[(&str, &[u8], &str, &str)] = &[
        (paths::ACCOUNT_QUERY, b"not json", "2001", ""),
        (paths::ACCOUNT_QUERY, b"[1,2]", "2001", ""),
        (paths::ACCOUNT_QUERY, b"", "2001", ""),
        (paths::ACCOUNT_QUERY, br#"{"institution_id":"INST0001"}"#, "2002", "account_no"),
        (paths::ACCOUNT_QUERY, br#"{"account_no":"8000000000000011"}"#, "2002", "institution_id"),
        (paths::ACCOUNT_QUERY, br#"{"institution_id":"INST0001","account_no":"8000000000000012"}"#, "2003", "account_no"),
        (paths::ACCOUNT_QUERY, br#"{"institution_id":"INST0001","account_no":8000000000000011}"#, "2003", "account_no"),
        (
            paths::RECHARGE_APPLY,
            br#"{"institution_id":"INST0001","out_order_no":"R1","account_no":"8000000000000011","amount":"1e2","currency":"CNY"}"#,
            "2003",
            "amount",
        ),
        (
            paths::RECHARGE_APPLY,
            br#"{"institution_id":"INST0001","out_order_no":"R1","account_no":"8000000000000011","amount":"100.001","currency":"CNY"}"#,
            "2003",
            "amount",
        ),
        (
            paths::RECHARGE_APPLY,
            br#"{"institution_id":"INST0001","out_order_no":"R 1","account_no":"8000000000000011","amount":"1.00","currency":"CNY"}"#,
            "2003",
            "out_order_no",
        ),
        (
            paths::WITHDRAW_CONFIRM,
            br#"{"institution_id":"INST0001","out_order_no":"W1","account_no":"8000000000000011","amount":"1.00","currency":"CNY","target_currency":"USD","branch_info":{"branch_no":"B1","branch_name":"x"}}"#,
            "2002",
            "branch_info.branch_address",
        ),
    ];
    for (path, body, code, field) in cases {
        let reply = expect(&app, app.signed_raw(path, body), code, 400).await;
        let msg = reply.envelope.unwrap().ret_msg;
        assert!(
            msg.contains(field),
            "{code} for {} should name {field}: {msg}",
            String::from_utf8_lossy(body)
        );
    }
    assert_eq!(
        without_nonces(app.row_counts().await),
        before,
        "refused bodies create nothing"
    );
}

async fn a_body_over_64_kib_answers_2004_with_413_before_anything_else(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.row_counts().await;
    let mut body =
        br#"{"institution_id":"INST0001","account_no":"8000000000000011","remark":""#.to_vec();
    body.resize(64 * 1024 + 1 - 2, b'x');
    body.extend_from_slice(b"\"}");
    assert_eq!(body.len(), 64 * 1024 + 1);
    expect(
        &app,
        app.signed_raw(paths::ACCOUNT_QUERY, &body),
        "2004",
        413,
    )
    .await;
    // Even without any auth header: size comes first.
    let raw = RawRequest {
        path: paths::ACCOUNT_QUERY.into(),
        body: body.clone(),
        headers: vec![],
    };
    expect(&app, raw, "2004", 413).await;
    // Exactly 64 KiB is read (and then refused for what it is, not its size).
    body.truncate(64 * 1024 - 2);
    body.extend_from_slice(b"\"}");
    expect(
        &app,
        app.signed_raw(paths::ACCOUNT_QUERY, &body),
        "3001",
        200,
    )
    .await;
    assert_eq!(
        without_nonces(app.row_counts().await),
        without_nonces(before)
    );
}

async fn unknown_api_paths_get_a_signed_envelope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let reply = app
        .client
        .send_raw(app.signed_raw("/api/v1/nothing", BODY))
        .await
        .unwrap();
    assert!(reply.signature_ok);
    assert_eq!(reply.envelope.unwrap().ret_code, "2003");
    // Every API is POST: another method is refused in a signed envelope too.
    let response = reqwest::get(format!("{}{}", app.base_url, paths::ACCOUNT_QUERY))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap();
    let auth =
        freewalker_protocol::headers::parse(|n| headers.get(n).and_then(|v| v.to_str().ok()))
            .unwrap();
    auth.verify(app.client.wallet_key(), &body).unwrap();
    assert_eq!(auth.institution_id, "unknown");
    assert!(String::from_utf8_lossy(&body).contains("POST"));
}

async fn sm2_institutions_are_authenticated_with_sm2(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let reply = app.user_sync(&app.sm2_client, "sm2-user", "SM2DOC1").await;
    assert_eq!(reply.ret_code(), "0000", "{:?}", reply.envelope);
}

/// Arbitrary bytes and headers never produce a 500 or a panic, and never an unsigned answer.
async fn garbage_never_gets_a_500(backend: Backend) {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let app = TestApp::spawn(backend).await;
    let mut runner = TestRunner::deterministic();
    let bodies = proptest::collection::vec(any::<u8>(), 0..300);
    let json_bodies = proptest::string::string_regex(r#"\{"institution_id":"INST0001"(,"[a-z_]{1,12}":("[ -~]{0,20}"|-?[0-9]{1,5}|null|\[\]|\{\}|true)){0,8}\}"#).unwrap();
    let paths_all = [
        paths::USER_SYNC,
        paths::CUSTOMER_SYNC,
        paths::ACCOUNT_QUERY,
        paths::RECHARGE_APPLY,
        paths::RECHARGE_QUERY,
        paths::WITHDRAW_CONFIRM,
        paths::WITHDRAW_QUERY,
    ];
    for i in 0..140 {
        let body = if i % 2 == 0 {
            bodies.new_tree(&mut runner).unwrap().current()
        } else {
            json_bodies
                .new_tree(&mut runner)
                .unwrap()
                .current()
                .into_bytes()
        };
        let path = paths_all[i % paths_all.len()];
        let reply = app
            .client
            .send_raw(app.signed_raw(path, &body))
            .await
            .unwrap();
        assert!(
            reply.status < 500,
            "{path} {:?} -> {}",
            String::from_utf8_lossy(&body),
            reply.status
        );
        assert!(reply.signature_ok);
    }
    app.assert_ledger_clean().await;
}

crate::on_both_backends!(
    a_well_signed_request_is_answered_and_signed,
    header_problems_answer_1001_and_store_nothing,
    unknown_or_disabled_institutions_answer_1005,
    the_timestamp_window_is_300_seconds_either_way,
    a_signature_that_does_not_verify_answers_1002,
    a_nonce_is_used_once_per_institution,
    a_replayed_refused_request_is_a_replay_too,
    institution_id_in_body_must_match_the_header,
    malformed_bodies_answer_2001_to_2003_naming_the_field,
    a_body_over_64_kib_answers_2004_with_413_before_anything_else,
    unknown_api_paths_get_a_signed_envelope,
    sm2_institutions_are_authenticated_with_sm2,
    garbage_never_gets_a_500
);
