# SPDX-License-Identifier: LGPL-2.1-or-later
"""Ckpt.Manager from Python: construction, sync and async calls, signals, errors."""

import os
import pathlib
import shutil
import tempfile
import unittest

import gi

gi.require_version('Ckpt', '1.0')
from gi.repository import Ckpt, Gio, GLib, GObject  # noqa: E402

try:
    import numpy as np
except ImportError:  # pragma: no cover
    np = None

STATE = {'weights': [0.1, 0.2], 'round': 3, 'opt': {'lr': 0.01}}


def plain(value):
    """value with numpy arrays as lists, to compare with Python literals."""
    if np is not None and isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


class ManagerTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='ckpt-py-')
        self.root = os.path.join(self.tmp, 'checkpoints')

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def manager(self, **kwargs):
        kwargs.setdefault('root', Gio.File.new_for_path(self.root))
        kwargs.setdefault('durable', False)
        return Ckpt.Manager(**kwargs)

    def listing(self):
        if not os.path.isdir(self.root):
            return []
        return sorted(os.listdir(self.root))

    def assertCkptError(self, cm, code):
        e = cm.exception
        self.assertIsInstance(e, GLib.Error)
        self.assertTrue(e.matches(Ckpt.error_quark(), code),
                        '%s: expected %s' % (e, code))
        self.assertEqual(e.domain, GLib.quark_to_string(Ckpt.error_quark()))
        self.assertEqual(e.code, int(code))

    def flip_byte(self, round_num, offset=70):
        path = os.path.join(self.root, 'ckpt_%d' % round_num)
        with open(path, 'r+b') as f:
            f.seek(offset)
            b = f.read(1)
            f.seek(offset)
            f.write(bytes([b[0] ^ 0x01]))


class ConstructionTests(ManagerTestCase):
    def test_keywords(self):
        root = Gio.File.new_for_path(self.root)
        mgr = Ckpt.Manager(root=root, prefix='run_', keep_total=3, keep_first=False,
                           durable=False)
        self.assertIsInstance(mgr, Ckpt.Manager)
        self.assertIsInstance(mgr, Gio.Initable)
        self.assertTrue(mgr.get_root().equal(root))
        self.assertEqual(mgr.props.prefix, 'run_')
        self.assertEqual(mgr.get_prefix(), 'run_')
        self.assertEqual(mgr.props.keep_total, 3)
        self.assertFalse(mgr.props.keep_first)
        self.assertFalse(mgr.props.durable)
        self.assertFalse(mgr.props.busy)
        self.assertEqual(mgr.get_file(7).get_path(), os.path.join(self.root, 'run_7'))
        # Construction never touches the disk.
        self.assertFalse(os.path.exists(self.root))
        mgr.save({'a': 1}, 7)
        self.assertEqual(self.listing(), ['run_7'])

    def test_keyword_defaults(self):
        mgr = Ckpt.Manager(root=Gio.File.new_for_path(self.root))
        self.assertEqual(mgr.props.prefix, Ckpt.MANAGER_DEFAULT_PREFIX)
        self.assertEqual(mgr.props.prefix, 'ckpt_')
        self.assertEqual(mgr.props.keep_total, Ckpt.MANAGER_DEFAULT_KEEP_TOTAL)
        self.assertTrue(mgr.props.keep_first)
        self.assertTrue(mgr.props.durable)
        # A local root can be flushed to stable storage.
        self.assertTrue(mgr.props.durable_storage)
        self.assertTrue(mgr.get_durable_storage())

    def test_keyword_root_as_path(self):
        for root in (self.root, pathlib.Path(self.root)):
            mgr = Ckpt.Manager(root=root, keep_total=2)
            self.assertEqual(mgr.get_root().get_path(), self.root)

    def test_keywords_call_init(self):
        # The override's __init__ runs GInitable.init(), so a bad prefix
        # fails at construction rather than at the first save.
        for prefix in ('', 'a/b', '.hidden', 'run2'):
            with self.subTest(prefix=prefix):
                with self.assertRaises(GLib.Error) as cm:
                    Ckpt.Manager(root=Gio.File.new_for_path(self.root), prefix=prefix)
                self.assertCkptError(cm, Ckpt.Error.INVALID_ARGUMENT)
        with self.assertRaises(GLib.Error) as cm:
            Ckpt.Manager(keep_total=3)
        self.assertCkptError(cm, Ckpt.Error.INVALID_ARGUMENT)
        with self.assertRaises(TypeError):
            Ckpt.Manager(Gio.File.new_for_path(self.root))

    def test_new(self):
        root = Gio.File.new_for_path(self.root)
        mgr = Ckpt.Manager.new(root, 'p_', 2, False)
        self.assertIsInstance(mgr, Ckpt.Manager)
        self.assertEqual((mgr.props.prefix, mgr.props.keep_total, mgr.props.keep_first),
                         ('p_', 2, False))
        mgr = Ckpt.Manager.new(root)
        self.assertEqual((mgr.props.prefix, mgr.props.keep_total, mgr.props.keep_first),
                         ('ckpt_', 5, True))
        mgr = Ckpt.Manager.new(root, keep_total=0)
        self.assertEqual(mgr.props.keep_total, 0)
        with self.assertRaises(GLib.Error) as cm:
            Ckpt.Manager.new(root, 'x/y', 3, True)
        self.assertCkptError(cm, Ckpt.Error.INVALID_ARGUMENT)

    def test_new_for_path(self):
        mgr = Ckpt.Manager.new_for_path(self.root, None, 3, True)
        self.assertIsInstance(mgr, Ckpt.Manager)
        self.assertEqual(mgr.get_root().get_path(), self.root)
        self.assertEqual(mgr.props.prefix, 'ckpt_')
        self.assertEqual(mgr.props.keep_total, 3)
        mgr = Ckpt.Manager.new_for_path(pathlib.Path(self.root), prefix='q_')
        self.assertEqual((mgr.props.prefix, mgr.props.keep_total), ('q_', 5))
        with self.assertRaises(GLib.Error) as cm:
            Ckpt.Manager.new_for_path(self.root, '')
        self.assertCkptError(cm, Ckpt.Error.INVALID_ARGUMENT)

    def test_properties_settable(self):
        mgr = self.manager(keep_total=3)
        notified = []
        mgr.connect('notify::keep-total', lambda m, p: notified.append(p.name))
        mgr.props.keep_total = 1
        mgr.set_keep_first(False)
        mgr.set_durable(False)
        self.assertEqual(mgr.get_keep_total(), 1)
        self.assertFalse(mgr.get_keep_first())
        self.assertEqual(notified, ['keep-total'])


class SyncTests(ManagerTestCase):
    def test_save_and_load(self):
        mgr = self.manager()
        self.assertTrue(mgr.save(STATE, 3))
        self.assertEqual(self.listing(), ['ckpt_3'])
        back = mgr.load(3)
        # Exactly what was saved: the list of floats is a list again (issue
        # 14; it used to come back as a numpy array).
        self.assertEqual(back, STATE)
        self.assertIs(type(back['weights']), list)
        self.assertEqual(mgr.load(3, numpy=False), STATE)
        if np is not None:
            self.assertIsInstance(mgr.load(3, numpy=True)['weights'], np.ndarray)
        self.assertEqual(plain(mgr.load(3, 'a{sv}')), STATE)
        self.assertEqual(plain(mgr.load(3, GLib.VariantType.new('a{sv}'))), STATE)
        self.assertEqual(plain(mgr.load(round_num=3, type='a{?*}')), STATE)

    def test_raw_variants(self):
        mgr = self.manager()
        v = GLib.Variant('(xsad)', (5, 'five', [1.0, 2.0]))
        mgr.save(v, 5)
        raw = mgr.load(5, raw=True)
        self.assertIsInstance(raw, GLib.Variant)
        self.assertEqual(raw, v)
        self.assertEqual(plain(mgr.load(5)), (5, 'five', [1.0, 2.0]))
        value, round_num = mgr.load_latest(raw=True)
        self.assertEqual((value, round_num), (v, 5))
        value, round_num = mgr.load_latest_or_default(GLib.Variant('(xsad)', (0, '', [])),
                                                      raw=True)
        self.assertEqual((value, round_num), (v, 5))
        # The state saved from Python values is the documented GVariant.
        mgr.save(STATE, 6)
        self.assertEqual(mgr.load(6, raw=True), Ckpt.to_variant(STATE))
        self.assertEqual(mgr.load(6, raw=True).get_type_string(), 'a{sv}')

    def test_load_latest(self):
        mgr = self.manager(keep_total=0)
        self.assertEqual(mgr.load_latest(), (None, -1))
        self.assertEqual(mgr.load_latest(raw=True), (None, -1))
        os.makedirs(self.root)
        self.assertEqual(mgr.load_latest('a{sv}'), (None, -1))
        for r in (1, 2, 10):
            mgr.save({'r': r}, r)
        self.assertEqual(mgr.load_latest(), ({'r': 10}, 10))
        self.assertEqual(mgr.load_latest('a{sv}'), ({'r': 10}, 10))
        value, round_num = mgr.load_latest()
        self.assertIsInstance(round_num, int)

    def test_load_latest_or_default(self):
        mgr = self.manager()
        saved = []
        mgr.connect('saved', lambda m, r, f: saved.append(r))
        default = {'round': 0, 'weights': [0.0, 0.0, 0.0], 'history': []}
        value, round_num = mgr.load_latest_or_default(default)
        self.assertEqual(round_num, 0)
        self.assertEqual(plain(value), default)
        self.assertEqual(saved, [0])
        self.assertEqual(self.listing(), ['ckpt_0'])
        mgr.save({'round': 1, 'weights': [1.0, 2.0, 3.0], 'history': [0.5]}, 1)
        value, round_num = mgr.load_latest_or_default(default)
        self.assertEqual(round_num, 1)
        self.assertEqual(plain(value), {'round': 1, 'weights': [1.0, 2.0, 3.0], 'history': [0.5]})
        self.assertEqual(saved, [0, 1])

    def test_list_rounds(self):
        mgr = self.manager(keep_total=0)
        self.assertEqual(mgr.list_rounds(), [])
        self.assertIs(type(mgr.list_rounds()), list)
        for r in (3, 1, 20, 2):
            mgr.save([r], r)
        rounds = mgr.list_rounds()
        self.assertEqual(rounds, [1, 2, 3, 20])
        self.assertTrue(all(type(r) is int for r in rounds))
        # Other files do not count.
        for name in ('ckpt_01', 'ckpt_x', 'other', 'ckpt_'):
            with open(os.path.join(self.root, name), 'w') as f:
                f.write('x')
        self.assertEqual(mgr.list_rounds(), [1, 2, 3, 20])

    def test_retention(self):
        cases = [
            (dict(keep_total=3, keep_first=True), [1, 3, 4], [2]),
            (dict(keep_total=3, keep_first=False), [2, 3, 4], [1]),
            (dict(keep_total=1, keep_first=True), [1, 4], [2, 3]),
            (dict(keep_total=0), [1, 2, 3, 4], []),
        ]
        for kwargs, kept, pruned_expected in cases:
            with self.subTest(**kwargs):
                shutil.rmtree(self.root, ignore_errors=True)
                mgr = self.manager(**kwargs)
                pruned = []
                mgr.connect('pruned', lambda m, r, f: pruned.append(r))
                for r in range(1, 5):
                    mgr.save({'r': r}, r)
                self.assertEqual(mgr.list_rounds(), kept)
                self.assertEqual(self.listing(), ['ckpt_%d' % r for r in kept])
                self.assertEqual(pruned, pruned_expected)

    def test_saved_and_pruned_signals(self):
        mgr = self.manager(keep_total=2, keep_first=False)
        events = []

        def on_saved(m, round_num, file):
            self.assertIs(m, mgr)
            self.assertIsInstance(file, Gio.File)
            self.assertTrue(file.query_exists(None))
            events.append(('saved', round_num, file.get_path()))

        def on_pruned(m, round_num, file):
            self.assertIsInstance(file, Gio.File)
            self.assertFalse(file.query_exists(None))
            events.append(('pruned', round_num, file.get_path()))

        mgr.connect('saved', on_saved)
        mgr.connect('pruned', on_pruned)
        for r in (1, 2, 3, 4):
            mgr.save(r, r)
        p = lambda r: os.path.join(self.root, 'ckpt_%d' % r)  # noqa: E731
        self.assertEqual(events, [
            ('saved', 1, p(1)), ('saved', 2, p(2)),
            ('saved', 3, p(3)), ('pruned', 1, p(1)),
            ('saved', 4, p(4)), ('pruned', 2, p(2)),
        ])

    def test_pruned_several_ascending(self):
        mgr = self.manager(keep_total=0, keep_first=False)
        for r in range(1, 6):
            mgr.save(r, r)
        pruned = []
        mgr.connect('pruned', lambda m, r, f: pruned.append(r))
        mgr.props.keep_total = 2
        mgr.save(6, 6)
        self.assertEqual(pruned, [1, 2, 3, 4])
        self.assertEqual(mgr.list_rounds(), [5, 6])

    def test_corrupt_signal_and_fallback(self):
        mgr = self.manager(keep_total=0)
        mgr.save({'r': 1}, 1)
        mgr.save({'r': 2}, 2)
        self.flip_byte(2)
        corrupt = []

        def on_corrupt(m, round_num, file, error):
            corrupt.append((round_num, file, error))

        mgr.connect('corrupt', on_corrupt)
        self.assertEqual(mgr.load_latest(), ({'r': 1}, 1))
        self.assertEqual(len(corrupt), 1)
        round_num, file, error = corrupt[0]
        self.assertEqual(round_num, 2)
        self.assertIsInstance(file, Gio.File)
        self.assertEqual(file.get_path(), os.path.join(self.root, 'ckpt_2'))
        self.assertIsInstance(error, GLib.Error)
        self.assertTrue(error.matches(Ckpt.error_quark(), Ckpt.Error.CORRUPT))
        self.assertIn('ckpt_2', error.message)
        # The damaged file is left for inspection.
        self.assertEqual(self.listing(), ['ckpt_1', 'ckpt_2'])

        # load of the damaged round: the signal and a CORRUPT error.
        corrupt.clear()
        with self.assertRaises(GLib.Error) as cm:
            mgr.load(2)
        self.assertCkptError(cm, Ckpt.Error.CORRUPT)
        self.assertEqual([c[0] for c in corrupt], [2])

        # All damaged: CORRUPT rather than "no checkpoint", also for _or_default.
        self.flip_byte(1, 100)
        corrupt.clear()
        with self.assertRaises(GLib.Error) as cm:
            mgr.load_latest()
        self.assertCkptError(cm, Ckpt.Error.CORRUPT)
        self.assertEqual(sorted(c[0] for c in corrupt), [1, 2])
        with self.assertRaises(GLib.Error) as cm:
            mgr.load_latest_or_default({'r': 0})
        self.assertCkptError(cm, Ckpt.Error.CORRUPT)
        self.assertEqual(self.listing(), ['ckpt_1', 'ckpt_2'])

    def test_truncated_file(self):
        mgr = self.manager(keep_total=0)
        mgr.save([1.0] * 100, 1)
        mgr.save([2.0] * 100, 2)
        path = os.path.join(self.root, 'ckpt_2')
        os.truncate(path, os.path.getsize(path) - 8)
        value, round_num = mgr.load_latest(numpy=False)
        self.assertEqual((value, round_num), ([1.0] * 100, 1))

    def test_errors(self):
        mgr = self.manager()
        with self.assertRaises(GLib.Error) as cm:
            mgr.load(99)
        self.assertCkptError(cm, Ckpt.Error.NOT_FOUND)

        mgr.save({'a': 1}, 1)
        with self.assertRaises(GLib.Error) as cm:
            mgr.save({'a': 2}, 1)
        self.assertCkptError(cm, Ckpt.Error.EXISTS)
        self.assertEqual(mgr.load(1), {'a': 1})

        with self.assertRaises(GLib.Error) as cm:
            mgr.load(1, 'ad')
        self.assertCkptError(cm, Ckpt.Error.TYPE_MISMATCH)
        self.assertIn('ad', cm.exception.message)
        self.assertIn('a{sv}', cm.exception.message)
        with self.assertRaises(GLib.Error) as cm:
            mgr.load_latest('(xx)')
        self.assertCkptError(cm, Ckpt.Error.TYPE_MISMATCH)
        with self.assertRaises(GLib.Error) as cm:
            mgr.load_latest_or_default([1.0, 2.0])
        self.assertCkptError(cm, Ckpt.Error.TYPE_MISMATCH)

        for call in (lambda: mgr.save({'a': 1}, -1), lambda: mgr.load(-5)):
            with self.assertRaises(GLib.Error) as cm:
                call()
            self.assertCkptError(cm, Ckpt.Error.INVALID_ARGUMENT)

        with self.assertRaises(ValueError):
            mgr.load(1, 'not a type')
        with self.assertRaises(TypeError):
            mgr.load(1, 42)

    def test_root_is_a_file(self):
        with open(self.root, 'w') as f:
            f.write('not a directory')
        mgr = self.manager()
        with self.assertRaises(GLib.Error) as cm:
            mgr.save({'a': 1}, 1)
        self.assertEqual(cm.exception.domain, GLib.quark_to_string(Gio.io_error_quark()))
        self.assertIn(self.root, cm.exception.message)

    def test_conversion_errors_touch_nothing(self):
        mgr = self.manager()
        with self.assertRaises(TypeError) as cm:
            mgr.save({'a': [1, 'x']}, 1)
        self.assertIn("value['a'][1]", str(cm.exception))
        with self.assertRaises(ValueError) as cm:
            mgr.save({'opt': {'steps': [0, 0, 0, 2**64]}}, 1)
        self.assertIn("value['opt']['steps'][3]", str(cm.exception))
        with self.assertRaises(TypeError):
            mgr.load_latest_or_default({1: 'a', 'b': 2})
        self.assertEqual(self.listing(), [])
        self.assertEqual(mgr.list_rounds(), [])

    def test_gio_file_root(self):
        # A non-local style root: still a Gio.File given by URI.
        mgr = Ckpt.Manager(root=Gio.File.new_for_uri('file://' + self.root), durable=False)
        mgr.save('hello', 0)
        self.assertEqual(mgr.load(0), 'hello')


class AsyncTests(ManagerTestCase):
    def setUp(self):
        super().setUp()
        self.loop = GLib.MainLoop()
        self.timeout_id = GLib.timeout_add_seconds(60, self.on_timeout)
        self.timed_out = False

    def tearDown(self):
        GLib.source_remove(self.timeout_id)
        super().tearDown()

    def on_timeout(self):
        self.timed_out = True
        self.loop.quit()
        return GLib.SOURCE_REMOVE

    def run_loop(self):
        self.loop.run()
        self.assertFalse(self.timed_out, 'the main loop timed out')

    def test_save_async_in_order(self):
        mgr = self.manager(keep_total=3, keep_first=True)
        done = []
        events = []
        mgr.connect('saved', lambda m, r, f: events.append(('saved', r)))
        mgr.connect('pruned', lambda m, r, f: events.append(('pruned', r)))

        def on_saved(source, result, tag, extra):
            self.assertIs(source, mgr)
            self.assertTrue(source.save_finish(result))
            done.append((tag, extra))
            if len(done) == 4:
                self.loop.quit()

        for r in (1, 2, 3, 4):
            mgr.save_async({'round': r, 'w': [float(r)] * 3}, r, None, on_saved, 'round-%d' % r, r)
        self.assertEqual(done, [])  # nothing completes before the loop runs
        self.run_loop()
        self.assertEqual(done, [('round-1', 1), ('round-2', 2), ('round-3', 3), ('round-4', 4)])
        self.assertEqual(events, [('saved', 1), ('saved', 2), ('saved', 3),
                                  ('saved', 4), ('pruned', 2)])
        self.assertEqual(mgr.list_rounds(), [1, 3, 4])
        self.assertEqual(plain(mgr.load(4)), {'round': 4, 'w': [4.0] * 3})

    def test_load_async(self):
        mgr = self.manager()
        mgr.save(STATE, 3)
        results = {}

        def on_load(source, result, key):
            results[key] = source.load_finish(result, raw=(key == 'raw'))
            if len(results) == 3:
                self.loop.quit()

        mgr.load_async(3, None, None, on_load, 'plain')
        mgr.load_async(3, 'a{sv}', None, on_load, 'typed')
        mgr.load_async(3, None, None, on_load, 'raw')
        self.run_loop()
        self.assertEqual(plain(results['plain']), STATE)
        self.assertEqual(plain(results['typed']), STATE)
        self.assertIsInstance(results['raw'], GLib.Variant)
        self.assertEqual(results['raw'], Ckpt.to_variant(STATE))

    def test_load_latest_async(self):
        mgr = self.manager(keep_total=0)
        results = []

        def on_latest(source, result):
            results.append(source.load_latest_finish(result))
            self.loop.quit()

        mgr.load_latest_async(None, None, on_latest)
        self.run_loop()
        self.assertEqual(results, [(None, -1)])

        mgr.save({'r': 1}, 1)
        mgr.save({'r': 2}, 2)
        mgr.load_latest_async('a{sv}', None, on_latest)
        self.run_loop()
        self.assertEqual(results[1], ({'r': 2}, 2))

        # A damaged newest checkpoint: the corrupt signal arrives in the
        # loop, the callback gets the older one.
        self.flip_byte(2)
        corrupt = []
        mgr.connect('corrupt', lambda m, r, f, e: corrupt.append((r, e.code)))
        mgr.load_latest_async(None, None, on_latest)
        self.run_loop()
        self.assertEqual(results[2], ({'r': 1}, 1))
        self.assertEqual(corrupt, [(2, int(Ckpt.Error.CORRUPT))])

    def test_load_latest_or_default_async(self):
        mgr = self.manager()
        saved = []
        mgr.connect('saved', lambda m, r, f: saved.append(r))
        results = []

        def on_done(source, result):
            results.append(source.load_latest_or_default_finish(result))
            self.loop.quit()

        default = {'round': 0, 'weights': [0.5, 0.25]}
        mgr.load_latest_or_default_async(default, None, on_done)
        self.run_loop()
        value, round_num = results[0]
        self.assertEqual(round_num, 0)
        self.assertEqual(plain(value), default)
        self.assertEqual(saved, [0])

        mgr.save({'round': 7, 'weights': [1.0]}, 7)
        mgr.load_latest_or_default_async(default, None, on_done)
        self.run_loop()
        self.assertEqual(plain(results[1][0]), {'round': 7, 'weights': [1.0]})
        self.assertEqual(results[1][1], 7)

    def test_list_rounds_async(self):
        mgr = self.manager(keep_total=0)
        results = []

        def on_list(source, result):
            results.append(source.list_rounds_finish(result))
            self.loop.quit()

        mgr.list_rounds_async(None, on_list)
        self.run_loop()
        mgr.save(1, 1)
        mgr.save(2, 5)
        mgr.list_rounds_async(None, on_list)
        self.run_loop()
        self.assertEqual(results, [[], [1, 5]])
        self.assertIs(type(results[1]), list)

    def test_errors_through_finish(self):
        mgr = self.manager()
        mgr.save({'a': 1}, 1)
        errors = []

        def expect_error(finish):
            def callback(source, result):
                try:
                    finish(result)
                except GLib.Error as e:
                    errors.append((e.domain, e.code))
                else:
                    errors.append(None)
                if len(errors) == 4:
                    self.loop.quit()
            return callback

        mgr.load_async(9, None, None, expect_error(mgr.load_finish))
        mgr.save_async({'a': 2}, 1, None, expect_error(mgr.save_finish))
        mgr.load_latest_async('ad', None, expect_error(mgr.load_latest_finish))
        mgr.save_async({'a': 2}, -1, None, expect_error(mgr.save_finish))
        self.run_loop()
        domain = GLib.quark_to_string(Ckpt.error_quark())
        self.assertEqual(errors, [(domain, int(Ckpt.Error.NOT_FOUND)),
                                  (domain, int(Ckpt.Error.EXISTS)),
                                  (domain, int(Ckpt.Error.TYPE_MISMATCH)),
                                  (domain, int(Ckpt.Error.INVALID_ARGUMENT))])

    def test_conversion_error_is_raised_by_the_call(self):
        mgr = self.manager()
        called = []
        with self.assertRaises(TypeError) as cm:
            mgr.save_async({'x': {1, 2}}, 1, None, lambda *a: called.append(a))
        self.assertIn("value['x']", str(cm.exception))
        with self.assertRaises(TypeError):
            mgr.load_latest_or_default_async([1, 'a'], None, lambda *a: called.append(a))
        ctx = GLib.MainContext.default()
        while ctx.iteration(False):
            pass
        self.assertEqual(called, [])
        self.assertFalse(mgr.props.busy)

    def test_cancelled(self):
        mgr = self.manager()
        cancellable = Gio.Cancellable()
        cancellable.cancel()
        saved = []
        mgr.connect('saved', lambda *a: saved.append(a))
        errors = []

        def on_saved(source, result):
            try:
                source.save_finish(result)
            except GLib.Error as e:
                errors.append(e)
            self.loop.quit()

        mgr.save_async(STATE, 1, cancellable, on_saved)
        self.run_loop()
        self.assertEqual(len(errors), 1)
        self.assertTrue(errors[0].matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        self.assertEqual(saved, [])
        self.assertEqual(self.listing(), [])

        # Sync calls honour it too.
        with self.assertRaises(GLib.Error) as cm:
            mgr.save(STATE, 1, cancellable)
        self.assertTrue(cm.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        self.assertEqual(self.listing(), [])

        mgr.save(STATE, 1)
        results = []

        def on_load(source, result):
            try:
                results.append(source.load_finish(result))
            except GLib.Error as e:
                results.append(e)
            self.loop.quit()

        mgr.load_async(1, None, cancellable, on_load)
        self.run_loop()
        self.assertIsInstance(results[0], GLib.Error)
        self.assertTrue(results[0].matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))

    def test_busy(self):
        mgr = self.manager()
        notes = []
        mgr.connect('notify::busy', lambda m, p: notes.append(m.props.busy))
        self.assertFalse(mgr.props.busy)
        self.assertFalse(mgr.get_busy())
        seen_in_callback = []

        def on_saved(source, result):
            source.save_finish(result)
            seen_in_callback.append(source.props.busy)
            if len(seen_in_callback) == 2:
                GLib.idle_add(self.loop.quit)

        mgr.save_async({'a': 1}, 1, None, on_saved)
        self.assertTrue(mgr.props.busy)
        mgr.save_async({'a': 2}, 2, None, on_saved)
        self.assertTrue(mgr.props.busy)
        self.run_loop()
        self.assertFalse(mgr.props.busy)
        self.assertEqual(notes[0], True)
        self.assertEqual(notes[-1], False)
        self.assertNotIn(False, notes[:-1])
        self.assertEqual(seen_in_callback[0], True)

    def test_callback_without_user_data_and_none_callback(self):
        mgr = self.manager()
        saved = []
        mgr.connect('saved', lambda m, r, f: (saved.append(r), self.loop.quit()))
        mgr.save_async({'a': 1}, 1)  # no cancellable, no callback
        self.run_loop()
        self.assertEqual(saved, [1])
        self.assertEqual(mgr.list_rounds(), [1])


class InfoAndPruneTests(ManagerTestCase):
    def test_query_info(self):
        mgr = self.manager(keep_total=0)
        mgr.save({'w': [0.5, 1.5]}, 3)
        info = mgr.query_info(3, Ckpt.QueryFlags.VERIFY, None)
        self.assertEqual(info.get_round(), 3)
        self.assertEqual(info.get_state_type().dup_string(), 'a{sv}')
        self.assertGreater(info.get_size(), info.get_state_size())
        self.assertEqual(info.get_format_version(), 1)
        self.assertTrue(info.get_verified())
        self.assertEqual(info.get_metadata().unpack()['ckpt-glib-version'], Ckpt.VERSION_S)
        self.assertIsInstance(info.get_creation_time(), GLib.DateTime)
        with self.assertRaises(GLib.Error) as cm:
            mgr.query_info(9, Ckpt.QueryFlags.NONE, None)
        self.assertCkptError(cm, Ckpt.Error.NOT_FOUND)
        # Damage the state, not the header: an unverified query still
        # answers from the header; a verified one sees the damage.
        self.flip_byte(3, offset=os.path.getsize(os.path.join(self.root, 'ckpt_3')) - 1)
        self.assertFalse(mgr.query_info(3, Ckpt.QueryFlags.NONE, None).get_verified())
        with self.assertRaises(GLib.Error) as cm:
            mgr.query_info(3, Ckpt.QueryFlags.VERIFY, None)
        self.assertCkptError(cm, Ckpt.Error.CORRUPT)

    def test_prune(self):
        mgr = self.manager(keep_total=0)
        for r in (1, 2, 3, 4):
            mgr.save(r, r)
        mgr.props.keep_total = 2
        pruned = []
        mgr.connect('pruned', lambda m, r, f: pruned.append(r))
        self.assertEqual(list(mgr.prune(Ckpt.PruneFlags.DRY_RUN, None)), [2, 3])
        self.assertEqual((pruned, self.listing()), ([], ['ckpt_1', 'ckpt_2', 'ckpt_3', 'ckpt_4']))
        self.assertEqual(list(mgr.prune(Ckpt.PruneFlags.NONE, None)), [2, 3])
        self.assertEqual((pruned, self.listing()), ([2, 3], ['ckpt_1', 'ckpt_4']))


class PlainGObjectApiTests(ManagerTestCase):
    """The introspected API stays reachable under the override."""

    def test_introspected_methods(self):
        from gi.module import get_introspection_module
        mgr = self.manager()
        base = get_introspection_module('Ckpt').Manager
        self.assertIs(base, Ckpt.Manager.__mro__[1])
        self.assertIsInstance(mgr, base)
        self.assertTrue(base.save(mgr, GLib.Variant('x', 5), 1, None))
        v, round_num = base.load_latest(mgr, None, None)
        self.assertEqual((v, round_num), (GLib.Variant('x', 5), 1))
        self.assertEqual(base.load(mgr, GLib.VariantType.new('x'), 1, None), GLib.Variant('x', 5))
        self.assertEqual(list(base.list_rounds(mgr)), [1])

    def test_gobject_new_then_init(self):
        mgr = GObject.new(Ckpt.Manager, root=Gio.File.new_for_path(self.root), durable=False)
        mgr.init(None)
        mgr.save(1, 1)
        self.assertEqual(mgr.load(1), 1)

    def test_gobject_new_without_init(self):
        # The base class's constructor, as without the override: no init().
        from gi.module import get_introspection_module
        base = get_introspection_module('Ckpt').Manager
        mgr = GObject.new(base, root=Gio.File.new_for_path(self.root), durable=False)
        self.assertTrue(mgr.props.durable_storage)
        self.assertTrue(base.save(mgr, GLib.Variant('x', 5), 1, None))
        self.assertEqual(list(base.list_rounds(mgr)), [1])
        bad = GObject.new(base, root=Gio.File.new_for_path(self.root), prefix='a/b')
        self.assertIsNone(bad.get_file(1))
        with self.assertRaises(GLib.Error) as cm:
            base.save(bad, GLib.Variant('x', 5), 2, None)
        self.assertCkptError(cm, Ckpt.Error.INVALID_ARGUMENT)
        with self.assertRaises(GLib.Error) as cm:
            bad.init(None)
        self.assertCkptError(cm, Ckpt.Error.INVALID_ARGUMENT)

        loop = GLib.MainLoop()
        results = []

        def on_done(source, result):
            try:
                source.save_finish(result)
            except GLib.Error as e:
                results.append(e)
            loop.quit()

        base.save_async(bad, GLib.Variant('x', 5), 2, None, on_done)
        loop.run()
        self.assertTrue(results[0].matches(Ckpt.error_quark(), Ckpt.Error.INVALID_ARGUMENT))
        self.assertEqual(self.listing(), ['ckpt_1'])


class RecoveryTests(ManagerTestCase):
    """A damaged newest checkpoint: fall back, then delete it or save past it."""

    def test_delete_damaged(self):
        mgr = self.manager(keep_total=0)
        pruned = []
        mgr.connect('pruned', lambda m, r, f: pruned.append(r))
        for r in range(3):
            mgr.save(r, r)
        self.flip_byte(2, offset=-1 + os.path.getsize(os.path.join(self.root, 'ckpt_2')))
        value, round_num = mgr.load_latest_or_default(0)
        self.assertEqual((value, round_num), (1, 1))
        with self.assertRaises(GLib.Error) as cm:
            mgr.save(2, 2)
        self.assertCkptError(cm, Ckpt.Error.EXISTS)
        self.assertIn('is damaged', cm.exception.message)
        self.assertTrue(mgr.delete(2, None))
        self.assertEqual(pruned, [2])
        mgr.save(2, 2)
        self.assertEqual(mgr.load_latest(), (2, 2))
        with self.assertRaises(GLib.Error) as cm:
            mgr.delete(7, None)
        self.assertCkptError(cm, Ckpt.Error.NOT_FOUND)

    def test_delete_async(self):
        mgr = self.manager(keep_total=0)
        mgr.save(1, 1)
        loop = GLib.MainLoop()
        results = []

        def on_done(source, result):
            try:
                results.append(source.delete_finish(result))
            except GLib.Error as e:
                results.append(e)
            if len(results) == 2:
                loop.quit()

        mgr.delete_async(1, None, on_done)
        mgr.delete_async(1, None, on_done)
        loop.run()
        self.assertIs(results[0], True)
        self.assertTrue(results[1].matches(Ckpt.error_quark(), Ckpt.Error.NOT_FOUND))
        self.assertEqual(self.listing(), [])


if __name__ == '__main__':
    unittest.main()
