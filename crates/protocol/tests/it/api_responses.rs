//! Responses (§1, §4) and the withdraw result notification (§4.8) as they serialise.

use freewalker_protocol::RetCode;
use freewalker_protocol::api::{
    AccountData, BranchInfo, CustomerSyncData, Envelope, KycLevel, LimitExceededData, LimitKind,
    LimitsView, NotificationAck, OrderStatus, PayMethod, RechargeOrderData, UserStatus,
    UserSyncData, WITHDRAW_RESULT_TOPIC, WithdrawOrderData, WithdrawResultData,
    WithdrawResultNotification,
};
use freewalker_protocol::fields::{FieldError, RequestError};
use serde_json::json;

fn branch() -> BranchInfo {
    BranchInfo {
        branch_no: "BR001".into(),
        branch_name: "浦东机场网点".into(),
        branch_address: "上海市浦东新区机场大道".into(),
    }
}

fn limits(remaining: bool) -> LimitsView {
    LimitsView {
        single_recharge: "50000.00".into(),
        daily_recharge: "100000.00".into(),
        yearly_recharge: "500000.00".into(),
        balance_max: "500000.00".into(),
        single_withdraw: "50000.00".into(),
        daily_recharge_remaining: remaining.then(|| "99900.00".into()),
        yearly_recharge_remaining: remaining.then(|| "499900.00".into()),
        balance_remaining: remaining.then(|| "499900.00".into()),
    }
}

fn notification(status: OrderStatus) -> WithdrawResultNotification {
    WithdrawResultNotification::new(
        "INST0001",
        WithdrawResultData {
            out_order_no: "W20261126000001".into(),
            order_no: "W2026112600000001".into(),
            account_no: "8000000000000011".into(),
            amount: "50.00".into(),
            currency: "CNY".into(),
            target_amount: "6.96".into(),
            target_currency: "USD".into(),
            branch_info: branch(),
            order_status: status,
            success_time: if status == OrderStatus::Success {
                "2026-11-26 14:55:00".into()
            } else {
                String::new()
            },
            exchange_rate: "718.25".into(),
            fail_reason: if status == OrderStatus::Fail {
                "branch closed".into()
            } else {
                String::new()
            },
        },
    )
}

#[test]
fn the_notification_keeps_the_seed_order_then_the_extensions() {
    let body = notification(OrderStatus::Success).to_json();
    let expected = concat!(
        r#"{"institution_id":"INST0001","topic":"freewalker.withdraw.result","data":{"#,
        r#""out_order_no":"W20261126000001","order_no":"W2026112600000001","#,
        r#""account_no":"8000000000000011","amount":"50.00","currency":"CNY","#,
        r#""target_amount":"6.96","target_currency":"USD","#,
        r#""branch_info":{"branch_no":"BR001","branch_name":"浦东机场网点","branch_address":"上海市浦东新区机场大道"},"#,
        r#""order_status":"SUCCESS","success_time":"2026-11-26 14:55:00","#,
        r#""exchange_rate":"718.25","fail_reason":""}}"#
    );
    assert_eq!(std::str::from_utf8(&body).unwrap(), expected);
    // serde gives the same order, so either way of writing it is safe.
    assert_eq!(
        serde_json::to_vec(&notification(OrderStatus::Success)).unwrap(),
        body
    );
}

#[test]
fn the_notification_parses_back_on_the_institution_side() {
    for status in [OrderStatus::Success, OrderStatus::Fail] {
        let sent = notification(status);
        let received = WithdrawResultNotification::from_json(&sent.to_json()).unwrap();
        assert_eq!(received, sent);
        assert_eq!(received.topic, WITHDRAW_RESULT_TOPIC);
    }
    // The seed's own example shape, without the extension fields.
    let seed = json!({
        "institution_id": "INST0001",
        "topic": "freewalker.withdraw.result",
        "data": {
            "out_order_no": "W1", "order_no": "W2", "account_no": "8000000000000011",
            "amount": "50.00", "currency": "CNY", "target_amount": "6.96",
            "target_currency": "USD",
            "branch_info": {"branch_no": "B", "branch_name": "N", "branch_address": "A"},
            "order_status": "FAIL", "success_time": ""
        }
    });
    let parsed =
        WithdrawResultNotification::from_json(&serde_json::to_vec(&seed).unwrap()).unwrap();
    assert_eq!(parsed.data.order_status, OrderStatus::Fail);
    assert_eq!(parsed.data.exchange_rate, "");

    let mut wrong_topic = seed.clone();
    wrong_topic["topic"] = json!("freewalker.recharge.result");
    let err = WithdrawResultNotification::from_json(&serde_json::to_vec(&wrong_topic).unwrap())
        .unwrap_err();
    assert_eq!(err.ret_code(), RetCode::InvalidField);
    let mut no_branch = seed;
    no_branch["data"]["branch_info"]
        .as_object_mut()
        .unwrap()
        .remove("branch_no");
    assert_eq!(
        WithdrawResultNotification::from_json(&serde_json::to_vec(&no_branch).unwrap())
            .unwrap_err(),
        RequestError::Field(FieldError::missing("data.branch_info.branch_no"))
    );
}

#[test]
fn the_ack_is_0000() {
    let ack = NotificationAck::success();
    assert!(ack.is_success());
    assert_eq!(
        ack.to_json(),
        br#"{"ret_code":"0000","ret_msg":"Accepted."}"#
    );
    let parsed = NotificationAck::from_json(br#"{"ret_code":"0000"}"#).unwrap();
    assert!(parsed.is_success());
    let refused = NotificationAck::from_json(br#"{"ret_code":"9999","ret_msg":"busy"}"#).unwrap();
    assert!(!refused.is_success());
    assert!(NotificationAck::from_json(b"OK").is_err());
    assert!(NotificationAck::from_json(br#"{"ret_msg":"ok"}"#).is_err());
    assert!(NotificationAck::from_json(br#"{"ret_code":0}"#).is_err());
}

#[test]
fn envelopes_put_ret_code_ret_msg_then_data() {
    let data = UserSyncData {
        account_no: "8000000000000011".into(),
        out_user_id: "U1".into(),
        user_status: UserStatus::Normal,
        kyc_level: KycLevel::L0,
        created: true,
    };
    let ok = Envelope::ok(&data);
    assert!(ok.is_success());
    assert_eq!(ok.code(), Some(RetCode::Success));
    assert_eq!(
        std::str::from_utf8(&ok.to_json()).unwrap(),
        r#"{"ret_code":"0000","ret_msg":"Accepted.","data":{"account_no":"8000000000000011","out_user_id":"U1","user_status":"NORMAL","kyc_level":"L0","created":true}}"#
    );
    let back = Envelope::from_json(&ok.to_json()).unwrap();
    assert_eq!(back.data_as::<UserSyncData>().unwrap(), data);

    let error = Envelope::error(RetCode::MissingField, "amount is required");
    assert_eq!(
        error.to_json(),
        br#"{"ret_code":"2002","ret_msg":"amount is required"}"#
    );
    assert!(
        Envelope::from_json(&error.to_json())
            .unwrap()
            .data
            .is_none()
    );

    let request_error = RequestError::Field(FieldError::invalid("amount", "must be a string"));
    let answered = Envelope::from_request_error(&request_error);
    assert_eq!(answered.ret_code, "2003");
    assert_eq!(answered.ret_msg, "amount is invalid: must be a string");
}

#[test]
fn a_3004_names_the_limit() {
    let data = LimitExceededData {
        limit: LimitKind::RechargeDaily,
        limit_amount: "5000.00".into(),
        used_amount: "4900.00".into(),
        remaining_amount: "100.00".into(),
    };
    let envelope = Envelope::limit_exceeded("recharge_daily limit exceeded", &data);
    assert_eq!(envelope.code(), Some(RetCode::LimitExceeded));
    assert_eq!(
        std::str::from_utf8(&envelope.to_json()).unwrap(),
        r#"{"ret_code":"3004","ret_msg":"recharge_daily limit exceeded","data":{"limit":"recharge_daily","limit_amount":"5000.00","used_amount":"4900.00","remaining_amount":"100.00"}}"#
    );
    assert_eq!(envelope.data_as::<LimitExceededData>().unwrap(), data);
}

#[test]
fn order_data_fields_follow_the_spec() {
    let recharge = RechargeOrderData {
        out_order_no: "R1".into(),
        order_no: "R2".into(),
        account_no: "8000000000000011".into(),
        amount: "100.00".into(),
        currency: "CNY".into(),
        order_status: OrderStatus::Success,
        create_time: "2026-11-26 14:50:22".into(),
        success_time: "2026-11-26 14:50:22".into(),
        available_balance: "100.00".into(),
        pay_amount: None,
        pay_currency: None,
        pay_method: None,
        remark: None,
    };
    assert_eq!(
        serde_json::to_string(&recharge).unwrap(),
        r#"{"out_order_no":"R1","order_no":"R2","account_no":"8000000000000011","amount":"100.00","currency":"CNY","order_status":"SUCCESS","create_time":"2026-11-26 14:50:22","success_time":"2026-11-26 14:50:22","available_balance":"100.00"}"#
    );
    let queried = RechargeOrderData {
        pay_amount: Some("13.92".into()),
        pay_currency: Some("USD".into()),
        pay_method: Some(PayMethod::Cash),
        ..recharge.clone()
    };
    let text = serde_json::to_string(&queried).unwrap();
    assert!(text.ends_with(r#""available_balance":"100.00","pay_amount":"13.92","pay_currency":"USD","pay_method":"CASH"}"#));
    // A client reading a 4.3 answer (no payment fields) gets `None`s.
    let back: RechargeOrderData =
        serde_json::from_value(serde_json::to_value(&recharge).unwrap()).unwrap();
    assert_eq!(back, recharge);

    let withdraw = WithdrawOrderData {
        out_order_no: "W1".into(),
        order_no: "W2".into(),
        account_no: "8000000000000011".into(),
        amount: "50.00".into(),
        currency: "CNY".into(),
        target_amount: "6.96".into(),
        target_currency: "USD".into(),
        exchange_rate: "718.25".into(),
        branch_info: branch(),
        order_status: OrderStatus::Init,
        create_time: "2026-11-26 14:50:22".into(),
        success_time: String::new(),
        fail_reason: String::new(),
    };
    let value = serde_json::to_string(&withdraw).unwrap();
    let keys = [
        "out_order_no",
        "order_no",
        "account_no",
        "amount",
        "currency",
        "target_amount",
        "target_currency",
        "exchange_rate",
        "branch_info",
        "order_status",
        "create_time",
        "success_time",
        "fail_reason",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| value.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(positions.is_sorted(), "{value}");
}

#[test]
fn account_and_customer_data_show_limits() {
    let account = AccountData {
        account_no: "8000000000000011".into(),
        user_status: UserStatus::Frozen,
        kyc_level: KycLevel::L2,
        currency: "CNY".into(),
        available_balance: "100.00".into(),
        frozen_balance: "0.00".into(),
        limits: limits(true),
    };
    let text = serde_json::to_string(&account).unwrap();
    assert!(text.starts_with(r#"{"account_no":"8000000000000011","user_status":"FROZEN","kyc_level":"L2","currency":"CNY","available_balance":"100.00","frozen_balance":"0.00","limits":{"single_recharge":"50000.00","#));
    assert!(text.contains(r#""single_withdraw":"50000.00","daily_recharge_remaining":"99900.00","yearly_recharge_remaining":"499900.00","balance_remaining":"499900.00"}"#));

    let customer = CustomerSyncData {
        account_no: "8000000000000011".into(),
        kyc_level: KycLevel::L1,
        limits: limits(false),
    };
    let text = serde_json::to_string(&customer).unwrap();
    assert!(!text.contains("remaining"));
    let back: CustomerSyncData = serde_json::from_str(&text).unwrap();
    assert_eq!(back, customer);
}

#[test]
fn envelopes_from_clients_parse_leniently() {
    let e = Envelope::from_json(br#"{"ret_code":"0000","data":null,"extra":1}"#).unwrap();
    assert!(e.is_success() && e.data.is_none() && e.ret_msg.is_empty());
    assert_eq!(
        Envelope::from_json(br#"{"ret_msg":"x"}"#).unwrap_err(),
        RequestError::Field(FieldError::missing("ret_code"))
    );
    assert_eq!(
        Envelope::from_json(b"[]").unwrap_err(),
        RequestError::NotObject
    );
    let unknown = Envelope::from_json(br#"{"ret_code":"7777","ret_msg":"?"}"#).unwrap();
    assert_eq!(unknown.code(), None);
}
