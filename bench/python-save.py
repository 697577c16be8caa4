#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Python saves and loads through the Ckpt override, next to numpy.save.

    bench/python-save.py --dir DIR [--mib 256] [--reps 5] [--rep N]

Prints raw samples in the format of bench/peers.py, one a line:

    <rep> TAB <size> TAB <tool> TAB <op> TAB <seconds> TAB <bytes>

for a state {'w': <float32 array of MIB MiB>} (tool "ckpt-python") and the
same array alone (tool "ckpt-python-array"), saved durably (op
"save_durable") and loaded (op "load": load + touch every 64th byte; "load
writable": load + .copy()), and numpy.save + fsync of the array (tool
"numpy", as bench/peers.py does it). Peak RSS above the state is printed on
standard error. Run by bench/run.sh; needs /usr/bin/python3 with numpy and
the override on PYTHONPATH (run.sh sets it).
"""
import argparse
import os
import resource
import sys
import time

import gi
import numpy as np

gi.require_version('Ckpt', '1.0')
from gi.repository import Ckpt  # noqa: E402


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def numpy_save(arr, path):
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        np.save(f, arr)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(path))


def touch(arr):
    flat = arr.reshape(-1).view(np.uint8)
    return int(flat[::64].sum())


def rss_mib():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--mib', type=int, default=256)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--rep', type=int, default=0)
    args = ap.parse_args()

    n = args.mib << 18  # float32 elements
    arr = (np.arange(n, dtype=np.float32) % 1000.0) / 7.0
    size = '%dm-f32' % args.mib
    root = os.path.join(args.dir, 'py-ckpt')
    mgr = Ckpt.Manager(root=root, keep_total=0, durable=True)
    npath = os.path.join(args.dir, 'py-numpy.npy')
    base_rss = rss_mib()
    peak = {}

    def out(tool, op, seconds):
        print('%d\t%s\t%s\t%s\t%.6f\t%d' % (args.rep, size, tool, op, seconds, arr.nbytes),
              flush=True)

    r = 0
    for i in range(args.reps):
        order = ['numpy', 'ckpt-python', 'ckpt-python-array']
        if i % 2:
            order.reverse()
        for tool in order:
            if tool == 'numpy':
                t0 = time.perf_counter()
                numpy_save(arr, npath)
                out(tool, 'save_durable', time.perf_counter() - t0)
                t0 = time.perf_counter()
                back = np.load(npath)
                touch(back)
                out(tool, 'load', time.perf_counter() - t0)
                del back
                os.unlink(npath)
                continue
            r += 1
            value = {'w': arr} if tool == 'ckpt-python' else arr
            rss0 = rss_mib()
            t0 = time.perf_counter()
            mgr.save(value, r)
            out(tool, 'save_durable', time.perf_counter() - t0)
            peak[tool] = max(peak.get(tool, 0), rss_mib() - rss0)
            t0 = time.perf_counter()
            back = mgr.load(r)
            a = back['w'] if tool == 'ckpt-python' else back
            touch(a)
            out(tool, 'load', time.perf_counter() - t0)
            del a, back
            t0 = time.perf_counter()
            back = mgr.load(r)
            a = (back['w'] if tool == 'ckpt-python' else back).copy()
            out(tool, 'load writable', time.perf_counter() - t0)
            del a, back
            mgr.delete(r, None)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print('# peak RSS %.0f MiB (state %.0f MiB, before the runs %.0f MiB); RSS growth over a '
          'save: %s' % (maxrss, arr.nbytes / 2**20, base_rss,
                        ', '.join('%s %.0f MiB' % kv for kv in peak.items())), file=sys.stderr)


if __name__ == '__main__':
    main()
