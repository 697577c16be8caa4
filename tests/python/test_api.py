# SPDX-License-Identifier: LGPL-2.1-or-later
"""The 1.0 API shape from Python: Ckpt.Info properties, the query and prune
flags, their async pairs, the error enum and the run-time version."""

import os
import shutil
import tempfile
import unittest

import gi

gi.require_version('Ckpt', '1.0')
from gi.repository import Ckpt, GLib, GObject  # noqa: E402

INFO_PROPERTIES = ['creation-time', 'format-version', 'metadata', 'round', 'size',
                   'state-size', 'state-type', 'verified']


class ApiTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='ckpt-py-api-')
        self.root = os.path.join(self.tmp, 'checkpoints')
        self.loop = GLib.MainLoop()
        self.timed_out = False

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def manager(self, rounds=(1, 2, 3, 4)):
        mgr = Ckpt.Manager.new_for_path(self.root, None, 0, True)
        for r in rounds:
            mgr.save({'round': r, 'w': [float(r)] * 2}, r)
        return mgr

    def listing(self):
        return sorted(os.listdir(self.root))

    def run_loop(self):
        def on_timeout():
            self.timed_out = True
            self.loop.quit()
            return GLib.SOURCE_REMOVE
        source = GLib.timeout_add_seconds(30, on_timeout)
        self.loop.run()
        if not self.timed_out:
            GLib.source_remove(source)
        self.assertFalse(self.timed_out, 'the main loop timed out')

    def check_info(self, info, round_num, verified):
        self.assertIsInstance(info, GObject.Object)
        self.assertEqual(sorted(p.name for p in GObject.list_properties(Ckpt.Info)), INFO_PROPERTIES)
        for pspec in GObject.list_properties(Ckpt.Info):
            self.assertFalse(pspec.flags & GObject.ParamFlags.WRITABLE, pspec.name)
        self.assertEqual(info.props.round, round_num)
        self.assertEqual(info.get_property('round'), info.get_round())
        self.assertEqual(info.props.size, info.get_size())
        self.assertEqual(info.props.state_size, info.get_state_size())
        self.assertGreater(info.props.size, info.props.state_size)
        self.assertEqual(info.props.state_type, 'a{sv}')
        self.assertEqual(info.props.state_type, info.get_state_type().dup_string())
        self.assertEqual(info.get_state_type_string(), 'a{sv}')
        created = info.props.creation_time
        self.assertIsInstance(created, GLib.DateTime)
        self.assertEqual(created.get_utc_offset(), 0)
        self.assertEqual(created.to_unix(), info.get_creation_time().to_unix())
        metadata = info.props.metadata
        self.assertIsInstance(metadata, GLib.Variant)
        self.assertEqual(metadata.get_type_string(), 'a{sv}')
        self.assertTrue(metadata.equal(info.get_metadata()))
        self.assertEqual(metadata.lookup_value('ckpt-glib-version', None).unpack(), Ckpt.VERSION_S)
        self.assertEqual(info.props.format_version, 1)
        self.assertEqual(info.props.verified, verified)
        with self.assertRaises(TypeError):
            info.props.round = 7

    def test_query_info_flags_and_properties(self):
        mgr = self.manager()
        self.check_info(mgr.query_info(3, Ckpt.QueryFlags.VERIFY, None), 3, True)
        self.check_info(mgr.query_info(3, Ckpt.QueryFlags.NONE, None), 3, False)
        with self.assertRaises(GLib.Error) as cm:
            mgr.query_info(9, Ckpt.QueryFlags.NONE, None)
        self.assertTrue(cm.exception.matches(Ckpt.error_quark(), Ckpt.Error.NOT_FOUND))

    def test_query_info_async(self):
        mgr = self.manager()
        results = []

        def on_info(source, result, tag):
            try:
                results.append((tag, source.query_info_finish(result)))
            except GLib.Error as e:
                results.append((tag, e))
            if len(results) == 3:
                self.loop.quit()

        mgr.query_info_async(2, Ckpt.QueryFlags.VERIFY, None, on_info, 'verify')
        mgr.query_info_async(2, Ckpt.QueryFlags.NONE, None, on_info, 'none')
        mgr.query_info_async(9, Ckpt.QueryFlags.NONE, None, on_info, 'missing')
        self.run_loop()
        self.assertEqual([tag for tag, _ in results], ['verify', 'none', 'missing'])
        self.check_info(results[0][1], 2, True)
        self.check_info(results[1][1], 2, False)
        self.assertTrue(results[2][1].matches(Ckpt.error_quark(), Ckpt.Error.NOT_FOUND))

    def test_prune_async(self):
        mgr = self.manager()
        mgr.props.keep_total = 2
        events = []
        mgr.connect('pruned', lambda m, r, f: events.append(('pruned', r)))

        def on_pruned(source, result, tag):
            events.append((tag, source.prune_finish(result)))
            if tag == 'prune':
                self.loop.quit()

        mgr.prune_async(Ckpt.PruneFlags.DRY_RUN, None, on_pruned, 'dry-run')
        mgr.prune_async(Ckpt.PruneFlags.NONE, None, on_pruned, 'prune')
        self.assertEqual(events, [])
        self.run_loop()
        # The signals of an operation come before its callback.
        self.assertEqual(events, [('dry-run', [2, 3]), ('pruned', 2), ('pruned', 3),
                                  ('prune', [2, 3])])
        self.assertEqual(self.listing(), ['ckpt_1', 'ckpt_4'])

    def test_registered_types(self):
        self.assertTrue(GObject.type_is_a(Ckpt.QueryFlags.__gtype__, GObject.TYPE_FLAGS))
        self.assertTrue(GObject.type_is_a(Ckpt.PruneFlags.__gtype__, GObject.TYPE_FLAGS))
        self.assertEqual((int(Ckpt.QueryFlags.NONE), int(Ckpt.QueryFlags.VERIFY)), (0, 1))
        self.assertEqual((int(Ckpt.PruneFlags.NONE), int(Ckpt.PruneFlags.DRY_RUN)), (0, 1))
        self.assertTrue(GObject.type_is_a(Ckpt.Error.__gtype__, GObject.TYPE_ENUM))
        self.assertEqual(int(Ckpt.Error.FAILED), 8)
        self.assertEqual(Ckpt.Error.FAILED.value_nick, 'failed')

    def test_runtime_version(self):
        self.assertEqual((Ckpt.get_major_version(), Ckpt.get_minor_version(),
                          Ckpt.get_micro_version()),
                         (Ckpt.MAJOR_VERSION, Ckpt.MINOR_VERSION, Ckpt.MICRO_VERSION))
        self.assertEqual(Ckpt.VERSION_S, '%d.%d.%d' % (Ckpt.MAJOR_VERSION, Ckpt.MINOR_VERSION,
                                                      Ckpt.MICRO_VERSION))


if __name__ == '__main__':
    unittest.main()
