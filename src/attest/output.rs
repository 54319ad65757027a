//! Where attest's products go: a stream (JSON Lines or YAML) on stdout or
//! `--output-file`, or files under `--output-dir`.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::pipeline::{Product, RunError, RunWriteBack};
use crate::plan::{AttestOutput, StreamFormat};
use crate::provenance;
use crate::run::{RunId, Syntax};
use crate::sigstore::bundle;
use crate::sink::Sink;

/// A run's products made ready to write: every byte, but no names yet
/// (names are made unique in input order, by [`Output::place`]). Made
/// independently of other runs, so in parallel, and small enough to be
/// held back or spilled to disk while earlier runs wait (see `held`).
#[derive(Debug, PartialEq, Eq)]
pub struct Prepared {
    /// The stdout line, without its line break (empty with `--output-dir`).
    pub line: Vec<u8>,
    /// With `--output-dir`, the files named `<base name><suffix>`: the main one
    /// first, then the image signatures' files.
    pub files: Vec<(String, Vec<u8>)>,
    /// The run with Chains' annotations, when it is written back.
    pub annotated: Option<(Vec<u8>, Syntax)>,
    /// Image signatures no backend stored (stdout has no room for them).
    pub images_unstored: usize,
}

impl Prepared {
    /// The bytes it holds (for the budget of results held in memory).
    pub fn size(&self) -> usize {
        self.line.len()
            + self
                .files
                .iter()
                .map(|(name, bytes)| name.len() + bytes.len())
                .sum::<usize>()
            + self.annotated.as_ref().map_or(0, |(b, _)| b.len())
    }
}

/// One run's files, in the order they must be written: the annotated run
/// first, so that nothing claims the run is stored when it cannot be.
#[derive(Debug)]
pub struct Planned {
    origin: String,
    files: Vec<(std::path::PathBuf, Vec<u8>)>,
}

impl Planned {
    /// Write the files, each atomically; the run counts as written only when
    /// all of them are.
    pub fn write(&self) -> Result<(), RunError> {
        for (path, bytes) in &self.files {
            crate::atomic::write(path, bytes).map_err(|source| RunError::Write {
                origin: self.origin.clone(),
                path: path.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }
}

pub struct Output<'a> {
    dir: Option<&'a Path>,
    yaml: bool,
    bundle: bool,
    write_back: Option<RunWriteBack>,
    stdout: io::BufWriter<Sink>,
    used_names: HashSet<String>,
    /// Image signatures that had nowhere to go: no backend stored them and
    /// stdout carries one line per run.
    pub images_not_written: usize,
}

impl<'a> Output<'a> {
    pub fn new(
        plan: &'a AttestOutput,
        sink: Sink,
        bundle: bool,
        write_back: Option<RunWriteBack>,
    ) -> Self {
        Output {
            dir: plan.dir.as_deref(),
            yaml: plan.format == StreamFormat::Yaml,
            bundle,
            write_back,
            stdout: io::BufWriter::with_capacity(1 << 16, sink),
            used_names: HashSet::new(),
            images_not_written: 0,
        }
    }

    /// Whether products go to stdout (where their order shows).
    pub fn to_stdout(&self) -> bool {
        self.dir.is_none()
    }

    /// Everything a product writes, without names; `None` for a disabled
    /// run. Independent of other runs, so callers prepare in parallel,
    /// before [`Output::place`].
    pub fn prepare(&self, product: Product) -> Option<Prepared> {
        let (mut main, ext) = match &product {
            Product::Statement(stmt) => (provenance::to_bytes(stmt), "statement.json"),
            Product::Signed {
                envelope,
                key_hint,
                certificate,
                tlog,
                ..
            } if self.bundle => (
                bundle::write_dsse(
                    envelope,
                    &bundle::Signer {
                        key_hint,
                        certificate: certificate.as_ref(),
                    },
                    tlog.as_deref(),
                ),
                "sigstore.json",
            ),
            Product::Signed { envelope, .. } => (envelope.to_json(), "intoto.jsonl"),
            Product::Disabled => return None,
        };
        let (images, annotated) = match product {
            Product::Signed {
                images, annotated, ..
            } => (images, annotated),
            _ => (Vec::new(), None),
        };
        let annotated = annotated.filter(|_| self.write_back.is_some());
        if self.dir.is_none() {
            return Some(Prepared {
                line: main,
                files: Vec::new(),
                annotated,
                images_unstored: images.iter().filter(|i| !i.stored).count(),
            });
        }
        if ext.ends_with("jsonl") {
            main.push(b'\n');
        }
        let mut files = vec![(format!(".{ext}"), main)];
        for img in images {
            let stem = format!(
                ".image-{}",
                img.digest_hex.get(..12).unwrap_or(&img.digest_hex)
            );
            if self.bundle {
                let b = bundle::write_message(
                    &img.payload,
                    &img.signature,
                    &bundle::Signer {
                        key_hint: &img.key_hint,
                        certificate: img.certificate.as_ref(),
                    },
                    img.tlog.as_ref(),
                );
                files.push((format!("{stem}.sigstore.json"), b));
                continue;
            }
            files.push((format!("{stem}.payload"), img.payload));
            files.push((
                format!("{stem}.signature"),
                STANDARD.encode(&img.signature).into_bytes(),
            ));
            if let Some(c) = img.certificate {
                files.push((format!("{stem}.cert"), c.certificate_pem.into_bytes()));
                files.push((format!("{stem}.chain"), c.chain_pem.into_bytes()));
            }
        }
        Some(Prepared {
            line: Vec::new(),
            files,
            annotated,
            images_unstored: 0,
        })
    }

    /// Decide where one run's products go (names are made unique here, in
    /// input order) and write what goes to stdout. Files are returned, to be
    /// written with [`Planned::write`], which callers may do in parallel.
    /// `prepared` is [`Output::prepare`]'s for this run (`None`: disabled).
    pub fn place(&mut self, run: &RunId, prepared: Option<Prepared>) -> Result<Planned, RunError> {
        let Some(prepared) = prepared else {
            return Ok(Planned {
                origin: run.origin.to_string(),
                files: Vec::new(),
            });
        };
        // The annotated run first: if it cannot be written, nothing claims the run is stored.
        let mut files: Vec<(std::path::PathBuf, Vec<u8>)> = Vec::new();
        if let (Some((bytes, syntax)), Some(wb)) = (prepared.annotated, &self.write_back) {
            let path = match wb {
                RunWriteBack::InPlace => {
                    in_place_target(run).map_err(|source| RunError::Write {
                        origin: run.origin.to_string(),
                        path: run.origin.file.to_string(),
                        source,
                    })?
                }
                RunWriteBack::Dir(dir) => {
                    let ext = if syntax == Syntax::Json {
                        "json"
                    } else {
                        "yaml"
                    };
                    let base = self.peek_base_name(run);
                    dir.join(format!("{base}.{ext}"))
                }
            };
            files.push((path, bytes));
        }
        let Some(dir) = self.dir else {
            self.images_not_written += prepared.images_unstored;
            let name = self.stdout.get_ref().name();
            let line = &prepared.line;
            match self.yaml {
                true => write_yaml(&mut self.stdout, line),
                false => self
                    .stdout
                    .write_all(line)
                    .and_then(|_| self.stdout.write_all(b"\n")),
            }
            .map_err(|source| RunError::Write {
                origin: run.origin.to_string(),
                path: name,
                source,
            })?;
            return Ok(Planned {
                origin: run.origin.to_string(),
                files,
            });
        };
        let base = self.base_name(run);
        for (suffix, bytes) in prepared.files {
            files.push((dir.join(format!("{base}{suffix}")), bytes));
        }
        Ok(Planned {
            origin: run.origin.to_string(),
            files,
        })
    }

    /// The base name `write` will give this run (without claiming it).
    fn peek_base_name(&self, run: &RunId) -> String {
        let base = plain_base_name(run);
        let mut name = base.clone();
        let mut n = 2;
        while self.used_names.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        name
    }

    /// `<kind>-<namespace>-<name>`, made unique within the batch.
    fn base_name(&mut self, run: &RunId) -> String {
        let base = plain_base_name(run);
        let mut name = base.clone();
        let mut n = 2;
        while !self.used_names.insert(name.clone()) {
            name = format!("{base}-{n}");
            n += 1;
        }
        name
    }

    /// Flush the stream and, with `--output-file`, give the file its name.
    pub fn finish(self) -> Result<(), RunError> {
        let name = self.stdout.get_ref().name();
        let werr = |source| RunError::Write {
            origin: "output".into(),
            path: name.clone(),
            source,
        };
        let sink = self
            .stdout
            .into_inner()
            .map_err(|e| werr(io::Error::new(e.error().kind(), e.error().to_string())))?;
        sink.commit().map_err(werr)
    }
}

/// One product as a YAML document (`-o yaml`): the same JSON, for readers
/// who take kubectl's YAML.
fn write_yaml(out: &mut impl Write, json: &[u8]) -> io::Result<()> {
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let text = serde_saphyr::to_string(&value)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    out.write_all(b"---\n")?;
    out.write_all(text.as_bytes())
}

/// `<kind>-<namespace>-<name>` (or the uid, or the input position, for unnamed runs).
fn plain_base_name(run: &RunId) -> String {
    let mut base = run.kind.lower().to_string();
    for part in [run.namespace.as_str(), run.name.as_str()] {
        if !part.is_empty() {
            base.push('-');
            base.push_str(&sanitize(part));
        }
    }
    if base == run.kind.lower() {
        if !run.uid.is_empty() {
            base.push('-');
            base.push_str(&sanitize(&run.uid));
        } else {
            let stem = Path::new(&*run.origin.file)
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| "stdin".into());
            base = format!("{base}-{}-{}", sanitize(&stem), run.origin.document + 1);
            if let Some(i) = run.origin.item {
                base.push_str(&format!("-{}", i + 1));
            }
        }
    }
    base
}

/// The input file of a run, when it holds that run alone (so that it can be
/// rewritten with the annotations without touching other documents).
fn in_place_target(run: &RunId) -> io::Result<std::path::PathBuf> {
    let file = std::path::PathBuf::from(&*run.origin.file);
    let alone = run.origin.document == 0 && run.origin.item.is_none() && file.is_file() && {
        let reader = io::BufReader::new(std::fs::File::open(&file)?);
        crate::run::read::DocumentStream::new(run.origin.file.clone(), Box::new(reader))
            .take(2)
            .count()
            == 1
    };
    if alone {
        Ok(file)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "--in-place needs one run per input file (this one is part of a stream, a List or stdin); use --output-dir DIR",
        ))
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
