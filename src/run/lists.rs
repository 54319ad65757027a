//! Streaming the items of `List`s: `kubectl get taskruns -o json|yaml`
//! prints every run of a namespace (or a cluster) as one document, and
//! parsing that document whole held the whole export in memory (about 95 KB
//! per run). These scanners cut a List's items out of the byte stream one by
//! one, as the reader goes, so that each item is a document of its own and
//! no more than one item's text is held at a time.
//!
//! Neither scanner parses: the JSON one follows brackets and strings, the
//! YAML one the `- ` entries under a column-0 `items:` (at column 0 as
//! kubectl's encoder writes them, or indented as other tools do). What they cut is parsed later like any document, and
//! what they do not recognise is left whole for the parser.

/// What [`JsonScanner::feed`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum JsonEvent {
    /// One element of the `items` array (or of a top-level array), and the
    /// line it starts on.
    Item(Vec<u8>, usize),
    /// The top-level value ended: the value with its items array emptied
    /// (`"items": []`), or the whole value when it has no items array.
    /// `None` for a top-level array, which has nothing else.
    End(Option<Vec<u8>>),
}

/// Follows one top-level JSON object or array through the stream and hands
/// out the elements of its `items` array (an object's) or its elements (an
/// array's) one at a time.
#[derive(Debug, Default)]
pub struct JsonScanner {
    depth: usize,
    in_string: bool,
    escape: bool,
    /// Depth inside the items array (0: not in it).
    items_depth: usize,
    top_is_array: bool,
    started: bool,
    /// The element being cut, and whether it is a scalar (ends at `,`/`]`).
    element: Option<(Vec<u8>, bool)>,
    element_line: usize,
    /// The value outside its items.
    wrapper: Vec<u8>,
    /// The last string at depth 1 (a key, when a `:` follows it).
    last_string: Vec<u8>,
    /// A `:` after the key `items` was the last thing at depth 1.
    items_key: bool,
    /// The value ended with the `]` after a scalar last element, handed
    /// out with that element: report the end at the next feed.
    end_pending: bool,
    /// The current line.
    pub line: usize,
}

impl JsonScanner {
    pub fn new(line: usize) -> Self {
        JsonScanner {
            line,
            ..Default::default()
        }
    }

    /// Scan `bytes`, the stream's next bytes; returns how many were used and
    /// what was found (then the rest must be fed again).
    pub fn feed(&mut self, bytes: &[u8]) -> (usize, Option<JsonEvent>) {
        if std::mem::take(&mut self.end_pending) {
            return (0, Some(self.end()));
        }
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            // Inside a string only `"`, `\` and a line break matter: the run
            // up to the next one is copied whole. Most of a run's bytes are in
            // strings (scripts), and this thread cuts every document of a
            // List or a multi-line JSON file before the workers parse them.
            if self.in_string && !self.escape && !(self.depth == 1 && self.element.is_none()) {
                let rest = bytes.get(i..).unwrap_or_default();
                let run = memchr::memchr3(b'"', b'\\', b'\n', rest).unwrap_or(rest.len());
                if run > 0 {
                    self.sink_run(rest.get(..run).unwrap_or_default());
                    i += run;
                    continue;
                }
            }
            if b == b'\n' {
                self.line += 1;
            }
            if let Some(event) = self.byte(b) {
                return (i + 1, Some(event));
            }
            i += 1;
        }
        (bytes.len(), None)
    }

    /// [`Self::sink`] for a run of string bytes.
    fn sink_run(&mut self, run: &[u8]) {
        match &mut self.element {
            Some((bytes, _)) => bytes.extend_from_slice(run),
            None if self.items_depth == 0 => self.wrapper.extend_from_slice(run),
            None => {}
        }
    }

    /// The input ended inside the value: what was cut so far, for the parser
    /// to report.
    pub fn finish(&mut self) -> Vec<u8> {
        match self.element.take() {
            Some((bytes, _)) => bytes,
            None => std::mem::take(&mut self.wrapper),
        }
    }

    fn sink(&mut self, b: u8) {
        match &mut self.element {
            Some((bytes, _)) => bytes.push(b),
            None if self.items_depth == 0 => self.wrapper.push(b),
            // Commas and blanks between items.
            None => {}
        }
    }

    fn byte(&mut self, b: u8) -> Option<JsonEvent> {
        if self.in_string {
            self.sink(b);
            if self.depth == 1 && self.element.is_none() {
                self.last_string.push(b);
            }
            if self.escape {
                self.escape = false;
            } else if b == b'\\' {
                self.escape = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            return None;
        }
        let blank = matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        let in_items = self.items_depth > 0 && self.depth == self.items_depth;
        if in_items && self.element.is_none() && !blank && b != b',' && b != b']' {
            self.element = Some((Vec::new(), !matches!(b, b'{' | b'[')));
            self.element_line = self.line;
        }
        // A scalar element ends before the `,` or `]` after it.
        if in_items
            && matches!(b, b',' | b']')
            && matches!(self.element, Some((_, true)))
            && let Some((bytes, _)) = self.element.take()
        {
            if b == b']' {
                // Hand out the element now; the array closed with it.
                self.pending_close();
            }
            return Some(JsonEvent::Item(bytes, self.element_line));
        }
        match b {
            b'"' => {
                self.in_string = true;
                if self.depth == 1 && self.element.is_none() {
                    self.last_string.clear();
                    self.last_string.push(b);
                }
                self.sink(b);
            }
            b'{' | b'[' => {
                let opens_items = b == b'['
                    && self.items_depth == 0
                    && ((self.depth == 0 && !self.started) || (self.depth == 1 && self.items_key));
                if self.depth == 0 {
                    self.started = true;
                    self.top_is_array = b == b'[';
                }
                self.sink(b);
                self.depth += 1;
                self.items_key = false;
                if opens_items {
                    self.items_depth = self.depth;
                }
            }
            b'}' | b']' => {
                if in_items && b == b']' {
                    // The items array closes: back to the wrapper.
                    self.items_depth = 0;
                }
                self.sink(b);
                self.depth = self.depth.saturating_sub(1);
                if self.items_depth > 0
                    && self.depth == self.items_depth
                    && matches!(self.element, Some((_, false)))
                    && let Some((bytes, _)) = self.element.take()
                {
                    return Some(JsonEvent::Item(bytes, self.element_line));
                }
                if self.depth == 0 {
                    return Some(self.end());
                }
            }
            b':' if self.depth == 1 && self.element.is_none() => {
                self.items_key = self.last_string == b"\"items\"";
                self.sink(b);
            }
            _ => {
                if !blank && self.depth == 1 {
                    self.items_key = false;
                }
                self.sink(b);
            }
        }
        None
    }

    /// After a scalar last element, the `]` that closes the items array is
    /// consumed with it: close the array here.
    fn pending_close(&mut self) {
        self.items_depth = 0;
        self.wrapper.push(b']');
        self.depth = self.depth.saturating_sub(1);
        self.end_pending = self.depth == 0;
    }

    fn end(&mut self) -> JsonEvent {
        let wrapper = std::mem::take(&mut self.wrapper);
        JsonEvent::End((!self.top_is_array).then_some(wrapper))
    }
}

/// How a YAML document's line relates to a List's items, for the splitter.
#[derive(Debug, PartialEq, Eq)]
pub enum YamlLine {
    /// `- ` at the items' column: an item starts.
    ItemStart,
    /// Indented further, blank or a comment: the current item goes on.
    ItemLine,
    /// Anything else (a column-0 key, a document marker): the items ended.
    Outside,
}

/// Where a line falls when the items of a column-0 `items:` are being cut;
/// `indent` is the column of the items' dashes (0 as kubectl prints them,
/// 2 or more as other tools do).
pub fn yaml_line(line: &str, indent: usize) -> YamlLine {
    let spaces = line.bytes().take_while(|&b| b == b' ').count();
    let rest = line.get(spaces..).unwrap_or_default();
    let bare = rest.trim_end_matches(['\r', '\n']);
    if spaces == indent && (rest.starts_with("- ") || bare == "-") {
        YamlLine::ItemStart
    } else if spaces > indent || bare.is_empty() || bare.starts_with('#') {
        YamlLine::ItemLine
    } else {
        YamlLine::Outside
    }
}

/// Whether a line goes on an item of a List whose dashes are at column
/// `indent` (a line is taken whole by [`yaml_line`]; this is its quick
/// form for lines already in the reader's buffer).
pub fn continues_item(line: &[u8], indent: usize) -> bool {
    let spaces = line.iter().take_while(|&&b| b == b' ').count();
    spaces > indent || matches!(line.get(spaces), None | Some(b'\n' | b'\r' | b'#'))
}

/// The column of the dash when a line starts a List's items (`- ` after
/// nothing but spaces), for the line after a column-0 `items:`.
pub fn items_indent(line: &str) -> Option<usize> {
    let spaces = line.bytes().take_while(|&b| b == b' ').count();
    (yaml_line(line, spaces) == YamlLine::ItemStart).then_some(spaces)
}

/// Whether a line is the column-0 key `items:` with nothing after it.
pub fn is_items_key(line: &str) -> bool {
    line.trim_end_matches(['\r', '\n', ' ']) == "items:"
}

/// An item's lines as a document of its own: `indent + 2` columns
/// dedented (the dash and the blank after it on its first line, the
/// indentation of the others; a line indented less loses what it has).
pub fn dedent_item(text: &str, indent: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let strip = match i {
            0 => indent + 1 + usize::from(line.as_bytes().get(indent + 1) == Some(&b' ')),
            _ => line
                .bytes()
                .take(indent + 2)
                .take_while(|&b| b == b' ')
                .count(),
        };
        out.push_str(line.get(strip..).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str, chunk: usize) -> Vec<JsonEvent> {
        let mut s = JsonScanner::new(1);
        let mut events = Vec::new();
        let bytes = text.as_bytes();
        let mut pos = 0;
        while pos <= bytes.len() {
            let end = (pos + chunk).min(bytes.len());
            let (n, event) = s.feed(&bytes[pos..end]);
            pos += n;
            if n == 0 && event.is_none() {
                break;
            }
            if let Some(e) = event {
                let done = matches!(e, JsonEvent::End(_));
                events.push(e);
                if done {
                    break;
                }
            }
        }
        events
    }

    fn texts(events: &[JsonEvent]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                JsonEvent::Item(b, line) => format!("{line}:{}", String::from_utf8_lossy(b)),
                JsonEvent::End(Some(b)) => format!("end:{}", String::from_utf8_lossy(b)),
                JsonEvent::End(None) => "end".into(),
            })
            .collect()
    }

    #[test]
    fn cuts_a_lists_items_and_keeps_the_rest() {
        let list = "{\n \"apiVersion\": \"v1\",\n \"items\": [\n  {\"kind\": \"TaskRun\", \"s\": \"]} \\\" [{\"},\n  {\"kind\": \"PipelineRun\", \"a\": [1, {\"b\": []}]}\n ],\n \"kind\": \"List\",\n \"metadata\": {\"items\": [1]}\n}";
        for chunk in [1, 2, 5, 1000] {
            let got = texts(&scan(list, chunk));
            assert_eq!(
                got,
                [
                    "4:{\"kind\": \"TaskRun\", \"s\": \"]} \\\" [{\"}",
                    "5:{\"kind\": \"PipelineRun\", \"a\": [1, {\"b\": []}]}",
                    "end:{\n \"apiVersion\": \"v1\",\n \"items\": [],\n \"kind\": \"List\",\n \"metadata\": {\"items\": [1]}\n}",
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn cuts_a_top_level_arrays_elements_scalars_too() {
        let got = texts(&scan("[{\"a\": 1},\n 2, \"x,]\" ,{\"b\": [3]}]", 3));
        assert_eq!(
            got,
            ["1:{\"a\": 1}", "2:2", "2:\"x,]\" ", "2:{\"b\": [3]}", "end"]
        );
        let got = texts(&scan("[1, 2]", 1));
        assert_eq!(got, ["1:1", "1:2", "end"]);
    }

    #[test]
    fn an_object_without_items_is_handed_out_whole() {
        let obj = "{\"kind\": \"TaskRun\",\n \"spec\": {\"items\": [1, 2]}, \"x\": \"items\"}";
        assert_eq!(texts(&scan(obj, 4)), [format!("end:{obj}")]);
    }

    #[test]
    fn yaml_items_are_dedented() {
        assert_eq!(yaml_line("- apiVersion: v1\n", 0), YamlLine::ItemStart);
        assert_eq!(yaml_line("  kind: TaskRun\n", 0), YamlLine::ItemLine);
        assert_eq!(yaml_line("\n", 0), YamlLine::ItemLine);
        assert_eq!(yaml_line("kind: List\n", 0), YamlLine::Outside);
        assert!(is_items_key("items:\n"));
        assert!(!is_items_key("items: []\n"));
        assert_eq!(
            dedent_item("- a: 1\n  b:\n  - c\n\n  d: |\n    x\n", 0),
            "a: 1\nb:\n- c\n\nd: |\n  x\n"
        );
    }

    #[test]
    fn indented_yaml_items_are_cut_at_their_column() {
        assert_eq!(items_indent("  - apiVersion: v1\n"), Some(2));
        assert_eq!(items_indent("- a\n"), Some(0));
        assert_eq!(items_indent("    -\n"), Some(4));
        assert_eq!(items_indent("  a: 1\n"), None);
        assert_eq!(yaml_line("  - kind: TaskRun\n", 2), YamlLine::ItemStart);
        assert_eq!(yaml_line("    kind: TaskRun\n", 2), YamlLine::ItemLine);
        assert_eq!(yaml_line("    - nested\n", 2), YamlLine::ItemLine);
        assert_eq!(yaml_line("# c\n", 2), YamlLine::ItemLine);
        assert_eq!(yaml_line("  # c\n", 2), YamlLine::ItemLine);
        assert_eq!(yaml_line("kind: List\n", 2), YamlLine::Outside);
        assert_eq!(yaml_line("- x\n", 2), YamlLine::Outside);
        for (line, goes_on) in [
            ("    a\n", true),
            ("\n", true),
            ("  # c\n", true),
            ("  - b\n", false),
            ("kind: List\n", false),
        ] {
            assert_eq!(continues_item(line.as_bytes(), 2), goes_on, "{line:?}");
            assert_eq!(
                yaml_line(line, 2) == YamlLine::ItemLine,
                goes_on,
                "{line:?}"
            );
        }
        assert_eq!(
            dedent_item(
                "  -   a: 1\n      b:\n      - c\n\n# x\n      d: |\n        y\n",
                2
            ),
            "  a: 1\n  b:\n  - c\n\n# x\n  d: |\n    y\n"
        );
    }
}
