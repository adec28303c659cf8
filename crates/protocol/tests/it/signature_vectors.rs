//! §2 signatures against the OpenSSL-made vectors in `tests/vectors/` (workspace root).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use freewalker_protocol::signature::{
    KeyError, SignatureError, SignatureType, SigningKey, VerifyingKey, generate_rsa_2048, md5_hex,
    public_pem_from_private_pem,
};
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

const INST_RSA_PRIVATE: &str = vector!("inst_rsa_private.pem");
const INST_RSA_PUBLIC: &str = vector!("inst_rsa_public.pem");
const INST_SM2_PRIVATE: &str = vector!("inst_sm2_private.pem");
const INST_SM2_PUBLIC: &str = vector!("inst_sm2_public.pem");
const WALLET_RSA_PUBLIC: &str = vector!("wallet_rsa_public.pem");
const SIGNATURE_VECTORS: &str = vector!("signature_vectors.json");

/// A 1024-bit RSA key made with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024`:
/// test-only, and too small for §2.
const RSA_1024_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAOlngfUUfJ9zWeXZ
VClh5ax6S/o/qf5iuizB8ZjrLhdeWPIKJ3hOIY/X6NkAiDgOhnzJL4WIWi935rJQ
b1UEM5+04noHYxeIN+w/b4fczL+GBPPDIcAMiG/wmmNUso26VJYz6CGUoKJtM811
Y/o4CPQgSIfaf7HnMD46aauffWxXAgMBAAECgYBHzwuhnkr1N6UJ3UJSdQcXeIzV
ki630CIdURIGjRyiHenZlZwtHEShH7lIwiwmqvlffPo86AVvI0F7zNlj26YRvzCA
ocrblnntXSHEuq2twyIhPMNZn9HOPX1npYQYaEkrLUJuWoI2xQZA+PWeUTUEqIHk
tP53ECphvTVgRbDYuQJBAP1I0f+UwAzMkRBJ8yl/jsdmurULBCutuIFyNBnP0rBi
ZGiEv4Rp5BK+DARzfI80JgP5EyZ/lpKtSDSTYhn1YeUCQQDr6B+Gw9l9gfvBn/oj
01yWjJhrg9sIkEnsReSDEZTuhucr7MOsyvjRXNUXueRtaEOl+MYj2sc7qKiAxqoT
6+GLAkEAkZPdP20bxT9+0UHvxRZP1kQxZAVk7EX5Gk2trHhKvJ6Q35INEepa8HrT
JWvLV/O9NeNfIm2K+dsm+TEM3aawEQJATkBqLL7MZwh15S1WwQl8Xef3KzrKrhWG
n9wzR5LObyzKg9R+t9OAI5qCiOM9tVjvj59swjnw+oYgls7PXdpRrwJBAIkkloxy
X5CCq/bO7Se9VHoU4R9qMnalB34c4vYUggUWTkW7fSphHP8W2QUQy/Gdf/5XO0Io
3QUt0G2p4BLpMHc=
-----END PRIVATE KEY-----
";

const RSA_1024_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDpZ4H1FHyfc1nl2VQpYeWsekv6
P6n+YroswfGY6y4XXljyCid4TiGP1+jZAIg4DoZ8yS+FiFovd+ayUG9VBDOftOJ6
B2MXiDfsP2+H3My/hgTzwyHADIhv8JpjVLKNulSWM+ghlKCibTPNdWP6OAj0IEiH
2n+x5zA+Ommrn31sVwIDAQAB
-----END PUBLIC KEY-----
";

/// A NIST P-256 key (`openssl ecparam -name prime256v1 -genkey`): an EC key on the wrong curve.
const P256_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgZ0COD+G1h2qTbMJ4
u4GfvRo2qcGgVRLRczNpezMUt3ChRANCAAT0up42eRgUay+8+EZ2agqFP9cAKNYc
MWnSCTyCbNsu3yPrQDwt3HPdDlC/VSGVyhe8fsPCIqSDOQFRJRuCUqRX
-----END PRIVATE KEY-----
";

const P256_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9LqeNnkYFGsvvPhGdmoKhT/XACjW
HDFp0gk8gmzbLt8j60A8Ldxz3Q5Qv1UhlcoXvH7DwiKkgzkBUSUbglKkVw==
-----END PUBLIC KEY-----
";

struct Case {
    name: String,
    body: String,
    md5: String,
    rsa: String,
    sm2: String,
}

fn cases() -> Vec<Case> {
    let doc: Value = serde_json::from_str(SIGNATURE_VECTORS).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    cases
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().unwrap().to_owned(),
            body: c["body"].as_str().unwrap().to_owned(),
            md5: c["body_md5_hex"].as_str().unwrap().to_owned(),
            rsa: c["rsa_signature_b64"].as_str().unwrap().to_owned(),
            sm2: c["sm2_signature_b64"].as_str().unwrap().to_owned(),
        })
        .collect()
}

/// `signature` with one bit of its decoded bytes flipped at `index`.
fn flip_signature(signature: &str, index: usize) -> String {
    let mut bytes = STANDARD.decode(signature).unwrap();
    bytes[index] ^= 0x01;
    STANDARD.encode(bytes)
}

#[test]
fn md5_of_every_vector_body() {
    for case in cases() {
        assert_eq!(md5_hex(case.body.as_bytes()), case.md5, "{}", case.name);
    }
}

#[test]
fn rsa_signatures_are_reproduced_byte_for_byte() {
    let key = SigningKey::from_pkcs8_pem(INST_RSA_PRIVATE).unwrap();
    assert_eq!(key.signature_type(), SignatureType::Rsa);
    for case in cases() {
        assert_eq!(
            key.sign(case.body.as_bytes()).unwrap(),
            case.rsa,
            "{}",
            case.name
        );
    }
}

#[test]
fn rsa_and_sm2_vectors_verify() {
    let rsa = VerifyingKey::from_spki_pem(INST_RSA_PUBLIC).unwrap();
    let sm2 = VerifyingKey::from_spki_pem(INST_SM2_PUBLIC).unwrap();
    assert_eq!(rsa.signature_type(), SignatureType::Rsa);
    assert_eq!(sm2.signature_type(), SignatureType::Sm2);
    for case in cases() {
        let body = case.body.as_bytes();
        assert_eq!(rsa.verify(body, &case.rsa), Ok(()), "{}", case.name);
        assert_eq!(sm2.verify(body, &case.sm2), Ok(()), "{}", case.name);
        // A signature by one key never verifies with the other.
        assert!(rsa.verify(body, &case.sm2).is_err());
        assert!(sm2.verify(body, &case.rsa).is_err());
    }
}

#[test]
fn a_flipped_body_byte_fails() {
    let rsa = VerifyingKey::from_spki_pem(INST_RSA_PUBLIC).unwrap();
    let sm2 = VerifyingKey::from_spki_pem(INST_SM2_PUBLIC).unwrap();
    for case in cases() {
        let mut body = case.body.clone().into_bytes();
        body[0] ^= 0x01;
        assert_eq!(rsa.verify(&body, &case.rsa), Err(SignatureError::Mismatch));
        assert_eq!(sm2.verify(&body, &case.sm2), Err(SignatureError::Mismatch));
        // Re-serialising the JSON breaks the signature, by design.
        let mut spaced = case.body.clone().into_bytes();
        spaced.push(b' ');
        assert_eq!(
            rsa.verify(&spaced, &case.rsa),
            Err(SignatureError::Mismatch)
        );
    }
}

#[test]
fn a_flipped_signature_byte_fails() {
    let rsa = VerifyingKey::from_spki_pem(INST_RSA_PUBLIC).unwrap();
    let sm2 = VerifyingKey::from_spki_pem(INST_SM2_PUBLIC).unwrap();
    for case in cases() {
        let body = case.body.as_bytes();
        for index in [0, 100, 255] {
            assert_eq!(
                rsa.verify(body, &flip_signature(&case.rsa, index)),
                Err(SignatureError::Mismatch)
            );
        }
        // The last byte of a DER SM2 signature is inside `s`: still DER, no longer valid.
        let last = STANDARD.decode(&case.sm2).unwrap().len() - 1;
        assert_eq!(
            sm2.verify(body, &flip_signature(&case.sm2, last)),
            Err(SignatureError::Mismatch)
        );
        // The first byte is the SEQUENCE tag: no longer DER at all.
        assert_eq!(
            sm2.verify(body, &flip_signature(&case.sm2, 0)),
            Err(SignatureError::Encoding)
        );
    }
}

#[test]
fn malformed_signatures_are_errors_not_panics() {
    let rsa = VerifyingKey::from_spki_pem(INST_RSA_PUBLIC).unwrap();
    let sm2 = VerifyingKey::from_spki_pem(INST_SM2_PUBLIC).unwrap();
    for key in [&rsa, &sm2] {
        assert_eq!(
            key.verify(b"{}", "not base64!"),
            Err(SignatureError::Base64)
        );
        assert_eq!(key.verify(b"{}", "AAA"), Err(SignatureError::Base64));
        assert_eq!(
            key.verify(b"{}", &"A".repeat(100_000)),
            Err(SignatureError::Base64)
        );
        assert!(key.verify(b"{}", "").is_err());
        assert!(key.verify(b"{}", "AAAA").is_err());
    }
    assert_eq!(
        rsa.verify(b"{}", &STANDARD.encode([1_u8; 255])),
        Err(SignatureError::Length {
            expected: 256,
            actual: 255
        })
    );
    assert_eq!(
        sm2.verify(b"{}", &STANDARD.encode([0x30_u8; 70])),
        Err(SignatureError::Encoding)
    );
    // 64 raw bytes parse as r || s, and simply do not verify.
    assert_eq!(
        sm2.verify(b"{}", &STANDARD.encode([0x11_u8; 64])),
        Err(SignatureError::Mismatch)
    );
    // Zero scalars are refused at parse time.
    assert_eq!(
        sm2.verify(b"{}", &STANDARD.encode([0_u8; 64])),
        Err(SignatureError::Encoding)
    );
}

#[test]
fn sm2_accepts_raw_r_s_as_well_as_der() {
    let key = SigningKey::from_pkcs8_pem(INST_SM2_PRIVATE).unwrap();
    let public = VerifyingKey::from_spki_pem(INST_SM2_PUBLIC).unwrap();
    let der = STANDARD.decode(key.sign(b"{}").unwrap()).unwrap();
    // Unpack the DER SEQUENCE { INTEGER r, INTEGER s } into fixed 32-byte halves.
    assert_eq!(der[0], 0x30);
    let mut raw = Vec::new();
    let mut at = 2;
    for _ in 0..2 {
        assert_eq!(der[at], 0x02);
        let len = usize::from(der[at + 1]);
        let int = &der[at + 2..at + 2 + len];
        let int = &int[int.len().saturating_sub(32)..];
        raw.extend(std::iter::repeat_n(0, 32 - int.len()));
        raw.extend_from_slice(int);
        at += 2 + len;
    }
    assert_eq!(public.verify(b"{}", &STANDARD.encode(&raw)), Ok(()));
}

#[test]
fn sign_then_verify_round_trips_for_both_types() {
    let body = "{\"institution_id\":\"INST0001\",\"name\":\"张三\"}".as_bytes();
    for (private, public) in [
        (INST_RSA_PRIVATE, INST_RSA_PUBLIC),
        (INST_SM2_PRIVATE, INST_SM2_PUBLIC),
    ] {
        let key = SigningKey::from_pkcs8_pem(private).unwrap();
        let public = VerifyingKey::from_spki_pem(public).unwrap();
        let signature = key.sign(body).unwrap();
        assert_eq!(public.verify(body, &signature), Ok(()));
        assert_eq!(
            public.verify_typed(key.signature_type(), body, &signature),
            Ok(())
        );
        assert_eq!(
            key.verifying_key().unwrap().verify(body, &signature),
            Ok(())
        );
    }
}

#[test]
fn a_declared_type_other_than_the_key_is_refused() {
    let rsa = VerifyingKey::from_spki_pem(INST_RSA_PUBLIC).unwrap();
    let case = &cases()[0];
    assert_eq!(
        rsa.verify_typed(SignatureType::Sm2, case.body.as_bytes(), &case.rsa),
        Err(SignatureError::WrongType {
            expected: SignatureType::Rsa,
            found: SignatureType::Sm2
        })
    );
}

#[test]
fn a_generated_key_signs_and_verifies() {
    let (private_pem, public_pem) = generate_rsa_2048().unwrap();
    assert!(private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert!(private_pem.lines().all(|line| line.len() <= 64));
    let key = SigningKey::from_pkcs8_pem(&private_pem).unwrap();
    let public = VerifyingKey::from_spki_pem(&public_pem).unwrap();
    let signature = key.sign(b"{}").unwrap();
    assert_eq!(STANDARD.decode(&signature).unwrap().len(), 256);
    assert_eq!(public.verify(b"{}", &signature), Ok(()));
    assert_eq!(
        public_pem_from_private_pem(&private_pem).unwrap(),
        public_pem
    );
    // Another key's signature does not verify.
    let inst = SigningKey::from_pkcs8_pem(INST_RSA_PRIVATE).unwrap();
    assert_eq!(
        public.verify(b"{}", &inst.sign(b"{}").unwrap()),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn public_keys_are_re_derived_exactly_as_openssl_wrote_them() {
    assert_eq!(
        public_pem_from_private_pem(INST_RSA_PRIVATE).unwrap(),
        INST_RSA_PUBLIC
    );
    assert_eq!(
        public_pem_from_private_pem(INST_SM2_PRIVATE).unwrap(),
        INST_SM2_PUBLIC
    );
    let wallet = VerifyingKey::from_spki_pem(WALLET_RSA_PUBLIC).unwrap();
    assert_eq!(wallet.to_spki_pem().unwrap(), WALLET_RSA_PUBLIC);
}

#[test]
fn pem_tolerates_crlf_and_surrounding_whitespace() {
    let crlf = format!("\r\n\r\n  {}  \r\n", INST_RSA_PRIVATE.replace('\n', "\r\n"));
    let key = SigningKey::from_pkcs8_pem(&crlf).unwrap();
    let case = &cases()[0];
    assert_eq!(key.sign(case.body.as_bytes()).unwrap(), case.rsa);
    let public = format!("\n{}\n\n", INST_SM2_PUBLIC.replace('\n', "\r\n"));
    assert!(VerifyingKey::from_spki_pem(&public).is_ok());
}

#[test]
fn small_rsa_keys_are_refused() {
    assert_eq!(
        SigningKey::from_pkcs8_pem(RSA_1024_PRIVATE).err(),
        Some(KeyError::RsaTooSmall)
    );
    assert_eq!(
        VerifyingKey::from_spki_pem(RSA_1024_PUBLIC).err(),
        Some(KeyError::RsaTooSmall)
    );
}

#[test]
fn keys_of_other_algorithms_are_refused() {
    assert!(matches!(
        SigningKey::from_pkcs8_pem(P256_PRIVATE),
        Err(KeyError::UnsupportedAlgorithm { oid }) if oid == "1.2.840.10045.3.1.7"
    ));
    assert!(matches!(
        VerifyingKey::from_spki_pem(P256_PUBLIC),
        Err(KeyError::UnsupportedAlgorithm { .. })
    ));
}

#[test]
fn the_wrong_pem_kind_or_garbage_is_an_error() {
    assert!(matches!(
        SigningKey::from_pkcs8_pem(INST_RSA_PUBLIC),
        Err(KeyError::Pem(_))
    ));
    assert!(matches!(
        VerifyingKey::from_spki_pem(INST_RSA_PRIVATE),
        Err(KeyError::Pem(_))
    ));
    assert!(SigningKey::from_pkcs8_pem("").is_err());
    assert!(SigningKey::from_pkcs8_pem("garbage").is_err());
    let truncated = "-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDiSAjLPTQxiL9t\n-----END PRIVATE KEY-----\n";
    assert!(matches!(
        SigningKey::from_pkcs8_pem(truncated),
        Err(KeyError::Der { .. })
    ));
    let not_a_key = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    assert!(matches!(
        VerifyingKey::from_spki_pem(not_a_key),
        Err(KeyError::Der { .. })
    ));
}

#[test]
fn debug_never_shows_key_material() {
    let rsa = SigningKey::from_pkcs8_pem(INST_RSA_PRIVATE).unwrap();
    let sm2 = SigningKey::from_pkcs8_pem(INST_SM2_PRIVATE).unwrap();
    assert_eq!(format!("{rsa:?}"), "SigningKey { signature_type: Rsa, .. }");
    assert_eq!(format!("{sm2:?}"), "SigningKey { signature_type: Sm2, .. }");
    let public = VerifyingKey::from_spki_pem(INST_SM2_PUBLIC).unwrap();
    assert_eq!(
        format!("{public:?}"),
        "VerifyingKey { signature_type: Sm2, .. }"
    );
}
