//! Reading runs: files, directories and stdin; YAML streams and JSON; Lists.
//!
//! Reading is split in two so that a batch can be parallel and a stream never
//! has to be held whole: [`DocumentStream`] cuts a byte stream into documents
//! (cheap, sequential), and [`decode`] turns one document into runs (the
//! expensive part, done on any thread).

use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde_json::Value;

use super::lists::{self, JsonEvent, JsonScanner, YamlLine};
use super::{Origin, Run, RunKind, Syntax, v1beta1};

/// An input to read: a file or standard input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    pub fn display_name(&self) -> Arc<str> {
        match self {
            Source::Stdin => Arc::from("<stdin>"),
            Source::File(p) => Arc::from(p.display().to_string()),
        }
    }

    /// The name for messages: the path with control characters escaped, so
    /// that a file name cannot break a line or steer the terminal.
    pub fn escaped_name(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".to_string(),
            Source::File(p) => escaped_path(p),
        }
    }

    /// Open the source for reading.
    ///
    /// Streams are read 1 MiB at a time: on the project's machine a 64 KiB
    /// `read` moved 1.7 GB/s out of the page cache and a 1 MiB one 9 GB/s,
    /// and with 64 KiB the copy was a tenth of attest's time on a large
    /// stream. A small file gets a buffer of its own size.
    pub fn open(&self) -> Result<Box<dyn BufRead + Send>, InputError> {
        const STREAM_BUFFER: usize = 1 << 20;
        match self {
            Source::Stdin => Ok(Box::new(BufReader::with_capacity(
                STREAM_BUFFER,
                io::stdin(),
            ))),
            Source::File(p) => open_file(p).map(|f| {
                let size = f.metadata().map(|m| m.len() as usize + 1).unwrap_or(0);
                let capacity = size.clamp(8 << 10, STREAM_BUFFER);
                Box::new(BufReader::with_capacity(capacity, f)) as Box<dyn BufRead + Send>
            }),
        }
    }
}

/// Everything that can be wrong with an input.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum InputError {
    #[error("cannot read {path}")]
    #[diagnostic(code(chains::input::io))]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error("{path}: no such file or directory")]
    #[diagnostic(code(chains::input::missing))]
    Missing { path: String },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Yaml(Box<YamlError>),

    #[error("{origin}: invalid JSON: {message}")]
    #[diagnostic(code(chains::input::json))]
    Json { origin: Origin, message: String },

    #[error("{origin}: the document is a {found}, not a Kubernetes object")]
    #[diagnostic(
        code(chains::input::not_an_object),
        help(
            "chains reads TaskRuns and PipelineRuns as YAML or JSON, e.g. `kubectl get taskrun NAME -o yaml`"
        )
    )]
    NotAnObject { origin: Origin, found: &'static str },

    #[error("{origin}: {kind} has apiVersion {api_version}, which chains does not read")]
    #[diagnostic(
        code(chains::input::api_version),
        help("supported: tekton.dev/v1 and tekton.dev/v1beta1")
    )]
    ApiVersion {
        origin: Origin,
        kind: RunKind,
        api_version: String,
    },

    #[error("{origin}: {label} has no status, so it has not run and cannot be attested")]
    #[diagnostic(
        code(chains::input::no_status),
        help("export the run after it finished, with its status (`kubectl get ... -o yaml`)")
    )]
    NoStatus { origin: Origin, label: String },

    #[error("{origin}: {label} has not finished (its Succeeded condition is {state})")]
    #[diagnostic(
        code(chains::input::unfinished),
        help(
            "Tekton Chains only signs finished runs; export the run once it is done, or pass --allow-unfinished to attest it anyway"
        )
    )]
    Unfinished {
        origin: Origin,
        label: String,
        state: String,
    },

    #[error("{origin}: {label} lists child TaskRuns that are not among the inputs: {missing}")]
    #[diagnostic(
        code(chains::input::missing_children),
        help(
            "its provenance would have no tasks or materials from them: pass their files with --taskruns FILE|DIR, or --allow-missing-children to attest it from the children that are there"
        )
    )]
    MissingChildren {
        origin: Origin,
        label: String,
        missing: String,
    },

    #[error("no TaskRun or PipelineRun in {inputs}")]
    #[diagnostic(
        code(chains::input::no_runs),
        help(
            "chains reads TaskRuns and PipelineRuns as YAML or JSON, e.g. `kubectl get taskruns -o yaml`; check the path"
        )
    )]
    NoRuns { inputs: String },

    #[error("{path}: no writer opened the FIFO within {seconds} s")]
    #[diagnostic(
        code(chains::input::fifo),
        help("start the program that writes to it first, or pipe it to standard input (`-`)")
    )]
    FifoWithoutWriter { path: String, seconds: u64 },
}

impl InputError {
    /// The document an error is about, if it is about one.
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            InputError::Yaml(e) => Some(&e.origin),
            InputError::Json { origin, .. }
            | InputError::NotAnObject { origin, .. }
            | InputError::ApiVersion { origin, .. }
            | InputError::NoStatus { origin, .. }
            | InputError::Unfinished { origin, .. }
            | InputError::MissingChildren { origin, .. } => Some(origin),
            InputError::Io { .. }
            | InputError::Missing { .. }
            | InputError::NoRuns { .. }
            | InputError::FifoWithoutWriter { .. } => None,
        }
    }
}

/// A YAML syntax error, with the document's text for a snippet.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{origin}: invalid YAML: {message}")]
#[diagnostic(code(chains::input::yaml))]
pub struct YamlError {
    pub origin: Origin,
    pub message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("here")]
    span: Option<SourceSpan>,
}

/// Expand the command-line inputs: `-` is stdin, a directory is walked
/// recursively for `.yaml`, `.yml` and `.json` files (sorted, so the order is
/// stable), any other path is read as given.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<Source>, InputError> {
    expand_inputs_with(inputs, has_run_extension)
}

/// [`expand_inputs`], taking from directories the files `wanted` accepts;
/// the first path that cannot be read is the error.
pub fn expand_inputs_with(
    inputs: &[PathBuf],
    wanted: fn(&Path) -> bool,
) -> Result<Vec<Source>, InputError> {
    let (sources, mut errors) = expand_all(inputs, wanted);
    match errors.is_empty() {
        true => Ok(sources),
        false => Err(errors.swap_remove(0)),
    }
}

/// Expand run inputs, going on past paths that cannot be read: every source
/// that can be, and an error for each path that cannot (a missing input, an
/// unreadable sub-directory), for the caller to report.
pub fn expand_run_inputs(inputs: &[PathBuf]) -> (Vec<Source>, Vec<InputError>) {
    expand_all(inputs, has_run_extension)
}

fn expand_all(inputs: &[PathBuf], wanted: fn(&Path) -> bool) -> (Vec<Source>, Vec<InputError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            out.push(Source::Stdin);
            continue;
        }
        match fs::metadata(input) {
            Ok(meta) if meta.is_dir() => walk_dir(input, wanted, &mut out, &mut errors),
            Ok(_) => out.push(Source::File(input.clone())),
            Err(source) => errors.push(io_error(input, source)),
        }
    }
    (out, errors)
}

/// An I/O error on `path` as an input error (a missing file is said so).
pub fn io_error(path: &Path, source: io::Error) -> InputError {
    if source.kind() == io::ErrorKind::NotFound {
        InputError::Missing {
            path: escaped_path(path),
        }
    } else {
        InputError::Io {
            path: escaped_path(path),
            source,
        }
    }
}

/// A path for messages, with control characters (newlines, terminal
/// escapes) escaped as Rust escapes them.
pub fn escaped_path(path: &Path) -> String {
    super::escape_controls(&path.display().to_string()).into_owned()
}

/// Walk a directory; a sub-directory or entry that cannot be read is an
/// error of its own, and the walk goes on with the rest.
fn walk_dir(
    dir: &Path,
    wanted: fn(&Path) -> bool,
    out: &mut Vec<Source>,
    errors: &mut Vec<InputError>,
) {
    let entries = match fs::read_dir(dir).and_then(|d| d.collect::<Result<Vec<_>, _>>()) {
        Ok(entries) => entries,
        Err(source) => return errors.push(io_error(dir, source)),
    };
    let mut entries = entries;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(source) => {
                errors.push(io_error(&path, source));
                continue;
            }
        };
        if file_type.is_dir() {
            // Symlinked directories are not followed (no cycles); real ones are.
            walk_dir(&path, wanted, out, errors);
        } else if wanted(&path) && (file_type.is_file() || path.is_file()) {
            out.push(Source::File(path));
        }
    }
}

/// How long a FIFO given as input may wait for its writer.
const FIFO_WRITER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Open an input file. A FIFO is opened without blocking and waited on for
/// data with a deadline: a FIFO nobody writes to would otherwise block the
/// batch forever.
fn open_file(path: &Path) -> Result<fs::File, InputError> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::FileTypeExt;
        if fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo()) {
            return open_fifo(path, FIFO_WRITER_WAIT);
        }
    }
    fs::File::open(path).map_err(|source| io_error(path, source))
}

/// Open a FIFO for reading once a writer has written to it (or closed it),
/// within `wait`.
#[cfg(target_os = "linux")]
fn open_fifo(path: &Path, wait: std::time::Duration) -> Result<fs::File, InputError> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::fs::{Mode, OFlags, fcntl_getfl, fcntl_setfl};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| io_error(path, e.into()))?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(InputError::FifoWithoutWriter {
                path: escaped_path(path),
                seconds: wait.as_secs(),
            });
        }
        let timeout = Timespec::try_from(left).ok();
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(0) => continue,
            Ok(_) => break,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(io_error(path, e.into())),
        }
    }
    // Data (or a writer's close) is there: read it as an ordinary blocking file.
    let flags = fcntl_getfl(&fd).map_err(|e| io_error(path, e.into()))?;
    fcntl_setfl(&fd, flags - OFlags::NONBLOCK).map_err(|e| io_error(path, e.into()))?;
    Ok(fs::File::from(fd))
}

fn has_run_extension(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// One document of a stream, not yet decoded.
#[derive(Debug)]
pub struct Document {
    pub file: Arc<str>,
    /// 0-based document index in the file.
    pub index: usize,
    /// 1-based line where the document's text starts.
    pub line: usize,
    pub body: Body,
}

#[derive(Debug)]
pub enum Body {
    /// YAML text, parsed by [`decode`].
    Yaml(String),
    /// A JSON value, already parsed by the stream (it ran over several lines,
    /// or shared its line with others).
    Json(Value),
    /// A JSON object or array alone on its line (JSON Lines, compact files),
    /// or cut from the stream by its brackets: parsed by [`decode`], so that
    /// parsing runs in parallel.
    JsonText(Vec<u8>),
    /// One item (0-based) of a `List` document, cut out on its own (see
    /// [`DocumentStream::split_lists`]).
    Item(usize, Box<Body>),
    /// The rest of a JSON input, from a value that runs over several lines,
    /// read whole and not cut (see [`DocumentStream::whole_json_files`]):
    /// [`decode_all`] parses it as one value, or cuts it as the stream
    /// would have when it is not one.
    JsonRest(Vec<u8>),
}

impl Document {
    fn origin(&self, item: Option<usize>) -> Origin {
        Origin {
            file: self.file.clone(),
            document: self.index,
            item,
            line: self.line,
        }
    }
}

/// Cuts a stream into documents. YAML streams split on `---` and `...` lines;
/// a stream whose first non-blank character is `{` or `[` is read as a
/// sequence of JSON values (one object, concatenated objects or JSON Lines).
pub struct DocumentStream {
    file: Arc<str>,
    reader: Box<dyn BufRead + Send>,
    mode: Option<Mode>,
    index: usize,
    line: usize,
    done: bool,
    carry: Option<(String, usize)>,
    /// JSON values already parsed from the current line, not yet returned.
    pending: std::collections::VecDeque<Result<Document, InputError>>,
    /// Hand out the items of `List`s one by one (see [`DocumentStream::split_lists`]).
    split_lists: bool,
    /// A multi-line JSON value being cut: the scanner, the line it starts
    /// on, and the index of its next item.
    json_scan: Option<(JsonScanner, usize, usize)>,
    /// A YAML List whose items are being cut.
    yaml_list: Option<YamlList>,
    /// A line read but not yet used (it ended a List's items).
    pushback: Option<String>,
    /// Hand out the rest of a small JSON input whole (see
    /// [`DocumentStream::whole_json_files`]).
    whole_json: bool,
}

/// A YAML `List` document whose items are handed out one by one.
struct YamlList {
    /// The document without its items (`items: []`), handed out last.
    wrapper: String,
    wrapper_line: usize,
    next_item: usize,
    /// The column of the items' dashes.
    indent: usize,
    /// The first line of the next item, and its line number.
    first: Option<(String, usize)>,
}

enum Mode {
    Yaml,
    Json,
}

impl DocumentStream {
    pub fn new(file: Arc<str>, reader: Box<dyn BufRead + Send>) -> Self {
        DocumentStream {
            file,
            // YAML (and JSON's whitespace) allows lines broken by a CR alone;
            // the splitter cuts lines at LF.
            reader: Box::new(LoneCrToLf::new(reader)),
            mode: None,
            index: 0,
            line: 1,
            done: false,
            carry: None,
            pending: std::collections::VecDeque::new(),
            split_lists: false,
            json_scan: None,
            yaml_list: None,
            pushback: None,
            whole_json: false,
        }
    }

    /// With [`Self::split_lists`]: when a JSON value runs over several
    /// lines and the input ends within [`WHOLE_JSON_LIMIT`] bytes from its
    /// start, without an `"items"` in it (a file per run, as `kubectl get
    /// taskrun X -o json` prints it), hand out all of it as one
    /// [`Body::JsonRest`] instead of cutting the value with a
    /// [`JsonScanner`]: a worker parses it, and only when it is not one
    /// value does [`decode_all`] cut it as the stream would have.
    ///
    /// Measured with callgrind on ../shared/corpus/kubectl-json (150 runs,
    /// slsa/v1, `--unsigned -o DIR`, release build): cutting each file with
    /// the scanner (which follows every bracket and string, and copies the
    /// value) took the reading side to 37 M instructions where YAML files
    /// are cut for 10 M; reading them whole took the total from 269 M to
    /// 238 M (YAML: 262 M), the same output.
    pub fn whole_json_files(mut self) -> Self {
        self.whole_json = true;
        self
    }

    /// A stream over the rest of an input read whole (see
    /// [`Body::JsonRest`]), numbered from where that rest started.
    fn resume(file: Arc<str>, text: Vec<u8>, index: usize, line: usize) -> Self {
        let mut stream = DocumentStream::new(file, Box::new(io::Cursor::new(text))).split_lists();
        stream.index = index;
        stream.line = line;
        stream
    }

    /// Hand out each item of a `List` (and of a top-level JSON array) as a
    /// document of its own, as it is read, instead of the whole List as one
    /// document: a List of any length is never held whole.
    pub fn split_lists(mut self) -> Self {
        self.split_lists = true;
        self
    }

    fn detect(&mut self) -> io::Result<Mode> {
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Ok(Mode::Yaml);
            }
            // Skip a UTF-8 byte order mark and leading blanks.
            let skip = buf
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0xEF | 0xBB | 0xBF))
                .count();
            if skip < buf.len() {
                let first = buf[skip];
                return Ok(if first == b'{' || first == b'[' {
                    Mode::Json
                } else {
                    Mode::Yaml
                });
            }
            let newlines = buf[..skip].iter().filter(|b| **b == b'\n').count();
            self.line += newlines;
            self.reader.consume(skip);
        }
    }

    fn next_yaml(&mut self) -> Option<Result<Document, InputError>> {
        // Text carried over from a `--- value` line that ended the previous document.
        let (mut text, mut start_line, mut has_content) = match self.carry.take() {
            Some((text, line)) => (text, line, true),
            None => (String::new(), self.line, false),
        };
        let mut line = String::new();
        loop {
            // A pushed-back line comes before anything still in the buffer.
            if has_content
                && self.pushback.is_none()
                && let Err(source) = self.take_content_lines(&mut text)
            {
                self.done = true;
                return Some(Err(self.read_error(source)));
            }
            line.clear();
            if let Some(back) = self.pushback.take() {
                // Counted when it was first read.
                line = back;
            } else {
                let n = match self.reader.read_line(&mut line) {
                    Ok(n) => n,
                    Err(source) => {
                        self.done = true;
                        return Some(Err(self.read_error(source)));
                    }
                };
                if n == 0 {
                    self.done = true;
                    break;
                }
                self.line += 1;
            }
            if self.split_lists
                && has_content
                && let Some(indent) = lists::items_indent(&line)
                && last_line(&text).is_some_and(lists::is_items_key)
            {
                // A column-0 `items:` followed by `- ` entries (at column 0
                // as kubectl prints a List, or indented): its items go out
                // one by one.
                let keep = text.len() - last_line(&text).map_or(0, str::len);
                text.truncate(keep);
                text.push_str("items: []\n");
                self.yaml_list = Some(YamlList {
                    wrapper: text,
                    wrapper_line: start_line,
                    next_item: 0,
                    indent,
                    first: Some((line, self.line - 1)),
                });
                return self.next_yaml_item();
            }
            if is_document_marker(&line) {
                // Content after `---` on the same line (`--- {a: 1}`) starts the next document.
                let rest = line
                    .strip_prefix("---")
                    .map(str::trim)
                    .filter(|r| !r.is_empty() && !r.starts_with('#'))
                    .map(|r| format!("{r}\n"));
                let marker_line = self.line - 1;
                if has_content {
                    self.carry = rest.map(|r| (r, marker_line));
                    return Some(Ok(self.document(Body::Yaml(text), start_line)));
                }
                match rest {
                    Some(r) => {
                        text = r;
                        start_line = marker_line;
                        has_content = true;
                    }
                    None => {
                        text.clear();
                        start_line = self.line;
                    }
                }
                continue;
            }
            if !has_content && is_blank_or_comment(&line) {
                // Leading blank lines and comments are not content; keep line numbers right.
                text.push('\n');
                continue;
            }
            has_content = true;
            text.push_str(&line);
        }
        has_content.then(|| Ok(self.document(Body::Yaml(text), start_line)))
    }

    /// The next item of a YAML List (then, after the last, the List
    /// without its items, as the document goes on from there).
    fn next_yaml_item(&mut self) -> Option<Result<Document, InputError>> {
        let list = self.yaml_list.as_mut()?;
        let Some((mut text, item_line)) = list.first.take() else {
            // The items ended: the rest of the document follows the wrapper.
            let list = self.yaml_list.take()?;
            self.carry = Some((list.wrapper, list.wrapper_line));
            return self.next_yaml();
        };
        let item = list.next_item;
        list.next_item += 1;
        let indent = list.indent;
        let mut line = String::new();
        loop {
            if let Err(source) = self.take_lines(&mut text, |l| lists::continues_item(l, indent)) {
                self.done = true;
                self.yaml_list = None;
                return Some(Err(self.read_error(source)));
            }
            line.clear();
            let n = match self.reader.read_line(&mut line) {
                Ok(n) => n,
                Err(source) => {
                    self.done = true;
                    self.yaml_list = None;
                    return Some(Err(self.read_error(source)));
                }
            };
            if n == 0 {
                break;
            }
            self.line += 1;
            match lists::yaml_line(&line, indent) {
                YamlLine::ItemLine => text.push_str(&line),
                YamlLine::ItemStart => {
                    if let Some(list) = self.yaml_list.as_mut() {
                        list.first = Some((std::mem::take(&mut line), self.line - 1));
                    }
                    break;
                }
                YamlLine::Outside => {
                    // A key after the items (or a document marker): the
                    // wrapper's document goes on with it.
                    self.pushback = Some(std::mem::take(&mut line));
                    break;
                }
            }
        }
        Some(Ok(Document {
            file: self.file.clone(),
            index: self.index,
            line: item_line,
            body: Body::Item(
                item,
                Box::new(Body::Yaml(lists::dedent_item(&text, indent))),
            ),
        }))
    }

    /// Move whole lines from the reader's buffer into `text`, up to the first
    /// line that could be a document marker (it starts with `-` or `.`) or
    /// that the buffer does not hold entirely; `next_yaml` reads that one.
    /// Inside a document this takes nearly every line, without the per-line
    /// copy, UTF-8 check and marker check of reading line by line (each of
    /// which showed in attest's profile of a large stream).
    /// When splitting Lists, it also stops after a column-0 `items:`, for
    /// `next_yaml` to see whether indented items follow.
    fn take_content_lines(&mut self, text: &mut String) -> io::Result<()> {
        let plain = |l: &[u8]| !matches!(l.first(), Some(b'-' | b'.'));
        if !self.split_lists {
            return self.take_lines(text, plain);
        }
        let mut after_items = last_line(text).is_some_and(lists::is_items_key);
        self.take_lines(text, |l| {
            if after_items {
                return false;
            }
            after_items =
                l.starts_with(b"items:") && std::str::from_utf8(l).is_ok_and(lists::is_items_key);
            plain(l)
        })
    }

    /// Move whole lines into `text` while `goes_on` accepts them.
    fn take_lines(
        &mut self,
        text: &mut String,
        mut goes_on: impl FnMut(&[u8]) -> bool,
    ) -> io::Result<()> {
        loop {
            let buf = self.reader.fill_buf()?;
            let mut end = 0;
            let mut lines = 0;
            for newline in memchr::memchr_iter(b'\n', buf) {
                if !goes_on(&buf[end..=newline]) {
                    break;
                }
                end = newline + 1;
                lines += 1;
            }
            if end == 0 {
                return Ok(());
            }
            let taken = std::str::from_utf8(&buf[..end]).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                )
            })?;
            text.push_str(taken);
            self.line += lines;
            self.reader.consume(end);
        }
    }

    /// The next document of the stream, starting at `line`.
    fn document(&mut self, body: Body, line: usize) -> Document {
        let doc = Document {
            file: self.file.clone(),
            index: self.index,
            line,
            body,
        };
        self.index += 1;
        doc
    }

    fn read_error(&self, source: io::Error) -> InputError {
        InputError::Io {
            path: self.file.to_string(),
            source,
        }
    }
}

/// A reader that turns line breaks made of a CR alone into LF (CRLF is left
/// as it is), so that documents with old Mac line breaks split into lines.
/// Buffers without a CR (nearly all) are handed on as they are, uncopied.
struct LoneCrToLf {
    inner: Box<dyn BufRead + Send>,
    /// Translated bytes not yet consumed, from `pos`.
    buf: Vec<u8>,
    pos: usize,
    /// A CR ended the last chunk: whether it is a line break of its own or
    /// half of a CRLF depends on the next byte.
    pending_cr: bool,
}

impl LoneCrToLf {
    fn new(inner: Box<dyn BufRead + Send>) -> Self {
        LoneCrToLf {
            inner,
            buf: Vec::new(),
            pos: 0,
            pending_cr: false,
        }
    }

    /// Translate the inner reader's next chunk into `buf`.
    fn translate(&mut self) -> io::Result<()> {
        let chunk = self.inner.fill_buf()?;
        self.buf.clear();
        self.pos = 0;
        let mut rest = chunk;
        if std::mem::take(&mut self.pending_cr) {
            match rest.first() {
                Some(b'\n') => {
                    self.buf.extend_from_slice(b"\r\n");
                    rest = &rest[1..];
                }
                _ => self.buf.push(b'\n'),
            }
        }
        let mut bytes = rest.iter().copied().peekable();
        while let Some(b) = bytes.next() {
            match (b, bytes.peek()) {
                (b'\r', Some(b'\n')) => {
                    self.buf.extend_from_slice(b"\r\n");
                    bytes.next();
                }
                (b'\r', Some(_)) => self.buf.push(b'\n'),
                (b'\r', None) => self.pending_cr = true,
                _ => self.buf.push(b),
            }
        }
        let n = chunk.len();
        self.inner.consume(n);
        Ok(())
    }
}

impl Read for LoneCrToLf {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for LoneCrToLf {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos < self.buf.len() {
            return Ok(&self.buf[self.pos..]);
        }
        let chunk = self.inner.fill_buf()?;
        let plain = !self.pending_cr && memchr::memchr(b'\r', chunk).is_none();
        if plain {
            return self.inner.fill_buf();
        }
        // A chunk that is only a pending CR's decision may translate to
        // nothing (a CR at its end is pending again): read on.
        while self.pos >= self.buf.len() {
            let at_end = self.inner.fill_buf()?.is_empty();
            if at_end && !self.pending_cr {
                break;
            }
            self.translate()?;
        }
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, amount: usize) {
        if self.pos < self.buf.len() {
            self.pos = (self.pos + amount).min(self.buf.len());
        } else {
            self.inner.consume(amount);
        }
    }
}

/// The last line of `text`, with its line break.
fn last_line(text: &str) -> Option<&str> {
    let body = text.strip_suffix('\n')?;
    Some(match body.rfind('\n') {
        Some(i) => &text[i + 1..],
        None => text,
    })
}

fn is_document_marker(line: &str) -> bool {
    let marker = |m: &str| {
        line.strip_prefix(m)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
    };
    marker("---") || marker("...")
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#') || t.starts_with('%')
}

impl Iterator for DocumentStream {
    type Item = Result<Document, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(doc) = self.pending.pop_front() {
            return Some(doc);
        }
        if self.done {
            return None;
        }
        if self.mode.is_none() {
            match self.detect() {
                Ok(m) => self.mode = Some(m),
                Err(e) => {
                    self.done = true;
                    return Some(Err(self.read_error(e)));
                }
            }
        }
        match self.mode {
            Some(Mode::Json) => self.next_json(),
            _ if self.yaml_list.is_some() => self.next_yaml_item(),
            _ => self.next_yaml(),
        }
    }
}

impl DocumentStream {
    fn next_json(&mut self) -> Option<Result<Document, InputError>> {
        if let Some(doc) = self.pending.pop_front() {
            return Some(doc);
        }
        if self.json_scan.is_some() {
            return self.next_json_scanned();
        }
        if self.done {
            return None;
        }
        // Skip whitespace between values, counting lines.
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) => {
                    self.done = true;
                    return Some(Err(self.read_error(e)));
                }
            };
            if buf.is_empty() {
                self.done = true;
                return None;
            }
            let skip = buf
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0xEF | 0xBB | 0xBF))
                .count();
            self.line += buf[..skip].iter().filter(|b| **b == b'\n').count();
            let all = skip == buf.len();
            self.reader.consume(skip);
            if !all {
                break;
            }
        }
        // Fast path: values that end on the line they start on (JSON Lines,
        // compact files) are parsed from the line as a slice, which is many
        // times faster than serde_json's byte-at-a-time reader.
        let start_line = self.line;
        let mut line = match self.json_line_or_scan() {
            Ok(Some(line)) => line,
            // A line too long to hold: its values are being cut.
            Ok(None) => {
                return match self.pending.pop_front() {
                    Some(doc) => Some(doc),
                    None if self.json_scan.is_some() => self.next_json_scanned(),
                    None => self.next_json(),
                };
            }
            Err(e) => {
                self.done = true;
                return Some(Err(self.read_error(e)));
            }
        };
        if self.split_lists
            && one_json_value(&line)
            && memchr::memmem::find(&line, b"\"items\"").is_some()
        {
            // Perhaps a List on one line: its items are documents of
            // their own however long the line, as when it is cut as read.
            self.scan_long_line(&line);
            self.line += 1;
            return match self.pending.pop_front() {
                Some(doc) => Some(doc),
                None if self.json_scan.is_some() => self.next_json_scanned(),
                None => self.next_json(),
            };
        }
        self.line += 1;
        if one_json_value(&line) {
            // Without the line break, as the scanner cuts a value.
            let end = line.trim_ascii_end().len();
            line.truncate(end);
            return Some(Ok(self.document(Body::JsonText(line), start_line)));
        }
        let mut values = serde_json::Deserializer::from_slice(&line).into_iter::<Value>();
        let mut rest = None;
        loop {
            let offset = values.byte_offset();
            match values.next() {
                None => break,
                Some(Ok(value)) => {
                    let doc = self.document(Body::Json(value), start_line);
                    self.pending.push_back(Ok(doc));
                }
                // The value goes on past this line: parse it from the reader.
                Some(Err(e)) if e.is_eof() => {
                    rest = Some(line[offset..].to_vec());
                    break;
                }
                Some(Err(e)) => {
                    let err = self.json_error(&e, start_line);
                    self.pending.push_back(Err(err));
                    self.done = true;
                    break;
                }
            }
        }
        if let Some(prefix) = rest {
            self.line -= 1;
            self.value_over_lines(prefix, start_line);
        }
        match self.pending.pop_front() {
            None if self.json_scan.is_some() => self.next_json_scanned(),
            doc => doc,
        }
    }

    /// Go on with a value that runs past its first line, `prefix`: read
    /// whole (see [`Self::whole_json_files`]), cut by a scanner, or parsed
    /// from the reader.
    fn value_over_lines(&mut self, prefix: Vec<u8>, start_line: usize) {
        if !self.split_lists {
            let doc = self.next_json_from_reader(prefix, start_line);
            self.pending.push_back(doc);
            return;
        }
        let prefix = match self.whole_json && self.pending.is_empty() {
            true => match self.take_rest(prefix) {
                Ok(Ok(text)) => {
                    self.done = true;
                    let doc = self.document(Body::JsonRest(text), start_line);
                    self.pending.push_back(Ok(doc));
                    return;
                }
                Ok(Err(prefix)) => prefix,
                Err(e) => {
                    self.done = true;
                    let e = self.read_error(e);
                    self.pending.push_back(Err(e));
                    return;
                }
            },
            false => prefix,
        };
        self.start_json_scan(&prefix, start_line);
    }

    /// The next line; or, when splitting Lists and the line runs on past
    /// the reader's buffer twice over (a `List` on one line, as `kubectl
    /// get -o json | jq -c` prints it), `None`: its values are then cut by
    /// [`JsonScanner`]s as they are read (see [`Self::scan_long_line`]), so
    /// that such a line is never held whole.
    fn json_line_or_scan(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut line = Vec::new();
        if self.split_lists {
            let buf = self.reader.fill_buf()?;
            if memchr::memchr(b'\n', buf).is_none() {
                line.extend_from_slice(buf);
                let n = buf.len();
                self.reader.consume(n);
                let next = self.reader.fill_buf()?;
                if !next.is_empty() && memchr::memchr(b'\n', next).is_none() {
                    self.scan_long_line(&line);
                    return Ok(None);
                }
            }
        }
        self.reader.read_until(b'\n', &mut line)?;
        Ok(Some(line))
    }

    /// The rest of the input after `prefix` (a value's first line), with
    /// `prefix`, when it ends within [`WHOLE_JSON_LIMIT`] bytes and holds no
    /// `"items"` (see [`Self::whole_json_files`]); else `prefix` back, and
    /// what was read of the rest put back in front of the reader.
    fn take_rest(&mut self, prefix: Vec<u8>) -> io::Result<Result<Vec<u8>, Vec<u8>>> {
        if prefix.first() == Some(&b'[') {
            return Ok(Err(prefix));
        }
        let start = prefix.len();
        let mut text = prefix;
        let whole = loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                break memchr::memmem::find(&text, b"\"items\"").is_none();
            }
            if text.len() + buf.len() > WHOLE_JSON_LIMIT {
                break false;
            }
            text.extend_from_slice(buf);
            let n = buf.len();
            self.reader.consume(n);
        };
        if whole {
            return Ok(Ok(text));
        }
        let read = text.split_off(start);
        if !read.is_empty() {
            let reader = std::mem::replace(&mut self.reader, Box::new(io::empty()));
            self.reader = Box::new(io::Cursor::new(read).chain(reader));
        }
        Ok(Err(text))
    }

    /// Cut the values of a long line, `prefix` being its start (without a
    /// line break): those that end within it become documents, and a
    /// scanner goes on with the last one from the reader.
    fn scan_long_line(&mut self, prefix: &[u8]) {
        let mut rest = prefix;
        loop {
            rest = rest.trim_ascii_start();
            if rest.is_empty() {
                return;
            }
            let start_line = self.line;
            let mut scanner = JsonScanner::new(start_line);
            let mut next_item = 0;
            loop {
                if rest.is_empty() {
                    self.json_scan = Some((scanner, start_line, next_item));
                    return;
                }
                let (n, event) = scanner.feed(rest);
                rest = &rest[n..];
                match event {
                    Some(JsonEvent::Item(bytes, line)) => {
                        let doc = self.item_document(next_item, bytes, line);
                        next_item += 1;
                        self.pending.push_back(Ok(doc));
                    }
                    Some(JsonEvent::End(Some(bytes))) => {
                        let doc = self.document(Body::JsonText(bytes), start_line);
                        self.pending.push_back(Ok(doc));
                        break;
                    }
                    Some(JsonEvent::End(None)) => {
                        self.index += 1;
                        break;
                    }
                    None => {}
                }
            }
        }
    }

    /// Cut a value that runs past its first line with a [`JsonScanner`]:
    /// the items of a List one by one, anything else whole. `prefix` is
    /// the part on the first line.
    fn start_json_scan(&mut self, prefix: &[u8], start_line: usize) {
        let mut scanner = JsonScanner::new(start_line);
        let mut next_item = 0;
        let mut rest = prefix;
        while !rest.is_empty() {
            let (n, event) = scanner.feed(rest);
            rest = &rest[n..];
            match event {
                Some(JsonEvent::Item(bytes, line)) => {
                    let doc = self.item_document(next_item, bytes, line);
                    next_item += 1;
                    self.pending.push_back(Ok(doc));
                }
                // Brackets closed within the line, which the parser said goes
                // on: hand it all to the parser to report.
                Some(JsonEvent::End(_)) => {
                    self.line = scanner.line;
                    let doc = self.document(Body::JsonText(prefix.to_vec()), start_line);
                    self.pending.push_back(Ok(doc));
                    return;
                }
                None => {}
            }
        }
        self.line = scanner.line;
        self.json_scan = Some((scanner, start_line, next_item));
    }

    /// The next document cut by the scanner of [`Self::start_json_scan`].
    fn next_json_scanned(&mut self) -> Option<Result<Document, InputError>> {
        loop {
            let (scanner, start_line, next_item) = self.json_scan.as_mut()?;
            let buf = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) => {
                    self.done = true;
                    self.json_scan = None;
                    return Some(Err(self.read_error(e)));
                }
            };
            if buf.is_empty() {
                // The input ended inside the value: the parser says where.
                let (start_line, bytes) = (*start_line, scanner.finish());
                self.done = true;
                self.json_scan = None;
                return Some(Ok(self.document(Body::JsonText(bytes), start_line)));
            }
            let (n, event) = scanner.feed(buf);
            self.reader.consume(n);
            self.line = scanner.line;
            match event {
                None => continue,
                Some(JsonEvent::Item(bytes, line)) => {
                    let item = *next_item;
                    *next_item += 1;
                    return Some(Ok(self.item_document(item, bytes, line)));
                }
                Some(JsonEvent::End(wrapper)) => {
                    let start_line = *start_line;
                    self.json_scan = None;
                    return match wrapper {
                        Some(bytes) => Some(Ok(self.document(Body::JsonText(bytes), start_line))),
                        // A top-level array has nothing but its elements.
                        None => {
                            self.index += 1;
                            self.next_json()
                        }
                    };
                }
            }
        }
    }

    /// A List's item as a document (of the List's index).
    fn item_document(&self, item: usize, bytes: Vec<u8>, line: usize) -> Document {
        Document {
            file: self.file.clone(),
            index: self.index,
            line,
            body: Body::Item(item, Box::new(Body::JsonText(bytes))),
        }
    }

    fn json_error(&mut self, e: &serde_json::Error, start_line: usize) -> InputError {
        let origin = Origin {
            file: self.file.clone(),
            document: self.index,
            item: None,
            line: start_line,
        };
        self.index += 1;
        json_error_at(origin, e)
    }

    /// A value spanning lines: `prefix` (already read) and then the reader,
    /// a byte at a time so that nothing after the value is consumed.
    fn next_json_from_reader(
        &mut self,
        prefix: Vec<u8>,
        start_line: usize,
    ) -> Result<Document, InputError> {
        let mut counter = LineCounter {
            prefix: io::Cursor::new(prefix),
            inner: &mut self.reader,
            newlines: 0,
        };
        let mut de = serde_json::Deserializer::from_reader(&mut counter);
        let result = serde::Deserialize::deserialize(&mut de);
        let newlines = counter.newlines;
        match result {
            Ok(value) => {
                self.line += newlines;
                Ok(self.document(Body::Json(value), start_line))
            }
            Err(e) => {
                // A JSON syntax error loses the stream position: stop here.
                self.done = true;
                Err(self.json_error(&e, start_line))
            }
        }
    }
}

/// The most of a JSON input [`DocumentStream::whole_json_files`] reads
/// whole (the size of a stream's read buffer): a larger input is cut by the
/// scanner as it is read, so that memory stays bounded whatever its size.
const WHOLE_JSON_LIMIT: usize = 1 << 20;

/// serde_json's message without its own " at line L column C" suffix (we
/// report the line relative to the file, not the document).
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Counts newlines consumed by the JSON deserializer, for line numbers;
/// reads `prefix` first.
struct LineCounter<'a> {
    prefix: io::Cursor<Vec<u8>>,
    inner: &'a mut Box<dyn BufRead + Send>,
    newlines: usize,
}

impl Read for LineCounter<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let n = self.prefix.read(&mut out[..1])?;
        if n == 1 {
            if out[0] == b'\n' {
                self.newlines += 1;
            }
            return Ok(1);
        }
        // Read one byte at a time from the buffer so that nothing after the
        // value is consumed (serde_json reads ahead otherwise).
        let buf = self.inner.fill_buf()?;
        if buf.is_empty() {
            return Ok(0);
        }
        out[0] = buf[0];
        if buf[0] == b'\n' {
            self.newlines += 1;
        }
        self.inner.consume(1);
        Ok(1)
    }
}

/// What a document held.
#[derive(Debug)]
pub enum Decoded {
    Run(Box<Run>),
    /// An object that is not a TaskRun or PipelineRun, skipped with a warning.
    Skipped {
        origin: Origin,
        what: String,
    },
}

/// Hint for documents that do not say what they are (Chains' own test
/// fixtures carry no `apiVersion`/`kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindHint {
    /// Infer from the object's shape.
    Infer,
    /// The document was given as a TaskRun (`--taskruns`).
    TaskRun,
}

/// A JSON syntax error in a document that starts at `origin.line`.
fn json_error_at(origin: Origin, e: &serde_json::Error) -> InputError {
    let line = origin.line + e.line().saturating_sub(1);
    InputError::Json {
        message: format!("{} (line {line}, column {})", strip_position(e), e.column()),
        origin,
    }
}

/// Whether `line` holds one JSON object or array and nothing after it but
/// whitespace, judged by its brackets outside strings, so that it can be
/// handed on unparsed. The scan does not validate (the parser reports what
/// is wrong later); lines it is unsure of go to the stream's parser.
fn one_json_value(line: &[u8]) -> bool {
    if !matches!(line.first(), Some(b'{' | b'[')) {
        return false;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = line.get(i) {
        match b {
            b'"' => {
                // Jump over the string: to its closing quote, past escapes.
                i += 1;
                loop {
                    let Some(k) = line
                        .get(i..)
                        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
                    else {
                        return false; // the string runs past the line
                    };
                    i += k;
                    if line[i] == b'\\' {
                        i += 2;
                    } else {
                        break;
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = match depth.checked_sub(1) {
                    Some(d) => d,
                    None => return false,
                };
                if depth == 0 {
                    return line[i + 1..].iter().all(u8::is_ascii_whitespace);
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// A document's JSON value (parsing it if the stream did not), and its
/// JSON text when it came as text.
fn json_body(
    doc: &Document,
    body: Body,
    item: Option<usize>,
) -> Result<(Value, Syntax, Option<Vec<u8>>), InputError> {
    match body {
        Body::Item(i, inner) => json_body(doc, *inner, Some(i)),
        Body::Json(v) => Ok((v, Syntax::Json, None)),
        Body::JsonText(text) | Body::JsonRest(text) => {
            // One UTF-8 check of the whole text is cheaper than serde_json's
            // check of each string (`from_slice`); invalid text still goes to
            // `from_slice`, for its error and position.
            let parsed = match std::str::from_utf8(&text) {
                Ok(s) => serde_json::from_str(s),
                Err(_) => serde_json::from_slice(&text),
            };
            parsed
                .map(|v| (v, Syntax::Json, Some(text)))
                .map_err(|e| json_error_at(doc.origin(item), &e))
        }
        Body::Yaml(text) => Ok((parse_yaml(doc, &text, item)?, Syntax::Yaml, None)),
    }
}

/// One document as a JSON value, with where it came from (for readers of
/// other documents than runs, such as verify's envelopes and bundles).
pub fn parse_document(mut doc: Document) -> Result<(Value, Origin, Syntax), InputError> {
    let body = std::mem::replace(&mut doc.body, Body::Json(Value::Null));
    let item = match &body {
        Body::Item(i, _) => Some(*i),
        _ => None,
    };
    let (value, syntax, _) = json_body(&doc, body, None)?;
    Ok((value, doc.origin(item), syntax))
}

/// A document's runs, and its JSON text when it held one object read from
/// text (see [`decode_with_text`]).
pub type WithText = Result<(Vec<Decoded>, Option<Vec<u8>>), InputError>;

/// Decode one document into the runs it holds (several for a `List`).
pub fn decode(doc: Document, hint: KindHint) -> Result<Vec<Decoded>, InputError> {
    decode_with_text(doc, hint).map(|(decoded, _)| decoded)
}

/// [`decode`], and the document's JSON text when it held one object that
/// was read from JSON text: that object's source as read, which the child
/// store keeps instead of encoding the object again (see
/// [`super::group::ChildStore::add`]).
pub fn decode_with_text(mut doc: Document, hint: KindHint) -> WithText {
    let body = std::mem::replace(&mut doc.body, Body::Json(Value::Null));
    if let Body::Item(i, _) = &body {
        // A List's item, cut out by the stream: one object.
        let origin = doc.origin(Some(*i));
        let (value, syntax, text) = json_body(&doc, body, None)?;
        return Ok((vec![decode_object(value, origin, syntax, hint)?], text));
    }
    let (value, syntax, text) = json_body(&doc, body, None)?;
    decode_value(&doc, value, syntax, text, hint)
}

/// The runs of a document's value (see [`decode_with_text`]); `text` is
/// the value's JSON text, returned when the value is one object.
fn decode_value(
    doc: &Document,
    value: Value,
    syntax: Syntax,
    text: Option<Vec<u8>>,
    hint: KindHint,
) -> WithText {
    let mut out = Vec::new();
    let origin = doc.origin(None);
    match value {
        Value::Object(_) => {
            let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
            if kind.ends_with("List") && value.get("items").is_some() {
                let Value::Object(mut map) = value else {
                    unreachable!("matched Object above")
                };
                let items = match map.remove("items") {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                };
                for (i, item) in items.into_iter().enumerate() {
                    out.push(decode_object(item, doc.origin(Some(i)), syntax, hint)?);
                }
            } else {
                out.push(decode_object(value, origin, syntax, hint)?);
                return Ok((out, text));
            }
        }
        // A top-level JSON array of objects is read like a List.
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                out.push(decode_object(item, doc.origin(Some(i)), syntax, hint)?);
            }
        }
        Value::Null => {}
        other => {
            return Err(InputError::NotAnObject {
                origin,
                found: type_name(&other),
            });
        }
    }
    Ok((out, None))
}

fn parse_yaml(doc: &Document, text: &str, item: Option<usize>) -> Result<Value, InputError> {
    super::yaml::from_str(text).map_err(|e| {
        let loc = e.location();
        let (line, col) = loc
            .map(|l| (l.line() as usize, l.column() as usize))
            .unwrap_or((0, 0));
        let span = (line > 0).then(|| {
            let offset = line_col_offset(text, line, col);
            SourceSpan::from((offset, 0))
        });
        // Report the position in the file, not in the document, and once:
        // the parser's message without its own place (which counts lines
        // from the document's start).
        let file_line = doc.line + line.saturating_sub(1);
        let plain = e.render_with_options(serde_saphyr::render_options! {
            snippets: serde_saphyr::SnippetMode::Off,
        });
        let plain = first_line(&plain);
        let message = loc
            .and_then(|l| {
                plain
                    .strip_suffix(&format!(" at line {}, column {}", l.line(), l.column()))
                    .map(str::to_string)
            })
            .unwrap_or(plain);
        let message = if line > 0 {
            format!("{message} (line {file_line}, column {col})")
        } else {
            message
        };
        InputError::Yaml(Box::new(YamlError {
            origin: doc.origin(item),
            message,
            // Keep the snippet to this document; pad so that line numbers match the file.
            src: NamedSource::new(
                super::escape_controls(&doc.file),
                "\n".repeat(doc.line.saturating_sub(1)) + text,
            ),
            span: span.map(|s| SourceSpan::from((s.offset() + doc.line.saturating_sub(1), 0))),
        }))
    })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

fn line_col_offset(text: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + col.saturating_sub(1).min(l.len());
        }
        offset += l.len();
    }
    text.len()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "mapping",
    }
}

fn decode_object(
    value: Value,
    origin: Origin,
    syntax: Syntax,
    hint: KindHint,
) -> Result<Decoded, InputError> {
    if !value.is_object() {
        return Err(InputError::NotAnObject {
            found: type_name(&value),
            origin,
        });
    }
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let kind_str = value.get("kind").and_then(Value::as_str).unwrap_or("");
    let kind = match kind_str {
        "TaskRun" => RunKind::TaskRun,
        "PipelineRun" => RunKind::PipelineRun,
        "" => match hint {
            KindHint::TaskRun => RunKind::TaskRun,
            KindHint::Infer => match infer_kind(&value) {
                Some(k) => k,
                None => {
                    return Ok(Decoded::Skipped {
                        origin,
                        what: "an object without kind".into(),
                    });
                }
            },
        },
        other => {
            return Ok(Decoded::Skipped {
                origin,
                what: if api_version.is_empty() {
                    format!("kind {other}")
                } else {
                    format!("{api_version} {other}")
                },
            });
        }
    };
    let group = api_version.split('/').next().unwrap_or("");
    if !api_version.is_empty() && group != "tekton.dev" {
        return Ok(Decoded::Skipped {
            origin,
            what: format!("{api_version} {kind}"),
        });
    }
    let mut original = None;
    let object = match api_version.as_str() {
        // Chains' own fixtures carry no apiVersion: they are v1 objects.
        "" | "tekton.dev/v1" => value,
        "tekton.dev/v1beta1" => {
            original = Some(value.clone());
            match kind {
                RunKind::TaskRun => v1beta1::taskrun_to_v1(value),
                RunKind::PipelineRun => v1beta1::pipelinerun_to_v1(value),
            }
        }
        _ => {
            return Err(InputError::ApiVersion {
                origin,
                kind,
                api_version,
            });
        }
    };
    let run = Run {
        kind,
        object,
        source_api_version: if api_version.is_empty() {
            "tekton.dev/v1".into()
        } else {
            api_version
        },
        original,
        syntax,
        origin,
    };
    // A missing status means the run was exported before it ran. An empty
    // one (`status: {}`) is accepted: Chains attests whatever status says.
    if !run.status().is_object() {
        return Err(InputError::NoStatus {
            label: run.label_after_origin(),
            origin: run.origin,
        });
    }
    Ok(Decoded::Run(Box::new(run)))
}

/// [`decode_with_text`] for every document `doc` stands for: itself, or,
/// for the rest of an input read whole ([`Body::JsonRest`]), the one value
/// it holds, or, when it is not one valid value (several values, a syntax
/// error, an `"items"` List), the documents the stream would have cut from
/// it, each decoded, so that results and errors are the same as when cut.
pub fn decode_all(mut doc: Document, hint: KindHint) -> Vec<WithText> {
    let text = match std::mem::replace(&mut doc.body, Body::Json(Value::Null)) {
        Body::JsonRest(text) => text,
        body => {
            doc.body = body;
            return vec![decode_with_text(doc, hint)];
        }
    };
    let parsed = std::str::from_utf8(&text)
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(s).ok());
    match parsed {
        Some(value) => vec![decode_value(&doc, value, Syntax::Json, Some(text), hint)],
        None => DocumentStream::resume(doc.file.clone(), text, doc.index, doc.line)
            .map(|d| d.and_then(|d| decode_with_text(d, hint)))
            .collect(),
    }
}

/// Decode a run kept by [`super::group::ChildStore`]: its source
/// object as JSON, read as it was first (same origin and syntax), so that
/// the run is the same as when it was first decoded.
pub fn decode_kept(
    bytes: &[u8],
    origin: Origin,
    syntax: Syntax,
    kind: RunKind,
) -> Result<Run, InputError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| json_error_at(origin.clone(), &e))?;
    // A run without `kind` was read by its shape, as it is again here.
    let hint = match kind {
        RunKind::TaskRun => KindHint::TaskRun,
        RunKind::PipelineRun => KindHint::Infer,
    };
    match decode_object(value, origin.clone(), syntax, hint)? {
        Decoded::Run(run) => Ok(*run),
        Decoded::Skipped { what, .. } => Err(InputError::Json {
            origin,
            message: format!("a kept {kind} read back as {what}"),
        }),
    }
}

/// Guess the kind of an object that does not say, from fields only one kind has.
fn infer_kind(v: &Value) -> Option<RunKind> {
    let spec = v.get("spec");
    let status = v.get("status");
    let has = |o: Option<&Value>, k: &str| o.and_then(|o| o.get(k)).is_some();
    let pipeline = has(spec, "pipelineRef")
        || has(spec, "pipelineSpec")
        || has(spec, "taskRunTemplate")
        || has(status, "pipelineSpec")
        || has(status, "childReferences");
    let task = has(spec, "taskRef")
        || has(spec, "taskSpec")
        || has(status, "taskSpec")
        || has(status, "steps")
        || has(status, "podName");
    match (pipeline, task) {
        (true, false) => Some(RunKind::PipelineRun),
        (false, true) => Some(RunKind::TaskRun),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every document (or error) of `bytes`, read as a file named `t`.
    fn stream(bytes: &[u8]) -> Vec<Result<Document, InputError>> {
        DocumentStream::new(Arc::from("t"), Box::new(io::Cursor::new(bytes.to_vec()))).collect()
    }

    fn docs(text: &str) -> Vec<Document> {
        stream(text.as_bytes())
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    }

    #[test]
    fn splits_yaml_streams_with_line_numbers() {
        let d = docs("# c\na: 1\n---\nb: 2\n...\n---\n\nc: 3\n");
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].line, 1);
        assert_eq!(d[1].line, 4);
        assert_eq!(d[2].line, 7);
        assert_eq!(d[2].index, 2);
    }

    #[test]
    fn yaml_splitting_does_not_depend_on_the_read_buffer() {
        // Markers, `--- value`, `...`, column-0 sequences, markers inside
        // block scalars (indented, so not markers), CRLF, and non-ASCII text
        // straddling buffer boundaries of every size.
        let text = "# lead\na: 1\nb: |\n  ---\n  x\n---\n- x\n- y\n--- {z: 1}\nw: \u{e9}\u{1F600}\n...\nlast:\r\n- -1\n.x: 2\n---\r\nend: 1";
        let split = |capacity: usize| -> Vec<(usize, usize, String)> {
            DocumentStream::new(
                Arc::from("t"),
                Box::new(io::BufReader::with_capacity(
                    capacity,
                    io::Cursor::new(text.as_bytes().to_vec()),
                )),
            )
            .map(|d| {
                let d = d.unwrap();
                match d.body {
                    Body::Yaml(t) => (d.index, d.line, t),
                    _ => panic!("YAML expected"),
                }
            })
            .collect()
        };
        let whole = split(1 << 16);
        assert_eq!(whole.len(), 5, "{whole:?}");
        assert_eq!(whole[0].2, "\na: 1\nb: |\n  ---\n  x\n");
        assert_eq!(whole[1].2, "- x\n- y\n");
        assert_eq!(whole[2].2, "{z: 1}\nw: \u{e9}\u{1F600}\n");
        assert_eq!(whole[3].2, "last:\r\n- -1\n.x: 2\n");
        assert_eq!((whole[4].1, whole[4].2.as_str()), (16, "end: 1"));
        for capacity in 1..40 {
            assert_eq!(split(capacity), whole, "buffer of {capacity} bytes");
        }
    }

    #[test]
    fn invalid_utf8_in_a_document_is_a_read_error() {
        let r: Vec<_> = stream(b"a: 1\nb: \xff\n");
        let err = r[0].as_ref().unwrap_err();
        assert!(matches!(err, InputError::Io { .. }), "{err:?}");
    }

    #[test]
    fn invalid_utf8_in_a_json_line_is_a_json_error_with_its_place() {
        let mut r = stream(b"{\"a\": 1}\n{\"kind\": \"\xff\"}\n");
        let doc = r.remove(1).unwrap();
        let err = decode(doc, KindHint::Infer).unwrap_err();
        let InputError::Json { message, origin } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(origin.line, 2);
        assert!(
            message.contains("invalid unicode") && message.contains("column 11"),
            "{message}"
        );
    }

    #[test]
    fn lines_broken_by_cr_alone_split_like_lf() {
        let text = "# lead\rkind: TaskRun\rstatus: {}\r---\rb: 2\r\nc: 3\r";
        for capacity in [1, 2, 3, 7, 64] {
            let d: Vec<_> = DocumentStream::new(
                Arc::from("t"),
                Box::new(io::BufReader::with_capacity(
                    capacity,
                    io::Cursor::new(text.as_bytes().to_vec()),
                )),
            )
            .map(|d| match d.unwrap().body {
                Body::Yaml(t) => t,
                _ => panic!("YAML expected"),
            })
            .collect();
            assert_eq!(d.len(), 2, "{capacity}: {d:?}");
            assert!(d[0].contains("kind: TaskRun\n"), "{d:?}");
            assert!(d[1].starts_with("b: 2\r\nc: 3"), "{d:?}");
        }
    }

    #[test]
    fn control_characters_in_file_names_are_escaped_in_messages() {
        let origin = Origin {
            file: Arc::from("a\nb\u{1b}[31m.yaml"),
            document: 0,
            item: None,
            line: 1,
        };
        let shown = origin.to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.contains("a\\nb\\u{1b}[31m.yaml"), "{shown}");
    }

    /// Every document of `text` with lists split, through a buffer of
    /// `capacity` bytes: (index, item, line, body text).
    fn split(text: &str, capacity: usize) -> Vec<(usize, Option<usize>, usize, String)> {
        DocumentStream::new(
            Arc::from("t"),
            Box::new(io::BufReader::with_capacity(
                capacity,
                io::Cursor::new(text.as_bytes().to_vec()),
            )),
        )
        .split_lists()
        .map(|d| {
            let d = d.unwrap();
            let (item, body) = match d.body {
                Body::Item(i, b) => (Some(i), *b),
                b => (None, b),
            };
            let text = match body {
                Body::Yaml(t) => t,
                Body::JsonText(t) | Body::JsonRest(t) => String::from_utf8(t).unwrap(),
                Body::Json(v) => v.to_string(),
                Body::Item(..) => panic!("nested item"),
            };
            (d.index, item, d.line, text)
        })
        .collect()
    }

    /// Every read size cuts `list` as one large buffer did (`whole`), and
    /// its first `items` documents decode to the items the whole List held.
    fn cut_like_the_whole_list(
        list: &str,
        whole: &[(usize, Option<usize>, usize, String)],
        items: usize,
    ) {
        for capacity in 1..64 {
            assert_eq!(split(list, capacity), whole, "buffer of {capacity} bytes");
        }
        let cut: Vec<Value> = whole[..items]
            .iter()
            .map(|(_, _, _, t)| serde_saphyr::from_str(t).unwrap())
            .collect();
        let full: Value = serde_saphyr::from_str(list.split("---").next().unwrap()).unwrap();
        assert_eq!(full["items"].as_array().unwrap(), &cut);
    }

    #[test]
    fn yaml_list_items_are_documents_of_their_own() {
        let list = "apiVersion: v1\nitems:\n- apiVersion: tekton.dev/v1\n  kind: TaskRun\n  spec:\n    params:\n    - name: a\n      value: |\n        x\n\n        - y\n# between\n- kind: PipelineRun\n  metadata: {name: p}\nkind: List\nmetadata:\n  resourceVersion: \"\"\n---\nkind: TaskRun\n";
        let whole = split(list, 1 << 16);
        assert_eq!(
            whole,
            [
                (0, Some(0), 3, "apiVersion: tekton.dev/v1\nkind: TaskRun\nspec:\n  params:\n  - name: a\n    value: |\n      x\n\n      - y\n# between\n".to_string()),
                (0, Some(1), 13, "kind: PipelineRun\nmetadata: {name: p}\n".to_string()),
                (0, None, 1, "apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: \"\"\n".to_string()),
                (1, None, 19, "kind: TaskRun\n".to_string()),
            ]
        );
        cut_like_the_whole_list(list, &whole, 2);
    }

    #[test]
    fn yaml_list_ending_the_input_and_indented_items_stay_correct() {
        let text = "kind: List\nitems:\n- a: 1\n- b: 2\n";
        let got = split(text, 7);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[2].3, "kind: List\nitems: []\n");
        // Items indented under `items:` are cut too.
        let text = "kind: List\nitems:\n  - a: 1\n  -\n    b: 2\n";
        let got = split(text, 5);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[1].3, "\nb: 2\n");
        assert_eq!(got[2].3, "kind: List\nitems: []\n");
    }

    /// What each document of a stream decodes to (runs by their place and
    /// kind, errors by their message), read through a buffer of `capacity`.
    fn decoded(text: &str, capacity: usize) -> Vec<String> {
        DocumentStream::new(
            Arc::from("t"),
            Box::new(io::BufReader::with_capacity(
                capacity,
                io::Cursor::new(text.as_bytes().to_vec()),
            )),
        )
        .split_lists()
        .flat_map(|d| match d.and_then(|d| decode(d, KindHint::Infer)) {
            Ok(items) => items
                .into_iter()
                .map(|i| match i {
                    Decoded::Run(r) => format!("{} {}", r.origin, r.kind),
                    Decoded::Skipped { origin, what } => format!("{origin} skipped {what}"),
                })
                .collect(),
            Err(e) => vec![e.to_string()],
        })
        .collect()
    }

    /// [`decoded`] with [`DocumentStream::whole_json_files`] and
    /// [`decode_all`], and the JSON text kept for each one-object document.
    fn decoded_whole(text: &str, capacity: usize) -> (Vec<String>, Vec<Option<Value>>) {
        let mut texts = Vec::new();
        let runs = DocumentStream::new(
            Arc::from("t"),
            Box::new(io::BufReader::with_capacity(
                capacity,
                io::Cursor::new(text.as_bytes().to_vec()),
            )),
        )
        .split_lists()
        .whole_json_files()
        .flat_map(|d| match d {
            Ok(d) => decode_all(d, KindHint::Infer),
            Err(e) => vec![Err(e)],
        })
        .flat_map(|r| match r {
            Ok((items, text)) => {
                texts.push(text.map(|t| serde_json::from_slice::<Value>(&t).unwrap()));
                items
                    .into_iter()
                    .map(|i| match i {
                        Decoded::Run(r) => format!("{} {}", r.origin, r.kind),
                        Decoded::Skipped { origin, what } => format!("{origin} skipped {what}"),
                    })
                    .collect()
            }
            Err(e) => vec![e.to_string()],
        })
        .collect();
        (runs, texts)
    }

    #[test]
    fn json_read_whole_decodes_as_when_cut() {
        let run = |name: &str| {
            format!(
                "{{\n    \"kind\": \"TaskRun\",\n    \"metadata\": {{\"name\": \"{name}\"}},\n    \"status\": {{}}\n}}\n"
            )
        };
        let one = format!("\n\n{}\n", run("a"));
        let cases = [
            // One object over several lines, as kubectl prints it.
            one.clone(),
            // Several values: each is a document of its own.
            format!("{}{}{{\"kind\": \"TaskRun\", \"status\": {{}}}}\n", run("a"), run("b")),
            // A syntax error in the first value, a good one after it.
            format!("{{\n  \"kind\": \"TaskRun\",,\n}}\n{}", run("b")),
            // Cut off inside the value.
            "{\n  \"kind\": \"TaskRun\",\n  \"status\": {\n".to_string(),
            // A List and a top-level array: their items are cut.
            "{\n\"items\": [\n{\"kind\": \"TaskRun\", \"status\": {}},\n5\n], \"kind\": \"List\"}\n".to_string(),
            "[\n{\"kind\": \"TaskRun\", \"status\": {}}\n]\n".to_string(),
            // A byte order mark after the value, which only the stream skips.
            format!("{}\u{feff}\n", run("a")),
        ];
        for text in &cases {
            for capacity in [1, 7, 64, 1 << 16] {
                let (got, _) = decoded_whole(text, capacity);
                assert_eq!(got, decoded(text, capacity), "{text:?}, buffer {capacity}");
            }
        }
        // A file of one object keeps its text, which decodes to the object.
        let (got, texts) = decoded_whole(&one, 1 << 16);
        assert_eq!(got, ["t, document 1 (line 3) TaskRun"]);
        assert_eq!(texts[0].as_ref().unwrap()["metadata"]["name"], "a");
    }

    #[test]
    fn indented_yaml_list_items_are_documents_of_their_own() {
        // As some tools print a List: items indented under `items:`,
        // children before their parent, a bad item among them.
        let list = "apiVersion: v1\nitems:\n  - apiVersion: tekton.dev/v1\n    kind: TaskRun\n    spec:\n      params:\n        - name: a\n          value: |\n            x\n\n            - y\n  # between\n  - 5\n  - kind: PipelineRun\n    metadata: {name: p}\n    status: {}\nkind: List\nmetadata:\n  resourceVersion: \"\"\n---\nkind: TaskRun\n";
        let whole = split(list, 1 << 16);
        assert_eq!(
            whole,
            [
                (0, Some(0), 3, "apiVersion: tekton.dev/v1\nkind: TaskRun\nspec:\n  params:\n    - name: a\n      value: |\n        x\n\n        - y\n# between\n".to_string()),
                (0, Some(1), 13, "5\n".to_string()),
                (0, Some(2), 14, "kind: PipelineRun\nmetadata: {name: p}\nstatus: {}\n".to_string()),
                (0, None, 1, "apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: \"\"\n".to_string()),
                (1, None, 21, "kind: TaskRun\n".to_string()),
            ]
        );
        cut_like_the_whole_list(list, &whole, 3);
        // The bad item is named by its place, as in the whole List.
        let got = decoded(list, 16);
        assert!(got[1].starts_with("t, document 1, item 2"), "{got:?}");
        assert!(got[1].contains("not a Kubernetes object"), "{got:?}");
        assert_eq!(got[2], "t, document 1, item 3 (line 14) PipelineRun");
    }

    #[test]
    fn a_json_list_on_one_line_is_cut_into_its_items() {
        // `kubectl get -o json | jq -c`: the List on one line, children
        // before their parent, a bad item among them; then more values.
        let list = "{\"apiVersion\":\"v1\",\"items\":[{\"kind\":\"TaskRun\",\"s\":\"]} \\\" [{\"},5,{\"kind\":\"PipelineRun\",\"status\":{},\"a\":[1,{\"b\":[]}]}],\"kind\":\"List\"}\n{\"kind\": \"TaskRun\"} [{\"a\": 1}]\n";
        let whole = decoded(list, 1 << 16);
        assert_eq!(whole.len(), 5, "{whole:?}");
        assert!(whole[1].starts_with("t, document 1, item 2"), "{whole:?}");
        assert_eq!(whole[2], "t, document 1, item 3 PipelineRun");
        // Read through a buffer shorter than the line, the items are cut
        // one by one as they are read, and decode to the same.
        for capacity in 1..64 {
            let cut = split(list, capacity);
            assert_eq!(
                cut.iter().take(5).map(|c| c.1).collect::<Vec<_>>(),
                [Some(0), Some(1), Some(2), None, None],
                "buffer of {capacity} bytes: {cut:?}"
            );
            assert_eq!(cut[1].3, "5");
            assert_eq!(decoded(list, capacity), whole, "buffer of {capacity} bytes");
        }
    }

    #[test]
    fn json_list_items_are_documents_of_their_own() {
        let list = "{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        {\n            \"kind\": \"TaskRun\"\n        },\n        {\"kind\": \"PipelineRun\"}\n    ],\n    \"kind\": \"List\"\n}\n{\"kind\": \"TaskRun\"}\n[\n {\"a\": 1},\n {\"b\": 2}\n]\n";
        let whole = split(list, 1 << 16);
        assert_eq!(whole.len(), 6, "{whole:?}");
        assert_eq!((whole[0].0, whole[0].1, whole[0].2), (0, Some(0), 4));
        assert_eq!(whole[1].3, "{\"kind\": \"PipelineRun\"}");
        assert_eq!((whole[2].0, whole[2].1), (0, None));
        assert!(whole[2].3.contains("\"items\": [],"), "{}", whole[2].3);
        assert_eq!((whole[3].0, whole[3].2), (1, 11));
        assert_eq!((whole[4].0, whole[4].1, whole[4].2), (2, Some(0), 13));
        assert_eq!(
            (whole[5].0, whole[5].1, whole[5].3.as_str()),
            (2, Some(1), "{\"b\": 2}")
        );
        for capacity in 1..64 {
            assert_eq!(split(list, capacity), whole, "buffer of {capacity} bytes");
        }
    }

    #[test]
    fn list_items_decode_with_their_place() {
        let list =
            "{\"kind\": \"List\",\n \"items\": [{\"kind\": \"TaskRun\", \"status\": {}},\n 5]}";
        let docs: Vec<_> = DocumentStream::new(
            Arc::from("t"),
            Box::new(io::Cursor::new(list.as_bytes().to_vec())),
        )
        .split_lists()
        .map(|d| decode(d.unwrap(), KindHint::Infer))
        .collect();
        assert_eq!(docs.len(), 3);
        let Ok(first) = &docs[0] else {
            panic!("{docs:?}")
        };
        let Decoded::Run(run) = &first[0] else {
            panic!("{first:?}")
        };
        assert_eq!(run.origin.item, Some(0));
        let err = docs[1].as_ref().unwrap_err().to_string();
        assert!(err.contains("document 1, item 2"), "{err}");
        assert!(docs[2].as_ref().unwrap().is_empty());
    }

    #[test]
    fn empty_documents_are_not_documents() {
        assert_eq!(docs("---\n---\n# only a comment\n").len(), 0);
    }

    #[test]
    fn reads_concatenated_json() {
        let d = docs("{\"a\": 1}\n{\"b\":\n 2}\n");
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].line, 2);
    }

    #[test]
    fn json_lines_and_multi_line_values_mix() {
        // Two values on one line, a pretty value over three lines, a value
        // starting after another on a line and ending on the next.
        let d = docs("{\"a\":1}{\"b\":2}\n{\n \"c\": 3\n}\n[1] {\"d\":\n4}\n{\"e\":5}");
        let lines: Vec<usize> = d.iter().map(|d| d.line).collect();
        let indexes: Vec<usize> = d.iter().map(|d| d.index).collect();
        let values: Vec<Value> = d
            .into_iter()
            .map(|d| {
                let (v, _, syntax) = parse_document(d).unwrap();
                assert_eq!(syntax, Syntax::Json);
                v
            })
            .collect();
        assert_eq!(values.len(), 6, "{values:?}");
        assert_eq!(values[2]["c"], 3);
        assert_eq!(values[4]["d"], 4);
        assert_eq!(values[5]["e"], 5);
        assert_eq!(lines, [1, 1, 2, 5, 5, 7]);
        assert_eq!(indexes, [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn one_json_value_is_judged_by_brackets_outside_strings() {
        for yes in [
            &b"{}"[..],
            b"[1, {\"a\": [2]}]  \n",
            b"{\"s\": \"} { ] [ \\\" \\\\\"}",
            b"{\"a\": tru}", // invalid, but one bracketed unit: the parser reports it
        ] {
            assert!(one_json_value(yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b"{\"a\": 1} {\"b\": 2}"[..],
            b"{\"a\": 1}[2]\n",
            b"{\"a\": 1} 5",
            b"{\"a\": [1,\n",
            b"{\"s\": \"unterminated\n",
            b"{\"s\": \"ends in a backslash\\",
            b"5 {}",
            b"}{",
            b"{\"a\": ]}",
        ] {
            assert!(!one_json_value(no), "{}", String::from_utf8_lossy(no));
        }
    }

    #[test]
    fn a_bad_json_line_is_reported_where_it_is_and_the_next_lines_still_read() {
        let text = b"{\"a\": 1}\n{\"b\": nul}\n{\"c\": 3}\n".to_vec();
        let docs: Vec<_> = stream(&text)
            .into_iter()
            .map(|d| parse_document(d.unwrap()))
            .collect();
        assert_eq!(docs.len(), 3);
        let err = docs[1].as_ref().unwrap_err().to_string();
        assert!(err.contains("line 2, column"), "{err}");
        assert_eq!(docs[2].as_ref().unwrap().0["c"], 3);
    }

    #[test]
    fn json_errors_after_good_values_on_a_line_keep_them() {
        let r: Vec<_> = stream(b"{\"a\": 1} {\"b\": ]}\n{\"c\": 1}");
        assert_eq!(r.len(), 2, "the stream stops at a syntax error");
        assert!(r[0].is_ok());
        let err = r[1].as_ref().unwrap_err().to_string();
        assert!(err.contains("line 1, column"), "{err}");
        // A value cut off at the end of the input.
        let r: Vec<_> = stream(b"{\"a\": 1}\n{\"b\": [1,\n");
        assert!(r[1].as_ref().unwrap_err().to_string().contains("EOF"));
    }

    #[test]
    fn json_error_reports_file_line() {
        let r: Vec<_> = stream(b"{\"a\": 1}\n{\"b\": ]}");
        let err = r[1].as_ref().unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn yaml_error_names_its_place_once_in_file_lines() {
        // The fast path gives up on both; the full parser's error says where.
        for (text, place) in [
            (
                "a: 1\n---\nkind: TaskRun\nmetadata:\n  name: \"x\n  a: : b\n",
                "(line 6, column 3)",
            ),
            (
                "kind: TaskRun\nmetadata:\n  bad: [1, 2\nstatus: {}\n",
                "(line 4, column 7)",
            ),
        ] {
            let d = docs(text).pop().unwrap();
            let msg = decode(d, KindHint::Infer).unwrap_err().to_string();
            assert!(msg.ends_with(place), "{msg}");
            assert_eq!(msg.matches("column").count(), 1, "{msg}");
            assert!(!msg.contains("error:"), "{msg}");
            assert!(!msg.contains(" at line "), "{msg}");
        }
    }

    #[test]
    fn yaml_error_reports_file_line() {
        let d = docs("a: 1\n---\nkind: TaskRun\nstatus: [\n");
        let err = decode(d.into_iter().nth(1).unwrap(), KindHint::Infer).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("document 2"), "{msg}");
        assert!(msg.contains("line 4") || msg.contains("line 5"), "{msg}");
    }

    #[test]
    fn infers_kind_of_bare_fixtures() {
        let tr = serde_json::json!({"status": {"steps": []}});
        assert_eq!(infer_kind(&tr), Some(RunKind::TaskRun));
        let pr = serde_json::json!({"status": {"pipelineSpec": {}}});
        assert_eq!(infer_kind(&pr), Some(RunKind::PipelineRun));
    }
}
