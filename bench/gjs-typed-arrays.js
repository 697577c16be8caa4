// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GJS typed arrays saved and loaded as tensors, with the idiom of
// docs/javascript.md "Typed arrays and tensors", against a plain GLib.Variant
// 'ad' (the slow way, at a smaller size). Run by bench/run.sh (step 5) or:
//
//   GI_TYPELIB_PATH=_build/ckpt-glib LD_LIBRARY_PATH=_build/ckpt-glib \
//     gjs -m bench/gjs-typed-arrays.js --dir /var/tmp [--reps 5] [--size-mib 64]
//
// Prints raw samples, one a line, as bench/ckpt-bench does:
//   <rep> TAB <size> TAB gjs TAB <op> TAB <seconds> TAB <bytes>
// sizes: f64, f32, i32, u8 (a 1-D array of --size-mib MiB), 2d-f32 (a square
// float32 matrix of that size); ops:
//   build           typed array -> tensor GLib.Variant (one copy of the bytes)
//   save_durable    manager.save() of the tensor built (durable)
//   save_nodurable  the same with durable = false
//   load            manager.load() (verified) -> typed array, + touch (one
//                   element per 64 bytes read)
//   load_unverified the same with verify = false
// Repetition 0 is a warm-up. With --slow, also the GLib.Variant('ad', array)
// and deepUnpack() of 1 MiB (size "ad-1m"), for comparison.

import Ckpt from 'gi://Ckpt?version=1.0';
import GLib from 'gi://GLib';
import System from 'system';

/* ----------------------------------- the idiom of docs/javascript.md */

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

/* ---------------------------------------------------------- the bench */

function parseArgs(argv) {
    const o = {dir: null, reps: 5, sizeMiB: 64, slow: false};
    for (let i = 0; i < argv.length; i++) {
        switch (argv[i]) {
        case '--dir': o.dir = argv[++i]; break;
        case '--reps': o.reps = Number(argv[++i]); break;
        case '--size-mib': o.sizeMiB = Number(argv[++i]); break;
        case '--slow': o.slow = true; break;
        default:
            printerr(`gjs-typed-arrays.js: unknown option ${argv[i]}`);
            System.exit(2);
        }
    }
    if (o.dir === null) {
        printerr('gjs-typed-arrays.js: --dir DIR is required');
        System.exit(2);
    }
    return o;
}

const now = () => GLib.get_monotonic_time() / 1e6;

function emit(rep, size, op, seconds, bytes) {
    print(`${rep}\t${size}\tgjs\t${op}\t${seconds.toFixed(6)}\t${bytes}`);
}

let sink = 0;

function touch(array) {
    const step = Math.max(1, 64 / array.BYTES_PER_ELEMENT);
    let s = 0;
    if (array instanceof BigInt64Array || array instanceof BigUint64Array) {
        for (let i = 0; i < array.length; i += step)
            s += Number(array[i] & 1n);
    } else {
        for (let i = 0; i < array.length; i += step)
            s += array[i];
    }
    sink += s;
}

function makeCase(name, nbytes) {
    let array, shape;
    switch (name) {
    case 'f64': array = new Float64Array(nbytes / 8); break;
    case 'f32': array = new Float32Array(nbytes / 4); break;
    case 'i32': array = new Int32Array(nbytes / 4); break;
    case 'u8': array = new Uint8Array(nbytes); break;
    case '2d-f32': {
        const side = Math.floor(Math.sqrt(nbytes / 4));
        array = new Float32Array(side * side);
        shape = [side, side];
        break;
    }
    }
    for (let i = 0; i < array.length; i++)
        array[i] = (i * 2654435761) % 1000003 / 7.0 % 250;
    return [array, shape ?? [array.length]];
}

function rmTree(dir) {
    GLib.spawn_command_line_sync(`rm -rf ${GLib.shell_quote(dir)}`);
}

function main(argv) {
    const o = parseArgs(argv);
    const nbytes = o.sizeMiB * 1024 * 1024;
    const work = GLib.build_filenamev([o.dir, `gjs-bench.${GLib.uuid_string_random()}`]);
    GLib.mkdir_with_parents(work, 0o755);
    try {
        let round = 1;
        for (let rep = 0; rep <= o.reps; rep++) {
            for (const name of ['f64', 'f32', 'i32', 'u8', '2d-f32']) {
                const [array, shape] = makeCase(name, nbytes);
                const mgr = Ckpt.Manager.new_for_path(GLib.build_filenamev([work, name]), null, 1, false);
                for (const durable of [true, false]) {
                    System.gc();
                    let t0 = now();
                    const tensor = tensorFromTypedArray(array, shape);
                    const build = now() - t0;
                    mgr.durable = durable;
                    t0 = now();
                    mgr.save(tensor, round, null);
                    emit(rep, name, durable ? 'save_durable' : 'save_nodurable', now() - t0, array.byteLength);
                    if (durable)
                        emit(rep, name, 'build', build, array.byteLength);
                    for (const verify of [true, false]) {
                        mgr.verify = verify;
                        System.gc();
                        t0 = now();
                        const [loaded, loadedShape] = typedArrayFromTensor(mgr.load(null, round, null));
                        touch(loaded);
                        const t = now() - t0;
                        if (durable)
                            emit(rep, name, verify ? 'load' : 'load_unverified', t, array.byteLength);
                        if (loaded.length !== array.length || loaded[12345] !== array[12345] ||
                            loadedShape.join() !== shape.join())
                            throw new Error(`${name}: loaded values differ`);
                    }
                    round++;
                }
            }
            if (o.slow) {
                const n = (1024 * 1024) / 8;
                const plain = Array.from({length: n}, (_, i) => i / 7);
                let t0 = now();
                const v = new GLib.Variant('ad', plain);
                emit(rep, 'ad-1m', 'build_ad', now() - t0, n * 8);
                t0 = now();
                v.deepUnpack();
                emit(rep, 'ad-1m', 'deepUnpack_ad', now() - t0, n * 8);
            }
        }
    } finally {
        rmTree(work);
    }
}

main(ARGV);
