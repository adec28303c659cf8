//! A small JSON object writer for request and notification bodies.
//!
//! Bodies are signed as raw bytes, so their exact text matters: this writer emits compact JSON
//! with the keys in the order they are written (a `serde_json::Map` would sort them), escapes
//! strings the way serde_json does, and cannot fail.

/// A JSON object being written, key by key.
pub(crate) struct JsonObject {
    buf: Vec<u8>,
    empty: bool,
}

impl JsonObject {
    /// An empty object.
    pub(crate) fn new() -> Self {
        JsonObject {
            buf: vec![b'{'],
            empty: true,
        }
    }

    fn key(&mut self, name: &str) {
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        write_string(&mut self.buf, name);
        self.buf.push(b':');
    }

    /// Writes `"name":"value"`.
    pub(crate) fn str(&mut self, name: &str, value: &str) -> &mut Self {
        self.key(name);
        write_string(&mut self.buf, value);
        self
    }

    /// Writes `"name":"value"` when `value` is given; nothing otherwise.
    pub(crate) fn opt_str(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.str(name, value);
        }
        self
    }

    /// Writes `"name":{…}`.
    pub(crate) fn object(&mut self, name: &str, value: JsonObject) -> &mut Self {
        self.key(name);
        self.buf.extend_from_slice(&value.finish());
        self
    }

    /// The object's bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf.push(b'}');
        self.buf
    }
}

/// Writes `value` as a JSON string: quotes, backslashes and control characters escaped, every
/// other character as UTF-8, exactly as serde_json does.
fn write_string(buf: &mut Vec<u8>, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.push(b'"');
    for &b in value.as_bytes() {
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            0x08 => buf.extend_from_slice(b"\\b"),
            0x0c => buf.extend_from_slice(b"\\f"),
            0x00..=0x1f => {
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[usize::from(b >> 4)]);
                buf.push(HEX[usize::from(b & 0x0f)]);
            }
            // UTF-8 continuation and lead bytes pass through: `value` is valid UTF-8.
            _ => buf.push(b),
        }
    }
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_serde_json() {
        for text in [
            "plain",
            "quote \" and \\ slash",
            "tab\tnew\nline\r\u{8}\u{c}",
            "\u{1}\u{1f}\u{7f}",
            "网点 🏦",
            "</script>",
        ] {
            let mut buf = Vec::new();
            write_string(&mut buf, text);
            assert_eq!(buf, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn writes_in_order() {
        let mut inner = JsonObject::new();
        inner.str("z", "1");
        let mut outer = JsonObject::new();
        outer
            .str("b", "x")
            .opt_str("skip", None)
            .opt_str("a", Some("y"))
            .object("o", inner);
        assert_eq!(outer.finish(), br#"{"b":"x","a":"y","o":{"z":"1"}}"#);
        assert_eq!(JsonObject::new().finish(), b"{}");
    }
}
