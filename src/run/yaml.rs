//! A fast path for the YAML Kubernetes writes.
//!
//! `kubectl get -o yaml` (go-yaml's encoder) writes block mappings and
//! sequences, plain and quoted scalars, and literal block scalars. Parsing
//! that subset line by line is many times faster than a general YAML parser
//! (a 27 KB TaskRun: about 0.1 ms here against about 0.8 ms), and YAML
//! parsing was most of attest's time. Anything outside the subset, or any
//! scalar whose type a YAML schema could read differently (`yes`, `0x1F`,
//! `1e5`, `.inf`, ...), makes [`parse`] give up and the full parser reads the
//! document, so both always agree on what they both accept (a test checks
//! this on every YAML file in the repository and on generated runs).

use serde_json::{Map, Number, Value};

/// The document as JSON, or `None` when it is not in the subset.
pub fn parse(text: &str) -> Option<Value> {
    // Tabs and carriage returns have rules of their own (tabs may not
    // indent, CRLF ends lines): the full parser handles them.
    if memchr::memchr2(b'\t', b'\r', text.as_bytes()).is_some() {
        return None;
    }
    let mut lines: Vec<Line<'_>> = Vec::with_capacity(text.len() / 24);
    let mut start = 0;
    for newline in memchr::memchr_iter(b'\n', text.as_bytes()) {
        lines.push(Line::new(&text[start..newline]));
        start = newline + 1;
    }
    lines.push(Line::new(&text[start..]));
    let mut p = Parser { lines, pos: 0 };
    p.skip_blank();
    let first = p.current()?;
    if first.indent != 0 || first.text.starts_with("- ") || first.text == "-" {
        return None;
    }
    let value = p.mapping(0)?;
    p.skip_blank();
    if p.pos < p.lines.len() {
        return None;
    }
    Some(value)
}

#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    /// The line without its indentation and trailing spaces.
    text: &'a str,
    /// The whole line, for block scalars.
    raw: &'a str,
}

impl<'a> Line<'a> {
    fn new(raw: &'a str) -> Line<'a> {
        let unindented = raw.trim_start_matches(' ');
        Line {
            indent: raw.len() - unindented.len(),
            text: trim_end_spaces(unindented),
            raw,
        }
    }

    /// Nothing but spaces (tabs never reach the parser).
    fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    fn is_blank(&self) -> bool {
        self.text.is_empty() || self.text.starts_with('#')
    }
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn current(&self) -> Option<Line<'a>> {
        self.lines.get(self.pos).copied()
    }

    fn skip_blank(&mut self) {
        while self.current().is_some_and(|l| l.is_blank()) {
            self.pos += 1;
        }
    }

    /// The next content line (blank lines and comments skipped).
    fn peek(&mut self) -> Option<Line<'a>> {
        self.skip_blank();
        self.current()
    }

    /// A block mapping whose keys are at column `indent`.
    fn mapping(&mut self, indent: usize) -> Option<Value> {
        self.mapping_into(Map::new(), indent).map(Value::Object)
    }

    /// The keys at column `indent`, added to `map` (which may hold a first
    /// key that shared a sequence item's line).
    fn mapping_into(
        &mut self,
        mut map: Map<String, Value>,
        indent: usize,
    ) -> Option<Map<String, Value>> {
        while let Some(line) = self.peek() {
            if line.indent < indent {
                break;
            }
            // More indented, or a sequence item among the keys: not the
            // subset (or not YAML).
            if line.indent > indent || is_sequence_item(line.text) {
                return None;
            }
            self.pos += 1;
            let (key, rest) = split_key(line.text)?;
            let value = self.value_after_key(rest, indent)?;
            if map.insert(key, value).is_some() {
                return None; // duplicate keys: the full parser decides
            }
        }
        Some(map)
    }

    /// The value of `key: rest` in a mapping at column `indent`.
    fn value_after_key(&mut self, rest: &'a str, indent: usize) -> Option<Value> {
        let rest = strip_comment_after_indicator(rest)?;
        if rest.is_empty() {
            // The value is on the lines below: more indented, or a sequence
            // at the key's own indentation (go-yaml's style).
            return match self.peek() {
                Some(next) if next.indent > indent => self.node(next.indent),
                Some(next) if next.indent == indent && is_sequence_item(next.text) => {
                    self.sequence(indent)
                }
                _ => Some(Value::Null),
            };
        }
        self.inline_value(rest, indent)
    }

    /// A value that starts on the current line: `rest` is what follows
    /// `key: ` or `- `, and `parent` the indentation of the node that holds it.
    fn inline_value(&mut self, rest: &'a str, parent: usize) -> Option<Value> {
        match rest.as_bytes()[0] {
            b'|' => self.literal(rest, parent),
            b'"' => self.single_line(double_quoted(rest)?, parent),
            b'\'' => self.single_line(single_quoted(rest)?, parent),
            b'[' | b'{' => {
                let v = match rest {
                    "[]" => Value::Array(Vec::new()),
                    "{}" => Value::Object(Map::new()),
                    _ => return None,
                };
                self.single_line(v, parent)
            }
            _ => self.plain(rest, parent),
        }
    }

    /// A one-line value must not be followed by more-indented lines.
    fn single_line(&mut self, value: Value, parent: usize) -> Option<Value> {
        match self.peek() {
            Some(next) if next.indent > parent => None,
            _ => Some(value),
        }
    }

    /// A plain scalar, folded over the more-indented lines that follow it.
    fn plain(&mut self, first: &'a str, parent: usize) -> Option<Value> {
        let first = plain_text(first)?;
        let mut folded: Option<String> = None;
        let mut pending_newlines = 0;
        while let Some(line) = self.current() {
            if line.is_empty() {
                pending_newlines += 1;
                self.pos += 1;
                continue;
            }
            if line.indent <= parent || line.text.starts_with('#') {
                break;
            }
            let more = plain_text(line.text)?;
            let s = folded.get_or_insert_with(|| first.to_string());
            if pending_newlines == 0 {
                s.push(' ');
            } else {
                s.extend(std::iter::repeat_n('\n', pending_newlines));
            }
            s.push_str(more);
            pending_newlines = 0;
            self.pos += 1;
        }
        if pending_newlines > 0 {
            // Blank lines after the scalar belong to nothing; put them back
            // so line positions stay right for the caller.
            self.pos -= pending_newlines;
        }
        match folded {
            Some(s) => Some(Value::String(s)),
            None => resolve_plain(first),
        }
    }

    /// `|`, `|-`, `|+`, optionally with an indentation digit.
    fn literal(&mut self, header: &'a str, parent: usize) -> Option<Value> {
        let header = strip_comment_after_indicator(header)?;
        let mut chomp = Chomp::Clip;
        let mut explicit = None;
        for c in header[1..].chars() {
            match c {
                '-' if chomp == Chomp::Clip => chomp = Chomp::Strip,
                '+' if chomp == Chomp::Clip => chomp = Chomp::Keep,
                '1'..='9' if explicit.is_none() => explicit = Some(c as usize - '0' as usize),
                _ => return None,
            }
        }
        // The content's indentation: given, or that of its first non-blank line.
        let content_indent = match explicit {
            Some(n) => parent + n,
            None => {
                let first = self.lines[self.pos..].iter().find(|l| !l.is_empty())?;
                if first.indent <= parent {
                    // An empty block scalar.
                    return Some(Value::String(match chomp {
                        Chomp::Keep => "\n".repeat(self.count_blank_lines()),
                        _ => String::new(),
                    }));
                }
                first.indent
            }
        };
        let mut out = String::new();
        let mut trailing_blank = 0;
        while let Some(line) = self.current() {
            let blank = line.is_empty();
            if !blank && line.indent < content_indent {
                if line.indent > parent {
                    return None; // less indented than its content: malformed
                }
                break;
            }
            if self.pos == self.lines.len() - 1 && line.raw.is_empty() {
                // The empty string after the text's final newline.
                self.pos += 1;
                break;
            }
            self.pos += 1;
            if blank && line.raw.len() <= content_indent {
                trailing_blank += 1;
                continue;
            }
            for _ in 0..trailing_blank {
                out.push('\n');
            }
            trailing_blank = 0;
            out.push_str(&line.raw[content_indent..]);
            out.push('\n');
        }
        match chomp {
            Chomp::Strip => {
                if out.ends_with('\n') {
                    out.pop();
                }
            }
            Chomp::Clip => {}
            Chomp::Keep => out.extend(std::iter::repeat_n('\n', trailing_blank)),
        }
        if chomp == Chomp::Clip && out.is_empty() {
            return Some(Value::String(String::new()));
        }
        // Blank lines after a clipped/stripped scalar are not its content;
        // leave them for the caller's position (they are skipped anyway).
        Some(Value::String(out))
    }

    fn count_blank_lines(&mut self) -> usize {
        let mut n = 0;
        while self
            .current()
            .is_some_and(|l| l.is_empty() && self.pos + 1 < self.lines.len())
        {
            n += 1;
            self.pos += 1;
        }
        n
    }

    /// A node that starts on a line of its own, at column `indent`.
    fn node(&mut self, indent: usize) -> Option<Value> {
        let line = self.peek()?;
        if is_sequence_item(line.text) {
            self.sequence(indent)
        } else if split_key(line.text).is_some() {
            self.mapping(indent)
        } else {
            None // a scalar on its own line: the full parser decides
        }
    }

    /// A block sequence whose dashes are at column `indent`.
    fn sequence(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent < indent || (line.indent == indent && !is_sequence_item(line.text)) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            self.pos += 1;
            let after = &line.text[1..];
            let content = after.trim_start_matches(' ');
            let content_col = indent + 1 + (after.len() - content.len());
            let content = strip_comment_after_indicator(content)?;
            if content.is_empty() {
                items.push(match self.peek() {
                    Some(next) if next.indent > indent => self.node(next.indent)?,
                    _ => Value::Null,
                });
                continue;
            }
            if is_sequence_item(content) {
                return None; // `- - x`
            }
            if content.starts_with('|') && content.bytes().any(|b| b.is_ascii_digit()) {
                return None; // an indentation indicator relative to a dash
            }
            if let Some((key, rest)) = split_key(content) {
                // A mapping whose first key shares the dash's line.
                let mut map = Map::new();
                let value = self.value_after_key(rest, content_col)?;
                map.insert(key, value);
                items.push(Value::Object(self.mapping_into(map, content_col)?));
                continue;
            }
            items.push(self.inline_value(content, indent)?);
        }
        Some(Value::Array(items))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

fn is_sequence_item(text: &str) -> bool {
    text.starts_with("- ") || trim_end_spaces(text) == "-"
}

/// `key: rest` (or `key:` at the end of the line): the key as a string and
/// what follows the colon. Keys a schema could read as something other
/// than a string, and anything fancy (anchors, tags, merge keys, complex
/// keys), are refused.
fn split_key(text: &str) -> Option<(String, &str)> {
    let bytes = text.as_bytes();
    let (key, after) = match bytes.first()? {
        b'"' | b'\'' => {
            let (value, len) = if bytes[0] == b'"' {
                double_quoted_len(text)?
            } else {
                single_quoted_len(text)?
            };
            let Value::String(key) = value else {
                return None;
            };
            let after = text[len..].strip_prefix(':')?;
            (key, after)
        }
        _ => {
            let colon = find_key_colon(text)?;
            let key = trim_end_spaces(&text[..colon]);
            if key.is_empty() || starts_with_indicator(key) || key == "<<" {
                return None;
            }
            match resolve_plain(key)? {
                Value::String(s) => (s, &text[colon + 1..]),
                _ => return None,
            }
        }
    };
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    Some((key, after.trim_start_matches(' ')))
}

/// The colon that ends a plain key: the first `: ` or a final `:`.
fn find_key_colon(text: &str) -> Option<usize> {
    let bytes = trim_end_spaces(text).as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && i > 0 && bytes[i - 1] == b' ' {
            return None; // a comment before any colon
        }
        if b == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' ') {
            return Some(i);
        }
    }
    None
}

fn starts_with_indicator(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        // `-x` and `--flag` are plain scalars; `- ` starts a sequence item.
        Some(b'-') => b.len() == 1 || b[1] == b' ',
        Some(
            b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
            | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`',
        ) => true,
        _ => false,
    }
}

/// What is left of a value's line after an optional ` # comment`, trimmed;
/// `None` when the text holds something the subset does not read.
fn strip_comment_after_indicator(rest: &str) -> Option<&str> {
    let rest = trim_end_spaces(rest);
    if rest.starts_with('#') {
        return Some("");
    }
    if rest.starts_with(['&', '*', '!', '>', '?', '%', '@', '`']) {
        return None;
    }
    Some(rest)
}

/// A plain scalar's text on one line (comment removed), or `None` if it is
/// not a plain scalar the subset reads.
fn plain_text(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut end = bytes.len();
    for i in memchr::memchr2_iter(b'#', b':', bytes) {
        if bytes[i] == b'#' {
            if i > 0 && bytes[i - 1] == b' ' {
                end = i;
                break;
            }
        } else if bytes.get(i + 1) == Some(&b' ') {
            return None; // `a: b` would be a mapping
        }
    }
    let t = trim_spaces(&text[..end]);
    if t.is_empty() || starts_with_indicator(t) || t.ends_with(':') {
        return None;
    }
    Some(t)
}

/// YAML's white space is spaces and tabs, and tabs never reach the parser;
/// `str::trim` would also strip Unicode spaces such as U+00A0, which are
/// content in YAML.
fn trim_spaces(s: &str) -> &str {
    trim_end_spaces(s).trim_start_matches(' ')
}

fn trim_end_spaces(s: &str) -> &str {
    let b = s.as_bytes();
    let mut end = b.len();
    while end > 0 && b[end - 1] == b' ' {
        end -= 1;
    }
    // Cutting ASCII spaces keeps a char boundary.
    &s[..end]
}

/// The type of a plain scalar. Only forms every YAML schema reads the same
/// way are decided here: `null`, `~`, `true`, `false`, plain decimal integers
/// and decimals with a fraction; everything a schema might read as a number,
/// boolean or null in another spelling gives `None`.
fn resolve_plain(s: &str) -> Option<Value> {
    match s {
        "" | "~" | "null" => return Some(Value::Null),
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    // Other spellings of null and booleans (YAML 1.1 reads yes/no/on/off).
    // Compared without allocating: this runs for every key and scalar.
    if s.len() <= 5
        && ["null", "true", "false", "yes", "no", "on", "off", "y", "n"]
            .iter()
            .any(|w| s.eq_ignore_ascii_case(w))
    {
        return None;
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    let decimal = |d: &str| {
        !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) && (d == "0" || !d.starts_with('0'))
    };
    if decimal(digits) {
        return s.parse::<i64>().ok().map(|n| Value::Number(n.into()));
    }
    // Most scalars are words: only one that starts with a digit can be a decimal.
    if digits.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && let Some((int, frac)) = digits.split_once('.')
        && decimal(int)
        && !frac.is_empty()
        && frac.bytes().all(|b| b.is_ascii_digit())
    {
        return s
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number);
    }
    if numberish(s) {
        return None;
    }
    Some(Value::String(s.to_string()))
}

/// Whether some YAML schema could read `s` as a number (with `_`, exponents,
/// hex/octal/binary prefixes, a leading `+` or `.`, sexagesimal, inf/nan).
fn numberish(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let Some(first) = body.bytes().next() else {
        return false;
    };
    if !(first.is_ascii_digit() || first == b'.') {
        return false;
    }
    if body.eq_ignore_ascii_case(".inf") || body.eq_ignore_ascii_case(".nan") {
        return true;
    }
    let b = body.as_bytes();
    // Prefixed integers: every character a hex digit, `_` or the prefix.
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'x' | b'o' | b'b') {
        return b[2..].iter().all(|c| c.is_ascii_hexdigit() || *c == b'_');
    }
    // Decimal forms: digits, `_`, `.`, `:`, and an exponent.
    let mut seen_e = false;
    for (i, &c) in b.iter().enumerate() {
        match c.to_ascii_lowercase() {
            b'0'..=b'9' | b'_' | b'.' | b':' => {}
            b'e' if !seen_e => seen_e = true,
            b'+' | b'-' if i > 0 && b[i - 1].eq_ignore_ascii_case(&b'e') => {}
            _ => return false,
        }
    }
    true
}

/// A double-quoted scalar that closes on its line, followed by nothing but
/// a comment.
fn double_quoted(text: &str) -> Option<Value> {
    let (value, len) = double_quoted_len(text)?;
    strip_comment_after_indicator(&text[len..]).filter(|r| r.is_empty())?;
    Some(value)
}

fn single_quoted(text: &str) -> Option<Value> {
    let (value, len) = single_quoted_len(text)?;
    strip_comment_after_indicator(&text[len..]).filter(|r| r.is_empty())?;
    Some(value)
}

/// A double-quoted scalar at the start of `text`: its value and length.
fn double_quoted_len(text: &str) -> Option<(Value, usize)> {
    // Most quoted scalars (timestamps, digests, "True") have no escapes.
    if let Some(end) = memchr::memchr2(b'"', b'\\', &text.as_bytes()[1..])
        && text.as_bytes()[1 + end] == b'"'
    {
        return Some((Value::String(text[1..1 + end].to_string()), end + 2));
    }
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((Value::String(out), i + 1)),
            '\\' => {
                let (_, e) = chars.next()?;
                let hex = |chars: &mut std::iter::Skip<std::str::CharIndices<'_>>, n: usize| {
                    let mut v = 0u32;
                    for _ in 0..n {
                        v = v * 16 + chars.next()?.1.to_digit(16)?;
                    }
                    char::from_u32(v)
                };
                out.push(match e {
                    '\\' => '\\',
                    '"' => '"',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    'a' => '\x07',
                    'b' => '\x08',
                    'e' => '\x1b',
                    'f' => '\x0c',
                    'v' => '\x0b',
                    ' ' => ' ',
                    'x' => hex(&mut chars, 2)?,
                    'u' => hex(&mut chars, 4)?,
                    'U' => hex(&mut chars, 8)?,
                    _ => return None,
                });
            }
            _ => out.push(c),
        }
    }
    None // not closed on this line
}

/// A single-quoted scalar at the start of `text`: its value and length.
fn single_quoted_len(text: &str) -> Option<(Value, usize)> {
    let mut out = String::new();
    let bytes = text.as_bytes();
    let mut i = 1;
    let mut start = 1;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            out.push_str(&text[start..i]);
            if bytes.get(i + 1) == Some(&b'\'') {
                out.push('\'');
                i += 2;
                start = i;
                continue;
            }
            return Some((Value::String(out), i + 1));
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full parser, for comparison.
    fn full(text: &str) -> Option<Value> {
        serde_saphyr::from_str::<Value>(text).ok()
    }

    /// The fast path either declines or agrees with the full parser.
    fn agrees(text: &str) -> bool {
        match parse(text) {
            None => false,
            Some(fast) => {
                assert_eq!(Some(&fast), full(text).as_ref(), "on:\n{text}");
                true
            }
        }
    }

    #[test]
    fn reads_what_kubectl_writes() {
        let doc = "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  annotations:\n    a.b/c: \"x: y\"\n  labels: {}\n  name: t\n  generation: 1\nspec:\n  params:\n  - name: IMAGE\n    value: gcr.io/x/y\n  - name: ARGS\n    value:\n    - --flag\n    - 'it''s'\n  steps:\n  - name: build\n    script: |\n      #!/bin/sh\n      echo hi   # not a comment\n\n      exit 0\n    image: alpine\n  - script: |-\n      one\n    args: []\nstatus:\n  conditions:\n  - message: All Steps have completed executing and the quick brown fox jumps\n      over the lazy dog\n    status: \"True\"\n    ratio: 0.5\n    count: -3\n    empty:\n    nothing: null\n";
        assert!(agrees(doc));
    }

    #[test]
    fn declines_what_a_schema_might_read_otherwise() {
        for scalar in [
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "tRue",
            "0x1F",
            "0o17",
            "017",
            "+1",
            "1_000",
            "1e5",
            ".5",
            "1.",
            ".inf",
            "-.inf",
            ".nan",
            "1234e567",
            "1:20",
            "12345678901234567890",
            "0X1F",
            "1E5",
            "1e+5",
            ".INF",
        ] {
            assert!(parse(&format!("k: {scalar}\n")).is_none(), "{scalar}");
        }
        for doc in [
            "k: &a 1\n",
            "k: *a\n",
            "k: !!str 1\n",
            "<<: {a: 1}\n",
            "k: [1, 2]\n",
            "k: >\n  folded\n",
            "k: \"open\n  quote\"\n",
            "- a\n",
            "k:\tv\n",
            "? complex\n: key\n",
            "k: v\nk: w\n",
        ] {
            assert!(parse(doc).is_none(), "{doc:?}");
        }
    }

    #[test]
    fn agrees_on_strings_numbers_and_hex() {
        for doc in [
            "k: 9f2c1e4b7a8d3f6e5c0b1a2d3e4f5a6b7c8d9e0f\n",
            "k: 2026-11-20T10:16:41Z\n",
            "k: 1h0m0s\n",
            "k: a:b\n",
            "k: a #b\n",
            "k: 0\n",
            "k: -0.25\n",
            "k: \"\\u00e9\\n\\t\\\"\"\n",
            "k: 'a # b'\n",
            "k: |+\n  keep\n\n",
            "k: |2-\n    indented\n   first\n",
            "list:\n- - nested\n",
            "k:\n  - a\n  -\n  - b: 1\n    c: 2\n",
            "sha256:abc: x\n",
            // U+00A0 is content in YAML, not white space.
            "k: a\u{a0}\n",
            "k: \u{a0}a\n",
            "k: |\n  x\u{a0}\n  \u{a0}\n",
            "k:\n- a: 1\n  a: 2\n",
            "k:\n- a: 1\n  b: 2\n- c: 3\n",
        ] {
            let _ = agrees(doc);
        }
    }

    #[test]
    fn every_yaml_file_in_the_repository_agrees() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut read = 0;
        let mut stack = vec![root.join("testdata"), root.join("deploy")];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    for doc in text.split("\n---\n") {
                        if full(doc).is_some_and(|v| v.is_object()) && agrees(doc) {
                            read += 1;
                        }
                    }
                }
            }
        }
        assert!(
            read >= 3,
            "the fast path read only {read} repository documents"
        );
        // A corpus of generated runs, when one is around (`cargo bench` makes it).
        if let Ok(dir) = std::env::var("CHAINS_YAML_CORPUS") {
            let mut fast = 0;
            let mut all = 0;
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let text = std::fs::read_to_string(e.path()).unwrap();
                all += 1;
                if agrees(&text) {
                    fast += 1;
                }
            }
            eprintln!("corpus: fast path read {fast} of {all}");
        }
    }
}
