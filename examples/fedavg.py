#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""fedavg.py: the resumable federated-averaging demo of fedavg.c, in Python.

Four simulated clients hold synthetic data of the linear model y = w.x + b;
every round each runs a few minibatch SGD steps from the global weights and
the server averages their updates (with server momentum). The whole state is
one plain Python dict, saved after every round. Interrupt it and run it
again: it resumes from the latest checkpoint.

The dict maps to the GVariant layout of fedavg.c (a{sv} with "round" x,
"weights" ad, "bias" d, "optimizer" a{sv}, "loss_history" ad), and the random
numbers are GLib's (GRand, whose seeding is reimplemented below on top of
Python's own Mersenne Twister, since GRand is not introspectable), so the C,
Python, JavaScript and Vala demos compute the same numbers and resume each
other's checkpoints.

From the build tree (the override, gi/overrides/Ckpt.py, is found through
PYTHONPATH):
  PYTHONPATH=$PWD/ckpt-glib/python meson devenv -C _build \\
    python3 "$PWD/examples/fedavg.py" --rounds 3
or
  GI_TYPELIB_PATH=_build/ckpt-glib LD_LIBRARY_PATH=_build/ckpt-glib \\
    PYTHONPATH=ckpt-glib/python python3 examples/fedavg.py --rounds 3
"""

import argparse
import os
import random
import sys
import time

import gi

gi.require_version('Ckpt', '1.0')
from gi.repository import Ckpt, GLib  # noqa: E402

DIM, N_CLIENTS, N_SAMPLES, LOCAL_STEPS, BATCH_SIZE = 3, 4, 64, 5, 16
DATA_SEED = 20240601
TRUE_W, TRUE_B = [2.0, -3.0, 0.5], 1.0


class GRand(random.Random):
    """GLib's GRand: MT19937 (as Python's), with GLib's seeding and draws."""

    def __init__(self, *seeds):
        mt = [0] * 624

        def init(s):
            mt[0] = s
            for i in range(1, 624):
                mt[i] = (1812433253 * (mt[i - 1] ^ (mt[i - 1] >> 30)) + i) & 0xffffffff

        if len(seeds) == 1:
            init(seeds[0])
        else:  # init_by_array
            init(19650218)
            i, j = 1, 0
            for _ in range(max(624, len(seeds))):
                mt[i] = ((mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525))
                         + seeds[j] + j) & 0xffffffff
                i, j = i + 1, (j + 1) % len(seeds)
                if i >= 624:
                    mt[0], i = mt[623], 1
            for _ in range(623):
                mt[i] = ((mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941)) - i) & 0xffffffff
                i += 1
                if i >= 624:
                    mt[0], i = mt[623], 1
            mt[0] = 0x80000000
        super().__init__()
        self.setstate((3, tuple(mt) + (624,), None))

    def double(self):  # g_rand_double()
        r = (self.getrandbits(32) * 2.0**-32 + self.getrandbits(32)) * 2.0**-32
        return r if r < 1.0 else self.double()

    def int_range(self, begin, end):  # g_rand_int_range(), end - begin <= 2**31
        dist = end - begin
        leftover = (0x80000000 % dist) * 2
        if leftover >= dist:
            leftover -= dist
        while True:
            r = self.getrandbits(32)
            if r <= 0xffffffff - leftover:
                return begin + r % dist

    def normal(self):  # Irwin-Hall, as fedavg.c
        total = 0.0
        for _ in range(12):
            total += self.double()
        return total - 6.0


def make_data():
    """Non-IID data: client c's inputs are centred on c - 1.5."""
    rand = GRand(DATA_SEED)
    clients = []
    for c in range(N_CLIENTS):
        xs, ys = [], []
        for _ in range(N_SAMPLES):
            x, y = [], TRUE_B
            for d in range(DIM):
                x.append((c - 1.5) + rand.normal())
                y += TRUE_W[d] * x[d]
            xs.append(x)
            ys.append(y + 0.1 * rand.normal())
        clients.append((xs, ys))
    return clients


def predict(w, b, x):
    y = b
    for d in range(DIM):
        y += w[d] * x[d]
    return y


def global_loss(state, clients):
    total = 0.0
    for xs, ys in clients:
        for x, y in zip(xs, ys):
            err = predict(state['weights'], state['bias'], x) - y
            total += 0.5 * err * err
    return total / (N_CLIENTS * N_SAMPLES)


def client_update(state, data, client):
    """Local SGD from the global weights; minibatches from a generator seeded
    by (round, client), so nothing about them needs checkpointing."""
    rand = GRand(DATA_SEED, state['round'], client)
    xs, ys = data
    lr = state['optimizer']['lr']
    w, b = list(state['weights']), state['bias']
    for _ in range(LOCAL_STEPS):
        grad_w, grad_b = [0.0] * DIM, 0.0
        for _ in range(BATCH_SIZE):
            i = rand.int_range(0, N_SAMPLES)
            err = predict(w, b, xs[i]) - ys[i]
            for d in range(DIM):
                grad_w[d] += err * xs[i][d]
            grad_b += err
        for d in range(DIM):
            w[d] -= lr * grad_w[d] / BATCH_SIZE
        b -= lr * grad_b / BATCH_SIZE
    return w + [b]


def fedavg_round(state, clients):
    """One round of federated averaging with server momentum (FedAvgM)."""
    state['round'] += 1
    avg = [0.0] * (DIM + 1)
    for c, data in enumerate(clients):
        for d, v in enumerate(client_update(state, data, c)):
            avg[d] += v / N_CLIENTS
    opt = state['optimizer']
    for d in range(DIM + 1):
        current = state['weights'][d] if d < DIM else state['bias']
        opt['momentum'][d] = opt['beta'] * opt['momentum'][d] + (avg[d] - current)
    for d in range(DIM):
        state['weights'][d] += opt['momentum'][d]
    state['bias'] += opt['momentum'][DIM]
    state['loss_history'].append(global_loss(state, clients))


def main():
    parser = argparse.ArgumentParser(
        description='Trains a linear model by federated averaging over 4 simulated clients, '
                    'saving a checkpoint after every round. Interrupt it at any time and run '
                    'it again: it resumes from the latest checkpoint.')
    parser.add_argument('-d', '--dir', default='./fedavg-checkpoints',
                        help='checkpoint directory (default %(default)s)')
    parser.add_argument('-n', '--rounds', type=int, default=20,
                        help='train until this round (default %(default)s)')
    parser.add_argument('-k', '--keep', type=int, default=Ckpt.MANAGER_DEFAULT_KEEP_TOTAL,
                        help='checkpoints to keep, the first one counting among them; '
                             '0 keeps all (default %(default)s)')
    parser.add_argument('--delay-ms', type=int, default=0,
                        help='sleep this long after each round, to leave time for Ctrl-C')
    parser.add_argument('-v', '--verbose', action='store_true',
                        help='report every saved and pruned checkpoint')
    args = parser.parse_args()
    if args.rounds < 0 or args.delay_ms < 0:
        parser.error('--rounds and --delay-ms must not be negative')

    manager = Ckpt.Manager(root=args.dir, keep_total=args.keep, keep_first=True)
    n_saved = 0

    def on_saved(manager, round_num, file):
        nonlocal n_saved
        n_saved += 1
        if args.verbose:
            print('  [saved]  round %d -> %s' % (round_num, file.get_parse_name()))

    def on_pruned(manager, round_num, file):
        if args.verbose:
            print('  [pruned] round %d (%s)' % (round_num, file.get_parse_name()))

    manager.connect('saved', on_saved)
    manager.connect('pruned', on_pruned)

    clients = make_data()
    initial = {
        'round': 0,
        'weights': [0.0] * DIM,
        'bias': 0.0,
        'optimizer': {'lr': 0.02, 'beta': 0.5, 'momentum': [0.0] * (DIM + 1)},
        'loss_history': [],
    }
    initial['loss_history'].append(global_loss(initial, clients))

    # With no checkpoint in args.dir, this saves `initial` as round 0. Lists
    # of floats are saved as `ad` and come back as lists (numpy=False also
    # reads a C-written fedavg checkpoint the same way).
    state, resumed = manager.load_latest_or_default(initial, numpy=False)
    if state['round'] != resumed:
        raise SystemExit('fedavg: %s: checkpoint %d holds the state of round %d'
                         % (args.dir, resumed, state['round']))

    if n_saved > 0:
        print('Starting fresh in %s (round 0, loss %.6f)' % (args.dir, state['loss_history'][-1]))
    else:
        print('Resumed from round %d (loss %.6f)' % (state['round'], state['loss_history'][-1]))
    if state['round'] >= args.rounds:
        print('Nothing to do: already at round %d (asked for %d)' % (state['round'], args.rounds))

    while state['round'] < args.rounds:
        fedavg_round(state, clients)
        manager.save(state, state['round'])
        name = os.path.join(args.dir, manager.get_file(state['round']).get_basename())
        print('round %3d  loss %.6f  saved %s' % (state['round'], state['loss_history'][-1], name))
        if args.delay_ms > 0:
            time.sleep(args.delay_ms / 1000)

    print('Model after round %d: w = [%s], b = %.4f (true: [%s], %.1f)'
          % (state['round'], ', '.join('%.4f' % w for w in state['weights']), state['bias'],
             ', '.join('%.1f' % w for w in TRUE_W), TRUE_B))


if __name__ == '__main__':
    try:
        main()
    except GLib.Error as e:
        sys.exit('fedavg: %s' % e.message)
