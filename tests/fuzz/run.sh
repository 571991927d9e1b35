#!/usr/bin/env bash
# Runs each fuzz target for a bounded time (default 600 s each; FUZZ_SECONDS to change), from
# the seeds in tests/fuzz/seeds, and stops at the first crash (libFuzzer writes the input that
# crashed under tests/fuzz/artifacts/TARGET/). Needs cargo-fuzz (`cargo install cargo-fuzz`);
# on a stable toolchain the sanitizer flags are allowed with RUSTC_BOOTSTRAP=1.
#   tests/fuzz/run.sh                      # every target, 600 s each
#   FUZZ_SECONDS=60 tests/fuzz/run.sh import_csv
set -euo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-600}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode_validate import_ndjson import_csv)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "== fuzzing $t for $seconds s"
  cargo fuzz run --fuzz-dir . "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1
done
