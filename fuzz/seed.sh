#!/usr/bin/env bash
# Lay out each target's starting corpus in fuzz/work/seeds/TARGET from the
# repository's test data, the hand-written seeds in fuzz/seeds/TARGET, and,
# when it is there, ../shared (the conformance corpus and Sigstore's test
# vectors), read where it lies at run time: nothing from it is committed.
# Files over 64 KiB are left out (AFL mutates small inputs best).
set -euo pipefail
fuzz="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$fuzz")"
shared="$(dirname "$repo")/shared"
out="$fuzz/work/seeds"
rm -rf "$out"

# add TARGET FILE...: copy each file (at most 64 KiB) into TARGET's seeds.
add() {
  local target="$1"; shift
  mkdir -p "$out/$target"
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -le 65536 ] || continue
    cp "$f" "$out/$target/$(echo "${f#"$repo"/}" | tr '/' '_')"
  done
}
# find_in DIR ARGS...: files under DIR matching find ARGS, sorted, if DIR exists.
find_in() {
  local dir="$1"; shift
  [ -d "$dir" ] || return 0
  find "$dir" -type f "$@" | LC_ALL=C sort
}

mapfile -t runs_yaml < <(find_in "$repo/testdata" \( -name '*.yaml' -o -name '*.yml' \))
mapfile -t -O "${#runs_yaml[@]}" runs_yaml < <(find_in "$shared/conformance/fixtures" \( -name '*.yaml' -o -name '*.yml' \))
mapfile -t runs_json < <(find_in "$shared/conformance/fixtures" -name '*.json')
mapfile -t keys < <(find_in "$repo/testdata" \( -name '*.pem' -o -name '*.pub' -o -name '*.key' \))
mapfile -t -O "${#keys[@]}" keys < <(find_in "$shared/conformance/keys" -type f)
shared_yaml=(); shared_json=(); vectors=()
if [ -d "$shared" ]; then
  # A sample of the corpus: every 10th file keeps the seed set small.
  mapfile -t shared_yaml < <(find_in "$shared/corpus" -name '*.yaml' | awk 'NR % 10 == 1')
  mapfile -t shared_json < <(find_in "$shared/corpus" -name '*.json' | awk 'NR % 10 == 1')
  mapfile -t vectors < <(find_in "$shared/sigstore-vectors")
else
  echo "seed.sh: $shared is absent; seeding from the repository only" >&2
fi

add run_documents "${runs_yaml[@]}" "${runs_json[@]}" "${shared_yaml[@]}" "${shared_json[@]}"
add yaml_differential "${runs_yaml[@]}" "${shared_yaml[@]}"
add v1beta1 "${runs_json[@]}" "${shared_json[@]}"
add config "${runs_yaml[@]:0:3}"
add keys "${keys[@]}"
add certificate $(printf '%s\n' "${keys[@]}" "${vectors[@]}" | grep -E '\.(pem|crt|der)$' || true)
add bundle $(printf '%s\n' "${vectors[@]}" | grep -E '\.sigstore(\.json)?$' || true)
add verify_documents $(printf '%s\n' "${vectors[@]}" | grep -E '\.(json|sigstore)$' || true)
add rekor $(printf '%s\n' "${vectors[@]}" | grep -E 'rekor.*\.(pem|pub)$' || true)
add oci $(printf '%s\n' "${vectors[@]}" | grep -E '(index\.json|oci-layout)$' || true)
add watch_event
# A watch event around each JSON run, as the API server sends it.
i=0
for f in "${runs_json[@]:0:20}" "${shared_json[@]:0:20}"; do
  [ -f "$f" ] || continue
  python3 - "$f" > "$out/watch_event/wrapped-$i.jsonl" <<'PY' || rm -f "$out/watch_event/wrapped-$i.jsonl"
import json, sys
obj = json.load(open(sys.argv[1]))
for kind in ("ADDED", "MODIFIED"):
    print(json.dumps({"type": kind, "object": obj}, separators=(",", ":")))
PY
  i=$((i + 1))
done
for dir in "$fuzz"/seeds/*/; do
  target="$(basename "$dir")"
  mkdir -p "$out/$target"
  cp "$dir"* "$out/$target/"
done
for dir in "$out"/*/; do
  printf '%-18s %4d seeds\n' "$(basename "$dir")" "$(find "$dir" -type f | wc -l)"
done
