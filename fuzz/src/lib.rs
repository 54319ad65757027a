//! The fuzz targets' bodies, one function per target (`src/bin/<name>.rs`
//! feeds AFL's inputs to it). Each calls the parsers chains runs on outside
//! input the way the commands call them, and then the stages that read the
//! parsed value, so that a panic anywhere on the way is found. Inputs that
//! are rejected with an error are fine; only panics, hangs and failed
//! assertions of properties (stated per target) are findings.

use std::io::BufRead;
use std::sync::Arc;

use chains::provenance::{self, Format, Options};
use chains::run::read::{self, Body, Decoded, Document, DocumentStream, KindHint};
use chains::run::{Run, RunKind};
use serde_json::Value;

/// Every provenance format, so that each writer reads every run.
const FORMATS: [Format; 3] = [Format::SlsaV1, Format::SlsaV2Alpha3, Format::SlsaV2Alpha4];

/// A stream of run documents (YAML with the fast path and the full parser,
/// JSON, `List`s, v1beta1 runs converted to v1), as `chains attest` reads
/// it, and each run decoded into provenance in every format; PipelineRuns
/// get every TaskRun of the input as children.
pub fn run_documents(data: &[u8]) {
    let stream = |data: &[u8]| {
        let reader: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(data.to_vec()));
        DocumentStream::new(Arc::from("fuzz"), reader)
    };
    // As attest reads: List items one by one, a file of one JSON value whole.
    let mut runs = Vec::new();
    let attest_reads = stream(data).split_lists().whole_json_files();
    for doc in attest_reads.take(64) {
        let Ok(doc) = doc else { continue };
        for (decoded, _text) in read::decode_all(doc, KindHint::Infer).into_iter().flatten() {
            for item in decoded {
                if let Decoded::Run(run) = item {
                    runs.push(*run);
                }
            }
        }
    }
    // As the other readers do: a List as one document.
    for doc in stream(data).take(64) {
        let Ok(doc) = doc else { continue };
        let _ = read::decode(doc, KindHint::Infer);
    }
    attest_all(&runs);
}

/// Provenance for each run in every format; PipelineRuns with every TaskRun.
fn attest_all(runs: &[Run]) {
    let tasks: Vec<&Run> = runs.iter().filter(|r| r.kind == RunKind::TaskRun).collect();
    for run in runs {
        let children: &[&Run] = if run.kind == RunKind::PipelineRun {
            &tasks
        } else {
            &[]
        };
        for format in FORMATS {
            for deep_inspection in [false, true] {
                let opts = Options {
                    format,
                    deep_inspection,
                    ..Options::default()
                };
                if let Ok(statement) = provenance::statement(run, children, &opts) {
                    let _ = provenance::to_bytes(&statement);
                    let _ = provenance::subjects(&statement);
                }
            }
        }
    }
}

/// Differential: the YAML fast path and the full parser agree on every
/// document both accept (the fast path is only ever used in the full
/// parser's place).
pub fn yaml_differential(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(fast) = chains::run::yaml::parse(text) else {
        return;
    };
    match serde_saphyr::from_str::<Value>(text) {
        Ok(full) => assert_eq!(
            fast, full,
            "the YAML fast path and the full parser disagree on {text:?}"
        ),
        Err(e) => panic!("the fast path accepted what the full parser rejects ({e}): {text:?}"),
    }
}

/// One JSON object converted from v1beta1 to v1 (TaskRun and PipelineRun),
/// then decoded and attested as a v1 run.
pub fn v1beta1(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let converted = [
        chains::run::v1beta1::taskrun_to_v1(value.clone()),
        chains::run::v1beta1::pipelinerun_to_v1(value),
    ];
    let mut runs = Vec::new();
    for v in converted {
        runs.extend(run_from_object(v));
    }
    attest_all(&runs);
}

/// An object as the cluster hands it over (watch and the cluster backend).
fn run_from_object(object: Value) -> Option<Run> {
    let doc = Document {
        file: Arc::from("cluster"),
        index: 0,
        line: 1,
        body: Body::Json(object),
    };
    match read::decode(doc, KindHint::Infer).ok()?.pop()? {
        Decoded::Run(run) => Some(*run),
        Decoded::Skipped { .. } => None,
    }
}

/// A Kubernetes watch event line as kube's client decodes it, and the run
/// in an ADDED or MODIFIED event as `chains watch` reads it.
pub fn watch_event(data: &[u8]) {
    use kube::core::WatchEvent;
    for line in data.split(|&b| b == b'\n').take(16) {
        let Ok(event) = serde_json::from_slice::<WatchEvent<Value>>(line) else {
            continue;
        };
        if let WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) = event
            && let Some(run) = run_from_object(o)
        {
            attest_all(&[run]);
        }
    }
}

/// A chains-config file (a ConfigMap or a plain map).
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = chains::config::Config::from_text(text, "fuzz") {
        let _ = cfg.format_for(false);
        let _ = cfg.format_for(true);
    }
}

/// What `chains verify` reads from a file: DSSE envelopes, Sigstore bundles
/// and anything else, in YAML or JSON streams, each checked against a key.
pub fn verify_documents(data: &[u8]) {
    use chains::verify::read::{Input, read};
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if std::io::Write::write_all(&mut file, data).is_err() {
        return;
    }
    let input = Input::Documents(chains::run::read::Source::File(file.path().to_path_buf()));
    let _ = read(&input, |evidence| {
        let _ = format!("{evidence:?}");
    });
}

/// A Sigstore bundle on its own.
pub fn bundle(data: &[u8]) {
    let _ = chains::verify::bundle::parse(data, "fuzz");
}

/// The log key chains checks entries with in the Rekor targets.
const LOG_KEY: &str = include_str!("../../testdata/keys/p384.pub");

/// A Rekor log entry (body, verification, inclusion proof and checkpoint,
/// signed entry timestamp) checked offline; and a log key file.
pub fn rekor(data: &[u8]) {
    use chains::tlog::{LogEntry, Rekor, Rules};
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Rekor::offline(text);
    }
    let Ok(entry) = serde_json::from_slice::<LogEntry>(data) else {
        return;
    };
    // One log for every input: a log holds an HTTP client, whose set-up
    // would cost more than the checks.
    static LOG: std::sync::OnceLock<Option<Rekor>> = std::sync::OnceLock::new();
    let Some(log) = LOG.get_or_init(|| Rekor::offline(LOG_KEY).ok()) else {
        return;
    };
    let _ = log.verify_entry(&entry, Rules::default());
    let _ = log.verify_entry(
        &entry,
        Rules {
            proof_required: true,
        },
    );
    let _ = entry.cosign_bundle_json();
    let _ = entry.body_json();
    let _ = chains::sigstore::bundle::tlog_entry(&entry);
}

/// Certificates: a DER certificate's key, PEM roots and intermediates.
pub fn certificate(data: &[u8]) {
    use chains::verify::certificate::{Roots, public_key_of};
    let _ = public_key_of(data);
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(mut roots) = Roots::from_pem(text)
    {
        let _ = roots.add_intermediates_pem(text);
    }
}

/// Every key format: PEM private keys (PKCS#8, SEC1, PKCS#1), cosign's
/// encrypted keys, PEM and DER public keys.
pub fn keys(data: &[u8]) {
    use chains::sign::PublicKey;
    use chains::sign::local::LocalSigner;
    let _ = PublicKey::from_spki_der(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = PublicKey::from_pem(text);
    let _ = LocalSigner::from_pem(text, "fuzz.key");
    let labels = [
        "ENCRYPTED SIGSTORE PRIVATE KEY",
        "ENCRYPTED COSIGN PRIVATE KEY",
    ];
    let sealed = chains::pem::decode(text, &labels).unwrap_or_else(|| data.to_vec());
    let _ = LocalSigner::from_encrypted(&sealed, b"password", "fuzz.key");
}

/// OCI manifests and indexes as the registry client reads them.
pub fn oci(data: &[u8]) {
    chains::fuzzing::oci_document(data);
}

/// An OCI image layout on disk, read as `chains verify --local-image DIR`
/// reads it (index.json, oci-layout, blobs checked against their digests,
/// cosign's tags and OCI 1.1 referrers, and what they carry parsed).
///
/// The input is parts separated by a line `----`: index.json, oci-layout
/// (left out when empty), then blobs 2, 3, ..., each written under its own
/// SHA-256 so that the reader gets past the digest checks. In a part, `@@N`
/// becomes blob N's digest (`sha256:HEX`) and `%%N` its HEX (as in
/// cosign's `sha256-HEX.sig` tags), N one digit naming a later blob.
pub fn oci_layout(data: &[u8]) {
    use sha2::{Digest, Sha256};
    let mut parts: Vec<Vec<u8>> = split_parts(data, b"\n----\n");
    if parts.len() > 10 {
        return;
    }
    let mut hexes: Vec<Option<String>> = vec![None; parts.len()];
    // Later blobs first, so that each part can name the ones after it.
    for i in (0..parts.len()).rev() {
        let filled = fill_digests(&parts[i], &hexes);
        parts[i] = filled;
        if i >= 2 {
            let hex: String = Sha256::digest(&parts[i])
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            hexes[i] = Some(hex);
        }
    }
    let Ok(dir) = tempfile::tempdir() else { return };
    let blobs = dir.path().join("blobs").join("sha256");
    if std::fs::create_dir_all(&blobs).is_err() {
        return;
    }
    for (i, part) in parts.iter().enumerate() {
        let path = match (i, &hexes[i]) {
            (0, _) => dir.path().join("index.json"),
            (1, _) if part.is_empty() => continue,
            (1, _) => dir.path().join("oci-layout"),
            (_, Some(hex)) => blobs.join(hex),
            (_, None) => continue,
        };
        if std::fs::write(path, part).is_err() {
            return;
        }
    }
    let arg = dir.path().display().to_string();
    let _ = chains::verify::local::read_local_image(&arg);
    let _ = chains::verify::local::read_local_image(&format!("{arg}:latest"));
}

/// `data` cut at each `separator`.
fn split_parts(data: &[u8], separator: &[u8]) -> Vec<Vec<u8>> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(separator.len()).position(|w| w == separator) {
        parts.push(rest[..at].to_vec());
        rest = &rest[at + separator.len()..];
    }
    parts.push(rest.to_vec());
    parts
}

/// `part` with `@@N` and `%%N` replaced by blob N's digest and hex, where
/// blob N's digest is known (a later part); other text is left as it is.
fn fill_digests(part: &[u8], hexes: &[Option<String>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(part.len());
    let mut i = 0;
    while i < part.len() {
        let token = part.get(i..i + 2);
        let n = part
            .get(i + 2)
            .and_then(|d| (*d as char).to_digit(10))
            .map(|d| d as usize);
        let hex = n.and_then(|n| hexes.get(n)).and_then(Option::as_ref);
        match (token, hex) {
            (Some(b"@@"), Some(hex)) => {
                out.extend_from_slice(b"sha256:");
                out.extend_from_slice(hex.as_bytes());
                i += 3;
            }
            (Some(b"%%"), Some(hex)) => {
                out.extend_from_slice(hex.as_bytes());
                i += 3;
            }
            _ => {
                out.push(part[i]);
                i += 1;
            }
        }
    }
    out
}
