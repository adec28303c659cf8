//! The `freewalker-cli` binary, driven as an integrator drives it: against a small fake wallet
//! that checks what a real one checks (the institution's signature, the sensitive-field
//! envelope, the body) and answers signed envelopes; offline against the signature vectors of
//! `tests/vectors`; and as a notification receiver fed with notifications signed by the wallet.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use freewalker_protocol::api::{
    BranchInfo, CustomerSyncRequest, Envelope, KycLevel, OrderQuery, OrderStatus,
    RechargeApplyRequest, UserStatus, UserSyncData, UserSyncRequest, WithdrawConfirmRequest,
    WithdrawResultData, WithdrawResultNotification, paths,
};
use freewalker_protocol::envelope::{EnvelopeKey, EnvelopeOpener};
use freewalker_protocol::headers::{self, AuthHeaders};
use freewalker_protocol::retcode::RetCode;
use freewalker_protocol::signature::{SigningKey, VerifyingKey};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

const BIN: &str = env!("CARGO_BIN_EXE_freewalker-cli");
const INSTITUTION: &str = "INST0001";
/// The account the fake wallet issues (Luhn-valid, the vectors' account).
const ACCOUNT: &str = "8000000000000011";
/// Recharges above this many fen are refused by the fake with `3004`.
const FAKE_SINGLE_RECHARGE_MAX_FEN: i64 = 50_000 * 100;
/// How long a test waits for the receiver to print or start.
const WAIT: Duration = Duration::from_secs(20);

fn vector_path(name: &str) -> String {
    format!("{}/../../tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn read_vector(name: &str) -> String {
    std::fs::read_to_string(vector_path(name)).expect("test vectors are in the repository")
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

// ---------------------------------------------------------------------------------------------
// The fake wallet.

/// Which key signs the fake's answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Signer {
    /// `wallet_rsa_private.pem`: what the CLI trusts.
    Wallet,
    /// Another key (the institution's own): a man in the middle, or a wrong `--wallet-key`.
    Impostor,
}

/// One request the fake accepted as authentic, with the sensitive fields it opened.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    body: Vec<u8>,
    encrypt_key_header: bool,
    opened: Vec<(&'static str, String)>,
}

#[derive(Clone)]
struct Fake {
    institution_key: Arc<VerifyingKey>,
    wallet_key: Arc<SigningKey>,
    impostor_key: Arc<SigningKey>,
    opener: Arc<EnvelopeOpener>,
    signer: Signer,
    seen: Arc<Mutex<Vec<Seen>>>,
}

struct FakeWallet {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeWallet {
    async fn start(signer: Signer) -> FakeWallet {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let fake = Fake {
            institution_key: Arc::new(
                VerifyingKey::from_spki_pem(&read_vector("inst_rsa_public.pem")).unwrap(),
            ),
            wallet_key: Arc::new(
                SigningKey::from_pkcs8_pem(&read_vector("wallet_rsa_private.pem")).unwrap(),
            ),
            impostor_key: Arc::new(
                SigningKey::from_pkcs8_pem(&read_vector("inst_rsa_private.pem")).unwrap(),
            ),
            opener: Arc::new(
                EnvelopeOpener::from_pkcs8_pem(&read_vector("wallet_rsa_private.pem")).unwrap(),
            ),
            signer,
            seen: Arc::clone(&seen),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().fallback(handle).with_state(fake);
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeWallet { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The global options of an API call to this wallet.
    fn args<'a>(&'a self, rest: &[&'a str]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "--url".into(),
            self.url.clone(),
            "--institution-id".into(),
            INSTITUTION.into(),
            "--key".into(),
            vector_path("inst_rsa_private.pem"),
            "--wallet-key".into(),
            vector_path("wallet_rsa_public.pem"),
        ];
        args.extend(rest.iter().map(|s| (*s).to_owned()));
        args
    }
}

async fn handle(State(fake): State<Fake>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let envelope = fake.answer(uri.path(), &headers, &body);
    let status = envelope.code().map_or(500, RetCode::http_status);
    let bytes = envelope.to_json();
    let key = match fake.signer {
        Signer::Wallet => &fake.wallet_key,
        Signer::Impostor => &fake.impostor_key,
    };
    let signed = AuthHeaders::sign(key, &bytes, INSTITUTION, now_secs()).unwrap();
    let mut response = (StatusCode::from_u16(status).unwrap(), bytes).into_response();
    for (name, value) in signed.to_pairs() {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}

impl Fake {
    /// What a wallet checks, in the order of §2, then the body of each API.
    fn answer(&self, path: &str, headers: &HeaderMap, body: &[u8]) -> Envelope {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let auth = match headers::parse(get) {
            Ok(auth) => auth,
            Err(e) => return Envelope::error(RetCode::AuthHeader, e.to_string()),
        };
        if auth.institution_id != INSTITUTION {
            return Envelope::error(RetCode::UnknownInstitution, "unknown institution");
        }
        if !auth.timestamp_is_fresh(now_secs()) {
            return Envelope::error(RetCode::TimestampWindow, "timestamp outside the window");
        }
        if auth.verify(&self.institution_key, body).is_err() {
            return Envelope::error(RetCode::BadSignature, "signature does not verify");
        }
        if get("content-type") != Some("application/json; charset=utf-8") {
            return Envelope::error(RetCode::InvalidJson, "Content-Type must be JSON");
        }
        let envelope_key = match get(headers::ENCRYPT_KEY).map(|h| self.opener.unwrap(h)) {
            None => None,
            Some(Ok(key)) => Some(key),
            Some(Err(e)) => {
                return Envelope::error(RetCode::InvalidField, format!("Encrypt-Key: {e}"));
            }
        };
        let mut opened = Vec::new();
        let result = self.route(path, body, envelope_key.as_ref(), &mut opened);
        self.seen.lock().unwrap().push(Seen {
            path: path.to_owned(),
            body: body.to_vec(),
            encrypt_key_header: envelope_key.is_some(),
            opened,
        });
        result.unwrap_or_else(|envelope| envelope)
    }

    fn route(
        &self,
        path: &str,
        body: &[u8],
        key: Option<&EnvelopeKey>,
        opened: &mut Vec<(&'static str, String)>,
    ) -> Result<Envelope, Envelope> {
        let invalid =
            |e: &dyn std::fmt::Display| Envelope::error(RetCode::InvalidField, e.to_string());
        let need_key =
            || key.ok_or_else(|| Envelope::error(RetCode::MissingField, "Encrypt-Key is required"));
        match path {
            paths::USER_SYNC => {
                let request = UserSyncRequest::from_json(body)
                    .map_err(|e| Envelope::from_request_error(&e))?;
                let key = need_key()?;
                opened.push(("id_no", request.open_id_no(key).map_err(|e| invalid(&e))?));
                if let Some(mobile) = request.open_mobile(key).map_err(|e| invalid(&e))? {
                    opened.push(("mobile", mobile));
                }
                let data = UserSyncData {
                    account_no: ACCOUNT.to_owned(),
                    out_user_id: request.out_user_id,
                    user_status: UserStatus::Normal,
                    kyc_level: KycLevel::L0,
                    created: true,
                };
                Ok(Envelope::ok(data))
            }
            paths::CUSTOMER_SYNC => {
                let request = CustomerSyncRequest::from_json(body)
                    .map_err(|e| Envelope::from_request_error(&e))?;
                if request.address.is_some() {
                    let address = request.open_address(need_key()?).map_err(|e| invalid(&e))?;
                    opened.extend(address.map(|a| ("address", a)));
                }
                Ok(Envelope::ok(json!({
                    "account_no": request.account_no.as_str(),
                    "kyc_level": request.kyc_level,
                })))
            }
            paths::RECHARGE_APPLY => {
                let request = RechargeApplyRequest::from_json(body)
                    .map_err(|e| Envelope::from_request_error(&e))?;
                if request.amount > FAKE_SINGLE_RECHARGE_MAX_FEN {
                    return Err(Envelope::error(
                        RetCode::LimitExceeded,
                        "limit exceeded: recharge_single",
                    ));
                }
                Ok(Envelope::ok(json!({
                    "out_order_no": request.out_order_no,
                    "order_no": "R0000000000000001",
                    "account_no": request.account_no.as_str(),
                    "amount": freewalker_protocol::format_amount(request.amount, request.currency),
                    "currency": "CNY",
                    "order_status": "SUCCESS",
                })))
            }
            paths::WITHDRAW_CONFIRM => {
                let request = WithdrawConfirmRequest::from_json(body)
                    .map_err(|e| Envelope::from_request_error(&e))?;
                Ok(Envelope::ok(json!({
                    "out_order_no": request.out_order_no,
                    "order_no": "W0000000000000001",
                    "target_currency": request.target_currency.code(),
                    "branch_info": request.branch_info,
                    "order_status": "PROCESSING",
                })))
            }
            paths::RECHARGE_QUERY | paths::WITHDRAW_QUERY => {
                OrderQuery::from_json(body).map_err(|e| Envelope::from_request_error(&e))?;
                Err(Envelope::error(RetCode::OrderNotFound, "order not found"))
            }
            paths::ACCOUNT_QUERY => Ok(Envelope::ok(json!({
                "account_no": ACCOUNT,
                "available_balance": "100.00",
            }))),
            _ => Err(Envelope::error(RetCode::InvalidJson, "no such API")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running the binary.

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

/// A command with none of the `FREEWALKER_CLI_*` variables of the developer's shell.
fn command<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(args)
        .env_remove("FREEWALKER_CLI_URL")
        .env_remove("FREEWALKER_CLI_INSTITUTION_ID")
        .env_remove("FREEWALKER_CLI_KEY")
        .env_remove("FREEWALKER_CLI_WALLET_KEY")
        .kill_on_drop(true);
    command
}

async fn cli<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let output = command(args).output().await.expect("the binary runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A file in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("freewalker-cli-test-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// The API commands against the fake wallet.

#[tokio::test]
async fn user_sync_seals_the_document_number_and_prints_the_verified_answer() {
    let wallet = FakeWallet::start(Signer::Wallet).await;
    let run = cli(&wallet.args(&[
        "user-sync",
        "--out-user-id",
        "U1001",
        "--name",
        "JOHN SMITH",
        "--nationality",
        "USA",
        "--id-type",
        "PASSPORT",
        "--id-no",
        "E12345678",
        "--birth-date",
        "1990-05-17",
        "--gender",
        "M",
        "--mobile",
        "+14155550100",
    ]))
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let answer = run.json();
    assert_eq!(answer["ret_code"], "0000");
    assert_eq!(answer["data"]["account_no"], ACCOUNT);
    assert_eq!(answer["data"]["out_user_id"], "U1001");

    let seen = wallet.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, paths::USER_SYNC);
    assert!(seen[0].encrypt_key_header);
    assert_eq!(
        seen[0].opened,
        [
            ("id_no", "E12345678".to_owned()),
            ("mobile", "+14155550100".to_owned())
        ]
    );
    // Only ciphertext travels.
    let body = String::from_utf8(seen[0].body.clone()).unwrap();
    assert!(
        !body.contains("E12345678") && !body.contains("4155550100"),
        "{body}"
    );
    assert!(
        body.contains(r#""birth_date":"1990-05-17","gender":"M""#),
        "{body}"
    );
}

#[tokio::test]
async fn a_field_the_wallet_would_refuse_is_reported_by_its_flag_and_nothing_is_sent() {
    let wallet = FakeWallet::start(Signer::Wallet).await;
    let base = [
        "user-sync",
        "--out-user-id",
        "U1001",
        "--name",
        "JOHN SMITH",
        "--id-type",
        "PASSPORT",
        "--id-no",
        "E12345678",
    ];
    let mut lowercase = base.to_vec();
    lowercase.extend(["--nationality", "usa"]);
    let run = cli(&wallet.args(&lowercase)).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains("--nationality is invalid"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("2003"), "{}", run.stderr);

    // A sealed field's plaintext rule (E.164) is checked too.
    let mut bad_mobile = base.to_vec();
    bad_mobile.extend(["--nationality", "USA", "--mobile", "4155550100"]);
    let run = cli(&wallet.args(&bad_mobile)).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("--mobile is invalid"), "{}", run.stderr);

    // clap's own parsers: an amount with three decimals, an account with a bad check digit.
    let run = cli(&wallet.args(&[
        "recharge",
        "--out-order-no",
        "R1",
        "--account-no",
        "8000000000000012",
        "--amount",
        "1.00",
    ]))
    .await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("--account-no"), "{}", run.stderr);
    let run = cli(&wallet.args(&[
        "recharge",
        "--out-order-no",
        "R1",
        "--account-no",
        ACCOUNT,
        "--amount",
        "1.001",
    ]))
    .await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains("more than 2 decimals for CNY"),
        "{}",
        run.stderr
    );

    assert!(wallet.seen().is_empty());
}

#[tokio::test]
async fn recharge_sends_the_compact_body_in_the_spec_order() {
    let wallet = FakeWallet::start(Signer::Wallet).await;
    let run = cli(&wallet.args(&[
        "recharge",
        "--out-order-no",
        "R20261126000001",
        "--account-no",
        ACCOUNT,
        "--amount",
        "100.5",
        "--pay-amount",
        "13.92",
        "--pay-currency",
        "USD",
        "--pay-method",
        "FOREIGN_CARD",
    ]))
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let answer = run.json();
    assert_eq!(answer["data"]["amount"], "100.50");
    assert_eq!(answer["data"]["order_status"], "SUCCESS");

    let seen = wallet.seen();
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].encrypt_key_header);
    assert_eq!(
        String::from_utf8(seen[0].body.clone()).unwrap(),
        r#"{"institution_id":"INST0001","out_order_no":"R20261126000001","account_no":"8000000000000011","amount":"100.50","currency":"CNY","pay_amount":"13.92","pay_currency":"USD","pay_method":"FOREIGN_CARD"}"#
    );
}

#[tokio::test]
async fn another_ret_code_prints_the_envelope_and_exits_1() {
    let wallet = FakeWallet::start(Signer::Wallet).await;
    let run = cli(&wallet.args(&[
        "recharge",
        "--out-order-no",
        "R2",
        "--account-no",
        ACCOUNT,
        "--amount",
        "60000.00",
    ]))
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.json()["ret_code"], "3004");
    assert!(
        run.stderr.contains("ret_code 3004") && run.stderr.contains("recharge_single"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn an_answer_not_signed_by_the_wallet_key_is_refused() {
    let wallet = FakeWallet::start(Signer::Impostor).await;
    let run = cli(&wallet.args(&["account", "--account-no", ACCOUNT])).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    // Nothing of an untrusted answer reaches stdout.
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(
        run.stderr.contains("refusing the wallet's answer")
            && run.stderr.contains("not signed by the key in --wallet-key")
            && run.stderr.contains("wallet_rsa_public.pem"),
        "{}",
        run.stderr
    );
    // The request itself was authentic: the fake answered it.
    assert_eq!(wallet.seen().len(), 1);
}

#[tokio::test]
async fn the_other_api_commands_reach_their_paths() {
    let wallet = FakeWallet::start(Signer::Wallet).await;

    let run = cli(&wallet.args(&[
        "customer-sync",
        "--account-no",
        ACCOUNT,
        "--kyc-level",
        "L2",
        "--verified-time",
        "2026-11-26 14:50:22",
        "--entry-date",
        "2026-11-20",
        "--address",
        "上海市浦东新区世纪大道100号",
    ]))
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.json()["data"]["kyc_level"], "L2");

    let run = cli(&wallet.args(&[
        "withdraw",
        "--out-order-no",
        "W20261126000001",
        "--account-no",
        ACCOUNT,
        "--amount",
        "50.00",
        "--target-currency",
        "USD",
        "--branch-no",
        "BR001",
        "--branch-name",
        "浦东机场网点",
        "--branch-address",
        "上海市浦东新区机场大道",
        "--notify-url",
        "http://127.0.0.1:9000/notify",
    ]))
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.json()["data"]["branch_info"]["branch_no"], "BR001");

    let run = cli(&wallet.args(&["account", "--account-no", ACCOUNT])).await;
    assert_eq!(run.code, Some(0), "{run:?}");

    let run = cli(&wallet.args(&["withdraw-query", "--order-no", "W0000000000000001"])).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.json()["ret_code"], "3006");

    let run = cli(&wallet.args(&["recharge-query"])).await;
    assert_eq!(
        run.code,
        Some(2),
        "one of the two order numbers is required: {run:?}"
    );

    let run = cli(&wallet.args(&["recharge-query", "--out-order-no", "R1"])).await;
    assert_eq!(run.code, Some(1), "{run:?}");

    let seen = wallet.seen();
    let paths_seen: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths_seen,
        [
            paths::CUSTOMER_SYNC,
            paths::WITHDRAW_CONFIRM,
            paths::ACCOUNT_QUERY,
            paths::WITHDRAW_QUERY,
            paths::RECHARGE_QUERY,
        ]
    );
    assert_eq!(
        seen[0].opened,
        [("address", "上海市浦东新区世纪大道100号".to_owned())]
    );
    let customer = String::from_utf8(seen[0].body.clone()).unwrap();
    assert!(
        customer.contains(r#""verified_time":"2026-11-26 14:50:22""#),
        "{customer}"
    );
}

#[tokio::test]
async fn send_signs_and_sends_the_file_byte_for_byte() {
    let wallet = FakeWallet::start(Signer::Wallet).await;
    // Pretty-printed, with a trailing newline: sent exactly so, and the CLI says so.
    let body =
        b"{\n  \"institution_id\": \"INST0001\",\n  \"account_no\": \"8000000000000011\"\n}\n";
    let file = TempFile::new("send.json", body);
    let run = cli(&wallet.args(&[
        "send",
        "--path",
        paths::ACCOUNT_QUERY,
        "--body",
        file.path(),
    ]))
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("ends with a newline"), "{}", run.stderr);
    assert_eq!(wallet.seen()[0].body, body);
}

#[tokio::test]
async fn missing_or_mixed_up_configuration_is_a_usage_error() {
    let run = cli(&[
        "account",
        "--account-no",
        ACCOUNT,
        "--institution-id",
        INSTITUTION,
    ])
    .await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("missing --key"), "{}", run.stderr);

    // The wallet's PRIVATE key where its public key belongs.
    let run = cli(&[
        "account",
        "--account-no",
        ACCOUNT,
        "--institution-id",
        INSTITUTION,
        "--key",
        &vector_path("inst_rsa_private.pem"),
        "--wallet-key",
        &vector_path("wallet_rsa_private.pem"),
    ])
    .await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains("--wallet-key") && run.stderr.contains("takes a PUBLIC key"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Offline: sign and verify against the vectors.

fn vector_case(name: &str) -> Value {
    let vectors: Value = serde_json::from_str(&read_vector("signature_vectors.json")).unwrap();
    vectors["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|case| case["name"] == name)
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn sign_reproduces_the_rsa_vector_byte_for_byte() {
    let case = vector_case("recharge_apply_compact");
    let body = TempFile::new("sign.json", case["body"].as_str().unwrap().as_bytes());
    let run = cli(&[
        "sign",
        "--body",
        body.path(),
        "--key",
        &vector_path("inst_rsa_private.pem"),
        "--timestamp",
        "20261126145022",
        "--nonce",
        "abcdefghij_-0123",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let expected = format!(
        "md5_hex: {}\nSignature-Type: RSA\nSignature-Data: {}\ntimestamp: 20261126145022\n\
         nonce: abcdefghij_-0123\ninstitution_id: INST0001\n",
        case["body_md5_hex"].as_str().unwrap(),
        case["rsa_signature_b64"].as_str().unwrap(),
    );
    // The institution ID was taken from the body, since none was given.
    assert_eq!(run.stdout, expected);

    let run = cli(&[
        "sign",
        "--json",
        "--body",
        body.path(),
        "--key",
        &vector_path("inst_rsa_private.pem"),
        "--institution-id",
        INSTITUTION,
    ])
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let out = run.json();
    assert_eq!(out["md5_hex"], case["body_md5_hex"]);
    assert_eq!(out["headers"]["Signature-Data"], case["rsa_signature_b64"]);
    assert_eq!(out["body_bytes"], case["body"].as_str().unwrap().len());
}

#[tokio::test]
async fn verify_accepts_the_vectors_and_rejects_a_flipped_byte() {
    let case = vector_case("recharge_apply_compact");
    let text = case["body"].as_str().unwrap();
    let body = TempFile::new("verify.json", text.as_bytes());
    let rsa = case["rsa_signature_b64"].as_str().unwrap();
    let verify = |body: &TempFile, signature: String, key: &str, extra: Vec<&'static str>| {
        let mut args = vec![
            "verify".to_owned(),
            "--body".to_owned(),
            body.path().to_owned(),
            "--signature".to_owned(),
            signature,
            "--public-key".to_owned(),
            vector_path(key),
        ];
        args.extend(extra.into_iter().map(str::to_owned));
        async move { cli(&args).await }
    };

    let run = verify(&body, rsa.to_owned(), "inst_rsa_public.pem", vec![]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.starts_with("OK: the RSA signature verifies"),
        "{run:?}"
    );

    // One byte of the body flipped: `"100.00"` becomes `"100.01"`.
    let flipped = TempFile::new(
        "verify-flipped.json",
        text.replace("100.00", "100.01").as_bytes(),
    );
    let run = verify(&flipped, rsa.to_owned(), "inst_rsa_public.pem", vec![]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("FAILED"), "{}", run.stderr);

    // One bit of the signature flipped.
    let mut raw = rsa.as_bytes().to_vec();
    raw[10] = if raw[10] == b'A' { b'B' } else { b'A' };
    let run = verify(
        &body,
        String::from_utf8(raw).unwrap(),
        "inst_rsa_public.pem",
        vec![],
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");

    // SM2 signatures are randomised: the vector verifies.
    let sm2 = case["sm2_signature_b64"].as_str().unwrap().to_owned();
    let run = verify(&body, sm2, "inst_sm2_public.pem", vec!["--type", "SM2"]).await;
    assert_eq!(run.code, Some(0), "{run:?}");

    // A declared type other than the key's is refused, as the wallet refuses it.
    let run = verify(
        &body,
        rsa.to_owned(),
        "inst_rsa_public.pem",
        vec!["--type", "SM2"],
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("signature type is SM2"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// listen: the notification receiver.

/// A running `freewalker-cli listen`, killed when dropped.
struct Listener {
    _child: Child,
    url: String,
    stdout: Lines<BufReader<ChildStdout>>,
    http: reqwest::Client,
    wallet_key: SigningKey,
}

/// What the receiver answered one POST.
#[derive(Debug)]
struct Answer {
    status: u16,
    ret_code: String,
}

impl Listener {
    async fn start(extra: &[&str]) -> Listener {
        let mut args = vec![
            "listen".to_owned(),
            "--addr".to_owned(),
            "127.0.0.1:0".to_owned(),
            "--wallet-key".to_owned(),
            vector_path("wallet_rsa_public.pem"),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let mut child = command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let line = tokio::time::timeout(WAIT, stderr.next_line())
            .await
            .expect("the receiver starts in time")
            .unwrap()
            .expect("the receiver says where it listens");
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        Listener {
            _child: child,
            url: format!("{url}/notify"),
            stdout,
            http: reqwest::Client::new(),
            wallet_key: SigningKey::from_pkcs8_pem(&read_vector("wallet_rsa_private.pem")).unwrap(),
        }
    }

    /// Posts `body` signed with `key`, as the wallet's notification worker does.
    async fn post(&self, body: Vec<u8>, key: &SigningKey) -> Answer {
        let signed = AuthHeaders::sign(key, &body, INSTITUTION, now_secs()).unwrap();
        let mut request = self
            .http
            .post(&self.url)
            .header("content-type", "application/json; charset=utf-8");
        for (name, value) in signed.to_pairs() {
            request = request.header(name, value);
        }
        let response = request.body(body).send().await.unwrap();
        let status = response.status().as_u16();
        let ack: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        Answer {
            status,
            ret_code: ack["ret_code"].as_str().unwrap().to_owned(),
        }
    }

    /// The next line the receiver printed, as JSON.
    async fn next_line(&mut self) -> Value {
        let line = tokio::time::timeout(WAIT, self.stdout.next_line())
            .await
            .expect("the receiver prints a line per notification")
            .unwrap()
            .expect("the receiver is still running");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
    }
}

fn notification(order_no: &str, status: OrderStatus) -> Vec<u8> {
    WithdrawResultNotification::new(
        INSTITUTION,
        WithdrawResultData {
            out_order_no: "W20261126000001".to_owned(),
            order_no: order_no.to_owned(),
            account_no: ACCOUNT.to_owned(),
            amount: "50.00".to_owned(),
            currency: "CNY".to_owned(),
            target_amount: "6.96".to_owned(),
            target_currency: "USD".to_owned(),
            branch_info: BranchInfo {
                branch_no: "BR001".to_owned(),
                branch_name: "浦东机场网点".to_owned(),
                branch_address: "上海市浦东新区机场大道".to_owned(),
            },
            order_status: status,
            success_time: if status == OrderStatus::Success {
                "2026-11-26 14:55:00".to_owned()
            } else {
                String::new()
            },
            exchange_rate: "718.25".to_owned(),
            fail_reason: String::new(),
        },
    )
    .to_json()
}

#[tokio::test]
async fn listen_verifies_acknowledges_and_reports_duplicates() {
    let mut listener = Listener::start(&[]).await;
    let wallet_key = SigningKey::from_pkcs8_pem(&read_vector("wallet_rsa_private.pem")).unwrap();

    let answer = listener
        .post(notification("W1", OrderStatus::Success), &wallet_key)
        .await;
    assert_eq!(
        (answer.status, answer.ret_code.as_str()),
        (200, "0000"),
        "{answer:?}"
    );
    let line = listener.next_line().await;
    assert_eq!(line["outcome"], "accepted", "{line}");
    assert_eq!(line["order_no"], "W1");
    assert_eq!(line["order_status"], "SUCCESS");
    assert_eq!(line["path"], "/notify");
    assert_eq!(line["notification"]["data"]["target_amount"], "6.96");

    // The same delivery again (the wallet delivers at least once): acknowledged, reported once.
    let answer = listener
        .post(notification("W1", OrderStatus::Success), &wallet_key)
        .await;
    assert_eq!(
        (answer.status, answer.ret_code.as_str()),
        (200, "0000"),
        "{answer:?}"
    );
    assert_eq!(listener.next_line().await["outcome"], "duplicate");

    // Not from the wallet: refused with the wallet's own code for a bad signature.
    let impostor = SigningKey::from_pkcs8_pem(&read_vector("inst_rsa_private.pem")).unwrap();
    let answer = listener
        .post(notification("W2", OrderStatus::Success), &impostor)
        .await;
    assert_eq!(
        (answer.status, answer.ret_code.as_str()),
        (401, "1002"),
        "{answer:?}"
    );
    let line = listener.next_line().await;
    assert_eq!(line["outcome"], "refused", "{line}");
    assert!(
        line["reason"].as_str().unwrap().contains("signature"),
        "{line}"
    );

    // Another order, and another status of a known order, are new.
    let answer = listener
        .post(notification("W2", OrderStatus::Fail), &listener.wallet_key)
        .await;
    assert_eq!(answer.ret_code, "0000");
    assert_eq!(listener.next_line().await["outcome"], "accepted");
}

#[tokio::test]
async fn listen_fails_the_first_notifications_when_asked() {
    let mut listener = Listener::start(&["--fail-first", "1", "--status", "503"]).await;
    let body = notification("W9", OrderStatus::Success);

    let answer = listener.post(body.clone(), &listener.wallet_key).await;
    assert_eq!(answer.status, 503);
    assert_ne!(answer.ret_code, "0000");
    let line = listener.next_line().await;
    assert_eq!(line["outcome"], "failed_on_purpose", "{line}");
    assert_eq!(line["answer"]["http_status"], 503);

    // The retry is the first one processed: accepted, not a duplicate.
    let answer = listener.post(body, &listener.wallet_key).await;
    assert_eq!(
        (answer.status, answer.ret_code.as_str()),
        (200, "0000"),
        "{answer:?}"
    );
    assert_eq!(listener.next_line().await["outcome"], "accepted");
}
