//! A small JSON scanner for protocol objects (the open handshake, `CONNECT` replies).
//!
//! It does not build a tree: it finds one top-level member of an object and hands back the
//! member's raw text, which [`string`] and [`u64()`] then read. Nesting is skipped with a
//! counter, not recursion, so hostile input cannot exhaust the stack. Event payloads are never
//! read here: they go to the front door's JSON parser as text.

use alloc::string::String;
use alloc::vec::Vec;

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

    fn literal(&mut self, word: &str) -> Result<(), DecodeError> {
        if self.b.get(self.i..self.i + word.len()) == Some(word.as_bytes()) {
            self.i += word.len();
            Ok(())
        } else {
            Err(DecodeError::BadJson)
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    /// Skips a number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn skip_number(&mut self) -> Result<(), DecodeError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(DecodeError::BadJson),
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
        Ok(())
    }

    /// Skips a string starting at the opening quote: no control characters, only JSON's
    /// escapes.
    fn skip_string(&mut self) -> Result<(), DecodeError> {
        self.eat(b'"')?;
        loop {
            match self.peek().ok_or(DecodeError::BadJson)? {
                b'"' => {
                    self.i += 1;
                    return Ok(());
                }
                b'\\' => {
                    self.i += 1;
                    match self.peek().ok_or(DecodeError::BadJson)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            let hex = self.b.get(self.i + 1..self.i + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(DecodeError::BadJson);
                            }
                            self.i += 5;
                        }
                        _ => return Err(DecodeError::BadJson),
                    }
                }
                c if c < 0x20 => return Err(DecodeError::BadJson),
                _ => self.i += 1,
            }
        }
    }

    /// Skips an object's key and its colon.
    fn key(&mut self) -> Result<(), DecodeError> {
        self.ws();
        self.skip_string()?;
        self.ws();
        self.eat(b':')
    }

    /// Skips one value of any kind, checking that it is valid JSON. Nesting is followed with a
    /// stack of the open brackets, not recursion.
    fn skip_value(&mut self) -> Result<(), DecodeError> {
        let mut open: Vec<u8> = Vec::new();
        loop {
            self.ws();
            match self.peek().ok_or(DecodeError::BadJson)? {
                c @ (b'[' | b'{') => {
                    self.i += 1;
                    self.ws();
                    let close = if c == b'[' { b']' } else { b'}' };
                    if self.peek() == Some(close) {
                        self.i += 1;
                    } else {
                        open.push(close);
                        if c == b'{' {
                            self.key()?;
                        }
                        continue;
                    }
                }
                b'"' => self.skip_string()?,
                b't' => self.literal("true")?,
                b'f' => self.literal("false")?,
                b'n' => self.literal("null")?,
                _ => self.skip_number()?,
            }
            // A value ended: close what it ends, or go on to the next member.
            loop {
                let Some(&close) = open.last() else {
                    return Ok(());
                };
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if close == b'}' {
                            self.key()?;
                        }
                        break;
                    }
                    Some(c) if c == close => {
                        self.i += 1;
                        open.pop();
                    }
                    _ => return Err(DecodeError::BadJson),
                }
            }
        }
    }

    /// Checks that nothing but whitespace is left.
    fn end(&mut self) -> Result<(), DecodeError> {
        self.ws();
        if self.i == self.b.len() {
            Ok(())
        } else {
            Err(DecodeError::BadJson)
        }
    }
}

/// The raw text of the top-level member `key` of the JSON object `text` (its last, if the key
/// repeats, as `JSON.parse` reads it), or `None` if the object has no such member. Fails if
/// `text` is not a valid JSON object.
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
            if name == Some(key) {
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
    s.end()?;
    Ok(found)
}

/// The raw text of each element of the JSON array `text`, in order. Fails if `text` is not a
/// valid JSON array.
pub fn elements(text: &str) -> Result<Vec<&str>, DecodeError> {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    s.ws();
    s.eat(b'[')?;
    s.ws();
    if s.peek() == Some(b']') {
        s.i += 1;
    } else {
        loop {
            s.ws();
            let v = s.i;
            s.skip_value()?;
            out.push(text.get(v..s.i).ok_or(DecodeError::BadJson)?);
            s.ws();
            match s.peek() {
                Some(b',') => s.i += 1,
                Some(b']') => {
                    s.i += 1;
                    break;
                }
                _ => return Err(DecodeError::BadJson),
            }
        }
    }
    s.end()?;
    Ok(out)
}

/// Reads a raw JSON string value (with its quotes), resolving every escape, as `JSON.parse`
/// does; `None` if it is not a valid string or holds an unpaired surrogate.
pub fn unescape(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    let hex = |chars: &mut core::str::Chars<'_>| -> Option<u32> {
        let h = chars.as_str().get(..4)?;
        let v = u32::from_str_radix(h, 16).ok()?;
        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        for _ in 0..4 {
            chars.next();
        }
        Some(v)
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(match chars.next()? {
                '"' => '"',
                '\\' => '\\',
                '/' => '/',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => {
                    let first = hex(&mut chars)?;
                    let code = if (0xD800..0xDC00).contains(&first) {
                        // A high surrogate: a low one must follow.
                        if chars.next()? != '\\' || chars.next()? != 'u' {
                            return None;
                        }
                        let low = hex(&mut chars)?;
                        if !(0xDC00..0xE000).contains(&low) {
                            return None;
                        }
                        0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        first
                    };
                    char::from_u32(code)?
                }
                _ => return None,
            }),
            '"' => return None,
            c if (c as u32) < 0x20 => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// Appends `s` to `out` as a JSON string, with its quotes.
pub fn quote(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Reads a raw JSON value as a non-negative integer that fits in a `u64`.
pub fn u64(raw: &str) -> Option<u64> {
    let (v, len) = super::read_u64(raw.as_bytes(), u64::MAX)?;
    (len == raw.len()).then_some(v)
}

/// The largest integer a JSON number holds exactly once read by `JSON.parse` (2^53 − 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Reads a raw JSON number whose value is a non-negative integer no larger than
/// [`MAX_SAFE_INTEGER`], by its value: `7`, `7.0`, `7e0`, `0.7e1` and `700E-2` are 7, and `-0`
/// is 0, as `JSON.parse` reads them. The value is read exactly, without floating point; only a
/// number of more than 15 significant digits that `JSON.parse` would round to an integer reads
/// differently (as no integer). `raw` is taken to be valid JSON: anything but a number gives
/// `None`.
pub fn safe_integer(raw: &str) -> Option<u64> {
    // Digits alone, the common case.
    if let Some(v) = u64(raw) {
        return (v <= MAX_SAFE_INTEGER).then_some(v);
    }
    let (minus, number) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let (mantissa, exp) = match number.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (number, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = int.as_bytes().iter().chain(frac.as_bytes());
    if int.is_empty() || !digits.clone().all(u8::is_ascii_digit) {
        return None;
    }
    // The value is `significant` × 10^`shift`, its digits without the zeros that lead.
    let significant: Vec<u8> = digits
        .skip_while(|&&d| d == b'0')
        .map(|d| d - b'0')
        .collect();
    let Some(last) = significant.iter().rposition(|&d| d != 0) else {
        return Some(0);
    };
    let shift = i64::from(exp) - frac.len() as i64;
    // A fraction left (a nonzero digit after the point), or below zero: no integer.
    if minus || (last as i64) >= significant.len() as i64 + shift {
        return None;
    }
    let kept = (significant.len() as i64 + shift.min(0)) as usize;
    // At most 16 digits (2^53 − 1 has 16).
    if kept as i64 + shift.max(0) > 16 {
        return None;
    }
    let mut value = significant
        .iter()
        .take(kept)
        .fold(0u64, |v, &d| v * 10 + u64::from(d));
    for _ in 0..shift.max(0) {
        value *= 10;
    }
    (value <= MAX_SAFE_INTEGER).then_some(value)
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

/// The last element of a JSON array when it is a [plain] string that follows another
/// element (an event's last argument), read backwards from the array's end: `end` may be only
/// the end of the array's text, as long as it reaches back to the comma before that string.
/// `None` when the array does not end with such a string. The array is taken to be valid JSON
/// (its reader checks it).
pub fn last_string(end: &str) -> Option<&str> {
    let b = end.as_bytes();
    // The last byte before `i` that is not whitespace, if it is `want`.
    let back = |i: usize, want: u8| {
        let at = b
            .get(..i)?
            .iter()
            .rposition(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))?;
        (b.get(at) == Some(&want)).then_some(at)
    };
    let close = back(back(b.len(), b']')?, b'"')?;
    // A plain string holds no quote: the one before the closing quote opens it.
    let open = b.get(..close)?.iter().rposition(|&c| c == b'"')?;
    back(open, b',')?;
    core::str::from_utf8(b.get(open + 1..close)?)
        .ok()
        .filter(|s| plain(s))
}

/// Whether `s` can be written between quotes as it is: no quote, backslash or control
/// character. The protocol's own strings (session ids, recovery offsets) are.
pub fn plain(s: &str) -> bool {
    !s.bytes().any(|c| c < 0x20 || c == b'"' || c == b'\\')
}

/// The members of a JSON object that the protocol reads: strings (session ids) and
/// non-negative integers (intervals). Implemented here for JSON text; the npm build implements
/// it with the browser's `JSON.parse` instead of carrying this scanner in its wasm.
pub trait Object {
    /// Member `key`, if the object is valid and the member is a string.
    fn string(&self, key: &str) -> Option<String>;
    /// Member `key`, if the object is valid and the member is a non-negative integer.
    fn number(&self, key: &str) -> Option<u64>;
    /// Whether member `key` is an array that holds the string `item`.
    fn has(&self, key: &str, item: &str) -> bool;
}

impl Object for str {
    fn string(&self, key: &str) -> Option<String> {
        field(self, key).ok()?.and_then(string)
    }
    fn number(&self, key: &str) -> Option<u64> {
        field(self, key).ok()?.and_then(u64)
    }
    fn has(&self, key: &str, item: &str) -> bool {
        let array = field(self, key).ok().flatten().unwrap_or_default();
        elements(array).is_ok_and(|e| e.into_iter().any(|e| string(e).as_deref() == Some(item)))
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
    fn last_string_reads_an_arrays_end() {
        for (t, want) in [
            (r#"["ev",1,"o7"]"#, Some("o7")),
            (r#"["ev" , "1700000000000-0" ]"#, Some("1700000000000-0")),
            (r#"",x,"o1"]"#, Some("o1")),
            (r#"["ev",""]"#, Some("")),
            // Not plain.
            (r#"["ev","a\"b"]"#, None),
            (r#"["ev","\\"]"#, None),
            (r#"["ev","\n"]"#, None),
            // The only element (an event's name), or not a string.
            (r#"["o7"]"#, None),
            (r#"["ev",{"a":"b"}]"#, None),
            (r#"["ev",["a","b"]]"#, None),
            (r#"["ev",1]"#, None),
            // Too short to tell.
            (r#"o7"]"#, None),
            ("", None),
            ("]", None),
            (r#""]"#, None),
        ] {
            assert_eq!(last_string(t), want, "{t}");
        }
    }

    #[test]
    fn deep_nesting_is_not_recursive() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(field(&deep, "a").unwrap().is_some());
    }

    #[test]
    fn safe_integers_by_value() {
        for (raw, want) in [
            ("0", Some(0)),
            ("7", Some(7)),
            ("7.0", Some(7)),
            ("7e0", Some(7)),
            ("0.7e1", Some(7)),
            ("70E-1", Some(7)),
            ("700E-2", Some(7)),
            ("0.0007e4", Some(7)),
            ("7.000", Some(7)),
            ("0.0", Some(0)),
            ("0e999999", Some(0)),
            ("1e15", Some(1_000_000_000_000_000)),
            ("1e16", None),
            ("7e-1", None),
            ("7.01", None),
            ("-7.0", None),
            ("1e99999999999", None),
            ("-0", Some(0)),
            ("-0.0", Some(0)),
            ("9007199254740991", Some(MAX_SAFE_INTEGER)),
            ("9007199254740992", None),
            ("9.007199254740991e15", Some(MAX_SAFE_INTEGER)),
            ("1e400", None),
            ("7.5", None),
            ("-1", None),
            ("\"7\"", None),
            ("true", None),
            ("null", None),
        ] {
            assert_eq!(safe_integer(raw), want, "{raw}");
        }
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
