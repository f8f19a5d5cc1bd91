//! A small JSON scanner for protocol objects (the open handshake, `CONNECT` replies).
//!
//! It does not build a tree: it finds one top-level member of an object and hands back the
//! member's raw text, which [`string`] and [`u64()`] then read. Nesting is skipped with a
//! counter, not recursion, so hostile input cannot exhaust the stack. Event payloads are never
//! read here: they go to the front door's JSON parser as text.

use alloc::string::String;

use super::DecodeError;

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), DecodeError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(DecodeError::BadJson)
        }
    }

    /// Skips a string starting at the opening quote.
    fn skip_string(&mut self) -> Result<(), DecodeError> {
        self.eat(b'"')?;
        loop {
            match self.peek().ok_or(DecodeError::BadJson)? {
                b'"' => {
                    self.i += 1;
                    return Ok(());
                }
                b'\\' => self.i += 2,
                c if c < 0x20 => return Err(DecodeError::BadJson),
                _ => self.i += 1,
            }
        }
    }

    /// Skips one value of any kind.
    fn skip_value(&mut self) -> Result<(), DecodeError> {
        match self.peek().ok_or(DecodeError::BadJson)? {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek().ok_or(DecodeError::BadJson)? {
                        b'"' => {
                            self.skip_string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                let start = self.i;
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.i += 1;
                }
                if self.i == start {
                    Err(DecodeError::BadJson)
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// The raw text of the top-level member `key` of the JSON object `text`, or `None` if the
/// object has no such member. Fails if `text` is not an object.
pub fn field<'a>(text: &'a str, key: &str) -> Result<Option<&'a str>, DecodeError> {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
    };
    let mut found = None;
    s.ws();
    s.eat(b'{')?;
    s.ws();
    if s.peek() == Some(b'}') {
        s.i += 1;
    } else {
        loop {
            s.ws();
            let k = s.i;
            s.skip_string()?;
            let name = text.get(k + 1..s.i - 1);
            s.ws();
            s.eat(b':')?;
            s.ws();
            let v = s.i;
            s.skip_value()?;
            if found.is_none() && name == Some(key) {
                found = text.get(v..s.i);
            }
            s.ws();
            match s.peek() {
                Some(b',') => s.i += 1,
                Some(b'}') => {
                    s.i += 1;
                    break;
                }
                _ => return Err(DecodeError::BadJson),
            }
        }
    }
    s.ws();
    if s.i != s.b.len() {
        return Err(DecodeError::BadJson);
    }
    Ok(found)
}

/// Reads a raw JSON value as a non-negative integer that fits in a `u64`.
pub fn u64(raw: &str) -> Option<u64> {
    let (v, len) = super::read_u64(raw.as_bytes(), u64::MAX)?;
    (len == raw.len()).then_some(v)
}

/// Reads a raw JSON string value (with its quotes), resolving `\"`, `\\` and `\/`.
///
/// Protocol strings (session ids) are plain ASCII; other escapes (`\n`, `\u00e9`, …) are
/// refused rather than decoded, which keeps character decoding out of the wasm.
pub fn string(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let b = inner.as_bytes();
    let mut out = String::with_capacity(inner.len());
    let (mut start, mut i) = (0, 0);
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => {
                // Keep the escaped character itself, dropping the backslash.
                if !matches!(b.get(i + 1), Some(b'"' | b'\\' | b'/')) {
                    return None;
                }
                out.push_str(inner.get(start..i)?);
                start = i + 1;
                i += 2;
            }
            b'"' => return None,
            0..=0x1f => return None,
            _ => i += 1,
        }
    }
    out.push_str(inner.get(start..)?);
    Some(out)
}

/// The members of a JSON object that the protocol reads: strings (session ids) and
/// non-negative integers (intervals). Implemented here for JSON text; the npm build implements
/// it with the browser's `JSON.parse` instead of carrying this scanner in its wasm.
pub trait Object {
    /// Member `key`, if the object is valid and the member is a string.
    fn string(&self, key: &str) -> Option<String>;
    /// Member `key`, if the object is valid and the member is a non-negative integer.
    fn number(&self, key: &str) -> Option<u64>;
}

impl Object for str {
    fn string(&self, key: &str) -> Option<String> {
        field(self, key).ok()?.and_then(string)
    }
    fn number(&self, key: &str) -> Option<u64> {
        field(self, key).ok()?.and_then(u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_top_level_fields() {
        let t = r#" {"a":[1,{"sid":"inner"}],"s":"x\"}","sid":"top","n":25000,"o":{"k":[]}} "#;
        assert_eq!(field(t, "sid"), Ok(Some(r#""top""#)));
        assert_eq!(field(t, "n").ok().flatten().and_then(u64), Some(25000));
        assert_eq!(field(t, "o"), Ok(Some(r#"{"k":[]}"#)));
        assert_eq!(field(t, "missing"), Ok(None));
        assert_eq!(field("{}", "a"), Ok(None));
    }

    #[test]
    fn rejects_malformed() {
        for t in [
            "",
            "[]",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{\"a\":1} x",
            "{a:1}",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":[1}",
            "\"s\"",
        ] {
            assert!(field(t, "a").is_err(), "{t:?}");
        }
    }

    #[test]
    fn deep_nesting_is_not_recursive() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(field(&deep, "a").unwrap().is_some());
    }

    #[test]
    fn numbers_and_strings() {
        assert_eq!(u64("25000"), Some(25000));
        for bad in ["-1", "1.5", "1e3", "\"1\"", "", "99999999999999999999"] {
            assert_eq!(u64(bad), None, "{bad}");
        }
        assert_eq!(string(r#""x\"\\\/é😀""#).as_deref(), Some("x\"\\/é😀"));
        assert_eq!(string(r#""plain""#).as_deref(), Some("plain"));
        for bad in [
            r#""\x""#,
            r#""\n""#,
            r#""\u00e9""#,
            r#""a\""#,
            "\"a",
            "a",
            "\"\u{1}\"",
            r#""a"b""#,
        ] {
            assert_eq!(string(bad), None, "{bad}");
        }
    }
}
