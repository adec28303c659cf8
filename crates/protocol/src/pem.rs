//! A minimal PEM (RFC 7468) codec for the two key formats of §2: `PRIVATE KEY` (PKCS#8) and
//! `PUBLIC KEY` (SPKI). aws-lc-rs takes DER only, and keys are loaded once, so a few lines here
//! beat pulling a PEM crate into both sides of the wire.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The PEM label of an unencrypted PKCS#8 private key.
pub(crate) const PRIVATE_KEY_LABEL: &str = "PRIVATE KEY";
/// The PEM label of an X.509 SubjectPublicKeyInfo.
pub(crate) const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// The longest PEM text accepted: an RSA-8192 PKCS#8 key is about 6.4 KB of PEM, so this leaves
/// room for comments around it while bounding the work done on a pasted file.
pub(crate) const PEM_BYTES_MAX: usize = 16 * 1024;

/// Why a PEM text could not be decoded. Never carries any of the key's bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PemError {
    /// No `-----BEGIN …-----` / `-----END …-----` pair.
    #[error("no PEM block found")]
    NoBlock,
    /// A PEM block with another label, e.g. `RSA PRIVATE KEY` (PKCS#1) where PKCS#8 is required.
    #[error("PEM block is {found:?}, expected {expected:?}")]
    WrongLabel {
        /// The label required here.
        expected: &'static str,
        /// The label found.
        found: String,
    },
    /// The body is not standard Base64 (encrypted PEM with headers ends up here too).
    #[error("PEM body is not valid Base64")]
    Base64,
    /// The text is longer than 16 KiB, far more than any RSA or SM2 key needs.
    #[error("PEM text is longer than {PEM_BYTES_MAX} bytes")]
    TooLong,
}

/// Decodes the first PEM block of `text`, which must carry `label`, into its DER bytes.
/// Tolerates `\r\n` line ends and whitespace around and inside the Base64 body.
pub(crate) fn decode(text: &str, label: &'static str) -> Result<Vec<u8>, PemError> {
    if text.len() > PEM_BYTES_MAX {
        return Err(PemError::TooLong);
    }
    let (_, after_begin) = text.split_once("-----BEGIN ").ok_or(PemError::NoBlock)?;
    let (found, rest) = after_begin.split_once("-----").ok_or(PemError::NoBlock)?;
    if found != label {
        return Err(PemError::WrongLabel {
            expected: label,
            found: found.chars().take(64).collect(),
        });
    }
    let end_marker = format!("-----END {label}-----");
    let (body, _) = rest.split_once(&end_marker).ok_or(PemError::NoBlock)?;
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).map_err(|_| PemError::Base64)
}

/// Encodes DER bytes as a PEM block with `label`, the Base64 body wrapped at 64 characters and
/// every line (the last included) ended by `\n`, as OpenSSL writes it.
pub(crate) fn encode(der: &[u8], label: &str) -> String {
    let body = STANDARD.encode(der);
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    // Base64 output is ASCII, so splitting by bytes keeps each line valid UTF-8.
    for line in body.as_bytes().chunks(64) {
        out.extend(line.iter().map(|&b| char::from(b)));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_wraps_at_64() {
        let der: Vec<u8> = (0..=255).collect();
        let pem = encode(&der, PUBLIC_KEY_LABEL);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(decode(&pem, PUBLIC_KEY_LABEL), Ok(der.clone()));

        let crlf = format!("\r\n  {}\r\n\r\n", pem.replace('\n', "\r\n"));
        assert_eq!(decode(&crlf, PUBLIC_KEY_LABEL), Ok(der));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert_eq!(decode("", PRIVATE_KEY_LABEL), Err(PemError::NoBlock));
        assert_eq!(
            decode("-----BEGIN PRIVATE KEY-----\nAAAA\n", PRIVATE_KEY_LABEL),
            Err(PemError::NoBlock)
        );
        assert_eq!(
            decode(
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
                PRIVATE_KEY_LABEL
            ),
            Err(PemError::WrongLabel {
                expected: PRIVATE_KEY_LABEL,
                found: "RSA PRIVATE KEY".into()
            })
        );
        assert_eq!(
            decode(
                "-----BEGIN PRIVATE KEY-----\nA*AA\n-----END PRIVATE KEY-----\n",
                PRIVATE_KEY_LABEL
            ),
            Err(PemError::Base64)
        );
        assert_eq!(
            decode(&"A".repeat(PEM_BYTES_MAX + 1), PRIVATE_KEY_LABEL),
            Err(PemError::TooLong)
        );
    }
}
