# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python <-> GVariant mapping of the Ckpt override (docs/python.md)."""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

import gi

gi.require_version('Ckpt', '1.0')
from gi.repository import Ckpt, GLib  # noqa: E402

try:
    import numpy as np
except ImportError:  # pragma: no cover
    np = None

needs_numpy = unittest.skipUnless(np is not None, 'numpy is not installed')


def vtype(value):
    return Ckpt.to_variant(value).get_type_string()


def data_of(variant):
    return bytes(variant.get_data_as_bytes().get_data() or b'')


class OverrideLoadedTests(unittest.TestCase):
    def test_override_is_active(self):
        self.assertEqual(Ckpt.Manager.__module__, 'gi.overrides.Ckpt')
        for name in ('to_variant', 'from_variant', 'Tensor', 'Manager'):
            self.assertTrue(hasattr(Ckpt, name), name)


class ScalarTests(unittest.TestCase):
    def check(self, value, type_string, unpacked=None):
        v = Ckpt.to_variant(value)
        self.assertIsInstance(v, GLib.Variant)
        self.assertEqual(v.get_type_string(), type_string)
        back = Ckpt.from_variant(v)
        self.assertEqual(back, value if unpacked is None else unpacked)
        self.assertIs(type(back), type(value if unpacked is None else unpacked))
        return v

    def test_bool(self):
        self.assertEqual(self.check(True, 'b').get_boolean(), True)
        self.assertEqual(self.check(False, 'b').get_boolean(), False)

    def test_int(self):
        self.assertEqual(self.check(42, 'x').get_int64(), 42)
        self.check(-7, 'x')
        self.check(0, 'x')
        self.check(2**63 - 1, 'x')
        self.check(-2**63, 'x')

    def test_int_subclass(self):
        import enum

        class Color(enum.IntEnum):
            RED = 3

        self.assertEqual(vtype(Color.RED), 'x')
        self.assertEqual(Ckpt.from_variant(Ckpt.to_variant(Color.RED)), 3)

    def test_float(self):
        self.assertEqual(self.check(0.1, 'd').get_double(), 0.1)
        self.check(-1e300, 'd')
        self.check(float('inf'), 'd')
        nan = Ckpt.from_variant(Ckpt.to_variant(float('nan')))
        self.assertNotEqual(nan, nan)

    def test_str(self):
        self.assertEqual(self.check('héllo ✓', 's').get_string(), 'héllo ✓')
        self.check('', 's')

    def test_bytes(self):
        v = self.check(b'\x00\x01\xffabc', 'ay')
        self.assertEqual(data_of(v), b'\x00\x01\xffabc')
        self.check(b'', 'ay')
        self.check(bytearray(b'xy'), 'ay', b'xy')

    def test_variant_as_is(self):
        for v in (GLib.Variant('u', 7), GLib.Variant('(ii)', (1, 2)), GLib.Variant('ms', None),
                  GLib.Variant('a{ss}', {'a': 'b'})):
            self.assertIs(Ckpt.to_variant(v), v)
        inner = GLib.Variant('q', 9)
        v = Ckpt.to_variant({'q': inner})
        self.assertEqual(v.lookup_value('q', None).get_type_string(), 'q')
        self.assertEqual(Ckpt.from_variant(v), {'q': 9})

    @needs_numpy
    def test_numpy_scalars(self):
        # 0-D tensors (they used to be their .item(), d, x or b: issue 14).
        for value in (np.float32(1.1), np.float64(2.5), np.int64(3), np.uint8(3),
                      np.bool_(True), np.complex64(1 + 2j), np.float16(0.1)):
            with self.subTest(value=value):
                v, meta = Ckpt.to_variant_with_metadata(value)
                self.assertEqual(v.get_type_string(), '(satay)')
                self.assertEqual(v.get_child_value(0).get_string(), value.dtype.str)
                self.assertEqual(v.get_child_value(1).unpack(), [])
                back = Ckpt.from_variant(v, metadata=meta)
                self.assertIs(type(back), type(value))
                self.assertEqual(back.tobytes(), value.tobytes())
        # Without the record, a 0-D array.
        back = Ckpt.from_variant(Ckpt.to_variant(np.float32(1.1)))
        self.assertEqual((back.shape, back.dtype), ((), np.float32))


class ContainerTests(unittest.TestCase):
    def test_dict(self):
        value = {'weights': [0.1, 0.2], 'round': 3, 'opt': {'lr': 0.01, 'name': 'sgd'}}
        v = Ckpt.to_variant(value)
        self.assertEqual(v.get_type_string(), 'a{sv}')
        self.assertEqual(v.lookup_value('round', None).get_type_string(), 'x')
        self.assertEqual(v.lookup_value('weights', None).get_type_string(), 'ad')
        self.assertEqual(v.lookup_value('opt', None).get_type_string(), 'a{sv}')
        self.assertEqual(Ckpt.from_variant(v, numpy=False), value)

    def test_dict_order_and_empty(self):
        v = Ckpt.to_variant({'b': 1, 'a': 2, 'c': 3})
        self.assertEqual([v.get_child_value(i).get_child_value(0).get_string()
                          for i in range(3)], ['b', 'a', 'c'])
        self.assertEqual(list(Ckpt.from_variant(v)), ['b', 'a', 'c'])
        self.assertEqual(vtype({}), 'a{sv}')
        self.assertEqual(Ckpt.from_variant(Ckpt.to_variant({})), {})

    def test_deterministic(self):
        value = {'a': [1, 2, 3], 'b': ('x', 2.5, [b'z']), 'c': {'d': [[1.0], []]}}
        self.assertEqual(data_of(Ckpt.to_variant(value)), data_of(Ckpt.to_variant(value)))

    def test_homogeneous_lists(self):
        cases = [
            ([1, 2, 3], 'ax'),
            ([1.5, 2.5], 'ad'),
            ([True, False, True], 'ab'),
            (['a', 'b'], 'as'),
            ([b'a', b''], 'aay'),
            ([{'a': 1}, {'b': 'x'}], 'aa{sv}'),
            ([(1, 'a'), (2, 'b')], 'a(xs)'),
            ([[1, 2], [3]], 'aax'),
            ([GLib.Variant('u', 1), GLib.Variant('u', 2)], 'au'),
        ]
        for value, type_string in cases:
            with self.subTest(value=value):
                v = Ckpt.to_variant(value)
                self.assertEqual(v.get_type_string(), type_string)
                back = Ckpt.from_variant(v, numpy=False)
                if type_string == 'au':
                    self.assertEqual(back, [1, 2])
                else:
                    self.assertEqual(back, value)

    def test_fast_list_paths_match_slow(self):
        # The no-loop conversions of float/int/bool lists give the same
        # serialisation as GLib's own constructors.
        self.assertEqual(data_of(Ckpt.to_variant([0.5, -1.25, 3.0])),
                         data_of(GLib.Variant('ad', [0.5, -1.25, 3.0])))
        self.assertEqual(data_of(Ckpt.to_variant([1, -2, 2**62])),
                         data_of(GLib.Variant('ax', [1, -2, 2**62])))
        self.assertEqual(data_of(Ckpt.to_variant([True, False])),
                         data_of(GLib.Variant('ab', [True, False])))

    def test_empty_lists(self):
        self.assertEqual(vtype([]), 'av')
        self.assertEqual(Ckpt.from_variant(Ckpt.to_variant([])), [])
        self.assertEqual(vtype([[]]), 'aav')
        self.assertEqual(vtype({'h': []}), 'a{sv}')
        # An empty list takes the array type of its siblings.
        self.assertEqual(vtype([[1.0, 2.0], []]), 'aad')
        self.assertEqual(vtype([[], [1.0, 2.0]]), 'aad')
        self.assertEqual(vtype([[], ['a']]), 'aas')
        self.assertEqual(vtype([[[]], [[1]]]), 'aaax')
        self.assertEqual(vtype([(1, []), (2, [1.5])]), 'a(xad)')
        self.assertEqual(vtype(([], [])), '(avav)')
        self.assertEqual(Ckpt.from_variant(Ckpt.to_variant([[], [1.5]]), numpy=False),
                         [[], [1.5]])
        self.assertEqual(Ckpt.from_variant(Ckpt.to_variant([(1, []), (2, [1.5])]), numpy=False),
                         [(1, []), (2, [1.5])])

    def test_tuple(self):
        v = Ckpt.to_variant((1, 'a', 2.5, True, b'x', [1], {'k': 'v'}))
        self.assertEqual(v.get_type_string(), '(xsdbayaxa{sv})')
        self.assertEqual(Ckpt.from_variant(v, numpy=False),
                         (1, 'a', 2.5, True, b'x', [1], {'k': 'v'}))
        self.assertEqual(vtype(()), '()')
        self.assertEqual(Ckpt.from_variant(Ckpt.to_variant(())), ())
        self.assertEqual(vtype(((1,), (2.0,))), '((x)(d))')

    def test_list_of_floats_round_trip(self):
        # A list stays a list (it came back as a numpy array before issue 14).
        value = [0.1, 0.2, 1e-300]
        v = Ckpt.to_variant(value)
        self.assertEqual(v.get_type_string(), 'ad')
        self.assertEqual(Ckpt.from_variant(v, numpy=False), value)
        back = Ckpt.from_variant(v)
        self.assertIs(type(back), list)
        self.assertEqual(back, value)
        back.append(0.3)  # a resumed loop's history.append
        if np is not None:
            arr = Ckpt.from_variant(v, numpy=True)
            self.assertIsInstance(arr, np.ndarray)
            self.assertEqual(arr.dtype, np.float64)
            self.assertEqual(arr.tolist(), value)


class FromForeignVariantTests(unittest.TestCase):
    """GVariants written by C, GJS or Vala code map to the closest values."""

    def test_basic_types(self):
        cases = [
            (GLib.Variant('y', 200), 200),
            (GLib.Variant('n', -3), -3),
            (GLib.Variant('q', 65535), 65535),
            (GLib.Variant('i', -5), -5),
            (GLib.Variant('u', 2**32 - 1), 2**32 - 1),
            (GLib.Variant('t', 2**64 - 1), 2**64 - 1),
            (GLib.Variant('o', '/org/x'), '/org/x'),
            (GLib.Variant('g', 'a{sv}'), 'a{sv}'),
            (GLib.Variant('v', GLib.Variant('s', 'in')), 'in'),
            (GLib.Variant('ms', None), None),
            (GLib.Variant('ms', 'x'), 'x'),
            (GLib.Variant('a{is}', {1: 'a', 2: 'b'}), {1: 'a', 2: 'b'}),
            (GLib.Variant('a{ss}', {'k': 'v'}), {'k': 'v'}),
            (GLib.Variant('av', [GLib.Variant('s', 'a'), GLib.Variant('x', 1)]), ['a', 1]),
            (GLib.Variant('aay', [b'ab', b'']), [b'ab', b'']),
            (GLib.Variant('a(sd)', [('a', 1.0)]), [('a', 1.0)]),
        ]
        for v, expected in cases:
            with self.subTest(type=v.get_type_string()):
                self.assertEqual(Ckpt.from_variant(v, numpy=False), expected)

    def test_fixed_arrays_without_numpy(self):
        cases = {
            'ab': [True, False], 'an': [-1, 2], 'aq': [1, 65535], 'ai': [-(2**31), 5],
            'au': [2**32 - 1], 'ax': [-(2**63), 2**63 - 1], 'at': [2**64 - 1], 'ad': [0.5, -2.0],
        }
        for type_string, values in cases.items():
            with self.subTest(type=type_string):
                back = Ckpt.from_variant(GLib.Variant(type_string, values), numpy=False)
                self.assertIs(type(back), list)
                self.assertEqual(back, values)
                self.assertEqual([type(x) for x in back], [type(x) for x in values])
                self.assertEqual(Ckpt.from_variant(GLib.Variant(type_string, []), numpy=False), [])

    @needs_numpy
    def test_fixed_arrays_with_numpy(self):
        cases = {
            'ab': ([True, False], np.bool_), 'an': ([-1, 2], np.int16),
            'aq': ([1, 65535], np.uint16),
            'ai': ([-(2**31), 5], np.int32), 'au': ([2**32 - 1], np.uint32),
            'ax': ([-(2**63), 2**63 - 1], np.int64), 'at': ([2**64 - 1], np.uint64),
            'ad': ([0.5, -2.0], np.float64),
        }
        for type_string, (values, dtype) in cases.items():
            with self.subTest(type=type_string):
                # numpy=True: numpy arrays (lists by default, issue 14),
                # read-only views of the variant's data.
                v = GLib.Variant(type_string, values)
                self.assertEqual(Ckpt.from_variant(v), values)
                back = Ckpt.from_variant(v, numpy=True)
                self.assertIsInstance(back, np.ndarray)
                self.assertEqual(back.dtype, np.dtype(dtype))
                self.assertEqual(back.tolist(), values)
                self.assertFalse(back.flags.writeable)
                self.assertEqual(Ckpt.from_variant(GLib.Variant(type_string, []),
                                                   numpy=True).shape, (0,))
        # ay is bytes either way.
        self.assertEqual(Ckpt.from_variant(GLib.Variant('ay', b'ab')), b'ab')

    def test_none(self):
        self.assertIsNone(Ckpt.from_variant(None))

    def test_numpy_argument(self):
        with self.assertRaises(TypeError):
            Ckpt.from_variant(GLib.Variant('ad', [1.0]), numpy='yes')


class ErrorTests(unittest.TestCase):
    def assertMessage(self, exc_type, value, *fragments):
        with self.assertRaises(exc_type) as cm:
            Ckpt.to_variant(value)
        for fragment in fragments:
            self.assertIn(fragment, str(cm.exception))
        return str(cm.exception)


    def test_int_out_of_range(self):
        self.assertMessage(ValueError, {'opt': {'steps': [1, 2, 3, 2**63]}},
                           "value['opt']['steps'][3]", str(2**63), '64-bit')
        self.assertMessage(ValueError, {'opt': {'steps': [0, 0, 0, -2**63 - 1]}},
                           "value['opt']['steps'][3]", str(-2**63 - 1))
        self.assertMessage(ValueError, 2**100, 'value: ')


    def test_mixed_list(self):
        msg = self.assertMessage(TypeError, {'w': [1.0, 2.0, 3]},
                                 "value['w']:", "value['w'][0]", "value['w'][2]", "'d'", "'x'")
        self.assertIn('1.0', msg)  # the hint
        self.assertMessage(TypeError, [1, 'a'], 'value[0]', 'value[1]', 'int', 'str')
        self.assertMessage(TypeError, [[1], ['a']], 'value[0]', 'value[1]', "'ax'", "'as'")
        self.assertMessage(TypeError, [{'a': 1}, [1]], 'value[0]', 'value[1]')
        self.assertMessage(TypeError, [(1, 2), (1,)], 'value[0]', 'value[1]')
        self.assertMessage(TypeError, [[], [1], ['a']], 'value[1]', 'value[2]')
        self.assertMessage(TypeError, [True, 1], 'value[0]', 'value[1]', "'b'")

    def test_dict_keys(self):
        self.assertMessage(TypeError, {'a': {3: 'x', 'b': 1}}, "value['a']", '3', "'b'")
        self.assertMessage(TypeError, {True: 'x'}, 'value:', 'bool')
        self.assertMessage(ValueError, {2**64: 'x'}, 'value:', 'dict key')
        self.assertMessage(TypeError, {(1, 2): 'x'}, 'value:', 'tuple')
        self.assertMessage(ValueError, {'a\0b': 1}, 'value:', 'NUL')

    def test_strings(self):
        self.assertMessage(ValueError, {'s': 'a\0b'}, "value['s']", 'NUL')
        self.assertMessage(ValueError, ['ok', '\udc80'], 'value[1]', 'Unicode')

    def test_unsupported_types(self):
        self.assertMessage(TypeError, {'s': {1, 2}}, "value['s']", 'set')
        self.assertMessage(TypeError, [object()], 'value[0]', 'object')
        self.assertMessage(TypeError, {'c': 1j}, "value['c']", 'complex')
        self.assertMessage(TypeError, memoryview(b'x'), 'value:', 'memoryview')

    @needs_numpy
    def test_numpy_dtypes(self):
        self.assertMessage(TypeError, {'a': np.array([object()])}, "value['a']", 'object')
        self.assertMessage(TypeError, {'a': np.array(['x'])}, "value['a']", '<U1')
        self.assertMessage(TypeError, {'a': np.zeros(2, dtype=[('x', 'f8')])}, "value['a']")
        self.assertMessage(TypeError, {'a': np.array(['2020-01-01'], dtype='M8[D]')}, "value['a']")
        self.assertMessage(TypeError, {'a': np.ma.masked_array([1.0, 2.0], mask=[0, 1])},
                           "value['a']", 'masked')


class TensorTests(unittest.TestCase):
    """The tensor encoding: (satay) = (numpy dtype string, shape, C-order bytes)."""

    def test_tensor_class_round_trip(self):
        t = Ckpt.Tensor('<f4', (2, 3), bytes(range(24)))
        v = Ckpt.to_variant(t)
        self.assertEqual(v.get_type_string(), '(satay)')
        dtype, shape, data = v.unpack()
        self.assertEqual(dtype, '<f4')
        self.assertEqual(shape, [2, 3])
        self.assertEqual(bytes(data), bytes(range(24)))
        back = Ckpt.from_variant(v, numpy=False)
        self.assertIsInstance(back, Ckpt.Tensor)
        self.assertEqual(back, t)
        self.assertEqual(Ckpt.to_variant(Ckpt.Tensor('|u1', (), b'\x07')).unpack(),
                         ('|u1', [], [7]))

    def test_tuple_of_same_shape_is_not_a_tensor(self):
        # A user tuple (str, list of ints, bytes) maps to (saxay): ints are x,
        # never t, so it cannot be mistaken for a tensor.
        value = ('<f4', [2], b'\0' * 8)
        self.assertEqual(vtype(value), '(saxay)')
        self.assertEqual(Ckpt.from_variant(Ckpt.to_variant(value)), value)

    def test_tensor_validation(self):
        cases = [
            (Ckpt.Tensor('f4', (1,), b'\0' * 4), ValueError, 'dtype'),
            (Ckpt.Tensor('<O8', (1,), b'\0' * 8), ValueError, 'dtype'),
            (Ckpt.Tensor(4, (1,), b'\0' * 4), ValueError, 'dtype'),
            (Ckpt.Tensor('<f4', (2,), b'\0' * 4), ValueError, '8'),
            (Ckpt.Tensor('<f4', (-1,), b''), ValueError, 'shape'),
            (Ckpt.Tensor('<f4', 3, b''), TypeError, 'shape'),
            (Ckpt.Tensor('<f4', (1,), [0, 0, 0, 0]), TypeError, 'bytes'),
        ]
        for t, exc, fragment in cases:
            with self.subTest(tensor=t):
                with self.assertRaises(exc) as cm:
                    Ckpt.to_variant({'t': [t]})
                self.assertIn("value['t'][0]", str(cm.exception))
                self.assertIn(fragment, str(cm.exception))

    def test_malformed_tensor_variant(self):
        for v in (GLib.Variant('(satay)', ('zz', [2], b'\0' * 8)),
                  GLib.Variant('(satay)', ('<f4', [3], b'\0' * 8)),
                  GLib.Variant('(satay)', ('<f3', [1], b'\0' * 3))):
            for numpy in ((False, True) if np is not None else (False,)):
                with self.subTest(v=str(v), numpy=numpy):
                    if numpy is False and v.get_child_value(0).get_string() == '<f3':
                        # Well-formed for the grammar; numpy alone rejects it.
                        self.assertIsInstance(Ckpt.from_variant(v, numpy=False), Ckpt.Tensor)
                        continue
                    with self.assertRaises(ValueError) as cm:
                        Ckpt.from_variant(GLib.Variant('a{sv}', {'w': v}), numpy=numpy)
                    self.assertIn("value['w']", str(cm.exception))
                    self.assertIn('tensor', str(cm.exception))

    def test_data_is_8_byte_aligned(self):
        # In (satay) the data follows the at, so it starts 8-byte aligned
        # from the start of the tuple, also inside an a{sv}.
        marker = bytes(range(1, 25))
        for prefix in ('', 'x' * 5, 'abc' * 7):
            for shape in ((24,), (2, 3, 4), (1, 1, 1, 24)):
                v = Ckpt.to_variant({prefix or 'k': Ckpt.Tensor('|u1', shape, marker)})
                raw = data_of(v)
                self.assertEqual(raw.count(marker), 1)
                self.assertEqual(raw.index(marker) % 8, 0, (prefix, shape))


@needs_numpy
class NumpyTests(unittest.TestCase):
    def round_trip(self, value):
        v, meta = Ckpt.to_variant_with_metadata(value)
        return v, Ckpt.from_variant(v, metadata=meta)

    def test_1d_arrays_are_tensors(self):
        # Every numpy array is a tensor, 1-D included (1-D float64, int32,
        # int64, uint8 and bool arrays were ad ai ax ay ab before issue 14,
        # and uint8 came back as bytes).
        for dtype in (np.float64, np.int32, np.int64, np.uint8, np.bool_, np.float32):
            with self.subTest(dtype=dtype):
                if dtype is np.bool_:
                    arr = np.array([True, False, True, True])
                else:
                    arr = (np.arange(-3, 9) * 7).astype(dtype)
                v, back = self.round_trip(arr)
                self.assertEqual(v.get_type_string(), '(satay)')
                self.assertEqual(v.get_child_value(0).get_string(), arr.dtype.str)
                self.assertEqual(data_of(v.get_child_value(2)), arr.tobytes())
                self.assertIsInstance(back, np.ndarray)
                self.assertEqual(back.dtype, arr.dtype)
                self.assertEqual(back.shape, arr.shape)
                self.assertTrue(np.array_equal(back, arr))

    def test_uint8_array_is_not_bytes(self):
        arr = np.arange(256, dtype=np.uint8)
        back = self.round_trip({'rng': arr})[1]['rng']
        self.assertIsInstance(back, np.ndarray)
        self.assertEqual(back.dtype, np.uint8)
        self.assertEqual(back.tobytes(), arr.tobytes())
        self.assertEqual(self.round_trip(b'\x01\x02')[1], b'\x01\x02')

    def test_empty_1d(self):
        v, back = self.round_trip(np.zeros(0))
        self.assertEqual(v.get_type_string(), '(satay)')
        self.assertEqual(back.shape, (0,))
        self.assertEqual(back.dtype, np.float64)

    def test_non_contiguous_and_byte_order(self):
        base = np.arange(20, dtype=np.float64)
        strided = base[::3]
        v, back = self.round_trip(strided)
        self.assertEqual(data_of(v.get_child_value(2)), np.ascontiguousarray(strided).tobytes())
        self.assertTrue(np.array_equal(back, strided))
        # The byte order is kept, as the dtype says.
        for big in (np.arange(5, dtype='>f8'), np.arange(6, dtype='>f4').reshape(2, 3)):
            v, back = self.round_trip(big)
            self.assertEqual(v.get_child_value(0).get_string(), big.dtype.str)
            self.assertEqual(back.dtype, big.dtype)
            self.assertEqual(back.dtype.byteorder, '>')
            self.assertEqual(back.tobytes(), big.tobytes())

    def check_tensor(self, arr):
        v, meta = Ckpt.to_variant_with_metadata({'t': arr})
        inner = v.lookup_value('t', None)
        self.assertEqual(inner.get_type_string(), '(satay)')
        dtype, shape, data = (inner.get_child_value(i) for i in range(3))
        self.assertEqual(dtype.get_string(), arr.dtype.str)
        self.assertEqual(tuple(shape.unpack()), arr.shape)
        self.assertEqual(data_of(data), arr.tobytes())  # tobytes() is C order
        back = Ckpt.from_variant(v, metadata=meta)['t']
        self.assertIsInstance(back, np.ndarray)
        self.assertEqual(back.shape, arr.shape)
        self.assertEqual(back.dtype, arr.dtype)
        self.assertTrue(back.flags.c_contiguous)
        self.assertEqual(back.tobytes(), arr.tobytes())
        # Without numpy on the loading side: the same bytes in a Ckpt.Tensor.
        t = Ckpt.from_variant(v, numpy=False)['t']
        self.assertEqual(t, Ckpt.Tensor(arr.dtype.str, arr.shape, back.tobytes()))
        return back

    def test_tensors(self):
        rng = np.random.default_rng(7)
        cases = [
            rng.standard_normal(10).astype(np.float32),
            rng.standard_normal((3, 4)),
            rng.standard_normal((2, 3, 4)).astype(np.float32),
            np.arange(24, dtype=np.int16).reshape(2, 3, 4),
            np.arange(6, dtype=np.uint64).reshape(3, 2) * (2**63 // 3),
            np.arange(6, dtype=np.int8),
            np.arange(6, dtype=np.uint32),
            np.arange(6, dtype=np.uint16),
            np.arange(4, dtype=np.float16).reshape(2, 2),
            (rng.standard_normal(4) + 1j * rng.standard_normal(4)).astype(np.complex64),
            rng.standard_normal((2, 2)) + 1j,
            np.array([[True, False], [False, True]]),
            np.arange(12, dtype=np.uint8).reshape(3, 4),
            np.arange(12, dtype=np.int32).reshape(3, 4),
            np.array(3.5, dtype=np.float32),          # 0-d
            np.array(7),                              # 0-d int64
            np.zeros((0, 3), dtype=np.float32),       # empty
            np.zeros((4, 0, 2)),
            np.asfortranarray(rng.standard_normal((3, 5)).astype(np.float32)),
            rng.standard_normal((4, 6))[:, ::2],      # non-contiguous
            np.arange(6, dtype='>i4').reshape(2, 3),  # big-endian
        ]
        for arr in cases:
            with self.subTest(dtype=arr.dtype, shape=arr.shape):
                back = self.check_tensor(arr)
                self.assertTrue(np.array_equal(back, arr))

    def test_float32_values_exact(self):
        arr = np.array([1e-45, 3.4028235e38, -0.0, np.inf, 1 / 3], dtype=np.float32)
        back = self.round_trip(arr)[1]
        self.assertEqual(back.dtype, np.float32)
        self.assertEqual(back.tobytes(), arr.tobytes())
        nan = np.array([np.nan], dtype=np.float32)
        self.assertTrue(np.isnan(self.round_trip(nan)[1][0]))

    def test_tensor_class_with_numpy(self):
        # A Ckpt.Tensor comes back as one when the record says so, as a
        # numpy array without the record.
        t = Ckpt.Tensor('<f4', (2,), np.array([1.5, -2], dtype='<f4').tobytes())
        self.assertEqual(self.round_trip(t)[1], t)
        back = Ckpt.from_variant(Ckpt.to_variant(t))
        self.assertEqual(back.dtype, np.float32)
        self.assertEqual(back.tolist(), [1.5, -2.0])

    def test_loaded_arrays_are_read_only_views(self):
        v, meta = Ckpt.to_variant_with_metadata({'a': np.arange(4.0),
                                                 'm': np.ones((2, 2), np.float32)})
        first = Ckpt.from_variant(v, metadata=meta)
        for key in ('a', 'm'):
            self.assertFalse(first[key].flags.writeable)
            with self.assertRaises(ValueError):
                first[key][0] = 99.0
        # No copy: the array is over the variant's own data.
        data = v.lookup_value('m', None).get_child_value(2)
        self.assertIsNotNone(first['m'].base)
        # .copy() gives a writable, independent array.
        writable = first['a'].copy()
        writable[0] = 99.0
        second = Ckpt.from_variant(v)
        self.assertEqual(second['a'][0], 0.0)
        self.assertEqual(data.get_size(), 16)

    def test_view_without_data_pointer(self):
        # If PyGObject ever stops returning g_variant_get_data() as an int,
        # loading falls back to copying through GLib.Bytes.
        import gi.overrides.Ckpt as override

        class NoPointer:
            def __init__(self, v):
                self.v = v

            def get_data(self):
                return None

            def __getattr__(self, name):
                return getattr(self.v, name)

        arr = np.arange(12, dtype=np.float32).reshape(3, 4)
        v = Ckpt.to_variant(arr).get_child_value(2)
        out = override._numpy_view(NoPointer(v), np.dtype(np.float32), (3, 4), np)
        self.assertEqual(out.tobytes(), arr.tobytes())
        self.assertFalse(out.flags.writeable)

    def test_mixed_numpy_list(self):
        self.assertEqual(vtype([np.zeros(2), np.ones(3)]), 'a(satay)')
        self.assertEqual(vtype([np.zeros((2, 2)), np.ones(3, np.float32)]), 'a(satay)')
        v, back = self.round_trip([np.zeros(2), np.float32(1), None])
        self.assertEqual(v.get_type_string(), 'am(satay)')
        self.assertIsInstance(back[0], np.ndarray)
        self.assertIs(type(back[1]), np.float32)
        self.assertIsNone(back[2])

    def test_large_arrays_without_per_element_loops(self):
        # 10M elements: a per-element Python loop would take minutes (and
        # the suite's timeout); the checks below are on bytes, not on time.
        arr = np.random.default_rng(1).standard_normal(10_000_000)
        v, back = self.round_trip(arr)
        self.assertEqual(v.get_type_string(), '(satay)')
        self.assertEqual(v.get_child_value(2).get_size(), arr.nbytes)
        self.assertEqual(back.dtype, np.float64)
        self.assertEqual(back.tobytes(), arr.tobytes())
        del v, back

        t = arr.astype(np.float32).reshape(1000, 10_000)
        v, meta = Ckpt.to_variant_with_metadata({'t': t})
        self.assertEqual(data_of(v.lookup_value('t', None).get_child_value(2)), t.tobytes())
        back = Ckpt.from_variant(v, metadata=meta)['t']
        self.assertEqual(back.shape, (1000, 10_000))
        self.assertEqual(back.dtype, np.float32)
        self.assertEqual(back.tobytes(), t.tobytes())

        # Plain Python lists of floats and ints take a no-loop path too.
        as_list = arr[:1_000_000].tolist()
        v = Ckpt.to_variant(as_list)
        self.assertEqual(data_of(v), arr[:1_000_000].tobytes())
        self.assertEqual(Ckpt.from_variant(v, numpy=False), as_list)

    def test_saved_arrays_are_not_copied(self):
        # The tensor's data is the array's own memory (kept alive by the
        # variant), not a copy.
        arr = np.arange(1 << 16, dtype=np.float64)
        v = Ckpt.to_variant({'a': arr})
        data = v.lookup_value('a', None).get_child_value(2)
        self.assertEqual(data.get_data(), arr.ctypes.data)
        import weakref
        import gc
        ref = weakref.ref(arr)
        del arr
        gc.collect()
        self.assertIsNotNone(ref(), 'the array went while the variant uses it')
        del v, data
        gc.collect()
        self.assertIsNone(ref(), 'the variant did not let the array go')


class WithoutNumpyTests(unittest.TestCase):
    """The override in a Python where numpy cannot be imported."""

    def test_without_numpy(self):
        script = textwrap.dedent('''
            import sys
            sys.modules['numpy'] = None   # makes "import numpy" fail
            import gi
            gi.require_version('Ckpt', '1.0')
            from gi.repository import Ckpt, GLib
            v = Ckpt.to_variant({'w': [0.5, 1.5], 'n': [1, 2], 'b': b'x',
                                 't': Ckpt.Tensor('<f4', (1, 2), b'\\0' * 8)})
            back = Ckpt.from_variant(v)
            assert back == {'w': [0.5, 1.5], 'n': [1, 2], 'b': b'x',
                            't': Ckpt.Tensor('<f4', (1, 2), b'\\0' * 8)}, back
            assert isinstance(back['t'], Ckpt.Tensor)
            try:
                Ckpt.from_variant(v, numpy=True)
            except ImportError:
                pass
            else:
                raise AssertionError('numpy=True without numpy did not raise ImportError')
            print('ok')
        ''')
        out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), 'ok')

    def test_numpy_not_imported_for_plain_values(self):
        script = textwrap.dedent('''
            import sys
            import gi
            gi.require_version('Ckpt', '1.0')
            from gi.repository import Ckpt
            Ckpt.to_variant({'a': [1.0], 'b': (1, 'x')})
            Ckpt.from_variant(Ckpt.to_variant([1.0]), numpy=False)
            print('numpy' in sys.modules)
        ''')
        out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), 'False')


@needs_numpy
class ManagerRoundTripTests(unittest.TestCase):
    """Values through a real checkpoint file, back exactly."""

    def test_numpy_state_through_a_checkpoint(self):
        with tempfile.TemporaryDirectory() as tmp:
            mgr = Ckpt.Manager(root=os.path.join(tmp, 'ck'), durable=False)
            rng = np.random.default_rng(3)
            state = {
                'layers': [rng.standard_normal((16, 8)).astype(np.float32),
                           rng.standard_normal(8).astype(np.float32)],
                'step': 12,
                'ema': rng.standard_normal(8),
                'mask': rng.standard_normal(5) > 0,
                'ids': np.arange(5, dtype=np.int64),
                'opt': {'lr': 0.01, 'betas': (0.9, 0.999), 'history': []},
            }
            mgr.save(state, 1)
            back = mgr.load(1)
            self.assertEqual(set(back), set(state))
            for a, b in zip(back['layers'], state['layers']):
                self.assertEqual(a.dtype, b.dtype)
                self.assertEqual(a.shape, b.shape)
                self.assertEqual(a.tobytes(), b.tobytes())
            self.assertEqual(back['ema'].tobytes(), state['ema'].tobytes())
            self.assertEqual(back['mask'].tolist(), state['mask'].tolist())
            self.assertEqual(back['ids'].dtype, np.int64)
            self.assertEqual(back['step'], 12)
            self.assertEqual(back['opt'], {'lr': 0.01, 'betas': (0.9, 0.999), 'history': []})


if __name__ == '__main__':
    unittest.main()
