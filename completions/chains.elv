
use builtin;
use str;

set edit:completion:arg-completer[chains] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'chains'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'chains'= {
            cand -q 'Print only errors (no warnings, summaries or progress)'
            cand --quiet 'Print only errors (no warnings, summaries or progress)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand attest 'Build provenance for exported TaskRuns and PipelineRuns'
            cand generate-key-pair 'Generate a cosign-compatible key pair (or a key in a KMS)'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'chains;attest'= {
            cand --taskruns 'Child TaskRuns used as context for PipelineRuns only (not attested)'
            cand --config 'A chains-config ConfigMap (or a plain map of its keys); flags override it'
            cand --format 'Provenance format [default: from config, else in-toto, i.e. slsa/v1]'
            cand --builder-id 'Builder id recorded in the provenance [default: https://tekton.dev/chains/v2]'
            cand --build-type 'Build type for slsa/v2alpha3 and slsa/v2alpha4'
            cand --key 'Signing key: a cosign key, a PEM private key, or a KMS URI (awskms://, gcpkms://, azurekms://, hashivault://)'
            cand --password-file 'File holding the key''s password [default: COSIGN_PASSWORD, else a prompt on a terminal]'
            cand --fulcio-url 'Keyless signing: the Fulcio URL to get a certificate from'
            cand --identity-token 'Keyless signing: a file holding the OIDC identity token'
            cand --storage 'Storage backends for every artifact kind, comma-separated: tekton, oci, gcs, files [default: artifacts.*.storage from --config, else none (local output only)]'
            cand --kubeconfig 'Annotate the live runs in this cluster, as the Chains controller does (chains.tekton.dev/signed, and the tekton backend''s annotations)'
            cand --rekor-url 'Transparency log URL [default: transparency.url, else https://rekor.sigstore.dev]'
            cand --rekor-public-key 'The transparency log''s public key (PEM) [default: fetched from the log]'
            cand -o 'Write one file per run into DIR instead of JSON Lines on stdout'
            cand --output 'Write one file per run into DIR instead of JSON Lines on stdout'
            cand --deep-inspection 'Take subjects and materials of a PipelineRun from its child TaskRuns too'
            cand --unsigned 'Write unsigned in-toto statements (no key needed)'
            cand --bundle 'Write Sigstore bundles (v0.3) instead of bare DSSE envelopes'
            cand --in-place 'With the tekton backend: write the annotations into the input files themselves'
            cand --tlog-upload 'Upload to the transparency log (as transparency.enabled: true)'
            cand --fail-fast 'Stop at the first run that fails'
            cand -q 'Print only errors (no warnings, summaries or progress)'
            cand --quiet 'Print only errors (no warnings, summaries or progress)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chains;generate-key-pair'= {
            cand --output-key-prefix 'File name prefix for the key pair'
            cand --kms 'Create the key in this KMS instead (awskms://, gcpkms://, azurekms://, hashivault://)'
            cand --password-file 'File holding the password to encrypt the private key with'
            cand --force 'Overwrite existing files'
            cand -q 'Print only errors (no warnings, summaries or progress)'
            cand --quiet 'Print only errors (no warnings, summaries or progress)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chains;completions'= {
            cand -q 'Print only errors (no warnings, summaries or progress)'
            cand --quiet 'Print only errors (no warnings, summaries or progress)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chains;help'= {
            cand attest 'Build provenance for exported TaskRuns and PipelineRuns'
            cand generate-key-pair 'Generate a cosign-compatible key pair (or a key in a KMS)'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'chains;help;attest'= {
        }
        &'chains;help;generate-key-pair'= {
        }
        &'chains;help;completions'= {
        }
        &'chains;help;help'= {
        }
    ]
    $completions[$command]
}
