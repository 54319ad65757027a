#!/usr/bin/env bash
# Fuzz each target for SECONDS (default 25) after replaying its seeds:
#   fuzz/run.sh [SECONDS] [TARGET...]
# Builds the targets with cargo-afl (stable Rust), seeds them (seed.sh),
# and fails when a target crashes or hangs on a seed or finds a crash.
# Findings stay in fuzz/work/out/TARGET/default/{crashes,hangs}.
set -euo pipefail
fuzz="$(cd "$(dirname "$0")" && pwd)"
cd "$fuzz"
seconds="${1:-25}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls src/bin | sed 's/\.rs$//')
fi
cargo afl build --release --locked
./seed.sh
# A shared, loaded machine: no CPU binding, no frequency check, no core
# dump handler needed, and no UI.
export AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_UI=1 AFL_QUIET=1 AFL_FAST_CAL=1 AFL_SKIP_CRASHES=0
failed=0
for t in "${targets[@]}"; do
  out="work/out/$t"
  rm -rf "$out"
  mkdir -p "$out"
  # -t 10000+: a seed slower than 10 s on a loaded machine is skipped, not
  # fatal; inputs that time out during fuzzing are kept as hangs.
  if ! cargo afl fuzz -i "work/seeds/$t" -o "$out" -V "$seconds" -t 10000+ -m none \
      "target/release/$t" > "$out/afl.log" 2>&1; then
    echo "fuzz $t: afl-fuzz failed (a seed crashes?); see fuzz/$out/afl.log" >&2
    tail -20 "$out/afl.log" >&2
    failed=1
    continue
  fi
  crashes=$(find "$out/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
  execs=$(awk -F: '/^execs_done/ {gsub(/ /, "", $2); print $2}' "$out/default/fuzzer_stats")
  echo "fuzz $t: $execs execs in ${seconds}s, $crashes crashes"
  if [ "$crashes" -gt 0 ]; then
    ls "$out/default/crashes" >&2
    failed=1
  fi
done
exit "$failed"
