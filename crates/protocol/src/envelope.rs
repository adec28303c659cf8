//! The digital envelope of sensitive fields (`spec/API.md` §2, 特殊字段加密).
//!
//! The sender draws a fresh 32-byte [`EnvelopeKey`] per message and encrypts each sensitive field
//! (`id_no`, `mobile`, `address`) with AES-256-GCM under a fresh 12-byte nonce, without associated
//! data: the field travels as `Base64(nonce ‖ ciphertext ‖ tag)`. The key itself travels in the
//! `Encrypt-Key` header, wrapped with RSA-OAEP (SHA-256, MGF1-SHA-256) for the receiver's public
//! key ([`EnvelopeSealer`]); the receiver unwraps it with its private key ([`EnvelopeOpener`]).
//!
//! Java integrators beware: `OAEPWithSHA-256AndMGF1Padding` means MGF1-SHA-1 unless an
//! `OAEPParameterSpec` says otherwise; the contract is MGF1-SHA-256.

use crate::pem::{self, PRIVATE_KEY_LABEL, PUBLIC_KEY_LABEL};
use crate::signature::{
    KeyError, RSA_MODULUS_BITS_MIN, SignatureType, key_type, rsa_rejected, wipe,
};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rsa::{
    OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sm2::pkcs8::PrivateKeyInfoRef;
use sm2::pkcs8::der::Decode as _;
use sm2::pkcs8::spki::AlgorithmIdentifierRef;
use sm2::pkcs8::spki::SubjectPublicKeyInfoRef;
use std::fmt;

/// The length of an envelope key, in bytes (AES-256).
pub const ENVELOPE_KEY_BYTES: usize = 32;
/// The length of the GCM nonce that opens every field, in bytes.
pub const FIELD_NONCE_BYTES: usize = NONCE_LEN;
/// The length of the GCM tag that closes every field, in bytes.
pub const FIELD_TAG_BYTES: usize = 16;

/// Why a field or key could not be sealed or opened. Never carries plaintext or key bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The system random generator failed.
    #[error("the random generator failed")]
    Random,
    /// The value is not standard Base64 with padding.
    #[error("not valid Base64")]
    Base64,
    /// Shorter than a nonce and a tag: it cannot be a sealed field.
    #[error("too short to be a sealed field")]
    TooShort,
    /// The GCM tag does not verify: tampered, or sealed under another key.
    #[error("does not decrypt")]
    Decrypt,
    /// Encrypting failed inside the crypto library (it does not for a valid key).
    #[error("encryption failed")]
    Encrypt,
    /// Decrypted, but not UTF-8 text.
    #[error("does not decrypt to UTF-8 text")]
    NotUtf8,
    /// Wrapping the key for the receiver failed.
    #[error("wrapping the envelope key failed")]
    Wrap,
    /// The `Encrypt-Key` header does not unwrap with this private key.
    #[error("the Encrypt-Key header does not unwrap")]
    Unwrap,
    /// The header unwrapped to something other than a 32-byte key.
    #[error("the Encrypt-Key header holds {actual} bytes, not a 32-byte key")]
    KeyLength {
        /// How many bytes it held.
        actual: usize,
    },
}

/// A 32-byte AES-256-GCM key for the sensitive fields of one message. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvelopeKey([u8; ENVELOPE_KEY_BYTES]);

impl EnvelopeKey {
    /// Draws a fresh key from the system random generator, one per message.
    pub fn generate() -> Result<Self, EnvelopeError> {
        let mut bytes = [0_u8; ENVELOPE_KEY_BYTES];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| EnvelopeError::Random)?;
        Ok(EnvelopeKey(bytes))
    }

    /// Wraps known key bytes (the configured at-rest data key, a test vector).
    pub const fn from_bytes(bytes: [u8; ENVELOPE_KEY_BYTES]) -> Self {
        EnvelopeKey(bytes)
    }

    /// The key bytes.
    pub const fn as_bytes(&self) -> &[u8; ENVELOPE_KEY_BYTES] {
        &self.0
    }

    fn aead(&self) -> Result<LessSafeKey, EnvelopeError> {
        // Building the AES key schedule per field costs far less than the RSA unwrap of the
        // message, and keeps this type a plain array.
        // Only a key of the wrong length is refused here, which the array type rules out.
        UnboundKey::new(&AES_256_GCM, &self.0)
            .map(LessSafeKey::new)
            .map_err(|_| EnvelopeError::Encrypt)
    }

    /// Seals one field: `Base64(nonce[12] ‖ ciphertext ‖ tag[16])`, under a fresh random nonce,
    /// without associated data.
    pub fn encrypt_field(&self, plaintext: &str) -> Result<String, EnvelopeError> {
        let mut nonce = [0_u8; FIELD_NONCE_BYTES];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| EnvelopeError::Random)?;
        let mut sealed = Vec::with_capacity(FIELD_NONCE_BYTES + plaintext.len() + FIELD_TAG_BYTES);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext.as_bytes());
        let tag = self
            .aead()?
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut sealed[FIELD_NONCE_BYTES..],
            )
            .map_err(|_| EnvelopeError::Encrypt)?;
        sealed.extend_from_slice(tag.as_ref());
        Ok(STANDARD.encode(sealed))
    }

    /// Opens one sealed field; the plaintext must be UTF-8.
    pub fn decrypt_field(&self, value_b64: &str) -> Result<String, EnvelopeError> {
        let mut sealed = STANDARD
            .decode(value_b64)
            .map_err(|_| EnvelopeError::Base64)?;
        if sealed.len() < FIELD_NONCE_BYTES + FIELD_TAG_BYTES {
            return Err(EnvelopeError::TooShort);
        }
        let (nonce, ciphertext) = sealed.split_at_mut(FIELD_NONCE_BYTES);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| EnvelopeError::TooShort)?;
        let plaintext = self
            .aead()?
            .open_in_place(nonce, Aad::empty(), ciphertext)
            .map_err(|_| EnvelopeError::Decrypt)?;
        let text = std::str::from_utf8(plaintext)
            .map(str::to_owned)
            .map_err(|_| EnvelopeError::NotUtf8);
        wipe(&mut sealed);
        text
    }
}

impl fmt::Debug for EnvelopeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnvelopeKey(..)")
    }
}

/// Checks that a PKCS#8 or SPKI algorithm is RSA: the envelope has no SM2 variant.
fn require_rsa(algorithm: &AlgorithmIdentifierRef<'_>) -> Result<(), KeyError> {
    match key_type(algorithm)? {
        SignatureType::Rsa => Ok(()),
        found => Err(KeyError::NotRsa { found }),
    }
}

/// The sender's side: the receiver's RSA public key, which wraps each message's key.
pub struct EnvelopeSealer {
    key: OaepPublicEncryptingKey,
}

impl EnvelopeSealer {
    /// Loads the receiver's RSA public key from SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_spki_pem(pem: &str) -> Result<Self, KeyError> {
        let der = pem::decode(pem, PUBLIC_KEY_LABEL)?;
        let spki = SubjectPublicKeyInfoRef::from_der(&der).map_err(|_| KeyError::Der {
            expected: "SubjectPublicKeyInfo public key",
        })?;
        require_rsa(&spki.algorithm)?;
        let public = PublicEncryptingKey::from_der(&der).map_err(rsa_rejected)?;
        if public.key_size_bits() < RSA_MODULUS_BITS_MIN {
            return Err(KeyError::RsaTooSmall);
        }
        Self::from_public(public)
    }

    fn from_public(public: PublicEncryptingKey) -> Result<Self, KeyError> {
        let key = OaepPublicEncryptingKey::new(public).map_err(|_| KeyError::Rejected {
            reason: "UnsupportedOaepKey",
        })?;
        Ok(EnvelopeSealer { key })
    }

    /// Wraps `key` for the receiver: the value of the `Encrypt-Key` header.
    pub fn wrap(&self, key: &EnvelopeKey) -> Result<String, EnvelopeError> {
        let mut wrapped = vec![0_u8; self.key.ciphertext_size()];
        let wrapped = self
            .key
            .encrypt(&OAEP_SHA256_MGF1SHA256, key.as_bytes(), &mut wrapped, None)
            .map_err(|_| EnvelopeError::Wrap)?;
        Ok(STANDARD.encode(wrapped))
    }
}

impl fmt::Debug for EnvelopeSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvelopeSealer")
            .field("modulus_bits", &self.key.key_size_bits())
            .finish_non_exhaustive()
    }
}

/// The receiver's side: its RSA private key, which unwraps each message's key.
pub struct EnvelopeOpener {
    key: OaepPrivateDecryptingKey,
    public: PublicEncryptingKey,
}

impl EnvelopeOpener {
    /// Loads the receiver's RSA private key from PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let mut der = pem::decode(pem, PRIVATE_KEY_LABEL)?;
        let opener = Self::from_pkcs8_der(&der);
        wipe(&mut der);
        opener
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(|_| KeyError::Der {
            expected: "PKCS#8 private key",
        })?;
        require_rsa(&info.algorithm)?;
        let private = PrivateDecryptingKey::from_pkcs8(der).map_err(rsa_rejected)?;
        if private.key_size_bits() < RSA_MODULUS_BITS_MIN {
            return Err(KeyError::RsaTooSmall);
        }
        let public = private.public_key();
        let key = OaepPrivateDecryptingKey::new(private).map_err(|_| KeyError::Rejected {
            reason: "UnsupportedOaepKey",
        })?;
        Ok(EnvelopeOpener { key, public })
    }

    /// Unwraps the `Encrypt-Key` header into the message's key (exactly 32 bytes).
    pub fn unwrap(&self, header_b64: &str) -> Result<EnvelopeKey, EnvelopeError> {
        let wrapped = STANDARD
            .decode(header_b64)
            .map_err(|_| EnvelopeError::Base64)?;
        // RSA decryption of anything but a modulus-sized block is an error, not a panic, but
        // checking first keeps the failure cheap and precise.
        if wrapped.len() != self.key.key_size_bytes() {
            return Err(EnvelopeError::Unwrap);
        }
        let mut plaintext = vec![0_u8; self.key.min_output_size()];
        let result = match self
            .key
            .decrypt(&OAEP_SHA256_MGF1SHA256, &wrapped, &mut plaintext, None)
        {
            Ok(bytes) => <[u8; ENVELOPE_KEY_BYTES]>::try_from(&*bytes)
                .map(EnvelopeKey)
                .map_err(|_| EnvelopeError::KeyLength {
                    actual: bytes.len(),
                }),
            Err(_) => Err(EnvelopeError::Unwrap),
        };
        wipe(&mut plaintext);
        result
    }

    /// The matching [`EnvelopeSealer`], for the other side of a test or a loopback.
    pub fn sealer(&self) -> Result<EnvelopeSealer, KeyError> {
        EnvelopeSealer::from_public(self.public.clone())
    }
}

impl fmt::Debug for EnvelopeOpener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvelopeOpener")
            .field("modulus_bits", &self.key.key_size_bits())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_key() {
        let key = EnvelopeKey::from_bytes([0xab; 32]);
        let shown = format!("{key:?}");
        assert_eq!(shown, "EnvelopeKey(..)");
    }

    #[test]
    fn short_and_malformed_values_fail_cleanly() {
        let key = EnvelopeKey::from_bytes([7; 32]);
        assert_eq!(key.decrypt_field(""), Err(EnvelopeError::TooShort));
        assert_eq!(key.decrypt_field("AAAA"), Err(EnvelopeError::TooShort));
        assert_eq!(key.decrypt_field("not base64!"), Err(EnvelopeError::Base64));
        let just_long_enough = STANDARD.encode([0_u8; 28]);
        assert_eq!(
            key.decrypt_field(&just_long_enough),
            Err(EnvelopeError::Decrypt)
        );
    }

    #[test]
    fn types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<EnvelopeKey>();
        assert_send_sync::<EnvelopeSealer>();
        assert_send_sync::<EnvelopeOpener>();
    }
}
