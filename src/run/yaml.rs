//! A fast path for the YAML Kubernetes writes, and the full parser behind it.
//!
//! `kubectl get -o yaml` (sigs.k8s.io/yaml over go-yaml's emitter) writes
//! block mappings with sorted keys, sequences at their key's indentation,
//! plain scalars folded at 80 columns, single- and double-quoted scalars
//! (folded too, with escapes), literal block scalars (`|`, `|-`, `|+`, with
//! an indentation digit when the text starts with a space), and empty `{}`
//! and `[]`. Reading that subset line by line is many times faster than a
//! general YAML parser (a 27 KB TaskRun: about 0.1 ms here against about
//! 0.8 ms), and YAML parsing was most of attest's time. Anything outside the
//! subset (anchors, aliases, tags, flow collections with content, complex
//! keys, folded `>` scalars, tabs, control characters, line breaks other than
//! LF), and any plain scalar the full parser could type differently (`yes`,
//! `0x1F`, `017`, `.inf`, ...), makes [`parse`] give up, and [`full`] reads
//! the document: both always agree on what they both accept (differential
//! tests check this construct by construct and on ../shared/corpus).
//!
//! The fast path keeps open collections on an explicit stack, so no input
//! can exhaust the call stack; it gives up beyond [`MAX_DEPTH`] levels, and
//! the full parser runs with the same limit in its budget, so a too-deep
//! document is an error (with its line) instead of a crash.

use serde_json::{Map, Number, Value};

/// The deepest nesting of mappings and sequences either parser reads.
/// serde-saphyr's default budget (64) set explicitly, so that both parsers
/// stop at the same depth; Tekton runs nest about 12 levels deep, and
/// deeper values would also strain the recursive walks that serialize them.
pub const MAX_DEPTH: usize = 64;

/// The document as JSON: the fast path when the document is in its subset,
/// otherwise the full parser.
pub fn from_str(text: &str) -> Result<Value, serde_saphyr::Error> {
    match parse(text) {
        Some(value) => Ok(value),
        None => full(text),
    }
}

/// The full parser (serde-saphyr) with a budget that bounds nesting to
/// [`MAX_DEPTH`] (its deserializer recurses per level). Its limits on nodes,
/// events and scalar bytes guard against alias expansion; they grow with
/// the text, which is already in memory, so that a large `List` is not
/// refused for its size.
pub fn full(text: &str) -> Result<Value, serde_saphyr::Error> {
    let defaults = serde_saphyr::Budget::default();
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_nodes: defaults.max_nodes.max(text.len() / 2),
            max_events: defaults.max_events.max(text.len()),
            max_total_scalar_bytes: defaults.max_total_scalar_bytes.max(text.len()),
        },
    };
    serde_saphyr::from_str_with_options(text, options)
}

/// The document as JSON, or `None` when it is not in the subset (the
/// caller then runs [`full`]). A document's root must be a mapping.
pub fn parse(text: &str) -> Option<Value> {
    if has_special_characters(text.as_bytes()) {
        return None;
    }
    let mut lines: Vec<Line<'_>> = Vec::with_capacity(text.len() / 24);
    let mut start = 0;
    for newline in memchr::memchr_iter(b'\n', text.as_bytes()) {
        lines.push(Line::new(&text[start..newline]));
        start = newline + 1;
    }
    lines.push(Line::new(&text[start..]));
    Parser { lines, pos: 0 }.document()
}

/// Characters with rules of their own: tabs (may not indent), CR, NEL,
/// LS and PS (line breaks to some YAML versions), other control characters
/// (refused by the full parser) and byte order marks.
fn has_special_characters(bytes: &[u8]) -> bool {
    // One branch-free pass the compiler vectorizes.
    let controls = bytes.iter().fold(false, |found, &b| {
        found | ((b < 0x20 && b != b'\n') | (b == 0x7f))
    });
    if controls {
        return true;
    }
    // Multi-byte characters that matter start with these (rare) lead bytes.
    memchr::memchr3_iter(0xc2, 0xe2, 0xef, bytes).any(|i| {
        let next = |k: usize| bytes.get(i + k).copied().unwrap_or(0);
        match bytes[i] {
            0xc2 => next(1) < 0xa0, // C1 controls, NEL
            0xe2 => next(1) == 0x80 && matches!(next(2), 0xa8 | 0xa9),
            _ => next(1) == 0xbb && next(2) == 0xbf, // U+FEFF
        }
    })
}

#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    /// The line without its indentation and trailing spaces.
    text: &'a str,
    /// The whole line, for block and quoted scalars.
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

    /// The line after its indentation, trailing spaces kept.
    fn content(&self) -> &'a str {
        &self.raw[self.indent..]
    }
}

/// A collection still open, with what it has read so far.
enum Frame {
    /// A block mapping whose keys are at column `indent`; `key` is the key
    /// whose value is the collection above this frame on the stack.
    Map {
        indent: usize,
        map: Map<String, Value>,
        key: String,
    },
    /// A block sequence whose dashes are at column `indent`.
    Seq { indent: usize, items: Vec<Value> },
}

impl Frame {
    fn map(indent: usize) -> Frame {
        Frame::Map {
            indent,
            map: Map::new(),
            key: String::new(),
        }
    }

    fn seq(indent: usize) -> Frame {
        Frame::Seq {
            indent,
            items: Vec::new(),
        }
    }

    /// Whether a content line belongs to this collection (its next key or item).
    fn takes(&self, line: &Line<'_>) -> bool {
        match self {
            Frame::Map { indent, .. } => line.indent == *indent && !is_sequence_item(line.text),
            Frame::Seq { indent, .. } => line.indent == *indent && is_sequence_item(line.text),
        }
    }

    fn indent(&self) -> usize {
        match self {
            Frame::Map { indent, .. } | Frame::Seq { indent, .. } => *indent,
        }
    }

    fn into_value(self) -> Value {
        match self {
            Frame::Map { map, .. } => Value::Object(map),
            Frame::Seq { items, .. } => Value::Array(items),
        }
    }
}

/// What follows a key or a dash: a value read whole, or a collection that
/// starts on the next line.
enum Node {
    Value(Value),
    Open(Frame),
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn current(&self) -> Option<Line<'a>> {
        self.lines.get(self.pos).copied()
    }

    /// The next content line (blank lines and comments skipped).
    fn peek(&mut self) -> Option<Line<'a>> {
        while self.current().is_some_and(|l| l.is_blank()) {
            self.pos += 1;
        }
        self.current()
    }

    /// The whole document: a block mapping at column 0.
    fn document(mut self) -> Option<Value> {
        let first = self.peek()?;
        if first.indent != 0 || is_sequence_item(first.text) {
            return None;
        }
        let mut stack = vec![Frame::map(0)];
        while let Some(line) = self.peek() {
            if line.indent == 0 && line.text == "..." {
                // A document end marker may end the text.
                self.pos += 1;
                if self.peek().is_some() {
                    return None;
                }
                break;
            }
            // Close the collections the line is outside of.
            while !stack.last()?.takes(&line) {
                let top = stack.last()?;
                if line.indent > top.indent()
                    || (line.indent == top.indent() && matches!(top, Frame::Map { .. }))
                {
                    // More indented than a key or item should be, or a
                    // sequence item among keys: not the subset (or not YAML).
                    return None;
                }
                close(&mut stack)?;
            }
            self.pos += 1;
            match stack.last()? {
                Frame::Map { indent, .. } => {
                    let indent = *indent;
                    self.entry(line.text, indent, &mut stack)?;
                }
                Frame::Seq { .. } => self.item(line, &mut stack)?,
            }
        }
        while stack.len() > 1 {
            close(&mut stack)?;
        }
        stack.pop().map(Frame::into_value)
    }

    /// `key: rest` in the mapping on top of the stack, whose keys are at
    /// column `indent`.
    fn entry(&mut self, text: &'a str, indent: usize, stack: &mut Vec<Frame>) -> Option<()> {
        let (key, rest) = split_key(text)?;
        self.entry_split(key, rest, indent, stack)
    }

    /// [`Self::entry`] with the line already split at its colon.
    fn entry_split(
        &mut self,
        key: String,
        rest: &'a str,
        indent: usize,
        stack: &mut Vec<Frame>,
    ) -> Option<()> {
        let node = self.value_after_key(rest, indent)?;
        let Some(Frame::Map { map, key: open, .. }) = stack.last_mut() else {
            return None;
        };
        match node {
            Node::Value(value) => {
                if map.insert(key, value).is_some() {
                    return None; // duplicate keys: the full parser decides
                }
            }
            Node::Open(frame) => {
                *open = key;
                push(stack, frame)?;
            }
        }
        Some(())
    }

    /// The value of `key: rest` in a mapping at column `indent`.
    fn value_after_key(&mut self, rest: &'a str, indent: usize) -> Option<Node> {
        let rest = strip_comment_after_indicator(rest)?;
        if !rest.is_empty() {
            return self.inline_value(rest, indent).map(Node::Value);
        }
        // The value is on the lines below: more indented, or a sequence at
        // the key's own indentation (go-yaml's style).
        match self.peek() {
            Some(next) if next.indent > indent => self.collection_at(next).map(Node::Open),
            Some(next) if next.indent == indent && is_sequence_item(next.text) => {
                Some(Node::Open(Frame::seq(indent)))
            }
            _ => Some(Node::Value(Value::Null)),
        }
    }

    /// The collection that `line`, the next line, starts.
    fn collection_at(&self, line: Line<'a>) -> Option<Frame> {
        if is_sequence_item(line.text) {
            Some(Frame::seq(line.indent))
        } else if split_key(line.text).is_some() {
            Some(Frame::map(line.indent))
        } else {
            None // a scalar on its own line: the full parser decides
        }
    }

    /// `- rest` in the sequence on top of the stack.
    fn item(&mut self, line: Line<'a>, stack: &mut Vec<Frame>) -> Option<()> {
        let mut dash = line.indent;
        let mut text = line.text;
        loop {
            let after = &text[1..];
            let content = after.trim_start_matches(' ');
            let column = dash + 1 + (after.len() - content.len());
            let content = strip_comment_after_indicator(content)?;
            let node = if content.is_empty() {
                match self.peek() {
                    Some(next) if next.indent > dash => Node::Open(self.collection_at(next)?),
                    _ => Node::Value(Value::Null),
                }
            } else if is_sequence_item(content) {
                // `- - x`: a sequence in a sequence, on the same line.
                push(stack, Frame::seq(column))?;
                dash = column;
                text = content;
                continue;
            } else if let Some((key, rest)) = split_key(content) {
                // A mapping whose first key shares the dash's line.
                push(stack, Frame::map(column))?;
                return self.entry_split(key, rest, column, stack);
            } else {
                Node::Value(self.inline_value(content, dash)?)
            };
            let Some(Frame::Seq { items, .. }) = stack.last_mut() else {
                return None;
            };
            match node {
                Node::Value(value) => items.push(value),
                Node::Open(frame) => push(stack, frame)?,
            }
            return Some(());
        }
    }

    /// A value that starts on the current line: `rest` is what follows
    /// `key: ` or `- `, and `parent` the indentation of the collection that
    /// holds it (its continuation lines are more indented).
    fn inline_value(&mut self, rest: &'a str, parent: usize) -> Option<Value> {
        match rest.as_bytes()[0] {
            b'|' => self.literal(rest, parent),
            b'"' => self.quoted(rest, parent, scan_double),
            b'\'' => self.quoted(rest, parent, scan_single),
            b'[' | b'{' => match rest {
                "[]" => Some(Value::Array(Vec::new())),
                "{}" => Some(Value::Object(Map::new())),
                _ => None,
            },
            _ => self.plain(rest, parent),
        }
    }

    /// A plain scalar, folded over the more-indented lines that follow it.
    fn plain(&mut self, first: &'a str, parent: usize) -> Option<Value> {
        let (first, mut ended) = plain_text(first, true)?;
        let mut folded: Option<String> = None;
        let mut pending_newlines = 0;
        while let Some(line) = self.current() {
            if ended {
                break; // a comment ends a plain scalar
            }
            if line.is_empty() {
                pending_newlines += 1;
                self.pos += 1;
                continue;
            }
            if line.indent <= parent || line.text.starts_with('#') {
                break;
            }
            let (more, comment) = plain_text(line.text, false)?;
            ended = comment;
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
            // so that line positions stay right for the caller.
            self.pos -= pending_newlines;
        }
        match folded {
            Some(s) => Some(Value::String(s)),
            None => resolve_plain(first),
        }
    }

    /// A single- or double-quoted scalar, which may go on over the next
    /// lines: each line break folds to a space, or to one line feed per
    /// empty line after it; white space around a break is dropped (in
    /// double quotes, `\` before the break joins the lines without a space).
    fn quoted(&mut self, rest: &'a str, parent: usize, scan: Scanner) -> Option<Value> {
        let mut out = String::new();
        let mut segment = &rest[1..];
        // `rest` lost the line's trailing spaces, which matter only after
        // a final `\` (an escaped space, not an escaped line break).
        if rest.ends_with('\\')
            && self
                .lines
                .get(self.pos.wrapping_sub(1))
                .is_none_or(|l| l.raw.ends_with(' '))
        {
            return None;
        }
        loop {
            match scan(segment, &mut out)? {
                Scan::Closed(end) => {
                    // Nothing but a comment may follow on the line.
                    let after = &segment[end..];
                    let after_trimmed = after.trim_start_matches(' ');
                    let comment =
                        after_trimmed.starts_with('#') && after_trimmed.len() < after.len();
                    if !after_trimmed.is_empty() && !comment {
                        return None;
                    }
                    return Some(Value::String(out));
                }
                Scan::LineEnd { escaped_break } => {
                    let mut empty = 0;
                    let next = loop {
                        let line = self.current()?; // never closed
                        self.pos += 1;
                        if !line.is_empty() {
                            break line;
                        }
                        empty += 1;
                    };
                    if next.indent <= parent {
                        return None;
                    }
                    if empty > 0 {
                        out.extend(std::iter::repeat_n('\n', empty));
                    } else if !escaped_break {
                        out.push(' ');
                    }
                    segment = next.content();
                }
            }
        }
    }

    /// `|`, `|-`, `|+`, optionally with an indentation digit.
    fn literal(&mut self, header: &'a str, parent: usize) -> Option<Value> {
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
                // Leading empty lines longer than the content's indentation
                // are an error to the full parser.
                if self.lines[self.pos..]
                    .iter()
                    .take_while(|l| l.is_empty())
                    .any(|l| l.raw.len() > first.indent)
                {
                    return None;
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
}

/// Open a collection, unless that nests deeper than [`MAX_DEPTH`].
fn push(stack: &mut Vec<Frame>, frame: Frame) -> Option<()> {
    if stack.len() >= MAX_DEPTH {
        return None;
    }
    stack.push(frame);
    Some(())
}

/// Close the collection on top of the stack into the one below it.
fn close(stack: &mut Vec<Frame>) -> Option<()> {
    let value = stack.pop()?.into_value();
    match stack.last_mut()? {
        Frame::Map { map, key, .. } => {
            if map.insert(std::mem::take(key), value).is_some() {
                return None;
            }
        }
        Frame::Seq { items, .. } => items.push(value),
    }
    Some(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

fn is_sequence_item(text: &str) -> bool {
    text.starts_with("- ") || text == "-"
}

/// `key: rest` (or `key:` at the end of the line): the key as a string and
/// what follows the colon. Keys a schema could read as something other
/// than a string, and anything fancy (anchors, tags, merge keys, complex
/// keys, quoted keys over several lines), are refused.
fn split_key(text: &str) -> Option<(String, &str)> {
    let (key, after) = match text.as_bytes().first()? {
        quote @ (b'"' | b'\'') => {
            let mut key = String::new();
            let scan = if *quote == b'"' {
                scan_double
            } else {
                scan_single
            };
            let Scan::Closed(len) = scan(&text[1..], &mut key)? else {
                return None;
            };
            (key, text[1 + len..].strip_prefix(':')?)
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
    let bytes = text.as_bytes();
    for i in memchr::memchr2_iter(b':', b'#', bytes) {
        if bytes[i] == b'#' {
            if i > 0 && bytes[i - 1] == b' ' {
                return None; // a comment before any colon
            }
        } else if i + 1 == bytes.len() || bytes[i + 1] == b' ' {
            return Some(i);
        }
    }
    None
}

fn starts_with_indicator(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        // `-x`, `--flag`, `:x` and `?x` are plain scalars; `- ` starts a
        // sequence item, `? ` a complex key, `: ` its value.
        Some(b'-' | b'?' | b':') => b.len() == 1 || b[1] == b' ',
        Some(
            b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
            | b'"' | b'%' | b'@' | b'`',
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
    if rest.starts_with(['&', '*', '!', '>', '%', '@', '`'])
        || rest == "?"
        || rest.starts_with("? ")
    {
        return None;
    }
    Some(rest)
}

/// A plain scalar's text on one line, without a trailing comment, and
/// whether there was one; `None` if it is not a plain scalar the subset
/// reads. A first line may not start with an indicator; a continuation
/// line may, except for those that would end the scalar.
fn plain_text(text: &str, first: bool) -> Option<(&str, bool)> {
    let bytes = text.as_bytes();
    let mut end = bytes.len();
    let mut comment = false;
    for i in memchr::memchr2_iter(b'#', b':', bytes) {
        if bytes[i] == b'#' {
            if i > 0 && bytes[i - 1] == b' ' {
                end = i;
                comment = true;
                break;
            }
        } else if bytes.get(i + 1) == Some(&b' ') {
            return None; // `a: b` would be a mapping
        }
    }
    let t = trim_spaces(&text[..end]);
    let refused = if first {
        starts_with_indicator(t)
    } else {
        t.starts_with(['#', ':'])
    };
    if t.is_empty() || refused || t.ends_with(':') {
        return None;
    }
    Some((t, comment))
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

/// The type of a plain scalar as the full parser gives it, for the forms
/// go-yaml writes: `null`, `~`, `true`, `false`, decimal integers, and
/// decimals with a fraction and/or an exponent (`0.5`, `1e+06`). Spellings
/// the full parser reads as something else (`yes`, `y`, `017`, `1_000`,
/// `0x1F`, `+1`, `.5`, ...) give `None`: the full parser decides.
fn resolve_plain(s: &str) -> Option<Value> {
    match s {
        "~" | "null" => return Some(Value::Null),
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    // Other spellings of null and booleans (YAML 1.1's yes/no/on/off/y/n).
    // Compared without allocating: this runs for every key and scalar.
    if s.len() <= 5
        && ["null", "true", "false", "yes", "no", "on", "off", "y", "n"]
            .iter()
            .any(|w| s.eq_ignore_ascii_case(w))
    {
        return None;
    }
    let body = s.strip_prefix('-').unwrap_or(s);
    // Most scalars are words: only one that starts like a number can be one.
    let Some(&lead) = body.as_bytes().first() else {
        return Some(Value::String(s.to_string()));
    };
    if !(lead.is_ascii_digit() || lead == b'.' || lead == b'+') {
        return Some(Value::String(s.to_string()));
    }
    if let Some(number) = canonical_number(s, body) {
        return Some(Value::Number(number));
    }
    if numberish(body.strip_prefix('+').unwrap_or(body)) {
        return None;
    }
    Some(Value::String(s.to_string()))
}

/// A number in the spelling Go writes (`-12`, `0.5`, `1e+06`,
/// `1.5e-07`): decimal, no leading zeros, no `+` or `_`.
fn canonical_number(s: &str, body: &str) -> Option<Number> {
    let b = body.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(0);
    if int == 0 || (int > 1 && b[0] == b'0') {
        return None;
    }
    let mut i = int;
    if i == b.len() {
        return match s.parse::<i64>() {
            Ok(n) => Some(n.into()),
            Err(_) => s.parse::<u64>().ok().map(Number::from),
        };
    }
    if b[i] == b'.' {
        let frac = digits(i + 1);
        if frac == 0 {
            return None;
        }
        i += 1 + frac;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp = digits(i);
        if exp == 0 {
            return None;
        }
        i += exp;
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>().ok().and_then(Number::from_f64)
}

/// Whether the full parser might read `body` (a scalar without its sign)
/// as a number: prefixed integers (`0x1F`, `0o17`, `0b1`), digits with
/// underscores or leading zeros, floats in any spelling (`.5`, `5.`,
/// `1E5`), `.inf` and `.nan`. Anything else that starts with a digit, such
/// as `1.2.3`, `10.0.0.1`, `12:30` or `1-2`, is a string to it.
fn numberish(body: &str) -> bool {
    let b = body.as_bytes();
    if body.eq_ignore_ascii_case(".inf") || body.eq_ignore_ascii_case(".nan") {
        return true;
    }
    if b.len() >= 2 && b[0] == b'0' {
        // A digit outside the radix makes a string (`0bfb9f`, a commit id).
        let digit: Option<fn(&u8) -> bool> = match b[1] {
            b'x' | b'X' => Some(u8::is_ascii_hexdigit),
            b'o' | b'O' => Some(|c| (b'0'..=b'7').contains(c)),
            b'b' | b'B' => Some(|c| matches!(c, b'0' | b'1')),
            _ => None,
        };
        if let Some(digit) = digit {
            return b[2..].iter().all(|c| digit(c) || *c == b'_');
        }
    }
    // Float-like: digits and `_`, at most one `.`, then at most one
    // exponent with an optional sign.
    let mut i = 0;
    let mantissa = |i: &mut usize| {
        while *i < b.len() && (b[*i].is_ascii_digit() || b[*i] == b'_') {
            *i += 1;
        }
    };
    mantissa(&mut i);
    if i < b.len() && b[i] == b'.' {
        i += 1;
        mantissa(&mut i);
    }
    if !b[..i].iter().any(u8::is_ascii_digit) {
        return false; // `.`, `_.`: no digits, no number
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        mantissa(&mut i);
    }
    i == b.len()
}

/// How a quoted scalar's text on one line ended.
enum Scan {
    /// The closing quote: the offset just after it.
    Closed(usize),
    /// The line ended first; in double quotes, `\` may escape the break.
    LineEnd { escaped_break: bool },
}

/// Reads one line's worth of a quoted scalar (after the opening quote, or
/// a continuation line after its indentation) into `out`.
type Scanner = fn(&str, &mut String) -> Option<Scan>;

/// Double-quoted text: escapes decoded; at the line's end, the white space
/// before the break dropped (it folds) unless the break is escaped.
fn scan_double(text: &str, out: &mut String) -> Option<Scan> {
    let bytes = text.as_bytes();
    // Most quoted scalars (timestamps, digests, "True") have no escapes.
    if let Some(end) = memchr::memchr2(b'"', b'\\', bytes)
        && bytes[end] == b'"'
    {
        out.push_str(&text[..end]);
        return Some(Scan::Closed(end + 1));
    }
    let mut keep = out.len();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some(Scan::Closed(i + 1)),
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    return Some(Scan::LineEnd {
                        escaped_break: true,
                    });
                };
                let mut hex = |n: usize| {
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
                    ' ' => ' ',
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    'a' => '\x07',
                    'b' => '\x08',
                    'e' => '\x1b',
                    'f' => '\x0c',
                    'v' => '\x0b',
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' => hex(2)?,
                    'u' => hex(4)?,
                    'U' => hex(8)?,
                    _ => return None,
                });
                keep = out.len();
            }
            ' ' => out.push(' '),
            _ => {
                out.push(c);
                keep = out.len();
            }
        }
    }
    out.truncate(keep);
    Some(Scan::LineEnd {
        escaped_break: false,
    })
}

/// Single-quoted text: `''` is a quote; white space before a break dropped.
fn scan_single(text: &str, out: &mut String) -> Option<Scan> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut from = 0;
    while let Some(found) = memchr::memchr(b'\'', &bytes[from..]) {
        let i = from + found;
        out.push_str(&text[start..i]);
        if bytes.get(i + 1) == Some(&b'\'') {
            out.push('\'');
            from = i + 2;
            start = from;
            continue;
        }
        return Some(Scan::Closed(i + 1));
    }
    out.push_str(trim_end_spaces(&text[start..]));
    Some(Scan::LineEnd {
        escaped_break: false,
    })
}

#[cfg(test)]
mod tests;
