#!/usr/bin/env bash
# Fuzzes each parser for a bounded time with cargo fuzz (libFuzzer): the predict request readers,
# upload decoding with validation, the spec parser (targets in fuzz/, harnesses in
# mlops_shared::fuzzing). The committed seeds (fuzz/corpus/<target>/, replayed by the test command)
# start each run; what the fuzzer finds grows a working corpus kept between runs in
# fuzz/target/corpus/<target>/, not committed. A crash stops the script with the input that caused
# it (fuzz/artifacts/<target>/): fix the cause, then commit that input under fuzz/corpus/<target>/
# with a name that says what it is, so the test command replays it from then on. Installs
# cargo-fuzz if needed. Runs on the stable toolchain, without a sanitizer (Rust code is
# memory-safe; what is sought is panics, aborts, stack overflows and runaway memory).
#
# Usage: infra/fuzz.sh [seconds per target, default 60] [targets…]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(predict_request ingest_upload spec_text)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

cd fuzz
for target in "${TARGETS[@]}"; do
  echo "== fuzzing $target for ${SECONDS_EACH}s"
  mkdir -p "target/corpus/$target"
  # libFuzzer writes new inputs to the first folder only.
  cargo fuzz run --sanitizer none -O "$target" "target/corpus/$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -max_len=65536 -timeout=10 -print_final_stats=1 \
    2>&1 | grep -E '^(#[0-9]+ *DONE|stat::number_of_executed_units|stat::peak_rss_mb|==|SUMMARY|.*panicked|INFO: Running)' || true
  # libFuzzer's exit status is lost in the pipe: a crash leaves its input behind.
  if compgen -G "artifacts/$target/*" > /dev/null; then
    echo "$target crashed on: $(ls artifacts/"$target"/)"
    exit 1
  fi
done
echo "== no crash"
