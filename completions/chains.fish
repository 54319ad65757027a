# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_chains_global_optspecs
    string join \n q/quiet v/verbose h/help V/version
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
complete -c chains -n "__fish_chains_needs_command" -s v -l verbose -d 'Say on stderr where credentials, trust and outputs come from (cosign\'s --verbose; -d is accepted too)'
complete -c chains -n "__fish_chains_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chains -n "__fish_chains_needs_command" -s V -l version -d 'Print version'
complete -c chains -n "__fish_chains_needs_command" -f -a "attest" -d 'Build provenance for exported TaskRuns and PipelineRuns'
complete -c chains -n "__fish_chains_needs_command" -f -a "generate-key-pair" -d 'Generate a cosign-compatible key pair (or a key in a KMS)'
complete -c chains -n "__fish_chains_needs_command" -f -a "verify" -d 'Verify attestations and signatures wherever they are stored'
complete -c chains -n "__fish_chains_needs_command" -f -a "watch" -d 'Attest runs in a cluster as they finish: the Tekton Chains controller'
complete -c chains -n "__fish_chains_needs_command" -f -a "payload" -d 'Print the payload Chains stored on a run (as `tkn chain payload` did)'
complete -c chains -n "__fish_chains_needs_command" -f -a "signature" -d 'Print the signature Chains stored on a run (as `tkn chain signature` did)'
complete -c chains -n "__fish_chains_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c chains -n "__fish_chains_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c chains -n "__fish_chains_using_subcommand attest" -l taskruns -d 'Child TaskRuns used as context for PipelineRuns only (not attested)' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -l config -d 'A chains-config ConfigMap (or a plain map of its keys); flags override it' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -l format -d 'Provenance format [default: from config, else in-toto, i.e. slsa/v1]. The names are Chains\': slsa/v1 is SLSA v0.2, slsa/v2alpha3 and slsa/v2alpha4 are SLSA v1.0' -r -f -a "in-toto\t'SLSA v0.2 provenance (the same as slsa/v1)'
slsa/v1\t'SLSA v0.2 provenance, in-toto Statement v0.1'
slsa/v2alpha3\t'SLSA v1.0 provenance, in-toto Statement v1'
slsa/v2alpha4\t'SLSA v1.0 provenance, with StepAction results and build-artifact subjects'"
complete -c chains -n "__fish_chains_using_subcommand attest" -l builder-id -d 'Builder id recorded in the provenance [default: https://tekton.dev/chains/v2]' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l build-type -d 'Build type for slsa/v2alpha3 and slsa/v2alpha4' -r -f -a "https://tekton.dev/chains/v2/slsa\t''
https://tekton.dev/chains/v2/slsa-tekton\t''"
complete -c chains -n "__fish_chains_using_subcommand attest" -l key -d 'Signing key: a cosign key, a PEM private key, or a KMS URI (awskms://, gcpkms://, azurekms://, hashivault://)' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l password-file -d 'File holding the key\'s password [default: COSIGN_PASSWORD, else a prompt on a terminal]' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -l fulcio-url -d 'Keyless signing: the Fulcio URL to get a certificate from' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l identity-token -d 'Keyless signing: the OIDC identity token itself (cosign\'s flag). It shows in the process list: prefer SIGSTORE_ID_TOKEN or --identity-token-file. Deprecated: a value naming an existing file is read as --identity-token-file, with a warning' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l identity-token-file -d 'Keyless signing: a file holding the OIDC identity token (read when signing starts) [default: SIGSTORE_ID_TOKEN, else signers.x509.identity.token.file]' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -l storage -d 'Storage backends for every artifact kind, comma-separated: tekton, oci, gcs, files [default: artifacts.*.storage from --config, else none (local output only)]' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l kubeconfig -d 'Annotate the live runs in this cluster, as the Chains controller does (chains.tekton.dev/signed, and the tekton backend\'s annotations)' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -l rekor-url -d 'Transparency log URL [default: transparency.url, else https://rekor.sigstore.dev]' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l rekor-public-key -d 'The transparency log\'s public key (PEM) [default: fetched from the log]' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -s o -l output -d 'Format of what goes to standard output (or --output-file): json (JSON Lines, one document per run; the default) or yaml (a YAML stream). Deprecated: a value that is not a format name is taken as --output-dir, with a warning' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l output-dir -d 'Write one file per run (and each image signature) into DIR instead of a stream on standard output' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -l output-file -d 'Write the stream to FILE instead of standard output; it appears complete or not at all' -r -F
complete -c chains -n "__fish_chains_using_subcommand attest" -l registry-username -d 'Registry user name, with --registry-password' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l registry-password -d 'Registry password; prefer the environment variable, which stays out of the process list' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l registry-token -d 'A registry bearer token (e.g. from a cloud\'s token exchange); prefer the environment variable' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l k8s-service-account -d 'The service account whose imagePullSecrets --k8s-keychain uses, as [NAMESPACE/]NAME (namespace: the kubeconfig context\'s)' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l timeout -d 'Deadline for all remote calls (cosign\'s --timeout), a Go duration such as 90s or 5m: no try starts after it, and requests end by it. Each call also has its own limit (90 s across its retries)' -r
complete -c chains -n "__fish_chains_using_subcommand attest" -l deep-inspection -d 'Take subjects and materials of a PipelineRun from its child TaskRuns too'
complete -c chains -n "__fish_chains_using_subcommand attest" -l unsigned -d 'Write unsigned in-toto statements (no key needed)'
complete -c chains -n "__fish_chains_using_subcommand attest" -l bundle -d 'Write Sigstore bundles (v0.3) instead of bare DSSE envelopes'
complete -c chains -n "__fish_chains_using_subcommand attest" -l in-place -d 'With the tekton backend: write the annotations into the input files themselves'
complete -c chains -n "__fish_chains_using_subcommand attest" -l tlog-upload -d 'Upload to the transparency log (as transparency.enabled: true)'
complete -c chains -n "__fish_chains_using_subcommand attest" -l fail-fast -d 'Stop at the first run that fails'
complete -c chains -n "__fish_chains_using_subcommand attest" -l allow-unfinished -d 'Attest runs that have not finished (no `Succeeded` condition that is True or False), with a warning; Tekton Chains never signs them'
complete -c chains -n "__fish_chains_using_subcommand attest" -l k8s-keychain -d 'Use the Kubernetes keychain: the imagePullSecrets of --k8s-service-account, read with KUBECONFIG, ~/.kube/config or the in-cluster service account (as cosign\'s --k8s-keychain)'
complete -c chains -n "__fish_chains_using_subcommand attest" -l allow-missing-children -d 'Attest a PipelineRun whose childReferences name TaskRuns missing from the inputs, from the children that are there, with a warning'
complete -c chains -n "__fish_chains_using_subcommand attest" -s q -l quiet -d 'Print only errors (no warnings, summaries or progress)'
complete -c chains -n "__fish_chains_using_subcommand attest" -s v -l verbose -d 'Say on stderr where credentials, trust and outputs come from (cosign\'s --verbose; -d is accepted too)'
complete -c chains -n "__fish_chains_using_subcommand attest" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chains -n "__fish_chains_using_subcommand attest" -s V -l version -d 'Print version'
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -l output-key-prefix -d 'File name prefix for the key pair' -r -F
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -l kms -d 'Create the key in this KMS instead (awskms://, gcpkms://, azurekms://, hashivault://)' -r
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -l password-file -d 'File holding the password to encrypt the private key with' -r -F
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -l force -d 'Overwrite existing files'
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -s q -l quiet -d 'Print only errors (no warnings, summaries or progress)'
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -s v -l verbose -d 'Say on stderr where credentials, trust and outputs come from (cosign\'s --verbose; -d is accepted too)'
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chains -n "__fish_chains_using_subcommand generate-key-pair" -s V -l version -d 'Print version'
complete -c chains -n "__fish_chains_using_subcommand verify" -l image -d 'Verify what is attached to this image in its registry (.sig, .att, referrer bundles)' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l local-image -d 'Verify an image saved in an OCI image layout on disk, with what is attached to it (as `cosign save` or `skopeo copy … oci:DIR` write it; cosign\'s --local-image): DIR, or DIR:REF for the manifest the layout names REF' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l gcs -d 'Verify what Chains stored under gs://BUCKET/PREFIX' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l artifact -d 'The artifact the signatures must be about: a file (hashed), or its digest as sha256:HEX (or sha512:HEX). A message signature must be over it, an image signature of it, an attestation must name it as a subject' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l signature -d 'A detached signature over --artifact FILE (base64 or raw, as `cosign sign-blob` writes it)' -r -F
complete -c chains -n "__fish_chains_using_subcommand verify" -l certificate -l cert -d 'The PEM certificate of a keyless --signature (--cert as in cosign)' -r -F
complete -c chains -n "__fish_chains_using_subcommand verify" -l certificate-chain -d 'The PEM chain above --certificate' -r -F
complete -c chains -n "__fish_chains_using_subcommand verify" -l key -d 'Trusted key: a PEM public key (cosign.pub), a Sigstore PublicKey in JSON (rawBytes, keyDetails, validFor: trusted only for signatures a verified timestamp or log entry places in that window), a certificate, a private key file (its public half), or a KMS URI. May be repeated' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l password-file -d 'File holding the password of an encrypted private key given as --key' -r -F
complete -c chains -n "__fish_chains_using_subcommand verify" -l trusted-root -d 'Sigstore trusted root (trusted_root.json, as cosign and sigstore-go take it): Fulcio CAs, Rekor logs, CT logs and timestamp authorities, each trusted within its validity window' -r -F
complete -c chains -n "__fish_chains_using_subcommand verify" -l tuf-url -d 'TUF repository to get the trusted root (its trusted_root.json target) from. Without it, keyless verification given no --trusted-root or --ca-roots uses Sigstore\'s public-good repository (https://tuf-repo-cdn.sigstore.dev), whose root ships in chains' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l tuf-root -d 'The initial root.json of the --tuf-url repository (as `cosign initialize --root`)' -r -F
complete -c chains -n "__fish_chains_using_subcommand verify" -l ca-roots -d 'Trusted root certificates (PEM) for keyless signatures' -r -F
complete -c chains -n "__fish_chains_using_subcommand verify" -l ca-intermediates -d 'Intermediate certificates (PEM) between a signing certificate and the roots' -r -F
complete -c chains -n "__fish_chains_using_subcommand verify" -l certificate-identity -d 'The identity (email or URI SAN) the signing certificate must have' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l certificate-identity-regexp -d 'A regular expression the certificate identity must match (unanchored, as cosign)' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l certificate-oidc-issuer -d 'The OIDC issuer the signing certificate must name' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l certificate-oidc-issuer-regexp -d 'A regular expression the certificate\'s OIDC issuer must match' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l rekor-url -d 'Transparency log to look entries up in, and whose key checks them' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l rekor-public-key -d 'The transparency log\'s public key (PEM): entries are checked offline with it' -r -F
complete -c chains -n "__fish_chains_using_subcommand verify" -l predicate-type -l type -d 'The predicate type attestations must have (a URI, or cosign\'s short names such as slsaprovenance; --type as in cosign)' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l builder-id -d 'The builder id the provenance must name' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l source-uri -d 'A source the provenance must list among its materials / resolvedDependencies' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l source-digest -d 'The digest (ALG:HEX or HEX) that source (or any material) must have' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l source-tag -d 'The git tag the build must come from (slsa-verifier\'s flag): a source URI\'s @refs/tags/TAG, or the run\'s revision parameter' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l source-branch -d 'The git branch the build must come from (slsa-verifier\'s flag): a source URI\'s @refs/heads/BRANCH, or the run\'s revision parameter' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l source-versioned-tag -d 'A tag of this version the build must come from: v1 takes any v1.x.y, v1.2 any v1.2.y, v1.2.3 only it (slsa-verifier\'s flag)' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l subject -d 'A subject the statement must have, NAME@ALG:HEX (NAME may be empty). May be repeated' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l max-age -d 'Reject attestations older than this (e.g. 30m, 24h, 7d), by their log entry\'s time, else their build finish time' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -s o -l output -d 'Report format (as cosign\'s and kubectl\'s -o)' -r -f -a "text\t'A line per artifact and a summary (`human` is accepted too)'
json\t'One JSON document: every finding, with the failed check\'s name'
yaml\t'The JSON document as YAML'"
complete -c chains -n "__fish_chains_using_subcommand verify" -l output-file -d 'Write the report (or with --print-payload, the payloads) to FILE instead of standard output; it appears complete or not at all' -r -F
complete -c chains -n "__fish_chains_using_subcommand verify" -l registry-username -d 'Registry user name, with --registry-password' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l registry-password -d 'Registry password; prefer the environment variable, which stays out of the process list' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l registry-token -d 'A registry bearer token (e.g. from a cloud\'s token exchange); prefer the environment variable' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l k8s-service-account -d 'The service account whose imagePullSecrets --k8s-keychain uses, as [NAMESPACE/]NAME (namespace: the kubeconfig context\'s)' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -s t -l timeout -d 'Deadline for all remote calls (registries, logs, TUF, GCS), a Go duration such as 90s or 5m (cosign\'s --timeout)' -r
complete -c chains -n "__fish_chains_using_subcommand verify" -l offline -d 'Use the cached TUF metadata only (verified, possibly expired); fetch nothing'
complete -c chains -n "__fish_chains_using_subcommand verify" -l insecure-ignore-sct -d 'Do not check the signed certificate timestamps (SCTs) embedded in signing certificates against the trusted root\'s CT logs (as cosign)'
complete -c chains -n "__fish_chains_using_subcommand verify" -l require-tlog -d 'Reject anything without a verified transparency log entry'
complete -c chains -n "__fish_chains_using_subcommand verify" -l insecure-ignore-tlog -d 'Do not look at transparency log entries at all (said so in the report)'
complete -c chains -n "__fish_chains_using_subcommand verify" -l print-payload -l print-provenance -d 'Write each verified payload (the statement) to stdout, one per line; the report goes to stderr (--print-provenance as in slsa-verifier)'
complete -c chains -n "__fish_chains_using_subcommand verify" -l allow-insecure-registry -l allow-http-registry -d 'Reach --image registries over plain HTTP or with unverified TLS (cosign\'s --allow-insecure-registry and --allow-http-registry)'
complete -c chains -n "__fish_chains_using_subcommand verify" -l fail-fast -d 'Stop at the first input that cannot be read'
complete -c chains -n "__fish_chains_using_subcommand verify" -l k8s-keychain -d 'Use the Kubernetes keychain: the imagePullSecrets of --k8s-service-account, read with KUBECONFIG, ~/.kube/config or the in-cluster service account (as cosign\'s --k8s-keychain)'
complete -c chains -n "__fish_chains_using_subcommand verify" -s q -l quiet -d 'Print only errors (no warnings, summaries or progress)'
complete -c chains -n "__fish_chains_using_subcommand verify" -s v -l verbose -d 'Say on stderr where credentials, trust and outputs come from (cosign\'s --verbose; -d is accepted too)'
complete -c chains -n "__fish_chains_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chains -n "__fish_chains_using_subcommand verify" -s V -l version -d 'Print version'
complete -c chains -n "__fish_chains_using_subcommand watch" -l kubeconfig -d 'Kubeconfig to connect with [default: the in-cluster service account]' -r -F
complete -c chains -n "__fish_chains_using_subcommand watch" -s n -l namespace -d 'Watch only these namespaces, comma-separated [default: all namespaces]' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l context -d 'The kubeconfig context to use (kubectl\'s --context) [default: the current one]' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l controller-namespace -d 'Namespace holding chains-config, signing-secrets and the Lease [default: POD_NAMESPACE, else the service account\'s or the kubeconfig context\'s]' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l key -d 'Signing key (cosign key, PEM key or KMS URI) for every artifact type, instead of the signing-secrets Secret' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l password-file -d 'File holding --key\'s password [default: COSIGN_PASSWORD]' -r -F
complete -c chains -n "__fish_chains_using_subcommand watch" -l workers -d 'Runs attested at the same time' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l kube-api-qps -d 'Sustained requests per second to the Kubernetes API' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l kube-api-burst -d 'Requests allowed in a burst above --kube-api-qps' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l lease-name -d 'The coordination.k8s.io Lease replicas elect a leader with (with --buckets N above 1: NAME-I-of-N for bucket I, and NAME-member-ID for each replica)' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l buckets -d 'Share the work across replicas: runs are hashed into N buckets, each led through its own Lease, and each replica leads up to its fair share of them (1: one leader does all the work)' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l lease-duration -d 'How long a Lease holds without renewal (e.g. 15s, 500ms)' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l lease-renew-deadline -d 'How long the leader keeps working without a successful renewal; must be shorter than --lease-duration [default: 2/3 of --lease-duration, client-go\'s 10s for 15s]' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l keyless-refresh-before -d 'With keyless signing, request a new Fulcio certificate when the current one has less than this left (Fulcio\'s last 10 minutes)' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l identity -d 'This replica\'s identity in the Lease [default: POD_NAME, else host name and pid]' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l metrics-address -d 'Serve /metrics, /healthz and /readyz here' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l retry-delay -d 'First delay before a failed run is tried again (doubling per retry)' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l timeout -d 'Deadline for the remote calls of one run (signing, Rekor, storage): a hung backend fails that run by then and frees its worker for other runs; the run is retried like any failure' -r
complete -c chains -n "__fish_chains_using_subcommand watch" -l log-format -d 'Log lines as text or as JSON objects (one per line)' -r -f -a "text\t''
json\t''"
complete -c chains -n "__fish_chains_using_subcommand watch" -l only-successful -d 'Attest only runs that succeeded (failed runs are left unmarked)'
complete -c chains -n "__fish_chains_using_subcommand watch" -l no-leader-election -d 'Do not elect a leader: process runs even if another replica does'
complete -c chains -n "__fish_chains_using_subcommand watch" -s q -l quiet -d 'Print only errors (no warnings, summaries or progress)'
complete -c chains -n "__fish_chains_using_subcommand watch" -s v -l verbose -d 'Say on stderr where credentials, trust and outputs come from (cosign\'s --verbose; -d is accepted too)'
complete -c chains -n "__fish_chains_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chains -n "__fish_chains_using_subcommand watch" -s V -l version -d 'Print version'
complete -c chains -n "__fish_chains_using_subcommand payload" -l kubeconfig -d 'Read the run from the cluster of this kubeconfig' -r -F
complete -c chains -n "__fish_chains_using_subcommand payload" -l context -d 'Read the run from the cluster of this kubeconfig context (kubectl\'s --context)' -r
complete -c chains -n "__fish_chains_using_subcommand payload" -s n -l namespace -d 'The run\'s namespace in the cluster [default: the context\'s]' -r
complete -c chains -n "__fish_chains_using_subcommand payload" -l kind -d 'The kind of the run named in the cluster' -r -f -a "taskrun\t''
pipelinerun\t''"
complete -c chains -n "__fish_chains_using_subcommand payload" -l name -d 'In a file holding several runs: the one with this name' -r
complete -c chains -n "__fish_chains_using_subcommand payload" -l artifact-key -d 'Another artifact of the run: the KEY of its chains.tekton.dev/<part>-KEY annotations (e.g. the 12 hex digits of an image\'s digest) [default: <kind>-<uid>]' -r
complete -c chains -n "__fish_chains_using_subcommand payload" -s q -l quiet -d 'Print only errors (no warnings, summaries or progress)'
complete -c chains -n "__fish_chains_using_subcommand payload" -s v -l verbose -d 'Say on stderr where credentials, trust and outputs come from (cosign\'s --verbose; -d is accepted too)'
complete -c chains -n "__fish_chains_using_subcommand payload" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chains -n "__fish_chains_using_subcommand payload" -s V -l version -d 'Print version'
complete -c chains -n "__fish_chains_using_subcommand signature" -l kubeconfig -d 'Read the run from the cluster of this kubeconfig' -r -F
complete -c chains -n "__fish_chains_using_subcommand signature" -l context -d 'Read the run from the cluster of this kubeconfig context (kubectl\'s --context)' -r
complete -c chains -n "__fish_chains_using_subcommand signature" -s n -l namespace -d 'The run\'s namespace in the cluster [default: the context\'s]' -r
complete -c chains -n "__fish_chains_using_subcommand signature" -l kind -d 'The kind of the run named in the cluster' -r -f -a "taskrun\t''
pipelinerun\t''"
complete -c chains -n "__fish_chains_using_subcommand signature" -l name -d 'In a file holding several runs: the one with this name' -r
complete -c chains -n "__fish_chains_using_subcommand signature" -l artifact-key -d 'Another artifact of the run: the KEY of its chains.tekton.dev/<part>-KEY annotations (e.g. the 12 hex digits of an image\'s digest) [default: <kind>-<uid>]' -r
complete -c chains -n "__fish_chains_using_subcommand signature" -s q -l quiet -d 'Print only errors (no warnings, summaries or progress)'
complete -c chains -n "__fish_chains_using_subcommand signature" -s v -l verbose -d 'Say on stderr where credentials, trust and outputs come from (cosign\'s --verbose; -d is accepted too)'
complete -c chains -n "__fish_chains_using_subcommand signature" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chains -n "__fish_chains_using_subcommand signature" -s V -l version -d 'Print version'
complete -c chains -n "__fish_chains_using_subcommand completions" -s q -l quiet -d 'Print only errors (no warnings, summaries or progress)'
complete -c chains -n "__fish_chains_using_subcommand completions" -s v -l verbose -d 'Say on stderr where credentials, trust and outputs come from (cosign\'s --verbose; -d is accepted too)'
complete -c chains -n "__fish_chains_using_subcommand completions" -s h -l help -d 'Print help'
complete -c chains -n "__fish_chains_using_subcommand completions" -s V -l version -d 'Print version'
complete -c chains -n "__fish_chains_using_subcommand help; and not __fish_seen_subcommand_from attest generate-key-pair verify watch payload signature completions help" -f -a "attest" -d 'Build provenance for exported TaskRuns and PipelineRuns'
complete -c chains -n "__fish_chains_using_subcommand help; and not __fish_seen_subcommand_from attest generate-key-pair verify watch payload signature completions help" -f -a "generate-key-pair" -d 'Generate a cosign-compatible key pair (or a key in a KMS)'
complete -c chains -n "__fish_chains_using_subcommand help; and not __fish_seen_subcommand_from attest generate-key-pair verify watch payload signature completions help" -f -a "verify" -d 'Verify attestations and signatures wherever they are stored'
complete -c chains -n "__fish_chains_using_subcommand help; and not __fish_seen_subcommand_from attest generate-key-pair verify watch payload signature completions help" -f -a "watch" -d 'Attest runs in a cluster as they finish: the Tekton Chains controller'
complete -c chains -n "__fish_chains_using_subcommand help; and not __fish_seen_subcommand_from attest generate-key-pair verify watch payload signature completions help" -f -a "payload" -d 'Print the payload Chains stored on a run (as `tkn chain payload` did)'
complete -c chains -n "__fish_chains_using_subcommand help; and not __fish_seen_subcommand_from attest generate-key-pair verify watch payload signature completions help" -f -a "signature" -d 'Print the signature Chains stored on a run (as `tkn chain signature` did)'
complete -c chains -n "__fish_chains_using_subcommand help; and not __fish_seen_subcommand_from attest generate-key-pair verify watch payload signature completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c chains -n "__fish_chains_using_subcommand help; and not __fish_seen_subcommand_from attest generate-key-pair verify watch payload signature completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
