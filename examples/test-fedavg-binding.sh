#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The demo in another language (GJS, Python, Vala): three rounds, then a run
# to five that resumes from round 3, with the same numbers as a run that was
# never interrupted; then, with the C demo, each resumes the other's
# checkpoints and computes the same numbers. For Python, also checks that
# its dict is saved as exactly the GVariant the C code builds.
#
# Usage: test-fedavg-binding.sh LANGUAGE FEDAVG-C DEMO-COMMAND…
#   e.g. test-fedavg-binding.sh GJS ./fedavg gjs -m fedavg.js
#        test-fedavg-binding.sh Python ./fedavg /usr/bin/python3 fedavg.py
#        test-fedavg-binding.sh Vala ./fedavg ./fedavg-vala
# (GI_TYPELIB_PATH, LD_LIBRARY_PATH and, for Python, PYTHONPATH must lead
# to Ckpt-1.0.typelib, libckpt-glib-1.0.so and the gi/overrides/Ckpt.py
# override; meson test sets them.)
set -euo pipefail

usage="usage: $0 LANGUAGE FEDAVG-C DEMO-COMMAND..."
lang=${1:?$usage}
fedavg_c=${2:?$usage}
shift 2
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
demo_cmd=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

demo () { "${demo_cmd[@]}" "$@"; }

fail () { echo "FAIL: $*" >&2; exit 1; }

listing () { (cd "$1" && LC_ALL=C ls -A | sort -V | tr '\n' ' ' | sed 's/ $//'); }

expect_listing () {
  local got
  got=$(listing "$1")
  [ "$got" = "$2" ] || fail "$1 holds '$got', expected '$2'"
  echo "ok: $1 holds: $got"
}

# 1. Three rounds from scratch: round 0 (the default state) and 1..3.
demo --dir "$tmp/a" --rounds 3 --keep 0 -v > "$tmp/run1.out"
cat "$tmp/run1.out"
grep -q '^Starting fresh' "$tmp/run1.out" || fail "first run did not start fresh"
grep -q '\[saved\]  round 3 ' "$tmp/run1.out" || fail "no 'saved' signal reported for round 3"
expect_listing "$tmp/a" "ckpt_0 ckpt_1 ckpt_2 ckpt_3"

# 2. Resume up to round 5, keeping 3 checkpoints (the first among them).
demo --dir "$tmp/a" --rounds 5 --keep 3 -v > "$tmp/run2.out"
cat "$tmp/run2.out"
grep -q '^Resumed from round 3 ' "$tmp/run2.out" || fail "second run did not resume from round 3"
grep -q '^round   4 ' "$tmp/run2.out" || fail "second run did not train round 4"
grep -q '^round   3 ' "$tmp/run2.out" && fail "second run trained round 3 again"
grep -q '\[pruned\] round 1 ' "$tmp/run2.out" || fail "no 'pruned' signal reported for round 1"
expect_listing "$tmp/a" "ckpt_0 ckpt_4 ckpt_5"

# 3. Nothing to do when the target round is reached.
demo --dir "$tmp/a" --rounds 5 > "$tmp/run3.out"
grep -q '^Resumed from round 5 ' "$tmp/run3.out" || fail "third run did not resume from round 5"
grep -q '^Nothing to do' "$tmp/run3.out" || fail "third run did not say there was nothing to do"

# 4. Uninterrupted and resumed runs compute the same numbers.
demo --dir "$tmp/b" --rounds 5 --keep 3 > "$tmp/straight.out"
a=$(grep '^Model after round 5' "$tmp/run2.out")
b=$(grep '^Model after round 5' "$tmp/straight.out")
[ -n "$a" ] && [ "$a" = "$b" ] || fail "resumed run ended with '$a', straight run with '$b'"
echo "ok: resumed and straight runs agree: $b"

# 5. With the C demo: each resumes the other's checkpoints, same numbers.
"$fedavg_c" --dir "$tmp/c" --rounds 3 > /dev/null
demo --dir "$tmp/c" --rounds 5 > "$tmp/c-then-other.out"
grep -q '^Resumed from round 3 ' "$tmp/c-then-other.out" || fail "$lang did not resume the C checkpoint"
c=$(grep '^Model after round 5' "$tmp/c-then-other.out")
[ "$c" = "$b" ] || fail "C then $lang ended with '$c', $lang alone with '$b'"
demo --dir "$tmp/d" --rounds 3 > /dev/null
"$fedavg_c" --dir "$tmp/d" --rounds 5 > "$tmp/other-then-c.out"
grep -q '^Resumed from round 3 ' "$tmp/other-then-c.out" || fail "C did not resume the $lang checkpoint"
d=$(grep '^Model after round 5' "$tmp/other-then-c.out")
[ "$d" = "$b" ] || fail "$lang then C ended with '$d', $lang alone with '$b'"
echo "ok: C and $lang resume each other's checkpoints and agree"

# 6. Python: the dict is saved as exactly the GVariant the C code builds.
if [ "$lang" = Python ]; then
  "$fedavg_c" --dir "$tmp/e" --rounds 5 > /dev/null
  "${demo_cmd[0]}" - "$tmp/b" "$tmp/e" <<'PY' || fail "the Python and C states of round 5 differ"
import sys
import gi
gi.require_version('Ckpt', '1.0')
from gi.repository import Ckpt
py, c = (Ckpt.Manager(root=d).load(5, raw=True) for d in sys.argv[1:3])
sys.exit(0 if py.get_type_string() == c.get_type_string() == 'a{sv}' and py == c else 1)
PY
  echo "ok: Python saves the same state as C"
fi

echo "PASS"
