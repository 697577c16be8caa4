// SPDX-License-Identifier: LGPL-2.1-or-later
//
// fedavg.js: the resumable federated-averaging demo of fedavg.c, in GJS.
//
// Four simulated clients hold synthetic data of the linear model y = w·x + b;
// every round each runs a few minibatch SGD steps from the global weights and
// the server averages their updates (with server momentum). The whole state is
// one a{sv} GLib.Variant, saved asynchronously after every round. Interrupt
// it and run it again: it resumes from the latest checkpoint.
//
// The state has the layout of fedavg.c, and the random numbers are GLib's
// (GRand's Mersenne Twister, reimplemented below since GRand is not
// introspectable), so the C, JavaScript and Vala demos compute the same
// numbers and can resume each other's checkpoints.
//
// From the build tree:
//   meson devenv -C _build gjs -m "$PWD/examples/fedavg.js" --rounds 3
// or
//   GI_TYPELIB_PATH=_build/ckpt-glib LD_LIBRARY_PATH=_build/ckpt-glib \
//     gjs -m examples/fedavg.js --rounds 3

import Ckpt from 'gi://Ckpt?version=1.0';
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import System from 'system';

Gio._promisify(Ckpt.Manager.prototype, 'save_async', 'save_finish');
Gio._promisify(Ckpt.Manager.prototype, 'load_latest_or_default_async',
    'load_latest_or_default_finish');

const DIM = 3, N_CLIENTS = 4, N_SAMPLES = 64, LOCAL_STEPS = 5, BATCH_SIZE = 16;
const DATA_SEED = 20240601;
const TRUE_W = [2.0, -3.0, 0.5], TRUE_B = 1.0;

// GLib's GRand (MT19937, seeding and g_rand_double/int_range of GLib >= 2.2).
class Rand {
    constructor(seeds) {
        const mt = this.mt = new Uint32Array(624);
        const seed = s => {
            mt[0] = s;
            for (let i = 1; i < 624; i++)
                mt[i] = Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        };
        if (seeds.length === 1) {
            seed(seeds[0]);
        } else {
            seed(19650218);
            let i = 1, j = 0;
            for (let k = Math.max(624, seeds.length); k > 0; k--) {
                mt[i] = (mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1664525)) + seeds[j] + j;
                i++, j++;
                if (i >= 624)
                    mt[0] = mt[623], i = 1;
                if (j >= seeds.length)
                    j = 0;
            }
            for (let k = 623; k > 0; k--) {
                mt[i] = (mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1566083941)) - i;
                if (++i >= 624)
                    mt[0] = mt[623], i = 1;
            }
            mt[0] = 0x80000000;
        }
        this.mti = 624;
    }

    int() {
        const mt = this.mt;
        if (this.mti >= 624) {
            for (let k = 0; k < 624; k++) {
                const y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
                mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
            }
            this.mti = 0;
        }
        let y = mt[this.mti++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y >>> 0;
    }

    double() {
        const r = (this.int() * 2 ** -32 + this.int()) * 2 ** -32;
        return r >= 1.0 ? this.double() : r;
    }

    intRange(begin, end) { // end - begin in 1..2^31
        const dist = end - begin;
        let leftover = (0x80000000 % dist) * 2;
        if (leftover >= dist)
            leftover -= dist;
        let r;
        do
            r = this.int();
        while (r > 0xffffffff - leftover);
        return begin + r % dist;
    }

    normal() { // Irwin-Hall, as fedavg.c
        let sum = 0.0;
        for (let i = 0; i < 12; i++)
            sum += this.double();
        return sum - 6.0;
    }
}

// Non-IID data: client c's inputs are centred on c - 1.5.
function makeData() {
    const rand = new Rand([DATA_SEED]);
    const clients = [];
    for (let c = 0; c < N_CLIENTS; c++) {
        const x = [], y = [];
        for (let i = 0; i < N_SAMPLES; i++) {
            const xi = [];
            let yi = TRUE_B;
            for (let d = 0; d < DIM; d++) {
                xi.push(c - 1.5 + rand.normal());
                yi += TRUE_W[d] * xi[d];
            }
            x.push(xi);
            y.push(yi + 0.1 * rand.normal());
        }
        clients.push({x, y});
    }
    return clients;
}

function predict(w, b, x) {
    let y = b;
    for (let d = 0; d < DIM; d++)
        y += w[d] * x[d];
    return y;
}

function globalLoss(model, clients) {
    let sum = 0.0;
    for (const {x, y} of clients) {
        for (let i = 0; i < N_SAMPLES; i++) {
            const err = predict(model.weights, model.bias, x[i]) - y[i];
            sum += 0.5 * err * err;
        }
    }
    return sum / (N_CLIENTS * N_SAMPLES);
}

// A client's local SGD from the global weights; minibatches drawn from a
// generator seeded by (round, client).
function clientUpdate(model, data, client) {
    const rand = new Rand([DATA_SEED, model.round, client]);
    const w = [...model.weights];
    let b = model.bias;
    for (let step = 0; step < LOCAL_STEPS; step++) {
        const gradW = new Array(DIM).fill(0.0);
        let gradB = 0.0;
        for (let k = 0; k < BATCH_SIZE; k++) {
            const i = rand.intRange(0, N_SAMPLES);
            const err = predict(w, b, data.x[i]) - data.y[i];
            for (let d = 0; d < DIM; d++)
                gradW[d] += err * data.x[i][d];
            gradB += err;
        }
        for (let d = 0; d < DIM; d++)
            w[d] -= model.optimizer.lr * gradW[d] / BATCH_SIZE;
        b -= model.optimizer.lr * gradB / BATCH_SIZE;
    }
    return [...w, b];
}

// One round of federated averaging with server momentum (FedAvgM).
function fedavgRound(model, clients) {
    model.round++;
    const avg = new Array(DIM + 1).fill(0.0);
    clients.forEach((data, c) => {
        clientUpdate(model, data, c).forEach((v, d) => (avg[d] += v / N_CLIENTS));
    });
    const {beta, momentum} = model.optimizer;
    for (let d = 0; d <= DIM; d++) {
        const current = d < DIM ? model.weights[d] : model.bias;
        momentum[d] = beta * momentum[d] + (avg[d] - current);
    }
    for (let d = 0; d < DIM; d++)
        model.weights[d] += momentum[d];
    model.bias += momentum[DIM];
    model.loss_history.push(globalLoss(model, clients));
}

// The state, as in fedavg.c: a{sv} with "round" x, "weights" ad, "bias" d,
// "optimizer" a{sv} ("lr" d, "beta" d, "momentum" ad), "loss_history" ad.
function modelToVariant(m) {
    const v = (type, value) => new GLib.Variant(type, value);
    return v('a{sv}', {
        round: v('x', m.round),
        weights: v('ad', m.weights),
        bias: v('d', m.bias),
        optimizer: v('a{sv}', {
            lr: v('d', m.optimizer.lr),
            beta: v('d', m.optimizer.beta),
            momentum: v('ad', m.optimizer.momentum),
        }),
        loss_history: v('ad', m.loss_history),
    });
}

function modelFromVariant(state) {
    const m = state.recursiveUnpack();
    const isDoubles = (a, n) => Array.isArray(a) && (n === undefined || a.length === n) &&
        a.every(x => typeof x === 'number');
    if (typeof m.round !== 'number' || typeof m.bias !== 'number' || !isDoubles(m.weights, DIM) ||
        typeof m.optimizer?.lr !== 'number' || typeof m.optimizer?.beta !== 'number' ||
        !isDoubles(m.optimizer?.momentum, DIM + 1) || !isDoubles(m.loss_history))
        throw new Error('the checkpoint does not hold a fedavg state');
    return m;
}

function parseArgs(args) {
    const opts = {dir: './fedavg-checkpoints', rounds: 20, keep: Ckpt.MANAGER_DEFAULT_KEEP_TOTAL,
        delayMs: 0, verbose: false};
    const names = {'-d': 'dir', '--dir': 'dir', '-n': 'rounds', '--rounds': 'rounds',
        '-k': 'keep', '--keep': 'keep', '--delay-ms': 'delayMs'};
    for (let i = 0; i < args.length; i++) {
        let [arg, value] = args[i].split(/=(.*)/s);
        if (arg === '-v' || arg === '--verbose') {
            opts.verbose = true;
        } else if (arg === '-h' || arg === '--help') {
            print('Usage: gjs -m fedavg.js [--dir DIR] [--rounds N] [--keep K] [--delay-ms MS] [-v]');
            System.exit(0);
        } else if (arg in names) {
            value ??= args[++i];
            if (value === undefined)
                throw new Error(`missing value for ${arg}`);
            const key = names[arg];
            opts[key] = key === 'dir' ? value : Number(value);
            if (key !== 'dir' && !Number.isInteger(opts[key]))
                throw new Error(`${arg}: not an integer: ${value}`);
        } else {
            throw new Error(`unknown option ${arg}`);
        }
    }
    if (opts.rounds < 0 || opts.delayMs < 0)
        throw new Error('--rounds and --delay-ms must not be negative');
    return opts;
}

const sleep = ms => new Promise(resolve => GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
    resolve();
    return GLib.SOURCE_REMOVE;
}));

async function main(args) {
    const opts = parseArgs(args);
    const manager = Ckpt.Manager.new_for_path(opts.dir, null, opts.keep, true);
    let nSaved = 0;
    manager.connect('saved', (m, round, file) => {
        nSaved++;
        if (opts.verbose)
            print(`  [saved]  round ${round} -> ${file.get_parse_name()}`);
    });
    manager.connect('pruned', (m, round, file) => {
        if (opts.verbose)
            print(`  [pruned] round ${round} (${file.get_parse_name()})`);
    });

    const clients = makeData();
    const initial = {round: 0, weights: [0.0, 0.0, 0.0], bias: 0.0,
        optimizer: {lr: 0.02, beta: 0.5, momentum: [0.0, 0.0, 0.0, 0.0]}, loss_history: []};
    initial.loss_history.push(globalLoss(initial, clients));

    // With no checkpoint in opts.dir, this saves the default state as round 0.
    const [state, resumedRound] =
        await manager.load_latest_or_default_async(modelToVariant(initial), null);
    const model = modelFromVariant(state);
    if (model.round !== resumedRound)
        throw new Error(`checkpoint ${resumedRound} holds the state of round ${model.round}`);

    const loss = () => model.loss_history.at(-1).toFixed(6);
    if (nSaved > 0)
        print(`Starting fresh in ${opts.dir} (round 0, loss ${loss()})`);
    else
        print(`Resumed from round ${model.round} (loss ${loss()})`);
    if (model.round >= opts.rounds)
        print(`Nothing to do: already at round ${model.round} (asked for ${opts.rounds})`);

    while (model.round < opts.rounds) {
        fedavgRound(model, clients);
        // The main loop keeps running while the checkpoint is written.
        // eslint-disable-next-line no-await-in-loop
        await manager.save_async(modelToVariant(model), model.round, null);
        const name = GLib.build_filenamev([opts.dir, manager.get_file(model.round).get_basename()]);
        print(`round ${String(model.round).padStart(3)}  loss ${loss()}  saved ${name}`);
        if (opts.delayMs > 0)
            await sleep(opts.delayMs); // eslint-disable-line no-await-in-loop
    }

    const f = x => x.toFixed(4);
    print(`Model after round ${model.round}: w = [${model.weights.map(f).join(', ')}], ` +
        `b = ${f(model.bias)} (true: [${TRUE_W.map(x => x.toFixed(1)).join(', ')}], ${TRUE_B.toFixed(1)})`);
}

const loop = new GLib.MainLoop(null, false);
let status = 0;
main(System.programArgs).catch(e => {
    printerr(`fedavg: ${e instanceof GLib.Error ? e.message : e}`);
    status = 1;
}).finally(() => loop.quit());
loop.run();
System.exit(status);
