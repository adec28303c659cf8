//! `sign` and `verify`: the signature of §2 without a network, so that an integrator can compare
//! what their own code computes byte for byte (`md5_hex(body)`, then RSA-SHA256 or SM2-SM3 over
//! its 32 ASCII characters, Base64 with padding).

use std::path::PathBuf;

use clap::Args;
use freewalker_protocol::headers::{self, AuthHeaders};
use freewalker_protocol::signature::{SignatureType, VerifyingKey, md5_hex};
use freewalker_protocol::time_format::format_header_timestamp;

use super::config::{BODY_FILE_BYTES_MAX, GlobalArgs, key_failure, read_capped, read_pem};
use super::{Failure, now_secs, parse, print_line};

/// The five headers as §2 spells them, in the order of [`AuthHeaders::to_pairs`].
pub(super) const HEADER_NAMES: [&str; 5] = [
    "Signature-Type",
    "Signature-Data",
    "timestamp",
    "nonce",
    "institution_id",
];

/// `sign`.
#[derive(Debug, Args)]
pub(super) struct SignArgs {
    /// The body file, signed byte for byte (a trailing newline is part of it).
    #[arg(long, value_name = "FILE")]
    body: PathBuf,
    /// The timestamp header to show, yyyyMMddHHmmss in China Standard Time (default: now). It
    /// is not covered by the signature.
    #[arg(long, value_name = "yyyyMMddHHmmss", value_parser = parse::header_timestamp)]
    timestamp: Option<i64>,
    /// The nonce header to show (default: a fresh random one): 10-64 characters of
    /// A-Z a-z 0-9 _ -. It is not covered by the signature.
    #[arg(long)]
    nonce: Option<String>,
    /// Print one JSON object instead of "name: value" lines.
    #[arg(long)]
    json: bool,
}

/// `verify`.
#[derive(Debug, Args)]
pub(super) struct VerifyArgs {
    /// The body file, exactly as it was signed.
    #[arg(long, value_name = "FILE")]
    body: PathBuf,
    /// The Signature-Data value: standard Base64 with padding.
    #[arg(long, value_name = "BASE64")]
    signature: String,
    /// The signer's public key: an SPKI PEM file (the wallet's wallet_public.pem for its
    /// answers and notifications, your own public key for your requests).
    #[arg(long, value_name = "PEM_FILE")]
    public_key: PathBuf,
    /// The Signature-Type the sender declared (default: the key's own type); a type other than
    /// the key's is refused, as the wallet refuses it.
    #[arg(long = "type", value_name = "TYPE", value_parser = parse::wire_enum::<SignatureType>())]
    signature_type: Option<SignatureType>,
}

pub(super) fn sign(global: &GlobalArgs, args: SignArgs) -> Result<(), Failure> {
    let (key, _) = global.signing_key()?;
    let body = read_capped(&args.body, "--body", BODY_FILE_BYTES_MAX)?;
    let institution_id = match (&global.institution_id, body_institution_id(&body)) {
        (Some(id), Some(in_body)) if *id != in_body => {
            eprintln!(
                "freewalker-cli: note: the body's institution_id {in_body:?} differs from \
                 --institution-id {id:?}: the wallet answers 1006"
            );
            id.clone()
        }
        (Some(id), _) => id.clone(),
        (None, Some(in_body)) => in_body,
        (None, None) => {
            return Err(Failure::usage(
                "missing --institution-id (or FREEWALKER_CLI_INSTITUTION_ID), and the body has \
                 no institution_id to take it from",
            ));
        }
    };
    for note in body_pitfalls(&body) {
        eprintln!("freewalker-cli: note: {note}");
    }
    let signature = key
        .sign(&body)
        .map_err(|e| Failure::failed(format!("cannot sign: {e}")))?;
    let timestamp_secs = args.timestamp.unwrap_or_else(now_secs);
    let signed = AuthHeaders {
        signature_type: key.signature_type(),
        signature,
        timestamp_secs,
        timestamp_text: format_header_timestamp(timestamp_secs),
        nonce: args.nonce.unwrap_or_else(headers::new_nonce),
        institution_id,
    };
    let pairs = signed.to_pairs();
    // The wallet parses these headers first (`1001`): check them the same way.
    headers::parse(|name| {
        pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    })
    .map_err(|e| Failure::usage(format!("the wallet would refuse these headers: {e}")))?;

    let md5 = md5_hex(&body);
    if args.json {
        let mut headers = serde_json::Map::new();
        for (name, (_, value)) in HEADER_NAMES.iter().zip(&pairs) {
            headers.insert((*name).to_owned(), value.clone().into());
        }
        let out = serde_json::json!({
            "body_bytes": body.len(),
            "md5_hex": md5,
            "headers": headers,
        });
        print_line(&serde_json::to_string_pretty(&out).unwrap_or_else(|_| out.to_string()));
    } else {
        print_line(&format!("md5_hex: {md5}"));
        for (name, (_, value)) in HEADER_NAMES.iter().zip(&pairs) {
            print_line(&format!("{name}: {value}"));
        }
    }
    Ok(())
}

pub(super) fn verify(args: VerifyArgs) -> Result<(), Failure> {
    let pem = read_pem(&args.public_key, "--public-key")?;
    let key = VerifyingKey::from_spki_pem(&pem)
        .map_err(|e| key_failure("--public-key", &args.public_key, &e))?;
    let body = read_capped(&args.body, "--body", BODY_FILE_BYTES_MAX)?;
    // Surrounding whitespace comes from copying a header value; inner characters stay as given.
    let signature = args.signature.trim();
    let declared = args.signature_type.unwrap_or(key.signature_type());
    let md5 = md5_hex(&body);
    match key.verify_typed(declared, &body, signature) {
        Ok(()) => {
            print_line(&format!(
                "OK: the {declared} signature verifies over md5_hex(body) = {md5} with {}",
                args.public_key.display()
            ));
            Ok(())
        }
        Err(e) => {
            for note in body_pitfalls(&body) {
                eprintln!("freewalker-cli: note: {note}");
            }
            Err(Failure::failed(format!(
                "FAILED: {e}: the {declared} signature over md5_hex(body) = {md5} does not \
                 verify with {}",
                args.public_key.display()
            )))
        }
    }
}

/// The body's top-level `institution_id`, if it is a JSON object with one.
pub(super) fn body_institution_id(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("institution_id")?.as_str().map(str::to_owned)
}

/// What in a body file commonly makes an integrator's signature differ from ours: the
/// signature covers every byte, and editors add some.
pub(super) fn body_pitfalls(body: &[u8]) -> Vec<String> {
    let mut notes = Vec::new();
    if body.starts_with(b"\xEF\xBB\xBF") {
        notes.push(
            "the body starts with a UTF-8 byte-order mark (EF BB BF); it is signed, and must be \
             sent, with it"
                .to_owned(),
        );
    }
    if body.ends_with(b"\n") {
        notes.push(
            "the body ends with a newline; the signature covers it, so the exact same bytes \
             must be sent (many editors add one: `printf '%s' \"$(cat FILE)\"` strips it)"
                .to_owned(),
        );
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(_)) => {}
        Ok(_) => notes.push("the body is JSON but not an object: the wallet answers 2001".into()),
        Err(_) if std::str::from_utf8(body).is_err() => {
            notes.push("the body is not UTF-8: the wallet answers 2001".to_owned());
        }
        Err(_) => notes.push("the body is not valid JSON: the wallet answers 2001".to_owned()),
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pitfalls_are_named() {
        assert!(body_pitfalls(br#"{"a":"b"}"#).is_empty());
        assert_eq!(body_pitfalls(b"{}\n").len(), 1);
        assert_eq!(body_pitfalls(b"\xEF\xBB\xBF{}").len(), 2);
        assert!(body_pitfalls(b"[1]")[0].contains("not an object"));
        assert!(body_pitfalls(b"\xff")[0].contains("UTF-8"));
    }
}
