//! The sections of the man pages that clap does not know about: EXAMPLES
//! (from each command's `Examples:` help, kept line for line, unwrapped),
//! EXIT STATUS and ENVIRONMENT, per command. `cli::man_pages` renders the
//! rest with clap_mangen and appends these in the usual order of man(7).

use roff::{Roff, bold, roman};

/// Exit codes as `main` maps outcomes, per command (`""`: `chains` itself).
fn exit_status(command: &str) -> &'static [(&'static str, &'static str)] {
    match command {
        "attest" => &[
            ("0", "Every run was attested, signed and stored as asked."),
            (
                "1",
                "A run could not be signed, stored or written, or a key or KMS could not be used.",
            ),
            (
                "2",
                "Usage error, or bad input: an unreadable file, a document that is not a run, no runs at all.",
            ),
        ],
        "verify" => &[
            ("0", "Everything checked verified."),
            (
                "1",
                "Something was rejected (the report names the failed check), or a key or log could not be used.",
            ),
            (
                "2",
                "Usage error, or an input, image or bucket that could not be read.",
            ),
        ],
        "watch" => &[
            (
                "0",
                "Stopped by SIGTERM or SIGINT after finishing the runs in progress.",
            ),
            (
                "1",
                "The controller could not start or keep running (cluster, config, keys).",
            ),
            ("2", "Usage error."),
        ],
        "payload" | "signature" => &[
            ("0", "Printed."),
            (
                "1",
                "The cluster could not be read, or standard output could not be written.",
            ),
            (
                "2",
                "Usage error; the input could not be read; no such run; the run has no such annotation.",
            ),
        ],
        "generate-key-pair" => &[
            ("0", "The key pair was written (or the KMS key created)."),
            (
                "1",
                "It could not be: existing files without --force, a KMS error, a password mismatch.",
            ),
            ("2", "Usage error."),
        ],
        "completions" => &[
            ("0", "The script was written."),
            ("1", "Standard output could not be written."),
            ("2", "Usage error."),
        ],
        _ => &[
            ("0", "Success."),
            (
                "1",
                "The command failed (rejected, could not sign or store); see each command's page.",
            ),
            ("2", "Usage error or unreadable input."),
        ],
    }
}

/// Environment variables a command reads.
fn environment(command: &str) -> Vec<(&'static str, &'static str)> {
    const PASSWORD: (&str, &str) = (
        "COSIGN_PASSWORD",
        "The password of an encrypted key when no --password-file is given.",
    );
    const REGISTRY: [(&str, &str); 4] = [
        (
            "CHAINS_REGISTRY_USERNAME, CHAINS_REGISTRY_PASSWORD",
            "Registry login for every registry (as --registry-username and --registry-password).",
        ),
        (
            "CHAINS_REGISTRY_TOKEN",
            "A registry bearer token (as --registry-token).",
        ),
        (
            "DOCKER_CONFIG",
            "The directory of the docker config.json with registry credentials [default: ~/.docker].",
        ),
        (
            "KUBECONFIG",
            "The kubeconfig of --k8s-keychain [default: ~/.kube/config, else in-cluster].",
        ),
    ];
    const KMS: (&str, &str) = (
        "VAULT_ADDR, GOOGLE_APPLICATION_CREDENTIALS, AZURE_*, AWS_*",
        "Credentials of the KMS a key URI names, as each provider's SDK reads them.",
    );
    const COLOUR: [(&str, &str); 2] = [
        ("NO_COLOR", "When set and not empty, no colour."),
        (
            "CLICOLOR_FORCE",
            "When set (not 0), colour even when not on a terminal.",
        ),
    ];
    let mut vars = Vec::new();
    match command {
        "attest" => {
            vars.push(PASSWORD);
            vars.push(("SIGSTORE_ID_TOKEN", "The OIDC token for keyless signing when neither --identity-token nor --identity-token-file is given."));
            vars.extend(REGISTRY);
            vars.push(KMS);
            vars.push(("CI", "When set, no progress line, even on a terminal."));
        }
        "verify" => {
            vars.push(PASSWORD);
            vars.extend(REGISTRY);
            vars.push(KMS);
            vars.extend(COLOUR);
        }
        "watch" => {
            vars.push(PASSWORD);
            vars.push((
                "POD_NAMESPACE",
                "The controller's namespace (as --controller-namespace).",
            ));
            vars.push((
                "POD_NAME",
                "This replica's identity in the Lease (as --identity).",
            ));
            vars.push((
                "DOCKER_CONFIG",
                "The directory of the docker config.json with registry credentials.",
            ));
            vars.push(KMS);
        }
        "payload" | "signature" => {
            vars.push((
                "KUBECONFIG",
                "The kubeconfig read with --context or -n alone [default: ~/.kube/config].",
            ));
        }
        "generate-key-pair" => {
            vars.push(PASSWORD);
            vars.push(KMS);
        }
        "completions" => {}
        _ => {
            vars.push(PASSWORD);
            vars.extend(COLOUR);
        }
    }
    vars
}

/// The example lines of an `after_help` that starts with `Examples:`.
pub fn examples(after_help: &str) -> Vec<&str> {
    match after_help.strip_prefix("Examples:\n") {
        Some(rest) => rest.lines().map(str::trim_end).collect(),
        None => Vec::new(),
    }
}

/// EXAMPLES (when `after_help` has them), EXIT STATUS and ENVIRONMENT of
/// `command` (a subcommand's name, `""` for `chains`), as roff.
pub fn sections(command: &str, after_help: Option<&str>) -> String {
    let mut roff = Roff::new();
    let lines = after_help.map(examples).unwrap_or_default();
    if !lines.is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        // No filling: each example stays one command line.
        roff.control("nf", [] as [&str; 0]);
        for line in lines {
            roff.text([roman(line.strip_prefix("  ").unwrap_or(line))]);
        }
        roff.control("fi", [] as [&str; 0]);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in exit_status(command) {
        roff.control("TP", [] as [&str; 0]);
        roff.text([bold(*code)]);
        roff.text([roman(*meaning)]);
    }
    let vars = environment(command);
    if !vars.is_empty() {
        roff.control("SH", ["ENVIRONMENT"]);
        for (name, meaning) in vars {
            roff.control("TP", [] as [&str; 0]);
            roff.text([bold(name)]);
            roff.text([roman(meaning)]);
        }
    }
    roff.to_roff()
}
