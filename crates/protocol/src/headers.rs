//! The authentication headers of every request, response and notification (`spec/API.md` §2):
//! `Signature-Type`, `Signature-Data`, `timestamp`, `nonce`, `institution_id`, plus the
//! `Encrypt-Key` of the sensitive-field envelope.
//!
//! HTTP header names are case-insensitive; the constants are lowercase, the form the `http`
//! crate (and HTTP/2) uses. Error messages name headers as the spec spells them.

use crate::fields::is_id_byte;
use crate::signature::{
    SIGNATURE_B64_CHARS_MAX, SignError, SignatureError, SignatureType, SigningKey, VerifyingKey,
};
use crate::time_format::{format_header_timestamp, parse_header_timestamp};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::sync::atomic::{AtomicU64, Ordering};

/// `Signature-Type`: `RSA` or `SM2`.
pub const SIGNATURE_TYPE: &str = "signature-type";
/// `Signature-Data`: Base64 of the signature over `md5_hex(body)`.
pub const SIGNATURE_DATA: &str = "signature-data";
/// `timestamp`: the sender's clock, `yyyyMMddHHmmss` in UTC+08:00.
pub const TIMESTAMP: &str = "timestamp";
/// `nonce`: never reused by the same institution.
pub const NONCE: &str = "nonce";
/// `institution_id`: the caller's institution.
pub const INSTITUTION_ID: &str = "institution_id";
/// `Encrypt-Key`: the RSA-OAEP-wrapped envelope key, when the body has sensitive fields.
pub const ENCRYPT_KEY: &str = "encrypt-key";

/// The shortest nonce accepted, in characters (§2).
pub const NONCE_CHARS_MIN: usize = 10;
/// The longest nonce accepted, in characters (§2).
pub const NONCE_CHARS_MAX: usize = 64;
/// The length of the nonces [`new_nonce`] draws: 32 characters of a 64-symbol alphabet carry
/// 192 random bits, so two never collide in practice.
pub const NONCE_GENERATED_CHARS: usize = 32;
/// The longest `institution_id`, in characters (§4: S(32)).
pub const INSTITUTION_ID_CHARS_MAX: usize = 32;
/// How far a `timestamp` may be from the receiver's clock, in either direction, in seconds (§2).
pub const TIMESTAMP_SKEW_SECS_MAX: i64 = 300;
/// How long a nonce stays used for its institution, in seconds (§2). Longer than twice the skew,
/// so a replay cannot slip in after its nonce expires while its timestamp is still accepted.
pub const NONCE_TTL_SECS: i64 = 600;

/// The alphabet of nonces and of institution-supplied IDs: exactly 64 symbols, so a random byte's
/// low six bits pick one without bias.
const NONCE_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// A missing or malformed authentication header: `1001`. Names the header as the spec spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The header is absent or empty.
    #[error("header {header} is missing")]
    Missing {
        /// The header, as the spec spells it.
        header: &'static str,
    },
    /// The header is present but not in its required form.
    #[error("header {header} is malformed: {reason}")]
    Malformed {
        /// The header, as the spec spells it.
        header: &'static str,
        /// What is wrong, in a few words.
        reason: &'static str,
    },
}

impl HeaderError {
    /// The header at fault, as the spec spells it (`Signature-Data`, `nonce`, …).
    pub fn header(&self) -> &'static str {
        match self {
            HeaderError::Missing { header } | HeaderError::Malformed { header, .. } => header,
        }
    }
}

/// The five authentication headers, parsed and well-formed (their meaning, such as whether the
/// signature verifies or the timestamp is fresh, is checked afterwards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeaders {
    /// `Signature-Type`.
    pub signature_type: SignatureType,
    /// `Signature-Data`, as received: standard Base64 with padding.
    pub signature: String,
    /// `timestamp` as Unix seconds.
    pub timestamp_secs: i64,
    /// `timestamp` as received (`yyyyMMddHHmmss`).
    pub timestamp_text: String,
    /// `nonce`: 10 to 64 characters of `[A-Za-z0-9_-]`.
    pub nonce: String,
    /// `institution_id`: 1 to 32 characters of `[A-Za-z0-9_-]`.
    pub institution_id: String,
}

/// Reads the five authentication headers through `get(lowercase_name)`, which returns a header's
/// value if present. Checks them in the order of the table of §2 and reports the first problem.
pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<AuthHeaders, HeaderError> {
    let required = |name: &str, header: &'static str| match get(name) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(HeaderError::Missing { header }),
    };
    let malformed =
        |header: &'static str, reason: &'static str| HeaderError::Malformed { header, reason };

    let signature_type = required(SIGNATURE_TYPE, "Signature-Type")?;
    let signature_type = SignatureType::parse(signature_type)
        .ok_or(malformed("Signature-Type", "must be RSA or SM2"))?;

    let signature = required(SIGNATURE_DATA, "Signature-Data")?;
    if signature.len() > SIGNATURE_B64_CHARS_MAX || STANDARD.decode(signature).is_err() {
        return Err(malformed(
            "Signature-Data",
            "must be standard Base64 with padding",
        ));
    }

    let timestamp_text = required(TIMESTAMP, "timestamp")?;
    let timestamp_secs = parse_header_timestamp(timestamp_text).map_err(|_| {
        malformed(
            "timestamp",
            "must be yyyyMMddHHmmss in UTC+08:00, a real date and time",
        )
    })?;

    let nonce = required(NONCE, "nonce")?;
    if !(NONCE_CHARS_MIN..=NONCE_CHARS_MAX).contains(&nonce.len()) || !nonce.bytes().all(is_id_byte)
    {
        return Err(malformed(
            "nonce",
            "must be 10 to 64 characters of A-Z a-z 0-9 _ -",
        ));
    }

    let institution_id = required(INSTITUTION_ID, "institution_id")?;
    if institution_id.len() > INSTITUTION_ID_CHARS_MAX || !institution_id.bytes().all(is_id_byte) {
        return Err(malformed(
            "institution_id",
            "must be 1 to 32 characters of A-Z a-z 0-9 _ -",
        ));
    }

    Ok(AuthHeaders {
        signature_type,
        signature: signature.to_owned(),
        timestamp_secs,
        timestamp_text: timestamp_text.to_owned(),
        nonce: nonce.to_owned(),
        institution_id: institution_id.to_owned(),
    })
}

impl AuthHeaders {
    /// Signs `body` as sent at `unix_secs` on behalf of `institution_id`, with a fresh nonce:
    /// the headers a request, response or notification carries.
    pub fn sign(
        key: &SigningKey,
        body: &[u8],
        institution_id: &str,
        unix_secs: i64,
    ) -> Result<AuthHeaders, SignError> {
        Ok(AuthHeaders {
            signature_type: key.signature_type(),
            signature: key.sign(body)?,
            timestamp_secs: unix_secs,
            timestamp_text: format_header_timestamp(unix_secs),
            nonce: new_nonce(),
            institution_id: institution_id.to_owned(),
        })
    }

    /// The headers as `(lowercase name, value)` pairs, in the order of §2.
    pub fn to_pairs(&self) -> [(&'static str, String); 5] {
        [
            (SIGNATURE_TYPE, self.signature_type.as_str().to_owned()),
            (SIGNATURE_DATA, self.signature.clone()),
            (TIMESTAMP, self.timestamp_text.clone()),
            (NONCE, self.nonce.clone()),
            (INSTITUTION_ID, self.institution_id.clone()),
        ]
    }

    /// Whether the timestamp is within [`TIMESTAMP_SKEW_SECS_MAX`] of `now_secs`, either way.
    pub fn timestamp_is_fresh(&self, now_secs: i64) -> bool {
        self.timestamp_secs.abs_diff(now_secs) <= TIMESTAMP_SKEW_SECS_MAX.unsigned_abs()
    }

    /// Verifies the signature over `body` with `key`; a `Signature-Type` other than the key's
    /// type is refused as well.
    pub fn verify(&self, key: &VerifyingKey, body: &[u8]) -> Result<(), SignatureError> {
        key.verify_typed(self.signature_type, body, &self.signature)
    }
}

/// A fresh nonce: [`NONCE_GENERATED_CHARS`] random characters of `[A-Za-z0-9_-]`, from the
/// system random generator. For clients, and for the wallet's own responses and notifications.
pub fn new_nonce() -> String {
    let mut bytes = [0_u8; NONCE_GENERATED_CHARS];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        // AWS-LC aborts the process rather than report a failing generator, so this is not
        // expected to run. Should it, a nonce only has to be unique, not secret: a process-wide
        // counter, one symbol per four bits, keeps every nonce of this process distinct.
        static FALLBACK_COUNTER: AtomicU64 = AtomicU64::new(0);
        let count = FALLBACK_COUNTER.fetch_add(1, Ordering::Relaxed);
        for (i, slot) in bytes.iter_mut().rev().take(16).enumerate() {
            *slot = ((count >> (4 * i)) & 0x0f) as u8;
        }
    }
    bytes
        .iter()
        .map(|b| char::from(NONCE_ALPHABET[usize::from(b & 0x3f)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn valid() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            (SIGNATURE_TYPE, "RSA"),
            (SIGNATURE_DATA, "c2lnbmF0dXJl"),
            (TIMESTAMP, "20261126145022"),
            (NONCE, "abcdefghij_-0123"),
            (INSTITUTION_ID, "INST0001"),
        ])
    }

    fn parse_map(map: &HashMap<&'static str, &'static str>) -> Result<AuthHeaders, HeaderError> {
        parse(|name| map.get(name).copied())
    }

    #[test]
    fn parses_well_formed_headers() {
        let headers = parse_map(&valid()).unwrap();
        assert_eq!(headers.signature_type, SignatureType::Rsa);
        assert_eq!(headers.timestamp_secs, 1_795_675_822);
        assert_eq!(headers.timestamp_text, "20261126145022");
        assert_eq!(headers.nonce, "abcdefghij_-0123");
        assert_eq!(headers.institution_id, "INST0001");
        assert!(headers.timestamp_is_fresh(1_795_675_822 + 300));
        assert!(headers.timestamp_is_fresh(1_795_675_822 - 300));
        assert!(!headers.timestamp_is_fresh(1_795_675_822 + 301));
        assert!(!headers.timestamp_is_fresh(1_795_675_822 - 301));
    }

    #[test]
    fn each_missing_header_is_named() {
        for (name, spelled) in [
            (SIGNATURE_TYPE, "Signature-Type"),
            (SIGNATURE_DATA, "Signature-Data"),
            (TIMESTAMP, "timestamp"),
            (NONCE, "nonce"),
            (INSTITUTION_ID, "institution_id"),
        ] {
            let mut map = valid();
            map.remove(name);
            assert_eq!(
                parse_map(&map),
                Err(HeaderError::Missing { header: spelled })
            );
            map.insert(name, "");
            assert_eq!(
                parse_map(&map),
                Err(HeaderError::Missing { header: spelled })
            );
        }
    }

    #[test]
    fn each_malformed_header_is_named() {
        let cases: &[(&str, &str, &str)] = &[
            (SIGNATURE_TYPE, "rsa", "Signature-Type"),
            (SIGNATURE_TYPE, "ECDSA", "Signature-Type"),
            (SIGNATURE_DATA, "not base64!", "Signature-Data"),
            (SIGNATURE_DATA, "c2lnbmF0dXJl=", "Signature-Data"),
            (SIGNATURE_DATA, "c2lnbmF0dXJlIQ", "Signature-Data"),
            (TIMESTAMP, "2026-11-26 14:50:22", "timestamp"),
            (TIMESTAMP, "20261326145022", "timestamp"),
            (TIMESTAMP, "1795675822", "timestamp"),
            (NONCE, "short", "nonce"),
            (NONCE, "has space in it", "nonce"),
            (NONCE, "ünïcödé-nonce", "nonce"),
            (INSTITUTION_ID, "INST 0001", "institution_id"),
            (
                INSTITUTION_ID,
                "INST0001INST0001INST0001INST00012",
                "institution_id",
            ),
        ];
        for (name, value, spelled) in cases {
            let mut map = valid();
            map.insert(name, value);
            let err = parse_map(&map).unwrap_err();
            assert!(
                matches!(err, HeaderError::Malformed { header, .. } if header == *spelled),
                "{name}={value:?}: {err:?}"
            );
        }
        let mut map = valid();
        let long_nonce: &'static str = "n".repeat(NONCE_CHARS_MAX + 1).leak();
        map.insert(NONCE, long_nonce);
        assert!(parse_map(&map).is_err());
        let max_nonce: &'static str = "n".repeat(NONCE_CHARS_MAX).leak();
        map.insert(NONCE, max_nonce);
        assert!(parse_map(&map).is_ok());
    }

    #[test]
    fn messages_name_the_header() {
        let mut map = valid();
        map.insert(NONCE, "x");
        assert_eq!(
            parse_map(&map).unwrap_err().to_string(),
            "header nonce is malformed: must be 10 to 64 characters of A-Z a-z 0-9 _ -"
        );
    }

    #[test]
    fn new_nonces_are_valid_and_distinct() {
        let a = new_nonce();
        let b = new_nonce();
        assert_ne!(a, b);
        for nonce in [a, b] {
            assert_eq!(nonce.len(), NONCE_GENERATED_CHARS);
            assert!(nonce.bytes().all(is_id_byte));
        }
    }
}
