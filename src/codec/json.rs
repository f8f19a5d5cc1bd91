//! A small JSON reader for protocol objects (handshake, `CONNECT` replies, `CONNECT_ERROR`
//! messages).
//!
//! It is not used for event payloads. It keeps numbers as their source text (no float parsing,
//! which would cost size in the wasm build) and refuses nesting deeper than [`MAX_DEPTH`], so a
//! hostile server cannot exhaust the stack.

use alloc::string::String;
use alloc::vec::Vec;

use super::DecodeError;

/// The deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 64;

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json<'a> {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written in the source.
    Number(&'a str),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object, members in source order.
    Object(Vec<(String, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is a non-negative integer that fits in a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(n) => {
                let (v, len) = super::read_u64(n.as_bytes(), u64::MAX)?;
                (len == n.len()).then_some(v)
            }
            _ => None,
        }
    }
}

/// Parses one JSON document (surrounding whitespace allowed).
pub fn parse(text: &str) -> Result<Json<'_>, DecodeError> {
    let mut p = Parser {
        s: text,
        b: text.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.b.len() {
        return Err(DecodeError::BadJson);
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
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

    fn literal(&mut self, word: &str, v: Json<'a>) -> Result<Json<'a>, DecodeError> {
        if self.b.get(self.i..self.i + word.len()) == Some(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(DecodeError::BadJson)
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json<'a>, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::BadJson);
        }
        self.ws();
        match self.peek().ok_or(DecodeError::BadJson)? {
            b'n' => self.literal("null", Json::Null),
            b't' => self.literal("true", Json::Bool(true)),
            b'f' => self.literal("false", Json::Bool(false)),
            b'"' => self.string().map(Json::String),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(DecodeError::BadJson),
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Json::Object(members));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    let v = self.value(depth + 1)?;
                    members.push((key, v));
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Object(members));
                        }
                        _ => return Err(DecodeError::BadJson),
                    }
                }
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(DecodeError::BadJson),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Json<'a>, DecodeError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        if self.digits() == 0 {
            return Err(DecodeError::BadJson);
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(DecodeError::BadJson);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(DecodeError::BadJson);
            }
        }
        self.s
            .get(start..self.i)
            .map(Json::Number)
            .ok_or(DecodeError::BadJson)
    }

    fn hex4(&mut self) -> Result<u32, DecodeError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let c = self.peek().ok_or(DecodeError::BadJson)?;
            let d = (c as char).to_digit(16).ok_or(DecodeError::BadJson)?;
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            // Copy the run of plain characters in one go.
            let start = self.i;
            while matches!(self.peek(), Some(c) if c != b'"' && c != b'\\' && c >= 0x20) {
                self.i += 1;
            }
            // `start` and `self.i` sit next to ASCII bytes, so both are char boundaries.
            out.push_str(self.s.get(start..self.i).ok_or(DecodeError::BadJson)?);
            match self.peek().ok_or(DecodeError::BadJson)? {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.i += 1;
                    let e = self.peek().ok_or(DecodeError::BadJson)?;
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi) {
                                self.eat(b'\\')?;
                                self.eat(b'u')?;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(DecodeError::BadJson);
                                }
                                let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                char::from_u32(cp).ok_or(DecodeError::BadJson)?
                            } else {
                                char::from_u32(hi).ok_or(DecodeError::BadJson)?
                            }
                        }
                        _ => return Err(DecodeError::BadJson),
                    };
                    out.push(c);
                }
                // A raw control character inside a string.
                _ => return Err(DecodeError::BadJson),
            }
        }
    }
}

/// Appends `s` to `out` as a JSON string literal (with quotes).
pub fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values() {
        let v =
            parse(r#" {"a":[1,-2.5e3,true,false,null],"b":"x\"\\\/\n\u00e9\ud83d\ude00","c":{}} "#)
                .unwrap();
        assert_eq!(
            v.get("a"),
            Some(&Json::Array(vec![
                Json::Number("1"),
                Json::Number("-2.5e3"),
                Json::Bool(true),
                Json::Bool(false),
                Json::Null
            ]))
        );
        assert_eq!(v.get("b").and_then(Json::as_str), Some("x\"\\/\né😀"));
        assert_eq!(v.get("c"), Some(&Json::Object(vec![])));
        assert_eq!(v.get("zz"), None);
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "{",
            "[1,]",
            "{\"a\"}",
            "01x",
            "-",
            "1.",
            "1e",
            "\"\\x\"",
            "\"\u{1}\"",
            "tru",
            "[1] 2",
            "\"\\ud800\"",
            "\"\\ud800\\u0041\"",
            "{\"a\":1,}",
        ] {
            assert!(parse(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(parse(&deep), Err(DecodeError::BadJson));
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn string_round_trip() {
        for s in ["", "plain", "q\"b\\s", "ctl\u{1}\u{1f}\n\t", "日本語 😀"] {
            let mut out = String::new();
            push_string(&mut out, s);
            assert_eq!(parse(&out).unwrap(), Json::String(s.into()));
        }
    }
}
