
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'chains' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'chains'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'chains' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('attest', 'attest', [CompletionResultType]::ParameterValue, 'Build provenance for exported TaskRuns and PipelineRuns')
            [CompletionResult]::new('generate-key-pair', 'generate-key-pair', [CompletionResultType]::ParameterValue, 'Generate a cosign-compatible key pair (or a key in a KMS)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'chains;attest' {
            [CompletionResult]::new('--taskruns', '--taskruns', [CompletionResultType]::ParameterName, 'Child TaskRuns used as context for PipelineRuns only (not attested)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'A chains-config ConfigMap (or a plain map of its keys); flags override it')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Provenance format [default: from config, else in-toto, i.e. slsa/v1]')
            [CompletionResult]::new('--builder-id', '--builder-id', [CompletionResultType]::ParameterName, 'Builder id recorded in the provenance [default: https://tekton.dev/chains/v2]')
            [CompletionResult]::new('--build-type', '--build-type', [CompletionResultType]::ParameterName, 'Build type for slsa/v2alpha3 and slsa/v2alpha4')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Signing key: a cosign key, a PEM private key, or a KMS URI (awskms://, gcpkms://, azurekms://, hashivault://)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'File holding the key''s password [default: COSIGN_PASSWORD, else a prompt on a terminal]')
            [CompletionResult]::new('--fulcio-url', '--fulcio-url', [CompletionResultType]::ParameterName, 'Keyless signing: the Fulcio URL to get a certificate from')
            [CompletionResult]::new('--identity-token', '--identity-token', [CompletionResultType]::ParameterName, 'Keyless signing: a file holding the OIDC identity token')
            [CompletionResult]::new('--storage', '--storage', [CompletionResultType]::ParameterName, 'Storage backends for every artifact kind, comma-separated: tekton, oci, gcs, files [default: artifacts.*.storage from --config, else none (local output only)]')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Annotate the live runs in this cluster, as the Chains controller does (chains.tekton.dev/signed, and the tekton backend''s annotations)')
            [CompletionResult]::new('--rekor-url', '--rekor-url', [CompletionResultType]::ParameterName, 'Transparency log URL [default: transparency.url, else https://rekor.sigstore.dev]')
            [CompletionResult]::new('--rekor-public-key', '--rekor-public-key', [CompletionResultType]::ParameterName, 'The transparency log''s public key (PEM) [default: fetched from the log]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write one file per run into DIR instead of JSON Lines on stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write one file per run into DIR instead of JSON Lines on stdout')
            [CompletionResult]::new('--deep-inspection', '--deep-inspection', [CompletionResultType]::ParameterName, 'Take subjects and materials of a PipelineRun from its child TaskRuns too')
            [CompletionResult]::new('--unsigned', '--unsigned', [CompletionResultType]::ParameterName, 'Write unsigned in-toto statements (no key needed)')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Write Sigstore bundles (v0.3) instead of bare DSSE envelopes')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'With the tekton backend: write the annotations into the input files themselves')
            [CompletionResult]::new('--tlog-upload', '--tlog-upload', [CompletionResultType]::ParameterName, 'Upload to the transparency log (as transparency.enabled: true)')
            [CompletionResult]::new('--fail-fast', '--fail-fast', [CompletionResultType]::ParameterName, 'Stop at the first run that fails')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chains;generate-key-pair' {
            [CompletionResult]::new('--output-key-prefix', '--output-key-prefix', [CompletionResultType]::ParameterName, 'File name prefix for the key pair')
            [CompletionResult]::new('--kms', '--kms', [CompletionResultType]::ParameterName, 'Create the key in this KMS instead (awskms://, gcpkms://, azurekms://, hashivault://)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'File holding the password to encrypt the private key with')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite existing files')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chains;completions' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chains;help' {
            [CompletionResult]::new('attest', 'attest', [CompletionResultType]::ParameterValue, 'Build provenance for exported TaskRuns and PipelineRuns')
            [CompletionResult]::new('generate-key-pair', 'generate-key-pair', [CompletionResultType]::ParameterValue, 'Generate a cosign-compatible key pair (or a key in a KMS)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'chains;help;attest' {
            break
        }
        'chains;help;generate-key-pair' {
            break
        }
        'chains;help;completions' {
            break
        }
        'chains;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
