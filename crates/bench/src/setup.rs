//! Setup, untimed: the bench becomes a fresh institution of the running wallet
//! (through the wallet's own settings and database, as an operator would), then
//! brings its accounts to the state the scenario needs through the API.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use freewalker_domain::fx::Rate;
use freewalker_domain::limits::LimitSet;
use freewalker_protocol::api::AccountNo;
use freewalker_protocol::headers::new_nonce;
use freewalker_protocol::signature::{
    SignatureType, generate_rsa_2048, public_pem_from_private_pem,
};
use freewalker_sdk::{Client, ClientConfig, Reply, SdkError};
use freewalker_server::app::{rules, store_options};
use freewalker_server::settings::Settings;
use freewalker_store::ops::InstitutionInput;
use freewalker_store::{Command, Op, Store};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::error::BenchError;
use crate::options::{Options, Scenario};
use crate::plan::{Names, Plan, WITHDRAW_FEN};
use crate::requests::{self, TARGET_CURRENCY, TARGET_RATE};

/// Random characters in the institution ID (`BENCH_` + these).
pub const INSTITUTION_RANDOM_CHARS: usize = 10;
/// How long the wallet may take to answer `/readyz` before the bench gives up.
pub const READY_TIMEOUT_MS: u64 = 5_000;

/// Now, as Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// The wallet as the bench sees it: its database, and a client signing as the
/// bench's institution.
#[derive(Debug, Clone)]
pub struct Target {
    /// The wallet's base URL.
    pub url: String,
    pub store: Store,
    /// Signs as the bench's institution; verifies every answer (setup and checks).
    pub client: Client,
    pub names: Names,
    /// The limits of KYC level `L2`, which every bench account has.
    pub l2: LimitSet,
    /// The wallet's public key (SPKI PEM), derived from its private key file.
    pub wallet_public_pem: String,
    /// The bench institution's private key (PKCS#8 PEM).
    pub institution_private_pem: String,
}

/// Refuses to create a database where the wallet has none: a bench run from the
/// wrong directory would otherwise register its institution in a new, empty
/// file and every request would be refused with `1005`.
pub fn check_database_exists(settings: &Settings) -> Result<(), BenchError> {
    let url = settings.database_url.as_str();
    if url.starts_with("sqlite:") {
        let path = freewalker_store::sqlite::path_from_url(url)?;
        if !path.exists() {
            return Err(BenchError::Wallet(format!(
                "no wallet database at {}: run the bench with the wallet's settings (the same working directory, \
                 FREEWALKER_DATABASE_URL or --config) while the wallet runs",
                path.display()
            )));
        }
    }
    Ok(())
}

pub fn read_wallet_public_key(path: &Path) -> Result<String, BenchError> {
    let private = std::fs::read_to_string(path).map_err(|e| {
        BenchError::Wallet(format!(
            "cannot read the wallet's private key {} ({e}): the bench derives the wallet's public key from it; \
             give it the wallet's settings (FREEWALKER_PRIVATE_KEY)",
            path.display()
        ))
    })?;
    public_pem_from_private_pem(&private).map_err(|e| {
        BenchError::Wallet(format!(
            "the wallet's private key {} does not parse: {e}",
            path.display()
        ))
    })
}

/// Asks the wallet whether it is up, so that a wrong `--url` fails in a second
/// with a sentence instead of in setup with a transport error.
pub async fn check_ready(url: &str) -> Result<(), BenchError> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(READY_TIMEOUT_MS))
        .no_proxy()
        .build()
        .map_err(SdkError::from)?;
    let ready = format!("{}/readyz", url.trim_end_matches('/'));
    match http.get(&ready).send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(BenchError::Wallet(format!(
            "{ready} answered {}: the wallet is not ready",
            r.status()
        ))),
        Err(e) => Err(BenchError::Wallet(format!(
            "cannot reach the wallet at {ready}: {e} (start it first: freewalker serve)"
        ))),
    }
}

/// A fresh institution ID: `BENCH_` and random letters and digits.
fn institution_id() -> String {
    let mut id = String::from("BENCH_");
    while id.len() < "BENCH_".len() + INSTITUTION_RANDOM_CHARS {
        let nonce = new_nonce();
        id.extend(nonce.chars().filter(char::is_ascii_alphanumeric));
        id.truncate("BENCH_".len() + INSTITUTION_RANDOM_CHARS);
    }
    id
}

async fn operator(store: &Store, op: Op) -> Result<(), BenchError> {
    let name = op.name();
    store
        .execute(Command {
            nonce: None,
            op,
            now_ms: now_ms(),
        })
        .await
        .map_err(|e| BenchError::Setup(format!("{name}: {e}")))?;
    Ok(())
}

/// Opens the wallet's database, registers a fresh institution with its own key
/// and `notify_url`, and sets the USD rate. `wallet_public_pem` is the wallet's
/// public key ([`read_wallet_public_key`]).
pub async fn connect(
    options: &Options,
    settings: &Settings,
    wallet_public_pem: String,
    notify_url: &str,
) -> Result<Target, BenchError> {
    check_database_exists(settings)?;
    let store = Store::open(&store_options(settings), rules(settings)).await?;

    let (institution_private_pem, institution_public_pem) = generate_rsa_2048()
        .map_err(|e| BenchError::Setup(format!("cannot generate the institution key: {e}")))?;
    let names = Names {
        institution_id: institution_id(),
    };
    operator(
        &store,
        Op::PutInstitution {
            input: InstitutionInput {
                id: names.institution_id.clone(),
                name: Some("Freewalker load generator".to_owned()),
                public_key_pem: Some(institution_public_pem),
                signature_type: Some(SignatureType::Rsa),
                notify_url: Some(Some(notify_url.to_owned())),
                enabled: Some(true),
            },
            create: true,
        },
    )
    .await?;
    let rate = Rate::parse(TARGET_RATE)
        .map_err(|e| BenchError::Setup(format!("rate {TARGET_RATE}: {e}")))?;
    operator(
        &store,
        Op::SetFxRate {
            currency: TARGET_CURRENCY.code().to_owned(),
            rate,
        },
    )
    .await?;

    let client = Client::new(ClientConfig {
        base_url: options.url.clone(),
        institution_id: names.institution_id.clone(),
        private_key_pem: institution_private_pem.clone(),
        wallet_public_key_pem: wallet_public_pem.clone(),
    })?;
    Ok(Target {
        url: options.url.clone(),
        store,
        client,
        names,
        l2: settings.limits.l2,
        wallet_public_pem,
        institution_private_pem,
    })
}

/// An order setup created, for the timed queries to find.
#[derive(Debug, Clone)]
pub struct OrderRef {
    pub out_order_no: String,
    /// The wallet's order number.
    pub order_no: String,
}

/// A setup account.
#[derive(Debug, Clone)]
pub struct Account {
    pub account_no: AccountNo,
    /// Its first funding recharge, if the scenario funds accounts.
    pub recharge: Option<OrderRef>,
    /// Its setup withdrawal, if the scenario creates one.
    pub withdrawal: Option<OrderRef>,
    /// What setup credited, in fen.
    pub credited_fen: i64,
    /// What setup withdrew, in fen.
    pub withdrawn_fen: i64,
}

/// Runs `work` for every item, `limit` at a time, and returns the results in
/// the items' order; the first failure fails all.
pub async fn concurrently<T, R, F, Fut>(
    items: Vec<T>,
    limit: usize,
    work: F,
) -> Result<Vec<R>, BenchError>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<R, BenchError>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limit.max(1)));
    let mut set = JoinSet::new();
    let count = items.len();
    for (index, item) in items.into_iter().enumerate() {
        let permits = permits.clone();
        let job = work(item);
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (index, job.await)
        });
    }
    let mut results: Vec<Option<R>> = (0..count).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        let (index, result) =
            joined.map_err(|e| BenchError::Setup(format!("a task failed: {e}")))?;
        results[index] = Some(result?);
    }
    Ok(results.into_iter().flatten().collect())
}

/// Explains a setup answer other than `0000` in terms of what to fix.
fn refused(step: &str, user: u32, reply: &Reply) -> BenchError {
    let hint = match reply.ret_code() {
        "1005" => {
            " — the wallet does not know the bench's institution: the bench wrote to another database than the wallet reads (give both the same settings)"
        }
        "1003" => " — the bench's clock and the wallet's differ by more than the timestamp window",
        "4029" => {
            " — the wallet rate-limits institutions (FREEWALKER_RATE_LIMIT_RPS): unset it to benchmark"
        }
        "3007" => {
            " — the wallet refused the USD rate the bench set: another database, or FREEWALKER_FX_MAX_AGE too short"
        }
        _ => "",
    };
    BenchError::Setup(format!(
        "{step} of account {user} answered {} {}{hint}",
        reply.ret_code(),
        reply.envelope.ret_msg
    ))
}

fn explain<'a>(step: &'static str, target: &'a Target) -> impl Fn(SdkError) -> BenchError + 'a {
    move |e| match e {
        SdkError::BadResponseSignature(_) => BenchError::Wallet(format!(
            "{step}: {e} — the private key in the bench's settings is not the key of the wallet at {} \
             (give the bench the wallet's settings)",
            target.url
        )),
        other => BenchError::Setup(format!("{step}: {other}")),
    }
}

fn order_ref(out_order_no: String, reply: &Reply) -> OrderRef {
    let order_no = reply
        .envelope
        .data
        .as_ref()
        .and_then(|d| d["order_no"].as_str())
        .unwrap_or_default()
        .to_owned();
    OrderRef {
        out_order_no,
        order_no,
    }
}

/// Creates account `user` and brings it to the scenario's starting state.
async fn set_up_account(
    target: Arc<Target>,
    plan: Arc<Plan>,
    scenario: Scenario,
    user: u32,
) -> Result<Account, BenchError> {
    let client = &target.client;
    let institution = client.institution_id().to_owned();
    let envelope = client.new_envelope()?;
    let sync = requests::user_sync(
        &institution,
        target.names.setup_user(user),
        &target.names.setup_document(user),
        &envelope,
    )?;
    let reply = client
        .user_sync(&sync, &envelope)
        .await
        .map_err(explain("user sync", &target))?;
    if !reply.envelope.is_success() {
        return Err(refused("user sync", user, &reply));
    }
    let account_no = reply
        .envelope
        .data
        .as_ref()
        .and_then(|d| d["account_no"].as_str())
        .and_then(AccountNo::parse)
        .ok_or_else(|| {
            BenchError::Setup(format!(
                "user sync of account {user} returned no valid account_no"
            ))
        })?;

    let kyc = requests::kyc_l2(&institution, account_no.clone(), now_ms() / 1000);
    let reply = client
        .customer_sync(&kyc, None)
        .await
        .map_err(explain("customer sync", &target))?;
    if !reply.envelope.is_success() {
        return Err(refused("customer sync", user, &reply));
    }

    let mut account = Account {
        account_no,
        recharge: None,
        withdrawal: None,
        credited_fen: 0,
        withdrawn_fen: 0,
    };
    for (part, fen) in plan
        .funding_parts(scenario, user, &target.l2)
        .into_iter()
        .enumerate()
    {
        let out_order_no = target.names.funding(user, part as u32);
        let request = requests::recharge(
            &institution,
            out_order_no.clone(),
            account.account_no.clone(),
            fen,
        );
        let reply = client
            .recharge_apply(&request)
            .await
            .map_err(explain("funding recharge", &target))?;
        if !reply.envelope.is_success() {
            return Err(refused("funding recharge", user, &reply));
        }
        account.credited_fen += fen;
        if account.recharge.is_none() {
            account.recharge = Some(order_ref(out_order_no, &reply));
        }
    }
    if scenario.creates_withdrawals() {
        let out_order_no = target.names.setup_withdrawal(user);
        let request = requests::withdraw(
            &institution,
            out_order_no.clone(),
            account.account_no.clone(),
            WITHDRAW_FEN,
        );
        let reply = client
            .withdraw_confirm(&request)
            .await
            .map_err(explain("setup withdrawal", &target))?;
        if !reply.envelope.is_success() {
            return Err(refused("setup withdrawal", user, &reply));
        }
        account.withdrawn_fen += WITHDRAW_FEN;
        account.withdrawal = Some(order_ref(out_order_no, &reply));
    }
    Ok(account)
}

/// Creates every account, `concurrency` at a time.
pub async fn set_up_accounts(
    target: &Target,
    plan: &Arc<Plan>,
    options: &Options,
) -> Result<Vec<Account>, BenchError> {
    let target = Arc::new(target.clone());
    let users: Vec<u32> = (0..options.users as u32).collect();
    let scenario = options.scenario;
    concurrently(users, options.setup_concurrency, |user| {
        set_up_account(target.clone(), plan.clone(), scenario, user)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn institution_ids_are_fresh_and_well_formed() {
        let a = institution_id();
        let b = institution_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert!(a.starts_with("BENCH_"));
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'));
    }
}
