#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The demo's promise: interrupt fedavg and run it again, it resumes from the
# latest checkpoint, leaves nothing but checkpoints behind, and computes the
# same numbers as a run that was never interrupted.
#
# Usage: test-fedavg.sh PATH-TO-FEDAVG
set -euo pipefail

fedavg=${1:?usage: $0 PATH-TO-FEDAVG}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail () { echo "FAIL: $*" >&2; exit 1; }

listing () { (cd "$1" && LC_ALL=C ls -A | sort -V | tr '\n' ' ' | sed 's/ $//'); }

expect_listing () {
  local got
  got=$(listing "$1")
  [ "$got" = "$2" ] || fail "$1 holds '$got', expected '$2'"
  echo "ok: $1 holds: $got"
}

# 1. Three rounds from scratch: round 0 (the default state) and 1..3.
"$fedavg" --dir "$tmp/a" --rounds 3 --keep 0 -v > "$tmp/run1.out"
cat "$tmp/run1.out"
grep -q '^Starting fresh' "$tmp/run1.out" || fail "first run did not start fresh"
grep -q '\[saved\]  round 3 ' "$tmp/run1.out" || fail "no 'saved' signal reported for round 3"
expect_listing "$tmp/a" "ckpt_0 ckpt_1 ckpt_2 ckpt_3"

# 2. Resume up to round 5, keeping 3 checkpoints (the first among them).
"$fedavg" --dir "$tmp/a" --rounds 5 --keep 3 -v > "$tmp/run2.out"
cat "$tmp/run2.out"
grep -q '^Resumed from round 3 ' "$tmp/run2.out" || fail "second run did not resume from round 3"
grep -q '^round   4 ' "$tmp/run2.out" || fail "second run did not train round 4"
grep -q '^round   3 ' "$tmp/run2.out" && fail "second run trained round 3 again"
grep -q '\[pruned\] round 1 ' "$tmp/run2.out" || fail "no 'pruned' signal reported for round 1"
expect_listing "$tmp/a" "ckpt_0 ckpt_4 ckpt_5"

# 3. Nothing to do when the target round is reached.
"$fedavg" --dir "$tmp/a" --rounds 5 > "$tmp/run3.out"
grep -q '^Resumed from round 5 ' "$tmp/run3.out" || fail "third run did not resume from round 5"
grep -q '^Nothing to do' "$tmp/run3.out" || fail "third run did not say there was nothing to do"
expect_listing "$tmp/a" "ckpt_0 ckpt_4 ckpt_5"

# 4. Uninterrupted and resumed runs compute the same numbers.
"$fedavg" --dir "$tmp/b" --rounds 5 --keep 3 > "$tmp/straight.out"
a=$(grep '^Model after round 5' "$tmp/run2.out")
b=$(grep '^Model after round 5' "$tmp/straight.out")
[ -n "$a" ] && [ "$a" = "$b" ] || fail "resumed run ended with '$a', straight run with '$b'"
l4a=$(grep '^round   4 ' "$tmp/run2.out" | awk '{print $4}')
l4b=$(grep '^round   4 ' "$tmp/straight.out" | awk '{print $4}')
[ "$l4a" = "$l4b" ] || fail "loss after round 4: resumed $l4a, straight $l4b"
echo "ok: resumed and straight runs agree: $b"

# 5. Killed hard in the middle: the next run resumes from the newest
#    checkpoint, and once it has saved (which clears whatever temp file the
#    killed writer may have left on file systems without O_TMPFILE), the
#    directory holds nothing but checkpoints.
"$fedavg" --dir "$tmp/c" --rounds 100000 --keep 0 --delay-ms 5 > "$tmp/killed.out" &
pid=$!
for _ in $(seq 200); do
  [ "$(ls "$tmp/c" 2>/dev/null | wc -l)" -ge 4 ] && break
  sleep 0.05
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
latest=$(cd "$tmp/c" && ls | sed -n 's/^ckpt_\([0-9]*\)$/\1/p' | sort -n | tail -n 1)
[ -n "$latest" ] || fail "no checkpoint after kill -9"
"$fedavg" --dir "$tmp/c" --rounds $((latest + 2)) --keep 0 > "$tmp/resumed.out"
cat "$tmp/resumed.out"
grep -q "^Resumed from round $latest " "$tmp/resumed.out" \
  || fail "after kill -9 at round $latest, the next run did not resume from it"
for f in "$tmp/c"/* "$tmp/c"/.[!.]*; do
  [ -e "$f" ] || continue
  [[ $(basename "$f") =~ ^ckpt_(0|[1-9][0-9]*)$ ]] || fail "stray file after kill -9 and resume: $f"
done
echo "ok: killed at round $latest, resumed from it, nothing but checkpoints left"

echo "PASS"
