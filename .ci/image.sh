#!/usr/bin/env bash
# CI: build the chains image (Containerfile) with buildah, push it to a
# docker-registry started here on 127.0.0.1, pull it back by digest with
# skopeo, unpack it with umoci and run it from there as its non-root user
# (`chains --version` and one `chains attest`), then render
# deploy/controller.yaml with the pushed image's digest.
#
# usage: .ci/image.sh BINARY   (root; needs buildah, skopeo, umoci, docker-registry)
# Everything lives under one temporary directory, removed on exit: buildah's
# own storage (vfs driver, chroot isolation: no daemon, no overlay mounts).
set -euo pipefail
binary=${1:?usage: .ci/image.sh BINARY}
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/chains-image.XXXXXX)
registry_pid=
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null || true
  buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs rmi -a -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The test registry, as the tests start it.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<YAML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$port, secret: ci}
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null || { cat "$work/registry.log"; exit 1; }

deploy/image/context.sh "$binary" "$work/context"
bah() { buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs "$@"; }
bah build --isolation chroot --timestamp 0 -f Containerfile -t localhost/chains:ci "$work/context"
ref="127.0.0.1:$port/chains"
bah push --tls-verify=false --digestfile "$work/digest" localhost/chains:ci "docker://$ref:ci"
digest=$(cat "$work/digest")
echo "pushed $ref@$digest"

# Sign it with chains itself, as README says: a TaskRun record of the
# build (its IMAGE_URL and IMAGE_DIGEST results), attested with --storage
# oci, then verified from the registry.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat >"$work/build-run.yaml" <<YAML
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: build-chains-image, namespace: ci, uid: 00000000-0000-4000-8000-000000000001}
spec: {taskRef: {name: buildah}}
status:
  conditions: [{type: Succeeded, status: "True", reason: Succeeded}]
  startTime: "$now"
  completionTime: "$now"
  results:
  - {name: IMAGE_URL, value: "$ref:ci"}
  - {name: IMAGE_DIGEST, value: "$digest"}
YAML
"$binary" attest --key testdata/keys/p256-sec1.pem --storage oci "$work/build-run.yaml" >/dev/null
"$binary" verify --key testdata/keys/p256-sec1.pem --image "$ref@$digest"

# Pull it back by digest and run it as the image says: user 65532, no shell.
skopeo copy --quiet --src-tls-verify=false "docker://$ref@$digest" "oci:$work/layout:ci"
umoci unpack --image "$work/layout:ci" "$work/bundle" >/dev/null
rootfs="$work/bundle/rootfs"
user=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["process"]["user"]["uid"])' "$work/bundle/config.json")
[ "$user" = 65532 ] || { echo "the image runs as uid $user, not 65532" >&2; exit 1; }
[ ! -e "$rootfs/bin/sh" ] && [ ! -e "$rootfs/usr/bin/sh" ] || { echo "the image has a shell" >&2; exit 1; }
chroot --userspec=65532:65532 "$rootfs" /usr/bin/chains --version
cp testdata/runs/taskrun-build.yaml "$rootfs/tmp/run.yaml"
chroot --userspec=65532:65532 "$rootfs" /usr/bin/chains attest --unsigned /tmp/run.yaml >"$work/statement.json"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["predicateType"].startswith("https://slsa.dev/provenance/"), s' "$work/statement.json"
echo "the image attested taskrun-build.yaml"

# deploy/controller.yaml names the image by digest: fill in this one.
grep -q 'image: REGISTRY/chains@sha256:DIGEST' deploy/controller.yaml
sed "s|REGISTRY/chains@sha256:DIGEST|$ref@$digest|" deploy/controller.yaml >"$work/controller.yaml"
grep -Eq "image: $ref@sha256:[0-9a-f]{64}$" "$work/controller.yaml"
echo "deploy/controller.yaml names $ref@$digest"
