
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
            cand -v 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand --verbose 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand attest 'Build provenance for exported TaskRuns and PipelineRuns'
            cand generate-key-pair 'Generate a cosign-compatible key pair (or a key in a KMS)'
            cand verify 'Verify attestations and signatures wherever they are stored'
            cand watch 'Attest runs in a cluster as they finish: the Tekton Chains controller'
            cand payload 'Print the payload Chains stored on a run (as `tkn chain payload` did)'
            cand signature 'Print the signature Chains stored on a run (as `tkn chain signature` did)'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'chains;attest'= {
            cand --taskruns 'Child TaskRuns used as context for PipelineRuns only (not attested)'
            cand --config 'A chains-config ConfigMap (or a plain map of its keys); flags override it'
            cand --format 'Provenance format [default: from config, else in-toto, i.e. slsa/v1]. The names are Chains'': slsa/v1 is SLSA v0.2, slsa/v2alpha3 and slsa/v2alpha4 are SLSA v1.0'
            cand --builder-id 'Builder id recorded in the provenance [default: https://tekton.dev/chains/v2]'
            cand --build-type 'Build type for slsa/v2alpha3 and slsa/v2alpha4'
            cand --key 'Signing key: a cosign key, a PEM private key, or a KMS URI (awskms://, gcpkms://, azurekms://, hashivault://)'
            cand --password-file 'File holding the key''s password [default: COSIGN_PASSWORD, else a prompt on a terminal]'
            cand --fulcio-url 'Keyless signing: the Fulcio URL to get a certificate from'
            cand --identity-token 'Keyless signing: the OIDC identity token itself (cosign''s flag). It shows in the process list: prefer SIGSTORE_ID_TOKEN or --identity-token-file. Deprecated: a value naming an existing file is read as --identity-token-file, with a warning'
            cand --identity-token-file 'Keyless signing: a file holding the OIDC identity token (read when signing starts) [default: SIGSTORE_ID_TOKEN, else signers.x509.identity.token.file]'
            cand --storage 'Storage backends for every artifact kind, comma-separated: tekton, oci, gcs, files [default: artifacts.*.storage from --config, else none (local output only)]'
            cand --kubeconfig 'Annotate the live runs in this cluster, as the Chains controller does (chains.tekton.dev/signed, and the tekton backend''s annotations)'
            cand --rekor-url 'Transparency log URL [default: transparency.url, else https://rekor.sigstore.dev]'
            cand --rekor-public-key 'The transparency log''s public key (PEM) [default: fetched from the log]'
            cand -o 'Format of what goes to standard output (or --output-file): json (JSON Lines, one document per run; the default) or yaml (a YAML stream). Deprecated: a value that is not a format name is taken as --output-dir, with a warning'
            cand --output 'Format of what goes to standard output (or --output-file): json (JSON Lines, one document per run; the default) or yaml (a YAML stream). Deprecated: a value that is not a format name is taken as --output-dir, with a warning'
            cand --output-dir 'Write one file per run (and each image signature) into DIR instead of a stream on standard output'
            cand --output-file 'Write the stream to FILE instead of standard output; it appears complete or not at all'
            cand --registry-username 'Registry user name, with --registry-password'
            cand --registry-password 'Registry password; prefer the environment variable, which stays out of the process list'
            cand --registry-token 'A registry bearer token (e.g. from a cloud''s token exchange); prefer the environment variable'
            cand --k8s-service-account 'The service account whose imagePullSecrets --k8s-keychain uses, as [NAMESPACE/]NAME (namespace: the kubeconfig context''s)'
            cand --timeout 'Deadline for all remote calls (cosign''s --timeout), a Go duration such as 90s or 5m: no try starts after it, and requests end by it. Each call also has its own limit (90 s across its retries)'
            cand --deep-inspection 'Take subjects and materials of a PipelineRun from its child TaskRuns too'
            cand --unsigned 'Write unsigned in-toto statements (no key needed)'
            cand --bundle 'Write Sigstore bundles (v0.3) instead of bare DSSE envelopes'
            cand --in-place 'With the tekton backend: write the annotations into the input files themselves'
            cand --tlog-upload 'Upload to the transparency log (as transparency.enabled: true)'
            cand --fail-fast 'Stop at the first run that fails'
            cand --allow-unfinished 'Attest runs that have not finished (no `Succeeded` condition that is True or False), with a warning; Tekton Chains never signs them'
            cand --k8s-keychain 'Use the Kubernetes keychain: the imagePullSecrets of --k8s-service-account, read with KUBECONFIG, ~/.kube/config or the in-cluster service account (as cosign''s --k8s-keychain)'
            cand --allow-missing-children 'Attest a PipelineRun whose childReferences name TaskRuns missing from the inputs, from the children that are there, with a warning'
            cand -q 'Print only errors (no warnings, summaries or progress)'
            cand --quiet 'Print only errors (no warnings, summaries or progress)'
            cand -v 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand --verbose 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
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
            cand -v 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand --verbose 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chains;verify'= {
            cand --image 'Verify what is attached to this image in its registry (.sig, .att, referrer bundles)'
            cand --local-image 'Verify an image saved in an OCI image layout on disk, with what is attached to it (as `cosign save` or `skopeo copy … oci:DIR` write it; cosign''s --local-image): DIR, or DIR:REF for the manifest the layout names REF'
            cand --gcs 'Verify what Chains stored under gs://BUCKET/PREFIX'
            cand --artifact 'The artifact the signatures must be about: a file (hashed), or its digest as sha256:HEX (or sha512:HEX). A message signature must be over it, an image signature of it, an attestation must name it as a subject'
            cand --signature 'A detached signature over --artifact FILE (base64 or raw, as `cosign sign-blob` writes it)'
            cand --certificate 'The PEM certificate of a keyless --signature (--cert as in cosign)'
            cand --cert 'The PEM certificate of a keyless --signature (--cert as in cosign)'
            cand --certificate-chain 'The PEM chain above --certificate'
            cand --key 'Trusted key: a PEM public key (cosign.pub), a Sigstore PublicKey in JSON (rawBytes, keyDetails, validFor: trusted only for signatures a verified timestamp or log entry places in that window), a certificate, a private key file (its public half), or a KMS URI. May be repeated'
            cand --password-file 'File holding the password of an encrypted private key given as --key'
            cand --trusted-root 'Sigstore trusted root (trusted_root.json, as cosign and sigstore-go take it): Fulcio CAs, Rekor logs, CT logs and timestamp authorities, each trusted within its validity window'
            cand --tuf-url 'TUF repository to get the trusted root (its trusted_root.json target) from. Without it, keyless verification given no --trusted-root or --ca-roots uses Sigstore''s public-good repository (https://tuf-repo-cdn.sigstore.dev), whose root ships in chains'
            cand --tuf-root 'The initial root.json of the --tuf-url repository (as `cosign initialize --root`)'
            cand --ca-roots 'Trusted root certificates (PEM) for keyless signatures'
            cand --ca-intermediates 'Intermediate certificates (PEM) between a signing certificate and the roots'
            cand --certificate-identity 'The identity (email or URI SAN) the signing certificate must have'
            cand --certificate-identity-regexp 'A regular expression the certificate identity must match (unanchored, as cosign)'
            cand --certificate-oidc-issuer 'The OIDC issuer the signing certificate must name'
            cand --certificate-oidc-issuer-regexp 'A regular expression the certificate''s OIDC issuer must match'
            cand --rekor-url 'Transparency log to look entries up in, and whose key checks them'
            cand --rekor-public-key 'The transparency log''s public key (PEM): entries are checked offline with it'
            cand --predicate-type 'The predicate type attestations must have (a URI, or cosign''s short names such as slsaprovenance; --type as in cosign)'
            cand --type 'The predicate type attestations must have (a URI, or cosign''s short names such as slsaprovenance; --type as in cosign)'
            cand --builder-id 'The builder id the provenance must name'
            cand --source-uri 'A source the provenance must list among its materials / resolvedDependencies'
            cand --source-digest 'The digest (ALG:HEX or HEX) that source (or any material) must have'
            cand --source-tag 'The git tag the build must come from (slsa-verifier''s flag): a source URI''s @refs/tags/TAG, or the run''s revision parameter'
            cand --source-branch 'The git branch the build must come from (slsa-verifier''s flag): a source URI''s @refs/heads/BRANCH, or the run''s revision parameter'
            cand --source-versioned-tag 'A tag of this version the build must come from: v1 takes any v1.x.y, v1.2 any v1.2.y, v1.2.3 only it (slsa-verifier''s flag)'
            cand --subject 'A subject the statement must have, NAME@ALG:HEX (NAME may be empty). May be repeated'
            cand --max-age 'Reject attestations older than this (e.g. 30m, 24h, 7d), by their log entry''s time, else their build finish time'
            cand -o 'Report format (as cosign''s and kubectl''s -o)'
            cand --output 'Report format (as cosign''s and kubectl''s -o)'
            cand --output-file 'Write the report (or with --print-payload, the payloads) to FILE instead of standard output; it appears complete or not at all'
            cand --registry-username 'Registry user name, with --registry-password'
            cand --registry-password 'Registry password; prefer the environment variable, which stays out of the process list'
            cand --registry-token 'A registry bearer token (e.g. from a cloud''s token exchange); prefer the environment variable'
            cand --k8s-service-account 'The service account whose imagePullSecrets --k8s-keychain uses, as [NAMESPACE/]NAME (namespace: the kubeconfig context''s)'
            cand -t 'Deadline for all remote calls (registries, logs, TUF, GCS), a Go duration such as 90s or 5m (cosign''s --timeout)'
            cand --timeout 'Deadline for all remote calls (registries, logs, TUF, GCS), a Go duration such as 90s or 5m (cosign''s --timeout)'
            cand --offline 'Use the cached TUF metadata only (verified, possibly expired); fetch nothing'
            cand --insecure-ignore-sct 'Do not check the signed certificate timestamps (SCTs) embedded in signing certificates against the trusted root''s CT logs (as cosign)'
            cand --require-tlog 'Reject anything without a verified transparency log entry'
            cand --insecure-ignore-tlog 'Do not look at transparency log entries at all (said so in the report)'
            cand --print-payload 'Write each verified payload (the statement) to stdout, one per line; the report goes to stderr (--print-provenance as in slsa-verifier)'
            cand --print-provenance 'Write each verified payload (the statement) to stdout, one per line; the report goes to stderr (--print-provenance as in slsa-verifier)'
            cand --allow-insecure-registry 'Reach --image registries over plain HTTP or with unverified TLS (cosign''s --allow-insecure-registry and --allow-http-registry)'
            cand --allow-http-registry 'Reach --image registries over plain HTTP or with unverified TLS (cosign''s --allow-insecure-registry and --allow-http-registry)'
            cand --fail-fast 'Stop at the first input that cannot be read'
            cand --k8s-keychain 'Use the Kubernetes keychain: the imagePullSecrets of --k8s-service-account, read with KUBECONFIG, ~/.kube/config or the in-cluster service account (as cosign''s --k8s-keychain)'
            cand -q 'Print only errors (no warnings, summaries or progress)'
            cand --quiet 'Print only errors (no warnings, summaries or progress)'
            cand -v 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand --verbose 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chains;watch'= {
            cand --kubeconfig 'Kubeconfig to connect with [default: the in-cluster service account]'
            cand -n 'Watch only these namespaces, comma-separated [default: all namespaces]'
            cand --namespace 'Watch only these namespaces, comma-separated [default: all namespaces]'
            cand --context 'The kubeconfig context to use (kubectl''s --context) [default: the current one]'
            cand --controller-namespace 'Namespace holding chains-config, signing-secrets and the Lease [default: POD_NAMESPACE, else the service account''s or the kubeconfig context''s]'
            cand --key 'Signing key (cosign key, PEM key or KMS URI) for every artifact type, instead of the signing-secrets Secret'
            cand --password-file 'File holding --key''s password [default: COSIGN_PASSWORD]'
            cand --workers 'Runs attested at the same time'
            cand --kube-api-qps 'Sustained requests per second to the Kubernetes API'
            cand --kube-api-burst 'Requests allowed in a burst above --kube-api-qps'
            cand --lease-name 'The coordination.k8s.io Lease replicas elect a leader with (with --buckets N above 1: NAME-I-of-N for bucket I, and NAME-member-ID for each replica)'
            cand --buckets 'Share the work across replicas: runs are hashed into N buckets, each led through its own Lease, and each replica leads up to its fair share of them (1: one leader does all the work)'
            cand --lease-duration 'How long a Lease holds without renewal (e.g. 15s, 500ms)'
            cand --lease-renew-deadline 'How long the leader keeps working without a successful renewal; must be shorter than --lease-duration [default: 2/3 of --lease-duration, client-go''s 10s for 15s]'
            cand --keyless-refresh-before 'With keyless signing, request a new Fulcio certificate when the current one has less than this left (Fulcio''s last 10 minutes)'
            cand --identity 'This replica''s identity in the Lease [default: POD_NAME, else host name and pid]'
            cand --metrics-address 'Serve /metrics, /healthz and /readyz here'
            cand --retry-delay 'First delay before a failed run is tried again (doubling per retry)'
            cand --timeout 'Deadline for the remote calls of one run (signing, Rekor, storage): a hung backend fails that run by then and frees its worker for other runs; the run is retried like any failure'
            cand --log-format 'Log lines as text or as JSON objects (one per line)'
            cand --only-successful 'Attest only runs that succeeded (failed runs are left unmarked)'
            cand --no-leader-election 'Do not elect a leader: process runs even if another replica does'
            cand -q 'Print only errors (no warnings, summaries or progress)'
            cand --quiet 'Print only errors (no warnings, summaries or progress)'
            cand -v 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand --verbose 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chains;payload'= {
            cand --kubeconfig 'Read the run from the cluster of this kubeconfig'
            cand --context 'Read the run from the cluster of this kubeconfig context (kubectl''s --context)'
            cand -n 'The run''s namespace in the cluster [default: the context''s]'
            cand --namespace 'The run''s namespace in the cluster [default: the context''s]'
            cand --kind 'The kind of the run named in the cluster'
            cand --name 'In a file holding several runs: the one with this name'
            cand --artifact-key 'Another artifact of the run: the KEY of its chains.tekton.dev/<part>-KEY annotations (e.g. the 12 hex digits of an image''s digest) [default: <kind>-<uid>]'
            cand -q 'Print only errors (no warnings, summaries or progress)'
            cand --quiet 'Print only errors (no warnings, summaries or progress)'
            cand -v 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand --verbose 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chains;signature'= {
            cand --kubeconfig 'Read the run from the cluster of this kubeconfig'
            cand --context 'Read the run from the cluster of this kubeconfig context (kubectl''s --context)'
            cand -n 'The run''s namespace in the cluster [default: the context''s]'
            cand --namespace 'The run''s namespace in the cluster [default: the context''s]'
            cand --kind 'The kind of the run named in the cluster'
            cand --name 'In a file holding several runs: the one with this name'
            cand --artifact-key 'Another artifact of the run: the KEY of its chains.tekton.dev/<part>-KEY annotations (e.g. the 12 hex digits of an image''s digest) [default: <kind>-<uid>]'
            cand -q 'Print only errors (no warnings, summaries or progress)'
            cand --quiet 'Print only errors (no warnings, summaries or progress)'
            cand -v 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand --verbose 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chains;completions'= {
            cand -q 'Print only errors (no warnings, summaries or progress)'
            cand --quiet 'Print only errors (no warnings, summaries or progress)'
            cand -v 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand --verbose 'Say on stderr where credentials, trust and outputs come from (cosign''s --verbose; -d is accepted too)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chains;help'= {
            cand attest 'Build provenance for exported TaskRuns and PipelineRuns'
            cand generate-key-pair 'Generate a cosign-compatible key pair (or a key in a KMS)'
            cand verify 'Verify attestations and signatures wherever they are stored'
            cand watch 'Attest runs in a cluster as they finish: the Tekton Chains controller'
            cand payload 'Print the payload Chains stored on a run (as `tkn chain payload` did)'
            cand signature 'Print the signature Chains stored on a run (as `tkn chain signature` did)'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'chains;help;attest'= {
        }
        &'chains;help;generate-key-pair'= {
        }
        &'chains;help;verify'= {
        }
        &'chains;help;watch'= {
        }
        &'chains;help;payload'= {
        }
        &'chains;help;signature'= {
        }
        &'chains;help;completions'= {
        }
        &'chains;help;help'= {
        }
    ]
    $completions[$command]
}
