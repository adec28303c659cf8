//! `from_json` of every body type never panics, whatever arrives.

use freewalker_protocol::api::{
    AccountQueryRequest, CustomerSyncRequest, Envelope, NotificationAck, OrderQuery,
    RechargeApplyRequest, UserSyncRequest, WithdrawConfirmRequest, WithdrawResultNotification,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Every field name the APIs know, so that generated objects hit the validators, not only the
/// "missing" path.
const FIELD_NAMES: &[&str] = &[
    "institution_id",
    "out_user_id",
    "name",
    "nationality",
    "id_type",
    "id_no",
    "id_expiry_date",
    "birth_date",
    "gender",
    "mobile",
    "email",
    "account_no",
    "kyc_level",
    "verified_time",
    "visa_type",
    "visa_expiry_date",
    "entry_date",
    "address",
    "occupation",
    "out_order_no",
    "amount",
    "currency",
    "pay_amount",
    "pay_currency",
    "pay_method",
    "remark",
    "order_no",
    "target_currency",
    "branch_info",
    "branch_no",
    "branch_name",
    "branch_address",
    "notify_url",
    "topic",
    "data",
    "order_status",
    "success_time",
    "exchange_rate",
    "fail_reason",
    "target_amount",
    "ret_code",
    "ret_msg",
];

fn parse_all(body: &[u8]) {
    let _ = UserSyncRequest::from_json(body);
    let _ = CustomerSyncRequest::from_json(body);
    let _ = RechargeApplyRequest::from_json(body);
    let _ = OrderQuery::from_json(body);
    let _ = WithdrawConfirmRequest::from_json(body);
    let _ = AccountQueryRequest::from_json(body);
    let _ = WithdrawResultNotification::from_json(body);
    let _ = NotificationAck::from_json(body);
    let _ = Envelope::from_json(body);
}

/// Strings that look like the values the APIs expect, and some that almost do.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_-]{0,70}",
        "(0|[1-9][0-9]{0,11})(\\.[0-9]{0,4})?",
        "[0-9]{14,17}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?",
        prop::sample::select(vec![
            "CNY",
            "USD",
            "JPY",
            "KWD",
            "L0",
            "L1",
            "L2",
            "PASSPORT",
            "M",
            "CASH",
            "SUCCESS",
            "8000000000000011",
            "https://x.example/n",
            "freewalker.withdraw.result",
            "0000",
        ])
        .prop_map(str::to_owned),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..10)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(FIELD_NAMES).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn json_object() -> impl Strategy<Value = Value> {
    prop::collection::vec((field_name(), json_value()), 0..24)
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn from_json_never_panics_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_all(&body);
    }

    #[test]
    fn from_json_never_panics_on_arbitrary_objects(object in json_object()) {
        let body = serde_json::to_vec(&object).unwrap();
        parse_all(&body);
    }

    #[test]
    fn whatever_parses_round_trips(object in json_object()) {
        let body = serde_json::to_vec(&object).unwrap();
        if let Ok(request) = RechargeApplyRequest::from_json(&body) {
            prop_assert_eq!(RechargeApplyRequest::from_json(&request.to_json()), Ok(request));
        }
        if let Ok(request) = WithdrawConfirmRequest::from_json(&body) {
            prop_assert_eq!(WithdrawConfirmRequest::from_json(&request.to_json()), Ok(request));
        }
        if let Ok(request) = UserSyncRequest::from_json(&body) {
            prop_assert_eq!(UserSyncRequest::from_json(&request.to_json()), Ok(request));
        }
        if let Ok(request) = CustomerSyncRequest::from_json(&body) {
            prop_assert_eq!(CustomerSyncRequest::from_json(&request.to_json()), Ok(request));
        }
        if let Ok(request) = OrderQuery::from_json(&body) {
            prop_assert_eq!(OrderQuery::from_json(&request.to_json()), Ok(request));
        }
    }
}
