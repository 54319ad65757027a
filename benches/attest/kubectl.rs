//! Objects printed as kubectl prints them, for the benchmark's corpus.
//!
//! `kubectl get -o yaml` is sigs.k8s.io/yaml: the object's JSON read into
//! Go maps and written by go-yaml v2's emitter. This module follows that
//! emitter's choices, written from its documented behaviour: keys in
//! go-yaml's natural order (runs of digits compared as numbers, letters
//! after other characters), sequences at their key's indentation, strings
//! plain unless go-yaml would resolve them to another type (then double
//! quotes) or the emitter's scalar analysis forbids plain (then single
//! quotes, or double quotes when single quotes cannot hold the text),
//! multi-line strings as literal blocks with chomping and indentation
//! hints, and plain and quoted scalars folded at spaces past column 80.
//! `kubectl get -o json` is Go's `json.MarshalIndent` with four spaces:
//! keys in byte order, `<`, `>`, `&`, U+2028 and U+2029 escaped.
//!
//! It writes what the parsers under test must read; it shares no code with
//! them (our own parser's preferences must not shape the input).

use serde_json::Value;
use std::cmp::Ordering;
use std::fmt::Write as _;

/// go-yaml's line width: scalars fold at the first space past it.
const BEST_WIDTH: usize = 80;
/// go-yaml's indentation step.
const STEP: usize = 2;

/// One object as `kubectl get KIND NAME -o yaml` prints it.
pub fn yaml(object: &Value) -> String {
    let mut w = YamlWriter::default();
    w.node(object, Place::Root);
    w.finish()
}

/// One object as an item of a `kind: List` printed with `-o yaml` (the
/// items sequence is at column 0, so the item's keys are at column 2).
pub fn yaml_list_item(object: &Value) -> String {
    let mut w = YamlWriter::default();
    w.seq_item(object, 0);
    // Inside a List, a final `|+` is not the end of the document.
    w.open_ended = false;
    w.finish()
}

/// One object as `kubectl get KIND NAME -o json` prints it.
pub fn json(object: &Value) -> String {
    let mut out = String::new();
    json_value(&mut out, object, 0);
    out.push('\n');
    out
}

/// One object as an item of a `kind: List` printed with `-o json`
/// (indented two levels, without a separator).
pub fn json_list_item(object: &Value) -> String {
    let mut out = "        ".to_string();
    json_value(&mut out, object, 2);
    out
}

#[derive(Clone, Copy)]
enum Place {
    Root,
    /// After `key:`, in a mapping whose keys are at this column.
    Value(usize),
}

#[derive(Default)]
struct YamlWriter {
    out: String,
    /// The last scalar was a keep-chomped literal (`|+`): a document that
    /// ends with it gets an explicit end marker, as go-yaml writes.
    open_ended: bool,
}

impl YamlWriter {
    fn finish(mut self) -> String {
        if !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        if self.open_ended {
            self.out.push_str("...\n");
        }
        self.out
    }

    fn column(&self) -> usize {
        let line = self.out.rfind('\n').map_or(0, |i| i + 1);
        self.out[line..].chars().count()
    }

    fn newline_indent(&mut self, indent: usize) {
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        self.out.extend(std::iter::repeat_n(' ', indent));
    }

    fn node(&mut self, value: &Value, place: Place) {
        match (value, place) {
            (Value::Object(map), Place::Root) => self.mapping(map, 0, true),
            (Value::Object(map), Place::Value(_)) if map.is_empty() => self.out.push_str(" {}"),
            (Value::Object(map), Place::Value(parent)) => self.mapping(map, parent + STEP, false),
            (Value::Array(items), Place::Value(_)) if items.is_empty() => self.out.push_str(" []"),
            // A sequence in a mapping is not indented (go-yaml's indentless
            // sequences): the dashes are at the key's column.
            (Value::Array(items), Place::Value(parent)) => {
                for item in items {
                    self.newline_indent(parent);
                    self.seq_item_here(item, parent);
                }
            }
            (scalar, Place::Value(parent)) => {
                self.out.push(' ');
                self.scalar(scalar, parent + STEP, false);
            }
            (other, Place::Root) => {
                self.scalar(other, 0, false);
            }
        }
    }

    /// `- item` on a new line, the dash at column `indent`.
    fn seq_item(&mut self, item: &Value, indent: usize) {
        self.newline_indent(indent);
        self.seq_item_here(item, indent);
    }

    /// `- item` where the cursor is at the dash's column.
    fn seq_item_here(&mut self, item: &Value, indent: usize) {
        self.out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                self.out.push(' ');
                self.mapping(map, indent + STEP, true);
            }
            Value::Array(items) if !items.is_empty() => {
                // A sequence in a sequence starts on the dash's line.
                self.out.push(' ');
                for (i, inner) in items.iter().enumerate() {
                    if i > 0 {
                        self.newline_indent(indent + STEP);
                    }
                    self.seq_item_here(inner, indent + STEP);
                }
            }
            Value::Object(_) => self.out.push_str(" {}"),
            Value::Array(_) => self.out.push_str(" []"),
            scalar => {
                self.out.push(' ');
                self.scalar(scalar, indent + STEP, false);
            }
        }
    }

    /// A block mapping with keys at column `indent`; the first key goes
    /// where the cursor is when `here`.
    fn mapping(&mut self, map: &serde_json::Map<String, Value>, indent: usize, here: bool) {
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort_by(|a, b| natural_order(a, b));
        for (i, key) in keys.into_iter().enumerate() {
            if i > 0 || !here {
                self.newline_indent(indent);
            }
            self.string(key, indent + STEP, true);
            self.out.push(':');
            self.node(&map[key], Place::Value(indent));
        }
    }

    fn scalar(&mut self, value: &Value, indent: usize, key: bool) {
        self.open_ended = false;
        match value {
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => write!(self.out, "{i}").unwrap(),
                (_, Some(u), _) => write!(self.out, "{u}").unwrap(),
                // Go's strconv 'g' format; the corpus has no floats with
                // exponents, where the spellings differ.
                (_, _, Some(f)) => write!(self.out, "{f}").unwrap(),
                _ => unreachable!("a JSON number"),
            },
            Value::String(s) => self.string(s, indent, key),
            _ => unreachable!("collections are not scalars"),
        }
    }

    /// A string in the style go-yaml chooses; `indent` is the column of
    /// continuation lines and literal content.
    fn string(&mut self, s: &str, indent: usize, key: bool) {
        self.open_ended = false;
        let a = analyze(s);
        let requested = if s.contains('\n') {
            Style::Literal
        } else if resolves_to_string(s) {
            Style::Plain
        } else {
            Style::Double
        };
        let style = match requested {
            Style::Plain if !a.block_plain_allowed => {
                if a.single_quoted_allowed {
                    Style::Single
                } else {
                    Style::Double
                }
            }
            Style::Literal if !a.block_allowed || key => Style::Double,
            other => other,
        };
        let allow_breaks = !key;
        match style {
            Style::Plain => self.plain(s, indent, allow_breaks),
            Style::Single => self.single_quoted(s, indent, allow_breaks),
            Style::Double => self.double_quoted(s, indent, allow_breaks),
            Style::Literal => self.literal(s, indent),
        }
    }

    fn plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let mut column = self.column();
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && column > BEST_WIDTH
                    && chars.get(i + 1).is_some_and(|n| *n != ' ')
                {
                    self.newline_indent(indent);
                    column = indent;
                } else {
                    self.out.push(c);
                    column += 1;
                }
                spaces = true;
            } else {
                self.out.push(c);
                column += 1;
                spaces = false;
            }
        }
    }

    fn single_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.out.push('\'');
        let mut column = self.column();
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && column > BEST_WIDTH
                    && i > 0
                    && i + 1 < chars.len()
                    && chars[i + 1] != ' '
                {
                    self.newline_indent(indent);
                    column = indent;
                } else {
                    self.out.push(c);
                    column += 1;
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.out.push('\'');
                    column += 1;
                }
                self.out.push(c);
                column += 1;
                spaces = false;
            }
        }
        self.out.push('\'');
    }

    fn double_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.out.push('"');
        let mut column = self.column();
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !printable(c) || is_break(c) || c == '\u{feff}' || c == '"' || c == '\\' {
                let before = self.out.len();
                self.out.push('\\');
                match c {
                    '\0' => self.out.push('0'),
                    '\x07' => self.out.push('a'),
                    '\x08' => self.out.push('b'),
                    '\t' => self.out.push('t'),
                    '\n' => self.out.push('n'),
                    '\x0b' => self.out.push('v'),
                    '\x0c' => self.out.push('f'),
                    '\r' => self.out.push('r'),
                    '\x1b' => self.out.push('e'),
                    '"' => self.out.push('"'),
                    '\\' => self.out.push('\\'),
                    '\u{85}' => self.out.push('N'),
                    '\u{a0}' => self.out.push('_'),
                    '\u{2028}' => self.out.push('L'),
                    '\u{2029}' => self.out.push('P'),
                    c if (c as u32) <= 0xff => write!(self.out, "x{:02X}", c as u32).unwrap(),
                    c if (c as u32) <= 0xffff => write!(self.out, "u{:04X}", c as u32).unwrap(),
                    c => write!(self.out, "U{:08X}", c as u32).unwrap(),
                }
                column += self.out.len() - before;
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && column > BEST_WIDTH && i > 0 && i + 1 < chars.len() {
                    self.newline_indent(indent);
                    column = indent;
                    if chars[i + 1] == ' ' {
                        // The next space would be lost to folding: escape it.
                        self.out.push('\\');
                        column += 1;
                    }
                } else {
                    self.out.push(' ');
                    column += 1;
                }
                spaces = true;
            } else {
                self.out.push(c);
                column += 1;
                spaces = false;
            }
        }
        self.out.push('"');
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.out.push('|');
        if s.starts_with([' ', '\n']) {
            write!(self.out, "{STEP}").unwrap();
        }
        let body = s.strip_suffix('\n');
        match body {
            None => self.out.push('-'),
            Some(rest) if rest.is_empty() || rest.ends_with('\n') => {
                self.out.push('+');
                self.open_ended = true;
            }
            Some(_) => {}
        }
        self.out.push('\n');
        // Content at `indent`; empty lines are bare line breaks. Without a
        // final line break (`|-`), the next key's newline ends the line.
        for line in s.split_inclusive('\n') {
            if line != "\n" {
                self.out.extend(std::iter::repeat_n(' ', indent));
            }
            self.out.push_str(line);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// What go-yaml's emitter allows for a scalar (its `analyze_scalar`).
struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// go-yaml v2's `is_printable`: LF, printable ASCII, and the BMP from
/// U+00A0 except surrogates, U+FEFF, U+FFFE and U+FFFF. Characters beyond
/// the BMP are not "printable" to it, and are escaped.
fn printable(c: char) -> bool {
    let v = c as u32;
    v == 0x0a
        || (0x20..=0x7e).contains(&v)
        || ((0xa0..=0xfffd).contains(&v) && v != 0xfeff && !(0xd800..=0xdfff).contains(&v))
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let mut special = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut line_breaks = false;
    let mut preceded_by_whitespace = true;
    let blank = |c: Option<&char>| c.is_none_or(|c| *c == ' ' || *c == '\t' || is_break(*c));
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = blank(chars.get(i + 1));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !printable(c) {
            special = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= i + 1 == chars.len();
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= i + 1 == chars.len();
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = blank(Some(&c));
    }
    let mut a = Analysis {
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// Whether go-yaml v2 resolves the plain scalar `s` to a string (so that
/// it may stay plain): not null, a boolean of YAML 1.1, a number in Go's
/// or YAML's spelling, a timestamp, a merge key or a base-60 float.
fn resolves_to_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", "<<",
    ];
    if WORDS.contains(&s) {
        return false;
    }
    match s.as_bytes()[0] {
        b'.' => !go_parse_float(s),
        b'+' | b'-' | b'0'..=b'9' => {
            if timestamp(s) || base60_float(s) {
                return false;
            }
            let plain: String = s.chars().filter(|c| *c != '_').collect();
            !(go_parse_int(&plain) || (yaml_style_float(&plain) && go_parse_float(&plain)))
        }
        _ => true,
    }
}

/// `strconv.ParseInt(s, 0, 64)` or `ParseUint` succeeding, or go-yaml's
/// `0b`/`-0b` binary forms.
fn go_parse_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (digits, radix) = if let Some(r) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (r, 16)
    } else if let Some(r) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (r, 8)
    } else if let Some(r) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (r, 2)
    } else if body.len() > 1 && body.starts_with('0') {
        (&body[1..], 8)
    } else {
        (body, 10)
    };
    !digits.is_empty() && u64::from_str_radix(digits, radix).is_ok()
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = digits(0);
    if i == 0 {
        if b.first() != Some(&b'.') || digits(1) == 0 {
            return false;
        }
        i = 1 + digits(1);
    } else if b.get(i) == Some(&b'.') {
        i += 1 + digits(i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let e = digits(i);
        if e == 0 {
            return false;
        }
        i += e;
    }
    i == b.len()
}

/// `strconv.ParseFloat(s, 64)` succeeding, for the spellings that reach it.
fn go_parse_float(s: &str) -> bool {
    yaml_style_float(s) || {
        let body = s.strip_prefix(['+', '-']).unwrap_or(s);
        ["inf", "infinity", "nan"]
            .iter()
            .any(|w| body.eq_ignore_ascii_case(w))
    }
}

/// go-yaml's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn base60_float(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let mut i = b
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b'_')
        .count();
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        let d = b[i + 1..]
            .iter()
            .take(2)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let ok = match d {
            1 => true,
            2 => b[i + 1] <= b'5',
            _ => false,
        };
        if !ok {
            return false;
        }
        i += 1 + d;
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1 + b[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == b'_')
            .count();
    }
    i == b.len()
}

/// go-yaml's timestamps: `YYYY-M-D`, optionally followed by `T`, `t` or a
/// space and a time, as its `parseTimestamp` accepts them.
fn timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let year = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if year != 4 || b.get(4) != Some(&b'-') {
        return false;
    }
    let number = |i: &mut usize| {
        let n = b[*i..]
            .iter()
            .take(2)
            .take_while(|c| c.is_ascii_digit())
            .count();
        *i += n;
        n > 0
    };
    let mut i = 5;
    if !number(&mut i) || b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    if !number(&mut i) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    // A date and a time: Go's time.Parse decides; what the corpus holds
    // (RFC 3339 in UTC) is a timestamp.
    matches!(b[i], b'T' | b't' | b' ')
        && b[i + 1..]
            .iter()
            .all(|c| c.is_ascii_digit() || b":.Z+-".contains(c))
}

/// go-yaml v2's key order (`keyList.Less`): letters compare by code point
/// and sort after other characters; runs of digits compare as numbers.
fn natural_order(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            for j in (0..i).rev() {
                if !ar[j].is_ascii_digit() {
                    break;
                }
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .saturating_mul(10)
                .saturating_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .saturating_mul(10)
                .saturating_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// Go's `json.MarshalIndent(v, "", "    ")` from `depth` levels in.
fn json_value(out: &mut String, value: &Value, depth: usize) {
    let pad = |out: &mut String, depth: usize| out.extend(std::iter::repeat_n("    ", depth));
    match value {
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(map) => {
            out.push('{');
            // serde_json's map (without preserve_order) iterates in byte
            // order, as Go sorts map keys.
            for (i, (k, v)) in map.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                pad(out, depth + 1);
                json_string(out, k);
                out.push_str(": ");
                json_value(out, v, depth + 1);
            }
            out.push('\n');
            pad(out, depth);
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                pad(out, depth + 1);
                json_value(out, v, depth + 1);
            }
            out.push('\n');
            pad(out, depth);
            out.push(']');
        }
        Value::String(s) => json_string(out, s),
        other => write!(out, "{other}").unwrap(),
    }
}

/// A string as Go's encoding/json escapes it (HTML-safe by default).
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                write!(out, "\\u{:04x}", c as u32).unwrap()
            }
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
}
