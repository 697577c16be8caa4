#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs a libFuzzer target for a bounded time on a scratch copy of the seed
# corpus (libFuzzer writes new inputs into its corpus directory). Fails on
# any crash, leak, or timeout; the reproducer is kept in the scratch dir.
#   run-fuzz.sh FUZZER CORPUS_DIR SECONDS
set -euo pipefail
fuzzer=$(realpath "$1") corpus=$(realpath "$2") seconds=${3:-60}
work=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-fuzz-XXXXXX")
mkdir "$work/corpus"
cp "$corpus"/* "$work/corpus/"
cd "$work"
set +e
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$work/corpus" >"$work/fuzz.log" 2>&1
status=$?
set -e
grep -E 'INITED|DONE|ERROR|SUMMARY|stat::number_of_executed_units|Done|==[0-9]+==' "$work/fuzz.log" | head -60 || true
if [ "$status" -ne 0 ]; then
  echo "fuzzer failed (status $status); reproducers in $work:" >&2
  ls "$work" | grep -E '^(crash|leak|timeout|oom)-' >&2 || true
  exit 1
fi
rm -rf "$work"
