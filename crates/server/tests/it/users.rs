//! §4.1 user sync, §4.2 customer sync, §4.7 account query.

use freewalker_domain::Clock;
use freewalker_protocol::api::{
    AccountNo, AccountQueryRequest, CustomerSyncRequest, IdType, KycLevel, UserSyncRequest, paths,
};
use freewalker_sdk::client::SealedFields;

use crate::support::{Backend, INST, INST_OTHER, TestApp, fen};

async fn first_sync_creates_the_user_and_later_syncs_update_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let reply = app.user_sync(&app.client, "u-1", "E12345678").await;
    assert_eq!(reply.ret_code(), "0000");
    let data = reply.envelope.data.unwrap();
    let account_no = data["account_no"].as_str().unwrap().to_owned();
    assert_eq!(account_no.len(), 16);
    assert!(AccountNo::parse(&account_no).is_some(), "Luhn check digit");
    assert_eq!(data["created"], true);
    assert_eq!(data["kyc_level"], "L0");
    assert_eq!(data["user_status"], "NORMAL");
    assert_eq!(data["out_user_id"], "u-1");

    let again = app.user_sync(&app.client, "u-1", "E12345678").await;
    let data = again.envelope.data.unwrap();
    assert_eq!(data["created"], false);
    assert_eq!(data["account_no"], account_no.as_str());

    let other = app.user("u-2", "E999").await;
    assert_ne!(other, account_no, "account numbers are never shared");
}

async fn one_document_is_one_user_per_institution(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("u-1", "E12345678").await;
    let before = app.row_counts().await;
    let reply = app.user_sync(&app.client, "u-2", "E12345678").await;
    assert_eq!(reply.ret_code(), "3011");
    assert_eq!(reply.status, 200);
    // Case and spaces do not make another document.
    let reply = app.user_sync(&app.client, "u-3", " e12345678").await;
    assert_eq!(reply.ret_code(), "3011");
    let users = |c: &[(String, i64)]| c.iter().find(|(t, _)| t == "users").unwrap().1;
    assert_eq!(users(&app.row_counts().await), users(&before));
    // Another institution may register the same visitor.
    let reply = app.user_sync(&app.other_client, "u-2", "E12345678").await;
    assert_eq!(reply.ret_code(), "0000");
}

async fn sensitive_fields_are_encrypted_at_rest(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("u-1", "PASSPORT-XJ4471").await;
    // What the database holds, every column of every user as text.
    let rows = app.sql("SELECT * FROM users").await;
    let stored: String = rows
        .iter()
        .flatten()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join("|");
    assert!(
        stored.contains("ALICE EXAMPLE"),
        "the dump itself works (the name is not sensitive)"
    );
    assert!(
        !stored.contains("PASSPORT-XJ4471"),
        "document number stored in clear"
    );
    assert!(!stored.contains("+14155550100"), "mobile stored in clear");
    if backend == Backend::Sqlite {
        // And nowhere in the files, journal included.
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(app.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().contains("wallet.db") {
                seen.extend(std::fs::read(&path).unwrap());
            }
        }
        let contains = |needle: &[u8]| seen.windows(needle.len()).any(|w| w == needle);
        assert!(!contains(b"PASSPORT-XJ4471") && !contains(b"+14155550100"));
        assert!(contains(b"ALICE EXAMPLE"));
    }
}

async fn send_user_sync(
    app: &TestApp,
    env: Option<&SealedFields>,
    id_no: &str,
) -> (String, String) {
    let key_env = app.client.new_envelope().unwrap();
    let req = UserSyncRequest {
        institution_id: INST.into(),
        out_user_id: "u-x".into(),
        name: "BOB".into(),
        nationality: "GBR".into(),
        id_type: IdType::Passport,
        id_no: key_env.seal(id_no).unwrap(),
        id_expiry_date: None,
        birth_date: None,
        gender: None,
        mobile: None,
        email: None,
    };
    let reply = app.client.call(paths::USER_SYNC, &req, env).await.unwrap();
    (reply.envelope.ret_code, reply.envelope.ret_msg)
}

async fn a_sensitive_field_that_does_not_decrypt_answers_2003_naming_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (code, msg) = send_user_sync(&app, None, "E1").await;
    assert_eq!(code, "2003");
    assert!(
        msg.contains("id_no") && msg.contains("Encrypt-Key"),
        "{msg}"
    );
    // A different message's key: the field does not decrypt.
    let wrong = app.client.new_envelope().unwrap();
    let (code, msg) = send_user_sync(&app, Some(&wrong), "E1").await;
    assert_eq!(code, "2003");
    assert!(msg.contains("id_no"), "{msg}");
}

async fn customer_sync_raises_the_level_and_the_limits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account_no = app.user("u-1", "E1").await;
    let req = CustomerSyncRequest {
        institution_id: INST.into(),
        account_no: AccountNo::parse(&account_no).unwrap(),
        kyc_level: KycLevel::L2,
        verified_time: app.clock.now_secs(),
        visa_type: Some("L".into()),
        visa_expiry_date: None,
        entry_date: None,
        address: None,
        occupation: Some("engineer".into()),
    };
    let env = app.client.new_envelope().unwrap();
    let mut with_address = req.clone();
    with_address.address = Some(env.seal("上海市浦东新区世纪大道100号").unwrap());
    let reply = app
        .client
        .customer_sync(&with_address, Some(&env))
        .await
        .unwrap();
    assert_eq!(reply.ret_code(), "0000", "{:?}", reply.envelope);
    let data = reply.envelope.data.unwrap();
    assert_eq!(data["kyc_level"], "L2");
    assert_eq!(data["limits"]["single_recharge"], "50000.00");
    assert_eq!(data["limits"]["balance_max"], "500000.00");

    let q = AccountQueryRequest {
        institution_id: INST.into(),
        account_no: AccountNo::parse(&account_no).unwrap(),
    };
    let data = app
        .client
        .account_query(&q)
        .await
        .unwrap()
        .envelope
        .data
        .unwrap();
    assert_eq!(data["kyc_level"], "L2");
    assert_eq!(data["currency"], "CNY");
    assert_eq!(fen(data["available_balance"].as_str().unwrap()), 0);
    assert_eq!(fen(data["frozen_balance"].as_str().unwrap()), 0);
    assert_eq!(data["limits"]["daily_recharge_remaining"], "100000.00");
    assert_eq!(data["limits"]["yearly_recharge_remaining"], "500000.00");

    // An account of another institution looks exactly like a missing one.
    let mut foreign = req.clone();
    foreign.institution_id = INST_OTHER.into();
    let reply = app
        .other_client
        .customer_sync(&foreign, None)
        .await
        .unwrap();
    assert_eq!(reply.ret_code(), "3001");
    let q = AccountQueryRequest {
        institution_id: INST_OTHER.into(),
        account_no: AccountNo::parse(&account_no).unwrap(),
    };
    let foreign_reply = app.other_client.account_query(&q).await.unwrap();
    assert_eq!(foreign_reply.ret_code(), "3001");
    let missing = AccountQueryRequest {
        institution_id: INST_OTHER.into(),
        account_no: AccountNo::from_body_digits("800000000000009").unwrap(),
    };
    let missing_reply = app.other_client.account_query(&missing).await.unwrap();
    assert_eq!(missing_reply.status, foreign_reply.status);
    assert_eq!(
        missing_reply
            .envelope
            .ret_msg
            .replace(missing.account_no.as_str(), "X"),
        foreign_reply.envelope.ret_msg.replace(&account_no, "X")
    );
}

crate::on_both_backends!(
    first_sync_creates_the_user_and_later_syncs_update_it,
    one_document_is_one_user_per_institution,
    sensitive_fields_are_encrypted_at_rest,
    a_sensitive_field_that_does_not_decrypt_answers_2003_naming_it,
    customer_sync_raises_the_level_and_the_limits
);
