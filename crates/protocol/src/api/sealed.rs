//! The wire form of an encrypted sensitive field (`id_no`, `mobile`, `address`; §2).
//!
//! A request parses without the message's envelope key, so a sealed field is carried as its
//! Base64 ciphertext; the server opens it with the key unwrapped from `Encrypt-Key` and then
//! applies the field's length rule to the plaintext.

use crate::envelope::{EnvelopeError, EnvelopeKey, FIELD_NONCE_BYTES, FIELD_TAG_BYTES};
use crate::fields::{FieldError, Reader, check_text};
use std::fmt;

/// A sensitive field as it travels: `Base64(nonce ‖ ciphertext ‖ tag)`. `Debug` shows only its
/// length, so neither side logs it by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(String);

impl Sealed {
    /// Wraps a value received on the wire.
    pub fn new(wire: impl Into<String>) -> Self {
        Sealed(wire.into())
    }

    /// Seals `plaintext` under the message's `key` (the SDK's side).
    pub fn seal(key: &EnvelopeKey, plaintext: &str) -> Result<Self, EnvelopeError> {
        key.encrypt_field(plaintext).map(Sealed)
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Opens the field with the message's `key` (the server's side). A value that does not
    /// decrypt, or whose plaintext is empty, longer than `max_chars` characters or holds control
    /// characters, is invalid (`2003`) under the name `field`.
    pub fn open(
        &self,
        key: &EnvelopeKey,
        field: &'static str,
        max_chars: usize,
    ) -> Result<String, FieldError> {
        let plaintext = key
            .decrypt_field(&self.0)
            .map_err(|_| FieldError::invalid(field, "does not decrypt"))?;
        if plaintext.is_empty() {
            return Err(FieldError::invalid(field, "is empty after decryption"));
        }
        check_text(&plaintext, max_chars).map_err(|reason| FieldError::invalid(field, reason))?;
        Ok(plaintext)
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({} chars)", self.0.len())
    }
}

/// The longest Base64 text that can hold a plaintext of `plaintext_chars_max` characters
/// (4 UTF-8 bytes each at most) with its nonce and tag: anything longer is refused unread.
fn sealed_chars_max(plaintext_chars_max: usize) -> usize {
    let bytes = FIELD_NONCE_BYTES + FIELD_TAG_BYTES + 4 * plaintext_chars_max;
    4 * bytes.div_ceil(3)
}

impl<'a> Reader<'a> {
    /// An optional sealed field whose plaintext is at most `plaintext_chars_max` characters.
    pub(crate) fn optional_sealed(
        &self,
        name: &str,
        plaintext_chars_max: usize,
    ) -> Result<Option<Sealed>, FieldError> {
        match self.optional_text(name)? {
            None => Ok(None),
            Some(text) if text.len() > sealed_chars_max(plaintext_chars_max) => Err(self.invalid(
                name,
                format!("longer than {plaintext_chars_max} characters"),
            )),
            Some(text) => Ok(Some(Sealed::new(text))),
        }
    }

    /// A required sealed field whose plaintext is at most `plaintext_chars_max` characters.
    pub(crate) fn required_sealed(
        &self,
        name: &str,
        plaintext_chars_max: usize,
    ) -> Result<Sealed, FieldError> {
        self.optional_sealed(name, plaintext_chars_max)?
            .ok_or_else(|| self.missing(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open() {
        let key = EnvelopeKey::from_bytes([9; 32]);
        let sealed = Sealed::seal(&key, "E12345678").unwrap();
        assert_eq!(sealed.open(&key, "id_no", 64), Ok("E12345678".to_owned()));
        assert_eq!(
            sealed.open(&key, "id_no", 8),
            Err(FieldError::invalid("id_no", "longer than 8 characters"))
        );
        let other = EnvelopeKey::from_bytes([8; 32]);
        assert_eq!(
            sealed.open(&other, "id_no", 64),
            Err(FieldError::invalid("id_no", "does not decrypt"))
        );
        assert_eq!(
            Sealed::new("garbage!").open(&key, "mobile", 32),
            Err(FieldError::invalid("mobile", "does not decrypt"))
        );
        let empty = Sealed::seal(&key, "").unwrap();
        assert!(empty.open(&key, "address", 256).is_err());
        assert!(!format!("{sealed:?}").contains(sealed.as_str()));
    }

    #[test]
    fn the_length_bound_fits_the_longest_plaintext() {
        let key = EnvelopeKey::from_bytes([1; 32]);
        let longest = "🏦".repeat(64);
        let sealed = Sealed::seal(&key, &longest).unwrap();
        assert!(sealed.as_str().len() <= sealed_chars_max(64));
    }
}
