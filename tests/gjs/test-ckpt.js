// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ckpt-glib from GJS, through the typelib of the build tree (tests/meson.build
// sets GI_TYPELIB_PATH and LD_LIBRARY_PATH). Run: gjs -m test-ckpt.js
//
// Every case runs; each prints "ok N - name" or "not ok N - name" (TAP), and
// the script exits non-zero if any failed. The last case checks that every
// function of the Ckpt namespace was called at least once: a missing (out) or
// (array length) annotation only shows when the function is called.

import Ckpt from 'gi://Ckpt?version=1.0';
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import System from 'system';

/* ---------------------------------------------------------------- helpers */

class AssertionError extends Error {}

function assert(cond, what) {
    if (!cond)
        throw new AssertionError(what ?? 'assertion failed');
}

function repr(v) {
    if (v instanceof GLib.Variant)
        return v.print(true);
    try {
        return JSON.stringify(v);
    } catch {
        return String(v);
    }
}

function deepEqual(a, b) {
    if (a === b)
        return true;
    if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object')
        return false;
    if (Array.isArray(a) !== Array.isArray(b))
        return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every(k => deepEqual(a[k], b[k]));
}

function assertEqual(got, expected, what = '') {
    if (!deepEqual(got, expected))
        throw new AssertionError(`${what}: got ${repr(got)}, expected ${repr(expected)}`);
}

// Runs fn (which must throw a GLib.Error) and checks its domain and code.
async function assertThrows(fn, domain, code, what = '') {
    let error = null;
    try {
        await fn();
    } catch (e) {
        error = e;
    }
    assert(error !== null, `${what}: no error thrown`);
    assert(error instanceof GLib.Error, `${what}: not a GLib.Error: ${error}`);
    assert(error.matches(domain, code),
        `${what}: expected error ${GLib.quark_to_string(domain)}:${code}, ` +
        `got ${GLib.quark_to_string(error.domain)}:${error.code}: ${error.message}`);
    return error;
}

function assertThrowsSync(fn, pattern) {
    try {
        fn();
    } catch (e) {
        assert(pattern.test(String(e.message)), `unexpected error: ${e}`);
        return;
    }
    throw new AssertionError(`no error thrown, expected ${pattern}`);
}

const tmpDirs = [];

function makeTmpDir() {
    const dir = GLib.dir_make_tmp('ckpt-gjs-XXXXXX');
    tmpDirs.push(dir);
    return dir;
}

function rmTree(file) {
    let info;
    try {
        info = file.query_info('standard::type', Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, null);
    } catch {
        return;
    }
    if (info.get_file_type() === Gio.FileType.DIRECTORY) {
        const e = file.enumerate_children('standard::name', Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, null);
        let child;
        while ((child = e.next_file(null)) !== null)
            rmTree(file.get_child(child.get_name()));
        e.close(null);
    }
    file.delete(null);
}

// Every name in dir, hidden ones included, sorted.
function listDir(dir) {
    const names = [];
    const e = Gio.File.new_for_path(dir).enumerate_children('standard::name',
        Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, null);
    let info;
    while ((info = e.next_file(null)) !== null)
        names.push(info.get_name());
    e.close(null);
    return names.sort();
}

function idle() {
    return new Promise(resolve => GLib.idle_add(GLib.PRIORITY_LOW, () => {
        resolve();
        return GLib.SOURCE_REMOVE;
    }));
}

// Flips one byte near the end of a file (in the payload).
function damage(file) {
    const path = file.get_path();
    const [ok, bytes] = GLib.file_get_contents(path);
    assert(ok && bytes.length > 64, `could not read ${path}`);
    bytes[bytes.length - 1] ^= 0x40;
    GLib.file_set_contents(path, bytes);
}

const xd = (round, value = 0.5) => new GLib.Variant('(xd)', [round, value]);

function nestedState(round) {
    return new GLib.Variant('a{sv}', {
        weights: new GLib.Variant('ad', [0.1, 0.2, round]),
        round: new GLib.Variant('x', round),
        name: new GLib.Variant('s', 'gjs'),
        opt: new GLib.Variant('a{sv}', {
            lr: new GLib.Variant('d', 0.01),
            momentum: new GLib.Variant('ad', [1.5, -2.5]),
        }),
        blob: new GLib.Variant('ay', new Uint8Array([0, 1, 2, 255])),
    });
}

// Records the manager's signals as plain arrays.
function recordSignals(mgr) {
    const log = {saved: [], pruned: [], corrupt: [], all: []};
    mgr.connect('saved', (m, round, file) => {
        assert(m === mgr, 'saved: emitted by another object');
        log.saved.push(round);
        log.all.push(['saved', round, file.get_path()]);
    });
    mgr.connect('pruned', (m, round, file) => {
        log.pruned.push(round);
        log.all.push(['pruned', round, file.get_path()]);
    });
    mgr.connect('corrupt', (m, round, file, error) => {
        log.corrupt.push(round);
        log.all.push(['corrupt', round, file.get_path(), error.domain, error.code, error.message]);
    });
    return log;
}

/* ------------------------------------------------------ API coverage hook */

// Wrap every function of the namespace so that the last case can check that
// each was called. This must happen before Gio._promisify wraps the async
// methods, so that the promisified ones go through these wrappers.
const called = new Set();

function wrap(owner, name, symbol) {
    const original = owner[name];
    if (typeof original !== 'function')
        return;
    owner[name] = function (...args) {
        called.add(symbol);
        return original.apply(this, args);
    };
}

for (const name of Object.getOwnPropertyNames(Ckpt.Manager.prototype)) {
    if (/^(get|set)_|^save|^load|^list_rounds|^query_info|^prune|^delete/.test(name))
        wrap(Ckpt.Manager.prototype, name, `ckpt_manager_${name}`);
}
for (const name of Object.getOwnPropertyNames(Ckpt.Info.prototype)) {
    if (/^get_/.test(name))
        wrap(Ckpt.Info.prototype, name, `ckpt_info_${name}`);
}
for (const name of ['new', 'new_for_path'])
    wrap(Ckpt.Manager, name, `ckpt_manager_${name}`);
wrap(Ckpt, 'error_quark', 'ckpt_error_quark');
wrap(Ckpt.Error, 'quark', 'ckpt_error_quark');
for (const part of ['major', 'minor', 'micro'])
    wrap(Ckpt, `get_${part}_version`, `ckpt_get_${part}_version`);

// The async pairs as promises. The finish functions with an (out) argument
// resolve to [value, out]; the others to their return value.
for (const op of ['save', 'save_full', 'load', 'load_latest', 'load_latest_or_default', 'list_rounds', 'delete',
    'query_info', 'prune'])
    Gio._promisify(Ckpt.Manager.prototype, `${op}_async`, `${op}_finish`);

// The symbols of the namespace, from the GIR next to the typelib.
function girSymbols() {
    const dirs = (GLib.getenv('GI_TYPELIB_PATH') ?? '').split(':').filter(d => d);
    for (const dir of dirs) {
        const candidates = [
            GLib.build_filenamev([dir, 'Ckpt-1.0.gir']),
            GLib.build_filenamev([dir, '..', 'gir-1.0', 'Ckpt-1.0.gir']),
            GLib.build_filenamev([dir, '..', '..', 'share', 'gir-1.0', 'Ckpt-1.0.gir']),
        ];
        for (const path of candidates) {
            if (!GLib.file_test(path, GLib.FileTest.EXISTS))
                continue;
            const [, bytes] = GLib.file_get_contents(path);
            const xml = new TextDecoder().decode(bytes);
            const re = /<(constructor|method|function)\s+name="[^"]+"\s+c:identifier="([^"]+)"([^>]*)>/g;
            const symbols = new Set();
            for (const m of xml.matchAll(re)) {
                if (!/introspectable="0"/.test(m[3]))
                    symbols.add(m[2]);
            }
            return symbols;
        }
    }
    return null;
}

/* ------------------------------------------------------------------ cases */

const cases = [];
const test = (name, fn) => cases.push([name, fn]);

test('construction with new_for_path: properties and defaults', () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 3, false);
    assert(mgr instanceof Ckpt.Manager, 'not a Ckpt.Manager');
    assert(mgr instanceof Gio.Initable, 'not a Gio.Initable');
    assertEqual(mgr.get_root().get_path(), dir, 'get_root');
    assertEqual(mgr.root.get_path(), dir, 'root');
    assertEqual(mgr.get_prefix(), Ckpt.MANAGER_DEFAULT_PREFIX, 'get_prefix');
    assertEqual(mgr.prefix, 'ckpt_', 'prefix');
    assertEqual(mgr.get_keep_total(), 3, 'get_keep_total');
    assertEqual(mgr.keep_total, 3, 'keep_total');
    assertEqual(mgr.get_keep_first(), false, 'get_keep_first');
    assertEqual(mgr.get_durable(), true, 'get_durable');
    assertEqual([mgr.get_durable_storage(), mgr.durableStorage], [true, true],
        'get_durable_storage: a local root can be flushed');
    assertEqual([mgr.get_verify(), mgr.verify], [true, true], 'get_verify');
    assertEqual(mgr.get_busy(), false, 'get_busy');
    assertEqual(mgr.busy, false, 'busy');

    const notified = [];
    mgr.connect('notify', (m, pspec) => notified.push(pspec.name));
    mgr.set_keep_total(7);
    mgr.set_keep_first(true);
    mgr.set_durable(false);
    mgr.set_verify(false);
    assertEqual([mgr.get_keep_total(), mgr.keepTotal], [7, 7], 'set_keep_total');
    assertEqual([mgr.get_verify(), mgr.verify], [false, false], 'set_verify');
    assertEqual([mgr.get_keep_first(), mgr.keep_first], [true, true], 'set_keep_first');
    assertEqual([mgr.get_durable(), mgr.durable], [false, false], 'set_durable');
    mgr.set_keep_total(7);
    assertEqual(notified, ['keep-total', 'keep-first', 'durable', 'verify'], 'notify');
    mgr.keep_total = 2;
    assertEqual(mgr.get_keep_total(), 2, 'keep_total property setter');

    // Construction never touches the disk.
    const missing = GLib.build_filenamev([dir, 'not', 'yet']);
    Ckpt.Manager.new_for_path(missing, 'p_', 0, false);
    assert(!GLib.file_test(missing, GLib.FileTest.EXISTS), 'construction created the root');
});

test('construction with new (a Gio.File) and get_file', () => {
    const dir = makeTmpDir();
    const root = Gio.File.new_for_path(dir);
    const mgr = Ckpt.Manager.new(root, 'state-', Ckpt.MANAGER_DEFAULT_KEEP_TOTAL, true);
    assert(mgr.get_root().equal(root), 'get_root');
    assertEqual(mgr.get_prefix(), 'state-', 'prefix');
    assertEqual(mgr.get_keep_total(), 5, 'keep_total');
    assertEqual(mgr.get_keep_first(), true, 'keep_first');
    const file = mgr.get_file(12);
    assert(file instanceof Gio.File, 'get_file: not a Gio.File');
    assertEqual(file.get_path(), GLib.build_filenamev([dir, 'state-12']), 'get_file');
    assertEqual(mgr.get_file(0).get_basename(), 'state-0', 'get_file(0)');
});

test('construction with new Ckpt.Manager({...}) and init()', () => {
    const dir = makeTmpDir();
    const mgr = new Ckpt.Manager({root: Gio.File.new_for_path(dir), prefix: 'r', keep_total: 3});
    assert(mgr.init(null), 'init');
    assertEqual(mgr.get_prefix(), 'r', 'prefix');
    assertEqual(mgr.get_keep_total(), 3, 'keep_total');
    assertEqual(mgr.get_keep_first(), true, 'keep_first default');
    assertEqual(mgr.durable, true, 'durable default');
    assert(mgr.save(xd(1), 1, null), 'save');
    assertEqual(listDir(dir), ['r1'], 'listing');

    // Without a prefix, the default one.
    const mgr2 = new Ckpt.Manager({root: Gio.File.new_for_path(dir)});
    mgr2.init(null);
    assertEqual(mgr2.prefix, 'ckpt_', 'default prefix');
    assertEqual(mgr2.keep_total, Ckpt.MANAGER_DEFAULT_KEEP_TOTAL, 'default keep_total');
});

test('save and load round-trip a nested state', () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 0, true);
    const state = nestedState(3);
    assertEqual(mgr.save(state, 3, null), true, 'save');
    assertEqual(listDir(dir), ['ckpt_3'], 'listing');

    const any = mgr.load(null, 3, null);
    assert(any instanceof GLib.Variant, 'load: not a GLib.Variant');
    assertEqual(any.get_type_string(), 'a{sv}', 'type');
    assert(any.equal(state), `load(null): ${any.print(true)}`);
    assertEqual(any.recursiveUnpack(), {
        weights: [0.1, 0.2, 3], round: 3, name: 'gjs',
        opt: {lr: 0.01, momentum: [1.5, -2.5]},
        blob: any.recursiveUnpack().blob,
    }, 'recursiveUnpack');
    assertEqual(Array.from(any.lookup_value('blob', null).deepUnpack()), [0, 1, 2, 255], 'ay');

    const typed = mgr.load(new GLib.VariantType('a{sv}'), 3, null);
    assert(typed.equal(state), 'load(a{sv})');
    const indefinite = mgr.load(new GLib.VariantType('a*'), 3, null);
    assert(indefinite.equal(state), 'load(a*)');

    // A large round survives the gint64 marshalling.
    const big = 2 ** 40;
    mgr.save(xd(big), big, null);
    assertEqual(mgr.load(null, big, null).deepUnpack(), [big, 0.5], 'large round state');
    assertEqual(mgr.list_rounds(), [3, big], 'large round listed');
});

test('load_latest returns [state, round]', () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(GLib.build_filenamev([dir, 'missing']), null, 0, true);

    // Missing root: no checkpoint, no error.
    const none = mgr.load_latest(null, null);
    assert(Array.isArray(none) && none.length === 2, `load_latest: ${repr(none)}`);
    assertEqual(none, [null, -1], 'missing root');

    for (const r of [1, 5, 3])
        mgr.save(xd(r), r, null);
    const [state, round] = mgr.load_latest(null, null);
    assertEqual(round, 5, 'round');
    assertEqual(typeof round, 'number', 'round type');
    assertEqual(state.deepUnpack(), [5, 0.5], 'state');
    const [typed, round2] = mgr.load_latest(new GLib.VariantType('(xd)'), null);
    assertEqual([typed.deepUnpack(), round2], [[5, 0.5], 5], 'typed');
});

test('load_latest_or_default saves the default as round 0, then resumes', () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 3, true);
    const log = recordSignals(mgr);
    const [state, round] = mgr.load_latest_or_default(xd(0, 1.0), null);
    assertEqual([state.deepUnpack(), round], [[0, 1.0], 0], 'first run');
    assertEqual(log.saved, [0], 'saved signal for the default');
    assertEqual(listDir(dir), ['ckpt_0'], 'listing');

    mgr.save(xd(1, 2.0), 1, null);
    mgr.save(xd(2, 3.0), 2, null);
    const [state2, round2] = mgr.load_latest_or_default(xd(0, 1.0), null);
    assertEqual([state2.deepUnpack(), round2], [[2, 3.0], 2], 'resumed');
    assertEqual(log.saved, [0, 1, 2], 'no save when resuming');
});

test('list_rounds returns an ascending array of numbers, ignoring other names', () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 0, true);
    assertEqual(mgr.list_rounds(), [], 'empty root');
    assertEqual(Ckpt.Manager.new_for_path(GLib.build_filenamev([dir, 'nope']), null, 0, true).list_rounds(),
        [], 'missing root');
    for (const r of [10, 2, 0, 33])
        mgr.save(xd(r), r, null);
    for (const name of ['ckpt_01', 'ckpt_-1', 'ckpt_1x', 'ckpt_', 'other_3'])
        GLib.file_set_contents(GLib.build_filenamev([dir, name]), 'x');
    const rounds = mgr.list_rounds();
    assert(Array.isArray(rounds), `not an array: ${repr(rounds)}`);
    assertEqual(rounds, [0, 2, 10, 33], 'rounds');
    assert(rounds.every(r => typeof r === 'number'), 'not numbers');
});

test('retention listings', () => {
    const listing = (keepTotal, keepFirst, rounds) => {
        const mgr = Ckpt.Manager.new_for_path(makeTmpDir(), null, keepTotal, keepFirst);
        for (const r of rounds)
            mgr.save(xd(r), r, null);
        return mgr.list_rounds();
    };
    assertEqual(listing(3, true, [1, 2, 3, 4]), [1, 3, 4], 'keep_total=3 keep_first');
    assertEqual(listing(3, false, [1, 2, 3, 4]), [2, 3, 4], 'keep_total=3');
    assertEqual(listing(0, false, [1, 2, 3, 4, 5, 6]), [1, 2, 3, 4, 5, 6], 'keep_total=0 keeps all');
    assertEqual(listing(1, true, [1, 2, 3]), [1, 3], 'keep_total=1 keep_first');
    assertEqual(listing(1, false, [1, 2, 3]), [3], 'keep_total=1');

    // A change of keep_total applies from the next save.
    const mgr = Ckpt.Manager.new_for_path(makeTmpDir(), null, 0, false);
    for (const r of [1, 2, 3, 4, 5])
        mgr.save(xd(r), r, null);
    mgr.set_keep_total(2);
    assertEqual(mgr.list_rounds(), [1, 2, 3, 4, 5], 'before the next save');
    mgr.save(xd(6), 6, null);
    assertEqual(mgr.list_rounds(), [5, 6], 'after the next save');
});

test('saved and pruned signals with their arguments, in order', () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, 'p', 3, true);
    const log = recordSignals(mgr);
    for (const r of [1, 2, 3])
        mgr.save(xd(r), r, null);
    assertEqual(log.pruned, [], 'nothing pruned yet');
    log.all.length = 0;
    mgr.save(xd(4), 4, null);
    const path = r => GLib.build_filenamev([dir, `p${r}`]);
    assertEqual(log.all, [['saved', 4, path(4)], ['pruned', 2, path(2)]], 'after round 4');
    log.all.length = 0;
    mgr.set_keep_total(2);
    mgr.save(xd(5), 5, null);
    assertEqual(log.all, [['saved', 5, path(5)], ['pruned', 3, path(3)], ['pruned', 4, path(4)]],
        'after round 5 with keep_total=2');
    assertEqual(log.saved, [1, 2, 3, 4, 5], 'saved');
    assertEqual(log.corrupt, [], 'corrupt');
});

test('corrupt signal: load, load_latest fallback, all damaged', async () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 0, true);
    const log = recordSignals(mgr);
    for (const r of [1, 2, 3])
        mgr.save(xd(r), r, null);
    damage(mgr.get_file(3));

    const e = await assertThrows(() => mgr.load(null, 3, null), Ckpt.Error, Ckpt.Error.CORRUPT, 'load');
    assert(e.message.includes(mgr.get_file(3).get_path()), `message lacks the path: ${e.message}`);
    assertEqual(log.corrupt, [3], 'corrupt from load');
    const [round, path, domain, code] = log.all.at(-1).slice(1);
    assertEqual([round, path, domain, code],
        [3, mgr.get_file(3).get_path(), Ckpt.error_quark(), Ckpt.Error.CORRUPT], 'corrupt arguments');

    const [state, r] = mgr.load_latest(null, null);
    assertEqual([state.deepUnpack(), r], [[2, 0.5], 2], 'load_latest falls back');
    assertEqual(log.corrupt, [3, 3], 'corrupt from load_latest');

    damage(mgr.get_file(2));
    damage(mgr.get_file(1));
    log.corrupt.length = 0;
    await assertThrows(() => mgr.load_latest(null, null), Ckpt.Error, Ckpt.Error.CORRUPT, 'all damaged');
    assertEqual(log.corrupt, [3, 2, 1], 'corrupt for each, newest first');
    await assertThrows(() => mgr.load_latest_or_default(xd(0), null), Ckpt.Error, Ckpt.Error.CORRUPT,
        'load_latest_or_default, all damaged');
    assertEqual(mgr.list_rounds(), [1, 2, 3], 'damaged checkpoints are not deleted');
});

test('verify: unset, a damaged payload is not detected; set, it is', async () => {
    const mgr = Ckpt.Manager.new_for_path(makeTmpDir(), null, 0, true);
    const log = recordSignals(mgr);
    mgr.save(xd(1, 0.5), 1, null);
    damage(mgr.get_file(1));   // the last byte: the top of the double
    mgr.set_verify(false);
    const [r, d] = mgr.load(null, 1, null).deepUnpack();
    assert(r === 1 && d !== 0.5, `unverified load: ${r}, ${d}`);
    assertEqual(log.corrupt, [], 'no corrupt signal');
    mgr.verify = true;
    await assertThrows(() => mgr.load(null, 1, null), Ckpt.Error, Ckpt.Error.CORRUPT, 'verified load');
    assertEqual(log.corrupt, [1], 'corrupt signal');
});

test('errors: NOT_FOUND, EXISTS, TYPE_MISMATCH', async () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 0, true);
    const log = recordSignals(mgr);

    await assertThrows(() => mgr.load(null, 1, null), Ckpt.Error, Ckpt.Error.NOT_FOUND, 'load missing');
    mgr.save(xd(1, 1.0), 1, null);
    await assertThrows(() => mgr.load(null, 2, null), Ckpt.Error, Ckpt.Error.NOT_FOUND, 'load missing 2');

    const e = await assertThrows(() => mgr.save(xd(1, 9.0), 1, null),
        Ckpt.error_quark(), Ckpt.Error.EXISTS, 'save existing');
    assertEqual(e.domain, Ckpt.Error.quark(), 'domain is the quark');
    assertEqual(e.code, 1, 'EXISTS is 1');
    assertEqual(mgr.load(null, 1, null).deepUnpack(), [1, 1.0], 'existing not replaced');
    assertEqual(log.saved, [1], 'no saved signal on failure');

    const t = await assertThrows(() => mgr.load(new GLib.VariantType('s'), 1, null),
        Ckpt.Error, Ckpt.Error.TYPE_MISMATCH, 'load wrong type');
    assert(t.message.includes('(xd)') && /[‘']s[’']/.test(t.message),
        `message does not name both types: ${t.message}`);
    await assertThrows(() => mgr.load_latest(new GLib.VariantType('a{sv}'), null),
        Ckpt.Error, Ckpt.Error.TYPE_MISMATCH, 'load_latest wrong type');
    await assertThrows(() => mgr.load_latest_or_default(new GLib.Variant('s', 'x'), null),
        Ckpt.Error, Ckpt.Error.TYPE_MISMATCH, 'load_latest_or_default wrong type');

    // The enum's values, by name.
    assertEqual([Ckpt.Error.NOT_FOUND, Ckpt.Error.EXISTS, Ckpt.Error.TYPE_MISMATCH, Ckpt.Error.CORRUPT,
        Ckpt.Error.UNSUPPORTED, Ckpt.Error.INVALID_ARGUMENT, Ckpt.Error.BUSY], [0, 1, 2, 3, 4, 5, 6],
    'Ckpt.Error values');
});

test('errors: INVALID_ARGUMENT (bad prefixes, negative rounds)', async () => {
    const dir = makeTmpDir();
    const root = Gio.File.new_for_path(dir);
    for (const prefix of ['', 'a/b', '.hidden', 'run2']) {
        await assertThrows(() => Ckpt.Manager.new_for_path(dir, prefix, 3, true),
            Ckpt.Error, Ckpt.Error.INVALID_ARGUMENT, `new_for_path prefix '${prefix}'`);
        await assertThrows(() => Ckpt.Manager.new(root, prefix, 3, true),
            Ckpt.Error, Ckpt.Error.INVALID_ARGUMENT, `new prefix '${prefix}'`);
        await assertThrows(() => new Ckpt.Manager({root, prefix}).init(null),
            Ckpt.Error, Ckpt.Error.INVALID_ARGUMENT, `init prefix '${prefix}'`);
    }
    const mgr = Ckpt.Manager.new(root, null, 3, true);
    await assertThrows(() => mgr.save(xd(-1), -1, null), Ckpt.Error, Ckpt.Error.INVALID_ARGUMENT, 'save -1');
    await assertThrows(() => mgr.load(null, -1, null), Ckpt.Error, Ckpt.Error.INVALID_ARGUMENT, 'load -1');
    assertEqual(listDir(dir), [], 'nothing written');
});

test('errors: a root that is a regular file gives a G_IO_ERROR naming it', async () => {
    const dir = makeTmpDir();
    const path = GLib.build_filenamev([dir, 'file']);
    GLib.file_set_contents(path, 'not a directory');
    const mgr = Ckpt.Manager.new_for_path(path, null, 3, true);
    const e = await assertThrows(() => mgr.save(xd(1), 1, null),
        Gio.io_error_quark(), Gio.IOErrorEnum.NOT_DIRECTORY, 'save');
    assert(e.message.includes(path), `message lacks the path: ${e.message}`);
});

test('sync cancellation with a cancelled Gio.Cancellable', async () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 3, true);
    const c = new Gio.Cancellable();
    c.cancel();
    await assertThrows(() => mgr.save(xd(1), 1, c), Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'save');
    assertEqual(listDir(dir), [], 'nothing written');
});

test('the (satay) tensor encoding of the Python override, from GJS', () => {
    // A float32 tensor of shape [2, 3]: dtype (numpy's dtype.str), shape,
    // raw little-endian bytes in C order.
    const values = new Float32Array([1.5, -2, 3.25, 0, 1e-3, 7]);
    const tensor = new GLib.Variant('(satay)', ['<f4', [2, 3], new Uint8Array(values.buffer)]);
    const mgr = Ckpt.Manager.new_for_path(makeTmpDir(), null, 3, true);
    mgr.save(new GLib.Variant('a{sv}', {w: tensor}), 1, null);

    const loaded = mgr.load(new GLib.VariantType('a{sv}'), 1, null).lookup_value('w', new GLib.VariantType('(satay)'));
    assert(loaded !== null, 'no tensor');
    const [dtype, shape, data] = loaded.deepUnpack();
    assertEqual([dtype, shape], ['<f4', [2, 3]], 'dtype and shape');
    assert(data instanceof Uint8Array, `data: ${repr(data)}`);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const back = Array.from({length: data.byteLength / 4}, (_, i) => view.getFloat32(i * 4, true));
    assertEqual(back, Array.from(values), 'values');
});

// Typed arrays as tensors, with the functions of docs/javascript.md "Typed
// arrays and tensors" (copied verbatim): one memcpy to save, none to load.
const nativeOrder = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? '<' : '>';
const kinds = {
    Int8Array: 'i1', Uint8Array: 'u1', Uint8ClampedArray: 'u1',
    Int16Array: 'i2', Uint16Array: 'u2', Int32Array: 'i4', Uint32Array: 'u4',
    BigInt64Array: 'i8', BigUint64Array: 'u8', Float32Array: 'f4', Float64Array: 'f8',
};

function tensorFromTypedArray(array, shape = [array.length]) {
    const kind = kinds[array.constructor.name];
    const dtype = (array.BYTES_PER_ELEMENT === 1 ? '|' : nativeOrder) + kind;
    const bytes = GLib.Bytes.new_take(   // one copy, at memcpy speed
        new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    return GLib.Variant.new_tuple([
        GLib.Variant.new_string(dtype),
        new GLib.Variant('at', shape),
        GLib.Variant.new_from_bytes(new GLib.VariantType('ay'), bytes, true),
    ]);
}

const arrayTypes = {
    b1: Uint8Array, i1: Int8Array, u1: Uint8Array, i2: Int16Array, u2: Uint16Array,
    i4: Int32Array, u4: Uint32Array, i8: BigInt64Array, u8: BigUint64Array,
    f4: Float32Array, f8: Float64Array, c8: Float32Array, c16: Float64Array,
};

function typedArrayFromTensor(tensor) {
    const [dtype, shape, bytes] = tensor.deepUnpack();   // bytes: no copy
    const Type = arrayTypes[dtype.slice(1)];
    const itemsize = Number(dtype.slice(2 + (dtype[1] === 'b' && dtype[2] === 'f')));
    const count = shape.reduce((a, b) => a * b, 1);
    if (Type === undefined || bytes.byteLength !== count * itemsize)
        throw new Error(`not a tensor this code reads: ${dtype} ${shape}`);
    if (dtype[0] !== nativeOrder && dtype[0] !== '|')
        throw new Error(`${dtype}: byte order is not this machine's`);
    // A view of the loaded checkpoint's memory: no copy either.
    const array = new Type(bytes.buffer, bytes.byteOffset, bytes.byteLength / Type.BYTES_PER_ELEMENT);
    return [array, shape];
}

test('typed arrays as tensors: save and load without per-element work; ckpt show reads them', () => {
    const sub = new Float64Array([9, 8, 7, 6, 5]).subarray(1, 4);   // a view at an offset
    const arrays = {
        f8: [new Float64Array([0.1, -2.5, 1e300, -0]), undefined, '<f8'],
        f4: [new Float32Array([1, 2, 3, 4, 5, 6.5]), [2, 3], '<f4'],
        i4: [new Int32Array([-2147483648, 0, 2147483647]), undefined, '<i4'],
        u1: [new Uint8Array([0, 1, 255]), undefined, '|u1'],
        i8: [new BigInt64Array([-(2n ** 63n), 5n]), undefined, '<i8'],
        cube: [new Int16Array([1, 2, 3, 4, 5, 6, 7, 8]), [2, 2, 2], '<i2'],
        scalar: [new Float64Array([3.5]), [], '<f8'],
        empty: [new Float32Array(0), [0, 4], '<f4'],
        sub: [sub, undefined, '<f8'],
    };
    assert(nativeOrder === '<', 'this test expects a little-endian machine');

    const entries = {};
    for (const [name, [array, shape]] of Object.entries(arrays))
        entries[name] = tensorFromTypedArray(array, shape);
    // A big-endian tensor written elsewhere: read with a DataView.
    const be = new Uint8Array(16);
    new DataView(be.buffer).setFloat64(0, 1.5, false);
    new DataView(be.buffer).setFloat64(8, -0.25, false);
    entries.be = GLib.Variant.new_tuple([GLib.Variant.new_string('>f8'), new GLib.Variant('at', [2]),
        GLib.Variant.new_from_bytes(new GLib.VariantType('ay'), GLib.Bytes.new_take(be), true)]);

    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 3, true);
    mgr.save(new GLib.Variant('a{sv}', entries), 1, null);
    arrays.f8[0][0] = 42;   // the saved bytes were a copy

    const state = mgr.load(new GLib.VariantType('a{sv}'), 1, null);
    for (const [name, [array, shape, dtype]] of Object.entries(arrays)) {
        const tensor = state.lookup_value(name, new GLib.VariantType('(satay)'));
        assertEqual(tensor.get_child_value(0).get_string()[0], dtype, `${name}: dtype`);
        const [back, backShape] = typedArrayFromTensor(tensor);
        assert(back.constructor === array.constructor, `${name}: ${back.constructor.name}`);
        assertEqual(backShape, shape ?? [array.length], `${name}: shape`);
        const expected = name === 'f8' ? [0.1, -2.5, 1e300, -0] : Array.from(array);
        assert(Array.from(back).every((v, i) => Object.is(v, expected[i])) && back.length === expected.length,
            `${name}: values ${Array.from(back)}`);
    }
    assert(Object.is(typedArrayFromTensor(state.lookup_value('f8', null))[0][3], -0), '-0 kept');
    assertThrowsSync(() => typedArrayFromTensor(state.lookup_value('be', null)), /byte order/);
    const [, , beBytes] = state.lookup_value('be', null).deepUnpack();
    const beView = new DataView(beBytes.buffer, beBytes.byteOffset, beBytes.byteLength);
    assertEqual([beView.getFloat64(0, false), beView.getFloat64(8, false)], [1.5, -0.25], 'big-endian values');
    // Data whose size is not the shape's is refused.
    const bad = new GLib.Variant('(satay)', ['<f4', [3], new Uint8Array(8)]);
    assertThrowsSync(() => typedArrayFromTensor(bad), /not a tensor/);

    // The ckpt tool reads the same tensors as numbers.
    const tool = GLib.getenv('CKPT_TOOL');
    assert(tool !== null, 'CKPT_TOOL is not set');
    const [, out, err, status] = GLib.spawn_sync(null, [tool, 'show', '--json', dir, '1'], null, 0, null);
    const decoder = new TextDecoder();
    assert(status === 0, `ckpt show: ${decoder.decode(err)}`);
    const shown = JSON.parse(decoder.decode(out)).state;
    assertEqual(shown.f4, {dtype: '<f4', shape: [2, 3], data: [[1, 2, 3], [4, 5, 6.5]]}, 'show f4');
    assertEqual(shown.cube.data, [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], 'show cube');
    assertEqual(shown.scalar, {dtype: '<f8', shape: [], data: 3.5}, 'show scalar');
    assertEqual(shown.f8.data, [0.1, -2.5, 1e300, -0], 'show f8');
    assertEqual(shown.i4.data, [-2147483648, 0, 2147483647], 'show i4');
    assertEqual(shown.be.data, [1.5, -0.25], 'show be');
    assertEqual(shown.empty, {dtype: '<f4', shape: [0, 4], data: []}, 'show empty');
});

test('save_full and save_full_async store metadata in the header', async () => {
    const mgr = Ckpt.Manager.new_for_path(makeTmpDir(), null, 3, true);
    const log = recordSignals(mgr);
    const meta = new GLib.Variant('a{sv}', {
        'python-types': new GLib.Variant('s', 'nt'),
        'ckpt-glib-version': new GLib.Variant('s', 'not this'),
    });
    assertEqual(mgr.save_full(xd(1), 1, meta, null), true, 'save_full');
    const info = mgr.query_info(1, Ckpt.QueryFlags.VERIFY, null);
    assertEqual(info.get_metadata().lookup_value('python-types', null).unpack(), 'nt', 'metadata entry');
    assert(info.get_metadata().lookup_value('ckpt-glib-version', null).unpack() !== 'not this',
        'the library version cannot be replaced');
    assert(mgr.load(null, 1, null).equal(xd(1)), 'state');
    assertEqual(await mgr.save_full_async(xd(2), 2, null, null), true, 'save_full_async, no metadata');
    assertEqual(await mgr.save_full_async(xd(3), 3, meta, null), true, 'save_full_async');
    assertEqual(mgr.query_info(3, Ckpt.QueryFlags.NONE, null).get_metadata().lookup_value('python-types', null).unpack(),
        'nt', 'async metadata entry');
    assertEqual(mgr.query_info(2, Ckpt.QueryFlags.NONE, null).get_metadata().lookup_value('python-types', null), null,
        'no metadata entry');
    assertEqual(log.saved, [1, 2, 3], 'saved signals');
    await assertThrows(() => mgr.save_full_async(xd(3), 3, meta, null), Ckpt.Error, Ckpt.Error.EXISTS, 'save_full_async EXISTS');
});

test('async: save_async / load_async as promises', async () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 3, true);
    const log = recordSignals(mgr);
    const state = nestedState(1);
    const ok = await mgr.save_async(state, 1, null);
    assertEqual(ok, true, 'save_async resolves to true');
    assertEqual(log.saved, [1], 'saved signal before the promise resolved');
    assertEqual(listDir(dir), ['ckpt_1'], 'listing');

    const loaded = await mgr.load_async(null, 1, null);
    assert(loaded instanceof GLib.Variant, `load_async: ${repr(loaded)}`);
    assert(loaded.equal(state), 'load_async value');
    const typed = await mgr.load_async(new GLib.VariantType('a{sv}'), 1, null);
    assert(typed.equal(state), 'load_async typed');
});

test('async: load_latest_async and load_latest_or_default_async resolve to [value, round]', async () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(GLib.build_filenamev([dir, 'sub']), null, 3, true);
    const log = recordSignals(mgr);

    const none = await mgr.load_latest_async(null, null);
    assertEqual(none, [null, -1], 'load_latest_async on a missing root');

    const first = await mgr.load_latest_or_default_async(xd(0, 7.0), null);
    assert(Array.isArray(first) && first.length === 2, `load_latest_or_default_async: ${repr(first)}`);
    assertEqual([first[0].deepUnpack(), first[1]], [[0, 7.0], 0], 'default saved as round 0');
    assertEqual(log.saved, [0], 'saved signal for the default');

    await mgr.save_async(xd(1, 8.0), 1, null);
    const [v, r] = await mgr.load_latest_async(new GLib.VariantType('(xd)'), null);
    assertEqual([v.deepUnpack(), r], [[1, 8.0], 1], 'load_latest_async');
    const [v2, r2] = await mgr.load_latest_or_default_async(xd(0, 7.0), null);
    assertEqual([v2.deepUnpack(), r2], [[1, 8.0], 1], 'load_latest_or_default_async resumes');
});

test('async: list_rounds_async resolves to an array of numbers', async () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 3, true);
    assertEqual(await mgr.list_rounds_async(null), [], 'empty');
    for (const r of [4, 1, 9])
        mgr.save(xd(r), r, null);
    const rounds = await mgr.list_rounds_async(null);
    assertEqual(rounds, [1, 4, 9], 'rounds');
    assert(rounds.every(x => typeof x === 'number'), 'numbers');
});

test('async: overlapping saves (Promise.all) complete in call order', async () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 3, true);
    const log = recordSignals(mgr);
    const order = [];
    const promises = [];
    for (let r = 1; r <= 6; r++)
        promises.push(mgr.save_async(xd(r), r, null).then(ok => order.push([r, ok])));
    assertEqual(mgr.get_busy(), true, 'busy while saves are queued');
    await Promise.all(promises);
    assertEqual(order, [[1, true], [2, true], [3, true], [4, true], [5, true], [6, true]], 'callback order');
    assertEqual(log.saved, [1, 2, 3, 4, 5, 6], 'saved order');
    assertEqual(log.pruned, [2, 3, 4], 'pruned order');

    // The same saves made one by one, synchronously, leave the same files.
    const dir2 = makeTmpDir();
    const sync = Ckpt.Manager.new_for_path(dir2, null, 3, true);
    for (let r = 1; r <= 6; r++)
        sync.save(xd(r), r, null);
    assertEqual(listDir(dir), listDir(dir2), 'same files as sequential saves');
    assertEqual(listDir(dir), ['ckpt_1', 'ckpt_5', 'ckpt_6'], 'listing');
});

test('async: errors through the promises carry the sync codes and messages', async () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 3, true);
    await mgr.save_async(xd(1), 1, null);

    const a = await assertThrows(() => mgr.save_async(xd(1), 1, null), Ckpt.Error, Ckpt.Error.EXISTS, 'save_async');
    const s = await assertThrows(() => mgr.save(xd(1), 1, null), Ckpt.Error, Ckpt.Error.EXISTS, 'save');
    assertEqual(a.message, s.message, 'same message');
    await assertThrows(() => mgr.load_async(null, 2, null), Ckpt.Error, Ckpt.Error.NOT_FOUND, 'load_async');
    await assertThrows(() => mgr.load_async(null, -3, null), Ckpt.Error, Ckpt.Error.INVALID_ARGUMENT, 'load_async -3');
    await assertThrows(() => mgr.save_async(xd(0), -3, null), Ckpt.Error, Ckpt.Error.INVALID_ARGUMENT, 'save_async -3');
    await assertThrows(() => mgr.load_latest_async(new GLib.VariantType('s'), null),
        Ckpt.Error, Ckpt.Error.TYPE_MISMATCH, 'load_latest_async');
    await assertThrows(() => mgr.load_latest_or_default_async(new GLib.Variant('s', ''), null),
        Ckpt.Error, Ckpt.Error.TYPE_MISMATCH, 'load_latest_or_default_async');

    // A damaged newest checkpoint: corrupt is emitted before the promise resolves.
    const log = recordSignals(mgr);
    await mgr.save_async(xd(2), 2, null);
    damage(mgr.get_file(2));
    const [v, r] = await mgr.load_latest_async(null, null);
    assertEqual([v.deepUnpack(), r, log.corrupt], [[1, 0.5], 1, [2]], 'fallback with corrupt');
    await assertThrows(() => mgr.load_async(null, 2, null), Ckpt.Error, Ckpt.Error.CORRUPT, 'load_async damaged');
});

test('async: cancellation with a pre-cancelled Gio.Cancellable', async () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 3, true);
    const log = recordSignals(mgr);
    await mgr.save_async(xd(1), 1, null);
    const c = new Gio.Cancellable();
    c.cancel();
    const CANCELLED = Gio.IOErrorEnum.CANCELLED;
    await assertThrows(() => mgr.save_async(xd(2), 2, c), Gio.IOErrorEnum, CANCELLED, 'save_async');
    assertEqual(listDir(dir), ['ckpt_1'], 'disk as before, no temp file');
    assertEqual(log.saved, [1], 'no saved signal');
    await assertThrows(() => mgr.load_async(null, 1, c), Gio.IOErrorEnum, CANCELLED, 'load_async');
    await assertThrows(() => mgr.load_latest_async(null, c), Gio.IOErrorEnum, CANCELLED, 'load_latest_async');
    await assertThrows(() => mgr.load_latest_or_default_async(xd(0), c), Gio.IOErrorEnum, CANCELLED,
        'load_latest_or_default_async');
    await assertThrows(() => mgr.list_rounds_async(c), Gio.IOErrorEnum, CANCELLED, 'list_rounds_async');

    // A cancellation in the middle of a queue of saves: save 4 waits for
    // save 3 (32 MiB, so that it is still running) when it is cancelled.
    const c2 = new Gio.Cancellable();
    const p3 = mgr.save_async(new GLib.Variant('ay', new Uint8Array(32 << 20)), 3, null);
    const p4 = mgr.save_async(xd(4), 4, c2);
    c2.cancel();
    const p5 = mgr.save_async(xd(5), 5, null);
    assertEqual(await p3, true, 'save 3');
    await assertThrows(() => p4, Gio.IOErrorEnum, CANCELLED, 'queued save 4 cancelled');
    assertEqual(await p5, true, 'save 5');
    assertEqual(await mgr.list_rounds_async(null), [1, 3, 5], 'listing');
    assertEqual(listDir(dir), ['ckpt_1', 'ckpt_3', 'ckpt_5'], 'no stray files');
});

test('async: busy property and its notifications', async () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 3, true);
    const seen = [];
    mgr.connect('notify::busy', m => seen.push(m.busy));
    assertEqual(mgr.get_busy(), false, 'idle');
    mgr.save(xd(0), 0, null);
    assertEqual(seen, [], 'sync calls do not change busy');

    const p1 = mgr.save_async(xd(1), 1, null);
    assertEqual([mgr.get_busy(), mgr.busy], [true, true], 'busy right after save_async');
    const p2 = mgr.load_async(null, 0, null);
    await Promise.all([p1, p2]);
    await idle();
    assertEqual(mgr.get_busy(), false, 'idle again');
    assertEqual(seen, [true, false], 'one notify each way');
});

test('async: the manager outlives a dropped reference while saving', async () => {
    const dir = makeTmpDir();
    let mgr = Ckpt.Manager.new_for_path(dir, null, 3, true);
    const p = mgr.save_async(xd(1), 1, null);
    mgr = null;
    System.gc();
    assertEqual(await p, true, 'save completed');
    assertEqual(listDir(dir), ['ckpt_1'], 'listing');
});

test('query_info reads the header; prune applies retention now', async () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 0, true);
    for (const r of [1, 2, 3, 4])
        mgr.save(xd(r), r, null);

    const info = mgr.query_info(3, Ckpt.QueryFlags.VERIFY, null);
    assertEqual(info.get_round(), 3, 'round');
    assertEqual(info.get_state_type().dup_string(), '(xd)', 'state type');
    assertEqual(info.get_state_type_string(), '(xd)', 'state type string');
    assert(info.get_size() > info.get_state_size(), 'file size includes the header');
    assertEqual(info.get_state_size(), 16, 'state size');
    assertEqual(info.get_format_version(), 1, 'format version');
    assertEqual(info.get_verified(), true, 'verified');
    assertEqual(info.get_metadata().lookup_value('ckpt-glib-version', null).unpack(),
        Ckpt.VERSION_S, 'metadata');
    const age = GLib.DateTime.new_now_utc().difference(info.get_creation_time());
    assert(age >= 0 && age < 600 * 1000000, `creation time ${age} us ago`);
    checkInfoProperties(info, 3, true);
    assertEqual(mgr.query_info(3, Ckpt.QueryFlags.NONE, null).verified, false, 'NONE does not verify');
    await assertThrows(() => mgr.query_info(9, Ckpt.QueryFlags.NONE, null), Ckpt.Error, Ckpt.Error.NOT_FOUND,
        'missing round');

    mgr.keep_total = 2;
    const pruned = [];
    mgr.connect('pruned', (m, r) => pruned.push(r));
    assertEqual(mgr.prune(Ckpt.PruneFlags.DRY_RUN, null), [2, 3], 'dry run lists');
    assertEqual(pruned, [], 'dry run deletes nothing');
    assertEqual(mgr.list_rounds(), [1, 2, 3, 4], 'nothing deleted');
    assertEqual(mgr.prune(Ckpt.PruneFlags.NONE, null), [2, 3], 'prune');
    assertEqual(pruned, [2, 3], 'pruned signals');
    assertEqual(listDir(dir), ['ckpt_1', 'ckpt_4'], 'listing');
});

// The properties of a Ckpt.Info, against its getters: what a
// Gtk.PropertyExpression or a binding reads.
function checkInfoProperties(info, round, verified) {
    assert(info instanceof GObject.Object, 'Ckpt.Info is not a GObject');
    assertEqual(info.round, round, 'round property');
    assertEqual(info.size, info.get_size(), 'size property');
    assertEqual(info.state_size, info.get_state_size(), 'state-size property');
    assertEqual(info.stateSize, info.get_state_size(), 'stateSize property');
    assertEqual(info.state_type, info.get_state_type().dup_string(), 'state-type property');
    assert(info.creation_time instanceof GLib.DateTime, 'creation-time is a GLib.DateTime');
    assertEqual(info.creation_time.to_unix(), info.get_creation_time().to_unix(), 'creation-time property');
    assertEqual(info.creation_time.get_utc_offset(), 0, 'creation-time in UTC');
    assert(info.metadata instanceof GLib.Variant, 'metadata is a GLib.Variant');
    assert(info.metadata.equal(info.get_metadata()), 'metadata property');
    assertEqual(info.metadata.get_type_string(), 'a{sv}', 'metadata type');
    assertEqual(info.format_version, 1, 'format-version property');
    assertEqual(info.verified, verified, 'verified property');
    const pspecs = GObject.Object.list_properties.call(Ckpt.Info).map(p => p.name).sort();
    assertEqual(pspecs, ['creation-time', 'format-version', 'metadata', 'round', 'size',
        'state-size', 'state-type', 'verified'], 'properties');
    for (const name of pspecs) {
        const pspec = GObject.Object.find_property.call(Ckpt.Info, name);
        assertEqual(pspec.flags & GObject.ParamFlags.WRITABLE, 0, `${name} is read-only`);
    }
}

test('query_info_async and prune_async, with flags', async () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 0, true);
    for (const r of [1, 2, 3, 4])
        await mgr.save_async(xd(r), r, null);

    checkInfoProperties(await mgr.query_info_async(2, Ckpt.QueryFlags.VERIFY, null), 2, true);
    assertEqual((await mgr.query_info_async(2, Ckpt.QueryFlags.NONE, null)).verified, false,
        'query_info_async without VERIFY');
    await assertThrows(() => mgr.query_info_async(9, Ckpt.QueryFlags.VERIFY, null), Ckpt.Error,
        Ckpt.Error.NOT_FOUND, 'query_info_async of a missing round');

    mgr.keep_total = 2;
    const log = recordSignals(mgr);
    const promise = mgr.prune_async(Ckpt.PruneFlags.DRY_RUN, null);
    assertEqual(log.pruned, [], 'no signal before the callback');
    assertEqual(await promise, [2, 3], 'prune_async dry run');
    assertEqual(listDir(dir), ['ckpt_1', 'ckpt_2', 'ckpt_3', 'ckpt_4'], 'async dry run deletes nothing');
    assertEqual(await mgr.prune_async(Ckpt.PruneFlags.NONE, null), [2, 3], 'prune_async');
    assertEqual(log.pruned, [2, 3], 'pruned signals before the callback');
    assertEqual(listDir(dir), ['ckpt_1', 'ckpt_4'], 'listing');
    assertEqual(await mgr.prune_async(Ckpt.PruneFlags.NONE, null), [], 'nothing left to prune');
});

test('new Ckpt.Manager({root}) without init() works, sync and async; a bad prefix is an error', async () => {
    const dir = makeTmpDir();
    const mgr = new Ckpt.Manager({root: Gio.File.new_for_path(dir), keep_total: 0, durable: false});
    assertEqual(mgr.durable_storage, true, 'durable-storage');
    assertEqual(await mgr.save_async(xd(1), 1, null), true, 'save_async');
    const [v, r] = await mgr.load_latest_async(null, null);
    assertEqual([v.deepUnpack(), r], [[1, 0.5], 1], 'load_latest_async');
    assertEqual(mgr.save(xd(2), 2, null), true, 'save');
    assertEqual(listDir(dir), ['ckpt_1', 'ckpt_2'], 'listing');

    const bad = new Ckpt.Manager({root: Gio.File.new_for_path(dir), prefix: 'a/b'});
    assertEqual(bad.get_file(1), null, 'get_file of a bad manager');
    await assertThrows(() => bad.save(xd(3), 3, null), Ckpt.Error, Ckpt.Error.INVALID_ARGUMENT, 'save');
    await assertThrows(() => bad.save_async(xd(3), 3, null), Ckpt.Error, Ckpt.Error.INVALID_ARGUMENT,
        'save_async');
    await assertThrows(() => bad.load_latest_async(null, null), Ckpt.Error, Ckpt.Error.INVALID_ARGUMENT,
        'load_latest_async');
    await assertThrows(() => bad.delete_async(1, null), Ckpt.Error, Ckpt.Error.INVALID_ARGUMENT,
        'delete_async');
    assertEqual(listDir(dir), ['ckpt_1', 'ckpt_2'], 'nothing written');
});

test('recovery: a damaged newest round is deleted with delete() or delete_async()', async () => {
    const dir = makeTmpDir();
    const mgr = Ckpt.Manager.new_for_path(dir, null, 0, true);
    mgr.durable = false;
    const log = recordSignals(mgr);
    for (let r = 0; r <= 2; r++)
        mgr.save(xd(r), r, null);
    damage(mgr.get_file(2));
    const [, round] = mgr.load_latest_or_default(xd(0), null);
    assertEqual(round, 1, 'falls back to round 1');
    const e = await assertThrows(() => mgr.save(xd(2), 2, null), Ckpt.Error, Ckpt.Error.EXISTS, 'save 2');
    assert(e.message.includes('is damaged') && e.message.includes('ckpt delete'), e.message);
    assertEqual(mgr.delete(2, null), true, 'delete');
    assertEqual(log.pruned, [2], 'pruned signal');
    assertEqual(mgr.save(xd(2), 2, null), true, 'save past it');

    damage(mgr.get_file(2));
    assertEqual(await mgr.delete_async(2, null), true, 'delete_async');
    assertEqual(log.pruned, [2, 2], 'pruned signal (async)');
    await assertThrows(() => mgr.delete_async(2, null), Ckpt.Error, Ckpt.Error.NOT_FOUND, 'delete_async again');
    await assertThrows(() => mgr.delete(2, null), Ckpt.Error, Ckpt.Error.NOT_FOUND, 'delete again');
    assertEqual(listDir(dir), ['ckpt_0', 'ckpt_1'], 'listing');
});

test('error quark and constants', () => {
    const q = Ckpt.error_quark();
    assertEqual(GLib.quark_to_string(q), 'ckpt-error-quark', 'quark name');
    assertEqual(Ckpt.Error.quark(), q, 'Ckpt.Error.quark()');
    assertEqual(Ckpt.MANAGER_DEFAULT_PREFIX, 'ckpt_', 'MANAGER_DEFAULT_PREFIX');
    assertEqual(Ckpt.MANAGER_DEFAULT_KEEP_TOTAL, 5, 'MANAGER_DEFAULT_KEEP_TOTAL');
    assertEqual(typeof Ckpt.MAJOR_VERSION, 'number', 'MAJOR_VERSION');
    assertEqual(Ckpt.VERSION_S, `${Ckpt.MAJOR_VERSION}.${Ckpt.MINOR_VERSION}.${Ckpt.MICRO_VERSION}`, 'VERSION_S');
    assertEqual([Ckpt.get_major_version(), Ckpt.get_minor_version(), Ckpt.get_micro_version()],
        [Ckpt.MAJOR_VERSION, Ckpt.MINOR_VERSION, Ckpt.MICRO_VERSION], 'run-time version');
    assertEqual(Ckpt.Error.FAILED, 8, 'Error.FAILED, after the codes that were there first');
    assertEqual([Ckpt.QueryFlags.NONE, Ckpt.QueryFlags.VERIFY, Ckpt.PruneFlags.NONE, Ckpt.PruneFlags.DRY_RUN],
        [0, 1, 0, 1], 'flags');
    assert(GObject.type_is_a(Ckpt.QueryFlags.$gtype, GObject.TYPE_FLAGS), 'QueryFlags is a GFlags type');
    assert(GObject.type_is_a(Ckpt.PruneFlags.$gtype, GObject.TYPE_FLAGS), 'PruneFlags is a GFlags type');
});

test('every function of the Ckpt namespace was called', () => {
    const symbols = girSymbols();
    assert(symbols !== null, 'Ckpt-1.0.gir not found next to the typelib');
    assert(symbols.size >= 28, `only ${symbols.size} symbols in the GIR`);
    const missed = [...symbols].filter(s => !called.has(s)).sort();
    assertEqual(missed, [], 'not called');
});

/* ------------------------------------------------------------------- main */

async function main() {
    let failures = 0;
    let n = 0;
    for (const [name, fn] of cases) {
        n++;
        try {
            // eslint-disable-next-line no-await-in-loop
            await fn();
            print(`ok ${n} - ${name}`);
        } catch (e) {
            failures++;
            print(`not ok ${n} - ${name}`);
            for (const line of `${e}\n${e.stack ?? ''}`.trimEnd().split('\n'))
                print(`# ${line}`);
        }
    }
    print(`1..${n}`);
    for (const dir of tmpDirs)
        rmTree(Gio.File.new_for_path(dir));
    return failures;
}

const loop = new GLib.MainLoop(null, false);
let exitCode = 1;
main().then(failures => {
    exitCode = failures === 0 ? 0 : 1;
    if (failures > 0)
        print(`# ${failures} of ${cases.length} failed`);
}, e => {
    print(`# Bail out! ${e}\n${e.stack}`);
}).finally(() => loop.quit());
loop.run();
System.exit(exitCode);
