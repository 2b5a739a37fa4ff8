#!/bin/sh
# tests/fuzz/run.sh: run one libFuzzer target for ctest (label fuzz).
#   run.sh NAME BINARY WORKDIR SECONDS   fuzz from the seed corpus corpus/NAME, with the
#                                        flags targets.txt gives NAME; new inputs go to
#                                        WORKDIR/corpus, a crashing input to WORKDIR/crashes
#   run.sh --skip REASON                 say why the targets are not built; exit 77 (SKIPPED)
# A finding fails the test: libFuzzer prints the input (base64 too) and the stack.
if [ "$1" = --skip ]; then
    echo "SKIPPED: $2"
    exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
name=$1 bin=$2 work=$3 secs=$4
flags=$(awk -v n="$name" '$1 == n { $1 = ""; print }' "$here/targets.txt")
mkdir -p "$work/corpus" "$work/crashes" || exit 2
cd "$here" || exit 2 # for the flags' relative paths (dictionaries)
# -timeout: one input may take at most 10 s (a hang is a finding); -rss_limit_mb: memory.
# shellcheck disable=SC2086 # the flags are words
exec "$bin" $flags -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/crashes/" "$work/corpus" "$here/corpus/$name"
