//! The wallet's own secrets: its RSA key (signs every response and notification,
//! opens sensitive-field envelopes) and the data key (seals sensitive fields at
//! rest). Neither ever reaches a log or an error message; errors name the file,
//! never its content.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use freewalker_protocol::envelope::EnvelopeOpener;
use freewalker_protocol::signature::{self, SignatureType, SigningKey};

/// A key file could not be read, written or understood.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("data key: {0}")]
    DataKey(String),
}

fn file_error(path: &Path, reason: impl std::fmt::Display) -> KeyFileError {
    KeyFileError::File {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// Writes a secret readable by its owner only, without ever leaving a partly
/// written file under the final name.
fn write_secret(path: &Path, content: &[u8]) -> Result<(), KeyFileError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&tmp).map_err(|e| file_error(&tmp, e))?;
    f.write_all(content).map_err(|e| file_error(&tmp, e))?;
    f.sync_all().map_err(|e| file_error(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| file_error(path, e))?;
    Ok(())
}

/// The wallet's RSA key pair.
pub struct WalletKeys {
    /// Signs responses and notifications.
    pub signing: SigningKey,
    /// Opens the `Encrypt-Key` envelope of sensitive fields.
    pub opener: EnvelopeOpener,
    /// The public key (SPKI PEM) institutions verify with.
    pub public_pem: String,
}

impl std::fmt::Debug for WalletKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WalletKeys { .. }")
    }
}

impl WalletKeys {
    /// Loads the private key at `path`, generating an RSA-2048 key there (and its
    /// public key beside it as `wallet_public.pem`) if the file does not exist.
    pub fn load_or_generate(path: &Path) -> Result<WalletKeys, KeyFileError> {
        if !path.exists() {
            let (private_pem, public_pem) =
                signature::generate_rsa_2048().map_err(|e| file_error(path, e))?;
            write_secret(path, private_pem.as_bytes())?;
            let public_path = path.with_file_name("wallet_public.pem");
            std::fs::write(&public_path, public_pem.as_bytes())
                .map_err(|e| file_error(&public_path, e))?;
            tracing::info!(private = %path.display(), public = %public_path.display(), "generated the wallet key pair");
        }
        let pem = std::fs::read_to_string(path).map_err(|e| file_error(path, e))?;
        Self::from_pem(&pem).map_err(|reason| file_error(path, reason))
    }

    /// Parses a PKCS#8 RSA private key.
    pub fn from_pem(pem: &str) -> Result<WalletKeys, String> {
        let signing = SigningKey::from_pkcs8_pem(pem).map_err(|e| e.to_string())?;
        if signing.signature_type() != SignatureType::Rsa {
            return Err(
                "the wallet key must be an RSA key (it also opens RSA-OAEP envelopes)".into(),
            );
        }
        let opener = EnvelopeOpener::from_pkcs8_pem(pem).map_err(|e| e.to_string())?;
        let public_pem = signing.public_key_pem().map_err(|e| e.to_string())?;
        Ok(WalletKeys {
            signing,
            opener,
            public_pem,
        })
    }
}

/// Bytes in the data key.
pub const DATA_KEY_BYTES: usize = 32;

/// Loads the data key: from `FREEWALKER_DATA_KEY` (Base64) if set, else from the
/// key file, generating the file on first start.
pub fn load_data_key(
    inline_b64: Option<&str>,
    file: &Path,
) -> Result<[u8; DATA_KEY_BYTES], KeyFileError> {
    let text = match inline_b64 {
        Some(b64) => b64.trim().to_owned(),
        None => {
            if !file.exists() {
                let mut key = [0u8; DATA_KEY_BYTES];
                aws_lc_rs::rand::fill(&mut key)
                    .map_err(|_| KeyFileError::DataKey("no randomness".into()))?;
                write_secret(file, B64.encode(key).as_bytes())?;
                tracing::info!(file = %file.display(), "generated the data key");
            }
            std::fs::read_to_string(file)
                .map_err(|e| file_error(file, e))?
                .trim()
                .to_owned()
        }
    };
    let bytes = B64
        .decode(text.as_bytes())
        .map_err(|_| KeyFileError::DataKey("is not Base64".into()))?;
    bytes
        .try_into()
        .map_err(|_| KeyFileError::DataKey(format!("must be {DATA_KEY_BYTES} bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_once_then_loads_the_same_key() {
        let dir = std::env::temp_dir().join(format!("fw-keys-{}", std::process::id()));
        let path = dir.join("wallet_private.pem");
        let _ = std::fs::remove_dir_all(&dir);
        let first = WalletKeys::load_or_generate(&path).unwrap();
        let again = WalletKeys::load_or_generate(&path).unwrap();
        assert_eq!(first.public_pem, again.public_pem);
        assert!(dir.join("wallet_public.pem").exists());
        let data1 = load_data_key(None, &dir.join("data_key")).unwrap();
        let data2 = load_data_key(None, &dir.join("data_key")).unwrap();
        assert_eq!(data1, data2);
        assert!(
            format!("{first:?}").len() < 30,
            "Debug must not print the key"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
