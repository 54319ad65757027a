//! JSON read as signatures need it read: an object that repeats a key is
//! refused.
//!
//! serde_json keeps the last value of a repeated key, Go's encoding/json the
//! last too, but other readers keep the first: an envelope with two
//! `payload`s could verify here over one payload while another tool shows
//! the other. Every document whose meaning a signature depends on (DSSE
//! envelopes, Sigstore bundles, transparency log entry bodies) is read
//! through [`from_slice`] / [`to_value`].

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A [`Value`] whose objects had no repeated keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("the key {key:?} {REPEATED}")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

const REPEATED: &str = "appears twice in one object";

/// A JSON value checked for repeated keys and otherwise skipped: the scan
/// of a whole input builds nothing but each object's key set.
struct NoRepeats;

impl<'de> Deserialize<'de> for NoRepeats {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<NoRepeats, D::Error> {
        d.deserialize_any(NoRepeatsVisitor)
    }
}

struct NoRepeatsVisitor;

impl<'de> Visitor<'de> for NoRepeatsVisitor {
    type Value = NoRepeats;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<NoRepeats, E> {
        Ok(NoRepeats)
    }
    fn visit_i64<E>(self, _: i64) -> Result<NoRepeats, E> {
        Ok(NoRepeats)
    }
    fn visit_u64<E>(self, _: u64) -> Result<NoRepeats, E> {
        Ok(NoRepeats)
    }
    fn visit_f64<E>(self, _: f64) -> Result<NoRepeats, E> {
        Ok(NoRepeats)
    }
    fn visit_str<E>(self, _: &str) -> Result<NoRepeats, E> {
        Ok(NoRepeats)
    }
    fn visit_unit<E>(self) -> Result<NoRepeats, E> {
        Ok(NoRepeats)
    }
    fn visit_none<E>(self) -> Result<NoRepeats, E> {
        Ok(NoRepeats)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NoRepeats, A::Error> {
        while seq.next_element::<NoRepeats>()?.is_some() {}
        Ok(NoRepeats)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NoRepeats, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(de::Error::custom(format!("the key {key:?} {REPEATED}")));
            }
            map.next_value::<NoRepeats>()?;
            seen.insert(key);
        }
        Ok(NoRepeats)
    }
}

/// Scan a stream of JSON documents (one, or JSON Lines) for an object that
/// repeats a key; the error says where. Anything else that is not JSON ends
/// the scan without an error: the reader proper reports it.
pub fn check_repeated_keys(reader: impl std::io::Read) -> Result<(), serde_json::Error> {
    for doc in serde_json::Deserializer::from_reader(reader).into_iter::<NoRepeats>() {
        match doc {
            Ok(NoRepeats) => {}
            Err(e) if e.to_string().contains(REPEATED) => return Err(e),
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// Parse `bytes` as JSON, refusing repeated keys.
pub fn value_from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<Strict>(bytes).map(|s| s.0)
}

/// Parse `bytes` as JSON into `T`, refusing repeated keys anywhere.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_value(value_from_slice(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_refused_at_any_depth() {
        assert!(value_from_slice(br#"{"a":1,"b":[{"c":2}]}"#).is_ok());
        for doc in [
            r#"{"payload":"a","payload":"b"}"#,
            r#"{"x":{"y":1,"y":1}}"#,
            r#"[{"k":1},{"k":1,"k":2}]"#,
        ] {
            let err = value_from_slice(doc.as_bytes()).unwrap_err().to_string();
            assert!(err.contains("appears twice"), "{doc}: {err}");
        }
        // A stream: the second document repeats a key, at its line.
        let err = check_repeated_keys(&b"{\"a\":1}\n{\"a\":1,\"a\":2}\n"[..]).unwrap_err();
        assert_eq!(err.line(), 2, "{err}");
        assert!(check_repeated_keys(&b"{\"a\":[{\"b\":1}]}\n---\nyaml: x\n"[..]).is_ok());
        // Numbers keep their value.
        assert_eq!(
            value_from_slice(b"[1,-2,2.5,18446744073709551615]").unwrap(),
            serde_json::json!([1, -2, 2.5, 18446744073709551615u64])
        );
    }
}
