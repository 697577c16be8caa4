#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The shipped library has no test hooks (issue 15): fault injection
# (ckpt-fault.c, CKPT_INJECT) and the sealing threshold override live only
# in the static core that the tests link. Usage: test-no-test-hooks.sh NM LIB
set -eu
nm_prog=$1
lib=$2

symbols=$("$nm_prog" "$lib") || { echo "cannot read the symbols of $lib"; exit 1; }
found=$(printf '%s\n' "$symbols" | grep -E 'ckpt_fault|fault_(armed|points|nth|seen|errno|fired|lock)|parallel_min' || true)
if [ -n "$found" ]; then
  echo "test hooks in $lib:"
  printf '%s\n' "$found"
  exit 1
fi
# The back ends are there (the check reads the right symbols).
printf '%s\n' "$symbols" | grep -q 'ckpt_storage_new' || { echo "no ckpt_storage_new in $lib"; exit 1; }
echo "no test hooks in $lib"
