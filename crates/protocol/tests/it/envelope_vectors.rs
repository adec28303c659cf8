//! §2 sensitive-field envelope against the OpenSSL-made vectors in `tests/vectors/`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use freewalker_protocol::envelope::{EnvelopeError, EnvelopeKey, EnvelopeOpener, EnvelopeSealer};
use freewalker_protocol::signature::{KeyError, SignatureType};
use serde_json::Value;

macro_rules! vector {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/",
            $name
        ))
    };
}

const WALLET_RSA_PRIVATE: &str = vector!("wallet_rsa_private.pem");
const WALLET_RSA_PUBLIC: &str = vector!("wallet_rsa_public.pem");
const INST_RSA_PRIVATE: &str = vector!("inst_rsa_private.pem");
const INST_SM2_PRIVATE: &str = vector!("inst_sm2_private.pem");
const INST_SM2_PUBLIC: &str = vector!("inst_sm2_public.pem");
const ENVELOPE_VECTORS: &str = vector!("envelope_vectors.json");

fn vectors() -> Value {
    serde_json::from_str(ENVELOPE_VECTORS).unwrap()
}

fn key_from_hex(hex: &str) -> EnvelopeKey {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    EnvelopeKey::from_bytes(bytes.try_into().unwrap())
}

#[test]
fn the_field_vector_decrypts() {
    let v = &vectors()["aes_256_gcm"];
    let key = key_from_hex(v["key_hex"].as_str().unwrap());
    let field = v["field_value_b64"].as_str().unwrap();
    assert_eq!(
        key.decrypt_field(field).unwrap(),
        v["plaintext"].as_str().unwrap()
    );
}

#[test]
fn the_wrapped_key_vector_unwraps() {
    let v = &vectors()["rsa_oaep_sha256_wrapped_key"];
    let opener = EnvelopeOpener::from_pkcs8_pem(WALLET_RSA_PRIVATE).unwrap();
    let key = opener
        .unwrap(v["encrypt_key_header_b64"].as_str().unwrap())
        .unwrap();
    assert_eq!(key, key_from_hex(v["unwraps_to_key_hex"].as_str().unwrap()));
}

#[test]
fn fields_round_trip_with_fresh_nonces() {
    let key = EnvelopeKey::generate().unwrap();
    for plaintext in [
        "E12345678",
        "+14155550100",
        "上海市浦东新区机场大道 1 号",
        "",
    ] {
        let a = key.encrypt_field(plaintext).unwrap();
        let b = key.encrypt_field(plaintext).unwrap();
        assert_ne!(a, b, "a fresh nonce per field");
        assert_eq!(key.decrypt_field(&a).unwrap(), plaintext);
        assert_eq!(
            STANDARD.decode(&a).unwrap().len(),
            12 + plaintext.len() + 16
        );
    }
}

#[test]
fn keys_round_trip_through_the_header() {
    let opener = EnvelopeOpener::from_pkcs8_pem(WALLET_RSA_PRIVATE).unwrap();
    let sealer = EnvelopeSealer::from_spki_pem(WALLET_RSA_PUBLIC).unwrap();
    let key = EnvelopeKey::generate().unwrap();
    let header = sealer.wrap(&key).unwrap();
    assert_eq!(opener.unwrap(&header).unwrap(), key);
    // OAEP is randomised: the same key wraps differently every time.
    assert_ne!(sealer.wrap(&key).unwrap(), header);
    let loopback = opener.sealer().unwrap();
    assert_eq!(opener.unwrap(&loopback.wrap(&key).unwrap()).unwrap(), key);
}

#[test]
fn tampered_ciphertext_fails() {
    let key = EnvelopeKey::generate().unwrap();
    let sealed = STANDARD
        .decode(key.encrypt_field("E12345678").unwrap())
        .unwrap();
    for index in [0, 11, 12, 20, sealed.len() - 1] {
        let mut tampered = sealed.clone();
        tampered[index] ^= 0x80;
        assert_eq!(
            key.decrypt_field(&STANDARD.encode(&tampered)),
            Err(EnvelopeError::Decrypt),
            "byte {index}"
        );
    }
    let truncated = &sealed[..sealed.len() - 1];
    assert_eq!(
        key.decrypt_field(&STANDARD.encode(truncated)),
        Err(EnvelopeError::Decrypt)
    );
}

#[test]
fn the_wrong_key_fails() {
    let key = EnvelopeKey::generate().unwrap();
    let other = EnvelopeKey::generate().unwrap();
    let sealed = key.encrypt_field("E12345678").unwrap();
    assert_eq!(other.decrypt_field(&sealed), Err(EnvelopeError::Decrypt));

    // A key wrapped for the wallet does not unwrap with the institution's private key.
    let v = &vectors()["rsa_oaep_sha256_wrapped_key"];
    let inst = EnvelopeOpener::from_pkcs8_pem(INST_RSA_PRIVATE).unwrap();
    assert_eq!(
        inst.unwrap(v["encrypt_key_header_b64"].as_str().unwrap()),
        Err(EnvelopeError::Unwrap)
    );
}

#[test]
fn garbage_fails_without_panicking() {
    let key = EnvelopeKey::generate().unwrap();
    let opener = EnvelopeOpener::from_pkcs8_pem(WALLET_RSA_PRIVATE).unwrap();
    for garbage in [
        "",
        "!!!!",
        "AAAA",
        "====",
        "QUJD",
        &"A".repeat(10_000),
        "   ",
    ] {
        assert!(key.decrypt_field(garbage).is_err(), "{garbage:?}");
        assert!(opener.unwrap(garbage).is_err(), "{garbage:?}");
    }
    assert_eq!(
        opener.unwrap(&STANDARD.encode([7_u8; 256])),
        Err(EnvelopeError::Unwrap)
    );
}

#[test]
fn a_plaintext_that_is_not_utf8_is_refused() {
    // Seal invalid UTF-8 directly with aws-lc-rs, as a non-conforming sender would.
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let bytes = [3_u8; 32];
    let aead = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &bytes).unwrap());
    let nonce = [9_u8; 12];
    let mut in_out = vec![0xff, 0xfe, 0x41];
    aead.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::empty(),
        &mut in_out,
    )
    .unwrap();
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&in_out);
    let key = EnvelopeKey::from_bytes(bytes);
    assert_eq!(
        key.decrypt_field(&STANDARD.encode(sealed)),
        Err(EnvelopeError::NotUtf8)
    );
}

#[test]
fn a_header_that_unwraps_to_the_wrong_length_is_refused() {
    // Wrap 16 bytes, as a sender using AES-128 by mistake would.
    use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PublicEncryptingKey};
    let der = STANDARD
        .decode(
            WALLET_RSA_PUBLIC
                .lines()
                .filter(|line| !line.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    let public =
        OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(&der).unwrap()).unwrap();
    let mut wrapped = vec![0_u8; public.ciphertext_size()];
    let wrapped = public
        .encrypt(&OAEP_SHA256_MGF1SHA256, &[1_u8; 16], &mut wrapped, None)
        .unwrap();
    let opener = EnvelopeOpener::from_pkcs8_pem(WALLET_RSA_PRIVATE).unwrap();
    assert_eq!(
        opener.unwrap(&STANDARD.encode(wrapped)),
        Err(EnvelopeError::KeyLength { actual: 16 })
    );
}

#[test]
fn sm2_keys_cannot_seal_or_open() {
    assert_eq!(
        EnvelopeSealer::from_spki_pem(INST_SM2_PUBLIC).err(),
        Some(KeyError::NotRsa {
            found: SignatureType::Sm2
        })
    );
    assert_eq!(
        EnvelopeOpener::from_pkcs8_pem(INST_SM2_PRIVATE).err(),
        Some(KeyError::NotRsa {
            found: SignatureType::Sm2
        })
    );
}

#[test]
fn debug_never_shows_keys() {
    let key = EnvelopeKey::from_bytes([0x42; 32]);
    assert!(!format!("{key:?}").contains("42"));
    let opener = EnvelopeOpener::from_pkcs8_pem(WALLET_RSA_PRIVATE).unwrap();
    assert_eq!(
        format!("{opener:?}"),
        "EnvelopeOpener { modulus_bits: 2048, .. }"
    );
}
