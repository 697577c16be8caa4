# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 14: values come back as the Python types they were saved as; the
introspected load(type, round_num) order; what the async wrappers return."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

import gi

gi.require_version('Ckpt', '1.0')
from gi.repository import Ckpt, GLib  # noqa: E402
from gi.module import get_introspection_module  # noqa: E402

try:
    import numpy as np
except ImportError:  # pragma: no cover
    np = None

needs_numpy = unittest.skipUnless(np is not None, 'numpy is not installed')
Plain = get_introspection_module('Ckpt').Manager


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='ckpt-py-types-')
        self.mgr = Ckpt.Manager(root=os.path.join(self.tmp, 'ck'), durable=False, keep_total=0)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_loop(self, done):
        ctx = GLib.MainContext.default()
        while not done():
            ctx.iteration(True)


class LoadOrderTests(Base):
    def test_both_orders(self):
        self.mgr.save({'a': 1}, 3)
        cases = [
            ((3,), {}), ((3, None), {}), ((3, 'a{sv}'), {}), ((3, 'a{sv}', None), {}),
            ((None, 3), {}), (('a{sv}', 3), {}), ((GLib.VariantType.new('a{sv}'), 3, None), {}),
            ((), {'round_num': 3}), ((), {'type': 'a{sv}', 'round_num': 3}),
            ((3,), {'cancellable': None}), ((None, 3), {'cancellable': None}),
        ]
        for args, kwargs in cases:
            with self.subTest(args=args, kwargs=kwargs):
                self.assertEqual(self.mgr.load(*args, **kwargs), {'a': 1})
        # The type is checked in either order.
        for args in ((3, '(xd)'), ('(xd)', 3)):
            with self.assertRaises(GLib.Error) as cm:
                self.mgr.load(*args)
            self.assertTrue(cm.exception.matches(Ckpt.error_quark(), Ckpt.Error.TYPE_MISMATCH))

    def test_bad_arguments(self):
        for args, kwargs in [(('a{sv}',), {}), ((None, 'x'), {}), ((True,), {}),
                             ((3, None, None, 4), {}), ((3,), {'round_num': 3}),
                             ((3,), {'bogus': 1}), ((3.0,), {})]:
            with self.subTest(args=args, kwargs=kwargs):
                with self.assertRaises(TypeError):
                    self.mgr.load(*args, **kwargs)

    def test_load_async_both_orders(self):
        self.mgr.save({'a': 1}, 3)
        results = []

        def done(mgr, result, tag=None):
            results.append((tag, mgr.load_finish(result)))

        self.mgr.load_async(3, None, None, done, 'ours')
        self.mgr.load_async(None, 3, None, done, 'introspected')
        self.mgr.load_async('a{sv}', 3, None, done, 'typed')
        self.mgr.load_async(round_num=3, callback=done)  # no user_data
        self.run_loop(lambda: len(results) == 4)
        self.assertEqual(results[:3], [('ours', {'a': 1}), ('introspected', {'a': 1}),
                                       ('typed', {'a': 1})])


class AsyncReturnTests(Base):
    """The wrappers return what the introspected calls return (None with
    PyGObject 3.42; an awaitable where PyGObject makes one)."""

    def test_returns_the_underlying_value(self):
        sentinel = object()
        names = ['save_async', 'save_full_async', 'load_async', 'load_latest_async',
                 'load_latest_or_default_async', 'list_rounds_async']
        saved = {name: getattr(Plain, name) for name in names}
        try:
            for name in names:
                setattr(Plain, name, lambda *a, **k: sentinel)
            calls = {
                'save_async': lambda: self.mgr.save_async({'a': 1}, 1),
                'load_async': lambda: self.mgr.load_async(1),
                'load_latest_async': lambda: self.mgr.load_latest_async(),
                'load_latest_or_default_async': lambda: self.mgr.load_latest_or_default_async({}),
                'list_rounds_async': lambda: self.mgr.list_rounds_async(),
            }
            for name, call in calls.items():
                with self.subTest(name=name):
                    self.assertIs(call(), sentinel)
        finally:
            for name, f in saved.items():
                setattr(Plain, name, f)

    def test_real_calls(self):
        out = []
        r = self.mgr.save_async({'a': 1}, 1, None, lambda m, res: out.append(m.save_finish(res)))
        self.assertIsNone(r)  # PyGObject 3.42: no awaitable without callback support
        self.run_loop(lambda: out)
        self.assertEqual(out, [True])


class ExactTypesTests(Base):
    def check(self, value):
        self.mgr.save(value, 1)
        back = self.mgr.load(1)
        self.mgr.delete(1, None)
        self.assertEqual(back, value)
        return back

    def test_lists_stay_lists(self):
        back = self.check({'history': [0.5, 0.25], 'steps': [1, 2, 3], 'flags': [True, False],
                           'nested': [[1.0], []], 'pairs': [(1, 'a')]})
        for key in ('history', 'steps', 'flags', 'nested', 'pairs'):
            self.assertIs(type(back[key]), list, key)
        back['history'].append(0.125)

    def test_tuples_stay_tuples(self):
        back = self.check({'t': (1, 2.0, 'x'), 'betas': (0.9, 0.999), 'e': ()})
        self.assertIs(type(back['t']), tuple)
        self.assertIs(type(back['betas']), tuple)

    def test_none(self):
        value = {'a': None, 'l': [1.0, None, 2.0], 'n': [None, None], 't': (None, 1),
                 'd': {0: None}, 'lt': [(1, None), (2, 'x')], 'll': [[None], [1]]}
        v = Ckpt.to_variant(value)
        self.assertEqual(v.lookup_value('a', None).get_type_string(), 'mv')
        self.assertEqual(v.lookup_value('l', None).get_type_string(), 'amd')
        self.assertEqual(v.lookup_value('n', None).get_type_string(), 'amv')
        self.assertEqual(v.lookup_value('t', None).get_type_string(), '(mvx)')
        self.assertEqual(v.lookup_value('lt', None).get_type_string(), 'a(xms)')
        self.assertEqual(v.lookup_value('ll', None).get_type_string(), 'aamx')
        self.check(value)
        self.assertIsNone(Ckpt.from_variant(Ckpt.to_variant(None)))
        self.check(None)

    def test_int_keys(self):
        value = {'state': {0: {'step': 3}, 1: {'step': 4}, -5: {}}, 'e': {}}
        v = Ckpt.to_variant(value)
        self.assertEqual(v.lookup_value('state', None).get_type_string(), 'a{xv}')
        back = self.check(value)
        self.assertEqual(list(back['state']), [0, 1, -5])

    def test_bytes(self):
        back = self.check({'b': b'\x00\xff', 'ba': bytearray(b'x')})
        self.assertIs(type(back['b']), bytes)

    @needs_numpy
    def test_numpy(self):
        value = {
            'f32': np.float32(1.1), 'f64': np.float64(0.1), 'i64': np.int64(-3),
            'u8': np.arange(10, dtype=np.uint8), 'a': np.arange(6.0).reshape(2, 3),
            'big': np.arange(3, dtype='>i4'), 'b': np.bool_(True),
            'legacy': np.random.RandomState(3).get_state(),
        }
        self.mgr.save(value, 1)
        back = self.mgr.load(1)
        for key in ('f32', 'f64', 'i64', 'b'):
            self.assertIs(type(back[key]), type(value[key]), key)
            self.assertEqual(back[key], value[key])
        self.assertEqual(repr(back['f32']), repr(np.float32(1.1)))
        for key in ('u8', 'a', 'big'):
            self.assertIsInstance(back[key], np.ndarray)
            self.assertEqual((back[key].dtype, back[key].shape), (value[key].dtype, value[key].shape))
            self.assertEqual(back[key].tobytes(), value[key].tobytes())
        # numpy's random state restores the generator exactly.
        r = np.random.RandomState()
        r.set_state(back['legacy'])
        self.assertEqual(r.random(), np.random.RandomState(3).random())
        # The record is in the header metadata.
        meta = self.mgr.query_info(1, Ckpt.QueryFlags.NONE, None).get_metadata()
        self.assertEqual(meta.lookup_value('python-types', None).get_string(), 'sssnnnsn')

    @needs_numpy
    def test_load_latest_and_async(self):
        value = {'s': np.float32(2.5), 'a': np.ones(3, np.int16)}
        self.mgr.save(value, 2)
        back, r = self.mgr.load_latest()
        self.assertEqual(r, 2)
        self.assertIs(type(back['s']), np.float32)
        out = []
        self.mgr.load_async(2, None, None, lambda m, res: out.append(m.load_finish(res)))
        self.mgr.load_latest_async(None, None, lambda m, res: out.append(m.load_latest_finish(res)[0]))
        self.run_loop(lambda: len(out) == 2)
        for o in out:
            self.assertIs(type(o['s']), np.float32)
            self.assertEqual(o['a'].dtype, np.int16)

    @needs_numpy
    def test_load_latest_or_default_records(self):
        default = {'s': np.float32(2.5)}
        back, r = self.mgr.load_latest_or_default(default)
        self.assertEqual(r, 0)
        self.assertIs(type(back['s']), np.float32)
        self.assertIs(type(self.mgr.load(0)['s']), np.float32)
        # Async, in a second root.
        mgr = Ckpt.Manager(root=os.path.join(self.tmp, 'ck2'), durable=False)
        out = []
        mgr.load_latest_or_default_async(default, None,
                                         lambda m, res: out.append(m.load_latest_or_default_finish(res)))
        self.run_loop(lambda: out)
        self.assertEqual(out[0][1], 0)
        self.assertIs(type(out[0][0]['s']), np.float32)
        self.assertIs(type(mgr.load(0)['s']), np.float32)
        mgr.load_latest_or_default_async(default, None,
                                         lambda m, res: out.append(m.load_latest_or_default_finish(res)))
        self.run_loop(lambda: len(out) == 2)
        self.assertIs(type(out[1][0]['s']), np.float32)

    @needs_numpy
    def test_variant_inside_keeps_record_aligned(self):
        # A (satay) inside a GLib.Variant given as it is takes a place in the
        # record, so the tensors after it keep their types.
        raw = GLib.Variant('(satay)', ('<f4', [1], b'\0\0\x80?'))
        value = {'raw': raw, 'wrapped': GLib.Variant('av', [GLib.Variant('v', raw)]),
                 's': np.float32(3)}
        self.mgr.save(value, 1)
        back = self.mgr.load(1)
        self.assertIs(type(back['s']), np.float32)
        self.assertIsInstance(back['raw'], np.ndarray)

    @needs_numpy
    def test_old_checkpoints_load(self):
        # Written by the previous override (no record; 1-D float64 arrays as ad):
        # tensors come back as numpy arrays, ad as a list.
        Plain.save(self.mgr, GLib.Variant('a{sv}', {
            'w': GLib.Variant('ad', [1.0, 2.0]),
            't': GLib.Variant('(satay)', ('<f4', [2], b'\0' * 8))}), 1, None)
        back = self.mgr.load(1)
        self.assertEqual(back['w'], [1.0, 2.0])
        self.assertEqual(back['t'].dtype, np.float32)
        self.assertEqual(self.mgr.load(1, numpy=True)['w'].dtype, np.float64)

    def test_bfloat16_without_torch_is_a_tensor(self):
        v = GLib.Variant('(satay)', ('<bf2', [2], b'\x80\x3f\x00\x40'))
        self.assertEqual(Ckpt.from_variant(v), Ckpt.Tensor('<bf2', (2,), b'\x80\x3f\x00\x40'))
        self.assertEqual(Ckpt.to_variant(Ckpt.Tensor('<bf2', (2,), b'\x80\x3f\x00\x40')), v)

    def test_user_metadata_with_save_full(self):
        self.mgr.save_full({'a': 1}, 1, {'note': GLib.Variant('s', 'hi')})
        meta = self.mgr.query_info(1, Ckpt.QueryFlags.NONE, None).get_metadata()
        self.assertEqual(meta.lookup_value('note', None).get_string(), 'hi')
        out = []
        self.mgr.save_full_async({'a': 2}, 2, None, None, lambda m, res: out.append(m.save_finish(res)))
        self.run_loop(lambda: out)
        self.assertEqual(self.mgr.load(2), {'a': 2})


class WithoutNumpyTests(unittest.TestCase):
    def test_exact_without_numpy(self):
        script = textwrap.dedent('''
            import sys, tempfile, os
            sys.modules['numpy'] = None
            import gi
            gi.require_version('Ckpt', '1.0')
            from gi.repository import Ckpt
            mgr = Ckpt.Manager(root=os.path.join(tempfile.mkdtemp(), 'c'), durable=False)
            value = {'h': [0.5], 'n': None, 'k': {1: 'a'}, 't': (1, None),
                     'T': Ckpt.Tensor('<f4', (1,), b'\\0' * 4)}
            mgr.save(value, 1)
            back = mgr.load(1)
            assert back == value, back
            assert mgr.load(None, 1) == value
            print('torch' in sys.modules)
        ''')
        out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), 'False')


if __name__ == '__main__':
    unittest.main()
