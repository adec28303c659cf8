//! The global options (each also from a `FREEWALKER_CLI_*` variable), the files they name, and
//! the [`Client`] built from them. Every problem here is a usage error (exit 2) that names the
//! option and the file, with a hint for the mistakes integrators make on their first day.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::Args;
use freewalker_protocol::envelope::EnvelopeSealer;
use freewalker_protocol::signature::{KeyError, PemError, SigningKey, VerifyingKey};
use freewalker_sdk::{Client, ClientConfig};

use super::Failure;

/// The largest PEM file read, in bytes: an RSA-8192 PKCS#8 key is about 6.4 KB, and the PEM
/// decoder itself refuses more than 16 KiB; this bounds the read before that.
const PEM_FILE_BYTES_MAX: u64 = 64 * 1024;
/// The largest body file read, in bytes: the wallet refuses bodies over 64 KiB (`2004`); a
/// little more is allowed so that an integrator can watch it do so.
pub(super) const BODY_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// Who we are and whom we talk to: shared by every subcommand.
#[derive(Debug, Args)]
pub(super) struct GlobalArgs {
    /// The wallet's base URL.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "FREEWALKER_CLI_URL",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL"
    )]
    pub url: String,

    /// Your institution ID, as the wallet operator registered it (`freewalker institution add
    /// --id`). Sent in the institution_id header and body.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "FREEWALKER_CLI_INSTITUTION_ID",
        value_name = "ID"
    )]
    pub institution_id: Option<String>,

    /// Your private key: a PKCS#8 PEM file (-----BEGIN PRIVATE KEY-----), RSA of 2048 bits or
    /// more, or SM2. It signs every request.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "FREEWALKER_CLI_KEY",
        value_name = "PEM_FILE"
    )]
    pub key: Option<PathBuf>,

    /// The wallet's public key: an SPKI PEM file (-----BEGIN PUBLIC KEY-----). The wallet writes
    /// it as freewalker-data/wallet_public.pem. It verifies every answer and notification, and
    /// encrypts the sensitive fields.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "FREEWALKER_CLI_WALLET_KEY",
        value_name = "PEM_FILE"
    )]
    pub wallet_key: Option<PathBuf>,

    /// Also print, on stderr, the request body sent (sensitive fields stay encrypted) and the
    /// answer's HTTP status and signature headers.
    #[arg(long, short, global = true, help_heading = "Global options")]
    pub verbose: bool,
}

impl GlobalArgs {
    /// `--institution-id`, required.
    pub fn institution_id(&self) -> Result<&str, Failure> {
        self.institution_id.as_deref().ok_or_else(|| {
            Failure::usage(
                "missing --institution-id (or FREEWALKER_CLI_INSTITUTION_ID): the institution ID \
                 the wallet operator registered you under",
            )
        })
    }

    /// `--key`, required, loaded: the key and its PEM text.
    pub fn signing_key(&self) -> Result<(SigningKey, String), Failure> {
        let path = self.key.as_deref().ok_or_else(|| {
            Failure::usage(
                "missing --key (or FREEWALKER_CLI_KEY): your institution's private key, a PKCS#8 \
                 PEM file",
            )
        })?;
        let pem = read_pem(path, "--key")?;
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|e| key_failure("--key", path, &e))?;
        Ok((key, pem))
    }

    /// `--wallet-key`, required, loaded: the key and its PEM text.
    pub fn wallet_key(&self) -> Result<(VerifyingKey, String), Failure> {
        let path = self.wallet_key.as_deref().ok_or_else(|| {
            Failure::usage(
                "missing --wallet-key (or FREEWALKER_CLI_WALLET_KEY): the wallet's public key, \
                 which the wallet writes as freewalker-data/wallet_public.pem",
            )
        })?;
        let pem = read_pem(path, "--wallet-key")?;
        let key =
            VerifyingKey::from_spki_pem(&pem).map_err(|e| key_failure("--wallet-key", path, &e))?;
        Ok((key, pem))
    }

    /// The signed client of every API subcommand. Each key is loaded on its own first, so that
    /// a problem names the option and file at fault.
    pub fn client(&self) -> Result<Client, Failure> {
        let institution_id = self.institution_id()?.to_owned();
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(Failure::usage(format!(
                "--url {:?} must start with http:// or https://",
                self.url
            )));
        }
        let (_, private_key_pem) = self.signing_key()?;
        let (_, wallet_public_key_pem) = self.wallet_key()?;
        // The envelope of §2 wraps keys with RSA-OAEP: the wallet's key must be RSA.
        if let Err(e) = EnvelopeSealer::from_spki_pem(&wallet_public_key_pem) {
            let path = self.wallet_key.as_deref().unwrap_or(Path::new("?"));
            return Err(key_failure("--wallet-key", path, &e));
        }
        Client::new(ClientConfig {
            base_url: self.url.clone(),
            institution_id,
            private_key_pem,
            wallet_public_key_pem,
        })
        .map_err(|e| Failure::usage(format!("cannot set up the client: {e}")))
    }
}

/// Reads at most `max_bytes` of `path`, refusing a longer file.
pub(super) fn read_capped(path: &Path, option: &str, max_bytes: u64) -> Result<Vec<u8>, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::usage(format!("cannot read {option} {}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(format!("cannot read {option} {}: {e}", path.display())))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Failure::usage(format!(
            "{option} {} is larger than {max_bytes} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Reads a PEM file as text.
pub(super) fn read_pem(path: &Path, option: &str) -> Result<String, Failure> {
    let bytes = read_capped(path, option, PEM_FILE_BYTES_MAX)?;
    String::from_utf8(bytes).map_err(|_| {
        Failure::usage(format!(
            "{option} {} is not a PEM text file (is it DER? convert with openssl pkey -inform DER)",
            path.display()
        ))
    })
}

/// A key that would not load, with a hint for the usual mix-ups. `--key` takes a private key;
/// every other key option takes a public one.
pub(super) fn key_failure(option: &str, path: &Path, error: &KeyError) -> Failure {
    let wants_private = option == "--key";
    let hint = match error {
        KeyError::Pem(PemError::WrongLabel { found, .. }) => match found.as_str() {
            "RSA PRIVATE KEY" if wants_private => {
                " (a PKCS#1 key: convert it with `openssl pkcs8 -topk8 -nocrypt -in KEY -out \
                 KEY.pkcs8.pem`)"
            }
            "ENCRYPTED PRIVATE KEY" if wants_private => {
                " (decrypt it first: `openssl pkcs8 -in KEY -out KEY.plain.pem`)"
            }
            "RSA PUBLIC KEY" if !wants_private => {
                " (a PKCS#1 public key: convert it with `openssl rsa -RSAPublicKey_in -in KEY \
                 -pubout`)"
            }
            "CERTIFICATE" if !wants_private => {
                " (a certificate: extract its key with `openssl x509 -in CERT -pubkey -noout`)"
            }
            found if !wants_private && found.contains("PRIVATE") => {
                " (this option takes a PUBLIC key; a private key never leaves its owner)"
            }
            found if wants_private && found.contains("PUBLIC") => {
                " (this option takes your PRIVATE key)"
            }
            _ => "",
        },
        _ => "",
    };
    Failure::usage(format!("{option} {}: {error}{hint}", path.display()))
}
