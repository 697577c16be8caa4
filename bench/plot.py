#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Summarise a bench/run.sh run: one table of medians, the targets of issue 6
with their ratios, and a PNG of throughput by size.

    bench/plot.py RAW.tsv [--gap ASYNC-GAP.txt] [--machine MACHINE.txt]
                  [--txt OUT.txt] [--png OUT.png]

RAW.tsv holds the samples of bench/ckpt-bench and bench/peers.py
(rep, size, tool, op, seconds, bytes); repetition 0 is the warm-up and is
dropped. Every cell is the median of the other samples.
"""
import argparse
import re
import statistics
import sys
from collections import defaultdict

SIZES = ["nested-1k", "named-10k", "1m", "64m", "512m"]
SIZE_LABELS = {"nested-1k": "1KiB tree", "named-10k": "10k named",
               "1m": "1 MiB ad", "64m": "64 MiB ad", "512m": "512 MiB ad"}
ARRAY_SIZES = ["1m", "64m", "512m"]

SECTIONS = [
    ("Save, durable (temp file, fsync, rename/link, fsync dir)", [
        ("limit", "save_durable", "limit: write+fsync+rename+fsync dir"),
        ("limit-falloc", "save_durable", "limit, fallocate first (as numpy)"),
        ("ckpt", "save_durable", "ckpt-glib save (of a built GVariant)"),
        ("ckpt", "serialise", "  of which GLib: serialise it"),
        ("ckpt", "build", "GLib: build the tree (not in the save)"),
        ("numpy", "save_durable", "numpy.save (savez for trees)"),
        ("torch", "save_durable", "torch.save"),
        ("pickle", "save_durable", "pickle.dump, protocol 5"),
        ("h5py", "save_durable", "h5py"),
    ]),
    ("Save, not durable (no fsync)", [
        ("limit", "save_nodurable", "limit: write+rename"),
        ("ckpt", "save_nodurable", "ckpt-glib save, durable=FALSE"),
    ]),
    ("Load + touch every byte (warm page cache)", [
        ("limit", "load_mmap", "limit: mmap+populate (memory speed)"),
        ("limit", "load_read", "limit: read() into a fresh buffer"),
        ("ckpt", "load", "ckpt-glib load, verified"),
        ("ckpt", "load_latest", "ckpt-glib load_latest, verified"),
        ("ckpt", "load_unverified", "ckpt-glib load, verify=FALSE"),
        ("numpy", "load", "numpy.load (npz for trees)"),
        ("numpy-mmap", "load", "numpy.load, mmap_mode='r'"),
        ("torch", "load", "torch.load"),
        ("pickle", "load", "pickle.load"),
        ("h5py", "load", "h5py read"),
    ]),
    ("Load only, no touch (what the call costs)", [
        ("ckpt", "open_verified", "ckpt-glib load, verified, no touch"),
        ("ckpt", "open_unverified", "ckpt-glib load, verify=FALSE, no touch"),
    ]),
]


def fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return "%.0f us" % (s * 1e6)
    if s < 1.0:
        return "%.3g ms" % (s * 1e3)
    return "%.3g s" % s


def load_raw(path):
    samples = defaultdict(list)
    nbytes = {}
    for line in open(path):
        if not line.strip() or line.startswith("#"):
            continue
        rep, size, tool, op, secs, b = line.rstrip("\n").split("\t")
        if tool == "limit" and int(b) > 0:
            nbytes[size] = int(b)
        if int(rep) == 0:
            continue
        samples[(size, tool, op)].append(float(secs))
    return samples, nbytes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw")
    parser.add_argument("--gap")
    parser.add_argument("--machine")
    parser.add_argument("--txt")
    parser.add_argument("--png")
    args = parser.parse_args()

    samples, nbytes = load_raw(args.raw)
    med = {k: statistics.median(v) for k, v in samples.items()}
    count = {k: len(v) for k, v in samples.items()}

    def m(size, tool, op):
        return med.get((size, tool, op))

    out = []
    if args.machine:
        out += ["# " + line.rstrip("\n") for line in open(args.machine) if line.strip()]
    out.append("# medians over repetitions (warm-up dropped); samples per cell: " +
               ", ".join("%s %d" % (SIZE_LABELS[s], count.get((s, "ckpt", "save_durable"), 0))
                         for s in SIZES))
    out.append("")

    width = 40
    header = "%-*s" % (width, "") + "".join("%12s" % SIZE_LABELS[s] for s in SIZES)
    out.append(header)
    out.append("%-*s" % (width, "state bytes") +
               "".join("%12s" % nbytes.get(s, "-") for s in SIZES))
    for title, rows in SECTIONS:
        out.append(title)
        for tool, op, label in rows:
            cells = [m(s, tool, op) for s in SIZES]
            if all(c is None for c in cells):
                continue
            out.append("  %-*s" % (width - 2, label) + "".join("%12s" % fmt_time(c) for c in cells))

    # Save latency with N kept.
    kept = sorted({int(s.split("-")[1]) for (s, _, _) in med if s.startswith("kept-")})
    if kept:
        out.append("")
        out.append("Durable save of the 1 KiB tree with keep_total=N, N kept already, vs a plain")
        out.append("durable write into a directory of N files that deletes the file of N rounds ago")
        out.append("  %8s %14s %14s %8s %22s" % ("N", "ckpt-glib", "plain", "ratio", "first save (lists dir)"))
        for n in kept:
            c = m("kept-%d" % n, "ckpt", "save_durable")
            p = m("kept-%d" % n, "limit", "save_durable")
            f = m("kept-%d" % n, "ckpt", "first_save")
            out.append("  %8d %14s %14s %8s %22s" % (n, fmt_time(c), fmt_time(p),
                                                     "%.2f" % (c / p) if c and p else "-", fmt_time(f)))

    gap = None
    if args.gap:
        text = open(args.gap).read()
        found = re.search(r"longest main-loop gap over all runs: ([0-9.]+) ms", text)
        if found:
            gap = float(found.group(1))
        out.append("")
        out.append("Main-loop gap during a 512 MiB save_async (bench/async-gap --size-mib 512 --repeat 3):")
        out.append("  longest gap %s ms" % (found.group(1) if found else "?"))

    # Targets.
    targets = []

    def target(name, value, ok, detail):
        targets.append((name, value, "PASS" if ok else "MISS", detail))

    def ratio(a, b):
        return a / b if a is not None and b is not None and b > 0 else None

    big = "512m"
    r = ratio(m(big, "limit", "save_durable"), m(big, "ckpt", "save_durable"))
    r64 = ratio(m("64m", "limit", "save_durable"), m("64m", "ckpt", "save_durable"))
    rf = ratio(m(big, "limit-falloc", "save_durable"), m(big, "ckpt", "save_durable"))
    if r is not None:
        target("durable save 512 MiB, throughput vs limit >= 0.85", "%.2fx" % r, r >= 0.85,
               "64 MiB: %.2fx; vs the fallocate'd limit: %.2fx" % (r64 or 0, rf or 0))
    # A verified load reads every byte once (the checksum), as the limit
    # does; the program reading the data afterwards is a second pass,
    # shown alongside.
    r = ratio(m(big, "limit", "load_mmap"), m(big, "ckpt", "open_verified"))
    r64 = ratio(m("64m", "limit", "load_mmap"), m("64m", "ckpt", "open_verified"))
    rt = ratio(m(big, "limit", "load_mmap"), m(big, "ckpt", "load"))
    rt64 = ratio(m("64m", "limit", "load_mmap"), m("64m", "ckpt", "load"))
    if r is not None:
        target("verified load 512 MiB, throughput vs mmap+read >= 0.5", "%.2fx" % r, r >= 0.5,
               "64 MiB: %.2fx; load + touch: %.2fx, 64 MiB: %.2fx" % (r64 or 0, rt or 0, rt64 or 0))
    t = m(big, "ckpt", "open_unverified")
    if t is not None:
        target("unverified load 512 MiB < 1 ms", fmt_time(t), t < 1e-3,
               "with touch: %s" % fmt_time(m(big, "ckpt", "load_unverified")))
    r = ratio(m("kept-3", "ckpt", "save_durable"), m("kept-3", "limit", "save_durable"))
    if r is not None:
        target("1 KiB durable save, keep_total=3, vs plain+delete <= 1.2x", "%.2fx" % r, r <= 1.2, "")
    # Against the peers, on every state: time of the peer / time of ckpt-glib.
    peer_targets = [
        ("save no slower than numpy.save", "numpy", "save_durable", "save_durable", 1.0, False),
        ("save faster than torch.save", "torch", "save_durable", "save_durable", 1.0, True),
        ("verified load faster than numpy.load", "numpy", "load", "load", 1.0, True),
        ("verified load >= 20x faster than torch.load", "torch", "load", "load", 20.0, False),
    ]
    for name, peer, peer_op, op, need, strict in peer_targets:
        parts, ok_all, main = [], True, None
        for size in SIZES:
            r = ratio(m(size, peer, peer_op), m(size, "ckpt", op))
            if r is None:
                continue
            ok = r > need if strict else r >= need
            ok_all = ok_all and ok
            parts.append("%s %.2f%s" % (SIZE_LABELS[size].split(" ad")[0], r, "" if ok else " MISS"))
            if size == big:
                main = r
        if parts:
            target(name + " (512 MiB; all states)", "%.2fx" % main if main else "-",
                   ok_all, "; ".join(parts))
    c10, p10 = m("kept-10", "ckpt", "save_durable"), m("kept-10", "limit", "save_durable")
    c1e4, p1e4 = m("kept-10000", "ckpt", "save_durable"), m("kept-10000", "limit", "save_durable")
    if None not in (c10, p10, c1e4, p1e4):
        r = (c1e4 / p1e4) / (c10 / p10)
        target("save with 10,000 kept vs 10 kept (each / plain) <= 1.2x", "%.2fx" % r, r <= 1.2,
               "%.2f vs %.2f of plain" % (c1e4 / p1e4, c10 / p10))
    if gap is not None:
        target("main-loop gap during 512 MiB save_async < 10 ms", "%.2f ms" % gap, gap < 10, "")

    out.append("")
    out.append("Targets (issue 6): ratio, PASS/MISS; peers: peer time / ckpt-glib time per state")
    for name, value, verdict, detail in targets:
        out.append("  %-4s %-62s %8s  %s" % (verdict, name, value, detail))

    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if args.txt:
        with open(args.txt, "w") as f:
            f.write(text)

    if args.png:
        plot(med, nbytes, args.png)


def plot(med, nbytes, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Throughput by size of the `ad` arrays; the trees are in the table.
    sizes = [s for s in ARRAY_SIZES if s in nbytes]
    panels = [
        ("Durable save", [
            ("limit", "save_durable", "limit (write+fsync+rename+fsync dir)", "k", "-"),
            ("limit-falloc", "save_durable", "limit, fallocate first", "k", ":"),
            ("ckpt", "save_durable", "ckpt-glib", "C3", "-"),
            ("numpy", "save_durable", "numpy.save", "C0", "--"),
            ("torch", "save_durable", "torch.save", "C1", "--"),
            ("pickle", "save_durable", "pickle 5", "C2", "--"),
            ("h5py", "save_durable", "h5py", "C4", "--"),
        ]),
        ("Load + touch every byte (warm cache)", [
            ("limit", "load_mmap", "limit: mmap+read every byte", "k", "-"),
            ("limit", "load_read", "limit: read() into fresh buffer", "0.5", "-"),
            ("ckpt", "load", "ckpt-glib verified", "C3", "-"),
            ("ckpt", "load_unverified", "ckpt-glib verify=FALSE", "C3", ":"),
            ("numpy", "load", "numpy.load", "C0", "--"),
            ("numpy-mmap", "load", "numpy.load mmap_mode='r'", "C0", ":"),
            ("torch", "load", "torch.load", "C1", "--"),
            ("pickle", "load", "pickle.load", "C2", "--"),
            ("h5py", "load", "h5py", "C4", "--"),
        ]),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for ax, (title, lines) in zip(axes, panels):
        for tool, op, label, color, style in lines:
            xs, ys = [], []
            for s in sizes:
                t = med.get((s, tool, op))
                if t:
                    xs.append(nbytes[s])
                    ys.append(nbytes[s] / t / 1e6)
            if xs:
                ax.plot(xs, ys, style, marker="o", color=color, label=label)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks([nbytes[s] for s in sizes])
        ax.set_xticklabels([SIZE_LABELS[s] for s in sizes], fontsize=8)
        ax.set_xlim(nbytes[sizes[0]] / 2, nbytes[sizes[-1]] * 2)
        ax.set_ylabel("MB/s (state bytes / median time)")
        ax.set_title(title + ", `ad` arrays")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
