//! Tekton Chains' annotation names and its four-part stored layout, owned
//! here once for every module that writes or reads them: the `tekton`
//! backend, the cluster edge (`k8s`), `watch`'s reconciler, the storage
//! step that marks a run, and `chains verify`.
//!
//! For each signed artifact (keyed by its short key, e.g. `taskrun-<uid>`)
//! Chains stores four base64 annotations, `payload-`, `signature-`, `cert-`
//! and `chain-<key>`; a run whose artifacts are all stored is marked
//! `signed: "true"` (or `"failed"` after its retries).

/// Every Chains annotation starts with this.
pub const PREFIX: &str = "chains.tekton.dev/";
/// `"true"` once every artifact of the run is stored; `"failed"` when it never will be.
pub const SIGNED: &str = "chains.tekton.dev/signed";
/// The Rekor entry URL of the run's attestation.
pub const TRANSPARENCY: &str = "chains.tekton.dev/transparency";
/// Set to `"true"` on a run to ask for a transparency-log upload.
pub const TRANSPARENCY_UPLOAD: &str = "chains.tekton.dev/transparency-upload";
/// How many times the controller has retried the run.
pub const RETRIES: &str = "chains.tekton.dev/retries";
/// Set to `"true"` on a run for the controller to leave it alone.
pub const SKIP: &str = "chains.tekton.dev/skip";

/// One of the four annotations Chains stores per signed artifact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Payload,
    Signature,
    Cert,
    Chain,
}

impl Part {
    /// The four parts, in the order Chains writes them.
    pub const ALL: [Part; 4] = [Part::Payload, Part::Signature, Part::Cert, Part::Chain];

    fn word(self) -> &'static str {
        match self {
            Part::Payload => "payload",
            Part::Signature => "signature",
            Part::Cert => "cert",
            Part::Chain => "chain",
        }
    }

    /// The annotation holding this part of the artifact `key`:
    /// `chains.tekton.dev/<part>-<key>`.
    pub fn annotation(self, key: &str) -> String {
        format!("{PREFIX}{}-{key}", self.word())
    }

    /// The artifact key of an annotation naming this part, if it does.
    pub fn key_of(self, annotation: &str) -> Option<&str> {
        annotation
            .strip_prefix(PREFIX)?
            .strip_prefix(self.word())?
            .strip_prefix('-')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_named_as_chains_names_them() {
        let names: Vec<String> = Part::ALL
            .iter()
            .map(|p| p.annotation("taskrun-u1"))
            .collect();
        assert_eq!(
            names,
            [
                "chains.tekton.dev/payload-taskrun-u1",
                "chains.tekton.dev/signature-taskrun-u1",
                "chains.tekton.dev/cert-taskrun-u1",
                "chains.tekton.dev/chain-taskrun-u1",
            ]
        );
        assert_eq!(
            Part::Signature.key_of("chains.tekton.dev/signature-taskrun-u1"),
            Some("taskrun-u1")
        );
        assert_eq!(Part::Signature.key_of("chains.tekton.dev/signed"), None);
        assert_eq!(Part::Cert.key_of("chains.tekton.dev/certificate-x"), None);
    }
}
