//! Byte-exact emulation of Go's `encoding/json` round trip for Tekton objects.
//!
//! Tekton Chains embeds objects that went through `json.Unmarshal` into the
//! Go types of `tektoncd/pipeline` v1.15.0 (`pkg/apis/pipeline/v1`, with
//! `k8s.io/api` + `k8s.io/apimachinery` v0.36.3 and `knative.dev/pkg`) and
//! back through `json.Marshal`. This module reproduces that with a static,
//! table-driven schema: for each Go struct, the JSON fields in declaration
//! order (fields of embedded structs promoted in place) with their type and
//! `omitempty` / `omitzero` option.
//!
//! The whole `TaskRun` / `PipelineRun` type tree is typed, including the
//! `corev1` types it reaches (volumes and every volume source, containers'
//! env / probes / lifecycle / security contexts, affinity, PVC templates,
//! ...). Custom (un)marshallers are emulated: `metav1.Time` and knative's
//! `VolatileTime` (RFC 3339 in UTC, whole seconds, `null` when zero),
//! `metav1.Duration` (Go `time.Duration` syntax, re-printed canonically),
//! `resource.Quantity` (canonical form, including its cached-string quirks),
//! `intstr.IntOrString` and Tekton's `ParamValue` / `ResultValue`.
//! Only two corners are untyped, because they are raw JSON in Go as well:
//! `PipelineTask.taskSpec.spec` (`runtime.RawExtension`) and
//! `metadata.managedFields[].fieldsV1` (`metav1.FieldsV1`); they are emitted
//! compacted, with Go's string escaping, keys in `serde_json::Map` order.
//!
//! Go would reject some inputs; we never fail and instead:
//! - a value of the wrong JSON type is treated as absent (zero / nil),
//!   except that numbers and booleans are accepted as their JSON text where
//!   Go expects a string;
//! - a `ParamValue` with no value at all (Go's marshaller errors) is `""`;
//! - a `Quantity` that does not parse keeps its (trimmed) input string.
//!
//! Input object keys are matched like Go does (exact name first, then a
//! case-insensitive match); unknown keys are dropped.

use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::io::Write as _;

/// Root Go types we re-encode.
#[derive(Clone, Copy, Debug)]
pub enum GoType {
    TaskRun,
    PipelineRun,
    TaskRunSpec,
    PipelineRunSpec,
    /// Tekton's `config.FeatureFlags` (as found in `status.provenance`).
    FeatureFlags,
}

/// Bytes exactly as Go's `json.Marshal` would produce after `json.Unmarshal`
/// of `value` into the Go type.
#[must_use]
pub fn encode(ty: GoType, value: &Value) -> Vec<u8> {
    let fields: &[F] = match ty {
        GoType::TaskRun => &V1_TASK_RUN,
        GoType::PipelineRun => &V1_PIPELINE_RUN,
        GoType::TaskRunSpec => &V1_TASK_RUN_SPEC,
        GoType::PipelineRunSpec => &V1_PIPELINE_RUN_SPEC,
        GoType::FeatureFlags => &CONFIG_FEATURE_FLAGS,
    };
    let mut out = Vec::with_capacity(4096);
    enc_struct(&mut out, fields, value.as_object());
    out
}

/// The same, parsed back into a `Value` (for semantic use, e.g. `runSpec`).
#[must_use]
pub fn roundtrip(ty: GoType, value: &Value) -> Value {
    serde_json::from_slice(&encode(ty, value)).unwrap_or(Value::Null)
}

/// Go's `json.Marshal` of an `interface{}` that `json.Unmarshal` filled
/// from `value`: numbers are float64, object keys sorted.
#[must_use]
pub fn encode_any(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_any(&mut out, value);
    out
}

// ---------------------------------------------------------------------------
// Schema

/// Go type of a field, as far as JSON is concerned.
#[derive(Clone, Copy)]
enum Ty {
    /// `string` and named string types.
    Str,
    Bool,
    I32,
    /// `int` / `int64`.
    I64,
    /// `metav1.Time`, `apis.VolatileTime`.
    Time,
    /// `metav1.Duration`.
    Duration,
    /// `resource.Quantity`.
    Quantity,
    /// `intstr.IntOrString`.
    IntOrStr,
    /// Tekton `ParamValue` / `ResultValue`.
    Param,
    /// `runtime.RawExtension`, `metav1.FieldsV1`.
    Raw,
    Struct(&'static [F]),
    Ptr(&'static Ty),
    Slice(&'static Ty),
    Map(&'static Ty),
}

/// `omitempty` / `omitzero` handling of a field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Omit {
    Never,
    Empty,
    Zero,
}

/// One JSON field of a Go struct.
struct F {
    name: &'static str,
    ty: Ty,
    omit: Omit,
}

// Short names used by the tables below.
const N: Omit = Omit::Never;
const E: Omit = Omit::Empty;
const Z: Omit = Omit::Zero;
const STR: Ty = Ty::Str;
const BOOL: Ty = Ty::Bool;
const I32: Ty = Ty::I32;
const I64: Ty = Ty::I64;
const TIME: Ty = Ty::Time;
const DURATION: Ty = Ty::Duration;
const QUANTITY: Ty = Ty::Quantity;
const INT_OR_STR: Ty = Ty::IntOrStr;
const PARAM: Ty = Ty::Param;
const RAW: Ty = Ty::Raw;

/// `NAME = [(json name, type, omit), ...];` defines `static NAME: [F; _]`.
macro_rules! tables {
    ($($id:ident = [$(($name:literal, $ty:expr, $omit:ident)),* $(,)?];)*) => {
        $(static $id: [F; [$($name),*].len()] = [$(F { name: $name, ty: $ty, omit: $omit }),*];)*
    };
}

// ---------------------------------------------------------------------------
// Decoding helpers: what a Go field holds after `json.Unmarshal`.

/// `Some(v)` unless absent or JSON `null` (both decode to Go's zero value).
fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

/// A Go string field; numbers and booleans are taken as their JSON text.
fn go_string(v: Option<&Value>) -> Option<Cow<'_, str>> {
    match v? {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

fn go_bool(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true)))
}

/// A Go integer of type `ty` (`I32` or `I64`); integral floats are accepted.
fn go_int(ty: &Ty, v: Option<&Value>) -> Option<i64> {
    let Value::Number(n) = v? else { return None };
    let x = match n.as_i64() {
        Some(x) => x,
        None => {
            let f = n.as_f64()?;
            if f.fract() != 0.0
                || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f)
            {
                return None;
            }
            f as i64
        }
    };
    if matches!(ty, Ty::I32) && i32::try_from(x).is_err() {
        return None;
    }
    Some(x)
}

/// Whether a pointer to `inner` is non-nil after decoding `v`.
fn ptr_set(inner: &Ty, v: Option<&Value>) -> bool {
    let Some(v) = v else { return false };
    match *inner {
        Ty::Str => matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)),
        Ty::Bool => v.is_boolean(),
        Ty::I32 | Ty::I64 => go_int(inner, Some(v)).is_some(),
        Ty::Time => v.as_str().and_then(parse_time).is_some(),
        Ty::Duration => v.as_str().and_then(parse_duration).is_some(),
        Ty::Quantity => v.is_string() || v.is_number(),
        Ty::IntOrStr => v.is_string() || go_int(&Ty::I32, Some(v)).is_some(),
        Ty::Param | Ty::Raw => true,
        Ty::Struct(_) | Ty::Map(_) => v.is_object(),
        Ty::Slice(_) => v.is_array(),
        Ty::Ptr(inner) => ptr_set(inner, Some(v)),
    }
}

/// Go's `omitempty` test: false, 0, "", nil pointer, empty slice / map.
/// Struct-typed values (including the custom marshallers) are never empty.
fn is_empty(ty: &Ty, v: Option<&Value>) -> bool {
    match *ty {
        Ty::Str => match v {
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Number(_) | Value::Bool(_)) => false,
            _ => true,
        },
        Ty::Bool => !go_bool(v),
        Ty::I32 | Ty::I64 => go_int(ty, v).unwrap_or(0) == 0,
        Ty::Ptr(inner) => !ptr_set(inner, v),
        Ty::Slice(_) => !matches!(v, Some(Value::Array(a)) if !a.is_empty()),
        Ty::Map(_) => !matches!(v, Some(Value::Object(o)) if !o.is_empty()),
        _ => false,
    }
}

/// Go's `omitzero` test. In this type tree it is only used on `metav1.Time`
/// (whose `IsZero` method decides); other types fall back to `omitempty`.
fn is_zero(ty: &Ty, v: Option<&Value>) -> bool {
    match *ty {
        Ty::Time => v
            .and_then(Value::as_str)
            .and_then(parse_time)
            .is_none_or(GoTime::is_zero),
        _ => is_empty(ty, v),
    }
}

/// Go's case-insensitive key folding (ASCII, plus the two non-ASCII runes
/// that fold onto ASCII letters: U+017F and U+212A).
fn fold(c: char) -> char {
    match c {
        '\u{17F}' => 'S',
        '\u{212A}' => 'K',
        c => c.to_ascii_uppercase(),
    }
}

fn fold_eq(key: &str, name: &str) -> bool {
    key.chars().map(fold).eq(name.chars().map(fold))
}

// ---------------------------------------------------------------------------
// Encoder

fn enc(out: &mut Vec<u8>, ty: &Ty, v: Option<&Value>) {
    match *ty {
        Ty::Str => write_str(out, &go_string(v).unwrap_or_default()),
        Ty::Bool => out.extend_from_slice(if go_bool(v) { b"true" } else { b"false" }),
        Ty::I32 | Ty::I64 => write_int(out, go_int(ty, v).unwrap_or(0)),
        Ty::Time => match v.and_then(Value::as_str).and_then(parse_time) {
            Some(t) if !t.is_zero() => t.write(out),
            _ => out.extend_from_slice(b"null"),
        },
        Ty::Duration => {
            let d = v.and_then(Value::as_str).and_then(parse_duration);
            out.push(b'"');
            write_duration(out, d.unwrap_or(0));
            out.push(b'"');
        }
        Ty::Quantity => write_quantity(out, v),
        Ty::IntOrStr => match v {
            Some(Value::String(s)) => write_str(out, s),
            _ => write_int(out, go_int(&Ty::I32, v).unwrap_or(0)),
        },
        Ty::Param => write_param(out, v),
        Ty::Raw => match v {
            Some(v) => write_raw(out, v),
            None => out.extend_from_slice(b"null"),
        },
        Ty::Struct(fields) => enc_struct(out, fields, v.and_then(Value::as_object)),
        Ty::Ptr(inner) => {
            if ptr_set(inner, v) {
                enc(out, inner, v);
            } else {
                out.extend_from_slice(b"null");
            }
        }
        Ty::Slice(elem) => match v {
            Some(Value::Array(items)) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    enc(out, elem, present(Some(item)));
                }
                out.push(b']');
            }
            _ => out.extend_from_slice(b"null"),
        },
        Ty::Map(elem) => match v {
            Some(Value::Object(obj)) => {
                out.push(b'{');
                for (i, (k, item)) in sorted(obj).into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, k);
                    out.push(b':');
                    enc(out, elem, present(Some(item)));
                }
                out.push(b'}');
            }
            _ => out.extend_from_slice(b"null"),
        },
    }
}

fn enc_struct(out: &mut Vec<u8>, fields: &[F], obj: Option<&Map<String, Value>>) {
    // Only fall back to case-insensitive matching when some key is not an
    // exact field name.
    let fold = obj.is_some_and(|o| o.keys().any(|k| !fields.iter().any(|f| f.name == k)));
    out.push(b'{');
    let mut first = true;
    for f in fields {
        let v = obj.and_then(|o| {
            o.get(f.name).or_else(|| {
                if !fold {
                    return None;
                }
                o.iter()
                    .find(|(k, _)| {
                        fold_eq(k, f.name) && !fields.iter().any(|g| g.name == k.as_str())
                    })
                    .map(|(_, v)| v)
            })
        });
        let v = present(v);
        let skip = match f.omit {
            Omit::Never => false,
            Omit::Empty => is_empty(&f.ty, v),
            Omit::Zero => is_zero(&f.ty, v),
        };
        if skip {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.push(b'"');
        out.extend_from_slice(f.name.as_bytes());
        out.extend_from_slice(b"\":");
        enc(out, &f.ty, v);
    }
    out.push(b'}');
}

/// Entries of a JSON object sorted by key bytes, as Go sorts map keys
/// (already the case unless serde_json's `preserve_order` is enabled).
fn sorted(obj: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = obj.iter().collect();
    if !entries.is_sorted_by(|a, b| a.0 <= b.0) {
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }
    entries
}

fn write_int(out: &mut Vec<u8>, n: i64) {
    let _ = write!(out, "{n}");
}

/// A JSON string escaped like Go's `encoding/json` (HTML-safe).
fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b >= 0x80 {
            // U+2028 / U+2029 are E2 80 A8 / E2 80 A9.
            if b == 0xE2
                && bytes.get(i + 1) == Some(&0x80)
                && matches!(bytes.get(i + 2), Some(0xA8 | 0xA9))
            {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(b"\\u202");
                out.push(HEX[usize::from(bytes[i + 2] & 0xF)]);
                i += 3;
                start = i;
            } else {
                i += 1;
            }
            continue;
        }
        if b >= 0x20 && !matches!(b, b'"' | b'\\' | b'<' | b'>' | b'&') {
            i += 1;
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        // Go escapes `<`, `>` and `&` as `\u003c`, ... like control characters.
        crate::json::write_escape(out, b);
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Raw JSON (`RawExtension`, `FieldsV1`): Go re-emits the input compacted.
fn write_raw(out: &mut Vec<u8>, v: &Value) {
    crate::json::write_spelled::<GoRaw>(out, v);
}

/// Go's spelling of raw JSON: its string escaping, numbers as written.
struct GoRaw;

impl crate::json::Spelling for GoRaw {
    fn string(out: &mut Vec<u8>, s: &str) {
        write_str(out, s);
    }

    fn number(out: &mut Vec<u8>, n: &serde_json::Number) {
        let _ = write!(out, "{n}");
    }
}

/// A Go `interface{}` value: like raw JSON, but numbers are float64 and
/// maps are sorted.
fn write_any(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Number(n) => write_float(out, n.as_f64().unwrap_or_default()),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_any(out, item);
            }
            out.push(b']');
        }
        Value::Object(obj) => {
            out.push(b'{');
            for (i, (k, item)) in sorted(obj).into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k);
                out.push(b':');
                write_any(out, item);
            }
            out.push(b'}');
        }
        scalar => write_raw(out, scalar),
    }
}

/// A float64 as Go's encoder prints it: shortest round-trip digits, in
/// exponent form (`1e+21`, `1e-7`) only outside `[1e-6, 1e21)`.
fn write_float(out: &mut Vec<u8>, f: f64) {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = format!("{f:e}");
        let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
        let sign = if exp.starts_with('-') { "-" } else { "+" };
        let _ = write!(out, "{mantissa}e{sign}{}", exp.trim_start_matches('-'));
    } else {
        let _ = write!(out, "{f}");
    }
}

/// Tekton's `ParamValue`: a string, an array of strings or an object of
/// strings; anything else becomes a string holding the JSON text.
fn write_param(out: &mut Vec<u8>, v: Option<&Value>) {
    let str_or_null = |v: &Value| v.is_string() || v.is_null();
    match v {
        None => write_str(out, ""),
        Some(Value::String(s)) => write_str(out, s),
        Some(Value::Array(items)) if items.iter().all(str_or_null) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, item.as_str().unwrap_or_default());
            }
            out.push(b']');
        }
        Some(Value::Object(obj)) if obj.values().all(str_or_null) => {
            out.push(b'{');
            for (i, (k, item)) in sorted(obj).into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k);
                out.push(b':');
                write_str(out, item.as_str().unwrap_or_default());
            }
            out.push(b'}');
        }
        Some(other) => write_str(out, &other.to_string()),
    }
}

// ---------------------------------------------------------------------------
// metav1.Time: parsed as Go's time.Parse(time.RFC3339, s), printed in UTC.

/// An instant as seconds since the Unix epoch plus nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GoTime {
    secs: i64,
    nanos: u32,
}

/// Seconds from 1970 to Go's zero time, 0001-01-01T00:00:00Z.
const GO_ZERO_SECS: i64 = -62_135_596_800;

impl GoTime {
    fn is_zero(self) -> bool {
        self.secs == GO_ZERO_SECS && self.nanos == 0
    }

    /// `"YYYY-MM-DDTHH:MM:SSZ"` including the quotes.
    fn write(self, out: &mut Vec<u8>) {
        let (days, rem) = (self.secs.div_euclid(86_400), self.secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        // Go prints the year with at least four digits, sign first.
        out.push(b'"');
        if y < 0 {
            out.push(b'-');
        }
        let _ = write!(
            out,
            "{:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z\"",
            y.unsigned_abs(),
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        );
    }
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(m: i64, y: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Go's `time.Parse(time.RFC3339, s)`.
fn parse_time(s: &str) -> Option<GoTime> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>, min: i64, max: i64| -> Option<i64> {
        let digits = b.get(r)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let x = digits.iter().fold(0, |x, &c| x * 10 + i64::from(c - b'0'));
        (min..=max).contains(&x).then_some(x)
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = num(0..4, 0, 9999)?;
    let month = num(5..7, 1, 12)?;
    let day = num(8..10, 1, days_in_month(month, year))?;
    let hour = num(11..13, 0, 23)?;
    let min = num(14..16, 0, 59)?;
    let sec = num(17..19, 0, 59)?;
    let mut rest = &b[19..];
    let mut nanos = 0u32;
    if rest.len() >= 2 && matches!(rest[0], b'.' | b',') && rest[1].is_ascii_digit() {
        let n = 1 + rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        // Go keeps the first nine digits (truncating).
        let frac = &rest[1..n];
        for i in 0..9 {
            nanos = nanos * 10 + frac.get(i).map_or(0, |&c| u32::from(c - b'0'));
        }
        rest = &rest[n..];
    }
    let offset = match rest {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let at = b.len() - 6;
            let off = (num(at + 1..at + 3, 0, 23)? * 60 + num(at + 4..at + 6, 0, 59)?) * 60;
            if *sign == b'-' { -off } else { off }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset;
    Some(GoTime { secs, nanos })
}

// ---------------------------------------------------------------------------
// metav1.Duration: Go's time.ParseDuration and time.Duration.String.

/// Go's `time.ParseDuration`, in nanoseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    const LIMIT: u64 = 1 << 63;
    let mut s = s.as_bytes();
    let mut neg = false;
    if let Some(&c @ (b'-' | b'+')) = s.first() {
        neg = c == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return None;
        }
        // Integer part, erroring on overflow.
        let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u64 = 0;
        for &c in &s[..digits] {
            if v > LIMIT / 10 {
                return None;
            }
            v = v * 10 + u64::from(c - b'0');
            if v > LIMIT {
                return None;
            }
        }
        s = &s[digits..];
        // Fraction, silently dropping digits past the precision.
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
            let mut overflow = false;
            for &c in &s[..n] {
                if overflow || f > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = f * 10 + u64::from(c - b'0');
                if y > LIMIT {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            post = n > 0;
            s = &s[n..];
        }
        if digits == 0 && !post {
            return None;
        }
        let i = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        let unit: u64 = match &s[..i] {
            b"ns" => 1,
            b"us" | b"\xC2\xB5s" | b"\xCE\xBCs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => return None,
        };
        s = &s[i..];
        if v > LIMIT / unit {
            return None;
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return None;
            }
        }
        d = d.checked_add(v).filter(|&d| d <= LIMIT)?;
    }
    if neg {
        Some((d as i64).wrapping_neg())
    } else {
        i64::try_from(d).ok()
    }
}

/// Go's `time.Duration.String`, e.g. `1h2m3.5s`, `1.5ms`, `0s`.
fn write_duration(out: &mut Vec<u8>, d: i64) {
    /// Writes `v % 10^prec` as a fraction without trailing zeros (and no
    /// dot when zero) before `buf[*w]`; returns `v / 10^prec`.
    fn frac(buf: &mut [u8], w: &mut usize, mut v: u64, prec: u32) -> u64 {
        let mut print = false;
        for _ in 0..prec {
            let digit = (v % 10) as u8;
            print = print || digit != 0;
            if print {
                *w -= 1;
                buf[*w] = digit + b'0';
            }
            v /= 10;
        }
        if print {
            *w -= 1;
            buf[*w] = b'.';
        }
        v
    }
    fn int(buf: &mut [u8], w: &mut usize, mut v: u64) {
        loop {
            *w -= 1;
            buf[*w] = (v % 10) as u8 + b'0';
            v /= 10;
            if v == 0 {
                break;
            }
        }
    }
    if d == 0 {
        out.extend_from_slice(b"0s");
        return;
    }
    // Built backwards like Go does; the longest is "-2562047h47m16.854775808s".
    let mut buf = [0u8; 32];
    let mut w = buf.len() - 1;
    buf[w] = b's';
    let mut u = d.unsigned_abs();
    if u < 1_000_000_000 {
        // Below a second: n, µ or m prefix and a fraction.
        let prec = if u < 1_000 {
            w -= 1;
            buf[w] = b'n';
            0
        } else if u < 1_000_000 {
            w -= 2;
            buf[w..w + 2].copy_from_slice("\u{B5}".as_bytes());
            3
        } else {
            w -= 1;
            buf[w] = b'm';
            6
        };
        u = frac(&mut buf, &mut w, u, prec);
        int(&mut buf, &mut w, u);
    } else {
        u = frac(&mut buf, &mut w, u, 9);
        int(&mut buf, &mut w, u % 60);
        u /= 60;
        if u > 0 {
            w -= 1;
            buf[w] = b'm';
            int(&mut buf, &mut w, u % 60);
            u /= 60;
            if u > 0 {
                w -= 1;
                buf[w] = b'h';
                int(&mut buf, &mut w, u);
            }
        }
    }
    if d < 0 {
        w -= 1;
        buf[w] = b'-';
    }
    out.extend_from_slice(&buf[w..]);
}

// ---------------------------------------------------------------------------
// resource.Quantity: ParseQuantity followed by MarshalJSON.

fn write_quantity(out: &mut Vec<u8>, v: Option<&Value>) {
    let text: Cow<'_, str> = match v {
        Some(Value::String(s)) => Cow::Borrowed(s.trim()),
        Some(Value::Number(n)) => Cow::Owned(n.to_string()),
        _ => Cow::Borrowed("0"),
    };
    match canonical_quantity(&text) {
        Some(q) => write_str(out, &q),
        None => write_str(out, &text),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum QFormat {
    DecimalSi,
    BinarySi,
    DecimalExponent,
}

/// Quantities longer than this are absurd; keep them verbatim rather than
/// spend quadratic time on them.
const MAX_QUANTITY_DIGITS: usize = 256;

/// The string Go's `Quantity.MarshalJSON` emits for input `s`, or `None`
/// when `ParseQuantity` would fail.
fn canonical_quantity(s: &str) -> Option<Cow<'_, str>> {
    if s.is_empty() {
        return None;
    }
    if s == "0" {
        return Some(Cow::Borrowed(s));
    }
    let (positive, num, denom, suffix) = split_quantity(s)?;
    let (exp, format) = quantity_suffix(suffix)?;
    let exp = i64::from(exp);
    if num.len() + denom.len() > MAX_QUANTITY_DIGITS {
        return None;
    }
    if is_cached_canonical(num, denom, exp, format) {
        return Some(Cow::Borrowed(s));
    }

    // value = n * 10^scale, rounded away from zero to nano precision.
    let mut n = Big::from_digits(num.bytes().chain(denom.bytes()));
    let mut scale = -(denom.len() as i64);
    match format {
        QFormat::BinarySi => {
            for _ in 0..exp / 10 {
                n.mul_add(1024, 0);
            }
        }
        _ => scale += exp,
    }
    if n.is_zero() {
        return Some(Cow::Borrowed("0"));
    }
    round_to_nano(&mut n, &mut scale);
    let sign = if positive { "" } else { "-" };
    if format == QFormat::BinarySi {
        if let Some(binary) = binary_si(&mut n, &mut scale) {
            return Some(Cow::Owned(format!("{sign}{binary}")));
        }
        // Not an integer of at least 1024: Go writes it as decimal SI.
        return Some(Cow::Owned(format!(
            "{sign}{}",
            decimal(n, scale, QFormat::DecimalSi)
        )));
    }
    Some(Cow::Owned(format!("{sign}{}", decimal(n, scale, format))))
}

/// A quantity suffix's exponent and the format Go keeps for it.
fn quantity_suffix(suffix: &str) -> Option<(i32, QFormat)> {
    Some(match suffix {
        "" => (0, QFormat::DecimalSi),
        "n" => (-9, QFormat::DecimalSi),
        "u" => (-6, QFormat::DecimalSi),
        "m" => (-3, QFormat::DecimalSi),
        "k" => (3, QFormat::DecimalSi),
        "M" => (6, QFormat::DecimalSi),
        "G" => (9, QFormat::DecimalSi),
        "T" => (12, QFormat::DecimalSi),
        "P" => (15, QFormat::DecimalSi),
        "E" => (18, QFormat::DecimalSi),
        "Ki" => (10, QFormat::BinarySi),
        "Mi" => (20, QFormat::BinarySi),
        "Gi" => (30, QFormat::BinarySi),
        "Ti" => (40, QFormat::BinarySi),
        "Pi" => (50, QFormat::BinarySi),
        "Ei" => (60, QFormat::BinarySi),
        _ if suffix.len() > 1 && suffix.starts_with(['e', 'E']) => {
            // Go truncates the parsed int64 to int32.
            (
                suffix[1..].parse::<i64>().ok()? as i32,
                QFormat::DecimalExponent,
            )
        }
        _ => return None,
    })
}

/// Go's int64 fast path keeps the input string when it already is in
/// canonical form (and then emits it verbatim, sign and all).
fn is_cached_canonical(num: &str, denom: &str, exp: i64, format: QFormat) -> bool {
    match format {
        QFormat::BinarySi => {
            let precision = 15 - num.len() as i64 - exp * 3 / 10 - 1;
            denom.is_empty()
                && precision >= 0
                && num
                    .parse::<i64>()
                    .is_ok_and(|v| v.checked_mul(1 << exp).is_some() && v & 7 != 0)
        }
        _ => {
            let scale = exp - denom.len() as i64;
            num.len() + denom.len() <= 18
                && scale >= -9
                && scale % 3 == 0
                && !num.starts_with('0')
                && ![num, denom].concat().ends_with("000")
        }
    }
}

/// Round `n * 10^scale` away from zero to nano precision (scale >= -9).
fn round_to_nano(n: &mut Big, scale: &mut i64) {
    if *scale >= -9 {
        return;
    }
    let drop = -9 - *scale;
    if drop > MAX_QUANTITY_DIGITS as i64 + 10 {
        *n = Big::from_u64(1);
    } else {
        let mut inexact = false;
        for _ in 0..drop {
            inexact |= n.div_rem(10) != 0;
        }
        if inexact {
            n.mul_add(1, 1);
        }
    }
    *scale = -9;
}

/// A binary-SI quantity as Go writes it when it is an integer of at least
/// 1024 (digits and a power-of-1024 suffix); otherwise `None`, with `n` and
/// `scale` capped as Go caps binary quantities (at i64::MAX).
fn binary_si(n: &mut Big, scale: &mut i64) -> Option<String> {
    // Here scale is in -9..=0.
    let unit = Big::from_u64(10u64.pow(scale.unsigned_abs() as u32));
    if *n > Big::from_u64(i64::MAX as u64).times(&unit) {
        *n = Big::from_u64(i64::MAX as u64);
        *scale = 0;
    }
    let mut int = n.clone();
    let exact = (0..-*scale).all(|_| int.div_rem(10) == 0);
    if !exact || int < Big::from_u64(1024) {
        return None;
    }
    let mut pow = 0;
    loop {
        let mut q = int.clone();
        if q.div_rem(1024) != 0 {
            break;
        }
        int = q;
        pow += 1;
    }
    let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
        .get(pow)
        .unwrap_or(&"");
    Some(format!("{int}{suffix}"))
}

/// `n * 10^scale` in decimal SI or exponent form: trailing zeros stripped,
/// then the exponent lowered to a multiple of three.
fn decimal(mut n: Big, mut scale: i64, format: QFormat) -> String {
    loop {
        let mut q = n.clone();
        if q.div_rem(10) != 0 {
            break;
        }
        n = q;
        scale += 1;
    }
    while scale % 3 != 0 {
        n.mul_add(10, 0);
        scale -= 1;
    }
    let suffix: Cow<'_, str> = match format {
        QFormat::DecimalExponent if scale == 0 => Cow::Borrowed(""),
        QFormat::DecimalExponent => Cow::Owned(format!("e{scale}")),
        _ => Cow::Borrowed(match scale {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            18 => "E",
            // Go has no suffix for other exponents and silently omits it.
            _ => "",
        }),
    };
    format!("{n}{suffix}")
}

/// Splits a quantity into sign, integer digits (leading zeros removed,
/// `"0"` if none), fraction digits and suffix, like Go's
/// `parseQuantityString`.
fn split_quantity(s: &str) -> Option<(bool, &str, &str, &str)> {
    let b = s.as_bytes();
    let digits_from = |i: usize| i + b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut pos = 0;
    let mut positive = true;
    match b.first() {
        Some(b'-') => {
            positive = false;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    pos += b[pos..].iter().take_while(|&&c| c == b'0').count();
    if pos == b.len() {
        return Some((positive, "0", "", ""));
    }
    let end = digits_from(pos);
    let num = if end == pos { "0" } else { &s[pos..end] };
    pos = end;
    let mut denom = "";
    if b.get(pos) == Some(&b'.') {
        let end = digits_from(pos + 1);
        denom = &s[pos + 1..end];
        pos = end;
    }
    let suffix_start = pos;
    pos += b[pos..]
        .iter()
        .take_while(|c| b"eEinumkKMGTP".contains(c))
        .count();
    if matches!(b.get(pos), Some(b'-' | b'+')) {
        pos += 1;
    }
    (digits_from(pos) == b.len()).then(|| (positive, num, denom, &s[suffix_start..]))
}

/// A small non-negative big integer (base 10^9 limbs, least significant
/// first, no trailing zero limbs) for quantity arithmetic.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    const BASE: u64 = 1_000_000_000;

    fn from_u64(mut v: u64) -> Big {
        let mut limbs = Vec::new();
        while v > 0 {
            limbs.push((v % Self::BASE) as u32);
            v /= Self::BASE;
        }
        Big(limbs)
    }

    fn from_digits(digits: impl Iterator<Item = u8>) -> Big {
        let mut n = Big(Vec::new());
        for d in digits {
            n.mul_add(10, u32::from(d - b'0'));
        }
        n
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// `self = self * m + a`.
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let x = u64::from(*limb) * u64::from(m) + carry;
            *limb = (x % Self::BASE) as u32;
            carry = x / Self::BASE;
        }
        while carry > 0 {
            self.0.push((carry % Self::BASE) as u32);
            carry /= Self::BASE;
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// `self /= d`, returning the remainder.
    fn div_rem(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let x = rem * Self::BASE + u64::from(*limb);
            *limb = (x / u64::from(d)) as u32;
            rem = x % u64::from(d);
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        rem as u32
    }

    fn times(&self, other: &Big) -> Big {
        let mut limbs = vec![0u64; self.0.len() + other.0.len() + 1];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &b) in other.0.iter().enumerate() {
                let x = limbs[i + j] + u64::from(a) * u64::from(b) + carry;
                limbs[i + j] = x % Self::BASE;
                carry = x / Self::BASE;
            }
            limbs[i + other.0.len()] += carry;
        }
        let mut n = Big(limbs.into_iter().map(|l| l as u32).collect());
        n.mul_add(1, 0);
        n
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Big) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Big {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.split_last() {
            None => f.write_str("0"),
            Some((top, rest)) => {
                write!(f, "{top}")?;
                rest.iter()
                    .rev()
                    .try_for_each(|limb| write!(f, "{limb:09}"))
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Schema tables: Go structs in field declaration order (embedded structs
// promoted in place). N: always emitted, E: omitempty, Z: omitzero.

tables! {
    V1_TASK_RUN = [
        ("kind", STR, E),
        ("apiVersion", STR, E),
        ("metadata", Ty::Struct(&META_OBJECT_META), E),
        ("spec", Ty::Struct(&V1_TASK_RUN_SPEC), E),
        ("status", Ty::Struct(&V1_TASK_RUN_STATUS), E),
    ];
    META_OBJECT_META = [
        ("name", STR, E),
        ("generateName", STR, E),
        ("namespace", STR, E),
        ("selfLink", STR, E),
        ("uid", STR, E),
        ("resourceVersion", STR, E),
        ("generation", I64, E),
        ("creationTimestamp", TIME, Z),
        ("deletionTimestamp", Ty::Ptr(&TIME), E),
        ("deletionGracePeriodSeconds", Ty::Ptr(&I64), E),
        ("labels", Ty::Map(&STR), E),
        ("annotations", Ty::Map(&STR), E),
        ("ownerReferences", Ty::Slice(&T_META_OWNER_REFERENCE), E),
        ("finalizers", Ty::Slice(&STR), E),
        ("managedFields", Ty::Slice(&T_META_MANAGED_FIELDS_ENTRY), E),
    ];
    META_OWNER_REFERENCE = [
        ("apiVersion", STR, N),
        ("kind", STR, N),
        ("name", STR, N),
        ("uid", STR, N),
        ("controller", Ty::Ptr(&BOOL), E),
        ("blockOwnerDeletion", Ty::Ptr(&BOOL), E),
    ];
    META_MANAGED_FIELDS_ENTRY = [
        ("manager", STR, E),
        ("operation", STR, E),
        ("apiVersion", STR, E),
        ("time", Ty::Ptr(&TIME), E),
        ("fieldsType", STR, E),
        ("fieldsV1", Ty::Ptr(&RAW), E),
        ("subresource", STR, E),
    ];
    V1_TASK_RUN_SPEC = [
        ("debug", Ty::Ptr(&T_V1_TASK_RUN_DEBUG), E),
        ("params", Ty::Slice(&T_V1_PARAM), E),
        ("serviceAccountName", STR, N),
        ("taskRef", Ty::Ptr(&T_V1_TASK_REF), E),
        ("taskSpec", Ty::Ptr(&T_V1_TASK_SPEC), E),
        ("status", STR, E),
        ("statusMessage", STR, E),
        ("retries", I64, E),
        ("timeout", Ty::Ptr(&DURATION), E),
        ("podTemplate", Ty::Ptr(&T_POD_TEMPLATE), E),
        ("workspaces", Ty::Slice(&T_V1_WORKSPACE_BINDING), E),
        ("stepSpecs", Ty::Slice(&T_V1_TASK_RUN_STEP_SPEC), E),
        ("sidecarSpecs", Ty::Slice(&T_V1_TASK_RUN_SIDECAR_SPEC), E),
        ("computeResources", Ty::Ptr(&T_CORE_RESOURCE_REQUIREMENTS), E),
        ("managedBy", Ty::Ptr(&STR), E),
    ];
    V1_TASK_RUN_DEBUG = [
        ("breakpoints", Ty::Ptr(&T_V1_TASK_BREAKPOINTS), E),
    ];
    V1_TASK_BREAKPOINTS = [
        ("onFailure", STR, E),
        ("beforeSteps", Ty::Slice(&STR), E),
    ];
    V1_PARAM = [
        ("name", STR, N),
        ("value", PARAM, N),
    ];
    V1_TASK_REF = [
        ("name", STR, E),
        ("kind", STR, E),
        ("apiVersion", STR, E),
        ("resolver", STR, E),
        ("params", Ty::Slice(&T_V1_PARAM), E),
    ];
    V1_TASK_SPEC = [
        ("params", Ty::Slice(&T_V1_PARAM_SPEC), E),
        ("displayName", STR, E),
        ("description", STR, E),
        ("steps", Ty::Slice(&T_V1_STEP), E),
        ("volumes", Ty::Slice(&T_CORE_VOLUME), E),
        ("stepTemplate", Ty::Ptr(&T_V1_STEP_TEMPLATE), E),
        ("sidecars", Ty::Slice(&T_V1_SIDECAR), E),
        ("workspaces", Ty::Slice(&T_V1_WORKSPACE_DECLARATION), E),
        ("results", Ty::Slice(&T_V1_TASK_RESULT), E),
    ];
    V1_PARAM_SPEC = [
        ("name", STR, N),
        ("type", STR, E),
        ("description", STR, E),
        ("properties", Ty::Map(&T_V1_PROPERTY_SPEC), E),
        ("default", Ty::Ptr(&PARAM), E),
        ("enum", Ty::Slice(&STR), E),
    ];
    V1_PROPERTY_SPEC = [
        ("type", STR, E),
    ];
    V1_STEP = [
        ("name", STR, N),
        ("displayName", STR, E),
        ("image", STR, E),
        ("command", Ty::Slice(&STR), E),
        ("args", Ty::Slice(&STR), E),
        ("workingDir", STR, E),
        ("envFrom", Ty::Slice(&T_CORE_ENV_FROM_SOURCE), E),
        ("env", Ty::Slice(&T_CORE_ENV_VAR), E),
        ("computeResources", Ty::Struct(&CORE_RESOURCE_REQUIREMENTS), E),
        ("volumeMounts", Ty::Slice(&T_CORE_VOLUME_MOUNT), E),
        ("volumeDevices", Ty::Slice(&T_CORE_VOLUME_DEVICE), E),
        ("imagePullPolicy", STR, E),
        ("securityContext", Ty::Ptr(&T_CORE_SECURITY_CONTEXT), E),
        ("script", STR, E),
        ("timeout", Ty::Ptr(&DURATION), E),
        ("workspaces", Ty::Slice(&T_V1_WORKSPACE_USAGE), E),
        ("onError", STR, E),
        ("stdoutConfig", Ty::Ptr(&T_V1_STEP_OUTPUT_CONFIG), E),
        ("stderrConfig", Ty::Ptr(&T_V1_STEP_OUTPUT_CONFIG), E),
        ("ref", Ty::Ptr(&T_V1_REF), E),
        ("params", Ty::Slice(&T_V1_PARAM), E),
        ("results", Ty::Slice(&T_V1_STEP_RESULT), E),
        ("when", Ty::Slice(&T_V1_WHEN_EXPRESSION), E),
    ];
    CORE_ENV_FROM_SOURCE = [
        ("prefix", STR, E),
        ("configMapRef", Ty::Ptr(&T_CORE_CONFIG_MAP_ENV_SOURCE), E),
        ("secretRef", Ty::Ptr(&T_CORE_SECRET_ENV_SOURCE), E),
    ];
    CORE_CONFIG_MAP_ENV_SOURCE = [
        ("name", STR, E),
        ("optional", Ty::Ptr(&BOOL), E),
    ];
    CORE_SECRET_ENV_SOURCE = [
        ("name", STR, E),
        ("optional", Ty::Ptr(&BOOL), E),
    ];
    CORE_ENV_VAR = [
        ("name", STR, N),
        ("value", STR, E),
        ("valueFrom", Ty::Ptr(&T_CORE_ENV_VAR_SOURCE), E),
    ];
    CORE_ENV_VAR_SOURCE = [
        ("fieldRef", Ty::Ptr(&T_CORE_OBJECT_FIELD_SELECTOR), E),
        ("resourceFieldRef", Ty::Ptr(&T_CORE_RESOURCE_FIELD_SELECTOR), E),
        ("configMapKeyRef", Ty::Ptr(&T_CORE_CONFIG_MAP_KEY_SELECTOR), E),
        ("secretKeyRef", Ty::Ptr(&T_CORE_SECRET_KEY_SELECTOR), E),
        ("fileKeyRef", Ty::Ptr(&T_CORE_FILE_KEY_SELECTOR), E),
    ];
    CORE_OBJECT_FIELD_SELECTOR = [
        ("apiVersion", STR, E),
        ("fieldPath", STR, N),
    ];
    CORE_RESOURCE_FIELD_SELECTOR = [
        ("containerName", STR, E),
        ("resource", STR, N),
        ("divisor", QUANTITY, E),
    ];
    CORE_CONFIG_MAP_KEY_SELECTOR = [
        ("name", STR, E),
        ("key", STR, N),
        ("optional", Ty::Ptr(&BOOL), E),
    ];
    CORE_SECRET_KEY_SELECTOR = [
        ("name", STR, E),
        ("key", STR, N),
        ("optional", Ty::Ptr(&BOOL), E),
    ];
    CORE_FILE_KEY_SELECTOR = [
        ("volumeName", STR, N),
        ("path", STR, N),
        ("key", STR, N),
        ("optional", Ty::Ptr(&BOOL), E),
    ];
    CORE_RESOURCE_REQUIREMENTS = [
        ("limits", Ty::Map(&QUANTITY), E),
        ("requests", Ty::Map(&QUANTITY), E),
        ("claims", Ty::Slice(&T_CORE_RESOURCE_CLAIM), E),
    ];
    CORE_RESOURCE_CLAIM = [
        ("name", STR, N),
        ("request", STR, E),
    ];
    CORE_VOLUME_MOUNT = [
        ("name", STR, N),
        ("readOnly", BOOL, E),
        ("recursiveReadOnly", Ty::Ptr(&STR), E),
        ("mountPath", STR, N),
        ("subPath", STR, E),
        ("mountPropagation", Ty::Ptr(&STR), E),
        ("subPathExpr", STR, E),
    ];
    CORE_VOLUME_DEVICE = [
        ("name", STR, N),
        ("devicePath", STR, N),
    ];
    CORE_SECURITY_CONTEXT = [
        ("capabilities", Ty::Ptr(&T_CORE_CAPABILITIES), E),
        ("privileged", Ty::Ptr(&BOOL), E),
        ("seLinuxOptions", Ty::Ptr(&T_CORE_SE_LINUX_OPTIONS), E),
        ("windowsOptions", Ty::Ptr(&T_CORE_WINDOWS_SECURITY_CONTEXT_OPTIONS), E),
        ("runAsUser", Ty::Ptr(&I64), E),
        ("runAsGroup", Ty::Ptr(&I64), E),
        ("runAsNonRoot", Ty::Ptr(&BOOL), E),
        ("readOnlyRootFilesystem", Ty::Ptr(&BOOL), E),
        ("allowPrivilegeEscalation", Ty::Ptr(&BOOL), E),
        ("procMount", Ty::Ptr(&STR), E),
        ("seccompProfile", Ty::Ptr(&T_CORE_SECCOMP_PROFILE), E),
        ("appArmorProfile", Ty::Ptr(&T_CORE_APP_ARMOR_PROFILE), E),
    ];
    CORE_CAPABILITIES = [
        ("add", Ty::Slice(&STR), E),
        ("drop", Ty::Slice(&STR), E),
    ];
    CORE_SE_LINUX_OPTIONS = [
        ("user", STR, E),
        ("role", STR, E),
        ("type", STR, E),
        ("level", STR, E),
    ];
    CORE_WINDOWS_SECURITY_CONTEXT_OPTIONS = [
        ("gmsaCredentialSpecName", Ty::Ptr(&STR), E),
        ("gmsaCredentialSpec", Ty::Ptr(&STR), E),
        ("runAsUserName", Ty::Ptr(&STR), E),
        ("hostProcess", Ty::Ptr(&BOOL), E),
    ];
    CORE_SECCOMP_PROFILE = [
        ("type", STR, N),
        ("localhostProfile", Ty::Ptr(&STR), E),
    ];
    CORE_APP_ARMOR_PROFILE = [
        ("type", STR, N),
        ("localhostProfile", Ty::Ptr(&STR), E),
    ];
    V1_WORKSPACE_USAGE = [
        ("name", STR, N),
        ("mountPath", STR, N),
    ];
    V1_STEP_OUTPUT_CONFIG = [
        ("path", STR, E),
    ];
    V1_REF = [
        ("name", STR, E),
        ("resolver", STR, E),
        ("params", Ty::Slice(&T_V1_PARAM), E),
    ];
    V1_STEP_RESULT = [
        ("name", STR, N),
        ("type", STR, E),
        ("properties", Ty::Map(&T_V1_PROPERTY_SPEC), E),
        ("description", STR, E),
    ];
    V1_WHEN_EXPRESSION = [
        ("input", STR, E),
        ("operator", STR, E),
        ("values", Ty::Slice(&STR), E),
        ("cel", STR, E),
    ];
    CORE_VOLUME = [
        ("name", STR, N),
        ("hostPath", Ty::Ptr(&T_CORE_HOST_PATH_VOLUME_SOURCE), E),
        ("emptyDir", Ty::Ptr(&T_CORE_EMPTY_DIR_VOLUME_SOURCE), E),
        ("gcePersistentDisk", Ty::Ptr(&T_CORE_GCE_PERSISTENT_DISK_VOLUME_SOURCE), E),
        ("awsElasticBlockStore", Ty::Ptr(&T_CORE_AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE), E),
        ("gitRepo", Ty::Ptr(&T_CORE_GIT_REPO_VOLUME_SOURCE), E),
        ("secret", Ty::Ptr(&T_CORE_SECRET_VOLUME_SOURCE), E),
        ("nfs", Ty::Ptr(&T_CORE_NFS_VOLUME_SOURCE), E),
        ("iscsi", Ty::Ptr(&T_CORE_ISCSI_VOLUME_SOURCE), E),
        ("glusterfs", Ty::Ptr(&T_CORE_GLUSTERFS_VOLUME_SOURCE), E),
        ("persistentVolumeClaim", Ty::Ptr(&T_CORE_PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE), E),
        ("rbd", Ty::Ptr(&T_CORE_RBD_VOLUME_SOURCE), E),
        ("flexVolume", Ty::Ptr(&T_CORE_FLEX_VOLUME_SOURCE), E),
        ("cinder", Ty::Ptr(&T_CORE_CINDER_VOLUME_SOURCE), E),
        ("cephfs", Ty::Ptr(&T_CORE_CEPH_FS_VOLUME_SOURCE), E),
        ("flocker", Ty::Ptr(&T_CORE_FLOCKER_VOLUME_SOURCE), E),
        ("downwardAPI", Ty::Ptr(&T_CORE_DOWNWARD_API_VOLUME_SOURCE), E),
        ("fc", Ty::Ptr(&T_CORE_FC_VOLUME_SOURCE), E),
        ("azureFile", Ty::Ptr(&T_CORE_AZURE_FILE_VOLUME_SOURCE), E),
        ("configMap", Ty::Ptr(&T_CORE_CONFIG_MAP_VOLUME_SOURCE), E),
        ("vsphereVolume", Ty::Ptr(&T_CORE_VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE), E),
        ("quobyte", Ty::Ptr(&T_CORE_QUOBYTE_VOLUME_SOURCE), E),
        ("azureDisk", Ty::Ptr(&T_CORE_AZURE_DISK_VOLUME_SOURCE), E),
        ("photonPersistentDisk", Ty::Ptr(&T_CORE_PHOTON_PERSISTENT_DISK_VOLUME_SOURCE), E),
        ("projected", Ty::Ptr(&T_CORE_PROJECTED_VOLUME_SOURCE), E),
        ("portworxVolume", Ty::Ptr(&T_CORE_PORTWORX_VOLUME_SOURCE), E),
        ("scaleIO", Ty::Ptr(&T_CORE_SCALE_IO_VOLUME_SOURCE), E),
        ("storageos", Ty::Ptr(&T_CORE_STORAGE_OS_VOLUME_SOURCE), E),
        ("csi", Ty::Ptr(&T_CORE_CSI_VOLUME_SOURCE), E),
        ("ephemeral", Ty::Ptr(&T_CORE_EPHEMERAL_VOLUME_SOURCE), E),
        ("image", Ty::Ptr(&T_CORE_IMAGE_VOLUME_SOURCE), E),
    ];
    CORE_HOST_PATH_VOLUME_SOURCE = [
        ("path", STR, N),
        ("type", Ty::Ptr(&STR), E),
    ];
    CORE_EMPTY_DIR_VOLUME_SOURCE = [
        ("medium", STR, E),
        ("sizeLimit", Ty::Ptr(&QUANTITY), E),
    ];
    CORE_GCE_PERSISTENT_DISK_VOLUME_SOURCE = [
        ("pdName", STR, N),
        ("fsType", STR, E),
        ("partition", I32, E),
        ("readOnly", BOOL, E),
    ];
    CORE_AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE = [
        ("volumeID", STR, N),
        ("fsType", STR, E),
        ("partition", I32, E),
        ("readOnly", BOOL, E),
    ];
    CORE_GIT_REPO_VOLUME_SOURCE = [
        ("repository", STR, N),
        ("revision", STR, E),
        ("directory", STR, E),
    ];
    CORE_SECRET_VOLUME_SOURCE = [
        ("secretName", STR, E),
        ("items", Ty::Slice(&T_CORE_KEY_TO_PATH), E),
        ("defaultMode", Ty::Ptr(&I32), E),
        ("optional", Ty::Ptr(&BOOL), E),
    ];
    CORE_KEY_TO_PATH = [
        ("key", STR, N),
        ("path", STR, N),
        ("mode", Ty::Ptr(&I32), E),
    ];
    CORE_NFS_VOLUME_SOURCE = [
        ("server", STR, N),
        ("path", STR, N),
        ("readOnly", BOOL, E),
    ];
    CORE_ISCSI_VOLUME_SOURCE = [
        ("targetPortal", STR, N),
        ("iqn", STR, N),
        ("lun", I32, N),
        ("iscsiInterface", STR, E),
        ("fsType", STR, E),
        ("readOnly", BOOL, E),
        ("portals", Ty::Slice(&STR), E),
        ("chapAuthDiscovery", BOOL, E),
        ("chapAuthSession", BOOL, E),
        ("secretRef", Ty::Ptr(&T_CORE_LOCAL_OBJECT_REFERENCE), E),
        ("initiatorName", Ty::Ptr(&STR), E),
    ];
    CORE_LOCAL_OBJECT_REFERENCE = [
        ("name", STR, E),
    ];
    CORE_GLUSTERFS_VOLUME_SOURCE = [
        ("endpoints", STR, N),
        ("path", STR, N),
        ("readOnly", BOOL, E),
    ];
    CORE_PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE = [
        ("claimName", STR, N),
        ("readOnly", BOOL, E),
    ];
    CORE_RBD_VOLUME_SOURCE = [
        ("monitors", Ty::Slice(&STR), N),
        ("image", STR, N),
        ("fsType", STR, E),
        ("pool", STR, E),
        ("user", STR, E),
        ("keyring", STR, E),
        ("secretRef", Ty::Ptr(&T_CORE_LOCAL_OBJECT_REFERENCE), E),
        ("readOnly", BOOL, E),
    ];
    CORE_FLEX_VOLUME_SOURCE = [
        ("driver", STR, N),
        ("fsType", STR, E),
        ("secretRef", Ty::Ptr(&T_CORE_LOCAL_OBJECT_REFERENCE), E),
        ("readOnly", BOOL, E),
        ("options", Ty::Map(&STR), E),
    ];
    CORE_CINDER_VOLUME_SOURCE = [
        ("volumeID", STR, N),
        ("fsType", STR, E),
        ("readOnly", BOOL, E),
        ("secretRef", Ty::Ptr(&T_CORE_LOCAL_OBJECT_REFERENCE), E),
    ];
    CORE_CEPH_FS_VOLUME_SOURCE = [
        ("monitors", Ty::Slice(&STR), N),
        ("path", STR, E),
        ("user", STR, E),
        ("secretFile", STR, E),
        ("secretRef", Ty::Ptr(&T_CORE_LOCAL_OBJECT_REFERENCE), E),
        ("readOnly", BOOL, E),
    ];
    CORE_FLOCKER_VOLUME_SOURCE = [
        ("datasetName", STR, E),
        ("datasetUUID", STR, E),
    ];
    CORE_DOWNWARD_API_VOLUME_SOURCE = [
        ("items", Ty::Slice(&T_CORE_DOWNWARD_API_VOLUME_FILE), E),
        ("defaultMode", Ty::Ptr(&I32), E),
    ];
    CORE_DOWNWARD_API_VOLUME_FILE = [
        ("path", STR, N),
        ("fieldRef", Ty::Ptr(&T_CORE_OBJECT_FIELD_SELECTOR), E),
        ("resourceFieldRef", Ty::Ptr(&T_CORE_RESOURCE_FIELD_SELECTOR), E),
        ("mode", Ty::Ptr(&I32), E),
    ];
    CORE_FC_VOLUME_SOURCE = [
        ("targetWWNs", Ty::Slice(&STR), E),
        ("lun", Ty::Ptr(&I32), E),
        ("fsType", STR, E),
        ("readOnly", BOOL, E),
        ("wwids", Ty::Slice(&STR), E),
    ];
    CORE_AZURE_FILE_VOLUME_SOURCE = [
        ("secretName", STR, N),
        ("shareName", STR, N),
        ("readOnly", BOOL, E),
    ];
    CORE_CONFIG_MAP_VOLUME_SOURCE = [
        ("name", STR, E),
        ("items", Ty::Slice(&T_CORE_KEY_TO_PATH), E),
        ("defaultMode", Ty::Ptr(&I32), E),
        ("optional", Ty::Ptr(&BOOL), E),
    ];
    CORE_VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE = [
        ("volumePath", STR, N),
        ("fsType", STR, E),
        ("storagePolicyName", STR, E),
        ("storagePolicyID", STR, E),
    ];
    CORE_QUOBYTE_VOLUME_SOURCE = [
        ("registry", STR, N),
        ("volume", STR, N),
        ("readOnly", BOOL, E),
        ("user", STR, E),
        ("group", STR, E),
        ("tenant", STR, E),
    ];
    CORE_AZURE_DISK_VOLUME_SOURCE = [
        ("diskName", STR, N),
        ("diskURI", STR, N),
        ("cachingMode", Ty::Ptr(&STR), E),
        ("fsType", Ty::Ptr(&STR), E),
        ("readOnly", Ty::Ptr(&BOOL), E),
        ("kind", Ty::Ptr(&STR), E),
    ];
    CORE_PHOTON_PERSISTENT_DISK_VOLUME_SOURCE = [
        ("pdID", STR, N),
        ("fsType", STR, E),
    ];
    CORE_PROJECTED_VOLUME_SOURCE = [
        ("sources", Ty::Slice(&T_CORE_VOLUME_PROJECTION), N),
        ("defaultMode", Ty::Ptr(&I32), E),
    ];
    CORE_VOLUME_PROJECTION = [
        ("secret", Ty::Ptr(&T_CORE_SECRET_PROJECTION), E),
        ("downwardAPI", Ty::Ptr(&T_CORE_DOWNWARD_API_PROJECTION), E),
        ("configMap", Ty::Ptr(&T_CORE_CONFIG_MAP_PROJECTION), E),
        ("serviceAccountToken", Ty::Ptr(&T_CORE_SERVICE_ACCOUNT_TOKEN_PROJECTION), E),
        ("clusterTrustBundle", Ty::Ptr(&T_CORE_CLUSTER_TRUST_BUNDLE_PROJECTION), E),
        ("podCertificate", Ty::Ptr(&T_CORE_POD_CERTIFICATE_PROJECTION), E),
    ];
    CORE_SECRET_PROJECTION = [
        ("name", STR, E),
        ("items", Ty::Slice(&T_CORE_KEY_TO_PATH), E),
        ("optional", Ty::Ptr(&BOOL), E),
    ];
    CORE_DOWNWARD_API_PROJECTION = [
        ("items", Ty::Slice(&T_CORE_DOWNWARD_API_VOLUME_FILE), E),
    ];
    CORE_CONFIG_MAP_PROJECTION = [
        ("name", STR, E),
        ("items", Ty::Slice(&T_CORE_KEY_TO_PATH), E),
        ("optional", Ty::Ptr(&BOOL), E),
    ];
    CORE_SERVICE_ACCOUNT_TOKEN_PROJECTION = [
        ("audience", STR, E),
        ("expirationSeconds", Ty::Ptr(&I64), E),
        ("path", STR, N),
    ];
    CORE_CLUSTER_TRUST_BUNDLE_PROJECTION = [
        ("name", Ty::Ptr(&STR), E),
        ("signerName", Ty::Ptr(&STR), E),
        ("labelSelector", Ty::Ptr(&T_META_LABEL_SELECTOR), E),
        ("optional", Ty::Ptr(&BOOL), E),
        ("path", STR, N),
    ];
    META_LABEL_SELECTOR = [
        ("matchLabels", Ty::Map(&STR), E),
        ("matchExpressions", Ty::Slice(&T_META_LABEL_SELECTOR_REQUIREMENT), E),
    ];
    META_LABEL_SELECTOR_REQUIREMENT = [
        ("key", STR, N),
        ("operator", STR, N),
        ("values", Ty::Slice(&STR), E),
    ];
    CORE_POD_CERTIFICATE_PROJECTION = [
        ("signerName", STR, E),
        ("keyType", STR, E),
        ("maxExpirationSeconds", Ty::Ptr(&I32), E),
        ("credentialBundlePath", STR, E),
        ("keyPath", STR, E),
        ("certificateChainPath", STR, E),
        ("userAnnotations", Ty::Map(&STR), E),
    ];
    CORE_PORTWORX_VOLUME_SOURCE = [
        ("volumeID", STR, N),
        ("fsType", STR, E),
        ("readOnly", BOOL, E),
    ];
    CORE_SCALE_IO_VOLUME_SOURCE = [
        ("gateway", STR, N),
        ("system", STR, N),
        ("secretRef", Ty::Ptr(&T_CORE_LOCAL_OBJECT_REFERENCE), N),
        ("sslEnabled", BOOL, E),
        ("protectionDomain", STR, E),
        ("storagePool", STR, E),
        ("storageMode", STR, E),
        ("volumeName", STR, E),
        ("fsType", STR, E),
        ("readOnly", BOOL, E),
    ];
    CORE_STORAGE_OS_VOLUME_SOURCE = [
        ("volumeName", STR, E),
        ("volumeNamespace", STR, E),
        ("fsType", STR, E),
        ("readOnly", BOOL, E),
        ("secretRef", Ty::Ptr(&T_CORE_LOCAL_OBJECT_REFERENCE), E),
    ];
    CORE_CSI_VOLUME_SOURCE = [
        ("driver", STR, N),
        ("readOnly", Ty::Ptr(&BOOL), E),
        ("fsType", Ty::Ptr(&STR), E),
        ("volumeAttributes", Ty::Map(&STR), E),
        ("nodePublishSecretRef", Ty::Ptr(&T_CORE_LOCAL_OBJECT_REFERENCE), E),
    ];
    CORE_EPHEMERAL_VOLUME_SOURCE = [
        ("volumeClaimTemplate", Ty::Ptr(&T_CORE_PERSISTENT_VOLUME_CLAIM_TEMPLATE), E),
    ];
    CORE_PERSISTENT_VOLUME_CLAIM_TEMPLATE = [
        ("metadata", Ty::Struct(&META_OBJECT_META), E),
        ("spec", Ty::Struct(&CORE_PERSISTENT_VOLUME_CLAIM_SPEC), N),
    ];
    CORE_PERSISTENT_VOLUME_CLAIM_SPEC = [
        ("accessModes", Ty::Slice(&STR), E),
        ("selector", Ty::Ptr(&T_META_LABEL_SELECTOR), E),
        ("resources", Ty::Struct(&CORE_VOLUME_RESOURCE_REQUIREMENTS), E),
        ("volumeName", STR, E),
        ("storageClassName", Ty::Ptr(&STR), E),
        ("volumeMode", Ty::Ptr(&STR), E),
        ("dataSource", Ty::Ptr(&T_CORE_TYPED_LOCAL_OBJECT_REFERENCE), E),
        ("dataSourceRef", Ty::Ptr(&T_CORE_TYPED_OBJECT_REFERENCE), E),
        ("volumeAttributesClassName", Ty::Ptr(&STR), E),
    ];
    CORE_VOLUME_RESOURCE_REQUIREMENTS = [
        ("limits", Ty::Map(&QUANTITY), E),
        ("requests", Ty::Map(&QUANTITY), E),
    ];
    CORE_TYPED_LOCAL_OBJECT_REFERENCE = [
        ("apiGroup", Ty::Ptr(&STR), N),
        ("kind", STR, N),
        ("name", STR, N),
    ];
    CORE_TYPED_OBJECT_REFERENCE = [
        ("apiGroup", Ty::Ptr(&STR), N),
        ("kind", STR, N),
        ("name", STR, N),
        ("namespace", Ty::Ptr(&STR), E),
    ];
    CORE_IMAGE_VOLUME_SOURCE = [
        ("reference", STR, E),
        ("pullPolicy", STR, E),
    ];
    V1_STEP_TEMPLATE = [
        ("image", STR, E),
        ("command", Ty::Slice(&STR), E),
        ("args", Ty::Slice(&STR), E),
        ("workingDir", STR, E),
        ("envFrom", Ty::Slice(&T_CORE_ENV_FROM_SOURCE), E),
        ("env", Ty::Slice(&T_CORE_ENV_VAR), E),
        ("computeResources", Ty::Struct(&CORE_RESOURCE_REQUIREMENTS), E),
        ("volumeMounts", Ty::Slice(&T_CORE_VOLUME_MOUNT), E),
        ("volumeDevices", Ty::Slice(&T_CORE_VOLUME_DEVICE), E),
        ("imagePullPolicy", STR, E),
        ("securityContext", Ty::Ptr(&T_CORE_SECURITY_CONTEXT), E),
    ];
    V1_SIDECAR = [
        ("name", STR, N),
        ("image", STR, E),
        ("command", Ty::Slice(&STR), E),
        ("args", Ty::Slice(&STR), E),
        ("workingDir", STR, E),
        ("ports", Ty::Slice(&T_CORE_CONTAINER_PORT), E),
        ("envFrom", Ty::Slice(&T_CORE_ENV_FROM_SOURCE), E),
        ("env", Ty::Slice(&T_CORE_ENV_VAR), E),
        ("computeResources", Ty::Struct(&CORE_RESOURCE_REQUIREMENTS), E),
        ("volumeMounts", Ty::Slice(&T_CORE_VOLUME_MOUNT), E),
        ("volumeDevices", Ty::Slice(&T_CORE_VOLUME_DEVICE), E),
        ("livenessProbe", Ty::Ptr(&T_CORE_PROBE), E),
        ("readinessProbe", Ty::Ptr(&T_CORE_PROBE), E),
        ("startupProbe", Ty::Ptr(&T_CORE_PROBE), E),
        ("lifecycle", Ty::Ptr(&T_CORE_LIFECYCLE), E),
        ("terminationMessagePath", STR, E),
        ("terminationMessagePolicy", STR, E),
        ("imagePullPolicy", STR, E),
        ("securityContext", Ty::Ptr(&T_CORE_SECURITY_CONTEXT), E),
        ("stdin", BOOL, E),
        ("stdinOnce", BOOL, E),
        ("tty", BOOL, E),
        ("script", STR, E),
        ("workspaces", Ty::Slice(&T_V1_WORKSPACE_USAGE), E),
        ("restartPolicy", Ty::Ptr(&STR), E),
    ];
    CORE_CONTAINER_PORT = [
        ("name", STR, E),
        ("hostPort", I32, E),
        ("containerPort", I32, N),
        ("protocol", STR, E),
        ("hostIP", STR, E),
    ];
    CORE_PROBE = [
        ("exec", Ty::Ptr(&T_CORE_EXEC_ACTION), E),
        ("httpGet", Ty::Ptr(&T_CORE_HTTP_GET_ACTION), E),
        ("tcpSocket", Ty::Ptr(&T_CORE_TCP_SOCKET_ACTION), E),
        ("grpc", Ty::Ptr(&T_CORE_GRPC_ACTION), E),
        ("initialDelaySeconds", I32, E),
        ("timeoutSeconds", I32, E),
        ("periodSeconds", I32, E),
        ("successThreshold", I32, E),
        ("failureThreshold", I32, E),
        ("terminationGracePeriodSeconds", Ty::Ptr(&I64), E),
    ];
    CORE_EXEC_ACTION = [
        ("command", Ty::Slice(&STR), E),
    ];
    CORE_HTTP_GET_ACTION = [
        ("path", STR, E),
        ("port", INT_OR_STR, N),
        ("host", STR, E),
        ("scheme", STR, E),
        ("httpHeaders", Ty::Slice(&T_CORE_HTTP_HEADER), E),
    ];
    CORE_HTTP_HEADER = [
        ("name", STR, N),
        ("value", STR, N),
    ];
    CORE_TCP_SOCKET_ACTION = [
        ("port", INT_OR_STR, N),
        ("host", STR, E),
    ];
    CORE_GRPC_ACTION = [
        ("port", I32, N),
        ("service", Ty::Ptr(&STR), N),
    ];
    CORE_LIFECYCLE = [
        ("postStart", Ty::Ptr(&T_CORE_LIFECYCLE_HANDLER), E),
        ("preStop", Ty::Ptr(&T_CORE_LIFECYCLE_HANDLER), E),
        ("stopSignal", Ty::Ptr(&STR), E),
    ];
    CORE_LIFECYCLE_HANDLER = [
        ("exec", Ty::Ptr(&T_CORE_EXEC_ACTION), E),
        ("httpGet", Ty::Ptr(&T_CORE_HTTP_GET_ACTION), E),
        ("tcpSocket", Ty::Ptr(&T_CORE_TCP_SOCKET_ACTION), E),
        ("sleep", Ty::Ptr(&T_CORE_SLEEP_ACTION), E),
    ];
    CORE_SLEEP_ACTION = [
        ("seconds", I64, N),
    ];
    V1_WORKSPACE_DECLARATION = [
        ("name", STR, N),
        ("description", STR, E),
        ("mountPath", STR, E),
        ("readOnly", BOOL, E),
        ("optional", BOOL, E),
    ];
    V1_TASK_RESULT = [
        ("name", STR, N),
        ("type", STR, E),
        ("properties", Ty::Map(&T_V1_PROPERTY_SPEC), E),
        ("description", STR, E),
        ("value", Ty::Ptr(&PARAM), E),
    ];
    POD_TEMPLATE = [
        ("nodeSelector", Ty::Map(&STR), E),
        ("env", Ty::Slice(&T_CORE_ENV_VAR), E),
        ("tolerations", Ty::Slice(&T_CORE_TOLERATION), E),
        ("affinity", Ty::Ptr(&T_CORE_AFFINITY), E),
        ("securityContext", Ty::Ptr(&T_CORE_POD_SECURITY_CONTEXT), E),
        ("volumes", Ty::Slice(&T_CORE_VOLUME), E),
        ("runtimeClassName", Ty::Ptr(&STR), E),
        ("automountServiceAccountToken", Ty::Ptr(&BOOL), E),
        ("dnsPolicy", Ty::Ptr(&STR), E),
        ("dnsConfig", Ty::Ptr(&T_CORE_POD_DNS_CONFIG), E),
        ("enableServiceLinks", Ty::Ptr(&BOOL), E),
        ("priorityClassName", Ty::Ptr(&STR), E),
        ("schedulerName", STR, E),
        ("imagePullSecrets", Ty::Slice(&T_CORE_LOCAL_OBJECT_REFERENCE), E),
        ("hostAliases", Ty::Slice(&T_CORE_HOST_ALIAS), E),
        ("hostNetwork", BOOL, E),
        ("hostUsers", Ty::Ptr(&BOOL), E),
        ("topologySpreadConstraints", Ty::Slice(&T_CORE_TOPOLOGY_SPREAD_CONSTRAINT), E),
    ];
    CORE_TOLERATION = [
        ("key", STR, E),
        ("operator", STR, E),
        ("value", STR, E),
        ("effect", STR, E),
        ("tolerationSeconds", Ty::Ptr(&I64), E),
    ];
    CORE_AFFINITY = [
        ("nodeAffinity", Ty::Ptr(&T_CORE_NODE_AFFINITY), E),
        ("podAffinity", Ty::Ptr(&T_CORE_POD_AFFINITY), E),
        ("podAntiAffinity", Ty::Ptr(&T_CORE_POD_ANTI_AFFINITY), E),
    ];
    CORE_NODE_AFFINITY = [
        ("requiredDuringSchedulingIgnoredDuringExecution", Ty::Ptr(&T_CORE_NODE_SELECTOR), E),
        ("preferredDuringSchedulingIgnoredDuringExecution", Ty::Slice(&T_CORE_PREFERRED_SCHEDULING_TERM), E),
    ];
    CORE_NODE_SELECTOR = [
        ("nodeSelectorTerms", Ty::Slice(&T_CORE_NODE_SELECTOR_TERM), N),
    ];
    CORE_NODE_SELECTOR_TERM = [
        ("matchExpressions", Ty::Slice(&T_CORE_NODE_SELECTOR_REQUIREMENT), E),
        ("matchFields", Ty::Slice(&T_CORE_NODE_SELECTOR_REQUIREMENT), E),
    ];
    CORE_NODE_SELECTOR_REQUIREMENT = [
        ("key", STR, N),
        ("operator", STR, N),
        ("values", Ty::Slice(&STR), E),
    ];
    CORE_PREFERRED_SCHEDULING_TERM = [
        ("weight", I32, N),
        ("preference", Ty::Struct(&CORE_NODE_SELECTOR_TERM), N),
    ];
    CORE_POD_AFFINITY = [
        ("requiredDuringSchedulingIgnoredDuringExecution", Ty::Slice(&T_CORE_POD_AFFINITY_TERM), E),
        ("preferredDuringSchedulingIgnoredDuringExecution", Ty::Slice(&T_CORE_WEIGHTED_POD_AFFINITY_TERM), E),
    ];
    CORE_POD_AFFINITY_TERM = [
        ("labelSelector", Ty::Ptr(&T_META_LABEL_SELECTOR), E),
        ("namespaces", Ty::Slice(&STR), E),
        ("topologyKey", STR, N),
        ("namespaceSelector", Ty::Ptr(&T_META_LABEL_SELECTOR), E),
        ("matchLabelKeys", Ty::Slice(&STR), E),
        ("mismatchLabelKeys", Ty::Slice(&STR), E),
    ];
    CORE_WEIGHTED_POD_AFFINITY_TERM = [
        ("weight", I32, N),
        ("podAffinityTerm", Ty::Struct(&CORE_POD_AFFINITY_TERM), N),
    ];
    CORE_POD_ANTI_AFFINITY = [
        ("requiredDuringSchedulingIgnoredDuringExecution", Ty::Slice(&T_CORE_POD_AFFINITY_TERM), E),
        ("preferredDuringSchedulingIgnoredDuringExecution", Ty::Slice(&T_CORE_WEIGHTED_POD_AFFINITY_TERM), E),
    ];
    CORE_POD_SECURITY_CONTEXT = [
        ("seLinuxOptions", Ty::Ptr(&T_CORE_SE_LINUX_OPTIONS), E),
        ("windowsOptions", Ty::Ptr(&T_CORE_WINDOWS_SECURITY_CONTEXT_OPTIONS), E),
        ("runAsUser", Ty::Ptr(&I64), E),
        ("runAsGroup", Ty::Ptr(&I64), E),
        ("runAsNonRoot", Ty::Ptr(&BOOL), E),
        ("supplementalGroups", Ty::Slice(&I64), E),
        ("supplementalGroupsPolicy", Ty::Ptr(&STR), E),
        ("fsGroup", Ty::Ptr(&I64), E),
        ("sysctls", Ty::Slice(&T_CORE_SYSCTL), E),
        ("fsGroupChangePolicy", Ty::Ptr(&STR), E),
        ("seccompProfile", Ty::Ptr(&T_CORE_SECCOMP_PROFILE), E),
        ("appArmorProfile", Ty::Ptr(&T_CORE_APP_ARMOR_PROFILE), E),
        ("seLinuxChangePolicy", Ty::Ptr(&STR), E),
    ];
    CORE_SYSCTL = [
        ("name", STR, N),
        ("value", STR, N),
    ];
    CORE_POD_DNS_CONFIG = [
        ("nameservers", Ty::Slice(&STR), E),
        ("searches", Ty::Slice(&STR), E),
        ("options", Ty::Slice(&T_CORE_POD_DNS_CONFIG_OPTION), E),
    ];
    CORE_POD_DNS_CONFIG_OPTION = [
        ("name", STR, E),
        ("value", Ty::Ptr(&STR), E),
    ];
    CORE_HOST_ALIAS = [
        ("ip", STR, N),
        ("hostnames", Ty::Slice(&STR), E),
    ];
    CORE_TOPOLOGY_SPREAD_CONSTRAINT = [
        ("maxSkew", I32, N),
        ("topologyKey", STR, N),
        ("whenUnsatisfiable", STR, N),
        ("labelSelector", Ty::Ptr(&T_META_LABEL_SELECTOR), E),
        ("minDomains", Ty::Ptr(&I32), E),
        ("nodeAffinityPolicy", Ty::Ptr(&STR), E),
        ("nodeTaintsPolicy", Ty::Ptr(&STR), E),
        ("matchLabelKeys", Ty::Slice(&STR), E),
    ];
    V1_WORKSPACE_BINDING = [
        ("name", STR, N),
        ("subPath", STR, E),
        ("volumeClaimTemplate", Ty::Ptr(&T_CORE_PERSISTENT_VOLUME_CLAIM), E),
        ("persistentVolumeClaim", Ty::Ptr(&T_CORE_PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE), E),
        ("emptyDir", Ty::Ptr(&T_CORE_EMPTY_DIR_VOLUME_SOURCE), E),
        ("configMap", Ty::Ptr(&T_CORE_CONFIG_MAP_VOLUME_SOURCE), E),
        ("secret", Ty::Ptr(&T_CORE_SECRET_VOLUME_SOURCE), E),
        ("projected", Ty::Ptr(&T_CORE_PROJECTED_VOLUME_SOURCE), E),
        ("csi", Ty::Ptr(&T_CORE_CSI_VOLUME_SOURCE), E),
    ];
    CORE_PERSISTENT_VOLUME_CLAIM = [
        ("kind", STR, E),
        ("apiVersion", STR, E),
        ("metadata", Ty::Struct(&META_OBJECT_META), E),
        ("spec", Ty::Struct(&CORE_PERSISTENT_VOLUME_CLAIM_SPEC), E),
        ("status", Ty::Struct(&CORE_PERSISTENT_VOLUME_CLAIM_STATUS), E),
    ];
    CORE_PERSISTENT_VOLUME_CLAIM_STATUS = [
        ("phase", STR, E),
        ("accessModes", Ty::Slice(&STR), E),
        ("capacity", Ty::Map(&QUANTITY), E),
        ("conditions", Ty::Slice(&T_CORE_PERSISTENT_VOLUME_CLAIM_CONDITION), E),
        ("allocatedResources", Ty::Map(&QUANTITY), E),
        ("allocatedResourceStatuses", Ty::Map(&STR), E),
        ("currentVolumeAttributesClassName", Ty::Ptr(&STR), E),
        ("modifyVolumeStatus", Ty::Ptr(&T_CORE_MODIFY_VOLUME_STATUS), E),
    ];
    CORE_PERSISTENT_VOLUME_CLAIM_CONDITION = [
        ("type", STR, N),
        ("status", STR, N),
        ("lastProbeTime", TIME, E),
        ("lastTransitionTime", TIME, E),
        ("reason", STR, E),
        ("message", STR, E),
    ];
    CORE_MODIFY_VOLUME_STATUS = [
        ("targetVolumeAttributesClassName", STR, E),
        ("status", STR, N),
    ];
    V1_TASK_RUN_STEP_SPEC = [
        ("name", STR, N),
        ("computeResources", Ty::Struct(&CORE_RESOURCE_REQUIREMENTS), N),
    ];
    V1_TASK_RUN_SIDECAR_SPEC = [
        ("name", STR, N),
        ("computeResources", Ty::Struct(&CORE_RESOURCE_REQUIREMENTS), N),
    ];
    V1_TASK_RUN_STATUS = [
        ("observedGeneration", I64, E),
        ("conditions", Ty::Slice(&T_APIS_CONDITION), E),
        ("annotations", Ty::Map(&STR), E),
        ("podName", STR, N),
        ("startTime", Ty::Ptr(&TIME), E),
        ("completionTime", Ty::Ptr(&TIME), E),
        ("steps", Ty::Slice(&T_V1_STEP_STATE), E),
        ("retriesStatus", Ty::Slice(&T_V1_TASK_RUN_STATUS), E),
        ("results", Ty::Slice(&T_V1_TASK_RUN_RESULT), E),
        ("artifacts", Ty::Ptr(&T_V1_ARTIFACTS), E),
        ("sidecars", Ty::Slice(&T_V1_SIDECAR_STATE), E),
        ("taskSpec", Ty::Ptr(&T_V1_TASK_SPEC), E),
        ("provenance", Ty::Ptr(&T_V1_PROVENANCE), E),
        ("spanContext", Ty::Map(&STR), E),
    ];
    APIS_CONDITION = [
        ("type", STR, N),
        ("status", STR, N),
        ("severity", STR, E),
        ("lastTransitionTime", TIME, E),
        ("reason", STR, E),
        ("message", STR, E),
    ];
    V1_STEP_STATE = [
        ("waiting", Ty::Ptr(&T_CORE_CONTAINER_STATE_WAITING), E),
        ("running", Ty::Ptr(&T_CORE_CONTAINER_STATE_RUNNING), E),
        ("terminated", Ty::Ptr(&T_CORE_CONTAINER_STATE_TERMINATED), E),
        ("name", STR, E),
        ("container", STR, E),
        ("imageID", STR, E),
        ("results", Ty::Slice(&T_V1_TASK_RUN_RESULT), E),
        ("provenance", Ty::Ptr(&T_V1_PROVENANCE), E),
        ("terminationReason", STR, E),
        ("inputs", Ty::Slice(&T_V1_ARTIFACT), E),
        ("outputs", Ty::Slice(&T_V1_ARTIFACT), E),
    ];
    CORE_CONTAINER_STATE_WAITING = [
        ("reason", STR, E),
        ("message", STR, E),
    ];
    CORE_CONTAINER_STATE_RUNNING = [
        ("startedAt", TIME, E),
    ];
    CORE_CONTAINER_STATE_TERMINATED = [
        ("exitCode", I32, N),
        ("signal", I32, E),
        ("reason", STR, E),
        ("message", STR, E),
        ("startedAt", TIME, E),
        ("finishedAt", TIME, E),
        ("containerID", STR, E),
    ];
    V1_TASK_RUN_RESULT = [
        ("name", STR, N),
        ("type", STR, E),
        ("value", PARAM, N),
    ];
    V1_PROVENANCE = [
        ("refSource", Ty::Ptr(&T_V1_REF_SOURCE), E),
        ("featureFlags", Ty::Ptr(&T_CONFIG_FEATURE_FLAGS), E),
    ];
    V1_REF_SOURCE = [
        ("uri", STR, E),
        ("digest", Ty::Map(&STR), E),
        ("entryPoint", STR, E),
    ];
    CONFIG_FEATURE_FLAGS = [
        ("disableCredsInit", BOOL, E),
        ("runningInEnvWithInjectedSidecars", BOOL, E),
        ("requireGitSSHSecretKnownHosts", BOOL, E),
        ("enableAPIFields", STR, E),
        ("sendCloudEventsForRuns", BOOL, E),
        ("awaitSidecarReadiness", BOOL, E),
        ("enforceNonfalsifiability", STR, E),
        ("enableKeepPodOnCancel", BOOL, E),
        ("verificationNoMatchPolicy", STR, E),
        ("enableProvenanceInStatus", BOOL, E),
        ("resultExtractionMethod", STR, E),
        ("maxResultSize", I64, E),
        ("setSecurityContext", BOOL, E),
        ("setSecurityContextReadOnlyRootFilesystem", BOOL, E),
        ("coschedule", STR, E),
        ("enableCELInWhenExpression", BOOL, E),
        ("enableStepActions", BOOL, E),
        ("enableParamEnum", BOOL, E),
        ("enableArtifacts", BOOL, E),
        ("disableInlineSpec", STR, E),
        ("enableConciseResolverSyntax", BOOL, E),
        ("enableKubernetesSidecar", BOOL, E),
        ("enableWaitExponentialBackoff", BOOL, E),
        ("enableTerminationMessageCompression", BOOL, E),
        ("enableTektonOCIBundles", Ty::Ptr(&BOOL), E),
    ];
    V1_ARTIFACT = [
        ("name", STR, E),
        ("values", Ty::Slice(&T_V1_ARTIFACT_VALUE), E),
        ("buildOutput", BOOL, E),
    ];
    V1_ARTIFACT_VALUE = [
        ("digest", Ty::Map(&STR), E),
        ("uri", STR, E),
    ];
    V1_ARTIFACTS = [
        ("inputs", Ty::Slice(&T_V1_ARTIFACT), E),
        ("outputs", Ty::Slice(&T_V1_ARTIFACT), E),
    ];
    V1_SIDECAR_STATE = [
        ("waiting", Ty::Ptr(&T_CORE_CONTAINER_STATE_WAITING), E),
        ("running", Ty::Ptr(&T_CORE_CONTAINER_STATE_RUNNING), E),
        ("terminated", Ty::Ptr(&T_CORE_CONTAINER_STATE_TERMINATED), E),
        ("name", STR, E),
        ("container", STR, E),
        ("imageID", STR, E),
    ];
    V1_PIPELINE_RUN = [
        ("kind", STR, E),
        ("apiVersion", STR, E),
        ("metadata", Ty::Struct(&META_OBJECT_META), E),
        ("spec", Ty::Struct(&V1_PIPELINE_RUN_SPEC), E),
        ("status", Ty::Struct(&V1_PIPELINE_RUN_STATUS), E),
    ];
    V1_PIPELINE_RUN_SPEC = [
        ("pipelineRef", Ty::Ptr(&T_V1_PIPELINE_REF), E),
        ("pipelineSpec", Ty::Ptr(&T_V1_PIPELINE_SPEC), E),
        ("params", Ty::Slice(&T_V1_PARAM), E),
        ("status", STR, E),
        ("timeouts", Ty::Ptr(&T_V1_TIMEOUT_FIELDS), E),
        ("taskRunTemplate", Ty::Struct(&V1_PIPELINE_TASK_RUN_TEMPLATE), E),
        ("workspaces", Ty::Slice(&T_V1_WORKSPACE_BINDING), E),
        ("taskRunSpecs", Ty::Slice(&T_V1_PIPELINE_TASK_RUN_SPEC), E),
        ("managedBy", Ty::Ptr(&STR), E),
    ];
    V1_PIPELINE_REF = [
        ("name", STR, E),
        ("apiVersion", STR, E),
        ("resolver", STR, E),
        ("params", Ty::Slice(&T_V1_PARAM), E),
    ];
    V1_PIPELINE_SPEC = [
        ("displayName", STR, E),
        ("description", STR, E),
        ("tasks", Ty::Slice(&T_V1_PIPELINE_TASK), E),
        ("params", Ty::Slice(&T_V1_PARAM_SPEC), E),
        ("workspaces", Ty::Slice(&T_V1_PIPELINE_WORKSPACE_DECLARATION), E),
        ("results", Ty::Slice(&T_V1_PIPELINE_RESULT), E),
        ("finally", Ty::Slice(&T_V1_PIPELINE_TASK), E),
    ];
    V1_PIPELINE_TASK = [
        ("name", STR, E),
        ("displayName", STR, E),
        ("description", STR, E),
        ("taskRef", Ty::Ptr(&T_V1_TASK_REF), E),
        ("taskSpec", Ty::Ptr(&T_V1_EMBEDDED_TASK), E),
        ("when", Ty::Slice(&T_V1_WHEN_EXPRESSION), E),
        ("retries", I64, E),
        ("runAfter", Ty::Slice(&STR), E),
        ("params", Ty::Slice(&T_V1_PARAM), E),
        ("matrix", Ty::Ptr(&T_V1_MATRIX), E),
        ("workspaces", Ty::Slice(&T_V1_WORKSPACE_PIPELINE_TASK_BINDING), E),
        ("timeout", Ty::Ptr(&DURATION), E),
        ("pipelineRef", Ty::Ptr(&T_V1_PIPELINE_REF), E),
        ("pipelineSpec", Ty::Ptr(&T_V1_PIPELINE_SPEC), E),
        ("onError", STR, E),
    ];
    V1_EMBEDDED_TASK = [
        ("apiVersion", STR, E),
        ("kind", STR, E),
        ("spec", RAW, E),
        ("metadata", Ty::Struct(&V1_PIPELINE_TASK_METADATA), E),
        ("params", Ty::Slice(&T_V1_PARAM_SPEC), E),
        ("displayName", STR, E),
        ("description", STR, E),
        ("steps", Ty::Slice(&T_V1_STEP), E),
        ("volumes", Ty::Slice(&T_CORE_VOLUME), E),
        ("stepTemplate", Ty::Ptr(&T_V1_STEP_TEMPLATE), E),
        ("sidecars", Ty::Slice(&T_V1_SIDECAR), E),
        ("workspaces", Ty::Slice(&T_V1_WORKSPACE_DECLARATION), E),
        ("results", Ty::Slice(&T_V1_TASK_RESULT), E),
    ];
    V1_PIPELINE_TASK_METADATA = [
        ("labels", Ty::Map(&STR), E),
        ("annotations", Ty::Map(&STR), E),
    ];
    V1_MATRIX = [
        ("params", Ty::Slice(&T_V1_PARAM), E),
        ("include", Ty::Slice(&T_V1_INCLUDE_PARAMS), E),
    ];
    V1_INCLUDE_PARAMS = [
        ("name", STR, E),
        ("params", Ty::Slice(&T_V1_PARAM), E),
    ];
    V1_WORKSPACE_PIPELINE_TASK_BINDING = [
        ("name", STR, N),
        ("workspace", STR, E),
        ("subPath", STR, E),
    ];
    V1_PIPELINE_WORKSPACE_DECLARATION = [
        ("name", STR, N),
        ("description", STR, E),
        ("optional", BOOL, E),
    ];
    V1_PIPELINE_RESULT = [
        ("name", STR, N),
        ("type", STR, E),
        ("description", STR, N),
        ("value", PARAM, N),
    ];
    V1_TIMEOUT_FIELDS = [
        ("pipeline", Ty::Ptr(&DURATION), E),
        ("tasks", Ty::Ptr(&DURATION), E),
        ("finally", Ty::Ptr(&DURATION), E),
    ];
    V1_PIPELINE_TASK_RUN_TEMPLATE = [
        ("podTemplate", Ty::Ptr(&T_POD_TEMPLATE), E),
        ("serviceAccountName", STR, E),
    ];
    V1_PIPELINE_TASK_RUN_SPEC = [
        ("pipelineTaskName", STR, E),
        ("serviceAccountName", STR, E),
        ("podTemplate", Ty::Ptr(&T_POD_TEMPLATE), E),
        ("stepSpecs", Ty::Slice(&T_V1_TASK_RUN_STEP_SPEC), E),
        ("sidecarSpecs", Ty::Slice(&T_V1_TASK_RUN_SIDECAR_SPEC), E),
        ("metadata", Ty::Ptr(&T_V1_PIPELINE_TASK_METADATA), E),
        ("computeResources", Ty::Ptr(&T_CORE_RESOURCE_REQUIREMENTS), E),
        ("timeout", Ty::Ptr(&DURATION), E),
    ];
    V1_PIPELINE_RUN_STATUS = [
        ("observedGeneration", I64, E),
        ("conditions", Ty::Slice(&T_APIS_CONDITION), E),
        ("annotations", Ty::Map(&STR), E),
        ("startTime", Ty::Ptr(&TIME), E),
        ("completionTime", Ty::Ptr(&TIME), E),
        ("results", Ty::Slice(&T_V1_PIPELINE_RUN_RESULT), E),
        ("pipelineSpec", Ty::Ptr(&T_V1_PIPELINE_SPEC), E),
        ("skippedTasks", Ty::Slice(&T_V1_SKIPPED_TASK), E),
        ("childReferences", Ty::Slice(&T_V1_CHILD_STATUS_REFERENCE), E),
        ("finallyStartTime", Ty::Ptr(&TIME), E),
        ("provenance", Ty::Ptr(&T_V1_PROVENANCE), E),
        ("spanContext", Ty::Map(&STR), E),
    ];
    V1_PIPELINE_RUN_RESULT = [
        ("name", STR, N),
        ("value", PARAM, N),
    ];
    V1_SKIPPED_TASK = [
        ("name", STR, N),
        ("reason", STR, N),
        ("whenExpressions", Ty::Slice(&T_V1_WHEN_EXPRESSION), E),
    ];
    V1_CHILD_STATUS_REFERENCE = [
        ("apiVersion", STR, E),
        ("kind", STR, E),
        ("name", STR, E),
        ("displayName", STR, E),
        ("pipelineTaskName", STR, E),
        ("whenExpressions", Ty::Slice(&T_V1_WHEN_EXPRESSION), E),
    ];
}
static T_APIS_CONDITION: Ty = Ty::Struct(&APIS_CONDITION);
static T_CONFIG_FEATURE_FLAGS: Ty = Ty::Struct(&CONFIG_FEATURE_FLAGS);
static T_CORE_AFFINITY: Ty = Ty::Struct(&CORE_AFFINITY);
static T_CORE_APP_ARMOR_PROFILE: Ty = Ty::Struct(&CORE_APP_ARMOR_PROFILE);
static T_CORE_AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE: Ty =
    Ty::Struct(&CORE_AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE);
static T_CORE_AZURE_DISK_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_AZURE_DISK_VOLUME_SOURCE);
static T_CORE_AZURE_FILE_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_AZURE_FILE_VOLUME_SOURCE);
static T_CORE_CAPABILITIES: Ty = Ty::Struct(&CORE_CAPABILITIES);
static T_CORE_CEPH_FS_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_CEPH_FS_VOLUME_SOURCE);
static T_CORE_CINDER_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_CINDER_VOLUME_SOURCE);
static T_CORE_CLUSTER_TRUST_BUNDLE_PROJECTION: Ty =
    Ty::Struct(&CORE_CLUSTER_TRUST_BUNDLE_PROJECTION);
static T_CORE_CONFIG_MAP_ENV_SOURCE: Ty = Ty::Struct(&CORE_CONFIG_MAP_ENV_SOURCE);
static T_CORE_CONFIG_MAP_KEY_SELECTOR: Ty = Ty::Struct(&CORE_CONFIG_MAP_KEY_SELECTOR);
static T_CORE_CONFIG_MAP_PROJECTION: Ty = Ty::Struct(&CORE_CONFIG_MAP_PROJECTION);
static T_CORE_CONFIG_MAP_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_CONFIG_MAP_VOLUME_SOURCE);
static T_CORE_CONTAINER_PORT: Ty = Ty::Struct(&CORE_CONTAINER_PORT);
static T_CORE_CONTAINER_STATE_RUNNING: Ty = Ty::Struct(&CORE_CONTAINER_STATE_RUNNING);
static T_CORE_CONTAINER_STATE_TERMINATED: Ty = Ty::Struct(&CORE_CONTAINER_STATE_TERMINATED);
static T_CORE_CONTAINER_STATE_WAITING: Ty = Ty::Struct(&CORE_CONTAINER_STATE_WAITING);
static T_CORE_CSI_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_CSI_VOLUME_SOURCE);
static T_CORE_DOWNWARD_API_PROJECTION: Ty = Ty::Struct(&CORE_DOWNWARD_API_PROJECTION);
static T_CORE_DOWNWARD_API_VOLUME_FILE: Ty = Ty::Struct(&CORE_DOWNWARD_API_VOLUME_FILE);
static T_CORE_DOWNWARD_API_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_DOWNWARD_API_VOLUME_SOURCE);
static T_CORE_EMPTY_DIR_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_EMPTY_DIR_VOLUME_SOURCE);
static T_CORE_ENV_FROM_SOURCE: Ty = Ty::Struct(&CORE_ENV_FROM_SOURCE);
static T_CORE_ENV_VAR: Ty = Ty::Struct(&CORE_ENV_VAR);
static T_CORE_ENV_VAR_SOURCE: Ty = Ty::Struct(&CORE_ENV_VAR_SOURCE);
static T_CORE_EPHEMERAL_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_EPHEMERAL_VOLUME_SOURCE);
static T_CORE_EXEC_ACTION: Ty = Ty::Struct(&CORE_EXEC_ACTION);
static T_CORE_FC_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_FC_VOLUME_SOURCE);
static T_CORE_FILE_KEY_SELECTOR: Ty = Ty::Struct(&CORE_FILE_KEY_SELECTOR);
static T_CORE_FLEX_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_FLEX_VOLUME_SOURCE);
static T_CORE_FLOCKER_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_FLOCKER_VOLUME_SOURCE);
static T_CORE_GCE_PERSISTENT_DISK_VOLUME_SOURCE: Ty =
    Ty::Struct(&CORE_GCE_PERSISTENT_DISK_VOLUME_SOURCE);
static T_CORE_GIT_REPO_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_GIT_REPO_VOLUME_SOURCE);
static T_CORE_GLUSTERFS_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_GLUSTERFS_VOLUME_SOURCE);
static T_CORE_GRPC_ACTION: Ty = Ty::Struct(&CORE_GRPC_ACTION);
static T_CORE_HOST_ALIAS: Ty = Ty::Struct(&CORE_HOST_ALIAS);
static T_CORE_HOST_PATH_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_HOST_PATH_VOLUME_SOURCE);
static T_CORE_HTTP_GET_ACTION: Ty = Ty::Struct(&CORE_HTTP_GET_ACTION);
static T_CORE_HTTP_HEADER: Ty = Ty::Struct(&CORE_HTTP_HEADER);
static T_CORE_IMAGE_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_IMAGE_VOLUME_SOURCE);
static T_CORE_ISCSI_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_ISCSI_VOLUME_SOURCE);
static T_CORE_KEY_TO_PATH: Ty = Ty::Struct(&CORE_KEY_TO_PATH);
static T_CORE_LIFECYCLE: Ty = Ty::Struct(&CORE_LIFECYCLE);
static T_CORE_LIFECYCLE_HANDLER: Ty = Ty::Struct(&CORE_LIFECYCLE_HANDLER);
static T_CORE_LOCAL_OBJECT_REFERENCE: Ty = Ty::Struct(&CORE_LOCAL_OBJECT_REFERENCE);
static T_CORE_MODIFY_VOLUME_STATUS: Ty = Ty::Struct(&CORE_MODIFY_VOLUME_STATUS);
static T_CORE_NFS_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_NFS_VOLUME_SOURCE);
static T_CORE_NODE_AFFINITY: Ty = Ty::Struct(&CORE_NODE_AFFINITY);
static T_CORE_NODE_SELECTOR: Ty = Ty::Struct(&CORE_NODE_SELECTOR);
static T_CORE_NODE_SELECTOR_REQUIREMENT: Ty = Ty::Struct(&CORE_NODE_SELECTOR_REQUIREMENT);
static T_CORE_NODE_SELECTOR_TERM: Ty = Ty::Struct(&CORE_NODE_SELECTOR_TERM);
static T_CORE_OBJECT_FIELD_SELECTOR: Ty = Ty::Struct(&CORE_OBJECT_FIELD_SELECTOR);
static T_CORE_PERSISTENT_VOLUME_CLAIM: Ty = Ty::Struct(&CORE_PERSISTENT_VOLUME_CLAIM);
static T_CORE_PERSISTENT_VOLUME_CLAIM_CONDITION: Ty =
    Ty::Struct(&CORE_PERSISTENT_VOLUME_CLAIM_CONDITION);
static T_CORE_PERSISTENT_VOLUME_CLAIM_TEMPLATE: Ty =
    Ty::Struct(&CORE_PERSISTENT_VOLUME_CLAIM_TEMPLATE);
static T_CORE_PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE: Ty =
    Ty::Struct(&CORE_PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE);
static T_CORE_PHOTON_PERSISTENT_DISK_VOLUME_SOURCE: Ty =
    Ty::Struct(&CORE_PHOTON_PERSISTENT_DISK_VOLUME_SOURCE);
static T_CORE_POD_AFFINITY: Ty = Ty::Struct(&CORE_POD_AFFINITY);
static T_CORE_POD_AFFINITY_TERM: Ty = Ty::Struct(&CORE_POD_AFFINITY_TERM);
static T_CORE_POD_ANTI_AFFINITY: Ty = Ty::Struct(&CORE_POD_ANTI_AFFINITY);
static T_CORE_POD_CERTIFICATE_PROJECTION: Ty = Ty::Struct(&CORE_POD_CERTIFICATE_PROJECTION);
static T_CORE_POD_DNS_CONFIG: Ty = Ty::Struct(&CORE_POD_DNS_CONFIG);
static T_CORE_POD_DNS_CONFIG_OPTION: Ty = Ty::Struct(&CORE_POD_DNS_CONFIG_OPTION);
static T_CORE_POD_SECURITY_CONTEXT: Ty = Ty::Struct(&CORE_POD_SECURITY_CONTEXT);
static T_CORE_PORTWORX_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_PORTWORX_VOLUME_SOURCE);
static T_CORE_PREFERRED_SCHEDULING_TERM: Ty = Ty::Struct(&CORE_PREFERRED_SCHEDULING_TERM);
static T_CORE_PROBE: Ty = Ty::Struct(&CORE_PROBE);
static T_CORE_PROJECTED_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_PROJECTED_VOLUME_SOURCE);
static T_CORE_QUOBYTE_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_QUOBYTE_VOLUME_SOURCE);
static T_CORE_RBD_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_RBD_VOLUME_SOURCE);
static T_CORE_RESOURCE_CLAIM: Ty = Ty::Struct(&CORE_RESOURCE_CLAIM);
static T_CORE_RESOURCE_FIELD_SELECTOR: Ty = Ty::Struct(&CORE_RESOURCE_FIELD_SELECTOR);
static T_CORE_RESOURCE_REQUIREMENTS: Ty = Ty::Struct(&CORE_RESOURCE_REQUIREMENTS);
static T_CORE_SCALE_IO_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_SCALE_IO_VOLUME_SOURCE);
static T_CORE_SECCOMP_PROFILE: Ty = Ty::Struct(&CORE_SECCOMP_PROFILE);
static T_CORE_SECRET_ENV_SOURCE: Ty = Ty::Struct(&CORE_SECRET_ENV_SOURCE);
static T_CORE_SECRET_KEY_SELECTOR: Ty = Ty::Struct(&CORE_SECRET_KEY_SELECTOR);
static T_CORE_SECRET_PROJECTION: Ty = Ty::Struct(&CORE_SECRET_PROJECTION);
static T_CORE_SECRET_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_SECRET_VOLUME_SOURCE);
static T_CORE_SECURITY_CONTEXT: Ty = Ty::Struct(&CORE_SECURITY_CONTEXT);
static T_CORE_SERVICE_ACCOUNT_TOKEN_PROJECTION: Ty =
    Ty::Struct(&CORE_SERVICE_ACCOUNT_TOKEN_PROJECTION);
static T_CORE_SE_LINUX_OPTIONS: Ty = Ty::Struct(&CORE_SE_LINUX_OPTIONS);
static T_CORE_SLEEP_ACTION: Ty = Ty::Struct(&CORE_SLEEP_ACTION);
static T_CORE_STORAGE_OS_VOLUME_SOURCE: Ty = Ty::Struct(&CORE_STORAGE_OS_VOLUME_SOURCE);
static T_CORE_SYSCTL: Ty = Ty::Struct(&CORE_SYSCTL);
static T_CORE_TCP_SOCKET_ACTION: Ty = Ty::Struct(&CORE_TCP_SOCKET_ACTION);
static T_CORE_TOLERATION: Ty = Ty::Struct(&CORE_TOLERATION);
static T_CORE_TOPOLOGY_SPREAD_CONSTRAINT: Ty = Ty::Struct(&CORE_TOPOLOGY_SPREAD_CONSTRAINT);
static T_CORE_TYPED_LOCAL_OBJECT_REFERENCE: Ty = Ty::Struct(&CORE_TYPED_LOCAL_OBJECT_REFERENCE);
static T_CORE_TYPED_OBJECT_REFERENCE: Ty = Ty::Struct(&CORE_TYPED_OBJECT_REFERENCE);
static T_CORE_VOLUME: Ty = Ty::Struct(&CORE_VOLUME);
static T_CORE_VOLUME_DEVICE: Ty = Ty::Struct(&CORE_VOLUME_DEVICE);
static T_CORE_VOLUME_MOUNT: Ty = Ty::Struct(&CORE_VOLUME_MOUNT);
static T_CORE_VOLUME_PROJECTION: Ty = Ty::Struct(&CORE_VOLUME_PROJECTION);
static T_CORE_VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE: Ty =
    Ty::Struct(&CORE_VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE);
static T_CORE_WEIGHTED_POD_AFFINITY_TERM: Ty = Ty::Struct(&CORE_WEIGHTED_POD_AFFINITY_TERM);
static T_CORE_WINDOWS_SECURITY_CONTEXT_OPTIONS: Ty =
    Ty::Struct(&CORE_WINDOWS_SECURITY_CONTEXT_OPTIONS);
static T_META_LABEL_SELECTOR: Ty = Ty::Struct(&META_LABEL_SELECTOR);
static T_META_LABEL_SELECTOR_REQUIREMENT: Ty = Ty::Struct(&META_LABEL_SELECTOR_REQUIREMENT);
static T_META_MANAGED_FIELDS_ENTRY: Ty = Ty::Struct(&META_MANAGED_FIELDS_ENTRY);
static T_META_OWNER_REFERENCE: Ty = Ty::Struct(&META_OWNER_REFERENCE);
static T_POD_TEMPLATE: Ty = Ty::Struct(&POD_TEMPLATE);
static T_V1_ARTIFACT: Ty = Ty::Struct(&V1_ARTIFACT);
static T_V1_ARTIFACTS: Ty = Ty::Struct(&V1_ARTIFACTS);
static T_V1_ARTIFACT_VALUE: Ty = Ty::Struct(&V1_ARTIFACT_VALUE);
static T_V1_CHILD_STATUS_REFERENCE: Ty = Ty::Struct(&V1_CHILD_STATUS_REFERENCE);
static T_V1_EMBEDDED_TASK: Ty = Ty::Struct(&V1_EMBEDDED_TASK);
static T_V1_INCLUDE_PARAMS: Ty = Ty::Struct(&V1_INCLUDE_PARAMS);
static T_V1_MATRIX: Ty = Ty::Struct(&V1_MATRIX);
static T_V1_PARAM: Ty = Ty::Struct(&V1_PARAM);
static T_V1_PARAM_SPEC: Ty = Ty::Struct(&V1_PARAM_SPEC);
static T_V1_PIPELINE_REF: Ty = Ty::Struct(&V1_PIPELINE_REF);
static T_V1_PIPELINE_RESULT: Ty = Ty::Struct(&V1_PIPELINE_RESULT);
static T_V1_PIPELINE_RUN_RESULT: Ty = Ty::Struct(&V1_PIPELINE_RUN_RESULT);
static T_V1_PIPELINE_SPEC: Ty = Ty::Struct(&V1_PIPELINE_SPEC);
static T_V1_PIPELINE_TASK: Ty = Ty::Struct(&V1_PIPELINE_TASK);
static T_V1_PIPELINE_TASK_METADATA: Ty = Ty::Struct(&V1_PIPELINE_TASK_METADATA);
static T_V1_PIPELINE_TASK_RUN_SPEC: Ty = Ty::Struct(&V1_PIPELINE_TASK_RUN_SPEC);
static T_V1_PIPELINE_WORKSPACE_DECLARATION: Ty = Ty::Struct(&V1_PIPELINE_WORKSPACE_DECLARATION);
static T_V1_PROPERTY_SPEC: Ty = Ty::Struct(&V1_PROPERTY_SPEC);
static T_V1_PROVENANCE: Ty = Ty::Struct(&V1_PROVENANCE);
static T_V1_REF: Ty = Ty::Struct(&V1_REF);
static T_V1_REF_SOURCE: Ty = Ty::Struct(&V1_REF_SOURCE);
static T_V1_SIDECAR: Ty = Ty::Struct(&V1_SIDECAR);
static T_V1_SIDECAR_STATE: Ty = Ty::Struct(&V1_SIDECAR_STATE);
static T_V1_SKIPPED_TASK: Ty = Ty::Struct(&V1_SKIPPED_TASK);
static T_V1_STEP: Ty = Ty::Struct(&V1_STEP);
static T_V1_STEP_OUTPUT_CONFIG: Ty = Ty::Struct(&V1_STEP_OUTPUT_CONFIG);
static T_V1_STEP_RESULT: Ty = Ty::Struct(&V1_STEP_RESULT);
static T_V1_STEP_STATE: Ty = Ty::Struct(&V1_STEP_STATE);
static T_V1_STEP_TEMPLATE: Ty = Ty::Struct(&V1_STEP_TEMPLATE);
static T_V1_TASK_BREAKPOINTS: Ty = Ty::Struct(&V1_TASK_BREAKPOINTS);
static T_V1_TASK_REF: Ty = Ty::Struct(&V1_TASK_REF);
static T_V1_TASK_RESULT: Ty = Ty::Struct(&V1_TASK_RESULT);
static T_V1_TASK_RUN_DEBUG: Ty = Ty::Struct(&V1_TASK_RUN_DEBUG);
static T_V1_TASK_RUN_RESULT: Ty = Ty::Struct(&V1_TASK_RUN_RESULT);
static T_V1_TASK_RUN_SIDECAR_SPEC: Ty = Ty::Struct(&V1_TASK_RUN_SIDECAR_SPEC);
static T_V1_TASK_RUN_STATUS: Ty = Ty::Struct(&V1_TASK_RUN_STATUS);
static T_V1_TASK_RUN_STEP_SPEC: Ty = Ty::Struct(&V1_TASK_RUN_STEP_SPEC);
static T_V1_TASK_SPEC: Ty = Ty::Struct(&V1_TASK_SPEC);
static T_V1_TIMEOUT_FIELDS: Ty = Ty::Struct(&V1_TIMEOUT_FIELDS);
static T_V1_WHEN_EXPRESSION: Ty = Ty::Struct(&V1_WHEN_EXPRESSION);
static T_V1_WORKSPACE_BINDING: Ty = Ty::Struct(&V1_WORKSPACE_BINDING);
static T_V1_WORKSPACE_DECLARATION: Ty = Ty::Struct(&V1_WORKSPACE_DECLARATION);
static T_V1_WORKSPACE_PIPELINE_TASK_BINDING: Ty = Ty::Struct(&V1_WORKSPACE_PIPELINE_TASK_BINDING);
static T_V1_WORKSPACE_USAGE: Ty = Ty::Struct(&V1_WORKSPACE_USAGE);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enc_str(ty: GoType, v: &Value) -> String {
        String::from_utf8(encode(ty, v)).expect("valid UTF-8")
    }

    /// Chains' conformance data beside the repository (`../shared`), if there.
    fn shared(rel: &str) -> Option<String> {
        let path = format!("{}/../shared/{rel}", env!("CARGO_MANIFEST_DIR"));
        let present = std::path::Path::new(&path).exists();
        if !present {
            eprintln!("skipping: {path} is absent");
        }
        present.then_some(path)
    }

    fn read_json(path: &str) -> Value {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).expect("fixture is JSON")
    }

    fn base64_decode(s: &str) -> Vec<u8> {
        let val = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => panic!("bad base64 byte {c}"),
        };
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for c in s.bytes().filter(|&c| c != b'=') {
            acc = acc << 6 | u32::from(val(c));
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        out
    }

    /// The `pipelineTask` contents Chains produced for the two child
    /// TaskRuns are exactly our bytes.
    #[test]
    fn child_taskruns_match_chains() {
        let Some(case) = shared(
            "conformance/cases/19-v2alpha3-pipelinerun1-slsa-tekton-resolveddependencies/expected.json",
        ) else {
            return;
        };
        let expected = read_json(&case);
        let contents: Vec<Vec<u8>> =
            expected["predicate"]["buildDefinition"]["resolvedDependencies"]
                .as_array()
                .expect("resolvedDependencies")
                .iter()
                .filter(|d| d["name"] == "pipelineTask")
                .map(|d| base64_decode(d["content"].as_str().expect("content")))
                .collect();
        assert_eq!(contents.len(), 2);
        for file in ["taskrun1.json", "taskrun2.json"] {
            let Some(fixture) = shared(&format!(
                "conformance/fixtures/pkg/chains/formats/slsa/testdata/slsa-v2alpha3/{file}"
            )) else {
                return;
            };
            let input = read_json(&fixture);
            let got = encode(GoType::TaskRun, &input);
            let name = input["metadata"]["name"].as_str().expect("name");
            let want = contents
                .iter()
                .find(|c| {
                    serde_json::from_slice::<Value>(c).expect("JSON")["metadata"]["name"] == name
                })
                .expect("matching content");
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(want),
                "{file}"
            );
        }
    }

    #[test]
    fn go_string_escaping() {
        let tr = json!({"metadata": {"labels": {"k<>": "<b>&\u{2028}\u{2029}\u{8}\u{c}\n\r\t\u{1}\u{1f}\"\\é\u{7f}"}}});
        let got = enc_str(GoType::TaskRun, &tr);
        assert!(
            got.contains(
                r#"{"k\u003c\u003e":"\u003cb\u003e\u0026\u2028\u2029\b\f\n\r\t\u0001\u001f\"\\é"#
            ),
            "{got}"
        );
        assert!(got.contains("\u{7f}\"}}"), "{got}");
    }

    #[test]
    fn zero_values_and_omitempty() {
        assert_eq!(
            enc_str(GoType::TaskRun, &json!({})),
            r#"{"metadata":{},"spec":{"serviceAccountName":""},"status":{"podName":""}}"#
        );
        assert_eq!(
            enc_str(
                GoType::TaskRunSpec,
                &json!({"params": [], "serviceAccountName": "sa", "workspaces": null})
            ),
            r#"{"serviceAccountName":"sa"}"#
        );
        assert_eq!(
            enc_str(GoType::PipelineRunSpec, &json!({"params": []})),
            r#"{"taskRunTemplate":{}}"#
        );
        // Not an object at all: Go would fail; we emit the zero value.
        assert_eq!(
            enc_str(GoType::TaskRunSpec, &json!("x")),
            r#"{"serviceAccountName":""}"#
        );
        // A present pointer-to-struct is kept even when empty.
        assert_eq!(
            enc_str(
                GoType::TaskRunSpec,
                &json!({"taskRef": {}, "podTemplate": {}, "managedBy": ""})
            ),
            r#"{"serviceAccountName":"","taskRef":{},"podTemplate":{},"managedBy":""}"#
        );
    }

    #[test]
    fn step_struct_fields_are_never_omitted() {
        let spec =
            json!({"taskSpec": {"steps": [{"name": "s", "image": "busybox"}], "stepTemplate": {}}});
        assert_eq!(
            enc_str(GoType::TaskRunSpec, &spec),
            r#"{"serviceAccountName":"","taskSpec":{"steps":[{"name":"s","image":"busybox","computeResources":{}}],"stepTemplate":{"computeResources":{}}}}"#
        );
        let spec = json!({"taskSpec": {"steps": [{"computeResources": {"limits": {"memory": "1024Mi", "cpu": 0.5}}}]}});
        assert!(enc_str(GoType::TaskRunSpec, &spec).contains(
            r#"{"name":"","computeResources":{"limits":{"cpu":"500m","memory":"1Gi"}}}"#
        ));
    }

    #[test]
    fn times_are_normalised_to_utc_seconds() {
        let tr = json!({
            "metadata": {"creationTimestamp": "2021-03-29T11:50:15.123456+02:00"},
            "status": {
                "startTime": "2021-03-29T09:50:00-00:30",
                "completionTime": "not a time",
                "conditions": [{"type": "Succeeded", "status": "True"}],
                "steps": [{"terminated": {"exitCode": 0, "finishedAt": "2024-02-29T23:59:59Z"}}]
            }
        });
        assert_eq!(
            enc_str(GoType::TaskRun, &tr),
            concat!(
                r#"{"metadata":{"creationTimestamp":"2021-03-29T09:50:15Z"},"spec":{"serviceAccountName":""},"#,
                r#""status":{"conditions":[{"type":"Succeeded","status":"True","lastTransitionTime":null}],"#,
                r#""podName":"","startTime":"2021-03-29T10:20:00Z","steps":[{"terminated":{"exitCode":0,"#,
                r#""startedAt":null,"finishedAt":"2024-02-29T23:59:59Z"}}]}}"#
            )
        );
        // Go's zero time is omitted by omitzero, but a set pointer prints null.
        let tr = json!({"metadata": {"creationTimestamp": "0001-01-01T01:00:00+01:00"},
                        "status": {"startTime": "0001-01-01T00:00:00Z"}});
        assert_eq!(
            enc_str(GoType::TaskRun, &tr),
            r#"{"metadata":{},"spec":{"serviceAccountName":""},"status":{"podName":"","startTime":null}}"#
        );
        let t = |s: &str| parse_time(s).map(|t| String::from_utf8(t.write_vec()).expect("UTF-8"));
        assert_eq!(
            t("0000-01-01T00:00:00+01:00").as_deref(),
            Some("\"-0001-12-31T23:00:00Z\"")
        );
        assert_eq!(
            t("9999-12-31T23:59:59-01:00").as_deref(),
            Some("\"10000-01-01T00:59:59Z\"")
        );
        assert_eq!(t("2023-02-29T00:00:00Z"), None);
        assert_eq!(t("2023-01-01 00:00:00Z"), None);
        assert_eq!(t("2023-01-01T00:00:00"), None);
        assert_eq!(t("2023-01-01T00:00:00+24:00"), None);
        assert_eq!(
            parse_time("1970-01-01T00:00:01,5Z"),
            Some(GoTime {
                secs: 1,
                nanos: 500_000_000
            })
        );
        assert_eq!(
            parse_time("1970-01-01T00:00:00.1234567891Z"),
            Some(GoTime {
                secs: 0,
                nanos: 123_456_789
            })
        );
    }

    impl GoTime {
        fn write_vec(self) -> Vec<u8> {
            let mut out = Vec::new();
            self.write(&mut out);
            out
        }
    }

    #[test]
    fn unknown_fields_dropped_and_keys_case_folded() {
        let tr = json!({
            "Metadata": {"NAME": "x", "bogus": 1},
            "spec": {"serviceAccountName": "sa", "extra": {"a": 1}},
            "status": {"podName": "p", "provenance": {"featureFlags": {"EnableAPIFields": "beta", "enableapifields": "alpha", "nope": true, "re\u{17F}ultExtractionMethod": "x"}}}
        });
        assert_eq!(
            enc_str(GoType::TaskRun, &tr),
            concat!(
                r#"{"metadata":{"name":"x"},"spec":{"serviceAccountName":"sa"},"#,
                r#""status":{"podName":"p","provenance":{"featureFlags":{"enableAPIFields":"beta","resultExtractionMethod":"x"}}}}"#
            )
        );
    }

    #[test]
    fn wrong_types_are_tolerated() {
        let spec = json!({
            "serviceAccountName": 12,
            "retries": "3",
            "timeout": 5,
            "taskRef": "name",
            "params": [{"name": true, "value": 1.5}, "junk", null],
            "podTemplate": {"hostNetwork": "yes", "automountServiceAccountToken": false}
        });
        assert_eq!(
            enc_str(GoType::TaskRunSpec, &spec),
            concat!(
                r#"{"params":[{"name":"true","value":"1.5"},{"name":"","value":""},{"name":"","value":""}],"#,
                r#""serviceAccountName":"12","podTemplate":{"automountServiceAccountToken":false}}"#
            )
        );
        let spec = json!({"retries": 2.0, "stepSpecs": [{"name": "s", "computeResources": null}]});
        assert_eq!(
            enc_str(GoType::TaskRunSpec, &spec),
            r#"{"serviceAccountName":"","retries":2,"stepSpecs":[{"name":"s","computeResources":{}}]}"#
        );
    }

    #[test]
    fn durations_are_canonical() {
        let d = |s: &str| {
            parse_duration(s).map(|d| {
                let mut out = Vec::new();
                write_duration(&mut out, d);
                String::from_utf8(out).expect("UTF-8")
            })
        };
        for (input, want) in [
            ("1h", "1h0m0s"),
            ("90m", "1h30m0s"),
            ("1.5s", "1.5s"),
            ("100ms", "100ms"),
            ("1us", "1µs"),
            ("1μs", "1µs"),
            ("1.5µs", "1.5µs"),
            ("3ns", "3ns"),
            ("-1m", "-1m0s"),
            ("+0", "0s"),
            ("0", "0s"),
            ("0h", "0s"),
            (".5h", "30m0s"),
            ("1h2m3.000000004s", "1h2m3.000000004s"),
            ("2562047h47m16.854775807s", "2562047h47m16.854775807s"),
            ("-2562047h47m16.854775808s", "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(d(input).as_deref(), Some(want), "{input}");
        }
        for bad in [
            "",
            "1",
            "h",
            "1d",
            ".h",
            "-",
            "2562047h47m16.854775808s",
            "1hh",
        ] {
            assert_eq!(d(bad), None, "{bad}");
        }
        let spec = json!({"timeout": "1h", "taskSpec": {"steps": [{"timeout": "bad"}]}});
        assert_eq!(
            enc_str(GoType::TaskRunSpec, &spec),
            r#"{"serviceAccountName":"","taskSpec":{"steps":[{"name":"","computeResources":{}}]},"timeout":"1h0m0s"}"#
        );
    }

    #[test]
    fn quantities_are_canonical() {
        let q = |s: &str| canonical_quantity(s).map(Cow::into_owned);
        for (input, want) in [
            ("0", "0"),
            ("0m", "0"),
            ("-0", "0"),
            ("1", "1"),
            ("+1", "+1"),
            ("01", "01"),
            ("1000m", "1"),
            ("0.5", "500m"),
            ("100m", "100m"),
            ("1000", "1k"),
            ("1500", "1500"),
            ("50k", "50k"),
            ("1.5k", "1500"),
            ("1e3", "1e3"),
            ("1E3", "1E3"),
            ("10e2", "1e3"),
            ("1.2e3", "1200"),
            ("0.5e-9", "1e-9"),
            ("12e6", "12e6"),
            ("1Ki", "1Ki"),
            ("1Gi", "1Gi"),
            ("8Mi", "8Mi"),
            ("1024Mi", "1Gi"),
            ("2048Ki", "2Mi"),
            ("1000M", "1G"),
            ("1.5Gi", "1536Mi"),
            ("0.5Mi", "512Ki"),
            ("100.035Ki", "102435840m"),
            (".001Ki", "1024m"),
            (".000001Ki", "1024u"),
            (".000000001Ki", "1024n"),
            (".000000000001Ki", "2n"),
            ("-.000000000001Ki", "-2n"),
            ("-1024Mi", "-1Gi"),
            ("3.001n", "4n"),
            ("0.00000012345", "124n"),
            ("1.0000000001", "1000000001n"),
            ("9Ei", "9223372036854775807"),
            ("1000E", "1"),
            ("1.", "1."),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
            // Accepted by Go's parser despite its documented grammar.
            ("e3", "0"),
            ("m", "0"),
        ] {
            assert_eq!(q(input).as_deref(), Some(want), "{input}");
        }
        for bad in ["", "1ki", "1e", "abc", "1.2.3", "1m5", "1 Gi", "1e+"] {
            assert_eq!(q(bad), None, "{bad}");
        }
        let mut out = Vec::new();
        write_quantity(&mut out, Some(&json!(" 2Gi ")));
        write_quantity(&mut out, Some(&json!("lots")));
        write_quantity(&mut out, Some(&json!(1000)));
        write_quantity(&mut out, None);
        assert_eq!(
            String::from_utf8(out).expect("UTF-8"),
            r#""2Gi""lots""1k""0""#
        );
    }

    #[test]
    fn param_values() {
        let spec = json!({"params": [
            {"name": "s", "value": "x"},
            {"name": "a", "value": ["a", null]},
            {"name": "o", "value": {"z": "1", "a": "2"}},
            {"name": "n", "value": 5},
            {"name": "b", "value": false},
            {"name": "mixed", "value": ["a", 1]},
            {"name": "nested", "value": {"a": {"b": "<"}}},
            {"name": "null", "value": null},
            {"name": "missing"},
            {"name": "empty", "value": []}
        ]});
        assert_eq!(
            enc_str(GoType::TaskRunSpec, &spec),
            concat!(
                r#"{"params":[{"name":"s","value":"x"},{"name":"a","value":["a",""]},"#,
                r#"{"name":"o","value":{"a":"2","z":"1"}},{"name":"n","value":"5"},{"name":"b","value":"false"},"#,
                r#"{"name":"mixed","value":"[\"a\",1]"},{"name":"nested","value":"{\"a\":{\"b\":\"\u003c\"}}"},"#,
                r#"{"name":"null","value":""},{"name":"missing","value":""},{"name":"empty","value":[]}],"#,
                r#""serviceAccountName":""}"#
            )
        );
    }

    #[test]
    fn pipeline_run_tree() {
        let pr = json!({
            "apiVersion": "tekton.dev/v1",
            "kind": "PipelineRun",
            "metadata": {
                "name": "pr",
                "ownerReferences": [{"kind": "X", "controller": true}],
                "managedFields": [{"manager": "m", "fieldsV1": {"f:b": {}, "f:a": {".": {}}}, "fieldsType": "FieldsV1"}]
            },
            "spec": {
                "pipelineSpec": {
                    "tasks": [{
                        "name": "t",
                        "taskSpec": {"steps": [{"name": "s", "script": "echo <hi> & bye"}], "spec": {"b": 1.5, "a": "<"}},
                        "runAfter": [],
                        "matrix": {"params": [{"name": "p", "value": ["1", "2"]}]}
                    }],
                    "finally": [{"name": "f", "taskRef": {"resolver": "git", "params": [{"name": "url", "value": "u"}]}}],
                    "results": [{"name": "r", "value": "$(tasks.t.results.x)"}]
                },
                "timeouts": {"pipeline": "1h30m", "tasks": "bogus"},
                "taskRunSpecs": [{"pipelineTaskName": "t", "podTemplate": {"securityContext": {"runAsUser": 1000}}}]
            },
            "status": {
                "childReferences": [{"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": "pr-t", "pipelineTaskName": "t"}],
                "finallyStartTime": "2021-01-01T00:00:00Z",
                "spanContext": {"b": "2", "a": "1"}
            }
        });
        assert_eq!(
            enc_str(GoType::PipelineRun, &pr),
            concat!(
                r#"{"kind":"PipelineRun","apiVersion":"tekton.dev/v1","metadata":{"name":"pr","ownerReferences":"#,
                r#"[{"apiVersion":"","kind":"X","name":"","uid":"","controller":true}],"managedFields":"#,
                r#"[{"manager":"m","fieldsType":"FieldsV1","fieldsV1":{"f:a":{".":{}},"f:b":{}}}]},"#,
                r#""spec":{"pipelineSpec":{"tasks":[{"name":"t","taskSpec":{"spec":{"a":"\u003c","b":1.5},"metadata":{},"#,
                r#""steps":[{"name":"s","computeResources":{},"script":"echo \u003chi\u003e \u0026 bye"}]},"#,
                r#""matrix":{"params":[{"name":"p","value":["1","2"]}]}}],"#,
                r#""results":[{"name":"r","description":"","value":"$(tasks.t.results.x)"}],"#,
                r#""finally":[{"name":"f","taskRef":{"resolver":"git","params":[{"name":"url","value":"u"}]}}]},"#,
                r#""timeouts":{"pipeline":"1h30m0s"},"taskRunTemplate":{},"#,
                r#""taskRunSpecs":[{"pipelineTaskName":"t","podTemplate":{"securityContext":{"runAsUser":1000}}}]},"#,
                r#""status":{"childReferences":[{"apiVersion":"tekton.dev/v1","kind":"TaskRun","name":"pr-t","#,
                r#""pipelineTaskName":"t"}],"finallyStartTime":"2021-01-01T00:00:00Z","spanContext":{"a":"1","b":"2"}}}"#
            )
        );
        // An embedded task spec without `spec` still carries `"spec":null`.
        let spec = json!({"pipelineSpec": {"tasks": [{"name": "t", "taskSpec": {}}]}});
        assert_eq!(
            enc_str(GoType::PipelineRunSpec, &spec),
            r#"{"pipelineSpec":{"tasks":[{"name":"t","taskSpec":{"spec":null,"metadata":{}}}]},"taskRunTemplate":{}}"#
        );
        assert_eq!(
            roundtrip(GoType::PipelineRunSpec, &spec)["taskRunTemplate"],
            json!({})
        );
    }

    #[test]
    fn any_values_and_feature_flags() {
        let v = json!({"b": [1, 1.5, 1e21, 1.5e-7, 0.000001, -2e30, 12345678901234567890u64, 100000000000000000000.0],
                       "a": {"z": null, "y": true, "x": "<"}});
        assert_eq!(
            String::from_utf8(encode_any(&v)).expect("UTF-8"),
            concat!(
                r#"{"a":{"x":"\u003c","y":true,"z":null},"b":[1,1.5,1e+21,1.5e-7,0.000001,-2e+30,"#,
                r#"12345678901234567000,100000000000000000000]}"#
            )
        );
        assert_eq!(encode_any(&json!("x")), br#""x""#);
        let ff = json!({"EnableAPIFields": "beta", "maxResultSize": 4096, "enableStepActions": false,
                        "enableTektonOCIBundles": false, "unknown": 1});
        assert_eq!(
            roundtrip(GoType::FeatureFlags, &ff),
            json!({"enableAPIFields": "beta", "maxResultSize": 4096, "enableTektonOCIBundles": false})
        );
    }

    #[test]
    fn int_or_string_and_volumes() {
        let spec = json!({"taskSpec": {
            "sidecars": [{"name": "s", "readinessProbe": {"httpGet": {"port": 8080}, "tcpSocket": {"port": "http"}}}],
            "volumes": [{"name": "v", "emptyDir": {}, "configMap": {"name": "cm", "defaultMode": 420}}]
        }});
        assert_eq!(
            enc_str(GoType::TaskRunSpec, &spec),
            concat!(
                r#"{"serviceAccountName":"","taskSpec":{"volumes":[{"name":"v","emptyDir":{},"#,
                r#""configMap":{"name":"cm","defaultMode":420}}],"sidecars":[{"name":"s","computeResources":{},"#,
                r#""readinessProbe":{"httpGet":{"port":8080},"tcpSocket":{"port":"http"}}}]}}"#
            )
        );
    }

    /// Deterministic schema-guided fuzzing: right and wrong JSON types at
    /// every level must never panic and always yield valid JSON.
    #[test]
    fn garbage_never_panics() {
        struct Rng(u64);
        impl Rng {
            fn next(&mut self, n: u64) -> u64 {
                self.0 = self
                    .0
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (self.0 >> 33) % n
            }
        }
        const STRINGS: [&str; 9] = [
            "",
            "x",
            "<&>",
            "1h",
            "2021-03-29T09:50:15Z",
            "1.5Gi",
            "0001-01-01T00:00:00Z",
            "é\u{2028}",
            "-",
        ];
        fn scalar(rng: &mut Rng) -> Value {
            match rng.next(7) {
                0 => Value::Null,
                1 => json!(rng.next(2) == 0),
                2 => json!(rng.next(1000) as i64 - 500),
                3 => json!(rng.next(1000) as f64 / 7.0),
                4 => json!(u64::MAX),
                5 => json!([]),
                _ => json!(STRINGS[rng.next(STRINGS.len() as u64) as usize]),
            }
        }
        fn arbitrary(ty: &Ty, rng: &mut Rng, depth: u32) -> Value {
            if depth > 12 || rng.next(8) == 0 {
                return scalar(rng);
            }
            match *ty {
                Ty::Struct(fields) => {
                    let mut obj = Map::new();
                    for f in fields {
                        if rng.next(3) == 0 {
                            let key = if rng.next(10) == 0 {
                                f.name.to_uppercase()
                            } else {
                                f.name.to_owned()
                            };
                            obj.insert(key, arbitrary(&f.ty, rng, depth + 1));
                        }
                    }
                    Value::Object(obj)
                }
                Ty::Ptr(inner) => arbitrary(inner, rng, depth),
                Ty::Slice(elem) => Value::Array(
                    (0..rng.next(3))
                        .map(|_| arbitrary(elem, rng, depth + 1))
                        .collect(),
                ),
                Ty::Map(elem) => Value::Object(
                    (0..rng.next(3))
                        .map(|i| (format!("k{i}"), arbitrary(elem, rng, depth + 1)))
                        .collect(),
                ),
                Ty::Param | Ty::Raw => match rng.next(3) {
                    0 => json!(["a", "b"]),
                    1 => json!({"k": "v", "n": [1, {"x": null}]}),
                    _ => scalar(rng),
                },
                _ => scalar(rng),
            }
        }
        let mut rng = Rng(42);
        for i in 0..3000 {
            let (go_type, root): (GoType, &[F]) = match i % 4 {
                0 => (GoType::TaskRun, &V1_TASK_RUN),
                1 => (GoType::PipelineRun, &V1_PIPELINE_RUN),
                2 => (GoType::TaskRunSpec, &V1_TASK_RUN_SPEC),
                _ => (GoType::PipelineRunSpec, &V1_PIPELINE_RUN_SPEC),
            };
            let input = arbitrary(&Ty::Struct(root), &mut rng, 0);
            let out = encode(go_type, &input);
            if let Err(e) = serde_json::from_slice::<Value>(&out) {
                panic!(
                    "invalid JSON ({e}) for {input}: {}",
                    String::from_utf8_lossy(&out)
                );
            }
        }
    }
}
