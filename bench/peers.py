#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The peers a Python/ML user would otherwise pick, on the data of ckpt-bench.

Run by bench/run.sh (see docs/performance.md), alternating with
bench/ckpt-bench; prints raw samples in the same format, one a line:

    <rep> TAB <size> TAB <tool> TAB <op> TAB <seconds> TAB <bytes>

Tools: torch.save/torch.load, numpy.save/numpy.load (and numpy.load with
mmap_mode='r', tool "numpy-mmap"), pickle protocol 5, h5py. For the tree
states, numpy saves with numpy.savez (one entry per leaf, keys like
"layers/l0/w"), which has no mmap mode.

Every save is as durable as ckpt-glib's (op "save_durable"): write a temp file
in the same directory, flush, os.fsync, os.replace, fsync the directory (h5py
writes by path: the closed file is fsync'ed through a new descriptor).

Every load (op "load") is "load + touch every byte", defined as in
ckpt-bench.c: for an array, read one byte of every 64-byte cache line; for a
tree, walk it and read every value. Freeing the result is not timed.
"""
import argparse
import mmap
import os
import pickle
import sys
import time

import h5py
import numpy as np
import torch

NESTED_LAYERS = 3
NESTED_W = 28
NESTED_B = 4
NAMED_GROUPS = 100
NAMED_EACH = 100

ARRAY_SIZES = {"1m": 1 << 17, "64m": 64 << 17, "512m": 512 << 17}
ALL_SIZES = ["nested-1k", "named-10k", "1m", "64m", "512m"]


def values(n):
    """value_at (k) of ckpt-bench.c for k in [0, n): the same doubles."""
    k = np.arange(n, dtype=np.uint64)
    return ((k * np.uint64(2654435761)) % np.uint64(1000003)).astype(np.float64) / 7.0 - 50000.0


def make_state(size):
    """The program's state: a numpy array, or a tree of dicts."""
    if size in ARRAY_SIZES:
        return values(ARRAY_SIZES[size])
    if size == "nested-1k":
        d = values(NESTED_LAYERS * 100)
        layers = {}
        for i in range(NESTED_LAYERS):
            layers["l%d" % i] = {"w": d[i * 100:i * 100 + NESTED_W].copy(),
                                 "b": d[i * 100 + 50:i * 100 + 50 + NESTED_B].copy()}
        return {"meta": {"epoch": 7, "name": "ckpt-bench", "lr": 0.001},
                "layers": layers}
    if size == "named-10k":
        d = values(NAMED_GROUPS * NAMED_EACH).tolist()
        return {"layer_%03d" % i: {"w_%03d" % j: d[i * NAMED_EACH + j]
                                   for j in range(NAMED_EACH)}
                for i in range(NAMED_GROUPS)}
    raise SystemExit("unknown size %r" % size)


def touch_array(a):
    """One byte of every 64-byte cache line."""
    a = np.asarray(a)
    return int(a.reshape(-1).view(np.uint8)[::64].sum(dtype=np.uint64))


def walk(v):
    """Every value of a tree, as walk () in ckpt-bench.c."""
    if isinstance(v, dict):
        return sum(len(k) + walk(x) for k, x in v.items())
    if isinstance(v, torch.Tensor):
        v = v.numpy()
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "USO":
            return len(v.item())
        return float(v.sum())
    if isinstance(v, (str, bytes)):
        return len(v)
    return float(v)


def touch(v):
    if isinstance(v, torch.Tensor):
        return touch_array(v.numpy())
    if isinstance(v, np.ndarray):
        return touch_array(v)
    return walk(v)


def to_torch(v):
    if isinstance(v, dict):
        return {k: to_torch(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return torch.from_numpy(v)
    return v


def flatten(v, prefix=""):
    out = {}
    for k, x in v.items():
        if isinstance(x, dict):
            out.update(flatten(x, prefix + k + "/"))
        else:
            out[prefix + k] = np.asarray(x)
    return out


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def durable_write(path, write):
    """temp file, write, flush, fsync, replace, fsync the directory"""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(path))


def h5_write(group, v):
    for k, x in v.items():
        if isinstance(x, dict):
            h5_write(group.create_group(k), x)
        else:
            group.create_dataset(k, data=x)


def h5_read(group):
    out = {}
    for k, x in group.items():
        out[k] = h5_read(x) if isinstance(x, h5py.Group) else x[()]
    return out


class Peers:
    def __init__(self, root, size):
        self.size = size
        self.dir = os.path.join(root, "peers", size)
        os.makedirs(self.dir, exist_ok=True)
        self.state = make_state(size)
        self.torch_state = to_torch(self.state) if isinstance(self.state, dict) \
            else torch.from_numpy(self.state)
        self.is_array = size in ARRAY_SIZES
        self.paths = {t: os.path.join(self.dir, "state." + t)
                      for t in ("torch", "numpy", "pickle", "h5py")}
        if not self.is_array:
            self.paths["numpy"] += ".npz"

    # Saves: each returns seconds.
    def save_torch(self):
        t0 = time.perf_counter()
        durable_write(self.paths["torch"], lambda f: torch.save(self.torch_state, f))
        return time.perf_counter() - t0

    def save_numpy(self):
        t0 = time.perf_counter()
        if self.is_array:
            durable_write(self.paths["numpy"], lambda f: np.save(f, self.state))
        else:
            durable_write(self.paths["numpy"], lambda f: np.savez(f, **flatten(self.state)))
        return time.perf_counter() - t0

    def save_pickle(self):
        t0 = time.perf_counter()
        durable_write(self.paths["pickle"], lambda f: pickle.dump(self.state, f, protocol=5))
        return time.perf_counter() - t0

    def save_h5py(self):
        path = self.paths["h5py"]
        tmp = path + ".tmp"
        t0 = time.perf_counter()
        with h5py.File(tmp, "w") as f:
            if self.is_array:
                f.create_dataset("data", data=self.state)
            else:
                h5_write(f, self.state)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(self.dir)
        return time.perf_counter() - t0

    # Loads + touch: each returns seconds; the result is freed untimed.
    def load_torch(self):
        t0 = time.perf_counter()
        v = torch.load(self.paths["torch"])
        touch(v)
        t1 = time.perf_counter()
        del v
        return t1 - t0

    def load_numpy(self):
        t0 = time.perf_counter()
        if self.is_array:
            v = np.load(self.paths["numpy"])
            touch(v)
        else:
            with np.load(self.paths["numpy"]) as z:
                v = {k: z[k] for k in z.files}
            walk(v)
        t1 = time.perf_counter()
        del v
        return t1 - t0

    def load_numpy_mmap(self):
        t0 = time.perf_counter()
        v = np.load(self.paths["numpy"], mmap_mode="r")
        touch(v)
        t1 = time.perf_counter()
        del v
        return t1 - t0

    def load_pickle(self):
        t0 = time.perf_counter()
        with open(self.paths["pickle"], "rb") as f:
            v = pickle.load(f)
        touch(v)
        t1 = time.perf_counter()
        del v
        return t1 - t0

    def load_h5py(self):
        t0 = time.perf_counter()
        with h5py.File(self.paths["h5py"], "r") as f:
            v = f["data"][()] if self.is_array else h5_read(f)
        touch(v)
        t1 = time.perf_counter()
        del v
        return t1 - t0

    def remove(self, tool):
        """Not timed: delete at once (see ckpt-bench.c: on this VM a write
        into pages freed long ago costs more) and let the disk settle."""
        os.unlink(self.paths[tool])
        fsync_dir(self.dir)

    def prime_memory(self):
        """Not timed, before every load of an array: as prime_memory () in
        ckpt-bench.c, map, touch and unmap anonymous memory of the state's
        size, so that a load gets recently freed pages."""
        if self.is_array:
            m = mmap.mmap(-1, self.state.nbytes)
            v = np.frombuffer(m, np.uint8)
            v[::4096] = 1
            del v
            m.close()

    def prime(self):
        """Not timed: write and delete a file of the state's size."""
        if self.is_array:
            path = os.path.join(self.dir, "prime.bin")
            with open(path, "wb") as f:
                f.write(memoryview(self.state).cast("B"))
            os.unlink(path)
            fsync_dir(self.dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="work directory on the disk to measure")
    parser.add_argument("--rep", type=int, default=1,
                        help="repetition number: labels the samples, alternates the order (0 = warm-up)")
    parser.add_argument("--sizes", default=",".join(ALL_SIZES))
    parser.add_argument("--inner", type=int, default=10,
                        help="samples per repetition for nested-1k and 1m (a third for named-10k; default 10)")
    parser.add_argument("--inner-large", type=int, default=2,
                        help="samples per repetition for 64m and 512m (default 2)")
    args = parser.parse_args()

    sizes = args.sizes.split(",")
    if args.rep % 2 == 1:
        sizes.reverse()
    out = sys.stdout
    for size in sizes:
        p = Peers(args.dir, size)
        nbytes = p.state.nbytes if p.is_array else 0
        # One unit per tool: save, the loads of that file, delete.
        units = [("torch", p.save_torch, [("torch", p.load_torch)]),
                 ("numpy", p.save_numpy, [("numpy", p.load_numpy)]),
                 ("pickle", p.save_pickle, [("pickle", p.load_pickle)]),
                 ("h5py", p.save_h5py, [("h5py", p.load_h5py)])]
        if p.is_array:
            units[1][2].append(("numpy-mmap", p.load_numpy_mmap))
        if p.is_array and ARRAY_SIZES[size] > (1 << 17):
            inner = args.inner_large
        elif size == "named-10k":
            inner = max(1, args.inner // 3)
        else:
            inner = args.inner
        p.prime()
        for sample in range(inner):
            reverse = (args.rep + sample) % 2 == 1
            for tool, save, loads in (reversed(units) if reverse else units):
                out.write("%d\t%s\t%s\t%s\t%.9f\t%d\n" % (args.rep, size, tool, "save_durable", save(), nbytes))
                for name, load in (reversed(loads) if reverse else loads):
                    p.prime_memory()
                    out.write("%d\t%s\t%s\t%s\t%.9f\t%d\n" % (args.rep, size, name, "load", load(), nbytes))
                p.remove(tool)
        out.flush()
        del p


if __name__ == "__main__":
    main()
