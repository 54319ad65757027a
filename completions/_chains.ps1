
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
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('attest', 'attest', [CompletionResultType]::ParameterValue, 'Build provenance for exported TaskRuns and PipelineRuns')
            [CompletionResult]::new('generate-key-pair', 'generate-key-pair', [CompletionResultType]::ParameterValue, 'Generate a cosign-compatible key pair (or a key in a KMS)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify attestations and signatures wherever they are stored')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Attest runs in a cluster as they finish: the Tekton Chains controller')
            [CompletionResult]::new('payload', 'payload', [CompletionResultType]::ParameterValue, 'Print the payload Chains stored on a run (as `tkn chain payload` did)')
            [CompletionResult]::new('signature', 'signature', [CompletionResultType]::ParameterValue, 'Print the signature Chains stored on a run (as `tkn chain signature` did)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'chains;attest' {
            [CompletionResult]::new('--taskruns', '--taskruns', [CompletionResultType]::ParameterName, 'Child TaskRuns used as context for PipelineRuns only (not attested)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'A chains-config ConfigMap (or a plain map of its keys); flags override it')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Provenance format [default: from config, else in-toto, i.e. slsa/v1]. The names are Chains'': slsa/v1 is SLSA v0.2, slsa/v2alpha3 and slsa/v2alpha4 are SLSA v1.0')
            [CompletionResult]::new('--builder-id', '--builder-id', [CompletionResultType]::ParameterName, 'Builder id recorded in the provenance [default: https://tekton.dev/chains/v2]')
            [CompletionResult]::new('--build-type', '--build-type', [CompletionResultType]::ParameterName, 'Build type for slsa/v2alpha3 and slsa/v2alpha4')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Signing key: a cosign key, a PEM private key, or a KMS URI (awskms://, gcpkms://, azurekms://, hashivault://)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'File holding the key''s password [default: COSIGN_PASSWORD, else a prompt on a terminal]')
            [CompletionResult]::new('--fulcio-url', '--fulcio-url', [CompletionResultType]::ParameterName, 'Keyless signing: the Fulcio URL to get a certificate from')
            [CompletionResult]::new('--identity-token', '--identity-token', [CompletionResultType]::ParameterName, 'Keyless signing: the OIDC identity token itself (cosign''s flag). It shows in the process list: prefer SIGSTORE_ID_TOKEN or --identity-token-file. Deprecated: a value naming an existing file is read as --identity-token-file, with a warning')
            [CompletionResult]::new('--identity-token-file', '--identity-token-file', [CompletionResultType]::ParameterName, 'Keyless signing: a file holding the OIDC identity token (read when signing starts) [default: SIGSTORE_ID_TOKEN, else signers.x509.identity.token.file]')
            [CompletionResult]::new('--storage', '--storage', [CompletionResultType]::ParameterName, 'Storage backends for every artifact kind, comma-separated: tekton, oci, gcs, files [default: artifacts.*.storage from --config, else none (local output only)]')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Annotate the live runs in this cluster, as the Chains controller does (chains.tekton.dev/signed, and the tekton backend''s annotations)')
            [CompletionResult]::new('--rekor-url', '--rekor-url', [CompletionResultType]::ParameterName, 'Transparency log URL [default: transparency.url, else https://rekor.sigstore.dev]')
            [CompletionResult]::new('--rekor-public-key', '--rekor-public-key', [CompletionResultType]::ParameterName, 'The transparency log''s public key (PEM) [default: fetched from the log]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Format of what goes to standard output (or --output-file): json (JSON Lines, one document per run; the default) or yaml (a YAML stream). Deprecated: a value that is not a format name is taken as --output-dir, with a warning')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Format of what goes to standard output (or --output-file): json (JSON Lines, one document per run; the default) or yaml (a YAML stream). Deprecated: a value that is not a format name is taken as --output-dir, with a warning')
            [CompletionResult]::new('--output-dir', '--output-dir', [CompletionResultType]::ParameterName, 'Write one file per run (and each image signature) into DIR instead of a stream on standard output')
            [CompletionResult]::new('--output-file', '--output-file', [CompletionResultType]::ParameterName, 'Write the stream to FILE instead of standard output; it appears complete or not at all')
            [CompletionResult]::new('--registry-username', '--registry-username', [CompletionResultType]::ParameterName, 'Registry user name, with --registry-password')
            [CompletionResult]::new('--registry-password', '--registry-password', [CompletionResultType]::ParameterName, 'Registry password; prefer the environment variable, which stays out of the process list')
            [CompletionResult]::new('--registry-token', '--registry-token', [CompletionResultType]::ParameterName, 'A registry bearer token (e.g. from a cloud''s token exchange); prefer the environment variable')
            [CompletionResult]::new('--k8s-service-account', '--k8s-service-account', [CompletionResultType]::ParameterName, 'The service account whose imagePullSecrets --k8s-keychain uses, as [NAMESPACE/]NAME (namespace: the kubeconfig context''s)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for all remote calls (cosign''s --timeout), a Go duration such as 90s or 5m: no try starts after it, and requests end by it. Each call also has its own limit (90 s across its retries)')
            [CompletionResult]::new('--deep-inspection', '--deep-inspection', [CompletionResultType]::ParameterName, 'Take subjects and materials of a PipelineRun from its child TaskRuns too')
            [CompletionResult]::new('--unsigned', '--unsigned', [CompletionResultType]::ParameterName, 'Write unsigned in-toto statements (no key needed)')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Write Sigstore bundles (v0.3) instead of bare DSSE envelopes')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'With the tekton backend: write the annotations into the input files themselves')
            [CompletionResult]::new('--tlog-upload', '--tlog-upload', [CompletionResultType]::ParameterName, 'Upload to the transparency log (as transparency.enabled: true)')
            [CompletionResult]::new('--fail-fast', '--fail-fast', [CompletionResultType]::ParameterName, 'Stop at the first run that fails')
            [CompletionResult]::new('--allow-unfinished', '--allow-unfinished', [CompletionResultType]::ParameterName, 'Attest runs that have not finished (no `Succeeded` condition that is True or False), with a warning; Tekton Chains never signs them')
            [CompletionResult]::new('--k8s-keychain', '--k8s-keychain', [CompletionResultType]::ParameterName, 'Use the Kubernetes keychain: the imagePullSecrets of --k8s-service-account, read with KUBECONFIG, ~/.kube/config or the in-cluster service account (as cosign''s --k8s-keychain)')
            [CompletionResult]::new('--allow-missing-children', '--allow-missing-children', [CompletionResultType]::ParameterName, 'Attest a PipelineRun whose childReferences name TaskRuns missing from the inputs, from the children that are there, with a warning')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
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
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chains;verify' {
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Verify what is attached to this image in its registry (.sig, .att, referrer bundles)')
            [CompletionResult]::new('--local-image', '--local-image', [CompletionResultType]::ParameterName, 'Verify an image saved in an OCI image layout on disk, with what is attached to it (as `cosign save` or `skopeo copy … oci:DIR` write it; cosign''s --local-image): DIR, or DIR:REF for the manifest the layout names REF')
            [CompletionResult]::new('--gcs', '--gcs', [CompletionResultType]::ParameterName, 'Verify what Chains stored under gs://BUCKET/PREFIX')
            [CompletionResult]::new('--artifact', '--artifact', [CompletionResultType]::ParameterName, 'The artifact the signatures must be about: a file (hashed), or its digest as sha256:HEX (or sha512:HEX). A message signature must be over it, an image signature of it, an attestation must name it as a subject')
            [CompletionResult]::new('--signature', '--signature', [CompletionResultType]::ParameterName, 'A detached signature over --artifact FILE (base64 or raw, as `cosign sign-blob` writes it)')
            [CompletionResult]::new('--certificate', '--certificate', [CompletionResultType]::ParameterName, 'The PEM certificate of a keyless --signature (--cert as in cosign)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'The PEM certificate of a keyless --signature (--cert as in cosign)')
            [CompletionResult]::new('--certificate-chain', '--certificate-chain', [CompletionResultType]::ParameterName, 'The PEM chain above --certificate')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Trusted key: a PEM public key (cosign.pub), a Sigstore PublicKey in JSON (rawBytes, keyDetails, validFor: trusted only for signatures a verified timestamp or log entry places in that window), a certificate, a private key file (its public half), or a KMS URI. May be repeated')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'File holding the password of an encrypted private key given as --key')
            [CompletionResult]::new('--trusted-root', '--trusted-root', [CompletionResultType]::ParameterName, 'Sigstore trusted root (trusted_root.json, as cosign and sigstore-go take it): Fulcio CAs, Rekor logs, CT logs and timestamp authorities, each trusted within its validity window')
            [CompletionResult]::new('--tuf-url', '--tuf-url', [CompletionResultType]::ParameterName, 'TUF repository to get the trusted root (its trusted_root.json target) from. Without it, keyless verification given no --trusted-root or --ca-roots uses Sigstore''s public-good repository (https://tuf-repo-cdn.sigstore.dev), whose root ships in chains')
            [CompletionResult]::new('--tuf-root', '--tuf-root', [CompletionResultType]::ParameterName, 'The initial root.json of the --tuf-url repository (as `cosign initialize --root`)')
            [CompletionResult]::new('--ca-roots', '--ca-roots', [CompletionResultType]::ParameterName, 'Trusted root certificates (PEM) for keyless signatures')
            [CompletionResult]::new('--ca-intermediates', '--ca-intermediates', [CompletionResultType]::ParameterName, 'Intermediate certificates (PEM) between a signing certificate and the roots')
            [CompletionResult]::new('--certificate-identity', '--certificate-identity', [CompletionResultType]::ParameterName, 'The identity (email or URI SAN) the signing certificate must have')
            [CompletionResult]::new('--certificate-identity-regexp', '--certificate-identity-regexp', [CompletionResultType]::ParameterName, 'A regular expression the certificate identity must match (unanchored, as cosign)')
            [CompletionResult]::new('--certificate-oidc-issuer', '--certificate-oidc-issuer', [CompletionResultType]::ParameterName, 'The OIDC issuer the signing certificate must name')
            [CompletionResult]::new('--certificate-oidc-issuer-regexp', '--certificate-oidc-issuer-regexp', [CompletionResultType]::ParameterName, 'A regular expression the certificate''s OIDC issuer must match')
            [CompletionResult]::new('--rekor-url', '--rekor-url', [CompletionResultType]::ParameterName, 'Transparency log to look entries up in, and whose key checks them')
            [CompletionResult]::new('--rekor-public-key', '--rekor-public-key', [CompletionResultType]::ParameterName, 'The transparency log''s public key (PEM): entries are checked offline with it')
            [CompletionResult]::new('--predicate-type', '--predicate-type', [CompletionResultType]::ParameterName, 'The predicate type attestations must have (a URI, or cosign''s short names such as slsaprovenance; --type as in cosign)')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'The predicate type attestations must have (a URI, or cosign''s short names such as slsaprovenance; --type as in cosign)')
            [CompletionResult]::new('--builder-id', '--builder-id', [CompletionResultType]::ParameterName, 'The builder id the provenance must name')
            [CompletionResult]::new('--source-uri', '--source-uri', [CompletionResultType]::ParameterName, 'A source the provenance must list among its materials / resolvedDependencies')
            [CompletionResult]::new('--source-digest', '--source-digest', [CompletionResultType]::ParameterName, 'The digest (ALG:HEX or HEX) that source (or any material) must have')
            [CompletionResult]::new('--source-tag', '--source-tag', [CompletionResultType]::ParameterName, 'The git tag the build must come from (slsa-verifier''s flag): a source URI''s @refs/tags/TAG, or the run''s revision parameter')
            [CompletionResult]::new('--source-branch', '--source-branch', [CompletionResultType]::ParameterName, 'The git branch the build must come from (slsa-verifier''s flag): a source URI''s @refs/heads/BRANCH, or the run''s revision parameter')
            [CompletionResult]::new('--source-versioned-tag', '--source-versioned-tag', [CompletionResultType]::ParameterName, 'A tag of this version the build must come from: v1 takes any v1.x.y, v1.2 any v1.2.y, v1.2.3 only it (slsa-verifier''s flag)')
            [CompletionResult]::new('--subject', '--subject', [CompletionResultType]::ParameterName, 'A subject the statement must have, NAME@ALG:HEX (NAME may be empty). May be repeated')
            [CompletionResult]::new('--max-age', '--max-age', [CompletionResultType]::ParameterName, 'Reject attestations older than this (e.g. 30m, 24h, 7d), by their log entry''s time, else their build finish time')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format (as cosign''s and kubectl''s -o)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format (as cosign''s and kubectl''s -o)')
            [CompletionResult]::new('--output-file', '--output-file', [CompletionResultType]::ParameterName, 'Write the report (or with --print-payload, the payloads) to FILE instead of standard output; it appears complete or not at all')
            [CompletionResult]::new('--registry-username', '--registry-username', [CompletionResultType]::ParameterName, 'Registry user name, with --registry-password')
            [CompletionResult]::new('--registry-password', '--registry-password', [CompletionResultType]::ParameterName, 'Registry password; prefer the environment variable, which stays out of the process list')
            [CompletionResult]::new('--registry-token', '--registry-token', [CompletionResultType]::ParameterName, 'A registry bearer token (e.g. from a cloud''s token exchange); prefer the environment variable')
            [CompletionResult]::new('--k8s-service-account', '--k8s-service-account', [CompletionResultType]::ParameterName, 'The service account whose imagePullSecrets --k8s-keychain uses, as [NAMESPACE/]NAME (namespace: the kubeconfig context''s)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Deadline for all remote calls (registries, logs, TUF, GCS), a Go duration such as 90s or 5m (cosign''s --timeout)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for all remote calls (registries, logs, TUF, GCS), a Go duration such as 90s or 5m (cosign''s --timeout)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Use the cached TUF metadata only (verified, possibly expired); fetch nothing')
            [CompletionResult]::new('--insecure-ignore-sct', '--insecure-ignore-sct', [CompletionResultType]::ParameterName, 'Do not check the signed certificate timestamps (SCTs) embedded in signing certificates against the trusted root''s CT logs (as cosign)')
            [CompletionResult]::new('--require-tlog', '--require-tlog', [CompletionResultType]::ParameterName, 'Reject anything without a verified transparency log entry')
            [CompletionResult]::new('--insecure-ignore-tlog', '--insecure-ignore-tlog', [CompletionResultType]::ParameterName, 'Do not look at transparency log entries at all (said so in the report)')
            [CompletionResult]::new('--print-payload', '--print-payload', [CompletionResultType]::ParameterName, 'Write each verified payload (the statement) to stdout, one per line; the report goes to stderr (--print-provenance as in slsa-verifier)')
            [CompletionResult]::new('--print-provenance', '--print-provenance', [CompletionResultType]::ParameterName, 'Write each verified payload (the statement) to stdout, one per line; the report goes to stderr (--print-provenance as in slsa-verifier)')
            [CompletionResult]::new('--allow-insecure-registry', '--allow-insecure-registry', [CompletionResultType]::ParameterName, 'Reach --image registries over plain HTTP or with unverified TLS (cosign''s --allow-insecure-registry and --allow-http-registry)')
            [CompletionResult]::new('--allow-http-registry', '--allow-http-registry', [CompletionResultType]::ParameterName, 'Reach --image registries over plain HTTP or with unverified TLS (cosign''s --allow-insecure-registry and --allow-http-registry)')
            [CompletionResult]::new('--fail-fast', '--fail-fast', [CompletionResultType]::ParameterName, 'Stop at the first input that cannot be read')
            [CompletionResult]::new('--k8s-keychain', '--k8s-keychain', [CompletionResultType]::ParameterName, 'Use the Kubernetes keychain: the imagePullSecrets of --k8s-service-account, read with KUBECONFIG, ~/.kube/config or the in-cluster service account (as cosign''s --k8s-keychain)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chains;watch' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubeconfig to connect with [default: the in-cluster service account]')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Watch only these namespaces, comma-separated [default: all namespaces]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Watch only these namespaces, comma-separated [default: all namespaces]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use (kubectl''s --context) [default: the current one]')
            [CompletionResult]::new('--controller-namespace', '--controller-namespace', [CompletionResultType]::ParameterName, 'Namespace holding chains-config, signing-secrets and the Lease [default: POD_NAMESPACE, else the service account''s or the kubeconfig context''s]')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Signing key (cosign key, PEM key or KMS URI) for every artifact type, instead of the signing-secrets Secret')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'File holding --key''s password [default: COSIGN_PASSWORD]')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Runs attested at the same time')
            [CompletionResult]::new('--kube-api-qps', '--kube-api-qps', [CompletionResultType]::ParameterName, 'Sustained requests per second to the Kubernetes API')
            [CompletionResult]::new('--kube-api-burst', '--kube-api-burst', [CompletionResultType]::ParameterName, 'Requests allowed in a burst above --kube-api-qps')
            [CompletionResult]::new('--lease-name', '--lease-name', [CompletionResultType]::ParameterName, 'The coordination.k8s.io Lease replicas elect a leader with (with --buckets N above 1: NAME-I-of-N for bucket I, and NAME-member-ID for each replica)')
            [CompletionResult]::new('--buckets', '--buckets', [CompletionResultType]::ParameterName, 'Share the work across replicas: runs are hashed into N buckets, each led through its own Lease, and each replica leads up to its fair share of them (1: one leader does all the work)')
            [CompletionResult]::new('--lease-duration', '--lease-duration', [CompletionResultType]::ParameterName, 'How long a Lease holds without renewal (e.g. 15s, 500ms)')
            [CompletionResult]::new('--lease-renew-deadline', '--lease-renew-deadline', [CompletionResultType]::ParameterName, 'How long the leader keeps working without a successful renewal; must be shorter than --lease-duration [default: 2/3 of --lease-duration, client-go''s 10s for 15s]')
            [CompletionResult]::new('--keyless-refresh-before', '--keyless-refresh-before', [CompletionResultType]::ParameterName, 'With keyless signing, request a new Fulcio certificate when the current one has less than this left (Fulcio''s last 10 minutes)')
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'This replica''s identity in the Lease [default: POD_NAME, else host name and pid]')
            [CompletionResult]::new('--metrics-address', '--metrics-address', [CompletionResultType]::ParameterName, 'Serve /metrics, /healthz and /readyz here')
            [CompletionResult]::new('--retry-delay', '--retry-delay', [CompletionResultType]::ParameterName, 'First delay before a failed run is tried again (doubling per retry)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for the remote calls of one run (signing, Rekor, storage): a hung backend fails that run by then and frees its worker for other runs; the run is retried like any failure')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as text or as JSON objects (one per line)')
            [CompletionResult]::new('--only-successful', '--only-successful', [CompletionResultType]::ParameterName, 'Attest only runs that succeeded (failed runs are left unmarked)')
            [CompletionResult]::new('--no-leader-election', '--no-leader-election', [CompletionResultType]::ParameterName, 'Do not elect a leader: process runs even if another replica does')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chains;payload' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Read the run from the cluster of this kubeconfig')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Read the run from the cluster of this kubeconfig context (kubectl''s --context)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The run''s namespace in the cluster [default: the context''s]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The run''s namespace in the cluster [default: the context''s]')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'The kind of the run named in the cluster')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'In a file holding several runs: the one with this name')
            [CompletionResult]::new('--artifact-key', '--artifact-key', [CompletionResultType]::ParameterName, 'Another artifact of the run: the KEY of its chains.tekton.dev/<part>-KEY annotations (e.g. the 12 hex digits of an image''s digest) [default: <kind>-<uid>]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chains;signature' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Read the run from the cluster of this kubeconfig')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Read the run from the cluster of this kubeconfig context (kubectl''s --context)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The run''s namespace in the cluster [default: the context''s]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The run''s namespace in the cluster [default: the context''s]')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'The kind of the run named in the cluster')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'In a file holding several runs: the one with this name')
            [CompletionResult]::new('--artifact-key', '--artifact-key', [CompletionResultType]::ParameterName, 'Another artifact of the run: the KEY of its chains.tekton.dev/<part>-KEY annotations (e.g. the 12 hex digits of an image''s digest) [default: <kind>-<uid>]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chains;completions' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors (no warnings, summaries or progress)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chains;help' {
            [CompletionResult]::new('attest', 'attest', [CompletionResultType]::ParameterValue, 'Build provenance for exported TaskRuns and PipelineRuns')
            [CompletionResult]::new('generate-key-pair', 'generate-key-pair', [CompletionResultType]::ParameterValue, 'Generate a cosign-compatible key pair (or a key in a KMS)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify attestations and signatures wherever they are stored')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Attest runs in a cluster as they finish: the Tekton Chains controller')
            [CompletionResult]::new('payload', 'payload', [CompletionResultType]::ParameterValue, 'Print the payload Chains stored on a run (as `tkn chain payload` did)')
            [CompletionResult]::new('signature', 'signature', [CompletionResultType]::ParameterValue, 'Print the signature Chains stored on a run (as `tkn chain signature` did)')
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
        'chains;help;verify' {
            break
        }
        'chains;help;watch' {
            break
        }
        'chains;help;payload' {
            break
        }
        'chains;help;signature' {
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
