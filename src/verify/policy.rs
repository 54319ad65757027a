//! Policy, in the spirit of slsa-verifier: what a verified statement must say.
//!
//! Checks about the build (predicate type, builder, source) apply to
//! attestations; an image signature says only which image digest was
//! signed, so it is held to the subject, image and age checks. Checks run
//! in a fixed order and the first that fails is named.

use std::time::Duration;

use serde_json::Value;

use super::check::{Content, Rejection, TlogStatus, Verified};
use super::source_ref::SourceRef;

/// What the statement must say. Empty fields are not checked.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub predicate_type: Option<String>,
    pub builder_id: Option<String>,
    pub source_uri: Option<String>,
    pub source_digest: Option<DigestSpec>,
    /// `--source-tag`, `--source-branch`, `--source-versioned-tag`.
    pub source_ref: Option<SourceRef>,
    pub subjects: Vec<SubjectSpec>,
    /// With `--image`: the image's digest must be a subject (or the digest
    /// an image signature signs).
    pub image: Option<SubjectSpec>,
    pub max_age: Option<Duration>,
    /// `--artifact`: the digests of the artifact (a file's SHA-256 and
    /// SHA-512, or the one given): a message signature must be over it, an
    /// image signature of it, a statement must name it as a subject.
    pub artifact: Vec<DigestSpec>,
}

/// `ALG:HEX`, or a bare hex digest (any algorithm).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestSpec {
    pub algorithm: Option<String>,
    pub hex: String,
}

impl std::str::FromStr for DigestSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (algorithm, hex) = match s.split_once(':') {
            Some((alg, hex)) => (Some(alg.to_ascii_lowercase()), hex),
            None => (None, s),
        };
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("{s:?} is not a digest (ALG:HEX or HEX)"));
        }
        Ok(DigestSpec {
            algorithm,
            hex: hex.to_ascii_lowercase(),
        })
    }
}

impl std::fmt::Display for DigestSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.algorithm {
            Some(a) => write!(f, "{a}:{}", self.hex),
            None => f.write_str(&self.hex),
        }
    }
}

impl DigestSpec {
    /// Whether an in-toto digest set (`{"sha256": "..."}`) holds this digest.
    fn in_set(&self, set: Option<&Value>) -> bool {
        let Some(map) = set.and_then(Value::as_object) else {
            return false;
        };
        map.iter().any(|(alg, hex)| {
            self.algorithm.as_deref().is_none_or(|a| a == alg)
                && hex
                    .as_str()
                    .is_some_and(|h| h.eq_ignore_ascii_case(&self.hex))
        })
    }
}

/// `NAME@ALG:HEX` (NAME may be empty: any name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectSpec {
    pub name: String,
    pub digest: DigestSpec,
}

impl std::str::FromStr for SubjectSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, digest) = s
            .rsplit_once('@')
            .ok_or_else(|| format!("{s:?} is not NAME@ALG:HEX"))?;
        let digest: DigestSpec = digest.parse()?;
        if digest.algorithm.is_none() {
            return Err(format!(
                "{s:?} is not NAME@ALG:HEX (the algorithm is missing)"
            ));
        }
        Ok(SubjectSpec {
            name: name.to_string(),
            digest,
        })
    }
}

impl std::fmt::Display for SubjectSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name, self.digest)
    }
}

/// cosign's short predicate type names.
fn predicate_alias(name: &str) -> &str {
    match name {
        "slsaprovenance" | "slsaprovenance02" => "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1" => "https://slsa.dev/provenance/v1",
        "link" => "https://in-toto.io/Link/v1",
        "spdx" => "https://spdx.dev/Document",
        "spdxjson" => "https://spdx.dev/Document",
        "cyclonedx" => "https://cyclonedx.org/bom",
        "vuln" => "https://cosign.sigstore.dev/attestation/vuln/v1",
        other => other,
    }
}

/// Source URIs compare without scheme, `git+` prefix, `.git` suffix, a
/// `@ref` suffix or a trailing slash: `git+https://github.com/o/r.git@main`
/// and `github.com/o/r` are the same repository.
fn normalize_uri(uri: &str) -> String {
    let mut u = uri.trim().to_ascii_lowercase();
    if let Some(rest) = u.strip_prefix("git+") {
        u = rest.to_string();
    }
    if let Some((_, rest)) = u.split_once("://") {
        u = rest.to_string();
    }
    if let Some((repo, _)) = u.rsplit_once('@')
        && repo.contains('/')
    {
        u = repo.to_string();
    }
    let u = u.trim_end_matches('/');
    u.strip_suffix(".git").unwrap_or(u).to_string()
}

impl Policy {
    /// Whether checks only a statement can meet are asked for (what
    /// built it, from what source, with which predicate).
    pub fn about_build(&self) -> bool {
        self.predicate_type.is_some()
            || self.builder_id.is_some()
            || self.source_uri.is_some()
            || self.source_digest.is_some()
            || self.source_ref.is_some()
    }

    /// Check a verified artifact; `now` is unix seconds.
    pub fn check(&self, verified: &Verified, now: i64) -> Result<(), Rejection> {
        match &verified.content {
            Content::Statement { statement, .. } => self.check_statement(statement)?,
            Content::ImageSignature { image_digest, .. } => {
                for want in self.subjects.iter().chain(&self.image) {
                    let (alg, hex) = image_digest.split_once(':').unwrap_or(("", image_digest));
                    let ok = want.digest.algorithm.as_deref().is_none_or(|a| a == alg)
                        && hex.eq_ignore_ascii_case(&want.digest.hex);
                    if !ok {
                        return Err(Rejection::new(
                            if self.image.as_ref() == Some(want) {
                                "image"
                            } else {
                                "subject"
                            },
                            format!("it signs image {image_digest}, not {}", want.digest),
                        ));
                    }
                }
            }
            Content::Blob { payload_type, .. } => {
                if self.about_build() {
                    let what = match payload_type {
                        Some(t) => format!("a DSSE payload of type {t}"),
                        None => "a signature over a blob".to_string(),
                    };
                    return Err(Rejection::new(
                        "payload-type",
                        format!("it is {what}, not an in-toto statement about a build"),
                    ));
                }
                if !self.subjects.is_empty() || self.image.is_some() {
                    return Err(Rejection::new(
                        "subject",
                        "it signs a blob, which has no subjects or image",
                    ));
                }
            }
        }
        self.check_artifact(&verified.content)?;
        if let Some(max) = self.max_age {
            self.check_age(verified, max, now)?;
        }
        Ok(())
    }

    /// The statement's predicate type, builder, source and subjects, each as
    /// the policy asks.
    fn check_statement(&self, st: &Value) -> Result<(), Rejection> {
        let predicate_type = st
            .get("predicateType")
            .and_then(Value::as_str)
            .unwrap_or("");
        self.check_predicate_type(predicate_type)?;
        let v1 = predicate_type == "https://slsa.dev/provenance/v1";
        self.check_builder(st, v1)?;
        self.check_source(st, v1)?;
        if let Some(want) = &self.source_ref {
            want.check(st, v1)
                .map_err(|why| Rejection::new("source-ref", why))?;
        }
        self.check_subjects(st)
    }

    fn check_predicate_type(&self, predicate_type: &str) -> Result<(), Rejection> {
        if let Some(want) = &self.predicate_type
            && predicate_alias(want) != predicate_type
        {
            return Err(Rejection::new(
                "predicate-type",
                format!(
                    "the predicate type is {predicate_type}, not {}",
                    predicate_alias(want)
                ),
            ));
        }
        Ok(())
    }

    /// `--builder-id`: where the statement names its builder depends on the SLSA version.
    fn check_builder(&self, st: &Value, v1: bool) -> Result<(), Rejection> {
        if let Some(want) = &self.builder_id {
            let pointer = if v1 {
                "/predicate/runDetails/builder/id"
            } else {
                "/predicate/builder/id"
            };
            let got = st.pointer(pointer).and_then(Value::as_str);
            if got != Some(want.as_str()) {
                return Err(Rejection::new(
                    "builder-id",
                    match got {
                        Some(g) => format!("the builder is {g}, not {want}"),
                        None => format!("it names no builder ({pointer}), not {want}"),
                    },
                ));
            }
        }
        Ok(())
    }

    /// `--source-uri` and `--source-digest` against the materials (SLSA v0.2)
    /// or resolved dependencies (v1).
    fn check_source(&self, st: &Value, v1: bool) -> Result<(), Rejection> {
        let materials = if v1 {
            st.pointer("/predicate/buildDefinition/resolvedDependencies")
        } else {
            st.pointer("/predicate/materials")
        }
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
        let field = if v1 {
            "resolvedDependencies"
        } else {
            "materials"
        };
        let from_source: Vec<&Value> = match &self.source_uri {
            Some(want) => {
                let want_n = normalize_uri(want);
                let found: Vec<&Value> = materials
                    .iter()
                    .filter(|m| {
                        m.get("uri")
                            .and_then(Value::as_str)
                            .is_some_and(|u| normalize_uri(u) == want_n)
                    })
                    .collect();
                if found.is_empty() {
                    let uris: Vec<&str> = materials
                        .iter()
                        .filter_map(|m| m.get("uri").and_then(Value::as_str))
                        .collect();
                    return Err(Rejection::new(
                        "source-uri",
                        format!(
                            "no {field} entry is {want} (it has {})",
                            if uris.is_empty() {
                                "none".to_string()
                            } else {
                                uris.join(", ")
                            }
                        ),
                    ));
                }
                found
            }
            None => materials.iter().collect(),
        };
        if let Some(want) = &self.source_digest
            && !from_source.iter().any(|m| want.in_set(m.get("digest")))
        {
            return Err(Rejection::new(
                "source-digest",
                format!(
                    "no {field} entry{} has digest {want}",
                    if self.source_uri.is_some() {
                        " of that source"
                    } else {
                        ""
                    }
                ),
            ));
        }
        Ok(())
    }

    /// `--subject` and `--image`: each must be a subject of the statement.
    fn check_subjects(&self, st: &Value) -> Result<(), Rejection> {
        let subjects = st
            .get("subject")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for (want, check) in self
            .subjects
            .iter()
            .map(|s| (s, "subject"))
            .chain(self.image.iter().map(|s| (s, "image")))
        {
            let found = subjects.iter().any(|s| {
                (want.name.is_empty()
                    || s.get("name").and_then(Value::as_str) == Some(want.name.as_str()))
                    && want.digest.in_set(s.get("digest"))
            });
            if !found {
                return Err(Rejection::new(
                    check,
                    format!(
                        "{want} is not a subject of the statement (it has {})",
                        describe_subjects(subjects)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `--artifact`: what was verified must be about it.
    fn check_artifact(&self, content: &Content) -> Result<(), Rejection> {
        if self.artifact.is_empty() {
            return Ok(());
        }
        let is_ours = |alg: &str, hex: &str| {
            self.artifact.iter().any(|d| {
                d.algorithm.as_deref().is_none_or(|a| a == alg) && d.hex.eq_ignore_ascii_case(hex)
            })
        };
        let wanted = self
            .artifact
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        let (ok, what) = match content {
            Content::Statement { statement, .. } => {
                let subjects = statement.get("subject").and_then(Value::as_array);
                let ok = subjects
                    .into_iter()
                    .flatten()
                    .any(|s| self.artifact.iter().any(|d| d.in_set(s.get("digest"))));
                (
                    ok,
                    "no subject of the statement has that digest".to_string(),
                )
            }
            // The image it names, or the signed payload itself.
            Content::ImageSignature {
                image_digest,
                payload,
            } => {
                use sha2::Digest;
                let (alg, hex) = image_digest.split_once(':').unwrap_or(("", image_digest));
                let payload_hex = crate::tlog::hex(&sha2::Sha256::digest(payload));
                (
                    is_ours(alg, hex) || is_ours("sha256", &payload_hex),
                    format!("it signs image {image_digest} with payload sha256:{payload_hex}"),
                )
            }
            Content::Blob { sha256_hex, .. } => (
                is_ours("sha256", sha256_hex),
                format!("it signs sha256:{sha256_hex}"),
            ),
        };
        if ok {
            Ok(())
        } else {
            Err(Rejection::new(
                "artifact",
                format!("it is not about the artifact {wanted}: {what}"),
            ))
        }
    }

    fn check_age(&self, verified: &Verified, max: Duration, now: i64) -> Result<(), Rejection> {
        let (when, by) = match (&verified.tlog, &verified.content) {
            (
                TlogStatus::Verified {
                    integrated_time: Some(t),
                    ..
                },
                _,
            ) => (Some(*t), "logged"),
            (_, Content::Statement { statement, .. }) => (
                [
                    "/predicate/metadata/buildFinishedOn",
                    "/predicate/runDetails/metadata/finishedOn",
                ]
                .iter()
                .find_map(|p| statement.pointer(p).and_then(Value::as_str))
                .and_then(parse_rfc3339),
                "built",
            ),
            _ => (None, ""),
        };
        let Some(when) = when else {
            return Err(Rejection::new(
                "max-age",
                "its age is unknown: no verified log entry and no build finish time",
            ));
        };
        let age = now.saturating_sub(when);
        if age > max.as_secs() as i64 {
            return Err(Rejection::new(
                "max-age",
                format!(
                    "it was {by} {} ago, longer ago than --max-age {}",
                    human_duration(age.max(0) as u64),
                    human_duration(max.as_secs())
                ),
            ));
        }
        Ok(())
    }
}

fn describe_subjects(subjects: &[Value]) -> String {
    if subjects.is_empty() {
        return "none".into();
    }
    let mut out: Vec<String> = subjects
        .iter()
        .take(5)
        .map(|s| {
            let name = s.get("name").and_then(Value::as_str).unwrap_or("");
            let digest = s
                .get("digest")
                .and_then(Value::as_object)
                .and_then(|d| d.iter().next())
                .map(|(a, h)| format!("{a}:{}", h.as_str().unwrap_or("")))
                .unwrap_or_default();
            format!("{name}@{digest}")
        })
        .collect();
    if subjects.len() > 5 {
        out.push(format!("{} more", subjects.len() - 5));
    }
    out.join(", ")
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// `90s`, `15m`, `24h`, `7d`, or combinations (`1d12h`); plain seconds too.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration (e.g. 30m, 24h, 7d)");
    let s = s.trim();
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().map_err(|_| bad())?;
        number.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        total = n
            .checked_mul(unit)
            .and_then(|x| total.checked_add(x))
            .ok_or_else(bad)?;
    }
    if !number.is_empty() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    let mut out = String::new();
    for (n, u) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{u}"));
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn verified(statement: Value) -> Verified {
        Verified {
            content: Content::Statement {
                payload: Vec::new(),
                statement,
            },
            signer: "key".into(),
            tlog: TlogStatus::Absent,
        }
    }

    #[test]
    fn parses_specs_and_durations() {
        let s: SubjectSpec = "gcr.io/x@sha256:ABCD".parse().unwrap();
        assert_eq!(
            (s.name.as_str(), s.digest.hex.as_str()),
            ("gcr.io/x", "abcd")
        );
        assert!("gcr.io/x".parse::<SubjectSpec>().is_err());
        assert!("x@abcd".parse::<SubjectSpec>().is_err());
        assert_eq!(parse_duration("1d12h").unwrap().as_secs(), 129_600);
        assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
        assert!(parse_duration("12x").is_err() && parse_duration("h").is_err());
    }

    #[test]
    fn uris_normalize() {
        assert_eq!(
            normalize_uri("git+https://github.com/o/r.git@refs/heads/main"),
            "github.com/o/r"
        );
        assert_eq!(normalize_uri("https://github.com/o/r/"), "github.com/o/r");
    }

    #[test]
    fn statement_checks_name_the_failure() {
        let st = json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "subject": [{"name": "gcr.io/x", "digest": {"sha256": "aa"}}],
            "predicate": {
                "builder": {"id": "https://tekton.dev/chains/v2"},
                "materials": [{"uri": "git+https://github.com/o/r.git", "digest": {"sha1": "c0ffee"}}],
                "metadata": {"buildFinishedOn": "2026-01-01T00:00:00Z"}
            }
        });
        let v = verified(st);
        let now = parse_rfc3339("2026-01-02T00:00:00Z").unwrap();
        let ok = Policy {
            predicate_type: Some("slsaprovenance".into()),
            builder_id: Some("https://tekton.dev/chains/v2".into()),
            source_uri: Some("https://github.com/o/r".into()),
            source_digest: Some("sha1:c0ffee".parse().unwrap()),
            source_ref: None,
            subjects: vec!["gcr.io/x@sha256:aa".parse().unwrap()],
            image: None,
            max_age: Some(Duration::from_secs(2 * 86_400)),
            artifact: Vec::new(),
        };
        ok.check(&v, now).unwrap();
        let cases: Vec<(Policy, &str)> = vec![
            (
                Policy {
                    predicate_type: Some("slsaprovenance1".into()),
                    ..Default::default()
                },
                "predicate-type",
            ),
            (
                Policy {
                    builder_id: Some("x".into()),
                    ..Default::default()
                },
                "builder-id",
            ),
            (
                Policy {
                    source_uri: Some("github.com/o/other".into()),
                    ..Default::default()
                },
                "source-uri",
            ),
            (
                Policy {
                    source_digest: Some("beef".parse().unwrap()),
                    source_ref: None,
                    ..Default::default()
                },
                "source-digest",
            ),
            (
                Policy {
                    subjects: vec!["gcr.io/x@sha256:bb".parse().unwrap()],
                    ..Default::default()
                },
                "subject",
            ),
            (
                Policy {
                    image: Some("@sha256:bb".parse().unwrap()),
                    ..Default::default()
                },
                "image",
            ),
            (
                Policy {
                    max_age: Some(Duration::from_secs(3600)),
                    ..Default::default()
                },
                "max-age",
            ),
        ];
        for (policy, check) in cases {
            assert_eq!(policy.check(&v, now).unwrap_err().check, check);
        }
    }
}
