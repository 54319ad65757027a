# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_chains_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_chains_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_chains_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_chains_using_subcommand
    set -l cmd (__fish_chains_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c chains -n "__fish_chains_needs_command" -s q -l quiet -d 'Print only errors (no warnings, summaries or progress)'
complete -c chains -n "__fish_chains_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chains -n "__fish_chains_needs_command" -s V -l version -d 'Print version'
complete -c chains -n "__fish_chains_needs_command" -f -a "attest" -d 'Build provenance for exported TaskRuns and PipelineRuns'
complete -c chains -n "__fish_chains_needs_command" -f -a "generate-key-pair" -d 'Generate a cosign-compatible key pair (or a key in a KMS)'
complete -c chains -n "__fish_chains_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c chains -n "__fish_chains_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c chains -n "__fish_chains_using_subcommand attest" -l taskruns -d 'Child TaskRuns used as context for PipelineRuns only (not attested)' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -l config -d 'A chains-config ConfigMap (or a plain map of its keys); flags override it' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -l format -d 'Provenance format [default: from config, else in-toto, i.e. slsa/v1]' -r -f -a "in-toto\t''
slsa/v1\t''
slsa/v2alpha3\t''
slsa/v2alpha4\t''"
complete -c chains -n "__fish_chains_using_subcommand attest" -l builder-id -d 'Builder id recorded in the provenance [default: https://tekton.dev/chains/v2]' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l build-type -d 'Build type for slsa/v2alpha3 and slsa/v2alpha4' -r -f -a "https://tekton.dev/chains/v2/slsa\t''
https://tekton.dev/chains/v2/slsa-tekton\t''"
complete -c chains -n "__fish_chains_using_subcommand attest" -l key -d 'Signing key: a cosign key, a PEM private key, or a KMS URI (awskms://, gcpkms://, azurekms://, hashivault://)' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l password-file -d 'File holding the key\'s password [default: COSIGN_PASSWORD, else a prompt on a terminal]' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -l fulcio-url -d 'Keyless signing: the Fulcio URL to get a certificate from' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l identity-token -d 'Keyless signing: a file holding the OIDC identity token' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -l storage -d 'Storage backends for every artifact kind, comma-separated: tekton, oci, gcs, files [default: artifacts.*.storage from --config, else none (local output only)]' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l kubeconfig -d 'Annotate the live runs in this cluster, as the Chains controller does (chains.tekton.dev/signed, and the tekton backend\'s annotations)' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -l rekor-url -d 'Transparency log URL [default: transparency.url, else https://rekor.sigstore.dev]' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l rekor-public-key -d 'The transparency log\'s public key (PEM) [default: fetched from the log]' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -s o -l output -d 'Write one file per run into DIR instead of JSON Lines on stdout' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -l deep-inspection -d 'Take subjects and materials of a PipelineRun from its child TaskRuns too'
complete -c chains -n "__fish_chains_using_subcommand attest" -l unsigned -d 'Write unsigned in-toto statements (no key needed)'
complete -c chains -n "__fish_chains_using_subcommand attest" -l bundle -d 'Write Sigstore bundles (v0.3) instead of bare DSSE envelopes'
complete -c chains -n "__fish_chains_using_subcommand attest" -l in-place -d 'With the tekton backend: write the annotations into the input files themselves'
complete -c chains -n "__fish_chains_using_subcommand attest" -l tlog-upload -d 'Upload to the transparency log (as transparency.enabled: true)'
complete -c chains -n "__fish_chains_using_subcommand attest" -l fail-fast -d 'Stop at the first run that fails'
complete -c chains -n "__fish_chains_using_subcommand attest" -s q -l quiet -d 'Print only errors (no warnings, summaries or progress)'
complete -c chains -n "__fish_chains_using_subcommand attest" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chains -n "__fish_chains_using_subcommand attest" -s V -l version -d 'Print version'
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -l output-key-prefix -d 'File name prefix for the key pair' -r -F
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -l kms -d 'Create the key in this KMS instead (awskms://, gcpkms://, azurekms://, hashivault://)' -r
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -l password-file -d 'File holding the password to encrypt the private key with' -r -F
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -l force -d 'Overwrite existing files'
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -s q -l quiet -d 'Print only errors (no warnings, summaries or progress)'
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -s V -l version -d 'Print version'
complete -c chains -n "__fish_chains_using_subcommand completions" -s q -l quiet -d 'Print only errors (no warnings, summaries or progress)'
complete -c chains -n "__fish_chains_using_subcommand completions" -s h -l help -d 'Print help'
complete -c chains -n "__fish_chains_using_subcommand completions" -s V -l version -d 'Print version'
complete -c chains -n "__fish_chains_using_subcommand help; and not __fish_seen_subcommand_from attest generate-key-pair completions help" -f -a "attest" -d 'Build provenance for exported TaskRuns and PipelineRuns'
complete -c chains -n "__fish_chains_using_subcommand help; and not __fish_seen_subcommand_from attest generate-key-pair completions help" -f -a "generate-key-pair" -d 'Generate a cosign-compatible key pair (or a key in a KMS)'
complete -c chains -n "__fish_chains_using_subcommand help; and not __fish_seen_subcommand_from attest generate-key-pair completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c chains -n "__fish_chains_using_subcommand help; and not __fish_seen_subcommand_from attest generate-key-pair completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
