//! Compact JSON, byte for byte what `serde_json::to_vec` writes, for the
//! documents attest makes per run.
//!
//! A statement is mostly long strings (step scripts, the re-encoded run
//! spec) and an envelope mostly one (the payload's base64). serde_json checks
//! every byte of a string against its escape table one at a time; here each
//! string is scanned 16 bytes at a time for the bytes that need escaping,
//! and the runs between them are copied whole. Escapes, numbers and key order
//! are serde_json's own (numbers are written by serde_json itself), and a
//! test holds the output byte-equal to serde_json's.

use serde_json::Value;

/// `value` as compact JSON.
pub fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    write_value(&mut out, value);
    out
}

/// Append `value` as compact JSON.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    write_spelled::<SerdeJson>(out, value);
}

/// How an encoder spells strings and numbers. The rest of compact JSON (the
/// walk, brackets, commas, keys in the map's order) is the same for
/// serde_json here and for Go's raw JSON in [`crate::run::gojson`].
pub trait Spelling {
    fn string(out: &mut Vec<u8>, s: &str);
    fn number(out: &mut Vec<u8>, n: &serde_json::Number);
}

/// serde_json's spelling.
struct SerdeJson;

impl Spelling for SerdeJson {
    fn string(out: &mut Vec<u8>, s: &str) {
        write_str(out, s);
    }

    fn number(out: &mut Vec<u8>, n: &serde_json::Number) {
        serde_json::to_writer(&mut *out, n).expect("writing to a Vec cannot fail");
    }
}

/// Append `value` as compact JSON, spelled by `S`.
pub fn write_spelled<S: Spelling>(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => S::number(out, n),
        Value::String(s) => S::string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_spelled::<S>(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                S::string(out, key);
                out.push(b':');
                write_spelled::<S>(out, item);
            }
            out.push(b'}');
        }
    }
}

/// Append `s` as a JSON string, escaped as serde_json escapes it: `"`, `\`
/// and the control characters below U+0020, nothing else.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    while let Some(i) = next_escape(bytes, start) {
        out.extend_from_slice(&bytes[start..i]);
        write_escape(out, bytes[i]);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// The index of the first byte at or after `from` that needs escaping.
fn next_escape(bytes: &[u8], from: usize) -> Option<usize> {
    const LANES: usize = 16;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + LANES) {
        // Branch-free over the chunk, so that it vectorises.
        if chunk.iter().fold(false, |acc, &b| acc | needs_escape(b)) {
            break;
        }
        i += LANES;
    }
    bytes[i..]
        .iter()
        .position(|&b| needs_escape(b))
        .map(|p| i + p)
}

/// Append the escape of one ASCII byte: the short forms JSON has, else
/// `\u00XX` in lower-case hex (serde_json and Go agree on both).
pub fn write_escape(out: &mut Vec<u8>, b: u8) {
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Provenance and Go's JSON of Tekton types sort object keys, which
    /// serde_json's `Map` does only while no crate in the tree turns on its
    /// `preserve_order` feature (features unify: bson 2, which mongodb's
    /// `compat-3-0-0` pulls in, did). This names the cause if one comes back.
    #[test]
    fn serde_json_maps_keep_keys_sorted() {
        let map: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"b":1,"a":2}"#).unwrap_or_default();
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["a", "b"],
            "serde_json's preserve_order feature is on: find who enables it with \
             `cargo tree -e features -i serde_json`"
        );
    }

    fn same_as_serde_json(value: &Value) {
        assert_eq!(
            String::from_utf8(to_vec(value)).unwrap(),
            serde_json::to_string(value).unwrap()
        );
    }

    #[test]
    fn every_ascii_byte_and_some_unicode_is_written_as_serde_json_writes_it() {
        let all_ascii: String = (0u8..0x80).map(char::from).collect();
        same_as_serde_json(&Value::String(all_ascii.clone()));
        for c in (0u8..0x80).map(char::from) {
            // Alone, at each position of a 16-byte chunk, and after one.
            for pad in 0..34 {
                let s = format!("{}{c}{}", "a".repeat(pad), "z".repeat(pad % 5));
                same_as_serde_json(&Value::String(s));
            }
        }
        same_as_serde_json(&json!(
            "non-ASCII \u{e9}\u{2028}\u{2029}\u{1F600} </script> \u{7f} \u{0}\u{1f}"
        ));
    }

    #[test]
    fn trees_numbers_and_keys_are_written_as_serde_json_writes_them() {
        same_as_serde_json(&json!({
            "b\"key\n": [1, -2, 3.5, 1e300, -0.0, 18446744073709551615u64, i64::MIN],
            "a": {"nested": [[], {}, null, true, false, ""]},
            "script": "#!/bin/sh\nset -e\necho \"hi\" > /tmp/x\\y\n\ttab\r\n",
        }));
    }

    #[test]
    fn every_json_and_yaml_file_in_testdata_is_written_as_serde_json_writes_it() {
        let mut checked = 0;
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        // Chains' cases and kubectl's exports are others' data, read where
        // they live beside the repository.
        let shared: Vec<_> = ["../shared/conformance", "../shared/corpus"]
            .iter()
            .map(|d| manifest.join(d))
            .filter(|d| d.is_dir())
            .collect();
        if shared.is_empty() {
            eprintln!("../shared is absent: checking testdata only");
        }
        let minimum = if shared.is_empty() { 2 } else { 20 };
        let mut dirs = vec![manifest.join("testdata")];
        dirs.extend(shared);
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let value = match path.extension().and_then(|e| e.to_str()) {
                    Some("json") => serde_json::from_str::<Value>(&text).ok(),
                    Some("yaml" | "yml") => serde_saphyr::from_str::<Value>(&text).ok(),
                    _ => None,
                };
                if let Some(value) = value {
                    same_as_serde_json(&value);
                    checked += 1;
                }
            }
        }
        assert!(checked >= minimum, "only {checked} files checked");
    }
}
