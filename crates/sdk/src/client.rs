//! The signed client.

use std::sync::Arc;
use std::time::Duration;

use freewalker_protocol::api::{
    AccountQueryRequest, ApiRequest, CustomerSyncRequest, Envelope, OrderQuery,
    RechargeApplyRequest, Sealed, UserSyncRequest, WithdrawConfirmRequest, paths,
};
use freewalker_protocol::envelope::{EnvelopeKey, EnvelopeSealer};
use freewalker_protocol::headers::{self, AuthHeaders};
use freewalker_protocol::signature::{SigningKey, VerifyingKey};

use crate::error::SdkError;

/// The header carrying the wrapped envelope key (§2).
pub const ENCRYPT_KEY_HEADER: &str = "Encrypt-Key";
/// Default time a call may take, connection included.
pub const CALL_TIMEOUT_MS: u64 = 30_000;
/// The wallet's answers are envelopes of a few hundred bytes; a longer answer
/// is not read past this.
pub const RESPONSE_BYTES_MAX: usize = 1024 * 1024;
/// How far an answer's `timestamp` may be from this client's clock: the same
/// window the wallet applies to requests (§2). An older signed answer replayed
/// by someone in the middle is refused.
pub const RESPONSE_SKEW_SECS_MAX: i64 = 300;

/// Everything a client needs: who it is, its key, and the wallet's public key.
#[derive(Clone)]
pub struct ClientConfig {
    /// e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    pub institution_id: String,
    /// The institution's private key (PKCS#8 PEM, RSA or SM2).
    pub private_key_pem: String,
    /// The wallet's public key (SPKI PEM): verifies answers, seals sensitive fields.
    pub wallet_public_key_pem: String,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("institution_id", &self.institution_id)
            .finish_non_exhaustive()
    }
}

/// A verified answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The envelope, whose signature has been verified.
    pub envelope: Envelope,
    /// The raw body as signed.
    pub body: Vec<u8>,
    /// The wallet's signature headers, as received.
    pub headers: AuthHeaders,
}

impl Reply {
    /// The `ret_code`.
    pub fn ret_code(&self) -> &str {
        &self.envelope.ret_code
    }
}

/// A fresh per-message envelope key and its `Encrypt-Key` header value: seal
/// each sensitive field with [`SealedFields::seal`], send with the header.
#[derive(Debug)]
pub struct SealedFields {
    pub key: EnvelopeKey,
    pub header: String,
}

impl SealedFields {
    /// Encrypts one field's plaintext.
    pub fn seal(&self, plaintext: &str) -> Result<Sealed, SdkError> {
        Ok(Sealed::seal(&self.key, plaintext)?)
    }
}

/// Now, as Unix seconds. Replaceable for tests that drive a server's clock.
pub type ClockFn = Arc<dyn Fn() -> i64 + Send + Sync>;

fn system_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A raw request for testing the wallet's defences: any body, any headers.
#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    pub path: String,
    pub body: Vec<u8>,
    /// Headers sent as they are (a signed request's headers come from [`Client::sign_headers`]).
    pub headers: Vec<(String, String)>,
}

/// A raw answer, its signature checked but not required to verify.
#[derive(Debug, Clone)]
pub struct RawReply {
    pub status: u16,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
    /// Whether the five signature headers are present and verify with the wallet key.
    pub signature_ok: bool,
    /// The envelope, if the body is one.
    pub envelope: Option<Envelope>,
}

/// The institution's client of the wallet API.
#[derive(Clone)]
pub struct Client {
    base_url: String,
    institution_id: String,
    signing: Arc<SigningKey>,
    wallet_key: Arc<VerifyingKey>,
    sealer: Arc<EnvelopeSealer>,
    http: reqwest::Client,
    clock: ClockFn,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("institution_id", &self.institution_id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with the system clock and the default timeout.
    pub fn new(config: ClientConfig) -> Result<Client, SdkError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(CALL_TIMEOUT_MS))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Client {
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            institution_id: config.institution_id,
            signing: Arc::new(SigningKey::from_pkcs8_pem(&config.private_key_pem)?),
            wallet_key: Arc::new(VerifyingKey::from_spki_pem(&config.wallet_public_key_pem)?),
            sealer: Arc::new(EnvelopeSealer::from_spki_pem(
                &config.wallet_public_key_pem,
            )?),
            http,
            clock: Arc::new(system_secs),
        })
    }

    /// The same client with another clock (tests that move the wallet's clock).
    pub fn with_clock(mut self, clock: ClockFn) -> Client {
        self.clock = clock;
        self
    }

    /// The same client speaking as another institution id (tests of `1005`/`1006`).
    pub fn with_institution_id(mut self, id: impl Into<String>) -> Client {
        self.institution_id = id.into();
        self
    }

    pub fn institution_id(&self) -> &str {
        &self.institution_id
    }

    /// The wallet's public key this client trusts.
    pub fn wallet_key(&self) -> &VerifyingKey {
        &self.wallet_key
    }

    /// A fresh envelope for one message's sensitive fields.
    pub fn new_envelope(&self) -> Result<SealedFields, SdkError> {
        let key = EnvelopeKey::generate()?;
        let header = self.sealer.wrap(&key)?;
        Ok(SealedFields { key, header })
    }

    /// The five signature headers for `body`, now, with a fresh nonce.
    pub fn sign_headers(&self, body: &[u8]) -> Result<AuthHeaders, SdkError> {
        Ok(AuthHeaders::sign(
            &self.signing,
            body,
            &self.institution_id,
            (self.clock)(),
        )?)
    }

    /// Signs and sends `body` to `path` with an optional `Encrypt-Key` header
    /// value, verifying the answer's signature and freshness.
    pub async fn call_body(
        &self,
        path: &str,
        body: Vec<u8>,
        encrypt_key: Option<&str>,
    ) -> Result<Reply, SdkError> {
        let signed = self.sign_headers(&body)?;
        let mut request = self
            .http
            .post(format!("{}{}", self.base_url, path))
            .header("content-type", "application/json; charset=utf-8");
        for (name, value) in signed.to_pairs() {
            request = request.header(name, value);
        }
        if let Some(header) = encrypt_key {
            request = request.header(ENCRYPT_KEY_HEADER, header);
        }
        let response = request.body(body).send().await?;
        let status = response.status().as_u16();
        let response_headers = response.headers().clone();
        let bytes = read_capped(response).await?;
        let auth = headers::parse(|name| response_headers.get(name).and_then(|v| v.to_str().ok()))
            .map_err(|e| SdkError::BadResponseSignature(e.to_string()))?;
        auth.verify(&self.wallet_key, &bytes)
            .map_err(|e| SdkError::BadResponseSignature(e.to_string()))?;
        if auth.timestamp_secs.abs_diff((self.clock)()) > RESPONSE_SKEW_SECS_MAX.unsigned_abs() {
            return Err(SdkError::BadResponseSignature(format!(
                "the answer is stamped {}, more than {RESPONSE_SKEW_SECS_MAX} s from this clock (a replayed answer, or a clock to fix)",
                auth.timestamp_text
            )));
        }
        let envelope =
            Envelope::from_json(&bytes).map_err(|e| SdkError::BadResponse(e.to_string()))?;
        Ok(Reply {
            status,
            envelope,
            body: bytes,
            headers: auth,
        })
    }

    /// Sends a typed request.
    pub async fn call<R: ApiRequest>(
        &self,
        path: &str,
        request: &R,
        envelope: Option<&SealedFields>,
    ) -> Result<Reply, SdkError> {
        self.call_body(path, request.to_json(), envelope.map(|e| e.header.as_str()))
            .await
    }

    /// §4.1; `id_no` and `mobile` must be sealed with `envelope`.
    pub async fn user_sync(
        &self,
        request: &UserSyncRequest,
        envelope: &SealedFields,
    ) -> Result<Reply, SdkError> {
        self.call(paths::USER_SYNC, request, Some(envelope)).await
    }

    /// §4.2; `address`, if any, must be sealed with `envelope`.
    pub async fn customer_sync(
        &self,
        request: &CustomerSyncRequest,
        envelope: Option<&SealedFields>,
    ) -> Result<Reply, SdkError> {
        self.call(paths::CUSTOMER_SYNC, request, envelope).await
    }

    /// §4.3.
    pub async fn recharge_apply(&self, request: &RechargeApplyRequest) -> Result<Reply, SdkError> {
        self.call(paths::RECHARGE_APPLY, request, None).await
    }

    /// §4.4.
    pub async fn recharge_query(&self, request: &OrderQuery) -> Result<Reply, SdkError> {
        self.call(paths::RECHARGE_QUERY, request, None).await
    }

    /// §4.5.
    pub async fn withdraw_confirm(
        &self,
        request: &WithdrawConfirmRequest,
    ) -> Result<Reply, SdkError> {
        self.call(paths::WITHDRAW_CONFIRM, request, None).await
    }

    /// §4.6.
    pub async fn withdraw_query(&self, request: &OrderQuery) -> Result<Reply, SdkError> {
        self.call(paths::WITHDRAW_QUERY, request, None).await
    }

    /// §4.7.
    pub async fn account_query(&self, request: &AccountQueryRequest) -> Result<Reply, SdkError> {
        self.call(paths::ACCOUNT_QUERY, request, None).await
    }

    /// Sends anything, for testing the wallet's defences; checks the answer's
    /// signature but returns the answer whatever the result.
    pub async fn send_raw(&self, raw: RawRequest) -> Result<RawReply, SdkError> {
        let mut request = self.http.post(format!("{}{}", self.base_url, raw.path));
        for (name, value) in &raw.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.body(raw.body).send().await?;
        let status = response.status().as_u16();
        let response_headers = response.headers().clone();
        let bytes = read_capped(response).await?;
        let signature_ok =
            headers::parse(|name| response_headers.get(name).and_then(|v| v.to_str().ok()))
                .map(|auth| auth.verify(&self.wallet_key, &bytes).is_ok())
                .unwrap_or(false);
        Ok(RawReply {
            status,
            envelope: Envelope::from_json(&bytes).ok(),
            body: bytes,
            headers: response_headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        v.to_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            signature_ok,
        })
    }
}

/// Reads an answer up to [`RESPONSE_BYTES_MAX`].
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, SdkError> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if out.len() + chunk.len() > RESPONSE_BYTES_MAX {
            return Err(SdkError::BadResponse(format!(
                "the answer is longer than {RESPONSE_BYTES_MAX} bytes"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
