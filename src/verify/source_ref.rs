//! slsa-verifier's `--source-tag`, `--source-branch` and
//! `--source-versioned-tag` over Tekton provenance.
//!
//! Chains records no git ref of its own. The ref a build was made from is
//! found, in this order, in the `@REF` suffix of a source URI among the
//! materials / resolved dependencies (SLSA's `git+https://host/repo@refs/
//! heads/main` convention), then in the run's parameters named `revision`,
//! `git-revision`, `ref` or `git-ref` (the git-clone Task's and the
//! usual pipelines' names; `invocation.parameters` in SLSA v0.2,
//! `externalParameters.runSpec.params` in v1). A full ref (`refs/tags/X`,
//! `refs/heads/X`) matches only its kind; a bare revision (`main`,
//! `v1.2.3`) is what git would resolve, so it matches either flag by name.
//! A commit hash matches neither.

use serde_json::Value;

/// The ref the build must come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceRef {
    /// `--source-tag`: exactly this tag.
    Tag(String),
    /// `--source-branch`: exactly this branch.
    Branch(String),
    /// `--source-versioned-tag vMAJOR[.MINOR[.PATCH]]`: a tag with the
    /// same version parts that are given (as slsa-verifier matches it).
    VersionedTag(Version),
}

/// A `v1`, `v1.2` or `v1.2.3` (pre-release after `-`, build after `+`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    parts: Vec<u64>,
    pre: Option<String>,
}

impl std::str::FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Version, String> {
        let bad = || format!("{s:?} is not a version such as v1, v1.2 or v1.2.3");
        let body = s.strip_prefix('v').unwrap_or(s);
        let body = body.split_once('+').map_or(body, |(b, _)| b);
        let (numbers, pre) = match body.split_once('-') {
            Some((n, p)) if !p.is_empty() => (n, Some(p.to_string())),
            Some(_) => return Err(bad()),
            None => (body, None),
        };
        let parts = numbers
            .split('.')
            .map(|p| p.parse::<u64>().map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?;
        if parts.is_empty() || parts.len() > 3 || (pre.is_some() && parts.len() != 3) {
            return Err(bad());
        }
        Ok(Version { parts, pre })
    }
}

impl Version {
    /// Whether `tag` is this version: the parts given are equal, and a
    /// pre-release is given exactly or not asked for (as slsa-verifier).
    fn matches(&self, tag: &str) -> bool {
        let Ok(got) = tag.parse::<Version>() else {
            return false;
        };
        got.parts.len() == 3
            && got.parts.iter().zip(&self.parts).all(|(a, b)| a == b)
            && (self.pre.is_none() || self.pre == got.pre)
    }
}

/// The refs a statement names, as (kind, name); kind is `None` for a bare
/// revision.
fn refs(st: &Value, v1: bool) -> Vec<(Option<&'static str>, String)> {
    let mut found = Vec::new();
    let materials = match v1 {
        true => st.pointer("/predicate/buildDefinition/resolvedDependencies"),
        false => st.pointer("/predicate/materials"),
    };
    for m in materials.and_then(Value::as_array).into_iter().flatten() {
        let Some(uri) = m.get("uri").and_then(Value::as_str) else {
            continue;
        };
        if let Some((repo, r)) = uri.rsplit_once('@')
            && repo.contains('/')
        {
            found.push(classify(r));
        }
    }
    const NAMES: [&str; 4] = ["revision", "git-revision", "ref", "git-ref"];
    let params: Vec<(&str, &Value)> = if v1 {
        st.pointer("/predicate/buildDefinition/externalParameters/runSpec/params")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.get("name")?.as_str()?, p.get("value")?)))
            .collect()
    } else {
        st.pointer("/predicate/invocation/parameters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v))
            .collect()
    };
    for (name, value) in params {
        if NAMES.contains(&name)
            && let Some(v) = value.as_str().filter(|v| !v.is_empty())
        {
            found.push(classify(v));
        }
    }
    found
}

fn classify(r: &str) -> (Option<&'static str>, String) {
    if let Some(tag) = r.strip_prefix("refs/tags/") {
        (Some("tag"), tag.to_string())
    } else if let Some(branch) = r.strip_prefix("refs/heads/") {
        (Some("branch"), branch.to_string())
    } else {
        (None, r.to_string())
    }
}

impl SourceRef {
    /// `Err(reason)` when no ref of the statement is the one asked for.
    pub fn check(&self, st: &Value, v1: bool) -> Result<(), String> {
        let refs = refs(st, v1);
        let ok = refs.iter().any(|(kind, name)| match self {
            SourceRef::Tag(want) => kind.is_none_or(|k| k == "tag") && name == want,
            SourceRef::Branch(want) => kind.is_none_or(|k| k == "branch") && name == want,
            SourceRef::VersionedTag(v) => kind.is_none_or(|k| k == "tag") && v.matches(name),
        });
        if ok {
            return Ok(());
        }
        let want = match self {
            SourceRef::Tag(t) => format!("tag {t}"),
            SourceRef::Branch(b) => format!("branch {b}"),
            SourceRef::VersionedTag(v) => format!(
                "a tag of version v{}{}",
                v.parts
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join("."),
                v.pre
                    .as_deref()
                    .map(|p| format!("-{p}"))
                    .unwrap_or_default()
            ),
        };
        let got: Vec<String> = refs
            .iter()
            .map(|(k, n)| match k {
                Some(k) => format!("{k} {n}"),
                None => format!("revision {n}"),
            })
            .collect();
        Err(match got.is_empty() {
            true => format!(
                "it was to be built from {want}, but it names no git ref (no source URI with @REF, no revision parameter)"
            ),
            false => format!(
                "it was to be built from {want}, but it names {}",
                got.join(", ")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v02(uri: &str, revision: &str) -> Value {
        json!({"predicate": {
            "materials": [{"uri": uri, "digest": {"sha1": "c0ffee"}}],
            "invocation": {"parameters": {"revision": revision}},
        }})
    }

    #[test]
    fn refs_from_uris_and_revision_parameters() {
        let st = v02("git+https://github.com/o/r.git@refs/tags/v1.2.3", "");
        assert!(SourceRef::Tag("v1.2.3".into()).check(&st, false).is_ok());
        assert!(
            SourceRef::Branch("v1.2.3".into())
                .check(&st, false)
                .is_err()
        );
        let st = v02("git+https://github.com/o/r.git", "main");
        assert!(SourceRef::Branch("main".into()).check(&st, false).is_ok());
        let err = SourceRef::Branch("dev".into())
            .check(&st, false)
            .unwrap_err();
        assert!(err.contains("revision main"), "{err}");
        let v1 = json!({"predicate": {"buildDefinition": {
            "externalParameters": {"runSpec": {"params": [{"name": "git-revision", "value": "refs/heads/release"}]}},
            "resolvedDependencies": [],
        }}});
        assert!(SourceRef::Branch("release".into()).check(&v1, true).is_ok());
        let none = json!({"predicate": {}});
        let err = SourceRef::Tag("v1".into()).check(&none, false).unwrap_err();
        assert!(err.contains("names no git ref"), "{err}");
    }

    #[test]
    fn versioned_tags_match_the_parts_given() {
        let st = v02("git+https://github.com/o/r@refs/tags/v1.2.3", "");
        for (want, ok) in [
            ("v1", true),
            ("v1.2", true),
            ("v1.2.3", true),
            ("v1.3", false),
            ("v2", false),
        ] {
            let spec = SourceRef::VersionedTag(want.parse().unwrap());
            assert_eq!(spec.check(&st, false).is_ok(), ok, "{want}");
        }
        assert!("1.x".parse::<Version>().is_err());
        assert!("v1.2.3.4".parse::<Version>().is_err());
    }
}
