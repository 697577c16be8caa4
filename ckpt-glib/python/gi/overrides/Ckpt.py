# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyGObject override for ckpt-glib (``gi.repository.Ckpt``).

It makes :class:`Ckpt.Manager` take and return plain Python values (dicts,
lists, tuples, str, int, float, bool, bytes, numpy arrays), converted to and
from GVariant by a fixed, documented mapping (``docs/python.md``), while a
``GLib.Variant`` is still accepted as it is, and returned on request
(``raw=True``).

Python -> GVariant:

    bool -> b      int -> x (int64)    float -> d      str -> s
    bytes, bytearray -> ay             GLib.Variant -> itself
    dict (str keys) -> a{sv}           tuple -> (...)  Ckpt.Tensor -> (satay)
    list -> aT (all elements of one type T; [] -> av, or the array type of
            its siblings inside a list)
    numpy 1-D float64/int32/int64/uint8/bool -> ad/ai/ax/ay/ab
    any other numpy array (N-D, 0-d, float32, ...) -> tensor (satay)
    numpy scalar -> its .item()        None, anything else -> TypeError

GVariant -> Python: the reverse; fixed numeric arrays (ad ai ax ab an aq au
at) and tensors become numpy arrays when numpy is installed (lists and
Ckpt.Tensor otherwise), ay becomes bytes, a{..} a dict, other arrays lists,
tuples tuples, maybe types None or the value, o and g str.
"""

import array
import collections
import ctypes
import os
import re
import sys

from gi.repository import GLib, Gio

from ..module import get_introspection_module
from ..overrides import override

Ckpt = get_introspection_module('Ckpt')

__all__ = []

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

_TENSOR_TYPE = '(satay)'
# A tensor's dtype: numpy's dtype.str of a numeric type: byte order ('<'
# little, '>' big, '|' not applicable), kind (b bool, i signed, u unsigned,
# f float, c complex) and the item size in bytes.
_DTYPE_RE = re.compile(r'([<>|])([biufc])([1-9][0-9]*)')

# Fixed arrays: GVariant element type -> (array module typecode, numpy dtype).
_FIXED = {
    'b': (None, '?'),
    'n': ('h', 'i2'),
    'q': ('H', 'u2'),
    'i': ('i', 'i4'),
    'u': ('I', 'u4'),
    'x': ('q', 'i8'),
    't': ('Q', 'u8'),
    'd': ('d', 'f8'),
}

# numpy (kind, itemsize) of a native-order 1-D array -> fixed array type.
_NUMPY_FIXED = {
    ('f', 8): 'ad',
    ('i', 4): 'ai',
    ('i', 8): 'ax',
    ('u', 1): 'ay',
    ('b', 1): 'ab',
}


class Tensor(collections.namedtuple('Tensor', ('dtype', 'shape', 'data'))):
    """A tensor without numpy: the Python side of the ``(satay)`` encoding.

    ``dtype`` is a numpy dtype string such as ``'<f4'``, ``shape`` a tuple of
    ints, ``data`` the elements' bytes in C order. Loads return one for each
    tensor when numpy is not used, and saving one writes it as a tensor.
    """

    __slots__ = ()


__all__.append('Tensor')


# Paths inside a structure, for error messages: None is the value itself,
# (parent, key) is parent[key]. Formatted only when an error is raised.

def _path_str(path):
    keys = []
    while path is not None:
        path, key = path
        keys.append('[%r]' % (key,))
    return 'value' + ''.join(reversed(keys))


def _type_name(value):
    return type(value).__name__


# Type patterns: GVariant type strings in which '*' stands for the element
# type of an empty list, still to be decided by its siblings.

def _type_end(s, i):
    c = s[i]
    if c in 'am':
        return _type_end(s, i + 1)
    if c in '({':
        close = ')' if c == '(' else '}'
        i += 1
        while s[i] != close:
            i = _type_end(s, i)
        return i + 1
    return i + 1


def _split_types(s):
    items = []
    i = 0
    while i < len(s):
        end = _type_end(s, i)
        items.append(s[i:end])
        i = end
    return items


def _unify(p, q):
    if p == q:
        return p
    if p == '*':
        return q
    if q == '*':
        return p
    if p[0] != q[0]:
        return None
    if p[0] in 'am':
        inner = _unify(p[1:], q[1:])
        return None if inner is None else p[0] + inner
    if p[0] in '({':
        ps = _split_types(p[1:-1])
        qs = _split_types(q[1:-1])
        if len(ps) != len(qs):
            return None
        parts = []
        for a, b in zip(ps, qs):
            u = _unify(a, b)
            if u is None:
                return None
            parts.append(u)
        return p[0] + ''.join(parts) + p[-1]
    return None


# Python -> GVariant

def _from_bytes(type_string, data, trusted=True):
    return GLib.Variant.new_from_bytes(GLib.VariantType.new(type_string),
                                       GLib.Bytes.new(data), trusted)


def _check_str(s, path, what='str'):
    if '\0' in s:
        raise ValueError('%s: %s %r contains a NUL character, which a GVariant string '
                         'cannot hold' % (_path_str(path), what, s))
    try:
        s.encode('utf-8')
    except UnicodeEncodeError as e:
        raise ValueError('%s: %s %r is not valid Unicode (%s)'
                         % (_path_str(path), what, s, e.reason)) from None


def _int(value, path):
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError('%s: %d is out of the range of a 64-bit signed integer '
                         '(GVariant type x: -2**63 .. 2**63-1); save it as a float or a str'
                         % (_path_str(path), value))
    return GLib.Variant.new_int64(value)


def _numpy_to_variant(arr, np, path):
    if isinstance(arr, np.ma.MaskedArray):
        raise TypeError('%s: numpy masked arrays cannot be saved; save .data and .mask '
                        'separately' % _path_str(path))
    kind = arr.dtype.kind
    if kind not in 'biufc' or arr.dtype.fields is not None or arr.dtype.subdtype is not None:
        raise TypeError('%s: numpy arrays of dtype %s cannot be saved (only bool, integer, '
                        'float and complex dtypes)' % (_path_str(path), arr.dtype))
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder('='))
    if not arr.flags.c_contiguous:
        arr = np.array(arr, order='C')  # (ascontiguousarray makes a 0-d array 1-D)
    if arr.ndim == 1:
        fixed = _NUMPY_FIXED.get((kind, arr.dtype.itemsize))
        if fixed is not None:
            # GVariant booleans must be 0 or 1 to be in normal form: let GLib
            # check (trusted=False) rather than trust the bytes of a bool array.
            return _from_bytes(fixed, arr.tobytes(), trusted=(fixed != 'ab')), fixed
    return _tensor_variant(arr.dtype.str, arr.shape, arr.tobytes()), _TENSOR_TYPE


def _tensor_variant(dtype, shape, data):
    return GLib.Variant.new_tuple(GLib.Variant.new_string(dtype),
                                  GLib.Variant('at', list(shape)),
                                  _from_bytes('ay', data))


def _tensor_to_variant(t, path):
    dtype, shape, data = t
    m = _DTYPE_RE.fullmatch(dtype) if isinstance(dtype, str) else None
    if m is None:
        raise ValueError('%s: Tensor dtype %r is not a numpy dtype string such as \'<f4\''
                         % (_path_str(path), dtype))
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError('%s: Tensor shape must be a sequence of ints, not %s'
                        % (_path_str(path), _type_name(shape))) from None
    count = 1
    for n in shape:
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < (1 << 64):
            raise ValueError('%s: Tensor shape %r: each dimension must be an int >= 0'
                             % (_path_str(path), shape))
        count *= n
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError('%s: Tensor data must be bytes, not %s'
                        % (_path_str(path), _type_name(data)))
    if len(data) != count * int(m.group(3)):
        raise ValueError('%s: Tensor data holds %d bytes; dtype %s and shape %r need %d'
                         % (_path_str(path), len(data), dtype, shape, count * int(m.group(3))))
    return _tensor_variant(dtype, shape, bytes(data)), _TENSOR_TYPE


def _list_to_variant(value, path, target):
    if not value:
        if target is not None:
            return GLib.Variant.new_array(GLib.VariantType.new(target[1:]), []), target
        return GLib.Variant.new_array(GLib.VariantType.new('v'), []), 'a*'

    # Lists of one scalar type, without a per-element Python loop.
    types = set(map(type, value))
    if len(types) == 1:
        t = types.pop()
        if t is float:
            return _from_bytes('ad', array.array('d', value).tobytes()), 'ad'
        if t is bool:
            return _from_bytes('ab', bytes(value)), 'ab'
        if t is int:
            try:
                return _from_bytes('ax', array.array('q', value).tobytes()), 'ax'
            except OverflowError:
                pass  # the loop below names the element out of range

    elem_target = target[1:] if target is not None else None
    results = [_to_variant(x, (path, i), elem_target) for i, x in enumerate(value)]
    pattern = results[0][1]
    for i in range(1, len(results)):
        unified = _unify(pattern, results[i][1])
        if unified is None:
            j = next((j for j in range(i) if _unify(results[j][1], results[i][1]) is None), 0)
            tj = results[j][0].get_type_string()
            ti = results[i][0].get_type_string()
            hint = ''
            if {tj, ti} == {'x', 'd'}:
                hint = ' (write 1.0, not 1, to make an int a float)'
            raise TypeError('%s: the elements of a list must all map to one GVariant type, '
                            'but %s maps to \'%s\' (%s) and %s to \'%s\' (%s)%s'
                            % (_path_str(path), _path_str((path, j)), tj, _type_name(value[j]),
                               _path_str((path, i)), ti, _type_name(value[i]), hint))
        pattern = unified

    concrete = pattern.replace('*', 'v')
    children = []
    for i, (child, _) in enumerate(results):
        if child.get_type_string() != concrete:
            # An empty list somewhere inside: rebuild it with its siblings' type.
            child = _to_variant(value[i], (path, i), concrete)[0]
        children.append(child)
    return GLib.Variant.new_array(GLib.VariantType.new(concrete), children), 'a' + pattern


def _dict_to_variant(value, path):
    entries = []
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError('%s: dict key %r is of type %s; only str keys can be saved (a{sv})'
                            % (_path_str(path), key, _type_name(key)))
        _check_str(key, path, 'dict key')
        child = _to_variant(item, (path, key), None)[0]
        entries.append(GLib.Variant.new_dict_entry(GLib.Variant.new_string(key),
                                                   GLib.Variant.new_variant(child)))
    return GLib.Variant.new_array(GLib.VariantType.new('{sv}'), entries), 'a{sv}'


def _to_variant(value, path, target):
    """Returns (variant, type pattern)."""
    if isinstance(value, GLib.Variant):
        return value, value.get_type_string()
    if isinstance(value, bool):
        return GLib.Variant.new_boolean(value), 'b'
    if isinstance(value, int):
        return _int(value, path), 'x'
    if isinstance(value, float):
        return GLib.Variant.new_double(value), 'd'
    if isinstance(value, str):
        _check_str(value, path)
        return GLib.Variant.new_string(value), 's'
    if isinstance(value, dict):
        return _dict_to_variant(value, path)
    if isinstance(value, list):
        return _list_to_variant(value, path, target)
    if isinstance(value, Tensor):
        return _tensor_to_variant(value, path)
    if isinstance(value, tuple):
        targets = _split_types(target[1:-1]) if target is not None else [None] * len(value)
        results = [_to_variant(x, (path, i), t) for i, (x, t) in enumerate(zip(value, targets))]
        return (GLib.Variant.new_tuple(*[v for v, _ in results]),
                '(' + ''.join(p for _, p in results) + ')')
    if isinstance(value, (bytes, bytearray)):
        return _from_bytes('ay', bytes(value)), 'ay'
    if value is None:
        raise TypeError('%s: None cannot be saved: GVariant has no null value (leave the '
                        'key out, or pass a GLib.Variant of a maybe type)' % _path_str(path))
    np = sys.modules.get('numpy')
    if np is not None:
        if isinstance(value, np.ndarray):
            return _numpy_to_variant(value, np, path)
        if isinstance(value, np.generic) and value.dtype.kind in 'biuf':
            return _to_variant(value.item(), path, target)
    raise TypeError('%s: cannot save a value of type %s (use dict, list, tuple, str, int, '
                    'float, bool, bytes, a numpy array or a GLib.Variant)'
                    % (_path_str(path), _type_name(value)))


def to_variant(value):
    """Converts a Python value to a GLib.Variant, by the mapping of docs/python.md.

    Raises TypeError for a value that cannot be mapped (None, a list of
    mixed types, an unsupported type) and ValueError for one out of range
    (an int beyond int64, a str with a NUL); the message names the place,
    e.g. ``value['opt']['steps'][3]``.
    """
    return _to_variant(value, None, None)[0]


__all__.append('to_variant')


# GVariant -> Python

_numpy_module = None
_numpy_tried = False


def _get_numpy(mode):
    global _numpy_module, _numpy_tried
    if mode is False:
        return None
    if mode is None:
        if not _numpy_tried:
            _numpy_tried = True
            try:
                import numpy
                _numpy_module = numpy
            except ImportError:
                _numpy_module = None
        return _numpy_module
    if mode is True:
        import numpy
        return numpy
    raise TypeError('numpy must be None (automatic), True or False, not %r' % (mode,))


def _bytes_of(v):
    if v.get_size() == 0:
        return b''
    return v.get_data_as_bytes().get_data()


def _copy_into(out, v):
    """Copies the first out.nbytes bytes of v's serialised data into out."""
    if out.nbytes == 0:
        return
    ptr = v.get_data()
    if isinstance(ptr, int) and ptr != 0:
        # One memcpy from the variant's own buffer (held by v meanwhile).
        ctypes.memmove(out.ctypes.data, ptr, out.nbytes)
    else:
        out.reshape(-1).view('u1')[:] = bytearray(_bytes_of(v)[:out.nbytes])


def _fixed_array(v, elem, np):
    code, dtype = _FIXED[elem]
    size = v.get_size()
    if np is not None:
        dt = np.dtype(dtype)
        # A fixed array whose size is not a multiple of its element size is
        # empty (not in normal form; GVariant reads it so).
        n = size // dt.itemsize if size % dt.itemsize == 0 else 0
        out = np.empty(n, dt)
        _copy_into(out, v)
        return out
    data = _bytes_of(v)
    if elem == 'b':
        return [b != 0 for b in data]
    a = array.array(code)
    if len(data) % a.itemsize == 0:
        a.frombytes(data)
    return a.tolist()


def _tensor_from_variant(v, path, np):
    dtype = v.get_child_value(0).get_string()
    shape = tuple(v.get_child_value(1).unpack())
    data = v.get_child_value(2)
    m = _DTYPE_RE.fullmatch(dtype)
    if m is None:
        raise ValueError('%s: malformed tensor: dtype %r is not a numpy dtype string such as '
                         '\'<f4\' (load with raw=True to get the GLib.Variant)'
                         % (_path_str(path), dtype))
    count = 1
    for n in shape:
        count *= n
    if count * int(m.group(3)) != data.get_size():
        raise ValueError('%s: malformed tensor: %d bytes of data for dtype %s and shape %r '
                         '(load with raw=True to get the GLib.Variant)'
                         % (_path_str(path), data.get_size(), dtype, shape))
    if np is None:
        return Tensor(dtype, shape, _bytes_of(data))
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.itemsize != int(m.group(3)):
        raise ValueError('%s: malformed tensor: numpy does not know dtype %r'
                         % (_path_str(path), dtype))
    out = np.empty(shape, dt)
    _copy_into(out, data)
    return out


def _from_variant(v, path, np):
    ts = v.get_type_string()
    c = ts[0]
    if c == 'v':
        return _from_variant(v.get_variant(), path, np)
    if c == 'a':
        elem = ts[1:]
        if elem == 'y':
            return _bytes_of(v)
        if elem in _FIXED:
            return _fixed_array(v, elem, np)
        n = v.n_children()
        if elem[0] == '{':
            result = {}
            for i in range(n):
                entry = v.get_child_value(i)
                key = _from_variant(entry.get_child_value(0), path, np)
                result[key] = _from_variant(entry.get_child_value(1), (path, key), np)
            return result
        return [_from_variant(v.get_child_value(i), (path, i), np) for i in range(n)]
    if c == '(':
        if ts == _TENSOR_TYPE:
            return _tensor_from_variant(v, path, np)
        return tuple(_from_variant(v.get_child_value(i), (path, i), np)
                     for i in range(v.n_children()))
    if c == '{':
        return (_from_variant(v.get_child_value(0), path, np),
                _from_variant(v.get_child_value(1), path, np))
    if c == 'm':
        inner = v.get_maybe()
        return None if inner is None else _from_variant(inner, path, np)
    return v.unpack()


def from_variant(variant, *, numpy=None):
    """Converts a GLib.Variant to Python values, by the mapping of docs/python.md.

    With ``numpy=None`` (the default) fixed numeric arrays and tensors become
    numpy arrays when numpy can be imported; ``numpy=False`` gives lists and
    :class:`Ckpt.Tensor` instead; ``numpy=True`` requires numpy. Arrays are
    copies, writable and independent of the variant. ``None`` maps to
    ``None``.
    """
    if variant is None:
        return None
    return _from_variant(variant, None, _get_numpy(numpy))


__all__.append('from_variant')


def _variant_type(type):
    if type is None or isinstance(type, GLib.VariantType):
        return type
    if isinstance(type, str):
        if not GLib.VariantType.string_is_valid(type):
            raise ValueError('%r is not a valid GVariant type string' % (type,))
        return GLib.VariantType.new(type)
    raise TypeError('type must be a GLib.VariantType, a type string or None, not %s'
                    % _type_name(type))


def _convert(variant, raw, numpy):
    if raw:
        return variant
    return from_variant(variant, numpy=numpy)


def _root_file(root):
    if isinstance(root, (str, bytes, os.PathLike)):
        return Gio.File.new_for_path(os.fspath(root))
    return root


class Manager(Ckpt.Manager):
    """A checkpoint manager taking and returning Python values.

    ``Ckpt.Manager(root=..., prefix=..., keep_total=..., keep_first=...,
    durable=...)`` constructs and initialises it (the GInitable ``init()``
    is called, so a bad prefix raises ``GLib.Error`` here). ``root`` may be
    a ``Gio.File`` or a path. ``Ckpt.Manager.new()`` and ``new_for_path()``
    take the same arguments as in C, with ``prefix``, ``keep_total`` and
    ``keep_first`` optional.

    ``save*`` accept any value of the mapping (or a GLib.Variant); ``load*``
    return Python values, or the GLib.Variant with ``raw=True``.
    """

    def __init__(self, **kwargs):
        if 'root' in kwargs:
            kwargs['root'] = _root_file(kwargs['root'])
        super().__init__(**kwargs)
        self.init(None)

    @classmethod
    def new(cls, root, prefix=None, keep_total=Ckpt.MANAGER_DEFAULT_KEEP_TOTAL, keep_first=True):
        return Ckpt.Manager.new(_root_file(root), prefix, keep_total, keep_first)

    @classmethod
    def new_for_path(cls, path, prefix=None, keep_total=Ckpt.MANAGER_DEFAULT_KEEP_TOTAL,
                     keep_first=True):
        return Ckpt.Manager.new_for_path(os.fspath(path), prefix, keep_total, keep_first)

    # Synchronous

    def save(self, value, round_num, cancellable=None):
        """Saves a Python value (or a GLib.Variant) as the checkpoint of round_num."""
        return Ckpt.Manager.save(self, to_variant(value), round_num, cancellable)

    def load(self, round_num, type=None, cancellable=None, *, raw=False, numpy=None):
        """Loads the checkpoint of round_num; type (a type string or GLib.VariantType)
        is the type the state must have."""
        variant = Ckpt.Manager.load(self, _variant_type(type), round_num, cancellable)
        return _convert(variant, raw, numpy)

    def load_latest(self, type=None, cancellable=None, *, raw=False, numpy=None):
        """Returns (value, round) of the newest intact checkpoint, (None, -1) if none."""
        variant, round_num = Ckpt.Manager.load_latest(self, _variant_type(type), cancellable)
        if variant is None:
            return None, -1
        return _convert(variant, raw, numpy), round_num

    def load_latest_or_default(self, default, cancellable=None, *, raw=False, numpy=None):
        """Returns (value, round) of the newest intact checkpoint; when there is none,
        saves default as round 0 and returns (default, 0) (default as loaded back)."""
        variant, round_num = Ckpt.Manager.load_latest_or_default(self, to_variant(default),
                                                                 cancellable)
        return _convert(variant, raw, numpy), round_num

    def list_rounds(self):
        """Returns the rounds of the checkpoints, ascending, as a list of ints."""
        return list(Ckpt.Manager.list_rounds(self))

    # Asynchronous: the conversion to GVariant happens in the call (errors
    # are raised there), the disk work in a worker thread.

    def save_async(self, value, round_num, cancellable=None, callback=None, *user_data):
        Ckpt.Manager.save_async(self, to_variant(value), round_num, cancellable,
                                callback, *user_data)

    def load_async(self, round_num, type=None, cancellable=None, callback=None, *user_data):
        Ckpt.Manager.load_async(self, _variant_type(type), round_num, cancellable,
                                callback, *user_data)

    def load_finish(self, result, *, raw=False, numpy=None):
        return _convert(Ckpt.Manager.load_finish(self, result), raw, numpy)

    def load_latest_async(self, type=None, cancellable=None, callback=None, *user_data):
        Ckpt.Manager.load_latest_async(self, _variant_type(type), cancellable,
                                       callback, *user_data)

    def load_latest_finish(self, result, *, raw=False, numpy=None):
        variant, round_num = Ckpt.Manager.load_latest_finish(self, result)
        if variant is None:
            return None, -1
        return _convert(variant, raw, numpy), round_num

    def load_latest_or_default_async(self, default, cancellable=None, callback=None,
                                     *user_data):
        Ckpt.Manager.load_latest_or_default_async(self, to_variant(default), cancellable,
                                                  callback, *user_data)

    def load_latest_or_default_finish(self, result, *, raw=False, numpy=None):
        variant, round_num = Ckpt.Manager.load_latest_or_default_finish(self, result)
        return _convert(variant, raw, numpy), round_num

    def list_rounds_async(self, cancellable=None, callback=None, *user_data):
        Ckpt.Manager.list_rounds_async(self, cancellable, callback, *user_data)

    def list_rounds_finish(self, result):
        return list(Ckpt.Manager.list_rounds_finish(self, result))


Manager = override(Manager)
__all__.append('Manager')
