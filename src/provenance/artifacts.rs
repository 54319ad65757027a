//! Type hinting: finding the artifacts a run consumed and produced in its
//! results and params, with Chains' rules and merge semantics.
//!
//! Where Chains iterates a Go map (random order), we use the order in which
//! the results appear, so output is deterministic.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Children, ProvenanceError};
use crate::run::reference::{ImageDigest, parse_digest, split_image_id};
use crate::run::{NamedValue, RefSource, Run, RunKind};

pub const COMMIT_PARAM: &str = "CHAINS-GIT_COMMIT";
pub const URL_PARAM: &str = "CHAINS-GIT_URL";
const INPUTS_SUFFIX: &str = "ARTIFACT_INPUTS";
const OUTPUTS_SUFFIX: &str = "ARTIFACT_OUTPUTS";

/// A named artifact with a digest set: an in-toto subject or a SLSA material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub name: String,
    pub digest: BTreeMap<String, String>,
}

impl Artifact {
    pub fn new(name: impl Into<String>, alg: impl Into<String>, hex: impl Into<String>) -> Self {
        Artifact {
            name: name.into(),
            digest: BTreeMap::from([(alg.into(), hex.into())]),
        }
    }

    /// `{"name": .., "digest": {..}}` (a subject or v1 resource descriptor).
    pub fn subject_json(&self) -> Value {
        json!({"name": self.name, "digest": self.digest})
    }

    /// `{"uri": .., "digest": {..}}` (a v0.2 material); empty fields are omitted.
    pub fn material_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        if !self.name.is_empty() {
            m.insert("uri".into(), Value::String(self.name.clone()));
        }
        if !self.digest.is_empty() {
            m.insert("digest".into(), json!(self.digest));
        }
        Value::Object(m)
    }
}

/// Chains' `AppendSubjects`/`AppendMaterials`: an item with the same name and
/// at least one equal (algorithm, hex) pair is merged into the existing entry.
pub fn append(list: &mut Vec<Artifact>, items: impl IntoIterator<Item = Artifact>) {
    for item in items {
        match list.iter_mut().find(|a| {
            a.name == item.name
                && a.digest
                    .iter()
                    .any(|(alg, hex)| item.digest.get(alg) == Some(hex))
        }) {
            Some(existing) => existing.digest.extend(item.digest),
            None => list.push(item),
        }
    }
}

/// A `uri` + `digest` pair found through type hinting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signable {
    pub uri: String,
    pub digest: String,
}

/// Pairs `<marker><uri_suffix>` / `<marker><digest_suffix>` string results.
fn suffix_pairs(
    results: &[NamedValue<'_>],
    uri_suffix: &str,
    digest_suffix: &str,
) -> Vec<Signable> {
    let mut partials: Vec<(&str, Signable)> = Vec::new();
    for r in results {
        for (suffix, is_uri) in [(uri_suffix, true), (digest_suffix, false)] {
            let Some(marker) = r.name.strip_suffix(suffix) else {
                continue;
            };
            let value = r.value.string_val().trim();
            if value.is_empty() {
                continue;
            }
            let idx = match partials.iter().position(|(m, _)| *m == marker) {
                Some(i) => i,
                None => {
                    partials.push((
                        marker,
                        Signable {
                            uri: String::new(),
                            digest: String::new(),
                        },
                    ));
                    partials.len() - 1
                }
            };
            let s = &mut partials[idx].1;
            if is_uri {
                s.uri = value.to_string();
            } else {
                s.digest = value.to_string();
            }
        }
    }
    partials
        .into_iter()
        .map(|(_, s)| s)
        .filter(|s| !s.uri.is_empty() && !s.digest.is_empty())
        .collect()
}

/// Chains' `ExtractOCIImagesFromResults`: `*IMAGE_URL`/`*IMAGE_DIGEST` pairs,
/// the `IMAGES` list (comma or newline separated), then `*ARTIFACT_OUTPUTS`
/// build artifacts; unparseable references are skipped, duplicates dropped.
pub fn oci_images(results: &[NamedValue<'_>]) -> Vec<ImageDigest> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut push = |reference: &str, out: &mut Vec<ImageDigest>| {
        if let Ok(d) = ImageDigest::parse(reference)
            && seen.insert(d.name())
        {
            out.push(d);
        }
    };
    for s in suffix_pairs(results, "IMAGE_URL", "IMAGE_DIGEST") {
        push(&format!("{}@{}", s.uri, s.digest), &mut out);
    }
    for r in results.iter().filter(|r| r.name == "IMAGES") {
        for img in r.value.string_val().split([',', '\n']) {
            let img = img.trim();
            if !img.is_empty() {
                push(img, &mut out);
            }
        }
    }
    for s in build_artifacts(results) {
        push(&format!("{}@{}", s.uri, s.digest), &mut out);
    }
    out
}

/// `*ARTIFACT_URI`/`*ARTIFACT_DIGEST` pairs with a valid digest.
pub fn signable_targets(results: &[NamedValue<'_>]) -> Vec<Signable> {
    suffix_pairs(results, "ARTIFACT_URI", "ARTIFACT_DIGEST")
        .into_iter()
        .filter(|s| parse_digest(&s.digest).is_ok())
        .collect()
}

/// Object results named `*ARTIFACT_INPUTS` or `*ARTIFACT_OUTPUTS` with a uri
/// and a valid digest.
pub fn structured_targets(results: &[NamedValue<'_>], outputs: bool) -> Vec<Signable> {
    let suffix = if outputs {
        OUTPUTS_SUFFIX
    } else {
        INPUTS_SUFFIX
    };
    results
        .iter()
        .filter(|r| r.name.ends_with(suffix))
        .filter_map(valid_structured)
        .collect()
}

/// `*ARTIFACT_OUTPUTS` objects with `isBuildArtifact: "true"`.
pub fn build_artifacts(results: &[NamedValue<'_>]) -> Vec<Signable> {
    results
        .iter()
        .filter(|r| is_build_artifact(r))
        .filter_map(valid_structured)
        .collect()
}

/// Chains' `IsBuildArtifact` (an invalid one counts as "not").
pub fn is_build_artifact(r: &NamedValue<'_>) -> bool {
    r.name.ends_with(OUTPUTS_SUFFIX)
        && r.value.object_field("isBuildArtifact") == "true"
        && valid_structured(r).is_some()
}

fn valid_structured(r: &NamedValue<'_>) -> Option<Signable> {
    let obj = r.value.object_val()?;
    let uri = obj.get("uri").map(|s| s.as_ref()).unwrap_or("");
    let digest = obj.get("digest").map(|s| s.as_ref()).unwrap_or("");
    if uri.is_empty() || digest.is_empty() || parse_digest(digest).is_err() {
        return None;
    }
    Some(Signable {
        uri: uri.to_string(),
        digest: digest.to_string(),
    })
}

/// Subjects of one run from its results (Chains' `subjectsFromTektonObject`):
/// OCI images, then `*ARTIFACT_URI` pairs, then `*ARTIFACT_OUTPUTS` objects.
pub fn subjects_from_results(results: &[NamedValue<'_>]) -> Vec<Artifact> {
    let mut subjects = Vec::new();
    append(
        &mut subjects,
        oci_images(results)
            .iter()
            .map(|d| Artifact::new(d.repository_name(), "sha256", d.hex())),
    );
    for s in signable_targets(results) {
        if let [alg, hex] = s.digest.split(':').collect::<Vec<_>>()[..] {
            append(&mut subjects, [Artifact::new(s.uri.clone(), alg, hex)]);
        }
    }
    for s in structured_targets(results, true) {
        let (alg, hex) = s.digest.split_once(':').unwrap_or((&s.digest, ""));
        append(&mut subjects, [Artifact::new(s.uri.clone(), alg, hex)]);
    }
    subjects
}

/// Chains' `SubjectsFromBuildArtifact` (slsa/v2alpha4): build artifacts first,
/// then OCI images.
pub fn subjects_from_build_artifacts(results: &[NamedValue<'_>]) -> Vec<Artifact> {
    let mut subjects = Vec::new();
    for s in build_artifacts(results) {
        if let [alg, hex] = s.digest.split(':').collect::<Vec<_>>()[..] {
            append(&mut subjects, [Artifact::new(s.uri.clone(), alg, hex)]);
        }
    }
    append(
        &mut subjects,
        oci_images(results)
            .iter()
            .map(|d| Artifact::new(d.repository_name(), "sha256", d.hex())),
    );
    subjects
}

/// Materials from `*ARTIFACT_INPUTS` object results.
pub fn materials_from_structured_results(results: &[NamedValue<'_>]) -> Vec<Artifact> {
    structured_targets(results, false)
        .into_iter()
        .filter_map(|s| {
            let (alg, hex) = parse_digest(&s.digest).ok()?;
            Some(Artifact::new(s.uri, alg, hex))
        })
        .collect()
}

/// `git+<url>.git` as Chains' `SPDXGit` spells a repository.
pub fn spdx_git(url: &str) -> String {
    let mut url = if url.starts_with("git+") {
        url.to_string()
    } else {
        format!("git+{url}")
    };
    if !url.ends_with(".git") {
        url.push_str(".git");
    }
    url
}

/// Step (or sidecar) images as materials; an unparseable image ID fails the run.
pub fn image_materials(run: &Run, sidecars: bool) -> Result<Vec<Artifact>, ProvenanceError> {
    let states = if sidecars {
        run.sidecar_states()
    } else {
        run.step_states()
    };
    let mut mats = Vec::new();
    for state in states {
        let (uri, alg, hex) =
            split_image_id(state.image_id()).map_err(|reason| ProvenanceError::ImageId {
                run: run.label(),
                origin: Box::new(run.origin.clone()),
                container: if sidecars { "sidecar" } else { "step" },
                name: state.name().to_string(),
                reason,
            })?;
        append(&mut mats, [Artifact::new(uri, alg, hex)]);
    }
    Ok(mats)
}

/// Step images then sidecar images.
pub fn step_and_sidecar_materials(run: &Run) -> Result<Vec<Artifact>, ProvenanceError> {
    let mut mats = image_materials(run, false)?;
    mats.extend(image_materials(run, true)?);
    Ok(mats)
}

/// Chains' `FromTaskParamsAndResults`: the git repository from
/// `CHAINS-GIT_URL`/`CHAINS-GIT_COMMIT` (task param defaults, then run
/// params, then results, later ones winning), then `*ARTIFACT_INPUTS`.
pub fn task_params_and_results(run: &Run) -> Vec<Artifact> {
    let mut commit = String::new();
    let mut url = String::new();
    for p in run.param_specs() {
        let Some(default) = &p.default else { continue };
        if p.name == COMMIT_PARAM {
            commit = default.string_val().to_string();
        } else if p.name == URL_PARAM {
            url = default.string_val().to_string();
        }
    }
    git_hints(&run.params(), &mut commit, &mut url);
    let results = run.results();
    git_hints(&results, &mut commit, &mut url);
    let url = spdx_git(&url);
    let mut mats = Vec::new();
    if !commit.is_empty() && !url.is_empty() {
        append(&mut mats, [Artifact::new(url, "sha1", commit)]);
    }
    append(&mut mats, materials_from_structured_results(&results));
    mats
}

/// Take `CHAINS-GIT_*` values from params or results.
pub fn git_hints(values: &[NamedValue<'_>], commit: &mut String, url: &mut String) {
    for v in values {
        if v.name == COMMIT_PARAM {
            *commit = v.value.string_val().to_string();
        } else if v.name == URL_PARAM {
            *url = v.value.string_val().to_string();
        }
    }
}

/// Chains' `FromStepActionsResults`: per step, its git hints; then
/// `*ARTIFACT_INPUTS` among all step results.
pub fn step_action_results(run: &Run) -> Vec<Artifact> {
    let mut mats = Vec::new();
    for step in run.step_states() {
        let (mut commit, mut url) = (String::new(), String::new());
        git_hints(&step.results(), &mut commit, &mut url);
        let url = spdx_git(&url);
        if !commit.is_empty() && !url.is_empty() {
            append(&mut mats, [Artifact::new(url, "sha1", commit)]);
        }
    }
    append(
        &mut mats,
        materials_from_structured_results(&run.step_results()),
    );
    mats
}

/// A remote resolver's source (`refSource`) as a material.
pub fn ref_source_artifact(src: &RefSource<'_>) -> Artifact {
    Artifact {
        name: src.uri.to_string(),
        digest: src
            .digest
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// Chains' `FromPipelineParamsAndResults`: `*ARTIFACT_INPUTS` results, with
/// deep inspection every executed child's hints, then the git repository from
/// pipeline param defaults, run params and results.
pub fn pipeline_params_and_results(
    run: &Run,
    children: &Children<'_>,
    deep: bool,
) -> Vec<Artifact> {
    let mut mats = Vec::new();
    let results = run.results();
    append(&mut mats, materials_from_structured_results(&results));
    let (mut commit, mut url) = (String::new(), String::new());
    if run.status_spec().is_some() {
        if deep {
            for tr in children.executed(run) {
                append(&mut mats, task_params_and_results(tr));
            }
        }
        for s in run.param_specs() {
            let Some(d) = &s.default else { continue };
            if s.name == COMMIT_PARAM {
                commit = d.string_val().to_string();
            } else if s.name == URL_PARAM {
                url = d.string_val().to_string();
            }
        }
    }
    git_hints(&run.params(), &mut commit, &mut url);
    git_hints(&results, &mut commit, &mut url);
    if !commit.is_empty() && !url.is_empty() {
        append(&mut mats, [Artifact::new(spdx_git(&url), "sha1", commit)]);
    }
    mats
}

/// Chains' `SubjectDigests` (slsa/v1, slsa/v2alpha3): a PipelineRun's own
/// subjects, and with deep inspection its completed children's first.
pub fn subject_digests(run: &Run, children: &Children<'_>, deep: bool) -> Vec<Artifact> {
    let own = subjects_from_results(&run.results());
    if run.kind == RunKind::TaskRun || !deep {
        return own;
    }
    let mut out = Vec::new();
    for tr in children.executed(run) {
        append(&mut out, subjects_from_results(&tr.results()));
    }
    append(&mut out, own);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::ParamValue;

    fn res<'a>(name: &'a str, v: &'a Value) -> NamedValue<'a> {
        NamedValue {
            name,
            value: ParamValue::from_json(Some(v)),
            raw: v,
        }
    }

    #[test]
    fn append_merges_on_shared_digest() {
        let mut l = vec![Artifact::new("a", "sha256", "1")];
        append(
            &mut l,
            [
                Artifact {
                    name: "a".into(),
                    digest: BTreeMap::from([
                        ("sha256".into(), "1".into()),
                        ("sha512".into(), "2".into()),
                    ]),
                },
                Artifact::new("a", "sha256", "3"),
            ],
        );
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].digest.len(), 2);
    }

    #[test]
    fn images_from_all_hint_forms_without_duplicates() {
        let hex = "05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b5";
        let url = Value::String("gcr.io/a/b".into());
        let dig = Value::String(format!("sha256:{hex}"));
        let images = Value::String(format!(
            "gcr.io/a/b@sha256:{hex},\ngcr.io/c/d@sha256:{hex}\n"
        ));
        let results = vec![
            res("IMAGE_URL", &url),
            res("IMAGE_DIGEST", &dig),
            res("IMAGES", &images),
        ];
        let found: Vec<_> = oci_images(&results).iter().map(|d| d.name()).collect();
        assert_eq!(
            found,
            vec![
                format!("gcr.io/a/b@sha256:{hex}"),
                format!("gcr.io/c/d@sha256:{hex}")
            ]
        );
    }

    #[test]
    fn spdx_git_is_idempotent() {
        assert_eq!(spdx_git("https://x/y"), "git+https://x/y.git");
        assert_eq!(spdx_git("git+https://x/y.git"), "git+https://x/y.git");
    }
}
