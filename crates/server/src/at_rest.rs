//! Sealing sensitive fields at rest (DESIGN: document numbers, mobiles and
//! addresses are encrypted with a data key from the configuration).
//!
//! A sealed value is `v1:` followed by Base64 of `nonce[12] ‖ ciphertext ‖ tag[16]`
//! (AES-256-GCM, fresh nonce per value). Identity documents are also reduced to
//! a keyed hash (HMAC-SHA256 under a key derived from the data key) so the
//! database can enforce "one document, one user per institution" (§4.1, `3011`)
//! without holding the number in clear.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

const VERSION_PREFIX: &str = "v1:";

/// A sealed value could not be opened: wrong key or damaged data.
#[derive(Debug, thiserror::Error)]
#[error("a sealed value does not open with this data key")]
pub struct OpenError;

/// The data key, ready to seal, open and hash.
pub struct AtRest {
    aead: LessSafeKey,
    document_key: hmac::Key,
}

impl std::fmt::Debug for AtRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AtRest { .. }")
    }
}

impl AtRest {
    /// Builds the sealer from the 32-byte data key.
    pub fn new(data_key: &[u8; 32]) -> AtRest {
        let aead = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, data_key).expect("32 bytes is an AES-256 key"),
        );
        // A separate key for hashing, so the hash reveals nothing about the
        // encryption key and the two uses cannot be confused.
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, data_key),
            b"freewalker document hash v1",
        );
        let document_key = hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref());
        AtRest { aead, document_key }
    }

    /// Encrypts a value for storage.
    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("the system has randomness");
        let mut buf = plaintext.as_bytes().to_vec();
        self.aead
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
            .expect("AES-GCM sealing of a short value cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        format!("{VERSION_PREFIX}{}", B64.encode(out))
    }

    /// Decrypts a stored value.
    pub fn open(&self, sealed: &str) -> Result<String, OpenError> {
        let b64 = sealed.strip_prefix(VERSION_PREFIX).ok_or(OpenError)?;
        let mut data = B64.decode(b64).map_err(|_| OpenError)?;
        if data.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let nonce = Nonce::try_assume_unique_for_key(&data[..NONCE_LEN]).map_err(|_| OpenError)?;
        let plain = self
            .aead
            .open_in_place(nonce, Aad::empty(), &mut data[NONCE_LEN..])
            .map_err(|_| OpenError)?;
        String::from_utf8(plain.to_vec()).map_err(|_| OpenError)
    }

    /// The keyed hash of an identity document. The number is compared without
    /// case or surrounding spaces, as printed documents are.
    pub fn document_hash(&self, nationality: &str, id_type: &str, id_no: &str) -> String {
        let normalised = format!(
            "{}\u{1f}{}\u{1f}{}",
            nationality,
            id_type,
            id_no.trim().to_uppercase()
        );
        let tag = hmac::sign(&self.document_key, normalised.as_bytes());
        tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let r = AtRest::new(&[7u8; 32]);
        let s = r.seal("E12345678");
        assert!(s.starts_with("v1:"));
        assert!(!s.contains("E12345678"));
        assert_eq!(r.open(&s).unwrap(), "E12345678");
        assert_ne!(r.seal("E12345678"), s, "fresh nonce per value");
        let other = AtRest::new(&[8u8; 32]);
        assert!(other.open(&s).is_err());
        let mut bad = s.clone();
        bad.pop();
        bad.push('A');
        assert!(r.open(&bad).is_err() || r.open(&bad).unwrap() != "E12345678");
    }

    #[test]
    fn document_hash_is_stable_and_keyed() {
        let r = AtRest::new(&[7u8; 32]);
        let a = r.document_hash("USA", "PASSPORT", "e1234 ");
        assert_eq!(a, r.document_hash("USA", "PASSPORT", "E1234"));
        assert_ne!(a, r.document_hash("GBR", "PASSPORT", "E1234"));
        assert_ne!(
            a,
            AtRest::new(&[8u8; 32]).document_hash("USA", "PASSPORT", "E1234")
        );
    }
}
