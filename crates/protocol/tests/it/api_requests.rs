//! The typed requests of §4: each accepts a full valid example and round-trips through
//! `to_json`; each required field missing is `2002` naming it; each bad value is `2003` naming it;
//! a body that is not a JSON object is `2001`.

use freewalker_protocol::RetCode;
use freewalker_protocol::amount::Money;
use freewalker_protocol::api::{
    AccountNo, AccountQueryRequest, ApiRequest, BranchInfo, CustomerSyncRequest, Gender, IdType,
    KycLevel, OrderQuery, PayMethod, RechargeApplyRequest, Sealed, UserSyncRequest,
    WithdrawConfirmRequest,
};
use freewalker_protocol::currency::Currency;
use freewalker_protocol::envelope::EnvelopeKey;
use freewalker_protocol::fields::{FieldError, RequestError};
use serde_json::{Value, json};
use std::fmt::Debug;
use time::macros::date;

const SIGNATURE_VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/signature_vectors.json"
));

fn key() -> EnvelopeKey {
    EnvelopeKey::from_bytes([0x11; 32])
}

fn user_sync_example() -> Value {
    json!({
        "institution_id": "INST0001",
        "out_user_id": "U-20261126_001",
        "name": "JOHN SMITH",
        "nationality": "USA",
        "id_type": "PASSPORT",
        "id_no": key().encrypt_field("E12345678").unwrap(),
        "id_expiry_date": "2030-05-31",
        "birth_date": "1990-01-15",
        "gender": "M",
        "mobile": key().encrypt_field("+14155550100").unwrap(),
        "email": "john.smith@example.com"
    })
}

fn customer_sync_example() -> Value {
    json!({
        "institution_id": "INST0001",
        "account_no": "8000000000000011",
        "kyc_level": "L2",
        "verified_time": "2026-11-26 14:50:22",
        "visa_type": "L",
        "visa_expiry_date": "2027-01-01",
        "entry_date": "2026-11-20",
        "address": key().encrypt_field("上海市浦东新区机场大道 1 号").unwrap(),
        "occupation": "Engineer"
    })
}

/// The example in the spec's field order, compact: what `to_json` must write back.
const RECHARGE_BODY: &str = r#"{"institution_id":"INST0001","out_order_no":"R20261126000001","account_no":"8000000000000011","amount":"100.00","currency":"CNY","pay_amount":"13.92","pay_currency":"USD","pay_method":"FOREIGN_CARD","remark":"top-up at the airport"}"#;

fn recharge_example() -> Value {
    serde_json::from_str(RECHARGE_BODY).unwrap()
}

/// The example in the spec's field order, compact: what `to_json` must write back.
const QUERY_BODY: &str = r#"{"institution_id":"INST0001","out_order_no":"R20261126000001","order_no":"R2026112600000001"}"#;

fn query_example() -> Value {
    serde_json::from_str(QUERY_BODY).unwrap()
}

/// The example in the spec's field order, compact: what `to_json` must write back.
const WITHDRAW_BODY: &str = r#"{"institution_id":"INST0001","out_order_no":"W20261126000001","account_no":"8000000000000011","amount":"50.00","currency":"CNY","target_currency":"USD","branch_info":{"branch_no":"BR001","branch_name":"浦东机场网点","branch_address":"上海市浦东新区机场大道"},"notify_url":"https://inst.example.com/freewalker/notify","remark":"leaving China"}"#;

fn withdraw_example() -> Value {
    serde_json::from_str(WITHDRAW_BODY).unwrap()
}

/// The example in the spec's field order, compact: what `to_json` must write back.
const ACCOUNT_BODY: &str = r#"{"institution_id":"INST0001","account_no":"8000000000000011"}"#;

fn account_example() -> Value {
    serde_json::from_str(ACCOUNT_BODY).unwrap()
}

/// `value` with the field at `path` (dotted) replaced, or removed when `replacement` is `None`.
fn edit(value: &Value, path: &str, replacement: Option<Value>) -> Vec<u8> {
    let mut value = value.clone();
    let mut target = &mut value;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        target = target.get_mut(*part).unwrap();
    }
    let object = target.as_object_mut().unwrap();
    let last = parts[parts.len() - 1];
    match replacement {
        Some(v) => {
            object.insert(last.to_owned(), v);
        }
        None => {
            object.remove(last);
        }
    }
    serde_json::to_vec(&value).unwrap()
}

fn parse<T: ApiRequest>(body: &[u8]) -> Result<T, RequestError> {
    T::from_json(body)
}

/// Absent, `null` and `""` at `path` are each `2002` naming `path`.
fn assert_required<T: ApiRequest + Debug>(example: &Value, path: &str) {
    for replacement in [None, Some(Value::Null), Some(json!(""))] {
        let body = edit(example, path, replacement.clone());
        let err = parse::<T>(&body).expect_err(path);
        assert_eq!(
            err,
            RequestError::Field(FieldError::missing(path)),
            "{path} = {replacement:?}"
        );
        assert_eq!(err.ret_code(), RetCode::MissingField);
        assert_eq!(err.to_string(), format!("{path} is required"));
    }
}

/// `value` at `path` is `2003` naming `path`.
fn assert_invalid<T: ApiRequest + Debug>(example: &Value, path: &str, value: Value) {
    let body = edit(example, path, Some(value.clone()));
    let err = parse::<T>(&body).expect_err(path);
    assert_eq!(
        err.ret_code(),
        RetCode::InvalidField,
        "{path} = {value}: {err}"
    );
    match &err {
        RequestError::Field(field) => assert_eq!(field.field(), path, "{path} = {value}"),
        other => panic!("{path} = {value}: {other:?}"),
    }
    assert!(err.to_string().starts_with(&format!("{path} is invalid: ")));
}

/// Optional fields given as `null` or `""` are simply absent.
fn assert_optional<T: ApiRequest + Debug + PartialEq>(example: &Value, path: &str) {
    let absent = parse::<T>(&edit(example, path, None)).unwrap();
    for replacement in [Value::Null, json!("")] {
        let parsed = parse::<T>(&edit(example, path, Some(replacement))).unwrap();
        assert_eq!(parsed, absent, "{path}");
    }
}

/// The example parses, and `to_json` then `from_json` gives the same value; `to_json` of the
/// compact example is the example itself, byte for byte.
fn assert_round_trip<T: ApiRequest + Debug + PartialEq>(example: &Value) -> T {
    let body = serde_json::to_vec(example).unwrap();
    let parsed = parse::<T>(&body).unwrap();
    let again = parse::<T>(&parsed.to_json()).unwrap();
    assert_eq!(again, parsed);
    assert_eq!(parsed.institution_id(), "INST0001");
    parsed
}

fn assert_not_objects<T: ApiRequest + Debug>() {
    for body in [
        &b""[..],
        b"[]",
        b"[{}]",
        b"\"text\"",
        b"42",
        b"null",
        b"{",
        b"\xff\xfe{}",
    ] {
        let err = parse::<T>(body).unwrap_err();
        assert_eq!(err.ret_code(), RetCode::InvalidJson, "{body:?}");
    }
    assert_eq!(parse::<T>(b"[1]").unwrap_err(), RequestError::NotObject);
    assert_eq!(parse::<T>(b"{\"a\":").unwrap_err(), RequestError::NotJson);
}

/// The keys appear in `text` in exactly this order (each once).
fn assert_key_order(body: &[u8], keys: &[&str]) {
    let text = std::str::from_utf8(body).unwrap();
    let positions: Vec<usize> = keys
        .iter()
        .map(|key| {
            let quoted = format!("\"{key}\":");
            assert_eq!(text.matches(&quoted).count(), 1, "{key} in {text}");
            text.find(&quoted).unwrap()
        })
        .collect();
    assert!(positions.is_sorted(), "{text}");
}

fn long(n: usize) -> Value {
    Value::String("x".repeat(n))
}

#[test]
fn user_sync() {
    let example = user_sync_example();
    let parsed: UserSyncRequest = assert_round_trip(&example);
    assert_eq!(parsed.out_user_id, "U-20261126_001");
    assert_eq!(parsed.id_type, IdType::Passport);
    assert_eq!(parsed.id_expiry_date, Some(date!(2030 - 05 - 31)));
    assert_eq!(parsed.birth_date, Some(date!(1990 - 01 - 15)));
    assert_eq!(parsed.gender, Some(Gender::M));
    assert_eq!(parsed.open_id_no(&key()).unwrap(), "E12345678");
    assert_eq!(
        parsed.open_mobile(&key()).unwrap().as_deref(),
        Some("+14155550100")
    );
    assert_key_order(
        &parsed.to_json(),
        &[
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
        ],
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&parsed.to_json()).unwrap(),
        example
    );

    for field in [
        "institution_id",
        "out_user_id",
        "name",
        "nationality",
        "id_type",
        "id_no",
    ] {
        assert_required::<UserSyncRequest>(&example, field);
    }
    for field in ["id_expiry_date", "birth_date", "gender", "mobile", "email"] {
        assert_optional::<UserSyncRequest>(&example, field);
    }
    let invalid: &[(&str, Value)] = &[
        ("institution_id", json!(123)),
        ("institution_id", json!("INST 0001")),
        ("institution_id", long(33)),
        ("out_user_id", json!("a/b")),
        ("out_user_id", long(65)),
        ("out_user_id", json!(["U1"])),
        ("name", long(129)),
        ("name", json!(42)),
        ("name", json!("JOHN\u{0}SMITH")),
        ("nationality", json!("usa")),
        ("nationality", json!("US")),
        ("nationality", json!("USAA")),
        ("id_type", json!("passport")),
        ("id_type", json!("ID_CARD")),
        ("id_no", json!(12345678)),
        ("id_no", long(10_000)),
        ("id_expiry_date", json!("2030-02-30")),
        ("id_expiry_date", json!("2030/05/31")),
        ("birth_date", json!(19_900_115)),
        ("gender", json!("male")),
        ("gender", json!("m")),
        ("mobile", json!(true)),
        ("email", json!("not-an-email")),
        ("email", json!("a@b")),
        ("email", json!(format!("{}@example.com", "x".repeat(120)))),
    ];
    for (field, value) in invalid {
        assert_invalid::<UserSyncRequest>(&example, field, value.clone());
    }
    assert_not_objects::<UserSyncRequest>();
}

#[test]
fn user_sync_sealed_fields_are_checked_when_opened() {
    let mut example = user_sync_example();
    example["id_no"] = json!(key().encrypt_field(&"9".repeat(65)).unwrap());
    example["mobile"] = json!(key().encrypt_field("4155550100").unwrap());
    let parsed = UserSyncRequest::from_json(&serde_json::to_vec(&example).unwrap()).unwrap();
    assert_eq!(
        parsed.open_id_no(&key()).unwrap_err(),
        FieldError::invalid("id_no", "longer than 64 characters")
    );
    let mobile = parsed.open_mobile(&key()).unwrap_err();
    assert_eq!(mobile.field(), "mobile");
    assert_eq!(mobile.ret_code(), RetCode::InvalidField);

    let other = EnvelopeKey::from_bytes([0x22; 32]);
    assert_eq!(
        parsed.open_id_no(&other).unwrap_err().to_string(),
        "id_no is invalid: does not decrypt"
    );
}

#[test]
fn customer_sync() {
    let example = customer_sync_example();
    let parsed: CustomerSyncRequest = assert_round_trip(&example);
    assert_eq!(parsed.kyc_level, KycLevel::L2);
    assert_eq!(parsed.verified_time, 1_795_675_822);
    assert_eq!(parsed.entry_date, Some(date!(2026 - 11 - 20)));
    assert_eq!(
        parsed.open_address(&key()).unwrap().as_deref(),
        Some("上海市浦东新区机场大道 1 号")
    );
    assert_key_order(
        &parsed.to_json(),
        &[
            "institution_id",
            "account_no",
            "kyc_level",
            "verified_time",
            "visa_type",
            "visa_expiry_date",
            "entry_date",
            "address",
            "occupation",
        ],
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&parsed.to_json()).unwrap(),
        example
    );

    for field in ["institution_id", "account_no", "kyc_level", "verified_time"] {
        assert_required::<CustomerSyncRequest>(&example, field);
    }
    for field in [
        "visa_type",
        "visa_expiry_date",
        "entry_date",
        "address",
        "occupation",
    ] {
        assert_optional::<CustomerSyncRequest>(&example, field);
    }
    let invalid: &[(&str, Value)] = &[
        ("account_no", json!("8000000000000012")),
        ("account_no", json!("800000000000001")),
        ("account_no", json!(8_000_000_000_000_011_u64)),
        ("kyc_level", json!("L0")),
        ("kyc_level", json!("L3")),
        ("kyc_level", json!("l1")),
        ("verified_time", json!("2026-11-26")),
        ("verified_time", json!("2026-11-26 25:00:00")),
        ("verified_time", json!("20261126145022")),
        ("visa_type", long(17)),
        ("visa_expiry_date", json!("bad")),
        ("entry_date", json!("2026-13-01")),
        ("address", json!(42)),
        ("occupation", long(65)),
    ];
    for (field, value) in invalid {
        assert_invalid::<CustomerSyncRequest>(&example, field, value.clone());
    }
    assert_not_objects::<CustomerSyncRequest>();
}

#[test]
fn recharge_apply() {
    let example = recharge_example();
    let parsed: RechargeApplyRequest = assert_round_trip(&example);
    assert_eq!(parsed.amount, 10_000);
    assert_eq!(parsed.currency, Currency::CNY);
    assert_eq!(parsed.pay_amount, Some(Money::new(1392, Currency::USD)));
    assert_eq!(parsed.pay_method, Some(PayMethod::ForeignCard));
    assert_eq!(parsed.to_json(), RECHARGE_BODY.as_bytes());

    for field in [
        "institution_id",
        "out_order_no",
        "account_no",
        "amount",
        "currency",
    ] {
        assert_required::<RechargeApplyRequest>(&example, field);
    }
    for field in ["pay_method", "remark"] {
        assert_optional::<RechargeApplyRequest>(&example, field);
    }
    let invalid: &[(&str, Value)] = &[
        ("out_order_no", json!("R 1")),
        ("account_no", json!("8000000000000012")),
        ("amount", json!("100.001")),
        ("amount", json!("-1.00")),
        ("amount", json!("0.00")),
        ("amount", json!("1e2")),
        ("amount", json!("007.00")),
        ("amount", json!("1000000000.01")),
        ("amount", json!(100)),
        ("amount", json!(100.5)),
        ("currency", json!("USD")),
        ("currency", json!("cny")),
        ("pay_amount", json!("13.925")),
        ("pay_amount", json!(13.92)),
        ("pay_currency", json!("XXX")),
        ("pay_currency", json!("usd")),
        ("pay_method", json!("CARD")),
        ("remark", long(257)),
    ];
    for (field, value) in invalid {
        assert_invalid::<RechargeApplyRequest>(&example, field, value.clone());
    }
    let amount = edit(&example, "amount", Some(json!("100.001")));
    assert_eq!(
        RechargeApplyRequest::from_json(&amount)
            .unwrap_err()
            .to_string(),
        "amount is invalid: more than 2 decimals for CNY"
    );
    let currency = edit(&example, "currency", Some(json!("USD")));
    assert_eq!(
        RechargeApplyRequest::from_json(&currency)
            .unwrap_err()
            .to_string(),
        "currency is invalid: must be CNY"
    );
    assert_not_objects::<RechargeApplyRequest>();
}

#[test]
fn recharge_pay_amount_follows_its_currency() {
    let mut example = recharge_example();
    example["pay_currency"] = json!("JPY");
    example["pay_amount"] = json!("1500");
    let parsed = RechargeApplyRequest::from_json(&serde_json::to_vec(&example).unwrap()).unwrap();
    assert_eq!(parsed.pay_amount, Some(Money::new(1500, Currency::JPY)));
    assert_invalid::<RechargeApplyRequest>(&example, "pay_amount", json!("1500.5"));

    example["pay_currency"] = json!("KWD");
    example["pay_amount"] = json!("1.250");
    let parsed = RechargeApplyRequest::from_json(&serde_json::to_vec(&example).unwrap()).unwrap();
    assert_eq!(parsed.pay_amount, Some(Money::new(1250, Currency::KWD)));

    // Each of the pair without the other names the missing partner.
    let example = recharge_example();
    let without_currency = edit(&example, "pay_currency", None);
    let err = RechargeApplyRequest::from_json(&without_currency).unwrap_err();
    assert_eq!(err.ret_code(), RetCode::InvalidField);
    assert_eq!(
        err.to_string(),
        "pay_currency is invalid: is required with pay_amount"
    );
    let without_amount = edit(&example, "pay_amount", None);
    let err = RechargeApplyRequest::from_json(&without_amount).unwrap_err();
    assert_eq!(
        err.to_string(),
        "pay_amount is invalid: is required with pay_currency"
    );
    let neither = edit(&edit_value(&example, "pay_amount"), "pay_currency", None);
    let parsed = RechargeApplyRequest::from_json(&neither).unwrap();
    assert_eq!(parsed.pay_amount, None);
}

fn edit_value(value: &Value, remove: &str) -> Value {
    let mut value = value.clone();
    value.as_object_mut().unwrap().remove(remove);
    value
}

#[test]
fn recharge_vector_body_re_serialises_byte_for_byte() {
    let doc: Value = serde_json::from_str(SIGNATURE_VECTORS).unwrap();
    let body = doc["cases"][0]["body"].as_str().unwrap();
    let parsed = RechargeApplyRequest::from_json(body.as_bytes()).unwrap();
    assert_eq!(parsed.to_json(), body.as_bytes());
}

#[test]
fn order_query() {
    let example = query_example();
    let parsed: OrderQuery = assert_round_trip(&example);
    assert_eq!(parsed.out_order_no.as_deref(), Some("R20261126000001"));
    assert_eq!(parsed.order_no.as_deref(), Some("R2026112600000001"));
    assert_eq!(parsed.to_json(), QUERY_BODY.as_bytes());

    assert_required::<OrderQuery>(&example, "institution_id");
    let only_out = OrderQuery::from_json(&edit(&example, "order_no", None)).unwrap();
    assert_eq!(only_out.order_no, None);
    let only_ours =
        OrderQuery::from_json(&edit(&example, "out_order_no", Some(json!("")))).unwrap();
    assert_eq!(only_ours.out_order_no, None);
    let neither = json!({"institution_id": "INST0001", "order_no": null});
    let err = OrderQuery::from_json(&serde_json::to_vec(&neither).unwrap()).unwrap_err();
    assert_eq!(err.ret_code(), RetCode::MissingField);
    assert_eq!(err.to_string(), "out_order_no or order_no is required");

    let invalid: &[(&str, Value)] = &[
        ("order_no", json!("R-1")),
        ("order_no", long(33)),
        ("order_no", json!(1)),
        ("out_order_no", json!("x y")),
        ("out_order_no", long(65)),
    ];
    for (field, value) in invalid {
        assert_invalid::<OrderQuery>(&example, field, value.clone());
    }
    assert_not_objects::<OrderQuery>();
}

#[test]
fn withdraw_confirm() {
    let example = withdraw_example();
    let parsed: WithdrawConfirmRequest = assert_round_trip(&example);
    assert_eq!(parsed.amount, 5_000);
    assert_eq!(parsed.target_currency, Currency::USD);
    assert_eq!(
        parsed.branch_info,
        BranchInfo {
            branch_no: "BR001".into(),
            branch_name: "浦东机场网点".into(),
            branch_address: "上海市浦东新区机场大道".into(),
        }
    );
    assert_eq!(parsed.to_json(), WITHDRAW_BODY.as_bytes());

    for field in [
        "institution_id",
        "out_order_no",
        "account_no",
        "amount",
        "currency",
        "target_currency",
        "branch_info",
        "branch_info.branch_no",
        "branch_info.branch_name",
        "branch_info.branch_address",
    ] {
        assert_required::<WithdrawConfirmRequest>(&example, field);
    }
    for field in ["notify_url", "remark"] {
        assert_optional::<WithdrawConfirmRequest>(&example, field);
    }
    let invalid: &[(&str, Value)] = &[
        ("amount", json!("50.005")),
        ("amount", json!(".5")),
        ("currency", json!("USD")),
        ("target_currency", json!("XYZ")),
        ("target_currency", json!("usd")),
        ("target_currency", json!(840)),
        ("branch_info", json!("BR001")),
        ("branch_info", json!(["BR001"])),
        ("branch_info.branch_no", long(33)),
        ("branch_info.branch_no", json!(1)),
        ("branch_info.branch_name", long(129)),
        ("branch_info.branch_address", long(257)),
        ("notify_url", json!("ftp://inst.example.com/notify")),
        ("notify_url", json!("https://")),
        ("notify_url", json!("https:///path")),
        ("notify_url", json!("https://inst.example.com/a b")),
        ("notify_url", json!("inst.example.com/notify")),
        ("notify_url", json!(format!("https://{}", "x".repeat(510)))),
        ("remark", long(257)),
    ];
    for (field, value) in invalid {
        assert_invalid::<WithdrawConfirmRequest>(&example, field, value.clone());
    }
    // The CJK branch fields are counted in characters: 128 of them pass, though they are 384 bytes.
    let cjk = edit(
        &example,
        "branch_info.branch_name",
        Some(json!("网".repeat(128))),
    );
    assert!(WithdrawConfirmRequest::from_json(&cjk).is_ok());
    assert_not_objects::<WithdrawConfirmRequest>();
}

#[test]
fn withdraw_vector_body_parses() {
    let doc: Value = serde_json::from_str(SIGNATURE_VECTORS).unwrap();
    let body = doc["cases"][1]["body"].as_str().unwrap();
    let parsed = WithdrawConfirmRequest::from_json(body.as_bytes()).unwrap();
    assert_eq!(parsed.branch_info.branch_name, "浦东机场网点");
    assert_eq!(parsed.target_currency, Currency::USD);
}

#[test]
fn account_query() {
    let example = account_example();
    let parsed: AccountQueryRequest = assert_round_trip(&example);
    assert_eq!(
        parsed.account_no,
        AccountNo::parse("8000000000000011").unwrap()
    );
    assert_eq!(parsed.to_json(), ACCOUNT_BODY.as_bytes());
    for field in ["institution_id", "account_no"] {
        assert_required::<AccountQueryRequest>(&example, field);
    }
    assert_invalid::<AccountQueryRequest>(&example, "account_no", json!("1234"));
    assert_not_objects::<AccountQueryRequest>();
}

#[test]
fn unknown_fields_are_ignored() {
    let mut example = account_example();
    example["future_field"] = json!({"nested": [1, 2, 3]});
    example["another"] = json!(null);
    let parsed = AccountQueryRequest::from_json(&serde_json::to_vec(&example).unwrap()).unwrap();
    assert_eq!(parsed.to_json(), ACCOUNT_BODY.as_bytes());
}

#[test]
fn fields_are_checked_in_table_order() {
    // Both `out_order_no` and `amount` are wrong: the earlier one in the table is reported.
    let mut example = recharge_example();
    example["out_order_no"] = json!("bad id");
    example["amount"] = json!("bad");
    let err = RechargeApplyRequest::from_json(&serde_json::to_vec(&example).unwrap()).unwrap_err();
    assert_eq!(err.to_string().split(' ').next(), Some("out_order_no"));
}

#[test]
fn to_json_omits_absent_optionals_and_escapes_text() {
    let request = WithdrawConfirmRequest {
        institution_id: "INST0001".into(),
        out_order_no: "W1".into(),
        account_no: AccountNo::parse("8000000000000011").unwrap(),
        amount: 5,
        currency: Currency::CNY,
        target_currency: Currency::JPY,
        branch_info: BranchInfo {
            branch_no: "B\"1\\".into(),
            branch_name: "网点".into(),
            branch_address: "line".into(),
        },
        notify_url: None,
        remark: None,
    };
    let body = request.to_json();
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        r#"{"institution_id":"INST0001","out_order_no":"W1","account_no":"8000000000000011","amount":"0.05","currency":"CNY","target_currency":"JPY","branch_info":{"branch_no":"B\"1\\","branch_name":"网点","branch_address":"line"}}"#
    );
    assert_eq!(WithdrawConfirmRequest::from_json(&body).unwrap(), request);

    let sealed = Sealed::seal(&key(), "E1").unwrap();
    let user = UserSyncRequest {
        institution_id: "INST0001".into(),
        out_user_id: "U1".into(),
        name: "A".into(),
        nationality: "JPN".into(),
        id_type: IdType::TaiwanPermit,
        id_no: sealed,
        id_expiry_date: None,
        birth_date: None,
        gender: None,
        mobile: None,
        email: None,
    };
    let text = String::from_utf8(user.to_json()).unwrap();
    assert!(text.ends_with(&format!("\"id_no\":\"{}\"}}", user.id_no.as_str())));
    assert_eq!(UserSyncRequest::from_json(text.as_bytes()).unwrap(), user);
}
