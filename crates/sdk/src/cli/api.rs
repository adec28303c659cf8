//! The API subcommands (`spec/API.md` §4.1–§4.7) and `send`.
//!
//! Each builds the typed request from its flags, then runs the request through the very
//! `from_json` the wallet runs, so that a field the wallet would refuse is reported here, named
//! by its flag, before anything is signed. Sensitive fields are sealed in a fresh envelope and
//! their plaintext rules checked the same way. The answer's signature is verified by the SDK
//! [`Client`]; only then is the envelope printed.

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use freewalker_protocol::amount::Money;
use freewalker_protocol::api::{
    AccountNo, AccountQueryRequest, ApiRequest, BranchInfo, CustomerSyncRequest, Gender, IdType,
    KycLevel, OrderQuery, PayMethod, RechargeApplyRequest, UserSyncRequest, WithdrawConfirmRequest,
    paths,
};
use freewalker_protocol::currency::Currency;
use freewalker_protocol::fields::{FieldError, RequestError};
use freewalker_sdk::{Client, Reply, SdkError, SealedFields};
use time::Date;

use super::config::{BODY_FILE_BYTES_MAX, GlobalArgs, read_capped};
use super::offline::{HEADER_NAMES, body_institution_id, body_pitfalls};
use super::{Failure, error_chain, now_secs, parse, print_line};

/// `user-sync` (§4.1).
#[derive(Debug, Args)]
pub(super) struct UserSyncArgs {
    /// Your own ID for the visitor: 1-64 characters of A-Z a-z 0-9 _ -. Syncing it again
    /// updates the profile.
    #[arg(long, value_name = "ID")]
    out_user_id: String,
    /// The name as printed in the document.
    #[arg(long)]
    name: String,
    /// ISO 3166-1 alpha-3 country code, e.g. USA, JPN, GBR.
    #[arg(long, value_name = "ALPHA3")]
    nationality: String,
    /// The kind of identity document.
    #[arg(long, value_parser = parse::wire_enum::<IdType>())]
    id_type: IdType,
    /// The document number (sent encrypted).
    #[arg(long, value_name = "NUMBER")]
    id_no: String,
    /// When the document expires: yyyy-MM-dd.
    #[arg(long, value_name = "DATE", value_parser = parse::date)]
    id_expiry_date: Option<Date>,
    /// Date of birth: yyyy-MM-dd.
    #[arg(long, value_name = "DATE", value_parser = parse::date)]
    birth_date: Option<Date>,
    /// The gender printed in the document.
    #[arg(long, value_parser = parse::wire_enum::<Gender>())]
    gender: Option<Gender>,
    /// Mobile number in E.164 form, e.g. +14155550100 (sent encrypted).
    #[arg(long, value_name = "E164")]
    mobile: Option<String>,
    /// E-mail address.
    #[arg(long)]
    email: Option<String>,
}

/// `customer-sync` (§4.2).
#[derive(Debug, Args)]
pub(super) struct CustomerSyncArgs {
    /// The visitor's wallet account (16 digits, from user-sync).
    #[arg(long, value_name = "ACCOUNT_NO", value_parser = parse::account_no)]
    account_no: AccountNo,
    /// L1: document verified; L2: document, face and visa verified.
    #[arg(long, value_parser = parse::verified_kyc_level())]
    kyc_level: KycLevel,
    /// When you verified the visitor: "yyyy-MM-dd HH:mm:ss" in China Standard Time. Default:
    /// now.
    #[arg(long, value_name = "TIME", value_parser = parse::cst_time)]
    verified_time: Option<i64>,
    /// The visa type, free text (up to 16 characters).
    #[arg(long)]
    visa_type: Option<String>,
    /// When the visa expires: yyyy-MM-dd.
    #[arg(long, value_name = "DATE", value_parser = parse::date)]
    visa_expiry_date: Option<Date>,
    /// Date of entry into China: yyyy-MM-dd.
    #[arg(long, value_name = "DATE", value_parser = parse::date)]
    entry_date: Option<Date>,
    /// The visitor's address in China (sent encrypted).
    #[arg(long)]
    address: Option<String>,
    /// Occupation, free text.
    #[arg(long)]
    occupation: Option<String>,
}

/// `recharge` (§4.3).
#[derive(Debug, Args)]
pub(super) struct RechargeArgs {
    /// Your order number, unique among your recharges: sending the same order again returns it
    /// unchanged (1-64 characters of A-Z a-z 0-9 _ -).
    #[arg(long, value_name = "ID")]
    out_order_no: String,
    /// The wallet account credited (16 digits).
    #[arg(long, value_name = "ACCOUNT_NO", value_parser = parse::account_no)]
    account_no: AccountNo,
    /// The CNY credited, in yuan: e.g. 100.00 (at most 2 decimals).
    #[arg(long, value_name = "CNY", value_parser = parse::cny_amount)]
    amount: i64,
    /// What the visitor paid you, in --pay-currency (its own decimals: JPY 1500, USD 13.92).
    #[arg(long, value_name = "AMOUNT", requires = "pay_currency")]
    pay_amount: Option<String>,
    /// The currency the visitor paid in (ISO 4217).
    #[arg(long, value_name = "CODE", value_parser = parse::currency, requires = "pay_amount")]
    pay_currency: Option<Currency>,
    /// How the visitor paid.
    #[arg(long, value_parser = parse::wire_enum::<PayMethod>())]
    pay_method: Option<PayMethod>,
    /// Free text (up to 256 characters).
    #[arg(long)]
    remark: Option<String>,
}

/// `recharge-query` and `withdraw-query` (§4.4, §4.6).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("order").required(true).multiple(true).args(["out_order_no", "order_no"])))]
pub(super) struct QueryArgs {
    /// Your order number.
    #[arg(long, value_name = "ID")]
    out_order_no: Option<String>,
    /// The wallet's order number (R... or W...). With both, they must name the same order.
    #[arg(long, value_name = "ORDER_NO")]
    order_no: Option<String>,
}

/// `withdraw` (§4.5).
#[derive(Debug, Args)]
pub(super) struct WithdrawArgs {
    /// Your order number, unique among your withdrawals (1-64 characters of A-Z a-z 0-9 _ -).
    #[arg(long, value_name = "ID")]
    out_order_no: String,
    /// The wallet account debited (16 digits).
    #[arg(long, value_name = "ACCOUNT_NO", value_parser = parse::account_no)]
    account_no: AccountNo,
    /// The CNY debited, in yuan: e.g. 50.00.
    #[arg(long, value_name = "CNY", value_parser = parse::cny_amount)]
    amount: i64,
    /// The currency paid out at the branch (ISO 4217); CNY means no exchange.
    #[arg(long, value_name = "CODE", value_parser = parse::currency)]
    target_currency: Currency,
    /// The branch's number at your institution.
    #[arg(long)]
    branch_no: String,
    /// The branch's name.
    #[arg(long)]
    branch_name: String,
    /// The branch's address.
    #[arg(long)]
    branch_address: String,
    /// Where the result notification goes, instead of your configured URL (e.g. the address of
    /// `freewalker-cli listen`).
    #[arg(long, value_name = "URL")]
    notify_url: Option<String>,
    /// Free text (up to 256 characters).
    #[arg(long)]
    remark: Option<String>,
}

/// `account` (§4.7).
#[derive(Debug, Args)]
pub(super) struct AccountArgs {
    /// The wallet account (16 digits).
    #[arg(long, value_name = "ACCOUNT_NO", value_parser = parse::account_no)]
    account_no: AccountNo,
}

/// `send`: a raw body file.
#[derive(Debug, Args)]
pub(super) struct SendArgs {
    /// The API path, e.g. /api/v1/recharge/apply.
    #[arg(long, value_parser = parse::api_path)]
    path: String,
    /// The JSON body file, sent byte for byte (a trailing newline is part of it).
    #[arg(long, value_name = "FILE")]
    body: PathBuf,
    /// An Encrypt-Key header to send as is, for a body whose sensitive fields you sealed
    /// yourself.
    #[arg(long, value_name = "BASE64")]
    encrypt_key: Option<String>,
}

pub(super) async fn user_sync(global: &GlobalArgs, args: UserSyncArgs) -> Result<(), Failure> {
    let client = global.client()?;
    let envelope = new_envelope(&client)?;
    let request = UserSyncRequest {
        institution_id: client.institution_id().to_owned(),
        out_user_id: args.out_user_id,
        name: args.name,
        nationality: args.nationality,
        id_type: args.id_type,
        id_no: seal(&envelope, "--id-no", &args.id_no)?,
        id_expiry_date: args.id_expiry_date,
        birth_date: args.birth_date,
        gender: args.gender,
        mobile: args
            .mobile
            .map(|mobile| seal(&envelope, "--mobile", &mobile))
            .transpose()?,
        email: args.email,
    };
    check(&request)?;
    // The wallet applies the plaintext rules (length, E.164) after opening the fields.
    request
        .open_id_no(&envelope.key)
        .map_err(|e| field_failure(&e))?;
    request
        .open_mobile(&envelope.key)
        .map_err(|e| field_failure(&e))?;
    show_request(
        global,
        paths::USER_SYNC,
        &request.to_json(),
        Some(envelope.header.as_str()),
    );
    finish(global, client.user_sync(&request, &envelope).await)
}

pub(super) async fn customer_sync(
    global: &GlobalArgs,
    args: CustomerSyncArgs,
) -> Result<(), Failure> {
    let client = global.client()?;
    // An envelope only when there is something to seal: no Encrypt-Key header otherwise.
    let envelope = args
        .address
        .as_ref()
        .map(|_| new_envelope(&client))
        .transpose()?;
    let address = match (&envelope, &args.address) {
        (Some(envelope), Some(address)) => Some(seal(envelope, "--address", address)?),
        _ => None,
    };
    let request = CustomerSyncRequest {
        institution_id: client.institution_id().to_owned(),
        account_no: args.account_no,
        kyc_level: args.kyc_level,
        verified_time: args.verified_time.unwrap_or_else(now_secs),
        visa_type: args.visa_type,
        visa_expiry_date: args.visa_expiry_date,
        entry_date: args.entry_date,
        address,
        occupation: args.occupation,
    };
    check(&request)?;
    if let Some(envelope) = &envelope {
        request
            .open_address(&envelope.key)
            .map_err(|e| field_failure(&e))?;
    }
    show_request(
        global,
        paths::CUSTOMER_SYNC,
        &request.to_json(),
        envelope.as_ref().map(|e| e.header.as_str()),
    );
    finish(
        global,
        client.customer_sync(&request, envelope.as_ref()).await,
    )
}

pub(super) async fn recharge(global: &GlobalArgs, args: RechargeArgs) -> Result<(), Failure> {
    let client = global.client()?;
    // clap makes the two flags go together; the amount is read with the currency's decimals.
    let pay_amount = match (&args.pay_amount, args.pay_currency) {
        (Some(text), Some(currency)) => Some(Money::parse(text, currency).map_err(|e| {
            Failure::usage(format!("invalid value '{text}' for '--pay-amount': {e}"))
        })?),
        _ => None,
    };
    let request = RechargeApplyRequest {
        institution_id: client.institution_id().to_owned(),
        out_order_no: args.out_order_no,
        account_no: args.account_no,
        amount: args.amount,
        currency: Currency::CNY,
        pay_amount,
        pay_method: args.pay_method,
        remark: args.remark,
    };
    check(&request)?;
    show_request(global, paths::RECHARGE_APPLY, &request.to_json(), None);
    finish(global, client.recharge_apply(&request).await)
}

pub(super) async fn recharge_query(global: &GlobalArgs, args: QueryArgs) -> Result<(), Failure> {
    let client = global.client()?;
    let request = order_query(&client, args);
    check(&request)?;
    show_request(global, paths::RECHARGE_QUERY, &request.to_json(), None);
    finish(global, client.recharge_query(&request).await)
}

pub(super) async fn withdraw(global: &GlobalArgs, args: WithdrawArgs) -> Result<(), Failure> {
    let client = global.client()?;
    let request = WithdrawConfirmRequest {
        institution_id: client.institution_id().to_owned(),
        out_order_no: args.out_order_no,
        account_no: args.account_no,
        amount: args.amount,
        currency: Currency::CNY,
        target_currency: args.target_currency,
        branch_info: BranchInfo {
            branch_no: args.branch_no,
            branch_name: args.branch_name,
            branch_address: args.branch_address,
        },
        notify_url: args.notify_url,
        remark: args.remark,
    };
    check(&request)?;
    show_request(global, paths::WITHDRAW_CONFIRM, &request.to_json(), None);
    finish(global, client.withdraw_confirm(&request).await)
}

pub(super) async fn withdraw_query(global: &GlobalArgs, args: QueryArgs) -> Result<(), Failure> {
    let client = global.client()?;
    let request = order_query(&client, args);
    check(&request)?;
    show_request(global, paths::WITHDRAW_QUERY, &request.to_json(), None);
    finish(global, client.withdraw_query(&request).await)
}

pub(super) async fn account(global: &GlobalArgs, args: AccountArgs) -> Result<(), Failure> {
    let client = global.client()?;
    let request = AccountQueryRequest {
        institution_id: client.institution_id().to_owned(),
        account_no: args.account_no,
    };
    check(&request)?;
    show_request(global, paths::ACCOUNT_QUERY, &request.to_json(), None);
    finish(global, client.account_query(&request).await)
}

pub(super) async fn send(global: &GlobalArgs, args: SendArgs) -> Result<(), Failure> {
    let client = global.client()?;
    let body = read_capped(&args.body, "--body", BODY_FILE_BYTES_MAX)?;
    for note in body_pitfalls(&body) {
        eprintln!("freewalker-cli: note: {note}");
    }
    if let Some(in_body) = body_institution_id(&body)
        && in_body != client.institution_id()
    {
        eprintln!(
            "freewalker-cli: note: the body's institution_id {in_body:?} differs from \
             --institution-id {:?}: the wallet answers 1006",
            client.institution_id()
        );
    }
    // The fields of this body were sealed by the integrator: their Encrypt-Key
    // header goes through as given.
    show_request(global, &args.path, &body, args.encrypt_key.as_deref());
    finish(
        global,
        client
            .call_body(&args.path, body, args.encrypt_key.as_deref())
            .await,
    )
}

fn order_query(client: &Client, args: QueryArgs) -> OrderQuery {
    OrderQuery {
        institution_id: client.institution_id().to_owned(),
        out_order_no: args.out_order_no,
        order_no: args.order_no,
    }
}

fn new_envelope(client: &Client) -> Result<SealedFields, Failure> {
    client.new_envelope().map_err(|e| {
        Failure::usage(format!(
            "cannot prepare the encryption of sensitive fields: {e}"
        ))
    })
}

fn seal(
    envelope: &SealedFields,
    flag: &str,
    plaintext: &str,
) -> Result<freewalker_protocol::api::Sealed, Failure> {
    envelope
        .seal(plaintext)
        .map_err(|e| Failure::failed(format!("cannot encrypt {flag}: {e}")))
}

/// Runs the body through the wallet's own validation (§4, the rules behind `2002`/`2003`).
fn check<R: ApiRequest>(request: &R) -> Result<(), Failure> {
    match R::from_json(&request.to_json()) {
        Ok(_) => Ok(()),
        Err(RequestError::Field(error)) => Err(field_failure(&error)),
        Err(error) => Err(Failure::usage(format!(
            "the wallet would refuse this request: {error}"
        ))),
    }
}

/// A field the wallet would refuse, named by its flag (`branch_info.branch_no` is
/// `--branch-no`), with the code the wallet would answer.
fn field_failure(error: &FieldError) -> Failure {
    let field = error.field();
    let flag = format!(
        "--{}",
        field.rsplit('.').next().unwrap_or(field).replace('_', "-")
    );
    let code = error.ret_code().code();
    match error {
        FieldError::Missing { .. } => Failure::usage(format!(
            "{flag} must not be empty (the wallet would answer {code})"
        )),
        FieldError::Invalid { reason, .. } => Failure::usage(format!(
            "{flag} is invalid: {reason} (the wallet would answer {code})"
        )),
    }
}

/// The answer: printed when it is trusted; exit 0 only for `0000`.
fn finish(global: &GlobalArgs, result: Result<Reply, SdkError>) -> Result<(), Failure> {
    let reply = result.map_err(|e| call_failure(global, &e))?;
    if global.verbose {
        eprintln!("< HTTP {}", reply.status);
        for (name, (_, value)) in HEADER_NAMES.iter().zip(reply.headers.to_pairs()) {
            eprintln!("< {name}: {value}");
        }
    }
    print_line(&pretty(&reply));
    if reply.envelope.is_success() {
        return Ok(());
    }
    let message = if reply.envelope.ret_msg.is_empty() {
        String::new()
    } else {
        format!(": {}", reply.envelope.ret_msg)
    };
    Err(Failure::failed(format!(
        "the wallet answered ret_code {} (HTTP {}){message}",
        reply.envelope.ret_code, reply.status
    )))
}

/// The verified body as pretty JSON, keys in the wallet's order; the parsed envelope should the
/// body somehow not re-parse (it already parsed once to become `reply.envelope`).
fn pretty(reply: &Reply) -> String {
    serde_json::from_slice::<serde_json::Value>(&reply.body)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .or_else(|_| serde_json::to_string_pretty(&reply.envelope))
        .unwrap_or_else(|_| String::from_utf8_lossy(&reply.body).into_owned())
}

fn call_failure(global: &GlobalArgs, error: &SdkError) -> Failure {
    match error {
        SdkError::Http(e) => Failure::failed(format!(
            "no answer from the wallet at {}: {}",
            global.url,
            error_chain(e)
        )),
        SdkError::BadResponseSignature(reason) => Failure::failed(format!(
            "refusing the wallet's answer: it is not signed by the key in --wallet-key {} \
             ({reason}). Check that --wallet-key is the wallet's \
             freewalker-data/wallet_public.pem and that --url {} is the wallet",
            global
                .wallet_key
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            global.url,
        )),
        other => Failure::failed(other.to_string()),
    }
}

/// With `--verbose`: what is about to be sent.
fn show_request(global: &GlobalArgs, path: &str, body: &[u8], encrypt_key: Option<&str>) {
    if !global.verbose {
        return;
    }
    eprintln!("> POST {}{path}", global.url.trim_end_matches('/'));
    if let Some(header) = encrypt_key {
        eprintln!("> Encrypt-Key: {header}");
    }
    eprintln!("> {}", String::from_utf8_lossy(body));
}
