#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The benchmark of docs/performance.md, in one command:
#
#   bench/run.sh [--dir DIR] [--build BUILDDIR] [--reps N] [--reps-large N]
#                [--inner N] [--inner-large N] [--out DIR] [--docs]
#
# Builds bench/ckpt-bench and bench/async-gap if needed (in BUILDDIR,
# default _build-bench), then, in a fresh directory under DIR (default
# /var/tmp; must be a real disk, not tmpfs):
#   1. repetitions 0..N (0 is a warm-up, dropped): bench/ckpt-bench and
#      bench/peers.py on the same states, alternating which goes first (and,
#      inside each, the order of the sizes and of the rows); 512 MiB only in
#      repetitions 0..--reps-large;
#   2. save latency with 3, 10 and 10,000 checkpoints kept (ckpt-bench --kept);
#   3. bench/async-gap --size-mib 512 --repeat 3;
#   4. bench/plot.py: one table of medians with the targets of issue 6, into
#      OUT/latest.txt (raw samples in OUT/latest.tsv), and OUT/latest.png;
#   5. with --gjs GIRBUILD (a build dir with introspection, e.g. _build):
#      bench/gjs-typed-arrays.js (typed arrays as tensors, docs/javascript.md)
#      into OUT/gjs.tsv, and bench/c-tensor, the same tensor from C, into
#      OUT/c-tensor.txt.
#   6. with --gi-build GIBUILD (a build with introspection, e.g. _build):
#      bench/python-save.py, saves and loads of a 256 MiB float32 array
#      through the Python override next to numpy.save + fsync, into
#      OUT/python-save.tsv and OUT/python-save.txt (medians).
# --docs also copies the plot to docs/performance.png.
# Defaults: --reps 5, --reps-large 3, --inner 10 (samples per repetition for
# the 1 KiB tree and 1 MiB; a third of it for the 10k named doubles),
# --inner-large 2 (for 64 and 512 MiB), --out bench/results. About 4-5
# minutes on 2 cores. Other load on the machine shows in the results: run it
# on an otherwise idle machine (the load average is recorded).
# Needs /usr/bin/python3 with numpy, torch, h5py, matplotlib
# (tools/install-bench-deps). Not part of `meson test`.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=/var/tmp
build=_build-bench
reps=5
reps_large=3
inner=10
inner_large=2
out=bench/results
docs=0
gjs_build=
gi_build=
python=/usr/bin/python3

usage() { sed -n '3,31p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --reps-large) reps_large=$2; shift 2 ;;
    --inner) inner=$2; shift 2 ;;
    --inner-large) inner_large=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --docs) docs=1; shift ;;
    --gjs) gjs_build=$2; shift 2 ;;
    --gi-build) gi_build=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage 2 ;;
  esac
done

log() { echo "run.sh: $*" >&2; }

if ! "$python" -c 'import numpy, torch, h5py, matplotlib' 2>/dev/null; then
  echo "run.sh: $python lacks numpy, torch, h5py or matplotlib; run tools/install-bench-deps" >&2
  exit 1
fi

if [ ! -f "$build/build.ninja" ]; then
  log "setting up $build"
  meson setup "$build" -Dtests=false -Dexamples=false -Dintrospection=disabled -Dvapi=disabled >/dev/null
fi
log "building in $build"
meson compile -C "$build" bench/ckpt-bench bench/async-gap >/dev/null
bench=$build/bench/ckpt-bench
gap=$build/bench/async-gap

mkdir -p "$out"
work=$(mktemp -d "$dir/ckpt-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
fstype=$(stat -f -c %T "$work")
case "$fstype" in
  tmpfs|ramfs) echo "run.sh: $dir is on $fstype; give a directory on a disk with --dir" >&2; exit 1 ;;
esac

raw=$out/latest.tsv
machine=$out/machine.txt
: > "$raw"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- ckpt-glib 2>/dev/null || echo ' (ckpt-glib/ modified)')"
  echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
  echo "disk: $(findmnt -n -o SOURCE,FSTYPE,OPTIONS -T "$work" | awk '{ print $1 ", " $2 " (" $3 ")" }'), work dir $work"
  echo "build: $(meson introspect --buildoptions "$build" 2>/dev/null | "$python" -c 'import json, sys; o = {x["name"]: x["value"] for x in json.load(sys.stdin)}; print(o.get("buildtype", "?"))' || echo '?'); peers: $("$python" -c 'import numpy, torch, h5py; print("numpy", numpy.__version__, "torch", torch.__version__, "h5py", h5py.__version__)' 2>/dev/null)"
  echo "run: bench/run.sh --reps $reps --reps-large $reps_large --inner $inner --inner-large $inner_large"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share the machine)"
} > "$machine"
cat "$machine" >&2
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  log "warning: load average $load: other work on this machine will disturb the timings"
fi

start=$SECONDS
for ((rep = 0; rep <= reps; rep++)); do
  sizes=nested-1k,named-10k,1m,64m
  ((rep <= reps_large)) && sizes=$sizes,512m
  run_c() { "$bench" --dir "$work" --rep "$rep" --sizes "$sizes" --inner "$inner" --inner-large "$inner_large" >> "$raw"; }
  run_py() { "$python" bench/peers.py --dir "$work" --rep "$rep" --sizes "$sizes" --inner "$inner" --inner-large "$inner_large" >> "$raw"; }
  if ((rep % 2 == 0)); then
    log "repetition $rep/$reps: ckpt-bench, then peers ($((SECONDS - start)) s)"
    run_c; run_py
  else
    log "repetition $rep/$reps: peers, then ckpt-bench ($((SECONDS - start)) s)"
    run_py; run_c
  fi
done

log "save latency with 3, 10, 10000 kept ($((SECONDS - start)) s)"
"$bench" --dir "$work" --kept 3,10,10000 --samples $((4 * reps * inner)) --inner "$inner" >> "$raw"
rm -rf "$work/kept"

log "main-loop gap: async-gap --size-mib 512 --repeat 3 ($((SECONDS - start)) s)"
mkdir -p "$work/gap"
"$gap" --dir "$work/gap" --size-mib 512 --repeat 3 > "$out/async-gap.txt"

if [ -n "$gjs_build" ]; then
  log "GJS typed arrays and the C tensor ($((SECONDS - start)) s)"
  meson compile -C "$gjs_build" bench/c-tensor >/dev/null
  GI_TYPELIB_PATH=$gjs_build/ckpt-glib LD_LIBRARY_PATH=$gjs_build/ckpt-glib \
    gjs -m bench/gjs-typed-arrays.js --dir "$work" --reps "$reps" --slow > "$out/gjs.tsv"
  "$gjs_build/bench/c-tensor" --dir "$work" --repeat "$reps" > "$out/c-tensor.txt"
fi

log "done in $((SECONDS - start)) s"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); took $((SECONDS - start)) s" >> "$machine"
"$python" bench/plot.py "$raw" --gap "$out/async-gap.txt" --machine "$machine" \
  --txt "$out/latest.txt" --png "$out/latest.png"
log "wrote $out/latest.txt, $out/latest.tsv, $out/latest.png"
if [ -n "$gi_build" ]; then
  log "Python override: bench/python-save.py ($((SECONDS - start)) s)"
  mkdir -p "$work/py"
  GI_TYPELIB_PATH=$gi_build/ckpt-glib LD_LIBRARY_PATH=$gi_build/ckpt-glib PYTHONPATH=ckpt-glib/python \
    "$python" bench/python-save.py --dir "$work/py" --reps "$((reps + 1))" \
    > "$out/python-save.tsv" 2> "$out/python-save.err"
  "$python" -c '
import collections, statistics, sys
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    rep, size, tool, op, sec, nbytes = line.rstrip("\n").split("\t")
    d[(size, op, tool)].append(float(sec))
for (size, op, tool), v in sorted(d.items()):
    print("%-10s %-14s %-18s median %7.3f s  min %7.3f s  (%d samples)" % (size, op, tool, statistics.median(v), min(v), len(v)))
' "$out/python-save.tsv" > "$out/python-save.txt"
  cat "$out/python-save.err" >> "$out/python-save.txt"
  log "wrote $out/python-save.txt"
fi
if [ "$docs" = 1 ]; then
  cp "$out/latest.png" docs/performance.png
  log "copied the plot to docs/performance.png"
fi
