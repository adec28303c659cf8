//! Request, response and notification signatures (`spec/API.md` §2).
//!
//! The signature covers the 32 ASCII bytes of `md5_hex(body)`, the body being the exact raw bytes
//! as sent; it travels Base64-encoded (standard alphabet, with padding) in `Signature-Data`.
//!
//! - `RSA`: RSASSA-PKCS1-v1_5 with SHA-256 (Java `SHA256withRSA`), keys of 2048 bits or more,
//!   through aws-lc-rs, which signs at OpenSSL speed (every response is signed).
//! - `SM2`: SM2 with SM3 and the distinguishing ID `1234567812345678`, the signature DER-encoded
//!   `(r, s)` (BouncyCastle `SM3withSM2`), through the `sm2` crate.
//!
//! Keys load from PEM: PKCS#8 private keys and SubjectPublicKeyInfo public keys. The algorithm is
//! read from the key's own algorithm identifier, so an operator only hands over a file. An SM2 key
//! written by OpenSSL is an `id-ecPublicKey` with the SM2 curve OID as its parameter; a bare SM2
//! algorithm OID (as some Chinese toolkits write it) is accepted as well.

use crate::pem::{self, PRIVATE_KEY_LABEL, PUBLIC_KEY_LABEL};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
    RsaParameters,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest as _, Md5};
use sm2::dsa::signature::{Signer as _, Verifier as _};
use sm2::pkcs8::der::Decode as _;
use sm2::pkcs8::spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use sm2::pkcs8::{EncodePublicKey as _, ObjectIdentifier, PrivateKeyInfoRef};
use std::fmt;

pub use crate::pem::PemError;

/// The SM2 distinguishing ID of §2. Set explicitly: OpenSSL 3 defaults to an empty one, and a
/// mismatch makes every signature fail to verify.
pub const SM2_DISTINGUISHING_ID: &str = "1234567812345678";

/// The smallest RSA modulus accepted for signing or verifying, in bits (§2).
pub const RSA_MODULUS_BITS_MIN: usize = 2048;

/// The longest `Signature-Data` accepted, in Base64 characters. An RSA-8192 signature is 1368
/// characters; anything longer is refused before it is decoded.
pub const SIGNATURE_B64_CHARS_MAX: usize = 2048;

/// The length of a raw `r ‖ s` SM2 signature, in bytes.
const SM2_RAW_SIGNATURE_BYTES: usize = 64;

/// `rsaEncryption` (PKCS#1).
const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// `id-ecPublicKey` (RFC 5480), whose parameter names the curve.
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// The SM2 curve (GM/T 0006), used as a curve parameter or, by some toolkits, as the algorithm.
const OID_SM2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");

/// The MD5 of `body` as 32 lowercase hex characters: what the signature covers (§2).
pub fn md5_hex(body: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Md5::digest(body);
    let mut out = String::with_capacity(32);
    for byte in digest.iter() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

wire_enum! {
    /// The `Signature-Type` header: which algorithm signed the body.
    pub enum SignatureType {
        /// RSASSA-PKCS1-v1_5 with SHA-256, required support.
        Rsa => "RSA",
        /// SM2 with SM3, the national-crypto option.
        Sm2 => "SM2",
    }
}

/// Why a key could not be loaded or produced. Never carries any key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The PEM wrapper is wrong.
    #[error(transparent)]
    Pem(#[from] PemError),
    /// The DER inside the PEM is not the expected structure.
    #[error("the key is not a well-formed {expected}")]
    Der {
        /// `PKCS#8 private key` or `SubjectPublicKeyInfo public key`.
        expected: &'static str,
    },
    /// The key is neither RSA nor SM2 (e.g. an ECDSA P-256 key).
    #[error("unsupported key algorithm {oid}: only RSA and SM2 keys are accepted")]
    UnsupportedAlgorithm {
        /// The algorithm (or curve) OID found, dotted.
        oid: String,
    },
    /// The operation needs an RSA key (the envelope of §2 is RSA-OAEP only).
    #[error("an RSA key is required here, not {found}")]
    NotRsa {
        /// The type of key that was given.
        found: SignatureType,
    },
    /// An RSA modulus below [`RSA_MODULUS_BITS_MIN`].
    #[error("RSA keys must have at least 2048 bits")]
    RsaTooSmall,
    /// The crypto library refused the key (inconsistent, off the curve, too large, …).
    #[error("the key was rejected: {reason}")]
    Rejected {
        /// The library's short reason, e.g. `InvalidEncoding`.
        reason: &'static str,
    },
    /// Generating or re-encoding a key failed inside the crypto library.
    #[error("key generation or encoding failed")]
    Encoding,
}

/// Signing failed inside the crypto library (it does not fail for a valid key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("signing failed")]
pub struct SignError;

/// Why a signature was refused. All of these are `1002` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// `Signature-Data` is not standard Base64 with padding, or is implausibly long.
    #[error("the signature is not valid Base64")]
    Base64,
    /// An RSA signature whose length differs from the modulus.
    #[error("the signature has {actual} bytes, expected {expected}")]
    Length {
        /// The modulus length in bytes.
        expected: usize,
        /// The decoded length.
        actual: usize,
    },
    /// An SM2 signature that is neither DER `(r, s)` nor 64 raw bytes.
    #[error("the SM2 signature is neither DER (r, s) nor raw r||s")]
    Encoding,
    /// The `Signature-Type` names another algorithm than the key's.
    #[error("the signature type is {found}, but the key is {expected}")]
    WrongType {
        /// The key's type.
        expected: SignatureType,
        /// The type the sender declared.
        found: SignatureType,
    },
    /// Well-formed, but not a signature of this body by this key.
    #[error("the signature does not verify")]
    Mismatch,
}

/// Which algorithm a PKCS#8 or SPKI algorithm identifier names.
pub(crate) fn key_type(algorithm: &AlgorithmIdentifierRef<'_>) -> Result<SignatureType, KeyError> {
    if algorithm.oid == OID_RSA_ENCRYPTION {
        return Ok(SignatureType::Rsa);
    }
    if algorithm.oid == OID_SM2 {
        return Ok(SignatureType::Sm2);
    }
    if algorithm.oid == OID_EC_PUBLIC_KEY {
        let curve = algorithm
            .parameters_oid()
            .map_err(|_| KeyError::UnsupportedAlgorithm {
                oid: algorithm.oid.to_string(),
            })?;
        if curve == OID_SM2 {
            return Ok(SignatureType::Sm2);
        }
        return Err(KeyError::UnsupportedAlgorithm {
            oid: curve.to_string(),
        });
    }
    Err(KeyError::UnsupportedAlgorithm {
        oid: algorithm.oid.to_string(),
    })
}

/// Maps aws-lc-rs's key rejection to ours, singling out the too-small RSA key.
pub(crate) fn rsa_rejected(rejected: aws_lc_rs::error::KeyRejected) -> KeyError {
    match rejected.description_() {
        "TooSmall" => KeyError::RsaTooSmall,
        reason => KeyError::Rejected { reason },
    }
}

/// Overwrites a buffer that held private key material before it is freed. `black_box` keeps the
/// compiler from dropping the stores as dead.
pub(crate) fn wipe(buffer: &mut [u8]) {
    buffer.fill(0);
    std::hint::black_box(buffer);
}

/// A private key that signs bodies: RSA or SM2. `Send + Sync`, so one key can serve every task.
pub struct SigningKey {
    inner: SigningInner,
}

enum SigningInner {
    Rsa(RsaKeyPair),
    // Boxed: the SM2 key with its precomputed identity hash is much larger than the RSA handle.
    Sm2(Box<sm2::dsa::SigningKey>),
}

impl SigningKey {
    /// Loads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`), RSA or SM2, detected from
    /// the key's algorithm identifier. RSA keys under 2048 bits are refused.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let mut der = pem::decode(pem, PRIVATE_KEY_LABEL)?;
        let key = Self::from_pkcs8_der(&der);
        wipe(&mut der);
        key
    }

    /// Loads a DER PKCS#8 private key, RSA or SM2.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(|_| KeyError::Der {
            expected: "PKCS#8 private key",
        })?;
        let inner =
            match key_type(&info.algorithm)? {
                SignatureType::Rsa => {
                    let pair = RsaKeyPair::from_pkcs8(der).map_err(rsa_rejected)?;
                    if pair.public_modulus_len() * 8 < RSA_MODULUS_BITS_MIN {
                        return Err(KeyError::RsaTooSmall);
                    }
                    SigningInner::Rsa(pair)
                }
                SignatureType::Sm2 => {
                    // The PKCS#8 payload of an EC key is a SEC1 `ECPrivateKey`.
                    let secret = sm2::SecretKey::from_sec1_der(info.private_key.as_bytes())
                        .map_err(|_| KeyError::Der {
                            expected: "SM2 private key (SEC1 ECPrivateKey inside PKCS#8)",
                        })?;
                    let key = sm2::dsa::SigningKey::new(SM2_DISTINGUISHING_ID, &secret).map_err(
                        |_| KeyError::Rejected {
                            reason: "InvalidSm2Key",
                        },
                    )?;
                    SigningInner::Sm2(Box::new(key))
                }
            };
        Ok(SigningKey { inner })
    }

    /// Which algorithm this key signs with: the `Signature-Type` header to send.
    pub fn signature_type(&self) -> SignatureType {
        match self.inner {
            SigningInner::Rsa(_) => SignatureType::Rsa,
            SigningInner::Sm2(_) => SignatureType::Sm2,
        }
    }

    /// Signs `body`: the standard Base64 (with padding) of the signature over `md5_hex(body)`,
    /// ready for `Signature-Data`. RSA signatures are deterministic; SM2 signatures use a nonce
    /// derived from the key and the message (RFC 6979 style), which verifies like any other.
    pub fn sign(&self, body: &[u8]) -> Result<String, SignError> {
        self.sign_md5_hex(&md5_hex(body))
    }

    /// Signs an already computed `md5_hex(body)` (the 32 lowercase hex characters that are what
    /// §2 signs). For a caller that looks the digest up first, e.g. in a cache of signatures:
    /// an RSA signature of the same digest is always the same bytes.
    pub fn sign_md5_hex(&self, digest: &str) -> Result<String, SignError> {
        let signature = match &self.inner {
            SigningInner::Rsa(pair) => {
                let mut signature = vec![0_u8; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &aws_lc_rs::rand::SystemRandom::new(),
                    digest.as_bytes(),
                    &mut signature,
                )
                .map_err(|_| SignError)?;
                signature
            }
            SigningInner::Sm2(key) => {
                let signature: sm2::dsa::Signature =
                    key.try_sign(digest.as_bytes()).map_err(|_| SignError)?;
                der_signature(&signature.r_bytes(), &signature.s_bytes())
            }
        };
        Ok(STANDARD.encode(signature))
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        let inner = match &self.inner {
            SigningInner::Rsa(pair) => {
                let spki = pair.public_key().as_der().map_err(|_| KeyError::Encoding)?;
                let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki.as_ref())
                    .map_err(rsa_rejected)?;
                VerifyingInner::Rsa {
                    key,
                    modulus_bytes: pair.public_modulus_len(),
                }
            }
            SigningInner::Sm2(key) => VerifyingInner::Sm2(Box::new(key.verifying_key().clone())),
        };
        Ok(VerifyingKey { inner })
    }

    /// The matching public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`), for an operator to
    /// hand to the other side.
    pub fn public_key_pem(&self) -> Result<String, KeyError> {
        self.verifying_key()?.to_spki_pem()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the type: key material must never reach a log.
        f.debug_struct("SigningKey")
            .field("signature_type", &self.signature_type())
            .finish_non_exhaustive()
    }
}

/// A public key that verifies signatures: RSA or SM2.
#[derive(Clone)]
pub struct VerifyingKey {
    inner: VerifyingInner,
}

#[derive(Clone)]
enum VerifyingInner {
    Rsa {
        // Parsed once at load: verifying is then just the RSA operation.
        key: ParsedPublicKey,
        modulus_bytes: usize,
    },
    Sm2(Box<sm2::dsa::VerifyingKey>),
}

impl VerifyingKey {
    /// Loads an SPKI PEM public key (`-----BEGIN PUBLIC KEY-----`), RSA or SM2, detected from the
    /// key's algorithm identifier. RSA keys under 2048 bits are refused.
    pub fn from_spki_pem(pem: &str) -> Result<Self, KeyError> {
        let der = pem::decode(pem, PUBLIC_KEY_LABEL)?;
        Self::from_spki_der(&der)
    }

    /// Loads a DER SubjectPublicKeyInfo, RSA or SM2.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|_| KeyError::Der {
            expected: "SubjectPublicKeyInfo public key",
        })?;
        let inner = match key_type(&spki.algorithm)? {
            SignatureType::Rsa => {
                let modulus_bits = rsa_spki_modulus_bits(der)?;
                if modulus_bits < RSA_MODULUS_BITS_MIN {
                    return Err(KeyError::RsaTooSmall);
                }
                let key =
                    ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).map_err(rsa_rejected)?;
                VerifyingInner::Rsa {
                    key,
                    modulus_bytes: modulus_bits.div_ceil(8),
                }
            }
            SignatureType::Sm2 => {
                let point = spki.subject_public_key.as_bytes().ok_or(KeyError::Der {
                    expected: "SM2 public key (SEC1 point)",
                })?;
                let key = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTINGUISHING_ID, point)
                    .map_err(|_| KeyError::Rejected {
                        reason: "InvalidSm2Point",
                    })?;
                VerifyingInner::Sm2(Box::new(key))
            }
        };
        Ok(VerifyingKey { inner })
    }

    /// Which algorithm this key verifies.
    pub fn signature_type(&self) -> SignatureType {
        match self.inner {
            VerifyingInner::Rsa { .. } => SignatureType::Rsa,
            VerifyingInner::Sm2(_) => SignatureType::Sm2,
        }
    }

    /// Checks that `signature_b64` (the `Signature-Data` header) is this key's signature over
    /// `md5_hex(body)`. SM2 signatures are accepted DER-encoded (OpenSSL, BouncyCastle) and, for
    /// toolkits that emit it, as the raw 64-byte `r ‖ s`.
    pub fn verify(&self, body: &[u8], signature_b64: &str) -> Result<(), SignatureError> {
        if signature_b64.len() > SIGNATURE_B64_CHARS_MAX {
            return Err(SignatureError::Base64);
        }
        let signature = STANDARD
            .decode(signature_b64)
            .map_err(|_| SignatureError::Base64)?;
        let digest = md5_hex(body);
        match &self.inner {
            VerifyingInner::Rsa { key, modulus_bytes } => {
                if signature.len() != *modulus_bytes {
                    return Err(SignatureError::Length {
                        expected: *modulus_bytes,
                        actual: signature.len(),
                    });
                }
                key.verify_sig(digest.as_bytes(), &signature)
                    .map_err(|_| SignatureError::Mismatch)
            }
            VerifyingInner::Sm2(key) => {
                let parsed = sm2::dsa::Signature::from_der(&signature).or_else(|der_error| {
                    if signature.len() == SM2_RAW_SIGNATURE_BYTES {
                        sm2::dsa::Signature::from_slice(&signature)
                    } else {
                        Err(der_error)
                    }
                });
                let parsed = parsed.map_err(|_| SignatureError::Encoding)?;
                key.verify(digest.as_bytes(), &parsed)
                    .map_err(|_| SignatureError::Mismatch)
            }
        }
    }

    /// Like [`verify`](Self::verify), but first checks that the sender's declared
    /// `Signature-Type` is this key's type.
    pub fn verify_typed(
        &self,
        declared: SignatureType,
        body: &[u8],
        signature_b64: &str,
    ) -> Result<(), SignatureError> {
        if declared != self.signature_type() {
            return Err(SignatureError::WrongType {
                expected: self.signature_type(),
                found: declared,
            });
        }
        self.verify(body, signature_b64)
    }

    /// The key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn to_spki_pem(&self) -> Result<String, KeyError> {
        let der = match &self.inner {
            VerifyingInner::Rsa { key, .. } => key
                .as_der()
                .map_err(|_| KeyError::Encoding)?
                .as_ref()
                .to_vec(),
            VerifyingInner::Sm2(key) => key
                .to_public_key_der()
                .map_err(|_| KeyError::Encoding)?
                .as_bytes()
                .to_vec(),
        };
        Ok(pem::encode(&der, PUBLIC_KEY_LABEL))
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("signature_type", &self.signature_type())
            .finish_non_exhaustive()
    }
}

/// The modulus size of an RSA SPKI, in bits.
pub(crate) fn rsa_spki_modulus_bits(spki_der: &[u8]) -> Result<usize, KeyError> {
    let public = aws_lc_rs::rsa::PublicKey::from_der(spki_der).map_err(rsa_rejected)?;
    // `PublicKey::as_ref` is the inner PKCS#1 `RSAPublicKey`, which is what this measures.
    let bits =
        RsaParameters::public_modulus_len(public.as_ref()).map_err(|_| KeyError::Rejected {
            reason: "InvalidEncoding",
        })?;
    usize::try_from(bits).map_err(|_| KeyError::Rejected {
        reason: "InvalidEncoding",
    })
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` from big-endian scalars, as OpenSSL and BouncyCastle
/// write SM2 signatures. Written here because the `sm2` crate's own encoder is infallible only
/// by an internal `expect`.
fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    let mut integers = Vec::with_capacity(2 * 35);
    der_integer(r, &mut integers);
    der_integer(s, &mut integers);
    let mut out = Vec::with_capacity(integers.len() + 4);
    out.push(0x30);
    der_length(integers.len(), &mut out);
    out.extend_from_slice(&integers);
    out
}

/// A DER INTEGER holding the unsigned big-endian `value`: minimal, with a 0x00 prefix when the
/// top bit is set so that it stays positive.
fn der_integer(value: &[u8], out: &mut Vec<u8>) {
    let first = value.iter().position(|&b| b != 0).unwrap_or(value.len());
    let trimmed = &value[first..];
    let pad = trimmed.first().is_none_or(|&b| b & 0x80 != 0);
    out.push(0x02);
    der_length(trimmed.len() + usize::from(pad), out);
    if pad {
        out.push(0x00);
    }
    out.extend_from_slice(trimmed);
}

/// A DER length: short form below 128, long form above.
fn der_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let first = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len() - 1);
    let significant = &bytes[first..];
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// Generates a new RSA-2048 key pair, as the wallet does on first start:
/// `(PKCS#8 private PEM, SPKI public PEM)`.
pub fn generate_rsa_2048() -> Result<(String, String), KeyError> {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Encoding)?;
    let private_der = pair.as_der().map_err(|_| KeyError::Encoding)?;
    let private_pem = pem::encode(private_der.as_ref(), PRIVATE_KEY_LABEL);
    let public_der = pair.public_key().as_der().map_err(|_| KeyError::Encoding)?;
    let public_pem = pem::encode(public_der.as_ref(), PUBLIC_KEY_LABEL);
    Ok((private_pem, public_pem))
}

/// The SPKI PEM public key of a PKCS#8 PEM private key (RSA or SM2), so that an operator can
/// re-derive the public key to hand out.
pub fn public_pem_from_private_pem(private_pem: &str) -> Result<String, KeyError> {
    SigningKey::from_pkcs8_pem(private_pem)?.public_key_pem()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_hex_is_lowercase_hex() {
        assert_eq!(md5_hex(b"{}"), "99914b932bd37a50b983c5e7c90ae93b");
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn signature_type_is_exact() {
        assert_eq!(SignatureType::parse("RSA"), Some(SignatureType::Rsa));
        assert_eq!(SignatureType::parse("SM2"), Some(SignatureType::Sm2));
        assert_eq!(SignatureType::parse("rsa"), None);
        assert_eq!(SignatureType::parse("RSA2"), None);
        assert_eq!("SM2".parse::<SignatureType>(), Ok(SignatureType::Sm2));
        assert!("sm2".parse::<SignatureType>().is_err());
        assert_eq!(SignatureType::Rsa.as_str(), "RSA");
    }

    #[test]
    fn der_integers_are_minimal_and_positive() {
        let mut out = Vec::new();
        der_integer(&[0, 0, 0x7f], &mut out);
        assert_eq!(out, [0x02, 0x01, 0x7f]);
        out.clear();
        der_integer(&[0, 0x80], &mut out);
        assert_eq!(out, [0x02, 0x02, 0x00, 0x80]);
        out.clear();
        der_integer(&[0, 0], &mut out);
        assert_eq!(out, [0x02, 0x01, 0x00]);
        out.clear();
        der_length(300, &mut out);
        assert_eq!(out, [0x82, 0x01, 0x2c]);
    }

    #[test]
    fn keys_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SigningKey>();
        assert_send_sync::<VerifyingKey>();
    }
}
