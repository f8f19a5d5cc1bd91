//! Payloads of the Rust front door: serde values in, JSON text with binary placeholders out.
//!
//! Binary data travels as Socket.IO attachments: in the JSON text each binary value is
//! replaced by `{"_placeholder":true,"num":N}` and its bytes follow as a binary frame. In Rust,
//! wrap bytes in [`Binary`] to send them as an attachment; received attachments appear where
//! their placeholder was, as an array of bytes, so they deserialize into [`Binary`],
//! `Vec<u8>` or `serde_bytes::ByteBuf`.

use std::cell::RefCell;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

thread_local! {
    // Attachments collected while serializing one packet; `None` outside of `encode`.
    static COLLECTING: RefCell<Option<Vec<Vec<u8>>>> = const { RefCell::new(None) };
}

/// Bytes sent as a Socket.IO binary attachment (an `ArrayBuffer` on the JavaScript side).
///
/// ```
/// use rtio::Binary;
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Upload { name: String, data: Binary }
/// let up = Upload { name: "a.png".into(), data: Binary(vec![0x89, 0x50]) };
/// # let _ = up;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Binary(pub Vec<u8>);

impl Serialize for Binary {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let num = COLLECTING.with(|c| {
            c.borrow_mut().as_mut().map(|list| {
                list.push(self.0.clone());
                list.len() - 1
            })
        });
        match num {
            Some(num) => {
                use serde::ser::SerializeStruct;
                let mut st = s.serialize_struct("Placeholder", 2)?;
                st.serialize_field("_placeholder", &true)?;
                st.serialize_field("num", &num)?;
                st.end()
            }
            // Outside a packet (e.g. serializing for storage) bytes are a plain array.
            None => self.0.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Binary {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<u8>::deserialize(d).map(Binary)
    }
}

/// Serializes `args` as the JSON array text of a packet, collecting [`Binary`] values as
/// attachments.
pub(crate) fn encode(args: &[&dyn erased::Arg]) -> Result<(String, Vec<Vec<u8>>), String> {
    let previous = COLLECTING.with(|c| c.borrow_mut().replace(Vec::new()));
    let mut text = String::from("[");
    let mut failure = None;
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        match a.to_json() {
            Ok(json) => text.push_str(&json),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    text.push(']');
    let attachments = COLLECTING.with(|c| std::mem::replace(&mut *c.borrow_mut(), previous));
    if let Some(e) = failure {
        return Err(e);
    }
    Ok((text, attachments.unwrap_or_default()))
}

/// Object-safe serialization, so `encode` can take heterogeneous arguments.
pub(crate) mod erased {
    /// One argument of [`Socket::emit_many`](crate::Socket::emit_many): any `Serialize`
    /// value, taken as `&dyn Arg` so one call can mix types ([`Binary`](crate::Binary)
    /// included).
    pub trait Arg {
        /// The argument as JSON text (binary collected on the side).
        #[doc(hidden)]
        fn to_json(&self) -> Result<String, String>;
    }
    impl<T: serde::Serialize + ?Sized> Arg for T {
        fn to_json(&self) -> Result<String, String> {
            serde_json::to_string(self).map_err(|e| e.to_string())
        }
    }
}

/// Parses a packet's JSON array text and puts each attachment where its placeholder is.
pub(crate) fn decode(text: &str, attachments: &[Vec<u8>]) -> Result<Vec<Value>, String> {
    let mut values: Vec<Value> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if !attachments.is_empty() {
        for v in &mut values {
            fill_placeholders(v, attachments)?;
        }
    }
    Ok(values)
}

fn fill_placeholders(v: &mut Value, attachments: &[Vec<u8>]) -> Result<(), String> {
    match v {
        Value::Object(map) => {
            if map.get("_placeholder") == Some(&Value::Bool(true)) {
                // As socket.io-parser: `num` is the index of an attachment, or the packet is
                // malformed.
                let bytes = map
                    .get("num")
                    .and_then(Value::as_u64)
                    .and_then(|n| attachments.get(usize::try_from(n).ok()?))
                    .ok_or("illegal attachments")?;
                *v = Value::Array(bytes.iter().map(|&b| Value::from(b)).collect());
                return Ok(());
            }
            for item in map.values_mut() {
                fill_placeholders(item, attachments)?;
            }
        }
        Value::Array(items) => {
            for item in items {
                fill_placeholders(item, attachments)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Reads listener arguments as `T`: no argument reads as `null`, one argument as itself,
/// several as an array (so a tuple receives them in order).
pub(crate) fn from_args<T: DeserializeOwned>(args: &[Value]) -> Result<T, String> {
    match args {
        [] => T::deserialize(&Value::Null),
        [one] => T::deserialize(one),
        many => T::deserialize(&Value::Array(many.to_vec())),
    }
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn binary_becomes_placeholders_and_back() {
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct Up {
            name: String,
            data: Binary,
            more: Vec<Binary>,
        }
        let up = Up {
            name: "x".into(),
            data: Binary(vec![1, 2]),
            more: vec![Binary(vec![3]), Binary(vec![])],
        };
        let (text, bins) = encode(&[&"ev", &up]).unwrap();
        assert_eq!(
            text,
            r#"["ev",{"name":"x","data":{"_placeholder":true,"num":0},"more":[{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]}]"#
        );
        assert_eq!(bins, vec![vec![1, 2], vec![3], vec![]]);
        let values = decode(&text, &bins).unwrap();
        let back: Up = from_args(&values[1..]).unwrap();
        assert_eq!(back, up);
        // Outside of a packet, bytes are a plain array.
        assert_eq!(serde_json::to_value(Binary(vec![7])).unwrap(), json!([7]));
    }

    #[test]
    fn args_shapes() {
        assert_eq!(from_args::<()>(&[]), Ok(()));
        assert_eq!(from_args::<u8>(&[json!(5)]), Ok(5));
        assert_eq!(
            from_args::<(u8, String)>(&[json!(5), json!("a")]),
            Ok((5, "a".to_string()))
        );
        assert!(from_args::<u8>(&[json!("no")]).is_err());
        assert!(decode("{}", &[]).is_err());
        assert!(decode("[1,", &[]).is_err());
    }
}
